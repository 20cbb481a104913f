//! `HEART_BEAT` (34) body: `HeartbeatData` with its producer and consumer groups and their
//! subscriptions (`remoting/protocol/heartbeat/*.java`).
//!
//! Written fastjson-style (alphabetical keys, nulls omitted). Read leniently, as the real
//! clients send it:
//!
//! - enums by name (`"CONSUME_PASSIVELY"`, any case: Go writes `"Clustering"`) or by ordinal
//!   (ConsumeType 0/1/2, MessageModel 0 = BROADCASTING / 1 = CLUSTERING, ConsumeFromWhere
//!   0 = LAST_OFFSET, 4 = FIRST_OFFSET, 5 = TIMESTAMP);
//! - `subVersion` as a number or a string, parsed as `i64` (Go's 19-digit nanoseconds);
//! - `codeSet` elements as numbers or strings;
//! - `tagsSet`, `codeSet`, `producerDataSet`, `consumerDataSet` missing or `null` = empty;
//! - the C++ client's omitted defaults (`unitMode`, `classFilterMode`, `expressionType`);
//! - unknown keys, any key order, a trailing `\n`.
//!
//! The C++ client posts `codeSet: [0]` for tag subscriptions: filter by the subscription
//! string, not by the posted codes ([`SubscriptionData::from_expression`] rebuilds them).

use serde::{Deserialize, Serialize};

use super::fastjson::lenient_json_body;
use super::lenient::{self, json_enum};
use crate::message::java_string_hash;

json_enum! {
    /// `ConsumeType`: pull (actively), push (passively), pop.
    pub enum ConsumeType {
        ConsumeActively = "CONSUME_ACTIVELY",
        ConsumePassively = "CONSUME_PASSIVELY",
        ConsumePop = "CONSUME_POP",
    }
}

json_enum! {
    /// `MessageModel`. Ordinals: 0 = BROADCASTING, 1 = CLUSTERING.
    pub enum MessageModel {
        Broadcasting = "BROADCASTING",
        Clustering = "CLUSTERING",
    }
}

json_enum! {
    /// `ConsumeFromWhere`, including the deprecated values (for their ordinals).
    pub enum ConsumeFromWhere {
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        /// Deprecated.
        ConsumeFromLastOffsetAndFromMinWhenBootFirst =
            "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        /// Deprecated.
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        /// Deprecated.
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
}

/// `expressionType` values (`ExpressionType.java`).
pub mod expression_type {
    /// Tag expression: `*` or `A || B`.
    pub const TAG: &str = "TAG";
    /// SQL92 over message properties.
    pub const SQL92: &str = "SQL92";
}

/// The subscription string that matches every tag.
pub const SUB_ALL: &str = "*";

fn default_expression_type() -> String {
    expression_type::TAG.to_owned()
}

/// `SubscriptionData`: one topic a consumer group subscribes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionData {
    #[serde(
        rename = "classFilterMode",
        default,
        deserialize_with = "lenient::boolean"
    )]
    pub class_filter_mode: bool,
    /// Java `hashCode` of each tag.
    #[serde(rename = "codeSet", default, deserialize_with = "lenient::int_list")]
    pub code_set: Vec<i32>,
    /// `TAG` (default) or `SQL92`.
    #[serde(
        rename = "expressionType",
        default = "default_expression_type",
        deserialize_with = "expression_type_or_default"
    )]
    pub expression_type: String,
    #[serde(
        rename = "subString",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub sub_string: String,
    #[serde(rename = "subVersion", default, deserialize_with = "lenient::long")]
    pub sub_version: i64,
    #[serde(
        rename = "tagsSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub tags_set: Vec<String>,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub topic: String,
}

fn expression_type_or_default<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?
        .filter(|text| !text.is_empty())
        .unwrap_or_else(default_expression_type))
}

impl SubscriptionData {
    /// Builds a tag subscription like `FilterAPI.buildSubscriptionData`: empty or `*` is
    /// subscribe-all; otherwise the `||`-separated tags, each trimmed, empty ones skipped,
    /// with their Java hash codes.
    #[must_use]
    pub fn from_expression(topic: &str, sub_string: &str, sub_version: i64) -> Self {
        let mut data = SubscriptionData {
            class_filter_mode: false,
            code_set: Vec::new(),
            expression_type: default_expression_type(),
            sub_string: sub_string.to_owned(),
            sub_version,
            tags_set: Vec::new(),
            topic: topic.to_owned(),
        };
        if sub_string.is_empty() || sub_string == SUB_ALL {
            SUB_ALL.clone_into(&mut data.sub_string);
            return data;
        }
        for tag in sub_string
            .split("||")
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
        {
            if !data.tags_set.iter().any(|known| known == tag) {
                data.tags_set.push(tag.to_owned());
                data.code_set.push(java_string_hash(tag));
            }
        }
        data
    }

    /// True for `*` (or an empty tag expression).
    #[must_use]
    pub fn is_subscribe_all(&self) -> bool {
        self.expression_type
            .eq_ignore_ascii_case(expression_type::TAG)
            && (self.sub_string.is_empty() || self.sub_string.trim() == SUB_ALL)
    }
}

/// `ProducerData`: a producer group on this client.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProducerData {
    #[serde(
        rename = "groupName",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub group_name: String,
}

/// `ConsumerData`: a consumer group on this client. The enums are `None` when absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConsumerData {
    #[serde(
        rename = "consumeFromWhere",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consume_from_where: Option<ConsumeFromWhere>,
    #[serde(
        rename = "consumeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consume_type: Option<ConsumeType>,
    #[serde(
        rename = "groupName",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub group_name: String,
    #[serde(
        rename = "messageModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_model: Option<MessageModel>,
    #[serde(
        rename = "subscriptionDataSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub subscription_data_set: Vec<SubscriptionData>,
    #[serde(rename = "unitMode", default, deserialize_with = "lenient::boolean")]
    pub unit_mode: bool,
}

/// `HeartbeatData`, the `HEART_BEAT` request body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HeartbeatData {
    #[serde(
        rename = "clientID",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub client_id: String,
    #[serde(
        rename = "consumerDataSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub consumer_data_set: Vec<ConsumerData>,
    /// 0 = a v1 full heartbeat.
    #[serde(
        rename = "heartbeatFingerprint",
        default,
        deserialize_with = "lenient::int"
    )]
    pub heartbeat_fingerprint: i32,
    #[serde(
        rename = "producerDataSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub producer_data_set: Vec<ProducerData>,
    /// Heartbeat v2: the subscriptions are unchanged and left out.
    #[serde(rename = "withoutSub", default, deserialize_with = "lenient::boolean")]
    pub without_sub: bool,
}

lenient_json_body!(HeartbeatData);
