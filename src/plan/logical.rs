//! The logical plan: relational operators over rows of bound variables, built from a
//! checked rule. Every plan is a pipeline ending in [`LogicalPlan::Emit`].

use super::display::{access_text, expr_text, source_text};
use crate::check::ir::{self, Access, Expr, KindSet, Source, VarId};
use std::collections::BTreeSet;

/// A logical operator.
#[derive(Clone, Debug, PartialEq)]
pub enum LogicalPlan {
    /// Produces one empty row (the input of rules whose first binding is not a scan).
    Unit,
    /// Reads every object of a kind set, optionally in one namespace, binding each to a variable.
    Scan(Scan),
    /// Binds a variable to each element of a list-valued expression of the input row
    /// (containers, list fields, table rows).
    Unnest(Unnest),
    /// Binds a variable to each object a graph relation reaches from the input row
    /// (`w.bindings`, `w.owners`, `ing.services`).
    Traverse(Unnest),
    /// Keeps the rows for which a predicate holds.
    Filter(Filter),
    /// Keeps the rows for which at least one candidate of a sub-query matches (`exists`).
    SemiJoin(Join),
    /// Keeps the rows for which no candidate of a sub-query matches (`not exists`).
    AntiJoin(Join),
    /// Emits one finding per row.
    Emit(Emit),
}

/// [`LogicalPlan::Scan`].
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// The bound variable.
    pub var: VarId,
    /// The kinds read.
    pub kinds: KindSet,
    /// A namespace restriction.
    pub namespace: Option<Expr>,
    /// Predicates evaluated on each object as it is read (pushed down).
    pub filters: Vec<Expr>,
}

/// [`LogicalPlan::Unnest`] and [`LogicalPlan::Traverse`].
#[derive(Clone, Debug, PartialEq)]
pub struct Unnest {
    /// The input.
    pub input: Box<LogicalPlan>,
    /// The bound variable.
    pub var: VarId,
    /// The list, relation or kind.
    pub source: Source,
    /// Predicates evaluated on each element (pushed down).
    pub filters: Vec<Expr>,
}

/// [`LogicalPlan::Filter`].
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The input.
    pub input: Box<LogicalPlan>,
    /// The predicate.
    pub predicate: Expr,
}

/// Where a join's candidates come from.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinSource {
    /// Every object of a kind set (in a namespace): a nested loop.
    Scan(Source),
    /// An index probe.
    Probe(Access),
}

/// [`LogicalPlan::SemiJoin`] and [`LogicalPlan::AntiJoin`].
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    /// The input.
    pub input: Box<LogicalPlan>,
    /// The sub-query's variable.
    pub var: VarId,
    /// Candidates.
    pub source: JoinSource,
    /// The join condition.
    pub on: Option<Expr>,
}

/// [`LogicalPlan::Emit`].
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    /// The input.
    pub input: Box<LogicalPlan>,
    /// The rule's index in the program.
    pub rule: usize,
}

impl LogicalPlan {
    /// The input operator, if any.
    pub fn input(&self) -> Option<&LogicalPlan> {
        match self {
            LogicalPlan::Unit | LogicalPlan::Scan(_) => None,
            LogicalPlan::Unnest(u) | LogicalPlan::Traverse(u) => Some(&u.input),
            LogicalPlan::Filter(f) => Some(&f.input),
            LogicalPlan::SemiJoin(j) | LogicalPlan::AntiJoin(j) => Some(&j.input),
            LogicalPlan::Emit(e) => Some(&e.input),
        }
    }

    /// The variables the rows of this plan bind (the invariant optimizer rules keep).
    pub fn bound_vars(&self) -> BTreeSet<VarId> {
        let mut out = self
            .input()
            .map(LogicalPlan::bound_vars)
            .unwrap_or_default();
        match self {
            LogicalPlan::Scan(s) => {
                out.insert(s.var);
            }
            LogicalPlan::Unnest(u) | LogicalPlan::Traverse(u) => {
                out.insert(u.var);
            }
            _ => {}
        }
        out
    }

