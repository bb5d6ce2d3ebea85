//! Network policies of every kind that isolates pods, read into one model: which pods a
//! policy selects, and in which direction it isolates them.
//!
//! | kind | selects | isolates ingress / egress |
//! |---|---|---|
//! | `networking.k8s.io` `NetworkPolicy` | `spec.podSelector` in its namespace (missing: all pods) | `policyTypes`; without it Ingress always, Egress when `spec.egress` has rules |
//! | `cilium.io` `CiliumNetworkPolicy` | `endpointSelector` of `spec` and of each `specs` entry, in its namespace (`{}`: every pod of the namespace; a `nodeSelector` rule selects nodes, not pods) | a rule with `ingress` or `ingressDeny` entries isolates ingress (`egress`, `egressDeny`: egress), unless `enableDefaultDeny.ingress` (`.egress`) is `false` |
//! | `cilium.io` `CiliumClusterwideNetworkPolicy` | the same, in every namespace | the same |
//! | `projectcalico.org` (or `crd.projectcalico.org`) `NetworkPolicy` | `spec.selector`, a Calico selector expression (missing: `all()`), in its namespace, narrowed by `spec.serviceAccountSelector` (over the labels of the pod's ServiceAccount and `projectcalico.org/name`) | `spec.types`; without it Ingress when there are no egress rules or there are ingress rules, Egress when there are egress rules |
//! | `projectcalico.org` `GlobalNetworkPolicy` | `spec.selector` in the namespaces `spec.namespaceSelector` selects (missing: every namespace) | the same |
//!
//! Cilium matches its selectors against the pod's labels plus
//! `io.kubernetes.pod.namespace`, `io.cilium.k8s.policy.serviceaccount` and
//! `io.cilium.k8s.namespace.labels.<key>` for each label of the namespace; a key may carry
//! the source prefix `k8s:` or `any:` (other sources, such as `reserved:`, are never pod
//! labels). Calico matches against the pod's labels plus `projectcalico.org/namespace`,
//! `projectcalico.org/orchestrator: k8s`, `projectcalico.org/serviceaccount` and
//! `pcns.<key>` for each namespace label; a `namespaceSelector` matches the namespace's
//! labels plus `projectcalico.org/name`.

use std::sync::Arc;

use super::calico;
use super::selector::{LabelSelector, Missing};
use super::{Graph, Label, ObjId, Object, nonempty_str};
use crate::model::{Document, NodeId};

/// The kinds of policy that isolate pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// `networking.k8s.io` `NetworkPolicy`.
    Kubernetes,
    /// `cilium.io` `CiliumNetworkPolicy`.
    Cilium,
    /// `cilium.io` `CiliumClusterwideNetworkPolicy`.
    CiliumClusterwide,
    /// `projectcalico.org` `NetworkPolicy`.
    Calico,
    /// `projectcalico.org` `GlobalNetworkPolicy`.
    CalicoGlobal,
}

impl PolicyKind {
    /// The kind of policy an object is, if it is one.
    pub fn of(o: &Object) -> Option<PolicyKind> {
        match (o.group(), &*o.kind) {
            ("networking.k8s.io" | "extensions", "NetworkPolicy") => Some(PolicyKind::Kubernetes),
            ("cilium.io", "CiliumNetworkPolicy") => Some(PolicyKind::Cilium),
            ("cilium.io", "CiliumClusterwideNetworkPolicy") => Some(PolicyKind::CiliumClusterwide),
            ("projectcalico.org" | "crd.projectcalico.org", "NetworkPolicy") => {
                Some(PolicyKind::Calico)
            }
            ("projectcalico.org" | "crd.projectcalico.org", "GlobalNetworkPolicy") => {
                Some(PolicyKind::CalicoGlobal)
            }
            _ => None,
        }
    }

    /// Whether the policy applies in one namespace only (its own).
    pub fn is_namespaced(self) -> bool {
        matches!(
            self,
            PolicyKind::Kubernetes | PolicyKind::Cilium | PolicyKind::Calico
        )
    }
}

/// What a policy does in one direction for the pods it selects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Direction {
    /// The selected pods accept (send) only the traffic some policy allows.
    pub isolates: bool,
    /// The policy isolates and allows no traffic itself (a default deny).
    pub allows_nothing: bool,
}

