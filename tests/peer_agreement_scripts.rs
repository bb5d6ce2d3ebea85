//! The peer-agreement scripts (`scripts/peer-agreement`, see its README) pass their own tests
//! (`test_peer_agreement.py`, on inputs it writes: no peer repository is needed), and
//! `explained.yaml` is well formed.
//!
//! Needs a Python with PyYAML (`$KANON_PYTHON` or `.ci/venv/bin/python`); without it the
//! test says so and passes, unless `KANON_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::common;
use common::{python_with_pyyaml, skip};

fn scripts() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peer-agreement")
}

#[test]
fn scripts_pass_their_tests() {
    let python = match python_with_pyyaml() {
        Ok(p) => p,
        Err(why) => return skip(&why),
    };
    let out = Command::new(&python)
        .arg(scripts().join("test_peer_agreement.py"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "test_peer_agreement.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each judged case names a peer, check, case and object, a class of `difference` or
/// `fixture`, and a reason; a difference needs a stated difference for its check in
/// `docs/rules/peer-mapping.yaml` (by the catalog's id or an alias), and no case is judged
/// twice.
#[test]
fn explained_cases_are_well_formed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let entries: Vec<serde_json::Value> =
        serde_yaml::from_str(&read("scripts/peer-agreement/explained.yaml")).unwrap();
    assert!(!entries.is_empty());
    // every id and alias of the catalog -> (peer, id)
    let catalog: Vec<serde_json::Value> =
        serde_json::from_str(&read("tests/data/peer-checks/checks.json")).unwrap();
    let mut canonical = BTreeMap::new();
    for c in &catalog {
        let id = c["id"].as_str().unwrap().to_string();
        let peer = c["peer"].as_str().unwrap().to_string();
        for name in std::iter::once(c["id"].clone())
            .chain(c["aliases"].as_array().cloned().unwrap_or_default())
        {
            canonical.insert(
                name.as_str().unwrap().to_string(),
                (peer.clone(), id.clone()),
            );
        }
    }
    let decisions: serde_json::Value =
        serde_yaml::from_str(&read("docs/rules/peer-mapping.yaml")).unwrap();
    let stated: BTreeSet<&(String, String)> = decisions["differences"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|k| canonical.get(k))
        .collect();
    let mut seen = BTreeSet::new();
    for e in &entries {
        let field = |k: &str| {
            e[k].as_str()
                .unwrap_or_else(|| panic!("explained.yaml: entry {e} has no `{k}`"))
                .to_string()
        };
        let (peer, check) = (field("peer"), field("check"));
        let id = canonical
            .get(&check)
            .filter(|(p, _)| *p == peer)
            .unwrap_or_else(|| panic!("{e}: `{check}` is no check of `{peer}` in the catalog"));
        assert!(!field("why").trim().is_empty(), "{e}: empty `why`");
        match field("class").as_str() {
            "difference" => assert!(
                stated.contains(id),
                "{e}: a difference, but peer-mapping.yaml states none for `{check}`"
            ),
            "fixture" => {}
            other => panic!("{e}: class `{other}` is neither `difference` nor `fixture`"),
        }
        assert!(
            seen.insert((id.clone(), field("case"), field("object"))),
            "{e}: judged twice"
        );
    }
}
