//! `delay`, `retry` and `transaction` on the unchanged `rocketmq-client-rust` 1.0.0.
//!
//! * `delay`: a warm-up message proves the consumer is subscribed, then COUNT (default 21)
//!   messages at delay levels 1/2/3 (1 s / 5 s / 10 s with the default `messageDelayLevel`).
//!   Each must arrive once, not before send start + delay - 100 ms and not after send end +
//!   delay + 3 s, on the real topic with tags, keys and the user property intact.
//! * `retry`: COUNT (default 10) messages, the listener answers `ReconsumeLater` for every
//!   delivery of the odd ones, `max_reconsume_times(1)`. Odd messages must arrive exactly twice
//!   (reconsumeTimes 0, then 1 about 10 s later: this client's listener gets the context by
//!   shared reference and cannot set `delay_level_when_next_consume`, so the broker picks level
//!   3 + reconsumeTimes), then once in `%DLQ%group` (read by a second group) with
//!   reconsumeTimes 2 and `RETRY_TOPIC` = the topic. Even ones arrive once.
//! * `transaction`: COUNT (default 30) transactional sends; `execute_local_transaction` answers
//!   commit for i % 3 == 0, rollback for 1, unknown for 2, and `check_local_transaction`
//!   commits the unknown ones. A consumer must get exactly the i % 3 != 1 messages once, each
//!   unknown one after its check-back. Needs the broker's check-back within ~15 s
//!   (`interop/run.sh` sets `transactionCheckInterval=5000`).

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rocketmq_client_rust::{
    ClientConfig, ClientRuntime, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, DefaultMQPushConsumer,
    LocalTransactionState, MQPushConsumer, MessageListenerConcurrently, TransactionListener, TransactionMQProducer,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_model::common::message::MessageTrait;

use crate::{body_of, check_send, fail, producer, Args};

/// Default messageDelayLevel 1..=3 in ms.
const LEVEL_MS: [i64; 4] = [0, 1000, 5000, 10000];
const EARLY_MS: i64 = 100;
const LATE_MS: i64 = 3000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn prop(props: &HashMap<impl AsRef<str>, impl AsRef<str>>, key: &str) -> Option<String> {
    props.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v.as_ref().to_string())
}

fn prop_keys(m: &MessageExt) -> String {
    let keys: BTreeSet<String> = m.properties().keys().map(|k| k.to_string()).collect();
    format!("{keys:?}")
}

/// One delivery as the listener saw it.
#[derive(Clone)]
struct Delivery {
    at_ms: i64,
    topic: String,
    reconsume_times: i32,
}

#[derive(Default)]
struct Log {
    got: HashMap<String, Vec<Delivery>>,
    error: Option<String>,
    sample: Option<String>,
}

type SharedLog = Arc<Mutex<Log>>;

fn lock(log: &SharedLog) -> std::sync::MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records every delivery; checks body/idx/tags/keys; answers ReconsumeLater for odd idx when
/// `fail_odd`. `expect_topic` is the topic every delivery must carry.
struct Recorder {
    log: SharedLog,
    run: String,
    tag: &'static str,
    key_prefix: &'static str,
    expect_topic: String,
    fail_odd: bool,
    expect_reconsume_times: Option<i32>,
    /// For dead letters: the `RETRY_TOPIC` property (the topic first sent to).
    expect_retry_topic: Option<String>,
}

