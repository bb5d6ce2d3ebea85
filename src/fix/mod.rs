//! Fixes: editing input files so that findings go away.
//!
//! [`edit`] changes YAML and JSON text by path and keeps everything else as written;
//! [`apply`] applies the fixes of findings to their files.

pub mod apply;
pub mod edit;
