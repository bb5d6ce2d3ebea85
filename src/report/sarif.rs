//! SARIF 2.1.0 output (docs/output.md), as GitHub code scanning and other SARIF viewers read
//! it: one run, every rule that ran in `tool.driver.rules`, one result per finding, input and
//! rule errors as tool execution notifications.

use crate::check::ir::{Rule, Severity};
use crate::diag::{Diagnostic, Level, SourceMap};
use crate::eval::Finding;
use crate::eval::finding::Location;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The SARIF schema the output follows.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The `uriBaseId` of relative artifact locations.
pub const SRCROOT: &str = "%SRCROOT%";

/// The key of kanon's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "kanonFindingHash/v1";

/// GitHub's numeric `security-severity` of a severity.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// The SARIF level of a severity: `error` for critical and high, `warning` for medium,
/// `note` for low and info.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The whole report as a SARIF log. `base` is the directory relative URIs are resolved
/// against (normally the working directory): absolute file names under it become relative.
pub fn report(
    rules: &[Rule],
    findings: &[Finding],
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    base: Option<&Path>,
) -> Value {
    let index = rule_positions(rules);
    // each fingerprint numbered by its occurrences so far
    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let hash = super::fingerprint::fingerprint(f);
            let n = seen.entry(hash.clone()).or_insert(0);
            *n += 1;
            result(f, index.get(&*f.rule.id).copied(), &hash, *n, base)
        })
        .collect();
    let notifications: Vec<Value> = diagnostics
        .iter()
        .map(|d| notification(d, sources, base))
        .collect();
    let successful = !diagnostics.iter().any(Diagnostic::is_error);
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kanon",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(rule).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Each rule's position in the log's rules, by id.
fn rule_positions(rules: &[Rule]) -> HashMap<&str, usize> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect()
}

/// The occurrences of the results' fingerprints, counted in the findings' order.
#[derive(Default)]
struct Occurrences(HashMap<u128, usize, crate::FastHash>);

impl Occurrences {
    /// The fingerprints of a window of findings (hashed on every thread: a finding's hash
    /// reads its message byte by byte), each with its occurrences so far counting it.
    fn window(&mut self, findings: &[Finding]) -> Vec<(u128, usize)> {
        use rayon::prelude::*;
        let hashes: Vec<u128> = findings
            .par_iter()
            .with_min_len(256)
            .map(super::fingerprint::fingerprint_value)
            .collect();
        hashes
            .into_iter()
            .map(|h| {
                let n = self.0.entry(h).or_insert(0);
                *n += 1;
                (h, *n)
            })
            .collect()
    }
}

/// Results serialized by one task.
const CHUNK: usize = 256;
/// Results serialized before any is written, per thread: the log is streamed, so that it is
/// never held whole (its value tree took 3.3 GB at 100k objects).
const WINDOW_PER_THREAD: usize = 8 * CHUNK;

/// Writes the SARIF log of [`report`] as pretty JSON, followed by a line break: the same
/// bytes, with the results serialized on every thread a window at a time and spliced into
/// the log without them. JSON strings hold no raw line breaks, so indenting after each one
/// puts a result at its depth.
pub fn write(
    w: &mut dyn std::io::Write,
    rules: &[Rule],
    findings: &[Finding],
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    base: Option<&Path>,
) -> std::io::Result<()> {
    let skeleton = serde_json::to_vec_pretty(&report(rules, &[], diagnostics, sources, base))
        .map_err(std::io::Error::other)?;
    let splice = super::Splice {
        skeleton: &skeleton,
        marker: b"\n      \"results\": []",
        close: b"\n      ",
        chunk: CHUNK,
        window_per_thread: WINDOW_PER_THREAD,
    };
    let index = rule_positions(rules);
    let mut seen = Occurrences::default();
    splice.write(
        w,
        findings,
        // the fingerprints and their occurrence numbers, in the findings' order
        |window| seen.window(window),
        |buf, _: &mut (), i, f, keys| {
            let (hash, n) = keys.get(i).copied().unwrap_or_default();
            buf.push(b',');
            let hash = format!("{hash:032x}");
            write_result(buf, f, index.get(&*f.rule.id).copied(), &hash, n, base)
        },
    )?;
    w.write_all(b"\n")
}

