//! A compact binary form of a parsed rule file, so that the bundled ruleset is parsed
//! once, at build time (`build.rs` runs [`crate::syntax::parser`] over every bundled
//! rule file and [`encode`]s the trees), and a compile only [`decode`]s them: parsing the
//! bundled ruleset was two thirds of compiling it.
//!
//! The form holds every field of the tree, spans included, except the file id of the
//! spans, which [`decode`] is given: a tree whose spans are not all in the one file it was
//! parsed from is not encoded. Numbers are LEB128 varints, strings their length and UTF-8
//! bytes, integers and floats their 8 little-endian bytes. [`decode`] returns `None` on
//! any malformed input rather than a partial tree.

use super::ast::*;
use crate::diag::{FileId, Span};

/// Encodes the tree of a file parsed with id `file`; `None` when a span is in another
/// file.
pub fn encode(tree: &File, file: FileId) -> Option<Vec<u8>> {
    let mut w = Writer {
        out: Vec::new(),
        file,
        foreign: false,
    };
    w.file_tree(tree);
    (!w.foreign).then_some(w.out)
}

/// Decodes a tree [`encode`] made, giving every span the file id `file`.
pub fn decode(bytes: &[u8], file: FileId) -> Option<File> {
    let mut r = Reader { bytes, at: 0, file };
    let tree = r.file_tree()?;
    (r.at == bytes.len()).then_some(tree)
}

struct Writer {
    out: Vec<u8>,
    file: FileId,
    /// A span in another file was met.
    foreign: bool,
}

