//! One broker per store directory and per listen port.
//!
//! The shards listen with `SO_REUSEPORT`, so a second broker started on a port that is
//! already served would silently share it, and a second broker on the same store would
//! corrupt it. At start the broker takes two advisory locks (`flock`), held until it stops
//! and released by the kernel when the process dies, so a restart right after `kill -9`
//! is never refused:
//!
//! - `<storePathRootDir>/lock`: the store (the Java broker locks the same file);
//! - `<temp dir>/rocketmq-broker-<port>.lock`: the listen port (skipped for port 0).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::Error;

const LOG: &str = "broker::instance_lock";

/// Locks held for the broker's lifetime (dropping them releases the locks).
#[derive(Debug)]
pub struct InstanceLocks {
    _files: Vec<File>,
}

/// The lock file guarding `port` on this host.
#[must_use]
pub fn port_lock_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("rocketmq-broker-{port}.lock"))
}

fn lock(path: &Path, what: &'static str) -> Result<Option<File>, Error> {
    let opened = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .or_else(|_| File::open(path));
    let file = match opened {
        Ok(file) => file,
        // The store lock must work (the directory is ours); a port lock in a shared temp
        // directory may belong to another user: go on without it.
        Err(error) if what == "listen port" => {
            tracing::warn!(target: LOG, path = %path.display(), %error, "cannot open the listen-port lock file; starting without it");
            return Ok(None);
        }
        Err(source) => {
            return Err(Error::Lock {
                what,
                path: path.display().to_string(),
                source,
            })
        }
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(Error::AlreadyRunning {
            what,
            path: path.display().to_string(),
        }),
        Err(TryLockError::Error(source)) => Err(Error::Lock {
            what,
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Takes the store lock and, for a fixed port, the port lock.
///
/// # Errors
/// [`Error::AlreadyRunning`] when another broker holds either; [`Error::Lock`] when the
/// store lock file cannot be opened or locked.
pub fn acquire(store_root: &Path, port: u16) -> Result<InstanceLocks, Error> {
    let mut files = Vec::new();
    files.extend(lock(&store_root.join("lock"), "store directory")?);
    if port != 0 {
        files.extend(lock(&port_lock_path(port), "listen port")?);
    }
    Ok(InstanceLocks { _files: files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = 40_000 + (std::process::id() % 20_000) as u16;
        let first = acquire(dir.path(), port).expect("first broker");
        let second = acquire(dir.path(), port).expect_err("second broker on the same store");
        assert!(
            matches!(
                second,
                Error::AlreadyRunning {
                    what: "store directory",
                    ..
                }
            ),
            "{second}"
        );
        let other_store = tempfile::tempdir().expect("tempdir");
        let same_port = acquire(other_store.path(), port).expect_err("same port");
        assert!(
            matches!(
                same_port,
                Error::AlreadyRunning {
                    what: "listen port",
                    ..
                }
            ),
            "{same_port}"
        );
        assert!(
            acquire(other_store.path(), 0).is_ok(),
            "port 0 is never locked"
        );
        drop(first);
        assert!(acquire(dir.path(), port).is_ok(), "released on drop");
    }
}
