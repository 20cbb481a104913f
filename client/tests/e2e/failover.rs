//! Two brokers of one cluster behind one name server: when one stops, sync sends retry on
//! the other, and latency fault avoidance keeps later sends off the failed one.

use std::collections::BTreeSet;
use std::time::Duration;

use client::{ClientError, Message, Producer, ProducerOptions};

use crate::cluster::{self, unique};
use crate::producer::create_topic;

async fn producer(namesrv: &str, retries: u32, fault_avoidance: bool) -> Producer {
    let mut options = ProducerOptions::new(unique("pg_failover"), Some(namesrv));
    options.retry_times_when_send_failed = retries;
    options.send_latency_fault_enable = fault_avoidance;
    // The stopped broker unregisters from the name server; a route refresh during the test
    // would hide it from the producers, and the failure this test is about with it.
    options.client.poll_namesrv_interval = Duration::from_secs(3600);
    options.client.heartbeat_interval = Duration::from_secs(3600);
    Producer::start(options).await.unwrap()
}

/// Sends `count` messages one after the other; returns the broker of each success and the
/// number of failures (each a single attempt: these producers do not retry).
async fn send_each(producer: &Producer, topic: &str, count: usize) -> (Vec<String>, usize) {
    let mut brokers = Vec::new();
    let mut failed = 0;
    for i in 0..count {
        match producer.send(Message::new(topic, format!("m{i}"))).await {
            Ok(sent) => brokers.push(sent.queue.broker_name),
            Err(ClientError::SendFailed { attempts: 1, last }) if last.is_transport() => {
                failed += 1;
            }
            Err(error) => panic!("unexpected send error: {error}"),
        }
    }
    (brokers, failed)
}

#[tokio::test]
async fn sync_send_retries_on_another_broker_and_avoids_the_failed_one() {
    if cluster::external() {
        return;
    }
    let mut brokers = cluster::start_two(["broker-a", "broker-b"]).await;
    let topic = unique("T_failover");
    create_topic(&brokers.namesrv, &topic, 4).await;
    let retrying = producer(&brokers.namesrv, 2, false).await;
    let plain = producer(&brokers.namesrv, 0, false).await;
    let avoiding = producer(&brokers.namesrv, 0, true).await;
    let both: BTreeSet<String> = brokers.names.iter().cloned().collect();
    // Cache the two-broker route in every producer (8 queues, sorted by broker name).
    for producer in [&retrying, &plain, &avoiding] {
        let queues = producer.publish_queues(&topic).await.unwrap();
        assert_eq!(queues.len(), 8);
        let names: BTreeSet<String> = queues.into_iter().map(|q| q.broker_name).collect();
        assert_eq!(names, both);
    }
    // Round robin over both brokers while both run.
    let (before, failed) = send_each(&retrying, &topic, 8).await;
    assert_eq!(failed, 0);
    assert_eq!(before.into_iter().collect::<BTreeSet<_>>(), both);

    brokers.stop_second().await;

    // Half of the queue picks are broker-b's; each fails and is retried on broker-a.
    let (after, failed) = send_each(&retrying, &topic, 8).await;
    assert_eq!(failed, 0);
    assert!(after.iter().all(|name| name == "broker-a"), "{after:?}");

    // Without retries or fault avoidance, 8 consecutive picks are the 8 queues: the 4 of
    // broker-b fail.
    let (after, failed) = send_each(&plain, &topic, 8).await;
    assert_eq!(failed, 4);
    assert!(after.iter().all(|name| name == "broker-a"), "{after:?}");

    // With fault avoidance (and still no retries): the first pick of broker-b fails and
    // isolates it (30 s latency, avoided for 10 min), so no later send goes there.
    let (after, failed) = send_each(&avoiding, &topic, 16).await;
    assert_eq!(failed, 1, "only the first send to broker-b fails");
    assert_eq!(after.len(), 15);
    assert!(after.iter().all(|name| name == "broker-a"), "{after:?}");
    assert!(!avoiding.latency_faults().is_available("broker-b"));

    for producer in [retrying, plain, avoiding] {
        producer.shutdown().await;
    }
}
