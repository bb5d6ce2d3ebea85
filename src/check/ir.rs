//! The checked, resolved representation of rules that the planner and both evaluators read.

use crate::diag::{FileId, Span};
use crate::schema::FieldType;
use std::fmt;
use std::sync::Arc;

/// Index of a variable in a rule's variable table.
pub type VarId = usize;

/// Severity of a rule, from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, in order.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A constant value (literals, parameter values, table rows).
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A list.
    List(Arc<Vec<Const>>),
    /// A map (table rows).
    Map(Arc<Vec<(Arc<str>, Const)>>),
}

/// The objects a scan reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KindSet {
    /// Every object.
    All,
    /// The workloads view (controller-owned duplicates removed).
    Workloads,
    /// Objects of these kinds.
    Kinds(Vec<Arc<str>>),
    /// Every object that runs pods (a workload, controlled or not: what has a `podSpec`
    /// and `containers`) and the objects of these kinds. Only the optimizer makes it, for a
    /// scan of every object whose filter holds only for such objects.
    PodsAnd(Vec<Arc<str>>),
}

impl fmt::Display for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KindSet::All => f.write_str("objects"),
            KindSet::Workloads => f.write_str("workloads"),
            KindSet::Kinds(k) => {
                let names: Vec<&str> = k.iter().map(|s| &**s).collect();
                f.write_str(&names.join("|"))
            }
            KindSet::PodsAnd(k) => {
                f.write_str("objects running pods")?;
                k.iter().try_for_each(|k| write!(f, "|{k}"))
            }
        }
    }
}

/// What a binding or quantifier ranges over.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Objects of a kind set, optionally in one namespace.
    Scan {
        /// The kinds.
        kinds: KindSet,
        /// Namespace filter.
        namespace: Option<Box<Expr>>,
    },
    /// The elements of a list-valued expression.
    Expr(Box<Expr>),
}

/// Virtual attributes computed by the engine (relations and shortcuts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    /// `metadata.name`.
    Name,
    /// The namespace (defaulted), or null for cluster-scoped objects.
    Namespace,
    /// `kind`.
    Kind,
    /// `metadata.labels`.
    Labels,
    /// `metadata.annotations`.
    Annotations,
    /// Objects named in `ownerReferences` that are in the input.
    Owners,
    /// All containers of a workload: init, regular and ephemeral.
    Containers,
    /// The pod spec of a workload.
    PodSpec,
    /// The pod labels of a workload.
    PodLabels,
    /// The ServiceAccount object a workload runs as (null when not in the input).
    ServiceAccount,
    /// The name of the ServiceAccount a workload runs as (`default` when unset).
    ServiceAccountName,
    /// Whether the service-account token is mounted (pod setting over SA setting).
    AutomountsToken,
    /// Role bindings and cluster role bindings whose subjects include the workload's or
    /// service account's identity.
    Bindings,
    /// On RoleBindings and ClusterRoleBindings: the ServiceAccounts they apply to.
    ServiceAccounts,
    /// The role or cluster role a binding points at (null when not in the input).
    Role,
    /// The effective rules of a role (aggregated cluster roles resolved).
    Rules,
    /// References to other objects (secrets, config maps, claims, services, targets).
    References,
    /// Services selecting a workload; services behind an Ingress or HTTPRoute.
    Services,
    /// The target of an HPA's `scaleTargetRef`.
    Target,
    /// Whether a network policy (of any kind) isolates ingress.
    IsolatesIngress,
    /// Whether a network policy (of any kind) isolates egress.
    IsolatesEgress,
    /// The network policies of any kind that isolate a workload's ingress.
    IngressPolicies,
    /// The network policies of any kind that isolate a workload's egress.
    EgressPolicies,
    /// The policies of any kind that are a default deny of ingress for a namespace.
    DefaultDenyIngress,
    /// The policies of any kind that are a default deny of egress for a namespace.
    DefaultDenyEgress,
    /// The paths from outside the cluster to a workload (exposure records).
    Exposures,
    /// Whether the object was exported from a running cluster.
    Live,
    /// `init`, `regular` or `ephemeral`, for a container.
    ContainerType,
    /// The Namespace object of an object, if in the input.
    NamespaceObject,
}

