//! Relations: the least fixpoint of each stratum of relations, computed before the rules
//! that read them.
//!
//! A stratum (a group of relations that call one another, see `check`) is evaluated in
//! rounds. Round 1 runs every case over the facts of earlier strata; each later round
//! derives the tuples that the facts of the round before make true, until a round adds
//! nothing or the path length limit is reached (then one more round, whose facts are dropped,
//! tells whether the limit cut longer paths off: the scan warns, `W0503`). Facts are objects tuples; each remembers
//! the round it was found in (its height: the length of its shortest derivation) and one
//! derivation (the case's step and the facts its `for` bindings read), from which the
//! evidence of a path is rebuilt.
//!
//! The executor ([`Mode::Indexed`]) evaluates semi-naively: a case whose recursive calls
//! are all `for` sources reads, in each round, only the facts the previous round found
//! through one of them (once per such binding); lookups go through a hash index on every
//! column but the last. The reference evaluator ([`Mode::Reference`]) runs every case over
//! all facts each round and looks facts up by scanning them. Both keep, for a tuple found
//! in a round, the derivation with the smallest key (the tuples of the facts it read, then
//! the step's object and position), so both give the same paths.

use super::emit::obj_of;
use super::interp::{Ctx, Env, Mode};
use super::value::Val;
use crate::FastHash;
use crate::check::ir::{Case, Expr, MessagePart, Program, Source, VarId};
use crate::diag::Span;
use crate::graph::ObjId;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Most rounds a stratum runs: the longest path (in steps of its base cases) it finds.
pub const MAX_ROUNDS: u32 = crate::limits::MAX_PATH_ROUNDS;

/// One step of a path: what the case's `step` clause says and where it points.
#[derive(Debug)]
pub struct StepEvidence {
    /// The object the step is about (the `at` value's object, else the first column's).
    pub object: Option<ObjId>,
    /// Where the `at` value is in the input.
    pub span: Option<Span>,
    /// The step's text, written the first time a finding shows it (most derivations are
    /// never shown: writing each one's text was a tenth of computing the relations).
    text: std::sync::OnceLock<String>,
    /// What writes it: the case's message and the values the derivation gave the variables
    /// it reads. `None` for a text written at once (a message that reads a relation, whose
    /// facts change from round to round).
    source: Option<(Arc<LaterText>, Box<[Val]>)>,
}

impl StepEvidence {
    /// The step's text: the case's message over the values the derivation had (the graph
    /// does not change, so it reads as it would have then).
    pub fn text(&self, ctx: &Ctx<'_>) -> &str {
        self.text.get_or_init(|| {
            let mut out = String::new();
            if let Some((later, values)) = &self.source {
                let mut env = Env::new(later.vars);
                for (&var, v) in later.reads.iter().zip(values.iter()) {
                    env.set(var, v.clone());
                }
                ctx.write_message(&later.parts, &mut env, &mut out);
            }
            out
        })
    }
}

/// A case's step message whose texts are written when a finding shows them.
#[derive(Debug)]
struct LaterText {
    parts: Vec<MessagePart>,
    /// The variables the message reads, whose values each derivation keeps.
    reads: Vec<VarId>,
    /// The case's number of variables.
    vars: usize,
}

/// A fact of a relation and one derivation of it.
#[derive(Clone, Debug)]
pub struct Fact {
    /// The objects, one per column.
    pub tuple: Box<[ObjId]>,
    /// The round it was found in (1 for the base cases).
    pub height: u32,
    /// The step of the case that derived it.
    pub step: Option<Arc<StepEvidence>>,
    /// The number of steps of its path (its own and its premises').
    pub len: u32,
    /// The facts its derivation read through `for` bindings: (relation, fact index).
    pub premises: Box<[(usize, u32)]>,
}

/// The facts of one relation.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Every fact, in the order found (rounds in order).
    pub facts: Vec<Fact>,
    /// The facts of one or two columns, by their tuple packed in a word ([`packed`]): most
    /// relations have two, and a candidate tuple is looked up here before anything else
    /// is done with it (the corpus's relations look up 475,000, of which 380,000 are known).
    by_pair: HashMap<u64, u32, FastHash>,
    /// The facts of more columns, by their tuple.
    by_tuple: HashMap<Box<[ObjId]>, u32, FastHash>,
    /// Every column but the last, when they are at most two (packed in a word by
    /// [`prefix_key`]) → facts, in order of height then last column.
    by_prefix: HashMap<u64, Vec<u32>, FastHash>,
    /// The same for prefixes of more columns, by the prefix.
    by_long_prefix: HashMap<Box<[ObjId]>, Vec<u32>, FastHash>,
}

