//! A reader of its own for the common subset of block YAML: the mappings, sequences and
//! scalars that Kubernetes manifests are made of. It gives the events `saphyr-parser` gives
//! for the same text, with the same spans (as byte offsets), and gives up ([`Bail`]) on
//! anything outside the subset or that may be an error, within the document where it
//! finds it: the caller keeps the documents before that one and has `saphyr-parser` read
//! it (`model::yaml`). `saphyr` copies each plain scalar character by character and counts
//! every position in characters; reading the common case here costs a fraction of that.
//!
//! The subset: `---` lines between documents; block mappings whose keys are plain or quoted
//! scalars on one line (`key: value`, `key:` then a nested block, a scalar or a flow
//! collection on the next lines, or nothing); block sequences (`- item`, `- key: value` and
//! the lines of that mapping, `-` then a nested block), also at the indentation of their
//! key; plain scalars, also on several lines; single- and double-quoted scalars, escapes
//! and several lines included (not a line ending with an escape); literal block scalars
//! (`|`, `|-`); flow collections on one line; comments. Anything else (tabs, carriage
//! returns, characters YAML 1.1 does not print or reads as line breaks, anchors, aliases,
//! tags, folded or indented block scalars, `|+`, complex keys, a sequence in a sequence's
//! item (`- - x`), merge keys (`<<`, whose document the builder must keep whole to read
//! the mapping merged), `...`, directives) gives up.
//!
//! Where `saphyr` gives a span a reader would not expect, this reader gives the same one,
//! as `tests` below check against `saphyr` itself: a quoted scalar's span, and a flow
//! collection's brackets', run over the blanks after it (and the comment after those, at
//! the end of a line); an empty value's span is empty at its key's colon, an empty sequence
//! item's at the end of the dash's line, an empty document's is the next `---` (empty at
//! the end of the text); a sequence at its key's indentation starts at its first item's
//! text; the end of a literal block scalar is where the indentation of the line after it
//! ends.

use saphyr_parser::{Event, ScalarStyle};
use std::borrow::Cow;

/// The text is outside the subset this reader handles: read it with `saphyr-parser`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Bail;

type Res<T> = Result<T, Bail>;

/// How deep collections may nest here (deeper texts are left to `saphyr-parser`, which
/// gives the errors for them).
const MAX_DEPTH: usize = 64;

/// The longest implicit key YAML allows (1024 characters; counted here in bytes).
const MAX_KEY: usize = 1024;

/// Whether `src` has only characters this reader reads: no tab, carriage return or other
/// control character, and none of the characters that YAML 1.1 reads as line breaks or
/// does not print (left to `saphyr-parser`). Read by bytes, 64 at a time, each block
/// tested whole first for printable ASCII (which the compiler turns into vector
/// instructions). In a block that has other bytes, every character refused is a byte
/// below 0x20 other than a line feed, 0x7F, or starts with 0xC2 (U+0080 to U+009F), 0xE2
/// (U+2028, U+2029) or 0xEF (U+FEFF, U+FFFE, U+FFFF): only at those are the bytes after
/// looked at. (Decoding every character of a file that is not all ASCII was 6% of
/// scanning the real corpus.)
pub(crate) fn printable(src: &str) -> bool {
    let b = src.as_bytes();
    let ascii = |c: u8| (0x20..0x7f).contains(&c) || c == b'\n';
    let suspect = |c: u8| matches!(c, 0..0x20 | 0x7f | 0xc2 | 0xe2 | 0xef) && c != b'\n';
    b.chunks(64).enumerate().all(|(k, block)| {
        block.iter().fold(true, |ok, &c| ok & ascii(c))
            || block
                .iter()
                .enumerate()
                .all(|(i, &c)| !suspect(c) || printable_at(b, k * 64 + i))
    })
}

/// Whether the character at byte `i` of a text, which starts with a byte `printable` looks
/// at more closely, is one this reader reads.
fn printable_at(b: &[u8], i: usize) -> bool {
    match b.get(i..) {
        Some([0xc2, next, ..]) => !(0x80..=0x9f).contains(next),
        Some([0xe2, 0x80, 0xa8 | 0xa9, ..]) => false,
        Some([0xef, 0xbb, 0xbf, ..] | [0xef, 0xbf, 0xbe | 0xbf, ..]) => false,
        Some([0xe2 | 0xef, ..]) => true,
        // a control character or DEL
        _ => false,
    }
}

/// Reads the whole of `src`, giving each event with its byte span to `sink` (the stream's
/// start and end included, as `saphyr-parser` gives them). `Err` when the text is outside
/// the subset; `sink` has then been given the events up to there, of which the caller
/// keeps the documents that were finished.
pub(crate) fn read<'a>(src: &'a str, sink: &mut dyn FnMut(Event<'a>, usize, usize)) -> Res<()> {
    read_to(src, sink).map_err(|_| Bail)
}

/// [`read`], saying on which line it gave up.
fn read_to<'a>(src: &'a str, sink: &mut dyn FnMut(Event<'a>, usize, usize)) -> Result<(), usize> {
    if !printable(src) {
        return Err(0);
    }
    let mut r = Reader {
        src,
        b: src.as_bytes(),
        line: 0,
        seen: None,
        depth: 0,
        sink,
    };
    r.stream().map_err(|Bail| r.line)
}

struct Reader<'a, 's> {
    src: &'a str,
    b: &'a [u8],
    /// The start of the line being read.
    line: usize,
    /// The last line [`Reader::next_line`] found: from where, where it starts, what it is.
    seen: Option<(usize, usize, Line)>,
    depth: usize,
    sink: &'s mut dyn FnMut(Event<'a>, usize, usize),
}

