//! A rule's `fix` clause evaluated for one finding: the places it names, turned into edits
//! of the document by paths from its root (`fix::edit` makes them into text).

use super::interp::{Ctx, Env};
use super::value::Val;
use crate::check::ir::{self, Attr, Const, Expr};
use crate::diag::FileId;
use crate::fix::edit::{EditOp, FixValue, PathStep};
use crate::model::{DocId, NodeId, Value};
use serde::Serialize;
use std::sync::Arc;

/// One edit of a fix, with what must be there for it to be made.
#[derive(Clone, Debug, PartialEq)]
pub struct FixOp {
    /// The edit.
    pub op: EditOp,
    /// For the removal of a list item: the item's text as it was read. The item is removed
    /// only while it is still at its index, so that removing twice removes nothing more.
    pub only_if: Option<String>,
    /// Which action of the rule's `fix` clause made it (0 for the first), so that `kanon
    /// test` can tell an action no fixture exercises.
    pub action: usize,
}

impl FixOp {
    fn plain(op: EditOp, action: usize) -> FixOp {
        FixOp {
            op,
            only_if: None,
            action,
        }
    }
}

/// Why a fix cannot be made: most reasons are fixed texts, shared rather than copied into
/// each finding.
pub type Why = std::borrow::Cow<'static, str>;

/// A rule's fix for one finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Autofix {
    /// `safe` or `unsafe`.
    pub applicability: &'static str,
    /// Why, from the rule.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub reason: Arc<str>,
    /// The file and document the edits apply to.
    #[serde(skip)]
    pub target: Option<(FileId, u32)>,
    /// The document, as the scan read it.
    #[serde(skip)]
    pub doc: Option<DocId>,
    /// The edits; empty when the fix cannot be made here (see `unfixable`).
    #[serde(skip)]
    pub ops: Vec<FixOp>,
    /// Why the fix cannot be made for this finding, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfixable: Option<Why>,
    /// The edits as text: what to replace where in the file (filled by
    /// `fix::apply::describe` when a report carries them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<TextChange>,
}

/// One replacement in a file's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextChange {
    /// The text replaced (empty at an insertion point).
    pub deleted: super::finding::Location,
    /// The text put in its place.
    pub inserted: String,
}

impl Autofix {
    /// Whether the fix is safe.
    pub fn is_safe(&self) -> bool {
        self.applicability == "safe"
    }
}

/// The fix of `rule` for the row in `env`, or `None` when the rule has none.
pub fn autofix(ctx: &Ctx<'_>, rule: &ir::Rule, env: &mut Env) -> Option<Autofix> {
    let fix = rule.autofix.as_ref()?;
    let mut out = Autofix {
        applicability: if fix.safe { "safe" } else { "unsafe" },
        reason: Arc::clone(&fix.reason),
        target: None,
        doc: None,
        ops: Vec::new(),
        unfixable: None,
        changes: Vec::new(),
    };
    if let Some(c) = &fix.condition {
        if !ctx.test(c, env) {
            out.unfixable = Some("the fix does not apply to this finding".into());
            return Some(out);
        }
    }
    match ops(ctx, fix, env) {
        Ok((doc, ops)) if !ops.is_empty() => {
            let target = doc.and_then(|d| ctx.doc(d)).map(|d| (d.file, d.index));
            out.target = target;
            out.doc = doc;
            out.ops = ops;
        }
        Ok(_) => out.unfixable = Some("the fix changes nothing here".into()),
        Err(why) => out.unfixable = Some(why),
    }
    Some(out)
}

type Ops = (Option<DocId>, Vec<FixOp>);

