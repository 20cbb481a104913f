use super::*;
use proptest::prelude::*;
use std::io::Write;

fn sample<'a>(body: &'a [u8], topic: &'a str, properties: &'a str) -> RecordFields<'a> {
    RecordFields {
        queue_id: 3,
        flag: 7,
        queue_offset: 42,
        physical_offset: 4096,
        sys_flag: 0,
        born_timestamp_ms: 1_700_000_000_000,
        born_host: "127.0.0.1:5555".parse().unwrap(),
        store_timestamp_ms: 1_700_000_000_123,
        store_host: "10.0.0.5:10911".parse().unwrap(),
        reconsume_times: 1,
        prepared_transaction_offset: 0,
        body,
        topic,
        properties,
    }
}

#[test]
fn golden_bytes_v1_ipv4() {
    let fields = sample(b"hi", "T", "A\u{1}B\u{2}");
    let mut buf = BytesMut::new();
    let size = fields.encode(&mut buf).unwrap();
    assert_eq!(size, 91 + 2 + 1 + 4);
    assert_eq!(size, fields.encoded_size());
    let expected: Vec<u8> = [
        &98i32.to_be_bytes()[..],
        &[0xDA, 0xA3, 0x20, 0xA7],
        &body_crc(b"hi").to_be_bytes(),
        &3i32.to_be_bytes(),
        &7i32.to_be_bytes(),
        &42i64.to_be_bytes(),
        &4096i64.to_be_bytes(),
        &0i32.to_be_bytes(),
        &1_700_000_000_000i64.to_be_bytes(),
        &[127, 0, 0, 1],
        &5555i32.to_be_bytes(),
        &1_700_000_000_123i64.to_be_bytes(),
        &[10, 0, 0, 5],
        &10911i32.to_be_bytes(),
        &1i32.to_be_bytes(),
        &0i64.to_be_bytes(),
        &2i32.to_be_bytes(),
        b"hi",
        &[1],
        b"T",
        &4i16.to_be_bytes(),
        b"A\x01B\x02",
    ]
    .concat();
    assert_eq!(&buf[..], &expected[..]);
    // crc32("hi") = 0xD8932AAC, masked to 31 bits.
    assert_eq!(body_crc(b"hi"), 0x5893_2AAC);
    let (view, consumed) = RecordView::decode(&buf).unwrap();
    assert_eq!(consumed, size);
    assert!(view.body_crc_matches());
    assert_eq!(view.topic, "T");
    assert_eq!(view.queue_offset, 42);
    assert_eq!(
        i64::from_be_bytes(buf[QUEUE_OFFSET_POSITION..][..8].try_into().unwrap()),
        42
    );
    assert_eq!(
        i64::from_be_bytes(buf[STORE_TIMESTAMP_POSITION..][..8].try_into().unwrap()),
        1_700_000_000_123
    );
}

#[test]
fn v2_topic_and_ipv6_hosts() {
    let topic = "t".repeat(200);
    let mut fields = sample(b"body", &topic, "");
    fields.born_host = "[::1]:1".parse().unwrap();
    fields.store_host = "[fe80::2]:10911".parse().unwrap();
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    let (view, _) = RecordView::decode(&buf).unwrap();
    assert_eq!(view.magic, MAGIC_V2);
    assert_eq!(view.topic, topic);
    assert_eq!(
        view.sys_flag,
        sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6
    );
    assert_eq!(view.born_host, fields.born_host);
    assert_eq!(view.store_host, fields.store_host);
    assert_eq!(store_timestamp_position(view.sys_flag), 68);
}

#[test]
fn blank_marker() {
    let mut buf = [0u8; 16];
    encode_blank_marker(&mut buf, 16);
    let (entry, consumed) = decode_log_entry(&buf).unwrap();
    assert_eq!(
        entry,
        LogEntry::Blank {
            remaining_bytes: 16
        }
    );
    assert_eq!(consumed, 8);
    assert!(RecordView::decode(&buf).is_err());
}

#[test]
fn limits() {
    let properties = "x".repeat(PROPERTIES_BYTES_MAX + 1);
    let fields = sample(b"", "T", &properties);
    assert!(matches!(
        fields.encode(&mut BytesMut::new()),
        Err(WireError::TooLong {
            field: "properties",
            ..
        })
    ));
}

