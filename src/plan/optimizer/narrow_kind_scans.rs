//! `narrow_kind_scans`: a scan of every object whose filter requires its kind
//! (`exists o in objects where o.kind == "ClusterPolicy" and ...`, `o.kind in [...]`) reads
//! only the objects of those kinds, through the kind index, instead of every object. The
//! filter stays as it was, so the result is the same; only `all` is left alone, because
//! it ranges over every object whatever the filter says.

use super::{OptimizerRule, conjuncts, map_input, map_plan_exprs};
use crate::check::ir::{Attr, CmpOp, Const, Expr, KindSet, Program, Quant, Source, VarId};
use crate::plan::logical::{Join, JoinSource, LogicalPlan};
use std::sync::Arc;

/// See the module docs.
pub struct NarrowKindScans;

impl OptimizerRule for NarrowKindScans {
    fn name(&self) -> &'static str {
        "narrow_kind_scans"
    }

    fn rewrite(&self, plan: LogicalPlan, _program: &Program) -> LogicalPlan {
        let plan = narrow_plan(plan);
        map_plan_exprs(plan, &mut narrow)
    }
}

/// Rule-level scans: a `Scan` of every object with a pushed-down filter on its kind.
fn narrow_plan(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Scan(mut s) if s.kinds == KindSet::All => {
            if let Some(kinds) = s.filters.iter().find_map(|f| required_kinds(f, s.var)) {
                s.kinds = KindSet::Kinds(kinds);
            }
            LogicalPlan::Scan(s)
        }
        LogicalPlan::SemiJoin(j) => LogicalPlan::SemiJoin(narrow_join(j)),
        LogicalPlan::AntiJoin(j) => LogicalPlan::AntiJoin(narrow_join(j)),
        other => map_input(other, &mut narrow_plan),
    }
}

/// A semi-join or anti-join over every object whose condition requires kinds (`exists`
/// and `not exists` both range over the candidates the condition can hold for).
fn narrow_join(mut j: Join) -> Join {
    j.input = Box::new(narrow_plan(*j.input));
    if let JoinSource::Scan(Source::Scan {
        kinds: kinds @ KindSet::All,
        ..
    }) = &mut j.source
    {
        if let Some(k) = j.on.as_ref().and_then(|c| required_kinds(c, j.var)) {
            *kinds = KindSet::Kinds(k);
        }
    }
    j
}

/// Sub-queries: `any`, `exists`, `none` and `count` over every object.
fn narrow(e: Expr) -> Expr {
    match e {
        Expr::Quant {
            quant,
            var,
            source:
                Source::Scan {
                    kinds: KindSet::All,
                    namespace,
                },
            cond: Some(cond),
        } if quant != Quant::All => {
            let kinds = required_kinds(&cond, var).map_or(KindSet::All, KindSet::Kinds);
            Expr::Quant {
                quant,
                var,
                source: Source::Scan { kinds, namespace },
                cond: Some(cond),
            }
        }
        other => other,
    }
}

/// The kinds a filter on `var` requires: one of its conjuncts is `var.kind == "K"` or
/// `var.kind in ["K1", "K2"]` (strings only). Sorted, without repeats.
fn required_kinds(cond: &Expr, var: VarId) -> Option<Vec<Arc<str>>> {
    let mut parts = Vec::new();
    conjuncts(cond.clone(), &mut parts);
    parts.iter().find_map(|p| {
        let is_kind = |e: &Expr| matches!(e, Expr::Attr(b, Attr::Kind) if **b == Expr::Var(var));
        let mut kinds: Vec<Arc<str>> = match p {
            Expr::Cmp(CmpOp::Eq, a, b) => match (&**a, &**b) {
                (k, Expr::Const(Const::Str(s))) | (Expr::Const(Const::Str(s)), k) if is_kind(k) => {
                    vec![s.clone()]
                }
                _ => return None,
            },
            Expr::Cmp(CmpOp::In, a, b) if is_kind(a) => match &**b {
                Expr::Const(Const::List(items)) => items
                    .iter()
                    .map(|c| match c {
                        Const::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
                Expr::List(items) => items
                    .iter()
                    .map(|c| match c {
                        Expr::Const(Const::Str(s)) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
                _ => return None,
            },
            _ => return None,
        };
        kinds.sort();
        kinds.dedup();
        Some(kinds)
    })
}
