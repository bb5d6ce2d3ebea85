//! The parse stage: rule text to an AST with spans, and back to text (the formatter).

pub mod ast;
pub mod format;
pub mod parser;
pub mod store;

pub use parser::{parse, parse_expr};

use crate::diag::{Diagnostic, FileId};

include!(concat!(env!("OUT_DIR"), "/parsed.rs"));

/// The tree `build.rs` stored for a bundled rule file whose text is `text`, with its spans
/// in `file`: what [`parse`] gives for that text, without diagnostics.
pub fn stored(file: FileId, text: &str) -> Option<ast::File> {
    let (_, start, end) = PARSED
        .iter()
        .find(|(t, _, _)| t.len() == text.len() && *t == text)?;
    store::decode(PARSED_TREES.get(*start..*end)?, file)
}

/// Parses a rule file as [`parse`] does, taking the tree parsed at build time when the
/// text is that of a bundled rule file (which parses without diagnostics).
pub fn parse_stored(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    match stored(file, text) {
        Some(tree) => (tree, Vec::new()),
        None => parse(file, text),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_bundled_rule_file_is_stored_as_it_parses() {
        let mut stored = 0;
        for (rel, text) in crate::bundled::FILES {
            if !rel.ends_with(".kanon") {
                continue;
            }
            let (tree, diags) = super::parse(5, text);
            let Some(back) = super::stored(5, text) else {
                assert!(!diags.is_empty(), "{rel} is not stored");
                continue;
            };
            stored += 1;
            assert!(diags.is_empty(), "{rel}");
            assert_eq!(format!("{back:?}"), format!("{tree:?}"), "{rel}");
            assert_eq!(
                super::store::encode(&back, 5),
                super::store::encode(&tree, 5),
                "{rel}"
            );
        }
        assert!(stored > 100, "{stored} files stored");
        assert!(super::stored(5, "rule X {}").is_none());
    }
}
