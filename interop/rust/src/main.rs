//! Interop tests on the unchanged crates.io `rocketmq-client-rust` 1.0.0.
//!
//! ```text
//! interop-rust-client <send-consume|orderly|tags|delay|retry|transaction> -n HOST:PORT [-c COUNT] [-t TOPIC] [-g GROUP] [--timeout SEC] [--post-sub BOOL]
//! ```
//! * `send-consume`: send COUNT (default 1000) with sync sends, push-consume them from a fresh
//!   group; exactly the sent bodies must arrive.
//! * `orderly`: 8 sharding keys, messages sent with `SelectMessageQueueByHash`, consumed with an
//!   orderly listener; per-key sequence must arrive strictly in order.
//! * `tags`: TagA/TagB/TagC/TagD messages; a `TagA || TagC` subscription must get only those.
//!   `--post-sub true` sets `post_subscription_when_pull` (the pull then carries the expression
//!   and sysFlag bit 4); by default the broker must filter with the heartbeat's subscription,
//!   whose `codeSet` this client 1.0.0 computes from the UNTRIMMED tags ("TagA ", " TagC").
//!
//! * `delay`, `retry`, `transaction`: delay levels, consumer retry + `%DLQ%`, transactional
//!   messages with check-back; see [`reliability`].
//!
//! Prints `PASS ...` and exits 0, or `FAIL: reason` and exits 1. Bounded by --timeout (≤ 60 s).
#![recursion_limit = "512"]

mod reliability;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rocketmq_client_rust::{
    ClientError, ClientResult, ClientRuntime, ClientRuntimeConfig, ConsumeConcurrentlyContext,
    ConsumeConcurrentlyStatus, ConsumeOrderlyContext, ConsumeOrderlyStatus, DefaultMQProducer,
    DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently, MessageListenerOrderly, MessageQueueSelector,
    SelectMessageQueueByHash, SendStatus,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};

fn fail(msg: impl AsRef<str>) -> ! {
    println!("FAIL: {}", msg.as_ref());
    std::process::exit(1);
}

struct Args {
    cmd: String,
    ns: String,
    topic: String,
    group: String,
    count: usize,
    deadline: Instant,
    run: String,
    post_sub: bool,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().unwrap_or_else(|| {
        eprintln!("usage: interop-rust-client <send-consume|orderly|tags|delay|retry|transaction> -n HOST:PORT [-c N] [-t TOPIC] [-g GROUP] [--timeout SEC]");
        std::process::exit(2)
    });
    let mut ns = std::env::var("NAMESRV_ADDR").unwrap_or_default();
    let (mut topic, mut group, mut count, mut timeout) = (String::new(), String::new(), 0usize, 60u64);
    let mut post_sub = false;
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| fail(format!("missing value for {k}")));
        match k.as_str() {
            "-n" => ns = v,
            "-t" => topic = v,
            "-g" => group = v,
            "-c" => count = v.parse().unwrap_or_else(|_| fail("bad -c")),
            "--timeout" => timeout = v.parse().unwrap_or_else(|_| fail("bad --timeout")),
            "--post-sub" => post_sub = v.parse().unwrap_or_else(|_| fail("bad --post-sub (true|false)")),
            _ => fail(format!("unknown argument {k}")),
        }
    }
    if ns.is_empty() {
        fail("-n HOST:PORT is required");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let run = format!("{:x}{:03}", now.as_millis() % (1 << 40), now.subsec_nanos() % 1000);
    let safe = cmd.replace('-', "_");
    if topic.is_empty() {
        topic = format!("it_rs_{safe}_{run}");
    }
    if group.is_empty() {
        group = format!("itg_rs_{safe}_{run}");
    }
    if count == 0 {
        count = match cmd.as_str() {
            "send-consume" => 1000,
            "orderly" => 400,
            "delay" => 21,
            "retry" => 10,
            "transaction" => 30,
            _ => 200,
        };
    }
    Args { cmd, ns, topic, group, count, deadline: Instant::now() + Duration::from_secs(timeout.clamp(1, 60)), run, post_sub }
}

/// Every delivered body, counted.
#[derive(Default)]
struct Seen {
    got: HashMap<String, usize>,
    error: Option<String>,
}

type Shared = Arc<Mutex<Seen>>;

