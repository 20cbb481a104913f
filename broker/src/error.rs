//! [`Error`]: why the broker could not start or stop cleanly. Request-level rejections are
//! response codes (see [`crate::handlers`]), never this type.

use crate::config::ConfigError;
use crate::metadata::MetadataError;

/// A startup or shutdown failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("cannot create the store directory {path}: {source}")]
    StoreDirectory {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "another broker already uses this {what} (lock {path} is held); stop it or choose another"
    )]
    AlreadyRunning { what: &'static str, path: String },
    #[error("cannot lock {what} ({path}): {source}")]
    Lock {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("embedded name server: {0}")]
    Namesrv(String),
    #[error("shard {shard} failed to start: {reason}")]
    ShardStart { shard: u16, reason: String },
    #[error("shard executor: {0}")]
    Executor(String),
}
