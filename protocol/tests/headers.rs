//! Typed headers: for every header a property round trip (ext map and whole frame in both
//! encodings), missing-required-field errors naming the key, invalid values, unknown keys,
//! lenient values; plus golden forms real clients send.

use bytes::BytesMut;
use proptest::prelude::*;
use protocol::code::{request, LanguageCode};
use protocol::command::ExtFields;
use protocol::frame::FRAME_BYTES_MAX_DEFAULT;
use protocol::header::admin::*;
use protocol::header::client::*;
use protocol::header::offset::*;
use protocol::header::pull::*;
use protocol::header::query::*;
use protocol::header::request::CODES_WITHOUT_HEADER;
use protocol::header::schema::{FieldSpec, ValueKind};
use protocol::header::send::*;
use protocol::header::topic::*;
use protocol::header::transaction::*;
use protocol::header::{CommandHeader, HeaderSchema, RequestHeader};
use protocol::{RemotingCommand, SerializeType, WireError};

/// Runs `$check::<Header>("Header")` for every typed header of this crate.
macro_rules! for_every_header {
    ($check:ident) => {
        $check::<SendMessageRequestHeader>("SendMessageRequestHeader");
        $check::<SendMessageRequestHeaderV2>("SendMessageRequestHeaderV2");
        $check::<SendMessageResponseHeader>("SendMessageResponseHeader");
        $check::<PullMessageRequestHeader>("PullMessageRequestHeader");
        $check::<PullMessageResponseHeader>("PullMessageResponseHeader");
        $check::<QueryConsumerOffsetRequestHeader>("QueryConsumerOffsetRequestHeader");
        $check::<QueryConsumerOffsetResponseHeader>("QueryConsumerOffsetResponseHeader");
        $check::<UpdateConsumerOffsetRequestHeader>("UpdateConsumerOffsetRequestHeader");
        $check::<SearchOffsetRequestHeader>("SearchOffsetRequestHeader");
        $check::<SearchOffsetResponseHeader>("SearchOffsetResponseHeader");
        $check::<GetMaxOffsetRequestHeader>("GetMaxOffsetRequestHeader");
        $check::<GetMaxOffsetResponseHeader>("GetMaxOffsetResponseHeader");
        $check::<GetMinOffsetRequestHeader>("GetMinOffsetRequestHeader");
        $check::<GetMinOffsetResponseHeader>("GetMinOffsetResponseHeader");
        $check::<GetEarliestMsgStoretimeRequestHeader>("GetEarliestMsgStoretimeRequestHeader");
        $check::<GetEarliestMsgStoretimeResponseHeader>("GetEarliestMsgStoretimeResponseHeader");
        $check::<QueryMessageRequestHeader>("QueryMessageRequestHeader");
        $check::<QueryMessageResponseHeader>("QueryMessageResponseHeader");
        $check::<ViewMessageByIdRequestHeader>("ViewMessageByIdRequestHeader");
        $check::<HeartbeatResponseHeader>("HeartbeatResponseHeader");
        $check::<UnregisterClientRequestHeader>("UnregisterClientRequestHeader");
        $check::<ConsumerSendMsgBackRequestHeader>("ConsumerSendMsgBackRequestHeader");
        $check::<GetConsumerListByGroupRequestHeader>("GetConsumerListByGroupRequestHeader");
        $check::<NotifyConsumerIdsChangedRequestHeader>("NotifyConsumerIdsChangedRequestHeader");
        $check::<GetConsumerRunningInfoRequestHeader>("GetConsumerRunningInfoRequestHeader");
        $check::<ConsumeMessageDirectlyRequestHeader>("ConsumeMessageDirectlyRequestHeader");
        $check::<EndTransactionRequestHeader>("EndTransactionRequestHeader");
        $check::<CheckTransactionStateRequestHeader>("CheckTransactionStateRequestHeader");
        $check::<CreateTopicRequestHeader>("CreateTopicRequestHeader");
        $check::<DeleteTopicRequestHeader>("DeleteTopicRequestHeader");
        $check::<GetTopicConfigRequestHeader>("GetTopicConfigRequestHeader");
        $check::<GetBrokerConfigResponseHeader>("GetBrokerConfigResponseHeader");
        $check::<GetAllTopicConfigResponseHeader>("GetAllTopicConfigResponseHeader");
        $check::<GetTopicStatsInfoRequestHeader>("GetTopicStatsInfoRequestHeader");
        $check::<GetConsumerConnectionListRequestHeader>("GetConsumerConnectionListRequestHeader");
        $check::<GetProducerConnectionListRequestHeader>("GetProducerConnectionListRequestHeader");
        $check::<DeleteSubscriptionGroupRequestHeader>("DeleteSubscriptionGroupRequestHeader");
        $check::<GetConsumeStatsRequestHeader>("GetConsumeStatsRequestHeader");
        $check::<ResetOffsetRequestHeader>("ResetOffsetRequestHeader");
        $check::<QueryTopicConsumeByWhoRequestHeader>("QueryTopicConsumeByWhoRequestHeader");
    };
}