/// How a stratum was evaluated, for `kanon explain`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StratumStats {
    /// The relations of the stratum.
    pub relations: Vec<usize>,
    /// Whether it is recursive.
    pub recursive: bool,
    /// Rounds run.
    pub rounds: u32,
    /// New facts per round.
    pub new_facts: Vec<usize>,
    /// Whether the round limit stopped it while facts were still being found.
    pub truncated: bool,
    /// When its first column was restricted to the values the rules ask about: how many.
    pub seeds: Option<usize>,
}

/// The computed relations of a program over a graph.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    /// The number of columns of each relation.
    pub arity: Vec<usize>,
    /// Facts per relation, indexed like [`Program::relations`].
    pub rels: Vec<Facts>,
    /// One entry per stratum, in evaluation order.
    pub stats: Vec<StratumStats>,
}

impl Relations {
    /// The index of a fact, by its tuple.
    pub fn find(&self, rel: usize, tuple: &[ObjId], mode: Mode) -> Option<u32> {
        let f = self.rels.get(rel)?;
        match mode {
            Mode::Indexed => match packed(tuple) {
                Some(key) => f.by_pair.get(&key).copied(),
                None => f.by_tuple.get(tuple).copied(),
            },
            Mode::Reference => f
                .facts
                .iter()
                .position(|x| &*x.tuple == tuple)
                .and_then(|i| u32::try_from(i).ok()),
        }
    }

    /// The facts whose first columns are `prefix`, by height then last column.
    pub fn completions(&self, rel: usize, prefix: &[ObjId], mode: Mode) -> Cow<'_, [u32]> {
        let Some(f) = self.rels.get(rel) else {
            return Cow::Borrowed(&[]);
        };
        match mode {
            Mode::Indexed => {
                let list = match prefix_key(prefix) {
                    Some(key) => f.by_prefix.get(&key),
                    None => f.by_long_prefix.get(prefix),
                };
                Cow::Borrowed(list.map_or(&[], Vec::as_slice))
            }
            Mode::Reference => {
                let mut out: Vec<u32> = f
                    .facts
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.tuple.get(..prefix.len()) == Some(prefix))
                    .filter_map(|(i, _)| u32::try_from(i).ok())
                    .collect();
                out.sort_by_key(|&i| order_key(f, i));
                Cow::Owned(out)
            }
        }
    }

    /// A fact.
    pub fn fact(&self, rel: usize, id: u32) -> Option<&Fact> {
        self.rels.get(rel)?.facts.get(id as usize)
    }

    /// The object in a fact's last column (what a call that leaves it out yields).
    pub fn last(&self, rel: usize, id: u32) -> Option<ObjId> {
        self.fact(rel, id).and_then(|f| f.tuple.last().copied())
    }

    /// The steps of a fact's derivation, in path order: the steps of the facts it read,
    /// then its own.
    pub fn path(&self, rel: usize, id: u32) -> Vec<Arc<StepEvidence>> {
        let mut out = Vec::new();
        self.path_into(rel, id, &mut out, 0);
        out
    }

    fn path_into(&self, rel: usize, id: u32, out: &mut Vec<Arc<StepEvidence>>, depth: u32) {
        // heights strictly decrease along premises of one stratum; the bound guards the rest
        if depth > MAX_ROUNDS * 64 {
            return;
        }
        let Some(f) = self.fact(rel, id) else {
            return;
        };
        for &(r, i) in &f.premises {
            self.path_into(r, i, out, depth + 1);
        }
        if let Some(s) = &f.step {
            out.push(s.clone());
        }
    }

    fn insert(&mut self, rel: usize, fact: Fact) {
        let Some(f) = self.rels.get_mut(rel) else {
            return;
        };
        let Ok(id) = u32::try_from(f.facts.len()) else {
            return;
        };
        match packed(&fact.tuple) {
            Some(key) => f.by_pair.insert(key, id),
            None => f.by_tuple.insert(fact.tuple.clone(), id),
        };
        let cut = fact.tuple.len().saturating_sub(1);
        let prefix = fact.tuple.get(..cut).unwrap_or(&[]);
        match prefix_key(prefix) {
            Some(key) => f.by_prefix.entry(key).or_default().push(id),
            None => f.by_long_prefix.entry(prefix.into()).or_default().push(id),
        }
        f.facts.push(fact);
    }

    /// Sorts each prefix list by height then last column (after a round's inserts).
    fn sort_prefixes(&mut self, rel: usize) {
        let Some(f) = self.rels.get_mut(rel) else {
            return;
        };
        let keys: Vec<(u32, ObjId)> = (0..f.facts.len())
            .filter_map(|i| u32::try_from(i).ok())
            .map(|i| order_key(f, i))
            .collect();
        for list in f
            .by_prefix
            .values_mut()
            .chain(f.by_long_prefix.values_mut())
        {
            list.sort_by_key(|&i| keys.get(i as usize).copied().unwrap_or_default());
        }
    }
}

