//! Index by message key (`KEYS`, space-separated) and unique key (`UNIQ_KEY`), with RocketMQ
//! semantics: the key is `topic#key`, its hash `abs(String.hashCode)`, lookups filter by store
//! time and return the newest entries first. Our own file layout:
//!
//! ```text
//! index/{20-digit sequence}
//! +---------------------------+----------------------------------+--------------------------+
//! | header, 4096 B (LE)       | slots: slot_count x u32 (LE),    | entries: n x 20 B (BE)   |
//! |                           | padded to 4096                   |                          |
//! +---------------------------+----------------------------------+--------------------------+
//! header: 0 magic u32 "RSIX" | 4 version u32 = 2 | 8 begin_ts_ms i64 | 16 end_ts_ms i64 |
//!         24 begin_local u64 | 32 end_local u64 | 40 entry_count u32 | 44 slot_count u32 |
//!         48 sealed u32 | 52 covered_local u64 | 60 crc32(0..60) u32
//!         (version 1, still read: no covered_local, crc32(0..52) at 52)
//! slot  : 1 + number of the newest entry whose hash % slot_count is this slot (0 = empty)
//! entry : key_hash i32 | physical offset i64 | time diff i32 (s since begin_ts) |
//!         prev u32 (1 + number of the previous entry in the chain, 0 = none)
//! ```
//!
//! The active (last) file keeps its entries in memory with a hash map; the checkpoint task
//! appends new entries to the file and rewrites the header (slots stay zero). When it holds
//! `entries_per_file` entries it is sealed: the slots and chains are written once, and the
//! memory is dropped; lookups then read the slot and follow the chain on disk.
//!
//! **Coverage.** `covered_local` says every record starting below it has all its keys in this
//! file or an earlier one. The checkpoint task rewrites the active file's header with the
//! offset it is about to checkpoint (even without new entries, so a keyless tail is covered
//! too); a file sealed while a record's keys were being added covers up to that record. At
//! open, [`Index::covered_local`] is the coverage of the intact files, and recovery
//! re-dispatches from there if it is below the checkpoint: a deleted `index/` directory, a
//! truncated or torn file or a hole in the sequence (that file and every later one are
//! removed) rebuild the index from the commit log instead of silently missing keys. Version 1
//! files count as covering up to their last entry's record.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use protocol::message::properties::java_string_hash;

use crate::commit_log::{DispatchEntry, LOCAL_OFFSET_MASK};
use crate::io::{align_down, align_up, FileSystem, StorageFile};
use crate::StorageError;

const MAGIC: u32 = 0x5849_5352;
const VERSION: u32 = 2;
/// The format before `covered_local`: decoded, never written.
const VERSION_1: u32 = 1;
/// Header bytes covered by the CRC (version 2); the CRC follows.
const HEADER_PAYLOAD_BYTES: usize = 60;
/// Header bytes read at load (payload and CRC).
const HEADER_READ_BYTES: usize = HEADER_PAYLOAD_BYTES + 4;
const HEADER_BYTES: u64 = 4096;
const ENTRY_BYTES: u64 = 20;
/// [`ENTRY_BYTES`] as a slice length.
const ENTRY_LEN: usize = 20;
const _: () = assert!(ENTRY_LEN as u64 == ENTRY_BYTES);

