//! The index is rebuilt from the commit log when its files are lost, truncated or behind the
//! checkpoint, and is not rescanned when it is intact (keyless tails and a disabled index
//! included).

mod common;

use std::path::{Path, PathBuf};

use common::{message, open_sim, read_all, run, sim_config};
use protocol::message::record::RecordView;
use storage::io::sim::SimFileSystem;
use storage::io::FileSystem;
use storage::{FlushMode, Store, StoreConfig};

const MESSAGES: u32 = 60;
const ORDER_KEYS: u32 = 4;
const INDEX_DIR: &str = "/store/index";

fn config() -> StoreConfig {
    let mut config = sim_config(FlushMode::Sync);
    // Several sealed files and an active one.
    config.index_entries_per_file = 16;
    config
}

/// Two keys (`order-{n % 4}`, `all`) and a unique key `U{n}` per message, over two queues.
async fn write_keyed(store: &Store, from: u32, to: u32) {
    for n in from..to {
        let props = format!(
            "KEYS\u{1}order-{} all\u{2}UNIQ_KEY\u{1}U{n:04}\u{2}",
            n % ORDER_KEYS
        );
        let body = format!("{n:04}-{}", "k".repeat(300));
        store
            .append(message("K", n % 2, body.as_bytes(), &props))
            .await
            .expect("append");
    }
}

fn number_of(record: &[u8]) -> u32 {
    let (view, _) = RecordView::decode(record).expect("decode");
    std::str::from_utf8(&view.body[..4])
        .unwrap()
        .parse()
        .unwrap()
}

/// Every message in `0..count` is found by its unique key and by its order key.
async fn assert_all_found(store: &Store, count: u32) {
    for n in 0..count {
        let found = store
            .query_by_key("K", &format!("U{n:04}"), 8, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "unique key U{n:04}");
        assert_eq!(number_of(&found[0]), n);
    }
    for key in 0..ORDER_KEYS {
        let found = store
            .query_by_key("K", &format!("order-{key}"), 64, 0, i64::MAX)
            .await
            .unwrap();
        let mut numbers: Vec<u32> = found.iter().map(|r| number_of(r)).collect();
        numbers.sort_unstable();
        let expected: Vec<u32> = (0..count).filter(|n| n % ORDER_KEYS == key).collect();
        assert_eq!(numbers, expected, "order-{key}");
    }
}

async fn queues(store: &Store) -> [Vec<(u64, Vec<u8>)>; 2] {
    [read_all(store, "K", 0).await, read_all(store, "K", 1).await]
}

async fn index_files(fs: &SimFileSystem) -> Vec<PathBuf> {
    let dir = Path::new(INDEX_DIR);
    fs.list_dir(dir)
        .unwrap()
        .into_iter()
        .map(|name| dir.join(name))
        .collect()
}

/// Writes, restarts cleanly (no rescan), damages the index with `damage`, reopens and checks
/// that every key is found, the consume queues are unchanged and a new append is indexed.
async fn rebuild_case(seed: u64, damage: impl AsyncFnOnce(&SimFileSystem)) {
    let fs = SimFileSystem::new(seed);
    let store = open_sim(config(), &fs).await;
    write_keyed(&store, 0, MESSAGES).await;
    store.shutdown().await.unwrap();
    let store = open_sim(config(), &fs).await;
    assert_eq!(
        store.stats().recovered_records,
        0,
        "intact index: no rescan"
    );
    assert_all_found(&store, MESSAGES).await;
    let before = queues(&store).await;
    assert_eq!(before[0].len() + before[1].len(), MESSAGES as usize);
    store.shutdown().await.unwrap();

    damage(&fs).await;

    let store = open_sim(config(), &fs).await;
    assert!(store.stats().recovered_records > 0, "index rebuilt");
    assert_all_found(&store, MESSAGES).await;
    assert_eq!(queues(&store).await, before);
    assert_eq!(store.max_offset("K", 0), MESSAGES as u64 / 2);
    assert_eq!(store.max_offset("K", 1), MESSAGES as u64 / 2);
    write_keyed(&store, MESSAGES, MESSAGES + 10).await;
    store.shutdown().await.unwrap();
    // The rebuilt index was persisted: the next open does not rescan.
    let store = open_sim(config(), &fs).await;
    assert_eq!(store.stats().recovered_records, 0);
    assert_all_found(&store, MESSAGES + 10).await;
    store.shutdown().await.unwrap();
}

#[test]
fn index_rebuilt_after_directory_deleted() {
    run(rebuild_case(21, async |fs: &SimFileSystem| {
        let files = index_files(fs).await;
        assert!(
            files.len() >= 3,
            "sealed files and an active one: {files:?}"
        );
        for path in files {
            fs.remove(&path).await.unwrap();
        }
    }));
}

