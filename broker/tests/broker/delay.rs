//! Delay levels over TCP: `DELAY` property, per-level order, restart, and the retry path
//! (CONSUMER_SEND_MSG_BACK → level `3 + reconsumeTimes` → `%RETRY%group` → `%DLQ%group`).
//! Levels are shortened in the config so the tests take seconds.

use std::path::Path;
use std::time::{Duration, Instant};

use broker::BrokerConfig;
use protocol::code::{request, response};
use protocol::message::properties::keys;

use crate::common::{props, records, start_with, Client, Record};

/// Pull sysFlag FLAG_SUSPEND | FLAG_SUBSCRIPTION.
const SUSPEND: i32 = 6;

fn config(dir: &Path, levels_ms: &[u64]) -> BrokerConfig {
    let mut config = BrokerConfig::for_tests(dir);
    config.message_delay_levels_ms = levels_ms.to_vec();
    config
}

/// Long-polls `topic` queue `queue_id` from `offset` until `count` records arrived.
fn pull_until(client: &mut Client, topic: &str, queue_id: i32, count: usize) -> Vec<Record> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    while got.len() < count && Instant::now() < deadline {
        let offset = i64::try_from(got.len()).expect("small");
        let pulled = client.pull("dg", topic, queue_id, offset, SUSPEND, 3_000, Some("*"));
        if pulled.code == response::SUCCESS {
            got.extend(records(&pulled.body));
        }
    }
    got
}

