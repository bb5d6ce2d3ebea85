//! The answers to requests: hover, completion, definition, references, formatting,
//! document symbols, semantic tokens, code actions, code lenses and the test command.

use super::analysis::{self, Analysis, FileInfo};
use super::text::{self, uri_to_path};
use super::{Failure, RUN_TESTS, Snapshot};
use crate::check::ir::{KindSet, Severity, Ty};
use crate::check::{Member, members};
use crate::diag::Span;
use crate::schema::kinds;
use crate::schema::{FieldType, Schema};
use crate::syntax::ast::{self, Expr, ExprKind, Item};
use lsp_types::{
    CodeLens, Command, CompletionItem, CompletionItemKind, DocumentSymbol, Documentation, Hover,
    HoverContents, Location, MarkupContent, MarkupKind, Position, SymbolKind, TextEdit,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// What the server offers, for `initialize`.
pub fn capabilities() -> Value {
    json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": {"openClose": true, "change": 2, "save": {"includeText": false}},
        "hoverProvider": true,
        "completionProvider": {"triggerCharacters": [".", "\""]},
        "definitionProvider": true,
        "referencesProvider": true,
        "documentFormattingProvider": true,
        "documentSymbolProvider": true,
        "codeActionProvider": {"codeActionKinds": ["quickfix"]},
        "codeLensProvider": {"resolveProvider": false},
        "executeCommandProvider": {"commands": [RUN_TESTS]},
        "semanticTokensProvider": {
            "legend": {"tokenTypes": TOKEN_TYPES, "tokenModifiers": TOKEN_MODIFIERS},
            "full": true,
        },
    })
}

/// Answers one request.
pub(crate) fn handle(s: &Snapshot, method: &str, params: Value) -> Result<Value, Failure> {
    let v = match method {
        "textDocument/hover" => to_value(hover(s, &params)?),
        "textDocument/completion" => to_value(completion(s, &params)?),
        "textDocument/definition" => to_value(definition(s, &params)?),
        "textDocument/references" => to_value(references(s, &params)?),
        "textDocument/formatting" => to_value(formatting(s, &params)?),
        "textDocument/documentSymbol" => to_value(symbols(s, &params)?),
        "textDocument/semanticTokens/full" => {
            let (path, t) = document(s, &params)?;
            // parameters and tables of the ruleset are read-only variables
            let a = s.analysis(&path);
            let constants: Vec<&str> = a
                .files
                .iter()
                .flat_map(|f| &f.ast.items)
                .filter_map(|i| match i {
                    Item::Param(p) => Some(p.name.text.as_str()),
                    Item::Table(t) => Some(t.name.text.as_str()),
                    _ => None,
                })
                .collect();
            json!({"data": semantic_tokens(&t, &constants)})
        }
        "textDocument/codeAction" => to_value(code_actions(s, &params)?),
        "textDocument/codeLens" => to_value(code_lenses(s, &params)?),
        "workspace/executeCommand" => execute(s, &params)?,
        _ => return Err(Failure::method(method)),
    };
    Ok(v)
}

fn to_value<T: serde::Serialize>(x: T) -> Value {
    serde_json::to_value(x).unwrap_or(Value::Null)
}

/// The document a request names, and its text.
fn document(s: &Snapshot, params: &Value) -> Result<(PathBuf, Arc<String>), Failure> {
    let uri = params
        .pointer("/textDocument/uri")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::params("no `textDocument.uri`"))?;
    let path = uri_to_path(uri).ok_or_else(|| Failure::params(format!("not a file: `{uri}`")))?;
    let text = s
        .text(&path)
        .ok_or_else(|| Failure::params(format!("cannot read `{}`", path.display())))?;
    Ok((path, text))
}

/// The document and byte offset of a position request.
fn document_at(s: &Snapshot, params: &Value) -> Result<(PathBuf, Arc<String>, usize), Failure> {
    let (path, t) = document(s, params)?;
    let pos: Position = params
        .get("position")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok())
        .ok_or_else(|| Failure::params("no `position`"))?;
    let off = text::offset(&t, pos);
    Ok((path, t, off))
}

// ---------------------------------------------------------------------------------------
// Finding what is under the cursor

/// What a position points at.
#[derive(Clone, Copy)]
enum Found<'a> {
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
enum Decl {
    Def,
    Param,
    Table,
    Binding,
    DefParam,
}

fn contains(span: Span, off: usize) -> bool {
    (span.start as usize) <= off && off <= (span.end as usize)
}

/// The item and the thing at byte offset `off`.
fn locate(file: &ast::File, off: usize) -> Option<(&Item, Found<'_>)> {
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
        };
        return found.map(|f| (item, f));
    }
    None
}

fn in_rule(r: &ast::Rule, off: usize) -> Option<Found<'_>> {
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
    let exprs = r.condition.iter().chain(r.report.at.iter()).chain(
        r.report.message.parts.iter().filter_map(|p| match p {
            ast::MessagePart::Expr(e) => Some(e),
            ast::MessagePart::Text(_) => None,
        }),
    );
    for e in exprs {
        if let Some(f) = in_expr(e, off) {
            return Some(f);
        }
    }
    None
}

fn in_expr(e: &Expr, off: usize) -> Option<Found<'_>> {
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
fn walk_item(item: &Item, f: &mut dyn FnMut(&Expr)) {
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
        }
        Item::Import(_) | Item::Table(_) => {}
    }
}

fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
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
fn local_decl<'a>(item: &'a Item, name: &str, off: usize) -> Option<&'a ast::Name> {
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

