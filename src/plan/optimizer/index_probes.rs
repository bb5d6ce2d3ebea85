//! `index_probes`: answers sub-queries through an index instead of a nested loop.
//!
//! - `exists np in networkpolicies where np selects w` (also Service,
//!   PodDisruptionBudget and the Cilium and Calico policy kinds) probes the reverse
//!   selection adjacency of `w`;
//! - `exists x in <kind>(ns) where x.name == e` probes the name index per kind and
//!   namespace;
//! - `exists t in <constant table> where t.column == e` (also `any`, `none` and `count`)
//!   reads only the rows whose column holds the string that `e` is, through an index of the
//!   table built once when the rule is planned: a rule that asks whether a role is one of
//!   the 81 default roles reads one or two rows instead of 81.
//!
//! Residual conditions stay as a filter on the probed candidates, and a namespace given
//! to the scan is kept as a residual `x.namespace == ns` check, so results do not change.
//! A table probe keeps the whole condition, its equality too: the rows it leaves out are
//! those where the equality is false, which no `exists`, `any`, `none` or `count` counts
//! (`all` is left as it is).

use super::{OptimizerRule, conjoin, conjuncts, free_vars, map_input, map_plan_exprs};
use crate::check::ir::{
    Access, Attr, CmpOp, Const, Expr, KindSet, Program, Quant, RowIndex, Source, VarId,
};
use crate::plan::logical::{Join, JoinSource, LogicalPlan};
use crate::schema::kinds;
use std::sync::Arc;

/// See the module docs.
pub struct IndexProbes;

impl OptimizerRule for IndexProbes {
    fn name(&self) -> &'static str {
        "index_probes"
    }

    fn rewrite(&self, plan: LogicalPlan, _: &Program) -> LogicalPlan {
        let plan = map_plan_exprs(plan, &mut probe_expr);
        rewrite_joins(plan)
    }
}

/// Kinds whose selection edges the graph holds (reverse adjacency per workload).
const SELECTORS: &[&str] = &[
    "NetworkPolicy",
    "Service",
    "PodDisruptionBudget",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
];

/// Chooses an access path for a sub-query over `source` with condition `cond`.
/// Returns the access and the residual condition.
fn choose(var: VarId, source: &Source, cond: Option<&Expr>) -> Option<(Access, Option<Expr>)> {
    let Source::Scan {
        kinds: kset,
        namespace,
    } = source
    else {
        return None;
    };
    let KindSet::Kinds(ks) = kset else {
        return None;
    };
    let mut parts = Vec::new();
    if let Some(c) = cond {
        conjuncts(c.clone(), &mut parts);
    }
    let ns_check = |var: VarId| {
        namespace.as_ref().map(|ns| {
            Expr::Cmp(
                CmpOp::Eq,
                Box::new(Expr::Attr(Box::new(Expr::Var(var)), Attr::Namespace)),
                ns.clone(),
            )
        })
    };
    // label index
    if let [kind] = ks.as_slice() {
        if SELECTORS.contains(&&**kind) {
            let pos = parts.iter().position(|p| match p {
                Expr::Selects(a, t) => **a == Expr::Var(var) && !free_vars(t).contains(&var),
                _ => false,
            });
            if let Some(i) = pos {
                let Expr::Selects(_, target) = parts.remove(i) else {
                    return None;
                };
                // a namespaced selector never selects across namespaces: a namespace equal
                // to the target's own needs no residual check
                let same_ns = kinds::is_namespaced(kind)
                    && namespace
                        .as_deref()
                        .is_some_and(|ns| *ns == Expr::Attr(target.clone(), Attr::Namespace));
                let mut rest: Vec<Expr> = if same_ns {
                    Vec::new()
                } else {
                    ns_check(var).into_iter().collect()
                };
                rest.extend(parts);
                return Some((
                    Access::SelectedBy {
                        kind: kind.clone(),
                        target,
                    },
                    conjoin(rest),
                ));
            }
        }
    }
    // name index: namespaced kinds need the namespace
    let cluster_scoped = ks.iter().all(|k| !kinds::is_namespaced(k));
    if namespace.is_none() && !cluster_scoped {
        return None;
    }
    let is_name = |e: &Expr| matches!(e, Expr::Attr(b, Attr::Name) if **b == Expr::Var(var));
    let pos = parts.iter().position(|p| match p {
        Expr::Cmp(CmpOp::Eq, a, b) => {
            (is_name(a) && !free_vars(b).contains(&var))
                || (is_name(b) && !free_vars(a).contains(&var))
        }
        _ => false,
    });
    let i = pos?;
    let Expr::Cmp(_, a, b) = parts.remove(i) else {
        return None;
    };
    let name = if is_name(&a) { b } else { a };
    Some((
        Access::ByName {
            kinds: kset.clone(),
            namespace: namespace.clone(),
            name,
        },
        conjoin(parts),
    ))
}

