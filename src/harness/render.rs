//! Rendering a harness [`Report`]: text for people, JUnit XML for CI.

use super::{Failure, Report, RuleReport};
use std::fmt::Write as _;

fn rule_title(r: &RuleReport) -> String {
    let name = if r.name.is_empty() {
        String::new()
    } else {
        format!(" {}", r.name)
    };
    format!("{}{name} ({} expected, {} ok)", r.id, r.expected, r.ok)
}

fn location(f: &Failure) -> String {
    match (f.line, f.column) {
        (0, _) => f.file.clone(),
        (l, 0) => format!("{}:{l}", f.file),
        (l, c) => format!("{}:{l}:{c}", f.file),
    }
}

/// A failure's details, each line indented by `indent`.
fn failure_text(f: &Failure, indent: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{indent}{}: {}", location(f), f.summary);
    if let Some(e) = &f.expected {
        let _ = writeln!(out, "{indent}  - expected: {e}");
    }
    if let Some(x) = &f.found {
        let _ = writeln!(out, "{indent}  + found:    {x}");
    }
    if let Some(s) = &f.snippet {
        let _ = writeln!(out, "{indent}  {:>4} | {s}", f.line);
    }
    if let Some(d) = &f.diagnostics {
        for line in d.lines() {
            if line.is_empty() {
                let _ = writeln!(out);
            } else {
                let _ = writeln!(out, "{indent}  {line}");
            }
        }
    }
    out
}

/// The text report: a line per rule (`ok   ID name (N expected, M ok)` or `FAIL ...` with
/// the failures below), the coverage table when recorded, and the summary line
/// `N passed, M failed` last.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for r in &report.rules {
        let status = if r.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{status} {}", rule_title(r));
        for f in &r.failures {
            out.push_str(&failure_text(f, "  "));
        }
    }
    if report.rules.iter().any(|r| r.coverage.is_some()) {
        out.push_str(&coverage(report));
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        report.passed(),
        report.failed()
    );
    out
}

/// The coverage section of the text report.
pub fn coverage(report: &Report) -> String {
    let mut out = String::from("\ncoverage:\n");
    let width = report
        .rules
        .iter()
        .filter(|r| r.coverage.is_some())
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    let (mut both_cases, mut rules, mut leaves, mut covered) = (0, 0, 0, 0);
    for r in &report.rules {
        let Some(c) = &r.coverage else { continue };
        rules += 1;
        let yes = |b: bool| if b { "yes" } else { "no" };
        if c.positive && c.negative {
            both_cases += 1;
        }
        let _ = writeln!(
            out,
            "{:width$}  cases: positive {}, negative {}",
            r.id,
            yes(c.positive),
            yes(c.negative)
        );
        leaves += c.leaves.len();
        covered += c.covered();
        let mut line = format!(
            "{:width$}  where-leaf {}/{} seen true and false",
            r.id,
            c.covered(),
            c.leaves.len()
        );
        for l in &c.leaves {
            let gap = match (l.seen_true, l.seen_false) {
                (true, true) => continue,
                (true, false) => "never false",
                (false, true) => "never true",
                (false, false) => "never evaluated",
            };
            let _ = write!(line, "; {gap}: {}", l.text);
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "coverage: {both_cases}/{rules} rules with positive and negative cases, \
         {covered}/{leaves} where-leaves seen true and false"
    );
    out
}

/// Escapes text for XML content and attribute values (and drops characters XML 1.0
/// cannot hold).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push('\u{FFFD}');
            }
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML report: one `testsuite`, one `testcase` per rule, a `failure` per failing
/// rule holding every failure's details.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"kanon test\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
        report.rules.len(),
        report.failed()
    );
    for r in &report.rules {
        let name = if r.name.is_empty() {
            r.id.clone()
        } else {
            format!("{} {}", r.id, r.name)
        };
        let _ = write!(
            out,
            "  <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&r.file),
            xml_escape(&name)
        );
        if r.passed() && r.coverage.is_none() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if !r.passed() {
            let first = r
                .failures
                .first()
                .map_or(String::new(), |f| format!("{}: {}", location(f), f.summary));
            let more = match r.failures.len() {
                0 | 1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            let body: String = r.failures.iter().map(|f| failure_text(f, "")).collect();
            let _ = writeln!(
                out,
                "    <failure message=\"{}{more}\">{}</failure>",
                xml_escape(&first),
                xml_escape(&body)
            );
        }
        if let Some(c) = &r.coverage {
            let mut text = format!(
                "where-leaf {}/{} seen true and false\n",
                c.covered(),
                c.leaves.len()
            );
            for l in &c.leaves {
                let _ = writeln!(
                    text,
                    "{} {}: {}",
                    if l.seen_true { "T" } else { "-" },
                    if l.seen_false { "F" } else { "-" },
                    l.text
                );
            }
            let _ = writeln!(out, "    <system-out>{}</system-out>", xml_escape(&text));
        }
        out.push_str("  </testcase>\n");
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}"
        );
    }
}
