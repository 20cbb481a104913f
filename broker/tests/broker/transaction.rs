//! Transactions over TCP with raw frames: half messages, END_TRANSACTION commit/rollback,
//! CHECK_TRANSACTION_STATE check-back, check max, restart.

use std::time::Duration;

use broker::BrokerConfig;
use protocol::code::{request, response};
use protocol::message::properties::keys;
use protocol::message::OffsetMessageId;
use protocol::RemotingCommand;

use crate::common::{eventually, ext_i64, props, records, start_with, Client};

fn config(dir: &std::path::Path, check_max: u32) -> BrokerConfig {
    let mut config = BrokerConfig::for_tests(dir);
    config.transaction_timeout_ms = 200;
    config.transaction_check_interval_ms = 100;
    config.transaction_check_max = check_max;
    config
}

/// Sends a half message; returns (commit-log offset, half queue offset).
fn send_half(client: &mut Client, topic: &str, body: &[u8], unique: &str) -> (i64, i64) {
    let properties = props(&[("TRAN_MSG", "true"), ("PGROUP", "pg"), ("UNIQ_KEY", unique)]);
    let mut command = client.send_request(topic, 0, body, &properties);
    command.ext_mut().insert("a", "pg");
    command.ext_mut().insert("f", "4");
    let reply = client.call(command);
    assert_eq!(reply.code, response::SUCCESS, "{reply:?}");
    let id = OffsetMessageId::decode(reply.ext("msgId").expect("msgId")).expect("offset id");
    (id.commit_log_offset, ext_i64(&reply, "queueOffset"))
}

fn end(
    client: &mut Client,
    offsets: (i64, i64),
    resolution: i32,
    from_check: bool,
) -> RemotingCommand {
    let (commit_log, queue) = (offsets.0.to_string(), offsets.1.to_string());
    let resolution = resolution.to_string();
    let from_check = from_check.to_string();
    client.call_code(
        request::END_TRANSACTION,
        &[
            ("producerGroup", "pg"),
            ("tranStateTableOffset", queue.as_str()),
            ("commitLogOffset", commit_log.as_str()),
            ("commitOrRollback", resolution.as_str()),
            ("fromTransactionCheck", from_check.as_str()),
            ("msgId", "m"),
        ],
    )
}

fn heartbeat_producer(client: &mut Client) {
    let body =
        r#"{"clientID":"producer-1","consumerDataSet":[],"producerDataSet":[{"groupName":"pg"}]}"#;
    let command = client
        .request(request::HEART_BEAT, &[])
        .with_body(body.as_bytes().to_vec());
    assert_eq!(client.call(command).code, response::SUCCESS);
}

fn bodies(client: &mut Client, topic: &str) -> Vec<Vec<u8>> {
    let pulled = client.pull("cg", topic, 0, 0, 4, 0, Some("*"));
    records(&pulled.body)
        .into_iter()
        .map(|record| record.body)
        .collect()
}

#[test]
fn commit_rollback_and_pending_half_across_restart() {
    let dir = crate::common::tempdir();
    {
        let mut config = config(dir.path(), 15);
        config.transaction_timeout_ms = 60_000;
        let broker = start_with(config);
        let mut client = Client::connect(broker.local_addr());
        let committed = send_half(&mut client, "TxTopic", b"commit-me", "U1");
        let rolled_back = send_half(&mut client, "TxTopic", b"roll-me", "U2");
        let pending = send_half(&mut client, "TxTopic", b"pending", "U3");
        assert!(
            bodies(&mut client, "TxTopic").is_empty(),
            "halves are invisible"
        );
        assert_eq!(
            end(&mut client, committed, 8, false).code,
            response::SUCCESS
        );
        assert_eq!(
            end(&mut client, rolled_back, 12, false).code,
            response::SUCCESS
        );
        assert_eq!(end(&mut client, pending, 0, false).code, response::SUCCESS);
        // An unknown answer left it pending; now the producer commits it.
        assert_eq!(end(&mut client, pending, 8, false).code, response::SUCCESS);
        let wrong_group = client.call_code(
            request::END_TRANSACTION,
            &[
                ("producerGroup", "other"),
                ("tranStateTableOffset", "0"),
                ("commitLogOffset", &committed.0.to_string()),
                ("commitOrRollback", "8"),
                ("msgId", "m"),
            ],
        );
        assert_eq!(wrong_group.code, response::SYSTEM_ERROR, "{wrong_group:?}");
        assert_eq!(
            bodies(&mut client, "TxTopic"),
            [b"commit-me".to_vec(), b"pending".to_vec()]
        );
        let committed_record =
            &records(&client.pull("cg", "TxTopic", 0, 0, 4, 0, Some("*")).body)[0];
        assert_eq!(committed_record.property(keys::TRAN_MSG), None);
        assert_eq!(committed_record.property(keys::UNIQ_KEY), Some("U1"));
        let _ = send_half(&mut client, "TxTopic", b"still-pending", "U4");
        broker.shutdown().expect("clean shutdown");
    }
    // After the restart only the unsettled half is checked back.
    let broker = start_with(config(dir.path(), 15));
    let mut producer = Client::connect(broker.local_addr());
    heartbeat_producer(&mut producer);
    let check = producer
        .wait_push(request::CHECK_TRANSACTION_STATE, Duration::from_secs(5))
        .expect("a check-back after the restart");
    let unsettled = records(&check.body);
    assert_eq!(unsettled[0].body, b"still-pending");
    std::thread::sleep(Duration::from_millis(500));
    while let Some(more) =
        producer.wait_push(request::CHECK_TRANSACTION_STATE, Duration::from_millis(300))
    {
        assert_eq!(
            records(&more.body)[0].body,
            b"still-pending",
            "settled halves are not checked"
        );
    }
}