fn ops(ctx: &Ctx<'_>, fix: &ir::Fix, env: &mut Env) -> Result<Ops, Why> {
    let mut doc: Option<DocId> = None;
    let mut out = Vec::new();
    let mut same_doc = |d: DocId| -> Result<(), Why> {
        match doc {
            Some(x) if x != d => Err("the fix edits two documents".into()),
            _ => {
                doc = Some(d);
                Ok(())
            }
        }
    };
    for (action, a) in fix.actions.iter().enumerate() {
        match a {
            ir::FixAction::Set { place, value } => {
                let v = ctx.eval(value, env);
                let value = fix_value(ctx, &v)?;
                let (d, path) = place_path(ctx, place, env)?;
                same_doc(d)?;
                out.push(FixOp::plain(EditOp::Set { path, value }, action));
            }
            ir::FixAction::Remove { place } => {
                let v = ctx.eval(place, env);
                if matches!(v, Val::Null) {
                    continue;
                }
                let (d, path) = place_path(ctx, place, env)?;
                same_doc(d)?;
                let only_if = match (path.last(), node_of(ctx, &v)) {
                    (Some(PathStep::Index(_)), Some((d, n))) => item_text(ctx, d, n),
                    _ => None,
                };
                out.push(FixOp {
                    op: EditOp::Remove { path },
                    only_if,
                    action,
                });
            }
            ir::FixAction::Add { value, list } => {
                let v = ctx.eval(value, env);
                let value = fix_value(ctx, &v)?;
                let (d, path) = place_path(ctx, list, env)?;
                same_doc(d)?;
                out.push(FixOp::plain(EditOp::Add { path, value }, action));
            }
            ir::FixAction::RemoveEach { var, list, cond } => {
                let Val::Node(d, seq) = ctx.eval(list, env) else {
                    continue;
                };
                let items: Vec<NodeId> = match ctx.doc(d).and_then(|x| x.value(seq)) {
                    Some(Value::Seq(items)) => items.to_vec(),
                    _ => continue,
                };
                let (d2, path) = place_path(ctx, list, env)?;
                same_doc(d2)?;
                let saved = env.vars.get(*var).cloned();
                let mut hit = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(slot) = env.vars.get_mut(*var) {
                        *slot = Val::Node(d, *item);
                    }
                    let keep = match cond {
                        Some(c) => ctx.test(c, env),
                        None => true,
                    };
                    if keep {
                        hit.push(i);
                    }
                }
                if let (Some(slot), Some(v)) = (env.vars.get_mut(*var), saved) {
                    *slot = v;
                }
                // from the last, so that each removal leaves the earlier indexes in place
                for i in hit.into_iter().rev() {
                    let mut p = path.clone();
                    p.push(PathStep::Index(i));
                    out.push(FixOp {
                        op: EditOp::Remove { path: p },
                        only_if: items.get(i).and_then(|n| item_text(ctx, d, *n)),
                        action,
                    });
                }
            }
        }
    }
    Ok((doc, out))
}

