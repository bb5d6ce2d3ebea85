//! Differential tests: the optimized executor and the naive reference evaluator must give
//! identical findings, for the bundled rules and generated rules, over generated graphs.

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::eval::exec::execute;
use kanon::eval::{Finding, reference};
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use proptest::prelude::*;
use std::fmt::Write as _;

const NAMESPACES: &[&str] = &["shop", "pay", "kube-system"];
const APPS: &[&str] = &["web", "api", "db", "cache"];
const TIERS: &[&str] = &["front", "back"];

#[derive(Clone, Debug)]
struct Workload {
    kind: usize,
    ns: usize,
    app: usize,
    tier: Option<usize>,
    privileged: Option<bool>,
    pod_run_as_user: Option<u8>,
    run_as_user: Option<u8>,
    image_tag: usize,
    host_network: bool,
    sa: Option<usize>,
}

#[derive(Clone, Debug)]
enum Selector {
    Empty,
    App(usize),
    AppIn(Vec<usize>),
    TierNotIn(usize),
    TierExists,
    TierMissing,
}

#[derive(Clone, Debug)]
struct Policy {
    ns: usize,
    sel: Selector,
    egress: bool,
}

#[derive(Clone, Debug)]
struct Binding {
    cluster: bool,
    ns: usize,
    role: usize,
    subject: usize,
    group: bool,
}

#[derive(Clone, Debug)]
struct Cluster {
    workloads: Vec<Workload>,
    policies: Vec<Policy>,
    services: Vec<(usize, usize)>,
    bindings: Vec<Binding>,
    sas: Vec<(usize, usize)>,
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        (0..3usize, 0..3usize, 0..4usize, prop::option::of(0..2usize)),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(0..2u8),
            prop::option::of(0..2u8),
        ),
        (0..3usize, any::<bool>(), prop::option::of(0..3usize)),
    )
        .prop_map(
            |(
                (kind, ns, app, tier),
                (privileged, pod_run_as_user, run_as_user),
                (image_tag, host_network, sa),
            )| Workload {
                kind,
                ns,
                app,
                tier,
                privileged,
                pod_run_as_user,
                run_as_user,
                image_tag,
                host_network,
                sa,
            },
        )
}

fn selector() -> impl Strategy<Value = Selector> {
    prop_oneof![
        Just(Selector::Empty),
        (0..4usize).prop_map(Selector::App),
        prop::collection::vec(0..4usize, 1..3).prop_map(Selector::AppIn),
        (0..2usize).prop_map(Selector::TierNotIn),
        Just(Selector::TierExists),
        Just(Selector::TierMissing),
    ]
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        prop::collection::vec(workload(), 0..8),
        prop::collection::vec(
            (0..3usize, selector(), any::<bool>()).prop_map(|(ns, sel, egress)| Policy {
                ns,
                sel,
                egress,
            }),
            0..5,
        ),
        prop::collection::vec((0..3usize, 0..4usize), 0..3),
        prop::collection::vec(
            (
                any::<bool>(),
                0..3usize,
                0..3usize,
                0..3usize,
                any::<bool>(),
            )
                .prop_map(|(cluster, ns, role, subject, group)| Binding {
                    cluster,
                    ns,
                    role,
                    subject,
                    group,
                }),
            0..4,
        ),
        prop::collection::vec((0..3usize, 0..3usize), 0..4),
    )
        .prop_map(|(workloads, policies, services, bindings, sas)| Cluster {
            workloads,
            policies,
            services,
            bindings,
            sas,
        })
}

fn pick<'a>(xs: &[&'a str], i: usize) -> &'a str {
    xs.get(i % xs.len()).copied().unwrap_or("x")
}