fn rule(r: &Rule) -> Value {
    let mut tags: Vec<String> = vec!["security".to_string()];
    for t in r.owasp.iter().chain(&r.refs).chain(&r.tags) {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    let docs = r.docs.trim();
    let mut text = String::new();
    let mut markdown = format!("**{}**\n", r.title);
    if !docs.is_empty() {
        text.push_str(docs);
        markdown.push('\n');
        markdown.push_str(docs);
        markdown.push('\n');
    } else {
        text.push_str(&r.title);
    }
    if !r.fix.is_empty() {
        text.push_str(&format!("\n\nFix: {}", r.fix));
        markdown.push_str(&format!("\n**Fix:** {}\n", r.fix));
    }
    let owasp = if r.owasp.is_empty() {
        String::new()
    } else {
        format!(" ({})", r.owasp.join(", "))
    };
    json!({
        "id": r.id,
        "name": r.name,
        "shortDescription": { "text": r.title },
        "fullDescription": { "text": format!("{}{owasp}", sentence(&r.title)) },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(r.severity),
            "precision": "high",
            "problem.severity": match r.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low | Severity::Info => "recommendation",
            },
        },
    })
}

/// Ends a text with a period (SARIF messages are sentences).
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn result(
    f: &Finding,
    rule_index: Option<usize>,
    hash: &str,
    n: usize,
    base: Option<&Path>,
) -> Value {
    let mut v = Map::new();
    v.insert("ruleId".into(), json!(f.rule.id));
    if let Some(i) = rule_index {
        v.insert("ruleIndex".into(), json!(i));
    }
    v.insert("level".into(), json!(level(f.severity)));
    v.insert(
        "message".into(),
        json!({ "text": sentence(&f.message.to_string()) }),
    );
    v.insert("locations".into(), json!([physical(&f.location, base)]));
    let related: Vec<Value> = f
        .evidence
        .iter()
        .filter_map(|e| {
            let l = e.location.as_ref()?;
            if l.span == f.location.span {
                return None;
            }
            let ns = super::ns_prefix(e.namespace.as_deref());
            let mut loc = physical(l, base);
            if let Some(o) = loc.as_object_mut() {
                o.insert(
                    "message".into(),
                    json!({ "text": format!("{} {ns}{}", e.kind, e.name) }),
                );
            }
            Some(loc)
        })
        // the values file entry a Helm template took the value from
        .chain(f.value_source.as_ref().and_then(|v| {
            let mut loc = physical(v.location.as_ref()?, base);
            if let Some(o) = loc.as_object_mut() {
                o.insert(
                    "message".into(),
                    json!({ "text": format!("the value comes from {}", v.expr) }),
                );
            }
            Some(loc)
        }))
        .enumerate()
        .map(|(i, mut loc)| {
            if let Some(o) = loc.as_object_mut() {
                o.insert("id".into(), json!(i + 1));
            }
            loc
        })
        .collect();
    if !related.is_empty() {
        v.insert("relatedLocations".into(), Value::Array(related));
    }
    if let Some(fix) = sarif_fix(f, base) {
        v.insert("fixes".into(), json!([fix]));
    }
    v.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: format!("{hash}:{n}") }),
    );
    v.insert(
        "properties".into(),
        json!({
            "severity": f.severity,
            "owasp": f.rule.owasp,
            "resource": {
                "apiVersion": f.resource.api_version,
                "kind": f.resource.kind,
                "namespace": f.resource.namespace,
                "name": f.resource.name,
            },
        }),
    );
    Value::Object(v)
}

/// The depth of a result in the log: `runs[0].results[i]`.
const RESULT_LEVEL: usize = 4;

