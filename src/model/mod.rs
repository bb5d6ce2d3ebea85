//! The document model: every value of every input document with its exact span.
//!
//! Each document is a compact arena. A node is 20 bytes: its span, an 8-byte payload, and
//! one word for its type tag, its style and (when it is the value of a mapping entry) its
//! key's span, kept as the distance back to the key and the key's length; the few keys
//! that do not fit there (longer than 4,095 bytes, or more than 8,191 bytes before their
//! value) are in a per-document table, so every key span stays exact. Strings are
//! byte ranges into the source text (shared with the source map) unless they had to be
//! decoded (escapes, folded lines), in which case they are ranges into one per-document
//! buffer. Sequence items and mapping entries are ranges into two shared arrays, so a
//! document costs a handful of allocations however many values it has.
//!
//! Objects (the Kubernetes resources found in the documents, including the items of `List`
//! exports) are [`ObjectRef`]s into those arenas. Loading is in [`load`]; YAML and JSON
//! readers are in [`yaml`] and [`json`]; both build through `arena::Builder`.

pub(crate) mod arena;
pub mod json;
pub(crate) mod lenient;
pub mod limits;
pub mod load;
pub(crate) mod split;
pub mod walk;
pub mod yaml;

use crate::diag::{FileId, Span};
use std::sync::Arc;

pub use limits::Limits;
pub use load::{LoadOutput, LoadStats, Loader, SkipReason};
pub use walk::WalkOptions;

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

/// A value, as the Kubernetes API server would read it, borrowed from its document.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// `null`, `~`, an empty value.
    Null,
    /// `true`/`false`, and the YAML 1.1 `yes`/`no`/`on`/`off` family when unquoted.
    Bool(bool),
    /// An integer (YAML 1.1: `0755` is octal, `0x1F` hex).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// A sequence of child nodes.
    Seq(&'a [NodeId]),
    /// A mapping in source order; keys are strings (non-string keys are converted to their
    /// text). A duplicate key keeps only its last value (and is reported by the loader).
    Map(Entries<'a>),
}

/// A string stored in a document: a byte range of the source text, or of the document's own
/// buffer of decoded strings (top bit of `len`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct StrRef {
    off: u32,
    len: u32,
}

const OWNED: u32 = 1 << 31;

impl StrRef {
    /// A range of the source text.
    pub(crate) fn source(off: usize, len: usize) -> StrRef {
        StrRef {
            off: u32::try_from(off).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0).min(OWNED - 1),
        }
    }

    /// A range of the decoded-strings buffer.
    pub(crate) fn owned(off: usize, len: usize) -> StrRef {
        let mut s = StrRef::source(off, len);
        s.len |= OWNED;
        s
    }

    /// Length in bytes.
    pub(crate) fn len(self) -> usize {
        (self.len & !OWNED) as usize
    }

    fn is_owned(self) -> bool {
        self.len & OWNED != 0
    }

    fn range(self) -> std::ops::Range<usize> {
        let start = self.off as usize;
        start..start + self.len()
    }

    pub(crate) fn resolve<'a>(self, text: &'a str, owned: &'a str) -> &'a str {
        let from = if self.is_owned() { owned } else { text };
        from.get(self.range()).unwrap_or("")
    }
}

/// One mapping entry: its key and its value's node, in 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: StrRef,
    pub(crate) value: NodeId,
}

impl Entry {
    pub(crate) fn new(key: StrRef, value: NodeId) -> Entry {
        Entry { key, value }
    }

    /// Whether the key may be one of `len` bytes (the text decides).
    fn may_be(&self, len: usize) -> bool {
        self.key.len() == len
    }
}

/// What a node holds; the payload's meaning depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Tag {
    #[default]
    Null,
    Bool,
    Int,
    Float,
    Str,
    Seq,
    Map,
}

impl Tag {
    fn from_bits(b: u32) -> Tag {
        match b {
            1 => Tag::Bool,
            2 => Tag::Int,
            3 => Tag::Float,
            4 => Tag::Str,
            5 => Tag::Seq,
            6 => Tag::Map,
            _ => Tag::Null,
        }
    }
}

impl Style {
    fn from_bits(b: u32) -> Style {
        match b {
            1 => Style::SingleQuoted,
            2 => Style::DoubleQuoted,
            3 => Style::Literal,
            4 => Style::Folded,
            _ => Style::Plain,
        }
    }
}

