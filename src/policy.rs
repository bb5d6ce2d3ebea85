//! What a project decides about findings, applied by [`crate::engine::scan`]: which rules
//! run and at what severity (from the [`Config`]), which findings are exempted (annotations
//! on objects and configuration exemptions) and which are already in a baseline.
//!
//! Nothing is dropped silently: exempted and baselined findings are returned next to the
//! reported ones, and every exemption that does not apply (no reason, expired, forbidden)
//! is a warning.

use crate::check::ir::{Program, Rule};
use crate::config::{Config, Date, Item};
use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::eval::Finding;
use crate::eval::finding::Location;
use crate::graph::{Graph, ObjId, group_of};
use crate::model::NodeId;
use crate::report::baseline::Baseline;
use std::collections::HashMap;

/// The annotation listing the rules exempted on an object.
pub const EXEMPT_ANNOTATION: &str = "kanon.dev/exempt";
/// The annotation giving the reason of an annotation exemption.
pub const REASON_ANNOTATION: &str = "kanon.dev/exempt-reason";

/// The policy of one scan.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The effective configuration (defaults when there is no file).
    pub config: Config,
    /// Findings already accepted.
    pub baseline: Option<Baseline>,
    /// The date exemption expiry is checked against (`None`: the system clock).
    pub today: Option<Date>,
}

/// Where an exemption came from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "source")]
pub enum ExemptionSource {
    /// A `kanon.dev/exempt` annotation on the object.
    Annotation {
        /// Where the annotation is.
        location: Location,
    },
    /// An entry of `exemptions` in the configuration.
    Config {
        /// 0-based index of the entry.
        index: usize,
        /// Where the entry is.
        location: Option<Location>,
    },
}

/// A finding that an exemption removed from the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Exempted {
    /// The finding.
    pub finding: Finding,
    /// The exemption's reason.
    pub reason: String,
    /// The exemption.
    pub source: ExemptionSource,
}

/// The exemptions of the objects' annotations ([`Policy::annotations`]).
#[derive(Debug, Default)]
pub struct Annotations {
    by_object: HashMap<ObjId, AnnotationExemption>,
    /// Warnings about annotations that do not apply.
    diagnostics: Vec<Diagnostic>,
}

/// Findings after exemptions and the baseline.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings to report.
    pub findings: Vec<Finding>,
    /// Exempted findings.
    pub exempted: Vec<Exempted>,
    /// Findings in the baseline.
    pub baselined: Vec<Finding>,
    /// Warnings about exemptions.
    pub diagnostics: Vec<Diagnostic>,
}

/// Matches `*` (any run of characters) and `?` (one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Whether a selector names an OWASP category (`K01`, `K01:2025`).
fn is_category(s: &str) -> bool {
    let b = s.as_bytes();
    let head = b.len() >= 3
        && b.first() == Some(&b'K')
        && b.get(1..3)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    head && (b.len() == 3
        || (b.len() == 8
            && b.get(3) == Some(&b':')
            && b.get(4..8)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))))
}

/// Whether a selector (`select`/`ignore` entry) picks a rule.
pub fn selects(selector: &str, rule: &Rule) -> bool {
    if let Some(sev) = selector.strip_prefix("severity:") {
        return rule.severity.as_str() == sev;
    }
    if let Some(tag) = selector.strip_prefix("tag:") {
        return rule.tags.iter().any(|t| glob(tag, t));
    }
    if is_category(selector) {
        return rule.in_owasp_category(selector);
    }
    glob(selector, &rule.id) || glob(selector, &rule.name)
}

impl Policy {
    /// Registers the configuration file in the source map, so diagnostics can point into it.
    pub fn register(&self, sources: &mut SourceMap) -> Option<FileId> {
        self.config
            .path
            .as_ref()
            .map(|_| sources.add(self.config.name.clone(), self.config.text.clone()))
    }

    fn today(&self) -> Date {
        self.today.unwrap_or_else(Date::today)
    }

