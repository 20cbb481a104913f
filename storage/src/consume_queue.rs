//! Consume queues: one per (topic, queue id), the RocketMQ 20-byte unit, built by dispatch
//! from the commit log (never written on the append path).
//!
//! ```text
//! unit n at byte n * 20 of the queue (big-endian, as RocketMQ):
//! +-----------------------------+-----------+---------------------+
//! | commit-log offset  i64      | size i32  | tags code  i64      |
//! +-----------------------------+-----------+---------------------+
//! 0                             8           12                    20
//! ```
//!
//! Files: `consumequeue/{topic}/{queue_id}/{20-digit start byte offset}`, each holding
//! `units_per_file` units (default 300 000 = 6 000 000 bytes, allocated to the next 4 KiB).
//! A unit of all zeros is empty. Unflushed units (and the partial last page) stay in memory in
//! `pending`; the checkpoint task writes them with aligned direct writes. The in-memory max
//! offset is the truth while running; at load, max = index of the last non-empty unit + 1.
//! On truncation (recovery), stale units past the new end are zeroed on disk, so "last
//! non-empty unit" stays correct.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::io::{align_down, align_up, FileSystem, StorageFile};
use crate::StorageError;

/// Bytes of one unit.
pub const CQ_UNIT_SIZE_BYTES: u64 = 20;
const _: () = assert!(CQ_UNIT_SIZE_BYTES == 20);

/// One consume-queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CqUnit {
    /// Commit-log (physical) offset of the record, shard bits included.
    pub physical_offset: u64,
    /// Record size.
    pub size: u32,
    /// Tag hash, or deliver time for `SCHEDULE_TOPIC_XXXX`.
    pub tags_code: i64,
}

impl CqUnit {
    /// Big-endian unit bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out[..8].copy_from_slice(&self.physical_offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.size.to_be_bytes());
        out[12..].copy_from_slice(&self.tags_code.to_be_bytes());
        out
    }

    /// Decodes a unit (`bytes` must be 20 long).
    #[must_use]
    pub fn decode(bytes: &[u8]) -> Self {
        let mut phys = [0u8; 8];
        phys.copy_from_slice(&bytes[..8]);
        let mut size = [0u8; 4];
        size.copy_from_slice(&bytes[8..12]);
        let mut tags = [0u8; 8];
        tags.copy_from_slice(&bytes[12..20]);
        Self {
            physical_offset: u64::from_be_bytes(phys),
            size: u32::from_be_bytes(size),
            tags_code: i64::from_be_bytes(tags),
        }
    }

    /// True for an all-zero (empty) unit.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
}

/// A flush job: writes to do outside the `RefCell` borrow.
pub struct FlushJob {
    /// `(file index, position in file, aligned bytes)`.
    pub writes: Vec<(u64, u64, Vec<u8>)>,
    /// Flushed byte position once the writes are done.
    pub flushed_byte: u64,
}

/// One consume queue. Lives on the shard that owns the queue, from open to shutdown.
pub struct ConsumeQueue {
    dir: PathBuf,
    units_per_file: u64,
    min_offset: u64,
    max_offset: u64,
    files: BTreeMap<u64, Rc<dyn StorageFile>>,
    /// Bytes from `pending_start_byte` to `max_offset * 20`.
    pending: Vec<u8>,
    pending_start_byte: u64,
    flushed_byte: u64,
}

fn file_name(start_byte: u64) -> String {
    format!("{start_byte:020}")
}

impl ConsumeQueue {
    /// An empty queue stored under `dir`.
    #[must_use]
    pub fn new(dir: PathBuf, units_per_file: u64) -> Self {
        Self {
            dir,
            units_per_file,
            min_offset: 0,
            max_offset: 0,
            files: BTreeMap::new(),
            pending: Vec::new(),
            pending_start_byte: 0,
            flushed_byte: 0,
        }
    }

    fn file_bytes(&self) -> u64 {
        self.units_per_file * CQ_UNIT_SIZE_BYTES
    }

