//! Reading paths, stdin and text into documents and objects.
//!
//! [`Loader::load_text`] reads one text (YAML or JSON, one or more documents) and finds the
//! Kubernetes objects in it, including the items of `List` exports. [`Loader::load_paths`] reads
//! files, directories (recursively: `.yaml`, `.yml`, `.json`) and stdin (`-`), parsing files in
//! parallel and merging the results in input order.
//!
//! Diagnostic codes: `E1001` YAML syntax, `E1002` JSON syntax, `E1003` limit exceeded,
//! `E1004` unreadable / not UTF-8 / binary, `W1001` duplicate key, `W1002` non-object `List` item,
//! `W1003` not a Kubernetes object.

use super::{DocId, Document, Limits, NodeId, ObjectRef, Value};
use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::render::{Entry, Origin, Renderer, Unit};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a document or file was not evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// The document holds nothing (or only comments).
    Empty,
    /// The document is not a Kubernetes object (no `apiVersion`/`kind`).
    NotKubernetes,
    /// The document or file could not be parsed.
    Malformed,
    /// The file could not be read.
    Unreadable,
    /// A limit was hit (size, depth, alias expansion).
    LimitExceeded,
}

/// Counts for the summary line.
///
/// Invariant: `documents` equals the number of documents that produced at least one object plus
/// the sum of `skipped` (a file that could not be read at all counts as one skipped document).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Files read.
    pub files: usize,
    /// Documents read (evaluated + skipped).
    pub documents: usize,
    /// Objects found (List items count one each).
    pub objects: usize,
    /// Skipped documents or files, by reason.
    pub skipped: Vec<(SkipReason, usize)>,
    /// Rule fixture files (`X.test.yaml`, `X.tests/` beside `X.kanon`) left out of
    /// directory walks; they are not counted in `files` or `documents`.
    pub fixtures: usize,
}

impl LoadStats {
    /// Number of documents skipped for `reason`.
    pub fn skipped_for(&self, reason: SkipReason) -> usize {
        self.skipped
            .iter()
            .filter(|(r, _)| *r == reason)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Total skipped documents.
    pub fn skipped_total(&self) -> usize {
        self.skipped.iter().map(|(_, n)| *n).sum()
    }

    fn add_skip(&mut self, reason: SkipReason, n: usize) {
        if n == 0 {
            return;
        }
        match self.skipped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, c)) => *c += n,
            None => {
                self.skipped.push((reason, n));
                self.skipped.sort_by_key(|(r, _)| *r);
            }
        }
    }

    fn merge(&mut self, other: &LoadStats) {
        self.files += other.files;
        self.documents += other.documents;
        self.objects += other.objects;
        self.fixtures += other.fixtures;
        for (r, n) in &other.skipped {
            self.add_skip(*r, *n);
        }
    }
}

/// Everything loaded from a set of inputs.
#[derive(Debug, Default)]
pub struct LoadOutput {
    /// The documents, in input order. Every document that parsed is here (also those without
    /// objects, such as empty documents); documents that failed to parse are not.
    pub docs: Vec<Document>,
    /// The Kubernetes objects, in input order.
    pub objects: Vec<ObjectRef>,
    /// Input errors and warnings, each located.
    pub diagnostics: Vec<Diagnostic>,
    /// Totals.
    pub stats: LoadStats,
    /// How many pieces large files were cut into to be parsed in parallel (0 when every
    /// file was read in one pass).
    pub pieces: usize,
    /// How each rendered text (a chart's or overlay's output) maps back to the user's files.
    pub origins: HashMap<FileId, Arc<Origin>>,
}

impl LoadOutput {
    /// Appends another output, renumbering its documents.
    pub fn merge(&mut self, other: LoadOutput) {
        let offset = DocId::try_from(self.docs.len()).unwrap_or(DocId::MAX);
        self.docs.extend(other.docs);
        self.objects
            .extend(other.objects.into_iter().map(|o| ObjectRef {
                doc: o.doc.saturating_add(offset),
                node: o.node,
            }));
        self.diagnostics.extend(other.diagnostics);
        self.stats.merge(&other.stats);
        self.pieces += other.pieces;
        self.origins.extend(other.origins);
    }