    /// Renders the plan as indented, numbered lines.
    pub fn render(&self, vars: &[String]) -> String {
        let mut lines = Vec::new();
        let mut node = Some(self);
        let mut depth = 0;
        while let Some(p) = node {
            let pad = "  ".repeat(depth);
            let filters = |f: &[Expr]| {
                if f.is_empty() {
                    String::new()
                } else {
                    let v: Vec<String> = f.iter().map(|x| expr_text(x, vars)).collect();
                    format!(" filter [{}]", v.join("; "))
                }
            };
            let v = |id: VarId| vars.get(id).cloned().unwrap_or_default();
            let line = match p {
                LogicalPlan::Unit => "Unit".to_string(),
                LogicalPlan::Scan(s) => {
                    let ns = s
                        .namespace
                        .as_ref()
                        .map(|n| format!(" ns={}", expr_text(n, vars)))
                        .unwrap_or_default();
                    format!(
                        "Scan {} in {}{ns}{}",
                        v(s.var),
                        s.kinds,
                        filters(&s.filters)
                    )
                }
                LogicalPlan::Unnest(u) => format!(
                    "Unnest {} in {}{}",
                    v(u.var),
                    source_text(&u.source, vars),
                    filters(&u.filters)
                ),
                LogicalPlan::Traverse(u) => format!(
                    "Traverse {} in {}{}",
                    v(u.var),
                    source_text(&u.source, vars),
                    filters(&u.filters)
                ),
                LogicalPlan::Filter(f) => format!("Filter {}", expr_text(&f.predicate, vars)),
                LogicalPlan::SemiJoin(j) | LogicalPlan::AntiJoin(j) => {
                    let name = if matches!(p, LogicalPlan::SemiJoin(_)) {
                        "SemiJoin"
                    } else {
                        "AntiJoin"
                    };
                    let src = match &j.source {
                        JoinSource::Scan(s) => format!("scan {}", source_text(s, vars)),
                        JoinSource::Probe(a) => format!("probe {}", access_text(a, vars)),
                    };
                    let on =
                        j.on.as_ref()
                            .map(|o| format!(" on {}", expr_text(o, vars)))
                            .unwrap_or_default();
                    format!("{name} {} in {src}{on}", v(j.var))
                }
                LogicalPlan::Emit(e) => format!("Emit rule#{}", e.rule),
            };
            lines.push(format!("{pad}{line}"));
            node = p.input();
            depth += 1;
        }
        let width = lines.len().to_string().len();
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{:>width$}: {l}\n", i + 1))
            .collect()
    }
}

/// Builds the logical plan of a checked rule: a scan for the first binding, an unnest or
/// traverse per further binding, the condition as one filter, then emit.
pub fn build(rule: &ir::Rule, index: usize) -> LogicalPlan {
    let mut plan = LogicalPlan::Unit;
    for (i, b) in rule.bindings.iter().enumerate() {
        plan = match (&b.source, i) {
            (Source::Scan { kinds, namespace }, 0) => LogicalPlan::Scan(Scan {
                var: b.var,
                kinds: kinds.clone(),
                namespace: namespace.as_deref().cloned(),
                filters: Vec::new(),
            }),
            (source, _) => {
                let u = Unnest {
                    input: Box::new(plan),
                    var: b.var,
                    source: source.clone(),
                    filters: Vec::new(),
                };
                let relation = matches!(source, Source::Expr(e)
                    if matches!(**e, Expr::Attr(_, a) if a != ir::Attr::Containers));
                if relation {
                    LogicalPlan::Traverse(u)
                } else {
                    LogicalPlan::Unnest(u)
                }
            }
        };
    }
    if let Some(c) = &rule.condition {
        plan = LogicalPlan::Filter(Filter {
            input: Box::new(plan),
            predicate: c.clone(),
        });
    }
    LogicalPlan::Emit(Emit {
        input: Box::new(plan),
        rule: index,
    })
}