/// Which pods a policy part selects.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PodSelector {
    /// Nothing (a node selector, or an invalid selector).
    Nothing,
    /// A label selector over the pod's labels (Kubernetes) or its Cilium labels (keys
    /// without their source prefix).
    Labels(LabelSelector),
    /// A Calico selector, for global policies a namespace selector, and a selector over
    /// the labels of the pod's ServiceAccount.
    Calico {
        selector: calico::Selector,
        namespaces: Option<calico::Selector>,
        service_accounts: Option<calico::Selector>,
    },
}

/// What one rule of a policy does in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Dir {
    /// It isolates the pods it selects.
    isolates: bool,
    /// It has rules that admit some traffic.
    allows: bool,
}

impl Dir {
    fn direction(self) -> Direction {
        Direction {
            isolates: self.isolates,
            allows_nothing: self.isolates && !self.allows,
        }
    }
}

/// One rule of a policy (a Cilium policy's `specs` has several).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Part {
    pods: PodSelector,
    ingress: Dir,
    egress: Dir,
}

/// A policy read from its object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Its kind.
    pub kind: PolicyKind,
    /// Its namespace, for namespaced kinds.
    namespace: Option<Arc<str>>,
    parts: Vec<Part>,
}

/// The labels a pod is matched on by one kind of policy.
pub(crate) struct PodLabels<'a> {
    labels: &'a [Label],
    extra: Vec<Label>,
}

impl PodLabels<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .chain(self.labels.iter())
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    fn all(&self) -> Vec<Label> {
        let mut v = self.labels.to_vec();
        v.retain(|(k, _)| self.extra.iter().all(|(x, _)| x != k));
        v.extend(self.extra.iter().cloned());
        v
    }
}

const CILIUM_NAMESPACE: &str = "io.kubernetes.pod.namespace";
const CILIUM_NAMESPACE_LABELS: &str = "io.cilium.k8s.namespace.labels.";
const CILIUM_SERVICE_ACCOUNT: &str = "io.cilium.k8s.policy.serviceaccount";
const CALICO_NAMESPACE: &str = "projectcalico.org/namespace";
const CALICO_NAMESPACE_LABELS: &str = "pcns.";
const CALICO_SERVICE_ACCOUNT: &str = "projectcalico.org/serviceaccount";
const CALICO_NAMESPACE_NAME: &str = "projectcalico.org/name";

/// The ServiceAccount name a workload's pods run as.
fn service_account_name(g: &Graph, w: ObjId) -> String {
    let spec = g.workload(w).and_then(|wl| wl.pod_spec());
    let doc = g.doc(w);
    let named = |key: &str| {
        let doc = doc?;
        spec.and_then(|s| doc.get(s, key))
            .and_then(|n| nonempty_str(doc, n))
    };
    named("serviceAccountName")
        .or_else(|| named("serviceAccount"))
        .unwrap_or("default")
        .to_owned()
}

impl Policy {
    /// Reads a policy; `None` for objects that are not policies.
    pub fn read(g: &Graph, id: ObjId) -> Option<Policy> {
        let o = g.object(id)?;
        let kind = PolicyKind::of(o)?;
        let (doc, node) = g.doc_node(id)?;
        let spec = doc.get(node, "spec");
        let parts = match kind {
            PolicyKind::Kubernetes => {
                let (ingress, egress) = g.policy_types(id);
                let count = |key: &str| {
                    spec.and_then(|s| doc.get(s, key))
                        .map_or(0, |n| doc.seq(n).len())
                };
                vec![Part {
                    pods: PodSelector::Labels(g.selector_of(id)?),
                    ingress: Dir {
                        isolates: ingress,
                        allows: ingress && count("ingress") > 0,
                    },
                    egress: Dir {
                        isolates: egress,
                        allows: egress && count("egress") > 0,
                    },
                }]
            }
            PolicyKind::Cilium | PolicyKind::CiliumClusterwide => {
                let mut parts: Vec<Part> = spec.map(|s| cilium_part(doc, s)).into_iter().collect();
                if let Some(specs) = doc.get(node, "specs") {
                    parts.extend(doc.seq(specs).iter().map(|&s| cilium_part(doc, s)));
                }
                parts
            }
            PolicyKind::Calico | PolicyKind::CalicoGlobal => {
                vec![calico_part(doc, spec, kind == PolicyKind::CalicoGlobal)]
            }
        };
        Some(Policy {
            kind,
            namespace: o.namespace.clone().filter(|_| kind.is_namespaced()),
            parts,
        })
    }

