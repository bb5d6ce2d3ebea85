//! The bundled rules that ask an input-wide question once (a singleton `for` binding) and
//! then loop over namespaces have no root object. The step limit bounds the input-wide part
//! (once more for every 16,384 objects) and, separately, each namespace. Before, one budget
//! covered every namespace: K07-011 hit it at 300,000 objects and K02-007 at 1,000,000.
//! A small limit keeps both parts honest:
//! - per-namespace lookups must use the namespace-indexed sources (`workloads(n.name)`), not
//!   a scan of every workload per namespace (with the scan, K02-007 once reported 32 of the
//!   559 namespaces of a 20,000-object cluster);
//! - the input-wide questions about custom kinds (`exists o in objects where o.kind ==
//!   "ClusterPolicy" ...`) must read those kinds through the kind index (the optimizer's
//!   `narrow_kind_scans`), not every object.
//!
//! Either regression makes K02-007 hit this test's limit (checked by hand: a scan of every
//! workload per namespace, and a kind test the optimizer cannot narrow).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::engine::{ScanOptions, scan};
use kanon::limits::Limits;

/// 100 Namespaces with 5 Pods and 40 ConfigMaps each, one YAML stream.
fn many_namespaces() -> String {
    let mut docs = Vec::new();
    for i in 0..100 {
        docs.push(format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{i:03}\n"
        ));
        for j in 0..5 {
            docs.push(format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-{j}\n  namespace: team-{i:03}\n\
                 spec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.{j}\n"
            ));
        }
        for j in 0..40 {
            docs.push(format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{j}\n  namespace: team-{i:03}\n\
                 data:\n  mode: fast\n"
            ));
        }
    }
    docs.join("---\n")
}

#[test]
fn namespace_rules_stay_within_a_small_step_limit() {
    let dir = std::env::temp_dir().join(format!("kanon-rule-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many-namespaces.yaml");
    std::fs::write(&path, many_namespaces()).unwrap();
    let r = scan(&ScanOptions {
        inputs: vec![path.to_string_lossy().into_owned()],
        bundled: true,
        threads: Some(2),
        // per namespace and for the input-wide questions; 100 namespaces together need more,
        // and so does scanning every workload for a namespace, or every object for a
        // question
        limits: Limits {
            max_steps: 1_000,
            ..Limits::default()
        },
        ..ScanOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let over: Vec<String> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == "E0502")
        .map(|d| d.message.clone())
        .collect();
    assert!(over.is_empty(), "{over:#?}");
    // every namespace runs workloads and nothing verifies image signatures
    let k02_007 = r
        .findings
        .iter()
        .filter(|f| &*f.rule.id == "K02-007")
        .count();
    assert_eq!(k02_007, 100);
}
