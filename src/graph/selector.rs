//! Label selectors with the exact API semantics, a per-namespace label index over workloads'
//! pod labels, and the selection edges of `NetworkPolicy`, `Service` and
//! `PodDisruptionBudget` and of the other network policy kinds (Cilium, Calico; see
//! [`super::netpol`]), forward and reverse, computed once; and from them the policies
//! that isolate each workload, per direction.
//!
//! Selection targets are workloads, matched on their pod labels (the pod template's
//! labels; a Pod's own labels): in the selector's namespace, or for cluster-wide policies
//! in every namespace.

use std::collections::HashMap;
use std::sync::Arc;

use super::index::PerObject;
use super::netpol::{Policy, PolicyKind};
use super::{Graph, Label, ObjId, scalar_text, string_map};
use crate::model::{DocId, Document, NodeId, Value};
use rayon::prelude::*;

/// The label every namespace carries, set by the API server to the namespace's name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A `matchExpressions` operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// The label is present and its value is one of the values.
    In,
    /// The label is absent, or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// One `matchExpressions` requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: Box<str>,
    /// The operator.
    pub op: Operator,
    /// The values (empty for `Exists` and `DoesNotExist`).
    pub values: Vec<Box<str>>,
}

impl Requirement {
    fn matches(&self, labels: &[Label]) -> bool {
        let value = label(labels, &self.key);
        match self.op {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|x| &**x == v)),
            Operator::NotIn => value.is_none_or(|v| self.values.iter().all(|x| &**x != v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A parsed label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelSelector {
    /// Selects nothing: a missing selector where the API says so, or an invalid one (an
    /// unknown operator, `In` without values...).
    Nothing,
    /// Selects objects whose labels satisfy every pair and every requirement; with neither,
    /// selects everything in scope.
    Match {
        /// `matchLabels` (or the pairs of a map selector).
        labels: Vec<Label>,
        /// `matchExpressions`.
        exprs: Vec<Requirement>,
    },
}

/// What a missing (absent or `null`) selector means where it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Selects nothing.
    Nothing,
    /// Selects everything in scope.
    Everything,
}

impl LabelSelector {
    /// The selector that selects everything in scope (`{}`).
    pub fn everything() -> LabelSelector {
        LabelSelector::Match {
            labels: Vec::new(),
            exprs: Vec::new(),
        }
    }

    /// Reads a map selector (a Service's `spec.selector`): `key: value` pairs that must all
    /// match. A missing or empty map gives `missing`.
    pub fn from_map(doc: &Document, node: Option<NodeId>, missing: Missing) -> LabelSelector {
        let Some(node) = node.filter(|&n| !is_null(doc, n)) else {
            return missing.into();
        };
        let Some(Value::Map(entries)) = doc.value(node) else {
            return LabelSelector::Nothing;
        };
        if entries.is_empty() {
            return missing.into();
        }
        let labels = string_map(doc, node);
        if labels.len() != entries.len() {
            return LabelSelector::Nothing;
        }
        LabelSelector::Match {
            labels,
            exprs: Vec::new(),
        }
    }

    /// Reads a `LabelSelector` (`matchLabels` and `matchExpressions`). A missing selector
    /// gives `missing`; `{}` selects everything; anything invalid selects nothing.
    pub fn from_label_selector(
        doc: &Document,
        node: Option<NodeId>,
        missing: Missing,
    ) -> LabelSelector {
        let Some(node) = node.filter(|&n| !is_null(doc, n)) else {
            return missing.into();
        };
        if !doc.is_map(node) {
            return LabelSelector::Nothing;
        }
        let mut labels = Vec::new();
        if let Some(ml) = doc.get(node, "matchLabels").filter(|&n| !is_null(doc, n)) {
            let entries = doc.map(ml);
            labels = string_map(doc, ml);
            if labels.len() != entries.len() || !doc.is_map(ml) {
                return LabelSelector::Nothing;
            }
        }
        let mut exprs = Vec::new();
        if let Some(me) = doc.get(node, "matchExpressions") {
            for &e in doc.seq(me) {
                match requirement(doc, e) {
                    Some(r) => exprs.push(r),
                    None => return LabelSelector::Nothing,
                }
            }
        }
        LabelSelector::Match { labels, exprs }
    }

    /// Whether the selector selects everything in scope.
    pub fn is_everything(&self) -> bool {
        matches!(self, LabelSelector::Match { labels, exprs } if labels.is_empty() && exprs.is_empty())
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &[Label]) -> bool {
        match self {
            LabelSelector::Nothing => false,
            LabelSelector::Match {
                labels: want,
                exprs,
            } => {
                want.iter()
                    .all(|(k, v)| label(labels, k).is_some_and(|l| l == &**v))
                    && exprs.iter().all(|r| r.matches(labels))
            }
        }
    }
}

impl From<Missing> for LabelSelector {
    fn from(m: Missing) -> LabelSelector {
        match m {
            Missing::Nothing => LabelSelector::Nothing,
            Missing::Everything => LabelSelector::everything(),
        }
    }
}

fn is_null(doc: &Document, n: NodeId) -> bool {
    doc.is_null(n)
}

fn label<'a>(labels: &'a [Label], key: &str) -> Option<&'a str> {
    labels.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
}

