//! The physical plan: each rule's optimized pipeline with its access paths chosen, and
//! rules grouped so that one pass over each kind feeds every rule that reads it.

use super::display::{access_text, expr_text, source_text};
use super::logical::{JoinSource, LogicalPlan};
use crate::check::ir::{CmpOp, Const, Expr, KindSet, Quant, Source, VarId};
use std::fmt::Write as _;
use std::sync::Arc;

/// How a root scan reads its objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanIndex {
    /// Every object in input order.
    AllObjects,
    /// The workloads view (controller-owned duplicates removed).
    WorkloadsView,
    /// The kind index.
    KindIndex,
    /// The kind-and-namespace index.
    KindNamespaceIndex,
    /// Every object that runs pods, and the kind index.
    PodsAndKindIndex,
}

/// The start of a rule's pipeline.
#[derive(Clone, Debug, PartialEq)]
pub enum Root {
    /// One empty row.
    Unit,
    /// A scan.
    Scan {
        /// Bound variable.
        var: VarId,
        /// Kinds.
        kinds: KindSet,
        /// Namespace restriction.
        namespace: Option<Expr>,
        /// Filters applied as objects are read.
        filters: Vec<Expr>,
        /// The index used.
        index: ScanIndex,
    },
}

/// The elements of a constant list (a data table's rows) that can pass a binding's
/// filters, found without testing each with the interpreter: built when a filter of the
/// binding is `var.key == e`, `e` free of `var` (a hash index on the key), or else
/// `e starts with var.key`, `e ends with var.key`, `e contains var.key` or the same with the
/// sides swapped (each row's key compared with `e` in place), and every element is a map
/// with a string at `key`.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    /// The key the rows are found by.
    pub key: Arc<str>,
    /// The value looked up (it does not use the bound variable).
    pub probe: Expr,
    /// The list.
    pub items: Arc<Vec<Const>>,
    /// How the rows are found.
    pub how: LookupHow,
}

/// How a [`Lookup`] finds its rows.
#[derive(Clone, Debug, PartialEq)]
pub enum LookupHow {
    /// The elements by their string at the key (the index a quantifier's table probe uses
    /// too).
    Hash(Arc<crate::check::ir::RowIndex>),
    /// Each element's string at the key compared with the probe: `probe op key` when
    /// `probe_left`, else `key op probe` (`op` is `starts with`, `ends with` or `contains`).
    Compare {
        /// The operator.
        op: CmpOp,
        /// Whether the probe is the left operand.
        probe_left: bool,
        /// Each element's string at the key, in list order.
        keys: Arc<Vec<Arc<str>>>,
    },
}

