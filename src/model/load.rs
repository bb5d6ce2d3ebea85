//! Reading paths, stdin and text into documents and objects.

use super::{Document, Limits, ObjectRef};
use crate::diag::{Diagnostic, SourceMap};

/// Why a document or file was not evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The document holds nothing (or only comments).
    Empty,
    /// The document is not a Kubernetes object (no `apiVersion`/`kind`).
    NotKubernetes,
    /// The document or file could not be parsed.
    Malformed,
    /// The file could not be read.
    Unreadable,
    /// A limit was hit (size, depth, alias expansion).
    LimitExceeded,
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Files read.
    pub files: usize,
    /// Documents read (evaluated + skipped).
    pub documents: usize,
    /// Objects found (List items count one each).
    pub objects: usize,
    /// Skipped documents or files, by reason.
    pub skipped: Vec<(SkipReason, usize)>,
}

/// Everything loaded from a set of inputs.
#[derive(Debug, Default)]
pub struct LoadOutput {
    /// The documents, in input order.
    pub docs: Vec<Document>,
    /// The Kubernetes objects, in input order.
    pub objects: Vec<ObjectRef>,
    /// Input errors and warnings, each located.
    pub diagnostics: Vec<Diagnostic>,
    /// Totals.
    pub stats: LoadStats,
}

/// Loads inputs under [`Limits`].
#[derive(Clone, Debug, Default)]
pub struct Loader {
    /// Bounds on hostile input.
    pub limits: Limits,
}

impl Loader {
    /// Loads one text (a file's contents, or stdin) registered under `name`.
    pub fn load_text(&self, name: &str, text: String, sources: &mut SourceMap) -> LoadOutput {
        let _ = (name, text, sources);
        LoadOutput::default()
    }
}
