//! The plan stage: checked rules → logical plans → optimized plans → one physical plan.

pub mod display;
pub mod fixpoint;
pub mod logical;
mod memo;
pub mod optimizer;
pub mod physical;

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
    let rule = program
        .rules
        .get(index)
        .ok_or_else(|| format!("no rule #{index}"))?;
    let logical = logical::build(rule, index);
    let (optimized, trace) = optimizer::optimize(logical.clone(), program)?;
    let physical = physical::lower(&optimized)
        .ok_or_else(|| format!("rule `{}` has no pipeline to run", rule.id))?;
    Ok(RulePlan {
        rule: index,
        logical,
        optimized,
        trace,
        physical,
    })
}

/// Plans every rule and groups scans. Rules that fail to plan are returned as errors
/// (with the rule id) and left out.
pub fn plan(program: &Program) -> (PhysicalPlan, Vec<(String, String)>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in program.rules.iter().enumerate() {
        match plan_rule(program, i) {
            Ok(p) => rules.push(p.physical),
            Err(e) => errors.push((r.id.clone(), e)),
        }
    }
    (physical::group(rules), errors)
}