/// A tuple of one or two columns as one word (a relation's tuples all have its arity, so
/// tuples of different lengths never meet in one table); `None` for a longer one.
fn packed(tuple: &[ObjId]) -> Option<u64> {
    match *tuple {
        [a] => Some(u64::from(a)),
        [a, b] => Some(u64::from(a) << 32 | u64::from(b)),
        _ => None,
    }
}

/// A prefix of at most two columns as one word, as [`packed`] makes it (the prefixes of a
/// relation all have one length, so the empty one of a relation of one column is 0): no
/// boxed key to make for every fact, and none to read at every lookup; `None` for a longer
/// one.
fn prefix_key(prefix: &[ObjId]) -> Option<u64> {
    match prefix {
        [] => Some(0),
        p => packed(p),
    }
}

fn order_key(f: &Facts, i: u32) -> (u32, ObjId) {
    f.facts.get(i as usize).map_or((u32::MAX, ObjId::MAX), |x| {
        (x.height, x.tuple.last().copied().unwrap_or_default())
    })
}

/// A tuple found by a case, with its derivation.
struct Derivation {
    rel: usize,
    tuple: Box<[ObjId]>,
    /// Shared as the fact will keep it (a derivation is a third smaller than with the step
    /// in place: fewer fresh pages at 1M objects).
    step: Option<Arc<StepEvidence>>,
    premises: Box<[(usize, u32)]>,
    /// What `merge` chooses the derivation of a tuple by (the smallest wins).
    key: Key,
}

/// The order of a tuple's derivations: fewest steps first (the shortest path), then the
/// facts read, then the step's place.
type Key = (u32, Vec<ObjId>, Option<ObjId>, Option<(u32, u32, u32)>);

/// The derivations a run of cases found, in order, and the smallest key of each tuple
/// among them: a later derivation of a tuple whose key is not smaller can never be the one
/// `merge` keeps (it keeps the smallest key, and the first of equal ones), so it is not
/// made.
#[derive(Default)]
struct Found {
    /// The derivations, in order, in the lists they were made in: the chunks of a case's
    /// first binding are run apart and their lists kept as they are, not copied into one
    /// (at 1M objects a round's derivations were tens of MB, and each copy of them was
    /// fresh memory for the kernel to fault in and zero).
    list: Vec<Vec<Derivation>>,
    /// By tuple (a run derives tuples of one relation).
    best: HashMap<Box<[ObjId]>, Key, FastHash>,
    /// The same for tuples of one or two columns, by the tuple packed in a word
    /// ([`packed`]): no boxed copy of the tuple made for the table.
    best_packed: HashMap<u64, Key, FastHash>,
}