    /// The labels a pod of workload `w` is matched on by this kind of policy.
    pub(crate) fn pod_labels<'g>(&self, g: &'g Graph, w: ObjId) -> Option<PodLabels<'g>> {
        let o = g.object(w)?;
        let labels = g.workload(w)?.labels.as_ref();
        let ns = o.namespace.as_deref()?;
        let mut extra = namespace_derived_labels(self.kind, g, ns);
        let sa_key = match self.kind {
            PolicyKind::Kubernetes => None,
            PolicyKind::Cilium | PolicyKind::CiliumClusterwide => Some(CILIUM_SERVICE_ACCOUNT),
            PolicyKind::Calico | PolicyKind::CalicoGlobal => Some(CALICO_SERVICE_ACCOUNT),
        };
        if let Some(key) = sa_key {
            extra.push((key.into(), service_account_name(g, w).into()));
        }
        Some(PodLabels { labels, extra })
    }

    /// Whether the policy may apply to pods of namespace `ns` at all.
    /// The one namespace the policy is confined to; `None` for a cluster-wide policy.
    pub(crate) fn scope(&self) -> Option<&Arc<str>> {
        self.namespace.as_ref()
    }

    pub(crate) fn in_scope(&self, ns: &str) -> bool {
        self.namespace.as_deref().is_none_or(|own| own == ns)
    }

    /// For workload `w`: whether the policy selects it, and how it treats it in each
    /// direction (the parts that select it, combined).
    pub(crate) fn applies_to(&self, g: &Graph, w: ObjId) -> Option<(Direction, Direction)> {
        let ns = g.object(w)?.namespace.as_deref()?;
        if !self.in_scope(ns) {
            return None;
        }
        let labels = self.pod_labels(g, w)?;
        let mut found: Option<(Dir, Dir)> = None;
        for p in &self.parts {
            if !p.selects(g, &labels, ns) {
                continue;
            }
            let (i, e) = found.get_or_insert_default();
            for (d, x) in [(i, p.ingress), (e, p.egress)] {
                d.isolates |= x.isolates;
                d.allows |= x.allows;
            }
        }
        found.map(|(i, e)| (i.direction(), e.direction()))
    }

    /// Whether the policy isolates in each direction for some pods: `(ingress, egress)`.
    pub fn isolates(&self) -> (bool, bool) {
        (
            self.parts.iter().any(|p| p.ingress.isolates),
            self.parts.iter().any(|p| p.egress.isolates),
        )
    }

    /// Whether the policy is a default deny for namespace `ns` in each direction: one of its
    /// parts selects every pod of `ns` whatever its labels, isolates and allows nothing.
    pub fn default_deny(&self, g: &Graph, ns: &str) -> (bool, bool) {
        if !self.in_scope(ns) {
            return (false, false);
        }
        let mut out = (false, false);
        for p in self
            .parts
            .iter()
            .filter(|p| p.covers_namespace(self.kind, g, ns))
        {
            out.0 |= p.ingress.direction().allows_nothing;
            out.1 |= p.egress.direction().allows_nothing;
        }
        out
    }
}

impl Part {
    fn selects(&self, g: &Graph, labels: &PodLabels<'_>, ns: &str) -> bool {
        match &self.pods {
            PodSelector::Nothing => false,
            PodSelector::Labels(sel) => sel.matches(&labels.all()),
            PodSelector::Calico {
                selector,
                namespaces,
                service_accounts,
            } => {
                namespaces
                    .as_ref()
                    .is_none_or(|n| namespace_selected(g, n, ns))
                    && selector.matches(&|k| labels.get(k), false)
                    && service_accounts.as_ref().is_none_or(|sa| {
                        service_account_selected(g, sa, ns, labels.get(CALICO_SERVICE_ACCOUNT))
                    })
            }
        }
    }

