//! The `syntax` stage.
