//! Human text output: each finding rendered with its YAML snippet underlined.

use crate::check::ir::Severity;
use crate::diag::SourceMap;
use crate::eval::Finding;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{
    self,
    termcolor::{Buffer, WriteColor},
};

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
                for f in piece {
                    term::emit_to_write_style(&mut buf, &config, sources, &to_codespan(f))
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
    let mut out = String::new();
    for f in findings {
        let _ = term::emit_to_string(&mut out, &config, sources, &to_codespan(f));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::term::termcolor::{Ansi, NoColor};

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
