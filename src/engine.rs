//! The whole pipeline behind `kanon scan`, as a library call: compile rules, load inputs,
//! build the graph, plan, execute.

use crate::check::{Compiled, Overrides};
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
use crate::eval::exec;
use crate::graph::{Graph, GraphOptions};
use crate::limits::Limits;
use crate::model::Loader;
use crate::plan::physical::PhysicalPlan;
use crate::policy::{Exempted, Policy};
use crate::report::summary::Summary;
use crate::schema::Schema;
use std::path::PathBuf;

/// What to scan with what.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Input paths (`-` for stdin).
    pub inputs: Vec<String>,
    /// Extra rule files or directories.
    pub rules: Vec<PathBuf>,
    /// Whether to include the bundled ruleset.
    pub bundled: bool,
    /// Worker threads (`None`: rayon's default, which honours `RAYON_NUM_THREADS`).
    pub threads: Option<usize>,
    /// Namespace of namespaced objects that do not set one.
    pub default_namespace: Option<String>,
    /// Parameter overrides.
    pub params: Overrides,
    /// Input limits.
    pub limits: Limits,
    /// How directories are walked (ignore files, excludes).
    pub walk: crate::model::WalkOptions,
    /// Warn about every document that is not a Kubernetes object, also in files found by
    /// walking a directory.
    pub verbose: bool,
    /// Rule selection, severity overrides, exemptions and baseline.
    pub policy: Policy,
    /// How Helm charts and Kustomize overlays are rendered (`None`: they are not recognised,
    /// and their files are read as they are).
    pub render: Option<crate::render::Settings>,
    /// Whether findings carry their rule's fix (for `--fix`, `--diff`, JSON and SARIF).
    pub fixes: bool,
    /// Texts read instead of the files of these names (see [`Loader::overlay`]).
    pub overlay: Option<std::sync::Arc<std::collections::BTreeMap<String, String>>>,
    /// Whether the caller reads no document of the result (`graph.load.docs`): the scan
    /// then describes the fixes' text changes itself (when `fixes`) and frees the
    /// documents' nodes before it makes its findings, so that the two never take memory
    /// together. Kept when a finding is mapped back to a chart or overlay.
    pub release_documents: bool,
}

/// Everything a scan produced.
#[derive(Debug)]
pub struct ScanResult {
    /// Every file read (rules and inputs).
    pub sources: SourceMap,
    /// The compiled rules.
    pub compiled: Compiled,
    /// The graph (its documents' nodes freed when the options said so).
    pub graph: Graph,
    /// What the documents took, measured before they were freed.
    pub documents: crate::model::DocumentsMemory,
    /// Findings, sorted (without exempted and baselined ones).
    pub findings: Vec<Finding>,
    /// Findings removed by exemptions, sorted.
    pub exempted: Vec<Exempted>,
    /// Findings removed because they are in the baseline, sorted.
    pub baselined: Vec<Finding>,
    /// Rule, input and graph diagnostics, in that order.
    pub diagnostics: Vec<Diagnostic>,
    /// Totals.
    pub summary: Summary,
    /// Where the evaluation's time went: each rule's (indexed like
    /// `compiled.program.rules`), the relations' (attack paths, computed while the rules
    /// that read none ran) and the prefilters' text search, summed over threads.
    pub times: crate::eval::exec::Times,
}

impl ScanResult {
    /// Whether any rule or input error occurred.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles rules from the options.
pub fn compile_rules(opts: &ScanOptions, sources: &mut SourceMap) -> Result<Compiled, String> {
    crate::bundled::compile(&opts.rules, opts.bundled, &opts.params, sources)
}

/// Runs a scan.
pub fn scan(opts: &ScanOptions) -> Result<ScanResult, String> {
    scan_with(opts, &|_| {})
}

/// The stage a scan is in, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Compiling the rules.
    Compiling,
    /// Reading and parsing the inputs.
    Loading,
    /// Building the resource graph from this many documents.
    Graph {
        /// Documents read.
        documents: usize,
    },
    /// Evaluating the rules over the objects.
    Evaluating {
        /// Rules.
        rules: usize,
        /// Objects.
        objects: usize,
    },
}

