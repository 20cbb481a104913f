//! Deterministic fuzz corpus (what CI runs instead of cargo-fuzz): valid seeds for every
//! decoder — frames in both encodings, header ext maps, JSON bodies, stored records, batch
//! bodies, message ids — each truncated at every length and mutated many times with a fixed
//! seed, then fed to every decoder. A decoder may refuse an input; it must never panic,
//! loop or allocate without bound.

use bytes::{Bytes, BytesMut};
use protocol::body::consumer::{
    ConsumerConnection, ConsumerListBody, GroupList, ProducerConnection,
};
use protocol::body::fastjson::quote_keys;
use protocol::body::heartbeat::HeartbeatData;
use protocol::body::lock::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use protocol::body::route::JsonBody;
use protocol::body::stats::{
    ConsumeStats, ConsumerOffsetSerializeWrapper, ResetOffsetBody, TopicStatsTable,
};
use protocol::body::subscription::{SubscriptionGroupConfig, SubscriptionGroupWrapper};
use protocol::code::request;
use protocol::command::ExtFields;
use protocol::frame::{self, FRAME_BYTES_MAX_DEFAULT};
use protocol::header::admin::*;
use protocol::header::client::*;
use protocol::header::offset::*;
use protocol::header::pull::*;
use protocol::header::query::*;
use protocol::header::send::*;
use protocol::header::topic::{validate_group, validate_topic};
use protocol::header::{CommandHeader, RequestHeader};
use protocol::message::batch::{decode_batch, BatchEntry, BatchIter};
use protocol::message::record::{decode_log_entry, decode_records, RecordFields, RecordView};
use protocol::message::{OffsetMessageId, Properties, UniqueId};
use protocol::{RemotingCommand, SerializeType};

/// Random mutations per seed (on top of every truncation); `PROTOCOL_CORPUS_MUTATIONS`
/// raises it for a longer local run.
fn mutations_per_seed() -> usize {
    std::env::var("PROTOCOL_CORPUS_MUTATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(600)
}

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            usize::try_from(self.next() % bound as u64).unwrap_or(0)
        }
    }
}

const INTERESTING_I32: [i32; 10] = [0, 1, -1, 4, 8, 20, 91, 127, i32::MAX, i32::MIN];
const INTERESTING_BYTES: &[u8] = b"\x00\x01\x7f\x80\xff{}[]\":,\\0-9eE.ntf ";

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            }
            2 if len >= 4 => {
                let at = rng.below(len - 3);
                let value = INTERESTING_I32[rng.below(INTERESTING_I32.len())];
                let value = if rng.below(2) == 0 {
                    value
                } else {
                    i32::try_from(len).unwrap_or(0).wrapping_add(value)
                };
                data[at..at + 4].copy_from_slice(&value.to_be_bytes());
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let count = 1 + rng.below(16.min(len - at));
                data.drain(at..at + count);
            }
            4 => {
                let at = rng.below(len + 1);
                let byte = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
                let count = 1 + rng.below(8);
                data.splice(at..at, std::iter::repeat_n(byte, count));
            }
            5 if len > 0 => {
                let from = rng.below(len);
                let count = 1 + rng.below(32.min(len - from));
                let chunk = data[from..from + count].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            6 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let cut = rng.below(len + 1);
                data.truncate(cut);
            }
        }
    }
    data
}

/// Feeds `input` to every decoder of one family, one corpus entry.
fn run_corpus(name: &str, seeds: &[Vec<u8>], decode: impl Fn(&[u8]), seed: u64) {
    let mut rng = Rng(seed);
    let mut runs = 0usize;
    let mutations = mutations_per_seed();
    for (index, input) in seeds.iter().enumerate() {
        decode(input);
        for cut in 0..input.len() {
            decode(&input[..cut]);
        }
        let other = &seeds[(index + 1) % seeds.len()];
        for _ in 0..mutations {
            decode(&mutate(&mut rng, input, other));
        }
        runs += 1 + input.len() + mutations;
    }
    assert!(runs > seeds.len(), "{name}: corpus ran");
}

// ---------------------------------------------------------------------------------------
// Decoders

