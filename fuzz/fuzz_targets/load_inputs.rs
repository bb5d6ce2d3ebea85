//! The YAML and JSON loaders and the graph builder on arbitrary bytes; and the parallel
//! reader of large `List`s and streams (forced on, whatever the size) against one pass.
#![no_main]

use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::{Document, LoadOutput, Loader, NodeId, Value};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;

/// Every value of a subtree with its span, key span and style, without node ids.
fn render(doc: &Document, id: NodeId, out: &mut String) {
    let Some(n) = doc.node(id) else {
        out.push('?');
        return;
    };
    let _ = write!(out, "<{:?} {:?} {:?}>", n.span, n.key_span, n.style);
    match n.value {
        Value::Seq(items) => {
            out.push('[');
            for &i in items {
                render(doc, i, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (k, v) in entries.iter() {
                let _ = write!(out, "{k:?}:");
                render(doc, v, out);
                out.push(',');
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

/// What a load produced, comparable between a split and a sequential read.
fn canonical(load: &LoadOutput) -> String {
    let mut out = format!("{:?}\n", load.stats);
    for d in &load.docs {
        let _ = write!(out, "doc {} {:?}: ", d.index, d.helm_source);
        render(d, d.root, &mut out);
        out.push('\n');
    }
    for o in &load.objects {
        let span = load.docs.get(o.doc as usize).and_then(|d| d.span(o.node));
        let _ = writeln!(out, "object {} {span:?}", o.doc);
    }
    for d in &load.diagnostics {
        let _ = writeln!(out, "{} {} {:?}", d.code, d.message, d.primary.as_ref().map(|l| l.span));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    for name in ["input.yaml", "input.json"] {
        let mut sources = SourceMap::new();
        let load = Loader::default().load_text(name, text.clone(), &mut sources);
        let stats = load.stats.clone();
        let skipped: usize = stats.skipped.iter().map(|(_, n)| n).sum();
        assert!(skipped <= stats.documents);
        let split = Loader {
            split_bytes: 1,
            ..Loader::default()
        }
        .load_text(name, text.clone(), &mut SourceMap::new());
        assert_eq!(canonical(&load), canonical(&split), "{name}: {text:?}");
        let _ = Graph::build(load, &GraphOptions::default());
    }
});
