//! Identity: the service account each workload runs as, token automounting, and RBAC
//! (bindings → roles, bindings → subjects, an index of bindings by subject, and ClusterRole
//! aggregation). Everything is computed once when the graph is built.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::index::PerObject;
use super::selector::{LabelIndex, LabelSelector, Missing};
use super::{Graph, ObjId, nonempty_str};
use crate::FastHash;
use crate::model::NodeId;

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The service account a workload's pods run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountRef {
    /// `spec.serviceAccountName`, else the deprecated `spec.serviceAccount`, else `default`
    /// (the account object's own name string when the input has it).
    pub name: Arc<str>,
    /// The workload's namespace.
    pub namespace: Arc<str>,
    /// The `ServiceAccount` object, when the input has it.
    pub target: Option<ObjId>,
    /// The node of the name, when the pod spec names one (`None`: the default applies).
    pub at: Option<NodeId>,
}

/// The role a binding grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRef {
    /// `roleRef.kind`: `Role` or `ClusterRole`.
    pub kind: Box<str>,
    /// `roleRef.name`.
    pub name: Box<str>,
    /// The role object, when the input has it (a `Role` in the binding's namespace, or a
    /// `ClusterRole`; a `ClusterRoleBinding` can only grant a `ClusterRole`).
    pub target: Option<ObjId>,
    /// The node of `roleRef.name`, when present.
    pub at: Option<NodeId>,
}

/// One subject of a binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: Box<str>,
    /// The subject's name.
    pub name: Box<str>,
    /// For a `ServiceAccount`, its namespace (defaulting to a RoleBinding's namespace).
    pub namespace: Option<Box<str>>,
    /// The subject's mapping node.
    pub node: NodeId,
}

/// Bindings by two names (attack-path relations ask for a service account's bindings for
/// every row).
type NameTable = HashMap<Box<str>, HashMap<Box<str>, Vec<ObjId>, FastHash>, FastHash>;

/// Identity relations. The per-object ones are tables of the objects that have them
/// (workloads, bindings, aggregating ClusterRoles), not a slot for every object.
#[derive(Debug, Default)]
pub(crate) struct Identity {
    /// Per workload, its service account and whether its token is mounted.
    service_accounts: PerObject<(ServiceAccountRef, bool)>,
    role_refs: PerObject<RoleRef>,
    subjects: PerObject<Subject>,
    /// namespace → name → bindings naming that service account.
    by_sa: NameTable,
    /// kind → name → bindings (users and groups).
    by_subject: NameTable,
    aggregates: PerObject<ObjId>,
}

fn is_binding(g: &Graph, id: ObjId) -> bool {
    g.object(id).is_some_and(|o| {
        o.group() == RBAC_GROUP && matches!(&*o.kind, "RoleBinding" | "ClusterRoleBinding")
    })
}

impl Identity {
    pub(crate) fn build(g: &Graph) -> Identity {
        let n = g.objects.len();
        let mut id = Identity::default();
        // one name for every workload that runs as a `default` account the input lacks
        let default: Arc<str> = Arc::from("default");
        let accounts: Vec<(ObjId, (ServiceAccountRef, bool))> = g
            .all_workloads()
            .par_iter()
            .filter_map(|&w| {
                let sa = service_account(g, w, &default)?;
                let auto = automount(g, w, sa.target);
                Some((w, (sa, auto)))
            })
            .collect();
        id.service_accounts = PerObject::from_pairs(n, accounts);
        let (mut role_refs, mut all_subjects) = (Vec::new(), Vec::new());
        for b in g.ids() {
            if !is_binding(g, b) {
                continue;
            }
            if let Some(r) = role_ref(g, b) {
                role_refs.push((b, r));
            }
            for s in subjects(g, b) {
                id.index_subject(b, &s);
                all_subjects.push((b, s));
            }
        }
        id.role_refs = PerObject::from_pairs(n, role_refs);
        id.subjects = PerObject::from_pairs(n, all_subjects);
        id.aggregates = PerObject::from_pairs(n, aggregation(g));
        id
    }

