//! Atomic output files: write a temporary file beside the target, flush it to disk, and
//! rename it over the target, so readers see the old file or the whole new one, never a
//! half-written one, and a failed run leaves no temporary file behind.

use std::io::Write as _;
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

/// Writes what `fill` produces to `path` atomically, streamed through a buffer. Only a
/// regular file (or a new one) is replaced: a device (`/dev/null`), a pipe, a socket or a
/// symbolic link (`/dev/stdout`) is written in place, since renaming over it would
/// replace the device or the link with a plain file.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let shown = path.display();
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if !m.file_type().is_file() {
            return write_in_place(path, fill).map_err(|e| format!("cannot write `{shown}`: {e}"));
        }
    }
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

/// Writes to an existing path that is not a regular file: through a symbolic link to
/// what it names (truncating a regular file there), or into a device or pipe.
fn write_in_place(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let target = std::fs::metadata(path)?;
    if target.is_dir() {
        return Err(std::io::Error::other("it is a directory"));
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(target.is_file())
        .open(path)?;
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, f);
    fill(&mut buf)?;
    buf.flush()
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

    /// A device stays a device: `-o /dev/null` once replaced `/dev/null` (running as root)
    /// with a plain file.
    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt as _;
        let null = Path::new("/dev/null");
        write(null, b"discarded").unwrap();
        let m = std::fs::symlink_metadata(null).unwrap();
        assert!(m.file_type().is_char_device(), "{m:?}");
    }

    /// A symbolic link stays a link, and the file it names gets the new contents.
    #[cfg(unix)]
    #[test]
    fn links_are_written_through() {
        let dir = std::env::temp_dir().join(format!("kanon-atomic-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target.txt");
        std::fs::write(&target, b"an older and longer text").unwrap();
        let link = dir.join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let e = write(&dir, b"x").unwrap_err();
        assert!(e.contains("it is a directory"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
