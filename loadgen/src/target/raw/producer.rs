//! A pipelined producer connection: the caller's thread encodes and writes
//! `SEND_MESSAGE_V2` / `SEND_BATCH_MESSAGE` requests, a reader thread matches responses by
//! opaque, records their latency and frees window slots.

use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::code::{request, response};
use protocol::command::FLAG_ONEWAY;
use protocol::message::{properties::keys, BatchEntry, Properties, UniqueIdGenerator};
use protocol::RemotingCommand;

use super::wire::{self, FrameReader, Received};
use crate::config::{SendMode, Workload};
use crate::stats::{Outcome, Recorder};
use crate::target::{ProducerConnection, TargetError};

/// What every request of one connection shares.
#[derive(Debug, Clone)]
pub struct SendTemplate {
    pub topic: String,
    pub producer_group: String,
    pub broker_name: Option<String>,
    pub batch_messages: usize,
    pub tag_count: usize,
    pub keys: bool,
    /// Random alphanumeric body; the first 8 bytes are overwritten with the send time (µs).
    pub body: Vec<u8>,
    pub oneway: bool,
    pub send_timeout: Duration,
}

impl SendTemplate {
    #[must_use]
    pub fn new(workload: &Workload, broker_name: Option<String>, seed: u64) -> SendTemplate {
        SendTemplate {
            topic: workload.topic.clone(),
            producer_group: workload.producer_group.clone(),
            broker_name,
            batch_messages: workload.batch_messages,
            tag_count: workload.tag_count,
            keys: workload.keys,
            body: alphanumeric_body(workload.message_bytes, seed),
            oneway: workload.send_mode == SendMode::Oneway,
            send_timeout: Duration::from_millis(workload.send_timeout_ms),
        }
    }
}

/// `size` random alphanumeric bytes (the Java tool's body), from a seeded xorshift.
#[must_use]
pub fn alphanumeric_body(size: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % ALPHABET.len() as u64) as usize]
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    intended: Instant,
    messages: u32,
}

