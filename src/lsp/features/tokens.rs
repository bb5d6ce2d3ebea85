//! Semantic tokens.

use super::*;

/// The token types of the legend, in order.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "string",
    "number",
    "comment",
    "operator",
    "function",
    "variable",
    "parameter",
    "property",
    "type",
    "enumMember",
    "class",
    "namespace",
];
/// The token modifiers of the legend, in order (bits).
pub const TOKEN_MODIFIERS: &[&str] =
    &["declaration", "documentation", "readonly", "defaultLibrary"];

pub(super) const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "for", "where", "report", "at", "exists", "any", "all", "none",
    "count", "true", "false", "null", "rule", "param", "table", "def", "import", "from", "selects",
    "matches", "contains", "starts", "ends", "with",
];

pub(super) fn tok(kind: &str) -> u32 {
    TOKEN_TYPES
        .iter()
        .position(|t| *t == kind)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(0)
}

/// Semantic tokens of a rule file, encoded as LSP wants (relative lines and columns).
/// Variables named in `constants` (parameters, tables) are marked read-only.
pub fn semantic_tokens(t: &str, constants: &[&str]) -> Vec<u32> {
    let mut raw: Vec<(usize, usize, u32, u32)> = Vec::new();
    lex(t, 0, t.len(), &mut raw, false);
    raw.sort_by_key(|x| x.0);
    let variable = tok("variable");
    for (start, end, ty, mods) in &mut raw {
        if *ty == variable && t.get(*start..*end).is_some_and(|w| constants.contains(&w)) {
            *mods |= 4;
        }
    }
    let mut out = Vec::with_capacity(raw.len() * 5);
    let (mut pl, mut pc) = (0u32, 0u32);
    for (start, end, ty, mods) in raw {
        let p = text::position(t, start);
        let e = text::position(t, end);
        if e.line != p.line || e.character <= p.character {
            continue;
        }
        let dl = p.line - pl;
        let dc = if dl == 0 {
            p.character - pc
        } else {
            p.character
        };
        out.extend([dl, dc, e.character - p.character, ty, mods]);
        pl = p.line;
        pc = p.character;
    }
    out
}

