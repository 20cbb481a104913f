//! A raw-frame client for the in-process tests: blocking std sockets, frames encoded with
//! `protocol`, nothing else.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::body::route::{body_crc32, JsonBody, RegisterBrokerBody, TopicConfig};
use protocol::code::request as req;
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, SerializeType};

pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Client {
    stream: TcpStream,
    opaque: i32,
    buffer: Vec<u8>,
}

impl Client {
    pub fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            opaque: 0,
            buffer: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Assigns an opaque, sends, returns the opaque.
    pub fn send(&mut self, command: &mut RemotingCommand) -> i32 {
        self.opaque += 1;
        command.opaque = self.opaque;
        let mut out = BytesMut::new();
        command.encode(&mut out).unwrap();
        self.send_raw(&out);
        self.opaque
    }

    pub fn call(&mut self, mut command: RemotingCommand) -> RemotingCommand {
        let opaque = self.send(&mut command);
        let response = self.read_response().expect("a response");
        assert_eq!(response.opaque, opaque);
        assert!(response.is_response());
        assert_eq!(response.serialize_type, command.serialize_type);
        response
    }

    /// The next frame, or `None` if the server closed the connection.
    pub fn read_response(&mut self) -> Option<RemotingCommand> {
        loop {
            if let FrameCheck::Complete { frame_bytes } =
                frame::check(&self.buffer, usize::MAX >> 1).unwrap()
            {
                let (command, consumed) =
                    RemotingCommand::decode(&self.buffer[..frame_bytes], usize::MAX >> 1).unwrap();
                self.buffer.drain(..consumed);
                return Some(command);
            }
            let mut chunk = vec![0; 256 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(error) => panic!("read failed: {error}"),
            }
        }
    }

    /// Whether the server closed the connection (EOF or reset within the read timeout).
    pub fn is_closed_by_server(&mut self) -> bool {
        self.read_response().is_none()
    }
}

pub fn request(
    code: i32,
    fields: &[(&str, &str)],
    serialize_type: SerializeType,
) -> RemotingCommand {
    let mut command = RemotingCommand::request(code, 0, serialize_type);
    for (key, value) in fields {
        command.ext_mut().insert(*key, *value);
    }
    command
}

pub fn route_request(topic: &str, serialize_type: SerializeType) -> RemotingCommand {
    request(
        req::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", topic)],
        serialize_type,
    )
}

pub struct Broker<'a> {
    pub cluster: &'a str,
    pub name: &'a str,
    pub id: i64,
    pub address: &'a str,
    pub heartbeat_timeout_ms: Option<u64>,
    pub compressed: bool,
}

pub fn topic_body<S: AsRef<str>>(topics: &[S]) -> RegisterBrokerBody {
    let mut body = RegisterBrokerBody::default();
    let wrapper = &mut body.topic_config_serialize_wrapper;
    wrapper.data_version.counter = 1;
    wrapper.data_version.timestamp = 1_700_000_000_000;
    for topic in topics {
        let topic = topic.as_ref();
        wrapper
            .topic_config_table
            .insert(topic.to_owned(), TopicConfig::new(topic, 8, 6));
    }
    body
}

pub fn register_request(broker: &Broker<'_>, body: &RegisterBrokerBody) -> RemotingCommand {
    let bytes = if broker.compressed {
        let mut out = BytesMut::new();
        body.encode_compressed(&mut out).unwrap();
        out.freeze()
    } else {
        body.to_bytes().unwrap()
    };
    let id = broker.id.to_string();
    let crc = body_crc32(&bytes).to_string();
    let ha = format!("{}-ha", broker.address);
    let mut command = request(
        req::REGISTER_BROKER,
        &[
            ("brokerName", broker.name),
            ("brokerAddr", broker.address),
            ("clusterName", broker.cluster),
            ("haServerAddr", &ha),
            ("brokerId", &id),
            ("bodyCrc32", &crc),
            (
                "compressed",
                if broker.compressed { "true" } else { "false" },
            ),
        ],
        SerializeType::Json,
    );
    if let Some(timeout) = broker.heartbeat_timeout_ms {
        command
            .ext_mut()
            .insert("heartbeatTimeoutMillis", timeout.to_string());
    }
    command.with_body(bytes)
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}