const ALL_REQUEST_CODES: &[i32] = &[
    request::SEND_MESSAGE,
    request::PULL_MESSAGE,
    request::QUERY_MESSAGE,
    request::QUERY_CONSUMER_OFFSET,
    request::UPDATE_CONSUMER_OFFSET,
    request::UPDATE_AND_CREATE_TOPIC,
    request::GET_ALL_TOPIC_CONFIG,
    request::SEARCH_OFFSET_BY_TIMESTAMP,
    request::GET_MAX_OFFSET,
    request::GET_MIN_OFFSET,
    request::GET_EARLIEST_MSG_STORETIME,
    request::VIEW_MESSAGE_BY_ID,
    request::HEART_BEAT,
    request::UNREGISTER_CLIENT,
    request::CONSUMER_SEND_MSG_BACK,
    request::END_TRANSACTION,
    request::GET_CONSUMER_LIST_BY_GROUP,
    request::CHECK_TRANSACTION_STATE,
    request::NOTIFY_CONSUMER_IDS_CHANGED,
    request::LOCK_BATCH_MQ,
    request::GET_TOPIC_STATS_INFO,
    request::GET_CONSUMER_CONNECTION_LIST,
    request::GET_PRODUCER_CONNECTION_LIST,
    request::DELETE_SUBSCRIPTIONGROUP,
    request::GET_CONSUME_STATS,
    request::INVOKE_BROKER_TO_RESET_OFFSET,
    request::DELETE_TOPIC_IN_BROKER,
    request::QUERY_TOPIC_CONSUME_BY_WHO,
    request::GET_CONSUMER_RUNNING_INFO,
    request::CONSUME_MESSAGE_DIRECTLY,
    request::SEND_MESSAGE_V2,
    request::SEND_BATCH_MESSAGE,
];

fn decode_headers(fields: Option<&ExtFields>) {
    for &code in ALL_REQUEST_CODES {
        if let Ok(Some(header)) = RequestHeader::decode(code, fields) {
            let mut written = ExtFields::new();
            header.encode(&mut written);
            // What we write we read back identically.
            assert_eq!(
                RequestHeader::decode(code, Some(&written)),
                Ok(Some(header))
            );
        }
    }
    let _ = SendMessageResponseHeader::decode_optional(fields);
    let _ = PullMessageResponseHeader::decode_optional(fields);
    let _ = QueryConsumerOffsetResponseHeader::decode_optional(fields);
    let _ = SearchOffsetResponseHeader::decode_optional(fields);
    let _ = GetMaxOffsetResponseHeader::decode_optional(fields);
    let _ = GetMinOffsetResponseHeader::decode_optional(fields);
    let _ = GetEarliestMsgStoretimeResponseHeader::decode_optional(fields);
    let _ = QueryMessageResponseHeader::decode_optional(fields);
    let _ = HeartbeatResponseHeader::decode_optional(fields);
    let _ = GetBrokerConfigResponseHeader::decode_optional(fields);
    let _ = GetAllTopicConfigResponseHeader::decode_optional(fields);
    if let Some(topic) = fields.and_then(|f| f.get("topic")) {
        let _ = validate_topic(topic);
        let _ = validate_group(topic);
    }
}

fn decode_bodies(bytes: &[u8]) {
    if let Ok(heartbeat) = HeartbeatData::decode(bytes) {
        // What we decode we write again and read back the same.
        let text = heartbeat.to_bytes().expect("a decoded heartbeat encodes");
        assert_eq!(HeartbeatData::decode(&text), Ok(heartbeat));
    }
    if let Ok(stats) = ConsumeStats::decode(bytes) {
        let text = stats.to_bytes().expect("encodes");
        let again = ConsumeStats::decode(&text).expect("re-decodes");
        assert_eq!(again.offset_table, stats.offset_table);
    }
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
    let _ = quote_keys(bytes);
}

fn decode_records_all(bytes: &[u8]) {
    if let Ok((view, consumed)) = RecordView::decode(bytes) {
        assert!(consumed <= bytes.len());
        let _ = view.uncompressed_body();
        let _ = view.body_crc_matches();
        let _ = Properties::parse(view.properties);
        let mut out = BytesMut::new();
        if view.fields().encode(&mut out).is_ok() {
            let (again, _) = RecordView::decode(&out).expect("a re-encoded record decodes");
            assert_eq!(again.topic, view.topic);
            assert_eq!(again.body, view.body);
        }
    }
    let _ = decode_log_entry(bytes);
    for record in decode_records(bytes).take(10_000) {
        if record.is_err() {
            break;
        }
    }
    let _ = decode_batch(bytes);
    let _ = BatchIter::new(bytes).take(10_000).count();
    let _ = BatchEntry::decode(bytes);
}

