//! Consumers: [`PushConsumer`] (long-polling pulls feeding listeners) and
//! [`LitePullConsumer`] (the application polls), with the pieces they share:
//! [`allocate`] (rebalance strategies), [`process_queue`], [`offset_store`], [`pull`],
//! [`subscription`].

pub mod allocate;
pub mod lite;
pub mod offset_store;
pub mod process_queue;
pub mod pull;
pub mod push;
pub mod subscription;

use std::sync::Arc;
use std::time::Duration;

use protocol::body::heartbeat;

use crate::config::ClientConfig;
use crate::message::{MessageExt, MessageQueue};

pub use allocate::{
    AllocateAveragely, AllocateAveragelyByCircle, AllocateByConfig, AllocateByMachineRoom,
    AllocateConsistentHash, AllocateStrategy,
};
pub use lite::{LitePullConsumer, LitePullOptions};
pub use push::{ProcessQueueStats, PushConsumer};
pub use subscription::{Expression, Subscription};

/// Clustering (each message to one member of the group) or broadcasting (to every member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageModel {
    #[default]
    Clustering,
    Broadcasting,
}

impl MessageModel {
    /// The heartbeat enum.
    #[must_use]
    pub fn to_wire(self) -> heartbeat::MessageModel {
        match self {
            MessageModel::Clustering => heartbeat::MessageModel::Clustering,
            MessageModel::Broadcasting => heartbeat::MessageModel::Broadcasting,
        }
    }
}

/// Where a group with no stored offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsumeFromWhere {
    #[default]
    LastOffset,
    FirstOffset,
    /// From the first message stored at or after this time (ms).
    Timestamp(i64),
}

impl ConsumeFromWhere {
    /// The heartbeat enum.
    #[must_use]
    pub fn to_wire(self) -> heartbeat::ConsumeFromWhere {
        match self {
            ConsumeFromWhere::LastOffset => heartbeat::ConsumeFromWhere::ConsumeFromLastOffset,
            ConsumeFromWhere::FirstOffset => heartbeat::ConsumeFromWhere::ConsumeFromFirstOffset,
            ConsumeFromWhere::Timestamp(_) => heartbeat::ConsumeFromWhere::ConsumeFromTimestamp,
        }
    }
}

/// Result of a concurrent listener call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeConcurrentlyStatus {
    ConsumeSuccess,
    /// Redeliver later through the group's retry topic.
    ReconsumeLater,
}

/// Passed to a concurrent listener.
#[derive(Debug, Clone)]
pub struct ConsumeConcurrentlyContext {
    pub queue: MessageQueue,
    /// Delay level of the retry: 0 = broker decides (3 + reconsume times), -1 = DLQ now.
    pub delay_level_when_next_consume: i32,
    /// With `ConsumeSuccess`, messages after this index are still retried. Default: last.
    pub ack_index: i32,
}

/// Result of an orderly listener call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeOrderlyStatus {
    Success,
    /// Retry the same messages after `suspend_current_queue_time_ms`.
    SuspendCurrentQueueAMoment,
}

/// Passed to an orderly listener.
#[derive(Debug, Clone)]
pub struct ConsumeOrderlyContext {
    pub queue: MessageQueue,
    pub suspend_current_queue_time_ms: i64,
}

/// Consumes messages in any order, many batches at once. Runs on a blocking thread.
pub trait MessageListenerConcurrently: Send + Sync + 'static {
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus;
}

impl<F> MessageListenerConcurrently for F
where
    F: Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
        + Send
        + Sync
        + 'static,
{
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus {
        self(messages, context)
    }
}

/// Consumes each queue's messages one batch at a time, in queue order. Runs on a blocking
/// thread.
pub trait MessageListenerOrderly: Send + Sync + 'static {
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeOrderlyContext,
    ) -> ConsumeOrderlyStatus;
}

impl<F> MessageListenerOrderly for F
where
    F: Fn(&[MessageExt], &mut ConsumeOrderlyContext) -> ConsumeOrderlyStatus
        + Send
        + Sync
        + 'static,
{
    fn consume_message(
        &self,
        messages: &[MessageExt],
        context: &mut ConsumeOrderlyContext,
    ) -> ConsumeOrderlyStatus {
        self(messages, context)
    }
}

/// A push consumer's listener.
#[derive(Clone)]
pub enum Listener {
    Concurrently(Arc<dyn MessageListenerConcurrently>),
    Orderly(Arc<dyn MessageListenerOrderly>),
}

