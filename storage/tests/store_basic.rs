//! Store behaviour on the simulated file system.

mod common;

use common::{message, open_sim, read_all, run, sim_config};
use protocol::message::record::RecordView;
use protocol::message::sys_flag;
use storage::io::sim::SimFileSystem;
use storage::{AcceptAll, Boundary, FlushMode, MessageFilter, ReadStatus};

#[test]
fn append_read_restart_sync() {
    run(async {
        let fs = SimFileSystem::new(1);
        let store = open_sim(sim_config(FlushMode::Sync), &fs).await;
        let mut tasks = Vec::new();
        for writer in 0..4u32 {
            let store = store.clone();
            tasks.push(glommio::spawn_local(async move {
                let mut acked = Vec::new();
                for n in 0..100u32 {
                    let body = format!("w{writer}-{n}-{}", "x".repeat(500));
                    let result = store
                        .append(message("T", writer % 2, body.as_bytes(), "TAGS\u{1}A\u{2}"))
                        .await
                        .expect("append");
                    acked.push((result, body));
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for task in tasks {
            acked.extend(task.await);
        }
        assert_eq!(acked.len(), 400);
        assert_eq!(store.max_offset("T", 0) + store.max_offset("T", 1), 400);
        let stats = store.stats();
        assert!(
            stats.fsyncs > 0 && stats.fsyncs < 400,
            "group commit: {stats:?}"
        );
        let q0 = read_all(&store, "T", 0).await;
        assert_eq!(q0.len(), 200);
        assert!(q0
            .iter()
            .enumerate()
            .all(|(i, (offset, _))| *offset == i as u64));
        // The log rolled over several 64 KiB segments.
        assert!(stats.write_offset > 3 * 64 * 1024);
        // read_at by physical offset and the offset message id.
        let (first, body) = &acked[0];
        let record = store.read_at(first.physical_offset).await.unwrap().unwrap();
        let (view, _) = RecordView::decode(&record).unwrap();
        assert_eq!(view.body, body.as_bytes());
        assert_eq!(first.message_id.len(), 32);
        store.shutdown().await.unwrap();

        let store = open_sim(sim_config(FlushMode::Sync), &fs).await;
        assert!(!store.stats().recovered_from_crash);
        assert_eq!(read_all(&store, "T", 0).await, q0);
        let next = store.append(message("T", 0, b"after", "")).await.unwrap();
        assert_eq!(next.queue_offset, 200);
        store.shutdown().await.unwrap();
    });
}

#[test]
fn async_mode_acks_after_write() {
    run(async {
        let fs = SimFileSystem::new(2);
        let store = open_sim(sim_config(FlushMode::async_default()), &fs).await;
        for n in 0..50u32 {
            store
                .append(message("A", 0, format!("{n}").as_bytes(), ""))
                .await
                .unwrap();
        }
        assert_eq!(store.max_offset("A", 0), 50);
        // A process crash keeps written bytes: everything acked is there.
        fs.process_crash();
        let store = open_sim(sim_config(FlushMode::async_default()), &fs).await;
        assert!(store.stats().recovered_from_crash);
        assert_eq!(read_all(&store, "A", 0).await.len(), 50);
        store.shutdown().await.unwrap();
    });
}

#[test]
fn batch_transactions_delay_and_filters() {
    run(async {
        let fs = SimFileSystem::new(3);
        let mut config = sim_config(FlushMode::Sync);
        config.shard_index = 3;
        let store = open_sim(config, &fs).await;
        let batch = (0..5)
            .map(|n| message("B", 1, format!("b{n}").as_bytes(), ""))
            .collect();
        let results = store.append_batch(batch).await.unwrap();
        let offsets: Vec<u64> = results.iter().map(|r| r.queue_offset).collect();
        assert_eq!(offsets, [0, 1, 2, 3, 4]);
        assert!(results.iter().all(|r| r.physical_offset >> 48 == 3));
        // Prepared transaction: queue offset 0, not in any consume queue.
        let mut half = message("HALF", 0, b"h", "");
        half.sys_flag = sys_flag::TRANSACTION_PREPARED;
        let stored = store.append(half).await.unwrap();
        assert_eq!(stored.queue_offset, 0);
        assert_eq!(store.max_offset("HALF", 0), 0);
        assert!(store
            .read_at(stored.physical_offset)
            .await
            .unwrap()
            .is_some());
        // Delay topic: tags code = store time + level delay.
        let delayed = store
            .append(message("SCHEDULE_TOPIC_XXXX", 1, b"d", "DELAY\u{1}2\u{2}"))
            .await
            .unwrap();
        struct Code(i64);
        impl MessageFilter for Code {
            fn matches_tags_code(&self, code: i64) -> bool {
                code == self.0
            }
            fn matches_record(&self, _: &[u8]) -> bool {
                true
            }
        }
        let deliver = delayed.store_timestamp_ms + 5_000;
        let read = store
            .read("SCHEDULE_TOPIC_XXXX", 1, 0, 10, 1 << 20, &Code(deliver))
            .await
            .unwrap();
        assert_eq!(read.status, ReadStatus::Found);
        // Tag filter.
        store
            .append(message("F", 0, b"x", "TAGS\u{1}TagA\u{2}"))
            .await
            .unwrap();
        store
            .append(message("F", 0, b"y", "TAGS\u{1}TagB\u{2}"))
            .await
            .unwrap();
        let read = store
            .read("F", 0, 0, 10, 1 << 20, &Code(2_598_919))
            .await
            .unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.next_begin_offset, 2);
        let none = store.read("F", 0, 1, 10, 1 << 20, &Code(1)).await.unwrap();
        assert_eq!(none.status, ReadStatus::NoMatchedMessage);
        // Status values.
        let over = store
            .read("F", 0, 2, 10, 1 << 20, &AcceptAll)
            .await
            .unwrap();
        assert_eq!(over.status, ReadStatus::OffsetOverflowOne);
        let bad = store
            .read("F", 0, 9, 10, 1 << 20, &AcceptAll)
            .await
            .unwrap();
        assert_eq!(
            (bad.status, bad.next_begin_offset),
            (ReadStatus::OffsetOverflowBadly, 2)
        );
        let empty = store
            .read("nope", 0, 0, 10, 1 << 20, &AcceptAll)
            .await
            .unwrap();
        assert_eq!(empty.status, ReadStatus::NoMessageInQueue);
        // Times.
        let earliest = store.earliest_store_time("F", 0).await.unwrap().unwrap();
        assert_eq!(
            store
                .offset_by_time("F", 0, earliest, Boundary::Lower)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .offset_by_time("F", 0, earliest + 60_000, Boundary::Lower)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .offset_by_time("F", 0, earliest + 60_000, Boundary::Upper)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .offset_by_time("F", 0, earliest - 60_000, Boundary::Upper)
                .await
                .unwrap(),
            0
        );
        // Topics and deletion.
        assert!(store.topics_queues().contains(&("F".to_owned(), 0)));
        store.delete_topic("F");
        assert_eq!(store.max_offset("F", 0), 0);
        // Too large.
        let big = vec![0u8; 9 * 1024];
        assert!(matches!(
            store.append(message("B", 0, &big, "")).await,
            Err(storage::AppendError::MessageTooLarge { .. })
        ));
        store.shutdown().await.unwrap();
    });
}

#[test]
fn query_by_key_and_unique_key_across_sealed_files() {
    run(async {
        let fs = SimFileSystem::new(4);
        let mut config = sim_config(FlushMode::Sync);
        config.index_entries_per_file = 16;
        let store = open_sim(config.clone(), &fs).await;
        for n in 0..40u32 {
            let props = format!("KEYS\u{1}order-{} all\u{2}UNIQ_KEY\u{1}U{n:04}\u{2}", n % 4);
            store
                .append(message("K", 0, format!("{n}").as_bytes(), &props))
                .await
                .unwrap();
        }
        store.checkpoint_now().await.unwrap(); // seals full index files
        let found = store
            .query_by_key("K", "order-1", 32, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(found.len(), 10);
        let unique = store
            .query_by_key("K", "U0007", 32, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(unique.len(), 1);
        assert!(store
            .query_by_key("K", "missing", 32, 0, i64::MAX)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .query_by_key("other", "order-1", 32, 0, i64::MAX)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .query_by_key("K", "order-1", 32, 0, 1)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .query_by_key("K", "all", 5, 0, i64::MAX)
                .await
                .unwrap()
                .len(),
            5
        );
        store.shutdown().await.unwrap();
        let store = open_sim(config, &fs).await;
        assert_eq!(
            store
                .query_by_key("K", "order-2", 32, 0, i64::MAX)
                .await
                .unwrap()
                .len(),
            10
        );
        assert_eq!(
            store
                .query_by_key("K", "U0039", 32, 0, i64::MAX)
                .await
                .unwrap()
                .len(),
            1
        );
        store.shutdown().await.unwrap();
    });
}
