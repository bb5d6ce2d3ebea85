//! References by name between objects: workloads → Secrets, ConfigMaps, PVCs, their
//! ServiceAccount and (StatefulSet) governing Service; Ingress and Gateway API routes →
//! Services; HorizontalPodAutoscaler → its scale target; Service → the workloads it selects.
//!
//! A reference whose target is not in the input is kept with `target: None` (dangling), so
//! "named but missing" is distinguishable from "not referenced".

use super::index::PerObject;
use super::kinds::group_of;
use super::{Graph, MaybeNode, ObjId, nonempty_str};
use crate::model::{Document, NodeId};
use std::sync::Arc;

/// What a reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    /// A `Secret`.
    Secret,
    /// A `ConfigMap`.
    ConfigMap,
    /// A `PersistentVolumeClaim`.
    PersistentVolumeClaim,
    /// A `ServiceAccount`.
    ServiceAccount,
    /// A `Service`.
    Service,
    /// A workload (an HPA's scale target, a Service's selected workloads).
    Workload,
}

impl RefKind {
    /// The Kubernetes kind referenced (`Workload` has none: it is any workload kind).
    pub fn kind(self) -> Option<&'static str> {
        match self {
            RefKind::Secret => Some("Secret"),
            RefKind::ConfigMap => Some("ConfigMap"),
            RefKind::PersistentVolumeClaim => Some("PersistentVolumeClaim"),
            RefKind::ServiceAccount => Some("ServiceAccount"),
            RefKind::Service => Some("Service"),
            RefKind::Workload => None,
        }
    }
}

/// Which field of the referring object names the target (its name is what
/// [`Via::as_str`] gives: a rule reads it as `r.via`). One byte in a [`Reference`], where
/// the text was sixteen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `serviceAccountName`.
    ServiceAccountName,
    /// `serviceAccount`.
    ServiceAccount,
    /// `imagePullSecrets`.
    ImagePullSecrets,
    /// `env.valueFrom.secretKeyRef`.
    EnvSecretKeyRef,
    /// `env.valueFrom.configMapKeyRef`.
    EnvConfigMapKeyRef,
    /// `envFrom`.
    EnvFrom,
    /// `volumes.secret`.
    VolumesSecret,
    /// `volumes.configMap`.
    VolumesConfigMap,
    /// `volumes.persistentVolumeClaim`.
    VolumesPersistentVolumeClaim,
    /// `volumes.projected`.
    VolumesProjected,
    /// `ingress defaultBackend`.
    IngressDefaultBackend,
    /// `ingress backend`.
    IngressBackend,
    /// `ingress tls`.
    IngressTls,
    /// `backendRefs`.
    BackendRefs,
    /// `scaleTargetRef`.
    ScaleTargetRef,
    /// `selector`.
    Selector,
    /// `serviceName`.
    ServiceName,
}

impl Via {
    /// The field, as rules and the graph export show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::ServiceAccountName => "serviceAccountName",
            Via::ServiceAccount => "serviceAccount",
            Via::ImagePullSecrets => "imagePullSecrets",
            Via::EnvSecretKeyRef => "env.valueFrom.secretKeyRef",
            Via::EnvConfigMapKeyRef => "env.valueFrom.configMapKeyRef",
            Via::EnvFrom => "envFrom",
            Via::VolumesSecret => "volumes.secret",
            Via::VolumesConfigMap => "volumes.configMap",
            Via::VolumesPersistentVolumeClaim => "volumes.persistentVolumeClaim",
            Via::VolumesProjected => "volumes.projected",
            Via::IngressDefaultBackend => "ingress defaultBackend",
            Via::IngressBackend => "ingress backend",
            Via::IngressTls => "ingress tls",
            Via::BackendRefs => "backendRefs",
            Via::ScaleTargetRef => "scaleTargetRef",
            Via::Selector => "selector",
            Via::ServiceName => "serviceName",
        }
    }
}

/// One reference from an object to another, by name: 32 bytes (a million-object export
/// has more than two million). The namespace it is looked up in is the referring object's
/// unless the reference names another ([`Graph::reference_namespace`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// What it points at.
    pub kind: RefKind,
    /// Which field refers.
    pub via: Via,
    /// Whether the reference is marked `optional: true`.
    pub optional: bool,
    /// The node of the name (for a Service's selected workloads, its `spec.selector`).
    pub at: NodeId,
    /// The node of the namespace the reference names when it is not the referring
    /// object's (a route's `backendRefs[].namespace`).
    namespace_at: MaybeNode,
    /// The referenced object, or [`NO_TARGET`] when it is not in the input (dangling).
    target: ObjId,
    /// The referenced name (the target's own name string when the input has the target).
    pub name: Arc<str>,
}

