//! A raw-frame client and helpers for the in-process broker tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use broker::{BrokerConfig, BrokerHandle};
use bytes::BytesMut;
use protocol::code::request;
use protocol::frame::{self, FrameCheck};
use protocol::message::record::RecordView;
use protocol::{RemotingCommand, SerializeType};

pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A broker on port 0 with an embedded name server on port 0.
pub fn start(dir: &Path) -> BrokerHandle {
    start_with(BrokerConfig::for_tests(dir))
}

pub fn start_with(config: BrokerConfig) -> BrokerHandle {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    broker::spawn(config).expect("broker starts")
}

/// A blocking client speaking raw frames.
pub struct Client {
    stream: TcpStream,
    next_opaque: i32,
    input: Vec<u8>,
    /// Broker-initiated requests (e.g. NOTIFY_CONSUMER_IDS_CHANGED) seen while waiting.
    pub pushes: Vec<RemotingCommand>,
    pub serialize_type: SerializeType,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Client::try_connect(addr, READ_TIMEOUT).expect("connects")
    }

    /// Connects with `timeout` for the connect and for every read; an error instead of a
    /// panic, for tests whose broker may be gone (the crash test).
    pub fn try_connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            next_opaque: 1,
            input: Vec::new(),
            pushes: Vec::new(),
            serialize_type: SerializeType::Json,
        })
    }

    pub fn request(&self, code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
        let mut command = RemotingCommand::request(code, 0, self.serialize_type);
        for (key, value) in ext {
            command.ext_mut().insert(*key, *value);
        }
        command
    }

    /// Writes a request (assigning its opaque) and returns the opaque.
    pub fn send(&mut self, mut command: RemotingCommand) -> i32 {
        command.opaque = self.next_opaque;
        self.next_opaque += 1;
        let mut out = BytesMut::new();
        command.encode(&mut out).expect("encodes");
        self.stream.write_all(&out).expect("writes");
        command.opaque
    }

    pub fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one frame; `None` at end of stream.
    pub fn read_frame(&mut self) -> Option<RemotingCommand> {
        let mut chunk = [0u8; 65536];
        loop {
            if let FrameCheck::Complete { frame_bytes } =
                frame::check(&self.input, frame::FRAME_BYTES_MAX_DEFAULT).expect("valid frame")
            {
                let (command, _) = RemotingCommand::decode(
                    &self.input[..frame_bytes],
                    frame::FRAME_BYTES_MAX_DEFAULT,
                )
                .expect("decodes");
                self.input.drain(..frame_bytes);
                return Some(command);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(read) => self.input.extend_from_slice(&chunk[..read]),
            }
        }
    }

    /// Reads until the response with `opaque`, keeping pushes aside.
    pub fn response(&mut self, opaque: i32) -> RemotingCommand {
        loop {
            let command = self.read_frame().expect("response before end of stream");
            if !command.is_response() {
                self.pushes.push(command);
            } else if command.opaque == opaque {
                return command;
            }
        }
    }

    pub fn call(&mut self, command: RemotingCommand) -> RemotingCommand {
        self.try_call(command)
            .expect("response before end of stream")
    }

    /// [`Client::call`] that returns an error when the write fails or the stream ends or
    /// times out before the response.
    pub fn try_call(&mut self, mut command: RemotingCommand) -> std::io::Result<RemotingCommand> {
        command.opaque = self.next_opaque;
        self.next_opaque += 1;
        let mut out = BytesMut::new();
        command.encode(&mut out).expect("encodes");
        self.stream.write_all(&out)?;
        loop {
            let Some(frame) = self.read_frame() else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "no response before end of stream or timeout",
                ));
            };
            if !frame.is_response() {
                self.pushes.push(frame);
            } else if frame.opaque == command.opaque {
                return Ok(frame);
            }
        }
    }

    pub fn call_code(&mut self, code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
        let command = self.request(code, ext);
        self.call(command)
    }

    /// Waits for a broker-initiated request with `code`.
    pub fn wait_push(&mut self, code: i32, within: Duration) -> Option<RemotingCommand> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(index) = self.pushes.iter().position(|push| push.code == code) {
                return Some(self.pushes.remove(index));
            }
            let remaining = deadline.checked_duration_since(Instant::now())?;
            self.stream
                .set_read_timeout(Some(remaining.max(Duration::from_millis(1))))
                .ok()?;
            let frame = self.read_frame();
            self.stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
            match frame {
                Some(command) if !command.is_response() => self.pushes.push(command),
                Some(_) => {}
                None => return None,
            }
        }
    }

    /// SEND_MESSAGE_V2 with short keys.
    pub fn send_message(
        &mut self,
        topic: &str,
        queue_id: i32,
        body: &[u8],
        properties: &str,
    ) -> RemotingCommand {
        let command = self.send_request(topic, queue_id, body, properties);
        self.call(command)
    }

    pub fn send_request(
        &self,
        topic: &str,
        queue_id: i32,
        body: &[u8],
        properties: &str,
    ) -> RemotingCommand {
        let queue = queue_id.to_string();
        self.request(
            request::SEND_MESSAGE_V2,
            &[
                ("a", "test_producer"),
                ("b", topic),
                ("c", "TBW102"),
                ("d", "4"),
                ("e", &queue),
                ("f", "0"),
                ("g", "1700000000000"),
                ("h", "0"),
                ("i", properties),
            ],
        )
        .with_body(body.to_vec())
    }

    /// PULL_MESSAGE.
    #[allow(clippy::too_many_arguments)]
    pub fn pull(
        &mut self,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        sys_flag: i32,
        suspend_ms: i64,
        subscription: Option<&str>,
    ) -> RemotingCommand {
        let command = self.pull_request(
            group,
            topic,
            queue_id,
            offset,
            sys_flag,
            suspend_ms,
            subscription,
        );
        self.call(command)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn pull_request(
        &self,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        sys_flag: i32,
        suspend_ms: i64,
        subscription: Option<&str>,
    ) -> RemotingCommand {
        let (queue, offset, flag, suspend) = (
            queue_id.to_string(),
            offset.to_string(),
            sys_flag.to_string(),
            suspend_ms.to_string(),
        );
        let mut ext = vec![
            ("consumerGroup", group),
            ("topic", topic),
            ("queueId", queue.as_str()),
            ("queueOffset", offset.as_str()),
            ("maxMsgNums", "32"),
            ("sysFlag", flag.as_str()),
            ("commitOffset", "0"),
            ("suspendTimeoutMillis", suspend.as_str()),
            ("subVersion", "0"),
        ];
        if let Some(subscription) = subscription {
            ext.push(("subscription", subscription));
            ext.push(("expressionType", "TAG"));
        }
        self.request(request::PULL_MESSAGE, &ext)
    }

    /// HEART_BEAT for one consumer group subscribed to `topic` with `expression`.
    pub fn heartbeat_consumer(
        &mut self,
        client_id: &str,
        group: &str,
        topic: &str,
        expression: &str,
    ) -> RemotingCommand {
        let body = format!(
            r#"{{"clientID":"{client_id}","consumerDataSet":[{{"groupName":"{group}","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{{"topic":"{topic}","subString":"{expression}","subVersion":1,"expressionType":"TAG"}}],"unitMode":false}}],"producerDataSet":[]}}"#
        );
        let command = self
            .request(request::HEART_BEAT, &[])
            .with_body(body.into_bytes());
        self.call(command)
    }
}

