//! Workloads (objects that run pods), their containers, and ownership between objects.
//!
//! A workload is a built-in kind that runs pods (`Pod`, `Deployment`, `StatefulSet`,
//! `DaemonSet`, `ReplicaSet`, `ReplicationController`, `Job`, `CronJob`) or any other object
//! with a pod template at `spec.template.spec` (with `containers`) or
//! `spec.jobTemplate.spec.template.spec`, such as an Argo `Rollout`.
//!
//! Ownership follows `metadata.ownerReferences`: by `uid` when the reference has one, else by
//! kind and name in the owned object's namespace (or cluster-scoped).

use super::kinds::{TEMPLATE_PATHS, builtin_pod_paths, group_of};
use super::{Graph, ObjId, string_map};
use crate::model::{Document, NodeId};
use rayon::prelude::*;

/// Which list of the pod spec a container is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKind {
    /// `initContainers`.
    Init,
    /// `containers`.
    Regular,
    /// `ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// The pod spec field holding containers of this kind.
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// One container of a workload's pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Container {
    /// The container's mapping node (its `securityContext` is a child of it).
    pub node: NodeId,
    /// Which list it is in.
    pub kind: ContainerKind,
    /// Its position in that list.
    pub index: u32,
}

/// The pod part of a workload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// The pod spec node (`spec` of a Pod, `spec.template.spec` of a Deployment...), when
    /// present. The pod-level `securityContext` is a child of it.
    pub pod_spec: Option<NodeId>,
    /// The pod metadata node (`metadata` of a Pod, `spec.template.metadata` otherwise).
    pub pod_metadata: Option<NodeId>,
    /// The pod labels mapping node, when present.
    pub pod_labels: Option<NodeId>,
    /// The pod labels, read from `pod_labels`; label selectors match against these.
    pub labels: Vec<(Box<str>, Box<str>)>,
    /// Every container: init containers, then regular, then ephemeral, each in list order.
    pub containers: Vec<Container>,
}

impl Workload {
    /// The containers of one kind.
    pub fn containers_of(&self, kind: ContainerKind) -> impl Iterator<Item = &Container> {
        self.containers.iter().filter(move |c| c.kind == kind)
    }
}

/// Reads the workload part of an object, if it is a workload.
pub(crate) fn read_workload(
    doc: &Document,
    node: NodeId,
    kind: &str,
    labels: &[(Box<str>, Box<str>)],
) -> Option<Workload> {
    let (spec_path, meta_path) = match builtin_pod_paths(kind) {
        Some(paths) => paths,
        None => *TEMPLATE_PATHS.iter().find(|(spec, _)| {
            doc.path(node, spec)
                .is_some_and(|s| doc.get(s, "containers").is_some())
        })?,
    };
    let pod_spec = doc.path(node, spec_path);
    let pod_metadata = doc.path(node, meta_path);
    let pod_labels = pod_metadata.and_then(|m| doc.get(m, "labels"));
    let labels = if kind == "Pod" {
        labels.to_vec()
    } else {
        pod_labels.map(|l| string_map(doc, l)).unwrap_or_default()
    };
    let mut containers = Vec::new();
    if let Some(spec) = pod_spec {
        for kind in [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ] {
            let list = doc.get(spec, kind.field()).map_or(&[][..], |l| doc.seq(l));
            for (index, &c) in list.iter().enumerate() {
                containers.push(Container {
                    node: c,
                    kind,
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                });
            }
        }
    }
    Some(Workload {
        pod_spec,
        pod_metadata,
        pod_labels,
        labels,
        containers,
    })
}

/// Ownership edges and the workload lists.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    owners: Vec<Vec<ObjId>>,
    controller: Vec<Option<ObjId>>,
    owned: Vec<Vec<ObjId>>,
    all: Vec<ObjId>,
    top: Vec<ObjId>,
}

/// The objects that `id`'s `ownerReferences` name and the input has (in reference order,
/// once each, never itself), and its controller: the first owner marked `controller`.
fn owners_of(g: &Graph, id: ObjId) -> (Vec<ObjId>, Option<ObjId>) {
    let mut owners = Vec::new();
    let mut controller = None;
    let (Some((doc, node)), Some(o)) = (g.doc_node(id), g.object(id)) else {
        return (owners, controller);
    };
    let Some(refs) = doc.path(node, &["metadata", "ownerReferences"]) else {
        return (owners, controller);
    };
    for &r in doc.seq(refs) {
        let Some(owner) = resolve_owner(g, doc, r, o.namespace.as_deref()) else {
            continue;
        };
        if owner == id {
            continue;
        }
        if !owners.contains(&owner) {
            owners.push(owner);
        }
        if controller.is_none() && doc.get(r, "controller").and_then(|c| doc.bool(c)) == Some(true)
        {
            controller = Some(owner);
        }
    }
    (owners, controller)
}

