//! Load, build the graph and run the bundled ruleset through the executor on arbitrary
//! input; the reference evaluator must agree.
#![no_main]

use kanon::check::{Overrides, compile};
use kanon::check::fs::RuleFs;
use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = SourceMap::new();
    let mut fs = RuleFs::new();
    let entry = kanon::bundled::add_to(&mut fs);
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    let load = Loader::default().load_text("input.yaml", text, &mut sources);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, _) = kanon::plan::plan(&compiled.program);
    let fast = kanon::eval::exec::execute(&compiled.program, &plan, &graph, &sources);
    let mut slow = kanon::eval::reference::evaluate(&compiled.program, &graph, &sources);
    let mut fast = fast.findings;
    for f in fast.iter_mut().chain(slow.iter_mut()) {
        f.evidence.sort();
    }
    assert_eq!(fast, slow);
});
