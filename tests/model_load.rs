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
        (n.value, n.style)
    };
    assert_eq!(v("a"), (Value::Bool(true), Style::Plain));
    assert_eq!(v("b"), (Value::Str("yes"), Style::DoubleQuoted));
    assert_eq!(v("c"), (Value::Int(0o755), Style::Plain));
    assert_eq!(v("d"), (Value::Bool(true), Style::Plain));
    assert_eq!(v("e"), (Value::Null, Style::Plain));
    assert_eq!(v("f"), (Value::Str("on"), Style::SingleQuoted));
    assert_eq!(v("g").0, Value::Str("12"));
    assert_eq!(v("h").0, Value::Int(7));
    assert_eq!(v("i"), (Value::Str("block\n"), Style::Literal));
    assert_eq!(v("j").0, Value::Str("="));
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
    let keys: Vec<&str> = doc.map(meta).iter().map(|(k, _)| k).collect();
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

#[test]
fn anchors_aliases_and_merge_keys_expand() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: &l {app: web, tier: fe}\n  annotations:\n    <<: *l\n    tier: be\n  other: *l\n";
    let (out, sources) = load("a.yaml", text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let doc = &out.docs[0];
    let ann = doc.path(doc.root, &["metadata", "annotations"]).unwrap();
    let mut keys: Vec<&str> = doc.map(ann).iter().map(|(k, _)| k).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["app", "tier"]);
    assert_eq!(doc.str_at(ann, &["tier"]), Some("be"));
    assert_eq!(doc.str_at(ann, &["app"]), Some("web"));
    let other = doc.path(doc.root, &["metadata", "other"]).unwrap();
    assert_eq!(doc.str_at(other, &["app"]), Some("web"));
    // the alias copy is located at the alias; its children at the anchor
    assert_eq!(sources.slice(doc.node(other).unwrap().span), "*l");
    let app = doc.get(other, "app").unwrap();
    assert_eq!(sources.line_col(doc.node(app).unwrap().span), (4, 20));
}

#[test]
fn alias_bomb_is_a_located_error_and_other_documents_load() {
    let text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
apiVersion: v1
kind: Pod
metadata:
  name: ok
";
    let (out, sources) = load("bomb.yaml", text);
    assert_eq!(codes(&out), vec!["E1003"]);
    let d = &out.diagnostics[0];
    assert!(d.message.contains("alias expansion"), "{}", d.message);
    let at = d.primary.as_ref().unwrap().span;
    assert!(
        sources.slice(at).starts_with('*'),
        "{:?}",
        sources.slice(at)
    );
    assert_eq!(out.objects.len(), 1);
    assert_eq!(
        out.docs[out.objects[0].doc as usize].str_at(out.objects[0].node, &["metadata", "name"]),
        Some("ok")
    );
    assert_eq!(out.stats.skipped, vec![(SkipReason::LimitExceeded, 1)]);
    assert_invariant(&out);
}

fn assert_too_deep(name: &str, text: &str) {
    let (out, _) = load(name, text);
    assert!(out.has_errors(), "{name}: no error");
    assert!(out.objects.is_empty());
    let d = out.diagnostics.iter().find(|d| d.is_error()).unwrap();
    assert!(d.primary.is_some(), "{name}: error not located");
    assert!(
        out.stats.skipped_for(SkipReason::LimitExceeded)
            + out.stats.skipped_for(SkipReason::Malformed)
            == 1,
        "{name}: {:?}",
        out.stats
    );
    assert_invariant(&out);
}

#[test]
fn deep_nesting_errors_without_stack_overflow() {
    let n = 100_000;
    assert_too_deep("flow.yaml", &("[".repeat(n) + &"]".repeat(n)));
    assert_too_deep("flow.json", &("[".repeat(n) + &"]".repeat(n)));
    assert_too_deep("maps.json", &("{\"a\":".repeat(n) + "1" + &"}".repeat(n)));
    assert_too_deep("block.yaml", &("- ".repeat(n) + "x\n"));
    // nested block maps, one level per line (deep enough to pass the limit)
    let mut maps = String::new();
    for i in 0..400 {
        maps.push_str(&" ".repeat(i));
        maps.push_str("a:\n");
    }
    assert_too_deep("maps.yaml", &maps);
}

