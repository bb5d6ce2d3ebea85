//! `kanon rules`: list the rules (filtered by OWASP category and severity) and show one
//! rule's documentation.

use super::Color;
use crate::check::ir::{Rule, Severity};
use crate::diag::SourceMap;
use crate::engine::{ScanOptions, compile_rules};
use crate::report::diagnostics;
use clap::{Args, Subcommand, ValueEnum};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Output formats of `kanon rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// An aligned table: id, severity, OWASP categories, title.
    Table,
    /// JSON: id, name, title, severity, owasp, refs, tags, fix (and file).
    Json,
}

/// Severity filter values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Info and above (every rule).
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl SeverityArg {
    fn severity(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// Arguments of `kanon rules`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct RulesArgs {
    /// `show ID` prints one rule's documentation.
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
    /// Extra rule files or directories (repeatable).
    #[arg(long = "rules", value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with `--rules`.
    #[arg(long, global = true)]
    pub no_default_rules: bool,
    /// Only rules in this OWASP category: `K01` (the 2022 edition) or `K01:2025`.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Only rules at or above this severity.
    #[arg(long, value_enum)]
    pub severity: Option<SeverityArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

/// Subcommands of `kanon rules`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print a rule's documentation: title, severity, OWASP, references, docs, fix, file.
    Show {
        /// Rule id or name.
        id: String,
    },
}

/// Whether a rule's OWASP categories match a `--category` filter: see
/// [`Rule::in_owasp_category`].
pub fn in_category(rule: &Rule, filter: &str) -> bool {
    rule.in_owasp_category(filter)
}

fn valid_category(s: &str) -> bool {
    let b = s.as_bytes();
    let code = b.len() >= 3
        && matches!(b.first(), Some(b'K' | b'k'))
        && b.get(1..3)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    match b.get(3) {
        None => code && b.len() == 3,
        Some(b':') => {
            code && b.len() == 8
                && b.get(4..8)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        }
        Some(_) => false,
    }
}

/// The table of rules.
pub fn table(rules: &[&Rule]) -> String {
    let rows: Vec<[String; 4]> = rules
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.severity.to_string(),
                r.owasp.join(" "),
                r.title.clone(),
            ]
        })
        .collect();
    let header = [
        "ID".to_string(),
        "SEVERITY".to_string(),
        "OWASP".to_string(),
        "TITLE".to_string(),
    ];
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let [a, b, c, d] = row;
        let [wa, wb, wc] = widths;
        let _ = writeln!(out, "{a:<wa$}  {b:<wb$}  {c:<wc$}  {d}");
    }
    out
}

fn to_json(r: &Rule, sources: &SourceMap) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "name": r.name,
        "title": r.title,
        "severity": r.severity,
        "owasp": r.owasp,
        "refs": r.refs,
        "tags": r.tags,
        "fix": r.fix,
        "file": sources.name(r.file),
    })
}

/// A rule's documentation as terminal text.
pub fn show(r: &Rule, sources: &SourceMap) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", r.id, r.name);
    let _ = writeln!(out, "{}", r.title);
    let _ = writeln!(out);
    let _ = writeln!(out, "severity: {}", r.severity);
    let _ = writeln!(out, "owasp:    {}", r.owasp.join(", "));
    if !r.refs.is_empty() {
        let _ = writeln!(out, "refs:     {}", r.refs.join(", "));
    }
    if !r.tags.is_empty() {
        let _ = writeln!(out, "tags:     {}", r.tags.join(", "));
    }
    let (line, _) = sources.line_col(r.span);
    let _ = writeln!(out, "file:     {}:{line}", sources.name(r.file));
    let docs = r.docs.trim();
    if !docs.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{docs}");
    }
    if !r.fix.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "fix: {}", r.fix);
    }
    out
}

pub(super) fn run(args: &RulesArgs, color: Color) -> u8 {
    if args.no_default_rules && args.rules.is_empty() {
        super::error_line("`--no-default-rules` needs at least one `--rules PATH`");
        return 2;
    }
    if let Some(c) = &args.category {
        if !valid_category(c) {
            super::error_line(&format!(
                "`--category {c}` is not an OWASP category such as `K01` or `K01:2025`"
            ));
            return 2;
        }
    }
    let opts = ScanOptions {
        rules: args.rules.clone(),
        bundled: !args.no_default_rules,
        ..ScanOptions::default()
    };
    let mut sources = SourceMap::new();
    let compiled = match compile_rules(&opts, &mut sources) {
        Ok(c) => c,
        Err(e) => {
            super::error_line(&e);
            return 2;
        }
    };
    let mut err = color.stderr();
    let _ = diagnostics::emit(&mut err, &sources, &compiled.diagnostics);
    let failed = compiled.has_errors();
    let mut rules: Vec<&Rule> = compiled.program.rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let text = match &args.command {
        Some(RulesCommand::Show { id }) => {
            let found = rules
                .iter()
                .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == *id);
            match found {
                Some(r) => show(r, &sources),
                None => {
                    let names = rules.iter().map(|r| r.id.as_str());
                    let hint = crate::diag::suggest(id, names)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    super::error_line(&format!("no rule `{id}`{hint}"));
                    return 2;
                }
            }
        }
        None => {
            let min = args.severity.map(SeverityArg::severity);
            rules.retain(|r| {
                min.is_none_or(|m| r.severity >= m)
                    && args.category.as_deref().is_none_or(|c| in_category(r, c))
            });
            match args.format {
                RulesFormat::Table => table(&rules),
                RulesFormat::Json => {
                    let v: Vec<serde_json::Value> =
                        rules.iter().map(|r| to_json(r, &sources)).collect();
                    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
                    s.push('\n');
                    s
                }
            }
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if failed { 2 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert!(valid_category("K01"));
        assert!(valid_category("k10:2025"));
        assert!(!valid_category("K1"));
        assert!(!valid_category("K01:25"));
        assert!(!valid_category("A01"));
    }
}
