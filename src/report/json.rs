//! JSON output, schema version 1 (documented in docs/output.md).

use super::summary::Summary;
use crate::check::ir::Severity;
use crate::diag::{Diagnostic, SourceMap};
use crate::eval::Finding;
use crate::eval::finding::{Evidence, Location, Resource, ValueSource};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

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
    message: &'a crate::eval::finding::Message,
    fix: &'a str,
    evidence: &'a [Evidence],
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered: Option<&'a Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_source: Option<&'a ValueSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autofix: Option<Value>,
}

/// A finding's fix: applicability, reason, the edits by path and, when described, as text
/// (the report writes it directly, `pretty::autofix`; the test checks the bytes are these).
#[cfg(test)]
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

#[cfg(test)]
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

/// Only the test serializes findings through serde: the report writes them directly
/// (`pretty`), and the test checks that the bytes are the same.
#[cfg(test)]
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
/// Chunks serialized per thread before they are written: enough to keep every core busy,
/// few enough that the report is not held in memory (a chunk is about half a megabyte).
const WINDOW_PER_THREAD: usize = 2;
/// Bytes reserved per finding: a finding's pretty JSON is about a kilobyte.
const FINDING_BYTES: usize = 1280;

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
    // in the array, and spliced where the skeleton has an empty array: the same bytes as
    // one pretty serialization of the whole report.
    let splice = super::Splice {
        skeleton: &skeleton,
        marker: b"\n  \"findings\": []",
        close: b"\n  ",
        chunk: CHUNK,
        window_per_thread: CHUNK * WINDOW_PER_THREAD,
    };
    splice.write(w, findings, RuleHeads::of, |buf, repeats, _, f, heads| {
        if buf.is_empty() {
            buf.reserve(CHUNK * FINDING_BYTES);
        }
        buf.extend_from_slice(b",\n    ");
        pretty::finding_from(buf, f, 2, heads.get(f), repeats)
    })?;
    w.write_all(b"\n")
}

/// What a finding's rule decides, written once for each rule and severity of a window of
/// findings and copied into each finding of them: its start (`rule`, `severity`, `owasp`)
/// and its `fix` text; by the address of the rule's shared texts, and the severity.
#[derive(Default)]
struct RuleHeads(std::collections::HashMap<(usize, Severity), pretty::Head, crate::FastHash>);

impl RuleHeads {
    fn key(f: &Finding) -> (usize, Severity) {
        (Arc::as_ptr(&f.rule) as usize, f.severity)
    }

    /// The heads of the findings of a window, at the findings' depth in the report.
    fn of(findings: &[Finding]) -> RuleHeads {
        let mut h = RuleHeads::default();
        for f in findings {
            if let std::collections::hash_map::Entry::Vacant(e) = h.0.entry(RuleHeads::key(f)) {
                if let Ok(head) = pretty::Head::of(f, 2) {
                    e.insert(head);
                }
            }
        }
        h
    }

    fn get(&self, f: &Finding) -> Option<&pretty::Head> {
        self.0.get(&RuleHeads::key(f))
    }
}

/// The pretty JSON of one finding written directly, byte for byte what serde_json's
/// pretty printer makes of [`FindingOut`] at that depth (the test below compares them):
/// a report has about 1 KB of it per finding, and serializing through serde, then
/// indenting the result again, cost more than the evaluation that found them.
pub(super) mod pretty {
    use super::{Evidence, Finding, Location, Resource, ValueSource};
    use crate::eval::fixes::{Autofix, FixOp};
    use crate::fix::edit::{EditOp, FixValue, PathStep};
    use std::io::Result;

    /// A comma, a line break and the indentation of the usual depths: the separator before
    /// an entry or an element, in one copy (without its comma for the first, and without
    /// both for a line break alone).
    const COMMA_NEWLINE: &[u8; 34] = b",\n                                ";

    /// An object's key as it is written before the value: quoted, with `: `. The keys are
    /// this module's own words, which need no escapes.
    macro_rules! key {
        ($k:literal) => {
            concat!("\"", $k, "\": ")
        };
    }