    fn index_subject(&mut self, b: ObjId, s: &Subject) {
        let push = |m: &mut NameTable, a: &str, n: &str| {
            let list = m.entry(a.into()).or_default().entry(n.into()).or_default();
            if list.last() != Some(&b) {
                list.push(b);
            }
        };
        if &*s.kind != "ServiceAccount" {
            push(&mut self.by_subject, &s.kind, &s.name);
        }
        if let Some((ns, name)) = named_service_account(s) {
            push(&mut self.by_sa, ns, name);
        }
    }
}

/// The service account `(namespace, name)` a subject names: a `ServiceAccount` subject with
/// a namespace, or the user `system:serviceaccount:<ns>:<name>` (a service account's user
/// name).
fn named_service_account(s: &Subject) -> Option<(&str, &str)> {
    match &*s.kind {
        "ServiceAccount" => s.namespace.as_deref().map(|ns| (ns, &*s.name)),
        "User" => s
            .name
            .strip_prefix("system:serviceaccount:")
            .and_then(|r| r.split_once(':')),
        _ => None,
    }
}

fn service_account(g: &Graph, w: ObjId, default: &Arc<str>) -> Option<ServiceAccountRef> {
    let o = g.object(w)?;
    let namespace = o.namespace.clone()?;
    let (doc, _) = g.doc_node(w)?;
    let spec = o.workload.as_ref()?.pod_spec();
    let named = |key: &str| {
        spec.and_then(|s| doc.get(s, key))
            .and_then(|n| Some((nonempty_str(doc, n)?, n)))
    };
    let (name, at) = match named("serviceAccountName").or_else(|| named("serviceAccount")) {
        Some((name, at)) => (name, Some(at)),
        None => ("default", None),
    };
    let target = g.find("", "ServiceAccount", Some(&namespace), name);
    let name = match target.and_then(|t| g.object(t)) {
        Some(o) if *o.name == *name => Arc::clone(&o.name),
        _ if name == &**default => Arc::clone(default),
        _ => Arc::from(name),
    };
    Some(ServiceAccountRef {
        name,
        target,
        namespace,
        at,
    })
}

fn automount(g: &Graph, w: ObjId, sa: Option<ObjId>) -> bool {
    let key = "automountServiceAccountToken";
    let pod = g.doc_node(w).and_then(|(doc, _)| {
        let spec = g.workload(w)?.pod_spec()?;
        doc.bool(doc.get(spec, key)?)
    });
    let account = sa
        .and_then(|sa| g.doc_node(sa))
        .and_then(|(doc, node)| doc.bool(doc.get(node, key)?));
    pod.or(account).unwrap_or(true)
}

fn role_ref(g: &Graph, b: ObjId) -> Option<RoleRef> {
    let o = g.object(b)?;
    let (doc, node) = g.doc_node(b)?;
    let r = doc.get(node, "roleRef")?;
    let kind = doc.str_at(r, &["kind"]).unwrap_or("");
    let at = doc.get(r, "name");
    let name = at.and_then(|n| doc.str(n)).unwrap_or("");
    let target = match (kind, &*o.kind) {
        ("Role", "RoleBinding") => g.find(RBAC_GROUP, "Role", o.namespace.as_deref(), name),
        ("ClusterRole", _) => g.find(RBAC_GROUP, "ClusterRole", None, name),
        _ => None,
    };
    Some(RoleRef {
        kind: kind.into(),
        name: name.into(),
        target,
        at,
    })
}

fn subjects(g: &Graph, b: ObjId) -> Vec<Subject> {
    let (Some(o), Some((doc, node))) = (g.object(b), g.doc_node(b)) else {
        return Vec::new();
    };
    let Some(list) = doc.get(node, "subjects") else {
        return Vec::new();
    };
    doc.seq(list)
        .iter()
        .filter_map(|&s| {
            let kind = doc.str_at(s, &["kind"])?;
            let name = doc.str_at(s, &["name"])?;
            let namespace = match kind {
                "ServiceAccount" => doc
                    .get(s, "namespace")
                    .and_then(|n| nonempty_str(doc, n))
                    .map(Box::from)
                    .or_else(|| o.namespace.as_deref().map(Box::from)),
                _ => None,
            };
            Some(Subject {
                kind: kind.into(),
                name: name.into(),
                namespace,
                node: s,
            })
        })
        .collect()
}

