//! The I/O seam: every file operation of the storage engine goes through [`FileSystem`] and
//! [`StorageFile`], so tests can swap the real files for [`sim::SimFileSystem`] (in memory,
//! tracks live vs durable bytes, fails or tears the Nth operation).
//!
//! Rules every caller follows (the `O_DIRECT` contract, enforced by the simulator too):
//! `write_at` positions and lengths are multiples of [`ALIGNMENT_BYTES`]; a write never
//! extends a file past what [`StorageFile::allocate`] reserved (the glommio trap: a
//! file-extending write stalls the shard for a scheduler tick).

pub mod dma;
pub mod sim;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;

/// Alignment of direct I/O positions and lengths.
pub const ALIGNMENT_BYTES: u64 = 4096;

/// A boxed, shard-local I/O future.
pub type IoFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + 'a>>;

/// Rounds `value` down to [`ALIGNMENT_BYTES`].
#[must_use]
pub fn align_down(value: u64) -> u64 {
    value & !(ALIGNMENT_BYTES - 1)
}

/// Rounds `value` up to [`ALIGNMENT_BYTES`].
#[must_use]
pub fn align_up(value: u64) -> u64 {
    (value + ALIGNMENT_BYTES - 1) & !(ALIGNMENT_BYTES - 1)
}

/// A directory tree of files.
pub trait FileSystem {
    /// Opens `path` for reading and writing, creating it (empty) if `create`.
    fn open<'a>(&'a self, path: &'a Path, create: bool) -> IoFuture<'a, Rc<dyn StorageFile>>;
    /// Removes a file.
    fn remove<'a>(&'a self, path: &'a Path) -> IoFuture<'a, ()>;
    /// Creates a directory and its parents.
    ///
    /// # Errors
    /// The operating error.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Names of the entries of a directory (empty if it does not exist), sorted.
    ///
    /// # Errors
    /// The operating error.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// True if `path` exists.
    fn exists(&self, path: &Path) -> bool;
    /// Removes an empty directory (best effort).
    fn remove_dir(&self, path: &Path);
    /// Last modification time of a file, ms since the epoch.
    ///
    /// # Errors
    /// The operating error.
    fn modified_ms(&self, path: &Path) -> io::Result<i64>;
}

/// One open file.
// `len` is an async file length, not a collection size: `is_empty` would add nothing.
#[allow(clippy::len_without_is_empty)]
pub trait StorageFile {
    /// Reads up to `len` bytes at `pos` (fewer at the end of the file). Any alignment.
    fn read_at(&self, pos: u64, len: usize) -> IoFuture<'_, Bytes>;
    /// Writes `data` at `pos`; both aligned to [`ALIGNMENT_BYTES`], inside the allocated size.
    fn write_at<'a>(&'a self, pos: u64, data: &'a [u8]) -> IoFuture<'a, ()>;
    /// `fdatasync`: everything written so far survives power loss when it returns.
    fn sync(&self) -> IoFuture<'_, ()>;
    /// Sets the length (shrinks, or grows with zeros).
    fn truncate(&self, len: u64) -> IoFuture<'_, ()>;
    /// Reserves space up to `len` bytes (the file reads as zeros there).
    fn allocate(&self, len: u64) -> IoFuture<'_, ()>;
    /// Current length.
    fn len(&self) -> IoFuture<'_, u64>;
    /// The path it was opened with.
    fn path(&self) -> PathBuf;
}