#[test]
fn index_rebuilt_after_last_file_truncated() {
    // Into the header, past the header into the slots, and in the middle of the entries
    // (16 entries per file: 4 slots padded to 4096, entries from 8192).
    for (seed, len) in [(22, 0u64), (23, 30), (24, 5000), (25, 8192 + 3 * 20 + 7)] {
        run(rebuild_case(seed, async move |fs: &SimFileSystem| {
            let last = index_files(fs).await.pop().expect("an index file");
            let file = fs.open(&last, false).await.unwrap();
            file.truncate(len).await.unwrap();
        }));
    }
}

#[test]
fn index_rebuilt_after_middle_file_lost() {
    run(rebuild_case(26, async |fs: &SimFileSystem| {
        let files = index_files(fs).await;
        fs.remove(&files[1]).await.unwrap();
    }));
}

#[test]
fn index_rebuilt_when_files_are_behind_the_checkpoint() {
    // An older copy of the index (as after restoring a backup): valid files that cover less
    // than the checkpoint.
    run(async {
        let fs = SimFileSystem::new(27);
        let store = open_sim(config(), &fs).await;
        write_keyed(&store, 0, 20).await;
        store.shutdown().await.unwrap();
        let saved: Vec<(PathBuf, Vec<u8>)> = index_files(&fs)
            .await
            .into_iter()
            .map(|path| {
                let bytes = fs.live_bytes(&path).unwrap();
                (path, bytes)
            })
            .collect();
        let store = open_sim(config(), &fs).await;
        write_keyed(&store, 20, MESSAGES).await;
        store.shutdown().await.unwrap();
        for path in index_files(&fs).await {
            fs.remove(&path).await.unwrap();
        }
        for (path, bytes) in saved {
            let file = fs.open(&path, true).await.unwrap();
            file.allocate(bytes.len() as u64).await.unwrap();
            fs.corrupt(&path, 0, &bytes);
        }
        let store = open_sim(config(), &fs).await;
        // Rebuilt from where the old copy ends, not from the start.
        assert_eq!(store.stats().recovered_records, u64::from(MESSAGES) - 20);
        assert_all_found(&store, MESSAGES).await;
        store.shutdown().await.unwrap();
    });
}

#[test]
fn keyless_tail_and_disabled_index_need_no_rescan() {
    run(async {
        let fs = SimFileSystem::new(28);
        let store = open_sim(config(), &fs).await;
        write_keyed(&store, 0, 8).await;
        for n in 0..100u32 {
            store
                .append(message("plain", 0, format!("{n}").as_bytes(), ""))
                .await
                .unwrap();
        }
        store.shutdown().await.unwrap();
        // The keyless tail is covered: a clean restart does not rescan it.
        let store = open_sim(config(), &fs).await;
        assert_eq!(store.stats().recovered_records, 0);
        assert_all_found(&store, 8).await;
        store.shutdown().await.unwrap();

        // With the index off, nothing is rescanned for it and it is not written.
        let mut disabled = config();
        disabled.index_enable = false;
        let store = open_sim(disabled.clone(), &fs).await;
        assert_eq!(store.stats().recovered_records, 0);
        write_keyed(&store, 8, 30).await;
        store.shutdown().await.unwrap();
        let store = open_sim(disabled, &fs).await;
        assert_eq!(store.stats().recovered_records, 0);
        store.shutdown().await.unwrap();

        // Turned on again, it catches up on what it missed, and only that.
        let store = open_sim(config(), &fs).await;
        assert_eq!(store.stats().recovered_records, 22);
        assert_all_found(&store, 30).await;
        store.shutdown().await.unwrap();
    });
}

/// The same on real files (glommio `DmaFile`): `rm -r index/` while the broker is down.
#[test]
fn index_rebuilt_on_real_files_after_directory_deleted() {
    // Not /tmp: tmpfs has no O_DIRECT.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let mut config = StoreConfig::test_min(dir.path().to_path_buf());
    config.flush = FlushMode::Sync;
    config.segment_size_bytes = 64 * 1024;
    config.message_bytes_max = 8 * 1024;
    config.index_entries_per_file = 16;
    config.clean_interval_ms = 3_600_000;
    run(async move {
        let store = Store::open(config.clone()).await.unwrap();
        write_keyed(&store, 0, MESSAGES).await;
        let before = queues(&store).await;
        store.shutdown().await.unwrap();
        drop(store);
        std::fs::remove_dir_all(config.root_dir.join("index")).unwrap();
        let store = Store::open(config.clone()).await.unwrap();
        assert_eq!(store.stats().recovered_records, u64::from(MESSAGES));
        assert_all_found(&store, MESSAGES).await;
        assert_eq!(queues(&store).await, before);
        store.shutdown().await.unwrap();
    });
}
