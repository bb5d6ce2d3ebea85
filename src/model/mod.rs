//! The document model: every value of every input document with its exact span.
//!
//! Each document is a compact arena. A node is 16 bytes: its span, a 4-byte payload, and
//! one word for its type tag, its style and (when it is the value of a mapping entry) its
//! key, kept as the key's length, whether it is quoted, and the distance back from the
//! value to the key's text. The payload holds the value where 4 bytes do (a boolean, a
//! 32-bit integer, a collection's range); a string that is the text of its span (without
//! its quotes) needs none; the rest (floats, larger integers, decoded strings, long
//! collections) are in a per-document table of 8-byte payloads (see [`Packed`]). The values
//! of a mapping are consecutive nodes, so a mapping is a range of nodes and costs no array
//! of entries: a lookup compares the lengths in the values' own words, then reads the
//! text. The few keys a node cannot hold (longer than 4,095 bytes, more than 4,094 bytes
//! before their value, or whose string is not the text of their span: escapes, converted
//! non-string keys, aliases as keys) are in a per-document table, so every key and key
//! span stays exact. Strings are byte ranges into the source text (shared with the source
//! map) unless they had to be decoded (escapes, folded lines), in which case they are
//! ranges into one per-document buffer. Sequence items are ranges of one shared array of
//! node ids, so a document costs a handful of allocations however many values it has. The
//! readers build an arena of 20-byte builder nodes in the order they read;
//! `arena::Builder::finish` lays it out again in this form.
//!
//! Objects (the Kubernetes resources found in the documents, including the items of `List`
//! exports) are [`ObjectRef`]s into those arenas. Loading is in [`load`]; YAML and JSON
//! readers are in [`yaml`] and [`json`]; both build through `arena::Builder`.

pub(crate) mod arena;
pub(crate) mod block;
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

/// The id of the node at position `len` of an arena.
pub(crate) fn id_of(len: usize) -> NodeId {
    NodeId::try_from(len).unwrap_or(NodeId::MAX)
}

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

    /// Whether this is the range `range` of the source text.
    #[inline]
    pub(crate) fn is_source_range(self, range: std::ops::Range<usize>) -> bool {
        !self.is_owned() && self.range() == range
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

    /// The string's bytes, without the character-boundary checks of [`StrRef::resolve`]
    /// (comparing them with a `str` tells equal strings exactly).
    #[inline]
    pub(crate) fn bytes<'a>(self, text: &'a str, owned: &'a str) -> Option<&'a [u8]> {
        let from = if self.is_owned() { owned } else { text };
        from.as_bytes().get(self.range())
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

/// A value being built, with its location, in 20 bytes: what the readers push. A finished
/// [`Document`] keeps each as a [`Packed`] node of 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Node {
    /// The payload, in two halves (so that the node needs only 4-byte alignment). Bool:
    /// 0/1; Int: the bits of the `i64`; Float: the bits of the `f64`; Str: a [`StrRef`];
    /// Seq: `first | len << 32` into the items array; Map: the same over the nodes (its
    /// values).
    lo: u32,
    hi: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// The tag (bits 0-2), the style (bits 3-5) and, for the value of a mapping entry, its
    /// key's span (bits 7-31, see [`KeyCode`]); bit 6 is [`WIDE`] in a packed node.
    meta: u32,
}

/// The key bits of a node's meta word: 0 for a node that is not a mapping entry's value;
/// [`KEY_FAR`] for a key the document keeps in its table of far keys; else
/// `length | quoted << 12 | distance << 13`: the length of the key's text (its span without
/// the quotes, when `quoted`) and the distance from the text's start to the value's start.
/// The length is the low bits, so that a lookup tells most keys apart by one comparison.
type KeyCode = u32;

/// The bit of a packed node's meta word that says its payload is in the document's table
/// of wide payloads.
const WIDE: u32 = 1 << 6;
const KEY_SHIFT: u32 = 7;
const KEY_FAR: KeyCode = (1 << 25) - 1;
const KEY_MAX_LEN: u32 = (1 << 12) - 1;
const KEY_QUOTED: u32 = 1 << 12;
const KEY_DISTANCE_SHIFT: u32 = 13;
/// The largest distance kept in the node (all ones is [`KEY_FAR`]).
const KEY_MAX_DISTANCE: u32 = (1 << 12) - 2;

/// Whether the key span `span` of `text` is quoted: its text is then what is between the
/// quotes (a plain YAML scalar cannot start with a quote).
#[inline]
fn quoted(text: &[u8], (start, end): (u32, u32)) -> bool {
    let first = text.get(start as usize);
    end >= start.saturating_add(2)
        && matches!(first, Some(b'"' | b'\''))
        && text.get(end as usize - 1) == first
}

/// Whether two byte strings are equal, for keys: compared in place by words, as most keys
/// are shorter than 32 bytes and a call to the C library's `memcmp` costs more than the
/// comparison itself (it was a tenth of a scan's time).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(a: &[u8], b: &[u8]) -> bool {
        a.first_chunk::<N>() == b.first_chunk::<N>() && a.last_chunk::<N>() == b.last_chunk::<N>()
    }
    match a.len() {
        n if n != b.len() => false,
        0 => true,
        1..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => word::<4>(a, b),
        8..16 => word::<8>(a, b),
        16..=32 => word::<16>(a, b),
        _ => a == b,
    }
}