fn collect<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
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
fn binding_source<'a>(item: &'a Item, name: &ast::Name) -> Option<&'a Expr> {
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
fn global_decl<'a>(a: &'a Analysis, name: &str) -> Option<(&'a FileInfo, &'a Item, &'a ast::Name)> {
    for f in &a.files {
        for item in &f.ast.items {
            let n = match item {
                Item::Def(d) => &d.name,
                Item::Param(p) => &p.name,
                Item::Table(t) => &t.name,
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
fn type_at(a: &Analysis, span: Span) -> Option<&Ty> {
    a.compiled
        .types
        .iter()
        .find(|(s, _)| *s == span)
        .map(|(_, t)| t)
}

// ---------------------------------------------------------------------------------------
// Descriptions

/// Built-in functions: name, signature, description.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    (
        "effective",
        "effective(c, w)",
        "The effective security context of container `c` of workload `w`: the container's `securityContext`, or for the fields a pod-level context also sets (`runAsUser`, `runAsGroup`, `runAsNonRoot`, `seLinuxOptions`, `seccompProfile`, `appArmorProfile`, `windowsOptions`) the pod's value when the container does not set it.",
    ),
    (
        "image",
        "image(s)",
        "The image reference with fields `registry`, `repository`, `tag`, `digest` (Docker's defaults apply: `nginx` is `docker.io`, `library/nginx`).",
    ),
    (
        "quantity",
        "quantity(s)",
        "A resource quantity as a number of base units: `quantity(\"500m\") == 0.5`, `quantity(\"1Gi\") == 1073741824`.",
    ),
    (
        "version",
        "version(s)",
        "A Kubernetes version ordered by major, minor, patch (`1.29`, `v1.29.3-eks-abc`).",
    ),
    (
        "flag",
        "flag(c, \"--name\")",
        "The last value of a command-line flag over the container's `command` and `args`; null when absent.",
    ),
    (
        "flags",
        "flags(c, \"--name\")",
        "Every value of a repeated flag, comma lists split and trimmed.",
    ),
    (
        "has_flag",
        "has_flag(c, \"--name\")",
        "Whether the flag is given at all.",
    ),
    ("lower", "lower(s)", "The string in lower case."),
    ("upper", "upper(s)", "The string in upper case."),
    (
        "trim",
        "trim(s)",
        "The string without leading and trailing whitespace.",
    ),
    (
        "len",
        "len(x)",
        "The length of a string (characters), list or map.",
    ),
    ("split", "split(s, sep)", "The parts of `s` between `sep`."),
    ("keys", "keys(m)", "A map's keys."),
    ("values", "values(m)", "A map's values."),
    (
        "string",
        "string(x)",
        "The text of a scalar (numbers and booleans as text).",
    ),
    ("raw", "raw(x)", "The scalar as written in the source."),
    (
        "quoted",
        "quoted(x)",
        "Whether the scalar was quoted in the YAML source (`\"true\"` versus `true`).",
    ),
];

/// Virtual attributes: name, description.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("name", "`metadata.name`"),
    (
        "namespace",
        "the namespace (defaulted to `default`); null for cluster-scoped objects",
    ),
    ("kind", "`kind`"),
    ("labels", "`metadata.labels`"),
    ("annotations", "`metadata.annotations`"),
    (
        "owners",
        "the objects named in `ownerReferences` that are in the input",
    ),
    (
        "references",
        "its references to other objects: records with `kind`, `name`, `namespace`, `via`, `target` and `missing`",
    ),
    (
        "namespaceObject",
        "the Namespace object it lives in, when in the input",
    ),
    (
        "containers",
        "every container of the workload: init, regular and ephemeral",
    ),
    ("podSpec", "the pod spec, wherever the kind keeps it"),
    (
        "podLabels",
        "the pod's labels (the template's for controllers)",
    ),
    (
        "serviceAccountName",
        "the ServiceAccount name the pod runs as (`default` when unset)",
    ),
    (
        "serviceAccount",
        "that ServiceAccount object (null when not in the input)",
    ),
    (
        "automountsToken",
        "whether the service-account token is mounted",
    ),
    (
        "bindings",
        "the RoleBindings and ClusterRoleBindings whose subjects include the workload's ServiceAccount (or this ServiceAccount)",
    ),
    (
        "services",
        "the Services selecting the workload, or the Services an Ingress or HTTPRoute routes to",
    ),
    (
        "role",
        "the Role or ClusterRole of `roleRef` (null when not in the input)",
    ),
    (
        "rules",
        "the effective policy rules (aggregated ClusterRoles resolved)",
    ),
    ("target", "the object of `scaleTargetRef`"),
    ("isolatesIngress", "whether the policy isolates ingress"),
    ("isolatesEgress", "whether the policy isolates egress"),
    ("containerType", "`init`, `regular` or `ephemeral`"),
];

/// The sources besides kind plurals: name, description.
const SOURCES: &[(&str, &str)] = &[
    (
        "workloads",
        "Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs and custom resources that embed a pod template",
    ),
    ("objects", "every object"),
    ("all_roles", "Roles and ClusterRoles"),
    ("all_bindings", "RoleBindings and ClusterRoleBindings"),
];

/// Metadata keywords of a rule: keyword, description.
const METADATA: &[(&str, &str)] = &[
    (
        "title",
        "one-line summary shown with each finding: `title \"text\"`",
    ),
    (
        "severity",
        "`info`, `low`, `medium`, `high` or `critical`; required",
    ),
    (
        "owasp",
        "OWASP Kubernetes Top 10 categories: `owasp \"K01:2022\" \"K01:2025\"`",
    ),
    (
        "refs",
        "ids of the corresponding checks of other tools: `refs \"CKV_K8S_16\"`",
    ),
    ("fix", "how to fix a finding: `fix \"text\"`"),
    ("tags", "free tags for selecting rules: `tags \"a\" \"b\"`"),
];

/// OWASP Kubernetes Top 10 categories of both editions.
const OWASP: &[(&str, &str)] = &[
    ("K01:2022", "Insecure Workload Configurations"),
    ("K02:2022", "Supply Chain Vulnerabilities"),
    ("K03:2022", "Overly Permissive RBAC Configurations"),
    ("K04:2022", "Lack of Centralized Policy Enforcement"),
    ("K05:2022", "Inadequate Logging and Monitoring"),
    ("K06:2022", "Broken Authentication Mechanisms"),
    ("K07:2022", "Missing Network Segmentation Controls"),
    ("K08:2022", "Secrets Management Failures"),
    ("K09:2022", "Misconfigured Cluster Components"),
    ("K10:2022", "Outdated and Vulnerable Kubernetes Components"),
    ("K01:2025", "Insecure Workload Configurations"),
    ("K02:2025", "Overly Permissive Authorization Configurations"),
    ("K03:2025", "Secrets Management Failures"),
    ("K04:2025", "Lack of Cluster Level Policy Enforcement"),
    ("K05:2025", "Missing Network Segmentation Controls"),
    ("K06:2025", "Overly Exposed Kubernetes Components"),
    (
        "K07:2025",
        "Misconfigured and Vulnerable Cluster Components",
    ),
    ("K08:2025", "Cluster to Cloud Lateral Movement"),
    ("K09:2025", "Broken Authentication Mechanisms"),
    ("K10:2025", "Inadequate Logging and Monitoring"),
];

#[derive(Deserialize)]
struct SchemaDocs {
    types: HashMap<String, HashMap<String, String>>,
}

/// The OpenAPI description of a field of a schema type (`schema/k8s-1.37-docs.json`,
/// made by `tools/gen_schema_docs.py`).
fn field_doc(type_name: &str, field: &str) -> Option<&'static str> {
    static DOCS: OnceLock<SchemaDocs> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        serde_json::from_str(include_str!("../../schema/k8s-1.37-docs.json")).unwrap_or(
            SchemaDocs {
                types: HashMap::new(),
            },
        )
    });
    docs.types
        .get(type_name)
        .and_then(|t| t.get(field))
        .map(String::as_str)
}