#[test]
fn yaml_syntax_errors_are_located_and_earlier_documents_kept() {
    let good = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\n";
    // tab indentation
    let (out, sources) = load(
        "tab.yaml",
        &format!("{good}apiVersion: v1\nkind: Pod\nmetadata:\n\tname: b\n"),
    );
    assert_eq!(codes(&out), vec!["E1001"]);
    let d = &out.diagnostics[0];
    assert!(d.message.starts_with("invalid yaml: "), "{}", d.message);
    assert!(!d.message.ends_with('.'));
    assert_eq!(sources.line_col(d.primary.as_ref().unwrap().span).0, 9);
    assert_eq!(out.objects.len(), 1);
    assert_eq!(out.stats.documents, 2);
    assert_eq!(out.stats.skipped, vec![(SkipReason::Malformed, 1)]);
    assert_invariant(&out);
    // unterminated quote
    let (out, sources) = load(
        "quote.yaml",
        &format!("{good}apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"b\n"),
    );
    assert_eq!(codes(&out), vec!["E1001"]);
    let (line, _) = sources.line_col(out.diagnostics[0].primary.as_ref().unwrap().span);
    assert!(line >= 8, "line {line}");
    assert_eq!(out.objects.len(), 1);
    assert_invariant(&out);
}

#[test]
fn empty_comment_only_and_non_kubernetes_documents_are_counted() {
    let (out, _) = load("empty.yaml", "");
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.stats.documents, 1);
    assert_eq!(out.stats.skipped, vec![(SkipReason::Empty, 1)]);
    let (out, _) = load("comments.yaml", "# nothing here\n# at all\n");
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.stats.skipped, vec![(SkipReason::Empty, 1)]);
    let (out, sources) = load("values.yaml", "null\n---\nreplicas: 3\nimage: nginx\n");
    assert_eq!(codes(&out), vec!["W1003"]);
    assert_eq!(
        sources.line_col(out.diagnostics[0].primary.as_ref().unwrap().span),
        (3, 1)
    );
    assert_eq!(
        out.stats.skipped,
        vec![(SkipReason::Empty, 1), (SkipReason::NotKubernetes, 1)]
    );
    assert_invariant(&out);
}