/// What the next line that holds something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    /// Content at this indentation, starting at this offset.
    Content { indent: usize, at: usize },
    /// A `---` line (at this offset).
    Marker(usize),
    /// The end of the text.
    End,
}

impl<'a> Reader<'a, '_> {
    fn emit(&mut self, ev: Event<'a>, start: usize, end: usize) {
        (self.sink)(ev, start, end);
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    /// The end of the line holding `at` (its line feed, or the end of the text).
    fn eol(&self, at: usize) -> usize {
        self.b
            .get(at..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(self.b.len(), |i| at + i)
    }

    /// The first offset at or after `at` that is not a space: eight bytes at a time (the
    /// indentation of a nested field of an exported object is a dozen spaces or more).
    fn skip_spaces(&self, mut at: usize) -> usize {
        const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
        while let Some(chunk) = self.b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
            let other = u64::from_le_bytes(*chunk) ^ SPACES;
            if other != 0 {
                // the first byte that is not a space is the lowest nonzero one
                return at + (other.trailing_zeros() / 8) as usize;
            }
            at += 8;
        }
        while self.byte(at) == Some(b' ') {
            at += 1;
        }
        at
    }

    /// The next line from `self.line` on that holds content or is a document marker,
    /// skipping blank and comment lines; `self.line` is left at its start.
    fn next_line(&mut self) -> Res<Line> {
        // the readers of a value look ahead, then their caller looks again
        if let Some((from, to, line)) = self.seen {
            if from == self.line || to == self.line {
                self.line = to;
                return Ok(line);
            }
        }
        let from = self.line;
        let line = self.find_line()?;
        self.seen = Some((from, self.line, line));
        Ok(line)
    }

    fn find_line(&mut self) -> Res<Line> {
        loop {
            let start = self.line;
            if start >= self.b.len() {
                return Ok(Line::End);
            }
            let at = self.skip_spaces(start);
            match self.byte(at) {
                None => {
                    self.line = self.b.len();
                    return Ok(Line::End);
                }
                Some(b'\n') => self.line = at + 1,
                Some(b'#') => self.line = self.eol(at) + 1,
                Some(b'-') if at == start && self.b.get(at..at + 3) == Some(b"---") => {
                    return match self.byte(at + 3) {
                        None | Some(b'\n') => Ok(Line::Marker(at)),
                        Some(b' ') => {
                            let after = self.skip_spaces(at + 3);
                            match self.byte(after) {
                                None | Some(b'\n' | b'#') => Ok(Line::Marker(at)),
                                // content after `---`
                                _ => Err(Bail),
                            }
                        }
                        _ => Err(Bail),
                    };
                }
                Some(b'.' | b'%') if at == start => return Err(Bail),
                Some(_) => {
                    return Ok(Line::Content {
                        indent: at - start,
                        at,
                    });
                }
            }
        }
    }

    fn stream(&mut self) -> Res<()> {
        self.emit(Event::StreamStart, 0, 0);
        let mut explicit: Option<usize> = None;
        loop {
            let next = self.next_line()?;
            let at = match next {
                Line::End => {
                    let len = self.b.len();
                    if explicit.is_some() {
                        // `---` then nothing: an empty document
                        self.empty(len, len);
                        self.emit(Event::DocumentEnd, len, len);
                    }
                    self.emit(Event::StreamEnd, len, len);
                    return Ok(());
                }
                Line::Marker(m) => {
                    if explicit.is_some() {
                        // `---` then `---`: an empty document, spanned by the second marker
                        self.empty(m, m + 3);
                        self.emit(Event::DocumentEnd, m, m + 3);
                    }
                    self.emit(Event::DocumentStart(true), m, m + 3);
                    explicit = Some(m);
                    self.line = self.eol(m) + 1;
                    continue;
                }
                Line::Content { at, .. } => at,
            };
            if explicit.is_none() {
                self.emit(Event::DocumentStart(false), at, at);
            }
            self.node(0, false)?;
            // after the root: only a marker or the end
            match self.next_line()? {
                Line::End => {
                    let len = self.b.len();
                    self.emit(Event::DocumentEnd, len, len);
                    self.emit(Event::StreamEnd, len, len);
                    return Ok(());
                }
                Line::Marker(m) => {
                    self.emit(Event::DocumentEnd, m, m + 3);
                    self.emit(Event::DocumentStart(true), m, m + 3);
                    explicit = Some(m);
                    self.line = self.eol(m) + 1;
                }
                Line::Content { .. } => return Err(Bail),
            }
        }
    }

    /// Reads the node whose first line is the content line at `self.line`, indented by at
    /// least `min`: a sequence when it starts with a dash, a mapping when it starts with a
    /// key, else (below a key) a scalar or a flow collection. A sequence at `min - 1` is one
    /// written at its key's indentation (`indentless`).
    fn node(&mut self, min: usize, indentless: bool) -> Res<()> {
        let Line::Content { indent, at } = self.next_line()? else {
            return Err(Bail);
        };
        if indent < min && !(indentless && indent + 1 == min) {
            return Err(Bail);
        }
        self.enter()?;
        if self.is_dash(at) {
            self.sequence(indent, at, indentless && indent + 1 == min)?;
        } else if min > 0 && !indentless && self.key_at(at, self.eol(at))?.is_none() {
            // `key:` and on the next line a scalar or a flow collection
            self.scalar(min - 1, at, self.eol(at))?;
        } else {
            self.mapping(indent, at)?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// One collection deeper; deeper than [`MAX_DEPTH`] is left to saphyr.
    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// The empty scalar of a missing value, spanned `start..end` as saphyr spans it.
    fn empty(&mut self, start: usize, end: usize) {
        self.emit(
            Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
            start,
            end,
        );
    }

    /// After a scalar of a key or item at column `col`: no line indented more follows it
    /// (one would go on with the scalar, or be an error: left to saphyr).
    fn nothing_below(&mut self, col: usize) -> Res<()> {
        match self.next_line()? {
            Line::Content { indent, .. } if indent > col => Err(Bail),
            _ => Ok(()),
        }
    }

    /// Whether a sequence item starts at `at` (a dash, then a space or the line's end).
    fn is_dash(&self, at: usize) -> bool {
        self.byte(at) == Some(b'-') && matches!(self.byte(at + 1), None | Some(b' ' | b'\n'))
    }

    /// A block sequence whose items' dashes are at column `col`; the first at `at`.
    /// At its key's indentation (`indentless`), saphyr starts its span at its first item's
    /// text (where the document builder keeps it when that is a `[`).
    fn sequence(&mut self, col: usize, mut at: usize, indentless: bool) -> Res<()> {
        let start = if indentless {
            let r = self.skip_spaces(at + 1);
            if matches!(self.byte(r), None | Some(b'\n' | b'#')) {
                return Err(Bail);
            }
            r
        } else {
            at
        };
        self.emit(Event::SequenceStart(0, None), start, start);
        loop {
            self.item(col, at)?;
            match self.next_line()? {
                Line::Content { indent, at: next } if indent == col => {
                    if !self.is_dash(next) {
                        // a key after the items of a sequence at its key's indentation;
                        // the caller decides whether that is one
                        break;
                    }
                    at = next;
                }
                Line::Content { indent, .. } if indent > col => return Err(Bail),
                _ => break,
            }
        }
        let end = self.line.min(self.b.len());
        self.emit(Event::SequenceEnd, end, end);
        Ok(())
    }

    /// One item of a sequence: its dash at `dash`, in column `col`.
    fn item(&mut self, col: usize, dash: usize) -> Res<()> {
        let eol = self.eol(dash);
        let r = self.skip_spaces(dash + 1);
        match self.byte(r) {
            None | Some(b'\n' | b'#') => {
                self.line = eol + 1;
                match self.next_line()? {
                    Line::Content { indent, .. } if indent > col => self.node(col + 1, false),
                    _ => {
                        self.empty(eol, eol);
                        Ok(())
                    }
                }
            }
            Some(_) if self.is_dash(r) => Err(Bail),
            Some(_) => {
                if self.key_at(r, eol)?.is_some() {
                    // `- key: value`: a mapping at the key's column
                    self.line = self.line_start(r);
                    self.enter()?;
                    self.mapping(r - self.line_start(r), r)?;
                    self.depth -= 1;
                    Ok(())
                } else {
                    self.scalar(col, r, eol)
                }
            }
        }
    }

    fn line_start(&self, at: usize) -> usize {
        self.b
            .get(..at)
            .and_then(|b| memchr::memrchr(b'\n', b))
            .map_or(0, |i| i + 1)
    }

    /// When a mapping key starts at `at` (before `eol`): the end of its scalar (what its
    /// span ends at) and the offset of its colon. `None` when the line is not a key.
    fn key_at(&self, at: usize, eol: usize) -> Res<Option<(usize, usize)>> {
        let line = self.b.get(at..eol).ok_or(Bail)?;
        match line.first() {
            Some(b'[' | b'{') => Ok(None),
            Some(&q @ (b'"' | b'\'')) => {
                // a quoted scalar that goes on to the next line is not a key
                let Some(close) = closing_quote(line, q) else {
                    return Ok(None);
                };
                let after = at + close + 1;
                match self.byte(after) {
                    Some(b':') if matches!(self.byte(after + 1), None | Some(b' ' | b'\n')) => {
                        Ok(Some((after, after)))
                    }
                    _ => Ok(None),
                }
            }
            _ => {
                // byte by byte: most keys end within a few bytes, where a search would
                // cost more to start than to finish
                for (i, &b) in line.iter().enumerate() {
                    match b {
                        b'#' if i > 0 && line.get(i - 1) == Some(&b' ') => return Ok(None),
                        b':' if matches!(line.get(i + 1), None | Some(b' ')) => {
                            return Ok(Some((at + i, at + i)));
                        }
                        _ => {}
                    }
                }
                Ok(None)
            }
        }
    }

    /// A block mapping whose keys are at column `col`; the first at `at`.
    fn mapping(&mut self, col: usize, mut at: usize) -> Res<()> {
        self.emit(Event::MappingStart(0, None), at, at);
        loop {
            let eol = self.eol(at);
            let Some((key_end, colon)) = self.key_at(at, eol)? else {
                return Err(Bail);
            };
            self.key(at, key_end)?;
            self.value(col, colon, eol)?;
            match self.next_line()? {
                Line::Content { indent, at: next } if indent == col => {
                    if self.is_dash(next) {
                        return Err(Bail);
                    }
                    at = next;
                }
                Line::Content { indent, .. } if indent > col => return Err(Bail),
                _ => break,
            }
        }
        let end = self.line.min(self.b.len());
        self.emit(Event::MappingEnd, end, end);
        Ok(())
    }

    /// A key from `at` to `end` (just before its colon).
    fn key(&mut self, at: usize, end: usize) -> Res<()> {
        let text = self.src.get(at..end).ok_or(Bail)?;
        if text.len() > MAX_KEY || text.ends_with(' ') {
            return Err(Bail);
        }
        match text.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => {
                let inner = text.get(1..text.len().max(2) - 1).ok_or(Bail)?;
                let value = unquote(inner, q).ok_or(Bail)?;
                self.emit(Event::Scalar(value, quote_style(q), 0, None), at, end);
            }
            // a merge key reads the mapping it merges: left to saphyr, whose events the
            // document builder keeps whole
            _ if text == "<<" => return Err(Bail),
            Some(&c) if plain_start(c, self.byte(at + 1), false) => {
                self.emit(
                    Event::Scalar(Cow::Borrowed(text), ScalarStyle::Plain, 0, None),
                    at,
                    end,
                );
            }
            _ => return Err(Bail),
        }
        Ok(())
    }

    /// The value of a mapping entry whose key is at column `col` and whose colon is at
    /// `colon`, on the line ending at `eol`.
    fn value(&mut self, col: usize, colon: usize, eol: usize) -> Res<()> {
        let r = self.skip_spaces(colon + 1);
        match self.byte(r) {
            None | Some(b'\n' | b'#') => {
                self.line = eol + 1;
                match self.next_line()? {
                    Line::Content { indent, .. } if indent > col => self.node(col + 1, false),
                    Line::Content { indent, at } if indent == col && self.is_dash(at) => {
                        self.node(col + 1, true)
                    }
                    _ => {
                        self.empty(colon, colon);
                        Ok(())
                    }
                }
            }
            Some(_) => self.scalar(col, r, eol),
        }
    }

    /// A scalar (or `[]`, `{}`) written on the line of its key or dash at column `col`,
    /// from `at` to at most `eol`; then `self.line` is the next line. The text must not
    /// go on to the next lines.
    fn scalar(&mut self, col: usize, at: usize, eol: usize) -> Res<()> {
        let c = self.byte(at).ok_or(Bail)?;
        match c {
            b'"' | b'\'' => {
                let line = self.b.get(at..eol).ok_or(Bail)?;
                let Some(close) = closing_quote(line, c) else {
                    return self.quoted_lines(col, at, c);
                };
                let close = at + close;
                let inner = self.src.get(at + 1..close).ok_or(Bail)?;
                let value = unquote(inner, c).ok_or(Bail)?;
                let end = self.trailer(close + 1, eol)?;
                self.emit(Event::Scalar(value, quote_style(c), 0, None), at, end);
                self.line = eol + 1;
            }
            b'[' | b'{' => {
                let close = self.flow(at, 0)?;
                self.trailer(close, eol)?;
                self.line = eol + 1;
            }
            b'|' => return self.literal(col, at, eol),
            _ if plain_start(c, self.byte(at + 1), false) => {
                let line = self.b.get(at..eol).ok_or(Bail)?;
                // the value ends at a comment (a `#` after a space); a `: ` before that
                // (or a value ending with `:`) is a key where none may be
                let mut end = line.len();
                let mut from = 0;
                while let Some(i) = line
                    .get(from..)
                    .and_then(|r| memchr::memchr2(b'#', b':', r))
                {
                    let i = from + i;
                    match line.get(i) {
                        Some(b'#') if line.get(i.wrapping_sub(1)) == Some(&b' ') => {
                            end = i;
                            break;
                        }
                        Some(b':') if matches!(line.get(i + 1), None | Some(b' ')) => {
                            return Err(Bail);
                        }
                        _ => from = i + 1,
                    }
                }
                let text = line.get(..end).ok_or(Bail)?;
                let trimmed = trim_spaces(text);
                if text.get(..trimmed).is_some_and(|t| t.ends_with(b":")) {
                    return Err(Bail);
                }
                let value = self.src.get(at..at + trimmed).ok_or(Bail)?;
                self.line = eol + 1;
                if end == line.len() {
                    // no comment: the scalar may go on to the lines indented more
                    if let Some((folded, last)) = self.plain_lines(col, value)? {
                        self.emit(
                            Event::Scalar(Cow::Owned(folded), ScalarStyle::Plain, 0, None),
                            at,
                            last,
                        );
                        return Ok(());
                    }
                }
                self.emit(
                    Event::Scalar(Cow::Borrowed(value), ScalarStyle::Plain, 0, None),
                    at,
                    at + trimmed,
                );
            }
            _ => return Err(Bail),
        }
        self.nothing_below(col)
    }

    /// The lines from `self.line` on that continue a plain scalar whose first line is
    /// `first`, of a key or item at column `col`: `None` when there are none; else the value
    /// (lines joined by a space, or by a line feed per empty line between them) and the end
    /// of its last line's text, and `self.line` is the line after it.
    fn plain_lines(&mut self, col: usize, first: &str) -> Res<Option<(String, usize)>> {
        let mut value: Option<String> = None;
        let mut line = self.line;
        let mut empty = 0usize;
        let mut last = 0;
        loop {
            if line >= self.b.len() {
                break;
            }
            let content = self.skip_spaces(line);
            if matches!(self.byte(content), None | Some(b'\n')) {
                empty += 1;
                line = content + 1;
                continue;
            }
            if content - line <= col {
                break;
            }
            let eol = self.eol(content);
            let text = self.b.get(content..eol).ok_or(Bail)?;
            // a comment, a key, a dash or an indicator on a continued line: left to saphyr
            if text.first() == Some(&b'#')
                || text.starts_with(b"- ")
                || text == b"-"
                || text.ends_with(b":")
                || memchr::memmem::find(text, b": ").is_some()
                || memchr::memmem::find(text, b" #").is_some()
            {
                return Err(Bail);
            }
            let trimmed = trim_spaces(text);
            let piece = self.src.get(content..content + trimmed).ok_or(Bail)?;
            let v = value.get_or_insert_with(|| first.to_string());
            if empty == 0 {
                v.push(' ');
            }
            for _ in 0..empty {
                v.push('\n');
            }
            v.push_str(piece);
            empty = 0;
            last = content + trimmed;
            line = eol + 1;
            self.line = line;
        }
        Ok(value.map(|v| (v, last)))
    }

    /// A quoted scalar (quote `q`, at `at`) that goes on past its first line, the value of
    /// a key or an item at column `col`: its lines folded (a line break between two lines
    /// is a space, each empty line between them a line feed; the spaces around a break
    /// dropped).
    fn quoted_lines(&mut self, col: usize, at: usize, q: u8) -> Res<()> {
        let eol = self.eol(at);
        let first = self.b.get(at + 1..eol).ok_or(Bail)?;
        let mut pieces: Vec<(usize, usize, usize)> = vec![(at + 1, at + 1 + trim_spaces(first), 0)];
        let mut line = eol + 1;
        let mut empty = 0usize;
        let close = loop {
            if line >= self.b.len() {
                return Err(Bail);
            }
            let content = self.skip_spaces(line);
            let leol = self.eol(line);
            if matches!(self.byte(content), None | Some(b'\n')) {
                empty += 1;
                line = leol + 1;
                continue;
            }
            if content - line <= col {
                return Err(Bail);
            }
            let text = self.b.get(content..leol).ok_or(Bail)?;
            match close_in(text, 0, q) {
                Some(i) => {
                    pieces.push((content, content + i, empty));
                    break content + i;
                }
                None => pieces.push((content, content + trim_spaces(text), empty)),
            }
            empty = 0;
            line = leol + 1;
        };
        let mut value = String::new();
        for (n, &(from, to, empty)) in pieces.iter().enumerate() {
            let raw = self.src.get(from..to).ok_or(Bail)?;
            // an escaped line break (`\` at the end of a line) is left to saphyr
            if q == b'"' && n + 1 < pieces.len() && raw.ends_with('\\') {
                return Err(Bail);
            }
            if n > 0 {
                if empty == 0 {
                    value.push(' ');
                }
                for _ in 0..empty {
                    value.push('\n');
                }
            }
            value.push_str(&unquote(raw, q).ok_or(Bail)?);
        }
        let leol = self.eol(close);
        let end = self.trailer(close + 1, leol)?;
        self.emit(
            Event::Scalar(Cow::Owned(value), quote_style(q), 0, None),
            at,
            end,
        );
        self.line = leol + 1;
        self.nothing_below(col)
    }

    /// What may follow a quoted scalar or `[]` on its line, from `at`: spaces, then a
    /// comment; the end of its span (the end of the spaces, or of the comment).
    fn trailer(&self, at: usize, eol: usize) -> Res<usize> {
        let after = self.skip_spaces(at);
        match self.byte(after) {
            None | Some(b'\n') => Ok(after),
            Some(b'#') if after > at => Ok(eol),
            _ => Err(Bail),
        }
    }

    /// A flow collection on one line, its opening bracket at `at`, `depth` collections
    /// deep in flow: its events, and the offset after its closing bracket. The closing
    /// bracket's span runs over the spaces after it, and for the outermost one over a
    /// comment after those (as a quoted scalar's does).
    fn flow(&mut self, at: usize, depth: usize) -> Res<usize> {
        if self.depth + depth > MAX_DEPTH {
            return Err(Bail);
        }
        let seq = self.byte(at) == Some(b'[');
        let close = if seq { b']' } else { b'}' };
        let mut p = self.skip_spaces(at + 1);
        if seq {
            self.emit(Event::SequenceStart(0, None), at, p);
        } else {
            self.emit(Event::MappingStart(0, None), at, p);
        }
        if self.byte(p) != Some(close) {
            loop {
                if !seq {
                    // a key, a colon and a space, then the value
                    p = self.flow_scalar(p, true)?;
                    if self.byte(p) != Some(b':') || self.byte(p + 1) != Some(b' ') {
                        return Err(Bail);
                    }
                    p = self.skip_spaces(p + 1);
                }
                p = match self.byte(p) {
                    Some(b'[' | b'{') => {
                        let after = self.flow(p, depth + 1)?;
                        self.skip_spaces(after)
                    }
                    _ => self.flow_scalar(p, false)?,
                };
                match self.byte(p) {
                    Some(b',') => {
                        p = self.skip_spaces(p + 1);
                        // `[a, ]`, `[a,,b]`: left to saphyr
                        if matches!(self.byte(p), Some(b',' | b']' | b'}')) {
                            return Err(Bail);
                        }
                    }
                    Some(b) if b == close => break,
                    _ => return Err(Bail),
                }
            }
        }
        let after = self.skip_spaces(p + 1);
        let end = match self.byte(after) {
            Some(b'#') if depth == 0 && after > p + 1 => self.eol(after),
            Some(b'#') => return Err(Bail),
            _ => after,
        };
        if seq {
            self.emit(Event::SequenceEnd, p, end);
        } else {
            self.emit(Event::MappingEnd, p, end);
        }
        Ok(p + 1)
    }

    /// A scalar in a flow collection at `at` (a key when `key`): its event, and the
    /// offset of what follows it (after the spaces after it).
    fn flow_scalar(&mut self, at: usize, key: bool) -> Res<usize> {
        let c = self.byte(at).ok_or(Bail)?;
        if c == b'"' || c == b'\'' {
            let eol = self.eol(at);
            let line = self.b.get(at..eol).ok_or(Bail)?;
            let close = at + closing_quote(line, c).ok_or(Bail)?;
            let inner = self.src.get(at + 1..close).ok_or(Bail)?;
            let value = unquote(inner, c).ok_or(Bail)?;
            let after = self.skip_spaces(close + 1);
            self.emit(Event::Scalar(value, quote_style(c), 0, None), at, after);
            return Ok(after);
        }
        if !plain_start(c, self.byte(at + 1), true) {
            return Err(Bail);
        }
        // a plain scalar ends before a flow indicator, a `: ` (or `:` before an indicator)
        // or a comment
        let mut p = at;
        loop {
            match self.byte(p) {
                None | Some(b'\n' | b',' | b'[' | b']' | b'{' | b'}') => break,
                Some(b':')
                    if matches!(
                        self.byte(p + 1),
                        None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                    ) =>
                {
                    break;
                }
                Some(b'#') if self.byte(p.wrapping_sub(1)) == Some(b' ') => return Err(Bail),
                Some(_) => p += 1,
            }
        }
        let text = self.b.get(at..p).ok_or(Bail)?;
        let end = at + trim_spaces(text);
        if self.byte(p) == Some(b':') && !key {
            // `[a: b]`, `{a: b: c}`
            return Err(Bail);
        }
        let value = self.src.get(at..end).ok_or(Bail)?;
        if key && value == "<<" {
            return Err(Bail);
        }
        self.emit(
            Event::Scalar(Cow::Borrowed(value), ScalarStyle::Plain, 0, None),
            at,
            end,
        );
        Ok(self.skip_spaces(end))
    }

    /// A literal block scalar (`|` or `|-`) at `at`, the value of a key or an item at
    /// column `col`.
    fn literal(&mut self, col: usize, at: usize, eol: usize) -> Res<()> {
        let strip = match self.byte(at + 1) {
            Some(b'-') => true,
            None | Some(b' ' | b'\n') => false,
            _ => return Err(Bail),
        };
        let header_end = at + 1 + usize::from(strip);
        let after = self.skip_spaces(header_end);
        match self.byte(after) {
            None | Some(b'\n') => {}
            Some(b'#') if after > header_end => {}
            _ => return Err(Bail),
        }
        // the first line sets the indentation; an empty line before it is left to saphyr
        let first = eol + 1;
        let first_at = self.skip_spaces(first);
        let indent = first_at - first;
        if first >= self.b.len()
            || indent <= col
            || matches!(self.byte(first_at), None | Some(b'\n'))
        {
            return Err(Bail);
        }
        let mut value = String::new();
        let mut blank_run = 0usize;
        let mut line = first;
        let end;
        loop {
            if line >= self.b.len() {
                end = self.b.len();
                break;
            }
            let content = self.skip_spaces(line);
            let spaces = content - line;
            let line_end = self.eol(line);
            if matches!(self.byte(content), None | Some(b'\n')) {
                // a line of spaces only: empty, unless it has more than the indentation
                if spaces > indent {
                    return Err(Bail);
                }
                blank_run += 1;
                line = line_end + 1;
                continue;
            }
            if spaces < indent {
                end = content;
                break;
            }
            for _ in 0..blank_run {
                value.push('\n');
            }
            blank_run = 0;
            if !value.is_empty() || line != first {
                value.push('\n');
            }
            value.push_str(self.src.get(line + indent..line_end).ok_or(Bail)?);
            line = line_end + 1;
        }
        if !strip {
            value.push('\n');
        }
        self.emit(
            Event::Scalar(Cow::Owned(value), ScalarStyle::Literal, 0, None),
            first_at,
            end,
        );
        self.line = self.line_start(end.min(self.b.len()));
        if end >= self.b.len() {
            self.line = self.b.len();
        }
        Ok(())
    }
}

/// The length of `text` without the spaces at its end.
fn trim_spaces(text: &[u8]) -> usize {
    text.len() - text.iter().rev().take_while(|&&b| b == b' ').count()
}

fn quote_style(q: u8) -> ScalarStyle {
    if q == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    }
}

