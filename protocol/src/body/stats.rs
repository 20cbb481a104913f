//! Offset and statistics bodies keyed by `MessageQueue`: `GET_CONSUME_STATS` (208) →
//! [`ConsumeStats`], `GET_TOPIC_STATS_INFO` (202) → [`TopicStatsTable`],
//! `INVOKE_BROKER_TO_RESET_OFFSET` (222) → [`ResetOffsetBody`]; and
//! `GET_ALL_CONSUMER_OFFSET` (43) → [`ConsumerOffsetSerializeWrapper`].
//!
//! The Java broker writes the `MessageQueue`-keyed maps with fastjson's object keys and
//! `mqadmin` reads them with fastjson, which refuses a string key for an object-typed key.
//! So [`JsonBody::encode`] writes that form, as observed from a Java broker:
//!
//! ```text
//! {"offsetTable":{{"brokerName":"broker-a","queueId":2,"topic":"test"}:
//!   {"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0},...},"topicPutTps":0.0}
//! ```
//!
//! `serde::Serialize` gives the standard-JSON form instead (each key the `MessageQueue`
//! JSON text as a string), and decoding accepts both.

use bytes::{BufMut, BytesMut};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::fastjson::{decode_lenient, lenient_json_body};
use super::lenient;
use super::message_queue::MessageQueue;
use super::route::{DataVersion, JsonBody};
use crate::command::put_json_string;
use crate::WireError;

/// `OffsetWrapper`: one queue of a consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OffsetWrapper {
    #[serde(rename = "brokerOffset", default, deserialize_with = "lenient::long")]
    pub broker_offset: i64,
    #[serde(rename = "consumerOffset", default, deserialize_with = "lenient::long")]
    pub consumer_offset: i64,
    /// Store time (ms) of the last consumed message.
    #[serde(rename = "lastTimestamp", default, deserialize_with = "lenient::long")]
    pub last_timestamp_ms: i64,
    #[serde(rename = "pullOffset", default, deserialize_with = "lenient::long")]
    pub pull_offset: i64,
}

/// `TopicOffset`: one queue of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TopicOffset {
    /// Store time (ms) of the newest message.
    #[serde(
        rename = "lastUpdateTimestamp",
        default,
        deserialize_with = "lenient::long"
    )]
    pub last_update_timestamp_ms: i64,
    #[serde(rename = "maxOffset", default, deserialize_with = "lenient::long")]
    pub max_offset: i64,
    #[serde(rename = "minOffset", default, deserialize_with = "lenient::long")]
    pub min_offset: i64,
}

/// A map value written by hand in the fastjson form (alphabetical keys, no nulls).
trait PutJson {
    fn put_json(&self, out: &mut BytesMut);
}

impl PutJson for i64 {
    fn put_json(&self, out: &mut BytesMut) {
        put_display(out, self);
    }
}

impl PutJson for OffsetWrapper {
    fn put_json(&self, out: &mut BytesMut) {
        out.put_slice(b"{\"brokerOffset\":");
        put_display(out, &self.broker_offset);
        out.put_slice(b",\"consumerOffset\":");
        put_display(out, &self.consumer_offset);
        out.put_slice(b",\"lastTimestamp\":");
        put_display(out, &self.last_timestamp_ms);
        out.put_slice(b",\"pullOffset\":");
        put_display(out, &self.pull_offset);
        out.put_u8(b'}');
    }
}

impl PutJson for TopicOffset {
    fn put_json(&self, out: &mut BytesMut) {
        out.put_slice(b"{\"lastUpdateTimestamp\":");
        put_display(out, &self.last_update_timestamp_ms);
        out.put_slice(b",\"maxOffset\":");
        put_display(out, &self.max_offset);
        out.put_slice(b",\"minOffset\":");
        put_display(out, &self.min_offset);
        out.put_u8(b'}');
    }
}

fn put_display(out: &mut BytesMut, value: &impl std::fmt::Display) {
    // Writing into memory cannot fail.
    let _ = write!(out, "{value}");
}

