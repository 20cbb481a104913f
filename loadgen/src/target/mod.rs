//! The broker as loadgen sees it: a small [`LoadTarget`] trait, so the workflow does not
//! care whether requests go through the `client` crate or the raw protocol.
//!
//! [`client`] implements it on our `client` crate (what a Rust application sees; the
//! default). [`raw`] implements it directly on the `protocol` codec over std TCP (pipelined requests,
//! a reader thread per connection), which works against any RocketMQ-protocol broker: ours,
//! the Apache broker, rocketmq-rust.

pub mod client;
pub mod raw;
pub mod route;

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stats::Recorder;

/// Errors of the target layer. Operating errors only; bugs are asserts.
#[derive(Debug)]
pub enum TargetError {
    /// Connecting, writing or reading failed.
    Io {
        address: String,
        source: std::io::Error,
    },
    /// The broker or name server answered with an error code.
    Refused {
        request: &'static str,
        code: i32,
        remark: String,
    },
    /// A frame or body that does not decode.
    Protocol(String),
    /// An address outside loopback without `--allow-remote`.
    RemoteAddress(String),
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::Io { address, source } => write!(formatter, "{address}: {source}"),
            TargetError::Refused {
                request,
                code,
                remark,
            } => {
                write!(formatter, "{request} refused with code {code}: {remark}")
            }
            TargetError::Protocol(what) => write!(formatter, "protocol error: {what}"),
            TargetError::RemoteAddress(address) => write!(
                formatter,
                "{address} is not a loopback address; pass --allow-remote to load a remote host"
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// One writable (and readable) queue of the benchmark topic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueRef {
    pub broker_name: String,
    pub broker_address: String,
    pub queue_id: u32,
}

/// A broker (or cluster) that can be loaded.
pub trait LoadTarget: Send + Sync {
    /// One line naming what is being loaded.
    fn describe(&self) -> String;
    /// The queues messages are spread over.
    fn queues(&self) -> &[QueueRef];
    /// The first broker's configuration as `key=value` lines (`GET_BROKER_CONFIG`), if it
    /// answers; reports use it to say which flush mode and role were measured.
    fn broker_config(&self) -> Option<String> {
        None
    }
    /// Opens producer connection `index`; completions are recorded into `recorder`.
    ///
    /// # Errors
    /// Connection failures.
    fn open_producer(
        &self,
        index: usize,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ProducerConnection>, TargetError>;
    /// Opens a consumer for `queues`, starting at their current end.
    ///
    /// # Errors
    /// Connection failures.
    fn open_consumer(
        &self,
        queues: Vec<QueueRef>,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ConsumerConnection>, TargetError>;
}

/// One pipelined producer connection.
pub trait ProducerConnection: Send {
    /// Waits up to `wait` until fewer than `window` requests are outstanding and returns how
    /// many more may be sent now (0 after the wait, or once the connection broke).
    fn capacity(&mut self, window: usize, wait: Duration) -> usize;
    /// Sends one request per entry of `intended` (when each was scheduled; latency counts
    /// from it). Completions are recorded as they arrive.
    ///
    /// # Errors
    /// The connection broke; its outstanding requests have been recorded as send failures.
    fn send(&mut self, intended: &[Instant]) -> Result<(), TargetError>;
    /// Waits up to `wait` for outstanding responses, then closes.
    fn close(self: Box<Self>, wait: Duration);
}

/// One consumer connection with its queues.
pub trait ConsumerConnection: Send {
    /// Pulls until `stop` is set; increments `ready` once every queue has a pull in flight
    /// (the driver starts producers only then, so no early message is skipped or counted late).
    ///
    /// # Errors
    /// The connection broke.
    fn run(
        self: Box<Self>,
        stop: Arc<AtomicBool>,
        ready: Arc<AtomicUsize>,
    ) -> Result<(), TargetError>;
}