/// Push consumer settings (RocketMQ's `DefaultMQPushConsumer` fields).
#[derive(Clone)]
pub struct PushConsumerOptions {
    /// Consumer group. Required.
    pub group: String,
    pub client: ClientConfig,
    /// Default: clustering.
    pub message_model: MessageModel,
    /// Default: last offset.
    pub consume_from_where: ConsumeFromWhere,
    /// Default: [`AllocateAveragely`].
    pub allocate_strategy: Arc<dyn AllocateStrategy>,
    /// Concurrent listener calls at most (`consumeThreadMax`). Default: 20. Minimum: 1.
    pub consume_thread_max: usize,
    /// Messages per pull. Default: 32. Maximum: 1024.
    pub pull_batch_size: i32,
    /// Pause pulling a queue above this many cached messages. Default: 1000.
    pub pull_threshold_for_queue: usize,
    /// Pause pulling a queue above this many cached MiB. Default: 100.
    pub pull_threshold_size_for_queue_mib: usize,
    /// Pause pulling a queue when its cached offset span exceeds this (concurrent only).
    /// Default: 2000.
    pub consume_concurrently_max_span: i64,
    /// Messages per listener call. Default: 1. Maximum: 1024.
    pub consume_message_batch_max_size: usize,
    /// Wait between pulls of a queue. Default: 0.
    pub pull_interval: Duration,
    /// Concurrent, clustering: a message in the listener longer than this is sent back with
    /// delay level 3 and dropped from the process queue (Java's `consumeTimeout` and
    /// `cleanExpiredMsg`); the check runs every `consume_timeout`, so a stuck message goes
    /// back after one to two timeouts. Default: 15 min. Minimum: above zero.
    pub consume_timeout: Duration,
    /// Retries before the DLQ; -1 = 16 (concurrent) or unlimited (orderly). Default: -1.
    pub max_reconsume_times: i32,
    /// Orderly: wait before retrying a suspended queue. Default: 1 000 ms.
    pub suspend_current_queue_time: Duration,
    /// Rebalance interval. Default: 20 s.
    pub rebalance_interval: Duration,
    /// Offset persistence interval. Default: 5 s.
    pub persist_offset_interval: Duration,
    /// Orderly clustering: how often the held queue locks are renewed (LOCK_BATCH_MQ); keep
    /// it well below the broker's lock lease (`lockMaxLiveTime`, 60 s on Java brokers).
    /// Default: 20 s. Minimum: above zero.
    pub lock_interval: Duration,
    /// Send the subscription in every pull instead of relying on the heartbeat. Default: false.
    pub post_subscription_when_pull: bool,
    /// Broadcasting offset directory. Default: `~/.rocketmq_offsets`.
    pub local_offset_dir: Option<std::path::PathBuf>,
}

impl PushConsumerOptions {
    /// Options with RocketMQ's defaults.
    #[must_use]
    pub fn new(group: impl Into<String>, namesrv_addr: Option<&str>) -> PushConsumerOptions {
        PushConsumerOptions {
            group: group.into(),
            client: ClientConfig {
                namesrv_addr: namesrv_addr.map(str::to_owned),
                ..ClientConfig::default()
            },
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::LastOffset,
            allocate_strategy: Arc::new(AllocateAveragely),
            consume_thread_max: 20,
            pull_batch_size: 32,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue_mib: 100,
            consume_concurrently_max_span: 2000,
            consume_message_batch_max_size: 1,
            pull_interval: Duration::ZERO,
            consume_timeout: Duration::from_secs(15 * 60),
            max_reconsume_times: -1,
            suspend_current_queue_time: Duration::from_millis(1000),
            rebalance_interval: Duration::from_secs(20),
            persist_offset_interval: Duration::from_secs(5),
            lock_interval: Duration::from_secs(20),
            post_subscription_when_pull: false,
            local_offset_dir: None,
        }
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// [`crate::ClientError::InvalidArgument`] naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        let invalid = |what: &str| Err(crate::ClientError::InvalidArgument(what.to_owned()));
        if self.group.trim().is_empty() {
            return invalid("consumer group is empty");
        }
        if self.consume_thread_max == 0 {
            return invalid("consume_thread_max must be at least 1");
        }
        if !(1..=1024).contains(&self.pull_batch_size) {
            return invalid("pull_batch_size must be in 1..=1024");
        }
        if !(1..=1024).contains(&self.consume_message_batch_max_size) {
            return invalid("consume_message_batch_max_size must be in 1..=1024");
        }
        if self.pull_threshold_for_queue == 0 || self.pull_threshold_size_for_queue_mib == 0 {
            return invalid("pull thresholds must be at least 1");
        }
        // Periods of timers: a zero period cannot be scheduled.
        for (name, period) in [
            ("consume_timeout", self.consume_timeout),
            ("rebalance_interval", self.rebalance_interval),
            ("persist_offset_interval", self.persist_offset_interval),
            ("lock_interval", self.lock_interval),
        ] {
            if period.is_zero() {
                return Err(crate::ClientError::InvalidArgument(format!(
                    "{name} must be positive"
                )));
            }
        }
        Ok(())
    }
}