impl MessageListenerConcurrently for Recorder {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _ctx: &ConsumeConcurrentlyContext,
    ) -> rocketmq_client_rust::ClientResult<ConsumeConcurrentlyStatus> {
        let mut log = lock(&self.log);
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for m in msgs {
            let b = body_of(m);
            log.got.entry(b.clone()).or_default().push(Delivery {
                at_ms: now_ms(),
                topic: m.topic().to_string(),
                reconsume_times: m.reconsume_times(),
            });
            if b.starts_with("warmup") {
                continue;
            }
            let idx = prop(m.properties(), "idx");
            let tags = m.get_tags().map(|t| t.to_string()).unwrap_or_default();
            let keys = prop(m.properties(), "KEYS").unwrap_or_default();
            let why = if m.topic().as_str() != self.expect_topic {
                Some(format!("{b} delivered on topic {}, expected {}", m.topic(), self.expect_topic))
            } else if idx.as_ref().map(|i| format!("{}-{i}", self.run)) != Some(b.clone()) {
                Some(format!("user property idx={idx:?} does not match body {b}"))
            } else if tags != self.tag || keys != format!("{}{}", self.key_prefix, idx.clone().unwrap_or_default()) {
                Some(format!("tags/keys {tags}/{keys} on {b}"))
            } else if self.expect_reconsume_times.is_some_and(|t| t != m.reconsume_times()) {
                Some(format!("{b} has reconsumeTimes {}, expected {:?}", m.reconsume_times(), self.expect_reconsume_times))
            } else if self.expect_retry_topic.is_some() && prop(m.properties(), "RETRY_TOPIC") != self.expect_retry_topic {
                Some(format!("{b} has RETRY_TOPIC {:?}", prop(m.properties(), "RETRY_TOPIC")))
            } else {
                None
            };
            if let Some(why) = why {
                log.error.get_or_insert(why);
            }
            if log.sample.is_none() {
                log.sample = Some(prop_keys(m));
            }
            let odd = idx.and_then(|i| i.parse::<usize>().ok()).is_some_and(|i| i % 2 == 1);
            if self.fail_odd && odd {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        Ok(status)
    }
}

async fn quick_consumer(rt: &Arc<ClientRuntime>, a: &Args, group: &str, topic: &str) -> DefaultMQPushConsumer {
    // A fresh group's retry topic reaches the name server after the consumer started; re-read
    // routes every 10 s (this client's minimum) instead of every 30 s.
    let mut cfg = ClientConfig::default();
    cfg.set_poll_name_server_interval(10_000);
    let mut c = DefaultMQPushConsumer::builder(rt.clone())
        .client_config(cfg)
        .consumer_group(group.to_string())
        .name_server_addr(a.ns.clone())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .max_reconsume_times(1)
        .build();
    if let Err(e) = c.subscribe(topic.to_string(), "*".to_string()).await {
        fail(format!("subscribe {topic}: {e}"));
    }
    c
}

fn message(a: &Args, tag: &str, key: String, i: usize) -> Message {
    Message::builder()
        .topic(a.topic.as_str())
        .tags(tag)
        .key(key)
        .body_slice(format!("{}-{i}", a.run).as_bytes())
        .raw_property("idx", i.to_string())
        .unwrap_or_else(|e| fail(format!("user property: {e}")))
        .build_unchecked()
}

async fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sleep_within(deadline: Instant, d: Duration) {
    let end = (Instant::now() + d).min(deadline);
    if end > Instant::now() {
        tokio::time::sleep(end - Instant::now()).await;
    }
}

pub async fn delay(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let n = a.count;
    let p = producer(rt, a).await;
    let log: SharedLog = Arc::default();
    let warmup = format!("warmup-{}", a.run);
    let w = Message::builder().topic(a.topic.as_str()).tags("TagW").body_slice(warmup.as_bytes()).build_unchecked();
    check_send(0, p.send_with_timeout(w, 10_000).await);
    let mut c = quick_consumer(rt, a, &a.group, &a.topic).await;
    c.register_message_listener_concurrently(Recorder {
        log: log.clone(),
        run: a.run.clone(),
        tag: "TagD",
        key_prefix: "dk-",
        expect_topic: a.topic.clone(),
        fail_odd: false,
        expect_reconsume_times: Some(0),
        expect_retry_topic: None,
    });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    wait_until(a.deadline, || lock(&log).got.contains_key(&warmup)).await;
    if !lock(&log).got.contains_key(&warmup) {
        fail("the warm-up message was never consumed");
    }
    let mut window = Vec::with_capacity(n);
    for i in 0..n {
        let level = 1 + i % 3;
        let mut m = message(a, "TagD", format!("dk-{i}"), i);
        m.set_delay_time_level(level as i32);
        let before = now_ms();
        let r = check_send(i, p.send_with_timeout(m, 10_000).await);
        let after = now_ms();
        if r.message_queue.as_ref().map(|q| q.topic().to_string()) != Some(a.topic.clone()) {
            fail(format!("send {i}: queue {:?}", r.message_queue));
        }
        window.push((before + LEVEL_MS[level] - EARLY_MS, after + LEVEL_MS[level] + LATE_MS, level));
    }
    let bodies: Vec<String> = (0..n).map(|i| format!("{}-{i}", a.run)).collect();
    wait_until(a.deadline, || {
        let log = lock(&log);
        log.error.is_some() || bodies.iter().all(|b| log.got.contains_key(b))
    })
    .await;
    sleep_within(a.deadline, Duration::from_millis(1000)).await;
    c.shutdown().await;
    let mut p = p;
    p.shutdown().await;
    let log = lock(&log);
    if let Some(e) = &log.error {
        fail(format!("delay: {e}"));
    }
    let mut worst_late = i64::MIN;
    for (i, b) in bodies.iter().enumerate() {
        let (earliest, latest, level) = window[i];
        let Some(d) = log.got.get(b) else { fail(format!("delay level {level} message {i} never delivered")) };
        if d.len() != 1 {
            fail(format!("delay level {level} message {i} delivered {} times", d.len()));
        }
        let at = d[0].at_ms;
        if at < earliest {
            fail(format!("delay level {level} message {i} delivered {} ms before it was due", earliest + EARLY_MS - at));
        }
        if at > latest {
            fail(format!("delay level {level} message {i} delivered {} ms after it was due (allowed {LATE_MS})", at - latest + LATE_MS));
        }
        worst_late = worst_late.max(at - (latest - LATE_MS));
    }
    format!(
        "{n} messages at delay levels 1/2/3 each delivered once on time (latest {worst_late} ms after due); properties {}",
        log.sample.clone().unwrap_or_default()
    )
}

pub async fn retry(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let n = a.count;
    let p = producer(rt, a).await;
    for i in 0..n {
        check_send(i, p.send_with_timeout(message(a, "TagF", format!("fk-{i}"), i), 10_000).await);
    }
    let mut p = p;
    p.shutdown().await;
    let log: SharedLog = Arc::default();
    let mut c = quick_consumer(rt, a, &a.group, &a.topic).await;
    c.register_message_listener_concurrently(Recorder {
        log: log.clone(),
        run: a.run.clone(),
        tag: "TagF",
        key_prefix: "fk-",
        expect_topic: a.topic.clone(),
        fail_odd: true,
        expect_reconsume_times: None,
        expect_retry_topic: None,
    });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    let bodies: Vec<String> = (0..n).map(|i| format!("{}-{i}", a.run)).collect();
    let want = |i: usize| if i % 2 == 0 { 1 } else { 2 };
    wait_until(a.deadline, || {
        let log = lock(&log);
        log.error.is_some() || bodies.iter().enumerate().all(|(i, b)| log.got.get(b).is_some_and(|d| d.len() >= want(i)))
    })
    .await;
    // the DLQ copy of the last failure is written after the listener returned; also give a
    // wrong third delivery time to show up
    sleep_within(a.deadline - Duration::from_secs(15), Duration::from_millis(2500)).await;
    c.shutdown().await;
    let mut slowest = 0i64;
    {
        let log = lock(&log);
        if let Some(e) = &log.error {
            fail(format!("retry: {e}"));
        }
        for (i, b) in bodies.iter().enumerate() {
            let Some(d) = log.got.get(b) else { fail(format!("message {i} never delivered")) };
            let times: Vec<i32> = d.iter().map(|x| x.reconsume_times).collect();
            if d.len() != want(i) {
                fail(format!("message {i} delivered {} times, expected {} (reconsumeTimes {times:?})", d.len(), want(i)));
            }
            for (k, x) in d.iter().enumerate() {
                if x.reconsume_times != k as i32 {
                    fail(format!("message {i} delivery {k} has reconsumeTimes {} (all: {times:?})", x.reconsume_times));
                }
                if x.topic != a.topic {
                    fail(format!("message {i} delivery {k} on topic {}", x.topic));
                }
            }
            if d.len() == 2 {
                let gap = d[1].at_ms - d[0].at_ms;
                if gap < LEVEL_MS[3] - EARLY_MS || gap > LEVEL_MS[3] + LATE_MS {
                    fail(format!("message {i} retry (broker-chosen delay level 3) came {gap} ms after the failure"));
                }
                slowest = slowest.max(gap - LEVEL_MS[3]);
            }
        }
    }
    // the dead letters, read by another group
    let dlq_topic = format!("%DLQ%{}", a.group);
    let dlq_log: SharedLog = Arc::default();
    let mut d = quick_consumer(rt, a, &format!("{}_dlq", a.group), &dlq_topic).await;
    d.register_message_listener_concurrently(Recorder {
        log: dlq_log.clone(),
        run: a.run.clone(),
        tag: "TagF",
        key_prefix: "fk-",
        expect_topic: dlq_topic.clone(),
        fail_odd: false,
        expect_reconsume_times: Some(2),
        expect_retry_topic: Some(a.topic.clone()),
    });
    if let Err(e) = d.start().await {
        fail(format!("DLQ consumer start: {e}"));
    }
    let dead: Vec<&String> = bodies.iter().skip(1).step_by(2).collect();
    wait_until(a.deadline, || {
        let log = lock(&dlq_log);
        log.error.is_some() || dead.iter().all(|b| log.got.contains_key(*b))
    })
    .await;
    sleep_within(a.deadline, Duration::from_millis(1000)).await;
    d.shutdown().await;
    let log = lock(&dlq_log);
    if let Some(e) = &log.error {
        fail(format!("{dlq_topic}: {e}"));
    }
    for (b, deliveries) in &log.got {
        if !dead.contains(&b) {
            fail(format!("{dlq_topic}: unexpected body {b}"));
        }
        if deliveries.len() != 1 {
            fail(format!("{dlq_topic}: {b} delivered {} times", deliveries.len()));
        }
    }
    let missing: Vec<&&String> = dead.iter().filter(|b| !log.got.contains_key(**b)).collect();
    if !missing.is_empty() {
        fail(format!("{dlq_topic}: {} of {} dead letters never delivered (e.g. {:?})", missing.len(), dead.len(), &missing[..missing.len().min(3)]));
    }
    format!(
        "{} of {n} messages failed: redelivered with reconsumeTimes 1 (broker-chosen level 3, at most {slowest} ms late), then in {dlq_topic} exactly once with reconsumeTimes 2; properties {}",
        dead.len(),
        log.sample.clone().unwrap_or_default()
    )
}

/// Transaction listener state: which idx were checked back, and when.
#[derive(Default)]
struct Checks {
    count: HashMap<usize, usize>,
    first_ms: HashMap<usize, i64>,
    error: Option<String>,
}

struct Local {
    checks: Arc<Mutex<Checks>>,
    topic: String,
    run: String,
}

fn idx_of(props: &HashMap<impl AsRef<str>, impl AsRef<str>>) -> usize {
    prop(props, "idx").and_then(|i| i.parse().ok()).unwrap_or(usize::MAX)
}

impl TransactionListener for Local {
    fn execute_local_transaction(&self, msg: &dyn MessageTrait, _arg: Option<&(dyn Any + Send + Sync)>) -> LocalTransactionState {
        match idx_of(msg.get_properties()) % 3 {
            0 => LocalTransactionState::CommitMessage,
            1 => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        }
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let i = idx_of(msg.properties());
        let mut c = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        *c.count.entry(i).or_default() += 1;
        c.first_ms.entry(i).or_insert_with(now_ms);
        if msg.topic().as_str() != self.topic || body_of(msg) != format!("{}-{i}", self.run) {
            c.error.get_or_insert(format!("check-back for {i} carries topic {} body {}", msg.topic(), body_of(msg)));
        }
        if i % 3 == 2 {
            LocalTransactionState::CommitMessage
        } else {
            LocalTransactionState::RollbackMessage
        }
    }
}

pub async fn transaction(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let n = a.count;
    let checks: Arc<Mutex<Checks>> = Arc::default();
    let mut p = TransactionMQProducer::builder(rt.clone())
        .producer_group(format!("itp_rs_tx_{}", a.run))
        .name_server_addr(a.ns.clone())
        .topics(vec![a.topic.clone()])
        .send_msg_timeout(10_000)
        .transaction_listener(Local { checks: checks.clone(), topic: a.topic.clone(), run: a.run.clone() })
        .build();
    if let Err(e) = p.start().await {
        fail(format!("transaction producer start: {e}"));
    }
    let mut sent_ms = HashMap::new();
    let mut expected = BTreeSet::new();
    for i in 0..n {
        sent_ms.insert(i, now_ms());
        let r = match p.send_message_in_transaction::<(), _>(message(a, "TagT", format!("tk-{i}"), i), None).await {
            Ok(r) => r,
            Err(e) => fail(format!("transactional send {i}: {e}")),
        };
        let want = match i % 3 {
            0 => LocalTransactionState::CommitMessage,
            1 => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        };
        if r.local_transaction_state != Some(want) {
            fail(format!("send {i}: local state {:?}", r.local_transaction_state));
        }
        match &r.send_result {
            Some(s) if s.send_status == rocketmq_client_rust::SendStatus::SendOk => {}
            other => fail(format!("transactional send {i}: {other:?}")),
        }
        if i % 3 != 1 {
            expected.insert(format!("{}-{i}", a.run));
        }
    }
    let log: SharedLog = Arc::default();
    let mut c = quick_consumer(rt, a, &a.group, &a.topic).await;
    c.register_message_listener_concurrently(Recorder {
        log: log.clone(),
        run: a.run.clone(),
        tag: "TagT",
        key_prefix: "tk-",
        expect_topic: a.topic.clone(),
        fail_odd: false,
        expect_reconsume_times: Some(0),
        expect_retry_topic: None,
    });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    wait_until(a.deadline, || {
        let log = lock(&log);
        log.error.is_some() || expected.iter().all(|b| log.got.contains_key(b))
    })
    .await;
    // one more check round (5 s): a second commit or a late rollback would show up
    sleep_within(a.deadline, Duration::from_millis(5500)).await;
    c.shutdown().await;
    p.shutdown().await;
    let log = lock(&log);
    let checks = checks.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = log.error.as_ref().or(checks.error.as_ref()) {
        fail(format!("transaction: {e}"));
    }
    for (b, d) in &log.got {
        if !expected.contains(b) {
            fail(format!("delivered {b}, which was rolled back (or unknown)"));
        }
        if d.len() != 1 {
            fail(format!("{b} delivered {} times", d.len()));
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|b| !log.got.contains_key(*b)).collect();
    if !missing.is_empty() {
        fail(format!("{} of {} committed messages never delivered (e.g. {:?})", missing.len(), expected.len(), &missing[..missing.len().min(3)]));
    }
    let mut slowest = 0;
    for i in (2..n).step_by(3) {
        let Some(first) = checks.first_ms.get(&i) else { fail(format!("unknown message {i} was never checked back")) };
        let arrived = log.got[&format!("{}-{i}", a.run)][0].at_ms;
        if arrived < *first {
            fail(format!("unknown message {i} was delivered before its check-back committed it"));
        }
        slowest = slowest.max(first - sent_ms[&i]);
    }
    let extra: usize = checks.count.iter().map(|(i, c)| if i % 3 == 2 { c - 1 } else { *c }).sum();
    format!(
        "{} of {n} delivered once (commit + unknown checked back within {slowest} ms), no rollback; {extra} extra check-backs; properties {}",
        expected.len(),
        log.sample.clone().unwrap_or_default()
    )
}
