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
    /// 0: Kubernetes NetworkPolicy; 1: CiliumNetworkPolicy; 2: the same in the `specs:`
    /// form, with a second rule; 3: CiliumClusterwideNetworkPolicy on the namespace label;
    /// 4: Calico NetworkPolicy; 5: Calico GlobalNetworkPolicy with a namespace selector.
    flavor: usize,
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
            (0..3usize, selector(), any::<bool>(), 0..6usize).prop_map(
                |(ns, sel, egress, flavor)| Policy {
                    ns,
                    sel,
                    egress,
                    flavor,
                },
            ),
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
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: w{i}\n  namespace: {ns}\n{}  labels:\n{indented_labels}spec:\n{}  containers:\n{}",
                // every other Pod is exported cluster state (K07-004 judges only those)
                if i % 2 == 0 {
                    format!("  uid: u{i}\n")
                } else {
                    String::new()
                },
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
        let _ = write!(y, "---\n{}", render_policy(i, p));
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

/// A label selector body (`matchLabels` / `matchExpressions`), indented by `pad`, with
/// `prefix` before the `app` key (Cilium's `k8s:` source).
fn label_selector(sel: &Selector, pad: &str, prefix: &str, extra: &str) -> String {
    let exprs = |key: &str, op: &str, values: &str| {
        format!("{pad}matchExpressions:\n{pad}  - key: {key}\n{pad}    operator: {op}\n{values}")
    };
    let values = |v: &[&str]| format!("{pad}    values: [{}]\n", v.join(", "));
    let labels = |l: &str| format!("{pad}matchLabels:\n{l}{extra}");
    match sel {
        Selector::Empty if extra.is_empty() => "{}".to_string(),
        Selector::Empty => labels(""),
        Selector::App(a) => labels(&format!("{pad}  {prefix}app: {}\n", pick(APPS, *a))),
        Selector::AppIn(v) => {
            let vals: Vec<&str> = v.iter().map(|a| pick(APPS, *a)).collect();
            let mut out = exprs(&format!("{prefix}app"), "In", &values(&vals));
            if !extra.is_empty() {
                out.push_str(&labels(""));
            }
            out
        }
        Selector::TierNotIn(t) => {
            let mut out = exprs("tier", "NotIn", &values(&[pick(TIERS, *t)]));
            if !extra.is_empty() {
                out.push_str(&labels(""));
            }
            out
        }
        Selector::TierExists | Selector::TierMissing => {
            let op = if matches!(sel, Selector::TierExists) {
                "Exists"
            } else {
                "DoesNotExist"
            };
            let mut out = exprs("tier", op, "");
            if !extra.is_empty() {
                out.push_str(&labels(""));
            }
            out
        }
    }
}

/// The same selector in Calico's selector language.
fn calico_selector(sel: &Selector) -> String {
    match sel {
        Selector::Empty => "all()".to_string(),
        Selector::App(a) => format!("app == '{}'", pick(APPS, *a)),
        Selector::AppIn(v) => {
            let vals: Vec<String> = v.iter().map(|a| format!("'{}'", pick(APPS, *a))).collect();
            format!("app in {{{}}}", vals.join(", "))
        }
        Selector::TierNotIn(t) => format!("tier not in {{'{}'}}", pick(TIERS, *t)),
        Selector::TierExists => "has(tier)".to_string(),
        Selector::TierMissing => "!has(tier)".to_string(),
    }
}