    /// The document of an object.
    pub fn doc(&self, obj: ObjectRef) -> Option<&Document> {
        self.docs.get(obj.doc as usize)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads inputs under [`Limits`].
#[derive(Clone, Debug)]
pub struct Loader {
    /// Bounds on hostile input.
    pub limits: Limits,
    /// Texts of at least this many bytes that hold one `List`, or a YAML stream of many
    /// documents, are read in parallel pieces (`model::split`); the result is the same as a
    /// sequential read.
    pub split_bytes: usize,
    /// How directories are walked.
    pub walk: super::WalkOptions,
    /// Also warn (`W1003`) about documents that are not Kubernetes objects in files found by
    /// walking a directory (files named explicitly always warn); otherwise they are only
    /// counted.
    pub verbose: bool,
    /// Texts read instead of the files of these names (as displayed): a `--diff` pass
    /// reads the edits of the passes before it without writing them.
    pub overlay: Option<Arc<BTreeMap<String, String>>>,
}

impl Default for Loader {
    fn default() -> Loader {
        Loader::new(Limits::default())
    }
}

/// The default of [`Loader::split_bytes`].
pub const SPLIT_BYTES: usize = 4 << 20;

/// The result of reading one text: each document, parsed or skipped, in order.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub docs: Vec<Result<Document, SkipReason>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Pieces the text was parsed in (0: one pass).
    pub pieces: usize,
    /// Nodes copied to expand YAML aliases.
    pub aliases: usize,
    /// For a `List` read in pieces (one document): whether each of its items is a
    /// Kubernetes object ([`is_object`]), told by the piece's reader while the item was
    /// still in the processor's caches; `None` when the items are to be looked at.
    pub objects: Option<Vec<bool>>,
}

fn is_json_text(name: &str, text: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json")
        || matches!(
            text.trim_start_matches([' ', '\t', '\r', '\n'])
                .as_bytes()
                .first(),
            Some(b'{' | b'[')
        )
}

fn has_json_extension(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json")
}

impl Loader {
    /// A loader with these limits.
    pub fn new(limits: Limits) -> Loader {
        Loader {
            limits,
            split_bytes: SPLIT_BYTES,
            walk: super::WalkOptions::default(),
            verbose: false,
            overlay: None,
        }
    }

    /// Loads one text (a file's contents, or stdin) registered under `name`.
    pub fn load_text(&self, name: &str, text: String, sources: &mut SourceMap) -> LoadOutput {
        let file = sources.add(name, text);
        let text = sources
            .file(file)
            .map(|f| Arc::clone(&f.text))
            .unwrap_or_default();
        let mut out = self.load_registered(file, name, &text, true);
        out.stats.files = 1;
        out
    }

    /// Parses a text already registered in the source map as `file`; `warn` says whether
    /// documents that are not Kubernetes objects get a warning.
    fn load_registered(
        &self,
        file: FileId,
        name: &str,
        text: &Arc<String>,
        warn: bool,
    ) -> LoadOutput {
        let json = is_json_text(name, text);
        let split = super::split::parse(text, file, &self.limits, json, self.split_bytes);
        let parsed = if let Some(p) = split {
            p
        } else if json {
            let p = super::json::parse(text, file, &self.limits);
            let json_failed = p.docs.iter().any(|d| d.is_err());
            if json_failed && !has_json_extension(name) {
                // Not a .json file: it may be YAML flow style; YAML is a superset of JSON.
                super::yaml::parse(text, file, &self.limits)
            } else {
                p
            }
        } else {
            super::yaml::parse(text, file, &self.limits)
        };
        let mut out = LoadOutput {
            diagnostics: parsed.diagnostics,
            pieces: parsed.pieces,
            ..LoadOutput::default()
        };
        let mut skipped: BTreeMap<SkipReason, usize> = BTreeMap::new();
        let mut known = parsed.objects;
        for doc in parsed.docs {
            out.stats.documents += 1;
            match doc {
                Err(reason) => *skipped.entry(reason).or_default() += 1,
                Ok(doc) => {
                    let id = DocId::try_from(out.docs.len()).unwrap_or(DocId::MAX);
                    let found = find_objects(&doc, id, known.take(), &mut out.diagnostics, warn);
                    match found {
                        Ok(objs) => {
                            out.stats.objects += objs.len();
                            out.objects.extend(objs);
                        }
                        Err(reason) => *skipped.entry(reason).or_default() += 1,
                    }
                    out.docs.push(doc);
                }
            }
        }
        out.stats.skipped = skipped.into_iter().collect();
        out
    }

