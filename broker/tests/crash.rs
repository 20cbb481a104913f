//! Broker-level crash test: the real `broker` binary, `kill -9` under load, restart, verify.
//!
//! For each flush mode the test starts the `broker` binary as a child process (embedded name
//! server, loopback ports picked by the test, store under the target's temp dir, 1 MiB
//! commit-log segments), creates a topic with [`QUEUES`] queues and runs [`PRODUCERS`]
//! threads, each with its own connection sending SEND_MESSAGE_V2 synchronously. Every body
//! carries a unique id `(producer, seq)`. At seeded random points the broker is killed with
//! SIGKILL ([`KILLS`] times) and restarted on the same store; the producers reconnect and go
//! on with new ids (an id is never sent twice). A send that fails because of the kill is
//! *unknown*: it may or may not be stored.
//!
//! After the last restart every queue is pulled from offset 0 to its max offset and checked:
//! every acknowledged id present exactly once at the queue and offset its ack reported, no
//! id (acknowledged or unknown) present twice, each producer's ids in increasing order
//! within a queue, queue offsets dense (each record's `queueOffset` is its position) and
//! GET_MAX_OFFSET equal to the number of records. After each restart every queue's recovered
//! max offset must exceed the highest offset acknowledged before the kill (an early loss
//! check naming the kill).
//!
//! The broker listens on a loopback address of its own and every connection checks it
//! reached our broker (GET_BROKER_CONFIG names our store), so another test's broker taking
//! the port while ours is down cannot answer our producers. A failing run keeps its store
//! and `broker.log` and prints where.

#[allow(dead_code)]
#[path = "broker/common.rs"]
mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{ext_i64, records, Client};
use protocol::code::{request, response};
use protocol::header::pull::PullSysFlag;

const TOPIC: &str = "CrashTopic";
const QUEUES: u32 = 4;
const PRODUCERS: u32 = 4;
const KILLS: u32 = 10;
/// Load before each kill: a seeded random duration in this range. It straddles the store's
/// 1 s checkpoint interval, so some restarts recover from a checkpoint written under load
/// (consume queues flushed up to it) and others rescan from an older one.
const LOAD_MS_MIN: u64 = 150;
const LOAD_MS_MAX: u64 = 1_600;
/// Load on the last process before the producers stop and the queues are checked.
const LOAD_AFTER_LAST_RESTART: Duration = Duration::from_millis(300);
/// Connect and read timeout of a producer's send.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a (re)started broker to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a whole mode may take before the test fails instead of hanging.
const MODE_BUDGET: Duration = Duration::from_secs(100);
const _: () = assert!(LOAD_MS_MIN < LOAD_MS_MAX);

#[test]
fn kill9_under_load_sync_flush() {
    crash_rounds("SYNC_FLUSH", 0, 0x00C0_FFEE_0001);
}

#[test]
fn kill9_under_load_async_flush() {
    crash_rounds("ASYNC_FLUSH", 1, 0x00C0_FFEE_0002);
}

/// Unique, self-checking body of message `(producer, seq)`: the id, then a padding whose
/// length depends on the id so records of many sizes cross segment and page boundaries.
fn body(producer: u32, seq: u64) -> Vec<u8> {
    let padding = usize::try_from((seq * 131 + u64::from(producer) * 17) % 1_500).unwrap_or(0);
    let mut text = format!("p{producer} s{seq} ");
    text.extend(std::iter::repeat_n('x', padding));
    text.into_bytes()
}

/// The id in a body written by [`body`].
fn parse_id(body: &[u8]) -> Option<(u32, u64)> {
    let text = std::str::from_utf8(body).ok()?;
    let mut words = text.split(' ');
    let producer = words.next()?.strip_prefix('p')?.parse().ok()?;
    let seq = words.next()?.strip_prefix('s')?.parse().ok()?;
    Some((producer, seq))
}

