//! YAML reader built from saphyr-parser events.
//!
//! The arena is built iteratively with an explicit stack, so hostile nesting gives an error
//! (bounded by [`Limits::max_depth`]) and never a stack overflow. Plain scalars are resolved the
//! way Kubernetes reads them (Go yaml, YAML 1.1): `yes`/`on` are booleans, `0755` is octal, etc.
//! Aliases are expanded by copying (bounded by [`Limits::max_alias_nodes`]) and merge keys
//! (`<<: *anchor`) are applied.

use super::arena::{Builder, OPEN_NODES, OpenMap, OpenSeq, duplicate_key, is_slice_of};
use super::block;
use super::lenient::{self, Patch};
use super::load::Parsed;
use super::{Document, KeyWord, Limits, Node, NodeId, SkipReason, StrRef, Style, Tag, Value};
use crate::diag::{Diagnostic, FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan, Tag as YTag};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Converts saphyr's character offsets to byte offsets. The parser asks for positions in
/// nearly increasing order, so each is counted from the one before (a cursor); a position
/// far from it is counted from the nearest of a checkpoint every [`STEP`] characters
/// (built the first time one is needed), so no position costs more than [`FAR`] steps.
/// Counting every position from a checkpoint (32 characters on average, twice a node)
/// and building the checkpoints of every file was 8% of reading the real corpus's YAML.
struct CharIndex<'a> {
    text: &'a str,
    ascii: bool,
    /// The last position found: its character index and its byte offset.
    cursor: std::cell::Cell<(usize, usize)>,
    /// Byte offset of every `STEP`-th character.
    checkpoints: std::cell::OnceCell<Vec<usize>>,
}

const STEP: usize = 64;
/// The farthest (in characters) a position is counted from the cursor.
const FAR: usize = 4 * STEP;

impl<'a> CharIndex<'a> {
    fn new(text: &'a str) -> CharIndex<'a> {
        CharIndex {
            text,
            ascii: text.is_ascii(),
            cursor: std::cell::Cell::new((0, 0)),
            checkpoints: std::cell::OnceCell::new(),
        }
    }

    /// The byte offset of character `ci` (the text's length past its end).
    fn byte(&self, ci: usize) -> usize {
        let len = self.text.len();
        if self.ascii {
            return ci.min(len);
        }
        let (c0, b0) = self.cursor.get();
        let found = if ci >= c0 && ci - c0 <= FAR {
            self.forward(b0, ci - c0)
        } else if ci < c0 && c0 - ci <= FAR {
            // the `n`-th character before the cursor
            let n = c0 - ci;
            self.text
                .get(..b0)
                .and_then(|s| s.char_indices().rev().nth(n - 1))
                .map(|(b, _)| b)
        } else {
            let checkpoints = self.checkpoints.get_or_init(|| {
                self.text
                    .char_indices()
                    .step_by(STEP)
                    .map(|(b, _)| b)
                    .collect()
            });
            match checkpoints.get(ci / STEP) {
                Some(&base) => self.forward(base, ci % STEP),
                None => None,
            }
        };
        match found {
            Some(b) => {
                self.cursor.set((ci, b));
                b
            }
            None => len,
        }
    }

    /// The byte offset `n` characters after byte offset `from` (a character's start; the
    /// text's end counts as the position after its last character): `n` leading bytes
    /// passed, eight bytes at a time while a word holds no more than are left, then the
    /// continuation bytes of the last one skipped.
    fn forward(&self, from: usize, n: usize) -> Option<usize> {
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let bytes = self.text.as_bytes();
        let is_continuation = |b: u8| b & 0xC0 == 0x80;
        let (mut pos, mut n) = (from, n);
        while n >= 8 {
            let Some(chunk) = bytes.get(pos..pos + 8) else {
                break;
            };
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            // a continuation byte is 10xxxxxx: its high bit set, the one below it clear
            let continuations = (x & !(x << 1) & HIGHS).count_ones() as usize;
            let leading = 8 - continuations;
            if leading > n {
                break;
            }
            n -= leading;
            pos += 8;
        }
        loop {
            match bytes.get(pos) {
                None => return (n == 0).then_some(pos),
                Some(&b) if is_continuation(b) => pos += 1,
                Some(_) if n == 0 => return Some(pos),
                Some(_) => {
                    n -= 1;
                    pos += 1;
                }
            }
        }
    }
}

struct Ctx<'a> {
    /// The file's whole text; every offset below is into it.
    text: &'a str,
    /// Where the text the parser reads starts in `text` (a piece of a split `List`).
    base: usize,
    file: FileId,
    limits: &'a Limits,
    chars: CharIndex<'a>,
    diagnostics: Vec<Diagnostic>,
    /// Nodes that aliases in this file may still copy (bounds work across many documents).
    alias_budget: usize,
    /// Values of quoted scalars joined onto one line by [`lenient::repair`], by the offset
    /// of their opening quote in the text read.
    joined: &'a [(usize, String)],
}

