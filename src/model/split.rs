//! Parallel reading of one large `List` export or YAML stream.
//!
//! `kubectl get -o yaml` and `-o json` write a whole cluster as one document: a `List` whose
//! `items` hold every object. Read by one parser, that document would keep one core busy
//! while the other waits. This module finds the boundaries of the items without parsing
//! them (column-0 `- ` lines in YAML; in JSON, the layout of the export — a comma, the
//! first item's leading white space with its line break, an opening bracket — checked by
//! the pieces' parse, else a structural scan of strings and brackets, on several cores for
//! a large array), cuts the items into pieces of a few megabytes, parses
//! the pieces in parallel, parses the rest of the document (its "skeleton": `apiVersion`,
//! `kind`, `metadata`, with `items` empty) and joins the arenas into the one [`Document`] a
//! sequential read gives: the same values, spans, key spans, styles and warnings
//! (`tests/split_load.rs` checks this on every shape). A piece that does not parse whole
//! (a cut that was not between two items) makes the read sequential, so where the pieces
//! are cut decides only how fast the read is, never what it gives.
//!
//! A YAML stream of many documents (`helm template` output) is cut at column-0 `---` lines
//! instead; its pieces' documents are concatenated and renumbered.
//!
//! Anything unusual (anchors and aliases in a `List`, a syntax error, a warning outside the
//! items) makes [`parse`] return `None`, and the caller reads the text sequentially, so
//! diagnostics are always those of the sequential reader.

use super::load::Parsed;
use super::{Document, FarKey, KeyWord, Limits, NodeId, StrRef, Tag, id_of};
use crate::diag::{Diagnostic, FileId};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The pieces of a `List`'s items region and the region itself.
#[derive(Debug, PartialEq)]
struct Layout {
    /// The bytes the skeleton leaves out: the items (YAML) or what is between `[` and `]`
    /// (JSON).
    region: Range<usize>,
    /// The pieces, in order, covering the items.
    pieces: Vec<Range<usize>>,
}

/// Target size of one piece: large enough that per-piece costs vanish, small enough that
/// two cores stay busy to the end.
const PIECE_BYTES: usize = 2 << 20;

/// Reads a large `List` export or YAML stream in parallel pieces; `None` when the text is
/// neither (or is smaller than `min_bytes`), and the caller reads it sequentially.
pub(crate) fn parse(
    shared: &Arc<String>,
    file: FileId,
    limits: &Limits,
    json: bool,
    min_bytes: usize,
) -> Option<Parsed> {
    let text = shared.as_str();
    // YAML on one thread too: the pieces are then read one after the other, and the
    // sequential reader's nodes of the whole file never exist beside the packed ones (at
    // 100k objects the load peaked 140 MB higher). JSON's sequential reader has no such
    // peak, and reads a little faster on one thread than in pieces
    let threads = rayon::current_num_threads();
    if text.len() < min_bytes.max(1) || (json && threads < 2) {
        return None;
    }
    let piece = (text.len() / (4 * threads)).clamp(1, PIECE_BYTES);
    if json {
        // the items cut where the export's layout says they start; where that guess was
        // wrong a piece does not parse whole, and the structural scan cuts them instead
        let guess = json_items_open(text)
            .and_then(|open| json_layout_guess(text, open, piece))
            .and_then(|l| read_layout(shared, file, limits, true, l, threads));
        if guess.is_some() {
            return guess;
        }
        let layout = json_layout(text, piece, 2 * threads)?;
        return read_layout(shared, file, limits, true, layout, threads);
    }
    let layout = match yaml_layout(text, piece) {
        Some(l) => l,
        None => return parse_stream(shared, file, limits, piece, threads),
    };
    read_layout(shared, file, limits, false, layout, threads)
}

