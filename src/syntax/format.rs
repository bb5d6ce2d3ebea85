//! The canonical formatter: AST (plus the comments of the source) back to text.
//!
//! Line comments are kept: each is written before the item or rule clause it preceded,
//! or at the end of the line it ended. Doc comments are part of the AST.

use super::ast::*;

/// A `//` comment found in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Comment {
    pos: usize,
    text: String,
    trailing: bool,
}

/// Finds the `//` line comments of a source text (not `///` docs, not inside strings).
fn comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_has_code = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                line_has_code = false;
                i += 1;
            }
            b'"' => {
                line_has_code = true;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(text.len(), |k| k + i);
                let body = text.get(i..end).unwrap_or("").trim_end();
                let is_doc = body.starts_with("///") && !body.starts_with("////");
                if !is_doc {
                    out.push(Comment {
                        pos: i,
                        text: body.to_string(),
                        trailing: line_has_code,
                    });
                }
                i = end;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                line_has_code = true;
                i += 1;
            }
        }
    }
    out
}

/// Formats a file canonically. `source` is the text it was parsed from, for its comments
/// (pass `""` for a generated tree).
pub fn format_file(file: &File, source: &str) -> String {
    let mut f = Formatter {
        out: String::new(),
        comments: comments(source),
        next: 0,
    };
    let mut prev: Option<&Item> = None;
    for item in &file.items {
        if let Some(p) = prev {
            let compact = matches!(
                (p, item),
                (Item::Import(_), Item::Import(_)) | (Item::Param(_), Item::Param(_))
            );
            f.flush_trailing(item.loc().0.start as usize);
            if !compact {
                f.out.push('\n');
            }
        }
        f.flush(item.loc().0.start as usize, "");
        f.item(item);
        prev = Some(item);
    }
    f.flush(usize::MAX, "");
    f.out
}

struct Formatter {
    out: String,
    comments: Vec<Comment>,
    next: usize,
}

impl Formatter {
    /// Writes every pending comment that starts before `pos`.
    fn flush(&mut self, pos: usize, indent: &str) {
        while let Some(c) = self.comments.get(self.next) {
            if c.pos >= pos {
                break;
            }
            if c.trailing && self.out.ends_with('\n') {
                self.out.pop();
                self.out.push(' ');
                self.out.push_str(&c.text);
                self.out.push('\n');
            } else {
                self.out.push_str(indent);
                self.out.push_str(&c.text);
                self.out.push('\n');
            }
            self.next += 1;
        }
    }

