//! The report stage: findings and diagnostics to text, JSON and the other formats.

pub mod diagnostics;
