//! Helm charts and Kustomize overlays rendered with the real tools, and findings mapped back
//! to the user's files.
//!
//! The Helm tests need a `helm`: `KANON_TEST_HELM` names one (`.ci/run` sets it to
//! `tools/helm`, a `helm template` over the real Helm engine from `helm-python-sdk`). The
//! Kustomize tests need `kustomize` or `kubectl` on `PATH`. Without them these tests say so
//! and skip, unless `KANON_REQUIRE_TOOLS=1` (set by `.ci/run`), where they fail instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::kanon;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("KANON_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

fn missing(what: &str) {
    assert!(
        !required(),
        "{what} is missing and KANON_REQUIRE_TOOLS=1: run .ci/run, which installs it"
    );
    eprintln!("skipping: {what} is missing (KANON_REQUIRE_TOOLS=1 makes this an error)");
}

/// The `helm` the tests run, from `KANON_TEST_HELM`.
fn helm() -> Option<String> {
    match std::env::var("KANON_TEST_HELM") {
        Ok(h) if Path::new(&h).is_file() => Some(h),
        _ => {
            missing("a helm (set KANON_TEST_HELM, e.g. to tools/helm with .ci/venv installed)");
            None
        }
    }
}

fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

/// Whether `kustomize` or `kubectl` is there.
fn kustomize() -> bool {
    let ok = on_path("kustomize") || on_path("kubectl");
    if !ok {
        missing("kustomize or kubectl (apt-get install kubernetes-client)");
    }
    ok
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = kanon().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json", "--fail-on", "never"]);
    let (code, out, err) = run(&a);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap()
}

fn find<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(v)
        .iter()
        .filter(|f| f["rule"]["id"] == rule)
        .collect()
}

fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kanon-render-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_chart_is_rendered_and_findings_point_at_the_template_line_and_the_values() {
    let Some(helm) = helm() else { return };
    let (_, v) = json(&["scan", "examples/helm/web", "--helm", &helm]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    let privileged = find(&v, "K01-001");
    assert_eq!(privileged.len(), 1, "{v:#}");
    let f = privileged[0];
    // the template line that wrote the key
    assert_eq!(
        f["location"]["file"],
        "examples/helm/web/templates/deployment.yaml"
    );
    assert_eq!(f["location"]["line"], 23);
    // the rendered position is kept
    assert_eq!(f["rendered"]["file"], "<helm template examples/helm/web>");
    assert_eq!(f["rendered"]["line"], 28);
    // the value came from values.yaml
    assert_eq!(
        f["value_source"]["expr"],
        ".Values.securityContext.privileged"
    );
    assert_eq!(
        f["value_source"]["location"]["file"],
        "examples/helm/web/values.yaml"
    );
    assert_eq!(f["value_source"]["location"]["line"], 6);
    assert_eq!(
        f["resource"]["helm_source"],
        "web/templates/deployment.yaml"
    );
    // no finding is left in the rendered stream, and none points at a file outside the chart
    for f in findings(&v) {
        let file = f["location"]["file"].as_str().unwrap();
        assert!(file.starts_with("examples/helm/web/templates/"), "{f:#}");
    }
    // SARIF shows the template file
    let (_, sarif, _) = run(&[
        "scan",
        "examples/helm/web",
        "--helm",
        &helm,
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!uris.is_empty());
    assert!(
        uris.iter()
            .all(|u| *u == "examples/helm/web/templates/deployment.yaml"),
        "{uris:?}"
    );
    // and the values entry as a related location
    let privileged = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "K01-001")
        .unwrap();
    let related = &privileged["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "examples/helm/web/values.yaml"
    );
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 6);
    assert_eq!(
        related["message"]["text"],
        "the value comes from .Values.securityContext.privileged"
    );
    // what a user sees
    let (code, out, _) = run(&[
        "scan",
        "examples/helm/web",
        "--helm",
        &helm,
        "--select",
        "K01-001,K02-002",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn helm_values_and_set_flags_and_the_configuration_are_passed_to_helm() {
    let Some(helm) = helm() else { return };
    let privileged = |v: &Value| find(v, "K01-001").len();
    let (_, v) = json(&["scan", "examples/helm/web", "--helm", &helm]);
    assert_eq!(privileged(&v), 1);
    let (_, v) = json(&[
        "scan",
        "examples/helm/web",
        "--helm",
        &helm,
        "--helm-set",
        "securityContext.privileged=false",
    ]);
    assert_eq!(privileged(&v), 0);
    let dir = temp("values");
    let values = dir.join("safe.yaml");
    std::fs::write(&values, "securityContext:\n  privileged: false\n").unwrap();
    let (_, v) = json(&[
        "scan",
        "examples/helm/web",
        "--helm",
        &helm,
        "--helm-values",
        values.to_str().unwrap(),
    ]);
    assert_eq!(privileged(&v), 0);
    // per chart in `.kanon.yaml`, paths relative to the configuration file
    let root = env!("CARGO_MANIFEST_DIR");
    // `KANON_TEST_HELM` may be relative to the crate or absolute
    let helm = Path::new(root).join(&helm).display().to_string();
    let config = dir.join(".kanon.yaml");
    std::fs::write(
        &config,
        format!(
            "render:\n  helm: {helm}\n  charts:\n    {root}/examples/helm/web:\n      values: [safe.yaml]\n      set: [replicaCount=3]\n"
        ),
    )
    .unwrap();
    let (_, v) = json(&[
        "scan",
        "examples/helm/web",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    assert_eq!(privileged(&v), 0);
    // another chart path in the configuration does not apply
    std::fs::write(
        &config,
        format!("render:\n  helm: {helm}\n  charts:\n    other:\n      values: [safe.yaml]\n"),
    )
    .unwrap();
    let (_, v) = json(&[
        "scan",
        "examples/helm/web",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(privileged(&v), 1);
}

#[test]
fn without_helm_each_chart_is_one_located_error_and_every_other_input_is_scanned() {
    let (code, out, err) = run(&[
        "scan",
        "examples/helm",
        "examples/manifests",
        "--helm",
        "/nonexistent/helm",
        "--format",
        "concise",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.matches("error[E1010]").count(), 1, "{err}");
    // the templates were never parsed as YAML
    assert!(!err.contains("E1001"), "{err}");
    // the plain manifests were scanned
    assert!(out.contains("examples/manifests/app.yaml"), "{out}");
    insta::assert_snapshot!(err);
}

#[test]
fn with_rendering_off_a_chart_is_left_out_with_a_warning() {
    let (code, out, err) = run(&["scan", "examples/helm", "--no-render", "--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning[W1010]"), "{err}");
    assert!(!err.contains("E1001"), "{err}");
    assert!(out.contains("no findings"), "{out}");
}

#[test]
fn a_chart_that_fails_to_render_is_one_located_error_with_helms_message() {
    let Some(helm) = helm() else { return };
    let dir = temp("broken");
    let chart = dir.join("broken");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "kind: {{ required \"set .Values.kind\" .Values.kind }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plain.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: nginx\n",
    )
    .unwrap();
    let (code, v) = json(&["scan", dir.to_str().unwrap(), "--helm", &helm]);
    assert_eq!(code, 2);
    let diags = v["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "E1011");
    let text = diags[0].to_string();
    assert!(text.contains("set .Values.kind"), "{text}");
    assert!(
        diags[0]["file"]
            .as_str()
            .unwrap_or("")
            .ends_with("broken/Chart.yaml")
            || text.contains("broken/Chart.yaml"),
        "{text}"
    );
    // the plain manifest beside it was scanned
    assert_eq!(find(&v, "K01-010").len(), 1, "{v:#}");
}

#[test]
fn a_renderer_that_hangs_is_stopped_by_the_timeout() {
    let dir = temp("hang");
    let chart = dir.join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    let fake = dir.join("helm");
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 30\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let start = std::time::Instant::now();
    let (code, _, err) = run(&[
        "scan",
        chart.to_str().unwrap(),
        "--helm",
        fake.to_str().unwrap(),
        "--render-timeout",
        "1",
    ]);
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    assert_eq!(code, 2);
    assert!(err.contains("took longer than 1 seconds"), "{err}");
}

#[test]
fn an_overlay_is_built_once_and_findings_point_at_its_resource_and_patch_files() {
    if !kustomize() {
        return;
    }
    let (_, v) = json(&["scan", "examples/kustomize"]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    // the overlay's two objects, not also the base's, and not the patch as an object
    assert_eq!(v["summary"]["objects"], 2, "{:#}", v["summary"]);
    for f in findings(&v) {
        assert_eq!(f["resource"]["name"], "prod-api", "{f:#}");
    }
    let escalation = find(&v, "K01-002");
    assert_eq!(escalation.len(), 1);
    assert_eq!(
        escalation[0]["location"]["file"],
        "examples/kustomize/base/deployment.yaml"
    );
    assert_eq!(escalation[0]["location"]["line"], 20);
    assert_eq!(
        escalation[0]["rendered"]["file"],
        "<kustomize build examples/kustomize/overlays/prod>"
    );
    // its fix is described as a text change of the rendered output (the scan keeps the
    // documents of an overlay, and describes the fixes itself)
    let change = &escalation[0]["autofix"]["changes"][0];
    assert_eq!(
        change["deleted"]["file"], "<kustomize build examples/kustomize/overlays/prod>",
        "{:#}",
        escalation[0]
    );
    assert_eq!(change["inserted"], "false");
    // a key the patch added points into the patch
    let host = find(&v, "K01-010");
    assert_eq!(host.len(), 1);
    assert_eq!(
        host[0]["location"]["file"],
        "examples/kustomize/overlays/prod/hostnetwork.yaml"
    );
    assert_eq!(host[0]["location"]["line"], 10);
    // a base given beside its overlay is read once, in the overlay
    let (_, v) = json(&[
        "scan",
        "examples/kustomize/base",
        "examples/kustomize/overlays/prod",
    ]);
    assert_eq!(v["summary"]["objects"], 2, "{:#}", v["summary"]);
    // the base given on its own is built on its own
    let (_, v) = json(&["scan", "examples/kustomize/base"]);
    assert_eq!(v["summary"]["objects"], 2);
    assert!(find(&v, "K01-010").is_empty());
}

#[test]
fn a_directory_of_manifests_a_chart_and_an_overlay_gives_one_list_in_the_users_files() {
    let Some(helm) = helm() else { return };
    if !kustomize() {
        return;
    }
    let (code, out, err) = run(&[
        "scan",
        "examples/manifests",
        "examples/helm",
        "examples/kustomize",
        "--helm",
        &helm,
        "--format",
        "concise",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    // the chart is rendered without `--namespace` beside manifests that name theirs: the
    // one warning says so (W2004); nothing else is reported
    assert_only_mixed_namespaces(&err);
    let files: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.split_once(':').map(|(f, _)| f))
        .filter(|f| f.starts_with("examples/"))
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec![
            "examples/helm/web/templates/deployment.yaml",
            "examples/kustomize/base/deployment.yaml",
            "examples/kustomize/overlays/prod/hostnetwork.yaml",
            "examples/manifests/app.yaml",
        ],
        "{out}"
    );
    assert!(!out.contains("<helm template"), "{out}");
    assert!(!out.contains("<kustomize build"), "{out}");
}

#[test]
fn a_packaged_chart_is_rendered_and_its_findings_stay_in_the_rendered_output() {
    let Some(helm) = helm() else { return };
    let dir = temp("archive");
    let archive = dir.join("web-0.1.0.tgz");
    let made = Command::new("tar")
        .args([
            "czf",
            archive.to_str().unwrap(),
            "-C",
            "examples/helm",
            "web",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(made.success());
    let (_, v) = json(&["scan", archive.to_str().unwrap(), "--helm", &helm]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    let privileged = find(&v, "K01-001");
    assert_eq!(privileged.len(), 1, "{v:#}");
    // its templates are not on disk: the finding stays in the rendered stream
    assert_eq!(
        privileged[0]["location"]["file"],
        format!("<helm template {}>", archive.display())
    );
    assert_eq!(privileged[0]["location"]["line"], 28);
    // found while walking: a chart package is rendered, another archive is not an input
    std::fs::write(dir.join("backup.tgz"), [0x1f, 0x8b, 0, 1, 2, 3]).unwrap();
    let (_, v) = json(&["scan", dir.to_str().unwrap(), "--helm", &helm]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    assert_eq!(find(&v, "K01-001").len(), 1, "{v:#}");
    assert_eq!(v["summary"]["files"], 1, "{:#}", v["summary"]);
}

#[test]
fn a_key_written_by_to_yaml_points_at_its_block_and_at_the_values_entry() {
    let Some(helm) = helm() else { return };
    let dir = temp("toyaml");
    let chart = dir.join("api");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "image: nginx:1.27\ncontainerSecurityContext:\n  runAsNonRoot: true\n  privileged: true\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "{{- if true }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n    - name: api\n      image: {{ .Values.image }}\n      securityContext:\n        {{- toYaml .Values.containerSecurityContext | nindent 8 }}\n{{- end }}\n",
    )
    .unwrap();
    let (_, v) = json(&["scan", chart.to_str().unwrap(), "--helm", &helm]);
    assert!(codes(&v).is_empty(), "{:#}", v["diagnostics"]);
    let f = find(&v, "K01-001");
    assert_eq!(f.len(), 1, "{v:#}");
    let f = f[0];
    assert!(
        f["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("api/templates/pod.yaml")
    );
    // the `securityContext:` line whose block `toYaml` writes
    assert_eq!(f["location"]["line"], 10);
    assert_eq!(
        f["value_source"]["expr"],
        ".Values.containerSecurityContext.privileged"
    );
    assert_eq!(f["value_source"]["location"]["line"], 4);
    // a literal value on the line: the image
    let image = find(&v, "K02-002");
    assert_eq!(image.len(), 1, "{v:#}");
    assert_eq!(image[0]["location"]["line"], 9);
    assert_eq!(image[0]["value_source"]["expr"], ".Values.image");
    assert_eq!(image[0]["value_source"]["location"]["line"], 1);
}

#[test]
fn a_misspelt_render_key_in_the_configuration_names_the_right_one() {
    let dir = temp("config-keys");
    let config = dir.join(".kanon.yaml");
    for (text, message, help) in [
        (
            "render:\n  helmm: x\n",
            "unknown key `helmm` in `render`",
            "did you mean `helm`?",
        ),
        (
            "render:\n  charts:\n    web:\n      value: [a.yaml]\n",
            "unknown key `value` in a chart of `render`",
            "did you mean `values`?",
        ),
        (
            "rendr:\n  helm: x\n",
            "unknown key `rendr` in the configuration",
            "did you mean `render`?",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        let (code, _, err) = run(&[
            "scan",
            "examples/manifests",
            "--config",
            config.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(message), "{err}");
        assert!(err.contains(help), "{err}");
    }
}

#[test]
fn config_show_prints_the_render_settings_when_set() {
    let dir = temp("config-show");
    let config = dir.join(".kanon.yaml");
    std::fs::write(&config, "render:\n  timeout: 30\n  set: [a=1]\n").unwrap();
    let (code, out, err) = run(&["config", "show", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("render:") && out.contains("timeout: 30"),
        "{out}"
    );
    std::fs::write(&config, "fail-on: high\n").unwrap();
    let (_, out, _) = run(&["config", "show", "--config", config.to_str().unwrap()]);
    assert!(!out.contains("\nrender:"), "{out}");
}

#[test]
fn one_directory_holding_manifests_a_chart_and_an_overlay_is_one_scan() {
    let Some(helm) = helm() else { return };
    if !kustomize() {
        return;
    }
    let helm = Path::new(env!("CARGO_MANIFEST_DIR")).join(&helm);
    let dir = temp("repo");
    for from in ["examples/manifests", "examples/helm", "examples/kustomize"] {
        let ok = Command::new("cp")
            .args(["-r", from, dir.to_str().unwrap()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let (code, out, err) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--helm",
        helm.to_str().unwrap(),
        "--format",
        "concise",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_only_mixed_namespaces(&err);
    let prefix = format!("{}/", dir.display());
    let files: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .filter_map(|l| l.split_once(':').map(|(f, _)| f))
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        vec![
            "helm/web/templates/deployment.yaml",
            "kustomize/base/deployment.yaml",
            "kustomize/overlays/prod/hostnetwork.yaml",
            "manifests/app.yaml",
        ],
        "{out}"
    );
    // two manifest files, the chart and the overlay (built once: two objects, not four)
    assert!(
        out.contains("scanned 10 objects in 10 documents from 4 files"),
        "{out}"
    );
}

/// `err` holds one diagnostic, the W2004 warning about objects without a namespace.
fn assert_only_mixed_namespaces(err: &str) {
    let heads: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("warning[") || l.starts_with("error["))
        .collect();
    assert_eq!(heads.len(), 1, "{err}");
    assert!(heads[0].starts_with("warning[W2004]"), "{err}");
}
