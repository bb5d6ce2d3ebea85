//! Reading what Kubernetes reads: constructs that go-yaml accepts and saphyr-parser rejects.
//!
//! `kubectl` and the API server read manifests with go-yaml v2 (through `sigs.k8s.io/yaml`),
//! a port of libyaml that is lenient where the YAML specification is strict. When saphyr stops
//! at one of these constructs, [`repair`] rewrites the text and the reader reads it again.
//! Every rewrite keeps the byte length and the number of characters of the text (it only turns
//! line breaks into spaces), so every span of the second read is exact in the original text;
//! a rewrite that would change a value records the value go-yaml reads instead.
//!
//! - A multi-line quoted scalar whose continuation lines are indented no deeper than its key
//!   (or sit at column 0, or are indented with tabs): go-yaml checks no indentation inside
//!   quoted scalars. The scalar is joined onto one line and its value is decoded here with
//!   go-yaml's folding and escapes.
//! - A line of a flow collection (`[...]`, `{...}`) indented no deeper than its key, including
//!   a closing bracket at the indent of the parent key: go-yaml checks no indentation inside
//!   flow collections. The line is joined to the one before when that changes no value.
//! - `\'` in a double-quoted scalar (go-yaml reads a `'`; YAML 1.2 has no such escape).

/// Where and why saphyr stopped.
pub(crate) struct Stop<'a> {
    /// Byte offset of the error's mark in the text read.
    pub at: usize,
    /// saphyr's message, lowercase.
    pub info: &'a str,
    /// Byte offset where the last event before the error ended.
    pub after: usize,
}

/// A rewrite of the text that saphyr reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Patch {
    /// The rewritten text: same length, line breaks turned into spaces.
    pub src: String,
    /// Values of the quoted scalars that were joined onto one line, by the byte offset of
    /// their opening quote in the text read, sorted.
    pub scalars: Vec<(usize, String)>,
}

/// A rewrite of `src` (the text, or an earlier rewrite of it) that saphyr accepts at `stop`,
/// or `None` when go-yaml rejects the construct too.
pub(crate) fn repair(src: &str, scalars: &[(usize, String)], stop: &Stop<'_>) -> Option<Patch> {
    let info = stop.info;
    if info.contains("invalid indentation in quoted scalar") {
        // the mark is the opening quote
        return join_quoted(src, scalars, stop.at);
    }
    if info.contains("unknown escape character") {
        // `\'` in a double-quoted scalar; the mark is the opening quote
        return join_quoted(src, scalars, stop.at);
    }
    if info.contains("tab cannot be used as indentation") {
        // raised inside a quoted scalar only; the mark is the tab, the scalar starts after
        // the last event
        let start = quote_after(src, stop.after, stop.at)?;
        return join_quoted(src, scalars, start);
    }
    if info.contains("invalid indentation") && !info.contains("anchor") {
        let src = join_flow_line(src, stop.at)?;
        return Some(Patch {
            src,
            scalars: scalars.to_vec(),
        });
    }
    None
}

/// The value of the quoted scalar that starts at `start` when it was joined onto one line.
pub(crate) fn joined_value(scalars: &[(usize, String)], start: usize) -> Option<&str> {
    scalars
        .binary_search_by_key(&start, |(s, _)| *s)
        .ok()
        .and_then(|i| scalars.get(i))
        .map(|(_, v)| v.as_str())
}

