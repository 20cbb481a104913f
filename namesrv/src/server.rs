//! The network shell: accept loop, one task per connection, the liveness scan.
//!
//! Everything runs on the current glommio executor (one thread). The [`NameServer`] sits
//! in a `RefCell` shared by the tasks; it is borrowed only inside synchronous sections,
//! never across an `.await`.
//!
//! A connection reads into one reusable buffer, checks frames with
//! [`protocol::frame::check`] (an incomplete frame is normal), decodes every complete frame,
//! and writes the answers to all of them in one write. A frame that can never be valid
//! (too large, bad lengths, undecodable header) ends that connection only, with one log
//! line; a bad body is answered with an error code and the connection stays.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use protocol::code::response as resp;
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, WireError};

use crate::config::NamesrvConfig;
use crate::error::NamesrvError;
use crate::kv_config::KvConfig;
use crate::name_server::NameServer;
use crate::route_table::ConnectionId;

/// Bytes read at a time; a connection's input buffer starts at this size.
const INPUT_CHUNK_BYTES: usize = 64 * 1024;
/// An idle connection whose buffer grew past this (a large registration) gives it back.
const INPUT_RETAINED_BYTES_MAX: usize = 1024 * 1024;
/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(10);
/// How long shutdown waits for connection tasks to finish.
const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

const _: () = assert!(INPUT_CHUNK_BYTES <= INPUT_RETAINED_BYTES_MAX);
const _: () = assert!(INPUT_CHUNK_BYTES >= frame::LENGTH_PREFIX_BYTES + frame::HEADER_WORD_BYTES);

/// Runs the name server on the current glommio executor until `shutdown` resolves.
///
/// # Errors
/// [`NamesrvError::Config`] for an invalid config, [`NamesrvError::KvConfig`] if the KV
/// file cannot be loaded.
pub async fn run(
    config: NamesrvConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), NamesrvError> {
    config.validate()?;
    let kv = match &config.kv_config_path {
        Some(path) => KvConfig::open(path)?,
        None => KvConfig::in_memory(),
    };
    let local_addr = listener.local_addr().ok();
    tracing::info!(target: "namesrv", address = ?local_addr, "name server started");
    let shared = Rc::new(Shared {
        frame_bytes_max: config.frame_bytes_max,
        connections_max: config.connections_max,
        idle_timeout: (config.connection_idle_timeout_ms > 0)
            .then(|| Duration::from_millis(config.connection_idle_timeout_ms)),
        scan_interval: Duration::from_millis(config.scan_not_active_broker_interval_ms),
        core: RefCell::new(NameServer::new(config, kv)),
        connections: RefCell::new(HashMap::new()),
        next_connection: Cell::new(0),
        clock: Instant::now(),
    });
    let scanner = glommio::spawn_local(liveness_scan(shared.clone()));
    future::or(shutdown, accept_loop(&shared, &listener)).await;
    drop(listener);
    scanner.cancel().await;
    drain_connections(&shared).await;
    tracing::info!(target: "namesrv", address = ?local_addr, "name server stopped");
    Ok(())
}

struct Shared {
    frame_bytes_max: usize,
    connections_max: usize,
    idle_timeout: Option<Duration>,
    scan_interval: Duration,
    core: RefCell<NameServer>,
    connections: RefCell<HashMap<ConnectionId, Rc<CloseSignal>>>,
    next_connection: Cell<u64>,
    clock: Instant,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn close(&self, connection: ConnectionId) {
        if let Some(signal) = self.connections.borrow().get(&connection) {
            signal.close();
        }
    }
}