/// The pool of `threads` workers (`None`: rayon's global pool, all cores).
pub(crate) fn thread_pool(threads: Option<usize>) -> Result<Option<rayon::ThreadPool>, String> {
    match threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => Ok(Some(pool)),
            Err(e) => Err(format!("cannot start {n} threads: {e}")),
        },
        None => Ok(None),
    }
}

/// Runs `f` on `pool`, or on rayon's global pool.
pub(crate) fn within<R: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Runs a scan, telling `on_phase` when each stage starts.
pub fn scan_with(opts: &ScanOptions, on_phase: &dyn Fn(Phase)) -> Result<ScanResult, String> {
    on_phase(Phase::Compiling);
    let mut sources = SourceMap::new();
    let config_file = opts.policy.register(&mut sources);
    let mut compiled = compile_rules(opts, &mut sources)?;
    let rule_ids: Vec<String> = compiled
        .program
        .rules
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let mut rule_diagnostics = compiled.diagnostics.clone();
    opts.policy
        .apply_rules(&mut compiled.program, &mut rule_diagnostics, config_file);
    compiled.diagnostics = rule_diagnostics;
    // Every stage after compiling runs on the requested number of threads.
    let pool = thread_pool(opts.threads)?;
    on_phase(Phase::Loading);
    let mut loader = Loader::new(opts.limits);
    loader.walk = opts.walk.clone();
    loader.verbose = opts.verbose;
    loader.overlay = opts.overlay.clone();
    let renderer = opts.render.clone().map(crate::render::Renderer::new);
    // the rules are planned while the inputs load: planning reads the program alone, and
    // loading leaves a core idle part of the time
    let (load, planned) = within(pool.as_ref(), || {
        rayon::join(
            || loader.load_paths_rendering(&opts.inputs, renderer.as_ref(), &mut sources),
            || crate::plan::plan(&compiled.program),
        )
    });
    let graph_opts = GraphOptions {
        default_namespace: opts
            .default_namespace
            .clone()
            .unwrap_or_else(|| "default".to_string()),
    };
    let mut diagnostics = compiled.diagnostics.clone();
    diagnostics.extend(load.diagnostics.iter().cloned());
    on_phase(Phase::Graph {
        documents: load.stats.documents,
    });
    let mut graph = within(pool.as_ref(), || Graph::build(load, &graph_opts));
    // a namespace chosen with `--default-namespace` answers the mixed-namespaces warning
    let chose_namespace = opts.default_namespace.is_some();
    diagnostics.extend(
        graph
            .diagnostics
            .iter()
            .filter(|d| !(chose_namespace && d.code == crate::graph::MIXED_NAMESPACES))
            .cloned(),
    );
    diagnostics.extend(within(pool.as_ref(), || {
        crate::shape::check(&graph, Schema::bundled())
    }));
    on_phase(Phase::Evaluating {
        rules: compiled.program.rules.len(),
        objects: graph.load.stats.objects,
    });
    let run = || {
        record_plan_with(
            &compiled.program,
            planned,
            &graph,
            &sources,
            &opts.limits,
            opts.fixes,
        )
    };
    let Evaluated {
        findings: mut records,
        diagnostics: run_diagnostics,
        times,
    } = within(pool.as_ref(), run);
    // what reads the documents is done before they may be freed: the exemptions of the
    // objects' annotations, and (when the scan frees them) the fixes' text changes
    let annotations = within(pool.as_ref(), || {
        opts.policy.annotations(&graph, &sources, &rule_ids)
    });
    let documents = crate::model::DocumentsMemory::of(&graph.load.docs);
    // the caller leaves the fixes to the scan when it reads no document, also where the
    // documents are kept for mapping findings back
    if opts.release_documents && opts.fixes {
        let docs = &graph.load.docs;
        let dup = crate::fix::apply::ambiguous_documents(&diagnostics, docs);
        within(pool.as_ref(), || {
            let fixes = records.fixes_mut().collect();
            crate::fix::apply::describe_fixes(fixes, &sources, docs, &|f, d| dup.contains(&(f, d)));
        });
    }
    if opts.release_documents && graph.load.origins.is_empty() {
        for doc in &mut graph.load.docs {
            doc.release();
        }
    }
    let findings = within(pool.as_ref(), || {
        records.findings(&compiled.program, &graph, &sources)
    });
    let findings = map_back(findings, &graph.load, &mut sources);
    let run_errors = run_diagnostics.iter().filter(|d| d.is_error()).count();
    diagnostics.extend(run_diagnostics);
    let input_errors = graph
        .load
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .count();
    let applied = within(pool.as_ref(), || {
        opts.policy
            .apply_findings(findings, annotations, &graph, &sources, config_file)
    });
    diagnostics.extend(applied.diagnostics);
    let rule_errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count() + run_errors;
    let mut summary = Summary::new(
        &graph.load.stats,
        compiled.program.rules.len(),
        &applied.findings,
        input_errors,
        rule_errors,
    );
    summary.exempted = applied.exempted.len();
    summary.baselined = applied.baselined.len();
    Ok(ScanResult {
        sources,
        compiled,
        graph,
        documents,
        findings: applied.findings,
        exempted: applied.exempted,
        baselined: applied.baselined,
        diagnostics,
        summary,
        times,
    })
}

