//! Scaling of the "workload not selected by any NetworkPolicy" rule: 10 times more
//! workloads and policies should cost about 10 times, not 100 times.
//!
//! `cargo bench --bench scaling` prints a table (medians of 7 runs). Run as a test
//! (`cargo test --benches`), it does one small round so it stays quick.

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::execute;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use std::time::{Duration, Instant};

mod common;
use common::cluster;

const RULE: &str = r#"
rule B-001 workload-not-isolated {
  severity medium
  for w in workloads
  where not exists np in networkpolicies(w.namespace) where np selects w
  report at w "{w.name}"
}
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn measure(n: usize, runs: usize) -> (Duration, Duration, usize) {
    let mut fs = RuleFs::new();
    fs.add_embedded("b", "b.kanon", RULE);
    let entry = fs.embedded_rules("b");
    let mut sources = SourceMap::new();
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    let (plan, _) = kanon::plan::plan(&compiled.program);
    let text = cluster(n);
    let mut build = Vec::new();
    let mut eval = Vec::new();
    let mut findings = 0;
    for _ in 0..runs {
        let mut s = SourceMap::new();
        let t = Instant::now();
        let load = Loader::default().load_text("c.yaml", text.clone(), &mut s);
        let graph = Graph::build(load, &GraphOptions::default());
        build.push(t.elapsed());
        let t = Instant::now();
        findings = execute(&compiled.program, &plan, &graph, &s).findings.len();
        eval.push(t.elapsed());
    }
    (median(build), median(eval), findings)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (sizes, runs): (&[usize], usize) = if bench {
        (&[2_000, 20_000, 100_000], 7)
    } else {
        (&[200, 2_000], 1)
    };
    println!(
        "{:>9} {:>9} {:>14} {:>14} {:>9}",
        "workloads", "policies", "load+graph", "evaluate", "findings"
    );
    let mut prev: Option<(usize, Duration)> = None;
    for &n in sizes {
        let (build, eval, findings) = measure(n, runs);
        println!(
            "{n:>9} {:>9} {:>12.1}ms {:>12.2}ms {findings:>9}",
            n / 10,
            build.as_secs_f64() * 1e3,
            eval.as_secs_f64() * 1e3
        );
        if let Some((pn, pe)) = prev {
            let size_ratio = n as f64 / pn as f64;
            let time_ratio = eval.as_secs_f64() / pe.as_secs_f64().max(1e-9);
            println!(
                "          {size_ratio:.0}x the input: evaluation took {time_ratio:.1}x the time"
            );
        }
        prev = Some((n, eval));
    }
}
