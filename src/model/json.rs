//! JSON reader that keeps a span on every value.
//!
//! Strict RFC 8259, hand-written and iterative (an explicit stack, bounded by
//! [`Limits::max_depth`]), with byte spans. Strings without escapes are copied straight from the
//! input slice.

use super::arena::{Builder, OPEN_NODES, OpenMap, OpenSeq, duplicate_key};
use super::load::Parsed;
use super::{Limits, Node, NodeId, SkipReason, StrRef, Style, Value};
use crate::diag::{Diagnostic, FileId, Span};
use std::sync::Arc;

enum Kind {
    Seq(OpenSeq),
    /// A mapping and the key of the value being read.
    Map {
        map: OpenMap,
        key: Key,
    },
}

/// A key read: its string and its span's start and end.
#[derive(Clone, Copy)]
struct Key {
    text: StrRef,
    start: u32,
    end: u32,
}

struct Frame {
    node: NodeId,
    kind: Kind,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: FileId,
    arena: Builder<'a>,
    diagnostics: Vec<Diagnostic>,
    scratch: String,
}

/// A located syntax error (boxed: the readers' results stay two words).
struct Fail {
    at: usize,
    message: String,
    code: &'static str,
}

type Res<T> = Result<T, Box<Fail>>;

#[cold]
fn fail<T>(at: usize, message: impl Into<String>) -> Res<T> {
    Err(Box::new(Fail {
        at,
        message: message.into(),
        code: "E1002",
    }))
}