    /// Whether the part selects every pod of `ns`, whatever the pod's labels: its selector
    /// reads only namespace-derived labels and matches the namespace.
    fn covers_namespace(&self, kind: PolicyKind, g: &Graph, ns: &str) -> bool {
        let ns_labels = namespace_derived_labels(kind, g, ns);
        let is_ns_key = |k: &str| ns_labels.iter().any(|(x, _)| &**x == k);
        let only_ns_keys = |keys: &[&str]| {
            keys.iter().all(|k| {
                is_ns_key(k)
                    || k.starts_with(CILIUM_NAMESPACE_LABELS)
                    || k.starts_with(CALICO_NAMESPACE_LABELS)
            })
        };
        match &self.pods {
            PodSelector::Nothing => false,
            PodSelector::Labels(sel) => {
                let LabelSelector::Match { labels, exprs } = sel else {
                    return false;
                };
                let keys: Vec<&str> = labels
                    .iter()
                    .map(|(k, _)| &**k)
                    .chain(exprs.iter().map(|r| &*r.key))
                    .collect();
                only_ns_keys(&keys) && sel.matches(&ns_labels)
            }
            PodSelector::Calico {
                selector,
                namespaces,
                service_accounts,
            } => {
                service_accounts.is_none()
                    && only_ns_keys(&selector.keys())
                    && namespaces
                        .as_ref()
                        .is_none_or(|n| namespace_selected(g, n, ns))
                    && selector.matches(
                        &|k| ns_labels.iter().find(|(x, _)| &**x == k).map(|(_, v)| &**v),
                        false,
                    )
            }
        }
    }
}

/// The labels every pod of namespace `ns` carries for one kind of policy, whatever its own
/// labels: the namespace's name and, prefixed, the namespace's labels.
fn namespace_derived_labels(kind: PolicyKind, g: &Graph, ns: &str) -> Vec<Label> {
    let (prefix, name_key) = match kind {
        PolicyKind::Kubernetes => return Vec::new(),
        PolicyKind::Cilium | PolicyKind::CiliumClusterwide => {
            (CILIUM_NAMESPACE_LABELS, CILIUM_NAMESPACE)
        }
        PolicyKind::Calico | PolicyKind::CalicoGlobal => {
            (CALICO_NAMESPACE_LABELS, CALICO_NAMESPACE)
        }
    };
    let mut v: Vec<Label> = g
        .namespace_labels(ns)
        .into_iter()
        .map(|(k, val)| (format!("{prefix}{k}").into(), val))
        .collect();
    v.push((name_key.into(), ns.into()));
    if prefix == CALICO_NAMESPACE_LABELS {
        v.push(("projectcalico.org/orchestrator".into(), "k8s".into()));
    }
    v
}

/// Whether a Calico `serviceAccountSelector` selects the ServiceAccount `name` of
/// namespace `ns`, matched on its labels in the input plus `projectcalico.org/name`.
fn service_account_selected(
    g: &Graph,
    sel: &calico::Selector,
    ns: &str,
    name: Option<&str>,
) -> bool {
    let Some(name) = name else {
        return false;
    };
    let sa = g
        .find("", "ServiceAccount", Some(ns), name)
        .and_then(|id| g.object(id));
    sel.matches(
        &|k| {
            if k == CALICO_NAMESPACE_NAME {
                return Some(name);
            }
            sa.and_then(|o| o.label(k))
        },
        false,
    )
}

/// Whether a Calico `namespaceSelector` selects namespace `ns`.
fn namespace_selected(g: &Graph, sel: &calico::Selector, ns: &str) -> bool {
    let labels = g.namespace_labels(ns);
    sel.matches(
        &|k| {
            if k == CALICO_NAMESPACE_NAME {
                return Some(ns);
            }
            labels.iter().find(|(x, _)| &**x == k).map(|(_, v)| &**v)
        },
        false,
    )
}

/// Strips a Cilium label source prefix: `k8s:` and `any:` select pod labels; any other
/// source (`reserved:`, `cidr:`...) is kept, so it never matches a pod label.
fn cilium_key(key: &str) -> Box<str> {
    key.strip_prefix("k8s:")
        .or_else(|| key.strip_prefix("any:"))
        .unwrap_or(key)
        .into()
}