/// Direct aggregation edges: an aggregating ClusterRole → the ClusterRoles its
/// `aggregationRule.clusterRoleSelectors` select (by their labels).
fn aggregation(g: &Graph) -> Vec<(ObjId, ObjId)> {
    let mut out = Vec::new();
    let roles: Vec<ObjId> = g
        .by_kind("ClusterRole")
        .iter()
        .copied()
        .filter(|&r| g.object(r).is_some_and(|o| o.group() == RBAC_GROUP))
        .collect();
    let mut index = LabelIndex::default();
    for &r in &roles {
        if let Some(o) = g.object(r) {
            index.add("", r, &o.labels);
        }
    }
    index.finish();
    let labels_of = |id: ObjId| g.object(id).map_or(&[][..], |o| &o.labels[..]);
    for &r in &roles {
        let Some((doc, node)) = g.doc_node(r) else {
            continue;
        };
        let Some(sels) = doc.path(node, &["aggregationRule", "clusterRoleSelectors"]) else {
            continue;
        };
        let mut selected: Vec<ObjId> = doc
            .seq(sels)
            .iter()
            .flat_map(|&s| {
                let sel = LabelSelector::from_label_selector(doc, Some(s), Missing::Nothing);
                index.select("", &sel, labels_of)
            })
            .filter(|&x| x != r)
            .collect();
        selected.sort_unstable();
        selected.dedup();
        out.extend(selected.into_iter().map(|x| (r, x)));
    }
    out
}

impl Graph {
    /// The service account a workload runs as (`None` for objects that are not workloads or
    /// have no namespace).
    pub fn service_account(&self, w: ObjId) -> Option<&ServiceAccountRef> {
        self.ident.service_accounts.get(w).first().map(|(sa, _)| sa)
    }

    /// Whether a workload's pods get a service account token mounted: the pod spec's
    /// `automountServiceAccountToken` if set, else the ServiceAccount's if the input has it,
    /// else `true`. `false` for objects that are not workloads.
    pub fn automounts_token(&self, w: ObjId) -> bool {
        self.ident
            .service_accounts
            .get(w)
            .first()
            .is_some_and(|(_, auto)| *auto)
    }

    /// The role a `RoleBinding` or `ClusterRoleBinding` grants (`None` for other objects or
    /// a binding without `roleRef`).
    pub fn binding_role(&self, b: ObjId) -> Option<&RoleRef> {
        self.ident.role_refs.get(b).first()
    }

    /// The subjects of a binding, in source order (subjects without kind or name skipped).
    pub fn subjects(&self, b: ObjId) -> &[Subject] {
        self.ident.subjects.get(b)
    }