/// A position as a span bound (as [`Span::new`] makes it).
fn bound(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

impl<'a> Reader<'a> {
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    #[inline]
    fn push(&mut self, value: Value<'_>, text: StrRef, style: Style, start: usize) -> NodeId {
        let span = self.span(start..self.pos);
        self.arena.push(Node::scalar(value, text, style, span))
    }

    #[inline]
    fn skip_ws(&mut self) {
        // compact JSON has no whitespace between tokens: one test then
        while let Some(&c) = self.bytes.get(self.pos) {
            if c > b' ' || !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return;
            }
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn describe(&self, at: usize) -> String {
        match self.text.get(at..).and_then(|s| s.chars().next()) {
            None => "end of input".to_string(),
            Some(c) if c.is_control() => format!("character {:?}", c),
            Some(c) => format!("`{c}`"),
        }
    }

    /// Parses a string starting at the opening quote.
    #[inline]
    fn string(&mut self) -> Res<StrRef> {
        let start = self.pos + 1;
        let end = plain_run(self.bytes, start);
        if self.bytes.get(end) == Some(&b'"') {
            // no escapes: a range of the text
            self.pos = end + 1;
            return Ok(StrRef::source(start, end - start));
        }
        self.pos = end;
        self.escaped(start - 1, start)
    }

    /// The rest of a string whose plain run from `start` (after the quote at `open`) ends
    /// at `pos` with something other than the closing quote.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, open: usize, start: usize) -> Res<StrRef> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push_str(self.text.get(start..self.pos).unwrap_or(""));
        loop {
            let run_start = self.pos;
            self.pos = plain_run(self.bytes, self.pos);
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.bytes.get(self.pos) {
                None => return fail(open, "unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    let s = self.arena.own(&out);
                    self.scratch = out;
                    return Ok(s);
                }
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    let c = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4(esc)?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos) != Some(&b'\\')
                                    || self.bytes.get(self.pos + 1) != Some(&b'u')
                                {
                                    return fail(esc, "unpaired surrogate in `\\u` escape");
                                }
                                self.pos += 2;
                                let lo = self.hex4(esc)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return fail(esc, "unpaired surrogate in `\\u` escape");
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return fail(esc, "unpaired surrogate in `\\u` escape");
                            } else {
                                hi
                            };
                            match char::from_u32(cp) {
                                Some(c) => {
                                    out.push(c);
                                    continue;
                                }
                                None => return fail(esc, "invalid `\\u` escape"),
                            }
                        }
                        _ => return fail(esc, "invalid escape in string"),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return fail(self.pos, "control character in string (escape it)"),
            }
        }
    }

    fn hex4(&mut self, esc: usize) -> Res<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()) {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => fail(esc, "invalid `\\u` escape (expected 4 hex digits)"),
        }
    }

    fn number(&mut self) -> Res<Value<'static>> {
        let start = self.pos;
        let digits = |r: &mut Reader<'_>| {
            let from = r.pos;
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                r.pos += 1;
            }
            r.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return fail(start, "leading zeros are not allowed in json numbers");
                }
            }
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return fail(start, "invalid number"),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            if digits(self) == 0 {
                return fail(self.pos, "expected a digit after `.`");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return fail(self.pos, "expected a digit in the exponent");
            }
        }
        let s = self.text.get(start..self.pos).unwrap_or("");
        if !float {
            if let Ok(i) = s.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        match s.parse::<f64>() {
            Ok(f) => Ok(Value::Float(f)),
            Err(_) => fail(start, "invalid number"),
        }
    }

    fn literal<'v>(&mut self, word: &str, value: Value<'v>) -> Res<Value<'v>> {
        if self
            .text
            .get(self.pos..)
            .is_some_and(|s| s.starts_with(word))
        {
            self.pos += word.len();
            Ok(value)
        } else {
            fail(
                self.pos,
                format!("expected a value, found {}", self.describe(self.pos)),
            )
        }
    }

    /// Parses a key string and the `:` after it, at `self.pos`.
    #[inline]
    fn key(&mut self) -> Res<Key> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return fail(
                self.pos,
                format!("expected a string key, found {}", self.describe(self.pos)),
            );
        }
        let start = self.pos;
        let text = self.string()?;
        let end = self.pos;
        if self.peek() == Some(b':') {
            self.pos += 1;
        } else {
            self.skip_ws();
            if self.peek() != Some(b':') {
                return fail(
                    self.pos,
                    format!("expected `:` after key, found {}", self.describe(self.pos)),
                );
            }
            self.pos += 1;
        }
        Ok(Key {
            text,
            start: bound(start),
            end: bound(end),
        })
    }

    /// Attaches a finished value to the collection being read.
    #[inline]
    fn attach(&mut self, kind: &mut Kind, id: NodeId) {
        match kind {
            Kind::Seq(_) => self.arena.push_item(id),
            Kind::Map { map, key } => {
                let kspan = Span {
                    file: self.file,
                    start: key.start,
                    end: key.end,
                };
                self.arena.set_key_span(id, Some(kspan));
                if let Some(old) = self.arena.insert(map, key.text, id) {
                    self.duplicate(key.text, kspan, old);
                }
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn duplicate(&mut self, key: StrRef, at: Span, old: NodeId) {
        let first = self.arena.key_span_of(old);
        let name = self.arena.resolve(key);
        self.diagnostics.push(duplicate_key(name, at, first));
    }

    fn document(&mut self, limits: &Limits) -> Res<Option<NodeId>> {
        let mut stack: Vec<Frame> = Vec::new();
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        loop {
            // Parse one value at `pos`.
            self.skip_ws();
            let start = self.pos;
            let mut done = match self.peek() {
                Some(b'"') => {
                    let s = self.string()?;
                    self.push(Value::Str(""), s, Style::DoubleQuoted, start)
                }
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= limits.max_depth {
                        return Err(Box::new(Fail {
                            at: start,
                            message: format!(
                                "nesting is deeper than the limit of {} levels",
                                limits.max_depth
                            ),
                            code: "E1003",
                        }));
                    }
                    self.pos += 1;
                    let node = self.push(Value::Null, StrRef::default(), Style::Plain, start);
                    self.skip_ws();
                    // a branch for each kind, each closing its own kind: one shared path
                    // (the kind in a value, closed by a match) read the 20k cluster in
                    // 441-454 M instructions instead of 433 M
                    if open == b'{' {
                        let map = self.arena.open_map();
                        if self.peek() == Some(b'}') {
                            self.pos += 1;
                            self.arena.close_map(node, map);
                            self.close(node)
                        } else {
                            let key = self.key()?;
                            stack.push(Frame {
                                node,
                                kind: Kind::Map { map, key },
                            });
                            continue;
                        }
                    } else {
                        let seq = self.arena.open_seq();
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                            self.arena.close_seq(node, seq);
                            self.close(node)
                        } else {
                            stack.push(Frame {
                                node,
                                kind: Kind::Seq(seq),
                            });
                            continue;
                        }
                    }
                }
                Some(b't') => self.scalar(start, "true", Value::Bool(true))?,
                Some(b'f') => self.scalar(start, "false", Value::Bool(false))?,
                Some(b'n') => self.scalar(start, "null", Value::Null)?,
                Some(b'-' | b'0'..=b'9') => {
                    let v = self.number()?;
                    self.push(v, StrRef::default(), Style::Plain, start)
                }
                _ => {
                    return fail(
                        start,
                        format!("expected a value, found {}", self.describe(start)),
                    );
                }
            };
            // Attach finished values to their parents, closing collections as they end.
            loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(Some(done));
                };
                self.attach(&mut frame.kind, done);
                self.skip_ws();
                let is_map = matches!(frame.kind, Kind::Map { .. });
                match (self.peek(), is_map) {
                    (Some(b','), false) => {
                        self.pos += 1;
                        break;
                    }
                    (Some(b','), true) => {
                        self.pos += 1;
                        let k = self.key()?;
                        if let Kind::Map { key, .. } = &mut frame.kind {
                            *key = k;
                        }
                        break;
                    }
                    (Some(b']'), false) | (Some(b'}'), true) => {
                        self.pos += 1;
                        let Some(frame) = stack.pop() else {
                            return fail(self.pos, "internal error");
                        };
                        match frame.kind {
                            Kind::Seq(seq) => self.arena.close_seq(frame.node, seq),
                            Kind::Map { map, .. } => self.arena.close_map(frame.node, map),
                        }
                        done = self.close(frame.node);
                    }
                    (_, false) => {
                        return fail(
                            self.pos,
                            format!("expected `,` or `]`, found {}", self.describe(self.pos)),
                        );
                    }
                    (_, true) => {
                        return fail(
                            self.pos,
                            format!("expected `,` or `}}`, found {}", self.describe(self.pos)),
                        );
                    }
                }
            }
        }
    }

    fn scalar(&mut self, start: usize, word: &str, value: Value<'_>) -> Res<NodeId> {
        let v = self.literal(word, value)?;
        Ok(self.push(v, StrRef::default(), Style::Plain, start))
    }

    /// Reads the values separated by commas from `start` to `end` into a sequence node.
    fn items(&mut self, start: usize, end: usize, limits: &Limits) -> Res<NodeId> {
        let node = self.push(Value::Null, StrRef::default(), Style::Plain, start);
        let seq = self.arena.open_seq();
        loop {
            match self.document(limits)? {
                Some(id) => self.arena.push_item(id),
                None => return fail(self.pos, "expected a value"),
            }
            if self.pos > end {
                return fail(self.pos, "value crosses the end of its piece");
            }
            if self.pos == end {
                break;
            }
            self.skip_ws();
            if self.peek() != Some(b',') {
                return fail(self.pos, "expected `,`");
            }
            self.pos += 1;
        }
        self.arena.close_seq(node, seq);
        Ok(self.close(node))
    }

    /// Ends a collection (its children are in place) at `pos`.
    #[inline]
    fn close(&mut self, node: NodeId) -> NodeId {
        let end = bound(self.pos);
        if let Some(n) = self.arena.node_mut(node) {
            n.end = end;
        }
        node
    }
}

