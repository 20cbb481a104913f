//! `mqadmin` end to end: the binary's help and exit codes without a broker, and the
//! commands against our in-process broker (see `cluster.rs`).

mod cluster;

use std::process::Command;
use std::time::Duration;

use admin::cli::Cli;
use admin::report::Report;
use admin::CommandError;
use clap::Parser;
use serde_json::Value;

use crate::cluster::unique;

const COMMANDS: [&str; 29] = [
    "updateTopic",
    "deleteTopic",
    "updateTopicPerm",
    "topicRoute",
    "topicList",
    "topicStatus",
    "topicClusterList",
    "updateSubGroup",
    "deleteSubGroup",
    "updateBrokerConfig",
    "getBrokerConfig",
    "clusterList",
    "brokerStatus",
    "consumerProgress",
    "consumerConnection",
    "producerConnection",
    "resetOffsetByTime",
    "printMsg",
    "queryMsgById",
    "queryMsgByKey",
    "queryMsgByUniqueKey",
    "queryMsgByOffset",
    "sendMessage",
    "consumeMessage",
    "updateKvConfig",
    "deleteKvConfig",
    "wipeWritePerm",
    "addWritePerm",
    "statsAll",
];

fn mqadmin(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mqadmin"))
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .output()
        .expect("mqadmin runs")
}

#[test]
fn help_lists_every_command_with_a_description() {
    let output = mqadmin(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for command in COMMANDS {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("{command} missing from help:\n{help}"));
        assert!(
            line.trim().len() > command.len() + 10,
            "{command} has no description"
        );
    }
    assert!(help.contains("Exit codes"));
    assert!(
        mqadmin(&["topicStats", "--help"]).status.success(),
        "topicStats is an alias"
    );
}

#[test]
fn unreachable_name_server_exits_3_with_a_clear_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let output = mqadmin(&["topicList", "-n", &addr]);
    assert_eq!(output.status.code(), Some(admin::EXIT_UNREACHABLE));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach the name server"), "{stderr}");
}

