//! Golden `kanon explain` outputs: scans shared across rules and sub-queries turned into
//! index probes.

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::cli::explain::explain;
use kanon::diag::SourceMap;

const RULES: &str = r#"
rule T-001 not-isolated {
  severity medium
  for w in workloads
  where not exists np in networkpolicies(w.namespace) where np selects w
  report at w "{w.name}"
}

rule T-002 missing-service-account {
  severity low
  for w in workloads, c in w.containers
  where c.securityContext.privileged == true
    and not exists sa in serviceaccounts(w.namespace) where sa.name == w.serviceAccountName
  report at c.name "{c.name}"
}

rule T-003 exposed-admin {
  severity high
  for w in workloads
  where exists s in services where s selects w and s.spec.type == "LoadBalancer"
    and any b in w.bindings where b.role.name == "cluster-admin"
  report at w "{w.name}"
}
"#;

fn program() -> kanon::check::ir::Program {
    compiled(RULES)
}

/// The program of one rule file, which must compile without a diagnostic.
fn compiled(text: &str) -> kanon::check::ir::Program {
    let mut fs = RuleFs::new();
    fs.add_embedded("t", "t.kanon", text);
    let entry = fs.embedded_rules("t");
    let mut sources = SourceMap::new();
    let c = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    c.program
}

#[test]
fn label_index_probe_and_shared_scan() {
    let out = explain(&program(), "T-001", true).unwrap().unwrap();
    assert!(
        out.contains("AntiJoin np in probe label-index[NetworkPolicy selecting w]"),
        "{out}"
    );
    assert!(
        out.contains("shared scan of workloads feeds 3 rules: T-001, T-002, T-003"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn name_index_probe_and_pushdown() {
    let out = explain(&program(), "T-002", true).unwrap().unwrap();
    // the anti-join depends only on `w`, so it runs once per workload, below the unnest
    assert!(
        out.contains("name-index[ServiceAccount ns=w.namespace name=w.serviceAccountName]"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn semi_join_with_residual_filter() {
    let out = explain(&program(), "T-003", false).unwrap().unwrap();
    assert!(out.contains("SemiJoin s in probe label-index[Service selecting w] on s.spec.type == \"LoadBalancer\""), "{out}");
    insta::assert_snapshot!(out);
}

/// Rules over the Cilium and Calico policy kinds, whose selection edges the graph holds too.
const POLICY_RULES: &str = r#"
rule P-001 not-isolated-by-cilium {
  severity low
  for w in workloads
  where not (exists p in ciliumnetworkpolicies(w.namespace) where p selects w)
  report at w "{w.name}"
}

rule P-002 isolated-by-global {
  severity low
  for w in workloads
  where exists g in globalnetworkpolicies where g selects w and g.isolatesEgress
  report at w "{w.name}"
}
"#;

#[test]
fn label_index_probe_for_every_policy_kind() {
    let program = compiled(POLICY_RULES);
    let out = explain(&program, "P-001", false).unwrap().unwrap();
    // a namespaced policy selects only in its namespace: no residual namespace check
    assert!(
        out.contains("AntiJoin p in probe label-index[CiliumNetworkPolicy selecting w]\n"),
        "{out}"
    );
    let out = explain(&program, "P-002", false).unwrap().unwrap();
    assert!(
        out.contains(
            "SemiJoin g in probe label-index[GlobalNetworkPolicy selecting w] on g.isolatesEgress"
        ),
        "{out}"
    );
}

/// Sub-expressions the plan keeps: one read twice, one invariant inside a quantifier's
/// loop; never one that reads the quantifier's variable.
const KEPT_RULES: &str = r#"
rule M-001 kept {
  severity low
  for w in workloads, c in w.containers
  where (c.securityContext.runAsUser ?? 0) < 1000 and (c.securityContext.runAsUser ?? 0) != 7
    and any e in c.env where e.name == (w.metadata.annotations["env"] ?? "")
  report at c "{c.name}"
}
"#;

#[test]
fn kept_subexpressions_are_listed() {
    let program = compiled(KEPT_RULES);
    let out = explain(&program, "M-001", true).unwrap().unwrap();
    assert!(
        out.contains("kept #0: c.securityContext.runAsUser ?? 0\n"),
        "{out}"
    );
    assert!(
        out.contains("kept #1: w.metadata.annotations[\"env\"] ?? \"\"\n"),
        "{out}"
    );
    assert!(!out.contains("kept #2"), "{out}");
    insta::assert_snapshot!(out);
}