/// One value with its location, in 20 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Node {
    /// The payload, in two halves (so that the node needs only 4-byte alignment). Bool:
    /// 0/1; Int: the bits of the `i64`; Float: the bits of the `f64`; Str: a [`StrRef`];
    /// Seq and Map: `first | len << 32` into the items or entries array.
    lo: u32,
    hi: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// The tag (bits 0-2), the style (bits 3-5) and, for the value of a mapping entry, its
    /// key's span (bits 6-31, see [`KeyCode`]).
    meta: u32,
}

/// The key bits of [`Node::meta`]: 0 for a node that is not a mapping entry's value;
/// [`KEY_FAR`] for a key the document keeps in its table of far keys (one that is longer
/// than 4,095 bytes or starts more than 8,191 bytes before its value); else one more than
/// `distance << 12 | length`, where `distance` is from the key's start to the value's.
type KeyCode = u32;

const KEY_SHIFT: u32 = 6;
const KEY_FAR: KeyCode = (1 << 26) - 1;
const KEY_LEN_BITS: u32 = 12;
const KEY_MAX_LEN: u32 = (1 << KEY_LEN_BITS) - 1;
const KEY_MAX_DISTANCE: u32 = (1 << 13) - 1;

/// A key span kept outside its node: the node, the key's start and its end.
pub(crate) type FarKey = (NodeId, u32, u32);

/// How a key span is kept: in the node, or (for `Far`) in the document's table.
pub(crate) enum KeyPlace {
    Near,
    Far(u32, u32),
}

impl Node {
    pub(crate) fn scalar(value: Value<'_>, str_ref: StrRef, style: Style, span: Span) -> Node {
        let (tag, data) = match value {
            Value::Null => (Tag::Null, 0),
            Value::Bool(b) => (Tag::Bool, u64::from(b)),
            Value::Int(i) => (Tag::Int, i as u64),
            Value::Float(f) => (Tag::Float, f.to_bits()),
            Value::Str(_) => (Tag::Str, pack(str_ref.off, str_ref.len)),
            Value::Seq(_) | Value::Map(_) => (Tag::Null, 0),
        };
        let mut n = Node {
            start: span.start,
            end: span.end,
            ..Node::default()
        };
        n.set_data(data);
        n.set_tag(tag);
        n.meta |= (style as u32) << 3;
        n
    }

    pub(crate) fn data(&self) -> u64 {
        pack(self.lo, self.hi)
    }

    pub(crate) fn set_data(&mut self, data: u64) {
        (self.lo, self.hi) = unpack(data);
    }

    pub(crate) fn tag(&self) -> Tag {
        Tag::from_bits(self.meta & 7)
    }

    fn set_tag(&mut self, tag: Tag) {
        self.meta = (self.meta & !7) | tag as u32;
    }

    pub(crate) fn style(&self) -> Style {
        Style::from_bits((self.meta >> 3) & 7)
    }

    pub(crate) fn str_ref(&self) -> StrRef {
        StrRef {
            off: self.lo,
            len: self.hi,
        }
    }

    pub(crate) fn children(&self) -> std::ops::Range<usize> {
        self.lo as usize..self.lo as usize + self.hi as usize
    }

    pub(crate) fn set_children(&mut self, tag: Tag, first: usize, len: usize) {
        self.set_tag(tag);
        self.lo = u32::try_from(first).unwrap_or(u32::MAX);
        self.hi = u32::try_from(len).unwrap_or(0);
    }

    fn key_code(&self) -> KeyCode {
        self.meta >> KEY_SHIFT
    }

    /// Keeps `key` (the span of the key whose value this node is) in the node when it is
    /// near enough; otherwise says where it goes.
    pub(crate) fn set_key(&mut self, key: Option<(u32, u32)>) -> KeyPlace {
        let (code, place) = match key {
            None => (0, KeyPlace::Near),
            Some((ks, ke)) => {
                let len = ke.saturating_sub(ks);
                match self.start.checked_sub(ks) {
                    Some(d) if d <= KEY_MAX_DISTANCE && len <= KEY_MAX_LEN => {
                        (1 + (d << KEY_LEN_BITS | len), KeyPlace::Near)
                    }
                    _ => (KEY_FAR, KeyPlace::Far(ks, ke)),
                }
            }
        };
        self.meta = (self.meta & ((1 << KEY_SHIFT) - 1)) | code << KEY_SHIFT;
        place
    }