#[test]
fn delay_level_message_arrives_on_time_with_properties_kept() {
    let dir = crate::common::tempdir();
    let broker = start_with(config(dir.path(), &[1_000, 2_000, 3_000]));
    let mut client = Client::connect(broker.local_addr());
    // Create the topic (and learn its queue 0 is empty) before timing.
    let properties = props(&[
        ("DELAY", "1"),
        ("KEYS", "k1"),
        ("TAGS", "TagA"),
        ("UNIQ_KEY", "U-delay-1"),
    ]);
    let sent_at = Instant::now();
    let sent = client.send_message("DelayTopic", 0, b"later", &properties);
    let acked_at = Instant::now();
    assert_eq!(sent.code, response::SUCCESS, "{sent:?}");
    let immediate = client.pull("dg", "DelayTopic", 0, 0, 4, 0, Some("*"));
    assert!(
        records(&immediate.body).is_empty(),
        "not visible before due: {immediate:?}"
    );
    let got = pull_until(&mut client, "DelayTopic", 0, 1);
    let arrived_at = Instant::now();
    assert_eq!(got.len(), 1);
    let waited = arrived_at - sent_at;
    assert!(
        waited >= Duration::from_millis(950),
        "delivered early: {waited:?}"
    );
    assert!(
        arrived_at - acked_at <= Duration::from_millis(2_000),
        "delivered late: {:?}",
        arrived_at - acked_at
    );
    let message = &got[0];
    assert_eq!(message.topic, "DelayTopic");
    assert_eq!(message.body, b"later");
    assert_eq!(message.property(keys::DELAY), None);
    assert_eq!(message.property(keys::KEYS), Some("k1"));
    assert_eq!(message.property(keys::TAGS), Some("TagA"));
    assert_eq!(message.property(keys::UNIQ_KEY), Some("U-delay-1"));
    assert_eq!(message.property(keys::REAL_TOPIC), Some("DelayTopic"));

    // GET_ALL_DELAY_OFFSET: level 1 delivered one entry; every level is listed.
    let mut delivered = serde_json::Value::Null;
    for _ in 0..20 {
        let answer = client.call_code(protocol::code::request::GET_ALL_DELAY_OFFSET, &[]);
        delivered = serde_json::from_slice(&answer.body).expect("json");
        if delivered["offsetTable"]["1"] == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(delivered["offsetTable"]["1"], 1, "{delivered}");
    assert_eq!(delivered["offsetTable"]["2"], 0, "{delivered}");
}

#[test]
fn delay_level_keeps_order_and_clamps_levels() {
    let dir = crate::common::tempdir();
    let broker = start_with(config(dir.path(), &[300, 600]));
    let mut client = Client::connect(broker.local_addr());
    for index in 0..5 {
        // Level 99 is clamped to the last level (600 ms).
        let level = if index == 4 { "99" } else { "1" };
        let body = format!("m{index}");
        let sent = client.send_message(
            "OrderedDelay",
            1,
            body.as_bytes(),
            &props(&[("DELAY", level)]),
        );
        assert_eq!(sent.code, response::SUCCESS, "{sent:?}");
    }
    let got = pull_until(&mut client, "OrderedDelay", 1, 5);
    let bodies: Vec<_> = got
        .iter()
        .map(|record| String::from_utf8_lossy(&record.body).into_owned())
        .collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    assert!(got.iter().all(|record| record.queue_id == 1));
}

#[test]
fn scheduled_message_survives_restart_and_progress_is_persisted() {
    let dir = crate::common::tempdir();
    let levels = [1_500, 300];
    {
        let broker = start_with(config(dir.path(), &levels));
        let mut client = Client::connect(broker.local_addr());
        let first = client.send_message("RestartDelay", 0, b"fast", &props(&[("DELAY", "2")]));
        assert_eq!(first.code, response::SUCCESS);
        assert_eq!(pull_until(&mut client, "RestartDelay", 0, 1).len(), 1);
        let sent = client.send_message("RestartDelay", 0, b"slow", &props(&[("DELAY", "1")]));
        assert_eq!(sent.code, response::SUCCESS);
        broker.shutdown().expect("clean shutdown");
    }
    let progress = std::fs::read_to_string(dir.path().join("config/delayOffset.json"))
        .expect("delayOffset.json written");
    let table: serde_json::Value = serde_json::from_str(&progress).expect("json");
    assert_eq!(table["offsetTable"]["2"], 1, "{progress}");
    let broker = start_with(config(dir.path(), &levels));
    let mut client = Client::connect(broker.local_addr());
    let got = pull_until(&mut client, "RestartDelay", 0, 2);
    let bodies: Vec<_> = got.iter().map(|record| record.body.clone()).collect();
    assert_eq!(
        bodies,
        [b"fast".to_vec(), b"slow".to_vec()],
        "no loss, no duplicate"
    );
}

#[test]
fn send_back_waits_on_level_three_plus_reconsume_times_then_dead_letters() {
    let dir = crate::common::tempdir();
    // Levels 1-2 long, 3.. short: a wrong level choice shows up as a timeout.
    let mut levels = vec![60_000, 60_000];
    levels.extend([200; 16]);
    let broker = start_with(config(dir.path(), &levels));
    let mut client = Client::connect(broker.local_addr());
    let sent = client.send_message("RetryDelay", 0, b"work", &props(&[("UNIQ_KEY", "U9")]));
    assert_eq!(sent.code, response::SUCCESS);
    let mut current = pull_until(&mut client, "RetryDelay", 0, 1).remove(0);
    let max_reconsume = 3;
    for attempt in 1..=max_reconsume {
        let offset = current.physical_offset.to_string();
        let max = max_reconsume.to_string();
        let back = client.call_code(
            request::CONSUMER_SEND_MSG_BACK,
            &[
                ("offset", offset.as_str()),
                ("group", "dg"),
                ("delayLevel", "0"),
                ("originMsgId", "U9"),
                ("maxReconsumeTimes", max.as_str()),
            ],
        );
        assert_eq!(back.code, response::SUCCESS, "{back:?}");
        let retried = pull_until(
            &mut client,
            "%RETRY%dg",
            0,
            usize::try_from(attempt).unwrap(),
        );
        assert_eq!(
            retried.len(),
            usize::try_from(attempt).unwrap(),
            "retry {attempt} delivered"
        );
        current = retried.into_iter().last().expect("one");
        assert_eq!(current.reconsume_times, attempt);
        assert_eq!(current.property(keys::RETRY_TOPIC), Some("RetryDelay"));
        assert_eq!(current.property(keys::ORIGIN_MESSAGE_ID), Some("U9"));
        assert_eq!(current.property(keys::DELAY), None);
    }
    let offset = current.physical_offset.to_string();
    let back = client.call_code(
        request::CONSUMER_SEND_MSG_BACK,
        &[
            ("offset", offset.as_str()),
            ("group", "dg"),
            ("delayLevel", "0"),
            ("maxReconsumeTimes", "3"),
        ],
    );
    assert_eq!(back.code, response::SUCCESS, "{back:?}");
    let dead = client.pull("dg", "%DLQ%dg", 0, 0, 4, 0, Some("*"));
    let dead = records(&dead.body);
    assert_eq!(dead.len(), 1, "straight to the DLQ, no delay");
    assert_eq!(dead[0].reconsume_times, 4);
    assert_eq!(dead[0].body, b"work");
}

#[test]
fn sending_to_system_topics_is_refused() {
    let dir = crate::common::tempdir();
    let broker = start_with(BrokerConfig::for_tests(dir.path()));
    let mut client = Client::connect(broker.local_addr());
    for topic in [
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "RMQ_SYS_TRANS_OP_HALF_TOPIC",
        "TRANS_CHECK_MAX_TIME_TOPIC",
    ] {
        let reply = client.send_message(topic, 0, b"x", "");
        assert_eq!(reply.code, response::NO_PERMISSION, "{topic}: {reply:?}");
    }
}