/// The opening quote of the scalar being read at `at`: the first token after `after`,
/// skipping blanks, line breaks, comments, indicators, anchors and tags.
fn quote_after(src: &str, after: usize, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = after;
    while i < at {
        match *bytes.get(i)? {
            b'"' | b'\'' => return Some(i),
            b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b'?' | b',' | b'[' | b'{' => i += 1,
            b'#' => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            b'&' | b'!' => {
                while bytes
                    .get(i)
                    .is_some_and(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

/// Whether the quoted scalar at `start` runs into a document marker (`---` or `...` at the
/// start of a line) or the end of the text before its closing quote.
pub(crate) fn runs_into_next_document(src: &str, start: usize) -> bool {
    match quoted_end(src, start) {
        None => src
            .as_bytes()
            .get(start)
            .is_some_and(|&q| q == b'"' || q == b'\''),
        Some(end) => src
            .get(start..end)
            .is_some_and(|body| body.split('\n').skip(1).any(is_marker_line)),
    }
}

fn is_marker_line(line: &str) -> bool {
    (line.starts_with("---") || line.starts_with("..."))
        && line
            .get(3..)
            .is_none_or(|r| r.chars().next().is_none_or(char::is_whitespace))
}

/// The offset of the closing quote of the quoted scalar at `start`.
fn quoted_end(src: &str, start: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let quote = *bytes.get(start)?;
    let single = quote == b'\'';
    let mut i = start + 1;
    loop {
        match *bytes.get(i)? {
            b'\\' if !single => i += 2,
            b'\'' if single && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
}

/// Joins the quoted scalar at `start` onto one line and records its value.
fn join_quoted(src: &str, scalars: &[(usize, String)], start: usize) -> Option<Patch> {
    if joined_value(scalars, start).is_some() {
        return None;
    }
    let bytes = src.as_bytes();
    let quote = *bytes.get(start)?;
    let single = match quote {
        b'\'' => true,
        b'"' => false,
        _ => return None,
    };
    let i = quoted_end(src, start)?;
    let body = src.get(start + 1..i)?;
    let value = decode_quoted(body, single)?;
    let mut out = bytes.to_vec();
    let inner = out.get_mut(start + 1..i)?;
    let mut k = 0;
    while let Some(b) = inner.get_mut(k) {
        match *b {
            b'\n' | b'\r' => *b = b' ',
            // `\'` (go-yaml, not YAML 1.2) becomes `\"` for saphyr; the value is ours
            // an escape: skip the escaped character, but not an escaped line break (it
            // becomes `\ `, an escaped space, for saphyr)
            b'\\' if !single => match inner.get_mut(k + 1) {
                Some(b'\n' | b'\r') | None => {}
                Some(n) => {
                    if *n == b'\'' {
                        *n = b'"';
                    }
                    k += 1;
                }
            },
            _ => {}
        }
        k += 1;
    }
    let mut scalars = scalars.to_vec();
    let at = scalars.partition_point(|(s, _)| *s < start);
    scalars.insert(at, (start, value));
    Some(Patch {
        src: String::from_utf8(out).ok()?,
        scalars,
    })
}

/// The value of a quoted scalar's text (between its quotes) as go-yaml reads it: escapes
/// (double quotes) or `''` (single quotes), and line folding (a line break between text
/// is a space, each further one a newline; blanks around line breaks are dropped; an escaped
/// line break joins the lines). `None` for what go-yaml rejects: a document marker at the
/// start of a line, an unknown escape.
pub(crate) fn decode_quoted(body: &str, single: bool) -> Option<String> {
    if body.split('\n').skip(1).any(is_marker_line) {
        return None;
    }
    let mut s = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    loop {
        // text up to a blank or a line break
        let mut folded = false;
        while let Some(&c) = chars.peek() {
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                break;
            }
            chars.next();
            if single && c == '\'' {
                // the body holds quotes only in pairs
                chars.next();
                s.push('\'');
            } else if !single && c == '\\' {
                match chars.next()? {
                    '\n' => {
                        folded = true;
                        break;
                    }
                    '\r' => {
                        if chars.peek() == Some(&'\n') {
                            chars.next();
                        }
                        folded = true;
                        break;
                    }
                    e => s.push(escape(e, &mut chars)?),
                }
            } else {
                s.push(c);
            }
        }
        if chars.peek().is_none() {
            break;
        }
        // blanks and line breaks
        let mut blanks = String::new();
        let mut first_break = false;
        let mut more_breaks = 0usize;
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' => {
                    if !folded {
                        blanks.push(c);
                    }
                    chars.next();
                }
                '\n' | '\r' => {
                    chars.next();
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    if folded {
                        more_breaks += 1;
                    } else {
                        blanks.clear();
                        first_break = true;
                        folded = true;
                    }
                }
                _ => break,
            }
        }
        if folded {
            if first_break && more_breaks == 0 {
                s.push(' ');
            } else {
                s.extend(std::iter::repeat_n('\n', more_breaks));
            }
        } else {
            s.push_str(&blanks);
        }
    }
    Some(s)
}

/// The character of a double-quoted escape `\e` (go-yaml's set; `\'` and `\<tab>` too).
pub(crate) fn escape(e: char, chars: &mut impl Iterator<Item = char>) -> Option<char> {
    let mut hex = |n: usize| -> Option<char> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        char::from_u32(v)
    };
    Some(match e {
        '0' => '\0',
        'a' => '\x07',
        'b' => '\x08',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\x0b',
        'f' => '\x0c',
        'r' => '\r',
        'e' => '\x1b',
        ' ' => ' ',
        '"' => '"',
        '\'' => '\'',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' => hex(2)?,
        'u' => hex(4)?,
        'U' => hex(8)?,
        _ => return None,
    })
}

/// Joins the line of `at` (in a flow collection, indented less than saphyr wants) to the
/// line before, when that changes no value: the line before ends with `,`, `[`, `{` or `:`,
/// the line starts with `]`, `}` or `,`, or it is a continuation of a plain scalar at
/// column 0 after a line without trailing blanks (folding gives the one space the join
/// leaves). A line before with a `#` is left alone (the join would comment the line out).
fn join_flow_line(src: &str, at: usize) -> Option<String> {
    let bytes = src.as_bytes();
    let line_start = bytes.get(..at)?.iter().rposition(|&b| b == b'\n')? + 1;
    let first = bytes
        .get(line_start..)?
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map_or(bytes.len(), |p| line_start + p);
    let nl = line_start - 1;
    let mut prev_end = nl;
    if prev_end > 0 && bytes.get(prev_end - 1) == Some(&b'\r') {
        prev_end -= 1;
    }
    let prev_start = bytes
        .get(..nl)?
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let prev = bytes.get(prev_start..prev_end)?;
    if prev.contains(&b'#') {
        return None;
    }
    let last = prev.iter().rev().find(|&&b| b != b' ' && b != b'\t')?;
    let trailing_blank = prev.last().is_some_and(|&b| b == b' ' || b == b'\t');
    let safe = matches!(last, b',' | b'[' | b'{' | b':')
        || matches!(bytes.get(first), Some(b']' | b'}' | b','))
        || (first == line_start && !trailing_blank);
    if !safe {
        return None;
    }
    let mut out = bytes.to_vec();
    for b in out.get_mut(prev_end..line_start)? {
        *b = b' ';
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go_yaml() {
        let d = |s: &str, single: bool| decode_quoted(s, single).unwrap();
        assert_eq!(d("hello\n    world", true), "hello world");
        assert_eq!(d("a  \n\n  b", true), "a\nb");
        assert_eq!(d("a\n\n\n b", false), "a\n\nb");
        assert_eq!(d("it''s", true), "it''s".replace("''", "'"));
        assert_eq!(d("x\\\n   y", false), "xy");
        assert_eq!(d("x\\\n\n y", false), "x\ny");
        assert_eq!(d("\\x41\\u00e9\\t\\'\\ \\N", false), "Aé\t' \u{85}");
        assert_eq!(d("a\tb  ", false), "a\tb  ");
        assert_eq!(d("a\r\n\tb", true), "a b");
        assert_eq!(decode_quoted("a\\q", false), None);
        assert_eq!(decode_quoted("a\n---\nb", false), None);
        assert_eq!(d("a\n--x", false), "a --x");
    }

    #[test]
    fn joins_a_quoted_scalar_onto_one_line() {
        let src = "a:\n  b: 'x\n  y'\nc: 1\n";
        let at = src.find('\'').unwrap();
        let p = join_quoted(src, &[], at).unwrap();
        assert_eq!(p.src, "a:\n  b: 'x   y'\nc: 1\n");
        assert_eq!(p.scalars, vec![(at, "x y".to_string())]);
        assert_eq!(joined_value(&p.scalars, at), Some("x y"));
    }

    #[test]
    fn joins_flow_lines_only_where_no_value_changes() {
        assert_eq!(
            join_flow_line("a:\n  b: [x,\ny]\n", 12).as_deref(),
            Some("a:\n  b: [x, y]\n")
        );
        assert_eq!(
            join_flow_line("a:\n  b: [x\n  ]\n", 14).as_deref(),
            Some("a:\n  b: [x   ]\n")
        );
        // a plain scalar continued at an indent: the join would keep the blanks
        assert_eq!(join_flow_line("a:\n  b: [x\n y]\n", 12), None);
        // a comment on the line before
        assert_eq!(join_flow_line("a:\n  b: [x, # c\ny]\n", 16), None);
    }
}
