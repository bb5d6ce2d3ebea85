//! Rule files cannot read files outside their ruleset, reach the network or run
//! commands: imports and tables resolve only inside the given rule directories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::report::diagnostics::render_plain;
use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("kanon-sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.join("rules")).unwrap();
    p
}

fn check_dir(dir: &std::path::Path) -> String {
    let mut fs = RuleFs::new();
    let files = fs.add_disk_path(dir).unwrap();
    let mut sources = SourceMap::new();
    let c = compile(&fs, &files, &Overrides::new(), &mut sources);
    render_plain(&sources, &c.diagnostics)
}

const RULE: &str = "rule S-001 s {\n  severity low\n  for w in workloads\n  report at w \"x\"\n}\n";

#[test]
fn imports_cannot_leave_the_rule_directory() {
    let dir = temp("import");
    std::fs::write(dir.join("secret.kanon"), RULE.replace("S-001", "S-002")).unwrap();
    std::fs::write(
        dir.join("rules/r.kanon"),
        format!("import \"../secret.kanon\"\nimport \"/etc/passwd\"\n{RULE}"),
    )
    .unwrap();
    let out = check_dir(&dir.join("rules"));
    assert_eq!(out.matches("error[E0109]").count(), 2, "{out}");
    assert!(
        out.contains("import `../secret.kanon` leaves the ruleset"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tables_cannot_leave_the_rule_directory() {
    let dir = temp("table");
    std::fs::write(
        dir.join("rules/r.kanon"),
        format!(
            "table t from \"../../../../etc/hostname\"\ntable u from \"/etc/hostname\"\n{RULE}"
        ),
    )
    .unwrap();
    let out = check_dir(&dir.join("rules"));
    assert_eq!(out.matches("error[E0108]").count(), 2, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(unix)]
#[test]
fn symlinks_cannot_lead_outside() {
    let dir = temp("symlink");
    std::fs::write(dir.join("outside.yaml"), "- a: 1\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside.yaml"), dir.join("rules/data.yaml")).unwrap();
    std::fs::write(
        dir.join("rules/r.kanon"),
        format!("table t from \"data.yaml\"\n{RULE}"),
    )
    .unwrap();
    let out = check_dir(&dir.join("rules"));
    assert!(out.contains("leads outside the rule directory"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn regular_expressions_are_linear_time() {
    let dir = temp("regex");
    std::fs::write(
        dir.join("rules/r.kanon"),
        "rule S-003 s {\n  severity low\n  for w in workloads\n  where w.name matches \"(a+)\\\\1\" or w.name matches \"(?=x)\"\n  report at w \"x\"\n}\n",
    )
    .unwrap();
    let out = check_dir(&dir.join("rules"));
    assert_eq!(out.matches("error[E0303]").count(), 2, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}
