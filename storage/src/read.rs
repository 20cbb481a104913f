//! The read side of [`Store`]: consume-queue reads, offsets, lookups by time, key and
//! physical offset.

use bytes::Bytes;
use protocol::message::properties::{self, keys};
use protocol::message::record::{
    decode_log_entry, store_timestamp_position, LogEntry, RecordView, SYS_FLAG_POSITION,
};

use crate::consume_queue::CqUnit;
use crate::index::Index;
use crate::store::Store;
use crate::{Boundary, MessageFilter, ReadResult, ReadStatus, StorageError};

/// Most consume-queue units one read scans (Java: 16 000 bytes of units = 800).
pub const READ_SCAN_UNITS_MAX: u64 = 800;
/// Bytes read first when the record size is unknown.
const FIRST_READ_BYTES: usize = 4096;

impl Store {
    /// Min offset of a queue (0 if unknown).
    #[must_use]
    pub fn min_offset(&self, topic: &str, queue_id: u32) -> u64 {
        self.queues
            .borrow()
            .get(&(topic.to_owned(), queue_id))
            .map_or(0, crate::consume_queue::ConsumeQueue::min_offset)
    }

    /// Max offset (one past the last visible unit) of a queue (0 if unknown).
    #[must_use]
    pub fn max_offset(&self, topic: &str, queue_id: u32) -> u64 {
        self.queues
            .borrow()
            .get(&(topic.to_owned(), queue_id))
            .map_or(0, crate::consume_queue::ConsumeQueue::max_offset)
    }

    /// Every (topic, queue id) with a consume queue.
    #[must_use]
    pub fn topics_queues(&self) -> Vec<(String, u32)> {
        self.queues.borrow().keys().cloned().collect()
    }

    /// Forgets a topic's consume queues and deletes their files (the commit log keeps the
    /// records until retention).
    pub fn delete_topic(&self, topic: &str) {
        let removed: Vec<_> = {
            let mut queues = self.queues.borrow_mut();
            let keys: Vec<_> = queues.keys().filter(|(t, _)| t == topic).cloned().collect();
            keys.into_iter()
                .filter_map(|key| queues.remove(&key))
                .collect()
        };
        self.log
            .borrow_mut()
            .next_queue_offset
            .retain(|(t, _), _| t != topic);
        let fs = self.fs.clone();
        let root = self.config.root_dir.clone();
        let topic_dir = root.join(crate::recovery::CONSUME_QUEUE_DIR).join(topic);
        let task = async move {
            for queue in removed {
                let dir = queue.dir().to_path_buf();
                drop(queue);
                for name in fs.list_dir(&dir).unwrap_or_default() {
                    let _ = fs.remove(&dir.join(name)).await;
                }
                fs.remove_dir(&dir);
            }
            fs.remove_dir(&topic_dir);
        };
        match self.background_queue.get() {
            Some(queue) => {
                if let Ok(task) = glommio::spawn_local_into(task, queue) {
                    task.detach();
                }
            }
            None => {
                glommio::spawn_local(task).detach();
            }
        }
    }