fn render_policy(i: usize, p: &Policy) -> String {
    let ns = pick(NAMESPACES, p.ns);
    let cilium_rules = if p.egress {
        "  ingress:\n    - {}\n  egress:\n    - toEntities: [world]\n"
    } else {
        "  ingress:\n    - fromEntities: [cluster]\n"
    };
    let calico_types = if p.egress {
        "  types: [Ingress, Egress]\n"
    } else {
        "  ingress:\n    - action: Allow\n"
    };
    match p.flavor % 6 {
        1 => format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: cnp{i}\n  namespace: {ns}\nspec:\n  endpointSelector:{}\n{cilium_rules}",
            block(&label_selector(&p.sel, "    ", "k8s:", ""))
        ),
        2 => format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: cnp{i}\n  namespace: {ns}\nspecs:\n  - endpointSelector:{}\n    {}  - endpointSelector:\n      matchLabels:\n        any:tier: back\n    egress:\n      - {{}}\n",
            block(&label_selector(&p.sel, "      ", "", "")),
            cilium_rules.replace("\n  ", "\n    ").trim_start()
        ),
        3 => format!(
            "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: ccnp{i}\nspec:\n  endpointSelector:{}\n{cilium_rules}",
            block(&label_selector(
                &p.sel,
                "    ",
                "",
                &format!("      k8s:io.cilium.k8s.namespace.labels.team: {ns}\n")
            ))
        ),
        4 => format!(
            "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: cnp{i}\n  namespace: {ns}\nspec:\n  selector: \"{}\"\n{calico_types}",
            calico_selector(&p.sel)
        ),
        5 => format!(
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: gnp{i}\nspec:\n  selector: \"{}\"\n  namespaceSelector: team == '{ns}'\n{calico_types}",
            calico_selector(&p.sel)
        ),
        _ => {
            let sel = label_selector(&p.sel, "    ", "", "");
            let types = if p.egress {
                "  policyTypes: [Ingress, Egress]\n"
            } else {
                "  policyTypes: [Ingress]\n"
            };
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{i}\n  namespace: {ns}\nspec:\n  podSelector:{}\n{types}",
                block(&sel)
            )
        }
    }
}

