//! The expression interpreter shared by the optimized executor and the reference evaluator.
//!
//! Every access is null-safe: a missing field, a wrong type or a dangling reference is
//! `null`, and `null` is false in a condition.

use super::builtins::{self, ImageRef, Version};
use super::value::{Scalar, Val, Values};
use crate::FastHash;
use crate::check::ir::{
    Access, Attr, Builtin, CmpOp, Const, Expr, KindSet, Program, Quant, Source,
};
use crate::diag::Span;
use crate::graph::{Graph, ObjId};
use crate::model::{DocId, Document, NodeId, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// Evaluation steps a context allows per rule per root object unless told otherwise.
pub(crate) const DEFAULT_MAX_STEPS: u64 = 1_000_000;

/// How sub-queries and relations are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Through the graph's precomputed relations and indexes.
    Indexed,
    /// By nested loops and direct selector matching: the reference oracle.
    Reference,
}

/// Pod-level security context fields that a container's security context overrides.
const POD_LEVEL_FIELDS: &[&str] = &[
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];

/// How many parsed image references an [`Env`] keeps.
const IMAGE_MEMO: usize = 32;

/// A kept answer of a quantifier's condition (see [`Env`]): whether it held, and the
/// objects its evaluation added to the evidence chain.
type KeptAnswer = (bool, Box<[ObjId]>);

/// The most variables of a condition whose answer is kept (its quantifier's and others).
const KEPT_VARS: usize = 3;

/// A condition's address and the objects its variables are bound to (unused places
/// `ObjId::MAX`).
type KeptKey = (usize, [ObjId; KEPT_VARS]);

/// The key of a shared condition's answer (see [`Env`]): the condition's id, and the value
/// of its one variable as a tag and two numbers (an object, a container of one, a document
/// node).
type SharedKey = (u32, u8, u32, u32);

/// A kept answer of a shared condition: whether it held, the steps its evaluation took, and
/// the objects it added to the evidence chain.
type SharedAnswer = (bool, u64, Box<[ObjId]>);

/// The tag of [`SharedKey`] for two objects (the values of a condition's two variables),
/// apart from every tag of [`identity`].
const PAIR: u8 = u8::MAX;

/// The key of a value that stands for itself (an object, a container of a workload, a
/// node of a document...): the tag and the two numbers of [`SharedKey`]; `None` for other
/// values, whose shared conditions are evaluated each time.
fn identity(v: &Val) -> Option<(u8, u32, u32)> {
    Some(match v {
        Val::Obj(o) => (0, *o, 0),
        Val::Container(o, i) => (1, *o, *i),
        Val::Node(d, n) => (2, *d, *n),
        Val::Effective(o, i) => (3, *o, *i),
        Val::Ref(o, i) => (4, *o, *i),
        Val::Exposure(o, i) => (5, *o, *i),
        _ => return None,
    })
}

/// Read-only evaluation context.
pub struct Ctx<'g> {
    /// The graph.
    pub graph: &'g Graph,
    /// Parameter values, by index.
    pub params: Vec<Val>,
    /// Table rows, by index.
    pub tables: Vec<Val>,
    /// How relations are answered.
    pub mode: Mode,
    /// Evaluation steps allowed per rule per root object.
    pub max_steps: u64,
    /// Whether findings carry their rule's fix (`eval::fixes`); a scan whose output shows
    /// no fix skips the work.
    pub fixes: bool,
    /// The source texts, for `raw(x)`.
    pub sources: Option<&'g crate::diag::SourceMap>,
    /// Workloads (and all objects) by namespace, built on first use: a sub-query over
    /// `workloads(ns)` or `objects(ns)` probes it instead of filtering every object.
    by_namespace: Arc<std::sync::OnceLock<NamespaceIndex>>,
    /// By rule id: whether the rule's findings can have the steps of a path as evidence
    /// (see [`super::emit`]).
    paths: Arc<HashMap<String, bool, FastHash>>,
    /// The facts of the program's relations (see [`super::fixpoint`]).
    pub relations: Arc<super::fixpoint::Relations>,
}

/// The texts of a rule that every finding of it carries (one shared copy per rule).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleText {
    /// Rule id.
    #[serde(rename = "rule_id")]
    pub id: Arc<str>,
    /// Rule name.
    #[serde(rename = "rule_name")]
    pub name: Arc<str>,
    /// Title.
    pub title: Arc<str>,
    /// How to fix.
    pub fix: Arc<str>,
    /// OWASP categories.
    pub owasp: Arc<[String]>,
    /// The texts of the message around its values.
    #[serde(skip)]
    pub message: Arc<super::finding::Template>,
}

impl RuleText {
    /// The texts of a compiled rule.
    pub fn of(r: &crate::check::ir::Rule) -> RuleText {
        RuleText {
            id: r.id.as_str().into(),
            name: r.name.as_str().into(),
            title: r.title.as_str().into(),
            fix: r.fix.as_str().into(),
            owasp: r.owasp.clone().into(),
            message: Arc::new(message_template(&r.message)),
        }
    }
}

/// The texts of a rule's message around its interpolated values (an empty text between
/// two values that touch).
fn message_template(parts: &[crate::check::ir::MessagePart]) -> super::finding::Template {
    use crate::check::ir::MessagePart;
    let mut texts = vec![String::new()];
    for part in parts {
        match part {
            MessagePart::Text(t) => {
                if let Some(last) = texts.last_mut() {
                    last.push_str(t);
                }
            }
            MessagePart::Expr(_) => texts.push(String::new()),
        }
    }
    super::finding::Template::new(texts)
}

/// Objects by namespace, for the scans that the graph does not index itself.
#[derive(Debug, Default)]
struct NamespaceIndex {
    workloads: HashMap<Box<str>, Vec<ObjId>, FastHash>,
    all: HashMap<Box<str>, Vec<ObjId>, FastHash>,
}

/// Per-row mutable state.
#[derive(Debug, Default)]
pub struct Env {
    /// Variable values by id.
    pub vars: Vec<Val>,
    /// Objects that satisfied existential sub-queries (the evidence chain).
    pub witnesses: Vec<ObjId>,
    /// Steps taken.
    pub steps: u64,
    /// Whether the step limit was hit.
    pub exhausted: bool,
    /// Steps allowed beyond `Ctx::max_steps` (the input-wide part of a rule without a root
    /// object, see `exec::run_root`).
    pub extra_steps: u64,
    /// Set for a rule without a root object until its first binding over several values:
    /// each row of that binding starts with a fresh step budget (see `exec::steps`).
    pub per_row: bool,
    /// The rows of that binding that hit the step limit (their object, when they have one).
    pub row_hits: Vec<Option<ObjId>>,
    /// The image references parsed, by their text: rules call `image(c.image)` several
    /// times per container, and again for every row of a table they join it with, and a
    /// cluster runs few distinct images. Searched in order (comparing texts is cheaper
    /// than hashing them); past [`IMAGE_MEMO`] images, each new one replaces an old one in
    /// turn.
    image_memo: Vec<(Box<str>, Arc<ImageRef>)>,
    /// The entry of `image_memo` the next new image replaces once it is full.
    image_next: usize,
    /// The buffer a finding's message values are written into, so that the values kept
    /// are one allocation of their exact size.
    pub(crate) message: super::finding::MessageValues,
    /// The fixes that could not be made, shared by the findings of a rule that give the
    /// same reason (most fixes of a cluster export: its items cannot be fixed in place), by
    /// the rule's address (see [`super::emit`]).
    pub(crate) unfixable: Vec<(usize, Arc<super::fixes::Autofix>)>,
    /// Answers of quantifier conditions whose variables are all bound to objects, by the
    /// condition's address and those objects: whether it held, and the objects its
    /// evaluation added to the evidence chain. `exists s in reaches(w) where
    /// reaches_node(s)` asks the same `s` for many `w`, and `all bb in b.bindings where
    /// can_copy_binding(a, bb)` the same `(a, bb)` for many `b`; the graph and the relations
    /// do not change while an environment lives, so the answer is kept.
    cond_memo: HashMap<KeptKey, KeptAnswer, FastHash>,
    /// The variables a quantifier's condition reads besides the quantifier's own, by the
    /// condition's address and that variable (filled as conditions are met); `None` when
    /// they are more than [`KEPT_VARS`] - 1. Both tables are keyed by address: an
    /// environment never outlives the expressions it evaluates (the fixpoint's per-case
    /// conditions are copies made for one call, and so is its environment).
    cond_vars: HashMap<(usize, usize), Option<Box<[usize]>>, FastHash>,
    /// The values of the rule's kept sub-expressions ([`Expr::Memo`]) for the current row,
    /// by slot (`None`: not evaluated since a variable it reads was last bound).
    pub(crate) memo: Vec<Option<Val>>,
    /// The answers of the conditions the rules of a scan group share ([`Expr::Shared`]), by
    /// condition and value, for the chunk of objects the environment runs the group over.
    shared: HashMap<SharedKey, SharedAnswer, FastHash>,
}

impl Env {
    /// An environment with `n` variables.
    pub fn new(n: usize) -> Env {
        Env {
            vars: vec![Val::Null; n],
            ..Env::default()
        }
    }

    /// Makes this environment what [`Env::default`] makes, keeping the room its lists and
    /// tables have grown: a task runs the chunks of many scan groups, each in an
    /// environment of its own, and a fresh one grew its tables of answers again (at 20k
    /// objects, 5,854 times).
    pub fn recycle(&mut self) {
        // every field named, so that a new one is not forgotten here
        let Env {
            vars,
            witnesses,
            steps,
            exhausted,
            extra_steps,
            per_row,
            row_hits,
            image_memo,
            image_next,
            message,
            unfixable,
            cond_memo,
            cond_vars,
            memo,
            shared,
        } = self;
        vars.clear();
        witnesses.clear();
        *steps = 0;
        *exhausted = false;
        *extra_steps = 0;
        *per_row = false;
        row_hits.clear();
        image_memo.clear();
        *image_next = 0;
        message.clear();
        unfixable.clear();
        cond_memo.clear();
        cond_vars.clear();
        memo.clear();
        shared.clear();
    }

    /// Makes this environment ready for a rule with `n` variables, keeping its buffers and
    /// its memo of parsed images.
    pub fn reset(&mut self, n: usize) {
        self.vars.clear();
        self.vars.resize(n, Val::Null);
    }

