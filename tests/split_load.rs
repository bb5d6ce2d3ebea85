//! A large `List` is read in parallel pieces: the result must be exactly what the sequential
//! reader gives (values, spans, key spans, styles, objects, warnings), and inputs the
//! pieces cannot represent fall back to the sequential reader.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::model::{Document, LoadOutput, Loader, NodeId, Value};

/// Loads `text` with splitting forced (`split`) or disabled, on a 4-thread pool.
fn load(name: &str, text: &str, split: bool) -> (LoadOutput, SourceMap) {
    load_on(4, name, text, split)
}

/// [`load`] on a pool of `threads` threads.
fn load_on(threads: usize, name: &str, text: &str, split: bool) -> (LoadOutput, SourceMap) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let loader = Loader {
            split_bytes: if split { 1 } else { usize::MAX },
            ..Loader::default()
        };
        let mut sources = SourceMap::new();
        let out = loader.load_text(name, text.to_string(), &mut sources);
        (out, sources)
    })
}

/// Compares two subtrees node by node.
fn same_tree(a: &Document, x: NodeId, b: &Document, y: NodeId, path: &str) {
    let (na, nb) = (a.node(x).unwrap(), b.node(y).unwrap());
    assert_eq!(na.span, nb.span, "span at {path}");
    assert_eq!(na.key_span, nb.key_span, "key span at {path}");
    assert_eq!(na.style, nb.style, "style at {path}");
    match (na.value, nb.value) {
        (Value::Seq(i), Value::Seq(j)) => {
            assert_eq!(i.len(), j.len(), "length at {path}");
            for (k, (p, q)) in i.iter().zip(j).enumerate() {
                same_tree(a, *p, b, *q, &format!("{path}[{k}]"));
            }
        }
        (Value::Map(m), Value::Map(n)) => {
            assert_eq!(m.len(), n.len(), "size at {path}");
            for ((k1, v1), (k2, v2)) in m.iter().zip(n.iter()) {
                assert_eq!(k1, k2, "key at {path}");
                same_tree(a, v1, b, v2, &format!("{path}.{k1}"));
            }
        }
        (p, q) => assert_eq!(p, q, "value at {path}"),
    }
}

/// Loads both ways, checks they agree, and returns whether the split really happened.
fn agree(name: &str, text: &str) -> bool {
    let (seq, s1) = load(name, text, false);
    let (par, s2) = load(name, text, true);
    assert_eq!(seq.docs.len(), par.docs.len());
    assert_eq!(seq.objects.len(), par.objects.len());
    for (d1, d2) in seq.docs.iter().zip(&par.docs) {
        same_tree(d1, d1.root, d2, d2.root, "");
        assert_eq!(d1.helm_source, d2.helm_source);
        assert_eq!(d1.index, d2.index);
    }
    // node ids differ between the two; objects are compared by their place in the text
    for (o1, o2) in seq.objects.iter().zip(&par.objects) {
        let (d1, d2) = (&seq.docs[o1.doc as usize], &par.docs[o2.doc as usize]);
        assert_eq!(d1.span(o1.node), d2.span(o2.node));
    }
    let show = |o: &LoadOutput, s: &SourceMap| -> Vec<String> {
        o.diagnostics
            .iter()
            .map(|d| {
                let at = d.primary.as_ref().map(|l| s.line_col(l.span));
                format!("{} {} {:?}", d.code, d.message, at)
            })
            .collect()
    };
    assert_eq!(show(&seq, &s1), show(&par, &s2));
    assert_eq!(format!("{:?}", seq.stats), format!("{:?}", par.stats));
    assert_eq!(seq.pieces, 0);
    par.pieces > 1
}