fn requirement(doc: &Document, e: NodeId) -> Option<Requirement> {
    let key: Box<str> = doc.str_at(e, &["key"]).filter(|k| !k.is_empty())?.into();
    let op = match doc.str_at(e, &["operator"])? {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        _ => return None,
    };
    let values_node = doc.get(e, "values");
    let values: Vec<Box<str>> = values_node
        .map(|v| {
            doc.seq(v)
                .iter()
                .filter_map(|&x| scalar_text(doc, x))
                .collect()
        })
        .unwrap_or_default();
    let given = values_node.map_or(0, |v| doc.seq(v).len());
    if values.len() != given {
        return None;
    }
    let valid = match op {
        Operator::In | Operator::NotIn => !values.is_empty(),
        Operator::Exists | Operator::DoesNotExist => values.is_empty(),
    };
    valid.then_some(Requirement { key, op, values })
}

/// A hash map with the fast hasher the graph's indexes use.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// An inverted label index: the objects of each scope (a namespace) by label key and
/// value. Every label is one entry of two sorted lists, its interned scope, key and value
/// and its object (16 bytes): tables of postings per scope and key held 1.8 KB a namespace,
/// 52 MB for the 28,000 namespaces of a million-object export.
#[derive(Debug, Default)]
pub(crate) struct LabelIndex {
    /// Scopes, keys and values by their text, as numbers.
    ids: FastMap<Arc<str>, u32>,
    /// Each label's (scope, key, value), sorted with the object as the last part.
    labels: Vec<[u32; 3]>,
    /// Each label's object, in the order of `labels`.
    label_objects: Vec<ObjId>,
    /// Each object's scope, sorted with the object as the last part.
    scopes: Vec<u32>,
    /// The objects, in the order of `scopes`.
    scope_objects: Vec<ObjId>,
    /// The scopes' names.
    scope_names: Vec<Arc<str>>,
    /// Whether `finish` sorted what was added.
    sorted: bool,
}

