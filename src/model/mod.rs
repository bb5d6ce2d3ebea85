//! The document model: every value of every input document with its exact span.
//!
//! Each document is an arena of [`Node`]s. Objects (the Kubernetes resources found in the
//! documents, including the items of `List` exports) are [`ObjectRef`]s into those arenas.
//! Loading is in [`load`]; YAML and JSON readers are in [`yaml`] and [`json`].

pub mod json;
pub mod limits;
pub mod load;
pub mod yaml;

use crate::diag::{FileId, Span};

pub use limits::Limits;
pub use load::{LoadOutput, LoadStats, Loader, SkipReason};

/// Index of a node in its [`Document`] arena.
pub type NodeId = u32;

/// Index of a document in [`LoadOutput::docs`].
pub type DocId = u32;

/// How a scalar was written in the source; lets rules tell `"yes"` from `yes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Style {
    /// Unquoted YAML scalar (resolved with YAML 1.1 rules), or a non-scalar node.
    #[default]
    Plain,
    /// `'single quoted'`.
    SingleQuoted,
    /// `"double quoted"`, or any JSON string.
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

impl Style {
    /// Whether the scalar was quoted or a block scalar (so it is always a string).
    pub fn is_quoted(self) -> bool {
        !matches!(self, Style::Plain)
    }
}

/// A value, as the Kubernetes API server would read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~`, an empty value.
    Null,
    /// `true`/`false`, and the YAML 1.1 `yes`/`no`/`on`/`off` family when unquoted.
    Bool(bool),
    /// An integer (YAML 1.1: `0755` is octal, `0x1F` hex).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(Box<str>),
    /// A sequence of child nodes.
    Seq(Vec<NodeId>),
    /// A mapping in source order; keys are strings (non-string keys are converted to their text).
    /// A duplicate key keeps only its last value (and is reported by the loader).
    Map(Vec<(Box<str>, NodeId)>),
}

/// One value with its location.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// The span of the value itself (for a collection, from its first to its last byte).
    pub span: Span,
    /// When this node is the value of a mapping entry, the span of its key.
    pub key_span: Option<Span>,
    /// How a scalar was written.
    pub style: Style,
}

/// One YAML or JSON document (one `---` section, or one JSON file).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The arena; `nodes[root]` is the top value.
    pub nodes: Vec<Node>,
    /// Root node id.
    pub root: NodeId,
    /// The file the document came from.
    pub file: FileId,
    /// 0-based position of the document in its file.
    pub index: u32,
    /// The `# Source: path` comment that Helm writes above each document, if any.
    pub helm_source: Option<String>,
}

impl Document {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// The value of `key` in the mapping `id`.
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        match &self.node(id)?.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| &**k == key)
                .map(|(_, v)| *v),
            _ => None,
        }
    }

    /// Follows a path of mapping keys from `id`.
    pub fn path(&self, id: NodeId, keys: &[&str]) -> Option<NodeId> {
        keys.iter().try_fold(id, |n, k| self.get(n, k))
    }

    /// The string value of a node (`None` if it is not a string).
    pub fn str(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string at a path of keys.
    pub fn str_at(&self, id: NodeId, keys: &[&str]) -> Option<&str> {
        self.str(self.path(id, keys)?)
    }

    /// The children of a sequence (empty if not a sequence).
    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match self.node(id).map(|n| &n.value) {
            Some(Value::Seq(items)) => items,
            _ => &[],
        }
    }

    /// The entries of a mapping (empty if not a mapping).
    pub fn map(&self, id: NodeId) -> &[(Box<str>, NodeId)] {
        match self.node(id).map(|n| &n.value) {
            Some(Value::Map(entries)) => entries,
            _ => &[],
        }
    }

    /// The boolean value of a node.
    pub fn bool(&self, id: NodeId) -> Option<bool> {
        match self.node(id)?.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// An arena with its unused reserve given back when it is mostly empty.
pub(crate) fn trimmed(mut nodes: Vec<Node>) -> Vec<Node> {
    if nodes.capacity() > 2 * nodes.len() + 64 {
        nodes.shrink_to_fit();
    }
    nodes
}

/// A Kubernetes object: a mapping node inside a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The document.
    pub doc: DocId,
    /// The object's mapping node.
    pub node: NodeId,
}