#[test]
fn check_back_then_commit() {
    let dir = crate::common::tempdir();
    let broker = start_with(config(dir.path(), 15));
    let mut producer = Client::connect(broker.local_addr());
    heartbeat_producer(&mut producer);
    let _ = send_half(&mut producer, "TxCheck", b"checked", "U7");
    let check = producer
        .wait_push(request::CHECK_TRANSACTION_STATE, Duration::from_secs(5))
        .expect("check-back");
    assert!(check.is_oneway());
    let offsets = (
        ext_i64(&check, "commitLogOffset"),
        ext_i64(&check, "tranStateTableOffset"),
    );
    assert_eq!(check.ext("msgId"), Some("U7"));
    assert_eq!(records(&check.body)[0].body, b"checked");
    assert_eq!(end(&mut producer, offsets, 8, true).code, response::SUCCESS);
    assert_eq!(bodies(&mut producer, "TxCheck"), [b"checked".to_vec()]);
}

/// The check-back body is what Java's `checkLocalTransaction` receives: it must name the topic
/// and queue the producer sent to, not the half topic and queue 0 it is stored in.
#[test]
fn check_back_body_names_the_real_topic_and_queue() {
    let dir = crate::common::tempdir();
    let broker = start_with(config(dir.path(), 15));
    let mut producer = Client::connect(broker.local_addr());
    heartbeat_producer(&mut producer);
    let properties = props(&[
        ("TRAN_MSG", "true"),
        ("PGROUP", "pg"),
        ("UNIQ_KEY", "U9"),
        ("KEYS", "k9"),
    ]);
    let mut command = producer.send_request("TxReal", 3, b"real", &properties);
    command.ext_mut().insert("a", "pg");
    command.ext_mut().insert("f", "4");
    assert_eq!(producer.call(command).code, response::SUCCESS);
    let check = producer
        .wait_push(request::CHECK_TRANSACTION_STATE, Duration::from_secs(5))
        .expect("check-back");
    let checked = &records(&check.body)[0];
    assert_eq!(checked.topic, "TxReal");
    assert_eq!(checked.queue_id, 3);
    assert_eq!(checked.body, b"real");
    assert_eq!(checked.property(keys::UNIQ_KEY), Some("U9"));
    assert_eq!(checked.property(keys::KEYS), Some("k9"));
    assert_eq!(checked.property(keys::PGROUP), Some("pg"));
    // The header still names the stored half, so the answer settles it.
    let offsets = (
        ext_i64(&check, "commitLogOffset"),
        ext_i64(&check, "tranStateTableOffset"),
    );
    assert_eq!(checked.physical_offset, offsets.0);
    assert_eq!(checked.queue_offset, offsets.1);
    assert_eq!(end(&mut producer, offsets, 8, true).code, response::SUCCESS);
    let pulled = producer.pull("cg", "TxReal", 3, 0, 4, 0, Some("*"));
    assert_eq!(
        records(&pulled.body).first().map(|r| r.body.as_slice()),
        Some(&b"real"[..]),
        "{pulled:?}"
    );
}

#[test]
fn producer_gone_half_moves_to_check_max_topic() {
    let dir = crate::common::tempdir();
    let broker = start_with(config(dir.path(), 2));
    let mut client = Client::connect(broker.local_addr());
    let _ = send_half(&mut client, "TxGone", b"orphan", "U8");
    drop(client);
    let mut reader = Client::connect(broker.local_addr());
    assert!(
        eventually(Duration::from_secs(10), || {
            bodies(&mut reader, "TRANS_CHECK_MAX_TIME_TOPIC") == [b"orphan".to_vec()]
        }),
        "moved to TRANS_CHECK_MAX_TIME_TOPIC"
    );
    assert!(bodies(&mut reader, "TxGone").is_empty());
}
