use std::time::Duration;

use protocol::code::{request, response};
use protocol::command::FLAG_ONEWAY;

use crate::common::{ext_i64, start, Client};

#[test]
fn consumer_offsets_query_update_and_queue_offsets() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let queue = [("topic", "OffTopic"), ("queueId", "0")];
    let group_queue = [
        ("consumerGroup", "og"),
        ("topic", "OffTopic"),
        ("queueId", "0"),
    ];

    let empty = client.call_code(request::QUERY_CONSUMER_OFFSET, &group_queue);
    assert_eq!(empty.code, response::QUERY_NOT_FOUND, "{empty:?}");

    for body in [b"a", b"b", b"c"] {
        assert_eq!(
            client.send_message("OffTopic", 0, body, "").code,
            response::SUCCESS
        );
    }
    let fresh_group = client.call_code(request::QUERY_CONSUMER_OFFSET, &group_queue);
    assert_eq!(
        fresh_group.code,
        response::SUCCESS,
        "a new group starts at 0"
    );
    assert_eq!(ext_i64(&fresh_group, "offset"), 0);
    let strict = [
        ("consumerGroup", "og"),
        ("topic", "OffTopic"),
        ("queueId", "0"),
        ("setZeroIfNotFound", "false"),
    ];
    assert_eq!(
        client
            .call_code(request::QUERY_CONSUMER_OFFSET, &strict)
            .code,
        response::QUERY_NOT_FOUND
    );

    let update = [
        ("consumerGroup", "og"),
        ("topic", "OffTopic"),
        ("queueId", "0"),
        ("commitOffset", "2"),
    ];
    assert_eq!(
        client
            .call_code(request::UPDATE_CONSUMER_OFFSET, &update)
            .code,
        response::SUCCESS
    );
    let queried = client.call_code(request::QUERY_CONSUMER_OFFSET, &group_queue);
    assert_eq!(ext_i64(&queried, "offset"), 2);

    // Oneway: no response is written; the next two-way call sees its effect.
    let mut oneway = client.request(
        request::UPDATE_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "og"),
            ("topic", "OffTopic"),
            ("queueId", "0"),
            ("commitOffset", "3"),
        ],
    );
    oneway.flag |= FLAG_ONEWAY;
    let oneway_opaque = client.send(oneway);
    let queried = client.call_code(request::QUERY_CONSUMER_OFFSET, &group_queue);
    assert_eq!(queried.opaque, oneway_opaque + 1);
    assert_eq!(ext_i64(&queried, "offset"), 3);

    assert_eq!(
        ext_i64(&client.call_code(request::GET_MAX_OFFSET, &queue), "offset"),
        3
    );
    assert_eq!(
        ext_i64(&client.call_code(request::GET_MIN_OFFSET, &queue), "offset"),
        0
    );
    let earliest = client.call_code(request::GET_EARLIEST_MSG_STORETIME, &queue);
    let stored_at = ext_i64(&earliest, "timestamp");
    assert!(stored_at > 1_600_000_000_000, "{earliest:?}");
    let past = client.call_code(
        request::SEARCH_OFFSET_BY_TIMESTAMP,
        &[("topic", "OffTopic"), ("queueId", "0"), ("timestamp", "0")],
    );
    assert_eq!(ext_i64(&past, "offset"), 0);
    let future = client.call_code(
        request::SEARCH_OFFSET_BY_TIMESTAMP,
        &[
            ("topic", "OffTopic"),
            ("queueId", "0"),
            ("timestamp", "99999999999999"),
        ],
    );
    assert_eq!(ext_i64(&future, "offset"), 3);
    let empty_queue = client.call_code(
        request::GET_EARLIEST_MSG_STORETIME,
        &[("topic", "OffTopic"), ("queueId", "1")],
    );
    assert_eq!(ext_i64(&empty_queue, "timestamp"), -1);
    let negative = client.call_code(
        request::GET_MAX_OFFSET,
        &[("topic", "OffTopic"), ("queueId", "-1")],
    );
    assert_eq!(negative.code, response::INVALID_PARAMETER);
    std::thread::sleep(Duration::from_millis(10));
}
