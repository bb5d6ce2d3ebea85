//! The analyze stage: resolves names, kinds, relations and field paths against the
//! Kubernetes schema, checks types, and lowers the AST into the checked [`ir`].
//!
//! Every problem is a coded [`Diagnostic`]; checking goes on after an error so a user
//! sees every problem of a ruleset at once.

mod ahead;
mod expr;
mod fix;
pub mod fs;

pub use expr::{Member, members};
pub mod ir;

use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::syntax::ast;
use fs::{RuleFile, RuleFs};
use ir::{Const, Program, Severity};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The outcome of compiling a ruleset.
#[derive(Debug, Default)]
pub struct Compiled {
    /// The checked program (rules with errors are left out).
    pub program: Program,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Parsed files, with their file ids, for the formatter and tools.
    pub files: Vec<(FileId, RuleFile)>,
    /// The type of every checked expression and binding, by span; filled only by
    /// [`compile_with_types`] (editors use it for hover and completion).
    pub types: Vec<(Span, ir::Ty)>,
}

impl Compiled {
    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parameter overrides: name → value, applied over declared defaults.
pub type Overrides = HashMap<String, Const>;

/// Compiles rule files (and what they import) from a [`RuleFs`].
pub fn compile(
    fs: &RuleFs,
    entry: &[RuleFile],
    overrides: &Overrides,
    sources: &mut SourceMap,
) -> Compiled {
    compile_inner(fs, entry, overrides, sources, false)
}

/// [`compile`], also recording the type of every expression and binding
/// ([`Compiled::types`]), for editors.
pub fn compile_with_types(
    fs: &RuleFs,
    entry: &[RuleFile],
    overrides: &Overrides,
    sources: &mut SourceMap,
) -> Compiled {
    compile_inner(fs, entry, overrides, sources, true)
}

fn compile_inner(
    fs: &RuleFs,
    entry: &[RuleFile],
    overrides: &Overrides,
    sources: &mut SourceMap,
    record: bool,
) -> Compiled {
    let ahead = ahead::ahead(fs, entry, sources.len());
    let mut c = Checker {
        fs,
        sources,
        ahead,
        diags: Vec::new(),
        parsed: Vec::new(),
        seen: BTreeSet::new(),
        record,
        types: Vec::new(),
    };
    for f in entry {
        c.load(f.clone(), None);
    }
    c.finish(overrides)
}

struct Checker<'a> {
    fs: &'a RuleFs,
    sources: &'a mut SourceMap,
    /// Files read and parsed ahead, in parallel ([`ahead`]).
    ahead: HashMap<ahead::Key, ahead::Ahead>,
    diags: Vec<Diagnostic>,
    parsed: Vec<(FileId, RuleFile, ast::File)>,
    seen: BTreeSet<(bool, String, String)>,
    record: bool,
    types: Vec<(Span, ir::Ty)>,
}

/// Global names visible to every rule.
pub(crate) struct Globals {
    pub params: HashMap<String, (usize, ir::Ty)>,
    pub tables: HashMap<String, usize>,
    pub defs: HashMap<String, ast::Def>,
}

