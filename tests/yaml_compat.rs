//! YAML that Kubernetes accepts loads: go-yaml v2's leniencies (the reader behind `kubectl`
//! and the API server), each with its values and exact positions; and a broken document
//! does not take the rest of its file with it.
//!
//! What go-yaml accepts and saphyr rejects, and what kanon does about it:
//!
//! | construct | go-yaml v2 | kanon |
//! |---|---|---|
//! | multi-line quoted scalar continued at or left of its key's indent (or at column 0) | reads it | reads it (`model::lenient`) |
//! | tab at the start of a quoted scalar's continuation line | reads it | reads it |
//! | `\'` in a double-quoted scalar | a `'` | a `'` |
//! | flow collection line (or closing bracket) at or left of its key's indent | reads it | reads it |
//! | tab after a value, before a comment, inside flow collections | reads it | reads it |
//! | duplicate key | keeps the last (v3 and strict decoding reject it) | keeps the last, warns `W1001` |
//! | `<<` merge keys, also a list of maps | merges, explicit keys win | the same |
//! | `yes`/`no`/`on`/`off`/`y`/`n`, `0755`, `0o17`, `0x1F`, `1e3` | YAML 1.1 values | the same |
//! | `...` document end markers, `%YAML` directives | read | read |
//! | tab at the start of a plain scalar's continuation line (right of the indent) | reads it | rejects it (`E1001`) |
//! | `!!binary` | decodes the base64 | keeps the base64 text |
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use kanon::diag::SourceMap;
use kanon::model::{LoadOutput, Loader, NodeId, SkipReason, Value};

fn load(text: &str) -> (LoadOutput, SourceMap) {
    let mut sources = SourceMap::new();
    let out = Loader::default().load_text("in.yaml", text.to_string(), &mut sources);
    (out, sources)
}

fn errors(out: &LoadOutput) -> Vec<String> {
    out.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect()
}

/// The node at a path of keys (and sequence indexes) in the first document.
fn at(out: &LoadOutput, path: &[&str]) -> NodeId {
    let doc = &out.docs[0];
    path.iter().fold(doc.root, |n, k| match k.parse::<usize>() {
        Ok(i) => doc.seq(n)[i],
        Err(_) => doc
            .get(n, k)
            .unwrap_or_else(|| panic!("no `{k}` in {path:?}")),
    })
}

/// The value at `path`, its (line, column) and its key's (line, column).
fn located(
    out: &LoadOutput,
    sources: &SourceMap,
    path: &[&str],
) -> (String, (usize, usize), Option<(usize, usize)>) {
    let doc = &out.docs[0];
    let n = at(out, path);
    let v = match doc.value(n).unwrap() {
        Value::Str(s) => s.to_string(),
        other => format!("{other:?}"),
    };
    let span = doc.span(n).unwrap();
    (
        v,
        sources.line_col(span),
        doc.key_span(n).map(|k| sources.line_col(k)),
    )
}

#[test]
fn quoted_scalar_continued_at_the_key_indent_loads() {
    // the known failing case: kubectl accepts it, and the document after it must load too
    let text = "apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  annotations:
    single: 'hello
    world'
    double: \"foo
  bar\"
    col0: \"x
y\"
    blank: 'p

    q'
    escaped: \"a\\
    b\"
    after: ok
---
apiVersion: v1
kind: Pod
metadata:
  name: p
";
    let (out, sources) = load(text);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    assert_eq!(out.objects.len(), 2);
    let a = |k: &str| located(&out, &sources, &["metadata", "annotations", k]);
    assert_eq!(a("single"), ("hello world".into(), (6, 13), Some((6, 5))));
    assert_eq!(a("double"), ("foo bar".into(), (8, 13), Some((8, 5))));
    assert_eq!(a("col0"), ("x y".into(), (10, 11), Some((10, 5))));
    assert_eq!(a("blank"), ("p\nq".into(), (12, 12), Some((12, 5))));
    assert_eq!(a("escaped"), ("ab".into(), (15, 14), Some((15, 5))));
    assert_eq!(a("after"), ("ok".into(), (17, 12), Some((17, 5))));
    // the span of a joined scalar covers it, quotes included
    let n = at(&out, &["metadata", "annotations", "double"]);
    assert_eq!(
        sources.slice(out.docs[0].span(n).unwrap()),
        "\"foo\n  bar\""
    );
    assert_eq!(out.docs[1].index, 1);
}

