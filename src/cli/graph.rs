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
        GraphFormat::Json => super::out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&export::to_json(&graph)).unwrap_or_default()
        )),
    }
    if diags.iter().any(|d| d.is_error()) {
        2
    } else {
        0
    }
}