    /// The ServiceAccount objects of the input a binding applies to, sorted by id, without
    /// repeats: exactly those whose [`Graph::bindings_for_service_account`] lists the binding
    /// (a `ServiceAccount` subject, the user `system:serviceaccount:<ns>:<name>`, every
    /// service account of `<ns>` for the group `system:serviceaccounts:<ns>`, and every one
    /// for `system:serviceaccounts` and `system:authenticated`).
    pub fn service_accounts_of_binding(&self, b: ObjId) -> Vec<ObjId> {
        let mut out = Vec::new();
        let named = |out: &mut Vec<ObjId>, ns: &str, name: &str| {
            out.extend(
                self.in_namespace("ServiceAccount", ns)
                    .iter()
                    .copied()
                    .filter(|&sa| self.object(sa).is_some_and(|o| &*o.name == name)),
            );
        };
        for s in self.subjects(b) {
            if let Some((ns, name)) = named_service_account(s) {
                named(&mut out, ns, name);
                continue;
            }
            match (&*s.kind, &*s.name) {
                ("Group", "system:serviceaccounts" | "system:authenticated") => {
                    out.extend_from_slice(self.by_kind("ServiceAccount"));
                }
                ("Group", group) => {
                    if let Some(ns) = group.strip_prefix("system:serviceaccounts:") {
                        out.extend_from_slice(self.in_namespace("ServiceAccount", ns));
                    }
                }
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every binding that applies to the service account `namespace/name`: subjects of kind
    /// `ServiceAccount` naming it, the user `system:serviceaccount:<ns>:<name>`, and the groups
    /// `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
    /// Sorted by id, without repeats.
    pub fn bindings_for_service_account(&self, namespace: &str, name: &str) -> Vec<ObjId> {
        let mut out: Vec<ObjId> = self
            .ident
            .by_sa
            .get(namespace)
            .and_then(|m| m.get(name))
            .map(|l| l.to_vec())
            .unwrap_or_default();
        let ns_group = format!("system:serviceaccounts:{namespace}");
        for group in ["system:serviceaccounts", &ns_group, "system:authenticated"] {
            out.extend_from_slice(self.bindings_for_subject("Group", group));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The bindings naming a `User` or `Group` subject exactly, in input order.
    pub fn bindings_for_subject(&self, kind: &str, name: &str) -> &[ObjId] {
        self.ident
            .by_subject
            .get(kind)
            .and_then(|m| m.get(name))
            .map_or(&[], Vec::as_slice)
    }

    /// The ClusterRoles an aggregating ClusterRole selects directly, sorted by id.
    pub fn aggregates(&self, role: ObjId) -> &[ObjId] {
        self.ident.aggregates.get(role)
    }

    /// The rule nodes (items of `rules`) that a Role or ClusterRole grants, each with the
    /// role it comes from: its own rules, and for a ClusterRole with an `aggregationRule`, the
    /// rules of every ClusterRole it aggregates, transitively (cycles are visited once).
    pub fn effective_rules(&self, role: ObjId) -> Vec<(ObjId, NodeId)> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::from([role]);
        let mut queue = std::collections::VecDeque::from([role]);
        while let Some(r) = queue.pop_front() {
            if let Some((doc, node)) = self.doc_node(r) {
                if let Some(rules) = doc.get(node, "rules") {
                    out.extend(doc.seq(rules).iter().map(|&n| (r, n)));
                }
            }
            for &next in self.aggregates(r) {
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    #[test]
    fn service_account_and_automount() {
        let g = graph(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns1}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns1}
spec: {serviceAccountName: builder, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: ns1}
spec: {serviceAccount: old, automountServiceAccountToken: true, containers: [{name: c}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ns1}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: old, namespace: ns1}
automountServiceAccountToken: false
"#,
        );
        let a = g.service_account(0).unwrap();
        assert_eq!(
            (&*a.name, &*a.namespace, a.target, a.at),
            ("default", "ns1", None, None)
        );
        let b = g.service_account(1).unwrap();
        assert_eq!((&*b.name, b.target), ("builder", Some(3)));
        assert!(b.at.is_some());
        assert_eq!(g.service_account(2).unwrap().name.as_ref(), "old");
        assert!(g.automounts_token(0));
        assert!(!g.automounts_token(1));
        assert!(g.automounts_token(2));
        assert!(g.service_account(3).is_none());
    }

    #[test]
    fn bindings_and_index() {
        let g = graph(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: ns1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: app}
- {kind: ServiceAccount, name: x, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: view}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: view}
subjects: [{kind: Group, name: "system:serviceaccounts:ns1"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb2, namespace: ns1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: local}
subjects:
- {kind: User, name: "system:serviceaccount:ns1:app"}
- {kind: Group, name: devs}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: local, namespace: ns1}
"#,
        );
        let r = g.binding_role(0).unwrap();
        assert_eq!(
            (&*r.kind, &*r.name, r.target),
            ("ClusterRole", "view", Some(1))
        );
        // a ClusterRoleBinding cannot grant a Role
        assert_eq!(g.binding_role(2).unwrap().target, None);
        assert_eq!(g.binding_role(3).unwrap().target, Some(4));
        let s = g.subjects(0);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].namespace.as_deref(), Some("ns1"));
        assert_eq!(s[1].namespace.as_deref(), Some("other"));
        assert_eq!(g.bindings_for_service_account("ns1", "app"), vec![0, 2, 3]);
        assert_eq!(g.bindings_for_service_account("ns1", "other"), vec![2]);
        assert_eq!(g.bindings_for_service_account("other", "x"), vec![0]);
        assert_eq!(
            g.bindings_for_service_account("m", "app"),
            Vec::<ObjId>::new()
        );
        assert_eq!(g.bindings_for_subject("Group", "devs"), &[3]);
    }

    #[test]
    fn aggregated_rules_union_cycle_safe() {
        let g = graph(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {agg/top: "true"}}]
rules: [{verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mid, labels: {agg/top: "true"}}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {agg/mid: "true"}}]
rules: [{verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf, labels: {agg/mid: "true"}}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {agg/top: "true"}}]
rules: [{verbs: [watch]}, {verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: unrelated, labels: {agg/other: "true"}}
rules: [{verbs: [delete]}]
"#,
        );
        assert_eq!(g.aggregates(0), &[1]);
        let from: Vec<ObjId> = g.effective_rules(0).iter().map(|(r, _)| *r).collect();
        assert_eq!(from, vec![0, 1, 2, 2]);
        let verbs: Vec<&str> = g
            .effective_rules(0)
            .iter()
            .filter_map(|&(r, n)| {
                let doc = g.doc(r)?;
                doc.str(doc.seq(doc.get(n, "verbs")?).first().copied()?)
            })
            .collect();
        assert_eq!(verbs, vec!["get", "list", "watch", "create"]);
        assert_eq!(g.effective_rules(3).len(), 1);
    }

    #[test]
    fn service_accounts_of_binding_inverts_bindings() {
        let g = graph(
            r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: ns1}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: b, namespace: ns1}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: ns2}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: direct, namespace: ns1}
