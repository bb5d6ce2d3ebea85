//! Finding what is under the cursor: the item and node at an offset, local and global declarations, recorded types.

use super::*;

/// What a position points at.
#[derive(Clone, Copy)]
pub(super) enum Found<'a> {
    /// A rule's id or name.
    Rule(&'a ast::Rule),
    /// A declared name.
    Decl(&'a ast::Name, Decl),
    /// A bare name in an expression.
    Var(&'a Expr, &'a str),
    /// `base.name`.
    Field(&'a Expr, &'a ast::Name),
    /// A function or def call's name.
    Call(&'a ast::Name),
    /// An import's path.
    Import(&'a ast::Import),
    /// A table's file.
    TablePath(&'a ast::Table),
    /// A severity level.
    Severity(&'a ast::Name),
}

/// What a declared name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decl {
    Def,
    Param,
    Table,
    Binding,
    DefParam,
}

pub(super) fn contains(span: Span, off: usize) -> bool {
    (span.start as usize) <= off && off <= (span.end as usize)
}

/// The item and the thing at byte offset `off`.
pub(super) fn locate(file: &ast::File, off: usize) -> Option<(&Item, Found<'_>)> {
    for item in &file.items {
        if !contains(item.loc().0, off) {
            continue;
        }
        let found = match item {
            Item::Import(i) => contains(i.path.loc.0, off).then_some(Found::Import(i)),
            Item::Param(p) => {
                if contains(p.name.loc.0, off) {
                    Some(Found::Decl(&p.name, Decl::Param))
                } else {
                    p.default.as_ref().and_then(|e| in_expr(e, off))
                }
            }
            Item::Table(t) => {
                if contains(t.name.loc.0, off) {
                    Some(Found::Decl(&t.name, Decl::Table))
                } else {
                    contains(t.path.loc.0, off).then_some(Found::TablePath(t))
                }
            }
            Item::Def(d) => {
                if contains(d.name.loc.0, off) {
                    Some(Found::Decl(&d.name, Decl::Def))
                } else if let Some(p) = d.params.iter().find(|p| contains(p.loc.0, off)) {
                    Some(Found::Decl(p, Decl::DefParam))
                } else {
                    in_expr(&d.body, off)
                }
            }
            Item::Rule(r) => in_rule(r, off),
            Item::Relation(r) => in_relation(r, off),
        };
        return found.map(|f| (item, f));
    }
    None
}

fn in_relation(r: &ast::Relation, off: usize) -> Option<Found<'_>> {
    if contains(r.name.loc.0, off) {
        return Some(Found::Decl(&r.name, Decl::Def));
    }
    if let Some(p) = r.params.iter().find(|p| contains(p.loc.0, off)) {
        return Some(Found::Decl(p, Decl::DefParam));
    }
    for c in r.cases.iter().filter(|c| contains(c.loc.0, off)) {
        for b in &c.bindings {
            if contains(b.var.loc.0, off) {
                return Some(Found::Decl(&b.var, Decl::Binding));
            }
            if let Some(f) = in_expr(&b.source, off) {
                return Some(f);
            }
        }
        let step_parts = c.step.iter().flat_map(|s| {
            s.message.parts.iter().filter_map(|p| match p {
                ast::MessagePart::Expr(e) => Some(e),
                ast::MessagePart::Text(_) => None,
            })
        });
        let exprs = c
            .condition
            .iter()
            .chain(c.step.iter().filter_map(|s| s.at.as_ref()))
            .chain(step_parts);
        for e in exprs {
            if let Some(f) = in_expr(e, off) {
                return Some(f);
            }
        }
    }
    None
}

pub(super) fn in_rule(r: &ast::Rule, off: usize) -> Option<Found<'_>> {
    if contains(r.id.loc.0, off) || contains(r.name.loc.0, off) {
        return Some(Found::Rule(r));
    }
    for m in &r.meta {
        if let ast::Meta::Severity(n) = m {
            if contains(n.loc.0, off) {
                return Some(Found::Severity(n));
            }
        }
    }
    for b in &r.bindings {
        if contains(b.var.loc.0, off) {
            return Some(Found::Decl(&b.var, Decl::Binding));
        }
        if let Some(f) = in_expr(&b.source, off) {
            return Some(f);
        }
    }
    let exprs = r
        .condition
        .iter()
        .chain(r.report.at.iter())
        .chain(r.report.message.parts.iter().filter_map(|p| match p {
            ast::MessagePart::Expr(e) => Some(e),
            ast::MessagePart::Text(_) => None,
        }))
        .chain(r.fix.iter().flat_map(|f| f.exprs()));
    for e in exprs {
        if let Some(f) = in_expr(e, off) {
            return Some(f);
        }
    }
    None
}

pub(super) fn in_expr(e: &Expr, off: usize) -> Option<Found<'_>> {
    if !contains(e.span(), off) {
        return None;
    }
    match &e.kind {
        ExprKind::Var(name) => Some(Found::Var(e, name)),
        ExprKind::Field(base, name) => {
            if contains(name.loc.0, off) {
                Some(Found::Field(base, name))
            } else {
                in_expr(base, off)
            }
        }
        ExprKind::Index(b, i) => in_expr(b, off).or_else(|| in_expr(i, off)),
        ExprKind::Call(n, args) => {
            if contains(n.loc.0, off) {
                Some(Found::Call(n))
            } else {
                args.iter().find_map(|a| in_expr(a, off))
            }
        }
        ExprKind::Unary(_, x) => in_expr(x, off),
        ExprKind::Binary(_, l, r) => in_expr(l, off).or_else(|| in_expr(r, off)),
        ExprKind::List(items) => items.iter().find_map(|a| in_expr(a, off)),
        ExprKind::Quantified {
            var, source, cond, ..
        } => {
            if contains(var.loc.0, off) {
                return Some(Found::Decl(var, Decl::Binding));
            }
            in_expr(source, off).or_else(|| cond.as_ref().and_then(|c| in_expr(c, off)))
        }
        _ => None,
    }
}

/// Every expression of an item, outer ones first.
pub(super) fn walk_item(item: &Item, f: &mut dyn FnMut(&Expr)) {
    match item {
        Item::Param(p) => {
            if let Some(e) = &p.default {
                walk(e, f);
            }
        }
        Item::Def(d) => walk(&d.body, f),
        Item::Rule(r) => {
            for b in &r.bindings {
                walk(&b.source, f);
            }
            for e in r.condition.iter().chain(r.report.at.iter()) {
                walk(e, f);
            }
            for p in &r.report.message.parts {
                if let ast::MessagePart::Expr(e) = p {
                    walk(e, f);
                }
            }
            for e in r.fix.iter().flat_map(|x| x.exprs()) {
                walk(e, f);
            }
        }
        Item::Relation(r) => {
            for c in &r.cases {
                for b in &c.bindings {
                    walk(&b.source, f);
                }
                for e in c
                    .condition
                    .iter()
                    .chain(c.step.iter().filter_map(|s| s.at.as_ref()))
                {
                    walk(e, f);
                }
                for p in c.step.iter().flat_map(|s| s.message.parts.iter()) {
                    if let ast::MessagePart::Expr(e) = p {
                        walk(e, f);
                    }
                }
            }
        }
        Item::Import(_) | Item::Table(_) => {}
    }
}

pub(super) fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Field(b, _) => walk(b, f),
        ExprKind::Index(b, i) => {
            walk(b, f);
            walk(i, f);
        }
        ExprKind::Call(_, args) | ExprKind::List(args) => {
            for a in args {
                walk(a, f);
            }
        }
        ExprKind::Unary(_, x) => walk(x, f),
        ExprKind::Binary(_, l, r) => {
            walk(l, f);
            walk(r, f);
        }
        ExprKind::Quantified { source, cond, .. } => {
            walk(source, f);
            if let Some(c) = cond {
                walk(c, f);
            }
        }
        _ => {}
    }
}

