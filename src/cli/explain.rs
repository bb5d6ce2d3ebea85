//! `kanon explain`: a rule's logical, optimized and physical plans.

use crate::check::Overrides;
use crate::diag::SourceMap;
use crate::engine::{ScanOptions, compile_rules};
use crate::plan::{self, physical};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Renders the explanation of one rule of a compiled program; `None` if no rule has that id
/// or name.
pub fn explain(
    program: &crate::check::ir::Program,
    rule: &str,
    verbose: bool,
) -> Result<Option<String>, String> {
    explain_on(program, rule, verbose, None)
}

/// [`explain`], with the rounds each stratum of relations took on an input graph.
pub fn explain_on(
    program: &crate::check::ir::Program,
    rule: &str,
    verbose: bool,
    input: Option<(&crate::graph::Graph, &SourceMap)>,
) -> Result<Option<String>, String> {
    let Some(index) = program
        .rules
        .iter()
        .position(|r| r.id == rule || r.name == rule)
    else {
        return Ok(None);
    };
    let Some(r) = program.rules.get(index) else {
        return Ok(None);
    };
    let p = plan::plan_rule(program, index)?;
    let mut out = String::new();
    let _ = writeln!(out, "rule {} {}", r.id, r.name);
    let _ = writeln!(out, "\nlogical plan:");
    out.push_str(&p.logical.render(&r.vars));
    if verbose {
        for (name, step) in &p.trace.steps {
            let _ = writeln!(out, "\nafter {name}:");
            out.push_str(&step.render(&r.vars));
        }
    }
    let _ = writeln!(out, "\noptimized plan:");
    out.push_str(&p.optimized.render(&r.vars));
    let needed = plan::fixpoint::needed(program, &[index]);
    if !needed.is_empty() {
        let fp = plan::fixpoint::plan(program, &needed);
        let _ = writeln!(out, "\nfixpoint (before the rules):");
        out.push_str(&plan::fixpoint::render(&fp, program));
        if let Some((graph, sources)) = input {
            let ctx =
                crate::eval::interp::Ctx::new(graph, program, crate::eval::interp::Mode::Indexed)
                    .with_sources(sources)
                    .with_relations(program);
            let _ = writeln!(out, "\nrounds on the input:");
            for s in &ctx.relations.stats {
                if !s.relations.iter().any(|r| needed.contains(r)) {
                    continue;
                }
                let names: Vec<String> = s
                    .relations
                    .iter()
                    .map(|&r| {
                        let n = program.relations.get(r).map_or("?", |x| x.name.as_str());
                        let facts = ctx.relations.rels.get(r).map_or(0, |f| f.facts.len());
                        format!("{n} ({facts} facts)")
                    })
                    .collect();
                let per: Vec<String> = s.new_facts.iter().map(ToString::to_string).collect();
                let seeds = s
                    .seeds
                    .map(|n| format!(" from {n} start value{}", if n == 1 { "" } else { "s" }))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {}{seeds}: {} round{}, new facts per round [{}]{}",
                    names.join(", "),
                    s.rounds,
                    if s.rounds == 1 { "" } else { "s" },
                    per.join(", "),
                    if s.truncated {
                        "; stopped by the round limit: longer paths are not found"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    if verbose {
        // the pipeline as the whole program runs it: with the filters it shares with the
        // other rules of its scan group
        let (whole, _) = plan::plan(program);
        let run = whole
            .rules()
            .find(|x| x.rule == index)
            .unwrap_or(&p.physical);
        let _ = writeln!(out, "\nphysical plan:");
        out.push_str(&physical::render(run, &r.vars));
        if let Some(g) = whole
            .groups
            .iter()
            .find(|g| g.rules.iter().any(|x| x.rule == index))
        {
            let ids: Vec<&str> = g
                .rules
                .iter()
                .filter_map(|x| program.rules.get(x.rule).map(|r| r.id.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "\nshared scan of {} feeds {} rule{}: {}",
                g.kinds,
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                ids.join(", ")
            );
            shared_filters(&mut out, program, g, index, &r.vars);
        }
    }
    Ok(Some(out))
}

/// Lists the conditions rule `index` shares with other rules of its scan group (or tests
/// more than once), and those rules: each is answered once per value for all of them.
fn shared_filters(
    out: &mut String,
    program: &crate::check::ir::Program,
    g: &physical::ScanGroup,
    index: usize,
    vars: &[String],
) {
    use crate::check::ir::Expr;
    fn shared<'r>(e: &'r Expr, out: &mut Vec<(u32, &'r Expr)>) {
        match e {
            Expr::Shared { id, .. } => out.push((*id, e)),
            _ => e.for_each_child(&mut |c| shared(c, out)),
        }
    }
    fn ids_of(r: &physical::PhysicalRule) -> Vec<(u32, &Expr)> {
        let mut ids = Vec::new();
        physical::for_each_filter(r, &mut |f| shared(f, &mut ids));
        ids
    }
    let Some(me) = g.rules.iter().find(|x| x.rule == index) else {
        return;
    };
    let mut mine = ids_of(me);
    mine.dedup_by_key(|(id, _)| *id);
    if mine.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "conditions answered once per value for the rules of the scan that test them:"
    );
    for (id, f) in mine {
        let others: Vec<&str> = g
            .rules
            .iter()
            .filter(|x| x.rule != index && ids_of(x).iter().any(|(i, _)| *i == id))
            .filter_map(|x| program.rules.get(x.rule).map(|r| r.id.as_str()))
            .collect();
        let with = if others.is_empty() {
            "tested more than once by this rule".to_string()
        } else {
            format!("with {}", others.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} ({with})",
            crate::plan::display::expr_text(f, vars)
        );
    }
}

pub(super) fn run(
    rule: &str,
    verbose: bool,
    rules: &[PathBuf],
    no_default_rules: bool,
    input: &[String],
    limits: crate::limits::Limits,
) -> u8 {
    let opts = ScanOptions {
        rules: rules.to_vec(),
        bundled: !no_default_rules,
        params: Overrides::new(),
        ..ScanOptions::default()
    };
    let mut sources = SourceMap::new();
    let compiled = match compile_rules(&opts, &mut sources) {
        Ok(c) => c,
        Err(e) => {
            super::error_line(&e);
            return 2;
        }
    };
    if compiled.has_errors() {
        let mut err = super::Color::Auto.stderr();
        let _ = crate::report::diagnostics::emit(&mut err, &sources, &compiled.diagnostics);
        return 2;
    }
    // what could not be read is said, as `scan` says it: the rounds are of the rest
    let mut input_errors = 0;
    let graph = (!input.is_empty()).then(|| {
        let load = crate::model::Loader::new(limits).load_paths(input, &mut sources);
        if !load.diagnostics.is_empty() {
            let mut err = super::Color::Auto.stderr();
            let _ = crate::report::diagnostics::emit(&mut err, &sources, &load.diagnostics);
            input_errors = load.diagnostics.iter().filter(|d| d.is_error()).count();
        }
        crate::graph::Graph::build(load, &crate::graph::GraphOptions::default())
    });
    match explain_on(
        &compiled.program,
        rule,
        verbose,
        graph.as_ref().map(|g| (g, &sources)),
    ) {
        Ok(Some(text)) => {
            super::out(&text);
            if input_errors > 0 {
                let s = if input_errors == 1 { "" } else { "s" };
                super::error_line(&format!(
                    "{input_errors} input error{s} (see above): the rounds are of the rest of the input"
                ));
                return 2;
            }
            0
        }
        Ok(None) => {
            let ids: Vec<&str> = compiled
                .program
                .rules
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            let hint = crate::diag::suggest(rule, ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            super::error_line(&format!("no rule `{rule}`{hint}"));
            2
        }
        Err(e) => {
            super::error_line(&e);
            2
        }
    }
}
