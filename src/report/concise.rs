//! Concise output: one line per finding, `path:line:col: severity RULE-ID message`, in the
//! findings' order (file, line, column, rule), then the summary. For terminals and for
//! reading thousands of findings; `--format text` shows each with its snippet.

use super::display_path;
use crate::eval::Finding;
use std::io::{self, Write};
use std::path::Path;

/// Writes one line per finding. `base` is the directory paths are shown relative to.
pub fn write(w: &mut dyn Write, findings: &[Finding], base: Option<&Path>) -> io::Result<()> {
    for f in findings {
        let l = &f.location;
        writeln!(
            w,
            "{}:{}:{}: {} {} {}",
            display_path(&l.file, base),
            l.line,
            l.column,
            f.severity,
            f.rule.id,
            one_line(&f.message.to_string())
        )?;
    }
    Ok(())
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
