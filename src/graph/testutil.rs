//! Builds graphs from YAML text for unit tests, without depending on the loader.
//! Spans are all empty; only values matter here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Deserialize;

use super::{Graph, GraphOptions};
use crate::model::{Document, LoadOutput, Node, NodeId, ObjectRef, Value};

fn push(doc: &mut Document, v: &serde_json::Value) -> NodeId {
    let value = match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::Str(s.as_str().into()),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(|i| push(doc, i)).collect()),
        serde_json::Value::Object(m) => Value::Map(
            m.iter()
                .map(|(k, i)| (k.as_str().into(), push(doc, i)))
                .collect(),
        ),
    };
    doc.nodes.push(Node {
        value,
        span: Default::default(),
        key_span: None,
        style: Default::default(),
    });
    NodeId::try_from(doc.nodes.len() - 1).unwrap()
}

/// Loads YAML documents (`---` separated) the way the loader would, `List` items included.
pub fn load(text: &str) -> LoadOutput {
    let mut out = LoadOutput::default();
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = serde_json::Value::deserialize(de).unwrap();
        if v.is_null() {
            continue;
        }
        let mut doc = Document::default();
        doc.root = push(&mut doc, &v);
        let id = u32::try_from(out.docs.len()).unwrap();
        let kind = doc.str_at(doc.root, &["kind"]).unwrap_or("");
        let items = doc.get(doc.root, "items");
        match items {
            Some(items) if kind.ends_with("List") => {
                for &i in doc.seq(items) {
                    out.objects.push(ObjectRef { doc: id, node: i });
                }
            }
            _ => out.objects.push(ObjectRef {
                doc: id,
                node: doc.root,
            }),
        }
        out.docs.push(doc);
    }
    out
}

/// A graph of YAML documents with the default options.
pub fn graph(text: &str) -> Graph {
    Graph::build(load(text), &GraphOptions::default())
}
