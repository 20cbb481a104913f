//! Retention and the disk guard (`CleanCommitLogService`, `CleanConsumeQueueService`).
//!
//! Every `clean_interval_ms` (background task queue, never on the append path):
//! - disk usage `>= disk_warning_level_ratio` (90): appends are refused with
//!   [`crate::AppendError::DiskFull`] whose text states the ratios; below it they resume;
//! - segments older than `file_reserved_time_hours` are deleted when the hour (UTC) is
//!   `delete_when_hour`, or at any hour when usage `> disk_max_used_space_ratio` (75);
//! - usage `> disk_clean_forcibly_ratio` (85): the oldest segments are deleted even if not
//!   expired;
//! - at most [`SEGMENTS_DELETED_PER_RUN_MAX`] segments per run; never the segment being
//!   written. Consume-queue and index files wholly below the new minimum are deleted, and queue
//!   min offsets move past units that point at deleted log.

use std::io;
use std::path::Path;

use crate::commit_log::LOCAL_OFFSET_MASK;
use crate::store::Store;
use crate::StorageError;

/// Most segments deleted in one run.
pub const SEGMENTS_DELETED_PER_RUN_MAX: usize = 10;

/// Reports how full the disk holding the store is.
pub trait DiskUsageProbe {
    /// Used space in percent (0..=100) of the file system holding `path`.
    ///
    /// # Errors
    /// The operating error.
    fn used_ratio_percent(&self, path: &Path) -> io::Result<u8>;
}

/// `statvfs(2)`: `(blocks - blocks_free) / blocks`.
#[derive(Debug, Default, Clone, Copy)]
pub struct StatvfsProbe;

impl DiskUsageProbe for StatvfsProbe {
    fn used_ratio_percent(&self, path: &Path) -> io::Result<u8> {
        let stat = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
        let total = stat.blocks();
        if total == 0 {
            return Ok(0);
        }
        let used = total.saturating_sub(stat.blocks_free());
        Ok(u8::try_from(used * 100 / total).unwrap_or(100))
    }
}

/// A probe returning a settable ratio (tests).
#[derive(Debug, Default)]
pub struct FixedProbe {
    ratio: std::cell::Cell<u8>,
}

impl FixedProbe {
    /// A probe reporting `ratio` percent.
    #[must_use]
    pub fn new(ratio: u8) -> Self {
        Self {
            ratio: std::cell::Cell::new(ratio),
        }
    }

    /// Changes the reported ratio.
    pub fn set(&self, ratio: u8) {
        self.ratio.set(ratio);
    }
}

impl DiskUsageProbe for FixedProbe {
    fn used_ratio_percent(&self, _path: &Path) -> io::Result<u8> {
        Ok(self.ratio.get())
    }
}

/// What one retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Disk usage seen.
    pub used_ratio_percent: u8,
    /// Appends refused after this run.
    pub writes_refused: bool,
    /// Segments deleted.
    pub segments_deleted: usize,
    /// Consume-queue files deleted.
    pub queue_files_deleted: usize,
    /// Index files deleted.
    pub index_files_deleted: usize,
}

fn hour_of_day_utc(now_ms: i64) -> u8 {
    u8::try_from(now_ms.div_euclid(3_600_000).rem_euclid(24)).unwrap_or(0)
}