impl Attr {
    /// Every attribute.
    pub const ALL: [Attr; 29] = [
        Attr::Name,
        Attr::Namespace,
        Attr::Kind,
        Attr::Labels,
        Attr::Annotations,
        Attr::Owners,
        Attr::Containers,
        Attr::PodSpec,
        Attr::PodLabels,
        Attr::ServiceAccount,
        Attr::ServiceAccountName,
        Attr::AutomountsToken,
        Attr::Bindings,
        Attr::ServiceAccounts,
        Attr::Role,
        Attr::Rules,
        Attr::References,
        Attr::Services,
        Attr::Target,
        Attr::IsolatesIngress,
        Attr::IsolatesEgress,
        Attr::IngressPolicies,
        Attr::EgressPolicies,
        Attr::DefaultDenyIngress,
        Attr::DefaultDenyEgress,
        Attr::Exposures,
        Attr::Live,
        Attr::ContainerType,
        Attr::NamespaceObject,
    ];

    /// The attribute as written in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Attr::Name => "name",
            Attr::Namespace => "namespace",
            Attr::Kind => "kind",
            Attr::Labels => "labels",
            Attr::Annotations => "annotations",
            Attr::Owners => "owners",
            Attr::Containers => "containers",
            Attr::PodSpec => "podSpec",
            Attr::PodLabels => "podLabels",
            Attr::ServiceAccount => "serviceAccount",
            Attr::ServiceAccountName => "serviceAccountName",
            Attr::AutomountsToken => "automountsToken",
            Attr::Bindings => "bindings",
            Attr::ServiceAccounts => "serviceAccounts",
            Attr::Role => "role",
            Attr::Rules => "rules",
            Attr::References => "references",
            Attr::Services => "services",
            Attr::Target => "target",
            Attr::IsolatesIngress => "isolatesIngress",
            Attr::IsolatesEgress => "isolatesEgress",
            Attr::IngressPolicies => "ingressPolicies",
            Attr::EgressPolicies => "egressPolicies",
            Attr::DefaultDenyIngress => "defaultDenyIngress",
            Attr::DefaultDenyEgress => "defaultDenyEgress",
            Attr::Exposures => "exposures",
            Attr::Live => "live",
            Attr::ContainerType => "containerType",
            Attr::NamespaceObject => "namespaceObject",
        }
    }
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `effective(c, w)`: the container's security context over the pod's.
    Effective,
    /// `image(s)`: parsed image reference.
    Image,
    /// `quantity(s)`: a resource quantity as a number.
    Quantity,
    /// `version(s)`: a Kubernetes version, comparable.
    Version,
    /// `flag(c, "--name")`: the last value of a command-line flag, or null.
    Flag,
    /// `flags(c, "--name")`: every value of a flag, comma lists split.
    Flags,
    /// `has_flag(c, "--name")`: whether the flag is given.
    HasFlag,
    /// `lower(s)`.
    Lower,
    /// `upper(s)`.
    Upper,
    /// `trim(s)`.
    Trim,
    /// `len(x)`: length of a string, list or map.
    Len,
    /// `split(s, sep)`.
    Split,
    /// `keys(map)`.
    Keys,
    /// `values(map)`.
    Values,
    /// `string(x)`: text of a scalar.
    String,
    /// `raw(x)`: the scalar as written in the source.
    Raw,
    /// `quoted(x)`: whether the scalar was quoted in the source.
    Quoted,
}

impl Builtin {
    /// Name, arity and a one-line description, for docs and errors.
    pub const TABLE: &'static [(&'static str, Builtin, usize)] = &[
        ("effective", Builtin::Effective, 2),
        ("image", Builtin::Image, 1),
        ("quantity", Builtin::Quantity, 1),
        ("version", Builtin::Version, 1),
        ("flag", Builtin::Flag, 2),
        ("flags", Builtin::Flags, 2),
        ("has_flag", Builtin::HasFlag, 2),
        ("lower", Builtin::Lower, 1),
        ("upper", Builtin::Upper, 1),
        ("trim", Builtin::Trim, 1),
        ("len", Builtin::Len, 1),
        ("split", Builtin::Split, 2),
        ("keys", Builtin::Keys, 1),
        ("values", Builtin::Values, 1),
        ("string", Builtin::String, 1),
        ("raw", Builtin::Raw, 1),
        ("quoted", Builtin::Quoted, 1),
    ];

    /// The function's name.
    pub fn name(self) -> &'static str {
        Builtin::TABLE
            .iter()
            .find(|(_, b, _)| *b == self)
            .map_or("?", |(n, _, _)| n)
    }
}

