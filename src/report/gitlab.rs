//! GitLab Code Quality report: a JSON array of issues (`description`, `check_name`,
//! `fingerprint`, `severity`, `location.path`, `location.lines.begin`), the subset of the
//! Code Climate format that GitLab reads, so merge requests show the findings.
//!
//! The fingerprint is the finding's own (rule, object and message, never the line, see
//! [`super::fingerprint`]) hashed with the file's path, so it survives lines moving. GitLab
//! shows only the first issue of a fingerprint, so a repeated one (the same finding twice in
//! one file) is made unique by its occurrence number.

use super::display_path;
use super::fingerprint::{Fnv1a128, fingerprint};
use crate::check::ir::Severity;
use crate::eval::Finding;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

/// GitLab's name for a severity (`info`, `minor`, `major`, `critical`, `blocker`).
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// The issues of a report, in the findings' order.
pub fn report(findings: &[Finding], base: Option<&Path>) -> Value {
    let mut seen = HashMap::new();
    Value::Array(findings.iter().map(|f| issue(f, &mut seen, base)).collect())
}

/// One finding's issue; `seen` counts the fingerprints of the findings before it, so that
/// a repeated one is told apart by its occurrence.
fn issue(f: &Finding, seen: &mut HashMap<String, u64>, base: Option<&Path>) -> Value {
    let path = display_path(&f.location.file, base);
    let mut h = Fnv1a128::default();
    h.field("kanon-gitlab-v1");
    h.field(&fingerprint(f));
    h.field(&path);
    let mut fp = h.hex();
    let n = seen.entry(fp.clone()).or_insert(0);
    *n += 1;
    if *n > 1 {
        let mut h = Fnv1a128::default();
        h.field(&fp);
        h.field(&n.to_string());
        fp = h.hex();
    }
    json!({
        "description": format!("{}: {}", f.rule.id, f.message),
        "check_name": &*f.rule.id,
        "fingerprint": fp,
        "severity": severity(f.severity),
        "location": {
            "path": path,
            "lines": { "begin": f.location.line, "end": f.location.end_line },
        },
    })
}

/// Writes the report, pretty-printed, with a final newline: the pretty JSON of [`report`],
/// streamed an issue at a time rather than built whole.
pub fn write(w: &mut dyn Write, findings: &[Finding], base: Option<&Path>) -> io::Result<()> {
    let mut seen = HashMap::new();
    let issues = findings.iter().map(|f| issue(f, &mut seen, base));
    super::pretty_array(w, issues, b"\n  ", b"\n")?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_report_is_the_pretty_value() {
        let mut sources = crate::diag::SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        for n in [0, 1, 40] {
            // repeated findings: their fingerprints are told apart by occurrence
            let findings = crate::report::json::tests::with_repeats(n, &sources);
            let mut expected = serde_json::to_vec_pretty(&report(&findings, None)).unwrap();
            expected.push(b'\n');
            let mut out = Vec::new();
            write(&mut out, &findings, None).unwrap();
            assert!(out == expected, "{n} findings");
        }
    }

    #[test]
    fn severities_use_gitlab_names() {
        let all = [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        let names: Vec<&str> = all.iter().map(|s| severity(*s)).collect();
        assert_eq!(names, ["info", "minor", "major", "critical", "blocker"]);
    }
}