/// Reads a JSON text as one document.
pub(crate) fn parse(shared: &Arc<String>, file: FileId, limits: &Limits) -> Parsed {
    read(shared, 0..shared.len(), file, limits, false)
}

/// Reads the comma-separated values in one range of a file's text (a piece of the items of
/// a split `List`) as a document whose root is a sequence of them.
pub(crate) fn parse_items(
    shared: &Arc<String>,
    range: std::ops::Range<usize>,
    file: FileId,
    limits: &Limits,
) -> Parsed {
    read(shared, range, file, limits, true)
}

fn read(
    shared: &Arc<String>,
    range: std::ops::Range<usize>,
    file: FileId,
    limits: &Limits,
    items: bool,
) -> Parsed {
    let text = shared.as_str();
    let end = range.end.min(text.len());
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: range.start,
        file,
        // about one node per 16 bytes of JSON: reserving it up front saves the copies of a
        // doubling arena (and the fresh pages they touch) on large exports
        arena: Builder::new(text, 0, text, file, OPEN_NODES).direct(range.len() / 16 + 16),
        diagnostics: Vec::new(),
        scratch: String::new(),
    };
    let result = if items {
        r.items(range.start, end, limits).map(Some)
    } else {
        r.document(limits).and_then(|root| {
            r.skip_ws();
            if r.pos < r.bytes.len() {
                fail(
                    r.pos,
                    format!("unexpected {} after the json value", r.describe(r.pos)),
                )
            } else {
                Ok(root)
            }
        })
    };
    let doc = match result {
        Ok(None) => Err(SkipReason::Empty),
        Ok(Some(root)) => Ok(
            std::mem::replace(&mut r.arena, Builder::new("", 0, "", file, 0)).finish(root, shared),
        ),
        Err(f) => {
            let end = text
                .get(f.at..)
                .and_then(|s| s.chars().next())
                .map_or(f.at, |c| f.at + c.len_utf8());
            let (message, reason) = if f.code == "E1003" {
                (f.message, SkipReason::LimitExceeded)
            } else {
                (
                    format!("invalid json: {}", f.message),
                    SkipReason::Malformed,
                )
            };
            r.diagnostics
                .push(Diagnostic::error(f.code, message).at(Span::new(file, f.at..end), "here"));
            Err(reason)
        }
    };
    Parsed {
        docs: vec![doc],
        diagnostics: r.diagnostics,
        aliases: 0,
        pieces: 0,
        objects: None,
    }
}

