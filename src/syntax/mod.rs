//! The parse stage: rule text to an AST with spans, and back to text (the formatter).

pub mod ast;
pub mod format;
pub mod parser;

pub use parser::{parse, parse_expr};
