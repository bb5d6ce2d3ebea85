//! The `kanon` binary as a user runs it: stdin, exit codes, formats, closed pipes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::kanon;
use common::run_stdin;
use std::process::{Command, Stdio};

const PRIVILEGED: &str = "# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      securityContext:\n        privileged: true\n";

#[test]
fn scans_stdin_with_helm_source_and_exit_1() {
    let (code, out, _) = run_stdin(&["scan", "-"], PRIVILEGED);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("<stdin>:11:9"), "{out}");
    assert!(out.contains("from chart/templates/pod.yaml"), "{out}");
}

#[test]
fn fail_on_threshold_and_json() {
    let (code, out, _) = run_stdin(
        &["scan", "-", "--format", "json", "--fail-on", "never"],
        PRIVILEGED,
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"K01-001"), "{ids:?}");
    assert_eq!(
        v["findings"][0]["resource"]["helm_source"],
        "chart/templates/pod.yaml"
    );
}

#[test]
fn malformed_input_is_reported_and_the_rest_still_scanned() {
    let input = format!("{PRIVILEGED}---\nkind: [unclosed\n");
    let (code, out, err) = run_stdin(&["scan", "-"], &input);
    assert_eq!(code, 2, "input errors exit 2");
    assert!(err.contains("E1001"), "{err}");
    assert!(
        out.contains("K01-001"),
        "the good document is still scanned: {out}"
    );
    assert!(out.contains("1 malformed"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let out = kanon().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kanon().args(["explain", "K99-999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kanon()
        .args(["scan", "-", "--no-default-rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_reports_errors_with_exit_2_and_json() {
    let dir = std::env::temp_dir().join(format!("kanon-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.kanon");
    std::fs::write(&f, "rule X-001 x {\n severity low\n for w in workloads where w.spec.templat == null report at w \"x\"\n}\n").unwrap();
    let out = kanon()
        .args(["check", f.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["code"], "E0104");
    assert_eq!(v[0]["primary"]["line"], 3);
    assert_eq!(v[0]["help"], "did you mean `template`?");
    let out = kanon().args(["check"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fmt_check_detects_unformatted_files() {
    let dir = std::env::temp_dir().join(format!("kanon-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("r.kanon");
    std::fs::write(
        &f,
        "rule X-001 x { severity low for w in workloads report at w \"x {w.name}\" }",
    )
    .unwrap();
    let out = kanon()
        .args(["fmt", "--check", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = kanon()
        .args(["fmt", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = kanon()
        .args(["fmt", "--check", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.starts_with("rule X-001 x {\n  severity low\n"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn graph_writes_dot_and_json() {
    let out = kanon()
        .args(["graph", "examples/manifests"])
        .output()
        .unwrap();
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("selects"), "{dot}");
    let out = kanon()
        .args(["graph", "examples/manifests", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["relation"] == "binding-subject" || e["relation"] == "binding-role"),
        "{v}"
    );
}

#[test]
fn closed_pipe_exits_quietly() {
    let mut child = kanon()
        .args(["scan", "../shared/corpus/real", "examples/manifests"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // read nothing and close the pipe at once
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.code().is_some(), "killed by a signal");
}

/// `--timings` gives each stage's time, the prefilters' text search, the five slowest
/// rules and, on Linux, the resident memory after each stage and the peak.
#[test]
fn timings_show_stage_times_and_memory() {
    let (_, _, err) = run_stdin(
        &[
            "scan",
            "-",
            "--timings",
            "--fail-on",
            "never",
            "--format",
            "json",
        ],
        PRIVILEGED,
    );
    let line = err
        .lines()
        .find(|l| l.starts_with("timings: "))
        .unwrap_or_else(|| panic!("no timings line in {err}"));
    for stage in ["compile", "load", "graph", "evaluate", "output"] {
        assert!(line.contains(&format!("{stage} ")), "{stage} in {line}");
    }
    assert!(err.contains("memory: documents "), "{err}");
    // the findings' count and the heap they hold
    let memory = err
        .lines()
        .find(|l| l.starts_with("memory: documents "))
        .unwrap_or_default();
    let (count, mb) = memory
        .rsplit_once("findings ")
        .and_then(|(_, f)| f.strip_suffix(" MB)"))
        .and_then(|f| f.split_once(" ("))
        .unwrap_or_else(|| panic!("no findings in {memory}"));
    // 15 findings hold a few kilobytes, shown as 0.0 MB
    assert!(count.parse::<usize>().is_ok_and(|n| n > 0), "{memory}");
    assert!(mb.parse::<f64>().is_ok_and(|m| m >= 0.0), "{memory}");
    // the text search of the rules' prefilters is timed apart from the rules, as its own
    // line (the first rule of a group that searched was charged with it)
    let prefilters = err
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "text prefilters (within evaluate, time summed over threads, in no rule's): ",
            )
        })
        .and_then(|t| t.strip_suffix(" ms"))
        .unwrap_or_else(|| panic!("no text prefilters line in {err}"));
    assert!(
        prefilters.parse::<f64>().is_ok_and(|ms| ms >= 0.0),
        "{prefilters}"
    );
    // the privileged container is found by some rule, so at least one rule took time
    let slowest = err
        .lines()
        .find_map(|l| l.strip_prefix("slowest rules (time summed over threads): "))
        .unwrap_or_else(|| panic!("no slowest rules line in {err}"));
    let named: Vec<&str> = slowest.split(", ").collect();
    assert_eq!(named.len(), 5, "{slowest}");
    assert!(
        named
            .iter()
            .all(|r| r.starts_with('K') && r.ends_with(" ms")),
        "{slowest}"
    );
    if cfg!(target_os = "linux") {
        let resident = err
            .lines()
            .find(|l| l.starts_with("resident after: compile "))
            .unwrap_or_else(|| panic!("no resident line in {err}"));
        let peak: f64 = resident
            .rsplit_once("peak ")
            .and_then(|(_, p)| p.strip_suffix(" MB"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no peak in {resident}"));
        assert!(peak > 0.0, "{resident}");
        assert!(resident.contains("output "), "{resident}");
    }
}

/// Copies a directory tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A checkout of the bundled ruleset given with `--rules` (the bundled one is loaded
/// too) is loaded once, with a warning; a rule changed in it clashes with the bundled
/// rule, with a help that names `--no-default-rules`, and its imports of unchanged files
/// do not clash.
#[test]
fn a_copy_of_the_bundled_ruleset_is_loaded_once() {
    let dir = std::env::temp_dir().join(format!("kanon-copy-{}", std::process::id()));
    let rules = dir.join("owasp-k8s-top10");
    copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rulesets/owasp-k8s-top10"),
        &rules,
    );
    let rules_arg = rules.to_string_lossy().into_owned();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "examples/manifests",
            "--format",
            "json",
            "--fail-on",
            "never",
        ];
        args.extend_from_slice(extra);
        let out = kanon().args(&args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).replace(&rules_arg, "<copy>"),
        )
    };
    let (code, plain, _) = scan(&[]);
    assert_eq!(code, 0);
    // unchanged: the same findings as the bundled rules alone, and one warning
    let (code, same, err) = scan(&["--rules", &rules_arg]);
    assert_eq!(code, 0, "{err}");
    let findings =
        |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["findings"].clone();
    assert_eq!(findings(&same), findings(&plain));
    assert!(err.contains("warning[W0203]: the "), "{err}");
    assert!(!err.contains("error["), "{err}");
    // one rule changed: it clashes, nothing it imports does
    let k02 = rules.join("K02/K02-005-pull-policy-not-always.kanon");
    let text = std::fs::read_to_string(&k02).unwrap();
    std::fs::write(&k02, text.replace("severity low", "severity high")).unwrap();
    let (code, _, err) = scan(&["--rules", &rules_arg]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 2, "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error[")).collect();
    assert_eq!(
        errors,
        ["error[E0201]: rule id `K02-005` is used twice"],
        "{err}"
    );
    let shown: String = err
        .split("\n\n")
        .filter(|d| d.starts_with("error[E0201]") || d.starts_with("warning[W0203]"))
        .collect::<Vec<_>>()
        .join("\n\n");
    // the number of rule files grows with the ruleset: the snapshot keeps the wording
    let n = count_rule_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rulesets/owasp-k8s-top10"),
    );
    let shown = shown.replace(
        &format!("{} of the {} rule files", n - 1, n),
        "N-1 of the N rule files",
    );
    insta::assert_snapshot!(shown);
}

/// The `.kanon` files under `dir`, at any depth.
fn count_rule_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            n += count_rule_files(&path);
        } else if path.extension().is_some_and(|e| e == "kanon") {
            n += 1;
        }
    }
    n
}

/// `-o` naming a pipe writes into the pipe (process substitution, `/dev/stdout`): the
/// report is not written beside it and renamed over it, which would replace the pipe.
#[cfg(unix)]
#[test]
fn output_into_a_named_pipe() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = std::env::temp_dir().join(format!("kanon-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("report.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: `mkfifo` is not available");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let fifo_arg = fifo.to_string_lossy().into_owned();
    let (code, _, err) = run_stdin(
        &[
            "scan",
            "-",
            "--format",
            "json",
            "--fail-on",
            "never",
            "-o",
            &fifo_arg,
        ],
        PRIVILEGED,
    );
    assert_eq!(code, 0, "{err}");
    // checked before reading: a replaced pipe would leave the reader waiting for ever
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let report: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"]["id"] == "K01-001")),
        "{report}"
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const TWO_CONTAINERS: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - {name: a, image: registry.example.com/a:1}\n    - {name: b, image: quay.io/b:1}\n";

/// `kanon scan -` with only the rules of `tests/data/params/limits.kanon`, then `more`.
fn with_limits_rules<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "scan",
        "-",
        "--no-default-rules",
        "--rules",
        "tests/data/params/limits.kanon",
    ];
    args.extend_from_slice(more);
    args
}

#[test]
fn a_single_value_of_a_list_parameter_is_a_one_item_list() {
    let args = with_limits_rules(&[
        "--param",
        "allowed=registry.example.com",
        "--param",
        "max_containers=1",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let (code, out, err) = run_stdin(&args, TWO_CONTAINERS);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Pod `p` has more than 1 containers",
            "image `quay.io/b:1` is not from an allowed registry"
        ]
    );
}

#[test]
fn a_parameter_of_the_wrong_type_is_one_error() {
    let args = with_limits_rules(&["--param", "max_containers=lots"]);
    let (code, out, err) = run_stdin(&args, TWO_CONTAINERS);
    assert_eq!(code, 2, "{out}");
    // one error, where the parameter is declared; no "unknown parameter", no "unknown name"
    // in the rule that uses it
    insta::assert_snapshot!(err);
}

/// K03-012 names the webhook configurations a rule is limited to, so a controller that may
/// edit only its own is not read as one that may edit them all.
#[test]
fn webhook_write_message_names_the_resource_names() {
    let input = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: policy-engine\nrules:\n  - apiGroups: [admissionregistration.k8s.io]\n    resources: [validatingwebhookconfigurations]\n    resourceNames: [engine-webhook]\n    verbs: [get, update]\n  - apiGroups: [admissionregistration.k8s.io]\n    resources: [mutatingwebhookconfigurations]\n    verbs: [patch]\n";
    let (code, out, err) = run_stdin(
        &["scan", "-", "--format", "json", "--fail-on", "never"],
        input,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"]["id"] == "K03-012")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "ClusterRole `policy-engine` can change admission webhook configurations (resources [validatingwebhookconfigurations], resourceNames [engine-webhook], verbs [get, update])",
            "ClusterRole `policy-engine` can change admission webhook configurations (resources [mutatingwebhookconfigurations], resourceNames all, verbs [patch])",
        ]
    );
}

/// `-o -` is standard output, as `-` is standard input: no file named `-` is written.
#[test]
fn a_dash_output_is_standard_output() {
    let dir = std::env::temp_dir().join(format!("kanon-dash-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = kanon();
    command.current_dir(&dir);
    let (code, out, err) = common::run_stdin_with(
        command,
        &[
            "scan",
            "-",
            "--format",
            "json",
            "-o",
            "-",
            "--fail-on",
            "never",
        ],
        PRIVILEGED,
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"]["id"] == "K01-001")),
        "{report}"
    );
    assert!(!dir.join("-").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
