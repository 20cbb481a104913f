//! Crash consistency on the simulated file system: tear or fail any operation, drop
//! undurable bytes, restart, and check that every acknowledged record is there exactly once,
//! in order, that consume queues match the log and (with the whole-record CRC, odd seeds) that
//! every record is found by its key.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use common::{message, open_sim, read_all, run, sim_config};
use storage::io::sim::SimFileSystem;
use storage::FlushMode;

const WRITERS: u32 = 4;
const QUEUES: u32 = 3;
const PER_WRITER: u32 = 60;

/// Seeds per case: `count`, or `STORAGE_CRASH_SEEDS` when set (for longer soak runs).
fn seeds(base: u64, count: u64) -> std::ops::Range<u64> {
    let count = std::env::var("STORAGE_CRASH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(count);
    base..base + count
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    Tear,
    Fail,
}

fn body(seed: u64, writer: u32, n: u32) -> Vec<u8> {
    let pad = ((seed as usize).wrapping_mul(31) + n as usize * 7 + writer as usize * 13) % 700;
    format!("s{seed}-w{writer}-n{n:05}-{}", "p".repeat(pad)).into_bytes()
}

/// (seed, writer) and sequence number of a body.
fn parse(body: &[u8]) -> ((u64, u32), u32) {
    let text = String::from_utf8_lossy(body);
    let mut parts = text.split('-');
    let seed = parts.next().unwrap()[1..].parse().unwrap();
    let writer = parts.next().unwrap()[1..].parse().unwrap();
    let n = parts.next().unwrap()[1..].parse().unwrap();
    ((seed, writer), n)
}

/// Appends from several writers until the fault stops them; returns acked (queue, body).
async fn load(store: Rc<storage::Store>, seed: u64) -> Vec<(u32, Vec<u8>)> {
    let acked = Rc::new(RefCell::new(Vec::new()));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        let acked = acked.clone();
        tasks.push(glommio::spawn_local(async move {
            for n in 0..PER_WRITER {
                let queue = (writer + n) % QUEUES;
                let payload = body(seed, writer, n);
                let props = format!("KEYS\u{1}k{writer}-{n}\u{2}");
                if n % 7 == 3 {
                    // A small batch now and then.
                    let batch = vec![message("C", queue, &payload, &props)];
                    match store.append_batch(batch).await {
                        Ok(_) => acked.borrow_mut().push((queue, payload)),
                        Err(_) => break,
                    }
                } else {
                    match store.append(message("C", queue, &payload, &props)).await {
                        Ok(_) => acked.borrow_mut().push((queue, payload)),
                        Err(_) => break,
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await;
    }
    Rc::try_unwrap(acked).unwrap().into_inner()
}

async fn verify(store: &storage::Store, acked: &[(u32, Vec<u8>)], check_acked: bool) {
    // Without the whole-record CRC a record torn outside its body (properties zeroed) can be
    // accepted: its body is intact, its keys are not.
    let check_keys = store.config().record_crc_enable;
    let mut present: HashMap<Vec<u8>, u32> = HashMap::new();
    for queue in 0..QUEUES {
        let records = read_all(store, "C", queue).await;
        // Consume queue offsets are dense from the min offset.
        for (i, (offset, _)) in records.iter().enumerate() {
            assert_eq!(*offset, i as u64, "queue {queue} has a gap");
        }
        // Per writer order is kept inside a queue.
        let mut last: HashMap<(u64, u32), u32> = HashMap::new();
        for (_, body) in &records {
            let (writer, n) = parse(body);
            if let Some(previous) = last.insert(writer, n) {
                assert!(n > previous, "order broken in queue {queue}");
            }
            *present.entry(body.clone()).or_default() += 1;
        }
        assert_eq!(store.max_offset("C", queue), records.len() as u64);
    }
    assert!(
        present.values().all(|count| *count == 1),
        "duplicate record"
    );
    // Every record is found by its key (the index recovered with the log).
    for body in present.keys().filter(|_| check_keys) {
        let ((_, writer), n) = parse(body);
        let found = store
            .query_by_key("C", &format!("k{writer}-{n}"), 8, 0, i64::MAX)
            .await
            .expect("query");
        assert!(
            found.iter().any(|record| {
                let (view, _) = protocol::message::record::RecordView::decode(record).unwrap();
                view.body == &body[..]
            }),
            "record missing from the index: key k{writer}-{n}"
        );
    }
    if check_acked {
        for (queue, body) in acked {
            assert_eq!(
                present.get(body),
                Some(&1),
                "acked record lost (queue {queue})"
            );
        }
    }
}

fn crash_case(seed: u64, flush: FlushMode, fault: Fault, power_loss: bool) {
    eprintln!("SEED {seed}");
    run(async move {
        let fs = SimFileSystem::new(seed);
        let mut config = sim_config(flush);
        config.record_crc_enable = seed % 2 == 1;
        let store = open_sim(config.clone(), &fs).await;
        // Pick the operation to break among the next few hundred.
        let target = fs.op_count() + 1 + (seed * 7919) % 260;
        match fault {
            Fault::Tear => fs.tear_op(target),
            Fault::Fail => fs.fail_op(target),
        }
        let acked = load(store.clone(), seed).await;
        drop(store);
        if power_loss {
            fs.crash();
        } else {
            fs.process_crash();
        }
        let store = open_sim(config.clone(), &fs).await;
        let check_acked = !power_loss || flush == FlushMode::Sync;
        verify(&store, &acked, check_acked).await;
        // The log keeps working, and a second restart sees the same thing.
        let more = load(store.clone(), seed + 1_000_000).await;
        assert_eq!(more.len(), (WRITERS * PER_WRITER) as usize);
        store.shutdown().await.unwrap();
        let store = open_sim(config, &fs).await;
        let mut all = acked.clone();
        all.extend(more);
        verify(&store, &all, check_acked).await;
        store.shutdown().await.unwrap();
    });
}

#[test]
fn sync_flush_torn_write_power_loss() {
    for seed in seeds(0, 40) {
        crash_case(seed, FlushMode::Sync, Fault::Tear, true);
    }
}

#[test]
fn sync_flush_failed_operation_power_loss() {
    for seed in seeds(100_000, 30) {
        crash_case(seed, FlushMode::Sync, Fault::Fail, true);
    }
}

#[test]
fn async_flush_torn_write_process_crash() {
    for seed in seeds(200_000, 40) {
        crash_case(seed, FlushMode::async_default(), Fault::Tear, false);
    }
}

#[test]
fn async_flush_power_loss_stays_consistent() {
    // Acked ASYNC records may be lost on power loss; what remains must be consistent.
    for seed in seeds(300_000, 20) {
        crash_case(seed, FlushMode::async_default(), Fault::Tear, true);
    }
}

#[test]
fn fsync_error_fails_waiters_and_refuses_writes() {
    run(async {
        let fs = SimFileSystem::new(9);
        let store = open_sim(sim_config(FlushMode::Sync), &fs).await;
        store.append(message("E", 0, b"ok", "")).await.unwrap();
        // Fail the next several operations: the write or the fsync of the next group.
        let next = fs.op_count() + 1;
        fs.fail_op(next);
        fs.fail_op(next + 1);
        let error = store.append(message("E", 0, b"bad", "")).await.unwrap_err();
        assert!(matches!(error, storage::AppendError::Io(_)), "{error}");
        let refused = store
            .append(message("E", 0, b"later", ""))
            .await
            .unwrap_err();
        assert!(matches!(refused, storage::AppendError::Io(_)));
        assert!(store.shutdown().await.is_err());
        drop(store);
        fs.crash();
        let store = open_sim(sim_config(FlushMode::Sync), &fs).await;
        let bodies: Vec<Vec<u8>> = read_all(&store, "E", 0)
            .await
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert_eq!(bodies[0], b"ok");
        assert!(!bodies.contains(&b"later".to_vec()));
        store.append(message("E", 0, b"again", "")).await.unwrap();
        store.shutdown().await.unwrap();
    });
}

#[test]
fn full_recovery_rebuilds_lost_consume_queues() {
    run(async {
        let fs = SimFileSystem::new(11);
        let config = sim_config(FlushMode::Sync);
        let store = open_sim(config.clone(), &fs).await;
        for n in 0..300u32 {
            store
                .append(message("R", n % 2, &body(11, 0, n), ""))
                .await
                .unwrap();
        }
        store.shutdown().await.unwrap();
        drop(store);
        let before = {
            let store = open_sim(config.clone(), &fs).await;
            let records = read_all(&store, "R", 1).await;
            store.shutdown().await.unwrap();
            records
        };
        // Lose every consume-queue file.
        for queue in ["0", "1"] {
            let dir = std::path::Path::new("/store/consumequeue/R").join(queue);
            for name in storage::io::FileSystem::list_dir(&fs, &dir).unwrap() {
                storage::io::FileSystem::remove(&fs, &dir.join(name))
                    .await
                    .unwrap();
            }
        }
        let mut full = config.clone();
        full.recovery = storage::RecoveryMode::Full;
        let store = open_sim(full, &fs).await;
        assert_eq!(read_all(&store, "R", 1).await, before);
        assert_eq!(
            store
                .append(message("R", 1, b"x", ""))
                .await
                .unwrap()
                .queue_offset,
            150
        );
        store.shutdown().await.unwrap();
    });
}

#[test]
fn slow_fsync_gives_flush_disk_timeout() {
    run(async {
        let fs = SimFileSystem::new(12);
        let mut config = sim_config(FlushMode::Sync);
        config.sync_flush_timeout_ms = 20;
        let store = open_sim(config, &fs).await;
        store.append(message("S", 0, b"fast", "")).await.unwrap();
        fs.set_sync_delay_ms(200);
        let error = store
            .append(message("S", 0, b"slow", ""))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            storage::AppendError::FlushDiskTimeout { timeout_ms: 20 }
        );
        fs.set_sync_delay_ms(0);
        glommio::timer::sleep(std::time::Duration::from_millis(250)).await;
        // The message becomes durable later, as with Java's FLUSH_DISK_TIMEOUT.
        store.append(message("S", 0, b"next", "")).await.unwrap();
        assert_eq!(read_all(&store, "S", 0).await.len(), 3);
        store.shutdown().await.unwrap();
    });
}
