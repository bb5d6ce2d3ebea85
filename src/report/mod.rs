//! The report stage: findings and diagnostics to text and JSON, one file per format.

pub mod diagnostics;
pub mod json;
pub mod rule_docs;
pub mod summary;
pub mod text;