fn queue_of(producer: u32, seq: u64) -> u32 {
    u32::try_from((u64::from(producer) + seq) % u64::from(QUEUES)).unwrap_or(0)
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A loopback address for this test process and mode alone (all of 127/8 is loopback on
/// Linux). Other brokers (in-process tests of a concurrent `cargo test`) bind port 0 on
/// 127.0.0.1 with SO_REUSEPORT: one of them taking our port while our broker is down would
/// share it after the restart and answer some of our connections (one run failed so while
/// other tests ran; starting a test broker on our port reproduces it). On its own address
/// our listener cannot be shared, and it wins the lookup over a wildcard listener on the
/// same port; [`connect_ours`] covers the time our broker is down.
fn private_loopback(mode: u8) -> Ipv4Addr {
    let [_, _, high, low] = std::process::id().to_be_bytes();
    Ipv4Addr::new(127, 100 + mode, high, low)
}

/// Two distinct free ports on `ip` (both held while the second is picked).
fn free_ports(ip: Ipv4Addr) -> (u16, u16) {
    let bind = || TcpListener::bind((ip, 0)).expect("binds port 0");
    let (first, second) = (bind(), bind());
    let port = |listener: &TcpListener| listener.local_addr().expect("local addr").port();
    (port(&first), port(&second))
}

/// The `broker` binary running as a child process; killed (SIGKILL) when dropped, so a
/// failing test never leaves it behind.
struct BrokerProcess {
    child: Child,
}

impl BrokerProcess {
    fn start(conf: &Path, log: &Path) -> BrokerProcess {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("broker log file");
        let child = Command::new(env!("CARGO_BIN_EXE_broker"))
            .arg("-c")
            .arg(conf)
            .env("RUST_LOG", "info")
            // No backtrace after `Error:`, so the log tail shows the cause.
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file.try_clone().expect("log handle")))
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawns the broker binary");
        BrokerProcess { child }
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaps the broker");
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One mode's broker: configuration, store, log, the running process.
struct Harness {
    flush: &'static str,
    addr: SocketAddr,
    conf: PathBuf,
    log: PathBuf,
    process: Option<BrokerProcess>,
    /// `storePathRootDir=...` as GET_BROKER_CONFIG reports it: unique to this harness.
    identity: String,
    dir: tempfile::TempDir,
}

impl Harness {
    fn new(flush: &'static str, mode: u8) -> Harness {
        // Not /tmp: tmpfs has no O_DIRECT.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let ip = private_loopback(mode);
        let (port, namesrv_port) = free_ports(ip);
        let conf = dir.path().join("broker.conf");
        let store = dir.path().join("store");
        // The ASYNC_FLUSH run also stores the whole-record CRC (`__CRC32#`), so recovery with
        // it is crash-tested too.
        let record_crc = flush == "ASYNC_FLUSH";
        let text = format!(
            "brokerClusterName=CrashCluster\nbrokerName=crash-a\nlistenIp={ip}\n\
             listenPort={port}\nembeddedNamesrvAddr={ip}:{namesrv_port}\n\
             storePathRootDir={}\nflushDiskType={flush}\nmappedFileSizeCommitLog=1048576\n\
             maxMessageSize=262144\nshards=2\npinShards=false\n\
             enabledAppendPropCRC={record_crc}\n",
            store.display()
        );
        std::fs::write(&conf, text).expect("writes broker.conf");
        let identity = format!("storePathRootDir={}", store.display());
        Harness {
            flush,
            addr: SocketAddr::from((ip, port)),
            log: dir.path().join("broker.log"),
            conf,
            process: None,
            identity,
            dir,
        }
    }

    fn log_len(&self) -> usize {
        std::fs::metadata(&self.log).map_or(0, |meta| usize::try_from(meta.len()).unwrap_or(0))
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Starts the broker and waits until `ready` answers through a fresh connection.
    ///
    /// A start that fails because a port is taken (another socket got it while the broker was
    /// down) is retried a few times; any other exit fails the test.
    fn start(&mut self, what: &str, mut ready: impl FnMut(&mut Client) -> bool) {
        let mut log_start = self.log_len();
        self.process = Some(BrokerProcess::start(&self.conf, &self.log));
        let deadline = Instant::now() + START_TIMEOUT;
        let mut port_retries = 3;
        loop {
            let timeout = Duration::from_secs(1);
            if let Some(mut client) = connect_ours(self.addr, &self.identity, timeout) {
                if ready(&mut client) {
                    return;
                }
            }
            let process = self.process.as_mut().expect("started");
            if process.exited() {
                let text = std::fs::read(&self.log).unwrap_or_default();
                let this_start = String::from_utf8_lossy(text.get(log_start..).unwrap_or(&[]));
                assert!(
                    port_retries > 0 && this_start.contains("Address already in use"),
                    "{}: the broker exited during {what}; log tail:\n{}",
                    self.flush,
                    self.log_tail()
                );
                port_retries -= 1;
                std::thread::sleep(Duration::from_millis(200));
                log_start = self.log_len();
                self.process = Some(BrokerProcess::start(&self.conf, &self.log));
            }
            assert!(
                Instant::now() < deadline,
                "{}: the broker did not answer within {START_TIMEOUT:?} of {what}; log tail:\n{}",
                self.flush,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        self.process.as_mut().expect("started").kill();
        self.process = None;
    }
}

/// A failed run keeps its store and broker log for inspection.
impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.process = None;
            self.dir.disable_cleanup(true);
            eprintln!(
                "{}: store and broker.log kept in {}",
                self.flush,
                self.dir.path().display()
            );
        }
    }
}

/// A connection to our broker, or `None` if the connect fails or another process answers:
/// while our broker is down, a wildcard (0.0.0.0) listener of another broker on the same
/// port takes connections to our address (see [`private_loopback`]).
fn connect_ours(addr: SocketAddr, identity: &str, timeout: Duration) -> Option<Client> {
    let mut client = Client::try_connect(addr, timeout).ok()?;
    let command = client.request(request::GET_BROKER_CONFIG, &[]);
    let answer = client.try_call(command).ok()?;
    let ours = answer.code == response::SUCCESS
        && String::from_utf8_lossy(&answer.body)
            .lines()
            .any(|line| line == identity);
    ours.then_some(client)
}

/// Creates the topic and waits until `config/topics.json` holds it, so a kill cannot lose
/// it (the broker persists topics on a 500 ms tick).
fn create_topic(harness: &Harness) {
    let mut client = Client::connect(harness.addr);
    let queues = QUEUES.to_string();
    let create = [
        ("topic", TOPIC),
        ("defaultTopic", "TBW102"),
        ("readQueueNums", queues.as_str()),
        ("writeQueueNums", queues.as_str()),
        ("perm", "6"),
        ("topicFilterType", "SINGLE_TAG"),
        ("order", "false"),
    ];
    let created = client.call_code(request::UPDATE_AND_CREATE_TOPIC, &create);
    assert_eq!(created.code, response::SUCCESS, "{created:?}");
    let topics = harness.dir.path().join("store/config/topics.json");
    let persisted = common::eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(&topics).is_ok_and(|text| text.contains(TOPIC))
    });
    assert!(persisted, "{}: topic not persisted", harness.flush);
}

