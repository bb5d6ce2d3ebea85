//! Text to AST: the pest grammar, error recovery per item, Pratt parsing of expressions,
//! and the translation of pest's internal rule names into human token names.

use super::ast::*;
use crate::diag::{Diagnostic, FileId, Span};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/lexical.pest"]
#[grammar = "../grammar/kanon.pest"]
struct KanonParser;

/// Deepest nesting of brackets accepted in one item; deeper input is an error, not a
/// stack overflow.
pub const MAX_NESTING: usize = 64;

/// Most operators (`not`, quantifiers, infix operators, `.` and `[` postfixes) accepted in
/// one item or interpolation. Operator chains such as `not not not ...`, `a or b or ...`
/// and `a.b.c...` build trees as deep as they are long, which every later stage walks
/// recursively: a longer chain is an error, not a stack overflow.
pub const MAX_OPERATORS: usize = 1024;

/// Deepest expression tree accepted (each operator, postfix, call or quantifier is one
/// level). The checker and the formatter walk trees recursively, so deeper trees are an
/// error here rather than a stack overflow there.
pub const MAX_DEPTH: usize = 100;

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left)
                | Op::infix(Rule::op_not_in, Assoc::Left)
                | Op::infix(Rule::op_matches, Assoc::Left)
                | Op::infix(Rule::op_contains, Assoc::Left)
                | Op::infix(Rule::op_starts_with, Assoc::Left)
                | Op::infix(Rule::op_ends_with, Assoc::Left)
                | Op::infix(Rule::op_selects, Assoc::Left))
            .op(Op::infix(Rule::op_coalesce, Assoc::Left))
            .op(Op::postfix(Rule::field_access) | Op::postfix(Rule::index_access))
    })
}

/// Parses a rule file. Returns every item that parsed and one diagnostic per broken item.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let mut items = Vec::new();
    let mut diags = Vec::new();
    for (start, end) in split_items(text) {
        let chunk = text.get(start..end).unwrap_or("");
        if only_comments(chunk) {
            continue;
        }
        let mut p = Lower {
            file,
            base: start,
            diags: Vec::new(),
        };
        if let Some(item) = p.parse_item(chunk) {
            items.push(item);
        }
        diags.append(&mut p.diags);
    }
    (File { items }, diags)
}

/// Parses one expression (used by tests and tools).
pub fn parse_expr(file: FileId, text: &str) -> Result<Expr, Box<Diagnostic>> {
    let mut p = Lower {
        file,
        base: 0,
        diags: Vec::new(),
    };
    p.expr_text(text, 0).ok_or_else(|| {
        Box::new(p.diags.into_iter().next().unwrap_or_else(|| {
            Diagnostic::error("E0001", "invalid expression").at(Span::new(file, 0..text.len()), "")
        }))
    })
}

