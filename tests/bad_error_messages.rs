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

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[test]
fn unquoted_import() {
    let out = check("import images.kanon\n");
    // Better: "the imported path must be a string" with help `import "images.kanon"`.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected a string, found `images`"
    );
}

#[test]
fn table_without_a_file() {
    let out = check("table t from\n");
    // Better: "`table t` needs the data file it is read from" with help
    // `table t from "data/t.yaml"`, at `from`, not on the empty line after it.
    assert_eq!(
        first_line(&out),
        "error[E0001]: expected a string, found end of input"
    );
}
