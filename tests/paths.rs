//! Relations over random RBAC graphs: the executor (semi-naive rounds, hash indexes) and
//! the reference evaluator (naive rounds, scans) must give identical findings and paths,
//! step for step and in order, for the bundled attack-path rules and for relations
//! written here (self-loops, non-linear recursion, recursion inside `where`, negation of
//! a lower stratum).

use crate::common;
use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::execute;
use kanon::eval::{Finding, reference};
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use proptest::prelude::*;
use std::fmt::Write as _;

const NAMESPACES: &[&str] = &["a", "b", "kube-system"];

/// Role rules: what a binding of each role grants.
const ROLES: &[(&str, &str)] = &[
    (
        "reads-secrets",
        "{apiGroups: [\"\"], resources: [secrets], verbs: [list]}",
    ),
    (
        "creates-pods",
        "{apiGroups: [\"\"], resources: [pods], verbs: [create]}",
    ),
    (
        "impersonates",
        "{apiGroups: [\"\"], resources: [serviceaccounts], verbs: [impersonate]}",
    ),
    (
        "mints-tokens",
        "{apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create]}",
    ),
    (
        "reads-configs",
        "{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}",
    ),
    (
        "binds",
        "{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings, clusterrolebindings], verbs: [create]}, {apiGroups: [rbac.authorization.k8s.io], resources: [roles, clusterroles], verbs: [bind]}",
    ),
    (
        "nodes-proxy",
        "{apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}",
    ),
];

#[derive(Clone, Debug)]
struct Rbac {
    /// Service accounts: (namespace, name index).
    sas: Vec<(usize, usize)>,
    /// Bindings: (cluster-wide, namespace, role (ROLES, then cluster-admin, then edit),
    /// subjects as indexes into `sas`).
    bindings: Vec<(bool, usize, usize, Vec<usize>)>,
    /// Pods: (service account, as an index into `sas`, token mounted, exposed).
    pods: Vec<(usize, bool, bool)>,
}

fn rbac() -> impl Strategy<Value = Rbac> {
    (
        prop::collection::vec((0..3usize, 0..4usize), 1..9),
        prop::collection::vec(
            (
                any::<bool>(),
                0..3usize,
                0..ROLES.len() + 2,
                prop::collection::vec(0..9usize, 1..4),
            ),
            1..10,
        ),
        prop::collection::vec((0..9usize, prop::bool::weighted(0.8), any::<bool>()), 0..5),
    )
        .prop_map(|(sas, bindings, pods)| Rbac {
            sas,
            bindings,
            pods,
        })
}

fn render(r: &Rbac) -> String {
    let ns = |i: usize| NAMESPACES.get(i % NAMESPACES.len()).copied().unwrap_or("a");
    let mut y = String::new();
    for (role, rule) in ROLES {
        let _ = write!(
            y,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {role}}}\nrules: [{rule}]\n"
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (n, s) in &r.sas {
        if seen.insert((*n, *s)) {
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa{s}, namespace: {}}}\n",
                ns(*n)
            );
        }
    }
    for (i, (cluster, n, role, subjects)) in r.bindings.iter().enumerate() {
        // past the end: the default ClusterRoles, whose rules are not in the input
        let role = ROLES
            .get(*role)
            .map(|(name, _)| *name)
            .unwrap_or(if *role == ROLES.len() {
                "cluster-admin"
            } else {
                "edit"
            });
        let mut subj = String::new();
        for s in subjects {
            if let Some((sn, sname)) = r.sas.get(*s) {
                let _ = writeln!(
                    subj,
                    "  - {{kind: ServiceAccount, name: sa{sname}, namespace: {}}}",
                    ns(*sn)
                );
            }
        }
        // people too: K03-020 follows paths from users and groups
        match i % 4 {
            0 => subj.push_str("  - {kind: User, name: dev}\n"),
            1 => subj.push_str("  - {kind: Group, name: ops}\n"),
            _ => {}
        }
        if subj.is_empty() {
            continue;
        }
        if *cluster {
            let _ = write!(
                y,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb{i}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects:\n{subj}"
            );
        } else {
            let _ = write!(
                y,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb{i}, namespace: {}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects:\n{subj}",
                ns(*n)
            );
        }
    }
    for (i, (s, mounted, exposed)) in r.pods.iter().enumerate() {
        let (n, sa) = r.sas.get(s % r.sas.len().max(1)).copied().unwrap_or((0, 0));
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {}, labels: {{app: p{i}}}}}\nspec:\n  serviceAccountName: sa{sa}\n  automountServiceAccountToken: {mounted}\n  containers: [{{name: c, image: example.com/c:1}}]\n",
            ns(n)
        );
        if *exposed {
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: p{i}, namespace: {}}}\nspec: {{type: LoadBalancer, selector: {{app: p{i}}}, ports: [{{port: 80}}]}}\n",
                ns(n)
            );
        }
    }
    y
}

