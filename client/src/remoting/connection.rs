//! One pipelined TCP connection: many requests in flight, matched to responses by `opaque`.
//!
//! ```text
//!  callers ──encode──▶ outbound buffer ──▶ writer task ──▶ socket
//!  callers ◀─oneshot── pending[opaque] ◀── reader task ◀── socket
//!                                       └─▶ inbound handler (broker → client requests)
//! ```
//!
//! Callers encode straight into one shared outbound buffer (a short lock, no `.await` under
//! it) and wake the writer only when it is parked; the writer swaps the buffer for its empty
//! spare and writes everything queued with one syscall. So a frame costs no allocation and
//! one copy, and a burst of requests costs one write. The buffer is bounded by
//! [`OUTBOUND_BYTES_MAX`]: callers wait for the writer beyond it. The reader decodes frames
//! with the protocol's check-then-parse. When either task ends, the connection is marked
//! closed and every pending request fails with [`ClientError::ConnectionClosed`]; the pool
//! then opens a new connection on next use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::BytesMut;
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};

use crate::error::{ClientError, Result};

/// Largest frame accepted or sent (Java peers cap frames at 16 MiB).
pub const FRAME_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Requests in flight per connection before callers wait.
pub const IN_FLIGHT_MAX: usize = 4096;
/// Encoded bytes queued for the writer before callers wait. A frame is appended while the
/// queue is below this, so the queue holds at most `OUTBOUND_BYTES_MAX + FRAME_BYTES_MAX`.
pub const OUTBOUND_BYTES_MAX: usize = 4 * 1024 * 1024;
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Initial capacity of each of the two outbound buffers.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// A spare outbound buffer grown past this (by a large frame) is shrunk back after use.
const WRITE_BUFFER_KEEP_BYTES_MAX: usize = 1024 * 1024;

const _: () = assert!(WRITE_BUFFER_BYTES <= WRITE_BUFFER_KEEP_BYTES_MAX);
const _: () = assert!(WRITE_BUFFER_KEEP_BYTES_MAX <= OUTBOUND_BYTES_MAX);

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
    shared: Arc<Shared>,
}

impl Responder {
    async fn send(&self, command: &RemotingCommand) -> std::result::Result<(), ()> {
        self.shared.enqueue(command).await.map_err(|_| ())
    }
}

type PendingMap = Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>;

/// Frames encoded by callers and not yet taken by the writer.
struct Outbound {
    queued: BytesMut,
    /// The writer found `queued` empty and waits on [`Shared::writer_wake`]: the next
    /// append must wake it. While it writes, appends do not wake anyone.
    writer_idle: bool,
    /// A caller waits on [`Shared::space`] for `queued` to drop below
    /// [`OUTBOUND_BYTES_MAX`].
    space_wanted: bool,
    /// No more frames are accepted; the writer writes what is queued, then shuts down.
    closing: bool,
}

/// Why a frame was not queued.
enum EnqueueError {
    Closed,
    Wire(protocol::WireError),
}

struct Shared {
    addr: String,
    pending: PendingMap,
    closed: AtomicBool,
    outbound: Mutex<Outbound>,
    writer_wake: Notify,
    space: Notify,
}

impl Shared {
    fn outbound(&self) -> MutexGuard<'_, Outbound> {
        // The critical sections only append to or swap a buffer, so a poisoned lock still
        // guards a consistent buffer of whole frames.
        self.outbound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `command` to the outbound buffer, waiting while it is full, and wakes the
    /// writer if it is parked.
    async fn enqueue(&self, command: &RemotingCommand) -> std::result::Result<(), EnqueueError> {
        loop {
            let space = self.space.notified();
            tokio::pin!(space);
            if let Some(outcome) = self.try_enqueue(command, space.as_mut()) {
                return outcome;
            }
            space.await;
        }
    }

    /// Appends `command` unless the buffer is full; when full, registers `space` (before the
    /// lock is released, so the writer's `notify_waiters` after it takes the buffer cannot
    /// be missed) and returns `None`.
    fn try_enqueue(
        &self,
        command: &RemotingCommand,
        space: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) -> Option<std::result::Result<(), EnqueueError>> {
        let mut outbound = self.outbound();
        if outbound.closing || self.closed.load(Ordering::Acquire) {
            return Some(Err(EnqueueError::Closed));
        }
        if outbound.queued.len() >= OUTBOUND_BYTES_MAX {
            outbound.space_wanted = true;
            space.enable();
            return None;
        }
        let frame_start = outbound.queued.len();
        if let Err(error) = command.encode(&mut outbound.queued) {
            // Keep the buffer a sequence of whole frames.
            outbound.queued.truncate(frame_start);
            return Some(Err(EnqueueError::Wire(error)));
        }
        let wake = std::mem::take(&mut outbound.writer_idle);
        drop(outbound);
        if wake {
            self.writer_wake.notify_one();
        }
        Some(Ok(()))
    }

