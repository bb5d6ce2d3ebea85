//! Kustomize overlays: `kustomize build` (or `kubectl kustomize`) and mapping its output
//! back to the resource files.
//!
//! The output that is scanned is the overlay's own build. To learn which file each object
//! came from, the overlay is built a second time through a kustomization in a temporary
//! directory that lists the overlay as its one resource and asks for origin annotations
//! (`buildMetadata: [originAnnotations]`): the user's tree is never written to, and the
//! annotations never reach the scanned objects.

use super::locate::{self, Step};
use super::process::{self, Failure};
use super::{
    DocInfo, Mapped, Origin, Rendered, Settings, arg, find_command, kustomization_file, shown,
};
use crate::diag::Diagnostic;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The command that builds an overlay: `kustomize build`, else `kubectl kustomize`.
fn command(settings: &Settings) -> Option<(PathBuf, &'static str)> {
    if let Some(k) = &settings.kustomize {
        return find_command(k).map(|p| (p, "build"));
    }
    if let Some(k) = find_command(Path::new("kustomize")) {
        return Some((k, "build"));
    }
    let kubectl = settings
        .kubectl
        .clone()
        .unwrap_or_else(|| PathBuf::from("kubectl"));
    find_command(&kubectl).map(|p| (p, "kustomize"))
}

/// Builds an overlay.
pub fn render(settings: &Settings, dir: &Path) -> Result<Rendered, Box<Diagnostic>> {
    let name = shown(dir);
    let Some((tool, sub)) = command(settings) else {
        return Err(Box::new(Diagnostic::error(
            "E1010",
            format!("cannot build the kustomize overlay `{name}`: neither `kustomize` nor `kubectl` is installed"),
        )
        .with_help(format!(
            "install kustomize or kubectl, or give a path with `--kustomize PATH`; or build the overlay yourself: `kubectl kustomize {name} | kanon scan -`"
        ))));
    };
    let args = vec![sub.to_string(), arg(dir)];
    let out = match process::run(&tool, &args, settings.timeout()) {
        Ok(o) => o,
        Err(Failure::Spawn(e)) => {
            return Err(Box::new(Diagnostic::error(
                "E1011",
                format!(
                    "cannot run `{}` for the kustomize overlay `{name}`: {e}",
                    shown(&tool)
                ),
            )));
        }
        Err(Failure::Timeout) => {
            return Err(Box::new(
                Diagnostic::error(
                    "E1011",
                    format!(
                        "building the kustomize overlay `{name}` took longer than {} seconds",
                        settings.timeout().as_secs()
                    ),
                )
                .with_help("raise the bound with `--render-timeout SECONDS`"),
            ));
        }
    };
    if !out.success {
        return Err(Box::new(
            Diagnostic::error(
                "E1011",
                format!("kustomize cannot build the overlay `{name}`"),
            )
            .with_note(format!("kustomize said:\n{}", process::tail(&out.stderr)))
            .with_help(format!(
                "run `{} {}` to see the whole error",
                shown(&tool),
                args.join(" ")
            )),
        ));
    }
    let count = locate::documents(&out.stdout).len();
    let mut files = origins(settings, &tool, sub, dir).unwrap_or_default();
    if files.len() != count {
        // a kustomize without origin annotations: match by kind and name
        files = by_name(&out.stdout, dir);
    }
    Ok(Rendered {
        name: format!("<kustomize build {name}>"),
        text: out.stdout,
        origin: Origin::Kustomize {
            dir: dir.to_path_buf(),
            files,
            patches: patches(dir),
        },
    })
}

static TEMP: AtomicUsize = AtomicUsize::new(0);