impl Lookup {
    /// The lookup a binding can use, if any: a hash lookup when a filter allows one, else a
    /// comparison of the keys.
    fn of(var: VarId, source: &Source, filters: &[Expr]) -> Option<Lookup> {
        let Source::Expr(e) = source else {
            return None;
        };
        let Expr::Const(Const::List(items)) = &**e else {
            return None;
        };
        let keyed = |x: &Expr| match x {
            Expr::Field(inner, k) if **inner == Expr::Var(var) => Some(k.clone()),
            _ => None,
        };
        let free = |x: &Expr| !super::optimizer::free_vars(x).contains(&var);
        // (operator, key, probe, whether the probe is the left operand) of each filter that
        // compares a key of the row with a value free of it
        let candidates: Vec<(CmpOp, Arc<str>, &Expr, bool)> = filters
            .iter()
            .filter_map(|f| {
                let Expr::Cmp(
                    op @ (CmpOp::Eq | CmpOp::StartsWith | CmpOp::EndsWith | CmpOp::Contains),
                    a,
                    b,
                ) = f
                else {
                    return None;
                };
                match (keyed(a), keyed(b)) {
                    (Some(k), _) if free(b) => Some((*op, k, &**b, false)),
                    (_, Some(k)) if free(a) => Some((*op, k, &**a, true)),
                    _ => None,
                }
            })
            .collect();
        let (op, key, probe, probe_left) = candidates
            .iter()
            .find(|c| c.0 == CmpOp::Eq)
            .or_else(|| candidates.first())
            .cloned()?;
        let mut keys: Vec<Arc<str>> = Vec::with_capacity(items.len());
        for item in items.iter() {
            let Const::Map(entries) = item else {
                return None;
            };
            match entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v) {
                Some(Const::Str(s)) => keys.push(s.clone()),
                _ => return None,
            }
        }
        let how = if op == CmpOp::Eq {
            LookupHow::Hash(Arc::new(crate::check::ir::RowIndex::new(
                Arc::clone(items),
                Arc::clone(&key),
            )))
        } else {
            LookupHow::Compare {
                op,
                probe_left,
                keys: Arc::new(keys),
            }
        };
        Some(Lookup {
            key,
            probe: probe.clone(),
            items: items.clone(),
            how,
        })
    }

    /// Whether the row whose key is `key` can pass the filter the lookup was made from,
    /// the probe's value being the string `probe` (a [`LookupHow::Compare`] lookup; a
    /// hash lookup finds its rows by the key itself).
    pub fn compare_holds(op: CmpOp, probe_left: bool, probe: &str, key: &str) -> bool {
        let (h, n) = if probe_left {
            (probe, key)
        } else {
            (key, probe)
        };
        match op {
            CmpOp::StartsWith => h.starts_with(n),
            CmpOp::EndsWith => h.ends_with(n),
            CmpOp::Contains => h.contains(n),
            // never made for another operator (`==` is a hash lookup): every row is tested
            _ => true,
        }
    }
}

/// One pipeline step.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Binds a variable to each element of a source, keeping those passing the filters.
    Bind {
        /// Bound variable.
        var: VarId,
        /// Source.
        source: Source,
        /// Filters (all still applied to the rows a lookup yields).
        filters: Vec<Expr>,
        /// A hash lookup that yields only the rows that can pass the filters.
        lookup: Option<Lookup>,
        /// The slots of the rule's kept sub-expressions that read `var`, emptied each
        /// time it is bound (see `plan::memo`).
        resets: Vec<usize>,
    },
    /// Keeps rows passing a predicate.
    Filter(Expr),
    /// Keeps rows with (or, when `anti`, without) a matching candidate.
    Join {
        /// Anti-join.
        anti: bool,
        /// Candidate variable.
        var: VarId,
        /// Candidates.
        source: JoinSource,
        /// Condition.
        on: Option<Expr>,
        /// The `exists` expression the executor evaluates (built once here).
        test: Expr,
    },
}

/// A rule's physical pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct PhysicalRule {
    /// Index of the rule in the program.
    pub rule: usize,
    /// The root.
    pub root: Root,
    /// The steps after the root.
    pub steps: Vec<Step>,
    /// How many sub-expressions the steps keep ([`Expr::Memo`] slots).
    pub memo_slots: usize,
    /// The words the root object's text must contain one of for the rule to match it (see
    /// `plan::prefilter`; none: no prefilter).
    pub prefilter: super::prefilter::Clause,
    /// `prefilter` as a mask of the plan's words ([`PhysicalPlan::words`]; 0: none).
    pub prefilter_mask: u64,
}

/// Rules sharing one scan of a kind set.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanGroup {
    /// The kinds scanned once.
    pub kinds: KindSet,
    /// The rules fed by the scan.
    pub rules: Vec<PhysicalRule>,
}

/// The physical plan of a program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhysicalPlan {
    /// Shared scans.
    pub groups: Vec<ScanGroup>,
    /// Rules whose root is not a shared scan (unit roots, namespace-restricted scans).
    pub others: Vec<PhysicalRule>,
    /// The words of the rules' prefilters.
    pub words: super::prefilter::Words,
}

