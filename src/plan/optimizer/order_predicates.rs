//! `order_predicates`: within each operator's filter list, evaluates first the predicates
//! that reject the most rows for the least work. Each predicate gets a rough cost (how
//! many expression nodes it evaluates, with a list assumed to hold a few elements) and a
//! rough chance of being true (`x == "text"` seldom is, `x != "text"` mostly is); the list
//! is sorted by cost / chance of being false, the order that minimises the expected work
//! of a conjunction of independent predicates. Chains of `and` inside an expression (a
//! quantifier's condition) are ordered the same way, and chains of `or` by cost / chance
//! of being true.
//!
//! Only predicates that can add objects to the evidence chain (quantifiers, sub-queries,
//! identity attributes) have an order that shows in the output; they keep their relative
//! order, and every other predicate moves freely around them.

use super::{OptimizerRule, map_input, map_plan_exprs};
use crate::check::ir::{Attr, Builtin, CmpOp, Const, Expr, Program, Quant, Source};
use crate::plan::logical::LogicalPlan;

/// See the module docs.
pub struct OrderPredicates;

impl OptimizerRule for OrderPredicates {
    fn name(&self) -> &'static str {
        "order_predicates"
    }

    fn rewrite(&self, plan: LogicalPlan, _: &Program) -> LogicalPlan {
        order(map_plan_exprs(plan, &mut order_chains))
    }
}

/// The cost given to a sub-query over objects or a relation: above any predicate over the
/// row's own values.
const SUB_QUERY: f64 = 1000.0;

/// How many elements a list in a document is assumed to hold.
const LIST_LEN: i32 = 3;

/// A predicate's estimated cost and chance of being true.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Estimate {
    cost: f64,
    chance: f64,
}

impl Estimate {
    fn new(cost: f64, chance: f64) -> Estimate {
        Estimate { cost, chance }
    }

    /// Cost per row rejected: the sort key of a conjunction's members.
    fn rank(self) -> f64 {
        self.cost / (1.0 - self.chance).max(0.01)
    }
}

fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Const(Const::Null))
}

fn is_value(e: &Expr) -> bool {
    matches!(e, Expr::Const(c) if !matches!(c, Const::Null))
}

/// The chance that a comparison holds.
fn cmp_chance(op: CmpOp, a: &Expr, b: &Expr) -> f64 {
    let against_value = is_value(a) || is_value(b);
    let against_null = is_null(a) || is_null(b);
    match op {
        CmpOp::Eq if against_value => 0.05,
        CmpOp::Ne if against_value => 0.95,
        CmpOp::Eq | CmpOp::Ne if against_null => 0.5,
        CmpOp::Contains | CmpOp::StartsWith | CmpOp::EndsWith => 0.1,
        CmpOp::In => 0.2,
        CmpOp::NotIn => 0.8,
        _ => 0.5,
    }
}

/// The cost of a built-in function's own work: reading a command line's flags, parsing an
/// image reference or a version, or a few steps for the others.
fn call_cost(f: Builtin) -> f64 {
    match f {
        Builtin::Flag | Builtin::Flags | Builtin::HasFlag => 20.0,
        Builtin::Image | Builtin::Version | Builtin::Quantity | Builtin::Split => 12.0,
        _ => 8.0,
    }
}

