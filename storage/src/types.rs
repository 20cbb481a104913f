//! Values crossing the store's API.

use std::net::SocketAddr;

use bytes::Bytes;

/// A message to append, as the broker hands it over (properties already serialized, `WAIT`
/// already stripped, topic/queue already final).
#[derive(Debug, Clone)]
pub struct MessageToStore {
    /// Topic.
    pub topic: String,
    /// Queue id.
    pub queue_id: u32,
    /// User flag.
    pub flag: i32,
    /// sysFlag (host bits are derived from the addresses).
    pub sys_flag: i32,
    /// Born timestamp (ms).
    pub born_timestamp_ms: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// Reconsume times.
    pub reconsume_times: i32,
    /// Prepared transaction offset.
    pub prepared_transaction_offset: i64,
    /// Body as stored.
    pub body: Bytes,
    /// Serialized properties.
    pub properties: String,
}

/// Where an appended message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    /// Commit-log offset (shard index in the top 16 bits).
    pub physical_offset: u64,
    /// Consume-queue offset (0 for PREPARED / ROLLBACK transaction records).
    pub queue_offset: u64,
    /// Record size.
    pub wrote_bytes: u32,
    /// Store time.
    pub store_timestamp_ms: i64,
    /// Offset message id (32 / 56 hex chars).
    pub message_id: String,
}

/// Outcome of a read (`GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// Messages found.
    Found,
    /// Units scanned, none matched the filter.
    NoMatchedMessage,
    /// The queue is empty (or unknown).
    NoMessageInQueue,
    /// The units point at deleted commit log.
    OffsetFoundNull,
    /// Offset == max offset (nothing new yet).
    OffsetOverflowOne,
    /// Offset > max offset.
    OffsetOverflowBadly,
    /// Offset < min offset.
    OffsetTooSmall,
}

/// Result of [`crate::Store::read`].
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// Status.
    pub status: ReadStatus,
    /// Exact stored bytes of each record.
    pub records: Vec<Bytes>,
    /// Where the next read should start.
    pub next_begin_offset: u64,
    /// Queue min offset.
    pub min_offset: u64,
    /// Queue max offset.
    pub max_offset: u64,
}

/// Which end of a run of equal store times [`crate::Store::offset_by_time`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// The first offset whose store time is `>=` the timestamp.
    Lower,
    /// The last offset whose store time is `<=` the timestamp.
    Upper,
}

/// Consumer-side filter applied during reads.
pub trait MessageFilter {
    /// Check on the consume-queue tags code (tag filter).
    fn matches_tags_code(&self, tags_code: i64) -> bool;
    /// Check on the stored record (property / SQL filter).
    fn matches_record(&self, record: &[u8]) -> bool;
}

/// A filter that accepts everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl MessageFilter for AcceptAll {
    fn matches_tags_code(&self, _tags_code: i64) -> bool {
        true
    }
    fn matches_record(&self, _record: &[u8]) -> bool {
        true
    }
}

/// Counters of one store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Messages appended.
    pub messages_appended: u64,
    /// Commit-log bytes written by direct writes (including page rewrites).
    pub bytes_written: u64,
    /// Direct writes issued.
    pub writes: u64,
    /// fdatasync calls on the commit log.
    pub fsyncs: u64,
    /// Record bytes made durable per fsync, averaged.
    pub bytes_per_fsync: u64,
    /// Durable physical end offset.
    pub durable_offset: u64,
    /// Visible physical end offset.
    pub visible_offset: u64,
    /// Next append physical offset.
    pub write_offset: u64,
    /// First kept physical offset.
    pub min_offset: u64,
    /// Segments deleted by retention.
    pub segments_deleted: u64,
    /// True if the last open found the abort marker (crash recovery ran).
    pub recovered_from_crash: bool,
    /// Records re-dispatched during recovery.
    pub recovered_records: u64,
    /// Disk usage ratio (percent) at the last retention run.
    pub disk_used_ratio_percent: u8,
    /// Appends that found the next segment not prepared yet and waited for it.
    pub segment_waits: u64,
}
