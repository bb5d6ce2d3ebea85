//! `kanon test` checks every fix: on each fixture where a rule expects a finding, applying
//! the rule's fix must make that finding go away, leave the file loading to the same
//! objects apart from the fixed paths, give no other bundled rule a new finding, and
//! change nothing when applied a second time.

use super::{Failure, FailureKind};
use crate::check::ir::Program;
use crate::diag::SourceMap;
use crate::engine::run_program;
use crate::eval::Finding;
use crate::fix::apply::apply_fix_ops;
use crate::fix::edit::{EditOp, PathStep};
use crate::graph::{Graph, GraphOptions};
use crate::limits::Limits;
use crate::model::Loader;
use std::collections::BTreeMap;

/// Findings of `program` over `text` (loaded as `name`), or the load errors rendered.
fn run_text(program: &Program, name: &str, text: &str) -> Result<Vec<Finding>, String> {
    let mut sources = SourceMap::new();
    let load = Loader::new(Limits::default()).load_text(name, text.to_string(), &mut sources);
    if load.has_errors() {
        let errors: Vec<_> = load
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        return Err(crate::report::diagnostics::render_plain(&sources, &errors));
    }
    let graph = Graph::build(load, &GraphOptions::default());
    Ok(run_program(program, &graph, &sources).0)
}

fn per_rule(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.rule.id.to_string()).or_insert(0) += 1;
    }
    m
}

/// Checks the fix of each finding in `fixed` (findings of rules under test that a marker
/// expects, over fixture `name` with text `text`); `program` holds the rules under test,
/// `bundled` the whole bundled ruleset. Returns failures by rule id.
pub(super) fn check(
    name: &str,
    text: &str,
    fixed: &[&Finding],
    program: &Program,
    bundled: Option<&Program>,
) -> Vec<(String, Failure)> {
    let mut out = Vec::new();
    let before_bundled = bundled.and_then(|b| run_text(b, name, text).ok().map(|f| per_rule(&f)));
    for f in fixed {
        let Some(fix) = f.autofix.as_deref() else {
            continue;
        };
        let Some((_, doc)) = fix.target else {
            continue;
        };
        if fix.ops.is_empty() {
            continue;
        }
        let fail = |summary: String, found: Option<String>, diff: Option<String>| {
            let mut x = Failure::new(FailureKind::Fix, name, f.location.line as usize, summary);
            x.found = found;
            x.diagnostics = diff;
            (f.rule.id.to_string(), x)
        };
        let after = match apply_fix_ops(text, doc as usize, &fix.ops) {
            Ok(a) => a,
            Err(e) => {
                out.push(fail(
                    format!("the fix of `{}` cannot be applied", f.rule.id),
                    Some(e.to_string()),
                    None,
                ));
                continue;
            }
        };
        let diff = crate::fix::apply::unified_diff(&crate::fix::apply::FileChange {
            name: name.to_string(),
            writable: true,
            before: text.to_string(),
            after: after.clone(),
        });
        // the same objects, apart from the fixed paths
        let ops: Vec<EditOp> = fix.ops.iter().map(|o| o.op.clone()).collect();
        if let Err(why) = same_data(text, &after, doc as usize, &ops) {
            out.push(fail(
                format!(
                    "the fix of `{}` changes more than the fixed fields",
                    f.rule.id
                ),
                Some(why),
                Some(diff.clone()),
            ));
            continue;
        }
        match run_text(program, name, &after) {
            Err(e) => {
                out.push(fail(
                    format!("the file no longer loads after the fix of `{}`", f.rule.id),
                    None,
                    Some(format!("{diff}\n{e}")),
                ));
                continue;
            }
            Ok(again) => {
                let still = again.iter().any(|g| {
                    g.rule.id == f.rule.id && g.resource == f.resource && g.message == f.message
                });
                if still {
                    out.push(fail(
                        format!(
                            "the fix of `{}` does not make its finding go away",
                            f.rule.id
                        ),
                        Some(f.message.to_string()),
                        Some(diff.clone()),
                    ));
                    continue;
                }
            }
        }
        if let (Some(b), Some(before)) = (bundled, &before_bundled) {
            if let Ok(now) = run_text(b, name, &after) {
                let now = per_rule(&now);
                let gained: Vec<String> = now
                    .iter()
                    .filter(|(r, n)| {
                        **r != *f.rule.id && **n > before.get(*r).copied().unwrap_or(0)
                    })
                    .map(|(r, _)| format!("`{r}`"))
                    .collect();
                if !gained.is_empty() {
                    out.push(fail(
                        format!(
                            "the fix of `{}` gives {} a new finding",
                            f.rule.id,
                            gained.join(", ")
                        ),
                        None,
                        Some(diff.clone()),
                    ));
                    continue;
                }
            }
        }
        match apply_fix_ops(&after, doc as usize, &fix.ops) {
            Ok(twice) if twice == after => {}
            Ok(twice) => out.push(fail(
                format!(
                    "the fix of `{}` changes the file again when applied twice",
                    f.rule.id
                ),
                None,
                Some(crate::fix::apply::unified_diff(
                    &crate::fix::apply::FileChange {
                        name: name.to_string(),
                        writable: true,
                        before: after.clone(),
                        after: twice,
                    },
                )),
            )),
            Err(e) => out.push(fail(
                format!("the fix of `{}` fails when applied twice", f.rule.id),
                Some(e.to_string()),
                None,
            )),
        }
    }
    out
}

