//! The reference evaluator: nested loops straight from the checked rules, no plan and no
//! index. It answers `selects` from the selectors themselves and scans every object for
//! each sub-query. It is slow on purpose; property tests compare it with the executor.

use super::emit::record;
use super::finding::{Finding, Recorded};
use super::interp::{Ctx, Env, Mode};
use super::value::Val;
use crate::check::ir::{Program, Rule};
use crate::diag::SourceMap;
use crate::graph::Graph;

/// Evaluates every rule of a program over a graph.
pub fn evaluate(program: &Program, graph: &Graph, sources: &SourceMap) -> Vec<Finding> {
    let ctx = Ctx::new(graph, program, Mode::Reference)
        .with_sources(sources)
        .with_relations(program);
    let mut out = Recorded::default();
    for (i, rule) in program.rules.iter().enumerate() {
        out.rule = u32::try_from(i).unwrap_or(u32::MAX);
        let mut env = Env::new(rule.vars.len());
        rows(&ctx, rule, 0, &mut env, &mut out);
    }
    let maker = super::emit::Maker::new(program, graph, sources);
    super::emit::make_all(&maker, out.batches)
}

fn rows(ctx: &Ctx<'_>, rule: &Rule, depth: usize, env: &mut Env, out: &mut Recorded) {
    if depth == 0 {
        env.steps = 0;
        env.witnesses.clear();
    }
    let Some(b) = rule.bindings.get(depth) else {
        let mark = env.witnesses.len();
        let ok = match &rule.condition {
            Some(c) => ctx.test(c, env),
            None => true,
        };
        if ok {
            record(ctx, rule, env, out);
        }
        env.witnesses.truncate(mark);
        return;
    };
    // as in the executor: what the source reached belongs to every row of this loop
    let outer = env.witnesses.len();
    let values: Vec<Val> = ctx.source_values(&b.source, env);
    for v in values {
        if depth == 0 {
            // the step limit counts per rule and root object, as in the executor
            env.steps = 0;
        }
        env.set(b.var, v);
        rows(ctx, rule, depth + 1, env, out);
    }
    env.witnesses.truncate(outer);
}
