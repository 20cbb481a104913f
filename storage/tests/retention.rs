//! Retention and the disk guard, with an injected disk-usage probe and file times.

mod common;

use std::rc::Rc;

use common::{message, read_all, run, sim_config};
use storage::io::sim::SimFileSystem;
use storage::io::FileSystem;
use storage::retention::FixedProbe;
use storage::{AcceptAll, AppendError, FlushMode, ReadStatus, Store};

const HOUR_MS: i64 = 3_600_000;
/// 2023-11-14T22:13:20Z; +5h48m40s lands on 04:02 UTC.
const NOW_MS: i64 = 1_700_000_000_000;
const AT_DELETE_HOUR_MS: i64 = NOW_MS + 5 * HOUR_MS + 48 * 60_000 + 40_000 + 120_000;

async fn setup(probe: Rc<FixedProbe>) -> (SimFileSystem, Rc<Store>) {
    let fs = SimFileSystem::new(5);
    let mut config = sim_config(FlushMode::Sync);
    config.file_reserved_time_hours = 1;
    let store = Store::open_with(config, Rc::new(fs.clone()), probe)
        .await
        .unwrap();
    for n in 0..400u32 {
        let body = format!("{n:05}-{}", "r".repeat(600));
        store
            .append(message("RT", n % 2, body.as_bytes(), "KEYS\u{1}k\u{2}"))
            .await
            .unwrap();
    }
    store.checkpoint_now().await.unwrap();
    (fs, store)
}

fn segments(fs: &SimFileSystem) -> Vec<String> {
    fs.list_dir(std::path::Path::new("/store/commitlog"))
        .unwrap()
}

#[test]
fn expired_segments_deleted_at_delete_hour_or_when_space_is_short() {
    run(async {
        let probe = Rc::new(FixedProbe::new(10));
        let (fs, store) = setup(probe.clone()).await;
        let before = segments(&fs);
        assert!(before.len() >= 4, "{before:?}");
        for name in &before {
            fs.set_modified_ms(
                &std::path::Path::new("/store/commitlog").join(name),
                NOW_MS - 2 * HOUR_MS,
            );
        }
        // Not the delete hour, disk not full: nothing happens.
        let report = store.run_retention_once(NOW_MS).await.unwrap();
        assert_eq!(report.segments_deleted, 0);
        // The delete hour: every expired segment but the one being written goes.
        let report = store.run_retention_once(AT_DELETE_HOUR_MS).await.unwrap();
        // Everything but the segment being written (and the prepared next one) went.
        assert!(report.segments_deleted >= before.len() - 2, "{report:?}");
        assert!(segments(&fs).len() <= 2);
        assert!(store.stats().min_offset > 0);
        let min = store.min_offset("RT", 0);
        assert!(min > 0);
        let old = store
            .read("RT", 0, 0, 10, 1 << 20, &AcceptAll)
            .await
            .unwrap();
        assert_eq!(
            (old.status, old.next_begin_offset),
            (ReadStatus::OffsetTooSmall, min)
        );
        let rest = read_all(&store, "RT", 0).await;
        assert_eq!(rest.first().map(|(offset, _)| *offset), Some(min));
        assert_eq!(rest.last().map(|(offset, _)| *offset), Some(199));
        // Queries skip deleted records.
        let found = store
            .query_by_key("RT", "k", 1000, 0, i64::MAX)
            .await
            .unwrap();
        assert!(found.len() < 400 && !found.is_empty());
        store.shutdown().await.unwrap();
    });
}

#[test]
fn forced_clean_and_write_refusal_follow_disk_ratios() {
    run(async {
        let probe = Rc::new(FixedProbe::new(80));
        let (fs, store) = setup(probe.clone()).await;
        let before = segments(&fs).len();
        // 80 % > 75 %: expired files would go at any hour, but none is expired yet.
        let report = store.run_retention_once(NOW_MS).await.unwrap();
        assert_eq!(report.segments_deleted, 0);
        // 88 % > 85 %: the oldest segments go even though not expired.
        probe.set(88);
        let report = store.run_retention_once(NOW_MS).await.unwrap();
        assert!(report.segments_deleted > 0 && !report.writes_refused);
        assert!(segments(&fs).len() < before);
        // 95 % >= 90 %: appends are refused with a text stating the ratios.
        probe.set(95);
        let report = store.run_retention_once(NOW_MS).await.unwrap();
        assert!(report.writes_refused);
        let error = store.append(message("RT", 0, b"x", "")).await.unwrap_err();
        let AppendError::DiskFull(text) = &error else {
            panic!("{error:?}")
        };
        assert!(
            text.contains("95%") && text.contains("90%") && text.contains("75%"),
            "{text}"
        );
        assert!(error.to_string().contains("disk is full"));
        // Back under the warning ratio: writes resume.
        probe.set(60);
        store.run_retention_once(NOW_MS).await.unwrap();
        store.append(message("RT", 0, b"x", "")).await.unwrap();
        store.shutdown().await.unwrap();
        // Restart keeps the new minimum.
        let mut config = sim_config(FlushMode::Sync);
        config.file_reserved_time_hours = 1;
        let store = Store::open_with(config, Rc::new(fs.clone()), probe)
            .await
            .unwrap();
        assert!(store.min_offset("RT", 1) > 0);
        assert_eq!(
            read_all(&store, "RT", 0).await.last().map(|(o, _)| *o),
            Some(200)
        );
        store.shutdown().await.unwrap();
    });
}
