//! `kanon scan`: evaluate rules over manifests or cluster exports.

use super::Color;
use crate::check::ir::{Const, Severity};
use crate::engine::{ScanOptions, scan_with};
use crate::report::diagnostics;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::sync::Arc;

/// Output formats of `kanon scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Human text with underlined snippets and a summary.
    Text,
    /// JSON (schema in docs/output.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML: one test suite per rule, one failing test case per finding.
    Junit,
    /// One line per finding: `path:line:col: severity RULE-ID message`, then the summary.
    Concise,
    /// GitHub Actions workflow commands (`::error file=...`): annotations on pull requests.
    Github,
    /// GitLab Code Quality report (JSON), for merge request widgets.
    Gitlab,
    /// One self-contained HTML file: charts, a sortable and filterable table, snippets,
    /// evidence graphs, rule docs and what was skipped.
    Html,
}

/// Lowest severity that fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
    /// Never fail on findings.
    Never,
}

/// Arguments of `kanon scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan (`-` reads stdin).
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Extra rule files or directories (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with `--rules`.
    #[arg(long)]
    pub no_default_rules: bool,
    /// Output format (repeatable; default text). Each `--output` writes the `--format`
    /// before it; at most one format goes to standard output.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Vec<ScanFormat>,
    /// Write the preceding `--format` to this file (atomically) instead of standard output
    /// (`-` is standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// Where `--format` and `--output` stood on the command line (set by the parser).
    #[arg(skip)]
    pub placement: Option<super::outputs::Placement>,
    /// Exit 1 when a finding at or above this severity is reported (default: `fail-on` of
    /// the configuration, else `low`).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Worker threads (default: all cores; `RAYON_NUM_THREADS` is honoured).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Namespace of objects that do not set one.
    #[arg(long, value_name = "NAMESPACE")]
    pub default_namespace: Option<String>,
    /// Set a rule parameter: `name=value` (strings), `name=a,b` for lists.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print how long each stage took (compile, load, graph, evaluate, output) to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Largest input file read (`512M`, `2G`, `64k`); larger files are skipped and reported.
    #[arg(long, value_name = "SIZE", value_parser = crate::limits::parse_size)]
    pub max_file_size: Option<u64>,
    /// Deepest nesting of one document; deeper documents are skipped and reported.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Most nodes one document may expand to through YAML aliases.
    #[arg(long, value_name = "N")]
    pub max_alias_nodes: Option<usize>,
    /// Most evaluation steps one rule may take for one object (for a rule that loops over
    /// namespaces after an input-wide question: for the question, and for each namespace);
    /// the rule's findings for that object are then reported as incomplete.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Leave out paths under the directories scanned that match this glob (`.gitignore`
    /// syntax: `target/`, `charts/*/values.yaml`; repeatable; added to `exclude` of the
    /// configuration). Files named explicitly are always read.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also read the files that `.gitignore`, `.ignore` and git's global excludes leave out
    /// of directory walks.
    #[arg(long)]
    pub no_ignore: bool,
    /// Warn about each YAML document that is not a Kubernetes object, also in files found
    /// by walking a directory (otherwise they are only counted in the summary).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Configuration, exemption and baseline flags.
    #[command(flatten)]
    pub policy: super::scan_policy::PolicyArgs,
    /// Helm and Kustomize rendering flags.
    #[command(flatten)]
    pub render: super::render_args::RenderArgs,
    /// Apply the safe fixes of the rules in place, then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// With `--fix` or `--diff`: apply the unsafe fixes too (they may change what a
    /// workload can do: a read-only root filesystem, no capabilities, another user).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 when there is something
    /// to fix).
    #[arg(long, conflicts_with_all = ["fix", "fix_only"])]
    pub diff: bool,
    /// Apply the fixes as `--fix` does and report only what was fixed and what is left,
    /// by rule, not the findings; exit 0 unless an error occurred.
    #[arg(long)]
    pub fix_only: bool,
}

impl ScanArgs {
    /// The limits these flags set over the defaults.
    pub fn limits(&self) -> crate::limits::Limits {
        let mut l = super::input_limits(self.max_file_size);
        if let Some(v) = self.max_depth {
            l.max_depth = v.max(1);
        }
        if let Some(v) = self.max_alias_nodes {
            l.max_alias_nodes = v;
        }
        if let Some(v) = self.max_steps {
            l.max_steps = v.max(1);
        }
        l
    }
}

