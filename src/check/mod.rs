//! The analyze stage: resolves names, kinds, relations and field paths against the
//! Kubernetes schema, checks types, and lowers the AST into the checked [`ir`].
//!
//! Every problem is a coded [`Diagnostic`]; checking goes on after an error so a user
//! sees every problem of a ruleset at once.

mod ahead;
mod expr;
mod fix;
pub mod fs;
pub mod matcher;
pub mod table_store;

pub(crate) use ahead::regex;
pub use expr::{Member, members};
pub mod ir;

use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::syntax::ast;
use fs::{RuleFile, RuleFs};
use ir::{Const, Program, Severity};
use rayon::prelude::*;
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
    let ahead::Prepared { files, tables } = ahead::ahead(fs, entry, sources.len());
    let mut c = Checker {
        fs,
        sources,
        ahead: files,
        tables_ahead: tables,
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
    /// Table files decoded ahead, in parallel ([`ahead`]).
    tables_ahead: HashMap<ahead::Key, ahead::TableYaml>,
    diags: Vec<Diagnostic>,
    parsed: Vec<(FileId, RuleFile, ast::File)>,
    seen: BTreeSet<(bool, String, String)>,
    record: bool,
    types: Vec<(Span, ir::Ty)>,
}

/// A rule of the ruleset, in file order: its id clashes with an earlier rule's (the
/// diagnostic), or it is checked.
enum RuleStep<'r> {
    Clash(Diagnostic),
    Check(FileId, &'r ast::Rule),
}

/// A rule checked: the rule when it has no error, its diagnostics, the types recorded.
type RuleChecked = (Option<ir::Rule>, Vec<Diagnostic>, Vec<(Span, ir::Ty)>);

/// Global names visible to every rule.
pub(crate) struct Globals {
    pub params: HashMap<String, (usize, ir::Ty)>,
    pub tables: HashMap<String, usize>,
    pub defs: HashMap<String, ast::Def>,
    pub relations: HashMap<String, RelationSig>,
}

