//! Small JSON files under `<store>/config`: written to a temporary file and renamed, so a
//! crash leaves either the old or the new file. Blocking I/O: callers on a shard run it
//! through glommio's blocking pool.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically (temp file, fsync, rename, fsync directory).
///
/// # Errors
/// Any I/O error.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temporary = temporary_path(path);
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(contents)?;
        file.sync_data()?;
    }
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Reads a file; `Ok(None)` if it does not exist.
///
/// # Errors
/// Any other I/O error.
pub fn read_optional(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}
