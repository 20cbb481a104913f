//! One pipelined TCP connection: many requests in flight, matched to responses by `opaque`.
//!
//! ```text
//!  callers ──encode──▶ bounded channel ──▶ writer task ──▶ socket
//!  callers ◀─oneshot── pending[opaque] ◀── reader task ◀── socket
//!                                       └─▶ inbound handler (broker → client requests)
//! ```
//!
//! The writer drains everything queued before each flush, so a burst of requests costs one
//! syscall. The reader decodes frames with the protocol's check-then-parse. When either task
//! ends, the connection is marked closed and every pending request fails with
//! [`ClientError::ConnectionClosed`]; the pool then opens a new connection on next use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::error::{ClientError, Result};

/// Largest frame accepted or sent (Java peers cap frames at 16 MiB).
pub const FRAME_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Requests in flight per connection before callers wait.
pub const IN_FLIGHT_MAX: usize = 4096;
/// Encoded frames queued for the writer before callers wait.
const OUTBOUND_QUEUE_MAX: usize = 1024;
const READ_BUFFER_BYTES: usize = 64 * 1024;

const _: () = assert!(OUTBOUND_QUEUE_MAX <= IN_FLIGHT_MAX);

static NEXT_OPAQUE: AtomicI32 = AtomicI32::new(1);

/// A fresh request id, unique within the process (wraps after 2^31).
#[must_use]
pub fn next_opaque() -> i32 {
    NEXT_OPAQUE.fetch_add(1, Ordering::Relaxed) & i32::MAX
}

/// A request the broker sent to us (CHECK_TRANSACTION_STATE, NOTIFY_CONSUMER_IDS_CHANGED,
/// GET_CONSUMER_RUNNING_INFO, ...), with a way to answer it.
pub struct InboundRequest {
    /// Address of the connection it came in on.
    pub addr: String,
    pub command: RemotingCommand,
    responder: Responder,
}

impl InboundRequest {
    /// Answers the request unless it was oneway. Errors are ignored: the peer may be gone.
    pub async fn respond(&self, response: RemotingCommand) {
        if self.command.is_oneway() {
            return;
        }
        let _ = self.responder.send(&response).await;
    }
}

/// Handles broker-initiated requests. Called on the reader task: must not block; spawn for
/// slow work.
pub type InboundHandler = Arc<dyn Fn(InboundRequest) + Send + Sync>;

#[derive(Clone)]
struct Responder {
    outbound: mpsc::Sender<Bytes>,
}

impl Responder {
    async fn send(&self, command: &RemotingCommand) -> std::result::Result<(), ()> {
        let mut buffer = BytesMut::with_capacity(command.encoded_size());
        command.encode(&mut buffer).map_err(|_| ())?;
        self.outbound.send(buffer.freeze()).await.map_err(|_| ())
    }
}

type PendingMap = Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>;

struct Shared {
    addr: String,
    pending: PendingMap,
    closed: AtomicBool,
}

impl Shared {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Dropping the senders wakes every waiter with "closed".
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
    }
}

