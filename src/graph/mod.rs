//! The resource graph: every input object as a node, with the relations rules ask about
//! (ownership, label selection, identity and RBAC, references between objects) computed once,
//! with hash indexes, when the graph is built.
//!
//! Objects are keyed by `(group, kind, namespace, name)` and numbered in input order: an
//! [`ObjId`] indexes [`Graph::objects`]. Every relation is exposed as a method returning a
//! slice or an iterator; none of them compares objects pairwise.
//!
//! | relation family | module |
//! |---|---|
//! | namespaces, kind index, duplicates | this module |
//! | workloads, containers, ownership | [`workload`] |
//! | label selectors, network policy types | [`selector`] |
//! | network policies of every kind (Kubernetes, Cilium, Calico), isolation | [`netpol`], [`calico`] |
//! | service accounts, RBAC | [`identity`] |
//! | references to secrets, config maps, services... | [`references`] |
//! | external exposure (Services, Ingresses, Gateway API, Istio) | [`exposure`] |
//! | DOT and JSON export | [`export`] |

pub mod calico;
pub mod export;
pub mod exposure;
pub mod identity;
mod index;
mod kinds;
pub mod live;
pub mod netpol;
pub mod references;
pub mod selector;
#[cfg(test)]
mod testutil;
pub mod workload;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;
use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::model::{Document, LoadOutput, NodeId, ObjectRef, Value};

pub use identity::{RoleRef, ServiceAccountRef, Subject};
pub use kinds::{group_of, is_cluster_scoped_builtin};
pub use references::{RefKind, Reference};
pub use selector::LabelSelector;
pub use workload::{Container, ContainerKind, Workload};

/// A hash map with a fast hasher, for the indexes built from the input.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A label (key, value) of an object or a pod template. Objects share the strings: a label
/// key or value that many objects carry (`app`, `tier`, `team`...) is one allocation.
pub type Label = (Arc<str>, Arc<str>);

/// Index of an object in [`Graph::objects`].
pub type ObjId = u32;

/// Code of the duplicate-object warning.
pub const DUPLICATE_OBJECT: &str = "W2001";

/// Code of the warning for an object without a name (nor `generateName`).
pub const MISSING_NAME: &str = "W2002";

/// Code of the warning for an input whose namespaced objects mix explicit namespaces with
/// none (those are placed in the default namespace).
pub const MIXED_NAMESPACES: &str = "W2004";

/// How to build a [`Graph`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphOptions {
    /// The namespace given to namespaced objects that do not set `metadata.namespace`.
    pub default_namespace: String,
}

impl Default for GraphOptions {
    fn default() -> GraphOptions {
        GraphOptions {
            default_namespace: "default".to_owned(),
        }
    }
}

/// The fields of an object's identity: `(group, kind, namespace, name)`.
fn identity(o: &Object) -> index::Fields<'_, 4> {
    [
        Some(o.group()),
        Some(&o.kind),
        o.namespace.as_deref(),
        Some(&o.name),
    ]
}

/// `(kind, namespace, name)`, for references that do not say the group (only objects
/// with a name are indexed by it).
fn kind_name(o: &Object) -> index::Fields<'_, 3> {
    [Some(&o.kind), o.namespace.as_deref(), Some(&o.name)]
}

/// The `metadata.uid` of an object, read from its document.
fn uid_of<'o>(docs: &'o [Document], o: &Object) -> Option<&'o str> {
    docs.get(o.r.doc as usize)?.str(o.uid()?)
}

/// A node that may be absent, in four bytes where `Option<NodeId>` takes eight: the graph
/// keeps a few per object, workload, container and reference.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaybeNode(NodeId);

impl MaybeNode {
    /// `NodeId::MAX` stands for none: no document has that many nodes (a node's id is its
    /// place in the document's list, and ids are counted in a `u32`).
    const NONE: NodeId = NodeId::MAX;

    /// The node, or none.
    pub fn new(node: Option<NodeId>) -> MaybeNode {
        MaybeNode(node.unwrap_or(MaybeNode::NONE))
    }

    /// The node, if there is one.
    #[inline]
    pub fn get(self) -> Option<NodeId> {
        (self.0 != MaybeNode::NONE).then_some(self.0)
    }
}

impl Default for MaybeNode {
    fn default() -> MaybeNode {
        MaybeNode(MaybeNode::NONE)
    }
}

