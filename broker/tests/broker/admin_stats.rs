//! GET_TOPIC_STATS_INFO (202) and GET_CONSUME_STATS (208): bodies decoded field by field,
//! lag after partial consumption.

use protocol::body::message_queue::MessageQueue;
use protocol::body::route::JsonBody;
use protocol::body::stats::{ConsumeStats, TopicStatsTable};
use protocol::code::{request, response};

use crate::common::{start, Client};

fn create_topic(client: &mut Client, topic: &str, queues: &str) {
    let create = [
        ("topic", topic),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", queues),
        ("writeQueueNums", queues),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("order", "false"),
    ];
    let created = client.call_code(request::UPDATE_AND_CREATE_TOPIC, &create);
    assert_eq!(created.code, response::SUCCESS, "{created:?}");
}

fn commit(client: &mut Client, group: &str, topic: &str, queue: &str, offset: &str) {
    let update = [
        ("consumerGroup", group),
        ("topic", topic),
        ("queueId", queue),
        ("commitOffset", offset),
    ];
    let committed = client.call_code(request::UPDATE_CONSUMER_OFFSET, &update);
    assert_eq!(committed.code, response::SUCCESS);
}

#[test]
fn topic_stats_and_consume_stats_lag() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    create_topic(&mut client, "StatsTopic", "4");
    // Queue q gets q + 1 messages: 1, 2, 3, 4 (10 in all); queues span both shards.
    let before_send = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
        - 1_000;
    for queue in 0..4 {
        for _ in 0..=queue {
            let sent = client.send_message("StatsTopic", queue, b"m", "");
            assert_eq!(sent.code, response::SUCCESS);
        }
    }

    let answer = client.call_code(request::GET_TOPIC_STATS_INFO, &[("topic", "StatsTopic")]);
    assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
    // fastjson object keys, as the Java mqadmin expects.
    let text = String::from_utf8(answer.body.to_vec()).expect("utf8");
    assert!(text.starts_with("{\"offsetTable\":{{\""), "{text}");
    let table = TopicStatsTable::decode(&answer.body).expect("TopicStatsTable");
    assert_eq!(table.offset_table.len(), 4);
    for (queue, offsets) in &table.offset_table {
        assert_eq!(queue.topic, "StatsTopic");
        assert!(!queue.broker_name.is_empty());
        assert_eq!(offsets.min_offset, 0);
        assert_eq!(offsets.max_offset, i64::from(queue.queue_id) + 1);
        assert!(
            offsets.last_update_timestamp_ms >= before_send,
            "{offsets:?}"
        );
    }
    let missing = client.call_code(request::GET_TOPIC_STATS_INFO, &[("topic", "NoTopic")]);
    assert_eq!(missing.code, response::TOPIC_NOT_EXIST);

    // Group "lag": consumed 1 of queue 1, everything of queue 3, nothing elsewhere.
    commit(&mut client, "lag", "StatsTopic", "1", "1");
    commit(&mut client, "lag", "StatsTopic", "3", "4");
    for ext in [
        vec![("consumerGroup", "lag"), ("topic", "StatsTopic")],
        // Without a topic: the topics the group committed offsets for.
        vec![("consumerGroup", "lag")],
    ] {
        let answer = client.call_code(request::GET_CONSUME_STATS, &ext);
        assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
        let stats = ConsumeStats::decode(&answer.body).expect("ConsumeStats");
        assert_eq!(stats.offset_table.len(), 4, "{stats:?}");
        let broker_name = table
            .offset_table
            .keys()
            .next()
            .expect("queue")
            .broker_name
            .clone();
        let wrapper = |queue: i32| {
            stats.offset_table[&MessageQueue::new("StatsTopic", broker_name.as_str(), queue)]
        };
        assert_eq!(wrapper(0).broker_offset, 1);
        assert_eq!(wrapper(0).consumer_offset, 0);
        assert_eq!(wrapper(0).last_timestamp_ms, 0);
        assert_eq!(wrapper(1).broker_offset, 2);
        assert_eq!(wrapper(1).consumer_offset, 1);
        assert!(wrapper(1).last_timestamp_ms >= before_send);
        assert_eq!(wrapper(2).consumer_offset, 0);
        assert_eq!(wrapper(3).broker_offset, 4);
        assert_eq!(wrapper(3).consumer_offset, 4);
        assert_eq!(wrapper(3).pull_offset, 4);
        // Lag = (1-0) + (2-1) + (3-0) + (4-4).
        assert_eq!(stats.total_diff(), 5);
        assert_eq!(stats.consume_tps, 0.0);
    }
    // A group with no offsets and no subscription: empty table.
    let empty = client.call_code(request::GET_CONSUME_STATS, &[("consumerGroup", "nobody")]);
    assert_eq!(empty.code, response::SUCCESS);
    let stats = ConsumeStats::decode(&empty.body).expect("ConsumeStats");
    assert!(stats.offset_table.is_empty());
}

