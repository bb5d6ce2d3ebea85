//! The evaluate stage: the optimized executor over the physical plan and the naive
//! reference evaluator, sharing one expression interpreter.

pub mod builtins;
pub mod emit;
pub mod exec;
pub mod finding;
pub mod fixes;
pub mod fixpoint;
pub mod interp;
pub mod reference;
pub mod value;

pub use finding::{Evidence, Finding, Location};
pub use value::Val;
