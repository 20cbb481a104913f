//! JSON bodies: property round trips, fastjson-style output (alphabetical keys, nulls
//! omitted, object map keys where Java writes them), golden texts from Java, C++ and Go
//! peers, and invalid input giving errors.

use bytes::BytesMut;
use proptest::prelude::*;
use protocol::body::consumer::{
    Connection, ConsumerConnection, ConsumerListBody, GroupList, ProducerConnection,
};
use protocol::body::fastjson::quote_keys;
use protocol::body::heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, ProducerData,
    SubscriptionData,
};
use protocol::body::lock::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use protocol::body::message_queue::MessageQueue;
use protocol::body::route::{DataVersion, JsonBody};
use protocol::body::stats::{
    ConsumeStats, ConsumerOffsetSerializeWrapper, OffsetWrapper, ResetOffsetBody, TopicOffset,
    TopicStatsTable,
};
use protocol::body::subscription::{
    CustomizedRetryPolicy, ExponentialRetryPolicy, GroupRetryPolicyType, SimpleSubscriptionData,
    SubscriptionGroupConfig, SubscriptionGroupWrapper,
};
use protocol::code::LanguageCode;
use protocol::message::java_string_hash;
use protocol::WireError;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Walks JSON text and fails unless every object's keys are in strictly ascending order.
struct SortedKeys;

impl<'de> Deserialize<'de> for SortedKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SortedVisitor;
        impl<'de> Visitor<'de> for SortedVisitor {
            type Value = SortedKeys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SortedKeys, A::Error> {
                let mut previous: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    // Integer map keys (queue ids) are ordered as numbers.
                    let out_of_order = previous.as_ref().is_some_and(|p| {
                        match (p.parse::<i64>(), key.parse::<i64>()) {
                            (Ok(a), Ok(b)) => a >= b,
                            _ => *p >= key,
                        }
                    });
                    if out_of_order {
                        return Err(de::Error::custom(format!("key {key:?} after {previous:?}")));
                    }
                    map.next_value::<SortedKeys>()?;
                    previous = Some(key);
                }
                Ok(SortedKeys)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SortedKeys, A::Error> {
                while seq.next_element::<SortedKeys>()?.is_some() {}
                Ok(SortedKeys)
            }
            fn visit_bool<E>(self, _: bool) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
            fn visit_unit<E>(self) -> Result<SortedKeys, E> {
                Ok(SortedKeys)
            }
        }
        deserializer.deserialize_any(SortedVisitor)
    }
}

fn encode<T: JsonBody>(value: &T) -> Vec<u8> {
    let mut out = BytesMut::new();
    value.encode(&mut out).unwrap();
    out.to_vec()
}

/// Round trip, fastjson style and robustness checks every body gets.
fn check_body<T: JsonBody + PartialEq + fmt::Debug>(value: &T, object_keys: bool) {
    let text = encode(value);
    assert!(
        !text.contains(&b'\n') && !text.starts_with(b" "),
        "compact output"
    );
    assert!(
        !String::from_utf8_lossy(&text).contains(":null"),
        "nulls omitted"
    );
    assert_eq!(
        &T::decode(&text).unwrap(),
        value,
        "{}",
        String::from_utf8_lossy(&text)
    );
    if object_keys {
        // Not standard JSON; standard once the keys are quoted.
        let quoted = quote_keys(&text);
        serde_json::from_slice::<serde_json::Value>(&quoted).unwrap();
    } else {
        serde_json::from_slice::<SortedKeys>(&text)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&text)));
        // serde's standard form is the same text.
        assert_eq!(serde_json::to_vec(value).unwrap(), text);
    }
    // The standard-JSON form (serde) decodes too.
    let standard = serde_json::to_vec(value).unwrap();
    assert_eq!(&T::decode(&standard).unwrap(), value);
    // C++ bodies end with a newline.
    let mut with_newline = text.clone();
    with_newline.extend_from_slice(b"\n");
    assert_eq!(&T::decode(&with_newline).unwrap(), value);
    // Every strict prefix is an error, never a panic.
    for cut in 0..text.len() {
        assert!(
            matches!(T::decode(&text[..cut]), Err(WireError::InvalidJson { .. })),
            "prefix {cut} of {}",
            String::from_utf8_lossy(&text)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Strategies

fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9_%|-]{1,16}", "\\PC{0,8}"]
}

