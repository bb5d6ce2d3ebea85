//! `merge_patterns`: `x matches "a" or x matches "b"` becomes `x matches "(?:a)|(?:b)"`,
//! so that `x` is evaluated once and its text scanned once for every pattern.
//!
//! Rules that look for secrets or shells ask several patterns of one value in a row
//! (K08-001 tests each environment value against seven). A match of the alternation is a
//! match of one of its patterns: each pattern keeps its own group, and the flags a pattern
//! sets (`(?i)`) end with that group. Patterns are merged only when `x` adds nothing to a
//! finding's evidence (no sub-query, relation or object reached through an identity), and
//! only with a neighbour in the chain of `or` unless no operand of the chain adds evidence
//! (then its order changes nothing but the steps, and the patterns of one value join
//! wherever they are), so the answer and the evidence are those of the chain. A merged
//! pattern the regular expression engine would not build within the size limit leaves the
//! chain as it is.

use super::{OptimizerRule, map_plan_exprs};
use crate::check::ir::{Attr, Expr, Pattern, Program};
use crate::plan::logical::LogicalPlan;
use std::collections::HashMap;

/// See the module docs.
pub struct MergePatterns;

impl OptimizerRule for MergePatterns {
    fn name(&self) -> &'static str {
        "merge_patterns"
    }

    fn rewrite(&self, plan: LogicalPlan, _program: &Program) -> LogicalPlan {
        let mut parts = Parts::new();
        map_plan_exprs(plan, &mut |e| merge(e, &mut parts))
    }
}

/// The patterns each merged pattern was made of, by its text: the rewrite goes bottom-up,
/// so `(a or b) or c` first merges `a` and `b`, and then `c` with them, from `a`, `b` and
/// `c` again (one group each, not nested).
type Parts = HashMap<String, Vec<String>>;

