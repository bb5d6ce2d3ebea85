//! Checking rules and expressions: name resolution, field paths, relations, types.

use super::Globals;
use super::ir::{self, Attr, Builtin, CmpOp, Const, KindSet, Program, Source, Ty};
use crate::diag::{Diagnostic, FileId, Span};
use crate::schema::kinds::{self, BuiltinKind};
use crate::schema::{FieldType, Schema, TypeId};
use crate::syntax::ast::{self, BinaryOp, ExprKind, Quant};
use std::sync::Arc;

/// Deepest nesting of `def` predicates calling one another.
const MAX_DEF_DEPTH: usize = 16;

pub(super) struct Var {
    name: String,
    id: ir::VarId,
    ty: Ty,
    span: Span,
    used: bool,
    is_for: bool,
}

pub(super) struct RuleChecker<'a> {
    globals: &'a Globals,
    program: &'a Program,
    file: FileId,
    schema: &'static Schema,
    pub(super) scope: Vec<Var>,
    names: Vec<String>,
    def_depth: usize,
    pub(super) diags: Vec<Diagnostic>,
    /// The type of every checked expression and binding, by span, when recording (for
    /// editors: hover and completion).
    pub(super) types: Option<Vec<(Span, Ty)>>,
    /// Whether the expression being checked is in a positive position (only `and`, `or`,
    /// `any` and `exists` above it): a relation call there is monotone.
    positive: bool,
    /// Every relation call checked: the relation, the call's span, whether positive.
    pub(super) rel_calls: Vec<(usize, Span, bool)>,
}

const WORKLOAD_ATTRS: &[Attr] = &[
    Attr::Containers,
    Attr::PodSpec,
    Attr::PodLabels,
    Attr::ServiceAccount,
    Attr::ServiceAccountName,
    Attr::AutomountsToken,
    Attr::Bindings,
    Attr::Services,
    Attr::IngressPolicies,
    Attr::EgressPolicies,
    Attr::Exposures,
];

/// The kinds of network policy that isolate pods (see `graph::netpol`).
pub(crate) const POLICY_KINDS: &[&str] = &[
    "NetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
];

const OBJECT_ATTRS: &[Attr] = &[
    Attr::Name,
    Attr::Namespace,
    Attr::Kind,
    Attr::Labels,
    Attr::Annotations,
    Attr::Owners,
    Attr::References,
    Attr::NamespaceObject,
    Attr::Live,
];

fn attr_by_name(name: &str) -> Option<Attr> {
    Attr::ALL.into_iter().find(|a| a.as_str() == name)
}

fn is_workload_set(k: &KindSet) -> bool {
    match k {
        KindSet::Workloads => true,
        KindSet::All => false,
        KindSet::Kinds(ks) | KindSet::PodsAnd(ks) => ks
            .iter()
            .all(|k| kinds::kind_by_name(k).is_some_and(BuiltinKind::is_workload)),
    }
}

fn only_kinds(k: &KindSet, allowed: &[&str]) -> bool {
    match k {
        KindSet::Kinds(ks) => ks.iter().all(|k| allowed.contains(&&**k)),
        _ => false,
    }
}

/// The attributes valid on objects of a kind set.
fn object_attrs(k: &KindSet) -> Vec<Attr> {
    let mut v = OBJECT_ATTRS.to_vec();
    if is_workload_set(k) || *k == KindSet::All {
        v.extend_from_slice(WORKLOAD_ATTRS);
    }
    if only_kinds(k, &["ServiceAccount"]) {
        v.push(Attr::Bindings);
    }
    if only_kinds(k, &["RoleBinding", "ClusterRoleBinding"]) {
        v.push(Attr::Role);
        v.push(Attr::ServiceAccounts);
    }
    if only_kinds(k, &["Role", "ClusterRole"]) {
        v.push(Attr::Rules);
    }
    if only_kinds(k, &["Ingress", "HTTPRoute"]) {
        v.push(Attr::Services);
    }
    if only_kinds(k, &["HorizontalPodAutoscaler"]) {
        v.push(Attr::Target);
    }
    if only_kinds(k, POLICY_KINDS) {
        v.push(Attr::IsolatesIngress);
        v.push(Attr::IsolatesEgress);
    }
    if only_kinds(k, &["Namespace"]) {
        v.push(Attr::DefaultDenyIngress);
        v.push(Attr::DefaultDenyEgress);
    }
    v
}

fn kinds_of(names: &[&str]) -> KindSet {
    KindSet::Kinds(names.iter().map(|n| Arc::from(*n)).collect())
}

/// Rough classes for comparison checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    Any,
    Null,
    Bool,
    Num,
    Str,
    Version,
    List,
    Map,
    Object,
}

impl Class {
    pub(super) fn name(self) -> &'static str {
        match self {
            Class::Any => "a value",
            Class::Null => "null",
            Class::Bool => "a boolean",
            Class::Num => "a number",
            Class::Str => "a string",
            Class::Version => "a version",
            Class::List => "a list",
            Class::Map => "a map",
            Class::Object => "an object",
        }
    }
}

pub(super) fn class(t: &Ty) -> Class {
    match t {
        Ty::Any => Class::Any,
        Ty::Null => Class::Null,
        Ty::Bool => Class::Bool,
        Ty::Number => Class::Num,
        Ty::Str => Class::Str,
        Ty::List(_) => Class::List,
        Ty::Version => Class::Version,
        Ty::Object(_) | Ty::Container | Ty::Image | Ty::Reference | Ty::Exposure => Class::Object,
        Ty::Union(fts) => {
            let classes: Vec<Class> = fts.iter().map(|f| class(&Ty::Data(*f))).collect();
            match classes.first() {
                Some(c) if classes.iter().all(|x| x == c) => *c,
                _ => Class::Any,
            }
        }
        Ty::Data(ft) => match ft {
            FieldType::String | FieldType::Time => Class::Str,
            FieldType::Integer | FieldType::Number => Class::Num,
            FieldType::Boolean => Class::Bool,
            FieldType::IntOrString | FieldType::Quantity | FieldType::Any => Class::Any,
            FieldType::StringMap | FieldType::Map(_) | FieldType::Object(_) => Class::Map,
            FieldType::List(_) => Class::List,
        },
    }
}

pub(super) fn elem_ty(t: &Ty) -> Option<Ty> {
    match t {
        Ty::List(e) => Some((**e).clone()),
        Ty::Data(FieldType::List(e)) => Some(Ty::Data(e.get())),
        Ty::Any | Ty::Data(FieldType::Any) | Ty::Null => Some(Ty::Any),
        Ty::Union(fts) => {
            let elems: Vec<FieldType> = fts
                .iter()
                .filter_map(|f| match f {
                    FieldType::List(e) => Some(e.get()),
                    _ => None,
                })
                .collect();
            (!elems.is_empty()).then(|| union(elems))
        }
        _ => None,
    }
}

