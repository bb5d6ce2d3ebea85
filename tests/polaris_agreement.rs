//! Agreement of the bundled rules with Polaris' own check fixtures
//! (`../shared/corpus/labelled/polaris`, see its `index.json`).
//!
//! Each Polaris check maps to the kanon rules that name it in `refs`, plus the explicit
//! table below. For every fixture file of a mapped check, kanon fails the file when any
//! mapped rule reports a finding in it; the verdict is compared with Polaris' expected
//! pass/fail. Every disagreement must be listed in `docs/rules/polaris-differences.md`
//! (check, fixture file, Polaris says, kanon says, why), and every listed difference must
//! still occur, so the list cannot go stale. Run with `--nocapture` to see the table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::engine::{ScanOptions, scan};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Rules that answer part of a check without naming it in `refs` (see the stated
/// differences in `docs/rules/peer-mapping.yaml`). Polaris has a check per binding/role kind
/// and judges the role a binding grants; kanon reports a permission once, on the role, and
/// reports wildcard rules (`resources: ["*"]`, which also cover `pods/exec` and everything
/// cluster-admin has) under K03-002 only.
const EXTRA: &[(&str, &[&str])] = &[
    ("clusterrolePodExecAttach", &["K03-002"]),
    ("rolePodExecAttach", &["K03-002"]),
    ("clusterrolebindingPodExecAttach", &["K03-002"]),
    ("rolebindingClusterRolePodExecAttach", &["K03-002"]),
    ("rolebindingRolePodExecAttach", &["K03-002"]),
    ("clusterrolebindingClusterAdmin", &["K03-002"]),
    ("rolebindingClusterAdminClusterRole", &["K03-002"]),
    ("rolebindingClusterAdminRole", &["K03-001"]),
];

/// Checks deliberately left out, with the reason.
const EXCLUDED: &[(&str, &str)] = &[
    (
        "missingNetworkPolicy",
        "kanon's NetworkPolicy rules look at coverage across the whole input (K07-001..003); \
         single-object fixtures are not agreement data",
    ),
    (
        "automountServiceAccountToken",
        "K06-007 reports a mounted token only when the input's RBAC shows the service account \
         needs none (it needs the bindings of the namespace); single-object fixtures are not \
         agreement data",
    ),
];

const DIFFERENCES: &str = "docs/rules/polaris-differences.md";

#[derive(Debug)]
struct Entry {
    check: String,
    file: String,
    expect: String,
}

fn polaris_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/labelled/polaris")
}

