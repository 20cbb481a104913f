//! Per-shard storage configuration. Each shard gets its own copy; validated once in
//! [`StoreConfig::validate`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::StorageError;

/// When an append is acknowledged (`flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushMode {
    /// SYNC_FLUSH: acknowledge after the covering `fdatasync`. Consumers see only durable data.
    Sync,
    /// ASYNC_FLUSH: acknowledge once the grouped `O_DIRECT` write holding the bytes completed
    /// (the bytes are beyond the process: a crash of the process cannot lose them);
    /// `fdatasync` runs every `interval_ms` when at least `least_pages` 4 KiB pages are dirty,
    /// and at least every `thorough_interval_ms` of [`StoreConfig`].
    Async {
        /// `flushIntervalCommitLog`. Default: 500.
        interval_ms: u64,
        /// `flushCommitLogLeastPages`. Default: 4.
        least_pages: u32,
    },
}

impl FlushMode {
    /// ASYNC_FLUSH with RocketMQ's defaults.
    #[must_use]
    pub fn async_default() -> Self {
        Self::Async {
            interval_ms: 500,
            least_pages: 4,
        }
    }
}

/// How recovery finds where to start scanning the commit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Scan (verify CRCs, re-dispatch) from the checkpoint's dispatched offset. Default.
    #[default]
    FromCheckpoint,
    /// Scan every segment from the first one and rebuild all consume queues and the index.
    Full,
}

/// Configuration of one shard's store. `Default` gives RocketMQ's defaults.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// This shard's directory. Default: `./store`.
    pub root_dir: PathBuf,
    /// Shard index, written into the top 16 bits of every physical offset. Default: 0.
    pub shard_index: u16,
    /// Commit-log segment size. Default: 1 GiB. Minimum: 64 KiB; multiple of 4 KiB.
    pub segment_size_bytes: u64,
    /// Flush mode. Default: ASYNC_FLUSH (500 ms, 4 pages), as RocketMQ.
    pub flush: FlushMode,
    /// SYNC_FLUSH deadline (`syncFlushTimeout`). Default: 5000.
    pub sync_flush_timeout_ms: u64,
    /// Full fsync at least this often under ASYNC_FLUSH (`flushCommitLogThoroughInterval`).
    /// Default: 10 000.
    pub flush_thorough_interval_ms: u64,
    /// `fileReservedTime` in hours. Default: 72.
    pub file_reserved_time_hours: u32,
    /// `deleteWhen` hour of day (UTC), 0..=23. Default: 4.
    pub delete_when_hour: u8,
    /// `diskMaxUsedSpaceRatio` percent: above it expired files are deleted at any hour.
    /// Default: 75. Range 10..=95.
    pub disk_max_used_space_ratio: u8,
    /// `diskSpaceCleanForciblyRatio` percent: above it the oldest segment is deleted even if
    /// not expired. Default: 85.
    pub disk_clean_forcibly_ratio: u8,
    /// `diskSpaceWarningLevelRatio` percent: above it appends are refused. Default: 90.
    pub disk_warning_level_ratio: u8,
    /// How often retention runs (`cleanResourceInterval`). Default: 10 000.
    pub clean_interval_ms: u64,
    /// Delay levels in ms (`messageDelayLevel`). Default: the 18 RocketMQ levels.
    pub delay_levels_ms: Vec<u64>,
    /// This broker's address, written as STOREHOST. Default: 127.0.0.1:10911.
    pub store_host: SocketAddr,
    /// Largest message or batch (`maxMessageSize`). Default: 4 MiB. Maximum: 64 MiB.
    pub message_bytes_max: usize,
    /// Consume-queue units per file. Default: 300 000 (6 000 000 bytes, as RocketMQ).
    pub consume_queue_units_per_file: u64,
    /// Write zeros over new segments before use (the fast path on this hardware). Default: true.
    pub segment_prewrite: bool,
    /// How often consume queues, index and checkpoint are persisted. Default: 1000.
    pub checkpoint_interval_ms: u64,
    /// How recovery starts. Default: `FromCheckpoint`.
    pub recovery: RecoveryMode,
    /// Index entries per index file before it is sealed. Default: 1 000 000.
    pub index_entries_per_file: u32,
    /// Maintain the key / unique-key index (`messageIndexEnable`). Default: true.
    pub index_enable: bool,
    /// End every record with RocketMQ's `__CRC32#` property, a CRC of the whole record
    /// (`enabledAppendPropCRC`, and `forceVerifyPropCRC` for records written with it; see
    /// [`crate::record_crc`]). Without it recovery checks only BODYCRC, so a record torn or
    /// damaged outside its body (header, topic, properties) can be accepted and served.
    /// Costs 20 bytes per record, visible to consumers as a property. Default: false (as
    /// RocketMQ).
    pub record_crc_enable: bool,
}