#[test]
fn crlf_and_non_ascii_spans_are_byte_exact() {
    let text = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: café-ünï\r\ndata:\r\n  ключ: значение\r\n  k: x\r\n";
    let (out, sources) = load("crlf.yaml", text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let doc = &out.docs[0];
    let k = doc.path(doc.root, &["data", "k"]).unwrap();
    assert_eq!(sources.slice(doc.node(k).unwrap().span), "x");
    assert_eq!(sources.line_col(doc.node(k).unwrap().span), (7, 6));
    let v = doc.path(doc.root, &["data", "ключ"]).unwrap();
    assert_eq!(sources.slice(doc.node(v).unwrap().span), "значение");
    assert_eq!(
        sources.slice(doc.node(v).unwrap().key_span.unwrap()),
        "ключ"
    );
    assert_eq!(
        doc.str_at(doc.root, &["metadata", "name"]),
        Some("café-ünï")
    );
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("kanon-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn directory_with_good_and_bad_files() {
    let dir = TempDir::new("dir");
    dir.write("a/good.yaml", POD.as_bytes());
    dir.write("b/binary.yaml", b"apiVersion: v1\0\x01\x02");
    dir.write(
        "c/latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: caf\xe9\n",
    );
    dir.write("d/empty.yml", b"");
    dir.write("e/bad.json", b"{\"kind\": ");
    dir.write("f/notes.txt", b"not yaml: [");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(POD.as_bytes());
    dir.write("g/bom.yaml", &bom);
    let mut utf16 = vec![0xFF, 0xFE];
    for u in POD.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    dir.write("h/utf16.yaml", &utf16);
    let missing = dir.0.join("missing.yaml").display().to_string();
    let mut sources = SourceMap::new();
    let out = Loader::default().load_paths(&[dir.0.display().to_string(), missing], &mut sources);
    // good.yaml, bom.yaml and utf16.yaml load
    assert_eq!(out.objects.len(), 3, "{:#?}", out.diagnostics);
    let names: Vec<&str> = out
        .objects
        .iter()
        .map(|o| sources.name(out.docs[o.doc as usize].file))
        .collect();
    assert!(
        names[0].ends_with("good.yaml")
            && names[1].ends_with("bom.yaml")
            && names[2].ends_with("utf16.yaml"),
        "{names:?}"
    );
    // spans of the BOM file are valid against the registered text
    let bom_doc = &out.docs[out.objects[1].doc as usize];
    let p = bom_doc.path(bom_doc.root, &["metadata", "name"]).unwrap();
    assert_eq!(sources.slice(bom_doc.node(p).unwrap().span), "web");
    assert_eq!(sources.line_col(bom_doc.node(p).unwrap().span), (4, 9));
    let mut c = codes(&out);
    c.sort_unstable();
    assert_eq!(c, vec!["E1002", "E1004", "E1004", "E1004"]);
    for d in &out.diagnostics {
        assert!(!d.message.ends_with('.'), "{}", d.message);
    }
    let binary = out
        .diagnostics
        .iter()
        .find(|d| d.message.contains("binary"))
        .unwrap();
    assert!(binary.message.contains("binary.yaml"));
    let latin1 = out
        .diagnostics
        .iter()
        .find(|d| d.message.contains("UTF-8"))
        .unwrap();
    assert!(latin1.message.contains("latin1.yaml"));
    assert_eq!(
        sources.line_col(latin1.primary.as_ref().unwrap().span),
        (4, 9)
    );
    assert!(
        out.diagnostics
            .iter()
            .any(|d| d.message.contains("missing.yaml"))
    );
    // 7 files under the dir (notes.txt is not an input) + the missing one
    assert_eq!(out.stats.files, 8);
    assert_eq!(
        out.stats.skipped,
        vec![
            (SkipReason::Empty, 1),
            (SkipReason::Malformed, 3),
            (SkipReason::Unreadable, 1)
        ]
    );
    assert_eq!(out.stats.documents, 8);
    assert_invariant(&out);
}

#[test]
fn too_large_file_is_skipped() {
    let dir = TempDir::new("large");
    let f = dir.write("big.yaml", POD.as_bytes());
    let mut sources = SourceMap::new();
    let loader = Loader::new(kanon::model::Limits {
        max_file_bytes: 10,
        ..Default::default()
    });
    let out = loader.load_paths(&[f], &mut sources);
    assert_eq!(codes(&out), vec!["E1003"]);
    assert!(out.diagnostics[0].message.contains("big.yaml"));
    assert_eq!(
        out.diagnostics[0].help.as_deref(),
        Some("`--max-file-size` raises the limit (`2G`, `800M`)")
    );
    assert_eq!(out.stats.skipped, vec![(SkipReason::LimitExceeded, 1)]);
}

#[test]
fn explicitly_named_file_is_read_whatever_its_extension() {
    let dir = TempDir::new("ext");
    let f = dir.write("pod.txt", POD.as_bytes());
    let mut sources = SourceMap::new();
    let out = Loader::default().load_paths(&[f], &mut sources);
    assert_eq!(out.objects.len(), 1);
}

/// Throughput check: `cargo test --release --test suite -- --ignored --nocapture model_load::throughput`.
#[test]
#[ignore = "timing; run in release"]
fn throughput() {
    let mut json = String::from("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    let item = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-\u00e9","labels":{"app":"web","tier":"frontend"}},"spec":{"containers":[{"name":"app","image":"nginx:1.25","ports":[{"containerPort":8080}],"securityContext":{"privileged":false,"runAsUser":1000}}]}}"#;
    for i in 0..200_000 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(item);
    }
    json.push_str("]}");
    let mut yaml = String::new();
    for _ in 0..50_000 {
        yaml.push_str("---\n");
        yaml.push_str(POD);
    }
    for (name, text) in [("big.json", json), ("big.yaml", yaml)] {
        let mb = text.len() as f64 / 1e6;
        let mut sources = SourceMap::new();
        let t = std::time::Instant::now();
        let out = Loader::default().load_text(name, text, &mut sources);
        let secs = t.elapsed().as_secs_f64();
        assert!(!out.has_errors());
        println!(
            "{name}: {mb:.1} MB, {} objects, {:.0} MB/s",
            out.objects.len(),
            mb / secs
        );
    }
}

/// Strings that are verbatim in the text are ranges of it; only decoded ones are copied.
#[test]
fn verbatim_strings_are_not_copied() {
    let text = "apiVersion: v1
kind: ConfigMap
metadata:
  name: 'cm'
  namespace: \"ns\"
data:
  plain: just text
  escaped: \"tab\\there\"
  doubled: 'it''s'
  folded: >
    two
    lines
  key with spaces: value
";
    let (out, _) = load("cm.yaml", text);
    let doc = &out.docs[0];
    let data = doc.get(doc.root, "data").unwrap();
    let s = |k: &str| doc.str(doc.get(data, k).unwrap()).unwrap();
    assert_eq!(s("plain"), "just text");
    assert_eq!(s("escaped"), "tab\there");
    assert_eq!(s("doubled"), "it's");
    assert_eq!(s("folded"), "two lines\n");
    assert_eq!(s("key with spaces"), "value");
    assert_eq!(doc.str_at(doc.root, &["metadata", "name"]), Some("cm"));
    // only the three decoded values are held by the document itself
    let decoded = "tab\there".len() + "it's".len() + "two lines\n".len();
    assert_eq!(doc.owned_bytes(), decoded);
}

