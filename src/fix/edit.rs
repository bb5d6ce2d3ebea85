//! Surgical edits of YAML and JSON text by path, for `kanon scan --fix`.
//!
//! [`apply_ops`] sets, removes and adds values in one document of a file and changes nothing
//! else: comments, key order, quoting of untouched scalars, blank lines, indentation (2 or 4
//! spaces, sequences indented under their key or not), block or flow style, CRLF line ends,
//! `---` / `...` markers, the other documents, a missing final newline and a BOM stay as they
//! were. Each op is applied on the text with the spans the crate's own loader gives
//! (`crate::model`), then the file is read again and the document compared, as data, with
//! the original data with the op applied; any difference (an alias elsewhere that changed, a
//! merge key that shows through) is an [`EditError`], never a corrupted file.
//!
//! New text follows the file: new entries at the indentation of their siblings, missing
//! parents as nested block mappings with the file's indentation step (default 2), new
//! sequences indented as the file's other sequences, new lines with the file's line end,
//! scalars plain when YAML 1.1 (go-yaml, PyYAML) reads them back as the same value, else
//! double-quoted, and JSON in a JSON document.

use crate::diag::SourceMap;
use crate::model::{Document, Loader, NodeId, Style, Value, yaml::resolve_plain};
use std::fmt;

/// One step of a path from a document's root.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// A mapping key.
    Key(String),
    /// A sequence position (0-based).
    Index(usize),
}

/// A value a fix writes.
#[derive(Clone, Debug, PartialEq)]
pub enum FixValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    List(Vec<FixValue>),
}

/// One edit of a document, by a path from its root.
#[derive(Clone, Debug, PartialEq)]
pub enum EditOp {
    /// Set the value at `path`; missing parent mappings are created (with the indentation of
    /// their siblings).
    Set {
        /// Where.
        path: Vec<PathStep>,
        /// The new value.
        value: FixValue,
    },
    /// Remove the mapping entry or sequence item at `path` (nothing to do when absent).
    Remove {
        /// Where.
        path: Vec<PathStep>,
    },
    /// Append `value` to the sequence at `path` unless an equal item is there; the sequence
    /// (and missing parents) are created when absent.
    Add {
        /// The sequence.
        path: Vec<PathStep>,
        /// The item.
        value: FixValue,
    },
}

impl EditOp {
    /// The path the op edits.
    pub fn path(&self) -> &[PathStep] {
        match self {
            EditOp::Set { path, .. } | EditOp::Remove { path } | EditOp::Add { path, .. } => path,
        }
    }
}

/// Why an edit cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The file has no document with this index, or it is empty.
    NoDocument {
        /// The document index asked for.
        doc: usize,
    },
    /// The document does not parse.
    Parse {
        /// The document index.
        doc: usize,
    },
    /// A key on the path is written twice in its mapping, so the path may mean two places.
    DuplicateKey {
        /// The path up to the duplicate key.
        path: String,
    },
    /// A step of the path meets a scalar.
    ThroughScalar {
        /// The path up to the scalar.
        path: String,
    },
    /// A key step meets a sequence.
    NotAMapping {
        /// The path up to the sequence.
        path: String,
    },
    /// An index step, or an `Add`, meets something else than a sequence.
    NotASequence {
        /// The path up to it.
        path: String,
    },
    /// An index past the end of a sequence.
    IndexOutOfRange {
        /// The path up to the index.
        path: String,
        /// The sequence's length.
        len: usize,
    },
    /// The path goes through an alias (`*name`): editing it would edit its anchor.
    Alias {
        /// The path up to the alias.
        path: String,
    },
    /// The edited value, or one around it, is anchored (`&name`): aliases would change too.
    Anchored {
        /// The path up to the anchored node.
        path: String,
    },
    /// The value at the path comes from a merge key (`<<: *name`).
    Merged {
        /// The path.
        path: String,
    },
    /// The root of a document cannot be removed.
    RemoveRoot,
    /// A value that cannot be written here (NaN or infinity in JSON).
    Unwritable {
        /// The value as text.
        value: String,
    },
    /// The edited text would not read back as the intended document (the edit is refused).
    Unverified {
        /// The path.
        path: String,
    },
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::NoDocument { doc } => write!(f, "the file has no document {doc} to edit"),
            EditError::Parse { doc } => write!(f, "document {doc} does not parse"),
            EditError::DuplicateKey { path } => {
                write!(f, "`{path}` is a duplicate key, so the path is ambiguous")
            }
            EditError::ThroughScalar { path } => write!(f, "path `{path}` goes through a scalar"),
            EditError::NotAMapping { path } => write!(f, "`{path}` is a sequence, not a mapping"),
            EditError::NotASequence { path } => write!(f, "`{path}` is not a sequence"),
            EditError::IndexOutOfRange { path, len } => {
                let items = if *len == 1 { "item" } else { "items" };
                write!(
                    f,
                    "index `{path}` is out of range (the sequence has {len} {items})"
                )
            }
            EditError::Alias { path } => {
                write!(
                    f,
                    "`{path}` is an alias: editing it would change its anchor too"
                )
            }
            EditError::Anchored { path } => {
                write!(
                    f,
                    "`{path}` is anchored: editing it would change its aliases too"
                )
            }
            EditError::Merged { path } => {
                write!(
                    f,
                    "`{path}` comes from a merge key: it cannot be edited in place"
                )
            }
            EditError::RemoveRoot => write!(f, "the root of a document cannot be removed"),
            EditError::Unwritable { value } => write!(f, "`{value}` cannot be written in json"),
            EditError::Unverified { path } => write!(
                f,
                "the edit of `{path}` would not read back as intended, so it is not made"
            ),
        }
    }
}

impl EditError {
    /// How the user can make the edit possible, when known.
    pub fn help(&self) -> Option<&'static str> {
        Some(match self {
            EditError::Anchored { .. } | EditError::Alias { .. } | EditError::Merged { .. } => {
                "write the value out in place of the alias or merge key, then fix again"
            }
            EditError::DuplicateKey { .. } => "remove one of the two keys, then fix again",
            EditError::Parse { .. } => "fix the syntax of the document first",
            EditError::Unverified { .. } => {
                "this is a bug in kanon's editor: please report it with the file"
            }
            _ => return None,
        })
    }
}

impl std::error::Error for EditError {}

/// Renders a path as `a.b[0].c` (keys that are not plain words in quotes).
pub fn path_text(path: &[PathStep]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            PathStep::Key(k) => {
                let word = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'));
                if word {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                } else {
                    s.push_str(&format!("[{}]", quote_dq(k)));
                }
            }
            PathStep::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() { "(root)".into() } else { s }
}

/// Applies `ops` in order to document number `doc` (0-based, as `Document::index`) of the
/// file `text`, returning the new text of the whole file. Everything not edited stays byte
/// for byte. All or nothing: when one op fails, the error is returned and no text.
///
/// ```
/// use kanon::fix::edit::{apply_ops, EditOp, FixValue, PathStep};
/// let key = |k: &str| PathStep::Key(k.to_string());
/// let text = "spec:\n  containers:\n  - name: app # the app\n    image: app:1\n";
/// let ops = [
///     EditOp::Set {
///         path: vec![key("spec"), key("containers"), PathStep::Index(0),
///                    key("securityContext"), key("allowPrivilegeEscalation")],
///         value: FixValue::Bool(false),
///     },
///     EditOp::Add {
///         path: vec![key("spec"), key("containers"), PathStep::Index(0),
///                    key("securityContext"), key("capabilities"), key("drop")],
///         value: FixValue::Str("ALL".into()),
///     },
/// ];
/// assert_eq!(
///     apply_ops(text, 0, &ops).unwrap(),
///     "spec:\n  containers:\n  - name: app # the app\n    image: app:1\n    securityContext:\n      \
///      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n"
/// );
/// ```
pub fn apply_ops(text: &str, doc: usize, ops: &[EditOp]) -> Result<String, EditError> {
    let mut cur = text.to_string();
    for op in ops {
        cur = apply_one(&cur, doc, op)?;
    }
    Ok(cur)
}

/// How a document is written, as edits of it follow it: JSON or YAML, the line break, the
/// indentation step of nested mappings and of block sequences. Found by a walk of every
/// node of the document, so found once for the fixes of one document ([`Writing::of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Writing {
    eol: &'static str,
    json: bool,
    step: usize,
    seq_indent: usize,
}

