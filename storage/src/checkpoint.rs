//! The checkpoint file: where recovery starts. Our own format, **little-endian**.
//!
//! Two 4096-byte slots (A at 0, B at 4096); each write goes to the slot the previous write did
//! not use, so a torn write can only lose the newer slot. Recovery takes the valid slot with
//! the highest sequence.
//!
//! ```text
//! slot (4096 bytes, the rest zero):
//! off  field                    type
//!   0  magic "RSCP"             u32  0x5043_5352
//!   4  version                  u32  2
//!   8  sequence                 u64  increments per write
//!  16  log_end_local            u64  durable commit-log end when written
//!  24  dispatched_local         u64  consume queues and index are durable for records before it
//!  32  min_local                u64  first commit-log byte still kept (retention)
//!  40  last_store_timestamp_ms  i64  store time of the last durable record
//!  48  record_crc_from_local    u64  records at or past it carry the whole-record CRC
//!                                    (`record_crc`); u64::MAX: none required
//!  56  crc32(bytes 0..56)       u32
//! ```
//!
//! Version 1 (still read) ends after `last_store_timestamp_ms` with `crc32(bytes 0..48)` at
//! 48, and requires no record CRC.

use std::path::PathBuf;
use std::rc::Rc;

use crate::io::{FileSystem, StorageFile, ALIGNMENT_BYTES};
use crate::StorageError;

const MAGIC: u32 = 0x5043_5352;
const VERSION: u32 = 2;
const VERSION_1: u32 = 1;
const SLOT_BYTES: usize = 4096;
const PAYLOAD_BYTES: usize = 56;
const PAYLOAD_V1_BYTES: usize = 48;
/// `record_crc_from_local` when no record needs the whole-record CRC.
pub const RECORD_CRC_NOT_REQUIRED: u64 = u64::MAX;
const _: () = assert!(SLOT_BYTES as u64 == ALIGNMENT_BYTES);

/// What the checkpoint records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Sequence number of the write.
    pub sequence: u64,
    /// Durable commit-log end (local offset).
    pub log_end_local: u64,
    /// Consume queues and index are durable for every record before this local offset.
    pub dispatched_local: u64,
    /// First commit-log local offset still kept.
    pub min_local: u64,
    /// Store time of the last durable record.
    pub last_store_timestamp_ms: i64,
    /// Records at or past this local offset end with the whole-record CRC property
    /// ([`crate::record_crc`]); [`RECORD_CRC_NOT_REQUIRED`] if none must.
    pub record_crc_from_local: u64,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Self {
            sequence: 0,
            log_end_local: 0,
            dispatched_local: 0,
            min_local: 0,
            last_store_timestamp_ms: 0,
            record_crc_from_local: RECORD_CRC_NOT_REQUIRED,
        }
    }
}

impl Checkpoint {
    /// Encodes one slot.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut slot = vec![0u8; SLOT_BYTES];
        slot[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        slot[4..8].copy_from_slice(&VERSION.to_le_bytes());
        slot[8..16].copy_from_slice(&self.sequence.to_le_bytes());
        slot[16..24].copy_from_slice(&self.log_end_local.to_le_bytes());
        slot[24..32].copy_from_slice(&self.dispatched_local.to_le_bytes());
        slot[32..40].copy_from_slice(&self.min_local.to_le_bytes());
        slot[40..48].copy_from_slice(&self.last_store_timestamp_ms.to_le_bytes());
        slot[48..56].copy_from_slice(&self.record_crc_from_local.to_le_bytes());
        let crc = crc32fast::hash(&slot[..PAYLOAD_BYTES]);
        slot[PAYLOAD_BYTES..PAYLOAD_BYTES + 4].copy_from_slice(&crc.to_le_bytes());
        slot
    }

