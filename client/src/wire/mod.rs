//! The client's edge with the wire: ext-field helpers, and decoding/encoding of JSON bodies.
//! The bodies themselves (heartbeat, consumer list, lock batch, reset offset, stats, ...)
//! are `protocol::body` types; the client converts them to its domain types where it uses
//! them ([`crate::MessageQueue`] has `From` conversions both ways).
//!
//! TODO(protocol): the typed send/pull headers (`protocol::header::{send, pull}`) are not
//! used yet: the client writes ext keys by name (names from the compat spec B.4).

use std::collections::BTreeMap;

use bytes::Bytes;
use protocol::body::route::JsonBody;
use protocol::command::ExtFields;
use protocol::RemotingCommand;

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

/// Parses a JSON body of a type of our own, tolerating fastjson's object and numeric map
/// keys (read back with [`queue_keyed`]).
///
/// # Errors
/// [`ClientError::Decode`] naming `what`.
pub fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T> {
    protocol::body::fastjson::decode_lenient(body, what)
        .map_err(|error| ClientError::decode(what, error))
}

/// Parses a `protocol` body (lenient, as the protocol crate reads it).
///
/// # Errors
/// [`ClientError::Decode`] naming the body.
pub fn decode_json<T: JsonBody>(body: &[u8]) -> Result<T> {
    T::decode(body).map_err(|error| ClientError::decode(T::WHAT, error))
}

/// Encodes a `protocol` body.
///
/// # Errors
/// [`ClientError::InvalidArgument`] naming the body if it is not serializable (not
/// expected for these plain data types).
pub fn encode_json<T: JsonBody>(body: &T) -> Result<Bytes> {
    body.to_bytes().map_err(|error| {
        ClientError::InvalidArgument(format!("cannot encode {}: {error}", T::WHAT))
    })
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

    use protocol::body::heartbeat::{HeartbeatData, ProducerData};
    use protocol::body::stats::ResetOffsetBody;

    #[test]
    fn heartbeat_json_shape() {
        let data = HeartbeatData {
            client_id: "127.0.0.1@1".into(),
            producer_data_set: vec![ProducerData {
                group_name: "pg".into(),
            }],
            ..HeartbeatData::default()
        };
        let text = String::from_utf8(encode_json(&data).unwrap().to_vec()).unwrap();
        assert!(text.contains(r#""clientID":"127.0.0.1@1""#), "{text}");
        assert!(
            text.contains(r#""producerDataSet":[{"groupName":"pg"}]"#),
            "{text}"
        );
    }

    #[test]
    fn reset_offset_body_parses_object_keys() {
        let text = br#"{"offsetTable":{{"brokerName":"b","queueId":3,"topic":"T"}:42}}"#;
        let body: ResetOffsetBody = decode_json(text).unwrap();
        let queues: Vec<(MessageQueue, i64)> = body
            .offset_table
            .into_iter()
            .map(|(queue, offset)| (queue.into(), offset))
            .collect();
        assert_eq!(queues, [(MessageQueue::new("T", "b", 3), 42)]);
    }
}