    /// Sets a variable.
    pub fn set(&mut self, var: usize, v: Val) {
        if let Some(slot) = self.vars.get_mut(var) {
            let old = std::mem::replace(slot, v);
            // most values a variable holds own nothing (an object, a container, a node):
            // no call to drop them
            if old.owns_nothing() {
                std::mem::forget(old);
            }
        }
    }
}

impl<'g> Ctx<'g> {
    /// A context for a program over a graph.
    pub fn new(graph: &'g Graph, program: &Program, mode: Mode) -> Ctx<'g> {
        Ctx {
            graph,
            params: program.params.iter().map(|p| Val::from(&p.value)).collect(),
            tables: program.tables.iter().map(|t| Val::from(&t.rows)).collect(),
            mode,
            max_steps: DEFAULT_MAX_STEPS,
            fixes: true,
            sources: None,
            by_namespace: Arc::default(),
            paths: Arc::new(
                program
                    .rules
                    .iter()
                    .map(|r| (r.id.clone(), super::emit::reads_paths(r)))
                    .collect(),
            ),
            relations: Arc::default(),
        }
    }

    /// A context like this one, without relations, that shares what it knows of its rules
    /// and its namespace index.
    pub(crate) fn sharing(&self) -> Ctx<'g> {
        Ctx {
            graph: self.graph,
            params: self.params.clone(),
            tables: self.tables.clone(),
            mode: self.mode,
            max_steps: self.max_steps,
            fixes: self.fixes,
            sources: self.sources,
            by_namespace: Arc::clone(&self.by_namespace),
            paths: Arc::clone(&self.paths),
            relations: Arc::default(),
        }
    }

