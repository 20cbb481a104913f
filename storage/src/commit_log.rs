//! The commit log of one shard: fixed-size segments of RocketMQ stored-message records.
//!
//! ```text
//! commitlog/{20-digit local start offset}     segment_size_bytes each (default 1 GiB)
//! +----------+----------+-----+----------+--------------------------+-----------------+
//! | record 0 | record 1 | ... | record n | blank marker [len][magic]| zeros (padding) |
//! +----------+----------+-----+----------+--------------------------+-----------------+
//! ```
//!
//! Segments are allocated and pre-written with zeros before use (a background task keeps the
//! next one ready), so an append never extends a file and the end of the data is the first
//! zero TOTALSIZE. A record never spans segments: when `size + 8 > remaining`, the blank
//! marker is written and the next segment starts.
//!
//! **Physical offsets** name their shard: `physical = (shard_index << 48) | local`, where
//! `local` is the byte position in this shard's log (the segment file name is the local
//! start offset). `VIEW_MESSAGE_BY_ID` routes on the top 16 bits.
//!
//! **Write path.** Appends encode records into the current [`Group`] buffer synchronously
//! (offsets assigned, run to completion); the flusher task writes whole groups with one
//! aligned direct write each (the partial last 4 KiB page is copied into the next group and
//! rewritten), then `fdatasync` (SYNC_FLUSH) and completes every append the write/sync covers.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;

use bytes::BytesMut;
use protocol::message::id::OffsetMessageId;
use protocol::message::properties::{self, keys};
use protocol::message::record::{encode_blank_marker, RecordFields, BLANK_MARKER_BYTES};
use protocol::message::sys_flag;

use crate::io::{align_down, StorageFile};
use crate::record_crc;
use crate::{AppendError, AppendResult, MessageToStore};

/// Bits of the local offset inside a physical offset.
pub const LOCAL_OFFSET_BITS: u32 = 48;
/// Mask of the local offset.
pub const LOCAL_OFFSET_MASK: u64 = (1 << LOCAL_OFFSET_BITS) - 1;
/// Topic of delay-level messages; its consume-queue tags code is the deliver time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
/// Extra room a batch may take beyond `message_bytes_max` (record headers of its messages).
pub const BATCH_OVERHEAD_BYTES_MAX: usize = 256 * 1024;

/// Physical offset of a local offset on a shard.
#[must_use]
pub fn physical_offset(shard_index: u16, local: u64) -> u64 {
    debug_assert!(local <= LOCAL_OFFSET_MASK);
    (u64::from(shard_index) << LOCAL_OFFSET_BITS) | local
}

/// The shard a physical offset belongs to.
#[must_use]
pub fn shard_of(physical: u64) -> u16 {
    u16::try_from(physical >> LOCAL_OFFSET_BITS).unwrap_or(u16::MAX)
}

/// File name of the segment starting at `local`.
#[must_use]
pub fn segment_file_name(local: u64) -> String {
    format!("{local:020}")
}

/// One open segment.
#[derive(Clone)]
pub struct Segment {
    /// Local start offset.
    pub base: u64,
    /// The file.
    pub file: Rc<dyn StorageFile>,
}

/// Bytes of one segment being accumulated or written: `buf` holds the segment bytes starting
/// at `file_pos` (4 KiB aligned).
pub struct Group {
    /// The segment.
    pub segment: Segment,
    /// Aligned position of `buf[0]` in the segment.
    pub file_pos: u64,
    /// The bytes.
    pub buf: BytesMut,
}

impl Group {
    /// Local offset one past the last byte.
    #[must_use]
    pub fn end_local(&self) -> u64 {
        self.segment.base + self.file_pos + self.buf.len() as u64
    }
}

/// What dispatch needs of an appended record.
#[derive(Debug, Clone)]
pub struct DispatchEntry {
    /// Local offset one past the record.
    pub end_local: u64,
    /// Topic.
    pub topic: String,
    /// Queue id.
    pub queue_id: u32,
    /// Queue offset (meaningless if `to_queue` is false).
    pub queue_offset: u64,
    /// Physical offset.
    pub physical_offset: u64,
    /// Record size.
    pub size: u32,
    /// Tags code for the unit.
    pub tags_code: i64,
    /// Store time.
    pub store_timestamp_ms: i64,
    /// False for PREPARED / ROLLBACK transaction records.
    pub to_queue: bool,
    /// `KEYS` entries and `UNIQ_KEY`, for the index.
    pub index_keys: Vec<String>,
}

/// Why an append cannot proceed right now.
pub enum Blocked {
    /// The next segment is not prepared yet.
    NeedSegment,
    /// All group buffers are in use.
    NeedBuffer,
    /// A final error.
    Failed(AppendError),
}