    /// Reads up to `max_count` records (and about `max_bytes`) from a queue, starting at
    /// `queue_offset`, keeping those the filter accepts. Semantics of RocketMQ's `getMessage`.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn read(
        &self,
        topic: &str,
        queue_id: u32,
        queue_offset: u64,
        max_count: u32,
        max_bytes: u32,
        filter: &dyn MessageFilter,
    ) -> Result<ReadResult, StorageError> {
        let key = (topic.to_owned(), queue_id);
        let (min, max) = match self.queues.borrow().get(&key) {
            Some(queue) => (queue.min_offset(), queue.max_offset()),
            None => (0, 0),
        };
        let result = |status, next| ReadResult {
            status,
            records: Vec::new(),
            next_begin_offset: next,
            min_offset: min,
            max_offset: max,
        };
        if max == 0 {
            return Ok(result(crate::ReadStatus::NoMessageInQueue, 0));
        }
        if queue_offset < min {
            return Ok(result(ReadStatus::OffsetTooSmall, min));
        }
        if queue_offset == max {
            return Ok(result(ReadStatus::OffsetOverflowOne, queue_offset));
        }
        if queue_offset > max {
            return Ok(result(ReadStatus::OffsetOverflowBadly, max));
        }
        let scan_max = READ_SCAN_UNITS_MAX.max(u64::from(max_count));
        let mut records = Vec::new();
        let mut bytes_total = 0usize;
        let mut next = queue_offset;
        let mut found_null = false;
        'scan: while next < max && next - queue_offset < scan_max {
            let plan = match self.queues.borrow().get(&key) {
                Some(queue) => queue.plan_read(next, scan_max - (next - queue_offset)),
                None => break,
            };
            let Some(units) = plan.run().await? else {
                // The file holding these units is gone: skip to the next file (Java's
                // `rollNextFile`), so a consumer never loops on the same offset.
                found_null = true;
                let per_file = self.config.consume_queue_units_per_file;
                next = ((next / per_file + 1) * per_file).min(max);
                break;
            };
            if units.is_empty() {
                break;
            }
            let mut i = 0;
            while i < units.len() {
                if records.len() >= max_count as usize {
                    break 'scan;
                }
                let unit = units[i];
                if unit.is_empty() || !filter.matches_tags_code(unit.tags_code) {
                    next += 1;
                    i += 1;
                    continue;
                }
                if !records.is_empty() && bytes_total + unit.size as usize > max_bytes as usize {
                    break 'scan;
                }
                // Coalesce following matching units that are contiguous in the log.
                let mut run = vec![unit];
                while i + run.len() < units.len() && records.len() + run.len() < max_count as usize
                {
                    let last = run[run.len() - 1];
                    let candidate = units[i + run.len()];
                    let contiguous =
                        candidate.physical_offset == last.physical_offset + u64::from(last.size);
                    let run_bytes: usize = run.iter().map(|u| u.size as usize).sum();
                    if !contiguous
                        || !filter.matches_tags_code(candidate.tags_code)
                        || bytes_total + run_bytes + candidate.size as usize > max_bytes as usize
                    {
                        break;
                    }
                    run.push(candidate);
                }
                let Some(bytes) = self.read_units(&run).await? else {
                    found_null = true;
                    next += 1;
                    i += 1;
                    continue;
                };
                let mut at = 0usize;
                for unit in &run {
                    let record = bytes.slice(at..at + unit.size as usize);
                    at += unit.size as usize;
                    next += 1;
                    i += 1;
                    if filter.matches_record(&record) {
                        bytes_total += record.len();
                        records.push(record);
                    }
                }
            }
        }
        let status = if !records.is_empty() {
            ReadStatus::Found
        } else if found_null {
            ReadStatus::OffsetFoundNull
        } else {
            ReadStatus::NoMatchedMessage
        };
        Ok(ReadResult {
            status,
            records,
            next_begin_offset: next,
            min_offset: min,
            max_offset: max,
        })
    }

    /// Bytes of a run of log-contiguous units, or `None` if the log there is gone.
    async fn read_units(&self, run: &[CqUnit]) -> Result<Option<Bytes>, StorageError> {
        let Some(first) = run.first() else {
            return Ok(None);
        };
        let Some(local) = self.local_of(first.physical_offset) else {
            return Ok(None);
        };
        let len: usize = run.iter().map(|u| u.size as usize).sum();
        let bytes = self.read_log(local, len).await?;
        if let Some(bytes) = &bytes {
            // Pair of the write-side assertion: what we serve is what we stored.
            debug_assert!(RecordView::decode(bytes).is_ok_and(|(v, _)| v.body_crc_matches()));
        }
        Ok(bytes)
    }

    /// One stored record at a physical offset (`VIEW_MESSAGE_BY_ID`), `None` if not visible,
    /// not this shard's, or not a record start.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn read_at(&self, physical_offset: u64) -> Result<Option<Bytes>, StorageError> {
        let Some(local) = self.local_of(physical_offset) else {
            return Ok(None);
        };
        let (segment_end, visible) = {
            let log = self.log.borrow();
            let base = local / log.segment_size_bytes * log.segment_size_bytes;
            (base + log.segment_size_bytes, log.visible_local)
        };
        let first_len = usize::try_from(
            (FIRST_READ_BYTES as u64)
                .min(segment_end - local)
                .min(visible.saturating_sub(local)),
        )
        .unwrap_or(0);
        if first_len < 8 {
            return Ok(None);
        }
        let Some(head) = self.read_log(local, first_len).await? else {
            return Ok(None);
        };
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let Ok(size) = usize::try_from(size) else {
            return Ok(None);
        };
        let bytes = if size <= head.len() {
            head.slice(..size)
        } else {
            match self.read_log(local, size).await? {
                Some(bytes) => bytes,
                None => return Ok(None),
            }
        };
        match decode_log_entry(&bytes) {
            Ok((LogEntry::Message(view), _))
                if u64::try_from(view.physical_offset) == Ok(physical_offset) =>
            {
                Ok(Some(bytes))
            }
            _ => Ok(None),
        }
    }

    async fn store_time_of(&self, unit: &CqUnit) -> Result<Option<i64>, StorageError> {
        let Some(local) = self.local_of(unit.physical_offset) else {
            return Ok(None);
        };
        let Some(head) = self.read_log(local, 96.min(unit.size as usize)).await? else {
            return Ok(None);
        };
        if head.len() < 80 {
            return Ok(None);
        }
        let sys_flag = i32::from_be_bytes([
            head[SYS_FLAG_POSITION],
            head[SYS_FLAG_POSITION + 1],
            head[SYS_FLAG_POSITION + 2],
            head[SYS_FLAG_POSITION + 3],
        ]);
        let at = store_timestamp_position(sys_flag);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&head[at..at + 8]);
        Ok(Some(i64::from_be_bytes(ts)))
    }

    async fn unit_at(
        &self,
        topic: &str,
        queue_id: u32,
        offset: u64,
    ) -> Result<Option<CqUnit>, StorageError> {
        let plan = match self.queues.borrow().get(&(topic.to_owned(), queue_id)) {
            Some(queue) => queue.plan_read(offset, 1),
            None => return Ok(None),
        };
        Ok(plan.run().await?.and_then(|units| units.first().copied()))
    }

    /// Store time of the first message of a queue.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn earliest_store_time(
        &self,
        topic: &str,
        queue_id: u32,
    ) -> Result<Option<i64>, StorageError> {
        let min = self.min_offset(topic, queue_id);
        match self.unit_at(topic, queue_id, min).await? {
            Some(unit) if !unit.is_empty() => self.store_time_of(&unit).await,
            _ => Ok(None),
        }
    }

    /// Queue offset by store time: [`Boundary::Lower`] = first offset with store time
    /// `>= timestamp_ms` (max offset if none); [`Boundary::Upper`] = last offset with store
    /// time `<= timestamp_ms` (min offset if none).
    ///
    /// # Errors
    /// I/O errors.
    pub async fn offset_by_time(
        &self,
        topic: &str,
        queue_id: u32,
        timestamp_ms: i64,
        boundary: Boundary,
    ) -> Result<u64, StorageError> {
        let (min, max) = (
            self.min_offset(topic, queue_id),
            self.max_offset(topic, queue_id),
        );
        // First offset whose time is > (Upper) or >= (Lower) the timestamp.
        let (mut low, mut high) = (min, max);
        while low < high {
            let mid = low + (high - low) / 2;
            let time = match self.unit_at(topic, queue_id, mid).await? {
                Some(unit) if !unit.is_empty() => self.store_time_of(&unit).await?,
                _ => None,
            };
            let before = match (time, boundary) {
                (None, _) => true,
                (Some(t), Boundary::Lower) => t < timestamp_ms,
                (Some(t), Boundary::Upper) => t <= timestamp_ms,
            };
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(match boundary {
            Boundary::Lower => low,
            Boundary::Upper => low.saturating_sub(1).max(min),
        })
    }

    /// Records of `topic` whose `KEYS` contain `key` or whose `UNIQ_KEY` is `key`, stored in
    /// `[begin_ms, end_ms]`, newest first, at most `max_count`.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn query_by_key(
        &self,
        topic: &str,
        key: &str,
        max_count: u32,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Bytes>, StorageError> {
        let candidates = Index::lookup(
            &self.index,
            topic,
            key,
            max_count as usize * 2 + 8,
            begin_ms,
            end_ms,
        )
        .await?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for physical in candidates {
            if out.len() >= max_count as usize {
                break;
            }
            if !seen.insert(physical) {
                continue;
            }
            let Some(bytes) = self.read_at(physical).await? else {
                continue;
            };
            let matches = RecordView::decode(&bytes).is_ok_and(|(view, _)| {
                view.topic == topic
                    && (properties::find(view.properties, keys::UNIQ_KEY) == Some(key)
                        || properties::find(view.properties, keys::KEYS)
                            .is_some_and(|keys| keys.split(' ').any(|k| k == key)))
            });
            if matches {
                out.push(bytes);
            }
        }
        Ok(out)
    }
}