    /// Two spaces per level of nesting.
    fn indent(out: &mut Vec<u8>, level: usize) {
        let spaces = COMMA_NEWLINE.get(2..).unwrap_or_default();
        let mut n = 2 * level;
        while n > 0 {
            let k = n.min(spaces.len());
            out.extend_from_slice(spaces.get(..k).unwrap_or_default());
            n -= k;
        }
    }

    /// A line break, then two spaces per level of nesting.
    pub(in crate::report) fn newline(out: &mut Vec<u8>, level: usize) {
        match COMMA_NEWLINE.get(1..2 + 2 * level) {
            Some(s) => out.extend_from_slice(s),
            None => {
                out.push(b'\n');
                indent(out, level);
            }
        }
    }

    /// An unsigned integer in decimal, as `{n}` formats it, without the formatting
    /// machinery (a finding has half a dozen).
    pub(in crate::report) fn uint(out: &mut Vec<u8>, n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                // `n % 10` is below 10
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(digits.get(at..).unwrap_or_default());
    }

    /// A signed integer in decimal, as `{n}` formats it.
    pub(super) fn int(out: &mut Vec<u8>, n: i64) {
        if n < 0 {
            out.push(b'-');
        }
        uint(out, n.unsigned_abs());
    }

    /// A JSON string; escaped by serde_json when it needs escaping.
    #[inline]
    pub(in crate::report) fn string(out: &mut Vec<u8>, s: &str) -> Result<()> {
        if crate::model::json::plain_run(s.as_bytes(), 0) == s.len() {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
            Ok(())
        } else {
            serde_json::to_writer(&mut *out, s).map_err(std::io::Error::other)
        }
    }

    /// A finding's message, as [`string`] writes its text, put together in place when no
    /// piece needs escaping.
    fn message(out: &mut Vec<u8>, m: &crate::eval::finding::Message) -> Result<()> {
        let mark = out.len();
        out.push(b'"');
        for p in m.pieces() {
            if crate::model::json::plain_run(p.as_bytes(), 0) != p.len() {
                // a piece needs escapes: the whole text, escaped, instead
                out.truncate(mark);
                return string(out, &m.to_string());
            }
            out.extend_from_slice(p.as_bytes());
        }
        out.push(b'"');
        Ok(())
    }

