//! Human text output: each finding rendered with its YAML snippet underlined.

use crate::check::ir::Severity;
use crate::diag::{FileId, SourceMap};
use crate::eval::Finding;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::Files;
use codespan_reporting::term::{
    self, Styles,
    termcolor::{Buffer, ColorSpec, WriteColor},
};
use std::io::Write;
use std::ops::Range;

fn to_codespan(f: &Finding) -> cs::Diagnostic<u32> {
    let sev = match f.severity {
        Severity::Critical | Severity::High => cs::Severity::Error,
        Severity::Medium => cs::Severity::Warning,
        Severity::Low => cs::Severity::Note,
        Severity::Info => cs::Severity::Help,
    };
    let span = f.location.span;
    let mut labels = vec![cs::Label::primary(span.file, span.range()).with_message(&f.rule.title)];
    for e in &f.evidence {
        if let Some(l) = &e.location {
            if e.step.is_some() {
                continue;
            }
            if l.span != span {
                let ns = super::ns_prefix(e.namespace.as_deref());
                labels.push(
                    cs::Label::secondary(l.span.file, l.span.range())
                        .with_message(format!("{} {ns}{}", e.kind, e.name)),
                );
            }
        }
    }
    let mut notes = Vec::new();
    let ns = super::ns_prefix(f.resource.namespace.as_deref());
    let mut what = format!(
        "{} {ns}{} ({}; {})",
        f.resource.kind,
        f.resource.name,
        f.severity,
        f.rule.owasp.join(", ")
    );
    if let Some(h) = &f.resource.helm_source {
        what.push_str(&format!("; from {h}"));
    }
    notes.push(what);
    let steps: Vec<String> = f
        .evidence
        .iter()
        .filter_map(|e| {
            let text = e.step.as_ref()?;
            let ns = super::ns_prefix(e.namespace.as_deref());
            let at = e
                .location
                .as_ref()
                .map(|l| format!(" ({}:{})", l.file, l.line))
                .unwrap_or_default();
            Some(format!("{} {ns}{}: {text}{at}", e.kind, e.name))
        })
        .collect();
    if !steps.is_empty() {
        let mut path = String::from("path:");
        for (i, s) in steps.iter().enumerate() {
            path.push_str(&format!("\n  {}. {s}", i + 1));
        }
        notes.push(path);
    }
    if let Some(v) = &f.value_source {
        match &v.location {
            Some(l) => notes.push(format!(
                "the value comes from `{}` ({}:{})",
                v.expr, l.file, l.line
            )),
            None => notes.push(format!("the value comes from `{}`", v.expr)),
        }
    }
    if let Some(r) = &f.rendered {
        notes.push(format!("rendered at {}:{}", r.file, r.line));
    }
    if !f.rule.fix.is_empty() {
        notes.push(format!("help: {}", f.rule.fix));
    }
    cs::Diagnostic::new(sev)
        .with_code(&f.rule.id)
        .with_message(&f.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// One labelled line of [`render_simple`]: its index, its byte range and its label.
struct Labelled<'d> {
    line: usize,
    range: Range<usize>,
    label: &'d cs::Label<FileId>,
}

/// The writer of [`render_simple`]: the styles are set and reset where
/// `codespan-reporting` sets and resets them.
struct Out<'a> {
    w: &'a mut Buffer,
    styles: &'a Styles,
    severity: cs::Severity,
    padding: usize,
    chars: &'a term::Chars,
    tab: usize,
}