/// Splits a file into item chunks: an item starts at a line whose first word is an item
/// keyword (or `///`) while no brace is open. Strings and comments are skipped.
fn split_items(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0usize];
    let mut depth: i64 = 0;
    let mut line_start = true;
    let mut prev_doc = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if line_start {
            let rest = text.get(i..).unwrap_or("");
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let at = i + (rest.len() - trimmed.len());
            let is_doc = trimmed.starts_with("///") && !trimmed.starts_with("////");
            let is_kw = ["rule ", "param ", "table ", "def ", "import ", "relation "]
                .iter()
                .any(|k| trimmed.starts_with(k));
            if depth <= 0 && (is_kw || is_doc) && !prev_doc && at > 0 {
                starts.push(at);
                depth = 0;
            }
            if !trimmed.is_empty() && !trimmed.starts_with('\n') && !trimmed.starts_with("\r\n") {
                prev_doc = is_doc;
            }
            line_start = false;
        }
        match b {
            b'\n' => line_start = true,
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\n') {
                    line_start = true;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while let Some(&c) = bytes.get(i) {
                    if c == b'\n' {
                        line_start = true;
                        break;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    starts.dedup();
    let mut out = Vec::new();
    for (k, s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(text.len());
        out.push((*s, e));
    }
    out
}

fn only_comments(chunk: &str) -> bool {
    chunk.lines().all(|l| {
        let t = l.trim();
        let doc = t.starts_with("///") && !t.starts_with("////");
        t.is_empty() || (t.starts_with("//") && !doc)
    })
}

/// The deepest nesting of brackets outside strings, with the offset of the bracket that
/// first reached it. Works on bytes: every byte it looks for is ASCII, and no byte of a
/// multi-byte character is.
fn max_nesting(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut max = (0, 0);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i + 1),
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max.0 {
                    max = (depth, i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

/// The offset of the `"` or line break that ends a string whose text starts at `i` (`\`
/// escapes the byte after it), or the length of `bytes`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' => i += 1,
            b'"' | b'\n' => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Whether a word is one of the operator words [`operator_count`] counts.
fn is_operator_word(word: &[u8]) -> bool {
    matches!(
        word,
        b"not"
            | b"and"
            | b"or"
            | b"in"
            | b"any"
            | b"all"
            | b"none"
            | b"exists"
            | b"count"
            | b"matches"
            | b"contains"
            | b"starts"
            | b"ends"
            | b"selects"
    )
}

/// Counts operator tokens outside strings and comments, and returns the count with the
/// offset where the count first exceeded [`MAX_OPERATORS`] (or 0).
fn operator_count(text: &str) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut count = 0usize;
    let mut over_at = 0usize;
    let mut i = 0usize;
    let mut bump = |count: &mut usize, at: usize| {
        *count += 1;
        if *count == MAX_OPERATORS + 1 {
            over_at = at;
        }
    };
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => i = string_end(bytes, i + 1),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|c| *c != b'\n') {
                    i += 1;
                }
            }
            b'.' | b'[' | b'<' | b'>' => bump(&mut count, i),
            b'=' | b'!' | b'?' if bytes.get(i + 1).is_some_and(|c| *c == b'=' || *c == b'?') => {
                bump(&mut count, i);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                let word = bytes.get(start..=i).unwrap_or(&[]);
                if is_operator_word(word) && bytes.get(start.wrapping_sub(1)) != Some(&b'.') {
                    bump(&mut count, start);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (count, over_at)
}

/// The depth of an expression tree (a leaf is 1). Recursive, but only over trees built
/// from at most [`MAX_OPERATORS`] operators and [`MAX_NESTING`] brackets.
fn depth(e: &Expr) -> usize {
    1 + match &e.kind {
        ExprKind::List(items) | ExprKind::Call(_, items) => {
            items.iter().map(depth).max().unwrap_or(0)
        }
        ExprKind::Field(b, _) | ExprKind::Unary(_, b) => depth(b),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => depth(a).max(depth(b)),
        ExprKind::Quantified { source, cond, .. } => {
            depth(source).max(cond.as_deref().map_or(0, depth))
        }
        _ => 0,
    }
}

/// The expressions of an item, outside message interpolations (those are checked when
/// they are parsed).
fn item_exprs(item: &Item) -> Vec<&Expr> {
    match item {
        Item::Import(_) | Item::Table(_) => Vec::new(),
        Item::Param(p) => p.default.iter().collect(),
        Item::Def(d) => vec![&d.body],
        Item::Rule(r) => r
            .bindings
            .iter()
            .map(|b| &b.source)
            .chain(r.condition.iter())
            .chain(r.report.at.iter())
            .collect(),
        Item::Relation(r) => r
            .cases
            .iter()
            .flat_map(|c| {
                c.bindings
                    .iter()
                    .map(|b| &b.source)
                    .chain(c.condition.iter())
                    .chain(c.step.iter().filter_map(|s| s.at.as_ref()))
            })
            .collect(),
    }
}

fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0002",
        format!("expression nested more than {MAX_DEPTH} levels deep"),
    )
    .at(span, "too deeply nested")
    .with_help("split the expression into named predicates with `def`")
}

struct Lower {
    file: FileId,
    base: usize,
    diags: Vec<Diagnostic>,
}

impl Lower {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.base + s.start()..self.base + s.end())
    }

    fn parse_item(&mut self, chunk: &str) -> Option<Item> {
        if !self.within_limits(chunk, self.base) {
            return None;
        }
        match KanonParser::parse(Rule::item_entry, chunk) {
            Ok(mut pairs) => {
                let entry = pairs.next()?;
                let item = entry.into_inner().next()?;
                let item = self.item(item)?;
                let deepest = item_exprs(&item)
                    .into_iter()
                    .map(|e| (depth(e), e.span()))
                    .max_by_key(|(d, _)| *d);
                match deepest {
                    Some((d, span)) if d > MAX_DEPTH => {
                        self.diags.push(too_deep(span));
                        None
                    }
                    _ => Some(item),
                }
            }
            Err(e) => {
                self.diags
                    .push(syntax_error(self.file, self.base, chunk, &e));
                None
            }
        }
    }

    /// Checks the nesting and operator limits of a text about to be parsed at `offset`;
    /// reports a diagnostic and returns false when it exceeds them.
    fn within_limits(&mut self, text: &str, offset: usize) -> bool {
        let (depth, at) = max_nesting(text);
        if depth > MAX_NESTING {
            self.diags.push(
                Diagnostic::error(
                    "E0002",
                    format!("brackets nested more than {MAX_NESTING} levels deep"),
                )
                .at(
                    Span::new(self.file, offset + at..offset + at + 1),
                    "too deeply nested",
                )
                .with_help("split the expression into named predicates with `def`"),
            );
            return false;
        }
        let (count, at) = operator_count(text);
        if count > MAX_OPERATORS {
            self.diags.push(
                Diagnostic::error(
                    "E0002",
                    format!("more than {MAX_OPERATORS} operators in one item"),
                )
                .at(
                    Span::new(self.file, offset + at..offset + at + 1),
                    "too many operators from here on",
                )
                .with_help("split the expression into named predicates with `def`"),
            );
            return false;
        }
        true
    }

    fn item(&mut self, p: Pair<'_, Rule>) -> Option<Item> {
        let loc = Loc(self.span(&p));
        match p.as_rule() {
            Rule::import => {
                let path = self.string(p.into_inner().next()?);
                Some(Item::Import(Import { path, loc }))
            }
            Rule::param => {
                let mut docs = Vec::new();
                let mut name = None;
                let mut ty = None;
                let mut default = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::doc => docs.push(doc_text(c.as_str())),
                        Rule::ident => name = Some(self.name(&c)),
                        Rule::type_expr => ty = Some(self.type_expr(c)?),
                        Rule::expr => default = Some(self.expr(c)?),
                        _ => {}
                    }
                }
                Some(Item::Param(Param {
                    docs,
                    name: name?,
                    ty: ty?,
                    default,
                    loc,
                }))
            }
            Rule::table => {
                let mut docs = Vec::new();
                let mut name = None;
                let mut path = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::doc => docs.push(doc_text(c.as_str())),
                        Rule::ident => name = Some(self.name(&c)),
                        Rule::string => path = Some(self.string(c)),
                        _ => {}
                    }
                }
                Some(Item::Table(Table {
                    docs,
                    name: name?,
                    path: path?,
                    loc,
                }))
            }
            Rule::def => {
                let mut docs = Vec::new();
                let mut names = Vec::new();
                let mut body = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::doc => docs.push(doc_text(c.as_str())),
                        Rule::ident => names.push(self.name(&c)),
                        Rule::expr => body = Some(self.expr(c)?),
                        _ => {}
                    }
                }
                let mut names = names.into_iter();
                let name = names.next()?;
                Some(Item::Def(Def {
                    docs,
                    name,
                    params: names.collect(),
                    body: body?,
                    loc,
                }))
            }
            Rule::rule => self.rule(p, loc).map(Item::Rule),
            Rule::relation => self.relation(p, loc).map(Item::Relation),
            _ => None,
        }
    }

    fn rule(&mut self, p: Pair<'_, Rule>, loc: Loc) -> Option<crate::syntax::ast::Rule> {
        let mut docs = Vec::new();
        let mut id = None;
        let mut name = None;
        let mut meta = Vec::new();
        let mut bindings = Vec::new();
        let mut condition = None;
        let mut report = None;
        let mut fix = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::doc => docs.push(doc_text(c.as_str())),
                Rule::rule_id => id = Some(self.name(&c)),
                Rule::rule_name => name = Some(self.name(&c)),
                Rule::meta_title => meta.push(Meta::Title(self.string(c.into_inner().next()?))),
                Rule::meta_fix => meta.push(Meta::Fix(self.string(c.into_inner().next()?))),
                Rule::meta_severity => {
                    meta.push(Meta::Severity(self.name(&c.into_inner().next()?)));
                }
                Rule::meta_owasp => meta.push(Meta::Owasp(self.strings(c))),
                Rule::meta_refs => meta.push(Meta::Refs(self.strings(c))),
                Rule::meta_tags => meta.push(Meta::Tags(self.strings(c))),
                Rule::for_clause => {
                    for b in c.into_inner() {
                        let mut parts = b.into_inner();
                        let var = self.name(&parts.next()?);
                        let source = self.source(parts.next()?)?;
                        bindings.push(Binding { var, source });
                    }
                }
                Rule::where_clause => condition = Some(self.expr(c.into_inner().next()?)?),
                Rule::fix_clause => fix = Some(Box::new(self.fix(c)?)),
                Rule::report_clause => {
                    let mut at = None;
                    let mut message = None;
                    for r in c.into_inner() {
                        match r.as_rule() {
                            Rule::expr => at = Some(self.expr(r)?),
                            Rule::string => message = Some(self.message(r)?),
                            _ => {}
                        }
                    }
                    report = Some(Report {
                        at,
                        message: message?,
                    });
                }
                _ => {}
            }
        }
        Some(crate::syntax::ast::Rule {
            docs,
            id: id?,
            name: name?,
            meta,
            bindings,
            condition,
            report: report?,
            fix,
            loc,
        })
    }

    fn fix(&mut self, p: Pair<'_, Rule>) -> Option<Fix> {
        let loc = Loc(self.span(&p));
        let mut kind = None;
        let mut reason = None;
        let mut condition = None;
        let mut actions = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::fix_kind => kind = Some(self.name(&c)),
                Rule::where_clause => condition = Some(self.expr(c.into_inner().next()?)?),
                Rule::string => reason = Some(self.string(c)),
                Rule::fix_set => {
                    let mut e = c.into_inner().filter(|x| x.as_rule() == Rule::expr);
                    let path = self.expr(e.next()?)?;
                    let value = self.expr(e.next()?)?;
                    actions.push(FixAction::Set { path, value });
                }
                Rule::fix_remove => {
                    let e = c.into_inner().find(|x| x.as_rule() == Rule::expr)?;
                    actions.push(FixAction::Remove {
                        path: self.expr(e)?,
                    });
                }
                Rule::fix_remove_each => {
                    let mut var = None;
                    let mut list = None;
                    let mut condition = None;
                    for x in c.into_inner() {
                        match x.as_rule() {
                            Rule::ident => var = Some(self.name(&x)),
                            Rule::source => list = Some(self.source(x)?),
                            Rule::expr => condition = Some(self.expr(x)?),
                            _ => {}
                        }
                    }
                    actions.push(FixAction::RemoveEach {
                        var: var?,
                        list: list?,
                        condition,
                    });
                }
                Rule::fix_add => {
                    let mut e = c.into_inner().filter(|x| x.as_rule() == Rule::expr);
                    let value = self.expr(e.next()?)?;
                    let list = self.expr(e.next()?)?;
                    actions.push(FixAction::Add { value, list });
                }
                _ => {}
            }
        }
        Some(Fix {
            kind: kind?,
            reason,
            condition,
            actions,
            loc,
        })
    }

    fn relation(&mut self, p: Pair<'_, Rule>, loc: Loc) -> Option<Relation> {
        let mut docs = Vec::new();
        let mut names = Vec::new();
        let mut cases = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::doc => docs.push(doc_text(c.as_str())),
                Rule::ident => names.push(self.name(&c)),
                Rule::relation_case => cases.push(self.case(c)?),
                _ => {}
            }
        }
        let mut names = names.into_iter();
        Some(Relation {
            docs,
            name: names.next()?,
            params: names.collect(),
            cases,
            loc,
        })
    }

    fn case(&mut self, p: Pair<'_, Rule>) -> Option<Case> {
        let loc = Loc(self.span(&p));
        let mut bindings = Vec::new();
        let mut condition = None;
        let mut step = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::for_clause => bindings = self.bindings(c)?,
                Rule::where_clause => condition = Some(self.expr(c.into_inner().next()?)?),
                Rule::step_clause => step = Some(self.report(c)?),
                _ => {}
            }
        }
        Some(Case {
            bindings,
            condition,
            step,
            loc,
        })
    }

    fn bindings(&mut self, p: Pair<'_, Rule>) -> Option<Vec<Binding>> {
        let mut out = Vec::new();
        for b in p.into_inner() {
            let mut parts = b.into_inner();
            let var = self.name(&parts.next()?);
            let source = self.source(parts.next()?)?;
            out.push(Binding { var, source });
        }
        Some(out)
    }

    /// A `report` or `step` clause: an optional `at` expression and a message.
    fn report(&mut self, p: Pair<'_, Rule>) -> Option<Report> {
        let mut at = None;
        let mut message = None;
        for r in p.into_inner() {
            match r.as_rule() {
                Rule::expr => at = Some(self.expr(r)?),
                Rule::string => message = Some(self.message(r)?),
                _ => {}
            }
        }
        Some(Report {
            at,
            message: message?,
        })
    }

    fn name(&self, p: &Pair<'_, Rule>) -> Name {
        Name {
            text: p.as_str().to_string(),
            loc: Loc(self.span(p)),
        }
    }

    fn string(&self, p: Pair<'_, Rule>) -> Str {
        let loc = Loc(self.span(&p));
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        Str {
            value: unescape(raw),
            loc,
        }
    }

    fn strings(&self, p: Pair<'_, Rule>) -> Vec<Str> {
        p.into_inner().map(|s| self.string(s)).collect()
    }

    fn type_expr(&self, p: Pair<'_, Rule>) -> Option<TypeExpr> {
        let inner = p.into_inner().next()?;
        match inner.as_rule() {
            Rule::list_type => Some(TypeExpr::List(Box::new(
                self.type_expr(inner.into_inner().next()?)?,
            ))),
            _ => Some(TypeExpr::Named(self.name(&inner))),
        }
    }

    /// A message: the string's text (escapes resolved) split into literal text and `{expr}`
    /// parts. `{{` and `}}` are literal braces; inside `{...}` a string literal may hold
    /// braces, and its quotes are written `\"` like every quote of the message.
    fn message(&mut self, p: Pair<'_, Rule>) -> Option<Message> {
        let loc = Loc(self.span(&p));
        let inner = p.into_inner().next()?;
        let raw_start = self.base + inner.as_span().start();
        let chars = decode(inner.as_str());
        let at = |k: usize| chars.get(k).map(|(_, c)| *c);
        let raw_pos = |k: usize| raw_start + chars.get(k).map_or(0, |(o, _)| *o);
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut k = 0;
        while let Some(c) = at(k) {
            match c {
                '{' if at(k + 1) == Some('{') => {
                    text.push('{');
                    k += 2;
                }
                '}' if at(k + 1) == Some('}') => {
                    text.push('}');
                    k += 2;
                }
                '{' => {
                    let Some(close) = interpolation_end(&chars, k + 1) else {
                        self.diags.push(
                            Diagnostic::error("E0003", "unclosed `{` in message")
                                .at(
                                    Span::new(self.file, raw_pos(k)..raw_pos(k) + 1),
                                    "this `{` has no matching `}`",
                                )
                                .with_help("close it with `}` to show a value (`{w.name}`), or write `{{` for a literal brace"),
                        );
                        return None;
                    };
                    if !text.is_empty() {
                        parts.push(MessagePart::Text(std::mem::take(&mut text)));
                    }
                    // spans inside are one byte early per escape before them
                    let src: String = chars
                        .get(k + 1..close)
                        .unwrap_or(&[])
                        .iter()
                        .map(|(_, c)| *c)
                        .collect();
                    let e = self.expr_text(&src, raw_pos(k + 1))?;
                    parts.push(MessagePart::Expr(e));
                    k = close + 1;
                }
                c => {
                    text.push(c);
                    k += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(MessagePart::Text(text));
        }
        Some(Message { parts, loc })
    }

    fn expr_text(&mut self, src: &str, offset: usize) -> Option<Expr> {
        if !self.within_limits(src, offset) {
            return None;
        }
        let saved = self.base;
        self.base = offset;
        let result = match KanonParser::parse(Rule::expr_entry, src) {
            Ok(mut pairs) => match pairs
                .next()
                .and_then(|e| e.into_inner().next())
                .and_then(|e| self.expr(e))
            {
                Some(e) if depth(&e) > MAX_DEPTH => {
                    self.diags.push(too_deep(e.span()));
                    None
                }
                other => other,
            },
            Err(e) => {
                self.diags.push(syntax_error(self.file, offset, src, &e));
                None
            }
        };
        self.base = saved;
        result
    }

    fn source(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let mut inner = p.into_inner();
        let mut e = self.primary(inner.next()?)?;
        for post in inner {
            e = self.postfix(e, post)?;
        }
        Some(e)
    }

    fn expr(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let pairs = p.into_inner();
        self.pratt(pairs)
    }

    fn pratt(&mut self, pairs: Pairs<'_, Rule>) -> Option<Expr> {
        // The Pratt parser's closures cannot borrow `self` mutably at once, so collect
        // diagnostics in a cell-free way: run with a shared reference and lower after.
        let file = self.file;
        let base = self.base;
        let me = std::cell::RefCell::new(std::mem::replace(
            self,
            Lower {
                file,
                base,
                diags: Vec::new(),
            },
        ));
        let result = pratt()
            .map_primary(|p| me.borrow_mut().primary(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = me.borrow().span(&op).to(rhs.span());
                Some(Expr::new(
                    ExprKind::Unary(UnaryOp::Not, Box::new(rhs)),
                    span,
                ))
            })
            .map_postfix(|lhs, op| {
                let lhs = lhs?;
                me.borrow_mut().postfix(lhs, op)
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let bop = binary_op(op.as_rule())?;
                let span = lhs.span().to(rhs.span());
                Some(Expr::new(
                    ExprKind::Binary(bop, Box::new(lhs), Box::new(rhs)),
                    span,
                ))
            })
            .parse(pairs);
        *self = me.into_inner();
        result
    }

    fn postfix(&mut self, lhs: Expr, op: Pair<'_, Rule>) -> Option<Expr> {
        let span = lhs.span().to(self.span(&op));
        match op.as_rule() {
            Rule::field_access => {
                let name = self.name(&op.into_inner().next()?);
                Some(Expr::new(ExprKind::Field(Box::new(lhs), name), span))
            }
            Rule::index_access => {
                let idx = self.expr(op.into_inner().next()?)?;
                Some(Expr::new(
                    ExprKind::Index(Box::new(lhs), Box::new(idx)),
                    span,
                ))
            }
            _ => None,
        }
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Option<Expr> {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::paren => {
                let mut e = self.expr(p.into_inner().next()?)?;
                e.loc = Loc(span);
                return Some(e);
            }
            Rule::string => ExprKind::Str(self.string(p).value),
            Rule::number => {
                let s = p.as_str();
                if s.contains('.') {
                    ExprKind::Float(s.parse().ok()?)
                } else {
                    match s.parse() {
                        Ok(i) => ExprKind::Int(i),
                        Err(_) => {
                            self.diags.push(
                                Diagnostic::error("E0004", format!("number `{s}` is too large"))
                                    .at(span, "does not fit in 64 bits"),
                            );
                            return None;
                        }
                    }
                }
            }
            Rule::lit_true => ExprKind::Bool(true),
            Rule::lit_false => ExprKind::Bool(false),
            Rule::lit_null => ExprKind::Null,
            Rule::ident => ExprKind::Var(p.as_str().to_string()),
            Rule::list => {
                let mut items = Vec::new();
                for e in p.into_inner() {
                    items.push(self.expr(e)?);
                }
                ExprKind::List(items)
            }
            Rule::call => {
                let mut inner = p.into_inner();
                let name = self.name(&inner.next()?);
                let mut args = Vec::new();
                for a in inner {
                    args.push(self.expr(a)?);
                }
                ExprKind::Call(name, args)
            }
            Rule::quantifier => {
                let mut inner = p.into_inner();
                let quant = match inner.next()?.as_str() {
                    "any" => Quant::Any,
                    "all" => Quant::All,
                    "none" => Quant::None,
                    "exists" => Quant::Exists,
                    _ => Quant::Count,
                };
                let mut body = inner.next()?.into_inner();
                let var = self.name(&body.next()?);
                let source = self.source(body.next()?)?;
                let cond = match body.next() {
                    Some(c) => Some(Box::new(self.expr(c)?)),
                    None => None,
                };
                ExprKind::Quantified {
                    quant,
                    var,
                    source: Box::new(source),
                    cond,
                }
            }
            _ => return None,
        };
        Some(Expr::new(kind, span))
    }
}

fn binary_op(r: Rule) -> Option<BinaryOp> {
    Some(match r {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_in => BinaryOp::In,
        Rule::op_not_in => BinaryOp::NotIn,
        Rule::op_matches => BinaryOp::Matches,
        Rule::op_contains => BinaryOp::Contains,
        Rule::op_starts_with => BinaryOp::StartsWith,
        Rule::op_ends_with => BinaryOp::EndsWith,
        Rule::op_selects => BinaryOp::Selects,
        Rule::op_coalesce => BinaryOp::Coalesce,
        _ => return None,
    })
}

fn doc_text(raw: &str) -> String {
    let t = raw.strip_prefix("///").unwrap_or(raw);
    t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
}

/// Resolves the escapes of a string literal's raw text.
pub fn unescape(raw: &str) -> String {
    decode(raw).into_iter().map(|(_, c)| c).collect()
}

/// The characters of a string literal's raw text with their byte offsets in it, escapes
/// resolved: `\n`, `\t`, `\r`, `\u{hex}`; any other escaped character stands for itself.
fn decode(raw: &str) -> Vec<(usize, char)> {
    let mut out = Vec::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push((i, c));
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push((i, '\n')),
            Some((_, 't')) => out.push((i, '\t')),
            Some((_, 'r')) => out.push((i, '\r')),
            Some((j, 'u')) => {
                let rest = raw.get(j + 1..).unwrap_or("");
                let code = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(hex, _)| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                match code {
                    Some(ch) => {
                        out.push((i, ch));
                        while chars.next_if(|(_, c)| *c != '}').is_some() {}
                        chars.next();
                    }
                    None => out.push((i, 'u')),
                }
            }
            Some((_, other)) => out.push((i, other)),
            None => out.push((i, '\\')),
        }
    }
    out
}