/// A handle to one connection; cheap to clone.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    outbound: mpsc::Sender<Bytes>,
    in_flight: Arc<Semaphore>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.shared.addr)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    /// Connects to `addr` (`host:port`) and starts the reader and writer tasks.
    ///
    /// # Errors
    /// [`ClientError::ConnectTimeout`] or [`ClientError::Io`].
    pub async fn connect(
        addr: &str,
        connect_timeout: Duration,
        inbound: Option<InboundHandler>,
    ) -> Result<Connection> {
        let stream = tokio::time::timeout(connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::ConnectTimeout {
                addr: addr.to_owned(),
                timeout_ms: millis(connect_timeout),
            })?
            .map_err(|source| ClientError::Io {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        let (outbound, outbound_rx) = mpsc::channel(OUTBOUND_QUEUE_MAX);
        let shared = Arc::new(Shared {
            addr: addr.to_owned(),
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        });
        tokio::spawn(write_loop(writer, outbound_rx, shared.clone()));
        let responder = Responder {
            outbound: outbound.clone(),
        };
        tokio::spawn(read_loop(reader, shared.clone(), inbound, responder));
        tracing::debug!(target: "client::remoting", conn = addr, "connected");
        Ok(Connection {
            shared,
            outbound,
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT_MAX)),
        })
    }

    #[must_use]
    pub fn addr(&self) -> &str {
        &self.shared.addr
    }

    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire) || self.outbound.is_closed()
    }

    /// Sends `request` (its opaque is replaced) and waits for the matching response.
    ///
    /// # Errors
    /// [`ClientError::Timeout`], [`ClientError::ConnectionClosed`] or an encoding error.
    pub async fn request(
        &self,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let code = request.code;
        let deadline = tokio::time::Instant::now() + timeout;
        let permit = tokio::time::timeout_at(deadline, self.acquire())
            .await
            .map_err(|_| self.timeout_error(code, timeout))??;
        let opaque = next_opaque();
        request.opaque = opaque;
        request.flag &= !protocol::command::FLAG_ONEWAY;
        let (sender, receiver) = oneshot::channel();
        self.pending()?.insert(opaque, sender);
        let frame = self.encode(&request)?;
        if self.outbound.send(frame).await.is_err() {
            self.forget(opaque);
            return Err(self.closed_error());
        }
        let outcome = tokio::time::timeout_at(deadline, receiver).await;
        drop(permit);
        match outcome {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.forget(opaque);
                Err(self.timeout_error(code, timeout))
            }
        }
    }

    /// Sends `request` with the oneway flag; returns once it is queued for the writer.
    ///
    /// # Errors
    /// [`ClientError::ConnectionClosed`] or an encoding error.
    pub async fn oneway(&self, mut request: RemotingCommand) -> Result<()> {
        request.opaque = next_opaque();
        request.flag |= protocol::command::FLAG_ONEWAY;
        let frame = self.encode(&request)?;
        self.outbound
            .send(frame)
            .await
            .map_err(|_| self.closed_error())
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit> {
        self.in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.closed_error())
    }

    fn pending(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<i32, oneshot::Sender<RemotingCommand>>>> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        self.shared.pending.lock().map_err(|_| self.closed_error())
    }

    fn forget(&self, opaque: i32) {
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.remove(&opaque);
        }
    }

    fn encode(&self, request: &RemotingCommand) -> Result<Bytes> {
        let size = request.encoded_size();
        if size > FRAME_BYTES_MAX {
            return Err(ClientError::InvalidArgument(format!(
                "request of {size} bytes exceeds the {FRAME_BYTES_MAX}-byte frame limit"
            )));
        }
        let mut buffer = BytesMut::with_capacity(size);
        request
            .encode(&mut buffer)
            .map_err(|source| ClientError::Wire {
                addr: self.shared.addr.clone(),
                source,
            })?;
        Ok(buffer.freeze())
    }

    fn closed_error(&self) -> ClientError {
        ClientError::ConnectionClosed {
            addr: self.shared.addr.clone(),
        }
    }

    fn timeout_error(&self, code: i32, timeout: Duration) -> ClientError {
        ClientError::Timeout {
            addr: self.shared.addr.clone(),
            code,
            timeout_ms: millis(timeout),
        }
    }

    /// Closes the connection: frames already queued are written, then the writer stops;
    /// pending requests fail.
    pub fn close(&self) {
        let _ = self.outbound.try_send(Bytes::new());
        self.shared.close();
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

async fn write_loop(
    writer: tokio::net::tcp::OwnedWriteHalf,
    mut outbound: mpsc::Receiver<Bytes>,
    shared: Arc<Shared>,
) {
    let mut writer = BufWriter::with_capacity(READ_BUFFER_BYTES, writer);
    // An empty frame is the close marker: everything queued before it is still written, so
    // oneway requests sent just before a shutdown are not lost.
    'run: while let Some(frame) = outbound.recv().await {
        if frame.is_empty() || writer.write_all(&frame).await.is_err() {
            break;
        }
        // Drain what is already queued so one flush covers the burst.
        while let Ok(frame) = outbound.try_recv() {
            if frame.is_empty() {
                let _ = writer.flush().await;
                break 'run;
            }
            if writer.write_all(&frame).await.is_err() {
                break 'run;
            }
        }
        if writer.flush().await.is_err() {
            break;
        }
    }
    let _ = writer.shutdown().await;
    shared.close();
}

async fn read_loop(
    mut reader: tokio::net::tcp::OwnedReadHalf,
    shared: Arc<Shared>,
    inbound: Option<InboundHandler>,
    responder: Responder,
) {
    let mut buffer = BytesMut::with_capacity(READ_BUFFER_BYTES);
    loop {
        match frame::check(&buffer, FRAME_BYTES_MAX) {
            Ok(FrameCheck::Complete { frame_bytes }) => {
                let frame = buffer.split_to(frame_bytes).freeze();
                match RemotingCommand::decode_bytes(&frame, FRAME_BYTES_MAX) {
                    Ok((command, _)) => dispatch(command, &shared, inbound.as_ref(), &responder),
                    Err(error) => {
                        tracing::warn!(target: "client::remoting", conn = %shared.addr, %error, "bad frame; closing");
                        break;
                    }
                }
                continue;
            }
            Ok(FrameCheck::Incomplete { frame_bytes }) => {
                if let Some(total) = frame_bytes {
                    buffer.reserve(total.saturating_sub(buffer.len()));
                }
            }
            Err(error) => {
                tracing::warn!(target: "client::remoting", conn = %shared.addr, %error, "bad frame; closing");
                break;
            }
        }
        if buffer.capacity() == buffer.len() {
            buffer.reserve(READ_BUFFER_BYTES);
        }
        match reader.read_buf(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    tracing::debug!(target: "client::remoting", conn = %shared.addr, "connection closed");
    let _ = responder.outbound.try_send(Bytes::new());
    shared.close();
}

fn dispatch(
    command: RemotingCommand,
    shared: &Shared,
    inbound: Option<&InboundHandler>,
    responder: &Responder,
) {
    if command.is_response() {
        let waiter = shared
            .pending
            .lock()
            .ok()
            .and_then(|mut pending| pending.remove(&command.opaque));
        if let Some(waiter) = waiter {
            let _ = waiter.send(command);
        }
        return;
    }
    match inbound {
        Some(handler) => handler(InboundRequest {
            addr: shared.addr.clone(),
            command,
            responder: responder.clone(),
        }),
        None => {
            if !command.is_oneway() {
                let response = RemotingCommand::response_to(
                    &command,
                    protocol::code::response::REQUEST_CODE_NOT_SUPPORTED,
                )
                .with_remark(format!(" request type {} not supported", command.code));
                let responder = responder.clone();
                tokio::spawn(async move {
                    let _ = responder.send(&response).await;
                });
            }
        }
    }
}

/// Builds a request with the given code and header encoding.
#[must_use]
pub fn new_request(code: i32, serialize_type: SerializeType) -> RemotingCommand {
    RemotingCommand::request(code, 0, serialize_type)
}