/// Comparison and string operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
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
    /// `contains`.
    Contains,
    /// `starts with`.
    StartsWith,
    /// `ends with`.
    EndsWith,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Contains => "contains",
            CmpOp::StartsWith => "starts with",
            CmpOp::EndsWith => "ends with",
        }
    }
}

/// A checked regular expression (linear time), compared by its pattern.
#[derive(Clone, Debug)]
pub struct Pattern(pub Arc<super::matcher::Matcher>);

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// Quantifiers.
pub use crate::syntax::ast::Quant;

/// A checked expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Const(Const),
    /// A rule variable.
    Var(VarId),
    /// A parameter, by index in [`Program::params`]; constant folding replaces it.
    Param(usize),
    /// A data table, by index in [`Program::tables`]; constant folding replaces it.
    Table(usize),
    /// Null-safe field access into document data.
    Field(Box<Expr>, Arc<str>),
    /// Null-safe key or index access.
    Index(Box<Expr>, Box<Expr>),
    /// An engine-computed attribute.
    Attr(Box<Expr>, Attr),
    /// A built-in function call.
    Call(Builtin, Vec<Expr>),
    /// `not`.
    Not(Box<Expr>),
    /// `and` (short-circuit).
    And(Box<Expr>, Box<Expr>),
    /// `or` (short-circuit).
    Or(Box<Expr>, Box<Expr>),
    /// A comparison.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `??`.
    Coalesce(Box<Expr>, Box<Expr>),
    /// `x matches "re"` with a literal pattern.
    Matches(Box<Expr>, Pattern),
    /// `a selects b`: label-selector relation.
    Selects(Box<Expr>, Box<Expr>),
    /// A list literal.
    List(Vec<Expr>),
    /// A call of a [`Relation`], by index in [`Program::relations`]: with one argument per
    /// column, whether the tuple holds; with the last one left out, the objects that
    /// complete the tuple (in the order of their shortest derivation, then of the objects).
    Relation {
        /// The relation.
        rel: usize,
        /// Its name, for plans and messages.
        name: Arc<str>,
        /// The arguments (objects).
        args: Vec<Expr>,
    },
    /// A sub-query answered through an index (introduced by the optimizer, never by the
    /// checker): like [`Expr::Quant`] over the candidates the access path yields.
    Probe {
        /// Which quantifier.
        quant: Quant,
        /// The bound variable.
        var: VarId,
        /// How candidates are found.
        access: Access,
        /// The residual filter.
        cond: Option<Box<Expr>>,
    },
    /// A sub-expression the executor evaluates once and then keeps until a variable it
    /// reads is bound again (introduced by the physical plan, never by the checker): the
    /// value sits in slot `.0` of the rule's memo. Everything else sees through it to the
    /// expression it wraps.
    Memo(usize, Box<Expr>),
    /// A condition the rules of one scan group test more than once with the same values
    /// (introduced by the physical plan, never by the checker): its answer for the value
    /// of its one variable is kept while the group runs over a chunk of objects, under
    /// shared id `id`, and given to every later test (see `plan::share`). A relation's
    /// case keeps the answers of its conditions on a later binding's variable the same
    /// way, and those of a condition on two variables by the two objects they hold
    /// (`with`). Everything else sees through it to the expression it wraps.
    Shared {
        /// The id of the condition's class of equal conditions.
        id: u32,
        /// The one variable the condition reads (the later one of two).
        var: VarId,
        /// The other variable of a condition on two, whose answer is kept only when both
        /// hold objects.
        with: Option<VarId>,
        /// The condition.
        expr: Box<Expr>,
    },
    /// A quantifier or sub-query.
    Quant {
        /// Which.
        quant: Quant,
        /// The bound variable.
        var: VarId,
        /// What it ranges over.
        source: Source,
        /// The filter.
        cond: Option<Box<Expr>>,
    },
}

