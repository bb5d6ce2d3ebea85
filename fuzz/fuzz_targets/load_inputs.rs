//! The YAML and JSON loaders and the graph builder on arbitrary bytes.
#![no_main]

use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    for name in ["input.yaml", "input.json"] {
        let mut sources = SourceMap::new();
        let load = Loader::default().load_text(name, text.clone(), &mut sources);
        let stats = load.stats.clone();
        let skipped: usize = stats.skipped.iter().map(|(_, n)| n).sum();
        assert!(skipped <= stats.documents);
        let _ = Graph::build(load, &GraphOptions::default());
    }
});
