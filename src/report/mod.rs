//! The report stage: findings and diagnostics to text and JSON, one file per format.

pub mod baseline;
pub mod diagnostics;
pub mod fingerprint;
pub mod json;
pub mod summary;
pub mod text;
