//! The fixpoint operator: how the relations a rule reads are computed before it runs.
//!
//! Relations are evaluated stratum by stratum (the strongly connected components of the
//! call graph, callees first, see `check`). A recursive stratum runs in rounds until no new
//! fact appears (least fixpoint) or the round limit is reached. The executor evaluates a
//! case whose recursive calls are all `for` sources semi-naively: in each round after the
//! first, one such binding reads only the facts the previous round found (once per such
//! binding), and every relation call is a probe of a hash index on the columns it passes.

use super::display::{expr_text, source_text};
use crate::check::ir::{Expr, Program, Source};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// How one case of a relation is evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasePlan {
    /// The relation.
    pub relation: usize,
    /// The case, in source order.
    pub case: usize,
    /// Whether the case calls a relation of its own stratum.
    pub recursive: bool,
    /// The bindings that read only the previous round's facts, one pass each (empty: the
    /// case runs over every fact each round).
    pub delta_bindings: Vec<usize>,
}

/// One stratum: relations computed together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StratumPlan {
    /// Position in evaluation order.
    pub index: usize,
    /// The relations.
    pub relations: Vec<usize>,
    /// Whether it is recursive (runs in rounds).
    pub recursive: bool,
    /// Its cases.
    pub cases: Vec<CasePlan>,
}

/// The strata a set of rules needs, in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FixpointPlan {
    /// The strata.
    pub strata: Vec<StratumPlan>,
}

fn message_exprs(r: &crate::check::ir::Rule) -> impl Iterator<Item = &Expr> {
    r.message.iter().filter_map(|p| match p {
        crate::check::ir::MessagePart::Expr(e) => Some(e),
        crate::check::ir::MessagePart::Text(_) => None,
    })
}

/// The relations rule `index` reads, directly or through other relations.
pub fn needed(program: &Program, rules: &[usize]) -> BTreeSet<usize> {
    let mut todo: Vec<usize> = Vec::new();
    for r in rules.iter().filter_map(|&i| program.rules.get(i)) {
        let mut calls = Vec::new();
        for b in &r.bindings {
            b.source.relation_calls(&mut calls);
        }
        for e in r
            .condition
            .iter()
            .chain(r.report_at.iter())
            .chain(message_exprs(r))
        {
            e.relation_calls(&mut calls);
        }
        todo.extend(calls.iter().map(|(rel, _)| *rel));
    }
    let mut seen = BTreeSet::new();
    while let Some(r) = todo.pop() {
        if !seen.insert(r) {
            continue;
        }
        if let Some(rel) = program.relations.get(r) {
            for c in &rel.cases {
                todo.extend(c.relation_calls().iter().map(|(to, _)| *to));
            }
        }
    }
    seen
}

/// Plans the strata that compute `relations`.
pub fn plan(program: &Program, relations: &BTreeSet<usize>) -> FixpointPlan {
    let mut strata = Vec::new();
    for (index, stratum) in program.strata.iter().enumerate() {
        if !stratum.iter().any(|r| relations.contains(r)) {
            continue;
        }
        let mut cases = Vec::new();
        let mut recursive = false;
        for &r in stratum {
            let Some(rel) = program.relations.get(r) else {
                continue;
            };
            recursive |= rel.recursive;
            for (k, c) in rel.cases.iter().enumerate() {
                let own =
                    |e: &Expr| matches!(e, Expr::Relation { rel: to, .. } if stratum.contains(to));
                let is_recursive = c
                    .relation_calls()
                    .iter()
                    .any(|(to, _)| stratum.contains(to));
                let delta_bindings = if is_recursive && c.semi_naive {
                    c.bindings
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| matches!(&b.source, Source::Expr(e) if own(e)))
                        .map(|(i, _)| i)
                        .collect()
                } else {
                    Vec::new()
                };
                cases.push(CasePlan {
                    relation: r,
                    case: k,
                    recursive: is_recursive,
                    delta_bindings,
                });
            }
        }
        strata.push(StratumPlan {
            index,
            relations: stratum.clone(),
            recursive,
            cases,
        });
    }
    FixpointPlan { strata }
}