#[test]
fn quoted_scalars_in_sequences_and_flow_collections_load() {
    let text = "a:
  - \"x
  y\"
  - b: 'one
    two'
c: [ \"p
q\", r ]
";
    let (out, sources) = load(text);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    assert_eq!(located(&out, &sources, &["a", "0"]).0, "x y");
    assert_eq!(located(&out, &sources, &["a", "0"]).1, (2, 5));
    assert_eq!(
        located(&out, &sources, &["a", "1", "b"]),
        ("one two".into(), (4, 8), Some((4, 5)))
    );
    assert_eq!(located(&out, &sources, &["c", "0"]).0, "p q");
    assert_eq!(
        located(&out, &sources, &["c", "1"]),
        ("r".into(), (7, 5), None)
    );
}

#[test]
fn tab_indented_quoted_continuation_and_escaped_quote_load() {
    let text = "a:\n  b: \"x\n\ty\"\n  c: \"it\\'s\"\n  d: 1\n";
    let (out, sources) = load(text);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    assert_eq!(located(&out, &sources, &["a", "b"]).0, "x y");
    assert_eq!(
        located(&out, &sources, &["a", "c"]),
        ("it's".into(), (4, 6), Some((4, 3)))
    );
    assert_eq!(located(&out, &sources, &["a", "d"]).1, (5, 6));
}

#[test]
fn flow_collection_lines_left_of_the_key_load() {
    let text = "spec:
  args: [a,
b, c]
  env: {x: 1,
y: 2}
  ports: [
    80
  ]
  after: z
";
    let (out, sources) = load(text);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    assert_eq!(
        located(&out, &sources, &["spec", "args", "1"]),
        ("b".into(), (3, 1), None)
    );
    assert_eq!(
        located(&out, &sources, &["spec", "env", "y"]),
        ("Int(2)".into(), (5, 4), Some((5, 1)))
    );
    assert_eq!(located(&out, &sources, &["spec", "ports", "0"]).1, (7, 5));
    assert_eq!(located(&out, &sources, &["spec", "after"]).1, (9, 10));
}

#[test]
fn go_yaml_scalars_merge_keys_tabs_and_markers_load() {
    let text = "%YAML 1.1
---
base: &b
  x: 1
  y: 2
merged:
  <<: *b
  y: 3
many:
  <<: [{p: 1}, {p: 2, q: 2}]
bools: [yes, No, on, OFF, y, n]
ints: [0755, 0o17, 0x1F, 1_000, +12]
floats: [1e3, .5, 08]
strings: [1:20, 2001-12-14, '0755', !!str 12, !<tag:yaml.org,2002:str> 13]
tabbed: 1\t# a comment after a tab
flow: [1,\t2]
...
---
dup: 1
dup: 2
";
    let (out, sources) = load(text);
    assert!(errors(&out).is_empty(), "{:?}", errors(&out));
    let doc = &out.docs[0];
    let vals = |k: &str| -> Vec<String> {
        doc.seq(at(&out, &[k]))
            .iter()
            .map(|&n| format!("{:?}", doc.value(n).unwrap()))
            .collect()
    };
    assert_eq!(
        vals("bools"),
        [
            "Bool(true)",
            "Bool(false)",
            "Bool(true)",
            "Bool(false)",
            "Bool(true)",
            "Bool(false)"
        ]
    );
    assert_eq!(
        vals("ints"),
        ["Int(493)", "Int(15)", "Int(31)", "Int(1000)", "Int(12)"]
    );
    assert_eq!(
        vals("floats"),
        ["Float(1000.0)", "Float(0.5)", "Float(8.0)"]
    );
    assert_eq!(
        vals("strings"),
        [
            "Str(\"1:20\")",
            "Str(\"2001-12-14\")",
            "Str(\"0755\")",
            "Str(\"12\")",
            "Str(\"13\")"
        ]
    );
    assert_eq!(
        located(&out, &sources, &["merged", "x"]).0,
        "Int(1)",
        "merged from the anchor"
    );
    assert_eq!(located(&out, &sources, &["merged", "y"]).0, "Int(3)");
    assert_eq!(located(&out, &sources, &["many", "p"]).0, "Int(1)");
    assert_eq!(located(&out, &sources, &["many", "q"]).0, "Int(2)");
    assert_eq!(located(&out, &sources, &["tabbed"]).0, "Int(1)");
    assert_eq!(located(&out, &sources, &["flow", "1"]).1, (16, 11));
    // the duplicate key keeps its last value and warns, as go-yaml v2 reads it
    let dup = out.docs[1].get(out.docs[1].root, "dup").unwrap();
    assert_eq!(out.docs[1].value(dup), Some(Value::Int(2)));
    assert!(out.diagnostics.iter().any(|d| d.code == "W1001"));
}

#[test]
fn what_go_yaml_rejects_stays_an_error() {
    for text in [
        "a: \"x\n---\ny\"\n",  // a document marker inside a quoted scalar
        "a:\n\tb: 1\n",        // tab indentation
        "a:\n  b: c\n d: e\n", // a key left of its siblings
        "a: \"x\\q\"\n",       // an unknown escape
        "a: [x, # c\ny]\n",    // a flow line after a comment, left of its key: not joined
    ] {
        let (out, _) = load(text);
        assert!(!errors(&out).is_empty(), "{text:?} should not load");
    }
}

const POD_A: &str = "apiVersion: v1
kind: Pod
metadata:
  name: a
";

#[test]
fn a_broken_document_does_not_take_the_rest_of_the_file() {
    let text = format!(
        "{POD_A}---
apiVersion: v1
kind: Pod
metadata:
  name: \"broken
  labels: {{x: [}}
---
# Source: chart/templates/c.yaml
apiVersion: v1
kind: Pod
metadata:
  name: c
---
apiVersion: v1
kind: Pod
metadata: [oops
---
apiVersion: v1
kind: Pod
metadata:
  name: e
"
    );
    let (out, sources) = load(&text);
    let names: Vec<&str> = out
        .objects
        .iter()
        .map(|o| {
            out.doc(*o)
                .unwrap()
                .str_at(o.node, &["metadata", "name"])
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["a", "c", "e"]);
    assert_eq!(out.stats.documents, 5);
    assert_eq!(out.stats.skipped, vec![(SkipReason::Malformed, 2)]);
    // documents keep their position in the file and their Helm source
    let c = out.doc(out.objects[1]).unwrap();
    assert_eq!(c.index, 2);
    assert_eq!(c.helm_source.as_deref(), Some("chart/templates/c.yaml"));
    assert_eq!(out.doc(out.objects[2]).unwrap().index, 4);
    let c_name = c.path(c.root, &["metadata", "name"]).unwrap();
    assert_eq!(sources.line_col(c.span(c_name).unwrap()), (16, 9));
    insta::assert_snapshot!(kanon::report::diagnostics::render_plain(
        &sources,
        &out.diagnostics
    ));
}

#[test]
fn an_error_in_the_last_document_reads_the_others() {
    let text = format!("{POD_A}---\napiVersion: v1\nkind: [\n");
    let (out, _) = load(&text);
    assert_eq!(out.objects.len(), 1);
    assert_eq!(out.stats.skipped, vec![(SkipReason::Malformed, 1)]);
    let d = out.diagnostics.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(d.notes, ["the rest of this file is not read"]);
}

#[test]
fn the_scan_summary_says_what_was_skipped() {
    let input = format!(
        "{POD_A}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [b}}\n---\n{}",
        POD_A.replace("name: a", "name: c")
    );
    let (code, stdout, stderr) = common::run_stdin(
        &[
            "scan",
            "-",
            "--no-default-rules",
            "--rules",
            "benches/data/noop.kanon",
        ],
        &input,
    );
    insta::assert_snapshot!(format!(
        "exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}"
    ));
}
