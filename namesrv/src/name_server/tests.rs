use super::*;
use crate::route_table::ConnectionId;
use protocol::body::route::{
    body_crc32, ClusterInfo, DataVersion, KvTable, RegisterBrokerBody, TopicConfig, TopicList,
    TopicRouteData, NAMESPACE_ORDER_TOPIC_CONFIG,
};
use protocol::command::FLAG_ONEWAY;
use protocol::SerializeType;

const CONNECTION: ConnectionId = ConnectionId(7);

fn request(code: i32, fields: &[(&str, &str)]) -> RemotingCommand {
    let mut command = RemotingCommand::request(code, 42, SerializeType::Json);
    for (key, value) in fields {
        command.ext_mut().insert(*key, *value);
    }
    command
}

fn register_request(name: &str, id: i64, address: &str, topics: &[&str]) -> RemotingCommand {
    let mut body = RegisterBrokerBody::default();
    for topic in topics {
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert((*topic).to_owned(), TopicConfig::new(*topic, 4, 6));
    }
    body.topic_config_serialize_wrapper.data_version.counter = 1;
    let bytes = body.to_bytes().unwrap();
    let crc = body_crc32(&bytes).to_string();
    let id = id.to_string();
    request(
        req::REGISTER_BROKER,
        &[
            ("brokerName", name),
            ("brokerAddr", address),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "ha:1"),
            ("brokerId", &id),
            ("bodyCrc32", &crc),
        ],
    )
    .with_body(bytes)
}

fn server() -> NameServer {
    let mut server = NameServer::new(NamesrvConfig::default(), KvConfig::in_memory());
    let master = register_request("broker-a", 0, "a0", &["T1", "TBW102"]);
    assert_eq!(handle(&mut server, &master).code, resp::SUCCESS);
    server
}

fn handle(server: &mut NameServer, request: &RemotingCommand) -> RemotingCommand {
    let response = server.handle(request, CONNECTION, 0).unwrap();
    assert!(response.is_response());
    assert_eq!(response.opaque, request.opaque);
    assert_eq!(response.serialize_type, request.serialize_type);
    response
}

#[test]
fn register_answers_slave_with_its_master() {
    let mut server = server();
    let slave = register_request("broker-a", 1, "a1", &["T1", "TBW102"]);
    let response = handle(&mut server, &slave);
    assert_eq!(response.code, resp::SUCCESS);
    assert_eq!(response.ext("masterAddr"), Some("a0"));
    assert_eq!(response.ext("haServerAddr"), Some("ha:1"));
    assert!(response.body.is_empty());
}

