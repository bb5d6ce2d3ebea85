//! JSON output, schema version 1 (documented in docs/output.md).

use super::summary::Summary;
use crate::check::ir::Severity;
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
use crate::eval::finding::{Evidence, Location, Resource, ValueSource};
use rayon::prelude::*;
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
    let mut report = json!({
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
    });
    if summary.fixtures_skipped > 0 {
        if let Some(s) = report.get_mut("summary").and_then(Value::as_object_mut) {
            s.insert("fixtures_skipped".into(), json!(summary.fixtures_skipped));
        }
    }
    report
}

/// One finding as JSON.
pub fn finding(f: &Finding) -> Value {
    let mut v = json!({
        "rule": { "id": f.rule.id, "name": f.rule.name, "title": f.rule.title },
        "severity": f.severity,
        "owasp": f.rule.owasp,
        "resource": f.resource,
        "location": f.location,
        "message": f.message,
        "fix": f.rule.fix,
        "evidence": f.evidence,
    });
    if let (Some(r), Some(m)) = (&f.rendered, v.as_object_mut()) {
        m.insert("rendered".into(), json!(r));
    }
    if let (Some(s), Some(m)) = (&f.value_source, v.as_object_mut()) {
        m.insert("value_source".into(), json!(s));
    }
    v
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
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered: Option<&'a Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_source: Option<&'a ValueSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autofix: Option<Value>,
}

/// A finding's fix: applicability, reason, the edits by path and, when described, as text.
fn autofix_json(a: &crate::eval::fixes::Autofix) -> Value {
    use crate::fix::edit::{EditOp, PathStep};
    let path = |p: &[PathStep]| -> Value {
        p.iter()
            .map(|s| match s {
                PathStep::Key(k) => Value::from(k.as_str()),
                PathStep::Index(i) => Value::from(*i),
            })
            .collect()
    };
    let edits: Vec<Value> = a
        .ops
        .iter()
        .map(|o| match &o.op {
            EditOp::Set { path: p, value } => {
                serde_json::json!({"op": "set", "path": path(p), "value": fix_value(value)})
            }
            EditOp::Remove { path: p } => match &o.only_if {
                Some(item) => {
                    serde_json::json!({"op": "remove", "path": path(p), "item": item})
                }
                None => serde_json::json!({"op": "remove", "path": path(p)}),
            },
            EditOp::Add { path: p, value } => {
                serde_json::json!({"op": "add", "path": path(p), "value": fix_value(value)})
            }
        })
        .collect();
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        if !edits.is_empty() {
            m.insert("edits".to_string(), Value::Array(edits));
        }
    }
    v
}

fn fix_value(v: &crate::fix::edit::FixValue) -> Value {
    use crate::fix::edit::FixValue;
    match v {
        FixValue::Null => Value::Null,
        FixValue::Bool(b) => Value::from(*b),
        FixValue::Int(i) => Value::from(*i),
        FixValue::Float(f) => Value::from(*f),
        FixValue::Str(s) => Value::from(s.as_str()),
        FixValue::List(items) => items.iter().map(fix_value).collect(),
    }
}

impl FindingOut<'_> {
    fn of(f: &Finding) -> FindingOut<'_> {
        FindingOut {
            rule: RuleRef {
                id: &f.rule.id,
                name: &f.rule.name,
                title: &f.rule.title,
            },
            severity: f.severity,
            owasp: &f.rule.owasp,
            resource: &f.resource,
            location: &f.location,
            message: &f.message,
            fix: &f.rule.fix,
            evidence: &f.evidence,
            rendered: f.rendered.as_deref(),
            value_source: f.value_source.as_deref(),
            autofix: f.autofix.as_deref().map(autofix_json),
        }
    }
}

/// The whole report, with the findings borrowed.
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

impl<'a> Out<'a> {
    fn new(
        findings: Vec<FindingOut<'a>>,
        summary: &Summary,
        diagnostics: &[Diagnostic],
        sources: &SourceMap,
        exempted: Option<Value>,
    ) -> Out<'a> {
        // the small parts come from `report` so both stay one shape
        let mut head = report(&[], summary, diagnostics, sources);
        let take = |v: &mut Value, k: &str| v.get_mut(k).map(Value::take).unwrap_or(Value::Null);
        Out {
            diagnostics: take(&mut head, "diagnostics"),
            exempted,
            findings,
            summary: take(&mut head, "summary"),
            tool: take(&mut head, "tool"),
            version: VERSION,
        }
    }
}