/// Translates the locations of findings in the rendered output of a chart or overlay to the
/// template or resource file that wrote them (`crate::render::Origin`); the rendered
/// position is kept beside. Findings elsewhere are unchanged.
fn map_back(
    mut findings: Vec<Finding>,
    load: &crate::model::LoadOutput,
    sources: &mut SourceMap,
) -> Vec<Finding> {
    use crate::eval::finding::{Location, ValueSource};
    use crate::render::{DocInfo, Mapped};
    if load.origins.is_empty() {
        return findings;
    }
    let mut files: std::collections::HashMap<PathBuf, crate::diag::FileId> =
        std::collections::HashMap::new();
    let mut place = |m: Mapped, sources: &mut SourceMap| -> Location {
        let id = *files
            .entry(m.file.clone())
            .or_insert_with(|| sources.add(m.file.display().to_string(), m.text));
        Location::of(sources, crate::diag::Span::new(id, m.range))
    };
    // the document holding a span and the path to its node
    let resolve = |span: crate::diag::Span| {
        let origin = load.origins.get(&span.file)?;
        let doc = load.docs.iter().find(|d| {
            d.file == span.file
                && d.span(d.root)
                    .is_some_and(|s| s.start <= span.start && span.end <= s.end)
        })?;
        let info = DocInfo {
            index: doc.index as usize,
            helm_source: doc.helm_source.as_deref(),
            kind: doc.str_at(doc.root, &["kind"]).unwrap_or(""),
            name: doc.str_at(doc.root, &["metadata", "name"]).unwrap_or(""),
        };
        Some((origin, info, doc.path_to(span)))
    };
    let mut changed = false;
    for f in &mut findings {
        for e in &mut f.evidence {
            let Some(l) = &e.location else { continue };
            if let Some((m, _)) = resolve(l.span).and_then(|(o, info, _)| o.map(info, &[])) {
                e.location = Some(place(m, sources));
            }
        }
        let Some((origin, info, path)) = resolve(f.location.span) else {
            continue;
        };
        let Some((m, value)) = origin.map(info, &path) else {
            continue;
        };
        let at = place(m, sources);
        f.rendered = Some(Box::new(std::mem::replace(&mut f.location, at)));
        f.value_source = value.map(|v| {
            Box::new(ValueSource {
                expr: v.expr,
                location: v.at.map(|m| place(m, sources)),
            })
        });
        changed = true;
    }
    if changed {
        crate::eval::finding::sort(&mut findings);
    }
    findings
}

/// The program restricted to the rules `keep` accepts; parameters and tables are kept
/// whole (rules address them by index). `kanon test` uses this to run chosen rules.
pub fn select_rules(
    program: &crate::check::ir::Program,
    keep: impl Fn(&crate::check::ir::Rule) -> bool,
) -> crate::check::ir::Program {
    crate::check::ir::Program {
        rules: program.rules.iter().filter(|r| keep(r)).cloned().collect(),
        params: program.params.clone(),
        tables: program.tables.clone(),
        relations: program.relations.clone(),
        strata: program.strata.clone(),
    }
}

