//! `kanon fmt`: rewrite rule files in canonical form, or check that they are.

use crate::check::fs::RuleFs;
use crate::diag::SourceMap;
use crate::syntax::{format::format_file, parse};
use std::path::{Path, PathBuf};

pub(super) fn run(paths: &[PathBuf], check: bool) -> u8 {
    let mut fs = RuleFs::new();
    let mut files = Vec::new();
    for p in paths {
        match fs.add_disk_path(p) {
            Ok(f) => files.extend(f),
            Err(e) => {
                super::error_line(&e);
                return 2;
            }
        }
    }
    let mut unformatted = 0;
    let mut failed = false;
    for f in &files {
        let path = Path::new(&f.root).join(&f.rel);
        let text = match fs.read(f) {
            Ok(t) => t,
            Err(e) => {
                super::error_line(&e);
                failed = true;
                continue;
            }
        };
        let mut sources = SourceMap::new();
        let id = sources.add(f.display.clone(), text.clone());
        let (ast, diags) = parse(id, &text);
        if !diags.is_empty() {
            let mut err = super::Color::Auto.stderr();
            let _ = crate::report::diagnostics::emit(&mut err, &sources, &diags);
            failed = true;
            continue;
        }
        let out = format_file(&ast, &text);
        if out == text {
            continue;
        }
        unformatted += 1;
        if check {
            super::out(&format!("would reformat {}\n", f.display));
        } else if let Err(e) = std::fs::write(&path, out) {
            super::error_line(&format!("cannot write `{}`: {e}", f.display));
            failed = true;
        } else {
            super::out(&format!("formatted {}\n", f.display));
        }
    }
    if failed {
        2
    } else if check && unformatted > 0 {
        1
    } else {
        0
    }
}
