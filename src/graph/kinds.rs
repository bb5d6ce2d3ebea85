//! A small private table of built-in kinds: which are cluster-scoped, which are workloads
//! and where their pod spec lives (other kinds' pod templates are found by their shape, see
//! [`super::workload`]).
//!
//! This duplicates part of the schema stage's kinds table on purpose, so that the graph does
//! not depend on it; the two will be merged later.

/// Built-in kinds that are cluster-scoped (have no namespace).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "CiliumClusterwideNetworkPolicy",
    "GatewayClass",
    "GlobalNetworkPolicy",
    "IngressClass",
    "IPAddress",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectReview",
    "SelfSubjectRulesReview",
    "ServiceCIDR",
    "StorageClass",
    "StorageVersion",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
];

/// Whether a built-in kind is cluster-scoped. Unknown kinds are assumed namespaced.
pub fn is_cluster_scoped_builtin(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// Where the pod spec of a built-in workload kind lives, relative to the object.
///
/// Returns the path to the pod spec and the path to the pod's metadata (whose `labels` are
/// the pod labels); `None` for kinds that are not built-in workloads.
pub fn builtin_pod_paths(kind: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match kind {
        "Pod" => Some((&["spec"], &["metadata"])),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some((
            &["spec", "template", "spec"],
            &["spec", "template", "metadata"],
        )),
        "CronJob" => Some((
            &["spec", "jobTemplate", "spec", "template", "spec"],
            &["spec", "jobTemplate", "spec", "template", "metadata"],
        )),
        _ => None,
    }
}

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → the core group ``).
pub fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}
