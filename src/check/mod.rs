//! The `check` stage.