impl Checker<'_> {
    fn load(&mut self, f: RuleFile, from: Option<Span>) {
        if !self
            .seen
            .insert((f.embedded, f.root.clone(), f.rel.clone()))
        {
            return;
        }
        let (text, parsed) = match self.ahead.remove(&ahead::key(&f)) {
            Some(a) => (Ok(a.text), Some((a.id, a.parsed))),
            None => (self.fs.read(&f), None),
        };
        let text = match text {
            Ok(t) => t,
            Err(msg) => {
                let mut d = Diagnostic::error("E0109", msg);
                if let Some(span) = from {
                    d = d.at(span, "imported here");
                }
                self.diags.push(d);
                return;
            }
        };
        let id = self.sources.add(f.display.clone(), text);
        let text = self
            .sources
            .file(id)
            .map(|s| s.text.clone())
            .unwrap_or_default();
        // parsed ahead with the id the file got, or parsed now
        let (ast, mut diags) = match parsed {
            Some((ahead_id, parsed)) if ahead_id == id => parsed,
            _ => crate::syntax::parse(id, &text),
        };
        self.diags.append(&mut diags);
        let imports: Vec<(String, Span)> = ast
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Import(imp) => Some((imp.path.value.clone(), imp.path.loc.0)),
                _ => None,
            })
            .collect();
        self.parsed.push((id, f.clone(), ast));
        for (path, span) in imports {
            match self.fs.resolve(&f, &path) {
                // an import of a file that is a copy of a bundled one loads the bundled one
                Some(target) => self.load(self.fs.original(target), Some(span)),
                None => self.diags.push(
                    Diagnostic::error("E0109", format!("import `{path}` leaves the ruleset"))
                        .at(span, "resolves outside the rule directory")
                        .with_help(
                            "imports may only name files inside the directories given to kanon",
                        ),
                ),
            }
        }
    }

    fn finish(mut self, overrides: &Overrides) -> Compiled {
        let mut program = Program::default();
        let mut globals = Globals {
            params: HashMap::new(),
            tables: HashMap::new(),
            defs: HashMap::new(),
        };
        let mut declared: HashMap<String, Span> = HashMap::new();
        let parsed = std::mem::take(&mut self.parsed);
        // a clash between a user's file and the bundled ruleset gets a help of its own
        let bundled: HashSet<FileId> = parsed
            .iter()
            .filter(|(_, f, _)| f.embedded)
            .map(|(id, _, _)| *id)
            .collect();
        let from_bundled = |first: Span, again: Span| {
            bundled.contains(&first.file) && !bundled.contains(&again.file)
        };
        let bundled_help = |what: &str| {
            format!(
                "the bundled ruleset has {what} too; pass `--no-default-rules` to run only your rules, or rename yours"
            )
        };
        // Declarations first, so rules may use names declared later or in other files.
        for (_, file, ast) in &parsed {
            for item in &ast.items {
                let (name, span) = match item {
                    ast::Item::Param(p) => (&p.name, p.name.loc.0),
                    ast::Item::Table(t) => (&t.name, t.name.loc.0),
                    ast::Item::Def(d) => (&d.name, d.name.loc.0),
                    _ => continue,
                };
                if let Some(&first) = declared.get(&name.text) {
                    let mut d =
                        Diagnostic::error("E0202", format!("`{}` is declared twice", name.text))
                            .at(span, "declared again here");
                    d = if from_bundled(first, span) {
                        d.with_label(first, "first declared in the bundled ruleset")
                            .with_help(bundled_help(&format!("`{}`", name.text)))
                    } else {
                        d.with_label(first, "first declared here")
                    };
                    self.diags.push(d);
                    continue;
                }
                declared.insert(name.text.clone(), span);
                match item {
                    ast::Item::Param(p) => {
                        if let Some((param, ty)) = self.param(p, overrides) {
                            globals
                                .params
                                .insert(p.name.text.clone(), (program.params.len(), ty));
                            program.params.push(param);
                        }
                    }
                    ast::Item::Table(t) => {
                        if let Some(table) = self.table(file, t) {
                            globals
                                .tables
                                .insert(t.name.text.clone(), program.tables.len());
                            program.tables.push(table);
                        }
                    }
                    ast::Item::Def(d) => {
                        globals.defs.insert(d.name.text.clone(), d.clone());
                    }
                    _ => {}
                }
            }
        }
        for name in overrides.keys() {
            // a declared parameter whose value failed is reported once, where it is declared
            let is_param = |n: &str| {
                parsed.iter().any(|(_, _, ast)| {
                    ast.items
                        .iter()
                        .any(|i| matches!(i, ast::Item::Param(p) if p.name.text == n))
                })
            };
            if !globals.params.contains_key(name) && !is_param(name) {
                let names: Vec<&str> = globals.params.keys().map(String::as_str).collect();
                self.diags.push(
                    Diagnostic::error("E0113", format!("unknown parameter `{name}`"))
                        .with_suggestion(name, names),
                );
            }
        }
        let mut ids: HashMap<String, Span> = HashMap::new();
        for (file_id, _, ast) in &parsed {
            for item in &ast.items {
                let ast::Item::Rule(r) = item else { continue };
                if let Some(&first) = ids.get(&r.id.text) {
                    let d = Diagnostic::error(
                        "E0201",
                        format!("rule id `{}` is used twice", r.id.text),
                    )
                    .at(r.id.loc.0, "used again here");
                    self.diags.push(if from_bundled(first, r.id.loc.0) {
                        d.with_label(first, "first used in the bundled ruleset")
                            .with_help(bundled_help(&format!("rule `{}`", r.id.text)))
                    } else {
                        d.with_label(first, "first used here")
                            .with_help("every rule needs its own stable id")
                    });
                    continue;
                }
                ids.insert(r.id.text.clone(), r.id.loc.0);
                let mut rc = expr::RuleChecker::new(&globals, &program, *file_id);
                if self.record {
                    rc.types = Some(Vec::new());
                }
                let checked = rc.rule(r);
                self.types.append(&mut rc.types.take().unwrap_or_default());
                let ok = !rc.diags.iter().any(Diagnostic::is_error);
                self.diags.append(&mut rc.diags);
                if let (true, Some(rule)) = (ok, checked) {
                    program.rules.push(rule);
                }
            }
        }
        Compiled {
            program,
            diagnostics: self.diags,
            files: parsed.into_iter().map(|(id, f, _)| (id, f)).collect(),
            types: self.types,
        }
    }

    /// Checks a parameter declaration and its value (the override, else the default). A
    /// parameter whose type or value is wrong is still declared (with type `any` or value
    /// `null`), so that the one error about it is not followed by an "unknown name" in
    /// every rule that uses it.
    fn param(&mut self, p: &ast::Param, overrides: &Overrides) -> Option<(ir::Param, ir::Ty)> {
        let declared = |ty: ir::Ty, value: Const| {
            Some((
                ir::Param {
                    name: p.name.text.clone(),
                    ty: type_text(&p.ty),
                    value,
                    docs: p.docs.join("\n"),
                },
                ty,
            ))
        };
        let ty = match type_of(&p.ty) {
            Ok(t) => t,
            Err(name) => {
                self.diags.push(
                    Diagnostic::error("E0110", format!("unknown type `{}`", name.text))
                        .at(name.loc.0, "not a parameter type")
                        .with_suggestion(&name.text, ["string", "int", "number", "bool", "list"]),
                );
                return declared(ir::Ty::Any, Const::Null);
            }
        };
        let default = match &p.default {
            Some(e) => match const_of(e) {
                Some(c) => c,
                None => {
                    self.diags.push(
                        Diagnostic::error("E0301", "a parameter default must be a literal")
                            .at(e.span(), "not a literal value"),
                    );
                    return declared(ty, Const::Null);
                }
            },
            None => Const::Null,
        };
        if let Some(given) = overrides.get(&p.name.text) {
            if let Some(value) = coerce(given, &ty) {
                return declared(ty, value);
            }
            self.diags.push(
                Diagnostic::error(
                    "E0301",
                    format!(
                        "parameter `{}` is declared `{}`, but the value set for it, `{}`, is not",
                        p.name.text,
                        type_text(&p.ty),
                        const_text(given)
                    ),
                )
                .at(p.name.loc.0, format!("declared `{}` here", type_text(&p.ty)))
                .with_help(format!(
                    "give a {}: `--param {}=VALUE` (`a,b` for a list) or the configuration's `params`",
                    type_words(&ty),
                    p.name.text
                )),
            );
            return declared(ty, default);
        }
        if !const_fits(&default, &ty) {
            let span = p.default.as_ref().map_or(p.name.loc.0, ast::Expr::span);
            self.diags.push(
                Diagnostic::error(
                    "E0301",
                    format!(
                        "parameter `{}` is declared `{}` but its value is not",
                        p.name.text,
                        type_text(&p.ty)
                    ),
                )
                .at(span, format!("expected `{}`", type_text(&p.ty))),
            );
            return declared(ty, Const::Null);
        }
        declared(ty, default)
    }

    fn table(&mut self, file: &RuleFile, t: &ast::Table) -> Option<ir::Table> {
        let Some(target) = self.fs.resolve(file, &t.path.value) else {
            self.diags.push(
                Diagnostic::error(
                    "E0108",
                    format!("table file `{}` leaves the ruleset", t.path.value),
                )
                .at(t.path.loc.0, "outside the rule directory"),
            );
            return None;
        };
        let text = match self.fs.read(&target) {
            Ok(t) => t,
            Err(msg) => {
                self.diags.push(
                    Diagnostic::error("E0108", msg)
                        .at(t.path.loc.0, "table declared here")
                        .with_help("put the YAML file beside the rule file, or fix the path"),
                );
                return None;
            }
        };
        let value: serde_yaml::Value = match serde_yaml::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                    .unwrap_or_default();
                self.diags.push(
                    Diagnostic::error(
                        "E0108",
                        format!("table `{}` is not valid yaml{at}", target.display),
                    )
                    .at(t.path.loc.0, "table declared here"),
                );
                return None;
            }
        };
        // A table file is a list of rows, or a map with a `rows` list (and metadata such
        // as `source` and `checked`).
        let rows = match &value {
            serde_yaml::Value::Mapping(m) => m
                .get("rows")
                .cloned()
                .unwrap_or(serde_yaml::Value::Sequence(Vec::new())),
            other => other.clone(),
        };
        Some(ir::Table {
            name: t.name.text.clone(),
            path: target.display,
            rows: yaml_const(&rows, 0),
        })
    }
}

