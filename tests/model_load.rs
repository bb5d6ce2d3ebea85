//! Loader tests: spans, YAML 1.1 scalars, Lists, Helm, duplicates, limits, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::{Level, SourceMap};
use kanon::model::{Loader, SkipReason, Style, Value};

fn load(name: &str, text: &str) -> (kanon::model::LoadOutput, SourceMap) {
    let mut sources = SourceMap::new();
    let out = Loader::default().load_text(name, text.to_string(), &mut sources);
    (out, sources)
}

fn codes(out: &kanon::model::LoadOutput) -> Vec<&'static str> {
    out.diagnostics.iter().map(|d| d.code).collect()
}

/// documents == documents with objects + skipped.
fn assert_invariant(out: &kanon::model::LoadOutput) {
    let mut with_objects: Vec<u32> = out.objects.iter().map(|o| o.doc).collect();
    with_objects.dedup();
    assert_eq!(
        out.stats.documents,
        with_objects.len() + out.stats.skipped_total(),
        "{:?}",
        out.stats
    );
    assert_eq!(out.stats.objects, out.objects.len());
}

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx
      securityContext:
        privileged: true
";

#[test]
fn nested_value_has_exact_line_and_column() {
    let (out, sources) = load("pod.yaml", POD);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.objects.len(), 1);
    let obj = out.objects[0];
    let doc = &out.docs[obj.doc as usize];
    let containers = doc.path(obj.node, &["spec", "containers"]).unwrap();
    let c0 = doc.seq(containers)[0];
    let p = doc.path(c0, &["securityContext", "privileged"]).unwrap();
    let node = doc.node(p).unwrap();
    assert_eq!(node.value, Value::Bool(true));
    assert_eq!(sources.line_col(node.span), (10, 21));
    assert_eq!(sources.slice(node.span), "true");
    assert_eq!(sources.line_col(node.key_span.unwrap()), (10, 9));
    assert_eq!(sources.slice(node.key_span.unwrap()), "privileged");
    // the container mapping spans from `name` to the end of `true`
    let c = doc.node(c0).unwrap();
    assert_eq!(sources.line_col(c.span), (7, 7));
    assert!(sources.slice(c.span).ends_with("privileged: true"));
    // the sequence starts at its dash
    let seq = doc.node(containers).unwrap();
    assert_eq!(sources.line_col(seq.span), (7, 5));
    assert_eq!(doc.helm_source, None);
    assert_invariant(&out);
}

#[test]
fn yaml11_scalars_resolve_like_kubernetes() {
    let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: yes\n  b: \"yes\"\n  c: 0755\n  d: on\n  e: ~\n  f: 'on'\n  g: !!str 12\n  h: !!int \"7\"\n  i: |\n    block\n  j: =\n  k:\n  l: 1e3\n  m: 0x1F\n";
    let (out, _) = load("cm.yaml", text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let obj = out.objects[0];
    let doc = &out.docs[0];
    let v = |k: &str| {
        let id = doc.path(obj.node, &["data", k]).unwrap();
        let n = doc.node(id).unwrap();
        (n.value.clone(), n.style)
    };
    assert_eq!(v("a"), (Value::Bool(true), Style::Plain));
    assert_eq!(v("b"), (Value::Str("yes".into()), Style::DoubleQuoted));
    assert_eq!(v("c"), (Value::Int(0o755), Style::Plain));
    assert_eq!(v("d"), (Value::Bool(true), Style::Plain));
    assert_eq!(v("e"), (Value::Null, Style::Plain));
    assert_eq!(v("f"), (Value::Str("on".into()), Style::SingleQuoted));
    assert_eq!(v("g").0, Value::Str("12".into()));
    assert_eq!(v("h").0, Value::Int(7));
    assert_eq!(v("i"), (Value::Str("block\n".into()), Style::Literal));
    assert_eq!(v("j").0, Value::Str("=".into()));
    assert_eq!(v("k").0, Value::Null);
    assert_eq!(v("l").0, Value::Float(1000.0));
    assert_eq!(v("m").0, Value::Int(31));
}

#[test]
fn multi_document_stream_with_helm_sources() {
    let text = "---\n# Source: chart/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n---\n# just a comment\n---\n# Source: chart/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n";
    let (out, sources) = load("helm.yaml", text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.stats.documents, 3);
    assert_eq!(out.objects.len(), 2);
    assert_eq!(out.stats.skipped, vec![(SkipReason::Empty, 1)]);
    let d0 = &out.docs[out.objects[0].doc as usize];
    let d1 = &out.docs[out.objects[1].doc as usize];
    assert_eq!(d0.helm_source.as_deref(), Some("chart/templates/sa.yaml"));
    assert_eq!(
        d1.helm_source.as_deref(),
        Some("chart/templates/deploy.yaml")
    );
    assert_eq!(d0.index, 0);
    assert_eq!(d1.index, 2);
    let kind = d1.get(d1.root, "kind").unwrap();
    assert_eq!(sources.line_col(d1.node(kind).unwrap().span), (12, 7));
    assert_invariant(&out);
}

#[test]
fn list_items_are_objects_at_their_own_lines() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: d\n- just-a-string\n";
    let (out, sources) = load("list.yaml", text);
    assert_eq!(out.objects.len(), 2);
    let doc = &out.docs[0];
    let lines: Vec<(usize, usize)> = out
        .objects
        .iter()
        .map(|o| sources.line_col(doc.node(o.node).unwrap().span))
        .collect();
    assert_eq!(lines, vec![(4, 3), (8, 3)]);
    assert_eq!(
        doc.str_at(out.objects[1].node, &["kind"]),
        Some("Deployment")
    );
    assert_eq!(codes(&out), vec!["W1002"]);
    let w = &out.diagnostics[0];
    assert_eq!(w.level, Level::Warning);
    assert_eq!(sources.line_col(w.primary.as_ref().unwrap().span), (12, 3));
    assert_invariant(&out);
}

