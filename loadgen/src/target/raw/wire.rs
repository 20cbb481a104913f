//! Socket helpers over the `protocol` codec: connecting with the loopback guard, a frame
//! reader, and a blocking request/response call for control requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::command::ExtFields;
use protocol::frame::{self, FrameCheck, FRAME_BYTES_MAX_DEFAULT};
use protocol::{RemotingCommand, SerializeType};

use crate::target::route::checked_address;
use crate::target::TargetError;

/// The Java benchmark forces ROCKETMQ binary headers; so do we.
pub const SERIALIZE: SerializeType = SerializeType::RocketMq;

const READ_CHUNK_BYTES: usize = 64 * 1024;

pub fn io_error(address: &str, source: std::io::Error) -> TargetError {
    TargetError::Io {
        address: address.to_owned(),
        source,
    }
}

/// Connects (refusing non-loopback addresses unless allowed), with TCP_NODELAY.
///
/// # Errors
/// Guard or connect failures.
pub fn connect(address: &str, allow_remote: bool) -> Result<TcpStream, TargetError> {
    let socket = checked_address(address, allow_remote)?;
    let stream = TcpStream::connect_timeout(&socket, Duration::from_secs(3))
        .map_err(|e| io_error(address, e))?;
    stream.set_nodelay(true).map_err(|e| io_error(address, e))?;
    Ok(stream)
}

/// Accumulates bytes from a stream and yields whole commands.
#[derive(Debug)]
pub struct FrameReader {
    buffer: BytesMut,
    /// Zeroed once; reads land here and only the bytes read are copied into `buffer`.
    scratch: Vec<u8>,
}

impl Default for FrameReader {
    fn default() -> FrameReader {
        FrameReader {
            buffer: BytesMut::with_capacity(READ_CHUNK_BYTES),
            scratch: vec![0; READ_CHUNK_BYTES],
        }
    }
}

/// What one [`FrameReader::next`] call produced.
pub enum Received {
    Command(RemotingCommand),
    /// The read timed out with no whole frame (the caller may do housekeeping).
    Idle,
    Closed,
}

impl FrameReader {
    /// The next whole command, reading as needed.
    ///
    /// # Errors
    /// Socket errors (other than timeouts) and undecodable frames.
    pub fn next(&mut self, stream: &mut TcpStream) -> Result<Received, std::io::Error> {
        loop {
            match frame::check(&self.buffer, FRAME_BYTES_MAX_DEFAULT) {
                Ok(FrameCheck::Complete { frame_bytes }) => {
                    let frame = self.buffer.split_to(frame_bytes).freeze();
                    let (command, _) =
                        RemotingCommand::decode_bytes(&frame, FRAME_BYTES_MAX_DEFAULT).map_err(
                            |e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                        )?;
                    return Ok(Received::Command(command));
                }
                Ok(FrameCheck::Incomplete { .. }) => {}
                Err(error) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        error.to_string(),
                    ));
                }
            }
            match stream.read(&mut self.scratch) {
                Ok(0) => return Ok(Received::Closed),
                Ok(read_bytes) => self.buffer.extend_from_slice(&self.scratch[..read_bytes]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(Received::Idle);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Encodes `command` and writes it.
///
/// # Errors
/// Encoding or socket errors.
pub fn write_command(
    stream: &mut TcpStream,
    address: &str,
    command: &RemotingCommand,
) -> Result<(), TargetError> {
    let mut buffer = BytesMut::with_capacity(command.encoded_size());
    command
        .encode(&mut buffer)
        .map_err(|e| TargetError::Protocol(format!("encode: {e}")))?;
    stream.write_all(&buffer).map_err(|e| io_error(address, e))
}

/// A blocking request/response on a dedicated connection (control requests only).
///
/// # Errors
/// Socket errors, a timeout, or a closed connection.
pub fn call(
    stream: &mut TcpStream,
    address: &str,
    command: &RemotingCommand,
    timeout: Duration,
) -> Result<RemotingCommand, TargetError> {
    write_command(stream, address, command)?;
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| io_error(address, e))?;
    let deadline = Instant::now() + timeout;
    let mut reader = FrameReader::default();
    while Instant::now() < deadline {
        match reader.next(stream).map_err(|e| io_error(address, e))? {
            Received::Command(response)
                if response.opaque == command.opaque && response.is_response() =>
            {
                return Ok(response);
            }
            Received::Command(_) | Received::Idle => {}
            Received::Closed => {
                return Err(io_error(
                    address,
                    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"),
                ));
            }
        }
    }
    Err(io_error(
        address,
        std::io::Error::new(std::io::ErrorKind::TimedOut, "no response"),
    ))
}

/// A request with the given ext fields.
#[must_use]
pub fn request(code: i32, opaque: i32, fields: &[(&str, String)]) -> RemotingCommand {
    let mut command = RemotingCommand::request(code, opaque, SERIALIZE);
    let ext: &mut ExtFields = command.ext_mut();
    for (key, value) in fields {
        ext.insert(*key, value.clone());
    }
    command
}

/// Milliseconds since the UNIX epoch.
#[must_use]
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Microseconds since the UNIX epoch (embedded in each body for end-to-end latency).
#[must_use]
pub fn now_unix_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