/// A selector body after `key:`: ` {}` on the same line, or a block on the next lines.
fn block(body: &str) -> String {
    if body.trim() == "{}" {
        " {}".to_string()
    } else {
        format!("\n{}", body.trim_end_matches('\n'))
    }
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
    "len(w.ingressPolicies) > 0",
    "any p in w.egressPolicies where p.isolatesIngress",
    "exists p in ciliumnetworkpolicies(w.namespace) where p selects w",
    "exists p in ciliumclusterwidenetworkpolicies where p selects w and p.isolatesEgress",
    "exists p in globalnetworkpolicies where p selects w",
    "count(p in networkpolicies(w.namespace) where p selects w) == 1",
    "exists n in namespaces where n.name == w.namespace and len(n.defaultDenyIngress) > 0",
    "w.live and len(w.exposures) > 0",
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

/// The program of `rules` (with the bundled ruleset, or the embedded `gen` rules), the
/// graph of `yaml`, and their sources.
fn prepared(
    rules: &RuleFs,
    yaml: &str,
    bundled: bool,
) -> (kanon::check::ir::Program, Graph, SourceMap) {
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
    (compiled.program, graph, sources)
}

/// The findings of the embedded `gen` rules over `yaml`, which the reference evaluator
/// must find too, and their rule ids and messages, sorted.
fn agreed(rules: &RuleFs, yaml: &str) -> (Vec<Finding>, Vec<String>) {
    let (opt, naive) = both(rules, yaml, false);
    assert_eq!(opt, naive);
    let mut found: Vec<String> = opt
        .iter()
        .map(|f| format!("{} {}", f.rule.id, f.message))
        .collect();
    found.sort();
    (opt, found)
}

fn both(rules: &RuleFs, yaml: &str, bundled: bool) -> (Vec<Finding>, Vec<Finding>) {
    let (program, graph, sources) = prepared(rules, yaml, bundled);
    let (plan, errors) = kanon::plan::plan(&program);
    assert!(errors.is_empty(), "{errors:?}");
    let optimized = execute(&program, &plan, &graph, &sources).findings;
    let naive = reference::evaluate(&program, &graph, &sources);
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

/// Rules binding the rows of a table through a hash lookup or a comparison of their keys
/// (and one whose probe is not a string, so every row is tested).
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

rule TAB-004 suffix-row {
  severity low
  for w in workloads, c in w.containers, r in apps
  where c.image ends with r.app and r.level < 3
  report at c.name "{c.image} ends with {r.app} ({r.ns})"
}

rule TAB-005 prefix-row {
  severity low
  for w in workloads, r in apps
  where r.ns starts with w.namespace and r.level > 1
  report at w "{r.ns} starts with {w.namespace}"
}

rule TAB-006 contains-row {
  severity low
  for w in workloads, r in apps
  where w.name contains r.app
  report at w "{w.name} contains {r.app} ({r.ns})"
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
fn table_bindings_use_lookups() {
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
    assert!(explained("TAB-004").contains("using key comparison c.image ends with r.app"));
    assert!(explained("TAB-005").contains("using key comparison r.ns starts with w.namespace"));
    assert!(explained("TAB-006").contains("using key comparison w.name contains r.app"));
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
      containers: [{name: c, image: example.com/web}]
";
    let (opt, naive) = both(&fs, yaml, false);
    assert_eq!(opt, naive);
    let messages: Vec<String> = opt.iter().map(|f| f.message.to_string()).collect();
    let found: Vec<(&str, &str)> = opt
        .iter()
        .zip(&messages)
        .map(|(f, m)| (&*f.rule.id, m.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("TAB-001", "web web 3"),
            ("TAB-005", "pay starts with pay"),
            ("TAB-006", "web contains web (pay)"),
            ("TAB-006", "web contains web (shop)"),
            ("TAB-002", "c pay"),
            ("TAB-004", "example.com/web ends with web (shop)"),
        ],
        "{opt:#?}"
    );
}

/// Rules over every object whose filters hold only for some objects: those that run pods
/// (the containers of any workload, a Pod its ReplicaSet controls too), some kinds, or the
/// kinds a table names.
const NARROW_RULES: &str = r#"
table removed from "removed.yaml"

rule NAR-001 kubelet-anywhere {
  severity low
  for o in objects
  where o.kind == "KubeletConfiguration" and o.readOnlyPort != 0 or any c in o.containers where c.name == "kubelet"
  report at o "{o.kind} {o.name}"
}

rule NAR-002 pod-spec-or-namespace {
  severity low
  for o in objects
  where o.kind == "Namespace" or o.podSpec != null
  report at o "{o.kind} {o.name}"
}

rule NAR-003 both-kinds-and-pods {
  severity low
  for o in objects
  where o.podSpec != null and o.kind in ["ReplicaSet", "ConfigMap"]
  report at o "{o.kind} {o.name}"
}

rule NAR-004 table-kinds {
  severity low
  for o in objects, r in removed
  where r.kind == o.kind and r.apiVersion == o.apiVersion
  report at o "{o.kind} {o.name} {r.apiVersion}"
}

rule NAR-005 not-narrowed {
  severity low
  for o in objects
  where o.kind == "ConfigMap" or o.metadata.labels["keep"] == "yes"
  report at o "{o.kind} {o.name}"
}
"#;

const REMOVED_TABLE: &str = "rows:
  - {kind: Deployment, apiVersion: extensions/v1beta1}
  - {kind: PodSecurityPolicy, apiVersion: policy/v1beta1}
  - {kind: 7, apiVersion: v1}
  - {apiVersion: v1}
";

#[test]
fn scans_narrowed_by_their_filters_find_what_every_object_gives() {
    let mut fs = RuleFs::new();
    fs.add_embedded("gen", "narrow.kanon", NARROW_RULES);
    fs.add_embedded("gen", "removed.yaml", REMOVED_TABLE);
    let mut sources = SourceMap::new();
    let entry = fs.embedded_rules("gen");
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let scan = |id: &str| {
        let out = kanon::cli::explain::explain(&compiled.program, id, false)
            .unwrap()
            .unwrap();
        let optimized = out
            .split("optimized plan:")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        optimized
            .lines()
            .find_map(|l| l.split("Scan o in ").nth(1))
            .map(|l| l.split(" filter").next().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{out}"))
    };
    assert_eq!(scan("NAR-001"), "objects running pods|KubeletConfiguration");
    assert_eq!(scan("NAR-002"), "objects running pods|Namespace");
    assert_eq!(scan("NAR-003"), "ConfigMap|ReplicaSet");
    assert_eq!(scan("NAR-004"), "Deployment|PodSecurityPolicy");
    assert_eq!(scan("NAR-005"), "objects");
    // a Pod its ReplicaSet controls runs pods, though the workloads view leaves it out
    let yaml = "apiVersion: v1
kind: Namespace
metadata: {name: node, labels: {keep: 'yes'}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: agents, namespace: node, uid: rs-1}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: kubelet, image: example.com/kubelet}]
---
apiVersion: v1
kind: Pod
metadata:
  name: agents-1
  namespace: node
  labels: {app: agent}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: agents, uid: rs-1, controller: true}]
spec:
  containers: [{name: kubelet, image: example.com/kubelet}]
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
metadata: {name: node-a}
readOnlyPort: 10255
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old, namespace: node}
spec:
  template:
    spec:
      containers: [{name: app, image: example.com/app}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: node}