/// An index access path for a sub-query.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// The objects of `kind` whose label selector selects the workload `target`
    /// (reverse adjacency of the label index, built once per graph).
    SelectedBy {
        /// `NetworkPolicy`, `Service` or `PodDisruptionBudget`.
        kind: Arc<str>,
        /// The workload.
        target: Box<Expr>,
    },
    /// The objects of `kinds` named `name`, through the name index per kind and namespace.
    ByName {
        /// The kinds.
        kinds: KindSet,
        /// The namespace (cluster-scoped kinds: none).
        namespace: Option<Box<Expr>>,
        /// The name.
        name: Box<Expr>,
    },
    /// The rows of a constant table that may have `key`'s value in one column: those
    /// whose column holds that string when `key` is a string, every row otherwise.
    Rows {
        /// The table, with its rows by the strings of the column.
        index: Arc<RowIndex>,
        /// The value looked for.
        key: Box<Expr>,
    },
}

/// The rows of a constant table, and which rows hold each string in one column (a row
/// whose column is missing, or is not a string, is under none).
#[derive(Clone, Debug)]
pub struct RowIndex {
    /// The rows.
    pub rows: Arc<Vec<Const>>,
    /// The column.
    pub column: Arc<str>,
    by_value: std::collections::HashMap<Arc<str>, Vec<u32>, crate::FastHash>,
}

impl RowIndex {
    /// Indexes `rows` by `column`, as a field of each row reads it (its first entry with
    /// that key).
    pub fn new(rows: Arc<Vec<Const>>, column: Arc<str>) -> RowIndex {
        let mut by_value: std::collections::HashMap<Arc<str>, Vec<u32>, crate::FastHash> =
            std::collections::HashMap::default();
        for (i, row) in rows.iter().enumerate() {
            let Const::Map(entries) = row else {
                continue;
            };
            if let (Some((_, Const::Str(v))), Ok(i)) =
                (entries.iter().find(|(k, _)| *k == column), u32::try_from(i))
            {
                by_value.entry(v.clone()).or_default().push(i);
            }
        }
        RowIndex {
            rows,
            column,
            by_value,
        }
    }

    /// The rows whose column is the string `value`, in table order.
    pub fn rows_with(&self, value: &str) -> impl Iterator<Item = &Const> {
        self.by_value
            .get(value)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.rows.get(i as usize))
    }

    /// How many different strings the column holds.
    pub fn distinct(&self) -> usize {
        self.by_value.len()
    }
}

impl PartialEq for RowIndex {
    fn eq(&self, other: &RowIndex) -> bool {
        self.column == other.column && self.rows == other.rows
    }
}

/// One `for` binding.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The variable.
    pub var: VarId,
    /// What it ranges over.
    pub source: Source,
}

/// A piece of a report message.
#[derive(Clone, Debug, PartialEq)]
pub enum MessagePart {
    /// Literal text.
    Text(String),
    /// An interpolated value.
    Expr(Expr),
}

/// A checked rule, ready to plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// Kebab-case name.
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// OWASP categories (`K01:2022`, `K01:2025`).
    pub owasp: Vec<String>,
    /// Peer tool ids.
    pub refs: Vec<String>,
    /// How to fix.
    pub fix: String,
    /// Free tags.
    pub tags: Vec<String>,
    /// Documentation (the doc comment).
    pub docs: String,
    /// The file the rule is in.
    pub file: FileId,
    /// The rule's span.
    pub span: Span,
    /// The span of the rule's id.
    pub id_span: Span,
    /// Variable names, by [`VarId`].
    pub vars: Vec<String>,
    /// `for` bindings.
    pub bindings: Vec<Binding>,
    /// The condition.
    pub condition: Option<Expr>,
    /// `report at`.
    pub report_at: Option<Expr>,
    /// The message.
    pub message: Vec<MessagePart>,
    /// The `fix` clause: edits that make a finding go away.
    pub autofix: Option<Fix>,
}

/// A checked `fix` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// `safe`: closes the finding without changing what the workload can do otherwise.
    pub safe: bool,
    /// Why, for people (may be empty); shared by the findings the fix is offered for.
    pub reason: std::sync::Arc<str>,
    /// The findings the fix is offered for (all when absent).
    pub condition: Option<Expr>,
    /// The edits, in order.
    pub actions: Vec<FixAction>,
    /// The clause.
    pub span: Span,
}