/// A key kept in the document's table rather than in its node: one whose span is longer
/// than 4,095 bytes or starts more than 4,094 bytes before its value, or whose text is not
/// the text of its span (a key with escapes, a converted non-string key, an alias as key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct FarKey {
    /// The node whose key it is.
    pub(crate) id: NodeId,
    /// The key's span, when it has one.
    pub(crate) span: Option<(u32, u32)>,
    /// The key itself.
    pub(crate) key: StrRef,
}

/// How a key span is kept: in the node, or (for `Far`) in the document's table.
pub(crate) enum KeyPlace {
    Near,
    Far(u32, u32),
}

/// The meta word that builder nodes and packed nodes share: tag, style and key.
pub(crate) trait KeyWord {
    fn meta(&self) -> u32;
    fn meta_mut(&mut self) -> &mut u32;
    fn start(&self) -> u32;

    fn tag(&self) -> Tag {
        Tag::from_bits(self.meta() & 7)
    }

    fn style(&self) -> Style {
        Style::from_bits((self.meta() >> 3) & 7)
    }

    fn key_code(&self) -> KeyCode {
        self.meta() >> KEY_SHIFT
    }

    /// Keeps `key` (the span of the key whose value this node is; `quoted` when it has
    /// quotes around its text) in the node when it is near enough; otherwise says where it
    /// goes.
    fn set_key(&mut self, key: Option<(u32, u32)>, quoted: bool) -> KeyPlace {
        let (code, place) = match key {
            None => (0, KeyPlace::Near),
            Some((ks, ke)) => {
                let q = u32::from(quoted && ke.saturating_sub(ks) >= 2);
                let (ts, te) = (ks.saturating_add(q), ke.saturating_sub(q));
                let len = te.saturating_sub(ts);
                match self.start().checked_sub(ts) {
                    Some(d)
                        if d <= KEY_MAX_DISTANCE
                            && len <= KEY_MAX_LEN
                            && (d | len | q) != 0
                            && ks <= ke =>
                    {
                        (
                            len | (q * KEY_QUOTED) | (d << KEY_DISTANCE_SHIFT),
                            KeyPlace::Near,
                        )
                    }
                    _ => (KEY_FAR, KeyPlace::Far(ks, ke)),
                }
            }
        };
        let m = self.meta_mut();
        *m = (*m & ((1 << KEY_SHIFT) - 1)) | code << KEY_SHIFT;
        place
    }

    /// Marks the key as kept in the document's table.
    fn set_far_key(&mut self) {
        let m = self.meta_mut();
        *m = (*m & ((1 << KEY_SHIFT) - 1)) | KEY_FAR << KEY_SHIFT;
    }

    /// Whether the key is kept in the document's table.
    fn has_far_key(&self) -> bool {
        self.key_code() == KEY_FAR
    }

    /// The key span, as (start, end), when it is kept in the node; `far` finds the others.
    #[inline]
    fn key(&self, far: impl FnOnce() -> Option<(u32, u32)>) -> Option<(u32, u32)> {
        match self.key_code() {
            0 => None,
            KEY_FAR => far(),
            c => {
                let (ts, te) = key_text_of(self.start(), c);
                let q = u32::from(c & KEY_QUOTED != 0);
                Some((ts.saturating_sub(q), te.saturating_add(q)))
            }
        }
    }

    /// The range of the key's text, when the node keeps it.
    fn near_key_text(&self) -> Option<(u32, u32)> {
        match self.key_code() {
            0 | KEY_FAR => None,
            c => Some(key_text_of(self.start(), c)),
        }
    }
}

/// The range of the key's text for near key code `c` of a node starting at `start`.
#[inline]
fn key_text_of(start: u32, c: KeyCode) -> (u32, u32) {
    let ts = start.saturating_sub(c >> KEY_DISTANCE_SHIFT);
    (ts, ts.saturating_add(c & KEY_MAX_LEN))
}

/// Both node types keep the word and the start under the same names.
macro_rules! key_word {
    ($($t:ty),*) => {$(
        impl KeyWord for $t {
            #[inline]
            fn meta(&self) -> u32 {
                self.meta
            }
            #[inline]
            fn meta_mut(&mut self) -> &mut u32 {
                &mut self.meta
            }
            #[inline]
            fn start(&self) -> u32 {
                self.start
            }
        }
    )*};
}

key_word!(Node, Packed);

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

    fn set_tag(&mut self, tag: Tag) {
        self.meta = (self.meta & !7) | tag as u32;
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

    /// The node as a document keeps it, as node `id` of a document whose wide payloads
    /// are `wide`.
    #[inline]
    pub(crate) fn packed(&self, id: NodeId, wide: &mut Vec<u64>) -> Packed {
        let mut p = Packed {
            a: 0,
            start: self.start,
            end: self.end,
            meta: self.meta & !WIDE,
        };
        p.set_payload(id, self.data(), wide);
        p
    }
}