    /// Units per file.
    #[must_use]
    pub fn units_per_file(&self) -> u64 {
        self.units_per_file
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// First valid offset.
    #[must_use]
    pub fn min_offset(&self) -> u64 {
        self.min_offset
    }

    /// One past the last unit.
    #[must_use]
    pub fn max_offset(&self) -> u64 {
        self.max_offset
    }

    /// Loads a queue from its directory.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn load(
        fs: &dyn FileSystem,
        dir: PathBuf,
        units_per_file: u64,
    ) -> Result<Self, StorageError> {
        let mut queue = Self::new(dir.clone(), units_per_file);
        let file_bytes = queue.file_bytes();
        let names = fs.list_dir(&dir).map_err(|e| StorageError::io(&dir, e))?;
        for name in names {
            let Ok(start_byte) = name.parse::<u64>() else {
                continue;
            };
            if start_byte % file_bytes != 0 {
                continue;
            }
            let path = dir.join(&name);
            let file = fs
                .open(&path, false)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            queue.files.insert(start_byte / file_bytes, file);
        }
        let (Some((&first_index, first)), Some((&last_index, last))) =
            (queue.files.first_key_value(), queue.files.last_key_value())
        else {
            return Ok(queue);
        };
        let read = |file: Rc<dyn StorageFile>| async move {
            let path = file.path();
            file.read_at(0, usize::try_from(file_bytes).unwrap_or(usize::MAX))
                .await
                .map_err(|e| StorageError::io(path, e))
        };
        let last_bytes = read(last.clone()).await?;
        let units_in = |bytes: &[u8]| bytes.len() / 20;
        let last_nonempty = (0..units_in(&last_bytes))
            .rev()
            .find(|&i| !CqUnit::decode(&last_bytes[i * 20..i * 20 + 20]).is_empty());
        let first_bytes = if first_index == last_index {
            last_bytes.clone()
        } else {
            read(first.clone()).await?
        };
        let first_nonempty = (0..units_in(&first_bytes))
            .find(|&i| !CqUnit::decode(&first_bytes[i * 20..i * 20 + 20]).is_empty());
        let last_start_unit = last_index * units_per_file;
        queue.max_offset = match last_nonempty {
            Some(i) => last_start_unit + i as u64 + 1,
            None => last_start_unit,
        };
        queue.min_offset = match first_nonempty {
            Some(i) => (first_index * units_per_file + i as u64).min(queue.max_offset),
            None => queue.max_offset,
        };
        queue.reset_pending_from(&last_bytes, last_start_unit);
        Ok(queue)
    }

    /// Sets `pending` to the partial page at the end, taken from the last file's bytes.
    fn reset_pending_from(&mut self, file_data: &[u8], file_start_unit: u64) {
        let end_byte = self.max_offset * CQ_UNIT_SIZE_BYTES;
        let file_start_byte = file_start_unit * CQ_UNIT_SIZE_BYTES;
        let in_file = end_byte.saturating_sub(file_start_byte);
        let page = align_down(in_file);
        self.pending_start_byte = file_start_byte + page;
        let from = usize::try_from(page)
            .unwrap_or(usize::MAX)
            .min(file_data.len());
        let to = usize::try_from(in_file)
            .unwrap_or(usize::MAX)
            .min(file_data.len());
        self.pending = file_data[from..to.max(from)].to_vec();
        self.pending
            .resize(usize::try_from(in_file - page).unwrap_or(0), 0);
        self.flushed_byte = end_byte;
    }

    /// Appends a unit at `queue_offset`. A duplicate (below max) is ignored; an empty queue may
    /// start at any offset (rebuild after retention). Returns false for an unexpected gap.
    pub fn put(&mut self, queue_offset: u64, unit: CqUnit) -> bool {
        if queue_offset < self.max_offset {
            return true;
        }
        if queue_offset > self.max_offset {
            if self.min_offset != self.max_offset {
                return false;
            }
            // Empty queue starting later: begin the pending page at the new position.
            let file_bytes = self.file_bytes();
            let byte = queue_offset * CQ_UNIT_SIZE_BYTES;
            let file_start = byte / file_bytes * file_bytes;
            self.pending_start_byte = file_start + align_down(byte - file_start);
            self.pending = vec![0u8; usize::try_from(byte - self.pending_start_byte).unwrap_or(0)];
            self.flushed_byte = byte;
            self.min_offset = queue_offset;
            self.max_offset = queue_offset;
        }
        self.pending.extend_from_slice(&unit.encode());
        self.max_offset += 1;
        true
    }

    /// Units in memory: `[first_memory_unit, max)`.
    fn first_memory_unit(&self) -> u64 {
        self.flushed_byte.min(self.max_offset * CQ_UNIT_SIZE_BYTES) / CQ_UNIT_SIZE_BYTES
    }