impl PhysicalPlan {
    /// Every rule: the groups' in order, then the others.
    pub fn rules(&self) -> impl Iterator<Item = &PhysicalRule> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .chain(&self.others)
    }

    /// [`PhysicalPlan::rules`], each borrowed to be changed.
    pub fn rules_mut(&mut self) -> impl Iterator<Item = &mut PhysicalRule> {
        self.groups
            .iter_mut()
            .flat_map(|g| &mut g.rules)
            .chain(&mut self.others)
    }
}

/// Lowers one optimized logical plan.
pub fn lower(plan: &LogicalPlan) -> Option<PhysicalRule> {
    let LogicalPlan::Emit(emit) = plan else {
        return None;
    };
    let mut steps = Vec::new();
    let mut node: &LogicalPlan = &emit.input;
    let root = loop {
        match node {
            LogicalPlan::Unit => break Root::Unit,
            LogicalPlan::Scan(s) => {
                let index = match (&s.kinds, &s.namespace) {
                    (KindSet::All, _) => ScanIndex::AllObjects,
                    (KindSet::Workloads, _) => ScanIndex::WorkloadsView,
                    (KindSet::Kinds(_), None) => ScanIndex::KindIndex,
                    (KindSet::Kinds(_), Some(_)) => ScanIndex::KindNamespaceIndex,
                    (KindSet::PodsAnd(_), _) => ScanIndex::PodsAndKindIndex,
                };
                break Root::Scan {
                    var: s.var,
                    kinds: s.kinds.clone(),
                    namespace: s.namespace.clone(),
                    filters: s.filters.clone(),
                    index,
                };
            }
            LogicalPlan::Unnest(u) | LogicalPlan::Traverse(u) => {
                steps.push(Step::Bind {
                    var: u.var,
                    source: u.source.clone(),
                    filters: u.filters.clone(),
                    lookup: Lookup::of(u.var, &u.source, &u.filters),
                    resets: Vec::new(),
                });
                node = &u.input;
            }
            LogicalPlan::Filter(f) => {
                steps.push(Step::Filter(f.predicate.clone()));
                node = &f.input;
            }
            LogicalPlan::SemiJoin(j) | LogicalPlan::AntiJoin(j) => {
                let test = match &j.source {
                    JoinSource::Scan(s) => Expr::Quant {
                        quant: Quant::Exists,
                        var: j.var,
                        source: s.clone(),
                        cond: j.on.clone().map(Box::new),
                    },
                    JoinSource::Probe(a) => Expr::Probe {
                        quant: Quant::Exists,
                        var: j.var,
                        access: a.clone(),
                        cond: j.on.clone().map(Box::new),
                    },
                };
                steps.push(Step::Join {
                    anti: matches!(node, LogicalPlan::AntiJoin(_)),
                    var: j.var,
                    source: j.source.clone(),
                    on: j.on.clone(),
                    test,
                });
                node = &j.input;
            }
            LogicalPlan::Emit(_) => return None,
        }
    };
    steps.reverse();
    let rule = PhysicalRule {
        rule: emit.rule,
        root,
        steps,
        memo_slots: 0,
        prefilter: Vec::new(),
        prefilter_mask: 0,
    };
    Some(rule)
}

/// Calls `f` on each filter of a rule's pipeline: the scan's, each binding's, and each
/// filter step (a join's test is not a filter).
pub fn for_each_filter<'r>(rule: &'r PhysicalRule, f: &mut dyn FnMut(&'r Expr)) {
    if let Root::Scan { filters, .. } = &rule.root {
        filters.iter().for_each(&mut *f);
    }
    for s in &rule.steps {
        match s {
            Step::Bind { filters, .. } => filters.iter().for_each(&mut *f),
            Step::Filter(e) => f(e),
            Step::Join { .. } => {}
        }
    }
}

/// [`for_each_filter`], each filter borrowed to be changed.
pub fn for_each_filter_mut(rule: &mut PhysicalRule, f: &mut dyn FnMut(&mut Expr)) {
    if let Root::Scan { filters, .. } = &mut rule.root {
        filters.iter_mut().for_each(&mut *f);
    }
    for s in &mut rule.steps {
        match s {
            Step::Bind { filters, .. } => filters.iter_mut().for_each(&mut *f),
            Step::Filter(e) => f(e),
            Step::Join { .. } => {}
        }
    }
}