/// How many controller links are followed when looking for ownership cycles.
const MAX_CHAIN: usize = 64;

impl Ownership {
    pub(crate) fn build(g: &Graph) -> Ownership {
        let ids: Vec<ObjId> = g.ids().collect();
        // each object's owners (in reference order, once each) and controller, in parallel
        let links: Vec<(Vec<ObjId>, Option<ObjId>)> =
            ids.par_iter().map(|&id| owners_of(g, id)).collect();
        let mut own = Ownership {
            owned: vec![Vec::new(); links.len()],
            ..Ownership::default()
        };
        for (&id, (owners, _)) in ids.iter().zip(&links) {
            for &owner in owners {
                if let Some(list) = own.owned.get_mut(owner as usize) {
                    // ids ascend, so every list is sorted and holds each id once
                    list.push(id);
                }
            }
        }
        (own.owners, own.controller) = links.into_iter().unzip();
        let workloads: Vec<(ObjId, bool)> = ids
            .par_iter()
            .filter(|&&id| g.object(id).is_some_and(|o| o.is_workload()))
            .map(|&id| (id, !own.controlled_by_workload(g, id)))
            .collect();
        for (id, top) in workloads {
            own.all.push(id);
            if top {
                own.top.push(id);
            }
        }
        own
    }

    /// Whether `id`'s controller is a workload, so `id`'s pods are reported at that owner.
    /// In an ownership cycle, the workload is kept so the cycle is still reported once.
    fn controlled_by_workload(&self, g: &Graph, id: ObjId) -> bool {
        let Some(c) = self.controller.get(id as usize).copied().flatten() else {
            return false;
        };
        if !g.object(c).is_some_and(|o| o.is_workload()) {
            return false;
        }
        let mut cur = c;
        for _ in 0..MAX_CHAIN {
            if cur == id {
                // a cycle: keep the smallest id of the cycle as its representative
                return self.cycle_min(id) != id;
            }
            match self.controller.get(cur as usize).copied().flatten() {
                Some(next) => cur = next,
                None => return true,
            }
        }
        true
    }

    fn cycle_min(&self, start: ObjId) -> ObjId {
        let mut min = start;
        let mut cur = start;
        for _ in 0..MAX_CHAIN {
            match self.controller.get(cur as usize).copied().flatten() {
                Some(next) if next != start => {
                    min = min.min(next);
                    cur = next;
                }
                _ => break,
            }
        }
        min
    }
}

fn resolve_owner(g: &Graph, doc: &Document, r: NodeId, namespace: Option<&str>) -> Option<ObjId> {
    let kind = doc.str_at(r, &["kind"])?;
    let name = doc.str_at(r, &["name"]);
    let group = doc.str_at(r, &["apiVersion"]).map(group_of);
    let uid = doc.str_at(r, &["uid"]).filter(|u| !u.is_empty());
    if let Some(uid) = uid {
        if let Some(id) = g.by_uid(uid) {
            return Some(id);
        }
    }
    let id = g.find_kind_scoped(kind, namespace, name?)?;
    let o = g.object(id)?;
    // an object with a different uid is not the owner (it was recreated)
    if uid.is_some() && o.uid.is_some() {
        return None;
    }
    if group.is_some_and(|gr| gr != &*o.group) {
        return None;
    }
    Some(id)
}

impl Graph {
    /// The workloads to report: every workload except those whose controller owner
    /// (`ownerReferences` with `controller: true`) is a workload of the input. An exported
    /// Deployment → ReplicaSet → Pod chain is reported once, at the Deployment. Input order.
    pub fn workloads(&self) -> &[ObjId] {
        &self.wl.top
    }

    /// Every workload, owned ones included, in input order.
    pub fn all_workloads(&self) -> &[ObjId] {
        &self.wl.all
    }

    /// The workload part of an object.
    pub fn workload(&self, id: ObjId) -> Option<&Workload> {
        self.object(id)?.workload.as_ref()
    }

