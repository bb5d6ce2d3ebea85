//! DOT and JSON export of the resource graph.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::graph::export::{to_dot, to_json};
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use serde_json::json;

fn load(files: &[&str]) -> Graph {
    let paths: Vec<String> = files
        .iter()
        .map(|f| format!("{}/tests/data/graph/{f}", env!("CARGO_MANIFEST_DIR")))
        .collect();
    let mut sources = SourceMap::new();
    let out = Loader::default().load_paths(&paths, &mut sources);
    Graph::build(out, &GraphOptions::default())
}

#[test]
fn dot_has_nodes_and_relation_edges() {
    let g = load(&["app.yaml", "rbac.yaml"]);
    let dot = to_dot(&g);
    let id = |kind: &str, ns: Option<&str>, name: &str| g.find_kind(kind, ns, name).unwrap();
    let web = id("Deployment", Some("default"), "web");
    let svc = id("Service", Some("default"), "web");
    let ing = id("Ingress", Some("default"), "web");
    let hpa = id("HorizontalPodAutoscaler", Some("default"), "web");
    let rb = id("RoleBinding", Some("build"), "ci-edit");
    let edit = id("ClusterRole", None, "edit");
    let sa = id("ServiceAccount", Some("build"), "ci");
    let job = id("Job", Some("build"), "build");
    for line in [
        format!("  n{web} [label=\"Deployment\\ndefault/web\"];"),
        format!("  n{svc} -> n{web} [label=\"selects\"];"),
        format!("  n{ing} -> n{svc} [label=\"references (ingress backend)\"];"),
        format!("  n{hpa} -> n{web} [label=\"references (scaleTargetRef)\"];"),
        format!("  n{rb} -> n{edit} [label=\"binding-role\"];"),
        format!("  n{rb} -> n{sa} [label=\"binding-subject\"];"),
        format!("  n{job} -> n{sa} [label=\"service-account\"];"),
        format!(
            "  n{edit} -> n{} [label=\"aggregates\"];",
            id("ClusterRole", None, "edit-deployments")
        ),
    ] {
        assert!(dot.lines().any(|l| l == line), "missing {line}\n{dot}");
    }
    assert_eq!(dot, to_dot(&load(&["app.yaml", "rbac.yaml"])));
}

#[test]
fn json_lists_nodes_edges_and_dangling_references() {
    let g = load(&["list-export.yaml", "app.yaml"]);
    let j = to_json(&g);
    let nodes = j["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), g.objects.len());
    assert_eq!(
        nodes[0],
        json!({"id": 0, "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod",
               "name": "api", "file": 0, "doc": 0})
    );
    let web = g.find_kind("Deployment", Some("default"), "web").unwrap();
    assert_eq!(nodes[web as usize]["file"], 1);
    let edges = j["edges"].as_array().unwrap();
    // ReplicaSet → Deployment and the two Pods → ReplicaSet
    assert_eq!(
        edges[..3],
        [
            json!({"from": 1, "to": 0, "relation": "owner"}),
            json!({"from": 2, "to": 1, "relation": "owner"}),
            json!({"from": 3, "to": 1, "relation": "owner"}),
        ]
    );
    assert_eq!(
        j["dangling"],
        json!([{"from": web, "kind": "Secret", "namespace": "default",
                "name": "db-credentials", "via": "env.valueFrom.secretKeyRef"}])
    );
}