/// `abs(hashCode(topic#key))` as RocketMQ's `IndexFile.indexKeyHashMethod`.
#[must_use]
pub fn key_hash(topic: &str, key: &str) -> i32 {
    let hash = java_string_hash(&format!("{topic}#{key}"));
    if hash == i32::MIN {
        0
    } else {
        hash.abs()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Header {
    begin_ts_ms: i64,
    end_ts_ms: i64,
    begin_local: u64,
    end_local: u64,
    entry_count: u32,
    slot_count: u32,
    sealed: bool,
    /// Every record starting below this local offset has its keys in this or earlier files.
    covered_local: u64,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; 4096];
        out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        out[4..8].copy_from_slice(&VERSION.to_le_bytes());
        out[8..16].copy_from_slice(&self.begin_ts_ms.to_le_bytes());
        out[16..24].copy_from_slice(&self.end_ts_ms.to_le_bytes());
        out[24..32].copy_from_slice(&self.begin_local.to_le_bytes());
        out[32..40].copy_from_slice(&self.end_local.to_le_bytes());
        out[40..44].copy_from_slice(&self.entry_count.to_le_bytes());
        out[44..48].copy_from_slice(&self.slot_count.to_le_bytes());
        out[48..52].copy_from_slice(&u32::from(self.sealed).to_le_bytes());
        out[52..60].copy_from_slice(&self.covered_local.to_le_bytes());
        let crc = crc32fast::hash(&out[..HEADER_PAYLOAD_BYTES]);
        out[HEADER_PAYLOAD_BYTES..HEADER_READ_BYTES].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 56 {
            return None;
        }
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        if u32_at(0) != MAGIC {
            return None;
        }
        let covered_local = match u32_at(4) {
            VERSION_1 if crc32fast::hash(&bytes[..52]) == u32_at(52) => None,
            VERSION
                if bytes.len() >= HEADER_READ_BYTES
                    && crc32fast::hash(&bytes[..HEADER_PAYLOAD_BYTES])
                        == u32_at(HEADER_PAYLOAD_BYTES) =>
            {
                Some(u64_at(52))
            }
            _ => return None,
        };
        let end_local = u64_at(32);
        Some(Self {
            begin_ts_ms: i64::from_le_bytes(u64_at(8).to_le_bytes()),
            end_ts_ms: i64::from_le_bytes(u64_at(16).to_le_bytes()),
            begin_local: u64_at(24),
            end_local,
            entry_count: u32_at(40),
            slot_count: u32_at(44),
            sealed: u32_at(48) != 0,
            // Version 1: the last entry's record may be partly indexed; redo it.
            covered_local: covered_local.unwrap_or(end_local),
        })
    }

    /// Bytes a file with this header needs (its entries end there).
    fn entries_end(&self) -> u64 {
        entries_offset(self.slot_count) + u64::from(self.entry_count) * ENTRY_BYTES
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    hash: i32,
    physical: u64,
    store_ts_ms: i64,
}

fn entries_offset(slot_count: u32) -> u64 {
    HEADER_BYTES + align_up(u64::from(slot_count) * 4)
}

/// An index file held in memory (the active one, or one waiting to be sealed).
struct MemoryFile {
    seq: u64,
    header: Header,
    entries: Vec<Entry>,
    by_hash: HashMap<i32, Vec<u32>>,
    flushed_entries: usize,
    /// `header.covered_local` as last written to the file.
    flushed_covered_local: u64,
    file: Option<Rc<dyn StorageFile>>,
}

impl MemoryFile {
    fn new(seq: u64, slot_count: u32) -> Self {
        Self {
            seq,
            header: Header {
                slot_count,
                ..Header::default()
            },
            entries: Vec::new(),
            by_hash: HashMap::new(),
            flushed_entries: 0,
            flushed_covered_local: 0,
            file: None,
        }
    }

    fn push(&mut self, entry: Entry) {
        if self.entries.is_empty() {
            self.header.begin_ts_ms = entry.store_ts_ms;
            self.header.begin_local = entry.physical & LOCAL_OFFSET_MASK;
        }
        self.header.end_ts_ms = self.header.end_ts_ms.max(entry.store_ts_ms);
        self.header.end_local = self
            .header
            .end_local
            .max(entry.physical & LOCAL_OFFSET_MASK);
        let number = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.by_hash.entry(entry.hash).or_default().push(number);
        self.entries.push(entry);
        self.header.entry_count = number + 1;
    }

    fn entry_bytes(&self, number: usize, with_chain: Option<u32>) -> [u8; 20] {
        let entry = self.entries[number];
        let mut out = [0u8; 20];
        out[..4].copy_from_slice(&entry.hash.to_be_bytes());
        out[4..12].copy_from_slice(&entry.physical.to_be_bytes());
        let diff_s = (entry.store_ts_ms - self.header.begin_ts_ms).max(0) / 1000;
        out[12..16].copy_from_slice(&i32::try_from(diff_s).unwrap_or(i32::MAX).to_be_bytes());
        out[16..20].copy_from_slice(&with_chain.unwrap_or(0).to_be_bytes());
        out
    }
}

/// A sealed index file on disk.
struct SealedFile {
    header: Header,
    file: Rc<dyn StorageFile>,
    path: PathBuf,
}

/// The shard's index. Lives on the shard's executor with the store; loaded at open, fed by
/// dispatch, persisted by the checkpoint task.
pub struct Index {
    dir: PathBuf,
    entries_per_file: u32,
    slot_count: u32,
    sealed: Vec<SealedFile>,
    sealing: Vec<MemoryFile>,
    active: MemoryFile,
    /// Coverage of the intact files found at load (0: none).
    loaded_covered_local: u64,
}

/// One index file read at load.
enum LoadedFile {
    Sealed(SealedFile),
    Unsealed(MemoryFile),
}

impl LoadedFile {
    fn header(&self) -> &Header {
        match self {
            Self::Sealed(file) => &file.header,
            Self::Unsealed(memory) => &memory.header,
        }
    }
}

/// Reads one index file; `None` if it is damaged (no valid header, or shorter than its header
/// says).
async fn load_file(
    fs: &dyn FileSystem,
    path: &Path,
    seq: u64,
    entries_per_file: u32,
) -> Result<Option<LoadedFile>, StorageError> {
    let io_error = |e| StorageError::io(path, e);
    let file = fs.open(path, false).await.map_err(io_error)?;
    let header_bytes = file.read_at(0, HEADER_READ_BYTES).await.map_err(io_error)?;
    let Some(header) = Header::decode(&header_bytes) else {
        return Ok(None);
    };
    let len = file.len().await.map_err(io_error)?;
    if len < header.entries_end() {
        return Ok(None);
    }
    if header.sealed {
        return Ok(Some(LoadedFile::Sealed(SealedFile {
            header,
            file,
            path: path.to_path_buf(),
        })));
    }
    let count = header.entry_count as usize;
    let bytes = file
        .read_at(entries_offset(header.slot_count), count * ENTRY_LEN)
        .await
        .map_err(io_error)?;
    if bytes.len() < count * ENTRY_LEN {
        return Ok(None);
    }
    // The active file keeps growing: it must stay allocated (no file-extending writes).
    let total = align_up(
        entries_offset(header.slot_count)
            + u64::from(entries_per_file.max(header.entry_count)) * ENTRY_BYTES,
    );
    if len < total {
        file.allocate(total).await.map_err(io_error)?;
    }
    let mut memory = MemoryFile::new(seq, header.slot_count);
    memory.header.begin_ts_ms = header.begin_ts_ms;
    for chunk in bytes.chunks_exact(ENTRY_LEN) {
        let hash = i32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut phys = [0u8; 8];
        phys.copy_from_slice(&chunk[4..12]);
        let diff = i32::from_be_bytes([chunk[12], chunk[13], chunk[14], chunk[15]]);
        memory.push(Entry {
            hash,
            physical: u64::from_be_bytes(phys),
            store_ts_ms: header.begin_ts_ms + i64::from(diff) * 1000,
        });
    }
    memory.header.begin_ts_ms = header.begin_ts_ms;
    memory.header.covered_local = header.covered_local;
    memory.flushed_entries = memory.entries.len();
    memory.flushed_covered_local = header.covered_local;
    memory.file = Some(file);
    Ok(Some(LoadedFile::Unsealed(memory)))
}

impl Index {
    /// Loads the index (or removes it and starts empty if `reset`). A damaged file (no valid
    /// header, truncated) or one out of sequence is removed with every later file; the
    /// coverage then ends where the intact files end (see [`Index::covered_local`]).
    ///
    /// # Errors
    /// I/O errors.
    pub async fn load(
        fs: &dyn FileSystem,
        dir: &Path,
        entries_per_file: u32,
        reset: bool,
    ) -> Result<Self, StorageError> {
        let slot_count = (entries_per_file / 4).max(1);
        let mut index = Self {
            dir: dir.to_path_buf(),
            entries_per_file,
            slot_count,
            sealed: Vec::new(),
            sealing: Vec::new(),
            active: MemoryFile::new(0, slot_count),
            loaded_covered_local: 0,
        };
        let names = fs.list_dir(dir).map_err(|e| StorageError::io(dir, e))?;
        let mut last_seq: Option<u64> = None;
        let mut damaged = false;
        for name in names {
            let Ok(seq) = name.parse::<u64>() else {
                continue;
            };
            let path = dir.join(&name);
            let out_of_sequence = last_seq.is_some_and(|last| seq != last + 1);
            let loaded = if reset || damaged || out_of_sequence {
                None
            } else {
                load_file(fs, &path, seq, entries_per_file).await?
            };
            let Some(loaded) = loaded else {
                if !reset && !damaged {
                    damaged = true;
                    tracing::warn!(target: "storage", file = %path.display(),
                        "index file damaged or out of sequence: removing it and later index files");
                }
                fs.remove(&path)
                    .await
                    .map_err(|e| StorageError::io(&path, e))?;
                continue;
            };
            last_seq = Some(seq);
            index.loaded_covered_local = index
                .loaded_covered_local
                .max(loaded.header().covered_local);
            match loaded {
                LoadedFile::Sealed(file) => index.sealed.push(file),
                LoadedFile::Unsealed(memory) => index.sealing.push(memory),
            }
        }
        // The last unsealed file stays active; earlier unsealed ones get sealed.
        let next_seq = last_seq.map_or(0, |s| s + 1);
        index.active = match index.sealing.pop() {
            Some(last) if Some(last.seq) == last_seq => last,
            Some(earlier) => {
                index.sealing.push(earlier);
                MemoryFile::new(next_seq, slot_count)
            }
            None => MemoryFile::new(next_seq, slot_count),
        };
        Ok(index)
    }

    /// Every record starting below this local offset has its keys in the files found at load
    /// (0 if there were none). Recovery re-dispatches from here when it is below the
    /// checkpoint, which rebuilds a lost or damaged index.
    #[must_use]
    pub fn covered_local(&self) -> u64 {
        self.loaded_covered_local
    }

    /// Lowers every file's coverage to `end_local`, the end recovery found: a file sealed or
    /// flushed before a power loss (ASYNC_FLUSH) may claim records that are gone, and the
    /// records later written at those offsets must not count as covered. Sealed files get
    /// their header rewritten.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn limit_coverage(&mut self, end_local: u64) -> Result<(), StorageError> {
        self.loaded_covered_local = self.loaded_covered_local.min(end_local);
        for memory in self
            .sealing
            .iter_mut()
            .chain(std::iter::once(&mut self.active))
        {
            memory.header.covered_local = memory.header.covered_local.min(end_local);
        }
        for sealed in &mut self.sealed {
            if sealed.header.covered_local <= end_local {
                continue;
            }
            sealed.header.covered_local = end_local;
            let path = &sealed.path;
            sealed
                .file
                .write_at(0, &sealed.header.encode())
                .await
                .map_err(|e| StorageError::io(path, e))?;
            sealed
                .file
                .sync()
                .await
                .map_err(|e| StorageError::io(path, e))?;
        }
        Ok(())
    }

    /// Drops in-memory entries at or past `from_local` (they will be re-dispatched).
    pub fn cut(&mut self, from_local: u64) {
        let keep = self
            .active
            .entries
            .iter()
            .position(|e| (e.physical & LOCAL_OFFSET_MASK) >= from_local)
            .unwrap_or(self.active.entries.len());
        if keep < self.active.entries.len() {
            let entries: Vec<Entry> = self.active.entries[..keep].to_vec();
            let begin = self.active.header.begin_ts_ms;
            let file = self.active.file.take();
            let flushed = self.active.flushed_entries.min(keep);
            let covered = self.active.header.covered_local;
            self.active = MemoryFile::new(self.active.seq, self.slot_count);
            for entry in entries {
                self.active.push(entry);
            }
            if keep > 0 {
                self.active.header.begin_ts_ms = begin;
            }
            self.active.header.covered_local = covered;
            self.active.file = file;
            self.active.flushed_entries = flushed;
        }
        // The file's header is rewritten at the next flush.
        self.active.header.covered_local = self.active.header.covered_local.min(from_local);
        self.active.flushed_covered_local = 0;
    }

    /// Adds the keys of a dispatched record.
    pub fn add(&mut self, entry: &DispatchEntry) {
        // A re-dispatched record already present (sealed during the crash window) is skipped.
        if self
            .active
            .entries
            .last()
            .is_some_and(|last| last.physical >= entry.physical_offset)
        {
            return;
        }
        let local = entry.physical_offset & LOCAL_OFFSET_MASK;
        for key in &entry.index_keys {
            if self.active.entries.len() >= self.entries_per_file as usize {
                let next = MemoryFile::new(self.active.seq + 1, self.slot_count);
                let mut full = std::mem::replace(&mut self.active, next);
                // Records before this one are complete in the full file or earlier ones.
                debug_assert!(full.header.covered_local <= local);
                full.header.covered_local = local;
                self.sealing.push(full);
            }
            self.active.push(Entry {
                hash: key_hash(&entry.topic, key),
                physical: entry.physical_offset,
                store_ts_ms: entry.store_timestamp_ms,
            });
        }
    }

    /// Physical offsets of entries for `topic#key` with store time in `[begin_ms, end_ms]`,
    /// newest first, at most `max_count` (hash matches; the caller checks the record).
    ///
    /// # Errors
    /// I/O errors reading sealed files.
    pub async fn lookup(
        index: &RefCell<Index>,
        topic: &str,
        key: &str,
        max_count: usize,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<u64>, StorageError> {
        let hash = key_hash(topic, key);
        let mut out = Vec::new();
        let sealed: Vec<(Header, Rc<dyn StorageFile>, PathBuf)> = {
            let index = index.borrow();
            let in_range = |ts: i64| ts >= begin_ms && ts <= end_ms;
            for memory in std::iter::once(&index.active).chain(index.sealing.iter().rev()) {
                if let Some(numbers) = memory.by_hash.get(&hash) {
                    for number in numbers.iter().rev() {
                        let entry = memory.entries[*number as usize];
                        if in_range(entry.store_ts_ms) && out.len() < max_count {
                            out.push(entry.physical);
                        }
                    }
                }
            }
            index
                .sealed
                .iter()
                .rev()
                .filter(|f| f.header.end_ts_ms >= begin_ms && f.header.begin_ts_ms <= end_ms)
                .map(|f| (f.header, f.file.clone(), f.path.clone()))
                .collect()
        };
        for (header, file, path) in sealed {
            if out.len() >= max_count {
                break;
            }
            let slot = u64::from(hash.unsigned_abs() % header.slot_count);
            let slot_bytes = file
                .read_at(HEADER_BYTES + slot * 4, 4)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            if slot_bytes.len() < 4 {
                continue;
            }
            let mut next =
                u32::from_le_bytes([slot_bytes[0], slot_bytes[1], slot_bytes[2], slot_bytes[3]]);
            let mut hops = 0u32;
            while next != 0 && out.len() < max_count && hops <= header.entry_count {
                hops += 1;
                let number = u64::from(next - 1);
                let bytes = file
                    .read_at(entries_offset(header.slot_count) + number * ENTRY_BYTES, 20)
                    .await
                    .map_err(|e| StorageError::io(&path, e))?;
                if bytes.len() < 20 {
                    break;
                }
                let entry_hash = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                let mut phys = [0u8; 8];
                phys.copy_from_slice(&bytes[4..12]);
                let diff = i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
                let ts = header.begin_ts_ms + i64::from(diff) * 1000;
                if entry_hash == hash && ts + 999 >= begin_ms && ts <= end_ms {
                    out.push(u64::from_be_bytes(phys));
                }
                next = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
            }
        }
        out.dedup();
        Ok(out)
    }

    /// Sealed files entirely below `min_local` (retention): removed from the index, paths
    /// returned for deletion.
    pub fn drop_files_below(&mut self, min_local: u64) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        self.sealed.retain(|file| {
            let gone = file.header.end_local < min_local;
            if gone {
                removed.push(file.path.clone());
            }
            !gone
        });
        removed
    }

    fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}"))
    }
}