/// Merges the patterns of one value in an `or` chain (its operands are merged already):
/// into a neighbour's, or into the first of the value's anywhere in a chain without
/// evidence.
fn merge(e: Expr, parts: &mut Parts) -> Expr {
    let Expr::Or(..) = e else {
        return e;
    };
    let mut disjuncts = Vec::new();
    flatten(e, &mut disjuncts);
    // in a chain where no operand adds evidence, the order of its operands changes
    // nothing but the steps: a pattern joins the first one of its value wherever it is;
    // otherwise only a neighbour's
    let anywhere = disjuncts.iter().all(plain);
    let mut out: Vec<Expr> = Vec::with_capacity(disjuncts.len());
    for d in disjuncts {
        let Expr::Matches(y, q) = &d else {
            out.push(d);
            continue;
        };
        let same = |e: &Expr| matches!(e, Expr::Matches(x, _) if x == y);
        let target = if anywhere {
            out.iter_mut().find(|e| same(e))
        } else {
            out.last_mut().filter(|e| same(e))
        };
        let merged = match target {
            Some(Expr::Matches(x, p)) if plain(x) => match alternation(p, q, parts) {
                Some(both) => {
                    *p = both;
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !merged {
            out.push(d);
        }
    }
    let mut items = out.into_iter();
    let Some(first) = items.next() else {
        return Expr::Const(crate::check::ir::Const::Bool(false));
    };
    items.fold(first, |a, b| Expr::Or(Box::new(a), Box::new(b)))
}

/// The operands of a chain of `or`, left to right.
fn flatten(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Or(a, b) => {
            flatten(*a, out);
            flatten(*b, out);
        }
        other => out.push(other),
    }
}

/// Whether evaluating `e` adds nothing to a finding's evidence.
fn plain(e: &Expr) -> bool {
    let own = match e {
        Expr::Quant { .. }
        | Expr::Probe { .. }
        | Expr::Relation { .. }
        | Expr::Memo(..)
        | Expr::Shared { .. } => false,
        Expr::Attr(_, a) => !matches!(
            a,
            Attr::ServiceAccount | Attr::Role | Attr::Target | Attr::Bindings
        ),
        _ => true,
    };
    let mut children = true;
    e.for_each_child(&mut |c| children &= plain(c));
    own && children
}

/// The pattern that matches where `a` or `b` does, if it can be built.
fn alternation(a: &Pattern, b: &Pattern, parts: &mut Parts) -> Option<Pattern> {
    let of = |p: &Pattern, parts: &Parts| {
        parts
            .get(p.0.as_str())
            .cloned()
            .unwrap_or_else(|| vec![p.0.as_str().to_string()])
    };
    let mut all = of(a, parts);
    all.extend(of(b, parts));
    let text = all
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    let re = crate::check::regex(&text).ok()?;
    parts.insert(text, all);
    Some(Pattern(re))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ir::Const;

    fn matches(x: Expr, p: &str) -> Expr {
        Expr::Matches(Box::new(x), Pattern(crate::check::regex(p).unwrap()))
    }

    fn or(a: Expr, b: Expr) -> Expr {
        Expr::Or(Box::new(a), Box::new(b))
    }

    fn field(v: usize, n: &str) -> Expr {
        Expr::Field(Box::new(Expr::Var(v)), n.into())
    }

    fn pattern_of(e: &Expr) -> &str {
        match e {
            Expr::Matches(_, p) => p.0.as_str(),
            other => panic!("not a pattern: {other:?}"),
        }
    }

    /// The operands of the `or` chain of `e` once merged.
    fn merged(e: Expr) -> Vec<Expr> {
        let plan = MergePatterns.rewrite(
            LogicalPlan::Filter(crate::plan::logical::Filter {
                input: Box::new(LogicalPlan::Unit),
                predicate: e,
            }),
            &Program::default(),
        );
        let LogicalPlan::Filter(f) = plan else {
            panic!("not a filter")
        };
        let mut parts = Vec::new();
        flatten(f.predicate, &mut parts);
        parts
    }

    /// `((x ~ a or x ~ b) or x ~ z) or mid or x ~ d`.
    fn chain(mid: Expr) -> Expr {
        or(
            or(
                or(
                    or(
                        matches(field(0, "v"), "(?i)^key"),
                        matches(field(0, "v"), "^ABC$"),
                    ),
                    matches(field(0, "v"), "z$"),
                ),
                mid,
            ),
            matches(field(0, "v"), "d"),
        )
    }

    #[test]
    fn patterns_of_one_value_merge_and_match_as_the_chain() {
        // no operand adds evidence: a, b, z and d merge into one alternation (not nested)
        let parts = merged(chain(matches(field(1, "v"), "c")));
        assert_eq!(parts.len(), 2);
        assert_eq!(pattern_of(&parts[0]), "(?:(?i)^key)|(?:^ABC$)|(?:z$)|(?:d)");
        assert_eq!(pattern_of(&parts[1]), "c");
        // the flag of the first pattern ends with its group: `abc` matches no pattern
        let re = crate::check::regex(pattern_of(&parts[0])).unwrap();
        let chain = |text: &str| {
            ["(?i)^key", "^ABC$", "z$", "d"]
                .iter()
                .any(|p| crate::check::regex(p).unwrap().is_match(text))
        };
        for (text, want) in [
            ("KEY1", true),
            ("ABC", true),
            ("abc", false),
            ("xkey", false),
            ("quiz", true),
            ("QUIZ", false),
            ("odd", true),
        ] {
            assert_eq!(re.is_match(text), want, "{text}");
            assert_eq!(chain(text), want, "{text}");
        }
    }

    #[test]
    fn past_an_operand_with_evidence_only_neighbours_merge() {
        // the service account joins the evidence when it is the `or`'s first true operand:
        // `x ~ d` stays after it
        let sa = Expr::Attr(Box::new(Expr::Var(2)), Attr::ServiceAccount);
        let parts = merged(chain(sa.clone()));
        assert_eq!(parts.len(), 3);
        assert_eq!(pattern_of(&parts[0]), "(?:(?i)^key)|(?:^ABC$)|(?:z$)");
        assert_eq!(parts[1], sa);
        assert_eq!(pattern_of(&parts[2]), "d");
    }

    #[test]
    fn patterns_of_values_with_evidence_or_of_different_values_stay() {
        let sa = Expr::Attr(Box::new(Expr::Var(0)), Attr::ServiceAccount);
        let e = or(matches(sa.clone(), "a"), matches(sa, "b"));
        assert_eq!(merge(e.clone(), &mut Parts::new()), e);
        let e = or(matches(field(0, "v"), "a"), matches(field(0, "w"), "b"));
        assert_eq!(merge(e.clone(), &mut Parts::new()), e);
        let e = or(matches(field(0, "v"), "a"), Expr::Const(Const::Bool(true)));
        assert_eq!(merge(e.clone(), &mut Parts::new()), e);
    }
}
