//! Push-consumer flow control (cached count, cached size and offset-span thresholds) and
//! the consume timeout (a message stuck in the listener is sent back and redelivered).

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use client::admin::AdminClient;
use client::consumer::offset_store::query_consumer_offset;
use client::consumer::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, Expression, Listener, ProcessQueueStats, PushConsumer,
    PushConsumerOptions,
};
use client::{ClientConfig, Message, MessageExt};

use crate::cluster::{self, unique};
use crate::consumer::{options, send_n, wait_for, Seen};
use crate::producer::{create_topic, producer};

/// Listener calls block on it until it opens; never longer than a minute, so a failing
/// test cannot hang the runtime's blocking threads.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn wait(&self) {
        let open = self.open.lock().unwrap();
        let _open = self
            .changed
            .wait_timeout_while(open, Duration::from_secs(60), |open| !*open)
            .unwrap();
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

/// Records every delivery, then blocks on `gate` when `hold` says so.
fn gated_concurrent(seen: &Seen, gate: &Arc<Gate>, hold: fn(&MessageExt) -> bool) -> Listener {
    let (seen, gate) = (seen.clone(), gate.clone());
    Listener::Concurrently(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeConcurrentlyContext| {
            seen.lock().unwrap().extend(messages.iter().cloned());
            if messages.iter().any(hold) {
                gate.wait();
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        },
    ))
}

fn gated_orderly(seen: &Seen, gate: &Arc<Gate>) -> Listener {
    let (seen, gate) = (seen.clone(), gate.clone());
    Listener::Orderly(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeOrderlyContext| {
            seen.lock().unwrap().extend(messages.iter().cloned());
            gate.wait();
            ConsumeOrderlyStatus::Success
        },
    ))
}

async fn start(options: PushConsumerOptions, topic: &str, listener: Listener) -> PushConsumer {
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(topic, Expression::all()).unwrap();
    consumer.register_listener(listener);
    consumer.start().await.unwrap();
    consumer
}

/// The process queue of `topic`'s only queue.
fn stats(consumer: &PushConsumer, topic: &str) -> ProcessQueueStats {
    let mut stats: Vec<ProcessQueueStats> = consumer
        .process_queue_stats()
        .into_iter()
        .filter(|pq| pq.queue.topic == topic)
        .collect();
    assert_eq!(stats.len(), 1, "{stats:?}");
    stats.remove(0)
}

