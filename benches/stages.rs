//! Criterion benchmarks of the pipeline's stages: compiling the bundled ruleset, loading
//! YAML, building the graph, and evaluating the bundled ruleset, on a generated cluster
//! of 5,000 Deployments and 500 NetworkPolicies.
//!
//! `cargo bench --bench stages`. Whole-run figures with memory are in `scripts/bench.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use std::hint::black_box;

mod common;

fn stages(c: &mut Criterion) {
    let text = common::cluster(5_000);
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.bench_function("compile_bundled_ruleset", |b| {
        b.iter(|| {
            let mut fs = RuleFs::new();
            let entry = kanon::bundled::add_to(&mut fs);
            let mut sources = SourceMap::new();
            black_box(compile(&fs, &entry, &Overrides::new(), &mut sources))
        })
    });
    g.bench_function("load_yaml_5k", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            black_box(Loader::default().load_text("c.yaml", text.clone(), &mut sources))
        })
    });
    let mut sources = SourceMap::new();
    let loaded = || {
        let mut s = SourceMap::new();
        Loader::default().load_text("c.yaml", text.clone(), &mut s)
    };
    g.bench_function("graph_build_5k", |b| {
        b.iter_batched(
            loaded,
            |l| black_box(Graph::build(l, &GraphOptions::default())),
            criterion::BatchSize::LargeInput,
        )
    });
    let mut fs = RuleFs::new();
    let entry = kanon::bundled::add_to(&mut fs);
    let program = compile(&fs, &entry, &Overrides::new(), &mut sources).program;
    let (plan, _) = kanon::plan::plan(&program);
    let load = Loader::default().load_text("c.yaml", text.clone(), &mut sources);
    let graph = Graph::build(load, &GraphOptions::default());
    g.bench_function("evaluate_bundled_5k", |b| {
        b.iter(|| {
            black_box(kanon::eval::exec::execute(
                &program, &plan, &graph, &sources,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