/// One checked edit. Places are chains of field accesses, constant indexes and the
/// attributes that name a part of the document (`podSpec`, `labels`, `annotations`) down to
/// a rule variable.
#[derive(Clone, Debug, PartialEq)]
pub enum FixAction {
    /// Set the place to the value.
    Set {
        /// The field.
        place: Expr,
        /// The value.
        value: Expr,
    },
    /// Remove the field or list item.
    Remove {
        /// The field or item.
        place: Expr,
    },
    /// Remove the items of a list for which `cond` holds (all when absent).
    RemoveEach {
        /// The item variable.
        var: VarId,
        /// The list.
        list: Expr,
        /// Which items.
        cond: Option<Expr>,
    },
    /// Append the value to the list unless an equal item is there.
    Add {
        /// The item.
        value: Expr,
        /// The list.
        list: Expr,
    },
}

impl FixAction {
    /// The clause as it starts in the language: `set`, `remove`, `remove ... in` or `add`.
    pub fn keyword(&self) -> &'static str {
        match self {
            FixAction::Set { .. } => "set",
            FixAction::Remove { .. } => "remove",
            FixAction::RemoveEach { .. } => "remove ... in",
            FixAction::Add { .. } => "add",
        }
    }
}

impl Rule {
    /// Whether the rule is in an OWASP Kubernetes Top 10 category. `K01:2025` names an
    /// edition; a bare `K01` means the 2022 edition, the one the bundled ruleset follows
    /// (so `K02` is supply chain, not the 2025 authorization category). Case-insensitive.
    pub fn in_owasp_category(&self, filter: &str) -> bool {
        let f = filter.to_ascii_uppercase();
        let f = if f.contains(':') {
            f
        } else {
            format!("{f}:2022")
        };
        self.owasp.iter().any(|c| c.eq_ignore_ascii_case(&f))
    }
}

/// A named relation over graph objects: the least fixpoint of its cases.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    /// Name.
    pub name: String,
    /// Parameter names, one per column.
    pub params: Vec<String>,
    /// The kinds each column holds (the union over the cases of the parameter's binding).
    pub columns: Vec<KindSet>,
    /// The cases, in source order.
    pub cases: Vec<Case>,
    /// Whether the relation is part of a recursive cycle (it depends on itself).
    pub recursive: bool,
    /// Documentation.
    pub docs: String,
    /// The span of the relation's name.
    pub name_span: Span,
}

/// One case of a relation: a tuple holds for each row of its bindings where the condition
/// holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Variable names, by [`VarId`].
    pub vars: Vec<String>,
    /// `for` bindings.
    pub bindings: Vec<Binding>,
    /// The condition.
    pub condition: Option<Expr>,
    /// The variable of each column.
    pub head: Vec<VarId>,
    /// The evidence the case adds to a path.
    pub step: Option<Step>,
    /// Whether every call of a relation of the same stratum is a whole `for` source, so
    /// that a round may read only the facts the previous round found (semi-naive).
    pub semi_naive: bool,
}

/// `step at x "text"`: one step of a path's evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What the step points at.
    pub at: Option<Expr>,
    /// The text.
    pub message: Vec<MessagePart>,
}

/// A declared parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Declared type, as written (`list<string>`).
    pub ty: String,
    /// Current value (default, or overridden).
    pub value: Const,
    /// Docs.
    pub docs: String,
}

/// A data table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Name.
    pub name: String,
    /// Path it was loaded from.
    pub path: String,
    /// Rows.
    pub rows: Const,
}

/// A compiled ruleset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// Rules in file order.
    pub rules: Vec<Rule>,
    /// Parameters.
    pub params: Vec<Param>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Relations, in declaration order.
    pub relations: Vec<Relation>,
    /// The strata: groups of relations (indexes into `relations`) evaluated together,
    /// in evaluation order (what a group calls is in an earlier group or in itself).
    pub strata: Vec<Vec<usize>>,
}