/// The index of the `}` closing an interpolation whose expression starts at `from`:
/// braces inside string literals of the expression do not count.
fn interpolation_end(chars: &[(usize, char)], from: usize) -> Option<usize> {
    let mut in_str = false;
    let mut k = from;
    while let Some((_, c)) = chars.get(k) {
        match c {
            '\\' if in_str => k += 1,
            '"' => in_str = !in_str,
            '}' if !in_str => return Some(k),
            _ => {}
        }
        k += 1;
    }
    None
}

/// The human name of a grammar rule, as shown in "expected ..." messages.
fn human(r: Rule) -> &'static str {
    match r {
        Rule::ident => "a name",
        Rule::field_name => "a field name",
        Rule::rule_id => "a rule id such as `K01-001`",
        Rule::rule_name => "a kebab-case rule name",
        Rule::string | Rule::string_inner => "a string",
        Rule::number => "a number",
        Rule::doc => "a doc comment",
        Rule::item
        | Rule::import
        | Rule::param
        | Rule::table
        | Rule::def
        | Rule::rule
        | Rule::relation => "an item (`rule`, `def`, `param`, `table`, `import`)",
        Rule::relation_case => "`case`",
        Rule::step_clause => "`step`",
        Rule::type_expr | Rule::list_type => "a type",
        Rule::meta_title => "`title`",
        Rule::meta_severity => "`severity`",
        Rule::meta_owasp => "`owasp`",
        Rule::meta_refs => "`refs`",
        Rule::meta_fix => "`fix`",
        Rule::meta_tags => "`tags`",
        Rule::for_clause => "`for`",
        Rule::binding => "a binding such as `w in workloads`",
        Rule::where_clause => "`where`",
        Rule::report_clause => "`report`",
        Rule::fix_clause => "`fix safe { ... }`",
        Rule::fix_kind => "`safe` or `unsafe`",
        Rule::fix_set | Rule::kw_set => "`set`",
        Rule::fix_remove | Rule::fix_remove_each | Rule::kw_remove => "`remove`",
        Rule::fix_add | Rule::kw_add => "`add`",
        Rule::kw_to => "`to`",
        Rule::expr
        | Rule::expr_entry
        | Rule::source
        | Rule::paren
        | Rule::quantifier
        | Rule::quant_kw
        | Rule::quant_body
        | Rule::call
        | Rule::list
        | Rule::lit_true
        | Rule::lit_false
        | Rule::lit_null
        | Rule::op_not => "an expression",
        Rule::field_access => "`.`",
        Rule::index_access => "`[`",
        Rule::op_or
        | Rule::op_and
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_in
        | Rule::op_matches
        | Rule::op_contains
        | Rule::op_starts_with
        | Rule::op_ends_with
        | Rule::op_selects
        | Rule::op_coalesce => "an operator",
        Rule::EOI => "end of input",
        _ => "something else",
    }
}