    /// Loads files, directories (recursively: `.yaml`, `.yml`, `.json`, in sorted order, as
    /// [`super::walk`] finds them) and stdin (`-`). Files named explicitly are read whatever
    /// their extension.
    pub fn load_paths(&self, paths: &[String], sources: &mut SourceMap) -> LoadOutput {
        self.load_paths_rendering(paths, None, sources)
    }

    /// [`Loader::load_paths`], with Helm charts and Kustomize overlays (given, or found in
    /// a directory) rendered by `render` and read as their output (see `crate::render`).
    pub fn load_paths_rendering(
        &self,
        paths: &[String],
        render: Option<&Renderer>,
        sources: &mut SourceMap,
    ) -> LoadOutput {
        let mut out = LoadOutput::default();
        // Phase 1 (sequential): find and read every file, register its text.
        // (input, found by walking a directory)
        let mut inputs: Vec<(Input, bool)> = Vec::new();
        // a base that an overlay given beside it builds is read once, in the overlay
        let built = render.map(|r| r.built_by(paths)).unwrap_or_default();
        for p in paths {
            if p == "-" {
                inputs.push((self.read_stdin(), false));
                continue;
            }
            let path = Path::new(p);
            if built.contains(&crate::render::canonical(path)) {
                continue;
            }
            if path.is_dir() {
                let found = super::walk::walk(path, &self.walk);
                out.diagnostics.extend(found.diagnostics);
                out.stats.fixtures += found.fixtures;
                let mut units = Vec::new();
                let plain = expand_units(render, path, found.files, &mut units);
                inputs.extend(units.into_iter().map(|u| (u, true)));
                for f in plain {
                    inputs.push((self.read_file(&f), true));
                }
            } else if let (Some(r), Some(unit)) = (render, Unit::at(path)) {
                inputs.push((read_unit(r, &unit), false));
            } else {
                inputs.push((self.read_file(path), false));
            }
        }
        let mut jobs: Vec<(FileId, String, bool)> = Vec::new();
        let mut order: Vec<Result<usize, LoadOutput>> = Vec::new();
        for (input, walked) in inputs {
            match input {
                Input::Text { name, text, origin } => {
                    let id = sources.add(name.clone(), text);
                    if let Some(origin) = origin {
                        out.origins.insert(id, Arc::new(origin));
                    }
                    order.push(Ok(jobs.len()));
                    jobs.push((id, name, walked));
                }
                Input::Failed {
                    name,
                    reason,
                    diagnostic,
                    lossy,
                    shown,
                } => {
                    let mut o = LoadOutput::default();
                    let d = match lossy {
                        Some((text, at)) => {
                            let id = sources.add(name, text);
                            let end = sources
                                .file(id)
                                .and_then(|f| f.text.get(at..))
                                .and_then(|s| s.chars().next())
                                .map_or(at, |c| at + c.len_utf8());
                            diagnostic.at(Span::new(id, at..end), "invalid UTF-8 here")
                        }
                        // the file's contents are not shown (binary, too large,
                        // unreadable), but the error is still located at the file
                        None => {
                            // a chart's or overlay's file is shown at its first line
                            let (text, label) = shown.unwrap_or((String::new(), "this file"));
                            let end = text.find('\n').unwrap_or(text.len());
                            let id = sources.add(name, text);
                            diagnostic.at(Span::new(id, 0..end), label)
                        }
                    };
                    o.diagnostics.push(d);
                    o.stats.files = 1;
                    o.stats.documents = 1;
                    o.stats.add_skip(reason, 1);
                    order.push(Err(o));
                }
            }
        }
        // Phase 2 (parallel): parse.
        // The files' line indexes are made at the same time, on whichever core the parse
        // leaves idle (finding a large `List`'s items is a pass on one core).
        let shared: &SourceMap = sources;
        let (_, mut results): ((), Vec<Option<LoadOutput>>) = rayon::join(
            || {
                jobs.par_iter().for_each(|(id, _, _)| {
                    if let Some(f) = shared.file(*id) {
                        f.prepare();
                    }
                });
            },
            || {
                jobs.par_iter()
                    .map(|(id, name, walked)| {
                        let text = shared
                            .file(*id)
                            .map(|f| Arc::clone(&f.text))
                            .unwrap_or_default();
                        let warn = !walked || self.verbose;
                        let mut o = self.load_registered(*id, name, &text, warn);
                        o.stats.files = 1;
                        Some(o)
                    })
                    .collect()
            },
        );
        // Phase 3: merge in input order.
        for item in order {
            match item {
                Ok(i) => {
                    if let Some(o) = results.get_mut(i).and_then(Option::take) {
                        out.merge(o);
                    }
                }
                Err(o) => out.merge(o),
            }
        }
        out
    }

