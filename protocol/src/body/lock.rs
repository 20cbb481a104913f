//! `LOCK_BATCH_MQ` (41) and `UNLOCK_BATCH_MQ` (42) bodies. Orderly consumers send one lock
//! request per queue at rebalance and renew every 20 s; C++ and Go leave out
//! `onlyThisBroker` (= false).

use serde::{Deserialize, Serialize};

use super::fastjson::lenient_json_body;
use super::lenient;
use super::message_queue::MessageQueue;

/// `LockBatchRequestBody`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LockBatchRequestBody {
    #[serde(
        rename = "clientId",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub client_id: String,
    #[serde(
        rename = "consumerGroup",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub consumer_group: String,
    #[serde(
        rename = "mqSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub mq_set: Vec<MessageQueue>,
    #[serde(
        rename = "onlyThisBroker",
        default,
        deserialize_with = "lenient::boolean"
    )]
    pub only_this_broker: bool,
}

/// `UnlockBatchRequestBody` (same fields as the lock request).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnlockBatchRequestBody {
    #[serde(
        rename = "clientId",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub client_id: String,
    #[serde(
        rename = "consumerGroup",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub consumer_group: String,
    #[serde(
        rename = "mqSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub mq_set: Vec<MessageQueue>,
    #[serde(
        rename = "onlyThisBroker",
        default,
        deserialize_with = "lenient::boolean"
    )]
    pub only_this_broker: bool,
}

/// `LockBatchResponseBody`: the queues now locked by the requester.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LockBatchResponseBody {
    #[serde(
        rename = "lockOKMQSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}

lenient_json_body!(
    LockBatchRequestBody,
    UnlockBatchRequestBody,
    LockBatchResponseBody
);
