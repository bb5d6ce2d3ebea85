//! Optimizer rules: meaning-preserving rewrites of a logical plan, one file each. The
//! driver applies them in order, checks after each that the variables the plan binds did
//! not change, and records the plan after each rule for `kanon explain --verbose`.

mod decorrelate_subqueries;
mod fold_constants;
mod index_probes;
mod merge_patterns;
mod narrow_kind_scans;
mod order_predicates;
mod push_down_predicates;

use super::logical::{Join, JoinSource, LogicalPlan, Unnest};
use crate::check::ir::{Access, Expr, Program, Source, VarId};
use std::collections::BTreeSet;

/// One rewrite.
pub trait OptimizerRule {
    /// The snake_case name shown by `kanon explain --verbose`.
    fn name(&self) -> &'static str;
    /// Rewrites a plan without changing its results.
    fn rewrite(&self, plan: LogicalPlan, program: &Program) -> LogicalPlan;
}

/// The rules, in the order they run.
pub fn rules() -> Vec<Box<dyn OptimizerRule>> {
    vec![
        Box::new(fold_constants::FoldConstants),
        Box::new(merge_patterns::MergePatterns),
        Box::new(decorrelate_subqueries::DecorrelateSubqueries),
        Box::new(push_down_predicates::PushDownPredicates),
        Box::new(narrow_kind_scans::NarrowKindScans),
        Box::new(index_probes::IndexProbes),
        Box::new(order_predicates::OrderPredicates),
    ]
}

/// The plan after each rule.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// `(rule name, plan after it)`.
    pub steps: Vec<(&'static str, LogicalPlan)>,
}

/// Runs every rule; fails if a rule changed the variables the plan binds.
pub fn optimize(plan: LogicalPlan, program: &Program) -> Result<(LogicalPlan, Trace), String> {
    let mut trace = Trace::default();
    let plan = optimize_traced(plan, program, Some(&mut trace))?;
    Ok((plan, trace))
}

/// [`optimize`] without the trace: what a scan plans (the plan after every rule is a copy
/// of the whole plan, which only `kanon explain` shows).
pub fn optimize_only(plan: LogicalPlan, program: &Program) -> Result<LogicalPlan, String> {
    optimize_traced(plan, program, None)
}

fn optimize_traced(
    plan: LogicalPlan,
    program: &Program,
    mut trace: Option<&mut Trace>,
) -> Result<LogicalPlan, String> {
    let before = plan.bound_vars();
    let mut plan = plan;
    for rule in rules() {
        plan = rule.rewrite(plan, program);
        let after = plan.bound_vars();
        if after != before {
            return Err(format!(
                "optimizer rule `{}` changed the bound variables from {before:?} to {after:?}",
                rule.name()
            ));
        }
        if let Some(t) = trace.as_deref_mut() {
            t.steps.push((rule.name(), plan.clone()));
        }
    }
    Ok(plan)
}

/// `plan` with `f` applied to its input, for the operators that have one (every operator but
/// `Scan` and `Unit`, which are returned as they are). Rules that rewrite some operators
/// use it to walk past the others.
pub(crate) fn map_input(
    plan: LogicalPlan,
    f: &mut dyn FnMut(LogicalPlan) -> LogicalPlan,
) -> LogicalPlan {
    match plan {
        LogicalPlan::Unnest(mut u) => {
            u.input = Box::new(f(*u.input));
            LogicalPlan::Unnest(u)
        }
        LogicalPlan::Traverse(mut u) => {
            u.input = Box::new(f(*u.input));
            LogicalPlan::Traverse(u)
        }
        LogicalPlan::Filter(mut x) => {
            x.input = Box::new(f(*x.input));
            LogicalPlan::Filter(x)
        }
        LogicalPlan::SemiJoin(mut j) => {
            j.input = Box::new(f(*j.input));
            LogicalPlan::SemiJoin(j)
        }
        LogicalPlan::AntiJoin(mut j) => {
            j.input = Box::new(f(*j.input));
            LogicalPlan::AntiJoin(j)
        }
        LogicalPlan::Emit(mut e) => {
            e.input = Box::new(f(*e.input));
            LogicalPlan::Emit(e)
        }
        other @ (LogicalPlan::Scan(_) | LogicalPlan::Unit) => other,
    }
}

