//! GitHub Actions workflow commands: one `::error`, `::warning` or `::notice` line per
//! finding (and per located input diagnostic), so findings appear as annotations on the
//! pull request without an upload step. Values are escaped as the runner requires: `%`,
//! CR and LF in the message; also `:` and `,` in properties (actions/toolkit's
//! `escapeData` and `escapeProperty`).

use super::display_path;
use crate::check::ir::Severity;
use crate::diag::{Diagnostic, Level, SourceMap};
use crate::eval::{Finding, Location};
use std::io::{self, Write};
use std::path::Path;

/// The workflow command for a severity: critical and high are errors, medium a warning,
/// low and info notices.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// Escapes a command's message (the text after `::`).
pub fn escape_data(s: &str) -> String {
    escape(s, false)
}

/// Escapes a property value (`file=`, `title=`...): also `:` and `,`, which separate
/// properties.
pub fn escape_property(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

fn line(
    w: &mut dyn Write,
    cmd: &str,
    l: &Location,
    title: &str,
    message: &str,
    base: Option<&Path>,
) -> io::Result<()> {
    write!(
        w,
        "::{cmd} file={},line={},col={}",
        escape_property(&display_path(&l.file, base)),
        l.line,
        l.column
    )?;
    // GitHub takes a column range only within one line
    if l.end_line == l.line {
        write!(w, ",endLine={},endColumn={}", l.end_line, l.end_column)?;
    } else {
        write!(w, ",endLine={}", l.end_line)?;
    }
    writeln!(
        w,
        ",title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// Writes one command per finding, then one per input diagnostic that has a location.
pub fn write(
    w: &mut dyn Write,
    findings: &[Finding],
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    base: Option<&Path>,
) -> io::Result<()> {
    // one command per finding, formatted on every thread
    super::write_chunked(w, findings, 1024, |chunk| {
        let mut out = Vec::with_capacity(chunk.len() * 256);
        for f in chunk {
            let title = format!("{} {}", f.rule.id, f.rule.title);
            line(
                &mut out,
                command(f.severity),
                &f.location,
                &title,
                &f.message.to_string(),
                base,
            )?;
        }
        Ok(out)
    })?;
    for d in diagnostics {
        let Some(p) = &d.primary else { continue };
        let cmd = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        line(
            w,
            cmd,
            &Location::of(sources, p.span),
            d.code,
            &message,
            base,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        // actions/toolkit: escapeData replaces % \r \n; escapeProperty also : and ,
        assert_eq!(
            escape_data("100% of a\r\nb: c, d"),
            "100%25 of a%0D%0Ab: c, d"
        );
        assert_eq!(escape_property("C:\\x,y%\nz"), "C%3A\\x%2Cy%25%0Az");
        // `%` first: an existing escape sequence is not left to be decoded
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn severities_map_to_commands() {
        assert_eq!(command(Severity::Critical), "error");
        assert_eq!(command(Severity::High), "error");
        assert_eq!(command(Severity::Medium), "warning");
        assert_eq!(command(Severity::Low), "notice");
        assert_eq!(command(Severity::Info), "notice");
    }
}