/// The word `s` starts with (a name, keyword, number or kebab-case rule name), or ``.
fn leading_word(s: &str) -> &str {
    if !s.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        return "";
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    s.get(..end).unwrap_or("")
}

/// The token at the start of `rest`, as a word or a single character.
fn token(rest: &str) -> &str {
    let rest = rest.trim_start();
    match leading_word(rest) {
        "" => rest
            .chars()
            .next()
            .and_then(|c| rest.get(..c.len_utf8()))
            .unwrap_or(""),
        word => word,
    }
}

fn found_token(rest: &str) -> String {
    let tok = token(rest);
    if tok.is_empty() {
        return "end of input".to_string();
    }
    let tok: String = tok.chars().take(40).collect();
    format!("`{tok}`")
}

fn syntax_error(
    file: FileId,
    base: usize,
    chunk: &str,
    e: &pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = chunk.get(pos..).unwrap_or("");
    let found = found_token(rest);
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().map(|r| human(*r)).collect();
            names.sort_unstable();
            names.dedup();
            if names.contains(&"an expression") {
                names.retain(|n| !matches!(*n, "a name" | "a number" | "a string"));
            }
            names
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let list = join_or(&expected);
    let message = if list.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {list}, found {found}")
    };
    let skipped = rest.len() - rest.trim_start().len();
    let start = base + pos + skipped;
    let tok_len = token(rest).len();
    let label = if list.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {list}")
    };
    let at = Span::new(file, start..start + tok_len);
    let trimmed = rest.trim_start();
    // operators from other languages
    for (written, ours) in [
        ("&&", "and"),
        ("||", "or"),
        ("!=", ""),
        ("==", ""),
        ("=~", "matches"),
        ("~=", "matches"),
        ("!", "not"),
    ] {
        if !ours.is_empty() && trimmed.starts_with(written) {
            let len = written.len();
            return Diagnostic::error("E0001", format!("`{written}` is not a kanon operator"))
                .at(
                    Span::new(file, start..start + len),
                    format!("write `{ours}`"),
                )
                .with_help(format!(
                    "kanon writes `{ours}` where other languages write `{written}`"
                ));
        }
    }
    if trimmed.starts_with('=') && !trimmed.starts_with("==") {
        return Diagnostic::error("E0001", "`=` is not a comparison")
            .at(Span::new(file, start..start + 1), "a single `=`")
            .with_help("compare with `==`");
    }
    if let Some(d) = likely_fix(file, base, chunk, pos, &expected, at) {
        return d;
    }
    // a bracket still open where the error is: say so, at the bracket
    if let Some((open, ch)) = unclosed(chunk.get(..pos).unwrap_or(""), "([", ")]") {
        let close = if ch == '(' { ')' } else { ']' };
        return Diagnostic::error("E0001", format!("unclosed `{ch}`"))
            .at(at, format!("expected `{close}` before {found}"))
            .with_label(
                Span::new(file, base + open..base + open + 1),
                format!("this `{ch}` is not closed"),
            )
            .with_help(format!("add `{close}`"));
    }
    Diagnostic::error("E0001", message).at(at, label)
}