impl Out<'_> {
    fn text(&mut self, s: &str) -> std::io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    fn spaces(&mut self, n: usize) -> std::io::Result<()> {
        self.repeat(" ", n)
    }

    /// `s`, `n` times.
    fn repeat(&mut self, s: &str, n: usize) -> std::io::Result<()> {
        const ROOM: usize = 64;
        let mut chunk = [0u8; ROOM * 4];
        let per = ROOM.min(n.max(1));
        let len = s.len() * per;
        let Some(room) = chunk.get_mut(..len) else {
            // (a character is at most four bytes: not reached)
            return (0..n).try_for_each(|_| self.text(s));
        };
        for piece in room.chunks_mut(s.len().max(1)) {
            piece.copy_from_slice(s.as_bytes());
        }
        let mut left = n;
        while left > 0 {
            let take = left.min(per);
            self.w
                .write_all(room.get(..take * s.len()).unwrap_or(&[]))?;
            left -= take;
        }
        Ok(())
    }

    fn styled(&mut self, spec: &ColorSpec, s: &str) -> std::io::Result<()> {
        self.w.set_color(spec)?;
        self.text(s)?;
        self.w.reset()
    }

    fn label_style(&mut self, style: cs::LabelStyle) -> std::io::Result<()> {
        self.w.set_color(self.styles.label(self.severity, style))
    }

    /// The gutter and a border character (`│`, `·`, or a note's bullet in its style).
    fn border(&mut self, c: char) -> std::io::Result<()> {
        self.spaces(self.padding + 1)?;
        let spec = if c == self.chars.note_bullet {
            &self.styles.note_bullet
        } else {
            &self.styles.source_border
        };
        self.styled(spec, c.encode_utf8(&mut [0; 4]))
    }

    /// A line of source: its number, the border, and the text with its tabs as spaces,
    /// the part under a primary label in the label's style.
    fn source_line(
        &mut self,
        number: usize,
        text: &str,
        primary: Range<usize>,
    ) -> std::io::Result<()> {
        let padding = self.padding;
        self.styled(&self.styles.line_number, &format!("{number:>padding$}"))?;
        self.text(" ")?;
        self.styled(
            &self.styles.source_border,
            self.chars.source_border_left.encode_utf8(&mut [0; 4]),
        )?;
        self.text(" ")?;
        let mut column = 0;
        let mut from = 0;
        let mut in_primary = false;
        for (at, b) in text.bytes().enumerate() {
            let inside = primary.contains(&at);
            if inside != in_primary {
                self.text(text.get(from..at).unwrap_or(""))?;
                from = at;
                if inside {
                    self.label_style(cs::LabelStyle::Primary)?;
                } else {
                    self.w.reset()?;
                }
                in_primary = inside;
            }
            if b == b'\t' {
                self.text(text.get(from..at).unwrap_or(""))?;
                from = at + 1;
                let width = width_of_tab(self.tab, column);
                self.spaces(width)?;
                column += width;
            } else {
                column += 1;
            }
        }
        self.text(text.get(from..).unwrap_or(""))?;
        if in_primary {
            self.w.reset()?;
        }
        self.text("\n")
    }
}