/// The checker's static types.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// Unknown; anything goes.
    Any,
    /// Only `null`.
    Null,
    /// Boolean.
    Bool,
    /// Integer or float.
    Number,
    /// String.
    Str,
    /// A list.
    List(Box<Ty>),
    /// Document data described by the Kubernetes schema.
    Data(FieldType),
    /// Document data that may be any of these schema types (fields of `workloads`,
    /// whose kinds differ).
    Union(Vec<FieldType>),
    /// A graph object of one of these kinds.
    Object(KindSet),
    /// A container of a workload.
    Container,
    /// A parsed image reference.
    Image,
    /// A Kubernetes version.
    Version,
    /// A reference record (`kind`, `name`, `namespace`, `via`, `target`, `missing`).
    Reference,
    /// An exposure record (`via`, `service`, `route`, `gateway`, `path`).
    Exposure,
}

impl Expr {
    /// Every relation call in the expression, with its arguments, outer ones first.
    pub fn relation_calls<'e>(&'e self, out: &mut Vec<(usize, &'e [Expr])>) {
        if let Expr::Relation { rel, args, .. } = self {
            out.push((*rel, args));
        }
        self.for_each_child(&mut |c| c.relation_calls(out));
    }

    /// Calls `f` on each direct sub-expression, in evaluation order: operands, arguments,
    /// a quantifier's source then its condition, a probe's access path then its condition.
    pub fn for_each_child<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        each_child!(self, f, iter, as_deref);
    }

    /// [`Expr::for_each_child`], each sub-expression borrowed to be changed.
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        each_child!(self, f, iter_mut, as_deref_mut);
    }
}

/// The body of [`Expr::for_each_child`] and [`Expr::for_each_child_mut`]: the same walk,
/// through shared or through mutable borrows (`iter` and `as_deref`, or their `_mut`s).
macro_rules! each_child {
    ($e:expr, $f:expr, $iter:ident, $deref:ident) => {
        match $e {
            Expr::Const(_) | Expr::Var(_) | Expr::Param(_) | Expr::Table(_) => {}
            Expr::Field(b, _)
            | Expr::Attr(b, _)
            | Expr::Not(b)
            | Expr::Matches(b, _)
            | Expr::Memo(_, b)
            | Expr::Shared { expr: b, .. } => $f(b),
            Expr::Index(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Coalesce(a, b)
            | Expr::Selects(a, b) => {
                $f(a);
                $f(b);
            }
            Expr::Call(_, args) | Expr::List(args) | Expr::Relation { args, .. } => {
                args.$iter().for_each(|a| $f(a));
            }
            Expr::Quant { source, cond, .. } => {
                match source {
                    Source::Scan { namespace, .. } => {
                        namespace.$deref().into_iter().for_each(|n| $f(n))
                    }
                    Source::Expr(e) => $f(e),
                }
                cond.$deref().into_iter().for_each(|c| $f(c));
            }
            Expr::Probe { access, cond, .. } => {
                match access {
                    Access::SelectedBy { target, .. } => $f(target),
                    Access::ByName {
                        namespace, name, ..
                    } => {
                        namespace.$deref().into_iter().for_each(|n| $f(n));
                        $f(name);
                    }
                    Access::Rows { key, .. } => $f(key),
                }
                cond.$deref().into_iter().for_each(|c| $f(c));
            }
        }
    };
}
use each_child;

impl Source {
    /// Every relation call in the source.
    pub fn relation_calls<'e>(&'e self, out: &mut Vec<(usize, &'e [Expr])>) {
        match self {
            Source::Scan { namespace, .. } => {
                if let Some(n) = namespace {
                    n.relation_calls(out);
                }
            }
            Source::Expr(e) => e.relation_calls(out),
        }
    }
}

impl Case {
    /// Every relation call of the case: bindings, condition, step.
    pub fn relation_calls(&self) -> Vec<(usize, &[Expr])> {
        let mut out = Vec::new();
        for b in &self.bindings {
            b.source.relation_calls(&mut out);
        }
        if let Some(c) = &self.condition {
            c.relation_calls(&mut out);
        }
        if let Some(s) = &self.step {
            if let Some(a) = &s.at {
                a.relation_calls(&mut out);
            }
            for p in &s.message {
                if let MessagePart::Expr(e) = p {
                    e.relation_calls(&mut out);
                }
            }
        }
        out
    }
}
