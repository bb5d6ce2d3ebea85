//! End-to-end scans: locations, output stability, determinism across thread counts.

use kanon::engine::{ScanOptions, scan};
use kanon::report::{json, text};
use std::path::Path;

fn opts(inputs: &[&str], threads: Option<usize>) -> ScanOptions {
    ScanOptions {
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        bundled: true,
        threads,
        ..ScanOptions::default()
    }
}

fn manifest_dir() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

#[test]
fn sample_manifests_point_at_the_offending_fields() {
    let dir = format!("{}/examples/manifests", manifest_dir());
    let r = scan(&opts(&[&dir], Some(1))).unwrap();
    assert!(!r.has_errors(), "{:#?}", r.diagnostics);
    let at: Vec<(String, u32, u32)> = r
        .findings
        .iter()
        .map(|f| (f.rule.id.to_string(), f.location.line, f.location.column))
        .collect();
    // privileged: true is on line 31, column 13 of app.yaml
    assert!(at.contains(&("K01-001".into(), 31, 13)), "{at:?}");
    // image: nginx:latest on line 27, column 11
    assert!(at.contains(&("K02-001".into(), 27, 11)), "{at:?}");
    // hostNetwork: true on line 49, column 7
    assert!(at.contains(&("K01-010".into(), 49, 7)), "{at:?}");
    // web is selected by no NetworkPolicy; node-agent is
    let k07: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| &*f.rule.id == "K07-001")
        .map(|f| f.resource.name.as_ref())
        .collect();
    assert_eq!(k07, ["web"]);
    let plain = text::render_plain(&r.sources, &r.findings).replace(manifest_dir(), "<repo>");
    insta::assert_snapshot!(plain);
}

#[test]
fn json_output_is_identical_across_thread_counts() {
    let corpus = Path::new(manifest_dir()).join("../shared/corpus/real");
    let dir = format!("{}/examples/manifests", manifest_dir());
    let input = if corpus.is_dir() {
        corpus.to_string_lossy().into_owned()
    } else {
        eprintln!("skipping the corpus part: ../shared/corpus is absent; using examples/manifests");
        dir
    };
    let render = |threads| {
        let r = scan(&opts(&[&input], Some(threads))).unwrap();
        serde_json::to_string(&json::report(
            &r.findings,
            &r.summary,
            &r.diagnostics,
            &r.sources,
        ))
        .unwrap()
    };
    let one = render(1);
    assert!(one.contains("\"rule\""), "no findings at all");
    assert_eq!(one, render(2));
    assert_eq!(one, render(8));
}

#[test]
fn corpus_scan_finds_located_findings() {
    let corpus = Path::new(manifest_dir()).join("../shared/corpus/real");
    if !corpus.is_dir() {
        eprintln!("skipping: ../shared/corpus is absent");
        return;
    }
    let r = scan(&opts(&[&corpus.to_string_lossy()], None)).unwrap();
    assert!(!r.has_errors());
    assert!(r.summary.objects > 1500);
    assert!(!r.findings.is_empty());
    // every finding's line and column point into its file, at the text the rule names
    for f in &r.findings {
        let src = r.sources.file(f.location.span.file).unwrap();
        let line = src.line_text(f.location.line as usize - 1);
        assert!(
            f.location.column as usize <= line.chars().count() + 1,
            "{f:?}"
        );
    }
    // a sampled finding: the privileged container of the calico node DaemonSet
    let privileged: Vec<_> = r
        .findings
        .iter()
        .filter(|f| &*f.rule.id == "K01-001")
        .collect();
    assert!(!privileged.is_empty());
    for f in privileged {
        let src = r.sources.file(f.location.span.file).unwrap();
        assert_eq!(
            src.line_text(f.location.line as usize - 1).trim(),
            "privileged: true",
            "{f:?}"
        );
    }
}