trait Header: CommandHeader + HeaderSchema + Clone + PartialEq + std::fmt::Debug {}
impl<T: CommandHeader + HeaderSchema + Clone + PartialEq + std::fmt::Debug> Header for T {}

/// A canonical value of `kind` (what our encoder writes back unchanged).
fn sample_value(kind: ValueKind) -> String {
    match kind {
        ValueKind::Text => "some-text".to_owned(),
        ValueKind::Int => "-42".to_owned(),
        ValueKind::Long => "1712345678901234567".to_owned(),
        ValueKind::Bool => "true".to_owned(),
        ValueKind::OneOf(names) => names[names.len() - 1].to_owned(),
    }
}

fn full_fields(specs: &[FieldSpec]) -> ExtFields {
    specs
        .iter()
        .map(|spec| (spec.key.to_owned(), sample_value(spec.kind)))
        .collect()
}

fn value_strategy(kind: ValueKind) -> BoxedStrategy<String> {
    match kind {
        // Non-empty: the binary header reads a zero-length value as absent.
        ValueKind::Text => prop_oneof!["[a-zA-Z0-9_%|@.:-]{1,24}", "\\PC{1,12}"].boxed(),
        ValueKind::Int => any::<i32>().prop_map(|n| n.to_string()).boxed(),
        ValueKind::Long => any::<i64>().prop_map(|n| n.to_string()).boxed(),
        ValueKind::Bool => prop_oneof![Just("true".to_owned()), Just("false".to_owned())].boxed(),
        ValueKind::OneOf(names) => proptest::sample::select(names)
            .prop_map(str::to_owned)
            .boxed(),
    }
}

/// Random ext maps for `H`: every required key, each optional key with probability 1/2.
fn fields_strategy(specs: &'static [FieldSpec]) -> impl Strategy<Value = ExtFields> {
    let per_field: Vec<BoxedStrategy<Option<(String, String)>>> = specs
        .iter()
        .map(|spec| {
            let key = spec.key.to_owned();
            let value = value_strategy(spec.kind).prop_map(move |v| (key.clone(), v));
            if spec.required {
                value.prop_map(Some).boxed()
            } else {
                proptest::option::of(value).boxed()
            }
        })
        .collect();
    per_field.prop_map(|pairs| pairs.into_iter().flatten().collect())
}

fn round_trip_in_frames<H: Header>(header: &H) {
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        let mut command = RemotingCommand::request(request::SEND_MESSAGE, 7, serialize_type);
        header.encode(command.ext_mut());
        let mut out = BytesMut::new();
        command.encode(&mut out).unwrap();
        let (decoded, consumed) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!(consumed, out.len());
        assert_eq!(
            &H::decode_optional(decoded.ext_fields.as_ref()).unwrap(),
            header
        );
    }
}

fn check_round_trip<H: Header>(name: &str) {
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 64,
        ..proptest::test_runner::Config::default()
    });
    runner
        .run(&fields_strategy(H::FIELDS), |fields| {
            let header =
                H::decode(&fields).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            let mut written = ExtFields::new();
            header.encode(&mut written);
            for (key, value) in fields.iter() {
                prop_assert_eq!(written.get(key), Some(value), "{} key {}", name, key);
            }
            for (key, _) in written.iter() {
                prop_assert!(
                    H::FIELDS.iter().any(|spec| spec.key == key),
                    "{} wrote {}",
                    name,
                    key
                );
            }
            prop_assert_eq!(&H::decode(&written).unwrap(), &header);
            round_trip_in_frames(&header);
            Ok(())
        })
        .unwrap();
}