impl Writing {
    /// How `doc` is written, read from `text` (the whole file).
    pub fn of(text: &str, doc: &Document) -> Writing {
        let eol = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
            _ => "\n",
        };
        let mut e = Editor {
            text,
            doc,
            eol,
            json: false,
            step: 2,
            seq_indent: 2,
            duplicates: &[],
        };
        e.json = e.is_flow(doc.root)
            && text
                .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
                .starts_with('{');
        let (step, seq) = e.detect_indent();
        let step = step.unwrap_or(2);
        Writing {
            eol,
            json: e.json,
            step,
            seq_indent: seq.unwrap_or(step),
        }
    }
}

/// The text after `op` on `doc` (read from `text`, the whole file, and written as
/// `writing` says, see [`Writing::of`]), without reading the result back as [`apply_ops`]
/// does: for describing a fix from the document a scan already parsed. Callers that write
/// the result use [`apply_ops`].
/// The result is one replacement: the range of `text` from the first to the last byte
/// changed, and what replaces it.
pub fn preview(
    text: &str,
    doc: &Document,
    writing: Writing,
    op: &EditOp,
) -> Result<(std::ops::Range<usize>, String), EditError> {
    let changes = Editor::written(text, doc, writing).op(op)?;
    let lo = changes.iter().map(|c| c.start).min().unwrap_or(0);
    let hi = changes.iter().map(|c| c.end).max().unwrap_or(0);
    let region = text.get(lo..hi).unwrap_or_default();
    let local = changes
        .into_iter()
        .map(|c| change(c.start - lo, c.end - lo, c.text))
        .collect();
    Ok((lo..hi, splice(region, local)))
}

/// A replacement of `start..end` by `text`.
#[derive(Debug)]
struct Change {
    start: usize,
    end: usize,
    text: String,
}

fn change(start: usize, end: usize, text: impl Into<String>) -> Change {
    Change {
        start,
        end,
        text: text.into(),
    }
}

/// A parsed file: every document that loaded, and whether the load reported errors in each.
struct Loaded {
    docs: Vec<Document>,
    /// Spans of duplicate keys (each occurrence).
    duplicates: Vec<(usize, usize)>,
    /// Documents read, parsed or not.
    total: usize,
    /// Documents that did not parse.
    malformed: usize,
}

fn load(text: &str) -> Loaded {
    let mut sources = SourceMap::default();
    let out = Loader::default().load_text("edit.yaml", text.to_string(), &mut sources);
    let mut duplicates = Vec::new();
    for d in out.diagnostics.iter().filter(|d| d.code == "W1001") {
        for label in d.primary.iter().chain(&d.secondary) {
            duplicates.push((label.span.start as usize, label.span.end as usize));
        }
    }
    Loaded {
        total: out.stats.documents,
        malformed: out.stats.skipped_for(crate::model::SkipReason::Malformed)
            + out
                .stats
                .skipped_for(crate::model::SkipReason::LimitExceeded),
        docs: out.docs,
        duplicates,
    }
}

/// The byte ranges of the documents of a multi-document YAML text, cut at its column-0
/// `---` lines: one range per document, together the whole text, each of which reads on its
/// own as exactly that document (checked: the same values as in the whole text). Edits of
/// one document then parse and check that document alone, not the whole file: on a stream
/// of thousands of documents, the difference between a linear and a quadratic `--fix`.
/// `None` when the text has one document, does not read cleanly, or a piece does not read
/// as its document (a directive between documents, say); then the whole text is edited.
pub fn split_documents(text: &str) -> Option<Vec<std::ops::Range<usize>>> {
    let ranges = crate::model::split::stream_pieces(text, 1);
    if ranges.len() < 2 {
        return None;
    }
    let whole = load(text);
    if whole.malformed > 0 || whole.total != ranges.len() || whole.docs.len() != ranges.len() {
        return None;
    }
    for (k, r) in ranges.iter().enumerate() {
        let piece = load(text.get(r.clone())?);
        let (Some(alone), Some(there)) = (piece.docs.first(), find_doc(&whole, k)) else {
            return None;
        };
        if piece.total != 1 || Data::of(alone, alone.root) != Data::of(there, there.root) {
            return None;
        }
    }
    Some(ranges)
}

/// Whether `parts`, edited one by one, still read as a whole the way each reads alone: as
/// many documents as parts, document `k` with the values of part `k`.
pub fn parts_join(parts: &[String]) -> bool {
    let whole = load(&parts.concat());
    if whole.malformed > 0 || whole.total != parts.len() || whole.docs.len() != parts.len() {
        return false;
    }
    parts.iter().enumerate().all(|(k, p)| {
        let piece = load(p);
        match (piece.docs.first(), find_doc(&whole, k)) {
            (Some(alone), Some(there)) => {
                piece.total == 1 && Data::of(alone, alone.root) == Data::of(there, there.root)
            }
            _ => false,
        }
    })
}

fn find_doc(loaded: &Loaded, doc: usize) -> Option<&Document> {
    loaded.docs.iter().find(|d| d.index as usize == doc)
}

fn apply_one(text: &str, doc_index: usize, op: &EditOp) -> Result<String, EditError> {
    let loaded = load(text);
    let Some(doc) = find_doc(&loaded, doc_index) else {
        // a document that did not parse is missing from the output; tell the two apart
        return Err(if loaded.malformed > 0 {
            EditError::Parse { doc: doc_index }
        } else {
            EditError::NoDocument { doc: doc_index }
        });
    };
    let before = Data::of(doc, doc.root);
    let mut expected = before.clone();
    expected.apply(op)?;
    let mut editor = Editor::new(text, doc);
    editor.duplicates = &loaded.duplicates;
    let changes = editor.op(op)?;
    if changes.is_empty() {
        if expected != before {
            return Err(EditError::Unverified {
                path: path_text(op.path()),
            });
        }
        return Ok(text.to_string());
    }
    let new = splice(text, changes);
    verify(&new, &loaded, doc_index, &expected).map_err(|()| EditError::Unverified {
        path: path_text(op.path()),
    })?;
    Ok(new)
}

