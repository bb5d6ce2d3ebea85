//! Hand-written metadata of the Kubernetes kinds kanon knows: scope, rule plural, pod spec path.
//!
//! The OpenAPI definitions say nothing about scope (namespaced or cluster-scoped) or about the
//! resource plural used in rules (`networkpolicies`), so this table states them. A test checks
//! that every built-in kind here that is still served exists in the bundled [`super::Schema`] in
//! the stated group and version, and that each pod spec path resolves to a `PodSpec`.

/// Whether objects of a kind live in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Namespaced (`metadata.namespace` applies).
    Namespaced,
    /// Cluster-scoped.
    Cluster,
}

/// Where a kind is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Built into Kubernetes and served by Kubernetes 1.37 (present in the bundled schema).
    BuiltIn,
    /// Built into older Kubernetes and since removed (not in the bundled schema); the string is
    /// the Kubernetes version that removed it.
    Removed(&'static str),
    /// A well-known custom resource (CRD) of a popular project (not in the bundled schema).
    Crd,
}

/// Metadata of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinKind {
    /// Kind name, e.g. `Deployment`.
    pub kind: &'static str,
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// The (preferred) version kanon knows the kind in.
    pub version: &'static str,
    /// The lowercase plural used in kanon rules, e.g. `deployments`.
    pub plural: &'static str,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
    /// Path of the pod spec inside the object, for workload kinds.
    pub pod_spec_path: Option<&'static [&'static str]>,
    /// Built-in, removed, or a well-known CRD.
    pub origin: Origin,
}

impl BuiltinKind {
    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// Whether this kind runs pods (it has a pod spec path).
    pub fn is_workload(&self) -> bool {
        self.pod_spec_path.is_some()
    }

    /// `apiVersion` as written in manifests: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Pod spec path of a Pod.
const POD: &[&str] = &["spec"];
/// Pod spec path of kinds with a pod template (Deployment, Job, ...).
const TEMPLATE: &[&str] = &["spec", "template", "spec"];
/// Pod spec path of a CronJob.
const CRON: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];

/// Pod spec paths tried, in order, for kinds not in [`KINDS`] (e.g. unknown CRDs): a path
/// applies to an object when the object has a `containers` field below it.
pub const GENERIC_POD_SPEC_PATHS: &[&[&str]] = &[TEMPLATE, CRON];

const fn k(
    kind: &'static str,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    scope: Scope,
    pod_spec_path: Option<&'static [&'static str]>,
) -> BuiltinKind {
    BuiltinKind {
        kind,
        group,
        version,
        plural,
        scope,
        pod_spec_path,
        origin: Origin::BuiltIn,
    }
}

const fn with_origin(mut kind: BuiltinKind, origin: Origin) -> BuiltinKind {
    kind.origin = origin;
    kind
}

use Scope::{Cluster, Namespaced as Ns};