    /// Computes the program's relations (in this context's mode) for the rules to read.
    pub fn with_relations(mut self, program: &Program) -> Ctx<'g> {
        if !program.relations.is_empty() {
            super::fixpoint::compute(&mut self, program);
        }
        self
    }

    /// Whether findings of rule `r` can have the steps of a path as evidence.
    pub(crate) fn reads_paths(&self, r: &crate::check::ir::Rule) -> bool {
        self.paths
            .get(&r.id)
            .copied()
            .unwrap_or_else(|| super::emit::reads_paths(r))
    }

    /// Gives the interpreter the source texts (for `raw(x)`).
    pub fn with_sources(mut self, sources: &'g crate::diag::SourceMap) -> Ctx<'g> {
        self.sources = Some(sources);
        self
    }

    pub(crate) fn doc(&self, d: DocId) -> Option<&'g Document> {
        self.graph.load.docs.get(d as usize)
    }

    /// Resolves a document node into a plain value where it is a scalar.
    pub fn scalar<'v>(&'v self, v: &'v Val) -> Scalar<'v> {
        match v {
            Val::Null => Scalar::Null,
            Val::Bool(b) => Scalar::Bool(*b),
            Val::Int(i) => Scalar::Num(*i as f64),
            Val::Float(f) => Scalar::Num(*f),
            Val::Str(s) => Scalar::Str(s),
            Val::Version(v) => Scalar::Version(*v),
            Val::Node(d, n) => match self.doc(*d).and_then(|doc| doc.value(*n)) {
                None | Some(Value::Null) => Scalar::Null,
                Some(Value::Bool(b)) => Scalar::Bool(b),
                Some(Value::Int(i)) => Scalar::Num(i as f64),
                Some(Value::Float(f)) => Scalar::Num(f),
                Some(Value::Str(s)) => Scalar::Str(s),
                Some(_) => Scalar::Other,
            },
            _ => Scalar::Other,
        }
    }

    /// Whether a value counts as true in a condition.
    pub fn truthy(&self, v: &Val) -> bool {
        matches!(self.scalar(v), Scalar::Bool(true))
    }

    /// Whether a value is null or missing.
    pub fn is_null(&self, v: &Val) -> bool {
        matches!(self.scalar(v), Scalar::Null)
    }

    /// The text of a scalar (numbers and booleans as written in YAML), if it is one.
    pub fn text(&self, v: &Val) -> Option<String> {
        self.text_cow(v).map(Cow::into_owned)
    }

    /// [`Ctx::text`], borrowed from the value or its document where it is a string there.
    pub fn text_cow<'v>(&'v self, v: &'v Val) -> Option<Cow<'v, str>> {
        Some(match self.scalar(v) {
            Scalar::Null => return None,
            Scalar::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Scalar::Num(n) => Cow::Owned(fmt_num(n)),
            Scalar::Str(s) => Cow::Borrowed(s),
            Scalar::Version(v) => Cow::Owned(format!("{}.{}.{}", v.major, v.minor, v.patch)),
            Scalar::Other => match v {
                Val::Obj(o) => Cow::Borrowed(&*self.graph.object(*o)?.name),
                Val::Image(i) => Cow::Owned(image_text(i)),
                _ => return None,
            },
        })
    }

    /// The value of `string(v)`: a string value shared, any other scalar's text.
    fn string_of(&self, v: &Val) -> Val {
        match v {
            Val::Str(s) => Val::Str(Arc::clone(s)),
            _ => self
                .text_cow(v)
                .map_or(Val::Null, |t| Val::Str(Arc::from(t))),
        }
    }

    /// [`Ctx::display`] appended to `out`: a string is copied once, into `out`.
    pub fn display_into(&self, v: &Val, out: &mut String) {
        match self.text_cow(v) {
            Some(t) => out.push_str(&t),
            None => out.push_str(&self.display_other(v)),
        }
    }

    /// The value rendered for a message.
    pub fn display(&self, v: &Val) -> String {
        match self.text(v) {
            Some(t) => t,
            None => self.display_other(v),
        }
    }

    /// [`Ctx::display`] of a value that is not a scalar with a text.
    fn display_other(&self, v: &Val) -> String {
        match v {
            Val::Null => "null".to_string(),
            Val::Container(o, i) => self
                .container_node(*o, *i)
                .and_then(|(d, n)| {
                    self.doc(d)
                        .and_then(|doc| doc.str_at(n, &["name"]))
                        .map(str::to_string)
                })
                .unwrap_or_default(),
            Val::List(_) | Val::ConstList(_) => {
                let parts: Vec<String> = self.elements(v).iter().map(|i| self.display(i)).collect();
                format!("[{}]", parts.join(", "))
            }
            Val::Node(d, n) => {
                let Some(doc) = self.doc(*d) else {
                    return String::new();
                };
                match doc.value(*n) {
                    Some(Value::Seq(items)) => {
                        let parts: Vec<String> = items
                            .iter()
                            .map(|i| self.display(&Val::Node(*d, *i)))
                            .collect();
                        format!("[{}]", parts.join(", "))
                    }
                    Some(Value::Map(_)) => "{...}".to_string(),
                    _ => String::new(),
                }
            }
            _ => String::new(),
        }
    }

    pub(crate) fn container_node(&self, o: ObjId, idx: u32) -> Option<(DocId, NodeId)> {
        self.container(o, idx).map(|(d, c)| (d, c.node))
    }

    /// Container `idx` of object `o`, with the object's document.
    fn container(&self, o: ObjId, idx: u32) -> Option<(DocId, &'g crate::graph::Container)> {
        let obj = self.graph.object(o)?;
        let c = obj.workload.as_ref()?.containers.get(idx as usize)?;
        Some((obj.r.doc, c))
    }

    /// Field `name` of container `idx` of object `o`: kept with the container when it is a
    /// frequent one, else looked up.
    fn container_field(&self, o: ObjId, idx: u32, name: &str) -> Val {
        let Some((d, c)) = self.container(o, idx) else {
            return Val::Null;
        };
        let id = match c.field(name) {
            Some(kept) => kept,
            None => self.doc(d).and_then(|doc| doc.get(c.node, name)),
        };
        id.map_or(Val::Null, |n| Val::Node(d, n))
    }

    pub(crate) fn obj_root(&self, o: ObjId) -> Option<(DocId, NodeId)> {
        self.graph.object(o).map(|x| (x.r.doc, x.r.node))
    }

    /// `base.name`, null-safe.
    pub fn field(&self, base: &Val, name: &str) -> Val {
        let node_get = |d: DocId, n: NodeId| {
            self.doc(d)
                .and_then(|doc| doc.get(n, name))
                .map_or(Val::Null, |c| Val::Node(d, c))
        };
        match base {
            Val::Node(d, n) => node_get(*d, *n),
            Val::Obj(o) => self.obj_root(*o).map_or(Val::Null, |(d, n)| node_get(d, n)),
            Val::Container(o, i) => self.container_field(*o, *i, name),
            Val::Map(m) => m
                .iter()
                .find(|(k, _)| &**k == name)
                .map_or(Val::Null, |(_, v)| Val::from(v)),
            Val::Image(i) => match name {
                // the parsed reference's shared strings, not copies
                "registry" => Val::Str(Arc::clone(&i.registry)),
                "repository" => Val::Str(Arc::clone(&i.repository)),
                "tag" => i.tag.clone().map_or(Val::Null, Val::Str),
                "digest" => i.digest.clone().map_or(Val::Null, Val::Str),
                "malformedDigest" => i.malformed_digest.clone().map_or(Val::Null, Val::Str),
                "name" => Val::Str(Arc::clone(&i.name)),
                _ => Val::Null,
            },
            Val::Ref(o, i) => {
                let Some(r) = self.graph.references(*o).get(*i as usize) else {
                    return Val::Null;
                };
                match name {
                    "kind" => Val::Str(Arc::from(r.kind.kind().unwrap_or("Workload"))),
                    "name" => Val::Str(r.name.clone()),
                    "namespace" => {
                        // the object's own namespace shared, not copied
                        let own = self.graph.object(*o).and_then(|x| x.namespace.as_ref());
                        match (self.graph.reference_namespace(*o, r), own) {
                            (Some(ns), Some(own)) if **own == *ns => Val::Str(Arc::clone(own)),
                            (Some(ns), _) => Val::Str(Arc::from(ns)),
                            (None, _) => Val::Null,
                        }
                    }
                    "via" => Val::Str(Arc::from(r.via.as_str())),
                    "target" => r.target().map_or(Val::Null, Val::Obj),
                    "missing" => Val::Bool(r.target().is_none() && !r.optional),
                    _ => Val::Null,
                }
            }
            Val::Exposure(o, i) => {
                let Some(e) = self.graph.exposures(*o).get(*i as usize) else {
                    return Val::Null;
                };
                match name {
                    "via" => Val::Str(Arc::from(e.via)),
                    "service" => Val::Obj(e.service),
                    "route" => e.route.map_or(Val::Null, Val::Obj),
                    "gateway" => e.gateway.map_or(Val::Null, Val::Obj),
                    "path" => Val::Str(e.path.clone()),
                    _ => Val::Null,
                }
            }
            Val::Effective(o, i) => {
                let own = self.field(&self.container_field(*o, *i, "securityContext"), name);
                if !self.is_null(&own) || !POD_LEVEL_FIELDS.contains(&name) {
                    return own;
                }
                let pod = self
                    .graph
                    .object(*o)
                    .and_then(|x| Some((x.r.doc, x.workload.as_ref()?.pod_spec()?)));
                pod.map_or(Val::Null, |(d, n)| {
                    self.field(&self.field(&Val::Node(d, n), "securityContext"), name)
                })
            }
            _ => Val::Null,
        }
    }

    /// `base[idx]`, null-safe.
    pub fn index(&self, base: &Val, idx: &Val) -> Val {
        match (base, self.scalar(idx)) {
            (Val::ConstList(items), Scalar::Num(n)) => {
                items.get(n as usize).map_or(Val::Null, Val::from)
            }
            (Val::List(items), Scalar::Num(n)) => {
                items.get(n as usize).cloned().unwrap_or(Val::Null)
            }
            (Val::Node(d, n), Scalar::Num(i)) if i >= 0.0 => self
                .doc(*d)
                .and_then(|doc| doc.seq(*n).get(i as usize).copied())
                .map_or(Val::Null, |c| Val::Node(*d, c)),
            (_, Scalar::Str(k)) => self.field(base, k),
            _ => Val::Null,
        }
    }

    /// The elements a source or list value ranges over.
    pub fn elements(&self, v: &Val) -> Vec<Val> {
        match v {
            Val::List(items) => items.to_vec(),
            Val::ConstList(items) => items.iter().map(Val::from).collect(),
            Val::Node(d, n) => self
                .doc(*d)
                .map(|doc| doc.seq(*n).iter().map(|c| Val::Node(*d, *c)).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The values a binding or quantifier ranges over: the objects of a scan (in the
    /// namespace its expression names; none when that is not a string), or the elements of
    /// a list-valued expression.
    pub fn source_values(&self, source: &Source, env: &mut Env) -> Vec<Val> {
        self.source_iter(source, env).collect()
    }

    /// [`Ctx::source_values`], one at a time (the same steps counted).
    pub fn source_iter(&self, source: &Source, env: &mut Env) -> Values<'g> {
        match source {
            Source::Scan { kinds, namespace } => {
                let ns = match namespace {
                    Some(n) => {
                        let v = self.eval(n, env);
                        match self.text(&v) {
                            Some(t) => Some(t),
                            None => return Values::default(),
                        }
                    }
                    None => None,
                };
                Values::Objs(self.scan(kinds, ns.as_deref()).into_iter())
            }
            // `for c in w.containers`: the containers listed straight away (the steps of
            // evaluating `w.containers` counted)
            Source::Expr(e) if matches!(&**e, Expr::Attr(_, Attr::Containers)) => {
                let Expr::Attr(b, _) = &**e else {
                    return Values::default();
                };
                if !self.take_step(env) {
                    return Values::default();
                }
                self.with_value(b, env, |base| match base {
                    Val::Obj(o) => Values::Containers(*o, 0..self.container_count(*o)),
                    _ => Values::default(),
                })
            }
            Source::Expr(e) => match self.eval(e, env) {
                // a list made for this binding (`w.containers`) is taken over, not copied
                Val::List(items) => Arc::try_unwrap(items).unwrap_or_else(|a| a.to_vec()).into(),
                // a document's sequence is read where it is
                Val::Node(d, n) => match self.doc(d) {
                    Some(doc) => Values::Items(d, doc.seq(n).iter()),
                    None => Values::default(),
                },
                v => self.elements(&v).into(),
            },
        }
    }

    /// Objects of a kind set, optionally restricted to a namespace.
    pub fn scan(&self, kinds: &KindSet, namespace: Option<&str>) -> Vec<ObjId> {
        let g = self.graph;
        let in_ns = |id: &ObjId| match namespace {
            None => true,
            Some(ns) => g.object(*id).and_then(|o| o.namespace.as_deref()) == Some(ns),
        };
        if let (Some(ns), Mode::Indexed, KindSet::All | KindSet::Workloads) =
            (namespace, self.mode, kinds)
        {
            let index = self.by_namespace.get_or_init(|| {
                let mut ix = NamespaceIndex::default();
                for id in g.ids() {
                    if let Some(ns) = g.object(id).and_then(|o| o.namespace.as_deref()) {
                        ix.all.entry(ns.into()).or_default().push(id);
                    }
                }
                for &id in g.workloads() {
                    if let Some(ns) = g.object(id).and_then(|o| o.namespace.as_deref()) {
                        ix.workloads.entry(ns.into()).or_default().push(id);
                    }
                }
                ix
            });
            let map = if *kinds == KindSet::All {
                &index.all
            } else {
                &index.workloads
            };
            return map.get(ns).cloned().unwrap_or_default();
        }
        match kinds {
            KindSet::All => g.ids().filter(in_ns).collect(),
            KindSet::Workloads => g.workloads().iter().copied().filter(in_ns).collect(),
            KindSet::Kinds(ks) | KindSet::PodsAnd(ks) => {
                let mut out: Vec<ObjId> = Vec::new();
                for k in ks {
                    match (namespace, self.mode) {
                        (Some(ns), Mode::Indexed) => out.extend_from_slice(g.in_namespace(k, ns)),
                        _ => out.extend(g.by_kind(k).iter().copied().filter(in_ns)),
                    }
                }
                let pods = matches!(kinds, KindSet::PodsAnd(_));
                if pods {
                    out.extend(g.all_workloads().iter().copied().filter(in_ns));
                }
                // in input order, each object once (a kind of the set may run pods)
                if ks.len() > 1 || (pods && !ks.is_empty()) {
                    out.sort_unstable();
                    out.dedup();
                }
                out
            }
        }
    }

    /// How many containers a workload has (none for other objects).
    fn container_count(&self, obj: ObjId) -> u32 {
        self.graph
            .object(obj)
            .and_then(|o| o.workload.as_ref())
            .map_or(0, |w| w.containers.len() as u32)
    }

    /// The containers of a workload (none for other objects).
    fn containers(&self, obj: ObjId) -> Vec<Val> {
        Values::Containers(obj, 0..self.container_count(obj)).collect()
    }

    fn attr(&self, base: &Val, a: Attr) -> Val {
        let g = self.graph;
        let str_val = |s: &str| Val::Str(Arc::from(s));
        let obj = match base {
            Val::Obj(o) => *o,
            Val::Container(_, _) if a == Attr::ContainerType => {
                return self.attr_text(Some(base), a).map_or(Val::Null, str_val);
            }
            _ => return Val::Null,
        };
        let Some(o) = g.object(obj) else {
            return Val::Null;
        };
        let meta = |k: &str| self.field(&self.field(base, "metadata"), k);
        let objs = |ids: &[ObjId]| Val::List(Arc::new(ids.iter().map(|i| Val::Obj(*i)).collect()));
        match a {
            // the graph's shared strings, not copies
            Attr::Name => Val::Str(o.name.clone()),
            Attr::Namespace => o.namespace.clone().map_or(Val::Null, Val::Str),
            Attr::Kind => Val::Str(o.kind.clone()),
            Attr::Labels => meta("labels"),
            Attr::Annotations => meta("annotations"),
            Attr::Owners => objs(g.owners(obj)),
            Attr::Containers => Val::List(Arc::new(self.containers(obj))),
            Attr::PodSpec => o
                .workload
                .as_ref()
                .and_then(|w| w.pod_spec())
                .map_or(Val::Null, |n| Val::Node(o.r.doc, n)),
            Attr::PodLabels => o
                .workload
                .as_ref()
                .and_then(|w| w.pod_labels())
                .map_or(Val::Null, |n| Val::Node(o.r.doc, n)),
            Attr::ServiceAccount => g
                .service_account(obj)
                .and_then(|s| s.target)
                .map_or(Val::Null, Val::Obj),
            Attr::ServiceAccountName => g
                .service_account(obj)
                .map_or(Val::Null, |s| str_val(&s.name)),
            Attr::AutomountsToken => Val::Bool(o.workload.is_some() && g.automounts_token(obj)),
            Attr::Bindings => {
                if &*o.kind == "ServiceAccount" {
                    let ns = o.namespace.as_deref().unwrap_or("");
                    objs(&g.bindings_for_service_account(ns, &o.name))
                } else {
                    match g.service_account(obj) {
                        Some(s) => objs(&g.bindings_for_service_account(&s.namespace, &s.name)),
                        None => Val::List(Arc::new(Vec::new())),
                    }
                }
            }
            Attr::ServiceAccounts => objs(&g.service_accounts_of_binding(obj)),
            Attr::Role => g
                .binding_role(obj)
                .and_then(|r| r.target)
                .map_or(Val::Null, Val::Obj),
            Attr::Rules => Val::List(Arc::new(
                g.effective_rules(obj)
                    .into_iter()
                    .filter_map(|(owner, node)| g.object(owner).map(|x| Val::Node(x.r.doc, node)))
                    .collect(),
            )),
            Attr::References => Val::List(Arc::new(
                (0..g.references(obj).len() as u32)
                    .map(|i| Val::Ref(obj, i))
                    .collect(),
            )),
            Attr::Services => {
                let ids: Vec<ObjId> = if o.workload.is_some() {
                    g.selected_by(obj, "Service").collect()
                } else {
                    g.references(obj)
                        .iter()
                        .filter(|r| r.kind == crate::graph::references::RefKind::Service)
                        .filter_map(|r| r.target())
                        .collect()
                };
                objs(&ids)
            }
            Attr::Target => g
                .references(obj)
                .iter()
                .find(|r| r.via == crate::graph::references::Via::ScaleTargetRef)
                .and_then(|r| r.target())
                .map_or(Val::Null, Val::Obj),
            Attr::IsolatesIngress => Val::Bool(g.policy(obj).is_some_and(|p| p.isolates().0)),
            Attr::IsolatesEgress => Val::Bool(g.policy(obj).is_some_and(|p| p.isolates().1)),
            Attr::IngressPolicies | Attr::EgressPolicies if self.mode == Mode::Reference => {
                // every object tried as a policy, read afresh (no precomputed edge)
                let ingress = a == Attr::IngressPolicies;
                let ids: Vec<ObjId> = g
                    .ids()
                    .filter(|&p| {
                        crate::graph::netpol::Policy::read(g, p)
                            .and_then(|pol| pol.applies_to(g, obj))
                            .is_some_and(|(i, e)| if ingress { i.isolates } else { e.isolates })
                    })
                    .collect();
                objs(&ids)
            }
            Attr::IngressPolicies => objs(g.ingress_policies(obj)),
            Attr::EgressPolicies => objs(g.egress_policies(obj)),
            Attr::Exposures => Val::List(Arc::new(
                (0..g.exposures(obj).len() as u32)
                    .map(|i| Val::Exposure(obj, i))
                    .collect(),
            )),
            Attr::Live => Val::Bool(g.is_live(obj)),
            Attr::DefaultDenyIngress => objs(&g.default_deny_policies(&o.name).0),
            Attr::DefaultDenyEgress => objs(&g.default_deny_policies(&o.name).1),
            Attr::NamespaceObject => o
                .namespace
                .as_deref()
                .and_then(|ns| g.namespace_object(ns))
                .map_or(Val::Null, Val::Obj),
            Attr::ContainerType => Val::Null,
        }
    }

    fn selects(&self, a: &Val, b: &Val) -> bool {
        let (Val::Obj(s), Val::Obj(t)) = (a, b) else {
            return false;
        };
        match self.mode {
            Mode::Indexed => self.graph.selects(*s, *t),
            Mode::Reference => {
                // straight from the definitions: same namespace, selector matches pod labels
                let g = self.graph;
                let (Some(so), Some(to)) = (g.object(*s), g.object(*t)) else {
                    return false;
                };
                // a Cilium or Calico policy: its own selectors, tried on this workload
                if let Some(p) = crate::graph::netpol::PolicyKind::of(so)
                    .filter(|k| *k != crate::graph::netpol::PolicyKind::Kubernetes)
                    .and_then(|_| crate::graph::netpol::Policy::read(g, *s))
                {
                    return p.applies_to(g, *t).is_some();
                }
                let Some(w) = to.workload.as_ref() else {
                    return false;
                };
                so.namespace.is_some()
                    && so.namespace == to.namespace
                    && g.selector_of(*s).is_some_and(|sel| sel.matches(&w.labels))
            }
        }
    }

    /// Applies `f` to the value of `e`. A variable is read in place, not copied; its step
    /// is counted as [`Ctx::eval`] counts it.
    fn with_value<R>(&self, e: &Expr, env: &mut Env, f: impl FnOnce(&Val) -> R) -> R {
        static NULL: Val = Val::Null;
        if let Expr::Var(v) = e {
            if !self.take_step(env) {
                return f(&NULL);
            }
            return f(env.vars.get(*v).unwrap_or(&NULL));
        }
        let v = self.eval(e, env);
        f(&v)
    }

    /// Counts one evaluation step; false (and the environment marked exhausted) past the
    /// step limit.
    #[inline]
    fn take_step(&self, env: &mut Env) -> bool {
        env.steps += 1;
        if env.steps > self.max_steps.saturating_add(env.extra_steps) {
            env.exhausted = true;
            return false;
        }
        true
    }

    /// Whether `steps` more steps stay within the step limit.
    #[inline]
    fn within_limit(&self, env: &Env, steps: u64) -> bool {
        env.steps.saturating_add(steps) <= self.max_steps.saturating_add(env.extra_steps)
    }

    /// Whether a condition holds: [`Ctx::truthy`] of [`Ctx::eval`], with the same steps
    /// counted, but `and`, `or`, `not` and comparisons answered without making values.
    pub fn test(&self, e: &Expr, env: &mut Env) -> bool {
        match e {
            Expr::Not(x) => self.take_step(env) && self.not(x, env),
            Expr::And(a, b) => self.take_step(env) && self.and(a, b, env),
            Expr::Or(a, b) => self.take_step(env) && self.or(a, b, env),
            Expr::Cmp(op, a, b) => self.take_step(env) && self.cmp(*op, a, b, env),
            Expr::Shared {
                id,
                var,
                with,
                expr,
            } => self.shared(*id, *var, *with, expr, env),
            _ => {
                let v = self.eval(e, env);
                self.truthy(&v)
            }
        }
    }

    /// [`Ctx::test`] of a condition the rules of a scan group share: the answer kept for the
    /// value of its variable when it was asked before (by this rule or another), with the steps and the
    /// evidence its evaluation took; else evaluated and kept. An answer cut short by the
    /// step limit is not kept, and one whose steps would pass the limit is evaluated again
    /// (to stop where the limit stops it).
    fn shared(&self, id: u32, var: usize, with: Option<usize>, x: &Expr, env: &mut Env) -> bool {
        let value = match with {
            None => env.vars.get(var).and_then(identity),
            // a condition on two variables: kept by the two objects they hold
            Some(other) => match (env.vars.get(other), env.vars.get(var)) {
                (Some(Val::Obj(a)), Some(Val::Obj(b))) => Some((PAIR, *a, *b)),
                _ => None,
            },
        };
        let Some((tag, a, b)) = value else {
            return self.test(x, env);
        };
        let key = (id, tag, a, b);
        if let Some((ok, steps, added)) = env.shared.get(&key) {
            if self.within_limit(env, *steps) {
                env.steps += *steps;
                env.witnesses.extend_from_slice(added);
                return *ok;
            }
        }
        let (before, mark) = (env.steps, env.witnesses.len());
        let ok = self.test(x, env);
        if !env.exhausted {
            let added: Box<[ObjId]> = env.witnesses.get(mark..).unwrap_or(&[]).into();
            env.shared.insert(key, (ok, env.steps - before, added));
        }
        ok
    }

    fn not(&self, x: &Expr, env: &mut Env) -> bool {
        // a witness that made the inner expression false (the match found by `none`, the
        // counterexample found by `all`) is why `not` holds: keep it
        !self.test(x, env)
    }

    fn and(&self, a: &Expr, b: &Expr, env: &mut Env) -> bool {
        let mark = env.witnesses.len();
        let ok = self.test(a, env) && self.test(b, env);
        if !ok {
            env.witnesses.truncate(mark);
        }
        ok
    }

    fn or(&self, a: &Expr, b: &Expr, env: &mut Env) -> bool {
        let mark = env.witnesses.len();
        if self.test(a, env) {
            return true;
        }
        env.witnesses.truncate(mark);
        let ok = self.test(b, env);
        if !ok {
            env.witnesses.truncate(mark);
        }
        ok
    }

    fn cmp(&self, op: CmpOp, a: &Expr, b: &Expr, env: &mut Env) -> bool {
        if let Some(r) = self.identity_cmp(op, a, b, env) {
            return r;
        }
        let a = self.eval(a, env);
        // a constant list on the right (`c.imagePullPolicy in ["Always", "IfNotPresent"]`)
        // is read where it is: no shared list is counted in and out for each row
        if let (Expr::Const(Const::List(items)), CmpOp::In | CmpOp::NotIn) = (b, op) {
            if !self.take_step(env) {
                return self.compare(op, &a, &Val::Null);
            }
            return self.contains_const(items, &a) == (op == CmpOp::In);
        }
        // a scalar constant on the right (`c.imagePullPolicy != "Always"`) is compared where
        // it is, without a value made of it (the step is counted)
        if let (Expr::Const(c), false) = (b, matches!(op, CmpOp::In | CmpOp::NotIn)) {
            if !self.take_step(env) {
                return self.compare(op, &a, &Val::Null);
            }
            if let Some(r) = const_scalar(c).and_then(|sb| self.compare_scalar(op, &a, sb)) {
                return r;
            }
            return self.compare(op, &a, &Val::from(c));
        }
        // a list written in the rule (`x in [c.name, w.name]`): its items evaluated and
        // compared one by one, with the steps of the list's evaluation, and no list made
        if let (Expr::List(items), CmpOp::In | CmpOp::NotIn) = (b, op) {
            if !self.take_step(env) {
                return self.compare(op, &a, &Val::Null);
            }
            let mut found = false;
            for item in items.iter() {
                let v = self.eval(item, env);
                found = found || self.equal(&v, &a);
            }
            return found == (op == CmpOp::In);
        }
        let b = self.eval(b, env);
        self.compare(op, &a, &b)
    }

    /// `o.kind`, `o.name` or `o.namespace` of a variable compared with a scalar constant
    /// (`o.kind == "Namespace"`), read in the graph object where it is: no shared string
    /// counted in and out. The three steps that evaluating the two sides takes are counted;
    /// `None` (evaluate them) for any other comparison, or when those steps would reach
    /// the limit.
    #[inline]
    fn identity_cmp(&self, op: CmpOp, a: &Expr, b: &Expr, env: &mut Env) -> Option<bool> {
        let (Expr::Attr(base, at), Expr::Const(c)) = (a, b) else {
            return None;
        };
        let (Expr::Var(v), Attr::Kind | Attr::Name | Attr::Namespace) = (&**base, at) else {
            return None;
        };
        if matches!(op, CmpOp::In | CmpOp::NotIn) || !self.within_limit(env, 3) {
            return None;
        }
        let sb = const_scalar(c)?;
        let text = self.attr_text(env.vars.get(*v), *at);
        let holds = compare_scalars(op, text.map_or(Scalar::Null, Scalar::Str), sb)?;
        env.steps += 3;
        Some(holds)
    }

    /// `o.kind`, `o.name` or `o.namespace` of a graph object, or `c.containerType` of a
    /// container, as [`Ctx::attr`] reads them from the value of a variable, where they are
    /// (`None` for null).
    fn attr_text(&self, base: Option<&Val>, at: Attr) -> Option<&'g str> {
        let g = self.graph;
        match (base?, at) {
            (Val::Obj(o), Attr::Kind) => Some(&*g.object(*o)?.kind),
            (Val::Obj(o), Attr::Name) => Some(&*g.object(*o)?.name),
            (Val::Obj(o), Attr::Namespace) => g.object(*o)?.namespace.as_deref(),
            (Val::Container(o, i), Attr::ContainerType) => {
                let c = g
                    .object(*o)?
                    .workload
                    .as_ref()?
                    .containers
                    .get(*i as usize)?;
                Some(match c.kind {
                    crate::graph::workload::ContainerKind::Init => "init",
                    crate::graph::workload::ContainerKind::Regular => "regular",
                    crate::graph::workload::ContainerKind::Ephemeral => "ephemeral",
                })
            }
            _ => None,
        }
    }

    /// The text a message shows for `v.kind`, `v.name`, `v.namespace` or
    /// `c.containerType` of a variable, read where it is (no shared string counted in and
    /// out, no string made), with the two steps evaluating it takes counted; `None`
    /// (evaluate it) for any other expression, a null value, or when the steps would reach
    /// the limit.
    fn message_text(&self, e: &Expr, env: &mut Env) -> Option<&'g str> {
        let Expr::Attr(base, at) = e else {
            return None;
        };
        let (Expr::Var(v), Attr::Kind | Attr::Name | Attr::Namespace | Attr::ContainerType) =
            (&**base, at)
        else {
            return None;
        };
        if !self.within_limit(env, 2) {
            return None;
        }
        let text = self.attr_text(env.vars.get(*v), *at)?;
        env.steps += 2;
        Some(text)
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr, env: &mut Env) -> Val {
        if !self.take_step(env) {
            return Val::Null;
        }
        match e {
            Expr::Const(c) => Val::from(c),
            Expr::Var(v) => env.vars.get(*v).cloned().unwrap_or(Val::Null),
            Expr::Param(i) => self.params.get(*i).cloned().unwrap_or(Val::Null),
            Expr::Table(i) => self.tables.get(*i).cloned().unwrap_or(Val::Null),
            Expr::Field(b, name) => {
                if matches!(&**b, Expr::Field(..)) {
                    return self.field_chain(b, name, env);
                }
                self.with_value(b, env, |b| self.field(b, name))
            }
            Expr::Index(b, i) => {
                if let Expr::List(items) = &**b {
                    if let Some(v) = self.pick(items, i, env) {
                        return v;
                    }
                }
                let b = self.eval(b, env);
                let i = self.eval(i, env);
                self.index(&b, &i)
            }
            Expr::Attr(b, a) => {
                let (v, base) = self.with_value(b, env, |base| {
                    let obj = match base {
                        Val::Obj(o) => Some(*o),
                        _ => None,
                    };
                    (self.attr(base, *a), obj)
                });
                // objects reached through an identity relation are part of the evidence
                // chain (workload → service account → binding → role); `and`, `or` and the
                // quantifiers drop them again when the branch that read them fails
                if let (Attr::ServiceAccount | Attr::Role | Attr::Target, Val::Obj(o)) = (a, &v) {
                    env.witnesses.push(*o);
                }
                if let (Attr::Bindings, Some(w)) = (a, base) {
                    if let Some(sa) = self.graph.service_account(w).and_then(|s| s.target) {
                        env.witnesses.push(sa);
                    }
                }
                v
            }
            Expr::Call(f, args) => match args.as_slice() {
                // the usual one or two arguments stay on the stack
                [] => self.call(*f, &[], env),
                [a] => {
                    let a = self.eval(a, env);
                    self.call(*f, std::slice::from_ref(&a), env)
                }
                [a, b] => {
                    let a = self.eval(a, env);
                    let b = self.eval(b, env);
                    self.call(*f, &[a, b], env)
                }
                _ => {
                    let vals: Vec<Val> = args.iter().map(|a| self.eval(a, env)).collect();
                    self.call(*f, &vals, env)
                }
            },
            Expr::Not(x) => Val::Bool(self.not(x, env)),
            Expr::And(a, b) => Val::Bool(self.and(a, b, env)),
            Expr::Or(a, b) => Val::Bool(self.or(a, b, env)),
            Expr::Cmp(op, a, b) => Val::Bool(self.cmp(*op, a, b, env)),
            Expr::Coalesce(a, b) => {
                let a = self.eval(a, env);
                if self.is_null(&a) {
                    self.eval(b, env)
                } else {
                    a
                }
            }
            Expr::Matches(a, re) => {
                let a = self.eval(a, env);
                Val::Bool(match self.scalar(&a) {
                    Scalar::Str(s) => re.0.is_match(s),
                    _ => false,
                })
            }
            Expr::Selects(a, b) => {
                let a = self.eval(a, env);
                let b = self.eval(b, env);
                Val::Bool(self.selects(&a, &b))
            }
            Expr::List(items) => {
                Val::List(Arc::new(items.iter().map(|i| self.eval(i, env)).collect()))
            }
            Expr::Relation { rel, args, .. } => self.relation(*rel, args, env),
            Expr::Memo(slot, x) => self.memo(*slot, x, env),
            // the executor tests shared conditions (`Ctx::test`); a value of one is its own
            Expr::Shared { expr, .. } => self.eval(expr, env),
            Expr::Quant {
                quant,
                var,
                source,
                cond,
            } => self.quant(*quant, *var, source, cond.as_deref(), env),
            Expr::Probe {
                quant,
                var,
                access,
                cond,
            } => self.probe(*quant, *var, access, cond.as_deref(), env),
        }
    }

    /// `b.last` where `b` is itself a field (`w.podSpec.securityContext.runAsNonRoot`): the
    /// fields read one after the other from the chain's base, without an evaluation of each
    /// intermediate field. Each field of `b` takes its step before its base is evaluated, as
    /// [`Ctx::eval`] takes them; when those steps would reach the step limit, the chain is
    /// evaluated field by field, so that the value, the steps and the limit are the same.
    fn field_chain(&self, b: &Expr, last: &str, env: &mut Env) -> Val {
        // the names of `b`'s fields, the outermost first (a longer chain keeps the rest of
        // itself as its base)
        let mut names: [&str; 8] = [""; 8];
        let mut n = 0;
        let mut base = b;
        while let (Expr::Field(inner, name), Some(slot)) = (base, names.get_mut(n)) {
            *slot = name;
            n += 1;
            base = inner;
        }
        let walked = names.get(..n).unwrap_or_default();
        let (Some((&first, rest)), true) = (walked.split_last(), self.within_limit(env, n as u64))
        else {
            return self.with_value(b, env, |v| self.field(v, last));
        };
        env.steps += n as u64;
        let mut v = self.with_value(base, env, |v| self.field(v, first));
        for name in rest.iter().rev() {
            v = self.field(&v, name);
        }
        self.field(&v, last)
    }

    /// `[a, b, c][i]` with only the item that `i` selects evaluated, when every item and `i` take
    /// a fixed number of steps (constants, variables and fields of them) and all of them
    /// fit in the step limit: the others' steps are counted without evaluating them, so
    /// the value, the steps and the limit are those of making the list. `None` otherwise
    /// (the list is made).
    fn pick(&self, items: &[Expr], i: &Expr, env: &mut Env) -> Option<Val> {
        let own = fixed_steps(i)?;
        let all = items.iter().map(fixed_steps).sum::<Option<u64>>()?;
        // the list's own step, its items', and the index's
        let total = 1 + all + own;
        if !self.within_limit(env, total) {
            return None;
        }
        let idx = self.eval(i, env);
        // as `Ctx::index` reads a list: a number (cast as it casts it), nothing else
        let item = match self.scalar(&idx) {
            Scalar::Num(n) => items.get(n as usize),
            _ => None,
        };
        let picked = item.and_then(fixed_steps).unwrap_or(0);
        env.steps += total - own - picked;
        Some(item.map_or(Val::Null, |e| self.eval(e, env)))
    }

    /// The value of kept sub-expression `slot` (`x`): from the memo when it is there, else
    /// evaluated and kept. A value cut short by the step limit is not kept.
    fn memo(&self, slot: usize, x: &Expr, env: &mut Env) -> Val {
        if let Some(Some(v)) = env.memo.get(slot) {
            return v.clone();
        }
        let v = self.eval(x, env);
        if !env.exhausted {
            if let Some(s) = env.memo.get_mut(slot) {
                *s = Some(v.clone());
            }
        }
        v
    }

    /// The values a message interpolates, for a [`super::finding::Message`] (its texts
    /// are the rule's template). The values of `own`'s parts, the kind and name of the
    /// finding's own object, are left out (empty) when all of them can be, with the steps
    /// writing them takes counted: the finding puts them back when it is made. Whether
    /// they were left out.
    pub(crate) fn write_message_values(
        &self,
        parts: &[crate::check::ir::MessagePart],
        env: &mut Env,
        out: &mut super::finding::MessageValues,
        own: super::emit::Own,
    ) -> bool {
        use crate::check::ir::MessagePart;
        out.clear();
        // (the object is in the graph: `emit::record` records no other)
        let is_own =
            |env: &Env| matches!(env.vars.get(own.var), Some(Val::Obj(o)) if *o == own.object);
        // the parts left out, by their place among the values
        let mut left = 0u32;
        let exprs = parts.iter().filter_map(|p| match p {
            MessagePart::Expr(e) => Some(e),
            MessagePart::Text(_) => None,
        });
        for (k, e) in exprs.enumerate() {
            let bit = u32::try_from(k).ok().and_then(|k| 1u32.checked_shl(k));
            // as `message_text` counts them
            if let Some(bit) = bit.filter(|b| own.parts & b != 0) {
                if self.within_limit(env, 2) && is_own(env) {
                    env.steps += 2;
                    out.push_with(|_| {});
                    left |= bit;
                    continue;
                }
            }
            if let Some(t) = self.message_text(e, env) {
                out.push_with(|text| text.push_str(t));
                continue;
            }
            let v = self.eval(e, env);
            out.push_with(|text| self.display_into(&v, text));
        }
        if left != 0 && left != own.parts {
            // some but not all (the step limit reached in between): the values written
            // in full
            if let Some(o) = self.graph.object(own.object) {
                out.put_back(left, |k| super::emit::escaped_text(own.text(o, k)));
            }
            return false;
        }
        left != 0
    }

    /// Appends a message's text to `out`: its literal parts, and the display of each
    /// expression's value.
    pub(crate) fn write_message(
        &self,
        parts: &[crate::check::ir::MessagePart],
        env: &mut Env,
        out: &mut String,
    ) {
        use crate::check::ir::MessagePart;
        for part in parts {
            match part {
                MessagePart::Text(t) => out.push_str(t),
                MessagePart::Expr(e) => {
                    let v = self.eval(e, env);
                    self.display_into(&v, out);
                }
            }
        }
    }

    /// A quantifier over a source (kept out of [`Ctx::eval`], as [`Ctx::relation`] is).
    #[inline(never)]
    fn quant(
        &self,
        quant: Quant,
        var: usize,
        source: &Source,
        cond: Option<&Expr>,
        env: &mut Env,
    ) -> Val {
        let candidates = self.source_iter(source, env);
        self.quantify(quant, var, candidates, cond, env)
    }

    /// A call of a relation (kept out of [`Ctx::eval`], whose stack frame every step of
    /// every rule pays for).
    #[inline(never)]
    fn relation(&self, rel: usize, args: &[Expr], env: &mut Env) -> Val {
        let whole = self.relations.arity.get(rel) == Some(&args.len());
        let Some(objs) = super::fixpoint::objects(self, args, env) else {
            return if whole {
                Val::Bool(false)
            } else {
                Val::List(Arc::default())
            };
        };
        if whole {
            Val::Bool(self.relations.find(rel, &objs, self.mode).is_some())
        } else {
            let ids = self.relations.completions(rel, &objs, self.mode);
            Val::List(Arc::new(
                ids.iter()
                    .filter_map(|&i| self.relations.last(rel, i))
                    .map(Val::Obj)
                    .collect(),
            ))
        }
    }

    /// An indexed sub-query (kept out of [`Ctx::eval`], as [`Ctx::relation`] is).
    #[inline(never)]
    fn probe(
        &self,
        quant: Quant,
        var: usize,
        access: &Access,
        cond: Option<&Expr>,
        env: &mut Env,
    ) -> Val {
        let candidates: Vec<Val> = match access {
            Access::SelectedBy { kind, target } => match self.eval(target, env) {
                Val::Obj(t) => self.graph.selected_by(t, kind).map(Val::Obj).collect(),
                _ => Vec::new(),
            },
            Access::ByName {
                kinds,
                namespace,
                name,
            } => {
                let ns = namespace.as_ref().map(|n| {
                    let v = self.eval(n, env);
                    self.text(&v)
                });
                let name = {
                    let v = self.eval(name, env);
                    self.text(&v)
                };
                let ks: Vec<&str> = match kinds {
                    KindSet::Kinds(ks) => ks.iter().map(|k| &**k).collect(),
                    _ => Vec::new(),
                };
                match (name, ns) {
                    (Some(name), Some(Some(ns))) => ks
                        .iter()
                        .filter_map(|k| self.graph.find_kind(k, Some(&ns), &name))
                        .map(Val::Obj)
                        .collect(),
                    (Some(name), None) => ks
                        .iter()
                        .filter_map(|k| self.graph.find_kind(k, None, &name))
                        .map(Val::Obj)
                        .collect(),
                    _ => Vec::new(),
                }
            }
            // the rows that may hold the string looked for (every row for another value)
            Access::Rows { index, key } => {
                let k = self.eval(key, env);
                match self.scalar(&k) {
                    Scalar::Str(s) => index.rows_with(s).map(Val::from).collect(),
                    _ => index.rows.iter().map(Val::from).collect(),
                }
            }
        };
        self.quantify(quant, var, candidates, cond, env)
    }

    fn quantify(
        &self,
        quant: Quant,
        var: usize,
        candidates: impl IntoIterator<Item = Val>,
        cond: Option<&Expr>,
        env: &mut Env,
    ) -> Val {
        let saved = env.vars.get(var).cloned().unwrap_or(Val::Null);
        let mut count = 0i64;
        let mut result = matches!(quant, Quant::All | Quant::None);
        for c in candidates {
            if env.exhausted {
                break;
            }
            let witness = if let Val::Obj(o) = c { Some(o) } else { None };
            env.set(var, c);
            let mark = env.witnesses.len();
            let ok = match (cond, witness) {
                (Some(cond), Some(o)) => match kept_key(cond, var, o, env) {
                    Some(key) => self.test_kept(cond, key, env),
                    None => self.test(cond, env),
                },
                (Some(cond), None) => self.test(cond, env),
                (None, _) => true,
            };
            match quant {
                Quant::Any | Quant::Exists if ok => {
                    if let Some(w) = witness {
                        env.witnesses.insert(mark, w);
                    }
                    result = true;
                    break;
                }
                Quant::All if !ok => {
                    if let Some(w) = witness {
                        env.witnesses.insert(mark, w);
                    }
                    result = false;
                    break;
                }
                Quant::None if ok => {
                    if let Some(w) = witness {
                        env.witnesses.insert(mark, w);
                    }
                    result = false;
                    break;
                }
                Quant::Count if ok => count += 1,
                _ => {}
            }
            env.witnesses.truncate(mark);
        }
        env.set(var, saved);
        if quant == Quant::Count {
            Val::Int(count)
        } else {
            Val::Bool(result)
        }
    }

    /// [`Ctx::test`] of a quantifier's condition whose variables are all bound to objects
    /// (`key`, see [`kept_key`]): the kept answer (and the evidence its evaluation added)
    /// when it was asked before in this environment. An answer cut short by the step limit
    /// is not kept.
    fn test_kept(&self, cond: &Expr, key: KeptKey, env: &mut Env) -> bool {
        if let Some((ok, added)) = env.cond_memo.get(&key) {
            env.witnesses.extend_from_slice(added);
            return *ok;
        }
        let mark = env.witnesses.len();
        let ok = self.test(cond, env);
        if !env.exhausted {
            let added: Box<[ObjId]> = env.witnesses.get(mark..).unwrap_or(&[]).into();
            env.cond_memo.insert(key, (ok, added));
        }
        ok
    }

    /// `image(t)`: the parsed reference, from the memo when `t` was parsed before.
    fn image(&self, t: &str, env: &mut Env) -> Val {
        if let Some((_, parsed)) = env.image_memo.iter().find(|(k, _)| **k == *t) {
            return Val::Image(Arc::clone(parsed));
        }
        let parsed = Arc::new(builtins::parse_image(t));
        let entry = (Box::from(t), Arc::clone(&parsed));
        if env.image_memo.len() < IMAGE_MEMO {
            env.image_memo.push(entry);
        } else if let Some(slot) = env.image_memo.get_mut(env.image_next) {
            *slot = entry;
            env.image_next = (env.image_next + 1) % IMAGE_MEMO;
        }
        Val::Image(parsed)
    }

    fn call(&self, f: Builtin, args: &[Val], env: &mut Env) -> Val {
        let arg = |i: usize| args.get(i).unwrap_or(&Val::Null);
        let s = |i: usize| self.text_cow(arg(i));
        let string = |x: &str| Val::Str(Arc::from(x));
        match f {
            Builtin::Effective => match (arg(0), arg(1)) {
                (Val::Container(o, i), _) => Val::Effective(*o, *i),
                _ => Val::Null,
            },
            Builtin::Image => match self.scalar(arg(0)) {
                Scalar::Str(t) => self.image(t, env),
                Scalar::Null => Val::Null,
                _ => s(0).map_or(Val::Null, |t| self.image(&t, env)),
            },
            Builtin::Quantity => match self.scalar(arg(0)) {
                Scalar::Num(n) => Val::Float(n),
                Scalar::Str(t) => builtins::parse_quantity(t).map_or(Val::Null, Val::Float),
                _ => Val::Null,
            },
            Builtin::Version => match arg(0) {
                Val::Version(v) => Val::Version(*v),
                other => self
                    .text(other)
                    .and_then(|t| builtins::parse_version(&t))
                    .map_or(Val::Null, Val::Version),
            },
            Builtin::Flag | Builtin::Flags | Builtin::HasFlag => {
                let name = match self.scalar(arg(1)) {
                    Scalar::Str(t) => std::borrow::Cow::Borrowed(t),
                    _ => s(1).unwrap_or_default(),
                };
                let words = self.command_line(arg(0));
                let values = builtins::flag_values(&words, &name);
                match f {
                    Builtin::Flag => values.last().map_or(Val::Null, |v| string(v)),
                    Builtin::HasFlag => Val::Bool(!values.is_empty()),
                    _ => Val::List(Arc::new(
                        values
                            .iter()
                            .flat_map(|v| builtins::split_list(v))
                            .map(string)
                            .collect(),
                    )),
                }
            }
            // a text already in the case asked for is not rewritten first
            Builtin::Lower => s(0).map_or(Val::Null, |t| {
                if t.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                    string(&t)
                } else {
                    string(&t.to_lowercase())
                }
            }),
            Builtin::Upper => s(0).map_or(Val::Null, |t| {
                if t.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase()) {
                    string(&t)
                } else {
                    string(&t.to_uppercase())
                }
            }),
            Builtin::Trim => s(0).map_or(Val::Null, |t| string(t.trim())),
            Builtin::Len => match arg(0) {
                Val::List(items) => Val::Int(items.len() as i64),
                Val::ConstList(items) => Val::Int(items.len() as i64),
                Val::Map(m) => Val::Int(m.len() as i64),
                Val::Node(d, n) => {
                    let Some(doc) = self.doc(*d) else {
                        return Val::Null;
                    };
                    match doc.value(*n) {
                        Some(Value::Seq(i)) => Val::Int(i.len() as i64),
                        Some(Value::Map(m)) => Val::Int(m.len() as i64),
                        Some(Value::Str(t)) => Val::Int(t.chars().count() as i64),
                        _ => Val::Null,
                    }
                }
                Val::Str(t) => Val::Int(t.chars().count() as i64),
                _ => Val::Null,
            },
            Builtin::Split => match (s(0), s(1)) {
                (Some(t), Some(sep)) if !sep.is_empty() => {
                    Val::List(Arc::new(t.split(&*sep).map(string).collect()))
                }
                _ => Val::Null,
            },
            Builtin::Keys | Builtin::Values => {
                let entries: Vec<(String, Val)> = match arg(0) {
                    Val::Map(m) => m
                        .iter()
                        .map(|(k, v)| (k.to_string(), Val::from(v)))
                        .collect(),
                    Val::Node(d, n) => self
                        .doc(*d)
                        .map(|doc| {
                            doc.map(*n)
                                .iter()
                                .map(|(k, c)| (k.to_string(), Val::Node(*d, c)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => return Val::Null,
                };
                Val::List(Arc::new(
                    entries
                        .into_iter()
                        .map(|(k, v)| if f == Builtin::Keys { string(&k) } else { v })
                        .collect(),
                ))
            }
            Builtin::String => self.string_of(arg(0)),
            Builtin::Raw => match arg(0) {
                Val::Node(d, n) => self
                    .doc(*d)
                    .and_then(|doc| doc.node(*n))
                    .map_or(Val::Null, |node| string(self.source_text(node.span))),
                other => self.text_cow(other).map_or(Val::Null, |t| string(&t)),
            },
            Builtin::Quoted => match arg(0) {
                Val::Node(d, n) => Val::Bool(
                    self.doc(*d)
                        .and_then(|doc| doc.node(*n))
                        .is_some_and(|node| node.style.is_quoted()),
                ),
                _ => Val::Bool(false),
            },
        }
    }

    fn source_text(&self, span: Span) -> &str {
        self.sources.map_or("", |s| s.slice(span))
    }

    /// `command` followed by `args` of a container, as words (the document's strings
    /// borrowed, other scalars as their text).
    fn command_line(&self, c: &Val) -> Vec<std::borrow::Cow<'g, str>> {
        use std::borrow::Cow;
        let mut out = Vec::new();
        for key in ["command", "args"] {
            match self.field(c, key) {
                Val::Node(d, n) => {
                    let Some(doc) = self.doc(d) else {
                        continue;
                    };
                    for &item in doc.seq(n) {
                        match doc.value(item) {
                            Some(Value::Str(t)) => out.push(Cow::Borrowed(t)),
                            _ => out.extend(self.text(&Val::Node(d, item)).map(Cow::Owned)),
                        }
                    }
                }
                list => out.extend(
                    self.elements(&list)
                        .iter()
                        .filter_map(|i| self.text(i))
                        .map(Cow::Owned),
                ),
            }
        }
        out
    }

    /// Compares two values with an operator.
    pub fn compare(&self, op: CmpOp, a: &Val, b: &Val) -> bool {
        match op {
            CmpOp::Eq => self.equal(a, b),
            CmpOp::Ne => !self.equal(a, b),
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                self.order(a, b).is_some_and(|ord| holds(op, ord))
            }
            CmpOp::In => self.contains(b, a),
            CmpOp::NotIn => !self.contains(b, a),
            CmpOp::Contains => match (self.scalar(a), self.scalar(b)) {
                (Scalar::Str(h), Scalar::Str(n)) => h.contains(n),
                (Scalar::Other, _) => self.contains(a, b),
                _ => false,
            },
            CmpOp::StartsWith | CmpOp::EndsWith => match (self.scalar(a), self.scalar(b)) {
                (Scalar::Str(h), Scalar::Str(n)) => {
                    if op == CmpOp::StartsWith {
                        h.starts_with(n)
                    } else {
                        h.ends_with(n)
                    }
                }
                _ => false,
            },
        }
    }

    /// [`Ctx::compare`] of `a` with a scalar constant (`b` never [`Scalar::Other`]); `None`
    /// where the answer needs the constant as a value (`contains` on a collection).
    fn compare_scalar(&self, op: CmpOp, a: &Val, b: Scalar<'_>) -> Option<bool> {
        compare_scalars(op, self.scalar(a), b)
    }

    fn contains(&self, haystack: &Val, needle: &Val) -> bool {
        match haystack {
            Val::Node(d, n) => {
                if let Some(doc) = self.doc(*d) {
                    if doc.is_map(*n) {
                        return self.text(needle).is_some_and(|k| doc.get(*n, &k).is_some());
                    }
                }
                self.doc(*d).is_some_and(|doc| {
                    doc.seq(*n)
                        .iter()
                        .any(|c| self.equal(&Val::Node(*d, *c), needle))
                })
            }
            Val::Map(m) => self
                .text(needle)
                .is_some_and(|k| m.iter().any(|(key, _)| **key == *k)),
            Val::ConstList(items) => self.contains_const(items, needle),
            Val::List(items) => items.iter().any(|x| self.equal(x, needle)),
            _ => false,
        }
    }

    /// Whether a list of constants holds `needle`: each constant compared in place, with
    /// no intermediate list.
    fn contains_const(&self, items: &[Const], needle: &Val) -> bool {
        let n = self.scalar(needle);
        items.iter().any(|c| match const_scalar(c) {
            Some(sc) => equal_scalars(sc, n.clone()).unwrap_or(false),
            None => self.equal(&Val::from(c), needle),
        })
    }

    fn equal(&self, a: &Val, b: &Val) -> bool {
        equal_scalars(self.scalar(a), self.scalar(b)).unwrap_or_else(|| a == b)
    }

    fn order(&self, a: &Val, b: &Val) -> Option<Ordering> {
        order_scalars(self.scalar(a), self.scalar(b))
    }

    /// The span a value points at: the key and value of a document node, the container,
    /// or the name of an object.
    pub fn span_of(&self, v: &Val) -> Option<Span> {
        // A scalar: its key and value. A collection: its key only, or (a list item) its
        // first entry, so a finding underlines one line rather than a whole block.
        let node_span = |d: DocId, n: NodeId| {
            let doc = self.doc(d)?;
            let node = doc.node(n)?;
            let collection = matches!(node.value, Value::Map(_) | Value::Seq(_));
            Some(match (node.key_span, collection) {
                (Some(k), true) => k,
                (Some(k), false) => k.to(node.span),
                (None, false) => node.span,
                (None, true) => {
                    let first = match &node.value {
                        Value::Map(entries) => entries.first().map(|(_, c)| c),
                        Value::Seq(items) => items.first().copied(),
                        _ => None,
                    };
                    match first.and_then(|c| doc.node(c)) {
                        Some(c) if !matches!(c.value, Value::Map(_) | Value::Seq(_)) => {
                            c.key_span.map_or(c.span, |k| k.to(c.span))
                        }
                        _ => node.span,
                    }
                }
            })
        };
        match v {
            Val::Node(d, n) => node_span(*d, *n),
            Val::Container(o, i) => {
                let (d, n) = self.container_node(*o, *i)?;
                let doc = self.doc(d)?;
                // the container's `name` line, else the container itself
                match doc.get(n, "name") {
                    Some(name) => node_span(d, name),
                    None => node_span(d, n),
                }
            }
            Val::Obj(o) => {
                let obj = self.graph.object(*o)?;
                match obj.name_node() {
                    Some(n) => node_span(obj.r.doc, n),
                    None => node_span(obj.r.doc, obj.r.node),
                }
            }
            Val::Ref(o, i) => {
                let r = self.graph.references(*o).get(*i as usize)?;
                let obj = self.graph.object(*o)?;
                node_span(obj.r.doc, r.at)
            }
            _ => None,
        }
    }

    /// Where `report at` points: the value's own span, else the nearest existing parent.
    pub fn locate(&self, e: &Expr, env: &mut Env) -> Option<Span> {
        let v = self.eval(e, env);
        if let Some(s) = self.span_of(&v) {
            return Some(s);
        }
        match e {
            Expr::Field(b, _)
            | Expr::Index(b, _)
            | Expr::Attr(b, _)
            | Expr::Memo(_, b)
            | Expr::Shared { expr: b, .. } => self.locate(b, env),
            Expr::Call(_, args) => match args.first() {
                // `effective(c, w).x` missing: the container's securityContext, else the container
                Some(first) => {
                    let c = self.eval(first, env);
                    let sc = self.field(&c, "securityContext");
                    self.span_of(&sc).or_else(|| self.locate(first, env))
                }
                None => None,
            },
            Expr::Coalesce(a, _) => self.locate(a, env),
            _ => None,
        }
    }
}

