//! Random edits of the bundled rules fed through `kanon lsp` (in-process, over an
//! in-memory connection): the server answers every request, never with an internal
//! error, on half-typed text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

fn files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rulesets/owasp-k8s-top10");
    vec![
        root.join("K01/K01-001-privileged-container.kanon"),
        root.join("K01/K01-003-runs-as-root.kanon"),
        root.join("K03/K03-006-escalate-bind-impersonate.kanon"),
        root.join("K03/rbac.kanon"),
        root.join("K03/paths.kanon"),
    ]
}

const SNIPPETS: &[&str] = &[
    ".",
    "in ",
    "{",
    "}",
    "\"",
    "(",
    ")",
    "where ",
    "c.",
    "w.containers.",
    "and",
    " not ",
    "rule X-1 x {",
    "\n",
    "severity ",
    "owasp \"",
    "def f(a) = ",
    "relation r(a, b) {",
    "case {",
    "step at ",
    "reaches(",
    "import \"x.kanon\"\n",
    "é",
    "😀",
    "//",
    "///",
    "[",
    "??",
    "exists r in ",
    "{w.name",
    "\\\"",
];

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/formatting",
    "textDocument/documentSymbol",
    "textDocument/semanticTokens/full",
    "textDocument/codeAction",
    "textDocument/codeLens",
];

#[derive(Clone, Debug)]
struct Edit {
    line: u32,
    col: u32,
    delete: u32,
    insert: usize,
    method: usize,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        0u32..45,
        0u32..60,
        0u32..12,
        0..SNIPPETS.len(),
        0..METHODS.len(),
    )
        .prop_map(|(line, col, delete, insert, method)| Edit {
            line,
            col,
            delete,
            insert,
            method,
        })
}

fn uri(p: &std::path::Path) -> String {
    format!("file://{}", p.display())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_server_answers_every_request_on_random_edits(
        file in 0..4usize,
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let path = files()[file].clone();
        let root = path.parent().unwrap().parent().unwrap().to_path_buf();
        let (server, client) = Connection::memory();
        let handle = std::thread::spawn(move || kanon::lsp::serve(server));
        let send = |m: Message| client.sender.send(m).unwrap();
        send(Message::Request(Request::new(
            RequestId::from(0),
            "initialize".into(),
            json!({"capabilities": {}, "rootUri": uri(&root)}),
        )));
        let init = client.receiver.recv_timeout(Duration::from_secs(30)).unwrap();
        prop_assert!(matches!(init, Message::Response(_)));
        send(Message::Notification(Notification::new("initialized".into(), json!({}))));
        let text = std::fs::read_to_string(&path).unwrap();
        send(Message::Notification(Notification::new(
            "textDocument/didOpen".into(),
            json!({"textDocument": {"uri": uri(&path), "languageId": "kanon", "version": 1, "text": text}}),
        )));
        for (i, e) in edits.iter().enumerate() {
            let start = json!({"line": e.line, "character": e.col});
            let end = json!({"line": e.line, "character": e.col + e.delete});
            send(Message::Notification(Notification::new(
                "textDocument/didChange".into(),
                json!({"textDocument": {"uri": uri(&path), "version": i + 2},
                       "contentChanges": [{"range": {"start": start, "end": end}, "text": SNIPPETS[e.insert]}]}),
            )));
            let id = RequestId::from(i32::try_from(i).unwrap() + 1);
            let method = METHODS[e.method];
            let at = json!({"line": e.line, "character": e.col + 1});
            send(Message::Request(Request::new(
                id.clone(),
                method.into(),
                json!({"textDocument": {"uri": uri(&path)}, "position": at,
                       "range": {"start": start, "end": at},
                       "context": {"includeDeclaration": true, "diagnostics": []},
                       "options": {"tabSize": 2, "insertSpaces": true}}),
            )));
            // wait for this request's answer (diagnostics may come in between)
            loop {
                let m = client.receiver.recv_timeout(Duration::from_secs(60));
                prop_assert!(m.is_ok(), "no answer to {} after edit {:?}", method, e);
                if let Ok(Message::Response(r)) = m {
                    prop_assert_eq!(&r.id, &id);
                    if let Some(err) = &r.error {
                        prop_assert!(err.code != -32603, "{}: internal error {}", method, err.message);
                    }
                    break;
                }
            }
        }
        send(Message::Request(Request::new(RequestId::from(999), "shutdown".into(), Value::Null)));
        loop {
            match client.receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(Message::Response(r)) if r.id == RequestId::from(999) => break,
                Ok(_) => {}
                Err(e) => prop_assert!(false, "no answer to shutdown: {}", e),
            }
        }
        send(Message::Notification(Notification::new("exit".into(), Value::Null)));
        prop_assert!(handle.join().unwrap().is_ok());
    }
}
