//! The send path of [`super::Producer`]: publish queues, queue choice with fault avoidance,
//! the retry loop, request building, compression, batches and response parsing.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use protocol::code::{request, response};
use protocol::command::ExtFields;
use protocol::message::properties::{keys, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};
use protocol::message::sys_flag;
use protocol::message::BatchEntry;
use protocol::RemotingCommand;

use super::{
    validate_topic, Mode, ProducerShared, PublishInfo, SendResult, SendStatus, RETRYABLE_CODES,
};
use crate::error::{ClientError, Result};
use crate::message::{
    now_ms, Message, MessageQueue, AUTO_CREATE_TOPIC_KEY, RETRY_GROUP_TOPIC_PREFIX,
};
use crate::wire::ext_number;

impl ProducerShared {
    pub(super) fn validate(&self, message: &Message) -> Result<()> {
        validate_topic(&message.topic)?;
        if message.body.is_empty() {
            return Err(ClientError::InvalidArgument("message body is empty".into()));
        }
        if message.body.len() > self.options.max_message_bytes {
            return Err(ClientError::InvalidArgument(format!(
                "message body of {} bytes exceeds the maximum of {} bytes",
                message.body.len(),
                self.options.max_message_bytes
            )));
        }
        Ok(())
    }

    pub(crate) async fn publish_info(&self, topic: &str) -> Result<Arc<PublishInfo>> {
        let cached = self
            .publish
            .read()
            .ok()
            .and_then(|map| map.get(topic).cloned())
            .filter(|info| !info.queues.is_empty());
        let route_now = self.instance.cached_route(topic);
        if let (Some(info), Some(_)) = (&cached, &route_now) {
            if !info.via_default_topic {
                return Ok(info.clone());
            }
        }
        let info = match self.instance.update_route(topic).await {
            Ok(route) => PublishInfo::from_route(topic, &route, None),
            Err(ClientError::TopicNotExist { .. }) => {
                if let Some(info) = cached {
                    return Ok(info);
                }
                let route = self.instance.fetch_route(AUTO_CREATE_TOPIC_KEY).await?;
                self.instance
                    .store_route(AUTO_CREATE_TOPIC_KEY, Arc::new(route.clone()));
                self.instance.watch_topic(topic);
                PublishInfo::from_route(topic, &route, Some(self.options.default_topic_queue_nums))
            }
            Err(error) => return Err(error),
        };
        let info = Arc::new(info);
        if let Ok(mut map) = self.publish.write() {
            map.insert(topic.to_owned(), info.clone());
        }
        Ok(info)
    }

    pub(super) fn choose_queue(
        &self,
        info: &PublishInfo,
        last_broker: Option<&str>,
    ) -> Result<MessageQueue> {
        let queues = &info.queues;
        if queues.is_empty() {
            return Err(ClientError::NoQueue {
                topic: String::new(),
                what: "writable",
            });
        }
        let start = info.cursor.fetch_add(1, Ordering::Relaxed);
        let pick = |accept: &dyn Fn(&MessageQueue) -> bool| {
            (0..queues.len())
                .map(|step| &queues[(start + step) % queues.len()])
                .find(|mq| accept(mq))
                .cloned()
        };
        let not_last = |mq: &MessageQueue| last_broker != Some(mq.broker_name.as_str());
        let chosen = if self.options.send_latency_fault_enable {
            pick(&|mq| not_last(mq) && self.faults.is_available(&mq.broker_name))
                .or_else(|| pick(&|mq| self.faults.is_available(&mq.broker_name)))
                .or_else(|| {
                    let least = self
                        .faults
                        .least_avoided(queues.iter().map(|mq| mq.broker_name.as_str()))?;
                    pick(&|mq| mq.broker_name == least)
                })
        } else {
            None
        };
        Ok(chosen
            .or_else(|| pick(&not_last))
            .unwrap_or_else(|| queues[start % queues.len()].clone()))
    }

