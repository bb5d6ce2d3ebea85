//! Condition coverage: which atomic conditions of a rule's `where` clause the fixtures
//! made true and false. Rows are enumerated as the reference evaluator does, and every
//! leaf is evaluated on every row (no short-circuit), so a leaf's outcomes do not depend
//! on the order of the conjuncts.

use crate::check::ir::{Expr, Program, Rule};
use crate::eval::Val;
use crate::eval::interp::{Ctx, Env, Mode};
use crate::graph::Graph;
use crate::plan::display::expr_text;

/// What was seen of one leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The condition, as text.
    pub text: String,
    /// Whether it was ever true.
    pub seen_true: bool,
    /// Whether it was ever false (null counts as false).
    pub seen_false: bool,
}

/// Coverage of one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Whether the rule has an `expect` marker.
    pub positive: bool,
    /// Whether the rule has an `ok` marker.
    pub negative: bool,
    /// The leaves of the `where` clause, in source order.
    pub leaves: Vec<Leaf>,
    /// Rows evaluated.
    pub rows: usize,
}

impl Coverage {
    /// Empty coverage of a rule (its leaves, nothing seen).
    pub fn of(program: &Program, rule: &Rule) -> Coverage {
        let mut leaves = Vec::new();
        if let Some(c) = &rule.condition {
            split(c, &mut leaves);
        }
        Coverage {
            leaves: leaves
                .into_iter()
                .map(|e| Leaf {
                    text: with_param_names(&expr_text(e, &rule.vars), program),
                    seen_true: false,
                    seen_false: false,
                })
                .collect(),
            ..Coverage::default()
        }
    }

    /// Leaves seen both true and false.
    pub fn covered(&self) -> usize {
        self.leaves
            .iter()
            .filter(|l| l.seen_true && l.seen_false)
            .count()
    }

    /// Records the rule's rows over one graph.
    pub fn record(&mut self, program: &Program, rule: &Rule, graph: &Graph) {
        let ctx = Ctx::new(graph, program, Mode::Reference).with_relations(program);
        let mut leaves = Vec::new();
        if let Some(c) = &rule.condition {
            split(c, &mut leaves);
        }
        let mut env = Env::new(rule.vars.len());
        self.rows(&ctx, rule, &leaves, 0, &mut env);
    }

    fn rows(&mut self, ctx: &Ctx<'_>, rule: &Rule, leaves: &[&Expr], depth: usize, env: &mut Env) {
        let Some(b) = rule.bindings.get(depth) else {
            self.rows += 1;
            for (leaf, seen) in leaves.iter().zip(self.leaves.iter_mut()) {
                env.steps = 0;
                env.witnesses.clear();
                let v = ctx.eval(leaf, env);
                if ctx.truthy(&v) {
                    seen.seen_true = true;
                } else {
                    seen.seen_false = true;
                }
            }
            return;
        };
        let values: Vec<Val> = ctx.source_values(&b.source, env);
        for v in values {
            env.set(b.var, v);
            self.rows(ctx, rule, leaves, depth + 1, env);
        }
    }
}

/// The atomic conditions of an `and`/`or`/`not` tree, left to right.
pub fn split<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            split(a, out);
            split(b, out);
        }
        Expr::Not(x) => split(x, out),
        other => out.push(other),
    }
}

/// Replaces the `param#N` placeholders of rendered expressions with parameter names.
fn with_param_names(text: &str, program: &Program) -> String {
    let mut out = text.to_string();
    // highest index first, so `param#1` does not eat the start of `param#12`
    for (i, p) in program.params.iter().enumerate().rev() {
        out = out.replace(&format!("param#{i}"), &p.name);
    }
    out
}