/// [`result`] written as pretty JSON at its depth in the log, after a line break: the
/// bytes `serde_json` prints for it (the keys of every object in the order of its map,
/// sorted), without the value tree (building and printing it made the SARIF report of
/// 100k objects take longer than their evaluation).
fn write_result(
    out: &mut Vec<u8>,
    f: &Finding,
    rule_index: Option<usize>,
    hash: &str,
    n: usize,
    base: Option<&Path>,
) -> std::io::Result<()> {
    use super::json::pretty::{Open, newline, string, uint};
    let at = RESULT_LEVEL;
    newline(out, at);
    let mut o = Open::object(out, at);
    if let Some(fix) = sarif_fix(f, base) {
        o.next(out, Some("fixes"))?;
        value_at(out, &Value::Array(vec![fix]), at + 1)?;
    }
    o.next(out, Some("level"))?;
    string(out, level(f.severity))?;
    o.next(out, Some("locations"))?;
    let mut list = Open::array(out, at + 1);
    list.next(out, None)?;
    write_physical(out, &f.location, base, at + 2, None)?;
    list.close(out);
    o.next(out, Some("message"))?;
    write_text(out, &sentence(&f.message.to_string()), at + 1)?;
    o.next(out, Some("partialFingerprints"))?;
    let mut fp = Open::object(out, at + 1);
    fp.next(out, Some(FINGERPRINT_KEY))?;
    string(out, &format!("{hash}:{n}"))?;
    fp.close(out);
    o.next(out, Some("properties"))?;
    let mut p = Open::object(out, at + 1);
    p.next(out, Some("owasp"))?;
    let mut owasp = Open::array(out, at + 2);
    for c in f.rule.owasp.iter() {
        owasp.next(out, None)?;
        string(out, c)?;
    }
    owasp.close(out);
    p.next(out, Some("resource"))?;
    let r = &f.resource;
    let mut ro = Open::object(out, at + 2);
    for (k, v) in [
        ("apiVersion", Some(&*r.api_version)),
        ("kind", Some(&*r.kind)),
        ("name", Some(&*r.name)),
        ("namespace", r.namespace.as_deref()),
    ] {
        ro.next(out, Some(k))?;
        match v {
            Some(v) => string(out, v)?,
            None => out.extend_from_slice(b"null"),
        }
    }
    ro.close(out);
    p.next(out, Some("severity"))?;
    string(out, f.severity.as_str())?;
    p.close(out);
    // the related locations, numbered from 1: the evidence found elsewhere than the
    // finding, then the values file entry a Helm template took the value from
    let evidence = f.evidence.iter().filter_map(|e| {
        let l = e.location.as_ref()?;
        if l.span == f.location.span {
            return None;
        }
        let ns = super::ns_prefix(e.namespace.as_deref());
        Some((l, format!("{} {ns}{}", e.kind, e.name)))
    });
    let value = f.value_source.as_ref().and_then(|v| {
        Some((
            v.location.as_ref()?,
            format!("the value comes from {}", v.expr),
        ))
    });
    let mut related = evidence.chain(value).enumerate().peekable();
    if related.peek().is_some() {
        o.next(out, Some("relatedLocations"))?;
        let mut list = Open::array(out, at + 1);
        for (i, (l, text)) in related {
            list.next(out, None)?;
            write_physical(out, l, base, at + 2, Some((i + 1, &text)))?;
        }
        list.close(out);
    }
    o.next(out, Some("ruleId"))?;
    string(out, &f.rule.id)?;
    if let Some(i) = rule_index {
        o.next(out, Some("ruleIndex"))?;
        uint(out, i as u64);
    }
    o.close(out);
    Ok(())
}

/// [`physical`] written at depth `at`; with an id and a message for a related location.
fn write_physical(
    out: &mut Vec<u8>,
    l: &Location,
    base: Option<&Path>,
    at: usize,
    related: Option<(usize, &str)>,
) -> std::io::Result<()> {
    use super::json::pretty::{Open, string, uint};
    let mut o = Open::object(out, at);
    if let Some((id, text)) = related {
        o.next(out, Some("id"))?;
        uint(out, id as u64);
        o.next(out, Some("message"))?;
        write_text(out, text, at + 1)?;
    }
    o.next(out, Some("physicalLocation"))?;
    let mut p = Open::object(out, at + 1);
    p.next(out, Some("artifactLocation"))?;
    let mut a = Open::object(out, at + 2);
    let (uri, relative) = uri(&l.file, base);
    a.next(out, Some("uri"))?;
    string(out, &uri)?;
    if relative {
        a.next(out, Some("uriBaseId"))?;
        string(out, SRCROOT)?;
    }
    a.close(out);
    p.next(out, Some("region"))?;
    let mut r = Open::object(out, at + 2);
    for (k, n) in [
        ("endColumn", l.end_column),
        ("endLine", l.end_line),
        ("startColumn", l.column),
        ("startLine", l.line),
    ] {
        r.next(out, Some(k))?;
        uint(out, u64::from(n));
    }
    r.close(out);
    p.close(out);
    o.close(out);
    Ok(())
}

/// `{"text": text}` at depth `at`.
fn write_text(out: &mut Vec<u8>, text: &str, at: usize) -> std::io::Result<()> {
    use super::json::pretty::{Open, string};
    let mut o = Open::object(out, at);
    o.next(out, Some("text"))?;
    string(out, text)?;
    o.close(out);
    Ok(())
}

/// A value's pretty JSON where a value at depth `at` goes (its first line in place, the
/// others indented to the depth).
fn value_at(out: &mut Vec<u8>, v: &Value, at: usize) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    let mut lines = text.split(|b| *b == b'\n');
    if let Some(first) = lines.next() {
        out.extend_from_slice(first);
    }
    for l in lines {
        super::json::pretty::newline(out, at);
        out.extend_from_slice(l);
    }
    Ok(())
}

