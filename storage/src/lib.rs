//! One shard's durable state: commit log, consume queues, index, checkpoint, recovery and
//! retention. Single-threaded (one glommio executor per shard), no networking.
//!
//! # Layout
//!
//! - [`io`]: the I/O seam ([`io::FileSystem`], [`io::StorageFile`]) with the glommio
//!   `DmaFile` implementation and an in-memory fault-injecting one ([`io::sim`]).
//! - [`commit_log`]: segments, group buffers, offset assignment (byte diagram there);
//!   `prewrite.rs`: preparing the next segment in the background.
//! - [`consume_queue`]: the 20-byte RocketMQ unit per (topic, queue).
//! - [`index`]: lookup by `KEYS` / `UNIQ_KEY` with a time range.
//! - [`checkpoint`], [`recovery`]: where a restart resumes, torn-tail handling;
//!   [`record_crc`]: the optional whole-record CRC that lets recovery see damage outside the
//!   body.
//! - [`retention`]: file reserved time, delete hour, disk ratios, the write guard.
//! - [`Store`]: the API the broker uses (`store.rs`, reads in `read.rs`).
//!
//! The record format is RocketMQ's stored message, encoded by `protocol::message::record`
//! (so a pull is a copy of stored bytes). Files of our own (checkpoint, index header) say
//! their byte order in their module docs.
//!
//! # Flush modes and what an acknowledgement means
//!
//! | mode | append returns when | survives process crash | survives power loss |
//! |---|---|---|---|
//! | SYNC_FLUSH | a covering `fdatasync` returned | yes | yes |
//! | ASYNC_FLUSH | the grouped `O_DIRECT` write holding it completed | yes | no: acknowledged data since the last fdatasync (at most `interval_ms`, or `flush_thorough_interval_ms` below `least_pages`) may be lost |
//!
//! Under SYNC_FLUSH consumers see only durable records; under ASYNC_FLUSH, records whose
//! write completed.
//!
//! # Deviations from the agreed API contract
//!
//! - `Store::open_with(config, fs, probe)` is added for tests (simulated I/O, disk probe).
//! - `ReadStatus` has no `NoMatchedLogicQueue`: an unknown queue reads as `NoMessageInQueue`.
//! - `AcceptAll` filter, `Store::checkpoint_now`, `Store::run_retention_once` and
//!   `Store::config` are extra.
//! - `StoreConfig` has extra fields with defaults (see its docs); `FlushMode::Async` fields
//!   are `interval_ms` and `least_pages` as agreed.
//! - Physical offsets carry the shard index in the top 16 bits (`shard << 48 | local`).
//! - `StoreStats` also has `messages_appended`, `writes`, `visible_offset`, `write_offset`,
//!   `segments_deleted`, `recovered_from_crash`, `recovered_records`,
//!   `disk_used_ratio_percent`.
//!
//! # glommio trap found here (for every crate that opens `DmaFile`s)
//!
//! glommio probes io-poll support once per block device by reading from the *first*
//! `DmaFile` opened on it. If that file is empty the probe "succeeds", the device is marked
//! pollable, and every later read fails with `EOPNOTSUPP` on a disk without poll queues (this
//! VM). [`io::dma::DmaFileSystem`] therefore opens a non-empty probe file first.
//!
//! # Tests
//!
//! `tests/crash_sim.rs` (torn / failed operations, power loss and process crash on the
//! simulator), `tests/kill9.rs` (SIGKILL of a real child process: the test binary re-executes
//! itself as the child instead of a separate example), `tests/recovery_fuzz.rs` (proptest: a
//! randomly damaged log tail), `tests/index_rebuild.rs` (lost, truncated, stale index files),
//! `tests/segment_prepare.rs`, `tests/retention.rs`, `tests/store_basic.rs`; the benchmark is
//! `examples/append_bench.rs`.

pub mod checkpoint;
pub mod commit_log;
mod config;
pub mod consume_queue;
mod error;
pub mod index;
pub mod io;
mod notify;
mod prewrite;
mod read;
pub mod record_crc;
pub mod recovery;
pub mod retention;
mod store;
mod types;

pub use config::{FlushMode, RecoveryMode, StoreConfig, DELAY_LEVELS_MS_DEFAULT};
pub use error::{AppendError, StorageError};
pub use store::Store;
pub use types::{
    AcceptAll, AppendResult, Boundary, MessageFilter, MessageToStore, ReadResult, ReadStatus,
    StoreStats,
};
