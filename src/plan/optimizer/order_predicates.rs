//! `order_predicates`: within each operator's filter list, evaluates cheap predicates
//! first (field comparisons before function calls before sub-queries). Sub-queries keep
//! their relative order, so evidence chains do not change.

use super::{OptimizerRule, map_input};
use crate::check::ir::{Expr, Program};
use crate::plan::logical::LogicalPlan;

/// See the module docs.
pub struct OrderPredicates;

impl OptimizerRule for OrderPredicates {
    fn name(&self) -> &'static str {
        "order_predicates"
    }

    fn rewrite(&self, plan: LogicalPlan, _: &Program) -> LogicalPlan {
        order(plan)
    }
}

/// A rough cost class; sub-queries all share the top class so they never swap.
pub(crate) fn cost(e: &Expr) -> u32 {
    match e {
        Expr::Quant { .. } | Expr::Probe { .. } | Expr::Relation { .. } => 1000,
        Expr::Const(_) | Expr::Var(_) | Expr::Param(_) | Expr::Table(_) => 0,
        Expr::Field(b, _) | Expr::Not(b) => 1 + cost(b),
        Expr::Memo(_, b) => cost(b),
        Expr::Index(a, b)
        | Expr::Cmp(_, a, b)
        | Expr::Coalesce(a, b)
        | Expr::And(a, b)
        | Expr::Or(a, b) => (1 + cost(a) + cost(b)).min(1000),
        Expr::Attr(b, _) => 4 + cost(b),
        Expr::Selects(a, b) => 5 + cost(a) + cost(b),
        Expr::Matches(b, _) => 10 + cost(b),
        Expr::Call(_, args) => (8 + args.iter().map(cost).sum::<u32>()).min(1000),
        Expr::List(items) => items.iter().map(cost).sum::<u32>().min(1000),
    }
}

fn sort(filters: &mut [Expr]) {
    filters.sort_by_key(|e| cost(e).min(1000));
}

fn order(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Scan(mut s) => {
            sort(&mut s.filters);
            LogicalPlan::Scan(s)
        }
        LogicalPlan::Unnest(mut u) => {
            sort(&mut u.filters);
            map_input(LogicalPlan::Unnest(u), &mut order)
        }
        LogicalPlan::Traverse(mut u) => {
            sort(&mut u.filters);
            map_input(LogicalPlan::Traverse(u), &mut order)
        }
        other => map_input(other, &mut order),
    }
}