/// A value of a finished document with its location, in 16 bytes: the span, the meta word
/// of its builder [`Node`] (tag, style, key), and a 4-byte payload. The payload is the value
/// itself where 4 bytes hold it: a boolean, an integer that fits 32 bits, nothing for a
/// string that is its span's text (without its quotes), `first | len << 24` for a sequence
/// (into the items array), and `delta | len << 24` for a mapping (its values start `delta`
/// nodes from it, a 24-bit signed count, so a mapping keeps its payload when its document
/// is appended to another). Anything else (a float, a larger integer, a decoded string, a
/// long or far collection) is a [`WIDE`] node, whose payload is an index into the
/// document's table of 8-byte payloads, which holds it as a builder node does.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Packed {
    a: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
    meta: u32,
}

/// The largest sequence or mapping length a packed payload holds.
const PACKED_MAX_LEN: usize = (1 << 8) - 1;
/// The bound of a sequence's first item, and of a mapping's delta, in a packed payload.
const PACKED_RANGE: i64 = 1 << 23;

impl Packed {
    fn is_wide(&self) -> bool {
        self.meta & WIDE != 0
    }

    /// Stores `data` (the payload as a builder node has it) for node `id`: in the node
    /// when it fits, else in `wide`.
    fn set_payload(&mut self, id: NodeId, data: u64, wide: &mut Vec<u64>) {
        let (lo, hi) = unpack(data);
        let inline = match self.tag() {
            Tag::Null => Some(0),
            Tag::Bool => Some(lo),
            Tag::Int => i32::try_from(data as i64).ok().map(|i| i as u32),
            Tag::Float => None,
            Tag::Str => {
                // a range of the source that is the one `Packed::text_range` gives back
                let r = self.text_range();
                (hi & OWNED == 0 && lo as usize == r.start && hi as usize == r.len()).then_some(0)
            }
            Tag::Seq => (i64::from(lo) < 2 * PACKED_RANGE && (hi as usize) < PACKED_MAX_LEN)
                .then_some(lo | hi << 24),
            Tag::Map => {
                let delta = i64::from(lo) - i64::from(id);
                ((-PACKED_RANGE..PACKED_RANGE).contains(&delta) && (hi as usize) < PACKED_MAX_LEN)
                    .then_some((delta as u32 & 0x00ff_ffff) | hi << 24)
            }
        };
        match inline {
            Some(a) => {
                self.meta &= !WIDE;
                self.a = a;
            }
            None if self.is_wide() && (self.a as usize) < wide.len() => {
                if let Some(slot) = wide.get_mut(self.a as usize) {
                    *slot = data;
                }
            }
            None => {
                self.meta |= WIDE;
                self.a = u32::try_from(wide.len()).unwrap_or(u32::MAX);
                wide.push(data);
            }
        }
    }

    /// The payload as a builder node has it, for node `id` of a document whose wide
    /// payloads are `wide`.
    #[inline]
    fn data(&self, id: NodeId, wide: &[u64]) -> u64 {
        if self.is_wide() {
            return wide.get(self.a as usize).copied().unwrap_or(0);
        }
        let a = self.a;
        match self.tag() {
            Tag::Null | Tag::Float => 0,
            Tag::Bool => u64::from(a),
            Tag::Int => a as i32 as i64 as u64,
            Tag::Str => {
                let r = self.text_range();
                pack(r.start as u32, (r.end - r.start) as u32)
            }
            Tag::Seq => pack(a & 0x00ff_ffff, a >> 24),
            Tag::Map => pack(id.wrapping_add_signed(Packed::delta(a)), a >> 24),
        }
    }

    /// The signed count of a mapping's packed payload (its low 24 bits).
    #[inline(always)]
    fn delta(a: u32) -> i32 {
        // shifted up and back, the sign spreads
        ((a << 8) as i32) >> 8
    }

    /// The text of a string that is its span's text: the span without its quotes.
    #[inline(always)]
    fn text_range(&self) -> std::ops::Range<usize> {
        // single (1) and double (2) quoted styles
        let q = u32::from(((self.meta >> 3) & 7).wrapping_sub(1) < 2);
        let start = self.start.saturating_add(q);
        start as usize..(self.end.saturating_sub(q)).max(start) as usize
    }

    fn set_tag(&mut self, tag: Tag) {
        self.meta = (self.meta & !7) | tag as u32;
    }

    /// Stores `data` for the node as node `id` of another document, whose wide payloads
    /// are `wide` (a wide payload of this node's document is not overwritten).
    pub(crate) fn repack(&mut self, id: NodeId, data: u64, wide: &mut Vec<u64>) {
        self.meta &= !WIDE;
        self.set_payload(id, data, wide);
    }

    /// Makes node `id` a collection of `len` children from `first`.
    pub(crate) fn set_children(
        &mut self,
        id: NodeId,
        tag: Tag,
        first: usize,
        len: usize,
        wide: &mut Vec<u64>,
    ) {
        self.set_tag(tag);
        let first = u32::try_from(first).unwrap_or(u32::MAX);
        let len = u32::try_from(len).unwrap_or(0);
        self.set_payload(id, pack(first, len), wide);
    }

    #[inline]
    fn str_ref(&self, id: NodeId, wide: &[u64]) -> StrRef {
        let (off, len) = unpack(self.data(id, wide));
        StrRef { off, len }
    }

