//! Codec micro-benchmarks (`cargo bench -p protocol`): a SEND_MESSAGE_V2 request with a
//! 1 KiB body decoded (frame + typed header) and encoded again in both header encodings,
//! header decoding alone, and decoding a 32-message pull body. Criterion prints the time per
//! iteration (ns/op). Goals: header decode < 1 µs binary, < 3 µs JSON.
//!
//! On a shared, loaded machine wall-clock numbers are inflated by waiting for a core. Then
//! count user-mode cycles instead, which only tick while the benchmark runs:
//!
//! ```text
//! CODEC_BENCH_CASE=send_v2_1KiB/header_decode/json CODEC_BENCH_ITERATIONS=1000000 \
//!   perf stat -e cycles:u,instructions:u target/release/deps/codec-<hash>
//! ```
//!
//! and divide by the iteration count (cycles / GHz = unloaded ns/op).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, Criterion, Throughput};
use protocol::code::request;
use protocol::frame::{self, FRAME_BYTES_MAX_DEFAULT};
use protocol::header::send::SendMessageRequestHeaderV2;
use protocol::header::CommandHeader;
use protocol::message::record::{decode_records, RecordFields};
use protocol::{RemotingCommand, SerializeType};
use std::time::Duration;

const BODY_BYTES: usize = 1024;
const PULL_MESSAGES: usize = 32;

fn send_header() -> SendMessageRequestHeaderV2 {
    SendMessageRequestHeaderV2 {
        producer_group: "please_rename_unique_group_name".to_owned(),
        topic: "TopicTest".to_owned(),
        default_topic: "TBW102".to_owned(),
        default_topic_queue_nums: 4,
        queue_id: 3,
        sys_flag: 0,
        born_timestamp_ms: 1_712_345_678_901,
        flag: 0,
        properties: Some(
            "TAGS\u{1}TagA\u{2}KEYS\u{1}OrderID188\u{2}WAIT\u{1}true\u{2}UNIQ_KEY\u{1}7F0000010F6818B4AAC20A1B2C3D0000\u{2}"
                .to_owned(),
        ),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        max_reconsume_times: None,
        batch: Some(false),
        broker_name: Some("broker-a".to_owned()),
    }
}

fn send_frame(serialize_type: SerializeType) -> Bytes {
    let mut command = RemotingCommand::request(request::SEND_MESSAGE_V2, 42, serialize_type)
        .with_body(vec![b'm'; BODY_BYTES]);
    send_header().encode(command.ext_mut());
    let mut out = BytesMut::new();
    command.encode(&mut out).expect("the sample frame encodes");
    out.freeze()
}

/// Decodes the frame and its typed header, then encodes the request again.
fn decode_encode_send(frame: &Bytes, out: &mut BytesMut) -> usize {
    let (command, _) =
        RemotingCommand::decode_bytes(frame, FRAME_BYTES_MAX_DEFAULT).expect("decodes");
    let header =
        SendMessageRequestHeaderV2::decode_optional(command.ext_fields.as_ref()).expect("header");
    let mut again = RemotingCommand::request(command.code, command.opaque, command.serialize_type)
        .with_body(command.body);
    header.encode(again.ext_mut());
    out.clear();
    again.encode(out).expect("encodes");
    out.len()
}

fn send_benches(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("send_v2_1KiB");
    for (name, serialize_type) in [
        ("json", SerializeType::Json),
        ("binary", SerializeType::RocketMq),
    ] {
        let frame = send_frame(serialize_type);
        let parts = frame::split(&frame, FRAME_BYTES_MAX_DEFAULT).expect("splits");
        let header_bytes = parts.header.to_vec();
        group.throughput(Throughput::Elements(1));
        let mut out = BytesMut::with_capacity(4096);
        group.bench_function(format!("decode_encode/{name}"), |bench| {
            bench.iter(|| decode_encode_send(black_box(&frame), &mut out));
        });
        group.bench_function(format!("header_decode/{name}"), |bench| {
            bench.iter(|| {
                let command = RemotingCommand::decode_parts(
                    serialize_type,
                    black_box(&header_bytes),
                    Bytes::new(),
                )
                .expect("decodes");
                SendMessageRequestHeaderV2::decode_optional(command.ext_fields.as_ref())
                    .expect("header")
            });
        });
    }
    group.finish();
}

fn pull_body() -> Vec<u8> {
    let body = vec![b'p'; BODY_BYTES];
    let mut out = BytesMut::new();
    for index in 0..PULL_MESSAGES {
        let offset = i64::try_from(index).expect("small");
        RecordFields {
            queue_id: 3,
            flag: 0,
            queue_offset: 1_000 + offset,
            physical_offset: 1_048_576 + offset * 1_200,
            sys_flag: 0,
            born_timestamp_ms: 1_712_345_678_901,
            born_host: "10.0.0.7:53412".parse().expect("address"),
            store_timestamp_ms: 1_712_345_678_950,
            store_host: "10.0.0.5:10911".parse().expect("address"),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: &body,
            topic: "TopicTest",
            properties: "TAGS\u{1}TagA\u{2}KEYS\u{1}OrderID188\u{2}UNIQ_KEY\u{1}7F0000010F6818B4AAC20A1B2C3D0000\u{2}",
        }
        .encode(&mut out)
        .expect("record encodes");
    }
    out.to_vec()
}

fn pull_benches(criterion: &mut Criterion) {
    let body = pull_body();
    let mut group = criterion.benchmark_group("pull_body_32x1KiB");
    group.throughput(Throughput::Elements(PULL_MESSAGES as u64));
    group.bench_function("decode", |bench| {
        bench.iter(|| {
            let mut count = 0usize;
            for record in decode_records(black_box(&body)) {
                let record = record.expect("record decodes");
                count += record.body.len() + record.properties.len();
            }
            count
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// Runs one case a fixed number of times without criterion (for `perf stat`, valgrind).
fn run_fixed(case: &str, iterations: u64) {
    let mut out = BytesMut::with_capacity(4096);
    let mut sink = 0usize;
    let body = pull_body();
    let serialize_type = if case.ends_with("/json") {
        SerializeType::Json
    } else {
        SerializeType::RocketMq
    };
    let frame = send_frame(serialize_type);
    let header_bytes = frame::split(&frame, FRAME_BYTES_MAX_DEFAULT)
        .expect("splits")
        .header
        .to_vec();
    let mut step: Box<dyn FnMut() -> usize> = if case.contains("decode_encode") {
        Box::new(|| decode_encode_send(black_box(&frame), &mut out))
    } else if case.contains("header_decode") {
        Box::new(|| {
            let command = RemotingCommand::decode_parts(
                serialize_type,
                black_box(&header_bytes),
                Bytes::new(),
            )
            .expect("decodes");
            SendMessageRequestHeaderV2::decode_optional(command.ext_fields.as_ref())
                .expect("header")
                .topic
                .len()
        })
    } else {
        Box::new(|| {
            decode_records(black_box(&body))
                .map(|record| record.expect("record decodes").body.len())
                .sum()
        })
    };
    for _ in 0..iterations {
        sink = sink.wrapping_add(step());
    }
    println!("{case}: {iterations} iterations ({sink})");
}

fn main() {
    if let Ok(case) = std::env::var("CODEC_BENCH_CASE") {
        let iterations = std::env::var("CODEC_BENCH_ITERATIONS")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(1_000_000);
        run_fixed(&case, iterations);
        return;
    }
    let mut criterion = config().configure_from_args();
    send_benches(&mut criterion);
    pull_benches(&mut criterion);
    criterion.final_summary();
}
