use std::time::{Duration, Instant};

use protocol::code::{request, response};

use crate::common::{ext_i64, props, records, start, Client};

const SUSPEND_SUBSCRIBE_COMMIT: i32 = 1 | 2 | 4;

#[test]
fn pull_status_mapping() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());

    let missing = client.pull("g", "NoSuchTopic", 0, 0, 4, 0, Some("*"));
    assert_eq!(missing.code, response::TOPIC_NOT_EXIST);

    assert_eq!(
        client.send_message("PullTopic", 0, b"a", "").code,
        response::SUCCESS
    );
    let bad_queue = client.pull("g", "PullTopic", 9, 0, 4, 0, Some("*"));
    assert_eq!(bad_queue.code, response::SYSTEM_ERROR, "{bad_queue:?}");

    let no_subscription = client.pull("unknown_group", "PullTopic", 0, 0, 0, 0, None);
    assert_eq!(no_subscription.code, response::SUBSCRIPTION_NOT_EXIST);

    let at_end = client.pull("g", "PullTopic", 0, 1, 4, 0, Some("*"));
    assert_eq!(at_end.code, response::PULL_NOT_FOUND, "{at_end:?}");
    assert_eq!(ext_i64(&at_end, "nextBeginOffset"), 1);

    let past_end = client.pull("g", "PullTopic", 0, 5, 4, 0, Some("*"));
    assert_eq!(past_end.code, response::PULL_OFFSET_MOVED);
    assert_eq!(ext_i64(&past_end, "nextBeginOffset"), 1);

    let empty_queue_at_zero = client.pull("g", "PullTopic", 1, 0, 4, 0, Some("*"));
    assert_eq!(empty_queue_at_zero.code, response::PULL_NOT_FOUND);
    let empty_queue_past_zero = client.pull("g", "PullTopic", 1, 3, 4, 0, Some("*"));
    assert_eq!(empty_queue_past_zero.code, response::PULL_OFFSET_MOVED);

    let sql = client.call({
        let mut command = client.pull_request("g", "PullTopic", 0, 0, 4, 0, Some("a > 1"));
        command.ext_mut().insert("expressionType", "SQL92");
        command
    });
    assert_eq!(sql.code, response::SYSTEM_ERROR);
}

#[test]
fn tag_filter_by_hash_and_exact_tag() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    for tag in ["TagA", "TagB", "TagC", "TagB"] {
        let reply = client.send_message("TagTopic", 0, tag.as_bytes(), &props(&[("TAGS", tag)]));
        assert_eq!(reply.code, response::SUCCESS);
    }
    let pulled = client.pull("g", "TagTopic", 0, 0, 4, 0, Some(" TagA || TagC "));
    assert_eq!(pulled.code, response::SUCCESS);
    let bodies: Vec<Vec<u8>> = records(&pulled.body).into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, vec![b"TagA".to_vec(), b"TagC".to_vec()]);
    assert_eq!(
        ext_i64(&pulled, "nextBeginOffset"),
        4,
        "skipped entries count"
    );

    let none = client.pull("g", "TagTopic", 0, 3, 4, 0, Some("TagA"));
    assert_eq!(none.code, response::PULL_RETRY_IMMEDIATELY);
    assert_eq!(ext_i64(&none, "nextBeginOffset"), 4);
}

#[test]
fn pull_without_subscription_uses_the_heartbeat_subscription() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    client.send_message("HbTopic", 0, b"a", &props(&[("TAGS", "A")]));
    client.send_message("HbTopic", 0, b"b", &props(&[("TAGS", "B")]));
    let heartbeat = client.heartbeat_consumer("c1", "hb_group", "HbTopic", "B");
    assert_eq!(heartbeat.code, response::SUCCESS);
    // Go's push consumer: no SUBSCRIPTION bit, empty subscription.
    let pulled = client.pull("hb_group", "HbTopic", 0, 0, 3, 0, Some(""));
    assert_eq!(pulled.code, response::SUCCESS, "{pulled:?}");
    let got = records(&pulled.body);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"b");
}