fn yaml_item(i: usize) -> String {
    format!(
        "- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cm-{i}
    namespace: \"ns-{}\"
    labels: {{app: 'web', tier: back}}
    annotations:
      note: >
        folded
        text {i}
  data:
    plain: multi
      line plain
    esc: \"tab\\there é ü {i}\"
    block: |
      line one
      line two
    num: 0755
    flag: yes
    list: [1, 2.5, ~, \"x\"]
# a comment between items
",
        i % 7
    )
}

fn yaml_list(n: usize) -> String {
    let mut t = String::from("apiVersion: v1\nitems:\n");
    for i in 0..n {
        t.push_str(&yaml_item(i));
    }
    t.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
    t
}

/// On one thread a YAML `List` or stream is still read in pieces, one after the other (the
/// sequential reader's nodes of the whole file would sit beside the packed ones), with the
/// same result; a JSON `List` is read sequentially there.
#[test]
fn one_thread_reads_yaml_in_pieces_and_json_whole() {
    let stream: String = (0..200)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  k: 'v {i}'\n"))
        .collect();
    for (name, text) in [("list.yaml", yaml_list(200)), ("stream.yaml", stream)] {
        let (seq, _) = load_on(1, name, &text, false);
        let (one, _) = load_on(1, name, &text, true);
        let (four, _) = load(name, &text, true);
        assert!(one.pieces > 1, "{name}: {} pieces", one.pieces);
        assert_eq!(seq.docs.len(), one.docs.len());
        assert_eq!(four.docs.len(), one.docs.len());
        for ((d0, d1), d4) in seq.docs.iter().zip(&one.docs).zip(&four.docs) {
            same_tree(d0, d0.root, d1, d1.root, "");
            same_tree(d4, d4.root, d1, d1.root, "");
        }
        assert_eq!(seq.objects.len(), one.objects.len());
    }
    let (json, _) = load_on(1, "list.json", &json_list(200), true);
    assert_eq!(json.pieces, 0);
    assert_eq!(json.objects.len(), 200);
}

#[test]
fn yaml_list_in_pieces_equals_sequential_read() {
    assert!(agree("list.yaml", &yaml_list(200)));
}

#[test]
fn yaml_list_with_crlf_and_warnings_equals_sequential_read() {
    let mut t = yaml_list(60);
    // a duplicate key inside an item and an item that is not an object: warnings
    t = t.replacen(
        "  kind: ConfigMap\n",
        "  kind: ConfigMap\n  kind: Secret\n",
        3,
    );
    t = t.replacen(
        "- apiVersion: v1\n",
        "- just a string\n- apiVersion: v1\n",
        1,
    );
    assert!(agree("warn.yaml", &t));
    assert!(agree("crlf.yaml", &t.replace('\n', "\r\n")));
    // items that end with an empty value, a comment or a blank line
    let mut e = String::from("apiVersion: v1\nitems:\n");
    for i in 0..40 {
        e.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: c{i}}}\n  data:\n    empty:\n"
        ));
        if i % 3 == 0 {
            e.push_str("# between\n\n");
        }
    }
    e.push_str("kind: List\nmetadata:\n");
    assert!(agree("empty-values.yaml", &e));
    // found by fuzzing: `items` as the last key, so the `List` ends where its items do
    let last = format!(
        "apiVersion: v1\nkind: List\n{}",
        &yaml_list(30)["apiVersion: v1\n".len()..]
    )
    .replace("kind: List\nmetadata:\n  resourceVersion: \"\"\n", "");
    assert!(last.ends_with("# a comment between items\n"), "{last}");
    assert!(agree("items-last.yaml", &last));
}

#[test]
fn yaml_pieces_fall_back_on_errors_and_aliases() {
    let mut broken = yaml_list(50);
    let at = broken.len() / 2;
    let line = broken[at..].find("\n  data:").unwrap() + at;
    broken.insert_str(line + 1, "  bad: [unclosed\n");
    assert!(!agree("broken.yaml", &broken));
    let mut aliased = yaml_list(50);
    aliased = aliased.replacen("    name: cm-1\n", "    name: &n cm-1\n", 1);
    aliased = aliased.replacen("    name: cm-40\n", "    name: *n\n", 1);
    assert!(!agree("alias.yaml", &aliased));
    // several documents, each a `List`: read as a stream of documents
    let two = format!("{}---\n{}", yaml_list(20), yaml_list(20));
    agree("two.yaml", &two);
}