#[test]
fn every_header_round_trips() {
    for_every_header!(check_round_trip);
}

fn check_missing_required<H: Header>(name: &str) {
    let full = full_fields(H::FIELDS);
    assert!(H::decode(&full).is_ok(), "{name}");
    for spec in H::FIELDS.iter().filter(|spec| spec.required) {
        let mut fields = full.clone();
        fields.remove(spec.key);
        assert_eq!(
            H::decode(&fields),
            Err(WireError::MissingField(spec.key)),
            "{name} without {}",
            spec.key
        );
    }
    let required = H::FIELDS.iter().filter(|spec| spec.required).count();
    let from_none = H::decode_optional(None);
    assert_eq!(from_none.is_ok(), required == 0, "{name} from no ext map");
}

#[test]
fn every_missing_required_field_is_named() {
    for_every_header!(check_missing_required);
}

fn check_invalid_values<H: Header>(name: &str) {
    let full = full_fields(H::FIELDS);
    for spec in H::FIELDS {
        for bad in ["x", "", "1.5", "99999999999999999999999", "\u{0}"] {
            let mut fields = full.clone();
            fields.insert(spec.key, bad);
            let result = H::decode(&fields);
            match spec.kind {
                ValueKind::Int | ValueKind::Long | ValueKind::Bool => assert!(
                    matches!(&result, Err(WireError::InvalidField { field, .. }) if *field == spec.key),
                    "{name}.{} = {bad:?}: {result:?}",
                    spec.key
                ),
                // Strings take anything; enums are checked below.
                ValueKind::Text | ValueKind::OneOf(_) => {}
            }
        }
    }
}

#[test]
fn every_invalid_value_is_an_error_naming_the_field() {
    for_every_header!(check_invalid_values);
}

fn check_lenient_and_unknown<H: Header>(name: &str) {
    let full = full_fields(H::FIELDS);
    let expected = H::decode(&full).unwrap();
    let mut lenient = full.clone();
    for spec in H::FIELDS {
        match spec.kind {
            ValueKind::Bool => lenient.insert(spec.key, "1"),
            ValueKind::Int => lenient.insert(spec.key, " -42 "),
            ValueKind::Long => lenient.insert(spec.key, "1712345678901234567\n"),
            ValueKind::Text | ValueKind::OneOf(_) => {}
        }
    }
    for (key, value) in [
        ("AccessKey", "rocketmq2"),
        ("Signature", "c2lnbmF0dXJl"),
        ("OnsChannel", "ALIYUN"),
        ("bname_unknown", "x"),
        ("ns", "namespace"),
        ("oway", "false"),
    ] {
        if H::FIELDS.iter().all(|spec| spec.key != key) {
            lenient.insert(key, value);
        }
    }
    assert_eq!(H::decode(&lenient).unwrap(), expected, "{name}");
    let mut falsy = full.clone();
    for spec in H::FIELDS.iter().filter(|spec| spec.kind == ValueKind::Bool) {
        falsy.insert(spec.key, "0");
        let header = H::decode(&falsy).unwrap();
        let mut written = ExtFields::new();
        header.encode(&mut written);
        assert_eq!(written.get(spec.key), Some("false"), "{name}.{}", spec.key);
    }
}

#[test]
fn every_header_is_lenient_and_ignores_unknown_keys() {
    for_every_header!(check_lenient_and_unknown);
}