    fn read_stdin(&self) -> Input {
        let name = "<stdin>".to_string();
        let mut bytes = Vec::new();
        let limit = self.limits.max_file_bytes.saturating_add(1);
        match std::io::stdin().lock().take(limit).read_to_end(&mut bytes) {
            Ok(_) => self.decode(name, bytes, false),
            Err(e) => Input::failed(
                name.clone(),
                SkipReason::Unreadable,
                Diagnostic::error("E1004", format!("cannot read `{name}`: {}", io_message(&e))),
            ),
        }
    }

    fn read_file(&self, path: &Path) -> Input {
        let name = path.display().to_string();
        if let Some(text) = self.overlay.as_ref().and_then(|o| o.get(&name)) {
            return self.decode(name, text.clone().into_bytes(), false);
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > self.limits.max_file_bytes => {
                return Input::failed(
                    name.clone(),
                    SkipReason::LimitExceeded,
                    Diagnostic::error(
                        "E1003",
                        format!(
                            "file `{name}` is too large ({} bytes, the limit is {})",
                            m.len(),
                            self.limits.max_file_bytes
                        ),
                    )
                    .with_help(TOO_LARGE_HELP),
                );
            }
            Ok(m) if m.is_dir() => {
                return Input::failed(
                    name.clone(),
                    SkipReason::Unreadable,
                    Diagnostic::error("E1004", format!("cannot read `{name}`: it is a directory")),
                );
            }
            _ => {}
        }
        let limit = self.limits.max_file_bytes.saturating_add(1);
        let size = std::fs::metadata(path).map_or(0, |m| m.len()).min(limit);
        match read_bytes(path, size, limit) {
            Ok((bytes, nul_free)) => self.decode(name, bytes, nul_free),
            Err(e) => Input::failed(
                name.clone(),
                SkipReason::Unreadable,
                Diagnostic::error("E1004", format!("cannot read `{name}`: {}", io_message(&e))),
            ),
        }
    }