impl std::fmt::Debug for MaybeNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// One Kubernetes object of the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// Where the object is in the documents.
    pub r: ObjectRef,
    /// `apiVersion` (empty when missing). Strings that many objects share (API version,
    /// group, kind, namespace) are one allocation per value, shared.
    pub api_version: Arc<str>,
    /// `kind` (empty when missing).
    pub kind: Arc<str>,
    /// The namespace: `None` for cluster-scoped kinds; the default namespace when a
    /// namespaced object does not set `metadata.namespace` (see `namespace_explicit`).
    pub namespace: Option<Arc<str>>,
    /// Whether `metadata.namespace` was set in the input.
    pub namespace_explicit: bool,
    /// `metadata.name`, else `metadata.generateName`, else ``.
    pub name: Arc<str>,
    /// Whether the object has a `metadata.name` (and not only a `generateName`).
    pub has_name: bool,
    /// The length of the API group at the start of `api_version` ([`Object::group`]), or
    /// `u16::MAX` for one too long to say so.
    group_len: u16,
    /// The node of `metadata.uid`, when it is a non-empty string (exported objects).
    uid: MaybeNode,
    /// `metadata.labels`, in source order (scalars other than strings are converted to text);
    /// shared with the objects that have the same labels.
    pub labels: Arc<[Label]>,
    /// The node of `metadata.name`, when present.
    name_node: MaybeNode,
    /// The pod spec and containers, when the object is a workload (boxed: most objects of
    /// an input are not, and pay one word for it).
    pub workload: Option<Box<Workload>>,
}

impl Object {
    /// The node of `metadata.uid`, when it is a non-empty string (exported objects).
    #[inline]
    pub fn uid(&self) -> Option<NodeId> {
        self.uid.get()
    }

    /// The node of `metadata.name`, when present.
    #[inline]
    pub fn name_node(&self) -> Option<NodeId> {
        self.name_node.get()
    }

    /// The API group from `apiVersion` (`` for the core group).
    pub fn group(&self) -> &str {
        match self.api_version.get(..usize::from(self.group_len)) {
            Some(g) if self.group_len != u16::MAX => g,
            _ => group_of(&self.api_version),
        }
    }

    /// The value of a label.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    /// `kind namespace/name` or `kind name`, for messages.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {}/{}", self.kind, ns, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// Whether the object is a workload (has a pod template or is a pod).
    pub fn is_workload(&self) -> bool {
        self.workload.is_some()
    }
}

/// The resource graph of one run: the loaded documents and every relation between objects.
#[derive(Debug, Default)]
pub struct Graph {
    /// The loaded documents, objects and load diagnostics, owned by the graph.
    pub load: LoadOutput,
    /// The objects, in input order; an [`ObjId`] indexes this.
    pub objects: Vec<Object>,
    /// Every object key, mapped to the first object with that key, in input order.
    keys: index::FieldIndex<4>,
    /// Warnings found while building (duplicate objects).
    pub diagnostics: Vec<Diagnostic>,
    default_namespace: Box<str>,
    by_kind: FastMap<Arc<str>, Vec<ObjId>>,
    by_kind_ns: KindNamespaces,
    by_kind_name: index::FieldIndex<3>,
    namespaces: Vec<Arc<str>>,
    uids: index::FieldIndex<1>,
    pub(crate) wl: workload::Ownership,
    pub(crate) sel: selector::Selection,
    pub(crate) ident: identity::Identity,
    pub(crate) refs: index::PerObject<Reference>,
    pub(crate) exposed: index::PerObject<exposure::Exposure>,
}

impl Graph {
    /// Builds the graph of everything loaded, computing every relation once.
    pub fn build(load: LoadOutput, opts: &GraphOptions) -> Graph {
        let mut g = Graph {
            default_namespace: opts.default_namespace.as_str().into(),
            ..Graph::default()
        };
        g.load = load;
        g.read_objects();
        g.scope_custom_resources();
        g.index_objects();
        g.wl = workload::Ownership::build(&g);
        // selection and identity both read the workloads view, and not each other
        let (sel, ident) = rayon::join(
            || selector::Selection::build(&g),
            || identity::Identity::build(&g),
        );
        g.sel = sel;
        g.ident = ident;
        g.refs = references::build(&g);
        // after the references: an Ingress's or a route's backends are read from them
        g.exposed = exposure::build(&g);
        g
    }

    fn read_objects(&mut self) {
        let docs = &self.load.docs;
        let default_namespace = &*self.default_namespace;
        // every reference has its document; one without would be dropped. An indexed collect
        // writes each object straight into its place, with no second copy of the objects
        let refs: Vec<ObjectRef> = self
            .load
            .objects
            .iter()
            .filter(|r| (r.doc as usize) < docs.len())
            .copied()
            .collect();
        let none = Document::default();
        self.objects = refs
            .par_iter()
            .map_init(Interner::default, |strings, r| {
                let doc = docs.get(r.doc as usize).unwrap_or(&none);
                read_object(doc, *r, default_namespace, strings)
            })
            .collect();
    }