fn fields(pairs: &[(&str, &str)]) -> ExtFields {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn json_frame(header: &str, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    let length = 4 + header.len() + body.len();
    frame.extend_from_slice(&u32::try_from(length).unwrap().to_be_bytes());
    frame.extend_from_slice(&u32::try_from(header.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(body);
    frame
}

fn sample_send_v2() -> SendMessageRequestHeaderV2 {
    SendMessageRequestHeaderV2 {
        producer_group: "please_rename_unique_group_name".to_owned(),
        topic: "TopicTest".to_owned(),
        default_topic: "TBW102".to_owned(),
        default_topic_queue_nums: 4,
        queue_id: 3,
        sys_flag: 0,
        born_timestamp_ms: 1_712_345_678_901,
        flag: 0,
        properties: Some(
            "TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}UNIQ_KEY\u{1}7F0000010F6818B4AAC2\u{2}".to_owned(),
        ),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: None,
        batch: Some(false),
        broker_name: Some("broker-a".to_owned()),
    }
}

#[test]
fn send_v2_golden_java_json_header() {
    // As the Java client sends it (fastjson writes the HashMap in hash order).
    let header = r#"{"code":310,"extFields":{"a":"please_rename_unique_group_name","b":"TopicTest","c":"TBW102","d":"4","e":"3","f":"0","g":"1712345678901","h":"0","i":"TAGS\u0001TagA\u0002WAIT\u0001true\u0002UNIQ_KEY\u00017F0000010F6818B4AAC2\u0002","j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":5,"serializeTypeCurrentRPC":"JSON","version":479}"#;
    let frame = json_frame(header, b"Hello RocketMQ");
    let (command, consumed) = RemotingCommand::decode(&frame, FRAME_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(consumed, frame.len());
    let decoded = SendMessageRequestHeaderV2::decode_optional(command.ext_fields.as_ref()).unwrap();
    assert_eq!(decoded, sample_send_v2());
    let mut written = ExtFields::new();
    decoded.encode(&mut written);
    let keys: Vec<&str> = written.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "m", "n"]
    );
    assert_eq!(
        RequestHeader::decode(command.code, command.ext_fields.as_ref()).unwrap(),
        Some(RequestHeader::SendMessageV2(sample_send_v2()))
    );
}

#[test]
fn send_v1_and_v2_convert_both_ways() {
    let v2 = sample_send_v2();
    let v1 = SendMessageRequestHeader::from(v2.clone());
    assert_eq!(v1.producer_group, v2.producer_group);
    assert_eq!(v1.broker_name.as_deref(), Some("broker-a"));
    let mut long_names = ExtFields::new();
    v1.encode(&mut long_names);
    assert_eq!(
        long_names.get("producerGroup"),
        Some("please_rename_unique_group_name")
    );
    assert_eq!(long_names.get("bornTimestamp"), Some("1712345678901"));
    assert_eq!(long_names.get("bname"), Some("broker-a"));
    assert_eq!(long_names.get("maxReconsumeTimes"), None);
    assert_eq!(SendMessageRequestHeaderV2::from(v1), v2);
}

#[test]
fn send_go_client_form_with_string_values() {
    // Go single sends use code 10 with long names; every value is a string.
    let header = r#"{"code":10,"language":"GO","version":317,"opaque":9,"flag":0,"remark":"","extFields":{"producerGroup":"pg","topic":"T","queueId":"1","sysFlag":"0","bornTimestamp":"1712345678901","flag":"0","properties":"KEYS\u0001k1\u0002","reconsumeTimes":"0","unitMode":"false","maxReconsumeTimes":"0","batch":"false","defaultTopic":"TBW102","defaultTopicQueueNums":"4","bname":"broker-a"}}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(header, b"x"), FRAME_BYTES_MAX_DEFAULT).unwrap();
    let Some(RequestHeader::SendMessage(send)) =
        RequestHeader::decode(command.code, command.ext_fields.as_ref()).unwrap()
    else {
        panic!("not a SEND_MESSAGE header")
    };
    assert_eq!(send.queue_id, 1);
    assert_eq!(send.batch, Some(false));
    assert_eq!(send.max_reconsume_times, Some(0));
    assert_eq!(send.properties.as_deref(), Some("KEYS\u{1}k1\u{2}"));
}

#[test]
fn send_batch_from_go_has_an_empty_properties_key() {
    let header = r#"{"code":320,"language":"GO","version":317,"opaque":9,"flag":0,"extFields":{"a":"pg","b":"T","c":"TBW102","d":"4","e":"0","f":"0","g":"1","h":"0","i":"","j":"0","k":"false","l":"0","m":"true"}}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(header, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
    let send = SendMessageRequestHeaderV2::decode_optional(command.ext_fields.as_ref()).unwrap();
    assert_eq!(send.properties.as_deref(), Some(""));
    assert_eq!(send.batch, Some(true));
}

#[test]
fn pull_lenient_forms_from_cpp_and_go() {
    // C++: JSON numbers and booleans inside extFields.
    let cpp = r#"{"code":11,"language":"CPP","version":63,"opaque":3,"flag":0,"extFields":{"consumerGroup":"cg","topic":"T","queueId":2,"queueOffset":0,"maxMsgNums":32,"sysFlag":2,"commitOffset":0,"suspendTimeoutMillis":15000,"subVersion":1712345678901,"subscription":"TagA || TagC"}}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(cpp, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
    let pull = PullMessageRequestHeader::decode_optional(command.ext_fields.as_ref()).unwrap();
    assert_eq!(pull.queue_id, 2);
    assert_eq!(pull.suspend_timeout_ms, 15_000);
    assert_eq!(pull.pull_sys_flag(), PullSysFlag(2));
    assert_eq!(pull.subscription.as_deref(), Some("TagA || TagC"));
    // Go push consumer: every value a string, empty subscription, 19-digit subVersion.
    let go = fields(&[
        ("consumerGroup", "cg"),
        ("topic", "T"),
        ("queueId", "0"),
        ("queueOffset", "10"),
        ("maxMsgNums", "32"),
        ("sysFlag", "6"),
        ("commitOffset", "0"),
        ("suspendTimeoutMillis", "20000"),
        ("subscription", ""),
        ("subVersion", "1712345678901234567"),
        ("expressionType", "TAG"),
    ]);
    let pull = PullMessageRequestHeader::decode(&go).unwrap();
    assert_eq!(pull.subscription_version, 1_712_345_678_901_234_567);
    assert!(pull.pull_sys_flag().has_subscription());
    assert_eq!(pull.subscription.as_deref(), Some(""));
}

#[test]
fn pull_response_header_golden_keys() {
    let header = PullMessageResponseHeader {
        suggest_which_broker_id: 0,
        next_begin_offset: 32,
        min_offset: 0,
        max_offset: 100,
        offset_delta: None,
        topic_sys_flag: Some(0),
        group_sys_flag: None,
        forbidden_type: None,
    };
    let mut written = ExtFields::new();
    header.encode(&mut written);
    let pairs: Vec<(&str, &str)> = written.iter().collect();
    assert_eq!(
        pairs,
        [
            ("suggestWhichBrokerId", "0"),
            ("nextBeginOffset", "32"),
            ("minOffset", "0"),
            ("maxOffset", "100"),
            ("topicSysFlag", "0"),
        ]
    );
}

#[test]
fn send_response_always_has_a_non_empty_ext_map() {
    let header = SendMessageResponseHeader {
        msg_id: "7F00000100002A9F0000000000000000".to_owned(),
        queue_id: 1,
        queue_offset: 0,
        transaction_id: Some("7F0000010F6818B4AAC2".to_owned()),
        batch_unique_id: None,
        recall_handle: None,
        message_region: Some("DefaultRegion".to_owned()),
        trace_on: Some(true),
    };
    let mut written = ExtFields::new();
    header.encode(&mut written);
    assert_eq!(written.get("MSG_REGION"), Some("DefaultRegion"));
    assert_eq!(written.get("TRACE_ON"), Some("true"));
    assert_eq!(written.get("queueOffset"), Some("0"));
}

#[test]
fn update_consumer_offset_oneway_and_two_way_decode_alike() {
    for flag in [0, 2] {
        let header = format!(
            r#"{{"code":15,"flag":{flag},"language":"RUST","opaque":1,"version":474,"extFields":{{"consumerGroup":"cg","topic":"T","queueId":"0","commitOffset":"42"}}}}"#
        );
        let (command, _) =
            RemotingCommand::decode(&json_frame(&header, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
        assert_eq!(command.is_oneway(), flag == 2);
        let Some(RequestHeader::UpdateConsumerOffset(update)) =
            RequestHeader::decode(command.code, command.ext_fields.as_ref()).unwrap()
        else {
            panic!("not UPDATE_CONSUMER_OFFSET")
        };
        assert_eq!(update.commit_offset, 42);
    }
}

#[test]
fn query_message_unique_key_flag() {
    let base = [
        ("topic", "T"),
        ("key", "7F0000010F6818B4AAC2"),
        ("maxNum", "32"),
        ("beginTimestamp", "0"),
        ("endTimestamp", "9223372036854775807"),
    ];
    let plain = QueryMessageRequestHeader::decode(&fields(&base)).unwrap();
    assert!(!plain.is_unique_key_query());
    let mut unique = fields(&base);
    unique.insert(UNIQUE_KEY_QUERY_KEY, "true");
    let unique = QueryMessageRequestHeader::decode(&unique).unwrap();
    assert!(unique.is_unique_key_query());
    assert_eq!(unique.end_timestamp_ms, i64::MAX);
}

#[test]
fn defaults_of_java_primitives() {
    let max =
        GetMaxOffsetRequestHeader::decode(&fields(&[("topic", "T"), ("queueId", "0")])).unwrap();
    assert!(max.committed);
    let back = ConsumerSendMsgBackRequestHeader::decode(&fields(&[
        ("offset", "100"),
        ("group", "g"),
        ("delayLevel", "0"),
    ]))
    .unwrap();
    assert!(!back.unit_mode);
    let reset = ResetOffsetRequestHeader::decode(&fields(&[
        ("group", "g"),
        ("topic", "T"),
        ("timestamp", "0"),
        ("isForce", "true"),
    ]))
    .unwrap();
    assert_eq!(reset.queue_id, -1);
    assert!(reset.force);
    let end = EndTransactionRequestHeader::decode(&fields(&[
        ("producerGroup", "pg"),
        ("tranStateTableOffset", "3"),
        ("commitLogOffset", "4096"),
        ("commitOrRollback", "8"),
        ("msgId", "7F00000100002A9F0000000000001000"),
    ]))
    .unwrap();
    assert!(!end.from_transaction_check);
    assert_eq!(end.resolution(), Some(TransactionResolution::Commit));
}

#[test]
fn boundary_type_reads_like_java() {
    let base = [("topic", "T"), ("queueId", "0"), ("timestamp", "1")];
    for (value, expected) in [
        ("upper", BoundaryType::Upper),
        ("UPPER", BoundaryType::Upper),
        ("lower", BoundaryType::Lower),
        ("anything", BoundaryType::Lower),
    ] {
        let mut map = fields(&base);
        map.insert("boundaryType", value);
        assert_eq!(
            SearchOffsetRequestHeader::decode(&map)
                .unwrap()
                .boundary_type,
            Some(expected)
        );
    }
}

#[test]
fn create_topic_filter_type_must_be_known() {
    let mut map = fields(&[
        ("topic", "T"),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", "8"),
        ("writeQueueNums", "8"),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("order", "false"),
    ]);
    let create = CreateTopicRequestHeader::decode(&map).unwrap();
    assert_eq!(create.topic_filter_type, TopicFilterType::SingleTag);
    assert!(!create.force);
    assert_eq!(perm::to_letters(create.perm), "RW-");
    map.insert("topicFilterType", "NO_SUCH_TYPE");
    assert!(matches!(
        CreateTopicRequestHeader::decode(&map),
        Err(WireError::InvalidField {
            field: "topicFilterType",
            ..
        })
    ));
}

#[test]
fn request_header_dispatch_covers_the_broker_codes() {
    let empty = ExtFields::new();
    for code in [
        request::SEND_MESSAGE,
        request::SEND_MESSAGE_V2,
        request::SEND_BATCH_MESSAGE,
        request::PULL_MESSAGE,
        request::QUERY_MESSAGE,
        request::QUERY_CONSUMER_OFFSET,
        request::UPDATE_CONSUMER_OFFSET,
        request::UPDATE_AND_CREATE_TOPIC,
        request::SEARCH_OFFSET_BY_TIMESTAMP,
        request::GET_MAX_OFFSET,
        request::GET_MIN_OFFSET,
        request::GET_EARLIEST_MSG_STORETIME,
        request::VIEW_MESSAGE_BY_ID,
        request::UNREGISTER_CLIENT,
        request::CONSUMER_SEND_MSG_BACK,
        request::END_TRANSACTION,
        request::GET_CONSUMER_LIST_BY_GROUP,
        request::CHECK_TRANSACTION_STATE,
        request::NOTIFY_CONSUMER_IDS_CHANGED,
        request::GET_TOPIC_STATS_INFO,
        request::GET_CONSUMER_CONNECTION_LIST,
        request::GET_PRODUCER_CONNECTION_LIST,
        request::DELETE_SUBSCRIPTIONGROUP,
        request::GET_CONSUME_STATS,
        request::RESET_CONSUMER_OFFSET_IN_BROKER,
        request::INVOKE_BROKER_TO_RESET_OFFSET,
        request::DELETE_TOPIC_IN_BROKER,
        request::QUERY_TOPIC_CONSUME_BY_WHO,
        request::GET_CONSUMER_RUNNING_INFO,
        request::CONSUME_MESSAGE_DIRECTLY,
    ] {
        assert!(
            matches!(
                RequestHeader::decode(code, Some(&empty)),
                Err(WireError::MissingField(_))
            ),
            "code {code}"
        );
    }
    for &code in CODES_WITHOUT_HEADER {
        assert_eq!(
            RequestHeader::decode(code, None),
            Ok(Some(RequestHeader::Empty)),
            "code {code}"
        );
    }
    for code in [
        request::GET_ROUTEINFO_BY_TOPIC,
        request::REGISTER_BROKER,
        99_999,
        -1,
    ] {
        assert_eq!(RequestHeader::decode(code, None), Ok(None), "code {code}");
    }
    let map = fields(&[("consumerGroup", "cg")]);
    let header = RequestHeader::decode(request::GET_CONSUMER_LIST_BY_GROUP, Some(&map))
        .unwrap()
        .unwrap();
    let mut written = ExtFields::new();
    header.encode(&mut written);
    assert_eq!(written, map);
}

#[test]
fn heartbeat_response_announces_v2() {
    let header = HeartbeatResponseHeader {
        supports_heartbeat_v2: Some(true),
        subscription_changed: Some(false),
    };
    let mut command = RemotingCommand::request(request::HEART_BEAT, 1, SerializeType::Json);
    command.language = LanguageCode::JAVA;
    header.encode(command.ext_mut());
    assert_eq!(command.ext("IS_SUPPORT_HEART_BEAT_V2"), Some("true"));
    assert_eq!(command.ext("IS_SUB_CHANGE"), Some("false"));
}

#[test]
fn ext_fields_replace_remove_and_compact() {
    let mut ext = ExtFields::new();
    ext.insert("topic", "T");
    ext.insert(String::from("queueId"), String::from("1"));
    ext.insert("topic", "TopicTest");
    assert_eq!(ext.len(), 2);
    assert_eq!(ext.get("topic"), Some("TopicTest"));
    let pairs: Vec<(&str, &str)> = ext.iter().collect();
    assert_eq!(pairs, [("topic", "TopicTest"), ("queueId", "1")]);
    // Dead bytes from replacements do not affect equality.
    assert_eq!(ext, fields(&[("topic", "TopicTest"), ("queueId", "1")]));
    assert_ne!(ext, fields(&[("queueId", "1"), ("topic", "TopicTest")]));
    for round in 0..1_000 {
        ext.insert("queueId", round.to_string());
    }
    assert_eq!(ext.get("queueId"), Some("999"));
    assert_eq!(ext.remove("topic").as_deref(), Some("TopicTest"));
    assert_eq!(ext.remove("topic"), None);
    assert_eq!(ext.len(), 1);
    assert_eq!(format!("{ext:?}"), r#"{"queueId": "999"}"#);
    ext.insert("", "empty key");
    assert_eq!(ext.get(""), Some("empty key"));
    assert!(ExtFields::empty().is_empty());
}

#[test]
fn json_ext_escapes_and_scalars() {
    // Escaped keys and values take the owned path; numbers and booleans become text.
    let header = r#"{"code":14,"extFields":{"to\u0070ic":"T\u00e9\n","queueId":7,"setZeroIfNotFound":true,"consumerGroup":"cg","x":null,"big":18446744073709551615}}"#;
    let (command, _) =
        RemotingCommand::decode(&json_frame(header, b""), FRAME_BYTES_MAX_DEFAULT).unwrap();
    let query =
        QueryConsumerOffsetRequestHeader::decode_optional(command.ext_fields.as_ref()).unwrap();
    assert_eq!(query.topic, "Té\n");
    assert_eq!(query.queue_id, 7);
    assert_eq!(query.set_zero_if_not_found, Some(true));
    assert_eq!(command.ext("x"), None);
    assert_eq!(command.ext("big"), Some("18446744073709551615"));
}
