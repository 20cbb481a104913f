//! Segment preparation: allocate the next commit-log segment and pre-write it with zeros, so an
//! append never extends a file or converts unwritten extents (glommio trap: a file-extending
//! write stalls the shard for a scheduler tick; writes into allocated but unwritten space
//! need metadata changes at fdatasync).
//!
//! Recovery prepares the tail segment at full speed with 1 MiB writes ([`prepare_segment`]):
//! nothing else runs yet. While the store is open, the preparer task (background task queue)
//! prepares the next segment as soon as the writer rolls into the previous one, so it is ready
//! long before it is needed (an append that finds it not ready waits, counted in
//! `StoreStats::segment_waits`). Its pre-write competes with appends for the disk, so it uses
//! [`PREWRITE_CHUNK_BYTES`] writes, one in flight: an append's write queued behind one waits
//! about 0.2 ms instead of about 0.8 ms behind a 1 MiB write (`examples/append_bench.rs`, 64
//! writers: append p99 about halved in both flush modes against 1 MiB writes; p99.9 and max
//! within run-to-run noise). Pacing the pre-write to the writer's progress (a 2 ms timer,
//! done when the active segment is half full) was tried and measured worse at p99.9 than
//! back-to-back writes, so it runs back to back. The segment is handed to the writer only once pre-written and synced,
//! so appends into it need no metadata change; shutdown stops an unfinished pre-write (the
//! file is past the log end and removed at the next open).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::commit_log::{self, Segment};
use crate::io::{align_up, FileSystem, StorageFile};
use crate::store::{Store, IO_CHUNK_BYTES};
use crate::StorageError;

/// One pre-write of the background preparer: small enough that an append's write queued
/// behind it waits well under a millisecond.
pub const PREWRITE_CHUNK_BYTES: usize = 256 * 1024;

const _: () = assert!((PREWRITE_CHUNK_BYTES as u64).is_multiple_of(crate::io::ALIGNMENT_BYTES));

fn segment_path(root: &Path, base: u64) -> PathBuf {
    root.join(crate::recovery::COMMIT_LOG_DIR)
        .join(commit_log::segment_file_name(base))
}

/// Opens (creating) and allocates segment `base`; returns the file and where pre-writing
/// starts (after the page holding the old end, so records of a truncated segment are kept).
async fn open_allocated(
    fs: &dyn FileSystem,
    path: &Path,
    size: u64,
) -> Result<(Rc<dyn StorageFile>, u64), StorageError> {
    let io_error = |e| StorageError::io(path, e);
    let file = fs.open(path, true).await.map_err(io_error)?;
    let current = file.len().await.map_err(io_error)?;
    file.allocate(size).await.map_err(io_error)?;
    Ok((file, align_up(current).min(size)))
}

/// Creates, allocates and (optionally) zero-fills a segment at full speed, then syncs it.
pub(crate) async fn prepare_segment(
    fs: &dyn FileSystem,
    root: &Path,
    base: u64,
    size: u64,
    prewrite: bool,
) -> Result<Segment, StorageError> {
    let path = segment_path(root, base);
    let (file, mut at) = open_allocated(fs, &path, size).await?;
    if prewrite {
        let zeros = vec![0u8; IO_CHUNK_BYTES];
        while at < size {
            let len = usize::try_from((size - at).min(IO_CHUNK_BYTES as u64)).unwrap_or(0);
            file.write_at(at, &zeros[..len])
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            at += len as u64;
        }
    }
    file.sync().await.map_err(|e| StorageError::io(&path, e))?;
    Ok(Segment { base, file })
}

impl Store {
    /// Keeps the next segment prepared (allocated and pre-written) ahead of the writer.
    pub(crate) async fn run_segment_preparer(self: Rc<Self>) {
        loop {
            if self.stopping.get() || self.log.borrow().failed.is_some() {
                break;
            }
            let base = {
                let mut log = self.log.borrow_mut();
                if log.next_segment.is_some() || log.preparing {
                    None
                } else {
                    log.preparing = true;
                    let last = log.segments.keys().next_back().copied().unwrap_or(0);
                    Some(last + log.segment_size_bytes)
                }
            };
            let Some(base) = base else {
                self.segment_wanted.wait().await;
                continue;
            };
            let result = self.prepare_next(base).await;
            {
                let mut log = self.log.borrow_mut();
                log.preparing = false;
                match result {
                    Ok(Some(segment)) => log.next_segment = Some(segment),
                    // Stopping: the partial file is past the log end, removed at the next open.
                    Ok(None) => break,
                    Err(error) => {
                        drop(log);
                        self.fail(format!("preparing segment {base} failed: {error}"));
                        break;
                    }
                }
            }
            self.segment_ready.notify();
        }
    }

    /// Prepares segment `base` in [`PREWRITE_CHUNK_BYTES`] writes; `None` if the store stops
    /// (or fails) meanwhile.
    async fn prepare_next(&self, base: u64) -> Result<Option<Segment>, StorageError> {
        let size = self.config.segment_size_bytes;
        let path = segment_path(&self.config.root_dir, base);
        let (file, mut at) = open_allocated(self.fs.as_ref(), &path, size).await?;
        if self.config.segment_prewrite {
            let zeros = vec![0u8; PREWRITE_CHUNK_BYTES];
            while at < size {
                if self.stopping.get() || self.log.borrow().failed.is_some() {
                    return Ok(None);
                }
                let len =
                    usize::try_from((size - at).min(PREWRITE_CHUNK_BYTES as u64)).unwrap_or(0);
                file.write_at(at, &zeros[..len])
                    .await
                    .map_err(|e| StorageError::io(&path, e))?;
                at += len as u64;
            }
        }
        file.sync().await.map_err(|e| StorageError::io(&path, e))?;
        Ok(Some(Segment { base, file }))
    }
}