/// Relations that exercise what the bundled ones do not: self-loops kept, a non-linear
/// closure (two recursive calls), recursion read inside `where` (evaluated naively in
/// both evaluators), a lower stratum negated, and a closure the executor computes only
/// from the service accounts of namespace `a` (source-restricted; the reference computes
/// it whole).
const OWN: &str = r#"
relation edge(a, b) {
  case {
    for a in serviceaccounts, bd in a.bindings, r in bd.role.rules, b in serviceaccounts
    where (bd.kind == "ClusterRoleBinding" or b.namespace == bd.namespace)
      and any v in r.verbs where v in ["list", "create", "impersonate"]
    step at r "`{a.name}` may {r.verbs} {r.resources} and so act as `{b.namespace}/{b.name}`"
  }
}

relation sa(a) {
  case {
    for a in serviceaccounts
  }
}

relation closure(a, b) {
  case {
    for a in sa(), b in edge(a)
  }
  case {
    for a in sa(), m in closure(a), b in closure(m)
  }
}

relation guarded(a, b) {
  case {
    for a in sa(), b in edge(a)
  }
  case {
    for a in sa(), b in serviceaccounts
    where exists m in edge(a) where guarded(m, b)
    step at b "via a guarded hop"
  }
}

relation lonely(a) {
  case {
    for a in sa()
    where not exists b in sa() where closure(b, a)
  }
}

relation from_a(a, b) {
  case {
    for a in sa(), b in edge(a)
  }
  case {
    for a in sa(), m in from_a(a), b in edge(m)
  }
}

rule OWN-004 from-namespace-a {
  severity low
  for a in serviceaccounts, b in from_a(a)
  where a.namespace == "a"
  report at a "`{a.name}` reaches `{b.namespace}/{b.name}`"
}

rule OWN-001 closure {
  severity low
  for a in serviceaccounts, b in closure(a)
  report at a "`{a.name}` reaches `{b.namespace}/{b.name}`"
}

rule OWN-002 guarded {
  severity low
  for a in serviceaccounts
  where exists b in guarded(a) where b.namespace != a.namespace
  report at a "`{a.name}` leaves its namespace"
}

rule OWN-003 lonely {
  severity low
  for a in serviceaccounts
  where lonely(a) and not closure(a, a)
  report at a "nobody reaches `{a.name}`"
}
"#;

fn both(yaml: &str, own: bool) -> (Vec<Finding>, Vec<Finding>) {
    both_with(own.then_some(OWN), yaml)
}