impl Ctx<'_> {
    fn span(&self, s: YSpan) -> Span {
        let start = self.base + self.chars.byte(s.start.index());
        let end = (self.base + self.chars.byte(s.end.index())).max(start);
        Span::new(self.file, start..end)
    }

    fn slice(&self, s: Span) -> &str {
        self.text.get(s.range()).unwrap_or("")
    }

    /// A one-character span at a byte offset (empty at the end of the text).
    fn point(&self, byte: usize) -> Span {
        let end = self
            .text
            .get(byte..)
            .and_then(|s| s.chars().next())
            .map_or(byte, |c| byte + c.len_utf8());
        Span::new(self.file, byte..end)
    }
}

struct Key {
    text: StrRef,
    span: Span,
    merge: bool,
}

enum Kind {
    Seq(OpenSeq),
    Map {
        map: OpenMap,
        key: Option<Key>,
        merges: Vec<NodeId>,
    },
}

struct Frame {
    node: NodeId,
    anchor: usize,
    kind: Kind,
    start: usize,
    last_end: usize,
}

struct DocBuilder<'t> {
    arena: Builder<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    failed: Option<SkipReason>,
    index: u32,
    comments_from: usize,
    first_token: Option<usize>,
    /// Whether an alias was read.
    aliased: bool,
}