/// Reads a `List` whose items region is cut as `layout` says: the skeleton, then the
/// pieces in parallel, joined. `None` when a piece or the skeleton does not read whole
/// and clean.
fn read_layout(
    shared: &Arc<String>,
    file: FileId,
    limits: &Limits,
    json: bool,
    layout: Layout,
    threads: usize,
) -> Option<Parsed> {
    let text = shared.as_str();
    if layout.pieces.len() < 2 {
        return None;
    }
    // The skeleton: the text without the items region, then shifted back into place.
    let mut skeleton = String::with_capacity(text.len() - layout.region.len());
    skeleton.push_str(text.get(..layout.region.start)?);
    skeleton.push_str(text.get(layout.region.end..)?);
    let skel = if json {
        super::json::parse(&Arc::new(skeleton), file, limits)
    } else {
        super::yaml::parse(&Arc::new(skeleton), file, limits)
    };
    if !clean(&skel, false) {
        return None;
    }
    let mut doc = skel.docs.into_iter().next()?.ok()?;
    let cut = u32::try_from(layout.region.start).ok()?;
    let gap = u32::try_from(layout.region.len()).ok()?;
    shift_skeleton(&mut doc, cut, gap, shared);
    let items_node = doc.get(doc.root, "items")?;
    let expected = if json { Tag::Seq } else { Tag::Null };
    if doc.raw(items_node).map(|n| n.tag()) != Some(expected) {
        return None;
    }
    // Items sit two collections deep (the `List` and its `items`); a piece starts at its
    // items' sequence (YAML) or at the items themselves (JSON).
    let mut piece_limits = *limits;
    piece_limits.max_depth = limits.max_depth.saturating_sub(if json { 2 } else { 1 });
    piece_limits.max_alias_nodes = limits.max_alias_nodes / layout.pieces.len();
    // a little more than the nodes there will be (measured: one per 18 bytes of JSON, one
    // per 22 of YAML), as the sequential readers reserve: what is not used is never touched
    let nodes = layout.region.len() / if json { 16 } else { 20 };
    doc.nodes.reserve(nodes);
    // the items: one per 8 nodes in a cluster export, and each piece's objects twice (in
    // its own sequence, then in `items`): at an eighth, the last piece's append outgrew
    // the room, and the list was copied into one twice its size (1M objects: 29 MB)
    doc.items.reserve(nodes / 6);
    // only a few piece arenas exist next to the joined one (see `in_order`)
    let mut join = Join {
        doc,
        diagnostics: Vec::new(),
        items: Vec::new(),
        span: None,
        objects: Vec::new(),
    };
    in_order(
        &layout.pieces,
        threads,
        |r| {
            let p = if json {
                super::json::parse_items(shared, r.clone(), file, &piece_limits)
            } else {
                super::yaml::parse_piece(shared, r.clone(), file, &piece_limits)
            };
            // the items told objects or not here, where the piece was just read: found
            // again among a million items in the joined document, each costs a few misses
            // of the processor's caches
            let objects = match p.docs.first() {
                Some(Ok(piece)) => piece
                    .seq(piece.root)
                    .iter()
                    .map(|&i| super::load::is_object(piece, i))
                    .collect(),
                _ => Vec::new(),
            };
            (p, objects)
        },
        |(p, objects)| join.push(p, objects, json),
    )?;
    join.finish(items_node, layout.pieces.len())
}

/// Reads a YAML stream of many documents (`helm template` output, a concatenation of
/// manifests) in pieces cut at `---` lines, in parallel; `None` when it has too few
/// documents or a piece has an error (then the sequential reader reports it exactly).
fn parse_stream(
    shared: &Arc<String>,
    file: FileId,
    limits: &Limits,
    piece: usize,
    threads: usize,
) -> Option<Parsed> {
    let pieces = stream_pieces(shared, piece);
    if pieces.len() < 2 {
        return None;
    }
    let mut piece_limits = *limits;
    piece_limits.max_alias_nodes = limits.max_alias_nodes / pieces.len();
    let mut out = Parsed::default();
    in_order(
        &pieces,
        threads,
        |r| piece_of_stream(shared, r, file, &piece_limits),
        |p| {
            if p.diagnostics.iter().any(Diagnostic::is_error) {
                return None;
            }
            // a document's index counts the documents of the pieces before it
            let offset = u32::try_from(out.docs.len()).ok()?;
            out.docs.extend(p.docs.into_iter().map(|d| {
                d.map(|mut doc| {
                    doc.index = doc.index.saturating_add(offset);
                    doc
                })
            }));
            out.diagnostics.extend(p.diagnostics);
            out.aliases += p.aliases;
            Some(())
        },
    )?;
    out.pieces = pieces.len();
    Some(out)
}

/// Parses one piece of a stream. A piece before the last also reads the next piece's
/// `---` line: the parser places the end of a document (and an empty value just before
/// it) at the next marker, so it must see that marker to give the spans a sequential
/// read gives. The document that marker starts, and any warning on its line, belong to
/// the next piece and are dropped here; an error is kept, wherever it is (the parser may
/// place the error of a document at the marker after it), so the stream falls back to
/// the sequential reader.
fn piece_of_stream(
    shared: &Arc<String>,
    r: &Range<usize>,
    file: FileId,
    limits: &Limits,
) -> Parsed {
    let text = shared.as_str();
    if r.end >= text.len() {
        return super::yaml::parse_piece(shared, r.clone(), file, limits);
    }
    let line_end = text
        .get(r.end..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| r.end + i + 1);
    let mut p = super::yaml::parse_piece(shared, r.start..line_end, file, limits);
    p.docs.pop();
    let cut = u32::try_from(r.end).unwrap_or(u32::MAX);
    p.diagnostics
        .retain(|d| d.is_error() || d.primary.as_ref().is_none_or(|l| l.span.start < cut));
    p
}

/// Pieces of about `piece` bytes of a YAML stream, each starting at a column-0 `---`
/// line (a document marker: it cannot occur inside a scalar). The first piece is only cut
/// off once it holds a document (not only comments or directives, which a sequential
/// read would not count as one).
pub(crate) fn stream_pieces(text: &str, piece: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut has_document = false;
    for ls in line_starts(text) {
        let marker = bytes.get(ls..ls + 3) == Some(b"---")
            && matches!(bytes.get(ls + 3), None | Some(b'\n' | b'\r' | b' ' | b'\t'));
        if marker && has_document && ls - start >= piece {
            pieces.push(start..ls);
            start = ls;
        }
        let line = text.get(ls..).unwrap_or("");
        let first = line.trim_start_matches([' ', '\t']).bytes().next();
        has_document |= marker || !matches!(first, None | Some(b'#' | b'%' | b'\n' | b'\r'));
    }
    pieces.push(start..text.len());
    pieces
}