impl Store {
    /// One retention pass at time `now_ms` (called by the background task; public for tests
    /// and admin commands such as `deleteExpiredCommitLog`).
    ///
    /// # Errors
    /// I/O errors while deleting.
    pub async fn run_retention_once(&self, now_ms: i64) -> Result<RetentionReport, StorageError> {
        let config = &self.config;
        let ratio = self
            .probe
            .used_ratio_percent(&config.root_dir)
            .map_err(|e| StorageError::io(&config.root_dir, e))?;
        let mut report = RetentionReport {
            used_ratio_percent: ratio,
            ..RetentionReport::default()
        };
        self.stats.borrow_mut().disk_used_ratio_percent = ratio;
        let refuse = ratio >= config.disk_warning_level_ratio;
        {
            let mut log = self.log.borrow_mut();
            let was = log.disk_full.is_some();
            log.disk_full = refuse.then(|| {
                let used = f64::from(ratio) / 100.0;
                format!(
                    "the broker's disk is full [CL: {used:.2} CQ: {used:.2} INDEX: {used:.2}], disk used {ratio}% >= diskSpaceWarningLevelRatio {}% (diskMaxUsedSpaceRatio {}%, diskSpaceCleanForciblyRatio {}%)",
                    config.disk_warning_level_ratio,
                    config.disk_max_used_space_ratio,
                    config.disk_clean_forcibly_ratio
                )
            });
            if refuse != was {
                tracing::warn!(target: "storage", ratio, refuse, "disk guard changed");
            }
        }
        report.writes_refused = refuse;
        let time_up = hour_of_day_utc(now_ms) == config.delete_when_hour;
        let space_full = ratio > config.disk_max_used_space_ratio;
        let force = ratio > config.disk_clean_forcibly_ratio;
        if !(time_up || space_full || force) {
            return Ok(report);
        }
        let reserved_ms = i64::from(config.file_reserved_time_hours) * 3_600_000;
        let candidates: Vec<(u64, std::path::PathBuf)> = {
            let log = self.log.borrow();
            let writing = log.write_local / log.segment_size_bytes * log.segment_size_bytes;
            log.segments
                .iter()
                .filter(|(base, _)| **base < writing)
                .map(|(base, segment)| (*base, segment.file.path()))
                .collect()
        };
        let mut deleted_up_to = None;
        for (base, path) in candidates.into_iter().take(SEGMENTS_DELETED_PER_RUN_MAX) {
            let modified = self.fs.modified_ms(&path).unwrap_or(now_ms);
            let expired = modified.saturating_add(reserved_ms) <= now_ms;
            if !(expired || force) {
                break;
            }
            let next_min = base + self.config.segment_size_bytes;
            {
                let mut log = self.log.borrow_mut();
                log.segments.remove(&base);
                log.min_local = log.min_local.max(next_min);
            }
            self.fs
                .remove(&path)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            report.segments_deleted += 1;
            deleted_up_to = Some(next_min);
            tracing::info!(target: "storage", segment = %path.display(), expired, force, ratio, "segment deleted");
        }
        self.stats.borrow_mut().segments_deleted += report.segments_deleted as u64;
        if let Some(min_local) = deleted_up_to {
            let (queues, index) = self.trim_below(min_local).await?;
            report.queue_files_deleted = queues;
            report.index_files_deleted = index;
        }
        Ok(report)
    }

    /// Moves consume-queue min offsets past units below `min_local` and deletes whole
    /// consume-queue and index files there.
    async fn trim_below(&self, min_local: u64) -> Result<(usize, usize), StorageError> {
        let keys: Vec<(String, u32)> = self.queues.borrow().keys().cloned().collect();
        let mut removed_paths = Vec::new();
        for key in keys {
            // Binary search the first unit at or past min_local.
            let (mut low, mut high) = match self.queues.borrow().get(&key) {
                Some(queue) => (queue.min_offset(), queue.max_offset()),
                None => continue,
            };
            while low < high {
                let mid = low + (high - low) / 2;
                let plan = match self.queues.borrow().get(&key) {
                    Some(queue) => queue.plan_read(mid, 1),
                    None => break,
                };
                let unit = plan.run().await?.and_then(|units| units.first().copied());
                let below =
                    unit.is_none_or(|u| (u.physical_offset & LOCAL_OFFSET_MASK) < min_local);
                if below {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            if let Some(queue) = self.queues.borrow_mut().get_mut(&key) {
                queue.set_min_offset(low);
                removed_paths.extend(queue.drop_files_below(low));
            }
        }
        let queue_files = removed_paths.len();
        let index_paths = self.index.borrow_mut().drop_files_below(min_local);
        let index_files = index_paths.len();
        for path in removed_paths.into_iter().chain(index_paths) {
            self.fs
                .remove(&path)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
        }
        Ok((queue_files, index_files))
    }
}