impl LabelIndex {
    fn id(&mut self, text: &str, shared: Option<&Arc<str>>) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let key = shared.map_or_else(|| Arc::from(text), Arc::clone);
        self.ids.insert(key, id);
        id
    }

    /// Adds an object; [`LabelIndex::finish`] makes it one that [`LabelIndex::select`]
    /// finds.
    pub(crate) fn add(&mut self, scope: &str, id: ObjId, labels: &[Label]) {
        let s = self.id(scope, None);
        self.scopes.push(s);
        self.scope_objects.push(id);
        for (k, v) in labels {
            let (k, v) = (self.id(k, Some(k)), self.id(v, Some(v)));
            self.labels.push([s, k, v]);
            self.label_objects.push(id);
        }
        self.sorted = false;
    }

    /// Sorts what was added: each scope's objects, and each label's, by object.
    pub(crate) fn finish(&mut self) {
        fn sort<K: Copy + Ord>(keys: &mut Vec<K>, objects: &mut Vec<ObjId>) {
            let mut pairs: Vec<(K, ObjId)> =
                keys.iter().copied().zip(objects.iter().copied()).collect();
            pairs.sort_unstable();
            pairs.dedup();
            *keys = pairs.iter().map(|p| p.0).collect();
            *objects = pairs.iter().map(|p| p.1).collect();
        }
        sort(&mut self.labels, &mut self.label_objects);
        sort(&mut self.scopes, &mut self.scope_objects);
        let scopes: Vec<u32> = self
            .scopes
            .chunk_by(|a, b| a == b)
            .filter_map(|c| c.first().copied())
            .collect();
        self.scope_names = self
            .ids
            .iter()
            .filter(|(_, id)| scopes.binary_search(id).is_ok())
            .map(|(text, _)| Arc::clone(text))
            .collect();
        self.scope_names.sort_unstable();
        self.sorted = true;
    }

    /// The objects of the labels whose (scope, key, value) starts with `prefix`.
    fn objects_of(&self, prefix: &[u32]) -> &[ObjId] {
        fn starts(l: &[u32; 3], n: usize) -> &[u32] {
            l.get(..n).unwrap_or(&[])
        }
        let n = prefix.len();
        let from = self.labels.partition_point(|l| starts(l, n) < prefix);
        let to = self.labels.partition_point(|l| starts(l, n) <= prefix);
        self.label_objects.get(from..to).unwrap_or(&[])
    }

    /// The objects of a scope that the selector selects, sorted. `labels_of` gives each
    /// candidate's labels for the final check.
    pub(crate) fn select<'a>(
        &self,
        scope: &str,
        sel: &LabelSelector,
        labels_of: impl Fn(ObjId) -> &'a [Label],
    ) -> Vec<ObjId> {
        let LabelSelector::Match { labels, exprs } = sel else {
            return Vec::new();
        };
        let Some(&s) = self.ids.get(scope).filter(|_| self.sorted) else {
            return Vec::new();
        };
        let id = |t: &str| self.ids.get(t).copied();
        let mut lists: Vec<std::borrow::Cow<'_, [ObjId]>> = Vec::new();
        for (k, v) in labels {
            let list = match (id(k), id(v)) {
                (Some(k), Some(v)) => self.objects_of(&[s, k, v]),
                _ => &[],
            };
            lists.push(list.into());
        }
        for r in exprs {
            let key = id(&r.key);
            match r.op {
                Operator::Exists => {
                    // the key's objects of every value, as one sorted list
                    let mut all: Vec<ObjId> =
                        key.map_or(&[][..], |k| self.objects_of(&[s, k])).to_vec();
                    all.sort_unstable();
                    all.dedup();
                    lists.push(all.into());
                }
                Operator::In => {
                    let mut union: Vec<ObjId> = r
                        .values
                        .iter()
                        .filter_map(|v| Some(self.objects_of(&[s, key?, id(v)?])))
                        .flatten()
                        .copied()
                        .collect();
                    union.sort_unstable();
                    union.dedup();
                    lists.push(union.into());
                }
                Operator::NotIn | Operator::DoesNotExist => {}
            }
        }
        lists.sort_by_key(|l| l.len());
        let candidates: Vec<ObjId> = match lists.split_first() {
            None => self.scope_of(s).to_vec(),
            Some((first, rest)) => first
                .iter()
                .copied()
                .filter(|id| rest.iter().all(|l| l.binary_search(id).is_ok()))
                .collect(),
        };
        candidates
            .into_iter()
            .filter(|&id| sel.matches(labels_of(id)))
            .collect()
    }

    fn scope_of(&self, s: u32) -> &[ObjId] {
        let from = self.scopes.partition_point(|&x| x < s);
        let to = self.scopes.partition_point(|&x| x <= s);
        self.scope_objects.get(from..to).unwrap_or(&[])
    }

    /// Every object of a scope, sorted.
    fn scope(&self, scope: &str) -> &[ObjId] {
        match self.ids.get(scope) {
            Some(&s) if self.sorted => self.scope_of(s),
            _ => &[],
        }
    }

    /// The scopes, sorted.
    fn scope_names(&self) -> impl Iterator<Item = &str> {
        self.scope_names.iter().map(|n| &**n)
    }
}