/// [`Reference::target`] of a dangling reference (no object has this id: ids index the
/// objects, which number fewer).
const NO_TARGET: ObjId = ObjId::MAX;

impl Reference {
    fn new(kind: RefKind, via: Via, at: NodeId, target: Option<ObjId>, name: Arc<str>) -> Self {
        Reference {
            kind,
            via,
            optional: false,
            at,
            namespace_at: MaybeNode::default(),
            target: target.unwrap_or(NO_TARGET),
            name,
        }
    }

    /// The referenced object; `None` when it is not in the input (dangling).
    pub fn target(&self) -> Option<ObjId> {
        (self.target != NO_TARGET).then_some(self.target)
    }
}

struct Collector<'g, 'o> {
    g: &'g Graph,
    doc: &'g Document,
    namespace: &'g Arc<str>,
    /// The list of the run being built: an object's references go straight into it.
    out: &'o mut Vec<Reference>,
}

impl<'g> Collector<'g, '_> {
    /// Adds a reference to the name at `name_path` under `node`.
    fn named(&mut self, kind: RefKind, via: Via, node: NodeId, name_path: &[&str]) {
        self.named_in(kind, via, node, name_path, None);
    }

    fn named_in(
        &mut self,
        kind: RefKind,
        via: Via,
        node: NodeId,
        name_path: &[&str],
        namespace: Option<(&str, NodeId)>,
    ) {
        let doc = self.doc;
        let Some(at) = doc.path(node, name_path) else {
            return;
        };
        let Some(name) = nonempty_str(doc, at) else {
            return;
        };
        let (namespace, namespace_at) = match namespace {
            Some((ns, n)) if ns != &**self.namespace => (ns, MaybeNode::new(Some(n))),
            _ => (&**self.namespace, MaybeNode::default()),
        };
        let optional = doc.get(node, "optional").and_then(|o| doc.bool(o)) == Some(true);
        let target = kind
            .kind()
            .and_then(|k| self.g.find("", k, Some(namespace), name));
        self.out.push(Reference {
            optional,
            namespace_at,
            ..Reference::new(kind, via, at, target, self.g.name_of(target, name))
        });
    }

    /// The items of the list `key` of `node` (read in place, not copied).
    fn each(&self, node: Option<NodeId>, key: &str) -> &'g [NodeId] {
        let doc = self.doc;
        node.and_then(|n| doc.get(n, key))
            .map_or(&[], |l| doc.seq(l))
    }

    fn workload(&mut self, id: ObjId) {
        let Some(w) = self.g.workload(id) else {
            return;
        };
        let spec = w.pod_spec();
        let doc = self.doc;
        if let Some(spec) = spec {
            if doc
                .get(spec, "serviceAccountName")
                .and_then(|n| nonempty_str(doc, n))
                .is_some()
            {
                self.named(
                    RefKind::ServiceAccount,
                    Via::ServiceAccountName,
                    spec,
                    &["serviceAccountName"],
                );
            } else {
                self.named(
                    RefKind::ServiceAccount,
                    Via::ServiceAccount,
                    spec,
                    &["serviceAccount"],
                );
            }
        }
        for &s in self.each(spec, "imagePullSecrets") {
            self.named(RefKind::Secret, Via::ImagePullSecrets, s, &["name"]);
        }
        for c in &w.containers {
            for &e in self.each(Some(c.node), "env") {
                if let Some(from) = doc.get(e, "valueFrom") {
                    if let Some(r) = doc.get(from, "secretKeyRef") {
                        self.named(RefKind::Secret, Via::EnvSecretKeyRef, r, &["name"]);
                    }
                    if let Some(r) = doc.get(from, "configMapKeyRef") {
                        self.named(RefKind::ConfigMap, Via::EnvConfigMapKeyRef, r, &["name"]);
                    }
                }
            }
            for &e in self.each(Some(c.node), "envFrom") {
                if let Some(r) = doc.get(e, "secretRef") {
                    self.named(RefKind::Secret, Via::EnvFrom, r, &["name"]);
                }
                if let Some(r) = doc.get(e, "configMapRef") {
                    self.named(RefKind::ConfigMap, Via::EnvFrom, r, &["name"]);
                }
            }
        }
        for &v in self.each(spec, "volumes") {
            if let Some(s) = doc.get(v, "secret") {
                self.named(RefKind::Secret, Via::VolumesSecret, s, &["secretName"]);
            }
            if let Some(s) = doc.get(v, "configMap") {
                self.named(RefKind::ConfigMap, Via::VolumesConfigMap, s, &["name"]);
            }
            if let Some(s) = doc.get(v, "persistentVolumeClaim") {
                self.named(
                    RefKind::PersistentVolumeClaim,
                    Via::VolumesPersistentVolumeClaim,
                    s,
                    &["claimName"],
                );
            }
            let projected = doc.get(v, "projected");
            for &src in self.each(projected, "sources") {
                if let Some(s) = doc.get(src, "secret") {
                    self.named(RefKind::Secret, Via::VolumesProjected, s, &["name"]);
                }
                if let Some(s) = doc.get(src, "configMap") {
                    self.named(RefKind::ConfigMap, Via::VolumesProjected, s, &["name"]);
                }
            }
        }
    }

    fn ingress(&mut self, node: NodeId) {
        let doc = self.doc;
        let Some(spec) = doc.get(node, "spec") else {
            return;
        };
        if let Some(b) = doc.get(spec, "defaultBackend") {
            self.named(
                RefKind::Service,
                Via::IngressDefaultBackend,
                b,
                &["service", "name"],
            );
        }
        if let Some(b) = doc.get(spec, "backend") {
            self.named(RefKind::Service, Via::IngressBackend, b, &["serviceName"]);
        }
        for &rule in self.each(Some(spec), "rules") {
            let http = doc.get(rule, "http");
            for &p in self.each(http, "paths") {
                if let Some(b) = doc.get(p, "backend") {
                    self.named(
                        RefKind::Service,
                        Via::IngressBackend,
                        b,
                        &["service", "name"],
                    );
                    self.named(RefKind::Service, Via::IngressBackend, b, &["serviceName"]);
                }
            }
        }
        for &t in self.each(Some(spec), "tls") {
            self.named(RefKind::Secret, Via::IngressTls, t, &["secretName"]);
        }
    }

    fn route(&mut self, node: NodeId) {
        let doc = self.doc;
        let spec = doc.get(node, "spec");
        for &rule in self.each(spec, "rules") {
            for &b in self.each(Some(rule), "backendRefs") {
                let group = doc.str_at(b, &["group"]).unwrap_or("");
                let kind = doc.str_at(b, &["kind"]).unwrap_or("Service");
                if !group.is_empty() || kind != "Service" {
                    continue;
                }
                let ns = doc
                    .get(b, "namespace")
                    .and_then(|n| Some((nonempty_str(doc, n)?, n)));
                self.named_in(RefKind::Service, Via::BackendRefs, b, &["name"], ns);
            }
        }
    }

    fn scale_target(&mut self, node: NodeId) {
        let doc = self.doc;
        let Some(r) = doc.path(node, &["spec", "scaleTargetRef"]) else {
            return;
        };
        let Some(at) = doc.get(r, "name") else {
            return;
        };
        let Some(name) = nonempty_str(doc, at) else {
            return;
        };
        let kind = doc.str_at(r, &["kind"]).unwrap_or("");
        let target = match doc.str_at(r, &["apiVersion"]) {
            Some(v) => self.g.find(group_of(v), kind, Some(self.namespace), name),
            None => self.g.find_kind(kind, Some(self.namespace), name),
        };
        self.out.push(Reference::new(
            RefKind::Workload,
            Via::ScaleTargetRef,
            at,
            target,
            self.g.name_of(target, name),
        ));
    }
}

