//! JSON output, schema version 1 (documented in docs/output.md).

use super::summary::Summary;
use crate::check::ir::Severity;
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
use crate::eval::finding::{Evidence, Location, Resource};
use serde::Serialize;
use serde_json::{Value, json};

/// The schema version; bumped on any incompatible change.
pub const VERSION: u32 = 1;

/// The whole report as a JSON value.
pub fn report(
    findings: &[Finding],
    summary: &Summary,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
) -> Value {
    json!({
        "version": VERSION,
        "tool": { "name": "kanon", "version": env!("CARGO_PKG_VERSION") },
        "findings": findings.iter().map(finding).collect::<Vec<_>>(),
        "summary": {
            "files": summary.files,
            "documents": summary.documents,
            "documents_evaluated": summary.documents_evaluated,
            "documents_skipped": summary.documents_skipped.iter().map(|(r, n)| json!({"reason": r, "count": n})).collect::<Vec<_>>(),
            "objects": summary.objects,
            "rules": summary.rules,
            "findings": summary.findings.iter().map(|(s, n)| json!({"severity": s, "count": n})).collect::<Vec<_>>(),
            "input_errors": summary.input_errors,
            "rule_errors": summary.rule_errors,
            "exempted": summary.exempted,
            "baselined": summary.baselined,
        },
        "diagnostics": super::diagnostics::to_json(sources, diagnostics),
    })
}

/// One finding as JSON.
pub fn finding(f: &Finding) -> Value {
    json!({
        "rule": { "id": f.rule_id, "name": f.rule_name, "title": f.title },
        "severity": f.severity,
        "owasp": f.owasp,
        "resource": f.resource,
        "location": f.location,
        "message": f.message,
        "fix": f.fix,
        "evidence": f.evidence,
    })
}

#[derive(Serialize)]
struct RuleRef<'a> {
    id: &'a str,
    name: &'a str,
    title: &'a str,
}

/// One finding, serialized straight from borrowed data (the same shape as [`finding`]).
#[derive(Serialize)]
struct FindingOut<'a> {
    rule: RuleRef<'a>,
    severity: Severity,
    owasp: &'a [String],
    resource: &'a Resource,
    location: &'a Location,
    message: &'a str,
    fix: &'a str,
    evidence: &'a [Evidence],
}

/// Writes the report as pretty JSON without building a value tree for the findings,
/// which for tens of thousands of findings costs more than the scan that found them.
/// `exempted` is added as the `exempted` key when given. The keys and values are those
/// of [`report`].
pub fn write(
    w: &mut dyn std::io::Write,
    findings: &[Finding],
    summary: &Summary,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    exempted: Option<Value>,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Out<'a> {
        diagnostics: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        exempted: Option<Value>,
        findings: Vec<FindingOut<'a>>,
        summary: Value,
        tool: Value,
        version: u32,
    }
    // the small parts come from `report` so both stay one shape
    let mut head = report(&[], summary, diagnostics, sources);
    let take = |v: &mut Value, k: &str| v.get_mut(k).map(Value::take).unwrap_or(Value::Null);
    let out = Out {
        diagnostics: take(&mut head, "diagnostics"),
        exempted,
        findings: findings
            .iter()
            .map(|f| FindingOut {
                rule: RuleRef {
                    id: &f.rule_id,
                    name: &f.rule_name,
                    title: &f.title,
                },
                severity: f.severity,
                owasp: &f.owasp,
                resource: &f.resource,
                location: &f.location,
                message: &f.message,
                fix: &f.fix,
                evidence: &f.evidence,
            })
            .collect(),
        summary: take(&mut head, "summary"),
        tool: take(&mut head, "tool"),
        version: VERSION,
    };
    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}
