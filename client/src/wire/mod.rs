//! The client's edge with the wire: ext-field helpers and the JSON bodies the client needs
//! that the protocol crate does not export yet.
//!
//! TODO(protocol): the typed send/pull headers (`protocol::header::{send, pull}`) are landing
//! but not exported from `protocol::header` yet, and the heartbeat, consumer-list,
//! lock-batch, stats and connection bodies are not in `protocol::body`. Until they are, the
//! client writes ext keys by name here (names from the compat spec B.4) and keeps private
//! serde types. Swap each for the protocol type as it lands.

pub mod json;

use std::collections::BTreeMap;

use protocol::command::ExtFields;
use protocol::RemotingCommand;
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};
use crate::message::MessageQueue;

/// Builds an ext map from `(key, value)` pairs; `None` values are skipped.
#[must_use]
pub fn ext(pairs: &[(&str, Option<String>)]) -> ExtFields {
    let mut fields = ExtFields::with_capacity(pairs.len());
    for (key, value) in pairs {
        if let Some(value) = value {
            fields.insert(*key, value.clone());
        }
    }
    fields
}

/// `Some(value.to_string())`, for [`ext`].
pub fn some(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

/// A required numeric ext value of a response.
///
/// # Errors
/// [`ClientError::Decode`] if absent or not a number.
pub fn ext_number<T: std::str::FromStr>(
    response: &RemotingCommand,
    key: &'static str,
) -> Result<T> {
    response
        .ext(key)
        .ok_or_else(|| ClientError::decode("response header", format!("missing {key}")))?
        .trim()
        .parse()
        .map_err(|_| ClientError::decode("response header", format!("{key} is not a number")))
}

/// Parses a JSON body, tolerating fastjson's object and numeric map keys.
///
/// # Errors
/// [`ClientError::Decode`] naming `what`.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T> {
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let text = std::str::from_utf8(body).map_err(|error| ClientError::decode(what, error))?;
    serde_json::from_str(&json::quote_complex_keys(text))
        .map_err(|error| ClientError::decode(what, error))
}

/// Encodes a body as JSON bytes.
#[must_use]
pub fn encode_body<T: Serialize>(body: &T) -> Vec<u8> {
    // Plain data with string keys: serialization into memory cannot fail.
    serde_json::to_vec(body).unwrap_or_default()
}

/// `HeartbeatData` (B.9).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatData {
    #[serde(rename = "clientID")]
    pub client_id: String,
    pub producer_data_set: Vec<ProducerData>,
    pub consumer_data_set: Vec<ConsumerData>,
    pub heartbeat_fingerprint: i32,
    pub without_sub: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProducerData {
    pub group_name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerData {
    pub group_name: String,
    pub consume_type: &'static str,
    pub message_model: &'static str,
    pub consume_from_where: &'static str,
    pub subscription_data_set: Vec<SubscriptionData>,
    pub unit_mode: bool,
}

/// `SubscriptionData` as the heartbeat carries it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionData {
    pub class_filter_mode: bool,
    pub topic: String,
    pub sub_string: String,
    pub tags_set: Vec<String>,
    pub code_set: Vec<i32>,
    pub sub_version: i64,
    pub expression_type: String,
}

/// `{"consumerIdList":[...]}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerIdList {
    #[serde(default)]
    pub consumer_id_list: Vec<String>,
}

/// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LockBatchRequest {
    pub consumer_group: String,
    pub client_id: String,
    pub only_this_broker: bool,
    pub mq_set: Vec<MessageQueue>,
}

/// LOCK_BATCH_MQ response body.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LockBatchResponse {
    #[serde(default, rename = "lockOKMQSet")]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}

/// `ResetOffsetBody`: `{"offsetTable":{{mq}:offset}}` (broker → client, code 220).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResetOffsetBody {
    #[serde(default)]
    pub offset_table: BTreeMap<String, i64>,
}

impl ResetOffsetBody {
    /// The table with its keys parsed back into queues.
    #[must_use]
    pub fn queues(&self) -> Vec<(MessageQueue, i64)> {
        self.offset_table
            .iter()
            .filter_map(|(key, offset)| {
                serde_json::from_str::<MessageQueue>(key)
                    .ok()
                    .map(|mq| (mq, *offset))
            })
            .collect()
    }
}

/// Parses a fastjson map keyed by `MessageQueue` objects.
#[must_use]
pub fn queue_keyed<V>(table: BTreeMap<String, V>) -> Vec<(MessageQueue, V)> {
    let mut entries: Vec<(MessageQueue, V)> = table
        .into_iter()
        .filter_map(|(key, value)| {
            serde_json::from_str::<MessageQueue>(&key)
                .ok()
                .map(|mq| (mq, value))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_json_shape() {
        let data = HeartbeatData {
            client_id: "127.0.0.1@1".into(),
            producer_data_set: vec![ProducerData {
                group_name: "pg".into(),
            }],
            consumer_data_set: vec![],
            heartbeat_fingerprint: 0,
            without_sub: false,
        };
        let text = String::from_utf8(encode_body(&data)).unwrap();
        assert!(text.contains(r#""clientID":"127.0.0.1@1""#), "{text}");
        assert!(
            text.contains(r#""producerDataSet":[{"groupName":"pg"}]"#),
            "{text}"
        );
    }

    #[test]
    fn reset_offset_body_parses_object_keys() {
        let text = br#"{"offsetTable":{{"brokerName":"b","queueId":3,"topic":"T"}:42}}"#;
        let body: ResetOffsetBody = decode_body(text, "ResetOffsetBody").unwrap();
        let queues = body.queues();
        assert_eq!(queues.len(), 1);
        assert_eq!(queues[0].0.queue_id, 3);
        assert_eq!(queues[0].1, 42);
    }
}
