//! The OWASP Kubernetes Top 10 ruleset, embedded at build time from `rulesets/`.

use crate::check::fs::{RuleFile, RuleFs};
use crate::check::{Compiled, Overrides};
use crate::diag::{Diagnostic, SourceMap};
use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The root name under which bundled files appear in diagnostics.
pub const ROOT: &str = "rulesets";

/// Adds the bundled files to a rule file system and returns the rule files.
pub fn add_to(fs: &mut RuleFs) -> Vec<RuleFile> {
    for (rel, text) in FILES {
        fs.add_embedded(ROOT, rel, text);
    }
    fs.embedded_rules(ROOT)
}

/// Compiles the rule files under `paths`, after the bundled ruleset when `with_bundled`.
/// Files under a path that are unchanged copies of bundled files (a checkout of kanon's
/// `rulesets/`, say) are loaded once, with warning `W0203`; changed copies still clash
/// with the bundled rules they copy (`E0201`, `E0202`, with a help).
pub fn compile(
    paths: &[PathBuf],
    with_bundled: bool,
    overrides: &Overrides,
    sources: &mut SourceMap,
) -> Result<Compiled, String> {
    let mut fs = RuleFs::new();
    let mut entry = Vec::new();
    if with_bundled {
        entry.extend(add_to(&mut fs));
    }
    let mut copies = Vec::new();
    for p in paths {
        let files = fs.add_disk_path(p)?;
        let total = files.len();
        let files: Vec<RuleFile> = files.into_iter().map(|f| fs.original(f)).collect();
        let copied = files.iter().filter(|f| f.embedded).count();
        if copied > 0 {
            copies.push((p, copied, total));
        }
        // the originals are in `entry` already, and a file is loaded once
        entry.extend(files.into_iter().filter(|f| !f.embedded));
    }
    let mut compiled = crate::check::compile(&fs, &entry, overrides, sources);
    for (p, n, total) in copies {
        let p = p.display();
        let which = if n == total {
            format!("the {total} rule files")
        } else {
            format!("{n} of the {total} rule files")
        };
        compiled.diagnostics.push(
            Diagnostic::warning(
                "W0203",
                format!(
                    "{which} under `{p}` are copies of the bundled ruleset, which is loaded already; they are loaded once"
                ),
            )
            .with_help(format!(
                "leave out `{p}` to run the bundled rules, or pass `--no-default-rules` to run only the rules under it"
            )),
        );
    }
    Ok(compiled)
}