    pub(crate) async fn send_with_retries(
        &self,
        message: Message,
        attempts: u32,
    ) -> Result<SendResult> {
        let mut message = message;
        let is_batch = message.property(BATCH_MARKER).is_some();
        if !is_batch {
            self.validate(&message)?;
            // One id for every attempt, as Java's `setUniqID` on the message: a retry after a
            // timeout may store the message twice, and consumers de-duplicate by this id.
            if message.unique_key().is_none() {
                let id = self.instance.next_unique_id();
                message.properties.insert(keys::UNIQ_KEY, &id);
            }
        }
        let started = Instant::now();
        let budget = self.options.send_timeout;
        let mut last_broker: Option<String> = None;
        let mut last_error = None;
        let mut made = 0;
        for _ in 0..attempts {
            let remaining = budget.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                break;
            }
            let info = match self.publish_info(&message.topic).await {
                Ok(info) => info,
                Err(error) => {
                    last_error = Some(error);
                    break;
                }
            };
            let queue = self.choose_queue(&info, last_broker.as_deref())?;
            made += 1;
            let attempt_start = Instant::now();
            let outcome = self
                .send_to(
                    &message,
                    &queue,
                    info.via_default_topic,
                    Mode::Sync,
                    remaining,
                )
                .await;
            let latency = crate::remoting::connection::millis(attempt_start.elapsed());
            match outcome {
                Ok(Some(result)) => {
                    self.faults.update(&queue.broker_name, latency, false);
                    if result.status != SendStatus::SendOk
                        && self.options.retry_another_broker_when_not_store_ok
                    {
                        last_broker = Some(queue.broker_name.clone());
                        last_error = None;
                        continue;
                    }
                    return Ok(result);
                }
                Ok(None) => return Err(ClientError::State("oneway")),
                Err(error) => {
                    let retry = error.is_transport()
                        || error
                            .response_code()
                            .is_some_and(|code| RETRYABLE_CODES.contains(&code))
                        || matches!(error, ClientError::BrokerNotFound { .. });
                    // As Java: any failed attempt isolates the broker for a while.
                    self.faults.update(&queue.broker_name, latency, true);
                    tracing::debug!(target: "client::producer", topic = %message.topic, queue_id = queue.queue_id, %error, "send attempt failed");
                    last_broker = Some(queue.broker_name.clone());
                    last_error = Some(error);
                    if !retry {
                        break;
                    }
                }
            }
        }
        let last = last_error.unwrap_or(ClientError::Timeout {
            addr: String::new(),
            code: request::SEND_MESSAGE_V2,
            timeout_ms: crate::remoting::connection::millis(budget),
        });
        Err(ClientError::SendFailed {
            attempts: made,
            last: Box::new(last),
        })
    }

    /// One attempt to `queue`. `Ok(None)` for oneway.
    ///
    /// `message` is not changed: the batch markers are left out of the wire properties and a
    /// missing `UNIQ_KEY` is appended to them (single-attempt sends; `send_with_retries` sets
    /// the id once, before its first attempt), so retries need no copy of the message.
    pub(crate) async fn send_to(
        &self,
        message: &Message,
        queue: &MessageQueue,
        via_default_topic: bool,
        mode: Mode,
        timeout: Duration,
    ) -> Result<Option<SendResult>> {
        let addr = self
            .instance
            .master_addr_or_refresh(
                &queue.broker_name,
                if via_default_topic {
                    AUTO_CREATE_TOPIC_KEY
                } else {
                    &queue.topic
                },
            )
            .await?;
        let is_batch = message.property(BATCH_MARKER).is_some();
        let mut sys_flag = 0;
        let mut body = message.body.clone();
        let mut added_unique_key = None;
        let msg_id = if is_batch {
            message
                .property(BATCH_IDS_MARKER)
                .unwrap_or_default()
                .to_owned()
        } else {
            let id = match message.unique_key() {
                Some(id) => id.to_owned(),
                None => {
                    let id = self.instance.next_unique_id();
                    added_unique_key = Some(id.clone());
                    id
                }
            };
            if let Some(compressed) = self.compress(&body)? {
                body = compressed;
                sys_flag |= sys_flag::COMPRESSED | sys_flag::COMPRESSION_ZLIB;
            }
            id
        };
        if message.property(keys::TRAN_MSG) == Some("true") {
            sys_flag |= sys_flag::TRANSACTION_PREPARED;
        }
        let properties = wire_properties(message, is_batch, added_unique_key.as_deref());
        let request = self.send_request(
            message,
            &SendTarget {
                queue,
                sys_flag,
                is_batch,
            },
            &properties,
            body,
        );
        match mode {
            Mode::Oneway => {
                self.instance.remoting().oneway(&addr, request).await?;
                Ok(None)
            }
            Mode::Sync => {
                let response = self
                    .instance
                    .remoting()
                    .invoke(&addr, request, timeout)
                    .await?;
                parse_send_response(addr, response, queue, msg_id).map(Some)
            }
        }
    }

    /// The `SEND_MESSAGE_V2` / `SEND_BATCH_MESSAGE` request, its short-key header written
    /// straight into the ext map (numbers formatted through one scratch string).
    fn send_request(
        &self,
        message: &Message,
        target: &SendTarget<'_>,
        properties: &str,
        body: Bytes,
    ) -> RemotingCommand {
        let SendTarget {
            queue,
            sys_flag,
            is_batch,
        } = *target;
        let is_retry = message.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX);
        let code = if is_batch {
            request::SEND_BATCH_MESSAGE
        } else {
            request::SEND_MESSAGE_V2
        };
        let mut request = self.instance.new_request(code).with_body(body);
        // TODO(protocol): use protocol::header::send::SendMessageRequestHeaderV2 once exported.
        let fields = request.ext_mut();
        // Sized once: growing from empty costs a handful of reallocations per send.
        *fields = ExtFields::with_capacity(SEND_HEADER_FIELDS_MAX);
        let mut number = String::new();
        let mut put = |key: &str, value: &dyn std::fmt::Display| {
            number.clear();
            // Writing to a String cannot fail.
            let _ = write!(number, "{value}");
            fields.insert(key, number.as_str());
        };
        put("a", &self.options.group);
        put("b", &message.topic);
        put("c", &AUTO_CREATE_TOPIC_KEY);
        put("d", &self.options.default_topic_queue_nums);
        put("e", &queue.queue_id);
        put("f", &sys_flag);
        put("g", &now_ms());
        put("h", &message.flag);
        put("i", &properties);
        let reconsume_times = if is_retry {
            message.property(keys::RECONSUME_TIME).unwrap_or("0")
        } else {
            "0"
        };
        put("j", &reconsume_times);
        put("k", &false);
        if is_retry {
            if let Some(max) = message.property(keys::MAX_RECONSUME_TIMES) {
                put("l", &max);
            }
        }
        put("m", &is_batch);
        put("n", &queue.broker_name);
        request
    }

    fn compress(&self, body: &[u8]) -> Result<Option<Bytes>> {
        if body.len() <= self.options.compress_body_over_bytes {
            return Ok(None);
        }
        let mut encoder = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(body.len() / 2),
            flate2::Compression::new(self.options.compress_level),
        );
        let compressed = encoder
            .write_all(body)
            .and_then(|()| encoder.finish())
            .map_err(|source| ClientError::Io {
                addr: "zlib".into(),
                source,
            })?;
        Ok(Some(Bytes::from(compressed)))
    }

    pub(super) fn build_batch(&self, messages: Vec<Message>) -> Result<Message> {
        let Some(first) = messages.first() else {
            return Err(ClientError::InvalidArgument("batch is empty".into()));
        };
        let topic = first.topic.clone();
        let wait = first.property(keys::WAIT).map(str::to_owned);
        let mut body = BytesMut::new();
        let mut ids = Vec::with_capacity(messages.len());
        for mut message in messages {
            self.validate(&message)?;
            if message.topic != topic {
                return Err(ClientError::InvalidArgument(
                    "a batch must have one topic".into(),
                ));
            }
            if message.delay_level() > 0 {
                return Err(ClientError::InvalidArgument(
                    "a batch cannot have delay levels".into(),
                ));
            }
            if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
                return Err(ClientError::InvalidArgument(
                    "a batch cannot go to a retry topic".into(),
                ));
            }
            if message.property(keys::WAIT).map(str::to_owned) != wait {
                return Err(ClientError::InvalidArgument(
                    "a batch must have one WAIT value".into(),
                ));
            }
            let id = match message.unique_key() {
                Some(id) => id.to_owned(),
                None => {
                    let id = self.instance.next_unique_id();
                    message.properties.insert(keys::UNIQ_KEY, &id);
                    id
                }
            };
            ids.push(id);
            let properties = message.properties.to_wire_string();
            BatchEntry {
                magic: 0,
                body_crc: 0,
                flag: message.flag,
                body: &message.body,
                properties: &properties,
            }
            .encode(&mut body)
            .map_err(|error| ClientError::InvalidArgument(error.to_string()))?;
        }
        if body.len() > self.options.max_message_bytes {
            return Err(ClientError::InvalidArgument(format!(
                "batch of {} bytes exceeds the maximum of {} bytes",
                body.len(),
                self.options.max_message_bytes
            )));
        }
        let mut batch = Message::new(topic, body.freeze());
        if let Some(wait) = wait {
            batch.properties.insert(keys::WAIT, &wait);
        }
        batch.properties.insert(BATCH_MARKER, "true");
        batch.properties.insert(BATCH_IDS_MARKER, &ids.join(","));
        Ok(batch)
    }
}

