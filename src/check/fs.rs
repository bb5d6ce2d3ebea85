//! Where rule files, imports and data tables come from: directories on disk or the
//! ruleset embedded in the binary. Imports never leave the roots they were given.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// A set of rule-related files addressed by normalized relative paths under named roots.
#[derive(Clone, Debug, Default)]
pub struct RuleFs {
    /// Embedded files: (root, relative path) → text.
    embedded: BTreeMap<(String, String), String>,
    /// Disk roots: the directory of every given path.
    disk_roots: Vec<PathBuf>,
    /// Texts that replace files on disk (an editor's unsaved buffers), by path.
    overlay: BTreeMap<PathBuf, String>,
}

/// A file found in a [`RuleFs`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleFile {
    /// The name shown to users.
    pub display: String,
    /// The root it belongs to (imports may not leave it).
    pub root: String,
    /// Path relative to the root, `/`-separated.
    pub rel: String,
    /// Whether the file is embedded in the binary (an embedded root and a directory on
    /// disk may have the same name: kanon's own `rulesets/`).
    pub embedded: bool,
}

impl RuleFs {
    /// An empty set.
    pub fn new() -> RuleFs {
        RuleFs::default()
    }

    /// Adds an embedded file under a root name.
    pub fn add_embedded(&mut self, root: &str, rel: &str, text: &str) {
        self.embedded
            .insert((root.to_string(), rel.to_string()), text.to_string());
    }

    /// The embedded file that the disk file `f` is a copy of (the same text, at a path
    /// that ends with `f`'s relative path), so that a checkout of the bundled ruleset
    /// given as rules is loaded once; `f` itself otherwise.
    pub fn original(&self, f: RuleFile) -> RuleFile {
        if f.embedded || self.embedded.is_empty() {
            return f;
        }
        let Ok(text) = self.read(&f) else {
            return f;
        };
        let suffix = format!("/{}", f.rel);
        let found = self
            .embedded
            .iter()
            .find(|((_, rel), t)| (*rel == f.rel || rel.ends_with(&suffix)) && **t == text);
        match found {
            Some(((root, rel), _)) => embedded_file(root, rel),
            None => f,
        }
    }

    /// Every `.kanon` file of the embedded root.
    pub fn embedded_rules(&self, root: &str) -> Vec<RuleFile> {
        self.embedded
            .keys()
            .filter(|(r, rel)| r == root && rel.ends_with(".kanon"))
            .map(|(r, rel)| embedded_file(r, rel))
            .collect()
    }

    /// Expands a path given on the command line into rule files (sorted, recursive).
    pub fn add_disk_path(&mut self, path: &Path) -> Result<Vec<RuleFile>, String> {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {}", path.display(), lower(&e)))?;
        let (root, files) = if meta.is_dir() {
            // a folder inside a ruleset (`K10/`) belongs to it too: its files are named from
            // the ruleset's root, so their imports and tables may reach the rest of it
            let root = ruleset_root(path).unwrap_or_else(|| path.to_path_buf());
            let mut files = Vec::new();
            walk(&root, path, &mut files, 0);
            files.sort();
            (root, files)
        } else {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            // a single file belongs to the ruleset whose root (marked by `ruleset.yaml`)
            // contains it, so its imports and tables may reach the rest of that ruleset
            let root = ruleset_root(&parent).unwrap_or_else(|| parent.clone());
            let rel = path
                .strip_prefix(&root)
                .ok()
                .filter(|_| root != parent)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|| {
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
            (root, vec![rel])
        };
        let root_str = root.to_string_lossy().into_owned();
        if !self.disk_roots.contains(&root) {
            self.disk_roots.push(root.clone());
        }
        Ok(files
            .into_iter()
            .map(|rel| RuleFile {
                display: display_join(&root_str, &rel),
                root: root_str.clone(),
                rel,
                embedded: false,
            })
            .collect())
    }

    /// Reads `path` as `text` instead of the file on disk (an editor's unsaved buffer).
    pub fn set_overlay(&mut self, path: PathBuf, text: String) {
        self.overlay.insert(path, text);
    }

    /// Reads a file.
    pub fn read(&self, f: &RuleFile) -> Result<String, String> {
        if !f.embedded && !self.overlay.is_empty() {
            if let Some(text) = self.overlay.get(&Path::new(&f.root).join(&f.rel)) {
                return Ok(text.clone());
            }
        }
        if f.embedded {
            return self
                .embedded
                .get(&(f.root.clone(), f.rel.clone()))
                .cloned()
                .ok_or_else(|| format!("cannot read `{}`: not in the bundled ruleset", f.display));
        }
        let p = Path::new(&f.root).join(&f.rel);
        // a symbolic link inside the ruleset must not lead outside it
        if let (Ok(real), Ok(root)) = (p.canonicalize(), Path::new(&f.root).canonicalize()) {
            if !real.starts_with(&root) {
                return Err(format!(
                    "`{}` leads outside the rule directory `{}`",
                    f.display, f.root
                ));
            }
        }
        std::fs::read_to_string(&p)
            .map_err(|e| format!("cannot read `{}`: {}", f.display, lower(&e)))
    }

    /// Resolves `target` relative to the directory of `from`, refusing to leave its root.
    pub fn resolve(&self, from: &RuleFile, target: &str) -> Option<RuleFile> {
        let dir = Path::new(&from.rel).parent().unwrap_or(Path::new(""));
        let mut parts: Vec<String> = Vec::new();
        for c in dir.join(target).components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        let rel = parts.join("/");
        Some(RuleFile {
            display: display_join(&from.root, &rel),
            root: from.root.clone(),
            rel,
            embedded: from.embedded,
        })
    }
}

/// The file that marks the root of a ruleset.
pub const RULESET_MARKER: &str = "ruleset.yaml";

/// The nearest directory at or above `dir` holding a [`RULESET_MARKER`].
fn ruleset_root(dir: &Path) -> Option<PathBuf> {
    let mut cur = Some(dir);
    for _ in 0..16 {
        let d = cur?;
        if d.join(RULESET_MARKER).is_file() {
            return Some(d.to_path_buf());
        }
        cur = d.parent().filter(|p| !p.as_os_str().is_empty());
    }
    None
}

fn embedded_file(root: &str, rel: &str) -> RuleFile {
    RuleFile {
        display: format!("{root}/{rel}"),
        root: root.to_string(),
        rel: rel.to_string(),
        embedded: true,
    }
}

fn display_join(root: &str, rel: &str) -> String {
    if root.is_empty() || root == "." {
        rel.to_string()
    } else {
        format!("{}/{rel}", root.trim_end_matches('/'))
    }
}

fn lower(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s).to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(root, &p, out, depth + 1);
        } else if p.extension().is_some_and(|x| x == "kanon") {
            if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}
