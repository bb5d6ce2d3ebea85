//! Whether an object was read from a running cluster (exported state) rather than from
//! manifests: a rule can only judge what exists at run time (Pods created by operators,
//! labels added by overlays) when the input holds that state.
//!
//! An object is live when it carries what only the API server writes: a `metadata.uid`, a
//! `metadata.resourceVersion`, an `ownerReferences` entry with a `uid`, or a `status.phase`
//! (Pods, Namespaces, PersistentVolumes...). `kubectl get -o yaml` exports (single objects
//! or a `List`) have them; manifests, Helm charts and Kustomize output do not.

use super::{Graph, ObjId, nonempty_str};

impl Graph {
    /// Whether the object was exported from a running cluster (see the module docs).
    pub fn is_live(&self, id: ObjId) -> bool {
        let Some((doc, node)) = self.doc_node(id) else {
            return false;
        };
        let meta = doc.get(node, "metadata");
        let set = |key: &str| {
            meta.and_then(|m| doc.get(m, key))
                .and_then(|n| nonempty_str(doc, n))
                .is_some()
        };
        let owned = meta
            .and_then(|m| doc.get(m, "ownerReferences"))
            .is_some_and(|o| {
                doc.seq(o).iter().any(|&r| {
                    doc.get(r, "uid")
                        .and_then(|n| nonempty_str(doc, n))
                        .is_some()
                })
            });
        set("uid")
            || set("resourceVersion")
            || owned
            || doc
                .path(node, &["status", "phase"])
                .and_then(|n| nonempty_str(doc, n))
                .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::graph;

    #[test]
    fn exported_objects_are_live() {
        let g = graph(
            r#"
apiVersion: v1
kind: Pod
metadata: {name: manifest, labels: {app: a}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: exported, uid: 0b6f-11, resourceVersion: "42"}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: owned
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: 7f3a}]
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: running}
spec: {containers: [{name: c}]}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: dry-run, creationTimestamp: null, uid: ""}
spec: {containers: [{name: c}]}
status: {}
"#,
        );
        let live: Vec<bool> = (0..5).map(|i| g.is_live(i)).collect();
        assert_eq!(live, [false, true, true, true, false]);
    }
}