    /// Makes the custom resources whose `CustomResourceDefinition` in the input says
    /// `scope: Cluster` cluster-scoped, as the objects were read without knowing them (the
    /// definitions are few, and found from the objects' kinds without reading every
    /// document again).
    fn scope_custom_resources(&mut self) {
        let docs = &self.load.docs;
        let cluster: HashSet<(Box<str>, Box<str>)> = self
            .objects
            .par_iter()
            .filter(|o| &*o.kind == "CustomResourceDefinition")
            .filter_map(|o| {
                let doc = docs.get(o.r.doc as usize)?;
                if doc.str_at(o.r.node, &["spec", "scope"]) != Some("Cluster") {
                    return None;
                }
                Some((
                    doc.str_at(o.r.node, &["spec", "group"])?.into(),
                    doc.str_at(o.r.node, &["spec", "names", "kind"])?.into(),
                ))
            })
            .collect();
        if cluster.is_empty() {
            return;
        }
        for o in &mut self.objects {
            if cluster
                .iter()
                .any(|(g, k)| &**g == o.group() && **k == *o.kind)
            {
                o.namespace = None;
                o.namespace_explicit = false;
            }
        }
    }

    /// Builds the object indexes, each on its own thread where there are several.
    fn index_objects(&mut self) {
        let objects = &self.objects;
        let docs = &self.load.docs;
        let ((keys, diagnostics), ((by_kind, by_kind_ns, namespaces), (by_kind_name, uids))) =
            rayon::join(
                || identities(docs, objects),
                || {
                    rayon::join(
                        || kind_indexes(objects),
                        || {
                            rayon::join(
                                || first_of(objects, kind_name, |o| o.has_name),
                                || {
                                    first_of(
                                        objects,
                                        |o| [uid_of(docs, o)],
                                        |o| o.uid.get().is_some(),
                                    )
                                },
                            )
                        },
                    )
                },
            );
        self.keys = keys;
        self.diagnostics = diagnostics;
        self.diagnostics
            .extend(mixed_namespaces(docs, objects, &self.default_namespace));
        self.by_kind = by_kind;
        self.by_kind_ns = by_kind_ns;
        self.namespaces = namespaces;
        self.by_kind_name = by_kind_name;
        self.uids = uids;
    }

    /// The object with this id.
    pub fn object(&self, id: ObjId) -> Option<&Object> {
        self.objects.get(id as usize)
    }

    /// The document of an object.
    pub fn doc(&self, id: ObjId) -> Option<&Document> {
        self.load.docs.get(self.object(id)?.r.doc as usize)
    }

    /// The document and object node of an object.
    pub fn doc_node(&self, id: ObjId) -> Option<(&Document, NodeId)> {
        let o = self.object(id)?;
        Some((self.load.docs.get(o.r.doc as usize)?, o.r.node))
    }