/// [`both`] with the given rules (the bundled ones for `None`).
fn both_with(rules: Option<&str>, yaml: &str) -> (Vec<Finding>, Vec<Finding>) {
    let mut sources = SourceMap::new();
    let mut fs = RuleFs::default();
    let entry = if let Some(rules) = rules {
        fs.add_embedded("own", "own.kanon", rules);
        fs.embedded_rules("own")
    } else {
        kanon::bundled::add_to(&mut fs)
    };
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let load = Loader::default().load_text("cluster.yaml", yaml.to_string(), &mut sources);
    assert!(!load.has_errors(), "{yaml}\n{:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&compiled.program);
    assert!(errors.is_empty(), "{errors:?}");
    let optimized = execute(&compiled.program, &plan, &graph, &sources).findings;
    let naive = reference::evaluate(&compiled.program, &graph, &sources);
    (normalize(optimized), normalize(naive))
}

/// The objects of an evidence chain come in the order each evaluator met them (compared
/// as a set, as `tests/differential.rs` does); the steps of a path must be the same, in
/// the same order.
fn normalize(mut f: Vec<Finding>) -> Vec<Finding> {
    for x in &mut f {
        let (mut objects, steps): (Vec<_>, Vec<_>) = std::mem::take(&mut x.evidence)
            .into_vec()
            .into_iter()
            .partition(|e| e.step.is_none());
        objects.sort();
        objects.extend(steps);
        x.evidence = objects.into();
    }
    f
}

fn paths_only(f: Vec<Finding>) -> Vec<Finding> {
    f.into_iter()
        .filter(|x| x.rule.id.starts_with("K03-01") || x.rule.id.starts_with("OWN"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn bundled_path_rules_agree(r in rbac()) {
        let yaml = render(&r);
        let (a, b) = both(&yaml, false);
        prop_assert_eq!(paths_only(a), paths_only(b), "{}", yaml);
    }

    #[test]
    fn own_relations_agree(r in rbac()) {
        let yaml = render(&r);
        let (a, b) = both(&yaml, true);
        prop_assert_eq!(a, b, "{}", yaml);
    }
}

fn steps(f: &Finding) -> Vec<String> {
    f.evidence.iter().filter_map(|e| e.step.clone()).collect()
}

#[test]
fn generated_cases_have_long_paths() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut long_bundled, mut long_own, mut cyclic, mut people) = (0, 0, 0, 0);
    for _ in 0..80 {
        let r = rbac()
            .new_tree(&mut runner)
            .expect("a generated graph")
            .current();
        let yaml = render(&r);
        let (bundled, _) = both(&yaml, false);
        people += bundled
            .iter()
            .filter(|f| &*f.rule.id == "K03-020" && steps(f).len() >= 2)
            .count();
        long_bundled += paths_only(bundled)
            .iter()
            .filter(|f| steps(f).len() >= 2)
            .count();
        let (own, _) = both(&yaml, true);
        long_own += own.iter().filter(|f| steps(f).len() >= 2).count();
        // a service account that reaches itself sits on a cycle (or a self-loop)
        cyclic += own
            .iter()
            .filter(|f| {
                &*f.rule.id == "OWN-001"
                    && f.message.to_string().contains(&format!(
                        "reaches `{}/{}`",
                        f.resource.namespace.as_deref().unwrap_or(""),
                        f.resource.name
                    ))
            })
            .count();
    }
    assert!(
        long_bundled > 0,
        "no bundled finding with a path of 2 steps"
    );
    assert!(
        long_own > 0,
        "no finding of the test relations with a path of 2 steps"
    );
    assert!(cyclic > 0, "no generated graph with a cycle");
    assert!(
        people > 0,
        "no K03-020 finding (a user or group) with a path of 2 steps"
    );
}

const SHORTCUT: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonates}
rules: [{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secrets, namespace: a}
rules: [{apiGroups: [""], resources: [secrets], verbs: [list]}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: start, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: hop1, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: hop2, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: goal, namespace: b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: start-secrets, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secrets}
subjects: [{kind: ServiceAccount, name: start, namespace: a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hops-impersonate}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonates}
subjects:
  - {kind: ServiceAccount, name: hop2, namespace: a}
  - {kind: ServiceAccount, name: hop1, namespace: a}
"#;

#[test]
fn the_shortest_path_is_reported_and_ties_are_broken_by_input_order() {
    let (exec, naive) = both(SHORTCUT, true);
    assert_eq!(exec, naive);
    let f = exec
        .iter()
        .find(|f| {
            &*f.rule.id == "OWN-001"
                && &*f.resource.name == "start"
                && f.message.to_string().contains("`b/goal`")
        })
        .expect("start reaches goal");
    // start → (secrets of a) hop1 or hop2 → (impersonate) goal: two steps, not three
    // through start → hop1 → hop2 → goal; of the two routes of length two, the one
    // through the object that comes first in the input (hop1)
    assert_eq!(
        steps(f),
        vec![
            "`start` may [list] [secrets] and so act as `a/hop1`".to_string(),
            "`hop1` may [impersonate] [serviceaccounts] and so act as `b/goal`".to_string(),
        ]
    );
}

/// Two cases that derive the same tuple in one round: the derivation kept is the one with
/// the smallest key (here the step's object, the one first in the input), whichever case
/// found it first, in both evaluators.
const TIE: &str = r#"
relation linked(a, b) {
  case {
    for a in serviceaccounts, b in serviceaccounts
    where a.name == "sa-x" and b.name == "sa-y"
    step at a "first case, at `{a.name}`"
  }
  case {
    for a in serviceaccounts, b in serviceaccounts
    where a.name == "sa-x" and b.name == "sa-y"
    step at b "second case, at `{b.name}`"
  }
}

rule TIE-001 linked {
  severity low
  for a in serviceaccounts, b in linked(a)
  report at a "`{a.name}` is linked to `{b.name}`"
}
"#;

#[test]
fn of_two_cases_deriving_a_tuple_in_one_round_the_smallest_key_wins() {
    let sa = |name: &str| {
        format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: a}}\n")
    };
    for (first, second, step) in [
        ("sa-x", "sa-y", "first case, at `sa-x`"),
        ("sa-y", "sa-x", "second case, at `sa-y`"),
    ] {
        let yaml = format!("{}---\n{}", sa(first), sa(second));
        let (exec, naive) = both_with(Some(TIE), &yaml);
        assert_eq!(exec, naive);
        assert_eq!(exec.len(), 1, "{exec:#?}");
        assert_eq!(
            steps(&exec[0]),
            vec![step.to_string()],
            "{first} then {second}"
        );
    }
}

