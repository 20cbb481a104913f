//! Open-time recovery: find the end of the commit log (verifying CRCs), cut a torn tail,
//! rebuild consume queues and index from the log where they are behind or lost.
//!
//! Directory of one shard:
//!
//! ```text
//! {root_dir}/
//!   abort                 exists while the store is open: found at open = crash recovery
//!   checkpoint            see `checkpoint`
//!   commitlog/{20-digit local start offset}
//!   consumequeue/{topic}/{queue_id}/{20-digit start byte offset}
//!   index/{20-digit file sequence}
//! ```
//!
//! Steps:
//! 1. Load consume queues and the index; read the checkpoint.
//! 2. Scan start = the checkpoint's `dispatched_local` ([`RecoveryMode::FromCheckpoint`]) or
//!    the first segment ([`RecoveryMode::Full`], also used when the checkpoint or the
//!    consume-queue directory is missing), lowered to where the index files' coverage ends if
//!    the index is enabled and behind (its directory deleted, a file truncated: the index is
//!    rebuilt, with a warning). Consume-queue units and index entries at or past the scan
//!    start are cut (and re-dispatched, so consume queues stay consistent).
//! 3. Scan: every record must decode, match its BODYCRC, carry its own position in
//!    PHYSICALOFFSET and fit its segment, and at or past the checkpoint's
//!    `record_crc_from_local` end with a matching whole-record CRC ([`crate::record_crc`]);
//!    the first one that does not (or that a truncated file cuts) is the end. Each valid
//!    record from the scan start on is dispatched again (idempotent).
//! 4. Past the end: a truncated tail segment is extended again (its kept bytes untouched),
//!    bytes up to the first all-zero chunk are zeroed (so stale records can never be
//!    resurrected), later segments are deleted, and index coverage past the end is dropped.
//! 5. If `record_crc_enable` changed, the checkpoint records where the whole-record CRC is
//!    required from (before any append).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use protocol::message::record::{decode_log_entry, LogEntry, RecordView, BLANK_MARKER_BYTES};

use crate::checkpoint::{Checkpoint, CheckpointFile, RECORD_CRC_NOT_REQUIRED};
use crate::commit_log::{self, DispatchEntry, Segment, LOCAL_OFFSET_MASK};
use crate::consume_queue::{ConsumeQueue, CQ_UNIT_SIZE_BYTES};
use crate::index::Index;
use crate::io::{align_down, align_up, FileSystem};
use crate::prewrite::prepare_segment;
use crate::record_crc;
use crate::store::{dispatch_entry, QueueTable, IO_CHUNK_BYTES};
use crate::{RecoveryMode, StorageError, StoreConfig};

/// Abort marker file name.
pub const ABORT_FILE: &str = "abort";
/// Checkpoint file name.
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// Commit-log directory.
pub const COMMIT_LOG_DIR: &str = "commitlog";
/// Consume-queue directory.
pub const CONSUME_QUEUE_DIR: &str = "consumequeue";
/// Index directory.
pub const INDEX_DIR: &str = "index";

/// What recovery hands to the store.
pub(crate) struct Recovered {
    pub segments: BTreeMap<u64, Segment>,
    pub end_local: u64,
    pub min_local: u64,
    pub tail_segment: Segment,
    pub tail_file_pos: u64,
    pub tail_page: Vec<u8>,
    pub queues: QueueTable,
    pub index: Index,
    pub checkpoint: CheckpointFile,
    pub crashed: bool,
    pub records_dispatched: u64,
    pub last_store_timestamp_ms: i64,
    /// Records appended from now on carry the whole-record CRC if this is not
    /// [`RECORD_CRC_NOT_REQUIRED`]; the checkpoint already says so.
    pub record_crc_from_local: u64,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |e| StorageError::io(path, e)
}