/// Computes every relation of the program, stratum by stratum, in the context's mode.
pub fn compute(ctx: &mut Ctx<'_>, program: &Program) {
    let mut rels = Relations {
        arity: program.relations.iter().map(|r| r.params.len()).collect(),
        rels: vec![Facts::default(); program.relations.len()],
        stats: Vec::new(),
    };
    // only what the rules read, directly or through other relations
    let rules: Vec<usize> = (0..program.rules.len()).collect();
    let needed = crate::plan::fixpoint::needed(program, &rules);
    // the executor computes a relation only from the values its callers start from; the
    // reference computes every relation whole
    let seeds: Vec<Option<HashSet<ObjId, FastHash>>> = match ctx.mode {
        Mode::Indexed => crate::plan::fixpoint::restrictions(program)
            .iter()
            .map(|r| r.as_ref().map(|list| seed_values(ctx, program, list)))
            .collect(),
        Mode::Reference => vec![None; program.relations.len()],
    };
    for stratum in &program.strata {
        if !stratum.iter().any(|r| needed.contains(r)) {
            continue;
        }
        let recursive = stratum
            .iter()
            .any(|&r| program.relations.get(r).is_some_and(|x| x.recursive));
        let mut stats = StratumStats {
            relations: stratum.clone(),
            recursive,
            seeds: stratum
                .iter()
                .filter_map(|&r| seeds.get(r).and_then(Option::as_ref))
                .map(HashSet::len)
                .reduce(|a, b| a + b),
            ..StratumStats::default()
        };
        // where the facts of the previous round start, per relation
        let mut delta_start: Vec<u32> = vec![0; program.relations.len()];
        let mut round = 0u32;
        loop {
            round += 1;
            ctx.relations = Arc::new(std::mem::take(&mut rels));
            // the round's runs of the cases, in order; they read the same facts (those of
            // the rounds before), so they run in parallel, and their derivations are put
            // back in this order (`merge` keeps the first of equal keys: the same facts and
            // derivations as one run after the other)
            let mut runs: Vec<(usize, &Case, Option<usize>)> = Vec::new();
            for &r in stratum {
                let Some(rel) = program.relations.get(r) else {
                    continue;
                };
                for case in &rel.cases {
                    let calls: Vec<usize> = case
                        .relation_calls()
                        .iter()
                        .map(|(to, _)| *to)
                        .filter(|to| stratum.contains(to))
                        .collect();
                    if round > 1 && calls.is_empty() {
                        // a base case finds everything it can in round 1
                        continue;
                    }
                    if round == 1 || ctx.mode == Mode::Reference || !case.semi_naive {
                        runs.push((r, case, None));
                    } else {
                        for (i, b) in case.bindings.iter().enumerate() {
                            let own = matches!(&b.source, Source::Expr(e)
                                if matches!(&**e, Expr::Relation { rel: to, .. } if stratum.contains(to)));
                            if own {
                                runs.push((r, case, Some(i)));
                            }
                        }
                    }
                }
            }
            let shared: &Ctx<'_> = ctx;
            let lists: Vec<Vec<Vec<Derivation>>> = runs
                .par_iter()
                .with_max_len(1)
                .map(|&(r, case, delta)| {
                    let only = seeds.get(r).and_then(Option::as_ref);
                    let mut found = Found::default();
                    run_case(shared, r, case, delta, &delta_start, only, &mut found);
                    found.list
                })
                .collect();
            let found = Found {
                list: lists.into_iter().flatten().collect(),
                ..Found::default()
            };
            rels = Arc::try_unwrap(std::mem::take(&mut ctx.relations))
                .unwrap_or_else(|shared| (*shared).clone());
            if round > MAX_ROUNDS {
                // a probe past the limit: were there longer paths? its facts are dropped
                stats.truncated = found
                    .list
                    .iter()
                    .flatten()
                    .any(|d| rels.find(d.rel, &d.tuple, ctx.mode).is_none());
                break;
            }
            for &r in stratum {
                if let Some(f) = rels.rels.get(r) {
                    if let (Some(slot), Ok(n)) =
                        (delta_start.get_mut(r), u32::try_from(f.facts.len()))
                    {
                        *slot = n;
                    }
                }
            }
            let added = merge(&mut rels, found.list, round, ctx.mode);
            for &r in stratum {
                rels.sort_prefixes(r);
            }
            stats.rounds = round;
            stats.new_facts.push(added);
            if added == 0 || !recursive {
                break;
            }
        }
        rels.stats.push(stats);
    }
    ctx.relations = Arc::new(rels);
}

/// Adds the new tuples of a round, each with its smallest derivation; returns how many.
fn merge(rels: &mut Relations, found: Vec<Vec<Derivation>>, round: u32, mode: Mode) -> usize {
    // a derivation's relation, its tuple packed in a word when it has one or two columns
    // (in the order of the tuples: a relation's tuples all have its arity) else 0, then
    // the tuple itself: most comparisons end at the word, without reading the tuple
    type Slot<'a> = (usize, u64, &'a [ObjId]);
    // where a derivation is in `found`: its list and its place in it, in the order found
    type At = (u32, u32);
    // the derivations of new tuples (the tuples and keys borrowed, not copied), sorted by
    // relation and tuple, then key, then the order found: the first of each tuple is the
    // one kept (the smallest key, the first of equal ones). One sort instead of a table
    // of the best so far and a sort of its entries: at 1M objects a round of 168,000
    // tuples made a table of that many entries, each probe a miss of the caches
    let mut new: Vec<(Slot<'_>, &Key, At)> = Vec::new();
    for (l, list) in found.iter().enumerate() {
        for (i, d) in list.iter().enumerate() {
            if rels.find(d.rel, &d.tuple, mode).is_some() {
                continue;
            }
            let (Ok(l), Ok(i)) = (u32::try_from(l), u32::try_from(i)) else {
                continue;
            };
            let word = packed(&d.tuple).unwrap_or(0);
            new.push(((d.rel, word, &d.tuple), &d.key, (l, i)));
        }
    }
    new.sort_unstable();
    new.dedup_by(|later, first| later.0 == first.0);
    // the new facts in the order of their relation and tuple (each is there once)
    let mut order: Vec<(u32, At)> = Vec::with_capacity(new.len());
    let mut counts = vec![0usize; rels.rels.len()];
    for ((rel, _, _), key, i) in new {
        order.push((key.0, i));
        if let Some(c) = counts.get_mut(rel) {
            *c += 1;
        }
    }
    // the tables grow once per round, not by doubling as the facts come
    for ((f, &c), &arity) in rels.rels.iter_mut().zip(&counts).zip(&rels.arity) {
        if c > 0 {
            f.facts.reserve(c);
            if arity <= 2 {
                f.by_pair.reserve(c);
            }
        }
    }
    let mut found: Vec<Vec<Option<Derivation>>> = found
        .into_iter()
        .map(|list| list.into_iter().map(Some).collect())
        .collect();
    let n = order.len();
    for (len, (l, i)) in order {
        let Some(d) = found
            .get_mut(l as usize)
            .and_then(|list| list.get_mut(i as usize))
            .and_then(Option::take)
        else {
            continue;
        };
        rels.insert(
            d.rel,
            Fact {
                tuple: d.tuple,
                height: round,
                len,
                step: d.step,
                premises: d.premises,
            },
        );
    }
    n
}