/// Tells a connection task to stop; the task drops its socket, closing it.
#[derive(Default)]
struct CloseSignal {
    closed: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl CloseSignal {
    fn close(&self) {
        self.closed.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        future::poll_fn(|context| {
            if self.closed.get() {
                Poll::Ready(())
            } else {
                self.waker.set(Some(context.waker().clone()));
                Poll::Pending
            }
        })
        .await;
    }
}

async fn accept_loop(shared: &Rc<Shared>, listener: &TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(target: "namesrv::server", %error, "accept failed");
                glommio::timer::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        let peer = stream.peer_addr().ok();
        if shared.connections.borrow().len() >= shared.connections_max {
            tracing::warn!(
                target: "namesrv::server",
                peer = ?peer, connections_max = shared.connections_max,
                "connection limit reached, closing the new connection"
            );
            continue;
        }
        let id = ConnectionId(shared.next_connection.get());
        shared.next_connection.set(id.0 + 1);
        let signal = Rc::new(CloseSignal::default());
        shared.connections.borrow_mut().insert(id, signal.clone());
        glommio::spawn_local(connection_task(shared.clone(), stream, id, signal, peer)).detach();
    }
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
enum ConnectionEnd {
    #[error("closed by the server")]
    ClosedByServer,
    #[error("idle for longer than the idle timeout")]
    Idle,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad frame: {0}")]
    Frame(WireError),
}

async fn connection_task(
    shared: Rc<Shared>,
    mut stream: TcpStream,
    id: ConnectionId,
    signal: Rc<CloseSignal>,
    peer: Option<SocketAddr>,
) {
    let _ = stream.set_nodelay(true);
    if let Err(error) = stream.set_read_timeout(shared.idle_timeout) {
        tracing::debug!(target: "namesrv::server", %error, "could not set the idle timeout");
    }
    tracing::debug!(target: "namesrv::server", conn = id.0, peer = ?peer, "connection opened");
    let outcome = future::or(serve_connection(&shared, &mut stream, id), async {
        signal.wait().await;
        Err(ConnectionEnd::ClosedByServer)
    })
    .await;
    drop(stream);
    shared.connections.borrow_mut().remove(&id);
    shared.core.borrow_mut().connection_closed(id);
    match outcome {
        Ok(()) => {
            tracing::debug!(target: "namesrv::server", conn = id.0, peer = ?peer, "peer closed");
        }
        Err(end @ (ConnectionEnd::ClosedByServer | ConnectionEnd::Idle)) => {
            tracing::info!(target: "namesrv::server", conn = id.0, peer = ?peer, reason = %end, "connection closed");
        }
        Err(end) => {
            tracing::warn!(target: "namesrv::server", conn = id.0, peer = ?peer, error = %end, "closing bad connection");
        }
    }
}

async fn serve_connection(
    shared: &Shared,
    stream: &mut TcpStream,
    id: ConnectionId,
) -> Result<(), ConnectionEnd> {
    let mut input = InputBuffer::new(shared.frame_bytes_max);
    let mut output = BytesMut::with_capacity(INPUT_CHUNK_BYTES);
    loop {
        while let Some(request) = input.next_frame()? {
            let response = shared
                .core
                .borrow_mut()
                .handle(&request, id, shared.now_ms());
            if let Some(response) = response {
                encode_response(&request, &response, &mut output);
            }
        }
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
            if output.capacity() > INPUT_RETAINED_BYTES_MAX {
                output = BytesMut::with_capacity(INPUT_CHUNK_BYTES);
            }
        }
        input.release_if_idle();
        let read = match stream.read(input.spare()).await {
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
                return Err(ConnectionEnd::Idle)
            }
            Err(error) => return Err(ConnectionEnd::Io(error)),
        };
        if read == 0 {
            return Ok(());
        }
        input.filled(read);
    }
}

/// Appends `response`; if it cannot be encoded (a field too long for its length prefix),
/// appends a SYSTEM_ERROR naming why instead.
fn encode_response(request: &RemotingCommand, response: &RemotingCommand, output: &mut BytesMut) {
    let mark = output.len();
    let Err(error) = response.encode(output) else {
        return;
    };
    output.truncate(mark);
    tracing::error!(target: "namesrv::server", code = request.code, %error, "response not encodable");
    let fallback = RemotingCommand::response_to(request, resp::SYSTEM_ERROR)
        .with_remark(format!("response not encodable: {error}"));
    if fallback.encode(output).is_err() {
        output.truncate(mark);
    }
}