    /// Writes the pending comments that start before `pos` and trail a line of code, at
    /// the end of the last line written. Called before a blank line is written, so such a
    /// comment stays on its line instead of moving below the blank line.
    fn flush_trailing(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if !c.trailing || c.pos >= pos || !self.out.ends_with('\n') {
                break;
            }
            self.out.pop();
            self.out.push(' ');
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.next += 1;
        }
    }

    fn docs(&mut self, docs: &[String]) {
        for d in docs {
            if d.is_empty() {
                self.out.push_str("///\n");
            } else {
                self.out.push_str("/// ");
                self.out.push_str(d);
                self.out.push('\n');
            }
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                self.out.push_str("import ");
                self.out.push_str(&quote(&i.path.value));
                self.out.push('\n');
            }
            Item::Param(p) => {
                self.docs(&p.docs);
                self.out.push_str("param ");
                self.out.push_str(&p.name.text);
                self.out.push_str(": ");
                self.out.push_str(&type_text(&p.ty));
                if let Some(d) = &p.default {
                    self.out.push_str(" = ");
                    self.out.push_str(&expr_text(d));
                }
                self.out.push('\n');
            }
            Item::Table(t) => {
                self.docs(&t.docs);
                self.out.push_str(&format!(
                    "table {} from {}\n",
                    t.name.text,
                    quote(&t.path.value)
                ));
            }
            Item::Def(d) => {
                self.docs(&d.docs);
                let params: Vec<&str> = d.params.iter().map(|p| p.text.as_str()).collect();
                self.out.push_str(&format!(
                    "def {}({}) =\n  {}\n",
                    d.name.text,
                    params.join(", "),
                    condition_text(&d.body, "  ")
                ));
            }
            Item::Rule(r) => self.rule(r),
            Item::Relation(r) => self.relation(r),
        }
    }

    fn relation(&mut self, r: &Relation) {
        self.docs(&r.docs);
        let params: Vec<&str> = r.params.iter().map(|p| p.text.as_str()).collect();
        self.out.push_str(&format!(
            "relation {}({}) {{\n",
            r.name.text,
            params.join(", ")
        ));
        for c in &r.cases {
            self.flush(c.loc.0.start as usize, "  ");
            self.out.push_str("  case {\n");
            self.clauses(&c.bindings, c.condition.as_ref(), "    ");
            if let Some(step) = &c.step {
                self.flush(step.message.loc.0.start as usize, "    ");
                self.report_line("step", step, "    ");
            }
            self.flush(c.loc.0.end as usize, "    ");
            self.out.push_str("  }\n");
        }
        self.flush(r.loc.0.end as usize, "  ");
        self.out.push_str("}\n");
    }

    /// The `for` and `where` clauses of a rule or relation case.
    fn clauses(&mut self, bindings: &[Binding], condition: Option<&Expr>, indent: &str) {
        let for_pos = bindings.first().map_or(0, |b| b.var.loc.0.start as usize);
        self.flush(for_pos, indent);
        let bindings: Vec<String> = bindings
            .iter()
            .map(|b| format!("{} in {}", b.var.text, source_text(&b.source)))
            .collect();
        self.out
            .push_str(&format!("{indent}for {}\n", bindings.join(", ")));
        if let Some(c) = condition {
            self.flush(c.span().start as usize, indent);
            self.out
                .push_str(&format!("{indent}where {}\n", condition_text(c, indent)));
        }
    }

    /// A `report` or `step` clause: `at x` on the keyword's line, the message below it.
    fn report_line(&mut self, keyword: &str, r: &Report, indent: &str) {
        match &r.at {
            Some(at) => self.out.push_str(&format!(
                "{indent}{keyword} at {}\n{indent}  {}\n",
                expr_text(at),
                message_text(&r.message)
            )),
            None => self
                .out
                .push_str(&format!("{indent}{keyword} {}\n", message_text(&r.message))),
        }
    }

    fn rule(&mut self, r: &Rule) {
        self.docs(&r.docs);
        self.out
            .push_str(&format!("rule {} {} {{\n", r.id.text, r.name.text));
        let strs = |v: &[Str]| {
            v.iter()
                .map(|s| quote(&s.value))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for m in &r.meta {
            let (pos, line) = match m {
                Meta::Title(s) => (s.loc.0.start, format!("title    {}", quote(&s.value))),
                Meta::Severity(n) => (n.loc.0.start, format!("severity {}", n.text)),
                Meta::Owasp(v) => (first_pos(v), format!("owasp    {}", strs(v))),
                Meta::Refs(v) => (first_pos(v), format!("refs     {}", strs(v))),
                Meta::Fix(s) => (s.loc.0.start, format!("fix      {}", quote(&s.value))),
                Meta::Tags(v) => (first_pos(v), format!("tags     {}", strs(v))),
            };
            self.flush(pos as usize, "  ");
            self.out.push_str("  ");
            self.out.push_str(&line);
            self.out.push('\n');
        }
        let for_pos = r.bindings.first().map_or(0, |b| b.var.loc.0.start as usize);
        if !r.meta.is_empty() {
            self.flush_trailing(for_pos);
            self.out.push('\n');
        }
        self.flush(for_pos, "  ");
        let bindings: Vec<String> = r
            .bindings
            .iter()
            .map(|b| format!("{} in {}", b.var.text, source_text(&b.source)))
            .collect();
        self.out
            .push_str(&format!("  for {}\n", bindings.join(", ")));
        if let Some(c) = &r.condition {
            self.flush(c.span().start as usize, "  ");
            self.out
                .push_str(&format!("  where {}\n", condition_text(c, "  ")));
        }
        self.flush(r.report.message.loc.0.start as usize, "  ");
        match &r.report.at {
            Some(at) => self.out.push_str(&format!(
                "  report at {}\n    {}\n",
                expr_text(at),
                message_text(&r.report.message)
            )),
            None => self
                .out
                .push_str(&format!("  report {}\n", message_text(&r.report.message))),
        }
        if let Some(fix) = &r.fix {
            self.flush(fix.loc.0.start as usize, "  ");
            self.out.push_str("  fix ");
            self.out.push_str(&fix.kind.text);
            if let Some(reason) = &fix.reason {
                self.out.push(' ');
                self.out.push_str(&quote(&reason.value));
            }
            self.out.push_str(" {\n");
            if let Some(c) = &fix.condition {
                self.flush(c.span().start as usize, "    ");
                self.out
                    .push_str(&format!("    where {}\n", condition_text(c, "    ")));
            }
            for a in &fix.actions {
                self.flush(action_start(a) as usize, "    ");
                self.out.push_str("    ");
                self.out.push_str(&action_text(a));
                self.out.push('\n');
            }
            self.flush(fix.loc.0.end as usize, "    ");
            self.out.push_str("  }\n");
        }
        self.flush(r.loc.0.end as usize, "  ");
        self.out.push_str("}\n");
    }
}

/// Where a fix action starts (its first expression; the keyword is just before it).
fn action_start(a: &FixAction) -> u32 {
    match a {
        FixAction::Set { path, .. } | FixAction::Remove { path } => path.span().start,
        FixAction::RemoveEach { var, .. } => var.loc.0.start,
        FixAction::Add { value, .. } => value.span().start,
    }
}

/// One fix action on one line.
pub fn action_text(a: &FixAction) -> String {
    match a {
        FixAction::Set { path, value } => format!("set {} = {}", expr_text(path), expr_text(value)),
        // `remove x in y` would read as removing list items: such a path keeps parentheses
        FixAction::Remove { path } => match path.kind {
            ExprKind::Binary(..) => format!("remove ({})", expr_text(path)),
            _ => format!("remove {}", expr_text(path)),
        },
        FixAction::RemoveEach {
            var,
            list,
            condition,
        } => match condition {
            Some(c) => format!(
                "remove {} in {} where {}",
                var.text,
                source_text(list),
                expr_text(c)
            ),
            None => format!("remove {} in {}", var.text, source_text(list)),
        },
        FixAction::Add { value, list } => {
            format!("add {} to {}", expr_text(value), expr_text(list))
        }
    }
}

