//! Workloads (objects that run pods), their containers, and ownership between objects.
//!
//! One rule decides what a workload is, for built-in and custom kinds alike: an object is a
//! workload when it has a pod spec, and a pod spec is a mapping with a non-empty
//! `containers` list of mappings. Without containers (a
//! kustomize patch that sets only `replicas`, a Rollout with a `workloadRef`) an object is
//! not a workload, whatever its kind; a pod spec of the wrong shape is reported by the
//! shape check (`W2003`), not silently skipped.
//!
//! Where the pod spec is looked for:
//! - built-in workload kinds: their own path (`spec` of a `Pod`, `spec.template.spec` of a
//!   `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController` and
//!   `Job`, `spec.jobTemplate.spec.template.spec` of a `CronJob`);
//! - every other kind: the first mapping below `spec`, breadth first in source order and at
//!   most [`MAX_TEMPLATE_DEPTH`] keys or list items down, that is shaped like a
//!   `PodTemplateSpec`: its `spec` is a pod spec with a container that has a `name` or an
//!   `image`; its `metadata` holds the pod labels. This
//!   finds an Argo `Rollout` and a Knative `Service` (`spec.template`), an Agent Sandbox
//!   `Sandbox` or `SandboxTemplate` and a Flink `FlinkDeployment` (`spec.podTemplate`), a
//!   KEDA `ScaledJob` (`spec.jobTargetRef.template`), a KubeRay `RayCluster`
//!   (`spec.headGroupSpec.template`), Kubeflow training jobs
//!   (`spec.pytorchReplicaSpecs.Master.template`), a Volcano `Job`
//!   (`spec.tasks[0].template`) and a `JobSet` (`spec.replicatedJobs[0].template.spec.template`).
//!
//! An object has one pod spec: in kinds with several templates (a RayCluster's worker
//! groups, a Kubeflow job's worker replicas) the first one found is checked. Pod specs that
//! are not inside a template (KServe's `spec.predictor`, Argo Workflows' `container` and
//! `containerSet`, Spark's `driver` and `executor`) are not looked for: without the
//! template, pod-level settings would be read from the wrong place.
//!
//! Ownership follows `metadata.ownerReferences`: by `uid` when the reference has one, else by
//! kind and name in the owned object's namespace (or cluster-scoped).

use super::index::PerObject;
use super::kinds::{builtin_pod_paths, group_of};
use super::{Graph, Interner, Label, MaybeNode, ObjId, string_map_in};
use crate::model::{Document, NodeId};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::Arc;

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

/// The fields of a container that rules read most, kept with it (see [`Container::field`]).
pub const CONTAINER_FIELDS: [&str; 8] = [
    "name",
    "image",
    "command",
    "args",
    "securityContext",
    "resources",
    "env",
    "ports",
];

/// One container of a workload's pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Container {
    /// The container's mapping node (its `securityContext` is a child of it).
    pub node: NodeId,
    /// Which list it is in.
    pub kind: ContainerKind,
    /// Its position in that list.
    pub index: u32,
    /// The values of [`CONTAINER_FIELDS`] in the container's mapping, in that order.
    fields: [MaybeNode; CONTAINER_FIELDS.len()],
}

impl Container {
    /// A container whose mapping is `node` in `doc`: its frequent fields are looked up once.
    pub fn new(doc: &Document, node: NodeId, kind: ContainerKind, index: u32) -> Container {
        let mut fields = [MaybeNode::default(); CONTAINER_FIELDS.len()];
        for (key, value) in doc.map(node).iter() {
            // the last of duplicate keys, as a lookup finds
            if let Some(slot) = Container::slot(key).and_then(|at| fields.get_mut(at)) {
                *slot = MaybeNode::new(Some(value));
            }
        }
        Container {
            node,
            kind,
            index,
            fields,
        }
    }

