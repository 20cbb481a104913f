use std::time::Duration;

use protocol::code::{request, response};
use protocol::message::properties::keys;

use crate::common::{props, records, start, Client};

#[test]
fn heartbeat_registers_consumers_and_notifies_the_group() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut first = Client::connect(broker.local_addr());
    let reply = first.heartbeat_consumer("client-1", "grp", "HbTopicA", "*");
    assert_eq!(reply.code, response::SUCCESS);
    assert_eq!(reply.ext("IS_SUPPORT_HEART_BEAT_V2"), Some("true"));

    let list = first.call_code(
        request::GET_CONSUMER_LIST_BY_GROUP,
        &[("consumerGroup", "grp")],
    );
    assert_eq!(list.code, response::SUCCESS);
    let body: serde_json::Value = serde_json::from_slice(&list.body).expect("json");
    assert_eq!(body["consumerIdList"], serde_json::json!(["client-1"]));

    let topics = first.call_code(request::GET_ALL_TOPIC_CONFIG, &[]);
    let table: serde_json::Value = serde_json::from_slice(&topics.body).expect("json");
    assert_eq!(
        table["topicConfigTable"]["%RETRY%grp"]["writeQueueNums"], 1,
        "retry topic created"
    );

    first.pushes.clear();
    let mut second = Client::connect(broker.local_addr());
    assert_eq!(
        second
            .heartbeat_consumer("client-2", "grp", "HbTopicA", "*")
            .code,
        response::SUCCESS
    );
    let notify = first
        .wait_push(request::NOTIFY_CONSUMER_IDS_CHANGED, Duration::from_secs(5))
        .expect("the first member is told to rebalance");
    assert_eq!(notify.ext("consumerGroup"), Some("grp"));
    assert!(notify.is_oneway());

    let list = first.call_code(
        request::GET_CONSUMER_LIST_BY_GROUP,
        &[("consumerGroup", "grp")],
    );
    let body: serde_json::Value = serde_json::from_slice(&list.body).expect("json");
    assert_eq!(
        body["consumerIdList"],
        serde_json::json!(["client-1", "client-2"])
    );

    drop(second);
    assert!(
        first
            .wait_push(request::NOTIFY_CONSUMER_IDS_CHANGED, Duration::from_secs(5))
            .is_some(),
        "closing a member's connection notifies the rest"
    );
    let unregister = first.call_code(
        request::UNREGISTER_CLIENT,
        &[("clientID", "client-1"), ("consumerGroup", "grp")],
    );
    assert_eq!(unregister.code, response::SUCCESS);
    let empty = first.call_code(
        request::GET_CONSUMER_LIST_BY_GROUP,
        &[("consumerGroup", "grp")],
    );
    assert_eq!(empty.code, response::SYSTEM_ERROR);
    assert!(empty
        .remark
        .as_deref()
        .unwrap_or("")
        .contains("no consumer for this group"));
}

#[test]
fn lock_batch_grants_leases_per_client() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let lock = |client: &mut Client, client_id: &str, queues: &[i32]| -> Vec<i64> {
        let mq: Vec<String> = queues
            .iter()
            .map(|q| format!(r#"{{"topic":"LockTopic","brokerName":"broker-a","queueId":{q}}}"#))
            .collect();
        let body = format!(
            r#"{{"consumerGroup":"lg","clientId":"{client_id}","mqSet":[{}]}}"#,
            mq.join(",")
        );
        let reply = client.call(
            client
                .request(request::LOCK_BATCH_MQ, &[])
                .with_body(body.into_bytes()),
        );
        assert_eq!(reply.code, response::SUCCESS, "{reply:?}");
        let json: serde_json::Value = serde_json::from_slice(&reply.body).expect("json");
        let mut granted: Vec<i64> = json["lockOKMQSet"]
            .as_array()
            .expect("set")
            .iter()
            .map(|mq| mq["queueId"].as_i64().expect("queue id"))
            .collect();
        granted.sort_unstable();
        granted
    };
    assert_eq!(lock(&mut client, "A", &[0, 1]), vec![0, 1]);
    assert_eq!(lock(&mut client, "B", &[1, 2]), vec![2]);
    assert_eq!(lock(&mut client, "A", &[0, 1]), vec![0, 1], "renewal");
    let body = r#"{"consumerGroup":"lg","clientId":"A","mqSet":[{"topic":"LockTopic","brokerName":"broker-a","queueId":1}]}"#;
    let unlock = client.call(
        client
            .request(request::UNLOCK_BATCH_MQ, &[])
            .with_body(body.as_bytes().to_vec()),
    );
    assert_eq!(unlock.code, response::SUCCESS);
    assert_eq!(lock(&mut client, "B", &[1]), vec![1]);
}

#[test]
fn send_back_goes_to_retry_then_dead_letter() {
    let dir = crate::common::tempdir();
    // Short delay levels: the retry copy waits on level 3 before reaching %RETRY%bg.
    let mut config = broker::BrokerConfig::for_tests(dir.path());
    config.message_delay_levels_ms = vec![100; 18];
    let broker = crate::common::start_with(config);
    let mut client = Client::connect(broker.local_addr());
    let sent = client.send_message(
        "BackTopic",
        0,
        b"payload",
        &props(&[("KEYS", "k"), ("UNIQ_KEY", "U1")]),
    );
    assert_eq!(sent.code, response::SUCCESS);
    let pulled = client.pull("bg", "BackTopic", 0, 0, 4, 0, Some("*"));
    let original = &records(&pulled.body)[0];
    let offset = original.physical_offset.to_string();
    let back = client.call_code(
        request::CONSUMER_SEND_MSG_BACK,
        &[
            ("offset", offset.as_str()),
            ("group", "bg"),
            ("delayLevel", "0"),
            ("originMsgId", "U1"),
        ],
    );
    assert_eq!(back.code, response::SUCCESS, "{back:?}");
    let retried = client.pull("bg", "%RETRY%bg", 0, 0, 6, 5_000, Some("*"));
    assert_eq!(retried.code, response::SUCCESS, "{retried:?}");
    let retry = &records(&retried.body)[0];
    assert_eq!(retry.body, b"payload");
    assert_eq!(retry.reconsume_times, 1);
    assert_eq!(retry.property(keys::RETRY_TOPIC), Some("BackTopic"));
    assert_eq!(retry.property(keys::ORIGIN_MESSAGE_ID), Some("U1"));
    assert_eq!(retry.property(keys::KEYS), Some("k"));

    let retry_offset = retry.physical_offset.to_string();
    let to_dlq = client.call_code(
        request::CONSUMER_SEND_MSG_BACK,
        &[
            ("offset", retry_offset.as_str()),
            ("group", "bg"),
            ("delayLevel", "0"),
            ("maxReconsumeTimes", "1"),
        ],
    );
    assert_eq!(to_dlq.code, response::SUCCESS);
    let dead = client.pull("bg", "%DLQ%bg", 0, 0, 4, 0, Some("*"));
    let dead = &records(&dead.body)[0];
    assert_eq!(dead.property(keys::RETRY_TOPIC), Some("BackTopic"));
    assert_eq!(dead.reconsume_times, 2);

    let missing = client.call_code(
        request::CONSUMER_SEND_MSG_BACK,
        &[
            ("offset", "123456789"),
            ("group", "bg"),
            ("delayLevel", "0"),
        ],
    );
    assert_eq!(missing.code, response::SYSTEM_ERROR);
}