fn arb_queue() -> impl Strategy<Value = MessageQueue> {
    (arb_name(), arb_name(), any::<i32>())
        .prop_map(|(topic, broker, id)| MessageQueue::new(topic, broker, id))
}

fn arb_subscription() -> impl Strategy<Value = SubscriptionData> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<i32>(), 0..4),
        prop_oneof![Just("TAG".to_owned()), Just("SQL92".to_owned())],
        arb_name(),
        any::<i64>(),
        proptest::collection::vec(arb_name(), 0..4),
        arb_name(),
    )
        .prop_map(
            |(
                class_filter_mode,
                code_set,
                expression_type,
                sub_string,
                sub_version,
                tags_set,
                topic,
            )| {
                SubscriptionData {
                    class_filter_mode,
                    code_set,
                    expression_type,
                    sub_string,
                    sub_version,
                    tags_set,
                    topic,
                }
            },
        )
}

fn arb_consumer_data() -> impl Strategy<Value = ConsumerData> {
    (
        proptest::option::of(proptest::sample::select(ConsumeFromWhere::ALL)),
        proptest::option::of(proptest::sample::select(ConsumeType::ALL)),
        arb_name(),
        proptest::option::of(proptest::sample::select(MessageModel::ALL)),
        proptest::collection::vec(arb_subscription(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(
                consume_from_where,
                consume_type,
                group_name,
                message_model,
                subscription_data_set,
                unit_mode,
            )| {
                ConsumerData {
                    consume_from_where,
                    consume_type,
                    group_name,
                    message_model,
                    subscription_data_set,
                    unit_mode,
                }
            },
        )
}

fn arb_heartbeat() -> impl Strategy<Value = HeartbeatData> {
    (
        arb_name(),
        proptest::collection::vec(arb_consumer_data(), 0..3),
        any::<i32>(),
        proptest::collection::vec(
            arb_name().prop_map(|group_name| ProducerData { group_name }),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                client_id,
                consumer_data_set,
                heartbeat_fingerprint,
                producer_data_set,
                without_sub,
            )| {
                HeartbeatData {
                    client_id,
                    consumer_data_set,
                    heartbeat_fingerprint,
                    producer_data_set,
                    without_sub,
                }
            },
        )
}

fn arb_connection() -> impl Strategy<Value = Connection> {
    (arb_name(), arb_name(), 0u8..14, any::<i32>()).prop_map(
        |(client_addr, client_id, language, version)| Connection {
            client_addr,
            client_id,
            language: LanguageCode(language),
            version,
        },
    )
}

fn arb_tps() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        (0u32..1_000_000).prop_map(|n| f64::from(n) / 8.0)
    ]
}

fn arb_offset_wrapper() -> impl Strategy<Value = OffsetWrapper> {
    any::<(i64, i64, i64, i64)>().prop_map(|(a, b, c, d)| OffsetWrapper {
        broker_offset: a,
        consumer_offset: b,
        last_timestamp_ms: c,
        pull_offset: d,
    })
}

