//! `.kanon.yaml`, exemptions and baselines, through the `kanon` binary as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory, removed when dropped.
struct Tmp(PathBuf);

impl Tmp {
    /// A fresh directory that is the root of a (fake) repository, so discovery stops there.
    fn repo() -> Tmp {
        let t = Tmp::bare();
        std::fs::create_dir_all(t.0.join(".git")).unwrap();
        t
    }

    fn bare() -> Tmp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("kanon-config-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tmp(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.out)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.out, self.err))
    }

    /// Rule ids of the reported findings (JSON output).
    fn ids(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"]["id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn kanon(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kanon"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("KANON_TODAY");
    for (k, v) in env {
        c.env(k, v);
    }
    // Scans use a fixed ruleset (the first seven bundled rules), so these tests check the
    // configuration machinery, not the growing bundled ruleset.
    let mut args: Vec<&str> = args.to_vec();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/policy-rules");
    if args.first() == Some(&"scan") && !args.contains(&"--no-default-rules") {
        args.splice(1..1, ["--no-default-rules", "--rules", rules]);
    }
    let out = c.args(&args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scan_json(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "m.yaml", "--format", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    kanon(dir, &args, &[])
}

/// A privileged, host-network DaemonSet in kube-system and a privileged Deployment in shop.
const MANIFEST: &str = "\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: calico-node
  namespace: kube-system
spec:
  selector:
    matchLabels: {app: calico}
  template:
    metadata:
      labels: {app: calico}
    spec:
      hostNetwork: true
      containers:
        - name: calico
          image: calico/node:v3.28.0
          securityContext:
            privileged: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
";

fn repo_with_manifest() -> Tmp {
    let t = Tmp::repo();
    t.write("m.yaml", MANIFEST);
    t
}

fn count(ids: &[String], id: &str) -> usize {
    ids.iter().filter(|i| *i == id).count()
}

// ---------------------------------------------------------------- discovery

#[test]
fn config_in_the_current_directory_applies() {
    let t = repo_with_manifest();
    assert_eq!(count(&scan_json(&t.0, &[]).ids(), "K01-001"), 2);
    t.write(".kanon.yaml", "version: 1\nignore: [K01-001]\n");
    let r = scan_json(&t.0, &[]);
    assert_eq!(count(&r.ids(), "K01-001"), 0, "{}", r.err);
    assert!(r.ids().contains(&"K01-010".to_string()));
}

/// A configuration saved with a byte order mark (as some Windows editors do), before a
/// `---`, is read like any other.
#[test]
fn a_byte_order_mark_is_allowed() {
    let t = repo_with_manifest();
    t.write(
        ".kanon.yaml",
        "\u{feff}---\nversion: 1\nignore: [K01-001]\n",
    );
    let r = scan_json(&t.0, &[]);
    assert_eq!(count(&r.ids(), "K01-001"), 0, "{}", r.err);
    assert!(r.ids().contains(&"K01-010".to_string()));
}

#[test]
fn config_in_a_parent_directory_applies() {
    let t = Tmp::repo();
    t.write(".kanon.yaml", "version: 1\nignore: [K01-001]\n");
    t.write("deploy/prod/m.yaml", MANIFEST);
    let r = scan_json(&t.path("deploy/prod"), &[]);
    assert_eq!(count(&r.ids(), "K01-001"), 0, "{}", r.err);
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let t = Tmp::bare();
    t.write(".kanon.yaml", "version: 1\nignore: [K01-001]\n");
    std::fs::create_dir_all(t.path("repo/.git")).unwrap();
    t.write("repo/sub/m.yaml", MANIFEST);
    let r = scan_json(&t.path("repo/sub"), &[]);
    assert_eq!(
        count(&r.ids(), "K01-001"),
        2,
        "the outer config is not read"
    );
}

#[test]
fn explicit_config_and_no_config() {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", "version: 1\nignore: [K01-001]\n");
    t.write("other.yaml", "version: 1\nignore: [K01-010]\n");
    let r = scan_json(&t.0, &["--config", "other.yaml"]);
    assert_eq!(count(&r.ids(), "K01-001"), 2);
    assert_eq!(count(&r.ids(), "K01-010"), 0);
    let r = scan_json(&t.0, &["--no-config"]);
    assert_eq!(count(&r.ids(), "K01-001"), 2);
    assert_eq!(count(&r.ids(), "K01-010"), 1);
    let r = scan_json(&t.0, &["--config", "missing.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("cannot read configuration `missing.yaml`"),
        "{}",
        r.err
    );
}

// ---------------------------------------------------------------- errors

/// Runs a scan with this configuration; it must fail with exit 2. Returns stderr.
fn config_error(config: &str) -> String {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", config);
    let r = scan_json(&t.0, &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.out, r.err);
    r.err
}

#[test]
fn unknown_key_is_located_with_a_suggestion() {
    let err = config_error("version: 1\nselct: [K01]\n");
    assert!(
        err.contains("error[E0601]: unknown key `selct` in the configuration"),
        "{err}"
    );
    assert!(err.contains(".kanon.yaml:2:1"), "{err}");
    assert!(err.contains("did you mean `select`?"), "{err}");
    let err = config_error(
        "version: 1\nexemptions:\n  - rules: [K01-001]\n    reason: r\n    nmespace: x\n",
    );
    assert!(
        err.contains("unknown key `nmespace` in an exemption"),
        "{err}"
    );
    assert!(err.contains(".kanon.yaml:5:5"), "{err}");
    assert!(err.contains("did you mean `namespace`?"), "{err}");
}

#[test]
fn bad_value_type_is_located() {
    let err = config_error("version: 1\nignore: K01-001\n");
    assert!(err.contains("error[E0601]"), "{err}");
    assert!(err.contains("expected a sequence"), "{err}");
    assert!(err.contains(".kanon.yaml:2:9"), "{err}");
    let err = config_error("default-rules: maybe\n");
    assert!(err.contains("`default-rules`"), "{err}");
}

#[test]
fn bad_severity_is_located() {
    let err = config_error("version: 1\nseverity:\n  K01-001: hgh\n");
    assert!(
        err.contains("error[E0603]: unknown severity `hgh`"),
        "{err}"
    );
    assert!(err.contains(".kanon.yaml:3:12"), "{err}");
    assert!(err.contains("did you mean `high`?"), "{err}");
    let err = config_error("fail-on: meduim\n");
    assert!(err.contains("did you mean `medium`?"), "{err}");
    let err = config_error("select: [\"severity:urgent\"]\n");
    assert!(err.contains("unknown severity `urgent`"), "{err}");
}

#[test]
fn bad_date_and_missing_reason_are_located() {
    let err = config_error(
        "version: 1\nexemptions:\n  - rules: [K01-001]\n    reason: r\n    expires: 2027-02-30\n",
    );
    assert!(
        err.contains("error[E0604]: invalid date `2027-02-30`"),
        "{err}"
    );
    assert!(err.contains(".kanon.yaml:5:14"), "{err}");
    let err = config_error("version: 1\nexemptions:\n  - rules: [K01-001]\n    kind: Pod\n");
    assert!(
        err.contains("error[E0606]: exemption without a `reason`"),
        "{err}"
    );
    assert!(err.contains(".kanon.yaml:3:5"), "{err}");
}

#[test]
fn unsupported_version() {
    let err = config_error("version: 2\n");
    assert!(
        err.contains("unsupported configuration version `2`"),
        "{err}"
    );
}

#[test]
fn unknown_rule_ids_are_errors() {
    for (config, line_col) in [
        ("select: [K01-00l]\n", ".kanon.yaml:1:10"),
        ("ignore: [K07-01]\n", ".kanon.yaml:1:10"),
        ("severity:\n  K99-001: low\n", ".kanon.yaml:2:3"),
        (
            "exemptions:\n  - rules: [K42-*]\n    reason: r\n",
            ".kanon.yaml:2:13",
        ),
    ] {
        let err = config_error(config);
        assert!(err.contains("error[E0605]"), "{config}: {err}");
        assert!(err.contains(line_col), "{config}: {err}");
    }
    let err = config_error("ignore: [K07-01]\n");
    assert!(err.contains("did you mean `K07-001`?"), "{err}");
}

// ---------------------------------------------------------------- selection

fn ids_with(config: &str) -> Vec<String> {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", config);
    let r = scan_json(&t.0, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let mut ids = r.ids();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn select_and_ignore_by_id_category_and_severity() {
    assert_eq!(ids_with("select: [K01-001]\n"), ["K01-001"]);
    assert_eq!(ids_with("select: [privileged-container]\n"), ["K01-001"]);
    assert_eq!(ids_with("select: [K01]\nignore: [K01-001]\n"), ["K01-010"]);
    assert_eq!(ids_with("select: [\"K01:2025\"]\n"), ["K01-001", "K01-010"]);
    assert_eq!(ids_with("select: [\"severity:critical\"]\n"), ["K01-001"]);
    assert_eq!(
        ids_with("select: [\"K01-*\"]\nignore: [\"severity:high\"]\n"),
        ["K01-001"]
    );
    let all = ids_with("version: 1\n");
    assert!(
        all.contains(&"K07-001".to_string()),
        "default select is all: {all:?}"
    );
    let no_k07 = ids_with("ignore: [K07]\n");
    assert!(!no_k07.contains(&"K07-001".to_string()), "{no_k07:?}");
}

#[test]
fn command_line_select_overrides_config() {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", "select: [K01-001]\n");
    let mut ids = scan_json(&t.0, &["--select", "K01-010,K07"]).ids();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["K01-010", "K07-001"]);
}

const CUSTOM_RULE: &str = r#"
/// Images that workloads may use.
param allowed_images: list<string> = []

rule X-001 unlisted-image {
  title    "Image is not on the allow list"
  severity low
  owasp    "K02:2022"
  tags     "supply-chain" "custom"
  fix      "Use an allowed image."

  for w in workloads, c in w.containers
  where not (c.image in allowed_images)
  report at c.image "container `{c.name}` uses `{c.image}`"
}
"#;

#[test]
fn select_by_tag_extra_rules_and_params_from_config() {
    let t = repo_with_manifest();
    t.write("policy/rules/images.kanon", CUSTOM_RULE);
    t.write(
        "policy/kanon.yaml",
        "version: 1\nrules: [rules]\nselect: [\"tag:supply-chain\"]\nparams:\n  allowed_images: [\"nginx:1.27\"]\n",
    );
    let r = scan_json(&t.0, &["--config", "policy/kanon.yaml"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let f = &r.json()["findings"];
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f[0]["rule"]["id"], "X-001");
    assert_eq!(f[0]["resource"]["name"], "calico-node");
    // `--param` overrides the configuration
    let r = scan_json(
        &t.0,
        &[
            "--config",
            "policy/kanon.yaml",
            "--param",
            "allowed_images=calico/node:v3.28.0,nginx:1.27",
        ],
    );
    assert_eq!(r.ids(), Vec::<String>::new());
    // an unknown parameter points at the configuration
    t.write(
        "policy/kanon.yaml",
        "rules: [rules]\nparams:\n  allowed_image: []\n",
    );
    let r = scan_json(&t.0, &["--config", "policy/kanon.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("unknown parameter `allowed_image`"),
        "{}",
        r.err
    );
    assert!(r.err.contains("policy/kanon.yaml:3:3"), "{}", r.err);
}

#[test]
fn severity_override_and_fail_on_from_config() {
    let t = repo_with_manifest();
    t.write(
        ".kanon.yaml",
        "select: [K01-001]\nseverity:\n  K01-001: low\nfail-on: medium\n",
    );
    let r = kanon(&t.0, &["scan", "m.yaml", "--format", "json"], &[]);
    assert_eq!(r.code, 0, "low findings do not fail at `fail-on: medium`");
    assert_eq!(r.json()["findings"][0]["severity"], "low");
    let r = kanon(
        &t.0,
        &["scan", "m.yaml", "--format", "json", "--fail-on", "low"],
        &[],
    );
    assert_eq!(r.code, 1, "the flag overrides the configuration");
}

// ---------------------------------------------------------------- exemptions

const ANNOTATED: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: ops
  annotations:
    kanon.dev/exempt: K01-001,K01-010
    kanon.dev/exempt-reason: node agent, reviewed in SEC-12
spec:
  hostNetwork: true
  containers:
    - name: c
      image: agent:1.0
      securityContext:
        privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: unexplained
  namespace: ops
  annotations:
    kanon.dev/exempt: K01-001
spec:
  containers:
    - name: c
      image: agent:1.0
      securityContext:
        privileged: true
";

#[test]
fn annotation_exemptions_need_a_reason() {
    let t = Tmp::repo();
    t.write("m.yaml", ANNOTATED);
    let r = scan_json(&t.0, &["--select", "K01", "--show-exempted"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v = r.json();
    let names: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["unexplained"], "{v}");
    assert_eq!(v["summary"]["exempted"], 2);
    let ex = v["exempted"].as_array().unwrap();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0]["exemption"]["source"], "annotation");
    assert_eq!(
        ex[0]["exemption"]["reason"],
        "node agent, reviewed in SEC-12"
    );
    assert_eq!(ex[0]["exemption"]["location"]["line"], 7);
    // the annotation without a reason does not apply and is reported at its line
    assert!(r.err.contains("warning[W0601]"), "{}", r.err);
    assert!(r.err.contains("m.yaml:23:5"), "{}", r.err);
}

#[test]
fn annotation_exemptions_can_be_forbidden() {
    let t = Tmp::repo();
    t.write("m.yaml", ANNOTATED);
    t.write(".kanon.yaml", "allow-annotation-exemptions: false\n");
    let r = scan_json(&t.0, &["--select", "K01"]);
    assert_eq!(r.ids().len(), 3, "{}", r.out);
    assert_eq!(r.json()["summary"]["exempted"], 0);
    assert_eq!(r.err.matches("warning[W0603]").count(), 2, "{}", r.err);
    assert!(r.err.contains("m.yaml:7:5"), "{}", r.err);
}

const GLOB_EXEMPTION: &str = "\
version: 1
exemptions:
  - rules: [\"K01-0*\"]
    namespace: kube-*
    kind: DaemonSet
    name: calico-*
    reason: calico needs the host network and privileges
    expires: 2027-01-31
";

#[test]
fn config_exemptions_match_globs() {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", GLOB_EXEMPTION);
    let r = kanon(
        &t.0,
        &[
            "scan",
            "m.yaml",
            "--select",
            "K01",
            "--show-exempted",
            "--fail-on",
            "never",
        ],
        &[("KANON_TODAY", "2026-06-01")],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("Deployment `web`"), "{}", r.out);
    assert!(!r.out.contains("error[K01-010]"), "{}", r.out);
    assert!(r.out.contains("exempted findings (2):"), "{}", r.out);
    assert!(
        r.out
            .contains("reason: calico needs the host network and privileges"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("exempted by configuration exemption #1 at .kanon.yaml:3"),
        "{}",
        r.out
    );
    assert!(r.out.contains("not reported: 2 exempted"), "{}", r.out);
    // without --show-exempted the count is still there
    let r = kanon(
        &t.0,
        &["scan", "m.yaml", "--select", "K01", "--fail-on", "never"],
        &[("KANON_TODAY", "2026-06-01")],
    );
    assert!(!r.out.contains("exempted findings"), "{}", r.out);
    assert!(r.out.contains("not reported: 2 exempted"), "{}", r.out);
}

#[test]
fn expired_exemptions_stop_applying_with_a_warning() {
    let t = repo_with_manifest();
    t.write(".kanon.yaml", GLOB_EXEMPTION);
    let on = |day: &str| {
        let r = kanon(
            &t.0,
            &[
                "scan",
                "m.yaml",
                "--select",
                "K01",
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            &[("KANON_TODAY", day)],
        );
        assert_eq!(r.code, 0, "{}", r.err);
        r
    };
    let last_day = on("2027-01-31");
    assert_eq!(last_day.ids().len(), 1, "still applies on its last day");
    assert!(!last_day.err.contains("W0602"));
    let after = on("2027-02-01");
    assert_eq!(after.ids().len(), 3, "{}", after.out);
    assert!(
        after
            .err
            .contains("warning[W0602]: exemption expired on 2027-01-31"),
        "{}",
        after.err
    );
    assert!(after.err.contains(".kanon.yaml:8:14"), "{}", after.err);
}

// ---------------------------------------------------------------- baselines

#[test]
fn baseline_survives_moved_lines_and_catches_new_findings() {
    let t = repo_with_manifest();
    let w = kanon(
        &t.0,
        &["scan", "m.yaml", "--write-baseline", "baseline.json"],
        &[],
    );
    assert_eq!(w.code, 0, "writing a baseline does not fail: {}", w.err);
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(t.path("baseline.json")).unwrap()).unwrap();
    assert_eq!(b["version"], 1);
    let n = b["fingerprints"].as_array().unwrap().len();
    assert!(n >= 4, "{b}");
    assert_eq!(b["findings"].as_array().unwrap().len(), n);
    // three lines inserted at the top move every finding
    t.write("m.yaml", &format!("# a\n# b\n# c\n{MANIFEST}"));
    let r = scan_json(&t.0, &["--baseline", "baseline.json"]);
    assert_eq!(r.ids().len(), 0, "{}", r.out);
    assert_eq!(r.json()["summary"]["baselined"], n);
    let r = kanon(
        &t.0,
        &["scan", "m.yaml", "--baseline", "baseline.json"],
        &[],
    );
    assert_eq!(r.code, 0, "baselined findings do not fail the run");
    assert!(
        r.out
            .contains(&format!("not reported: {n} in the baseline"))
    );
    // a changed finding is new
    t.write(
        "m.yaml",
        &format!(
            "# a\n# b\n# c\n{}",
            MANIFEST.replace("- name: web", "- name: api")
        ),
    );
    let r = scan_json(&t.0, &["--baseline", "baseline.json"]);
    assert_eq!(r.ids(), ["K01-001"], "{}", r.out);
    assert_eq!(r.json()["findings"][0]["resource"]["name"], "web");
    // a broken baseline is an error
    t.write("bad.json", "{\"version\": 7}");
    let r = scan_json(&t.0, &["--baseline", "bad.json"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("unsupported version `7`"), "{}", r.err);
}

// ---------------------------------------------------------------- config show

#[test]
fn config_show_prints_the_effective_configuration() {
    let t = Tmp::repo();
    t.write(".kanon.yaml", GLOB_EXEMPTION);
    t.write("sub/.keep", "");
    let r = kanon(&t.path("sub"), &["config", "show"], &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.starts_with("# configuration: "), "{}", r.out);
    assert!(r.out.contains(".kanon.yaml"), "{}", r.out);
    assert!(r.out.contains("default-rules: true"), "{}", r.out);
    assert!(
        r.out.contains("expires: 2027-01-31") || r.out.contains("expires: '2027-01-31'"),
        "{}",
        r.out
    );
    let r = kanon(&t.path("sub"), &["config", "show", "--format", "json"], &[]);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert!(v["source"].as_str().unwrap().ends_with(".kanon.yaml"));
    assert_eq!(v["config"]["exemptions"][0]["name"], "calico-*");
    assert_eq!(v["config"]["fail-on"], "low");
    let r = kanon(
        &t.path("sub"),
        &["config", "show", "--no-config", "--format", "json"],
        &[],
    );
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["source"], Value::Null);
    assert_eq!(v["config"]["select"][0], "*");
}