#[derive(Debug, Default)]
struct InFlight {
    pending: HashMap<i32, Pending>,
    broken: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<InFlight>,
    changed: Condvar,
    recorder: Arc<Recorder>,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, InFlight> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One producer connection to one broker.
pub struct RawProducer {
    address: String,
    stream: TcpStream,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    template: SendTemplate,
    queue_ids: Vec<u32>,
    cursor: usize,
    sequence: u64,
    next_opaque: i32,
    unique_ids: UniqueIdGenerator,
    out: BytesMut,
}

impl RawProducer {
    /// Connects to `address` and starts the reader thread.
    ///
    /// # Errors
    /// Connection failures.
    pub fn connect(
        address: &str,
        allow_remote: bool,
        template: SendTemplate,
        queue_ids: Vec<u32>,
        recorder: Arc<Recorder>,
    ) -> Result<RawProducer, TargetError> {
        assert!(!queue_ids.is_empty(), "a producer needs at least one queue");
        let stream = wire::connect(address, allow_remote)?;
        let read_half = stream.try_clone().map_err(|e| wire::io_error(address, e))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(InFlight::default()),
            changed: Condvar::new(),
            recorder,
            stop: AtomicBool::new(false),
        });
        let reader = {
            let shared = Arc::clone(&shared);
            let timeout = template.send_timeout;
            std::thread::Builder::new()
                .name("loadgen-producer-reader".to_owned())
                .spawn(move || read_responses(read_half, &shared, timeout))
                .map_err(|e| wire::io_error(address, e))?
        };
        let local_ip = stream
            .local_addr()
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |socket| socket.ip());
        Ok(RawProducer {
            address: address.to_owned(),
            stream,
            shared,
            reader: Some(reader),
            template,
            queue_ids,
            cursor: 0,
            sequence: 0,
            next_opaque: 1,
            unique_ids: UniqueIdGenerator::new(
                local_ip,
                std::process::id(),
                0x10ad_6e40,
                wire::now_unix_ms(),
            ),
            out: BytesMut::with_capacity(1 << 20),
        })
    }

    fn message_properties(&mut self, now_ms: i64) -> String {
        let mut properties = Properties::new();
        properties.insert(keys::WAIT, "true");
        if self.template.tag_count > 0 {
            properties.insert(
                keys::TAGS,
                &format!("tag{}", self.sequence % self.template.tag_count as u64),
            );
        }
        if self.template.keys {
            properties.insert(
                keys::KEYS,
                &format!("loadgen-{}-{}", std::process::id(), self.sequence),
            );
        }
        properties.insert(keys::UNIQ_KEY, &self.unique_ids.next_id(now_ms));
        let mut text = String::with_capacity(properties.encoded_size());
        properties.encode(&mut text);
        self.sequence += 1;
        text
    }

    fn stamped_body(&self) -> Vec<u8> {
        let mut body = self.template.body.clone();
        body[..8].copy_from_slice(&wire::now_unix_us().to_be_bytes());
        body
    }

    /// Encodes one request (a message or a batch) for `queue_id` into `self.out`.
    fn encode_request(&mut self, opaque: i32, queue_id: u32) -> Result<(), TargetError> {
        let now_ms = wire::now_unix_ms();
        let batch = self.template.batch_messages > 1;
        let (code, properties, body) = if batch {
            let mut body = BytesMut::with_capacity(
                self.template.batch_messages * (self.template.body.len() + 96),
            );
            for _ in 0..self.template.batch_messages {
                let properties = self.message_properties(now_ms);
                let message = self.stamped_body();
                let entry = BatchEntry {
                    magic: 0,
                    body_crc: 0,
                    flag: 0,
                    body: &message,
                    properties: &properties,
                };
                entry
                    .encode(&mut body)
                    .map_err(|e| TargetError::Protocol(e.to_string()))?;
            }
            (
                request::SEND_BATCH_MESSAGE,
                "WAIT\u{1}true\u{2}".to_owned(),
                body.freeze(),
            )
        } else {
            let properties = self.message_properties(now_ms);
            (
                request::SEND_MESSAGE_V2,
                properties,
                self.stamped_body().into(),
            )
        };
        let template = &self.template;
        let mut fields = vec![
            ("a", template.producer_group.clone()),
            ("b", template.topic.clone()),
            ("c", "TBW102".to_owned()),
            ("d", "4".to_owned()),
            ("e", queue_id.to_string()),
            ("f", "0".to_owned()),
            ("g", now_ms.to_string()),
            ("h", "0".to_owned()),
            ("i", properties),
            ("j", "0".to_owned()),
            ("k", "false".to_owned()),
            ("m", batch.to_string()),
        ];
        if let Some(name) = &template.broker_name {
            fields.push(("n", name.clone()));
        }
        let mut command: RemotingCommand = wire::request(code, opaque, &fields).with_body(body);
        if template.oneway {
            command.flag |= FLAG_ONEWAY;
        }
        command
            .encode(&mut self.out)
            .map_err(|e| TargetError::Protocol(format!("encode: {e}")))
    }

    fn next_queue(&mut self) -> u32 {
        let queue_id = self.queue_ids[self.cursor % self.queue_ids.len()];
        self.cursor = self.cursor.wrapping_add(1);
        queue_id
    }
}