    /// Turns file bytes into text: strips a UTF-8 BOM, decodes UTF-16 with a BOM, rejects
    /// binary and invalid UTF-8.
    /// (`nul_free`: the bytes are known to have no NUL byte.)
    fn decode(&self, name: String, bytes: Vec<u8>, nul_free: bool) -> Input {
        if bytes.len() as u64 > self.limits.max_file_bytes {
            return Input::failed(
                name.clone(),
                SkipReason::LimitExceeded,
                Diagnostic::error(
                    "E1003",
                    format!(
                        "file `{name}` is too large (more than {} bytes)",
                        self.limits.max_file_bytes
                    ),
                )
                .with_help(TOO_LARGE_HELP),
            );
        }
        match decode_bytes(bytes, nul_free) {
            Ok(text) => Input::Text {
                name,
                text,
                origin: None,
            },
            Err(DecodeError::Binary) => Input::failed(
                name.clone(),
                SkipReason::Malformed,
                Diagnostic::error(
                    "E1004",
                    format!("`{name}` looks like a binary file (it contains a NUL byte)"),
                )
                .with_help("only YAML and JSON text files can be loaded"),
            ),
            Err(DecodeError::Utf16) => Input::failed(
                name.clone(),
                SkipReason::Malformed,
                Diagnostic::error("E1004", format!("`{name}` is not valid UTF-16")),
            ),
            Err(DecodeError::Utf8 { text, at }) => Input::Failed {
                name: name.clone(),
                reason: SkipReason::Malformed,
                diagnostic: Diagnostic::error("E1004", format!("`{name}` is not valid UTF-8"))
                    .with_help("save the file as UTF-8"),
                lossy: Some((text, at)),
                shown: None,
            },
        }
    }
}

enum Input {
    Text {
        name: String,
        text: String,
        /// How a rendered text maps back to the user's files.
        origin: Option<Origin>,
    },
    Failed {
        name: String,
        reason: SkipReason,
        diagnostic: Diagnostic,
        /// For invalid UTF-8: the lossy text and the byte offset of the first bad byte.
        lossy: Option<(String, usize)>,
        /// The file's text and a label, when it is shown (a chart's `Chart.yaml`).
        shown: Option<(String, &'static str)>,
    },
}

impl Input {
    fn failed(name: String, reason: SkipReason, diagnostic: Diagnostic) -> Input {
        Input::Failed {
            name,
            reason,
            diagnostic,
            lossy: None,
            shown: None,
        }
    }
}

enum DecodeError {
    Binary,
    Utf16,
    Utf8 { text: String, at: usize },
}

/// How to read a file over the size limit.
const TOO_LARGE_HELP: &str = "`--max-file-size` raises the limit (`2G`, `800M`)";

/// Files at least this large are read in pieces on the thread pool.
const PARALLEL_READ_BYTES: u64 = 16 << 20;

/// The size of a piece of a file read in parallel.
const READ_PIECE: usize = 4 << 20;

/// The bytes of the file at `path`, at most `limit` of them, `size` the length its metadata
/// gave, and whether they are known to have no NUL byte. A large file is read in pieces on
/// the thread pool: the copy and the fresh pages it touches (a third of reading a large
/// export on one core) are shared among the cores, and each piece is looked at for a NUL
/// byte while it is in the cache (a pass of 4-5 ms over a 93 MB file on one core, after).
/// What the file holds beyond `size` (it grew) is read after, as a plain read would.
fn read_bytes(path: &Path, size: u64, limit: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    let mut nul_free = false;
    #[cfg(unix)]
    if size >= PARALLEL_READ_BYTES && rayon::current_num_threads() > 1 {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::FileExt;
        let len = usize::try_from(size).map_err(std::io::Error::other)?;
        bytes = vec![0; len];
        let file = &file;
        let nul = bytes
            .par_chunks_mut(READ_PIECE)
            .enumerate()
            .map(|(i, piece)| {
                file.read_exact_at(piece, (i * READ_PIECE) as u64)?;
                Ok::<bool, std::io::Error>(memchr::memchr(0, piece).is_some())
            })
            .try_reduce(|| false, |a, b| Ok(a || b))?;
        (&mut &*file).seek(SeekFrom::Start(size))?;
        nul_free = !nul;
    }
    if bytes.is_empty() {
        // sized from the metadata: `take` hides the size hint, and doubling a buffer of
        // hundreds of megabytes costs copies and fresh pages
        bytes.reserve_exact(usize::try_from(size).unwrap_or(0) + 1);
    }
    let read = bytes.len();
    (&mut file)
        .take(limit.saturating_sub(read as u64))
        .read_to_end(&mut bytes)?;
    let grown = bytes.get(read..).unwrap_or(&[]);
    let nul_free = nul_free && memchr::memchr(0, grown).is_none();
    Ok((bytes, nul_free))
}

/// The text of a file's bytes; `nul_free` when they are known to have no NUL byte.
fn decode_bytes(bytes: Vec<u8>, nul_free: bool) -> Result<String, DecodeError> {
    let utf16 = |le: bool, body: &[u8]| -> Result<String, DecodeError> {
        let units = body.chunks(2).map(|c| match (c.first(), c.get(1)) {
            (Some(&a), Some(&b)) => {
                if le {
                    u16::from_le_bytes([a, b])
                } else {
                    u16::from_be_bytes([a, b])
                }
            }
            _ => 0xFFFF_u16,
        });
        if body.len() % 2 != 0 {
            return Err(DecodeError::Utf16);
        }
        let s: Result<String, _> = char::decode_utf16(units).collect();
        match s {
            Ok(s) if s.contains('\0') => Err(DecodeError::Binary),
            Ok(s) => Ok(s),
            Err(_) => Err(DecodeError::Utf16),
        }
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => return utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => return utf16(false, rest),
        _ => {}
    }
    // `memchr` reads a vector of bytes at a time (`contains` takes 13-17 ms for 89 MB)
    if !nul_free && memchr::memchr(0, &bytes).is_some() {
        return Err(DecodeError::Binary);
    }
    let bytes = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        DecodeError::Utf8 { text, at }
    })
}

