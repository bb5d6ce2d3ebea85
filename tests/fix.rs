//! `kanon scan --fix`, `--diff`, `--fix-only` and `--unsafe-fixes` end to end: what is
//! written, what is shown, what is left, and the fix carried by JSON and SARIF.
//!
//! The Helm test needs a `helm` (`KANON_TEST_HELM`, set by `.ci/run`); the corpus test needs
//! `../shared/corpus/real`. Without them they say so and skip, unless
//! `KANON_REQUIRE_TOOLS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::kanon;
use common::run_stdin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = kanon().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn required() -> bool {
    std::env::var("KANON_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn missing(what: &str) {
    assert!(
        !required(),
        "{what} is missing and KANON_REQUIRE_TOOLS=1: run .ci/run, which provides it"
    );
    eprintln!("skipping: {what} is missing (KANON_REQUIRE_TOOLS=1 makes this an error)");
}

/// A fresh directory holding `files`.
fn dir_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kanon-fix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

/// `text` with a SARIF replacement applied by line and column, as a code-scanning UI would.
fn apply_replacement(text: &str, replacement: &Value) -> String {
    let region = &replacement["deletedRegion"];
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let offset = |line: &Value, col: &Value| -> usize {
        let (line, col) = (
            line.as_u64().expect("a line"),
            col.as_u64().expect("a column"),
        );
        lines[..(line - 1) as usize]
            .iter()
            .map(|l| l.len())
            .sum::<usize>()
            + (col - 1) as usize
    };
    let start = offset(&region["startLine"], &region["startColumn"]);
    let end = offset(&region["endLine"], &region["endColumn"]);
    format!(
        "{}{}{}",
        &text[..start],
        replacement["insertedContent"]["text"].as_str().unwrap(),
        &text[end..]
    )
}

const APP: &str = "# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # main app
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
          securityContext:
            privileged: true  # needed?
        - name: sidecar
          image: 'registry.example.com/proxy:2.1'
          imagePullPolicy: IfNotPresent
          resources: {limits: {cpu: 200m}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers:
  - name: a
    image: \"busybox:1.36\"
    securityContext: {capabilities: {add: [SYS_ADMIN, NET_BIND_SERVICE]}}
";

/// Replaces the temporary directory in output by `<dir>`.
fn redact(s: &str, dir: &Path) -> String {
    let d = dir.display().to_string();
    s.replace(&format!("a{d}"), "a/<dir>")
        .replace(&format!("b{d}"), "b/<dir>")
        .replace(&d, "<dir>")
}

/// The summary lines of `--fix` and `--diff` on standard error (diagnostics left out).
fn summary(err: &str) -> String {
    err.lines()
        .filter(|l| {
            l.starts_with("fixed ")
                || l.starts_with("would fix ")
                || l.contains(" remain")
                || l.contains(" not fixable: ")
                || l.contains(" unsafe fix")
                || l.contains(" could not be fixed")
                || l.starts_with("  ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn diff_shows_the_safe_fixes_and_writes_nothing() {
    let dir = dir_with("diff", &[("app.yaml", APP)]);
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&["scan", d, "--diff"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("app.yaml")).unwrap(), APP);
    insta::assert_snapshot!(
        "diff",
        format!("{}\n{}", redact(&out, &dir), redact(&summary(&err), &dir))
    );
    // nothing to fix: exit 0, no diff
    let clean = dir_with(
        "diff-clean",
        &[(
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        )],
    );
    let (code, out, err) = run(&["scan", clean.to_str().unwrap(), "--diff"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("would fix 0 findings in 0 files"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&clean).unwrap();
}

#[test]
fn fix_applies_the_safe_fixes_and_a_second_fix_changes_nothing() {
    let dir = dir_with("fix", &[("app.yaml", APP)]);
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&["scan", d, "--fix", "--format", "json", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    let fixed = std::fs::read_to_string(dir.join("app.yaml")).unwrap();
    insta::assert_snapshot!("fixed_file", fixed);
    insta::assert_snapshot!("fix_summary", redact(&summary(&err), &dir));
    // what is reported is what is left: no finding with a safe fix that could be applied
    let report: Value = serde_json::from_str(&out).unwrap();
    for f in report["findings"].as_array().unwrap() {
        let a = &f["autofix"];
        assert!(
            a.is_null() || a["applicability"] != "safe" || !a["unfixable"].is_null(),
            "a safe fix is left: {f}"
        );
    }
    // a second run has nothing to do and changes no byte
    let (code, _, err) = run(&["scan", d, "--fix", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fixed 0 findings in 0 files"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("app.yaml")).unwrap(),
        fixed
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsafe_fixes_only_when_asked() {
    let dir = dir_with("unsafe", &[("app.yaml", APP)]);
    let d = dir.to_str().unwrap();
    let (_, _, err) = run(&["scan", d, "--fix", "--fail-on", "never"]);
    assert!(err.contains("`--unsafe-fixes` applies them"), "{err}");
    let safe = std::fs::read_to_string(dir.join("app.yaml")).unwrap();
    assert!(safe.contains("privileged: true  # needed?"), "{safe}");
    let (code, _, err) = run(&["scan", d, "--fix", "--unsafe-fixes", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    let all = std::fs::read_to_string(dir.join("app.yaml")).unwrap();
    // the value changes, the comment after it stays
    assert!(all.contains("privileged: false  # needed?"), "{all}");
    // the dangerous capability is gone, the harmless one kept
    assert!(all.contains("add: [NET_BIND_SERVICE]"), "{all}");
    // K01-002 applies on the pass after privileged was turned off
    assert!(!err.contains("K01-002 (the fix does not apply"), "{err}");
    insta::assert_snapshot!("unsafe_fixed_file", all);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fix_only_prints_the_summary_and_exits_0() {
    let dir = dir_with("fix-only", &[("app.yaml", APP)]);
    let (code, out, err) = run(&["scan", dir.to_str().unwrap(), "--fix-only"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("fixed 10 findings in 1 file"), "{err}");
    assert!(err.contains("findings remain: "), "{err}");
    assert_ne!(std::fs::read_to_string(dir.join("app.yaml")).unwrap(), APP);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Line ends, flow and block styles, quoting, comments and document markers are kept.
#[test]
fn crlf_files_keep_their_line_ends() {
    let crlf = APP.replace('\n', "\r\n");
    let dir = dir_with("crlf", &[("app.yaml", &crlf)]);
    let (code, _, err) = run(&["scan", dir.to_str().unwrap(), "--fix", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    let fixed = std::fs::read_to_string(dir.join("app.yaml")).unwrap();
    assert_ne!(fixed, crlf);
    assert_eq!(
        fixed.matches('\n').count(),
        fixed.matches("\r\n").count(),
        "{fixed:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs kanon with `input` on standard input.

#[test]
fn standard_input_is_not_fixable_but_diff_shows_the_change() {
    let (_, stdout, stderr) = run_stdin(&["scan", "-", "--diff"], APP);
    assert!(
        stdout.starts_with("# `<stdin>` is not a file kanon can rewrite"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+          imagePullPolicy: Always"),
        "{stdout}"
    );
    assert!(
        stderr.contains("would fix 0 findings in 0 files"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not fixable: K02-005 (`<stdin>` is not a file that can be rewritten)"),
        "{stderr}"
    );
    // --fix writes nothing anywhere
    let (code, _, stderr) = run_stdin(&["scan", "-", "--fix", "--fail-on", "never"], APP);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("fixed 0 findings in 0 files"), "{stderr}");
}

/// JSON carries each fix's edits by path and as text; SARIF carries it as a `fix` with
/// `artifactChanges` whose replacement, applied to the file, is the fixed file.
#[test]
fn json_and_sarif_carry_the_fix() {
    let one = "apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: shop
spec:
  containers:
  - name: a
    image: registry.example.com/app:1.0
    imagePullPolicy: IfNotPresent # pinned by tag
";
    let dir = dir_with("reports", &[("pod.yaml", one)]);
    let file = dir.join("pod.yaml");
    let f = file.to_str().unwrap();
    let (_, out, err) = run(&["scan", f, "--format", "json", "--fail-on", "never"]);
    let report: Value = serde_json::from_str(&out).expect(&err);
    let k02 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"]["id"] == "K02-005")
        .unwrap();
    let fix = &k02["autofix"];
    assert_eq!(fix["applicability"], "safe");
    assert_eq!(
        fix["edits"],
        serde_json::json!([{"op": "set", "path": ["spec", "containers", 0, "imagePullPolicy"], "value": "Always"}])
    );
    assert_eq!(fix["changes"][0]["inserted"], "Always");
    assert_eq!(fix["changes"][0]["deleted"]["line"], 10);
    // the unsafe fix of K01-006 is there too, marked unsafe
    let k06 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"]["id"] == "K01-006")
        .unwrap();
    assert_eq!(k06["autofix"]["applicability"], "unsafe");

    let (_, out, err) = run(&["scan", f, "--format", "sarif", "--fail-on", "never"]);
    let sarif: Value = serde_json::from_str(&out).expect(&err);
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "K02-005")
        .unwrap();
    let change = &result["fixes"][0]["artifactChanges"][0];
    let replacement = &change["replacements"][0];
    let patched = apply_replacement(one, replacement);
    assert_eq!(
        patched,
        one.replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: Always")
    );
    assert!(
        result["fixes"][0]["description"]["text"]
            .as_str()
            .unwrap()
            .starts_with("safe fix of K02-005: "),
        "{result}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A finding in a rendered chart is not fixed in place: the template is what to change.
#[test]
fn rendered_charts_are_not_fixed_in_place() {
    let helm = match std::env::var("KANON_TEST_HELM") {
        Ok(h) if Path::new(&h).is_file() => h,
        _ => {
            missing("a helm (set KANON_TEST_HELM, e.g. to tools/helm with .ci/venv installed)");
            return;
        }
    };
    let before = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/helm/web/templates/deployment.yaml"),
    )
    .unwrap();
    let (code, out, err) = run(&["scan", "examples/helm/web", "--helm", &helm, "--diff"]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        out.is_empty() || out.starts_with("# `<helm template"),
        "{out}"
    );
    assert!(err.contains("would fix 0 findings in 0 files"), "{err}");
    assert!(err.contains(" not fixable: "), "{err}");
    let after = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/helm/web/templates/deployment.yaml"),
    )
    .unwrap();
    assert_eq!(before, after);
}

/// On a copy of the real-world corpus: `--fix` leaves no finding of a rule with a safe fix
/// except those reported as not fixable, every file still loads, and a second `--fix`
/// changes nothing.
#[test]
fn the_corpus_round_trips() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    if !corpus.is_dir() {
        missing("../shared/corpus/real");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kanon-fix-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ok = Command::new("cp")
        .args(["-r", corpus.to_str().unwrap(), dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(ok.success());
    let d = dir.to_str().unwrap();
    // no rendering: the corpus' own files are what is fixed
    let (_, before, err) = run(&[
        "scan",
        d,
        "--no-render",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let before: Value = serde_json::from_str(&before).expect(&err);
    let (code, diff, diff_err) = run(&["scan", d, "--no-render", "--diff", "--fail-on", "never"]);
    assert_eq!(code, 1, "{diff_err}");
    let (code, _, err) = run(&["scan", d, "--no-render", "--fix", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    let fixed: usize = err
        .lines()
        .find_map(|l| l.strip_prefix("fixed "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(fixed > 500, "{err}");
    // --diff ran the same passes in memory: the same summary, and its diff is what --fix wrote
    let summary = |e: &str, prefix: &str| {
        e.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_string)
    };
    assert_eq!(
        summary(&diff_err, "would fix "),
        summary(&err, "fixed "),
        "{diff_err}\n{err}"
    );
    let mut changes = Vec::new();
    let mut stack = vec![corpus.clone()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&corpus).unwrap();
            let was = std::fs::read(&path).unwrap();
            let now = std::fs::read(dir.join(rel)).unwrap();
            if was != now {
                changes.push(kanon::fix::apply::FileChange {
                    name: dir.join(rel).display().to_string(),
                    writable: true,
                    before: String::from_utf8(was).unwrap(),
                    after: String::from_utf8(now).unwrap(),
                });
            }
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    let wrote: String = changes
        .iter()
        .map(kanon::fix::apply::unified_diff)
        .collect();
    assert!(diff == wrote, "--diff differs from what --fix wrote");
    let (_, after, err) = run(&[
        "scan",
        d,
        "--no-render",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let after: Value = serde_json::from_str(&after).expect(&err);
    // every file still loads as before
    let errors = |r: &Value| {
        r["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["severity"] == "error")
            .count()
    };
    assert_eq!(errors(&after), errors(&before));
    assert_eq!(
        after["summary"]["objects"], before["summary"]["objects"],
        "{}",
        after["summary"]
    );
    for f in after["findings"].as_array().unwrap() {
        let a = &f["autofix"];
        assert!(
            a.is_null() || a["applicability"] != "safe" || !a["unfixable"].is_null(),
            "a safe fix is left: {f}"
        );
    }
    let (code, _, err) = run(&["scan", d, "--no-render", "--diff", "--fail-on", "never"]);
    assert_eq!(code, 0, "a second --fix would change something: {err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two fixes that remove items of one list are not made in one pass (the first moves the
/// items the second names): `--fix` makes both, one pass after the other, and `--diff`
/// shows the same passes, read from memory, as one diff that is exactly what `--fix` writes.
#[test]
fn overlapping_fixes_wait_for_the_next_pass() {
    let pod = "apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: shop
spec:
  containers:
  - name: a
    image: registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    securityContext:
      capabilities:
        add:
        - SYS_ADMIN
        - NET_ADMIN
        - NET_BIND_SERVICE
";
    let dir = dir_with("overlap", &[("pod.yaml", pod)]);
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&["scan", d, "--diff", "--unsafe-fixes", "--select", "K01-007"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.matches("\n-        - ").count(), 2, "{out}");
    assert!(!err.contains("overlaps"), "{err}");
    assert!(
        err.contains("would fix 2 findings in 1 file: K01-007 2"),
        "{err}"
    );
    // nothing was written
    assert_eq!(std::fs::read_to_string(dir.join("pod.yaml")).unwrap(), pod);
    let (code, _, err) = run(&["scan", d, "--fix", "--unsafe-fixes", "--select", "K01-007"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("fixed 2 findings in 1 file: K01-007 2"),
        "{err}"
    );
    let fixed = std::fs::read_to_string(dir.join("pod.yaml")).unwrap();
    assert!(
        fixed.ends_with("        add:\n        - NET_BIND_SERVICE\n"),
        "{fixed}"
    );
    // the diff is what --fix wrote
    let wrote = kanon::fix::apply::unified_diff(&kanon::fix::apply::FileChange {
        name: format!("{d}/pod.yaml"),
        writable: true,
        before: pod.to_string(),
        after: fixed,
    });
    assert_eq!(out, wrote);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stream of many documents is edited a document at a time (each parsed and checked on
/// its own, so `--fix` stays linear in the file's size); the result is exactly what fixing
/// each document as a file of its own gives. A directive between documents (a piece that
/// does not read alone as its document) falls back to editing the whole text, with the
/// same result.
#[test]
fn a_stream_is_fixed_a_document_at_a_time() {
    let mut docs: Vec<String> = Vec::new();
    for i in 0..12 {
        for (j, d) in APP.split("---\n").enumerate() {
            docs.push(
                d.replace("name: web ", &format!("name: web-{i}-{j} "))
                    .replace("name: p,", &format!("name: p-{i}-{j},")),
            );
        }
    }
    for directive in [false, true] {
        // the stream: documents joined by markers (with a directive before the last one)
        let mut stream = String::new();
        for (k, d) in docs.iter().enumerate() {
            if k > 0 {
                if directive && k + 1 == docs.len() {
                    stream.push_str("...\n%YAML 1.1\n");
                }
                stream.push_str("---\n");
            }
            stream.push_str(d);
        }
        let one: Vec<(String, &str)> = docs
            .iter()
            .enumerate()
            .map(|(k, d)| (format!("doc-{k:03}.yaml"), d.as_str()))
            .collect();
        let one_ref: Vec<(&str, &str)> = one.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let apart = dir_with(&format!("apart-{directive}"), &one_ref);
        let together = dir_with(&format!("stream-{directive}"), &[("all.yaml", &stream)]);
        for d in [&apart, &together] {
            let (code, _, err) = run(&[
                "scan",
                d.to_str().unwrap(),
                "--fix",
                "--unsafe-fixes",
                "--fail-on",
                "never",
            ]);
            assert_eq!(code, 0, "{err}");
        }
        let mut expected = String::new();
        for (k, (name, _)) in one.iter().enumerate() {
            if k > 0 {
                if directive && k + 1 == docs.len() {
                    expected.push_str("...\n%YAML 1.1\n");
                }
                expected.push_str("---\n");
            }
            expected.push_str(&std::fs::read_to_string(apart.join(name)).unwrap());
        }
        let fixed = std::fs::read_to_string(together.join("all.yaml")).unwrap();
        assert!(fixed != stream, "nothing was fixed");
        assert!(fixed == expected, "directive {directive}:\n{fixed}");
        std::fs::remove_dir_all(&apart).unwrap();
        std::fs::remove_dir_all(&together).unwrap();
    }
}

/// In a file over 1 MiB a fix of several edits is described on its document's piece (not
/// by editing the whole text once per finding): SARIF carries the replacement, and applied
/// as a code-scanning UI would, it gives exactly what `--fix` writes.
#[test]
fn a_multi_edit_fix_in_a_large_stream_is_described() {
    let mut stream = String::new();
    for i in 0..8000 {
        stream.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings-{i}, namespace: shop}}\ndata: {{mode: fast, level: \"{i}\", note: padding padding padding padding}}\n---\n"
        ));
    }
    stream.push_str(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: sched, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-scheduler\n    image: registry.k8s.io/kube-scheduler:v1.30.2\n    command:\n    - kube-scheduler\n    - --profiling=true\n    - --bind-address=127.0.0.1\n",
    );
    assert!(stream.len() > 1 << 20);
    let dir = dir_with("large-describe", &[("all.yaml", &stream)]);
    let path = dir.join("all.yaml");
    let p = path.to_str().unwrap();
    let (_, out, err) = run(&[
        "scan",
        p,
        "--select",
        "K09-005",
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    let sarif: Value = serde_json::from_str(&out).expect(&err);
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "K09-005", "{out}");
    let replacement = &result["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert!(replacement.is_object(), "no described change: {result}");
    let patched = apply_replacement(&stream, replacement);
    let (code, _, err) = run(&[
        "scan",
        p,
        "--select",
        "K09-005",
        "--fix",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(
        fixed.contains("- \"--profiling=false\""),
        "{}",
        &fixed[fixed.len() - 300..]
    );
    assert!(
        patched == fixed,
        "the described change is not what --fix wrote"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The items of a `List` export (what `kubectl get -o yaml` writes) are not fixed in place:
/// their findings carry the fix with the reason it cannot be made, and `--fix` leaves the
/// file as it was; the same Pod as its own document gets its edits.
#[test]
fn list_export_items_are_not_fixed_in_place() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n    - name: web\n      image: nginx:1.25\n";
    let list = format!(
        "apiVersion: v1\nkind: List\nmetadata: {{}}\nitems:\n{}",
        pod.lines()
            .enumerate()
            .map(|(i, l)| format!("{}{l}\n", if i == 0 { "  - " } else { "    " }))
            .collect::<String>()
    );
    let dir = dir_with("list-export", &[("list.yaml", &list), ("pod.yaml", pod)]);
    let (_, out, err) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let findings = report["findings"].as_array().unwrap();
    let with_fix = |file: &str| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| f["location"]["file"].as_str().unwrap().ends_with(file))
            .filter(|f| f["rule"]["id"] == "K02-005")
            .map(|f| &f["autofix"])
            .collect()
    };
    let (in_list, alone) = (with_fix("list.yaml"), with_fix("pod.yaml"));
    assert_eq!(in_list.len(), 1, "{out}");
    assert_eq!(alone.len(), 1, "{out}");
    assert_eq!(
        in_list[0]["unfixable"], "a `List` export cannot be fixed in place",
        "{out}"
    );
    assert!(in_list[0].get("edits").is_none(), "{out}");
    assert!(alone[0].get("unfixable").is_none(), "{out}");
    assert_eq!(alone[0]["edits"][0]["op"], "set", "{out}");
    let (_, _, err) = run(&["scan", dir.to_str().unwrap(), "--fix", "--fail-on", "never"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("list.yaml")).unwrap(),
        list,
        "{err}"
    );
    assert_ne!(
        std::fs::read_to_string(dir.join("pod.yaml")).unwrap(),
        pod,
        "{err}"
    );
}

/// A fix that cannot be made (every finding in a `List` export) is one value shared by the
/// findings of a rule that give the same reason, instead of a copy each; a fix with edits
/// is each finding's own. Either way each finding carries what its rule gives it.
#[test]
fn fixes_that_cannot_be_made_are_shared() {
    let pod = |i: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web{i}\n  namespace: shop\nspec:\n  containers:\n    - name: web\n      image: nginx:1.25\n"
        )
    };
    let items: String = (0..6)
        .flat_map(|i| {
            pod(i)
                .lines()
                .enumerate()
                .map(|(k, l)| format!("{}{l}\n", if k == 0 { "  - " } else { "    " }))
                .collect::<Vec<_>>()
        })
        .collect();
    let list = format!("apiVersion: v1\nkind: List\nmetadata: {{}}\nitems:\n{items}");
    let stream: Vec<String> = (0..6).map(pod).collect();
    let dir = dir_with(
        "shared-fixes",
        &[("list.yaml", &list), ("pods.yaml", &stream.join("---\n"))],
    );
    let r = kanon::engine::scan(&kanon::engine::ScanOptions {
        inputs: vec![dir.to_string_lossy().into_owned()],
        bundled: true,
        fixes: true,
        ..Default::default()
    })
    .unwrap();
    let fixes = |file: &str, rule: &str| -> Vec<&std::sync::Arc<kanon::eval::fixes::Autofix>> {
        r.findings
            .iter()
            .filter(|f| f.location.file.ends_with(file) && &*f.rule.id == rule)
            .filter_map(|f| f.autofix.as_ref())
            .collect()
    };
    let (in_list, alone) = (fixes("list.yaml", "K02-005"), fixes("pods.yaml", "K02-005"));
    assert_eq!((in_list.len(), alone.len()), (6, 6));
    for f in &in_list {
        assert_eq!(
            f.unfixable.as_deref(),
            Some("a `List` export cannot be fixed in place")
        );
        assert!(std::sync::Arc::ptr_eq(f, in_list[0]));
    }
    for (i, f) in alone.iter().enumerate() {
        assert!(f.unfixable.is_none() && !f.ops.is_empty(), "{f:?}");
        assert!(alone[..i].iter().all(|g| !std::sync::Arc::ptr_eq(f, g)));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
