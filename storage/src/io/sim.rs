//! An in-memory, fault-injecting [`FileSystem`] for tests. Always compiled (plain safe code,
//! no extra dependencies) so integration tests and other crates' tests can use it.
//!
//! Every file keeps two images: **live** (what reads see) and **durable** (what survives a
//! crash). `write_at` changes live only and remembers the written range; `sync` copies the
//! file's written ranges to durable. [`SimFileSystem::crash`] models power loss: each unsynced
//! 512-byte sector either reached the disk or not (seeded coin), everything else is durable.
//!
//! Faults, counted over mutating operations (`write_at`, `sync`, `truncate`, `allocate`):
//! - [`SimFileSystem::fail_op`]: the Nth operation returns `EIO` and does nothing (a failed
//!   `sync` also drops the file's unsynced bytes, like Linux after an fsync error);
//! - [`SimFileSystem::tear_op`]: the Nth operation, if a write, lands only partly; from then on
//!   every operation fails, as if the process died there. Call [`SimFileSystem::crash`] to
//!   "restart".
//!
//! Operations complete after a `yield_now` (so other tasks interleave as with real I/O);
//! syncs can be slowed with [`SimFileSystem::set_sync_delay_ms`] (a glommio timer, so the
//! simulator runs inside a glommio executor).
//!
//! The `O_DIRECT` contract is checked: unaligned writes and writes past the allocated length
//! fail with `InvalidInput`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use bytes::Bytes;

use super::{FileSystem, IoFuture, StorageFile, ALIGNMENT_BYTES};

const SECTOR_BYTES: usize = 512;

#[derive(Debug, Default)]
struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// Sector indexes written since the last sync.
    unsynced: BTreeSet<usize>,
    modified_ms: i64,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, Rc<RefCell<FileData>>>,
    dirs: BTreeSet<PathBuf>,
    ops: u64,
    fail_at: BTreeSet<u64>,
    tear_at: Option<u64>,
    dead: bool,
    clock_ms: i64,
    rng: u64,
    syncs: u64,
    /// Bumped by every crash: handles opened before it fail (the old process is gone).
    generation: u64,
    /// Extra latency of every sync (glommio timer).
    sync_delay_ms: u64,
}

impl State {
    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

enum Fault {
    None,
    Fail,
    Tear,
}

/// The simulated file system; cheap to clone (shared state).
#[derive(Debug, Clone, Default)]
pub struct SimFileSystem {
    state: Rc<RefCell<State>>,
}

impl SimFileSystem {
    /// An empty file system whose random choices derive from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let fs = Self::default();
        fs.state.borrow_mut().rng = seed | 1;
        fs.state.borrow_mut().clock_ms = 1_700_000_000_000;
        fs
    }

    /// Mutating operations so far.
    #[must_use]
    pub fn op_count(&self) -> u64 {
        self.state.borrow().ops
    }

    /// Successful syncs so far.
    #[must_use]
    pub fn sync_count(&self) -> u64 {
        self.state.borrow().syncs
    }

    /// Makes the mutating operation number `n` (1-based, counted from the start) fail.
    pub fn fail_op(&self, n: u64) {
        self.state.borrow_mut().fail_at.insert(n);
    }

    /// Tears mutating operation number `n` and kills the "process" there.
    pub fn tear_op(&self, n: u64) {
        self.state.borrow_mut().tear_at = Some(n);
    }

    /// Makes every sync take `delay_ms` (to exercise deadlines).
    pub fn set_sync_delay_ms(&self, delay_ms: u64) {
        self.state.borrow_mut().sync_delay_ms = delay_ms;
    }

    /// True once a torn operation killed the process.
    #[must_use]
    pub fn is_dead(&self) -> bool {
        self.state.borrow().dead
    }

    /// Sets the clock used for modification times.
    pub fn set_clock_ms(&self, now_ms: i64) {
        self.state.borrow_mut().clock_ms = now_ms;
    }

    /// Sets a file's modification time.
    pub fn set_modified_ms(&self, path: &Path, modified_ms: i64) {
        if let Some(file) = self.state.borrow().files.get(path) {
            file.borrow_mut().modified_ms = modified_ms;
        }
    }