#[test]
fn missing_name_server_and_bad_flags_are_usage_errors() {
    let output = mqadmin(&["topicList"]);
    assert_eq!(output.status.code(), Some(admin::EXIT_USAGE));
    assert!(String::from_utf8_lossy(&output.stderr).contains("NAMESRV_ADDR"));
    let output = mqadmin(&["updateTopic", "-n", "127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(2), "clap refuses a missing -t");
}

async fn run(namesrv: &str, args: &[&str]) -> Result<Report, CommandError> {
    let mut argv = vec!["mqadmin", "-n", namesrv];
    argv.extend_from_slice(args);
    admin::run(Cli::try_parse_from(argv).expect("valid command line")).await
}

async fn ok(namesrv: &str, args: &[&str]) -> Report {
    match run(namesrv, args).await {
        Ok(report) => report,
        Err(error) => panic!("{args:?} failed: {error}"),
    }
}

async fn eventually(namesrv: &str, args: &[&str], accept: impl Fn(&Report) -> bool) -> Report {
    for _ in 0..50 {
        if let Ok(report) = run(namesrv, args).await {
            if accept(&report) {
                return report;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ok(namesrv, args).await
}

#[tokio::test]
async fn topic_lifecycle_create_route_send_read_delete() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let topic = unique("AdminT");
    ok(
        n,
        &[
            "updateTopic",
            "-c",
            "DefaultCluster",
            "-t",
            &topic,
            "-r",
            "2",
            "-w",
            "2",
        ],
    )
    .await;
    let route = eventually(n, &["topicRoute", "-t", &topic], |_| true).await;
    assert_eq!(route.json["queueDatas"][0]["writeQueueNums"], 2);
    let listed = ok(n, &["topicList"]).await;
    assert!(listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == &Value::String(topic.clone())));
    let clusters = ok(n, &["topicClusterList", "-t", &topic]).await;
    assert_eq!(clusters.json, serde_json::json!(["DefaultCluster"]));

    let sent = ok(
        n,
        &[
            "sendMessage",
            "-t",
            &topic,
            "-p",
            "hello",
            "-k",
            "k1",
            "-c",
            "TagA",
        ],
    )
    .await;
    let broker_name = sent.json[0]["Broker Name"].as_str().unwrap().to_owned();
    let queue_id = sent.json[0]["QID"].as_str().unwrap().to_owned();
    let at = ok(
        n,
        &[
            "queryMsgByOffset",
            "-t",
            &topic,
            "-b",
            &broker_name,
            "-i",
            &queue_id,
            "-o",
            "0",
        ],
    )
    .await;
    assert_eq!(at.json[0]["body"], "hello");
    assert_eq!(at.json[0]["tags"], "TagA");
    let consumed = ok(n, &["consumeMessage", "-t", &topic]).await;
    assert_eq!(consumed.json.as_array().unwrap().len(), 1);
    let printed = ok(n, &["printMsg", "-t", &topic]).await;
    assert!(printed.text.contains("BODY: hello"), "{}", printed.text);

    ok(n, &["deleteTopic", "-t", &topic, "-c", "DefaultCluster"]).await;
    let gone = run(n, &["topicRoute", "-t", &topic]).await.unwrap_err();
    assert_eq!(gone.exit_code, admin::EXIT_NOT_FOUND, "{gone}");
}

#[tokio::test]
async fn topic_status_counts_messages() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let topic = unique("StatusT");
    ok(
        n,
        &[
            "updateTopic",
            "-c",
            "DefaultCluster",
            "-t",
            &topic,
            "-r",
            "2",
            "-w",
            "2",
        ],
    )
    .await;
    eventually(n, &["topicRoute", "-t", &topic], |_| true).await;
    ok(n, &["sendMessage", "-t", &topic, "-p", "hello"]).await;
    let status = ok(n, &["topicStatus", "-t", &topic]).await;
    let max: i64 = status
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["Max Offset"].as_str().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(max, 1);
    assert!(ok(n, &["topicStats", "-t", &topic])
        .await
        .text
        .contains("#Max Offset"));
}

#[tokio::test]
async fn cluster_and_broker_views() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let list = ok(n, &["clusterList"]).await;
    assert_eq!(list.json[0]["Cluster Name"], "DefaultCluster");
    let unknown = run(n, &["clusterList", "-c", "NoSuchCluster"])
        .await
        .unwrap_err();
    assert_eq!(unknown.exit_code, admin::EXIT_NOT_FOUND);
    let missing = run(n, &["topicStatus", "-t", "NoSuchTopic"])
        .await
        .unwrap_err();
    assert_eq!(missing.exit_code, admin::EXIT_NOT_FOUND);
    assert!(
        missing.message.contains("NoSuchTopic"),
        "{}",
        missing.message
    );
}

#[tokio::test]
async fn broker_status_and_config() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let status = ok(n, &["brokerStatus", "-c", "DefaultCluster"]).await;
    let (_, table) = status.json.as_object().unwrap().iter().next().unwrap();
    assert!(table.get("brokerVersionDesc").is_some(), "{table}");
    ok(
        n,
        &[
            "updateBrokerConfig",
            "-c",
            "DefaultCluster",
            "-k",
            "maxMessageSize",
            "-v",
            "65537",
        ],
    )
    .await;
    let config = ok(n, &["getBrokerConfig", "-c", "DefaultCluster"]).await;
    let (_, values) = config.json.as_object().unwrap().iter().next().unwrap();
    assert_eq!(values["maxMessageSize"], "65537");
}

#[tokio::test]
async fn kv_config_and_write_permission() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    ok(
        n,
        &[
            "updateKvConfig",
            "-s",
            "ORDER_TOPIC_CONFIG",
            "-k",
            "SomeTopic",
            "-v",
            "broker-a:4",
        ],
    )
    .await;
    ok(
        n,
        &[
            "deleteKvConfig",
            "-s",
            "ORDER_TOPIC_CONFIG",
            "-k",
            "SomeTopic",
        ],
    )
    .await;
    let topic = unique("PermT");
    ok(n, &["updateTopic", "-c", "DefaultCluster", "-t", &topic]).await;
    let wiped = ok(n, &["wipeWritePerm", "-b", "broker-a"]).await;
    assert!(
        wiped.json[0]["topicCount"].as_i64().unwrap() >= 1,
        "{}",
        wiped.json
    );
    let route = ok(n, &["topicRoute", "-t", &topic]).await;
    assert_eq!(
        route.json["queueDatas"][0]["perm"].as_i64().unwrap() & 2,
        0,
        "write perm removed"
    );
    ok(n, &["addWritePerm", "-b", "broker-a"]).await;
    let route = ok(n, &["topicRoute", "-t", &topic]).await;
    assert_eq!(route.json["queueDatas"][0]["perm"], 6);
    ok(
        n,
        &[
            "updateTopicPerm",
            "-c",
            "DefaultCluster",
            "-t",
            &topic,
            "-p",
            "4",
        ],
    )
    .await;
    eventually(n, &["topicRoute", "-t", &topic], |route| {
        route.json["queueDatas"][0]["perm"] == 4
    })
    .await;
}

