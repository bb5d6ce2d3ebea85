//! `kanon lsp`: a language server for rule files (Language Server Protocol 3.17 over
//! standard input and output).
//!
//! The server is synchronous (`lsp-server`, the transport rust-analyzer uses; message
//! types from `lsp-types`); no async runtime. The main loop only keeps the open
//! documents and hands work to threads:
//!
//! - diagnostics: every change bumps a generation and queues the document's ruleset;
//!   a worker waits until edits pause ([`DEBOUNCE`]), compiles the ruleset with the
//!   unsaved buffers over the files on disk, and publishes the same diagnostics
//!   `kanon check` gives, unless a newer edit arrived meanwhile (then it is dropped);
//! - requests: each runs on a thread of its own over a snapshot of the documents, so a
//!   large ruleset never blocks the loop; `$/cancelRequest` answers a pending request
//!   with `RequestCancelled`. A handler that fails answers with an error, never crashes
//!   the server.
//!
//! [`analysis`] compiles a ruleset; [`features`] answers hover, completion, definition,
//! references, formatting, symbols, semantic tokens, code actions and code lenses.

pub mod analysis;
pub mod features;
pub mod text;

use analysis::{Analysis, Docs};
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long edits must pause before a ruleset is compiled for diagnostics.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// The command a code lens runs: the fixtures of one rule.
pub const RUN_TESTS: &str = "kanon.runTests";

/// Runs the server on standard input and output until the client says `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    serve(connection)?;
    io.join().map_err(|e| format!("i/o error: {e}"))
}

/// An open document.
struct Doc {
    uri: String,
    text: Arc<String>,
}

/// Sends a message to the client (the connection's sender, shareable across threads).
type Send = Arc<dyn Fn(Message) + std::marker::Send + Sync>;

/// What request threads share with the loop.
pub(crate) struct Shared {
    /// Workspace folders from `initialize`.
    pub roots: Vec<PathBuf>,
    /// The latest analysis of each ruleset root, with the generation it was made at.
    cache: Mutex<HashMap<PathBuf, (u64, Arc<Analysis>)>>,
    /// Requests the client cancelled.
    cancelled: Mutex<HashSet<RequestId>>,
    /// The last test run of each rule, by (rule file, rule id): the code lens title.
    pub tests: Mutex<HashMap<(PathBuf, String), String>>,
    /// Whether the client can refresh code lenses on request.
    lens_refresh: bool,
    /// Sends to the client.
    pub send: Send,
    /// Ids of the requests the server sends.
    next_id: AtomicU64,
}

impl Shared {
    /// The analysis of `root` for the documents of generation `generation`, from the
    /// cache when current.
    pub(crate) fn analysis(&self, root: &Path, docs: &Docs, generation: u64) -> Arc<Analysis> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((g, a)) = cache.get(root) {
                if *g == generation {
                    return Arc::clone(a);
                }
            }
        }
        let a = Arc::new(analysis::analyze(root, docs));
        if let Ok(mut cache) = self.cache.lock() {
            let newer = cache.get(root).is_some_and(|(g, _)| *g > generation);
            if !newer {
                cache.insert(root.to_path_buf(), (generation, Arc::clone(&a)));
            }
        }
        a
    }

    /// Sends a notification.
    pub(crate) fn notify(&self, method: &str, params: Value) {
        (self.send)(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    /// Sends a request to the client (its answer is ignored).
    pub(crate) fn request(&self, method: &str, params: Value) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        (self.send)(Message::Request(Request::new(
            RequestId::from(format!("kanon-{id}")),
            method.to_string(),
            params,
        )));
    }

    /// Asks the client to show the code lenses again (after a test run).
    pub(crate) fn refresh_lenses(&self) {
        if self.lens_refresh {
            self.request("workspace/codeLens/refresh", Value::Null);
        }
    }
}

/// A snapshot of the open documents for one request.
pub(crate) struct Snapshot {
    /// The open documents by path.
    pub docs: Docs,
    /// Their generation.
    pub generation: u64,
    /// What the threads share.
    pub shared: Arc<Shared>,
}

impl Snapshot {
    /// The text of a document: the open buffer, else the file on disk.
    pub(crate) fn text(&self, path: &Path) -> Option<Arc<String>> {
        self.docs
            .get(path)
            .cloned()
            .or_else(|| std::fs::read_to_string(path).ok().map(Arc::new))
    }

    /// The analysis of the ruleset that holds `path`.
    pub(crate) fn analysis(&self, path: &Path) -> Arc<Analysis> {
        let root = analysis::root_of(path, &self.shared.roots);
        self.shared.analysis(&root, &self.docs, self.generation)
    }
}