    /// Power loss and restart: each unsynced sector survives or not (seeded), then all faults
    /// are cleared and the file system works again.
    pub fn crash(&self) {
        let mut state = self.state.borrow_mut();
        let files: Vec<_> = state.files.values().cloned().collect();
        for file in files {
            let mut file = file.borrow_mut();
            let unsynced: Vec<usize> = file.unsynced.iter().copied().collect();
            let mut image = file.durable.clone();
            image.resize(file.live.len(), 0);
            for sector in unsynced {
                if state.next_random().is_multiple_of(2) {
                    let start = sector * SECTOR_BYTES;
                    let end = (start + SECTOR_BYTES).min(file.live.len());
                    if start < end {
                        image[start..end].copy_from_slice(&file.live[start..end]);
                    }
                }
            }
            file.unsynced.clear();
            file.durable.clone_from(&image);
            file.live = image;
        }
        state.dead = false;
        state.tear_at = None;
        state.fail_at.clear();
        state.generation += 1;
    }

    /// Process crash only (no power loss): everything written is kept (the page cache, or the
    /// device, has it). Clears faults.
    pub fn process_crash(&self) {
        let mut state = self.state.borrow_mut();
        for file in state.files.values() {
            let mut file = file.borrow_mut();
            file.durable = file.live.clone();
            file.unsynced.clear();
        }
        state.dead = false;
        state.tear_at = None;
        state.fail_at.clear();
        state.generation += 1;
    }

    /// The live bytes of a file (test inspection).
    #[must_use]
    pub fn live_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        self.state
            .borrow()
            .files
            .get(path)
            .map(|file| file.borrow().live.clone())
    }

    /// Overwrites live and durable bytes of a file (test corruption).
    pub fn corrupt(&self, path: &Path, pos: usize, bytes: &[u8]) {
        if let Some(file) = self.state.borrow().files.get(path) {
            let mut file = file.borrow_mut();
            let end = (pos + bytes.len()).min(file.live.len());
            if pos < end {
                file.live[pos..end].copy_from_slice(&bytes[..end - pos]);
                let len = file.live.len();
                file.durable.resize(len, 0);
                file.durable[pos..end].copy_from_slice(&bytes[..end - pos]);
            }
        }
    }

    fn begin_op(&self, generation: u64) -> Result<Fault, io::Error> {
        let mut state = self.state.borrow_mut();
        if state.dead || state.generation != generation {
            return Err(io::Error::other("simulated process is dead"));
        }
        state.ops += 1;
        let n = state.ops;
        if state.tear_at == Some(n) {
            state.dead = true;
            return Ok(Fault::Tear);
        }
        if state.fail_at.remove(&n) {
            return Ok(Fault::Fail);
        }
        Ok(Fault::None)
    }

    fn check_alive(&self) -> io::Result<()> {
        if self.state.borrow().dead {
            return Err(io::Error::other("simulated process is dead"));
        }
        Ok(())
    }

    fn check_handle(&self, generation: u64) -> io::Result<()> {
        let state = self.state.borrow();
        if state.dead || state.generation != generation {
            return Err(io::Error::other("simulated process is dead"));
        }
        Ok(())
    }
}

fn eio() -> io::Error {
    io::Error::other("simulated EIO")
}