    /// Checks the rule ids the configuration names, then keeps the selected rules and applies
    /// severity overrides. Locates `unknown parameter` errors of configured parameters.
    pub fn apply_rules(
        &self,
        program: &mut Program,
        diagnostics: &mut Vec<Diagnostic>,
        file: Option<FileId>,
    ) {
        let cfg = &self.config;
        let span = |item: &Item| item.range.clone().zip(file).map(|(r, f)| Span::new(f, r));
        let ids: Vec<&str> = program.rules.iter().map(|r| r.id.as_str()).collect();
        let unknown = |item: &Item, what: &str| -> Diagnostic {
            let msg = if is_glob(&item.value) {
                format!("`{}` in `{what}` matches no rule", item.value)
            } else {
                format!("unknown rule `{}` in `{what}`", item.value)
            };
            let mut d = Diagnostic::error("E0605", msg).with_suggestion(&item.value, ids.clone());
            if let Some(s) = span(item) {
                d = d.at(s, "no such rule");
            }
            if file.is_none() {
                d = d.with_note("given on the command line");
            }
            d
        };
        for (what, list) in [
            ("select", cfg.select.as_deref().unwrap_or(&[])),
            ("ignore", &cfg.ignore[..]),
        ] {
            for item in list {
                let v = &item.value;
                if v.starts_with("severity:") || v.starts_with("tag:") || is_category(v) {
                    continue;
                }
                if !program.rules.iter().any(|r| selects(v, r)) {
                    diagnostics.push(unknown(item, what));
                }
            }
        }
        for (item, _) in &cfg.severity {
            if !program.rules.iter().any(|r| r.id == item.value) {
                diagnostics.push(unknown(item, "severity"));
            }
        }
        for e in &cfg.exemptions {
            for item in &e.rules {
                if !program.rules.iter().any(|r| glob(&item.value, &r.id)) {
                    diagnostics.push(unknown(item, "exemptions"));
                }
            }
        }
        // `unknown parameter` errors of parameters set in the configuration point at it
        for d in diagnostics.iter_mut() {
            if d.code != "E0113" || d.primary.is_some() {
                continue;
            }
            let name = d.message.split('`').nth(1).unwrap_or_default();
            if let Some(item) = cfg.params.iter().map(|(i, _)| i).find(|i| i.value == name) {
                if let Some(s) = span(item) {
                    d.primary = Some(crate::diag::Label {
                        span: s,
                        message: "set in the configuration".into(),
                    });
                }
            }
        }
        program.rules.retain(|r| {
            let selected = cfg
                .select
                .as_ref()
                .is_none_or(|s| s.iter().any(|i| selects(&i.value, r)));
            selected && !cfg.ignore.iter().any(|i| selects(&i.value, r))
        });
        for r in &mut program.rules {
            if let Some((_, s)) = cfg.severity.iter().find(|(i, _)| i.value == r.id) {
                r.severity = *s;
            }
        }
    }

    /// The exemptions the objects' `kanon.dev/exempt` annotations make, read from the
    /// documents (before a scan frees them), with warnings about those that do not apply.
    pub fn annotations(
        &self,
        graph: &Graph,
        sources: &SourceMap,
        rule_ids: &[String],
    ) -> Annotations {
        let mut diagnostics = Vec::new();
        let by_object = self.annotation_exemptions(graph, sources, rule_ids, &mut diagnostics);
        Annotations {
            by_object,
            diagnostics,
        }
    }

