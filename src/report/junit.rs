//! JUnit XML output (docs/output.md): one `<testsuite>` per rule that ran, one failing
//! `<testcase>` per finding, one passing `<testcase>` for a rule without findings, and a
//! `kanon` suite with one erroring test case per input or rule error.

use crate::check::ir::Rule;
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
use crate::eval::finding::Location;
use std::fmt::Write as _;

/// Escapes text for XML element content and attribute values. Characters XML 1.0 cannot
/// hold (control characters other than tab, newline and carriage return) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn at(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

/// The whole report as a JUnit XML document.
pub fn report(
    rules: &[Rule],
    findings: &[Finding],
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
) -> String {
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    let mut suites = String::new();
    let mut tests = 0usize;
    let mut failures = 0usize;
    // rules in the order they ran, then any rule a finding names that is not in the list
    let mut ids: Vec<(&str, &str, &str)> = rules
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str(), r.title.as_str()))
        .collect();
    for f in findings {
        if !ids.iter().any(|(id, _, _)| *id == &*f.rule.id) {
            ids.push((&f.rule.id, &f.rule.name, &f.rule.title));
        }
    }
    for (id, name, title) in ids {
        let mine: Vec<&Finding> = findings.iter().filter(|f| &*f.rule.id == id).collect();
        let n = mine.len().max(1);
        tests += n;
        failures += mine.len();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            escape(&format!("{id} {name}")),
            mine.len()
        );
        if mine.is_empty() {
            let _ = writeln!(
                suites,
                "    <testcase name=\"{}\" classname=\"{}\"/>",
                escape(&format!("{title}: no findings")),
                escape(id)
            );
        }
        for f in mine {
            let ns = f
                .resource
                .namespace
                .as_deref()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            let mut body = format!("{}: {}\n", at(&f.location), f.message);
            let _ = writeln!(
                body,
                "{} {ns}{} ({}; {})",
                f.resource.kind,
                f.resource.name,
                f.severity,
                f.rule.owasp.join(", ")
            );
            if !f.rule.fix.is_empty() {
                let _ = writeln!(body, "fix: {}", f.rule.fix);
            }
            let _ = writeln!(
                suites,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">",
                escape(&format!(
                    "{} {ns}{} at {}",
                    f.resource.kind,
                    f.resource.name,
                    at(&f.location)
                )),
                escape(id),
                escape(&f.location.file),
                f.location.line
            );
            let _ = writeln!(
                suites,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(&f.message),
                f.severity,
                escape(&body)
            );
            let _ = writeln!(suites, "    </testcase>");
        }
        let _ = writeln!(suites, "  </testsuite>");
    }
    if !errors.is_empty() {
        tests += errors.len();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"kanon\" tests=\"{}\" failures=\"0\" errors=\"{}\" skipped=\"0\">",
            errors.len(),
            errors.len()
        );
        for d in &errors {
            let place = d
                .primary
                .as_ref()
                .map(|p| at(&Location::of(sources, p.span)));
            let mut body = match &place {
                Some(p) => format!("{p}: {}\n", d.message),
                None => format!("{}\n", d.message),
            };
            if let Some(h) = &d.help {
                let _ = writeln!(body, "help: {h}");
            }
            let _ = writeln!(
                suites,
                "    <testcase name=\"{}\" classname=\"kanon\">",
                escape(&match &place {
                    Some(p) => format!("{} at {p}", d.code),
                    None => d.code.to_string(),
                })
            );
            let _ = writeln!(
                suites,
                "      <error message=\"{}\" type=\"{}\">{}</error>",
                escape(&d.message),
                d.code,
                escape(&body)
            );
            let _ = writeln!(suites, "    </testcase>");
        }
        let _ = writeln!(suites, "  </testsuite>");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kanon\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">\n{suites}</testsuites>\n",
        errors.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\u{fffd}\n"
        );
    }
}
