//! Checking `fix` clauses: every place is a field of the input reached from a rule
//! variable, checked against the schema like any path, and every value has the place's type.

use super::expr::{Class, RuleChecker, class, elem_ty};
use super::ir::{self, Attr, Ty};
use crate::diag::{Diagnostic, Span};
use crate::syntax::ast;

impl RuleChecker<'_> {
    pub(super) fn fix(&mut self, f: &ast::Fix) -> Option<ir::Fix> {
        let safe = f.kind.text == "safe";
        let condition = match &f.condition {
            Some(c) => Some(self.condition(c)?),
            None => None,
        };
        let mut actions = Vec::new();
        let mut failed = false;
        for a in &f.actions {
            match self.fix_action(a) {
                Some(x) => actions.push(x),
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        Some(ir::Fix {
            safe,
            reason: f
                .reason
                .as_ref()
                .map_or_else(|| "".into(), |r| r.value.as_str().into()),
            condition,
            actions,
            span: f.loc.0,
        })
    }

    fn fix_action(&mut self, a: &ast::FixAction) -> Option<ir::FixAction> {
        match a {
            ast::FixAction::Set { path, value } => {
                let (place, pt) = self.place(path)?;
                let (v, vt) = self.expr(value)?;
                self.same_class(value.span(), &vt, &pt, "set", path)?;
                Some(ir::FixAction::Set { place, value: v })
            }
            ast::FixAction::Remove { path } => {
                let (place, _) = self.place(path)?;
                Some(ir::FixAction::Remove { place })
            }
            ast::FixAction::Add { value, list } => {
                let (place, lt) = self.place(list)?;
                let et = self.list_elem(list.span(), &lt)?;
                let (v, vt) = self.expr(value)?;
                self.same_class(value.span(), &vt, &et, "add", list)?;
                Some(ir::FixAction::Add {
                    value: v,
                    list: place,
                })
            }
            ast::FixAction::RemoveEach {
                var,
                list,
                condition,
            } => {
                let (place, lt) = self.place(list)?;
                let et = self.list_elem(list.span(), &lt)?;
                let depth = self.scope.len();
                let id = self.bind(var, et, false);
                let cond = condition.as_ref().map(|c| self.condition(c));
                self.scope.truncate(depth);
                let cond = match cond {
                    Some(c) => Some(c?),
                    None => None,
                };
                Some(ir::FixAction::RemoveEach {
                    var: id,
                    list: place,
                    cond,
                })
            }
        }
    }

    /// The element type of a list place; `None` after reporting that it is no list.
    fn list_elem(&mut self, span: Span, t: &Ty) -> Option<Ty> {
        if matches!(class(t), Class::List | Class::Any | Class::Null) {
            return Some(elem_ty(t).unwrap_or(Ty::Any));
        }
        self.err(
            Diagnostic::error(
                "E0301",
                format!(
                    "a fix can only add to a list, and this is {}",
                    class(t).name()
                ),
            )
            .at(span, format!("this is {}", class(t).name())),
        );
        None
    }

    fn same_class(
        &mut self,
        span: Span,
        value: &Ty,
        place: &Ty,
        verb: &str,
        path: &ast::Expr,
    ) -> Option<()> {
        let (v, p) = (class(value), class(place));
        let loose = |c: Class| matches!(c, Class::Any | Class::Null);
        if loose(v) || loose(p) || v == p {
            return Some(());
        }
        let (message, label) = if verb == "add" {
            (
                format!(
                    "`add` puts {} into a list of {}s",
                    v.name(),
                    p.name().trim_start_matches("a ").trim_start_matches("an ")
                ),
                format!(
                    "this list holds {}s",
                    p.name().trim_start_matches("a ").trim_start_matches("an ")
                ),
            )
        } else {
            (
                format!(
                    "`{verb}` writes {} where the field is {}",
                    v.name(),
                    p.name()
                ),
                format!("this field is {}", p.name()),
            )
        };
        self.err(
            Diagnostic::error("E0301", message)
                .at(span, format!("this is {}", v.name()))
                .with_label(path.span(), label),
        );
        None
    }

    /// Checks a place: an ordinary path (so unknown fields get E0104 with a suggestion)
    /// that names a part of the input.
    fn place(&mut self, e: &ast::Expr) -> Option<(ir::Expr, Ty)> {
        let (x, t) = self.expr(e)?;
        if let Err(why) = check_place(&x) {
            self.err(
                Diagnostic::error("E0307", "a fix can only change a field of the input")
                    .at(e.span(), why)
                    .with_help(
                        "write a path from a rule variable through fields, such as `c.securityContext.privileged`",
                    ),
            );
            return None;
        }
        Some((x, t))
    }
}

/// Whether an expression is a place a fix can edit; else what is wrong with it.
fn check_place(e: &ir::Expr) -> Result<(), String> {
    match e {
        ir::Expr::Var(_) => Ok(()),
        ir::Expr::Field(base, _) => check_place(base),
        ir::Expr::Index(base, i) => match &**i {
            ir::Expr::Const(ir::Const::Int(_) | ir::Const::Str(_)) => check_place(base),
            _ => Err("an index in a fix must be a literal".to_string()),
        },
        ir::Expr::Attr(base, a) => match a {
            Attr::PodSpec | Attr::Labels | Attr::Annotations => check_place(base),
            other => Err(format!(
                "`{}` is computed by kanon, not a field of the input",
                other.as_str()
            )),
        },
        _ => Err("not a path of fields".to_string()),
    }
}
