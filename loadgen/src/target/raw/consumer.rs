//! A pull consumer connection: one long-polling `PULL_MESSAGE` outstanding per queue,
//! starting at each queue's current end, recording send → consume latency from the
//! timestamp loadgen's producers embed in the first 8 body bytes.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use protocol::code::{request, response};
use protocol::message::record::decode_records;

use super::wire::{self, FrameReader, Received};
use crate::stats::Recorder;
use crate::target::{ConsumerConnection, TargetError};

/// `PullSysFlag`: FLAG_SUSPEND | FLAG_SUBSCRIPTION (subscribe `*` inline, no heartbeat needed).
const PULL_SYS_FLAG: i32 = 0b0110;
const PULL_BATCH_MESSAGES: u32 = 32;
const SUSPEND_MS: u64 = 1000;
/// An embedded timestamp further than this from now is not ours: fall back to born time.
const EMBEDDED_TIMESTAMP_SKEW_US: u64 = 3_600_000_000;

/// One consumer connection.
pub struct RawConsumer {
    address: String,
    stream: TcpStream,
    topic: String,
    group: String,
    queue_ids: Vec<u32>,
    recorder: Arc<Recorder>,
    next_opaque: i32,
}

impl RawConsumer {
    /// Connects to the broker holding `queue_ids`.
    ///
    /// # Errors
    /// Connection failures.
    pub fn connect(
        address: &str,
        allow_remote: bool,
        topic: &str,
        group: &str,
        queue_ids: Vec<u32>,
        recorder: Arc<Recorder>,
    ) -> Result<RawConsumer, TargetError> {
        Ok(RawConsumer {
            address: address.to_owned(),
            stream: wire::connect(address, allow_remote)?,
            topic: topic.to_owned(),
            group: group.to_owned(),
            queue_ids,
            recorder,
            next_opaque: 1,
        })
    }

    fn opaque(&mut self) -> i32 {
        let opaque = self.next_opaque;
        self.next_opaque = self.next_opaque.checked_add(1).unwrap_or(1);
        opaque
    }

    /// The current end of every queue, requests pipelined (1024 queues = one round trip).
    fn max_offsets(&mut self) -> Result<Vec<(u32, i64)>, TargetError> {
        let mut pending: HashMap<i32, u32> = HashMap::new();
        let mut requests = bytes::BytesMut::new();
        for queue_id in self.queue_ids.clone() {
            let opaque = self.opaque();
            let fields = [
                ("topic", self.topic.clone()),
                ("queueId", queue_id.to_string()),
            ];
            wire::request(request::GET_MAX_OFFSET, opaque, &fields)
                .encode(&mut requests)
                .map_err(|e| TargetError::Protocol(format!("encode: {e}")))?;
            pending.insert(opaque, queue_id);
        }
        std::io::Write::write_all(&mut self.stream, &requests)
            .map_err(|e| wire::io_error(&self.address, e))?;
        self.stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| wire::io_error(&self.address, e))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut reader = FrameReader::default();
        let mut offsets = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            if std::time::Instant::now() >= deadline {
                return Err(wire::io_error(
                    &self.address,
                    std::io::ErrorKind::TimedOut.into(),
                ));
            }
            let reply = match reader
                .next(&mut self.stream)
                .map_err(|e| wire::io_error(&self.address, e))?
            {
                Received::Command(reply) => reply,
                Received::Idle => continue,
                Received::Closed => {
                    return Err(wire::io_error(
                        &self.address,
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ))
                }
            };
            let Some(queue_id) = pending.remove(&reply.opaque) else {
                continue;
            };
            if reply.code != response::SUCCESS {
                return Err(TargetError::Refused {
                    request: "GET_MAX_OFFSET",
                    code: reply.code,
                    remark: reply.remark.unwrap_or_default(),
                });
            }
            offsets.push((
                queue_id,
                reply
                    .ext("offset")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            ));
        }
        Ok(offsets)
    }

    fn pull(&mut self, queue_id: u32, offset: i64) -> Result<i32, TargetError> {
        let opaque = self.opaque();
        let fields = [
            ("consumerGroup", self.group.clone()),
            ("topic", self.topic.clone()),
            ("queueId", queue_id.to_string()),
            ("queueOffset", offset.to_string()),
            ("maxMsgNums", PULL_BATCH_MESSAGES.to_string()),
            ("sysFlag", PULL_SYS_FLAG.to_string()),
            ("commitOffset", "0".to_owned()),
            ("suspendTimeoutMillis", SUSPEND_MS.to_string()),
            ("subscription", "*".to_owned()),
            ("subVersion", wire::now_unix_ms().to_string()),
            ("expressionType", "TAG".to_owned()),
        ];
        let command = wire::request(request::PULL_MESSAGE, opaque, &fields);
        wire::write_command(&mut self.stream, &self.address, &command)?;
        Ok(opaque)
    }
}