    #[inline]
    fn children(&self, id: NodeId, wide: &[u64]) -> std::ops::Range<usize> {
        let (first, len) = unpack(self.data(id, wide));
        first as usize..first as usize + len as usize
    }
}

/// Keeps the key of node `id` (span `span` of `text`; string `key`, whose bytes are
/// `bytes`) in the node when it can: the span is near, and its text (without the quotes of
/// a quoted key) is the key. Otherwise marks the node and gives the entry for the document's
/// far-key table. A node without a key span and without a key keeps none.
pub(crate) fn keep_key<N: KeyWord>(
    text: &[u8],
    node: &mut N,
    id: NodeId,
    span: Option<(u32, u32)>,
    key: Option<StrRef>,
    bytes: Option<&[u8]>,
) -> Option<FarKey> {
    let q = span.is_some_and(|s| quoted(text, s));
    let is_text = match (span, bytes) {
        (Some((s, e)), Some(k)) => {
            let q = u32::from(q);
            text.get(s.saturating_add(q) as usize..e.saturating_sub(q) as usize) == Some(k)
        }
        (_, None) => key.is_none(),
        (None, Some(_)) => false,
    };
    if matches!(node.set_key(span, q), KeyPlace::Near) && is_text {
        return None;
    }
    node.set_far_key();
    Some(FarKey {
        id,
        span,
        key: key.unwrap_or_default(),
    })
}

/// The far key of node `id` in a table sorted by node.
pub(crate) fn far_key(table: &[FarKey], id: NodeId) -> Option<&FarKey> {
    table
        .binary_search_by_key(&id, |k| k.id)
        .ok()
        .and_then(|i| table.get(i))
}

fn pack(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

fn unpack(x: u64) -> (u32, u32) {
    ((x & 0xffff_ffff) as u32, (x >> 32) as u32)
}

/// The entries of a mapping node, in source order: a run of consecutive nodes (the
/// values), each holding its key.
#[derive(Clone, Copy, Debug)]
pub struct Entries<'a> {
    doc: &'a Document,
    first: NodeId,
    len: u32,
}

impl<'a> Entries<'a> {
    /// No entries.
    fn empty(doc: &'a Document) -> Entries<'a> {
        Entries {
            doc,
            first: 0,
            len: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values' node ids, in source order.
    fn ids(&self) -> std::ops::Range<NodeId> {
        self.first..self.first.saturating_add(self.len)
    }

    /// The values' nodes, in source order.
    fn nodes(&self) -> &'a [Packed] {
        let first = self.first as usize;
        self.doc
            .nodes
            .get(first..first + self.len as usize)
            .unwrap_or(&[])
    }

    /// `(key, value)` pairs in source order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&'a str, NodeId)> + ExactSizeIterator {
        let doc = self.doc;
        self.ids().map(move |id| (doc.key_of(id), id))
    }

    /// The first entry.
    pub fn first(&self) -> Option<(&'a str, NodeId)> {
        self.iter().next()
    }

    /// The value of `key` (the last one, for a duplicate key).
    #[inline]
    pub fn get(&self, key: &str) -> Option<NodeId> {
        // a near key by its length first (the low bits of its code, where a far key has
        // all ones), then its text. Without far keys and for a key of at least one byte,
        // a node whose code has the length is one with a near key: its meta word is
        // compared in place.
        let len = key.len();
        let want = u32::try_from(len)
            .ok()
            .filter(|&w| w > 0 && w < KEY_MAX_LEN && self.doc.far_keys.is_empty());
        let Some(want) = want else {
            return self.get_any(key);
        };
        let (name, text) = (key.as_bytes(), self.doc.text.as_bytes());
        let (mask, bits) = (KEY_MAX_LEN << KEY_SHIFT, want << KEY_SHIFT);
        let nodes = self.nodes();
        let found = nodes.iter().rev().find(|n| {
            n.meta & mask == bits && {
                let code = n.key_code();
                let ts = n.start.wrapping_sub(code >> KEY_DISTANCE_SHIFT) as usize;
                text.get(ts..ts + len).is_some_and(|t| same_bytes(t, name))
            }
        })?;
        // the position of the node found, from the addresses
        let at = (std::ptr::from_ref(found) as usize).wrapping_sub(nodes.as_ptr() as usize)
            / std::mem::size_of::<Packed>();
        Some(self.first.saturating_add(u32::try_from(at).ok()?))
    }

    /// [`Entries::get`] for any key, in a document with far keys.
    #[cold]
    #[inline(never)]
    fn get_any(&self, key: &str) -> Option<NodeId> {
        let (name, text) = (key.as_bytes(), self.doc.text.as_bytes());
        let nodes = self.nodes();
        for (i, n) in nodes.iter().enumerate().rev() {
            let id = self.first.saturating_add(i as u32);
            let found = match n.key_code() {
                KEY_FAR => self.doc.far_key_bytes(id) == Some(name),
                0 => false,
                code => {
                    let (ts, te) = key_text_of(n.start, code);
                    text.get(ts as usize..te as usize) == Some(name)
                }
            };
            if found {
                return Some(id);
            }
        }
        None
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

/// What the documents of a load take (for `--timings`), measured before a scan frees
/// their nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocumentsMemory {
    /// Bytes of their arenas ([`Document::heap_bytes`]).
    pub bytes: usize,
    /// Nodes.
    pub nodes: usize,
    /// Bytes of decoded strings ([`Document::owned_bytes`]).
    pub decoded: usize,
}

impl DocumentsMemory {
    /// The figures of `docs`.
    pub fn of(docs: &[Document]) -> DocumentsMemory {
        DocumentsMemory {
            bytes: docs.iter().map(Document::heap_bytes).sum(),
            nodes: docs.iter().map(Document::len).sum(),
            decoded: docs.iter().map(Document::owned_bytes).sum(),
        }
    }
}

/// One YAML or JSON document (one `---` section, or one JSON file).
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// The nodes; the values of a mapping are consecutive.
    pub(crate) nodes: Vec<Packed>,
    /// The payloads that do not fit in their node (see [`Packed`]).
    pub(crate) wide: Vec<u64>,
    /// The items of the sequences, each a range.
    pub(crate) items: Vec<NodeId>,
    /// The keys that do not fit in their node, sorted by node.
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
    /// Whether the document has a YAML alias (its value is a copy of one written
    /// elsewhere, so an object's text may not show every value of the object).
    pub(crate) aliased: bool,
}

impl Document {
    fn key(&self, k: StrRef) -> &str {
        k.resolve(&self.text, &self.owned)
    }

