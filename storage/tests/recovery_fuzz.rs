//! Recovery fuzz: append random records, crash, damage the commit-log tail in a random way
//! (flip bytes in the last records, truncate a segment at a random byte, write garbage past
//! the end, zero a range), reopen, and check that recovery serves exactly the records before
//! the first damaged one, byte for byte and in order, that consume queues agree, and that the
//! log takes and serves new appends.
//!
//! The store runs with the whole-record CRC (`record_crc_enable`): with BODYCRC alone a byte
//! changed outside a body is not detectable (see `storage::record_crc`). No checkpoint covers
//! the records (the periodic checkpoint is off), so recovery scans all of them. Cases are
//! generated from a fixed seed, so a run is repeatable.

mod common;

use std::path::PathBuf;

use common::{message, open_sim, run, sim_config};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use storage::io::sim::SimFileSystem;
use storage::io::FileSystem;
use storage::{AcceptAll, FlushMode, ReadStatus, Store, StoreConfig};

const SEGMENT_BYTES: u64 = 64 * 1024;
const QUEUES: u32 = 3;
const TOPIC: &str = "F";
const LOCAL_MASK: u64 = (1 << 48) - 1;

#[derive(Debug, Clone)]
enum Damage {
    /// XOR masks at positions among the last `last` records (fractions of that span).
    Flip { last: usize, picks: Vec<(u64, u8)> },
    /// Truncates the segment holding a position among the last `last` records.
    Truncate { last: usize, at: u64 },
    /// Random bytes `gap` bytes past the end of the log.
    Garbage { gap: u64, bytes: Vec<u8> },
    /// Zeroes `len` bytes from a position among the last `last` records.
    Zero { last: usize, at: u64, len: u64 },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (
            1usize..8,
            prop::collection::vec((any::<u64>(), 1u8..=255), 1..5)
        )
            .prop_map(|(last, picks)| Damage::Flip { last, picks }),
        (1usize..8, any::<u64>()).prop_map(|(last, at)| Damage::Truncate { last, at }),
        (0u64..200, prop::collection::vec(any::<u8>(), 1..2000))
            .prop_map(|(gap, bytes)| Damage::Garbage { gap, bytes }),
        (1usize..8, any::<u64>(), 1u64..3000).prop_map(|(last, at, len)| Damage::Zero {
            last,
            at,
            len
        }),
    ]
}

/// One appended record: where it is and what it is.
struct Stored {
    local: u64,
    bytes: Vec<u8>,
    queue_id: u32,
    queue_offset: u64,
    key: String,
}

impl Stored {
    fn end(&self) -> u64 {
        self.local + self.bytes.len() as u64
    }
}

fn config() -> StoreConfig {
    let mut config = sim_config(FlushMode::Sync);
    config.segment_size_bytes = SEGMENT_BYTES;
    config.record_crc_enable = true;
    config.checkpoint_interval_ms = 3_600_000;
    config
}

fn segment_path(local: u64) -> PathBuf {
    let base = local / SEGMENT_BYTES * SEGMENT_BYTES;
    PathBuf::from(format!("/store/commitlog/{base:020}"))
}

async fn append_all(store: &Store, bodies: &[(Vec<u8>, u32)]) -> Vec<Stored> {
    let mut stored = Vec::new();
    for (n, (body, queue_id)) in bodies.iter().enumerate() {
        let key = format!("key-{n}");
        let props = format!("KEYS\u{1}{key}\u{2}TAGS\u{1}T{}\u{2}", n % 3);
        let result = store
            .append(message(TOPIC, *queue_id, body, &props))
            .await
            .expect("append");
        let bytes = store
            .read_at(result.physical_offset)
            .await
            .expect("read")
            .expect("record");
        stored.push(Stored {
            local: result.physical_offset & (LOCAL_MASK),
            bytes: bytes.to_vec(),
            queue_id: *queue_id,
            queue_offset: result.queue_offset,
            key,
        });
    }
    stored
}

