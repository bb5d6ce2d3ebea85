//! Concise output: one line per finding, `path:line:col: severity RULE-ID message`, in the
//! findings' order (file, line, column, rule), then the summary. For terminals and for
//! reading thousands of findings; `--format text` shows each with its snippet.

use super::display_path;
use crate::eval::Finding;
use std::io::{self, Write};
use std::path::Path;

/// Findings formatted by one task.
const CHUNK: usize = 1024;

/// Writes one line per finding. `base` is the directory paths are shown relative to. The
/// lines are formatted on every thread and written in order.
pub fn write(w: &mut dyn Write, findings: &[Finding], base: Option<&Path>) -> io::Result<()> {
    super::write_chunked(w, findings, CHUNK, |chunk| lines(chunk, base))
}

/// The lines of some findings; the shown path of a file is made once for a run of its
/// findings (they come sorted by file).
fn lines(findings: &[Finding], base: Option<&Path>) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(findings.len() * 128);
    let mut shown: Option<(&std::sync::Arc<str>, String)> = None;
    for f in findings {
        let l = &f.location;
        let path = match &shown {
            Some((file, path)) if std::sync::Arc::ptr_eq(file, &l.file) => path,
            _ => &shown.insert((&l.file, display_path(&l.file, base))).1,
        };
        writeln!(
            out,
            "{}:{}:{}: {} {} {}",
            path,
            l.line,
            l.column,
            f.severity,
            f.rule.id,
            one_line(&f.message.to_string())
        )?;
    }
    Ok(out)
}

/// A message on one line: line breaks become spaces, so every finding is one line.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\n', '\r']) {
        std::borrow::Cow::Owned(s.replace("\r\n", " ").replace(['\n', '\r'], " "))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a\r\nb\nc"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }
}