/// The kinds kanon knows, by group. Kind names and plurals are unique.
pub const KINDS: &[BuiltinKind] = &[
    // core
    k("Pod", "", "v1", "pods", Ns, Some(POD)),
    k(
        "ReplicationController",
        "",
        "v1",
        "replicationcontrollers",
        Ns,
        Some(TEMPLATE),
    ),
    k("PodTemplate", "", "v1", "podtemplates", Ns, None),
    k("Service", "", "v1", "services", Ns, None),
    k("ServiceAccount", "", "v1", "serviceaccounts", Ns, None),
    k("ConfigMap", "", "v1", "configmaps", Ns, None),
    k("Secret", "", "v1", "secrets", Ns, None),
    k("Endpoints", "", "v1", "endpoints", Ns, None),
    k("Event", "", "v1", "events", Ns, None),
    k("LimitRange", "", "v1", "limitranges", Ns, None),
    k("ResourceQuota", "", "v1", "resourcequotas", Ns, None),
    k(
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        Ns,
        None,
    ),
    k("Binding", "", "v1", "bindings", Ns, None),
    k("Namespace", "", "v1", "namespaces", Cluster, None),
    k("Node", "", "v1", "nodes", Cluster, None),
    k(
        "PersistentVolume",
        "",
        "v1",
        "persistentvolumes",
        Cluster,
        None,
    ),
    k(
        "ComponentStatus",
        "",
        "v1",
        "componentstatuses",
        Cluster,
        None,
    ),
    // apps
    k(
        "Deployment",
        "apps",
        "v1",
        "deployments",
        Ns,
        Some(TEMPLATE),
    ),
    k(
        "StatefulSet",
        "apps",
        "v1",
        "statefulsets",
        Ns,
        Some(TEMPLATE),
    ),
    k("DaemonSet", "apps", "v1", "daemonsets", Ns, Some(TEMPLATE)),
    k(
        "ReplicaSet",
        "apps",
        "v1",
        "replicasets",
        Ns,
        Some(TEMPLATE),
    ),
    k(
        "ControllerRevision",
        "apps",
        "v1",
        "controllerrevisions",
        Ns,
        None,
    ),
    // batch
    k("Job", "batch", "v1", "jobs", Ns, Some(TEMPLATE)),
    k("CronJob", "batch", "v1", "cronjobs", Ns, Some(CRON)),
    // autoscaling
    k(
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        Ns,
        None,
    ),
    // policy
    k(
        "PodDisruptionBudget",
        "policy",
        "v1",
        "poddisruptionbudgets",
        Ns,
        None,
    ),
    with_origin(
        k(
            "PodSecurityPolicy",
            "policy",
            "v1beta1",
            "podsecuritypolicies",
            Cluster,
            None,
        ),
        Origin::Removed("1.25"),
    ),
    // networking
    k(
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        Ns,
        None,
    ),
    k("Ingress", "networking.k8s.io", "v1", "ingresses", Ns, None),
    k(
        "IngressClass",
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        Cluster,
        None,
    ),
    k(
        "IPAddress",
        "networking.k8s.io",
        "v1",
        "ipaddresses",
        Cluster,
        None,
    ),
    k(
        "ServiceCIDR",
        "networking.k8s.io",
        "v1",
        "servicecidrs",
        Cluster,
        None,
    ),
    k(
        "EndpointSlice",
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        Ns,
        None,
    ),
    // rbac
    k("Role", "rbac.authorization.k8s.io", "v1", "roles", Ns, None),
    k(
        "RoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        Ns,
        None,
    ),
    k(
        "ClusterRole",
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        Cluster,
        None,
    ),
    k(
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        Cluster,
        None,
    ),
    // storage
    k(
        "StorageClass",
        "storage.k8s.io",
        "v1",
        "storageclasses",
        Cluster,
        None,
    ),
    k(
        "CSIDriver",
        "storage.k8s.io",
        "v1",
        "csidrivers",
        Cluster,
        None,
    ),
    k("CSINode", "storage.k8s.io", "v1", "csinodes", Cluster, None),
    k(
        "VolumeAttachment",
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        Cluster,
        None,
    ),
    k(
        "CSIStorageCapacity",
        "storage.k8s.io",
        "v1",
        "csistoragecapacities",
        Ns,
        None,
    ),
    k(
        "VolumeAttributesClass",
        "storage.k8s.io",
        "v1",
        "volumeattributesclasses",
        Cluster,
        None,
    ),
    // extension and admission
    k(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        Cluster,
        None,
    ),
    k(
        "APIService",
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        Cluster,
        None,
    ),
    k(
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        Cluster,
        None,
    ),
    k(
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        Cluster,
        None,
    ),
    k(
        "ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
        Cluster,
        None,
    ),
    k(
        "ValidatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicybindings",
        Cluster,
        None,
    ),
    k(
        "MutatingAdmissionPolicy",
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicies",
        Cluster,
        None,
    ),
    k(
        "MutatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io",
        "v1",
        "mutatingadmissionpolicybindings",
        Cluster,
        None,
    ),
    // scheduling, node, coordination, certificates, flow control, resource
    k(
        "PriorityClass",
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        Cluster,
        None,
    ),
    k(
        "RuntimeClass",
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        Cluster,
        None,
    ),
    k("Lease", "coordination.k8s.io", "v1", "leases", Ns, None),
    k(
        "CertificateSigningRequest",
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        Cluster,
        None,
    ),
    k(
        "FlowSchema",
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "flowschemas",
        Cluster,
        None,
    ),
    k(
        "PriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "prioritylevelconfigurations",
        Cluster,
        None,
    ),
    k(
        "ResourceClaim",
        "resource.k8s.io",
        "v1",
        "resourceclaims",
        Ns,
        None,
    ),
    k(
        "ResourceClaimTemplate",
        "resource.k8s.io",
        "v1",
        "resourceclaimtemplates",
        Ns,
        None,
    ),
    k(
        "DeviceClass",
        "resource.k8s.io",
        "v1",
        "deviceclasses",
        Cluster,
        None,
    ),
    k(
        "ResourceSlice",
        "resource.k8s.io",
        "v1",
        "resourceslices",
        Cluster,
        None,
    ),
    // Well-known CRD network policies (see `graph::netpol`) and routing objects (see
    // `graph::exposure`).
    with_origin(
        k(
            "CiliumNetworkPolicy",
            "cilium.io",
            "v2",
            "ciliumnetworkpolicies",
            Ns,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "CiliumClusterwideNetworkPolicy",
            "cilium.io",
            "v2",
            "ciliumclusterwidenetworkpolicies",
            Cluster,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "GlobalNetworkPolicy",
            "projectcalico.org",
            "v3",
            "globalnetworkpolicies",
            Cluster,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "Gateway",
            "gateway.networking.k8s.io",
            "v1",
            "gateways",
            Ns,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "HTTPRoute",
            "gateway.networking.k8s.io",
            "v1",
            "httproutes",
            Ns,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "GRPCRoute",
            "gateway.networking.k8s.io",
            "v1",
            "grpcroutes",
            Ns,
            None,
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "VirtualService",
            "networking.istio.io",
            "v1",
            "virtualservices",
            Ns,
            None,
        ),
        Origin::Crd,
    ),
    // Well-known CRD workloads with a pod template at a recognisable path.
    with_origin(
        k(
            "Rollout",
            "argoproj.io",
            "v1alpha1",
            "rollouts",
            Ns,
            Some(TEMPLATE),
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "CloneSet",
            "apps.kruise.io",
            "v1alpha1",
            "clonesets",
            Ns,
            Some(TEMPLATE),
        ),
        Origin::Crd,
    ),
    with_origin(
        k(
            "ScaledJob",
            "keda.sh",
            "v1alpha1",
            "scaledjobs",
            Ns,
            Some(&["spec", "jobTargetRef", "template", "spec"]),
        ),
        Origin::Crd,
    ),
];