/// The type of a value that may be any of these schema types.
fn union(mut fts: Vec<FieldType>) -> Ty {
    fts.dedup();
    let mut out: Vec<FieldType> = Vec::new();
    for f in fts {
        if f == FieldType::Any {
            return Ty::Any;
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    match out.as_slice() {
        [] => Ty::Any,
        [one] => Ty::Data(*one),
        _ => Ty::Union(out),
    }
}

fn is_boolish(t: &Ty) -> bool {
    matches!(class(t), Class::Bool | Class::Any | Class::Null)
}

impl<'a> RuleChecker<'a> {
    pub(super) fn new(globals: &'a Globals, program: &'a Program, file: FileId) -> Self {
        RuleChecker {
            globals,
            program,
            file,
            schema: Schema::bundled(),
            scope: Vec::new(),
            names: Vec::new(),
            def_depth: 0,
            diags: Vec::new(),
            types: None,
            positive: true,
            rel_calls: Vec::new(),
        }
    }

    pub(super) fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(super) fn bind(&mut self, name: &ast::Name, ty: Ty, is_for: bool) -> ir::VarId {
        if let Some(types) = self.types.as_mut() {
            types.push((name.loc.0, ty.clone()));
        }
        if let Some(v) = self.scope.iter().find(|v| v.name == name.text) {
            let first = v.span;
            self.err(
                Diagnostic::error("E0203", format!("`{}` is already bound", name.text))
                    .at(name.loc.0, "bound again here")
                    .with_label(first, "first bound here")
                    .with_help("choose another name"),
            );
        }
        let id = self.names.len();
        self.names.push(name.text.clone());
        self.scope.push(Var {
            name: name.text.clone(),
            id,
            ty,
            span: name.loc.0,
            used: false,
            is_for,
        });
        id
    }

    pub(super) fn rule(&mut self, r: &ast::Rule) -> Option<ir::Rule> {
        let mut title = None;
        let mut severity = None;
        let mut owasp = Vec::new();
        let mut refs = Vec::new();
        let mut fix = None;
        let mut tags = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        for m in &r.meta {
            let (key, span) = match m {
                ast::Meta::Title(s) => ("title", s.loc.0),
                ast::Meta::Severity(n) => ("severity", n.loc.0),
                ast::Meta::Owasp(v) => ("owasp", v.first().map_or(r.id.loc.0, |s| s.loc.0)),
                ast::Meta::Refs(v) => ("refs", v.first().map_or(r.id.loc.0, |s| s.loc.0)),
                ast::Meta::Fix(s) => ("fix", s.loc.0),
                ast::Meta::Tags(v) => ("tags", v.first().map_or(r.id.loc.0, |s| s.loc.0)),
            };
            if seen.contains(&key) {
                self.err(
                    Diagnostic::error("E0112", format!("`{key}` is given twice"))
                        .at(span, "given again here")
                        .with_help("merge the two lines into one"),
                );
            }
            seen.push(key);
            match m {
                ast::Meta::Title(s) => title = Some(s.value.clone()),
                ast::Meta::Severity(n) => match ir::Severity::parse(&n.text) {
                    Some(s) => severity = Some(s),
                    None => self.err(
                        Diagnostic::error("E0106", format!("unknown severity `{}`", n.text))
                            .at(n.loc.0, "not a severity")
                            .with_suggestion(&n.text, ir::Severity::ALL.iter().map(|s| s.as_str()))
                            .with_note("severities are info, low, medium, high and critical"),
                    ),
                },
                ast::Meta::Owasp(v) => {
                    for s in v {
                        if valid_owasp(&s.value) {
                            owasp.push(s.value.clone());
                        } else {
                            self.err(
                                Diagnostic::error(
                                    "E0107",
                                    format!(
                                        "`{}` is not an OWASP Kubernetes Top 10 category",
                                        s.value
                                    ),
                                )
                                .at(s.loc.0, "expected `K01:2022` to `K10:2025`")
                                .with_help("write the category and edition, e.g. `K01:2022`"),
                            );
                        }
                    }
                }
                ast::Meta::Refs(v) => refs.extend(v.iter().map(|s| s.value.clone())),
                ast::Meta::Fix(s) => fix = Some(s.value.clone()),
                ast::Meta::Tags(v) => tags.extend(v.iter().map(|s| s.value.clone())),
            }
        }
        if severity.is_none() && !seen.contains(&"severity") {
            self.err(
                Diagnostic::error("E0111", format!("rule `{}` has no severity", r.id.text))
                    .at(r.id.loc.0, "missing `severity`")
                    .with_help("add a line such as `severity medium`"),
            );
        }
        let (bindings, condition) = self.for_where(&r.bindings, r.condition.as_ref())?;
        let report_at = match &r.report.at {
            Some(e) => Some(self.expr(e)?.0),
            None => None,
        };
        let mut message = Vec::new();
        for part in &r.report.message.parts {
            message.push(match part {
                ast::MessagePart::Text(t) => ir::MessagePart::Text(t.clone()),
                ast::MessagePart::Expr(e) => ir::MessagePart::Expr(self.expr(e)?.0),
            });
        }
        let autofix = match &r.fix {
            Some(f) => Some(self.fix(f)?),
            None => None,
        };
        self.warn_unused();
        Some(ir::Rule {
            id: r.id.text.clone(),
            name: r.name.text.clone(),
            title: title.unwrap_or_default(),
            severity: severity.unwrap_or(ir::Severity::Medium),
            owasp,
            refs,
            fix: fix.unwrap_or_default(),
            tags,
            docs: r.docs.join("\n"),
            file: self.file,
            span: r.loc.0,
            id_span: r.id.loc.0,
            vars: std::mem::take(&mut self.names),
            bindings,
            condition,
            report_at,
            message,
            autofix,
        })
    }

    pub(super) fn condition(&mut self, e: &ast::Expr) -> Option<ir::Expr> {
        let (x, t) = self.expr(e)?;
        if !is_boolish(&t) {
            self.err(
                Diagnostic::error(
                    "E0305",
                    format!("a condition must be a boolean, not {}", class(&t).name()),
                )
                .at(e.span(), format!("this is {}", class(&t).name()))
                .with_help("compare it, e.g. `x == \"value\"` or `x != null`"),
            );
            return None;
        }
        Some(x)
    }

    /// A `for` or quantifier source.
    pub(super) fn source(&mut self, e: &ast::Expr) -> Option<(Source, Ty)> {
        let (name, ns) = match &e.kind {
            ExprKind::Var(v) => (Some((v.as_str(), e.span())), None),
            ExprKind::Call(n, args) if self.kind_source(&n.text).is_some() => {
                if args.len() > 1 {
                    self.err(
                        Diagnostic::error(
                            "E0302",
                            format!("`{}(...)` takes one namespace, not {}", n.text, args.len()),
                        )
                        .at(e.span(), "too many arguments"),
                    );
                    return None;
                }
                (Some((n.text.as_str(), n.loc.0)), args.first())
            }
            _ => (None, None),
        };
        if let Some((name, span)) = name {
            if self.lookup_var(name).is_none() {
                if let Some(kinds) = self.kind_source(name) {
                    let namespace = match ns {
                        Some(n) => {
                            let (x, t) = self.expr(n)?;
                            if !matches!(class(&t), Class::Str | Class::Any | Class::Null) {
                                self.err(
                                    Diagnostic::error("E0301", "a namespace must be a string")
                                        .at(n.span(), format!("this is {}", class(&t).name())),
                                );
                            }
                            Some(Box::new(x))
                        }
                        None => None,
                    };
                    let ty = Ty::Object(kinds.clone());
                    return Some((Source::Scan { kinds, namespace }, ty));
                }
                if !self.globals.params.contains_key(name)
                    && !self.globals.tables.contains_key(name)
                {
                    let mut cands: Vec<&str> = kinds::all_plurals().collect();
                    cands.extend(["workloads", "objects", "all_roles", "all_bindings"]);
                    let names: Vec<String> = self.scope.iter().map(|v| v.name.clone()).collect();
                    cands.extend(names.iter().map(String::as_str));
                    self.err(
                        Diagnostic::error("E0101", format!("unknown kind or name `{name}`"))
                            .at(span, "not a kind, binding, parameter or table")
                            .with_suggestion(name, cands),
                    );
                    return None;
                }
            }
        }
        let (x, t) = self.expr(e)?;
        match elem_ty(&t) {
            Some(el) => Some((Source::Expr(Box::new(x)), el)),
            None => {
                self.err(
                    Diagnostic::error(
                        "E0304",
                        format!("cannot range over {}", class(&t).name()),
                    )
                    .at(e.span(), "not a list or a kind")
                    .with_help("range over a kind (`pods`), `workloads`, or a list such as `w.containers`"),
                );
                None
            }
        }
    }

    fn kind_source(&self, name: &str) -> Option<KindSet> {
        match name {
            "workloads" => Some(KindSet::Workloads),
            "objects" => Some(KindSet::All),
            "all_roles" => Some(kinds_of(&["Role", "ClusterRole"])),
            "all_bindings" => Some(kinds_of(&["RoleBinding", "ClusterRoleBinding"])),
            _ => kinds::kind_by_plural(name).map(|k| kinds_of(&[k.kind])),
        }
    }

    pub(super) fn lookup_var(&mut self, name: &str) -> Option<(ir::VarId, Ty)> {
        let v = self.scope.iter_mut().rev().find(|v| v.name == name)?;
        v.used = true;
        Some((v.id, v.ty.clone()))
    }

    /// Checks an expression; `None` after reporting an error.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> Option<(ir::Expr, Ty)> {
        let saved = self.positive;
        let keeps = matches!(
            &e.kind,
            ExprKind::Binary(BinaryOp::And | BinaryOp::Or, ..)
                | ExprKind::Quantified {
                    quant: Quant::Any | Quant::Exists,
                    ..
                }
                | ExprKind::Call(..)
        );
        if !keeps {
            self.positive = false;
        }
        let out = self.expr_inner(e);
        self.positive = saved;
        let out = out?;
        if let Some(types) = self.types.as_mut() {
            types.push((e.span(), out.1.clone()));
        }
        Some(out)
    }

    fn expr_inner(&mut self, e: &ast::Expr) -> Option<(ir::Expr, Ty)> {
        let span = e.span();
        Some(match &e.kind {
            ExprKind::Null => (ir::Expr::Const(Const::Null), Ty::Null),
            ExprKind::Bool(b) => (ir::Expr::Const(Const::Bool(*b)), Ty::Bool),
            ExprKind::Int(i) => (ir::Expr::Const(Const::Int(*i)), Ty::Number),
            ExprKind::Float(f) => (ir::Expr::Const(Const::Float(*f)), Ty::Number),
            ExprKind::Str(s) => (ir::Expr::Const(Const::Str(Arc::from(s.as_str()))), Ty::Str),
            ExprKind::List(items) => {
                let mut out = Vec::new();
                let mut el = None;
                for i in items {
                    let (x, t) = self.expr(i)?;
                    el.get_or_insert(t);
                    out.push(x);
                }
                (
                    ir::Expr::List(out),
                    Ty::List(Box::new(el.unwrap_or(Ty::Any))),
                )
            }
            ExprKind::Var(name) => self.var(name, span)?,
            ExprKind::Field(base, name) => {
                let (b, t) = self.expr(base)?;
                self.field(b, t, name)?
            }
            ExprKind::Index(base, idx) => {
                let (b, t) = self.expr(base)?;
                let (i, it) = self.expr(idx)?;
                let out = match &t {
                    Ty::Data(FieldType::List(e)) => Ty::Data(e.get()),
                    Ty::Data(FieldType::Map(e)) => Ty::Data(e.get()),
                    Ty::Data(FieldType::StringMap) => Ty::Str,
                    Ty::List(e) => (**e).clone(),
                    Ty::Any | Ty::Null | Ty::Data(FieldType::Any) => Ty::Any,
                    other => {
                        self.err(
                            Diagnostic::error(
                                "E0301",
                                format!("cannot index {}", class(other).name()),
                            )
                            .at(base.span(), format!("this is {}", class(other).name()))
                            .with_help("index lists with a number and maps with a string key"),
                        );
                        return None;
                    }
                };
                let _ = it;
                (ir::Expr::Index(Box::new(b), Box::new(i)), out)
            }
            ExprKind::Call(name, args) => self.call(name, args, span)?,
            ExprKind::Unary(_, x) => {
                let x = self.condition(x)?;
                (ir::Expr::Not(Box::new(x)), Ty::Bool)
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r)?,
            ExprKind::Quantified {
                quant,
                var,
                source,
                cond,
            } => {
                let depth = self.scope.len();
                let (src, el) = self.source(source)?;
                let id = self.bind(var, el, false);
                let c = match cond {
                    Some(c) => Some(Box::new(self.condition(c)?)),
                    None => None,
                };
                self.scope.truncate(depth);
                let ty = if *quant == Quant::Count {
                    Ty::Number
                } else {
                    Ty::Bool
                };
                (
                    ir::Expr::Quant {
                        quant: *quant,
                        var: id,
                        source: src,
                        cond: c,
                    },
                    ty,
                )
            }
        })
    }

    fn var(&mut self, name: &str, span: Span) -> Option<(ir::Expr, Ty)> {
        if let Some((id, ty)) = self.lookup_var(name) {
            return Some((ir::Expr::Var(id), ty));
        }
        if let Some((idx, ty)) = self.globals.params.get(name) {
            return Some((ir::Expr::Param(*idx), ty.clone()));
        }
        if let Some(idx) = self.globals.tables.get(name) {
            let _ = self.program;
            return Some((ir::Expr::Table(*idx), Ty::List(Box::new(Ty::Any))));
        }
        if self.kind_source(name).is_some() {
            self.err(
                Diagnostic::error("E0101", format!("`{name}` is a kind, not a value"))
                    .at(span, "a kind can only be ranged over")
                    .with_help(format!(
                        "write `exists x in {name} where ...` or `for x in {name}`"
                    )),
            );
            return None;
        }
        let mut cands: Vec<String> = self.scope.iter().map(|v| v.name.clone()).collect();
        cands.extend(self.globals.params.keys().cloned());
        cands.extend(self.globals.tables.keys().cloned());
        self.err(
            Diagnostic::error("E0103", format!("unknown name `{name}`"))
                .at(span, "not a binding, parameter or table")
                .with_suggestion(name, cands.iter().map(String::as_str)),
        );
        None
    }

    fn attr_ty(&self, a: Attr) -> Ty {
        let named = |n: &str| {
            self.schema
                .type_by_name(n)
                .map_or(Ty::Any, |t| Ty::Data(FieldType::Object(t)))
        };
        match a {
            Attr::Name
            | Attr::Namespace
            | Attr::Kind
            | Attr::ServiceAccountName
            | Attr::ContainerType => Ty::Str,
            Attr::Labels | Attr::Annotations | Attr::PodLabels => Ty::Data(FieldType::StringMap),
            Attr::Owners => Ty::List(Box::new(Ty::Object(KindSet::All))),
            Attr::Containers => Ty::List(Box::new(Ty::Container)),
            Attr::PodSpec => named("io.k8s.api.core.v1.PodSpec"),
            Attr::ServiceAccount => Ty::Object(kinds_of(&["ServiceAccount"])),
            Attr::AutomountsToken | Attr::IsolatesIngress | Attr::IsolatesEgress | Attr::Live => {
                Ty::Bool
            }
            Attr::Exposures => Ty::List(Box::new(Ty::Exposure)),
            Attr::Bindings => Ty::List(Box::new(Ty::Object(kinds_of(&[
                "RoleBinding",
                "ClusterRoleBinding",
            ])))),
            Attr::ServiceAccounts => Ty::List(Box::new(Ty::Object(kinds_of(&["ServiceAccount"])))),
            Attr::Role => Ty::Object(kinds_of(&["Role", "ClusterRole"])),
            Attr::Rules => Ty::List(Box::new(named("io.k8s.api.rbac.v1.PolicyRule"))),
            Attr::References => Ty::List(Box::new(Ty::Reference)),
            Attr::Services => Ty::List(Box::new(Ty::Object(kinds_of(&["Service"])))),
            Attr::IngressPolicies
            | Attr::EgressPolicies
            | Attr::DefaultDenyIngress
            | Attr::DefaultDenyEgress => Ty::List(Box::new(Ty::Object(kinds_of(POLICY_KINDS)))),
            Attr::Target => Ty::Object(KindSet::All),
            Attr::NamespaceObject => Ty::Object(kinds_of(&["Namespace"])),
        }
    }

    fn object_types(&self, k: &KindSet) -> Option<Vec<TypeId>> {
        let names: Vec<&str> = match k {
            KindSet::All | KindSet::PodsAnd(_) => return None,
            KindSet::Workloads => kinds::KINDS
                .iter()
                // built-in workload kinds only: CRD workloads are read through the
                // normalized attributes (`podSpec`, `containers`)
                .filter(|k| k.is_workload() && k.origin == kinds::Origin::BuiltIn)
                .map(|k| k.kind)
                .collect(),
            KindSet::Kinds(ks) => ks.iter().map(|k| &**k).collect(),
        };
        let mut out = Vec::new();
        for n in names {
            match kinds::kind_by_name(n)
                .and_then(|k| self.schema.kind_in(k.group, k.kind))
                .or_else(|| self.schema.kind(n))
            {
                Some(t) => out.push(t),
                // a CRD or unknown kind: its fields cannot be checked
                None => return None,
            }
        }
        Some(out)
    }

    fn field(&mut self, base: ir::Expr, t: Ty, name: &ast::Name) -> Option<(ir::Expr, Ty)> {
        let field = || Arc::from(name.text.as_str());
        match &t {
            Ty::Object(k) => {
                let attrs = object_attrs(k);
                if let Some(a) = attr_by_name(&name.text).filter(|a| attrs.contains(a)) {
                    let ty = self.attr_ty(a);
                    return Some((ir::Expr::Attr(Box::new(base), a), ty));
                }
                let Some(types) = self.object_types(k) else {
                    return Some((ir::Expr::Field(Box::new(base), field()), Ty::Any));
                };
                let found: Vec<FieldType> = types
                    .iter()
                    .filter_map(|ty| self.schema.field(*ty, &name.text))
                    .collect();
                match found.is_empty() {
                    false => Some((ir::Expr::Field(Box::new(base), field()), union(found))),
                    true => {
                        let mut cands: Vec<String> =
                            attrs.iter().map(|a| a.as_str().to_string()).collect();
                        for ty in &types {
                            cands.extend(self.schema.field_names(*ty).map(str::to_string));
                        }
                        let related = attr_by_name(&name.text)
                            .map(|a| format!("`{}` is only available on other kinds", a.as_str()));
                        let mut d = Diagnostic::error(
                            "E0104",
                            format!("{k} have no field or relation `{}`", name.text),
                        )
                        .at(name.loc.0, "unknown field")
                        .with_suggestion(&name.text, cands.iter().map(String::as_str));
                        if let Some(note) = related {
                            d = d.with_note(note);
                        }
                        self.err(d);
                        None
                    }
                }
            }
            Ty::Container => {
                if name.text == "containerType" {
                    return Some((ir::Expr::Attr(Box::new(base), Attr::ContainerType), Ty::Str));
                }
                let ty = self.schema.type_by_name("io.k8s.api.core.v1.Container");
                self.data_field(
                    base,
                    ty.map(FieldType::Object).unwrap_or(FieldType::Any),
                    name,
                    &["containerType"],
                )
            }
            Ty::Data(ft) => self.data_field(base, *ft, name, &[]),
            Ty::Union(fts) => self.union_field(base, fts.clone(), name),
            Ty::Any | Ty::Null => Some((ir::Expr::Field(Box::new(base), field()), Ty::Any)),
            Ty::Image => {
                const F: &[&str] = &[
                    "registry",
                    "repository",
                    "tag",
                    "digest",
                    "malformedDigest",
                    "name",
                ];
                self.record_field(base, name, F, |_| Ty::Str)
            }
            Ty::Exposure => {
                const F: &[&str] = &["via", "service", "route", "gateway", "path"];
                self.record_field(base, name, F, |f| match f {
                    "service" => Ty::Object(kinds_of(&["Service"])),
                    "route" | "gateway" => Ty::Object(KindSet::All),
                    _ => Ty::Str,
                })
            }
            Ty::Reference => {
                const F: &[&str] = &["kind", "name", "namespace", "via", "target", "missing"];
                self.record_field(base, name, F, |f| match f {
                    "target" => Ty::Object(KindSet::All),
                    "missing" => Ty::Bool,
                    _ => Ty::Str,
                })
            }
            other => {
                self.err(
                    Diagnostic::error("E0301", format!("{} has no fields", class(other).name()))
                        .at(name.loc.0, format!("`{}` cannot be read here", name.text)),
                );
                None
            }
        }
    }

    fn record_field(
        &mut self,
        base: ir::Expr,
        name: &ast::Name,
        fields: &[&str],
        ty: impl Fn(&str) -> Ty,
    ) -> Option<(ir::Expr, Ty)> {
        if fields.contains(&name.text.as_str()) {
            return Some((
                ir::Expr::Field(Box::new(base), Arc::from(name.text.as_str())),
                ty(&name.text),
            ));
        }
        self.err(
            Diagnostic::error("E0104", format!("no field `{}` here", name.text))
                .at(name.loc.0, "unknown field")
                .with_suggestion(&name.text, fields.iter().copied())
                .with_note(format!("the fields are {}", fields.join(", "))),
        );
        None
    }

    fn union_field(
        &mut self,
        base: ir::Expr,
        fts: Vec<FieldType>,
        name: &ast::Name,
    ) -> Option<(ir::Expr, Ty)> {
        let mut found = Vec::new();
        let mut cands: Vec<String> = Vec::new();
        for ft in &fts {
            match ft {
                FieldType::Object(t) => match self.schema.field(*t, &name.text) {
                    Some(f) => found.push(f),
                    None => cands.extend(self.schema.field_names(*t).map(str::to_string)),
                },
                FieldType::StringMap => found.push(FieldType::String),
                FieldType::Map(e) => found.push(e.get()),
                FieldType::Any => found.push(FieldType::Any),
                _ => {}
            }
        }
        if found.is_empty() {
            cands.sort();
            cands.dedup();
            self.err(
                Diagnostic::error("E0104", format!("no field `{}` here", name.text))
                    .at(name.loc.0, "unknown field")
                    .with_suggestion(&name.text, cands.iter().map(String::as_str)),
            );
            return None;
        }
        Some((
            ir::Expr::Field(Box::new(base), Arc::from(name.text.as_str())),
            union(found),
        ))
    }

    fn data_field(
        &mut self,
        base: ir::Expr,
        ft: FieldType,
        name: &ast::Name,
        extra: &[&str],
    ) -> Option<(ir::Expr, Ty)> {
        let out = ir::Expr::Field(Box::new(base), Arc::from(name.text.as_str()));
        match ft {
            FieldType::Object(t) => match self.schema.field(t, &name.text) {
                Some(f) => Some((out, Ty::Data(f))),
                None => {
                    let mut cands: Vec<&str> = self.schema.field_names(t).collect();
                    cands.extend_from_slice(extra);
                    let tname = self.schema.type_name(t);
                    let short = tname.rsplit('.').next().unwrap_or(tname).to_string();
                    self.err(
                        Diagnostic::error(
                            "E0104",
                            format!("`{short}` has no field `{}`", name.text),
                        )
                        .at(name.loc.0, "unknown field")
                        .with_suggestion(&name.text, cands),
                    );
                    None
                }
            },
            FieldType::StringMap => Some((out, Ty::Str)),
            FieldType::Map(e) => Some((out, Ty::Data(e.get()))),
            FieldType::Any => Some((out, Ty::Any)),
            FieldType::List(_) => {
                self.err(
                    Diagnostic::error("E0301", format!("cannot read `{}` of a list", name.text))
                        .at(name.loc.0, "the value before this is a list")
                        .with_help(format!(
                            "quantify over it: `any x in <list> where x.{} ...`",
                            name.text
                        )),
                );
                None
            }
            scalar => {
                self.err(
                    Diagnostic::error(
                        "E0301",
                        format!(
                            "cannot read `{}` of {}",
                            name.text,
                            self.schema.describe(scalar)
                        ),
                    )
                    .at(name.loc.0, "the value before this has no fields"),
                );
                None
            }
        }
    }

    fn call(&mut self, name: &ast::Name, args: &[ast::Expr], span: Span) -> Option<(ir::Expr, Ty)> {
        if let Some(def) = self.globals.defs.get(&name.text) {
            return self.inline(def, args, span);
        }
        if let Some(sig) = self.globals.relations.get(&name.text) {
            return self.relation_call(sig, name, args, span);
        }
        // a built-in's arguments are values, never positions of a condition
        self.positive = false;
        if self.kind_source(&name.text).is_some() {
            self.err(
                Diagnostic::error("E0101", format!("`{}` is a kind, not a value", name.text))
                    .at(span, "a kind can only be ranged over")
                    .with_help(format!("write `exists x in {}(...) where ...`", name.text)),
            );
            return None;
        }
        let Some((_, b, arity)) = Builtin::TABLE.iter().find(|(n, _, _)| *n == name.text) else {
            let mut cands: Vec<&str> = Builtin::TABLE.iter().map(|(n, _, _)| *n).collect();
            cands.extend(self.globals.defs.keys().map(String::as_str));
            self.err(
                Diagnostic::error("E0102", format!("unknown function `{}`", name.text))
                    .at(name.loc.0, "not a built-in function or `def`")
                    .with_suggestion(&name.text, cands),
            );
            return None;
        };
        if args.len() != *arity {
            self.err(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` takes {arity} argument{}, not {}",
                        name.text,
                        if *arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .at(span, format!("called with {}", args.len())),
            );
            return None;
        }
        let mut xs = Vec::new();
        let mut ts = Vec::new();
        for a in args {
            let (x, t) = self.expr(a)?;
            xs.push(x);
            ts.push(t);
        }
        let want = |i: usize, ok: bool, what: &str, me: &mut Self| -> bool {
            if !ok {
                let (sp, got) = (
                    args.get(i).map_or(span, ast::Expr::span),
                    ts.get(i).map_or(Class::Any, class),
                );
                me.err(
                    Diagnostic::error(
                        "E0301",
                        format!("`{}` expects {what} here, not {}", name.text, got.name()),
                    )
                    .at(sp, format!("expected {what}")),
                );
            }
            ok
        };
        let t0 = ts.first().cloned().unwrap_or(Ty::Any);
        let t1 = ts.get(1).cloned().unwrap_or(Ty::Any);
        let strish = |t: &Ty| matches!(class(t), Class::Str | Class::Any | Class::Null);
        let ok = match b {
            Builtin::Effective => {
                want(
                    0,
                    matches!(t0, Ty::Container | Ty::Any),
                    "a container",
                    self,
                ) && want(1, matches!(t1, Ty::Object(_) | Ty::Any), "a workload", self)
            }
            Builtin::Flag | Builtin::Flags | Builtin::HasFlag => {
                want(
                    0,
                    matches!(t0, Ty::Container | Ty::Any),
                    "a container",
                    self,
                ) && want(1, strish(&t1), "a flag name string", self)
            }
            Builtin::Image | Builtin::Lower | Builtin::Upper | Builtin::Trim => {
                want(0, strish(&t0), "a string", self)
            }
            Builtin::Split => {
                want(0, strish(&t0), "a string", self) && want(1, strish(&t1), "a string", self)
            }
            Builtin::Keys | Builtin::Values => want(
                0,
                matches!(class(&t0), Class::Map | Class::Any | Class::Null),
                "a map",
                self,
            ),
            _ => true,
        };
        if !ok {
            return None;
        }
        let ty = match b {
            Builtin::Effective => self
                .schema
                .type_by_name("io.k8s.api.core.v1.SecurityContext")
                .map_or(Ty::Any, |t| Ty::Data(FieldType::Object(t))),
            Builtin::Image => Ty::Image,
            Builtin::Quantity | Builtin::Len => Ty::Number,
            Builtin::Version => Ty::Version,
            Builtin::Flag
            | Builtin::Lower
            | Builtin::Upper
            | Builtin::Trim
            | Builtin::String
            | Builtin::Raw => Ty::Str,
            Builtin::Flags | Builtin::Split | Builtin::Keys => Ty::List(Box::new(Ty::Str)),
            Builtin::Values => Ty::List(Box::new(Ty::Any)),
            Builtin::HasFlag | Builtin::Quoted => Ty::Bool,
        };
        Some((ir::Expr::Call(*b, xs), ty))
    }

    /// A call of a relation: with every argument a condition, with the last one left out
    /// the list of objects that complete the tuple.
    fn relation_call(
        &mut self,
        sig: &'a super::RelationSig,
        name: &ast::Name,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<(ir::Expr, Ty)> {
        let arity = sig.columns.len();
        if args.len() != arity && args.len() + 1 != arity {
            self.err(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` takes {arity} argument{}, not {}",
                        name.text,
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .at(span, format!("called with {}", args.len()))
                .with_label(sig.name_span, "defined here")
                .with_help(format!(
                    "pass every argument for a condition, or leave out the last one for the objects it relates them to (`{}` has {} column{})",
                    name.text,
                    arity,
                    if arity == 1 { "" } else { "s" }
                )),
            );
            return None;
        }
        self.rel_calls.push((sig.id, span, self.positive));
        self.positive = false;
        let mut xs = Vec::new();
        for a in args {
            let (x, t) = self.expr(a)?;
            if !matches!(t, Ty::Object(_) | Ty::Any | Ty::Null) {
                self.err(
                    Diagnostic::error(
                        "E0301",
                        format!("`{}` relates objects, not {}", name.text, class(&t).name()),
                    )
                    .at(a.span(), format!("this is {}", class(&t).name()))
                    .with_help(
                        "pass a binding that holds an object, such as `w` of `for w in workloads`",
                    ),
                );
                return None;
            }
            xs.push(x);
        }
        let ty = if args.len() == arity {
            Ty::Bool
        } else {
            let last = sig.columns.last().cloned().unwrap_or(KindSet::All);
            Ty::List(Box::new(Ty::Object(last)))
        };
        Some((
            ir::Expr::Relation {
                rel: sig.id,
                name: Arc::from(name.text.as_str()),
                args: xs,
            },
            ty,
        ))
    }

    /// Checks `for` bindings (binding each variable in turn) and the `where` condition of a
    /// rule or a relation's case.
    fn for_where(
        &mut self,
        bindings: &[ast::Binding],
        condition: Option<&ast::Expr>,
    ) -> Option<(Vec<ir::Binding>, Option<ir::Expr>)> {
        let mut out = Vec::new();
        for b in bindings {
            let (source, ty) = self.source(&b.source)?;
            let var = self.bind(&b.var, ty, true);
            out.push(ir::Binding { var, source });
        }
        let condition = match condition {
            Some(c) => Some(self.condition(c)?),
            None => None,
        };
        Some((out, condition))
    }

    /// Checks one case of a relation; also returns the kinds of each column in this case.
    pub(super) fn case(
        &mut self,
        r: &ast::Relation,
        c: &ast::Case,
    ) -> Option<(ir::Case, Vec<KindSet>)> {
        self.positive = true;
        let (bindings, condition) = self.for_where(&c.bindings, c.condition.as_ref())?;
        self.positive = false;
        let mut head = Vec::new();
        let mut columns = Vec::new();
        let mut ok = true;
        for p in &r.params {
            let Some(v) = self.scope.iter_mut().find(|v| v.is_for && v.name == p.text) else {
                let at = c.bindings.first().map_or(c.loc.0, |b| b.var.loc.0);
                self.err(
                    Diagnostic::error(
                        "E0116",
                        format!(
                            "parameter `{}` of relation `{}` is not bound in this case",
                            p.text, r.name.text
                        ),
                    )
                    .at(at, format!("no `{} in ...` here", p.text))
                    .with_label(p.loc.0, "parameter declared here")
                    .with_help(format!(
                        "every case binds every parameter in its `for` clause, e.g. `for {} in serviceaccounts`",
                        p.text
                    )),
                );
                ok = false;
                continue;
            };
            v.used = true;
            head.push(v.id);
            match &v.ty {
                Ty::Object(k) => columns.push(k.clone()),
                Ty::Any => columns.push(KindSet::All),
                other => {
                    let what = match other {
                        Ty::Container => "a container",
                        Ty::Reference | Ty::Exposure => "a record",
                        _ => class(other).name(),
                    };
                    let span = v.span;
                    self.err(
                        Diagnostic::error(
                            "E0306",
                            format!("relation columns hold objects, and `{}` is {what}", p.text),
                        )
                        .at(span, format!("this binds {what}"))
                        .with_help("bind the parameter to objects: a kind, `workloads`, or an attribute such as `w.serviceAccount`"),
                    );
                    ok = false;
                }
            }
        }
        let step = match &c.step {
            Some(s) => {
                let at = match &s.at {
                    Some(e) => Some(self.expr(e)?.0),
                    None => None,
                };
                let mut message = Vec::new();
                for part in &s.message.parts {
                    message.push(match part {
                        ast::MessagePart::Text(t) => ir::MessagePart::Text(t.clone()),
                        ast::MessagePart::Expr(e) => ir::MessagePart::Expr(self.expr(e)?.0),
                    });
                }
                Some(ir::Step { at, message })
            }
            None => None,
        };
        self.warn_unused();
        if !ok {
            return None;
        }
        Some((
            ir::Case {
                vars: std::mem::take(&mut self.names),
                bindings,
                condition,
                head,
                step,
                semi_naive: false,
            },
            columns,
        ))
    }

    fn warn_unused(&mut self) {
        let unused: Vec<(String, Span)> = self
            .scope
            .iter()
            .filter(|v| v.is_for && !v.used && !v.name.starts_with('_'))
            .map(|v| (v.name.clone(), v.span))
            .collect();
        for (name, span) in unused {
            self.err(
                Diagnostic::warning("W0401", format!("binding `{name}` is never used"))
                    .at(span, "bound here")
                    .with_help(format!(
                        "use it, or name it `_{name}` to say it is deliberate"
                    )),
            );
        }
    }

    fn inline(&mut self, def: &ast::Def, args: &[ast::Expr], span: Span) -> Option<(ir::Expr, Ty)> {
        if args.len() != def.params.len() {
            self.err(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` takes {} argument{}, not {}",
                        def.name.text,
                        def.params.len(),
                        if def.params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
                .at(span, format!("called with {}", args.len()))
                .with_label(def.name.loc.0, "defined here"),
            );
            return None;
        }
        if self.def_depth >= MAX_DEF_DEPTH {
            self.err(
                Diagnostic::error(
                    "E0114",
                    format!("`{}` calls itself or nests too deeply", def.name.text),
                )
                .at(span, "called here")
                .with_label(def.name.loc.0, "defined here")
                .with_help("predicates cannot be recursive"),
            );
            return None;
        }
        let body = substitute(&def.body, &def.params, args);
        self.def_depth += 1;
        let out = self.expr(&body);
        self.def_depth -= 1;
        out
    }

    fn binary(&mut self, op: BinaryOp, l: &ast::Expr, r: &ast::Expr) -> Option<(ir::Expr, Ty)> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let a = self.condition(l);
                let b = self.condition(r);
                let (a, b) = (Box::new(a?), Box::new(b?));
                return Some((
                    if op == BinaryOp::And {
                        ir::Expr::And(a, b)
                    } else {
                        ir::Expr::Or(a, b)
                    },
                    Ty::Bool,
                ));
            }
            BinaryOp::Matches => {
                let (a, t) = self.expr(l)?;
                if !matches!(class(&t), Class::Str | Class::Any | Class::Null) {
                    self.err(
                        Diagnostic::error(
                            "E0301",
                            format!("`matches` needs a string, not {}", class(&t).name()),
                        )
                        .at(l.span(), format!("this is {}", class(&t).name())),
                    );
                    return None;
                }
                let ExprKind::Str(pat) = &r.kind else {
                    self.err(
                        Diagnostic::error("E0303", "a regular expression must be a string literal")
                            .at(r.span(), "not a string literal"),
                    );
                    return None;
                };
                return match super::ahead::regex(pat) {
                    Ok(re) => Some((ir::Expr::Matches(Box::new(a), ir::Pattern(re)), Ty::Bool)),
                    Err(e) => {
                        let msg = e.to_string();
                        let last = msg
                            .lines()
                            .last()
                            .unwrap_or("invalid")
                            .trim()
                            .to_lowercase();
                        self.err(
                            Diagnostic::error("E0303", "invalid regular expression")
                                .at(r.span(), last.trim_start_matches("error: ").to_string())
                                .with_note("kanon's regular expressions run in linear time: no look-around or backreferences"),
                        );
                        None
                    }
                };
            }
            _ => {}
        }
        let (a, ta) = self.expr(l)?;
        let (b, tb) = self.expr(r)?;
        let (ca, cb) = (class(&ta), class(&tb));
        let mismatch = |me: &mut Self, help: Option<String>| {
            let mut d = Diagnostic::error(
                "E0301",
                format!(
                    "`{}` compares {} with {}",
                    op.as_str(),
                    ca.name(),
                    cb.name()
                ),
            )
            .at(r.span(), format!("this is {}", cb.name()))
            .with_label(l.span(), format!("this is {}", ca.name()));
            if let Some(h) = help {
                d = d.with_help(h);
            }
            me.err(d);
        };
        let loose = |c: Class| matches!(c, Class::Any | Class::Null);
        let help_for = |ca: Class, cb: Class, r: &ast::Expr| -> Option<String> {
            match (ca, cb, &r.kind) {
                (Class::Bool, Class::Str, ExprKind::Str(s)) if s == "true" || s == "false" => {
                    Some(format!("write `{s}` without quotes"))
                }
                (Class::Num, Class::Str, ExprKind::Str(s)) if s.parse::<f64>().is_ok() => {
                    Some(format!("write `{s}` without quotes"))
                }
                _ => None,
            }
        };
        match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                if !(loose(ca) || loose(cb) || ca == cb) {
                    let h = help_for(ca, cb, r);
                    mismatch(self, h);
                    return None;
                }
                comparison(op, a, b)
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let quantity = matches!(ta, Ty::Data(FieldType::Quantity))
                    || matches!(tb, Ty::Data(FieldType::Quantity));
                if quantity {
                    mismatch(
                        self,
                        Some(
                            "compare quantities as numbers: `quantity(x) > quantity(\"1Gi\")`"
                                .into(),
                        ),
                    );
                    return None;
                }
                let ordered = |c: Class| {
                    matches!(
                        c,
                        Class::Num | Class::Str | Class::Version | Class::Any | Class::Null
                    )
                };
                if !(ordered(ca) && ordered(cb)) || !(loose(ca) || loose(cb) || ca == cb) {
                    let h = if ca == Class::Version || cb == Class::Version {
                        Some("compare versions with versions: `version(\"1.28\")`".to_string())
                    } else {
                        help_for(ca, cb, r)
                    };
                    mismatch(self, h);
                    return None;
                }
                comparison(op, a, b)
            }
            BinaryOp::In | BinaryOp::NotIn => {
                let Some(el) = elem_ty(&tb).or_else(|| matches!(cb, Class::Map).then_some(Ty::Str))
                else {
                    self.err(
                        Diagnostic::error(
                            "E0301",
                            format!(
                                "`{}` needs a list on its right, not {}",
                                op.as_str(),
                                cb.name()
                            ),
                        )
                        .at(r.span(), format!("this is {}", cb.name())),
                    );
                    return None;
                };
                let ce = class(&el);
                if !(loose(ca) || loose(ce) || ca == ce) {
                    self.err(
                        Diagnostic::error(
                            "E0301",
                            format!(
                                "`{}` looks for {} in a list of {}",
                                op.as_str(),
                                ca.name(),
                                ce.name()
                            ),
                        )
                        .at(l.span(), format!("this is {}", ca.name())),
                    );
                    return None;
                }
                comparison(op, a, b)
            }
            BinaryOp::Contains => {
                let ok = match ca {
                    Class::Str => matches!(cb, Class::Str | Class::Any | Class::Null),
                    Class::List | Class::Map | Class::Any | Class::Null => true,
                    _ => false,
                };
                if !ok {
                    mismatch(
                        self,
                        Some(
                            "`contains` looks for a substring in a string or an element in a list"
                                .into(),
                        ),
                    );
                    return None;
                }
                comparison(op, a, b)
            }
            BinaryOp::StartsWith | BinaryOp::EndsWith => {
                let s = |c: Class| matches!(c, Class::Str | Class::Any | Class::Null);
                if !(s(ca) && s(cb)) {
                    mismatch(self, Some(format!("`{}` works on strings", op.as_str())));
                    return None;
                }
                comparison(op, a, b)
            }
            BinaryOp::Selects => {
                let selector = matches!(&ta, Ty::Object(k) if only_kinds(k, &[POLICY_KINDS, &["Service", "PodDisruptionBudget"]].concat()))
                    || matches!(ta, Ty::Any);
                if !selector {
                    self.err(
                        Diagnostic::error("E0301", "only a network policy, Service or PodDisruptionBudget selects workloads")
                            .at(l.span(), "this does not select by labels")
                            .with_help("write `np selects w` with `np` a NetworkPolicy"),
                    );
                    return None;
                }
                if !matches!(tb, Ty::Object(_) | Ty::Any) {
                    self.err(
                        Diagnostic::error(
                            "E0301",
                            format!("`selects` needs a workload on its right, not {}", cb.name()),
                        )
                        .at(r.span(), "not an object"),
                    );
                    return None;
                }
                Some((ir::Expr::Selects(Box::new(a), Box::new(b)), Ty::Bool))
            }
            BinaryOp::Coalesce => {
                let ty = if loose(ca) { tb } else { ta };
                Some((ir::Expr::Coalesce(Box::new(a), Box::new(b)), ty))
            }
            BinaryOp::And | BinaryOp::Or | BinaryOp::Matches => None,
        }
    }
}

