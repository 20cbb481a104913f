//! JSON bodies (lenient serde + fastjson key quoting): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::body::consumer::{
    ConsumerConnection, ConsumerListBody, GroupList, ProducerConnection,
};
use protocol::body::fastjson::quote_keys;
use protocol::body::heartbeat::HeartbeatData;
use protocol::body::lock::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use protocol::body::route::JsonBody;
use protocol::body::stats::{
    ConsumeStats, ConsumerOffsetSerializeWrapper, ResetOffsetBody, TopicStatsTable,
};
use protocol::body::subscription::{SubscriptionGroupConfig, SubscriptionGroupWrapper};

fuzz_target!(|data: &[u8]| {
    let _ = quote_keys(data);
    if let Ok(heartbeat) = HeartbeatData::decode(data) {
        let bytes = heartbeat.to_bytes().expect("a decoded heartbeat encodes");
        assert_eq!(
            HeartbeatData::decode(&bytes).expect("re-decodes"),
            heartbeat
        );
    }
    if let Ok(stats) = ConsumeStats::decode(data) {
        let bytes = stats.to_bytes().expect("encodes");
        let again = ConsumeStats::decode(&bytes).expect("re-decodes");
        assert_eq!(again.offset_table, stats.offset_table);
    }
    let _ = LockBatchRequestBody::decode(data);
    let _ = UnlockBatchRequestBody::decode(data);
    let _ = LockBatchResponseBody::decode(data);
    let _ = ConsumerListBody::decode(data);
    let _ = ConsumerConnection::decode(data);
    let _ = ProducerConnection::decode(data);
    let _ = GroupList::decode(data);
    let _ = TopicStatsTable::decode(data);
    let _ = ResetOffsetBody::decode(data);
    let _ = SubscriptionGroupConfig::decode(data);
    let _ = SubscriptionGroupWrapper::decode(data);
    let _ = ConsumerOffsetSerializeWrapper::decode(data);
});
