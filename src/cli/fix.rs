//! `kanon scan --fix`, `--diff` and `--fix-only`: the rules' fixes applied to the files,
//! pass after pass until nothing more changes, or shown as a diff.

use super::scan::ScanArgs;
use crate::engine::{ScanOptions, ScanResult, scan};
use crate::eval::Finding;
use crate::fix::apply::{self, Applicability, Applied, Outcome};
use std::collections::BTreeMap;
use std::path::Path;

/// Most passes of `--fix`: a fix refused for overlapping another is applied in the next.
const MAX_PASSES: usize = 10;

/// What the caller does next.
pub(super) enum Fixed {
    /// Report this (final) result as usual.
    Done(Box<ScanResult>),
    /// Exit with this code; everything was printed.
    Exit(u8),
}

pub(super) fn run(
    args: &ScanArgs,
    opts: &ScanOptions,
    first: ScanResult,
    color: super::Color,
) -> Fixed {
    let which = if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    if args.diff {
        return diff(opts, first, which, color);
    }
    let mut result = first;
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    let mut files: std::collections::BTreeSet<String> = Default::default();
    for _ in 0..MAX_PASSES {
        let applied = apply::apply(&result.findings, &result.sources, which);
        let mut wrote = false;
        for f in applied.files.iter().filter(|f| f.writable) {
            let path = Path::new(&f.name);
            match std::fs::read_to_string(path) {
                Ok(now) if now == f.before => {}
                _ => {
                    super::error_line(&format!(
                        "`{}` changed while kanon read it; it was left as it is",
                        f.name
                    ));
                    continue;
                }
            }
            if let Err(e) = crate::report::atomic::write(path, f.after.as_bytes()) {
                super::error_line(&format!("cannot write `{}`: {e}", f.name));
                continue;
            }
            wrote = true;
            files.insert(f.name.clone());
        }
        if !wrote {
            break;
        }
        for (rule, n) in applied.fixed_by_rule(&result.findings) {
            *fixed.entry(rule.to_string()).or_insert(0) += n;
        }
        result = match scan(opts) {
            Ok(r) => r,
            Err(e) => {
                super::error_line(&e);
                return Fixed::Exit(2);
            }
        };
    }
    let total: usize = fixed.values().sum();
    let fixed_by: BTreeMap<&str, usize> = fixed.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut lines = vec![format!(
        "fixed {} in {}{}",
        plural(total, "finding"),
        plural(files.len(), "file"),
        by_rule_suffix(&fixed_by)
    )];
    let mut remain: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &result.findings {
        *remain.entry(&*f.rule.id).or_insert(0) += 1;
    }
    lines.push(format!(
        "{} {}{}",
        plural(result.findings.len(), "finding"),
        if result.findings.len() == 1 {
            "remains"
        } else {
            "remain"
        },
        by_rule_suffix(&remain)
    ));
    let last = apply::apply(&result.findings, &result.sources, which);
    lines.extend(leftovers(&result.findings, &last, which, true));
    if args.fix_only {
        emit_diagnostics(&result, color);
    }
    for l in lines {
        super::err_line(&l);
    }
    if args.fix_only {
        return Fixed::Exit(if result.has_errors() { 2 } else { 0 });
    }
    Fixed::Done(Box::new(result))
}

