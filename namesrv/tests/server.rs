//! In-process name server on port 0, spoken to over real TCP with raw frames.

mod common;

use std::time::Duration;

use common::{eventually, register_request, request, route_request, topic_body, Broker, Client};
use namesrv::{NamesrvConfig, NamesrvHandle};
use protocol::body::route::{body_crc32, ClusterInfo, JsonBody, TopicList, TopicRouteData};
use protocol::code::{request as req, response as resp};
use protocol::command::FLAG_ONEWAY;
use protocol::SerializeType;

fn start(config: NamesrvConfig) -> NamesrvHandle {
    namesrv::spawn(NamesrvConfig {
        listen_port: 0,
        ..config
    })
    .expect("name server starts")
}

const MASTER_A: Broker<'static> = Broker {
    cluster: "cluster-1",
    name: "broker-a",
    id: 0,
    address: "10.0.0.5:10911",
    heartbeat_timeout_ms: None,
    compressed: false,
};

const SLAVE_A: Broker<'static> = Broker {
    id: 1,
    address: "10.0.0.6:10911",
    ..MASTER_A
};

const MASTER_B: Broker<'static> = Broker {
    cluster: "cluster-2",
    name: "broker-b",
    id: 0,
    address: "10.0.1.5:10911",
    heartbeat_timeout_ms: None,
    compressed: true,
};

fn register(
    client: &mut Client,
    broker: &Broker<'_>,
    topics: &[&str],
) -> protocol::RemotingCommand {
    let response = client.call(register_request(broker, &topic_body(topics)));
    assert_eq!(response.code, resp::SUCCESS, "{:?}", response.remark);
    response
}

fn route(client: &mut Client, topic: &str) -> Option<TopicRouteData> {
    let response = client.call(route_request(topic, SerializeType::Json));
    match response.code {
        resp::SUCCESS => Some(TopicRouteData::decode(&response.body).unwrap()),
        resp::TOPIC_NOT_EXIST => None,
        other => panic!("unexpected code {other}: {:?}", response.remark),
    }
}

#[test]
fn master_slave_and_two_clusters_route_in_both_header_encodings() {
    let server = start(NamesrvConfig::default());
    let mut master_a = Client::connect(server.local_addr());
    let mut slave_a = Client::connect(server.local_addr());
    let mut master_b = Client::connect(server.local_addr());
    register(&mut master_a, &MASTER_A, &["T1", "TBW102"]);
    let slave = register(&mut slave_a, &SLAVE_A, &["T1", "TBW102"]);
    assert_eq!(slave.ext("masterAddr"), Some(MASTER_A.address));
    assert_eq!(slave.ext("haServerAddr"), Some("10.0.0.5:10911-ha"));
    register(&mut master_b, &MASTER_B, &["T1", "T2", "TBW102"]);

    let mut client = Client::connect(server.local_addr());
    let json = client.call(route_request("T1", SerializeType::Json));
    let binary = client.call(route_request("T1", SerializeType::RocketMq));
    assert_eq!(json.code, resp::SUCCESS);
    assert_eq!(binary.code, resp::SUCCESS);
    assert_eq!(json.body, binary.body);
    let text = std::str::from_utf8(&json.body).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{"0":"10.0.0.5:10911","1":"10.0.0.6:10911"}"#),
        "{text}"
    );
    let route = TopicRouteData::decode(&json.body).unwrap();
    let names: Vec<_> = route
        .broker_datas
        .iter()
        .map(|b| b.broker_name.as_str())
        .collect();
    assert_eq!(names, ["broker-a", "broker-b"]);
    assert_eq!(route.queue_datas.len(), 2);

    let tbw = route_request("TBW102", SerializeType::RocketMq);
    assert_eq!(client.call(tbw).code, resp::SUCCESS);
    let missing = client.call(route_request("T-missing", SerializeType::RocketMq));
    assert_eq!(missing.code, resp::TOPIC_NOT_EXIST);
    assert!(missing.remark.unwrap().contains("for the topic: T-missing"));

    let cluster = client.call(request(
        req::GET_BROKER_CLUSTER_INFO,
        &[],
        SerializeType::RocketMq,
    ));
    let cluster = ClusterInfo::decode(&cluster.body).unwrap();
    assert_eq!(cluster.cluster_addr_table.len(), 2);
    assert_eq!(cluster.broker_addr_table["broker-a"].broker_addrs.len(), 2);
    let unknown = client.call(request(4242, &[], SerializeType::RocketMq));
    assert_eq!(unknown.code, resp::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        unknown.remark.as_deref(),
        Some(" request type 4242 not supported")
    );
    server.shutdown().unwrap();
}

