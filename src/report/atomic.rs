//! Atomic output files: write a temporary file beside the target, flush it to disk, and
//! rename it over the target, so readers see the old file or the whole new one, never a
//! half-written one, and a failed run leaves no temporary file behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The temporary file `write` uses for `path` (hidden, in the same directory).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.kanon-{}-{n}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically. Errors are lowercase sentences naming the path.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_with(path, |w| w.write_all(bytes))
}

/// Writes what `fill` produces to `path` atomically, streamed through a buffer.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let shown = path.display();
    if path.file_name().is_none() {
        return Err(format!("cannot write `{shown}`: not a file name"));
    }
    let tmp = temp_path(path);
    let attempt = || -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut buf = std::io::BufWriter::with_capacity(1 << 16, f);
        fill(&mut buf)?;
        let f = buf
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    };
    if let Err(e) = attempt() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write `{shown}`: {e}"));
    }
    // make the rename itself durable where the platform allows opening a directory
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("kanon-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("out.txt");
        write(&f, b"one").unwrap();
        write(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
        let missing = dir.join("no/such/dir/out.txt");
        let e = write(&missing, b"x").unwrap_err();
        assert!(e.starts_with("cannot write `"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