#[test]
fn broker_config_as_properties() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let answer = client.call_code(request::GET_BROKER_CONFIG, &[]);
    assert_eq!(answer.code, response::SUCCESS);
    let version: serde_json::Value =
        serde_json::from_str(answer.ext("version").expect("version")).expect("DataVersion");
    assert!(version["timestamp"].as_i64().expect("timestamp") > 0);
    let text = String::from_utf8(answer.body.to_vec()).expect("utf8");
    let values: std::collections::BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    assert_eq!(values["brokerClusterName"], "DefaultCluster");
    assert!(values["maxMessageSize"].parse::<u32>().expect("number") > 0);
    assert_eq!(values["enablePropertyFilter"], "false");
    assert_eq!(values["flushDiskType"], "ASYNC_FLUSH");
}

fn config_value(client: &mut Client, key: &str) -> String {
    let answer = client.call_code(request::GET_BROKER_CONFIG, &[]);
    let text = String::from_utf8(answer.body.to_vec()).expect("utf8");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")).map(str::to_owned))
        .expect("key listed")
}

#[test]
fn broker_config_updates_at_runtime_on_every_shard() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let update = |client: &mut Client, body: &str| {
        let command = client
            .request(request::UPDATE_BROKER_CONFIG, &[])
            .with_body(body.as_bytes().to_vec());
        client.call(command)
    };
    let answer = update(
        &mut client,
        "maxMessageSize=1024\nenablePropertyFilter=true\n",
    );
    assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
    assert_eq!(config_value(&mut client, "maxMessageSize"), "1024");
    assert_eq!(config_value(&mut client, "enablePropertyFilter"), "true");
    // Every shard enforces the new limit (queues 0..4 spread over the shards).
    for queue in 0..4 {
        let big = client.send_message("ConfigTopic", queue, &[b'x'; 2048], "");
        assert_eq!(
            big.code,
            response::MESSAGE_ILLEGAL,
            "queue {queue}: {big:?}"
        );
        let small = client.send_message("ConfigTopic", queue, &[b'x'; 512], "");
        assert_eq!(small.code, response::SUCCESS, "queue {queue}: {small:?}");
    }
    // Startup-only keys, bad values and raising past the store's limit are refused by name.
    for (body, named) in [
        ("listenPort=1234", "listenPort"),
        ("maxMessageSize=lots", "maxMessageSize"),
        ("maxMessageSize=999999999", "maxMessageSize"),
        ("", "key=value"),
    ] {
        let refused = update(&mut client, body);
        assert_eq!(refused.code, response::SYSTEM_ERROR, "{body}");
        let remark = refused.remark.clone().unwrap_or_default();
        assert!(remark.contains(named), "{body}: {remark}");
    }
    assert_eq!(config_value(&mut client, "maxMessageSize"), "1024");
}