#[test]
fn a_relation_read_from_a_first_binding_is_source_restricted() {
    let mut fs = RuleFs::default();
    fs.add_embedded("own", "own.kanon", OWN);
    let entry = fs.embedded_rules("own");
    let mut sources = SourceMap::new();
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    let p = &compiled.program;
    let r = kanon::plan::fixpoint::restrictions(p);
    let idx = |n: &str| p.relations.iter().position(|x| x.name == n).unwrap();
    // `from_a` is read only by OWN-004, from its first binding, filtered on it alone
    let seeds = r[idx("from_a")].as_ref().expect("from_a is restricted");
    assert_eq!(seeds.len(), 1);
    assert_eq!(seeds[0].filters.len(), 1);
    // `closure` is called by `lonely` with another first argument; `guarded` calls itself
    // with another first argument; `edge` is called by other relations
    assert!(r[idx("closure")].is_none());
    assert!(r[idx("guarded")].is_none());
    assert!(r[idx("edge")].is_none());
    let text = kanon::cli::explain::explain(p, "OWN-004", false)
        .unwrap()
        .unwrap();
    assert!(
        text.contains("Restrict from_a: first column only from the values the rules start from"),
        "{text}"
    );
}

#[test]
fn explain_shows_the_fixpoint_and_its_rounds_on_an_input() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kanon"))
        .args([
            "explain",
            "K03-015",
            "--input",
            "rulesets/owasp-k8s-top10/K03/K03-015-exposed-workload-reaches-cluster-admin.test.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Fixpoint stratum=3 relations=[reaches] recursive: rounds until no new fact (at most 16)",
        "Case reaches(a, b) #2 semi-naive: new facts of the last round through m in reaches(a)",
        "for b in acts_as(m) (hash index on (m))",
        "Restrict reaches: first column only from the values the rules start from",
        "reaches (17 facts) from 7 start values: 4 rounds, new facts per round [8, 7, 2, 0]",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
}

/// An input that cannot be read is reported as `scan` reports it, and the exit code says
/// so; the rounds are those of the rest of the input.
#[test]
fn explain_reports_the_inputs_it_could_not_read() {
    let bad = std::env::temp_dir().join(format!("kanon-explain-bad-{}.yaml", std::process::id()));
    std::fs::write(&bad, "a: [\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kanon"))
        .args([
            "explain",
            "K03-015",
            "--input",
            &bad.display().to_string(),
            "--input",
            "rulesets/owasp-k8s-top10/K03/K03-015-exposed-workload-reaches-cluster-admin.test.yaml",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&bad);
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
    assert!(err.contains("error[E1001]: invalid yaml"), "{err}");
    assert!(err.contains(&format!("{}:2:1", bad.display())), "{err}");
    assert!(
        err.contains("error: 1 input error (see above): the rounds are of the rest of the input"),
        "{err}"
    );
    assert!(
        text.contains("reaches (17 facts) from 7 start values: 4 rounds"),
        "{text}"
    );
    // a file over `--max-file-size` is one of them, and the error says how to raise it
    let fixture =
        "rulesets/owasp-k8s-top10/K03/K03-015-exposed-workload-reaches-cluster-admin.test.yaml";
    let with_limit = |size: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kanon"))
            .args([
                "explain",
                "K03-015",
                "--max-file-size",
                size,
                "--input",
                fixture,
            ])
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let small = with_limit("1k");
    let err = String::from_utf8_lossy(&small.stderr);
    assert_eq!(small.status.code(), Some(2), "{err}");
    assert!(err.contains("error[E1003]: file"), "{err}");
    assert!(err.contains("the limit is 1024"), "{err}");
    assert!(
        err.contains("help: `--max-file-size` raises the limit (`2G`, `800M`)"),
        "{err}"
    );
    let large = with_limit("1M");
    assert_eq!(large.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&large.stdout).contains("reaches (17 facts)"));
}