#[test]
fn broker_expires_by_time_and_its_connection_is_closed() {
    let server = start(NamesrvConfig {
        scan_not_active_broker_interval_ms: 20,
        broker_channel_expired_time_ms: 400,
        ..NamesrvConfig::default()
    });
    let mut short = Client::connect(server.local_addr());
    let mut default_expiry = Client::connect(server.local_addr());
    let mut long = Client::connect(server.local_addr());
    register(
        &mut short,
        &Broker {
            heartbeat_timeout_ms: Some(100),
            ..MASTER_B
        },
        &["T-short", "TBW102"],
    );
    register(&mut default_expiry, &SLAVE_A, &["T1", "TBW102"]);
    register(
        &mut long,
        &Broker {
            heartbeat_timeout_ms: Some(60_000),
            ..MASTER_A
        },
        &["T1", "TBW102"],
    );
    let mut client = Client::connect(server.local_addr());
    assert!(route(&mut client, "T-short").is_some());
    assert!(eventually(Duration::from_secs(5), || route(
        &mut client,
        "T-short"
    )
    .is_none()));
    assert!(short.is_closed_by_server());
    // The slave expires after the config default (400 ms); the master stays.
    assert!(eventually(Duration::from_secs(5), || {
        route(&mut client, "T1").is_some_and(|r| r.broker_datas[0].broker_addrs.len() == 1)
    }));
    assert!(default_expiry.is_closed_by_server());
    let t1 = route(&mut client, "T1").unwrap();
    assert_eq!(t1.broker_datas[0].broker_addrs[&0], MASTER_A.address);
}

#[test]
fn broker_is_removed_when_its_connection_closes() {
    let server = start(NamesrvConfig::default());
    let mut client = Client::connect(server.local_addr());
    {
        let mut broker = Client::connect(server.local_addr());
        register(&mut broker, &MASTER_B, &["T-gone", "TBW102"]);
        assert!(route(&mut client, "T-gone").is_some());
    }
    assert!(eventually(Duration::from_secs(5), || route(
        &mut client,
        "T-gone"
    )
    .is_none()));
    let cluster = client.call(request(
        req::GET_BROKER_CLUSTER_INFO,
        &[],
        SerializeType::Json,
    ));
    assert_eq!(
        ClusterInfo::decode(&cluster.body).unwrap(),
        ClusterInfo::default()
    );
}

#[test]
fn malformed_frames_close_only_their_connection() {
    let server = start(NamesrvConfig {
        frame_bytes_max: 64 * 1024,
        ..NamesrvConfig::default()
    });
    let mut healthy = Client::connect(server.local_addr());
    let mut broker = Client::connect(server.local_addr());
    register(&mut broker, &MASTER_A, &["T1", "TBW102"]);
    let garbage: [&[u8]; 6] = [
        &[0x7F, 0xFF, 0xFF, 0xFF],                   // length past the frame max
        &[0, 0, 0, 2],                               // shorter than the header word
        &[0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 0],       // header length past the frame
        &[0, 0, 0, 6, 7, 0, 0, 2, b'{', b'}'],       // unknown serialize type
        &[0, 0, 0, 7, 0, 0, 0, 3, b'{', b'x', b'}'], // JSON header that does not parse
        &[0, 0, 0, 7, 1, 0, 0, 3, 0, 1, 2],          // truncated binary header
    ];
    for bytes in garbage {
        let mut bad = Client::connect(server.local_addr());
        bad.send_raw(bytes);
        assert!(bad.is_closed_by_server(), "{bytes:?}");
        assert!(route(&mut healthy, "T1").is_some());
    }
    let mut big = Client::connect(server.local_addr());
    let mut oversized = route_request("T1", SerializeType::Json).with_body(vec![b'x'; 100 * 1024]);
    big.send(&mut oversized);
    assert!(big.is_closed_by_server());

    // A malformed body is answered and the connection stays usable.
    let mut bad_body =
        register_request(&MASTER_A, &topic_body(&["T1", "T2"])).with_body(&b"{oops"[..]);
    bad_body.ext_mut().remove("bodyCrc32");
    let response = broker.call(bad_body);
    assert_eq!(response.code, resp::SYSTEM_ERROR);
    let mut bad_crc = register_request(&MASTER_A, &topic_body(&["T1", "T2"]));
    bad_crc.ext_mut().insert("bodyCrc32", "12345");
    assert_eq!(
        broker.call(bad_crc).remark.as_deref(),
        Some("crc32 not match")
    );
    let mut missing = register_request(&MASTER_A, &topic_body(&["T1", "T2"]));
    missing.ext_mut().remove("brokerName");
    assert_eq!(broker.call(missing).code, resp::SYSTEM_ERROR);
    assert!(route(&mut broker, "T1").is_some());
    assert!(route(&mut healthy, "T1").is_some());
}

