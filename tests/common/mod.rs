//! What the command-line tests share: the `kanon` binary, run from the repository root
//! without colour, a run that feeds standard input, and the Python with PyYAML that the
//! tests comparing with PyYAML (or running the Python scripts) need; and a plan executed
//! under a step limit and the bundled ruleset's fixtures with the examples, for the tests
//! that compare two plans of one program.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A Python with PyYAML, `$KANON_PYTHON` or `.ci/venv/bin/python` (`.ci/run` installs it),
/// or why there is none.
pub fn python_with_pyyaml() -> Result<PathBuf, String> {
    let candidate = std::env::var_os("KANON_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(candidate)
    } else {
        Err(format!(
            "no Python with PyYAML at `{}` (run `.ci/run`, or `python3 -m venv .ci/venv && .ci/venv/bin/pip install pyyaml`, or set KANON_PYTHON)",
            candidate.display()
        ))
    }
}

/// Skips (or, with `KANON_REQUIRE_TOOLS=1`, fails) for a missing tool or input.
pub fn skip(why: &str) {
    if std::env::var("KANON_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{why}; KANON_REQUIRE_TOOLS=1 does not let this test skip");
    }
    println!("skipping: {why}");
    eprintln!("skipping: {why}");
}

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
    run_stdin_with(kanon(), args, input)
}

/// [`run_stdin`] of a `kanon` command set up by the caller (another working directory).
pub fn run_stdin_with(mut command: Command, args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = command
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

/// Executes a plan with every limit at its default but the step limit; findings carry
/// their fixes.
pub fn execute_at(
    program: &kanon::check::ir::Program,
    plan: &kanon::plan::physical::PhysicalPlan,
    graph: &kanon::graph::Graph,
    sources: &kanon::diag::SourceMap,
    max_steps: u64,
) -> kanon::eval::exec::Outcome {
    let limits = kanon::limits::Limits {
        max_steps,
        ..kanon::limits::Limits::default()
    };
    kanon::eval::exec::execute_with(program, plan, graph, sources, &limits, true)
}

/// Every `*.test.yaml` fixture of the bundled ruleset and every example manifest.
pub fn fixtures() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = read.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().ends_with(".test.yaml") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    walk(&root.join("rulesets"), &mut out);
    out.push(root.join("examples").to_string_lossy().into_owned());
    out
}