fn parse_param(s: &str) -> Result<(String, Const), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`--param {s}` needs the form `name=value`"))?;
    let one = |x: &str| -> Const {
        match x {
            "true" => Const::Bool(true),
            "false" => Const::Bool(false),
            _ => x
                .parse::<i64>()
                .map_or_else(|_| Const::Str(Arc::from(x)), Const::Int),
        }
    };
    let value = if v.contains(',') || v.is_empty() {
        Const::List(Arc::new(
            v.split(',').filter(|x| !x.is_empty()).map(one).collect(),
        ))
    } else {
        one(v)
    };
    Ok((k.to_string(), value))
}

pub(super) fn run(args: &ScanArgs, color: Color) -> u8 {
    let policy = match super::scan_policy::policy(&args.policy, color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut params = super::scan_policy::config_params(&policy);
    for p in &args.params {
        match parse_param(p) {
            Ok((k, v)) => {
                params.insert(k, v);
            }
            Err(e) => {
                super::error_line(&e);
                return 2;
            }
        }
    }
    let mut rules = policy.config.rules.clone();
    rules.extend(args.rules.iter().cloned());
    let bundled = !args.no_default_rules && policy.config.default_rules;
    if !bundled && rules.is_empty() {
        super::error_line("`--no-default-rules` needs at least one `--rules PATH`");
        return 2;
    }
    let targets = match super::outputs::plan(&args.format, &args.output, args.placement.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            super::error_line(&e);
            return 2;
        }
    };
    let mut exclude: Vec<String> = policy
        .config
        .exclude
        .iter()
        .map(|e| e.value.clone())
        .collect();
    for g in &args.exclude {
        if let Err(e) = crate::model::walk::check_glob(g) {
            super::error_line(&format!("invalid `--exclude` glob `{g}`: {e}"));
            return 2;
        }
        exclude.push(g.clone());
    }
    let walk = crate::model::WalkOptions {
        exclude,
        no_ignore: args.no_ignore,
    };
    let config_fail_on = policy.config.fail_on.as_ref().map(|f| f.value.clone());
    let write_baseline = args.policy.write_baseline.is_some();
    let opts = ScanOptions {
        inputs: args.paths.clone(),
        rules,
        bundled,
        threads: args.threads,
        default_namespace: args.default_namespace.clone(),
        params,
        limits: args.limits(),
        walk,
        verbose: args.verbose,
        render: Some(args.render.settings(&policy.config.render)),
        overlay: None,
        // fixes are worked out only where they are applied or shown
        fixes: args.fix
            || args.fix_only
            || args.diff
            || targets
                .iter()
                .any(|t| matches!(t.format, ScanFormat::Json | ScanFormat::Sarif)),
        policy,
        // nothing reads the documents after the scan but `--fix` and `--diff`
        release_documents: !(args.fix || args.fix_only || args.diff),
    };
    let progress = super::progress::Progress::start(super::progress::enabled());
    let marks: std::cell::RefCell<Vec<Mark>> = std::cell::RefCell::new(Vec::new());
    let mark = |name: &'static str| {
        if args.timings {
            marks.borrow_mut().push(Mark::now(name));
        }
    };
    let result = scan_with(&opts, &|phase| {
        mark(phase_name(&phase));
        progress.phase(phase);
    });
    progress.finish();
    mark("output");
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            super::error_line(&e);
            return 2;
        }
    };
    let fixing = args.fix || args.fix_only || args.diff;
    let result = if fixing {
        match super::fix::run(args, &opts, result, color) {
            super::fix::Fixed::Done(r) => *r,
            super::fix::Fixed::Exit(code) => return code,
        }
    } else {
        result
    };
    let mut result = result;
    // JSON and SARIF carry each fix as text changes (described by the scan itself when it
    // freed the documents)
    if !opts.release_documents
        && targets
            .iter()
            .any(|t| matches!(t.format, ScanFormat::Json | ScanFormat::Sarif))
    {
        let docs = &result.graph.load.docs;
        let dup = crate::fix::apply::ambiguous_documents(&result.diagnostics, docs);
        crate::fix::apply::describe(&mut result.findings, &result.sources, docs, &|f, d| {
            dup.contains(&(f, d))
        });
    }
    let mut err = color.stderr();
    let _ = diagnostics::emit(&mut err, &result.sources, &result.diagnostics);
    if !super::scan_policy::write_baseline(&args.policy, &result) {
        return 2;
    }
    // the text report renders on threads too: as many as the scan had
    let write = || super::outputs::write_all(&targets, &result, color, args.policy.show_exempted);
    // (the scan started the same pool, so building it again cannot fail in a new way)
    let pool = crate::engine::thread_pool(args.threads).ok().flatten();
    let written = crate::engine::within(pool.as_ref(), write);
    match written {
        super::outputs::Written::All => {}
        super::outputs::Written::Failed(e) => {
            super::error_line(&e);
            return 2;
        }
        // a closed pipe (`kanon scan ... | head`) is not an error worth reporting
        super::outputs::Written::StdoutClosed => {
            return if result.has_errors() { 2 } else { 0 };
        }
    }
    if args.timings {
        mark("end");
        print_timings(&marks.borrow(), &result);
    }
    if result.has_errors() {
        return 2;
    }
    if write_baseline {
        return 0;
    }
    let fail_on = args
        .fail_on
        .or_else(|| config_fail_on.and_then(|f| FailOn::from_str(&f, true).ok()))
        .unwrap_or(FailOn::Low);
    let threshold = match fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    };
    let failing = threshold.is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    // the process ends right after: freeing every document node one by one would only
    // cost time (a tenth of a large scan)
    std::mem::forget(result);
    u8::from(failing)
}