/// Tokens of `t[from..to]`; in an interpolation, `\"` delimits strings.
pub(super) fn lex(
    t: &str,
    from: usize,
    to: usize,
    out: &mut Vec<(usize, usize, u32, u32)>,
    interp: bool,
) {
    let b = t.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let line_start = |i: usize| t.get(..i).and_then(|s| s.rfind('\n')).map_or(0, |n| n + 1);
    let mut i = from;
    let mut prev_word = String::new();
    let mut prev_sym = 0u8;
    while i < to {
        let c = at(i);
        if c == b'/' && at(i + 1) == b'/' {
            let end = t
                .get(i..to)
                .and_then(|s| s.find('\n'))
                .map_or(to, |n| i + n);
            let doc = t
                .get(i..end)
                .is_some_and(|s| s.starts_with("///") && !s.starts_with("////"));
            out.push((i, end, tok("comment"), if doc { 2 } else { 0 }));
            i = end;
            continue;
        }
        let quote = if interp {
            c == b'\\' && at(i + 1) == b'"'
        } else {
            c == b'"'
        };
        if quote {
            i = string(t, i, to, out, interp);
            prev_sym = b'"';
            continue;
        }
        if c.is_ascii_digit()
            || (c == b'-'
                && at(i + 1).is_ascii_digit()
                && !prev_sym.is_ascii_alphanumeric()
                && prev_word.is_empty())
        {
            let mut j = i + 1;
            while j < to
                && (at(j).is_ascii_digit() || (at(j) == b'.' && at(j + 1).is_ascii_digit()))
            {
                j += 1;
            }
            out.push((i, j, tok("number"), 0));
            i = j;
            prev_sym = b'0';
            prev_word.clear();
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || (c == b'$' && prev_sym == b'.') {
            let mut j = i + 1;
            let rule_word = prev_word == "rule" || prev_word == "rule-id";
            while j < to
                && (at(j).is_ascii_alphanumeric() || at(j) == b'_' || (rule_word && at(j) == b'-'))
            {
                j += 1;
            }
            let w = t.get(i..j).unwrap_or("");
            let next = t
                .get(j..to)
                .unwrap_or("")
                .trim_start()
                .bytes()
                .next()
                .unwrap_or(0);
            let at_line_start = t.get(line_start(i)..i).is_some_and(|s| s.trim().is_empty());
            let (ty, mods) = if prev_sym == b'.' {
                (tok("property"), 0)
            } else if prev_word == "rule" {
                (tok("class"), 1)
            } else if prev_word == "rule-id" {
                (tok("namespace"), 1)
            } else if KEYWORDS.contains(&w)
                || (at_line_start && METADATA.iter().any(|(k, _)| *k == w))
            {
                (tok("keyword"), 0)
            } else if prev_word == "severity" {
                (tok("enumMember"), 0)
            } else if matches!(prev_word.as_str(), "def" | "param" | "table") {
                let k = if prev_word == "def" {
                    "function"
                } else {
                    "variable"
                };
                (tok(k), 1 | 4)
            } else if prev_sym == b':'
                || prev_sym == b'<'
                || kinds::kind_by_plural(w).is_some()
                || SOURCES.iter().any(|(n, _)| *n == w)
            {
                (tok("type"), 0)
            } else if next == b'(' {
                let builtin = BUILTINS.iter().any(|(n, _, _)| *n == w);
                (tok("function"), if builtin { 8 } else { 0 })
            } else {
                (tok("variable"), 0)
            };
            out.push((i, j, ty, mods));
            prev_word = if prev_word == "rule" {
                "rule-id".into()
            } else {
                w.to_string()
            };
            prev_sym = b'a';
            i = j;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = t.get(i..(i + 2).min(to)).unwrap_or("");
        let len = if ["==", "!=", "<=", ">=", "??"].contains(&two) {
            2
        } else {
            1
        };
        if matches!(c, b'=' | b'!' | b'<' | b'>' | b'?') {
            out.push((i, i + len, tok("operator"), 0));
        }
        prev_sym = c;
        prev_word.clear();
        i += len;
    }
}

/// A string from `i` (its opening quote); returns the offset after it.
pub(super) fn string(
    t: &str,
    i: usize,
    to: usize,
    out: &mut Vec<(usize, usize, u32, u32)>,
    interp: bool,
) -> usize {
    let b = t.as_bytes();
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    let open = if interp { 2 } else { 1 };
    let mut seg = i;
    let mut j = i + open;
    let ty = tok("string");
    while j < to {
        let c = at(j);
        if c == b'\n' {
            break;
        }
        if interp && c == b'\\' && at(j + 1) == b'"' {
            j += 2;
            out.push((seg, j, ty, 0));
            return j;
        }
        if !interp && c == b'"' {
            j += 1;
            out.push((seg, j, ty, 0));
            return j;
        }
        if c == b'\\' {
            j += 2;
            continue;
        }
        if !interp && c == b'{' && at(j + 1) == b'{' {
            j += 2;
            continue;
        }
        if !interp && c == b'{' {
            out.push((seg, j, ty, 0));
            // the interpolation ends at the first `}` outside `\"...\"`
            let mut k = j + 1;
            let mut quoted = false;
            while k < to && at(k) != b'\n' {
                if at(k) == b'\\' && at(k + 1) == b'"' {
                    quoted = !quoted;
                    k += 2;
                    continue;
                }
                if at(k) == b'}' && !quoted {
                    break;
                }
                k += 1;
            }
            lex(t, j + 1, k, out, true);
            j = k + 1;
            seg = j;
            continue;
        }
        j += 1;
    }
    out.push((seg, j.min(to), ty, 0));
    j.min(to)
}