impl<'t> DocBuilder<'t> {
    fn new(
        src: &'t str,
        ctx: &Ctx<'t>,
        index: u32,
        comments_from: usize,
        capacity: usize,
        direct: bool,
    ) -> DocBuilder<'t> {
        // events without anchors, aliases or merge keys (those of the block reader) lay
        // the document out as it is read; the others keep every node until the end, for
        // the aliases to copy and the merge keys to read
        let arena = if direct {
            Builder::new(src, ctx.base, ctx.text, ctx.file, OPEN_NODES).direct(capacity)
        } else {
            Builder::new(src, ctx.base, ctx.text, ctx.file, capacity)
        };
        DocBuilder {
            arena,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            failed: None,
            index,
            comments_from,
            first_token: None,
            aliased: false,
        }
    }

    fn fail(&mut self, reason: SkipReason, d: Diagnostic, ctx: &mut Ctx<'_>) {
        ctx.diagnostics.push(d);
        self.failed = Some(reason);
        // Free the memory now: the rest of the document is skipped.
        self.arena = Builder::new("", 0, "", ctx.file, 0);
        self.stack = Vec::new();
        self.anchors = HashMap::new();
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: Kind::Map { key: None, .. },
                ..
            })
        )
    }

    fn set_key(&mut self, key: Key) {
        if let Some(frame) = self.stack.last_mut() {
            frame.last_end = frame.last_end.max(key.span.end as usize);
            if let Kind::Map { key: k, .. } = &mut frame.kind {
                *k = Some(key);
            }
        }
    }

    fn event(&mut self, ev: Event<'_>, span: Span, ctx: &mut Ctx<'_>) {
        if self.failed.is_some() {
            return;
        }
        if self.first_token.is_none() {
            self.first_token = Some(span.start as usize);
        }
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
                let joined = ctx.joined;
                let mut value: &str = if joined.is_empty() || !quoted {
                    &value
                } else {
                    let at = (span.start as usize).saturating_sub(ctx.base);
                    lenient::joined_value(joined, at).unwrap_or(&value)
                };
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    value = block_at_end(ctx.text, span, value);
                }
                if self.expects_key() && anchor == 0 {
                    let merge = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                    let text = self.arena.scalar(value, span, quoted);
                    self.set_key(Key { text, span, merge });
                    return;
                }
                let v = scalar_value(value, style, tag.as_deref());
                let text = if matches!(v, Value::Str(_)) {
                    self.arena.scalar(value, span, quoted)
                } else {
                    StrRef::default()
                };
                let id = self
                    .arena
                    .push(Node::scalar(v, text, style_of(style), span));
                if anchor != 0 {
                    self.anchors.insert(anchor, id);
                }
                self.complete(id, ctx);
            }
            Event::Alias(anchor) => {
                self.aliased = true;
                let Some(&src) = self.anchors.get(&anchor) else {
                    let d = Diagnostic::error(
                        "E1001",
                        "invalid yaml: alias refers to an anchor that is not defined before it",
                    )
                    .at(span, "unknown or recursive alias");
                    self.fail(SkipReason::Malformed, d, ctx);
                    return;
                };
                if self.expects_key() {
                    let text = match self.arena.node(src) {
                        Some(n) if n.tag() == Tag::Str => n.str_ref(),
                        _ => {
                            let s = self.arena.span_of(src);
                            self.arena.own(ctx.slice(s))
                        }
                    };
                    self.set_key(Key {
                        text,
                        span,
                        merge: false,
                    });
                    return;
                }
                let limit = ctx.limits.max_alias_nodes;
                match self
                    .arena
                    .copy_tree(src, span, limit, &mut ctx.alias_budget)
                {
                    Some(id) => self.complete(id, ctx),
                    None => {
                        let d = Diagnostic::error(
                            "E1003",
                            format!("alias expansion exceeds the limit of {limit} nodes"),
                        )
                        .at(span, "this alias expands too far")
                        .with_note("the document is skipped (this protects against alias bombs)");
                        self.fail(SkipReason::LimitExceeded, d, ctx);
                    }
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let is_seq = matches!(ev, Event::SequenceStart(..));
                if self.stack.len() >= ctx.limits.max_depth {
                    let d = Diagnostic::error(
                        "E1003",
                        format!(
                            "nesting is deeper than the limit of {} levels",
                            ctx.limits.max_depth
                        ),
                    )
                    .at(ctx.point(span.start as usize), "too deep here");
                    self.fail(SkipReason::LimitExceeded, d, ctx);
                    return;
                }
                let mut start = span.start as usize;
                if is_seq {
                    start = dash_before(ctx.text, start);
                }
                let id = self.arena.push(Node::scalar(
                    Value::Null,
                    StrRef::default(),
                    Style::Plain,
                    Span::new(ctx.file, start..start),
                ));
                let kind = if is_seq {
                    Kind::Seq(self.arena.open_seq())
                } else {
                    Kind::Map {
                        map: self.arena.open_map(),
                        key: None,
                        merges: Vec::new(),
                    }
                };
                self.stack.push(Frame {
                    node: id,
                    anchor,
                    kind,
                    start,
                    last_end: start,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let end = if span.end > span.start {
                    span.end as usize
                } else {
                    frame.last_end.max(frame.start)
                };
                match frame.kind {
                    Kind::Seq(seq) => self.arena.close_seq(frame.node, seq),
                    Kind::Map {
                        mut map, merges, ..
                    } => {
                        self.apply_merges(&mut map, &merges);
                        self.arena.close_map(frame.node, map);
                    }
                }
                if let Some(n) = self.arena.node_mut(frame.node) {
                    n.start = u32::try_from(frame.start).unwrap_or(u32::MAX);
                    n.end = u32::try_from(end).unwrap_or(u32::MAX);
                }
                if frame.anchor != 0 {
                    self.anchors.insert(frame.anchor, frame.node);
                }
                self.complete(frame.node, ctx);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn complete(&mut self, id: NodeId, ctx: &mut Ctx<'_>) {
        let node_span = self.arena.span_of(id);
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(id);
            return;
        };
        frame.last_end = frame.last_end.max(node_span.end as usize);
        match &mut frame.kind {
            Kind::Seq(_) => self.arena.push_item(id),
            Kind::Map { map, key, merges } => match key.take() {
                None => {
                    // A complex (non-scalar) key: use its source text.
                    let text = self.arena.own(ctx.slice(node_span));
                    *key = Some(Key {
                        text,
                        span: node_span,
                        merge: false,
                    });
                }
                Some(k) => {
                    let is_mergeable = || match self.arena.node(id).map(|n| n.tag()) {
                        Some(Tag::Map) => true,
                        Some(Tag::Seq) => self
                            .arena
                            .items_of(id)
                            .iter()
                            .all(|&i| self.arena.node(i).is_some_and(|n| n.tag() == Tag::Map)),
                        _ => false,
                    };
                    if k.merge && is_mergeable() {
                        merges.push(id);
                        return;
                    }
                    self.arena.set_key_span(id, Some(k.span));
                    if let Some(old) = self.arena.insert(map, k.text, id) {
                        let first = self.arena.key_span_of(old);
                        let name = self.arena.resolve(k.text);
                        ctx.diagnostics.push(duplicate_key(name, k.span, first));
                    }
                }
            },
        }
    }

    /// Adds the entries of merged maps (`<<`) whose keys are not set explicitly; earlier merged
    /// maps win over later ones.
    fn apply_merges(&mut self, map: &mut OpenMap, merges: &[NodeId]) {
        for &m in merges {
            let sources: Vec<NodeId> = match self.arena.node(m).map(|n| n.tag()) {
                Some(Tag::Map) => vec![m],
                Some(Tag::Seq) => self.arena.items_of(m).to_vec(),
                _ => Vec::new(),
            };
            for s in sources {
                for e in self.arena.entries_of(s) {
                    if self
                        .arena
                        .position(map, self.arena.resolve(e.key))
                        .is_none()
                    {
                        self.arena.insert(map, e.key, e.value);
                    }
                }
            }
        }
    }

    fn finish(self, ctx: &Ctx<'_>, text: &Arc<String>) -> Result<Document, SkipReason> {
        if let Some(reason) = self.failed {
            return Err(reason);
        }
        let root = self.root.ok_or(SkipReason::Empty)?;
        let helm_source = self.first_token.and_then(|first| {
            let region = ctx.text.get(self.comments_from.min(first)..first)?;
            region
                .lines()
                .rev()
                .filter_map(|l| l.trim().strip_prefix("# Source:"))
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(Arc::from)
        });
        let mut doc = self.arena.finish(root, text);
        doc.index = self.index;
        doc.helm_source = helm_source;
        doc.aliased = self.aliased;
        Ok(doc)
    }
}

/// A block scalar whose last line ends the file without a line break has no final newline
/// (libyaml and go-yaml); saphyr adds one.
fn block_at_end<'v>(text: &str, span: Span, value: &'v str) -> &'v str {
    let rest = text.get(span.end as usize..).unwrap_or("");
    if !text.ends_with(['\n', '\r']) && rest.trim_start_matches([' ', '\t']).is_empty() {
        value.strip_suffix('\n').unwrap_or(value)
    } else {
        value
    }
}

