//! Baseline files: the fingerprints of accepted findings, so that a scan reports only new ones.
//!
//! ```json
//! { "version": 1, "tool": "kanon", "fingerprints": ["..."], "findings": [ { "fingerprint": "...", "rule": "K01-001", ... } ] }
//! ```
//!
//! `fingerprints` is what is read back; `findings` is for people reviewing the file.

use super::fingerprint::fingerprint;
use crate::eval::Finding;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// The baseline file format version.
pub const VERSION: u64 = 1;

/// Fingerprints of baselined findings, with how many findings each stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    counts: BTreeMap<String, usize>,
}

impl Baseline {
    /// A baseline of these findings.
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut counts = BTreeMap::new();
        for f in findings {
            *counts.entry(fingerprint(f)).or_insert(0) += 1;
        }
        Baseline { counts }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read baseline `{}`: {}",
                path.display(),
                crate::config::io_message(&e)
            )
        })?;
        Baseline::parse(&text).map_err(|e| format!("invalid baseline `{}`: {e}", path.display()))
    }

    /// Parses a baseline's text.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| e.to_string().to_lowercase())?;
        match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(VERSION) => {}
            Some(n) => return Err(format!("unsupported version `{n}`")),
            None => return Err("no `version`".to_string()),
        }
        let list = v
            .get("fingerprints")
            .and_then(serde_json::Value::as_array)
            .ok_or("no `fingerprints` list")?;
        let mut counts = BTreeMap::new();
        for fp in list {
            let fp = fp.as_str().ok_or("a fingerprint is not a string")?;
            *counts.entry(fp.to_string()).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    /// Number of fingerprints.
    pub fn len(&self) -> usize {
        self.counts.values().sum()
    }

    /// Whether the baseline is empty.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Splits findings into new ones and baselined ones. Each fingerprint in the baseline
    /// accounts for as many findings as it was recorded for.
    pub fn split(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>) {
        let mut left = self.counts.clone();
        let mut new = Vec::new();
        let mut old = Vec::new();
        for f in findings {
            match left.get_mut(&fingerprint(&f)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    old.push(f);
                }
                _ => new.push(f),
            }
        }
        (new, old)
    }
}

/// Writes the baseline file recording these findings (pretty JSON and a line break): the
/// findings sorted by fingerprint, written one at a time rather than built as one value
/// (at 100k objects that value took 550 MB).
pub fn write(w: &mut dyn std::io::Write, findings: &[&Finding]) -> std::io::Result<()> {
    let entries = by_fingerprint(findings);
    // the document without its two arrays, in serde_json's order of keys: `findings`,
    // `fingerprints`, `tool`, `version`
    let skeleton = serde_json::to_vec_pretty(&json!({
        "version": VERSION,
        "tool": { "name": "kanon", "version": env!("CARGO_PKG_VERSION") },
        "fingerprints": [],
        "findings": [],
    }))
    .map_err(std::io::Error::other)?;
    let rest = skeleton
        .strip_prefix(b"{\n  \"findings\": [],\n  \"fingerprints\": []")
        .ok_or_else(|| std::io::Error::other("baseline without its arrays"))?;
    w.write_all(b"{\n  \"findings\": ")?;
    let findings = entries.iter().map(|(fp, f)| entry(fp, f));
    super::pretty_array(w, findings, b"\n    ", b"\n  ")?;
    w.write_all(b",\n  \"fingerprints\": ")?;
    super::pretty_array(
        w,
        entries.iter().map(|(fp, _)| json!(fp)),
        b"\n    ",
        b"\n  ",
    )?;
    w.write_all(rest)?;
    w.write_all(b"\n")
}

/// The findings with their fingerprints, in the file's order: by fingerprint, then as
/// reported.
fn by_fingerprint<'f>(findings: &[&'f Finding]) -> Vec<(String, &'f Finding)> {
    let mut entries: Vec<(String, &Finding)> =
        findings.iter().map(|f| (fingerprint(f), *f)).collect();
    entries.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.sort_key().cmp(&b.1.sort_key()))
    });
    entries
}

/// A finding as the file lists it for people reviewing it.
fn entry(fp: &str, f: &Finding) -> serde_json::Value {
    json!({
        "fingerprint": fp,
        "rule": f.rule.id,
        "severity": f.severity,
        "resource": resource_text(f),
        "location": format!("{}:{}:{}", f.location.file, f.location.line, f.location.column),
        "message": f.message,
    })
}

/// `Kind namespace/name` or `Kind name`.
pub fn resource_text(f: &Finding) -> String {
    match &f.resource.namespace {
        Some(ns) => format!("{} {ns}/{}", f.resource.kind, f.resource.name),
        None => format!("{} {}", f.resource.kind, f.resource.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The baseline file as one pretty value, as it was written before it was streamed.
    fn as_value(findings: &[&Finding]) -> String {
        let entries = by_fingerprint(findings);
        let v = json!({
            "version": VERSION,
            "tool": { "name": "kanon", "version": env!("CARGO_PKG_VERSION") },
            "fingerprints": entries.iter().map(|(fp, _)| fp).collect::<Vec<_>>(),
            "findings": entries.iter().map(|(fp, f)| entry(fp, f)).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&v).unwrap() + "\n"
    }

    #[test]
    fn the_streamed_file_is_the_pretty_value_and_reads_back() {
        let mut sources = crate::diag::SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        for n in [0, 1, 300] {
            // repeated findings: their fingerprints are told apart by occurrence
            let findings = crate::report::json::tests::with_repeats(n, &sources);
            let all: Vec<&Finding> = findings.iter().collect();
            let mut out = Vec::new();
            write(&mut out, &all).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text, as_value(&all), "{n} findings");
            // every finding is in the baseline read back
            let read = Baseline::parse(&text).unwrap();
            assert_eq!(read, Baseline::of(&findings));
        }
    }
}