/// A stream of many documents (Helm output) is read in pieces cut at `---` lines: the
/// same documents, indexes, Helm sources and warnings as one pass, including empty
/// documents, a duplicate key, a document that is not an object, and an alias.
#[test]
fn yaml_stream_in_pieces_equals_sequential_read() {
    let mut t = String::from("# leading comment\n");
    for i in 0..300 {
        let _ = std::fmt::Write::write_fmt(
            &mut t,
            format_args!(
                "---\n# Source: chart/templates/cm-{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels: &l {{app: web}}\n  annotations: *l\ndata:\n  a: \"x\"\n  a: y\n  block: |\n    --- not a marker, indented\n    text\n"
            ),
        );
        if i % 50 == 0 {
            t.push_str("---\n# only a comment\n---\njust a string\n");
        }
    }
    assert!(agree("stream.yaml", &t));
    let (par, _) = load("stream.yaml", &t, true);
    assert_eq!(par.stats.documents, 312);
    assert_eq!(par.stats.objects, 300);
    for o in &par.objects {
        let doc = &par.docs[o.doc as usize];
        let name = doc.str_at(o.node, &["metadata", "name"]).unwrap();
        let want = format!("chart/templates/{name}.yaml");
        assert_eq!(doc.helm_source.as_deref(), Some(want.as_str()));
    }
    // found by fuzzing: comments before the first marker are not a document of their own
    agree("comments.yaml", "#rs\n#\n#   Licens\n---\n");
    agree("directive.yaml", "%YAML 1.2\n---\na: 1\n---\nb: 2\n");
    // the parser places the end of a document, an empty value before it, and the error of
    // a broken document at the next marker: each piece sees that marker
    agree(
        "empty.yaml",
        "a: 1\n---\n# only a comment\n---\nb:\n---\nc: 3\n",
    );
    agree(
        "cr.yaml",
        "a: 1\n---\nname: \raaaaaa\n---\nb: 2\n---\nc: 3\n",
    );
    // a syntax error in the middle: the sequential reader's error, and the documents
    // before it
    let broken = t.replacen("  a: y\n", "  a: [y\n", 150);
    assert!(!agree("broken-stream.yaml", &broken));
}

fn json_list(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "p-{i}", "labels": {{"a": "b\"c", "é": "\u00e9{i}", "\u0061pp": "x{i}"}}}},
  "spec": {{"containers": [{{"name": "c", "image": "nginx:{i}", "args": ["]", "}}", "[{{"], "n": [1, -2.5e3, true, null]}}]}}}}"#
            )
        })
        .collect();
    format!(
        "{{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n{}\n  ],\n  \"kind\": \"List\",\n  \"metadata\": {{\"resourceVersion\": \"\"}}\n}}\n",
        items.join(",\n")
    )
}

#[test]
fn json_list_in_pieces_equals_sequential_read() {
    assert!(agree("list.json", &json_list(300)));
    // a key with an escape is kept in its document's table: the pieces' tables are joined
    let (out, _) = load("list.json", &json_list(300), true);
    assert!(out.pieces > 1);
    for (i, o) in out.objects.iter().enumerate() {
        let d = &out.docs[o.doc as usize];
        let app = d.path(o.node, &["metadata", "labels", "app"]);
        assert_eq!(app.and_then(|n| d.str(n)), Some(format!("x{i}").as_str()));
    }
    let mut dup = json_list(40);
    dup = dup.replacen(r#""kind": "Pod","#, r#""kind": "Pod", "kind": "Pod","#, 2);
    assert!(agree("dup.json", &dup));
    // minified
    let mini: String = json_list(40).replace(",\n  ", ",").replace('\n', "");
    assert!(agree("mini.json", &mini));
}

/// An items array of more than 4 MB is scanned for its items on several cores, in chunks
/// cut at line breaks: the same documents, and the same fallbacks.
#[test]
fn json_list_scanned_in_parallel_equals_sequential_read() {
    let t = json_list(20_000);
    assert!(t.len() > 4 << 20, "{}", t.len());
    assert!(agree("big-list.json", &t));
    // a syntax error far into it, and a raw line break inside a string (not JSON): the
    // sequential reader reports each
    let at = t.len() * 3 / 4;
    let pos = t[at..].find("\"spec\"").unwrap() + at;
    let mut broken = t.clone();
    broken.insert_str(pos, "\"x\": tru, ");
    assert!(!agree("big-broken.json", &broken));
    let raw = t.replacen("\"p-19000\"", "\"p-\n19000\"", 1);
    assert_ne!(raw, t);
    assert!(!agree("big-raw.json", &raw));
}

/// The items of a JSON `List` are cut where its layout says they start (a comma, the first
/// item's leading white space, its opening bracket): kubectl's indented layout reads in
/// pieces; where that pattern also occurs inside the items (nested objects written at the
/// items' indentation), the guessed cuts do not parse and the structural scan cuts them
/// instead. The same documents either way.
#[test]
fn json_items_cut_by_their_layout_and_where_it_misleads() {
    use serde_json::json;
    let items: Vec<serde_json::Value> = (0..400)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("p-{i}")},
                "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"p": i}]}]}})
        })
        .collect();
    let pretty =
        serde_json::to_string_pretty(&json!({"apiVersion": "v1", "items": items, "kind": "List"}))
            .unwrap();
    assert!(agree("pretty.json", &pretty));
    assert!(load("pretty.json", &pretty, true).0.pieces > 1);
    let nested: Vec<String> = (0..400)
        .map(|i| format!("{{\"kind\": \"Pod\", \"metadata\": {{\"name\": \"p{i}\"}}, \"l\": [\n{{\"x\": {i}}},\n{{\"y\": 2}}]}}"))
        .collect();
    let misleading = format!(
        "{{\"kind\": \"List\", \"items\": [\n{}\n]}}\n",
        nested.join(",\n")
    );
    assert!(agree("misleading.json", &misleading));
    assert!(load("misleading.json", &misleading, true).0.pieces > 1);
}