/// `image(...)` keeps the last reference it parsed; calls that alternate between texts
/// (each container against each row of a list) must each see their own text.
#[test]
fn image_calls_alternating_between_texts_see_their_own() {
    let dir = std::env::temp_dir().join(format!("kanon-image-memo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("r.kanon");
    std::fs::write(
        &rules,
        r#"param pinned: list<string> = ["nginx:1.27", "quay.io/x/app:2.0", "redis:7"]
rule ORG-001 other-tag {
  title    "t"
  severity low
  owasp    "K02:2022"
  fix      "f"
  for w in workloads, c in w.containers, p in pinned
  where image(c.image).name == image(p).name and image(c.image).tag != image(p).tag
  report at c.image
    "{c.name}: {image(c.image).name}:{image(c.image).tag} from {image(c.image).registry} is not {image(p).tag}"
}
"#,
    )
    .unwrap();
    let manifest = dir.join("pod.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25\n    - name: b\n      image: quay.io/x/app:2.0\n    - name: c\n      image: redis:6\n",
    )
    .unwrap();
    let r = scan(&ScanOptions {
        inputs: vec![manifest.to_string_lossy().into_owned()],
        rules: vec![rules.clone()],
        bundled: false,
        threads: Some(1),
        ..ScanOptions::default()
    })
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!r.has_errors(), "{:#?}", r.diagnostics);
    let messages: Vec<String> = r.findings.iter().map(|f| f.message.to_string()).collect();
    assert_eq!(
        messages,
        [
            "a: docker.io/library/nginx:1.25 from docker.io is not 1.27",
            "c: docker.io/library/redis:6 from docker.io is not 7"
        ]
    );
}

/// A scan that frees its documents' nodes before it makes its findings (what `kanon scan`
/// does without `--fix` or `--diff`) describes the fixes and reads the exemption
/// annotations first: its JSON report, exempted findings listed, is the one of a scan that
/// keeps them and describes the fixes after (as the CLI does then), byte for byte, on
/// inputs with fixes, an annotation exemption and a document with a duplicate key.
#[test]
fn freeing_the_documents_changes_no_report() {
    let dir = std::env::temp_dir().join(format!("kanon-release-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let examples = Path::new(manifest_dir()).join("examples/manifests");
    for e in std::fs::read_dir(&examples).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.join("more.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: annotated\n  annotations:\n    kanon.dev/exempt: K01-001\n    kanon.dev/exempt-reason: reviewed\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: twice\n  name: twice\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n",
    )
    .unwrap();
    let report = |release: bool| {
        let mut o = opts(&[dir.to_str().unwrap()], Some(2));
        o.fixes = true;
        o.release_documents = release;
        let mut r = scan(&o).unwrap();
        let docs = &r.graph.load.docs;
        assert_eq!(docs.iter().all(|d| d.is_empty()), release);
        if !release {
            let dup = kanon::fix::apply::ambiguous_documents(&r.diagnostics, docs);
            kanon::fix::apply::describe(&mut r.findings, &r.sources, docs, &|f, d| {
                dup.contains(&(f, d))
            });
        }
        let exempted = kanon::policy::exempted_json(&r.exempted);
        let mut out = Vec::new();
        json::write(
            &mut out,
            &r.findings,
            &r.summary,
            &r.diagnostics,
            &r.sources,
            Some(exempted),
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), r.documents)
    };
    let (kept, kept_docs) = report(false);
    let (freed, freed_docs) = report(true);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(kept, freed);
    // what `--timings` shows of the documents is measured before they are freed
    assert_eq!(kept_docs, freed_docs);
    assert!(kept_docs.nodes > 0);
    // the report has what could differ: fixes described, one that the duplicate key
    // makes unfixable, and the exempted finding
    assert!(kept.contains("\"changes\": [\n"), "{kept}");
    assert!(kept.contains("has a duplicate key"), "{kept}");
    assert!(kept.contains("\"exemption\""), "{kept}");
}