fn short_type(ft: FieldType) -> String {
    Schema::bundled()
        .describe(ft)
        .split(' ')
        .map(|w| w.rsplit('.').next().unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A type as a person reads it.
pub fn ty_text(t: &Ty) -> String {
    match t {
        Ty::Any => "any".into(),
        Ty::Null => "null".into(),
        Ty::Bool => "boolean".into(),
        Ty::Number => "number".into(),
        Ty::Str => "string".into(),
        Ty::List(e) => format!("list of {}", ty_text(e)),
        Ty::Data(ft) => short_type(*ft),
        Ty::Union(fts) => fts
            .iter()
            .map(|f| short_type(*f))
            .collect::<Vec<_>>()
            .join(" | "),
        Ty::Object(k) => match k {
            KindSet::All => "object (any kind)".into(),
            KindSet::Workloads => "workload".into(),
            KindSet::Kinds(ks) => ks.iter().map(|k| &**k).collect::<Vec<_>>().join(" | "),
        },
        Ty::Container => "container".into(),
        Ty::Image => "image reference".into(),
        Ty::Version => "version".into(),
        Ty::Reference => "reference".into(),
    }
}

/// What a kind plural or source ranges over.
fn source_doc(name: &str) -> Option<String> {
    if let Some((_, d)) = SOURCES.iter().find(|(n, _)| *n == name) {
        return Some(format!("`{name}`: {d}"));
    }
    let k = kinds::kind_by_plural(name)?;
    let scope = if k.is_namespaced() {
        "namespaced"
    } else {
        "cluster-scoped"
    };
    Some(format!(
        "`{name}`: every {} object (`{}`, {scope}); `{name}(ns)` ranges over those in namespace `ns`",
        k.kind,
        k.api_version()
    ))
}

fn member_doc(base: &Ty, m: &Member) -> String {
    let mut s = format!("```kanon\n.{}: {}\n```", m.name, ty_text(&m.ty));
    if m.attribute {
        if let Some((_, d)) = ATTRIBUTES.iter().find(|(n, _)| *n == m.name) {
            s.push_str(&format!("\n\nattribute of {}: {d}", ty_text(base)));
        }
    } else if let Some(owner) = m.owner {
        let tname = Schema::bundled().type_name(owner);
        s.push_str(&format!("\n\nfield of `{tname}`"));
        if let Some(d) = field_doc(tname, &m.name) {
            s.push_str(&format!("\n\n{d}"));
        }
    }
    s
}

fn def_signature(d: &ast::Def) -> String {
    let params: Vec<&str> = d.params.iter().map(|p| p.text.as_str()).collect();
    format!("def {}({})", d.name.text, params.join(", "))
}

fn docs_text(docs: &[String]) -> String {
    docs.iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn item_doc(item: &Item) -> String {
    let code = |s: String| format!("```kanon\n{s}\n```");
    match item {
        Item::Def(d) => {
            let mut s = code(def_signature(d));
            if !d.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&d.docs)));
            }
            s
        }
        Item::Param(p) => {
            let default = p
                .default
                .as_ref()
                .map(|e| format!(" = {}", crate::syntax::format::expr_text(e)))
                .unwrap_or_default();
            let mut s = code(format!(
                "param {}: {}{default}",
                p.name.text,
                type_text(&p.ty)
            ));
            if !p.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&p.docs)));
            }
            s
        }
        Item::Table(t) => {
            let mut s = code(format!(
                "table {} from {}",
                t.name.text,
                crate::syntax::format::quote(&t.path.value)
            ));
            s.push_str("\n\na list of rows (maps); range over it or use it with `in`");
            if !t.docs.is_empty() {
                s.push_str(&format!("\n\n{}", docs_text(&t.docs)));
            }
            s
        }
        Item::Rule(r) => rule_doc(r),
        Item::Import(i) => code(format!(
            "import {}",
            crate::syntax::format::quote(&i.path.value)
        )),
    }
}

fn type_text(t: &ast::TypeExpr) -> String {
    match t {
        ast::TypeExpr::Named(n) => n.text.clone(),
        ast::TypeExpr::List(i) => format!("list<{}>", type_text(i)),
    }
}