fn decode_frame(bytes: &[u8]) {
    let _ = frame::check(bytes, 64);
    let _ = frame::check(bytes, FRAME_BYTES_MAX_DEFAULT);
    let _ = RemotingCommand::decode_bytes(&Bytes::copy_from_slice(bytes), FRAME_BYTES_MAX_DEFAULT);
    if let Ok((command, consumed)) = RemotingCommand::decode(bytes, FRAME_BYTES_MAX_DEFAULT) {
        assert!(consumed <= bytes.len());
        decode_headers(command.ext_fields.as_ref());
        decode_bodies(&command.body);
        decode_records_all(&command.body);
        // What we decode we can write again, and read back the same.
        let mut out = BytesMut::new();
        if command.encode(&mut out).is_ok() {
            let (again, _) = RemotingCommand::decode(&out, FRAME_BYTES_MAX_DEFAULT)
                .expect("a re-encoded frame decodes");
            assert_eq!(again.code, command.code);
            assert_eq!(again.body, command.body);
        }
    }
    let _ = RemotingCommand::decode_parts(SerializeType::Json, bytes, Bytes::new());
    let _ = RemotingCommand::decode_parts(SerializeType::RocketMq, bytes, Bytes::new());
}

// ---------------------------------------------------------------------------------------
// Seeds

fn encode_frame(command: &RemotingCommand) -> Vec<u8> {
    let mut out = BytesMut::new();
    command.encode(&mut out).unwrap();
    out.to_vec()
}

fn send_v2_header() -> SendMessageRequestHeaderV2 {
    SendMessageRequestHeaderV2 {
        producer_group: "pg".to_owned(),
        topic: "TopicTest".to_owned(),
        default_topic: "TBW102".to_owned(),
        default_topic_queue_nums: 4,
        queue_id: 1,
        sys_flag: 0,
        born_timestamp_ms: 1_712_345_678_901,
        flag: 0,
        properties: Some("TAGS\u{1}TagA\u{2}UNIQ_KEY\u{1}7F0000010F6818B4AAC2\u{2}".to_owned()),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: None,
        batch: Some(false),
        broker_name: None,
    }
}

fn pull_header() -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: "cg".to_owned(),
        topic: "TopicTest".to_owned(),
        queue_id: 0,
        queue_offset: 10,
        max_message_count: 32,
        sys_flag: 3,
        commit_offset: 5,
        suspend_timeout_ms: 15_000,
        subscription: Some("TagA || TagB".to_owned()),
        subscription_version: 1_712_345_678_901_234_567,
        expression_type: Some("TAG".to_owned()),
        max_message_bytes: None,
        request_source: None,
        proxy_forward_client_id: None,
    }
}

fn record_seed(topic: &str, body: &[u8], v6: bool, sys_flag: i32) -> Vec<u8> {
    let born = if v6 { "[::1]:5555" } else { "127.0.0.1:5555" };
    let fields = RecordFields {
        queue_id: 1,
        flag: 0,
        queue_offset: 7,
        physical_offset: 4096,
        sys_flag,
        born_timestamp_ms: 1_712_345_678_901,
        born_host: born.parse().unwrap(),
        store_timestamp_ms: 1_712_345_678_999,
        store_host: "10.0.0.5:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body,
        topic,
        properties: "TAGS\u{1}TagA\u{2}KEYS\u{1}k1 k2\u{2}UNIQ_KEY\u{1}7F0000010F6818B4AAC2\u{2}",
    };
    let mut out = BytesMut::new();
    fields.encode(&mut out).unwrap();
    out.to_vec()
}

