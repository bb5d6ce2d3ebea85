//! Generated documentation: one markdown page per rule (`docs/rules/<ID>.md`) and an index
//! by OWASP Kubernetes Top 10 category (`docs/rules/README.md`).
//!
//! `tests/rule_docs.rs` compares the pages with the files in `docs/rules/` and rewrites them
//! with `KANON_REGENERATE=1 cargo test --test rule_docs`. The output depends only on the
//! program, the rule files and their fixtures, so it is byte-for-byte reproducible.

use crate::check::ir::{Program, Rule};
use crate::diag::SourceMap;
use crate::engine::{run_program, select_rules};
use crate::graph::{Graph, GraphOptions};
use crate::harness::fixtures_of;
use crate::harness::markers::{self, MarkerKind};
use crate::model::{Limits, Loader};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The folder the pages live in, relative to the repository root.
pub const DIR: &str = "docs/rules";

/// The command that regenerates the pages.
pub const REGENERATE: &str = "KANON_REGENERATE=1 cargo test --test rule_docs";

/// Hand-written pages in [`DIR`] that the generator links to and leaves alone.
pub const HAND_WRITTEN: &[&str] = &["polaris-differences.md", "corpus-review.md"];

/// OWASP Kubernetes Top 10 2022 category names.
pub const OWASP_2022: &[(&str, &str)] = &[
    ("K01", "Insecure Workload Configurations"),
    ("K02", "Supply Chain Vulnerabilities"),
    ("K03", "Overly Permissive RBAC Configurations"),
    ("K04", "Lack of Centralized Policy Enforcement"),
    ("K05", "Inadequate Logging and Monitoring"),
    ("K06", "Broken Authentication Mechanisms"),
    ("K07", "Missing Network Segmentation Controls"),
    ("K08", "Secrets Management Failures"),
    ("K09", "Misconfigured Cluster Components"),
    ("K10", "Outdated and Vulnerable Kubernetes Components"),
];

/// OWASP Kubernetes Top 10 2025 category names (the edition was a draft when last checked).
pub const OWASP_2025: &[(&str, &str)] = &[
    ("K01", "Insecure Workload Configurations"),
    ("K02", "Overly Permissive Authorization Configurations"),
    ("K03", "Secrets Management Failures"),
    ("K04", "Lack of Cluster Level Policy Enforcement"),
    ("K05", "Missing Network Segmentation Controls"),
    ("K06", "Overly Exposed Kubernetes Components"),
    ("K07", "Misconfigured and Vulnerable Cluster Components"),
    ("K08", "Cluster to Cloud Lateral Movement"),
    ("K09", "Broken Authentication Mechanisms"),
    ("K10", "Inadequate Logging and Monitoring"),
];

/// The name of a category (`K01`) in an edition's table.
pub fn category_name(table: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The categories of a rule for one edition (`2022` or `2025`): the codes before `:year`.
pub fn categories(rule: &Rule, year: &str) -> Vec<String> {
    rule.owasp
        .iter()
        .filter_map(|o| o.split_once(':'))
        .filter(|(_, y)| *y == year)
        .map(|(c, _)| c.to_string())
        .collect()
}

/// The tool a peer id most likely belongs to, from its shape.
pub fn peer_tool(id: &str) -> &'static str {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if id.starts_with("CKV_K8S_") {
        "Checkov"
    } else if let Some(n) = id.strip_prefix("KSV").or_else(|| id.strip_prefix("KCV"))
        && digits(n)
    {
        "Trivy"
    } else if let Some(n) = id.strip_prefix("C-0")
        && digits(n)
    {
        "Kubescape"
    } else if id.contains('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        "kube-linter"
    } else if id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && id.chars().any(|c| c.is_ascii_uppercase())
    {
        "Polaris"
    } else {
        "other"
    }
}

const TOOLS: &[&str] = &[
    "Checkov",
    "Trivy",
    "Kubescape",
    "kube-linter",
    "Polaris",
    "other",
];

/// Renders every page, with fixtures looked up relative to the current directory.
pub fn pages(program: &Program, sources: &SourceMap) -> Vec<(String, String)> {
    pages_in(program, sources, Path::new("."))
}

/// Renders every page: `(path relative to the repository root, markdown)`, sorted by path.
/// Rule file names in `sources` are resolved against `root` to find their fixtures.
pub fn pages_in(program: &Program, sources: &SourceMap, root: &Path) -> Vec<(String, String)> {
    let mut rules: Vec<&Rule> = program.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<(String, String)> = rules
        .iter()
        .map(|r| {
            (
                format!("{DIR}/{}.md", r.id),
                rule_page(program, sources, root, r),
            )
        })
        .collect();
    out.push((format!("{DIR}/README.md"), index(&rules)));
    out.sort();
    out
}