impl Writer {
    fn num(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(low);
                return;
            }
            self.out.push(low | 0x80);
        }
    }

    fn len(&mut self, n: usize) {
        self.num(n as u64);
    }

    fn tag(&mut self, t: u8) {
        self.out.push(t);
    }

    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn span(&mut self, s: Span) {
        if s.file != self.file {
            self.foreign = true;
        }
        self.num(u64::from(s.start));
        self.num(u64::from(s.end));
    }

    fn loc(&mut self, l: Loc) {
        self.span(l.0);
    }

    fn name(&mut self, n: &Name) {
        self.text(&n.text);
        self.loc(n.loc);
    }

    fn str_lit(&mut self, s: &Str) {
        self.text(&s.value);
        self.loc(s.loc);
    }

    fn docs(&mut self, docs: &[String]) {
        self.len(docs.len());
        for d in docs {
            self.text(d);
        }
    }

    fn names(&mut self, names: &[Name]) {
        self.len(names.len());
        for n in names {
            self.name(n);
        }
    }

    fn strs(&mut self, strs: &[Str]) {
        self.len(strs.len());
        for s in strs {
            self.str_lit(s);
        }
    }

    fn opt_expr(&mut self, e: Option<&Expr>) {
        match e {
            None => self.tag(0),
            Some(e) => {
                self.tag(1);
                self.expr(e);
            }
        }
    }

    fn exprs(&mut self, es: &[Expr]) {
        self.len(es.len());
        for e in es {
            self.expr(e);
        }
    }

    fn file_tree(&mut self, f: &File) {
        self.len(f.items.len());
        for item in &f.items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                self.tag(0);
                self.str_lit(&i.path);
                self.loc(i.loc);
            }
            Item::Param(p) => {
                self.tag(1);
                self.docs(&p.docs);
                self.name(&p.name);
                self.type_expr(&p.ty);
                self.opt_expr(p.default.as_ref());
                self.loc(p.loc);
            }
            Item::Table(t) => {
                self.tag(2);
                self.docs(&t.docs);
                self.name(&t.name);
                self.str_lit(&t.path);
                self.loc(t.loc);
            }
            Item::Def(d) => {
                self.tag(3);
                self.docs(&d.docs);
                self.name(&d.name);
                self.names(&d.params);
                self.expr(&d.body);
                self.loc(d.loc);
            }
            Item::Rule(r) => {
                self.tag(4);
                self.docs(&r.docs);
                self.name(&r.id);
                self.name(&r.name);
                self.len(r.meta.len());
                for m in &r.meta {
                    self.meta(m);
                }
                self.bindings(&r.bindings);
                self.opt_expr(r.condition.as_ref());
                self.report(&r.report);
                match &r.fix {
                    None => self.tag(0),
                    Some(f) => {
                        self.tag(1);
                        self.fix(f);
                    }
                }
                self.loc(r.loc);
            }
            Item::Relation(r) => {
                self.tag(5);
                self.docs(&r.docs);
                self.name(&r.name);
                self.names(&r.params);
                self.len(r.cases.len());
                for c in &r.cases {
                    self.bindings(&c.bindings);
                    self.opt_expr(c.condition.as_ref());
                    match &c.step {
                        None => self.tag(0),
                        Some(s) => {
                            self.tag(1);
                            self.report(s);
                        }
                    }
                    self.loc(c.loc);
                }
                self.loc(r.loc);
            }
        }
    }

    fn type_expr(&mut self, t: &TypeExpr) {
        match t {
            TypeExpr::Named(n) => {
                self.tag(0);
                self.name(n);
            }
            TypeExpr::List(inner) => {
                self.tag(1);
                self.type_expr(inner);
            }
        }
    }

    fn meta(&mut self, m: &Meta) {
        match m {
            Meta::Title(s) => {
                self.tag(0);
                self.str_lit(s);
            }
            Meta::Severity(n) => {
                self.tag(1);
                self.name(n);
            }
            Meta::Owasp(v) => {
                self.tag(2);
                self.strs(v);
            }
            Meta::Refs(v) => {
                self.tag(3);
                self.strs(v);
            }
            Meta::Fix(s) => {
                self.tag(4);
                self.str_lit(s);
            }
            Meta::Tags(v) => {
                self.tag(5);
                self.strs(v);
            }
        }
    }

    fn bindings(&mut self, bs: &[Binding]) {
        self.len(bs.len());
        for b in bs {
            self.name(&b.var);
            self.expr(&b.source);
        }
    }

    fn report(&mut self, r: &Report) {
        self.opt_expr(r.at.as_ref());
        self.len(r.message.parts.len());
        for p in &r.message.parts {
            match p {
                MessagePart::Text(t) => {
                    self.tag(0);
                    self.text(t);
                }
                MessagePart::Expr(e) => {
                    self.tag(1);
                    self.expr(e);
                }
            }
        }
        self.loc(r.message.loc);
    }

    fn fix(&mut self, f: &Fix) {
        self.name(&f.kind);
        match &f.reason {
            None => self.tag(0),
            Some(s) => {
                self.tag(1);
                self.str_lit(s);
            }
        }
        self.opt_expr(f.condition.as_ref());
        self.len(f.actions.len());
        for a in &f.actions {
            match a {
                FixAction::Set { path, value } => {
                    self.tag(0);
                    self.expr(path);
                    self.expr(value);
                }
                FixAction::Remove { path } => {
                    self.tag(1);
                    self.expr(path);
                }
                FixAction::RemoveEach {
                    var,
                    list,
                    condition,
                } => {
                    self.tag(2);
                    self.name(var);
                    self.expr(list);
                    self.opt_expr(condition.as_ref());
                }
                FixAction::Add { value, list } => {
                    self.tag(3);
                    self.expr(value);
                    self.expr(list);
                }
            }
        }
        self.loc(f.loc);
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Null => self.tag(0),
            ExprKind::Bool(b) => self.tag(if *b { 2 } else { 1 }),
            ExprKind::Int(i) => {
                self.tag(3);
                self.out.extend_from_slice(&i.to_le_bytes());
            }
            ExprKind::Float(f) => {
                self.tag(4);
                self.out.extend_from_slice(&f.to_le_bytes());
            }
            ExprKind::Str(s) => {
                self.tag(5);
                self.text(s);
            }
            ExprKind::List(items) => {
                self.tag(6);
                self.exprs(items);
            }
            ExprKind::Var(v) => {
                self.tag(7);
                self.text(v);
            }
            ExprKind::Field(base, name) => {
                self.tag(8);
                self.expr(base);
                self.name(name);
            }
            ExprKind::Index(base, index) => {
                self.tag(9);
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Call(name, args) => {
                self.tag(10);
                self.name(name);
                self.exprs(args);
            }
            ExprKind::Unary(op, x) => {
                self.tag(11);
                self.tag(match op {
                    UnaryOp::Not => 0,
                });
                self.expr(x);
            }
            ExprKind::Binary(op, a, b) => {
                self.tag(12);
                self.tag(binary_tag(*op));
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Quantified {
                quant,
                var,
                source,
                cond,
            } => {
                self.tag(13);
                self.tag(quant_tag(*quant));
                self.name(var);
                self.expr(source);
                self.opt_expr(cond.as_deref());
            }
        }
        self.loc(e.loc);
    }
}

