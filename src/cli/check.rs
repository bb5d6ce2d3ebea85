//! `kanon check`: compile rule files and print their diagnostics.

use super::{Color, DiagFormat};
use crate::check::Overrides;
use crate::diag::SourceMap;
use crate::report::diagnostics;
use std::path::PathBuf;

pub(super) fn run(paths: &[PathBuf], format: DiagFormat, color: Color) -> u8 {
    let mut sources = SourceMap::new();
    let compiled =
        match crate::bundled::compile(paths, paths.is_empty(), &Overrides::new(), &mut sources) {
            Ok(c) => c,
            Err(e) => {
                super::error_line(&e);
                return 2;
            }
        };
    match format {
        DiagFormat::Json => {
            let v = diagnostics::to_json(&sources, &compiled.diagnostics);
            super::out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ));
        }
        DiagFormat::Text => {
            let mut err = color.stderr();
            let _ = diagnostics::emit(&mut err, &sources, &compiled.diagnostics);
            let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = compiled.diagnostics.len() - errors;
            super::err_line(&format!(
                "checked {} rule{} in {} file{}: {errors} error{}, {warnings} warning{}",
                compiled.program.rules.len(),
                plural(compiled.program.rules.len()),
                compiled.files.len(),
                plural(compiled.files.len()),
                plural(errors),
                plural(warnings),
            ));
        }
    }
    if compiled.has_errors() { 2 } else { 0 }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
