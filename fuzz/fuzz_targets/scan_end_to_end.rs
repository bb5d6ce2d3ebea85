//! Load, build the graph and run the bundled ruleset through the executor on arbitrary
//! input; the reference evaluator must agree.
#![no_main]

use kanon::check::fs::RuleFs;
use kanon::check::ir::Program;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use kanon::plan::physical::PhysicalPlan;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn compiled() -> &'static (Program, PhysicalPlan) {
    static P: OnceLock<(Program, PhysicalPlan)> = OnceLock::new();
    P.get_or_init(|| {
        let mut fs = RuleFs::new();
        let entry = kanon::bundled::add_to(&mut fs);
        let mut sources = SourceMap::new();
        let program = compile(&fs, &entry, &Overrides::new(), &mut sources).program;
        let (plan, _) = kanon::plan::plan(&program);
        (program, plan)
    })
}

fuzz_target!(|data: &[u8]| {
    let (program, plan) = compiled();
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = SourceMap::new();
    let load = Loader::default().load_text("input.yaml", text, &mut sources);
    let graph = Graph::build(load, &GraphOptions::default());
    let mut fast = kanon::eval::exec::execute(program, plan, &graph, &sources).findings;
    let mut slow = kanon::eval::reference::evaluate(program, &graph, &sources);
    for f in fast.iter_mut().chain(slow.iter_mut()) {
        f.evidence.sort();
    }
    assert_eq!(fast, slow);
});