fn entries(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("index.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Entry {
            check: e["check_id"].as_str().unwrap().to_string(),
            file: e["file"].as_str().unwrap().to_string(),
            expect: e["expect"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Polaris check -> kanon rule ids.
fn mapping() -> BTreeMap<String, BTreeSet<String>> {
    let mut sources = kanon::diag::SourceMap::new();
    let opts = ScanOptions {
        bundled: true,
        ..ScanOptions::default()
    };
    let compiled = kanon::engine::compile_rules(&opts, &mut sources).unwrap();
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rule in &compiled.program.rules {
        for r in &rule.refs {
            map.entry(r.clone()).or_default().insert(rule.id.clone());
        }
    }
    for (check, rules) in EXTRA {
        let e = map.entry((*check).to_string()).or_default();
        e.extend(rules.iter().map(|r| (*r).to_string()));
    }
    for (check, _) in EXCLUDED {
        map.remove(*check);
    }
    map
}

/// Rule ids kanon reports in one file.
fn kanon_rules_firing(path: &Path) -> BTreeSet<String> {
    let opts = ScanOptions {
        inputs: vec![path.to_string_lossy().into_owned()],
        bundled: true,
        threads: Some(1),
        ..ScanOptions::default()
    };
    let result = scan(&opts).unwrap();
    result
        .findings
        .iter()
        .map(|f| f.rule.id.to_string())
        .collect()
}

/// (check, file) -> (polaris, kanon, why) from the markdown tables of the differences page.
fn listed_differences(text: &str) -> BTreeMap<(String, String), (String, String, String)> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        if cells.len() < 5 || cells[0] == "check" || cells[0].starts_with("---") {
            continue;
        }
        out.insert(
            (cells[0].clone(), cells[1].clone()),
            (cells[2].clone(), cells[3].clone(), cells[4].clone()),
        );
    }
    out
}

#[test]
fn agreement_with_polaris_fixtures() {
    let dir = polaris_dir();
    if !dir.join("index.json").is_file() {
        eprintln!(
            "SKIP polaris_agreement: {} not found (the labelled Polaris corpus is not checked out)",
            dir.display()
        );
        return;
    }
    let map = mapping();
    let mut firing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // check -> (files, agree, disagree)
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut disagreements: BTreeMap<(String, String), (String, String, String)> = BTreeMap::new();
    let mut unmapped: BTreeSet<String> = BTreeSet::new();
    for e in entries(&dir) {
        let Some(rules) = map.get(&e.check) else {
            unmapped.insert(e.check.clone());
            continue;
        };
        let fired = firing
            .entry(e.file.clone())
            .or_insert_with(|| kanon_rules_firing(&dir.join(&e.file)));
        let hits: Vec<&String> = rules.iter().filter(|r| fired.contains(*r)).collect();
        let kanon = if hits.is_empty() { "pass" } else { "fail" };
        let row = table.entry(e.check.clone()).or_default();
        row.0 += 1;
        if kanon == e.expect {
            row.1 += 1;
        } else {
            row.2 += 1;
            let detail = if hits.is_empty() {
                format!("no finding of {}", join(rules.iter()))
            } else {
                format!("findings of {}", join(hits.into_iter()))
            };
            disagreements.insert(
                (e.check.clone(), e.file.clone()),
                (e.expect.clone(), kanon.to_string(), detail),
            );
        }
    }

    println!(
        "{:<38} {:<24} {:>5} {:>5} {:>8}",
        "check", "kanon rules", "files", "agree", "disagree"
    );
    for (check, (files, agree, disagree)) in &table {
        let rules = join(map.get(check).into_iter().flatten());
        println!("{check:<38} {rules:<24} {files:>5} {agree:>5} {disagree:>8}");
    }
    let (files, agree): (usize, usize) = table
        .values()
        .fold((0, 0), |(f, a), (files, agree, _)| (f + files, a + agree));
    println!("total: {agree}/{files} fixture files agree");
    for (check, why) in EXCLUDED {
        println!("excluded {check}: {why}");
    }
    println!("not mapped to a kanon rule: {}", join(unmapped.iter()));
    println!("disagreements:");
    for ((check, file), (polaris, kanon, detail)) in &disagreements {
        println!("  {check} {file}: Polaris {polaris}, kanon {kanon} ({detail})");
    }

    let listed_text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DIFFERENCES))
            .unwrap_or_default();
    let listed = listed_differences(&listed_text);
    let mut problems = Vec::new();
    for ((check, file), (polaris, kanon, _)) in &disagreements {
        match listed.get(&(check.clone(), file.clone())) {
            None => problems.push(format!(
                "not explained in {DIFFERENCES}: {check} {file} (Polaris {polaris}, kanon {kanon})"
            )),
            Some((p, k, why)) => {
                if p != polaris || k != kanon {
                    problems.push(format!(
                        "{DIFFERENCES} says Polaris {p}, kanon {k} for {check} {file}; now Polaris {polaris}, kanon {kanon}"
                    ));
                }
                if why.is_empty() {
                    problems.push(format!("{DIFFERENCES}: no reason given for {check} {file}"));
                }
            }
        }
    }
    for (check, file) in listed.keys() {
        if !disagreements.contains_key(&(check.clone(), file.clone())) {
            problems.push(format!(
                "{DIFFERENCES} lists {check} {file}, but kanon and Polaris now agree there: remove the row"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn join<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(String::as_str).collect::<Vec<_>>().join(",")
}

#[test]
fn differences_table_parses() {
    let t = "| check | fixture file | Polaris says | kanon says | why |\n|---|---|---|---|---|\n| `a` | `f.yaml` | pass | fail | because |\n";
    let l = listed_differences(t);
    assert_eq!(l.len(), 1);
    assert_eq!(
        l.get(&("a".to_string(), "f.yaml".to_string())),
        Some(&(
            "pass".to_string(),
            "fail".to_string(),
            "because".to_string()
        ))
    );
}