impl ProducerConnection for RawProducer {
    fn capacity(&mut self, window: usize, wait: Duration) -> usize {
        if self.template.oneway {
            return window;
        }
        let deadline = Instant::now() + wait;
        let mut state = self.shared.lock();
        loop {
            if state.broken {
                return 0;
            }
            if state.pending.len() < window {
                return window - state.pending.len();
            }
            let now = Instant::now();
            if now >= deadline {
                return 0;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn send(&mut self, intended: &[Instant]) -> Result<(), TargetError> {
        self.out.clear();
        let first_opaque = self.next_opaque;
        for _ in intended {
            let opaque = self.next_opaque;
            self.next_opaque = self.next_opaque.checked_add(1).unwrap_or(1);
            let queue_id = self.next_queue();
            self.encode_request(opaque, queue_id)?;
        }
        let messages = u32::try_from(self.template.batch_messages).unwrap_or(u32::MAX);
        if !self.template.oneway {
            let mut state = self.shared.lock();
            if state.broken {
                return Err(wire::io_error(
                    &self.address,
                    std::io::ErrorKind::BrokenPipe.into(),
                ));
            }
            let mut opaque = first_opaque;
            for when in intended {
                state.pending.insert(
                    opaque,
                    Pending {
                        intended: *when,
                        messages,
                    },
                );
                opaque = opaque.checked_add(1).unwrap_or(1);
            }
        }
        if let Err(error) = self.stream.write_all(&self.out) {
            fail_all(&self.shared);
            return Err(wire::io_error(&self.address, error));
        }
        if self.template.oneway {
            let now = Instant::now();
            for when in intended {
                let latency_us =
                    u64::try_from(now.duration_since(*when).as_micros()).unwrap_or(u64::MAX);
                self.shared
                    .recorder
                    .record_request(Outcome::Ok, u64::from(messages), latency_us);
            }
        }
        Ok(())
    }

    fn close(mut self: Box<Self>, wait: Duration) {
        let deadline = Instant::now() + wait;
        {
            let mut state = self.shared.lock();
            while !state.pending.is_empty() && !state.broken && Instant::now() < deadline {
                state = self
                    .shared
                    .changed
                    .wait_timeout(state, Duration::from_millis(50))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        fail_all(&self.shared);
    }
}

impl Drop for RawProducer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn outcome_of(code: i32) -> Outcome {
    match code {
        response::SUCCESS => Outcome::Ok,
        response::FLUSH_DISK_TIMEOUT
        | response::FLUSH_SLAVE_TIMEOUT
        | response::SLAVE_NOT_AVAILABLE => Outcome::NotDurable,
        _ => Outcome::ResponseFailed,
    }
}

fn read_responses(mut stream: TcpStream, shared: &Shared, timeout: Duration) {
    if stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .is_err()
    {
        fail_all(shared);
        return;
    }
    let mut reader = FrameReader::default();
    loop {
        match reader.next(&mut stream) {
            Ok(Received::Command(response)) if response.is_response() => {
                let pending = shared.lock().pending.remove(&response.opaque);
                if let Some(pending) = pending {
                    let latency_us =
                        u64::try_from(pending.intended.elapsed().as_micros()).unwrap_or(u64::MAX);
                    shared.recorder.record_request(
                        outcome_of(response.code),
                        u64::from(pending.messages),
                        latency_us,
                    );
                    shared.changed.notify_all();
                }
            }
            Ok(Received::Command(_)) => {} // a broker-initiated request; not expected here
            Ok(Received::Idle) => {
                expire(shared, timeout);
                if shared.stop.load(Ordering::Acquire) {
                    return;
                }
            }
            Ok(Received::Closed) | Err(_) => {
                fail_all(shared);
                return;
            }
        }
    }
}

/// Fails requests outstanding longer than `timeout`.
fn expire(shared: &Shared, timeout: Duration) {
    let expired = {
        let mut state = shared.lock();
        let before = state.pending.len();
        state
            .pending
            .retain(|_, pending| pending.intended.elapsed() < timeout);
        before - state.pending.len()
    };
    for _ in 0..expired {
        shared.recorder.record_request(Outcome::SendFailed, 0, 0);
    }
    if expired > 0 {
        shared.changed.notify_all();
    }
}

/// Marks the connection broken and fails everything outstanding.
fn fail_all(shared: &Shared) {
    let failed = {
        let mut state = shared.lock();
        state.broken = true;
        std::mem::take(&mut state.pending).len()
    };
    for _ in 0..failed {
        shared.recorder.record_request(Outcome::SendFailed, 0, 0);
    }
    shared.changed.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_alphanumeric_and_seeded() {
        let body = alphanumeric_body(1024, 7);
        assert_eq!(body.len(), 1024);
        assert!(body.iter().all(u8::is_ascii_alphanumeric));
        assert_eq!(body, alphanumeric_body(1024, 7));
        assert_ne!(body, alphanumeric_body(1024, 8));
    }

    #[test]
    fn response_codes_map_to_outcomes() {
        assert_eq!(outcome_of(response::SUCCESS), Outcome::Ok);
        assert_eq!(
            outcome_of(response::FLUSH_DISK_TIMEOUT),
            Outcome::NotDurable
        );
        assert_eq!(outcome_of(response::SYSTEM_BUSY), Outcome::ResponseFailed);
        assert_eq!(
            outcome_of(response::TOPIC_NOT_EXIST),
            Outcome::ResponseFailed
        );
    }
}