/// Applies non-overlapping changes.
fn splice(text: &str, mut changes: Vec<Change>) -> String {
    changes.sort_by_key(|c| (c.start, c.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for c in changes {
        let start = c.start.max(at);
        out.push_str(text.get(at..start).unwrap_or(""));
        out.push_str(&c.text);
        at = c.end.max(start);
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// The new text reads back: the edited document as `expected`, every other document as before.
fn verify(new: &str, loaded: &Loaded, doc_index: usize, expected: &Data) -> Result<(), ()> {
    let again = load(new);
    if again.docs.len() != loaded.docs.len()
        || again.total != loaded.total
        || again.malformed > loaded.malformed
    {
        return Err(());
    }
    for (a, b) in loaded.docs.iter().zip(&again.docs) {
        if a.index != b.index {
            return Err(());
        }
        let want = if a.index as usize == doc_index {
            expected.clone()
        } else {
            Data::of(a, a.root)
        };
        if Data::of(b, b.root) != want {
            return Err(());
        }
    }
    Ok(())
}

/// A document as plain data, to check edits.
#[derive(Clone, Debug)]
enum Data {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Data>),
    Map(Vec<(String, Data)>),
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        match (self, other) {
            (Data::Null, Data::Null) => true,
            (Data::Bool(a), Data::Bool(b)) => a == b,
            (Data::Int(a), Data::Int(b)) => a == b,
            (Data::Float(a), Data::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Data::Str(a), Data::Str(b)) => a == b,
            (Data::Seq(a), Data::Seq(b)) => a == b,
            (Data::Map(a), Data::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Data {
    fn of(doc: &Document, id: NodeId) -> Data {
        match doc.value(id) {
            None | Some(Value::Null) => Data::Null,
            Some(Value::Bool(b)) => Data::Bool(b),
            Some(Value::Int(i)) => Data::Int(i),
            Some(Value::Float(x)) => Data::Float(x),
            Some(Value::Str(s)) => Data::Str(s.to_string()),
            Some(Value::Seq(items)) => Data::Seq(items.iter().map(|&c| Data::of(doc, c)).collect()),
            Some(Value::Map(entries)) => Data::Map(
                entries
                    .iter()
                    .map(|(k, c)| (k.to_string(), Data::of(doc, c)))
                    .collect(),
            ),
        }
    }

    fn from_fix(v: &FixValue) -> Data {
        match v {
            FixValue::Null => Data::Null,
            FixValue::Bool(b) => Data::Bool(*b),
            FixValue::Int(i) => Data::Int(*i),
            FixValue::Float(x) => Data::Float(*x),
            FixValue::Str(s) => Data::Str(s.clone()),
            FixValue::List(items) => Data::Seq(items.iter().map(Data::from_fix).collect()),
        }
    }

    /// Applies an op to the data (what the text edit must give).
    fn apply(&mut self, op: &EditOp) -> Result<(), EditError> {
        match op {
            EditOp::Set { path, value } => {
                *self.place(path, true)?.ok_or(EditError::RemoveRoot)? = Data::from_fix(value);
            }
            EditOp::Add { path, value } => {
                let v = Data::from_fix(value);
                let Some(slot) = self.place(path, true)? else {
                    return Ok(());
                };
                match slot {
                    Data::Null => *slot = Data::Seq(vec![v]),
                    Data::Seq(items) => {
                        if !items.contains(&v) {
                            items.push(v);
                        }
                    }
                    _ => {
                        return Err(EditError::NotASequence {
                            path: path_text(path),
                        });
                    }
                }
            }
            EditOp::Remove { path } => {
                let Some((last, parent)) = path.split_last() else {
                    return Err(EditError::RemoveRoot);
                };
                let Ok(Some(p)) = self.place(parent, false) else {
                    return Ok(());
                };
                match (p, last) {
                    (Data::Map(es), PathStep::Key(k)) => es.retain(|(ek, _)| ek != k),
                    (Data::Seq(items), PathStep::Index(i)) if *i < items.len() => {
                        items.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The value at `path`, creating missing mappings when `create` (else `None` when absent).
    fn place(&mut self, path: &[PathStep], create: bool) -> Result<Option<&mut Data>, EditError> {
        let mut cur = self;
        for (i, step) in path.iter().enumerate() {
            if create && matches!(cur, Data::Null) && matches!(step, PathStep::Key(_)) {
                *cur = Data::Map(Vec::new());
            }
            let here = || path_text(path.get(..i).unwrap_or(&[]));
            cur = match (cur, step) {
                (Data::Map(es), PathStep::Key(k)) => {
                    let pos = es.iter().position(|(ek, _)| ek == k);
                    let pos = match pos {
                        Some(p) => p,
                        None if create => {
                            es.push((k.clone(), Data::Null));
                            es.len() - 1
                        }
                        None => return Ok(None),
                    };
                    match es.get_mut(pos) {
                        Some((_, v)) => v,
                        None => return Ok(None),
                    }
                }
                (Data::Seq(items), PathStep::Index(n)) => {
                    let len = items.len();
                    match items.get_mut(*n) {
                        Some(v) => v,
                        None if create => {
                            return Err(EditError::IndexOutOfRange {
                                path: path_text(path.get(..=i).unwrap_or(&[])),
                                len,
                            });
                        }
                        None => return Ok(None),
                    }
                }
                _ if !create => return Ok(None),
                (Data::Seq(_), PathStep::Key(_)) => {
                    return Err(EditError::NotAMapping { path: here() });
                }
                (Data::Map(_) | Data::Null, PathStep::Index(_)) => {
                    return Err(EditError::NotASequence { path: here() });
                }
                _ => return Err(EditError::ThroughScalar { path: here() }),
            };
        }
        Ok(Some(cur))
    }
}

/// What a new value holds: a fix value, or a mapping of missing parents around it.
enum New<'a> {
    Value(&'a FixValue),
    Map(String, Box<New<'a>>),
}

fn nest<'a>(keys: &[String], value: &'a FixValue) -> New<'a> {
    match keys.split_first() {
        None => New::Value(value),
        Some((k, rest)) => New::Map(k.clone(), Box::new(nest(rest, value))),
    }
}

/// Where the path search ended.
struct Walk {
    /// Nodes from the root, one per matched step (the root first).
    chain: Vec<NodeId>,
    /// The keys still missing below the last node of `chain` (empty: the path exists).
    missing: Vec<String>,
}

/// One op's edit of the text, with the document's spans.
struct Editor<'a> {
    text: &'a str,
    doc: &'a Document,
    eol: &'static str,
    /// The document is JSON: write JSON.
    json: bool,
    /// Indentation step of nested mappings.
    step: usize,
    /// Columns from a key to the dashes of its block sequence (0: indentless).
    seq_indent: usize,
    /// Spans of keys written twice in their mapping.
    duplicates: &'a [(usize, usize)],
}

impl<'a> Editor<'a> {
    fn new(text: &'a str, doc: &'a Document) -> Editor<'a> {
        Editor::written(text, doc, Writing::of(text, doc))
    }

    fn written(text: &'a str, doc: &'a Document, writing: Writing) -> Editor<'a> {
        Editor {
            text,
            doc,
            eol: writing.eol,
            json: writing.json,
            step: writing.step,
            seq_indent: writing.seq_indent,
            duplicates: &[],
        }
    }

    fn sl(&self, a: usize, b: usize) -> &'a str {
        self.text.get(a..b).unwrap_or("")
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.text.as_bytes().get(i).copied()
    }

    fn line_start(&self, p: usize) -> usize {
        self.text
            .as_bytes()
            .get(..p)
            .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
            .map_or(self.bom(), |i| i + 1)
    }

    /// The length of a byte order mark at the start of the text (not part of the first line).
    fn bom(&self) -> usize {
        if self.text.starts_with('\u{feff}') {
            3
        } else {
            0
        }
    }

    /// Where the line holding `p` ends, before its line break.
    fn line_end(&self, p: usize) -> usize {
        let nl = self
            .text
            .as_bytes()
            .get(p..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
            .map(|i| p + i);
        match nl {
            Some(i) if i > 0 && self.byte(i - 1) == Some(b'\r') => i - 1,
            Some(i) => i,
            None => self.text.len(),
        }
    }

    /// Where the next line starts (the text's end when there is none).
    fn next_line(&self, p: usize) -> usize {
        self.text
            .as_bytes()
            .get(p..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
            .map_or(self.text.len(), |i| p + i + 1)
    }

    fn col(&self, p: usize) -> usize {
        p.saturating_sub(self.line_start(p))
    }

    /// Only blanks before `p` on its line.
    fn starts_line(&self, p: usize) -> bool {
        self.sl(self.line_start(p), p)
            .bytes()
            .all(|c| c == b' ' || c == b'\t')
    }

    fn span(&self, id: NodeId) -> (usize, usize) {
        self.doc
            .span(id)
            .map_or((0, 0), |s| (s.start as usize, s.end as usize))
    }

    fn key_span(&self, id: NodeId) -> Option<(usize, usize)> {
        self.doc
            .key_span(id)
            .map(|s| (s.start as usize, s.end as usize))
    }

    /// Where a node's text ends, with its last entry or item (an empty value's key and colon).
    fn node_end(&self, id: NodeId) -> usize {
        let own = self.trimmed_end(id);
        let last = match self.doc.value(id) {
            Some(Value::Map(es)) => es.iter().next_back().map(|(_, c)| c),
            Some(Value::Seq(items)) => items.last().copied(),
            _ => None,
        };
        match last {
            Some(c) if !self.is_flow(id) && c != id => own.max(self.child_end(c)),
            _ => own,
        }
    }

    /// Where a node's text ends, without trailing blanks and line breaks (block scalars)
    /// or what follows a quoted scalar's closing quote (the span may reach a comment).
    fn trimmed_end(&self, id: NodeId) -> usize {
        let (s, e) = self.span(id);
        let c = self.content_start(id);
        if let Some(q @ (b'\'' | b'"')) = self.byte(c)
            && matches!(self.doc.value(id), Some(Value::Str(_)))
        {
            let mut i = c + 1;
            while i < e {
                match self.byte(i) {
                    Some(b'\\') if q == b'"' => i += 2,
                    Some(b'\'') if q == b'\'' && self.byte(i + 1) == Some(b'\'') => i += 2,
                    Some(x) if x == q => return i + 1,
                    _ => i += 1,
                }
            }
        }
        let body = self.sl(s, e);
        s + body.trim_end_matches([' ', '\t', '\r', '\n']).len()
    }

    /// Where a node's own text starts, after its tag and anchor.
    fn content_start(&self, id: NodeId) -> usize {
        let (s, e) = self.span(id);
        let mut p = s;
        loop {
            let rest = self.sl(p, e);
            let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            p += rest.len() - trimmed.len();
            if trimmed.starts_with('!') || trimmed.starts_with('&') {
                let tok = trimmed
                    .find([' ', '\t', '\r', '\n'])
                    .unwrap_or(trimmed.len());
                p += tok;
            } else {
                return p;
            }
        }
    }

    fn is_flow(&self, id: NodeId) -> bool {
        let p = self.content_start(id);
        match self.doc.value(id) {
            Some(Value::Map(_)) => self.byte(p) == Some(b'{'),
            // a block sequence whose first item is a flow sequence starts at that item
            Some(Value::Seq(items)) => {
                self.byte(p) == Some(b'[')
                    && items
                        .first()
                        .is_none_or(|&c| self.span(c).0 != self.span(id).0)
            }
            _ => false,
        }
    }

    /// The first dash of a block sequence (the dash before its first item: the sequence's
    /// span may start at an outer dash, or at a first item that is a flow sequence).
    fn first_dash(&self, seq: NodeId) -> usize {
        let (s, _) = self.span(seq);
        let Some(&first) = self.doc.seq(seq).first() else {
            return s;
        };
        let mut q = self.span(first).0;
        while q > 0 && matches!(self.byte(q - 1), Some(b' ' | b'\t')) {
            q -= 1;
        }
        if q > 0 && self.byte(q - 1) == Some(b'-') {
            q - 1
        } else {
            s
        }
    }

    /// Where a node's text starts (a block sequence's span may start at an outer dash).
    fn start_of(&self, id: NodeId) -> usize {
        if matches!(self.doc.value(id), Some(Value::Seq(_))) && !self.is_flow(id) {
            self.first_dash(id)
        } else {
            self.span(id).0
        }
    }

    fn is_alias(&self, id: NodeId) -> bool {
        let (s, e) = self.span(id);
        self.sl(s, e).starts_with('*')
    }

    /// Whether the node carries an anchor (in its span, or between its key or dash and it).
    fn is_anchored(&self, id: NodeId, parent: Option<NodeId>) -> bool {
        let (s, _) = self.span(id);
        let own = self.sl(s, self.content_start(id));
        if own.split_whitespace().any(|t| t.starts_with('&')) {
            return true;
        }
        let before_from = match (self.key_span(id), parent) {
            (Some((_, ke)), _) => ke,
            (None, Some(p)) if !self.is_flow(p) => {
                // the dash of a block sequence item
                let mut q = s;
                while q > 0 && self.byte(q - 1) != Some(b'-') {
                    q -= 1;
                }
                q
            }
            _ => s,
        };
        self.sl(before_from.min(s), s)
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .any(|l| l.split_whitespace().any(|t| t.starts_with('&')))
    }

    /// The indentation step and sequence indentation the document uses (the latter from
    /// its first block sequence under a key, in source order).
    fn detect_indent(&self) -> (Option<usize>, Option<usize>) {
        let mut step: Option<usize> = None;
        // the key's offset and the sequence's indentation
        let mut first_seq: Option<(usize, usize)> = None;
        for id in self.doc.ids() {
            let Some((ks, _)) = self.key_span(id) else {
                continue;
            };
            // a key on a dash line says little about the step (the mapping case asks for
            // a key that starts its line), but is fine for sequences
            if self.is_flow(id) {
                continue;
            }
            match self.doc.value(id) {
                Some(Value::Map(es)) => {
                    if let Some((_, c)) = es.first()
                        && let Some((cs, _)) = self.key_span(c)
                        && self.starts_line(ks)
                    {
                        let d = self.col(cs).saturating_sub(self.col(ks));
                        if d > 0 && step.is_none_or(|s| d < s) {
                            step = Some(d);
                        }
                    }
                }
                Some(Value::Seq(items)) if !items.is_empty() => {
                    let s = self.first_dash(id);
                    if first_seq.is_none_or(|(at, _)| ks < at) && self.byte(s) == Some(b'-') {
                        first_seq = Some((ks, self.col(s).saturating_sub(self.col(ks))));
                    }
                }
                _ => {}
            }
        }
        (step, first_seq.map(|s| s.1))
    }

    /// Follows `path`; refuses aliases and anchors on the way and merged entries.
    fn walk(&self, path: &[PathStep], create: bool) -> Result<Option<Walk>, EditError> {
        let mut chain = vec![self.doc.root];
        for (i, step) in path.iter().enumerate() {
            let here = || path_text(path.get(..i).unwrap_or(&[]));
            let cur = chain.last().copied().unwrap_or(self.doc.root);
            let parent = chain
                .len()
                .checked_sub(2)
                .and_then(|j| chain.get(j))
                .copied();
            if self.is_alias(cur) {
                return Err(EditError::Alias { path: here() });
            }
            if self.is_anchored(cur, parent) {
                return Err(EditError::Anchored { path: here() });
            }
            let child = match (self.doc.value(cur), step) {
                (Some(Value::Map(es)), PathStep::Key(k)) => {
                    let (ms, me) = self.span(cur);
                    let twice = self.duplicates.iter().any(|&(ds, de)| {
                        ms <= ds && de <= me && self.sl(ds, de).trim_matches(['"', '\'']) == k
                    });
                    if twice {
                        return Err(EditError::DuplicateKey {
                            path: path_text(path.get(..=i).unwrap_or(&[])),
                        });
                    }
                    es.get(k)
                }
                (Some(Value::Seq(items)), PathStep::Index(n)) => match items.get(*n) {
                    Some(&c) => Some(c),
                    None if create => {
                        return Err(EditError::IndexOutOfRange {
                            path: path_text(path.get(..=i).unwrap_or(&[])),
                            len: items.len(),
                        });
                    }
                    None => return Ok(None),
                },
                (Some(Value::Null) | None, PathStep::Key(_)) => None,
                _ if !create => return Ok(None),
                (Some(Value::Seq(_)), PathStep::Key(_)) => {
                    return Err(EditError::NotAMapping { path: here() });
                }
                (Some(Value::Map(_) | Value::Null) | None, PathStep::Index(_)) => {
                    return Err(EditError::NotASequence { path: here() });
                }
                _ => return Err(EditError::ThroughScalar { path: here() }),
            };
            let Some(child) = child else {
                if !create {
                    return Ok(None);
                }
                let mut missing = Vec::new();
                for (j, s) in path.iter().enumerate().skip(i) {
                    match s {
                        PathStep::Key(k) => missing.push(k.clone()),
                        PathStep::Index(_) => {
                            return Err(EditError::IndexOutOfRange {
                                path: path_text(path.get(..=j).unwrap_or(&[])),
                                len: 0,
                            });
                        }
                    }
                }
                return Ok(Some(Walk { chain, missing }));
            };
            // an entry whose text is outside its mapping came from a merge key or an alias
            let (ps, pe) = self.span(cur);
            let (cs, ce) = self.span(child);
            let (ks, ke) = self.key_span(child).unwrap_or((cs, cs));
            if cs < ps || ce > pe || ks < ps || ke > pe {
                return Err(EditError::Merged {
                    path: path_text(path.get(..=i).unwrap_or(&[])),
                });
            }
            chain.push(child);
        }
        Ok(Some(Walk {
            chain,
            missing: Vec::new(),
        }))
    }

    fn op(&self, op: &EditOp) -> Result<Vec<Change>, EditError> {
        match op {
            EditOp::Set { path, value } => self.set(path, value),
            EditOp::Remove { path } => self.remove(path),
            EditOp::Add { path, value } => self.add(path, value),
        }
    }

    fn guard_target(&self, chain: &[NodeId], path: &[PathStep]) -> Result<(), EditError> {
        let target = chain.last().copied().unwrap_or(self.doc.root);
        let parent = chain
            .len()
            .checked_sub(2)
            .and_then(|j| chain.get(j))
            .copied();
        if self.is_anchored(target, parent) {
            return Err(EditError::Anchored {
                path: path_text(path),
            });
        }
        Ok(())
    }

    fn set(&self, path: &[PathStep], value: &FixValue) -> Result<Vec<Change>, EditError> {
        let Some(w) = self.walk(path, true)? else {
            return Ok(Vec::new());
        };
        let last = w.chain.last().copied().unwrap_or(self.doc.root);
        if w.missing.is_empty() {
            self.guard_target(&w.chain, path)?;
            if self.equals(last, value) {
                return Ok(Vec::new());
            }
            return self.replace(&w.chain, &New::Value(value));
        }
        self.create(&w, path, value)
    }

    /// Creates the missing keys of `w` down to `value`.
    fn create(
        &self,
        w: &Walk,
        path: &[PathStep],
        value: &FixValue,
    ) -> Result<Vec<Change>, EditError> {
        let last = w.chain.last().copied().unwrap_or(self.doc.root);
        let Some((first, rest)) = w.missing.split_first() else {
            return Ok(Vec::new());
        };
        let inner = nest(rest, value);
        match self.doc.value(last) {
            Some(Value::Map(_)) => self.insert_entry(last, first, &inner),
            _ => {
                // a null becomes a mapping
                let done = path.len() - w.missing.len();
                self.guard_target(&w.chain, path.get(..done).unwrap_or(&[]))?;
                self.replace(&w.chain, &New::Map(first.clone(), Box::new(inner)))
            }
        }
    }

    fn add(&self, path: &[PathStep], value: &FixValue) -> Result<Vec<Change>, EditError> {
        let Some(w) = self.walk(path, true)? else {
            return Ok(Vec::new());
        };
        let list = FixValue::List(vec![value.clone()]);
        if !w.missing.is_empty() {
            return self.create(&w, path, &list);
        }
        let seq = w.chain.last().copied().unwrap_or(self.doc.root);
        match self.doc.value(seq) {
            Some(Value::Null) => {
                self.guard_target(&w.chain, path)?;
                self.replace(&w.chain, &New::Value(&list))
            }
            Some(Value::Seq(items)) => {
                if items.iter().any(|&i| self.equals(i, value)) {
                    return Ok(Vec::new());
                }
                if self.is_alias(seq) {
                    return Err(EditError::Alias {
                        path: path_text(path),
                    });
                }
                self.guard_target(&w.chain, path)?;
                self.append_item(seq, items, value)
            }
            _ => Err(EditError::NotASequence {
                path: path_text(path),
            }),
        }
    }

    fn remove(&self, path: &[PathStep]) -> Result<Vec<Change>, EditError> {
        if path.is_empty() {
            return Err(EditError::RemoveRoot);
        }
        let Some(w) = self.walk(path, false)? else {
            return Ok(Vec::new());
        };
        self.guard_target(&w.chain, path)?;
        let n = w.chain.len();
        let (Some(&target), Some(&parent)) = (w.chain.get(n - 1), w.chain.get(n.wrapping_sub(2)))
        else {
            return Err(EditError::RemoveRoot);
        };
        let grand = n.checked_sub(3).and_then(|j| w.chain.get(j)).copied();
        match self.doc.value(parent) {
            Some(Value::Map(es)) => {
                let kids: Vec<NodeId> = es.iter().map(|(_, c)| c).collect();
                let starts: Vec<usize> = kids
                    .iter()
                    .map(|&c| self.key_span(c).map_or(self.span(c).0, |k| k.0))
                    .collect();
                self.remove_child(parent, grand, &kids, &starts, target, "{}")
            }
            Some(Value::Seq(items)) => {
                let flow = self.is_flow(parent);
                let starts: Vec<usize> = items
                    .iter()
                    .map(|&c| {
                        if flow {
                            self.span(c).0
                        } else {
                            self.dash_of(parent, c)
                        }
                    })
                    .collect();
                self.remove_child(parent, grand, items, &starts, target, "[]")
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The dash of a block sequence item (the line at the sequence's dash column).
    fn dash_of(&self, seq: NodeId, item: NodeId) -> usize {
        let ss = self.first_dash(seq);
        let dcol = self.col(ss);
        let mut p = self.start_of(item);
        loop {
            let ls = self.line_start(p);
            if self.byte(ls + dcol) == Some(b'-') && self.col(ls + dcol) == dcol && p > ls + dcol {
                return ls + dcol;
            }
            if ls == 0 || ls <= ss {
                return ss.max(ls + dcol.min(p.saturating_sub(ls)));
            }
            p = ls - 1;
        }
    }

    /// The end of a child's text: its value's (or key's, for an empty value) last byte.
    fn child_end(&self, c: NodeId) -> usize {
        let end = self.node_end(c);
        self.key_span(c)
            .map_or(end, |(_, ke)| end.max(self.colon_after(ke)))
    }

    fn remove_child(
        &self,
        parent: NodeId,
        grand: Option<NodeId>,
        kids: &[NodeId],
        starts: &[usize],
        target: NodeId,
        empty: &str,
    ) -> Result<Vec<Change>, EditError> {
        let Some(i) = kids.iter().position(|&c| c == target) else {
            return Ok(Vec::new());
        };
        let start = starts.get(i).copied().unwrap_or(0);
        let end = self.child_end(target);
        if self.is_flow(parent) {
            let c = if kids.len() == 1 {
                change(start, end, "")
            } else if let Some(&next) = starts.get(i + 1) {
                change(start, next, "")
            } else {
                let prev = kids
                    .get(i.wrapping_sub(1))
                    .map_or(start, |&p| self.child_end(p));
                change(prev, end, "")
            };
            return Ok(vec![c]);
        }
        if kids.len() == 1 {
            // the collection becomes empty: `key: {}` / `key: []`
            let under_key = self
                .key_span(parent)
                .filter(|_| grand.is_some_and(|g| !self.is_flow(g)));
            if let (Some((_, ke)), true) = (under_key, self.starts_line(start)) {
                let colon = self.colon_after(ke);
                return Ok(vec![
                    change(colon, colon, format!(" {empty}")),
                    self.remove_lines(start, end),
                ]);
            }
            return Ok(vec![change(start, end, empty)]);
        }
        if self.starts_line(start) {
            return Ok(vec![self.remove_lines(start, end)]);
        }
        // the first entry of a mapping on its item's dash line: up to the next entry, whose
        // key moves onto the dash line; comment lines between go above the dash
        match starts.get(i + 1) {
            Some(&next) => {
                let from = self.next_line(self.line_end(end)).min(next);
                let between = self.sl(from, self.line_start(next).max(from));
                let mut changes = vec![change(start, next, "")];
                if !between.trim().is_empty() {
                    let at = self.line_start(start);
                    changes.push(change(at, at, between));
                }
                Ok(changes)
            }
            None => Ok(vec![change(start, end, "")]),
        }
    }

    /// Removes the whole lines from `start` to `end` (and a missing final newline stays missing).
    fn remove_lines(&self, start: usize, end: usize) -> Change {
        let ls = self.line_start(start);
        let le = self.line_end(end);
        if le == self.text.len() && ls > self.bom() {
            // the last line of a file without a final newline: take the line break before it
            // (and the blank lines before it, so the text still ends without one)
            let mut b = ls - 1;
            loop {
                if b > 0 && self.byte(b - 1) == Some(b'\r') {
                    b -= 1;
                }
                let prev = self.line_start(b);
                if prev > self.bom() && prev == b {
                    b = prev - 1;
                } else {
                    break;
                }
            }
            return change(b, le, "");
        }
        change(ls, self.next_line(le), "")
    }

    /// Just after the `:` following a key.
    fn colon_after(&self, key_end: usize) -> usize {
        let rest = self.text.get(key_end..).unwrap_or("");
        rest.find(':').map_or(key_end, |i| key_end + i + 1)
    }

    fn in_flow(&self, chain: &[NodeId]) -> bool {
        let n = chain.len();
        self.json
            || chain
                .get(..n.saturating_sub(1))
                .unwrap_or(&[])
                .iter()
                .any(|&c| self.is_flow(c))
    }

    /// Replaces the value at the end of `chain` by `new`.
    fn replace(&self, chain: &[NodeId], new: &New<'_>) -> Result<Vec<Change>, EditError> {
        let target = chain.last().copied().unwrap_or(self.doc.root);
        let parent = chain
            .len()
            .checked_sub(2)
            .and_then(|j| chain.get(j))
            .copied();
        let s = self.start_of(target);
        let end = self.node_end(target).max(s);
        let block_scalar = matches!(
            self.doc.node(target).map(|n| n.style),
            Some(Style::Literal | Style::Folded)
        );
        if self.in_flow(chain) || parent.is_none() {
            let text = self.flow(new)?;
            if s == end && parent.is_some_and(|p| self.is_flow(p)) {
                return Ok(vec![change(s, s, format!(" {text}"))]);
            }
            return Ok(vec![change(s, end, text)]);
        }
        match self.key_span(target) {
            Some((ks, ke)) => {
                let ind = self.col(ks);
                let colon = self.colon_after(ke);
                let key_line_end = self.line_end(colon);
                let block = self.block_value(new, ind)?;
                let inline = !block.starts_with(['\r', '\n']);
                let on_key_line = s < key_line_end || (s == end && s <= key_line_end);
                if on_key_line && !block_scalar {
                    if inline && s < end {
                        return Ok(vec![change(s, end, block.trim_start().to_string())]);
                    }
                    // the value goes; what follows it on the line (a comment) stays
                    let rest = self.sl(end.max(colon), key_line_end);
                    let text = if inline {
                        format!("{block}{rest}")
                    } else {
                        format!("{rest}{block}")
                    };
                    return Ok(vec![change(colon, key_line_end, text)]);
                }
                // the value starts on a later line (a block collection, a block scalar)
                let comment = self.sl(colon, key_line_end).trim();
                let text = if comment.starts_with('#') {
                    if inline {
                        format!("{block} {comment}")
                    } else {
                        format!(" {comment}{block}")
                    }
                } else {
                    block
                };
                Ok(vec![change(colon, end, text)])
            }
            None => {
                // a block sequence item
                let text = self.flow(new)?;
                let dash = parent.map_or(s, |p| self.dash_of(p, target));
                if s == end || block_scalar || self.line_start(s) != self.line_start(dash) {
                    return Ok(vec![change(
                        dash + 1,
                        end.max(dash + 1),
                        format!(" {text}"),
                    )]);
                }
                Ok(vec![change(s, end, text)])
            }
        }
    }

    /// The text after `key:` for a value at key column `ind`: ` v`, or line breaks and
    /// the nested block.
    fn block_value(&self, new: &New<'_>, ind: usize) -> Result<String, EditError> {
        match new {
            New::Map(k, v) => {
                let inner = ind + self.step;
                Ok(format!(
                    "{}{}{}:{}",
                    self.eol,
                    " ".repeat(inner),
                    self.key(k, false),
                    self.block_value(v, inner)?
                ))
            }
            New::Value(FixValue::List(items)) if !items.is_empty() => {
                let mut out = String::new();
                for item in items {
                    out.push_str(self.eol);
                    out.push_str(&" ".repeat(ind + self.seq_indent));
                    out.push_str("- ");
                    out.push_str(&self.inline(item, false)?);
                }
                Ok(out)
            }
            New::Value(v) => Ok(format!(" {}", self.inline(v, false)?)),
        }
    }

    fn flow(&self, new: &New<'_>) -> Result<String, EditError> {
        match new {
            New::Map(k, v) => Ok(format!("{{{}: {}}}", self.key(k, true), self.flow(v)?)),
            New::Value(v) => self.inline(v, true),
        }
    }

    /// A value on one line: a scalar, or a flow sequence.
    fn inline(&self, v: &FixValue, flow: bool) -> Result<String, EditError> {
        match v {
            FixValue::List(items) => {
                let parts = items
                    .iter()
                    .map(|i| self.inline(i, true))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("[{}]", parts.join(", ")))
            }
            _ => scalar(v, flow, self.json),
        }
    }

    fn key(&self, k: &str, flow: bool) -> String {
        if self.json || !plain_ok(k, flow) {
            quote_dq(k)
        } else {
            k.to_string()
        }
    }

    /// Adds `key: new` to the mapping `map`.
    fn insert_entry(
        &self,
        map: NodeId,
        key: &str,
        new: &New<'_>,
    ) -> Result<Vec<Change>, EditError> {
        let Some(Value::Map(es)) = self.doc.value(map) else {
            return Ok(Vec::new());
        };
        let kids: Vec<NodeId> = es.iter().map(|(_, c)| c).collect();
        if self.is_flow(map) {
            let text = format!("{}: {}", self.key(key, true), self.flow(new)?);
            let starts: Vec<usize> = kids
                .iter()
                .map(|&c| self.key_span(c).map_or(self.span(c).0, |k| k.0))
                .collect();
            return Ok(vec![self.flow_append(map, &kids, &starts, text)]);
        }
        let Some(&last) = kids.last() else {
            return Ok(Vec::new());
        };
        let first_key = kids
            .first()
            .and_then(|&c| self.key_span(c))
            .map_or(0, |k| k.0);
        let ind = self.col(first_key);
        let at = self.line_end(self.child_end(last));
        let text = format!(
            "{}{}{}:{}",
            self.eol,
            " ".repeat(ind),
            self.key(key, false),
            self.block_value(new, ind)?
        );
        Ok(vec![change(at, at, text)])
    }

    /// Appends an item text to a flow collection.
    fn flow_append(&self, coll: NodeId, kids: &[NodeId], starts: &[usize], text: String) -> Change {
        let (s, e) = self.span(coll);
        let open = self.content_start(coll);
        let Some(&last) = kids.last() else {
            // `{}` / `[ ]`: just inside the bracket
            let close = self.sl(s, e).rfind(['}', ']']).map_or(e, |i| s + i);
            let inner = self.sl(open + 1, close);
            if inner.trim().is_empty() {
                return change(open + 1, close, text);
            }
            return change(open + 1, open + 1, text);
        };
        let end = self.child_end(last);
        let first = starts.first().copied().unwrap_or(open);
        if self.line_start(first) != self.line_start(open) && self.starts_line(first) {
            // one item a line: the new one on its own line, aligned
            let last_start = starts.last().copied().unwrap_or(first);
            return change(
                end,
                end,
                format!(",{}{}{}", self.eol, " ".repeat(self.col(last_start)), text),
            );
        }
        change(end, end, format!(", {text}"))
    }

    fn append_item(
        &self,
        seq: NodeId,
        items: &[NodeId],
        value: &FixValue,
    ) -> Result<Vec<Change>, EditError> {
        if self.is_flow(seq) {
            let starts: Vec<usize> = items.iter().map(|&c| self.span(c).0).collect();
            let text = self.inline(value, true)?;
            return Ok(vec![self.flow_append(seq, items, &starts, text)]);
        }
        let Some(&last) = items.last() else {
            return Ok(Vec::new());
        };
        let dash = self.first_dash(seq);
        let at = self.line_end(self.child_end(last));
        let text = format!(
            "{}{}- {}",
            self.eol,
            " ".repeat(self.col(dash)),
            self.inline(value, false)?
        );
        Ok(vec![change(at, at, text)])
    }

    /// Whether the node already holds `v` (as data).
    fn equals(&self, id: NodeId, v: &FixValue) -> bool {
        Data::of(self.doc, id) == Data::from_fix(v)
    }
}

/// A scalar as YAML (plain when it reads back as itself under YAML 1.1, else double-quoted)
/// or as JSON.
fn scalar(v: &FixValue, flow: bool, json: bool) -> Result<String, EditError> {
    Ok(match v {
        FixValue::Null => "null".into(),
        FixValue::Bool(b) => b.to_string(),
        FixValue::Int(i) => i.to_string(),
        FixValue::Float(x) => {
            if x.is_nan() || x.is_infinite() {
                if json {
                    return Err(EditError::Unwritable {
                        value: x.to_string(),
                    });
                }
                if x.is_nan() {
                    ".nan".into()
                } else if *x > 0.0 {
                    ".inf".into()
                } else {
                    "-.inf".into()
                }
            } else {
                let s = x.to_string();
                if s.contains('.') { s } else { format!("{s}.0") }
            }
        }
        FixValue::Str(s) => {
            if !json && plain_ok(s, flow) {
                s.clone()
            } else {
                quote_dq(s)
            }
        }
        FixValue::List(_) => {
            return Err(EditError::Unwritable {
                value: "list".into(),
            });
        }
    })
}

/// Whether a string can be written plain: YAML 1.1 and 1.2 readers both read it back as the
/// same string.
pub fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !matches!(resolve_plain(s), Value::Str(x) if x == s) {
        return false;
    }
    // a leading digit reads as a number, a date or a sexagesimal unless a unit letter
    // rules those out (`100m`, `1.5Gi`: Kubernetes quantities)
    let unit = s
        .chars()
        .any(|c| c.is_ascii_alphabetic() && !"eExXoObB".contains(c))
        && !s.contains([':', '-', '_', ' ']);
    if (first.is_ascii_digit() && !unit)
        || "-?:,[]{}#&*!|>'\"%@`+.=<~ ".contains(first)
        || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || !s.chars().all(|c| {
            c.is_ascii_graphic()
                || c == ' '
                || (!c.is_ascii()
                    && !c.is_control()
                    && !matches!(
                        c,
                        '\u{85}' | '\u{a0}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
                    ))
        })
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    ) {
        return false;
    }
    !(flow && s.contains([',', '[', ']', '{', '}', ':', '#']))
}

/// A double-quoted string, valid in YAML and JSON.
pub fn quote_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{a0}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a.b[0].c` as steps.
    fn p(s: &str) -> Vec<PathStep> {
        let mut out = Vec::new();
        for part in s.split('.').filter(|x| !x.is_empty()) {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                if i > 0 {
                    out.push(PathStep::Key(rest[..i].to_string()));
                }
                rest = &rest[i..];
                while let Some(r) = rest.strip_prefix('[') {
                    let j = r.find(']').unwrap();
                    out.push(PathStep::Index(r[..j].parse().unwrap()));
                    rest = &r[j + 1..];
                }
            } else {
                out.push(PathStep::Key(rest.to_string()));
            }
        }
        out
    }

    fn set(path: &str, v: FixValue) -> EditOp {
        EditOp::Set {
            path: p(path),
            value: v,
        }
    }
    fn rm(path: &str) -> EditOp {
        EditOp::Remove { path: p(path) }
    }
    fn add(path: &str, v: FixValue) -> EditOp {
        EditOp::Add {
            path: p(path),
            value: v,
        }
    }
    fn s(x: &str) -> FixValue {
        FixValue::Str(x.into())
    }
    const T: FixValue = FixValue::Bool(true);
    const F: FixValue = FixValue::Bool(false);

    fn ok(text: &str, ops: &[EditOp]) -> String {
        let out = apply_ops(text, 0, ops).unwrap();
        // idempotent: a second application changes nothing (removing an item by position is
        // not meant to be)
        let by_index = ops.iter().any(
            |o| matches!(o, EditOp::Remove { path } if matches!(path.last(), Some(PathStep::Index(_)))),
        );
        if !by_index {
            assert_eq!(apply_ops(&out, 0, ops).unwrap(), out, "not idempotent");
        }
        out
    }

    #[test]
    fn a_stream_splits_into_documents_that_read_alone() {
        let text = "# lead comment\na: 1\n---\nb: [1, 2]\n--- # two\nc: |\n  x\n---\n";
        let ranges = split_documents(text).unwrap();
        let parts: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(
            parts,
            [
                "# lead comment\na: 1\n",
                "---\nb: [1, 2]\n",
                "--- # two\nc: |\n  x\n",
                "---\n"
            ]
        );
        let owned: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        assert!(parts_join(&owned));
        // an edit that makes a part read as two documents does not join
        let mut broken = owned.clone();
        broken[1].push_str("---\nd: 1\n");
        assert!(!parts_join(&broken));
        // one document, a directive between documents, a broken document: the whole text
        assert_eq!(split_documents("a: 1\n"), None);
        assert_eq!(split_documents("a: 1\n...\n%YAML 1.1\n---\nb: 2\n"), None);
        assert_eq!(split_documents("a: 1\n---\nb: [\n"), None);
    }

    #[test]
    fn set_scalar_keeps_comment_and_quoting() {
        let t = "a: 1 # one\nb: 'x'\nc: \"y\"\n";
        assert_eq!(
            ok(t, &[set("a", FixValue::Int(2))]),
            "a: 2 # one\nb: 'x'\nc: \"y\"\n"
        );
        assert_eq!(ok(t, &[set("a", FixValue::Int(1))]), t);
        assert_eq!(ok(t, &[set("b", s("x"))]), t);
    }

    #[test]
    fn set_missing_creates_parents_with_the_file_step() {
        let t = "spec:\n    containers:\n    -   name: a\n        image: x # img\n";
        assert_eq!(
            ok(
                t,
                &[set("spec.containers[0].securityContext.runAsNonRoot", T)]
            ),
            "spec:\n    containers:\n    -   name: a\n        image: x # img\n        securityContext:\n            runAsNonRoot: true\n"
        );
        let t = "a:\n  b: 1\n\n# next\nc: 2\n";
        assert_eq!(
            ok(t, &[set("a.d.e", F)]),
            "a:\n  b: 1\n  d:\n    e: false\n\n# next\nc: 2\n"
        );
    }

    #[test]
    fn set_into_null_and_empty_mapping() {
        assert_eq!(
            ok("sc:\nx: 1\n", &[set("sc.a", T)]),
            "sc:\n  a: true\nx: 1\n"
        );
        assert_eq!(
            ok("sc: ~ # c\nx: 1\n", &[set("sc.a", T)]),
            "sc: # c\n  a: true\nx: 1\n"
        );
        assert_eq!(ok("sc: {}\n", &[set("sc.a", T)]), "sc: {a: true}\n");
        assert_eq!(
            ok("sc: {b: 1}\n", &[set("sc.a", T)]),
            "sc: {b: 1, a: true}\n"
        );
    }

    #[test]
    fn set_block_scalar_replaces_the_block() {
        let t = "a: |\n  x\n  y\n\nb: 1\n";
        assert_eq!(ok(t, &[set("a", s("z"))]), "a: z\n\nb: 1\n");
        let t = "a:\n  b: 1\n  c: 2\nd: 3\n";
        assert_eq!(ok(t, &[set("a", FixValue::Int(5))]), "a: 5\nd: 3\n");
    }

    #[test]
    fn remove_entry_lines_but_not_next_comments() {
        let t = "a: 1\nb: # c\n  x: 1\n  y: 2 # e\n# about c\nc: 3\n";
        assert_eq!(ok(t, &[rm("b")]), "a: 1\n# about c\nc: 3\n");
        assert_eq!(ok(t, &[rm("zz")]), t);
        assert_eq!(ok(t, &[rm("a.q")]), t);
    }

    #[test]
    fn remove_last_entry_leaves_empty_mapping() {
        let t = "a:\n  # note\n  b: 1\nc: 2\n";
        assert_eq!(ok(t, &[rm("a.b")]), "a: {}\n  # note\nc: 2\n");
        assert_eq!(ok("l:\n- a: 1\n  b: 2\n", &[rm("l[0].a")]), "l:\n- b: 2\n");
        assert_eq!(ok("l:\n- a: 1\n", &[rm("l[0].a")]), "l:\n- {}\n");
    }

    #[test]
    fn remove_sequence_items() {
        let t = "l:\n  - a\n  # keep\n  - b\n";
        assert_eq!(ok(t, &[rm("l[1]")]), "l:\n  - a\n  # keep\n");
        assert_eq!(ok("l:\n- a\nm: 1\n", &[rm("l[0]")]), "l: []\nm: 1\n");
        assert_eq!(ok("l: [a, b, c]\n", &[rm("l[1]")]), "l: [a, c]\n");
        assert_eq!(ok("l: [a, b, c]\n", &[rm("l[2]")]), "l: [a, b]\n");
        assert_eq!(ok("l: [a]\n", &[rm("l[0]")]), "l: []\n");
        assert_eq!(ok("m: {a: 1, b: 2}\n", &[rm("m.a")]), "m: {b: 2}\n");
    }

    #[test]
    fn add_to_sequences() {
        let all = || s("ALL");
        assert_eq!(ok("d:\n- A\n", &[add("d", all())]), "d:\n- A\n- ALL\n");
        assert_eq!(
            ok("d:\n    - A\n", &[add("d", all())]),
            "d:\n    - A\n    - ALL\n"
        );
        assert_eq!(ok("d: [A]\n", &[add("d", all())]), "d: [A, ALL]\n");
        assert_eq!(ok("d: []\n", &[add("d", all())]), "d: [ALL]\n");
        assert_eq!(ok("d: [ALL]\n", &[add("d", all())]), "d: [ALL]\n");
        assert_eq!(
            ok("c:\n  add: [X]\n", &[add("c.drop", all())]),
            "c:\n  add: [X]\n  drop:\n  - ALL\n".replace("  - ALL", "    - ALL")
        );
        assert_eq!(
            ok("c: {a: 1}\n", &[add("c.drop", all())]),
            "c: {a: 1, drop: [ALL]}\n"
        );
        assert_eq!(
            ok("c:\n  drop:\n", &[add("c.drop", all())]),
            "c:\n  drop:\n    - ALL\n"
        );
    }

    #[test]
    fn indentless_sequences_stay_indentless() {
        let t = "a:\n- x\nb:\n  c: 1\n";
        assert_eq!(
            ok(t, &[add("b.l", s("w"))]),
            "a:\n- x\nb:\n  c: 1\n  l:\n  - w\n"
        );
    }

    #[test]
    fn crlf_bom_markers_other_documents_final_newline() {
        let t = "\u{feff}---\r\na: 1\r\n...\r\n---\r\nb:\r\n  c: 2\r\n  d: 3";
        let out = apply_ops(t, 1, &[set("b.e", T), rm("b.d")]).unwrap();
        assert_eq!(
            out,
            "\u{feff}---\r\na: 1\r\n...\r\n---\r\nb:\r\n  c: 2\r\n  e: true"
        );
        let out = apply_ops(t, 1, &[rm("b.d")]).unwrap();
        assert_eq!(out, "\u{feff}---\r\na: 1\r\n...\r\n---\r\nb:\r\n  c: 2");
        let out = apply_ops(t, 0, &[set("a", FixValue::Int(7))]).unwrap();
        assert_eq!(out, t.replace("a: 1", "a: 7"));
    }

    #[test]
    fn bom_is_not_indentation() {
        let t = "\u{feff}a: 1\r\nb: 2\r\n";
        assert_eq!(ok(t, &[set("c", T)]), "\u{feff}a: 1\r\nb: 2\r\nc: true\r\n");
        assert_eq!(ok(t, &[rm("a")]), "\u{feff}b: 2\r\n");
        assert_eq!(ok("\u{feff}a: 1", &[rm("a")]), "\u{feff}{}");
        assert_eq!(ok("a: 1\n\n\nb: 2", &[rm("b")]), "a: 1");
    }

    #[test]
    fn document_end_markers_stay_after_the_document() {
        let t = "a: 1\n...\n---\nb: 2\n";
        assert_eq!(ok(t, &[set("c", T)]), "a: 1\nc: true\n...\n---\nb: 2\n");
        assert_eq!(apply_ops(t, 1, &[rm("b")]).unwrap(), "a: 1\n...\n---\n{}\n");
    }

    #[test]
    fn json_stays_json() {
        let t = "{\n  \"a\": {\"b\": 1},\n  \"c\": [\"x\"]\n}\n";
        let out = ok(t, &[set("a.d.e", T), add("c", s("y")), add("f", s("ALL"))]);
        assert_eq!(
            out,
            "{\n  \"a\": {\"b\": 1, \"d\": {\"e\": true}},\n  \"c\": [\"x\", \"y\"],\n  \"f\": [\"ALL\"]\n}\n"
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
        let out = ok(t, &[rm("c"), rm("a.b")]);
        assert_eq!(out, "{\n  \"a\": {}\n}\n");
        assert!(apply_ops(t, 0, &[set("a.n", FixValue::Float(f64::NAN))]).is_err());
    }

    #[test]
    fn scalars_are_quoted_when_yaml_1_1_would_misread_them() {
        for (v, want) in [
            ("yes", "\"yes\""),
            ("on", "\"on\""),
            ("true", "\"true\""),
            ("1", "\"1\""),
            ("0755", "\"0755\""),
            ("~", "\"~\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("*x", "\"*x\""),
            ("- x", "\"- x\""),
            ("1:20", "\"1:20\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("ALL", "ALL"),
            ("100m", "100m"),
            ("1.5Gi", "1.5Gi"),
            ("1e3", "\"1e3\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("runtime/default", "runtime/default"),
        ] {
            assert_eq!(
                ok("k: 0\n", &[set("k", s(v))]),
                format!("k: {want}\n"),
                "{v:?}"
            );
        }
        assert_eq!(ok("k: 0\n", &[set("k", FixValue::Float(1.0))]), "k: 1.0\n");
        assert_eq!(ok("k: 0\n", &[set("k", FixValue::Null)]), "k: null\n");
        assert_eq!(ok("k: [1]\n", &[set("k", s("a,b"))]), "k: a,b\n");
        assert_eq!(ok("k: [1]\n", &[set("k[0]", s("a,b"))]), "k: [\"a,b\"]\n");
        assert_eq!(ok("k: 0\n", &[set("k", s("y"))]), "k: \"y\"\n");
    }

    #[test]
    fn anchors_and_aliases_are_refused() {
        let t = "a: &x\n  b: 1\nc: *x\n";
        assert!(matches!(
            apply_ops(t, 0, &[set("a.b", FixValue::Int(2))]),
            Err(EditError::Anchored { .. })
        ));
        assert!(matches!(
            apply_ops(t, 0, &[set("c.b", FixValue::Int(2))]),
            Err(EditError::Alias { .. })
        ));
        let t = "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n";
        assert!(matches!(
            apply_ops(t, 0, &[set("m.x", FixValue::Int(2))]),
            Err(EditError::Merged { .. })
        ));
    }

    #[test]
    fn duplicate_keys_refuse_only_their_paths() {
        let t = "a: 1\nb:\n  c: 1\n  c: 2\n";
        assert_eq!(
            ok(t, &[set("a", FixValue::Int(3))]),
            "a: 3\nb:\n  c: 1\n  c: 2\n"
        );
        assert_eq!(
            apply_ops(t, 0, &[set("b.c", T)]).unwrap_err().to_string(),
            "`b.c` is a duplicate key, so the path is ambiguous"
        );
    }

    #[test]
    fn lists_and_items() {
        let list = FixValue::List(vec![s("NET_RAW"), s("yes")]);
        // a whole list, written as the file writes its sequences
        assert_eq!(
            ok(
                "c:\n  drop: x # c\n  add: 1\n",
                &[set("c.drop", list.clone())]
            ),
            "c:\n  drop: # c\n    - NET_RAW\n    - \"yes\"\n  add: 1\n"
        );
        assert_eq!(
            ok("l:\n- a\nc:\n  d: 1\n", &[set("c.d", list.clone())]),
            "l:\n- a\nc:\n  d:\n  - NET_RAW\n  - \"yes\"\n"
        );
        assert_eq!(
            ok("c: {d: 1}\n", &[set("c.d", list)]),
            "c: {d: [NET_RAW, \"yes\"]}\n"
        );
        // a null item becomes a flow mapping; a nested sequence loses an item
        assert_eq!(
            ok("l:\n- ~\n- b\n", &[set("l[0].a", T)]),
            "l:\n- {a: true}\n- b\n"
        );
        assert_eq!(ok("l:\n- - a\n  - b\n", &[rm("l[0][1]")]), "l:\n- - a\n");
        assert_eq!(ok("l:\n- - a\n  - b\n", &[rm("l[0][0]")]), "l:\n- - b\n");
        // a flow sequence written one item a line gets the new item on its own line
        assert_eq!(
            ok("l: [\n  a,\n  b\n]\n", &[add("l", s("c"))]),
            "l: [\n  a,\n  b,\n  c\n]\n"
        );
    }

    /// Every refusal as a user reads it.
    #[test]
    fn error_messages() {
        let cases: Vec<(&str, usize, EditOp)> = vec![
            ("a: 1\n", 0, set("a.b", T)),
            ("l: [x]\n", 0, set("l.b", T)),
            ("m: {}\n", 0, set("m[0]", T)),
            ("l: [x]\n", 0, set("l[4]", T)),
            ("a: &x {b: 1}\nc: *x\n", 0, set("a.b", F)),
            ("a: &x {b: 1}\nc: *x\n", 0, set("c.b", F)),
            ("a: &x {b: 1}\nc:\n  <<: *x\n", 0, rm("c.b")),
            ("a: 1\na: 2\n", 0, set("a", T)),
            ("a: 1\n", 0, rm("")),
            ("{\"a\": 1}", 0, set("a", FixValue::Float(f64::INFINITY))),
            ("a: 1\n", 1, set("a", T)),
            ("a: [\n", 0, set("a", T)),
            ("m:\n  \"needs quotes\": 1\n", 0, set("m.needs quotes.x", T)),
        ];
        let mut out = String::new();
        for (text, doc, op) in cases {
            let e = apply_ops(text, doc, std::slice::from_ref(&op)).unwrap_err();
            out.push_str(&format!("{e}\n"));
            if let Some(help) = e.help() {
                out.push_str(&format!("  help: {help}\n"));
            }
        }
        let unverified = EditError::Unverified {
            path: path_text(&p("a.b[0]")),
        };
        out.push_str(&format!(
            "{unverified}\n  help: {}\n",
            unverified.help().unwrap_or("")
        ));
        insta::assert_snapshot!("edit_errors", out);
    }

    #[test]
    fn errors_read_well() {
        let t = "a: 1\nl: [x]\n";
        let e = |ops: &[EditOp]| apply_ops(t, 0, ops).unwrap_err().to_string();
        assert_eq!(e(&[set("a.b", T)]), "path `a` goes through a scalar");
        assert_eq!(e(&[set("l.b", T)]), "`l` is a sequence, not a mapping");
        assert_eq!(
            e(&[set("l[3]", T)]),
            "index `l[3]` is out of range (the sequence has 1 item)"
        );
        assert_eq!(e(&[add("a", T)]), "`a` is not a sequence");
        assert_eq!(apply_ops(t, 3, &[]).map(|_| ()), Ok(()));
        assert_eq!(
            apply_ops(t, 3, &[rm("a")]).unwrap_err().to_string(),
            "the file has no document 3 to edit"
        );
        assert_eq!(
            apply_ops("a: [\n", 0, &[rm("a")]).unwrap_err().to_string(),
            "document 0 does not parse"
        );
    }
}
