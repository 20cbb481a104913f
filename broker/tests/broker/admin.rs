use std::time::Duration;

use protocol::code::{request, response};
use protocol::message::OffsetMessageId;

use crate::common::{eventually, records, start, Client};

#[test]
fn topic_admin_create_list_delete() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let create = [
        ("topic", "AdminTopic"),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", "6"),
        ("writeQueueNums", "6"),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("order", "false"),
    ];
    assert_eq!(
        client
            .call_code(request::UPDATE_AND_CREATE_TOPIC, &create)
            .code,
        response::SUCCESS
    );
    let system = [
        ("topic", "TBW102"),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", "1"),
        ("writeQueueNums", "1"),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("order", "false"),
    ];
    assert_eq!(
        client
            .call_code(request::UPDATE_AND_CREATE_TOPIC, &system)
            .code,
        response::SYSTEM_ERROR
    );

    let all = client.call_code(request::GET_ALL_TOPIC_CONFIG, &[]);
    let table: serde_json::Value = serde_json::from_slice(&all.body).expect("json");
    assert_eq!(table["topicConfigTable"]["AdminTopic"]["readQueueNums"], 6);
    let one = client.call_code(request::GET_TOPIC_CONFIG, &[("topic", "AdminTopic")]);
    assert_eq!(one.code, response::SUCCESS, "{one:?}");
    let config: serde_json::Value = serde_json::from_slice(&one.body).expect("json");
    assert_eq!(config["topicName"], "AdminTopic");
    assert_eq!(config["writeQueueNums"], 6);
    assert_eq!(config["perm"], 6);
    let benchmark = client.call_code(request::GET_TOPIC_CONFIG, &[("topic", "BenchmarkTest")]);
    let config: serde_json::Value = serde_json::from_slice(&benchmark.body).expect("json");
    assert_eq!(
        config["readQueueNums"], 1024,
        "the benchmark tools' topic exists"
    );
    let absent = client.call_code(request::GET_TOPIC_CONFIG, &[("topic", "NoSuchTopic")]);
    assert_eq!(absent.code, response::TOPIC_NOT_EXIST);
    assert_eq!(
        client.send_message("AdminTopic", 5, b"x", "").code,
        response::SUCCESS
    );

    assert_eq!(
        client
            .call_code(request::DELETE_TOPIC_IN_BROKER, &[("topic", "AdminTopic")])
            .code,
        response::SUCCESS
    );
    assert!(eventually(Duration::from_secs(2), || {
        client.pull("g", "AdminTopic", 5, 0, 4, 0, Some("*")).code == response::TOPIC_NOT_EXIST
    }));
}

#[test]
fn runtime_info_and_view_by_id() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let sent = client.send_message("ViewTopic", 2, b"viewed", "");
    let id = OffsetMessageId::decode(sent.ext("msgId").expect("id")).expect("offset id");
    let offset = id.commit_log_offset.to_string();
    let view = client.call_code(request::VIEW_MESSAGE_BY_ID, &[("offset", offset.as_str())]);
    assert_eq!(view.code, response::SUCCESS, "{view:?}");
    assert_eq!(records(&view.body)[0].body, b"viewed");
    let missing = client.call_code(request::VIEW_MESSAGE_BY_ID, &[("offset", "99")]);
    assert_eq!(missing.code, response::SYSTEM_ERROR);

    let info = client.call_code(request::GET_BROKER_RUNTIME_INFO, &[]);
    assert_eq!(info.code, response::SUCCESS);
    let table: serde_json::Value = serde_json::from_slice(&info.body).expect("json");
    assert_eq!(table["table"]["brokerVersionDesc"], "V5_3_3");
    assert!(table["table"]["putTps"].as_str().is_some());
    assert_eq!(table["table"]["msgPutTotalTodayNow"], "1");
}

#[test]
fn registers_with_the_embedded_name_server() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let namesrv = broker.namesrv_addrs()[0];
    let mut names = Client::connect(namesrv);
    let route = |names: &mut Client, topic: &str| {
        names.call_code(request::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)])
    };
    let registered = eventually(Duration::from_secs(5), || {
        route(&mut names, "TBW102").code == response::SUCCESS
    });
    let template = route(&mut names, "TBW102");
    assert!(registered, "{template:?}");
    let body: serde_json::Value =
        serde_json::from_slice(&template.body).unwrap_or_else(|_| panic!("{template:?}"));
    assert_eq!(
        body["brokerDatas"][0]["brokerAddrs"]["0"],
        broker.broker_addr().to_string()
    );

    let mut client = Client::connect(broker.local_addr());
    assert_eq!(
        client.send_message("RoutedTopic", 0, b"x", "").code,
        response::SUCCESS
    );
    assert!(
        eventually(Duration::from_secs(5), || route(&mut names, "RoutedTopic")
            .code
            == response::SUCCESS),
        "an auto-created topic is registered at once"
    );
    assert_eq!(
        client
            .heartbeat_consumer("c", "rg", "RoutedTopic", "*")
            .code,
        response::SUCCESS
    );
    assert!(eventually(Duration::from_secs(5), || route(
        &mut names,
        "%RETRY%rg"
    )
    .code
        == response::SUCCESS));
}