/// One decoded record of a pull or view body.
#[derive(Debug)]
pub struct Record {
    pub topic: String,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub physical_offset: i64,
    pub reconsume_times: i32,
    pub body: Vec<u8>,
    pub properties: String,
}

impl Record {
    pub fn property(&self, key: &str) -> Option<&str> {
        protocol::message::properties::find(&self.properties, key)
    }
}

pub fn records(body: &[u8]) -> Vec<Record> {
    protocol::message::record::decode_records(body)
        .map(|record| {
            let view: RecordView<'_> = record.expect("valid record");
            Record {
                topic: view.topic.to_owned(),
                queue_id: view.queue_id,
                queue_offset: view.queue_offset,
                physical_offset: view.physical_offset,
                reconsume_times: view.reconsume_times,
                body: view.body.to_vec(),
                properties: view.properties.to_owned(),
            }
        })
        .collect()
}

pub fn ext_i64(command: &RemotingCommand, key: &str) -> i64 {
    command
        .ext(key)
        .unwrap_or_else(|| panic!("ext `{key}` in {command:?}"))
        .parse()
        .expect("number")
}

/// `k\u{1}v\u{2}` properties.
pub fn props(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}\u{1}{v}\u{2}"))
        .collect()
}

/// Retries `check` every 50 ms until it returns true or `within` passes.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// A temporary store directory on the build disk: the store uses O_DIRECT, which tmpfs
/// (`/tmp` here) refuses.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir")
}