fn render(c: &Cluster) -> String {
    let mut y = String::new();
    for ns in NAMESPACES {
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    team: {ns}\n"
        );
    }
    for (i, w) in c.workloads.iter().enumerate() {
        let ns = pick(NAMESPACES, w.ns);
        let app = pick(APPS, w.app);
        let mut labels = format!("      app: {app}\n");
        if let Some(t) = w.tier {
            let _ = writeln!(labels, "      tier: {}", pick(TIERS, t));
        }
        let image = match w.image_tag {
            0 => "nginx".to_string(),
            1 => "nginx:latest".to_string(),
            _ => "registry.k8s.io/app:v1.2.3".to_string(),
        };
        let mut container = format!("      - name: c{i}\n        image: {image}\n");
        if w.privileged.is_some() || w.run_as_user.is_some() {
            container.push_str("        securityContext:\n");
            if let Some(p) = w.privileged {
                let _ = writeln!(container, "          privileged: {p}");
            }
            if let Some(u) = w.run_as_user {
                let _ = writeln!(container, "          runAsUser: {u}");
            }
        }
        let mut pod = String::new();
        if w.host_network {
            pod.push_str("    hostNetwork: true\n");
        }
        if let Some(u) = w.pod_run_as_user {
            let _ = write!(pod, "    securityContext:\n      runAsUser: {u}\n");
        }
        if let Some(sa) = w.sa {
            let _ = writeln!(pod, "    serviceAccountName: sa{sa}");
        }
        if w.kind == 0 {
            let indented_labels = labels.replace("      ", "    ");
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: w{i}\n  namespace: {ns}\n  labels:\n{indented_labels}spec:\n{}  containers:\n{}",
                pod.replace("    ", "  "),
                container.replace("      ", "    ")
            );
        } else {
            let kind = if w.kind == 1 {
                "Deployment"
            } else {
                "StatefulSet"
            };
            let pod_indented = pod.replace("    ", "      ");
            let _ = write!(
                y,
                "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: w{i}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n{}    spec:\n{pod_indented}      containers:\n{}",
                labels.replace("      ", "        "),
                container.replace("      ", "        ")
            );
        }
    }
    for (i, p) in c.policies.iter().enumerate() {
        let ns = pick(NAMESPACES, p.ns);
        let sel = match &p.sel {
            Selector::Empty => "  podSelector: {}\n".to_string(),
            Selector::App(a) => format!("  podSelector:\n    matchLabels:\n      app: {}\n", pick(APPS, *a)),
            Selector::AppIn(v) => {
                let vals: Vec<&str> = v.iter().map(|a| pick(APPS, *a)).collect();
                format!("  podSelector:\n    matchExpressions:\n      - key: app\n        operator: In\n        values: [{}]\n", vals.join(", "))
            }
            Selector::TierNotIn(t) => format!("  podSelector:\n    matchExpressions:\n      - key: tier\n        operator: NotIn\n        values: [{}]\n", pick(TIERS, *t)),
            Selector::TierExists => "  podSelector:\n    matchExpressions:\n      - key: tier\n        operator: Exists\n".to_string(),
            Selector::TierMissing => "  podSelector:\n    matchExpressions:\n      - key: tier\n        operator: DoesNotExist\n".to_string(),
        };
        let types = if p.egress {
            "  policyTypes: [Ingress, Egress]\n"
        } else {
            "  policyTypes: [Ingress]\n"
        };
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{i}\n  namespace: {ns}\nspec:\n{sel}{types}"
        );
    }
    for (i, (ns, app)) in c.services.iter().enumerate() {
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\n  namespace: {}\nspec:\n  type: LoadBalancer\n  selector:\n    app: {}\n",
            pick(NAMESPACES, *ns),
            pick(APPS, *app)
        );
    }
    for (i, (ns, sa)) in c.sas.iter().enumerate() {
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa{sa}\n  namespace: {}\n  labels:\n    n: \"{i}\"\n",
            pick(NAMESPACES, *ns)
        );
    }
    for r in ["cluster-admin", "view", "edit"] {
        let _ = write!(
            y,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {r}\nrules:\n  - apiGroups: [\"*\"]\n    resources: [\"{}\"]\n    verbs: [\"{}\"]\n",
            if r == "cluster-admin" { "*" } else { "pods" },
            if r == "view" { "get" } else { "*" }
        );
    }
    for (i, b) in c.bindings.iter().enumerate() {
        let role = pick(&["cluster-admin", "view", "edit"], b.role);
        let subject = if b.group {
            format!(
                "  - kind: Group\n    name: system:serviceaccounts:{}\n    apiGroup: rbac.authorization.k8s.io\n",
                pick(NAMESPACES, b.subject)
            )
        } else {
            format!(
                "  - kind: ServiceAccount\n    name: sa{}\n    namespace: {}\n",
                b.subject,
                pick(NAMESPACES, b.ns)
            )
        };
        if b.cluster {
            let _ = write!(
                y,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: crb{i}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\nsubjects:\n{subject}"
            );
        } else {
            let _ = write!(
                y,
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb{i}\n  namespace: {}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\nsubjects:\n{subject}",
                pick(NAMESPACES, b.ns)
            );
        }
    }
    y
}