/// Internal markers on the wrapper message of a batch (removed before sending).
const BATCH_MARKER: &str = "\u{0}batch";
const BATCH_IDS_MARKER: &str = "\u{0}batch_ids";

fn parse_send_response(
    addr: String,
    response: RemotingCommand,
    queue: &MessageQueue,
    msg_id: String,
) -> Result<SendResult> {
    let status = match response.code {
        response::SUCCESS => SendStatus::SendOk,
        response::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
        response::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
        response::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
        code => {
            return Err(ClientError::Response {
                addr,
                code,
                remark: response.remark.unwrap_or_default(),
            })
        }
    };
    let queue_id: i32 = ext_number(&response, "queueId")?;
    Ok(SendResult {
        status,
        msg_id,
        offset_msg_id: response.ext("msgId").unwrap_or_default().to_owned(),
        queue: MessageQueue::new(queue.topic.clone(), queue.broker_name.clone(), queue_id),
        queue_offset: ext_number(&response, "queueOffset")?,
        transaction_id: response.ext("transactionId").map(str::to_owned),
        region_id: response.ext(keys::MSG_REGION).map(str::to_owned),
        broker_addr: addr,
    })
}

/// Ext fields of a send request header (`a` to `n`).
const SEND_HEADER_FIELDS_MAX: usize = 14;