roleRef: {kind: Role, name: r}
subjects:
  - {kind: ServiceAccount, name: a}
  - {kind: ServiceAccount, name: missing, namespace: ns1}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: as-user, namespace: ns1}
roleRef: {kind: Role, name: r}
subjects: [{kind: User, name: "system:serviceaccount:ns2:a"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ns-group, namespace: ns2}
roleRef: {kind: Role, name: r}
subjects: [{kind: Group, name: "system:serviceaccounts:ns1"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone}
roleRef: {kind: ClusterRole, name: r}
subjects: [{kind: Group, name: "system:authenticated"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: people}
roleRef: {kind: ClusterRole, name: r}
subjects: [{kind: User, name: alice}, {kind: Group, name: "system:serviceaccounts:"}]
"#,
        );
        let names = |ids: Vec<ObjId>| -> Vec<String> {
            ids.iter()
                .filter_map(|&i| g.object(i))
                .map(|o| format!("{}/{}", o.namespace.as_deref().unwrap_or(""), o.name))
                .collect()
        };
        assert_eq!(names(g.service_accounts_of_binding(3)), ["ns1/a"]);
        assert_eq!(names(g.service_accounts_of_binding(4)), ["ns2/a"]);
        assert_eq!(names(g.service_accounts_of_binding(5)), ["ns1/a", "ns1/b"]);
        assert_eq!(
            names(g.service_accounts_of_binding(6)),
            ["ns1/a", "ns1/b", "ns2/a"]
        );
        assert!(g.service_accounts_of_binding(7).is_empty());
        // a service account lists a binding exactly when the binding lists it
        for b in 3..8 {
            for sa in 0..3 {
                let o = g.object(sa).unwrap();
                let listed = g
                    .bindings_for_service_account(o.namespace.as_deref().unwrap_or(""), &o.name)
                    .contains(&b);
                assert_eq!(
                    g.service_accounts_of_binding(b).contains(&sa),
                    listed,
                    "binding {b}, service account {sa}"
                );
            }
        }
    }
}