/// GET_MAX_OFFSET of one queue; `None` if the broker did not answer.
fn max_offset(client: &mut Client, queue: u32) -> Option<i64> {
    let queue = queue.to_string();
    let command = client.request(
        request::GET_MAX_OFFSET,
        &[("topic", TOPIC), ("queueId", queue.as_str())],
    );
    let answer = client.try_call(command).ok()?;
    (answer.code == response::SUCCESS).then(|| ext_i64(&answer, "offset"))
}

/// An acknowledged send: where the broker said it stored `(producer, seq)`.
#[derive(Debug, Clone, Copy)]
struct Ack {
    seq: u64,
    queue_id: u32,
    queue_offset: i64,
}

/// What one producer saw.
#[derive(Debug, Default)]
struct ProducerLog {
    acked: Vec<Ack>,
    /// Sends without SEND_OK (failed by the kill, or refused): may or may not be stored.
    unknown: Vec<u64>,
    /// The unknown sends that got an error response rather than a broken connection.
    refused: u64,
}

/// State shared by the producers and the test thread.
struct Shared {
    addr: SocketAddr,
    identity: String,
    stop: AtomicBool,
    acked: AtomicI64,
    /// Per queue: the highest acknowledged queue offset (−1: none yet).
    highest_acked: Vec<AtomicI64>,
}