/// For a block sequence saphyr starts the span at the first item; move it back to its `-`,
/// also when the item starts on a later line (`- # comment`, then the item).
pub(super) fn dash_before(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes.get(start) == Some(&b'[') {
        return start;
    }
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r');
    let mut end = start;
    loop {
        let line_start = bytes
            .get(..end)
            .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
            .map_or(0, |p| p + 1);
        let line = bytes.get(line_start..end).unwrap_or(&[]);
        let first = line.iter().position(|c| !blank(c));
        match first.and_then(|f| line.get(f..)) {
            // blank, or a comment line: the line above
            None | Some([b'#', ..]) => {}
            Some([b'-', rest @ ..])
                if rest.iter().find(|c| !blank(c)).is_none_or(|&c| c == b'#') =>
            {
                return line_start + first.unwrap_or(0);
            }
            Some(_) => return start,
        }
        if line_start == 0 {
            return start;
        }
        end = line_start - 1;
    }
}

/// Reads every document of a YAML stream.
pub(crate) fn parse(shared: &Arc<String>, file: FileId, limits: &Limits) -> Parsed {
    parse_piece(shared, 0..shared.len(), file, limits)
}

/// Reads the YAML stream in one range of a file's text (a piece of a split `List`, or all
/// of it); spans are offsets into the whole text.
///
/// A document with a syntax error is skipped and reported, and reading goes on at the next
/// `---` line after the error: one broken document does not take the rest of its file with it.
pub(crate) fn parse_piece(
    shared: &Arc<String>,
    range: std::ops::Range<usize>,
    file: FileId,
    limits: &Limits,
) -> Parsed {
    let mut out = Parsed::default();
    let budget = limits.max_alias_nodes.saturating_mul(4);
    let mut left = budget;
    let mut start = range.start;
    let mut index = 0u32;
    loop {
        let (part, resume) = parse_segment(shared, start..range.end, file, limits, left, index);
        left = left.saturating_sub(part.aliases);
        index = index.saturating_add(u32::try_from(part.docs.len()).unwrap_or(u32::MAX));
        out.docs.extend(part.docs);
        out.diagnostics.extend(part.diagnostics);
        match resume {
            Some(r) if r > start && r < range.end => start = r,
            _ => break,
        }
    }
    out.aliases = budget.saturating_sub(left);
    out
}

/// How many constructs that go-yaml accepts and saphyr rejects [`parse_segment`] rewrites
/// in one stretch of documents.
const MAX_PATCHES: usize = 32;

/// Reads the documents in `range` until the end or the first syntax error, rewriting what
/// go-yaml accepts and saphyr rejects ([`lenient`]). Also gives where reading may resume
/// after an error (the next `---` line).
fn parse_segment(
    shared: &Arc<String>,
    range: std::ops::Range<usize>,
    file: FileId,
    limits: &Limits,
    budget: usize,
    index: u32,
) -> (Parsed, Option<usize>) {
    let base = range.start;
    let text = shared.get(range).unwrap_or("");
    let mut patch: Option<Patch> = None;
    let pass = |patch: &Option<Patch>, retry: bool| {
        let (src, joined) = match patch {
            Some(p) => (p.src.as_str(), p.scalars.as_slice()),
            None => (text, &[][..]),
        };
        let read = Read {
            src,
            joined,
            base,
            index,
            budget,
        };
        parse_pass(&read, shared, file, limits, retry)
    };
    let mut last_stop = None;
    for _ in 0..MAX_PATCHES {
        match pass(&patch, true) {
            Ok(done) => return done,
            // the rewrite did not get past this error: give up on it
            Err(stop) if last_stop == Some(stop.at) => break,
            Err(stop) => {
                last_stop = Some(stop.at);
                let (src, joined) = match &patch {
                    Some(p) => (p.src.as_str(), p.scalars.as_slice()),
                    None => (text, &[][..]),
                };
                let s = lenient::Stop {
                    at: stop.at,
                    info: &stop.info,
                    after: stop.after,
                };
                match lenient::repair(src, joined, &s) {
                    Some(p) => patch = Some(p),
                    None => break,
                }
            }
        }
    }
    pass(&patch, false).unwrap_or_default()
}

/// What one pass reads: the text (or a same-length rewrite of it), the values of quoted
/// scalars the rewrite joined, where the text starts in the file, the index of its first
/// document and the alias budget.
struct Read<'a> {
    src: &'a str,
    joined: &'a [(usize, String)],
    base: usize,
    index: u32,
    budget: usize,
}