/// `--diff`: the passes `--fix` would make, each scanning the edits of the passes before it
/// from memory (`ScanOptions::overlay`), shown as one diff per file from its text on disk
/// to its text after the last pass. Nothing is written. Inputs that cannot be rewritten
/// (standard input, rendered charts and overlays) show the change of the first pass.
fn diff(opts: &ScanOptions, first: ScanResult, which: Applicability, color: super::Color) -> Fixed {
    let mut before: BTreeMap<String, String> = BTreeMap::new();
    let mut after: BTreeMap<String, String> = BTreeMap::new();
    let mut unwritable: Vec<apply::FileChange> = Vec::new();
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    // the scan of the files as they are, once a later pass has scanned the edits
    let mut original: Option<ScanResult> = None;
    let mut current = first;
    for pass in 0..MAX_PASSES {
        let applied = apply::apply(&current.findings, &current.sources, which);
        let mut changed = false;
        for f in applied.files {
            if !f.writable {
                if pass == 0 {
                    unwritable.push(f);
                }
                continue;
            }
            before
                .entry(f.name.clone())
                .or_insert_with(|| f.before.clone());
            after.insert(f.name, f.after);
            changed = true;
        }
        for (finding, o) in current.findings.iter().zip(&applied.outcomes) {
            // later passes count only the files they rewrite in memory
            if *o == Outcome::Fixed && (pass == 0 || after.contains_key(&*finding.location.file)) {
                *fixed.entry(finding.rule.id.to_string()).or_insert(0) += 1;
            }
        }
        if !changed {
            break;
        }
        let next = ScanOptions {
            overlay: Some(std::sync::Arc::new(after.clone())),
            ..opts.clone()
        };
        let scanned = match scan(&next) {
            Ok(r) => r,
            Err(e) => {
                super::error_line(&e);
                return Fixed::Exit(2);
            }
        };
        let previous = std::mem::replace(&mut current, scanned);
        original.get_or_insert(previous);
    }
    let last = current;
    let first = original.as_ref().unwrap_or(&last);
    let mut files: Vec<apply::FileChange> = unwritable;
    for (name, text) in after {
        let old = before.remove(&name).unwrap_or_default();
        if old != text {
            files.push(apply::FileChange {
                name,
                writable: true,
                before: old,
                after: text,
            });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for f in &files {
        if !f.writable {
            out.push_str(&format!(
                "# `{}` is not a file kanon can rewrite; the change to its documents:\n",
                f.name
            ));
        }
        out.push_str(&apply::unified_diff(f));
    }
    {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
    }
    emit_diagnostics(first, color);
    let fixed_by: BTreeMap<&str, usize> = fixed.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut lines = vec![format!(
        "would fix {} in {}{}",
        plural(fixed.values().sum(), "finding"),
        plural(files.iter().filter(|f| f.writable).count(), "file"),
        by_rule_suffix(&fixed_by)
    )];
    let left = apply::apply(&last.findings, &last.sources, which);
    lines.extend(leftovers(&last.findings, &left, which, true));
    for l in lines {
        super::err_line(&l);
    }
    if first.has_errors() {
        return Fixed::Exit(2);
    }
    Fixed::Exit(u8::from(!files.is_empty()))
}

fn emit_diagnostics(result: &ScanResult, color: super::Color) {
    let mut err = color.stderr();
    let _ = crate::report::diagnostics::emit(&mut err, &result.sources, &result.diagnostics);
}

/// Lines about the findings whose fix was not applied, grouped by why; `after_passes`: the
/// outcomes are a dry run after the last pass, where a fix that would still apply was
/// left by the pass limit.
fn leftovers(
    findings: &[Finding],
    applied: &Applied,
    which: Applicability,
    after_passes: bool,
) -> Vec<String> {
    let mut unsafe_: BTreeMap<&str, usize> = BTreeMap::new();
    let mut not_fixable: BTreeMap<String, usize> = BTreeMap::new();
    let mut other: BTreeMap<&str, usize> = BTreeMap::new();
    for (f, o) in findings.iter().zip(&applied.outcomes) {
        match o {
            Outcome::UnsafeSkipped => *unsafe_.entry(&f.rule.id).or_insert(0) += 1,
            Outcome::NotFixable(why) => {
                *not_fixable
                    .entry(format!("{} ({why})", f.rule.id))
                    .or_insert(0) += 1;
            }
            Outcome::Failed(_) | Outcome::Overlaps(_) => *other.entry(&f.rule.id).or_insert(0) += 1,
            Outcome::Fixed if after_passes => *other.entry(&f.rule.id).or_insert(0) += 1,
            Outcome::Fixed => {}
            Outcome::NoFix => {}
        }
    }
    let mut lines = Vec::new();
    if !unsafe_.is_empty() && which == Applicability::Safe {
        lines.push(format!(
            "{} {} an unsafe fix{}; `--unsafe-fixes` applies them",
            plural(unsafe_.values().sum(), "finding"),
            if unsafe_.values().sum::<usize>() == 1 {
                "has"
            } else {
                "have"
            },
            by_rule_suffix(&unsafe_)
        ));
    }
    for (what, n) in &not_fixable {
        lines.push(format!("{} not fixable: {what}", plural(*n, "finding")));
    }
    if !other.is_empty() {
        lines.push(format!(
            "{} could not be fixed{}",
            plural(other.values().sum(), "finding"),
            by_rule_suffix(&other)
        ));
    }
    for (f, o) in findings.iter().zip(&applied.outcomes) {
        let why = match o {
            Outcome::Failed(why) => why.clone(),
            Outcome::Overlaps(other) if other == &*f.rule.id => {
                "it overlaps another fix of the same rule; a later `--fix` pass applies it"
                    .to_string()
            }
            Outcome::Overlaps(other) => {
                format!("it overlaps the fix of `{other}`; a later `--fix` pass applies it")
            }
            _ => continue,
        };
        lines.push(format!(
            "  {}:{}: {}: {why}",
            f.location.file, f.location.line, f.rule.id
        ));
    }
    lines
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `: K01-001 3, K01-003 1`, or nothing for no rules.
fn by_rule_suffix(m: &BTreeMap<&str, usize>) -> String {
    if m.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = m.iter().map(|(r, n)| format!("{r} {n}")).collect();
    format!(": {}", parts.join(", "))
}