#[test]
fn json_pieces_fall_back_on_errors() {
    let mut broken = json_list(40);
    let at = broken.len() / 2;
    let pos = broken[at..].find("\"spec\"").unwrap() + at;
    broken.insert_str(pos, "\"x\": tru, ");
    assert!(!agree("broken.json", &broken));
    assert!(!agree(
        "empty.json",
        "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}"
    ));
}

mod generated {
    //! Random `List` exports, written by serde's YAML and JSON writers (so quoting, escapes,
    //! block scalars and flow styles vary), must read the same in pieces and in one pass.
    use super::agree;
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    include!("common/generated_values.rs");

    fn item() -> impl Strategy<Value = Value> {
        ("[a-z]{1,6}", value()).prop_map(|(name, data)| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
        })
    }

    fn list() -> impl Strategy<Value = Value> {
        prop::collection::vec(item(), 2..12).prop_map(
            |items| json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {}}),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

        #[test]
        fn generated_lists_read_the_same_in_pieces(l in list()) {
            let yaml = serde_yaml::to_string(&l).unwrap();
            agree("g.yaml", &yaml);
            // the items as a stream of documents
            let items = l["items"].as_array().unwrap();
            let stream: Vec<String> =
                items.iter().map(|i| serde_yaml::to_string(i).unwrap()).collect();
            agree("s.yaml", &stream.join("---\n"));
            agree("g.json", &serde_json::to_string_pretty(&l).unwrap());
            agree("m.json", &serde_json::to_string(&l).unwrap());
        }
    }

    /// Edits of an export at random places: whatever the edit does, pieces and one pass
    /// agree, errors included.
    fn edit() -> impl Strategy<Value = (usize, u8, bool)> {
        edit_of(b"-:#'\"[]{},\n \t&*!|>?%@\\\r.x0")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn edited_lists_read_the_same_in_pieces(
            l in list(),
            edits in prop::collection::vec(edit(), 1..4),
        ) {
            let yaml = serde_yaml::to_string(&l).unwrap();
            agree("e.yaml", &mutated(yaml.clone(), &edits));
            let stream: Vec<String> = l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| serde_yaml::to_string(i).unwrap())
                .collect();
            agree("e-stream.yaml", &mutated(stream.join("---\n"), &edits));
            agree("e.json", &mutated(serde_json::to_string_pretty(&l).unwrap(), &edits));
        }
    }

    /// The generated exports do get split (the property above is not only about
    /// fallbacks).
    #[test]
    fn generated_lists_are_split() {
        let items: Vec<Value> = (0..20)
            .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}")}, "data": {"k": "- x\ny: 1"}}))
            .collect();
        let l = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {}});
        assert!(agree("g.yaml", &serde_yaml::to_string(&l).unwrap()));
        assert!(agree("g.json", &serde_json::to_string_pretty(&l).unwrap()));
        assert!(agree("m.json", &serde_json::to_string(&l).unwrap()));
    }
}

