//! Findings: what a rule reports, where, and why.

use crate::check::ir::Severity;
use crate::diag::{SourceMap, Span};
use serde::Serialize;
use std::sync::Arc;

/// A resolved source location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// File name as shown to users.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// 1-based end line.
    pub end_line: u32,
    /// 1-based end column.
    pub end_column: u32,
    /// The span, for rendering snippets.
    #[serde(skip)]
    pub span: Span,
}

impl Location {
    /// Resolves a span through the source map.
    pub fn of(sources: &SourceMap, span: Span) -> Location {
        let ((line, column), (end_line, end_column)) = sources.line_col_span(span);
        // a file is at most 4 GiB (`--max-file-size`), so lines and columns fit in 32 bits
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Location {
            file: sources.name_shared(span.file),
            line: narrow(line),
            column: narrow(column),
            end_line: narrow(end_line),
            end_column: narrow(end_column),
            span,
        }
    }
}

/// One object in a finding's evidence chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Evidence {
    /// Kind.
    pub kind: Arc<str>,
    /// Namespace, if namespaced.
    pub namespace: Option<Arc<str>>,
    /// Name (shared with the graph's object).
    pub name: Arc<str>,
    /// Where it is.
    pub location: Option<Location>,
    /// For a step of a path (a relation's `step` clause): what the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Resource {
    /// `apiVersion` (shared with the graph's object, as are the kind and namespace).
    pub api_version: Arc<str>,
    /// Kind.
    pub kind: Arc<str>,
    /// Namespace.
    pub namespace: Option<Arc<str>>,
    /// Name (shared with the graph's object unless it had to be escaped).
    pub name: Arc<str>,
    /// The Helm template it came from (`# Source:`), when known (shared with the document).
    pub helm_source: Option<Arc<str>>,
}

/// A finding: a pointer to its [`FindingData`], whose fields it gives access to.
/// Findings are gathered from every thread and then sorted; boxed, that moves a pointer
/// each time rather than the whole finding, and the gathered lists cost a pointer per
/// finding while they are joined.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Finding(Box<FindingData>);

impl From<FindingData> for Finding {
    fn from(data: FindingData) -> Finding {
        Finding(Box::new(data))
    }
}

impl std::ops::Deref for Finding {
    type Target = FindingData;
    fn deref(&self) -> &FindingData {
        &self.0
    }
}

impl std::ops::DerefMut for Finding {
    fn deref_mut(&mut self) -> &mut FindingData {
        &mut self.0
    }
}

/// What a finding says. Texts that belong to the rule or the file are shared by every
/// finding of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingData {
    /// The rule's id, name, title, OWASP categories and fix text, shared by its findings.
    #[serde(flatten)]
    pub rule: Arc<crate::eval::interp::RuleText>,
    /// Severity.
    pub severity: Severity,
    /// The object, shared by every finding about it.
    pub resource: Arc<Resource>,
    /// Where.
    pub location: Location,
    /// The message.
    pub message: Box<str>,
    /// Objects that made the finding (graph rules).
    pub evidence: Box<[Evidence]>,
    /// Where the finding is in the rendered output of a Helm chart or Kustomize overlay,
    /// when `location` was mapped back to the template or resource file that wrote it.
    /// Boxed, as are the other rare parts: most findings have none, and each finding pays
    /// only a pointer for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Box<Location>>,
    /// Where the value came from, when a Helm template wrote it from the chart's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_source: Option<Box<ValueSource>>,
    /// The rule's fix for this finding, when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autofix: Option<std::sync::Arc<super::fixes::Autofix>>,
}

/// The values entry a template took a value from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueSource {
    /// The template expression, such as `.Values.securityContext.privileged`.
    pub expr: String,
    /// The key in the values file that set it, when found.
    pub location: Option<Location>,
}

impl FindingData {
    /// Bytes of the heap the finding holds itself: its box, its message and its evidence
    /// (for measurements; the texts it shares with its rule and object are left out).
    pub fn heap_bytes(&self) -> usize {
        let evidence: usize = self
            .evidence
            .iter()
            .map(|e| e.step.as_ref().map_or(0, String::capacity))
            .sum();
        std::mem::size_of::<FindingData>()
            + self.message.len()
            + std::mem::size_of_val(&*self.evidence)
            + evidence
    }

    /// The sort key that makes output deterministic.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            &self.rule.id,
            &self.message,
        )
    }
}

/// Sorts findings deterministically: file, line, column, rule id, message.
pub fn sort(findings: &mut [Finding]) {
    use rayon::slice::ParallelSliceMut;
    // the order of `sort_key`, with shared texts (the file's name, the rule's id) told
    // equal by their pointer before their bytes; a stable sort, as the serial one was
    findings.par_sort_by(|a, b| {
        let shared = |x: &Arc<str>, y: &Arc<str>| {
            if Arc::ptr_eq(x, y) {
                std::cmp::Ordering::Equal
            } else {
                x.cmp(y)
            }
        };
        shared(&a.location.file, &b.location.file)
            .then(a.location.line.cmp(&b.location.line))
            .then(a.location.column.cmp(&b.location.column))
            .then_with(|| shared(&a.rule.id, &b.rule.id))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_fits_the_allocators_128_byte_class() {
        // 214,000 findings at 100k objects: 160 bytes each took a 160-byte block
        assert!(std::mem::size_of::<FindingData>() <= 128);
        assert_eq!(std::mem::size_of::<Location>(), 48);
    }
}