fn rule_page(program: &Program, sources: &SourceMap, root: &Path, rule: &Rule) -> String {
    let mut s = String::new();
    let file = sources.name(rule.file).to_string();
    let _ = writeln!(
        s,
        "<!-- generated by `{REGENERATE}` from `{file}`: do not edit -->"
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "# {}: {}", rule.id, md_inline(&rule.title));
    let _ = writeln!(s);
    let _ = writeln!(s, "| | |");
    let _ = writeln!(s, "|---|---|");
    let _ = writeln!(s, "| id | `{}` |", rule.id);
    let _ = writeln!(s, "| name | `{}` |", rule.name);
    let _ = writeln!(s, "| severity | {} |", rule.severity);
    for (year, table) in [("2022", OWASP_2022), ("2025", OWASP_2025)] {
        let cats = categories(rule, year);
        let text = if cats.is_empty() {
            "none".to_string()
        } else {
            cats.iter()
                .map(|c| match category_name(table, c) {
                    Some(n) => format!("{c}:{year} {n}"),
                    None => format!("{c}:{year}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(s, "| OWASP {year} | {text} |");
    }
    if !rule.fix.is_empty() {
        let _ = writeln!(s, "| fix | {} |", md_cell(rule.fix.trim()));
    }
    if !rule.tags.is_empty() {
        let _ = writeln!(s, "| tags | {} |", rule.tags.join(", "));
    }
    let _ = writeln!(s, "| rule file | [`{file}`]({}) |", rel_link(&file));
    let fixtures = fixture_names(root, &file);
    if !fixtures.is_empty() {
        let links: Vec<String> = fixtures
            .iter()
            .map(|f| format!("[`{}`]({})", short(f, &file), rel_link(f)))
            .collect();
        let _ = writeln!(s, "| fixtures | {} |", links.join("<br>"));
    }
    let _ = writeln!(s);

    if !rule.refs.is_empty() {
        let _ = writeln!(s, "## Peer checks");
        let _ = writeln!(s);
        let mut by_tool: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for r in &rule.refs {
            let tool = peer_tool(r);
            let rank = TOOLS.iter().position(|t| *t == tool).unwrap_or(TOOLS.len());
            by_tool.entry(rank).or_default().push(r);
        }
        for (rank, ids) in by_tool {
            let tool = TOOLS.get(rank).copied().unwrap_or("other");
            let ids: Vec<String> = ids.iter().map(|i| format!("`{i}`")).collect();
            let _ = writeln!(s, "- {tool}: {}", ids.join(", "));
        }
        let _ = writeln!(s);
    }

    let docs = rule.docs.trim();
    if !docs.is_empty() {
        let _ = writeln!(s, "{docs}");
        let _ = writeln!(s);
    }
    if let Some(example) = example_finding(program, sources, root, rule, &fixtures) {
        let _ = writeln!(s, "## Example finding");
        let _ = writeln!(s);
        let _ = writeln!(s, "```text");
        let _ = writeln!(s, "{}", example.trim_end());
        let _ = writeln!(s, "```");
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Rule source");
    let _ = writeln!(s);
    let _ = writeln!(s, "```kanon");
    let _ = writeln!(s, "{}", rule_source(sources, rule).trim_end());
    let _ = writeln!(s, "```");
    s
}

/// The rule file without the rule's own doc comment (shown as prose above).
fn rule_source(sources: &SourceMap, rule: &Rule) -> String {
    let Some(f) = sources.file(rule.file) else {
        return String::new();
    };
    let start = rule.span.range().start;
    let (rule_line, _) = f.line_col(start);
    let lines: Vec<&str> = f.text.lines().collect();
    // the `rule` line itself: the span may start at the doc comment
    let mut head = rule_line.saturating_sub(1);
    while head < lines.len() && lines[head].trim_start().starts_with("///") {
        head += 1;
    }
    let mut doc_start = head;
    while doc_start > 0 && lines[doc_start - 1].trim_start().starts_with("///") {
        doc_start -= 1;
    }
    let mut kept: Vec<&str> = Vec::new();
    kept.extend(&lines[..doc_start]);
    kept.extend(&lines[head..]);
    let mut text = kept.join("\n");
    text = text.trim_start_matches('\n').to_string();
    text
}

/// Fixture paths of a rule file, `/`-separated and relative like the rule file's name.
fn fixture_names(root: &Path, file: &str) -> Vec<String> {
    let mut out: Vec<String> = fixtures_of(&root.join(file))
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    out.sort();
    out
}

/// The first finding of the rule on the first fixture with an `expect` marker for it.
fn example_finding(
    program: &Program,
    sources: &SourceMap,
    root: &Path,
    rule: &Rule,
    fixtures: &[String],
) -> Option<String> {
    let only = select_rules(program, |r| r.id == rule.id);
    for name in fixtures {
        let Ok(text) = std::fs::read_to_string(root.join(name)) else {
            continue;
        };
        let fx = markers::parse(&text);
        let Some(marker) = fx
            .markers
            .iter()
            .find(|m| m.kind == MarkerKind::Expect && m.rule == rule.id)
        else {
            continue;
        };
        let mut sources = sources.clone();
        let load = Loader::new(Limits::default()).load_text(name, text, &mut sources);
        if load.has_errors() {
            continue;
        }
        let graph = Graph::build(load, &GraphOptions::default());
        let (findings, errors) = run_program(&only, &graph, &sources);
        if !errors.is_empty() {
            continue;
        }
        let hit = findings
            .iter()
            .find(|f| f.location.line == marker.line)
            .or_else(|| findings.first())?;
        return Some(crate::report::text::render_plain(
            &sources,
            std::slice::from_ref(hit),
        ));
    }
    None
}

fn index(rules: &[&Rule]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<!-- generated by `{REGENERATE}`: do not edit -->");
    let _ = writeln!(s);
    let _ = writeln!(s, "# Bundled rules");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "The bundled OWASP Kubernetes Top 10 ruleset has {} rules, one page each, generated from \
         the rule files in `rulesets/owasp-k8s-top10/`. Regenerate the pages after changing a \
         rule with:",
        rules.len()
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "```sh");
    let _ = writeln!(s, "{REGENERATE}");
    let _ = writeln!(s, "```");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Without `KANON_REGENERATE`, that test fails when a page is stale or left over."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Also here, written by hand:");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "- [Differences from Polaris](polaris-differences.md): where kanon deliberately disagrees \
         with Polaris' own check fixtures (checked by `cargo test --test polaris_agreement`)."
    );
    let _ = writeln!(
        s,
        "- [Corpus review](corpus-review.md): findings on real-world manifests, reviewed rule by \
         rule."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Contents:");
    let _ = writeln!(s);
    let _ = writeln!(s, "- [By OWASP 2022 category](#by-owasp-2022-category)");
    let _ = writeln!(s, "- [By OWASP 2025 category](#by-owasp-2025-category)");
    let _ = writeln!(s);
    for (year, table) in [("2022", OWASP_2022), ("2025", OWASP_2025)] {
        let _ = writeln!(s, "## By OWASP {year} category");
        let _ = writeln!(s);
        let mut uncategorised: Vec<&Rule> = rules
            .iter()
            .copied()
            .filter(|r| categories(r, year).is_empty())
            .collect();
        for (code, name) in table {
            let _ = writeln!(s, "### {code}:{year} {name}");
            let _ = writeln!(s);
            let these: Vec<&Rule> = rules
                .iter()
                .copied()
                .filter(|r| categories(r, year).iter().any(|c| c == code))
                .collect();
            rule_table(&mut s, &these);
        }
        let unknown: Vec<&Rule> = rules
            .iter()
            .copied()
            .filter(|r| {
                categories(r, year)
                    .iter()
                    .any(|c| !table.iter().any(|(k, _)| k == c))
            })
            .collect();
        uncategorised.extend(unknown);
        if !uncategorised.is_empty() {
            let _ = writeln!(s, "### Other (no known {year} category)");
            let _ = writeln!(s);
            rule_table(&mut s, &uncategorised);
        }
    }
    s.trim_end().to_string() + "\n"
}

fn rule_table(s: &mut String, rules: &[&Rule]) {
    if rules.is_empty() {
        let _ = writeln!(s, "No bundled rule.");
        let _ = writeln!(s);
        return;
    }
    let _ = writeln!(s, "| id | name | severity | title |");
    let _ = writeln!(s, "|---|---|---|---|");
    for r in rules {
        let _ = writeln!(
            s,
            "| [{}]({}.md) | `{}` | {} | {} |",
            r.id,
            r.id,
            r.name,
            r.severity,
            md_cell(&r.title)
        );
    }
    let _ = writeln!(s);
}

/// A link from `docs/rules/` to a repository path.
fn rel_link(path: &str) -> String {
    format!("../../{path}")
}

/// A fixture path shown relative to its rule's folder.
fn short(fixture: &str, rule_file: &str) -> String {
    let dir = rule_file.rsplit_once('/').map_or("", |(d, _)| d);
    fixture
        .strip_prefix(dir)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(fixture)
        .to_string()
}

fn md_inline(s: &str) -> String {
    s.replace('\n', " ")
}

fn md_cell(s: &str) -> String {
    md_inline(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_tools_by_shape() {
        assert_eq!(peer_tool("CKV_K8S_16"), "Checkov");
        assert_eq!(peer_tool("KSV017"), "Trivy");
        assert_eq!(peer_tool("KCV0011"), "Trivy");
        assert_eq!(peer_tool("C-0057"), "Kubescape");
        assert_eq!(peer_tool("privileged-container"), "kube-linter");
        assert_eq!(peer_tool("runAsPrivileged"), "Polaris");
        assert_eq!(peer_tool("Something Else"), "other");
    }

    #[test]
    fn category_names() {
        assert_eq!(
            category_name(OWASP_2025, "K06"),
            Some("Overly Exposed Kubernetes Components")
        );
        assert_eq!(category_name(OWASP_2022, "K11"), None);
    }
}
