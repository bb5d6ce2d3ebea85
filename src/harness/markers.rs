//! Test markers in fixture files: `# expect: ID[, ID...]` and `# ok: ID[, ID...]` YAML
//! comments, and the line ranges of the fixture's YAML documents.

/// What a marker asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    /// A finding of the rule on the target line.
    Expect,
    /// No finding of the rule inside the marker's document.
    Ok,
}

/// One rule id of one marker comment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    /// Expect or ok.
    pub kind: MarkerKind,
    /// The rule id.
    pub rule: String,
    /// The 1-based line of the comment.
    pub marker_line: usize,
    /// `Expect`: the line a finding must be on. `Ok`: the first line of the document.
    pub line: usize,
    /// `Ok`: the last line of the document (inclusive). `Expect`: same as `line`.
    pub end_line: usize,
}

/// A parsed fixture: its lines, markers and problems with markers.
#[derive(Clone, Debug, Default)]
pub struct Fixture {
    /// The text, line by line (without line ends).
    pub lines: Vec<String>,
    /// Every marker, in file order.
    pub markers: Vec<Marker>,
    /// Markers that cannot be used: (1-based line, message).
    pub problems: Vec<(usize, String)>,
}

impl Fixture {
    /// The text of a 1-based line (empty when out of range).
    pub fn line(&self, line: usize) -> &str {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map_or("", String::as_str)
    }
}

/// Parses the markers of a fixture text.
pub fn parse(text: &str) -> Fixture {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let docs = documents(&lines);
    let mut fx = Fixture::default();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let Some((at, body)) = comment(line) else {
            continue;
        };
        let body = body.trim();
        let (kind, ids) = if let Some(rest) = body.strip_prefix("expect:") {
            (MarkerKind::Expect, rest)
        } else if let Some(rest) = body.strip_prefix("ok:") {
            (MarkerKind::Ok, rest)
        } else {
            continue;
        };
        let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
        if ids
            .iter()
            .any(|id| id.is_empty() || id.contains(char::is_whitespace))
        {
            fx.problems.push((
                n,
                format!("marker `{body}` needs comma-separated rule ids, e.g. `# expect: K01-001`"),
            ));
            continue;
        }
        let standalone = line.get(..at).is_some_and(|s| s.trim().is_empty());
        let (start, end) = match kind {
            MarkerKind::Expect if standalone => match next_content_line(&lines, i + 1) {
                Some(t) => (t, t),
                None => {
                    fx.problems.push((
                        n,
                        format!("marker `{body}` has no line after it to point at"),
                    ));
                    continue;
                }
            },
            MarkerKind::Expect => (n, n),
            MarkerKind::Ok => docs
                .iter()
                .copied()
                .find(|(s, e)| *s <= n && n <= *e)
                .unwrap_or((n, n)),
        };
        for id in ids {
            fx.markers.push(Marker {
                kind,
                rule: id.to_string(),
                marker_line: n,
                line: start,
                end_line: end,
            });
        }
    }
    fx.lines = lines;
    fx
}

/// Whether a line separates YAML documents (`---` or `...`).
fn is_separator(line: &str) -> bool {
    ["---", "..."].iter().any(|m| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// The 1-based inclusive line ranges of the documents: a separator line starts a document.
fn documents(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 1;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if is_separator(line) && n > start {
            out.push((start, n - 1));
            start = n;
        }
    }
    out.push((start, lines.len().max(start)));
    // a leading "document" of comments only (`# ok: X` above the first `---`) belongs to
    // the document that follows it
    let has_content = |(s, e): (usize, usize)| {
        next_content_line(lines, s.saturating_sub(1)).is_some_and(|n| n <= e)
    };
    let mut merged: Vec<(usize, usize)> = Vec::new();
    let mut carry: Option<usize> = None;
    for r in out {
        let start = carry.take().unwrap_or(r.0);
        if has_content(r) {
            merged.push((start, r.1));
        } else {
            carry = Some(start);
        }
    }
    if let Some(start) = carry {
        merged.push((start, lines.len().max(start)));
    }
    merged
}

/// The first line at or after 0-based index `from` with content that is not a comment and
/// not a document separator (1-based).
fn next_content_line(lines: &[String], from: usize) -> Option<usize> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !is_separator(l)
        })
        .map(|(i, _)| i + 1)
}

/// The YAML comment of a line: the byte offset of its `#` and the text after it. A `#`
/// starts a comment at the line start or after whitespace, outside quoted scalars.
fn comment(line: &str) -> Option<(usize, &str)> {
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    let mut escaped = false;
    for (i, ch) in line.char_indices() {
        match quote {
            Some('"') => {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == '"' {
                    quote = None;
                }
            }
            Some(q) => {
                if ch == q {
                    quote = None;
                }
            }
            None => {
                let opens = prev.is_none_or(|p| p.is_whitespace() || "[{,:-".contains(p));
                if (ch == '"' || ch == '\'') && opens {
                    quote = Some(ch);
                } else if ch == '#' && prev.is_none_or(char::is_whitespace) {
                    return Some((i, line.get(i + 1..).unwrap_or("")));
                }
            }
        }
        prev = Some(ch);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_quotes() {
        assert_eq!(comment("a: 1 # x"), Some((5, " x")));
        assert_eq!(comment("# x"), Some((0, " x")));
        assert_eq!(comment("a: \"b # c\""), None);
        assert_eq!(comment("a: 'b # c' # d"), Some((11, " d")));
        assert_eq!(comment("a: b#c"), None);
        assert_eq!(comment("a: it's # d"), Some((8, " d")));
    }

    #[test]
    fn markers_and_documents() {
        let text = "\
# ok: K1
a: 1
---
# expect: K1, K2

b: true  # expect: K3
---
c: 1 # ok: K4
";
        let fx = parse(text);
        let got: Vec<(MarkerKind, &str, usize, usize)> = fx
            .markers
            .iter()
            .map(|m| (m.kind, m.rule.as_str(), m.line, m.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                (MarkerKind::Ok, "K1", 1, 2),
                (MarkerKind::Expect, "K1", 6, 6),
                (MarkerKind::Expect, "K2", 6, 6),
                (MarkerKind::Expect, "K3", 6, 6),
                (MarkerKind::Ok, "K4", 7, 8),
            ]
        );
        assert!(fx.problems.is_empty());
    }

    #[test]
    fn comment_block_above_the_first_separator_joins_the_next_document() {
        let fx = parse("# ok: K1\n---\na: 1\n---\nb: 2\n");
        let m = fx.markers.first().unwrap();
        assert_eq!((m.line, m.end_line), (1, 3));
    }

    #[test]
    fn bad_markers_are_problems() {
        let fx = parse("a: 1 # expect: K1,\n# expect: K2\n");
        assert_eq!(fx.problems.len(), 2);
    }
}
