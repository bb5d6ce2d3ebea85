//! Kept sub-expressions (`plan::memo`): the executor evaluates a repeated or loop-invariant
//! pure sub-expression once per row of the variables it reads. Its findings must be those
//! of the reference evaluator, which keeps nothing, whether the kept value reads the root
//! object, a later binding, or sits inside a quantifier.

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::execute;
use kanon::eval::reference;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use std::fmt::Write as _;

const RULES: &str = r#"
rule MEMO-001 per-container {
  severity low
  for w in workloads, c in w.containers
  where (c.securityContext.runAsUser ?? 0) < 1000 and (c.securityContext.runAsUser ?? 0) != 7
  report at c "`{c.name}` of `{w.name}` runs as a low user"
}

rule MEMO-002 per-workload {
  severity low
  for w in workloads, c in w.containers
  where (w.metadata.annotations["team"] ?? "none") != "none"
    and c.name != (w.metadata.annotations["team"] ?? "none")
  report at c "`{c.name}` of `{w.name}` is not named after its team"
}

rule MEMO-003 in-a-quantifier {
  severity low
  for w in workloads
  where any c in w.containers where c.image == (w.metadata.annotations["image"] ?? "")
  report at w "`{w.name}` runs its annotated image"
}

rule MEMO-004 quantifier-variable {
  severity low
  for w in workloads
  where any c in w.containers where c.securityContext.privileged == true and c.securityContext.privileged != false
  report at w "`{w.name}` has a privileged container"
}
"#;

/// Deployments with several containers each, whose users, names, images and annotations
/// differ from one workload and one container to the next.
fn cluster() -> String {
    let mut yaml = String::new();
    for d in 0..150 {
        let team = match d % 3 {
            0 => "",
            1 => "team: c1\n    ",
            _ => "team: web\n    ",
        };
        let _ = write!(
            yaml,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{d}\n  namespace: ns{}\n  annotations:\n    {team}image: img{}\nspec:\n  template:\n    spec:\n      containers:\n",
            d % 4,
            (2 * d) % 5
        );
        for c in 0..(1 + d % 4) {
            let user = [0, 7, 999, 1000, 5000][(d + c) % 5];
            let privileged = (d + c) % 7 == 0;
            let _ = write!(
                yaml,
                "      - name: c{c}\n        image: img{}\n        securityContext: {{runAsUser: {user}, privileged: {privileged}}}\n",
                (d + c) % 5
            );
        }
    }
    yaml
}

#[test]
fn kept_subexpressions_give_the_reference_findings() {
    let mut sources = SourceMap::new();
    let mut fs = RuleFs::default();
    fs.add_embedded("memo", "memo.kanon", RULES);
    let entry = fs.embedded_rules("memo");
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let load = Loader::default().load_text("cluster.yaml", cluster(), &mut sources);
    assert!(!load.has_errors(), "{:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&compiled.program);
    assert!(errors.is_empty(), "{errors:?}");

    // the plan keeps what it should: a sub-expression of a binding's variable (001), of
    // the root only (002, 003); never one that reads a quantifier's variable (004)
    let slots = |id: &str| {
        let index = compiled
            .program
            .rules
            .iter()
            .position(|r| r.id == id)
            .expect("rule");
        plan.rules()
            .find(|r| r.rule == index)
            .map(|r| r.memo_slots)
            .expect("planned")
    };
    assert_eq!(
        [
            slots("MEMO-001"),
            slots("MEMO-002"),
            slots("MEMO-003"),
            slots("MEMO-004")
        ],
        [1, 1, 1, 0]
    );

    let optimized = execute(&compiled.program, &plan, &graph, &sources).findings;
    let naive = reference::evaluate(&compiled.program, &graph, &sources);
    assert_eq!(optimized, naive);
    let count = |id: &str| optimized.iter().filter(|f| &*f.rule.id == id).count();
    // users 0 and 999 of the cycle 0, 7, 999, 1000, 5000: two containers in five
    let containers: usize = (0..150).map(|d| 1 + d % 4).sum();
    let low = (0..150usize)
        .flat_map(|d| (0..1 + d % 4).map(move |c| (d + c) % 5))
        .filter(|u| [0, 2].contains(u))
        .count();
    assert_eq!(count("MEMO-001"), low, "{containers} containers");
    // a kept value of one workload is not another's: teams c1 and web, each container
    // but `c1` of the `c1` team
    let named: usize = (0..150usize)
        .filter(|d| d % 3 != 0)
        .map(|d| 1 + d % 4 - usize::from(d % 3 == 1 && d % 4 >= 1))
        .sum();
    assert_eq!(count("MEMO-002"), named);
    let annotated = (0..150usize)
        .filter(|d| (0..1 + d % 4).any(|c| (d + c) % 5 == (2 * d) % 5))
        .count();
    assert_eq!(count("MEMO-003"), annotated);
}
