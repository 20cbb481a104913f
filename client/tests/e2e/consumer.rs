//! Push and lite pull consumers end to end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::admin::AdminClient;
use client::consumer::offset_store::query_consumer_offset;
use client::consumer::pull;
use client::consumer::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeFromWhere, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, Expression, Listener, LitePullConsumer, LitePullOptions, MessageModel,
    PushConsumer, PushConsumerOptions,
};
use client::producer::SelectByHash;
use client::{ClientConfig, Message, MessageExt};

use crate::cluster::{self, unique};
use crate::producer::{create_topic, producer};

pub type Seen = Arc<Mutex<Vec<MessageExt>>>;

pub fn options(namesrv: &str, group: &str) -> PushConsumerOptions {
    let mut options = PushConsumerOptions::new(group, Some(namesrv));
    options.consume_from_where = ConsumeFromWhere::FirstOffset;
    options.rebalance_interval = Duration::from_secs(2);
    options
}

pub fn concurrent(seen: &Seen) -> Listener {
    let seen = seen.clone();
    Listener::Concurrently(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeConcurrentlyContext| {
            seen.lock().unwrap().extend(messages.iter().cloned());
            ConsumeConcurrentlyStatus::ConsumeSuccess
        },
    ))
}

pub async fn wait_for(seen: &Seen, count: usize, wait: Duration) -> Vec<MessageExt> {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        if seen.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen.lock().unwrap().clone()
}