fn first_pos(v: &[Str]) -> u32 {
    v.first().map_or(0, |s| s.loc.0.start)
}

fn type_text(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(n) => n.text.clone(),
        TypeExpr::List(inner) => format!("list<{}>", type_text(inner)),
    }
}

/// A string literal with its escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn message_text(m: &Message) -> String {
    let mut out = String::from("\"");
    for part in &m.parts {
        match part {
            MessagePart::Text(t) => {
                let q = quote(t);
                let inner = q.get(1..q.len() - 1).unwrap_or("");
                out.push_str(&inner.replace('{', "{{").replace('}', "}}"));
            }
            MessagePart::Expr(e) => {
                // the expression is part of the string: its quotes and backslashes are
                // escaped like the rest of the message
                let q = quote(&expr_text(e));
                out.push('{');
                out.push_str(q.get(1..q.len() - 1).unwrap_or(""));
                out.push('}');
            }
        }
    }
    out.push('"');
    out
}

/// A `where` condition: a top-level `and` chain is written one conjunct per line.
fn condition_text(e: &Expr, indent: &str) -> String {
    let mut conj = Vec::new();
    flatten_and(e, &mut conj);
    if conj.len() < 2 {
        return expr_text(e);
    }
    let mut out = String::new();
    let last = conj.len() - 1;
    for (i, c) in conj.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
            out.push_str("  and ");
        }
        // every conjunct but the last is a left operand of `and`
        let p = prec(c);
        let needs = (p != 0 && p <= BinaryOp::And.precedence()) || (i < last && ends_open(c));
        out.push_str(&wrap(c, needs));
    }
    out
}

fn flatten_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, l, r)
            if !matches!(r.kind, ExprKind::Binary(BinaryOp::And, ..)) =>
        {
            flatten_and(l, out);
            out.push(r);
        }
        _ => out.push(e),
    }
}

const ATOM: u8 = 10;

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => op.precedence(),
        ExprKind::Unary(..) => NOT_PRECEDENCE,
        ExprKind::Quantified { quant, .. } if *quant != Quant::Count => 0,
        _ => ATOM,
    }
}

/// Whether an expression ends in an open-ended quantifier body (so it cannot be followed
/// by more tokens without parentheses).
fn ends_open(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Quantified { quant, .. } => *quant != Quant::Count,
        ExprKind::Unary(_, x) => ends_open(x),
        ExprKind::Binary(_, _, r) => ends_open(r),
        _ => false,
    }
}

fn wrap(e: &Expr, parens: bool) -> String {
    if parens {
        format!("({})", expr_text(e))
    } else {
        expr_text(e)
    }
}

fn source_text(e: &Expr) -> String {
    wrap(e, prec(e) < ATOM)
}

/// An expression on one line, with the parentheses its structure needs and no others.
pub fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => {
            // `Display` never uses an exponent (`Debug` writes `1e-7`, which is not a
            // kanon number) and gives the shortest digits that read back to `f`
            let s = format!("{f}");
            if s.contains('.') { s } else { format!("{s}.0") }
        }
        ExprKind::Str(s) => quote(s),
        ExprKind::List(items) => {
            let v: Vec<String> = items.iter().map(expr_text).collect();
            format!("[{}]", v.join(", "))
        }
        ExprKind::Var(v) => v.clone(),
        ExprKind::Field(base, name) => format!("{}.{}", source_text(base), name.text),
        ExprKind::Index(base, idx) => format!("{}[{}]", source_text(base), expr_text(idx)),
        ExprKind::Call(name, args) => {
            let v: Vec<String> = args.iter().map(expr_text).collect();
            format!("{}({})", name.text, v.join(", "))
        }
        ExprKind::Unary(UnaryOp::Not, x) => {
            format!("not {}", wrap(x, prec(x) != 0 && prec(x) < NOT_PRECEDENCE))
        }
        ExprKind::Binary(op, l, r) => {
            let p = op.precedence();
            let lp = prec(l) < p || ends_open(l);
            let rp = prec(r) <= p && prec(r) != 0 && !matches!(r.kind, ExprKind::Unary(..))
                || matches!(r.kind, ExprKind::Unary(..)) && NOT_PRECEDENCE <= p;
            format!("{} {} {}", wrap(l, lp), op.as_str(), wrap(r, rp))
        }
        ExprKind::Quantified {
            quant,
            var,
            source,
            cond,
        } => {
            let body = match cond {
                Some(c) => format!(
                    "{} in {} where {}",
                    var.text,
                    source_text(source),
                    expr_text(c)
                ),
                None => format!("{} in {}", var.text, source_text(source)),
            };
            if *quant == Quant::Count {
                format!("count({body})")
            } else {
                format!("{} {body}", quant.as_str())
            }
        }
    }
}