/// The declaration of a local name (a `for` binding, a quantifier variable, a def's
/// parameter) used at `off` in `item`.
pub(super) fn local_decl<'a>(item: &'a Item, name: &str, off: usize) -> Option<&'a ast::Name> {
    let mut best: Option<(&'a ast::Name, u32)> = None;
    let mut consider = |e: &'a Expr| {
        if let ExprKind::Quantified { var, .. } = &e.kind {
            if var.text == name && contains(e.span(), off) {
                let size = e.span().end - e.span().start;
                if best.is_none_or(|(_, s)| size < s) {
                    best = Some((var, size));
                }
            }
        }
    };
    match item {
        Item::Rule(r) => {
            let mut all: Vec<&'a Expr> = Vec::new();
            for e in r
                .bindings
                .iter()
                .map(|b| &b.source)
                .chain(r.condition.iter())
            {
                collect(e, &mut all);
            }
            for e in all {
                consider(e);
            }
            if best.is_none() {
                return r.bindings.iter().map(|b| &b.var).find(|v| v.text == name);
            }
        }
        Item::Def(d) => {
            let mut all = Vec::new();
            collect(&d.body, &mut all);
            for e in all {
                consider(e);
            }
            if best.is_none() {
                return d.params.iter().find(|p| p.text == name);
            }
        }
        _ => {}
    }
    best.map(|(n, _)| n)
}

