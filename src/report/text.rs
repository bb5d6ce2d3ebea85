//! Human text output: each finding rendered with its YAML snippet underlined.

use crate::check::ir::Severity;
use crate::diag::SourceMap;
use crate::eval::Finding;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};

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
                let ns = e
                    .namespace
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default();
                labels.push(
                    cs::Label::secondary(l.span.file, l.span.range())
                        .with_message(format!("{} {ns}{}", e.kind, e.name)),
                );
            }
        }
    }
    let mut notes = Vec::new();
    let ns = f
        .resource
        .namespace
        .as_deref()
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
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
            let ns = e
                .namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
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

/// Writes the findings.
pub fn write(
    w: &mut dyn WriteColor,
    sources: &SourceMap,
    findings: &[Finding],
) -> std::io::Result<()> {
    let config = term::Config::default();
    for f in findings {
        term::emit_to_write_style(w, &config, sources, &to_codespan(f))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
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