/// Prints what `--timings` shows: each stage's time, resident memory after each stage
/// and the peak (where the system tells), the relations' time, the prefilters' text
/// search, the five slowest rules, and the arena sizes.
fn print_timings(marks: &[Mark], result: &crate::engine::ScanResult) {
    let mut times = Vec::new();
    let mut resident = Vec::new();
    for w in marks.windows(2) {
        if let [a, b] = w {
            let ms = (b.at - a.at).as_secs_f64() * 1e3;
            times.push(format!("{} {ms:.1} ms", a.name));
            if let Some((now, _)) = b.resident {
                resident.push(format!("{} {:.0} MB", a.name, now as f64 / 1024.0));
            }
        }
    }
    super::err_line(&format!("timings: {}", times.join(", ")));
    if let Some((_, peak)) = marks.last().and_then(|l| l.resident) {
        super::err_line(&format!(
            "resident after: {}; peak {:.0} MB",
            resident.join(", "),
            peak as f64 / 1024.0
        ));
    }
    let mut slowest: Vec<(&str, std::time::Duration)> = result
        .compiled
        .program
        .rules
        .iter()
        .zip(&result.times.rules)
        .map(|(r, t)| (r.id.as_str(), *t))
        .collect();
    // slowest first; ties by id, so the line is stable
    slowest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if !result.compiled.program.relations.is_empty() {
        super::err_line(&format!(
            "relations (within evaluate, beside the rules that read none): {:.1} ms",
            result.times.relations.as_secs_f64() * 1e3
        ));
    }
    super::err_line(&format!(
        "text prefilters (within evaluate, time summed over threads, in no rule's): {:.1} ms",
        result.times.prefilters.as_secs_f64() * 1e3
    ));
    if !slowest.is_empty() {
        let top: Vec<String> = slowest
            .iter()
            .take(5)
            .map(|(id, t)| format!("{id} {:.2} ms", t.as_secs_f64() * 1e3))
            .collect();
        super::err_line(&format!(
            "slowest rules (time summed over threads): {}",
            top.join(", ")
        ));
    }
    let docs = &result.documents;
    let mb = |b: usize| b as f64 / 1_048_576.0;
    super::err_line(&format!(
        "memory: documents {:.1} MB ({} nodes, {:.1} MB of decoded strings; {} parallel pieces), findings {} ({:.1} MB)",
        mb(docs.bytes),
        docs.nodes,
        mb(docs.decoded),
        result.graph.load.pieces,
        result.findings.len(),
        mb(result.findings.iter().map(|f| f.heap_bytes()).sum()),
    ));
}

/// A stage boundary seen by `--timings`: when, and the resident and peak memory then.
struct Mark {
    name: &'static str,
    at: std::time::Instant,
    /// (current, peak) resident KiB, where the system tells (`/proc/self/status`)
    resident: Option<(u64, u64)>,
}

impl Mark {
    fn now(name: &'static str) -> Mark {
        Mark {
            name,
            at: std::time::Instant::now(),
            resident: resident_kib(),
        }
    }
}

/// `VmRSS` and `VmHWM` of this process in KiB; `None` off Linux.
fn resident_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn phase_name(p: &crate::engine::Phase) -> &'static str {
    match p {
        crate::engine::Phase::Compiling => "compile",
        crate::engine::Phase::Loading => "load",
        crate::engine::Phase::Graph { .. } => "graph",
        crate::engine::Phase::Evaluating { .. } => "evaluate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse() {
        assert_eq!(
            parse_param("x=1").unwrap(),
            ("x".to_string(), Const::Int(1))
        );
        let (_, v) = parse_param("regs=a.io,b.io").unwrap();
        assert_eq!(
            v,
            Const::List(Arc::new(vec![
                Const::Str("a.io".into()),
                Const::Str("b.io".into())
            ]))
        );
        assert!(parse_param("novalue").is_err());
    }
}