/// The comparison `a op b` (a condition), for an operator that is a comparison.
fn comparison(op: BinaryOp, a: ir::Expr, b: ir::Expr) -> Option<(ir::Expr, Ty)> {
    Some((
        ir::Expr::Cmp(cmp_op(op)?, Box::new(a), Box::new(b)),
        Ty::Bool,
    ))
}

/// The comparison an operator checks into, for the operators that are comparisons.
fn cmp_op(op: BinaryOp) -> Option<CmpOp> {
    Some(match op {
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::Ne => CmpOp::Ne,
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Le => CmpOp::Le,
        BinaryOp::Gt => CmpOp::Gt,
        BinaryOp::Ge => CmpOp::Ge,
        BinaryOp::In => CmpOp::In,
        BinaryOp::NotIn => CmpOp::NotIn,
        BinaryOp::Contains => CmpOp::Contains,
        BinaryOp::StartsWith => CmpOp::StartsWith,
        BinaryOp::EndsWith => CmpOp::EndsWith,
        _ => return None,
    })
}

fn valid_owasp(s: &str) -> bool {
    let Some((cat, year)) = s.split_once(':') else {
        return false;
    };
    let n = cat.strip_prefix('K').and_then(|n| n.parse::<u8>().ok());
    cat.len() == 3 && matches!(n, Some(1..=10)) && (year == "2022" || year == "2025")
}

