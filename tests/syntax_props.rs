//! Property tests of the parse stage: `parse(format(ast)) == ast` over random trees, and
//! no input makes the parser or checker panic or overflow the stack.

use kanon::check::{Overrides, compile, fs::RuleFs};
use kanon::diag::SourceMap;
use kanon::syntax::format::format_file;
use kanon::syntax::parse;

fn rule_with(cond: &str) -> String {
    format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  where {cond}\n  report at w \"x\"\n}}\n"
    )
}

fn compile_text(src: &str) -> Vec<String> {
    let mut fs = RuleFs::new();
    fs.add_embedded("rules", "test.kanon", src);
    let files = fs.embedded_rules("rules");
    let mut sources = SourceMap::new();
    let out = compile(&fs, &files, &Overrides::new(), &mut sources);
    out.diagnostics.iter().map(|d| d.code.to_string()).collect()
}

/// Long chains of each kind: a 10,000-long one is an error (E0002), a 1,000-long one too, and a 90-long one parses,
/// formats, round-trips and compiles, all without overflowing a test thread's stack.
fn chain_case(make: impl Fn(usize) -> String) {
    let long = make(10_000);
    let (_, d) = parse(0, &long);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0002");
    let (_, d) = parse(0, &make(1000));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].code, "E0002");
    let ok = make(90);
    let (file, d) = parse(0, &ok);
    assert!(d.is_empty(), "{d:#?}");
    let text = format_file(&file, &ok);
    let (again, d) = parse(0, &text);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(file, again);
    let codes = compile_text(&ok);
    assert!(!codes.iter().any(|c| c == "E0002"), "{codes:?}");
    // the deepest trees the parser accepts go through the checker too
    let mut accepted = 0;
    for n in 60..=240 {
        let src = make(n);
        if parse(0, &src).1.is_empty() {
            accepted = n;
            compile_text(&src);
        }
    }
    assert!(accepted >= 90, "{accepted}");
}

#[test]
fn deep_parentheses_are_an_error() {
    let s = rule_with(&format!(
        "{}w.name == \"a\"{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    ));
    let (_, d) = parse(0, &s);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "E0002");
}

#[test]
fn long_not_chain() {
    chain_case(|n| rule_with(&format!("{}w.name == \"a\"", "not ".repeat(n))));
}

#[test]
fn long_or_chain() {
    chain_case(|n| rule_with(&vec!["w.name == \"a\""; n / 2].join(" or ")));
}

#[test]
fn long_field_chain() {
    chain_case(|n| rule_with(&format!("w.podSpec{} == 1", ".x".repeat(n))));
}

#[test]
fn long_quantifier_chain() {
    chain_case(|n| {
        rule_with(&format!(
            "{}true",
            "any c in w.containers where ".repeat(n / 2)
        ))
    });
}

#[test]
fn alternating_comparison_and_not() {
    chain_case(|n| rule_with(&format!("w.name == \"a\"{}", " == not true".repeat(n / 2))));
}

#[test]
fn long_chains_inside_interpolations() {
    let s = format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  report at w \"{{{}w.name}}\"\n}}\n",
        "not ".repeat(10_000)
    );
    let (_, d) = parse(0, &s);
    assert_eq!(d[0].code, "E0002");
    let s = format!(
        "rule T-001 deep {{\n  severity low\n  for w in workloads\n  report at w \"{{{}w.name{}}}\"\n}}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let (_, d) = parse(0, &s);
    assert_eq!(d[0].code, "E0002");
}
