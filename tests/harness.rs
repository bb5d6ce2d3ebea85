//! `kanon test`: the bundled ruleset and the example organisation rules pass their
//! fixtures, and broken fixtures fail with messages a rule author can act on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::harness::{self, FailureKind, Report, TestOptions, render};
use std::path::{Path, PathBuf};

fn run(paths: &[&Path], coverage: bool) -> Report {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    harness::run(&paths, &TestOptions { coverage }).unwrap()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kanon-harness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const PRIVILEGED: &str = r#"rule T-001 privileged {
  title    "Privileged container"
  severity high

  for w in workloads, c in w.containers
  where c.securityContext.privileged == true
  report at c.securityContext.privileged
    "container `{c.name}` runs privileged"
}
"#;

const HOST_NETWORK: &str = r#"rule T-002 host-network {
  title    "Host network"
  severity high

  for w in workloads
  where w.podSpec.hostNetwork == true
  report at w.podSpec.hostNetwork
    "{w.kind} `{w.name}` uses the host network"
}
"#;

fn pod(name: &str, privileged: &str, marker: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
    - name: app
      image: registry.example.com/app:1.0
      securityContext:
        privileged: {privileged}{marker}
"
    )
}

/// A folder inside a ruleset is tested with the ruleset's imports and tables: K10's rules
/// read tables from `../data`, which is outside the folder but inside the ruleset.
#[test]
fn a_folder_of_a_ruleset_reaches_the_rest_of_it() {
    let report = run(&[Path::new("rulesets/owasp-k8s-top10/K10")], false);
    let text = render::text(&report);
    assert!(report.is_ok(), "{text}");
    assert!(report.rules.iter().any(|r| r.id == "K10-004"), "{text}");
    assert!(
        report.rules.iter().all(|r| r.id.starts_with("K10-")),
        "{text}"
    );
}

#[test]
fn bundled_ruleset_passes_its_fixtures() {
    let report = run(&[Path::new("rulesets")], true);
    let text = render::text(&report);
    assert!(report.is_ok(), "{text}");
    for id in [
        "K01-001", "K01-010", "K01-011", "K01-012", "K02-001", "K03-001", "K07-001",
    ] {
        let r = report.rules.iter().find(|r| r.id == id).expect(id);
        assert!(
            r.expected > 0 && r.ok > 0,
            "{id} needs positive and negative cases"
        );
        let cov = r.coverage.as_ref().unwrap();
        assert_eq!(cov.covered(), cov.leaves.len(), "{id}: {text}");
    }
    assert!(text.ends_with(&format!("\n{} passed, 0 failed\n", report.rules.len())));
}

#[test]
fn example_org_rules_pass_their_fixtures() {
    let report = run(&[Path::new("examples/org-rules")], false);
    let text = render::text(&report);
    assert!(report.is_ok(), "{text}");
    assert_eq!(report.rules.len(), 3, "{text}");
    assert!(
        text.contains("ok   ORG-001 team-label (1 expected, 3 ok)"),
        "{text}"
    );
    assert!(
        text.contains("ok   ORG-003 ci-reaches-production-secrets (1 expected, 2 ok)"),
        "{text}"
    );
    assert!(text.ends_with("\n3 passed, 0 failed\n"), "{text}");
}

#[test]
fn missing_finding_fails_with_the_fixture_line() {
    let dir = scratch("missing");
    write(&dir, "T-001.kanon", PRIVILEGED);
    // the marker stands alone: it points at the next non-comment line, which is not privileged
    let fixture = "apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: registry.example.com/app:1.0
      securityContext:
        # expect: T-001
        # (another comment)
        privileged: false
";
    write(&dir, "T-001.test.yaml", fixture);
    let report = run(&[&dir], false);
    assert!(!report.is_ok());
    let r = &report.rules[0];
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].kind, FailureKind::Missing);
    assert_eq!(r.failures[0].line, 12);
    let text = render::text(&report).replace(&dir.display().to_string(), "[dir]");
    assert!(
        text.starts_with("FAIL T-001 privileged (1 expected, 0 ok)\n"),
        "{text}"
    );
    assert!(
        text.contains("[dir]/T-001.test.yaml:12: missing finding of `T-001`"),
        "{text}"
    );
    assert!(
        text.contains("- expected: a finding of `T-001` on line 12 (marker on line 10)"),
        "{text}"
    );
    assert!(text.contains("+ found:    no finding"), "{text}");
    assert!(text.contains("  12 |         privileged: false"), "{text}");
    assert!(text.ends_with("\n0 passed, 1 failed\n"), "{text}");
}

