//! The executor: runs the physical plan over one shared graph, in parallel across cores,
//! and returns findings in a deterministic order whatever the thread count.

use super::emit::record;
use super::finding::{Finding, Recorded};
use super::interp::{Ctx, Env, Mode};
use super::value::{Scalar, Val, Values};
use crate::check::ir::{Expr, Program};
use crate::diag::SourceMap;
use crate::graph::{Graph, ObjId};
use crate::plan::physical::{Lookup, LookupHow, PhysicalPlan, PhysicalRule, Root, Step};
use crate::plan::prefilter::{Search, Words, admits};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A rule that hit the evaluation step limit on some object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLimitHit {
    /// Rule id.
    pub rule: String,
    /// The root object (kind namespace/name), if any.
    pub object: Option<String>,
}

/// Findings and problems of one run: the findings made (sorted), or recorded
/// ([`record_with`]).
#[derive(Debug, Default)]
pub struct Outcome<F = Vec<Finding>> {
    /// Findings.
    pub findings: F,
    /// Rules that hit the step limit, and where.
    pub limits: Vec<StepLimitHit>,
    /// Where the evaluation's time went.
    pub times: Times,
    /// Relations (indexes into the program's) whose fixpoint the round limit stopped while
    /// it was still finding facts: paths longer than the limit are missing.
    pub truncated: Vec<usize>,
}

/// Where an evaluation's time went (what `--timings` shows of it).
#[derive(Clone, Debug, Default)]
pub struct Times {
    /// The time spent in each rule (indexed like the program's rules), summed over threads.
    pub rules: Vec<Duration>,
    /// The time spent computing the relations (the rules that read none run meanwhile).
    pub relations: Duration,
    /// The time spent searching the objects' texts for the words of the scan groups' rule
    /// prefilters, summed over threads: done once for all the rules of a group, it is in
    /// no rule's time.
    pub prefilters: Duration,
}

/// What one parallel task found: findings and step-limit hits.
type Part = (Recorded, Vec<StepLimitHit>);

/// The time spent in each rule, summed over threads as the tasks run (a list of times in
/// each task's part was kept until every task was done: about 7 MB at 1M objects), and in
/// the groups' text searches, which no one rule is charged for.
struct RuleTimes {
    rules: Vec<AtomicU64>,
    prefilters: AtomicU64,
}

impl RuleTimes {
    fn new(rules: usize) -> RuleTimes {
        RuleTimes {
            rules: (0..rules).map(|_| AtomicU64::new(0)).collect(),
            prefilters: AtomicU64::new(0),
        }
    }

    fn add(&self, rule: usize, d: Duration) {
        if let Some(t) = self.rules.get(rule) {
            add_nanos(t, d);
        }
    }

    fn add_prefilters(&self, d: Duration) {
        add_nanos(&self.prefilters, d);
    }

    /// The totals, with the relations' time.
    fn totals(&self, relations: Duration) -> Times {
        Times {
            rules: self.rules.iter().map(nanos).collect(),
            relations,
            prefilters: nanos(&self.prefilters),
        }
    }
}