/// Groups rules by their root scan so each kind is read once.
pub fn group(rules: Vec<PhysicalRule>) -> PhysicalPlan {
    let mut plan = PhysicalPlan::default();
    for r in rules {
        let key = match &r.root {
            Root::Scan {
                kinds,
                namespace: None,
                ..
            } => Some(kinds.clone()),
            _ => None,
        };
        match key {
            Some(kinds) => match plan.groups.iter_mut().find(|g| g.kinds == kinds) {
                Some(g) => g.rules.push(r),
                None => plan.groups.push(ScanGroup {
                    kinds,
                    rules: vec![r],
                }),
            },
            None => plan.others.push(r),
        }
    }
    plan
}

/// Renders one rule's physical pipeline.
pub fn render(r: &PhysicalRule, vars: &[String]) -> String {
    let v = |id: VarId| vars.get(id).cloned().unwrap_or_default();
    let list = |f: &[Expr]| {
        if f.is_empty() {
            String::new()
        } else {
            let x: Vec<String> = f.iter().map(|e| expr_text(e, vars)).collect();
            format!(" filter [{}]", x.join("; "))
        }
    };
    let mut out = String::new();
    let _ = match &r.root {
        Root::Unit => writeln!(out, "1: Unit"),
        Root::Scan {
            var,
            kinds,
            namespace,
            filters,
            index,
        } => {
            let ns = namespace
                .as_ref()
                .map(|n| format!(" ns={}", expr_text(n, vars)))
                .unwrap_or_default();
            writeln!(
                out,
                "1: Scan {} in {kinds}{ns} using {index:?}{}",
                v(*var),
                list(filters)
            )
        }
    };
    for (i, s) in r.steps.iter().enumerate() {
        let line = match s {
            Step::Bind {
                var,
                source,
                filters,
                lookup,
                ..
            } => {
                let how = lookup
                    .as_ref()
                    .map(|l| {
                        let (key, probe) =
                            (format!("{}.{}", v(*var), l.key), expr_text(&l.probe, vars));
                        match &l.how {
                            LookupHow::Hash(_) => format!(" using hash lookup {key} == {probe}"),
                            LookupHow::Compare {
                                op,
                                probe_left: true,
                                ..
                            } => {
                                format!(" using key comparison {probe} {} {key}", op.as_str())
                            }
                            LookupHow::Compare { op, .. } => {
                                format!(" using key comparison {key} {} {probe}", op.as_str())
                            }
                        }
                    })
                    .unwrap_or_default();
                format!(
                    "Bind {} in {}{how}{}",
                    v(*var),
                    source_text(source, vars),
                    list(filters)
                )
            }
            Step::Filter(e) => format!("Filter {}", expr_text(e, vars)),
            Step::Join {
                anti,
                var,
                source,
                on,
                ..
            } => {
                let how = match source {
                    JoinSource::Scan(s) => format!("nested-loop over {}", source_text(s, vars)),
                    JoinSource::Probe(a) => format!("index probe {}", access_text(a, vars)),
                };
                let on = on
                    .as_ref()
                    .map(|o| format!(" on {}", expr_text(o, vars)))
                    .unwrap_or_default();
                format!(
                    "{} {} via {how}{on}",
                    if *anti { "AntiJoin" } else { "SemiJoin" },
                    v(*var)
                )
            }
        };
        let _ = writeln!(out, "{}: {line}", i + 2);
    }
    for (slot, e) in super::memo::kept(r).into_iter().enumerate() {
        let _ = writeln!(out, "kept #{slot}: {}", expr_text(e, vars));
    }
    if !r.prefilter.is_empty() {
        let words: Vec<String> = r.prefilter.iter().map(|w| format!("{w:?}")).collect();
        let _ = writeln!(
            out,
            "prefilter: the object's text contains {}",
            words.join(" or ")
        );
    }
    out
}
