//! Human text output: each finding rendered with its YAML snippet underlined.

use crate::check::ir::Severity;
use crate::diag::{FileId, SourceMap};
use crate::eval::Finding;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::Files;
use codespan_reporting::term::{
    self,
    termcolor::{Buffer, WriteColor},
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

/// Writes `d` to `out` as `codespan-reporting`'s rich renderer writes it without colour,
/// byte for byte, when it has the shape of nearly every finding: labels in one file, each
/// on one line of its own, and every line it shows printable ASCII or tabs. Otherwise (or
/// when the source map cannot place a label) it writes nothing and returns false, and the
/// caller renders with `codespan-reporting`. That renderer writes the snippet a character
/// at a time through `fmt` and compares every character with every label: at 200,000
/// findings it took several times as long as the scan.
fn render_simple(
    out: &mut Vec<u8>,
    config: &term::Config,
    files: &SourceMap,
    d: &cs::Diagnostic<FileId>,
) -> bool {
    let start = out.len();
    let done = simple(out, config, files, d).is_some();
    if !done {
        out.truncate(start);
    }
    done
}

/// One labelled line of [`render_simple`]: its index, its byte range and its label.
struct Labelled<'d> {
    line: usize,
    range: Range<usize>,
    label: &'d cs::Label<FileId>,
}

fn simple(
    out: &mut Vec<u8>,
    config: &term::Config,
    files: &SourceMap,
    d: &cs::Diagnostic<FileId>,
) -> Option<()> {
    let file = d.labels.first()?.file_id;
    let mut lines: Vec<Labelled<'_>> = Vec::with_capacity(d.labels.len());
    let mut padding = 0;
    // where the snippet's locus points: the earliest label of the highest style
    let mut locus: Option<(usize, cs::LabelStyle)> = None;
    for label in &d.labels {
        let range = &label.range;
        if label.file_id != file || range.end < range.start {
            return None;
        }
        let line = Files::line_index(files, file, range.start).ok()?;
        if Files::line_index(files, file, range.end).ok()? != line
            || lines.iter().any(|l| l.line == line)
        {
            return None;
        }
        let digits = Files::line_number(files, file, line)
            .ok()?
            .checked_ilog10()? as usize
            + 1;
        padding = padding.max(digits);
        locus = match locus {
            Some((s, style))
                if !(style > label.style || (style == label.style && s > range.start)) =>
            {
                Some((s, style))
            }
            _ => Some((range.start, label.style)),
        };
        let at = lines.partition_point(|l| l.line < line);
        let range = Files::line_range(files, file, line).ok()?;
        lines.insert(at, Labelled { line, range, label });
    }
    let source = Files::source(files, file).ok()?;
    let (locus, _) = locus?;
    let place = Files::location(files, file, locus).ok()?;
    let severity = match d.severity {
        cs::Severity::Bug => "bug",
        cs::Severity::Error => "error",
        cs::Severity::Warning => "warning",
        cs::Severity::Help => "help",
        cs::Severity::Note => "note",
    };
    out.extend_from_slice(severity.as_bytes());
    if let Some(code) = d.code.as_deref().filter(|c| !c.is_empty()) {
        write!(out, "[{code}]").ok()?;
    }
    writeln!(out, ": {}", d.message).ok()?;
    let gutter = |out: &mut Vec<u8>| out.resize(out.len() + padding + 1, b' ');
    gutter(out);
    let chars = &config.chars;
    writeln!(
        out,
        "{} {}:{}:{}",
        chars.snippet_start,
        Files::name(files, file).ok()?,
        place.line_number,
        place.column_number
    )
    .ok()?;
    let border = |out: &mut Vec<u8>, c: char| {
        gutter(out);
        let mut b = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    };
    border(out, chars.source_border_left);
    out.push(b'\n');
    let tab = config.tab_width;
    for (i, l) in lines.iter().enumerate() {
        let text = ascii_line(source, l.range.clone())?;
        source_line(
            out,
            padding,
            Files::line_number(files, file, l.line).ok()?,
            text,
            chars,
            tab,
        );
        // the carets, and the message after them
        let first = l.label.range.start - l.range.start;
        let end = (l.label.range.end - l.range.start).max(first + 1);
        let caret = match l.label.style {
            cs::LabelStyle::Primary => chars.single_primary_caret,
            cs::LabelStyle::Secondary => chars.single_secondary_caret,
        };
        border(out, chars.source_border_left);
        out.push(b' ');
        let mut column = 0;
        for (at, &b) in text.as_bytes().iter().enumerate().chain([(text.len(), &0)]) {
            let width = if b == b'\t' && at < text.len() {
                width_of_tab(tab, column)
            } else {
                1
            };
            column += width;
            if (first..end).contains(&at) {
                for _ in 0..width {
                    let mut buf = [0; 4];
                    out.extend_from_slice(caret.encode_utf8(&mut buf).as_bytes());
                }
            } else if at < end {
                out.resize(out.len() + width, b' ');
            }
        }
        if !l.label.message.is_empty() {
            write!(out, " {}", l.label.message).ok()?;
        }
        out.push(b'\n');
        match lines.get(i + 1).map(|next| next.line - l.line) {
            // the one line between two labelled lines is shown
            Some(2) => {
                let between = l.line + 1;
                let text = ascii_line(source, Files::line_range(files, file, between).ok()?)?;
                let number = Files::line_number(files, file, between).ok()?;
                source_line(out, padding, number, text, chars, tab);
            }
            Some(1) | None => {}
            Some(_) => {
                border(out, chars.source_border_left_break);
                out.push(b'\n');
            }
        }
    }
    if !d.notes.is_empty() {
        border(out, chars.source_border_left);
        out.push(b'\n');
    }
    for note in &d.notes {
        for (i, line) in note.lines().enumerate() {
            let bullet = if i == 0 { chars.note_bullet } else { ' ' };
            border(out, bullet);
            writeln!(out, " {line}").ok()?;
        }
    }
    out.push(b'\n');
    Some(())
}