/// The selection edges of the graph.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pods: LabelIndex,
    selected: PerObject<ObjId>,
    selected_by: PerObject<ObjId>,
    /// Every network policy, by object id (sorted).
    policies: Vec<(ObjId, Policy)>,
    /// The policies (indexes into `policies`) confined to one namespace, by namespace;
    /// the others are in `cluster_wide`.
    by_namespace: HashMap<Arc<str>, Vec<usize>>,
    cluster_wide: Vec<usize>,
    /// Per workload, the policies that isolate its ingress (input order).
    ingress: PerObject<ObjId>,
    /// Per workload, the policies that isolate its egress (input order).
    egress: PerObject<ObjId>,
}

/// What one object selects: its policy (if it is one), the workloads it selects (sorted),
/// and for a policy the directions it isolates each of them in.
struct Found {
    id: ObjId,
    policy: Option<Policy>,
    targets: Vec<ObjId>,
    isolated: Vec<(ObjId, bool, bool)>,
}

impl Selection {
    pub(crate) fn build(g: &Graph) -> Selection {
        let n = g.objects.len();
        let mut pods = LabelIndex::default();
        for &id in g.all_workloads() {
            if let Some(o) = g.object(id) {
                if let (Some(ns), Some(w)) = (&o.namespace, &o.workload) {
                    pods.add(ns, id, &w.labels);
                }
            }
        }
        pods.finish();
        let namespaces: Vec<&str> = pods.scope_names().collect();
        // every object's selection, in parallel (the index is only read), in object order
        let found: Vec<Found> = (0..n)
            .into_par_iter()
            .filter_map(|i| {
                let id = ObjId::try_from(i).ok()?;
                select_of(g, id, &pods, &namespaces)
            })
            .collect();
        let mut sel = Selection::default();
        // (object, policy) pairs, in policy order, made into per-object tables at the end
        let (mut selected, mut selected_by) = (Vec::new(), Vec::new());
        let (mut ingress, mut egress) = (Vec::new(), Vec::new());
        for Found {
            id,
            policy,
            targets,
            isolated,
        } in found
        {
            selected_by.extend(targets.iter().map(|&t| (t, id)));
            for (t, i, e) in isolated {
                if i {
                    ingress.push((t, id));
                }
                if e {
                    egress.push((t, id));
                }
            }
            selected.extend(targets.into_iter().map(|t| (id, t)));
            if let Some(p) = policy {
                let at = sel.policies.len();
                match p.scope() {
                    Some(ns) => sel.by_namespace.entry(ns.clone()).or_default().push(at),
                    None => sel.cluster_wide.push(at),
                }
                sel.policies.push((id, p));
            }
        }
        sel.pods = pods;
        let ((s, s_by), (i, e)) = rayon::join(
            || {
                rayon::join(
                    || PerObject::from_pairs(n, selected),
                    || PerObject::from_pairs(n, selected_by),
                )
            },
            || {
                rayon::join(
                    || PerObject::from_pairs(n, ingress),
                    || PerObject::from_pairs(n, egress),
                )
            },
        );
        sel.selected = s;
        sel.selected_by = s_by;
        sel.ingress = i;
        sel.egress = e;
        sel
    }
}

