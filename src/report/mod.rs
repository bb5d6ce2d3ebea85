//! The report stage: findings and diagnostics to text, JSON, SARIF and JUnit, one file per
//! format, and atomic writing of output files.

pub mod atomic;
pub mod diagnostics;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
pub mod text;