fn frame_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        let mut send = RemotingCommand::request(request::SEND_MESSAGE_V2, 1, serialize_type)
            .with_body(vec![b'x'; 64]);
        send_v2_header().encode(send.ext_mut());
        seeds.push(encode_frame(&send));
        let mut pull = RemotingCommand::request(request::PULL_MESSAGE, 2, serialize_type);
        pull_header().encode(pull.ext_mut());
        seeds.push(encode_frame(&pull));
        let mut response = RemotingCommand::response_to(&pull, 0)
            .with_remark("FOUND")
            .with_body(record_seed("TopicTest", b"hello", false, 0));
        response.ext_mut().insert("nextBeginOffset", "11");
        response.ext_mut().insert("minOffset", "0");
        response.ext_mut().insert("maxOffset", "11");
        response.ext_mut().insert("suggestWhichBrokerId", "0");
        seeds.push(encode_frame(&response));
        let mut heartbeat = RemotingCommand::request(request::HEART_BEAT, 3, serialize_type)
            .with_body(HEARTBEAT.as_bytes().to_vec());
        heartbeat.ext_mut();
        seeds.push(encode_frame(&heartbeat));
        let mut lock = RemotingCommand::request(request::LOCK_BATCH_MQ, 4, serialize_type)
            .with_body(LOCK.as_bytes().to_vec());
        lock.ext_mut().insert("AccessKey", "ak");
        seeds.push(encode_frame(&lock));
    }
    let go = r#"{"code":10,"language":"GO","version":317,"opaque":9,"flag":0,"remark":"","extFields":{"producerGroup":"pg","topic":"T","queueId":"1","sysFlag":"0","bornTimestamp":"1712345678901","flag":"0","defaultTopic":"TBW102","defaultTopicQueueNums":"4","unitMode":false,"batch":0}}"#;
    let mut frame = Vec::new();
    frame.extend_from_slice(&u32::try_from(4 + go.len() + 3).unwrap().to_be_bytes());
    frame.extend_from_slice(&u32::try_from(go.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(go.as_bytes());
    frame.extend_from_slice(b"abc");
    seeds.push(frame);
    seeds
}

const HEARTBEAT: &str = r#"{"clientID":"192.168.0.2@12345","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","consumeType":1,"groupName":"cg","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":["2598919",2598921],"expressionType":"TAG","subString":"TagA || TagC","subVersion":"1712345678901234567","tagsSet":["TagA","TagC"],"topic":"TopicTest"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"pg"}],"withoutSub":false}"#;
const LOCK: &str = r#"{"clientId":"c@1","consumerGroup":"cg","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}],"onlyThisBroker":false}"#;
const CONSUME_STATS: &str = r#"{"consumeTps":1.5,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":1,"pullOffset":10},{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":0,"consumerOffset":0,"lastTimestamp":0,"pullOffset":0}}}"#;
const TOPIC_STATS: &str = r#"{"offsetTable":{{"brokerName":"b","queueId":2,"topic":"t"}:{"lastUpdateTimestamp":0,"maxOffset":0,"minOffset":0}},"topicPutTps":0.0}"#;
const CONNECTION: &str = r#"{"connectionSet":[{"clientAddr":"127.0.0.1:5555","clientId":"c@1","language":"JAVA","version":479}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{"T":{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":5,"tagsSet":[],"topic":"T"}}}"#;
const GROUP: &str = r#"{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":2},"forbiddenTable":{},"subscriptionGroupTable":{"g":{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"g","groupRetryPolicy":{"type":"CUSTOMIZED","customizedRetryPolicy":{"next":[1000,5000]}},"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}}}"#;
const OFFSETS: &str = r#"{"offsetTable":{"T@g":{0:12,1:34}},"dataVersion":{"counter":3}}"#;

fn body_seeds() -> Vec<Vec<u8>> {
    [
        HEARTBEAT,
        LOCK,
        CONSUME_STATS,
        TOPIC_STATS,
        CONNECTION,
        GROUP,
        OFFSETS,
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .chain(std::iter::once(
        br#"{"consumerIdList":["a","b"],"groupList":["g"],"lockOKMQSet":[]}"#.to_vec(),
    ))
    .collect()
}

fn header_seeds() -> Vec<Vec<u8>> {
    // Ext maps as binary ext entries inside a binary frame, so header-level mutations
    // reach the typed decoders.
    let mut seeds = Vec::new();
    for code in [
        request::SEND_MESSAGE_V2,
        request::PULL_MESSAGE,
        request::END_TRANSACTION,
    ] {
        let mut command = RemotingCommand::request(code, 1, SerializeType::RocketMq);
        match code {
            request::SEND_MESSAGE_V2 => send_v2_header().encode(command.ext_mut()),
            request::PULL_MESSAGE => pull_header().encode(command.ext_mut()),
            _ => {
                for (key, value) in [
                    ("producerGroup", "pg"),
                    ("tranStateTableOffset", "3"),
                    ("commitLogOffset", "4096"),
                    ("commitOrRollback", "8"),
                    ("msgId", "7F00000100002A9F0000000000001000"),
                    ("fromTransactionCheck", "1"),
                ] {
                    command.ext_mut().insert(key, value);
                }
            }
        }
        seeds.push(encode_frame(&command));
        command.serialize_type = SerializeType::Json;
        seeds.push(encode_frame(&command));
    }
    seeds
}

fn record_seeds() -> Vec<Vec<u8>> {
    let mut compressed = Vec::new();
    {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(&mut compressed, flate2::Compression::new(5));
        encoder.write_all(&[b'z'; 300]).unwrap();
        encoder.finish().unwrap();
    }
    let long_topic = "t".repeat(200);
    let mut pull_body = Vec::new();
    for index in 0..4u8 {
        pull_body.extend(record_seed("TopicTest", &[index; 16], index % 2 == 1, 0));
    }
    let mut batch = BytesMut::new();
    for body in [&b"one"[..], b"two", b""] {
        BatchEntry {
            magic: 0,
            body_crc: 0,
            flag: 0,
            body,
            properties: "KEYS\u{1}k\u{2}",
        }
        .encode(&mut batch)
        .unwrap();
    }
    vec![
        record_seed("TopicTest", b"hello", false, 0),
        record_seed("TopicTest", b"", true, 0x4),
        record_seed(&long_topic, b"long topic", false, 0),
        record_seed("TopicTest", &compressed, false, 0x1),
        pull_body,
        batch.to_vec(),
        vec![0, 0, 0, 16, 0xCB, 0xD4, 0x31, 0x94, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
}

// ---------------------------------------------------------------------------------------
// The corpus runs

#[test]
fn frame_corpus_never_panics() {
    run_corpus("frame", &frame_seeds(), decode_frame, 0x5EED_0001);
}

#[test]
fn header_corpus_never_panics() {
    run_corpus("header", &header_seeds(), decode_frame, 0x5EED_0002);
}

#[test]
fn body_corpus_never_panics() {
    run_corpus("body", &body_seeds(), decode_bodies, 0x5EED_0003);
}

#[test]
fn record_corpus_never_panics() {
    run_corpus("record", &record_seeds(), decode_records_all, 0x5EED_0004);
}

#[test]
fn id_and_property_corpus_never_panics() {
    let seeds: Vec<Vec<u8>> = [
        "7F00000100002A9F0000000000001000",
        "00000000000000000000000000000001000000000000000000002A9F0000000000001000",
        "7F0000010F6818B4AAC2001234567890",
        "TAGS\u{1}TagA\u{2}KEYS\u{1}a b\u{2}\u{1}\u{2}x\u{2}",
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .collect();
    run_corpus(
        "ids",
        &seeds,
        |bytes| {
            if let Ok(text) = std::str::from_utf8(bytes) {
                let _ = OffsetMessageId::decode(text);
                let _ = UniqueId::decode(text);
                let _ = Properties::parse(text);
            }
            let text = String::from_utf8_lossy(bytes);
            let _ = OffsetMessageId::decode(&text);
            let _ = UniqueId::decode(&text);
        },
        0x5EED_0005,
    );
}

#[test]
fn deep_and_huge_json_is_refused_quickly() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    decode_bodies(deep.as_bytes());
    let deep_keys = "{{".repeat(50_000);
    decode_bodies(deep_keys.as_bytes());
    let wide = format!("{{\"consumerIdList\":[{}\"x\"]}}", "\"a\",".repeat(100_000));
    assert_eq!(
        ConsumerListBody::decode(wide.as_bytes())
            .unwrap()
            .consumer_id_list
            .len(),
        100_001
    );
    let object_keys = format!(
        "{{\"offsetTable\":{{{}}}}}",
        (0..5_000)
            .map(|id| format!(
                "{{\"brokerName\":\"b\",\"queueId\":{id},\"topic\":\"t\"}}:{{\"maxOffset\":{id}}}"
            ))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(
        TopicStatsTable::decode(object_keys.as_bytes())
            .unwrap()
            .offset_table
            .len(),
        5_000
    );
}