/// The objects the first binding of the seeds' rules takes where their conditions on it
/// alone hold.
fn seed_values(
    ctx: &Ctx<'_>,
    program: &Program,
    seeds: &[crate::plan::fixpoint::Seed],
) -> HashSet<ObjId, FastHash> {
    let mut out = HashSet::default();
    for s in seeds {
        let n = program.rules.get(s.rule).map_or(0, |r| r.vars.len());
        // a value an earlier seed kept needs no test: the seeds are their union (the later
        // rules of a program often range over what the earlier ones kept already)
        let mut values = ctx.source_values(&s.source, &mut Env::new(n));
        values.retain(|v| !matches!(v, Val::Obj(o) if out.contains(o)));
        // chunks on the thread pool, each with its own environment
        out.extend(in_chunks(&values, |chunk| {
            let mut env = Env::new(n);
            let mut kept = Vec::new();
            for v in chunk {
                let Val::Obj(o) = v else {
                    continue;
                };
                env.steps = 0;
                env.exhausted = false;
                env.set(s.var, v.clone());
                let ok = s.filters.iter().all(|f| ctx.test(f, &mut env));
                // a value the step limit cut short is kept: it may be asked about
                if ok || env.exhausted {
                    kept.push(*o);
                }
            }
            kept
        }));
    }
    out
}

/// `run` on each chunk of [`CHUNK`] items, the chunks run on the thread pool; their
/// outputs in the order of the chunks (the same whatever the thread count).
fn in_chunks<T: Sync, O: Send>(items: &[T], run: impl Fn(&[T]) -> Vec<O> + Sync) -> Vec<O> {
    let parts: Vec<Vec<O>> = items.par_chunks(CHUNK).with_max_len(1).map(&run).collect();
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for p in parts {
        out.extend(p);
    }
    out
}

/// Rows of a relation's first binding (and seeds) run in one task: more are split into
/// chunks of this many, run on the thread pool. A row can be long (a service account's
/// every binding, rule and target): the real corpus's 1,685 objects have 155
/// ServiceAccount documents, which chunks of 256 left on one thread.
const CHUNK: usize = 32;

/// Runs one case; `delta` is the binding that reads only the previous round's facts;
/// `only` restricts the first binding (the first column) to the values the rules need.
fn run_case(
    ctx: &Ctx<'_>,
    rel: usize,
    case: &Case,
    delta: Option<usize>,
    delta_start: &[u32],
    only: Option<&HashSet<ObjId, FastHash>>,
    out: &mut Found,
) {
    let mut env = Env::new(case.vars.len());
    let mut premises = Vec::new();
    // each conjunct of the condition is checked as soon as the bindings it reads are set
    let mut filters: Vec<Vec<Expr>> = vec![Vec::new(); case.bindings.len().max(1)];
    if let Some(c) = &case.condition {
        let mut parts = Vec::new();
        crate::plan::optimizer::conjuncts(c.clone(), &mut parts);
        for part in parts {
            let reads = crate::plan::optimizer::free_vars(&part);
            let depth = case
                .bindings
                .iter()
                .rposition(|b| reads.contains(&b.var))
                .unwrap_or(0);
            if let Some(slot) = filters.get_mut(depth) {
                slot.push(part);
            }
        }
    }
    // a conjunct that reads only the variable of a later binding (`takes_over(r)` for
    // `r in bd.role.rules`: the same rule of a role bound many times) is answered once per
    // value of that variable in a chunk of rows, as a scan group's shared conditions are
    // (`Ctx::test` of `Expr::Shared`: the same steps counted and the same evidence added);
    // so is one that reads that variable and one other, once per pair of objects they hold
    // (`all bb in t.bindings where copies(b, bb)` for `b`, and `t` reached through
    // bindings and rules in between: the same pair met again and again)
    let mut next = 0u32;
    for (depth, slot) in filters.iter_mut().enumerate().skip(1) {
        let Some(b) = case.bindings.get(depth) else {
            continue;
        };
        for f in slot.iter_mut() {
            let with = match crate::plan::share::kept_by(f).as_deref() {
                Some(&[v]) if v == b.var => None,
                Some(&[x, y]) if y == b.var => Some(x),
                Some(&[x, y]) if x == b.var => Some(y),
                _ => continue,
            };
            let inner = std::mem::replace(f, Expr::Var(b.var));
            *f = Expr::Shared {
                id: next,
                var: b.var,
                with,
                expr: Box::new(inner),
            };
            next += 1;
        }
    }
    // the step's text is written when a finding shows it, unless its message reads a
    // relation (whose facts grow from round to round)
    let message = case.step.as_ref().and_then(|s| {
        let mut calls = Vec::new();
        let mut reads = std::collections::BTreeSet::new();
        for part in &s.message {
            if let MessagePart::Expr(e) = part {
                e.relation_calls(&mut calls);
                reads.extend(crate::plan::optimizer::free_vars(e));
            }
        }
        calls.is_empty().then(|| {
            Arc::new(LaterText {
                parts: s.message.clone(),
                reads: reads.into_iter().collect(),
                vars: case.vars.len(),
            })
        })
    });
    let run = Run {
        ctx,
        rel,
        case,
        delta,
        delta_start,
        filters,
        only,
        starts: delta_starts(ctx, case, delta, delta_start),
        message,
    };
    run.rows(0, &mut env, &mut premises, out);
}

