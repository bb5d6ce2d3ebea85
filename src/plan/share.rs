//! Filters shared by the rules of a scan group: a filter that two or more rules of one
//! group test on the same values is answered once per value while the group runs over a
//! chunk of its objects ([`Expr::Shared`]).
//!
//! Rules are written with shared definitions, and the checker inlines them: fifteen rules
//! over `w in workloads, c in w.containers` first ask `kube_apiserver_flags(c)`, and almost
//! every container fails it; a dozen rules over the roles first ask `custom_role(ro)`. A
//! filter is shared when it reads exactly one variable (the scan's or a binding's; a
//! quantifier's own variables are inside it), reads no relation, and is the same filter,
//! up to the names of its variables, in at least two rules of the group. Its answer is kept
//! by the value of that variable, with the steps its evaluation took and the evidence it
//! added; a rule that finds the answer kept counts the same steps and adds the same
//! evidence, so it sees what evaluating the filter would have given it.

use super::physical::{PhysicalPlan, Root, ScanGroup, Step};
use crate::check::ir::{Access, Expr, Source, VarId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The smallest filter shared, in nodes: a field or two of a variable are read about as fast
/// as a kept answer is found.
const MIN_NODES: usize = 5;

/// Marks the filters the rules of each scan group share. Ids are unique in the plan.
pub(crate) fn share(plan: &mut PhysicalPlan) {
    let mut next = 0u32;
    for g in &mut plan.groups {
        share_group(g, &mut next);
    }
}

/// A class of equal filters: its canonical form, hash, the rules it occurs in, and its id
/// once it is known to be shared.
struct Class {
    canon: Expr,
    hash: u64,
    rules: Vec<usize>,
    id: Option<u32>,
}

fn share_group(g: &mut ScanGroup, next: &mut u32) {
    // first pass: the class of every filter that may be shared, in the order of the walk
    let mut classes: Vec<Class> = Vec::new();
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut class_of: Vec<Option<usize>> = Vec::new();
    for (ri, rule) in g.rules.iter_mut().enumerate() {
        for_each_filter(&mut rule.root, &mut rule.steps, &mut |f| {
            let class = candidate(f).map(|(canon, _)| {
                let hash = shape_hash(&canon);
                let bucket = by_hash.entry(hash).or_default();
                let found = bucket
                    .iter()
                    .copied()
                    .find(|&c| classes.get(c).is_some_and(|k| k.canon == canon));
                let c = found.unwrap_or_else(|| {
                    classes.push(Class {
                        canon,
                        hash,
                        rules: Vec::new(),
                        id: None,
                    });
                    bucket.push(classes.len() - 1);
                    classes.len() - 1
                });
                if let Some(k) = classes.get_mut(c) {
                    if !k.rules.contains(&ri) {
                        k.rules.push(ri);
                    }
                }
                c
            });
            class_of.push(class);
        });
    }
    for k in &mut classes {
        if k.rules.len() >= 2 {
            k.id = Some(*next);
            *next += 1;
        }
        debug_assert!(k.hash == shape_hash(&k.canon));
    }
    // second pass, in the same order: the shared filters are wrapped
    let mut at = 0usize;
    for rule in &mut g.rules {
        for_each_filter(&mut rule.root, &mut rule.steps, &mut |f| {
            let class = class_of.get(at).copied().flatten();
            at += 1;
            let Some(id) = class.and_then(|c| classes.get(c)).and_then(|k| k.id) else {
                return;
            };
            let Some((_, var)) = candidate(f) else {
                return;
            };
            let inner = std::mem::replace(f, Expr::Var(var));
            *f = Expr::Shared {
                id,
                var,
                expr: Box::new(inner),
            };
        });
    }
}

/// Calls `f` on each filter of a rule: the scan's, each binding's, and each filter step.
fn for_each_filter(root: &mut Root, steps: &mut [Step], f: &mut dyn FnMut(&mut Expr)) {
    if let Root::Scan { filters, .. } = root {
        filters.iter_mut().for_each(&mut *f);
    }
    for s in steps {
        match s {
            Step::Bind { filters, .. } => filters.iter_mut().for_each(&mut *f),
            Step::Filter(e) => f(e),
            Step::Join { .. } => {}
        }
    }
}

/// A filter that may be shared: its canonical form (variables renamed in the order they
/// first occur) and the one variable it reads.
fn candidate(f: &Expr) -> Option<(Expr, VarId)> {
    if nodes(f) < MIN_NODES || !shareable(f) {
        return None;
    }
    let free = super::optimizer::free_vars(f);
    let var = match free.iter().collect::<Vec<_>>().as_slice() {
        [v] => **v,
        _ => return None,
    };
    let mut canon = f.clone();
    rename(&mut canon, &mut Vec::new());
    Some((canon, var))
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
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_into(e, &mut h);
    h.finish()
}

fn hash_into(e: &Expr, h: &mut std::collections::hash_map::DefaultHasher) {
    std::mem::discriminant(e).hash(h);
    match e {
        Expr::Const(c) => super::memo::const_hash(c, h),
        Expr::Var(v) => v.hash(h),
        Expr::Param(i) | Expr::Table(i) => i.hash(h),
        Expr::Field(_, name) => name.hash(h),
        Expr::Attr(_, a) => a.hash(h),
        Expr::Matches(_, p) => p.0.as_str().hash(h),
        Expr::Cmp(op, ..) => op.hash(h),
        Expr::Call(f, _) => f.hash(h),
        Expr::Quant {
            quant, var, source, ..
        } => {
            quant.hash(h);
            var.hash(h);
            if let Source::Scan { kinds, .. } = source {
                format!("{kinds:?}").hash(h);
            }
        }
        Expr::Probe {
            quant, var, access, ..
        } => {
            quant.hash(h);
            var.hash(h);
            if let Access::SelectedBy { kind, .. } = access {
                kind.hash(h);
            }
        }
        _ => {}
    }
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
