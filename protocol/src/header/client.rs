//! Client-management headers: `HEART_BEAT` (34, response ext only), `UNREGISTER_CLIENT` (35),
//! `CONSUMER_SEND_MSG_BACK` (36), `GET_CONSUMER_LIST_BY_GROUP` (38), and the broker→client
//! requests `NOTIFY_CONSUMER_IDS_CHANGED` (40), `GET_CONSUMER_RUNNING_INFO` (307) and
//! `CONSUME_MESSAGE_DIRECTLY` (309).

use super::schema::command_header;

command_header! {
    /// `HEART_BEAT` (34) response ext fields (the request has no header; its body is
    /// `body::heartbeat::HeartbeatData`). The 5.x client switches to heartbeat v2 when the
    /// broker announces support.
    pub struct HeartbeatResponseHeader {
        /// `IS_SUPPORT_HEART_BEAT_V2`.
        optional supports_heartbeat_v2: bool = "IS_SUPPORT_HEART_BEAT_V2",
        /// `IS_SUB_CHANGE`.
        optional subscription_changed: bool = "IS_SUB_CHANGE",
    }
}

command_header! {
    /// `UNREGISTER_CLIENT` (35) request header. The Go client never sends it.
    pub struct UnregisterClientRequestHeader {
        /// `clientID`.
        required client_id: String = "clientID",
        /// `producerGroup`.
        optional producer_group: String = "producerGroup",
        /// `consumerGroup`.
        optional consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// `CONSUMER_SEND_MSG_BACK` (36) request header: a message failed consumption and goes to
    /// the retry topic (or the DLQ).
    pub struct ConsumerSendMsgBackRequestHeader {
        /// `offset`: commit-log offset of the failed message.
        required offset: i64 = "offset",
        /// `group`: the consumer group.
        required group: String = "group",
        /// `delayLevel`: 0 = broker decides (3 + reconsumeTimes), < 0 = straight to the DLQ.
        required delay_level: i32 = "delayLevel",
        /// `originMsgId`.
        optional origin_message_id: String = "originMsgId",
        /// `originTopic`.
        optional origin_topic: String = "originTopic",
        /// `unitMode`.
        defaulted(false) unit_mode: bool = "unitMode",
        /// `maxReconsumeTimes`.
        optional max_reconsume_times: i32 = "maxReconsumeTimes",
    }
}

command_header! {
    /// `GET_CONSUMER_LIST_BY_GROUP` (38) request header; the answer is
    /// `body::consumer::ConsumerListBody`.
    pub struct GetConsumerListByGroupRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// `NOTIFY_CONSUMER_IDS_CHANGED` (40, broker→client, oneway) request header.
    pub struct NotifyConsumerIdsChangedRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
    }
}

command_header! {
    /// `GET_CONSUMER_RUNNING_INFO` (307, broker→client) request header.
    pub struct GetConsumerRunningInfoRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `clientId`.
        required client_id: String = "clientId",
        /// `jstackEnable`.
        defaulted(false) jstack_enable: bool = "jstackEnable",
    }
}

command_header! {
    /// `CONSUME_MESSAGE_DIRECTLY` (309, broker→client) request header
    /// (`ConsumeMessageDirectlyResultRequestHeader.java`); the body is one stored record.
    pub struct ConsumeMessageDirectlyRequestHeader {
        /// `consumerGroup`.
        required consumer_group: String = "consumerGroup",
        /// `clientId`.
        optional client_id: String = "clientId",
        /// `msgId`.
        optional msg_id: String = "msgId",
        /// `brokerName`.
        optional broker_name: String = "brokerName",
        /// `topic`.
        optional topic: String = "topic",
        /// `topicSysFlag`.
        optional topic_sys_flag: i32 = "topicSysFlag",
        /// `groupSysFlag`.
        optional group_sys_flag: i32 = "groupSysFlag",
    }
}