fn body_of(m: &MessageExt) -> String {
    m.body().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

struct Concurrent {
    seen: Shared,
    topic: String,
    allowed_tags: Option<Vec<&'static str>>,
}

impl MessageListenerConcurrently for Concurrent {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _ctx: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for m in msgs {
            if m.topic().as_str() != self.topic {
                s.error.get_or_insert(format!("message of topic {} delivered to {}", m.topic(), self.topic));
            }
            if let Some(allowed) = &self.allowed_tags {
                let tag = m.get_tags().map(|t| t.to_string()).unwrap_or_default();
                if !allowed.contains(&tag.as_str()) {
                    s.error.get_or_insert(format!("subscription {:?} received tag {:?}", allowed, tag));
                }
            }
            *s.got.entry(body_of(m)).or_default() += 1;
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

struct Orderly {
    seen: Shared,
    last: Mutex<HashMap<String, i64>>,
}

impl MessageListenerOrderly for Orderly {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        ctx: &mut ConsumeOrderlyContext,
    ) -> ClientResult<ConsumeOrderlyStatus> {
        ctx.set_auto_commit(true);
        let mut s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        for m in msgs {
            let b = body_of(m);
            let parts: Vec<&str> = b.split('|').collect();
            if parts.len() == 3 {
                let key = parts[1].to_string();
                let seq: i64 = parts[2].parse().unwrap_or(-100);
                let prev = *last.get(&key).unwrap_or(&-1);
                if seq != prev + 1 {
                    s.error.get_or_insert(format!("key {key}: got seq {seq} after {prev} (order broken)"));
                }
                last.insert(key, seq);
            }
            *s.got.entry(b).or_default() += 1;
        }
        Ok(ConsumeOrderlyStatus::Success)
    }
}

fn verify(seen: &Shared, expected: &HashSet<String>, what: &str) {
    let s = seen.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = &s.error {
        fail(format!("{what}: {e}"));
    }
    let mut missing: Vec<&String> = expected.iter().filter(|b| !s.got.contains_key(*b)).collect();
    missing.sort();
    if !missing.is_empty() {
        fail(format!("{what}: {} of {} messages never delivered (e.g. {:?})", missing.len(), expected.len(), &missing[..missing.len().min(5)]));
    }
    let unexpected: Vec<&String> = s.got.keys().filter(|b| !expected.contains(*b)).collect();
    if !unexpected.is_empty() {
        fail(format!("{what}: {} unexpected bodies delivered (e.g. {:?})", unexpected.len(), &unexpected[..unexpected.len().min(5)]));
    }
    let dups: usize = s.got.values().map(|n| n - 1).sum();
    if dups > 0 {
        fail(format!("{what}: {dups} duplicate deliveries"));
    }
}

async fn wait_all(seen: &Shared, expected: &HashSet<String>, deadline: Instant, quiet: Duration) {
    loop {
        let done = {
            let s = seen.lock().unwrap_or_else(|e| e.into_inner());
            s.error.is_some() || expected.iter().all(|b| s.got.contains_key(b))
        };
        if done || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end = (Instant::now() + quiet).min(deadline);
    if end > Instant::now() {
        tokio::time::sleep(end - Instant::now()).await;
    }
}

async fn producer(rt: &Arc<ClientRuntime>, a: &Args) -> DefaultMQProducer {
    let mut p = DefaultMQProducer::builder(rt.clone())
        .producer_group(format!("itp_rs_{}", a.run))
        .name_server_addr(a.ns.clone())
        .send_msg_timeout(10_000)
        .build();
    if let Err(e) = p.start().await {
        fail(format!("producer start: {e}"));
    }
    p
}

async fn consumer(rt: &Arc<ClientRuntime>, a: &Args, expr: &str) -> DefaultMQPushConsumer {
    let mut c = DefaultMQPushConsumer::builder(rt.clone())
        .consumer_group(a.group.clone())
        .name_server_addr(a.ns.clone())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .post_subscription_when_pull(a.post_sub)
        .build();
    if let Err(e) = c.subscribe(a.topic.clone(), expr.to_string()).await {
        fail(format!("subscribe: {e}"));
    }
    c
}

fn check_send(i: usize, r: ClientResult<Option<rocketmq_client_rust::SendResult>>) -> rocketmq_client_rust::SendResult {
    match r {
        Ok(Some(r)) if r.send_status == SendStatus::SendOk && r.msg_id.is_some() => r,
        Ok(Some(r)) => fail(format!("send {i}: status {:?}", r.send_status)),
        Ok(None) => fail(format!("send {i}: no send result")),
        Err(e) => fail(format!("send {i}: {e}")),
    }
}

async fn send_consume(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let p = producer(rt, a).await;
    let mut expected = HashSet::new();
    for i in 0..a.count {
        let b = format!("{}-{i}", a.run);
        let m = Message::builder().topic(a.topic.as_str()).tags("TagR").keys(vec![format!("rk-{i}")]).body_slice(b.as_bytes()).build_unchecked();
        check_send(i, p.send_with_timeout(m, 10_000).await);
        expected.insert(b);
        if Instant::now() > a.deadline {
            fail(format!("timed out after {i} sends"));
        }
    }
    let mut p = p;
    p.shutdown().await;
    let seen: Shared = Arc::default();
    let mut c = consumer(rt, a, "*").await;
    c.register_message_listener_concurrently(Concurrent { seen: seen.clone(), topic: a.topic.clone(), allowed_tags: None });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    wait_all(&seen, &expected, a.deadline, Duration::from_millis(1000)).await;
    c.shutdown().await;
    verify(&seen, &expected, "push consume");
    format!("{} messages sent and push-consumed exactly once", expected.len())
}

async fn orderly(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let keys = 8usize;
    let per_key = (a.count / keys).max(1);
    let p = producer(rt, a).await;
    let mut expected = HashSet::new();
    let mut key_queue: HashMap<String, i32> = HashMap::new();
    let sel = SelectMessageQueueByHash;
    for s in 0..per_key {
        for k in 0..keys {
            let key = format!("order-{k}");
            let b = format!("{}|{key}|{s}", a.run);
            let m = Message::builder().topic(a.topic.as_str()).tags("TagO").keys(vec![key.clone()]).body_slice(b.as_bytes()).build_unchecked();
            let r = check_send(s * keys + k, p.send_with_selector(m, |mqs, msg, arg| sel.select(mqs, msg, arg), key.clone()).await);
            let q = r.message_queue.as_ref().map(|q| q.queue_id()).unwrap_or(-1);
            if let Some(prev) = key_queue.insert(key.clone(), q) {
                if prev != q {
                    fail(format!("hash selector moved key {key} from queue {prev} to {q}"));
                }
            }
            expected.insert(b);
        }
    }
    let mut p = p;
    p.shutdown().await;
    let seen: Shared = Arc::default();
    let mut c = consumer(rt, a, "*").await;
    c.register_message_listener_orderly(Orderly { seen: seen.clone(), last: Mutex::default() });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    wait_all(&seen, &expected, a.deadline, Duration::from_millis(1000)).await;
    c.shutdown().await;
    verify(&seen, &expected, "orderly consume");
    let queues: HashSet<i32> = key_queue.values().copied().collect();
    format!("{keys} keys x {per_key} messages in per-key order over {} queues", queues.len())
}

async fn tags(rt: &Arc<ClientRuntime>, a: &Args) -> String {
    let tags = ["TagA", "TagB", "TagC", "TagD"];
    let p = producer(rt, a).await;
    let mut expected = HashSet::new();
    for i in 0..a.count {
        let tag = tags[i % tags.len()];
        let b = format!("{}-{tag}-{i}", a.run);
        let m = Message::builder().topic(a.topic.as_str()).tags(tag).body_slice(b.as_bytes()).build_unchecked();
        check_send(i, p.send_with_timeout(m, 10_000).await);
        if tag == "TagA" || tag == "TagC" {
            expected.insert(b);
        }
    }
    let mut p = p;
    p.shutdown().await;
    let seen: Shared = Arc::default();
    let mut c = consumer(rt, a, "TagA || TagC").await;
    c.register_message_listener_concurrently(Concurrent { seen: seen.clone(), topic: a.topic.clone(), allowed_tags: Some(vec!["TagA", "TagC"]) });
    if let Err(e) = c.start().await {
        fail(format!("consumer start: {e}"));
    }
    wait_all(&seen, &expected, a.deadline, Duration::from_millis(3000)).await;
    c.shutdown().await;
    verify(&seen, &expected, "tag filter");
    format!("{} TagA/TagC of {} messages delivered, no others (post_subscription_when_pull={})", expected.len(), a.count, a.post_sub)
}

fn main() {
    let a = parse_args();
    let started = Instant::now();
    let limit = a.deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(10);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        fail(format!("watchdog: did not finish in {} s", limit.as_secs()));
    });
    // The client runs listeners on the runtime's bounded blocking lanes; the defaults on a 2-core
    // machine (queue depth 32) reject most of a 32-message pull per queue and push them to the
    // retry topic. Give the lanes room for a few full pulls.
    let mut rcfg = RuntimeConfig { thread_name: "interop-rust".to_string(), ..Default::default() };
    for lane in [&mut rcfg.blocking_lane_policies.storage_io, &mut rcfg.blocking_lane_policies.metadata_io, &mut rcfg.blocking_lane_policies.cpu_crypto] {
        lane.max_queue_depth = lane.max_queue_depth.max(4096);
    }
    let owner = RuntimeOwner::plan(rcfg)
        .unwrap_or_else(|e| fail(format!("runtime plan: {e:?}")))
        .build()
        .unwrap_or_else(|e| fail(format!("runtime: {e:?}")));
    let mut tcfg = rocketmq_observability::TelemetryBootstrapConfig::default();
    tcfg.logging.filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_string());
    let telemetry = rocketmq_observability::install_global(&tcfg)
        .unwrap_or_else(|e| fail(format!("telemetry: {e:?}")));
    let driver = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("tokio: {e}")));
    let detail = driver.block_on(async {
        let rt = ClientRuntime::try_new(owner.root_context().component("client"), ClientRuntimeConfig::default(), telemetry.handle())
            .unwrap_or_else(|e: ClientError| fail(format!("client runtime: {e}")));
        match a.cmd.as_str() {
            "send-consume" => send_consume(&rt, &a).await,
            "orderly" => orderly(&rt, &a).await,
            "tags" => tags(&rt, &a).await,
            "delay" => reliability::delay(&rt, &a).await,
            "retry" => reliability::retry(&rt, &a).await,
            "transaction" => reliability::transaction(&rt, &a).await,
            other => fail(format!("unknown subcommand {other}")),
        }
    });
    println!("PASS rust {} ({detail}; {} ms)", a.cmd, started.elapsed().as_millis());
    std::process::exit(0);
}