    /// All object ids, in input order.
    pub fn ids(&self) -> impl Iterator<Item = ObjId> + '_ {
        (0..self.objects.len()).filter_map(|i| ObjId::try_from(i).ok())
    }

    /// The namespace given to namespaced objects without `metadata.namespace`.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// The first object with exactly this key.
    pub fn find(
        &self,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<ObjId> {
        self.keys.get(
            &self.objects,
            [Some(group), Some(kind), namespace, Some(name)],
            identity,
        )
    }

    /// The first object of this kind and name in `namespace` (or cluster-scoped when `None`),
    /// whatever its API group.
    pub fn find_kind(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<ObjId> {
        self.by_kind_name.get(
            &self.objects,
            [Some(kind), namespace, Some(name)],
            kind_name,
        )
    }

    /// The first object of this kind and name in `namespace`, falling back to a
    /// cluster-scoped object of that kind and name.
    pub(crate) fn find_kind_scoped(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<ObjId> {
        self.find_kind(kind, namespace, name)
            .or_else(|| namespace.and_then(|_| self.find_kind(kind, None, name)))
    }

    /// The object with this `metadata.uid`.
    pub fn by_uid(&self, uid: &str) -> Option<ObjId> {
        let docs = &self.load.docs;
        self.uids
            .get(&self.objects, [Some(uid)], |o| [uid_of(docs, o)])
    }

    /// The `Namespace` object with this name, when the input has one.
    pub fn namespace_object(&self, name: &str) -> Option<ObjId> {
        self.find("", "Namespace", None, name)
    }

    /// Every namespace that an object lives in or a `Namespace` object declares, sorted.
    pub fn namespaces(&self) -> &[Arc<str>] {
        &self.namespaces
    }

    /// Whether objects of this kind (and group) live in a namespace: built-in cluster-scoped
    /// kinds and custom resources whose `CustomResourceDefinition` in the input says
    /// `scope: Cluster` are not; every other kind is.
    pub fn is_namespaced(&self, kind: &str) -> bool {
        !is_cluster_scoped_builtin(kind)
            && self
                .by_kind(kind)
                .first()
                .and_then(|&id| self.object(id))
                .is_none_or(|o| o.namespace.is_some())
    }

    /// Every object of this kind, in input order.
    pub fn by_kind(&self, kind: &str) -> &[ObjId] {
        self.by_kind.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Every object of this kind in this namespace, in input order.
    pub fn in_namespace(&self, kind: &str, namespace: &str) -> &[ObjId] {
        self.by_kind_ns
            .runs
            .get(kind)
            .and_then(|m| m.get(namespace))
            .and_then(|&(start, len)| {
                self.by_kind_ns
                    .ids
                    .get(start as usize..start as usize + len as usize)
            })
            .unwrap_or(&[])
    }
}

/// The namespaced objects by kind and namespace: one list of them, in runs of one kind and
/// namespace (each run in input order), and where each run is. A list for each pair took
/// about 85 bytes a pair (an entry of 40 bytes with the map's spare room, and the list's
/// own allocation): some 31 MB for the 363,413 pairs of the generated 1M-object cluster,
/// where the runs take about 14 MB and the list 4 MB.
#[derive(Debug, Default)]
struct KindNamespaces {
    /// The start and the length of each run in `ids`, by kind and namespace.
    runs: FastMap<Arc<str>, Runs>,
    ids: Vec<ObjId>,
}

/// The start and the length of a kind's run in [`KindNamespaces::ids`], by namespace.
type Runs = FastMap<Arc<str>, (u32, u32)>;

impl KindNamespaces {
    /// The index of `objects`: their runs counted, placed one after the other, then filled
    /// in input order.
    fn of(objects: &[Object]) -> KindNamespaces {
        let mut runs: FastMap<Arc<str>, Runs> = FastMap::default();
        for o in objects {
            let Some(ns) = &o.namespace else { continue };
            // looked up before inserting: `entry` would clone a key for every object
            let per_ns = match runs.get_mut(&*o.kind) {
                Some(m) => m,
                None => runs.entry(o.kind.clone()).or_default(),
            };
            match per_ns.get_mut(&**ns) {
                Some((_, len)) => *len += 1,
                None => {
                    per_ns.insert(ns.clone(), (0, 1));
                }
            }
        }
        let mut total = 0u32;
        for (start, len) in runs.values_mut().flat_map(|m| m.values_mut()) {
            *start = total;
            total = total.saturating_add(*len);
            *len = 0;
        }
        let mut ids = vec![ObjId::MAX; total as usize];
        for (i, o) in objects.iter().enumerate() {
            let Some(ns) = &o.namespace else { continue };
            let run = runs.get_mut(&*o.kind).and_then(|m| m.get_mut(&**ns));
            if let (Some((start, len)), Ok(id)) = (run, ObjId::try_from(i)) {
                if let Some(slot) = ids.get_mut((*start + *len) as usize) {
                    *slot = id;
                }
                *len += 1;
            }
        }
        KindNamespaces { runs, ids }
    }
}

/// The text of a scalar used as a label key or value.
pub(crate) fn scalar_text(doc: &Document, id: NodeId) -> Option<Box<str>> {
    scalar_str(doc, id).map(Box::from)
}

/// [`scalar_text`], borrowed from the document where the scalar is a string.
fn scalar_str(doc: &Document, id: NodeId) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    Some(match doc.value(id)? {
        Value::Str(s) => Cow::Borrowed(s),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) => Cow::Owned(f.to_string()),
        Value::Null | Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// A string-to-string map (labels, map selectors) read from a mapping node.
pub(crate) fn string_map(doc: &Document, id: NodeId) -> Vec<Label> {
    doc.map(id)
        .iter()
        .filter_map(|(k, v)| Some((k.into(), scalar_text(doc, v)?.into())))
        .collect()
}

/// [`string_map`], with strings shared through `strings`, and the whole list shared with
/// the objects that have the same labels (a Deployment's pods, its ReplicaSets' templates).
fn string_map_in(doc: &Document, id: NodeId, strings: &mut Interner) -> Arc<[Label]> {
    let mut list = std::mem::take(&mut strings.scratch);
    list.clear();
    for (k, v) in doc.map(id).iter() {
        if let Some(value) = scalar_str(doc, v) {
            let value = strings.get(&value);
            list.push((strings.get(k), value));
        }
    }
    let shared = strings.labels(&list);
    strings.scratch = list;
    shared
}

/// The non-empty string at a node.
pub(crate) fn nonempty_str(doc: &Document, id: NodeId) -> Option<&str> {
    doc.str(id).filter(|s| !s.is_empty())
}

/// Where a warning about an object's metadata points: its `metadata:` key, else its
/// `kind:` key, else the whole object.
fn metadata_span(doc: &Document, o: &Object) -> Option<crate::diag::Span> {
    doc.get(o.r.node, "metadata")
        .or_else(|| doc.get(o.r.node, "kind"))
        .and_then(|n| doc.node(n))
        .map(|n| n.key_span.unwrap_or(n.span))
        .or_else(|| doc.node(o.r.node).map(|n| n.span))
}

/// Objects by their identity, and the warnings about duplicate and nameless objects.
fn identities(docs: &[Document], objects: &[Object]) -> (index::FieldIndex<4>, Vec<Diagnostic>) {
    let (mut keys, hashes) = hashed(objects, &identity, |_| true);
    let mut diagnostics = Vec::new();
    for (id, h) in hashes {
        let Some(o) = objects.get(id as usize) else {
            continue;
        };
        match keys.insert_first_hashed(objects, id, h, identity) {
            Some(first) if o.has_name => {
                if let Some(d) = duplicate_warning(docs, objects, first, o) {
                    diagnostics.push(d);
                }
            }
            _ => {}
        }
    }
    for o in objects.iter().filter(|o| !o.has_name && o.name.is_empty()) {
        let Some(doc) = docs.get(o.r.doc as usize) else {
            continue;
        };
        let at = metadata_span(doc, o);
        let mut d = Diagnostic::warning(
            MISSING_NAME,
            format!("{} object has no `metadata.name`", o.kind),
        )
        .with_help("the API server rejects it; it is still checked, under an empty name");
        if let Some(span) = at {
            d = d.at(span, "no name");
        }
        diagnostics.push(d);
    }
    (keys, diagnostics)
}

/// Whether an object's namespace decides what it is matched with: a namespaced object of a
/// Kubernetes API group (core, `apps`, `batch`, `policy`, `autoscaling`, `*.k8s.io`), or a
/// workload. Custom resources are left out: without their definition in the input, a
/// cluster-scoped one (a cert-manager `ClusterIssuer`) cannot be told from a namespaced one
/// that lacks its namespace.
fn namespace_matters(o: &Object) -> bool {
    let builtin_group = matches!(o.group(), "" | "apps" | "batch" | "policy" | "autoscaling")
        || o.group().ends_with(".k8s.io");
    o.namespace.is_some() && (builtin_group || o.is_workload())
}

/// The warning for an input whose namespaced objects mix explicit namespaces with none: the
/// ones without are placed in the default namespace and matched there against
/// NetworkPolicies, bindings and Services that name a real namespace. Located at the first
/// object without a namespace; one warning for the whole input.
fn mixed_namespaces(
    docs: &[Document],
    objects: &[Object],
    default_namespace: &str,
) -> Option<Diagnostic> {
    let mut first = None;
    let (mut without, mut with) = (0usize, 0usize);
    for o in objects.iter().filter(|o| namespace_matters(o)) {
        if o.namespace_explicit {
            with += 1;
        } else {
            without += 1;
            first = first.or(Some(o));
        }
    }
    let first = first.filter(|_| with > 0)?;
    let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let mut d = Diagnostic::warning(
        MIXED_NAMESPACES,
        format!(
            "{without} namespaced {} no `metadata.namespace` and {} placed in `{default_namespace}`, while {with} {} {}",
            plural(without, "object has", "objects have"),
            plural(without, "is", "are"),
            plural(with, "other names", "others name"),
            plural(with, "its own", "theirs"),
        ),
    )
    .with_help(format!(
        "pass `--default-namespace NAME` with the namespace {} deployed to (kustomize `namespace:`, `helm --namespace`); in `{default_namespace}` {} matched only against NetworkPolicies, bindings and Services of `{default_namespace}`",
        plural(without, "it is", "they are"),
        plural(without, "it is", "they are"),
    ));
    let doc = docs.get(first.r.doc as usize)?;
    if let Some(span) = metadata_span(doc, first) {
        d = d.at(
            span,
            format!("{} `{}` has no namespace", first.kind, first.name),
        );
    }
    Some(d)
}

/// Objects by kind, by kind and namespace, and every namespace (sorted).
#[allow(clippy::type_complexity)]
fn kind_indexes(
    objects: &[Object],
) -> (FastMap<Arc<str>, Vec<ObjId>>, KindNamespaces, Vec<Arc<str>>) {
    let mut by_kind: FastMap<Arc<str>, Vec<ObjId>> = FastMap::default();
    let mut namespaces: IndexMap<Arc<str>, (), foldhash::fast::RandomState> = IndexMap::default();
    for (i, o) in objects.iter().enumerate() {
        let id = ObjId::try_from(i).unwrap_or(ObjId::MAX);
        // look up before inserting: `entry` would allocate a key for every object
        match by_kind.get_mut(&*o.kind) {
            Some(ids) => ids.push(id),
            None => {
                by_kind.insert(o.kind.clone(), vec![id]);
            }
        }
        if let Some(ns) = &o.namespace {
            if !namespaces.contains_key(&**ns) {
                namespaces.insert(ns.clone(), ());
            }
        }
        if &*o.kind == "Namespace" && o.has_name && !namespaces.contains_key(&*o.name) {
            namespaces.insert(Arc::from(&*o.name), ());
        }
    }
    let mut namespaces: Vec<Arc<str>> = namespaces.into_keys().collect();
    namespaces.sort();
    (by_kind, KindNamespaces::of(objects), namespaces)
}

/// The first object with each value of `fields`, among those that `keep`.
fn first_of<'o, const N: usize>(
    objects: &'o [Object],
    fields: impl Fn(&'o Object) -> index::Fields<'o, N> + Sync,
    keep: impl Fn(&Object) -> bool + Sync,
) -> index::FieldIndex<N> {
    let (mut ix, hashes) = hashed(objects, &fields, keep);
    for (id, h) in hashes {
        ix.insert_first_hashed(objects, id, h, &fields);
    }
    ix
}

/// An index with room for the objects that `keep`, and those objects with the hashes of
/// their fields, computed in parallel (reading the fields may read the objects'
/// documents, long out of the processor's caches), in input order.
fn hashed<'o, const N: usize>(
    objects: &'o [Object],
    fields: &(impl Fn(&'o Object) -> index::Fields<'o, N> + Sync),
    keep: impl Fn(&Object) -> bool + Sync,
) -> (index::FieldIndex<N>, Vec<(ObjId, u64)>) {
    let mut ix = index::FieldIndex::with_capacity(0);
    let hashes: Vec<(ObjId, u64)> = objects
        .par_iter()
        .with_min_len(1024)
        .enumerate()
        .filter(|(_, o)| keep(o))
        .map(|(i, o)| {
            let id = ObjId::try_from(i).unwrap_or(ObjId::MAX);
            (id, ix.hash_of(&fields(o)))
        })
        .collect();
    ix.reserve(hashes.len(), objects, fields);
    (ix, hashes)
}

/// One copy of each string that many objects share (API versions, groups, kinds,
/// namespaces, label keys and values) and of each list of labels, per worker.
#[derive(Default)]
pub(crate) struct Interner {
    strings: HashSet<Arc<str>, foldhash::fast::RandomState>,
    /// Label lists, told apart by their strings' addresses (the strings are this
    /// interner's, so equal strings are the same allocation).
    labels: hashbrown::HashTable<Arc<[Label]>>,
    state: foldhash::fast::RandomState,
    /// The list being read, kept for the next one.
    scratch: Vec<Label>,
}

/// The addresses of a label list's strings, which identify it among the lists of one
/// [`Interner`].
fn label_addresses(list: &[Label]) -> impl Iterator<Item = (usize, usize)> + '_ {
    list.iter().map(|(k, v)| {
        (
            Arc::as_ptr(k).cast::<u8>() as usize,
            Arc::as_ptr(v).cast::<u8>() as usize,
        )
    })
}

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        self.strings.insert(Arc::clone(&a));
        a
    }

    /// The shared copy of a list of labels whose strings come from [`Interner::get`].
    fn labels(&mut self, list: &[Label]) -> Arc<[Label]> {
        let h = address_hash(&self.state, list);
        let same = |a: &Arc<[Label]>| {
            a.len() == list.len()
                && a.iter()
                    .zip(list)
                    .all(|((k1, v1), (k2, v2))| Arc::ptr_eq(k1, k2) && Arc::ptr_eq(v1, v2))
        };
        if let Some(a) = self.labels.find(h, same) {
            return Arc::clone(a);
        }
        let a: Arc<[Label]> = Arc::from(list);
        let state = &self.state;
        self.labels
            .insert_unique(h, Arc::clone(&a), |x| address_hash(state, x));
        a
    }
}

/// The hash of a label list by its strings' addresses.
fn address_hash(state: &foldhash::fast::RandomState, list: &[Label]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = state.build_hasher();
    for (k, v) in label_addresses(list) {
        h.write_usize(k);
        h.write_usize(v);
    }
    h.write_usize(list.len());
    h.finish()
}

fn read_object(
    doc: &Document,
    r: ObjectRef,
    default_namespace: &str,
    strings: &mut Interner,
) -> Object {
    let node = r.node;
    let api_version = strings.get(doc.str_at(node, &["apiVersion"]).unwrap_or(""));
    let group_len = u16::try_from(group_of(&api_version).len()).unwrap_or(u16::MAX);
    let kind = strings.get(doc.str_at(node, &["kind"]).unwrap_or(""));
    let meta = doc.get(node, "metadata");
    let name_node = meta.and_then(|m| doc.get(m, "name"));
    let name = name_node.and_then(|n| nonempty_str(doc, n));
    let has_name = name.is_some();
    let name: Arc<str> = name
        .or_else(|| meta.and_then(|m| doc.str_at(m, &["generateName"])))
        .unwrap_or("")
        .into();
    let explicit_ns = meta
        .and_then(|m| doc.get(m, "namespace"))
        .and_then(|n| nonempty_str(doc, n));
    // custom resources that their definition makes cluster-scoped are told afterwards (see
    // `Graph::scope_custom_resources`)
    let cluster_scoped = is_cluster_scoped_builtin(&kind);
    let namespace = if cluster_scoped {
        None
    } else {
        Some(strings.get(explicit_ns.unwrap_or(default_namespace)))
    };
    let labels = match meta.and_then(|m| doc.get(m, "labels")) {
        Some(l) => string_map_in(doc, l, strings),
        None => strings.labels(&[]),
    };
    let uid = meta
        .and_then(|m| doc.get(m, "uid"))
        .filter(|&n| nonempty_str(doc, n).is_some());
    let workload = workload::read_workload(doc, node, &kind, &labels, strings);
    Object {
        r,
        api_version,
        kind,
        namespace,
        namespace_explicit: explicit_ns.is_some() && !cluster_scoped,
        name,
        has_name,
        group_len,
        uid: MaybeNode::new(uid),
        labels,
        name_node: MaybeNode::new(name_node),
        workload,
    }
}

fn duplicate_warning(
    docs: &[Document],
    objects: &[Object],
    first: ObjId,
    o: &Object,
) -> Option<Diagnostic> {
    let doc = docs.get(o.r.doc as usize)?;
    // Repositories often hold several variants of one install (overlays, HA and non-HA
    // manifests): the same object in two files is expected there. Twice in one file is not.
    let first_file = objects
        .get(first as usize)
        .and_then(|f| docs.get(f.r.doc as usize))
        .map(|d| d.file);
    if first_file != Some(doc.file) {
        return None;
    }
    let span = doc.node(o.name_node()?)?.span;
    let mut d = Diagnostic::warning(
        DUPLICATE_OBJECT,
        format!("duplicate object `{}`", o.display()),
    )
    .at(span, "defined again here")
    .with_note("both objects are kept and checked");
    if let Some(f) = objects.get(first as usize) {
        if let Some(fspan) = docs
            .get(f.r.doc as usize)
            .and_then(|fd| fd.node(f.name_node()?))
            .map(|n| n.span)
        {
            d = d.with_label(fspan, "first defined here");
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::testutil::{graph, graph_with_sources};
    use super::*;

    #[test]
    fn an_absent_node_takes_no_more_room_than_a_node() {
        assert_eq!(MaybeNode::new(None).get(), None);
        assert_eq!(MaybeNode::default().get(), None);
        assert_eq!(MaybeNode::new(Some(0)).get(), Some(0));
        assert_eq!(MaybeNode::new(Some(7)).get(), Some(7));
        assert_eq!(std::mem::size_of::<MaybeNode>(), 4);
        // the object and its workload keep their optional nodes so
        assert_eq!(std::mem::size_of::<Object>(), 112);
        assert_eq!(std::mem::size_of::<Workload>(), 48);
        let g = testutil::graph(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, uid: u-1}\nspec: {containers: [{name: c}]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: n}\n",
        );
        let (pod, cm) = (g.object(0).unwrap(), g.object(1).unwrap());
        let doc = g.load.docs.first().unwrap();
        assert_eq!(pod.uid().and_then(|n| doc.str(n)), Some("u-1"));
        assert_eq!(pod.name_node().and_then(|n| doc.str(n)), Some("p"));
        let w = pod.workload.as_ref().unwrap();
        assert!(w.pod_spec().is_some() && w.pod_metadata().is_some());
        assert_eq!(w.pod_labels(), None);
        assert_eq!((cm.uid(), cm.name_node()), (None, None));
    }

    #[test]
    fn an_objects_group_is_the_api_versions_start() {
        // longer than a u16 says: read from the apiVersion again
        let long = format!("{}.example.com", "g".repeat(70_000));
        let g = graph(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: a}}\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {{name: b}}\n---\n\
             apiVersion: a/b/v1\nkind: X\nmetadata: {{name: d}}\n---\n\
             apiVersion: {long}/v1\nkind: X\nmetadata: {{name: e}}\n"
        ));
        let groups: Vec<&str> = g.objects.iter().map(Object::group).collect();
        assert_eq!(groups, ["apps", "", "a/b", long.as_str()]);
        // the group is a length in the object, not a string of its own
        assert!(std::mem::size_of::<Object>() <= 120);
    }

    #[test]
    fn default_namespace_and_cluster_scope() {
        let g = graph(
            r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: prod}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {team: x}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r, namespace: ignored}