/// The binary operators, in the order of their tags.
const BINARY: [BinaryOp; 16] = BinaryOp::ALL;

fn binary_tag(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 0,
        BinaryOp::And => 1,
        BinaryOp::Eq => 2,
        BinaryOp::Ne => 3,
        BinaryOp::Lt => 4,
        BinaryOp::Le => 5,
        BinaryOp::Gt => 6,
        BinaryOp::Ge => 7,
        BinaryOp::In => 8,
        BinaryOp::NotIn => 9,
        BinaryOp::Matches => 10,
        BinaryOp::Contains => 11,
        BinaryOp::StartsWith => 12,
        BinaryOp::EndsWith => 13,
        BinaryOp::Selects => 14,
        BinaryOp::Coalesce => 15,
    }
}

/// The quantifiers, in the order of their tags.
const QUANTS: [Quant; 5] = Quant::ALL;

fn quant_tag(q: Quant) -> u8 {
    match q {
        Quant::Any => 0,
        Quant::All => 1,
        Quant::None => 2,
        Quant::Exists => 3,
        Quant::Count => 4,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    file: FileId,
}

impl Reader<'_> {
    fn tag(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn num(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.tag()?;
            if shift > 63 {
                return None;
            }
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.num()?).ok()
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.num()?).ok()
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        let end = self.at.checked_add(8)?;
        let b: [u8; 8] = self.bytes.get(self.at..end)?.try_into().ok()?;
        self.at = end;
        Some(b)
    }

    fn text(&mut self) -> Option<String> {
        let n = self.len()?;
        let end = self.at.checked_add(n)?;
        let s = std::str::from_utf8(self.bytes.get(self.at..end)?).ok()?;
        self.at = end;
        Some(s.to_string())
    }

    fn span(&mut self) -> Option<Span> {
        Some(Span {
            file: self.file,
            start: self.u32()?,
            end: self.u32()?,
        })
    }

    fn loc(&mut self) -> Option<Loc> {
        Some(Loc(self.span()?))
    }

    fn name(&mut self) -> Option<Name> {
        Some(Name {
            text: self.text()?,
            loc: self.loc()?,
        })
    }

    fn str_lit(&mut self) -> Option<Str> {
        Some(Str {
            value: self.text()?,
            loc: self.loc()?,
        })
    }

    /// `n` items read by `f`; the capacity is bounded by the bytes left, so a malformed
    /// count allocates nothing large.
    fn many<T>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        let left = self.bytes.len().saturating_sub(self.at);
        let mut out = Vec::with_capacity(n.min(left));
        for _ in 0..n {
            out.push(f(self)?);
        }
        Some(out)
    }

    fn docs(&mut self) -> Option<Vec<String>> {
        self.many(Self::text)
    }

    fn names(&mut self) -> Option<Vec<Name>> {
        self.many(Self::name)
    }

    fn strs(&mut self) -> Option<Vec<Str>> {
        self.many(Self::str_lit)
    }

    fn flag(&mut self) -> Option<bool> {
        match self.tag()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn opt_expr(&mut self) -> Option<Option<Expr>> {
        if self.flag()? {
            Some(Some(self.expr()?))
        } else {
            Some(None)
        }
    }

    fn exprs(&mut self) -> Option<Vec<Expr>> {
        self.many(Self::expr)
    }

    fn file_tree(&mut self) -> Option<File> {
        Some(File {
            items: self.many(Self::item)?,
        })
    }

    fn item(&mut self) -> Option<Item> {
        Some(match self.tag()? {
            0 => Item::Import(Import {
                path: self.str_lit()?,
                loc: self.loc()?,
            }),
            1 => Item::Param(Param {
                docs: self.docs()?,
                name: self.name()?,
                ty: self.type_expr()?,
                default: self.opt_expr()?,
                loc: self.loc()?,
            }),
            2 => Item::Table(Table {
                docs: self.docs()?,
                name: self.name()?,
                path: self.str_lit()?,
                loc: self.loc()?,
            }),
            3 => Item::Def(Def {
                docs: self.docs()?,
                name: self.name()?,
                params: self.names()?,
                body: self.expr()?,
                loc: self.loc()?,
            }),
            4 => Item::Rule(Rule {
                docs: self.docs()?,
                id: self.name()?,
                name: self.name()?,
                meta: self.many(Self::meta)?,
                bindings: self.bindings()?,
                condition: self.opt_expr()?,
                report: self.report()?,
                fix: if self.flag()? {
                    Some(Box::new(self.fix()?))
                } else {
                    None
                },
                loc: self.loc()?,
            }),
            5 => Item::Relation(Relation {
                docs: self.docs()?,
                name: self.name()?,
                params: self.names()?,
                cases: self.many(Self::case)?,
                loc: self.loc()?,
            }),
            _ => return None,
        })
    }

    fn case(&mut self) -> Option<Case> {
        Some(Case {
            bindings: self.bindings()?,
            condition: self.opt_expr()?,
            step: if self.flag()? {
                Some(self.report()?)
            } else {
                None
            },
            loc: self.loc()?,
        })
    }

    fn type_expr(&mut self) -> Option<TypeExpr> {
        Some(match self.tag()? {
            0 => TypeExpr::Named(self.name()?),
            1 => TypeExpr::List(Box::new(self.type_expr()?)),
            _ => return None,
        })
    }

    fn meta(&mut self) -> Option<Meta> {
        Some(match self.tag()? {
            0 => Meta::Title(self.str_lit()?),
            1 => Meta::Severity(self.name()?),
            2 => Meta::Owasp(self.strs()?),
            3 => Meta::Refs(self.strs()?),
            4 => Meta::Fix(self.str_lit()?),
            5 => Meta::Tags(self.strs()?),
            _ => return None,
        })
    }

    fn bindings(&mut self) -> Option<Vec<Binding>> {
        self.many(|r| {
            Some(Binding {
                var: r.name()?,
                source: r.expr()?,
            })
        })
    }

    fn report(&mut self) -> Option<Report> {
        let at = self.opt_expr()?;
        let parts = self.many(|r| {
            Some(match r.tag()? {
                0 => MessagePart::Text(r.text()?),
                1 => MessagePart::Expr(r.expr()?),
                _ => return None,
            })
        })?;
        Some(Report {
            at,
            message: Message {
                parts,
                loc: self.loc()?,
            },
        })
    }

    fn fix(&mut self) -> Option<Fix> {
        Some(Fix {
            kind: self.name()?,
            reason: if self.flag()? {
                Some(self.str_lit()?)
            } else {
                None
            },
            condition: self.opt_expr()?,
            actions: self.many(|r| {
                Some(match r.tag()? {
                    0 => FixAction::Set {
                        path: r.expr()?,
                        value: r.expr()?,
                    },
                    1 => FixAction::Remove { path: r.expr()? },
                    2 => FixAction::RemoveEach {
                        var: r.name()?,
                        list: r.expr()?,
                        condition: r.opt_expr()?,
                    },
                    3 => FixAction::Add {
                        value: r.expr()?,
                        list: r.expr()?,
                    },
                    _ => return None,
                })
            })?,
            loc: self.loc()?,
        })
    }

    fn boxed(&mut self) -> Option<Box<Expr>> {
        Some(Box::new(self.expr()?))
    }

    fn expr(&mut self) -> Option<Expr> {
        let kind = match self.tag()? {
            0 => ExprKind::Null,
            1 => ExprKind::Bool(false),
            2 => ExprKind::Bool(true),
            3 => ExprKind::Int(i64::from_le_bytes(self.eight()?)),
            4 => ExprKind::Float(f64::from_le_bytes(self.eight()?)),
            5 => ExprKind::Str(self.text()?),
            6 => ExprKind::List(self.exprs()?),
            7 => ExprKind::Var(self.text()?),
            8 => ExprKind::Field(self.boxed()?, self.name()?),
            9 => ExprKind::Index(self.boxed()?, self.boxed()?),
            10 => ExprKind::Call(self.name()?, self.exprs()?),
            11 => match self.tag()? {
                0 => ExprKind::Unary(UnaryOp::Not, self.boxed()?),
                _ => return None,
            },
            12 => {
                let op = *BINARY.get(usize::from(self.tag()?))?;
                ExprKind::Binary(op, self.boxed()?, self.boxed()?)
            }
            13 => {
                let quant = *QUANTS.get(usize::from(self.tag()?))?;
                ExprKind::Quantified {
                    quant,
                    var: self.name()?,
                    source: self.boxed()?,
                    cond: self.opt_expr()?.map(Box::new),
                }
            }
            _ => return None,
        };
        Some(Expr {
            kind,
            loc: self.loc()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_has_its_own_tag() {
        for (i, op) in BINARY.iter().enumerate() {
            assert_eq!(usize::from(binary_tag(*op)), i, "{op:?}");
        }
        for (i, q) in QUANTS.iter().enumerate() {
            assert_eq!(usize::from(quant_tag(*q)), i, "{q:?}");
        }
    }

    #[test]
    fn a_tree_comes_back_with_every_span() {
        let text = "/// doc\nparam p: list<string> = [\"a\", 1, 2.5, null, true]\ntable t from \"t.yaml\"\nimport \"x.kanon\"\ndef f(a, b) = a[0] ?? b.c\nrelation r(a, b) {\n  case {\n    for a in pods, b in a.spec.containers\n    where not (a.name != \"x\")\n    step at b \"{a.name} runs {b}\"\n  }\n}\nrule K99-001 some-rule {\n  title \"T\"\n  severity high\n  owasp \"K01:2022\"\n  refs \"R\"\n  tags \"t\"\n  fix \"do it\"\n  for w in workloads\n  where any c in w.containers where c.name matches \"^a\" and count x in [1] where x > 0 >= 1\n  report at w.spec \"bad {w.name}\"\n  fix safe \"why\" {\n    set w.spec.x = 1\n    remove w.spec.y\n    remove c in w.spec.z where c == \"q\"\n    add \"v\" to w.spec.list\n  }\n}\n";
        let (tree, diags) = crate::syntax::parse(7, text);
        assert!(diags.is_empty(), "{diags:?}");
        let bytes = encode(&tree, 7).expect("one file");
        let back = decode(&bytes, 7).expect("decodes");
        assert_eq!(format!("{back:?}"), format!("{tree:?}"));
        assert_eq!(encode(&back, 7), Some(bytes.clone()));
        // spans are checked through the bytes; a tree from another file is not encoded
        assert_eq!(encode(&tree, 8), None);
        assert!(decode(&bytes[..bytes.len() - 1], 7).is_none());
    }
}