fn rule_doc(r: &ast::Rule) -> String {
    let mut title = String::new();
    let mut severity = String::from("(none)");
    let mut owasp = Vec::new();
    for m in &r.meta {
        match m {
            ast::Meta::Title(s) => title.clone_from(&s.value),
            ast::Meta::Severity(n) => severity.clone_from(&n.text),
            ast::Meta::Owasp(v) => owasp.extend(v.iter().map(|s| {
                let name = OWASP
                    .iter()
                    .find(|(c, _)| *c == s.value)
                    .map_or("", |(_, n)| n);
                format!("`{}` {name}", s.value)
            })),
            _ => {}
        }
    }
    let mut s = format!("**{}** `{}`", r.id.text, r.name.text);
    if !title.is_empty() {
        s.push_str(&format!(": {title}"));
    }
    s.push_str(&format!("\n\nseverity: `{severity}`"));
    if !owasp.is_empty() {
        s.push_str(&format!("\n\nOWASP: {}", owasp.join(", ")));
    }
    if !r.docs.is_empty() {
        s.push_str(&format!("\n\n{}", docs_text(&r.docs)));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Hover

fn markdown(value: String, range: Option<lsp_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

fn hover(s: &Snapshot, params: &Value) -> Result<Option<Hover>, Failure> {
    let (path, t, off) = document_at(s, params)?;
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(None);
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(None);
    };
    let r = |span: Span| Some(text::range(&t, span.range()));
    let out = match found {
        Found::Rule(rule) => Some(markdown(rule_doc(rule), r(rule.id.loc.0))),
        Found::Severity(n) => Some(markdown(
            format!(
                "severity `{}`: one of {}",
                n.text,
                Severity::ALL
                    .map(|s| format!("`{}`", s.as_str()))
                    .join(", ")
            ),
            r(n.loc.0),
        )),
        Found::Decl(name, Decl::Binding | Decl::DefParam) => {
            let ty = type_at(&a, name.loc.0).map_or_else(|| "any".to_string(), ty_text);
            let mut text = format!("```kanon\n{}: {ty}\n```", name.text);
            if let Some(src) = binding_source(item, name) {
                let src = crate::syntax::format::expr_text(src);
                text.push_str(&format!("\n\nranges over `{src}`"));
                if let Some(d) = source_doc(&src) {
                    text.push_str(&format!(": {}", d.split_once(": ").map_or("", |x| x.1)));
                }
            }
            Some(markdown(text, r(name.loc.0)))
        }
        Found::Decl(name, _) => Some(markdown(item_doc(item), r(name.loc.0))),
        Found::Var(e, name) => {
            if local_decl(item, name, off).is_some() {
                let ty = type_at(&a, e.span()).map_or_else(|| "any".to_string(), ty_text);
                Some(markdown(
                    format!("```kanon\n{name}: {ty}\n```"),
                    r(e.span()),
                ))
            } else if let Some((_, decl, _)) = global_decl(&a, name) {
                Some(markdown(item_doc(decl), r(e.span())))
            } else {
                source_doc(name).map(|d| markdown(d, r(e.span())))
            }
        }
        Found::Field(base, name) => {
            let base_ty = type_at(&a, base.span()).cloned().unwrap_or(Ty::Any);
            let m = members(&base_ty).into_iter().find(|m| m.name == name.text);
            m.map(|m| markdown(member_doc(&base_ty, &m), r(name.loc.0)))
        }
        Found::Call(n) => {
            if let Some((_, decl, _)) = global_decl(&a, &n.text) {
                Some(markdown(item_doc(decl), r(n.loc.0)))
            } else if let Some((_, sig, doc)) = BUILTINS.iter().find(|(b, _, _)| *b == n.text) {
                Some(markdown(
                    format!("```kanon\n{sig}\n```\n\nbuilt-in function: {doc}"),
                    r(n.loc.0),
                ))
            } else {
                source_doc(&n.text).map(|d| markdown(d, r(n.loc.0)))
            }
        }
        Found::Import(i) => Some(markdown(item_doc(item), r(i.path.loc.0))),
        Found::TablePath(tb) => Some(markdown(item_doc(item), r(tb.path.loc.0))),
    };
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Completion

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: Option<String>,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        documentation: doc.map(|d| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: d,
            })
        }),
        ..CompletionItem::default()
    }
}

/// Where the cursor is, for completion.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// At the start of a top-level line.
    TopLevel,
    /// In a rule, before its `for`.
    Metadata,
    /// In a rule, after its `for`.
    Body,
    /// Elsewhere (a def or param).
    Other,
}

fn place(text: &str, off: usize) -> (Place, usize) {
    let before = text.get(..off).unwrap_or("");
    let mut saw_for = false;
    for (start, line) in line_starts_rev(before) {
        let trimmed = line.trim_start();
        let top = !line.starts_with([' ', '\t']) && !line.is_empty();
        if trimmed.starts_with("for ") || trimmed == "for" {
            saw_for = true;
        }
        if top && (line.starts_with("rule ") || line == "rule") && start < off {
            return (
                if saw_for {
                    Place::Body
                } else {
                    Place::Metadata
                },
                start,
            );
        }
        if top && !line.starts_with("//") && start + line.len() < off {
            return (
                if line.starts_with('}') {
                    Place::TopLevel
                } else {
                    Place::Other
                },
                start,
            );
        }
    }
    (Place::TopLevel, 0)
}

/// The lines of `text` from the last to the first, with their start offsets.
fn line_starts_rev(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut starts: Vec<usize> = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts.into_iter().rev().map(move |s| {
        let rest = text.get(s..).unwrap_or("");
        (s, rest.split('\n').next().unwrap_or(""))
    })
}

