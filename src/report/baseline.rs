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

/// The text of a baseline file recording these findings.
pub fn render(findings: &[Finding]) -> String {
    let mut entries: Vec<(String, &Finding)> =
        findings.iter().map(|f| (fingerprint(f), f)).collect();
    entries.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.sort_key().cmp(&b.1.sort_key()))
    });
    let v = json!({
        "version": VERSION,
        "tool": { "name": "kanon", "version": env!("CARGO_PKG_VERSION") },
        "fingerprints": entries.iter().map(|(fp, _)| fp).collect::<Vec<_>>(),
        "findings": entries.iter().map(|(fp, f)| json!({
            "fingerprint": fp,
            "rule": f.rule.id,
            "severity": f.severity,
            "resource": resource_text(f),
            "location": format!("{}:{}:{}", f.location.file, f.location.line, f.location.column),
            "message": f.message,
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// `Kind namespace/name` or `Kind name`.
pub fn resource_text(f: &Finding) -> String {
    match &f.resource.namespace {
        Some(ns) => format!("{} {ns}/{}", f.resource.kind, f.resource.name),
        None => format!("{} {}", f.resource.kind, f.resource.name),
    }
}