/// The steps [`Ctx::eval`] takes on `e` whatever the data, when that is fixed: constants,
/// variables, parameters, tables and fields of them (no side effects but the steps).
fn fixed_steps(e: &Expr) -> Option<u64> {
    match e {
        Expr::Const(_) | Expr::Var(_) | Expr::Param(_) | Expr::Table(_) => Some(1),
        Expr::Field(b, _) => fixed_steps(b).map(|n| n + 1),
        _ => None,
    }
}

/// The key of a quantifier's condition asked with its variable `var` bound to object `o`:
/// `None` when the condition reads more than [`KEPT_VARS`] variables or one not bound to an
/// object (its answer is then not kept).
fn kept_key(cond: &Expr, var: usize, o: ObjId, env: &mut Env) -> Option<KeptKey> {
    let at = std::ptr::from_ref(cond) as usize;
    let others = env.cond_vars.entry((at, var)).or_insert_with(|| {
        let vars = crate::plan::optimizer::free_vars(cond);
        let others: Box<[usize]> = vars.into_iter().filter(|&v| v != var).collect();
        (others.len() < KEPT_VARS).then_some(others)
    });
    let mut key = [ObjId::MAX; KEPT_VARS];
    key[0] = o;
    for (slot, v) in key.iter_mut().skip(1).zip(others.as_deref()?) {
        match env.vars.get(*v) {
            Some(Val::Obj(x)) => *slot = *x,
            _ => return None,
        }
    }
    Some((at, key))
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `a op b` of two scalars; `None` for the operators that need more than scalars (`in`,
/// `contains` on a collection).
fn compare_scalars(op: CmpOp, sa: Scalar<'_>, b: Scalar<'_>) -> Option<bool> {
    Some(match op {
        CmpOp::Eq => equal_scalars(sa, b).unwrap_or(false),
        CmpOp::Ne => !equal_scalars(sa, b).unwrap_or(false),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let Some(ord) = order_scalars(sa, b) else {
                return Some(false);
            };
            holds(op, ord)
        }
        CmpOp::Contains | CmpOp::StartsWith | CmpOp::EndsWith => match (sa, b) {
            (Scalar::Str(h), Scalar::Str(n)) => match op {
                CmpOp::Contains => h.contains(n),
                CmpOp::StartsWith => h.starts_with(n),
                _ => h.ends_with(n),
            },
            (Scalar::Other, _) if op == CmpOp::Contains => return None,
            _ => false,
        },
        CmpOp::In | CmpOp::NotIn => return None,
    })
}

/// Whether an ordering comparison holds for `ord`.
fn holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    }
}