/// Parses `pieces` in parallel and hands each result to `take` in order; stops at the
/// first `None` from `take`.
///
/// Each thread takes the next piece, parses it, leaves the result, and then hands over
/// every result that is next in order, unless another thread is doing so: no thread waits
/// for the others (batches of pieces, each waiting for its slowest piece and its hand-over,
/// left 3 ms of every 26 idle on 2 threads). A thread more than a few pieces ahead of the
/// hand-over waits for it, so only that many results exist at once. Neither `parse` nor
/// `take` may wait on the thread pool (a thread waiting there could be given another
/// piece's work, which would wait for the first).
fn in_order<T: Send>(
    pieces: &[Range<usize>],
    threads: usize,
    parse: impl Fn(&Range<usize>) -> T + Sync,
    take: impl FnMut(T) -> Option<()> + Send,
) -> Option<()> {
    if threads < 2 {
        let mut take = take;
        return pieces.iter().try_for_each(|r| take(parse(r)));
    }
    let line = Line {
        ready: Mutex::new(pieces.iter().map(|_| None).collect()),
        taker: Mutex::new(take),
        next: AtomicUsize::new(0),
        taken: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        window: 4 * threads,
    };
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| line.work(pieces, &parse));
        }
    });
    // every piece is parsed: what is left is handed over here
    line.hand_over();
    (!line.failed.load(Ordering::Acquire) && line.taken.load(Ordering::Acquire) == pieces.len())
        .then_some(())
}

/// The pieces of [`in_order`] between their parse and their hand-over.
struct Line<T, F> {
    /// The results parsed and not yet handed over, by piece.
    ready: Mutex<Vec<Option<T>>>,
    /// The hand-over, held by one thread at a time.
    taker: Mutex<F>,
    /// The next piece to parse.
    next: AtomicUsize,
    /// The number of pieces handed over.
    taken: AtomicUsize,
    /// Whether a hand-over failed.
    failed: AtomicBool,
    /// How far ahead of the hand-over a thread may parse.
    window: usize,
}

impl<T: Send, F: FnMut(T) -> Option<()> + Send> Line<T, F> {
    /// A thread's work: the next piece, parsed, left and handed over, until none is left.
    fn work(&self, pieces: &[Range<usize>], parse: &(impl Fn(&Range<usize>) -> T + Sync)) {
        loop {
            if self.failed.load(Ordering::Acquire) {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::AcqRel);
            let Some(piece) = pieces.get(i) else { return };
            while i >= self.taken.load(Ordering::Acquire) + self.window {
                if self.failed.load(Ordering::Acquire) {
                    return;
                }
                self.hand_over();
                std::thread::yield_now();
            }
            let result = parse(piece);
            if let Ok(mut ready) = self.ready.lock()
                && let Some(slot) = ready.get_mut(i)
            {
                *slot = Some(result);
            }
            self.hand_over();
        }
    }

    /// Hands over the results that are next in order, unless another thread is doing so.
    fn hand_over(&self) {
        while !self.failed.load(Ordering::Acquire) {
            let Ok(mut take) = self.taker.try_lock() else {
                // the holder looks again after letting go
                return;
            };
            while let Some(result) = self.take_next() {
                if take(result).is_none() {
                    self.failed.store(true, Ordering::Release);
                    return;
                }
                self.taken.fetch_add(1, Ordering::AcqRel);
            }
            drop(take);
            // a result left while this thread held the hand-over, by a thread that then
            // found it held, is handed over now
            if !self.next_is_ready() {
                return;
            }
        }
    }

    /// The next result in order, when it is parsed.
    fn take_next(&self) -> Option<T> {
        let i = self.taken.load(Ordering::Acquire);
        self.ready.lock().ok()?.get_mut(i)?.take()
    }

    fn next_is_ready(&self) -> bool {
        let i = self.taken.load(Ordering::Acquire);
        self.ready
            .lock()
            .is_ok_and(|r| r.get(i).is_some_and(Option::is_some))
    }
}

/// Whether a parse gave exactly one document, without errors or alias expansion.
fn clean(p: &Parsed, allow_warnings: bool) -> bool {
    p.docs.len() == 1
        && p.docs.iter().all(Result::is_ok)
        && p.aliases == 0
        && p.diagnostics
            .iter()
            .all(|d| allow_warnings && !d.is_error())
}

/// The skeleton document with the pieces appended so far.
struct Join {
    doc: Document,
    diagnostics: Vec<Diagnostic>,
    /// The items of the pieces, renumbered.
    items: Vec<NodeId>,
    /// From the start of the first piece's sequence to the end of the last (YAML).
    span: Option<(u32, u32)>,
    /// Whether each item is a Kubernetes object, as the pieces told.
    objects: Vec<bool>,
}

