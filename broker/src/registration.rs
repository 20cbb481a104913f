//! Registration with the name servers, from shard 0: REGISTER_BROKER (103) with the whole
//! topic table to every name server at once, first right after start, then every
//! `registerNameServerPeriod` and whenever the topic table changed (coalesced: changes
//! during a round trigger one more round); UNREGISTER_BROKER (104) on shutdown.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::BytesMut;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use glommio::channels::local_channel::LocalReceiver;
use glommio::net::TcpStream;
use protocol::body::route::{
    body_crc32, JsonBody, RegisterBrokerBody, TopicConfigAndMappingSerializeWrapper,
};
use protocol::code::{request, response};
use protocol::frame::{self, FrameCheck};
use protocol::header::namesrv::{RegisterBrokerRequestHeader, UnregisterBrokerRequestHeader};
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, SerializeType};

use crate::control::ControlShell;
use crate::shard::Shard;

const LOG: &str = "broker::registration";

/// How long one name-server round trip may take.
pub const NAMESRV_CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Writes `command` and reads frames until its response (by opaque).
async fn exchange(
    stream: &mut TcpStream,
    command: &RemotingCommand,
) -> Result<RemotingCommand, String> {
    let mut out = BytesMut::with_capacity(command.encoded_size());
    command
        .encode(&mut out)
        .map_err(|error| error.to_string())?;
    stream
        .write_all(&out)
        .await
        .map_err(|error| error.to_string())?;
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match frame::check(&buffer, frame::FRAME_BYTES_MAX_DEFAULT)
            .map_err(|error| error.to_string())?
        {
            FrameCheck::Complete { frame_bytes } => {
                let (answer, _) =
                    RemotingCommand::decode(&buffer[..frame_bytes], frame::FRAME_BYTES_MAX_DEFAULT)
                        .map_err(|error| error.to_string())?;
                buffer.drain(..frame_bytes);
                if answer.is_response() && answer.opaque == command.opaque {
                    return Ok(answer);
                }
            }
            FrameCheck::Incomplete { .. } => {
                let read = stream
                    .read(&mut chunk)
                    .await
                    .map_err(|error| error.to_string())?;
                if read == 0 {
                    return Err("connection closed before the response".to_owned());
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
        }
    }
}

/// One request over a kept connection (opened if absent). The connection is returned for
/// reuse only after a clean exchange: a name server drops a broker whose connection
/// closes, so registrations keep one connection per name server open.
///
/// # Errors
/// Connection, I/O or decode failure, or timeout, as text for the log.
pub async fn call_on(
    addr: SocketAddr,
    stream: Option<TcpStream>,
    command: &RemotingCommand,
    timeout: Duration,
) -> (Result<RemotingCommand, String>, Option<TcpStream>) {
    let attempt = async {
        let mut stream = match stream {
            Some(stream) => stream,
            None => TcpStream::connect(addr)
                .await
                .map_err(|error| error.to_string())?,
        };
        let answer = exchange(&mut stream, command).await?;
        Ok((answer, stream))
    };
    let outcome = attempt
        .or(async {
            glommio::timer::sleep(timeout).await;
            Err(format!("no response within {} ms", timeout.as_millis()))
        })
        .await;
    match outcome {
        Ok((answer, stream)) => (Ok(answer), Some(stream)),
        Err(error) => (Err(error), None),
    }
}

/// One request on a fresh connection.
///
/// # Errors
/// As [`call_on`].
pub async fn call(
    addr: SocketAddr,
    command: &RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand, String> {
    call_on(addr, None, command, timeout).await.0
}

fn register_request(
    shard: &Shard,
    topics: TopicConfigAndMappingSerializeWrapper,
) -> Result<RemotingCommand, String> {
    let config = &shard.config();
    let body = RegisterBrokerBody {
        filter_server_list: Vec::new(),
        topic_config_serialize_wrapper: topics,
    }
    .to_bytes()
    .map_err(|error| error.to_string())?;
    let mut command = RemotingCommand::request(request::REGISTER_BROKER, 0, SerializeType::Json);
    let ha_port = shard.broker_addr.port().wrapping_add(1);
    RegisterBrokerRequestHeader {
        broker_name: config.broker_name.clone(),
        broker_addr: shard.broker_addr.to_string(),
        cluster_name: config.broker_cluster_name.clone(),
        ha_server_addr: SocketAddr::new(shard.broker_addr.ip(), ha_port).to_string(),
        broker_id: config.broker_id,
        heartbeat_timeout_millis: None,
        enable_acting_master: Some(false),
        compressed: false,
        body_crc32: body_crc32(&body),
        zone_name: None,
    }
    .encode(command.ext_mut());
    Ok(command.with_body(body))
}

/// One registration round to every name server concurrently, over the kept connections.
pub async fn register_all(
    shard: &Rc<Shard>,
    control: &ControlShell,
    namesrv_addrs: &[SocketAddr],
    channels: &mut [Option<TcpStream>],
    opaque: i32,
) {
    let topics = control.plane.borrow().all_topics();
    let mut command = match register_request(shard, topics) {
        Ok(command) => command,
        Err(error) => {
            tracing::error!(target: LOG, %error, "cannot build REGISTER_BROKER");
            return;
        }
    };
    command.opaque = opaque;
    let calls: Vec<_> = namesrv_addrs
        .iter()
        .zip(channels.iter_mut().map(Option::take))
        .map(|(addr, stream)| {
            let command = command.clone();
            let addr = *addr;
            glommio::spawn_local(async move {
                (
                    addr,
                    call_on(addr, stream, &command, NAMESRV_CALL_TIMEOUT).await,
                )
            })
        })
        .collect();
    for (slot, call) in channels.iter_mut().zip(calls) {
        let (addr, (outcome, stream)) = call.await;
        *slot = stream;
        match outcome {
            Ok(answer) if answer.code == response::SUCCESS => {
                tracing::debug!(target: LOG, %addr, "registered with name server");
            }
            Ok(answer) => {
                tracing::warn!(target: LOG, %addr, code = answer.code, remark = ?answer.remark, "name server refused REGISTER_BROKER");
            }
            Err(error) => tracing::warn!(target: LOG, %addr, %error, "REGISTER_BROKER failed"),
        }
    }
}

/// Registers now, then on every trigger or period, until cancelled.
pub async fn run(
    shard: Rc<Shard>,
    control: Rc<ControlShell>,
    namesrv_addrs: Vec<SocketAddr>,
    trigger: LocalReceiver<()>,
) {
    let period = shard.config().register_period();
    let mut channels: Vec<Option<TcpStream>> = namesrv_addrs.iter().map(|_| None).collect();
    let mut opaque = 0i32;
    loop {
        opaque = opaque.wrapping_add(1);
        register_all(&shard, &control, &namesrv_addrs, &mut channels, opaque).await;
        let stopped = async { trigger.recv().await.is_none() }
            .or(async {
                glommio::timer::sleep(period).await;
                false
            })
            .await;
        if stopped {
            return;
        }
    }
}

/// UNREGISTER_BROKER to every name server (best effort, on shutdown).
pub async fn unregister_all(shard: &Shard, namesrv_addrs: &[SocketAddr]) {
    let config = &shard.config();
    let mut command = RemotingCommand::request(request::UNREGISTER_BROKER, 0, SerializeType::Json);
    UnregisterBrokerRequestHeader {
        broker_name: config.broker_name.clone(),
        broker_addr: shard.broker_addr.to_string(),
        cluster_name: config.broker_cluster_name.clone(),
        broker_id: config.broker_id,
    }
    .encode(command.ext_mut());
    for addr in namesrv_addrs {
        if let Err(error) = call(*addr, &command, NAMESRV_CALL_TIMEOUT).await {
            tracing::warn!(target: LOG, %addr, %error, "UNREGISTER_BROKER failed");
        }
    }
}