pub(crate) fn io_message(e: &std::io::Error) -> String {
    let s = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    let s = s.to_lowercase();
    s.trim_end_matches('.').to_string()
}

/// Charts and overlays among a directory's files (`crate::render`): each becomes one rendered
/// input in `inputs` (with rendering off, a chart is left out with a warning); the plain
/// files are returned. Without a renderer every file is plain.
fn expand_units(
    render: Option<&Renderer>,
    root: &Path,
    files: Vec<PathBuf>,
    inputs: &mut Vec<Input>,
) -> Vec<PathBuf> {
    let Some(r) = render else {
        return files
            .into_iter()
            .filter(|f| !crate::render::is_archive(f))
            .collect();
    };
    let mut plain = Vec::new();
    for e in crate::render::expand(root, files, r.settings.enabled) {
        match e {
            Entry::File(f) => plain.push(f),
            Entry::Unit(u) => inputs.push(read_unit(r, &u)),
        }
    }
    plain
}

/// A chart or overlay rendered into one input; a failure is one error located at the
/// unit's `Chart.yaml` or kustomization.
fn read_unit(r: &Renderer, unit: &Unit) -> Input {
    let failed = |reason: SkipReason, diagnostic: Diagnostic| Input::Failed {
        name: unit.anchor().display().to_string(),
        reason,
        diagnostic,
        lossy: None,
        // `Chart.yaml` or the kustomization, shown at its first line
        shown: std::fs::read_to_string(unit.anchor()).ok().map(|text| {
            let label = match unit {
                Unit::Overlay(_) => "this overlay",
                _ => "this chart",
            };
            (text, label)
        }),
    };
    if !r.settings.enabled {
        return failed(
            SkipReason::NotKubernetes,
            Diagnostic::warning(
                "W1010",
                format!(
                    "the helm chart `{}` is not scanned: rendering is off (`--no-render`)",
                    unit.path().display()
                ),
            )
            .with_help("its templates are not YAML until Helm renders them"),
        );
    }
    match r.render(unit) {
        Ok(rendered) => Input::Text {
            name: rendered.name,
            text: rendered.text,
            origin: Some(rendered.origin),
        },
        Err(d) => failed(SkipReason::Unreadable, *d),
    }
}