data: {kubelet: x}
";
    let (opt, found) = agreed(&fs, yaml);
    assert_eq!(
        found,
        [
            "NAR-001 KubeletConfiguration node-a",
            "NAR-001 Pod agents-1",
            "NAR-001 ReplicaSet agents",
            "NAR-002 Deployment old",
            "NAR-002 Namespace node",
            "NAR-002 Pod agents-1",
            "NAR-002 ReplicaSet agents",
            "NAR-003 ReplicaSet agents",
            "NAR-004 Deployment old extensions/v1beta1",
            "NAR-005 ConfigMap settings",
            "NAR-005 Namespace node",
        ],
        "{opt:#?}"
    );
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
            flavor: 0,
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
    let ids: std::collections::BTreeSet<&str> = opt.iter().map(|f| &*f.rule.id).collect();
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

#[test]
fn every_policy_flavor_renders() {
    // each kind of policy, with each selector, loads without error and is a policy that
    // selects something in some generated cluster
    let sels = [
        Selector::Empty,
        Selector::App(0),
        Selector::AppIn(vec![0, 1]),
        Selector::TierNotIn(0),
        Selector::TierExists,
        Selector::TierMissing,
    ];
    for flavor in 0..6 {
        for sel in &sels {
            for egress in [false, true] {
                let p = Policy {
                    ns: 0,
                    sel: sel.clone(),
                    egress,
                    flavor,
                };
                let yaml = format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: shop, labels: {{app: web, tier: back}}}}\nspec: {{containers: [{{name: c}}]}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: shop, labels: {{team: shop}}}}\n---\n{}",
                    render_policy(0, &p)
                );
                let mut sources = SourceMap::new();
                let load = Loader::default().load_text("p.yaml", yaml.clone(), &mut sources);
                assert!(!load.has_errors(), "{yaml}");
                let g = Graph::build(load, &GraphOptions::default());
                assert!(g.policy(2).is_some(), "{yaml}");
                let selected = !g.selected(2).is_empty();
                // the pod has `tier: back`: only `DoesNotExist` misses it (the second rule of
                // the `specs:` form selects it for egress)
                let by_first = !matches!(sel, Selector::TierMissing);
                assert_eq!(selected, by_first || flavor == 2, "{yaml}");
                assert_eq!(!g.ingress_policies(0).is_empty(), by_first, "{yaml}");
                assert_eq!(
                    !g.egress_policies(0).is_empty(),
                    (by_first && egress) || flavor == 2,
                    "{yaml}"
                );
            }
        }
    }
}

