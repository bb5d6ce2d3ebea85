//! `decorrelate_subqueries`: turns top-level `exists` / `not exists` conjuncts over kinds
//! into semi-joins and anti-joins, so later rules can place them and pick an index.

use super::{OptimizerRule, conjoin, conjuncts};
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
            for p in parts {
                match as_join(&p) {
                    Some(Sub::Semi(mut j)) => {
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