/// The number of items from which a `List`'s items are looked at in parallel.
const PARALLEL_ITEMS: usize = 4096;

/// Whether `item` (an item of a `List`) is a Kubernetes object: a string `apiVersion`
/// and `kind`.
pub(crate) fn is_object(doc: &Document, item: NodeId) -> bool {
    doc.str_at(item, &["apiVersion"]).is_some() && doc.str_at(item, &["kind"]).is_some()
}

/// The objects of a parsed document: the root object, or the items of a `List`, which
/// `known` tells (one [`is_object`] for each item, from the reader) when given.
/// `Err` gives the reason the document is skipped.
fn find_objects(
    doc: &Document,
    id: DocId,
    known: Option<Vec<bool>>,
    diags: &mut Vec<Diagnostic>,
    warn: bool,
) -> Result<Vec<ObjectRef>, SkipReason> {
    let root = doc.root;
    let Some(value) = doc.value(root) else {
        return Err(SkipReason::Empty);
    };
    let first_token = |n: NodeId| -> Span {
        let span = doc.span(n).unwrap_or_default();
        match doc.map(n).first() {
            Some((_, v)) => doc.key_span(v).unwrap_or(span),
            None => span,
        }
    };
    match value {
        Value::Null => return Err(SkipReason::Empty),
        Value::Map(entries) if entries.is_empty() => return Err(SkipReason::Empty),
        Value::Map(_) => {}
        _ if !warn => return Err(SkipReason::NotKubernetes),
        _ => {
            diags.push(
                Diagnostic::warning(
                    "W1003",
                    "document is not a kubernetes object: it is not a mapping",
                )
                .at(
                    first_token(root),
                    "expected a mapping with `apiVersion` and `kind`",
                ),
            );
            return Err(SkipReason::NotKubernetes);
        }
    }
    let api = doc.str_at(root, &["apiVersion"]);
    let kind = doc.str_at(root, &["kind"]);
    let (Some(_), Some(kind)) = (api, kind) else {
        if !warn {
            return Err(SkipReason::NotKubernetes);
        }
        let missing = match (api, kind) {
            (None, None) => "`apiVersion` and `kind`",
            (None, Some(_)) => "`apiVersion`",
            _ => "`kind`",
        };
        diags.push(
            Diagnostic::warning(
                "W1003",
                format!("document is not a kubernetes object: it has no string {missing}"),
            )
            .at(first_token(root), "document starts here"),
        );
        return Err(SkipReason::NotKubernetes);
    };
    let items = doc.get(root, "items");
    let is_list = kind.ends_with("List")
        && items.is_some_and(|i| matches!(doc.value(i), Some(Value::Seq(_))));
    if !is_list {
        return Ok(vec![ObjectRef {
            doc: id,
            node: root,
        }]);
    }
    let items = items.map_or(&[][..], |i| doc.seq(i));
    let is_object = |&item: &NodeId| is_object(doc, item);
    // a large list's items are told in parallel: each is read for the first time since it
    // was parsed, out of the processor's caches
    let oks: Vec<bool> = match known {
        Some(oks) if oks.len() == items.len() => oks,
        _ if items.len() >= PARALLEL_ITEMS => {
            items.par_iter().with_min_len(1024).map(is_object).collect()
        }
        _ => items.iter().map(is_object).collect(),
    };
    let mut objs = Vec::with_capacity(items.len());
    for (&item, ok) in items.iter().zip(oks) {
        if ok {
            objs.push(ObjectRef {
                doc: id,
                node: item,
            });
        } else {
            diags.push(
                Diagnostic::warning(
                    "W1002",
                    format!(
                        "item of `{kind}` is not a kubernetes object (no string `apiVersion` and `kind`)"
                    ),
                )
                .at(first_token(item), "this item is skipped"),
            );
        }
    }
    if objs.is_empty() {
        return Err(SkipReason::Empty);
    }
    Ok(objs)
}
