//! Loads the shared corpus of real-world manifests (when present): no errors, stable object
//! counts per project (cross-checked once against PyYAML), and exact locations for sampled
//! values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::model::{LoadOutput, Loader, Style, Value};
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    p.is_dir().then_some(p)
}

fn load(path: &Path) -> (LoadOutput, SourceMap) {
    let mut sources = SourceMap::new();
    let out = Loader::default().load_paths(&[path.display().to_string()], &mut sources);
    (out, sources)
}

/// Objects per project folder (List items count one each).
const EXPECTED: &[(&str, usize)] = &[
    ("argo-cd", 318),
    ("calico", 233),
    ("ingress-nginx", 224),
    ("istio", 350),
    ("kube-prometheus", 131),
    ("kubernetes-examples", 281),
    ("metrics-server", 9),
    ("microservices-demo", 139),
];

#[test]
fn corpus_loads_without_errors_and_counts_are_stable() {
    let Some(root) = corpus() else {
        println!("skipping: ../shared/corpus absent");
        return;
    };
    for (project, expected) in EXPECTED {
        let (out, sources) = load(&root.join(project));
        let errors: Vec<String> = out
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let at = d.primary.as_ref().map(|l| {
                    (
                        sources.name(l.span.file).to_string(),
                        sources.line_col(l.span),
                    )
                });
                format!("{} {} {:?}", d.code, d.message, at)
            })
            .collect();
        assert!(errors.is_empty(), "{project}: {errors:#?}");
        assert_eq!(out.stats.objects, *expected, "{project}: {:?}", out.stats);
        assert_eq!(out.objects.len(), *expected);
        // documents == documents with objects + skipped
        let mut with_objects: Vec<u32> = out.objects.iter().map(|o| o.doc).collect();
        with_objects.dedup();
        assert_eq!(
            out.stats.documents,
            with_objects.len() + out.stats.skipped_total(),
            "{project}"
        );
        for o in &out.objects {
            let doc = out.doc(*o).unwrap();
            assert!(doc.str_at(o.node, &["kind"]).is_some());
        }
    }
}

#[test]
fn corpus_sampled_values_are_located() {
    let Some(root) = corpus() else {
        println!("skipping: ../shared/corpus absent");
        return;
    };
    // A bare `=` (a YAML 1.1 value tag) in a CRD enum reads as the string `=`.
    let crd = root
        .join("kube-prometheus/manifests/setup/0alertmanagerConfigCustomResourceDefinition.yaml");
    let (out, sources) = load(&crd);
    assert!(!out.has_errors());
    let doc = &out.docs[0];
    let eq = doc
        .ids()
        .filter_map(|id| doc.node(id))
        .find(|n| n.value == Value::Str("=") && n.style == Style::Plain)
        .unwrap();
    assert_eq!(sources.line_col(eq.span), (81, 31));
    assert_eq!(
        doc.str_at(doc.root, &["metadata", "name"]),
        Some("alertmanagerconfigs.monitoring.coreos.com")
    );

    // A flow sequence whose `]` sits at the parent's indent (accepted by Go yaml).
    let spire = root.join("istio/samples/security/spire/spire-quickstart.yaml");
    let (out, sources) = load(&spire);
    assert!(!out.has_errors());
    let (obj, container) = out
        .objects
        .iter()
        .find_map(|o| {
            let doc = out.doc(*o)?;
            let cs = doc.path(o.node, &["spec", "template", "spec", "containers"])?;
            doc.seq(cs)
                .iter()
                .find(|c| doc.str_at(**c, &["name"]) == Some("spiffe-csi-driver"))
                .map(|c| (*o, *c))
        })
        .unwrap();
    let doc = out.doc(obj).unwrap();
    assert_eq!(doc.str_at(obj.node, &["kind"]), Some("DaemonSet"));
    let args = doc.get(container, "args").unwrap();
    let items: Vec<&str> = doc.seq(args).iter().map(|i| doc.str(*i).unwrap()).collect();
    assert_eq!(
        items,
        vec![
            "-workload-api-socket-dir",
            "/spire-agent-socket",
            "-csi-socket-path",
            "/spiffe-csi/csi.sock"
        ]
    );
    let third = doc.node(doc.seq(args)[2]).unwrap();
    assert_eq!(sources.line_col(third.span), (909, 15));
    assert_eq!(sources.slice(third.span), "\"-csi-socket-path\"");
    let args_node = doc.node(args).unwrap();
    assert_eq!(sources.line_col(args_node.key_span.unwrap()), (907, 11));
    assert_eq!(sources.line_col(args_node.span), (907, 17));
}
