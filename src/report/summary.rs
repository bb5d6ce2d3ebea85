//! The totals of a scan, shared by every output format.

use crate::check::ir::Severity;
use crate::eval::Finding;
use crate::model::{LoadStats, SkipReason};
use serde::Serialize;

/// Totals of one scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Documents read.
    pub documents: usize,
    /// Documents evaluated (holding at least one object).
    pub documents_evaluated: usize,
    /// Documents skipped, by reason.
    pub documents_skipped: Vec<(String, usize)>,
    /// Objects evaluated.
    pub objects: usize,
    /// Rules run.
    pub rules: usize,
    /// Findings by severity, most severe first.
    pub findings: Vec<(Severity, usize)>,
    /// Input errors (malformed or unreadable documents and files).
    pub input_errors: usize,
    /// Rule errors (rules that did not compile or hit a limit).
    pub rule_errors: usize,
    /// Findings removed by exemptions (listed with `--show-exempted`).
    pub exempted: usize,
    /// Findings removed because they are in the baseline.
    pub baselined: usize,
    /// Rule fixture files left out of directory walks (`kanon test` reads them).
    pub fixtures_skipped: usize,
}

/// A reason's name in summaries.
pub fn reason_name(r: SkipReason) -> &'static str {
    match r {
        SkipReason::Empty => "empty",
        SkipReason::NotKubernetes => "not kubernetes",
        SkipReason::Malformed => "malformed",
        SkipReason::Unreadable => "unreadable",
        SkipReason::LimitExceeded => "over a limit",
    }
}

impl Summary {
    /// Builds the totals.
    pub fn new(
        stats: &LoadStats,
        rules: usize,
        findings: &[Finding],
        input_errors: usize,
        rule_errors: usize,
    ) -> Summary {
        let skipped: usize = stats.skipped.iter().map(|(_, n)| n).sum();
        // one pass over the findings (each read where it is kept), counted by severity
        let mut by_severity = [0usize; Severity::ALL.len()];
        for f in findings {
            if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
                by_severity[i] += 1;
            }
        }
        Summary {
            files: stats.files,
            documents: stats.documents,
            documents_evaluated: stats.documents.saturating_sub(skipped),
            documents_skipped: stats
                .skipped
                .iter()
                .map(|(r, n)| (reason_name(*r).to_string(), *n))
                .collect(),
            objects: stats.objects,
            rules,
            findings: Severity::ALL
                .iter()
                .zip(by_severity)
                .rev()
                .map(|(s, n)| (*s, n))
                .collect(),
            input_errors,
            rule_errors,
            exempted: 0,
            baselined: 0,
            fixtures_skipped: stats.fixtures,
        }
    }

    /// Findings in total.
    pub fn total_findings(&self) -> usize {
        self.findings.iter().map(|(_, n)| n).sum()
    }

    /// The summary as text lines.
    pub fn text(&self) -> String {
        let skipped: usize = self.documents_skipped.iter().map(|(_, n)| n).sum();
        let reasons: Vec<String> = self
            .documents_skipped
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        let skipped_text = if skipped == 0 {
            String::from("none skipped")
        } else {
            format!("{skipped} skipped ({})", reasons.join(", "))
        };
        let by_sev: Vec<String> = self
            .findings
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let findings = if by_sev.is_empty() {
            "no findings".to_string()
        } else {
            format!(
                "{} finding{}: {}",
                self.total_findings(),
                if self.total_findings() == 1 { "" } else { "s" },
                by_sev.join(", ")
            )
        };
        let mut out = format!(
            "scanned {} object{} in {} document{} from {} file{} ({} evaluated, {skipped_text}) with {} rule{}\n{findings}\n",
            self.objects,
            plural(self.objects),
            self.documents,
            plural(self.documents),
            self.files,
            plural(self.files),
            self.documents_evaluated,
            self.rules,
            plural(self.rules),
        );
        if self.fixtures_skipped > 0 {
            out.push_str(&format!(
                "left out {} rule fixture file{} (`kanon test` reads them)\n",
                self.fixtures_skipped,
                plural(self.fixtures_skipped)
            ));
        }
        if self.exempted + self.baselined > 0 {
            let mut parts = Vec::new();
            if self.exempted > 0 {
                parts.push(format!("{} exempted", self.exempted));
            }
            if self.baselined > 0 {
                parts.push(format!("{} in the baseline", self.baselined));
            }
            out.push_str(&format!("not reported: {}\n", parts.join(", ")));
        }
        if self.input_errors + self.rule_errors > 0 {
            out.push_str(&format!(
                "{} input error{} and {} rule error{} (see above)\n",
                self.input_errors,
                plural(self.input_errors),
                self.rule_errors,
                plural(self.rule_errors)
            ));
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