/// Applies `damage` to the simulated files; returns the first record it damaged (index into
/// `stored`, `stored.len()` if none), judged by comparing file images before and after.
async fn apply(fs: &SimFileSystem, stored: &[Stored], log_end: u64, damage: &Damage) -> usize {
    let segments: Vec<u64> = (0..=log_end / SEGMENT_BYTES)
        .map(|n| n * SEGMENT_BYTES)
        .collect();
    let image = |base: u64| fs.live_bytes(&segment_path(base)).unwrap_or_default();
    let before: Vec<Vec<u8>> = segments.iter().map(|base| image(*base)).collect();
    let span_from = |last: usize| stored[stored.len() - last.min(stored.len())].local;
    let position = |last: usize, fraction: u64| {
        let from = span_from(last);
        from + fraction % (log_end - from).max(1)
    };
    match damage {
        Damage::Flip { last, picks } => {
            for (fraction, mask) in picks {
                let at = position(*last, *fraction);
                let path = segment_path(at);
                let in_file = usize::try_from(at % SEGMENT_BYTES).unwrap();
                let old = fs.live_bytes(&path).unwrap()[in_file];
                fs.corrupt(&path, in_file, &[old ^ mask]);
            }
        }
        Damage::Truncate { last, at } => {
            let at = position(*last, *at);
            let file = fs.open(&segment_path(at), false).await.unwrap();
            file.truncate(at % SEGMENT_BYTES).await.unwrap();
        }
        Damage::Garbage { gap, bytes } => {
            let at = log_end + gap;
            let room = SEGMENT_BYTES - at % SEGMENT_BYTES;
            // Inside the last segment only.
            if at / SEGMENT_BYTES == log_end / SEGMENT_BYTES {
                let len = bytes.len().min(usize::try_from(room).unwrap());
                let in_file = usize::try_from(at % SEGMENT_BYTES).unwrap();
                fs.corrupt(&segment_path(at), in_file, &bytes[..len]);
            }
        }
        Damage::Zero { last, at, len } => {
            let at = position(*last, *at);
            let room = SEGMENT_BYTES - at % SEGMENT_BYTES;
            let zeros = vec![0u8; usize::try_from((*len).min(room)).unwrap()];
            let in_file = usize::try_from(at % SEGMENT_BYTES).unwrap();
            fs.corrupt(&segment_path(at), in_file, &zeros);
        }
    }
    let after: Vec<Vec<u8>> = segments.iter().map(|base| image(*base)).collect();
    let changed = |from: u64, to: u64| {
        let n = usize::try_from(from / SEGMENT_BYTES).unwrap();
        let range = usize::try_from(from % SEGMENT_BYTES).unwrap()
            ..usize::try_from((to - 1) % SEGMENT_BYTES + 1).unwrap();
        after[n].get(range.clone()) != before[n].get(range)
    };
    for (n, record) in stored.iter().enumerate() {
        if changed(record.local, record.end()) {
            return n;
        }
        // The blank marker closing a segment: damaging it loses every later segment.
        let next = stored.get(n + 1);
        if next.is_some_and(|next| next.local / SEGMENT_BYTES != record.local / SEGMENT_BYTES)
            && changed(record.end(), record.end() + 8)
        {
            return n + 1;
        }
    }
    stored.len()
}

/// Raw records of a queue from offset 0, with the status that ended the read.
async fn read_queue(store: &Store, queue_id: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let result = store
            .read(TOPIC, queue_id, offset, 16, 1 << 20, &AcceptAll)
            .await
            .expect("read");
        if result.status != ReadStatus::Found {
            return out;
        }
        out.extend(result.records.iter().map(|r| r.to_vec()));
        offset = result.next_begin_offset;
    }
}