/// For a run of a recursive case that reads the facts of the last round through binding
/// `delta` (semi-naive), when that binding is a relation whose first argument is the
/// variable of the case's first binding (`for a in identity(), m in reaches(a), ...`): the
/// first columns of those facts. A value of the first binding outside them reaches none of
/// them (every fact the binding completes it with is older), so its row derives nothing and
/// is passed over before anything is evaluated for it: a later round then costs the size
/// of the last round's facts, not a hash probe for every value of the first binding (at 1M
/// objects, 167,727 probes into a table larger than the cache for 840 new facts).
fn delta_starts(
    ctx: &Ctx<'_>,
    case: &Case,
    delta: Option<usize>,
    delta_start: &[u32],
) -> Option<HashSet<ObjId, FastHash>> {
    let d = delta.filter(|&d| d > 0)?;
    let first = case.bindings.first()?;
    let Source::Expr(e) = &case.bindings.get(d)?.source else {
        return None;
    };
    let Expr::Relation { rel, args, .. } = &**e else {
        return None;
    };
    // as `Run::rows` reads such a binding: the prefix is the arguments' objects
    if !matches!(args.first(), Some(Expr::Var(v)) if *v == first.var)
        || ctx.relations.arity.get(*rel) != Some(&(args.len() + 1))
    {
        return None;
    }
    let from = delta_start.get(*rel).copied().unwrap_or(0) as usize;
    let facts = ctx.relations.rels.get(*rel)?.facts.get(from..)?;
    Some(
        facts
            .iter()
            .filter_map(|f| f.tuple.first().copied())
            .collect(),
    )
}

struct Run<'a, 'g> {
    ctx: &'a Ctx<'g>,
    rel: usize,
    case: &'a Case,
    delta: Option<usize>,
    delta_start: &'a [u32],
    /// The conjuncts of the condition to check once binding `i` is set.
    filters: Vec<Vec<Expr>>,
    /// The values the first binding is restricted to.
    only: Option<&'a HashSet<ObjId, FastHash>>,
    /// In a round that reads the facts of the last round through a binding whose first
    /// argument is the first binding's variable: the first columns of those facts (see
    /// [`delta_starts`]).
    starts: Option<HashSet<ObjId, FastHash>>,
    /// The step's message, when its text is written later (see [`StepEvidence::text`]).
    message: Option<Arc<LaterText>>,
}

