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
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const RULE: &str = r#"
rule B-001 workload-not-isolated {
  severity medium
  for w in workloads
  where not exists np in networkpolicies(w.namespace) where np selects w
  report at w "{w.name}"
}
"#;

/// `n` Deployments over `n / 50` namespaces and `n / 10` NetworkPolicies with label and
/// expression selectors; deterministic.
fn cluster(n: usize) -> String {
    let namespaces = (n / 50).max(1);
    let mut y = String::with_capacity(n * 600);
    for i in 0..n {
        let ns = i % namespaces;
        let app = mix(i) % 40;
        let _ = write!(
            y,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: ns{ns}\nspec:\n  selector:\n    matchLabels:\n      app: a{app}\n  template:\n    metadata:\n      labels:\n        app: a{app}\n        tier: t{}\n    spec:\n      containers:\n        - name: c\n          image: registry.example.com/app:1.{i}\n",
            i % 3
        );
    }
    for j in 0..n / 10 {
        let ns = j % namespaces;
        // about half of the workloads end up selected by no policy
        let sel = if j % 5 != 0 {
            format!(
                "    matchLabels:\n      app: a{}\n",
                mix(j + 1_000_000) % 40
            )
        } else {
            format!(
                "    matchExpressions:\n      - key: tier\n        operator: In\n        values: [t{}]\n      - key: app\n        operator: NotIn\n        values: [a{}]\n",
                j % 3,
                j % 40
            )
        };
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{j}\n  namespace: ns{ns}\nspec:\n  podSelector:\n{sel}"
        );
    }
    y
}

/// A fixed pseudo-random mix, so the generated cluster is the same on every run.
fn mix(x: usize) -> usize {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 31;
    (h % 1_000_003) as usize
}

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
