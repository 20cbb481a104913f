//! Messages as they travel and as they are stored: properties, ids, the stored-message record
//! and the batch body. Pure codec: no I/O, no clock (callers pass the time in).
//!
//! # Layout
//!
//! - [`properties`]: the `name \u{1} value \u{2}` string, its keys, and [`java_string_hash`]
//!   (tags code, index key hash).
//! - [`id`]: the offset message id (store host + commit-log offset) and the client-made unique
//!   id (`UNIQ_KEY`).
//! - [`record`]: the stored-message record (commit log = pull body = query body), its field
//!   positions so storage can patch in place, and the end-of-segment blank marker.
//! - [`batch`]: the batch send body (`SEND_BATCH_MESSAGE`).
//! - [`sys_flag`]: the `sysFlag` bits.
//!
//! Every multi-byte integer is big-endian. Decoders take `&[u8]`, return
//! `(value, consumed_bytes)` and report malformed input as [`crate::WireError`]; they never
//! panic on any input.

pub mod batch;
pub mod id;
pub mod properties;
pub mod record;
pub mod sys_flag;

pub use batch::{BatchEntry, BatchIter};
pub use id::{OffsetMessageId, UniqueId, UniqueIdGenerator};
pub use properties::{java_string_hash, tags_code, Properties};
pub use record::{LogEntry, RecordFields, RecordView};