#[test]
fn live_pods_let_k07_004_judge_policies() {
    // a Pod exported from a cluster (uid) and policies of both NetworkPolicy kinds that
    // select none of it: K07-004 reports both, through both evaluators
    let pod = Workload {
        kind: 0,
        ns: 0,
        app: 0,
        tier: None,
        privileged: None,
        pod_run_as_user: None,
        run_as_user: None,
        image_tag: 2,
        host_network: false,
        sa: None,
    };
    let policy = |flavor| Policy {
        ns: 0,
        sel: Selector::App(2),
        egress: false,
        flavor,
    };
    let c = Cluster {
        workloads: vec![pod],
        policies: vec![
            policy(0),
            policy(4),
            Policy {
                sel: Selector::App(0),
                ..policy(0)
            },
        ],
        services: Vec::new(),
        bindings: Vec::new(),
        sas: Vec::new(),
    };
    let (opt, naive) = both(&RuleFs::new(), &render(&c), true);
    assert_eq!(opt, naive);
    let k07_004: Vec<String> = opt
        .iter()
        .filter(|f| &*f.rule.id == "K07-004")
        .map(|f| f.message.to_string())
        .collect();
    assert_eq!(k07_004.len(), 2, "{k07_004:#?}");
    assert!(
        k07_004
            .iter()
            .all(|m| m.contains("selects none of the 1 Pods running in namespace `shop`")),
        "{k07_004:#?}"
    );
}

/// Three rules over `w in workloads, c in w.containers`, each a conjunction or disjunction
/// of one to three atoms drawn from the same four (from `pool`), so that they share
/// conditions.
fn sharing_rules(pool: &'static [usize]) -> impl Strategy<Value = String> {
    let rule = (
        prop::collection::vec((0..4usize, any::<bool>()), 1..4),
        any::<bool>(),
    );
    (
        prop::collection::vec(0..pool.len(), 4),
        prop::collection::vec(rule, 3),
    )
        .prop_map(move |(picks, rules)| {
            let mut out = String::new();
            for (n, (atoms, or)) in rules.iter().enumerate() {
                let cond: Vec<String> = atoms
                    .iter()
                    .map(|(a, neg)| {
                        let i = picks.get(*a).and_then(|&p| pool.get(p)).copied().unwrap_or(0);
                        let atom = ATOMS.get(i).copied().unwrap_or("true");
                        if *neg { format!("not ({atom})") } else { format!("({atom})") }
                    })
                    .collect();
                let _ = write!(
                    out,
                    "rule SHR-00{n} shared-{n} {{\n  severity low\n  for w in workloads, c in w.containers\n  where {}\n  report at c.name \"{{w.name}} {{c.name}}\"\n}}\n\n",
                    cond.join(if *or { " or " } else { " and " })
                );
            }
            out
        })
}

/// Every atom index, for [`sharing_rules`].
const ALL_ATOMS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
];

/// What one run gives: its findings, and the rules and objects the step limit stopped.
type Run = (Vec<Finding>, Vec<kanon::eval::exec::StepLimitHit>);

