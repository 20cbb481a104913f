//! Messages between shards. Every shard owns one bounded inbox (a flume channel created at
//! startup, before the executors start) and holds a sender to every other inbox. A request
//! for a queue owned elsewhere travels exactly one hop: the entry shard sends a
//! [`ShardMessage::Data`] to the owner with a one-shot reply channel and awaits it.
//! Control-plane requests go to shard 0 the same way; shard 0 broadcasts the resulting
//! [`ControlUpdate`]s so every shard's read-only copy catches up.

use std::sync::Arc;

use bytes::Bytes;
use protocol::body::heartbeat::HeartbeatData;
use protocol::body::message_queue::MessageQueue;
use protocol::body::route::TopicConfig;
use protocol::RemotingCommand;

use crate::config::BrokerConfig;
use crate::filter::TagFilter;
use crate::store::{AppendError, AppendResult, Boundary, MessageToStore, ReadStatus};

/// A connection, named by the shard that owns its socket and a per-shard id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionRef {
    pub shard: u16,
    pub id: u64,
}

/// One message in a shard's inbox.
pub enum ShardMessage {
    /// A data-plane operation on a queue (or physical offset) this shard owns.
    Data {
        op: DataOp,
        reply: flume::Sender<DataReply>,
    },
    /// A control-plane operation; only shard 0 receives these.
    Control {
        op: ControlOp,
        reply: flume::Sender<ControlReply>,
    },
    /// A control-plane change broadcast by shard 0; `applied` is signalled once this shard
    /// has applied it, so shard 0 answers the request that caused it only after every shard
    /// sees the change (a heartbeat's subscription must be visible to the next pull).
    Update {
        update: ControlUpdate,
        applied: flume::Sender<()>,
    },
    /// A broker-initiated request (e.g. NOTIFY_CONSUMER_IDS_CHANGED) to write on one of this
    /// shard's connections.
    Push {
        connection_id: u64,
        command: RemotingCommand,
    },
    /// A broker-initiated request whose response the caller awaits on `reply`
    /// (GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY); dropping `reply` unanswered
    /// tells the caller the client is gone.
    Call {
        connection_id: u64,
        command: RemotingCommand,
        reply: flume::Sender<RemotingCommand>,
    },
    /// Stop the inbox loop.
    Shutdown,
}

/// A pull, resolved at the entry shard (topic checked, subscription parsed).
#[derive(Debug, Clone)]
pub struct PullQuery {
    pub topic: String,
    pub queue_id: u32,
    pub group: String,
    pub queue_offset: u64,
    pub max_count: u32,
    pub max_bytes: u32,
    pub filter: TagFilter,
    /// 0 = answer at once; else suspend up to this long waiting for a message.
    pub suspend_ms: u64,
    /// Piggy-backed consumer offset to commit first.
    pub commit_offset: Option<u64>,
}

/// What a pull found.
#[derive(Debug, Clone)]
pub struct PullOutcome {
    pub status: ReadStatus,
    pub records: Vec<Bytes>,
    pub next_begin_offset: u64,
    pub min_offset: u64,
    pub max_offset: u64,
}

/// Data-plane operations, executed by the shard that owns the queue.
#[derive(Debug)]
pub enum DataOp {
    Append {
        messages: Vec<MessageToStore>,
    },
    Pull(PullQuery),
    QueryOffset {
        topic: String,
        group: String,
        queue_id: u32,
    },
    CommitOffset {
        topic: String,
        group: String,
        queue_id: u32,
        offset: u64,
    },
    MaxOffset {
        topic: String,
        queue_id: u32,
    },
    MinOffset {
        topic: String,
        queue_id: u32,
    },
    SearchOffset {
        topic: String,
        queue_id: u32,
        timestamp_ms: i64,
        boundary: Boundary,
    },
    EarliestStoreTime {
        topic: String,
        queue_id: u32,
    },
    ReadAt {
        physical_offset: u64,
    },
    /// QUERY_MESSAGE on this shard's index (records newest first, at most `max_count`).
    QueryByKey {
        topic: String,
        key: String,
        max_count: u32,
        begin_ms: i64,
        end_ms: i64,
    },
    /// Min/max offsets and store times of queues of a topic (and a group's committed
    /// offsets), see `handlers::admin_stats`.
    QueueStats {
        topic: String,
        group: Option<String>,
        queue_ids: Vec<u32>,
    },
    /// Topics a group has committed offsets for on this shard.
    GroupTopics {
        group: String,
    },
    /// Groups with committed offsets of a topic on this shard.
    TopicGroups {
        topic: String,
    },
    /// Every committed offset on this shard, leaving the persister's dirty flag alone.
    OffsetsPeek,
    /// Drops a group's committed offsets on this shard (clean group delete).
    RemoveGroupOffsets {
        group: String,
    },
    OffsetsSnapshot,
    Stats,
    /// The delay levels this shard delivers and their next queue offsets.
    DelayProgress,
}