/// A chain of `n` service accounts, each in its own namespace and allowed (through a
/// RoleBinding of `impersonates`) to act as the next; the last is bound to cluster-admin.
fn chain(n: usize) -> String {
    rbac_chains(1, n, false, |_, i| format!("ns{i}"))
}

/// `count` chains as [`chain`] makes, `len` service accounts each (service account `i`
/// of chain `c` in namespace `ns(c, i)`), the last of each bound to cluster-admin; with
/// `pods`, a pod running as the first of each chain, nothing hardened.
fn rbac_chains(count: usize, len: usize, pods: bool, ns: fn(usize, usize) -> String) -> String {
    let mut y = String::from(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: impersonates}\nrules: [{apiGroups: [\"\"], resources: [serviceaccounts], verbs: [impersonate], resourceNames: []}]\n",
    );
    let mut admins = Vec::new();
    for c in 0..count {
        for i in 0..len {
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa{i}, namespace: {}}}\n",
                ns(c, i)
            );
            if i + 1 < len {
                // a RoleBinding in the next one's namespace: sa{i} acts as every service
                // account there, which is only sa{i+1}
                let _ = write!(
                    y,
                    "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: step{i}, namespace: {}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonates}}\nsubjects: [{{kind: ServiceAccount, name: sa{i}, namespace: {}}}]\n",
                    ns(c, i + 1),
                    ns(c, i)
                );
            }
        }
        if pods {
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {}}}\nspec: {{serviceAccountName: sa0, containers: [{{name: c, image: nginx}}]}}\n",
                ns(c, 0)
            );
        }
        admins.push(format!(
            "{{kind: ServiceAccount, name: sa{}, namespace: {}}}",
            len - 1,
            ns(c, len - 1)
        ));
    }
    let _ = write!(
        y,
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: admin}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects: [{}]\n",
        admins.join(", ")
    );
    y
}

#[test]
fn a_fixpoint_stopped_by_the_round_limit_is_a_located_warning() {
    let scan_stdin = |yaml: &str| {
        common::run_stdin(
            &["scan", "-", "--format", "concise", "--select", "K03-016"],
            yaml,
        )
    };
    // 16 steps: the longest path the limit allows, found whole, no warning
    let (_, out, err) = scan_stdin(&chain(17));
    assert!(
        out.contains("`ns0/sa0` can act as `ns16/sa16`"),
        "{out}\n{err}"
    );
    assert!(!err.contains("W0503"), "{err}");
    // 20 steps: the first service accounts' paths are cut, and the scan says so
    let (code, out, err) = scan_stdin(&chain(21));
    // a warning, not an error: the exit code is the findings' (1), not 2
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!out.contains("rule error"), "{out}");
    assert!(!out.contains("`ns0/sa0` can act as"), "{out}");
    assert!(
        out.contains("`ns4/sa4` can act as `ns20/sa20`"),
        "{out}\n{err}"
    );
    assert!(
        err.contains(
            "warning[W0503]: relation `reaches` stopped after 16 rounds while it was still finding facts"
        ),
        "{err}"
    );
    assert!(err.contains("paths.kanon"), "{err}");
    assert!(
        err.contains("paths longer than 16 steps are not reported"),
        "{err}"
    );
}

