//! Kept sub-expressions: the last step of planning a rule marks the pure sub-expressions
//! its pipeline would evaluate again for the same values of the variables they read, so
//! that the executor evaluates each once per row ([`Expr::Memo`]).
//!
//! Rules are written with shared definitions, and the checker inlines them: K01-028 reads
//! `pod_annotations(w)`, a chain of nine fields and two `??`, several times for each
//! container, inside a quantifier over the annotation keys, although it depends on `w`
//! alone. A sub-expression is kept when it is pure (it adds nothing to a finding's evidence
//! and reads no relation or sub-query), reads only variables the pipeline binds (the root
//! and its `for` bindings, never a quantifier's), and either occurs more than once or sits
//! inside a loop (a quantifier, or a binding made after the variables it reads) whose
//! variable it does not read. Its value then lives until a variable it reads is bound
//! again: the executor empties every slot for each root object, and a binding empties the
//! slots of the expressions that read its variable.

use super::physical::{PhysicalRule, Root, Step};
use crate::check::ir::{Access, Attr, Const, Expr, Source, VarId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The smallest expression kept, in nodes: a variable or one field of it is read about as
/// fast as a kept value is.
const MIN_NODES: usize = 3;

/// What the first pass learns of a sub-expression while it walks it.
struct Shape {
    hash: std::collections::hash_map::DefaultHasher,
    nodes: usize,
    pure: bool,
    vars: Vec<VarId>,
}

impl Shape {
    fn new(e: &Expr) -> Shape {
        let mut hash = std::collections::hash_map::DefaultHasher::new();
        std::mem::discriminant(e).hash(&mut hash);
        Shape {
            hash,
            nodes: 1,
            pure: true,
            vars: Vec::new(),
        }
    }

    /// Adds a child's shape.
    fn add(&mut self, child: Shape) {
        self.hash.write_u64(child.hash.finish());
        self.nodes += child.nodes;
        self.pure &= child.pure;
        self.vars.extend(child.vars);
    }
}

/// One place a sub-expression that may be kept occurs.
struct Occurrence<'e> {
    expr: &'e Expr,
    /// Its shape's hash (equal expressions have equal hashes).
    hash: u64,
    /// The variables it reads, sorted.
    vars: Vec<VarId>,
    /// 2 inside a loop whose variable it does not read (it is evaluated again there with
    /// the same values), else 1.
    weight: u32,
}