    /// The bytes of a string, without the character-boundary checks of [`Document::key`]:
    /// comparing them with a `str` tells equal strings exactly.
    fn str_bytes(&self, k: StrRef) -> Option<&[u8]> {
        k.bytes(&self.text, &self.owned)
    }

    /// The bytes of the key of node `id` as its entry in the far-key table has it.
    fn far_key_bytes(&self, id: NodeId) -> Option<&[u8]> {
        self.str_bytes(far_key(&self.far_keys, id)?.key)
    }

    /// The key of the mapping entry whose value is node `id` (empty for a node that is not
    /// one).
    fn key_of(&self, id: NodeId) -> &str {
        self.key_ref(id).map_or("", |k| self.key(k))
    }

    /// The key of the mapping entry whose value is node `id`, as a string of the document.
    pub(crate) fn key_ref(&self, id: NodeId) -> Option<StrRef> {
        let n = self.raw(id)?;
        if n.has_far_key() {
            return far_key(&self.far_keys, id).map(|k| k.key);
        }
        let (ts, te) = n.near_key_text()?;
        Some(StrRef::source(ts as usize, (te - ts) as usize))
    }

    fn raw(&self, id: NodeId) -> Option<&Packed> {
        self.nodes.get(id as usize)
    }

    fn key_span_of(&self, id: NodeId, n: &Packed) -> Option<Span> {
        n.key(|| far_key(&self.far_keys, id).and_then(|k| k.span))
            .map(|(start, end)| Span {
                file: self.file,
                start,
                end,
            })
    }

    /// Sets the key of node `id`: its span and its text (keeping the far-key table sorted).
    /// The node keeps the span itself when the span is near and its text is the key.
    pub(crate) fn set_key(&mut self, id: NodeId, span: Option<(u32, u32)>, key: Option<StrRef>) {
        let bytes = key.and_then(|k| self.str_bytes(k));
        let Some(n) = self.nodes.get(id as usize) else {
            return;
        };
        let mut n = *n;
        let far = keep_key(self.text.as_bytes(), &mut n, id, span, key, bytes);
        if let Some(slot) = self.nodes.get_mut(id as usize) {
            *slot = n;
        }
        match (self.far_keys.binary_search_by_key(&id, |k| k.id), far) {
            (Ok(i), None) => {
                self.far_keys.remove(i);
            }
            (Ok(i), Some(far)) => {
                if let Some(k) = self.far_keys.get_mut(i) {
                    *k = far;
                }
            }
            (Err(i), Some(far)) => self.far_keys.insert(i, far),
            (Err(_), None) => {}
        }
    }

    /// The payload of node `id` as a builder node has it.
    pub(crate) fn data_of(&self, id: NodeId) -> u64 {
        self.raw(id).map_or(0, |n| n.data(id, &self.wide))
    }

