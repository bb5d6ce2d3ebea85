//! The abstract syntax tree of rule files. Every node carries a [`Loc`], which is
//! ignored by equality so structural tests never depend on positions.

use crate::diag::Span;
use std::fmt;

/// A source location that never takes part in equality or hashing.
#[derive(Clone, Copy, Default)]
pub struct Loc(pub Span);

impl PartialEq for Loc {
    fn eq(&self, _: &Loc) -> bool {
        true
    }
}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.0.start, self.0.end)
    }
}

/// A name with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The text.
    pub text: String,
    /// Where it was written.
    pub loc: Loc,
}

impl Name {
    /// A name without a meaningful location (for generated trees).
    pub fn new(text: impl Into<String>) -> Name {
        Name {
            text: text.into(),
            loc: Loc::default(),
        }
    }
}

/// A string literal (escapes resolved) with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Str {
    /// The value.
    pub value: String,
    /// Where it was written, quotes included.
    pub loc: Loc,
}

/// A parsed rule file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "file.kanon"`.
    Import(Import),
    /// `param name: type = default`.
    Param(Param),
    /// `table name from "file.yaml"`.
    Table(Table),
    /// `def name(args) = expr`.
    Def(Def),
    /// `rule ID name { ... }`.
    Rule(Rule),
    /// `relation name(a, b) { case { ... } ... }`.
    Relation(Relation),
}

impl Item {
    /// The span of the whole item.
    pub fn loc(&self) -> Loc {
        match self {
            Item::Import(i) => i.loc,
            Item::Param(p) => p.loc,
            Item::Table(t) => t.loc,
            Item::Def(d) => d.loc,
            Item::Rule(r) => r.loc,
            Item::Relation(r) => r.loc,
        }
    }
}

/// `import "path"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// Path relative to the importing file.
    pub path: Str,
    /// The whole item.
    pub loc: Loc,
}

/// A parameter type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// A named scalar type: `string`, `int`, `number`, `bool`.
    Named(Name),
    /// `list<T>`.
    List(Box<TypeExpr>),
}

/// `param name: type = default`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Doc comment lines, without `///`.
    pub docs: Vec<String>,
    /// The parameter name.
    pub name: Name,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Its default value.
    pub default: Option<Expr>,
    /// The whole item.
    pub loc: Loc,
}

/// `table name from "file.yaml"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The table name.
    pub name: Name,
    /// YAML file, relative to the declaring file.
    pub path: Str,
    /// The whole item.
    pub loc: Loc,
}

/// `def name(a, b) = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The predicate name.
    pub name: Name,
    /// Parameter names.
    pub params: Vec<Name>,
    /// The body.
    pub body: Expr,
    /// The whole item.
    pub loc: Loc,
}

/// A rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Doc comment lines (the rule's documentation).
    pub docs: Vec<String>,
    /// Stable id, e.g. `K01-001`.
    pub id: Name,
    /// Kebab-case name.
    pub name: Name,
    /// Metadata lines in source order.
    pub meta: Vec<Meta>,
    /// `for` bindings.
    pub bindings: Vec<Binding>,
    /// The `where` condition.
    pub condition: Option<Expr>,
    /// The `report` clause.
    pub report: Report,
    /// The `fix` clause, if any.
    pub fix: Option<Box<Fix>>,
    /// The whole rule.
    pub loc: Loc,
}

/// `fix safe "reason" { actions }`: edits that make a finding go away.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// `safe` or `unsafe`, as written.
    pub kind: Name,
    /// Why the fix is (un)safe, for people.
    pub reason: Option<Str>,
    /// `where`: the findings the fix is offered for (all when absent).
    pub condition: Option<Expr>,
    /// The edits, in order.
    pub actions: Vec<FixAction>,
    /// The whole clause.
    pub loc: Loc,
}

impl Fix {
    /// Every expression of the clause, in source order.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.condition.iter().collect();
        for a in &self.actions {
            match a {
                FixAction::Set { path, value } => out.extend([path, value]),
                FixAction::Remove { path } => out.push(path),
                FixAction::RemoveEach {
                    list, condition, ..
                } => {
                    out.push(list);
                    out.extend(condition.iter());
                }
                FixAction::Add { value, list } => out.extend([value, list]),
            }
        }
        out
    }
}

/// One edit of a fix.
#[derive(Clone, Debug, PartialEq)]
pub enum FixAction {
    /// `set path = value`.
    Set {
        /// The field.
        path: Expr,
        /// The new value.
        value: Expr,
    },
    /// `remove path`.
    Remove {
        /// The field or list item.
        path: Expr,
    },
    /// `remove x in list where condition`.
    RemoveEach {
        /// The item variable.
        var: Name,
        /// The list.
        list: Expr,
        /// Which items; all when absent.
        condition: Option<Expr>,
    },
    /// `add value to list`.
    Add {
        /// The item.
        value: Expr,
        /// The list.
        list: Expr,
    },
}