    /// The key span, as (start, end), when it is kept in the node; `far` finds the others.
    pub(crate) fn key(&self, far: impl FnOnce() -> Option<(u32, u32)>) -> Option<(u32, u32)> {
        match self.key_code() {
            0 => None,
            KEY_FAR => far(),
            c => {
                let c = c - 1;
                let ks = self.start.saturating_sub(c >> KEY_LEN_BITS);
                Some((ks, ks.saturating_add(c & KEY_MAX_LEN)))
            }
        }
    }
}

/// The far key of node `id` in a table sorted by node.
pub(crate) fn far_key(table: &[FarKey], id: NodeId) -> Option<(u32, u32)> {
    table
        .binary_search_by_key(&id, |k| k.0)
        .ok()
        .and_then(|i| table.get(i))
        .map(|k| (k.1, k.2))
}

fn pack(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

fn unpack(x: u64) -> (u32, u32) {
    ((x & 0xffff_ffff) as u32, (x >> 32) as u32)
}

/// The entries of a mapping node, in source order.
#[derive(Clone, Copy, Debug)]
pub struct Entries<'a> {
    doc: &'a Document,
    entries: &'a [Entry],
}

impl<'a> Entries<'a> {
    /// No entries.
    fn empty(doc: &'a Document) -> Entries<'a> {
        Entries { doc, entries: &[] }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(key, value)` pairs in source order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&'a str, NodeId)> + ExactSizeIterator {
        let doc = self.doc;
        self.entries.iter().map(move |e| (doc.key(e.key), e.value))
    }

    /// The first entry.
    pub fn first(&self) -> Option<(&'a str, NodeId)> {
        self.entries.first().map(|e| (self.doc.key(e.key), e.value))
    }

    /// The value of `key` (the last one, for a duplicate key).
    pub fn get(&self, key: &str) -> Option<NodeId> {
        // the length first: most keys are told apart without reading the text
        let len = key.len();
        self.entries
            .iter()
            .rev()
            .find(|e| e.may_be(len) && self.doc.key_bytes(e.key) == Some(key.as_bytes()))
            .map(|e| e.value)
    }
}

impl PartialEq for Entries<'_> {
    fn eq(&self, other: &Entries<'_>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// A node seen from outside its arena: value, span, key span and style.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeView<'a> {
    /// The value.
    pub value: Value<'a>,
    /// The span of the value itself (for a collection, from its first to its last byte).
    pub span: Span,
    /// When this node is the value of a mapping entry, the span of its key.
    pub key_span: Option<Span>,
    /// How a scalar was written.
    pub style: Style,
}

/// One YAML or JSON document (one `---` section, or one JSON file).
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub(crate) nodes: Vec<Node>,
    pub(crate) items: Vec<NodeId>,
    pub(crate) entries: Vec<Entry>,
    /// The key spans that do not fit in their node, sorted by node.
    pub(crate) far_keys: Vec<FarKey>,
    /// Strings that are not a verbatim range of the source (escapes, folded lines, keys of
    /// aliases).
    pub(crate) owned: String,
    /// The whole source text of the document's file (shared with the source map).
    pub(crate) text: Arc<String>,
    /// Root node id.
    pub root: NodeId,
    /// The file the document came from.
    pub file: FileId,
    /// 0-based position of the document in its file.
    pub index: u32,
    /// The `# Source: path` comment that Helm writes above each document, if any.
    pub helm_source: Option<Arc<str>>,
}

impl Document {
    fn key(&self, k: StrRef) -> &str {
        k.resolve(&self.text, &self.owned)
    }

    /// The bytes of a key, without the character-boundary checks of [`Document::key`]:
    /// comparing them with a `str` tells equal keys exactly.
    fn key_bytes(&self, k: StrRef) -> Option<&[u8]> {
        let from = if k.is_owned() {
            &self.owned
        } else {
            &*self.text
        };
        from.as_bytes().get(k.range())
    }

    fn raw(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn key_span_of(&self, id: NodeId, n: &Node) -> Option<Span> {
        n.key(|| far_key(&self.far_keys, id))
            .map(|(start, end)| Span {
                file: self.file,
                start,
                end,
            })
    }

    /// Sets the key span of node `id` (keeping the far-key table sorted).
    pub(crate) fn set_key_span(&mut self, id: NodeId, key: Option<(u32, u32)>) {
        let Some(n) = self.nodes.get_mut(id as usize) else {
            return;
        };
        let at = self.far_keys.binary_search_by_key(&id, |k| k.0);
        match (n.set_key(key), at) {
            (KeyPlace::Far(ks, ke), Ok(i)) => {
                if let Some(k) = self.far_keys.get_mut(i) {
                    *k = (id, ks, ke);
                }
            }
            (KeyPlace::Far(ks, ke), Err(i)) => self.far_keys.insert(i, (id, ks, ke)),
            (KeyPlace::Near, Ok(i)) => {
                self.far_keys.remove(i);
            }
            (KeyPlace::Near, Err(_)) => {}
        }
    }

    /// The key span of node `id` as (start, end).
    pub(crate) fn key_range(&self, id: NodeId) -> Option<(u32, u32)> {
        self.raw(id)?.key(|| far_key(&self.far_keys, id))
    }

    /// The keys and positions from the root to the node whose value or key is at `span`
    /// (as far as a node holds it), for mapping a rendered document back to its template.
    pub fn path_to(&self, span: Span) -> Vec<crate::render::Step> {
        use crate::render::Step;
        let holds = |s: Option<Span>| s.is_some_and(|s| s.start <= span.start && span.end <= s.end);
        let mut path = Vec::new();
        let mut id = self.root;
        while let Some(n) = self.node(id) {
            if n.span == span || n.key_span == Some(span) {
                break;
            }
            let next = match n.value {
                // an entry runs from its key to the end of its value
                Value::Map(entries) => entries.iter().find_map(|(k, c)| {
                    let value = self.span(c);
                    let entry = match (self.key_span(c), value) {
                        (Some(k), Some(v)) => Some(Span {
                            end: v.end.max(k.end),
                            ..k
                        }),
                        (k, v) => k.or(v),
                    };
                    holds(entry).then(|| (Step::Key(k.to_string()), c))
                }),
                Value::Seq(items) => items
                    .iter()
                    .enumerate()
                    .find_map(|(i, &c)| holds(self.span(c)).then_some((Step::Index(i), c))),
                _ => None,
            };
            let Some((step, child)) = next else { break };
            path.push(step);
            id = child;
        }
        path
    }

    /// The keys and indexes from the root to node `target`, or `None` when it is not
    /// reachable from the root. Guided by spans (a node's span holds its children's), so
    /// it visits only the nodes around the path, not the whole document.
    pub fn path_to_node(&self, target: NodeId) -> Option<Vec<crate::render::Step>> {
        let t = self.span(target)?;
        let mut path = Vec::new();
        self.find_path(self.root, target, t, &mut path, 0)
            .then_some(path)
    }

    fn find_path(
        &self,
        id: NodeId,
        target: NodeId,
        t: Span,
        path: &mut Vec<crate::render::Step>,
        depth: usize,
    ) -> bool {
        use crate::render::Step;
        if id == target {
            return true;
        }
        if depth > 4096 {
            return false;
        }
        let holds = |c: NodeId| {
            self.span(c)
                .is_some_and(|s| s.start <= t.start && t.end <= s.end)
        };
        // children are in source order (but for merge keys and aliases): the one that holds
        // the target is the last that starts at or before it, found by bisection; the
        // linear scan is the fallback
        let starts_before = |c: NodeId| self.span(c).is_some_and(|s| s.start <= t.start);
        match self.value(id) {
            Some(Value::Map(entries)) => {
                let all = entries.entries;
                let at = all.partition_point(|e| starts_before(e.value));
                let guess = at.checked_sub(1).and_then(|i| all.get(i).map(|e| (i, e)));
                // the guess first; when the target is not below it (it cannot be, unless the
                // order is broken), every entry
                let order = guess.into_iter().chain(all.iter().enumerate());
                for (_, e) in order {
                    if holds(e.value) {
                        path.push(Step::Key(self.key(e.key).to_string()));
                        if self.find_path(e.value, target, t, path, depth + 1) {
                            return true;
                        }
                        path.pop();
                    }
                }
            }
            Some(Value::Seq(items)) => {
                let at = items.partition_point(|&c| starts_before(c));
                let guess = at
                    .checked_sub(1)
                    .and_then(|i| items.get(i).map(|&c| (i, c)));
                let order = guess.into_iter().chain(items.iter().copied().enumerate());
                for (i, c) in order {
                    if holds(c) {
                        path.push(Step::Index(i));
                        if self.find_path(c, target, t, path, depth + 1) {
                            return true;
                        }
                        path.pop();
                    }
                }
            }
            _ => {}
        }
        false
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the arena is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node id, in creation order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(|i| NodeId::try_from(i).unwrap_or(NodeId::MAX))
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> Option<NodeView<'_>> {
        let n = self.raw(id)?;
        Some(NodeView {
            value: self.value_of(n),
            span: Span {
                file: self.file,
                start: n.start,
                end: n.end,
            },
            key_span: self.key_span_of(id, n),
            style: n.style(),
        })
    }

    fn value_of(&self, n: &Node) -> Value<'_> {
        match n.tag() {
            Tag::Null => Value::Null,
            Tag::Bool => Value::Bool(n.data() != 0),
            Tag::Int => Value::Int(n.data() as i64),
            Tag::Float => Value::Float(f64::from_bits(n.data())),
            Tag::Str => Value::Str(self.key(n.str_ref())),
            Tag::Seq => Value::Seq(self.items.get(n.children()).unwrap_or(&[])),
            Tag::Map => Value::Map(Entries {
                doc: self,
                entries: self.entries.get(n.children()).unwrap_or(&[]),
            }),
        }
    }

    /// The value of a node.
    pub fn value(&self, id: NodeId) -> Option<Value<'_>> {
        self.raw(id).map(|n| self.value_of(n))
    }

    /// The span of a node.
    pub fn span(&self, id: NodeId) -> Option<Span> {
        self.raw(id).map(|n| Span {
            file: self.file,
            start: n.start,
            end: n.end,
        })
    }

    /// The span of the key of a mapping entry's value.
    pub fn key_span(&self, id: NodeId) -> Option<Span> {
        self.raw(id).and_then(|n| self.key_span_of(id, n))
    }

    /// Whether the node is a mapping.
    pub fn is_map(&self, id: NodeId) -> bool {
        self.raw(id).is_some_and(|n| n.tag() == Tag::Map)
    }

    /// Whether the node is null (or does not exist).
    pub fn is_null(&self, id: NodeId) -> bool {
        self.raw(id).is_none_or(|n| n.tag() == Tag::Null)
    }

    /// The value of `key` in the mapping `id`.
    pub fn get(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.map(id).get(key)
    }

    /// Follows a path of mapping keys from `id`.
    pub fn path(&self, id: NodeId, keys: &[&str]) -> Option<NodeId> {
        keys.iter().try_fold(id, |n, k| self.get(n, k))
    }

    /// The string value of a node (`None` if it is not a string).
    pub fn str(&self, id: NodeId) -> Option<&str> {
        self.raw(id)
            .filter(|n| n.tag() == Tag::Str)
            .map(|n| self.key(n.str_ref()))
    }

    /// The string at a path of keys.
    pub fn str_at(&self, id: NodeId, keys: &[&str]) -> Option<&str> {
        self.str(self.path(id, keys)?)
    }

    /// The children of a sequence (empty if not a sequence).
    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match self.raw(id) {
            Some(n) if n.tag() == Tag::Seq => self.items.get(n.children()).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The entries of a mapping (empty if not a mapping).
    pub fn map(&self, id: NodeId) -> Entries<'_> {
        match self.raw(id) {
            Some(n) if n.tag() == Tag::Map => Entries {
                doc: self,
                entries: self.entries.get(n.children()).unwrap_or(&[]),
            },
            _ => Entries::empty(self),
        }
    }

    /// The boolean value of a node.
    pub fn bool(&self, id: NodeId) -> Option<bool> {
        self.raw(id)
            .filter(|n| n.tag() == Tag::Bool)
            .map(|n| n.data() != 0)
    }

    /// Bytes of strings the document holds itself (decoded, not ranges of the text).
    pub fn owned_bytes(&self) -> usize {
        self.owned.len()
    }

    /// Bytes the arena uses (for measurements; reserved capacity is left out, as it is
    /// never touched).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>()
            + self.items.len() * std::mem::size_of::<NodeId>()
            + self.entries.len() * std::mem::size_of::<Entry>()
            + self.owned.len()
    }
}