fn completion(s: &Snapshot, params: &Value) -> Result<Vec<CompletionItem>, Failure> {
    let (path, t, off) = document_at(s, params)?;
    let line_start = t
        .get(..off)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let prefix = t.get(line_start..off).unwrap_or("");
    let partial_len = prefix
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum::<usize>();
    let before = prefix.get(..prefix.len() - partial_len).unwrap_or("");
    if before.ends_with('.') {
        return Ok(field_completion(s, &path, &t, off - partial_len - 1, off));
    }
    let words: Vec<&str> = before.split_whitespace().collect();
    let (place, rule_start) = place(&t, line_start);
    let in_quote = before.ends_with('"');
    if words.first() == Some(&"severity") && words.len() == 1 && place == Place::Metadata {
        return Ok(Severity::ALL
            .iter()
            .map(|sv| item(sv.as_str(), CompletionItemKind::ENUM_MEMBER, None, None))
            .collect());
    }
    if words.first() == Some(&"owasp") && place == Place::Metadata {
        return Ok(OWASP
            .iter()
            .map(|(c, n)| {
                let mut i = item(
                    c,
                    CompletionItemKind::ENUM_MEMBER,
                    Some((*n).to_string()),
                    None,
                );
                if !in_quote {
                    i.insert_text = Some(format!("\"{c}\""));
                }
                i
            })
            .collect());
    }
    if before.trim().is_empty() {
        match place {
            Place::TopLevel if before.is_empty() => {
                return Ok(["rule", "def", "param", "table", "import"]
                    .iter()
                    .map(|k| item(k, CompletionItemKind::KEYWORD, None, None))
                    .collect());
            }
            Place::Metadata => {
                let mut out: Vec<CompletionItem> = METADATA
                    .iter()
                    .map(|(k, d)| {
                        item(k, CompletionItemKind::KEYWORD, None, Some((*d).to_string()))
                    })
                    .collect();
                out.push(item("for", CompletionItemKind::KEYWORD, None, None));
                return Ok(out);
            }
            _ => {}
        }
    }
    let a = s.analysis(&path);
    let mut out = Vec::new();
    if words.last() == Some(&"in") {
        for p in kinds::all_plurals() {
            out.push(item(p, CompletionItemKind::CLASS, None, source_doc(p)));
        }
        for (n, d) in SOURCES {
            out.push(item(
                n,
                CompletionItemKind::CLASS,
                None,
                Some((*d).to_string()),
            ));
        }
        globals(&a, &mut out, false);
        bindings_before(&t, rule_start, off, &mut out);
        return Ok(out);
    }
    for (n, sig, d) in BUILTINS {
        out.push(item(
            n,
            CompletionItemKind::FUNCTION,
            Some((*sig).to_string()),
            Some((*d).to_string()),
        ));
    }
    globals(&a, &mut out, true);
    if place == Place::Body {
        bindings_before(&t, rule_start, off, &mut out);
        for k in ["where", "report at"] {
            out.push(item(k, CompletionItemKind::KEYWORD, None, None));
        }
    }
    for k in [
        "and",
        "or",
        "not",
        "in",
        "exists",
        "any",
        "all",
        "none",
        "count",
        "true",
        "false",
        "null",
        "matches",
        "contains",
        "starts with",
        "ends with",
        "selects",
    ] {
        out.push(item(k, CompletionItemKind::KEYWORD, None, None));
    }
    Ok(out)
}

/// Params, tables and (with `defs`) defs of the ruleset.
fn globals(a: &Analysis, out: &mut Vec<CompletionItem>, defs: bool) {
    for f in &a.files {
        for it in &f.ast.items {
            let (name, kind) = match it {
                Item::Def(d) if defs => (&d.name, CompletionItemKind::FUNCTION),
                Item::Param(p) => (&p.name, CompletionItemKind::CONSTANT),
                Item::Table(t) => (&t.name, CompletionItemKind::STRUCT),
                _ => continue,
            };
            let detail = match it {
                Item::Def(d) => Some(def_signature(d)),
                Item::Param(p) => Some(format!("param {}", type_text(&p.ty))),
                Item::Table(_) => Some("table".to_string()),
                _ => None,
            };
            out.push(item(&name.text, kind, detail, Some(item_doc(it))));
        }
    }
}

/// The names bound by `x in` between a rule's start and the cursor.
fn bindings_before(t: &str, from: usize, to: usize, out: &mut Vec<CompletionItem>) {
    let seg = t.get(from..to).unwrap_or("");
    let words: Vec<&str> = seg
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut seen = Vec::new();
    for w in words.windows(2) {
        if let [name, "in"] = w {
            if !seen.contains(name) && name.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                seen.push(name);
                out.push(item(
                    name,
                    CompletionItemKind::VARIABLE,
                    Some("binding".into()),
                    None,
                ));
            }
        }
    }
}