fn arb_group_config() -> impl Strategy<Value = SubscriptionGroupConfig> {
    (
        arb_name(),
        any::<(bool, bool, bool, bool, bool)>(),
        any::<(i32, i32, i32, i32)>(),
        any::<(i64, i64)>(),
        proptest::collection::btree_map(arb_name(), arb_name(), 0..3),
        proptest::option::of(proptest::collection::vec(
            (arb_name(), arb_name(), arb_name(), any::<i64>()).prop_map(
                |(expression, expression_type, topic, version)| SimpleSubscriptionData {
                    expression,
                    expression_type,
                    topic,
                    version,
                },
            ),
            0..3,
        )),
        0..3u8,
    )
        .prop_map(
            |(name, flags, ints, longs, attributes, subscriptions, policy)| {
                let mut config = SubscriptionGroupConfig::new(name);
                config.consume_enable = flags.0;
                config.consume_from_min_enable = flags.1;
                config.consume_broadcast_enable = flags.2;
                config.consume_message_orderly = flags.3;
                config.notify_consumer_ids_changed_enable = flags.4;
                config.retry_queue_nums = ints.0;
                config.retry_max_times = ints.1;
                config.group_sys_flag = ints.2;
                config.consume_timeout_minute = ints.3;
                config.broker_id = longs.0;
                config.which_broker_when_consume_slowly = longs.1;
                config.attributes = attributes;
                config.subscription_data_set = subscriptions;
                match policy {
                    0 => {}
                    1 => {
                        config.group_retry_policy.policy_type = GroupRetryPolicyType::Exponential;
                        config.group_retry_policy.exponential_retry_policy =
                            Some(ExponentialRetryPolicy::default());
                    }
                    _ => {
                        config.group_retry_policy.customized_retry_policy =
                            Some(CustomizedRetryPolicy {
                                next: vec![1, 2, 3],
                            });
                    }
                }
                config
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn heartbeat_round_trips(heartbeat in arb_heartbeat()) {
        check_body(&heartbeat, false);
    }

    #[test]
    fn lock_bodies_round_trip(
        client_id in arb_name(),
        group in arb_name(),
        queues in proptest::collection::vec(arb_queue(), 0..4),
        only in any::<bool>(),
    ) {
        check_body(&LockBatchRequestBody {
            client_id: client_id.clone(),
            consumer_group: group.clone(),
            mq_set: queues.clone(),
            only_this_broker: only,
        }, false);
        check_body(&UnlockBatchRequestBody {
            client_id,
            consumer_group: group,
            mq_set: queues.clone(),
            only_this_broker: only,
        }, false);
        check_body(&LockBatchResponseBody { lock_ok_mq_set: queues }, false);
    }

    #[test]
    fn connection_bodies_round_trip(
        connections in proptest::collection::vec(arb_connection(), 0..3),
        ids in proptest::collection::vec(arb_name(), 0..4),
        table in proptest::collection::btree_map(arb_name(), arb_subscription(), 0..3),
        model in proptest::option::of(proptest::sample::select(MessageModel::ALL)),
    ) {
        check_body(&ConsumerListBody { consumer_id_list: ids.clone() }, false);
        check_body(&GroupList { group_list: ids }, false);
        check_body(&ProducerConnection { connection_set: connections.clone() }, false);
        check_body(&ConsumerConnection {
            connection_set: connections,
            consume_from_where: Some(ConsumeFromWhere::ConsumeFromTimestamp),
            consume_type: None,
            message_model: model,
            subscription_table: table,
        }, false);
    }

    #[test]
    fn stats_bodies_round_trip(
        consume in proptest::collection::btree_map(arb_queue(), arb_offset_wrapper(), 0..4),
        topic in proptest::collection::btree_map(
            arb_queue(),
            any::<(i64, i64, i64)>().prop_map(|(a, b, c)| TopicOffset {
                last_update_timestamp_ms: a,
                max_offset: b,
                min_offset: c,
            }),
            0..4,
        ),
        reset in proptest::collection::btree_map(arb_queue(), any::<i64>(), 0..4),
        tps in arb_tps(),
    ) {
        check_body(&ConsumeStats { consume_tps: tps, offset_table: consume }, true);
        check_body(&TopicStatsTable { offset_table: topic, topic_put_tps: tps }, true);
        check_body(&ResetOffsetBody { offset_table: reset }, true);
    }

    #[test]
    fn subscription_group_bodies_round_trip(
        configs in proptest::collection::vec(arb_group_config(), 0..3),
        counter in any::<i64>(),
    ) {
        for config in &configs {
            check_body(config, false);
        }
        let mut wrapper = SubscriptionGroupWrapper {
            data_version: DataVersion { counter, state_version: 0, timestamp: 1 },
            ..SubscriptionGroupWrapper::default()
        };
        for config in configs {
            wrapper.subscription_group_table.insert(config.group_name.clone(), config);
        }
        wrapper.forbidden_table.insert("g".to_owned(), BTreeMap::from([("T".to_owned(), 1)]));
        check_body(&wrapper, false);
    }

    #[test]
    fn consumer_offsets_round_trip(
        table in proptest::collection::btree_map(
            arb_name(),
            proptest::collection::btree_map(any::<i32>(), any::<i64>(), 0..4),
            0..3,
        ),
        version in proptest::option::of(any::<i64>()),
    ) {
        check_body(&ConsumerOffsetSerializeWrapper {
            data_version: version.map(|counter| DataVersion { counter, state_version: 0, timestamp: 0 }),
            offset_table: table,
        }, false);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
        let quoted = quote_keys(&bytes).into_owned();
        decode_everything(&quoted);
    }
}

fn decode_everything(bytes: &[u8]) {
    let _ = HeartbeatData::decode(bytes);
    let _ = LockBatchRequestBody::decode(bytes);
    let _ = UnlockBatchRequestBody::decode(bytes);
    let _ = LockBatchResponseBody::decode(bytes);
    let _ = ConsumerListBody::decode(bytes);
    let _ = ConsumerConnection::decode(bytes);
    let _ = ProducerConnection::decode(bytes);
    let _ = GroupList::decode(bytes);
    let _ = ConsumeStats::decode(bytes);
    let _ = TopicStatsTable::decode(bytes);
    let _ = ResetOffsetBody::decode(bytes);
    let _ = SubscriptionGroupConfig::decode(bytes);
    let _ = SubscriptionGroupWrapper::decode(bytes);
    let _ = ConsumerOffsetSerializeWrapper::decode(bytes);
}

// ---------------------------------------------------------------------------------------
// Golden forms

fn java_heartbeat() -> HeartbeatData {
    HeartbeatData {
        client_id: "192.168.0.2@12345#1234#567".to_owned(),
        consumer_data_set: vec![ConsumerData {
            consume_from_where: Some(ConsumeFromWhere::ConsumeFromFirstOffset),
            consume_type: Some(ConsumeType::ConsumePassively),
            group_name: "cg".to_owned(),
            message_model: Some(MessageModel::Clustering),
            subscription_data_set: vec![SubscriptionData::from_expression(
                "TopicTest",
                "TagA || TagC",
                1_712_345_678_901,
            )],
            unit_mode: false,
        }],
        heartbeat_fingerprint: 0,
        producer_data_set: vec![ProducerData {
            group_name: "CLIENT_INNER_PRODUCER".to_owned(),
        }],
        without_sub: false,
    }
}

const JAVA_HEARTBEAT: &str = r#"{"clientID":"192.168.0.2@12345#1234#567","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"cg","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919,2598921],"expressionType":"TAG","subString":"TagA || TagC","subVersion":1712345678901,"tagsSet":["TagA","TagC"],"topic":"TopicTest"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}"#;

#[test]
fn heartbeat_golden_java_text() {
    assert_eq!(
        String::from_utf8(encode(&java_heartbeat())).unwrap(),
        JAVA_HEARTBEAT
    );
    assert_eq!(
        HeartbeatData::decode(JAVA_HEARTBEAT.as_bytes()).unwrap(),
        java_heartbeat()
    );
    assert_eq!(java_string_hash("TagA"), 2_598_919);
}

#[test]
fn heartbeat_cpp_form_with_ordinals_and_omitted_defaults() {
    let cpp = "{\"clientID\":\"10.0.0.7@4242\",\"consumerDataSet\":[{\"consumeFromWhere\":4,\"consumeType\":1,\"groupName\":\"cg\",\"messageModel\":1,\"subscriptionDataSet\":[{\"codeSet\":[0],\"subString\":\"TagA\",\"subVersion\":\"1712345678901\",\"topic\":\"T\"},{\"subString\":\"*\",\"subVersion\":0,\"topic\":\"%RETRY%cg\"}]}],\"producerDataSet\":[]}\n";
    let heartbeat = HeartbeatData::decode(cpp.as_bytes()).unwrap();
    let consumer = &heartbeat.consumer_data_set[0];
    assert_eq!(
        consumer.consume_from_where,
        Some(ConsumeFromWhere::ConsumeFromFirstOffset)
    );
    assert_eq!(consumer.consume_type, Some(ConsumeType::ConsumePassively));
    assert_eq!(consumer.message_model, Some(MessageModel::Clustering));
    assert!(!consumer.unit_mode);
    let tag = &consumer.subscription_data_set[0];
    assert_eq!(tag.code_set, vec![0]);
    assert!(tag.tags_set.is_empty());
    assert_eq!(tag.expression_type, "TAG");
    assert_eq!(tag.sub_version, 1_712_345_678_901);
    assert!(!tag.class_filter_mode);
    assert!(consumer.subscription_data_set[1].is_subscribe_all());
    // The broker rebuilds the codes from the expression.
    let rebuilt = SubscriptionData::from_expression(&tag.topic, &tag.sub_string, tag.sub_version);
    assert_eq!(rebuilt.code_set, vec![2_598_919]);
}

#[test]
fn heartbeat_go_form_with_string_codes_and_nanosecond_versions() {
    let go = r#"{"clientID":"10.0.0.9@777","producerDataSet":null,"consumerDataSet":[{"groupName":"cg","consumeType":"CONSUME_PASSIVELY","messageModel":"Clustering","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"classFilterMode":false,"topic":"T","subString":"seq \u003e= 10","tagsSet":null,"codeSet":["2598919","-5"],"subVersion":1712345678901234567,"expressionType":"SQL92"}],"unitMode":false}]}"#;
    let heartbeat = HeartbeatData::decode(go.as_bytes()).unwrap();
    assert!(heartbeat.producer_data_set.is_empty());
    let consumer = &heartbeat.consumer_data_set[0];
    assert_eq!(consumer.message_model, Some(MessageModel::Clustering));
    let subscription = &consumer.subscription_data_set[0];
    assert_eq!(subscription.sub_version, 1_712_345_678_901_234_567);
    assert_eq!(subscription.code_set, vec![2_598_919, -5]);
    assert_eq!(subscription.sub_string, "seq >= 10");
    assert_eq!(subscription.expression_type, "SQL92");
    // subVersion as a 19-digit string too.
    let as_string = go.replace("1712345678901234567", "\"1712345678901234567\"");
    let heartbeat = HeartbeatData::decode(as_string.as_bytes()).unwrap();
    assert_eq!(
        heartbeat.consumer_data_set[0].subscription_data_set[0].sub_version,
        1_712_345_678_901_234_567
    );
}

#[test]
fn heartbeat_minimal_and_missing_sets() {
    let heartbeat =
        HeartbeatData::decode(br#"{"clientID":"c","unknown":{"nested":[1,2]}}"#).unwrap();
    assert_eq!(heartbeat.client_id, "c");
    assert!(heartbeat.producer_data_set.is_empty() && heartbeat.consumer_data_set.is_empty());
    let heartbeat = HeartbeatData::decode(
        br#"{"clientID":"c","heartbeatFingerprint":"77","withoutSub":"true"}"#,
    )
    .unwrap();
    assert_eq!(heartbeat.heartbeat_fingerprint, 77);
    assert!(heartbeat.without_sub);
}

#[test]
fn heartbeat_invalid_enums_and_values_are_errors() {
    for bad in [
        r#"{"consumerDataSet":[{"consumeType":"CONSUME_SIDEWAYS"}]}"#,
        r#"{"consumerDataSet":[{"messageModel":2}]}"#,
        r#"{"consumerDataSet":[{"consumeFromWhere":-1}]}"#,
        r#"{"consumerDataSet":[{"subscriptionDataSet":[{"subVersion":"soon"}]}]}"#,
        r#"{"consumerDataSet":[{"subscriptionDataSet":[{"subVersion":1.5e3}]}]}"#,
        r#"{"consumerDataSet":[{"subscriptionDataSet":[{"codeSet":["x"]}]}]}"#,
        r#"{"consumerDataSet":[{"subscriptionDataSet":[{"subVersion":99999999999999999999}]}]}"#,
        r#"{"clientID":1}"#,
        r#"[1]"#,
        "",
        "\u{feff}{}",
    ] {
        assert!(
            matches!(
                HeartbeatData::decode(bad.as_bytes()),
                Err(WireError::InvalidJson {
                    what: "HeartbeatData",
                    ..
                })
            ),
            "{bad}"
        );
    }
    assert!(HeartbeatData::decode(&[0xff, 0xfe, b'{']).is_err());
}

#[test]
fn tags_are_trimmed_before_hashing() {
    let data = SubscriptionData::from_expression("T", " TagA ||TagC|| ||TagA", 1);
    assert_eq!(data.tags_set, ["TagA", "TagC"]);
    assert_eq!(data.code_set, [2_598_919, 2_598_921]);
    assert!(!data.is_subscribe_all());
    let all = SubscriptionData::from_expression("T", "", 1);
    assert_eq!(all.sub_string, "*");
    assert!(all.is_subscribe_all());
}

#[test]
fn lock_bodies_golden_and_without_only_this_broker() {
    let java = r#"{"clientId":"c@1","consumerGroup":"cg","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}],"onlyThisBroker":false}"#;
    let body = LockBatchRequestBody::decode(java.as_bytes()).unwrap();
    assert_eq!(body.mq_set, [MessageQueue::new("T", "broker-a", 0)]);
    assert_eq!(String::from_utf8(encode(&body)).unwrap(), java);
    // C++ and Go leave out onlyThisBroker.
    let go = r#"{"consumerGroup":"cg","clientId":"c@1","mqSet":[{"topic":"T","brokerName":"broker-a","queueId":0}]}"#;
    assert_eq!(LockBatchRequestBody::decode(go.as_bytes()).unwrap(), body);
    let unlock = UnlockBatchRequestBody::decode(go.as_bytes()).unwrap();
    assert!(!unlock.only_this_broker);
    let response = LockBatchResponseBody {
        lock_ok_mq_set: body.mq_set,
    };
    assert_eq!(
        String::from_utf8(encode(&response)).unwrap(),
        r#"{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}]}"#
    );
}

#[test]
fn consumer_list_golden() {
    let body = ConsumerListBody {
        consumer_id_list: vec!["10.0.0.1@1".to_owned(), "10.0.0.2@2".to_owned()],
    };
    assert_eq!(
        String::from_utf8(encode(&body)).unwrap(),
        r#"{"consumerIdList":["10.0.0.1@1","10.0.0.2@2"]}"#
    );
    assert_eq!(
        ConsumerListBody::decode(b"{}").unwrap(),
        ConsumerListBody::default()
    );
    assert_eq!(
        ConsumerListBody::decode(br#"{"consumerIdList":null}"#).unwrap(),
        ConsumerListBody::default()
    );
}

#[test]
fn consume_stats_golden_fastjson_object_keys() {
    let mut stats = ConsumeStats::default();
    stats.offset_table.insert(
        MessageQueue::new("T", "broker-a", 1),
        OffsetWrapper {
            broker_offset: 10,
            consumer_offset: 4,
            last_timestamp_ms: 1_712_345_678_901,
            pull_offset: 10,
        },
    );
    stats.offset_table.insert(
        MessageQueue::new("T", "broker-a", 0),
        OffsetWrapper::default(),
    );
    let text = String::from_utf8(encode(&stats)).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"consumeTps":0.0,"offsetTable":{"#,
            r#"{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0},"#,
            r#"{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":1712345678901,"pullOffset":10}}}"#
        )
    );
    assert_eq!(stats.total_diff(), 6);
    // A Java broker's map is in hash order; any order decodes.
    let java = r#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":1712345678901,"pullOffset":10},{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0}},"consumeTps":0.0}"#;
    assert_eq!(ConsumeStats::decode(java.as_bytes()).unwrap(), stats);
}

#[test]
fn topic_stats_as_a_java_broker_sends_it() {
    let java = r#"{"offsetTable":{{"brokerName":"rocketmq-broker-a","queueId":2,"topic":"test"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0},{"brokerName":"rocketmq-broker-a","queueId":3,"topic":"test"}:{"lastUpdateTimestamp":1712345678901,"maxOffset":7,"minOffset":1}}}"#;
    let table = TopicStatsTable::decode(java.as_bytes()).unwrap();
    assert_eq!(table.offset_table.len(), 2);
    assert_eq!(
        table.offset_table[&MessageQueue::new("test", "rocketmq-broker-a", 3)],
        TopicOffset {
            last_update_timestamp_ms: 1_712_345_678_901,
            max_offset: 7,
            min_offset: 1,
        }
    );
    assert!(table.topic_put_tps.abs() < f64::EPSILON);
    assert!(matches!(
        TopicStatsTable::decode(br#"{"offsetTable":{"not a queue":{"maxOffset":1}}}"#),
        Err(WireError::InvalidJson { .. })
    ));
}

#[test]
fn consumer_connection_golden() {
    let mut connection = ConsumerConnection {
        connection_set: vec![Connection {
            client_addr: "127.0.0.1:5555".to_owned(),
            client_id: "c@1".to_owned(),
            language: LanguageCode::JAVA,
            version: 479,
        }],
        consume_from_where: Some(ConsumeFromWhere::ConsumeFromLastOffset),
        consume_type: Some(ConsumeType::ConsumePassively),
        message_model: Some(MessageModel::Clustering),
        subscription_table: BTreeMap::new(),
    };
    connection.subscription_table.insert(
        "T".to_owned(),
        SubscriptionData::from_expression("T", "*", 5),
    );
    assert_eq!(
        String::from_utf8(encode(&connection)).unwrap(),
        r#"{"connectionSet":[{"clientAddr":"127.0.0.1:5555","clientId":"c@1","language":"JAVA","version":479}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{"T":{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":5,"tagsSet":[],"topic":"T"}}}"#
    );
    let ordinal = ProducerConnection::decode(
        br#"{"connectionSet":[{"clientId":"p","language":9,"version":"317"}]}"#,
    )
    .unwrap();
    assert_eq!(ordinal.connection_set[0].language, LanguageCode::GO);
    assert_eq!(ordinal.connection_set[0].version, 317);
}

#[test]
fn subscription_group_defaults_and_golden() {
    let config = SubscriptionGroupConfig::new("g");
    assert_eq!(
        String::from_utf8(encode(&config)).unwrap(),
        r#"{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"g","groupRetryPolicy":{"type":"CUSTOMIZED"},"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}"#
    );
    // A 4.x mqadmin sends no retry policy, attributes or subscriptions.
    let old = r#"{"groupName":"g","consumeEnable":true,"consumeFromMinEnable":true,"consumeBroadcastEnable":true,"retryQueueNums":1,"retryMaxTimes":16,"brokerId":0,"whichBrokerWhenConsumeSlowly":1,"notifyConsumerIdsChangedEnable":true}"#;
    assert_eq!(
        SubscriptionGroupConfig::decode(old.as_bytes()).unwrap(),
        config
    );
    assert_eq!(
        SubscriptionGroupConfig::decode(br#"{"groupName":"g"}"#).unwrap(),
        config
    );
    let off = SubscriptionGroupConfig::decode(br#"{"groupName":"g","consumeEnable":false,"retryMaxTimes":"3","groupRetryPolicy":{"type":"EXPONENTIAL","exponentialRetryPolicy":{"initial":1000}}}"#).unwrap();
    assert!(!off.consume_enable);
    assert_eq!(off.retry_max_times, 3);
    assert_eq!(
        off.group_retry_policy.policy_type,
        GroupRetryPolicyType::Exponential
    );
    let exponential = off.group_retry_policy.exponential_retry_policy.unwrap();
    assert_eq!(
        (exponential.initial, exponential.max, exponential.multiplier),
        (1000, 7_200_000, 2)
    );
    assert_eq!(CustomizedRetryPolicy::default().next.len(), 18);
}

#[test]
fn consumer_offsets_accept_fastjson_integer_keys() {
    let java = r#"{"offsetTable":{"T@g":{0:12,1:34}},"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1}}"#;
    let wrapper = ConsumerOffsetSerializeWrapper::decode(java.as_bytes()).unwrap();
    assert_eq!(wrapper.offset_table["T@g"][&1], 34);
    assert_eq!(wrapper.data_version.unwrap().counter, 3);
    assert_eq!(
        String::from_utf8(encode(&wrapper)).unwrap(),
        r#"{"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1},"offsetTable":{"T@g":{"0":12,"1":34}}}"#
    );
}
