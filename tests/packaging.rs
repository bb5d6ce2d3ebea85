//! The packaging files at the repository root work: each pre-commit hook's `entry` runs as
//! pre-commit would run it (the entry, then the matching files), and the GitHub Action's
//! scan step, run with bash and its inputs as environment variables, writes what it promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(name: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join(name)).unwrap()).unwrap()
}

/// A directory holding a `kanon` link to the binary under test, for PATH.
fn bin_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kanon-packaging-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kanon"), d.join("kanon")).unwrap();
    d
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a hook's entry on files, as pre-commit does (`entry` split on spaces, then files).
fn run_hook(hook: &Value, files: &[&str], bin: &Path) -> i32 {
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split(' ').collect();
    assert_eq!(entry[0], "kanon");
    let o = Command::new("kanon")
        .args(&entry[1..])
        .args(files)
        .current_dir(root())
        .env("PATH", path_with(bin))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    o.status.code().unwrap()
}

#[test]
fn pre_commit_hooks_run_their_entries() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().unwrap();
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no hook `{id}`"))
    };
    let bin = bin_dir("hooks");
    for h in hooks {
        assert_eq!(h["language"].as_str(), Some("rust"), "{h:?}");
        assert!(h["name"].is_string() && h["files"].is_string());
    }
    // manifests with findings fail the hook; its file pattern takes them
    let scan = by_id("kanon-scan");
    let files = regex::Regex::new(scan["files"].as_str().unwrap()).unwrap();
    assert!(files.is_match("examples/manifests/app.yaml"));
    assert!(!files.is_match("src/main.rs"));
    let exclude = regex::Regex::new(scan["exclude"].as_str().unwrap()).unwrap();
    assert!(exclude.is_match(".github/workflows/ci.yml"));
    assert_eq!(run_hook(scan, &["examples/manifests/app.yaml"], &bin), 1);
    // rule files that compile and are formatted pass
    let rules = ["examples/org-rules/ORG-001-team-label.kanon"];
    assert_eq!(run_hook(by_id("kanon-check"), &rules, &bin), 0);
    assert_eq!(run_hook(by_id("kanon-fmt"), &rules, &bin), 0);
    // and a broken one fails
    let broken = bin.join("broken.kanon");
    std::fs::write(
        &broken,
        "rule X-1 x {\n  severity high\n  for p in podz\n}\n",
    )
    .unwrap();
    let broken = broken.to_str().unwrap();
    assert_eq!(run_hook(by_id("kanon-check"), &[broken], &bin), 2);
    std::fs::remove_dir_all(&bin).ok();
}

#[test]
fn action_scan_step_writes_sarif_annotations_and_extra_reports() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_mapping().unwrap();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let scan = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("scan"))
        .unwrap();
    let script = scan["run"].as_str().unwrap();
    // every input reaches the script through the environment
    let env = scan["env"].as_mapping().unwrap();
    for (name, _) in inputs {
        let expr = format!("${{{{ inputs.{} }}}}", name.as_str().unwrap());
        assert!(
            env.values().any(|v| v.as_str() == Some(&expr)),
            "input `{name:?}` is not passed to the scan step"
        );
        assert!(
            !script.contains("${{"),
            "inputs must not be pasted into the script"
        );
    }
    let var = |input: &str| -> String {
        env.iter()
            .find(|(_, v)| v.as_str() == Some(&format!("${{{{ inputs.{input} }}}}")))
            .map(|(k, _)| k.as_str().unwrap().to_string())
            .unwrap()
    };
    let default = |input: &str| inputs[input]["default"].as_str().unwrap().to_string();

    let bin = bin_dir("action");
    let out = bin.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let sarif = out.join("k.sarif");
    let gitlab = out.join("gl.json");
    let outputs = out.join("github_output");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(root())
        .env("PATH", path_with(&bin))
        .env("NO_COLOR", "1")
        .env("GITHUB_OUTPUT", &outputs);
    for input in ["annotations", "config", "args"] {
        cmd.env(var(input), default(input));
    }
    cmd.env(var("paths"), "examples/manifests\nexamples/org-rules")
        .env(var("fail-on"), "high")
        .env(var("sarif-file"), &sarif)
        .env(var("formats"), format!("gitlab={}", gitlab.display()));
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        std::fs::read_to_string(&outputs)
            .unwrap()
            .contains("exit-code=1")
    );
    // annotations on standard output, SARIF and the extra report in their files
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=examples/manifests/")),
        "{stdout}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap().len();
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gitlab).unwrap()).unwrap();
    assert_eq!(g.as_array().unwrap().len(), results);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("::") && l.contains(",title=K"))
            .count(),
        results
    );
    std::fs::remove_dir_all(&bin).ok();
}

#[test]
fn crate_metadata_and_license_match() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"Apache-2.0\""));
    let license = std::fs::read_to_string(root().join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));
    for key in ["readme", "keywords", "categories", "description"] {
        assert!(
            manifest.lines().any(|l| l.starts_with(&format!("{key} ="))),
            "Cargo.toml has no `{key}`"
        );
    }
}