impl Join {
    /// Appends the next piece, with whether each of its items is an object; `None` when
    /// it cannot be joined.
    fn push(&mut self, p: Parsed, objects: Vec<bool>, json: bool) -> Option<()> {
        if !clean(&p, true) {
            return None;
        }
        self.diagnostics.extend(p.diagnostics);
        let piece = p.docs.into_iter().next()?.ok()?;
        // a piece's root is the sequence of its items
        let base = u32::try_from(self.doc.nodes.len()).ok()?;
        let items = piece.seq(piece.root);
        if objects.len() != items.len() {
            return None;
        }
        self.objects.extend(objects);
        self.items
            .extend(items.iter().map(|&i| i.saturating_add(base)));
        if !json {
            let r = piece.raw(piece.root)?;
            self.span = Some(self.span.map_or((r.start, r.end), |(s, _)| (s, r.end)));
        }
        append(&mut self.doc, piece)
    }

    /// Makes the skeleton's `items` the sequence of every piece's items.
    fn finish(mut self, items_node: NodeId, pieces: usize) -> Option<Parsed> {
        let first = self.doc.items.len();
        self.doc.items.extend_from_slice(&self.items);
        // the key span is kept relative to the node's start: read it before the start moves
        let (span, key) = (self.doc.key_range(items_node), self.doc.key_ref(items_node));
        self.doc
            .set_children(items_node, Tag::Seq, first, self.items.len());
        let n = self.doc.nodes.get_mut(items_node as usize)?;
        if let Some((start, end)) = self.span {
            n.start = start;
            n.end = end;
        }
        // when `items` is the last key, the `List` itself ends where the items do
        let items_end = n.end;
        self.doc.set_key(items_node, span, key);
        let root = self.doc.nodes.get_mut(self.doc.root as usize)?;
        root.end = root.end.max(items_end);
        Some(Parsed {
            docs: vec![Ok(self.doc)],
            diagnostics: self.diagnostics,
            aliases: 0,
            pieces,
            objects: Some(self.objects),
        })
    }
}

/// Moves the skeleton's offsets past `cut` by `gap`, so they point into the whole text.
fn shift_skeleton(doc: &mut Document, cut: u32, gap: u32, shared: &Arc<String>) {
    let shift = |x: u32| if x >= cut { x.saturating_add(gap) } else { x };
    let shift_str = |s: &mut StrRef| {
        if !s.is_owned() && s.off >= cut {
            s.off = s.off.saturating_add(gap);
        }
    };
    let mut keys = Vec::new();
    for i in 0..doc.nodes.len() {
        let id = id_of(i);
        // the key span is kept relative to the node's start: read it before the start moves
        let span = doc
            .key_range(id)
            .map(|(ks, ke)| (shift(ks), shift(ks).saturating_add(ke.saturating_sub(ks))));
        let key = doc.key_ref(id).map(|mut k| {
            shift_str(&mut k);
            k
        });
        // a string may be its span's text: read it before the span moves
        let string = (doc.raw(id).map(|n| n.tag()) == Some(Tag::Str)).then(|| {
            let (off, len) = super::unpack(doc.data_of(id));
            let mut s = StrRef { off, len };
            shift_str(&mut s);
            s
        });
        let Some(n) = doc.nodes.get_mut(id as usize) else {
            continue;
        };
        n.start = shift(n.start);
        n.end = shift(n.end);
        if let Some(s) = string {
            doc.set_data_of(id, super::pack(s.off, s.len));
        }
        if span.is_some() || key.is_some() {
            keys.push((id, span, key));
        }
    }
    // a key is told near or far against the text its span is in: the whole text
    doc.text = Arc::clone(shared);
    for (id, span, key) in keys {
        doc.set_key(id, span, key);
    }
}

/// Appends a piece's arena to `doc`, renumbering nodes, items, far keys and owned strings.
fn append(doc: &mut Document, piece: Document) -> Option<()> {
    let node_base = u32::try_from(doc.nodes.len()).ok()?;
    let item_base = u32::try_from(doc.items.len()).ok()?;
    let owned_base = u32::try_from(doc.owned.len()).ok()?;
    let owned = |s: StrRef| {
        if s.is_owned() {
            StrRef {
                off: s.off.saturating_add(owned_base),
                len: s.len,
            }
        } else {
            s
        }
    };
    doc.nodes.reserve(piece.nodes.len());
    for (i, n) in piece.nodes.iter().enumerate() {
        let (old, new) = (id_of(i), id_of(i).saturating_add(node_base));
        // a mapping's packed payload is relative to the node, and a string that is its
        // span's text has none: both move as they are
        let data = match n.tag() {
            Tag::Map if !n.is_wide() => None,
            Tag::Seq | Tag::Map => {
                let r = n.children(old, &piece.wide);
                let base = if n.tag() == Tag::Seq {
                    item_base
                } else {
                    node_base
                };
                Some(super::pack(
                    (r.start as u32).saturating_add(base),
                    r.len() as u32,
                ))
            }
            Tag::Str if n.is_wide() => {
                let s = owned(n.str_ref(old, &piece.wide));
                Some(super::pack(s.off, s.len))
            }
            _ if n.is_wide() => Some(n.data(old, &piece.wide)),
            _ => None,
        };
        let mut n = *n;
        if let Some(data) = data {
            n.repack(new, data, &mut doc.wide);
        }
        doc.nodes.push(n);
    }
    // the piece's nodes come after every node of `doc`: its far keys stay sorted
    doc.far_keys.extend(piece.far_keys.iter().map(|k| FarKey {
        id: k.id.saturating_add(node_base),
        key: owned(k.key),
        ..*k
    }));
    doc.items
        .extend(piece.items.iter().map(|&i| i.saturating_add(node_base)));
    doc.owned.push_str(&piece.owned);
    doc.aliased |= piece.aliased;
    Some(())
}