/// A file of more than 16 MB is read in 4 MB pieces on the thread pool: its text and its
/// documents are what a one-thread read gives, whatever its length modulo the piece; a
/// NUL byte anywhere in it still makes it a binary file.
#[test]
fn a_large_file_read_in_pieces_is_the_same_file() {
    let dir = std::env::temp_dir().join(format!("kanon-bigread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = json_list(75_000);
    // a character of four bytes, and a length that is no multiple of a piece
    text = text.replace(
        "\"resourceVersion\": \"\"",
        "\"resourceVersion\": \"\u{1F600}\"",
    );
    text.push_str("\n \n");
    assert!(text.len() > 17 << 20, "{}", text.len());
    let path = dir.join("big.json");
    std::fs::write(&path, &text).unwrap();
    let read = |threads: usize, path: &std::path::Path| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut sources = SourceMap::new();
            let out = Loader::default().load_paths(&[path.display().to_string()], &mut sources);
            (out, sources)
        })
    };
    let (one, s1) = read(1, &path);
    let (four, s4) = read(4, &path);
    assert_eq!(s1.file(0).unwrap().text.as_str(), text);
    assert_eq!(s4.file(0).unwrap().text.as_str(), text);
    assert!(one.diagnostics.is_empty(), "{:?}", one.diagnostics);
    assert!(four.diagnostics.is_empty(), "{:?}", four.diagnostics);
    assert_eq!(one.objects.len(), 75_000);
    assert_eq!(four.objects.len(), 75_000);
    for (d1, d2) in one.docs.iter().zip(&four.docs) {
        same_tree(d1, d1.root, d2, d2.root, "");
    }
    // a NUL byte in the first piece, the third, and the last (shorter) one, read in
    // pieces (each looked at as it is read) and in one
    let bytes = text.into_bytes();
    for at in [7, (9 << 20) + 7, bytes.len() - 2] {
        let mut bytes = bytes.clone();
        bytes[at] = 0;
        let nul = dir.join("nul.json");
        std::fs::write(&nul, &bytes).unwrap();
        for threads in [1, 4] {
            let (out, _) = read(threads, &nul);
            let messages: Vec<String> = out.diagnostics.iter().map(|d| d.message.clone()).collect();
            assert!(
                messages
                    .iter()
                    .any(|m| m.contains("looks like a binary file")),
                "NUL at {at}, {threads} threads: {messages:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// [`agree`] for the `List` of the test below, read in pieces: 293 objects and 8 items
/// warned about.
fn odd_items_agree(name: &str, text: &str) {
    assert!(agree(name, text));
    let (out, _) = load(name, text, true);
    assert!(out.pieces > 1);
    let w1002 = out.diagnostics.iter().filter(|d| d.code == "W1002").count();
    assert_eq!((out.objects.len(), w1002), (293, 8));
}

/// Items that are not Kubernetes objects (no `kind`, a `kind` that is not a string, an
/// `apiVersion` that is a number, a scalar item) in a `List` read in pieces: the pieces
/// tell each item while they read it, and the objects and `W1002` warnings are those of
/// the sequential read.
#[test]
fn items_that_are_not_objects_in_pieces_equal_the_sequential_read() {
    // items 10, 120 and 250 without a kind, 60 and 200 with a list for one, 150 and 290
    // with a number for an apiVersion, and a number before the first
    let mut t = json_list(300);
    let item =
        |i: usize| format!(r#""apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "p-{i}""#);
    for (i, to) in [
        (10, r#""apiVersion": "v1", "metadata""#),
        (120, r#""apiVersion": "v1", "metadata""#),
        (250, r#""apiVersion": "v1", "metadata""#),
        (60, r#""apiVersion": "v1", "kind": ["Pod"], "metadata""#),
        (200, r#""apiVersion": "v1", "kind": ["Pod"], "metadata""#),
        (150, r#""apiVersion": 1, "kind": "Pod", "metadata""#),
        (290, r#""apiVersion": 1, "kind": "Pod", "metadata""#),
    ] {
        let from = item(i);
        assert!(t.contains(&from), "{from}");
        t = t.replace(&from, &format!(r#"{to}: {{"name": "p-{i}""#));
    }
    t = t.replacen("[\n{", "[\n7,\n{", 1);
    odd_items_agree("odd.json", &t);
    let mut y = yaml_list(300);
    let item =
        |i: usize| format!("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm-{i}\n");
    for (i, to) in [
        (10, "- apiVersion: v1\n"),
        (120, "- apiVersion: v1\n"),
        (250, "- apiVersion: v1\n"),
        (60, "- apiVersion: v1\n  kind: [ConfigMap]\n"),
        (200, "- apiVersion: v1\n  kind: [ConfigMap]\n"),
        (150, "- apiVersion: 1\n  kind: ConfigMap\n"),
        (290, "- apiVersion: 1\n  kind: ConfigMap\n"),
    ] {
        let from = item(i);
        assert!(y.contains(&from), "{from}");
        y = y.replace(&from, &format!("{to}  metadata:\n    name: cm-{i}\n"));
    }
    y = y.replacen("items:\n", "items:\n- just a string\n", 1);
    odd_items_agree("odd.yaml", &y);
}