/// The text of a line without its line break (nor the carriage returns and NULs before
/// it, which the renderer trims), when it is printable ASCII and tabs.
fn ascii_line(source: &str, range: Range<usize>) -> Option<&str> {
    let text = source.get(range)?.trim_end_matches(['\n', '\r', '\0']);
    text.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then_some(text)
}

/// The columns a tab at `column` takes.
fn width_of_tab(tab: usize, column: usize) -> usize {
    match tab {
        0 => 0,
        _ => tab - column % tab,
    }
}

/// A line of source: its number, the border, and the text with its tabs as spaces.
fn source_line(
    out: &mut Vec<u8>,
    padding: usize,
    number: usize,
    text: &str,
    chars: &term::Chars,
    tab: usize,
) {
    let _ = write!(out, "{number:>padding$} ");
    let mut b = [0; 4];
    out.extend_from_slice(chars.source_border_left.encode_utf8(&mut b).as_bytes());
    out.push(b' ');
    let mut column = 0;
    for piece in text.split_inclusive('\t') {
        match piece.strip_suffix('\t') {
            Some(before) => {
                out.extend_from_slice(before.as_bytes());
                column += before.len();
                let width = width_of_tab(tab, column);
                out.resize(out.len() + width, b' ');
                column += width;
            }
            None => out.extend_from_slice(piece.as_bytes()),
        }
    }
    out.push(b'\n');
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
    let color = w.supports_color();
    for batch in findings.chunks(BATCH) {
        let pieces: Vec<std::io::Result<Buffer>> = batch
            .par_chunks(PIECE)
            .map(|piece| {
                let mut buf = if color {
                    Buffer::ansi()
                } else {
                    Buffer::no_color()
                };
                let mut simple = Vec::new();
                for f in piece {
                    let d = to_codespan(f);
                    if !color && render_simple(&mut simple, &config, sources, &d) {
                        buf.write_all(&simple)?;
                        simple.clear();
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
    let mut out = Vec::new();
    for f in findings {
        let d = to_codespan(f);
        if !render_simple(&mut out, &config, sources, &d) {
            let mut s = String::new();
            let _ = term::emit_to_string(&mut s, &config, sources, &d);
            out.extend_from_slice(s.as_bytes());
        }
    }
    String::from_utf8(out).unwrap_or_default()
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

    /// Renders with `codespan-reporting`, plainly.
    fn reference(sources: &SourceMap, d: &cs::Diagnostic<FileId>) -> String {
        let mut s = String::new();
        term::emit_to_string(&mut s, &term::Config::default(), sources, d).unwrap();
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random texts, labels (primary or secondary, empty or zero-length, at a line's
        /// end or past the text, across lines, several on a line, in a second file) and
        /// notes: whenever the short path renders a diagnostic, its bytes are those of
        /// `codespan-reporting`; and it renders the one-label-per-line shape of findings.
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
        ) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let mut sources = SourceMap::new();
            let a = sources.add("a.yaml", text.clone());
            let b = sources.add("b.yaml", "kind: Pod\n");
            let mut d = cs::Diagnostic::error().with_code(code).with_message("bad `x`");
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
            let mut short = Vec::new();
            if render_simple(&mut short, &term::Config::default(), &sources, &d) {
                prop_assert_eq!(String::from_utf8(short).unwrap(), reference(&sources, &d));
            } else {
                prop_assert!(short.is_empty());
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
        for (i, (d, short)) in cases.iter().enumerate() {
            let mut out = Vec::new();
            let done = render_simple(&mut out, &term::Config::default(), &sources, d);
            assert_eq!(done, *short, "case {i}");
            if done {
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    reference(&sources, d),
                    "case {i}"
                );
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
