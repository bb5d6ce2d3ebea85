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
fn is_null() {
    let out = check(&rule(
        "for w in workloads\n  where w.name is null\n  report at w \"x\"",
    ));
    // Better: help "write `== null`".
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `.`, `[`, `report` or an operator, found `is`"
    );
}

#[test]
fn missing_report() {
    let out = check(&rule("for w in workloads\n  where w.name == \"a\""));
    // Better: "rule `T-001` has no `report` clause" pointing at the rule's `}`; the list of
    // `.`, `[` and operators is noise here.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `.`, `[`, `report` or an operator, found `}`"
    );
}

#[test]
fn dangling_operator() {
    let out = check(&rule(
        "for w in workloads\n  where w.name ==\n  report at w \"x\"",
    ));
    // Better: "`==` needs a right-hand side" with the label on `==` (4:16), not on the
    // `report` keyword of the next line.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected an expression, found `report`"
    );
}

#[test]
fn keyword_as_binding() {
    let out = check(&rule("for in in workloads\n  report at w \"x\""));
    // Better: "`in` is a reserved word and cannot name a binding", listing how to rename.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected a name, found `in`"
    );
}

#[test]
fn unquoted_message() {
    let out = check(&rule(
        "for w in workloads\n  where w.name == \"a\"\n  report at w x",
    ));
    // Better: "the message must be a string" with help `report at w "..."`.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `.`, `[`, a string or an operator, found `x`"
    );
}

#[test]
fn misspelt_metadata() {
    let out = check(&rule(
        "severty high\n  for w in workloads\n  report at w \"x\"",
    ));
    // Better: "unknown metadata `severty`" with "did you mean `severity`" from the fuzzy
    // matcher every other unknown name uses.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected `fix`, `for`, `owasp`, `refs`, `severity`, `tags` or `title`, found `severty`"
    );
}

#[test]
fn unclosed_interpolation() {
    let out = check(&rule(
        "for w in workloads\n  where w.name == \"a\"\n  report at w \"{w.name\"",
    ));
    // Fine as a message, but the help should offer both fixes: close it (`{w.name}`) or
    // write `{{` for a literal brace; today it only offers the second.
    assert_eq!(first_line(&out), "error[E0003]: unclosed `{` in message");
}
