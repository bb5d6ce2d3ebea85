//! Embeds the bundled ruleset (rule files and data tables, not test fixtures) in the binary.

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
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("bundled.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
