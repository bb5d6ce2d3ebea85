//! The plan stage: checked rules → logical plans → optimized plans → one physical plan.

pub mod display;
pub mod fixpoint;
pub mod logical;
mod memo;
pub mod optimizer;
pub mod physical;
pub mod prefilter;
pub(crate) mod share;

use crate::check::ir::Program;
use logical::LogicalPlan;
use optimizer::Trace;
use physical::{PhysicalPlan, PhysicalRule};

/// Every stage of one rule's planning, for `kanon explain`.
#[derive(Clone, Debug)]
pub struct RulePlan {
    /// Index in the program.
    pub rule: usize,
    /// As built from the checked rule.
    pub logical: LogicalPlan,
    /// After every optimizer rule.
    pub optimized: LogicalPlan,
    /// The plan after each optimizer rule.
    pub trace: Trace,
    /// The physical pipeline.
    pub physical: PhysicalRule,
}

/// Plans one rule.
pub fn plan_rule(program: &Program, index: usize) -> Result<RulePlan, String> {
    let mut p = plan_unkept(program, index)?;
    p.physical.prefilter = prefilter::derive(&p.physical);
    memo::memoize(&mut p.physical);
    Ok(p)
}

/// Plans one rule, without marking the sub-expressions its pipeline keeps.
fn plan_unkept(program: &Program, index: usize) -> Result<RulePlan, String> {
    let rule = rule_at(program, index)?;
    let logical = logical::build(rule, index);
    let (optimized, trace) = optimizer::optimize(logical.clone(), program)?;
    let physical = lowered(rule, &optimized)?;
    Ok(RulePlan {
        rule: index,
        logical,
        optimized,
        trace,
        physical,
    })
}

/// The physical pipeline of one rule, without its kept sub-expressions marked: what
/// [`plan_unkept`] gives without the stages only `kanon explain` shows.
fn physical_unkept(program: &Program, index: usize) -> Result<PhysicalRule, String> {
    let rule = rule_at(program, index)?;
    lowered(
        rule,
        &optimizer::optimize_only(logical::build(rule, index), program)?,
    )
}

/// Rule `index` of the program.
fn rule_at(program: &Program, index: usize) -> Result<&crate::check::ir::Rule, String> {
    program
        .rules
        .get(index)
        .ok_or_else(|| format!("no rule #{index}"))
}

/// The physical pipeline of `rule`'s optimized plan.
fn lowered(rule: &crate::check::ir::Rule, optimized: &LogicalPlan) -> Result<PhysicalRule, String> {
    physical::lower(optimized).ok_or_else(|| format!("rule `{}` has no pipeline to run", rule.id))
}

/// Plans every rule and groups scans; the conditions the rules of a group share are marked
/// before each rule's kept sub-expressions are. Rules that fail to plan are returned as
/// errors (with the rule id) and left out.
pub fn plan(program: &Program) -> (PhysicalPlan, Vec<(String, String)>) {
    use rayon::prelude::*;
    // each rule planned on its own, on the thread pool (half the work of a small scan was
    // planning the bundled ruleset one rule after the other), put back in program order
    let planned: Vec<Result<PhysicalRule, String>> = (0..program.rules.len())
        .into_par_iter()
        .map(|i| {
            physical_unkept(program, i).map(|mut p| {
                p.prefilter = prefilter::derive(&p);
                p
            })
        })
        .collect();
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (r, p) in program.rules.iter().zip(planned) {
        match p {
            Ok(p) => rules.push(p),
            Err(e) => errors.push((r.id.clone(), e)),
        }
    }
    let mut plan = physical::group(rules);
    plan.words = prefilter::Words::assign(plan.rules_mut());
    share::share(&mut plan);
    plan.groups
        .par_iter_mut()
        .flat_map(|g| g.rules.par_iter_mut())
        .chain(plan.others.par_iter_mut())
        .for_each(memo::memoize);
    (plan, errors)
}
