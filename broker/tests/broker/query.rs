//! QUERY_MESSAGE (12) by key and unique key across shards, and VIEW_MESSAGE_BY_ID from the
//! commit-log offset of a hit.

use std::time::Duration;

use protocol::code::{request, response};

use crate::common::{eventually, ext_i64, props, records, start, Client};

fn query(
    client: &mut Client,
    topic: &str,
    key: &str,
    max: &str,
    unique: bool,
) -> protocol::RemotingCommand {
    let mut ext = vec![
        ("topic", topic),
        ("key", key),
        ("maxNum", max),
        ("beginTimestamp", "0"),
        ("endTimestamp", "9223372036854775807"),
    ];
    if unique {
        ext.push(("_UNIQUE_KEY_QUERY", "true"));
    }
    client.call_code(request::QUERY_MESSAGE, &ext)
}

#[test]
fn query_by_key_and_unique_key_across_shards() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    // Queues 0..4 land on both shards.
    for queue in 0..4 {
        let properties = props(&[
            ("KEYS", &format!("order-{queue} shared")),
            ("UNIQ_KEY", &format!("UNIQ{queue:04}")),
        ]);
        let body = format!("body-{queue}");
        let sent = client.send_message("QueryTopic", queue, body.as_bytes(), &properties);
        assert_eq!(sent.code, response::SUCCESS, "{sent:?}");
    }
    // The index is built as records become visible.
    assert!(eventually(Duration::from_secs(5), || {
        let answer = query(&mut client, "QueryTopic", "shared", "64", false);
        answer.code == response::SUCCESS && records(&answer.body).len() == 4
    }));

    let all = query(&mut client, "QueryTopic", "shared", "64", false);
    let found = records(&all.body);
    let mut queues: Vec<i32> = found.iter().map(|record| record.queue_id).collect();
    queues.sort_unstable();
    assert_eq!(queues, vec![0, 1, 2, 3]);
    assert!(ext_i64(&all, "indexLastUpdatePhyoffset") > 0);
    assert!(ext_i64(&all, "indexLastUpdateTimestamp") > 0);
    // Newest first.
    let stamps: Vec<i64> = protocol::message::record::decode_records(&all.body)
        .map(|record| record.expect("record").store_timestamp_ms)
        .collect();
    assert!(
        stamps.windows(2).all(|pair| pair[0] >= pair[1]),
        "{stamps:?}"
    );

    // maxNum caps the merged answer.
    let capped = query(&mut client, "QueryTopic", "shared", "3", false);
    assert_eq!(records(&capped.body).len(), 3);

    // One key of a space-separated KEYS list.
    let one = query(&mut client, "QueryTopic", "order-2", "64", false);
    assert_eq!(one.code, response::SUCCESS);
    let hit = records(&one.body);
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].body, b"body-2");
    assert_eq!(hit[0].property("KEYS"), Some("order-2 shared"));

    // Unique key; maxNum is ignored (defaultQueryMaxNum).
    let unique = query(&mut client, "QueryTopic", "UNIQ0003", "0", true);
    assert_eq!(unique.code, response::SUCCESS, "{unique:?}");
    let hit = records(&unique.body);
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].body, b"body-3");
    assert_eq!(hit[0].property("UNIQ_KEY"), Some("UNIQ0003"));

    // The offset id of a hit views the same record (queryMsgById path).
    let offset = hit[0].physical_offset.to_string();
    let view = client.call_code(request::VIEW_MESSAGE_BY_ID, &[("offset", offset.as_str())]);
    assert_eq!(view.code, response::SUCCESS);
    assert_eq!(records(&view.body)[0].body, b"body-3");

    // Absent key, wrong topic, time range excluding everything.
    assert_eq!(
        query(&mut client, "QueryTopic", "nope", "64", false).code,
        response::QUERY_NOT_FOUND
    );
    assert_eq!(
        query(&mut client, "OtherTopic", "shared", "64", false).code,
        response::QUERY_NOT_FOUND
    );
    let old = client.call_code(
        request::QUERY_MESSAGE,
        &[
            ("topic", "QueryTopic"),
            ("key", "shared"),
            ("maxNum", "64"),
            ("beginTimestamp", "0"),
            ("endTimestamp", "1"),
        ],
    );
    assert_eq!(old.code, response::QUERY_NOT_FOUND);
    // A missing required field is a SYSTEM_ERROR naming it.
    let bad = client.call_code(request::QUERY_MESSAGE, &[("topic", "QueryTopic")]);
    assert_eq!(bad.code, response::SYSTEM_ERROR);
}
