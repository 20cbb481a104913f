//! Domain message types: what applications send ([`Message`]), what they receive
//! ([`MessageExt`]), and the queue address ([`MessageQueue`]).

use std::net::SocketAddr;

use bytes::Bytes;
use protocol::message::properties::keys;
use protocol::message::record::RecordView;
use protocol::message::{OffsetMessageId, Properties};
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// Topic used as the template when a topic does not exist yet.
pub const AUTO_CREATE_TOPIC_KEY: &str = "TBW102";
/// Prefix of a consumer group's retry topic.
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
/// Prefix of a consumer group's dead-letter topic.
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
/// Highest 4.x delay level (`1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h`).
pub const DELAY_LEVEL_MAX: u32 = 18;

/// The retry topic of `group`.
#[must_use]
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// One queue of a topic on one broker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageQueue {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
}

impl MessageQueue {
    #[must_use]
    pub fn new(topic: impl Into<String>, broker_name: impl Into<String>, queue_id: i32) -> Self {
        MessageQueue {
            topic: topic.into(),
            broker_name: broker_name.into(),
            queue_id,
        }
    }
}

/// The lock and stats bodies carry `protocol`'s `MessageQueue` (same fields).
impl From<&MessageQueue> for protocol::body::message_queue::MessageQueue {
    fn from(queue: &MessageQueue) -> Self {
        protocol::body::message_queue::MessageQueue::new(
            queue.topic.clone(),
            queue.broker_name.clone(),
            queue.queue_id,
        )
    }
}

impl From<protocol::body::message_queue::MessageQueue> for MessageQueue {
    fn from(queue: protocol::body::message_queue::MessageQueue) -> Self {
        MessageQueue::new(queue.topic, queue.broker_name, queue.queue_id)
    }
}

impl std::fmt::Display for MessageQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}#{}", self.topic, self.broker_name, self.queue_id)
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub body: Bytes,
    /// The user flag (opaque to the broker).
    pub flag: i32,
    pub properties: Properties,
}

impl Message {
    /// A message for `topic` with `body`; waits for the store by default (`WAIT=true`).
    #[must_use]
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Message {
        let mut properties = Properties::new();
        properties.insert(keys::WAIT, "true");
        Message {
            topic: topic.into(),
            body: body.into(),
            flag: 0,
            properties,
        }
    }

    /// Sets the tag (`TAGS`).
    #[must_use]
    pub fn with_tags(mut self, tags: &str) -> Message {
        self.properties.insert(keys::TAGS, tags);
        self
    }

    /// Sets the keys (`KEYS`, space-separated).
    #[must_use]
    pub fn with_keys<S: AsRef<str>>(mut self, message_keys: &[S]) -> Message {
        let joined: Vec<&str> = message_keys.iter().map(AsRef::as_ref).collect();
        self.properties.insert(keys::KEYS, &joined.join(" "));
        self
    }

    /// Sets the 4.x delay level (1..=18); 0 clears it.
    #[must_use]
    pub fn with_delay_level(mut self, level: u32) -> Message {
        if level == 0 {
            self.properties.remove(keys::DELAY);
        } else {
            self.properties.insert(keys::DELAY, &level.to_string());
        }
        self
    }

    /// 5.x timer message: deliver at an absolute time (ms since the epoch).
    #[must_use]
    pub fn with_deliver_time_ms(mut self, deliver_at_ms: i64) -> Message {
        self.properties
            .insert(keys::TIMER_DELIVER_MS, &deliver_at_ms.to_string());
        self
    }

    /// 5.x timer message: deliver after `delay_ms`.
    #[must_use]
    pub fn with_delay_ms(mut self, delay_ms: u64) -> Message {
        self.properties
            .insert(keys::TIMER_DELAY_MS, &delay_ms.to_string());
        self
    }

    /// 5.x timer message: deliver after `delay_seconds`.
    #[must_use]
    pub fn with_delay_seconds(mut self, delay_seconds: u64) -> Message {
        self.properties
            .insert(keys::TIMER_DELAY_SEC, &delay_seconds.to_string());
        self
    }