/// Marks a rule's kept sub-expressions; the rule's slots and each binding's slots to empty
/// are filled in.
pub(crate) fn memoize(rule: &mut PhysicalRule) {
    let mut row_vars: Vec<VarId> = Vec::new();
    if let Root::Scan { var, .. } = &rule.root {
        row_vars.push(*var);
    }
    for s in &rule.steps {
        if let Step::Bind { var, .. } = s {
            row_vars.push(*var);
        }
    }
    // first pass: every pure sub-expression over the row's variables, by shape
    let mut v = Visitor {
        row_vars: &row_vars,
        found: Vec::new(),
        loops: Vec::new(),
    };
    if let Root::Scan { filters, .. } = &rule.root {
        filters.iter().for_each(|f| v.note(f));
    }
    for s in &rule.steps {
        match s {
            Step::Bind { var, filters, .. } => {
                v.loops.push(*var);
                filters.iter().for_each(|f| v.note(f));
            }
            Step::Filter(e) => v.note(e),
            Step::Join { test, .. } => v.note(test),
        }
    }
    // equal shapes (checked with `==`, the hash only groups them) add up their weights
    let mut classes: Vec<(&Expr, u32)> = Vec::new();
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut class_of: Vec<usize> = Vec::with_capacity(v.found.len());
    for o in &v.found {
        let bucket = by_hash.entry(o.hash).or_default();
        let same = bucket
            .iter()
            .copied()
            .find(|&c| classes.get(c).is_some_and(|(x, _)| *x == o.expr));
        let class = same.unwrap_or_else(|| {
            classes.push((o.expr, 0));
            bucket.push(classes.len() - 1);
            classes.len() - 1
        });
        if let Some((_, weight)) = classes.get_mut(class) {
            *weight += o.weight;
        }
        class_of.push(class);
    }
    let kept: HashMap<usize, (usize, Vec<VarId>)> = v
        .found
        .iter()
        .zip(class_of)
        .filter(|(_, c)| classes.get(*c).is_some_and(|(_, w)| *w >= 2))
        .map(|(o, c)| (addr(o.expr), (c, o.vars.clone())))
        .collect();
    if kept.is_empty() {
        return;
    }
    // second pass: the outermost kept expressions are wrapped, slots numbered in order
    let mut slots: HashMap<usize, usize> = HashMap::new();
    let mut slot_vars: Vec<Vec<VarId>> = Vec::new();
    let mut wrap = |e: &mut Expr| rewrite(e, &kept, &mut slots, &mut slot_vars);
    if let Root::Scan { filters, .. } = &mut rule.root {
        filters.iter_mut().for_each(&mut wrap);
    }
    for s in &mut rule.steps {
        match s {
            Step::Bind { filters, .. } => filters.iter_mut().for_each(&mut wrap),
            Step::Filter(e) => wrap(e),
            Step::Join { test, .. } => wrap(test),
        }
    }
    rule.memo_slots = slot_vars.len();
    for s in &mut rule.steps {
        if let Step::Bind { var, resets, .. } = s {
            *resets = slot_vars
                .iter()
                .enumerate()
                .filter(|(_, vars)| vars.contains(var))
                .map(|(slot, _)| slot)
                .collect();
        }
    }
}

/// An expression's address: what identifies one occurrence of it while a plan is walked.
pub(super) fn addr(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

/// Wraps the outermost kept expressions of `e` in [`Expr::Memo`].
fn rewrite(
    e: &mut Expr,
    kept: &HashMap<usize, (usize, Vec<VarId>)>,
    slots: &mut HashMap<usize, usize>,
    slot_vars: &mut Vec<Vec<VarId>>,
) {
    if let Some((class, vars)) = kept.get(&addr(e)) {
        let slot = *slots.entry(*class).or_insert_with(|| {
            slot_vars.push(vars.clone());
            slot_vars.len() - 1
        });
        let inner = std::mem::replace(e, Expr::Const(Const::Null));
        *e = Expr::Memo(slot, Box::new(inner));
        return;
    }
    if let Expr::Shared { .. } = e {
        return;
    }
    e.for_each_child_mut(&mut |x| rewrite(x, kept, slots, slot_vars));
}

/// The first pass over a rule's expressions.
struct Visitor<'a, 'e> {
    row_vars: &'a [VarId],
    found: Vec<Occurrence<'e>>,
    /// The variables of the loops around the current place.
    loops: Vec<VarId>,
}

impl<'e> Visitor<'_, 'e> {
    /// Notes the sub-expressions of `e` that may be kept.
    fn note(&mut self, e: &'e Expr) {
        self.visit(e);
    }

    /// Learns `e` and its sub-expressions (its shape: hash, nodes, purity, variables read);
    /// notes `e` when it may be kept.
    fn visit(&mut self, e: &'e Expr) -> Shape {
        let mut s = Shape::new(e);
        // a shared condition's answer is kept by the scan group (`plan::share`); nothing in
        // it is kept by the rule
        if let Expr::Shared { .. } = e {
            s.pure = false;
            return s;
        }
        node_hash(e, &mut s.hash);
        match e {
            Expr::Var(v) => s.vars.push(*v),
            // the objects these reach join the finding's evidence
            Expr::Attr(_, a) => {
                s.pure = !matches!(
                    a,
                    Attr::ServiceAccount | Attr::Role | Attr::Target | Attr::Bindings
                );
            }
            Expr::Relation { .. }
            | Expr::Memo(..)
            | Expr::Shared { .. }
            | Expr::Quant { .. }
            | Expr::Probe { .. } => {
                s.pure = false;
            }
            _ => {}
        }
        // a quantifier's condition is inside the loop over its variable (what it reads of
        // that variable is no row variable, so never kept)
        let looped = match e {
            Expr::Quant { var, cond, .. } | Expr::Probe { var, cond, .. } => {
                cond.as_deref().map(|c| (*var, addr(c)))
            }
            _ => None,
        };
        e.for_each_child(&mut |c| match looped {
            Some((var, at)) if addr(c) == at => {
                self.loops.push(var);
                self.visit(c);
                self.loops.pop();
            }
            _ => s.add(self.visit(c)),
        });
        s.vars.sort_unstable();
        s.vars.dedup();
        let over_row = !s.vars.is_empty() && s.vars.iter().all(|v| self.row_vars.contains(v));
        if s.pure && over_row && s.nodes >= MIN_NODES {
            // a loop inside the innermost binding the expression reads evaluates it again
            // with the same values; one outside it gives new values each time
            let deepest = self.loops.iter().rposition(|l| s.vars.contains(l));
            let looped = self.loops.len() > deepest.map_or(0, |d| d + 1);
            self.found.push(Occurrence {
                expr: e,
                hash: s.hash.finish(),
                vars: s.vars.clone(),
                weight: if looped { 2 } else { 1 },
            });
        }
        s
    }
}