pub(super) fn collect<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    out.push(e);
    match &e.kind {
        ExprKind::Field(b, _) => collect(b, out),
        ExprKind::Index(b, i) => {
            collect(b, out);
            collect(i, out);
        }
        ExprKind::Call(_, args) | ExprKind::List(args) => {
            for a in args {
                collect(a, out);
            }
        }
        ExprKind::Unary(_, x) => collect(x, out),
        ExprKind::Binary(_, l, r) => {
            collect(l, out);
            collect(r, out);
        }
        ExprKind::Quantified { source, cond, .. } => {
            collect(source, out);
            if let Some(c) = cond {
                collect(c, out);
            }
        }
        _ => {}
    }
}

/// What the binding declared at `name` ranges over.
pub(super) fn binding_source<'a>(item: &'a Item, name: &ast::Name) -> Option<&'a Expr> {
    let at = name.loc.0;
    let mut all = Vec::new();
    match item {
        Item::Rule(r) => {
            if let Some(b) = r.bindings.iter().find(|b| b.var.loc.0 == at) {
                return Some(&b.source);
            }
            for e in r
                .bindings
                .iter()
                .map(|b| &b.source)
                .chain(r.condition.iter())
            {
                collect(e, &mut all);
            }
        }
        Item::Def(d) => collect(&d.body, &mut all),
        _ => {}
    }
    all.into_iter().find_map(|e| match &e.kind {
        ExprKind::Quantified { var, source, .. } if var.loc.0 == at => Some(&**source),
        _ => None,
    })
}

/// A global declaration (def, param, table) of the ruleset by name.
pub(super) fn global_decl<'a>(
    a: &'a Analysis,
    name: &str,
) -> Option<(&'a FileInfo, &'a Item, &'a ast::Name)> {
    for f in &a.files {
        for item in &f.ast.items {
            let n = match item {
                Item::Def(d) => &d.name,
                Item::Param(p) => &p.name,
                Item::Table(t) => &t.name,
                Item::Relation(r) => &r.name,
                _ => continue,
            };
            if n.text == name {
                return Some((f, item, n));
            }
        }
    }
    None
}

/// The recorded type of the expression or binding at exactly `span`.
pub(super) fn type_at(a: &Analysis, span: Span) -> Option<&Ty> {
    a.compiled
        .types
        .iter()
        .find(|(s, _)| *s == span)
        .map(|(_, t)| t)
}