#[test]
fn register_returns_order_topic_kv_table() {
    let mut server = server();
    let put = request(
        req::PUT_KV_CONFIG,
        &[
            ("namespace", NAMESPACE_ORDER_TOPIC_CONFIG),
            ("key", "T1"),
            ("value", "broker-a:4"),
        ],
    );
    assert_eq!(handle(&mut server, &put).code, resp::SUCCESS);
    let response = handle(
        &mut server,
        &register_request("broker-a", 0, "a0", &["T1", "T2"]),
    );
    let table = KvTable::decode(&response.body).unwrap();
    assert_eq!(table.table["T1"], "broker-a:4");
    let route = handle(
        &mut server,
        &request(req::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T1")]),
    );
    let route = TopicRouteData::decode(&route.body).unwrap();
    assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:4"));
}

#[test]
fn register_rejections() {
    let mut server = server();
    let mut bad_crc = register_request("broker-b", 0, "b0", &["X", "Y"]);
    bad_crc.ext_mut().insert("bodyCrc32", "1");
    let response = handle(&mut server, &bad_crc);
    assert_eq!(response.code, resp::SYSTEM_ERROR);
    assert_eq!(response.remark.as_deref(), Some("crc32 not match"));

    let mut bad_body = register_request("broker-b", 0, "b0", &["X", "Y"]).with_body(&b"{nope"[..]);
    bad_body.ext_mut().remove("bodyCrc32");
    let response = handle(&mut server, &bad_body);
    assert_eq!(response.code, resp::SYSTEM_ERROR);
    assert!(response
        .remark
        .unwrap()
        .starts_with("Failed to decode RegisterBrokerBody"));

    let mut compressed_garbage = bad_body.clone();
    compressed_garbage.ext_mut().insert("compressed", "true");
    assert_eq!(
        handle(&mut server, &compressed_garbage).code,
        resp::SYSTEM_ERROR
    );

    let first_single = register_request("broker-b", 0, "b0", &["X"]);
    let response = handle(&mut server, &first_single);
    assert_eq!(response.remark.as_deref(), Some("register broker failed"));

    let mut missing = register_request("broker-b", 0, "b0", &["X", "Y"]);
    missing.ext_mut().remove("haServerAddr");
    let response = handle(&mut server, &missing);
    assert_eq!(response.code, resp::SYSTEM_ERROR);
    assert!(response.remark.unwrap().contains("haServerAddr"));

    let config = NamesrvConfig {
        topics_per_registration_max: 2,
        ..NamesrvConfig::default()
    };
    let mut limited = NameServer::new(config, KvConfig::in_memory());
    let response = handle(
        &mut limited,
        &register_request("b", 0, "b0", &["X", "Y", "Z"]),
    );
    assert_eq!(response.code, resp::INVALID_PARAMETER);
    assert_eq!(
        response.remark.as_deref(),
        Some("register broker b refused: 3 topics exceed topicsPerRegistrationMax 2")
    );
    assert!(server.routes().topic_route("X").is_none());
}

#[test]
fn unknown_topic_and_unknown_code_answers() {
    let mut server = server();
    let response = handle(
        &mut server,
        &request(req::GET_ROUTEINFO_BY_TOPIC, &[("topic", "Nope")]),
    );
    assert_eq!(response.code, resp::TOPIC_NOT_EXIST);
    assert_eq!(
        response.remark.as_deref(),
        Some(
            "No topic route info in name server for the topic: Nope\n\
             See https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
        )
    );
    let response = handle(&mut server, &request(9999, &[]));
    assert_eq!(response.code, resp::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        response.remark.as_deref(),
        Some(" request type 9999 not supported")
    );
}

#[test]
fn oneway_requests_and_stray_responses_get_no_answer() {
    let mut server = server();
    let mut heartbeat = request(
        req::BROKER_HEARTBEAT,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", "a0"),
            ("brokerName", "broker-a"),
        ],
    );
    heartbeat.flag = FLAG_ONEWAY;
    assert!(server.handle(&heartbeat, CONNECTION, 5).is_none());
    let mut unknown_oneway = request(9999, &[]);
    unknown_oneway.flag = FLAG_ONEWAY;
    assert!(server.handle(&unknown_oneway, CONNECTION, 5).is_none());
    let stray = RemotingCommand::response_to(&request(105, &[]), 0);
    assert!(server.handle(&stray, CONNECTION, 5).is_none());
}

