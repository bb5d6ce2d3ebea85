//! The `graph` stage.
