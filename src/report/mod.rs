//! The report stage: findings and diagnostics to text, JSON, SARIF and JUnit, one file per
//! format, and atomic writing of output files.

pub mod atomic;
pub mod baseline;
pub mod diagnostics;
pub mod fingerprint;
pub mod json;
pub mod junit;
pub mod rule_docs;
pub mod sarif;
pub mod summary;
pub mod text;