    /// Reads up to `count` units from `from` (stops at a file boundary). Units not in memory
    /// are read from their file: the caller gets a plan to run outside the borrow.
    #[must_use]
    pub fn plan_read(&self, from: u64, count: u64) -> ReadPlan {
        let to = self.max_offset.min(from.saturating_add(count));
        if from >= to {
            return ReadPlan::Memory(Vec::new());
        }
        let memory_from = self.first_memory_unit();
        if from >= memory_from {
            let mut units = Vec::with_capacity(usize::try_from(to - from).unwrap_or(0));
            for n in from..to {
                let at = usize::try_from(n * CQ_UNIT_SIZE_BYTES - self.pending_start_byte)
                    .unwrap_or(usize::MAX);
                match self.pending.get(at..at + 20) {
                    Some(bytes) => units.push(CqUnit::decode(bytes)),
                    None => break,
                }
            }
            return ReadPlan::Memory(units);
        }
        let file_index = from / self.units_per_file;
        let file_end_unit = (file_index + 1) * self.units_per_file;
        let to = to.min(memory_from).min(file_end_unit);
        match self.files.get(&file_index) {
            Some(file) => ReadPlan::File {
                file: file.clone(),
                pos: (from - file_index * self.units_per_file) * CQ_UNIT_SIZE_BYTES,
                units: to - from,
            },
            None => ReadPlan::Missing,
        }
    }

    /// A job writing every unflushed unit, or `None` if clean.
    #[must_use]
    pub fn flush_job(&self) -> Option<FlushJob> {
        let end_byte = self.max_offset * CQ_UNIT_SIZE_BYTES;
        if self.flushed_byte >= end_byte {
            return None;
        }
        let file_bytes = self.file_bytes();
        let mut writes = Vec::new();
        let mut at = self.pending_start_byte;
        while at < end_byte {
            let file_index = at / file_bytes;
            let file_start = file_index * file_bytes;
            let chunk_end = end_byte.min(file_start + file_bytes);
            let from = usize::try_from(at - self.pending_start_byte).unwrap_or(0);
            let to = usize::try_from(chunk_end - self.pending_start_byte).unwrap_or(0);
            let mut data = self.pending[from..to].to_vec();
            data.resize(usize::try_from(align_up(data.len() as u64)).unwrap_or(0), 0);
            writes.push((file_index, at - file_start, data));
            at = chunk_end;
        }
        Some(FlushJob {
            writes,
            flushed_byte: end_byte,
        })
    }

    /// The file for `file_index`, if open.
    #[must_use]
    pub fn file(&self, file_index: u64) -> Option<Rc<dyn StorageFile>> {
        self.files.get(&file_index).cloned()
    }

    /// Path and allocation size of the file for `file_index`.
    #[must_use]
    pub fn file_path(&self, file_index: u64) -> (PathBuf, u64) {
        let file_bytes = self.file_bytes();
        (
            self.dir.join(file_name(file_index * file_bytes)),
            align_up(file_bytes),
        )
    }

    /// Registers a newly created file.
    pub fn add_file(&mut self, file_index: u64, file: Rc<dyn StorageFile>) {
        self.files.insert(file_index, file);
    }

    /// Marks a flush job done: drops flushed bytes except the partial last page.
    pub fn complete_flush(&mut self, flushed_byte: u64) {
        if flushed_byte <= self.pending_start_byte {
            return;
        }
        let file_bytes = self.file_bytes();
        let file_start = flushed_byte.saturating_sub(1) / file_bytes * file_bytes;
        let new_start = if flushed_byte - file_start == file_bytes {
            flushed_byte
        } else {
            file_start + align_down(flushed_byte - file_start)
        };
        let drop = usize::try_from(new_start - self.pending_start_byte).unwrap_or(0);
        self.pending.drain(..drop.min(self.pending.len()));
        self.pending_start_byte = new_start;
        self.flushed_byte = self.flushed_byte.max(flushed_byte);
    }

