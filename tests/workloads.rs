//! Which objects are workloads, scanned end to end with the bundled rules: pod templates of
//! custom kinds found by their shape (fixtures in `tests/data/workloads/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::engine::{ScanOptions, ScanResult, scan};

fn scan_fixture(file: &str) -> ScanResult {
    let path = format!("{}/tests/data/workloads/{file}", env!("CARGO_MANIFEST_DIR"));
    scan(&ScanOptions {
        inputs: vec![path],
        bundled: true,
        threads: Some(2),
        ..ScanOptions::default()
    })
    .unwrap()
}

/// `(rule, kind, name, line)` of every finding of these rules, in report order.
fn findings(r: &ScanResult, rules: &[&str]) -> Vec<(String, String, String, u32)> {
    r.findings
        .iter()
        .filter(|f| rules.contains(&&*f.rule.id))
        .map(|f| {
            (
                f.rule.id.to_string(),
                f.resource.kind.to_string(),
                f.resource.name.to_string(),
                f.location.line,
            )
        })
        .collect()
}

#[test]
fn privileged_sandbox_pod_template_is_checked() {
    let r = scan_fixture("sandbox.yaml");
    let row = |rule: &str, kind: &str, name: &str, line| {
        (rule.to_string(), kind.to_string(), name.to_string(), line)
    };
    // `spec.podTemplate.spec`: the privileged container and the host PID namespace are
    // reported where they are written
    assert_eq!(
        findings(&r, &["K01-001", "K01-011"]),
        [
            row("K01-001", "Sandbox", "code-runner", 19),
            row("K01-011", "SandboxTemplate", "python-template", 29),
        ]
    );
    // a SandboxClaim only names a template: no pod, no finding
    assert!(
        r.findings
            .iter()
            .all(|f| &*f.resource.kind != "SandboxClaim"),
        "{:#?}",
        r.findings
    );
}

#[test]
fn fields_of_the_wrong_shape_are_warned_where_they_are() {
    let r = scan_fixture("malformed.yaml");
    let shape: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == kanon::shape::MALFORMED_SHAPE)
        .cloned()
        .collect();
    let text = kanon::report::diagnostics::render_plain(&r.sources, &shape);
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "");
    insta::assert_snapshot!(text);
}

#[test]
fn objects_without_a_namespace_beside_objects_with_one_are_warned_once() {
    let r = scan_fixture("kustomize-base.yaml");
    let mixed: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.code == kanon::graph::MIXED_NAMESPACES)
        .cloned()
        .collect();
    let text = kanon::report::diagnostics::render_plain(&r.sources, &mixed);
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "");
    insta::assert_snapshot!(text);
    // the namespace chosen on the command line answers it
    let path = format!(
        "{}/tests/data/workloads/kustomize-base.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let chosen = scan(&ScanOptions {
        inputs: vec![path],
        bundled: true,
        threads: Some(2),
        default_namespace: Some("shop".to_string()),
        ..ScanOptions::default()
    })
    .unwrap();
    assert!(
        chosen
            .diagnostics
            .iter()
            .all(|d| d.code != kanon::graph::MIXED_NAMESPACES)
    );
    // and, in `shop`, the Deployment is selected by the policy
    assert!(
        chosen.findings.iter().all(|f| &*f.rule.id != "K07-001"),
        "{:#?}",
        chosen.findings
    );
}
