//! kanon: a declarative rule engine for Kubernetes security.
//!
//! | stage | module | in → out |
//! |---|---|---|
//! | parse | [`syntax`] | rule text → AST with spans |
//! | analyze | [`check`] | AST → typed, resolved IR, or diagnostics |
//! | plan | [`plan`] | IR → logical plan → optimized plan → physical plan |
//! | load | [`model`], [`graph`] | YAML/JSON → documents with spans → resource graph |
//! | evaluate | [`eval`] | physical plan × graph → findings |
//! | report | [`report`] | findings + diagnostics → text / JSON |
//! | fix | [`fix`] | YAML/JSON text × edits by path → text that keeps everything else |
//! | test | [`harness`] | rule files + fixtures with markers → pass / fail per rule |

/// The hasher of the tables that hot paths look up and never iterate (so their order never
/// reaches an output): foldhash, much cheaper than the default on short keys.
pub(crate) type FastHash = foldhash::fast::RandomState;

pub mod bundled;
pub mod check;
pub mod cli;
pub mod config;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod fix;
pub mod graph;
pub mod harness;
pub mod limits;
pub mod lsp;
pub mod model;
pub mod plan;
pub mod policy;
pub mod render;
pub mod report;
pub mod rule_docs;
pub mod schema;
pub mod shape;
pub mod syntax;
