//! Fixes: editing input files so that findings go away.
//!
//! `edit` turns edits by path into text edits that keep everything else byte for byte;
//! `apply` applies the fixes of findings to their files.

pub mod apply;
pub mod edit;