    /// Removes exempted and baselined findings, reporting exemptions that do not apply;
    /// `annotations` are [`Policy::annotations`] of the same graph.
    pub fn apply_findings(
        &self,
        findings: Vec<Finding>,
        annotations: Annotations,
        graph: &Graph,
        sources: &SourceMap,
        file: Option<FileId>,
    ) -> Applied {
        let mut out = Applied {
            diagnostics: annotations.diagnostics,
            ..Applied::default()
        };
        let annotations = annotations.by_object;
        let today = self.today();
        let cfg = &self.config;
        let loc = |r: &Option<std::ops::Range<usize>>| {
            r.clone()
                .zip(file)
                .map(|(r, f)| Location::of(sources, Span::new(f, r)))
        };
        let mut live = Vec::new();
        for (index, e) in cfg.exemptions.iter().enumerate() {
            match e.expires {
                Some(date) if date < today => {
                    let mut d = Diagnostic::warning(
                        "W0602",
                        format!("exemption expired on {date}; its findings are reported again"),
                    )
                    .with_help("fix the findings, or extend `expires` after a new review");
                    if let Some(s) = e.expires_range.clone().zip(file) {
                        d = d.at(Span::new(s.1, s.0), "expired");
                    }
                    out.diagnostics.push(d);
                }
                _ => live.push((index, e)),
            }
        }
        out.findings.reserve(findings.len());
        for f in findings {
            // most inputs have no exemption annotation: no lookup per finding then
            let on_object = (!annotations.is_empty())
                .then(|| find_object(graph, &f))
                .flatten()
                .and_then(|id| annotations.get(&id));
            if let Some(a) = on_object.filter(|a| a.rules.iter().any(|p| glob(p, &f.rule.id))) {
                out.exempted.push(Exempted {
                    finding: f,
                    reason: a.reason.clone(),
                    source: ExemptionSource::Annotation {
                        location: a.location.clone(),
                    },
                });
                continue;
            }
            let matching = live.iter().find(|(_, e)| {
                let opt = |p: &Option<String>, v: Option<&str>| {
                    p.as_deref().is_none_or(|p| v.is_some_and(|v| glob(p, v)))
                };
                e.rules.iter().any(|r| glob(&r.value, &f.rule.id))
                    && opt(&e.namespace, f.resource.namespace.as_deref())
                    && opt(&e.kind, Some(&f.resource.kind))
                    && opt(&e.name, Some(&f.resource.name))
            });
            match matching {
                Some((index, e)) => out.exempted.push(Exempted {
                    finding: f,
                    reason: e.reason.clone(),
                    source: ExemptionSource::Config {
                        index: *index,
                        location: loc(&e.range),
                    },
                }),
                None => out.findings.push(f),
            }
        }
        if let Some(b) = &self.baseline {
            let (new, old) = b.split(std::mem::take(&mut out.findings));
            out.findings = new;
            out.baselined = old;
        }
        out
    }

    /// Reads `kanon.dev/exempt` annotations of every object; warns about those that do not
    /// apply.
    fn annotation_exemptions(
        &self,
        graph: &Graph,
        sources: &SourceMap,
        rule_ids: &[String],
        diags: &mut Vec<Diagnostic>,
    ) -> HashMap<ObjId, AnnotationExemption> {
        use rayon::prelude::*;
        let mut out = HashMap::new();
        // the objects that carry the annotation, found in parallel (every object's metadata
        // is read, most of it no longer in the processor's caches), in input order
        let ids: Vec<ObjId> = graph.ids().collect();
        let annotated: Vec<(ObjId, NodeId, NodeId)> = ids
            .into_par_iter()
            .filter_map(|id| {
                let (doc, node) = graph.doc_node(id)?;
                let ann = doc.path(node, &["metadata", "annotations"])?;
                let exempt = doc.get(ann, EXEMPT_ANNOTATION)?;
                Some((id, ann, exempt))
            })
            .collect();
        for (id, ann, exempt) in annotated {
            let Some((doc, _)) = graph.doc_node(id) else {
                continue;
            };
            let Some(n) = doc.node(exempt) else { continue };
            let key_span = n.key_span.unwrap_or(n.span);
            let what = graph.object(id).map(|o| o.display()).unwrap_or_default();
            if !self.config.allow_annotation_exemptions {
                diags.push(
                    Diagnostic::warning(
                        "W0603",
                        format!("annotation exemption on `{what}` is ignored"),
                    )
                    .at(key_span, "not honoured")
                    .with_note("the configuration sets `allow-annotation-exemptions: false`")
                    .with_help("move the exemption to `exemptions` in the configuration, or remove the annotation"),
                );
                continue;
            }
            let reason = doc
                .str_at(ann, &[REASON_ANNOTATION])
                .map(str::trim)
                .unwrap_or_default();
            if reason.is_empty() {
                diags.push(
                    Diagnostic::warning(
                        "W0601",
                        format!("annotation exemption on `{what}` has no reason and does not apply"),
                    )
                    .at(key_span, "no `kanon.dev/exempt-reason` next to it")
                    .with_help("add the annotation `kanon.dev/exempt-reason` saying why the findings are accepted"),
                );
                continue;
            }
            let text = doc.str(exempt).unwrap_or_default();
            let rules: Vec<String> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            for r in &rules {
                if !rule_ids.iter().any(|id| glob(r, id)) {
                    diags.push(
                        Diagnostic::warning(
                            "W0604",
                            format!("`{r}` in `{EXEMPT_ANNOTATION}` on `{what}` matches no rule"),
                        )
                        .at(n.span, "exempted rules")
                        .with_suggestion(r, rule_ids.iter().map(String::as_str)),
                    );
                }
            }
            out.insert(
                id,
                AnnotationExemption {
                    rules,
                    reason: reason.to_string(),
                    location: Location::of(sources, key_span),
                },
            );
        }
        out
    }
}