#[test]
fn duplicate_key_warns_at_duplicate_and_keeps_last() {
    let text =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: first\n  labels: {}\n  name: second\n";
    let (out, sources) = load("dup.yaml", text);
    assert_eq!(codes(&out), vec!["W1001"]);
    let d = &out.diagnostics[0];
    assert_eq!(d.message, "duplicate key `name` in mapping");
    assert_eq!(sources.line_col(d.primary.as_ref().unwrap().span), (6, 3));
    assert_eq!(sources.line_col(d.secondary[0].span), (4, 3));
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .contains("strict field validation")
    );
    let doc = &out.docs[0];
    let meta = doc.get(doc.root, "metadata").unwrap();
    assert_eq!(doc.str_at(meta, &["name"]), Some("second"));
    let keys: Vec<&str> = doc.map(meta).iter().map(|(k, _)| &**k).collect();
    assert_eq!(keys, vec!["labels", "name"]);
}

#[test]
fn json_object_and_list() {
    let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p\u00e9\ud83d\ude00"},
   "spec": {"hostNetwork": true, "n": -1.5e2, "i": 42}}
]}"#;
    let (out, sources) = load("x.json", text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(out.objects.len(), 1);
    let doc = &out.docs[0];
    let pod = out.objects[0].node;
    assert_eq!(doc.str_at(pod, &["metadata", "name"]), Some("pé😀"));
    let hn = doc.path(pod, &["spec", "hostNetwork"]).unwrap();
    let node = doc.node(hn).unwrap();
    assert_eq!(node.value, Value::Bool(true));
    assert_eq!(sources.line_col(node.span), (3, 28));
    assert_eq!(sources.slice(node.key_span.unwrap()), "\"hostNetwork\"");
    let n = doc.path(pod, &["spec", "n"]).unwrap();
    assert_eq!(doc.node(n).unwrap().value, Value::Float(-150.0));
    let i = doc.path(pod, &["spec", "i"]).unwrap();
    assert_eq!(doc.node(i).unwrap().value, Value::Int(42));
    let name = doc.path(pod, &["metadata", "name"]).unwrap();
    assert_eq!(doc.node(name).unwrap().style, Style::DoubleQuoted);
    assert_invariant(&out);
}

#[test]
fn malformed_json_is_located() {
    let (out, sources) = load("bad.json", "{\"apiVersion\": \"v1\",\n \"kind\": Pod}");
    assert_eq!(codes(&out), vec!["E1002"]);
    let d = &out.diagnostics[0];
    assert!(d.message.starts_with("invalid json: "), "{}", d.message);
    assert_eq!(sources.line_col(d.primary.as_ref().unwrap().span), (2, 10));
    assert_eq!(out.stats.skipped, vec![(SkipReason::Malformed, 1)]);
    assert_invariant(&out);
}