/// Replaces the parameters of a `def` body by the call's arguments.
fn substitute(e: &ast::Expr, params: &[ast::Name], args: &[ast::Expr]) -> ast::Expr {
    let sub = |x: &ast::Expr| Box::new(substitute(x, params, args));
    let kind = match &e.kind {
        ExprKind::Var(v) => {
            if let Some(i) = params.iter().position(|p| &p.text == v) {
                if let Some(a) = args.get(i) {
                    return a.clone();
                }
            }
            ExprKind::Var(v.clone())
        }
        ExprKind::List(items) => {
            ExprKind::List(items.iter().map(|i| substitute(i, params, args)).collect())
        }
        ExprKind::Field(b, n) => ExprKind::Field(sub(b), n.clone()),
        ExprKind::Index(b, i) => ExprKind::Index(sub(b), sub(i)),
        ExprKind::Call(n, a) => ExprKind::Call(
            n.clone(),
            a.iter().map(|i| substitute(i, params, args)).collect(),
        ),
        ExprKind::Unary(op, x) => ExprKind::Unary(*op, sub(x)),
        ExprKind::Binary(op, l, r) => ExprKind::Binary(*op, sub(l), sub(r)),
        ExprKind::Quantified {
            quant,
            var,
            source,
            cond,
        } => {
            // the quantifier's own variable shadows a parameter of the same name
            let shadowed: Vec<ast::Name> = params
                .iter()
                .filter(|p| p.text != var.text)
                .cloned()
                .collect();
            let kept: Vec<ast::Expr> = params
                .iter()
                .zip(args)
                .filter(|(p, _)| p.text != var.text)
                .map(|(_, a)| a.clone())
                .collect();
            ExprKind::Quantified {
                quant: *quant,
                var: var.clone(),
                source: sub(source),
                cond: cond
                    .as_ref()
                    .map(|c| Box::new(substitute(c, &shadowed, &kept))),
            }
        }
        other => other.clone(),
    };
    ast::Expr { kind, loc: e.loc }
}