"#,
        );
        let a = &g.objects[0];
        assert_eq!(a.namespace.as_deref(), Some("default"));
        assert!(!a.namespace_explicit);
        assert_eq!(g.objects[1].namespace.as_deref(), Some("prod"));
        assert!(g.objects[1].namespace_explicit);
        assert_eq!(g.objects[2].namespace, None);
        assert_eq!(g.objects[3].namespace, None);
        assert_eq!(g.objects[3].group(), "rbac.authorization.k8s.io");
        assert_eq!(g.namespace_object("prod"), Some(2));
        assert_eq!(g.namespace_object("default"), None);
        assert_eq!(
            g.namespaces(),
            &["default".into(), "prod".into()] as &[Arc<str>]
        );
        assert!(g.is_namespaced("ConfigMap"));
        assert!(!g.is_namespaced("ClusterRole"));
        assert_eq!(g.find("", "ConfigMap", Some("default"), "a"), Some(0));
        assert_eq!(g.find("", "ConfigMap", Some("prod"), "a"), None);
        assert_eq!(g.find_kind("ClusterRole", None, "r"), Some(3));
    }

    #[test]
    fn mixed_namespaces_warned_only_when_mixed() {
        let warned = |yaml: &str| {
            graph(yaml)
                .diagnostics
                .iter()
                .filter(|d| d.code == MIXED_NAMESPACES)
                .count()
        };
        let none = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n";
        let all = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: prod}\n";
        let mixed = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\n";
        // a custom resource without a namespace may be cluster-scoped: not counted
        let custom = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n---\napiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: b}\n";
        assert_eq!(warned(none), 0);
        assert_eq!(warned(all), 0);
        assert_eq!(warned(mixed), 1);
        assert_eq!(warned(custom), 0);
    }

    #[test]
    fn kind_index() {
        let g = graph(
            r#"
apiVersion: v1
kind: Secret
metadata: {name: a, namespace: x}
---
apiVersion: v1
kind: Secret
metadata: {name: b, namespace: w}
---
apiVersion: v1
kind: Secret
metadata: {name: c, namespace: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: d, namespace: x}
---
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Secret
metadata: {name: e, namespace: w}
---
apiVersion: v1
kind: Secret
metadata: {name: f, namespace: x}
"#,
        );
        assert_eq!(g.by_kind("Secret"), &[0, 1, 2, 5, 6]);
        // each kind and namespace's run in input order, runs of other kinds and
        // namespaces between its objects
        assert_eq!(g.in_namespace("Secret", "x"), &[0, 2, 6]);
        assert_eq!(g.in_namespace("Secret", "w"), &[1, 5]);
        assert_eq!(g.in_namespace("ConfigMap", "x"), &[3]);
        // cluster-scoped objects are in no namespace's run
        assert_eq!(g.in_namespace("Namespace", "x"), &[] as &[ObjId]);
        assert_eq!(g.in_namespace("Secret", "z"), &[] as &[ObjId]);
        assert_eq!(g.in_namespace("ConfigMap", "w"), &[] as &[ObjId]);
        assert_eq!(g.by_kind("Pod"), &[] as &[ObjId]);
        let runs = g.by_kind_ns.runs.values().map(|m| m.len()).sum::<usize>();
        assert_eq!((runs, g.by_kind_ns.ids.len()), (3, 6));
    }

    #[test]
    fn cluster_scoped_crd_from_input() {
        let g = graph(
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Cluster, names: {kind: Widget}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: other.com/v1
kind: Widget
metadata: {name: w}
"#,
        );
        assert_eq!(g.objects[1].namespace, None);
        assert_eq!(g.objects[2].namespace.as_deref(), Some("default"));
    }

    #[test]
    fn duplicates_are_kept_and_warned() {
        let (g, sources) = graph_with_sources(
            r#"
apiVersion: v1
kind: Secret
metadata: {name: s}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: default}
---
apiVersion: v1
kind: Secret
metadata: {generateName: s-}
---
apiVersion: v1
kind: Secret
metadata: {generateName: s-}
"#,
        );
        assert_eq!(g.objects.len(), 4);
        assert_eq!(g.find("", "Secret", Some("default"), "s"), Some(0));
        // and the namespaces are mixed (W2004), after it
        assert_eq!(g.diagnostics.len(), 2);
        assert_eq!(g.diagnostics[1].code, MIXED_NAMESPACES);
        let d = &g.diagnostics[0];
        assert_eq!(d.code, DUPLICATE_OBJECT);
        assert_eq!(d.message, "duplicate object `Secret default/s`");
        let at = d.primary.as_ref().map(|l| sources.line_col(l.span));
        assert_eq!(at, Some((8, 18)));
        assert_eq!(
            d.secondary.first().map(|l| sources.line_col(l.span)),
            Some((4, 18))
        );
        assert_eq!(g.objects[2].name.as_ref(), "s-");
        assert!(!g.objects[2].has_name);
    }
}
