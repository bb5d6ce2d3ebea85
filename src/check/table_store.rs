//! A compact binary form of a decoded YAML table file, so that the bundled tables are
//! decoded once, at build time (`build.rs` decodes each with the YAML reader the checker
//! uses and [`encode`]s it), and a compile only [`decode`]s them: the YAML reader took
//! about 270 instructions per byte of the bundled tables.
//!
//! Every value is a tag byte and its content; numbers keep their kind (unsigned, negative,
//! float), lengths and numbers are 8 little-endian bytes. A value with a YAML tag is not
//! encoded (the table is then read from its text). [`decode`] returns `None` on any
//! malformed input.

use serde_yaml::{Mapping, Number, Value};

/// Encodes a decoded table file; `None` when it holds a tagged value.
pub fn encode(v: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    value(v, &mut out)?;
    Some(out)
}

fn eight(out: &mut Vec<u8>, b: [u8; 8]) {
    out.extend_from_slice(&b);
}

fn len(out: &mut Vec<u8>, n: usize) {
    eight(out, (n as u64).to_le_bytes());
}

fn value(v: &Value, out: &mut Vec<u8>) -> Option<()> {
    match v {
        Value::Null => out.push(0),
        Value::Bool(b) => out.push(if *b { 2 } else { 1 }),
        Value::Number(n) => {
            if let (true, Some(u)) = (n.is_u64(), n.as_u64()) {
                out.push(3);
                eight(out, u.to_le_bytes());
            } else if let (true, Some(i)) = (n.is_i64(), n.as_i64()) {
                out.push(4);
                eight(out, i.to_le_bytes());
            } else {
                out.push(5);
                eight(out, n.as_f64()?.to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(6);
            len(out, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Sequence(items) => {
            out.push(7);
            len(out, items.len());
            for i in items {
                value(i, out)?;
            }
        }
        Value::Mapping(m) => {
            out.push(8);
            len(out, m.len());
            for (k, v) in m {
                value(k, out)?;
                value(v, out)?;
            }
        }
        Value::Tagged(_) => return None,
    }
    Some(())
}

/// Decodes a value [`encode`] made.
pub fn decode(bytes: &[u8]) -> Option<Value> {
    let mut r = Reader { bytes, at: 0 };
    let v = r.value()?;
    (r.at == bytes.len()).then_some(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let b = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(b)
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(u64::from_le_bytes(self.eight()?)).ok()
    }

    fn value(&mut self) -> Option<Value> {
        let tag = *self.take(1)?.first()?;
        Some(match tag {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Number(Number::from(u64::from_le_bytes(self.eight()?))),
            4 => Value::Number(Number::from(i64::from_le_bytes(self.eight()?))),
            5 => Value::Number(Number::from(f64::from_le_bytes(self.eight()?))),
            6 => {
                let n = self.len()?;
                Value::String(std::str::from_utf8(self.take(n)?).ok()?.to_string())
            }
            7 => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::Sequence(items)
            }
            8 => {
                let n = self.len()?;
                let mut m = Mapping::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    let k = self.value()?;
                    let v = self.value()?;
                    m.insert(k, v);
                }
                Value::Mapping(m)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_with_their_number_kinds() {
        let text = "a: [1, -2, 2.5, .nan, -.inf, 18446744073709551615, null, true, false, \"x\"]\n? [k]\n: {b: c}\n";
        let v: Value = serde_yaml::from_str(text).unwrap();
        let bytes = encode(&v).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(format!("{back:?}"), format!("{v:?}"));
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        let tagged: Value = serde_yaml::from_str("a: !t 1").unwrap();
        assert!(encode(&tagged).is_none());
    }
}
