//! INVOKE_BROKER_TO_RESET_OFFSET (222) and GET_ALL_CONSUMER_OFFSET (43).

use std::time::Duration;

use protocol::body::message_queue::MessageQueue;
use protocol::body::route::JsonBody;
use protocol::body::stats::ResetOffsetBody;
use protocol::code::{request, response};

use crate::common::{ext_i64, start, Client};

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

#[test]
fn reset_offset_by_time_and_all_offsets() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    for queue in 0..2 {
        assert_eq!(
            client.send_message("ResetTopic", queue, b"old", "").code,
            response::SUCCESS
        );
    }
    std::thread::sleep(Duration::from_millis(30));
    let middle = now_ms().to_string();
    std::thread::sleep(Duration::from_millis(30));
    for queue in 0..2 {
        assert_eq!(
            client.send_message("ResetTopic", queue, b"new", "").code,
            response::SUCCESS
        );
    }
    let reset = |timestamp: &str, force: &str| {
        vec![
            ("group".to_owned(), "rg".to_owned()),
            ("topic".to_owned(), "ResetTopic".to_owned()),
            ("timestamp".to_owned(), timestamp.to_owned()),
            ("isForce".to_owned(), force.to_owned()),
        ]
    };
    let call = |client: &mut Client, ext: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = ext.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        client.call_code(request::INVOKE_BROKER_TO_RESET_OFFSET, &pairs)
    };
    // No consumer online.
    let offline = call(&mut client, reset(&middle, "true"));
    assert_eq!(offline.code, response::CONSUMER_NOT_ONLINE, "{offline:?}");
    // The older code (212) is served the same way.
    let pairs = reset(&middle, "true");
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let old = client.call_code(request::RESET_CONSUMER_OFFSET_IN_BROKER, &pairs);
    assert_eq!(old.code, response::CONSUMER_NOT_ONLINE, "{old:?}");

    let mut consumer = Client::connect(broker.local_addr());
    assert_eq!(
        consumer
            .heartbeat_consumer("rc1", "rg", "ResetTopic", "*")
            .code,
        response::SUCCESS
    );
    for queue in ["0", "1"] {
        let commit = [
            ("consumerGroup", "rg"),
            ("topic", "ResetTopic"),
            ("queueId", queue),
            ("commitOffset", "2"),
        ];
        assert_eq!(
            client
                .call_code(request::UPDATE_CONSUMER_OFFSET, &commit)
                .code,
            response::SUCCESS
        );
    }
    let answer = call(&mut client, reset(&middle, "true"));
    assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
    let body = ResetOffsetBody::decode(&answer.body).expect("ResetOffsetBody");
    let topic_queues = client.call_code(request::GET_ALL_TOPIC_CONFIG, &[]);
    let table: serde_json::Value = serde_json::from_slice(&topic_queues.body).expect("json");
    let write_queues = table["topicConfigTable"]["ResetTopic"]["writeQueueNums"]
        .as_u64()
        .expect("queues");
    assert_eq!(body.offset_table.len() as u64, write_queues);
    let broker_name = body
        .offset_table
        .keys()
        .next()
        .expect("queue")
        .broker_name
        .clone();
    for queue in 0..2 {
        assert_eq!(
            body.offset_table[&MessageQueue::new("ResetTopic", broker_name.as_str(), queue)],
            1
        );
    }
    // Committed in the broker too.
    let query = [
        ("consumerGroup", "rg"),
        ("topic", "ResetTopic"),
        ("queueId", "1"),
    ];
    assert_eq!(
        ext_i64(
            &client.call_code(request::QUERY_CONSUMER_OFFSET, &query),
            "offset"
        ),
        1
    );
    // The consumer was told (RESET_CONSUMER_CLIENT_OFFSET, 220) with the same table.
    let push = consumer
        .wait_push(220, Duration::from_secs(5))
        .expect("reset pushed");
    assert_eq!(push.ext("group"), Some("rg"));
    assert_eq!(ResetOffsetBody::decode(&push.body).expect("body"), body);

    // Not forced: a queue only moves backwards (to the end = stays at 1).
    let answer = call(&mut client, reset("-1", "false"));
    let body = ResetOffsetBody::decode(&answer.body).expect("ResetOffsetBody");
    assert_eq!(
        body.offset_table[&MessageQueue::new("ResetTopic", broker_name.as_str(), 0)],
        1
    );
    // Forced to the start.
    let answer = call(&mut client, reset("0", "true"));
    let body = ResetOffsetBody::decode(&answer.body).expect("ResetOffsetBody");
    assert_eq!(
        body.offset_table[&MessageQueue::new("ResetTopic", broker_name.as_str(), 0)],
        0
    );

    let all = client.call_code(request::GET_ALL_CONSUMER_OFFSET, &[]);
    assert_eq!(all.code, response::SUCCESS);
    let offsets: serde_json::Value = serde_json::from_slice(&all.body).expect("json");
    assert_eq!(offsets["offsetTable"]["ResetTopic@rg"]["0"], 0);
    assert_eq!(offsets["offsetTable"]["ResetTopic@rg"]["1"], 0);
}