/// Writes `d` to `out` as `codespan-reporting`'s rich renderer writes it, in colour or
/// without (as `out` is), byte for byte, when it has the shape of nearly every finding:
/// labels in one file, each on one line of its own, and every line it shows printable
/// ASCII or tabs. Otherwise (or when the source map cannot place a label) it returns false
/// (or an error), and `out` holds a part of the diagnostic to throw away. `codespan-reporting` writes
/// the snippet a character at a time through `fmt` and compares every character with every
/// label: at 200,000 findings it took several times as long as the scan.
fn render_simple(
    out: &mut Buffer,
    styles: &Styles,
    config: &term::Config,
    files: &SourceMap,
    d: &cs::Diagnostic<FileId>,
) -> std::io::Result<bool> {
    let Some(file) = d.labels.first().map(|l| l.file_id) else {
        return Ok(false);
    };
    let mut lines: Vec<Labelled<'_>> = Vec::with_capacity(d.labels.len());
    let mut padding = 0;
    // where the snippet's locus points: the earliest label of the highest style
    let mut locus: Option<(usize, cs::LabelStyle)> = None;
    for label in &d.labels {
        let range = &label.range;
        if label.file_id != file || range.end < range.start {
            return Ok(false);
        }
        let (Ok(line), Ok(end)) = (
            Files::line_index(files, file, range.start),
            Files::line_index(files, file, range.end),
        ) else {
            return Ok(false);
        };
        if end != line || lines.iter().any(|l| l.line == line) {
            return Ok(false);
        }
        let number = Files::line_number(files, file, line).ok();
        let (Some(digits), Ok(range)) = (
            number.and_then(usize::checked_ilog10),
            Files::line_range(files, file, line),
        ) else {
            return Ok(false);
        };
        padding = padding.max(digits as usize + 1);
        locus = match locus {
            Some((s, style))
                if !(style > label.style || (style == label.style && s > label.range.start)) =>
            {
                Some((s, style))
            }
            _ => Some((label.range.start, label.style)),
        };
        let at = lines.partition_point(|l| l.line < line);
        lines.insert(at, Labelled { line, range, label });
    }
    let (Ok(source), Some((locus, _))) = (Files::source(files, file), locus) else {
        return Ok(false);
    };
    let (Ok(place), Ok(name)) = (
        Files::location(files, file, locus),
        Files::name(files, file),
    ) else {
        return Ok(false);
    };
    let start = config.chars.snippet_start.as_str();
    let mut o = Out {
        w: out,
        styles,
        severity: d.severity,
        padding,
        chars: &config.chars,
        tab: config.tab_width,
    };
    let severity = match d.severity {
        cs::Severity::Bug => "bug",
        cs::Severity::Error => "error",
        cs::Severity::Warning => "warning",
        cs::Severity::Help => "help",
        cs::Severity::Note => "note",
    };
    o.w.set_color(styles.header(d.severity))?;
    o.text(severity)?;
    if let Some(code) = d.code.as_deref().filter(|c| !c.is_empty()) {
        write!(o.w, "[{code}]")?;
    }
    o.w.set_color(&styles.header_message)?;
    write!(o.w, ": {}", d.message)?;
    o.w.reset()?;
    o.text("\n")?;
    o.spaces(padding + 1)?;
    o.styled(&styles.source_border, start)?;
    writeln!(o.w, " {name}:{}:{}", place.line_number, place.column_number)?;
    o.border(o.chars.source_border_left)?;
    o.text("\n")?;
    for (i, l) in lines.iter().enumerate() {
        let Some(text) = ascii_line(source, l.range.clone()) else {
            return Ok(false);
        };
        let (Ok(number), Some(first)) = (
            Files::line_number(files, file, l.line),
            l.label.range.start.checked_sub(l.range.start),
        ) else {
            return Ok(false);
        };
        let end = (l.label.range.end - l.range.start).max(first + 1);
        let primary = if l.label.style == cs::LabelStyle::Primary {
            first..end
        } else {
            0..0
        };
        o.source_line(number, text, primary)?;
        // the carets, and the message after them
        let caret = match l.label.style {
            cs::LabelStyle::Primary => o.chars.single_primary_caret,
            cs::LabelStyle::Secondary => o.chars.single_secondary_caret,
        };
        o.border(o.chars.source_border_left)?;
        o.text(" ")?;
        // the columns before the label as spaces, then the label's as carets (the position
        // after the text, one column, may be in it); nothing after it
        let positions = text.len() + 1;
        let before = columns(text, 0..first.min(positions), o.tab);
        o.spaces(before)?;
        if first < positions {
            o.label_style(l.label.style)?;
            let carets = columns(text, first..end.min(positions), o.tab);
            o.repeat(caret.encode_utf8(&mut [0; 4]), carets)?;
            o.w.reset()?;
        }
        if !l.label.message.is_empty() {
            o.text(" ")?;
            o.label_style(l.label.style)?;
            o.text(&l.label.message)?;
            o.w.reset()?;
        }
        o.text("\n")?;
        match lines.get(i + 1).map(|next| next.line - l.line) {
            // the one line between two labelled lines is shown
            Some(2) => {
                let between = l.line + 1;
                let (Ok(range), Ok(number)) = (
                    Files::line_range(files, file, between),
                    Files::line_number(files, file, between),
                ) else {
                    return Ok(false);
                };
                let Some(text) = ascii_line(source, range) else {
                    return Ok(false);
                };
                o.source_line(number, text, 0..0)?;
            }
            Some(1) | None => {}
            Some(_) => {
                o.border(o.chars.source_border_left_break)?;
                o.text("\n")?;
            }
        }
    }
    if !d.notes.is_empty() {
        o.border(o.chars.source_border_left)?;
        o.text("\n")?;
    }
    for note in &d.notes {
        for (i, line) in note.lines().enumerate() {
            if i == 0 {
                o.border(o.chars.note_bullet)?;
            } else {
                o.spaces(padding + 2)?;
            }
            writeln!(o.w, " {line}")?;
        }
    }
    o.text("\n")?;
    Ok(true)
}