/// What a call of a relation needs to know: its index and its column types.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RelationSig {
    pub id: usize,
    pub columns: Vec<ir::KindSet>,
    pub name_span: Span,
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
            _ => crate::syntax::parse_stored(id, &text),
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
            relations: HashMap::new(),
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
                    ast::Item::Relation(r) => (&r.name, r.name.loc.0),
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
                    ast::Item::Relation(r) => {
                        let sig = RelationSig {
                            id: globals.relations.len(),
                            columns: vec![ir::KindSet::All; r.params.len()],
                            name_span: r.name.loc.0,
                        };
                        globals.relations.insert(r.name.text.clone(), sig);
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
        self.relations(&parsed, &mut globals, &mut program);
        // Rule ids in file order first; then every rule is checked on its own (a rule's
        // check reads the globals only), in parallel, and the results are taken in order.
        let mut ids: HashMap<String, Span> = HashMap::new();
        let mut steps: Vec<RuleStep<'_>> = Vec::new();
        for (file_id, _, ast) in &parsed {
            for item in &ast.items {
                let ast::Item::Rule(r) = item else { continue };
                if let Some(&first) = ids.get(&r.id.text) {
                    let d = Diagnostic::error(
                        "E0201",
                        format!("rule id `{}` is used twice", r.id.text),
                    )
                    .at(r.id.loc.0, "used again here");
                    steps.push(RuleStep::Clash(if from_bundled(first, r.id.loc.0) {
                        d.with_label(first, "first used in the bundled ruleset")
                            .with_help(bundled_help(&format!("rule `{}`", r.id.text)))
                    } else {
                        d.with_label(first, "first used here")
                            .with_help("every rule needs its own stable id")
                    }));
                    continue;
                }
                ids.insert(r.id.text.clone(), r.id.loc.0);
                steps.push(RuleStep::Check(*file_id, r));
            }
        }
        let record = self.record;
        let checked: Vec<RuleChecked> = steps
            .into_par_iter()
            .map(|step| match step {
                RuleStep::Clash(d) => (None, vec![d], Vec::new()),
                RuleStep::Check(file_id, r) => {
                    let mut rc = expr::RuleChecker::new(&globals, &program, file_id);
                    if record {
                        rc.types = Some(Vec::new());
                    }
                    let checked = rc.rule(r);
                    let ok = !rc.diags.iter().any(Diagnostic::is_error);
                    (
                        checked.filter(|_| ok),
                        rc.diags,
                        rc.types.unwrap_or_default(),
                    )
                }
            })
            .collect();
        for (rule, mut diags, mut types) in checked {
            self.types.append(&mut types);
            self.diags.append(&mut diags);
            if let Some(rule) = rule {
                program.rules.push(rule);
            }
        }
        Compiled {
            program,
            diagnostics: self.diags,
            files: parsed.into_iter().map(|(id, f, _)| (id, f)).collect(),
            types: self.types,
        }
    }

    /// Checks every relation: its cases, the types of its columns (the union over the
    /// cases, found by checking again until they no longer change), and its stratum.
    fn relations(
        &mut self,
        parsed: &[(FileId, RuleFile, ast::File)],
        globals: &mut Globals,
        program: &mut Program,
    ) {
        let mut asts: Vec<(FileId, &ast::Relation)> = Vec::new();
        for (file_id, _, ast) in parsed {
            for item in &ast.items {
                if let ast::Item::Relation(r) = item {
                    // only the declaration that won a clash (`E0202`) is checked
                    if globals
                        .relations
                        .get(&r.name.text)
                        .is_some_and(|s| s.id == asts.len() && s.name_span == r.name.loc.0)
                    {
                        asts.push((*file_id, r));
                    }
                }
            }
        }
        if asts.is_empty() {
            return;
        }
        let mut pass = 0;
        let (relations, calls, diags, types) = loop {
            pass += 1;
            let mut relations = Vec::new();
            let mut calls: Vec<Vec<(usize, Span, bool)>> = Vec::new();
            let mut diags = Vec::new();
            let mut types = Vec::new();
            let mut changed = false;
            for (file_id, r) in &asts {
                let mut cases = Vec::new();
                let mut columns: Vec<Option<ir::KindSet>> = vec![None; r.params.len()];
                let mut mine = Vec::new();
                let mut failed = false;
                for c in &r.cases {
                    let mut rc = expr::RuleChecker::new(globals, program, *file_id);
                    if self.record {
                        rc.types = Some(Vec::new());
                    }
                    let checked = rc.case(r, c);
                    types.append(&mut rc.types.take().unwrap_or_default());
                    failed |= rc.diags.iter().any(Diagnostic::is_error);
                    diags.append(&mut rc.diags);
                    mine.append(&mut rc.rel_calls);
                    if let Some((case, cols)) = checked {
                        for (slot, k) in columns.iter_mut().zip(cols) {
                            *slot = Some(match slot.take() {
                                None => k,
                                Some(prev) => kind_union(prev, k),
                            });
                        }
                        cases.push(case);
                    }
                }
                let columns: Vec<ir::KindSet> = columns
                    .into_iter()
                    .map(|c| c.unwrap_or(ir::KindSet::All))
                    .collect();
                if let Some(sig) = globals.relations.get_mut(&r.name.text) {
                    if sig.columns != columns {
                        sig.columns = columns.clone();
                        changed = true;
                    }
                }
                relations.push(ir::Relation {
                    name: r.name.text.clone(),
                    params: r.params.iter().map(|p| p.text.clone()).collect(),
                    columns,
                    // a relation with errors holds nothing; the errors stop a scan anyway
                    cases: if failed { Vec::new() } else { cases },
                    recursive: false,
                    docs: r.docs.join("\n"),
                    name_span: r.name.loc.0,
                });
                calls.push(mine);
            }
            if !changed || pass >= 3 {
                break (relations, calls, diags, types);
            }
        };
        self.diags.extend(diags);
        self.types.extend(types);
        program.relations = relations;
        // strata: strongly connected components of the call graph, callees first
        let edges: Vec<Vec<usize>> = calls
            .iter()
            .map(|c| c.iter().map(|(to, _, _)| *to).collect())
            .collect();
        let sccs = strongly_connected(&edges);
        let mut component = vec![0usize; edges.len()];
        for (k, scc) in sccs.iter().enumerate() {
            for &r in scc {
                if let Some(slot) = component.get_mut(r) {
                    *slot = k;
                }
            }
        }
        for (k, scc) in sccs.iter().enumerate() {
            let recursive = scc.len() > 1
                || scc
                    .first()
                    .is_some_and(|&r| edges.get(r).is_some_and(|e| e.contains(&r)));
            let mut bad = false;
            for &r in scc {
                for &(to, span, positive) in calls.get(r).map_or(&[][..], |c| c.as_slice()) {
                    if !positive && component.get(to) == Some(&k) {
                        let (name, at) = program
                            .relations
                            .get(r)
                            .map(|x| (x.name.clone(), x.name_span))
                            .unwrap_or_default();
                        let (callee, callee_at) = program
                            .relations
                            .get(to)
                            .map(|x| (x.name.clone(), x.name_span))
                            .unwrap_or_default();
                        let mut d = Diagnostic::error(
                            "E0115",
                            format!("relation `{name}` depends on itself through a negation"),
                        )
                        .at(span, format!("`{callee}` is negated here, or counted"))
                        .with_help("a relation cannot be defined by its own negation: compute the negated part in a relation that does not depend on this one");
                        if to != r {
                            d = d.with_label(callee_at, format!("`{callee}` depends on `{name}`"));
                        } else {
                            d = d.with_label(at, "defined here");
                        }
                        self.diags.push(d);
                        bad = true;
                    }
                }
            }
            for &r in scc {
                if let Some(rel) = program.relations.get_mut(r) {
                    rel.recursive = recursive;
                    if bad {
                        rel.cases.clear();
                    }
                    for case in &mut rel.cases {
                        let all = case
                            .relation_calls()
                            .iter()
                            .filter(|(to, _)| component.get(*to) == Some(&k))
                            .count();
                        let sourced = case
                            .bindings
                            .iter()
                            .filter(|b| {
                                matches!(&b.source, ir::Source::Expr(e) if matches!(&**e, ir::Expr::Relation { rel: to, .. } if component.get(*to) == Some(&k)))
                            })
                            .count();
                        case.semi_naive = all == sourced;
                    }
                }
            }
        }
        program.strata = sccs;
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
        // decoded ahead from the same text, or decoded now
        let decoded = match self.tables_ahead.remove(&ahead::key(&target)) {
            Some(decoded) => decoded,
            None => ahead::decode_table(&text),
        };
        let value: serde_yaml::Value = match decoded {
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

/// The kinds of either set.
fn kind_union(a: ir::KindSet, b: ir::KindSet) -> ir::KindSet {
    match (a, b) {
        (a, b) if a == b => a,
        (ir::KindSet::Kinds(mut x), ir::KindSet::Kinds(y)) => {
            for k in y {
                if !x.contains(&k) {
                    x.push(k);
                }
            }
            x.sort();
            ir::KindSet::Kinds(x)
        }
        _ => ir::KindSet::All,
    }
}

/// The strongly connected components of a graph (Tarjan), each sorted, in an order where
/// every edge leads to the same or an earlier component.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct St<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(st: &mut St<'_>, v: usize) {
        let i = st.next;
        st.next += 1;
        st.index[v] = Some(i);
        st.low[v] = i;
        st.stack.push(v);
        st.on_stack[v] = true;
        let succ = st.edges.get(v).cloned().unwrap_or_default();
        for w in succ {
            if w >= st.index.len() {
                continue;
            }
            match st.index[w] {
                None => {
                    visit(st, w);
                    st.low[v] = st.low[v].min(st.low[w]);
                }
                Some(wi) if st.on_stack[w] => st.low[v] = st.low[v].min(wi),
                Some(_) => {}
            }
        }
        if Some(st.low[v]) == st.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            scc.sort_unstable();
            st.out.push(scc);
        }
    }
    let n = edges.len();
    let mut st = St {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if st.index[v].is_none() {
            visit(&mut st, v);
        }
    }
    st.out
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