#[derive(Debug)]
struct AnnotationExemption {
    rules: Vec<String>,
    reason: String,
    location: Location,
}

/// The object a finding is about.
fn find_object(graph: &Graph, f: &Finding) -> Option<ObjId> {
    let r = &f.resource;
    graph.find(
        group_of(&r.api_version),
        &r.kind,
        r.namespace.as_deref(),
        &r.name,
    )
}

/// Exempted findings as JSON: each finding (as in `findings`) with its `exemption`.
pub fn exempted_json(exempted: &[Exempted]) -> serde_json::Value {
    serde_json::Value::Array(
        exempted
            .iter()
            .map(|e| {
                let mut v = crate::report::json::finding(&e.finding);
                let mut ex = serde_json::to_value(&e.source).unwrap_or_default();
                if let Some(m) = ex.as_object_mut() {
                    m.insert("reason".into(), serde_json::Value::from(e.reason.clone()));
                }
                if let Some(m) = v.as_object_mut() {
                    m.insert("exemption".into(), ex);
                }
                v
            })
            .collect(),
    )
}

/// Exempted findings as text lines, for `--show-exempted`.
pub fn exempted_text(exempted: &[Exempted]) -> String {
    if exempted.is_empty() {
        return String::new();
    }
    let mut out = format!("exempted findings ({}):\n", exempted.len());
    for e in exempted {
        let f = &e.finding;
        let by = match &e.source {
            ExemptionSource::Annotation { location } => format!(
                "annotation `{EXEMPT_ANNOTATION}` at {}:{}",
                location.file, location.line
            ),
            ExemptionSource::Config { index, location } => match location {
                Some(l) => format!(
                    "configuration exemption #{} at {}:{}",
                    index + 1,
                    l.file,
                    l.line
                ),
                None => format!("configuration exemption #{}", index + 1),
            },
        };
        out.push_str(&format!(
            "  {} {} {} at {}:{}:{}: {}\n    reason: {}\n    exempted by {by}\n",
            f.rule.id,
            f.severity,
            crate::report::baseline::resource_text(f),
            f.location.file,
            f.location.line,
            f.location.column,
            f.message,
            e.reason,
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("K07-*", "K07-001"));
        assert!(glob("*", ""));
        assert!(glob("calico-*", "calico-node"));
        assert!(!glob("calico-*", "flannel"));
        assert!(glob("K0?-001", "K01-001"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("kube-system", "kube-system"));
    }

    #[test]
    fn categories() {
        assert!(is_category("K01"));
        assert!(is_category("K01:2025"));
        assert!(!is_category("K01-001"));
        assert!(!is_category("K1"));
    }
}