/// Renders a fixpoint plan as numbered lines.
pub fn render(plan: &FixpointPlan, program: &Program) -> String {
    let mut out = String::new();
    let restricted = restrictions(program);
    let name = |r: usize| {
        program
            .relations
            .get(r)
            .map_or_else(|| format!("relation#{r}"), |x| x.name.clone())
    };
    let mut line = 0;
    for s in &plan.strata {
        line += 1;
        let names: Vec<String> = s.relations.iter().map(|&r| name(r)).collect();
        let _ = writeln!(
            out,
            "{line:>3}. Fixpoint stratum={} relations=[{}] {}",
            s.index + 1,
            names.join(", "),
            if s.recursive {
                format!(
                    "recursive: rounds until no new fact (at most {})",
                    crate::limits::MAX_PATH_ROUNDS
                )
            } else {
                "one round".to_string()
            }
        );
        for &r in &s.relations {
            let Some(Some(seeds)) = restricted.get(r) else {
                continue;
            };
            line += 1;
            let froms: Vec<String> = seeds
                .iter()
                .filter_map(|sd| {
                    let rule = program.rules.get(sd.rule)?;
                    let v = rule.vars.get(sd.var).cloned().unwrap_or_default();
                    let mut t = format!(
                        "{}: {v} in {}",
                        rule.id,
                        source_text(&sd.source, &rule.vars)
                    );
                    if !sd.filters.is_empty() {
                        let fs: Vec<String> = sd
                            .filters
                            .iter()
                            .map(|f| expr_text(f, &rule.vars))
                            .collect();
                        t.push_str(&format!(" where {}", fs.join(" and ")));
                    }
                    Some(t)
                })
                .collect();
            let _ = writeln!(
                out,
                "{line:>3}.   Restrict {}: first column only from the values the rules start from (source-restricted, magic set) [{}]",
                name(r),
                froms.join("; ")
            );
        }
        for c in &s.cases {
            let Some(rel) = program.relations.get(c.relation) else {
                continue;
            };
            let Some(case) = rel.cases.get(c.case) else {
                continue;
            };
            line += 1;
            let vars = &case.vars;
            let head: Vec<String> = case
                .head
                .iter()
                .map(|&v| vars.get(v).cloned().unwrap_or_default())
                .collect();
            let strategy = if !c.recursive {
                "base: round 1".to_string()
            } else if c.delta_bindings.is_empty() {
                "recursive: every round over all facts (a recursive call outside `for`)".to_string()
            } else {
                let ds: Vec<String> = c
                    .delta_bindings
                    .iter()
                    .filter_map(|&i| case.bindings.get(i))
                    .map(|b| {
                        format!(
                            "{} in {}",
                            vars.get(b.var).cloned().unwrap_or_default(),
                            source_text(&b.source, vars)
                        )
                    })
                    .collect();
                format!(
                    "semi-naive: new facts of the last round through {}",
                    ds.join("; ")
                )
            };
            let _ = writeln!(
                out,
                "{line:>3}.   Case {}({}) #{} {strategy}",
                rel.name,
                head.join(", "),
                c.case + 1
            );
            for b in &case.bindings {
                let access = match &b.source {
                    Source::Expr(e) => match &**e {
                        Expr::Relation { args, .. } => {
                            let keys: Vec<String> =
                                args.iter().map(|a| expr_text(a, vars)).collect();
                            if keys.is_empty() {
                                " (every fact)".to_string()
                            } else {
                                format!(" (hash index on ({}))", keys.join(", "))
                            }
                        }
                        _ => String::new(),
                    },
                    Source::Scan { .. } => String::new(),
                };
                let _ = writeln!(
                    out,
                    "         for {} in {}{access}",
                    vars.get(b.var).cloned().unwrap_or_default(),
                    source_text(&b.source, vars)
                );
            }
            if let Some(cond) = &case.condition {
                let _ = writeln!(out, "         where {}", expr_text(cond, vars));
            }
        }
    }
    out
}

/// One place a rule reads a relation from a source it binds first: the relation is only
/// needed for the values of that binding that pass the rule's conditions on it alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Seed {
    /// The rule.
    pub rule: usize,
    /// Its first binding's variable (the relation's first argument).
    pub var: crate::check::ir::VarId,
    /// What that binding ranges over.
    pub source: Source,
    /// The conjuncts of the rule's condition that read only that variable.
    pub filters: Vec<Expr>,
}

/// For each relation, the seeds that restrict its first column (magic-set style), when
/// that is sound: every case binds the first parameter first and passes it unchanged to
/// every recursive call, no other relation calls it, and every rule that calls it passes
/// its own first binding as the first argument. `None`: computed whole.
pub fn restrictions(program: &Program) -> Vec<Option<Vec<Seed>>> {
    let n = program.relations.len();
    let mut out: Vec<Option<Vec<Seed>>> = vec![Some(Vec::new()); n];
    // called by another relation: needed whole (its callers' columns are not seeds)
    for (r, rel) in program.relations.iter().enumerate() {
        for c in &rel.cases {
            for (to, args) in c.relation_calls() {
                let keeps_first = to == r
                    && matches!((args.first(), c.head.first()), (Some(Expr::Var(v)), Some(h)) if v == h);
                if !keeps_first {
                    if let Some(slot) = out.get_mut(to) {
                        *slot = None;
                    }
                }
            }
        }
        let binds_first = rel.cases.iter().all(
            |c| matches!((c.bindings.first(), c.head.first()), (Some(b), Some(h)) if b.var == *h),
        );
        if !binds_first || rel.params.is_empty() {
            if let Some(slot) = out.get_mut(r) {
                *slot = None;
            }
        }
    }
    for (i, rule) in program.rules.iter().enumerate() {
        let mut calls = Vec::new();
        for b in &rule.bindings {
            b.source.relation_calls(&mut calls);
        }
        if let Some(c) = &rule.condition {
            c.relation_calls(&mut calls);
        }
        for e in rule.report_at.iter().chain(message_exprs(rule)) {
            e.relation_calls(&mut calls);
        }
        let first = rule.bindings.first();
        for (to, args) in calls {
            let Some(slot) = out.get_mut(to) else {
                continue;
            };
            let seed = match (first, args.first()) {
                (Some(b), Some(Expr::Var(v))) if b.var == *v => {
                    let mut filters = Vec::new();
                    if let Some(c) = &rule.condition {
                        let mut parts = Vec::new();
                        crate::plan::optimizer::conjuncts(c.clone(), &mut parts);
                        for p in parts {
                            let mut inner = Vec::new();
                            p.relation_calls(&mut inner);
                            let reads = crate::plan::optimizer::free_vars(&p);
                            if inner.is_empty() && reads.iter().all(|x| x == v) {
                                filters.push(p);
                            }
                        }
                    }
                    Some(Seed {
                        rule: i,
                        var: *v,
                        source: b.source.clone(),
                        filters,
                    })
                }
                _ => None,
            };
            match (seed, slot.as_mut()) {
                (Some(s), Some(list)) => {
                    if !list.contains(&s) {
                        list.push(s);
                    }
                }
                _ => *slot = None,
            }
        }
    }
    // a relation no rule calls keeps `Some(empty)`: it is not computed at all
    out
}
