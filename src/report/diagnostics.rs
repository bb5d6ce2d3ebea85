//! Rendering diagnostics for people (codespan-reporting, colour on a terminal) and tools (JSON).

use crate::diag::{Diagnostic, Level, SourceMap};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<u32> {
    let sev = match d.level {
        Level::Error => cs::Severity::Error,
        Level::Warning => cs::Severity::Warning,
    };
    let mut labels = Vec::new();
    if let Some(p) = &d.primary {
        labels.push(cs::Label::primary(p.span.file, p.span.range()).with_message(&p.message));
    }
    for s in &d.secondary {
        labels.push(cs::Label::secondary(s.span.file, s.span.range()).with_message(&s.message));
    }
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    cs::Diagnostic::new(sev)
        .with_code(d.code)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// Writes diagnostics to a terminal or any writer.
pub fn emit(
    w: &mut dyn WriteColor,
    sources: &SourceMap,
    diags: &[Diagnostic],
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diags {
        term::emit_to_write_style(w, &config, sources, &to_codespan(d))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// Renders diagnostics as plain text (no colour), as snapshot tests see them.
pub fn render_plain(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let config = term::Config::default();
    let mut out = String::new();
    for d in diags {
        // a missing file only loses that diagnostic's snippet
        let _ = term::emit_to_string(&mut out, &config, sources, &to_codespan(d));
    }
    out
}

/// Diagnostics as JSON values, with file, line and column resolved.
pub fn to_json(sources: &SourceMap, diags: &[Diagnostic]) -> serde_json::Value {
    let loc = |l: &crate::diag::Label| {
        let (line, column) = sources.line_col(l.span);
        serde_json::json!({
            "file": sources.name(l.span.file),
            "line": line,
            "column": column,
            "start": l.span.start,
            "end": l.span.end,
            "label": l.message,
        })
    };
    serde_json::Value::Array(
        diags
            .iter()
            .map(|d| {
                serde_json::json!({
                    "level": d.level,
                    "code": d.code,
                    "message": d.message,
                    "primary": d.primary.as_ref().map(loc),
                    "secondary": d.secondary.iter().map(loc).collect::<Vec<_>>(),
                    "help": d.help,
                    "notes": d.notes,
                })
            })
            .collect(),
    )
}