/// The kind with this rule plural, e.g. `networkpolicies`.
pub fn kind_by_plural(plural: &str) -> Option<&'static BuiltinKind> {
    KINDS.iter().find(|k| k.plural == plural)
}

/// The kind with this kind name, e.g. `NetworkPolicy`.
pub fn kind_by_name(kind: &str) -> Option<&'static BuiltinKind> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Every rule plural kanon knows, in table order.
pub fn all_plurals() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.plural)
}

/// Whether objects of `kind` live in a namespace. Unknown kinds (CRDs) count as namespaced.
pub fn is_namespaced(kind: &str) -> bool {
    kind_by_name(kind).is_none_or(BuiltinKind::is_namespaced)
}

/// The path of the pod spec inside objects of `kind`, for known workload kinds.
///
/// For other kinds, try [`GENERIC_POD_SPEC_PATHS`] (see [`detect_pod_spec_path`]).
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    kind_by_name(kind).and_then(|k| k.pod_spec_path)
}

/// The pod spec path of an object: the known path of its kind, or else the first of
/// [`GENERIC_POD_SPEC_PATHS`] below which the object has a `containers` field, as told by
/// `has_path` (called with the full path to `containers`).
pub fn detect_pod_spec_path(
    kind: &str,
    mut has_path: impl FnMut(&[&str]) -> bool,
) -> Option<&'static [&'static str]> {
    if let Some(path) = pod_spec_path(kind) {
        return Some(path);
    }
    if kind_by_name(kind).is_some_and(|k| k.origin != Origin::Crd) {
        return None;
    }
    GENERIC_POD_SPEC_PATHS.iter().copied().find(|path| {
        let mut full: Vec<&str> = path.to_vec();
        full.push("containers");
        has_path(&full)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_plurals_are_unique_and_lowercase() {
        let mut names = HashSet::new();
        let mut plurals = HashSet::new();
        for k in KINDS {
            assert!(names.insert(k.kind), "duplicate kind {}", k.kind);
            assert!(plurals.insert(k.plural), "duplicate plural {}", k.plural);
            assert_eq!(k.plural, k.plural.to_ascii_lowercase());
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            kind_by_plural("networkpolicies").map(|k| k.kind),
            Some("NetworkPolicy")
        );
        assert_eq!(
            kind_by_name("Deployment").map(|k| k.plural),
            Some("deployments")
        );
        assert!(all_plurals().any(|p| p == "podsecuritypolicies"));
        assert!(all_plurals().any(|p| p == "clusterrolebindings"));
        assert!(!is_namespaced("ClusterRole"));
        assert!(!is_namespaced("PodSecurityPolicy"));
        assert!(is_namespaced("Role"));
        assert!(is_namespaced("SomeUnknownCrd"));
        assert_eq!(pod_spec_path("Pod"), Some(&["spec"][..]));
        assert_eq!(
            pod_spec_path("CronJob"),
            Some(&["spec", "jobTemplate", "spec", "template", "spec"][..])
        );
        assert_eq!(
            pod_spec_path("Rollout"),
            Some(&["spec", "template", "spec"][..])
        );
        assert_eq!(pod_spec_path("ConfigMap"), None);
        assert_eq!(
            kind_by_name("Deployment").map(|k| k.api_version()),
            Some("apps/v1".into())
        );
        assert_eq!(
            kind_by_name("Pod").map(|k| k.api_version()),
            Some("v1".into())
        );
    }

    #[test]
    fn generic_pod_spec_detection() {
        let cron_like = |p: &[&str]| {
            p == [
                "spec",
                "jobTemplate",
                "spec",
                "template",
                "spec",
                "containers",
            ]
        };
        assert_eq!(detect_pod_spec_path("MyCronThing", cron_like), Some(CRON));
        let template_like = |p: &[&str]| p.first() == Some(&"spec") && p.len() == 4;
        assert_eq!(
            detect_pod_spec_path("MyWorkload", template_like),
            Some(TEMPLATE)
        );
        assert_eq!(detect_pod_spec_path("MyConfig", |_| false), None);
        // A known non-workload kind never gets a guessed path.
        assert_eq!(detect_pod_spec_path("ConfigMap", |_| true), None);
        assert_eq!(
            detect_pod_spec_path("Deployment", |_| false),
            Some(TEMPLATE)
        );
    }
}
