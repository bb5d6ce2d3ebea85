//! Turning a matched row into a [`Finding`]: resource, location, message and evidence.

use super::finding::{
    Entry, Evidence, Finding, FindingData, Location, Message, Recorded, Resource, Witness,
};
use super::fixes::Autofix;
use super::interp::{Ctx, Env};
use super::value::Val;
use crate::check::ir::{Expr, Quant, Rule, Source};
use crate::diag::SourceMap;
use crate::graph::ObjId;
use std::sync::Arc;

/// Whether [`sanitize`] escapes `c`: control characters other than line breaks and tabs.
fn escaped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Whether `s` needs [`sanitize`] to escape anything. Control characters are U+0000 to
/// U+001F and U+007F to U+009F: in UTF-8 a byte below 0x20, 0x7F, or 0xC2 then 0x80 to
/// 0x9F; the characters are decoded only when a byte says one may be there.
pub(crate) fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) && s.chars().any(escaped)
}

/// `s` escaped as [`sanitize`] escapes it, borrowed when nothing needs escaping.
pub(crate) fn escaped_text(s: &str) -> std::borrow::Cow<'_, str> {
    if needs_escape(s) {
        std::borrow::Cow::Owned(sanitize(s))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A shared name, escaped as [`sanitize`] does; shared again when nothing needed escaping.
fn sanitized_name(s: &Arc<str>) -> Arc<str> {
    if needs_escape(s) {
        sanitize(s).into()
    } else {
        s.clone()
    }
}

/// Escapes control characters so that input cannot inject terminal sequences.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if escaped(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The graph object a value belongs to (a container's or a reference's object).
pub(super) fn obj_of(v: &Val) -> Option<ObjId> {
    match v {
        Val::Obj(o)
        | Val::Container(o, _)
        | Val::Effective(o, _)
        | Val::Ref(o, _)
        | Val::Exposure(o, _) => Some(*o),
        _ => None,
    }
}

/// The steps of the paths a row read: for each `for` binding over a relation call
/// (`for t in reaches(w)`) and each top-level `where` conjunct that is one (`reaches(w, t)`),
/// the steps of the fact's derivation.
fn path_steps(ctx: &Ctx<'_>, rule: &Rule, env: &mut Env) -> Vec<Witness> {
    let mut facts: Vec<(usize, Vec<ObjId>)> = Vec::new();
    for b in &rule.bindings {
        if let Source::Expr(e) = &b.source {
            if let Expr::Relation { rel, args, .. } = &**e {
                let (Some(mut tuple), Some(Val::Obj(last))) = (
                    super::fixpoint::objects(ctx, args, env),
                    env.vars.get(b.var).cloned(),
                ) else {
                    continue;
                };
                tuple.push(last);
                facts.push((*rel, tuple));
            }
        }
    }
    let mut conjuncts = Vec::new();
    if let Some(c) = &rule.condition {
        flatten_and(c, &mut conjuncts);
    }
    for c in conjuncts {
        match c {
            Expr::Relation { rel, args, .. }
                if ctx.relations.arity.get(*rel) == Some(&args.len()) =>
            {
                if let Some(tuple) = super::fixpoint::objects(ctx, args, env) {
                    facts.push((*rel, tuple));
                }
            }
            // `exists s in reaches(w) where ...`: the first (shortest) path that satisfies it
            Expr::Quant {
                quant: Quant::Exists | Quant::Any,
                var,
                source: Source::Expr(src),
                cond,
            } => {
                let Expr::Relation { rel, args, .. } = &**src else {
                    continue;
                };
                if ctx.relations.arity.get(*rel) != Some(&(args.len() + 1)) {
                    continue;
                }
                let Some(prefix) = super::fixpoint::objects(ctx, args, env) else {
                    continue;
                };
                for &id in ctx.relations.completions(*rel, &prefix, ctx.mode).iter() {
                    let Some(last) = ctx.relations.last(*rel, id) else {
                        continue;
                    };
                    env.set(*var, Val::Obj(last));
                    let ok = match cond {
                        Some(c) => ctx.test(c, env),
                        None => true,
                    };
                    if ok {
                        let mut tuple = prefix.clone();
                        tuple.push(last);
                        facts.push((*rel, tuple));
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (rel, tuple) in facts {
        let Some(id) = ctx.relations.find(rel, &tuple, ctx.mode) else {
            continue;
        };
        for s in ctx.relations.path(rel, id) {
            // (an object not in the graph is left out when the evidence is made)
            let Some(object) = s.object else {
                continue;
            };
            out.push(Witness {
                object,
                span: s.span.or_else(|| ctx.span_of(&Val::Obj(object))),
                step: Some(sanitize(s.text(ctx)).into()),
            });
        }
    }
    out
}

/// Whether a finding of `rule` can have the steps of a path as evidence: a binding over a
/// relation call, or a top-level conjunct that calls one or quantifies over one (what
/// [`path_steps`] reads). The others skip it.
pub(super) fn reads_paths(rule: &Rule) -> bool {
    let is_relation = |e: &Expr| matches!(e, Expr::Relation { .. });
    let binds = rule
        .bindings
        .iter()
        .any(|b| matches!(&b.source, Source::Expr(e) if is_relation(e)));
    let mut conjuncts = Vec::new();
    if let Some(c) = &rule.condition {
        flatten_and(c, &mut conjuncts);
    }
    binds
        || conjuncts.iter().any(|c| match c {
            Expr::Relation { .. } => true,
            Expr::Quant {
                quant: Quant::Exists | Quant::Any,
                source: Source::Expr(src),
                ..
            } => is_relation(src),
            _ => false,
        })
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And(a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

/// The objects the rule's bindings hold in the row, in the bindings' order.
fn bound_objects<'a>(rule: &'a Rule, env: &'a Env) -> impl Iterator<Item = ObjId> + 'a {
    rule.bindings
        .iter()
        .filter_map(move |b| env.vars.get(b.var).and_then(obj_of))
}

/// A finding's fix, shared with the earlier findings of its rule in this environment when
/// it is a fix that cannot be made for the same reason (nothing else in it varies).
fn shared_fix(rule: &Rule, fix: Autofix, env: &mut Env) -> Arc<Autofix> {
    let alone = fix.ops.is_empty()
        && fix.changes.is_empty()
        && fix.target.is_none()
        && fix.doc.is_none()
        && fix.unfixable.is_some();
    if !alone {
        return Arc::new(fix);
    }
    let key = std::ptr::from_ref(rule) as usize;
    if let Some((_, a)) = env.unfixable.iter().find(|(k, a)| *k == key && **a == fix) {
        return Arc::clone(a);
    }
    let a = Arc::new(fix);
    // a few reasons per rule, and the rules of one task: a short list
    if env.unfixable.len() >= UNFIXABLE_KEPT {
        env.unfixable.clear();
    }
    env.unfixable.push((key, Arc::clone(&a)));
    a
}

/// How many unfixable fixes an environment keeps for sharing.
const UNFIXABLE_KEPT: usize = 64;

/// Records the finding for a row whose condition held in `found` (under its current rule);
/// nothing when the row has no object to report on (a rule over constants only).
pub fn record(ctx: &Ctx<'_>, rule: &Rule, env: &mut Env, found: &mut Recorded) {
    let g = ctx.graph;
    let Some(resource_id) = bound_objects(rule, env).next() else {
        return;
    };
    if g.object(resource_id).is_none() {
        return;
    }
    let Some(span) = rule
        .report_at
        .as_ref()
        .and_then(|e| ctx.locate(e, env))
        .or_else(|| ctx.span_of(&Val::Obj(resource_id)))
    else {
        return;
    };
    let mut values = std::mem::take(&mut env.message);
    let own = Own::of(rule, resource_id);
    let left_out = ctx.write_message_values(&rule.message, env, &mut values, own);
    // (read again: evaluating the place and the message binds only variables of their own)
    let objects = || bound_objects(rule, env).chain(env.witnesses.iter().copied());
    // most findings are about their resource alone: no list of objects made for them
    let mut evidence = if objects().any(|id| id != resource_id) {
        let mut chain: Vec<ObjId> = Vec::new();
        for id in objects() {
            if !chain.contains(&id) {
                chain.push(id);
            }
        }
        chain
            .into_iter()
            .map(|object| Witness {
                object,
                span: ctx.span_of(&Val::Obj(object)),
                step: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    if ctx.reads_paths(rule) {
        evidence.extend(path_steps(ctx, rule, env));
    }
    let autofix = if ctx.fixes {
        super::fixes::autofix(ctx, rule, env).map(|a| shared_fix(rule, a, env))
    } else {
        None
    };
    found.push(
        resource_id,
        span,
        values.as_str(),
        left_out,
        evidence,
        autofix,
    );
    env.message = values;
}

/// The values of a rule's message that are its finding's own object's kind or name
/// (`{w.kind}`, `{w.name}` of the rule's first variable, which holds the object the
/// finding is about): a record leaves them out, and the finding is given them when it is
/// made. They are a third of the values' text in a cluster's scan.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Own {
    /// The values (bit `k` for the `k`th) that are the object's kind or name.
    pub(crate) parts: u32,
    /// Those that are its name.
    names: u32,
    /// The variable they read.
    pub(crate) var: usize,
    /// The object the finding is about.
    pub(crate) object: ObjId,
}

impl Own {
    /// The own values of `rule`'s message, for a finding about `object`.
    pub(crate) fn of(rule: &Rule, object: ObjId) -> Own {
        use crate::check::ir::{Attr, MessagePart};
        let Some(var) = rule.bindings.first().map(|b| b.var) else {
            return Own::default();
        };
        let mut own = Own {
            var,
            object,
            ..Own::default()
        };
        let exprs = rule.message.iter().filter_map(|p| match p {
            MessagePart::Expr(e) => Some(e),
            MessagePart::Text(_) => None,
        });
        for (k, e) in exprs.enumerate() {
            let Some(bit) = u32::try_from(k).ok().and_then(|k| 1u32.checked_shl(k)) else {
                break;
            };
            if let Expr::Attr(base, at @ (Attr::Kind | Attr::Name)) = e {
                if matches!(&**base, Expr::Var(v) if *v == var) {
                    own.parts |= bit;
                    if *at == Attr::Name {
                        own.names |= bit;
                    }
                }
            }
        }
        own
    }

    /// Whether own value `k` is the name (else the kind).
    pub(crate) fn is_name(self, k: u32) -> bool {
        1u32.checked_shl(k).is_some_and(|b| self.names & b != 0)
    }

    /// The text of own value `k` for object `o`, before it is escaped.
    pub(crate) fn text(self, o: &crate::graph::Object, k: u32) -> &str {
        if self.is_name(k) { &o.name } else { &o.kind }
    }
}

/// What making a [`Record`] into a [`Finding`] reads beside the record: the rules' texts
/// and the objects' resources, each made once and shared by their findings.
pub(crate) struct Maker<'a> {
    program: &'a crate::check::ir::Program,
    graph: &'a crate::graph::Graph,
    sources: &'a SourceMap,
    /// By rule.
    texts: Vec<Arc<super::interp::RuleText>>,
    /// By object, made for its first finding.
    resources: Vec<std::sync::OnceLock<Arc<Resource>>>,
}

impl<'a> Maker<'a> {
    pub(crate) fn new(
        program: &'a crate::check::ir::Program,
        graph: &'a crate::graph::Graph,
        sources: &'a SourceMap,
    ) -> Maker<'a> {
        Maker {
            program,
            graph,
            sources,
            texts: program
                .rules
                .iter()
                .map(|r| Arc::new(super::interp::RuleText::of(r)))
                .collect(),
            resources: graph
                .objects
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// The finding a record is, with what its batch keeps for it. `None` when its rule or
    /// object is not there (never for a record of this program and graph).
    pub(crate) fn make(&self, e: Entry<'_>) -> Option<Finding> {
        let r = e.record;
        let rule = self.program.rules.get(e.rule as usize)?;
        let text = self.texts.get(e.rule as usize)?;
        let g = self.graph;
        let obj = g.object(r.object)?;
        let resource = self.resources.get(r.object as usize)?.get_or_init(|| {
            Arc::new(Resource {
                api_version: obj.api_version.clone(),
                kind: obj.kind.clone(),
                namespace: obj.namespace.clone(),
                name: sanitized_name(&obj.name),
                helm_source: g
                    .load
                    .docs
                    .get(obj.r.doc as usize)
                    .and_then(|d| d.helm_source.clone()),
            })
        });
        let evidence: Vec<Evidence> = e
            .witnesses
            .iter()
            .filter_map(|w| {
                let o = g.object(w.object)?;
                Some(Evidence {
                    kind: o.kind.clone(),
                    namespace: o.namespace.clone(),
                    // a path's steps print the name as they print the step
                    name: match w.step {
                        Some(_) => sanitize(&o.name).into(),
                        None => o.name.clone(),
                    },
                    location: w.span.map(|s| Location::of(self.sources, s)),
                    step: w.step.as_deref().map(String::from),
                })
            })
            .collect();
        Some(Finding::from(FindingData {
            rule: Arc::clone(text),
            severity: rule.severity,
            resource: Arc::clone(resource),
            location: Location::of(self.sources, r.span),
            message: Message::new(Arc::clone(&text.message), self.values(&e, rule, resource)),
            evidence: evidence.into(),
            rendered: None,
            value_source: None,
            autofix: e.autofix.cloned(),
        }))
    }
}

impl Maker<'_> {
    /// A record's message values, with the own values it left out put back: the
    /// resource's name (escaped once for all its findings) and kind.
    fn values(&self, e: &Entry<'_>, rule: &Rule, resource: &Resource) -> Box<str> {
        if !e.record.leaves_own() {
            return e.values.into();
        }
        let own = Own::of(rule, e.record.object);
        super::finding::MessageValues::with_put_back(e.values, own.parts, |k| {
            if own.is_name(k) {
                std::borrow::Cow::Borrowed(&*resource.name)
            } else {
                escaped_text(&resource.kind)
            }
        })
    }
}

/// Makes recorded findings into findings, in parallel: sorted and without repeats.
pub(crate) fn make_all(maker: &Maker<'_>, batches: Vec<super::finding::Batch>) -> Vec<Finding> {
    use rayon::prelude::*;
    let made: Vec<Vec<Finding>> = batches
        .into_par_iter()
        .map(|b| {
            let mut out = Vec::with_capacity(b.records.len());
            b.each(|e| out.extend(maker.make(e)));
            out
        })
        .collect();
    let mut all = Vec::with_capacity(made.iter().map(Vec::len).sum());
    for part in made {
        all.extend(part);
    }
    super::finding::sort(&mut all);
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::{escaped, needs_escape};

    /// The byte test of `needs_escape` agrees with decoding every character, alone and
    /// between ordinary text.
    #[test]
    fn needs_escape_agrees_with_every_character() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(needs_escape(&alone), escaped(c), "{:?}", c);
            if u32::from(c) < 0x800 {
                let mixed = format!("é {c} ok\n\t");
                assert_eq!(needs_escape(&mixed), escaped(c), "{:?}", c);
            }
        }
    }
}
