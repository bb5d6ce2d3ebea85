//! `fix::edit` on the real-world manifests of `../shared/corpus/real` (when present): the
//! usual hardening edits of every workload (set `allowPrivilegeEscalation`, add `ALL` to the
//! dropped capabilities, set `automountServiceAccountToken`, remove `hostNetwork`) are made
//! or refused for a stated reason (an anchor or alias), never refused as unverifiable; every
//! comment stays, every other document stays byte for byte, and a second application
//! changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::diag::SourceMap;
use kanon::fix::edit::{EditError, EditOp, FixValue, PathStep, apply_ops};
use kanon::model::Loader;
use std::path::PathBuf;

fn files(dir: &PathBuf, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

fn key(k: &str) -> PathStep {
    PathStep::Key(k.to_string())
}

/// The path of the pod spec of a workload kind.
fn pod_spec(kind: &str) -> Option<Vec<PathStep>> {
    Some(match kind {
        "Pod" => vec![key("spec")],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            vec![key("spec"), key("template"), key("spec")]
        }
        "CronJob" => vec![
            key("spec"),
            key("jobTemplate"),
            key("spec"),
            key("template"),
            key("spec"),
        ],
        _ => return None,
    })
}

#[test]
fn hardening_edits_on_the_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
    if !root.is_dir() {
        println!("skipping: ../shared/corpus/real absent");
        return;
    }
    let mut all = Vec::new();
    files(&root, &mut all);
    let (mut edited, mut refused, mut unchanged) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.len() > 300_000 {
            continue;
        }
        let mut sources = SourceMap::default();
        let out = Loader::default().load_text("x.yaml", text.clone(), &mut sources);
        let mut workloads = Vec::new();
        for obj in &out.objects {
            let doc = &out.docs[obj.doc as usize];
            if doc.root != obj.node {
                continue; // a List item: not edited in place
            }
            let Some(spec) = doc.str_at(obj.node, &["kind"]).and_then(pod_spec) else {
                continue;
            };
            workloads.push((doc.index as usize, spec));
        }
        for (doc, spec) in workloads.into_iter().take(8) {
            let c0 = |rest: &[&str]| {
                let mut p = spec.clone();
                p.extend([key("containers"), PathStep::Index(0)]);
                p.extend(rest.iter().map(|k| key(k)));
                p
            };
            let mut host = spec.clone();
            host.push(key("hostNetwork"));
            let mut automount = spec.clone();
            automount.push(key("automountServiceAccountToken"));
            let ops = [
                EditOp::Set {
                    path: c0(&["securityContext", "allowPrivilegeEscalation"]),
                    value: FixValue::Bool(false),
                },
                EditOp::Add {
                    path: c0(&["securityContext", "capabilities", "drop"]),
                    value: FixValue::Str("ALL".into()),
                },
                EditOp::Set {
                    path: automount,
                    value: FixValue::Bool(false),
                },
                EditOp::Remove { path: host },
            ];
            let name = path.display();
            match apply_ops(&text, doc, &ops) {
                Ok(new) if new == text => unchanged += 1,
                Ok(new) => {
                    edited += 1;
                    for line in text.lines().filter(|l| l.trim_start().starts_with('#')) {
                        if !new.contains(line) {
                            failures.push(format!("{name} doc {doc}: lost comment {line:?}"));
                        }
                    }
                    if apply_ops(&new, doc, &ops).as_deref() != Ok(new.as_str()) {
                        failures.push(format!("{name} doc {doc}: a second application changed it"));
                    }
                    let again = Loader::default().load_text("x.yaml", new.clone(), &mut sources);
                    if again.docs.len() != out.docs.len() {
                        failures.push(format!("{name} doc {doc}: documents changed"));
                    }
                    for (a, b) in out.docs.iter().zip(&again.docs) {
                        if a.index as usize != doc {
                            let (sa, sb) = (a.span(a.root).unwrap(), b.span(b.root).unwrap());
                            if text[sa.range()] != new[sb.range()] {
                                failures.push(format!(
                                    "{name} doc {doc}: document {} changed",
                                    a.index
                                ));
                            }
                        }
                    }
                }
                Err(
                    EditError::Anchored { .. }
                    | EditError::Alias { .. }
                    | EditError::Merged { .. }
                    | EditError::DuplicateKey { .. },
                ) => refused += 1,
                Err(e) => failures.push(format!("{name} doc {doc}: {e}")),
            }
        }
    }
    println!("edited {edited}, unchanged {unchanged}, refused {refused}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(edited >= 100, "only {edited} workloads edited");
}
