//! The integration tests, one module a file, linked into one test binary: about fifty
//! separate binaries, each with its own copy of kanon, took a gigabyte of disk and a link
//! each. Run one file's tests with `cargo test --test suite NAME::` (`NAME` the file's
//! name without `.rs`).

mod common;
mod lsp_client;

mod bad_error_messages;
mod check_diagnostics;
mod cli;
mod config;
mod corpus_load;
mod differential;
mod docs_examples;
mod explain;
mod fix;
mod fix_edit_corpus;
mod fix_edit_props;
mod fix_edit_pyyaml;
mod formats;
mod fuzz_props;
mod graph_export;
mod graph_relations;
mod harness;
mod hostile;
mod html_report;
mod json_differential;
mod layers;
mod lsp;
mod lsp_props;
mod memo;
mod model_load;
mod neovim;
mod packaging;
mod paths;
mod peer_agreement_scripts;
mod peer_mapping;
mod polaris_agreement;
mod prefilter;
mod render;
mod rule_cost;
mod rule_docs;
mod sandbox;
mod scan;
mod schema;
mod share;
mod split_load;
mod syntax_props;
mod syntax_roundtrip;
mod walk;
mod workloads;
mod yaml_compat;
mod yaml_differential;

/// Every `tests/*.rs` file is a module of the suite: with `autotests = false` in
/// Cargo.toml, a file left out of the list above would never run.
#[test]
#[allow(clippy::unwrap_used)]
fn every_test_file_is_a_module_of_the_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let suite = std::fs::read_to_string(dir.join("suite.rs")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            name.strip_suffix(".rs")
                .filter(|stem| *stem != "suite")
                .map(str::to_owned)
        })
        .collect();
    files.sort();
    assert!(files.len() > 40, "only {} test files found", files.len());
    let missing: Vec<&String> = files
        .iter()
        .filter(|stem| !suite.lines().any(|l| l == format!("mod {stem};")))
        .collect();
    assert!(
        missing.is_empty(),
        "tests/suite.rs does not declare these test files: {missing:?}"
    );
}
