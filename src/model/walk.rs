//! Finding the input files under a directory the way users expect of a linter.
//!
//! A walk reads `.yaml`, `.yml` and `.json` files (and packaged Helm charts, `.tgz`), sorted by path, and leaves out:
//! - what `.gitignore`, `.ignore` and git's global excludes leave out (as ripgrep does, with
//!   the `ignore` crate; also outside a git repository), unless [`WalkOptions::no_ignore`];
//! - hidden files and directories (`.git/`, `.github/`, `.kanon.yaml`);
//! - paths matching an exclude glob ([`WalkOptions::exclude`], `.gitignore` syntax, matched
//!   against the path under the directory walked);
//! - rule fixtures: `X.test.yaml` and `X.tests/` beside a rule file `X.kanon` are for
//!   `kanon test` and hold insecure manifests on purpose; they are counted.
//!
//! A file named explicitly is never walked, so it is always read. Symbolic links are
//! followed, but no directory is read twice.

use crate::diag::Diagnostic;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How directories are walked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalkOptions {
    /// Paths to leave out: globs in `.gitignore` syntax (`target/`, `charts/**/values.yaml`,
    /// `*.generated.yaml`), matched against the path under each directory walked.
    pub exclude: Vec<String>,
    /// Also read what `.gitignore`, `.ignore` and git's global excludes leave out.
    pub no_ignore: bool,
}

/// Checks an exclude glob; the error says what is wrong with it.
pub fn check_glob(glob: &str) -> Result<(), String> {
    let mut b = ignore::overrides::OverrideBuilder::new(".");
    b.add(&format!("!{glob}")).map(|_| ()).map_err(|e| {
        // "error parsing glob '!x': unclosed character class; missing ']'": the reason
        let text = e.to_string();
        let reason = text.rsplit_once("': ").map_or(text.as_str(), |(_, r)| r);
        reason.to_lowercase().replace("']'", "`]`")
    })
}

/// The files found under one directory.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Input files, sorted.
    pub files: Vec<PathBuf>,
    /// Rule fixture files left out.
    pub fixtures: usize,
    /// Directories that could not be read.
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a path names an input file by its extension.
pub(crate) fn is_input_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        e.eq_ignore_ascii_case("yaml")
            || e.eq_ignore_ascii_case("yml")
            || e.eq_ignore_ascii_case("json")
            // a packaged Helm chart: rendered, or dropped without a renderer
            || e.eq_ignore_ascii_case("tgz")
    })
}

/// Every input file under `root`.
pub(crate) fn walk(root: &Path, opts: &WalkOptions) -> Found {
    let mut found = Found::default();
    let use_ignore_files = !opts.no_ignore;
    let mut b = ignore::WalkBuilder::new(root);
    b.hidden(true)
        .parents(use_ignore_files)
        .ignore(use_ignore_files)
        .git_ignore(use_ignore_files)
        .git_global(use_ignore_files)
        .git_exclude(use_ignore_files)
        .require_git(false)
        .follow_links(true);
    if !opts.exclude.is_empty() {
        let mut o = ignore::overrides::OverrideBuilder::new(root);
        for g in &opts.exclude {
            // checked when the option was read ([`check_glob`])
            let _ = o.add(&format!("!{g}"));
        }
        if let Ok(o) = o.build() {
            b.overrides(o);
        }
    }
    // a directory reached twice through symbolic links is read once
    let seen: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
    b.filter_entry(move |e| {
        if !e.file_type().is_some_and(|t| t.is_dir()) {
            return true;
        }
        let path = std::fs::canonicalize(e.path()).unwrap_or_else(|_| e.path().to_path_buf());
        seen.lock().map_or(true, |mut s| s.insert(path))
    });
    let mut fixture_dirs: HashMap<PathBuf, bool> = HashMap::new();
    for entry in b.build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                if let Some(d) = walk_error(&e) {
                    found.diagnostics.push(d);
                }
                continue;
            }
        };
        let path = entry.path();
        if !entry.file_type().is_some_and(|t| t.is_file()) || !is_input_file(path) {
            continue;
        }
        if is_fixture(root, path, &mut fixture_dirs) {
            found.fixtures += 1;
            continue;
        }
        found.files.push(path.to_path_buf());
    }
    found.files.sort();
    found
}

/// Whether `path` is a rule fixture: `X.test.yaml` (or `.yml`) beside `X.kanon`, or under
/// a folder `X.tests/` beside `X.kanon` (below `root`).
fn is_fixture(root: &Path, path: &Path, dirs: &mut HashMap<PathBuf, bool>) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name
        .strip_suffix(".test.yaml")
        .or_else(|| name.strip_suffix(".test.yml"));
    if stem.is_some_and(|s| path.with_file_name(format!("{s}.kanon")).is_file()) {
        return true;
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        let is = *dirs.entry(d.to_path_buf()).or_insert_with(|| {
            d.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".tests"))
                .is_some_and(|s| d.with_file_name(format!("{s}.kanon")).is_file())
        });
        if is {
            return true;
        }
        dir = d.parent();
    }
    false
}

/// The diagnostic of a walk error worth reporting (a directory that cannot be read); loops
/// of symbolic links and unreadable ignore files are passed over.
fn walk_error(e: &ignore::Error) -> Option<Diagnostic> {
    fn path_of(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    let io = e.io_error()?;
    let path = path_of(e).map_or_else(String::new, |p| p.display().to_string());
    Some(Diagnostic::error(
        "E1004",
        format!(
            "cannot read directory `{path}`: {}",
            super::load::io_message(io)
        ),
    ))
}
