//! [`Producer`]: sync, async, oneway and batch sends, queue selectors, retries on the
//! retryable response codes (avoiding the broker that just failed), latency fault avoidance
//! and body compression; [`transaction`] adds half messages and check-backs.
//!
//! Send path: route cache → publish queues (TOPIC_NOT_EXIST → `TBW102`'s route with
//! `defaultTopic=TBW102`, so the broker auto-creates) → queue choice → `SEND_MESSAGE_V2`
//! (short keys) or `SEND_BATCH_MESSAGE` → response → [`SendResult`].

pub mod fault;
pub mod selector;
mod send;
pub mod transaction;

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use protocol::body::route::{perm, TopicRouteData, MASTER_ID};
use protocol::code::response;

use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::message::{Message, MessageQueue};

pub use fault::LatencyFaultTolerance;
pub use selector::{MessageQueueSelector, SelectByHash, SelectByMachineRoom, SelectByRandom};

/// Response codes after which a sync send is retried (`DefaultMQProducer.retryResponseCodes`).
pub const RETRYABLE_CODES: [i32; 8] = [
    response::TOPIC_NOT_EXIST,
    response::SERVICE_NOT_AVAILABLE,
    response::SYSTEM_ERROR,
    response::SYSTEM_BUSY,
    response::NO_PERMISSION,
    response::NO_BUYER_ID,
    response::NOT_IN_CURRENT_UNIT,
    response::GO_AWAY,
];
/// Longest topic name (`TopicValidator`).
pub const TOPIC_NAME_BYTES_MAX: usize = 127;

/// Producer settings (RocketMQ's `DefaultMQProducer` fields).
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Producer group. Required.
    pub group: String,
    /// Client-wide settings (name servers, instance name, timeouts).
    pub client: ClientConfig,
    /// Total time budget of one send, retries included. Default: 3 000 ms.
    pub send_timeout: Duration,
    /// Extra attempts of a sync send. Default: 2 (3 attempts).
    pub retry_times_when_send_failed: u32,
    /// Extra attempts of an async send. Default: 2.
    pub retry_times_when_send_async_failed: u32,
    /// Retry on another broker when the status is not SEND_OK. Default: false.
    pub retry_another_broker_when_not_store_ok: bool,
    /// Bodies larger than this are zlib-compressed. Default: 4 096 bytes.
    pub compress_body_over_bytes: usize,
    /// zlib level. Default: 5. Maximum: 9.
    pub compress_level: u32,
    /// Largest body accepted. Default: 4 MiB.
    pub max_message_bytes: usize,
    /// Queues of an auto-created topic. Default: 4.
    pub default_topic_queue_nums: i32,
    /// Avoid slow or failed brokers for a while (`sendLatencyFaultEnable`). Default: false.
    pub send_latency_fault_enable: bool,
}

impl ProducerOptions {
    /// Options with RocketMQ's defaults for `group` and the given name server list.
    #[must_use]
    pub fn new(group: impl Into<String>, namesrv_addr: Option<&str>) -> ProducerOptions {
        ProducerOptions {
            group: group.into(),
            client: ClientConfig {
                namesrv_addr: namesrv_addr.map(str::to_owned),
                ..ClientConfig::default()
            },
            send_timeout: Duration::from_millis(3000),
            retry_times_when_send_failed: 2,
            retry_times_when_send_async_failed: 2,
            retry_another_broker_when_not_store_ok: false,
            compress_body_over_bytes: 4096,
            compress_level: 5,
            max_message_bytes: 4 * 1024 * 1024,
            default_topic_queue_nums: 4,
            send_latency_fault_enable: false,
        }
    }
}

/// Outcome of a successful send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    SendOk,
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
}

/// What a send returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    pub status: SendStatus,
    /// The client-made id (`UNIQ_KEY`); comma-joined for a batch.
    pub msg_id: String,
    /// The broker-made offset id(s).
    pub offset_msg_id: String,
    pub queue: MessageQueue,
    /// Consume-queue offset (the first one for a batch).
    pub queue_offset: i64,
    pub transaction_id: Option<String>,
    pub region_id: Option<String>,
    /// Address of the broker that stored the message.
    pub broker_addr: String,
}

/// How a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sync,
    Oneway,
}

/// The writable queues of a topic, with a round-robin cursor.
#[derive(Debug)]
pub(crate) struct PublishInfo {
    queues: Vec<MessageQueue>,
    /// True when built from TBW102's route (the topic does not exist yet).
    via_default_topic: bool,
    cursor: AtomicUsize,
}

