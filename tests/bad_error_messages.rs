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

fn check_file(src: &str) -> String {
    let mut fs = RuleFs::new();
    fs.add_embedded("rules", "test.kanon", src);
    let files = fs.embedded_rules("rules");
    let mut sources = SourceMap::new();
    let out = compile(&fs, &files, &Overrides::new(), &mut sources);
    render_plain(&sources, &out.diagnostics)
}

#[test]
fn rule_not_closed() {
    let out =
        check_file("rule T-001 t {\n  severity low\n  for w in workloads\n  report at w \"x\"\n");
    // Better: "the rule is not closed" at its `{`, with help "add `}` after the message";
    // today the error points at the message and lists what could continue `w`.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `.`, `[` or an operator, found `\"`"
    );
}

#[test]
fn second_where() {
    let out = check(&rule(
        "for w in workloads\n  where w.name == \"a\"\n  where w.kind == \"b\"\n  report at w \"x\"",
    ));
    // Better: "a rule has one `where` clause" with help "join the conditions with `and`".
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `.`, `[`, `report` or an operator, found `where`"
    );
}

#[test]
fn misspelt_type() {
    let out = check_file("param x: lst<string> = []\n");
    // Better: "unknown type `lst`" with "did you mean `list`?".
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected end of input, found `<`"
    );
}