fn produce(producer: u32, shared: &Shared) -> ProducerLog {
    let mut log = ProducerLog::default();
    let mut client: Option<Client> = None;
    let mut seq = 0u64;
    while !shared.stop.load(Ordering::Acquire) {
        let connection = match client.as_mut() {
            Some(connection) => connection,
            None => match connect_ours(shared.addr, &shared.identity, SEND_TIMEOUT) {
                Some(connection) => client.insert(connection),
                None => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        let queue = queue_of(producer, seq);
        let queue_id = i32::try_from(queue).expect("queue id");
        let command = connection.send_request(TOPIC, queue_id, &body(producer, seq), "");
        match connection.try_call(command) {
            Ok(answer) if answer.code == response::SUCCESS => {
                let ack = Ack {
                    seq,
                    queue_id: u32::try_from(ext_i64(&answer, "queueId")).expect("queue id"),
                    queue_offset: ext_i64(&answer, "queueOffset"),
                };
                shared.highest_acked[queue as usize].fetch_max(ack.queue_offset, Ordering::AcqRel);
                shared.acked.fetch_add(1, Ordering::AcqRel);
                log.acked.push(ack);
            }
            Ok(_) => {
                log.unknown.push(seq);
                log.refused += 1;
            }
            Err(_) => {
                log.unknown.push(seq);
                client = None;
            }
        }
        seq += 1;
    }
    log
}

/// One flush mode: `mode` picks the mode's own loopback address, `seed` the kill points.
fn crash_rounds(flush: &'static str, mode: u8, seed: u64) {
    let started = Instant::now();
    let mut harness = Harness::new(flush, mode);
    harness.start("the first start", |client| {
        let command = client.request(request::GET_ALL_TOPIC_CONFIG, &[]);
        client.try_call(command).is_ok()
    });
    create_topic(&harness);
    let shared = Arc::new(Shared {
        addr: harness.addr,
        identity: harness.identity.clone(),
        stop: AtomicBool::new(false),
        acked: AtomicI64::new(0),
        highest_acked: (0..QUEUES).map(|_| AtomicI64::new(-1)).collect(),
    });
    let producers: Vec<JoinHandle<ProducerLog>> = (0..PRODUCERS)
        .map(|producer| {
            let shared = shared.clone();
            std::thread::spawn(move || produce(producer, &shared))
        })
        .collect();
    // Stops the producers even if an assertion below fails.
    let stop_guard = StopOnDrop(shared.clone());
    let mut rng = seed;
    let mut acked_before = 0;
    for kill in 1..=KILLS {
        let load_ms = LOAD_MS_MIN + xorshift(&mut rng) % (LOAD_MS_MAX - LOAD_MS_MIN);
        std::thread::sleep(Duration::from_millis(load_ms));
        harness.kill();
        let acked_now = shared.acked.load(Ordering::Acquire);
        assert!(
            acked_now > acked_before,
            "{flush}: no send acknowledged in round {kill}; log tail:\n{}",
            harness.log_tail()
        );
        acked_before = acked_now;
        restart_and_check_offsets(&mut harness, &shared, kill);
        assert!(
            started.elapsed() < MODE_BUDGET,
            "{flush}: over the {MODE_BUDGET:?} budget after {kill} kills"
        );
    }
    std::thread::sleep(LOAD_AFTER_LAST_RESTART);
    drop(stop_guard);
    let logs = join_producers(producers, flush);
    let found = pull_all(harness.addr);
    let summary = verify(flush, &logs, &found);
    println!(
        "crash {flush}: kills={KILLS} acked={} unknown={} (refused={}) recovered={} \
         (unknown stored={}) duration={:.1}s",
        summary.acked,
        summary.unknown,
        summary.refused,
        summary.recovered,
        summary.recovered - summary.acked,
        started.elapsed().as_secs_f64()
    );
}

struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Release);
    }
}

