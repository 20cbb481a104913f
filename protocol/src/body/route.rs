//! Name-server bodies: routes, cluster info, topic lists, KV tables, data versions, topic
//! configs and the REGISTER_BROKER body (`remoting/protocol/route/*.java`,
//! `remoting/protocol/body/{ClusterInfo,TopicList,KVTable,RegisterBrokerBody,
//! TopicConfigSerializeWrapper,TopicConfigAndMappingSerializeWrapper}.java`,
//! `remoting/protocol/DataVersion.java`, `common/TopicConfig.java`).
//!
//! Written the way fastjson writes them with `MapSortField`: keys in alphabetical order
//! (the struct fields are declared in that order), nulls omitted, no whitespace, and map
//! keys always quoted — `"brokerAddrs":{"0":"10.0.0.5:10911"}` — because the Go client
//! reads the route as text and standard JSON readers refuse `{0:"…"}`. Read leniently:
//! fastjson's unquoted numeric keys, numbers as strings, `null` for empty, unknown keys.
//!
//! ```text
//! {"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.5:10911","1":"10.0.0.6:10911"},
//!   "brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],
//!  "filterServerTable":{},
//!  "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,
//!   "writeQueueNums":8}]}
//! ```
//!
//! Layout: [`json`] (codec trait, numeric-key quoting, lenient fields), [`topic_config`]
//! (`TopicConfig` and its wrappers), [`register`] (`RegisterBrokerBody`, JSON and the
//! zlib-compressed binary form, `bodyCrc32`).

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod json;
mod register;
mod topic_config;

#[cfg(test)]
mod tests;

pub use json::{decode_json, quote_numeric_keys, JsonBody};
pub use register::{body_crc32, RegisterBrokerBody, INFLATED_BYTES_MAX_DEFAULT};
pub use topic_config::{
    TopicConfig, TopicConfigAndMappingSerializeWrapper, TopicConfigSerializeWrapper,
    TopicFilterType,
};

use json::{lenient_bool, lenient_i32, lenient_i64, null_as_default};

/// The broker id of a master (`MixAll.MASTER_ID`); slaves have ids ≥ 1.
pub const MASTER_ID: i64 = 0;

/// The template topic brokers register so producers can auto-create topics
/// (`TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC`).
pub const AUTO_CREATE_TOPIC_KEY_TOPIC: &str = "TBW102";

/// The KV namespace whose values become a route's `orderTopicConf`
/// (`NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`).
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// Topic and queue permission bits (`PermName.java`).
pub mod perm {
    pub const PRIORITY: i32 = 0x8;
    pub const READ: i32 = 0x4;
    pub const WRITE: i32 = 0x2;
    pub const INHERIT: i32 = 0x1;

    #[must_use]
    pub fn is_readable(perm: i32) -> bool {
        perm & READ == READ
    }

    #[must_use]
    pub fn is_writeable(perm: i32) -> bool {
        perm & WRITE == WRITE
    }

    /// `PermName.perm2String`: `R`, `W`, `X` (inherit) or `-` for each bit.
    #[must_use]
    pub fn to_letters(perm: i32) -> String {
        let mut letters = String::with_capacity(3);
        letters.push(if is_readable(perm) { 'R' } else { '-' });
        letters.push(if is_writeable(perm) { 'W' } else { '-' });
        letters.push(if perm & INHERIT == INHERIT { 'X' } else { '-' });
        letters
    }
}

/// Topic system flag bits (`TopicSysFlag.java`).
pub mod topic_sys_flag {
    pub const UNIT: i32 = 0x1;
    pub const UNIT_SUB: i32 = 0x2;

    #[must_use]
    pub fn has_unit(flag: i32) -> bool {
        flag & UNIT == UNIT
    }

    #[must_use]
    pub fn has_unit_sub(flag: i32) -> bool {
        flag & UNIT_SUB == UNIT_SUB
    }
}

/// `DataVersion`: a broker's topic-config version; equal only if all three fields are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataVersion {
    #[serde(default, deserialize_with = "lenient_i64")]
    pub counter: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub state_version: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub timestamp: i64,
}

impl JsonBody for DataVersion {
    const WHAT: &'static str = "DataVersion";
}

/// `QueueData`: one broker's queues of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueData {
    #[serde(default, deserialize_with = "null_as_default")]
    pub broker_name: String,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub perm: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub read_queue_nums: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub topic_sys_flag: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub write_queue_nums: i32,
}

/// `BrokerData`: a broker name's addresses by broker id (0 = master).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerData {
    /// Broker id → `ip:port`, written with quoted keys (`{"0":"ip:port"}`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub broker_addrs: BTreeMap<i64, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub broker_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_acting_master: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

/// `TopicRouteData`: what GET_ROUTEINFO_BY_TOPIC answers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRouteData {
    #[serde(default, deserialize_with = "null_as_default")]
    pub broker_datas: Vec<BrokerData>,
    /// Broker address → filter servers (always written, usually `{}`).
    #[serde(default, deserialize_with = "filter_server_table")]
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    /// The ORDER_TOPIC_CONFIG KV value for the topic (`brokerName:queueNums;…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub queue_datas: Vec<QueueData>,
    /// Static-topic mapping (5.x), kept opaque: broker name → `TopicQueueMappingInfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_by_broker: Option<BTreeMap<String, serde_json::Value>>,
}

impl JsonBody for TopicRouteData {
    const WHAT: &'static str = "TopicRouteData";
}

fn filter_server_table<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let table: Option<BTreeMap<String, Option<Vec<String>>>> = Option::deserialize(deserializer)?;
    Ok(table
        .unwrap_or_default()
        .into_iter()
        .map(|(address, servers)| (address, servers.unwrap_or_default()))
        .collect())
}

/// `ClusterInfo`: GET_BROKER_CLUSTER_INFO's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Broker name → broker data.
    #[serde(default, deserialize_with = "null_as_default")]
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// Cluster name → broker names.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

impl JsonBody for ClusterInfo {
    const WHAT: &'static str = "ClusterInfo";
}

/// `TopicList`: the topic-list answers (206, 224, 304, 311–313).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_list: BTreeSet<String>,
}

impl JsonBody for TopicList {
    const WHAT: &'static str = "TopicList";
}

/// `KVTable`: `{"table":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KvTable {
    #[serde(default, deserialize_with = "null_as_default")]
    pub table: BTreeMap<String, String>,
}

impl JsonBody for KvTable {
    const WHAT: &'static str = "KVTable";
}