/// A syntax error that a rewrite may work around: where (in the text read), saphyr's
/// message, and where the last event ended.
struct Retry {
    at: usize,
    info: String,
    after: usize,
}

/// The start of the first `---` line at or after the line of `at` and after `after`.
fn next_document(text: &str, at: usize, after: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = bytes
        .get(..at)?
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    loop {
        let rest = bytes.get(i..)?;
        if i > after
            && rest.starts_with(b"---")
            && rest
                .get(3)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Some(i);
        }
        i += memchr::memchr(b'\n', rest)? + 1;
    }
}

#[cfg(not(test))]
fn fast_reader() -> bool {
    true
}

#[cfg(test)]
thread_local! {
    /// Whether [`block::read`] reads what it can (tests compare with `saphyr` alone).
    static FAST_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

#[cfg(test)]
fn fast_reader() -> bool {
    FAST_READER.with(std::cell::Cell::get)
}

/// The documents of one pass, as its events arrive (from `saphyr-parser` or from
/// [`block::read`]).
struct Pass<'t> {
    docs: Vec<Result<Document, SkipReason>>,
    cur: Option<DocBuilder<'t>>,
    /// Where the last document ended (comments after it belong to the next one).
    prev_end: usize,
    index: u32,
    any_doc: bool,
    last_len: Option<usize>,
    /// Whether the events have no anchors, aliases or merge keys (see [`Builder::direct`]).
    direct: bool,
}

impl<'t> Pass<'t> {
    fn new(base: usize, index: u32, direct: bool) -> Pass<'t> {
        Pass {
            docs: Vec::new(),
            cur: None,
            prev_end: base,
            index,
            any_doc: false,
            last_len: None,
            direct,
        }
    }

    /// Takes one event; `false` at the end of the stream.
    fn on(
        &mut self,
        event: Event<'_>,
        span: Span,
        src: &'t str,
        ctx: &mut Ctx<'t>,
        shared: &Arc<String>,
    ) -> bool {
        match event {
            Event::StreamEnd => return false,
            Event::DocumentStart(explicit) => {
                self.any_doc = true;
                let from = if explicit {
                    span.end as usize
                } else {
                    self.prev_end
                };
                // About one node per 20 bytes of YAML for the first document, so a large
                // `List` export fills its arena without doubling copies; later documents
                // expect the size of the one before (small ones give the rest back).
                let remaining = (ctx.base + src.len()).saturating_sub(from) / 20;
                let capacity = self
                    .last_len
                    .map_or(remaining, |l| remaining.min(l * 2 + 64));
                self.cur = Some(DocBuilder::new(
                    src,
                    ctx,
                    self.index,
                    from,
                    capacity,
                    self.direct,
                ));
                self.index = self.index.saturating_add(1);
            }
            Event::DocumentEnd => {
                if let Some(b) = self.cur.take() {
                    let doc = b.finish(ctx, shared);
                    self.last_len = doc.as_ref().ok().map(Document::len).or(self.last_len);
                    self.docs.push(doc);
                }
                self.prev_end = span.end as usize;
            }
            other => {
                if let Some(b) = self.cur.as_mut() {
                    b.event(other, span, ctx);
                }
            }
        }
        true
    }

    fn finish(mut self, ctx: Ctx<'_>, shared: &Arc<String>, budget: usize) -> Parsed {
        if let Some(b) = self.cur.take() {
            self.docs.push(b.finish(&ctx, shared));
        }
        if !self.any_doc {
            // An empty or comment-only file: one empty document.
            self.docs.push(Err(SkipReason::Empty));
        }
        Parsed {
            docs: self.docs,
            pieces: 0,
            objects: None,
            aliases: budget.saturating_sub(ctx.alias_budget),
            diagnostics: ctx.diagnostics,
        }
    }
}

