//! The background preparation of the next segment (several pre-write chunks per segment) is
//! ready before the writer rolls into it.

mod common;

use std::time::Duration;

use common::{message, open_sim, read_all, run, sim_config};
use storage::io::sim::SimFileSystem;
use storage::FlushMode;

#[test]
fn next_segment_is_ready_before_the_writer_needs_it() {
    run(async {
        let fs = SimFileSystem::new(31);
        let mut config = sim_config(FlushMode::Sync);
        // Several pre-write chunks per segment.
        config.segment_size_bytes = 1 << 20;
        let store = open_sim(config.clone(), &fs).await;
        // About 3.5 segments; a pause every 100 KB leaves the background queue time, as a
        // real disk would.
        let body = vec![b'p'; 4000];
        for n in 0..900u32 {
            store.append(message("P", 0, &body, "")).await.unwrap();
            if n % 25 == 24 {
                glommio::timer::sleep(Duration::from_millis(5)).await;
            }
        }
        let stats = store.stats();
        assert!(stats.write_offset > 3 << 20, "rolled: {stats:?}");
        assert_eq!(stats.segment_waits, 0, "an append waited for a segment");
        store.shutdown().await.unwrap();
        let store = open_sim(config, &fs).await;
        assert_eq!(read_all(&store, "P", 0).await.len(), 900);
        store.shutdown().await.unwrap();
    });
}