/// A Java `double`: `0.0` style; non-finite values (not JSON) are written as `0.0`.
fn put_double(out: &mut BytesMut, value: f64) {
    let value = if value.is_finite() { value } else { 0.0 };
    let _ = write!(out, "{value:?}");
}

fn put_message_queue(out: &mut BytesMut, queue: &MessageQueue) {
    out.put_slice(b"{\"brokerName\":");
    put_json_string(out, &queue.broker_name);
    out.put_slice(b",\"queueId\":");
    put_display(out, &queue.queue_id);
    out.put_slice(b",\"topic\":");
    put_json_string(out, &queue.topic);
    out.put_u8(b'}');
}

/// `{MessageQueue:V,...}` with object keys.
fn put_queue_map<V: PutJson>(out: &mut BytesMut, map: &BTreeMap<MessageQueue, V>) {
    out.put_u8(b'{');
    for (index, (queue, value)) in map.iter().enumerate() {
        if index > 0 {
            out.put_u8(b',');
        }
        put_message_queue(out, queue);
        out.put_u8(b':');
        value.put_json(out);
    }
    out.put_u8(b'}');
}

/// Serializes a queue-keyed map with each key as the `MessageQueue` JSON text.
fn serialize_queue_map<S: Serializer, V: Serialize>(
    map: &BTreeMap<MessageQueue, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut out = serializer.serialize_map(Some(map.len()))?;
    for (queue, value) in map {
        let mut key = BytesMut::new();
        put_message_queue(&mut key, queue);
        out.serialize_entry(&String::from_utf8_lossy(&key), value)?;
    }
    out.end()
}

/// Reads a queue-keyed map whose keys are `MessageQueue` JSON texts (as [`quote_keys`]
/// leaves them).
///
/// [`quote_keys`]: super::fastjson::quote_keys
fn deserialize_queue_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<MessageQueue, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    let raw: Option<BTreeMap<String, V>> = Option::deserialize(deserializer)?;
    raw.unwrap_or_default()
        .into_iter()
        .map(|(key, value)| {
            serde_json::from_str::<MessageQueue>(&key)
                .map(|queue| (queue, value))
                .map_err(|error| {
                    de::Error::custom(format!("bad MessageQueue key {key:?}: {error}"))
                })
        })
        .collect()
}

/// `ConsumeStats`: a consumer group's progress per queue.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ConsumeStats {
    #[serde(rename = "consumeTps", default, deserialize_with = "lenient::double")]
    pub consume_tps: f64,
    #[serde(
        rename = "offsetTable",
        default,
        deserialize_with = "deserialize_queue_map"
    )]
    pub offset_table: BTreeMap<MessageQueue, OffsetWrapper>,
}

impl ConsumeStats {
    /// `computeTotalDiff`: Σ (brokerOffset − consumerOffset), the group's lag.
    #[must_use]
    pub fn total_diff(&self) -> i64 {
        self.offset_table
            .values()
            .map(|offsets| {
                offsets
                    .broker_offset
                    .saturating_sub(offsets.consumer_offset)
            })
            .fold(0, i64::saturating_add)
    }
}

impl Serialize for ConsumeStats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Table<'a>(&'a BTreeMap<MessageQueue, OffsetWrapper>);
        impl Serialize for Table<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_queue_map(self.0, serializer)
            }
        }
        let mut out = serializer.serialize_struct("ConsumeStats", 2)?;
        out.serialize_field("consumeTps", &self.consume_tps)?;
        out.serialize_field("offsetTable", &Table(&self.offset_table))?;
        out.end()
    }
}

impl JsonBody for ConsumeStats {
    const WHAT: &'static str = "ConsumeStats";

    fn encode(&self, out: &mut BytesMut) -> Result<(), WireError> {
        out.put_slice(b"{\"consumeTps\":");
        put_double(out, self.consume_tps);
        out.put_slice(b",\"offsetTable\":");
        put_queue_map(out, &self.offset_table);
        out.put_u8(b'}');
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        decode_lenient(bytes, Self::WHAT)
    }
}