fn cilium_selector(doc: &Document, rule: NodeId) -> PodSelector {
    let Some(node) = doc
        .get(rule, "endpointSelector")
        .filter(|&n| !doc.is_null(n))
    else {
        // a `nodeSelector` rule (or none at all) selects no pod
        return PodSelector::Nothing;
    };
    match LabelSelector::from_label_selector(doc, Some(node), Missing::Nothing) {
        LabelSelector::Nothing => PodSelector::Nothing,
        LabelSelector::Match { labels, exprs } => PodSelector::Labels(LabelSelector::Match {
            labels: labels
                .into_iter()
                .map(|(k, v)| (cilium_key(&k).into(), v))
                .collect(),
            exprs: exprs
                .into_iter()
                .map(|mut r| {
                    r.key = cilium_key(&r.key);
                    r
                })
                .collect(),
        }),
    }
}

fn cilium_part(doc: &Document, rule: NodeId) -> Part {
    let entries = |key: &str| doc.get(rule, key).map_or(&[][..], |n| doc.seq(n));
    let enabled = |dir: &str| {
        doc.get(rule, "enableDefaultDeny")
            .and_then(|d| doc.get(d, dir))
            .and_then(|n| doc.bool(n))
            != Some(false)
    };
    let direction = |allow: &str, deny: &str, dir: &str| {
        let rules = entries(allow);
        Dir {
            isolates: (!rules.is_empty() || !entries(deny).is_empty()) && enabled(dir),
            // `ingress: [{}]` is Cilium's default-deny idiom: a rule that matches no peer
            allows: rules.iter().any(|&r| !doc.map(r).is_empty()),
        }
    };
    Part {
        pods: cilium_selector(doc, rule),
        ingress: direction("ingress", "ingressDeny", "ingress"),
        egress: direction("egress", "egressDeny", "egress"),
    }
}

fn calico_part(doc: &Document, spec: Option<NodeId>, global: bool) -> Part {
    let at = |key: &str| {
        spec.and_then(|s| doc.get(s, key))
            .filter(|&n| !doc.is_null(n))
    };
    let parse = |key: &str| match at(key) {
        None => Some(calico::Selector::All),
        Some(n) => doc.str(n).and_then(calico::Selector::parse),
    };
    // an optional selector that is given but does not parse selects nothing
    let optional = |key: &str| at(key).map(|_| parse(key));
    let namespaces = if global {
        optional("namespaceSelector")
    } else {
        None
    };
    let pods = match (
        parse("selector"),
        namespaces,
        optional("serviceAccountSelector"),
    ) {
        (None, _, _) | (_, Some(None), _) | (_, _, Some(None)) => PodSelector::Nothing,
        (Some(selector), namespaces, service_accounts) => PodSelector::Calico {
            selector,
            namespaces: namespaces.flatten(),
            service_accounts: service_accounts.flatten(),
        },
    };
    let rules = |key: &str| at(key).map_or(&[][..], |n| doc.seq(n));
    let types = at("types").map_or(&[][..], |n| doc.seq(n));
    let (ingress, egress) = if types.is_empty() {
        let (i, e) = (!rules("ingress").is_empty(), !rules("egress").is_empty());
        (i || !e, e)
    } else {
        let has = |t: &str| types.iter().any(|&n| doc.str(n) == Some(t));
        (has("Ingress"), has("Egress"))
    };
    // `Allow` admits traffic; `Pass` hands it to the next tier, which may admit it
    let allows = |key: &str| {
        rules(key)
            .iter()
            .any(|&r| matches!(doc.str_at(r, &["action"]), Some("Allow" | "Pass")))
    };
    Part {
        pods,
        ingress: Dir {
            isolates: ingress,
            allows: ingress && allows("ingress"),
        },
        egress: Dir {
            isolates: egress,
            allows: egress && allows("egress"),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    /// Workloads 0-3: `web` and `api` in `a` (team x), `db` in `b`, `job` in `a` with
    /// service account `batch`; namespace `a` labelled `team: x` (object 4).
    const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web, tier: front}}
spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: a}
spec:
  template:
    metadata: {labels: {app: api, tier: back}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: a}
