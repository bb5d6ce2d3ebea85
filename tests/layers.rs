//! The layers of docs/architecture.md hold: `report` renders and runs nothing, the model
//! knows nothing of rules, the graph nothing of output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// Every `crate::<module>` a source tree refers to, with the file that does.
fn uses(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (i, _) in text.match_indices("crate::") {
                let module: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push((p.display().to_string(), module));
            }
        }
    }
    out
}

fn assert_no_use(dir: &str, forbidden: &[&str]) {
    let bad: Vec<_> = uses(dir)
        .into_iter()
        .filter(|(_, m)| forbidden.contains(&m.as_str()))
        .collect();
    assert!(bad.is_empty(), "`{dir}` reaches a later stage: {bad:?}");
}

#[test]
fn report_only_renders() {
    assert_no_use(
        "report",
        &[
            "engine",
            "harness",
            "graph",
            "plan",
            "cli",
            "rule_docs",
            "bundled",
        ],
    );
}

#[test]
fn the_model_knows_nothing_of_rules_and_the_graph_nothing_of_output() {
    assert_no_use(
        "model",
        &[
            "check", "syntax", "plan", "eval", "graph", "report", "engine",
        ],
    );
    assert_no_use(
        "graph",
        &["check", "syntax", "plan", "eval", "report", "engine", "cli"],
    );
}

#[test]
fn rendering_knows_nothing_of_rules_the_graph_or_the_model() {
    // the model calls `render` (to expand charts and overlays), so `render` must not call
    // back into the model
    assert_no_use(
        "render",
        &[
            "check", "syntax", "plan", "eval", "graph", "report", "engine", "model", "cli",
        ],
    );
}

#[test]
fn the_check_finds_a_forbidden_use() {
    // the scan is not vacuous: `cli` does use the engine
    assert!(uses("cli").iter().any(|(_, m)| m == "engine"));
}

#[test]
fn fix_edits_text_knowing_only_the_model() {
    // `fix::edit` is text in, text out; `fix::apply` works on findings, above `eval`
    let allowed = ["model", "diag", "fix"];
    let bad: Vec<_> = uses("fix")
        .into_iter()
        .filter(|(f, _)| f.ends_with("edit.rs"))
        .filter(|(_, m)| !allowed.contains(&m.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "`fix::edit` reaches beyond the model: {bad:?}"
    );
    assert!(
        uses("fix")
            .iter()
            .any(|(f, m)| f.ends_with("edit.rs") && m == "model")
    );
    // applying fixes never renders output
    let bad: Vec<_> = uses("fix")
        .into_iter()
        .filter(|(_, m)| m == "report" || m == "cli")
        .collect();
    assert!(
        bad.is_empty(),
        "`fix` reaches the report or the command line: {bad:?}"
    );
}