/// Equality of two scalars; `None` for two [`Scalar::Other`]s (compared as values).
fn equal_scalars(a: Scalar<'_>, b: Scalar<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Scalar::Null, Scalar::Null) => true,
        (Scalar::Bool(x), Scalar::Bool(y)) => x == y,
        (Scalar::Num(x), Scalar::Num(y)) => x == y,
        (Scalar::Str(x), Scalar::Str(y)) => x == y,
        (Scalar::Version(x), Scalar::Version(y)) => x == y,
        (Scalar::Version(x), Scalar::Str(y)) | (Scalar::Str(y), Scalar::Version(x)) => {
            builtins::parse_version(y) == Some(x)
        }
        (Scalar::Other, Scalar::Other) => return None,
        _ => false,
    })
}

fn order_scalars(a: Scalar<'_>, b: Scalar<'_>) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Num(x), Scalar::Num(y)) => x.partial_cmp(&y),
        (Scalar::Str(x), Scalar::Str(y)) => Some(x.cmp(y)),
        (Scalar::Version(x), Scalar::Version(y)) => Some(x.cmp(&y)),
        (Scalar::Version(x), Scalar::Str(y)) => builtins::parse_version(y).map(|y| x.cmp(&y)),
        (Scalar::Str(x), Scalar::Version(y)) => builtins::parse_version(x).map(|x| x.cmp(&y)),
        _ => None,
    }
}