spec: {serviceAccountName: batch, containers: [{name: c}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: x}}
"#;

    /// The graph of the pods and one policy (object 5).
    fn with(policy: &str) -> Graph {
        graph(&format!("{PODS}---\n{policy}"))
    }

    fn isolated(g: &Graph) -> (Vec<ObjId>, Vec<ObjId>) {
        let mut i = Vec::new();
        let mut e = Vec::new();
        for w in 0..4 {
            if g.ingress_policies(w).contains(&5) {
                i.push(w);
            }
            if g.egress_policies(w).contains(&5) {
                e.push(w);
            }
        }
        (i, e)
    }

    #[test]
    fn kubernetes_policy() {
        let g = with(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}, egress: [{}]}\n",
        );
        assert_eq!(g.selected(5), &[0]);
        assert_eq!(isolated(&g), (vec![0], vec![0]));
        assert_eq!(g.policy(5).map(Policy::isolates), Some((true, true)));
    }

    #[test]
    fn cilium_endpoint_selector() {
        let cases = [
            // empty: every pod of the namespace
            (
                "endpointSelector: {}\n  ingress: [{}]",
                vec![0, 1, 3],
                vec![],
            ),
            (
                "endpointSelector: {matchLabels: {k8s:app: web}}\n  egress: [{toEntities: [world]}]",
                vec![],
                vec![0],
            ),
            (
                "endpointSelector: {matchLabels: {any:tier: back}}\n  ingressDeny: [{fromEntities: [world]}]",
                vec![1],
                vec![],
            ),
            // namespace labels and service account labels
            (
                "endpointSelector: {matchLabels: {io.cilium.k8s.policy.serviceaccount: batch}}\n  ingress: [{}]",
                vec![3],
                vec![],
            ),
            // another source never matches a pod label
            (
                "endpointSelector: {matchLabels: {reserved:host: ''}}\n  ingress: [{}]",
                vec![],
                vec![],
            ),
            // default deny switched off: selected, not isolated
            (
                "endpointSelector: {}\n  enableDefaultDeny: {ingress: false}\n  ingress: [{fromEntities: [cluster]}]",
                vec![],
                vec![],
            ),
            // no rules: selects, isolates nothing
            ("endpointSelector: {}", vec![], vec![]),
            // a node selector selects nodes, not pods
            ("nodeSelector: {}\n  ingress: [{}]", vec![], vec![]),
        ];
        for (spec, ingress, egress) in cases {
            let g = with(&format!(
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  {spec}\n"
            ));
            assert_eq!(isolated(&g), (ingress, egress), "{spec}");
        }
        let g = with(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  endpointSelector: {}\n",
        );
        assert_eq!(g.selected(5), &[0, 1, 3]);
        assert_eq!(g.selected_by(0, "CiliumNetworkPolicy").count(), 1);
    }

    #[test]
    fn cilium_specs_list() {
        let g = with(
            r#"apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: a}
specs:
- endpointSelector: {matchLabels: {app: web}}
  ingress: [{fromEndpoints: [{matchLabels: {app: api}}]}]
- endpointSelector: {matchLabels: {app: api}}
  egress: [{}]
"#,
        );
        assert_eq!(g.selected(5), &[0, 1]);
        assert_eq!(isolated(&g), (vec![0], vec![1]));
    }

    #[test]
    fn cilium_clusterwide() {
        let ccnp = |sel: &str| {
            with(&format!(
                "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: p}}\nspec:\n  endpointSelector: {sel}\n  ingress: [{{}}]\n"
            ))
        };
        let g = ccnp("{}");
        assert_eq!(g.objects[5].namespace, None);
        assert_eq!(isolated(&g).0, vec![0, 1, 2, 3]);
        let g = ccnp("{matchLabels: {k8s:io.kubernetes.pod.namespace: b}}");
        assert_eq!(isolated(&g).0, vec![2]);
        let g = ccnp("{matchLabels: {io.cilium.k8s.namespace.labels.team: x, app: api}}");
        assert_eq!(isolated(&g).0, vec![1]);
        let g = ccnp(
            "{matchExpressions: [{key: io.kubernetes.pod.namespace, operator: NotIn, values: [a]}]}",
        );
        assert_eq!(isolated(&g).0, vec![2]);
        assert_eq!(g.default_deny_policies("b"), (vec![5], vec![]));
        assert_eq!(g.default_deny_policies("a"), (vec![], vec![]));
    }

    #[test]
    fn calico_policy() {
        let cases = [
            ("selector: app == 'web'", vec![0], vec![]),
            ("selector: has(tier)", vec![0, 1], vec![]),
            ("selector: all()", vec![0, 1, 3], vec![]),
            ("{}", vec![0, 1, 3], vec![]),
            ("selector: \"!has(app)\"", vec![3], vec![]),
            (
                "selector: tier in {'front', 'back'} && app != 'web'",
                vec![1],
                vec![],
            ),
            ("selector: app == 'db'", vec![], vec![]),
            (
                "selector: pcns.team == 'x' && projectcalico.org/serviceaccount == 'batch'",
                vec![3],
                vec![],
            ),
            // unknown syntax selects nothing
            ("selector: app = web", vec![], vec![]),
            // egress rules only: Egress only (Calico's default, unlike Kubernetes)
            (
                "selector: app == 'web'\n  egress: [{action: Allow}]",
                vec![],
                vec![0],
            ),
            (
                "selector: app == 'web'\n  ingress: [{action: Allow}]\n  egress: [{action: Deny}]",
                vec![0],
                vec![0],
            ),
            ("selector: app == 'web'\n  types: [Egress]", vec![], vec![0]),
            // the pod's ServiceAccount, by its labels or its name
            ("serviceAccountSelector: role == 'batch'", vec![3], vec![]),
            (
                "serviceAccountSelector: projectcalico.org/name == 'default'",
                vec![0, 1],
                vec![],
            ),
            ("serviceAccountSelector: \"role = x\"", vec![], vec![]),
        ];
        for (spec, ingress, egress) in cases {
            let g = with(&format!(
                "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  {spec}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: batch, namespace: a, labels: {{role: batch}}}}\n"
            ));
            assert_eq!(isolated(&g), (ingress, egress), "{spec}");
        }
    }

    #[test]
    fn calico_policy_is_not_a_kubernetes_one() {
        // same kind name, another group: no `podSelector`, and `types` not `policyTypes`
        let g = with(
            "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {selector: app == 'web', types: [Egress]}\n",
        );
        assert_eq!(g.policy(5).map(|p| p.kind), Some(PolicyKind::Calico));
        assert_eq!(g.selected(5), &[0]);
        assert_eq!(g.policy(5).map(Policy::isolates), Some((false, true)));
        assert_eq!(g.default_deny_policies("a"), (vec![], vec![]));
    }

    #[test]
    fn calico_global_policy() {
        let gnp = |extra: &str| {
            with(&format!(
                "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: p}}\nspec:\n  {extra}\n"
            ))
        };
        let g = gnp("selector: all()");
        assert_eq!(g.objects[5].namespace, None);
        assert_eq!(isolated(&g).0, vec![0, 1, 2, 3]);
        assert_eq!(g.default_deny_policies("b"), (vec![5], vec![]));
        let g = gnp("selector: has(app)\n  namespaceSelector: team == 'x'");
        assert_eq!(isolated(&g).0, vec![0, 1]);
        let g = gnp("namespaceSelector: projectcalico.org/name == 'b'\n  types: [Ingress, Egress]");
        assert_eq!(isolated(&g), (vec![2], vec![2]));
        assert_eq!(g.default_deny_policies("b"), (vec![5], vec![5]));
        assert_eq!(g.default_deny_policies("a"), (vec![], vec![]));
        let g = gnp("namespaceSelector: global()");
        assert_eq!(isolated(&g).0, Vec::<ObjId>::new());
        let g = gnp("selector: all()\n  ingress: [{action: Allow}]");
        assert_eq!(g.default_deny_policies("b"), (vec![], vec![]));
    }

    #[test]
    fn kubernetes_default_deny() {
        let g = with(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
        );
        assert_eq!(g.default_deny_policies("a"), (vec![5], vec![5]));
        assert_eq!(g.default_deny_policies("b"), (vec![], vec![]));
        let g = with(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {matchLabels: {app: web}}}\n",
        );
        assert_eq!(g.default_deny_policies("a"), (vec![], vec![]));
    }
}