/// Every form of key is found by its string and keeps its exact span: plain, quoted, with
/// escapes, non-string, explicit, an alias, longer than 4,095 bytes, far from its value.
#[test]
fn keys_are_found_whatever_their_form() {
    let long = "k".repeat(4100);
    let comments = "# a comment that puts the value far from its key\n".repeat(200);
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n odd\ndata:\n  plain: a\n  \"double\": b\n  'single': c\n  \"esc\\x61ped\": d\n  'it''s': e\n  1: f\n  0x1F: f2\n  ? complex\n  : h\n  *n : alias\n  ? {long}\n  : i\n  far:\n{comments}    j\n  \"\": empty\n"
    );
    let (out, sources) = load("keys.yaml", &text);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let doc = &out.docs[0];
    let data = doc.get(doc.root, "data").unwrap();
    let keys: Vec<&str> = doc.map(data).iter().map(|(k, _)| k).collect();
    let expected = [
        ("plain", "a", "plain"),
        ("double", "b", "\"double\""),
        ("single", "c", "'single'"),
        ("escaped", "d", "\"esc\\x61ped\""),
        ("it's", "e", "'it''s'"),
        ("1", "f", "1"),
        ("0x1F", "f2", "0x1F"),
        ("complex", "h", "complex"),
        ("odd", "alias", "*n"),
        (long.as_str(), "i", long.as_str()),
        ("far", "j", "far"),
        ("", "empty", "\"\""),
    ];
    assert_eq!(keys, expected.iter().map(|e| e.0).collect::<Vec<_>>());
    for (key, value, written) in expected {
        let v = doc.get(data, key);
        assert_eq!(v.and_then(|v| doc.str(v)), Some(value), "{key:.20}");
        let span = doc.key_span(v.unwrap()).unwrap();
        assert_eq!(sources.slice(span), written, "{key:.20}");
    }
    // a key is found by its string, never by how it is written
    for written in [
        "\"double\"",
        "'single'",
        "esc\\x61ped",
        "it''s",
        "*n",
        "\"\"",
    ] {
        assert_eq!(doc.get(data, written), None, "{written}");
    }
    let json = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {\"a\\u0062c\": \"1\", \"\\\"q\\\"\": \"2\", \"plain\": \"3\"}}";
    let (out, sources) = load("keys.json", json);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let doc = &out.docs[0];
    let data = doc.get(doc.root, "data").unwrap();
    for (key, value, written) in [
        ("abc", "1", "\"a\\u0062c\""),
        ("\"q\"", "2", "\"\\\"q\\\"\""),
        ("plain", "3", "\"plain\""),
    ] {
        let v = doc.get(data, key).unwrap();
        assert_eq!(doc.str(v), Some(value));
        assert_eq!(sources.slice(doc.key_span(v).unwrap()), written);
    }
    assert_eq!(doc.get(data, "a\\u0062c"), None);
    assert_eq!(doc.get(data, "\"plain\""), None);
    // JSON keys far from their value and longer than a node holds, a duplicate key, empty
    // collections, nested: read as the reader lays them out
    let far = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {{\"far\"{}: {{\"x\": []}}, \"{long}\": {{}}, \"d\": 1, \"d\": [2, {{\"e\": \"3\"}}]}}}}",
        " ".repeat(9000)
    );
    let (out, sources) = load("far.json", &far);
    assert_eq!(codes(&out), vec!["W1001"]);
    let doc = &out.docs[0];
    let data = doc.get(doc.root, "data").unwrap();
    let keys: Vec<&str> = doc.map(data).iter().map(|(k, _)| k).collect();
    assert_eq!(keys, vec!["far", long.as_str(), "d"]);
    let f = doc.get(data, "far").unwrap();
    assert_eq!(sources.slice(doc.key_span(f).unwrap()), "\"far\"");
    assert!(doc.get(f, "x").is_some());
    let l = doc.get(data, &long).unwrap();
    assert_eq!(
        sources.slice(doc.key_span(l).unwrap()).len(),
        long.len() + 2
    );
    let d = doc.get(data, "d").unwrap();
    let Some(Value::Seq(items)) = doc.value(d) else {
        panic!("{:?}", doc.value(d))
    };
    assert_eq!(doc.str_at(items[1], &["e"]), Some("3"));
    // every node is reached from the root once: nothing the duplicate replaced is kept
    let mut seen = 0;
    let mut work = vec![doc.root];
    while let Some(n) = work.pop() {
        seen += 1;
        match doc.value(n) {
            Some(Value::Map(m)) => work.extend(m.iter().map(|(_, c)| c)),
            Some(Value::Seq(s)) => work.extend(s.iter().copied()),
            _ => {}
        }
    }
    assert_eq!(seen, doc.len());
}
