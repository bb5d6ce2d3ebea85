//! `push_down_predicates`: moves every filter conjunct and every join to the lowest
//! operator that binds all the variables it reads: into the scan itself, into an unnest,
//! or right above it, so that work is done once per object rather than once per row.

use super::{OptimizerRule, conjuncts, free_vars, join_free};
use crate::check::ir::{Expr, Program, VarId};
use crate::plan::logical::{Filter, Join, LogicalPlan, Unnest};
use std::collections::BTreeSet;

/// See the module docs.
pub struct PushDownPredicates;

impl OptimizerRule for PushDownPredicates {
    fn name(&self) -> &'static str {
        "push_down_predicates"
    }

    fn rewrite(&self, plan: LogicalPlan, _: &Program) -> LogicalPlan {
        let LogicalPlan::Emit(mut emit) = plan else {
            return plan;
        };
        emit.input = Box::new(push_down(*emit.input));
        LogicalPlan::Emit(emit)
    }
}

enum Floating {
    Pred(Expr),
    Semi(Join),
    Anti(Join),
}

enum Binder {
    Unit,
    Scan(crate::plan::logical::Scan),
    Unnest(Unnest),
    Traverse(Unnest),
}

fn push_down(plan: LogicalPlan) -> LogicalPlan {
    // Take the pipeline apart, bottom-up.
    let mut binders: Vec<Binder> = Vec::new();
    let mut floating: Vec<Floating> = Vec::new();
    let mut node = plan;
    loop {
        node = match node {
            LogicalPlan::Filter(f) => {
                let mut parts = Vec::new();
                conjuncts(f.predicate, &mut parts);
                for p in parts.into_iter().rev() {
                    floating.push(Floating::Pred(p));
                }
                *f.input
            }
            LogicalPlan::SemiJoin(mut j) => {
                let input = std::mem::replace(&mut j.input, Box::new(LogicalPlan::Unit));
                floating.push(Floating::Semi(j));
                *input
            }
            LogicalPlan::AntiJoin(mut j) => {
                let input = std::mem::replace(&mut j.input, Box::new(LogicalPlan::Unit));
                floating.push(Floating::Anti(j));
                *input
            }
            LogicalPlan::Unnest(mut u) => {
                let input = std::mem::replace(&mut u.input, Box::new(LogicalPlan::Unit));
                binders.push(Binder::Unnest(u));
                *input
            }
            LogicalPlan::Traverse(mut u) => {
                let input = std::mem::replace(&mut u.input, Box::new(LogicalPlan::Unit));
                binders.push(Binder::Traverse(u));
                *input
            }
            LogicalPlan::Scan(s) => {
                binders.push(Binder::Scan(s));
                break;
            }
            LogicalPlan::Unit => {
                binders.push(Binder::Unit);
                break;
            }
            // an Emit inside a pipeline does not occur; keep it whole
            other @ LogicalPlan::Emit(_) => return other,
        };
    }
    binders.reverse();
    floating.reverse();
    // Variables bound up to and including each binder.
    let mut bound: Vec<BTreeSet<VarId>> = Vec::new();
    let mut acc = BTreeSet::new();
    for b in &binders {
        match b {
            Binder::Scan(s) => {
                acc.insert(s.var);
            }
            Binder::Unnest(u) | Binder::Traverse(u) => {
                acc.insert(u.var);
            }
            Binder::Unit => {}
        }
        bound.push(acc.clone());
    }
    let level = |needs: &BTreeSet<VarId>| {
        bound
            .iter()
            .position(|b| needs.is_subset(b))
            .unwrap_or(bound.len().saturating_sub(1))
    };
    let mut preds: Vec<Vec<Expr>> = binders.iter().map(|_| Vec::new()).collect();
    let mut joins: Vec<Vec<(bool, Join)>> = binders.iter().map(|_| Vec::new()).collect();
    for f in floating {
        match f {
            Floating::Pred(p) => {
                let k = level(&free_vars(&p));
                if let Some(slot) = preds.get_mut(k) {
                    slot.push(p);
                }
            }
            Floating::Semi(j) => {
                let k = level(&join_free(&j));
                if let Some(slot) = joins.get_mut(k) {
                    slot.push((false, j));
                }
            }
            Floating::Anti(j) => {
                let k = level(&join_free(&j));
                if let Some(slot) = joins.get_mut(k) {
                    slot.push((true, j));
                }
            }
        }
    }
    // Rebuild bottom-up.
    let mut plan = LogicalPlan::Unit;
    for ((b, ps), js) in binders.into_iter().zip(preds).zip(joins) {
        plan = match b {
            Binder::Unit => {
                let mut p = LogicalPlan::Unit;
                if let Some(pred) = super::conjoin(ps) {
                    p = LogicalPlan::Filter(Filter {
                        input: Box::new(p),
                        predicate: pred,
                    });
                }
                p
            }
            Binder::Scan(mut s) => {
                s.filters.extend(ps);
                LogicalPlan::Scan(s)
            }
            Binder::Unnest(mut u) => {
                u.input = Box::new(plan);
                u.filters.extend(ps);
                LogicalPlan::Unnest(u)
            }
            Binder::Traverse(mut u) => {
                u.input = Box::new(plan);
                u.filters.extend(ps);
                LogicalPlan::Traverse(u)
            }
        };
        for (anti, mut j) in js {
            j.input = Box::new(plan);
            plan = if anti {
                LogicalPlan::AntiJoin(j)
            } else {
                LogicalPlan::SemiJoin(j)
            };
        }
    }
    plan
}