    fn opt_string(out: &mut Vec<u8>, s: Option<&str>) -> Result<()> {
        match s {
            Some(s) => string(out, s),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    /// An object or an array being written at `level`.
    pub(in crate::report) struct Open {
        level: usize,
        empty: bool,
        close: u8,
    }

    impl Open {
        pub(in crate::report) fn object(out: &mut Vec<u8>, level: usize) -> Open {
            out.push(b'{');
            Open {
                level,
                empty: true,
                close: b'}',
            }
        }

        pub(in crate::report) fn array(out: &mut Vec<u8>, level: usize) -> Open {
            out.push(b'[');
            Open {
                level,
                empty: true,
                close: b']',
            }
        }

        /// Starts the next element (of an array) or entry (of an object, with its key).
        #[inline]
        pub(in crate::report) fn next(
            &mut self,
            out: &mut Vec<u8>,
            key: Option<&str>,
        ) -> Result<()> {
            self.separate(out);
            // keys are this module's own words, which need no escapes
            if let Some(k) = key {
                out.push(b'"');
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\": ");
            }
            Ok(())
        }

        /// Starts the next entry of an object, with its key as [`key!`] writes it.
        #[inline]
        fn key(&mut self, out: &mut Vec<u8>, quoted: &str) -> Result<()> {
            self.separate(out);
            out.extend_from_slice(quoted.as_bytes());
            Ok(())
        }

        /// The comma (but before the first) and the line break and indentation that come
        /// before an element or an entry.
        #[inline]
        fn separate(&mut self, out: &mut Vec<u8>) {
            let comma = usize::from(self.empty);
            match COMMA_NEWLINE.get(comma..2 + 2 * (self.level + 1)) {
                Some(s) => out.extend_from_slice(s),
                None => {
                    if !self.empty {
                        out.push(b',');
                    }
                    newline(out, self.level + 1);
                }
            }
            self.empty = false;
        }

        /// An entry (its key as [`key!`] writes it) whose value is a string, when there is
        /// one.
        fn string_if(
            &mut self,
            out: &mut Vec<u8>,
            quoted: &str,
            value: Option<&str>,
        ) -> Result<()> {
            match value {
                Some(v) => {
                    self.key(out, quoted)?;
                    string(out, v)
                }
                None => Ok(()),
            }
        }

        pub(in crate::report) fn close(self, out: &mut Vec<u8>) {
            if !self.empty {
                newline(out, self.level);
            }
            out.push(self.close);
        }
    }

    fn location(out: &mut Vec<u8>, l: &Location, level: usize) -> Result<()> {
        location_with(out, l, level, |out| string(out, &l.file))
    }

    /// A location, its file's name written by `file`.
    fn location_with(
        out: &mut Vec<u8>,
        l: &Location,
        level: usize,
        file: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut o = Open::object(out, level);
        o.key(out, key!("file"))?;
        file(out)?;
        for (k, n) in [
            (key!("line"), l.line),
            (key!("column"), l.column),
            (key!("end_line"), l.end_line),
            (key!("end_column"), l.end_column),
        ] {
            o.key(out, k)?;
            uint(out, n as u64);
        }
        o.close(out);
        Ok(())
    }

    fn opt_location(out: &mut Vec<u8>, l: Option<&Location>, level: usize) -> Result<()> {
        match l {
            Some(l) => location(out, l, level),
            None => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    fn resource(out: &mut Vec<u8>, r: &Resource, level: usize) -> Result<()> {
        let mut o = Open::object(out, level);
        o.key(out, key!("api_version"))?;
        string(out, &r.api_version)?;
        o.key(out, key!("kind"))?;
        string(out, &r.kind)?;
        o.key(out, key!("namespace"))?;
        opt_string(out, r.namespace.as_deref())?;
        o.key(out, key!("name"))?;
        string(out, &r.name)?;
        o.key(out, key!("helm_source"))?;
        opt_string(out, r.helm_source.as_deref())?;
        o.close(out);
        Ok(())
    }

    fn evidence(out: &mut Vec<u8>, e: &Evidence, level: usize) -> Result<()> {
        let mut o = Open::object(out, level);
        o.key(out, key!("kind"))?;
        string(out, &e.kind)?;
        o.key(out, key!("namespace"))?;
        opt_string(out, e.namespace.as_deref())?;
        o.key(out, key!("name"))?;
        string(out, &e.name)?;
        o.key(out, key!("location"))?;
        opt_location(out, e.location.as_ref(), level + 1)?;
        o.string_if(out, key!("step"), e.step.as_deref())?;
        o.close(out);
        Ok(())
    }

    fn value_source(out: &mut Vec<u8>, v: &ValueSource, level: usize) -> Result<()> {
        let mut o = Open::object(out, level);
        o.key(out, key!("expr"))?;
        string(out, &v.expr)?;
        o.key(out, key!("location"))?;
        opt_location(out, v.location.as_ref(), level + 1)?;
        o.close(out);
        Ok(())
    }

    /// A finding's fix as [`super::autofix_json`] gives it to serde_json: its keys in
    /// alphabetical order (serde_json's maps are sorted), at every depth.
    /// An array at `level` of `items`, each written by `item` a level deeper.
    fn array<T>(
        out: &mut Vec<u8>,
        level: usize,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(&mut Vec<u8>, T, usize) -> Result<()>,
    ) -> Result<()> {
        let mut list = Open::array(out, level);
        for x in items {
            list.next(out, None)?;
            item(out, x, level + 1)?;
        }
        list.close(out);
        Ok(())
    }

    fn autofix(out: &mut Vec<u8>, a: &Autofix, level: usize) -> Result<()> {
        let inner = level + 1;
        let mut o = Open::object(out, level);
        o.key(out, key!("applicability"))?;
        string(out, a.applicability)?;
        if !a.changes.is_empty() {
            o.key(out, key!("changes"))?;
            array(out, inner, &a.changes, |out, c, level| {
                let mut change = Open::object(out, level);
                change.key(out, key!("deleted"))?;
                let l = &c.deleted;
                let mut d = Open::object(out, level + 1);
                for (k, n) in [
                    (key!("column"), l.column),
                    (key!("end_column"), l.end_column),
                    (key!("end_line"), l.end_line),
                ] {
                    d.key(out, k)?;
                    uint(out, n as u64);
                }
                d.key(out, key!("file"))?;
                string(out, &l.file)?;
                d.key(out, key!("line"))?;
                uint(out, l.line as u64);
                d.close(out);
                change.key(out, key!("inserted"))?;
                string(out, &c.inserted)?;
                change.close(out);
                Ok(())
            })?;
        }
        if !a.ops.is_empty() {
            o.key(out, key!("edits"))?;
            array(out, inner, &a.ops, edit)?;
        }
        o.string_if(
            out,
            key!("reason"),
            Some(&*a.reason).filter(|r| !r.is_empty()),
        )?;
        o.string_if(out, key!("unfixable"), a.unfixable.as_deref())?;
        o.close(out);
        Ok(())
    }

    /// One edit of a fix: `item` (a removal's guard), `op`, `path`, `value`, in that order.
    fn edit(out: &mut Vec<u8>, op: &FixOp, level: usize) -> Result<()> {
        let (name, path, value) = match &op.op {
            EditOp::Set { path, value } => ("set", path, Some(value)),
            EditOp::Remove { path } => ("remove", path, None),
            EditOp::Add { path, value } => ("add", path, Some(value)),
        };
        let mut o = Open::object(out, level);
        if let EditOp::Remove { .. } = &op.op {
            o.string_if(out, key!("item"), op.only_if.as_deref())?;
        }
        o.key(out, key!("op"))?;
        string(out, name)?;
        o.key(out, key!("path"))?;
        array(out, level + 1, path, |out, s, _| match s {
            PathStep::Key(k) => string(out, k),
            PathStep::Index(i) => {
                uint(out, *i as u64);
                Ok(())
            }
        })?;
        if let Some(v) = value {
            o.key(out, key!("value"))?;
            fix_value(out, v, level + 1)?;
        }
        o.close(out);
        Ok(())
    }

    /// A value a fix writes, as `serde_json::Value` prints it (a float that is not finite
    /// is `null`).
    fn fix_value(out: &mut Vec<u8>, v: &FixValue, level: usize) -> Result<()> {
        match v {
            FixValue::Null => out.extend_from_slice(b"null"),
            FixValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            FixValue::Int(i) => int(out, *i),
            FixValue::Float(f) => serde_json::to_writer(&mut *out, &serde_json::Value::from(*f))
                .map_err(std::io::Error::other)?,
            FixValue::Str(s) => string(out, s)?,
            FixValue::List(items) => array(out, level, items, fix_value)?,
        }
        Ok(())
    }

    /// The start of a finding at `level` that its rule and severity decide: the object
    /// opened, `rule`, `severity` and `owasp` written; the object, to go on with.
    fn rule_head(out: &mut Vec<u8>, f: &Finding, level: usize) -> Result<Open> {
        let inner = level + 1;
        let mut o = Open::object(out, level);
        o.key(out, key!("rule"))?;
        let mut r = Open::object(out, inner);
        for (k, v) in [
            (key!("id"), &f.rule.id),
            (key!("name"), &f.rule.name),
            (key!("title"), &f.rule.title),
        ] {
            r.key(out, k)?;
            string(out, v)?;
        }
        r.close(out);
        o.key(out, key!("severity"))?;
        string(out, f.severity.as_str())?;
        o.key(out, key!("owasp"))?;
        array(out, inner, f.rule.owasp.iter(), |out, c, _| string(out, c))?;
        Ok(o)
    }

    /// What a finding's rule and severity decide, written for the findings of that rule
    /// and severity to copy: what [`rule_head`] writes, and the rule's `fix` text as
    /// [`string`] writes it.
    pub(super) struct Head {
        start: Vec<u8>,
        fix: Vec<u8>,
    }

    impl Head {
        /// The head of `f`'s rule and severity, for findings at `level`.
        pub(super) fn of(f: &Finding, level: usize) -> Result<Head> {
            let mut start = Vec::new();
            rule_head(&mut start, f, level)?;
            let mut fix = Vec::new();
            string(&mut fix, &f.rule.fix)?;
            Ok(Head { start, fix })
        }
    }

    /// What the findings of one chunk of a report share, written at its first finding and
    /// copied at the next: the resource and the file's name of the finding before (the
    /// findings of one object follow one another), and the fixes several findings share (a
    /// cluster export's "cannot be fixed in place"); each by its address, with where its
    /// bytes are in the chunk's buffer.
    #[derive(Default)]
    pub(super) struct Repeats {
        resource: Vec<(usize, std::ops::Range<usize>)>,
        file: Vec<(usize, std::ops::Range<usize>)>,
        fixes: Vec<(usize, std::ops::Range<usize>)>,
    }

    /// Shared fixes a chunk keeps (a few reasons for each rule of the chunk's findings).
    const FIXES_KEPT: usize = 32;

    /// Copies the bytes `seen` keeps for `addr` from earlier in `out`, or writes them with
    /// `write` and keeps where they are (`seen` starts over when it has `kept` of them).
    fn copied_or_written(
        out: &mut Vec<u8>,
        seen: &mut Vec<(usize, std::ops::Range<usize>)>,
        kept: usize,
        addr: usize,
        write: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        if let Some((_, r)) = seen.iter().find(|(a, _)| *a == addr) {
            out.extend_from_within(r.clone());
            return Ok(());
        }
        let start = out.len();
        write(out)?;
        if seen.len() >= kept {
            seen.clear();
        }
        seen.push((addr, start..out.len()));
        Ok(())
    }

    /// One finding, as an object at `level`; what its rule decides copied from `head` when
    /// given (a [`Head`] of its rule and severity at `level`), and what it shares with the
    /// findings before it in `out` copied as `repeats` says (a fresh [`Repeats`] for each
    /// buffer).
    pub(super) fn finding_from(
        out: &mut Vec<u8>,
        f: &Finding,
        level: usize,
        head: Option<&Head>,
        repeats: &mut Repeats,
    ) -> Result<()> {
        let inner = level + 1;
        let mut o = match head {
            Some(h) => {
                out.extend_from_slice(&h.start);
                Open {
                    level,
                    empty: false,
                    close: b'}',
                }
            }
            None => rule_head(out, f, level)?,
        };
        o.key(out, key!("resource"))?;
        let addr = std::sync::Arc::as_ptr(&f.resource) as usize;
        copied_or_written(out, &mut repeats.resource, 1, addr, |out| {
            resource(out, &f.resource, inner)
        })?;
        o.key(out, key!("location"))?;
        let file = &f.location.file;
        location_with(out, &f.location, inner, |out| {
            let addr = std::sync::Arc::as_ptr(file) as *const u8 as usize;
            copied_or_written(out, &mut repeats.file, 1, addr, |out| string(out, file))
        })?;
        o.key(out, key!("message"))?;
        message(out, &f.message)?;
        o.key(out, key!("fix"))?;
        match head {
            Some(h) => out.extend_from_slice(&h.fix),
            None => string(out, &f.rule.fix)?,
        }
        o.key(out, key!("evidence"))?;
        array(out, inner, &f.evidence, evidence)?;
        if let Some(r) = &f.rendered {
            o.key(out, key!("rendered"))?;
            location(out, r, inner)?;
        }
        if let Some(v) = &f.value_source {
            o.key(out, key!("value_source"))?;
            value_source(out, v, inner)?;
        }
        if let Some(a) = &f.autofix {
            o.key(out, key!("autofix"))?;
            if std::sync::Arc::strong_count(a) > 1 {
                let addr = std::sync::Arc::as_ptr(a) as usize;
                copied_or_written(out, &mut repeats.fixes, FIXES_KEPT, addr, |out| {
                    autofix(out, a, inner)
                })?;
            } else {
                autofix(out, a, inner)?;
            }
        }
        o.close(out);
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::eval::finding::{FindingData, Location};
    use crate::model::LoadStats;

    /// `n` findings of [`finding`], then every seventh of them again: repeats, whose
    /// fingerprints the reports tell apart by occurrence.
    pub(crate) fn with_repeats(n: usize, sources: &SourceMap) -> Vec<Finding> {
        let mut findings: Vec<Finding> = (0..n).map(|i| finding(i, sources)).collect();
        findings.extend(findings.iter().step_by(7).cloned().collect::<Vec<_>>());
        findings
    }

    pub(crate) fn finding(i: usize, sources: &SourceMap) -> Finding {
        Finding::from(FindingData {
            rule: std::sync::Arc::new(crate::eval::interp::RuleText {
                id: format!("K0{}-001", i % 3).into(),
                name: "name".into(),
                title: "a \"quoted\" title".into(),
                fix: "fix it".into(),
                owasp: vec!["K01:2022".to_string()].into(),
                message: std::sync::Arc::new(crate::eval::finding::Template::new(Vec::new())),
            }),
            severity: Severity::High,
            resource: std::sync::Arc::new(Resource {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: (i % 2 == 0).then(|| "ns".into()),
                name: format!("p{i}").into(),
                helm_source: None,
            }),
            location: Location::of(sources, Span::new(0, i % 7..i % 7 + 1)),
            message: crate::eval::finding::Message::plain(&format!("line one\nline two é {i}")),
            evidence: match i % 5 {
                0 => vec![Evidence {
                    kind: "ServiceAccount".into(),
                    namespace: None,
                    name: "sa".into(),
                    location: None,
                    step: None,
                }],
                1 => vec![
                    Evidence {
                        kind: "Role".into(),
                        namespace: Some("ns".into()),
                        name: "r\u{1b}[31m".into(),
                        location: Some(Location::of(sources, Span::new(0, 2..9))),
                        step: Some("binds \"r\"\tto\\ sa".into()),
                    },
                    Evidence {
                        kind: "Pod".into(),
                        namespace: None,
                        name: "p".into(),
                        location: None,
                        step: Some(String::new()),
                    },
                ],
                _ => Vec::new(),
            }
            .into(),
            rendered: (i % 4 == 0).then(|| Box::new(Location::of(sources, Span::new(0, 0..4)))),
            value_source: (i % 8 == 0).then(|| {
                Box::new(crate::eval::finding::ValueSource {
                    expr: ".Values.x".to_string(),
                    location: Some(Location::of(sources, Span::new(0, 0..4))),
                })
            }),
            autofix: (i % 3 == 0).then(|| Arc::new(autofix(i, sources))),
        })
    }

    /// A fix with edits of each kind, or (every other one) one that cannot be made.
    fn autofix(i: usize, sources: &SourceMap) -> crate::eval::fixes::Autofix {
        use crate::eval::fixes::{Autofix, FixOp, TextChange};
        use crate::fix::edit::{EditOp, FixValue, PathStep};
        let path = vec![PathStep::Key("spec".into()), PathStep::Index(0)];
        let op = |op| FixOp {
            op,
            only_if: None,
            action: 0,
        };
        Autofix {
            applicability: if i % 2 == 0 { "safe" } else { "unsafe" },
            reason: if i % 2 == 0 {
                "why \"so\"".into()
            } else {
                "".into()
            },
            target: None,
            doc: None,
            ops: if i % 2 == 0 {
                vec![
                    op(EditOp::Set {
                        path: path.clone(),
                        value: FixValue::List(vec![
                            FixValue::Float(0.5),
                            FixValue::Float(2.0),
                            FixValue::Float(f64::NAN),
                            FixValue::Null,
                            FixValue::List(Vec::new()),
                            FixValue::List(vec![FixValue::Bool(true), FixValue::Int(-3)]),
                        ]),
                    }),
                    op(EditOp::Remove { path: path.clone() }),
                    FixOp {
                        op: EditOp::Remove { path: Vec::new() },
                        only_if: Some("- \"é\"".into()),
                        action: 1,
                    },
                    op(EditOp::Set {
                        path: path.clone(),
                        value: FixValue::Bool(false),
                    }),
                    op(EditOp::Add {
                        path,
                        value: FixValue::Str("a\nb".into()),
                    }),
                ]
            } else {
                Vec::new()
            },
            unfixable: (i % 2 == 1).then(|| "no place".into()),
            changes: (0..i % 4)
                .map(|k| TextChange {
                    deleted: Location::of(sources, Span::new(0, k..k + 2)),
                    inserted: "x: {}\n".into(),
                })
                .collect(),
        }
    }

    /// The integer writer of the streamed report prints what `{n}` prints.
    #[test]
    fn integers_are_written_as_formatted() {
        let mut values: Vec<i64> = vec![0, 1, -1, 9, 10, -10, 99, 100, 4095, i64::MAX, i64::MIN];
        values.extend((0..60).map(|k| 1i64 << k));
        values.extend((0..60).map(|k| -(1i64 << k) + 1));
        for n in values {
            let mut out = Vec::new();
            pretty::int(&mut out, n);
            assert_eq!(String::from_utf8_lossy(&out), n.to_string());
        }
        let mut out = Vec::new();
        pretty::uint(&mut out, u64::MAX);
        assert_eq!(String::from_utf8_lossy(&out), u64::MAX.to_string());
    }

    /// The streamed report is byte for byte one pretty serialization of the whole report,
    /// with the keys and values of [`report`], for no findings, a few, more than one
    /// parallel chunk, and more than one window of chunks.
    #[test]
    fn streamed_report_equals_the_value_report() {
        let mut sources = SourceMap::new();
        sources.add("a.yaml", "kind: Pod\nmetadata:\n  name: p\n");
        for n in [
            0,
            3,
            1300,
            CHUNK * WINDOW_PER_THREAD * rayon::current_num_threads().max(2) * 2 + 700,
        ] {
            // the findings of a rule share its texts, as a scan's do, and some of them have
            // another severity (a configuration's override): each rule and severity has its
            // own start. Findings about one object share it, in runs of up to four (a run
            // may cross a chunk's end), and fixes that cannot be made are shared by many
            // findings, two of them across the whole report, as a scan's are: the report
            // copies what it wrote for them, and the copies must be what it would write
            let texts: Vec<Finding> = (0..3).map(|i| finding(i, &sources)).collect();
            let fixes: Vec<Arc<crate::eval::fixes::Autofix>> = (0..2)
                .map(|k| {
                    Arc::new(crate::eval::fixes::Autofix {
                        applicability: "unsafe",
                        reason: format!("reason \"{k}\"").into(),
                        target: None,
                        doc: None,
                        ops: Vec::new(),
                        unfixable: Some("a `List` export cannot be fixed in place".into()),
                        changes: Vec::new(),
                    })
                })
                .collect();
            let mut findings: Vec<Finding> = Vec::with_capacity(n);
            for i in 0..n {
                let mut f = finding(i, &sources);
                if let Some(t) = texts.get(i % 3) {
                    f.rule = Arc::clone(&t.rule);
                }
                if i % 5 == 2 {
                    f.severity = Severity::Low;
                }
                if let Some(before) = findings.last().filter(|_| i % 4 != 0) {
                    f.resource = Arc::clone(&before.resource);
                }
                if i % 3 == 1 {
                    f.autofix = fixes.get(i % 2).cloned();
                }
                findings.push(f);
            }
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
            // and the same keys and values as the value report (which has no fixes: it
            // serves the exempted findings, which are not fixed)
            let mut parsed: Value = serde_json::from_slice(&streamed).unwrap();
            for f in parsed["findings"].as_array_mut().unwrap() {
                f.as_object_mut().unwrap().remove("autofix");
            }
            assert_eq!(parsed, report(&findings, &summary, &[], &sources));
        }
    }
}