/// Relations over more objects than one task takes (the rows of a case's first binding
/// are split among the threads, the rules that read no relation run while the relations
/// are computed, and the rules that read one beside them once they are): the findings are
/// the same on 1 and 3 threads and the same as the reference evaluator's, and every
/// chain's paths are found whole.
#[test]
fn relations_over_many_objects_agree_across_thread_counts() {
    let (count, len) = (150, 4);
    let yaml = rbac_chains(count, len, true, |c, i| format!("c{c}n{i}"));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| both(&yaml, false))
    };
    let (one, reference) = run(1);
    let (three, _) = run(3);
    assert_eq!(one, three);
    assert_eq!(paths_only(one.clone()), paths_only(reference));
    // each service account but the last of its chain acts as every later one: the first
    // of a chain as cluster-admin in `len - 1` steps
    let long = one
        .iter()
        .filter(|f| &*f.rule.id == "K03-016" && steps(f).len() == len - 1)
        .count();
    assert_eq!(
        long,
        count,
        "{:#?}",
        one.iter().map(|f| &f.message).take(8).collect::<Vec<_>>()
    );
    // and the rules that read no relation ran as well
    assert!(
        one.iter().any(|f| !f.rule.id.starts_with("K03")),
        "no other findings"
    );
}

/// A quantifier's condition whose variables are all bound to objects is answered once per
/// objects and environment (`Ctx::test_kept`): the rule that asks it of the same service
/// account for many pods must report what the same rule gives when its condition also
/// reads the pod (so each pod asks it afresh: no answer is kept across pods), evidence included; and a
/// condition that reads the pod too is kept by both objects.
#[test]
fn kept_answers_of_a_condition_give_the_same_findings_and_evidence() {
    const RULES: &str = r#"
rule KEPT-001 kept {
  severity low
  for w in workloads
  where exists sa in [w.serviceAccount] where any bd in sa.bindings where bd.role.name == "impersonates"
  report at w "`{w.name}` runs as a service account bound to `impersonates`"
}

rule KEPT-002 asked {
  severity low
  for w in workloads
  where exists sa in [w.serviceAccount] where w.name == w.name and any bd in sa.bindings where bd.role.name == "impersonates"
  report at w "`{w.name}` runs as a service account bound to `impersonates`"
}

rule KEPT-003 two-objects {
  severity low
  for w in workloads
  where exists sa in [w.serviceAccount] where sa.namespace == w.namespace and w.name == "p1"
  report at w "`{w.name}` is p1"
}
"#;
    let mut yaml = rbac_chains(3, 3, false, |c, i| format!("c{c}n{i}"));
    // many pods per service account, more than one chunk of the executor's tasks
    for c in 0..3 {
        for p in 0..90 {
            let _ = write!(
                yaml,
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{p}, namespace: c{c}n0}}\nspec: {{serviceAccountName: sa0, containers: [{{name: c, image: nginx}}]}}\n"
            );
        }
    }
    let mut sources = SourceMap::new();
    let mut fs = RuleFs::default();
    fs.add_embedded("kept", "kept.kanon", RULES);
    let entry = fs.embedded_rules("kept");
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let load = Loader::default().load_text("cluster.yaml", yaml, &mut sources);
    assert!(!load.has_errors(), "{:#?}", load.diagnostics);
    let graph = Graph::build(load, &GraphOptions::default());
    let (plan, errors) = kanon::plan::plan(&compiled.program);
    assert!(errors.is_empty(), "{errors:?}");
    let found = normalize(execute(&compiled.program, &plan, &graph, &sources).findings);
    let of = |id: &str| -> Vec<(String, Vec<String>)> {
        found
            .iter()
            .filter(|f| &*f.rule.id == id)
            .map(|f| {
                let evidence = f
                    .evidence
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}/{}",
                            e.kind,
                            e.namespace.as_deref().unwrap_or(""),
                            e.name
                        )
                    })
                    .collect();
                (f.message.to_string(), evidence)
            })
            .collect()
    };
    let (kept, asked) = (of("KEPT-001"), of("KEPT-002"));
    assert_eq!(kept.len(), 270, "{kept:#?}");
    assert_eq!(kept, asked);
    // a condition that also reads the pod is kept by both objects: the service account's
    // answer for `p0` is not the one for `p1`
    let p1 = of("KEPT-003");
    assert_eq!(p1.len(), 3, "{p1:#?}");
    // the evidence holds the service account and the role read inside the condition
    assert!(
        kept.iter()
            .all(|(_, e)| e.iter().any(|x| x.starts_with("ClusterRole "))
                && e.iter().any(|x| x.starts_with("ServiceAccount "))),
        "{:#?}",
        kept.first()
    );
}

/// Three service accounts of namespace `a` and one of `b`; a RoleBinding lets `one` mint
/// tokens in `a`.
const MINT: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: one, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: two, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: three, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: four, namespace: b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tokens, namespace: a}
rules:
  - {apiGroups: [""], resources: [serviceaccounts/token, pods, secrets], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mint, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tokens}