    /// Decodes one slot; `None` if it is not a valid slot.
    #[must_use]
    pub fn decode(slot: &[u8]) -> Option<Self> {
        if slot.len() < PAYLOAD_BYTES + 4 {
            return None;
        }
        let u32_at =
            |at: usize| u32::from_le_bytes([slot[at], slot[at + 1], slot[at + 2], slot[at + 3]]);
        let u64_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&slot[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        if u32_at(0) != MAGIC {
            return None;
        }
        let record_crc_from_local = match u32_at(4) {
            VERSION_1 if crc32fast::hash(&slot[..PAYLOAD_V1_BYTES]) == u32_at(PAYLOAD_V1_BYTES) => {
                RECORD_CRC_NOT_REQUIRED
            }
            VERSION
                if slot.len() >= PAYLOAD_BYTES + 4
                    && crc32fast::hash(&slot[..PAYLOAD_BYTES]) == u32_at(PAYLOAD_BYTES) =>
            {
                u64_at(48)
            }
            _ => return None,
        };
        Some(Self {
            sequence: u64_at(8),
            log_end_local: u64_at(16),
            dispatched_local: u64_at(24),
            min_local: u64_at(32),
            last_store_timestamp_ms: i64::from_le_bytes(u64_at(40).to_le_bytes()),
            record_crc_from_local,
        })
    }
}

/// The open checkpoint file.
pub struct CheckpointFile {
    file: Rc<dyn StorageFile>,
    path: PathBuf,
    last: Option<Checkpoint>,
}

impl CheckpointFile {
    /// Opens (creating) the file and reads the newest valid slot.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn open(fs: &dyn FileSystem, path: PathBuf) -> Result<Self, StorageError> {
        let file = fs
            .open(&path, true)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        let bytes = file
            .read_at(0, 2 * SLOT_BYTES)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        let a = bytes.get(..SLOT_BYTES).and_then(Checkpoint::decode);
        let b = bytes.get(SLOT_BYTES..).and_then(Checkpoint::decode);
        let last = match (a, b) {
            (Some(a), Some(b)) => Some(if a.sequence >= b.sequence { a } else { b }),
            (a, b) => a.or(b),
        };
        file.allocate(2 * SLOT_BYTES as u64)
            .await
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(Self { file, path, last })
    }

    /// The newest valid checkpoint read at open or written since.
    #[must_use]
    pub fn last(&self) -> Option<Checkpoint> {
        self.last
    }

    /// Writes and syncs a new checkpoint (sequence assigned here).
    ///
    /// # Errors
    /// I/O errors.
    pub async fn write(&mut self, mut checkpoint: Checkpoint) -> Result<(), StorageError> {
        checkpoint.sequence = self.last.map_or(1, |last| last.sequence + 1);
        let slot = checkpoint.sequence % 2;
        let bytes = checkpoint.encode();
        self.file
            .write_at(slot * SLOT_BYTES as u64, &bytes)
            .await
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.file
            .sync()
            .await
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.last = Some(checkpoint);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let checkpoint = Checkpoint {
            sequence: 7,
            log_end_local: 1 << 40,
            dispatched_local: 12345,
            min_local: 4096,
            last_store_timestamp_ms: -5,
            record_crc_from_local: 777,
        };
        let mut slot = checkpoint.encode();
        assert_eq!(Checkpoint::decode(&slot), Some(checkpoint));
        slot[20] ^= 1;
        assert_eq!(Checkpoint::decode(&slot), None);
        assert_eq!(Checkpoint::decode(&[0u8; 10]), None);
    }

    /// A version 1 slot, built byte by byte as that format wrote it, is still read.
    #[test]
    fn version_1_slot_is_read() {
        let mut slot = vec![0u8; SLOT_BYTES];
        slot[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        slot[4..8].copy_from_slice(&1u32.to_le_bytes());
        slot[8..16].copy_from_slice(&3u64.to_le_bytes());
        slot[16..24].copy_from_slice(&9000u64.to_le_bytes());
        slot[24..32].copy_from_slice(&8000u64.to_le_bytes());
        slot[32..40].copy_from_slice(&0u64.to_le_bytes());
        slot[40..48].copy_from_slice(&42i64.to_le_bytes());
        let crc = crc32fast::hash(&slot[..48]);
        slot[48..52].copy_from_slice(&crc.to_le_bytes());
        let expected = Checkpoint {
            sequence: 3,
            log_end_local: 9000,
            dispatched_local: 8000,
            min_local: 0,
            last_store_timestamp_ms: 42,
            record_crc_from_local: RECORD_CRC_NOT_REQUIRED,
        };
        assert_eq!(Checkpoint::decode(&slot), Some(expected));
        slot[30] ^= 1;
        assert_eq!(Checkpoint::decode(&slot), None);
    }
}