#[test]
fn zlib_body() {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(5));
    encoder.write_all(&b"hello ".repeat(100)).unwrap();
    let compressed = encoder.finish().unwrap();
    let mut fields = sample(&compressed, "T", "");
    fields.sys_flag = sys_flag::COMPRESSED | sys_flag::COMPRESSION_ZLIB;
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    let (view, _) = RecordView::decode(&buf).unwrap();
    assert_eq!(
        &*view.uncompressed_body().unwrap(),
        &b"hello ".repeat(100)[..]
    );
    fields.sys_flag = sys_flag::COMPRESSED | sys_flag::COMPRESSION_LZ4;
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    assert!(RecordView::decode(&buf)
        .unwrap()
        .0
        .uncompressed_body()
        .is_err());
    fields.sys_flag = sys_flag::COMPRESSED;
    fields.body = b"not zlib";
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    assert!(RecordView::decode(&buf)
        .unwrap()
        .0
        .uncompressed_body()
        .is_err());
}

#[test]
fn truncation_is_an_error() {
    let fields = sample(b"payload", "Topic", "K\u{1}V\u{2}");
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    for cut in 0..buf.len() {
        assert!(RecordView::decode(&buf[..cut]).is_err(), "cut {cut}");
    }
    // Two records back to back.
    let mut two = buf.clone();
    two.extend_from_slice(&buf);
    assert_eq!(decode_records(&two).filter(Result::is_ok).count(), 2);
}

#[test]
fn inconsistent_lengths_are_errors() {
    let fields = sample(b"payload", "Topic", "");
    let mut buf = BytesMut::new();
    fields.encode(&mut buf).unwrap();
    // Body length larger than the record.
    let mut bad = buf.clone();
    bad[84..88].copy_from_slice(&1000i32.to_be_bytes());
    assert!(RecordView::decode(&bad).is_err());
    // Negative body length.
    bad[84..88].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(RecordView::decode(&bad).is_err());
    // TOTALSIZE one too large (record does not fill it).
    let mut bad = buf.clone();
    bad.extend_from_slice(&[0]);
    let size = i32::try_from(buf.len()).unwrap() + 1;
    bad[..4].copy_from_slice(&size.to_be_bytes());
    assert!(RecordView::decode(&bad).is_err());
}

proptest! {
    #[test]
    fn round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        topic in "[A-Za-z0-9_%-]{0,200}",
        properties in "[ -~]{0,64}",
        queue_offset in any::<i64>(),
        physical_offset in any::<i64>(),
        v6 in any::<bool>(),
        flag in any::<i32>(),
    ) {
        let mut fields = sample(&body, &topic, &properties);
        fields.queue_offset = queue_offset;
        fields.physical_offset = physical_offset;
        fields.flag = flag;
        if v6 {
            fields.born_host = "[::1]:9".parse().unwrap();
        }
        let mut buf = BytesMut::new();
        let size = fields.encode(&mut buf).unwrap();
        prop_assert_eq!(size, buf.len());
        let (view, consumed) = RecordView::decode(&buf).unwrap();
        prop_assert_eq!(consumed, size);
        prop_assert_eq!(view.body, &body[..]);
        prop_assert_eq!(view.topic, topic.as_str());
        prop_assert_eq!(view.properties, properties.as_str());
        prop_assert_eq!(view.queue_offset, queue_offset);
        prop_assert_eq!(view.physical_offset, physical_offset);
        prop_assert!(view.body_crc_matches());
        let mut again = BytesMut::new();
        view.fields().encode(&mut again).unwrap();
        prop_assert_eq!(&again[..], &buf[..]);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode_log_entry(&bytes);
        let _ = RecordView::decode(&bytes);
        let _ = decode_records(&bytes).count();
    }

    #[test]
    fn corrupted_record_never_panics(index in 0usize..120, value in any::<u8>()) {
        let fields = sample(b"payload-bytes", "TopicTest", "TAGS\u{1}A\u{2}");
        let mut buf = BytesMut::new();
        fields.encode(&mut buf).unwrap();
        let index = index % buf.len();
        buf[index] = value;
        if let Ok((view, _)) = RecordView::decode(&buf) {
            let _ = view.uncompressed_body();
        }
    }
}