impl FileSystem for SimFileSystem {
    fn open<'a>(&'a self, path: &'a Path, create: bool) -> IoFuture<'a, Rc<dyn StorageFile>> {
        Box::pin(async move {
            self.check_alive()?;
            let mut state = self.state.borrow_mut();
            let data = if let Some(data) = state.files.get(path) {
                data.clone()
            } else if create {
                let data = Rc::new(RefCell::new(FileData {
                    modified_ms: state.clock_ms,
                    ..FileData::default()
                }));
                state.files.insert(path.to_path_buf(), data.clone());
                data
            } else {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no such sim file"));
            };
            let generation = state.generation;
            let file: Rc<dyn StorageFile> = Rc::new(SimFile {
                fs: self.clone(),
                generation,
                data,
                path: path.to_path_buf(),
            });
            Ok(file)
        })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> IoFuture<'a, ()> {
        Box::pin(async move {
            self.check_alive()?;
            self.state
                .borrow_mut()
                .files
                .remove(path)
                .map(|_| ())
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such sim file"))
        })
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.check_alive()?;
        let mut state = self.state.borrow_mut();
        for ancestor in path.ancestors() {
            state.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let state = self.state.borrow();
        let mut names = BTreeSet::new();
        for candidate in state.files.keys().chain(state.dirs.iter()) {
            if candidate.parent() == Some(path) {
                if let Some(name) = candidate.file_name() {
                    names.insert(name.to_string_lossy().into_owned());
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    fn exists(&self, path: &Path) -> bool {
        let state = self.state.borrow();
        state.files.contains_key(path) || state.dirs.contains(path)
    }

    fn remove_dir(&self, path: &Path) {
        let mut state = self.state.borrow_mut();
        let has_children = state
            .files
            .keys()
            .chain(state.dirs.iter())
            .any(|candidate| candidate.parent() == Some(path));
        if !has_children {
            state.dirs.remove(path);
        }
    }

    fn modified_ms(&self, path: &Path) -> io::Result<i64> {
        self.state
            .borrow()
            .files
            .get(path)
            .map(|file| file.borrow().modified_ms)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such sim file"))
    }
}

struct SimFile {
    fs: SimFileSystem,
    generation: u64,
    data: Rc<RefCell<FileData>>,
    path: PathBuf,
}

impl StorageFile for SimFile {
    fn read_at(&self, pos: u64, len: usize) -> IoFuture<'_, Bytes> {
        Box::pin(async move {
            self.fs.check_handle(self.generation)?;
            let data = self.data.borrow();
            let start = usize::try_from(pos)
                .unwrap_or(usize::MAX)
                .min(data.live.len());
            let end = start.saturating_add(len).min(data.live.len());
            Ok(Bytes::copy_from_slice(&data.live[start..end]))
        })
    }

    fn write_at<'a>(&'a self, pos: u64, data: &'a [u8]) -> IoFuture<'a, ()> {
        Box::pin(async move {
            // Let other tasks run between submission and completion, like real I/O.
            futures_lite::future::yield_now().await;
            let fault = self.fs.begin_op(self.generation)?;
            if !pos.is_multiple_of(ALIGNMENT_BYTES)
                || !(data.len() as u64).is_multiple_of(ALIGNMENT_BYTES)
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "unaligned direct write",
                ));
            }
            let start = usize::try_from(pos).map_err(|_| eio())?;
            let mut file = self.data.borrow_mut();
            if start + data.len() > file.live.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "write would extend the file (allocate first)",
                ));
            }
            let keep = match fault {
                Fault::Fail => return Err(eio()),
                Fault::None => data.len(),
                Fault::Tear => {
                    let sectors = data.len() / SECTOR_BYTES;
                    let kept = usize::try_from(self.fs.state.borrow_mut().next_random())
                        .unwrap_or(0)
                        % (sectors + 1);
                    kept * SECTOR_BYTES
                }
            };
            file.live[start..start + keep].copy_from_slice(&data[..keep]);
            for sector in start / SECTOR_BYTES..(start + keep).div_ceil(SECTOR_BYTES) {
                file.unsynced.insert(sector);
            }
            file.modified_ms = self.fs.state.borrow().clock_ms;
            if matches!(fault, Fault::Tear) {
                return Err(io::Error::other("simulated torn write; process dead"));
            }
            Ok(())
        })
    }

    fn sync(&self) -> IoFuture<'_, ()> {
        Box::pin(async move {
            futures_lite::future::yield_now().await;
            let delay_ms = self.fs.state.borrow().sync_delay_ms;
            if delay_ms > 0 {
                glommio::timer::sleep(std::time::Duration::from_millis(delay_ms)).await;
            }
            let fault = self.fs.begin_op(self.generation)?;
            let mut file = self.data.borrow_mut();
            match fault {
                Fault::None => {
                    let len = file.live.len();
                    let unsynced = std::mem::take(&mut file.unsynced);
                    file.durable.resize(len, 0);
                    for sector in unsynced {
                        let start = sector * SECTOR_BYTES;
                        let end = (start + SECTOR_BYTES).min(len);
                        if start < end {
                            let chunk = file.live[start..end].to_vec();
                            file.durable[start..end].copy_from_slice(&chunk);
                        }
                    }
                    self.fs.state.borrow_mut().syncs += 1;
                    Ok(())
                }
                Fault::Fail | Fault::Tear => {
                    // Linux marks the pages clean after a failed fsync: the bytes are gone.
                    let unsynced = std::mem::take(&mut file.unsynced);
                    for sector in unsynced {
                        let start = sector * SECTOR_BYTES;
                        let end = (start + SECTOR_BYTES).min(file.live.len());
                        let original: Vec<u8> = (start..end)
                            .map(|i| file.durable.get(i).copied().unwrap_or(0))
                            .collect();
                        file.live[start..end].copy_from_slice(&original);
                    }
                    Err(eio())
                }
            }
        })
    }

    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move {
            if let Fault::Fail | Fault::Tear = self.fs.begin_op(self.generation)? {
                return Err(eio());
            }
            let len = usize::try_from(len).map_err(|_| eio())?;
            let mut file = self.data.borrow_mut();
            file.live.resize(len, 0);
            file.durable.resize(len, 0);
            file.unsynced.retain(|sector| sector * SECTOR_BYTES < len);
            Ok(())
        })
    }

    fn allocate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move {
            if let Fault::Fail | Fault::Tear = self.fs.begin_op(self.generation)? {
                return Err(eio());
            }
            let len = usize::try_from(len).map_err(|_| eio())?;
            let mut file = self.data.borrow_mut();
            if file.live.len() < len {
                file.live.resize(len, 0);
                file.durable.resize(len, 0);
            }
            Ok(())
        })
    }

    fn len(&self) -> IoFuture<'_, u64> {
        Box::pin(async move {
            self.fs.check_handle(self.generation)?;
            Ok(self.data.borrow().live.len() as u64)
        })
    }

    fn path(&self) -> PathBuf {
        self.path.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_lite::future::block_on(f)
    }

    #[test]
    fn live_vs_durable_and_crash() {
        run(async {
            let fs = SimFileSystem::new(7);
            let path = Path::new("/d/f");
            let file = fs.open(path, true).await.unwrap();
            file.allocate(8192).await.unwrap();
            file.write_at(0, &[1u8; 4096]).await.unwrap();
            file.sync().await.unwrap();
            file.write_at(4096, &[2u8; 4096]).await.unwrap();
            assert_eq!(file.read_at(4096, 1).await.unwrap()[0], 2);
            // Unaligned and file-extending writes are refused.
            assert!(file.write_at(1, &[0u8; 4096]).await.is_err());
            assert!(file.write_at(8192, &[0u8; 4096]).await.is_err());
            fs.crash();
            // The old handle belongs to the dead process.
            assert!(file.read_at(0, 1).await.is_err());
            let file = fs.open(path, false).await.unwrap();
            let bytes = file.read_at(0, 8192).await.unwrap();
            assert!(
                bytes[..4096].iter().all(|b| *b == 1),
                "synced bytes survive"
            );
            assert!(
                bytes[4096..].iter().all(|b| *b == 0 || *b == 2),
                "unsynced sectors: old or new"
            );
        });
    }

    #[test]
    fn fail_and_tear() {
        run(async {
            let fs = SimFileSystem::new(3);
            let file = fs.open(Path::new("/f"), true).await.unwrap();
            file.allocate(4096 * 4).await.unwrap(); // op 1
            fs.fail_op(2);
            assert!(file.write_at(0, &[1u8; 4096]).await.is_err());
            file.write_at(0, &[1u8; 4096]).await.unwrap(); // op 3
            fs.tear_op(4);
            assert!(file.write_at(4096, &[9u8; 8192]).await.is_err());
            assert!(fs.is_dead());
            assert!(file.sync().await.is_err());
            fs.process_crash();
            let file = fs.open(Path::new("/f"), false).await.unwrap();
            let bytes = file.read_at(4096, 8192).await.unwrap();
            // A prefix of whole sectors landed.
            let landed = bytes.iter().take_while(|b| **b == 9).count();
            assert_eq!(landed % 512, 0);
            assert!(bytes[landed..].iter().all(|b| *b == 0));
        });
    }
}
