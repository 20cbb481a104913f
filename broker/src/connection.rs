//! One client connection, served by one task on the shard that accepted it.
//!
//! The task owns the socket and waits on three things: the oldest in-flight request's
//! reply, the outbound channel (long-poll replies and broker pushes), and socket input.
//! Replies are written in request order, except pulls that may be suspended: a long poll
//! can last 15 s and must not hold back the heartbeats and sends pipelined behind it on
//! the same connection, so those replies go out when ready (clients match by `opaque`).
//! Every request runs as its own task, spawned in arrival order, so requests for one queue
//! reach its owner in the order the client sent them.
//!
//! Limits: frames above `frameBytesMax` or malformed frames close the connection with one
//! log line; past `inFlightPerConnectionMax` requests the broker answers SYSTEM_BUSY.

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use bytes::BytesMut;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::net::{TcpListener, TcpStream};
use glommio::task::JoinHandle;
use protocol::code::response;
use protocol::frame::{self, FrameCheck};
use protocol::RemotingCommand;

use crate::handlers::{self, RequestContext};
use crate::mesh::{ConnectionRef, ControlOp};
use crate::shard::{Outbound, Shard};

const LOG: &str = "broker::connection";

/// Bytes read from the socket at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Accepts connections until cancelled (the task is dropped at shutdown).
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(serve(shard.clone(), stream)).detach();
            }
            Err(error) => {
                tracing::warn!(target: LOG, shard = shard.index, %error, "accept failed");
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

enum Event {
    Head(Option<Option<RemotingCommand>>),
    Out(Option<Outbound>),
    Read(std::io::Result<usize>),
}

struct Connection {
    context: RequestContext,
    out: Rc<LocalSender<Outbound>>,
    pending: VecDeque<JoinHandle<Option<RemotingCommand>>>,
    in_flight: Rc<Cell<u32>>,
    input: BytesMut,
    output: BytesMut,
}

/// Serves one connection until it closes.
pub async fn serve(shard: Rc<Shard>, mut stream: TcpStream) {
    let Ok(peer) = stream.peer_addr() else {
        return;
    };
    let _ = stream.set_nodelay(true);
    let (out, outbound) = local_channel::new_unbounded();
    let out = Rc::new(out);
    let Some(id) = shard.add_connection(out.clone()) else {
        tracing::warn!(target: LOG, shard = shard.index, %peer, limit = shard.config().connections_per_shard_max(), "connection refused: shard at its connection limit");
        return;
    };
    let connection_ref = ConnectionRef {
        shard: shard.index,
        id,
    };
    tracing::debug!(target: LOG, shard = shard.index, conn = id, %peer, "connection opened");
    let mut connection = Connection {
        context: RequestContext {
            shard: shard.clone(),
            connection: connection_ref,
            peer,
        },
        out,
        pending: VecDeque::new(),
        in_flight: Rc::new(Cell::new(0)),
        input: BytesMut::with_capacity(READ_CHUNK_BYTES),
        output: BytesMut::with_capacity(READ_CHUNK_BYTES),
    };
    let reason = connection.run(&mut stream, &outbound).await;
    tracing::debug!(target: LOG, shard = shard.index, conn = id, %peer, %reason, "connection closed");
    shard.remove_connection(id);
    let closing = shard.clone();
    glommio::spawn_local(async move {
        let _ = closing
            .call_control(ControlOp::ConnectionClosed(connection_ref))
            .await;
    })
    .detach();
}

impl Connection {
    async fn run(&mut self, stream: &mut TcpStream, outbound: &LocalReceiver<Outbound>) -> String {
        let mut chunk = vec![0u8; READ_CHUNK_BYTES];
        loop {
            let event = {
                let read = async { Event::Read(stream.read(&mut chunk).await) };
                let out = async { Event::Out(outbound.recv().await) };
                match self.pending.front_mut() {
                    Some(head) => async { Event::Head(head.await) }.or(out).or(read).await,
                    None => out.or(read).await,
                }
            };
            match event {
                Event::Head(reply) => {
                    self.pending.pop_front();
                    if let Some(Some(command)) = reply {
                        self.encode(&command);
                    }
                    self.drain_ready_heads().await;
                }
                Event::Out(Some(Outbound::Now(command))) => self.encode(&command),
                Event::Out(Some(Outbound::Close)) => return "broker shutting down".to_owned(),
                Event::Out(None) => return "outbound channel closed".to_owned(),
                Event::Read(Ok(0)) => return "end of stream".to_owned(),
                Event::Read(Ok(read)) => {
                    self.input.extend_from_slice(&chunk[..read]);
                    if let Err(reason) = self.take_frames() {
                        let peer = self.context.peer;
                        tracing::warn!(target: LOG, shard = self.context.shard.index, conn = self.context.connection.id, %peer, %reason, "closing connection on bad input");
                        return reason;
                    }
                }
                Event::Read(Err(error)) => return format!("read failed: {error}"),
            }
            if !self.output.is_empty() {
                if let Err(error) = stream.write_all(&self.output).await {
                    return format!("write failed: {error}");
                }
                self.output.clear();
            }
        }
    }

    /// Writes every consecutive already-finished reply in one go.
    async fn drain_ready_heads(&mut self) {
        while let Some(head) = self.pending.front_mut() {
            match futures_lite::future::poll_once(head).await {
                Some(reply) => {
                    self.pending.pop_front();
                    if let Some(Some(command)) = reply {
                        self.encode(&command);
                    }
                }
                None => return,
            }
        }
    }

    fn encode(&mut self, command: &RemotingCommand) {
        if let Err(error) = command.encode(&mut self.output) {
            tracing::error!(target: LOG, code = command.code, %error, "cannot encode response");
        }
    }

    /// Dispatches every complete frame in the input buffer.
    fn take_frames(&mut self) -> Result<(), String> {
        let frame_bytes_max = self.context.shard.config().frame_bytes_max;
        loop {
            match frame::check(&self.input, frame_bytes_max).map_err(|error| error.to_string())? {
                FrameCheck::Complete { frame_bytes } => {
                    let frame = self.input.split_to(frame_bytes).freeze();
                    let (command, _) = RemotingCommand::decode_bytes(&frame, frame_bytes_max)
                        .map_err(|error| format!("undecodable frame: {error}"))?;
                    if command.is_response() {
                        let connection_id = self.context.connection.id;
                        self.context.shard.client_response(connection_id, command);
                    } else {
                        self.dispatch(command);
                    }
                }
                FrameCheck::Incomplete { frame_bytes } => {
                    if let Some(frame_bytes) = frame_bytes {
                        self.input
                            .reserve(frame_bytes.saturating_sub(self.input.len()));
                    }
                    return Ok(());
                }
            }
        }
    }

    fn dispatch(&mut self, command: RemotingCommand) {
        let limit = self.context.shard.config().in_flight_per_connection_max;
        if self.in_flight.get() >= limit {
            if !command.is_oneway() {
                let remark = format!(
                    "[OVERLOAD]system busy, {limit} requests already in flight on this connection"
                );
                let busy = handlers::reply(&command, response::SYSTEM_BUSY, remark);
                self.pending
                    .push_back(glommio::spawn_local(async move { Some(busy) }).detach());
            }
            return;
        }
        self.in_flight.set(self.in_flight.get() + 1);
        let in_flight = self.in_flight.clone();
        let context = self.context.clone();
        let oneway = command.is_oneway();
        let long_poll = (command.code == protocol::code::request::PULL_MESSAGE
            || command.code == protocol::code::request::LITE_PULL_MESSAGE)
            && handlers::pull::may_suspend(&command);
        if long_poll {
            let out = self.out.clone();
            glommio::spawn_local(async move {
                let reply = handlers::dispatch(&context, command).await;
                in_flight.set(in_flight.get() - 1);
                if let Some(reply) = reply {
                    let _ = out.try_send(Outbound::Now(reply));
                }
            })
            .detach();
            return;
        }
        let task = glommio::spawn_local(async move {
            let reply = handlers::dispatch(&context, command).await;
            in_flight.set(in_flight.get() - 1);
            reply
        })
        .detach();
        if !oneway {
            self.pending.push_back(task);
        }
    }
}