/// The scalar view of a scalar constant (`None` for lists and maps).
fn const_scalar(c: &Const) -> Option<Scalar<'_>> {
    Some(match c {
        Const::Null => Scalar::Null,
        Const::Bool(b) => Scalar::Bool(*b),
        Const::Int(i) => Scalar::Num(*i as f64),
        Const::Float(f) => Scalar::Num(*f),
        Const::Str(s) => Scalar::Str(s),
        Const::List(_) | Const::Map(_) => return None,
    })
}

fn image_text(i: &builtins::ImageRef) -> String {
    let mut s = i.name.to_string();
    if let Some(t) = &i.tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = i.digest.as_ref().or(i.malformed_digest.as_ref()) {
        s.push('@');
        s.push_str(d);
    }
    s
}

impl Version {
    /// Whether this version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

#[cfg(test)]
mod tests {
    use super::{Ctx, Env, Mode, Val};
    use crate::check::ir::{Const, Expr, Program};
    use crate::diag::SourceMap;
    use crate::graph::{Graph, GraphOptions};
    use crate::model::Loader;

    /// The graph of one YAML text.
    fn graph_of(yaml: &str) -> Graph {
        let mut sources = SourceMap::default();
        let load = Loader::default().load_text("p.yaml", yaml.to_owned(), &mut sources);
        Graph::build(load, &GraphOptions::default())
    }