fn estimate(e: &Expr) -> Estimate {
    match e {
        Expr::Quant {
            source: Source::Scan { .. },
            ..
        }
        | Expr::Probe { .. }
        | Expr::Relation { .. } => Estimate::new(SUB_QUERY, 0.5),
        Expr::Quant {
            quant,
            source: Source::Expr(src),
            cond,
            ..
        } => {
            let each = cond.as_deref().map_or(Estimate::new(0.0, 1.0), estimate);
            let n = f64::from(LIST_LEN);
            let some = 1.0 - (1.0 - each.chance).powi(LIST_LEN);
            let chance = match quant {
                Quant::Any | Quant::Exists => some,
                Quant::All => each.chance.powi(LIST_LEN),
                Quant::None => 1.0 - some,
                Quant::Count => 0.5,
            };
            Estimate::new(2.0 + estimate(src).cost + n * (1.0 + each.cost), chance)
        }
        Expr::Const(Const::Bool(b)) => Estimate::new(0.0, if *b { 1.0 } else { 0.0 }),
        Expr::Const(_) | Expr::Var(_) | Expr::Param(_) | Expr::Table(_) => Estimate::new(0.0, 0.5),
        Expr::Field(b, _) => Estimate::new(1.0 + estimate(b).cost, 0.5),
        Expr::Memo(_, b) | Expr::Shared { expr: b, .. } => estimate(b),
        Expr::Not(b) => {
            let x = estimate(b);
            Estimate::new(1.0 + x.cost, 1.0 - x.chance)
        }
        Expr::And(a, b) => {
            let (a, b) = (estimate(a), estimate(b));
            Estimate::new(1.0 + a.cost + a.chance * b.cost, a.chance * b.chance)
        }
        Expr::Or(a, b) => {
            let (a, b) = (estimate(a), estimate(b));
            Estimate::new(
                1.0 + a.cost + (1.0 - a.chance) * b.cost,
                a.chance + b.chance - a.chance * b.chance,
            )
        }
        Expr::Cmp(op, a, b) => Estimate::new(
            1.0 + estimate(a).cost + estimate(b).cost,
            cmp_chance(*op, a, b),
        ),
        Expr::Index(a, b) | Expr::Coalesce(a, b) => {
            Estimate::new(1.0 + estimate(a).cost + estimate(b).cost, 0.5)
        }
        // an object's kind, name and namespace are read in the graph's object (a comparison
        // with a constant is made in place), where a field is looked up in its document
        Expr::Attr(b, Attr::Kind | Attr::Name | Attr::Namespace) => {
            Estimate::new(1.0 + estimate(b).cost, 0.5)
        }
        Expr::Attr(b, _) => Estimate::new(4.0 + estimate(b).cost, 0.5),
        Expr::Selects(a, b) => Estimate::new(5.0 + estimate(a).cost + estimate(b).cost, 0.5),
        Expr::Matches(b, _) => Estimate::new(10.0 + estimate(b).cost, 0.2),
        Expr::Call(f, args) => Estimate::new(
            call_cost(*f) + args.iter().map(|a| estimate(a).cost).sum::<f64>(),
            0.5,
        ),
        Expr::List(items) => Estimate::new(items.iter().map(|a| estimate(a).cost).sum(), 0.5),
    }
}

/// Whether evaluating `e` can add objects to the evidence chain: a quantifier (its witness),
/// a sub-query, a relation, or an identity attribute.
fn may_add_evidence(e: &Expr) -> bool {
    let mut found = matches!(
        e,
        Expr::Quant { .. }
            | Expr::Probe { .. }
            | Expr::Relation { .. }
            | Expr::Attr(
                _,
                Attr::ServiceAccount | Attr::Role | Attr::Target | Attr::Bindings
            )
    );
    if !found {
        e.for_each_child(&mut |c: &Expr| found = found || may_add_evidence(c));
    }
    found
}

fn sort(filters: &mut Vec<Expr>) {
    if filters.len() < 2 {
        return;
    }
    // the predicates that move freely, by rank; the evidence-adding ones, a chain in
    // written order, cut into runs that each go as one (a run costs its first member's
    // cost plus, when that holds, the rest's): a run whose rank is above the next one's is
    // joined with it, so the runs' ranks rise along the chain and a merge by rank keeps the
    // chain's order
    let mut free: Vec<(f64, Expr)> = Vec::new();
    let mut runs: Vec<(Estimate, Vec<Expr>)> = Vec::new();
    for e in std::mem::take(filters) {
        let est = estimate(&e);
        if !may_add_evidence(&e) {
            free.push((est.rank(), e));
            continue;
        }
        runs.push((est, vec![e]));
        while let [.., (a, _), (b, _)] = runs.as_slice() {
            let (a, b) = (*a, *b);
            if a.rank() <= b.rank() {
                break;
            }
            let Some((_, tail)) = runs.pop() else { break };
            if let Some(last) = runs.last_mut() {
                last.0 = Estimate::new(a.cost + a.chance * b.cost, a.chance * b.chance);
                last.1.extend(tail);
            }
        }
    }
    free.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut free = free.into_iter().peekable();
    for (est, run) in runs {
        while let Some((_, e)) = free.next_if(|(r, _)| *r <= est.rank()) {
            filters.push(e);
        }
        filters.extend(run);
    }
    filters.extend(free.map(|(_, e)| e));
}