    /// Sets a user property.
    #[must_use]
    pub fn with_property(mut self, key: &str, value: &str) -> Message {
        self.properties.insert(key, value);
        self
    }

    /// `WAIT`: whether the broker answers only after the store (flush) completes.
    #[must_use]
    pub fn with_wait_store_ok(mut self, wait: bool) -> Message {
        self.properties
            .insert(keys::WAIT, if wait { "true" } else { "false" });
        self
    }

    #[must_use]
    pub fn tags(&self) -> Option<&str> {
        self.properties.get(keys::TAGS)
    }

    #[must_use]
    pub fn keys(&self) -> Vec<&str> {
        self.properties.keys().collect()
    }

    #[must_use]
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key)
    }

    /// The client-made message id (`UNIQ_KEY`), once the producer has set it.
    #[must_use]
    pub fn unique_key(&self) -> Option<&str> {
        self.properties.get(keys::UNIQ_KEY)
    }

    #[must_use]
    pub fn delay_level(&self) -> u32 {
        self.properties
            .get(keys::DELAY)
            .and_then(|level| level.parse().ok())
            .unwrap_or(0)
    }
}

/// A received (stored) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    pub topic: String,
    /// The application body (inflated if it was stored compressed).
    pub body: Bytes,
    pub flag: i32,
    pub properties: Properties,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub sys_flag: i32,
    pub born_timestamp_ms: i64,
    pub born_host: SocketAddr,
    pub store_timestamp_ms: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    /// Broker the message was pulled from (empty when unknown).
    pub broker_name: String,
}

impl MessageExt {
    /// Converts a decoded record into an owned message, inflating a compressed body.
    ///
    /// # Errors
    /// [`ClientError::Decode`] for a corrupt compressed body.
    pub fn from_record(view: &RecordView<'_>, broker_name: &str) -> Result<MessageExt> {
        let body = view
            .uncompressed_body()
            .map_err(|error| ClientError::decode("message body", error))?;
        Ok(MessageExt {
            topic: view.topic.to_owned(),
            body: Bytes::copy_from_slice(&body),
            flag: view.flag,
            properties: Properties::parse(view.properties),
            queue_id: view.queue_id,
            queue_offset: view.queue_offset,
            commit_log_offset: view.physical_offset,
            sys_flag: view.sys_flag,
            born_timestamp_ms: view.born_timestamp_ms,
            born_host: view.born_host,
            store_timestamp_ms: view.store_timestamp_ms,
            store_host: view.store_host,
            reconsume_times: view.reconsume_times,
            prepared_transaction_offset: view.prepared_transaction_offset,
            broker_name: broker_name.to_owned(),
        })
    }

    /// Decodes every record of a pull or query body.
    ///
    /// # Errors
    /// The first malformed record.
    pub fn decode_all(body: &[u8], broker_name: &str) -> Result<Vec<MessageExt>> {
        protocol::message::record::decode_records(body)
            .map(|view| {
                let view = view.map_err(|error| ClientError::decode("stored message", error))?;
                MessageExt::from_record(&view, broker_name)
            })
            .collect()
    }

    /// The message id applications see: `UNIQ_KEY` if set, else the offset id.
    #[must_use]
    pub fn msg_id(&self) -> String {
        self.properties
            .get(keys::UNIQ_KEY)
            .map_or_else(|| self.offset_msg_id(), str::to_owned)
    }

    /// The broker-made id: store host + commit-log offset.
    #[must_use]
    pub fn offset_msg_id(&self) -> String {
        OffsetMessageId {
            store_host: self.store_host,
            commit_log_offset: self.commit_log_offset,
        }
        .encode()
    }

    #[must_use]
    pub fn tags(&self) -> Option<&str> {
        self.properties.get(keys::TAGS)
    }

    #[must_use]
    pub fn keys(&self) -> Vec<&str> {
        self.properties.keys().collect()
    }

    #[must_use]
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key)
    }

    /// The queue this message was read from.
    #[must_use]
    pub fn queue(&self) -> MessageQueue {
        MessageQueue::new(self.topic.clone(), self.broker_name.clone(), self.queue_id)
    }
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
