//! Compiling the ruleset an open document belongs to, with unsaved buffers over the
//! files on disk, and turning kanon's diagnostics into LSP ones.

use crate::check::fs::{RULESET_MARKER, RuleFile, RuleFs};
use crate::check::{Compiled, Overrides, compile_with_types};
use crate::diag::{FileId, Level, SourceMap, Span};
use crate::syntax::ast;
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// Open documents by path.
pub type Docs = BTreeMap<PathBuf, Arc<String>>;

/// One rule file of an analysis.
#[derive(Debug)]
pub struct FileInfo {
    /// Its id in [`Analysis::sources`].
    pub id: FileId,
    /// Where it is.
    pub path: PathBuf,
    /// Its text (the open buffer when open).
    pub text: Arc<String>,
    /// Its syntax tree (the items that parse).
    pub ast: ast::File,
}

/// A compiled ruleset.
#[derive(Debug)]
pub struct Analysis {
    /// The ruleset's root directory.
    pub root: PathBuf,
    /// Every file read.
    pub sources: SourceMap,
    /// What the checker made of it, with the type of every expression.
    pub compiled: Compiled,
    /// The rule files, in load order.
    pub files: Vec<FileInfo>,
}

impl Analysis {
    /// The file at `path`.
    pub fn file(&self, path: &Path) -> Option<&FileInfo> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The file with id `id`.
    pub fn file_by_id(&self, id: FileId) -> Option<&FileInfo> {
        self.files.iter().find(|f| f.id == id)
    }

    /// The LSP location of a span.
    pub fn location(&self, span: Span) -> Option<Location> {
        let f = self.file_by_id(span.file)?;
        Some(Location {
            uri: uri(&f.path)?,
            range: super::text::range(&f.text, span.range()),
        })
    }
}

/// The URI of a path, as `lsp-types` wants it.
pub fn uri(path: &Path) -> Option<Uri> {
    Uri::from_str(&super::text::path_to_uri(path)).ok()
}

/// The root of the ruleset a rule file belongs to: the nearest directory at or above it
/// with a `ruleset.yaml` (inside a workspace folder), else its own directory. Compiling
/// that root is what `kanon check ROOT` does.
pub fn root_of(path: &Path, workspace: &[PathBuf]) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let stop = workspace.iter().find(|w| dir.starts_with(w));
    let mut cur = Some(dir.as_path());
    while let Some(d) = cur {
        if d.join(RULESET_MARKER).is_file() {
            return d.to_path_buf();
        }
        if stop.is_some_and(|w| d == w.as_path()) {
            break;
        }
        cur = d.parent();
    }
    dir
}

/// Compiles the ruleset under `root`; open documents replace the files on disk, and
/// open documents under the root that are not saved yet are compiled too.
pub fn analyze(root: &Path, docs: &Docs) -> Analysis {
    let mut fs = RuleFs::new();
    for (p, t) in docs {
        fs.set_overlay(p.clone(), (**t).clone());
    }
    let mut entry = fs.add_disk_path(root).unwrap_or_default();
    let root_str = root.to_string_lossy().into_owned();
    for p in docs.keys() {
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if p.extension().is_some_and(|x| x == "kanon") && !entry.iter().any(|f| f.rel == rel) {
            entry.push(RuleFile {
                display: p.to_string_lossy().into_owned(),
                root: root_str.clone(),
                rel,
                embedded: false,
            });
        }
    }
    let mut sources = SourceMap::new();
    let compiled = compile_with_types(&fs, &entry, &Overrides::new(), &mut sources);
    let files = compiled
        .files
        .iter()
        .map(|(id, f)| {
            let text = sources
                .file(*id)
                .map(|s| Arc::clone(&s.text))
                .unwrap_or_default();
            let (ast, _) = crate::syntax::parse(*id, &text);
            FileInfo {
                id: *id,
                path: Path::new(&f.root).join(&f.rel),
                text,
                ast,
            }
        })
        .collect();
    Analysis {
        root: root.to_path_buf(),
        sources,
        compiled,
        files,
    }
}

/// The name a "did you mean" help suggests.
pub fn suggestion(help: &str) -> Option<&str> {
    help.strip_prefix("did you mean `")?.strip_suffix("`?")
}

/// The diagnostics of every file of an analysis, as `kanon check` gives them: code,
/// message, help and notes, the primary and secondary labels as related information,
/// and a did-you-mean suggestion in `data` for the quick fix.
pub fn lsp_diagnostics(a: &Analysis) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    let mut out: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for f in &a.files {
        out.entry(f.path.clone()).or_default();
    }
    for d in &a.compiled.diagnostics {
        let Some(primary) = &d.primary else { continue };
        let Some(f) = a.file_by_id(primary.span.file) else {
            continue;
        };
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        for n in &d.notes {
            message.push_str(&format!("\nnote: {n}"));
        }
        let mut related = Vec::new();
        for l in std::iter::once(primary).chain(&d.secondary) {
            if l.message.is_empty() {
                continue;
            }
            if let Some(location) = a.location(l.span) {
                related.push(DiagnosticRelatedInformation {
                    location,
                    message: l.message.clone(),
                });
            }
        }
        let data = d
            .help
            .as_deref()
            .and_then(suggestion)
            .map(|s| json!({"suggestion": s}));
        out.entry(f.path.clone())
            .or_default()
            .push(lsp_types::Diagnostic {
                range: super::text::range(&f.text, primary.span.range()),
                severity: Some(match d.level {
                    Level::Error => DiagnosticSeverity::ERROR,
                    Level::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("kanon".to_string()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                data,
                ..lsp_types::Diagnostic::default()
            });
    }
    out
}