impl PublishInfo {
    fn from_route(topic: &str, route: &TopicRouteData, queue_nums_max: Option<i32>) -> PublishInfo {
        let mut queue_datas = route.queue_datas.clone();
        queue_datas.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let mut queues = Vec::new();
        for queue_data in &queue_datas {
            if !perm::is_writeable(queue_data.perm) {
                continue;
            }
            let has_master = route.broker_datas.iter().any(|broker| {
                broker.broker_name == queue_data.broker_name
                    && broker.broker_addrs.contains_key(&MASTER_ID)
            });
            if !has_master {
                continue;
            }
            let count = queue_nums_max.map_or(queue_data.write_queue_nums, |max| {
                max.min(queue_data.write_queue_nums)
            });
            for queue_id in 0..count {
                queues.push(MessageQueue::new(
                    topic,
                    queue_data.broker_name.clone(),
                    queue_id,
                ));
            }
        }
        PublishInfo {
            queues,
            via_default_topic: queue_nums_max.is_some(),
            cursor: AtomicUsize::new(selector::random_index(1024)),
        }
    }
}

pub(crate) struct ProducerShared {
    pub(crate) options: ProducerOptions,
    pub(crate) instance: ClientInstance,
    publish: RwLock<std::collections::HashMap<String, Arc<PublishInfo>>>,
    faults: LatencyFaultTolerance,
}

/// A message producer. Clone to share; [`Producer::shutdown`] once.
#[derive(Clone)]
pub struct Producer {
    pub(crate) shared: Arc<ProducerShared>,
}

impl Producer {
    /// Starts a producer: resolves the name servers, starts heartbeats and route refresh.
    ///
    /// # Errors
    /// [`ClientError::InvalidArgument`] for an empty group, [`ClientError::NoNameServer`].
    pub async fn start(options: ProducerOptions) -> Result<Producer> {
        if options.group.trim().is_empty() {
            return Err(ClientError::InvalidArgument(
                "producer group is empty".into(),
            ));
        }
        if options.compress_level > 9 {
            return Err(ClientError::InvalidArgument(
                "compress_level is at most 9".into(),
            ));
        }
        let instance = ClientInstance::start(options.client.clone())?;
        instance.register_producer(&options.group);
        Ok(Producer {
            shared: Arc::new(ProducerShared {
                options,
                instance,
                publish: RwLock::new(std::collections::HashMap::new()),
                faults: LatencyFaultTolerance::new(),
            }),
        })
    }

    #[must_use]
    pub fn group(&self) -> &str {
        &self.shared.options.group
    }

    #[must_use]
    pub fn instance(&self) -> &ClientInstance {
        &self.shared.instance
    }

    /// The brokers this producer avoids after slow or failed sends (consulted only with
    /// `send_latency_fault_enable`, updated by every sync send).
    #[must_use]
    pub fn latency_faults(&self) -> &LatencyFaultTolerance {
        &self.shared.faults
    }

    /// Sends and waits for the broker's answer, retrying up to
    /// `retry_times_when_send_failed` times on transport errors and retryable codes.
    ///
    /// # Errors
    /// Validation errors, or [`ClientError::SendFailed`] with the last attempt's error.
    pub async fn send(&self, message: Message) -> Result<SendResult> {
        let attempts = 1 + self.shared.options.retry_times_when_send_failed;
        self.shared.send_with_retries(message, attempts).await
    }

