//! The production [`FileSystem`]: glommio `DmaFile` (`O_DIRECT`, io_uring), opened with
//! `.read(true)` (else glommio's poll probe logs an error). Directory operations are rare
//! control-path calls and use `std::fs`.

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use glommio::io::{DmaFile, OpenOptions};

use super::{FileSystem, IoFuture, StorageFile, ALIGNMENT_BYTES};

/// Real files under glommio.
#[derive(Debug, Default)]
pub struct DmaFileSystem {
    probed: std::cell::Cell<bool>,
}

impl DmaFileSystem {
    /// glommio decides once per device whether reads go to its io-poll ring, by reading the
    /// first `DmaFile` opened there. If that file is empty the probe read succeeds trivially,
    /// the device is marked poll-capable, and every later read fails with `EOPNOTSUPP` on
    /// devices without poll queues (this VM's virtio disk). So the first open on a device is a
    /// non-empty probe file written with buffered I/O.
    fn probe_device(&self, dir: &Path) -> impl std::future::Future<Output = ()> + '_ {
        let probe = dir.join(".dma-probe");
        async move {
            if self.probed.replace(true) {
                return;
            }
            if std::fs::write(&probe, vec![0u8; 4096]).is_err() {
                return;
            }
            if let Ok(file) = OpenOptions::new().read(true).dma_open(&probe).await {
                let _ = file.close().await;
            }
            let _ = std::fs::remove_file(&probe);
        }
    }
}

fn to_io(error: glommio::GlommioError<()>) -> io::Error {
    match error {
        glommio::GlommioError::IoError(error) => error,
        other => io::Error::other(other.to_string()),
    }
}

impl FileSystem for DmaFileSystem {
    fn open<'a>(&'a self, path: &'a Path, create: bool) -> IoFuture<'a, Rc<dyn StorageFile>> {
        Box::pin(async move {
            if let Some(dir) = path.parent() {
                self.probe_device(dir).await;
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .dma_open(path)
                .await
                .map_err(to_io)?;
            let file: Rc<dyn StorageFile> = Rc::new(Dma {
                file,
                path: path.to_path_buf(),
            });
            Ok(file)
        })
    }

    fn remove<'a>(&'a self, path: &'a Path) -> IoFuture<'a, ()> {
        Box::pin(async move { glommio::io::remove(path).await.map_err(to_io) })
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut names = Vec::new();
        for entry in entries {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn remove_dir(&self, path: &Path) {
        let _ = std::fs::remove_dir(path);
    }

    fn modified_ms(&self, path: &Path) -> io::Result<i64> {
        let modified = std::fs::metadata(path)?.modified()?;
        let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }
}

struct Dma {
    file: DmaFile,
    path: PathBuf,
}

impl StorageFile for Dma {
    fn read_at(&self, pos: u64, len: usize) -> IoFuture<'_, Bytes> {
        Box::pin(async move {
            if len == 0 {
                return Ok(Bytes::new());
            }
            let result = self.file.read_at(pos, len).await.map_err(to_io)?;
            Ok(Bytes::copy_from_slice(&result))
        })
    }

    fn write_at<'a>(&'a self, pos: u64, data: &'a [u8]) -> IoFuture<'a, ()> {
        Box::pin(async move {
            debug_assert_eq!(pos % ALIGNMENT_BYTES, 0);
            debug_assert_eq!(data.len() as u64 % ALIGNMENT_BYTES, 0);
            let mut buffer = self.file.alloc_dma_buffer(data.len());
            buffer.as_bytes_mut().copy_from_slice(data);
            let written = self.file.write_at(buffer, pos).await.map_err(to_io)?;
            if written != data.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short direct write: {written} of {} bytes", data.len()),
                ));
            }
            Ok(())
        })
    }

    fn sync(&self) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.fdatasync().await.map_err(to_io) })
    }

    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.truncate(len).await.map_err(to_io) })
    }

    fn allocate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.pre_allocate(len, false).await.map_err(to_io) })
    }

    fn len(&self) -> IoFuture<'_, u64> {
        Box::pin(async move { self.file.file_size().await.map_err(to_io) })
    }

    fn path(&self) -> PathBuf {
        self.path.clone()
    }
}