/// The text of a line without its line break (nor the carriage returns and NULs before
/// it, which the renderer trims), when it is printable ASCII and tabs.
fn ascii_line(source: &str, range: Range<usize>) -> Option<&str> {
    let text = source.get(range)?.trim_end_matches(['\n', '\r', '\0']);
    text.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then_some(text)
}

/// The columns that positions `range` of `text` take (position `text.len()`, after the
/// text, takes one), tabs to their stops.
fn columns(text: &str, range: Range<usize>, tab: usize) -> usize {
    let bytes = text.as_bytes();
    let mut column = 0;
    let mut taken = 0;
    for at in 0..range.end {
        let width = match bytes.get(at) {
            Some(b'\t') => width_of_tab(tab, column),
            _ => 1,
        };
        column += width;
        if at >= range.start {
            taken += width;
        }
    }
    taken
}

/// The columns a tab at `column` takes.
fn width_of_tab(tab: usize, column: usize) -> usize {
    match tab {
        0 => 0,
        _ => tab - column % tab,
    }
}

/// An empty buffer, writing colours or not.
fn buffer(color: bool) -> Buffer {
    if color {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    }
}

/// Findings rendered together by one thread.
const PIECE: usize = 64;
/// Findings rendered before any is written: the report is streamed, a batch at a time, so
/// that it is never held whole (1.6 findings an object make 600 MB of text at 100k objects).
const BATCH: usize = 4096;

/// Writes the findings. The snippets are rendered on every thread of rayon's pool, a piece
/// of findings to a buffer, and the buffers written in the findings' order: the output is
/// the same whatever the number of threads.
pub fn write(
    w: &mut dyn WriteColor,
    sources: &SourceMap,
    findings: &[Finding],
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let config = term::Config::default();
    let styles = Styles::default();
    let color = w.supports_color();
    for batch in findings.chunks(BATCH) {
        let pieces: Vec<std::io::Result<Buffer>> = batch
            .par_chunks(PIECE)
            .map(|piece| {
                let mut buf = buffer(color);
                let mut simple = buffer(color);
                for f in piece {
                    let d = to_codespan(f);
                    simple.clear();
                    if let Ok(true) = render_simple(&mut simple, &styles, &config, sources, &d) {
                        buf.write_all(simple.as_slice())?;
                        continue;
                    }
                    term::emit_to_write_style(&mut buf, &config, sources, &d)
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                }
                Ok(buf)
            })
            .collect();
        for piece in pieces {
            w.write_all(piece?.as_slice())?;
        }
    }
    Ok(())
}