/// `messageDelayLevel` = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".
pub const DELAY_LEVELS_MS_DEFAULT: [u64; 18] = [
    1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000,
    480_000, 540_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000,
];

/// Smallest segment.
pub const SEGMENT_SIZE_BYTES_MIN: u64 = 64 * 1024;
/// Largest segment (local offsets have 48 bits).
pub const SEGMENT_SIZE_BYTES_MAX: u64 = 1 << 40;
/// Largest `message_bytes_max`.
pub const MESSAGE_BYTES_MAX_LIMIT: usize = 64 * 1024 * 1024;

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            root_dir: PathBuf::from("./store"),
            shard_index: 0,
            segment_size_bytes: 1 << 30,
            flush: FlushMode::async_default(),
            sync_flush_timeout_ms: 5_000,
            flush_thorough_interval_ms: 10_000,
            file_reserved_time_hours: 72,
            delete_when_hour: 4,
            disk_max_used_space_ratio: 75,
            disk_clean_forcibly_ratio: 85,
            disk_warning_level_ratio: 90,
            clean_interval_ms: 10_000,
            delay_levels_ms: DELAY_LEVELS_MS_DEFAULT.to_vec(),
            store_host: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 10911),
            message_bytes_max: 4 * 1024 * 1024,
            consume_queue_units_per_file: 300_000,
            segment_prewrite: true,
            checkpoint_interval_ms: 1_000,
            recovery: RecoveryMode::FromCheckpoint,
            index_entries_per_file: 1_000_000,
            index_enable: true,
            record_crc_enable: false,
        }
    }
}

impl StoreConfig {
    /// Small sizes for tests: 256 KiB segments, 1 000-unit consume-queue files.
    #[must_use]
    pub fn test_min(root_dir: PathBuf) -> Self {
        Self {
            root_dir,
            segment_size_bytes: 256 * 1024,
            consume_queue_units_per_file: 1_000,
            message_bytes_max: 64 * 1024,
            index_entries_per_file: 1_000,
            checkpoint_interval_ms: 100,
            ..Self::default()
        }
    }

    /// Checks every limit and relation.
    ///
    /// # Errors
    /// [`StorageError::Config`] naming the bad field.
    pub fn validate(&self) -> Result<(), StorageError> {
        let fail = |text: String| Err(StorageError::Config(text));
        if !(SEGMENT_SIZE_BYTES_MIN..=SEGMENT_SIZE_BYTES_MAX).contains(&self.segment_size_bytes)
            || !self
                .segment_size_bytes
                .is_multiple_of(crate::io::ALIGNMENT_BYTES)
        {
            return fail(format!(
                "segment_size_bytes {} must be a multiple of 4096 in [{SEGMENT_SIZE_BYTES_MIN}, {SEGMENT_SIZE_BYTES_MAX}]",
                self.segment_size_bytes
            ));
        }
        if self.message_bytes_max == 0 || self.message_bytes_max > MESSAGE_BYTES_MAX_LIMIT {
            return fail(format!(
                "message_bytes_max {} must be in [1, {MESSAGE_BYTES_MAX_LIMIT}]",
                self.message_bytes_max
            ));
        }
        // A segment must hold the largest record plus the blank marker.
        if (self.message_bytes_max as u64) + 4096 > self.segment_size_bytes {
            return fail(format!(
                "segment_size_bytes {} cannot hold a message of message_bytes_max {}",
                self.segment_size_bytes, self.message_bytes_max
            ));
        }
        if self.delete_when_hour > 23 {
            return fail(format!("delete_when_hour {} > 23", self.delete_when_hour));
        }
        let ratios = [
            self.disk_max_used_space_ratio,
            self.disk_clean_forcibly_ratio,
            self.disk_warning_level_ratio,
        ];
        if ratios.iter().any(|ratio| !(10..=99).contains(ratio)) {
            return fail(format!("disk ratios {ratios:?} must be in [10, 99]"));
        }
        if self.consume_queue_units_per_file == 0 {
            return fail("consume_queue_units_per_file must be > 0".into());
        }
        if self.sync_flush_timeout_ms == 0 {
            return fail("sync_flush_timeout_ms must be > 0".into());
        }
        if self.index_entries_per_file < 16 {
            return fail("index_entries_per_file must be >= 16".into());
        }
        if let FlushMode::Async { interval_ms, .. } = self.flush {
            if interval_ms == 0 {
                return fail("flush interval_ms must be > 0".into());
            }
        }
        Ok(())
    }
}
