//! The mapping of the bundled rules to the checks of five peer scanners (Checkov, kube-linter,
//! Kubescape, Polaris, Trivy).
//!
//! Inputs: the peer catalog (`tests/data/peer-checks/checks.json`, a copy of
//! `../shared/peer-checks/checks.json`), the `refs` of the bundled rules (a rule names a peer
//! check when a user who ran that check would expect the rule to give the same answer), and the
//! hand-written decisions in `docs/rules/peer-mapping.yaml` (the deliberate differences of
//! mapped checks, and why each unmapped check is not covered). Output: the generated page
//! `docs/rules/peer-mapping.md`.
//!
//! The test fails, with a list of what to fix, when a Kubernetes-manifest check is neither
//! mapped nor listed as not covered, when it is both, when a ref or a listed check is not in
//! the catalog, when a decision is stale, when a Polaris check whose labelled fixtures disagree
//! with kanon (`docs/rules/polaris-differences.md`) has no stated difference, and when the page
//! or the catalog copy is stale. `KANON_REGENERATE=1 cargo test --test suite peer_mapping::` rewrites
//! the page (and refreshes the catalog copy from `../shared` when it is there).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::engine::{ScanOptions, compile_rules};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CATALOG: &str = "tests/data/peer-checks/checks.json";
const SHARED_CATALOG: &str = "../shared/peer-checks/checks.json";
const DECISIONS: &str = "docs/rules/peer-mapping.yaml";
const PAGE: &str = "docs/rules/peer-mapping.md";
const REGENERATE: &str = "KANON_REGENERATE=1 cargo test --test suite peer_mapping::";
/// Peers with labelled fixtures in `../shared/corpus/labelled/<peer>/index.json`, and the page
/// where a test compares kanon's verdicts with them file by file.
const LABELLED: &[(&str, &str)] = &[("polaris", "docs/rules/polaris-differences.md")];

/// Reasons a check is not covered, in the order of the summary table. `pending` is written
/// `pending: <the rule being written>`.
const REASONS: &[(&str, &str)] = &[
    ("pending", "a rule being written will answer it"),
    ("no-rule", "a security question kanon has no rule for yet"),
    (
        "not-security",
        "reliability, scheduling, hygiene or style, not an OWASP Kubernetes risk",
    ),
    (
        "inventory",
        "lists objects for a person to review; no failing condition to agree on",
    ),
    (
        "removed",
        "judges a Kubernetes feature that has been removed",
    ),
    (
        "other-product",
        "judges the objects of another product (OpenShift, Gatekeeper, ...)",
    ),
    ("deprecated", "deprecated by the peer itself"),
];

const PEERS: &[(&str, &str)] = &[
    ("checkov", "Checkov"),
    ("kube-linter", "kube-linter"),
    ("kubescape", "Kubescape"),
    ("polaris", "Polaris"),
    ("trivy", "Trivy"),
];

#[derive(Debug, Clone, Deserialize)]
struct Check {
    peer: String,
    id: String,
    title: String,
    domain: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
}

/// The catalog, with every id and alias resolved to its check.
struct Catalog {
    checks: Vec<Check>,
    names: BTreeMap<String, usize>,
}