/// A finding's fix as a SARIF `fix`: its text changes to the file, when it has some and
/// the file is one on disk (not rendered output).
fn sarif_fix(f: &Finding, base: Option<&Path>) -> Option<Value> {
    let a = f.autofix.as_deref()?;
    if a.changes.is_empty() || a.unfixable.is_some() || f.rendered.is_some() {
        return None;
    }
    let file = &a.changes.first()?.deleted.file;
    if !crate::fix::apply::is_on_disk(file) {
        return None;
    }
    let replacements: Vec<Value> = a
        .changes
        .iter()
        .map(|c| {
            let loc = physical(&c.deleted, base);
            json!({
                "deletedRegion": loc["physicalLocation"]["region"],
                "insertedContent": { "text": c.inserted },
            })
        })
        .collect();
    let loc = physical(&a.changes.first()?.deleted, base);
    let mut text = format!("{} fix of {}", a.applicability, f.rule.id);
    if !a.reason.is_empty() {
        text.push_str(": ");
        text.push_str(&a.reason);
    }
    Some(json!({
        "description": { "text": sentence(&text) },
        "artifactChanges": [{
            "artifactLocation": loc["physicalLocation"]["artifactLocation"],
            "replacements": replacements,
        }],
    }))
}

fn physical(l: &Location, base: Option<&Path>) -> Value {
    let mut artifact = Map::new();
    let (uri, relative) = uri(&l.file, base);
    artifact.insert("uri".into(), json!(uri));
    if relative {
        artifact.insert("uriBaseId".into(), json!(SRCROOT));
    }
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": l.line,
                "startColumn": l.column,
                "endLine": l.end_line,
                "endColumn": l.end_column,
            },
        }
    })
}

fn notification(d: &Diagnostic, sources: &SourceMap, base: Option<&Path>) -> Value {
    let mut v = Map::new();
    v.insert("descriptor".into(), json!({ "id": d.code }));
    v.insert(
        "level".into(),
        json!(match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        }),
    );
    let mut text = sentence(&d.message);
    if let Some(h) = &d.help {
        text.push_str(&format!(" Help: {}", sentence(h)));
    }
    v.insert("message".into(), json!({ "text": text }));
    if let Some(p) = &d.primary {
        let l = Location::of(sources, p.span);
        v.insert("locations".into(), json!([physical(&l, base)]));
    }
    Value::Object(v)
}

/// A file name as a SARIF URI: relative names (and absolute names under `base`) become
/// relative URIs with forward slashes, other absolute names `file://` URIs. Returns the URI
/// and whether it is relative.
pub fn uri(file: &str, base: Option<&Path>) -> (String, bool) {
    let path = Path::new(file);
    if path.is_absolute() {
        if let Some(rel) = base.and_then(|b| path.strip_prefix(b).ok()) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            return (encode(&rel), true);
        }
        let abs = file.replace('\\', "/");
        let abs = if abs.starts_with('/') {
            abs
        } else {
            format!("/{abs}")
        };
        return (format!("file://{}", encode(&abs)), false);
    }
    let mut rel = file.replace('\\', "/");
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest.to_string();
    }
    (encode(&rel), true)
}

/// Percent-encodes what may not appear in a URI path (RFC 3986), keeping `/`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            uri("examples/a b.yaml", None),
            ("examples/a%20b.yaml".into(), true)
        );
        assert_eq!(uri("./x/y.yaml", None), ("x/y.yaml".into(), true));
        assert_eq!(uri("dir\\y.yaml", None), ("dir/y.yaml".into(), true));
        assert_eq!(uri("<stdin>", None), ("%3Cstdin%3E".into(), true));
        assert_eq!(
            uri("/repo/k8s/a.yaml", Some(Path::new("/repo"))),
            ("k8s/a.yaml".into(), true)
        );
        assert_eq!(
            uri("/elsewhere/a.yaml", Some(Path::new("/repo"))),
            ("file:///elsewhere/a.yaml".into(), false)
        );
    }

    #[test]
    fn the_streamed_log_is_the_pretty_value() {
        let mut sources = SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        let diagnostics = [Diagnostic::warning("W1001", "duplicate key `a` in mapping")];
        for n in [0, 1, 3, CHUNK + 1, WINDOW_PER_THREAD * 6 + 5] {
            // repeated findings: their fingerprints are told apart by occurrence
            let findings = crate::report::json::tests::with_repeats(n, &sources);
            let whole = report(&[], &findings, &diagnostics, &sources, None);
            let mut expected = serde_json::to_vec_pretty(&whole).unwrap();
            expected.push(b'\n');
            for threads in [1, 3] {
                let mut out = Vec::new();
                crate::report::on_threads(threads, || {
                    write(&mut out, &[], &findings, &diagnostics, &sources, None)
                })
                .unwrap();
                assert!(out == expected, "{n} findings, {threads} threads");
            }
        }
    }

    #[test]
    fn sentences() {
        assert_eq!(sentence("runs privileged"), "runs privileged.");
        assert_eq!(sentence("done."), "done.");
    }
}
