//! Subscription-group bodies: `UPDATE_AND_CREATE_SUBSCRIPTIONGROUP` (200) carries a
//! [`SubscriptionGroupConfig`]; `GET_ALL_SUBSCRIPTIONGROUP_CONFIG` (201) answers a
//! [`SubscriptionGroupWrapper`] (`remoting/protocol/subscription/*.java`,
//! `body/SubscriptionGroupWrapper.java`).
//!
//! Absent keys take the Java field initializers (a 4.x peer sends no `groupRetryPolicy`,
//! `attributes` or `subscriptionDataSet`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::fastjson::lenient_json_body;
use super::lenient::{self, json_enum};
use super::route::DataVersion;

json_enum! {
    /// `GroupRetryPolicyType`.
    pub enum GroupRetryPolicyType {
        Exponential = "EXPONENTIAL",
        Customized = "CUSTOMIZED",
    }
}

/// The delays of the 18 delay levels in ms: `1s 5s 10s 30s 1m 2m … 10m 20m 30m 1h 2h`.
pub const CUSTOMIZED_RETRY_DELAYS_MS: [i64; 18] = [
    1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000,
    480_000, 540_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000,
];

/// `CustomizedRetryPolicy`: the delay before retry *n* is `next[n]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomizedRetryPolicy {
    #[serde(default = "default_next", deserialize_with = "long_list")]
    pub next: Vec<i64>,
}

fn default_next() -> Vec<i64> {
    CUSTOMIZED_RETRY_DELAYS_MS.to_vec()
}

fn long_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    struct LongElement(i64);
    impl<'de> Deserialize<'de> for LongElement {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            lenient::long(deserializer).map(LongElement)
        }
    }
    let elements: Option<Vec<LongElement>> = Option::deserialize(deserializer)?;
    Ok(elements.map_or_else(default_next, |list| list.into_iter().map(|e| e.0).collect()))
}

impl Default for CustomizedRetryPolicy {
    fn default() -> Self {
        CustomizedRetryPolicy {
            next: default_next(),
        }
    }
}

/// `ExponentialRetryPolicy`: `min(initial * multiplier^n, max)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExponentialRetryPolicy {
    #[serde(default = "default_initial_ms", deserialize_with = "lenient::long")]
    pub initial: i64,
    #[serde(default = "default_max_ms", deserialize_with = "lenient::long")]
    pub max: i64,
    #[serde(default = "default_multiplier", deserialize_with = "lenient::long")]
    pub multiplier: i64,
}

fn default_initial_ms() -> i64 {
    5_000
}

fn default_max_ms() -> i64 {
    7_200_000
}

fn default_multiplier() -> i64 {
    2
}

impl Default for ExponentialRetryPolicy {
    fn default() -> Self {
        ExponentialRetryPolicy {
            initial: default_initial_ms(),
            max: default_max_ms(),
            multiplier: default_multiplier(),
        }
    }
}

/// `GroupRetryPolicy`; Java's default is `{"type":"CUSTOMIZED"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRetryPolicy {
    #[serde(
        rename = "customizedRetryPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub customized_retry_policy: Option<CustomizedRetryPolicy>,
    #[serde(
        rename = "exponentialRetryPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exponential_retry_policy: Option<ExponentialRetryPolicy>,
    #[serde(
        rename = "type",
        default = "customized",
        deserialize_with = "policy_type"
    )]
    pub policy_type: GroupRetryPolicyType,
}

fn customized() -> GroupRetryPolicyType {
    GroupRetryPolicyType::Customized
}

fn policy_type<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<GroupRetryPolicyType, D::Error> {
    Ok(Option::<GroupRetryPolicyType>::deserialize(deserializer)?.unwrap_or_else(customized))
}

impl Default for GroupRetryPolicy {
    fn default() -> Self {
        GroupRetryPolicy {
            customized_retry_policy: None,
            exponential_retry_policy: None,
            policy_type: customized(),
        }
    }
}

/// `SimpleSubscriptionData` (5.x).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SimpleSubscriptionData {
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub expression: String,
    #[serde(
        rename = "expressionType",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub expression_type: String,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub topic: String,
    #[serde(default, deserialize_with = "lenient::long")]
    pub version: i64,
}

