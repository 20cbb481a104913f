//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309): the broker forwards
//! the request to the named consumer's connection and answers with the consumer's response.

use std::time::Duration;

use bytes::BytesMut;
use protocol::code::{request, response};
use protocol::RemotingCommand;

use crate::common::{records, start, Client};

/// Connects a consumer that answers one forwarded request of `code` with `answer(request)`.
fn answering_consumer(
    addr: std::net::SocketAddr,
    client_id: &'static str,
    group: &'static str,
    code: i32,
    answer: impl FnOnce(&RemotingCommand) -> RemotingCommand + Send + 'static,
) -> std::thread::JoinHandle<RemotingCommand> {
    let mut consumer = Client::connect(addr);
    assert_eq!(
        consumer
            .heartbeat_consumer(client_id, group, "ForwardTopic", "*")
            .code,
        response::SUCCESS
    );
    std::thread::spawn(move || {
        let forwarded = consumer
            .wait_push(code, Duration::from_secs(10))
            .expect("the broker forwards the request");
        let mut out = BytesMut::new();
        answer(&forwarded).encode(&mut out).expect("encodes");
        consumer.write_raw(&out).expect("writes");
        // Keep the connection open until the broker has read the answer.
        std::thread::sleep(Duration::from_millis(300));
        forwarded
    })
}

#[test]
fn running_info_is_forwarded_to_the_consumer_and_back() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let consumer = answering_consumer(
        broker.local_addr(),
        "10.0.0.1@forward",
        "ForwardGroup",
        request::GET_CONSUMER_RUNNING_INFO,
        |forwarded| {
            RemotingCommand::response_to(forwarded, response::SUCCESS)
                .with_body(br#"{"properties":{"PROP_CONSUMER_START_TIMESTAMP":"1"}}"#.to_vec())
        },
    );
    let mut admin = Client::connect(broker.local_addr());
    let answer = admin.call_code(
        request::GET_CONSUMER_RUNNING_INFO,
        &[
            ("consumerGroup", "ForwardGroup"),
            ("clientId", "10.0.0.1@forward"),
            ("jstackEnable", "false"),
        ],
    );
    assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
    assert_eq!(
        &answer.body[..],
        br#"{"properties":{"PROP_CONSUMER_START_TIMESTAMP":"1"}}"#
    );
    let forwarded = consumer.join().expect("consumer thread");
    assert_eq!(forwarded.ext("consumerGroup"), Some("ForwardGroup"));
    assert_eq!(forwarded.ext("clientId"), Some("10.0.0.1@forward"));

    let offline = admin.call_code(
        request::GET_CONSUMER_RUNNING_INFO,
        &[("consumerGroup", "ForwardGroup"), ("clientId", "nobody")],
    );
    assert_eq!(offline.code, response::SYSTEM_ERROR);
    assert!(offline
        .remark
        .as_deref()
        .unwrap_or_default()
        .contains("not online"));
}

#[test]
fn consume_message_directly_carries_the_stored_record() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut admin = Client::connect(broker.local_addr());
    // Both queues, so the record may live on either shard.
    let mut ids = Vec::new();
    for queue in 0..2 {
        let sent = admin.send_message(
            "ForwardTopic",
            queue,
            format!("direct-{queue}").as_bytes(),
            "",
        );
        assert_eq!(sent.code, response::SUCCESS);
        ids.push(sent.ext("msgId").expect("offset msgId").to_owned());
    }
    for (queue, id) in ids.iter().enumerate() {
        let consumer = answering_consumer(
            broker.local_addr(),
            "10.0.0.2@direct",
            "DirectGroup",
            request::CONSUME_MESSAGE_DIRECTLY,
            |forwarded| {
                RemotingCommand::response_to(forwarded, response::SUCCESS)
                    .with_body(br#"{"consumeResult":"CR_SUCCESS","order":false,"autoCommit":true,"spentTimeMills":1}"#.to_vec())
            },
        );
        let answer = admin.call_code(
            request::CONSUME_MESSAGE_DIRECTLY,
            &[
                ("consumerGroup", "DirectGroup"),
                ("clientId", "10.0.0.2@direct"),
                ("msgId", id.as_str()),
            ],
        );
        assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
        assert!(String::from_utf8_lossy(&answer.body).contains("CR_SUCCESS"));
        let forwarded = consumer.join().expect("consumer thread");
        let stored = records(&forwarded.body);
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].body, format!("direct-{queue}").as_bytes());
        assert_eq!(forwarded.ext("msgId"), Some(id.as_str()));
        assert!(forwarded.ext("brokerName").is_some());
    }
}