    /// The owners of an object present in the input, in `ownerReferences` order.
    pub fn owners(&self, id: ObjId) -> &[ObjId] {
        self.wl.owners.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// The controller owner of an object (`controller: true`), when present in the input.
    pub fn controller(&self, id: ObjId) -> Option<ObjId> {
        self.wl.controller.get(id as usize).copied().flatten()
    }

    /// The objects that list this object as an owner, in input order.
    pub fn owned(&self, id: ObjId) -> &[ObjId] {
        self.wl.owned.get(id as usize).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    #[test]
    fn builtin_and_custom_workloads() {
        let g = graph(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  securityContext: {runAsNonRoot: true}
  initContainers: [{name: init}]
  containers: [{name: a, securityContext: {privileged: true}}, {name: b}]
  ephemeralContainers: [{name: debug}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {job: x}}
        spec: {containers: [{name: c}]}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ro}
spec:
  template:
    metadata: {labels: {app: ro}}
    spec: {containers: [{name: r}]}
---
apiVersion: example.com/v1
kind: Thing
metadata: {name: not-a-workload}
spec: {template: {spec: {foo: 1}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
"#,
        );
        assert_eq!(g.workloads(), &[0, 1, 2]);
        let pod = g.workload(0).unwrap();
        let doc = g.doc(0).unwrap();
        let kinds: Vec<_> = pod.containers.iter().map(|c| (c.kind, c.index)).collect();
        assert_eq!(
            kinds,
            vec![
                (ContainerKind::Init, 0),
                (ContainerKind::Regular, 0),
                (ContainerKind::Regular, 1),
                (ContainerKind::Ephemeral, 0)
            ]
        );
        let pod_sc = doc.get(pod.pod_spec.unwrap(), "securityContext").unwrap();
        assert_eq!(
            doc.path(pod_sc, &["runAsNonRoot"])
                .and_then(|n| doc.bool(n)),
            Some(true)
        );
        let a = pod.containers_of(ContainerKind::Regular).next().unwrap();
        assert_eq!(
            doc.path(a.node, &["securityContext", "privileged"])
                .and_then(|n| doc.bool(n)),
            Some(true)
        );
        assert_eq!(pod.labels, vec![("app".into(), "p".into())]);
        assert_eq!(
            g.workload(1).unwrap().labels,
            vec![("job".into(), "x".into())]
        );
        assert_eq!(g.workload(2).unwrap().containers.len(), 1);
        assert!(g.workload(3).is_none());
    }

    #[test]
    fn owner_chain_reported_at_top() {
        let g = graph(
            r#"
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, uid: d-1}
  spec: {template: {spec: {containers: [{name: c}]}}}
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-5d
    uid: rs-1
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]
  spec: {template: {spec: {containers: [{name: c}]}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d-a
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d, uid: rs-1, controller: true}]
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: orphan
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: gone, uid: rs-9, controller: true}]
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: stale
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d, uid: rs-old, controller: true}]
  spec: {containers: [{name: c}]}
"#,
        );
        assert_eq!(g.workloads(), &[0, 3, 4]);
        assert_eq!(g.all_workloads(), &[0, 1, 2, 3, 4]);
        assert_eq!(g.controller(1), Some(0));
        assert_eq!(g.controller(2), Some(1));
        assert_eq!(g.controller(3), None);
        assert_eq!(g.controller(4), None);
        assert_eq!(g.owners(2), &[1]);
        assert_eq!(g.owned(0), &[1]);
        assert_eq!(g.owned(1), &[2]);
    }

    #[test]
    fn owner_by_name_and_non_workload_controller() {
        let g = graph(
            r#"
apiVersion: example.com/v1
kind: Database
metadata: {name: db, namespace: n}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: n
  ownerReferences: [{apiVersion: example.com/v1, kind: Database, name: db, controller: true}]
spec: {template: {spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: other
  namespace: m
  ownerReferences: [{apiVersion: example.com/v1, kind: Database, name: db, controller: true}]
spec: {template: {spec: {containers: [{name: c}]}}}
"#,
        );
        assert_eq!(g.controller(1), Some(0));
        // the owner is not a workload: the StatefulSet is still reported
        assert_eq!(g.workloads(), &[1, 2]);
        // different namespace: no owner
        assert_eq!(g.controller(2), None);
    }

    #[test]
    fn ownership_cycle_reported_once() {
        let g = graph(
            r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: a
  ownerReferences: [{kind: ReplicaSet, name: b, controller: true}]
spec: {template: {spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: b
  ownerReferences: [{kind: ReplicaSet, name: a, controller: true}]
spec: {template: {spec: {containers: [{name: c}]}}}
"#,
        );
        assert_eq!(g.workloads(), &[0]);
    }
}