/// A ruleset to compile for diagnostics.
struct DiagJob {
    generation: u64,
    root: PathBuf,
    docs: Docs,
}

/// Serves one client over a connection until it says `exit`.
pub fn serve(connection: Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("cannot initialize: {e}"))?;
    let init: lsp_types::InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad `initialize` parameters: {e}"))?;
    let mut roots: Vec<PathBuf> = init
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| text::uri_to_path(f.uri.as_str()))
        .collect();
    #[allow(deprecated)] // older clients send only `rootUri`
    let root_uri = init.root_uri.clone();
    if let Some(root) = root_uri
        .as_ref()
        .and_then(|u| text::uri_to_path(u.as_str()))
    {
        if roots.is_empty() {
            roots.push(root);
        }
    }
    let lens_refresh = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.code_lens.as_ref())
        .and_then(|c| c.refresh_support)
        .unwrap_or(false);
    connection
        .initialize_finish(
            id,
            json!({
                "capabilities": features::capabilities(),
                "serverInfo": {"name": "kanon", "version": env!("CARGO_PKG_VERSION")},
            }),
        )
        .map_err(|e| format!("cannot initialize: {e}"))?;
    let sender = connection.sender.clone();
    let shared = Arc::new(Shared {
        roots,
        cache: Mutex::new(HashMap::new()),
        cancelled: Mutex::new(HashSet::new()),
        tests: Mutex::new(HashMap::new()),
        lens_refresh,
        send: Arc::new(move |m| {
            let _ = sender.send(m);
        }),
        next_id: AtomicU64::new(1),
    });
    let latest: Arc<Mutex<HashMap<PathBuf, u64>>> = Arc::new(Mutex::new(HashMap::new()));
    let (jobs, worker_rx) = mpsc::channel::<DiagJob>();
    let worker = {
        let shared = Arc::clone(&shared);
        let latest = Arc::clone(&latest);
        std::thread::spawn(move || diagnostics_worker(&worker_rx, &shared, &latest))
    };
    let mut docs: BTreeMap<PathBuf, Doc> = BTreeMap::new();
    let mut generation: u64 = 0;
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                match connection.handle_shutdown(&req) {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(e) => return Err(format!("shutdown: {e}")),
                }
                let snapshot = Snapshot {
                    docs: docs_of(&docs),
                    generation,
                    shared: Arc::clone(&shared),
                };
                spawn_request(req, snapshot);
            }
            Message::Notification(n) => {
                let changed = match n.method.as_str() {
                    "textDocument/didOpen" => did_open(&mut docs, &n.params),
                    "textDocument/didChange" => did_change(&mut docs, &n.params),
                    "textDocument/didClose" => did_close(&mut docs, &n.params),
                    "textDocument/didSave" => uri_path(&n.params),
                    // a file changed on disk (a table, a fixture, an imported file)
                    "workspace/didChangeWatchedFiles" => n
                        .params
                        .get("changes")
                        .and_then(Value::as_array)
                        .and_then(|c| c.first())
                        .and_then(|c| c.get("uri"))
                        .and_then(Value::as_str)
                        .and_then(text::uri_to_path),
                    "$/cancelRequest" => {
                        if let Some(id) = n.params.get("id").cloned() {
                            if let (Ok(id), Ok(mut c)) = (
                                serde_json::from_value::<RequestId>(id),
                                shared.cancelled.lock(),
                            ) {
                                c.insert(id);
                            }
                        }
                        None
                    }
                    "exit" => break,
                    _ => None,
                };
                if let Some(path) = changed {
                    generation += 1;
                    let root = analysis::root_of(&path, &shared.roots);
                    if let Ok(mut l) = latest.lock() {
                        l.insert(root.clone(), generation);
                    }
                    let _ = jobs.send(DiagJob {
                        generation,
                        root,
                        docs: docs_of(&docs),
                    });
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(jobs);
    let _ = worker.join();
    Ok(())
}

fn docs_of(docs: &BTreeMap<PathBuf, Doc>) -> Docs {
    docs.iter()
        .map(|(p, d)| (p.clone(), Arc::clone(&d.text)))
        .collect()
}

fn uri_path(params: &Value) -> Option<PathBuf> {
    params
        .pointer("/textDocument/uri")
        .and_then(Value::as_str)
        .and_then(text::uri_to_path)
}

fn did_open(docs: &mut BTreeMap<PathBuf, Doc>, params: &Value) -> Option<PathBuf> {
    let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(params.clone()).ok()?;
    let path = text::uri_to_path(p.text_document.uri.as_str())?;
    docs.insert(
        path.clone(),
        Doc {
            uri: p.text_document.uri.as_str().to_string(),
            text: Arc::new(p.text_document.text),
        },
    );
    Some(path)
}

fn did_change(docs: &mut BTreeMap<PathBuf, Doc>, params: &Value) -> Option<PathBuf> {
    let p: lsp_types::DidChangeTextDocumentParams = serde_json::from_value(params.clone()).ok()?;
    let path = text::uri_to_path(p.text_document.uri.as_str())?;
    let doc = docs.get_mut(&path)?;
    let text = Arc::make_mut(&mut doc.text);
    for c in p.content_changes {
        text::apply_change(text, c.range, &c.text);
    }
    Some(path)
}

fn did_close(docs: &mut BTreeMap<PathBuf, Doc>, params: &Value) -> Option<PathBuf> {
    let path = uri_path(params)?;
    let doc = docs.remove(&path)?;
    let _ = doc.uri;
    Some(path)
}

/// Compiles queued rulesets once edits pause, and publishes their diagnostics.
fn diagnostics_worker(
    rx: &mpsc::Receiver<DiagJob>,
    shared: &Shared,
    latest: &Mutex<HashMap<PathBuf, u64>>,
) {
    // files of each root that were given diagnostics, to clear them when fixed
    let mut published: HashMap<PathBuf, BTreeSet<PathBuf>> = HashMap::new();
    let mut pending: BTreeMap<PathBuf, DiagJob> = BTreeMap::new();
    loop {
        if pending.is_empty() {
            match rx.recv() {
                Ok(job) => {
                    pending.insert(job.root.clone(), job);
                }
                Err(_) => return,
            }
        }
        // debounce: take every job that arrives before edits pause
        loop {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(job) => {
                    pending.insert(job.root.clone(), job);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        let Some((_, job)) = pending.pop_first() else {
            continue;
        };
        let current = |root: &Path| latest.lock().ok().and_then(|l| l.get(root).copied());
        if current(&job.root) != Some(job.generation) {
            continue; // a newer edit is queued
        }
        let a = shared.analysis(&job.root, &job.docs, job.generation);
        if current(&job.root) != Some(job.generation) {
            continue; // cancelled by a newer edit while compiling
        }
        let diags = analysis::lsp_diagnostics(&a);
        let before = published.remove(&job.root).unwrap_or_default();
        let mut now = BTreeSet::new();
        for (path, list) in &diags {
            if !list.is_empty() {
                now.insert(path.clone());
            }
        }
        // open documents always get an answer, files that had diagnostics get cleared
        let open = job.docs.keys().filter(|p| diags.contains_key(*p)).cloned();
        let targets: BTreeSet<PathBuf> = before.union(&now).cloned().chain(open).collect();
        for path in targets {
            let list = diags.get(&path).cloned().unwrap_or_default();
            shared.notify(
                "textDocument/publishDiagnostics",
                json!({"uri": text::path_to_uri(&path), "diagnostics": list}),
            );
        }
        published.insert(job.root, now);
    }
}

/// Answers a request on a thread of its own.
fn spawn_request(req: Request, snapshot: Snapshot) {
    std::thread::spawn(move || {
        let shared = Arc::clone(&snapshot.shared);
        let id = req.id.clone();
        let method = req.method.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            features::handle(&snapshot, &method, req.params)
        }));
        let cancelled = shared
            .cancelled
            .lock()
            .map(|mut c| c.remove(&id))
            .unwrap_or(false);
        let response = if cancelled {
            Response::new_err(
                id,
                lsp_server::ErrorCode::RequestCanceled as i32,
                "cancelled".to_string(),
            )
        } else {
            match outcome {
                Ok(Ok(v)) => Response::new_ok(id, v),
                Ok(Err(e)) => Response::new_err(id, e.code as i32, e.message),
                Err(_) => Response::new_err(
                    id,
                    lsp_server::ErrorCode::InternalError as i32,
                    format!("internal error while answering `{method}`"),
                ),
            }
        };
        (shared.send)(Message::Response(response));
    });
}

/// A request that could not be answered.
pub(crate) struct Failure {
    code: lsp_server::ErrorCode,
    message: String,
}

impl Failure {
    /// Bad parameters.
    pub(crate) fn params(e: impl std::fmt::Display) -> Failure {
        Failure {
            code: lsp_server::ErrorCode::InvalidParams,
            message: format!("invalid parameters: {e}"),
        }
    }

    /// A method the server does not offer.
    pub(crate) fn method(m: &str) -> Failure {
        Failure {
            code: lsp_server::ErrorCode::MethodNotFound,
            message: format!("unknown method `{m}`"),
        }
    }
}
