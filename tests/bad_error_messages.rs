//! Error messages that still need work (PRQL's habit): each test prints what a rule author
//! sees today and asserts it, with a comment saying what would be better. When a message
//! is improved, the test fails: move the case to `check_diagnostics.rs` as a snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::check::{Overrides, compile, fs::RuleFs};
use kanon::diag::SourceMap;
use kanon::report::diagnostics::render_plain;

fn check(src: &str) -> String {
    let mut fs = RuleFs::new();
    fs.add_embedded("rules", "test.kanon", src);
    let files = fs.embedded_rules("rules");
    let mut sources = SourceMap::new();
    let out = compile(&fs, &files, &Overrides::new(), &mut sources);
    let text = render_plain(&sources, &out.diagnostics);
    println!("{text}");
    text
}

fn rule(body: &str) -> String {
    format!("rule T-001 test-rule {{\n  severity low\n  {body}\n}}\n")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[test]
fn binding_without_in() {
    let out = check(&rule("for w workloads\n  report at w \"x\""));
    // Better: "expected `in` after `w`" with the label after `w`, and help
    // `for w in workloads`.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected a binding such as `w in workloads`, found `w`"
    );
}

#[test]
fn report_without_at() {
    let out = check(&rule("for w in workloads\n  report w \"x\""));
    // Better: "expected `at` or a message after `report`", with help `report at w "..."`.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected a string, found `w`"
    );
}
