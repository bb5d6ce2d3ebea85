//! Building a [`Document`] arena: nodes, the shared item and entry arrays, and the strings;
//! then laying it out as a [`Document`] keeps it (mapping values consecutive, keys in them).
//!
//! Both readers push finished values bottom-up. Children of collections that are still open
//! wait on one pending stack per array and move into the document's arrays, contiguous, when
//! their collection closes; so a collection costs no allocation of its own.

use super::{
    Document, FarKey, KeyPlace, KeyWord, Node, NodeId, Packed, StrRef, Tag, id_of, keep_key,
    quoted, same_bytes,
};
use crate::diag::{Diagnostic, FileId, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// Entries of a mapping that is still open. Maps with more entries than this get a hash
/// index for the duplicate-key check.
const MAP_INDEX_THRESHOLD: usize = 16;

/// Room for the nodes of a [`Builder::direct`] arena that wait for their parent to close:
/// those of the open collections, a few dozen in a manifest.
pub(crate) const OPEN_NODES: usize = 64;

pub(crate) const DUPLICATE_HELP: &str = "the API server rejects this with strict field validation; a non-strict read keeps the last value";

/// The duplicate-key warning.
pub(crate) fn duplicate_key(key: &str, at: Span, first: Option<Span>) -> Diagnostic {
    let d = Diagnostic::warning("W1001", format!("duplicate key `{key}` in mapping"))
        .at(at, "duplicate key")
        .with_help(DUPLICATE_HELP);
    match first {
        Some(f) => d.with_label(f, "first defined here"),
        None => d,
    }
}

/// Whether `src` is `text[base..]` itself (not a patched copy of it).
pub(crate) fn is_slice_of(src: &str, text: &str, base: usize) -> bool {
    text.get(base..base + src.len())
        .is_some_and(|t| std::ptr::eq(t.as_ptr(), src.as_ptr()))
}

/// A mapping being built.
#[derive(Debug, Default)]
pub(crate) struct OpenMap {
    base: usize,
    index: Option<HashMap<Box<str>, usize>>,
}

/// A sequence being built.
#[derive(Debug, Default)]
pub(crate) struct OpenSeq {
    base: usize,
}

/// The arena of one document under construction.
pub(crate) struct Builder<'t> {
    /// The text the parser reads: `text[src_base..]` up to its length, or a same-length
    /// patched copy of it.
    src: &'t str,
    src_base: usize,
    /// Whether `src` is a slice of `text` (not a patched copy).
    unpatched: bool,
    /// The file's text, which strings refer to.
    text: &'t str,
    file: FileId,
    nodes: Vec<Node>,
    items: Vec<NodeId>,
    entries: Vec<Entry>,
    owned: String,
    pending_items: Vec<NodeId>,
    pending_entries: Vec<Entry>,
    /// Key spans that do not fit in their node, by node.
    far: HashMap<NodeId, (u32, u32)>,
    /// In direct mode (see [`Builder::direct`]), the document as laid out so far; `nodes`
    /// then holds the nodes whose parent is still open, and ids are places there.
    laid: Laid,
    direct: bool,
}

/// One entry of a mapping under construction: its key and its value's node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) key: StrRef,
    pub(crate) value: NodeId,
}

impl Entry {
    fn new(key: StrRef, value: NodeId) -> Entry {
        Entry { key, value }
    }

    /// Whether the key may be one of `len` bytes (the text decides).
    fn may_be(&self, len: usize) -> bool {
        self.key.len() == len
    }
}

