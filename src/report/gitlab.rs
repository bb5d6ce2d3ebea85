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

/// A finding's fingerprint hashed with the path of its file.
fn in_file(f: &Finding, path: &str) -> Fnv1a128 {
    let mut h = Fnv1a128::default();
    h.field("kanon-gitlab-v1");
    h.field(&fingerprint(f));
    h.field(path);
    h
}

/// The fingerprint of the `n`th issue with fingerprint `fp` (from 1): `fp` itself for the
/// first, a hash of it and `n` for a repeat.
fn numbered(fp: String, n: u64) -> String {
    if n < 2 {
        return fp;
    }
    let mut h = Fnv1a128::default();
    h.field(&fp);
    h.field(&n.to_string());
    h.hex()
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
    let fp = in_file(f, &path).hex();
    let n = seen.entry(fp.clone()).or_insert(0);
    *n += 1;
    let fp = numbered(fp, *n);
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
/// Issues rendered by one task.
const CHUNK: usize = 512;
/// Issues rendered before any is written, per thread.
const WINDOW_PER_THREAD: usize = 8 * CHUNK;

/// Writes the report of [`report`] as pretty JSON, followed by a line break: the same
/// bytes, the issues' fingerprints hashed and the issues written on every thread a window
/// at a time (each finding's fingerprint reads its message byte by byte), their occurrences
/// counted in the findings' order.
pub fn write(w: &mut dyn Write, findings: &[Finding], base: Option<&Path>) -> io::Result<()> {
    let splice = super::Splice {
        skeleton: b"[]",
        marker: b"[]",
        close: b"\n",
        chunk: CHUNK,
        window_per_thread: WINDOW_PER_THREAD,
    };
    let mut seen: HashMap<u128, u64, crate::FastHash> = HashMap::default();
    splice.write(
        w,
        findings,
        |window| {
            use rayon::prelude::*;
            let hashed: Vec<(String, u128)> = window
                .par_iter()
                .with_min_len(256)
                .map(|f| {
                    let path = display_path(&f.location.file, base);
                    let fp = in_file(f, &path).value();
                    (path, fp)
                })
                .collect();
            hashed
                .into_iter()
                .map(|(path, fp)| {
                    let n = seen.entry(fp).or_insert(0);
                    *n += 1;
                    (path, fp, *n)
                })
                .collect::<Vec<_>>()
        },
        |buf, _: &mut (), i, f, prepared| {
            let Some((path, fp, n)) = prepared.get(i) else {
                return Ok(());
            };
            let fp = numbered(format!("{fp:032x}"), *n);
            buf.push(b',');
            write_issue(buf, f, path, &fp)
        },
    )?;
    w.write_all(b"\n")
}

/// [`issue`] as pretty JSON in the report's array, after a line break: the keys of each
/// object in the order `serde_json` prints them (sorted).
fn write_issue(out: &mut Vec<u8>, f: &Finding, path: &str, fp: &str) -> io::Result<()> {
    use super::json::pretty::{Open, newline, string, uint};
    newline(out, 1);
    let mut o = Open::object(out, 1);
    o.next(out, Some("check_name"))?;
    string(out, &f.rule.id)?;
    o.next(out, Some("description"))?;
    string(out, &format!("{}: {}", f.rule.id, f.message))?;
    o.next(out, Some("fingerprint"))?;
    string(out, fp)?;
    o.next(out, Some("location"))?;
    let mut l = Open::object(out, 2);
    l.next(out, Some("lines"))?;
    let mut lines = Open::object(out, 3);
    lines.next(out, Some("begin"))?;
    uint(out, u64::from(f.location.line));
    lines.next(out, Some("end"))?;
    uint(out, u64::from(f.location.end_line));
    lines.close(out);
    l.next(out, Some("path"))?;
    string(out, path)?;
    l.close(out);
    o.next(out, Some("severity"))?;
    string(out, severity(f.severity))?;
    o.close(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_report_is_the_pretty_value() {
        let mut sources = crate::diag::SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        for n in [0, 1, 40, CHUNK + 1, WINDOW_PER_THREAD * 6 + 5] {
            // repeated findings: their fingerprints are told apart by occurrence
            let findings = crate::report::json::tests::with_repeats(n, &sources);
            let mut expected = serde_json::to_vec_pretty(&report(&findings, None)).unwrap();
            expected.push(b'\n');
            for threads in [1, 3] {
                let mut out = Vec::new();
                crate::report::on_threads(threads, || write(&mut out, &findings, None)).unwrap();
                assert!(out == expected, "{n} findings, {threads} threads");
            }
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
