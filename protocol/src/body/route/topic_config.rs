//! `TopicConfig` (JSON and the space-separated text form of the compressed register body)
//! and the wrappers that carry a broker's topic table: `TopicConfigSerializeWrapper` and
//! `TopicConfigAndMappingSerializeWrapper` (GET_ALL_TOPIC_CONFIG, REGISTER_BROKER).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json::{lenient_bool, lenient_i32, null_as_default, JsonBody};
use super::{perm, DataVersion};
use crate::WireError;

/// `TopicFilterType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TopicFilterType {
    #[default]
    #[serde(rename = "SINGLE_TAG")]
    SingleTag,
    #[serde(rename = "MULTI_TAG")]
    MultiTag,
}

impl TopicFilterType {
    /// The Java enum name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TopicFilterType::SingleTag => "SINGLE_TAG",
            TopicFilterType::MultiTag => "MULTI_TAG",
        }
    }

    /// Parses the Java enum name.
    ///
    /// # Errors
    /// [`WireError::InvalidField`] for any other text.
    pub fn from_name(name: &str) -> Result<TopicFilterType, WireError> {
        match name {
            "SINGLE_TAG" => Ok(TopicFilterType::SingleTag),
            "MULTI_TAG" => Ok(TopicFilterType::MultiTag),
            other => Err(WireError::InvalidField {
                field: "topicFilterType",
                value: other.to_owned(),
                reason: "not SINGLE_TAG or MULTI_TAG",
            }),
        }
    }
}

/// `TopicConfig` (defaults: 16 read / 16 write queues, perm RW, `SINGLE_TAG`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfig {
    #[serde(default, deserialize_with = "null_as_default")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub order: bool,
    #[serde(default = "default_perm", deserialize_with = "lenient_i32")]
    pub perm: i32,
    #[serde(default = "default_queue_nums", deserialize_with = "lenient_i32")]
    pub read_queue_nums: i32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_filter_type: TopicFilterType,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_name: String,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub topic_sys_flag: i32,
    #[serde(default = "default_queue_nums", deserialize_with = "lenient_i32")]
    pub write_queue_nums: i32,
}

/// `TopicConfig.defaultReadQueueNums` / `defaultWriteQueueNums`.
pub const TOPIC_QUEUE_NUMS_DEFAULT: i32 = 16;

fn default_perm() -> i32 {
    perm::READ | perm::WRITE
}

fn default_queue_nums() -> i32 {
    TOPIC_QUEUE_NUMS_DEFAULT
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            attributes: BTreeMap::new(),
            order: false,
            perm: default_perm(),
            read_queue_nums: TOPIC_QUEUE_NUMS_DEFAULT,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_name: String::new(),
            topic_sys_flag: 0,
            write_queue_nums: TOPIC_QUEUE_NUMS_DEFAULT,
        }
    }
}

impl TopicConfig {
    /// A topic with the given queue counts and permission, other fields default.
    #[must_use]
    pub fn new(topic_name: impl Into<String>, queue_nums: i32, perm: i32) -> TopicConfig {
        TopicConfig {
            topic_name: topic_name.into(),
            read_queue_nums: queue_nums,
            write_queue_nums: queue_nums,
            perm,
            ..TopicConfig::default()
        }
    }

    /// `TopicConfig.encode()`: `name SP readQ SP writeQ SP perm SP filterType SP attributes`,
    /// the per-topic text of the compressed register body. `topicSysFlag` and `order` are
    /// not carried.
    pub fn encode_text(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{} {} {} {} {} ",
            self.topic_name,
            self.read_queue_nums,
            self.write_queue_nums,
            self.perm,
            self.topic_filter_type.name()
        );
        let attributes = serde_json::to_string(&self.attributes).unwrap_or_default();
        out.push_str(&attributes);
    }

    /// `TopicConfig.decode(String)`: at least five space-separated fields; the attributes
    /// JSON is optional and, as in Java, ignored when it does not parse.
    ///
    /// # Errors
    /// Fewer than five fields, a non-numeric count or permission, an unknown filter type.
    pub fn decode_text(text: &str) -> Result<TopicConfig, WireError> {
        let mut parts = text.splitn(6, ' ');
        let mut next = |field: &'static str| {
            parts
                .next()
                .filter(|part| !part.is_empty())
                .ok_or(WireError::Malformed {
                    what: "topic config text",
                    reason: field,
                })
        };
        let topic_name = next("topic name missing")?.to_owned();
        let read_queue_nums = parse_int("readQueueNums", next("readQueueNums missing")?)?;
        let write_queue_nums = parse_int("writeQueueNums", next("writeQueueNums missing")?)?;
        let perm = parse_int("perm", next("perm missing")?)?;
        let topic_filter_type = TopicFilterType::from_name(next("topicFilterType missing")?)?;
        let attributes = next("")
            .ok()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        Ok(TopicConfig {
            attributes,
            order: false,
            perm,
            read_queue_nums,
            topic_filter_type,
            topic_name,
            topic_sys_flag: 0,
            write_queue_nums,
        })
    }
}

fn parse_int(field: &'static str, text: &str) -> Result<i32, WireError> {
    text.parse().map_err(|_| WireError::InvalidField {
        field,
        value: text.to_owned(),
        reason: "not an int",
    })
}

/// `TopicConfigSerializeWrapper`: `{"dataVersion":…,"topicConfigTable":{topic: config}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfigSerializeWrapper {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data_version: DataVersion,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// The `GET_TOPIC_CONFIG` (351) answer (`TopicConfigAndQueueMapping` without a mapping).
impl JsonBody for TopicConfig {
    const WHAT: &'static str = "TopicConfig";
}

impl JsonBody for TopicConfigSerializeWrapper {
    const WHAT: &'static str = "TopicConfigSerializeWrapper";
}

/// `TopicConfigAndMappingSerializeWrapper`: the topic table plus static-topic mappings
/// (kept as opaque JSON; static topics are not supported here).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfigAndMappingSerializeWrapper {
    #[serde(default, deserialize_with = "null_as_default")]
    pub data_version: DataVersion,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mapping_data_version: DataVersion,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_config_table: BTreeMap<String, TopicConfig>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_queue_mapping_detail_map: BTreeMap<String, serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_queue_mapping_info_map: BTreeMap<String, serde_json::Value>,
}

impl JsonBody for TopicConfigAndMappingSerializeWrapper {
    const WHAT: &'static str = "TopicConfigAndMappingSerializeWrapper";
}