/// Renders the findings without colour.
pub fn render_plain(sources: &SourceMap, findings: &[Finding]) -> String {
    let config = term::Config::default();
    let styles = Styles::default();
    let mut out = String::new();
    let mut simple = Buffer::no_color();
    for f in findings {
        let d = to_codespan(f);
        simple.clear();
        if let Ok(true) = render_simple(&mut simple, &styles, &config, sources, &d) {
            out.push_str(&String::from_utf8_lossy(simple.as_slice()));
        } else {
            let _ = term::emit_to_string(&mut out, &config, sources, &d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::term::termcolor::{Ansi, NoColor};
    use proptest::prelude::*;

    /// A line of text: mostly printable ASCII, sometimes a tab, a carriage return, a NUL,
    /// a wide or multi-byte character or a control character (which the short path leaves
    /// to `codespan-reporting`).
    fn line() -> impl Strategy<Value = String> {
        let common = prop::sample::select(vec!['a', 'b', ' ', ':', '-', '{', '"']);
        let rare = prop::sample::select(vec!['\t', '\r', '\0', 'é', '世', '\u{7}', '~']);
        prop::collection::vec(prop_oneof![40 => common, 1 => rare], 0..30)
            .prop_map(|cs| cs.into_iter().collect())
    }

    /// Labels as `(start, length, primary, message)`, the start a fraction of the text.
    fn labels() -> impl Strategy<Value = Vec<(f64, usize, bool, String)>> {
        let message = prop_oneof![
            Just(String::new()),
            Just("Role can read Secrets".to_owned()),
            Just("Pod ns/p".to_owned())
        ];
        prop::collection::vec((0.0..1.0, 0usize..12, any::<bool>(), message), 1..4)
    }

    /// Renders with `codespan-reporting`, in colour or plainly.
    fn reference(sources: &SourceMap, d: &cs::Diagnostic<FileId>, color: bool) -> Vec<u8> {
        let mut out = buffer(color);
        term::emit_to_write_style(&mut out, &term::Config::default(), sources, d).unwrap();
        out.into_inner()
    }

    /// Renders with the short path, in colour or plainly, when it takes the diagnostic.
    fn short(sources: &SourceMap, d: &cs::Diagnostic<FileId>, color: bool) -> Option<Vec<u8>> {
        let mut out = buffer(color);
        let config = term::Config::default();
        let taken = render_simple(&mut out, &Styles::default(), &config, sources, d);
        matches!(taken, Ok(true)).then(|| out.into_inner())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random texts, labels (primary or secondary, empty or zero-length, at a line's
        /// end or past the text, across lines, several on a line, in a second file) and
        /// notes, of every severity: whenever the short path renders a diagnostic, in colour
        /// or plainly, its bytes are those of `codespan-reporting`.
        #[test]
        fn the_short_path_writes_what_codespan_writes(
            lines in prop::collection::vec(line(), 1..30),
            crlf in any::<bool>(),
            labels in labels(),
            second_file in any::<bool>(),
            notes in prop::collection::vec(
                prop_oneof![Just(""), Just("help: fix it"), Just("path:\n  1. a\n  2. b\n")],
                0..3,
            ),
            code in prop_oneof![Just(""), Just("K01-001")],
            severity in prop::sample::select(vec![
                cs::Severity::Bug,
                cs::Severity::Error,
                cs::Severity::Warning,
                cs::Severity::Note,
                cs::Severity::Help,
            ]),
        ) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let mut sources = SourceMap::new();
            let a = sources.add("a.yaml", text.clone());
            let b = sources.add("b.yaml", "kind: Pod\n");
            let mut d = cs::Diagnostic::new(severity).with_code(code).with_message("bad `x`");
            for (i, (at, len, primary, message)) in labels.iter().enumerate() {
                let mut start = (at * text.len() as f64) as usize;
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + len).min(text.len() + 1);
                while end <= text.len() && !text.is_char_boundary(end) {
                    end += 1;
                }
                let file = if second_file && i == 1 { b } else { a };
                let (start, end) = if file == b { (0, 4) } else { (start, end.min(text.len())) };
                let label = if *primary {
                    cs::Label::primary(file, start..end)
                } else {
                    cs::Label::secondary(file, start..end)
                };
                d.labels.push(label.with_message(message.clone()));
            }
            d.notes = notes.iter().map(|n| n.to_string()).collect();
            for color in [false, true] {
                if let Some(out) = short(&sources, &d, color) {
                    prop_assert_eq!(
                        String::from_utf8(out).unwrap(),
                        String::from_utf8(reference(&sources, &d, color)).unwrap()
                    );
                }
            }
        }
    }

    /// The shapes the short path takes, and those it leaves: it is not a path that never
    /// runs.
    #[test]
    fn the_short_path_renders_the_usual_shapes() {
        let mut sources = SourceMap::new();
        let text = "kind: Pod\nmetadata:\n  name: p\n\tx: 1\nspec:\n  hostPID: true\n  é: 1\n";
        let f = sources.add("a.yaml", text);
        let g = sources.add("b.yaml", text);
        let at = |s: &str| {
            let i = text.find(s).unwrap();
            i..i + s.len()
        };
        let with = |labels: Vec<cs::Label<FileId>>| {
            cs::Diagnostic::warning()
                .with_code("K01-002")
                .with_message("a message")
                .with_labels(labels)
                .with_notes(vec!["Pod p (high; K01:2022)".into(), "help: fix".into()])
        };
        let primary = cs::Label::primary(f, at("hostPID: true")).with_message("Host PID");
        let cases = [
            (with(vec![primary.clone()]), true),
            // a secondary label two lines above, and one with a line between: shown
            (
                with(vec![
                    primary.clone(),
                    cs::Label::secondary(f, at("name: p")).with_message("Pod p"),
                    cs::Label::secondary(f, at("kind")),
                ]),
                true,
            ),
            // a tab on a shown line
            (with(vec![cs::Label::primary(f, at("x: 1"))]), true),
            // the rest is codespan's
            (
                with(vec![cs::Label::primary(f, at("metadata:\n  name"))]),
                false,
            ),
            (
                with(vec![primary.clone(), cs::Label::secondary(f, at("true"))]),
                false,
            ),
            (
                with(vec![primary.clone(), cs::Label::secondary(g, at("kind"))]),
                false,
            ),
            (with(vec![cs::Label::primary(f, at("é: 1"))]), false),
            (with(vec![]), false),
        ];
        for (i, (d, taken)) in cases.iter().enumerate() {
            for color in [false, true] {
                let out = short(&sources, d, color);
                assert_eq!(out.is_some(), *taken, "case {i}");
                if let Some(out) = out {
                    assert!(
                        out == reference(&sources, d, color),
                        "case {i}, colour {color}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_report_is_the_same_on_any_number_of_threads() {
        let mut sources = SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        // more than a batch, and a last piece and batch that are not full
        let findings: Vec<Finding> = (0..BATCH + 3 * PIECE + 5)
            .map(|i| crate::report::json::tests::finding(i, &sources))
            .collect();
        // one finding after another, as the report was written before it had threads, in
        // colour and without
        let config = term::Config::default();
        let one_by_one = |w: &mut dyn WriteColor| {
            for f in &findings {
                term::emit_to_write_style(w, &config, &sources, &to_codespan(f)).unwrap();
            }
        };
        let mut plain = NoColor::new(Vec::new());
        one_by_one(&mut plain);
        let mut colored = Ansi::new(Vec::new());
        one_by_one(&mut colored);
        let (plain, colored) = (plain.into_inner(), colored.into_inner());
        assert!(plain.len() > 500_000, "{}", plain.len());
        assert!(colored.len() > plain.len());
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut out = NoColor::new(Vec::new());
            pool.install(|| write(&mut out, &sources, &findings))
                .unwrap();
            assert!(out.into_inner() == plain, "{threads} threads");
            let mut out = Ansi::new(Vec::new());
            pool.install(|| write(&mut out, &sources, &findings))
                .unwrap();
            assert!(out.into_inner() == colored, "{threads} threads, in colour");
        }
    }
}