/// Splits an `and` chain.
pub(crate) fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            conjuncts(*a, out);
            conjuncts(*b, out);
        }
        other => out.push(other),
    }
}

/// Joins predicates with `and` (left-deep, in order).
pub(crate) fn conjoin(preds: Vec<Expr>) -> Option<Expr> {
    preds
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// The variables an expression reads that it does not bind itself.
pub(crate) fn free_vars(e: &Expr) -> BTreeSet<VarId> {
    let mut out = BTreeSet::new();
    collect_free(e, &mut out);
    out
}

fn collect_free(e: &Expr, out: &mut BTreeSet<VarId>) {
    match e {
        Expr::Var(v) => {
            out.insert(*v);
        }
        Expr::Quant {
            var, source, cond, ..
        } => {
            source_free(source, out);
            bound_free(*var, cond.as_deref(), out);
        }
        Expr::Probe {
            var, access, cond, ..
        } => {
            access_free(access, out);
            bound_free(*var, cond.as_deref(), out);
        }
        _ => e.for_each_child(&mut |c| collect_free(c, out)),
    }
}

/// The free variables of a condition that binds `var`.
fn bound_free(var: VarId, cond: Option<&Expr>, out: &mut BTreeSet<VarId>) {
    if let Some(c) = cond {
        let mut sub = BTreeSet::new();
        collect_free(c, &mut sub);
        sub.remove(&var);
        out.extend(sub);
    }
}

pub(crate) fn source_free(s: &Source, out: &mut BTreeSet<VarId>) {
    match s {
        Source::Scan { namespace, .. } => {
            if let Some(n) = namespace {
                collect_free(n, out);
            }
        }
        Source::Expr(e) => collect_free(e, out),
    }
}

fn access_free(a: &Access, out: &mut BTreeSet<VarId>) {
    match a {
        Access::SelectedBy { target, .. } => collect_free(target, out),
        Access::ByName {
            namespace, name, ..
        } => {
            if let Some(n) = namespace {
                collect_free(n, out);
            }
            collect_free(name, out);
        }
        Access::Rows { key, .. } => collect_free(key, out),
    }
}

/// The variables a join reads from its input rows.
pub(crate) fn join_free(j: &Join) -> BTreeSet<VarId> {
    let mut out = BTreeSet::new();
    match &j.source {
        JoinSource::Scan(s) => source_free(s, &mut out),
        JoinSource::Probe(a) => access_free(a, &mut out),
    }
    if let Some(on) = &j.on {
        let mut sub = free_vars(on);
        sub.remove(&j.var);
        out.extend(sub);
    }
    out
}

/// Rewrites every expression of an expression tree bottom-up.
pub(crate) fn rewrite_expr(e: Expr, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
    let r = |x: Box<Expr>, f: &mut dyn FnMut(Expr) -> Expr| Box::new(rewrite_expr(*x, f));
    let e = match e {
        Expr::Field(b, n) => Expr::Field(r(b, f), n),
        Expr::Attr(b, a) => Expr::Attr(r(b, f), a),
        Expr::Memo(slot, b) => Expr::Memo(slot, r(b, f)),
        Expr::Shared {
            id,
            var,
            with,
            expr,
        } => Expr::Shared {
            id,
            var,
            with,
            expr: r(expr, f),
        },
        Expr::Not(b) => Expr::Not(r(b, f)),
        Expr::Matches(b, p) => Expr::Matches(r(b, f), p),
        Expr::Index(a, b) => Expr::Index(r(a, f), r(b, f)),
        Expr::And(a, b) => Expr::And(r(a, f), r(b, f)),
        Expr::Or(a, b) => Expr::Or(r(a, f), r(b, f)),
        Expr::Cmp(op, a, b) => Expr::Cmp(op, r(a, f), r(b, f)),
        Expr::Coalesce(a, b) => Expr::Coalesce(r(a, f), r(b, f)),
        Expr::Selects(a, b) => Expr::Selects(r(a, f), r(b, f)),
        Expr::Call(b, args) => {
            Expr::Call(b, args.into_iter().map(|a| rewrite_expr(a, f)).collect())
        }
        Expr::List(items) => Expr::List(items.into_iter().map(|a| rewrite_expr(a, f)).collect()),
        Expr::Relation { rel, name, args } => Expr::Relation {
            rel,
            name,
            args: args.into_iter().map(|a| rewrite_expr(a, f)).collect(),
        },
        Expr::Quant {
            quant,
            var,
            source,
            cond,
        } => Expr::Quant {
            quant,
            var,
            source: rewrite_source(source, f),
            cond: cond.map(|c| r(c, f)),
        },
        Expr::Probe {
            quant,
            var,
            access,
            cond,
        } => Expr::Probe {
            quant,
            var,
            access: rewrite_access(access, f),
            cond: cond.map(|c| r(c, f)),
        },
        other => other,
    };
    f(e)
}

fn rewrite_access(a: Access, f: &mut dyn FnMut(Expr) -> Expr) -> Access {
    match a {
        Access::SelectedBy { kind, target } => Access::SelectedBy {
            kind,
            target: Box::new(rewrite_expr(*target, f)),
        },
        Access::ByName {
            kinds,
            namespace,
            name,
        } => Access::ByName {
            kinds,
            namespace: namespace.map(|n| Box::new(rewrite_expr(*n, f))),
            name: Box::new(rewrite_expr(*name, f)),
        },
        Access::Rows { index, key } => Access::Rows {
            index,
            key: Box::new(rewrite_expr(*key, f)),
        },
    }
}

fn rewrite_source(s: Source, f: &mut dyn FnMut(Expr) -> Expr) -> Source {
    match s {
        Source::Scan { kinds, namespace } => Source::Scan {
            kinds,
            namespace: namespace.map(|n| Box::new(rewrite_expr(*n, f))),
        },
        Source::Expr(e) => Source::Expr(Box::new(rewrite_expr(*e, f))),
    }
}

/// Applies an expression rewrite to every expression of a plan.
pub(crate) fn map_plan_exprs(plan: LogicalPlan, f: &mut dyn FnMut(Expr) -> Expr) -> LogicalPlan {
    let fx = |e: Expr, f: &mut dyn FnMut(Expr) -> Expr| rewrite_expr(e, f);
    match plan {
        LogicalPlan::Unit => LogicalPlan::Unit,
        LogicalPlan::Scan(mut s) => {
            s.namespace = s.namespace.map(|n| fx(n, f));
            s.filters = s.filters.into_iter().map(|x| fx(x, f)).collect();
            LogicalPlan::Scan(s)
        }
        LogicalPlan::Unnest(u) => LogicalPlan::Unnest(map_unnest(u, f)),
        LogicalPlan::Traverse(u) => LogicalPlan::Traverse(map_unnest(u, f)),
        LogicalPlan::Filter(mut x) => {
            x.input = Box::new(map_plan_exprs(*x.input, f));
            x.predicate = fx(x.predicate, f);
            LogicalPlan::Filter(x)
        }
        LogicalPlan::SemiJoin(j) => LogicalPlan::SemiJoin(map_join(j, f)),
        LogicalPlan::AntiJoin(j) => LogicalPlan::AntiJoin(map_join(j, f)),
        LogicalPlan::Emit(mut e) => {
            e.input = Box::new(map_plan_exprs(*e.input, f));
            LogicalPlan::Emit(e)
        }
    }
}

fn map_unnest(mut u: Unnest, f: &mut dyn FnMut(Expr) -> Expr) -> Unnest {
    u.input = Box::new(map_plan_exprs(*u.input, f));
    u.source = rewrite_source(u.source, f);
    u.filters = u.filters.into_iter().map(|x| rewrite_expr(x, f)).collect();
    u
}

fn map_join(mut j: Join, f: &mut dyn FnMut(Expr) -> Expr) -> Join {
    j.input = Box::new(map_plan_exprs(*j.input, f));
    j.source = match j.source {
        JoinSource::Scan(s) => JoinSource::Scan(rewrite_source(s, f)),
        JoinSource::Probe(a) => JoinSource::Probe(rewrite_access(a, f)),
    };
    j.on = j.on.map(|o| rewrite_expr(o, f));
    j
}
