//! The OWASP Kubernetes Top 10 ruleset, embedded at build time from `rulesets/`.

use crate::check::fs::{RuleFile, RuleFs};

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
