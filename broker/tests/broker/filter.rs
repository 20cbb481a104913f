//! SQL92 property filters, the tag-hash collision re-check and broadcasting pulls.

use broker::BrokerConfig;
use protocol::code::{request, response};

use crate::common::{ext_i64, props, records, start, start_with, Client};

fn sql_pull(
    client: &mut Client,
    topic: &str,
    offset: i64,
    expression: &str,
) -> protocol::RemotingCommand {
    let mut command = client.pull_request("sqlg", topic, 0, offset, 4, 0, Some(expression));
    command.ext_mut().insert("expressionType", "SQL92");
    client.call(command)
}

fn bodies(command: &protocol::RemotingCommand) -> Vec<String> {
    records(&command.body)
        .into_iter()
        .map(|record| String::from_utf8(record.body).expect("utf8"))
        .collect()
}

#[test]
fn sql92_filter_selects_by_properties() {
    let dir = crate::common::tempdir();
    let broker = start_with(BrokerConfig {
        enable_property_filter: true,
        ..BrokerConfig::for_tests(dir.path())
    });
    let mut client = Client::connect(broker.local_addr());
    let messages = [
        ("m0", vec![("a", "1"), ("region", "hz")]),
        ("m1", vec![("a", "5"), ("region", "sh")]),
        ("m2", vec![("a", "9")]),
        ("m3", vec![("a", "x"), ("region", "hz")]),
    ];
    for (body, properties) in &messages {
        let sent = client.send_message("SqlTopic", 0, body.as_bytes(), &props(properties));
        assert_eq!(sent.code, response::SUCCESS);
    }
    let cases: [(&str, &[&str]); 8] = [
        ("a > 1", &["m1", "m2"]),
        ("a BETWEEN 1 AND 5", &["m0", "m1"]),
        ("region IN ('hz')", &["m0", "m3"]),
        ("region IS NULL", &["m2"]),
        ("region IS NOT NULL AND NOT (region = 'sh')", &["m0", "m3"]),
        ("a = 9 OR region = 'sh'", &["m1", "m2"]),
        ("TRUE", &["m0", "m1", "m2", "m3"]),
        ("FALSE", &[]),
    ];
    for (expression, expected) in cases {
        let pulled = sql_pull(&mut client, "SqlTopic", 0, expression);
        if expected.is_empty() {
            assert_eq!(
                pulled.code,
                response::PULL_RETRY_IMMEDIATELY,
                "{expression}"
            );
        } else {
            assert_eq!(pulled.code, response::SUCCESS, "{expression}: {pulled:?}");
            assert_eq!(bodies(&pulled), expected, "{expression}");
        }
        // Filtered-out entries still advance the next offset.
        assert_eq!(ext_i64(&pulled, "nextBeginOffset"), 4, "{expression}");
    }
    let bad = sql_pull(&mut client, "SqlTopic", 0, "a >");
    assert_eq!(bad.code, response::SUBSCRIPTION_PARSE_FAILED, "{bad:?}");
    let bad = sql_pull(&mut client, "SqlTopic", 0, "a = 'open");
    assert_eq!(bad.code, response::SUBSCRIPTION_PARSE_FAILED);
}

#[test]
fn sql92_refused_when_property_filter_disabled() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    assert_eq!(
        client.send_message("SqlOff", 0, b"x", "").code,
        response::SUCCESS
    );
    for expression in ["a > 1", "a >"] {
        let refused = sql_pull(&mut client, "SqlOff", 0, expression);
        assert_eq!(refused.code, response::SYSTEM_ERROR, "{expression}");
        assert!(refused.remark.as_deref().unwrap_or("").contains("SQL92"));
    }
}

#[test]
fn tag_hash_collision_is_rechecked() {
    // "Aa" and "BB" have the same Java hashCode (2112).
    assert_eq!(
        protocol::message::java_string_hash("Aa"),
        protocol::message::java_string_hash("BB")
    );
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    for tag in ["Aa", "BB", "Aa", "C"] {
        let sent = client.send_message("CollideTopic", 0, tag.as_bytes(), &props(&[("TAGS", tag)]));
        assert_eq!(sent.code, response::SUCCESS);
    }
    let pulled = client.pull("g", "CollideTopic", 0, 0, 4, 0, Some("BB"));
    assert_eq!(pulled.code, response::SUCCESS);
    assert_eq!(bodies(&pulled), ["BB"]);
    assert_eq!(ext_i64(&pulled, "nextBeginOffset"), 4);
    let pulled = client.pull("g", "CollideTopic", 0, 0, 4, 0, Some("Aa"));
    assert_eq!(bodies(&pulled), ["Aa", "Aa"]);
}

#[test]
fn broadcasting_consumers_each_get_everything() {
    let dir = crate::common::tempdir();
    let broker = start(dir.path());
    let mut producer = Client::connect(broker.local_addr());
    for body in ["b0", "b1", "b2"] {
        assert_eq!(
            producer
                .send_message("CastTopic", 0, body.as_bytes(), "")
                .code,
            response::SUCCESS
        );
    }
    let mut first = Client::connect(broker.local_addr());
    let mut second = Client::connect(broker.local_addr());
    for (client, id) in [(&mut first, "c1"), (&mut second, "c2")] {
        let body = format!(
            r#"{{"clientID":"{id}","consumerDataSet":[{{"groupName":"castg","consumeType":"CONSUME_PASSIVELY","messageModel":"BROADCASTING","consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{{"topic":"CastTopic","subString":"*","subVersion":1,"expressionType":"TAG"}}],"unitMode":false}}],"producerDataSet":[]}}"#
        );
        let heartbeat = client
            .request(request::HEART_BEAT, &[])
            .with_body(body.into_bytes());
        assert_eq!(client.call(heartbeat).code, response::SUCCESS);
    }
    // Offsets are client-side: both pull from 0 without the subscription flag and without
    // committing, and both see every message.
    for client in [&mut first, &mut second] {
        let pulled = client.pull("castg", "CastTopic", 0, 0, 0, 0, None);
        assert_eq!(pulled.code, response::SUCCESS, "{pulled:?}");
        assert_eq!(bodies(&pulled), ["b0", "b1", "b2"]);
    }
    // Pulling again from 0 still gives everything: nothing was committed for the group.
    let again = first.pull("castg", "CastTopic", 0, 0, 0, 0, None);
    assert_eq!(bodies(&again), ["b0", "b1", "b2"]);
}