    /// Where field `name` is in [`CONTAINER_FIELDS`] (a jump on the name, not a search).
    #[inline]
    fn slot(name: &str) -> Option<usize> {
        Some(match name {
            "name" => 0,
            "image" => 1,
            "command" => 2,
            "args" => 3,
            "securityContext" => 4,
            "resources" => 5,
            "env" => 6,
            "ports" => 7,
            _ => return None,
        })
    }

    /// The value of field `name` of the container's mapping: `Some(None)` when the field is
    /// one of [`CONTAINER_FIELDS`] and absent, `None` when the container does not keep it.
    #[inline]
    pub fn field(&self, name: &str) -> Option<Option<NodeId>> {
        Some(self.fields.get(Container::slot(name)?)?.get())
    }
}

/// The pod part of a workload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// The pod spec node ([`Workload::pod_spec`]).
    pod_spec: NodeId,
    /// The pod metadata node ([`Workload::pod_metadata`]).
    pod_metadata: MaybeNode,
    /// The pod labels mapping node ([`Workload::pod_labels`]).
    pod_labels: MaybeNode,
    /// The pod labels, read from `pod_labels`; label selectors match against these. Shared
    /// with the objects that have the same labels.
    pub labels: Arc<[Label]>,
    /// Every container: init containers, then regular, then ephemeral, each in list order.
    pub containers: Box<[Container]>,
}

impl Workload {
    /// The pod spec node (`spec` of a Pod, `spec.template.spec` of a Deployment...); always
    /// present on a workload (optional for callers that read it with `?`). The pod-level
    /// `securityContext` is a child of it.
    #[inline]
    pub fn pod_spec(&self) -> Option<NodeId> {
        Some(self.pod_spec)
    }

    /// The pod metadata node (`metadata` of a Pod, `spec.template.metadata` otherwise).
    pub fn pod_metadata(&self) -> Option<NodeId> {
        self.pod_metadata.get()
    }

    /// The pod labels mapping node, when present.
    pub fn pod_labels(&self) -> Option<NodeId> {
        self.pod_labels.get()
    }

    /// The containers of one kind.
    pub fn containers_of(&self, kind: ContainerKind) -> impl Iterator<Item = &Container> {
        self.containers.iter().filter(move |c| c.kind == kind)
    }
}

/// How far below `spec` a pod template of a kind that is not a built-in workload is looked
/// for, in keys and list items from `spec` to the template: `spec.template` is 1,
/// `spec.jobTemplate.spec.template` 3, a JobSet's `spec.replicatedJobs[0].template.spec.template` 5.
pub const MAX_TEMPLATE_DEPTH: u8 = 5;

/// How many mappings and lists below `spec` are looked at, at most, for one object: large
/// custom resources (CRD schemas, inline Helm values) are not searched to the end.
const MAX_TEMPLATE_VISITS: usize = 512;

/// Whether `id` is a pod spec: a mapping with a non-empty `containers` list of mappings.
fn is_pod_spec(doc: &Document, id: NodeId) -> bool {
    let Some(list) = doc.get(id, "containers") else {
        return false;
    };
    let items = doc.seq(list);
    !items.is_empty() && items.iter().all(|&c| !doc.map(c).is_empty())
}

/// Whether `id` is a pod spec whose containers also look like containers: one of them has a
/// `name` or an `image`. The shape search asks for this too, as nothing else there says
/// that a `containers` list holds containers.
fn is_pod_spec_by_shape(doc: &Document, id: NodeId) -> bool {
    is_pod_spec(doc, id)
        && doc.get(id, "containers").is_some_and(|l| {
            doc.seq(l)
                .iter()
                .any(|&c| doc.get(c, "name").is_some() || doc.get(c, "image").is_some())
        })
}