/// A Kubernetes object: a mapping node inside a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The document.
    pub doc: DocId,
    /// The object's mapping node.
    pub node: NodeId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_to_nodes_follow_spans() {
        use crate::render::Step;
        let text = "a:\n  b:\n    - x: 1\n      y:\n    - {z: [p, q]}\n  c: ~\n";
        let mut sources = crate::diag::SourceMap::new();
        let out = Loader::default().load_text("t.yaml", text.to_string(), &mut sources);
        let d = &out.docs[0];
        let a = d.get(d.root, "a").unwrap();
        let b = d.get(a, "b").unwrap();
        let Some(Value::Seq(items)) = d.value(b) else {
            panic!()
        };
        let y = d.get(items[0], "y").unwrap();
        let z = d.get(items[1], "z").unwrap();
        let Some(Value::Seq(zs)) = d.value(z) else {
            panic!()
        };
        let c = d.get(a, "c").unwrap();
        let k = |s: &str| Step::Key(s.to_string());
        assert_eq!(d.path_to_node(d.root), Some(vec![]));
        assert_eq!(
            d.path_to_node(y),
            Some(vec![k("a"), k("b"), Step::Index(0), k("y")])
        );
        assert_eq!(
            d.path_to_node(zs[1]),
            Some(vec![k("a"), k("b"), Step::Index(1), k("z"), Step::Index(1)])
        );
        assert_eq!(d.path_to_node(c), Some(vec![k("a"), k("c")]));
        assert_eq!(d.path_to_node(NodeId::MAX), None);
    }

    /// Every node of a document with a long list (found by bisection), empty values,
    /// flow collections and block scalars gets the path the document's own structure gives.
    #[test]
    fn every_node_gets_its_path() {
        use crate::render::Step;
        let mut text = String::from("kind: List\nitems:\n");
        for i in 0..300 {
            text.push_str(&format!(
                "- name: item-{i}\n  empty:\n  flow: {{a: [1, {{b: ~}}], c: \"\"}}\n  text: |\n    line {i}\n  list:\n  - x\n  -\n  - [y, z]\n"
            ));
        }
        let mut sources = crate::diag::SourceMap::new();
        let out = Loader::default().load_text("t.yaml", text, &mut sources);
        let d = &out.docs[0];
        let mut seen = 0;
        let mut work = vec![(d.root, Vec::new())];
        while let Some((id, path)) = work.pop() {
            assert_eq!(d.path_to_node(id).as_ref(), Some(&path), "node {id}");
            seen += 1;
            match d.value(id) {
                Some(Value::Map(entries)) => {
                    for (k, c) in entries.iter() {
                        let mut p = path.clone();
                        p.push(Step::Key(k.to_string()));
                        work.push((c, p));
                    }
                }
                Some(Value::Seq(items)) => {
                    for (i, &c) in items.iter().enumerate() {
                        let mut p = path.clone();
                        p.push(Step::Index(i));
                        work.push((c, p));
                    }
                }
                _ => {}
            }
        }
        assert_eq!(seen, d.len());
    }

    #[test]
    fn nodes_and_entries_are_compact() {
        assert_eq!(std::mem::size_of::<Node>(), 20);
        // a near key is kept in the node; a long or distant one in the document's table,
        // exactly; setting a near key again takes it out of the table
        let mut d = Document {
            nodes: vec![
                Node {
                    start: 200_000,
                    ..Node::default()
                };
                3
            ],
            file: 3,
            ..Document::default()
        };
        assert_eq!(d.key_span(0), None);
        d.set_key_span(0, Some((199_990, 199_995)));
        d.set_key_span(1, Some((10, 100_000)));
        d.set_key_span(2, Some((190_000, 190_004)));
        assert_eq!(d.key_span(0), Some(Span::new(3, 199_990..199_995)));
        assert_eq!(d.key_span(1), Some(Span::new(3, 10..100_000)));
        assert_eq!(d.key_span(2), Some(Span::new(3, 190_000..190_004)));
        assert_eq!(d.far_keys.len(), 2);
        d.set_key_span(1, Some((199_000, 199_007)));
        assert_eq!(d.key_span(1), Some(Span::new(3, 199_000..199_007)));
        assert_eq!(d.far_keys, vec![(2, 190_000, 190_004)]);
        d.set_key_span(2, None);
        assert_eq!(d.key_span(2), None);
        assert!(d.far_keys.is_empty());
        // the tag and style share the word with the key
        let n = Node::scalar(
            Value::Str(""),
            StrRef::source(1, 2),
            Style::Folded,
            Span::new(0, 5..9),
        );
        assert_eq!((n.tag(), n.style()), (Tag::Str, Style::Folded));
        assert_eq!(std::mem::size_of::<Entry>(), 12);
    }
}