async fn send_some(
    n: &str,
    topic: &str,
    producer_group: &str,
) -> (client::Producer, client::SendResult) {
    use client::{Message, Producer, ProducerOptions};
    ok(
        n,
        &[
            "updateTopic",
            "-c",
            "DefaultCluster",
            "-t",
            topic,
            "-r",
            "2",
            "-w",
            "2",
        ],
    )
    .await;
    eventually(n, &["topicRoute", "-t", topic], |_| true).await;
    let producer = Producer::start(ProducerOptions::new(producer_group, Some(n)))
        .await
        .unwrap();
    let sent = producer
        .send(Message::new(topic, "q").with_keys(&["key-7"]))
        .await
        .unwrap();
    for i in 0..4 {
        producer
            .send(Message::new(topic, format!("m{i}")))
            .await
            .unwrap();
    }
    (producer, sent)
}

async fn start_consumer(n: &str, topic: &str, group: &str) -> client::consumer::PushConsumer {
    use client::consumer::{
        ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeFromWhere, Expression,
        Listener, PushConsumer, PushConsumerOptions,
    };
    use client::MessageExt;
    let mut options = PushConsumerOptions::new(group, Some(n));
    options.consume_from_where = ConsumeFromWhere::FirstOffset;
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(topic, Expression::all()).unwrap();
    consumer.register_listener(Listener::Concurrently(std::sync::Arc::new(
        |_: &[MessageExt], _: &mut ConsumeConcurrentlyContext| {
            ConsumeConcurrentlyStatus::ConsumeSuccess
        },
    )));
    consumer.start().await.unwrap();
    consumer
}

#[tokio::test]
async fn query_messages_by_id_key_and_unique_key() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let topic = unique("QueryT");
    let (producer, sent) = send_some(n, &topic, &unique("pg_query")).await;
    let by_id = ok(n, &["queryMsgById", "-i", &sent.offset_msg_id]).await;
    assert_eq!(by_id.json[0]["body"], "q");
    let by_key = eventually(n, &["queryMsgByKey", "-t", &topic, "-k", "key-7"], |_| true).await;
    assert_eq!(by_key.json[0]["msgId"], sent.msg_id.as_str());
    let by_unique = eventually(
        n,
        &["queryMsgByUniqueKey", "-t", &topic, "-i", &sent.msg_id],
        |_| true,
    )
    .await;
    assert_eq!(by_unique.json[0]["body"], "q");
    producer.shutdown().await;
}

#[tokio::test]
async fn connections_progress_and_stats_all() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let topic = unique("ProgressT");
    let group = unique("cg_progress");
    let producer_group = unique("pg_progress");
    let (producer, _) = send_some(n, &topic, &producer_group).await;
    let producers = eventually(
        n,
        &["producerConnection", "-g", &producer_group, "-t", &topic],
        |_| true,
    )
    .await;
    assert_eq!(producers.json.as_array().unwrap().len(), 1);
    let mut consumer = start_consumer(n, &topic, &group).await;
    let connections = eventually(n, &["consumerConnection", "-g", &group], |_| true).await;
    assert_eq!(
        connections.json["connectionSet"].as_array().unwrap().len(),
        1
    );
    let progress = eventually(n, &["consumerProgress", "-g", &group, "-t", &topic], |r| {
        r.json["diffTotal"] == 0
    })
    .await;
    assert_eq!(progress.json["diffTotal"], 0);
    let stats = ok(n, &["statsAll", "-t", &topic]).await;
    assert!(stats.text.contains(&group), "{}", stats.text);
    consumer.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test]
async fn subscription_group_create_and_delete() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let group = unique("cg_sub");
    let created = ok(
        n,
        &[
            "updateSubGroup",
            "-c",
            "DefaultCluster",
            "-g",
            &group,
            "-r",
            "3",
        ],
    )
    .await;
    assert_eq!(created.json["retryMaxTimes"], 3);
    ok(n, &["deleteSubGroup", "-c", "DefaultCluster", "-g", &group]).await;
}

#[tokio::test]
async fn reset_offset_by_time_rewinds_the_group() {
    let cluster = cluster::start().await;
    let n = cluster.namesrv.as_str();
    let topic = unique("ResetT");
    let group = unique("cg_reset");
    let (producer, _) = send_some(n, &topic, &unique("pg_reset")).await;
    let mut consumer = start_consumer(n, &topic, &group).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reset = ok(
        n,
        &["resetOffsetByTime", "-g", &group, "-t", &topic, "-s", "0"],
    )
    .await;
    assert!(!reset.json.as_array().unwrap().is_empty());
    consumer.shutdown().await;
    producer.shutdown().await;
}
