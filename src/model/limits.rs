//! Limits on hostile input, with defaults; hitting one is a located error for that input.

/// Bounds applied while loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Deepest nesting of collections in one document.
    pub max_depth: usize,
    /// Most nodes one document may expand to once aliases are resolved.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 512 * 1024 * 1024,
            max_depth: 256,
            max_alias_nodes: 1_000_000,
        }
    }
}