/// Hashes what tells `e` from another expression of its kind, besides its operands (its
/// constant, variable, field name, operator...); the caller hashes the kind and the
/// operands.
pub(super) fn node_hash(e: &Expr, h: &mut impl Hasher) {
    match e {
        Expr::Const(c) => const_hash(c, h),
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
                kinds.hash(h);
            }
        }
        Expr::Probe {
            quant, var, access, ..
        } => {
            quant.hash(h);
            var.hash(h);
            match access {
                Access::SelectedBy { kind, .. } => kind.hash(h),
                Access::Rows { index, .. } => index.column.hash(h),
                Access::ByName { .. } => {}
            }
        }
        Expr::Relation { rel, .. } => rel.hash(h),
        Expr::Memo(slot, _) => slot.hash(h),
        Expr::Shared { id, var, .. } => (id, var).hash(h),
        Expr::Not(_)
        | Expr::Index(..)
        | Expr::And(..)
        | Expr::Or(..)
        | Expr::Coalesce(..)
        | Expr::Selects(..)
        | Expr::List(_) => {}
    }
}

fn const_hash(c: &Const, h: &mut impl Hasher) {
    match c {
        Const::Null => h.write_u8(0),
        Const::Bool(b) => h.write_u8(1 + u8::from(*b)),
        Const::Int(i) => h.write_i64(*i),
        Const::Float(f) => h.write_u64(f.to_bits()),
        Const::Str(s) => h.write(s.as_bytes()),
        Const::List(items) => h.write_usize(items.len()),
        Const::Map(m) => h.write_usize(m.len()),
    }
}

/// The kept sub-expressions of a rule's steps, by slot.
pub(crate) fn kept(rule: &PhysicalRule) -> Vec<&Expr> {
    fn go<'e>(e: &'e Expr, out: &mut Vec<Option<&'e Expr>>) {
        match e {
            Expr::Memo(slot, x) => {
                if let Some(s) = out.get_mut(*slot) {
                    s.get_or_insert(x);
                }
            }
            _ => e.for_each_child(&mut |c| go(c, out)),
        }
    }
    let mut out = vec![None; rule.memo_slots];
    if let Root::Scan { filters, .. } = &rule.root {
        filters.iter().for_each(|f| go(f, &mut out));
    }
    for s in &rule.steps {
        match s {
            Step::Bind { filters, .. } => filters.iter().for_each(|f| go(f, &mut out)),
            Step::Filter(e) => go(e, &mut out),
            Step::Join { test, .. } => go(test, &mut out),
        }
    }
    out.into_iter().flatten().collect()
}