/// Checks that exactly `served` is served (in order per queue, byte for byte, by key) and
/// nothing of `unserved`. `reused_from`: records appended after recovery start there, so
/// offsets of unserved records past it may be readable again.
async fn assert_serves(store: &Store, served: &[&Stored], unserved: &[&Stored], reused_from: u64) {
    for queue_id in 0..QUEUES {
        let expected: Vec<&[u8]> = served
            .iter()
            .filter(|r| r.queue_id == queue_id)
            .map(|r| r.bytes.as_slice())
            .collect();
        let records = read_queue(store, queue_id).await;
        assert_eq!(records.len(), expected.len(), "queue {queue_id} length");
        for (n, (got, want)) in records.iter().zip(&expected).enumerate() {
            assert!(got == want, "queue {queue_id} record {n} differs");
        }
        assert_eq!(store.max_offset(TOPIC, queue_id), expected.len() as u64);
        let offsets: Vec<u64> = served
            .iter()
            .filter(|r| r.queue_id == queue_id)
            .map(|r| r.queue_offset)
            .collect();
        assert!(offsets.iter().enumerate().all(|(n, o)| *o == n as u64));
    }
    for (n, record) in served.iter().enumerate() {
        let got = store.read_at(record.local).await.expect("read_at");
        assert_eq!(got.as_deref(), Some(record.bytes.as_slice()), "record {n}");
        let found = store
            .query_by_key(TOPIC, &record.key, 4, 0, i64::MAX)
            .await
            .expect("query");
        assert_eq!(found.len(), 1, "key of record {n}");
    }
    for (n, record) in unserved.iter().enumerate() {
        if record.local < reused_from {
            let got = store.read_at(record.local).await.expect("read_at");
            assert_eq!(got, None, "damaged record {n} is served");
        }
        let found = store
            .query_by_key(TOPIC, &record.key, 4, 0, i64::MAX)
            .await
            .expect("query");
        assert!(found.is_empty(), "key of damaged record {n} is found");
    }
}

fn fuzz_case(seed: u64, bodies: &[(Vec<u8>, u32)], damage: &Damage) {
    run(async {
        let fs = SimFileSystem::new(seed);
        let store = open_sim(config(), &fs).await;
        let stored = append_all(&store, bodies).await;
        let log_end = store.stats().write_offset & LOCAL_MASK;
        drop(store);
        fs.process_crash();
        let first_damaged = apply(&fs, &stored, log_end, damage).await;
        let (kept, lost) = stored.split_at(first_damaged);
        let mut served: Vec<&Stored> = kept.iter().collect();
        let unserved: Vec<&Stored> = lost.iter().collect();

        let store = open_sim(config(), &fs).await;
        assert_serves(&store, &served, &unserved, u64::MAX).await;
        // The log keeps working after the cut.
        let served_q0 = served.iter().filter(|r| r.queue_id == 0).count() as u64;
        let next = store
            .append(message(TOPIC, 0, b"after recovery", "KEYS\u{1}after\u{2}"))
            .await
            .expect("append after recovery");
        assert_eq!(next.queue_offset, served_q0);
        let bytes = store.read_at(next.physical_offset).await.unwrap().unwrap();
        let after = Stored {
            local: next.physical_offset & LOCAL_MASK,
            bytes: bytes.to_vec(),
            queue_id: 0,
            queue_offset: next.queue_offset,
            key: "after".to_owned(),
        };
        store.shutdown().await.expect("shutdown");
        drop(store);
        // A clean restart serves the same plus the new record.
        served.push(&after);
        let store = open_sim(config(), &fs).await;
        assert_serves(&store, &served, &unserved, after.local).await;
        store.shutdown().await.expect("shutdown");
    });
}

fn records() -> impl Strategy<Value = Vec<(Vec<u8>, u32)>> {
    prop::collection::vec(
        (prop::collection::vec(any::<u8>(), 0..3000), 0..QUEUES),
        1..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x5EED_F022),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn recovery_serves_exactly_the_undamaged_prefix(
        seed in any::<u64>(),
        bodies in records(),
        damage in damage(),
    ) {
        fuzz_case(seed, &bodies, &damage);
    }
}