fn yes() -> bool {
    true
}

fn one_i32() -> i32 {
    1
}

fn one_i64() -> i64 {
    1
}

fn sixteen() -> i32 {
    16
}

fn fifteen() -> i32 {
    15
}

/// `SubscriptionGroupConfig`. Defaults: consume enabled, from-min enabled, broadcast
/// enabled, not orderly, 1 retry queue, 16 retries, customized retry policy, master
/// (`brokerId` 0), slow-consume broker 1, notify on id changes, 15-minute consume timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionGroupConfig {
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub attributes: BTreeMap<String, String>,
    #[serde(rename = "brokerId", default, deserialize_with = "lenient::long")]
    pub broker_id: i64,
    #[serde(
        rename = "consumeBroadcastEnable",
        default = "yes",
        deserialize_with = "lenient::boolean_default_true"
    )]
    pub consume_broadcast_enable: bool,
    #[serde(
        rename = "consumeEnable",
        default = "yes",
        deserialize_with = "lenient::boolean_default_true"
    )]
    pub consume_enable: bool,
    #[serde(
        rename = "consumeFromMinEnable",
        default = "yes",
        deserialize_with = "lenient::boolean_default_true"
    )]
    pub consume_from_min_enable: bool,
    #[serde(
        rename = "consumeMessageOrderly",
        default,
        deserialize_with = "lenient::boolean"
    )]
    pub consume_message_orderly: bool,
    #[serde(
        rename = "consumeTimeoutMinute",
        default = "fifteen",
        deserialize_with = "lenient::int"
    )]
    pub consume_timeout_minute: i32,
    #[serde(
        rename = "groupName",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub group_name: String,
    #[serde(
        rename = "groupRetryPolicy",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub group_retry_policy: GroupRetryPolicy,
    #[serde(rename = "groupSysFlag", default, deserialize_with = "lenient::int")]
    pub group_sys_flag: i32,
    #[serde(
        rename = "notifyConsumerIdsChangedEnable",
        default = "yes",
        deserialize_with = "lenient::boolean_default_true"
    )]
    pub notify_consumer_ids_changed_enable: bool,
    #[serde(
        rename = "retryMaxTimes",
        default = "sixteen",
        deserialize_with = "lenient::int"
    )]
    pub retry_max_times: i32,
    #[serde(
        rename = "retryQueueNums",
        default = "one_i32",
        deserialize_with = "lenient::int"
    )]
    pub retry_queue_nums: i32,
    #[serde(
        rename = "subscriptionDataSet",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_data_set: Option<Vec<SimpleSubscriptionData>>,
    #[serde(
        rename = "whichBrokerWhenConsumeSlowly",
        default = "one_i64",
        deserialize_with = "lenient::long"
    )]
    pub which_broker_when_consume_slowly: i64,
}

impl SubscriptionGroupConfig {
    /// A group with the Java defaults.
    #[must_use]
    pub fn new(group_name: impl Into<String>) -> Self {
        SubscriptionGroupConfig {
            attributes: BTreeMap::new(),
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            consume_message_orderly: false,
            consume_timeout_minute: fifteen(),
            group_name: group_name.into(),
            group_retry_policy: GroupRetryPolicy::default(),
            group_sys_flag: 0,
            notify_consumer_ids_changed_enable: true,
            retry_max_times: sixteen(),
            retry_queue_nums: 1,
            subscription_data_set: None,
            which_broker_when_consume_slowly: 1,
        }
    }
}

/// `SubscriptionGroupWrapper`, the `GET_ALL_SUBSCRIPTIONGROUP_CONFIG` answer (and the
/// layout of `subscriptionGroup.json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscriptionGroupWrapper {
    #[serde(
        rename = "dataVersion",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub data_version: DataVersion,
    /// group → topic → forbidden bits (5.x).
    #[serde(
        rename = "forbiddenTable",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub forbidden_table: BTreeMap<String, BTreeMap<String, i32>>,
    #[serde(
        rename = "subscriptionGroupTable",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

lenient_json_body!(SubscriptionGroupConfig, SubscriptionGroupWrapper);