/// One parse of `read.src`; `Err` asks the caller to rewrite an error that go-yaml does not
/// make and retry. On a syntax error the document is skipped and the second value says
/// where the next document starts.
///
/// Text that is not a rewrite is first read by [`block::read`], when it is in the subset
/// that reader knows (most manifests); else, or when it gives up, by `saphyr-parser`.
fn parse_pass(
    read: &Read<'_>,
    shared: &Arc<String>,
    file: FileId,
    limits: &Limits,
    allow_retry: bool,
) -> Result<(Parsed, Option<usize>), Retry> {
    let (src, base) = (read.src, read.base);
    let text = shared.as_str();
    let new_ctx = || Ctx {
        text,
        base,
        file,
        limits,
        chars: CharIndex::new(src),
        diagnostics: Vec::new(),
        alias_budget: read.budget,
        joined: read.joined,
    };
    let unpatched = read.joined.is_empty() && is_slice_of(src, text, base);
    if unpatched && fast_reader() {
        let mut ctx = new_ctx();
        let mut pass = Pass::new(base, read.index, true);
        let mut running = true;
        // the last `---` seen: where, and the documents and diagnostics before it
        let mut marker: Option<(usize, usize, usize)> = None;
        let read_all = block::read(src, &mut |event, start, end| {
            if running {
                if matches!(event, Event::DocumentStart(true)) {
                    marker = Some((start, pass.docs.len(), ctx.diagnostics.len()));
                }
                let span = Span::new(file, base + start..base + end);
                running = pass.on(event, span, src, &mut ctx, shared);
            }
        });
        match (read_all, marker) {
            (Ok(()), _) => return Ok((pass.finish(ctx, shared, read.budget), None)),
            // gave up in a document after others: keep those, and read again from its `---`
            (Err(_), Some((m, docs, diagnostics))) if docs > 0 => {
                pass.cur = None;
                pass.docs.truncate(docs);
                ctx.diagnostics.truncate(diagnostics);
                return Ok((pass.finish(ctx, shared, read.budget), Some(base + m)));
            }
            (Err(_), _) => {}
        }
    }
    // after the block reader gave up on the first document, saphyr reads that document
    // alone, and the block reader the rest
    let one_document = unpatched && fast_reader();
    let mut ctx = new_ctx();
    let mut parser = Parser::new_from_str(src);
    let mut pass = Pass::new(base, read.index, false);
    let mut last_end = 0usize;
    let mut resume = None;
    while let Some(ev) = parser.next_event() {
        let (event, yspan) = match ev {
            Ok(x) => x,
            Err(e) => {
                let rel = ctx.chars.byte(e.marker().index());
                let at = base + rel;
                let info = e.info().to_lowercase();
                let info = info.trim_end_matches('.');
                if allow_retry
                    && (info.contains("invalid indentation")
                        || info.contains("tab cannot be used as indentation")
                        || info.contains("unknown escape character"))
                {
                    return Err(Retry {
                        at: rel,
                        info: info.to_string(),
                        after: last_end,
                    });
                }
                let (code, reason, message) = if info.contains("recursion limit") {
                    (
                        "E1003",
                        SkipReason::LimitExceeded,
                        "nesting is too deep for the yaml parser".to_string(),
                    )
                } else if info.contains("quoted scalar")
                    && lenient::runs_into_next_document(src, rel)
                {
                    (
                        "E1001",
                        SkipReason::Malformed,
                        "invalid yaml: this quoted scalar is not closed before the next document"
                            .to_string(),
                    )
                } else {
                    (
                        "E1001",
                        SkipReason::Malformed,
                        format!("invalid yaml: {info}"),
                    )
                };
                let label = if code == "E1003" {
                    "too deep here"
                } else {
                    "here"
                };
                let d = Diagnostic::error(code, message).at(ctx.point(at), label);
                resume = next_document(text, at, base).filter(|&r| r < base + src.len());
                let d = match resume {
                    // the error is on the `---` line: the document before it is broken
                    Some(r) if r <= at && !text.get(r..at).unwrap_or("").contains('\n') => {
                        d.with_note("this document is skipped; the next one is read from this line")
                    }
                    Some(r) => d
                        .with_label(
                            Span::new(file, r..r + 3),
                            "the next document is read from here",
                        )
                        .with_note("the rest of this document is skipped"),
                    None => d.with_note("the rest of this file is not read"),
                };
                ctx.diagnostics.push(d);
                pass.cur = None;
                pass.docs.push(Err(reason));
                pass.any_doc = true;
                break;
            }
        };
        let span = ctx.span(yspan);
        last_end = (span.end as usize).saturating_sub(base);
        let next_document = one_document
            && matches!(event, Event::DocumentEnd)
            && span.start as usize > base
            && text.get(span.range()) == Some("---");
        if !pass.on(event, span, src, &mut ctx, shared) {
            break;
        }
        if next_document {
            resume = Some(span.start as usize);
            break;
        }
    }
    Ok((pass.finish(ctx, shared, read.budget), resume))
}

fn style_of(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

/// The value of a scalar event, resolved by its tag or (plain scalars) by YAML 1.1 rules.
fn scalar_value<'v>(value: &'v str, style: ScalarStyle, tag: Option<&YTag>) -> Value<'v> {
    let core = tag.and_then(|t| {
        if t.is_yaml_core_schema() {
            Some(t.suffix.as_str())
        } else if t.handle.is_empty() {
            // a verbatim tag: `!<tag:yaml.org,2002:str>`
            t.suffix.strip_prefix("tag:yaml.org,2002:")
        } else if t.handle == "!" && t.suffix.is_empty() {
            // The non-specific tag `!`: a string.
            Some("str")
        } else {
            None
        }
    });
    let s = value;
    let v = match core {
        Some("str") => None,
        Some("int") => parse_int(s).filter(|v| matches!(v, Value::Int(_))),
        Some("float") => match parse_float(s).or_else(|| parse_int(s)) {
            Some(Value::Int(i)) => Some(Value::Float(i as f64)),
            other => other,
        },
        Some("bool") => parse_bool(s).map(Value::Bool),
        Some("null") => is_null(s).then_some(Value::Null),
        Some(_) => None,
        None if style == ScalarStyle::Plain => Some(resolve_plain(s)),
        None => None,
    };
    v.unwrap_or(Value::Str(value))
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// Resolves a plain scalar the way Go yaml (YAML 1.1) does.
pub fn resolve_plain(s: &str) -> Value<'_> {
    // longer than every null and boolean word (`false`), and not starting as a number does:
    // a string (most plain scalars are: names, images, paths), without the other tests
    if s.len() > 5 && !matches!(s.as_bytes().first(), Some(b'0'..=b'9' | b'+' | b'-' | b'.')) {
        return Value::Str(s);
    }
    resolve_by_form(s)
}

