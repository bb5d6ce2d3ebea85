//! JSON reader that keeps a span on every value.
