//! What the command-line tests share: the `kanon` binary, run from the repository root
//! without colour, and a run that feeds standard input.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The `kanon` binary, run from the repository root without colour.
pub fn kanon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kanon"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env("NO_COLOR", "1");
    c
}

/// Runs `kanon ARGS` with `input` on standard input: exit code (-1 when killed), stdout
/// and stderr.
pub fn run_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = kanon()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
