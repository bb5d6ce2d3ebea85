//! `docs/rules/` holds one generated page per bundled rule and an index by OWASP category.
//! This test fails when they are stale; `KANON_REGENERATE=1 cargo test --test suite rule_docs::`
//! rewrites them (and removes pages of rules that no longer exist).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::engine::{ScanOptions, compile_rules};
use kanon::rule_docs::{self, DIR, HAND_WRITTEN, REGENERATE};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generated() -> Vec<(String, String)> {
    let mut sources = SourceMap::new();
    let opts = ScanOptions {
        bundled: true,
        ..ScanOptions::default()
    };
    let compiled = compile_rules(&opts, &mut sources).unwrap();
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(
        errors.is_empty(),
        "bundled rules do not compile: {errors:?}"
    );
    rule_docs::pages_in(&compiled.program, &sources, &root())
}

fn existing_pages(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") && !HAND_WRITTEN.contains(&name.as_str()) {
                out.insert(format!("{DIR}/{name}"));
            }
        }
    }
    out
}

#[test]
fn rule_pages_are_up_to_date() {
    let pages = generated();
    assert!(pages.len() > 80, "expected a page per bundled rule");
    let root = root();
    let dir = root.join(DIR);
    let regenerate = std::env::var_os("KANON_REGENERATE").is_some_and(|v| v == "1");
    let wanted: BTreeSet<String> = pages.iter().map(|(p, _)| p.clone()).collect();
    let leftover: Vec<String> = existing_pages(&dir)
        .into_iter()
        .filter(|p| !wanted.contains(p))
        .collect();
    if regenerate {
        std::fs::create_dir_all(&dir).unwrap();
        for (path, text) in &pages {
            let full = root.join(path);
            if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&full, text).unwrap();
                eprintln!("wrote {path}");
            }
        }
        for path in &leftover {
            std::fs::remove_file(root.join(path)).unwrap();
            eprintln!("removed {path}");
        }
        return;
    }
    let mut problems = Vec::new();
    for (path, text) in &pages {
        match std::fs::read_to_string(root.join(path)) {
            Ok(have) if have == *text => {}
            Ok(have) => {
                let line = have
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| have.lines().count().min(text.lines().count()))
                    + 1;
                problems.push(format!("{path}: stale (first difference at line {line})"));
            }
            Err(_) => problems.push(format!("{path}: missing")),
        }
    }
    for path in &leftover {
        problems.push(format!("{path}: no rule generates this page any more"));
    }
    assert!(
        problems.is_empty(),
        "docs/rules is out of date; regenerate it with\n\n    {REGENERATE}\n\n{}",
        problems.join("\n")
    );
}

#[test]
fn hand_written_pages_exist() {
    for name in HAND_WRITTEN {
        assert!(
            root().join(DIR).join(name).is_file(),
            "{DIR}/{name} is linked from the index but missing"
        );
    }
}

#[test]
fn pages_are_deterministic() {
    assert_eq!(generated(), generated());
}