    /// Sets the payload of node `id` (as a builder node has it).
    pub(crate) fn set_data_of(&mut self, id: NodeId, data: u64) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.set_payload(id, data, &mut self.wide);
        }
    }

    /// Makes node `id` a collection of `len` children from `first`.
    pub(crate) fn set_children(&mut self, id: NodeId, tag: Tag, first: usize, len: usize) {
        if let Some(n) = self.nodes.get_mut(id as usize) {
            n.set_children(id, tag, first, len, &mut self.wide);
        }
    }

    /// The key span of node `id` as (start, end).
    pub(crate) fn key_range(&self, id: NodeId) -> Option<(u32, u32)> {
        let n = self.raw(id)?;
        self.key_span_of(id, n).map(|s| (s.start, s.end))
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
                let all: Vec<NodeId> = entries.ids().collect();
                let at = all.partition_point(|&c| starts_before(c));
                let guess = at.checked_sub(1).and_then(|i| all.get(i).copied());
                // the guess first; when the target is not below it (it cannot be, unless the
                // order is broken), every entry
                let order = guess.into_iter().chain(all.iter().copied());
                for c in order {
                    if holds(c) {
                        path.push(Step::Key(self.key_of(c).to_string()));
                        if self.find_path(c, target, t, path, depth + 1) {
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

    /// Every node id, in the order of the arena (where a mapping's values, and a
    /// sequence's items, are consecutive).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(id_of)
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> Option<NodeView<'_>> {
        let n = self.raw(id)?;
        Some(NodeView {
            value: self.value_of(id, n),
            span: Span {
                file: self.file,
                start: n.start,
                end: n.end,
            },
            key_span: self.key_span_of(id, n),
            style: n.style(),
        })
    }

    #[inline]
    fn value_of(&self, id: NodeId, n: &Packed) -> Value<'_> {
        match n.tag() {
            Tag::Null => Value::Null,
            Tag::Bool => Value::Bool(n.data(id, &self.wide) != 0),
            Tag::Int => Value::Int(n.data(id, &self.wide) as i64),
            Tag::Float => Value::Float(f64::from_bits(n.data(id, &self.wide))),
            Tag::Str => Value::Str(self.str_of(id, n)),
            Tag::Seq => Value::Seq(self.items.get(n.children(id, &self.wide)).unwrap_or(&[])),
            Tag::Map => Value::Map(self.entries_of(id, n)),
        }
    }

    /// The entries of mapping node `n` (node `id`).
    #[inline]
    fn entries_of(&self, id: NodeId, n: &Packed) -> Entries<'_> {
        let (first, len) = if n.is_wide() {
            let r = n.children(id, &self.wide);
            (id_of(r.start), u32::try_from(r.len()).unwrap_or(0))
        } else {
            (id.wrapping_add_signed(Packed::delta(n.a)), n.a >> 24)
        };
        Entries {
            doc: self,
            first,
            len,
        }
    }

    /// The string of string node `n` (node `id`).
    #[inline]
    fn str_of(&self, id: NodeId, n: &Packed) -> &str {
        if n.is_wide() {
            self.key(n.str_ref(id, &self.wide))
        } else {
            self.text.get(n.text_range()).unwrap_or("")
        }
    }

    /// The value of a node.
    pub fn value(&self, id: NodeId) -> Option<Value<'_>> {
        self.raw(id).map(|n| self.value_of(id, n))
    }

    /// The span of a node.
    pub fn span(&self, id: NodeId) -> Option<Span> {
        self.raw(id).map(|n| Span {
            file: self.file,
            start: n.start,
            end: n.end,
        })
    }

    /// The source text of a node (from its first to its last byte).
    pub fn source(&self, id: NodeId) -> Option<&str> {
        let n = self.raw(id)?;
        self.text.get(n.start as usize..n.end as usize)
    }

    /// The span of the key of a mapping entry's value.
    pub fn key_span(&self, id: NodeId) -> Option<Span> {
        self.raw(id).and_then(|n| self.key_span_of(id, n))
    }

    /// Whether the node is a mapping.
    pub fn is_map(&self, id: NodeId) -> bool {
        self.raw(id).is_some_and(|n| n.tag() == Tag::Map)
    }

    /// Whether the node is a mapping or a sequence.
    #[inline]
    pub fn is_collection(&self, id: NodeId) -> bool {
        self.raw(id)
            .is_some_and(|n| matches!(n.tag(), Tag::Map | Tag::Seq))
    }

    /// Whether the node is null (or does not exist).
    pub fn is_null(&self, id: NodeId) -> bool {
        self.raw(id).is_none_or(|n| n.tag() == Tag::Null)
    }

    /// The value of `key` in the mapping `id`.
    #[inline]
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
            .map(|n| self.str_of(id, n))
    }

    /// The string at a path of keys.
    pub fn str_at(&self, id: NodeId, keys: &[&str]) -> Option<&str> {
        self.str(self.path(id, keys)?)
    }

    /// The children of a sequence (empty if not a sequence).
    pub fn seq(&self, id: NodeId) -> &[NodeId] {
        match self.value(id) {
            Some(Value::Seq(items)) => items,
            _ => &[],
        }
    }

    /// The entries of a mapping (empty if not a mapping).
    #[inline]
    pub fn map(&self, id: NodeId) -> Entries<'_> {
        match self.raw(id) {
            Some(n) if n.tag() == Tag::Map => self.entries_of(id, n),
            _ => Entries::empty(self),
        }
    }

    /// The boolean value of a node.
    pub fn bool(&self, id: NodeId) -> Option<bool> {
        match self.value(id) {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        }
    }

    /// Bytes of strings the document holds itself (decoded, not ranges of the text).
    pub fn owned_bytes(&self) -> usize {
        self.owned.len()
    }

    /// Frees the nodes, once nothing reads them (a scan whose caller reads no document
    /// after it: `engine::ScanOptions::release_documents`). The document then reads as
    /// empty: every lookup finds nothing. Its file, position, root id, text and Helm
    /// source stay.
    pub fn release(&mut self) {
        self.nodes = Vec::new();
        self.wide = Vec::new();
        self.items = Vec::new();
        self.far_keys = Vec::new();
        self.owned = String::new();
    }

    /// Bytes the arena uses (for measurements; reserved capacity is left out, as it is
    /// never touched).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Packed>()
            + self.wide.len() * std::mem::size_of::<u64>()
            + self.items.len() * std::mem::size_of::<NodeId>()
            + self.far_keys.len() * std::mem::size_of::<FarKey>()
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
    fn key_bytes_compare_as_slices_do() {
        // every length around the word sizes, equal and differing at each position
        for len in 0..48usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{len}");
            assert!(
                !same_bytes(&a, &a[..len.saturating_sub(1)]) || len == 0,
                "{len}"
            );
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{len} at {at}");
                assert!(!same_bytes(&b, &a), "{len} at {at}");
            }
        }
    }

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
        assert_eq!(std::mem::size_of::<Packed>(), 16);
        // a near key whose span's text is the key is kept in the node; a long or distant
        // one, or one whose text differs (an escape), in the document's table, exactly;
        // setting a near key again takes it out of the table
        let mut text = "x".repeat(200_010);
        text.replace_range(199_990..199_995, "\"ab\":");
        text.replace_range(190_000..190_004, "abcd");
        text.replace_range(195_000..195_005, "\"a\\u\"");
        let mut d = Document {
            nodes: vec![
                Packed {
                    start: 200_000,
                    ..Packed::default()
                };
                4
            ],
            file: 3,
            text: Arc::new(text),
            owned: "au".to_string(),
            ..Document::default()
        };
        assert_eq!(d.key_span(0), None);
        let src = |a: usize, b: usize| Some(StrRef::source(a, b - a));
        d.set_key(0, Some((199_990, 199_994)), src(199_991, 199_993));
        d.set_key(1, Some((10, 100_000)), src(10, 100_000));
        d.set_key(2, Some((190_000, 190_004)), src(190_000, 190_004));
        d.set_key(3, Some((195_000, 195_005)), Some(StrRef::owned(0, 2)));
        assert_eq!(d.key_span(0), Some(Span::new(3, 199_990..199_994)));
        assert_eq!(d.key_span(1), Some(Span::new(3, 10..100_000)));
        assert_eq!(d.key_span(2), Some(Span::new(3, 190_000..190_004)));
        assert_eq!(d.key_span(3), Some(Span::new(3, 195_000..195_005)));
        assert_eq!(d.key_of(0), "ab");
        assert_eq!(d.key_of(1).len(), 99_990);
        assert_eq!(d.key_of(2), "abcd");
        assert_eq!(d.key_of(3), "au");
        let far = |d: &Document| d.far_keys.iter().map(|k| k.id).collect::<Vec<_>>();
        assert_eq!(far(&d), vec![1, 2, 3]);
        d.set_key(1, Some((199_000, 199_007)), src(199_000, 199_007));
        assert_eq!(d.key_span(1), Some(Span::new(3, 199_000..199_007)));
        assert_eq!(far(&d), vec![2, 3]);
        d.set_key(2, None, None);
        assert_eq!((d.key_span(2), d.key_ref(2)), (None, None));
        assert_eq!(far(&d), vec![3]);
        // the four nodes as the values of one mapping: looked up by key, near or far
        let mut map = Packed::default();
        map.set_children(4, Tag::Map, 0, 4, &mut d.wide);
        d.nodes.push(map);
        let entries = d.map(4);
        assert_eq!(entries.get("ab"), Some(0));
        assert_eq!(entries.get("\"ab\""), None);
        assert_eq!(entries.get("au"), Some(3));
        assert_eq!(entries.get("a\\u"), None);
        assert_eq!(entries.get(&"x".repeat(7)), Some(1));
        assert_eq!(entries.get("abcd"), None);
        // the tag and style share the word with the key
        let n = Node::scalar(
            Value::Str(""),
            StrRef::source(1, 2),
            Style::Folded,
            Span::new(0, 5..9),
        );
        assert_eq!((n.tag(), n.style()), (Tag::Str, Style::Folded));
    }

    /// Documents read back what they hold where payloads are wide: long mappings and
    /// sequences, floats, large integers, decoded strings, in YAML and JSON.
    #[test]
    fn wide_payloads_read_back() {
        let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
        let yaml = format!(
            "m:\n{}s: [{}]\nf: 0.25\nbig: 8589934592\nneg: -2147483649\nesc: \"a\\tb\"\nfold: >\n  x\n  y\n",
            keys.iter()
                .map(|k| format!("  {k}: {k}\n"))
                .collect::<String>(),
            (0..300)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let json = format!(
            "{{\"m\": {{{}}}, \"s\": [{}], \"f\": 0.25, \"big\": 8589934592, \"neg\": -2147483649, \"esc\": \"a\\tb\", \"fold\": \"x y\"}}",
            keys.iter()
                .map(|k| format!("\"{k}\": \"{k}\""))
                .collect::<Vec<_>>()
                .join(", "),
            (0..300)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (name, text) in [("t.yaml", yaml), ("t.json", json)] {
            let mut sources = crate::diag::SourceMap::new();
            let out = Loader::default().load_text(name, text, &mut sources);
            let d = &out.docs[0];
            let m = d.get(d.root, "m").unwrap();
            assert_eq!(d.map(m).len(), 300, "{name}");
            for k in [&keys[0], &keys[255], &keys[299]] {
                assert_eq!(d.str(d.get(m, k).unwrap()), Some(k.as_str()), "{name} {k}");
            }
            let s = d.seq(d.get(d.root, "s").unwrap());
            assert_eq!(s.len(), 300, "{name}");
            assert_eq!(d.value(s[299]), Some(Value::Int(299)), "{name}");
            let at = |k: &str| d.value(d.get(d.root, k).unwrap());
            assert_eq!(at("f"), Some(Value::Float(0.25)), "{name}");
            assert_eq!(at("big"), Some(Value::Int(1 << 33)), "{name}");
            assert_eq!(at("neg"), Some(Value::Int(-2_147_483_649)), "{name}");
            assert_eq!(at("esc"), Some(Value::Str("a\tb")), "{name}");
            let folded = if name.ends_with("yaml") {
                "x y\n"
            } else {
                "x y"
            };
            assert_eq!(at("fold"), Some(Value::Str(folded)), "{name}");
            let wide = d.nodes.iter().filter(|n| n.is_wide()).count();
            assert!(wide >= 6, "{name}: {wide} wide nodes");
        }
    }

    /// Every payload a builder node holds comes back the same from its packed node, in the
    /// node when it fits and in the wide table when it does not; and again after the node
    /// moves to another document.
    #[test]
    fn packed_payloads_round_trip() {
        let at = |start: u32, end: u32| Span::new(0, start as usize..end as usize);
        // scalars other than strings, with whether their payload is wide
        let plain = |v: Value<'_>, wide: bool| {
            (
                Node::scalar(v, StrRef::default(), Style::Plain, at(0, 1)),
                0,
                wide,
            )
        };
        // strings read from `s`, written at `start..end`
        let string = |s: StrRef, style: Style, (start, end): (u32, u32), wide: bool| {
            (
                Node::scalar(Value::Str(""), s, style, at(start, end)),
                0,
                wide,
            )
        };
        let (single, double) = (Style::SingleQuoted, Style::DoubleQuoted);
        let mut cases: Vec<(Node, NodeId, bool)> = vec![
            plain(Value::Null, false),
            plain(Value::Bool(true), false),
            plain(Value::Int(-7), false),
            plain(Value::Int(i64::from(i32::MIN)), false),
            plain(Value::Int(1 << 40), true),
            plain(Value::Int(i64::MIN), true),
            plain(Value::Float(0.5), true),
            // strings that are their span's text, plain or between quotes
            string(StrRef::source(14, 2), Style::Plain, (14, 16), false),
            string(StrRef::source(4, 2), single, (3, 7), false),
            string(StrRef::source(9, 2), double, (8, 12), false),
            string(StrRef::source(9, 0), double, (8, 10), false),
            // strings that are not: decoded, elsewhere, or a span without its quotes
            string(StrRef::owned(0, 2), double, (8, 12), true),
            string(StrRef::source(14, 2), Style::Plain, (0, 1), true),
            string(StrRef::source(4, 2), Style::Plain, (3, 7), true),
            string(StrRef::source(0, 0), double, (0, 1), true),
        ];
        let collection = |tag: Tag, first: usize, len: usize| {
            let mut n = Node::default();
            n.set_children(tag, first, len);
            n
        };
        cases.extend([
            (collection(Tag::Seq, 0, 0), 5, false),
            (collection(Tag::Seq, (1 << 24) - 1, 254), 5, false),
            (collection(Tag::Seq, 1 << 24, 3), 5, true),
            (collection(Tag::Seq, 3, 255), 5, true),
            (collection(Tag::Map, 10, 4), 100, false),
            (collection(Tag::Map, 100, 4), 10, false),
            (collection(Tag::Map, (1 << 23) + 9, 2), 10, false),
            (collection(Tag::Map, (1 << 23) + 10, 2), 10, true),
            (collection(Tag::Map, 0, 2), 1 << 23, false),
            (collection(Tag::Map, 0, 2), (1 << 23) + 1, true),
            (collection(Tag::Map, 7, 300), 9, true),
        ]);
        let mut wide = vec![0];
        for (node, id, is_wide) in cases {
            let p = node.packed(id, &mut wide);
            assert_eq!(p.is_wide(), is_wide, "{node:?} as node {id}");
            assert_eq!(p.data(id, &wide), node.data(), "{node:?} as node {id}");
            assert_eq!(
                (p.tag(), p.style(), p.start, p.end),
                (node.tag(), node.style(), node.start, node.end)
            );
            // moved to another document, as the same node
            let mut other = vec![1, 2];
            let mut q = p;
            q.repack(id, node.data(), &mut other);
            assert_eq!(q.data(id, &other), node.data());
            assert_eq!(other.len(), 2 + usize::from(is_wide));
        }
        // a wide payload set again on its own document keeps its slot
        let mut p = collection(Tag::Seq, 3, 300).packed(0, &mut wide);
        let before = wide.len();
        p.set_children(0, Tag::Seq, 4, 400, &mut wide);
        assert_eq!((p.children(0, &wide), wide.len()), (4..404, before));
    }
}