/// The reserved words of `grammar/lexical.pest` (`keyword`).
const KEYWORDS: [&str; 28] = [
    "and", "or", "not", "in", "for", "where", "report", "at", "exists", "any", "all", "none",
    "count", "true", "false", "null", "rule", "param", "table", "def", "import", "from", "selects",
    "matches", "contains", "starts", "ends", "with",
];

/// Binary operators, as written, longest first where one ends another; a word operator
/// is preceded by a space.
const OPERATORS: [&str; 16] = [
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "??",
    " not in",
    " starts with",
    " ends with",
    " and",
    " or",
    " in",
    " matches",
    " contains",
    " selects",
];

/// A syntax error whose likely cause is known, with a message that names the fix: `is
/// null`, a second `where`, an unclosed rule, `lst<...>`, a missing `report`, an operator
/// with nothing after it, a trailing `,`, a reserved word as a binding, an unquoted
/// message, `report` without `at`, a binding without `in`, misspelt metadata.
fn likely_fix(
    file: FileId,
    base: usize,
    chunk: &str,
    pos: usize,
    expected: &[&str],
    at: Span,
) -> Option<Diagnostic> {
    let rest = chunk.get(pos..).unwrap_or("").trim_start();
    let word = leading_word(rest);
    let wants = |what: &str| expected.contains(&what);
    // the source before the error, up to its last token
    let before = chunk.get(..pos).unwrap_or("").trim_end();
    if word == "is" && wants("an operator") {
        return Some(
            Diagnostic::error("E0001", "`is` is not a kanon operator")
                .at(at, "write `==` or `!=`")
                .with_help(
                    "write `x == null` for `x is null`, and `x != null` for `x is not null`",
                ),
        );
    }
    if word == "where" && wants("`report`") {
        return Some(
            Diagnostic::error("E0001", "a rule has one `where` clause")
                .at(at, "a second `where`")
                .with_help("join the conditions with `and`: `where A and B`"),
        );
    }
    // the item ends with its rule's `{` still open
    if chunk.trim_start().starts_with("rule ") || chunk.contains("\nrule ") {
        if let Some((open, _)) = unclosed(chunk, "{", "}") {
            let rest_of_item = chunk.get(pos..).unwrap_or("");
            if !rest_of_item.contains('}') {
                return Some(
                    Diagnostic::error("E0001", "the rule is not closed")
                        .at(
                            Span::new(file, base + open..base + open + 1),
                            "this `{` is not closed",
                        )
                        .with_help("add `}` after the rule's `report` clause"),
                );
            }
        }
    }
    // `lst<string>`: a misspelt `list`
    if rest.starts_with('<') && chunk.trim_start().starts_with("param ") {
        let name = before
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if !name.is_empty() && name != "list" {
            let end = base + before.len();
            return Some(
                Diagnostic::error("E0001", format!("`{name}<...>` is not a type"))
                    .at(
                        Span::new(file, end - name.len()..end),
                        "not a type with parameters",
                    )
                    .with_help(
                        "did you mean `list<...>`? (`list` is the only type with a parameter)",
                    ),
            );
        }
    }
    if rest.starts_with('}') && wants("`report`") {
        return Some(
            Diagnostic::error("E0001", "the rule has no `report` clause")
                .at(at, "the rule ends here")
                .with_help("end the rule with `report at EXPR \"message\"`"),
        );
    }
    if expected == ["an expression"] {
        if let Some(op) = OPERATORS.iter().find(|op| before.ends_with(**op)) {
            let op = op.trim_start();
            let end = base + before.len();
            return Some(
                Diagnostic::error("E0001", format!("`{op}` needs a right-hand side"))
                    .at(Span::new(file, end - op.len()..end), "nothing follows it")
                    .with_help(format!("write an expression after `{op}`, or remove it")),
            );
        }
    }
    if wants("a name") && before.ends_with(',') {
        let end = base + before.len();
        return Some(
            Diagnostic::error("E0001", "a `,` with no binding after it")
                .at(Span::new(file, end - 1..end), "nothing follows this `,`")
                .with_help("remove the `,`, or add a binding such as `c in w.containers`"),
        );
    }
    // a reserved word where a binding's name goes: `for in in workloads`
    let used_as_binding = rest
        .get(word.len()..)
        .is_some_and(|r| r.trim_start().starts_with("in "));
    if wants("a name") && KEYWORDS.contains(&word) && used_as_binding {
        return Some(
            Diagnostic::error(
                "E0001",
                format!("`{word}` is a reserved word and cannot name a binding"),
            )
            .at(at, "reserved")
            .with_help(format!("pick another name, such as `{word}_`")),
        );
    }
    if wants("a string")
        && wants("an operator")
        && word.chars().next().is_some_and(char::is_alphabetic)
    {
        return Some(
            Diagnostic::error("E0001", "the message must be a string")
                .at(at, "expected a quoted message")
                .with_help(format!(
                    "write `\"...\"`, for example `\"{{{word}}} ...\"` to show `{word}`"
                )),
        );
    }
    if before.ends_with("report") && wants("a string") && !word.is_empty() && word != "at" {
        return Some(
            Diagnostic::error("E0001", "expected `at` or a message after `report`")
                .at(at, "expected `at` before this")
                .with_help(format!(
                    "write `report at {word} \"...\"`, or `report \"...\"` to report at the first object bound by `for`"
                )),
        );
    }
    // `for w workloads`: a binding's name without `in`
    if wants("a binding such as `w in workloads`") && !word.is_empty() {
        let next = rest.get(word.len()..).unwrap_or("");
        let skipped = next.len() - next.trim_start().len();
        let after: usize = next
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .map(char::len_utf8)
            .sum();
        if after > 0 && !next.trim_start().starts_with("in ") {
            let start = at.start as usize + word.len() + skipped;
            let source = next.trim_start().get(..after).unwrap_or("");
            return Some(
                Diagnostic::error("E0001", format!("expected `in` after `{word}`"))
                    .at(
                        Span::new(file, start..start + after),
                        "expected `in` before this",
                    )
                    .with_help(format!(
                        "a binding is a name, `in` and a source: `{word} in {source}`"
                    )),
            );
        }
    }
    let metadata = ["title", "severity", "owasp", "refs", "fix", "tags"];
    if wants("`severity`") && wants("`title`") && !word.is_empty() {
        let d = Diagnostic::error("E0001", format!("unknown metadata `{word}`"))
            .at(at, "not a metadata keyword");
        return Some(match crate::diag::suggest(word, metadata) {
            Some(m) => d.with_help(format!("did you mean `{m}`?")),
            None => d.with_help("rule metadata is `title`, `severity`, `owasp`, `refs`, `fix` or `tags`, before `for`"),
        });
    }
    None
}

/// The innermost of the `opening` brackets still open at the end of `text` (strings and
/// comments skipped), with its byte offset.
fn unclosed(text: &str, opening: &str, closing: &str) -> Option<(usize, char)> {
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut in_str = false;
    let mut escaped = false;
    let mut comment = false;
    let mut prev = '\0';
    for (i, c) in text.char_indices() {
        if comment {
            if c == '\n' {
                comment = false;
            }
            prev = c;
            continue;
        }
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => in_str = false,
                _ => {}
            }
            prev = c;
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if prev == '/' => comment = true,
            _ if opening.contains(c) => stack.push((i, c)),
            _ if closing.contains(c) => {
                stack.pop();
            }
            _ => {}
        }
        prev = c;
    }
    stack.pop()
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