/// The fewest rows a constant table has for a probe of it (a shorter one is read about
/// as fast as it is probed).
const MIN_TABLE_ROWS: usize = 8;

/// A probe of the constant table `source` for `quant t in source where cond`, when `cond`
/// compares a column of `t` with a value that does not read `t`: the column with the most
/// different strings. The condition stays whole.
fn choose_rows(quant: Quant, var: VarId, source: &Source, cond: Option<&Expr>) -> Option<Access> {
    if quant == Quant::All {
        return None;
    }
    let Source::Expr(e) = source else {
        return None;
    };
    let Expr::Const(Const::List(rows)) = &**e else {
        return None;
    };
    if rows.len() < MIN_TABLE_ROWS || !rows.iter().all(|r| matches!(r, Const::Map(_))) {
        return None;
    }
    let mut parts = Vec::new();
    conjuncts(cond?.clone(), &mut parts);
    let column = |e: &Expr| match e {
        Expr::Field(b, name) if **b == Expr::Var(var) => Some(name.clone()),
        _ => None,
    };
    parts
        .into_iter()
        .filter_map(|p| match p {
            Expr::Cmp(CmpOp::Eq, a, b) => match (column(&a), column(&b)) {
                (Some(c), _) if !free_vars(&b).contains(&var) => Some((c, b)),
                (_, Some(c)) if !free_vars(&a).contains(&var) => Some((c, a)),
                _ => None,
            },
            _ => None,
        })
        .map(|(c, key)| (RowIndex::new(Arc::clone(rows), c), key))
        // the most telling column; the first of equals
        .fold(
            None,
            |best: Option<(RowIndex, Box<Expr>)>, (index, key)| match best {
                Some(b) if b.0.distinct() >= index.distinct() => Some(b),
                _ => Some((index, key)),
            },
        )
        .filter(|(index, _)| index.distinct() > 1)
        .map(|(index, key)| Access::Rows {
            index: Arc::new(index),
            key,
        })
}

fn probe_expr(e: Expr) -> Expr {
    match e {
        Expr::Quant {
            quant,
            var,
            source,
            cond,
        } => match choose_rows(quant, var, &source, cond.as_deref()) {
            Some(access) => Expr::Probe {
                quant,
                var,
                access,
                cond,
            },
            None => probe_scan(quant, var, source, cond),
        },
        other => other,
    }
}

fn probe_scan(quant: Quant, var: VarId, source: Source, cond: Option<Box<Expr>>) -> Expr {
    match choose(var, &source, cond.as_deref()) {
        Some((access, rest)) => Expr::Probe {
            quant,
            var,
            access,
            cond: rest.map(Box::new),
        },
        None => Expr::Quant {
            quant,
            var,
            source,
            cond,
        },
    }
}

fn rewrite_join(mut j: Join) -> Join {
    j.input = Box::new(rewrite_joins(*j.input));
    if let JoinSource::Scan(source) = &j.source {
        if let Some((access, rest)) = choose(j.var, source, j.on.as_ref()) {
            j.source = JoinSource::Probe(access);
            j.on = rest;
        }
    }
    j
}

fn rewrite_joins(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::SemiJoin(j) => LogicalPlan::SemiJoin(rewrite_join(j)),
        LogicalPlan::AntiJoin(j) => LogicalPlan::AntiJoin(rewrite_join(j)),
        other => map_input(other, &mut rewrite_joins),
    }
}