/// The findings and the objects stopped by the step limit of a program's rules run
/// together (sharing conditions) and each planned alone.
fn together_and_alone(rules: &str, yaml: &str, max_steps: u64) -> (Run, Run) {
    use kanon::plan::physical;
    let mut fs = RuleFs::new();
    fs.add_embedded("gen", "gen.kanon", rules);
    let (program, graph, sources) = prepared(&fs, yaml, false);
    let program = &program;
    let limits = kanon::limits::Limits {
        max_steps,
        ..kanon::limits::Limits::default()
    };
    let run = |plan: &physical::PhysicalPlan| {
        let out = kanon::eval::exec::execute_with(program, plan, &graph, &sources, &limits, true);
        (normalize(out.findings), out.limits)
    };
    let (plan, errors) = kanon::plan::plan(program);
    assert!(errors.is_empty(), "{errors:?}");
    let together = run(&plan);
    let mut alone = (Vec::new(), Vec::new());
    for i in 0..program.rules.len() {
        // every rule planned above (no errors), so each plans alone: a rule left out
        // here would be missing from `alone` and fail the comparison
        let Ok(p) = kanon::plan::plan_rule(program, i) else {
            continue;
        };
        let (f, l) = run(&physical::group(vec![p.physical]));
        alone.0.extend(f);
        alone.1.extend(l);
    }
    kanon::eval::finding::sort(&mut alone.0);
    alone
        .1
        .sort_by(|a, b| (&a.rule, &a.object).cmp(&(&b.rule, &b.object)));
    (together, alone)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Rules that share conditions (`plan::share`) find together what the reference
    /// evaluator finds, and what each finds alone.
    #[test]
    fn rules_sharing_conditions_agree(c in cluster(), rules in sharing_rules(ALL_ATOMS)) {
        let yaml = render(&c);
        let mut fs = RuleFs::new();
        fs.add_embedded("gen", "gen.kanon", &rules);
        let (opt, naive) = both(&fs, &yaml, false);
        prop_assert_eq!(&opt, &naive, "{}\n{}", rules, yaml);
        let (together, alone) = together_and_alone(&rules, &yaml, 1_000_000);
        prop_assert_eq!(together, alone, "{}\n{}", rules, yaml);
    }

    /// Under small step limits, rules that share conditions find, for every object the
    /// limit stops in neither run, what each finds alone. (Where the limit falls can differ:
    /// inside a shared condition the rule's kept sub-expressions are not used, so the
    /// steps counted for it are those of its evaluation without them.)
    #[test]
    fn rules_sharing_conditions_agree_under_step_limits(
        c in cluster(),
        rules in sharing_rules(ALL_ATOMS),
        max_steps in 6u64..60,
    ) {
        let yaml = render(&c);
        let ((together, stopped), (alone, stopped_alone)) =
            together_and_alone(&rules, &yaml, max_steps);
        let stopped: Vec<(String, String)> = stopped
            .iter()
            .chain(&stopped_alone)
            .map(|h| (h.rule.clone(), h.object.clone().unwrap_or_default()))
            .collect();
        let kept = |f: &Vec<Finding>| -> Vec<Finding> {
            f.iter()
                .filter(|x| {
                    let object = format!(
                        "{} {}/{}",
                        x.resource.kind,
                        x.resource.namespace.as_deref().unwrap_or_default(),
                        x.resource.name
                    );
                    !stopped.iter().any(|(r, o)| **r == *x.rule.id && *o == object)
                })
                .cloned()
                .collect()
        };
        prop_assert_eq!(kept(&together), kept(&alone), "{} steps\n{}\n{}", max_steps, rules, yaml);
    }
}

/// Quantifiers over a constant table that compare a column with a value: the rows are
/// probed through an index of the table (`row-index` in the plan) where a column holds
/// strings, and every form finds what the reference evaluator finds, whatever the value
/// compared is (a string, a number, null, a version).
const TABLE_QUANT_RULES: &str = r#"
table known from "known.yaml"

rule QT-001 known-object {
  severity low
  for o in objects
  where exists t in known where t.name == o.name and t.kind == o.kind
  report at o "{o.kind} {o.name} is known"
}

rule QT-002 twice-known {
  severity low
  for o in objects
  where count(t in known where t.name == o.name) >= 2
  report at o "{o.name} is known twice"
}

rule QT-003 alias-unknown {
  severity low
  for o in objects
  where o.kind == "ConfigMap" and none t in known where t.name == o.metadata.labels["alias"]
  report at o "{o.name} has an unknown alias"
}

rule QT-004 code-known {
  severity low
  for o in objects
  where any t in known where o.data["code"] == t.code and t.tier != "back"
  report at o "{o.name} has a known code"
}