/// The commit log's write-side state (inside the store's `RefCell`; never borrowed across an
/// `.await`).
pub struct LogState {
    /// Shard index (top bits of physical offsets).
    pub shard_index: u16,
    /// Segment size.
    pub segment_size_bytes: u64,
    /// Open segments by local base.
    pub segments: BTreeMap<u64, Segment>,
    /// The prepared next segment.
    pub next_segment: Option<Segment>,
    /// A preparation is running.
    pub preparing: bool,
    /// Next append position.
    pub write_local: u64,
    /// Group being filled.
    pub current: Option<Group>,
    /// Full groups waiting for the flusher.
    pub sealed: VecDeque<Group>,
    /// Reusable buffers.
    pub free_buffers: Vec<BytesMut>,
    /// Buffers in existence.
    pub buffers_total: usize,
    /// Most buffers.
    pub buffers_max: usize,
    /// Capacity of one group buffer.
    pub group_bytes_max: usize,
    /// Direct writes completed up to here.
    pub written_local: u64,
    /// fdatasync covered up to here.
    pub durable_local: u64,
    /// Readers and consume queues see up to here.
    pub visible_local: u64,
    /// Set after a write/fsync error: the log refuses writes until reopened.
    pub failed: Option<String>,
    /// Records appended but not yet dispatched.
    pub pending_dispatch: VecDeque<DispatchEntry>,
    /// First kept local offset.
    pub min_local: u64,
    /// Next queue offset per (topic, queue id).
    pub next_queue_offset: HashMap<(String, u32), u64>,
    /// Store time of the last visible record.
    pub last_store_timestamp_ms: i64,
    /// Set when disk usage is above the warning ratio: the refusal text.
    pub disk_full: Option<String>,
    /// Log end when the store was opened (for bytes-per-fsync).
    pub opened_at_local: u64,
}

/// Per-append values [`LogState::append`] needs from the config.
pub struct AppendContext<'a> {
    /// Store host for STOREHOST and message ids.
    pub store_host: std::net::SocketAddr,
    /// Delay levels for the schedule topic's tags code.
    pub delay_levels_ms: &'a [u64],
    /// Largest message body / batch.
    pub message_bytes_max: usize,
    /// Now.
    pub now_ms: i64,
    /// Collect index keys.
    pub index_enable: bool,
    /// End every record with the whole-record CRC property ([`crate::record_crc`]).
    pub record_crc: bool,
}

fn tags_code_of(message: &MessageToStore, store_timestamp_ms: i64, delay_levels_ms: &[u64]) -> i64 {
    if message.topic == SCHEDULE_TOPIC {
        if let Some(level) = properties::find(&message.properties, keys::DELAY)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|level| *level > 0)
        {
            let level = level.min(delay_levels_ms.len());
            if let Some(delay) = delay_levels_ms.get(level.saturating_sub(1)) {
                return store_timestamp_ms + i64::try_from(*delay).unwrap_or(i64::MAX);
            }
        }
    }
    properties::tags_code(properties::find(&message.properties, keys::TAGS))
}

fn index_keys_of(message: &MessageToStore) -> Vec<String> {
    let mut out: Vec<String> = properties::find(&message.properties, keys::KEYS)
        .unwrap_or("")
        .split(' ')
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unique) = properties::find(&message.properties, keys::UNIQ_KEY) {
        out.push(unique.to_owned());
    }
    out
}

