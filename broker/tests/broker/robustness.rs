use std::time::Duration;

use protocol::code::response;

use crate::common::{start, Client};

#[test]
fn garbage_and_oversized_frames_close_only_their_connection() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut healthy = Client::connect(broker.local_addr());
    assert_eq!(
        healthy.send_message("RobustTopic", 0, b"x", "").code,
        response::SUCCESS
    );

    let mut garbage = Client::connect(broker.local_addr());
    garbage
        .write_raw(&[0, 0, 0, 12, 0, 0, 0, 4, b'{', b'x', b'y', b'}', 0, 0, 0, 0])
        .expect("writes");
    assert!(
        garbage.read_frame().is_none(),
        "undecodable header closes the connection"
    );

    let mut oversized = Client::connect(broker.local_addr());
    oversized
        .write_raw(&[0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0])
        .expect("writes");
    assert!(
        oversized.read_frame().is_none(),
        "a frame over 16 MiB closes the connection"
    );

    let mut bad_type = Client::connect(broker.local_addr());
    bad_type
        .write_raw(&[0, 0, 0, 6, 7, 0, 0, 2, b'{', b'}'])
        .expect("writes");
    assert!(bad_type.read_frame().is_none());

    assert_eq!(
        healthy.send_message("RobustTopic", 0, b"y", "").code,
        response::SUCCESS
    );
}

#[test]
fn unknown_codes_are_not_supported() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let reply = client.call_code(9999, &[]);
    assert_eq!(reply.code, response::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        reply.remark.as_deref(),
        Some(" request type 9999 not supported")
    );
    let heartbeat = client.call(
        client
            .request(protocol::code::request::HEART_BEAT, &[])
            .with_body(b"not json".to_vec()),
    );
    assert_eq!(heartbeat.code, response::SYSTEM_ERROR);
}

#[test]
fn in_flight_limit_answers_system_busy() {
    let dir = crate::common::tempdir();
    let mut config = broker::BrokerConfig::for_tests(dir.path());
    config.in_flight_per_connection_max = 2;
    let broker = crate::common::start_with(config);
    let mut client = Client::connect(broker.local_addr());
    client.send_message("BusyTopic", 0, b"x", "");
    // Three suspended pulls: the third is over the limit.
    let opaques: Vec<i32> = (0..3)
        .map(|_| {
            let pull = client.pull_request("g", "BusyTopic", 0, 1, 2 | 4, 2_000, Some("*"));
            client.send(pull)
        })
        .collect();
    let busy = client.response(opaques[2]);
    assert_eq!(busy.code, response::SYSTEM_BUSY, "{busy:?}");
    assert!(busy.remark.as_deref().unwrap_or("").contains("in flight"));
    std::thread::sleep(Duration::from_millis(10));
}
