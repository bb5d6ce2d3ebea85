//! `decorrelate_subqueries`: turns top-level `exists` / `not exists` conjuncts over kinds
//! into semi-joins and anti-joins, so later rules can place them and pick an index.
//!
//! Conjuncts of a semi-join's condition that do not read the sub-query's variable are
//! hoisted out (`exists s where A(s) and B` is `B and exists s where A(s)`), so they are
//! evaluated once per row instead of once per candidate. Anti-joins keep their condition
//! whole: `not exists s where A(s) and B` is not `not B and ...`.

use super::{OptimizerRule, conjoin, conjuncts, free_vars};
use crate::check::ir::{Expr, Program, Quant, Source};
use crate::plan::logical::{Filter, Join, JoinSource, LogicalPlan};

/// See the module docs.
pub struct DecorrelateSubqueries;

impl OptimizerRule for DecorrelateSubqueries {
    fn name(&self) -> &'static str {
        "decorrelate_subqueries"
    }

    fn rewrite(&self, plan: LogicalPlan, _: &Program) -> LogicalPlan {
        rewrite(plan)
    }
}

enum Sub {
    Semi(Join),
    Anti(Join),
}

fn as_join(e: &Expr) -> Option<Sub> {
    let (quant, var, source, cond, negated) = match e {
        Expr::Quant {
            quant,
            var,
            source,
            cond,
        } => (*quant, *var, source, cond, false),
        Expr::Not(inner) => match &**inner {
            Expr::Quant {
                quant,
                var,
                source,
                cond,
            } => (*quant, *var, source, cond, true),
            _ => return None,
        },
        _ => return None,
    };
    if !matches!(source, Source::Scan { .. }) {
        return None;
    }
    let anti = match (quant, negated) {
        (Quant::Exists | Quant::Any, false) | (Quant::None, true) => false,
        (Quant::Exists | Quant::Any, true) | (Quant::None, false) => true,
        _ => return None,
    };
    let join = Join {
        input: Box::new(LogicalPlan::Unit),
        var,
        source: JoinSource::Scan(source.clone()),
        on: cond.as_deref().cloned(),
    };
    Some(if anti {
        Sub::Anti(join)
    } else {
        Sub::Semi(join)
    })
}

fn rewrite(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Emit(mut e) => {
            e.input = Box::new(rewrite(*e.input));
            LogicalPlan::Emit(e)
        }
        LogicalPlan::Filter(f) => {
            let mut parts = Vec::new();
            conjuncts(f.predicate, &mut parts);
            let mut input = *f.input;
            let mut rest = Vec::new();
            let mut hoisted = Vec::new();
            for p in parts {
                match as_join(&p) {
                    Some(Sub::Semi(mut j)) => {
                        if let Some(on) = j.on.take() {
                            let mut cs = Vec::new();
                            conjuncts(on, &mut cs);
                            let (inner, outer): (Vec<Expr>, Vec<Expr>) =
                                cs.into_iter().partition(|c| free_vars(c).contains(&j.var));
                            hoisted.extend(outer);
                            j.on = conjoin(inner);
                        }
                        j.input = Box::new(input);
                        input = LogicalPlan::SemiJoin(j);
                    }
                    Some(Sub::Anti(mut j)) => {
                        j.input = Box::new(input);
                        input = LogicalPlan::AntiJoin(j);
                    }
                    None => rest.push(p),
                }
            }
            rest.extend(hoisted);
            match conjoin(rest) {
                Some(predicate) => LogicalPlan::Filter(Filter {
                    input: Box::new(input),
                    predicate,
                }),
                None => input,
            }
        }
        other => other,
    }
}
