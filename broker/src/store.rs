//! The storage seam: one `storage::Store` per shard, used as `Rc<Store>` on that shard's
//! executor. Re-exported here so the broker names one place for it.

pub use storage::{
    AppendError, AppendResult, Boundary, FlushMode, MessageFilter, MessageToStore, ReadResult,
    ReadStatus, StorageError, Store, StoreConfig, StoreStats,
};

/// The shard a physical offset belongs to (`shard << 48 | local`).
#[must_use]
pub fn shard_of_physical_offset(physical_offset: u64) -> u16 {
    storage::commit_log::shard_of(physical_offset)
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
