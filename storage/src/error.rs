//! Typed errors of the storage engine.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// An operating error of the store (open, read, recovery, shutdown).
#[derive(Debug, Error)]
pub enum StorageError {
    /// A file operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating error.
        #[source]
        source: io::Error,
    },
    /// On-disk bytes are not what the format promises.
    #[error("corrupted {segment} at offset {offset}: {reason}")]
    Corrupted {
        /// The file.
        segment: PathBuf,
        /// Byte offset inside it.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The configuration is invalid.
    #[error("invalid storage config: {0}")]
    Config(String),
    /// The log failed an fsync earlier and refuses service until reopened.
    #[error("the commit log failed ({0}) and must be reopened")]
    Failed(String),
}

impl StorageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why an append was not stored (or not confirmed). Maps to RocketMQ put statuses.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// The write or fsync failed; the log refuses writes until reopened
    /// (`SYSTEM_ERROR` / `FLUSH_DISK_TIMEOUT` in Java terms).
    #[error("commit log write failed: {0}")]
    Io(String),
    /// The covering fsync did not finish before the deadline (`FLUSH_DISK_TIMEOUT`, code 10).
    /// The message may still become durable.
    #[error("flush disk timeout after {timeout_ms} ms")]
    FlushDiskTimeout {
        /// The deadline that passed.
        timeout_ms: u64,
    },
    /// Disk usage is above the warning ratio (`SERVICE_NOT_AVAILABLE`, code 14).
    #[error("service not available now, maybe disk is full, {0}")]
    DiskFull(String),
    /// The message (or batch) is larger than `message_bytes_max` (`MESSAGE_ILLEGAL`).
    #[error("message of {size_bytes} bytes exceeds the maximum of {size_bytes_max} bytes")]
    MessageTooLarge {
        /// The encoded size.
        size_bytes: usize,
        /// The limit.
        size_bytes_max: usize,
    },
    /// Topic or properties too long for the record format (`MESSAGE_ILLEGAL`).
    #[error("message illegal: {0}")]
    MessageIllegal(String),
    /// The store is shutting down.
    #[error("store is shut down")]
    ShutDown,
}
