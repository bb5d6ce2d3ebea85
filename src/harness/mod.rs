//! `kanon test`: the rule test harness.
//!
//! A rule file `X.kanon` is tested by the fixtures beside it: `X.test.yaml` and every
//! `.yaml`/`.yml` file under a folder `X.tests/`. Fixtures are Kubernetes manifests with
//! marker comments:
//!
//! - `# expect: K01-001` (or `# expect: K01-001, K01-004`): a finding of each rule must be
//!   reported on the marker's line, or on the next non-comment line when the comment stands
//!   alone on its line;
//! - `# ok: K01-001`: the rule must report nothing inside the YAML document that holds the
//!   marker.
//!
//! Each fixture is loaded into a graph of its own and the rules of the file, plus every rule
//! named in a marker, run over it. A finding of a rule of the file on a line without a
//! matching `expect` marker fails the test, as does a missing finding, a rule without any
//! marker, and a rule that does not compile.

pub mod coverage;
mod fixes;
pub mod markers;
pub mod render;

use crate::check::fs::{RuleFile, RuleFs};
use crate::check::{Overrides, compile};
use crate::diag::{Diagnostic, SourceMap};
use crate::engine::{run_program, select_rules};
use crate::graph::{Graph, GraphOptions};
use crate::model::{Limits, Loader};
use crate::report::diagnostics::render_plain;
use coverage::Coverage;
use markers::{Fixture, MarkerKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How to run the harness.
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// Record condition coverage.
    pub coverage: bool,
}

/// Why a test failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// The rule, a file it imports or a rule a marker names does not compile.
    Compile,
    /// The rule has no fixture or no marker.
    NoCases,
    /// A fixture does not load or a marker is malformed.
    Fixture,
    /// An expected finding was not reported.
    Missing,
    /// A finding was reported that no marker expects.
    Unexpected,
    /// A rule's fix does not do what a fix must (see `harness::fixes`).
    Fix,
}

/// One failed expectation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Failure {
    /// The file (fixture or rule file).
    pub file: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// 1-based column of a finding (0: none).
    pub column: usize,
    /// What went wrong.
    pub kind: FailureKind,
    /// One-line summary.
    pub summary: String,
    /// What was expected (the `-` side).
    pub expected: Option<String>,
    /// What happened (the `+` side).
    pub found: Option<String>,
    /// The fixture line, when the failure is on one.
    pub snippet: Option<String>,
    /// Rendered diagnostics, for compile and load failures.
    pub diagnostics: Option<String>,
}

impl Failure {
    fn new(kind: FailureKind, file: &str, line: usize, summary: String) -> Failure {
        Failure {
            file: file.to_string(),
            line,
            column: 0,
            kind,
            summary,
            expected: None,
            found: None,
            snippet: None,
            diagnostics: None,
        }
    }
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleReport {
    /// Rule id (the file name when the file defines no rule it could parse).
    pub id: String,
    /// Rule name.
    pub name: String,
    /// The rule file.
    pub file: String,
    /// `expect` markers naming the rule.
    pub expected: usize,
    /// `ok` markers naming the rule.
    pub ok: usize,
    /// Failures, sorted.
    pub failures: Vec<Failure>,
    /// Condition coverage, with `--coverage` (rules that compiled).
    pub coverage: Option<Coverage>,
}

impl RuleReport {
    /// Whether the rule passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The outcome of a harness run, rules sorted by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per rule.
    pub rules: Vec<RuleReport>,
}

impl Report {
    /// Rules that passed.
    pub fn passed(&self) -> usize {
        self.rules.iter().filter(|r| r.passed()).count()
    }

    /// Rules that failed.
    pub fn failed(&self) -> usize {
        self.rules.len() - self.passed()
    }

