//! Shared test helpers.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;

use bytes::Bytes;
use protocol::message::record::RecordView;
use storage::io::sim::SimFileSystem;
use storage::retention::FixedProbe;
use storage::{AcceptAll, FlushMode, MessageToStore, ReadStatus, Store, StoreConfig};

/// Runs `f` on a fresh glommio executor with a small io_memory (works without memlock).
pub fn run<T>(f: impl Future<Output = T>) -> T {
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .io_memory(1 << 20)
        .make()
        .expect("executor")
        .run(f)
}

pub fn sim_config(flush: FlushMode) -> StoreConfig {
    let mut config = StoreConfig::test_min(PathBuf::from("/store"));
    config.flush = flush;
    config.segment_size_bytes = 64 * 1024;
    config.message_bytes_max = 8 * 1024;
    config.clean_interval_ms = 3_600_000;
    config
}

pub async fn open_sim(config: StoreConfig, fs: &SimFileSystem) -> Rc<Store> {
    Store::open_with(config, Rc::new(fs.clone()), Rc::new(FixedProbe::new(10)))
        .await
        .expect("open")
}

pub fn message(topic: &str, queue_id: u32, body: &[u8], properties: &str) -> MessageToStore {
    MessageToStore {
        topic: topic.to_owned(),
        queue_id,
        flag: 0,
        sys_flag: 0,
        born_timestamp_ms: 1_700_000_000_000,
        born_host: "127.0.0.1:40000".parse::<SocketAddr>().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: Bytes::copy_from_slice(body),
        properties: properties.to_owned(),
    }
}

/// Every record of a queue, from its min offset, as (queue offset, body).
pub async fn read_all(store: &Store, topic: &str, queue_id: u32) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut offset = store.min_offset(topic, queue_id);
    loop {
        let result = store
            .read(topic, queue_id, offset, 32, 1 << 20, &AcceptAll)
            .await
            .expect("read");
        match result.status {
            ReadStatus::Found => {
                for record in &result.records {
                    let (view, _) = RecordView::decode(record).expect("decode");
                    assert!(view.body_crc_matches());
                    assert_eq!(view.topic, topic);
                    assert_eq!(view.queue_id, i32::try_from(queue_id).unwrap());
                    out.push((
                        u64::try_from(view.queue_offset).unwrap(),
                        view.body.to_vec(),
                    ));
                }
                offset = result.next_begin_offset;
            }
            ReadStatus::NoMatchedMessage => offset = result.next_begin_offset,
            _ => break,
        }
    }
    out
}
