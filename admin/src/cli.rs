//! The command line: RocketMQ's `mqadmin` sub-command names and short flags.

use clap::{Args, Parser, Subcommand};

/// Exit codes, listed in `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes: 0 ok; 1 the operation failed (the broker or name server refused it);
2 bad usage; 3 name server or broker unreachable; 4 not found (unknown topic, group or message).
The name server list comes from -n, else the rocketmq.namesrv.addr property, else NAMESRV_ADDR.";

#[derive(Debug, Parser)]
#[command(
    name = "mqadmin",
    version,
    about = "RocketMQ-compatible admin tool",
    after_help = EXIT_CODES_HELP,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Name server address list, `host:port;host:port`.
    #[arg(short = 'n', long = "namesrvAddr", global = true)]
    pub namesrv: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Request timeout in milliseconds.
    #[arg(long = "timeoutMillis", global = true, default_value_t = 5000)]
    pub timeout_ms: u64,
    #[command(subcommand)]
    pub command: Command,
}

/// `-b brokerAddr` or `-c clusterName` (one of them).
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// Broker address `ip:port`.
    #[arg(short = 'b', long = "brokerAddr")]
    pub broker_addr: Option<String>,
    /// Cluster name: every master of the cluster.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update a topic on a broker or every master of a cluster.
    #[command(name = "updateTopic")]
    UpdateTopic {
        #[command(flatten)]
        target: Target,
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'r', long = "readQueueNums", default_value_t = 8)]
        read_queue_nums: i32,
        #[arg(short = 'w', long = "writeQueueNums", default_value_t = 8)]
        write_queue_nums: i32,
        #[arg(short = 'p', long = "perm", default_value_t = 6)]
        perm: i32,
        #[arg(short = 'o', long = "order", default_value_t = false)]
        order: bool,
    },
    /// Delete a topic from the brokers of a cluster and from the name servers.
    #[command(name = "deleteTopic")]
    DeleteTopic {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'c', long = "clusterName")]
        cluster: String,
    },
    /// Change a topic's permission (2 write, 4 read, 6 read+write) on its brokers.
    #[command(name = "updateTopicPerm")]
    UpdateTopicPerm {
        #[command(flatten)]
        target: Target,
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'p', long = "perm")]
        perm: i32,
    },
    /// Show a topic's route (queues and broker addresses).
    #[command(name = "topicRoute")]
    TopicRoute {
        #[arg(short = 't', long = "topic")]
        topic: String,
    },
    /// List every topic known to the name server.
    #[command(name = "topicList")]
    TopicList {
        /// Only topics of this cluster.
        #[arg(short = 'c', long = "clusterName")]
        cluster: Option<String>,
    },
    /// Show min/max offsets of every queue of a topic.
    #[command(name = "topicStatus", alias = "topicStats")]
    TopicStatus {
        #[arg(short = 't', long = "topic")]
        topic: String,
    },
    /// Show the clusters a topic lives in.
    #[command(name = "topicClusterList")]
    TopicClusterList {
        #[arg(short = 't', long = "topic")]
        topic: String,
    },
    /// Create or update a consumer (subscription) group.
    #[command(name = "updateSubGroup")]
    UpdateSubGroup {
        #[command(flatten)]
        target: Target,
        #[arg(short = 'g', long = "groupName")]
        group: String,
        #[arg(short = 's', long = "consumeEnable")]
        consume_enable: Option<bool>,
        #[arg(short = 'd', long = "consumeBroadcastEnable")]
        consume_broadcast_enable: Option<bool>,
        #[arg(short = 'q', long = "retryQueueNums")]
        retry_queue_nums: Option<i32>,
        #[arg(short = 'r', long = "retryMaxTimes")]
        retry_max_times: Option<i32>,
        #[arg(short = 'o', long = "consumeMessageOrderly")]
        consume_message_orderly: Option<bool>,
    },
    /// Delete a consumer group from a broker or a cluster.
    #[command(name = "deleteSubGroup")]
    DeleteSubGroup {
        #[command(flatten)]
        target: Target,
        #[arg(short = 'g', long = "groupName")]
        group: String,
        /// Also delete the group's offsets.
        #[arg(short = 'r', long = "removeOffset", default_value_t = false)]
        remove_offset: bool,
    },
    /// Set one broker configuration key.
    #[command(name = "updateBrokerConfig")]
    UpdateBrokerConfig {
        #[command(flatten)]
        target: Target,
        #[arg(short = 'k', long = "key")]
        key: String,
        #[arg(short = 'v', long = "value")]
        value: String,
    },
    /// Print a broker's configuration.
    #[command(name = "getBrokerConfig")]
    GetBrokerConfig {
        #[command(flatten)]
        target: Target,
    },
    /// List clusters and their brokers with runtime figures.
    #[command(name = "clusterList")]
    ClusterList {
        #[arg(short = 'c', long = "clusterName")]
        cluster: Option<String>,
    },
    /// Print a broker's runtime statistics.
    #[command(name = "brokerStatus")]
    BrokerStatus {
        #[command(flatten)]
        target: Target,
    },
    /// Show a consumer group's offsets and lag per queue.
    #[command(name = "consumerProgress")]
    ConsumerProgress {
        #[arg(short = 'g', long = "groupName")]
        group: String,
        #[arg(short = 't', long = "topic")]
        topic: Option<String>,
    },
    /// Show the clients connected for a consumer group.
    #[command(name = "consumerConnection")]
    ConsumerConnection {
        #[arg(short = 'g', long = "consumerGroup")]
        group: String,
    },
    /// Show the clients connected for a producer group.
    #[command(name = "producerConnection")]
    ProducerConnection {
        #[arg(short = 'g', long = "producerGroup")]
        group: String,
        #[arg(short = 't', long = "topic")]
        topic: String,
    },
    /// Reset a consumer group's offsets of a topic to a time.
    #[command(name = "resetOffsetByTime")]
    ResetOffsetByTime {
        #[arg(short = 'g', long = "group")]
        group: String,
        #[arg(short = 't', long = "topic")]
        topic: String,
        /// Milliseconds since the epoch, `now`, or `yyyy-MM-dd#HH:mm:ss:SSS` (UTC).
        #[arg(short = 's', long = "timestamp")]
        timestamp: String,
        #[arg(short = 'f', long = "force", default_value_t = true)]
        force: bool,
    },
    /// Print messages of a topic (all queues, optionally within a time range).
    #[command(name = "printMsg")]
    PrintMsg {
        #[arg(short = 't', long = "topic")]
        topic: String,
        /// Tag expression.
        #[arg(short = 's', long = "subExpression", default_value = "*")]
        sub_expression: String,
        #[arg(short = 'b', long = "beginTimestamp")]
        begin: Option<String>,
        #[arg(short = 'e', long = "endTimestamp")]
        end: Option<String>,
        /// Print bodies.
        #[arg(short = 'd', long = "printBody", default_value_t = true)]
        print_body: bool,
    },
    /// Look a message up by its offset message id (comma-separate several).
    #[command(name = "queryMsgById")]
    QueryMsgById {
        #[arg(short = 'i', long = "msgId")]
        msg_id: String,
    },
    /// Look messages up by key.
    #[command(name = "queryMsgByKey")]
    QueryMsgByKey {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'k', long = "msgKey")]
        key: String,
        #[arg(short = 'b', long = "beginTimestamp")]
        begin: Option<String>,
        #[arg(short = 'e', long = "endTimestamp")]
        end: Option<String>,
        #[arg(short = 'c', long = "maxNum", default_value_t = 64)]
        max_count: i32,
    },
    /// Look a message up by its unique (client) id.
    #[command(name = "queryMsgByUniqueKey")]
    QueryMsgByUniqueKey {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'i', long = "msgId")]
        msg_id: String,
    },
    /// Read the message at a queue offset.
    #[command(name = "queryMsgByOffset")]
    QueryMsgByOffset {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'b', long = "brokerName")]
        broker_name: String,
        #[arg(short = 'i', long = "queueId")]
        queue_id: i32,
        #[arg(short = 'o', long = "offset")]
        offset: i64,
    },
    /// Send one message.
    #[command(name = "sendMessage")]
    SendMessage {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'p', long = "body")]
        body: String,
        #[arg(short = 'k', long = "key")]
        keys: Option<String>,
        #[arg(short = 'c', long = "tags")]
        tags: Option<String>,
        /// With -i: send to this broker's queue.
        #[arg(short = 'b', long = "broker")]
        broker_name: Option<String>,
        #[arg(short = 'i', long = "qid")]
        queue_id: Option<i32>,
    },
    /// Read messages from a topic (or one queue from an offset).
    #[command(name = "consumeMessage")]
    ConsumeMessage {
        #[arg(short = 't', long = "topic")]
        topic: String,
        #[arg(short = 'b', long = "brokerName")]
        broker_name: Option<String>,
        #[arg(short = 'i', long = "queueId")]
        queue_id: Option<i32>,
        #[arg(short = 'o', long = "offset")]
        offset: Option<i64>,
        #[arg(short = 'c', long = "MessageNumber", default_value_t = 128)]
        count: usize,
    },
    /// Put a name server KV config entry.
    #[command(name = "updateKvConfig")]
    UpdateKvConfig {
        #[arg(short = 's', long = "namespace")]
        namespace: String,
        #[arg(short = 'k', long = "key")]
        key: String,
        #[arg(short = 'v', long = "value")]
        value: String,
    },
    /// Delete a name server KV config entry.
    #[command(name = "deleteKvConfig")]
    DeleteKvConfig {
        #[arg(short = 's', long = "namespace")]
        namespace: String,
        #[arg(short = 'k', long = "key")]
        key: String,
    },
    /// Remove write permission of a broker on every name server.
    #[command(name = "wipeWritePerm")]
    WipeWritePerm {
        #[arg(short = 'b', long = "brokerName")]
        broker_name: String,
    },
    /// Restore write permission of a broker on every name server.
    #[command(name = "addWritePerm")]
    AddWritePerm {
        #[arg(short = 'b', long = "brokerName")]
        broker_name: String,
    },
    /// Per topic and consumer group: messages stored and consumer lag.
    #[command(name = "statsAll")]
    StatsAll {
        /// Only this topic.
        #[arg(short = 't', long = "topic")]
        topic: Option<String>,
        /// Only topics with messages.
        #[arg(short = 'a', long = "activeTopic", default_value_t = false)]
        active_only: bool,
    },
}