/// A field or attribute a value of some type has (for editors: completion and hover).
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The name as written after `.`.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// The schema type that declares it; `None` for a virtual attribute or record field.
    pub owner: Option<TypeId>,
    /// Whether it is a virtual attribute computed by the engine.
    pub attribute: bool,
}

/// The fields and attributes of a value of type `t`, sorted by name: what may follow
/// `x.` without error `E0104`. Empty when nothing is known (`any`, table rows).
pub fn members(t: &Ty) -> Vec<Member> {
    let schema = Schema::bundled();
    let globals = Globals {
        params: std::collections::HashMap::new(),
        tables: std::collections::HashMap::new(),
        defs: std::collections::HashMap::new(),
        relations: std::collections::HashMap::new(),
    };
    let program = Program::default();
    let rc = RuleChecker::new(&globals, &program, 0);
    let mut out: Vec<Member> = Vec::new();
    let schema_fields = |out: &mut Vec<Member>, t: TypeId| {
        for n in schema.field_names(t) {
            if let Some(ft) = schema.field(t, n) {
                out.push(Member {
                    name: n.to_string(),
                    ty: Ty::Data(ft),
                    owner: Some(t),
                    attribute: false,
                });
            }
        }
    };
    let record = |out: &mut Vec<Member>, fields: &[(&str, Ty)]| {
        for (n, ty) in fields {
            out.push(Member {
                name: (*n).to_string(),
                ty: ty.clone(),
                owner: None,
                attribute: false,
            });
        }
    };
    match t {
        Ty::Object(k) => {
            for a in object_attrs(k) {
                out.push(Member {
                    name: a.as_str().to_string(),
                    ty: rc.attr_ty(a),
                    owner: None,
                    attribute: true,
                });
            }
            for ty in rc.object_types(k).unwrap_or_default() {
                schema_fields(&mut out, ty);
            }
        }
        Ty::Container => {
            if let Some(c) = schema.type_by_name("io.k8s.api.core.v1.Container") {
                schema_fields(&mut out, c);
            }
            out.push(Member {
                name: "containerType".to_string(),
                ty: Ty::Str,
                owner: None,
                attribute: true,
            });
        }
        Ty::Data(FieldType::Object(ty)) => schema_fields(&mut out, *ty),
        Ty::Union(fts) => {
            for ft in fts {
                if let FieldType::Object(ty) = ft {
                    schema_fields(&mut out, *ty);
                }
            }
        }
        Ty::Image => record(
            &mut out,
            &[
                ("registry", Ty::Str),
                ("repository", Ty::Str),
                ("tag", Ty::Str),
                ("digest", Ty::Str),
                ("name", Ty::Str),
            ],
        ),
        Ty::Reference => record(
            &mut out,
            &[
                ("kind", Ty::Str),
                ("name", Ty::Str),
                ("namespace", Ty::Str),
                ("via", Ty::Str),
                ("target", Ty::Object(KindSet::All)),
                ("missing", Ty::Bool),
            ],
        ),
        _ => {}
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    // the first of a name wins: an attribute over a schema field, one kind over another
    out.dedup_by(|b, a| a.name == b.name);
    out
}
