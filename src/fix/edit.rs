//! PLACEHOLDER until the edit engine lands (h-edit).

/// One step of a path from a document's root.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A value a fix writes.
#[derive(Clone, Debug, PartialEq)]
pub enum FixValue {
    /// null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<FixValue>),
}

/// One edit of a document, by a path from its root.
#[derive(Clone, Debug, PartialEq)]
pub enum EditOp {
    /// Set.
    Set {
        /// Path.
        path: Vec<PathStep>,
        /// Value.
        value: FixValue,
    },
    /// Remove.
    Remove {
        /// Path.
        path: Vec<PathStep>,
    },
    /// Add.
    Add {
        /// Path.
        path: Vec<PathStep>,
        /// Value.
        value: FixValue,
    },
}

/// Error.
#[derive(Debug)]
pub struct EditError(pub String);

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Placeholder.
pub fn apply_ops(_text: &str, _doc: usize, _ops: &[EditOp]) -> Result<String, EditError> {
    Err(EditError("not yet".into()))
}