/// Findings serialized by one task.
const CHUNK: usize = 512;
/// Chunks serialized before they are written: enough to keep every core busy, few
/// enough that the report is not held in memory (about 8 MB at a time).
const WINDOW: usize = 16;

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
    let out = Out::new(Vec::new(), summary, diagnostics, sources, exempted);
    let skeleton = serde_json::to_vec_pretty(&out).map_err(std::io::Error::other)?;
    // The findings are serialized in parallel, each as pretty JSON indented to its place
    // in the array (JSON strings hold no raw line breaks, so indenting after each one is
    // safe), and spliced where the skeleton has an empty array: the same bytes as one
    // pretty serialization of the whole report.
    let marker = b"\n  \"findings\": []";
    let at = skeleton
        .windows(marker.len())
        .position(|x| x == marker)
        .ok_or_else(|| std::io::Error::other("report skeleton without findings"))?;
    let split = at + marker.len() - 2;
    w.write_all(skeleton.get(..split).unwrap_or_default())?;
    if findings.is_empty() {
        w.write_all(b"[]")?;
    } else {
        // a window of chunks at a time, so the report is never all in memory
        let mut first = true;
        for window in findings.chunks(CHUNK * WINDOW) {
            let chunks = window
                .par_chunks(CHUNK)
                .map(|chunk| -> std::io::Result<Vec<u8>> {
                    let mut buf = Vec::with_capacity(chunk.len() * 1024);
                    let mut one = Vec::with_capacity(4096);
                    for f in chunk {
                        buf.extend_from_slice(b",\n    ");
                        one.clear();
                        serde_json::to_writer_pretty(&mut one, &FindingOut::of(f))
                            .map_err(std::io::Error::other)?;
                        for (i, line) in one.split(|&b| b == b'\n').enumerate() {
                            if i > 0 {
                                buf.extend_from_slice(b"\n    ");
                            }
                            buf.extend_from_slice(line);
                        }
                    }
                    Ok(buf)
                })
                .collect::<std::io::Result<Vec<Vec<u8>>>>()?;
            for c in &chunks {
                // the first separator opens the array instead
                if first {
                    w.write_all(b"[")?;
                    w.write_all(c.get(1..).unwrap_or_default())?;
                    first = false;
                } else {
                    w.write_all(c)?;
                }
            }
        }
        w.write_all(b"\n  ]")?;
    }
    w.write_all(skeleton.get(split + 2..).unwrap_or_default())?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::eval::finding::{FindingData, Location};
    use crate::model::LoadStats;

    fn finding(i: usize, sources: &SourceMap) -> Finding {
        Finding::from(FindingData {
            rule: std::sync::Arc::new(crate::eval::interp::RuleText {
                id: format!("K0{}-001", i % 3).into(),
                name: "name".into(),
                title: "a \"quoted\" title".into(),
                fix: "fix it".into(),
                owasp: vec!["K01:2022".to_string()].into(),
            }),
            severity: Severity::High,
            resource: Resource {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: (i % 2 == 0).then(|| "ns".into()),
                name: format!("p{i}").into(),
                helm_source: None,
            },
            location: Location::of(sources, Span::new(0, i % 7..i % 7 + 1)),
            message: format!("line one\nline two é {i}"),
            evidence: if i % 5 == 0 {
                vec![Evidence {
                    kind: "ServiceAccount".into(),
                    namespace: None,
                    name: "sa".into(),
                    location: None,
                    step: None,
                }]
            } else {
                Vec::new()
            },
            rendered: (i % 4 == 0).then(|| Box::new(Location::of(sources, Span::new(0, 0..4)))),
            value_source: (i % 8 == 0).then(|| {
                Box::new(crate::eval::finding::ValueSource {
                    expr: ".Values.x".to_string(),
                    location: Some(Location::of(sources, Span::new(0, 0..4))),
                })
            }),
            autofix: None,
        })
    }

    /// The streamed report is byte for byte one pretty serialization of the whole report,
    /// with the keys and values of [`report`], for no findings, a few, more than one
    /// parallel chunk, and more than one window of chunks.
    #[test]
    fn streamed_report_equals_the_value_report() {
        let mut sources = SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        for n in [0, 3, 1300, CHUNK * WINDOW * 2 + 700] {
            let findings: Vec<Finding> = (0..n).map(|i| finding(i, &sources)).collect();
            let summary = Summary::new(&LoadStats::default(), 3, &findings, 0, 0);
            let mut streamed = Vec::new();
            write(&mut streamed, &findings, &summary, &[], &sources, None).unwrap();
            // the same bytes as one serialization of the whole report
            let all = findings.iter().map(FindingOut::of).collect();
            let whole = Out::new(all, &summary, &[], &sources, None);
            let mut expected = serde_json::to_string_pretty(&whole).unwrap();
            expected.push('\n');
            assert_eq!(
                String::from_utf8(streamed.clone()).unwrap(),
                expected,
                "{n} findings"
            );
            // and the same keys and values as the value report
            let parsed: Value = serde_json::from_slice(&streamed).unwrap();
            assert_eq!(parsed, report(&findings, &summary, &[], &sources));
        }
    }
}