subjects:
  - {kind: ServiceAccount, name: one, namespace: a}
"#;

/// A step's text is written when a finding shows it, from the values its derivation gave
/// the variables the message reads (a `for` binding's, a column's, one the message binds
/// itself); a message that reads a relation is written when the step is derived. Both read
/// as the case's message over the derivation's values.
#[test]
fn step_texts_read_as_their_derivations_values() {
    const RULES: &str = r#"
relation peer(a, b) {
  case {
    for a in serviceaccounts, b in serviceaccounts(a.namespace)
    where b.name != a.name
  }
}

relation hop(a, b) {
  case {
    for a in serviceaccounts, bd in a.bindings, r in bd.role.rules, b in serviceaccounts(bd.namespace)
    where b.name == "two"
    step at bd "`{a.name}` may {r.verbs} through `{bd.name}` and so act as `{b.name}` ({len(r.resources)} kinds)"
  }
  case {
    for a in serviceaccounts, m in hop(a), b in peer(m)
    where b.name != a.name
    step at b "`{m.name}` knows `{b.name}`, one of {len(peer(m))} peers"
  }
}

rule OWN-101 hops {
  severity low
  for a in serviceaccounts, b in hop(a)
  report at a "`{a.name}` reaches `{b.name}`"
}
"#;
    let (found, naive) = both_with(Some(RULES), MINT);
    assert_eq!(found, naive);
    let paths: Vec<(String, Vec<String>)> = found
        .iter()
        .map(|f| (f.message.to_string(), steps(f)))
        .collect();
    assert_eq!(
        paths,
        vec![
            (
                "`one` reaches `three`".to_string(),
                vec![
                    "`one` may [create, get] through `mint` and so act as `two` (3 kinds)"
                        .to_string(),
                    "`two` knows `three`, one of 2 peers".to_string(),
                ],
            ),
            (
                "`one` reaches `two`".to_string(),
                vec![
                    "`one` may [create, get] through `mint` and so act as `two` (3 kinds)"
                        .to_string(),
                ],
            ),
        ],
        "{paths:#?}"
    );
}

/// Relations of one, three and five columns: a tuple is looked up packed in a word (one or
/// two columns) or whole (more), a candidate tuple of up to four columns is made on the
/// stack and a longer one on the heap; the executor agrees with the reference evaluator.
#[test]
fn relations_of_every_width_are_looked_up() {
    const RULES: &str = r#"
relation alone(a) {
  case {
    for a in serviceaccounts
    where not exists bd in a.bindings
  }
}

relation via(a, bd, b) {
  case {
    for a in serviceaccounts, bd in a.bindings, b in serviceaccounts(bd.namespace)
    where b.name != a.name
  }
}

relation wide(a, bd, r, m, b) {
  case {
    for a in serviceaccounts, bd in a.bindings, r in [bd.role], m in serviceaccounts(bd.namespace), b in serviceaccounts(bd.namespace)
    where via(a, bd, m) and m.name != b.name
  }
}

rule OWN-102 via {
  severity low
  for a in serviceaccounts, bd in a.bindings, b in via(a, bd)
  where alone(b)
  report at a "`{a.name}` through `{bd.name}` to `{b.name}`"
}

rule OWN-103 wide {
  severity low
  for a in serviceaccounts, bd in a.bindings, r in [bd.role], m in serviceaccounts(bd.namespace)
  where exists b in wide(a, bd, r, m) where b.name == "one"
  report at a "`{a.name}` to `{m.name}` and back"
}

rule OWN-104 alone {
  severity low
  for a in serviceaccounts
  where alone(a)
  report at a "`{a.name}` is bound to nothing"
}
"#;
    let (found, naive) = both_with(Some(RULES), MINT);
    assert_eq!(found, naive);
    let messages: Vec<String> = found.iter().map(|f| f.message.to_string()).collect();
    assert_eq!(
        messages,
        [
            "`one` through `mint` to `three`",
            "`one` through `mint` to `two`",
            "`one` to `three` and back",
            "`one` to `two` and back",
            "`two` is bound to nothing",
            "`three` is bound to nothing",
            "`four` is bound to nothing",
        ],
        "{messages:#?}"
    );
}