    /// `[a, b, c][i]` read by `Ctx::pick` (only item `i` evaluated, the others' steps
    /// counted) gives what making the list and indexing it gives: the value, the steps and
    /// whether the limit stopped it, for every index (in range, past the end, negative, a
    /// string, null) and every step limit from 0 to past the whole expression.
    #[test]
    fn a_picked_item_is_the_item_of_the_list_with_the_same_steps() {
        let graph = graph_of(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: x}\nspec:\n  containers:\n  - name: c\n    image: i\n",
        );
        let field = |b: Expr, n: &str| Expr::Field(Box::new(b), n.into());
        let var = || Expr::Var(0);
        let items = || {
            vec![
                field(field(var(), "metadata"), "name"),
                Expr::Const(Const::Int(7)),
                field(field(field(var(), "metadata"), "labels"), "a"),
                field(field(var(), "spec"), "missing"),
            ]
        };
        let indexes = [
            Expr::Const(Const::Int(0)),
            Expr::Const(Const::Int(2)),
            Expr::Const(Const::Int(3)),
            Expr::Const(Const::Int(9)),
            Expr::Const(Const::Int(-1)),
            Expr::Const(Const::Float(1.5)),
            Expr::Const(Const::Str("a".into())),
            Expr::Const(Const::Null),
            field(field(field(var(), "metadata"), "labels"), "a"),
        ];
        let mut ctx = Ctx::new(&graph, &Program::default(), Mode::Indexed);
        let mut seen = 0;
        for i in indexes {
            let picked = Expr::Index(Box::new(Expr::List(items())), Box::new(i.clone()));
            for limit in 0..24 {
                ctx.max_steps = limit;
                let run = |e: &dyn Fn(&Ctx<'_>, &mut Env) -> Val| {
                    let mut env = Env::new(1);
                    env.set(0, Val::Obj(0));
                    let v = e(&ctx, &mut env);
                    (v, env.steps, env.exhausted)
                };
                let fast = run(&|c, env| c.eval(&picked, env));
                // what `eval` of the index does without `pick`: the list made, then indexed
                let slow = run(&|c, env| {
                    if !c.take_step(env) {
                        return Val::Null;
                    }
                    let list = c.eval(&Expr::List(items()), env);
                    let at = c.eval(&i, env);
                    c.index(&list, &at)
                });
                assert_eq!(fast, slow, "index {i:?}, limit {limit}");
                seen += usize::from(!fast.2 && !matches!(fast.0, Val::Null));
            }
        }
        // the values are really read (not all null or cut short)
        assert!(seen > 20, "{seen}");
    }