#[test]
fn unexpected_finding_fails_with_the_message() {
    let dir = scratch("unexpected");
    write(&dir, "T-001.kanon", PRIVILEGED);
    let fixture = format!(
        "{}---\n# ok: T-001\n{}",
        pod("flagged", "true", " # expect: T-001"),
        pod("quiet", "yes", "")
    );
    write(&dir, "T-001.test.yaml", &fixture);
    let report = run(&[&dir], false);
    let text = render::text(&report).replace(&dir.display().to_string(), "[dir]");
    let r = &report.rules[0];
    assert_eq!(r.failures.len(), 1, "{text}");
    assert_eq!(r.failures[0].kind, FailureKind::Unexpected);
    assert!(
        text.contains(
            "[dir]/T-001.test.yaml:22:9: unexpected finding of `T-001` in a document marked `# ok: T-001` (line 12)"
        ),
        "{text}"
    );
    assert!(
        text.contains("- expected: no finding in this document"),
        "{text}"
    );
    assert!(
        text.contains("+ found:    container `app` runs privileged"),
        "{text}"
    );
    assert!(text.contains("  22 |         privileged: yes"), "{text}");
}

#[test]
fn unmarked_finding_of_the_rule_under_test_fails() {
    let dir = scratch("unmarked");
    write(&dir, "T-001.kanon", PRIVILEGED);
    let fixture = format!(
        "{}---\n{}",
        pod("a", "true", " # expect: T-001"),
        pod("b", "true", "")
    );
    write(&dir, "T-001.test.yaml", &fixture);
    let text = render::text(&run(&[&dir], false));
    assert!(
        text.contains(":21:9: unexpected finding of `T-001`\n"),
        "{text}"
    );
    assert!(
        text.contains("- expected: no finding on line 21 (no `# expect: T-001` marker)"),
        "{text}"
    );
}

#[test]
fn rules_without_fixtures_or_markers_fail() {
    let dir = scratch("nocases");
    write(&dir, "T-001.kanon", PRIVILEGED);
    write(&dir, "T-002.kanon", HOST_NETWORK);
    write(&dir, "T-002.tests/plain.yaml", &pod("p", "false", ""));
    let report = run(&[&dir], false);
    let text = render::text(&report);
    assert_eq!(report.failed(), 2, "{text}");
    assert!(
        text.contains(
            "no test cases: add a fixture `T-001.test.yaml` or a folder `T-001.tests/` beside the rule file"
        ),
        "{text}"
    );
    assert!(
        text.contains("no test cases: no fixture has a `# expect: T-002` or `# ok: T-002` marker"),
        "{text}"
    );
    assert!(text.ends_with("\n0 passed, 2 failed\n"), "{text}");
}

#[test]
fn markers_may_name_rules_of_other_files() {
    let dir = scratch("cross");
    write(&dir, "T-001.kanon", PRIVILEGED);
    write(&dir, "T-002.kanon", HOST_NETWORK);
    // T-002's own fixture: a host-network pod that is also privileged
    let fixture = "apiVersion: v1
kind: Pod
metadata:
  name: both
spec:
  hostNetwork: true # expect: T-002
  containers:
    - name: app
      image: registry.example.com/app:1.0
      securityContext:
        privileged: true # expect: T-001
";
    write(&dir, "T-002.test.yaml", fixture);
    write(&dir, "T-001.test.yaml", &pod("p", "false", " # ok: T-001"));
    let report = run(&[&dir], false);
    let text = render::text(&report);
    assert!(report.is_ok(), "{text}");
    assert!(
        text.contains("ok   T-001 privileged (1 expected, 1 ok)"),
        "{text}"
    );
    // without the marker, T-001's finding in T-002's fixture is not T-002's business
    write(
        &dir,
        "T-002.test.yaml",
        &fixture.replace(" # expect: T-001", ""),
    );
    let report = run(&[&dir], false);
    assert!(report.is_ok(), "{}", render::text(&report));
}

