//! Headers of the admin codes `mqadmin` and the dashboard use against a broker.
//!
//! Codes without a header (the request is empty or carries only a body):
//! `UPDATE_BROKER_CONFIG` (25, body = properties text), `GET_BROKER_RUNTIME_INFO` (28, answer
//! `KVTable`), `GET_ALL_CONSUMER_OFFSET` (43), `GET_ALL_DELAY_OFFSET` (45),
//! `UPDATE_AND_CREATE_SUBSCRIPTIONGROUP` (200, body `SubscriptionGroupConfig`),
//! `GET_ALL_SUBSCRIPTIONGROUP_CONFIG` (201), `QUERY_ASSIGNMENT` (400, body only).

use super::schema::command_header;

command_header! {
    /// `GET_BROKER_CONFIG` (26) response header; the body is the properties text.
    pub struct GetBrokerConfigResponseHeader {
        /// `version`: the config's data version as JSON text.
        required version: String = "version",
    }
}

command_header! {
    /// `GET_ALL_TOPIC_CONFIG` (21) response header (5.x paging).
    pub struct GetAllTopicConfigResponseHeader {
        /// `totalTopicNum`.
        required total_topic_count: i32 = "totalTopicNum",
    }
}

command_header! {
    /// `GET_TOPIC_STATS_INFO` (202) request header; the answer is `TopicStatsTable`.
    pub struct GetTopicStatsInfoRequestHeader {
        /// `topic`.
        required topic: String = "topic",
    }
}

command_header! {
    /// `GET_CONSUMER_CONNECTION_LIST` (203) request header; the answer is
    /// `ConsumerConnection`.
    pub struct GetConsumerConnectionListRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// `GET_PRODUCER_CONNECTION_LIST` (204) request header; the answer is
    /// `ProducerConnection`.
    pub struct GetProducerConnectionListRequestHeader {
        /// `producerGroup`.
        required producer_group: String = "producerGroup",
    }
}

command_header! {
    /// `DELETE_SUBSCRIPTIONGROUP` (207) request header.
    pub struct DeleteSubscriptionGroupRequestHeader {
        /// `groupName`.
        required group_name: String = "groupName",
        /// `cleanOffset`: also drop the group's consumer offsets.
        defaulted(false) clean_offset: bool = "cleanOffset",
    }
}

command_header! {
    /// `GET_CONSUME_STATS` (208) request header; the answer is `ConsumeStats`.
    pub struct GetConsumeStatsRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `topic`: absent = every topic the group subscribes.
        optional topic: String = "topic",
        /// `topicList` (5.x): `;`-separated topics.
        optional topic_list: String = "topicList",
    }
}

command_header! {
    /// `INVOKE_BROKER_TO_RESET_OFFSET` (222, admin→broker), `RESET_CONSUMER_CLIENT_OFFSET`
    /// (220, broker→client) and `RESET_CONSUMER_OFFSET_IN_BROKER` (212) request header
    /// (`ResetOffsetRequestHeader.java`).
    pub struct ResetOffsetRequestHeader {
        /// `group`.
        required group: String = "group",
        /// `topic`.
        required topic: String = "topic",
        /// `queueId`: -1 = every queue.
        defaulted(-1) queue_id: i32 = "queueId",
        /// `offset`: reset to this offset instead of by timestamp.
        optional offset: i64 = "offset",
        /// `timestamp` (ms): reset to the first message stored at or after it.
        required timestamp_ms: i64 = "timestamp",
        /// `isForce`: also move offsets forward.
        required force: bool = "isForce",
    }
}

command_header! {
    /// `QUERY_TOPIC_CONSUME_BY_WHO` (300) request header; the answer is `GroupList`.
    pub struct QueryTopicConsumeByWhoRequestHeader {
        /// `topic`.
        required topic: String = "topic",
    }
}