    /// A chain of fields read from its base at once (`Ctx::field_chain`) gives what reading
    /// it field by field gives: the value, the steps and whether the limit stopped it, for
    /// chains of one to ten fields (longer than the chain walked at once), from an object, a
    /// container and a document node, through present and missing fields, at every step
    /// limit from 0 to past the whole chain.
    #[test]
    fn a_chain_of_fields_is_read_as_field_by_field() {
        let graph = graph_of(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: x}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext:\n      seLinuxOptions: {level: {a: {b: {c: {d: {e: {f: {g: deep}}}}}}}}\n",
        );
        // the evaluation without the chain read at once: each field its step, then its base
        fn by_field(c: &Ctx<'_>, e: &Expr, env: &mut Env) -> Val {
            match e {
                Expr::Field(b, name) => {
                    if !c.take_step(env) {
                        return Val::Null;
                    }
                    let v = by_field(c, b, env);
                    c.field(&v, name)
                }
                other => c.eval(other, env),
            }
        }
        let paths: [&[&str]; 5] = [
            &["metadata", "labels", "a"],
            &["metadata", "missing", "a", "b"],
            &[
                "securityContext",
                "seLinuxOptions",
                "level",
                "a",
                "b",
                "c",
                "d",
                "e",
                "f",
                "g",
            ],
            &["seLinuxOptions", "level", "a", "b", "c", "d", "e", "f", "g"],
            &["name"],
        ];
        let doc_node = {
            let o = graph.object(0).unwrap();
            let doc = graph.doc(0).unwrap();
            let c = doc.path(o.r.node, &["spec", "containers"]).unwrap();
            let c = *doc.seq(c).first().unwrap();
            Val::Node(o.r.doc, doc.get(c, "securityContext").unwrap())
        };
        let bases = [Val::Obj(0), Val::Container(0, 0), doc_node, Val::Null];
        let mut ctx = Ctx::new(&graph, &Program::default(), Mode::Indexed);
        let (mut read, mut cut) = (0, 0);
        for base in &bases {
            for path in paths {
                for n in 1..=path.len() {
                    let chain = path[..n].iter().fold(Expr::Var(0), |e, name| {
                        Expr::Field(Box::new(e), (*name).into())
                    });
                    for limit in 0..14 {
                        ctx.max_steps = limit;
                        let run = |f: &dyn Fn(&Ctx<'_>, &mut Env) -> Val| {
                            let mut env = Env::new(1);
                            env.set(0, base.clone());
                            let v = f(&ctx, &mut env);
                            (v, env.steps, env.exhausted)
                        };
                        let fast = run(&|c, env| c.eval(&chain, env));
                        let slow = run(&|c, env| by_field(c, &chain, env));
                        assert_eq!(fast, slow, "{base:?} {:?} at {limit}", &path[..n]);
                        read += usize::from(!fast.2 && !matches!(fast.0, Val::Null));
                        cut += usize::from(fast.2);
                    }
                }
            }
        }
        // values are really read through chains, and the limit really cuts some short
        assert!(read > 100 && cut > 100, "{read} {cut}");
    }

    /// `o.kind`, `o.name` and `o.namespace` compared with a constant in place give what
    /// evaluating both sides gives: the answer, the steps and whether the limit stopped
    /// it, for objects with and without a namespace, a value that is not an object, every
    /// operator and every step limit around the comparison's three steps.
    #[test]
    fn identity_compared_in_place_as_when_evaluated() {
        use crate::check::ir::{Attr, CmpOp};
        let graph = graph_of(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n",
        );
        let mut ctx = Ctx::new(&graph, &Program::default(), Mode::Indexed);
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Ge,
            CmpOp::StartsWith,
            CmpOp::Contains,
            CmpOp::EndsWith,
        ];
        let consts = [
            Const::Str("Pod".into()),
            Const::Str("ns".into()),
            Const::Str("p".into()),
            Const::Str("".into()),
            Const::Null,
            Const::Int(3),
        ];
        let (mut fast, mut answered) = (0, 0);
        for value in [Val::Obj(0), Val::Obj(1), Val::Obj(7), Val::Int(1)] {
            for at in [Attr::Kind, Attr::Name, Attr::Namespace] {
                let a = Expr::Attr(Box::new(Expr::Var(0)), at);
                for c in &consts {
                    let b = Expr::Const(c.clone());
                    for op in ops {
                        for limit in 0..6 {
                            ctx.max_steps = limit;
                            let mut env = Env::new(1);
                            env.set(0, value.clone());
                            let quick = ctx.identity_cmp(op, &a, &b, &mut env);
                            fast += usize::from(quick.is_some());
                            let quick = quick.map(|r| (r, env.steps, env.exhausted));
                            // the evaluated way, as `cmp` takes it without the shortcut
                            let mut slow_env = Env::new(1);
                            slow_env.set(0, value.clone());
                            let va = ctx.eval(&a, &mut slow_env);
                            let slow = if ctx.take_step(&mut slow_env) {
                                let sb = super::const_scalar(c).unwrap();
                                ctx.compare_scalar(op, &va, sb).unwrap()
                            } else {
                                ctx.compare(op, &va, &Val::Null)
                            };
                            answered += usize::from(slow);
                            let slow = (slow, slow_env.steps, slow_env.exhausted);
                            if let Some(q) = quick {
                                assert_eq!(q, slow, "{value:?} {at:?} {op:?} {c:?} at {limit}");
                            }
                        }
                    }
                }
            }
        }
        // the shortcut is taken where the limit allows it, and answers both ways
        assert!(fast > 1000 && answered > 100, "{fast} {answered}");
    }
}
