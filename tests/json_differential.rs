//! The JSON reader against serde_json on generated documents: nested objects and arrays,
//! empty ones, keys with escapes, non-ASCII and empty keys, duplicate keys, every scalar,
//! written compact and pretty, read whole and (for a `List`) in parallel pieces. Every value
//! is found by its key, every key span is the key as written, and without a repeated key
//! every node kept is reached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::model::{Document, Loader, NodeId, Value};
use proptest::prelude::*;
use serde_json::Value as J;

/// A JSON value with its text: objects may repeat a key (the last one counts).
#[derive(Clone, Debug)]
enum Gen {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<Gen>),
    Obj(Vec<(String, Gen)>),
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        Just(String::new()),
        "[a-zé\"\\\\/\t\u{1F600}]{1,4}",
        Just("x".repeat(5000)),
    ]
}

fn value() -> impl Strategy<Value = Gen> {
    let leaf = prop_oneof![
        Just(Gen::Null),
        any::<bool>().prop_map(Gen::Bool),
        any::<i64>().prop_map(Gen::Int),
        (-1.0e6f64..1.0e6).prop_map(Gen::Float),
        "[a-z \"\\\\é\n]{0,12}".prop_map(Gen::Str),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Gen::Arr),
            prop::collection::vec((key(), inner), 0..6).prop_map(Gen::Obj),
        ]
    })
}

/// The text of `g`: compact, or with a line break and indentation before each element and
/// spaces around each colon when `pretty`.
fn write(g: &Gen, pretty: bool, out: &mut String) {
    let sep = if pretty { "\n  " } else { "" };
    match g {
        Gen::Null => out.push_str("null"),
        Gen::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Gen::Int(i) => out.push_str(&i.to_string()),
        Gen::Float(f) => out.push_str(&serde_json::to_string(f).unwrap()),
        Gen::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
        Gen::Arr(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(sep);
                write(it, pretty, out);
            }
            out.push(']');
        }
        Gen::Obj(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(sep);
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push_str(if pretty { " : " } else { ":" });
                write(v, pretty, out);
            }
            out.push('}');
        }
    }
}

/// Checks the node against serde_json's value; returns the nodes it reaches.
fn same(doc: &Document, sources: &SourceMap, id: NodeId, j: &J) -> usize {
    let v = doc.value(id).unwrap();
    match (v, j) {
        (Value::Null, J::Null) => 1,
        (Value::Bool(a), J::Bool(b)) => {
            assert_eq!(a, *b);
            1
        }
        (Value::Int(a), J::Number(n)) => {
            assert_eq!(Some(a), n.as_i64(), "{n}");
            1
        }
        (Value::Float(a), J::Number(n)) => {
            // correctly rounded, as Go's `strconv.ParseFloat` (the API server's) reads it;
            // serde_json's default parse may be one unit in the last place off
            let written = sources.slice(doc.span(id).unwrap());
            assert_eq!(Some(a), written.parse::<f64>().ok(), "{written}");
            let b = n.as_f64().unwrap();
            assert!((a - b).abs() <= a.abs() * 1e-15, "{a} against {b}");
            1
        }
        (Value::Str(a), J::String(b)) => {
            assert_eq!(a, b);
            1
        }
        (Value::Seq(items), J::Array(js)) => {
            assert_eq!(items.len(), js.len());
            1 + items
                .iter()
                .zip(js)
                .map(|(&c, j)| same(doc, sources, c, j))
                .sum::<usize>()
        }
        (Value::Map(entries), J::Object(js)) => {
            assert_eq!(entries.len(), js.len());
            let mut reached = 1;
            for (k, j) in js {
                let c = entries
                    .get(k)
                    .unwrap_or_else(|| panic!("key {k:?} not found"));
                let span = doc.key_span(c).unwrap();
                assert_eq!(
                    serde_json::from_str::<String>(sources.slice(span)).unwrap(),
                    *k,
                    "key span of {k:?}"
                );
                reached += same(doc, sources, c, j);
            }
            // every entry's key, in the order iterated, is one of serde_json's
            for (k, _) in entries.iter() {
                assert!(js.contains_key(k), "{k:?}");
            }
            reached
        }
        (v, j) => panic!("{v:?} against {j}"),
    }
}

/// Whether an object of `g` repeats a key (the value it replaces may leave nodes behind
/// that nothing reaches, as a sequential read always did).
fn repeats_a_key(g: &Gen) -> bool {
    match g {
        Gen::Arr(items) => items.iter().any(repeats_a_key),
        Gen::Obj(entries) => {
            let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.windows(2).any(|w| w[0] == w[1]) || entries.iter().any(|(_, v)| repeats_a_key(v))
        }
        _ => false,
    }
}

/// Reads `text` (in pieces when `split`) and checks it against serde_json: the number of
/// pieces read.
fn check(text: &str, split: bool, repeats: bool) -> usize {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let (out, sources) = pool.install(|| {
        let loader = Loader {
            split_bytes: if split { 1 } else { usize::MAX },
            ..Loader::default()
        };
        let mut sources = SourceMap::new();
        let out = loader.load_text("gen.json", text.to_string(), &mut sources);
        (out, sources)
    });
    let j: J = serde_json::from_str(text).unwrap();
    assert_eq!(out.docs.len(), 1, "{:?}", out.diagnostics);
    let doc = &out.docs[0];
    let reached = same(doc, &sources, doc.root, &j);
    if !split && !repeats {
        // every node is reached, once
        assert_eq!(reached, doc.len());
    }
    out.pieces
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_documents_read_as_serde_json_reads_them(g in value(), pretty in any::<bool>()) {
        let mut text = String::new();
        write(&g, pretty, &mut text);
        prop_assert_eq!(check(&text, false, repeats_a_key(&g)), 0);
    }

    #[test]
    fn json_lists_read_in_pieces_as_serde_json_reads_them(
        items in prop::collection::vec(prop::collection::vec((key(), value()), 0..4), 2..12),
        pretty in any::<bool>(),
    ) {
        let list = Gen::Obj(vec![
            ("apiVersion".into(), Gen::Str("v1".into())),
            ("kind".into(), Gen::Str("List".into())),
            (
                "items".into(),
                Gen::Arr(
                    items
                        .into_iter()
                        .map(|mut entries| {
                            // long enough that the pieces fall between items
                            entries.insert(0, ("name".into(), Gen::Str("n".repeat(200))));
                            Gen::Obj(entries)
                        })
                        .collect(),
                ),
            ),
        ]);
        let mut text = String::new();
        write(&list, pretty, &mut text);
        // counted only when the items were cut into two pieces or more (one item much
        // longer than the others can keep them whole): 256 reads in pieces are checked
        let pieces = check(&text, true, true);
        prop_assume!(pieces > 1);
    }
}
