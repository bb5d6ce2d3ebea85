//! `kanon scan DIR` walks a repository as users expect: ignore files, hidden directories,
//! `--exclude` and `exclude:`, rule fixtures, and YAML that is not Kubernetes counted rather
//! than warned about one by one. Each test snapshots what the user sees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: NAME\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n";

/// A repository as a new user has it: build output, CI workflows, Helm values, rules with
/// their fixtures, vendored manifests, generated manifests and the real ones.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn new(tag: &str) -> Repo {
        let dir = std::env::temp_dir().join(format!("kanon-walk-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = Repo { dir };
        let pod = |n: &str| POD.replace("NAME", n);
        r.write(".gitignore", "target/\n");
        r.write(".ignore", "vendor/\n");
        r.write("target/debug/build/out.yaml", &pod("build-output"));
        r.write("vendor/chart/pod.yaml", &pod("vendored"));
        r.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
        r.write("ci.yml", "stages: [test]\n");
        r.write("values.yaml", "replicas: 3\n");
        r.write("deploy/app.yaml", &pod("app"));
        r.write("deploy/generated/gen.yaml", &pod("generated"));
        r.write("rules/pods.kanon", "// a rule\n");
        r.write("rules/pods.test.yaml", &pod("fixture-single"));
        r.write("rules/pods.tests/bad.yaml", &pod("fixture-dir"));
        r.write("rules/pods.tests/nested/ok.yml", &pod("fixture-nested"));
        // a `.test.yaml` without a rule beside it is an ordinary manifest
        r.write("deploy/smoke.test.yaml", &pod("smoke"));
        r
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Runs `kanon` in the repository with a rule that matches nothing (so the output is
    /// what the walk found); returns exit code, stdout and stderr.
    fn scan(&self, args: &[&str]) -> (i32, String, String) {
        let noop = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/noop.kanon");
        let out = Command::new(env!("CARGO_BIN_EXE_kanon"))
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .arg("scan")
            .args(args)
            .args(["--no-default-rules", "--rules"])
            .arg(noop)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The names of the Pods a scan reads (from `kanon graph`'s JSON would need another
    /// command; a JSON scan lists no objects, so this reads the summary only).
    fn objects(&self, args: &[&str]) -> u64 {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let (_, out, err) = self.scan(&a);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
        v["summary"]["objects"].as_u64().unwrap()
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn shown(code: i32, out: &str, err: &str) -> String {
    format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}")
}

#[test]
fn a_repository_walk_reads_only_what_users_expect() {
    let r = Repo::new("default");
    // deploy/app.yaml, deploy/generated/gen.yaml, deploy/smoke.test.yaml, ci.yml, values.yaml
    let (code, out, err) = r.scan(&["."]);
    insta::assert_snapshot!(shown(code, &out, &err));
    assert_eq!(r.objects(&["."]), 3);
}

#[test]
fn verbose_lists_what_is_not_kubernetes() {
    let r = Repo::new("verbose");
    let (code, out, err) = r.scan(&[".", "--verbose"]);
    insta::assert_snapshot!(shown(code, &out, &err));
}

#[test]
fn excludes_from_the_command_line_and_the_configuration() {
    let r = Repo::new("exclude");
    assert_eq!(r.objects(&[".", "--exclude", "generated/"]), 2);
    assert_eq!(
        r.objects(&[".", "--exclude", "generated/", "--exclude", "*.test.yaml"]),
        1
    );
    // a file named explicitly is always read
    assert_eq!(
        r.objects(&["deploy/generated/gen.yaml", "--exclude", "generated/"]),
        1
    );
    r.write(
        ".kanon.yaml",
        "version: 1\nexclude:\n  - deploy/generated/\n",
    );
    assert_eq!(r.objects(&["."]), 2);
    r.write(".kanon.yaml", "version: 1\nexclude:\n  - \"deploy/[\"\n");
    let (code, out, err) = r.scan(&["."]);
    insta::assert_snapshot!("bad_exclude_in_configuration", shown(code, &out, &err));
    let (code, out, err) = r.scan(&[".", "--no-config", "--exclude", "a/[b"]);
    insta::assert_snapshot!("bad_exclude_flag", shown(code, &out, &err));
}

#[test]
fn no_ignore_reads_what_ignore_files_leave_out() {
    let r = Repo::new("noignore");
    // + target/debug/build/out.yaml and vendor/chart/pod.yaml; hidden directories stay out
    assert_eq!(r.objects(&[".", "--no-ignore"]), 5);
    // an ignored directory named explicitly is read
    assert_eq!(r.objects(&["target"]), 1);
}

#[test]
fn a_file_named_explicitly_still_warns() {
    let r = Repo::new("explicit");
    let (code, out, err) = r.scan(&["values.yaml", "rules/pods.test.yaml"]);
    insta::assert_snapshot!(shown(code, &out, &err));
}

#[test]
fn walk_order_is_deterministic() {
    let r = Repo::new("order");
    for i in (0..30).rev() {
        r.write(
            &format!("many/d{}/p{i}.yaml", i % 4),
            &POD.replace("NAME", &format!("p{i}")),
        );
    }
    let names = |args: &[&str]| -> Vec<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_kanon"))
            .current_dir(&r.dir)
            .args(["graph", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["nodes"]
            .as_array()
            .map(|n| {
                n.iter()
                    .filter_map(|x| x["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = names(&["many"]);
    assert_eq!(first.len(), 30, "{first:?}");
    for _ in 0..3 {
        assert_eq!(names(&["many"]), first);
    }
    let mut sorted = first.clone();
    sorted.sort_by_key(|n| {
        let i: usize = n[1..].parse().unwrap();
        (i % 4, format!("p{i}.yaml"))
    });
    assert_eq!(first, sorted, "files are read in path order");
}
