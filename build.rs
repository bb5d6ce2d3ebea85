//! Embeds the bundled ruleset (rule files and data tables, not test fixtures) in the binary,
//! and the parse of each bundled rule file, made here with the crate's own parser
//! (`src/syntax`) and stored in the form of `src/syntax/store.rs`, so that compiling the
//! bundled ruleset does not parse it again (`syntax::parse_stored`); likewise the bundled
//! data tables, decoded here with the checker's YAML reader (`src/check/table_store.rs`).

/// What the parser needs of `src/diag.rs`: spans and the diagnostics it builds (only
/// whether there are any is read here).
#[allow(dead_code)]
mod diag {
    use std::ops::Range;

    pub type FileId = u32;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Span {
        pub file: FileId,
        pub start: u32,
        pub end: u32,
    }

    impl Span {
        pub fn new(file: FileId, range: Range<usize>) -> Span {
            Span {
                file,
                start: u32::try_from(range.start).unwrap_or(u32::MAX),
                end: u32::try_from(range.end).unwrap_or(u32::MAX),
            }
        }

        pub fn to(self, other: Span) -> Span {
            Span {
                file: self.file,
                start: self.start.min(other.start),
                end: self.end.max(other.end),
            }
        }
    }

    /// Only called on the way to a diagnostic, which is all this build script reads.
    pub fn suggest<'a>(
        _name: &str,
        _candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        None
    }

    #[derive(Debug)]
    pub struct Diagnostic;

    impl Diagnostic {
        pub fn error(_code: &'static str, _message: impl Into<String>) -> Diagnostic {
            Diagnostic
        }

        pub fn at(self, _span: Span, _label: impl Into<String>) -> Diagnostic {
            self
        }

        pub fn with_label(self, _span: Span, _label: impl Into<String>) -> Diagnostic {
            self
        }

        pub fn with_help(self, _help: impl Into<String>) -> Diagnostic {
            self
        }
    }
}

#[allow(dead_code)]
#[path = "src/check/table_store.rs"]
mod table_store;

#[allow(dead_code)]
#[path = "src/syntax"]
mod syntax {
    pub mod ast;
    pub mod parser;
    pub mod store;
}

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rule = name.ends_with(".kanon");
            let table =
                (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.contains(".test.");
            if rule || (table && p.components().any(|c| c.as_os_str() == "data")) {
                out.push(p);
            }
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("rulesets");
    println!("cargo:rerun-if-changed=rulesets");
    for f in [
        "grammar",
        "src/syntax/ast.rs",
        "src/syntax/parser.rs",
        "src/syntax/store.rs",
        "src/check/table_store.rs",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Bundled rule files and data tables: (path under `rulesets/`, text).\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            f.to_string_lossy()
        );
    }
    code.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let out = out_dir.join("bundled.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
    store_parses(&files, &out_dir);
    store_tables(&files, &out_dir);
}

/// Decodes every bundled table file as the checker does and writes `tables.bin` (the
/// values, one after the other) and `tables.rs` (each file's text and the byte range of
/// its value). A file that does not decode, or holds a tagged value, is left out.
fn store_tables(files: &[PathBuf], out_dir: &Path) {
    let tables = files
        .iter()
        .filter(|f| f.extension().is_none_or(|e| e != "kanon"));
    let names = Stored {
        file: "tables",
        list: "/// Bundled table files decoded at build time: (text, byte range of its value in `TABLE_VALUES`).\nconst TABLES",
        blob: "/// The stored values.\nstatic TABLE_VALUES",
    };
    store(tables, out_dir, &names, |text| {
        let value = serde_yaml::from_str::<serde_yaml::Value>(
            text.strip_prefix('\u{feff}').unwrap_or(text),
        )
        .ok()?;
        table_store::encode(&value)
    });
}

/// Parses every bundled rule file and writes `parsed.bin` (the trees, one after the other)
/// and `parsed.rs` (each file's text and the byte range of its tree). A file with a parse
/// diagnostic is left out: a compile parses it and reports them.
fn store_parses(files: &[PathBuf], out_dir: &Path) {
    let rules = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "kanon"));
    let names = Stored {
        file: "parsed",
        list: "/// Bundled rule files parsed at build time: (text, byte range of its tree in `PARSED_TREES`).\nconst PARSED",
        blob: "/// The stored trees.\nstatic PARSED_TREES",
    };
    store(rules, out_dir, &names, |text| {
        let (tree, diags) = syntax::parser::parse(0, text);
        if !diags.is_empty() {
            return None;
        }
        syntax::store::encode(&tree, 0)
    });
}

/// The names of what [`store`] writes: `FILE.bin`, `FILE.rs`, and in it the documented
/// list of (text, start, end) and the bytes.
struct Stored {
    file: &'static str,
    list: &'static str,
    blob: &'static str,
}

/// Encodes each file that `encode` takes into one blob, `OUT_DIR/FILE.bin`, and writes
/// `OUT_DIR/FILE.rs`: the list of each stored file's text with the byte range of its
/// encoding, and the blob included as bytes.
fn store<'f>(
    files: impl Iterator<Item = &'f PathBuf>,
    out_dir: &Path,
    names: &Stored,
    encode: impl Fn(&str) -> Option<Vec<u8>>,
) {
    let mut blob = Vec::new();
    let mut code = format!("{}: &[(&str, usize, usize)] = &[\n", names.list);
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Some(bytes) = encode(&text) else {
            continue;
        };
        let start = blob.len();
        blob.extend_from_slice(&bytes);
        let _ = writeln!(
            code,
            "    (include_str!({:?}), {start}, {}),",
            f.to_string_lossy(),
            blob.len()
        );
    }
    code.push_str("];\n");
    let bin = out_dir.join(format!("{}.bin", names.file));
    let _ = writeln!(
        code,
        "{}: &[u8] = include_bytes!({:?});",
        names.blob,
        bin.to_string_lossy()
    );
    let rs = out_dir.join(format!("{}.rs", names.file));
    for (path, data) in [(bin, blob), (rs, code.into_bytes())] {
        if let Err(e) = std::fs::write(&path, data) {
            println!("cargo:warning=cannot write {}: {e}", path.display());
        }
    }
}