/// Where one attempt goes and how its body is flagged.
#[derive(Clone, Copy)]
struct SendTarget<'a> {
    queue: &'a MessageQueue,
    sys_flag: i32,
    is_batch: bool,
}

/// The properties string of one attempt: the message's pairs in order without the batch
/// markers, then `UNIQ_KEY` if the producer made the id for this attempt (where
/// [`protocol::message::Properties::insert`] would have appended it).
fn wire_properties(message: &Message, is_batch: bool, added_unique_key: Option<&str>) -> String {
    let skip = |name: &str| name == BATCH_MARKER || (is_batch && name == BATCH_IDS_MARKER);
    let added = added_unique_key.map_or(0, |id| keys::UNIQ_KEY.len() + id.len() + 2);
    let mut out = String::with_capacity(message.properties.encoded_size() + added);
    let pairs = message
        .properties
        .iter()
        .filter(|(name, _)| !skip(name))
        .chain(added_unique_key.map(|id| (keys::UNIQ_KEY, id)));
    for (name, value) in pairs {
        out.push_str(name);
        out.push(NAME_VALUE_SEPARATOR);
        out.push_str(value);
        out.push(PROPERTY_SEPARATOR);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `send_to` put on the wire when each attempt mutated its own copy.
    fn mutated_copy(message: &Message, id: &str) -> String {
        let mut copy = message.clone();
        let is_batch = copy.properties.remove(BATCH_MARKER).is_some();
        if is_batch {
            copy.properties.remove(BATCH_IDS_MARKER);
        } else if copy.unique_key().is_none() {
            copy.properties.insert(keys::UNIQ_KEY, id);
        }
        copy.properties.to_wire_string()
    }

    #[test]
    fn wire_properties_match_a_mutated_copy() {
        let id = "7F0000010000000000000000000000AB";
        let plain = Message::new("T", "x")
            .with_tags("t")
            .with_keys(&["k1", "k2"]);
        assert_eq!(
            wire_properties(&plain, false, Some(id)),
            mutated_copy(&plain, id)
        );
        let with_id = plain.clone().with_property(keys::UNIQ_KEY, "mine");
        assert_eq!(
            wire_properties(&with_id, false, None),
            mutated_copy(&with_id, id)
        );
        let mut batch = Message::new("T", "x");
        batch.properties.insert(BATCH_MARKER, "true");
        batch.properties.insert(BATCH_IDS_MARKER, "a,b");
        let wire = wire_properties(&batch, true, None);
        assert_eq!(wire, mutated_copy(&batch, id));
        assert!(!wire.contains('\0'), "{wire:?}");
        let empty = Message {
            properties: protocol::message::Properties::new(),
            ..Message::new("T", "x")
        };
        assert_eq!(
            wire_properties(&empty, false, Some(id)),
            mutated_copy(&empty, id)
        );
    }
}