/// [`resolve_plain`] by testing each form of value in turn.
fn resolve_by_form(s: &str) -> Value<'_> {
    if is_null(s) {
        return Value::Null;
    }
    if let Some(b) = parse_bool(s) {
        return Value::Bool(b);
    }
    if let Some(v) = parse_int(s).or_else(|| parse_float(s)) {
        return v;
    }
    Value::Str(s)
}

/// A YAML 1.1 integer: decimal, `0x` hex, `0o` or leading-`0` octal, `0b` binary, with an
/// optional sign and `_` separators. Too large for `i64` gives a float.
fn parse_int(s: &str) -> Option<Value<'static>> {
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'+' || *first == b'-') {
        return None;
    }
    let cleaned: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    let (neg, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, cleaned.get(1..)?),
        Some(b'+') => (false, cleaned.get(1..)?),
        _ => (false, &*cleaned),
    };
    let lower2 = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower2.as_deref() {
        Some("0x") => (16, body.get(2..)?),
        Some("0o") => (8, body.get(2..)?),
        Some("0b") => (2, body.get(2..)?),
        _ if body.len() > 1 && body.starts_with('0') => (8, body.get(1..)?),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(u) => {
            let i = i128::from(u);
            let i = if neg { -i } else { i };
            match i64::try_from(i) {
                Ok(v) => Some(Value::Int(v)),
                Err(_) => Some(Value::Float(i as f64)),
            }
        }
        Err(_) if radix == 10 => cleaned.parse::<f64>().ok().map(Value::Float),
        Err(_) => None,
    }
}