/// The offset in `line` (which starts with the quote `q`) of the quote that closes it:
/// in single quotes the first not doubled, in double quotes the first not escaped.
fn closing_quote(line: &[u8], q: u8) -> Option<usize> {
    close_in(line, 1, q)
}

/// [`closing_quote`], looking from offset `i` of `line` on.
fn close_in(line: &[u8], mut i: usize, q: u8) -> Option<usize> {
    while let Some(&b) = line.get(i) {
        if q == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == q {
            if q == b'\'' && line.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The value of a quoted scalar on one line from the text between its quotes: borrowed
/// when it has no escape. `None` for an escape YAML does not have (left to saphyr, which
/// reports it, or to the rewrites of `lenient`).
fn unquote(inner: &str, q: u8) -> Option<Cow<'_, str>> {
    if q == b'\'' {
        return Some(if inner.contains('\'') {
            Cow::Owned(inner.replace("''", "'"))
        } else {
            Cow::Borrowed(inner)
        });
    }
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let hex = |n: usize, chars: &mut std::str::Chars<'_>| -> Option<char> {
            let digits: String = chars.by_ref().take(n).collect();
            if digits.len() != n || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        out.push(match e {
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(2, &mut chars)?,
            'u' => hex(4, &mut chars)?,
            'U' => hex(8, &mut chars)?,
            _ => return None,
        });
    }
    Some(Cow::Owned(out))
}

/// Whether a plain scalar may start with `c` (then `next`), in flow context when `flow`.
fn plain_start(c: u8, next: Option<u8>, flow: bool) -> bool {
    match c {
        b'-' | b'?' | b':' => match next {
            None | Some(b' ' | b'\n') => false,
            Some(b',' | b'[' | b']' | b'{' | b'}') => !flow,
            Some(_) => true,
        },
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' => false,
        _ => true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[allow(unused_imports)]
    use super::read_to;
    use super::{Bail, read};
    use saphyr_parser::{Event, Parser};

    /// The byte test of `printable` agrees with reading the characters, for every
    /// character: alone, between ASCII text, and with its bytes on either side of the edge
    /// of a 64-byte block (the bytes after a suspect one are read across it).
    #[test]
    fn printable_agrees_with_the_characters() {
        let reads = |c: char| match c {
            '\n' => true,
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
            _ => true,
        };
        let mut refused = 0;
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let want = reads(c);
            refused += usize::from(!want);
            assert_eq!(super::printable(&c.to_string()), want, "{c:?}");
            // the character's first byte the last of a block, or its bytes all in the next
            for before in [61, 62, 63, 64] {
                let text = format!("{}{c}é tail\n", "a".repeat(before));
                assert_eq!(super::printable(&text), want, "{c:?} after {before}");
            }
        }
        // the controls (but the line feed), DEL, the C1 controls and the five others
        assert_eq!(refused, 31 + 1 + 32 + 5);
        assert!(super::printable("key: \u{a0}value é ✓\n"));
        assert!(!super::printable("key:\tvalue\n"));
    }

    /// What the document builder reads of an event: the event (a scalar's value and style
    /// included) and its span, where the builder reads it: none for the end of a block
    /// collection (an empty span) and for an implicit document start, the dash for a
    /// sequence's start.
    fn projection(text: &str, ev: &Event<'_>, start: usize, end: usize) -> String {
        match ev {
            Event::SequenceEnd | Event::MappingEnd if start == end => format!("{ev:?}"),
            Event::DocumentStart(false) => format!("{ev:?}"),
            Event::SequenceStart(..) => {
                format!("{ev:?} {}", super::super::yaml::dash_before(text, start))
            }
            _ => format!("{ev:?} {start}..{end}"),
        }
    }

    /// saphyr's events, or `None` when it finds an error.
    fn saphyr(text: &str) -> Option<Vec<String>> {
        let bytes: Vec<usize> = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut out = Vec::new();
        for ev in Parser::new_from_str(text) {
            let (ev, span) = ev.ok()?;
            let start = *bytes.get(span.start.index())?;
            let end = *bytes.get(span.end.index())?;
            out.push(projection(text, &ev, start, end));
        }
        Some(out)
    }

    fn fast(text: &str) -> Result<Vec<String>, Bail> {
        let mut out = Vec::new();
        read(text, &mut |ev, start, end| {
            out.push(projection(text, &ev, start, end))
        })?;
        Ok(out)
    }

    /// Whether the reader reads `text` as saphyr does; `false` when it gives up. Panics
    /// when it reads it otherwise, or reads a text saphyr rejects.
    fn agrees(text: &str) -> bool {
        match (fast(text), saphyr(text)) {
            (Err(Bail), _) => false,
            (Ok(f), None) => panic!("read a text saphyr rejects:\n{text}\n{f:#?}"),
            (Ok(f), Some(s)) => {
                assert_eq!(f, s, "events differ for:\n{text}");
                true
            }
        }
    }

    #[test]
    fn reads_the_common_subset_as_saphyr_does() {
        let cases = [
            "",
            "# only\n",
            "a: 1\n",
            "a: 1",
            "---\n",
            "---\n---\na: 1",
            "a: 1\n---\n",
            "a: 1\n---\n\n",
            "--- # c\na: 1\n",
            "---\n# Source: a\n---\n# Source: b\nkind: X\n",
            "# c\napiVersion: v1\nkind: List\nitems:\n- a: 1\n  b: \"x y\"\n  c:\n    - p\n    - 'q'\n  d: []\n  e: {}\n- k: |\n    line1\n    line2\n  z: null\n",
            "a:\n  - x\n  -\n  - y: 1\n    z:\nb: 2",
            "- a\n- b\n",
            "a:\n  z:\nb: 1\n",
            "a:   # c\nb:\n",
            "a: \n\n# x\nb: 1",
            "- \n-   # c\n- x\n",
            "a:\n- x\n- \nb:",
            "a: x   \nb: \"q\"  # c\nc: x # y\n",
            "\"k\": v\n'k2': v2\n",
            "a: 'x'\nb: 'y' \nd: [] # c\ne: {}  \n",
            "a:\n  - \"x\"  # c\n  - \"y\"\n",
            "a: |\n  x\n\n  y\n\n\nb: |-\n  q\n  \nc: 1",
            "a: |\n  x\n# c\nb: |\n    y\n   # z\n",
            "a: |\n  x",
            "a: |\n  x\n",
            "a: |-\n  x\n  y\n---\nb: 1\n",
            "- |\n  x\n- y\n",
            "a:\n  b:\n    - x\n  c: 1\n",
            "- a: 1\n  b:\n  - x\n- c",
            "-\n  a: 1\n- b: 2\n  c:\n    d: e\n",
            "a: http://x:80/p\nb: x#y\nc: -1\nd: -x\n",
            "  a: 1\n  b: 2\n",
            "a: \"x\" # c\n",
            "a:\n  # c\n  b: 1\n",
            "a: |   # c\n  x\n",
            "a: |\n    x\n  y\n",
            "a: [\"x\", y, \"z\"] # c\nb: [ ]\nc: { }\nd: {k: v, \"q\": [1]}\n",
            "a:\n  []\nb:\n  {}\n",
            "a: [ \"x\" , y , \"z\" ]\n",
            "a: {k: \"v\" , \"q\" : 1 }\n",
            "a: [x, {k: v}]\nb: c\n",
            "- [a, b]\n- {k: v}\n- []\n",
            "a: \"x\\ny\\u00e9\"\nb: 'it''s'\nc: \"\\x41\\U0001F600\\e\\0\\\"\"\n",
            "a: é\nb: \"ü\"\nc: [ä, 'ö']\n",
            "- name: :path\n- ?x\n- a:b\n",
            "a: [b:c, -d, \"e f\"]\n",
            "a: x\n  y\n\n  z\nb: 1\n",
            "a: x\n  y   \n\n\n   z\n\n- q\n",
            "- x\n  y\n- z\n  w\n\n",
            "a:\n  b: x\n    y\n  c: 1\n",
            "a: x\n y",
            "a: x\n  \"y\", [z]\n  {w} &v *u !t |s >r %q @p `o ?n :m ,l\n",
            "a:\n  \"x\n  y\"\nb:\n  plain\n  more\nc:\n  [1, 2]\nd:\n  'q'\n",
            "- a:\n    x\n  b: 1\n",
            "a: \"x\n  y\"\n",
            "a:\n- []\n- x\nb:\n  c:\n  - {k: v}\n  - [1]\n",
            "a:\n-\n  b: 1\n",
            "a: 'x  \n   y\n\n  z '  # c\nb: \"p\\tq\n  r\\u00e9\"\n",
            "- 'a\n  b'\n- \"c\n\n\n  d\"\n",
            "a:\n  b: 'it''s\n    more'\n",
        ];
        let given_up: Vec<&str> = cases.into_iter().filter(|c| !agrees(c)).collect();
        // read here, not left to saphyr, but for these
        assert_eq!(
            given_up,
            [
                "a: |\n    x\n  y\n",
                "a: x\n  y   \n\n\n   z\n\n- q\n",
                "a:\n-\n  b: 1\n"
            ]
        );
    }

    #[test]
    fn gives_up_outside_the_subset() {
        for c in [
            "a: b: c\n",
            "a: x\n  # c\n  y\n",
            "a: \"x\\\n  y\"\n",
            "a: x\n  - y\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >\n  x\n",
            "a:\tb\n",
            "a: 1\r\n",
            "? a\n: b\n",
            "a: 1\n- b\n",
            "- - a\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "--- a\n",
            "hello\n",
            "a: |\n\n  x\n",
            "a: |+\n  x\n",
            "a: 1\n b: 2\n",
            "a: [1, 2,]\n",
            "a: [b: c]\n",
            "a: [1,\n  2]\n",
            "a: \"\\q\"\n",
            "a: {b}\n",
            "a: [x] y\n",
            "a:\n  <<: {b: 1}\n",
            "a: {<<: {b: 1}}\n",
        ] {
            assert_eq!(fast(c), Err(Bail), "{c:?}");
        }
    }

    /// Every YAML file of the repository's examples and tests, and of the shared corpus
    /// when it is beside the repository (which the tests say when it is not), with its text.
    pub(crate) fn yaml_files() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("examples"), root.join("tests")];
        let corpus = root.join("../shared/corpus");
        if corpus.is_dir() {
            dirs.push(corpus);
        } else {
            eprintln!("skipping ../shared/corpus: not found beside the repository");
        }
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    if let Ok(text) = std::fs::read_to_string(&p) {
                        files.push((p, text));
                    }
                }
            }
        }
        files.sort();
        files
    }

    /// Every YAML file of [`yaml_files`]: read as saphyr reads it, or given up on.
    #[test]
    fn reads_real_files_as_saphyr_does() {
        let files = yaml_files();
        let (mut read, mut bytes) = (0, 0usize);
        for (p, text) in &files {
            match std::panic::catch_unwind(|| agrees(text)) {
                Ok(true) => {
                    read += 1;
                    bytes += text.len();
                }
                Ok(false) => {
                    if std::env::var_os("KANON_BLOCK_DEBUG").is_some() {
                        let at = super::read_to(text, &mut |_, _, _| {}).err().unwrap_or(0);
                        let line = text.get(at..).and_then(|t| t.lines().next()).unwrap_or("");
                        eprintln!(
                            "gave up: {} ({} bytes) at {at}: {line:?}",
                            p.display(),
                            text.len()
                        );
                    }
                }
                Err(_) => panic!("{}", p.display()),
            }
        }
        eprintln!(
            "{read} of {} files read without saphyr ({bytes} bytes)",
            files.len()
        );
        assert!(read > 0);
    }

    mod generated {
        //! Random documents written by serde's YAML writer (quoting, escapes, block scalars
        //! and flow styles vary), indented again and edited byte by byte: wherever the
        //! reader does not give up, it reads as saphyr does.
        use super::agrees;
        use proptest::prelude::*;
        use serde_json::{Map, Value};

        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/common/generated_values.rs"
        ));

        /// Keys on one line, as manifests have them.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof!["[a-z]{1,8}", "[a-zA-Z0-9 :#,\\-'\"\\\\\\[\\]{}é]{1,12}",]
        }

        /// A document as manifests have them: a mapping.
        fn document() -> impl Strategy<Value = Value> {
            prop::collection::vec((key(), value()), 1..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
        }

        /// The text with each line indented by `extra` more spaces, and byte edits.
        fn edited(text: &str, extra: usize, edits: &[(usize, u8, bool)]) -> String {
            let pad = " ".repeat(extra);
            let indented = text.lines().map(|l| format!("{pad}{l}\n")).collect();
            mutated(indented, edits)
        }

        fn edit() -> impl Strategy<Value = (usize, u8, bool)> {
            edit_of(b"-:#'\"[]{},\n |?\\.x0")
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

            #[test]
            fn generated_documents_read_as_saphyr_reads_them(
                docs in prop::collection::vec(document(), 1..4),
                extra in 0usize..3,
                edits in prop::collection::vec(edit(), 0..4),
            ) {
                let text: Vec<String> =
                    docs.iter().map(|d| serde_yaml::to_string(d).unwrap_or_default()).collect();
                let text = text.join("---\n");
                agrees(&text);
                agrees(&edited(&text, extra, &[]));
                agrees(&edited(&text, extra, &edits));
            }
        }
    }
}