#[test]
fn every_request_code_is_answered() {
    let mut server = server();
    let broker = [
        ("brokerName", "broker-a"),
        ("brokerAddr", "a0"),
        ("clusterName", "DefaultCluster"),
        ("brokerId", "0"),
    ];
    let version = DataVersion {
        counter: 1,
        ..DataVersion::default()
    };
    let route_body = TopicRouteData {
        queue_datas: server.routes().topic_route("T1").unwrap().queue_datas,
        ..TopicRouteData::default()
    };
    let kv = [("namespace", "ns"), ("key", "k")];
    let cases: Vec<(RemotingCommand, i32)> = vec![
        (
            request(
                req::PUT_KV_CONFIG,
                &[("namespace", "ns"), ("key", "k"), ("value", "v")],
            ),
            0,
        ),
        (request(req::GET_KV_CONFIG, &kv), 0),
        (
            request(req::GET_KVLIST_BY_NAMESPACE, &[("namespace", "ns")]),
            0,
        ),
        (request(req::DELETE_KV_CONFIG, &kv), 0),
        (request(req::GET_KV_CONFIG, &kv), resp::QUERY_NOT_FOUND),
        (
            request(req::GET_KVLIST_BY_NAMESPACE, &[("namespace", "x")]),
            resp::QUERY_NOT_FOUND,
        ),
        (
            request(req::QUERY_DATA_VERSION, &broker).with_body(version.to_bytes().unwrap()),
            0,
        ),
        (
            request(req::QUERY_DATA_VERSION, &broker),
            resp::SYSTEM_ERROR,
        ),
        (request(req::BROKER_HEARTBEAT, &broker), 0),
        (request(req::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T1")]), 0),
        (request(req::GET_BROKER_CLUSTER_INFO, &[]), 0),
        (request(req::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]), 0),
        (
            request(req::GET_TOPICS_BY_CLUSTER, &[("cluster", "DefaultCluster")]),
            0,
        ),
        (request(req::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[]), 0),
        (request(req::GET_UNIT_TOPIC_LIST, &[]), 0),
        (request(req::GET_HAS_UNIT_SUB_TOPIC_LIST, &[]), 0),
        (request(req::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, &[]), 0),
        (
            request(
                req::WIPE_WRITE_PERM_OF_BROKER,
                &[("brokerName", "broker-a")],
            ),
            0,
        ),
        (
            request(req::ADD_WRITE_PERM_OF_BROKER, &[("brokerName", "broker-a")]),
            0,
        ),
        (
            request(req::REGISTER_TOPIC_IN_NAMESRV, &[("topic", "T9")])
                .with_body(route_body.to_bytes().unwrap()),
            0,
        ),
        (
            request(req::REGISTER_TOPIC_IN_NAMESRV, &[("topic", "T9")]),
            resp::SYSTEM_ERROR,
        ),
        (request(req::DELETE_TOPIC_IN_NAMESRV, &[("topic", "T9")]), 0),
        (request(req::GET_NAMESRV_CONFIG, &[]), 0),
        (request(req::UPDATE_NAMESRV_CONFIG, &[]), 0),
        (request(req::UNREGISTER_BROKER, &broker), 0),
        (
            request(req::GET_ROUTEINFO_BY_TOPIC, &[]),
            resp::SYSTEM_ERROR,
        ),
    ];
    for (request, expected) in cases {
        let response = handle(&mut server, &request);
        assert_eq!(
            response.code, expected,
            "code {}: {:?}",
            request.code, response.remark
        );
    }
    assert!(server.routes().topic_route("T1").is_none());
}

#[test]
fn response_headers_and_bodies() {
    let mut server = server();
    let broker = [
        ("brokerName", "broker-a"),
        ("brokerAddr", "a0"),
        ("clusterName", "DefaultCluster"),
        ("brokerId", "0"),
    ];
    let version = DataVersion {
        counter: 1,
        ..DataVersion::default()
    };
    let response = handle(
        &mut server,
        &request(req::QUERY_DATA_VERSION, &broker).with_body(version.to_bytes().unwrap()),
    );
    assert_eq!(response.ext("changed"), Some("false"));
    assert_eq!(DataVersion::decode(&response.body).unwrap(), version);

    let wipe = handle(
        &mut server,
        &request(
            req::WIPE_WRITE_PERM_OF_BROKER,
            &[("brokerName", "broker-a")],
        ),
    );
    assert_eq!(wipe.ext("wipeTopicCount"), Some("2"));
    let add = handle(
        &mut server,
        &request(req::ADD_WRITE_PERM_OF_BROKER, &[("brokerName", "broker-a")]),
    );
    assert_eq!(add.ext("addTopicCount"), Some("2"));

    let cluster = handle(&mut server, &request(req::GET_BROKER_CLUSTER_INFO, &[]));
    let cluster = ClusterInfo::decode(&cluster.body).unwrap();
    assert!(cluster.cluster_addr_table["DefaultCluster"].contains("broker-a"));
    let topics = handle(
        &mut server,
        &request(req::GET_TOPICS_BY_CLUSTER, &[("cluster", "DefaultCluster")]),
    );
    let topics = TopicList::decode(&topics.body).unwrap();
    assert_eq!(topics.topic_list.len(), 2);
}

#[test]
fn namesrv_config_get_and_update() {
    let mut server = server();
    let update = |text: &str| request(req::UPDATE_NAMESRV_CONFIG, &[]).with_body(text.to_owned());
    let response = handle(&mut server, &update("kvConfigPath=/tmp/x"));
    assert_eq!(response.code, resp::NO_PERMISSION);
    assert_eq!(
        response.remark.as_deref(),
        Some("Can not update config in black list.")
    );
    let response = handle(&mut server, &update("enableAllTopicList=maybe"));
    assert_eq!(response.code, resp::INVALID_PARAMETER);
    let response = handle(
        &mut server,
        &update("enableAllTopicList=false\nlistenPort=1\nwhat=1"),
    );
    assert_eq!(response.code, resp::SUCCESS);
    assert!(!server.config().enable_all_topic_list);
    assert_eq!(server.config().listen_port, 9876);
    let response = handle(
        &mut server,
        &request(req::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]),
    );
    assert_eq!(response.code, resp::SYSTEM_ERROR);
    assert_eq!(response.remark.as_deref(), Some("disable"));
    let config = handle(&mut server, &request(req::GET_NAMESRV_CONFIG, &[]));
    let text = String::from_utf8(config.body.to_vec()).unwrap();
    assert!(text.contains("enableAllTopicList=false\n"));
    assert!(text.contains("listenPort=9876\n"));
}
