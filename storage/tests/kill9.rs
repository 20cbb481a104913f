//! Recovery after `kill -9` of a real process appending to real files (glommio `DmaFile`).
//!
//! The test re-executes its own binary as the child (`STORAGE_KILL9_CHILD` set, running only
//! `kill9_child_entry`): the child opens the store on a directory, appends from several
//! writers and prints `ACK <run> <writer> <n> <queue>` after each acknowledged append. The
//! parent kills it with SIGKILL at seeded random points (10 times per flush mode), restarts
//! on the same directory, and finally checks that every acknowledged record is present
//! exactly once, in per-writer order, with dense consume queues.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{message, read_all, run};
use storage::{FlushMode, Store, StoreConfig};

const CHILD_ENV: &str = "STORAGE_KILL9_CHILD";
const WRITERS: u32 = 8;
const QUEUES: u32 = 4;
const KILLS_PER_MODE: u64 = 10;

fn config(dir: &Path, flush: FlushMode) -> StoreConfig {
    let mut config = StoreConfig::test_min(dir.to_path_buf());
    config.flush = flush;
    config.segment_size_bytes = 1 << 20;
    config.message_bytes_max = 16 * 1024;
    config
}

fn flush_from(name: &str) -> FlushMode {
    if name == "sync" {
        FlushMode::Sync
    } else {
        FlushMode::Async {
            interval_ms: 200,
            least_pages: 4,
        }
    }
}

/// The child: runs only when re-executed by the parent.
#[test]
fn kill9_child_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split(',');
    let dir = PathBuf::from(parts.next().unwrap());
    let flush = flush_from(parts.next().unwrap());
    let run_id: u64 = parts.next().unwrap().parse().unwrap();
    run(async move {
        let store = Store::open(config(&dir, flush)).await.expect("open");
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let store = store.clone();
            tasks.push(glommio::spawn_local(async move {
                let mut out = std::io::stdout();
                for n in 0u32.. {
                    let queue = (writer + n) % QUEUES;
                    let pad = "k".repeat(((run_id as usize * 7 + n as usize * 13) % 900) + 10);
                    let body = format!("r{run_id}-w{writer}-n{n}-{pad}");
                    if store
                        .append(message("K9", queue, body.as_bytes(), ""))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    let _ = writeln!(out, "ACK {run_id} {writer} {n} {queue}");
                }
            }));
        }
        for task in tasks {
            task.await;
        }
    });
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn kill9_rounds(flush_name: &str, seed: u64) {
    // Not /tmp: tmpfs has no O_DIRECT.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    let mut rng = seed;
    // (run, writer) -> acked (n, queue) in order.
    let mut acked: HashMap<(u64, u32), Vec<(u32, u32)>> = HashMap::new();
    for round in 0..KILLS_PER_MODE {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill9_child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                CHILD_ENV,
                format!("{},{flush_name},{round}", dir.path().display()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("child.err")).expect("stderr file"),
            ))
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ACK ") {
                    let fields: Vec<u64> = rest.split(' ').filter_map(|f| f.parse().ok()).collect();
                    if fields.len() == 4 {
                        lines.push(fields);
                    }
                }
            }
            lines
        });
        // Kill at a seeded random point (after startup, during load).
        let wait_ms = 250 + xorshift(&mut rng) % 450;
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let lines = reader.join().expect("reader");
        if lines.is_empty() {
            let err = std::fs::read_to_string(dir.path().join("child.err")).unwrap_or_default();
            panic!("round {round}: the child acknowledged nothing; stderr:\n{err}");
        }
        for fields in lines {
            let (run_id, writer, n, queue) = (
                fields[0],
                fields[1] as u32,
                fields[2] as u32,
                fields[3] as u32,
            );
            acked.entry((run_id, writer)).or_default().push((n, queue));
        }
    }
    // Verify in-process on the same directory.
    let dir_path = dir.path().to_path_buf();
    let flush = flush_from(flush_name);
    run(async move {
        let store = Store::open(config(&dir_path, flush)).await.expect("reopen");
        let mut present: HashMap<(u64, u32, u32), u32> = HashMap::new();
        for queue in 0..QUEUES {
            let records = read_all(&store, "K9", queue).await;
            let mut last: HashMap<(u64, u32), u32> = HashMap::new();
            for (i, (offset, body)) in records.iter().enumerate() {
                assert_eq!(*offset, i as u64, "queue {queue}: consume queue not dense");
                let text = String::from_utf8_lossy(body);
                let mut parts = text.split('-');
                let run_id: u64 = parts.next().unwrap()[1..].parse().unwrap();
                let writer: u32 = parts.next().unwrap()[1..].parse().unwrap();
                let n: u32 = parts.next().unwrap()[1..].parse().unwrap();
                if let Some(previous) = last.insert((run_id, writer), n) {
                    assert!(n > previous, "queue {queue}: order broken");
                }
                *present.entry((run_id, writer, n)).or_default() += 1;
            }
        }
        assert!(present.values().all(|c| *c == 1), "duplicated record");
        let mut total = 0;
        for ((run_id, writer), list) in &acked {
            for (n, _) in list {
                total += 1;
                assert_eq!(
                    present.get(&(*run_id, *writer, *n)),
                    Some(&1),
                    "{flush_name}: acknowledged record r{run_id} w{writer} n{n} lost"
                );
            }
        }
        assert!(total > 0);
        eprintln!("{flush_name}: {total} acknowledged records survived {KILLS_PER_MODE} kills");
        store.shutdown().await.expect("shutdown");
    });
}

#[test]
fn kill9_sync_flush() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    kill9_rounds("sync", 0x5EED_0001);
}

#[test]
fn kill9_async_flush() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    kill9_rounds("async", 0x5EED_0002);
}