/// Offsets of the starts of lines.
fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
}

/// The items region of a YAML `List` written the way `kubectl` writes it: a column-0
/// `items:` line followed by column-0 `- ` items, with only plain top-level keys around it.
fn yaml_layout(text: &str, piece: usize) -> Option<Layout> {
    #[derive(PartialEq)]
    enum State {
        Before,
        Expect,
        In,
        After,
    }
    let bytes = text.as_bytes();
    let mut state = State::Before;
    let mut region = 0..text.len();
    let mut pieces = Vec::new();
    let mut piece_start = 0;
    for ls in line_starts(text) {
        let Some(&first) = bytes.get(ls) else { break };
        if matches!(first, b' ' | b'\t' | b'\n' | b'\r' | b'#') {
            continue;
        }
        let line = text.get(ls..).unwrap_or("");
        let is_item = first == b'-' && matches!(bytes.get(ls + 1), Some(b' ' | b'\n' | b'\r'));
        let is_key = !is_item && plain_key(line);
        match state {
            State::Before if is_key && is_items_key(line) => state = State::Expect,
            State::Before | State::After if is_key => {}
            State::Expect if is_item => {
                region.start = ls;
                piece_start = ls;
                state = State::In;
            }
            State::In if is_item => {
                if ls - piece_start >= piece {
                    pieces.push(piece_start..ls);
                    piece_start = ls;
                }
            }
            State::In if is_key => {
                region.end = ls;
                state = State::After;
            }
            _ => return None,
        }
    }
    if !matches!(state, State::In | State::After) {
        return None;
    }
    pieces.push(piece_start..region.end);
    Some(Layout { region, pieces })
}

/// A line that starts with a plain `key:` (letters, digits, `_`, `-`, `.`, `/`).
fn plain_key(line: &str) -> bool {
    let key_len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        .count();
    key_len > 0
        && line.as_bytes().get(key_len) == Some(&b':')
        && matches!(
            line.as_bytes().get(key_len + 1),
            None | Some(b' ' | b'\n' | b'\r')
        )
}

/// `items:` with nothing after it but spaces or a comment.
fn is_items_key(line: &str) -> bool {
    let end = line.find('\n').unwrap_or(line.len());
    let rest = line.get(6..end).unwrap_or("").trim();
    line.starts_with("items:") && (rest.is_empty() || rest.starts_with('#'))
}