/// Atoms for generated rules over `w` (a workload) and `c` (one of its containers).
const ATOMS: &[&str] = &[
    "exists np in networkpolicies(w.namespace) where np selects w",
    "exists np in networkpolicies where np selects w and np.isolatesEgress",
    "exists np in networkpolicies(\"shop\") where np selects w",
    "count(np in networkpolicies where np selects w) >= 2",
    "exists s in services where s selects w and s.spec.type == \"LoadBalancer\"",
    "any s in w.services where s.metadata.name == \"svc0\"",
    "exists sa in serviceaccounts(w.namespace) where sa.name == w.serviceAccountName",
    "exists b in w.bindings where b.role.name == \"cluster-admin\"",
    "any b in w.bindings where any r in b.role.rules where \"*\" in r.verbs",
    "effective(c, w).runAsUser == 0",
    "c.securityContext.privileged == true",
    "image(c.image).tag == null or image(c.image).tag == \"latest\"",
    "w.podSpec.hostNetwork == true",
    "w.namespace == \"shop\"",
    "w.podLabels[\"tier\"] != null",
    "none np in networkpolicies where np selects w",
    "all np in networkpolicies(w.namespace) where np.isolatesIngress",
    "exists n in namespaces where n.name == w.namespace and n.labels[\"team\"] == \"pay\"",
];

fn generated_rule() -> impl Strategy<Value = String> {
    (prop::collection::vec((0..ATOMS.len(), any::<bool>()), 1..4), prop::collection::vec(any::<bool>(), 3)).prop_map(|(atoms, ors)| {
        let mut cond = String::new();
        for (i, (a, neg)) in atoms.iter().enumerate() {
            if i > 0 {
                cond.push_str(if ors.get(i).copied().unwrap_or(false) { " or " } else { " and " });
            }
            let atom = ATOMS.get(*a).copied().unwrap_or("true");
            if *neg {
                let _ = write!(cond, "not ({atom})");
            } else {
                let _ = write!(cond, "({atom})");
            }
        }
        format!("rule GEN-001 generated {{\n  severity low\n  for w in workloads, c in w.containers\n  where {cond}\n  report at c.name \"{{w.name}} {{c.name}}\"\n}}\n")
    })
}

fn normalize(mut f: Vec<Finding>) -> Vec<Finding> {
    for x in &mut f {
        x.evidence.sort();
    }
    f
}