/// Computes every object's references.
pub(crate) fn build(g: &Graph) -> PerObject<Reference> {
    PerObject::par_build(g.objects.len(), |id, out| of_object(g, id, out))
}

/// Appends the references of one object to `out`.
fn of_object(g: &Graph, id: ObjId, out: &mut Vec<Reference>) {
    let (Some(o), Some((doc, node))) = (g.object(id), g.doc_node(id)) else {
        return;
    };
    let Some(namespace) = o.namespace.as_ref() else {
        return;
    };
    let mut c = Collector {
        g,
        doc,
        namespace,
        out,
    };
    if o.is_workload() {
        c.workload(id);
        if &*o.kind == "StatefulSet" {
            c.named(
                RefKind::Service,
                Via::ServiceName,
                node,
                &["spec", "serviceName"],
            );
        }
    }
    match (o.group(), &*o.kind) {
        ("networking.k8s.io" | "extensions", "Ingress") => c.ingress(node),
        (
            "gateway.networking.k8s.io",
            "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" | "UDPRoute",
        ) => {
            c.route(node);
        }
        ("autoscaling", "HorizontalPodAutoscaler") => c.scale_target(node),
        ("", "Service") => {
            if let Some(at) = doc.path(node, &["spec", "selector"]) {
                for &w in g.selected(id) {
                    c.out.push(Reference::new(
                        RefKind::Workload,
                        Via::Selector,
                        at,
                        Some(w),
                        g.name_of(Some(w), ""),
                    ));
                }
            }
        }
        _ => {}
    }
}

impl Graph {
    /// The name of `target` when it is an object named `name` (the string it shares), else
    /// `name`.
    fn name_of(&self, target: Option<ObjId>, name: &str) -> Arc<str> {
        match target.and_then(|t| self.object(t)) {
            Some(o) if name.is_empty() || *o.name == *name => Arc::clone(&o.name),
            _ => Arc::from(name),
        }
    }