    /// Whether every rule passed.
    pub fn is_ok(&self) -> bool {
        self.failed() == 0
    }
}

/// A rule id found by parsing a rule file.
#[derive(Clone, Debug)]
struct Known {
    name: String,
    file: RuleFile,
}

struct Run<'a> {
    fs: &'a RuleFs,
    known: BTreeMap<String, Known>,
    reports: BTreeMap<String, RuleReport>,
    /// Rules whose fixtures ran, with their file.
    tested: Vec<(String, String)>,
    opts: &'a TestOptions,
    /// The bundled ruleset, compiled on first use (fix checks run it before and after).
    bundled: std::cell::OnceCell<Option<crate::check::ir::Program>>,
    /// Rules under test that have a fix, with the number of findings it was checked on.
    fixes_checked: BTreeMap<String, usize>,
    /// Rules under test that have a fix: the kind of each action of the fix (`set`,
    /// `remove`, ...), and the actions that made an edit on some fixture.
    fix_actions: BTreeMap<String, (Vec<&'static str>, BTreeSet<usize>)>,
}

/// Runs the tests of every rule file under `paths` (files or directories).
pub fn run(paths: &[PathBuf], opts: &TestOptions) -> Result<Report, String> {
    let mut fs = RuleFs::new();
    let mut files: Vec<RuleFile> = Vec::new();
    for p in paths {
        files.extend(fs.add_disk_path(p)?);
    }
    files.sort();
    files.dedup();
    // every rule id under the paths, for markers that name rules of other files
    let mut known = BTreeMap::new();
    let mut ids_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let ids = rule_ids(&fs, f);
        for (id, name) in &ids {
            known.entry(id.clone()).or_insert_with(|| Known {
                name: name.clone(),
                file: f.clone(),
            });
        }
        ids_of.insert(
            f.display.clone(),
            ids.into_iter().map(|(id, _)| id).collect(),
        );
    }
    let mut run = Run {
        fs: &fs,
        known,
        reports: BTreeMap::new(),
        tested: Vec::new(),
        opts,
        bundled: std::cell::OnceCell::new(),
        fixes_checked: BTreeMap::new(),
        fix_actions: BTreeMap::new(),
    };
    for f in &files {
        let ids = ids_of.get(&f.display).cloned().unwrap_or_default();
        run.file(f, &ids);
    }
    // markers in any fixture count, so this waits until every file ran
    let fixes_checked = std::mem::take(&mut run.fixes_checked);
    let fix_actions = std::mem::take(&mut run.fix_actions);
    for (id, file) in std::mem::take(&mut run.tested) {
        let r = run.report(&id);
        if fixes_checked.get(&id) == Some(&0) && r.expected > 0 {
            r.failures.push(Failure::new(
                FailureKind::Fix,
                &file,
                0,
                format!("the fix of `{id}` is never tested: no finding a marker expects has it"),
            ));
        } else if let Some((kinds, seen)) = fix_actions.get(&id).filter(|_| r.expected > 0) {
            // every action of the fix must make an edit on some fixture, or a broken
            // action would pass unseen
            for (i, kind) in kinds.iter().enumerate() {
                if !seen.contains(&i) {
                    r.failures.push(Failure::new(
                        FailureKind::Fix,
                        &file,
                        0,
                        format!(
                            "action {} (`{kind}`) of the fix of `{id}` is never tested: it makes no edit on any finding a marker expects",
                            i + 1
                        ),
                    ));
                }
            }
        }
        if r.expected + r.ok == 0 {
            r.failures.push(Failure::new(
                FailureKind::NoCases,
                &file,
                0,
                format!("no test cases: no fixture has a `# expect: {id}` or `# ok: {id}` marker"),
            ));
        }
        if let Some(cov) = r.coverage.as_mut() {
            cov.positive = r.expected > 0;
            cov.negative = r.ok > 0;
        }
    }
    let mut rules: Vec<RuleReport> = run.reports.into_values().collect();
    for r in &mut rules {
        r.failures.sort();
        r.failures.dedup();
    }
    Ok(Report { rules })
}

/// The ids and names of the rules a file defines (parse only).
fn rule_ids(fs: &RuleFs, f: &RuleFile) -> Vec<(String, String)> {
    let Ok(text) = fs.read(f) else {
        return Vec::new();
    };
    let mut sources = SourceMap::new();
    let id = sources.add(f.display.clone(), text.clone());
    let (ast, _) = crate::syntax::parse(id, &text);
    ast.items
        .iter()
        .filter_map(|i| match i {
            crate::syntax::ast::Item::Rule(r) => Some((r.id.text.clone(), r.name.text.clone())),
            _ => None,
        })
        .collect()
}