/// The selection of object `id`: `None` for an object that is neither a policy nor has a
/// pod selector.
fn select_of(g: &Graph, id: ObjId, pods: &LabelIndex, namespaces: &[&str]) -> Option<Found> {
    let policy = Policy::read(g, id);
    let mut isolated: Vec<(ObjId, bool, bool)> = Vec::new();
    let targets = match (&policy, g.selector_of(id)) {
        (Some(p), _) if p.kind != PolicyKind::Kubernetes => {
            // policies selecting by other means than a label selector in one
            // namespace are few: each tries the workloads in its scope
            let mut targets = Vec::new();
            for ns in namespaces.iter().filter(|ns| p.in_scope(ns)) {
                for &w in pods.scope(ns) {
                    if let Some((i, e)) = p.applies_to(g, w) {
                        targets.push(w);
                        isolated.push((w, i.isolates, e.isolates));
                    }
                }
            }
            targets.sort_unstable();
            isolated.sort_unstable();
            targets
        }
        (_, Some(selector)) => {
            let ns = g.object(id).and_then(|o| o.namespace.as_deref())?;
            let targets = pods.select(ns, &selector, |t| pod_labels(g, t));
            if let Some(p) = &policy {
                let (i, e) = p.isolates();
                isolated.extend(targets.iter().map(|&t| (t, i, e)));
            }
            targets
        }
        _ => return None,
    };
    Some(Found {
        id,
        policy,
        targets,
        isolated,
    })
}

fn pod_labels(g: &Graph, id: ObjId) -> &[Label] {
    g.workload(id).map_or(&[], |w| &w.labels[..])
}

impl Graph {
    /// The pod selector of a `NetworkPolicy` (`spec.podSelector`; missing selects all pods),
    /// `Service` (`spec.selector` map; missing or empty selects nothing) or
    /// `PodDisruptionBudget` (`spec.selector`; missing selects nothing, and `{}` selects
    /// nothing in `policy/v1beta1` but everything in `policy/v1`). `None` for other kinds.
    pub fn selector_of(&self, id: ObjId) -> Option<LabelSelector> {
        let o = self.object(id)?;
        // most objects are none of these kinds: told from the kind before any lookup
        if !matches!(
            &*o.kind,
            "NetworkPolicy" | "Service" | "PodDisruptionBudget"
        ) {
            return None;
        }
        let (doc, node) = self.doc_node(id)?;
        let spec = doc.get(node, "spec");
        let at = |key: &str| spec.and_then(|s| doc.get(s, key));
        match (o.group(), &*o.kind) {
            ("networking.k8s.io" | "extensions", "NetworkPolicy") => Some(
                LabelSelector::from_label_selector(doc, at("podSelector"), Missing::Everything),
            ),
            ("", "Service") => Some(LabelSelector::from_map(
                doc,
                at("selector"),
                Missing::Nothing,
            )),
            ("policy", "PodDisruptionBudget") => {
                let s = LabelSelector::from_label_selector(doc, at("selector"), Missing::Nothing);
                if &*o.api_version == "policy/v1beta1" && s.is_everything() {
                    Some(LabelSelector::Nothing)
                } else {
                    Some(s)
                }
            }
            _ => None,
        }
    }

    /// The workloads a `NetworkPolicy`, `Service` or `PodDisruptionBudget` selects in its
    /// namespace, or a Cilium or Calico policy selects (see [`super::netpol`]), in input
    /// order (empty for other objects).
    pub fn selected(&self, selector: ObjId) -> &[ObjId] {
        self.sel.selected.get(selector)
    }

    /// Whether `selector` selects the workload `target`.
    pub fn selects(&self, selector: ObjId, target: ObjId) -> bool {
        self.selected(selector).binary_search(&target).is_ok()
    }

