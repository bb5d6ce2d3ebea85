//! Exports the graph as Graphviz DOT or JSON, in a deterministic order (objects in input
//! order; each object's edges in relation order, then source order).
//!
//! Edge relations: `owner` (owned → owner), `selects`, `service-account` (workload → its
//! ServiceAccount), `binding-role`, `binding-subject` (binding → ServiceAccount),
//! `references` (with the referring field as `via`), `aggregates` (ClusterRole →
//! aggregated ClusterRole). Only edges whose both ends are in the input are edges; JSON lists
//! dangling references separately.

use serde_json::{Value, json};

use super::references::Via;
use super::{Graph, ObjId, RefKind};

/// One edge of the exported graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Source object.
    pub from: ObjId,
    /// Target object.
    pub to: ObjId,
    /// The relation name (`selects`, `owner`...).
    pub relation: &'static str,
    /// For `references`, the referring field.
    pub via: Option<&'static str>,
}

/// Every edge of the graph, deterministic order.
pub fn edges(g: &Graph) -> Vec<Edge> {
    let mut out = Vec::new();
    let mut push = |from, to, relation, via| {
        out.push(Edge {
            from,
            to,
            relation,
            via,
        });
    };
    for id in g.ids() {
        for &o in g.owners(id) {
            push(id, o, "owner", None);
        }
        for &t in g.selected(id) {
            push(id, t, "selects", None);
        }
        if let Some(t) = g.service_account(id).and_then(|sa| sa.target) {
            push(id, t, "service-account", None);
        }
        if let Some(t) = g.binding_role(id).and_then(|r| r.target) {
            push(id, t, "binding-role", None);
        }
        for s in g.subjects(id) {
            if &*s.kind != "ServiceAccount" {
                continue;
            }
            if let Some(t) = s
                .namespace
                .as_deref()
                .and_then(|ns| g.find("", "ServiceAccount", Some(ns), &s.name))
            {
                push(id, t, "binding-subject", None);
            }
        }
        for r in g.references(id) {
            // covered by `selects` and `service-account`
            if r.via == Via::Selector || r.kind == RefKind::ServiceAccount {
                continue;
            }
            if let Some(t) = r.target() {
                push(id, t, "references", Some(r.via.as_str()));
            }
        }
        for &a in g.aggregates(id) {
            push(id, a, "aggregates", None);
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph in Graphviz DOT: one node `n<id>` per object, one edge per relation.
pub fn to_dot(g: &Graph) -> String {
    let mut s = String::from("digraph kanon {\n  node [shape=box];\n");
    for id in g.ids() {
        let Some(o) = g.object(id) else { continue };
        let place = match &o.namespace {
            Some(ns) => format!("{ns}/{}", o.name),
            None => o.name.to_string(),
        };
        s.push_str(&format!(
            "  n{id} [label=\"{}\\n{}\"];\n",
            escape(&o.kind),
            escape(&place)
        ));
    }
    for e in edges(g) {
        let label = match e.via {
            Some(via) => format!("{} ({via})", e.relation),
            None => e.relation.to_owned(),
        };
        s.push_str(&format!(
            "  n{} -> n{} [label=\"{}\"];\n",
            e.from,
            e.to,
            escape(&label)
        ));
    }
    s.push_str("}\n");
    s
}

/// The graph as JSON: `{"nodes": [...], "edges": [...], "dangling": [...]}`. Nodes carry
/// `id`, `apiVersion`, `kind`, `namespace` (null when cluster-scoped), `name`, `file` (the
/// source map file id) and `doc` (the document's position in its file).
pub fn to_json(g: &Graph) -> Value {
    let nodes: Vec<Value> = json_nodes(g).collect();
    let edges: Vec<Value> = json_edges(g).collect();
    let dangling: Vec<Value> = json_dangling(g).collect();
    json!({"nodes": nodes, "edges": edges, "dangling": dangling})
}

/// The `nodes` of [`to_json`], one at a time.
pub fn json_nodes(g: &Graph) -> impl Iterator<Item = Value> + '_ {
    g.ids().filter_map(|id| {
        let o = g.object(id)?;
        let doc = g.doc(id)?;
        Some(json!({
            "id": id,
            "apiVersion": &*o.api_version,
            "kind": &*o.kind,
            "namespace": o.namespace.as_deref(),
            "name": &*o.name,
            "file": doc.file,
            "doc": doc.index,
        }))
    })
}

/// The `edges` of [`to_json`], one at a time.
pub fn json_edges(g: &Graph) -> impl Iterator<Item = Value> {
    edges(g).into_iter().map(|e| match e.via {
        Some(via) => json!({"from": e.from, "to": e.to, "relation": e.relation, "via": via}),
        None => json!({"from": e.from, "to": e.to, "relation": e.relation}),
    })
}

/// The `dangling` references of [`to_json`], one at a time.
pub fn json_dangling(g: &Graph) -> impl Iterator<Item = Value> + '_ {
    g.ids().flat_map(move |id| {
        g.references(id)
            .iter()
            .filter(|r| r.target().is_none())
            .map(move |r| {
                json!({
                    "from": id,
                    "kind": format!("{:?}", r.kind),
                    "namespace": g.reference_namespace(id, r),
                    "name": &*r.name,
                    "via": r.via.as_str(),
                })
            })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testutil::graph;
    use super::*;

    const INPUT: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: "we\"b", namespace: ns1}
spec: {selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns1}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: app
      containers: [{name: c, envFrom: [{secretRef: {name: s}}, {secretRef: {name: missing}}]}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: ns1}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns1}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: ns1}
roleRef: {kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: app}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: admin}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {a: "1"}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: part, labels: {a: "1"}}
"#;

    #[test]
    fn edges_in_order() {
        let g = graph(INPUT);
        let e: Vec<(ObjId, ObjId, &str)> = edges(&g)
            .iter()
            .map(|e| (e.from, e.to, e.relation))
            .collect();
        assert_eq!(
            e,
            vec![
                (0, 1, "selects"),
                (1, 2, "service-account"),
                (1, 3, "references"),
                (4, 5, "binding-role"),
                (4, 2, "binding-subject"),
                (5, 6, "aggregates"),
            ]
        );
    }

    #[test]
    fn dot_and_json() {
        let g = graph(INPUT);
        let dot = to_dot(&g);
        assert!(dot.starts_with("digraph kanon {\n"));
        assert!(
            dot.contains("  n0 [label=\"Service\\nns1/we\\\"b\"];\n"),
            "{dot}"
        );
        assert!(dot.contains("  n5 [label=\"ClusterRole\\nadmin\"];\n"));
        assert!(dot.contains("  n1 -> n3 [label=\"references (envFrom)\"];\n"));
        assert!(dot.contains("  n5 -> n6 [label=\"aggregates\"];\n"));
        assert_eq!(dot, to_dot(&graph(INPUT)));
        let j = to_json(&g);
        assert_eq!(j["nodes"].as_array().unwrap().len(), 7);
        assert_eq!(j["nodes"][5]["namespace"], Value::Null);
        assert_eq!(j["nodes"][1]["kind"], "Deployment");
        assert_eq!(
            j["edges"][0],
            json!({"from": 0, "to": 1, "relation": "selects"})
        );
        assert_eq!(
            j["edges"][2],
            json!({"from": 1, "to": 3, "relation": "references", "via": "envFrom"})
        );
        assert_eq!(
            j["dangling"],
            json!([{"from": 1, "kind": "Secret", "namespace": "ns1", "name": "missing", "via": "envFrom"}])
        );
    }
}
