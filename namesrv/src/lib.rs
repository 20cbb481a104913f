//! A RocketMQ-compatible name server: route registry, broker liveness, KV config.
//!
//! Producers and consumers find brokers here; brokers register their topics here every
//! 30 s. Answers match RocketMQ's name server (`DefaultRequestProcessor`,
//! `ClientRequestProcessor`, `RouteInfoManager`) so stock clients and `mqadmin` work.
//!
//! # Layout
//!
//! - [`config`]: [`NamesrvConfig`], every setting with its default and bounds; properties
//!   file format.
//! - [`route_table`]: [`route_table::RouteTable`], the routing state as synchronous
//!   transitions over explicit time (pure, unit-tested without sockets).
//! - [`kv_config`]: namespaced KV settings, optionally persisted.
//! - [`name_server`]: [`name_server::NameServer`], one request in, one response out, per
//!   request code.
//! - [`server`]: the glommio shell — accept loop, one task per connection, liveness scan.
//!
//! # Threads
//!
//! A name server runs on one glommio executor. [`run`] uses the current one (the broker can
//! embed a name server on one of its executors); [`spawn`] starts a dedicated thread and
//! returns a [`NamesrvHandle`].

pub mod config;
pub mod error;
pub mod kv_config;
pub mod name_server;
pub mod route_table;
pub mod server;

use std::net::SocketAddr;

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};

pub use config::NamesrvConfig;
pub use error::NamesrvError;
pub use server::run;

/// io_uring registered-buffer memory of the name server's executor. The name server does
/// no file I/O through glommio, so it keeps glommio's minimum (64 KiB) far below the
/// default 10 MiB (RLIMIT_MEMLOCK may be as low as 8 MiB).
pub const EXECUTOR_IO_MEMORY_BYTES: usize = 64 * 1024;

/// A name server running on its own thread. Dropping the handle shuts it down.
#[derive(Debug)]
pub struct NamesrvHandle {
    local_addr: SocketAddr,
    stop: Option<flume::Sender<()>>,
    thread: Option<ExecutorJoinHandle<Result<(), NamesrvError>>>,
}

impl NamesrvHandle {
    /// The address the name server listens on (the real port when `listen_port` was 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection and joins the thread.
    ///
    /// # Errors
    /// The error [`run`] ended with, or [`NamesrvError::Executor`] if the thread panicked.
    pub fn shutdown(mut self) -> Result<(), NamesrvError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), NamesrvError> {
        drop(self.stop.take());
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|error| NamesrvError::Executor(error.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for NamesrvHandle {
    fn drop(&mut self) {
        if let Err(error) = self.stop_and_join() {
            tracing::error!(target: "namesrv", %error, "name server ended with an error");
        }
    }
}

/// Starts a name server on a new thread with its own glommio executor, bound to
/// `config.listen_address()`.
///
/// # Errors
/// An invalid config, a failed bind, or an executor that could not start.
pub fn spawn(config: NamesrvConfig) -> Result<NamesrvHandle, NamesrvError> {
    config.validate()?;
    let address = config.listen_address();
    let (bound_tx, bound_rx) = flume::bounded::<Result<SocketAddr, std::io::Error>>(1);
    let (stop_tx, stop_rx) = flume::bounded::<()>(1);
    let thread = LocalExecutorBuilder::new(Placement::Unbound)
        .name("namesrv")
        .io_memory(EXECUTOR_IO_MEMORY_BYTES)
        .spawn(move || async move {
            let bound = glommio::net::TcpListener::bind(address)
                .map_err(|error| std::io::Error::other(error.to_string()))
                .and_then(|listener| {
                    let local = listener
                        .local_addr()
                        .map_err(|error| std::io::Error::other(error.to_string()))?;
                    Ok((listener, local))
                });
            let listener = match bound {
                Ok((listener, local)) => {
                    let _ = bound_tx.send(Ok(local));
                    listener
                }
                Err(error) => {
                    let message = error.to_string();
                    let _ = bound_tx.send(Err(error));
                    return Err(NamesrvError::Io {
                        action: "binding the listener",
                        source: std::io::Error::other(message),
                    });
                }
            };
            run(config, listener, async move {
                // A message or a dropped sender both mean "stop".
                let _ = stop_rx.recv_async().await;
            })
            .await
        })
        .map_err(|error| NamesrvError::Executor(error.to_string()))?;
    let local_addr = match bound_rx.recv() {
        Ok(Ok(local_addr)) => local_addr,
        Ok(Err(source)) => {
            let _ = thread.join();
            return Err(NamesrvError::Io {
                action: "binding the listener",
                source,
            });
        }
        Err(_) => {
            let outcome = thread.join();
            return Err(NamesrvError::Executor(format!(
                "the name server thread ended before binding: {outcome:?}"
            )));
        }
    };
    Ok(NamesrvHandle {
        local_addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