rule QT-005 every-row {
  severity low
  for o in objects
  where all t in known where t.name == o.name
  report at o "{o.name} is every row"
}

rule QT-006 port-known {
  severity low
  for o in objects
  where exists t in known where t.port == o.spec.port
  report at o "{o.name} has a known port"
}

rule QT-007 version-known {
  severity low
  for o in objects
  where o.kind == "ConfigMap" and exists t in known where t.name == version(o.data["v"] ?? "")
  report at o "{o.name} has a known version"
}
"#;

const KNOWN_TABLE: &str = "rows:
  - {name: web, kind: Deployment, code: \"7\", tier: front, port: 80}
  - {name: web, kind: Service, code: 8, tier: back, port: 81}
  - {name: api, kind: Deployment, code: 9, tier: front, port: 82}
  - {name: db, kind: StatefulSet, code: x, tier: back, port: 83}
  - {name: cache, kind: Deployment, code: 7, tier: front, port: 84}
  - {name: 1.2.3, kind: ConfigMap, code: y, tier: front, port: 85}
  - {name: 12, kind: ConfigMap, code: z, tier: front, port: 86}
  - {kind: ConfigMap, code: w, tier: front, port: 87}
  - {name: null, kind: ConfigMap, tier: front, port: 88}
";

#[test]
fn quantifiers_over_a_table_probe_its_rows() {
    let mut fs = RuleFs::new();
    fs.add_embedded("gen", "quant.kanon", TABLE_QUANT_RULES);
    fs.add_embedded("gen", "known.yaml", KNOWN_TABLE);
    let (program, _, _) = prepared(&fs, "", false);
    let explained = |id: &str| {
        kanon::cli::explain::explain(&program, id, true)
            .unwrap()
            .unwrap()
    };
    // the column with the most strings is probed (`name`, not `kind`); `all`, and a
    // column without strings, are read row by row
    for (id, probe) in [
        ("QT-001", Some("row-index[9 rows by name = o.name]")),
        ("QT-002", Some("row-index[9 rows by name = o.name]")),
        (
            "QT-003",
            Some("row-index[9 rows by name = o.metadata.labels[\"alias\"]]"),
        ),
        (
            "QT-004",
            Some("row-index[9 rows by code = o.data[\"code\"]]"),
        ),
        ("QT-005", None),
        ("QT-006", None),
        ("QT-007", Some("row-index[9 rows by name = version(")),
    ] {
        let out = explained(id);
        match probe {
            Some(p) => assert!(out.contains(p), "{id}: {out}"),
            None => assert!(!out.contains("row-index"), "{id}: {out}"),
        }
    }
    let yaml = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: pay}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: web}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: pay}
spec: {port: 83}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: codes, namespace: pay, labels: {alias: nothing}}
data: {code: \"7\", v: \"1.2.3\"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: number, namespace: pay, labels: {alias: 12}}
data: {code: 7}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: no-alias, namespace: pay}
data: {code: 9, v: \"2.0.0\"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aliased, namespace: pay, labels: {alias: db}}
data: {code: x}
";
    let (opt, found) = agreed(&fs, yaml);
    assert_eq!(
        found,
        [
            "QT-001 Deployment web is known",
            "QT-001 Service web is known",
            "QT-002 web is known twice",
            "QT-002 web is known twice",
            // a label that is missing is null, as the name of the last two rows is
            "QT-003 codes has an unknown alias",
            "QT-004 codes has a known code",
            // a number is compared with every row: the string "9" is not in the index
            "QT-004 no-alias has a known code",
            "QT-004 number has a known code",
            // no data: null, equal to the row without a code
            "QT-004 web has a known code",
            "QT-004 web has a known code",
            "QT-006 web has a known port",
            "QT-007 aliased has a known version",
            // a version is equal to the string that reads as it
            "QT-007 codes has a known version",
            "QT-007 number has a known version",
        ],
        "{opt:#?}"
    );
}
