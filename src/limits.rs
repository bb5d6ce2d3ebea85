//! Limits on hostile input and runaway rules, with defaults and command-line flags.
//!
//! Hitting a limit is a located error for that input or rule, never an abort of the run:
//! the file or document is skipped and counted, the rule's findings for that object are
//! reported as incomplete, and everything else is still evaluated.

/// Most rounds one stratum of recursive relations runs: the longest path (in steps of its
/// base cases) a relation finds. A stratum stopped by it is shown by `kanon explain`.
pub const MAX_PATH_ROUNDS: u32 = 16;

/// Every bound kanon applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file read, in bytes (`--max-file-size`).
    pub max_file_bytes: u64,
    /// Deepest nesting of collections in one document (`--max-depth`).
    pub max_depth: usize,
    /// Most nodes one document may expand to once aliases are resolved
    /// (`--max-alias-nodes`).
    pub max_alias_nodes: usize,
    /// Largest compiled size of one regular expression in a rule, in bytes.
    pub max_regex_bytes: usize,
    /// Most evaluation steps one rule may take for one root object (`--max-steps`); for a
    /// rule without one, for the work before its first binding over several values and for
    /// each row of that binding.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 512 * 1024 * 1024,
            max_depth: 256,
            max_alias_nodes: 1_000_000,
            max_regex_bytes: 1 << 20,
            max_steps: 1_000_000,
        }
    }
}

/// Parses a size such as `512M`, `2G`, `64k` or `1000` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_lowercase() {
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                _ => return Err(format!("unknown size suffix in `{s}`")),
            };
            (t.get(..i).unwrap_or(""), m)
        }
        _ => (t, 1),
    };
    num.parse::<u64>()
        .map(|n| n.saturating_mul(mult))
        .map_err(|_| format!("`{s}` is not a size"))
        .and_then(|n| {
            if n == 0 {
                Err(format!("`{s}` must be more than 0"))
            } else {
                Ok(n)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("1T").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }
}
