//! A JSON-RPC client for `kanon lsp` tests: runs the binary, frames messages with
//! `Content-Length` headers, answers the server's own requests, and collects
//! notifications.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `kanon lsp` and its messages.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Value>,
    next: i64,
    /// Notifications received and not consumed yet.
    pub notifications: Vec<Value>,
}

pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The `file:` URI of a path.
pub fn uri(p: &Path) -> String {
    let mut out = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fresh directory under the target directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lsp-{name}"));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

impl Client {
    /// Starts `kanon lsp` and initializes it with one workspace folder.
    pub fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kanon"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kanon lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).unwrap();
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next: 1,
            notifications: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{"uri": uri(root), "name": "root"}],
                "capabilities": {"workspace": {"codeLens": {"refreshSupport": true}}},
            }),
        );
        assert!(
            init["capabilities"]["hoverProvider"] == json!(true),
            "{init}"
        );
        c.notify("initialized", json!({}));
        c
    }

    fn write(&mut self, v: &Value) {
        let body = serde_json::to_string(v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.write(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer (the `result`; panics on an error).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// Sends a request and returns the whole response.
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no answer to {method}"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.other(m);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.rx.recv_timeout(left).ok()
    }

    /// A notification or a request of the server.
    fn other(&mut self, m: Value) {
        if m.get("id").is_some() && m.get("method").is_some() {
            // a request of the server (code lens refresh): answer it
            let id = m["id"].clone();
            self.write(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        if m.get("method").is_some() {
            self.notifications.push(m);
        }
    }

    /// Waits for a notification matching `pred` and takes it.
    pub fn wait_for(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| n["method"] == method && pred(&n["params"]))
            {
                return self.notifications.remove(i)["params"].clone();
            }
            let m = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no `{method}` notification"));
            self.other(m);
        }
    }

    /// Collects what arrives during `d`.
    pub fn drain(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Some(m) = self.recv(deadline) {
            self.other(m);
        }
    }

    /// Waits for the diagnostics of a file.
    pub fn diagnostics(&mut self, path: &Path) -> Value {
        let u = uri(path);
        self.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == u)["diagnostics"].clone()
    }

    /// Opens a document with its text on disk (or the given text).
    pub fn open(&mut self, path: &Path, text: Option<&str>) {
        let text = text
            .map(str::to_string)
            .unwrap_or_else(|| std::fs::read_to_string(path).unwrap());
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "kanon", "version": 1, "text": text}}),
        );
    }

    /// A position request at the first occurrence of `needle` (plus `shift` characters).
    pub fn at(&mut self, method: &str, path: &Path, needle: &str, shift: u32) -> Value {
        let text = std::fs::read_to_string(path).unwrap();
        let pos = position_of(&text, needle, shift);
        self.request(
            method,
            json!({"textDocument": {"uri": uri(path)}, "position": pos, "context": {"includeDeclaration": true}}),
        )
    }

    /// Shuts the server down and waits for it to exit.
    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

/// The line and column of `needle` in `text`, plus `shift` characters.
pub fn position_of(text: &str, needle: &str, shift: u32) -> Value {
    let off = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let before = &text[..off];
    let line = before.matches('\n').count();
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": col as u32 + shift})
}