async fn load_queues(
    fs: &dyn FileSystem,
    root: &Path,
    units_per_file: u64,
) -> Result<QueueTable, StorageError> {
    let dir = root.join(CONSUME_QUEUE_DIR);
    let mut queues = QueueTable::new();
    for topic in fs.list_dir(&dir).map_err(io_err(&dir))? {
        let topic_dir = dir.join(&topic);
        for queue_name in fs.list_dir(&topic_dir).map_err(io_err(&topic_dir))? {
            let Ok(queue_id) = queue_name.parse::<u32>() else {
                continue;
            };
            let queue = ConsumeQueue::load(fs, topic_dir.join(&queue_name), units_per_file).await?;
            queues.insert((topic.clone(), queue_id), queue);
        }
    }
    Ok(queues)
}

/// The first unit of `queue` whose record starts at or past `local` (units are sorted by
/// physical offset; an empty unit counts as past).
pub(crate) async fn first_unit_at_or_after(
    queue: &ConsumeQueue,
    local: u64,
) -> Result<u64, StorageError> {
    let (mut low, mut high) = (queue.min_offset(), queue.max_offset());
    while low < high {
        let mid = low + (high - low) / 2;
        let units = queue.plan_read(mid, 1).run().await?.unwrap_or_default();
        let before = units.first().is_some_and(|unit| {
            !unit.is_empty() && (unit.physical_offset & LOCAL_OFFSET_MASK) < local
        });
        if before {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    Ok(low)
}

/// Cuts every unit whose record starts at or past `from_local`, zeroing them on disk.
async fn cut_queues(queues: &mut QueueTable, from_local: u64) -> Result<(), StorageError> {
    for queue in queues.values_mut() {
        let low = first_unit_at_or_after(queue, from_local).await?;
        if low >= queue.max_offset() {
            continue;
        }
        let units_per_file = queue.units_per_file();
        let file_index = low / units_per_file;
        let tail_bytes = match queue.file(file_index) {
            Some(file) => Some(
                file.read_at(
                    0,
                    usize::try_from(units_per_file * CQ_UNIT_SIZE_BYTES).unwrap_or(0),
                )
                .await
                .map_err(|e| StorageError::io(file.path(), e))?,
            ),
            None => None,
        };
        let writes = queue.truncate(low, tail_bytes.as_deref());
        for (index, pos, data) in writes {
            if let Some(file) = queue.file(index) {
                file.write_at(pos, &data)
                    .await
                    .map_err(|e| StorageError::io(file.path(), e))?;
                file.sync()
                    .await
                    .map_err(|e| StorageError::io(file.path(), e))?;
            }
        }
    }
    Ok(())
}

/// Writes every consume queue's unflushed units and syncs the files.
pub(crate) async fn flush_queues(
    fs: &dyn FileSystem,
    queues: &RefCell<QueueTable>,
) -> Result<(), StorageError> {
    let jobs: Vec<_> = queues
        .borrow()
        .iter()
        .filter_map(|(key, queue)| queue.flush_job().map(|job| (key.clone(), job)))
        .collect();
    for (key, job) in jobs {
        let mut touched = Vec::new();
        for (file_index, pos, data) in &job.writes {
            let existing = queues.borrow().get(&key).and_then(|q| q.file(*file_index));
            let file = match existing {
                Some(file) => file,
                None => {
                    let Some((path, size)) =
                        queues.borrow().get(&key).map(|q| q.file_path(*file_index))
                    else {
                        break;
                    };
                    if let Some(dir) = path.parent() {
                        fs.create_dir_all(dir).map_err(io_err(dir))?;
                    }
                    let file = fs.open(&path, true).await.map_err(io_err(&path))?;
                    file.allocate(size).await.map_err(io_err(&path))?;
                    if let Some(queue) = queues.borrow_mut().get_mut(&key) {
                        queue.add_file(*file_index, file.clone());
                    }
                    file
                }
            };
            file.write_at(*pos, data)
                .await
                .map_err(|e| StorageError::io(file.path(), e))?;
            touched.push(file);
        }
        for file in touched {
            file.sync()
                .await
                .map_err(|e| StorageError::io(file.path(), e))?;
        }
        if let Some(queue) = queues.borrow_mut().get_mut(&key) {
            queue.complete_flush(job.flushed_byte);
        }
    }
    Ok(())
}

/// What a valid record must fit.
#[derive(Clone, Copy)]
struct Bounds {
    segment_size: u64,
    shard_index: u16,
    /// Records at or past it must end with a matching whole-record CRC.
    crc_required_from: u64,
}

/// Largest record the scan reads in: anything larger is damage (a corrupted TOTALSIZE), not
/// a record of any configuration.
const RECORD_BYTES_SCAN_MAX: usize =
    crate::config::MESSAGE_BYTES_MAX_LIMIT + commit_log::BATCH_OVERHEAD_BYTES_MAX + 4096;

/// True if the message at local `here`, `record` its bytes, is one this log wrote there.
fn record_is_valid(view: &RecordView<'_>, record: &[u8], here: u64, bounds: Bounds) -> bool {
    let remaining_in_segment = bounds.segment_size - here % bounds.segment_size;
    view.body_crc_matches()
        && u64::try_from(view.physical_offset)
            == Ok(commit_log::physical_offset(bounds.shard_index, here))
        && record.len() as u64 + BLANK_MARKER_BYTES as u64 <= remaining_in_segment
        && (here < bounds.crc_required_from
            || record_crc::check(record) == record_crc::Check::Valid)
}

/// Scans `[start, ...)` and calls `on_record(local, view)` for every valid record. Returns
/// the local end offset (first invalid position).
async fn scan(
    segments: &BTreeMap<u64, Segment>,
    bounds: Bounds,
    start: u64,
    mut on_record: impl FnMut(u64, &RecordView<'_>),
) -> Result<u64, StorageError> {
    let segment_size = bounds.segment_size;
    let mut at = start;
    'segments: loop {
        let base = at / segment_size * segment_size;
        let Some(segment) = segments.get(&base) else {
            return Ok(at);
        };
        let path = segment.file.path();
        let mut chunk_len = IO_CHUNK_BYTES;
        loop {
            let in_segment = at - base;
            if in_segment + BLANK_MARKER_BYTES as u64 > segment_size {
                return Ok(at);
            }
            let len =
                usize::try_from((segment_size - in_segment).min(chunk_len as u64)).unwrap_or(0);
            let chunk = segment
                .file
                .read_at(in_segment, len)
                .await
                .map_err(io_err(&path))?;
            // A short read: the file ends inside the segment (it was truncated).
            let file_ends = chunk.len() < len;
            let mut pos = 0usize;
            let mut read_larger = false;
            while pos + 8 <= chunk.len() {
                let here = at + pos as u64;
                let remaining_in_segment = base + segment_size - here;
                match decode_log_entry(&chunk[pos..]) {
                    Ok((LogEntry::Blank { remaining_bytes }, _)) => {
                        if u64::from(remaining_bytes) != remaining_in_segment {
                            return Ok(here);
                        }
                        at = base + segment_size;
                        continue 'segments;
                    }
                    Ok((LogEntry::Message(view), consumed)) => {
                        if !record_is_valid(&view, &chunk[pos..pos + consumed], here, bounds) {
                            return Ok(here);
                        }
                        on_record(here, &view);
                        pos += consumed;
                    }
                    Err(protocol::WireError::Truncated { .. }) => {
                        let size = i32::from_be_bytes([
                            chunk[pos],
                            chunk[pos + 1],
                            chunk[pos + 2],
                            chunk[pos + 3],
                        ]);
                        let Ok(size) = usize::try_from(size) else {
                            return Ok(here);
                        };
                        // Not a record: it would not fit, the file ends inside it, or all of
                        // it is here and a field overruns TOTALSIZE.
                        if size as u64 + BLANK_MARKER_BYTES as u64 > remaining_in_segment
                            || size == 0
                            || size > RECORD_BYTES_SCAN_MAX
                            || file_ends
                            || chunk.len() - pos >= size
                        {
                            return Ok(here);
                        }
                        // It continues past this chunk: re-read from its start.
                        chunk_len = chunk_len.max(size);
                        read_larger = true;
                        break;
                    }
                    Err(_) => return Ok(here),
                }
            }
            // Fewer than 8 bytes where the next entry would start: the file ends there.
            if pos == 0 && !read_larger {
                return Ok(at);
            }
            at += pos as u64;
        }
    }
}

/// Zeroes stale bytes after `end` inside its segment, up to the first all-zero chunk.
async fn zero_tail(segment: &Segment, segment_size: u64, end: u64) -> Result<(), StorageError> {
    let path = segment.file.path();
    let start = end - segment.base;
    let mut dirty_until = start;
    let mut at = start;
    while at < segment_size {
        let len = usize::try_from((segment_size - at).min(IO_CHUNK_BYTES as u64)).unwrap_or(0);
        let chunk = segment.file.read_at(at, len).await.map_err(io_err(&path))?;
        if chunk.iter().all(|b| *b == 0) {
            break;
        }
        dirty_until = at + chunk.len() as u64;
        at += len as u64;
    }
    if dirty_until == start {
        return Ok(());
    }
    let first_page = align_down(start);
    let prefix = segment
        .file
        .read_at(first_page, usize::try_from(start - first_page).unwrap_or(0))
        .await
        .map_err(io_err(&path))?;
    let mut pos = first_page;
    let stop = align_up(dirty_until).min(segment_size);
    while pos < stop {
        let len = usize::try_from((stop - pos).min(IO_CHUNK_BYTES as u64)).unwrap_or(0);
        let mut data = vec![0u8; len];
        if pos == first_page {
            data[..prefix.len()].copy_from_slice(&prefix);
        }
        segment
            .file
            .write_at(pos, &data)
            .await
            .map_err(io_err(&path))?;
        pos += len as u64;
    }
    segment.file.sync().await.map_err(io_err(&path))?;
    tracing::warn!(target: "storage", segment = %path.display(), from = start, to = dirty_until, "zeroed torn commit-log tail");
    Ok(())
}

/// Runs recovery for `config.root_dir`.
pub(crate) async fn recover(
    config: &StoreConfig,
    fs: &dyn FileSystem,
) -> Result<Recovered, StorageError> {
    let root = &config.root_dir;
    let log_dir = root.join(COMMIT_LOG_DIR);
    let cq_dir = root.join(CONSUME_QUEUE_DIR);
    let index_dir = root.join(INDEX_DIR);
    let cq_dir_existed = fs.exists(&cq_dir);
    for dir in [&log_dir, &cq_dir, &index_dir] {
        fs.create_dir_all(dir).map_err(io_err(dir))?;
    }
    let abort_path = root.join(ABORT_FILE);
    let crashed = fs.exists(&abort_path);
    let mut checkpoint = CheckpointFile::open(fs, root.join(CHECKPOINT_FILE)).await?;
    let segment_size = config.segment_size_bytes;

    // Segments.
    let mut segments = BTreeMap::new();
    for name in fs.list_dir(&log_dir).map_err(io_err(&log_dir))? {
        let Ok(base) = name.parse::<u64>() else {
            continue;
        };
        if base % segment_size != 0 {
            return Err(StorageError::Corrupted {
                segment: log_dir.join(&name),
                offset: 0,
                reason: format!(
                    "segment name is not a multiple of segment_size_bytes {segment_size}"
                ),
            });
        }
        let path = log_dir.join(&name);
        let file = fs.open(&path, false).await.map_err(io_err(&path))?;
        segments.insert(base, Segment { base, file });
    }
    if segments.is_empty() {
        let segment = prepare_segment(fs, root, 0, segment_size, config.segment_prewrite).await?;
        segments.insert(0, segment);
    }
    let first_base = segments.keys().next().copied().unwrap_or(0);
    let last_checkpoint = checkpoint.last();
    let full = config.recovery == RecoveryMode::Full
        || last_checkpoint.is_none()
        || (!cq_dir_existed && last_checkpoint.is_some_and(|c| c.log_end_local > 0));
    let mut queues = if full {
        // Start from nothing: remove every consume-queue file.
        let old = load_queues(fs, root, config.consume_queue_units_per_file).await?;
        for queue in old.values() {
            for name in fs.list_dir(queue.dir()).map_err(io_err(queue.dir()))? {
                let path = queue.dir().join(name);
                fs.remove(&path).await.map_err(io_err(&path))?;
            }
        }
        QueueTable::new()
    } else {
        load_queues(fs, root, config.consume_queue_units_per_file).await?
    };
    let mut index = Index::load(fs, &index_dir, config.index_entries_per_file, full).await?;
    let start = if full {
        first_base
    } else {
        let dispatched = last_checkpoint.map_or(first_base, |c| c.dispatched_local);
        if segments.contains_key(&(dispatched / segment_size * segment_size)) {
            dispatched.max(first_base)
        } else {
            first_base
        }
    };
    let start = if config.index_enable {
        index_start(&index, start, first_base, config.shard_index)
    } else {
        start
    };
    cut_queues(&mut queues, start).await?;
    index.cut(start);

    // Scan and re-dispatch.
    let mut records = 0u64;
    let mut last_ts = last_checkpoint.map_or(0, |c| c.last_store_timestamp_ms);
    let crc_required_from =
        last_checkpoint.map_or(RECORD_CRC_NOT_REQUIRED, |c| c.record_crc_from_local);
    let end = scan(
        &segments,
        Bounds {
            segment_size,
            shard_index: config.shard_index,
            crc_required_from,
        },
        start,
        |local, view| {
            records += 1;
            last_ts = view.store_timestamp_ms;
            let entry = entry_from_view(local, view, config);
            dispatch_entry(&mut queues, &mut index, config, &entry);
        },
    )
    .await?;
    index.limit_coverage(end).await?;
    if let Some(checkpoint) = last_checkpoint {
        if end < checkpoint.log_end_local && !full {
            tracing::error!(target: "storage", end, durable = checkpoint.log_end_local,
                "commit log ends before the checkpointed durable offset: data lost or corrupted");
        }
    }
    // Segments past the end are stale.
    let end_base = end / segment_size * segment_size;
    let stale: Vec<u64> = segments
        .keys()
        .copied()
        .filter(|base| *base > end_base)
        .collect();
    for base in stale {
        if let Some(segment) = segments.remove(&base) {
            let path = segment.file.path();
            drop(segment);
            fs.remove(&path).await.map_err(io_err(&path))?;
        }
    }
    let tail_segment = match segments.get(&end_base) {
        Some(segment) => {
            let len = segment
                .file
                .len()
                .await
                .map_err(io_err(&segment.file.path()))?;
            // A short (truncated) segment is extended first; either way stale bytes after the
            // end are zeroed.
            let segment = if len < segment_size {
                prepare_segment(fs, root, end_base, segment_size, config.segment_prewrite).await?
            } else {
                segment.clone()
            };
            zero_tail(&segment, segment_size, end).await?;
            segment
        }
        None => prepare_segment(fs, root, end_base, segment_size, config.segment_prewrite).await?,
    };
    segments.insert(end_base, tail_segment.clone());
    let tail_file_pos = align_down(end - end_base);
    let tail_page = tail_segment
        .file
        .read_at(
            tail_file_pos,
            usize::try_from(end - end_base - tail_file_pos).unwrap_or(0),
        )
        .await
        .map_err(io_err(&tail_segment.file.path()))?
        .to_vec();
    let min_local = last_checkpoint
        .map_or(first_base, |c| c.min_local)
        .max(first_base);
    // Units pointing below the kept log (retention) are unreadable.
    for queue in queues.values_mut() {
        let first = first_unit_at_or_after(queue, min_local).await?;
        queue.set_min_offset(first);
    }
    let record_crc_from_local = if config.record_crc_enable {
        crc_required_from.min(end)
    } else {
        RECORD_CRC_NOT_REQUIRED
    };
    if record_crc_from_local != crc_required_from {
        // Durable before the first append: a record without the CRC past a stale marker
        // would read as damaged at the next open.
        let last = last_checkpoint.unwrap_or_default();
        checkpoint
            .write(Checkpoint {
                sequence: 0,
                log_end_local: last_checkpoint.map_or(end, |c| c.log_end_local.min(end)),
                dispatched_local: start.min(end),
                min_local,
                last_store_timestamp_ms: last.last_store_timestamp_ms,
                record_crc_from_local,
            })
            .await?;
    }
    // Abort marker: exists while open.
    fs.open(&abort_path, true)
        .await
        .map_err(io_err(&abort_path))?;
    if crashed {
        tracing::warn!(target: "storage", shard = config.shard_index, start, end, records, "crash recovery done");
    }
    Ok(Recovered {
        segments,
        end_local: end,
        min_local,
        tail_segment,
        tail_file_pos,
        tail_page,
        queues,
        index,
        checkpoint,
        crashed,
        records_dispatched: records,
        last_store_timestamp_ms: last_ts,
        record_crc_from_local,
    })
}

/// Where the scan starts so that the index gets every record it lacks: `start` (from the
/// checkpoint), or lower when the index files cover less (deleted, truncated, behind).
fn index_start(index: &Index, start: u64, first_base: u64, shard_index: u16) -> u64 {
    let covered = index.covered_local().max(first_base);
    if covered >= start {
        return start;
    }
    tracing::warn!(target: "storage", shard = shard_index, from = covered, checkpoint = start,
        "index is behind the commit log (lost or damaged files): rebuilding it from the log");
    covered
}

fn entry_from_view(local: u64, view: &RecordView<'_>, config: &StoreConfig) -> DispatchEntry {
    use protocol::message::properties::{self, keys};
    let to_queue = !protocol::message::sys_flag::is_invisible_transaction(view.sys_flag);
    let mut tags_code = properties::tags_code(properties::find(view.properties, keys::TAGS));
    if view.topic == commit_log::SCHEDULE_TOPIC {
        if let Some(level) = properties::find(view.properties, keys::DELAY)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|level| *level > 0)
        {
            let level = level.min(config.delay_levels_ms.len());
            if let Some(delay) = config.delay_levels_ms.get(level.saturating_sub(1)) {
                tags_code = view.store_timestamp_ms + i64::try_from(*delay).unwrap_or(i64::MAX);
            }
        }
    }
    let mut index_keys: Vec<String> = properties::find(view.properties, keys::KEYS)
        .unwrap_or("")
        .split(' ')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unique) = properties::find(view.properties, keys::UNIQ_KEY) {
        index_keys.push(unique.to_owned());
    }
    DispatchEntry {
        end_local: local + u64::from(view.total_size),
        topic: view.topic.to_owned(),
        queue_id: u32::try_from(view.queue_id).unwrap_or(0),
        queue_offset: u64::try_from(view.queue_offset).unwrap_or(0),
        physical_offset: u64::try_from(view.physical_offset).unwrap_or(0),
        size: view.total_size,
        tags_code,
        store_timestamp_ms: view.store_timestamp_ms,
        to_queue,
        index_keys: if config.index_enable {
            index_keys
        } else {
            Vec::new()
        },
    }
}

/// Test helper: the open files' paths of a store's segments.
#[must_use]
pub fn segment_dir(root: &Path) -> std::path::PathBuf {
    root.join(COMMIT_LOG_DIR)
}