    /// The objects of `kind` (`NetworkPolicy`, `Service`, `PodDisruptionBudget`,
    /// `CiliumNetworkPolicy`...) that select a workload, in input order.
    pub fn selected_by<'a>(
        &'a self,
        target: ObjId,
        kind: &'a str,
    ) -> impl Iterator<Item = ObjId> + 'a {
        self.sel
            .selected_by
            .get(target)
            .iter()
            .copied()
            .filter(move |&s| self.object(s).is_some_and(|o| &*o.kind == kind))
    }

    /// The network policy of any kind with this id (`None` for other objects).
    pub fn policy(&self, id: ObjId) -> Option<&Policy> {
        let i = self
            .sel
            .policies
            .binary_search_by_key(&id, |(p, _)| *p)
            .ok()?;
        self.sel.policies.get(i).map(|(_, p)| p)
    }

    /// Every network policy of any kind, in input order.
    pub fn policies(&self) -> impl Iterator<Item = ObjId> + '_ {
        self.sel.policies.iter().map(|(id, _)| *id)
    }

    /// The policies of any kind that isolate a workload's ingress: they select it and
    /// isolate ingress for it (input order). A workload without one accepts connections
    /// from everywhere.
    pub fn ingress_policies(&self, w: ObjId) -> &[ObjId] {
        self.sel.ingress.get(w)
    }

    /// The policies of any kind that isolate a workload's egress (input order).
    pub fn egress_policies(&self, w: ObjId) -> &[ObjId] {
        self.sel.egress.get(w)
    }

    /// The policies of any kind that are a default deny for a namespace, per direction:
    /// they select every pod of the namespace whatever its labels, isolate it and allow
    /// nothing themselves. Input order.
    pub fn default_deny_policies(&self, namespace: &str) -> (Vec<ObjId>, Vec<ObjId>) {
        let mut out = (Vec::new(), Vec::new());
        // only the policies of the namespace and the cluster-wide ones can be in its scope
        let own = self
            .sel
            .by_namespace
            .get(namespace)
            .map_or(&[][..], Vec::as_slice);
        let mut candidates: Vec<usize> =
            own.iter().chain(&self.sel.cluster_wide).copied().collect();
        candidates.sort_unstable();
        for (id, p) in candidates.iter().filter_map(|&i| self.sel.policies.get(i)) {
            let (i, e) = p.default_deny(self, namespace);
            if i {
                out.0.push(*id);
            }
            if e {
                out.1.push(*id);
            }
        }
        out
    }

    /// The workloads of `namespace` that a `LabelSelector` node selects (a missing or null
    /// node selects nothing), such as a NetworkPolicy peer's `podSelector`. Input order.
    pub fn pods_matching(&self, doc: DocId, selector: NodeId, namespace: &str) -> Vec<ObjId> {
        let Some(d) = self.load.docs.get(doc as usize) else {
            return Vec::new();
        };
        let sel = LabelSelector::from_label_selector(d, Some(selector), Missing::Nothing);
        self.sel
            .pods
            .select(namespace, &sel, |t| pod_labels(self, t))
    }

    /// The labels of a namespace: those of its `Namespace` object in the input, plus
    /// `kubernetes.io/metadata.name=<name>`, which every namespace has.
    pub fn namespace_labels(&self, namespace: &str) -> Vec<Label> {
        let mut labels: Vec<Label> = self
            .namespace_object(namespace)
            .and_then(|id| self.object(id))
            .map(|o| o.labels.to_vec())
            .unwrap_or_default();
        labels.retain(|(k, _)| &**k != NAMESPACE_NAME_LABEL);
        labels.push((NAMESPACE_NAME_LABEL.into(), namespace.into()));
        labels
    }

    /// Whether a `namespaceSelector` node (a `LabelSelector`) selects the namespace `name`,
    /// matched against [`Graph::namespace_labels`]. A missing or null node selects nothing.
    pub fn namespace_selector_matches(&self, doc: DocId, selector: NodeId, name: &str) -> bool {
        let Some(d) = self.load.docs.get(doc as usize) else {
            return false;
        };
        LabelSelector::from_label_selector(d, Some(selector), Missing::Nothing)
            .matches(&self.namespace_labels(name))
    }

    /// Which directions a `NetworkPolicy` isolates: `(ingress, egress)`. With `policyTypes`
    /// given (non-empty), exactly those; otherwise Ingress always, and Egress only when
    /// `spec.egress` has rules (the API default).
    pub fn policy_types(&self, np: ObjId) -> (bool, bool) {
        let Some((doc, node)) = self.doc_node(np) else {
            return (false, false);
        };
        let spec = doc.get(node, "spec");
        let types = spec
            .and_then(|s| doc.get(s, "policyTypes"))
            .map_or(&[][..], |t| doc.seq(t));
        if types.is_empty() {
            let egress = spec
                .and_then(|s| doc.get(s, "egress"))
                .is_some_and(|e| !doc.seq(e).is_empty());
            return (true, egress);
        }
        let has = |t: &str| types.iter().any(|&n| doc.str(n) == Some(t));
        (has("Ingress"), has("Egress"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web, tier: front}}
spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: a, labels: {ignored: yes}}
spec:
  template:
    metadata: {labels: {app: api, tier: back}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: a}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: b, labels: {app: web}}