impl LogState {
    fn fields<'a>(
        message: &'a MessageToStore,
        properties: &'a str,
        store_host: std::net::SocketAddr,
    ) -> RecordFields<'a> {
        RecordFields {
            queue_id: i32::try_from(message.queue_id).unwrap_or(i32::MAX),
            flag: message.flag,
            queue_offset: 0,
            physical_offset: 0,
            sys_flag: message.sys_flag,
            born_timestamp_ms: message.born_timestamp_ms,
            born_host: message.born_host,
            store_timestamp_ms: 0,
            store_host,
            reconsume_times: message.reconsume_times,
            prepared_transaction_offset: message.prepared_transaction_offset,
            body: &message.body,
            topic: &message.topic,
            properties,
        }
    }

    fn take_buffer(&mut self) -> Option<BytesMut> {
        if let Some(mut buf) = self.free_buffers.pop() {
            buf.clear();
            return Some(buf);
        }
        if self.buffers_total < self.buffers_max {
            self.buffers_total += 1;
            return Some(BytesMut::with_capacity(self.group_bytes_max + 4096));
        }
        None
    }

    /// A new group for `segment` starting at local `at`, with the partial page before `at`
    /// copied from `previous` (if it covers it).
    fn start_group(
        &mut self,
        segment: Segment,
        at: u64,
        previous: Option<&Group>,
    ) -> Option<Group> {
        let mut buf = self.take_buffer()?;
        let in_segment = at - segment.base;
        let file_pos = align_down(in_segment);
        if let Some(previous) = previous {
            if previous.segment.base == segment.base {
                let from = usize::try_from(
                    segment.base + file_pos - (previous.segment.base + previous.file_pos),
                )
                .unwrap_or(0);
                let to =
                    usize::try_from(at - (previous.segment.base + previous.file_pos)).unwrap_or(0);
                buf.extend_from_slice(&previous.buf[from..to]);
            }
        }
        debug_assert_eq!(buf.len() as u64, in_segment - file_pos);
        Some(Group {
            segment,
            file_pos,
            buf,
        })
    }

    /// Installs `group` as the current one (used by recovery with the tail page loaded).
    pub fn set_current(&mut self, group: Group) {
        self.current = Some(group);
    }

    /// The segment containing local offset `local`.
    #[must_use]
    pub fn segment_for(&self, local: u64) -> Option<Segment> {
        self.segments
            .range(..=local)
            .next_back()
            .filter(|(base, _)| local < *base + self.segment_size_bytes)
            .map(|(_, segment)| segment.clone())
    }

    /// Takes everything not yet written: sealed groups plus the current group (which is
    /// replaced by a group holding its partial last page). Returns `None` if nothing is new.
    pub fn take_unwritten(&mut self) -> Option<Vec<Group>> {
        let current_new = self
            .current
            .as_ref()
            .is_some_and(|group| group.end_local() > self.written_local);
        if self.sealed.is_empty() && !current_new {
            return None;
        }
        let mut groups: Vec<Group> = self.sealed.drain(..).collect();
        if current_new {
            if let Some(old) = self.current.take() {
                let end = old.end_local();
                // The copy buffer may exceed buffers_max by one; it is returned right after.
                let replacement = self
                    .start_group(old.segment.clone(), end, Some(&old))
                    .or_else(|| {
                        self.buffers_total += 1;
                        self.start_group(old.segment.clone(), end, Some(&old))
                    });
                self.current = replacement;
                groups.push(old);
            }
        }
        Some(groups)
    }

    /// Returns written group buffers to the pool.
    pub fn recycle(&mut self, groups: Vec<Group>) {
        for group in groups {
            if self.free_buffers.len() + 1 < self.buffers_max {
                self.free_buffers.push(group.buf);
            } else {
                self.buffers_total = self.buffers_total.saturating_sub(1);
            }
        }
    }

    /// Encodes `messages` as one contiguous run (offsets assigned now). Returns the results and
    /// the local end offset the caller must wait for.
    ///
    /// # Errors
    /// [`Blocked`] when a segment or buffer must be waited for (retry after), or a final error.
    pub fn append(
        &mut self,
        messages: &[MessageToStore],
        context: &AppendContext<'_>,
    ) -> Result<(Vec<AppendResult>, u64), Blocked> {
        if let Some(reason) = &self.failed {
            return Err(Blocked::Failed(AppendError::Io(format!(
                "log refuses writes after an earlier failure ({reason}); reopen the store"
            ))));
        }
        if let Some(text) = &self.disk_full {
            return Err(Blocked::Failed(AppendError::DiskFull(text.clone())));
        }
        // With the record CRC, each record's properties end with its placeholder.
        let properties: Vec<Cow<'_, str>> = messages
            .iter()
            .map(|message| {
                if context.record_crc {
                    Cow::Owned(record_crc::with_placeholder(&message.properties))
                } else {
                    Cow::Borrowed(message.properties.as_str())
                }
            })
            .collect();
        let mut total = 0usize;
        for (message, properties) in messages.iter().zip(&properties) {
            if message.body.len() > context.message_bytes_max {
                return Err(Blocked::Failed(AppendError::MessageTooLarge {
                    size_bytes: message.body.len(),
                    size_bytes_max: context.message_bytes_max,
                }));
            }
            let fields = Self::fields(message, properties, context.store_host);
            fields
                .validate()
                .map_err(|e| Blocked::Failed(AppendError::MessageIllegal(e.to_string())))?;
            total += fields.encoded_size();
        }
        if total > context.message_bytes_max + BATCH_OVERHEAD_BYTES_MAX {
            return Err(Blocked::Failed(AppendError::MessageTooLarge {
                size_bytes: total,
                size_bytes_max: context.message_bytes_max + BATCH_OVERHEAD_BYTES_MAX,
            }));
        }
        let total_u64 = total as u64;
        // Roll to the next segment when the run and a blank marker do not fit.
        let segment_base = self.write_local / self.segment_size_bytes * self.segment_size_bytes;
        let remaining = segment_base + self.segment_size_bytes - self.write_local;
        if total_u64 + BLANK_MARKER_BYTES as u64 > remaining {
            self.roll(remaining)?;
        }
        // Seal the current group when the run does not fit into it.
        let fits = self
            .current
            .as_ref()
            .is_some_and(|g| g.buf.len() + total + BLANK_MARKER_BYTES <= self.group_bytes_max);
        if !fits {
            let segment = self
                .segment_for(self.write_local)
                .ok_or(Blocked::NeedSegment)?;
            let previous = self.current.take();
            let Some(group) = self.start_group(segment, self.write_local, previous.as_ref()) else {
                self.current = previous;
                return Err(Blocked::NeedBuffer);
            };
            if let Some(previous) = previous {
                if previous.end_local() > self.written_local {
                    self.sealed.push_back(previous);
                } else {
                    self.recycle(vec![previous]);
                }
            }
            self.current = Some(group);
        }
        let mut results = Vec::with_capacity(messages.len());
        for (message, properties) in messages.iter().zip(&properties) {
            let local = self.write_local;
            let physical = physical_offset(self.shard_index, local);
            let to_queue = !sys_flag::is_invisible_transaction(message.sys_flag);
            let queue_offset = if to_queue {
                let counter = self
                    .next_queue_offset
                    .entry((message.topic.clone(), message.queue_id))
                    .or_insert(0);
                *counter += 1;
                *counter - 1
            } else {
                0
            };
            let mut fields = Self::fields(message, properties, context.store_host);
            fields.queue_offset = i64::try_from(queue_offset).unwrap_or(i64::MAX);
            fields.physical_offset = i64::try_from(physical).unwrap_or(i64::MAX);
            fields.store_timestamp_ms = context.now_ms;
            let Some(group) = self.current.as_mut() else {
                return Err(Blocked::NeedBuffer);
            };
            debug_assert_eq!(group.end_local(), local);
            let record_at = group.buf.len();
            let size = fields
                .encode(&mut group.buf)
                .map_err(|e| Blocked::Failed(AppendError::MessageIllegal(e.to_string())))?;
            if context.record_crc {
                record_crc::seal(&mut group.buf[record_at..record_at + size]);
            }
            self.write_local += size as u64;
            let size_u32 = u32::try_from(size).unwrap_or(u32::MAX);
            self.pending_dispatch.push_back(DispatchEntry {
                end_local: self.write_local,
                topic: message.topic.clone(),
                queue_id: message.queue_id,
                queue_offset,
                physical_offset: physical,
                size: size_u32,
                tags_code: tags_code_of(message, context.now_ms, context.delay_levels_ms),
                store_timestamp_ms: context.now_ms,
                to_queue,
                index_keys: if context.index_enable {
                    index_keys_of(message)
                } else {
                    Vec::new()
                },
            });
            results.push(AppendResult {
                physical_offset: physical,
                queue_offset,
                wrote_bytes: size_u32,
                store_timestamp_ms: context.now_ms,
                message_id: OffsetMessageId {
                    store_host: context.store_host,
                    commit_log_offset: i64::try_from(physical).unwrap_or(i64::MAX),
                }
                .encode(),
            });
        }
        Ok((results, self.write_local))
    }

    /// Writes the blank marker over the `remaining` bytes of the current segment and moves to
    /// the prepared next segment.
    fn roll(&mut self, remaining: u64) -> Result<(), Blocked> {
        let Some(next) = self.next_segment.clone() else {
            return Err(Blocked::NeedSegment);
        };
        debug_assert_eq!(next.base, self.write_local + remaining);
        // The marker needs 8 bytes in the current group.
        let fits = self
            .current
            .as_ref()
            .is_some_and(|g| g.buf.len() + BLANK_MARKER_BYTES <= self.group_bytes_max + 4096);
        if !fits {
            return Err(Blocked::NeedBuffer);
        }
        let Some(mut old) = self.current.take() else {
            return Err(Blocked::NeedBuffer);
        };
        let Some(group) = self.start_group(next.clone(), next.base, None) else {
            self.current = Some(old);
            return Err(Blocked::NeedBuffer);
        };
        let mut marker = [0u8; BLANK_MARKER_BYTES];
        encode_blank_marker(&mut marker, u32::try_from(remaining).unwrap_or(u32::MAX));
        old.buf.extend_from_slice(&marker);
        self.sealed.push_back(old);
        self.next_segment = None;
        self.segments.insert(next.base, next.clone());
        // The blank padding counts as written log: every reader skips it.
        self.write_local = next.base;
        self.current = Some(group);
        Ok(())
    }

    /// Paths of segment files (test and retention helper).
    #[must_use]
    pub fn segment_paths(&self, root: &std::path::Path) -> Vec<PathBuf> {
        self.segments
            .keys()
            .map(|base| root.join(segment_file_name(*base)))
            .collect()
    }
}
