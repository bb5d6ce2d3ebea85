//! Builds graphs from YAML text for unit tests, with the real loader.

use super::{Graph, GraphOptions};
use crate::diag::SourceMap;
use crate::model::{LoadOutput, Loader};

/// Loads YAML documents (`---` separated), `List` items included.
pub fn load(text: &str) -> (LoadOutput, SourceMap) {
    let mut sources = SourceMap::new();
    let out = Loader::default().load_text("test.yaml", text.to_owned(), &mut sources);
    (out, sources)
}

/// A graph of YAML documents with the default options.
pub fn graph(text: &str) -> Graph {
    Graph::build(load(text).0, &GraphOptions::default())
}

/// A graph and its source map.
pub fn graph_with_sources(text: &str) -> (Graph, SourceMap) {
    let (out, sources) = load(text);
    (Graph::build(out, &GraphOptions::default()), sources)
}
