//! [`NamesrvError`]: why the name server could not start or stopped.
//!
//! Per-request failures never surface here: they become response codes in
//! [`crate::name_server`], and a broken connection is logged and closed by the server.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::ConfigError;

#[derive(Debug, Error)]
pub enum NamesrvError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{action}: {source}")]
    Io {
        action: &'static str,
        source: std::io::Error,
    },
    #[error("KV config file {}: {reason}", path.display())]
    KvConfig { path: PathBuf, reason: String },
    #[error("glommio executor: {0}")]
    Executor(String),
}