/// A YAML 1.1 float: `1.5`, `.5`, `1e3`, `-2.0E-3`, `.inf`, `-.Inf`, `.nan`.
fn parse_float(s: &str) -> Option<Value<'static>> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    let cleaned: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    if !is_yaml_float(&cleaned) {
        return None;
    }
    cleaned.parse::<f64>().ok().map(Value::Float)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents and diagnostics of a text, as text (a document's nodes, spans and
    /// strings, and each diagnostic whole), read with the block reader or saphyr alone.
    fn read_with(text: &str, fast: bool) -> String {
        FAST_READER.with(|f| f.set(fast));
        let shared = Arc::new(text.to_string());
        let parsed = parse(&shared, FileId::default(), &Limits::default());
        FAST_READER.with(|f| f.set(true));
        // what a document says: each node's value, spans and style, from the root down
        // (not where a node is in the document's array: the block reader's documents are
        // laid out as they are read, saphyr's from the root at the end, and a collection a
        // duplicate key replaced leaves its children in the first and nothing in the
        // second; nor how a string is kept: saphyr hands over copies of some that are
        // ranges of the text)
        fn dump(doc: &Document, id: NodeId, out: &mut Vec<String>) {
            let Some(n) = doc.node(id) else {
                out.push(format!("missing node {id}"));
                return;
            };
            let value = match &n.value {
                Value::Map(e) => format!("{:?}", e.iter().map(|(k, _)| k).collect::<Vec<_>>()),
                Value::Seq(items) => format!("{} items", items.len()),
                other => format!("{other:?}"),
            };
            out.push(format!(
                "{value} {:?} {:?} {:?}",
                n.span, n.key_span, n.style
            ));
            match n.value {
                Value::Map(e) => e.iter().for_each(|(_, c)| dump(doc, c, out)),
                Value::Seq(items) => items.iter().for_each(|&c| dump(doc, c, out)),
                _ => {}
            }
        }
        let docs: Vec<String> = parsed
            .docs
            .iter()
            .map(|d| match d {
                Ok(doc) => {
                    let mut nodes = Vec::new();
                    dump(doc, doc.root, &mut nodes);
                    format!("{} {:?} {}", doc.index, doc.helm_source, nodes.join("\n"))
                }
                Err(e) => format!("{e:?}"),
            })
            .collect();
        format!("{docs:#?}\n{:?}\n{}", parsed.diagnostics, parsed.aliases)
    }

    /// A stream read with the block reader, which gives up on some of its documents (then
    /// saphyr reads that document, and the block reader the rest), is read as saphyr
    /// alone reads it: documents, spans, diagnostics and their order.
    #[test]
    fn documents_the_block_reader_gives_up_on_read_as_saphyr_reads_them() {
        let fine = "a: 1\nb: [x]\nb: 2\n";
        let given_up = [
            "a: &x 1\nc: *x\nc: 3\n",
            "a:\tb\n",
            "a: >\n  folded\nb: 1\nb: 2\n",
            "a: b: c\n",
            "a: \"x\\qy\"\n",
            "  a: 1\n b: 2\n",
            "- - a\n",
            "%YAML 1.2\n",
            "b: 1\nb: 2\na: >\n  x\n",
        ];
        let mut cases = Vec::new();
        for g in given_up {
            cases.push(format!("{g}---\n{fine}---\n{fine}"));
            cases.push(format!("{fine}---\n{g}---\n{fine}"));
            cases.push(format!("# c\n{fine}---\n{fine}---\n{g}"));
            cases.push(format!("---\n{g}...\n---\n{fine}"));
            cases.push(format!("{fine}---\n{g}---\n{g}---\n{fine}"));
        }
        for c in &cases {
            assert_eq!(read_with(c, true), read_with(c, false), "{c}");
        }
        // and a file that the block reader reads whole
        assert_eq!(read_with(fine, true), read_with(fine, false));
    }

    /// Every YAML file of the repository's examples and tests, and of the shared corpus
    /// when it is beside the repository, reads the same with the block reader as with
    /// saphyr alone.
    #[test]
    fn real_files_read_as_saphyr_alone_reads_them() {
        let files = super::block::tests::yaml_files();
        for (p, text) in &files {
            let (a, b) = (read_with(text, true), read_with(text, false));
            if a != b {
                let at = a
                    .bytes()
                    .zip(b.bytes())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                let from = at.saturating_sub(300);
                let show = |s: &str| s.get(from..at + 200).unwrap_or("").to_string();
                panic!("{}\n{}\n---\n{}", p.display(), show(&a), show(&b));
            }
        }
        assert!(!files.is_empty());
    }

    /// A plain scalar told a string by its length and first byte resolves as testing every
    /// form gives: the null and boolean words and their longer neighbours, numbers in every
    /// form, and any short or long text.
    #[test]
    fn resolving_by_length_and_first_byte_agrees_with_every_form() {
        use proptest::prelude::*;
        let same = |s: &str| {
            assert_eq!(
                format!("{:?}", resolve_plain(s)),
                format!("{:?}", resolve_by_form(s)),
                "{s:?}"
            );
        };
        for w in [
            "",
            "~",
            "null",
            "Nulls",
            "y",
            "yes",
            "true",
            "TRUE",
            "false",
            "False",
            "FALSE",
            "falsey",
            "Falsey",
            "offset",
            "on",
            "NO",
            "nothing",
            ".inf",
            "-.Inf",
            ".nan",
            "0x1F",
            "0o755",
            "1_000_000",
            "+12345",
            "-3.5e10",
            "123456",
            "1.5",
            ".5e3",
            "tomorrow",
            "y-axis",
            "n/a",
        ] {
            same(w);
        }
        proptest!(|(s in "[-+._~0-9a-zA-Z:/ ]{0,12}")| same(&s));
    }

    #[test]
    fn resolves_yaml11_scalars() {
        assert_eq!(resolve_plain("yes"), Value::Bool(true));
        assert_eq!(resolve_plain("OFF"), Value::Bool(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("0755"), Value::Int(0o755));
        assert_eq!(resolve_plain("0o755"), Value::Int(0o755));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("+12"), Value::Int(12));
        assert_eq!(resolve_plain("-3"), Value::Int(-3));
        assert_eq!(resolve_plain("1_000"), Value::Int(1000));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("08"), Value::Float(8.0));
        assert_eq!(resolve_plain(".inf"), Value::Float(f64::INFINITY));
        assert!(matches!(resolve_plain(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("="), Value::Str("="));
        assert_eq!(resolve_plain("1.2.3"), Value::Str("1.2.3"));
        assert_eq!(resolve_plain("_1"), Value::Str("_1"));
        assert_eq!(resolve_plain("-"), Value::Str("-"));
    }

    #[test]
    fn char_index_maps_to_bytes() {
        let t = "é".repeat(200) + "x";
        let c = CharIndex::new(&t);
        assert_eq!(c.byte(0), 0);
        assert_eq!(c.byte(1), 2);
        assert_eq!(c.byte(130), 260);
        assert_eq!(c.byte(200), 400);
        assert_eq!(c.byte(201), 401);
        assert_eq!(c.byte(202), 401);
        assert_eq!(c.byte(5000), 401);
        assert_eq!(c.byte(3), 6);
    }

    proptest::proptest! {
        /// Whatever order positions are asked in (forward, back, near, far, past the
        /// end), each is the byte offset of that character, as counting from the start
        /// gives it.
        #[test]
        fn char_index_agrees_with_counting_in_any_order(
            text in "[aé\u{1F600}\n-]{0,700}",
            asks in proptest::collection::vec(0usize..800, 0..60),
        ) {
            let c = CharIndex::new(&text);
            let direct = |ci: usize| text.char_indices().nth(ci).map_or(text.len(), |(b, _)| b);
            for ci in asks {
                proptest::prop_assert_eq!(c.byte(ci), direct(ci), "character {}", ci);
            }
        }
    }
}