/// The pod spec and pod metadata of an object, when it has a pod spec.
pub(crate) fn find_pod(
    doc: &Document,
    node: NodeId,
    kind: &str,
) -> Option<(NodeId, Option<NodeId>)> {
    if let Some((spec_path, meta_path)) = builtin_pod_paths(kind) {
        let spec = doc.path(node, spec_path).filter(|&s| is_pod_spec(doc, s))?;
        return Some((spec, doc.path(node, meta_path)));
    }
    find_template(doc, doc.get(node, "spec")?)
}

/// The first `PodTemplateSpec`-shaped mapping below `spec` (breadth first, in source order):
/// its pod spec and metadata.
fn find_template(doc: &Document, spec: NodeId) -> Option<(NodeId, Option<NodeId>)> {
    let mut queue: VecDeque<(NodeId, u8)> = VecDeque::new();
    let children = |n: NodeId, depth: u8, queue: &mut VecDeque<(NodeId, u8)>| {
        // only mappings and lists can hold a template: scalars are not queued
        let nested = |c: &NodeId| doc.is_map(*c) || !doc.seq(*c).is_empty();
        let m = doc.map(n);
        if m.is_empty() {
            queue.extend(doc.seq(n).iter().filter(|c| nested(c)).map(|&c| (c, depth)));
        } else {
            queue.extend(m.iter().map(|(_, c)| c).filter(nested).map(|c| (c, depth)));
        }
    };
    children(spec, 1, &mut queue);
    let mut visits = 0;
    while let Some((n, depth)) = queue.pop_front() {
        visits += 1;
        if visits > MAX_TEMPLATE_VISITS {
            return None;
        }
        if let Some(pod) = doc.get(n, "spec").filter(|&s| is_pod_spec_by_shape(doc, s)) {
            return Some((pod, doc.get(n, "metadata")));
        }
        if depth < MAX_TEMPLATE_DEPTH {
            children(n, depth + 1, &mut queue);
        }
    }
    None
}

/// Reads the workload part of an object, if it is a workload (see the module documentation).
pub(crate) fn read_workload(
    doc: &Document,
    node: NodeId,
    kind: &str,
    labels: &Arc<[Label]>,
    strings: &mut Interner,
) -> Option<Box<Workload>> {
    let (spec, pod_metadata) = find_pod(doc, node, kind)?;
    let pod_labels = pod_metadata.and_then(|m| doc.get(m, "labels"));
    let labels = match pod_labels {
        // a Pod's own labels: the same list
        _ if kind == "Pod" => Arc::clone(labels),
        Some(l) => string_map_in(doc, l, strings),
        None => strings.labels(&[]),
    };
    let lists = [
        ContainerKind::Init,
        ContainerKind::Regular,
        ContainerKind::Ephemeral,
    ]
    .map(|kind| {
        let list = doc.get(spec, kind.field()).map_or(&[][..], |l| doc.seq(l));
        (kind, list)
    });
    // at its exact size: most workloads have one or two containers
    let mut containers = Vec::with_capacity(lists.iter().map(|(_, l)| l.len()).sum());
    for (kind, list) in lists {
        for (index, &c) in list.iter().enumerate() {
            containers.push(Container::new(
                doc,
                c,
                kind,
                u32::try_from(index).unwrap_or(u32::MAX),
            ));
        }
    }
    Some(Box::new(Workload {
        pod_spec: spec,
        pod_metadata: MaybeNode::new(pod_metadata),
        pod_labels: MaybeNode::new(pod_labels),
        labels,
        containers: containers.into_boxed_slice(),
    }))
}