/// Seals full files and appends the active file's new entries; syncs what it wrote. The
/// active file's header records `covered_local` (every record below it has been added), and
/// is written even without new entries so that a keyless tail counts as covered; the file is
/// created then if needed.
///
/// # Errors
/// I/O errors.
pub(crate) async fn flush_index(
    fs: &dyn FileSystem,
    index: &RefCell<Index>,
    covered_local: u64,
) -> Result<(), StorageError> {
    // Seal full files, oldest first.
    loop {
        let job = {
            let index = index.borrow();
            index.sealing.first().map(|memory| {
                let mut header = memory.header;
                header.sealed = true;
                let slot_count = header.slot_count;
                let mut slots = vec![0u32; slot_count as usize];
                let mut entries = Vec::with_capacity(memory.entries.len() * 20);
                for (number, entry) in memory.entries.iter().enumerate() {
                    let slot = (entry.hash.unsigned_abs() % slot_count) as usize;
                    entries.extend_from_slice(&memory.entry_bytes(number, Some(slots[slot])));
                    slots[slot] = u32::try_from(number + 1).unwrap_or(u32::MAX);
                }
                let mut bytes = header.encode();
                for slot in slots {
                    bytes.extend_from_slice(&slot.to_le_bytes());
                }
                bytes.resize(usize::try_from(entries_offset(slot_count)).unwrap_or(0), 0);
                bytes.extend_from_slice(&entries);
                bytes.resize(
                    usize::try_from(align_up(bytes.len() as u64)).unwrap_or(0),
                    0,
                );
                (index.path_of(memory.seq), header, bytes)
            })
        };
        let Some((path, header, bytes)) = job else {
            break;
        };
        let file = fs
            .open(&path, true)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        file.allocate(bytes.len() as u64)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        // Slots and entries durable before the header that says "sealed": the file may be
        // the active one so far, and a torn or lost in-place rewrite must leave it readable as
        // that (the unsealed header ignores the chains, and its entries are unchanged).
        let header_len = usize::try_from(HEADER_BYTES).unwrap_or(0);
        let mut at = header_len;
        while at < bytes.len() {
            let end = (at + (1 << 20)).min(bytes.len());
            file.write_at(at as u64, &bytes[at..end])
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            at = end;
        }
        file.sync().await.map_err(|e| StorageError::io(&path, e))?;
        file.write_at(0, &bytes[..header_len])
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        file.sync().await.map_err(|e| StorageError::io(&path, e))?;
        let mut index = index.borrow_mut();
        index.sealing.remove(0);
        index.sealed.push(SealedFile { header, file, path });
    }
    // Append the active file's new entries and rewrite its header.
    let job = {
        let mut index = index.borrow_mut();
        let covered = index.active.header.covered_local.max(covered_local);
        index.active.header.covered_local = covered;
        let active = &index.active;
        let current = active.entries.len() == active.flushed_entries
            && active.flushed_covered_local == covered
            && active.file.is_some();
        if current {
            None
        } else {
            let base = entries_offset(active.header.slot_count);
            let from_byte = align_down(active.flushed_entries as u64 * ENTRY_BYTES);
            let first = usize::try_from(from_byte / ENTRY_BYTES).unwrap_or(0);
            let mut region = Vec::new();
            let skip = usize::try_from(from_byte - first as u64 * ENTRY_BYTES).unwrap_or(0);
            // Only the header changes when every entry is already in the file.
            let unflushed = active.entries.len() > active.flushed_entries;
            for number in (first..active.entries.len()).filter(|_| unflushed) {
                region.extend_from_slice(&active.entry_bytes(number, None));
            }
            let mut region = region.split_off(skip.min(region.len()));
            region.resize(
                usize::try_from(align_up(region.len() as u64)).unwrap_or(0),
                0,
            );
            let total = entries_offset(active.header.slot_count)
                + u64::from(index.entries_per_file) * ENTRY_BYTES;
            Some((
                index.path_of(active.seq),
                active.file.clone(),
                active.header.encode(),
                base + from_byte,
                region,
                align_up(total),
                active.entries.len(),
                active.seq,
                covered,
            ))
        }
    };
    let Some((path, file, header, pos, region, total, count, seq, covered)) = job else {
        return Ok(());
    };
    let file = match file {
        Some(file) => file,
        None => {
            let file = fs
                .open(&path, true)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            file.allocate(total)
                .await
                .map_err(|e| StorageError::io(&path, e))?;
            file
        }
    };
    // Entries durable before the header that counts them.
    if !region.is_empty() {
        file.write_at(pos, &region)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        file.sync().await.map_err(|e| StorageError::io(&path, e))?;
    }
    file.write_at(0, &header)
        .await
        .map_err(|e| StorageError::io(&path, e))?;
    file.sync().await.map_err(|e| StorageError::io(&path, e))?;
    let mut index = index.borrow_mut();
    if index.active.seq == seq {
        index.active.file = Some(file);
        index.active.flushed_entries = index
            .active
            .flushed_entries
            .max(count.min(index.active.entries.len()));
        index.active.flushed_covered_local = covered;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_matches_java() {
        // "TopicTest#key1".hashCode() computed with the Java algorithm.
        assert_eq!(key_hash("T", "k"), java_string_hash("T#k").abs());
        let header = Header {
            begin_ts_ms: 5,
            end_ts_ms: 9,
            begin_local: 1,
            end_local: 2,
            entry_count: 3,
            slot_count: 4,
            sealed: true,
            covered_local: 7,
        };
        assert_eq!(Header::decode(&header.encode()), Some(header));
        let mut torn = header.encode();
        torn[55] ^= 1;
        assert_eq!(Header::decode(&torn), None);
    }

    /// A version 1 header (before `covered_local`), built byte by byte as that format wrote
    /// it: still read, covering up to its last entry's record.
    #[test]
    fn version_1_header_is_read() {
        let mut bytes = vec![0u8; 4096];
        bytes[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        bytes[8..16].copy_from_slice(&100i64.to_le_bytes());
        bytes[16..24].copy_from_slice(&200i64.to_le_bytes());
        bytes[24..32].copy_from_slice(&4096u64.to_le_bytes());
        bytes[32..40].copy_from_slice(&9000u64.to_le_bytes());
        bytes[40..44].copy_from_slice(&3u32.to_le_bytes());
        bytes[44..48].copy_from_slice(&4u32.to_le_bytes());
        let crc = crc32fast::hash(&bytes[..52]);
        bytes[52..56].copy_from_slice(&crc.to_le_bytes());
        let header = Header::decode(&bytes).expect("version 1 header");
        assert_eq!((header.end_local, header.covered_local), (9000, 9000));
        assert_eq!((header.entry_count, header.sealed), (3, false));
        bytes[40] ^= 1;
        assert_eq!(Header::decode(&bytes), None);
    }
}