/// Whether a byte ends a string's plain run: a quote, a backslash or a control character.
fn ends_run(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The position of the first byte from `pos` on that ends a string's plain run (or the end
/// of the input), looked at eight bytes at a time. A JSON writer needs no escapes in a
/// string whose plain run is all of it.
pub(crate) fn plain_run(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // marks the bytes of `x` below `n` (n <= 0x80): the lowest mark is exact, and only the
    // lowest is read
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // `"` (0x22) is the byte that `^ 0x02` takes to 0x20, the one above the control
        // characters (which it keeps below 0x20): one test finds both
        let hits = below(x ^ (ONES * 0x02), 0x21) | below(x ^ (ONES * u64::from(b'\\')), 1);
        if hits != 0 {
            return pos + (hits.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while bytes.get(pos).is_some_and(|&c| !ends_run(c)) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time scan stops where a byte-at-a-time one does, from every
        /// position, on text full of quotes, backslashes, control and multi-byte characters.
        #[test]
        fn plain_run_stops_at_the_first_quote_backslash_or_control(
            s in "[a\"\\\\\u{0}\u{1f} \u{7f}é\u{1F600}~]{0,40}"
        ) {
            let b = s.as_bytes();
            for pos in 0..=b.len() + 1 {
                let naive = (pos..b.len()).find(|&i| ends_run(b[i])).unwrap_or(b.len().max(pos));
                prop_assert_eq!(plain_run(b, pos), naive, "from {}", pos);
            }
        }
    }
}
