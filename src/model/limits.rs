//! Limits on hostile input: see [`crate::limits`].

pub use crate::limits::Limits;
