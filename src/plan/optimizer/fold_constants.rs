//! `fold_constants`: replaces parameters and data tables by their values and simplifies
//! boolean logic over constants.

use super::{OptimizerRule, map_plan_exprs};
use crate::check::ir::{Const, Expr, Program};
use crate::plan::logical::LogicalPlan;

/// See the module docs.
pub struct FoldConstants;

impl OptimizerRule for FoldConstants {
    fn name(&self) -> &'static str {
        "fold_constants"
    }

    fn rewrite(&self, plan: LogicalPlan, program: &Program) -> LogicalPlan {
        map_plan_exprs(plan, &mut |e| fold(e, program))
    }
}

fn as_bool(e: &Expr) -> Option<bool> {
    match e {
        Expr::Const(Const::Bool(b)) => Some(*b),
        Expr::Const(Const::Null) => Some(false),
        _ => None,
    }
}

fn fold(e: Expr, program: &Program) -> Expr {
    match e {
        Expr::Param(i) => program
            .params
            .get(i)
            .map_or(Expr::Const(Const::Null), |p| Expr::Const(p.value.clone())),
        Expr::Table(i) => program
            .tables
            .get(i)
            .map_or(Expr::Const(Const::Null), |t| Expr::Const(t.rows.clone())),
        Expr::Not(x) => match as_bool(&x) {
            Some(b) => Expr::Const(Const::Bool(!b)),
            None => Expr::Not(x),
        },
        Expr::And(a, b) => match (as_bool(&a), as_bool(&b)) {
            (Some(false), _) => Expr::Const(Const::Bool(false)),
            (Some(true), _) => truthy(*b),
            (_, Some(true)) => truthy(*a),
            _ => Expr::And(a, b),
        },
        Expr::Or(a, b) => match (as_bool(&a), as_bool(&b)) {
            (Some(true), _) => Expr::Const(Const::Bool(true)),
            (Some(false), _) => truthy(*b),
            (_, Some(false)) => truthy(*a),
            _ => Expr::Or(a, b),
        },
        other => other,
    }
}

/// `x` as a boolean: booleans stay, anything else is compared with `true` so that the
/// folded expression keeps the condition semantics (null and non-booleans are false).
fn truthy(e: Expr) -> Expr {
    match e {
        Expr::Const(Const::Bool(_))
        | Expr::Not(_)
        | Expr::And(..)
        | Expr::Or(..)
        | Expr::Cmp(..)
        | Expr::Matches(..)
        | Expr::Selects(..) => e,
        Expr::Quant { quant, .. } if quant != crate::check::ir::Quant::Count => e,
        Expr::Probe { quant, .. } if quant != crate::check::ir::Quant::Count => e,
        other => Expr::Cmp(
            crate::check::ir::CmpOp::Eq,
            Box::new(other),
            Box::new(Expr::Const(Const::Bool(true))),
        ),
    }
}