    /// Cuts the queue to `new_max` units (recovery), returning the zeroing writes for the stale
    /// units on disk. `tail_file_bytes` must be the current bytes of the file holding `new_max`
    /// if it is below the memory part.
    pub fn truncate(
        &mut self,
        new_max: u64,
        tail_file_bytes: Option<&[u8]>,
    ) -> Vec<(u64, u64, Vec<u8>)> {
        if new_max >= self.max_offset {
            return Vec::new();
        }
        let old_end = self.max_offset * CQ_UNIT_SIZE_BYTES;
        let file_bytes = self.file_bytes();
        let new_end = new_max * CQ_UNIT_SIZE_BYTES;
        if new_end >= self.pending_start_byte {
            let keep = usize::try_from(new_end - self.pending_start_byte).unwrap_or(0);
            self.pending.truncate(keep);
        } else {
            let file_index = new_end / file_bytes;
            let file_start = file_index * file_bytes;
            self.pending_start_byte = file_start + align_down(new_end - file_start);
            let from = usize::try_from(self.pending_start_byte - file_start).unwrap_or(0);
            let to = usize::try_from(new_end - file_start).unwrap_or(0);
            self.pending = tail_file_bytes
                .and_then(|bytes| bytes.get(from..to))
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| vec![0u8; to - from]);
        }
        self.max_offset = new_max;
        self.min_offset = self.min_offset.min(new_max);
        self.flushed_byte = self.flushed_byte.min(new_end);
        // Zero [new_end, old_end) on disk, page by page per file (keeping the live prefix).
        let mut writes = Vec::new();
        let mut at = self.pending_start_byte;
        while at < old_end {
            let file_index = at / file_bytes;
            let file_start = file_index * file_bytes;
            let chunk_end = old_end.min(file_start + file_bytes);
            let len = usize::try_from(align_up(chunk_end - at)).unwrap_or(0);
            let mut data = vec![0u8; len];
            if at == self.pending_start_byte {
                data[..self.pending.len()].copy_from_slice(&self.pending);
            }
            writes.push((file_index, at - file_start, data));
            at = chunk_end;
        }
        writes
    }

    /// Removes files whose units are all below `min_physical` (retention); advances the min
    /// offset. Never removes the last file. Returns the removed paths.
    pub fn drop_files_below(&mut self, first_kept_unit: u64) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        let last = self.files.keys().next_back().copied();
        let removable: Vec<u64> = self
            .files
            .keys()
            .copied()
            .filter(|&index| {
                Some(index) != last && (index + 1) * self.units_per_file <= first_kept_unit
            })
            .collect();
        for index in removable {
            self.files.remove(&index);
            removed.push(self.file_path(index).0);
        }
        self.min_offset = self.min_offset.max(first_kept_unit.min(self.max_offset));
        removed
    }

    /// Raises the min offset (units below point at deleted commit log).
    pub fn set_min_offset(&mut self, min_offset: u64) {
        self.min_offset = self.min_offset.max(min_offset.min(self.max_offset));
    }
}

/// Where [`ConsumeQueue::plan_read`] finds units.
pub enum ReadPlan {
    /// Units already in memory.
    Memory(Vec<CqUnit>),
    /// Read `units` units at byte `pos` of `file`.
    File {
        /// The file.
        file: Rc<dyn StorageFile>,
        /// Byte position.
        pos: u64,
        /// Unit count.
        units: u64,
    },
    /// The file holding the units is gone (retention).
    Missing,
}

impl ReadPlan {
    /// Runs the plan.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn run(self) -> Result<Option<Vec<CqUnit>>, StorageError> {
        match self {
            ReadPlan::Memory(units) => Ok(Some(units)),
            ReadPlan::Missing => Ok(None),
            ReadPlan::File { file, pos, units } => {
                let len = usize::try_from(units * CQ_UNIT_SIZE_BYTES).unwrap_or(0);
                let bytes = file
                    .read_at(pos, len)
                    .await
                    .map_err(|e| StorageError::io(file.path(), e))?;
                Ok(Some(bytes.chunks_exact(20).map(CqUnit::decode).collect()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_golden_bytes() {
        let unit = CqUnit {
            physical_offset: 0x0102_0304_0506_0708,
            size: 0x0A0B_0C0D,
            tags_code: 2_598_919,
        };
        let bytes = unit.encode();
        assert_eq!(bytes[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(bytes[8..12], [0x0A, 0x0B, 0x0C, 0x0D]);
        assert_eq!(bytes[12..], 2_598_919i64.to_be_bytes());
        assert_eq!(CqUnit::decode(&bytes), unit);
    }

    #[test]
    fn put_plan_flush_in_memory() {
        let mut queue = ConsumeQueue::new(PathBuf::from("/q"), 300);
        for n in 0..500u64 {
            assert!(queue.put(
                n,
                CqUnit {
                    physical_offset: n * 100,
                    size: 100,
                    tags_code: 0
                }
            ));
        }
        assert!(queue.put(3, CqUnit::default()), "duplicates are ignored");
        assert_eq!(queue.max_offset(), 500);
        let ReadPlan::Memory(units) = queue.plan_read(10, 5) else {
            panic!()
        };
        assert_eq!(units.len(), 5);
        assert_eq!(units[0].physical_offset, 1000);
        let job = queue.flush_job().unwrap();
        // Two files: 300 units (6000 bytes -> 8192 aligned) and 200 units.
        assert_eq!(job.writes.len(), 2);
        assert_eq!(job.writes[0].2.len(), 8192);
        assert_eq!(job.writes[1].1, 0);
        queue.complete_flush(job.flushed_byte);
        // The partial page of the second file stays in memory.
        assert_eq!(queue.first_memory_unit(), 500);
        assert!(matches!(queue.plan_read(10, 5), ReadPlan::Missing));
    }
}
