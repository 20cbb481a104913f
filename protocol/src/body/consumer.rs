//! Consumer and connection bodies: `GET_CONSUMER_LIST_BY_GROUP` (38) →
//! [`ConsumerListBody`], `GET_CONSUMER_CONNECTION_LIST` (203) → [`ConsumerConnection`],
//! `GET_PRODUCER_CONNECTION_LIST` (204) → [`ProducerConnection`],
//! `QUERY_TOPIC_CONSUME_BY_WHO` (300) → [`GroupList`].

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::fastjson::lenient_json_body;
use super::heartbeat::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use super::lenient::{self, Scalar};
use crate::code::LanguageCode;

/// `GetConsumerListByGroupResponseBody`: `{"consumerIdList":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConsumerListBody {
    #[serde(
        rename = "consumerIdList",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub consumer_id_list: Vec<String>,
}

/// `Connection`: one client connection of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    #[serde(
        rename = "clientAddr",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub client_addr: String,
    #[serde(
        rename = "clientId",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub client_id: String,
    /// Written as the Java enum name; read as a name or an ordinal.
    #[serde(
        default = "language_other",
        serialize_with = "serialize_language",
        deserialize_with = "deserialize_language"
    )]
    pub language: LanguageCode,
    /// The client's `MQVersion` ordinal.
    #[serde(default, deserialize_with = "lenient::int")]
    pub version: i32,
}

fn language_other() -> LanguageCode {
    LanguageCode::OTHER
}

fn serialize_language<S: Serializer>(
    language: &LanguageCode,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(language.name())
}

fn deserialize_language<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<LanguageCode, D::Error> {
    Ok(match Scalar::deserialize(deserializer)? {
        Scalar::Text(name) => LanguageCode::from_name(name.trim()),
        Scalar::Integer(ordinal) => u8::try_from(ordinal).map_or(LanguageCode::OTHER, LanguageCode),
        Scalar::Bool(_) | Scalar::Null | Scalar::Other => LanguageCode::OTHER,
    })
}

/// `ConsumerConnection`: a consumer group's connections and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConsumerConnection {
    #[serde(
        rename = "connectionSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub connection_set: Vec<Connection>,
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
        rename = "messageModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_model: Option<MessageModel>,
    /// Topic → subscription.
    #[serde(
        rename = "subscriptionTable",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}

/// `ProducerConnection`: a producer group's connections.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProducerConnection {
    #[serde(
        rename = "connectionSet",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub connection_set: Vec<Connection>,
}

/// `GroupList`: `{"groupList":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupList {
    #[serde(
        rename = "groupList",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub group_list: Vec<String>,
}

lenient_json_body!(
    ConsumerListBody,
    ConsumerConnection,
    ProducerConnection,
    GroupList
);