impl Run<'_, '_> {
    fn rows(&self, depth: usize, env: &mut Env, premises: &mut Vec<(usize, u32)>, out: &mut Found) {
        let ctx = self.ctx;
        let Some(b) = self.case.bindings.get(depth) else {
            self.emit(env, premises, out);
            return;
        };
        if let Source::Expr(e) = &b.source {
            if let Expr::Relation { rel, args, .. } = &**e {
                if ctx.relations.arity.get(*rel) == Some(&(args.len() + 1)) {
                    let Some(prefix) = objects(ctx, args, env) else {
                        return;
                    };
                    let from = if self.delta == Some(depth) {
                        self.delta_start.get(*rel).copied().unwrap_or(0)
                    } else {
                        0
                    };
                    let mut ids = ctx.relations.completions(*rel, &prefix, ctx.mode);
                    if depth == 0 && (self.only.is_some() || self.starts.is_some()) {
                        // the first column's values `holds` would refuse are left out before
                        // the rows are split into chunks (see `admits`)
                        ids = Cow::Owned(
                            ids.iter()
                                .copied()
                                .filter(|&id| {
                                    ctx.relations.last(*rel, id).is_some_and(|o| self.admits(o))
                                })
                                .collect(),
                        );
                    }
                    // the last binding, with nothing to test and no step to place: a value
                    // whose tuple is a fact already derives nothing (`emit` would drop it),
                    // so it is passed over before anything is set for it (most are: the
                    // closure's later rounds find again what earlier ones found)
                    let last_binding = depth > 0
                        && depth + 1 == self.case.bindings.len()
                        && self.filters.get(depth).is_none_or(Vec::is_empty)
                        && self.case.step.is_none();
                    self.each(
                        depth,
                        &ids,
                        env,
                        premises,
                        out,
                        |&id, env, premises, out| {
                            if id < from {
                                return;
                            }
                            let Some(last) = ctx.relations.last(*rel, id) else {
                                return;
                            };
                            if last_binding && self.derives_nothing(env, b.var, last) {
                                return;
                            }
                            env.set(b.var, Val::Obj(last));
                            if !self.holds(depth, env) {
                                return;
                            }
                            premises.push((*rel, id));
                            self.rows(depth + 1, env, premises, out);
                            premises.pop();
                        },
                    );
                    return;
                }
            }
        }
        if depth > 0 {
            // an inner binding's values one at a time, as `each` would visit them: no list
            // made for every row of the bindings before it
            for v in ctx.source_iter(&b.source, env) {
                env.set(b.var, v);
                if self.holds(depth, env) {
                    self.rows(depth + 1, env, premises, out);
                }
            }
            return;
        }
        let mut values = ctx.source_values(&b.source, env);
        if self.only.is_some() || self.starts.is_some() {
            values.retain(|v| matches!(v, Val::Obj(o) if self.admits(*o)));
        }
        self.each(
            depth,
            &values,
            env,
            premises,
            out,
            |v, env, premises, out| {
                env.set(b.var, v.clone());
                if self.holds(depth, env) {
                    self.rows(depth + 1, env, premises, out);
                }
            },
        );
    }

    /// Runs `visit` on each value of binding `depth`. A row of the first binding starts
    /// from nothing (a fresh step budget); its values, when there are more than
    /// [`CHUNK`], are split into chunks of [`CHUNK`] run on the thread pool, each with a
    /// fresh environment, and their derivations are put back in order, so `out` is the
    /// same whatever the thread count.
    fn each<T: Sync>(
        &self,
        depth: usize,
        items: &[T],
        env: &mut Env,
        premises: &mut Vec<(usize, u32)>,
        out: &mut Found,
        visit: impl Fn(&T, &mut Env, &mut Vec<(usize, u32)>, &mut Found) + Sync,
    ) {
        let row = |item: &T, env: &mut Env, premises: &mut Vec<(usize, u32)>, out: &mut _| {
            if depth == 0 {
                env.steps = 0;
                env.exhausted = false;
            }
            visit(item, env, premises, out);
        };
        if depth > 0 || items.len() <= CHUNK {
            for item in items {
                row(item, env, premises, out);
            }
            return;
        }
        let vars = env.vars.len();
        let lists: Vec<Vec<Vec<Derivation>>> = items
            .par_chunks(CHUNK)
            .with_max_len(1)
            .map(|chunk| {
                let mut env = Env::new(vars);
                let mut premises = Vec::new();
                let mut found = Found::default();
                for item in chunk {
                    row(item, &mut env, &mut premises, &mut found);
                }
                found.list
            })
            .collect();
        out.list.extend(lists.into_iter().flatten());
    }

    /// Whether the first binding may take `o`: one of the values the rules start from
    /// (`only`) and, for a semi-naive run, one the last round's facts start from
    /// (`starts`). The rows of the values it refuses derive nothing, and are left out before
    /// the rows are split into chunks: in a later round of a closure at 1M objects the
    /// first binding had 223,000 values of which a few hundred start a new fact, and each
    /// was a probe of the large table first.
    fn admits(&self, o: ObjId) -> bool {
        // the small table first: it refuses most
        self.starts.as_ref().is_none_or(|s| s.contains(&o))
            && self.only.is_none_or(|s| s.contains(&o))
    }

    /// Whether the conjuncts checked at binding `depth` hold (a step-limit hit: no). The
    /// first binding's values are those [`Run::admits`] took, chosen in `rows`.
    fn holds(&self, depth: usize, env: &mut Env) -> bool {
        let ctx = self.ctx;
        for f in self.filters.get(depth).map_or(&[][..], Vec::as_slice) {
            if !ctx.test(f, env) || env.exhausted {
                env.exhausted = false;
                return false;
            }
        }
        true
    }

    /// Whether binding `var` to `value` makes a tuple that [`Run::emit`] would drop at once:
    /// a head variable that is not an object, or a tuple that is a fact already.
    fn derives_nothing(&self, env: &Env, var: VarId, value: ObjId) -> bool {
        let (mut small, mut large) = ([0; 4], Vec::new());
        match self.head_tuple(env, Some((var, value)), &mut small, &mut large) {
            Some(tuple) => self
                .ctx
                .relations
                .find(self.rel, tuple, self.ctx.mode)
                .is_some(),
            None => true,
        }
    }

