//! Send headers: `SEND_MESSAGE` (10, long key names), `SEND_MESSAGE_V2` (310) and
//! `SEND_BATCH_MESSAGE` (320) with the short keys `a`..`n`, and the send response.
//!
//! The two request forms carry the same fields; [`From`] converts between them (V1's `bname`
//! is V2's `n`). The Java client sends V2 by default, the Go and C++ clients send V1 for
//! single messages and Go sends V2 for batches.

use super::schema::command_header;

command_header! {
    /// `SEND_MESSAGE` (10) request header, long key names
    /// (`SendMessageRequestHeader.java`).
    pub struct SendMessageRequestHeader {
        /// `producerGroup`.
        required producer_group: String = "producerGroup",
        /// `topic`.
        required topic: String = "topic",
        /// `defaultTopic`: the template topic for auto-creation, normally `TBW102`.
        required default_topic: String = "defaultTopic",
        /// `defaultTopicQueueNums`: queues of an auto-created topic (client default 4).
        required default_topic_queue_nums: i32 = "defaultTopicQueueNums",
        /// `queueId`; negative = let the broker choose.
        required queue_id: i32 = "queueId",
        /// `sysFlag` (`message::sys_flag`).
        required sys_flag: i32 = "sysFlag",
        /// `bornTimestamp` (ms).
        required born_timestamp_ms: i64 = "bornTimestamp",
        /// `flag`: the user flag.
        required flag: i32 = "flag",
        /// `properties`: the `k\u{1}v\u{2}` string.
        optional properties: String = "properties",
        /// `reconsumeTimes`.
        optional reconsume_times: i32 = "reconsumeTimes",
        /// `unitMode`.
        optional unit_mode: bool = "unitMode",
        /// `batch`: the body is a batch body (B.8).
        optional batch: bool = "batch",
        /// `maxReconsumeTimes`.
        optional max_reconsume_times: i32 = "maxReconsumeTimes",
        /// `bname`: the target broker name (`RpcRequestHeader`).
        optional broker_name: String = "bname",
    }
}

command_header! {
    /// `SEND_MESSAGE_V2` (310) / `SEND_BATCH_MESSAGE` (320) request header, short keys
    /// `a`..`n` (`SendMessageRequestHeaderV2.java`). Fields mean what they mean in
    /// [`SendMessageRequestHeader`].
    pub struct SendMessageRequestHeaderV2 {
        /// `a` = producerGroup.
        required producer_group: String = "a",
        /// `b` = topic.
        required topic: String = "b",
        /// `c` = defaultTopic.
        required default_topic: String = "c",
        /// `d` = defaultTopicQueueNums.
        required default_topic_queue_nums: i32 = "d",
        /// `e` = queueId.
        required queue_id: i32 = "e",
        /// `f` = sysFlag.
        required sys_flag: i32 = "f",
        /// `g` = bornTimestamp (ms).
        required born_timestamp_ms: i64 = "g",
        /// `h` = flag.
        required flag: i32 = "h",
        /// `i` = properties.
        optional properties: String = "i",
        /// `j` = reconsumeTimes.
        optional reconsume_times: i32 = "j",
        /// `k` = unitMode.
        optional unit_mode: bool = "k",
        /// `l` = maxReconsumeTimes ("consumeRetryTimes").
        optional max_reconsume_times: i32 = "l",
        /// `m` = batch.
        optional batch: bool = "m",
        /// `n` = brokerName.
        optional broker_name: String = "n",
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        SendMessageRequestHeader {
            producer_group: v2.producer_group,
            topic: v2.topic,
            default_topic: v2.default_topic,
            default_topic_queue_nums: v2.default_topic_queue_nums,
            queue_id: v2.queue_id,
            sys_flag: v2.sys_flag,
            born_timestamp_ms: v2.born_timestamp_ms,
            flag: v2.flag,
            properties: v2.properties,
            reconsume_times: v2.reconsume_times,
            unit_mode: v2.unit_mode,
            batch: v2.batch,
            max_reconsume_times: v2.max_reconsume_times,
            broker_name: v2.broker_name,
        }
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v1: SendMessageRequestHeader) -> Self {
        SendMessageRequestHeaderV2 {
            producer_group: v1.producer_group,
            topic: v1.topic,
            default_topic: v1.default_topic,
            default_topic_queue_nums: v1.default_topic_queue_nums,
            queue_id: v1.queue_id,
            sys_flag: v1.sys_flag,
            born_timestamp_ms: v1.born_timestamp_ms,
            flag: v1.flag,
            properties: v1.properties,
            reconsume_times: v1.reconsume_times,
            unit_mode: v1.unit_mode,
            max_reconsume_times: v1.max_reconsume_times,
            batch: v1.batch,
            broker_name: v1.broker_name,
        }
    }
}

command_header! {
    /// Response header of `SEND_MESSAGE` / `SEND_MESSAGE_V2` / `SEND_BATCH_MESSAGE`
    /// (`SendMessageResponseHeader.java`), plus the two ext keys the broker adds
    /// (`MSG_REGION`, `TRACE_ON`) which the Java client reads without a null check.
    pub struct SendMessageResponseHeader {
        /// `msgId`: the *offset* message id (32 hex chars for IPv4); comma-joined for a batch.
        required msg_id: String = "msgId",
        /// `queueId`.
        required queue_id: i32 = "queueId",
        /// `queueOffset`: the consume-queue offset (the first one for a batch).
        required queue_offset: i64 = "queueOffset",
        /// `transactionId`: the message's `UNIQ_KEY`.
        optional transaction_id: String = "transactionId",
        /// `batchUniqId`.
        optional batch_unique_id: String = "batchUniqId",
        /// `recallHandle` (5.x).
        optional recall_handle: String = "recallHandle",
        /// `MSG_REGION` (default `DefaultRegion`).
        optional message_region: String = "MSG_REGION",
        /// `TRACE_ON`.
        optional trace_on: bool = "TRACE_ON",
    }
}
