use std::time::Duration;

use protocol::code::{request, response};

use crate::common::{ext_i64, records, start, Client};

#[test]
fn restart_keeps_offsets_topics_and_messages() {
    let dir = crate::common::tempdir();
    {
        let broker = start(dir.path());
        let mut client = Client::connect(broker.local_addr());
        for index in 0..5 {
            let body = format!("m{index}");
            assert_eq!(
                client
                    .send_message("DurableTopic", 0, body.as_bytes(), "")
                    .code,
                response::SUCCESS
            );
        }
        let update = [
            ("consumerGroup", "dg"),
            ("topic", "DurableTopic"),
            ("queueId", "0"),
            ("commitOffset", "3"),
        ];
        assert_eq!(
            client
                .call_code(request::UPDATE_CONSUMER_OFFSET, &update)
                .code,
            response::SUCCESS
        );
        broker.shutdown().expect("clean shutdown");
    }
    let broker = start(dir.path());
    let mut client = Client::connect(broker.local_addr());
    let query = client.call_code(
        request::QUERY_CONSUMER_OFFSET,
        &[
            ("consumerGroup", "dg"),
            ("topic", "DurableTopic"),
            ("queueId", "0"),
            ("setZeroIfNotFound", "false"),
        ],
    );
    assert_eq!(query.code, response::SUCCESS, "{query:?}");
    assert_eq!(ext_i64(&query, "offset"), 3);
    let pulled = client.pull("dg", "DurableTopic", 0, 0, 4, 0, Some("*"));
    assert_ne!(pulled.code, response::TOPIC_NOT_EXIST, "the topic survives");
    if std::env::var_os("BROKER_STORE_IS_MEMORY").is_none() {
        assert_eq!(pulled.code, response::SUCCESS, "{pulled:?}");
        assert_eq!(records(&pulled.body).len(), 5);
    }
    std::thread::sleep(Duration::from_millis(1));
}

#[test]
fn a_store_refuses_another_shard_count() {
    let dir = crate::common::tempdir();
    drop(start(dir.path()));
    let mut config = broker::BrokerConfig::for_tests(dir.path());
    config.shards = 3;
    let error = broker::spawn(config).err().expect("refused");
    assert!(error.to_string().contains("--shards 2"), "{error}");
}
