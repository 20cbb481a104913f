//! Rebalance end to end: the allocation strategies besides the default (by config, by
//! machine room, consistent hash) and orderly queue-lock renewal.

use std::collections::BTreeSet;
use std::slice::from_ref;
use std::sync::Arc;
use std::time::Duration;

use client::admin::AdminClient;
use client::consumer::pull;
use client::consumer::{
    AllocateByConfig, AllocateByMachineRoom, AllocateConsistentHash, AllocateStrategy,
    ConsumeOrderlyContext, ConsumeOrderlyStatus, Expression, Listener, PushConsumer,
};
use client::{ClientConfig, Message, MessageExt, MessageQueue};

use crate::cluster::{self, unique};
use crate::consumer::{concurrent, options, send_n, wait_for, Seen};
use crate::producer::{create_topic, producer};

/// The readable queues of `topic`, sorted (what every member allocates from).
async fn all_queues(namesrv: &str, topic: &str) -> Vec<MessageQueue> {
    let admin = AdminClient::start(ClientConfig::with_namesrv(namesrv)).unwrap();
    let queues = pull::readable_queues(admin.instance(), topic)
        .await
        .unwrap();
    admin.shutdown().await;
    queues
}

async fn member(
    namesrv: &str,
    group: &str,
    topic: &str,
    strategy: Arc<dyn AllocateStrategy>,
    seen: &Seen,
) -> PushConsumer {
    let mut options = options(namesrv, group);
    options.rebalance_interval = Duration::from_secs(1);
    options.allocate_strategy = strategy;
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(topic, Expression::all()).unwrap();
    consumer.register_listener(concurrent(seen));
    consumer.start().await.unwrap();
    consumer
}

/// This member's queues of `topic` (not of the group's retry topic).
fn owned(consumer: &PushConsumer, topic: &str) -> Vec<MessageQueue> {
    consumer
        .assigned_queues()
        .into_iter()
        .filter(|queue| queue.topic == topic)
        .collect()
}