/// A structural scan of JSON: strings and brackets only, no values built.
struct Scan<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Skips a string at its opening quote; returns its contents' range.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.pos + 1;
        let mut i = start;
        loop {
            i += memchr::memchr2(b'"', b'\\', self.b.get(i..)?)?;
            if self.b.get(i) == Some(&b'\\') {
                i += 2;
            } else {
                self.pos = i + 1;
                return Some(start..i);
            }
        }
    }

    /// Skips one value.
    fn value(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

/// The items of a JSON `List` cut without scanning them, from the layout exports have:
/// every item starts after a comma and the same white space as the first item after the
/// `[` (a line break and the items' indentation, as `kubectl get -o json` writes them, or
/// a line break alone, one item a line), then the same opening bracket. A line break never
/// occurs inside a JSON string and deeper values are indented further, so the pattern
/// finds item starts only; should it find another place, the piece before it does not
/// parse whole, and [`parse`] falls back to the structural scan (a text with an error in
/// its items is so cut and read twice before the sequential reader reports the error).
/// The last piece's items are read structurally, to the array's `]`. `None` when the first
/// item is not a collection on a line of its own, or fewer than two pieces come out.
fn json_layout_guess(text: &str, open: usize, piece: usize) -> Option<Layout> {
    let b = text.as_bytes();
    let start = open + 1;
    let mut s = Scan { b, pos: start };
    s.ws();
    let first = s.pos;
    let lead = b.get(start..first)?;
    let head = *b.get(first)?;
    if !lead.contains(&b'\n') || !matches!(head, b'{' | b'[') {
        return None;
    }
    let mut pattern = Vec::with_capacity(lead.len() + 2);
    pattern.push(b',');
    pattern.extend_from_slice(lead);
    pattern.push(head);
    let finder = memchr::memmem::Finder::new(&pattern);
    let mut pieces = Vec::new();
    let mut piece_start = first;
    while let Some(at) = b
        .get(piece_start + piece..)
        .and_then(|rest| finder.find(rest))
    {
        let comma = piece_start + piece + at;
        pieces.push(piece_start..comma);
        piece_start = comma + pattern.len() - 1;
    }
    if pieces.is_empty() {
        return None;
    }
    // the last piece's items read by the one-pass scan, from its first item (the scan
    // starts after the byte before it) to the array's `]`, as one piece
    let last = json_layout_from(text, piece_start.checked_sub(1)?, usize::MAX)?;
    pieces.extend(last.pieces);
    Some(Layout {
        region: start..last.region.end,
        pieces,
    })
}

/// The items of a JSON object's top-level `items` array: found by [`json_layout_in`] on
/// `chunks` cores when the array is large enough to pay for it (and the text allows it),
/// else by one pass.
fn json_layout(text: &str, piece: usize, chunks: usize) -> Option<Layout> {
    let open = json_items_open(text)?;
    let parallel = chunks >= 2 && text.len().saturating_sub(open) >= PARALLEL_LAYOUT_BYTES;
    match parallel.then(|| json_layout_in(text, open, piece, chunks)) {
        Some(Some(l)) => Some(l),
        _ => json_layout_from(text, open, piece),
    }
}

/// The size of an items array above which [`json_layout`] scans it in parallel.
const PARALLEL_LAYOUT_BYTES: usize = 4 << 20;

/// The offset of the `[` of a JSON object's top-level `items` array.
fn json_items_open(text: &str) -> Option<usize> {
    let mut s = Scan {
        b: text.as_bytes(),
        pos: 0,
    };
    s.ws();
    if s.peek()? != b'{' {
        return None;
    }
    s.pos += 1;
    loop {
        s.ws();
        if s.peek()? != b'"' {
            return None;
        }
        let key = s.string()?;
        s.ws();
        if s.peek()? != b':' {
            return None;
        }
        s.pos += 1;
        s.ws();
        if text.get(key) == Some("items") && s.peek()? == b'[' {
            break;
        }
        s.value()?;
        s.ws();
        match s.peek()? {
            b',' => s.pos += 1,
            _ => return None,
        }
    }
    Some(s.pos)
}

/// [`json_layout`] in one pass from the items' `[` at `open`.
fn json_layout_from(text: &str, open: usize, piece: usize) -> Option<Layout> {
    let mut s = Scan {
        b: text.as_bytes(),
        pos: open + 1,
    };
    let mut pieces = Vec::new();
    s.ws();
    let mut piece_start = s.pos;
    let mut last_end = s.pos;
    if s.peek()? != b']' {
        loop {
            s.ws();
            let start = s.pos;
            if start - piece_start >= piece {
                pieces.push(piece_start..last_end);
                piece_start = start;
            }
            s.value()?;
            last_end = s.pos;
            s.ws();
            match s.peek()? {
                b',' => s.pos += 1,
                b']' => break,
                _ => return None,
            }
        }
        pieces.push(piece_start..last_end);
    }
    Some(Layout {
        region: open + 1..s.pos,
        pieces,
    })
}

/// What one chunk of an items array holds, scanned from a line start (outside any string,
/// as JSON has no raw line break inside a string) at depth 0 relative to its start.
#[derive(Debug, Default)]
struct ChunkScan {
    /// The depth at its end.
    net: isize,
    /// Each closing bracket that takes the depth to its lowest so far (or to that low
    /// again): the offset after it and the depth it leaves. With the depth the chunk starts
    /// at, those that leave depth 0 end an item, and the first to leave -1 closes the array.
    lows: Vec<(usize, isize)>,
}

/// Scans `b` (a chunk that starts at `at` in the text); `None` when a string is still
/// open at its end or holds a raw line break (so the chunk did not start outside a
/// string, or the text is not JSON: the one-pass scan decides).
fn scan_chunk(b: &[u8], at: usize) -> Option<ChunkScan> {
    let mut out = ChunkScan::default();
    let mut depth = 0isize;
    let mut low = 0isize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                // to the string's closing quote, a run at a time: only a quote, a
                // backslash (which escapes the next byte) or a line break stops the search
                i += 1;
                loop {
                    let at = i + memchr::memchr3(b'"', b'\\', b'\n', b.get(i..)?)?;
                    match b.get(at)? {
                        b'"' => {
                            i = at;
                            break;
                        }
                        b'\\' => i = at + 2,
                        _ => return None,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth <= low {
                    low = depth;
                    out.lows.push((at + i + 1, depth));
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.net = depth;
    Some(out)
}

/// [`json_layout`] on `chunks` cores: the array after `open` is cut at line starts, each
/// chunk is scanned on its own ([`scan_chunk`]), and the depths at the chunks' starts,
/// added up in order, tell which closing brackets end an item. The pieces are cut as the
/// one pass cuts them, at the item starts after those ends. `None` when the text has too
/// few line breaks or does not scan as expected.
fn json_layout_in(text: &str, open: usize, piece: usize, chunks: usize) -> Option<Layout> {
    let b = text.as_bytes();
    let start = open + 1;
    let step = b.len().checked_sub(start)?.checked_div(chunks)?;
    let mut bounds = vec![start];
    for k in 1..chunks {
        let from = start + k * step;
        let nl = from + memchr::memchr(b'\n', b.get(from..)?)? + 1;
        if nl > *bounds.last()? && nl < b.len() {
            bounds.push(nl);
        }
    }
    bounds.push(b.len());
    let scans: Vec<Option<ChunkScan>> = bounds
        .par_windows(2)
        .map(|w| match w {
            [from, to] => scan_chunk(b.get(*from..*to)?, *from),
            _ => None,
        })
        .collect();
    let skip_ws = |mut i: usize| {
        while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    };
    let first = skip_ws(start);
    let mut pieces = Vec::new();
    let mut piece_start = first;
    let mut depth = 0isize;
    for scan in scans {
        let scan = scan?;
        for (end, low) in scan.lows {
            match depth + low {
                0 => {
                    let comma = skip_ws(end);
                    if b.get(comma) != Some(&b',') {
                        continue;
                    }
                    let next = skip_ws(comma + 1);
                    if next.saturating_sub(piece_start) >= piece {
                        pieces.push(piece_start..end);
                        piece_start = next;
                    }
                }
                -1 => {
                    // the array's `]`: the last item ends at the last byte before it that
                    // is not white space
                    let close = end.checked_sub(1)?;
                    let inner = text.get(start..close)?;
                    let last_end = start + inner.trim_end_matches([' ', '\t', '\n', '\r']).len();
                    if first < close {
                        pieces.push(piece_start..last_end);
                    }
                    return Some(Layout {
                        region: start..close,
                        pieces,
                    });
                }
                _ => {}
            }
        }
        depth += scan.net;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_yaml_items() {
        let t = "apiVersion: v1\nitems:\n- a: 1\n  b: 2\n# c\n- a: 3\nkind: List\nmetadata: {}\n";
        let l = yaml_layout(t, 1).unwrap();
        assert_eq!(&t[l.region.clone()], "- a: 1\n  b: 2\n# c\n- a: 3\n");
        assert_eq!(l.pieces.len(), 2);
        assert_eq!(&t[l.pieces[1].clone()], "- a: 3\n");
        // several documents, or items not at column 0: not split
        assert!(yaml_layout("items:\n- a\n---\nitems:\n- b\n", 1).is_none());
        assert!(yaml_layout("items:\n  - a\n  - b\n", 1).is_none());
        assert!(yaml_layout("items: []\n", 1).is_none());
    }

    #[test]
    fn cuts_streams_at_document_markers() {
        let t = "a: 1\n---\nb: 2\n--- # c\nc: 3\n----\n---x\n---\n";
        let got: Vec<&str> = stream_pieces(t, 1).iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(
            got,
            [
                "a: 1\n",
                "---\nb: 2\n",
                "--- # c\nc: 3\n----\n---x\n",
                "---\n"
            ]
        );
        // comments and directives before the first marker stay with its document
        let t = "# c\n%YAML 1.2\n\n---\na: 1\n---\n";
        let got: Vec<&str> = stream_pieces(t, 1).iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(got, ["# c\n%YAML 1.2\n\n---\na: 1\n", "---\n"]);
    }

    /// Results are handed over in the order of the pieces, however long each takes to
    /// parse and on however many threads; a failed hand-over stops the rest; and no more
    /// results wait at once than the window allows.
    #[test]
    fn pieces_are_handed_over_in_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pieces: Vec<Range<usize>> = (0..60).map(|i| i..i + 1).collect();
        // a parse whose cost varies from piece to piece, in no order
        let parse = |r: &Range<usize>| {
            let n = (r.start * 7919) % 13;
            let mut x = r.start as u64;
            for k in 0..(n as u64) * 100_000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(k);
            }
            (r.start, std::hint::black_box(x))
        };
        for threads in [1, 2, 3, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for fail_at in [None, Some(0), Some(17), Some(59)] {
                let waiting = AtomicUsize::new(0);
                let most = AtomicUsize::new(0);
                let mut taken = Vec::new();
                let got = pool.install(|| {
                    in_order(
                        &pieces,
                        threads,
                        |r| {
                            let out = parse(r);
                            let now = waiting.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            out
                        },
                        |(i, _)| {
                            waiting.fetch_sub(1, Ordering::SeqCst);
                            taken.push(i);
                            (Some(i) != fail_at).then_some(())
                        },
                    )
                });
                let want: Vec<usize> = match fail_at {
                    None => (0..60).collect(),
                    Some(k) => (0..=k).collect(),
                };
                assert_eq!(taken, want, "{threads} threads, failing at {fail_at:?}");
                assert_eq!(got.is_some(), fail_at.is_none());
                let window = if threads < 2 { 1 } else { 4 * threads };
                assert!(most.load(Ordering::SeqCst) <= window, "{threads} threads");
            }
        }
    }

    /// A `List` of `n` items on lines of their own, with brackets, quotes and line breaks
    /// inside strings, nested collections, and a scalar item now and then.
    fn json_list(n: usize) -> String {
        let mut t = String::from("{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n");
        for i in 0..n {
            if i > 0 {
                t.push_str(",\n");
            }
            if i % 7 == 3 {
                t.push_str(&format!("    {i}"));
            } else {
                t.push_str(&format!(
                    "    {{\"name\": \"o{i}\", \"s\": \"]}}\\\"[{{\\n\", \"l\": [[{i}], {{\"a\": []}}],\n      \"m\": {{\"k\": \"}}\"}}}}"
                ));
            }
        }
        t.push_str("\n  ],\n  \"kind\": \"List\",\n  \"metadata\": {\"x\": [\"]\"]}\n}\n");
        t
    }

    #[test]
    fn json_items_found_in_parallel_as_in_one_pass() {
        for n in [0, 1, 2, 5, 40] {
            let t = json_list(n);
            let open = json_items_open(&t).unwrap();
            let one = json_layout_from(&t, open, 1).unwrap();
            for piece in [1, 50, 300, 10_000] {
                let serial = json_layout_from(&t, open, piece).unwrap();
                for chunks in 2..9 {
                    let par = json_layout_in(&t, open, piece, chunks).unwrap();
                    assert_eq!(par.region, serial.region, "{n} items, {chunks} chunks");
                    // the pieces cover the items; each starts at an item the one pass
                    // starts one at (the parallel scan cuts after collections only)
                    assert_eq!(
                        par.pieces.first().map(|p| p.start),
                        serial.pieces.first().map(|p| p.start)
                    );
                    assert_eq!(
                        par.pieces.last().map(|p| p.end),
                        serial.pieces.last().map(|p| p.end)
                    );
                    for p in &par.pieces {
                        assert!(one.pieces.iter().any(|q| q.start == p.start), "{p:?}");
                        assert!(one.pieces.iter().any(|q| q.end == p.end), "{p:?}");
                    }
                    if piece == 1 && n == 40 {
                        // every item after an object starts a piece
                        assert!(par.pieces.len() > n / 2, "{}", par.pieces.len());
                    }
                }
            }
        }
        // a raw line break inside a string: the chunks cannot be scanned on their own
        let t = "{\"items\": [\"a\nb\", {}]}";
        let open = json_items_open(t).unwrap();
        assert!(json_layout_in(t, open, 1, 4).is_none());
        assert!(json_layout_from(t, open, 1).is_some());
        // no line break to cut at: one pass
        let t = json_list(30).replace('\n', " ");
        let open = json_items_open(&t).unwrap();
        assert!(json_layout_in(&t, open, 1, 4).is_none());
        assert!(json_layout(&t, 1, 4).is_some_and(|l| l.pieces.len() > 1));
    }

    /// The guessed cuts are item starts where the layout is regular, and not where nested
    /// objects start lines at the items' indentation (which `parse` then reads by the
    /// structural scan, as `tests/split_load.rs` checks).
    #[test]
    fn json_items_guessed_from_the_layout() {
        let starts = |t: &str| {
            let open = json_items_open(t).unwrap();
            let one = json_layout_from(t, open, 1).unwrap();
            (
                open,
                one.region,
                one.pieces.iter().map(|p| p.start).collect::<Vec<_>>(),
            )
        };
        for n in [2, 5, 40] {
            let t = json_list(n);
            let (open, region, items) = starts(&t);
            for piece in [1, 50, 300] {
                // pieces of 300 bytes and more: too few items to cut
                let Some(g) = json_layout_guess(&t, open, piece) else {
                    assert!(piece > 1, "{n} items");
                    continue;
                };
                assert_eq!(g.region, region, "{n} items, pieces of {piece}");
                assert!(g.pieces.len() > 1);
                for p in &g.pieces {
                    assert!(items.contains(&p.start), "{p:?}");
                }
                assert_eq!(
                    g.pieces.last().map(|p| p.end),
                    json_layout_from(&t, open, piece)
                        .unwrap()
                        .pieces
                        .last()
                        .map(|p| p.end)
                );
            }
        }
        let t = "{\"items\": [\n{\"a\": [\n{\"x\": 1},\n{\"y\": 2}]},\n{\"b\": 1}\n]}";
        let (open, _, items) = starts(t);
        let g = json_layout_guess(t, open, 1).unwrap();
        assert!(
            g.pieces.iter().any(|p| !items.contains(&p.start)),
            "{:?}",
            g.pieces
        );
        // on one line, or items that are not collections: no guess
        assert!(json_layout_guess("{\"items\": [{}, {}]}", 10, 1).is_none());
        let t = "{\"items\": [\n1,\n2]}";
        assert!(json_layout_guess(t, json_items_open(t).unwrap(), 1).is_none());
    }

    #[test]
    fn finds_json_items() {
        let t = r#"{"apiVersion": "v1", "x": {"items": [1]}, "items": [ {"a": "]\"["}, [2], 3 ], "kind": "List"}"#;
        let l = json_layout(t, 1, 1).unwrap();
        assert_eq!(&t[l.region.clone()], r#" {"a": "]\"["}, [2], 3 "#);
        let got: Vec<&str> = l.pieces.iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(got, [r#"{"a": "]\"["}"#, "[2]", "3"]);
        assert!(json_layout("[1, 2]", 1, 1).is_none());
        assert!(json_layout(r#"{"items": 3}"#, 1, 1).is_none());
    }
}
