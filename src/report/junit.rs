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
    let mut out = Vec::new();
    let _ = write(&mut out, rules, findings, diagnostics, sources);
    String::from_utf8_lossy(&out).into_owned()
}

/// Test cases written by one task.
const CHUNK: usize = 512;

/// The test case of a finding of rule `id`.
fn testcase(out: &mut String, f: &Finding, id: &str) {
    let ns = super::ns_prefix(f.resource.namespace.as_deref());
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
        out,
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
        out,
        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
        escape(&f.message.to_string()),
        f.severity,
        escape(&body)
    );
    let _ = writeln!(out, "    </testcase>");
}

/// Writes the report of [`report`], a test case at a time: the totals the root element
/// carries are counted first, so that the document is never held whole.
pub fn write(
    w: &mut dyn std::io::Write,
    rules: &[Rule],
    findings: &[Finding],
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
) -> std::io::Result<()> {
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    // rules in the order they ran, then any rule a finding names that is not in the list;
    // each with its findings, in their order
    let mut ids: Vec<(&str, &str, &str)> = rules
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str(), r.title.as_str()))
        .collect();
    // (a rule id is used once: the checker refuses a second)
    let mut place: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, (id, _, _))| (*id, i))
        .collect();
    let mut groups: Vec<Vec<&Finding>> = vec![Vec::new(); ids.len()];
    for f in findings {
        let i = *place.entry(&f.rule.id).or_insert_with(|| {
            ids.push((&f.rule.id, &f.rule.name, &f.rule.title));
            groups.push(Vec::new());
            ids.len() - 1
        });
        if let Some(g) = groups.get_mut(i) {
            g.push(f);
        }
    }
    let tests: usize = groups.iter().map(|g| g.len().max(1)).sum::<usize>() + errors.len();
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kanon\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">\n",
        findings.len(),
        errors.len()
    )?;
    let mut suites = String::new();
    for ((id, name, title), mine) in ids.into_iter().zip(&groups) {
        suites.clear();
        let n = mine.len().max(1);
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
        w.write_all(suites.as_bytes())?;
        suites.clear();
        // the test cases, formatted on every thread and written in order
        super::write_chunked(w, mine, CHUNK, |chunk| {
            let mut out = String::with_capacity(chunk.len() * 640);
            for f in chunk {
                testcase(&mut out, f, id);
            }
            Ok(out.into_bytes())
        })?;
        let _ = writeln!(suites, "  </testsuite>");
        w.write_all(suites.as_bytes())?;
    }
    if !errors.is_empty() {
        suites.clear();
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
        w.write_all(suites.as_bytes())?;
    }
    w.write_all(b"</testsuites>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_group_the_findings_of_each_rule_in_order() {
        let mut sources = SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        let findings: Vec<Finding> = (0..7)
            .map(|i| crate::report::json::tests::finding(i, &sources))
            .collect();
        let errors = [crate::diag::Diagnostic::error("E1001", "invalid yaml")];
        let xml = report(&[], &findings, &errors, &sources);
        // the rules in the order the findings name them; 7 findings and one error
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kanon\" tests=\"8\" failures=\"7\" errors=\"1\">\n  <testsuite name=\"K00-001 name\" tests=\"3\" failures=\"3\""
        ), "{xml}");
        let suites: Vec<&str> = xml
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("<testsuite name=\""))
            .map(|l| l.split('"').next().unwrap_or_default())
            .collect();
        assert_eq!(
            suites,
            ["K00-001 name", "K01-001 name", "K02-001 name", "kanon"]
        );
        // each suite's cases are its own findings, in their order
        let cases: Vec<&str> = xml
            .lines()
            .filter(|l| l.contains("<testcase name=\"Pod"))
            .map(|l| l.split("classname=\"").nth(1).unwrap_or_default())
            .map(|l| l.split('"').next().unwrap_or_default())
            .collect();
        assert_eq!(
            cases,
            [
                "K00-001", "K00-001", "K00-001", "K01-001", "K01-001", "K02-001", "K02-001"
            ]
        );
        assert!(xml.ends_with("  </testsuite>\n</testsuites>\n"));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\u{fffd}\n"
        );
    }
}