/// Whether `before` and `after` hold the same documents, as data, apart from the paths the
/// edits touch (a removed list item stands for its whole list) and mappings left empty.
fn same_data(before: &str, after: &str, doc: usize, ops: &[EditOp]) -> Result<(), String> {
    let docs = |t: &str| -> Result<Vec<serde_yaml::Value>, String> {
        use serde::Deserialize as _;
        // yaml_serde 0.10 hangs on a byte order mark before `---`
        serde_yaml::Deserializer::from_str(t.strip_prefix('\u{feff}').unwrap_or(t))
            .map(serde_yaml::Value::deserialize)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())
    };
    let mut a = docs(before)?;
    let mut b = docs(after)?;
    if a.len() != b.len() {
        return Err(format!("{} documents became {}", a.len(), b.len()));
    }
    for op in ops {
        let path = match op {
            EditOp::Set { path, .. } | EditOp::Remove { path } | EditOp::Add { path, .. } => path,
        };
        let cut: &[PathStep] = match path.split_last() {
            Some((PathStep::Index(_), parent)) => parent,
            _ => path,
        };
        for d in [a.get_mut(doc), b.get_mut(doc)].into_iter().flatten() {
            remove_path(d, cut);
        }
    }
    for d in a.iter_mut().chain(b.iter_mut()) {
        prune(d);
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x != y {
            return Err(format!(
                "document {} differs outside the fixed fields",
                i + 1
            ));
        }
    }
    Ok(())
}

fn remove_path(v: &mut serde_yaml::Value, path: &[PathStep]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for s in parents {
        let next = match (s, cur) {
            (PathStep::Key(k), serde_yaml::Value::Mapping(m)) => m.get_mut(k.as_str()),
            (PathStep::Index(i), serde_yaml::Value::Sequence(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match (last, cur) {
        (PathStep::Key(k), serde_yaml::Value::Mapping(m)) => {
            m.remove(k.as_str());
        }
        (PathStep::Index(i), serde_yaml::Value::Sequence(items)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

/// Drops empty mappings (and null values) below mappings, so that a parent a fix created
/// and one that was absent compare equal.
fn prune(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (_, x) in m.iter_mut() {
                prune(x);
            }
            m.retain(|_, x| {
                !matches!(x, serde_yaml::Value::Null)
                    && !matches!(x, serde_yaml::Value::Mapping(mm) if mm.is_empty())
            });
        }
        serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_outside_the_fixed_paths_is_compared() {
        let k = |s: &str| PathStep::Key(s.to_string());
        let op = EditOp::Set {
            path: vec![k("spec"), k("securityContext"), k("runAsNonRoot")],
            value: crate::fix::edit::FixValue::Bool(true),
        };
        let before = "kind: Pod\nspec:\n  x: 1\n";
        let ok = "kind: Pod\nspec:\n  x: 1\n  securityContext:\n    runAsNonRoot: true\n";
        assert_eq!(same_data(before, ok, 0, std::slice::from_ref(&op)), Ok(()));
        let bad = "kind: Pod\nspec:\n  x: 2\n  securityContext:\n    runAsNonRoot: true\n";
        assert!(same_data(before, bad, 0, std::slice::from_ref(&op)).is_err());
        let two = "kind: Pod\nspec:\n  x: 1\n---\nkind: Pod\n";
        assert!(same_data(before, two, 0, &[op]).is_err());
    }
}