    /// The references an object makes, in source order. A reference with `target: None`
    /// names an object that is not in the input.
    pub fn references(&self, id: ObjId) -> &[Reference] {
        self.refs.get(id)
    }

    /// The namespace reference `r` of object `id` is looked up in: the one it names (read
    /// from its document, while the documents are held), else the object's.
    pub fn reference_namespace(&self, id: ObjId, r: &Reference) -> Option<&str> {
        if let Some(n) = r.namespace_at.get() {
            let doc = self.load.docs.get(self.object(id)?.r.doc as usize)?;
            return nonempty_str(doc, n);
        }
        self.object(id)?.namespace.as_deref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    fn summary(g: &Graph, id: ObjId) -> Vec<(RefKind, String, &'static str, Option<ObjId>)> {
        g.references(id)
            .iter()
            .map(|r| (r.kind, r.name.to_string(), r.via.as_str(), r.target()))
            .collect()
    }

    #[test]
    fn workload_references() {
        let g = graph(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns1}
spec:
  template:
    spec:
      serviceAccountName: sa
      imagePullSecrets: [{name: pull}]
      initContainers:
      - name: i
        envFrom: [{configMapRef: {name: cm}}, {secretRef: {name: gone, optional: true}}]
      containers:
      - name: c
        env:
        - {name: A, valueFrom: {secretKeyRef: {name: creds, key: k}}}
        - {name: B, valueFrom: {configMapKeyRef: {name: cm, key: k}}}
        - {name: C, value: plain}
      volumes:
      - {name: v1, secret: {secretName: creds}}
      - {name: v2, configMap: {name: cm}}
      - {name: v3, persistentVolumeClaim: {claimName: data}}
      - name: v4
        projected: {sources: [{secret: {name: proj}}, {serviceAccountToken: {path: t}}]}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ns1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ns1}
---
apiVersion: v1
kind: Secret
metadata: {name: pull, namespace: other}
"#,
        );
        use RefKind::*;
        assert_eq!(
            summary(&g, 0),
            vec![
                (ServiceAccount, "sa".into(), "serviceAccountName", None),
                (Secret, "pull".into(), "imagePullSecrets", None),
                (ConfigMap, "cm".into(), "envFrom", Some(2)),
                (Secret, "gone".into(), "envFrom", None),
                (
                    Secret,
                    "creds".into(),
                    "env.valueFrom.secretKeyRef",
                    Some(1)
                ),
                (
                    ConfigMap,
                    "cm".into(),
                    "env.valueFrom.configMapKeyRef",
                    Some(2)
                ),
                (Secret, "creds".into(), "volumes.secret", Some(1)),
                (ConfigMap, "cm".into(), "volumes.configMap", Some(2)),
                (
                    PersistentVolumeClaim,
                    "data".into(),
                    "volumes.persistentVolumeClaim",
                    None
                ),
                (Secret, "proj".into(), "volumes.projected", None),
            ]
        );
        assert!(g.references(0)[3].optional);
        assert!(!g.references(0)[2].optional);
        assert_eq!(g.references(1), &[]);
    }

    #[test]
    fn ingress_route_hpa_service() {
        let g = graph(
            r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing, namespace: ns1}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
  tls: [{secretName: tls}]
  rules:
  - http:
      paths:
      - {path: /, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns1}
spec: {selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns1}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: hpa, namespace: ns1}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: rt, namespace: ns1}
spec:
  rules:
  - backendRefs: [{name: web, port: 80}, {name: far, namespace: m}, {group: example.com, kind: Bucket, name: b}]
"#,
        );
        use RefKind::*;
        assert_eq!(
            summary(&g, 0),
            vec![
                (Service, "web".into(), "ingress defaultBackend", Some(1)),
                (Service, "api".into(), "ingress backend", None),
                (Secret, "tls".into(), "ingress tls", None),
            ]
        );
        assert_eq!(
            summary(&g, 1),
            vec![(Workload, "web".into(), "selector", Some(2))]
        );
        assert_eq!(
            summary(&g, 3),
            vec![(Workload, "web".into(), "scaleTargetRef", Some(2))]
        );
        assert_eq!(
            summary(&g, 4),
            vec![
                (Service, "web".into(), "backendRefs", Some(1)),
                (Service, "far".into(), "backendRefs", None),
            ]
        );
        let refs = g.references(4);
        assert_eq!(g.reference_namespace(4, &refs[1]), Some("m"));
        assert_eq!(g.reference_namespace(4, &refs[0]), Some("ns1"));
        assert_eq!(std::mem::size_of::<Reference>(), 32);
    }
}