/// Send → consume latencies (µs) of the records in a pull body.
#[must_use]
pub fn end_to_end_latencies(body: &[u8], now_us: u64) -> Vec<u64> {
    decode_records(body)
        .map_while(Result::ok)
        .map(|record| end_to_end_us(record.body, record.born_timestamp_ms, now_us))
        .collect()
}

/// Send → consume latency (µs) of one message: from the send time loadgen embeds in the
/// first 8 body bytes, or from the born timestamp when the body is not loadgen's.
#[must_use]
pub fn end_to_end_us(body: &[u8], born_timestamp_ms: i64, now_us: u64) -> u64 {
    let embedded = body
        .get(..8)
        .map(|bytes| u64::from_be_bytes(bytes.try_into().unwrap_or([0; 8])))
        .filter(|sent_us| now_us.abs_diff(*sent_us) < EMBEDDED_TIMESTAMP_SKEW_US);
    let born_us = u64::try_from(born_timestamp_ms)
        .unwrap_or(0)
        .saturating_mul(1000);
    now_us.saturating_sub(embedded.unwrap_or(born_us))
}

impl ConsumerConnection for RawConsumer {
    fn run(
        mut self: Box<Self>,
        stop: Arc<AtomicBool>,
        ready: Arc<AtomicUsize>,
    ) -> Result<(), TargetError> {
        let mut in_flight: HashMap<i32, (u32, i64)> = HashMap::new();
        for (queue_id, offset) in self.max_offsets()? {
            in_flight.insert(self.pull(queue_id, offset)?, (queue_id, offset));
        }
        ready.fetch_add(1, Ordering::AcqRel);
        let mut reader = FrameReader::default();
        while !stop.load(Ordering::Acquire) {
            let reply = match reader
                .next(&mut self.stream)
                .map_err(|e| wire::io_error(&self.address, e))?
            {
                Received::Command(reply) => reply,
                Received::Idle => continue,
                Received::Closed => {
                    return Err(wire::io_error(
                        &self.address,
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ));
                }
            };
            let Some((queue_id, offset)) = in_flight.remove(&reply.opaque) else {
                continue;
            };
            let next_offset: i64 = reply
                .ext("nextBeginOffset")
                .and_then(|v| v.parse().ok())
                .unwrap_or(offset);
            match reply.code {
                response::SUCCESS => {
                    self.recorder
                        .record_consumed(&end_to_end_latencies(&reply.body, wire::now_unix_us()));
                }
                response::PULL_NOT_FOUND
                | response::PULL_RETRY_IMMEDIATELY
                | response::PULL_OFFSET_MOVED => {}
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
            in_flight.insert(self.pull(queue_id, next_offset)?, (queue_id, next_offset));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_from_the_embedded_timestamp_or_the_born_time() {
        use protocol::message::RecordFields;
        let now_us: u64 = 1_700_000_000_000_000;
        let mut ours = alphanumeric(64);
        ours[..8].copy_from_slice(&(now_us - 1500).to_be_bytes());
        let foreign = alphanumeric(64);
        let mut body = bytes::BytesMut::new();
        for message in [&ours, &foreign] {
            let record = RecordFields {
                queue_id: 0,
                flag: 0,
                queue_offset: 0,
                physical_offset: 0,
                sys_flag: 0,
                born_timestamp_ms: i64::try_from(now_us / 1000 - 7).unwrap_or(0),
                born_host: "127.0.0.1:1".parse().unwrap(),
                store_timestamp_ms: 0,
                store_host: "127.0.0.1:2".parse().unwrap(),
                reconsume_times: 0,
                prepared_transaction_offset: 0,
                body: message,
                topic: "BenchmarkTest",
                properties: "",
            };
            record.encode(&mut body).unwrap();
        }
        assert_eq!(end_to_end_latencies(&body, now_us), [1500, 7000]);
    }

    fn alphanumeric(size: usize) -> Vec<u8> {
        vec![b'a'; size]
    }

    #[test]
    fn garbage_bodies_yield_no_latencies() {
        assert!(end_to_end_latencies(b"", 1).is_empty());
        assert!(end_to_end_latencies(&[0xFF; 64], 1).is_empty());
    }
}