impl<'t> Builder<'t> {
    /// An arena for a document read from `src`, which stands for `text[src_base..]` (the
    /// same bytes, or a patched copy of the same length), with room for about `nodes` nodes.
    pub(crate) fn new(
        src: &'t str,
        src_base: usize,
        text: &'t str,
        file: FileId,
        nodes: usize,
    ) -> Builder<'t> {
        let unpatched = is_slice_of(src, text, src_base);
        Builder {
            src,
            src_base,
            unpatched,
            text,
            file,
            nodes: Vec::with_capacity(nodes),
            items: Vec::with_capacity(nodes / 8),
            entries: Vec::with_capacity(nodes),
            owned: String::new(),
            pending_items: Vec::new(),
            pending_entries: Vec::new(),
            far: HashMap::new(),
            laid: Laid::default(),
            direct: false,
        }
    }

    /// This arena (made with room for [`OPEN_NODES`]), laying the document out as it is
    /// read: when a collection closes, its children move from the nodes waiting for their
    /// parent into the finished arrays, consecutive, with their keys (as
    /// [`Builder::finish`] would lay them out, in another order), so no second pass copies
    /// the document, of about `nodes` nodes. For readers without anchors or merge keys
    /// (JSON, and the YAML that [`super::block`] reads): an id is valid until its parent
    /// closes.
    pub(crate) fn direct(mut self, nodes: usize) -> Builder<'t> {
        self.laid = Laid {
            nodes: Vec::with_capacity(nodes),
            items: Vec::with_capacity(nodes / 8),
            far: Vec::new(),
            wide: Vec::new(),
        };
        self.direct = true;
        self.entries = Vec::new();
        self
    }

    #[inline]
    pub(crate) fn push(&mut self, node: Node) -> NodeId {
        let id = id_of(self.nodes.len());
        self.nodes.push(node);
        id
    }

    pub(crate) fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    #[inline]
    pub(crate) fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id as usize)
    }

    pub(crate) fn span_of(&self, id: NodeId) -> Span {
        self.node(id).map_or_else(Span::default, |n| Span {
            file: self.file,
            start: n.start,
            end: n.end,
        })
    }

    pub(crate) fn key_span_of(&self, id: NodeId) -> Option<Span> {
        let (start, end) = self.node(id)?.key(|| self.far.get(&id).copied())?;
        Some(Span {
            file: self.file,
            start,
            end,
        })
    }

    /// Records that node `id` is the value of the mapping entry whose key is at `key`.
    #[inline(always)]
    pub(crate) fn set_key_span(&mut self, id: NodeId, key: Option<Span>) {
        let Some(n) = self.nodes.get_mut(id as usize) else {
            return;
        };
        let span = key.map(|k| (k.start, k.end));
        let q = span.is_some_and(|s| quoted(self.text.as_bytes(), s));
        match n.set_key(span, q) {
            KeyPlace::Far(ks, ke) => {
                self.far.insert(id, (ks, ke));
            }
            // most keys are near and the table is empty: no hashing then
            KeyPlace::Near if !self.far.is_empty() => {
                self.far.remove(&id);
            }
            KeyPlace::Near => {}
        }
    }

    /// A string the parser produced: a range of the text when it is one, else a copy.
    pub(crate) fn string(&mut self, s: &str) -> StrRef {
        let base = self.src.as_ptr() as usize;
        let at = (s.as_ptr() as usize).wrapping_sub(base);
        if at <= self.src.len() && s.len() <= self.src.len() - at {
            let abs = self.src_base + at;
            if self.unpatched || self.text.get(abs..abs + s.len()) == Some(s) {
                return StrRef::source(abs, s.len());
            }
        }
        self.own(s)
    }

    /// A scalar's string at `span`: the range of the text it was read from when the text
    /// there is the string itself (a plain scalar on one line, a quoted one without escapes
    /// between its quotes), else as [`Builder::string`] gives it. The YAML parser hands
    /// over most scalars as fresh copies; this keeps them out of the document's buffer.
    pub(crate) fn scalar(&mut self, s: &str, span: Span, quoted: bool) -> StrRef {
        let (start, end) = (span.start as usize, span.end as usize);
        let range = if quoted {
            start + 1..end.saturating_sub(1)
        } else {
            start..end
        };
        if range.len() == s.len() {
            if let Some(t) = self.text.get(range.clone()) {
                // a scalar the block reader borrowed is that very range: no bytes compared
                if std::ptr::eq(t.as_ptr(), s.as_ptr()) || t == s {
                    return StrRef::source(range.start, s.len());
                }
            }
        }
        self.string(s)
    }

    /// A string copied into the document's buffer.
    pub(crate) fn own(&mut self, s: &str) -> StrRef {
        let off = self.owned.len();
        self.owned.push_str(s);
        StrRef::owned(off, s.len())
    }

    pub(crate) fn resolve(&self, s: StrRef) -> &str {
        s.resolve(self.text, &self.owned)
    }

    /// The bytes of a string, without the character-boundary checks of
    /// [`Builder::resolve`] (for comparing it with a `str`).
    #[inline]
    fn resolve_bytes(&self, s: StrRef) -> Option<&[u8]> {
        s.bytes(self.text, &self.owned)
    }

    #[inline]
    pub(crate) fn open_seq(&self) -> OpenSeq {
        OpenSeq {
            base: self.pending_items.len(),
        }
    }

    #[inline]
    pub(crate) fn open_map(&self) -> OpenMap {
        OpenMap {
            base: self.pending_entries.len(),
            index: None,
        }
    }

    #[inline]
    pub(crate) fn push_item(&mut self, id: NodeId) {
        self.pending_items.push(id);
    }

    /// Position of `key` among the entries of an open mapping.
    #[inline]
    pub(crate) fn position(&self, map: &OpenMap, key: &str) -> Option<usize> {
        match &map.index {
            Some(ix) => ix.get(key).copied(),
            None => self.scan_open(map, key.as_bytes()),
        }
    }

    /// Position of the key of bytes `name` among the entries of an open mapping, looked
    /// for one entry at a time (the bytes are enough to compare: a key is a whole string).
    #[inline]
    fn scan_open(&self, map: &OpenMap, name: &[u8]) -> Option<usize> {
        let len = name.len();
        self.pending_entries.get(map.base..)?.iter().position(|e| {
            e.may_be(len)
                && self
                    .resolve_bytes(e.key)
                    .is_some_and(|k| same_bytes(k, name))
        })
    }

    /// Adds an entry to an open mapping; on a duplicate key the earlier entry is removed
    /// and its value returned.
    #[inline(always)]
    pub(crate) fn insert(
        &mut self,
        map: &mut OpenMap,
        key: StrRef,
        value: NodeId,
    ) -> Option<NodeId> {
        let found = match &map.index {
            Some(ix) => ix.get(self.resolve(key)).copied(),
            None => self.scan_open(map, self.resolve_bytes(key).unwrap_or(b"")),
        };
        let previous = match found {
            Some(pos) => self.remove_entry(map, pos),
            None => None,
        };
        self.pending_entries.push(Entry::new(key, value));
        let len = self.pending_entries.len() - map.base;
        if map.index.is_some() || len > MAP_INDEX_THRESHOLD {
            self.index_entry(map, key, len);
        }
        previous
    }

    /// Removes the entry at `pos` of an open mapping (a duplicate key): its value.
    #[cold]
    #[inline(never)]
    fn remove_entry(&mut self, map: &mut OpenMap, pos: usize) -> Option<NodeId> {
        map.index = None;
        let at = map.base + pos;
        (at < self.pending_entries.len()).then(|| self.pending_entries.remove(at).value)
    }

    /// Keeps the hash index of a large open mapping up to date with its entry `len - 1`
    /// (`key`), making it when the mapping first grows past the threshold.
    #[cold]
    #[inline(never)]
    fn index_entry(&mut self, map: &mut OpenMap, key: StrRef, len: usize) {
        if let Some(ix) = &mut map.index {
            ix.insert(key.resolve(self.text, &self.owned).into(), len - 1);
        } else {
            let entries = self.pending_entries.get(map.base..).unwrap_or(&[]);
            map.index = Some(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.key.resolve(self.text, &self.owned).into(), i))
                    .collect(),
            );
        }
    }

    /// Entries of a finished mapping (for merge keys).
    pub(crate) fn entries_of(&self, id: NodeId) -> Vec<Entry> {
        match self.node(id) {
            Some(n) if n.tag() == Tag::Map => {
                self.entries.get(n.children()).unwrap_or(&[]).to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// Items of a finished sequence.
    pub(crate) fn items_of(&self, id: NodeId) -> &[NodeId] {
        match self.node(id) {
            Some(n) if n.tag() == Tag::Seq => self.items.get(n.children()).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Closes a sequence: its items become a range of the items array.
    #[inline]
    pub(crate) fn close_seq(&mut self, node: NodeId, seq: OpenSeq) {
        if self.direct {
            self.settle_children(node, seq.base, Tag::Seq);
            return;
        }
        let first = self.items.len();
        let base = seq.base.min(self.pending_items.len());
        self.items
            .extend_from_slice(self.pending_items.get(base..).unwrap_or(&[]));
        self.pending_items.truncate(base);
        let len = self.items.len() - first;
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.set_children(Tag::Seq, first, len);
        }
    }

    /// Closes a mapping: its entries become a range of the entries array.
    #[inline]
    pub(crate) fn close_map(&mut self, node: NodeId, map: OpenMap) {
        if self.direct {
            self.settle_children(node, map.base, Tag::Map);
            return;
        }
        let first = self.entries.len();
        let base = map.base.min(self.pending_entries.len());
        self.entries
            .extend_from_slice(self.pending_entries.get(base..).unwrap_or(&[]));
        self.pending_entries.truncate(base);
        let len = self.entries.len() - first;
        if let Some(n) = self.nodes.get_mut(node as usize) {
            n.set_children(Tag::Map, first, len);
        }
    }

    /// Copies the subtree at `src` to a new subtree located at `at` (an alias). Every node
    /// copied counts against `budget`; `None` when it runs out or the arena reaches `limit`.
    pub(crate) fn copy_tree(
        &mut self,
        src: NodeId,
        at: Span,
        limit: usize,
        budget: &mut usize,
    ) -> Option<NodeId> {
        let mut root = *self.node(src)?;
        root.start = at.start;
        root.end = at.end;
        root.set_key(None, false);
        let root_id = self.push(root);
        let mut work = vec![(src, root_id)];
        while let Some((s, d)) = work.pop() {
            let Some(&n) = self.node(s) else { continue };
            match n.tag() {
                Tag::Seq => {
                    let kids = self.items.get(n.children()).unwrap_or(&[]).to_vec();
                    let mut copies = Vec::with_capacity(kids.len());
                    for c in kids {
                        let nd = self.copy_one(c, limit, budget)?;
                        copies.push(nd);
                        work.push((c, nd));
                    }
                    let first = self.items.len();
                    self.items.extend_from_slice(&copies);
                    self.node_mut(d)?
                        .set_children(Tag::Seq, first, copies.len());
                }
                Tag::Map => {
                    let kids = self.entries.get(n.children()).unwrap_or(&[]).to_vec();
                    let mut copies = Vec::with_capacity(kids.len());
                    for e in kids {
                        let nd = self.copy_one(e.value, limit, budget)?;
                        copies.push(Entry { value: nd, ..e });
                        work.push((e.value, nd));
                    }
                    let first = self.entries.len();
                    self.entries.extend_from_slice(&copies);
                    self.node_mut(d)?
                        .set_children(Tag::Map, first, copies.len());
                }
                _ => {}
            }
        }
        Some(root_id)
    }

    fn copy_one(&mut self, c: NodeId, limit: usize, budget: &mut usize) -> Option<NodeId> {
        if self.nodes.len() >= limit || *budget == 0 {
            return None;
        }
        *budget -= 1;
        let node = *self.node(c)?;
        let far = self.far.get(&c).copied();
        let id = self.push(node);
        if let Some(k) = far {
            self.far.insert(id, k);
        }
        Some(id)
    }

    /// Direct mode: moves the children of collection `node` (the items or entries from
    /// `base` of the pending arrays) into the laid-out arrays, and with them every node
    /// above `node` (a value a duplicate key replaced is dropped).
    fn settle_children(&mut self, node: NodeId, base: usize, tag: Tag) {
        let Builder {
            text,
            nodes,
            owned,
            pending_items,
            pending_entries,
            far,
            laid,
            ..
        } = self;
        let placer = Placer {
            text,
            nodes,
            owned,
            far,
        };
        let first_node = laid.nodes.len();
        let first = if tag == Tag::Seq {
            for &c in pending_items.get(base..).unwrap_or(&[]) {
                placer.place(laid, c, None);
            }
            let first = laid.items.len();
            laid.items.extend((first_node..laid.nodes.len()).map(id_of));
            pending_items.truncate(base);
            first
        } else {
            for e in pending_entries.get(base..).unwrap_or(&[]) {
                placer.place(laid, e.value, Some(e.key));
            }
            pending_entries.truncate(base);
            first_node
        };
        let len = laid.nodes.len() - first_node;
        nodes.truncate(node as usize + 1);
        if let Some(n) = nodes.get_mut(node as usize) {
            n.set_children(tag, first, len);
        }
    }

    /// The finished document (its text and position are filled in by the caller).
    ///
    /// The nodes are laid out again from the root, depth first, with the values of each
    /// mapping consecutive: a mapping is then a range of nodes, and each value holds its
    /// key (as its span, or in the far-key table when the span is far or its text is not
    /// the key), so no array of entries is kept. Nodes the root does not reach (a value a
    /// duplicate key replaced, a complex key, the source of a merge key) are left out.
    /// Every node has one parent: an alias is a copy, and a merge key's values are the
    /// children of a copy or of a mapping written in place, which nothing else holds.
    pub(crate) fn finish(mut self, root: NodeId, text: &Arc<String>) -> Document {
        if self.direct {
            let mut laid = std::mem::take(&mut self.laid);
            let root = self.placer().place(&mut laid, root, None);
            return Document {
                nodes: trimmed(laid.nodes),
                wide: trimmed(laid.wide),
                items: trimmed(laid.items),
                far_keys: laid.far,
                owned: self.owned,
                text: Arc::clone(text),
                root,
                file: self.file,
                index: 0,
                helm_source: None,
                aliased: false,
            };
        }
        let mut out = Laid {
            nodes: Vec::with_capacity(self.nodes.len()),
            items: Vec::with_capacity(self.items.len()),
            far: Vec::new(),
            wide: Vec::new(),
        };
        let placer = self.placer();
        let new_root = placer.place(&mut out, root, None);
        let mut work = vec![(root, new_root)];
        let mut kids = Vec::new();
        while let Some((old, new)) = work.pop() {
            let Some(n) = self.node(old) else { continue };
            let (tag, range) = (n.tag(), n.children());
            if !matches!(tag, Tag::Seq | Tag::Map) {
                continue;
            }
            kids.clear();
            let first_node = out.nodes.len();
            if tag == Tag::Seq {
                for &c in self.items.get(range.clone()).unwrap_or(&[]) {
                    kids.push((c, placer.place(&mut out, c, None)));
                }
            } else {
                for e in self.entries.get(range.clone()).unwrap_or(&[]) {
                    kids.push((e.value, placer.place(&mut out, e.value, Some(e.key))));
                }
            }
            work.extend(kids.iter().rev());
            let first = if tag == Tag::Seq {
                let first = out.items.len();
                out.items.extend(kids.iter().map(|k| k.1));
                first
            } else {
                first_node
            };
            if let Some(n) = out.nodes.get_mut(new as usize) {
                n.set_children(new, tag, first, range.len(), &mut out.wide);
            }
        }
        Document {
            nodes: trimmed(out.nodes),
            wide: trimmed(out.wide),
            items: trimmed(out.items),
            far_keys: out.far,
            owned: self.owned,
            text: Arc::clone(text),
            root: new_root,
            file: self.file,
            index: 0,
            helm_source: None,
            aliased: false,
        }
    }

    /// What [`Placer::place`] reads.
    fn placer(&self) -> Placer<'_> {
        Placer {
            text: self.text,
            nodes: &self.nodes,
            owned: &self.owned,
            far: &self.far,
        }
    }
}

/// The parts of a [`Builder`] that laying out its nodes reads.
struct Placer<'a> {
    text: &'a str,
    nodes: &'a [Node],
    owned: &'a str,
    far: &'a HashMap<NodeId, (u32, u32)>,
}

impl Placer<'_> {
    /// Appends a copy of node `old` to the laid-out nodes, with `key` as its key when it
    /// is the value of a mapping entry: its id there.
    #[inline(always)]
    fn place(&self, out: &mut Laid, old: NodeId, key: Option<StrRef>) -> NodeId {
        let id = id_of(out.nodes.len());
        let mut node = self.nodes.get(old as usize).copied().unwrap_or_default();
        // most keys were kept in the node as a range of the text that is the key's string
        if let (Some((ts, te)), Some(k)) = (node.near_key_text(), key)
            && k.is_source_range(ts as usize..te as usize)
        {
            out.nodes.push(node.packed(id, &mut out.wide));
            return id;
        }
        // (a direct arena reuses ids, but a node reads the table only for a key span set
        // on it, which replaced what an earlier node with its id left there)
        let span = node.key(|| self.far.get(&old).copied());
        let bytes = key.and_then(|k| k.bytes(self.text, self.owned));
        if let Some(far) = keep_key(self.text.as_bytes(), &mut node, id, span, key, bytes) {
            out.far.push(far);
        }
        out.nodes.push(node.packed(id, &mut out.wide));
        id
    }
}

/// The arrays of a document being laid out by [`Builder::finish`]. Nodes are appended in
/// order, so the far keys are sorted by node as they are pushed.
#[derive(Default)]
struct Laid {
    nodes: Vec<Packed>,
    items: Vec<NodeId>,
    far: Vec<FarKey>,
    /// The payloads that do not fit in their packed node.
    wide: Vec<u64>,
}

/// An array with its unused reserve given back: a small one (one of the many documents of
/// a stream, whose slack would share pages with live data) as soon as a quarter of it is
/// unused, a large one when it is mostly empty (its untouched reserve costs no memory).
fn trimmed<T>(mut v: Vec<T>) -> Vec<T> {
    let (len, cap) = (v.len(), v.capacity());
    let small = cap * std::mem::size_of::<T>() <= 1 << 20;
    if (small && cap > len + len / 4 + 8) || cap > 2 * len + 64 {
        v.shrink_to_fit();
    }
    v
}
