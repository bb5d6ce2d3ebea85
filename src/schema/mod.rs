//! The `schema` stage.