/// Restarts on the same store and waits until every queue answers GET_MAX_OFFSET with at
/// least every offset acknowledged so far (an early, precise loss check).
fn restart_and_check_offsets(harness: &mut Harness, shared: &Shared, kill: u32) {
    // Read before the restart's answers: every ack counted here was given by a process that
    // is gone, so the recovered log must hold it.
    let highest: Vec<i64> = shared
        .highest_acked
        .iter()
        .map(|offset| offset.load(Ordering::Acquire))
        .collect();
    let mut recovered = vec![0i64; QUEUES as usize];
    harness.start(&format!("restart {kill}"), |client| {
        for queue in 0..QUEUES {
            match max_offset(client, queue) {
                Some(offset) => recovered[queue as usize] = offset,
                None => return false,
            }
        }
        true
    });
    for queue in 0..QUEUES as usize {
        assert!(
            recovered[queue] > highest[queue],
            "{}: after kill {kill}, queue {queue} recovered max offset {} but offset {} was \
             acknowledged",
            harness.flush,
            recovered[queue],
            highest[queue]
        );
    }
}

fn join_producers(producers: Vec<JoinHandle<ProducerLog>>, flush: &str) -> Vec<ProducerLog> {
    let deadline = Instant::now() + SEND_TIMEOUT * 3;
    while !producers.iter().all(JoinHandle::is_finished) {
        assert!(Instant::now() < deadline, "{flush}: producers did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    producers
        .into_iter()
        .map(|producer| producer.join().expect("producer thread"))
        .collect()
}

/// A stored message found by the pulls.
struct Found {
    queue_id: u32,
    queue_offset: i64,
    body: Vec<u8>,
}

/// Pulls every queue from 0 to its max offset, checking that offsets are dense and that
/// GET_MAX_OFFSET equals the number of records.
fn pull_all(addr: SocketAddr) -> Vec<Found> {
    let mut client = Client::connect(addr);
    let mut found = Vec::new();
    for queue in 0..QUEUES {
        let max = max_offset(&mut client, queue).expect("GET_MAX_OFFSET answers");
        let queue_id = i32::try_from(queue).expect("queue id");
        let mut offset = 0i64;
        while offset < max {
            let flag = PullSysFlag::SUBSCRIPTION;
            let pulled = client.pull("crash_check", TOPIC, queue_id, offset, flag, 0, Some("*"));
            assert_eq!(
                pulled.code,
                response::SUCCESS,
                "queue {queue}: pull at {offset} of {max} failed: {pulled:?}"
            );
            let batch = records(&pulled.body);
            assert!(!batch.is_empty(), "queue {queue}: empty pull at {offset}");
            for record in batch {
                assert_eq!(record.topic, TOPIC);
                assert_eq!(record.queue_id, queue_id, "record in the wrong queue");
                assert_eq!(
                    record.queue_offset, offset,
                    "queue {queue}: the record at position {offset} says queueOffset {}",
                    record.queue_offset
                );
                found.push(Found {
                    queue_id: queue,
                    queue_offset: offset,
                    body: record.body,
                });
                offset += 1;
            }
            assert_eq!(ext_i64(&pulled, "nextBeginOffset"), offset, "queue {queue}");
        }
        assert_eq!(offset, max, "queue {queue}: records past GET_MAX_OFFSET");
    }
    found
}

struct Summary {
    acked: usize,
    unknown: usize,
    refused: u64,
    recovered: usize,
}

/// Checks the found messages against what the producers were told; fails listing the
/// first violations.
fn verify(flush: &str, logs: &[ProducerLog], found: &[Found]) -> Summary {
    let mut problems = String::new();
    let stored = index_found(flush, found, &mut problems);
    check_sent(logs, &stored, &mut problems);
    let shown: String = problems.lines().take(20).collect::<Vec<_>>().join("\n");
    assert!(
        problems.is_empty(),
        "{flush}: {} durability violations, first ones:\n{shown}",
        problems.lines().count()
    );
    let acked = logs.iter().map(|log| log.acked.len()).sum();
    assert!(acked > 0, "{flush}: nothing acknowledged");
    Summary {
        acked,
        unknown: logs.iter().map(|log| log.unknown.len()).sum(),
        refused: logs.iter().map(|log| log.refused).sum(),
        recovered: stored.len(),
    }
}

/// Where each id was found: `(producer, seq) -> (queue, offset)`. Notes ids stored twice,
/// in the wrong queue, or out of their producer's order within a queue.
fn index_found(
    flush: &str,
    found: &[Found],
    problems: &mut String,
) -> HashMap<(u32, u64), (u32, i64)> {
    let mut stored = HashMap::new();
    let mut last_seq: HashMap<(u32, u32), u64> = HashMap::new();
    for message in found {
        let here = (message.queue_id, message.queue_offset);
        let Some((producer, seq)) = parse_id(&message.body) else {
            panic!("{flush}: foreign body at {here:?}");
        };
        assert!(
            message.body == body(producer, seq),
            "{flush}: body of p{producer} s{seq} at {here:?} damaged"
        );
        if message.queue_id != queue_of(producer, seq) {
            let _ = writeln!(problems, "p{producer} s{seq} in the wrong queue {here:?}");
        }
        if let Some(first) = stored.insert((producer, seq), here) {
            let _ = writeln!(
                problems,
                "p{producer} s{seq} duplicated: {first:?} and {here:?}"
            );
        }
        if let Some(previous) = last_seq.insert((producer, message.queue_id), seq) {
            if seq <= previous {
                let _ = writeln!(problems, "p{producer} s{seq} after s{previous} at {here:?}");
            }
        }
    }
    stored
}

/// Notes acknowledged ids missing or stored elsewhere than their ack said, and stored ids
/// that were never sent.
fn check_sent(
    logs: &[ProducerLog],
    stored: &HashMap<(u32, u64), (u32, i64)>,
    problems: &mut String,
) {
    let mut sent = HashSet::new();
    for (producer, log) in (0u32..).zip(logs) {
        for ack in &log.acked {
            sent.insert((producer, ack.seq));
            let acked_at = (ack.queue_id, ack.queue_offset);
            match stored.get(&(producer, ack.seq)) {
                Some(at) if *at == acked_at => {}
                Some(at) => {
                    let seq = ack.seq;
                    let _ = writeln!(
                        problems,
                        "p{producer} s{seq} acked at {acked_at:?}, at {at:?}"
                    );
                }
                None => {
                    let seq = ack.seq;
                    let _ = writeln!(problems, "p{producer} s{seq} acked at {acked_at:?}, lost");
                }
            }
        }
        sent.extend(log.unknown.iter().map(|seq| (producer, *seq)));
    }
    for ((producer, seq), at) in stored {
        if !sent.contains(&(*producer, *seq)) {
            let _ = writeln!(problems, "p{producer} s{seq} at {at:?} but never sent");
        }
    }
}