/// Ownership edges and the workload lists. The edges are tables of the objects that have
/// them: most objects own nothing and many have no owner.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    owners: PerObject<ObjId>,
    controller: PerObject<ObjId>,
    owned: PerObject<ObjId>,
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
        let n = g.objects.len();
        // each object's owners (in reference order, once each) and controller, in parallel;
        // an object without owners allocates nothing
        let links: Vec<(ObjId, Vec<ObjId>, Option<ObjId>)> = (0..n)
            .into_par_iter()
            .filter_map(|i| {
                let id = ObjId::try_from(i).ok()?;
                let (owners, controller) = owners_of(g, id);
                (!owners.is_empty() || controller.is_some()).then_some((id, owners, controller))
            })
            .collect();
        let mut owners = Vec::new();
        let mut owned = Vec::new();
        let mut controller = Vec::new();
        for (id, os, c) in links {
            for &owner in &os {
                // ids ascend, so every owned list is sorted and holds each id once
                owned.push((owner, id));
                owners.push((id, owner));
            }
            if let Some(c) = c {
                controller.push((id, c));
            }
        }
        let (owners, (controller, owned)) = rayon::join(
            || PerObject::from_pairs(n, owners),
            || {
                rayon::join(
                    || PerObject::from_pairs(n, controller),
                    || PerObject::from_pairs(n, owned),
                )
            },
        );
        let mut own = Ownership {
            owners,
            controller,
            owned,
            ..Ownership::default()
        };
        let workloads: Vec<(ObjId, bool)> = (0..n)
            .into_par_iter()
            .filter_map(|i| {
                let id = ObjId::try_from(i).ok()?;
                g.object(id)
                    .is_some_and(|o| o.is_workload())
                    .then(|| (id, !own.controlled_by_workload(g, id)))
            })
            .collect();
        for (id, top) in workloads {
            own.all.push(id);
            if top {
                own.top.push(id);
            }
        }
        own
    }

    fn controller_of(&self, id: ObjId) -> Option<ObjId> {
        self.controller.get(id).first().copied()
    }

    /// Whether `id`'s controller is a workload, so `id`'s pods are reported at that owner.
    /// In an ownership cycle, the workload is kept so the cycle is still reported once.
    fn controlled_by_workload(&self, g: &Graph, id: ObjId) -> bool {
        let Some(c) = self.controller_of(id) else {
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
            match self.controller_of(cur) {
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
            match self.controller_of(cur) {
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
    if uid.is_some() && o.uid().is_some() {
        return None;
    }
    if group.is_some_and(|gr| gr != o.group()) {
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
        self.object(id)?.workload.as_deref()
    }

    /// The owners of an object present in the input, in `ownerReferences` order.
    pub fn owners(&self, id: ObjId) -> &[ObjId] {
        self.wl.owners.get(id)
    }

    /// The controller owner of an object (`controller: true`), when present in the input.
    pub fn controller(&self, id: ObjId) -> Option<ObjId> {
        self.wl.controller_of(id)
    }

    /// The objects that list this object as an owner, in input order.
    pub fn owned(&self, id: ObjId) -> &[ObjId] {
        self.wl.owned.get(id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    /// The fields a container keeps are those a lookup in its mapping finds: present,
    /// absent, duplicated (the last one), quoted, null, in every kind of container list.
    #[test]
    fn a_containers_kept_fields_are_its_lookups() {
        let g = graph(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - {name: i, image: a, image: b, "command": [sh], args: null}
  containers:
  - name: c
    securityContext: {privileged: true}
    resources: {}
    env: [{name: A, value: "1"}]
    ports: [{containerPort: 80}]
    stdin: true
  - {image: x}
  ephemeralContainers:
  - {name: e, 'securityContext': {}}
"#,
        );
        for (i, name) in CONTAINER_FIELDS.iter().enumerate() {
            assert_eq!(Container::slot(name), Some(i), "{name}");
        }
        let o = g.object(0).unwrap();
        let doc = g.doc(0).unwrap();
        let w = o.workload.as_ref().unwrap();
        assert_eq!(w.containers.len(), 4);
        let mut kept = 0;
        for c in &w.containers {
            for name in CONTAINER_FIELDS.iter().chain(&["stdin", "workingDir"]) {
                let found = doc.get(c.node, name);
                match c.field(name) {
                    Some(field) => {
                        assert_eq!(field, found, "{name}");
                        kept += usize::from(field.is_some());
                    }
                    None => assert!(!CONTAINER_FIELDS.contains(name), "{name}"),
                }
            }
        }
        assert_eq!(kept, 12);
        // the last of two `image` keys
        let image = w.containers[0].field("image").unwrap().unwrap();
        assert_eq!(doc.str(image), Some("b"));
    }

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
        let pod_sc = doc.get(pod.pod_spec().unwrap(), "securityContext").unwrap();
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
        assert_eq!(pod.labels.to_vec(), vec![("app".into(), "p".into())]);
        assert_eq!(
            g.workload(1).unwrap().labels.to_vec(),
            vec![("job".into(), "x".into())]
        );
        assert_eq!(g.workload(2).unwrap().containers.len(), 1);
        assert!(g.workload(3).is_none());
    }

    #[test]
    fn pod_templates_found_by_shape() {
        let g = graph(
            r#"
apiVersion: agents.x-k8s.io/v1alpha1
kind: Sandbox
metadata: {name: sb}
spec:
  podTemplate:
    metadata: {labels: {app: sb}}
    spec: {containers: [{name: agent, image: python:3.12}]}
---
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray}
spec:
  rayVersion: "2.9"
  headGroupSpec:
    rayStartParams: {}
    template: {spec: {containers: [{name: head, image: rayproject/ray}]}}
  workerGroupSpecs:
  - groupName: w
    template: {spec: {containers: [{name: worker, image: rayproject/ray}]}}
---
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: js}
spec:
  replicatedJobs:
  - name: workers
    template:
      spec:
        template:
          metadata: {labels: {role: w}}
          spec: {containers: [{name: js, image: busybox}]}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: sj}
spec:
  jobTargetRef:
    template: {spec: {containers: [{image: busybox}]}}
---
apiVersion: example.com/v1
kind: TooDeep
metadata: {name: deep}
spec: {a: {b: {c: {d: {e: {template: {spec: {containers: [{name: x}]}}}}}}}}
---
apiVersion: example.com/v1
kind: NotContainers
metadata: {name: strings}
spec: {template: {spec: {containers: [a, b]}}}
---
apiVersion: example.com/v1
kind: RootContainers
metadata: {name: sidecars}
spec: {containers: [{name: s, image: envoy}]}
---
apiVersion: example.com/v1
kind: NoNames
metadata: {name: ports}
spec: {template: {spec: {containers: [{port: 80}]}}}
"#,
        );
        assert_eq!(g.workloads(), &[0, 1, 2, 3]);
        let name = |id: ObjId| {
            let w = g.workload(id).unwrap();
            let doc = g.doc(id).unwrap();
            let c = w.containers.first().unwrap();
            doc.str_at(c.node, &["name"])
                .or_else(|| doc.str_at(c.node, &["image"]))
                .unwrap()
                .to_string()
        };
        assert_eq!(name(0), "agent");
        assert_eq!(
            g.workload(0).unwrap().labels.to_vec(),
            vec![("app".into(), "sb".into())]
        );
        // the head group's template: the first one, breadth first
        assert_eq!(name(1), "head");
        assert_eq!(g.workload(1).unwrap().containers.len(), 1);
        assert_eq!(name(2), "js");
        assert_eq!(
            g.workload(2).unwrap().labels.to_vec(),
            vec![("role".into(), "w".into())]
        );
        assert_eq!(name(3), "busybox");
    }

    #[test]
    fn no_containers_no_workload_whatever_the_kind() {
        let g = graph(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: patch}
spec: {replicas: 3}
---
apiVersion: v1
kind: Pod
metadata: {name: empty}
spec: {hostNetwork: true, containers: []}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: ref}
spec: {workloadRef: {apiVersion: apps/v1, kind: Deployment, name: patch}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: strings}
spec: {template: {spec: {containers: [nginx]}}}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: pt}
template: {spec: {containers: [{name: c, image: nginx}]}}
"#,
        );
        assert_eq!(g.workloads(), &[] as &[ObjId]);
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
