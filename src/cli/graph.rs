//! `kanon graph`: write the resource graph for people (DOT) and tools (JSON).

use super::Color;
use crate::diag::SourceMap;
use crate::graph::{Graph, GraphOptions, export};
use crate::model::Loader;
use clap::ValueEnum;

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// JSON nodes and edges.
    Json,
}

pub(super) fn run(
    paths: &[String],
    format: GraphFormat,
    color: Color,
    limits: crate::limits::Limits,
) -> u8 {
    let mut sources = SourceMap::new();
    let load = Loader::new(limits).load_paths(paths, &mut sources);
    let graph = Graph::build(load, &GraphOptions::default());
    let mut diags = graph.load.diagnostics.clone();
    diags.extend(graph.diagnostics.iter().cloned());
    let mut err = color.stderr();
    let _ = crate::report::diagnostics::emit(&mut err, &sources, &diags);
    match format {
        GraphFormat::Dot => super::out(&export::to_dot(&graph)),
        GraphFormat::Json => {
            // a closed standard output ends the export early; it is not an error
            let _ = write_json(&mut std::io::stdout().lock(), &graph);
        }
    }
    if diags.iter().any(|d| d.is_error()) {
        2
    } else {
        0
    }
}

/// Writes the pretty JSON of [`export::to_json`] and a line break, an item at a time rather
/// than as one value (at 100k objects the value took 600 MB): the keys in serde_json's
/// order, each array's items indented to their depth.
fn write_json(w: &mut dyn std::io::Write, graph: &Graph) -> std::io::Result<()> {
    let arrays: [(&str, Box<dyn Iterator<Item = serde_json::Value> + '_>); 3] = [
        ("dangling", Box::new(export::json_dangling(graph))),
        ("edges", Box::new(export::json_edges(graph))),
        ("nodes", Box::new(export::json_nodes(graph))),
    ];
    for (i, (key, items)) in arrays.into_iter().enumerate() {
        let open = if i == 0 { "{\n  " } else { ",\n  " };
        write!(w, "{open}\"{key}\": ")?;
        crate::report::pretty_array(w, items, b"\n    ", b"\n  ")?;
    }
    w.write_all(b"\n}\n")?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_export_is_the_pretty_value() {
        let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec: {selector: {app: web}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: i, envFrom: [{secretRef: {name: gone}}]}]\n";
        for text in ["", yaml] {
            let mut sources = SourceMap::new();
            let load = Loader::default().load_text("g.yaml", text.to_string(), &mut sources);
            let graph = Graph::build(load, &GraphOptions::default());
            let mut expected = serde_json::to_vec_pretty(&export::to_json(&graph)).unwrap();
            expected.push(b'\n');
            let mut out = Vec::new();
            write_json(&mut out, &graph).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
