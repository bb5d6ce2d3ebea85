//! JSON output, schema version 1 (documented in docs/output.md).

use super::summary::Summary;
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
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