fn add_nanos(t: &AtomicU64, d: Duration) {
    t.fetch_add(
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

fn nanos(t: &AtomicU64) -> Duration {
    Duration::from_nanos(t.load(Ordering::Relaxed))
}

/// Runs a physical plan with the default limits. The caller chooses the thread pool
/// (`pool.install`).
pub fn execute(
    program: &Program,
    plan: &PhysicalPlan,
    graph: &Graph,
    sources: &SourceMap,
) -> Outcome {
    execute_with(
        program,
        plan,
        graph,
        sources,
        &crate::limits::Limits::default(),
        true,
    )
}

/// Runs a physical plan under the given limits; `fixes`: whether findings carry their
/// rule's fix.
pub fn execute_with(
    program: &Program,
    plan: &PhysicalPlan,
    graph: &Graph,
    sources: &SourceMap,
    limits: &crate::limits::Limits,
    fixes: bool,
) -> Outcome {
    let run = record_with(program, plan, graph, sources, limits, fixes);
    Outcome {
        findings: run.findings.findings(program, graph, sources),
        limits: run.limits,
        times: run.times,
        truncated: run.truncated,
    }
}

/// The findings of a run as records, made into findings by [`Records::findings`].
#[derive(Debug, Default)]
pub struct Records {
    batches: Vec<super::finding::Batch>,
}

impl Records {
    /// The fixes of the records, for filling in their text changes
    /// ([`crate::fix::apply::describe_fixes`]) before the documents are freed.
    pub fn fixes_mut(
        &mut self,
    ) -> impl Iterator<Item = &mut std::sync::Arc<super::fixes::Autofix>> {
        self.batches
            .iter_mut()
            .flat_map(|b| b.extras.iter_mut())
            .filter_map(|e| e.autofix.as_mut())
    }

    /// The findings, sorted and without repeats, made in parallel on the current thread
    /// pool: what [`execute_with`] gives. They read the graph's objects and the source map,
    /// not the documents' nodes.
    pub fn findings(self, program: &Program, graph: &Graph, sources: &SourceMap) -> Vec<Finding> {
        let maker = super::emit::Maker::new(program, graph, sources);
        super::emit::make_all(&maker, self.batches)
    }
}

/// [`execute_with`], with the findings left as records.
pub fn record_with(
    program: &Program,
    plan: &PhysicalPlan,
    graph: &Graph,
    sources: &SourceMap,
    limits: &crate::limits::Limits,
    fixes: bool,
) -> Outcome<Records> {
    let mut ctx = Ctx::new(graph, program, Mode::Indexed).with_sources(sources);
    ctx.max_steps = limits.max_steps;
    ctx.fixes = fixes;
    // Every range of the scan groups' objects and every other rule is one task of a
    // single parallel pass, so that no group waits for the slowest range of another;
    // the other rules (each one task, some long) go first, so that they do not start last
    let mut tasks: Vec<Task<'_>> = plan.others.iter().map(Task::Other).collect();
    // the words each object's text is searched for: those of every group it is in
    let mut need: Vec<u64> = Vec::new();
    if !plan.words.is_empty() {
        need.resize(graph.objects.len(), 0);
    }
    // the groups' objects by ranges of the input: one task runs every group on the
    // objects of one range, so that an object's text and nodes are brought into the
    // cache once for all the groups it is in, not once per group
    let range = range_size(graph.objects.len(), rayon::current_num_threads());
    let mut ranges: Vec<Vec<Slice<'_>>> = Vec::new();
    // each group's objects, which the ranges' slices borrow (a copy of them was as large)
    let scanned: Vec<Vec<ObjId>> = plan
        .groups
        .iter()
        .map(|group| ctx.scan(&group.kinds, None))
        .collect();
    for ((g, group), ids) in plan.groups.iter().enumerate().zip(&scanned) {
        let words = group.rules.iter().fold(0, |m, r| m | r.prefilter_mask);
        if words != 0 {
            for &id in ids {
                if let Some(n) = need.get_mut(id as usize) {
                    *n |= words;
                }
            }
        }
        // the scan lists objects in input order
        for part in ids.chunk_by(|a, b| a / range == b / range) {
            let Some(&first) = part.first() else {
                continue;
            };
            let r = (first / range) as usize;
            if ranges.len() <= r {
                ranges.resize_with(r + 1, Vec::new);
            }
            if let Some(slices) = ranges.get_mut(r) {
                slices.push((g, group, part));
            }
        }
    }
    tasks.extend(
        ranges
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(Task::Range),
    );
    let texts = &Texts::new(&plan.words, need, &plan.others);
    let times = &RuleTimes::new(program.rules.len());
    // The rules that read no relation run while the relations are computed (in a context
    // of their own that shares what the other knows of the rules), and the rules that read
    // one run as soon as they are, beside them; the facts are dropped when those rules are
    // done, so that they are not held with the findings of the whole scan. A rule's
    // findings all come from one of the two passes, in the order of its tasks, and the
    // parts are put together as one pass after the other: the stable sort (when they are
    // made) puts them in the same order as one pass would
    let reads: Vec<bool> = (0..program.rules.len())
        .map(|r| {
            !program.relations.is_empty()
                && !crate::plan::fixpoint::needed(program, &[r]).is_empty()
        })
        .collect();
    let ((relations_time, truncated, later), mut parts) = rayon::join(
        || {
            let start = Instant::now();
            // the relations are computed under a fresh context's budget, as they always were
            let mut rctx = ctx.sharing();
            rctx.max_steps = super::interp::DEFAULT_MAX_STEPS;
            rctx.fixes = true;
            let mut rctx = rctx.with_relations(program);
            let time = start.elapsed();
            let truncated: Vec<usize> = rctx
                .relations
                .stats
                .iter()
                .filter(|s| s.truncated)
                .flat_map(|s| s.relations.iter().copied())
                .collect();
            rctx.max_steps = ctx.max_steps;
            rctx.fixes = ctx.fixes;
            let later = if reads.contains(&true) {
                run_tasks(&rctx, program, texts, times, &tasks, &reads, true)
            } else {
                Vec::new()
            };
            (time, truncated, later)
        },
        || run_tasks(&ctx, program, texts, times, &tasks, &reads, false),
    );
    parts.extend(later);
    let mut out = Outcome {
        times: times.totals(relations_time),
        truncated,
        ..Outcome::<Records>::default()
    };
    out.truncated.sort_unstable();
    out.truncated.dedup();
    let mut found = Recorded::default();
    for (f, l) in parts {
        found.append(f);
        out.limits.extend(l);
    }
    // (sorted and rid of repeats when they are made)
    out.findings = Records {
        batches: found.batches,
    };
    out.limits
        .sort_by(|a, b| (&a.rule, &a.object).cmp(&(&b.rule, &b.object)));
    out.limits.dedup();
    out
}

/// The object ids of one range of the input that the scan groups run on: at most about as
/// many objects as a core's cache holds the text and nodes of (1.8 KB an object in a
/// cluster export; 512 evaluated 5% faster than 128 and than a pass per group in chunks of
/// 64 objects, medians of seven alternating 1-thread runs over 100k objects), and small
/// enough that a small input still makes a few tasks for every thread. The findings do not
/// depend on it: the parts are put back in the order of a pass per group.
fn range_size(objects: usize, threads: usize) -> ObjId {
    let per_task = objects / threads.max(1).saturating_mul(16);
    ObjId::try_from(per_task.clamp(64, 512)).unwrap_or(512)
}

/// A scan group's objects in one range: the group's position, the group, the objects.
type Slice<'p> = (usize, &'p crate::plan::physical::ScanGroup, &'p [ObjId]);

/// One task of the parallel pass: the scan groups' objects in one range of the input, or
/// a rule whose root is not a shared scan.
enum Task<'p> {
    Range(Vec<Slice<'p>>),
    Other(&'p PhysicalRule),
}

/// Runs the rules that read relations (`later`) or those that read none of every task, in
/// parallel; the parts in the order a pass per group gave (the groups' chunks in order,
/// then the other rules).
fn run_tasks(
    ctx: &Ctx<'_>,
    program: &Program,
    texts: &Texts,
    times: &RuleTimes,
    tasks: &[Task<'_>],
    reads: &[bool],
    later: bool,
) -> Vec<Part> {
    let runs = |rule: usize| reads.get(rule).copied().unwrap_or(false) == later;
    // each part with its group's position (the other rules after every group), in the
    // order of the tasks
    let parts: Vec<Vec<(usize, Part)>> = tasks
        .par_iter()
        .with_max_len(1)
        .map_init(Env::default, |env, task| match task {
            Task::Range(slices) => slices
                .iter()
                .map(|(g, group, chunk)| {
                    let part = run_chunk(ctx, program, group, chunk, texts, times, &runs, env);
                    (*g, part)
                })
                .collect(),
            Task::Other(r) if runs(r.rule) => {
                vec![(usize::MAX, run_other(ctx, program, r, texts, times))]
            }
            Task::Other(_) => Vec::new(),
        })
        .collect();
    let mut parts: Vec<(usize, Part)> = parts.into_iter().flatten().collect();
    // stable: a group's parts stay in the order of its objects, the other rules in theirs
    parts.sort_by_key(|(g, _)| *g);
    parts.into_iter().map(|(_, p)| p).collect()
}

/// Runs the rules of a scan group that `runs` accepts on a chunk of its objects, in `env`
/// (made as new: [`Env::recycle`]).
#[allow(clippy::too_many_arguments)]
fn run_chunk(
    ctx: &Ctx<'_>,
    program: &Program,
    group: &crate::plan::physical::ScanGroup,
    chunk: &[ObjId],
    texts: &Texts,
    times: &RuleTimes,
    runs: &dyn Fn(usize) -> bool,
    env: &mut Env,
) -> Part {
    let mut found = Recorded::default();
    let mut limits = Vec::new();
    // one environment for all the rules: `run_root` resets its state for every object,
    // and the memo of parsed images serves every rule
    env.recycle();
    // the words of the rules' prefilters each object's text has, found when a rule first
    // needs them
    let mut words: Vec<u64> = Vec::new();
    for r in group.rules.iter().filter(|r| runs(r.rule)) {
        let Some(rule) = program.rules.get(r.rule) else {
            continue;
        };
        if r.prefilter_mask != 0 && words.is_empty() {
            let start = Instant::now();
            words = chunk.iter().map(|&id| texts.of(ctx, id)).collect();
            times.add_prefilters(start.elapsed());
        }
        let start = Instant::now();
        env.reset(rule.vars.len());
        for (i, id) in chunk.iter().enumerate() {
            if !admits(r.prefilter_mask, words.get(i).copied().unwrap_or(u64::MAX)) {
                continue;
            }
            run_root(ctx, program, r, Some(*id), env, &mut found, &mut limits);
        }
        times.add(r.rule, start.elapsed());
    }
    found.shrink_to_fit();
    (found, limits)
}

/// Runs a rule whose root is not a shared scan.
fn run_other(
    ctx: &Ctx<'_>,
    program: &Program,
    r: &PhysicalRule,
    texts: &Texts,
    times: &RuleTimes,
) -> Part {
    let mut found = Recorded::default();
    let mut limits = Vec::new();
    let start = Instant::now();
    let Some(rule) = program.rules.get(r.rule) else {
        return (found, limits);
    };
    let mut env = Env::new(rule.vars.len());
    match &r.root {
        Root::Unit => run_root(ctx, program, r, None, &mut env, &mut found, &mut limits),
        Root::Scan {
            kinds, namespace, ..
        } => {
            let ns = namespace.as_ref().and_then(|n| {
                let v = ctx.eval(n, &mut env);
                ctx.text(&v)
            });
            if namespace.is_some() && ns.is_none() {
                times.add(r.rule, start.elapsed());
                return (found, limits);
            }
            for id in ctx.scan(kinds, ns.as_deref()) {
                if r.prefilter_mask != 0 && !admits(r.prefilter_mask, texts.of_other(ctx, id)) {
                    continue;
                }
                run_root(ctx, program, r, Some(id), &mut env, &mut found, &mut limits);
            }
        }
    }
    found.shrink_to_fit();
    times.add(r.rule, start.elapsed());
    (found, limits)
}

/// The words of the rules' prefilters that the objects' source texts have: each object's
/// text searched once, for the words of every scan group it is in, the first time a rule
/// of one of them asks.
struct Texts {
    /// The searches, by the words they look for.
    searches: HashMap<u64, Search, crate::FastHash>,
    /// By object: the words the groups it is in look for, until its text is searched;
    /// then the words found, with [`Texts::KNOWN`].
    seen: Vec<AtomicU64>,
    /// The search for the words of the rules outside the groups.
    others: Search,
}

impl Texts {
    /// The bit that marks an object's words found (no word has it).
    const KNOWN: u64 = 1 << 63;

    fn new(words: &Words, need: Vec<u64>, others: &[PhysicalRule]) -> Texts {
        let mut searches: HashMap<u64, Search, crate::FastHash> = HashMap::default();
        for &n in &need {
            searches.entry(n).or_insert_with(|| words.search(n));
        }
        let other = others.iter().fold(0, |m, r| m | r.prefilter_mask);
        Texts {
            searches,
            seen: need.into_iter().map(AtomicU64::new).collect(),
            others: words.search(other),
        }
    }

    /// The words object `id`'s text has, of those its groups look for (all of them when
    /// its text is not found).
    fn of(&self, ctx: &Ctx<'_>, id: ObjId) -> u64 {
        let Some(slot) = self.seen.get(id as usize) else {
            return u64::MAX;
        };
        let need = slot.load(Ordering::Relaxed);
        if need & Self::KNOWN != 0 {
            return need;
        }
        let found = match self.searches.get(&need) {
            Some(search) => text_of(ctx, id).map_or(u64::MAX, |(t, a)| search.found(t, a)),
            None => u64::MAX,
        } | Self::KNOWN;
        slot.store(found, Ordering::Relaxed);
        found
    }

    /// The words of the other rules that object `id`'s text has.
    fn of_other(&self, ctx: &Ctx<'_>, id: ObjId) -> u64 {
        text_of(ctx, id).map_or(u64::MAX, |(t, a)| self.others.found(t, a))
    }
}

/// The source text of object `id`, and whether its document has an alias.
fn text_of<'g>(ctx: &Ctx<'g>, id: ObjId) -> Option<(&'g str, bool)> {
    let (doc, node) = ctx.graph.doc_node(id)?;
    Some((doc.source(node)?, doc.aliased))
}

/// The input-wide part of a rule without a root object may take the step limit once more
/// for every this many objects of the input (about 61 steps an object at the default limit).
pub const INPUT_WIDE_OBJECTS: u64 = 16_384;

#[allow(clippy::too_many_arguments)]
fn run_root(
    ctx: &Ctx<'_>,
    program: &Program,
    r: &PhysicalRule,
    root: Option<ObjId>,
    env: &mut Env,
    found: &mut Recorded,
    limits: &mut Vec<StepLimitHit>,
) {
    let Some(rule) = program.rules.get(r.rule) else {
        return;
    };
    found.rule = u32::try_from(r.rule).unwrap_or(u32::MAX);
    env.steps = 0;
    env.exhausted = false;
    env.witnesses.clear();
    // a rule with a root object has one budget per object; one without (a rule that asks
    // an input-wide question once, then loops over namespaces) has one for the work before
    // its first binding over several values, and one per row of that binding. The work
    // before it reads the whole input: its budget grows with the input, by the limit for
    // every `INPUT_WIDE_OBJECTS` objects
    env.per_row = root.is_none();
    env.extra_steps = if root.is_none() {
        let scale = ctx.graph.objects.len() as u64 / INPUT_WIDE_OBJECTS;
        ctx.max_steps.saturating_mul(scale)
    } else {
        0
    };
    env.row_hits.clear();
    // kept sub-expressions live for one root object at most
    env.memo.clear();
    env.memo.resize(r.memo_slots, None);
    if let (Root::Scan { var, filters, .. }, Some(id)) = (&r.root, root) {
        env.set(*var, Val::Obj(id));
        if !passes(ctx, filters, env) {
            return;
        }
    }
    steps(ctx, rule, &r.steps, env, found);
    let display = |id: Option<ObjId>| id.and_then(|id| ctx.graph.object(id)).map(|o| o.display());
    for row in std::mem::take(&mut env.row_hits) {
        limits.push(StepLimitHit {
            rule: rule.id.clone(),
            object: display(row),
        });
    }
    if env.exhausted {
        limits.push(StepLimitHit {
            rule: rule.id.clone(),
            object: display(root),
        });
    }
}

fn passes(ctx: &Ctx<'_>, filters: &[Expr], env: &mut Env) -> bool {
    filters.iter().all(|f| ctx.test(f, env))
}

/// The rows a lookup yields, in list order; `None` when the probe is not a string (then
/// every row is tested).
fn rows(ctx: &Ctx<'_>, l: &Lookup, env: &mut Env) -> Option<Vec<Val>> {
    let v = ctx.eval(&l.probe, env);
    let Scalar::Str(s) = ctx.scalar(&v) else {
        return None;
    };
    let item = |i: usize| l.items.get(i).map(Val::from);
    Some(match &l.how {
        LookupHow::Hash(index) => index.rows_with(s).map(Val::from).collect(),
        LookupHow::Compare {
            op,
            probe_left,
            keys,
        } => keys
            .iter()
            .enumerate()
            .filter(|(_, k)| Lookup::compare_holds(*op, *probe_left, s, k))
            .filter_map(|(i, _)| item(i))
            .collect(),
    })
}

fn steps(
    ctx: &Ctx<'_>,
    rule: &crate::check::ir::Rule,
    rest: &[Step],
    env: &mut Env,
    found: &mut Recorded,
) {
    if env.exhausted {
        return;
    }
    let Some((step, tail)) = rest.split_first() else {
        record(ctx, rule, env, found);
        return;
    };
    match step {
        Step::Filter(e) => {
            let mark = env.witnesses.len();
            if ctx.test(e, env) {
                steps(ctx, rule, tail, env, found);
            }
            env.witnesses.truncate(mark);
        }
        Step::Bind {
            var,
            source,
            filters,
            lookup,
            resets,
        } => {
            // objects reached while computing the source (the service account behind
            // `w.bindings`) belong to every row of this loop, and to no row after it
            let outer = env.witnesses.len();
            let values: Values = match lookup.as_ref().and_then(|l| rows(ctx, l, env)) {
                Some(v) => v.into(),
                None => ctx.source_iter(source, env),
            };
            // the first binding over several values of a rule without a root object: each
            // row gets the budget a root object would
            let fresh = env.per_row && values.len() > 1 && !env.exhausted;
            if fresh {
                env.per_row = false;
            }
            for v in values {
                let row = match (&v, fresh) {
                    (Val::Obj(o), true) => Some(*o),
                    _ => None,
                };
                if fresh {
                    env.steps = 0;
                    env.extra_steps = 0;
                }
                env.set(*var, v);
                for &s in resets {
                    if let Some(m) = env.memo.get_mut(s) {
                        *m = None;
                    }
                }
                let mark = env.witnesses.len();
                if passes(ctx, filters, env) {
                    steps(ctx, rule, tail, env, found);
                }
                env.witnesses.truncate(mark);
                if fresh && env.exhausted {
                    env.row_hits.push(row);
                    env.exhausted = false;
                }
            }
            env.witnesses.truncate(outer);
        }
        Step::Join { anti, test, .. } => {
            let mark = env.witnesses.len();
            let matched = ctx.test(test, env);
            if *anti {
                env.witnesses.truncate(mark);
            }
            if matched != *anti {
                steps(ctx, rule, tail, env, found);
            }
            env.witnesses.truncate(mark);
        }
    }
}