fn yaml_const(v: &serde_yaml::Value, depth: usize) -> Const {
    if depth > 64 {
        return Const::Null;
    }
    match v {
        serde_yaml::Value::Null => Const::Null,
        serde_yaml::Value::Bool(b) => Const::Bool(*b),
        serde_yaml::Value::Number(n) => n
            .as_i64()
            .map(Const::Int)
            .or_else(|| n.as_f64().map(Const::Float))
            .unwrap_or(Const::Null),
        serde_yaml::Value::String(s) => Const::Str(Arc::from(s.as_str())),
        serde_yaml::Value::Sequence(items) => Const::List(Arc::new(
            items.iter().map(|i| yaml_const(i, depth + 1)).collect(),
        )),
        serde_yaml::Value::Mapping(m) => Const::Map(Arc::new(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        serde_yaml::Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (Arc::from(key.as_str()), yaml_const(v, depth + 1))
                })
                .collect(),
        )),
        serde_yaml::Value::Tagged(t) => yaml_const(&t.value, depth + 1),
    }
}

fn type_text(t: &ast::TypeExpr) -> String {
    match t {
        ast::TypeExpr::Named(n) => n.text.clone(),
        ast::TypeExpr::List(i) => format!("list<{}>", type_text(i)),
    }
}

fn type_of(t: &ast::TypeExpr) -> Result<ir::Ty, &ast::Name> {
    match t {
        ast::TypeExpr::Named(n) => match n.text.as_str() {
            "string" => Ok(ir::Ty::Str),
            "int" | "number" => Ok(ir::Ty::Number),
            "bool" => Ok(ir::Ty::Bool),
            _ => Err(n),
        },
        ast::TypeExpr::List(i) => Ok(ir::Ty::List(Box::new(type_of(i)?))),
    }
}