    /// Stops accepting frames; the writer writes what is queued, then shuts the socket down.
    fn close_outbound(&self) {
        let wake = {
            let mut outbound = self.outbound();
            outbound.closing = true;
            std::mem::take(&mut outbound.writer_idle)
        };
        if wake {
            self.writer_wake.notify_one();
        }
        self.space.notify_waiters();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Dropping the senders wakes every waiter with "closed".
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
        self.space.notify_waiters();
    }
}

/// A handle to one connection; cheap to clone.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared {
            addr: addr.to_owned(),
            pending: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            outbound: Mutex::new(Outbound {
                queued: BytesMut::with_capacity(WRITE_BUFFER_BYTES),
                writer_idle: false,
                space_wanted: false,
                closing: false,
            }),
            writer_wake: Notify::new(),
            space: Notify::new(),
        });
        tokio::spawn(write_loop(writer, shared.clone()));
        let responder = Responder {
            shared: shared.clone(),
        };
        tokio::spawn(read_loop(reader, shared.clone(), inbound, responder));
        tracing::debug!(target: "client::remoting", conn = addr, "connected");
        Ok(Connection {
            shared,
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT_MAX)),
        })
    }

    #[must_use]
    pub fn addr(&self) -> &str {
        &self.shared.addr
    }

    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
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
        self.check_size(&request)?;
        let (sender, receiver) = oneshot::channel();
        self.pending()?.insert(opaque, sender);
        let queued = tokio::time::timeout_at(deadline, self.shared.enqueue(&request))
            .await
            .map_err(|_| self.timeout_error(code, timeout))
            .and_then(|queued| queued.map_err(|error| self.enqueue_error(error)));
        if let Err(error) = queued {
            self.forget(opaque);
            return Err(error);
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
        self.check_size(&request)?;
        self.shared
            .enqueue(&request)
            .await
            .map_err(|error| self.enqueue_error(error))
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

    fn check_size(&self, request: &RemotingCommand) -> Result<()> {
        let size = request.encoded_size();
        if size > FRAME_BYTES_MAX {
            return Err(ClientError::InvalidArgument(format!(
                "request of {size} bytes exceeds the {FRAME_BYTES_MAX}-byte frame limit"
            )));
        }
        Ok(())
    }

    fn enqueue_error(&self, error: EnqueueError) -> ClientError {
        match error {
            EnqueueError::Closed => self.closed_error(),
            EnqueueError::Wire(source) => ClientError::Wire {
                addr: self.shared.addr.clone(),
                source,
            },
        }
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
        self.shared.close_outbound();
        self.shared.close();
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Writes whatever callers queued, one `write` per batch. After `closing`, what was queued
/// before it is still written, so oneway requests sent just before a shutdown are not lost.
async fn write_loop(mut writer: tokio::net::tcp::OwnedWriteHalf, shared: Arc<Shared>) {
    let mut batch = BytesMut::with_capacity(WRITE_BUFFER_BYTES);
    loop {
        let space_wanted = {
            let mut outbound = shared.outbound();
            if outbound.queued.is_empty() {
                if outbound.closing {
                    break;
                }
                outbound.writer_idle = true;
                None
            } else {
                debug_assert!(batch.is_empty());
                std::mem::swap(&mut outbound.queued, &mut batch);
                Some(std::mem::take(&mut outbound.space_wanted))
            }
        };
        let Some(space_wanted) = space_wanted else {
            shared.writer_wake.notified().await;
            // Let the tasks already runnable on this worker queue their frames first, so
            // one write carries them all.
            tokio::task::yield_now().await;
            continue;
        };
        if space_wanted {
            shared.space.notify_waiters();
        }
        if writer.write_all(&batch).await.is_err() {
            break;
        }
        batch.clear();
        if batch.capacity() > WRITE_BUFFER_KEEP_BYTES_MAX {
            batch = BytesMut::with_capacity(WRITE_BUFFER_BYTES);
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
    shared.close_outbound();
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