/// The fixtures of a rule file on disk: `X.test.yaml` and `X.tests/**/*.y{a,}ml`, sorted.
pub fn fixtures_of(rule_path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let stem = rule_path.with_extension("");
    let single = PathBuf::from(format!("{}.test.yaml", stem.display()));
    if single.is_file() {
        out.push(single);
    }
    let dir = PathBuf::from(format!("{}.tests", stem.display()));
    if dir.is_dir() {
        let mut found = Vec::new();
        walk_yaml(&dir, &mut found, 0);
        found.sort();
        out.extend(found);
    }
    out
}

fn walk_yaml(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_yaml(&p, out, depth + 1);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// The display name of a path (`/`-separated, no leading `./`).
fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./")
        .map_or_else(|| s.clone(), str::to_string)
}

impl Run<'_> {
    fn report(&mut self, id: &str) -> &mut RuleReport {
        let (name, file) = self
            .known
            .get(id)
            .map(|k| (k.name.clone(), k.file.display.clone()))
            .unwrap_or_default();
        self.reports
            .entry(id.to_string())
            .or_insert_with(|| RuleReport {
                id: id.to_string(),
                name,
                file,
                expected: 0,
                ok: 0,
                failures: Vec::new(),
                coverage: None,
            })
    }

    /// Adds a failure to every rule of the file under test (or to the file itself).
    fn fail_all(&mut self, under_test: &[String], file: &RuleFile, failure: &Failure) {
        if under_test.is_empty() {
            let r = self.report(&file.display);
            r.file.clone_from(&file.display);
            r.failures.push(failure.clone());
        }
        for id in under_test {
            self.report(id).failures.push(failure.clone());
        }
    }

    fn file(&mut self, file: &RuleFile, under_test: &[String]) {
        let path = Path::new(&file.root).join(&file.rel);
        let fixture_paths = fixtures_of(&path);
        if fixture_paths.is_empty() {
            if under_test.is_empty() {
                // a library file (definitions, parameters) or one that does not parse:
                // `kanon check` reports the latter; nothing to test here
                return;
            }
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let f = Failure::new(
                FailureKind::NoCases,
                &file.display,
                0,
                format!(
                    "no test cases: add a fixture `{stem}.test.yaml` or a folder `{stem}.tests/` beside the rule file"
                ),
            );
            self.fail_all(under_test, file, &f);
            return;
        }
        // read and parse the fixtures
        let mut fixtures: Vec<(String, String, Fixture)> = Vec::new();
        for p in &fixture_paths {
            let name = display(p);
            match std::fs::read_to_string(p) {
                Ok(text) => {
                    let fx = markers::parse(&text);
                    fixtures.push((name, text, fx));
                }
                Err(e) => {
                    let f = Failure::new(
                        FailureKind::Fixture,
                        &name,
                        0,
                        format!("cannot read fixture `{name}`: {}", lower(&e.to_string())),
                    );
                    self.fail_all(under_test, file, &f);
                }
            }
        }
        // which rules run: the file's, plus every rule a marker names
        let mut named: BTreeSet<String> = BTreeSet::new();
        for (name, _, fx) in &fixtures {
            for (line, msg) in &fx.problems {
                let mut f = Failure::new(FailureKind::Fixture, name, *line, msg.clone());
                f.snippet = Some(fx.line(*line).to_string());
                self.fail_all(under_test, file, &f);
            }
            for m in &fx.markers {
                if self.known.contains_key(&m.rule) {
                    named.insert(m.rule.clone());
                } else {
                    let mut f = Failure::new(
                        FailureKind::Fixture,
                        name,
                        m.marker_line,
                        format!("marker names unknown rule `{}`", m.rule),
                    );
                    f.snippet = Some(fx.line(m.marker_line).to_string());
                    self.fail_all(under_test, file, &f);
                }
            }
        }
        let mut entry = vec![file.clone()];
        for id in &named {
            if let Some(k) = self.known.get(id) {
                entry.push(k.file.clone());
            }
        }
        entry.sort();
        entry.dedup();
        let mut sources = SourceMap::new();
        let compiled = compile(self.fs, &entry, &Overrides::new(), &mut sources);
        if compiled.has_errors() {
            let errors: Vec<Diagnostic> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect();
            let mut f = Failure::new(
                FailureKind::Compile,
                &file.display,
                0,
                format!(
                    "does not compile: {} error{}",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
            );
            f.diagnostics = Some(render_plain(&sources, &errors));
            self.fail_all(under_test, file, &f);
            // still count the markers, so the rule's line shows its cases
            for (_, _, fx) in &fixtures {
                self.count(fx, &named);
            }
            return;
        }
        let keep: BTreeSet<&str> = under_test
            .iter()
            .map(String::as_str)
            .chain(named.iter().map(String::as_str))
            .collect();
        let program = select_rules(&compiled.program, |r| keep.contains(r.id.as_str()));
        for rule in &program.rules {
            if let Some(fix) = rule
                .autofix
                .as_ref()
                .filter(|_| under_test.contains(&rule.id))
            {
                self.fixes_checked.entry(rule.id.clone()).or_insert(0);
                self.fix_actions.entry(rule.id.clone()).or_insert_with(|| {
                    (
                        fix.actions.iter().map(|a| a.keyword()).collect(),
                        BTreeSet::new(),
                    )
                });
            }
        }
        if self.opts.coverage {
            for rule in &program.rules {
                if under_test.contains(&rule.id) {
                    self.report(&rule.id).coverage = Some(Coverage::of(&program, rule));
                }
            }
        }
        for (name, text, fx) in fixtures {
            self.count(&fx, &named);
            let loader = Loader::new(Limits::default());
            let original = text.clone();
            let load = loader.load_text(&name, text, &mut sources);
            if load.has_errors() {
                let errors: Vec<Diagnostic> = load
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect();
                let mut f = Failure::new(
                    FailureKind::Fixture,
                    &name,
                    0,
                    format!("fixture `{name}` does not load"),
                );
                f.diagnostics = Some(render_plain(&sources, &errors));
                self.fail_all(under_test, file, &f);
                continue;
            }
            let graph = Graph::build(load, &GraphOptions::default());
            let (findings, errors) = run_program(&program, &graph, &sources);
            if !errors.is_empty() {
                let mut f = Failure::new(
                    FailureKind::Compile,
                    &name,
                    0,
                    "rules could not run over this fixture".to_string(),
                );
                f.diagnostics = Some(render_plain(&sources, &errors));
                self.fail_all(under_test, file, &f);
            }
            self.check(&name, &fx, &findings, under_test);
            self.check_fixes(&name, &original, &fx, &findings, under_test, &program);
            if self.opts.coverage {
                for rule in program.rules.iter().filter(|r| under_test.contains(&r.id)) {
                    if let Some(cov) = self
                        .reports
                        .get_mut(&rule.id)
                        .and_then(|r| r.coverage.as_mut())
                    {
                        cov.record(&program, rule, &graph);
                    }
                }
            }
        }
        self.tested.extend(
            under_test
                .iter()
                .map(|id| (id.clone(), file.display.clone())),
        );
    }

    /// Checks the fixes of the expected findings of the rules under test.
    fn check_fixes(
        &mut self,
        name: &str,
        text: &str,
        fx: &Fixture,
        findings: &[crate::eval::Finding],
        under_test: &[String],
        program: &crate::check::ir::Program,
    ) {
        let fixed: Vec<&crate::eval::Finding> = findings
            .iter()
            .filter(|f| {
                &*f.location.file == name
                    && under_test.iter().any(|t| **t == *f.rule.id)
                    && f.autofix.as_ref().is_some_and(|a| !a.ops.is_empty())
                    && fx.markers.iter().any(|m| {
                        m.kind == MarkerKind::Expect
                            && *m.rule == *f.rule.id
                            && m.line == f.location.line as usize
                    })
            })
            .collect();
        if fixed.is_empty() {
            return;
        }
        let bundled = self.bundled.get_or_init(|| {
            let mut sources = SourceMap::new();
            crate::bundled::compile(&[], true, &Overrides::new(), &mut sources)
                .ok()
                .filter(|c| !c.has_errors())
                .map(|c| c.program)
        });
        let failures = fixes::check(name, text, &fixed, program, bundled.as_ref());
        for f in &fixed {
            *self.fixes_checked.entry(f.rule.id.to_string()).or_insert(0) += 1;
            if let (Some(fix), Some((_, seen))) =
                (f.autofix.as_deref(), self.fix_actions.get_mut(&*f.rule.id))
            {
                seen.extend(fix.ops.iter().map(|o| o.action));
            }
        }
        for (rule, failure) in failures {
            self.report(&rule).failures.push(failure);
        }
    }

    /// Counts a fixture's markers for the rules they name.
    fn count(&mut self, fx: &Fixture, named: &BTreeSet<String>) {
        for m in &fx.markers {
            if !named.contains(&m.rule) {
                continue;
            }
            let r = self.report(&m.rule);
            match m.kind {
                MarkerKind::Expect => r.expected += 1,
                MarkerKind::Ok => r.ok += 1,
            }
        }
    }

    /// Compares findings with the markers of one fixture.
    fn check(
        &mut self,
        name: &str,
        fx: &Fixture,
        findings: &[crate::eval::Finding],
        under_test: &[String],
    ) {
        let mine: Vec<&crate::eval::Finding> = findings
            .iter()
            .filter(|f| &*f.location.file == name)
            .collect();
        for m in &fx.markers {
            if m.kind != MarkerKind::Expect || !self.known.contains_key(&m.rule) {
                continue;
            }
            let hit = mine
                .iter()
                .any(|f| *f.rule.id == *m.rule && f.location.line as usize == m.line);
            if hit {
                continue;
            }
            let mut f = Failure::new(
                FailureKind::Missing,
                name,
                m.line,
                format!("missing finding of `{}`", m.rule),
            );
            let from = if m.marker_line == m.line {
                String::new()
            } else {
                format!(" (marker on line {})", m.marker_line)
            };
            f.expected = Some(format!(
                "a finding of `{}` on line {}{from}",
                m.rule, m.line
            ));
            let elsewhere: Vec<String> = mine
                .iter()
                .filter(|x| *x.rule.id == *m.rule)
                .map(|x| x.location.line.to_string())
                .collect();
            f.found = Some(if elsewhere.is_empty() {
                "no finding".to_string()
            } else {
                let mut lines = elsewhere;
                lines.dedup();
                let s = if lines.len() == 1 { "" } else { "s" };
                format!("findings on line{s} {} only", lines.join(", "))
            });
            f.snippet = Some(fx.line(m.line).to_string());
            self.report(&m.rule).failures.push(f);
        }
        for x in mine {
            let line = x.location.line as usize;
            let expected = fx
                .markers
                .iter()
                .any(|m| m.kind == MarkerKind::Expect && *m.rule == *x.rule.id && m.line == line);
            if expected {
                continue;
            }
            let ok_marker = fx.markers.iter().find(|m| {
                m.kind == MarkerKind::Ok
                    && *m.rule == *x.rule.id
                    && m.line <= line
                    && line <= m.end_line
            });
            let summary = match ok_marker {
                Some(m) => format!(
                    "unexpected finding of `{}` in a document marked `# ok: {}` (line {})",
                    x.rule.id, x.rule.id, m.marker_line
                ),
                None if under_test.iter().any(|t| **t == *x.rule.id) => {
                    format!("unexpected finding of `{}`", x.rule.id)
                }
                None => continue,
            };
            let mut f = Failure::new(FailureKind::Unexpected, name, line, summary);
            f.column = x.location.column as usize;
            f.expected = Some(match ok_marker {
                Some(_) => "no finding in this document".to_string(),
                None => format!(
                    "no finding on line {line} (no `# expect: {}` marker)",
                    x.rule.id
                ),
            });
            f.found = Some(x.message.to_string());
            f.snippet = Some(fx.line(line).to_string());
            self.report(&x.rule.id).failures.push(f);
        }
    }
}

fn lower(s: &str) -> String {
    let s = s.split(" (os error").next().unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
