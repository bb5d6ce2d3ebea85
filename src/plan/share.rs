//! Conditions shared by the rules of a scan group: a condition that the rules of one group
//! test two or more times on the same values is answered once per value while the group
//! runs over a chunk of its objects ([`Expr::Shared`]).
//!
//! Rules are written with shared definitions, and the checker inlines them: fourteen rules
//! over `w in workloads, c in w.containers` first ask `kube_apiserver_flags(c)`, and almost
//! every container fails it; sixteen rules over the roles first ask `custom_role(ro)`; six
//! rules over every object ask `kubelet(c)` of each container inside a quantifier. A
//! condition (a filter, an operand of `and`, `or` or `not`, or a quantifier's condition:
//! what the executor tests) is shared when it reads exactly one variable (the scan's, a
//! binding's or a quantifier's; the variables of quantifiers inside it are its own), reads
//! no relation, and occurs, up to the names of its variables, at least twice in the rules of
//! the group. The outermost such condition is shared, not the ones inside it. Its answer is
//! kept by the value of that variable, with the steps its evaluation took and the evidence
//! it added; a rule that finds the answer kept counts the same steps and adds the same
//! evidence, so it sees what evaluating the condition would have given it. Only where the
//! step limit falls can differ from the rule planned alone: inside a shared condition the
//! rule's own kept sub-expressions (`plan::memo`) are not used, and a quantifier over
//! objects in it may have had answers kept without steps (`Ctx::test_kept`) by the rule that
//! evaluated it.