#[test]
fn pipelined_requests_and_oneway_requests() {
    let server = start(NamesrvConfig::default());
    let mut broker = Client::connect(server.local_addr());
    register(&mut broker, &MASTER_A, &["T1", "TBW102"]);
    let mut heartbeat = request(
        req::BROKER_HEARTBEAT,
        &[
            ("clusterName", MASTER_A.cluster),
            ("brokerAddr", MASTER_A.address),
            ("brokerName", MASTER_A.name),
        ],
        SerializeType::Json,
    );
    heartbeat.flag = FLAG_ONEWAY;
    let mut bytes = bytes::BytesMut::new();
    heartbeat.opaque = 100;
    heartbeat.encode(&mut bytes).unwrap();
    for opaque in 101..104 {
        let mut query = route_request("T1", SerializeType::RocketMq);
        query.opaque = opaque;
        query.encode(&mut bytes).unwrap();
    }
    broker.send_raw(&bytes);
    for opaque in 101..104 {
        let response = broker.read_response().unwrap();
        assert_eq!(
            response.opaque, opaque,
            "the oneway heartbeat got no answer"
        );
        assert_eq!(response.code, resp::SUCCESS);
    }
}

#[test]
fn connections_beyond_the_limit_are_closed() {
    let server = start(NamesrvConfig {
        connections_max: 2,
        ..NamesrvConfig::default()
    });
    let mut first = Client::connect(server.local_addr());
    let mut second = Client::connect(server.local_addr());
    assert!(route(&mut first, "T").is_none());
    assert!(route(&mut second, "T").is_none());
    let mut third = Client::connect(server.local_addr());
    assert!(third.is_closed_by_server());
    drop(first);
    assert!(eventually(Duration::from_secs(5), || {
        let mut again = Client::connect(server.local_addr());
        let mut query = route_request("T", SerializeType::Json);
        again.send(&mut query);
        again.read_response().is_some()
    }));
}

/// The JSON form written by hand (as a Java broker would send it), so the test measures
/// the server rather than the encoder.
fn register_json_100k(topics: &[String]) -> bytes::Bytes {
    let mut json = String::with_capacity(topics.len() * 170);
    json.push_str(r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":"#);
    json.push_str(
        r#"{"counter":1,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"#,
    );
    for (index, topic) in topics.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            concat!(
                r#""{0}":{{"attributes":{{}},"order":false,"perm":6,"readQueueNums":8,"#,
                r#""topicFilterType":"SINGLE_TAG","topicName":"{0}","topicSysFlag":0,"writeQueueNums":8}}"#
            ),
            topic
        ));
    }
    json.push_str("}}}");
    bytes::Bytes::from(json)
}

#[test]
fn registration_of_100k_topics_round_trips_json_and_compressed() {
    let server = start(NamesrvConfig::default());
    let topics: Vec<String> = (0..100_000).map(|index| format!("t{index:06}")).collect();
    let json_body = register_json_100k(&topics);
    // About 15.8 MB: just under Java's 16 MiB frame limit.
    assert!(json_body.len() < protocol::frame::FRAME_BYTES_MAX_DEFAULT - 4096);
    let mut json = register_request(&MASTER_A, &topic_body::<&str>(&[]));
    json.ext_mut()
        .insert("bodyCrc32", body_crc32(&json_body).to_string());
    let mut broker_a = Client::connect(server.local_addr());
    assert_eq!(broker_a.call(json.with_body(json_body)).code, resp::SUCCESS);

    let compressed = register_request(&MASTER_B, &topic_body(&topics));
    assert!(compressed.body.len() < 2 * 1024 * 1024);
    let mut broker_b = Client::connect(server.local_addr());
    assert_eq!(broker_b.call(compressed).code, resp::SUCCESS);

    let mut client = Client::connect(server.local_addr());
    for topic in ["t000000", "t099999"] {
        let route = route(&mut client, topic).unwrap();
        assert_eq!(route.broker_datas.len(), 2);
        assert_eq!(route.queue_datas.len(), 2);
        assert_eq!(route.queue_datas[0].write_queue_nums, 8);
    }
    let list = client.call(request(
        req::GET_TOPICS_BY_CLUSTER,
        &[("cluster", MASTER_B.cluster)],
        SerializeType::Json,
    ));
    let list = TopicList::decode(&list.body).unwrap();
    assert_eq!(list.topic_list.len(), 100_000);
}

#[test]
fn too_many_topics_are_refused_with_a_clear_error() {
    let server = start(NamesrvConfig {
        topics_per_registration_max: 10,
        ..NamesrvConfig::default()
    });
    let topics: Vec<String> = (0..11).map(|index| format!("t{index}")).collect();
    let mut broker = Client::connect(server.local_addr());
    let response = broker.call(register_request(&MASTER_A, &topic_body(&topics)));
    assert_eq!(response.code, resp::INVALID_PARAMETER);
    assert_eq!(
        response.remark.as_deref(),
        Some("register broker broker-a refused: 11 topics exceed topicsPerRegistrationMax 10")
    );
}

#[test]
fn shutdown_closes_connections_and_frees_the_port() {
    let server = start(NamesrvConfig::default());
    let address = server.local_addr();
    let mut client = Client::connect(address);
    assert!(route(&mut client, "T").is_none());
    server.shutdown().unwrap();
    assert!(client.is_closed_by_server());
    assert!(std::net::TcpStream::connect(address).is_err());
}
