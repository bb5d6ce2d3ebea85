//! Fixes: [`edit`] changes YAML and JSON text by path and keeps everything else as written.

pub mod edit;