/// Polls every member's queues of `topic` until they equal `expected` (in member order),
/// at most 30 s; returns the last observation.
async fn wait_for_assignment(
    members: &[PushConsumer],
    topic: &str,
    expected: &dyn Fn() -> Vec<Vec<MessageQueue>>,
) -> Vec<Vec<MessageQueue>> {
    let mut observed = Vec::new();
    for _ in 0..300 {
        observed = members.iter().map(|m| owned(m, topic)).collect();
        if observed == expected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    observed
}

/// The sorted client ids of `members`, as the broker lists them to each member.
fn client_ids(members: &[PushConsumer]) -> Vec<String> {
    let mut ids: Vec<String> = members
        .iter()
        .map(|m| m.client_id().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// What `strategy` gives each member, from the same inputs the members use.
fn expected_by(
    strategy: &dyn AllocateStrategy,
    members: &[PushConsumer],
    all: &[MessageQueue],
) -> Vec<Vec<MessageQueue>> {
    let ids = client_ids(members);
    members
        .iter()
        .map(|m| {
            let mut queues = strategy.allocate(m.client_id().unwrap(), all, &ids);
            queues.sort();
            queues
        })
        .collect()
}

/// Asserts every message in `seens` was consumed once, by the member owning its queue.
fn assert_consumed_by_owner(seens: &[Seen], assignment: &[Vec<MessageQueue>], total: usize) {
    let mut bodies = BTreeSet::new();
    for (seen, queues) in seens.iter().zip(assignment) {
        for message in seen.lock().unwrap().iter() {
            assert!(
                queues.contains(&message.queue()),
                "{} from {} consumed by a member that does not own it",
                String::from_utf8_lossy(&message.body),
                message.queue()
            );
            assert!(bodies.insert(message.body.clone()), "consumed twice");
        }
    }
    assert_eq!(bodies.len(), total);
}

fn seen_count(seens: &[Seen]) -> usize {
    seens.iter().map(|seen| seen.lock().unwrap().len()).sum()
}

/// Waits until the members saw `count` messages together, then a little longer so that
/// duplicates or strays would show.
async fn wait_for_total(seens: &[Seen], count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen_count(seens) < count && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn allocate_by_config_consumes_exactly_the_configured_queues() {
    let cluster = cluster::start().await;
    let topic = unique("T_by_config");
    let group = unique("cg_by_config");
    create_topic(&cluster.namesrv, &topic, 4).await;
    let all = all_queues(&cluster.namesrv, &topic).await;
    let configured = vec![all[..1].to_vec(), all[1..].to_vec()];
    let seens: Vec<Seen> = vec![Arc::default(), Arc::default()];
    let mut members = Vec::new();
    for (queues, seen) in configured.iter().zip(&seens) {
        let strategy = Arc::new(AllocateByConfig {
            queues: queues.clone(),
        });
        members.push(member(&cluster.namesrv, &group, &topic, strategy, seen).await);
    }
    let assignment = wait_for_assignment(&members, &topic, &|| configured.clone()).await;
    assert_eq!(assignment, configured);
    send_n(&cluster.namesrv, &topic, 20).await;
    wait_for_total(&seens, 20).await;
    assert_consumed_by_owner(&seens, &configured, 20);
    for mut member in members {
        member.shutdown().await;
    }
}

#[tokio::test]
async fn allocate_by_machine_room_takes_only_the_consumer_rooms_brokers() {
    if cluster::external() {
        return;
    }
    let brokers = cluster::start_two(["room1@broker-a", "room2@broker-b"]).await;
    let namesrv = brokers.namesrv.clone();
    let topic = unique("T_by_room");
    let group = unique("cg_by_room");
    create_topic(&namesrv, &topic, 4).await;
    let all = all_queues(&namesrv, &topic).await;
    assert_eq!(all.len(), 8);
    let strategy = AllocateByMachineRoom {
        consumer_idcs: ["room2".to_owned()].into_iter().collect(),
    };
    let seens: Vec<Seen> = vec![Arc::default(), Arc::default()];
    let mut members = Vec::new();
    for seen in &seens {
        members.push(member(&namesrv, &group, &topic, Arc::new(strategy.clone()), seen).await);
    }
    let expected = || expected_by(&strategy, &members, &all);
    let assignment = wait_for_assignment(&members, &topic, &expected).await;
    assert_eq!(assignment, expected());
    // The rule: room2's four queues split 2/2, room1's left alone.
    let union: Vec<&MessageQueue> = assignment.iter().flatten().collect();
    assert_eq!(union.len(), 4);
    assert!(union.iter().all(|q| q.broker_name == "room2@broker-b"));
    assert!(assignment.iter().all(|queues| queues.len() == 2));

    let producer = producer(&namesrv).await;
    let mut in_room2 = 0;
    for i in 0..16 {
        let sent = producer
            .send(Message::new(&topic, format!("m{i}")))
            .await
            .unwrap();
        in_room2 += usize::from(sent.queue.broker_name == "room2@broker-b");
    }
    producer.shutdown().await;
    assert!(
        in_room2 > 0 && in_room2 < 16,
        "round robin covers both brokers"
    );
    wait_for_total(&seens, in_room2).await;
    assert_consumed_by_owner(&seens, &assignment, in_room2);
    for mut member in members {
        member.shutdown().await;
    }
}

#[tokio::test]
async fn consistent_hash_splits_once_and_keeps_survivors_queues() {
    let cluster = cluster::start().await;
    let topic = unique("T_hash");
    let group = unique("cg_hash");
    create_topic(&cluster.namesrv, &topic, 8).await;
    let all = all_queues(&cluster.namesrv, &topic).await;
    let strategy = AllocateConsistentHash::default();
    let seens: Vec<Seen> = vec![Arc::default(), Arc::default(), Arc::default()];
    let mut members = Vec::new();
    for seen in &seens {
        members.push(member(&cluster.namesrv, &group, &topic, Arc::new(strategy), seen).await);
    }
    let expected = || expected_by(&strategy, &members, &all);
    let assignment = wait_for_assignment(&members, &topic, &expected).await;
    assert_eq!(assignment, expected());
    let union: BTreeSet<&MessageQueue> = assignment.iter().flatten().collect();
    assert_eq!(union.len(), all.len(), "every queue has exactly one owner");
    assert_eq!(assignment.iter().map(Vec::len).sum::<usize>(), all.len());

    send_n(&cluster.namesrv, &topic, 40).await;
    wait_for_total(&seens, 40).await;
    assert_consumed_by_owner(&seens, &assignment, 40);
    // Stable: a few more rebalance rounds change nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again: Vec<Vec<MessageQueue>> = members.iter().map(|m| owned(m, &topic)).collect();
    assert_eq!(again, assignment);

    // A member leaves: only its queues move; the survivors keep theirs.
    let mut leaving = members.pop().unwrap();
    leaving.shutdown().await;
    let expected = || expected_by(&strategy, &members, &all);
    let after = wait_for_assignment(&members, &topic, &expected).await;
    assert_eq!(after, expected());
    assert_eq!(after.iter().map(Vec::len).sum::<usize>(), all.len());
    for (before, now) in assignment.iter().zip(&after) {
        assert!(
            before.iter().all(|q| now.contains(q)),
            "{before:?} ⊄ {now:?}"
        );
    }
    for mut member in members {
        member.shutdown().await;
    }
}

/// Broker lock lease for the lock tests (`lockMaxLiveTime`, 60 s by default).
const LOCK_LEASE: Duration = Duration::from_secs(3);

/// An orderly member that asks for every queue (by config), so that only the broker's
/// queue lock decides who consumes.
async fn orderly_member(
    namesrv: &str,
    group: &str,
    topic: &str,
    queues: &[MessageQueue],
    lock_interval: Duration,
    seen: &Seen,
) -> PushConsumer {
    let mut options = options(namesrv, group);
    options.rebalance_interval = Duration::from_secs(1);
    options.lock_interval = lock_interval;
    options.allocate_strategy = Arc::new(AllocateByConfig {
        queues: queues.to_vec(),
    });
    let recorder = seen.clone();
    let mut consumer = PushConsumer::new(options);
    consumer.subscribe(topic, Expression::all()).unwrap();
    consumer.register_listener(Listener::Orderly(Arc::new(
        move |messages: &[MessageExt], _: &mut ConsumeOrderlyContext| {
            recorder.lock().unwrap().extend(messages.iter().cloned());
            ConsumeOrderlyStatus::Success
        },
    )));
    consumer.start().await.unwrap();
    consumer
}

#[tokio::test]
async fn orderly_lock_renewal_keeps_queues_past_the_broker_lease() {
    if cluster::external() {
        return;
    }
    let cluster = cluster::start_with(|config| {
        config.lock_lease_ms = u64::try_from(LOCK_LEASE.as_millis()).unwrap();
    })
    .await;
    let topic = unique("T_lock_renew");
    let group = unique("cg_lock_renew");
    create_topic(&cluster.namesrv, &topic, 2).await;
    let all = all_queues(&cluster.namesrv, &topic).await;
    let (seen_first, seen_second): (Seen, Seen) = (Arc::default(), Arc::default());
    let renew = Duration::from_millis(500);
    let mut first =
        orderly_member(&cluster.namesrv, &group, &topic, &all, renew, &seen_first).await;
    let assignment = wait_for_assignment(from_ref(&first), &topic, &|| vec![all.clone()]).await;
    assert_eq!(assignment, vec![all.clone()]);
    let mut second =
        orderly_member(&cluster.namesrv, &group, &topic, &all, renew, &seen_second).await;

    // Three leases long, one message every 250 ms: the first member keeps the locks by
    // renewing them; the second, trying every rebalance (1 s), never gets one.
    let producer = producer(&cluster.namesrv).await;
    let rounds = 3 * LOCK_LEASE.as_millis() / 250;
    for i in 0..rounds {
        producer
            .send(Message::new(&topic, format!("m{i}")))
            .await
            .unwrap();
        assert!(
            owned(&second, &topic).is_empty(),
            "second member got a lock"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let sent = usize::try_from(rounds).unwrap();
    let consumed = wait_for(&seen_first, sent, Duration::from_secs(20)).await;
    assert_eq!(consumed.len(), sent, "first member consumed past the lease");
    assert!(seen_second.lock().unwrap().is_empty());
    let stats = first.process_queue_stats();
    assert_eq!(stats.len(), all.len());
    assert!(stats.iter().all(|pq| pq.locked), "{stats:?}");

    // The first member leaves (and unlocks): the second takes over.
    first.shutdown().await;
    let assignment = wait_for_assignment(from_ref(&second), &topic, &|| vec![all.clone()]).await;
    assert_eq!(assignment, vec![all.clone()]);
    producer.send(Message::new(&topic, "late")).await.unwrap();
    let late = wait_for(&seen_second, 1, Duration::from_secs(20)).await;
    assert_eq!(late.len(), 1);
    producer.shutdown().await;
    second.shutdown().await;
}

#[tokio::test]
async fn without_lock_renewal_the_lease_expires_to_another_member() {
    if cluster::external() {
        return;
    }
    let cluster = cluster::start_with(|config| {
        config.lock_lease_ms = u64::try_from(LOCK_LEASE.as_millis()).unwrap();
    })
    .await;
    let topic = unique("T_lock_expire");
    let group = unique("cg_lock_expire");
    create_topic(&cluster.namesrv, &topic, 2).await;
    let all = all_queues(&cluster.namesrv, &topic).await;
    let no_renewal = Duration::from_secs(3600);
    let seen: Seen = Arc::default();
    let mut first = orderly_member(&cluster.namesrv, &group, &topic, &all, no_renewal, &seen).await;
    let assignment = wait_for_assignment(from_ref(&first), &topic, &|| vec![all.clone()]).await;
    assert_eq!(assignment, vec![all.clone()]);
    let mut second =
        orderly_member(&cluster.namesrv, &group, &topic, &all, no_renewal, &seen).await;
    let taken = wait_for_assignment(from_ref(&second), &topic, &|| vec![all.clone()]).await;
    assert_eq!(
        taken,
        vec![all.clone()],
        "the lease expired without renewal"
    );
    second.shutdown().await;
    first.shutdown().await;
}