/// A value set from outside (`--param`, the configuration) read as the declared type: the
/// type decides, so a single value of a list parameter is a one-item list, `1` or `true` of
/// a string parameter is that text, `a,b` of a string parameter is the text `a,b`, and a
/// numeric string of a number parameter is that number. `None` when it cannot be read so.
fn coerce(c: &Const, ty: &ir::Ty) -> Option<Const> {
    if const_fits(c, ty) {
        return Some(c.clone());
    }
    let text = |c: &Const| match c {
        Const::Str(s) => Some(s.to_string()),
        Const::Int(i) => Some(i.to_string()),
        Const::Float(f) => Some(f.to_string()),
        Const::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (c, ty) {
        (Const::List(items), ir::Ty::List(inner)) => Some(Const::List(Arc::new(
            items
                .iter()
                .map(|i| coerce(i, inner))
                .collect::<Option<_>>()?,
        ))),
        (Const::List(_) | Const::Map(_), _) => match (c, ty) {
            (Const::List(items), ir::Ty::Str) => {
                let parts: Option<Vec<String>> = items.iter().map(text).collect();
                Some(Const::Str(Arc::from(parts?.join(",").as_str())))
            }
            _ => None,
        },
        (_, ir::Ty::List(inner)) => Some(Const::List(Arc::new(vec![coerce(c, inner)?]))),
        (_, ir::Ty::Str) => Some(Const::Str(Arc::from(text(c)?.as_str()))),
        (Const::Str(s), ir::Ty::Number) => {
            let s = s.trim();
            s.parse::<i64>().map(Const::Int).ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Const::Float)
            })
        }
        _ => None,
    }
}