/// The file each object of the overlay's build came from, by building it again with origin
/// annotations through a kustomization in a temporary directory.
fn origins(
    settings: &Settings,
    tool: &Path,
    sub: &str,
    dir: &Path,
) -> Option<Vec<Option<PathBuf>>> {
    let n = TEMP.fetch_add(1, Ordering::Relaxed);
    let tmp = std::env::temp_dir().join(format!("kanon-kustomize-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&tmp).ok()?;
    let result = (|| {
        let tmp_c = std::fs::canonicalize(&tmp).ok()?;
        let dir_c = std::fs::canonicalize(dir).ok()?;
        let rel = relative(&dir_c, &tmp_c);
        let text = format!(
            "resources:\n  - {}\nbuildMetadata: [originAnnotations]\n",
            serde_json::to_string(&rel.display().to_string()).ok()?
        );
        std::fs::write(tmp.join("kustomization.yaml"), text).ok()?;
        let args = vec![sub.to_string(), tmp.display().to_string()];
        let out = process::run(tool, &args, settings.timeout()).ok()?;
        if !out.success {
            return None;
        }
        let files = locate::documents(&out.stdout)
            .into_iter()
            .map(|r| {
                let d = out.stdout.get(r)?;
                let mut lines = d
                    .lines()
                    .skip_while(|l| !l.contains("config.kubernetes.io/origin:"));
                lines.next()?;
                let path = lines.find_map(|l| l.trim().strip_prefix("path:"))?.trim();
                let abs = normalize(&tmp_c.join(path.trim_matches(['"', '\''])));
                // shown relative to the overlay as the user named it
                Some(normalize(&dir.join(relative(&abs, &dir_c))))
            })
            .collect();
        Some(files)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// The kind and `metadata.name` of each document of a YAML text.
fn names(text: &str) -> Vec<Option<(String, String)>> {
    locate::documents(text)
        .into_iter()
        .map(|r| {
            let v: serde_yaml::Value = serde_yaml::from_str(text.get(r)?).ok()?;
            let kind = v.get("kind")?.as_str()?.to_string();
            let name = v.get("metadata")?.get("name")?.as_str()?.to_string();
            Some((kind, name))
        })
        .collect()
}

/// The resource file of each built object, matched by kind and by name (the built name is
/// the resource's with the overlays' prefixes and suffixes around it; the longest match
/// wins), when kustomize cannot add origin annotations.
fn by_name(built: &str, dir: &Path) -> Vec<Option<PathBuf>> {
    let mut resources: Vec<(String, String, PathBuf)> = Vec::new();
    for f in references(dir) {
        if !f.is_file() || patches(dir).contains(&f) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (kind, name) in names(&text).into_iter().flatten() {
            resources.push((kind, name, normalize(&f)));
        }
    }
    names(built)
        .into_iter()
        .map(|kn| {
            let (kind, name) = kn?;
            resources
                .iter()
                .filter(|(k, n, _)| *k == kind && name.contains(n.as_str()))
                .max_by_key(|(_, n, _)| n.len())
                .map(|(_, _, f)| f.clone())
        })
        .collect()
}

/// `to` relative to the directory `from` (both absolute and normalized).
fn relative(to: &Path, from: &Path) -> PathBuf {
    let a: Vec<Component<'_>> = to.components().collect();
    let b: Vec<Component<'_>> = from.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in a.iter().skip(common) {
        out.push(c);
    }
    out
}

/// Removes `.` and folds `dir/..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

/// The local paths a kustomization names: resources, bases, components and patches.
fn named(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut refs = Vec::new();
    let mut patch_files = Vec::new();
    let Some(file) = kustomization_file(dir) else {
        return (refs, patch_files);
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        return (refs, patch_files);
    };
    let Ok(v) =
        serde_yaml::from_str::<serde_yaml::Value>(text.strip_prefix('\u{feff}').unwrap_or(&text))
    else {
        return (refs, patch_files);
    };
    let local = |s: &str| !s.contains("://") && !s.starts_with("github.com/") && !s.contains('\n');
    let strs = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|x| x.as_sequence())
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for key in ["resources", "bases", "components"] {
        refs.extend(strs(key).iter().filter(|s| local(s)).map(|s| dir.join(s)));
    }
    patch_files.extend(
        strs("patchesStrategicMerge")
            .iter()
            .filter(|s| local(s))
            .map(|s| dir.join(s)),
    );
    for key in ["patches", "patchesJson6902"] {
        if let Some(seq) = v.get(key).and_then(|x| x.as_sequence()) {
            for p in seq {
                if let Some(path) = p.get("path").and_then(|x| x.as_str()) {
                    patch_files.push(dir.join(path));
                }
            }
        }
    }
    let patch_files: Vec<PathBuf> = patch_files.into_iter().filter(|p| p.is_file()).collect();
    refs.extend(patch_files.iter().cloned());
    (refs, patch_files)
}

/// Every local file and directory an overlay builds from, through its bases in turn.
pub fn references(dir: &Path) -> Vec<PathBuf> {
    walk(dir).0
}

/// The patch files of an overlay and of its bases.
pub fn patches(dir: &Path) -> Vec<PathBuf> {
    walk(dir).1
}

fn walk(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut refs = Vec::new();
    let mut patch_files = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if !seen.insert(std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone())) {
            continue;
        }
        let (r, p) = named(&d);
        for x in &r {
            if x.is_dir() {
                stack.push(x.clone());
            }
        }
        refs.extend(r);
        patch_files.extend(p);
    }
    (refs, patch_files)
}

/// Maps a node of a built object to its line in the resource file it came from; a key the
/// resource does not have is looked for in the patches that name the object's kind; else
/// the object's line in its resource file.
pub fn map(file: &Path, patches: &[PathBuf], doc: DocInfo<'_>, path: &[Step]) -> Option<Mapped> {
    let text = std::fs::read_to_string(file).ok()?;
    let within = locate::document_of(&text, doc.kind, doc.name);
    if let Some(range) = locate::find(&text, within.clone(), path) {
        return Some(Mapped {
            file: file.to_path_buf(),
            text,
            range,
        });
    }
    for p in patches {
        let Ok(t) = std::fs::read_to_string(p) else {
            continue;
        };
        let w = locate::document_of(&t, doc.kind, doc.name);
        let is_kind = t.get(w.clone()).is_some_and(|d| {
            d.lines()
                .any(|l| l.trim_end() == format!("kind: {}", doc.kind))
        });
        if let (true, Some(range)) = (is_kind, locate::find(&t, w, path)) {
            return Some(Mapped {
                file: p.clone(),
                text: t,
                range,
            });
        }
    }
    let range = locate::object_line(&text, within).unwrap_or(0..0);
    Some(Mapped {
        file: file.to_path_buf(),
        text,
        range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_objects_are_matched_to_resources_by_kind_and_name() {
        let dir = std::env::temp_dir().join(format!("kanon-kust-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("base")).ok();
        std::fs::create_dir_all(dir.join("prod")).ok();
        let w = |p: &str, t: &str| std::fs::write(dir.join(p), t).ok();
        w("base/kustomization.yaml", "resources: [a.yaml, b.yaml]\n");
        w("base/a.yaml", "kind: Deployment\nmetadata:\n  name: api\n");
        w(
            "base/b.yaml",
            "kind: Service\nmetadata:\n  name: api\n---\nkind: Deployment\nmetadata:\n  name: api-worker\n",
        );
        w(
            "prod/kustomization.yaml",
            "namePrefix: prod-\nresources: [../base]\n",
        );
        let built = "kind: Service\nmetadata:\n  name: prod-api\n---\nkind: Deployment\nmetadata:\n  name: prod-api-worker\n---\nkind: Deployment\nmetadata:\n  name: prod-api\n---\nkind: ConfigMap\nmetadata:\n  name: x\n";
        let got = by_name(built, &dir.join("prod"));
        let base = normalize(&dir.join("prod/../base"));
        assert_eq!(
            got,
            vec![
                Some(base.join("b.yaml")),
                Some(base.join("b.yaml")),
                Some(base.join("a.yaml")),
                None
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn relative_paths_and_normalizing() {
        assert_eq!(
            relative(Path::new("/a/b/c/d.yaml"), Path::new("/a/x/y")),
            PathBuf::from("../../b/c/d.yaml")
        );
        assert_eq!(
            normalize(Path::new("k/overlays/prod/../../base/./d.yaml")),
            PathBuf::from("k/base/d.yaml")
        );
    }
}
