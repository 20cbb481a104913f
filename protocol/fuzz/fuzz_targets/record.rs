//! Stored records (pull/query bodies), commit-log entries and batch bodies.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use protocol::message::batch::{decode_batch, BatchIter};
use protocol::message::record::{decode_log_entry, decode_records, RecordView};
use protocol::message::Properties;

fuzz_target!(|data: &[u8]| {
    if let Ok((view, consumed)) = RecordView::decode(data) {
        assert!(consumed <= data.len());
        let _ = view.uncompressed_body();
        let _ = Properties::parse(view.properties);
        let mut out = BytesMut::new();
        if view.fields().encode(&mut out).is_ok() {
            let (again, _) = RecordView::decode(&out).expect("a re-encoded record decodes");
            assert_eq!(again.body, view.body);
            assert_eq!(again.topic, view.topic);
        }
    }
    let _ = decode_log_entry(data);
    for record in decode_records(data) {
        if record.is_err() {
            break;
        }
    }
    let _ = decode_batch(data);
    let _ = BatchIter::new(data).count();
});
