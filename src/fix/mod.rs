//! Fixes: editing input files so that findings go away.

pub mod apply;
pub mod edit;
