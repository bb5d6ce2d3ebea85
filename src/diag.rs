//! Diagnostics shared by every stage: spans, the source map, coded messages and the
//! single fuzzy-match helper behind every "did you mean" suggestion.
//!
//! Rendering lives in [`crate::report::diagnostics`]; stages only build [`Diagnostic`] values.

use codespan_reporting::files::{Error as FilesError, Files};
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceMap`].
pub type FileId = u32;

/// A byte range in one file of the [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// The file the range belongs to.
    pub file: FileId,
    /// First byte, inclusive.
    pub start: u32,
    /// Last byte, exclusive.
    pub end: u32,
}

impl Span {
    /// A span from a file id and a byte range.
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span {
            file,
            start: u32::try_from(range.start).unwrap_or(u32::MAX),
            end: u32::try_from(range.end).unwrap_or(u32::MAX),
        }
    }

    /// The byte range of the span.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One source file: its display name, text and line starts.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown to users (a path, `<stdin>`, ...).
    pub name: Arc<str>,
    /// The whole text (shared with the documents read from it).
    pub text: Arc<String>,
    /// The line index, made on first use or ahead by [`SourceFile::prepare`].
    index: OnceLock<Index>,
    /// The text with control characters made visible, for snippets shown on a terminal
    /// (same byte length, so spans stay valid); `None` when the text has none. Made when a
    /// snippet is first shown: most scans show none (a JSON or SARIF report, a clean
    /// input), and looking for control characters in every byte was 3% of the instructions
    /// of loading a cluster export.
    display: OnceLock<Option<String>>,
}

/// What locating and showing spans of a file needs.
///
/// Lines are found through a sparse index: the number of line breaks before the start
/// of every block of [`BLOCK`] bytes. A lookup starts from the nearest checkpoint and
/// counts line breaks (with `memchr`) over at most half a block, so the index costs 4
/// bytes per block instead of 4 bytes per line (for a 108 MB export of 4.6 M lines: 443 KB
/// instead of 18 MB, and lookups as fast; see docs/performance.md).
#[derive(Clone, Debug)]
struct Index {
    /// `breaks_before[k]`: line breaks in `text[..k * block]`, for every block that starts
    /// inside the text (and one for the empty text). A count is at most its block's
    /// offset, so it fits a `u32` for texts up to 4 GiB (spans are `u32`); past that it
    /// saturates, which keeps the checkpoints sorted and every lookup panic-free.
    breaks_before: Vec<u32>,
    /// Bytes per block: [`BLOCK`] (smaller in tests, to cross many blocks cheaply).
    block: usize,
    /// Line breaks in the whole text: the file has one more line than this.
    breaks: usize,
    /// Whether the text is all ASCII: a column is then a difference of byte offsets, and
    /// a finding's location costs no count of the characters before it on its line (the
    /// whole line, in an export that writes one object a line).
    ascii: bool,
}

impl Index {
    /// Indexes `text`, in parallel pieces when `parallel` (never inside the `OnceLock`'s
    /// initializer: a rayon worker waiting there could pick up work that needs the same
    /// index).
    fn of(text: &str, parallel: bool) -> Index {
        Index::with_block(text, parallel, BLOCK)
    }

    /// Indexes `text` with blocks of `block` bytes: a power of two up to [`PIECE`], so
    /// blocks never straddle pieces (any other size is rounded up to one).
    fn with_block(text: &str, parallel: bool, block: usize) -> Index {
        let block = block.clamp(1, PIECE).next_power_of_two();
        let (breaks_before, breaks) = block_breaks(text.as_bytes(), parallel, block);
        Index {
            breaks_before,
            block,
            breaks,
            ascii: is_ascii(text, parallel),
        }
    }

    /// Line breaks in `bytes[..byte]` (`bytes` being the indexed text), counted from the
    /// nearer of the two checkpoints around `byte`.
    fn breaks_before(&self, bytes: &[u8], byte: usize) -> usize {
        if byte >= bytes.len() {
            return self.breaks;
        }
        let k = byte / self.block;
        let start = k * self.block;
        let end = (start + self.block).min(bytes.len());
        let at_start = self.breaks_before.get(k).map_or(0, |&n| n as usize);
        if byte - start <= (end - start) / 2 {
            at_start + count_breaks(bytes.get(start..byte).unwrap_or_default())
        } else {
            let at_end = self
                .breaks_before
                .get(k + 1)
                .map_or(self.breaks, |&n| n as usize);
            at_end.saturating_sub(count_breaks(bytes.get(byte..end).unwrap_or_default()))
        }
    }

    /// Byte offset of the start of a 0-based line, or `None` past the last line.
    fn line_start(&self, bytes: &[u8], line: usize) -> Option<usize> {
        if line == 0 {
            return Some(0);
        }
        if line > self.breaks {
            return None;
        }
        // the line starts after the `line`-th line break, which is in the block before the
        // first one whose checkpoint counts `line` breaks or more (the last block when
        // none does); `breaks_before[0]` is 0, so that block exists
        let first_at_least = self.breaks_before.partition_point(|&n| (n as usize) < line);
        let k = first_at_least.checked_sub(1)?;
        let before = self.breaks_before.get(k).map_or(0, |&n| n as usize);
        let start = k * self.block;
        let block = bytes.get(start..(start + self.block).min(bytes.len()))?;
        memchr::memchr_iter(b'\n', block)
            .nth(line - 1 - before)
            .map(|i| start + i + 1)
    }
}

impl SourceFile {
    /// A file from its name and text.
    pub fn new(name: String, text: String) -> SourceFile {
        SourceFile {
            name: visible(&name).into(),
            text: Arc::new(text),
            index: OnceLock::new(),
            display: OnceLock::new(),
        }
    }

    /// Indexes the file now, in parallel pieces, unless that is done already; the loader
    /// does this while the file is parsed.
    pub fn prepare(&self) {
        if self.index.get().is_none() {
            let _ = self.index.set(Index::of(&self.text, true));
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::of(&self.text, false))
    }

    /// The text as shown in snippets: control characters replaced by `?` (one per byte),
    /// so input cannot inject terminal escape sequences.
    pub fn display_text(&self) -> &str {
        self.display
            .get_or_init(|| has_controls(&self.text).then(|| visible(&self.text)))
            .as_deref()
            .unwrap_or(&self.text)
    }

    /// Byte offset of the start of a 0-based line, or `None` past the last line.
    fn line_start(&self, line: usize) -> Option<usize> {
        self.index().line_start(self.text.as_bytes(), line)
    }

    /// Number of lines: one more than the number of line breaks (a text ending in a line
    /// break has an empty last line, as the empty text has one empty line).
    pub fn line_count(&self) -> usize {
        self.index().breaks.saturating_add(1)
    }

    /// 0-based line index of a byte offset (the last line past the end).
    pub fn line_index(&self, byte: usize) -> usize {
        self.index().breaks_before(self.text.as_bytes(), byte)
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let bytes = self.text.as_bytes();
        let start =
            memchr::memrchr(b'\n', bytes.get(..byte).unwrap_or_default()).map_or(0, |i| i + 1);
        (line + 1, self.chars_between(start, byte) + 1)
    }

    /// Number of characters in `text[start..end]` (its bytes when it is not a range of
    /// whole characters).
    fn chars_between(&self, start: usize, end: usize) -> usize {
        if self.index().ascii {
            return end.saturating_sub(start);
        }
        self.text
            .get(start..end)
            .map_or(end.saturating_sub(start), |s| s.chars().count())
    }

    /// [`SourceFile::line_col`] of `start` and of `end`; the end is counted on from the
    /// start when both are on one line (the usual case: the line is not searched again).
    pub fn line_col_pair(&self, start: usize, end: usize) -> ((usize, usize), (usize, usize)) {
        let from = self.line_col(start);
        let start = start.min(self.text.len());
        let end = end.min(self.text.len());
        let same_line = end >= start
            && self
                .text
                .as_bytes()
                .get(start..end)
                .is_some_and(|b| memchr::memchr(b'\n', b).is_none());
        match self.text.get(start..end) {
            Some(_) if same_line => (from, (from.0, from.1 + self.chars_between(start, end))),
            _ => (from, self.line_col(end)),
        }
    }

    /// The text of a 0-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line).unwrap_or(self.text.len());
        let end = self.line_start(line + 1).unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

fn is_hostile(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

/// Large texts are indexed and checked in pieces of this size, in parallel.
const PIECE: usize = 1 << 20;

/// `0..len` cut into pieces of [`PIECE`] bytes.
fn pieces(len: usize) -> Vec<Range<usize>> {
    (0..len.div_ceil(PIECE).max(1))
        .map(|k| k * PIECE..((k + 1) * PIECE).min(len))
        .collect()
}

/// Bytes per block of the sparse line index (a power of two up to [`PIECE`]); chosen by
/// measurement, see docs/performance.md.
const BLOCK: usize = 1 << 10;

/// Line breaks in `bytes`.
fn count_breaks(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The checkpoints of the sparse line index of `bytes` (line breaks before the start of
/// every block of `block` bytes, a divisor of [`PIECE`]) and the number of line breaks
/// of the whole text, counted in parallel pieces of a large text when `parallel`.
fn block_breaks(bytes: &[u8], parallel: bool, block: usize) -> (Vec<u32>, usize) {
    let at = |r: &Range<usize>| -> Vec<usize> {
        let piece = bytes.get(r.clone()).unwrap_or_default();
        piece.chunks(block.max(1)).map(count_breaks).collect()
    };
    let pieces = pieces(bytes.len());
    let parts: Vec<Vec<usize>> = if parallel {
        pieces.par_iter().map(at).collect()
    } else {
        pieces.iter().map(at).collect()
    };
    let mut before = Vec::with_capacity(bytes.len().div_ceil(block.max(1)).max(1));
    let mut total = 0usize;
    for n in parts.into_iter().flatten() {
        before.push(u32::try_from(total).unwrap_or(u32::MAX));
        total += n;
    }
    if before.is_empty() {
        before.push(0);
    }
    (before, total)
}

/// Whether `s` is all ASCII, checked in pieces (in parallel when `parallel`).
fn is_ascii(s: &str, parallel: bool) -> bool {
    let b = s.as_bytes();
    !any_piece(b.len(), parallel, |r| {
        !b.get(r.clone()).unwrap_or_default().is_ascii()
    })
}

/// Whether `found` holds for any of the pieces of a text of `len` bytes, asked in parallel
/// when `parallel`.
fn any_piece(
    len: usize,
    parallel: bool,
    found: impl Fn(&Range<usize>) -> bool + Sync + Send,
) -> bool {
    let pieces = pieces(len);
    if parallel {
        pieces.par_iter().any(found)
    } else {
        pieces.iter().any(found)
    }
}

/// Whether `s` holds a control character other than line breaks and tabs. Works on
/// bytes (C0 controls and DEL are single bytes; C1 controls are `0xC2 0x80..=0x9F`), a
/// piece at a time, each with a branch-free pass first.
fn has_controls(s: &str) -> bool {
    let b = s.as_bytes();
    let found = |r: &Range<usize>| {
        let piece = b.get(r.clone()).unwrap_or_default();
        // a branch-free count first (the compiler vectorizes it); the exact check only
        // when a candidate byte is there at all
        let candidates = piece.chunks(64).fold(false, |found, chunk| {
            found
                | chunk.iter().fold(false, |any, &c| {
                    any | ((c < 0x20) & (c != b'\n') & (c != b'\t') & (c != b'\r'))
                        | (c == 0x7f)
                        | (c == 0xc2)
                })
        });
        candidates
            && piece.iter().enumerate().any(|(i, &c)| {
                (c < 0x20 && !matches!(c, b'\n' | b'\t' | b'\r'))
                    || c == 0x7f
                    // the continuation byte may be in the next piece
                    || (c == 0xc2
                        && b
                            .get(r.start + i + 1)
                            .is_some_and(|n| (0x80..=0x9f).contains(n)))
            })
    };
    any_piece(b.len(), false, found)
}

/// Replaces control characters (other than line breaks and tabs) by as many `?` as
/// their UTF-8 length, keeping every byte offset.
fn visible(s: &str) -> String {
    if !has_controls(s) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if is_hostile(c) {
                "?".repeat(c.len_utf8())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Every file a run has read: rule files and inputs alike.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(name.into(), text.into()));
        FileId::try_from(self.files.len() - 1).unwrap_or(FileId::MAX)
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }

    /// The file's display name, or `<unknown>`.
    pub fn name(&self, id: FileId) -> &str {
        self.file(id).map_or("<unknown>", |f| &f.name)
    }

    /// The file's display name, shared.
    pub fn name_shared(&self, id: FileId) -> Arc<str> {
        self.file(id)
            .map_or_else(|| Arc::from("<unknown>"), |f| Arc::clone(&f.name))
    }

    /// The text under a span, or an empty string.
    pub fn slice(&self, span: Span) -> &str {
        self.file(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    /// 1-based line and column of the start of a span.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        self.file(span.file)
            .map_or((1, 1), |f| f.line_col(span.start as usize))
    }

    /// 1-based line and column of the start and of the end of a span.
    pub fn line_col_span(&self, span: Span) -> ((usize, usize), (usize, usize)) {
        self.file(span.file).map_or(((1, 1), (1, 1)), |f| {
            f.line_col_pair(span.start as usize, span.end as usize)
        })
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl<'a> Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.file(id)
            .map(|f| &*f.name)
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.file(id)
            .map(SourceFile::display_text)
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self
            .file(id)
            .ok_or(FilesError::FileMissing)?
            .line_index(byte_index))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let f = self.file(id).ok_or(FilesError::FileMissing)?;
        let start = f.line_start(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: f.line_count().saturating_sub(1),
        })?;
        let end = f.line_start(line_index + 1).unwrap_or(f.text.len());
        Ok(start..end)
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; never fails a run.
    Warning,
    /// The rule or document it points at was not used.
    Error,
}

/// A labelled span inside a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
}

/// A coded, located message for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Stable code such as `E0101`.
    pub code: &'static str,
    /// One lowercase sentence, no final period, user text in backticks.
    pub message: String,
    /// The primary location, if the problem has one.
    pub primary: Option<Label>,
    /// Further locations.
    pub secondary: Vec<Label>,
    /// How to fix it, when known.
    pub help: Option<String>,
    /// Extra facts.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with a code and message.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning with a code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the primary span and its label.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help to a "did you mean" suggestion when one is close enough.
    pub fn with_suggestion<'a>(
        self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Diagnostic {
        match suggest(name, candidates) {
            Some(s) => self.with_help(format!("did you mean `{s}`?")),
            None => self,
        }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// The closest candidate to `name` by edit distance, if close enough to be a likely typo.
///
/// This is the one fuzzy-match helper of kanon: every "did you mean" uses it.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let max = match name.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = if cand.eq_ignore_ascii_case(name) {
            0
        } else {
            levenshtein(&lower, &cand.to_ascii_lowercase())
        };
        if d <= max && best.is_none_or(|(bd, bc)| d < bd || (d == bd && cand < bc)) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(usize::MAX) + 1;
            let ins = cur.get(j).copied().unwrap_or(usize::MAX) + 1;
            let sub = prev.get(j).copied().unwrap_or(usize::MAX) + cost;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = del.min(ins).min(sub);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair of positions is the two single ones, for every pair of offsets of a text
    /// with multi-byte characters, empty lines and CRLF breaks (offsets inside a
    /// character included).
    #[test]
    fn line_col_pair_is_two_line_cols() {
        let mut map = SourceMap::new();
        let id = map.add("a.yaml", "ké: \"é\"\r\n\n  b: x\nyé\u{1F600}z");
        let f = map.file(id).expect("the file");
        let n = f.text.len() + 2;
        for start in 0..n {
            for end in 0..n {
                assert_eq!(
                    f.line_col_pair(start, end),
                    (f.line_col(start), f.line_col(end)),
                    "{start}..{end}"
                );
            }
        }
    }

    /// Every offset's line and column is what counting gives (line breaks before it, and
    /// characters since the last one), in an ASCII text (whose columns are byte
    /// differences) as in one with multi-byte characters, pair or single.
    #[test]
    fn columns_count_characters_in_ascii_and_other_texts() {
        for (text, ascii) in [
            ("ab: c\n  - d\r\n\nlong line here\nx", true),
            ("ab: é\n  - d\r\n\n𝄞 line here\nx", false),
        ] {
            let f = SourceFile::new("a".into(), text.into());
            assert_eq!(f.index().ascii, ascii, "{text:?}");
            for (at, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let before = &text[..at];
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                assert_eq!(f.line_col(at), (line, col), "{text:?} at {at}");
                assert_eq!(f.line_col_pair(0, at).1, (line, col), "{text:?} to {at}");
            }
        }
    }

    #[test]
    fn suggests_close_names_only() {
        let c = ["privileged", "procMount", "capabilities"];
        assert_eq!(suggest("privilegd", c), Some("privileged"));
        assert_eq!(suggest("Privileged", c), Some("privileged"));
        assert_eq!(suggest("zzzzzzzzz", c), None);
    }

    #[test]
    fn line_col_is_one_based_and_counts_chars() {
        let f = SourceFile::new("a".into(), "ab\nçd: x\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // `d` follows a two-byte character
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_text(1), "çd: x");
    }

    /// The dense line index the sparse one replaced: every line start, looked up by
    /// binary search. The sparse index must answer every query as it does.
    struct Dense {
        starts: Vec<usize>,
    }

    impl Dense {
        fn of(text: &str) -> Dense {
            let starts = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            Dense { starts }
        }

        fn line_index(&self, byte: usize) -> usize {
            match self.starts.binary_search(&byte) {
                Ok(line) => line,
                Err(next) => next - 1,
            }
        }

        fn line_col(&self, text: &str, byte: usize) -> (usize, usize) {
            let byte = byte.min(text.len());
            let line = self.line_index(byte);
            let start = self.starts[line];
            let col = text
                .get(start..byte)
                .map_or(byte - start, |s| s.chars().count());
            (line + 1, col + 1)
        }

        fn line_range(&self, len: usize, line: usize) -> Result<Range<usize>, String> {
            let start = self
                .starts
                .get(line)
                .ok_or(format!("line {line} past {}", self.starts.len() - 1))?;
            Ok(*start..self.starts.get(line + 1).copied().unwrap_or(len))
        }

        fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
            let start = self.starts.get(line).copied().unwrap_or(text.len());
            let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
            text[start..end].trim_end_matches(['\n', '\r'])
        }
    }

    /// A file indexed with blocks of `block` bytes, lazily or ahead in parallel.
    fn indexed(text: &str, block: usize, parallel: bool) -> SourceMap {
        let mut map = SourceMap::new();
        let id = map.add("t", text);
        let f = map.file(id).unwrap();
        f.index
            .set(Index::with_block(&f.text, parallel, block))
            .unwrap();
        map
    }

    /// Asks the file every question the line index answers, at every byte offset (and
    /// past the end) and for every line (and past the last), and compares with `Dense`.
    fn agrees_with_dense(text: &str, block: usize, parallel: bool) {
        let map = indexed(text, block, parallel);
        let f = map.file(0).unwrap();
        let dense = Dense::of(text);
        let len = text.len();
        assert_eq!(f.line_count(), dense.starts.len());
        for byte in (0..=len + 2).chain([usize::MAX, u32::MAX as usize]) {
            assert_eq!(
                f.line_index(byte),
                dense.line_index(byte),
                "line of byte {byte}"
            );
            assert_eq!(
                Files::line_index(&map, 0, byte).unwrap(),
                dense.line_index(byte)
            );
            assert_eq!(f.line_col(byte), dense.line_col(text, byte), "byte {byte}");
        }
        for byte in 0..=len.min(u32::MAX as usize) {
            let span = Span::new(0, byte..len);
            assert_eq!(map.line_col(span), dense.line_col(text, byte));
        }
        for line in 0..dense.starts.len() + 3 {
            assert_eq!(
                f.line_start(line),
                dense.starts.get(line).copied(),
                "line {line}"
            );
            assert_eq!(
                f.line_text(line),
                dense.line_text(text, line),
                "line {line}"
            );
            match (map.line_range(0, line), dense.line_range(len, line)) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "line {line}"),
                (Err(FilesError::LineTooLarge { given, max }), Err(_)) => {
                    assert_eq!((given, max), (line, dense.starts.len() - 1));
                }
                (got, want) => panic!("line {line}: {got:?} but {want:?}"),
            }
        }
    }

    /// One line of a random text: its characters (one to four bytes in UTF-8, `\r`
    /// included) and whether a line break ends it.
    fn line_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let chars = prop::sample::select(vec!['a', 'b', ' ', ':', '\r', '\t', 'ç', '€', '𝄞']);
        prop_oneof![
            4 => prop::collection::vec(chars.clone(), 0..12),
            1 => Just(Vec::new()),
            1 => prop::collection::vec(chars, 0..400),
        ]
        .prop_map(|cs| cs.into_iter().collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(192))]

        /// Random texts (empty lines, `\r\n`, multi-byte characters, lines longer than
        /// many blocks, with or without a final line break) under blocks of 1 to 64
        /// bytes: the sparse index answers exactly as the dense one.
        #[test]
        fn sparse_index_answers_as_the_dense_one(
            lines in proptest::collection::vec(line_strategy(), 0..40),
            final_break in proptest::bool::ANY,
            crlf in proptest::bool::ANY,
            shift in 0u32..7,
        ) {
            let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
            if final_break {
                text.push('\n');
            }
            agrees_with_dense(&text, 1 << shift, false);
            agrees_with_dense(&text, 1 << shift, true);
        }
    }

    #[test]
    fn edge_texts_answer_as_the_dense_one() {
        for text in ["", "\n", "\n\n\n", "a", "a\n", "\r\n", "a\r\nb", "ç\n\n€"] {
            for block in [1, 2, 4, 16, BLOCK] {
                agrees_with_dense(text, block, false);
            }
        }
        let empty = SourceFile::new("e".into(), String::new());
        assert_eq!(empty.line_count(), 1);
        assert_eq!(empty.line_col(7), (1, 1));
        assert_eq!(empty.line_start(1), None);
    }

    /// Texts over one piece are indexed in parallel pieces and searched for controls piece by
    /// piece: line breaks on either side of a cut, and a C1 control whose two bytes straddle
    /// it, are found; a line longer than many blocks is found from either end.
    #[test]
    fn large_texts_are_indexed_across_pieces() {
        let mut text = "a".repeat(PIECE - 1);
        text.push('\n');
        text.push_str(&"b".repeat(PIECE - 2));
        text.push('\n');
        text.push_str(&"c".repeat(PIECE * 2 + 5));
        text.push('\n');
        text.push_str(&"d\n".repeat(BLOCK));
        let dense = Dense::of(&text);
        // indexed on first use (one piece at a time) or ahead (in parallel): the same
        let lazy = SourceFile::new("a".into(), text.clone());
        let ahead = SourceFile::new("a".into(), text.clone());
        ahead.prepare();
        assert_eq!(lazy.index().breaks_before, ahead.index().breaks_before);
        assert_eq!(lazy.index().breaks, dense.starts.len() - 1);
        for f in [&lazy, &ahead] {
            for byte in (0..text.len() + 2).step_by(BLOCK / 4 - 1).chain([
                PIECE - 1,
                PIECE,
                PIECE + 1,
                2 * PIECE - 1,
                2 * PIECE,
                text.len(),
            ]) {
                assert_eq!(f.line_col(byte), dense.line_col(&text, byte), "byte {byte}");
            }
            for line in 0..dense.starts.len() + 1 {
                assert_eq!(f.line_start(line), dense.starts.get(line).copied());
            }
        }
        assert_eq!(ahead.line_col(PIECE), (2, 1));
        assert_eq!(ahead.line_col(2 * PIECE + BLOCK * 3), (3, BLOCK * 3 + 2));
        assert_eq!(ahead.display_text(), text);
        // `\u{85}` is `0xC2 0x85`: its first byte ends the first piece
        let mut hostile = "a".repeat(PIECE - 1);
        hostile.push('\u{85}');
        hostile.push_str("tail");
        assert_eq!(hostile.as_bytes()[PIECE - 1], 0xc2);
        assert!(has_controls(&hostile));
        assert!(!has_controls(&hostile[..PIECE - 1]));
    }

    #[test]
    fn control_characters_are_not_shown_raw() {
        let f = SourceFile::new("x\u{1b}.yaml".into(), "a: \u{1b}[31mred\u{85}\n".into());
        assert_eq!(f.display_text(), "a: ?[31mred??\n");
        assert_eq!(f.display_text().len(), f.text.len());
        assert_eq!(&*f.name, "x?.yaml");
    }
}