/// Plans and executes a program over a graph already built, on the current thread pool,
/// with the default limits. Returns the findings (sorted) and the planning and step-limit
/// errors.
pub fn run_program(
    program: &crate::check::ir::Program,
    graph: &Graph,
    sources: &SourceMap,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let run = run_program_with(program, graph, sources, &Limits::default(), true);
    (run.findings, run.diagnostics)
}

/// What evaluating a program gave: the findings made (sorted), or recorded
/// ([`record_plan_with`]; [`exec::Records::findings`] makes them).
#[derive(Debug, Default)]
pub struct Evaluated<F = Vec<Finding>> {
    /// Findings.
    pub findings: F,
    /// Planning errors and step-limit hits.
    pub diagnostics: Vec<Diagnostic>,
    /// Where the evaluation's time went.
    pub times: crate::eval::exec::Times,
}

/// [`run_program`] under the given limits; `fixes`: whether findings carry their rule's fix.
pub fn run_program_with(
    program: &crate::check::ir::Program,
    graph: &Graph,
    sources: &SourceMap,
    limits: &Limits,
    fixes: bool,
) -> Evaluated {
    let planned = crate::plan::plan(program);
    run_plan_with(program, planned, graph, sources, limits, fixes)
}

/// [`run_program_with`] with the program already planned ([`crate::plan::plan`]).
pub fn run_plan_with(
    program: &crate::check::ir::Program,
    planned: (PhysicalPlan, Vec<(String, String)>),
    graph: &Graph,
    sources: &SourceMap,
    limits: &Limits,
    fixes: bool,
) -> Evaluated {
    let run = record_plan_with(program, planned, graph, sources, limits, fixes);
    Evaluated {
        findings: run.findings.findings(program, graph, sources),
        diagnostics: run.diagnostics,
        times: run.times,
    }
}

/// [`run_plan_with`], with the findings left as records.
pub fn record_plan_with(
    program: &crate::check::ir::Program,
    (plan, plan_errors): (PhysicalPlan, Vec<(String, String)>),
    graph: &Graph,
    sources: &SourceMap,
    limits: &Limits,
    fixes: bool,
) -> Evaluated<exec::Records> {
    let mut diagnostics = Vec::new();
    for (rule, e) in &plan_errors {
        diagnostics.push(Diagnostic::error(
            "E0501",
            format!("rule `{rule}` could not be planned: {e}"),
        ));
    }
    let outcome = exec::record_with(program, &plan, graph, sources, limits, fixes);
    for hit in &outcome.limits {
        let on = hit
            .object
            .as_deref()
            .map(|o| format!(" on `{o}`"))
            .unwrap_or_default();
        let mut d = Diagnostic::error(
            "E0502",
            format!("rule `{}` hit the evaluation step limit{on}", hit.rule),
        )
        .with_help("the rule's findings for that object are incomplete; simplify its sub-queries or raise `--max-steps`");
        if let Some(r) = program.rules.iter().find(|r| r.id == hit.rule) {
            d = d.at(r.id_span, "this rule");
        }
        diagnostics.push(d);
    }
    for &rel in &outcome.truncated {
        let Some(r) = program.relations.get(rel) else {
            continue;
        };
        diagnostics.push(
            Diagnostic::warning(
                "W0503",
                format!(
                    "relation `{}` stopped after {} rounds while it was still finding facts",
                    r.name,
                    crate::limits::MAX_PATH_ROUNDS
                ),
            )
            .at(r.name_span, "this relation")
            .with_help(format!(
                "paths longer than {} steps are not reported; findings of rules that ask `{}` may be missing",
                crate::limits::MAX_PATH_ROUNDS,
                r.name
            )),
        );
    }
    Evaluated {
        findings: outcome.findings,
        diagnostics,
        times: outcome.times,
    }
}
