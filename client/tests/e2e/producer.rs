//! Producer modes end to end: sync, async, oneway, batch, selectors, compression, delay
//! level, timer, transactions, auto-created topics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use client::admin::{AdminClient, TopicConfig};
use client::consumer::{LitePullConsumer, LitePullOptions};
use client::producer::transaction::{
    LocalTransactionState, TransactionListener, TransactionProducer,
};
use client::producer::{SelectByHash, SelectByRandom};
use client::{ClientConfig, Message, MessageExt, Producer, ProducerOptions, SendStatus};
use protocol::message::OffsetMessageId;

use crate::cluster::{self, unique};

pub async fn create_topic(namesrv: &str, topic: &str, queues: i32) {
    let admin = AdminClient::start(ClientConfig::with_namesrv(namesrv)).unwrap();
    let config = TopicConfig {
        read_queue_nums: queues,
        write_queue_nums: queues,
        ..TopicConfig::new(topic)
    };
    let masters = admin.master_addrs(None).await.unwrap();
    for addr in &masters {
        admin.create_topic(addr, &config).await.unwrap();
    }
    // The route must be visible, with every master's queues, before producers look it up.
    for _ in 0..50 {
        if admin
            .topic_route(topic)
            .await
            .is_ok_and(|route| route.queue_datas.len() >= masters.len())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin.shutdown().await;
}

pub async fn producer(namesrv: &str) -> Producer {
    Producer::start(ProducerOptions::new(unique("pg"), Some(namesrv)))
        .await
        .unwrap()
}

/// Reads every message of `topic` from the beginning with a lite pull consumer until
/// `expected` arrived or `wait` passed.
pub async fn read_all(
    namesrv: &str,
    topic: &str,
    expected: usize,
    wait: Duration,
) -> Vec<MessageExt> {
    let consumer =
        LitePullConsumer::start_assigned(LitePullOptions::new(unique("reader"), Some(namesrv)))
            .unwrap();
    let queues = consumer.fetch_message_queues(topic).await.unwrap();
    consumer.assign(queues.clone()).await.unwrap();
    for queue in &queues {
        consumer.seek(queue, 0).unwrap();
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut all = Vec::new();
    while all.len() < expected && tokio::time::Instant::now() < deadline {
        all.extend(consumer.poll(Duration::from_millis(500)).await);
    }
    consumer.shutdown().await;
    all
}

#[tokio::test]
async fn send_sync_async_oneway_and_batch() {
    let cluster = cluster::start().await;
    let topic = unique("T_modes");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let producer = producer(&cluster.namesrv).await;

    let sync = producer
        .send(
            Message::new(&topic, "sync")
                .with_tags("TagA")
                .with_keys(&["k1"]),
        )
        .await
        .unwrap();
    assert_eq!(sync.status, SendStatus::SendOk);
    assert_eq!(sync.msg_id.len(), 32, "UNIQ_KEY is set client-side");
    let offset_id = OffsetMessageId::decode(&sync.offset_msg_id).unwrap();
    assert!(offset_id.commit_log_offset >= 0);

    let (done, receive) = tokio::sync::oneshot::channel();
    producer.send_async(Message::new(&topic, "async"), move |result| {
        let _ = done.send(result);
    });
    let asynchronous = receive.await.unwrap().unwrap();
    assert_eq!(asynchronous.status, SendStatus::SendOk);

    producer
        .send_oneway(Message::new(&topic, "oneway"))
        .await
        .unwrap();

    let batch = producer
        .send_batch(vec![
            Message::new(&topic, "b1"),
            Message::new(&topic, "b2"),
            Message::new(&topic, "b3"),
        ])
        .await
        .unwrap();
    assert_eq!(batch.msg_id.split(',').count(), 3);

    let received = read_all(&cluster.namesrv, &topic, 6, Duration::from_secs(15)).await;
    let mut bodies: Vec<String> = received
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["async", "b1", "b2", "b3", "oneway", "sync"]);
    let first = received.iter().find(|m| &m.body[..] == b"sync").unwrap();
    assert_eq!(first.msg_id(), sync.msg_id);
    assert_eq!(first.tags(), Some("TagA"));
    assert_eq!(first.keys(), ["k1"]);
    producer.shutdown().await;
}

#[tokio::test]
async fn pipelined_sends_share_one_connection() {
    let cluster = cluster::start().await;
    let topic = unique("T_pipeline");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let producer = producer(&cluster.namesrv).await;
    let sends: Vec<_> = (0..200)
        .map(|i| {
            let producer = producer.clone();
            let topic = topic.clone();
            tokio::spawn(async move { producer.send(Message::new(&topic, format!("m{i}"))).await })
        })
        .collect();
    let mut ok = 0;
    for send in sends {
        if send.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 200);
    producer.shutdown().await;
}

#[tokio::test]
async fn unknown_topic_is_auto_created_through_tbw102() {
    let cluster = cluster::start().await;
    let topic = unique("T_auto");
    let producer = producer(&cluster.namesrv).await;
    let sent = producer.send(Message::new(&topic, "first")).await.unwrap();
    assert_eq!(sent.status, SendStatus::SendOk);
    let received = read_all(&cluster.namesrv, &topic, 1, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 1);
    producer.shutdown().await;
}

#[tokio::test]
async fn large_bodies_are_compressed_and_inflated() {
    let cluster = cluster::start().await;
    let topic = unique("T_zip");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let producer = producer(&cluster.namesrv).await;
    let body: Vec<u8> = (0..20_000u32).map(|i| (i % 7) as u8 + b'a').collect();
    producer
        .send(Message::new(&topic, body.clone()))
        .await
        .unwrap();
    let received = read_all(&cluster.namesrv, &topic, 1, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 1);
    assert_eq!(&received[0].body[..], &body[..]);
    assert_ne!(
        received[0].sys_flag & protocol::message::sys_flag::COMPRESSED,
        0
    );
    producer.shutdown().await;
}

#[tokio::test]
async fn selectors_pick_stable_queues() {
    let cluster = cluster::start().await;
    let topic = unique("T_select");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let producer = producer(&cluster.namesrv).await;
    let mut queues = std::collections::BTreeSet::new();
    for i in 0..10 {
        let sent = producer
            .send_with_selector(
                Message::new(&topic, format!("o{i}")),
                &SelectByHash,
                "order-42",
            )
            .await
            .unwrap();
        queues.insert(sent.queue.queue_id);
    }
    assert_eq!(queues.len(), 1, "one key, one queue");
    let sent = producer
        .send_with_selector(Message::new(&topic, "r"), &SelectByRandom, "")
        .await
        .unwrap();
    assert!(sent.queue.queue_id < 4);
    producer.shutdown().await;
}

#[tokio::test]
async fn delay_level_and_timer_messages_arrive_late() {
    let cluster = cluster::start().await;
    let topic = unique("T_delay");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let producer = producer(&cluster.namesrv).await;
    producer
        .send(Message::new(&topic, "level").with_delay_level(2))
        .await
        .unwrap();
    producer
        .send(Message::new(&topic, "timer").with_delay_seconds(3))
        .await
        .unwrap();
    let received = read_all(&cluster.namesrv, &topic, 2, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 2);
    for message in &received {
        let waited = message.store_timestamp_ms - message.born_timestamp_ms;
        assert!(
            waited >= 2_000,
            "{} stored after {waited} ms",
            String::from_utf8_lossy(&message.body)
        );
    }
    producer.shutdown().await;
}

struct Decisions {
    checks: AtomicUsize,
}

impl TransactionListener for Decisions {
    fn execute_local_transaction(&self, message: &Message, _id: &str) -> LocalTransactionState {
        match &message.body[..] {
            b"commit" => LocalTransactionState::CommitMessage,
            b"rollback" => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        }
    }

    fn check_local_transaction(&self, _message: &MessageExt) -> LocalTransactionState {
        self.checks.fetch_add(1, Ordering::SeqCst);
        LocalTransactionState::CommitMessage
    }
}

#[tokio::test]
async fn transactions_commit_rollback_and_check_back() {
    let cluster = cluster::start().await;
    let topic = unique("T_tx");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let listener = Arc::new(Decisions {
        checks: AtomicUsize::new(0),
    });
    let producer = TransactionProducer::start(
        ProducerOptions::new(unique("txg"), Some(&cluster.namesrv)),
        listener.clone(),
    )
    .await
    .unwrap();
    for body in ["commit", "rollback", "unknown"] {
        let result = producer
            .send_in_transaction(Message::new(&topic, body))
            .await
            .unwrap();
        assert_eq!(result.send.status, SendStatus::SendOk);
    }
    // The broker checks undecided halves after transactionTimeOut (6 s) on its check
    // interval (30 s on 5.x), so allow a minute for "unknown" to be committed.
    let received = read_all(&cluster.namesrv, &topic, 2, Duration::from_secs(75)).await;
    let mut bodies: Vec<String> = received
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["commit", "unknown"]);
    assert!(listener.checks.load(Ordering::SeqCst) >= 1);
    producer.shutdown().await;
}