#[test]
fn long_poll_wakes_on_arrival_and_does_not_block_the_connection() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut consumer = Client::connect(broker.local_addr());
    let mut producer = Client::connect(broker.local_addr());
    assert_eq!(
        producer.send_message("PollTopic", 0, b"first", "").code,
        response::SUCCESS
    );

    let started = Instant::now();
    let pull = consumer.pull_request(
        "g",
        "PollTopic",
        0,
        1,
        SUSPEND_SUBSCRIBE_COMMIT,
        10_000,
        Some("*"),
    );
    let pull_opaque = consumer.send(pull);
    // A request pipelined behind the suspended pull is answered at once.
    let runtime = consumer.request(
        request::GET_MAX_OFFSET,
        &[("topic", "PollTopic"), ("queueId", "0")],
    );
    let max = consumer.call(runtime);
    assert_eq!(ext_i64(&max, "offset"), 1);
    assert!(started.elapsed() < Duration::from_secs(5));

    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        producer.send_message("PollTopic", 0, b"second", "").code,
        response::SUCCESS
    );
    let woken = consumer.response(pull_opaque);
    assert_eq!(woken.code, response::SUCCESS, "{woken:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the arrival, not the timeout"
    );
    assert_eq!(records(&woken.body)[0].body, b"second");
}

#[test]
fn long_poll_times_out_with_pull_not_found() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    assert_eq!(
        client.send_message("IdleTopic", 0, b"x", "").code,
        response::SUCCESS
    );
    let started = Instant::now();
    let reply = client.pull(
        "g",
        "IdleTopic",
        0,
        1,
        SUSPEND_SUBSCRIBE_COMMIT,
        300,
        Some("*"),
    );
    assert_eq!(reply.code, response::PULL_NOT_FOUND);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn pull_commits_the_piggy_backed_offset() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    client.send_message("CommitTopic", 0, b"x", "");
    let mut pull = client.pull_request("cg", "CommitTopic", 0, 0, 1 | 4, 0, Some("*"));
    pull.ext_mut().insert("commitOffset", "1");
    assert_eq!(client.call(pull).code, response::SUCCESS);
    let query = client.call_code(
        request::QUERY_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "cg"),
            ("topic", "CommitTopic"),
            ("queueId", "0"),
        ],
    );
    assert_eq!(query.code, response::SUCCESS);
    assert_eq!(ext_i64(&query, "offset"), 1);
}

/// The 5.x `DefaultLitePullConsumer` pulls with LITE_PULL_MESSAGE (361), not PULL_MESSAGE; the
/// header below is the one captured from rocketmq-client 5.3.3 (sysFlag 22 = suspend |
/// subscription | lite-pull). It must be served exactly like PULL_MESSAGE.
#[test]
fn lite_pull_message_from_client_5_is_served_like_pull() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    assert_eq!(
        client.send_message("LitePullTopic", 1, b"lite", "").code,
        response::SUCCESS
    );
    let ext = [
        ("queueId", "1"),
        ("commitOffset", "0"),
        ("subscription", "*"),
        ("suspendTimeoutMillis", "20000"),
        ("bname", "broker-a"),
        ("sysFlag", "22"),
        ("expressionType", "TAG"),
        ("topic", "LitePullTopic"),
        ("consumerGroup", "lite_group"),
        ("maxMsgNums", "10"),
        ("queueOffset", "0"),
        ("subVersion", "0"),
        ("maxMsgBytes", "2147483647"),
    ];
    let found = client.call_code(request::LITE_PULL_MESSAGE, &ext);
    assert_eq!(found.code, response::SUCCESS, "{found:?}");
    assert_eq!(ext_i64(&found, "nextBeginOffset"), 1);
    assert_eq!(records(&found.body)[0].body, b"lite");

    // At the end of the queue it long-polls like PULL_MESSAGE and wakes on arrival.
    let mut waiting = client.request(request::LITE_PULL_MESSAGE, &ext);
    waiting.ext_mut().insert("queueOffset", "1");
    let started = Instant::now();
    let opaque = client.send(waiting);
    let mut producer = Client::connect(broker.local_addr());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        producer.send_message("LitePullTopic", 1, b"later", "").code,
        response::SUCCESS
    );
    let woken = client.response(opaque);
    assert_eq!(woken.code, response::SUCCESS, "{woken:?}");
    assert_eq!(records(&woken.body)[0].body, b"later");
    assert!(started.elapsed() < Duration::from_secs(10));
}