/// Fields after `base.`: the text is compiled without the `.` and the half-typed name,
/// so the type of the expression ending at the dot is known.
fn field_completion(
    s: &Snapshot,
    path: &Path,
    t: &str,
    dot: usize,
    off: usize,
) -> Vec<CompletionItem> {
    let (word, _) = text::word_at(t, off);
    let end = word.end.max(off);
    let mut edited = String::with_capacity(t.len());
    edited.push_str(t.get(..dot).unwrap_or(""));
    edited.push_str(t.get(end..).unwrap_or(""));
    let mut docs = s.docs.clone();
    docs.insert(path.to_path_buf(), Arc::new(edited));
    let root = analysis::root_of(path, &s.shared.roots);
    let a = analysis::analyze(&root, &docs);
    let Some(file) = a.file(path) else {
        return Vec::new();
    };
    let base = a
        .compiled
        .types
        .iter()
        .filter(|(sp, _)| sp.file == file.id && sp.end as usize == dot)
        .min_by_key(|(sp, _)| sp.end - sp.start)
        .map(|(_, ty)| ty.clone());
    let Some(base) = base else {
        return Vec::new();
    };
    members(&base)
        .iter()
        .map(|m| {
            let kind = if m.attribute {
                CompletionItemKind::PROPERTY
            } else {
                CompletionItemKind::FIELD
            };
            item(
                &m.name,
                kind,
                Some(ty_text(&m.ty)),
                Some(member_doc(&base, m)),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Definition and references

fn definition(s: &Snapshot, params: &Value) -> Result<Option<Location>, Failure> {
    let (path, _, off) = document_at(s, params)?;
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(None);
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    let file_start = |p: PathBuf| {
        analysis::uri(&normalize(&p)).map(|uri| Location {
            uri,
            range: lsp_types::Range::default(),
        })
    };
    Ok(match found {
        Found::Var(_, name) => match local_decl(item, name, off) {
            Some(n) => a.location(n.loc.0),
            None => global_decl(&a, name).and_then(|(_, _, n)| a.location(n.loc.0)),
        },
        Found::Call(n) => global_decl(&a, &n.text).and_then(|(_, _, n)| a.location(n.loc.0)),
        Found::Decl(n, _) => a.location(n.loc.0),
        Found::Rule(r) => a.location(r.id.loc.0),
        Found::Import(i) => file_start(dir.join(&i.path.value)),
        Found::TablePath(tb) => file_start(dir.join(&tb.path.value)),
        Found::Field(..) | Found::Severity(_) => None,
    })
}

/// `a/b/../c` as `a/c` (without touching the file system).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn references(s: &Snapshot, params: &Value) -> Result<Vec<Location>, Failure> {
    let (path, _, off) = document_at(s, params)?;
    let with_decl = params
        .pointer("/context/includeDeclaration")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let a = s.analysis(&path);
    let Some(file) = a.file(&path) else {
        return Ok(Vec::new());
    };
    let Some((item, found)) = locate(&file.ast, off) else {
        return Ok(Vec::new());
    };
    let (name, local): (&str, Option<Span>) = match found {
        Found::Var(_, n) => (n, local_decl(item, n, off).map(|d| d.loc.0)),
        Found::Call(n) => (&n.text, None),
        Found::Decl(n, Decl::Binding | Decl::DefParam) => (&n.text, Some(n.loc.0)),
        Found::Decl(n, _) => (&n.text, None),
        _ => return Ok(Vec::new()),
    };
    let mut spans: Vec<Span> = Vec::new();
    match local {
        Some(decl) => {
            if with_decl {
                spans.push(decl);
            }
            walk_item(item, &mut |e| {
                if let ExprKind::Var(v) = &e.kind {
                    if v == name
                        && local_decl(item, v, e.span().start as usize).map(|d| d.loc.0)
                            == Some(decl)
                    {
                        spans.push(e.span());
                    }
                }
            });
        }
        None => {
            if with_decl {
                if let Some((_, _, n)) = global_decl(&a, name) {
                    spans.push(n.loc.0);
                }
            }
            for f in &a.files {
                for it in &f.ast.items {
                    walk_item(it, &mut |e| match &e.kind {
                        ExprKind::Var(v)
                            if v == name
                                && local_decl(it, v, e.span().start as usize).is_none() =>
                        {
                            spans.push(e.span());
                        }
                        ExprKind::Call(n, _) if n.text == name => spans.push(n.loc.0),
                        _ => {}
                    });
                }
            }
        }
    }
    Ok(spans.into_iter().filter_map(|sp| a.location(sp)).collect())
}

// ---------------------------------------------------------------------------------------
// Formatting and symbols

fn formatting(s: &Snapshot, params: &Value) -> Result<Option<Vec<TextEdit>>, Failure> {
    let (_, t) = document(s, params)?;
    let (ast, diags) = crate::syntax::parse(0, &t);
    if !diags.is_empty() {
        // like `kanon fmt`, a file with syntax errors is left untouched
        return Ok(None);
    }
    let formatted = crate::syntax::format::format_file(&ast, &t);
    if formatted == *t {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(vec![TextEdit {
        range: text::range(&t, 0..t.len()),
        new_text: formatted,
    }]))
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given
fn symbol(
    t: &str,
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    whole: Span,
    sel: Span,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: text::range(t, whole.range()),
        selection_range: text::range(t, sel.range()),
        children: None,
    }
}

fn symbols(s: &Snapshot, params: &Value) -> Result<Vec<DocumentSymbol>, Failure> {
    let (_, t) = document(s, params)?;
    let (ast, _) = crate::syntax::parse(0, &t);
    let mut out = Vec::new();
    for it in &ast.items {
        out.push(match it {
            Item::Rule(r) => {
                let title = r.meta.iter().find_map(|m| match m {
                    ast::Meta::Title(s) => Some(s.value.clone()),
                    _ => None,
                });
                symbol(
                    &t,
                    format!("{} {}", r.id.text, r.name.text),
                    title,
                    SymbolKind::CLASS,
                    r.loc.0,
                    r.id.loc.0,
                )
            }
            Item::Def(d) => symbol(
                &t,
                d.name.text.clone(),
                Some(def_signature(d)),
                SymbolKind::FUNCTION,
                d.loc.0,
                d.name.loc.0,
            ),
            Item::Param(p) => symbol(
                &t,
                p.name.text.clone(),
                Some(type_text(&p.ty)),
                SymbolKind::CONSTANT,
                p.loc.0,
                p.name.loc.0,
            ),
            Item::Table(tb) => symbol(
                &t,
                tb.name.text.clone(),
                Some(tb.path.value.clone()),
                SymbolKind::STRUCT,
                tb.loc.0,
                tb.name.loc.0,
            ),
            Item::Import(i) => symbol(
                &t,
                i.path.value.clone(),
                None,
                SymbolKind::MODULE,
                i.loc.0,
                i.path.loc.0,
            ),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Semantic tokens

/// The token types of the legend, in order.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "string",
    "number",
    "comment",
    "operator",
    "function",
    "variable",
    "parameter",
    "property",
    "type",
    "enumMember",
    "class",
    "namespace",
];
/// The token modifiers of the legend, in order (bits).
pub const TOKEN_MODIFIERS: &[&str] =
    &["declaration", "documentation", "readonly", "defaultLibrary"];

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "for", "where", "report", "at", "exists", "any", "all", "none",
    "count", "true", "false", "null", "rule", "param", "table", "def", "import", "from", "selects",
    "matches", "contains", "starts", "ends", "with",
];

fn tok(kind: &str) -> u32 {
    TOKEN_TYPES
        .iter()
        .position(|t| *t == kind)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(0)
}

/// Semantic tokens of a rule file, encoded as LSP wants (relative lines and columns).
/// Variables named in `constants` (parameters, tables) are marked read-only.
pub fn semantic_tokens(t: &str, constants: &[&str]) -> Vec<u32> {
    let mut raw: Vec<(usize, usize, u32, u32)> = Vec::new();
    lex(t, 0, t.len(), &mut raw, false);
    raw.sort_by_key(|x| x.0);
    let variable = tok("variable");
    for (start, end, ty, mods) in &mut raw {
        if *ty == variable && t.get(*start..*end).is_some_and(|w| constants.contains(&w)) {
            *mods |= 4;
        }
    }
    let mut out = Vec::with_capacity(raw.len() * 5);
    let (mut pl, mut pc) = (0u32, 0u32);
    for (start, end, ty, mods) in raw {
        let p = text::position(t, start);
        let e = text::position(t, end);
        if e.line != p.line || e.character <= p.character {
            continue;
        }
        let dl = p.line - pl;
        let dc = if dl == 0 {
            p.character - pc
        } else {
            p.character
        };
        out.extend([dl, dc, e.character - p.character, ty, mods]);
        pl = p.line;
        pc = p.character;
    }
    out
}

/// Tokens of `t[from..to]`; in an interpolation, `\"` delimits strings.
fn lex(t: &str, from: usize, to: usize, out: &mut Vec<(usize, usize, u32, u32)>, interp: bool) {
    let b = t.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let line_start = |i: usize| t.get(..i).and_then(|s| s.rfind('\n')).map_or(0, |n| n + 1);
    let mut i = from;
    let mut prev_word = String::new();
    let mut prev_sym = 0u8;
    while i < to {
        let c = at(i);
        if c == b'/' && at(i + 1) == b'/' {
            let end = t
                .get(i..to)
                .and_then(|s| s.find('\n'))
                .map_or(to, |n| i + n);
            let doc = t
                .get(i..end)
                .is_some_and(|s| s.starts_with("///") && !s.starts_with("////"));
            out.push((i, end, tok("comment"), if doc { 2 } else { 0 }));
            i = end;
            continue;
        }
        let quote = if interp {
            c == b'\\' && at(i + 1) == b'"'
        } else {
            c == b'"'
        };
        if quote {
            i = string(t, i, to, out, interp);
            prev_sym = b'"';
            continue;
        }
        if c.is_ascii_digit()
            || (c == b'-'
                && at(i + 1).is_ascii_digit()
                && !prev_sym.is_ascii_alphanumeric()
                && prev_word.is_empty())
        {
            let mut j = i + 1;
            while j < to
                && (at(j).is_ascii_digit() || (at(j) == b'.' && at(j + 1).is_ascii_digit()))
            {
                j += 1;
            }
            out.push((i, j, tok("number"), 0));
            i = j;
            prev_sym = b'0';
            prev_word.clear();
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || (c == b'$' && prev_sym == b'.') {
            let mut j = i + 1;
            let rule_word = prev_word == "rule" || prev_word == "rule-id";
            while j < to
                && (at(j).is_ascii_alphanumeric() || at(j) == b'_' || (rule_word && at(j) == b'-'))
            {
                j += 1;
            }
            let w = t.get(i..j).unwrap_or("");
            let next = t
                .get(j..to)
                .unwrap_or("")
                .trim_start()
                .bytes()
                .next()
                .unwrap_or(0);
            let at_line_start = t.get(line_start(i)..i).is_some_and(|s| s.trim().is_empty());
            let (ty, mods) = if prev_sym == b'.' {
                (tok("property"), 0)
            } else if prev_word == "rule" {
                (tok("class"), 1)
            } else if prev_word == "rule-id" {
                (tok("namespace"), 1)
            } else if KEYWORDS.contains(&w)
                || (at_line_start && METADATA.iter().any(|(k, _)| *k == w))
            {
                (tok("keyword"), 0)
            } else if prev_word == "severity" {
                (tok("enumMember"), 0)
            } else if matches!(prev_word.as_str(), "def" | "param" | "table") {
                let k = if prev_word == "def" {
                    "function"
                } else {
                    "variable"
                };
                (tok(k), 1 | 4)
            } else if prev_sym == b':'
                || prev_sym == b'<'
                || kinds::kind_by_plural(w).is_some()
                || SOURCES.iter().any(|(n, _)| *n == w)
            {
                (tok("type"), 0)
            } else if next == b'(' {
                let builtin = BUILTINS.iter().any(|(n, _, _)| *n == w);
                (tok("function"), if builtin { 8 } else { 0 })
            } else {
                (tok("variable"), 0)
            };
            out.push((i, j, ty, mods));
            prev_word = if prev_word == "rule" {
                "rule-id".into()
            } else {
                w.to_string()
            };
            prev_sym = b'a';
            i = j;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = t.get(i..(i + 2).min(to)).unwrap_or("");
        let len = if ["==", "!=", "<=", ">=", "??"].contains(&two) {
            2
        } else {
            1
        };
        if matches!(c, b'=' | b'!' | b'<' | b'>' | b'?') {
            out.push((i, i + len, tok("operator"), 0));
        }
        prev_sym = c;
        prev_word.clear();
        i += len;
    }
}

/// A string from `i` (its opening quote); returns the offset after it.
fn string(
    t: &str,
    i: usize,
    to: usize,
    out: &mut Vec<(usize, usize, u32, u32)>,
    interp: bool,
) -> usize {
    let b = t.as_bytes();
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    let open = if interp { 2 } else { 1 };
    let mut seg = i;
    let mut j = i + open;
    let ty = tok("string");
    while j < to {
        let c = at(j);
        if c == b'\n' {
            break;
        }
        if interp && c == b'\\' && at(j + 1) == b'"' {
            j += 2;
            out.push((seg, j, ty, 0));
            return j;
        }
        if !interp && c == b'"' {
            j += 1;
            out.push((seg, j, ty, 0));
            return j;
        }
        if c == b'\\' {
            j += 2;
            continue;
        }
        if !interp && c == b'{' && at(j + 1) == b'{' {
            j += 2;
            continue;
        }
        if !interp && c == b'{' {
            out.push((seg, j, ty, 0));
            // the interpolation ends at the first `}` outside `\"...\"`
            let mut k = j + 1;
            let mut quoted = false;
            while k < to && at(k) != b'\n' {
                if at(k) == b'\\' && at(k + 1) == b'"' {
                    quoted = !quoted;
                    k += 2;
                    continue;
                }
                if at(k) == b'}' && !quoted {
                    break;
                }
                k += 1;
            }
            lex(t, j + 1, k, out, true);
            j = k + 1;
            seg = j;
            continue;
        }
        j += 1;
    }
    out.push((seg, j.min(to), ty, 0));
    j.min(to)
}

// ---------------------------------------------------------------------------------------
// Code actions, code lenses and the test command

fn code_actions(s: &Snapshot, params: &Value) -> Result<Vec<Value>, Failure> {
    let (path, t) = document(s, params)?;
    let uri = params
        .pointer("/textDocument/uri")
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    let diags = params
        .pointer("/context/diagnostics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in diags {
        let Some(sugg) = d.pointer("/data/suggestion").and_then(Value::as_str) else {
            continue;
        };
        out.push(json!({
            "title": format!("replace with `{sugg}`"),
            "kind": "quickfix",
            "diagnostics": [d],
            "isPreferred": true,
            "edit": {"changes": {uri.as_str().unwrap_or(""): [{"range": d["range"], "newText": sugg}]}},
        }));
    }
    // a rule file without fixtures: offer to create `X.test.yaml`
    let range: lsp_types::Range = params
        .get("range")
        .cloned()
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default();
    let sel = text::byte_range(&t, range);
    let (ast, _) = crate::syntax::parse(0, &t);
    if crate::harness::fixtures_of(&path).is_empty() {
        let ids: Vec<&ast::Rule> = ast
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Rule(r) => Some(r),
                _ => None,
            })
            .collect();
        let touched = ids
            .iter()
            .any(|r| (r.loc.0.start as usize) <= sel.end && sel.start <= r.loc.0.end as usize);
        if touched {
            let fixture = path.with_extension("test.yaml");
            let name = fixture
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let furi = text::path_to_uri(&fixture);
            let body: String = ids
                .iter()
                .map(|r| fixture_template(&r.id.text))
                .collect::<Vec<_>>()
                .join("---\n");
            out.push(json!({
                "title": format!("add a fixture file `{name}`"),
                "kind": "quickfix",
                "edit": {"documentChanges": [
                    {"kind": "create", "uri": furi, "options": {"ignoreIfExists": true}},
                    {"textDocument": {"uri": furi, "version": null}, "edits": [
                        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "newText": body}
                    ]},
                ]},
            }));
        }
    }
    Ok(out)
}

fn fixture_template(id: &str) -> String {
    format!(
        "# a manifest the rule must report: `# expect: {id}` on the reported line\n\
         apiVersion: v1\nkind: Pod\nmetadata:\n  name: flagged # expect: {id}\nspec:\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n\
         ---\n# ok: {id}\n\
         apiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n"
    )
}

fn code_lenses(s: &Snapshot, params: &Value) -> Result<Vec<CodeLens>, Failure> {
    let (path, t) = document(s, params)?;
    let uri = params
        .pointer("/textDocument/uri")
        .cloned()
        .unwrap_or(Value::Null);
    let (ast, _) = crate::syntax::parse(0, &t);
    let results = s.shared.tests.lock().map(|m| m.clone()).unwrap_or_default();
    Ok(ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Rule(r) => Some(r),
            _ => None,
        })
        .map(|r| {
            let title = results.get(&(path.clone(), r.id.text.clone())).map_or_else(
                || "▶ run tests".to_string(),
                |res| format!("{res} · ▶ run again"),
            );
            CodeLens {
                range: text::range(&t, r.id.loc.0.range()),
                command: Some(Command {
                    title,
                    command: RUN_TESTS.to_string(),
                    arguments: Some(vec![uri.clone(), json!(r.id.text)]),
                }),
                data: None,
            }
        })
        .collect())
}

/// `kanon.runTests URI ID`: runs the fixtures of the rule file (`kanon test FILE`) and
/// reports the rule's outcome: in the result, a message, the code lens title, and
/// diagnostics on the fixture lines that failed.
fn execute(s: &Snapshot, params: &Value) -> Result<Value, Failure> {
    let command = params.get("command").and_then(Value::as_str).unwrap_or("");
    if command != RUN_TESTS {
        return Err(Failure::params(format!("unknown command `{command}`")));
    }
    let args = params
        .get("arguments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let uri = args.first().and_then(Value::as_str).unwrap_or("");
    let id = args.get(1).and_then(Value::as_str).unwrap_or("");
    let path = uri_to_path(uri).ok_or_else(|| Failure::params(format!("not a file: `{uri}`")))?;
    let report = crate::harness::run(
        std::slice::from_ref(&path),
        &crate::harness::TestOptions::default(),
    )
    .map_err(Failure::params)?;
    let rule = report.rules.iter().find(|r| r.id == id);
    let (passed, summary, failures) = match rule {
        Some(r) if r.passed() => (
            true,
            format!("✓ {id} passed ({} expect, {} ok)", r.expected, r.ok),
            Vec::new(),
        ),
        Some(r) => (
            false,
            format!(
                "✗ {id} failed: {} failure{}",
                r.failures.len(),
                if r.failures.len() == 1 { "" } else { "s" }
            ),
            r.failures.clone(),
        ),
        None => (
            false,
            format!("✗ {id}: no such rule in the file"),
            Vec::new(),
        ),
    };
    // failing fixture lines become diagnostics of the fixture files
    let mut by_file: HashMap<PathBuf, Vec<Value>> = HashMap::new();
    for f in crate::harness::fixtures_of(&path) {
        by_file.entry(f).or_default();
    }
    for f in &failures {
        if f.line == 0 {
            continue;
        }
        let fp = PathBuf::from(&f.file);
        let line = u32::try_from(f.line - 1).unwrap_or(0);
        let mut message = f.summary.clone();
        if let Some(e) = &f.expected {
            message.push_str(&format!("\nexpected: {e}"));
        }
        if let Some(x) = &f.found {
            message.push_str(&format!("\nfound: {x}"));
        }
        by_file.entry(fp).or_default().push(json!({
            "range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}},
            "severity": 1,
            "source": "kanon test",
            "code": id,
            "message": message,
        }));
    }
    for (file, diags) in &by_file {
        s.shared.notify(
            "textDocument/publishDiagnostics",
            json!({"uri": text::path_to_uri(file), "diagnostics": diags}),
        );
    }
    if let Ok(mut m) = s.shared.tests.lock() {
        m.insert((path.clone(), id.to_string()), summary.clone());
    }
    s.shared.notify(
        "window/showMessage",
        json!({"type": if passed { 3 } else { 1 }, "message": summary}),
    );
    s.shared.refresh_lenses();
    Ok(json!({
        "rule": id,
        "passed": passed,
        "summary": summary,
        "failures": failures.iter().map(|f| json!({
            "file": f.file, "line": f.line, "summary": f.summary,
        })).collect::<Vec<_>>(),
    }))
}
