//! Turning a matched row into a [`Finding`]: resource, location, message and evidence.

use super::finding::{Evidence, Finding, FindingData, Location, Resource};
use super::interp::{Ctx, Env};
use super::value::Val;
use crate::check::ir::{MessagePart, Rule};
use crate::diag::SourceMap;
use crate::graph::ObjId;

/// Escapes control characters so that input cannot inject terminal sequences.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn obj_of(v: &Val) -> Option<ObjId> {
    match v {
        Val::Obj(o)
        | Val::Container(o, _)
        | Val::Effective(o, _)
        | Val::Ref(o, _)
        | Val::Exposure(o, _) => Some(*o),
        _ => None,
    }
}

/// Builds the finding for a row whose condition held. `None` when the row has no object
/// to report on (a rule over constants only).
pub fn finding(ctx: &Ctx<'_>, rule: &Rule, env: &mut Env, sources: &SourceMap) -> Option<Finding> {
    let g = ctx.graph;
    let bound: Vec<Val> = rule
        .bindings
        .iter()
        .filter_map(|b| env.vars.get(b.var).cloned())
        .collect();
    let resource_id = bound.iter().find_map(obj_of)?;
    let obj = g.object(resource_id)?;
    let span = rule
        .report_at
        .as_ref()
        .and_then(|e| ctx.locate(e, env))
        .or_else(|| ctx.span_of(&Val::Obj(resource_id)))?;
    let mut message = String::new();
    for part in &rule.message {
        match part {
            MessagePart::Text(t) => message.push_str(t),
            MessagePart::Expr(e) => {
                let v = ctx.eval(e, env);
                message.push_str(&ctx.display(&v));
            }
        }
    }
    let mut chain: Vec<ObjId> = Vec::new();
    for id in bound
        .iter()
        .filter_map(obj_of)
        .chain(env.witnesses.iter().copied())
    {
        if !chain.contains(&id) {
            chain.push(id);
        }
    }
    let evidence = if chain.len() > 1 {
        chain
            .iter()
            .filter_map(|id| {
                let o = g.object(*id)?;
                Some(Evidence {
                    kind: o.kind.clone(),
                    namespace: o.namespace.clone(),
                    name: o.name.to_string(),
                    location: ctx
                        .span_of(&Val::Obj(*id))
                        .map(|s| Location::of(sources, s)),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let helm_source = g
        .load
        .docs
        .get(obj.r.doc as usize)
        .and_then(|d| d.helm_source.clone());
    let autofix = super::fixes::autofix(ctx, rule, env).map(Box::new);
    let text = ctx.rule_text(rule);
    Some(Finding::from(FindingData {
        rule_id: text.id,
        rule_name: text.name,
        title: text.title,
        severity: rule.severity,
        owasp: text.owasp,
        resource: Resource {
            api_version: obj.api_version.clone(),
            kind: obj.kind.clone(),
            namespace: obj.namespace.clone(),
            name: sanitize(&obj.name),
            helm_source,
        },
        location: Location::of(sources, span),
        message: sanitize(&message),
        fix: text.fix,
        evidence,
        rendered: None,
        value_source: None,
        autofix,
    }))
}