    /// Sends in the background and calls `callback` with the outcome; retries up to
    /// `retry_times_when_send_async_failed` times.
    pub fn send_async<F>(&self, message: Message, callback: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let attempts = 1 + shared.options.retry_times_when_send_async_failed;
            callback(shared.send_with_retries(message, attempts).await);
        });
    }

    /// Sends without waiting for an answer (one attempt).
    ///
    /// # Errors
    /// Validation, route or transport errors.
    pub async fn send_oneway(&self, message: Message) -> Result<()> {
        let shared = &self.shared;
        shared.validate(&message)?;
        let info = shared.publish_info(&message.topic).await?;
        let queue = shared.choose_queue(&info, None)?;
        shared
            .send_to(
                &message,
                &queue,
                info.via_default_topic,
                Mode::Oneway,
                shared.options.send_timeout,
            )
            .await
            .map(|_| ())
    }

    /// Sends to a given queue (no retries, like Java).
    ///
    /// # Errors
    /// Validation, transport or broker errors.
    pub async fn send_to_queue(
        &self,
        message: Message,
        queue: &MessageQueue,
    ) -> Result<SendResult> {
        let shared = &self.shared;
        shared.validate(&message)?;
        if queue.topic != message.topic {
            return Err(ClientError::InvalidArgument(format!(
                "queue {queue} is not of topic {}",
                message.topic
            )));
        }
        let info = shared.publish_info(&message.topic).await?;
        let sent = shared
            .send_to(
                &message,
                queue,
                info.via_default_topic,
                Mode::Sync,
                shared.options.send_timeout,
            )
            .await?;
        sent.ok_or(ClientError::State("oneway"))
    }

    /// Sends to the queue `selector` picks for `key` (ordered messages); no retries.
    ///
    /// # Errors
    /// As [`Producer::send_to_queue`].
    pub async fn send_with_selector(
        &self,
        message: Message,
        selector: &dyn MessageQueueSelector,
        key: &str,
    ) -> Result<SendResult> {
        let queues = self.publish_queues(&message.topic).await?;
        let index = selector.select(&queues, &message, key);
        let queue = queues.get(index).cloned().ok_or_else(|| {
            ClientError::InvalidArgument(format!("selector returned {index} of {}", queues.len()))
        })?;
        self.send_to_queue(message, &queue).await
    }

    /// The writable queues of `topic` (RocketMQ's `fetchPublishMessageQueues`).
    ///
    /// # Errors
    /// Route errors, or [`ClientError::NoQueue`].
    pub async fn publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let info = self.shared.publish_info(topic).await?;
        if info.queues.is_empty() {
            return Err(ClientError::NoQueue {
                topic: topic.to_owned(),
                what: "writable",
            });
        }
        Ok(info.queues.clone())
    }

    /// Sends several messages of one topic as one `SEND_BATCH_MESSAGE`.
    ///
    /// # Errors
    /// [`ClientError::InvalidArgument`] for an empty or mixed batch, else as [`Producer::send`].
    pub async fn send_batch(&self, messages: Vec<Message>) -> Result<SendResult> {
        let batch = self.shared.build_batch(messages)?;
        let attempts = 1 + self.shared.options.retry_times_when_send_failed;
        self.shared.send_with_retries(batch, attempts).await
    }

    /// Unregisters the producer and closes its connections.
    pub async fn shutdown(&self) {
        self.shared.instance.shutdown().await;
    }
}

/// Checks a topic name: `^[%|a-zA-Z0-9_-]+$`, at most 127 bytes.
///
/// # Errors
/// [`ClientError::InvalidArgument`] naming the problem.
pub fn validate_topic(topic: &str) -> Result<()> {
    if topic.is_empty() {
        return Err(ClientError::InvalidArgument("topic is empty".into()));
    }
    if topic.len() > TOPIC_NAME_BYTES_MAX && !topic.starts_with('%') {
        return Err(ClientError::InvalidArgument(format!(
            "topic is longer than {TOPIC_NAME_BYTES_MAX} characters"
        )));
    }
    if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-'))
    {
        return Err(ClientError::InvalidArgument(format!(
            "topic {topic:?} has characters outside [%|a-zA-Z0-9_-]"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::body::route::{BrokerData, QueueData};

    fn route() -> TopicRouteData {
        let broker = |name: &str, master: bool| BrokerData {
            broker_addrs: if master {
                [(0, format!("{name}:1"))].into_iter().collect()
            } else {
                [(1, format!("{name}:2"))].into_iter().collect()
            },
            broker_name: name.into(),
            cluster: "c".into(),
            ..BrokerData::default()
        };
        let queue = |name: &str, perm: i32| QueueData {
            broker_name: name.into(),
            perm,
            read_queue_nums: 8,
            write_queue_nums: 8,
            topic_sys_flag: 0,
        };
        TopicRouteData {
            broker_datas: vec![broker("b", true), broker("a", true), broker("s", false)],
            queue_datas: vec![queue("b", 6), queue("a", 6), queue("s", 6), queue("ro", 4)],
            ..TopicRouteData::default()
        }
    }

    #[test]
    fn publish_info_keeps_writable_queues_with_a_master() {
        let info = PublishInfo::from_route("T", &route(), None);
        assert_eq!(info.queues.len(), 16);
        assert_eq!(info.queues[0], MessageQueue::new("T", "a", 0));
        let info = PublishInfo::from_route("T", &route(), Some(4));
        assert_eq!(info.queues.len(), 8);
        assert!(info.via_default_topic);
    }

    #[test]
    fn topic_validation() {
        assert!(validate_topic("Topic_A-1%|x").is_ok());
        assert!(validate_topic("").is_err());
        assert!(validate_topic("a b").is_err());
        assert!(validate_topic(&"x".repeat(128)).is_err());
    }
}