fn both(rules: &RuleFs, yaml: &str, bundled: bool) -> (Vec<Finding>, Vec<Finding>) {
    let mut sources = SourceMap::new();
    let mut fs = rules.clone();
    let entry = if bundled {
        kanon::bundled::add_to(&mut fs)
    } else {
        fs.embedded_rules("gen")
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

proptest! {
    // every bundled rule (85 of them) runs through both evaluators per case
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn bundled_rules_agree(c in cluster()) {
        let yaml = render(&c);
        let (opt, naive) = both(&RuleFs::new(), &yaml, true);
        prop_assert_eq!(opt, naive, "{}", yaml);
    }

}

/// Rules binding the rows of a table through a hash lookup (and one whose probe is not a
/// string, so every row is tested).
const TABLE_RULES: &str = r#"
table apps from "apps.yaml"

rule TAB-001 app-row {
  severity low
  for w in workloads, r in apps
  where r.app == w.podLabels["app"] and r.level >= 2
  report at w "{w.name} {r.app} {r.level}"
}

rule TAB-002 ns-row {
  severity low
  for w in workloads, c in w.containers, r in apps
  where w.namespace == r.ns and r.app != "db"
  report at c.name "{c.name} {r.ns}"
}

rule TAB-003 number-probe {
  severity low
  for w in workloads, r in apps
  where r.app == w.spec.replicas
  report at w "{w.name}"
}
"#;

const APPS_TABLE: &str = "rows:
  - {app: web, ns: shop, level: 1}
  - {app: web, ns: pay, level: 3}
  - {app: api, ns: shop, level: 2}
  - {app: db, ns: kube-system, level: 2}
  - {app: nothing, ns: nowhere, level: 9}
";

fn table_rules() -> RuleFs {
    let mut fs = RuleFs::new();
    fs.add_embedded("gen", "tab.kanon", TABLE_RULES);
    fs.add_embedded("gen", "apps.yaml", APPS_TABLE);
    fs
}

#[test]
fn table_bindings_use_hash_lookups() {
    let fs = table_rules();
    let mut sources = SourceMap::new();
    let entry = fs.embedded_rules("gen");
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let explained = |id: &str| {
        kanon::cli::explain::explain(&compiled.program, id, true)
            .unwrap()
            .unwrap()
    };
    assert!(explained("TAB-001").contains("using hash lookup r.app == w.podLabels[\"app\"]"));
    assert!(explained("TAB-002").contains("using hash lookup r.ns == w.namespace"));
    // the lookups find rows, and agree with the reference evaluator
    let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: pay}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
";
    let (opt, naive) = both(&fs, yaml, false);
    assert_eq!(opt, naive);
    let ids: Vec<&str> = opt.iter().map(|f| &*f.rule_id).collect();
    assert_eq!(ids, ["TAB-001", "TAB-002"], "{opt:#?}");
    assert_eq!(opt[0].message, "web web 3");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn table_lookups_agree(c in cluster()) {
        let yaml = render(&c);
        let (opt, naive) = both(&table_rules(), &yaml, false);
        prop_assert_eq!(opt, naive, "{}", yaml);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn generated_rules_agree(c in cluster(), rule in generated_rule()) {
        let yaml = render(&c);
        let mut fs = RuleFs::new();
        fs.add_embedded("gen", "gen.kanon", &rule);
        let (opt, naive) = both(&fs, &yaml, false);
        prop_assert_eq!(opt, naive, "{}\n{}", rule, yaml);
    }
}

#[test]
fn generated_graphs_produce_findings() {
    // guard against a vacuous differential test: a fixed cluster must give findings of
    // several rules through both evaluators
    let c = Cluster {
        workloads: vec![Workload {
            kind: 1,
            ns: 0,
            app: 0,
            tier: Some(0),
            privileged: Some(true),
            pod_run_as_user: Some(0),
            run_as_user: None,
            image_tag: 1,
            host_network: true,
            sa: Some(0),
        }],
        policies: vec![Policy {
            ns: 1,
            sel: Selector::Empty,
            egress: false,
        }],
        services: vec![(0, 0)],
        bindings: vec![Binding {
            cluster: true,
            ns: 0,
            role: 0,
            subject: 0,
            group: false,
        }],
        sas: vec![(0, 0)],
    };
    let (opt, naive) = both(&RuleFs::new(), &render(&c), true);
    assert_eq!(opt, naive);
    let ids: std::collections::BTreeSet<&str> = opt.iter().map(|f| &*f.rule_id).collect();
    assert!(ids.len() >= 4, "{ids:?}");
    assert!(
        ids.contains("K07-001") && ids.contains("K01-001"),
        "{ids:?}"
    );
}

#[test]
fn generated_cases_are_not_vacuous() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut cases, mut with_findings, mut total) = (0, 0, 0);
    for _ in 0..200 {
        let c = cluster().new_tree(&mut runner).unwrap().current();
        let rule = generated_rule().new_tree(&mut runner).unwrap().current();
        let mut fs = RuleFs::new();
        fs.add_embedded("gen", "gen.kanon", &rule);
        let (opt, naive) = both(&fs, &render(&c), false);
        assert_eq!(opt, naive, "{rule}");
        cases += 1;
        total += opt.len();
        if !opt.is_empty() {
            with_findings += 1;
        }
    }
    // a healthy generator makes findings in a good share of cases
    assert!(
        with_findings * 5 >= cases,
        "{with_findings}/{cases} cases had findings ({total} in all)"
    );
    eprintln!("{with_findings}/{cases} generated cases had findings ({total} findings)");
}
