//! Running a rendering tool: no shell, no cluster configuration, a timeout, both outputs kept.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished tool printed.
pub(crate) struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Whether it exited with status 0.
    pub success: bool,
}

/// Why a tool gave no output.
pub(crate) enum Failure {
    /// It could not be started.
    Spawn(String),
    /// It ran longer than the timeout and was killed.
    Timeout,
}

/// Runs `program` with `args` (no shell), standard input closed, `KUBECONFIG` pointing at
/// an empty file so that no cluster can be reached, killed after `timeout`.
pub(crate) fn run(program: &Path, args: &[String], timeout: Duration) -> Result<Output, Failure> {
    let mut child = Command::new(program)
        .args(args)
        .env("KUBECONFIG", "/dev/null")
        .env_remove("HELM_KUBECONTEXT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Spawn(e.to_string().to_lowercase()))?;
    // both pipes are drained on their own threads so that a full pipe never blocks the tool
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Failure::Spawn(e.to_string().to_lowercase())),
        }
    };
    match status {
        // a process the tool started may still hold the pipes: the readers are left to
        // finish on their own rather than waited for
        None => Err(Failure::Timeout),
        Some(s) => Ok(Output {
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            success: s.success(),
        }),
    }
}

/// The last lines of a tool's standard error, trimmed, for a diagnostic note.
pub(crate) fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(20);
    lines.get(from..).unwrap_or(&[]).join("\n")
}
