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
    #[error("embedded name server: {0}")]
    Namesrv(String),
    #[error("shard {shard} failed to start: {reason}")]
    ShardStart { shard: u16, reason: String },
    #[error("shard executor: {0}")]
    Executor(String),
}