#[test]
fn compile_errors_and_unknown_markers_fail() {
    let dir = scratch("compile");
    write(
        &dir,
        "T-001.kanon",
        &PRIVILEGED.replace("privileged == true", "privilegd == true"),
    );
    write(
        &dir,
        "T-001.test.yaml",
        &pod("p", "true", " # expect: T-001, T-999"),
    );
    let report = run(&[&dir], false);
    let text = render::text(&report);
    let kinds: Vec<FailureKind> = report.rules[0].failures.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FailureKind::Compile, FailureKind::Fixture],
        "{text}"
    );
    assert!(
        text.contains("T-001.kanon: does not compile: 1 error"),
        "{text}"
    );
    assert!(text.contains("did you mean `privileged`"), "{text}");
    assert!(text.contains("marker names unknown rule `T-999`"), "{text}");
}

#[test]
fn coverage_reports_leaves_never_false() {
    let dir = scratch("coverage");
    let rule = PRIVILEGED.replace(
        "where c.securityContext.privileged == true",
        "where c.securityContext.privileged == true and not (c.name == \"x\")",
    );
    write(&dir, "T-001.kanon", &rule);
    write(
        &dir,
        "T-001.test.yaml",
        &pod("p", "true", " # expect: T-001"),
    );
    let report = run(&[&dir], true);
    let text = render::text(&report);
    assert!(
        text.contains(
            "T-001  where-leaf 0/2 seen true and false; never false: c.securityContext.privileged == true; never true: c.name == \"x\""
        ),
        "{text}"
    );
    assert!(
        text.contains("T-001  cases: positive yes, negative no"),
        "{text}"
    );
}

#[test]
fn junit_report() {
    let dir = scratch("junit");
    write(&dir, "a/T-001.kanon", PRIVILEGED);
    let fixture = r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: "x<&>'\"y"
      image: registry.example.com/app:1.0
      securityContext:
        privileged: true
    - name: fine
      image: registry.example.com/app:1.0
      securityContext:
        privileged: false # expect: T-001
"#;
    write(&dir, "a/T-001.test.yaml", fixture);
    write(&dir, "b/T-002.kanon", HOST_NETWORK);
    write(
        &dir,
        "b/T-002.test.yaml",
        "# ok: T-002\nkind: Pod\nmetadata: {name: q}\n",
    );
    let report = run(&[&dir], false);
    let xml = render::junit(&report).replace(&dir.display().to_string(), "[dir]");
    insta::assert_snapshot!(xml);
}

#[test]
fn cli_exit_codes_and_summary_line() {
    let bin = env!("CARGO_BIN_EXE_kanon");
    let ok = std::process::Command::new(bin)
        .args(["test", "examples/org-rules"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(out.lines().last(), Some("3 passed, 0 failed"));

    let dir = scratch("cli");
    write(&dir, "T-001.kanon", PRIVILEGED);
    let failed = std::process::Command::new(bin)
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let out = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed"));

    let usage = std::process::Command::new(bin)
        .args(["test", "does/not/exist"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let err = String::from_utf8_lossy(&usage.stderr);
    assert!(err.contains("cannot read `does/not/exist`"), "{err}");
}

/// Every action of a fix must make an edit on some finding a marker expects: an action no
/// fixture exercises (here the removal from `args`, which the fixture does not use) could
/// be broken unseen. A fixture that exercises it makes the rule pass.
#[test]
fn a_fix_action_no_fixture_exercises_fails() {
    const DEBUG: &str = r#"rule T-003 debug-flag {
  title    "Debug flag"
  severity low

  for w in workloads, c in w.containers
  where has_flag(c, "--debug")
  report at c "container `{c.name}` runs with --debug"
  fix safe "only the debug output goes away" {
    remove x in c.command where x == "--debug"
    remove x in c.args where x == "--debug"
  }
}
"#;
    let in_command = "apiVersion: v1
kind: Pod
metadata:
  name: a
spec:
  containers:
    - name: app # expect: T-003
      image: registry.example.com/app:1.0
      command: [app, --debug]
";
    let dir = scratch("fix-actions");
    write(&dir, "T-003.kanon", DEBUG);
    write(&dir, "T-003.tests/command.yaml", in_command);
    let report = run(&[&dir], false);
    let text = render::text(&report);
    assert_eq!(report.failed(), 1, "{text}");
    assert!(
        text.contains(
            "action 2 (`remove ... in`) of the fix of `T-003` is never tested: it makes no edit on any finding a marker expects"
        ),
        "{text}"
    );
    write(
        &dir,
        "T-003.tests/args.yaml",
        &in_command.replace("name: a", "name: b").replace(
            "command: [app, --debug]",
            "command: [app]\n      args: [--debug]",
        ),
    );
    let report = run(&[&dir], false);
    let text = render::text(&report);
    assert_eq!(report.failed(), 0, "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
