//! Subscription groups (200, 201, 207), connections (203, 204) and
//! QUERY_TOPIC_CONSUME_BY_WHO (300), bodies checked field by field.

use std::time::Duration;

use protocol::code::{request, response};

use crate::common::{eventually, start, Client};

fn json(command: &protocol::RemotingCommand) -> serde_json::Value {
    serde_json::from_slice(&command.body).expect("json body")
}

#[test]
fn subscription_group_create_list_and_clean_delete() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let body = br#"{"groupName":"cg_admin","consumeEnable":true,"consumeFromMinEnable":true,"consumeBroadcastEnable":false,"retryQueueNums":1,"retryMaxTimes":3,"brokerId":0,"whichBrokerWhenConsumeSlowly":1,"notifyConsumerIdsChangedEnable":true}"#;
    let create = client
        .request(request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, &[])
        .with_body(body.to_vec());
    assert_eq!(client.call(create).code, response::SUCCESS);
    let bad = client
        .request(request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, &[])
        .with_body(b"not json".to_vec());
    assert_eq!(client.call(bad).code, response::SYSTEM_ERROR);

    let all = client.call_code(request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG, &[]);
    assert_eq!(all.code, response::SUCCESS);
    let table = json(&all);
    let group = &table["subscriptionGroupTable"]["cg_admin"];
    assert_eq!(group["groupName"], "cg_admin");
    assert_eq!(group["retryMaxTimes"], 3);
    assert_eq!(group["consumeBroadcastEnable"], false);
    assert_eq!(group["consumeEnable"], true);
    assert!(table["dataVersion"]["counter"].as_i64().expect("counter") > 0);

    // The group consumes (creates %RETRY%cg_admin) and commits an offset.
    assert_eq!(
        client.send_message("GroupTopic", 0, b"x", "").code,
        response::SUCCESS
    );
    assert_eq!(
        client
            .heartbeat_consumer("c1", "cg_admin", "GroupTopic", "*")
            .code,
        response::SUCCESS
    );
    let commit = [
        ("consumerGroup", "cg_admin"),
        ("topic", "GroupTopic"),
        ("queueId", "0"),
        ("commitOffset", "1"),
    ];
    assert_eq!(
        client
            .call_code(request::UPDATE_CONSUMER_OFFSET, &commit)
            .code,
        response::SUCCESS
    );
    let topics = client.call_code(request::GET_ALL_TOPIC_CONFIG, &[]);
    assert!(json(&topics)["topicConfigTable"]["%RETRY%cg_admin"].is_object());

    let by_whom = client.call_code(
        request::QUERY_TOPIC_CONSUME_BY_WHO,
        &[("topic", "GroupTopic")],
    );
    assert_eq!(by_whom.code, response::SUCCESS);
    assert_eq!(json(&by_whom)["groupList"], serde_json::json!(["cg_admin"]));

    let delete = [("groupName", "cg_admin"), ("cleanOffset", "true")];
    assert_eq!(
        client
            .call_code(request::DELETE_SUBSCRIPTIONGROUP, &delete)
            .code,
        response::SUCCESS
    );
    let all = json(&client.call_code(request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG, &[]));
    assert!(all["subscriptionGroupTable"]["cg_admin"].is_null());
    let topics = json(&client.call_code(request::GET_ALL_TOPIC_CONFIG, &[]));
    assert!(topics["topicConfigTable"]["%RETRY%cg_admin"].is_null());
    assert!(topics["topicConfigTable"]["%DLQ%cg_admin"].is_null());
    let query = [
        ("consumerGroup", "cg_admin"),
        ("topic", "GroupTopic"),
        ("queueId", "0"),
    ];
    let offset = client.call_code(request::QUERY_CONSUMER_OFFSET, &query);
    // Offsets are gone: back to the "new group" answer (0, the queue starts at 0).
    assert_eq!(offset.ext("offset"), Some("0"), "{offset:?}");
    // Still subscribed (the consumer is live), but no offsets anymore.
    let by_whom = json(&client.call_code(
        request::QUERY_TOPIC_CONSUME_BY_WHO,
        &[("topic", "GroupTopic")],
    ));
    assert_eq!(by_whom["groupList"], serde_json::json!(["cg_admin"]));
    let nobody =
        json(&client.call_code(request::QUERY_TOPIC_CONSUME_BY_WHO, &[("topic", "Nobody")]));
    assert_eq!(nobody["groupList"], serde_json::json!([]));
}

#[test]
fn consumer_and_producer_connections() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    assert_eq!(
        client
            .heartbeat_consumer("client-1", "cg_conn", "ConnTopic", "TagA || TagB")
            .code,
        response::SUCCESS
    );
    let answer = client.call_code(
        request::GET_CONSUMER_CONNECTION_LIST,
        &[("consumerGroup", "cg_conn")],
    );
    assert_eq!(answer.code, response::SUCCESS, "{answer:?}");
    let body = json(&answer);
    let connections = body["connectionSet"].as_array().expect("connectionSet");
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["clientId"], "client-1");
    assert!(connections[0]["clientAddr"]
        .as_str()
        .expect("addr")
        .contains("127.0.0.1"));
    assert_eq!(connections[0]["language"], "RUST");
    assert_eq!(body["consumeType"], "CONSUME_PASSIVELY");
    assert_eq!(body["messageModel"], "CLUSTERING");
    assert_eq!(body["consumeFromWhere"], "CONSUME_FROM_FIRST_OFFSET");
    assert_eq!(
        body["subscriptionTable"]["ConnTopic"]["subString"],
        "TagA || TagB"
    );
    let offline = client.call_code(
        request::GET_CONSUMER_CONNECTION_LIST,
        &[("consumerGroup", "nobody")],
    );
    assert_eq!(offline.code, response::CONSUMER_NOT_ONLINE);

    let producer = br#"{"clientID":"producer-1","consumerDataSet":[],"producerDataSet":[{"groupName":"pg_conn"}]}"#;
    let heartbeat = client
        .request(request::HEART_BEAT, &[])
        .with_body(producer.to_vec());
    assert_eq!(client.call(heartbeat).code, response::SUCCESS);
    assert!(eventually(Duration::from_secs(2), || {
        client
            .call_code(
                request::GET_PRODUCER_CONNECTION_LIST,
                &[("producerGroup", "pg_conn")],
            )
            .code
            == response::SUCCESS
    }));
    let answer = client.call_code(
        request::GET_PRODUCER_CONNECTION_LIST,
        &[("producerGroup", "pg_conn")],
    );
    let connections = json(&answer)["connectionSet"]
        .as_array()
        .expect("set")
        .clone();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["clientId"], "producer-1");
    let missing = client.call_code(
        request::GET_PRODUCER_CONNECTION_LIST,
        &[("producerGroup", "none")],
    );
    assert_eq!(missing.code, response::SYSTEM_ERROR);
}