    /// The candidate tuple of the case's head (`with`: a variable read as this value
    /// instead), in `small` for a relation of up to four columns (most candidates are
    /// known already: only a new one is copied to the heap), else in `large`; `None` when
    /// a head variable is not an object.
    #[inline]
    fn head_tuple<'t>(
        &self,
        env: &Env,
        with: Option<(VarId, ObjId)>,
        small: &'t mut [ObjId; 4],
        large: &'t mut Vec<ObjId>,
    ) -> Option<&'t [ObjId]> {
        let n = self.case.head.len();
        let tuple: &mut [ObjId] = match small.get_mut(..n) {
            Some(t) => t,
            None => {
                large.resize(n, 0);
                large
            }
        };
        for (slot, &h) in tuple.iter_mut().zip(&self.case.head) {
            *slot = match (with, env.vars.get(h)) {
                (Some((var, value)), _) if var == h => value,
                (_, Some(Val::Obj(o))) => *o,
                _ => return None,
            };
        }
        Some(tuple)
    }

    fn emit(&self, env: &mut Env, premises: &[(usize, u32)], out: &mut Found) {
        let ctx = self.ctx;
        // a case without bindings has no first value the rules or the last round start from
        let restricted = self.only.is_some() || self.starts.is_some();
        if self.case.bindings.is_empty() && (restricted || !self.holds(0, env)) {
            return;
        }
        let (mut small, mut large) = ([0; 4], Vec::new());
        let Some(tuple) = self.head_tuple(env, None, &mut small, &mut large) else {
            return;
        };
        // a tuple found in an earlier round keeps that (shorter) derivation: `merge` would
        // drop this one, so its step is not even written
        if ctx.relations.find(self.rel, tuple, ctx.mode).is_some() {
            return;
        }
        // the step's place, then the key `merge` chooses by, before the step's text
        let place = self.case.step.as_ref().map(|s| {
            let at = s.at.as_ref().map(|e| ctx.eval(e, env));
            let object = at.as_ref().and_then(obj_of).or(tuple.first().copied());
            let span = s.at.as_ref().and_then(|e| ctx.locate(e, env));
            (object, span)
        });
        // the premises' tuples in one list, made at its size (grown premise by premise, the
        // lists of the real corpus's derivations took 101,000 reallocations)
        let facts = || {
            premises
                .iter()
                .filter_map(|&(r, i)| ctx.relations.fact(r, i))
        };
        let mut premise_tuples = Vec::with_capacity(facts().map(|f| f.tuple.len()).sum());
        let mut len = u32::from(place.is_some());
        for f in facts() {
            premise_tuples.extend_from_slice(&f.tuple);
            len = len.saturating_add(f.len);
        }
        let key: Key = (
            len,
            premise_tuples,
            place.and_then(|(o, _)| o),
            place.and_then(|(_, s)| s).map(|s| (s.file, s.start, s.end)),
        );
        let best = match packed(tuple) {
            Some(word) => out.best_packed.get_mut(&word),
            None => out.best.get_mut(tuple),
        };
        match best {
            Some(best) if *best <= key => return,
            Some(best) => *best = key.clone(),
            None => {
                match packed(tuple) {
                    Some(word) => out.best_packed.insert(word, key.clone()),
                    None => out.best.insert(tuple.into(), key.clone()),
                };
            }
        }
        let tuple: Box<[ObjId]> = tuple.into();
        let step = self
            .case
            .step
            .as_ref()
            .zip(place)
            .map(|(s, (object, span))| match &self.message {
                Some(later) => StepEvidence {
                    object,
                    span,
                    text: std::sync::OnceLock::new(),
                    source: Some((
                        Arc::clone(later),
                        later
                            .reads
                            .iter()
                            .map(|&v| env.vars.get(v).cloned().unwrap_or(Val::Null))
                            .collect(),
                    )),
                },
                None => {
                    let mut text = String::new();
                    ctx.write_message(&s.message, env, &mut text);
                    StepEvidence {
                        object,
                        span,
                        text: text.into(),
                        source: None,
                    }
                }
            })
            .map(Arc::new);
        let d = Derivation {
            rel: self.rel,
            tuple,
            step,
            premises: premises.into(),
            key,
        };
        match out.list.last_mut() {
            Some(last) => last.push(d),
            None => out.list.push(vec![d]),
        }
    }
}

/// The objects the arguments evaluate to, or `None` when one is not an object.
pub fn objects(ctx: &Ctx<'_>, args: &[Expr], env: &mut Env) -> Option<Vec<ObjId>> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match ctx.eval(a, env) {
            Val::Obj(o) => out.push(o),
            _ => return None,
        }
    }
    Some(out)
}
