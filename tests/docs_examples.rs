//! The examples of `docs/language.md` (and `docs/writing-rules.md` when present) are
//! tested: ```kanon blocks compile without errors or warnings and round-trip through the
//! formatter, ```kanon-expr blocks parse as expressions, ```kanon-error CODE blocks produce
//! CODE. Every bundled rule file round-trips through `kanon fmt` too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::check::{Overrides, compile, fs::RuleFs};
use kanon::diag::SourceMap;
use kanon::report::diagnostics::render_plain;
use kanon::syntax::format::format_file;
use kanon::syntax::{parse, parse_expr};

/// Files the examples may use: the table of the `table` section and the library of the
/// `import` section.
const EOL_YAML: &str = "source: https://kubernetes.io/releases/\nchecked: 2025-06-01\nrows:\n  - version: \"1.28\"\n    eol: 2024-10-28\n  - version: \"1.29\"\n    eol: 2025-02-28\n";
const COMMON: &str = "/// True when a container runs privileged.\ndef is_privileged(c, w) = effective(c, w).privileged == true\n";

struct Block {
    tag: String,
    line: usize,
    text: String,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut cur: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        match (&mut cur, line.strip_prefix("```")) {
            (None, Some(tag)) => {
                cur = Some(Block {
                    tag: tag.trim().to_string(),
                    line: i + 1,
                    text: String::new(),
                });
            }
            (Some(_), Some("")) => out.push(cur.take().unwrap()),
            (Some(b), _) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(cur.is_none(), "unclosed code block");
    out
}

/// Compiles one rule file with the helper files beside it; returns (codes, rendered).
fn compile_block(src: &str) -> (Vec<&'static str>, String) {
    let mut fs = RuleFs::new();
    fs.add_embedded("docs", "data/eol.yaml", EOL_YAML);
    fs.add_embedded("docs", "lib/common.kanon", COMMON);
    fs.add_embedded("docs", "example.kanon", src);
    let entry: Vec<_> = fs
        .embedded_rules("docs")
        .into_iter()
        .filter(|f| f.rel == "example.kanon")
        .collect();
    let mut sources = SourceMap::new();
    let out = compile(&fs, &entry, &Overrides::new(), &mut sources);
    (
        out.diagnostics.iter().map(|d| d.code).collect(),
        render_plain(&sources, &out.diagnostics),
    )
}

fn assert_round_trips(src: &str, what: &str) {
    let (ast, diags) = parse(0, src);
    assert!(diags.is_empty(), "{what}: {diags:#?}");
    let once = format_file(&ast, src);
    let (again, diags) = parse(0, &once);
    assert!(diags.is_empty(), "{what} formatted:\n{once}\n{diags:#?}");
    assert_eq!(again, ast, "{what} formatted:\n{once}");
    assert_eq!(format_file(&again, &once), once, "{what}: not idempotent");
}

fn check_doc(path: &str) -> usize {
    let Ok(md) = std::fs::read_to_string(path) else {
        return 0;
    };
    let mut n = 0;
    for b in blocks(&md) {
        let what = format!("{path}:{} ({})", b.line, b.tag);
        let mut words = b.tag.split_whitespace();
        match words.next() {
            Some("kanon") => {
                let (codes, rendered) = compile_block(&b.text);
                assert!(codes.is_empty(), "{what}:\n{}\n{rendered}", b.text);
                assert_round_trips(&b.text, &what);
            }
            Some("kanon-expr") => {
                let e = parse_expr(0, b.text.trim());
                assert!(e.is_ok(), "{what}: {e:#?}");
            }
            Some("kanon-error") => {
                let code = words.next().unwrap_or_else(|| panic!("{what}: no code"));
                let (codes, rendered) = compile_block(&b.text);
                assert!(codes.contains(&code), "{what}: expected {code}\n{rendered}");
            }
            _ => continue,
        }
        n += 1;
    }
    n
}

#[test]
fn language_reference_examples() {
    let n = check_doc("docs/language.md");
    assert!(n >= 20, "only {n} examples found");
}

#[test]
fn writing_rules_examples() {
    check_doc("docs/writing-rules.md");
}

#[test]
fn every_diagnostic_code_is_documented() {
    let md = std::fs::read_to_string("docs/language.md").unwrap();
    let mut codes = Vec::new();
    for dir in ["src/check", "src/syntax"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (i, _) in text.match_indices('"') {
                let Some(code) = text.get(i + 1..i + 6) else {
                    continue;
                };
                let b = code.as_bytes();
                if (b[0] == b'E' || b[0] == b'W')
                    && b[1..].iter().all(u8::is_ascii_digit)
                    && text.get(i + 6..i + 7) == Some("\"")
                {
                    codes.push(code.to_string());
                }
            }
        }
    }
    codes.sort();
    codes.dedup();
    assert!(codes.len() > 20, "{codes:?}");
    for c in codes {
        assert!(
            md.contains(&format!("| `{c}` |")),
            "{c} is not in docs/language.md"
        );
    }
}

#[test]
fn every_builtin_and_attribute_is_documented() {
    let md = std::fs::read_to_string("docs/language.md").unwrap();
    for (name, _, _) in kanon::check::ir::Builtin::TABLE {
        assert!(
            md.contains(&format!("`{name}(")),
            "built-in `{name}` is not documented"
        );
    }
    let ir = std::fs::read_to_string("src/check/ir.rs").unwrap();
    let attrs = ir
        .split("pub fn as_str(self) -> &'static str {")
        .nth(1)
        .unwrap();
    let attrs = attrs.split("\n    }\n").next().unwrap();
    for line in attrs.lines().filter(|l| l.contains("Attr::")) {
        let name = line.split('"').nth(1).unwrap();
        assert!(
            md.contains(&format!("| `{name}` |")),
            "attribute `{name}` is not documented"
        );
    }
}

fn rule_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rule_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "kanon") {
            out.push(p);
        }
    }
}

#[test]
fn bundled_rules_compile_and_are_formatted() {
    let mut files = Vec::new();
    rule_files(std::path::Path::new("rulesets"), &mut files);
    assert!(!files.is_empty());
    let mut fs = RuleFs::new();
    let entry = fs.add_disk_path(std::path::Path::new("rulesets")).unwrap();
    let mut sources = SourceMap::new();
    let out = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(
        out.diagnostics.is_empty(),
        "{}",
        render_plain(&sources, &out.diagnostics)
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let what = f.display().to_string();
        assert_round_trips(&text, &what);
        // (whether the file is already in canonical form is `kanon fmt --check`'s
        // business, not this test's)
    }
}
