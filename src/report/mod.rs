//! The report stage: findings and diagnostics to text, concise text, JSON, SARIF, JUnit,
//! GitHub workflow commands, GitLab Code Quality and a self-contained HTML report, one file per format, and atomic writing
//! of output files.

pub mod atomic;
pub mod baseline;
pub mod concise;
pub mod diagnostics;
pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
pub mod text;

use std::path::Path;

/// A file name as CI systems and editors want it: relative to `base` (normally the working
/// directory) when it is under it, with forward slashes and no leading `./`.
pub fn display_path(file: &str, base: Option<&Path>) -> String {
    let path = Path::new(file);
    let shown = match base.and_then(|b| path.strip_prefix(b).ok()) {
        Some(rel) if path.is_absolute() => rel.to_string_lossy().into_owned(),
        _ => file.to_string(),
    };
    let mut shown = shown.replace('\\', "/");
    while let Some(rest) = shown.strip_prefix("./") {
        shown = rest.to_string();
    }
    shown
}

/// `namespace/` for an object in a namespace, nothing for one without: what comes before
/// its name where a report names it.
pub(crate) fn ns_prefix(namespace: Option<&str>) -> String {
    namespace.map(|n| format!("{n}/")).unwrap_or_default()
}

/// Appends the pretty JSON of `v` with `line` (a line break and an indentation) before each
/// of its lines: the value as a pretty printer writes it at that depth of a larger value,
/// since JSON strings hold no raw line breaks. Reports stream their items with it.
pub(crate) fn pretty_at(
    out: &mut Vec<u8>,
    v: &serde_json::Value,
    line: &[u8],
) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    for l in text.split(|b| *b == b'\n') {
        out.extend_from_slice(line);
        out.extend_from_slice(l);
    }
    Ok(())
}

/// Writes the items of a pretty JSON array an item at a time: `[`, each item on its own
/// lines after `line` (its line break and indentation), then `close` and `]`; `[]` when
/// there are none. What is written is flushed to `w` every 64 KB.
pub(crate) fn pretty_array(
    w: &mut dyn std::io::Write,
    items: impl Iterator<Item = serde_json::Value>,
    line: &[u8],
    close: &[u8],
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut empty = true;
    for item in items {
        buf.push(if empty { b'[' } else { b',' });
        empty = false;
        pretty_at(&mut buf, &item, line)?;
        if buf.len() > 1 << 16 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    if empty {
        buf.push(b'[');
    } else {
        buf.extend_from_slice(close);
    }
    buf.push(b']');
    w.write_all(&buf)
}

/// Writes what `render` makes of `items`, a chunk of `chunk` items at a time: the chunks of
/// a window (eight per thread) rendered on every thread, then written in order, so that
/// the output is the serial one and is never held whole.
pub(crate) fn write_chunked<T: Sync>(
    w: &mut dyn std::io::Write,
    items: &[T],
    chunk: usize,
    render: impl Fn(&[T]) -> std::io::Result<Vec<u8>> + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let chunk = chunk.max(1);
    let window = chunk * 8 * rayon::current_num_threads().max(2);
    for part in items.chunks(window) {
        let rendered = part
            .par_chunks(chunk)
            .map(&render)
            .collect::<std::io::Result<Vec<Vec<u8>>>>()?;
        for r in &rendered {
            w.write_all(r)?;
        }
    }
    Ok(())
}

/// An array of a pretty JSON document, written where the document without it has the
/// empty array `marker` (a line break, the key's indentation, the key, `: []`; it must occur
/// once): the items rendered a window at a time on every thread, a chunk to a buffer, and
/// written in order, so that the document is never held whole. `prepare` runs on each
/// window first, in order (what must be counted in the items' order); `render` writes one
/// item, with its index in the window, preceded by a comma and its line break, and keeps
/// what it likes from item to item of a chunk in a state of the chunk's own (`S::default()`
/// at the chunk's start). `close` is
/// the line break and indentation before the array's `]`.
pub(crate) struct Splice<'a> {
    pub(crate) skeleton: &'a [u8],
    pub(crate) marker: &'a [u8],
    pub(crate) close: &'a [u8],
    /// Items rendered by one task.
    pub(crate) chunk: usize,
    /// Items rendered before any is written, per thread.
    pub(crate) window_per_thread: usize,
}

impl Splice<'_> {
    pub(crate) fn write<T: Sync, P: Sync, S: Default>(
        &self,
        w: &mut dyn std::io::Write,
        items: &[T],
        mut prepare: impl FnMut(&[T]) -> P,
        render: impl Fn(&mut Vec<u8>, &mut S, usize, &T, &P) -> std::io::Result<()> + Sync,
    ) -> std::io::Result<()> {
        use rayon::prelude::*;
        let mut at = self
            .skeleton
            .windows(self.marker.len())
            .enumerate()
            .filter(|(_, x)| *x == self.marker)
            .map(|(i, _)| i + self.marker.len() - 2);
        let (Some(split), None) = (at.next(), at.next()) else {
            return Err(std::io::Error::other(
                "report without one place for its items",
            ));
        };
        let (head, tail) = self.skeleton.split_at(split);
        w.write_all(head)?;
        if items.is_empty() {
            w.write_all(b"[]")?;
        } else {
            let chunk = self.chunk.max(1);
            let window = (self.window_per_thread * rayon::current_num_threads().max(2)).max(1);
            let mut first = true;
            for window in items.chunks(window) {
                let prepared = prepare(window);
                let chunks = window
                    .par_chunks(chunk)
                    .enumerate()
                    .map(|(c, items)| -> std::io::Result<Vec<u8>> {
                        let mut buf = Vec::new();
                        let mut state = S::default();
                        for (i, item) in items.iter().enumerate() {
                            render(&mut buf, &mut state, c * chunk + i, item, &prepared)?;
                        }
                        Ok(buf)
                    })
                    .collect::<std::io::Result<Vec<Vec<u8>>>>()?;
                for c in &chunks {
                    // the first item's comma opens the array instead
                    if first {
                        w.write_all(b"[")?;
                        w.write_all(c.get(1..).unwrap_or_default())?;
                        first = false;
                    } else {
                        w.write_all(c)?;
                    }
                }
            }
            w.write_all(self.close)?;
            w.write_all(b"]")?;
        }
        w.write_all(tail.get(2..).unwrap_or_default())
    }
}

/// Runs `f` on a pool of `threads` threads (tests of the reports' parallel writers).
#[cfg(test)]
pub(crate) fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map(|pool| pool.install(f))
        .expect("a thread pool")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_base() {
        let base = Path::new("/repo");
        assert_eq!(display_path("/repo/k8s/a.yaml", Some(base)), "k8s/a.yaml");
        assert_eq!(display_path("./k8s/a.yaml", Some(base)), "k8s/a.yaml");
        assert_eq!(
            display_path("/elsewhere/a.yaml", Some(base)),
            "/elsewhere/a.yaml"
        );
        assert_eq!(display_path("<stdin>", None), "<stdin>");
    }
}