use super::memo::addr;
use super::physical::{PhysicalPlan, ScanGroup, for_each_filter_mut};
use crate::check::ir::{Expr, VarId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The smallest condition shared, in nodes: a field or two of a variable are read about as
/// fast as a kept answer is found.
const MIN_NODES: usize = 5;

/// Marks the conditions the rules of each scan group share. Ids are unique in the plan.
pub(crate) fn share(plan: &mut PhysicalPlan) {
    use rayon::prelude::*;
    // the groups' conditions classed on the thread pool, then numbered in group order
    let mut found: Vec<Classes> = plan.groups.par_iter_mut().map(classes).collect();
    let mut next = 0u32;
    for st in &mut found {
        for k in &mut st.classes {
            if k.count >= 2 {
                k.id = Some(next);
                next += 1;
            }
        }
    }
    // the outermost shared conditions are wrapped
    plan.groups.par_iter_mut().zip(&found).for_each(|(g, st)| {
        for rule in &mut g.rules {
            for_each_filter_mut(rule, &mut |f| st.wrap(f));
        }
    });
}

/// A class of equal conditions: its canonical form, how many times it occurs, and its id
/// once it is known to be shared.
struct Class {
    canon: Expr,
    count: usize,
    id: Option<u32>,
}

/// The class of every condition of a group's rules that may be shared, by its address.
fn classes(g: &mut ScanGroup) -> Classes {
    let mut st = Classes::default();
    for rule in &mut g.rules {
        for_each_filter_mut(rule, &mut |f| st.note(f, true));
    }
    st
}

/// The classes of equal conditions of a scan group, and where each occurs.
#[derive(Default)]
struct Classes {
    classes: Vec<Class>,
    by_hash: HashMap<u64, Vec<usize>>,
    /// The class and the variable of each condition that may be shared, by its address.
    at: HashMap<usize, (usize, VarId)>,
}

impl Classes {
    /// Notes `e` (when `tested`: a filter, an operand of `and`, `or` or `not`, or a
    /// quantifier's condition, which the executor tests) and the conditions inside it.
    fn note(&mut self, e: &Expr, tested: bool) {
        if tested {
            if let Some((canon, var)) = candidate(e) {
                let c = self.class(canon);
                self.at.insert(addr(e), (c, var));
            }
        }
        let cond = match e {
            Expr::Quant { cond, .. } | Expr::Probe { cond, .. } => cond.as_deref().map(addr),
            _ => None,
        };
        let logical = matches!(e, Expr::And(..) | Expr::Or(..) | Expr::Not(_));
        e.for_each_child(&mut |c| self.note(c, logical || cond == Some(addr(c))));
    }

    /// The class of a canonical condition, counted once more.
    fn class(&mut self, canon: Expr) -> usize {
        let hash = shape_hash(&canon);
        let bucket = self.by_hash.entry(hash).or_default();
        let classes = &mut self.classes;
        let found = bucket
            .iter()
            .copied()
            .find(|&c| classes.get(c).is_some_and(|k| k.canon == canon));
        let c = found.unwrap_or_else(|| {
            classes.push(Class {
                canon,
                count: 0,
                id: None,
            });
            bucket.push(classes.len() - 1);
            classes.len() - 1
        });
        if let Some(k) = classes.get_mut(c) {
            k.count += 1;
        }
        c
    }

    /// Wraps the outermost shared conditions of `e`.
    fn wrap(&self, e: &mut Expr) {
        let shared = self
            .at
            .get(&addr(e))
            .and_then(|&(c, var)| Some((self.classes.get(c)?.id?, var)));
        if let Some((id, var)) = shared {
            let inner = std::mem::replace(e, Expr::Var(var));
            *e = Expr::Shared {
                id,
                var,
                with: None,
                expr: Box::new(inner),
            };
            return;
        }
        e.for_each_child_mut(&mut |c| self.wrap(c));
    }
}

/// A condition that may be shared: its canonical form (variables renamed in the order they
/// first occur) and the one variable it reads.
fn candidate(f: &Expr) -> Option<(Expr, VarId)> {
    let var = one_variable(f)?;
    let mut canon = f.clone();
    rename(&mut canon, &mut Vec::new());
    Some((canon, var))
}

/// The one variable a condition reads, when its answer can be kept by that variable's
/// value ([`kept_by`]).
fn one_variable(f: &Expr) -> Option<VarId> {
    match kept_by(f)?.as_slice() {
        [v] => Some(*v),
        _ => None,
    }
}

/// The variables a condition reads, in order, when its answer can be kept by their values:
/// it reads no relation, and is large enough that finding a kept answer is cheaper than
/// evaluating it ([`MIN_NODES`]).
pub(crate) fn kept_by(f: &Expr) -> Option<Vec<VarId>> {
    if nodes(f) < MIN_NODES || !shareable(f) {
        return None;
    }
    Some(super::optimizer::free_vars(f).into_iter().collect())
}

fn nodes(e: &Expr) -> usize {
    let mut n = 1;
    e.for_each_child(&mut |c| n += nodes(c));
    n
}

/// Whether the answer of `e` depends only on the values of its variables: it reads no
/// relation (computed in a pass of their own) and holds nothing the plan marked.
fn shareable(e: &Expr) -> bool {
    if matches!(
        e,
        Expr::Relation { .. } | Expr::Memo(..) | Expr::Shared { .. }
    ) {
        return false;
    }
    let mut ok = true;
    e.for_each_child(&mut |c| ok &= shareable(c));
    ok
}

/// Renames every variable of `e` (read or bound) to its rank among the variables met so
/// far, in the order of the walk: equal filters over differently numbered variables become
/// equal.
fn rename(e: &mut Expr, seen: &mut Vec<VarId>) {
    let mut rank = |v: &mut VarId| {
        let r = seen.iter().position(|x| x == v).unwrap_or_else(|| {
            seen.push(*v);
            seen.len() - 1
        });
        *v = r;
    };
    match e {
        Expr::Var(v) | Expr::Quant { var: v, .. } | Expr::Probe { var: v, .. } => rank(v),
        _ => {}
    }
    e.for_each_child_mut(&mut |c| rename(c, seen));
}

/// A hash of an expression's shape (equal expressions hash alike; `==` tells them apart).
fn shape_hash(e: &Expr) -> u64 {
    // a fixed seed: the hash only sorts conditions into buckets, compared whole in each
    let mut h = std::hash::BuildHasher::build_hasher(&foldhash::fast::FixedState::default());
    hash_into(e, &mut h);
    h.finish()
}

fn hash_into(e: &Expr, h: &mut impl Hasher) {
    std::mem::discriminant(e).hash(h);
    super::memo::node_hash(e, h);
    e.for_each_child(&mut |c| hash_into(c, h));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ir::{CmpOp, Const};
    use std::sync::Arc;

    fn field(v: VarId, path: &[&str]) -> Expr {
        path.iter()
            .fold(Expr::Var(v), |b, f| Expr::Field(Box::new(b), Arc::from(*f)))
    }

    fn eq(a: Expr, s: &str) -> Expr {
        Expr::Cmp(
            CmpOp::Eq,
            Box::new(a),
            Box::new(Expr::Const(Const::Str(Arc::from(s)))),
        )
    }

    /// Filters equal up to their variables' numbers have one canonical form; a filter over
    /// two variables, or one too small, has none.
    #[test]
    fn candidates_are_equal_up_to_renaming() {
        let a = eq(field(3, &["spec", "template", "spec"]), "x");
        let b = eq(field(7, &["spec", "template", "spec"]), "x");
        let c = eq(field(7, &["spec", "template", "spec"]), "y");
        let (ca, va) = candidate(&a).expect("a is a candidate");
        let (cb, vb) = candidate(&b).expect("b is a candidate");
        let (cc, _) = candidate(&c).expect("c is a candidate");
        assert_eq!((va, vb), (3, 7));
        assert_eq!(ca, cb);
        assert_eq!(shape_hash(&ca), shape_hash(&cb));
        assert_ne!(ca, cc);
        let two = Expr::Cmp(
            CmpOp::Eq,
            Box::new(field(1, &["a", "b"])),
            Box::new(field(2, &["a", "b"])),
        );
        assert!(candidate(&two).is_none());
        assert!(candidate(&eq(Expr::Var(1), "x")).is_none());
    }
}