/// A connection's input: `bytes[start..end]` is received but not yet decoded.
struct InputBuffer {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
    frame_bytes_max: usize,
}

impl InputBuffer {
    fn new(frame_bytes_max: usize) -> InputBuffer {
        InputBuffer {
            bytes: vec![0; INPUT_CHUNK_BYTES],
            start: 0,
            end: 0,
            frame_bytes_max,
        }
    }

    /// The next complete request, or `None` if more bytes are needed.
    fn next_frame(&mut self) -> Result<Option<RemotingCommand>, ConnectionEnd> {
        let available = &self.bytes[self.start..self.end];
        match frame::check(available, self.frame_bytes_max).map_err(ConnectionEnd::Frame)? {
            FrameCheck::Incomplete { frame_bytes } => {
                if let Some(frame_bytes) = frame_bytes {
                    self.make_room(frame_bytes);
                }
                Ok(None)
            }
            FrameCheck::Complete { frame_bytes } => {
                let (request, consumed) =
                    RemotingCommand::decode(&available[..frame_bytes], self.frame_bytes_max)
                        .map_err(ConnectionEnd::Frame)?;
                debug_assert_eq!(consumed, frame_bytes);
                self.start += consumed;
                if self.start == self.end {
                    self.start = 0;
                    self.end = 0;
                }
                Ok(Some(request))
            }
        }
    }

    /// Makes the buffer able to hold a whole frame of `frame_bytes` from `start`.
    fn make_room(&mut self, frame_bytes: usize) {
        debug_assert!(frame_bytes <= self.frame_bytes_max + frame::LENGTH_PREFIX_BYTES);
        if self.bytes.len() - self.start >= frame_bytes {
            return;
        }
        self.compact();
        if self.bytes.len() < frame_bytes {
            self.bytes.resize(frame_bytes, 0);
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Free space to read into (at least one byte).
    fn spare(&mut self) -> &mut [u8] {
        if self.end == self.bytes.len() {
            self.compact();
        }
        if self.end == self.bytes.len() {
            // Only reachable before the length prefix is known; frames announce their
            // size and `make_room` sizes the buffer for them.
            let grown =
                (self.bytes.len() * 2).min(self.frame_bytes_max + frame::LENGTH_PREFIX_BYTES);
            self.bytes.resize(grown.max(self.end + 1), 0);
        }
        &mut self.bytes[self.end..]
    }

    fn filled(&mut self, count: usize) {
        self.end += count;
        debug_assert!(self.end <= self.bytes.len());
    }

    /// Gives back memory a large frame needed once nothing is pending.
    fn release_if_idle(&mut self) {
        if self.start == self.end && self.bytes.len() > INPUT_RETAINED_BYTES_MAX {
            self.bytes = vec![0; INPUT_CHUNK_BYTES];
            self.start = 0;
            self.end = 0;
        }
    }
}

/// Every `scan_interval`, expires silent brokers and closes their connections.
async fn liveness_scan(shared: Rc<Shared>) {
    loop {
        glommio::timer::sleep(shared.scan_interval).await;
        let expired = shared.core.borrow_mut().expire_brokers(shared.now_ms());
        for broker in expired {
            shared.close(broker.connection);
        }
    }
}

async fn drain_connections(shared: &Shared) {
    let signals: Vec<Rc<CloseSignal>> = shared.connections.borrow().values().cloned().collect();
    for signal in signals {
        signal.close();
    }
    let deadline = Instant::now() + SHUTDOWN_DRAIN_TIMEOUT;
    while !shared.connections.borrow().is_empty() && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}