/// Waits until `condition` holds on the topic's process queue (at most 20 s).
async fn wait_for_stats(
    consumer: &PushConsumer,
    topic: &str,
    condition: impl Fn(&ProcessQueueStats) -> bool,
) -> ProcessQueueStats {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = consumer
            .process_queue_stats()
            .into_iter()
            .find(|pq| pq.queue.topic == topic);
        match now {
            Some(now) if condition(&now) || tokio::time::Instant::now() >= deadline => return now,
            _ if tokio::time::Instant::now() >= deadline => panic!("{topic} never assigned"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Opens the gate and checks that all `count` messages reach the listener, each once.
async fn release_and_expect_all(gate: &Gate, seen: &Seen, count: usize) -> Vec<MessageExt> {
    gate.open();
    let all = wait_for(seen, count, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all_now = seen.lock().unwrap().clone();
    let offsets: BTreeSet<i64> = all_now.iter().map(|m| m.queue_offset).collect();
    assert_eq!(all.len(), count);
    assert_eq!(all_now.len(), count, "no message twice");
    assert_eq!(offsets.len(), count);
    all_now
}

/// Lets a few flow-control rounds (50 ms each) pass, so that a consumer ignoring the
/// threshold would have pulled past it.
async fn let_pulls_run() {
    tokio::time::sleep(Duration::from_millis(1000)).await;
}

const BACKLOG: usize = 60;
const COUNT_THRESHOLD: usize = 10;
const PULL_BATCH: i32 = 4;
/// A pull starts while at most the threshold is cached and brings at most a batch.
const COUNT_BOUND: usize = COUNT_THRESHOLD + PULL_BATCH as usize;

fn count_limited(namesrv: &str, group: &str) -> PushConsumerOptions {
    let mut options = options(namesrv, group);
    options.pull_threshold_for_queue = COUNT_THRESHOLD;
    options.pull_batch_size = PULL_BATCH;
    options.consume_thread_max = 32;
    options
}

#[tokio::test]
async fn cached_message_count_threshold_pauses_pulling() {
    let cluster = cluster::start().await;
    let topic = unique("T_flow_count");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, BACKLOG).await;
    let (seen, gate): (Seen, Arc<Gate>) = (Arc::default(), Arc::default());
    let options = count_limited(&cluster.namesrv, &unique("cg_flow_count"));
    let mut consumer = start(options, &topic, gated_concurrent(&seen, &gate, |_| true)).await;

    wait_for_stats(&consumer, &topic, |pq| {
        pq.cached_message_count > COUNT_THRESHOLD
    })
    .await;
    let_pulls_run().await;
    let held = stats(&consumer, &topic);
    let delivered = seen.lock().unwrap().len();
    assert!(
        (COUNT_THRESHOLD + 1..=COUNT_BOUND).contains(&held.cached_message_count),
        "{held:?}"
    );
    // Every cached message is in a (blocked) listener call: 32 threads are enough.
    assert!(delivered <= COUNT_BOUND, "{delivered} delivered");

    release_and_expect_all(&gate, &seen, BACKLOG).await;
    assert_eq!(stats(&consumer, &topic).cached_message_count, 0);
    consumer.shutdown().await;
}

#[tokio::test]
async fn cached_message_count_threshold_pauses_orderly_pulling() {
    let cluster = cluster::start().await;
    let topic = unique("T_flow_orderly");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, BACKLOG).await;
    let (seen, gate): (Seen, Arc<Gate>) = (Arc::default(), Arc::default());
    let options = count_limited(&cluster.namesrv, &unique("cg_flow_orderly"));
    let mut consumer = start(options, &topic, gated_orderly(&seen, &gate)).await;

    wait_for_stats(&consumer, &topic, |pq| {
        pq.cached_message_count > COUNT_THRESHOLD
    })
    .await;
    let_pulls_run().await;
    let held = stats(&consumer, &topic);
    // The message in the (blocked) listener counts as cached until it is committed.
    assert!(
        (COUNT_THRESHOLD + 1..=COUNT_BOUND).contains(&held.cached_message_count),
        "{held:?}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "orderly: one batch at a time"
    );

    let all = release_and_expect_all(&gate, &seen, BACKLOG).await;
    let offsets: Vec<i64> = all.iter().map(|m| m.queue_offset).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "in queue order");
    consumer.shutdown().await;
}

#[tokio::test]
async fn cached_size_threshold_pauses_pulling() {
    const BODY_BYTES: usize = 100 * 1024;
    const MESSAGES: usize = 30;
    let cluster = cluster::start().await;
    let topic = unique("T_flow_size");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let producer = producer(&cluster.namesrv).await;
    for i in 0..MESSAGES {
        let mut body = vec![b'x'; BODY_BYTES];
        body[..8].copy_from_slice(&u64::try_from(i).unwrap().to_be_bytes());
        producer.send(Message::new(&topic, body)).await.unwrap();
    }
    producer.shutdown().await;
    let (seen, gate): (Seen, Arc<Gate>) = (Arc::default(), Arc::default());
    let mut options = options(&cluster.namesrv, &unique("cg_flow_size"));
    options.pull_threshold_size_for_queue_mib = 1;
    options.pull_batch_size = 2;
    options.consume_thread_max = 32;
    let mut consumer = start(options, &topic, gated_concurrent(&seen, &gate, |_| true)).await;

    let threshold_bytes = 1024 * 1024;
    wait_for_stats(&consumer, &topic, |pq| {
        pq.cached_message_bytes > threshold_bytes
    })
    .await;
    let_pulls_run().await;
    let held = stats(&consumer, &topic);
    assert!(held.cached_message_bytes > threshold_bytes, "{held:?}");
    // Pulls stop above 1 MiB: ten 100 KiB bodies fit under it, a pull adds at most two.
    assert!(held.cached_message_count <= 12, "{held:?}");
    assert!(seen.lock().unwrap().len() <= 12);

    release_and_expect_all(&gate, &seen, MESSAGES).await;
    consumer.shutdown().await;
}

#[tokio::test]
async fn offset_span_threshold_pauses_pulling_while_the_oldest_message_is_stuck() {
    const SPAN: i64 = 20;
    let cluster = cluster::start().await;
    let topic = unique("T_flow_span");
    create_topic(&cluster.namesrv, &topic, 1).await;
    send_n(&cluster.namesrv, &topic, BACKLOG).await;
    let (seen, gate): (Seen, Arc<Gate>) = (Arc::default(), Arc::default());
    let mut options = options(&cluster.namesrv, &unique("cg_flow_span"));
    options.consume_concurrently_max_span = SPAN;
    options.pull_batch_size = PULL_BATCH;
    // One listener call at a time, and it blocks: everything after it stays cached, far
    // below the count threshold (1000), so the span is what stops the pulls. (Consumed
    // messages leave the process queue and do not count towards the span, as in Java.)
    options.consume_thread_max = 1;
    let listener = gated_concurrent(&seen, &gate, |_| true);
    let mut consumer = start(options, &topic, listener).await;

    wait_for_stats(&consumer, &topic, |pq| pq.cached_offset_span > SPAN).await;
    let_pulls_run().await;
    let held = stats(&consumer, &topic);
    let bound = SPAN + i64::from(PULL_BATCH);
    assert!(
        (SPAN + 1..=bound).contains(&held.cached_offset_span),
        "{held:?}"
    );
    assert_eq!(
        i64::try_from(held.cached_message_count).unwrap(),
        held.cached_offset_span + 1,
        "offsets 0..=span, nothing consumed yet"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);

    release_and_expect_all(&gate, &seen, BACKLOG).await;
    consumer.shutdown().await;
}

#[tokio::test]
async fn message_stuck_past_consume_timeout_is_sent_back_and_redelivered() {
    // Delay level 3 (the send-back's) is 10 s by default; 1 s keeps the test short.
    let cluster = cluster::start_with(|config| config.message_delay_levels_ms[2] = 1_000).await;
    let topic = unique("T_consume_timeout");
    let group = unique("cg_consume_timeout");
    create_topic(&cluster.namesrv, &topic, 1).await;
    let producer = producer(&cluster.namesrv).await;
    let stuck = producer.send(Message::new(&topic, "stuck")).await.unwrap();
    for i in 0..3 {
        producer
            .send(Message::new(&topic, format!("m{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let (seen, gate): (Seen, Arc<Gate>) = (Arc::default(), Arc::default());
    let mut options = options(&cluster.namesrv, &group);
    options.consume_timeout = Duration::from_secs(2);
    options.persist_offset_interval = Duration::from_secs(1);
    // Only the first delivery of "stuck" hangs (until the end of the test).
    let listener = gated_concurrent(&seen, &gate, |m| {
        &m.body[..] == b"stuck" && m.reconsume_times == 0
    });
    let mut consumer = start(options, &topic, listener).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let redelivered = loop {
        let again = seen
            .lock()
            .unwrap()
            .iter()
            .find(|m| &m.body[..] == b"stuck" && m.reconsume_times > 0)
            .cloned();
        if let Some(again) = again {
            break again;
        }
        assert!(tokio::time::Instant::now() < deadline, "never redelivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The first call is still blocked: the timeout, not the listener, sent it back.
    assert_eq!(redelivered.reconsume_times, 1);
    assert_eq!(redelivered.topic, topic, "retry topic mapped back");
    assert_eq!(redelivered.msg_id(), stuck.msg_id);
    let deliveries = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|m| &m.body[..] == b"stuck")
        .count();
    assert_eq!(deliveries, 2);
    // Removed from the process queue, so the queue's offset moves past it.
    assert_eq!(stats(&consumer, &topic).cached_message_count, 0);
    let admin = AdminClient::start(ClientConfig::with_namesrv(&cluster.namesrv)).unwrap();
    let mut committed = None;
    for _ in 0..50 {
        committed = query_consumer_offset(admin.instance(), &group, &stuck.queue)
            .await
            .unwrap();
        if committed == Some(4) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(committed, Some(4));
    admin.shutdown().await;
    gate.open();
    consumer.shutdown().await;
}