spec: {containers: [{name: c}]}
"#;

    fn with(extra: &str) -> Graph {
        graph(&format!("{PODS}---\n{extra}"))
    }

    #[test]
    fn empty_pod_selector_selects_namespace_only() {
        let g = with(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec: {podSelector: {}}\n",
        );
        assert_eq!(g.selected(4), &[0, 1, 2]);
        assert!(g.selects(4, 2));
        assert!(!g.selects(4, 3));
        assert_eq!(
            g.selected_by(1, "NetworkPolicy").collect::<Vec<_>>(),
            vec![4]
        );
        assert_eq!(g.selected_by(3, "NetworkPolicy").count(), 0);
    }

    #[test]
    fn the_label_index_finds_each_scopes_objects_by_label() {
        let l = |pairs: &[(&str, &str)]| -> Vec<Label> {
            pairs
                .iter()
                .map(|(k, v)| (Arc::from(*k), Arc::from(*v)))
                .collect()
        };
        let mut index = LabelIndex::default();
        // scopes interleaved, and a value that is also a scope's name
        index.add("b", 0, &l(&[("app", "web"), ("tier", "a")]));
        index.add("a", 1, &l(&[("app", "web")]));
        index.add("b", 2, &l(&[("app", "api"), ("tier", "b")]));
        index.add("b", 3, &l(&[("app", "web")]));
        index.add("a", 4, &l(&[]));
        let sel = |text: &str| {
            let parsed = crate::model::yaml::parse(
                &Arc::new(text.to_string()),
                0,
                &crate::model::limits::Limits::default(),
            );
            let doc = parsed.docs.into_iter().next().unwrap().unwrap();
            LabelSelector::from_label_selector(&doc, Some(doc.root), Missing::Nothing)
        };
        let none = |_: ObjId| &[][..];
        let labels = [
            l(&[("app", "web"), ("tier", "a")]),
            l(&[("app", "web")]),
            l(&[("app", "api"), ("tier", "b")]),
            l(&[("app", "web")]),
            l(&[]),
        ];
        let of = |id: ObjId| labels.get(id as usize).map_or(&[][..], |v| v.as_slice());
        // not found before it is sorted
        assert!(
            index
                .select("b", &sel("{matchLabels: {app: web}}"), of)
                .is_empty()
        );
        index.finish();
        assert_eq!(index.scope_names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(index.scope("b"), &[0, 2, 3]);
        assert_eq!(index.scope("a"), &[1, 4]);
        assert_eq!(index.scope("web"), &[] as &[ObjId]);
        assert_eq!(
            index.select("b", &sel("{matchLabels: {app: web}}"), of),
            [0, 3]
        );
        assert_eq!(
            index.select("a", &sel("{matchLabels: {app: web}}"), of),
            [1]
        );
        assert_eq!(
            index.select(
                "b",
                &sel("{matchExpressions: [{key: tier, operator: Exists}]}"),
                of
            ),
            [0, 2]
        );
        assert_eq!(
            index.select(
                "b",
                &sel("{matchExpressions: [{key: app, operator: In, values: [api, web]}]}"),
                of
            ),
            [0, 2, 3]
        );
        assert_eq!(index.select("a", &sel("{}"), of), [1, 4]);
        assert!(index.select("c", &sel("{}"), of).is_empty());
        // the final check is the selector's own, on the labels it is given
        assert!(
            index
                .select("b", &sel("{matchLabels: {app: web}}"), none)
                .is_empty()
        );
    }

    #[test]
    fn match_expressions() {
        let cases = [
            (
                "{matchExpressions: [{key: app, operator: In, values: [web, api]}]}",
                vec![0, 1],
            ),
            (
                "{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}",
                vec![1, 2],
            ),
            (
                "{matchExpressions: [{key: tier, operator: Exists}]}",
                vec![0, 1],
            ),
            (
                "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
                vec![2],
            ),
            (
                "{matchLabels: {app: api}, matchExpressions: [{key: tier, operator: In, values: [back]}]}",
                vec![1],
            ),
            ("{matchLabels: {app: web, tier: back}}", vec![]),
            (
                "{matchExpressions: [{key: app, operator: Like, values: [web]}]}",
                vec![],
            ),
            (
                "{matchExpressions: [{key: app, operator: In, values: []}]}",
                vec![],
            ),
        ];
        for (sel, want) in cases {
            let g = with(&format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: a}}\nspec: {{podSelector: {sel}}}\n"
            ));
            assert_eq!(g.selected(4), want.as_slice(), "{sel}");
        }
    }

    #[test]
    fn other_namespace_does_not_select() {
        let g = with(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: c}\nspec: {podSelector: {}}\n",
        );
        assert_eq!(g.selected(4), &[] as &[ObjId]);
    }

    #[test]
    fn service_selectors() {
        let g = with(
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {selector: {app: web}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: none, namespace: a}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: empty, namespace: a}\nspec: {selector: {}}\n",
        );
        assert_eq!(g.selected(4), &[0]);
        assert_eq!(g.selected(5), &[] as &[ObjId]);
        assert_eq!(g.selected(6), &[] as &[ObjId]);
        assert_eq!(g.selected_by(0, "Service").collect::<Vec<_>>(), vec![4]);
    }

    #[test]
    fn pdb_selectors() {
        let g = with(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: all, namespace: a}\nspec: {selector: {}}\n---\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: old, namespace: a}\nspec: {selector: {}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: nil, namespace: a}\nspec: {minAvailable: 1}\n",
        );
        assert_eq!(g.selected(4), &[0, 1, 2]);
        assert_eq!(g.selected(5), &[] as &[ObjId]);
        assert_eq!(g.selected(6), &[] as &[ObjId]);
    }

    #[test]
    fn namespace_selector_uses_implicit_name_label() {
        let g = with(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: b, labels: {team: x}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: c}}\n    - namespaceSelector: {matchLabels: {team: x}}\n    - podSelector: {matchLabels: {app: web}}\n",
        );
        let np = 5;
        let (doc, node) = g.doc_node(np).unwrap();
        let from = doc.path(node, &["spec", "ingress"]).unwrap();
        let rule = doc.seq(from)[0];
        let peers = doc.seq(doc.get(rule, "from").unwrap());
        let by_name = doc.get(peers[0], "namespaceSelector").unwrap();
        let by_team = doc.get(peers[1], "namespaceSelector").unwrap();
        let d = g.objects[np as usize].r.doc;
        assert!(g.namespace_selector_matches(d, by_name, "c"));
        assert!(!g.namespace_selector_matches(d, by_name, "b"));
        assert!(g.namespace_selector_matches(d, by_team, "b"));
        assert!(!g.namespace_selector_matches(d, by_team, "c"));
        let pods = doc.get(peers[2], "podSelector").unwrap();
        assert_eq!(g.pods_matching(d, pods, "a"), vec![0]);
        assert_eq!(g.pods_matching(d, pods, "b"), vec![3]);
        assert!(g.pods_matching(d, pods, "c").is_empty());
    }

    #[test]
    fn policy_types_default() {
        let g = graph(
            r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-only}
spec: {podSelector: {}, ingress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: with-egress}
spec: {podSelector: {}, egress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: explicit}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: empty-egress}
spec: {podSelector: {}, egress: []}
"#,
        );
        assert_eq!(g.policy_types(0), (true, false));
        assert_eq!(g.policy_types(1), (true, true));
        assert_eq!(g.policy_types(2), (false, true));
        assert_eq!(g.policy_types(3), (true, false));
    }
}
