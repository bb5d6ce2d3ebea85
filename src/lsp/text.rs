//! Positions: LSP line and UTF-16 column to byte offsets and back; incremental edits;
//! `file:` URIs to paths.

use lsp_types::{Position, Range};
use std::path::{Path, PathBuf};

/// Byte offset of an LSP position (clamped to the text).
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text.get(line_start..).and_then(|t| t.find('\n')) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text
        .get(line_start..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text.get(line_start..line_end).unwrap_or("").char_indices() {
        if units >= pos.character {
            return line_start + i;
        }
        units += u32::try_from(c.len_utf16()).unwrap_or(1);
    }
    line_end
}

/// The LSP position of a byte offset.
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before
        .get(line_start..)
        .unwrap_or("")
        .chars()
        .map(char::len_utf16)
        .sum();
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(character).unwrap_or(u32::MAX),
    }
}

/// The LSP range of a byte range.
pub fn range(text: &str, r: std::ops::Range<usize>) -> Range {
    Range {
        start: position(text, r.start),
        end: position(text, r.end),
    }
}

/// The byte range of an LSP range.
pub fn byte_range(text: &str, r: Range) -> std::ops::Range<usize> {
    let start = offset(text, r.start);
    let end = offset(text, r.end).max(start);
    start..end
}

/// Applies one change of `textDocument/didChange`: a range replaced, or the whole text.
pub fn apply_change(text: &mut String, range: Option<Range>, new: &str) {
    match range {
        Some(r) => {
            let b = byte_range(text, r);
            text.replace_range(b, new);
        }
        None => {
            text.clear();
            text.push_str(new);
        }
    }
}

/// The path of a `file:` URI.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///path` and `file://localhost/path`
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = rest.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The identifier-like word around a byte offset (letters, digits, `_`, `-`, `:` for
/// rule ids and OWASP categories), and its range.
pub fn word_at(text: &str, offset: usize) -> (std::ops::Range<usize>, &str) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let start = text
        .get(..offset)
        .unwrap_or("")
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text
        .get(offset..)
        .unwrap_or("")
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start..end, text.get(start..end).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_with_utf16_columns() {
        let t = "ab\nçd 😀x\n";
        let p = position(t, t.find('x').unwrap_or(0));
        assert_eq!((p.line, p.character), (1, 5));
        assert_eq!(offset(t, p), t.find('x').unwrap_or(0));
        assert_eq!(offset(t, Position::new(9, 0)), t.len());
        let mut s = String::from("hello world");
        apply_change(
            &mut s,
            Some(Range::new(Position::new(0, 6), Position::new(0, 11))),
            "kanon",
        );
        assert_eq!(s, "hello kanon");
    }

    #[test]
    fn uris_and_paths() {
        let p = PathBuf::from("/tmp/a b/ç.kanon");
        let u = path_to_uri(&p);
        assert_eq!(u, "file:///tmp/a%20b/%C3%A7.kanon");
        assert_eq!(uri_to_path(&u), Some(p));
        assert_eq!(uri_to_path("untitled:1"), None);
    }
}