/// `relation name(a, b) { case { ... } ... }`: a named relation over graph objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The relation's name, called like a `def`.
    pub name: Name,
    /// The parameters, one per column.
    pub params: Vec<Name>,
    /// The cases, whose union the relation is.
    pub cases: Vec<Case>,
    /// The whole item.
    pub loc: Loc,
}

/// `case { for ... where ... step at x "text" }`: one way a tuple of a relation holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `for` bindings; they bind every parameter of the relation.
    pub bindings: Vec<Binding>,
    /// The `where` condition.
    pub condition: Option<Expr>,
    /// The `step` clause: the evidence the case adds to a path.
    pub step: Option<Report>,
    /// The whole case.
    pub loc: Loc,
}

/// One metadata line of a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Meta {
    /// `title "..."`.
    Title(Str),
    /// `severity high`.
    Severity(Name),
    /// `owasp "K01:2022" ...`.
    Owasp(Vec<Str>),
    /// `refs "CKV_K8S_16" ...`.
    Refs(Vec<Str>),
    /// `fix "..."`.
    Fix(Str),
    /// `tags "..." ...`.
    Tags(Vec<Str>),
}

/// `name in source`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The bound variable.
    pub var: Name,
    /// What it ranges over.
    pub source: Expr,
}

/// `report at path "message"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Where the finding points.
    pub at: Option<Expr>,
    /// The message template.
    pub message: Message,
}

/// A message with `{expr}` interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Literal text and interpolated expressions in order.
    pub parts: Vec<MessagePart>,
    /// The string literal, quotes included.
    pub loc: Loc,
}

/// A piece of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum MessagePart {
    /// Literal text.
    Text(String),
    /// `{expr}`.
    Expr(Expr),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub loc: Loc,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `not`.
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `matches`.
    Matches,
    /// `contains`.
    Contains,
    /// `starts with`.
    StartsWith,
    /// `ends with`.
    EndsWith,
    /// `selects`.
    Selects,
    /// `??`.
    Coalesce,
}

impl BinaryOp {
    /// Every operator, in a fixed order (the order of their tags in stored trees).
    pub const ALL: [BinaryOp; 16] = [
        BinaryOp::Or,
        BinaryOp::And,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::In,
        BinaryOp::NotIn,
        BinaryOp::Matches,
        BinaryOp::Contains,
        BinaryOp::StartsWith,
        BinaryOp::EndsWith,
        BinaryOp::Selects,
        BinaryOp::Coalesce,
    ];

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Matches => "matches",
            BinaryOp::Contains => "contains",
            BinaryOp::StartsWith => "starts with",
            BinaryOp::EndsWith => "ends with",
            BinaryOp::Selects => "selects",
            BinaryOp::Coalesce => "??",
        }
    }

    /// Binding power: higher binds tighter. Shared by the parser and the formatter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Coalesce => 5,
            _ => 4,
        }
    }
}

/// Precedence of `not`: above `and`, below comparisons.
pub const NOT_PRECEDENCE: u8 = 3;

/// The quantifier words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quant {
    /// True when some element satisfies the condition.
    Any,
    /// True when every element satisfies the condition.
    All,
    /// True when no element satisfies the condition.
    None,
    /// Like `any`, for sub-queries over kinds and relations.
    Exists,
    /// The number of elements satisfying the condition.
    Count,
}

impl Quant {
    /// Every quantifier, in a fixed order (the order of their tags in stored trees).
    pub const ALL: [Quant; 5] = [
        Quant::Any,
        Quant::All,
        Quant::None,
        Quant::Exists,
        Quant::Count,
    ];

    /// The word as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Quant::Any => "any",
            Quant::All => "all",
            Quant::None => "none",
            Quant::Exists => "exists",
            Quant::Count => "count",
        }
    }
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal number with a fraction.
    Float(f64),
    /// A string literal.
    Str(String),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// A bare name: binding, parameter, table or kind.
    Var(String),
    /// `base.field`.
    Field(Box<Expr>, Name),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `name(args)`.
    Call(Name, Vec<Expr>),
    /// `not x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `any x in source where cond`.
    Quantified {
        /// Which quantifier.
        quant: Quant,
        /// The bound variable.
        var: Name,
        /// What it ranges over.
        source: Box<Expr>,
        /// The filter, if any.
        cond: Option<Box<Expr>>,
    },
}

impl Expr {
    /// Builds an expression.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            loc: Loc(span),
        }
    }

    /// The span.
    pub fn span(&self) -> Span {
        self.loc.0
    }
}