/// `TopicStatsTable`: a topic's offsets per queue on one broker.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct TopicStatsTable {
    #[serde(
        rename = "offsetTable",
        default,
        deserialize_with = "deserialize_queue_map"
    )]
    pub offset_table: BTreeMap<MessageQueue, TopicOffset>,
    #[serde(rename = "topicPutTps", default, deserialize_with = "lenient::double")]
    pub topic_put_tps: f64,
}

impl Serialize for TopicStatsTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Table<'a>(&'a BTreeMap<MessageQueue, TopicOffset>);
        impl Serialize for Table<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_queue_map(self.0, serializer)
            }
        }
        let mut out = serializer.serialize_struct("TopicStatsTable", 2)?;
        out.serialize_field("offsetTable", &Table(&self.offset_table))?;
        out.serialize_field("topicPutTps", &self.topic_put_tps)?;
        out.end()
    }
}

impl JsonBody for TopicStatsTable {
    const WHAT: &'static str = "TopicStatsTable";

    fn encode(&self, out: &mut BytesMut) -> Result<(), WireError> {
        out.put_slice(b"{\"offsetTable\":");
        put_queue_map(out, &self.offset_table);
        out.put_slice(b",\"topicPutTps\":");
        put_double(out, self.topic_put_tps);
        out.put_u8(b'}');
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        decode_lenient(bytes, Self::WHAT)
    }
}

/// `ResetOffsetBody`: the offsets a reset moved each queue to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ResetOffsetBody {
    #[serde(
        rename = "offsetTable",
        default,
        deserialize_with = "deserialize_queue_map"
    )]
    pub offset_table: BTreeMap<MessageQueue, i64>,
}

impl Serialize for ResetOffsetBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Table<'a>(&'a BTreeMap<MessageQueue, i64>);
        impl Serialize for Table<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_queue_map(self.0, serializer)
            }
        }
        let mut out = serializer.serialize_struct("ResetOffsetBody", 1)?;
        out.serialize_field("offsetTable", &Table(&self.offset_table))?;
        out.end()
    }
}

impl JsonBody for ResetOffsetBody {
    const WHAT: &'static str = "ResetOffsetBody";

    fn encode(&self, out: &mut BytesMut) -> Result<(), WireError> {
        out.put_slice(b"{\"offsetTable\":");
        put_queue_map(out, &self.offset_table);
        out.put_u8(b'}');
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        decode_lenient(bytes, Self::WHAT)
    }
}

/// `ConsumerOffsetSerializeWrapper` (`GET_ALL_CONSUMER_OFFSET`, and the layout of
/// `consumerOffset.json`): `"topic@group"` → queue id → offset. fastjson writes the queue
/// ids unquoted (`{0:12}`); we write them quoted, which fastjson also reads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConsumerOffsetSerializeWrapper {
    #[serde(
        rename = "dataVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub data_version: Option<DataVersion>,
    #[serde(
        rename = "offsetTable",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

lenient_json_body!(ConsumerOffsetSerializeWrapper);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_are_written_java_style() {
        let mut out = BytesMut::new();
        put_double(&mut out, 0.0);
        out.put_u8(b' ');
        put_double(&mut out, 12.5);
        out.put_u8(b' ');
        put_double(&mut out, f64::NAN);
        assert_eq!(&out[..], b"0.0 12.5 0.0");
    }

    #[test]
    fn total_diff_saturates() {
        let mut stats = ConsumeStats::default();
        stats.offset_table.insert(
            MessageQueue::new("T", "b", 0),
            OffsetWrapper {
                broker_offset: 10,
                consumer_offset: 4,
                ..OffsetWrapper::default()
            },
        );
        stats.offset_table.insert(
            MessageQueue::new("T", "b", 1),
            OffsetWrapper {
                broker_offset: i64::MAX,
                consumer_offset: -5,
                ..OffsetWrapper::default()
            },
        );
        assert_eq!(stats.total_diff(), i64::MAX);
    }
}