/// Counters of one shard, for GET_BROKER_RUNTIME_INFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShardStats {
    pub messages_put: u64,
    pub messages_got: u64,
    /// Messages put 10 s / 60 s / 600 s ago (for the TPS columns).
    pub put_history: [u64; 3],
    pub got_history: [u64; 3],
    pub commit_log_min_offset: u64,
    pub commit_log_max_offset: u64,
    pub suspended_pulls: u32,
    pub connections: u32,
}

/// Answers to [`DataOp`]s.
#[derive(Debug)]
pub enum DataReply {
    Appended(Result<Vec<AppendResult>, AppendError>),
    Pulled(PullOutcome),
    /// Committed offset (if any) with the queue's min and max.
    ConsumerOffset {
        committed: Option<u64>,
        min_offset: u64,
        max_offset: u64,
    },
    Offset(u64),
    Timestamp(Option<i64>),
    Record(Option<Bytes>),
    /// Records found by [`DataOp::QueryByKey`] and the shard's visible commit-log end.
    Records {
        records: Vec<Bytes>,
        visible_offset: u64,
    },
    QueueStats(Vec<crate::handlers::admin_stats::QueueStat>),
    Topics(Vec<String>),
    Offsets {
        dirty: bool,
        entries: Vec<(String, u32, u64)>,
    },
    /// (level, next queue offset).
    DelayProgress(Vec<(u32, u64)>),
    Stats(ShardStats),
    Done,
    /// Back-pressure: the remark says which limit.
    Busy(String),
    /// The operation failed; the remark says why.
    Failed(String),
}

/// How a missing topic may be created on the send path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicCreation {
    /// From the template topic named in the send (`TBW102`), if `autoCreateTopicEnable`.
    FromTemplate { client_queue_nums: i32 },
    /// `%RETRY%group` / `%DLQ%group`: one queue, read-write.
    RetryOrDeadLetter,
}

/// Control-plane operations, executed on shard 0.
#[derive(Debug)]
pub enum ControlOp {
    EnsureTopic {
        topic: String,
        template: String,
        creation: TopicCreation,
    },
    PutTopic(TopicConfig),
    DeleteTopic(String),
    AllTopics,
    EnsureGroup(String),
    Heartbeat {
        connection: ConnectionRef,
        client_addr: String,
        language: String,
        version: i32,
        data: HeartbeatData,
    },
    UnregisterClient {
        connection: ConnectionRef,
        client_id: String,
        producer_group: Option<String>,
        consumer_group: Option<String>,
    },
    ConnectionClosed(ConnectionRef),
    ConsumerIds(String),
    Lock {
        group: String,
        client_id: String,
        queues: Vec<MessageQueue>,
    },
    Unlock {
        group: String,
        client_id: String,
        queues: Vec<MessageQueue>,
    },
    RuntimeInfo,
    /// A live producer connection of a group (for CHECK_TRANSACTION_STATE).
    ProducerConnection(String),
    /// Admin-surface operations (`control::admin_ops`).
    Admin(crate::control::admin_ops::AdminOp),
    /// UPDATE_BROKER_CONFIG: `key=value` pairs; answered `Done` or `Failed(reason)`.
    UpdateConfig(Vec<(String, String)>),
}

/// Answers to [`ControlOp`]s.
#[derive(Debug)]
pub enum ControlReply {
    /// The topic and the revision of the table that holds it.
    Topic(TopicConfig, u64),
    /// The topic does not exist and may not be created; remark.
    TopicRefused(String),
    Topics(protocol::body::route::TopicConfigAndMappingSerializeWrapper),
    /// A subscription group's retry limit and whether consumption is enabled.
    Group {
        retry_max_times: i32,
        consume_enable: bool,
    },
    GroupMissing,
    Heartbeat {
        subscription_changed: bool,
    },
    ConsumerIds(Vec<String>),
    Locked(Vec<MessageQueue>),
    RuntimeInfo(std::collections::BTreeMap<String, String>),
    Connection(Option<ConnectionRef>),
    Admin(crate::control::admin_ops::AdminReply),
    Done,
    Busy(String),
    Failed(String),
}

/// A control-plane change every shard applies to its read-only copy.
#[derive(Debug, Clone)]
pub enum ControlUpdate {
    TopicPut {
        topic: TopicConfig,
        revision: u64,
    },
    TopicDeleted {
        topic: String,
        revision: u64,
    },
    /// A consumer group's subscriptions (topic → filter) as the heartbeats registered them;
    /// empty = the group is gone.
    Subscriptions {
        group: String,
        topics: Vec<(String, TagFilter)>,
    },
    /// The configuration after UPDATE_BROKER_CONFIG (25).
    Config(Arc<BrokerConfig>),
}
