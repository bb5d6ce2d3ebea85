//! Stable fingerprints of findings, for baselines (and SARIF `partialFingerprints`).
//!
//! A fingerprint identifies a finding independently of where it is in a file, so it survives
//! lines being inserted or moved: it hashes the rule id, the resource's `apiVersion`, kind,
//! namespace and name, and the message (which names the offending container or field), but
//! never the file, line or column. The hash is 128-bit FNV-1a, implemented here so that the
//! value is the same on every platform, run and version of Rust.

use crate::eval::Finding;

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// Fingerprint scheme version, hashed in so that a change of scheme changes every value.
const SCHEME: &str = "kanon-fingerprint-v1";

/// 128-bit FNV-1a.
#[derive(Clone, Copy, Debug)]
pub struct Fnv1a128(u128);

impl Default for Fnv1a128 {
    fn default() -> Fnv1a128 {
        Fnv1a128(FNV_OFFSET)
    }
}

impl Fnv1a128 {
    /// Hashes bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// Hashes a field: its length, then its bytes, so that field boundaries are unambiguous.
    pub fn field(&mut self, s: &str) {
        self.write(&(s.len() as u64).to_le_bytes());
        self.write(s.as_bytes());
    }

    /// Adds a string given in pieces, as [`Self::field`] adds the whole.
    pub fn pieces<'a>(&mut self, pieces: impl Iterator<Item = &'a str> + Clone) {
        let len: usize = pieces.clone().map(str::len).sum();
        self.write(&(len as u64).to_le_bytes());
        pieces.for_each(|p| self.write(p.as_bytes()));
    }

    /// The hash.
    pub fn value(self) -> u128 {
        self.0
    }

    /// The hash as 32 lowercase hex digits.
    pub fn hex(self) -> String {
        format!("{:032x}", self.0)
    }
}

/// The fingerprint of a finding: 32 lowercase hex digits.
pub fn fingerprint(f: &Finding) -> String {
    format!("{:032x}", fingerprint_value(f))
}

/// The number whose hex digits are a finding's [`fingerprint`].
pub fn fingerprint_value(f: &Finding) -> u128 {
    let mut h = Fnv1a128::default();
    h.field(SCHEME);
    h.field(&f.rule.id);
    h.field(&f.resource.api_version);
    h.field(&f.resource.kind);
    match &f.resource.namespace {
        Some(ns) => {
            h.write(&[1]);
            h.field(ns);
        }
        None => h.write(&[0]),
    }
    h.field(&f.resource.name);
    h.pieces(f.message.pieces());
    h.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_values() {
        // FNV-1a 128 of the empty input is the offset basis; of "a" per the reference tables
        assert_eq!(
            Fnv1a128::default().hex(),
            "6c62272e07bb014262b821756295c58d"
        );
        let mut h = Fnv1a128::default();
        h.write(b"a");
        assert_eq!(h.hex(), "d228cb696f1a8caf78912b704e4a8964");
    }
}