pub fn bodies(messages: &[MessageExt]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

pub async fn send_n(namesrv: &str, topic: &str, count: usize) {
    let producer = producer(namesrv).await;
    for i in 0..count {
        producer
            .send(Message::new(topic, format!("m{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;
}

#[tokio::test]
async fn push_concurrent_clustering_consumes_everything_and_commits() {
    let cluster = cluster::start().await;
    let topic = unique("T_push");
    let group = unique("cg");
    create_topic(&cluster.namesrv, &topic, 4).await;
    send_n(&cluster.namesrv, &topic, 20).await;
    let seen: Seen = Arc::default();
    let mut consumer = PushConsumer::new(options(&cluster.namesrv, &group));
    consumer.subscribe(&topic, Expression::all()).unwrap();
    consumer.register_listener(concurrent(&seen));
    consumer.start().await.unwrap();
    let received = wait_for(&seen, 20, Duration::from_secs(20)).await;
    assert_eq!(bodies(&received).len(), 20);
    consumer.shutdown().await;

    let admin = AdminClient::start(ClientConfig::with_namesrv(&cluster.namesrv)).unwrap();
    let instance = admin.instance();
    let queues = pull::readable_queues(instance, &topic).await.unwrap();
    let mut lag = i64::MAX;
    for _ in 0..30 {
        lag = 0;
        for queue in &queues {
            let max = pull::queue_offset(instance, queue, true).await.unwrap();
            let committed = query_consumer_offset(instance, &group, queue)
                .await
                .unwrap()
                .unwrap_or(0);
            lag += max - committed;
        }
        if lag == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(lag, 0, "offsets are committed to the broker");
    admin.shutdown().await;
}

#[tokio::test]
async fn reconsume_later_redelivers_through_the_retry_topic() {
    let cluster = cluster::start().await;
    let topic = unique("T_retry");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, 2).await;
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let mut consumer = PushConsumer::new(options(&cluster.namesrv, &unique("cg_retry")));
    consumer.subscribe(&topic, Expression::all()).unwrap();
    consumer.register_listener(Listener::Concurrently(Arc::new(
        move |messages: &[MessageExt], context: &mut ConsumeConcurrentlyContext| {
            recorder.lock().unwrap().extend(messages.iter().cloned());
            if messages.iter().all(|m| m.reconsume_times == 0) {
                context.delay_level_when_next_consume = 1;
                ConsumeConcurrentlyStatus::ReconsumeLater
            } else {
                ConsumeConcurrentlyStatus::ConsumeSuccess
            }
        },
    )));
    consumer.start().await.unwrap();
    let received = wait_for(&seen, 4, Duration::from_secs(40)).await;
    let retried: Vec<&MessageExt> = received.iter().filter(|m| m.reconsume_times > 0).collect();
    assert_eq!(retried.len(), 2, "both messages come back once");
    assert!(
        retried.iter().all(|m| m.topic == topic),
        "retry topic is mapped back"
    );
    consumer.shutdown().await;
}

#[tokio::test]
async fn orderly_listener_sees_each_key_in_order() {
    let cluster = cluster::start().await;
    let topic = unique("T_order");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let producer = producer(&cluster.namesrv).await;
    for i in 0..30 {
        let key = format!("order-{}", i % 3);
        let body = format!("{key}:{i:02}");
        producer
            .send_with_selector(Message::new(&topic, body), &SelectByHash, &key)
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let mut options = options(&cluster.namesrv, &unique("cg_order"));
    options.consume_message_batch_max_size = 3;
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(&topic, Expression::all()).unwrap();
    consumer.register_listener(Listener::Orderly(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeOrderlyContext| {
            recorder.lock().unwrap().extend(messages.iter().cloned());
            ConsumeOrderlyStatus::Success
        },
    )));
    consumer.start().await.unwrap();
    let received = wait_for(&seen, 30, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 30);
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for message in &received {
        let body = String::from_utf8_lossy(&message.body).into_owned();
        let (key, _) = body.split_once(':').unwrap();
        if let Some(previous) = last.insert(key.to_owned(), body.clone()) {
            assert!(previous < body, "{previous} then {body}");
        }
    }
    consumer.shutdown().await;
}

#[tokio::test]
async fn broadcasting_delivers_to_every_member_with_local_offsets() {
    let cluster = cluster::start().await;
    let topic = unique("T_bcast");
    let group = unique("cg_bcast");
    create_topic(&cluster.namesrv, &topic, 2).await;
    send_n(&cluster.namesrv, &topic, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let mut consumers = Vec::new();
    let mut seens = Vec::new();
    for _ in 0..2 {
        let seen: Seen = Arc::default();
        let mut options = options(&cluster.namesrv, &group);
        options.message_model = MessageModel::Broadcasting;
        options.local_offset_dir = Some(dir.path().to_path_buf());
        let mut consumer = PushConsumer::new(options);
        consumer.subscribe(&topic, Expression::all()).unwrap();
        consumer.register_listener(concurrent(&seen));
        consumer.start().await.unwrap();
        consumers.push(consumer);
        seens.push(seen);
    }
    for seen in &seens {
        assert_eq!(
            bodies(&wait_for(seen, 6, Duration::from_secs(20)).await).len(),
            6
        );
    }
    for mut consumer in consumers {
        consumer.shutdown().await;
    }
    let files = walk(dir.path());
    assert_eq!(
        files.iter().filter(|p| p.ends_with("offsets.json")).count(),
        2,
        "{files:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn two_clustering_members_split_the_queues_on_notify() {
    let cluster = cluster::start().await;
    let topic = unique("T_split");
    let group = unique("cg_split");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let mut members = Vec::new();
    for _ in 0..2 {
        // The periodic rebalance (20 s) is too slow for this test: the split must come from
        // NOTIFY_CONSUMER_IDS_CHANGED when the second member's heartbeat arrives.
        let mut options = options(&cluster.namesrv, &group);
        options.rebalance_interval = Duration::from_secs(60);
        let mut consumer = PushConsumer::new(options);
        consumer.subscribe(&topic, Expression::all()).unwrap();
        consumer.register_listener(concurrent(&Arc::default()));
        consumer.start().await.unwrap();
        members.push(consumer);
    }
    let mut split = false;
    for _ in 0..100 {
        let owned: Vec<Vec<_>> = members
            .iter()
            .map(|m| {
                m.assigned_queues()
                    .into_iter()
                    .filter(|q| q.topic == topic)
                    .collect()
            })
            .collect();
        if owned.iter().all(|queues| queues.len() == 2) {
            let union: BTreeSet<_> = owned.iter().flatten().collect();
            assert_eq!(union.len(), 4);
            split = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(split, "queues were not split 2/2");
    for mut member in members {
        member.shutdown().await;
    }
}

#[tokio::test]
async fn tag_subscription_filters() {
    let cluster = cluster::start().await;
    let topic = unique("T_tag");
    create_topic(&cluster.namesrv, &topic, 2).await;
    let producer = producer(&cluster.namesrv).await;
    for tag in ["TagA", "TagB", "TagC", "TagA"] {
        producer
            .send(Message::new(&topic, tag).with_tags(tag))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let seen: Seen = Arc::default();
    let mut consumer = PushConsumer::new(options(&cluster.namesrv, &unique("cg_tag")));
    consumer
        .subscribe(&topic, Expression::Tag("TagA || TagC".into()))
        .unwrap();
    consumer.register_listener(concurrent(&seen));
    consumer.start().await.unwrap();
    let received = wait_for(&seen, 3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received_now = seen.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    assert_eq!(received_now.len(), 3);
    assert!(received_now.iter().all(|m| m.tags() != Some("TagB")));
    consumer.shutdown().await;
}

#[tokio::test]
async fn sql92_subscription_filters() {
    let cluster = cluster::start().await;
    let topic = unique("T_sql");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let producer = producer(&cluster.namesrv).await;
    for a in [3, 7, 9] {
        producer
            .send(Message::new(&topic, format!("a{a}")).with_property("a", &a.to_string()))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let seen: Seen = Arc::default();
    let mut consumer = PushConsumer::new(options(&cluster.namesrv, &unique("cg_sql")));
    consumer
        .subscribe(&topic, Expression::Sql92("a > 5".into()))
        .unwrap();
    consumer.register_listener(concurrent(&seen));
    consumer.start().await.unwrap();
    let received = wait_for(&seen, 2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        bodies(&received),
        ["a7".to_owned(), "a9".to_owned()].into_iter().collect()
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    consumer.shutdown().await;
}

#[tokio::test]
async fn batch_listener_gets_up_to_batch_max_size() {
    let cluster = cluster::start().await;
    let topic = unique("T_batchc");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, 12).await;
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let recorder = sizes.clone();
    let seen: Seen = Arc::default();
    let seen_recorder = seen.clone();
    let mut options = options(&cluster.namesrv, &unique("cg_batch"));
    options.consume_message_batch_max_size = 4;
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(&topic, Expression::all()).unwrap();
    consumer.register_listener(Listener::Concurrently(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeConcurrentlyContext| {
            recorder.lock().unwrap().push(messages.len());
            seen_recorder
                .lock()
                .unwrap()
                .extend(messages.iter().cloned());
            ConsumeConcurrentlyStatus::ConsumeSuccess
        },
    )));
    consumer.start().await.unwrap();
    wait_for(&seen, 12, Duration::from_secs(20)).await;
    let sizes = sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|size| *size <= 4), "{sizes:?}");
    assert!(sizes.iter().any(|size| *size > 1), "{sizes:?}");
    consumer.shutdown().await;
}

#[tokio::test]
async fn lite_pull_assign_seek_poll_commit() {
    let cluster = cluster::start().await;
    let topic = unique("T_lite");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, 5).await;
    let mut options = LitePullOptions::new(unique("lite"), Some(&cluster.namesrv));
    options.auto_commit = false;
    let consumer = LitePullConsumer::start_assigned(options).unwrap();
    let queues = consumer.fetch_message_queues(&topic).await.unwrap();
    assert_eq!(queues.len(), 1);
    consumer.assign(queues.clone()).await.unwrap();
    consumer.seek(&queues[0], 0).unwrap();
    let mut got = Vec::new();
    while got.len() < 5 {
        let polled = consumer.poll(Duration::from_secs(5)).await;
        assert!(
            !polled.is_empty(),
            "poll timed out after {} messages",
            got.len()
        );
        got.extend(polled);
    }
    assert_eq!(
        got.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    consumer.seek(&queues[0], 3).unwrap();
    let again = consumer.poll(Duration::from_secs(5)).await;
    assert_eq!(again.first().map(|m| m.queue_offset), Some(3));
    consumer.commit().await;
    let mut committed = None;
    for _ in 0..20 {
        committed = consumer.committed(&queues[0]).await.unwrap();
        if committed == Some(5) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(committed, Some(5));
    consumer.shutdown().await;
}

#[tokio::test]
async fn lite_pull_subscribe_mode_reads_new_messages() {
    let cluster = cluster::start().await;
    let topic = unique("T_lites");
    create_topic(&cluster.namesrv, &topic, 2).await;
    let mut options = LitePullOptions::new(unique("lites"), Some(&cluster.namesrv));
    options.consume_from_where = ConsumeFromWhere::FirstOffset;
    let consumer = LitePullConsumer::subscribe(options, &[(&topic, Expression::all())])
        .await
        .unwrap();
    assert_eq!(consumer.assignment().len(), 2);
    send_n(&cluster.namesrv, &topic, 4).await;
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < 4 && tokio::time::Instant::now() < deadline {
        got.extend(consumer.poll(Duration::from_secs(1)).await);
    }
    assert_eq!(got.len(), 4);
    consumer.shutdown().await;
}

#[tokio::test]
async fn running_info_is_answered_through_the_broker() {
    let cluster = cluster::start().await;
    let topic = unique("T_running");
    create_topic(&cluster.namesrv, &topic, 2).await;
    let group = unique("cg_running");
    let seen: Seen = Arc::default();
    let mut consumer = PushConsumer::new(options(&cluster.namesrv, &group));
    consumer.subscribe(&topic, Expression::all()).unwrap();
    consumer.register_listener(concurrent(&seen));
    consumer.start().await.unwrap();

    let admin = AdminClient::start(ClientConfig::with_namesrv(&cluster.namesrv)).unwrap();
    let broker = admin.master_addrs(None).await.unwrap()[0].clone();
    let connection = admin.consumer_connection(&broker, &group).await.unwrap();
    let client_id = connection.connection_set[0].client_id.clone();
    let info = admin
        .consumer_running_info(&broker, &group, &client_id)
        .await
        .unwrap();
    assert_eq!(info["properties"]["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    let subscribed: Vec<&str> = info["subscriptionSet"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["topic"].as_str())
        .collect();
    assert!(subscribed.contains(&topic.as_str()), "{subscribed:?}");
    assert!(admin
        .consumer_running_info(&broker, &group, "nobody@0")
        .await
        .is_err());

    // CONSUME_MESSAGE_DIRECTLY: the listener gets the message once more, on request.
    let producer = producer(&cluster.namesrv).await;
    let sent = producer.send(Message::new(&topic, "direct")).await.unwrap();
    producer.shutdown().await;
    wait_for(&seen, 1, Duration::from_secs(20)).await;
    let result = admin
        .consume_message_directly(&broker, &group, &client_id, &sent.offset_msg_id)
        .await
        .unwrap();
    assert_eq!(result["consumeResult"], "CR_SUCCESS", "{result}");
    assert_eq!(result["order"], false);
    let direct = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|m| &m.body[..] == b"direct")
        .count();
    assert_eq!(direct, 2, "once by the normal flow, once directly");
    admin.shutdown().await;
    consumer.shutdown().await;
}
