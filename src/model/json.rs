//! JSON reader that keeps a span on every value.
//!
//! Strict RFC 8259, hand-written and iterative (an explicit stack, bounded by
//! [`Limits::max_depth`]), with byte spans. Strings without escapes are copied straight from the
//! input slice.

use super::load::{MapBuild, Parsed, duplicate_key};
use super::{Document, Limits, Node, NodeId, SkipReason, Style, Value};
use crate::diag::{Diagnostic, FileId, Span};

enum Kind {
    Seq(Vec<NodeId>),
    Map {
        build: MapBuild,
        key: Option<(Box<str>, Span)>,
    },
}

struct Frame {
    node: NodeId,
    start: usize,
    kind: Kind,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    file: FileId,
    nodes: Vec<Node>,
    diagnostics: Vec<Diagnostic>,
    scratch: String,
}

/// A located syntax error.
struct Fail {
    at: usize,
    message: String,
    code: &'static str,
}

fn fail<T>(at: usize, message: impl Into<String>) -> Result<T, Fail> {
    Err(Fail {
        at,
        message: message.into(),
        code: "E1002",
    })
}

fn id_of(len: usize) -> NodeId {
    NodeId::try_from(len).unwrap_or(NodeId::MAX)
}

impl<'a> Reader<'a> {
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    fn push(&mut self, node: Node) -> NodeId {
        let id = id_of(self.nodes.len());
        self.nodes.push(node);
        id
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

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

    /// Parses a string starting at the opening quote; returns its value and end offset.
    fn string(&mut self) -> Result<Box<str>, Fail> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes.
        loop {
            match self.bytes.get(self.pos) {
                None => return fail(open, "unterminated string"),
                Some(b'"') => {
                    let s = self.text.get(start..self.pos).unwrap_or("");
                    self.pos += 1;
                    return Ok(s.into());
                }
                Some(b'\\') => break,
                Some(&c) if c < 0x20 => {
                    return fail(self.pos, "control character in string (escape it)");
                }
                Some(_) => self.pos += 1,
            }
        }
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.push_str(self.text.get(start..self.pos).unwrap_or(""));
        loop {
            let run_start = self.pos;
            while let Some(&c) = self.bytes.get(self.pos) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.bytes.get(self.pos) {
                None => return fail(open, "unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    let s: Box<str> = out.as_str().into();
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

    fn hex4(&mut self, esc: usize) -> Result<u32, Fail> {
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

    fn number(&mut self) -> Result<Value, Fail> {
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

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Fail> {
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
    fn key(&mut self) -> Result<(Box<str>, Span), Fail> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return fail(
                self.pos,
                format!("expected a string key, found {}", self.describe(self.pos)),
            );
        }
        let start = self.pos;
        let k = self.string()?;
        let span = self.span(start..self.pos);
        self.skip_ws();
        if self.peek() != Some(b':') {
            return fail(
                self.pos,
                format!("expected `:` after key, found {}", self.describe(self.pos)),
            );
        }
        self.pos += 1;
        Ok((k, span))
    }

    fn document(&mut self, limits: &Limits) -> Result<Option<NodeId>, Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        loop {
            // Parse one value at `pos`.
            self.skip_ws();
            let start = self.pos;
            let mut done: Option<NodeId> = None;
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if stack.len() >= limits.max_depth {
                        return Err(Fail {
                            at: start,
                            message: format!(
                                "nesting is deeper than the limit of {} levels",
                                limits.max_depth
                            ),
                            code: "E1003",
                        });
                    }
                    self.pos += 1;
                    let node = self.push(Node {
                        value: Value::Null,
                        span: self.span(start..start + 1),
                        key_span: None,
                        style: Style::Plain,
                    });
                    self.skip_ws();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        if let Some(n) = self.nodes.get_mut(node as usize) {
                            n.value = if open == b'{' {
                                Value::Map(Vec::new())
                            } else {
                                Value::Seq(Vec::new())
                            };
                            n.span = Span::new(self.file, start..self.pos);
                        }
                        done = Some(node);
                    } else if open == b'{' {
                        let key = self.key()?;
                        stack.push(Frame {
                            node,
                            start,
                            kind: Kind::Map {
                                build: MapBuild::default(),
                                key: Some(key),
                            },
                        });
                    } else {
                        stack.push(Frame {
                            node,
                            start,
                            kind: Kind::Seq(Vec::new()),
                        });
                    }
                }
                Some(b'"') => {
                    let s = self.string()?;
                    done = Some(self.push(Node {
                        value: Value::Str(s),
                        span: self.span(start..self.pos),
                        key_span: None,
                        style: Style::DoubleQuoted,
                    }));
                }
                Some(b't') => done = Some(self.scalar(start, "true", Value::Bool(true))?),
                Some(b'f') => done = Some(self.scalar(start, "false", Value::Bool(false))?),
                Some(b'n') => done = Some(self.scalar(start, "null", Value::Null)?),
                Some(b'-' | b'0'..=b'9') => {
                    let v = self.number()?;
                    done = Some(self.push(Node {
                        value: v,
                        span: self.span(start..self.pos),
                        key_span: None,
                        style: Style::Plain,
                    }));
                }
                _ => {
                    return fail(
                        start,
                        format!("expected a value, found {}", self.describe(start)),
                    );
                }
            }
            // Attach finished values to their parents, closing collections as they end.
            while let Some(id) = done.take() {
                let Some(frame) = stack.last_mut() else {
                    return Ok(Some(id));
                };
                match &mut frame.kind {
                    Kind::Seq(items) => items.push(id),
                    Kind::Map { build, key } => {
                        if let Some((k, kspan)) = key.take() {
                            if let Some(n) = self.nodes.get_mut(id as usize) {
                                n.key_span = Some(kspan);
                            }
                            if let Some(old) = build.insert(k, id) {
                                let first = self.nodes.get(old as usize).and_then(|n| n.key_span);
                                let name = build.entries.last().map_or("", |(k, _)| &**k);
                                self.diagnostics.push(duplicate_key(name, kspan, first));
                            }
                        }
                    }
                }
                self.skip_ws();
                let is_map = matches!(frame.kind, Kind::Map { .. });
                match (self.peek(), is_map) {
                    (Some(b','), false) => {
                        self.pos += 1;
                    }
                    (Some(b','), true) => {
                        self.pos += 1;
                        let k = self.key()?;
                        if let Kind::Map { key, .. } = &mut frame.kind {
                            *key = Some(k);
                        }
                    }
                    (Some(b']'), false) | (Some(b'}'), true) => {
                        self.pos += 1;
                        let Some(frame) = stack.pop() else {
                            return fail(self.pos, "internal error");
                        };
                        let value = match frame.kind {
                            Kind::Seq(items) => Value::Seq(items),
                            Kind::Map { build, .. } => Value::Map(build.entries),
                        };
                        if let Some(n) = self.nodes.get_mut(frame.node as usize) {
                            n.value = value;
                            n.span = Span::new(self.file, frame.start..self.pos);
                        }
                        done = Some(frame.node);
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

    fn scalar(&mut self, start: usize, word: &str, value: Value) -> Result<NodeId, Fail> {
        let v = self.literal(word, value)?;
        Ok(self.push(Node {
            value: v,
            span: self.span(start..self.pos),
            key_span: None,
            style: Style::Plain,
        }))
    }
}

/// Reads a JSON text as one document.
pub(crate) fn parse(text: &str, file: FileId, limits: &Limits) -> Parsed {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        file,
        // about one node per 12 bytes of JSON: reserving it up front saves the copies of a
        // doubling arena (and the fresh pages they touch) on large exports
        nodes: Vec::with_capacity(text.len() / 12 + 16),
        diagnostics: Vec::new(),
        scratch: String::new(),
    };
    let result = r.document(limits).and_then(|root| {
        r.skip_ws();
        if r.pos < r.bytes.len() {
            fail(
                r.pos,
                format!("unexpected {} after the json value", r.describe(r.pos)),
            )
        } else {
            Ok(root)
        }
    });
    let doc = match result {
        Ok(None) => Err(SkipReason::Empty),
        Ok(Some(root)) => Ok(Document {
            nodes: super::trimmed(std::mem::take(&mut r.nodes)),
            root,
            file,
            index: 0,
            helm_source: None,
        }),
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
    }
}