impl Catalog {
    fn parse(text: &str) -> Catalog {
        let checks: Vec<Check> = serde_json::from_str(text).unwrap();
        let mut names = BTreeMap::new();
        for (i, c) in checks.iter().enumerate() {
            names.insert(c.id.clone(), i);
        }
        for (i, c) in checks.iter().enumerate() {
            for a in c.aliases.iter().flatten() {
                names.entry(a.clone()).or_insert(i);
            }
        }
        Catalog { checks, names }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decisions {
    #[serde(default)]
    differences: BTreeMap<String, String>,
    #[serde(default)]
    not_covered: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    reason: String,
    why: String,
    checks: Vec<String>,
}

impl Group {
    /// The reason category (`pending` for `pending: <rule>`).
    fn category(&self) -> &str {
        match self.reason.split_once(':') {
            Some((c, _)) => c.trim(),
            None => self.reason.trim(),
        }
    }
}

/// A bundled rule, as far as the mapping is concerned.
struct RuleRefs {
    id: String,
    refs: Vec<String>,
}

/// What the inputs say about each catalog check, and what is wrong with them.
#[derive(Default)]
struct Mapping {
    /// Check index -> the rules that name it.
    rules: BTreeMap<usize, BTreeSet<String>>,
    /// Check index -> index of the `not_covered` group that lists it.
    listed: BTreeMap<usize, usize>,
    /// Check index -> the stated difference.
    differences: BTreeMap<usize, String>,
    problems: Vec<String>,
}

fn analyse(catalog: &Catalog, rules: &[RuleRefs], decisions: &Decisions) -> Mapping {
    let mut m = Mapping::default();
    for rule in rules {
        for r in &rule.refs {
            match catalog.find(r) {
                Some(i) => {
                    m.rules.entry(i).or_default().insert(rule.id.clone());
                }
                None => m.problems.push(format!(
                    "{} names `{r}` in refs, which is not in the peer catalog ({CATALOG}): \
                     fix the id or remove it",
                    rule.id
                )),
            }
        }
    }
    for (g, group) in decisions.not_covered.iter().enumerate() {
        let category = group.category();
        if !REASONS.iter().any(|(r, _)| *r == category) {
            m.problems.push(format!(
                "{DECISIONS}: reason `{}` is not one of {}",
                group.reason,
                REASONS
                    .iter()
                    .map(|(r, _)| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if category == "pending"
            && group
                .reason
                .split_once(':')
                .is_none_or(|(_, rule)| rule.trim().is_empty())
        {
            m.problems.push(format!(
                "{DECISIONS}: `{}` must name the rule being written (`pending: <rule>`)",
                group.reason
            ));
        }
        if group.why.trim().is_empty() {
            m.problems.push(format!(
                "{DECISIONS}: the group `{}` listing {} gives no reason in `why`",
                group.reason,
                group.checks.first().map_or("nothing", String::as_str)
            ));
        }
        for name in &group.checks {
            let Some(i) = catalog.find(name) else {
                m.problems.push(format!(
                    "{DECISIONS} lists `{name}` ({}), which is not in the peer catalog: \
                     the check no longer exists or the id is misspelt",
                    group.reason
                ));
                continue;
            };
            let check = &catalog.checks[i];
            if check.domain != "manifest" {
                m.problems.push(format!(
                    "{DECISIONS} lists `{name}`, a `{}` check: only `manifest` checks need a \
                     decision, remove it",
                    check.domain
                ));
            }
            if let Some(prev) = m.listed.insert(i, g) {
                m.problems.push(format!(
                    "{DECISIONS} lists `{name}` twice (`{}` and `{}`)",
                    decisions.not_covered[prev].reason, group.reason
                ));
            }
            if let Some(rules) = m.rules.get(&i) {
                m.problems.push(format!(
                    "`{name}` is named in the refs of {} and listed as not covered ({}) in \
                     {DECISIONS}: keep one",
                    join(rules),
                    group.reason
                ));
            }
        }
    }
    for (name, text) in &decisions.differences {
        let Some(i) = catalog.find(name) else {
            m.problems.push(format!(
                "{DECISIONS} gives a difference for `{name}`, which is not in the peer catalog"
            ));
            continue;
        };
        if !m.rules.contains_key(&i) {
            m.problems.push(format!(
                "{DECISIONS} gives a difference for `{name}`, which no rule names in refs: \
                 remove it, or add the check to the refs of the rule it describes"
            ));
        }
        if text.trim().is_empty() {
            m.problems
                .push(format!("{DECISIONS}: the difference for `{name}` is empty"));
        }
        if m.differences.insert(i, text.trim().to_string()).is_some() {
            m.problems.push(format!(
                "{DECISIONS} gives two differences for `{}` (by id and by alias)",
                catalog.checks[i].id
            ));
        }
    }
    for (i, c) in catalog.checks.iter().enumerate() {
        if c.domain == "manifest" && !m.rules.contains_key(&i) && !m.listed.contains_key(&i) {
            m.problems.push(format!(
                "`{}` ({}: {}) is neither named in any rule's refs nor listed as not covered \
                 in {DECISIONS}",
                c.id,
                c.peer,
                one_line(&c.title)
            ));
        }
    }
    m
}

/// Polaris checks (or another labelled peer's) whose fixtures disagree with kanon, with the
/// number of fixture files, from the first column of the differences page's table.
fn checks_with_listed_disagreements(page: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for check in page
        .lines()
        .filter_map(|l| l.trim().strip_prefix('|'))
        .filter_map(|l| l.split('|').next())
        .map(|c| c.trim().trim_matches('`').to_string())
        .filter(|c| !c.is_empty() && c != "check" && !c.starts_with("---"))
    {
        *out.entry(check).or_default() += 1;
    }
    out
}

/// Check index -> (fixture files that disagree, the page that lists them), for every labelled
/// peer's differences page.
fn labelled_disagreements(catalog: &Catalog) -> BTreeMap<usize, (usize, &'static str)> {
    let mut out = BTreeMap::new();
    for (_, page) in LABELLED {
        let text = std::fs::read_to_string(root().join(page)).unwrap_or_default();
        for (check, files) in checks_with_listed_disagreements(&text) {
            if let Some(i) = catalog.find(&check) {
                out.insert(i, (files, *page));
            }
        }
    }
    out
}

/// A labelled peer's disagreements must be explained as differences of the mapped checks.
fn labelled_problems(
    catalog: &Catalog,
    m: &Mapping,
    peer: &str,
    differences_page: &str,
    labelled_ids: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let (_, page_path) = LABELLED.iter().find(|(p, _)| *p == peer).unwrap();
    let mut out = Vec::new();
    for check in checks_with_listed_disagreements(differences_page).into_keys() {
        match catalog.find(&check) {
            None => out.push(format!(
                "{page_path} lists disagreements for `{check}`, which is not in the peer catalog"
            )),
            Some(i) if m.rules.contains_key(&i) && !m.differences.contains_key(&i) => {
                out.push(format!(
                    "{page_path} lists fixtures where {peer}'s `{check}` and {} disagree: state \
                     the difference in one sentence under `differences` in {DECISIONS}",
                    join(&m.rules[&i])
                ));
            }
            Some(_) => {}
        }
    }
    // Fixtures of the peer's own configuration (`custom:...`, `...(webhook)`) test no
    // built-in check.
    let built_in = |id: &str| !id.contains(':') && !id.contains('(');
    for id in labelled_ids.into_iter().flatten() {
        if built_in(id) && catalog.find(id).is_none() {
            out.push(format!(
                "the labelled {peer} corpus has fixtures for `{id}`, which is not in the peer \
                 catalog"
            ));
        }
    }
    out
}

/// A check's id with its short aliases, the names users see in the peer's output and may
/// write in `refs` (Trivy: `KSV-0017` is also `KSV017`).
fn shown_id(c: &Check) -> String {
    let mut out = format!("`{}`", c.id);
    let short: Vec<String> = c
        .aliases
        .iter()
        .flatten()
        .filter(|a| !a.starts_with("AVD-") && **a != c.id)
        .map(|a| format!("`{a}`"))
        .collect();
    if !short.is_empty() {
        let _ = write!(out, " ({})", short.join(", "));
    }
    out
}

fn join(items: &BTreeSet<String>) -> String {
    items.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// The generated page.
fn render(
    catalog: &Catalog,
    m: &Mapping,
    decisions: &Decisions,
    disagreements: &BTreeMap<usize, (usize, &str)>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Peer checks and kanon rules");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "<!-- Generated by tests/peer_mapping.rs from the refs of the bundled rules, {CATALOG} \
         and {DECISIONS}; do not edit. Regenerate with: {REGENERATE} -->"
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Every Kubernetes-manifest check of Checkov, kube-linter, Kubescape, Polaris and Trivy \
         (the peer catalog, `{CATALOG}`), with the kanon rules that answer the same question or \
         the reason none does. A rule names a peer check in its `refs` when a user who ran that \
         check would expect the rule to give the same answer; where kanon deliberately answers \
         differently, the difference is stated in a sentence. The reasons and differences are \
         written in [`peer-mapping.yaml`](peer-mapping.yaml); `cargo test --test suite peer_mapping::` \
         fails when a check is neither mapped nor listed, when it is both, or when this page is \
         stale. Polaris' own fixtures are compared file by file in \
         [Differences from Polaris](polaris-differences.md)."
    );
    let _ = writeln!(s);

    // Summary.
    let _ = writeln!(s, "## Summary");
    let _ = writeln!(s);
    let mut header = String::from("| peer | manifest checks | mapped | of which differ |");
    let mut rule = String::from("|---|---:|---:|---:|");
    for (r, _) in REASONS {
        let _ = write!(header, " {r} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{header}");
    let _ = writeln!(s, "{rule}");
    let mut totals = vec![0usize; REASONS.len() + 3];
    for (peer, name) in PEERS {
        let mut row = vec![0usize; REASONS.len() + 3];
        for (i, c) in catalog.checks.iter().enumerate() {
            if c.peer != *peer || c.domain != "manifest" {
                continue;
            }
            row[0] += 1;
            if m.rules.contains_key(&i) {
                row[1] += 1;
                row[2] += usize::from(m.differences.contains_key(&i));
            } else if let Some(g) = m.listed.get(&i) {
                let cat = decisions.not_covered[*g].category();
                if let Some(k) = REASONS.iter().position(|(r, _)| *r == cat) {
                    row[k + 3] += 1;
                }
            }
        }
        for (t, v) in totals.iter_mut().zip(&row) {
            *t += v;
        }
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
    }
    let cells: Vec<String> = totals.iter().map(|v| format!("**{v}**")).collect();
    let _ = writeln!(s, "| **all** | {} |", cells.join(" | "));
    let _ = writeln!(s);
    let _ = writeln!(s, "Reasons a check is not covered:");
    let _ = writeln!(s);
    for (r, what) in REASONS {
        let _ = writeln!(s, "- `{r}`: {what}.");
    }
    let _ = writeln!(s);
    let mut pending: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in &decisions.not_covered {
        if g.category() == "pending" {
            pending
                .entry(g.reason.as_str())
                .or_default()
                .extend(g.checks.iter().map(String::as_str));
        }
    }
    if !pending.is_empty() {
        let _ = writeln!(
            s,
            "Checks waiting for a rule being written (switch them to the rule's `refs` once it \
             is merged):"
        );
        let _ = writeln!(s);
        for (reason, checks) in &pending {
            let rule = reason.split_once(':').map_or("", |(_, r)| r.trim());
            let ids: Vec<String> = checks.iter().map(|c| format!("`{c}`")).collect();
            let _ = writeln!(s, "- {rule}: {}", ids.join(", "));
        }
        let _ = writeln!(s);
    }

    // One table per peer.
    for (peer, name) in PEERS {
        let _ = writeln!(s, "## {name}");
        let _ = writeln!(s);
        let _ = writeln!(s, "| check | title | kanon | difference or reason |");
        let _ = writeln!(s, "|---|---|---|---|");
        for (i, c) in catalog.checks.iter().enumerate() {
            if c.peer != *peer || c.domain != "manifest" {
                continue;
            }
            let (kanon, note) = if let Some(rules) = m.rules.get(&i) {
                let links: Vec<String> = rules.iter().map(|r| format!("[{r}]({r}.md)")).collect();
                let mut note = m.differences.get(&i).map_or(String::new(), |d| cell(d));
                if let Some((files, page)) = disagreements.get(&i) {
                    let name = Path::new(page)
                        .file_name()
                        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                    let files = if *files == 1 {
                        "1 labelled fixture file disagrees".to_string()
                    } else {
                        format!("{files} labelled fixture files disagree")
                    };
                    let _ = write!(note, " ({files}: [{name}]({name}))");
                }
                (links.join(", "), note.trim().to_string())
            } else if let Some(g) = m.listed.get(&i) {
                let group = &decisions.not_covered[*g];
                (
                    format!("not covered ({})", cell(&group.reason)),
                    cell(&group.why),
                )
            } else {
                ("**undecided**".to_string(), String::new())
            };
            let _ = writeln!(
                s,
                "| {} | {} | {kanon} | {note} |",
                shown_id(c),
                cell(&c.title)
            );
        }
        let _ = writeln!(s);
    }

    // Refs to checks that need more than manifests.
    let outside: Vec<usize> = m
        .rules
        .keys()
        .copied()
        .filter(|i| catalog.checks[*i].domain != "manifest")
        .collect();
    if !outside.is_empty() {
        let _ = writeln!(s, "## Mapped checks outside the manifest domain");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "These peer checks read node or cluster data; kanon answers the same question from \
             objects in its input."
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "| check | peer | domain | title | kanon | difference |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for i in outside {
            let c = &catalog.checks[i];
            let links: Vec<String> = m.rules[&i]
                .iter()
                .map(|r| format!("[{r}]({r}.md)"))
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | {} |",
                c.id,
                c.peer,
                c.domain,
                cell(&c.title),
                links.join(", "),
                m.differences.get(&i).map_or(String::new(), |d| cell(d))
            );
        }
        let _ = writeln!(s);
    }
    s
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bundled_rules() -> Vec<RuleRefs> {
    let mut sources = SourceMap::new();
    let opts = ScanOptions {
        bundled: true,
        ..ScanOptions::default()
    };
    let compiled = compile_rules(&opts, &mut sources).unwrap();
    let mut rules: Vec<RuleRefs> = compiled
        .program
        .rules
        .iter()
        .map(|r| RuleRefs {
            id: r.id.clone(),
            refs: r.refs.clone(),
        })
        .collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules
}

fn decisions(text: &str) -> Decisions {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{DECISIONS}: {e}"))
}

/// The check ids of a labelled corpus, when it is checked out.
fn labelled_ids(peer: &str) -> Option<BTreeSet<String>> {
    let index = root()
        .join("../shared/corpus/labelled")
        .join(peer)
        .join("index.json");
    let text = std::fs::read_to_string(index).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(
        json["entries"]
            .as_array()?
            .iter()
            .filter_map(|e| e["check_id"].as_str().map(str::to_string))
            .collect(),
    )
}

#[test]
fn peer_mapping_is_complete_and_current() {
    let regenerate = std::env::var_os("KANON_REGENERATE").is_some_and(|v| v == "1");
    let mut problems = Vec::new();

    // The repository copy of the catalog follows ../shared when that is checked out.
    let shared = std::fs::read_to_string(root().join(SHARED_CATALOG)).ok();
    let mut catalog_text = read(CATALOG);
    if let Some(shared) = shared
        && shared != catalog_text
    {
        if regenerate {
            std::fs::write(root().join(CATALOG), &shared).unwrap();
            eprintln!("wrote {CATALOG}");
            catalog_text = shared;
        } else {
            problems.push(format!(
                "{CATALOG} differs from {SHARED_CATALOG}: refresh it with {REGENERATE}"
            ));
        }
    }
    let catalog = Catalog::parse(&catalog_text);
    let decisions = decisions(&read(DECISIONS));
    let mapping = analyse(&catalog, &bundled_rules(), &decisions);
    problems.extend(mapping.problems.iter().cloned());
    for (peer, page) in LABELLED {
        let text = std::fs::read_to_string(root().join(page)).unwrap_or_default();
        problems.extend(labelled_problems(
            &catalog,
            &mapping,
            peer,
            &text,
            labelled_ids(peer).as_ref(),
        ));
    }

    let page = render(
        &catalog,
        &mapping,
        &decisions,
        &labelled_disagreements(&catalog),
    );
    let path = root().join(PAGE);
    let have = std::fs::read_to_string(&path).ok();
    if have.as_deref() != Some(page.as_str()) {
        if regenerate {
            std::fs::write(&path, &page).unwrap();
            eprintln!("wrote {PAGE}");
        } else {
            let line = have.as_deref().map_or(1, |have| {
                have.lines()
                    .zip(page.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| have.lines().count().min(page.lines().count()))
                    + 1
            });
            problems.push(format!(
                "{PAGE} is stale (first difference at line {line}): regenerate it with {REGENERATE}"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "the peer mapping has {} problem(s); fix the `refs` of the rules or {DECISIONS}, then \
         regenerate the page with {REGENERATE}:\n\n{}\n",
        problems.len(),
        problems
            .iter()
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn page_is_deterministic() {
    let catalog = Catalog::parse(&read(CATALOG));
    let decisions = decisions(&read(DECISIONS));
    let a = render(
        &catalog,
        &analyse(&catalog, &bundled_rules(), &decisions),
        &decisions,
        &labelled_disagreements(&catalog),
    );
    let b = render(
        &catalog,
        &analyse(&catalog, &bundled_rules(), &decisions),
        &decisions,
        &labelled_disagreements(&catalog),
    );
    assert_eq!(a, b);
}

fn tiny_catalog() -> Catalog {
    Catalog::parse(
        r#"[
{"peer": "checkov", "id": "CKV_K8S_1", "title": "one", "domain": "manifest"},
{"peer": "checkov", "id": "CKV_K8S_2", "title": "two | pipes", "domain": "manifest"},
{"peer": "kubescape", "id": "C-0001", "title": "node", "domain": "host"},
{"peer": "trivy", "id": "KSV-0017", "title": "privileged", "domain": "manifest", "aliases": ["AVD-KSV-0017", "KSV017"]}
]"#,
    )
}

fn rule(id: &str, refs: &[&str]) -> RuleRefs {
    RuleRefs {
        id: id.to_string(),
        refs: refs.iter().map(|r| (*r).to_string()).collect(),
    }
}

#[test]
fn a_complete_mapping_has_no_problems() {
    let catalog = tiny_catalog();
    let d = decisions(
        "differences:\n  KSV017: stricter.\nnot_covered:\n  - reason: \"pending: new rule\"\n    why: soon.\n    checks: [CKV_K8S_2]\n",
    );
    let m = analyse(
        &catalog,
        &[
            rule("K01-001", &["CKV_K8S_1", "KSV017"]),
            rule("K09-001", &["C-0001"]),
        ],
        &d,
    );
    assert_eq!(m.problems, Vec::<String>::new());
    let catalog_index = catalog.find("KSV017").unwrap();
    let page = render(
        &catalog,
        &m,
        &d,
        &[(catalog_index, (2, "docs/rules/x-differences.md"))].into(),
    );
    assert!(page.contains(
        "| `KSV-0017` (`KSV017`) | privileged | [K01-001](K01-001.md) | stricter. (2 labelled fixture files disagree: [x-differences.md](x-differences.md)) |"
    ));
    assert!(
        page.contains("| `CKV_K8S_2` | two \\| pipes | not covered (pending: new rule) | soon. |")
    );
    assert!(page.contains("| Checkov | 2 | 1 | 0 | 1 |"));
    assert!(page.contains("| Trivy | 1 | 1 | 1 | 0 |"));
    assert!(page.contains("- new rule: `CKV_K8S_2`"));
    assert!(page.contains("| `C-0001` | kubescape | host |"));
}

#[test]
fn every_kind_of_problem_is_reported() {
    let catalog = tiny_catalog();
    let d = decisions(
        "differences:\n  CKV_K8S_2: not mapped.\n  KSV999: gone.\nnot_covered:\n  - reason: pending\n    why: \"\"\n    checks: [KSV-0017, C-0001, CKV_K8S_404]\n  - reason: because\n    why: x\n    checks: [KSV017]\n",
    );
    let m = analyse(&catalog, &[rule("K01-001", &["KSV017", "KSV029"])], &d);
    let want = [
        "K01-001 names `KSV029` in refs, which is not in the peer catalog",
        "`pending` must name the rule being written",
        "gives no reason in `why`",
        "`KSV-0017` is named in the refs of K01-001 and listed as not covered",
        "lists `C-0001`, a `host` check",
        "lists `CKV_K8S_404` (pending), which is not in the peer catalog",
        "reason `because` is not one of",
        "lists `KSV017` twice",
        "`KSV017` is named in the refs of K01-001 and listed as not covered (because)",
        "a difference for `CKV_K8S_2`, which no rule names in refs",
        "a difference for `KSV999`, which is not in the peer catalog",
        "`CKV_K8S_1` (checkov: one) is neither named in any rule's refs nor listed",
        "`CKV_K8S_2` (checkov: two | pipes) is neither named",
    ];
    for w in want {
        assert!(
            m.problems.iter().any(|p| p.contains(w)),
            "no problem says {w:?}; got:\n{}",
            m.problems.join("\n")
        );
    }
    assert_eq!(m.problems.len(), want.len(), "{}", m.problems.join("\n"));
}

#[test]
fn labelled_disagreements_need_a_stated_difference() {
    let catalog = tiny_catalog();
    let page = "| check | fixture file | Polaris says | kanon says | why |\n|---|---|---|---|---|\n| `CKV_K8S_1` | `f.yaml` | pass | fail | because |\n| `KSV017` | `g.yaml` | fail | pass | because |\n| `gone` | `h.yaml` | fail | pass | x |\n";
    let d = decisions("differences:\n  KSV017: stated.\n");
    let m = analyse(&catalog, &[rule("K01-001", &["CKV_K8S_1", "KSV017"])], &d);
    let ids: BTreeSet<String> = [
        "CKV_K8S_1",
        "renamed",
        "custom:nakedPod",
        "default(webhook)",
    ]
    .map(String::from)
    .into();
    let p = labelled_problems(&catalog, &m, "polaris", page, Some(&ids));
    assert_eq!(p.len(), 3, "{}", p.join("\n"));
    for w in [
        "`gone`, which is not in the peer catalog",
        "polaris's `CKV_K8S_1` and K01-001 disagree",
        "fixtures for `renamed`",
    ] {
        assert!(p.iter().any(|x| x.contains(w)), "{w:?} not in {p:?}");
    }
}

#[test]
fn the_catalog_copy_is_valid() {
    let catalog = Catalog::parse(&read(CATALOG));
    assert!(catalog.checks.len() > 500, "the catalog looks truncated");
    let peers: BTreeSet<&str> = catalog.checks.iter().map(|c| c.peer.as_str()).collect();
    let known: BTreeSet<&str> = PEERS.iter().map(|(p, _)| *p).collect();
    assert_eq!(peers, known);
    let ids: BTreeSet<&str> = catalog.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), catalog.checks.len(), "duplicate check ids");
    assert!(Path::new(&root().join(CATALOG)).is_file());
}

/// Refs that were wrong before the mapping was checked against the peers' documented
/// behaviour, and where they belong.
#[test]
fn corrected_refs_stay_corrected() {
    let rules = bundled_rules();
    let refs_of = |id: &str| -> Vec<String> {
        rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.refs.clone())
            .unwrap_or_else(|| panic!("no bundled rule {id}"))
    };
    let on = |id: &str, check: &str| refs_of(id).iter().any(|r| r == check);
    // C-0014 asks which subjects are bound to the dashboard's roles, not whether the
    // dashboard is exposed or skips login.
    assert!(!on("K09-010", "C-0014") && !on("K09-011", "C-0014"));
    // Kubescape's "audit logs enabled" reads `--audit-policy-file`.
    assert!(on("K05-003", "C-0067") && !on("K05-001", "C-0067"));
    // An untagged or `latest` image has no digest either.
    assert!(on("K02-001", "CKV_K8S_43") && on("K02-002", "CKV_K8S_43"));
    // C-0259 reads literal values of variables with secret names and skips `valueFrom`
    // references (K08-004's), but fails a whole Secret imported with `envFrom.secretRef`
    // (its rego and its own fixtures), which is K08-005's question.
    assert!(on("K08-002", "C-0259") && on("K08-005", "C-0259") && !on("K08-004", "C-0259"));
    // kube-linter's run-as-non-root also fails the root group.
    assert!(on("K01-003", "run-as-non-root") && on("K01-005", "run-as-non-root"));
    // KSV029 was renamed KSV116 (root primary or supplementary GID).
    assert!(on("K01-005", "KSV116") && !on("K01-005", "KSV029"));
    // C-0185 lists cluster-admin bindings; it says nothing about workload tokens.
    assert!(on("K03-001", "C-0185") && !on("K03-008", "C-0185") && !on("K03-009", "C-0185"));
    // C-0260 is per workload; the namespace default-deny rules answer another question.
    assert!(on("K07-001", "C-0260") && !on("K07-002", "C-0260") && !on("K07-003", "C-0260"));
    // Polaris' linuxHardening asks whether any hardening is configured; no rule answers that.
    for id in ["K01-019", "K01-020", "K01-021"] {
        assert!(!on(id, "linuxHardening"), "{id} names linuxHardening");
    }
}
