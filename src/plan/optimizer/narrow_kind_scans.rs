//! `narrow_kind_scans`: a scan of every object whose filter holds only for some kinds
//! (`exists o in objects where o.kind == "ClusterPolicy" and ...`, `o.kind in [...]`) reads
//! only the objects of those kinds, through the kind index, instead of every object. A
//! filter that holds only for objects that run pods (`any c in o.containers where ...`,
//! `o.podSpec != null`), or for those and some kinds (`o.kind == "KubeletConfiguration"
//! and ... or any c in o.containers where ...`), reads every object that runs pods and
//! those kinds. A scan joined with a table on its kind (`for o in objects, r in
//! removed_apis where r.kind == o.kind`) reads the kinds the table names. The filter stays
//! as it was, so the result is the same; only `all` is left alone, because it ranges over
//! every object whatever the filter says.

use super::{OptimizerRule, map_input, map_plan_exprs};
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

/// Rule-level scans: a `Scan` of every object with pushed-down filters that hold only for
/// some objects.
fn narrow_plan(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Scan(mut s) if s.kinds == KindSet::All => {
            if let Some(allowed) = s
                .filters
                .iter()
                .filter_map(|f| required(f, s.var))
                .reduce(Allowed::both)
            {
                s.kinds = allowed.into_set();
            }
            LogicalPlan::Scan(s)
        }
        LogicalPlan::SemiJoin(j) => LogicalPlan::SemiJoin(narrow_join(j)),
        LogicalPlan::AntiJoin(j) => LogicalPlan::AntiJoin(narrow_join(j)),
        LogicalPlan::Unnest(mut u) => {
            let mut input = narrow_plan(*u.input);
            if let LogicalPlan::Scan(s) = &mut input
                && s.kinds == KindSet::All
                && let Some(kinds) = kinds_of_rows(&u.source, &u.filters, u.var, s.var)
            {
                s.kinds = KindSet::Kinds(kinds);
            }
            u.input = Box::new(input);
            LogicalPlan::Unnest(u)
        }
        other => map_input(other, &mut narrow_plan),
    }
}

/// The kinds a scan of `var` is joined with, when the binding of `row` over it ranges over
/// a constant list of rows (a table) with a filter `row.field == var.kind`: an object of
/// another kind gives no row. A row whose field is not a string matches no object (every
/// object's kind is a string). Sorted, without repeats.
fn kinds_of_rows(
    source: &Source,
    filters: &[Expr],
    row: VarId,
    var: VarId,
) -> Option<Vec<Arc<str>>> {
    let Source::Expr(list) = source else {
        return None;
    };
    let Expr::Const(Const::List(rows)) = &**list else {
        return None;
    };
    let field = filters.iter().find_map(|f| match f {
        Expr::Cmp(CmpOp::Eq, a, b) => match (&**a, &**b) {
            (Expr::Field(r, name), Expr::Attr(o, Attr::Kind))
            | (Expr::Attr(o, Attr::Kind), Expr::Field(r, name))
                if **r == Expr::Var(row) && **o == Expr::Var(var) =>
            {
                Some(name)
            }
            _ => None,
        },
        _ => None,
    })?;
    let kinds = rows
        .iter()
        .filter_map(|row| match row {
            Const::Map(entries) => match entries.iter().find(|(k, _)| k == field) {
                Some((_, Const::Str(s))) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    Some(Allowed::kinds(kinds).kinds)
}

/// A semi-join or anti-join over every object whose condition holds only for some objects
/// (`exists` and `not exists` both range over the candidates the condition can hold for).
fn narrow_join(mut j: Join) -> Join {
    j.input = Box::new(narrow_plan(*j.input));
    if let JoinSource::Scan(Source::Scan {
        kinds: kinds @ KindSet::All,
        ..
    }) = &mut j.source
    {
        if let Some(allowed) = j.on.as_ref().and_then(|c| required(c, j.var)) {
            *kinds = allowed.into_set();
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
            let kinds = required(&cond, var).map_or(KindSet::All, Allowed::into_set);
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

/// The objects a condition can hold for: those of `kinds`, and every object that runs
/// pods when `pods`.
struct Allowed {
    pods: bool,
    kinds: Vec<Arc<str>>,
}

impl Allowed {
    fn kinds(mut kinds: Vec<Arc<str>>) -> Allowed {
        kinds.sort();
        kinds.dedup();
        Allowed { pods: false, kinds }
    }

    fn pods() -> Allowed {
        Allowed {
            pods: true,
            kinds: Vec::new(),
        }
    }

    /// What two conditions that must both hold leave: what both allow; of kinds and the
    /// objects that run pods, the kinds (fewer to read, and every object they hold is read).
    fn both(self, other: Allowed) -> Allowed {
        match (self.pods, other.pods) {
            (false, true) => self,
            (true, false) => other,
            (pods, _) => Allowed {
                pods,
                kinds: self
                    .kinds
                    .into_iter()
                    .filter(|k| other.kinds.contains(k))
                    .collect(),
            },
        }
    }

    /// What either of two conditions allows.
    fn either(self, other: Allowed) -> Allowed {
        let pods = self.pods || other.pods;
        let mut kinds = self.kinds;
        kinds.extend(other.kinds);
        Allowed {
            pods,
            ..Allowed::kinds(kinds)
        }
    }

    fn into_set(self) -> KindSet {
        if self.pods {
            KindSet::PodsAnd(self.kinds)
        } else {
            KindSet::Kinds(self.kinds)
        }
    }
}

/// The objects outside which a condition on `var` cannot hold, when it says: `var.kind ==
/// "K"` or `var.kind in ["K1", "K2"]` (strings only) give those kinds; `any` or `exists`
/// over `var.containers`, and `var.podSpec != null`, the objects that run pods (the others
/// have no containers and no pod spec); `a and b` what both give (or either one), `a or b`
/// what either gives when both give one.
fn required(cond: &Expr, var: VarId) -> Option<Allowed> {
    let of_var =
        |e: &Expr, attr: Attr| matches!(e, Expr::Attr(b, a) if *a == attr && **b == Expr::Var(var));
    let kinds: Vec<Arc<str>> = match cond {
        Expr::And(a, b) => {
            return match (required(a, var), required(b, var)) {
                (Some(x), Some(y)) => Some(x.both(y)),
                (x, y) => x.or(y),
            };
        }
        Expr::Or(a, b) => return Some(required(a, var)?.either(required(b, var)?)),
        Expr::Quant {
            quant: Quant::Any | Quant::Exists,
            source: Source::Expr(e),
            ..
        } if of_var(e, Attr::Containers) => return Some(Allowed::pods()),
        Expr::Cmp(CmpOp::Ne, a, b) => match (&**a, &**b) {
            (p, Expr::Const(Const::Null)) | (Expr::Const(Const::Null), p)
                if of_var(p, Attr::PodSpec) =>
            {
                return Some(Allowed::pods());
            }
            _ => return None,
        },
        Expr::Cmp(CmpOp::Eq, a, b) => match (&**a, &**b) {
            (k, Expr::Const(Const::Str(s))) | (Expr::Const(Const::Str(s)), k)
                if of_var(k, Attr::Kind) =>
            {
                vec![s.clone()]
            }
            _ => return None,
        },
        Expr::Cmp(CmpOp::In, a, b) if of_var(a, Attr::Kind) => match &**b {
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
    Some(Allowed::kinds(kinds))
}