/// The members of a chain of `and` (or of `or`), in written order.
fn flatten(e: Expr, and: bool, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) if and => {
            flatten(*a, and, out);
            flatten(*b, and, out);
        }
        Expr::Or(a, b) if !and => {
            flatten(*a, and, out);
            flatten(*b, and, out);
        }
        other => out.push(other),
    }
}

/// A chain of `and` or `or` within an expression (the children already ordered) in the
/// order [`sort`] gives: a conjunction by cost per `false`, a disjunction by cost per
/// `true`. A disjunction keeps the evidence of the first member that holds, so one with a
/// member that can add evidence keeps its written order.
fn order_chains(e: Expr) -> Expr {
    let and = match e {
        Expr::And(..) => true,
        Expr::Or(..) => false,
        other => return other,
    };
    let mut members = Vec::new();
    flatten(e, and, &mut members);
    if and {
        sort(&mut members);
    } else if !members.iter().any(may_add_evidence) {
        // `a or b` is `not (not a and not b)`: by cost per `true`, each estimated once
        let mut ranked: Vec<(f64, Expr)> = std::mem::take(&mut members)
            .into_iter()
            .map(|e| {
                let x = estimate(&e);
                (x.cost / x.chance.max(0.01), e)
            })
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
        members.extend(ranked.into_iter().map(|(_, e)| e));
    }
    let mut members = members.into_iter();
    let first = members.next().unwrap_or(Expr::Const(Const::Bool(and)));
    members.fold(first, |acc, m| {
        let (acc, m) = (Box::new(acc), Box::new(m));
        if and {
            Expr::And(acc, m)
        } else {
            Expr::Or(acc, m)
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ir::KindSet;
    use crate::plan::optimizer::rewrite_expr;
    use std::sync::Arc;

    fn var(v: usize) -> Expr {
        Expr::Var(v)
    }

    fn field(b: Expr, name: &str) -> Expr {
        Expr::Field(Box::new(b), Arc::from(name))
    }

    fn text(s: &str) -> Expr {
        Expr::Const(Const::Str(Arc::from(s)))
    }

    fn cmp(op: CmpOp, a: Expr, b: Expr) -> Expr {
        Expr::Cmp(op, Box::new(a), Box::new(b))
    }

    fn or(a: Expr, b: Expr) -> Expr {
        Expr::Or(Box::new(a), Box::new(b))
    }

    fn any(var: usize, list: Expr, cond: Expr) -> Expr {
        Expr::Quant {
            quant: Quant::Any,
            var,
            source: Source::Expr(Box::new(list)),
            cond: Some(Box::new(cond)),
        }
    }

    fn exists(var: usize, kind: &str, cond: Expr) -> Expr {
        Expr::Quant {
            quant: Quant::Exists,
            var,
            source: Source::Scan {
                kinds: KindSet::Kinds(vec![Arc::from(kind)]),
                namespace: None,
            },
            cond: Some(Box::new(cond)),
        }
    }

    /// `c.name == "kube-apiserver" or any x in c.command where x == "kube-apiserver"`.
    fn runs_api_server() -> Expr {
        or(
            cmp(CmpOp::Eq, field(var(1), "name"), text("kube-apiserver")),
            any(
                2,
                field(var(1), "command"),
                cmp(CmpOp::Eq, var(2), text("kube-apiserver")),
            ),
        )
    }

    /// `"AlwaysAdmit" in flags(c, "--enable-admission-plugins")`.
    fn plugin_enabled() -> Expr {
        cmp(
            CmpOp::In,
            text("AlwaysAdmit"),
            Expr::Call(
                Builtin::Flags,
                vec![var(1), text("--enable-admission-plugins")],
            ),
        )
    }

    #[test]
    fn a_rare_cheap_test_goes_before_reading_flags() {
        // the component test rejects nearly every container; reading the flags is dearer
        let mut filters = vec![plugin_enabled(), runs_api_server()];
        sort(&mut filters);
        assert_eq!(filters, vec![runs_api_server(), plugin_enabled()]);
        sort(&mut filters);
        assert_eq!(filters, vec![runs_api_server(), plugin_enabled()]);
    }

    #[test]
    fn a_test_that_seldom_fails_goes_last() {
        let ne = cmp(CmpOp::Ne, field(var(0), "kind"), text("Pod"));
        let eq = cmp(CmpOp::Eq, field(var(0), "kind"), text("Job"));
        let mut filters = vec![ne.clone(), eq.clone()];
        sort(&mut filters);
        assert_eq!(filters, vec![eq, ne]);
    }

    #[test]
    fn evidence_adding_predicates_keep_their_written_order() {
        // a sub-query (costly), then a quantifier over a list (cheaper): both can add
        // evidence, so the sub-query stays first; the plain comparisons move around them
        let sub = exists(
            3,
            "Service",
            cmp(CmpOp::Eq, field(var(3), "kind"), text("x")),
        );
        let quant = runs_api_server();
        let cheap = cmp(CmpOp::Eq, field(var(0), "kind"), text("Job"));
        let dear = plugin_enabled();
        let mut filters = vec![dear.clone(), sub.clone(), quant.clone(), cheap.clone()];
        sort(&mut filters);
        // the two go together, after the flags: the sub-query is dear, and the quantifier
        // may not go before it
        assert_eq!(
            filters,
            vec![cheap.clone(), dear.clone(), sub.clone(), quant.clone()]
        );
        // written the other way round, the cheap quantifier leads and the sub-query
        // follows it, last
        let mut filters = vec![dear.clone(), quant.clone(), sub.clone(), cheap.clone()];
        sort(&mut filters);
        assert_eq!(filters, vec![cheap, quant, dear, sub]);
        assert!(may_add_evidence(&filters[1]) && may_add_evidence(&filters[3]));
        assert!(!may_add_evidence(&filters[0]) && !may_add_evidence(&filters[2]));
    }

    #[test]
    fn identity_attributes_add_evidence() {
        let sa = Expr::Attr(Box::new(var(0)), Attr::ServiceAccount);
        assert!(may_add_evidence(&cmp(
            CmpOp::Eq,
            sa,
            Expr::Const(Const::Null)
        )));
        assert!(!may_add_evidence(&plugin_enabled()));
    }

    fn and(a: Expr, b: Expr) -> Expr {
        Expr::And(Box::new(a), Box::new(b))
    }

    #[test]
    fn chains_inside_an_expression_are_ordered() {
        // `any c in w.containers where <flags> and <component>`: the component test first
        let name_is = cmp(CmpOp::Eq, field(var(1), "name"), text("kube-apiserver"));
        let written = any(
            1,
            field(var(0), "containers"),
            and(plugin_enabled(), name_is.clone()),
        );
        let ordered = any(
            1,
            field(var(0), "containers"),
            and(name_is.clone(), plugin_enabled()),
        );
        assert_eq!(rewrite_expr(written, &mut order_chains), ordered);
        // a disjunction by cost per `true`: the rare test does not go first
        let ne = cmp(CmpOp::Ne, field(var(1), "image"), text("x"));
        assert_eq!(
            rewrite_expr(or(name_is.clone(), ne.clone()), &mut order_chains),
            or(ne.clone(), name_is.clone())
        );
        // one that can add evidence keeps its written order
        let sub = exists(
            3,
            "Service",
            cmp(CmpOp::Eq, field(var(3), "kind"), text("x")),
        );
        // (the chain is only rebuilt from the left)
        let kept = or(name_is.clone(), or(sub.clone(), ne.clone()));
        assert_eq!(
            rewrite_expr(kept, &mut order_chains),
            or(or(name_is, sub), ne)
        );
    }
}