/// The value a fix writes.
fn fix_value(ctx: &Ctx<'_>, v: &Val) -> Result<FixValue, Why> {
    Ok(match v {
        Val::Null => FixValue::Null,
        Val::Bool(b) => FixValue::Bool(*b),
        Val::Int(i) => FixValue::Int(*i),
        Val::Float(f) => FixValue::Float(*f),
        Val::Str(s) => FixValue::Str(s.to_string()),
        Val::List(items) => FixValue::List(
            items
                .iter()
                .map(|x| fix_value(ctx, x))
                .collect::<Result<_, _>>()?,
        ),
        Val::ConstList(items) => FixValue::List(
            items
                .iter()
                .map(|c| fix_value(ctx, &Val::from(c)))
                .collect::<Result<_, _>>()?,
        ),
        Val::Node(d, n) => match ctx.doc(*d).and_then(|x| x.value(*n)) {
            Some(Value::Null) => FixValue::Null,
            Some(Value::Bool(b)) => FixValue::Bool(b),
            Some(Value::Int(i)) => FixValue::Int(i),
            Some(Value::Float(f)) => FixValue::Float(f),
            Some(Value::Str(s)) => FixValue::Str(s.to_string()),
            Some(Value::Seq(items)) => FixValue::List(
                items
                    .iter()
                    .map(|c| fix_value(ctx, &Val::Node(*d, *c)))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err("the fix would write a mapping".into()),
        },
        Val::Version(_) | Val::Image(_) => FixValue::Str(ctx.display(v)),
        _ => return Err("the fix would write a value that is not data".into()),
    })
}

/// The document and the path from its root of a place, as far as it exists, with the
/// missing fields appended.
fn place_path(ctx: &Ctx<'_>, e: &Expr, env: &mut Env) -> Result<(DocId, Vec<PathStep>), Why> {
    let v = ctx.eval(e, env);
    if let Some((d, n)) = node_of(ctx, &v) {
        return node_path(ctx, d, n);
    }
    match e {
        Expr::Field(base, name) => {
            let (d, mut p) = place_path(ctx, base, env)?;
            p.push(PathStep::Key(name.to_string()));
            Ok((d, p))
        }
        Expr::Index(base, i) => {
            let (d, mut p) = place_path(ctx, base, env)?;
            match &**i {
                Expr::Const(Const::Str(k)) => p.push(PathStep::Key(k.to_string())),
                Expr::Const(Const::Int(i)) => p.push(PathStep::Index(
                    usize::try_from(*i).map_err(|_| "a negative index")?,
                )),
                _ => return Err("an index that is not a literal".into()),
            }
            Ok((d, p))
        }
        Expr::Attr(base, a @ (Attr::Labels | Attr::Annotations)) => {
            let (d, mut p) = place_path(ctx, base, env)?;
            p.push(PathStep::Key("metadata".to_string()));
            p.push(PathStep::Key(
                if *a == Attr::Labels {
                    "labels"
                } else {
                    "annotations"
                }
                .to_string(),
            ));
            Ok((d, p))
        }
        Expr::Attr(_, a) => Err(format!("`{}` is not in the input", a.as_str()).into()),
        _ => Err("the place is not in the input".into()),
    }
}

/// The source text of a node.
fn item_text(ctx: &Ctx<'_>, d: DocId, n: NodeId) -> Option<String> {
    let doc = ctx.doc(d)?;
    let span = doc.span(n)?;
    doc.text
        .get(span.start as usize..span.end as usize)
        .map(str::to_string)
}

fn node_of(ctx: &Ctx<'_>, v: &Val) -> Option<(DocId, NodeId)> {
    match v {
        Val::Node(d, n) => Some((*d, *n)),
        Val::Container(o, i) => ctx.container_node(*o, *i),
        Val::Obj(o) => {
            let (d, n) = ctx.obj_root(*o)?;
            // an item of a `List` export is not fixable in place
            (ctx.doc(d)?.root == n).then_some((d, n))
        }
        _ => None,
    }
}

fn node_path(ctx: &Ctx<'_>, d: DocId, n: NodeId) -> Result<(DocId, Vec<PathStep>), Why> {
    let doc = ctx.doc(d).ok_or("the document is gone")?;
    // the fields of a `List` export's items are refused before their path is looked for
    // (an export of a cluster has one finding or more for most of its items)
    if in_list_items(doc, n) && is_list_export(ctx, d) {
        return Err(LIST_EXPORT.into());
    }
    let steps = doc
        .path_to_node(n)
        .ok_or("the place is not reachable from the document's root")?;
    // the `items` list itself, and a node reached through an alias whose anchor is
    // elsewhere, are told by their path
    let in_items = matches!(steps.first(), Some(crate::render::Step::Key(k)) if k == "items");
    if in_items && is_list_export(ctx, d) {
        return Err(LIST_EXPORT.into());
    }
    Ok((
        d,
        steps
            .into_iter()
            .map(|s| match s {
                crate::render::Step::Key(k) => PathStep::Key(k),
                crate::render::Step::Index(i) => PathStep::Index(i),
            })
            .collect(),
    ))
}

const LIST_EXPORT: &str = "a `List` export cannot be fixed in place";

/// Whether node `n` is inside the `items` of its document's root mapping (by its span: an
/// item's fields are within the span of the list).
fn in_list_items(doc: &crate::model::Document, n: NodeId) -> bool {
    let Some(items) = doc.get(doc.root, "items") else {
        return false;
    };
    match (doc.span(items), doc.span(n)) {
        (Some(list), Some(at)) => n != items && list.start <= at.start && at.end <= list.end,
        _ => false,
    }
}

fn is_list_export(ctx: &Ctx<'_>, d: DocId) -> bool {
    ctx.doc(d).is_some_and(|doc| {
        doc.get(doc.root, "kind")
            .and_then(|k| doc.value(k))
            .is_some_and(|v| matches!(v, Value::Str(s) if s.ends_with("List")))
    })
}