/// A value as a user wrote it on the command line (`a,b` for a list).
fn const_text(c: &Const) -> String {
    match c {
        Const::Null => "null".into(),
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => f.to_string(),
        Const::Str(s) => s.to_string(),
        Const::List(items) => items.iter().map(const_text).collect::<Vec<_>>().join(","),
        Const::Map(_) => "a mapping".into(),
    }
}

/// A parameter type in words, for help texts.
fn type_words(ty: &ir::Ty) -> String {
    match ty {
        ir::Ty::Str => "string".into(),
        ir::Ty::Number => "number".into(),
        ir::Ty::Bool => "boolean (`true` or `false`)".into(),
        ir::Ty::List(inner) => format!("list of {}", type_words(inner)),
        _ => "value".into(),
    }
}

fn const_fits(c: &Const, ty: &ir::Ty) -> bool {
    match (c, ty) {
        (Const::Null, _) => true,
        (Const::Str(_), ir::Ty::Str) | (Const::Bool(_), ir::Ty::Bool) => true,
        (Const::Int(_) | Const::Float(_), ir::Ty::Number) => true,
        (Const::List(items), ir::Ty::List(inner)) => items.iter().all(|i| const_fits(i, inner)),
        _ => false,
    }
}

/// The constant value of a literal expression.
pub(crate) fn const_of(e: &ast::Expr) -> Option<Const> {
    Some(match &e.kind {
        ast::ExprKind::Null => Const::Null,
        ast::ExprKind::Bool(b) => Const::Bool(*b),
        ast::ExprKind::Int(i) => Const::Int(*i),
        ast::ExprKind::Float(f) => Const::Float(*f),
        ast::ExprKind::Str(s) => Const::Str(Arc::from(s.as_str())),
        ast::ExprKind::List(items) => {
            Const::List(Arc::new(items.iter().map(const_of).collect::<Option<_>>()?))
        }
        _ => return None,
    })
}

/// Parses a severity name (used by configuration too).
pub fn severity(s: &str) -> Option<Severity> {
    Severity::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[Const]) -> Const {
        Const::List(Arc::new(items.to_vec()))
    }

    fn s(x: &str) -> Const {
        Const::Str(Arc::from(x))
    }

    #[test]
    fn set_values_are_read_as_the_declared_type() {
        let strings = ir::Ty::List(Box::new(ir::Ty::Str));
        assert_eq!(coerce(&s("a.io"), &strings), Some(list(&[s("a.io")])));
        assert_eq!(coerce(&Const::Int(5), &strings), Some(list(&[s("5")])));
        assert_eq!(coerce(&list(&[]), &strings), Some(list(&[])));
        assert_eq!(coerce(&Const::Int(1), &ir::Ty::Str), Some(s("1")));
        assert_eq!(coerce(&Const::Bool(true), &ir::Ty::Str), Some(s("true")));
        assert_eq!(
            coerce(&list(&[s("a"), s("b")]), &ir::Ty::Str),
            Some(s("a,b"))
        );
        assert_eq!(coerce(&s("1.5"), &ir::Ty::Number), Some(Const::Float(1.5)));
        assert_eq!(coerce(&s("lots"), &ir::Ty::Number), None);
        assert_eq!(coerce(&s("yes"), &ir::Ty::Bool), None);
        assert_eq!(
            coerce(&list(&[s("x")]), &ir::Ty::List(Box::new(ir::Ty::Number))),
            None
        );
    }
}
