use super::*;
use crate::WireError;
use bytes::BytesMut;

const GOLDEN_ROUTE: &str = concat!(
    r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.5:10911","1":"10.0.0.6:10911"},"#,
    r#""brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"#,
    r#""filterServerTable":{},"#,
    r#""queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#
);

fn golden_route() -> TopicRouteData {
    TopicRouteData {
        broker_datas: vec![BrokerData {
            broker_addrs: [
                (0, "10.0.0.5:10911".to_owned()),
                (1, "10.0.0.6:10911".to_owned()),
            ]
            .into_iter()
            .collect(),
            broker_name: "broker-a".to_owned(),
            cluster: "DefaultCluster".to_owned(),
            enable_acting_master: false,
            zone_name: None,
        }],
        filter_server_table: BTreeMap::new(),
        order_topic_conf: None,
        queue_datas: vec![QueueData {
            broker_name: "broker-a".to_owned(),
            perm: 6,
            read_queue_nums: 8,
            topic_sys_flag: 0,
            write_queue_nums: 8,
        }],
        topic_queue_mapping_by_broker: None,
    }
}

#[test]
fn route_golden_bytes() {
    let encoded = golden_route().to_bytes().unwrap();
    assert_eq!(std::str::from_utf8(&encoded).unwrap(), GOLDEN_ROUTE);
    assert_eq!(
        TopicRouteData::decode(GOLDEN_ROUTE.as_bytes()).unwrap(),
        golden_route()
    );
}

#[test]
fn route_accepts_fastjson_unquoted_keys_and_whitespace() {
    let fastjson = concat!(
        "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"10.0.0.5:10911\", 1 : \"10.0.0.6:10911\"},",
        "\"brokerName\":\"broker-a\",\"cluster\":\"DefaultCluster\"}],",
        "\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":\"6\",\"readQueueNums\":8,",
        "\"topicSysFlag\":null,\"writeQueueNums\":8,\"extra\":[1,2]}],",
        "\"filterServerTable\":{\"10.0.0.5:10911\":null},\"orderTopicConf\":null}\n"
    );
    let route = TopicRouteData::decode(fastjson.as_bytes()).unwrap();
    let mut expected = golden_route();
    expected
        .filter_server_table
        .insert("10.0.0.5:10911".to_owned(), Vec::new());
    assert_eq!(route, expected);
}

#[test]
fn quoting_leaves_strings_arrays_and_quoted_keys_alone() {
    let input = br#"{"a":"{0:1}","b":[1,2,{3:4}],"c\"":{-7 :"x"}}"#;
    let quoted = quote_numeric_keys(input);
    assert_eq!(
        std::str::from_utf8(&quoted).unwrap(),
        r#"{"a":"{0:1}","b":[1,2,{"3":4}],"c\"":{"-7" :"x"}}"#
    );
    let plain = br#"{"a":[1,2],"b":{"0":1}}"#;
    assert!(matches!(
        quote_numeric_keys(plain),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn invalid_route_bodies_are_errors() {
    for bad in [
        &b""[..],
        b"{",
        b"{\"queueDatas\":{}}",
        b"{\"queueDatas\":[{\"perm\":\"x\"}]}",
        b"{\"queueDatas\":[{\"perm\":99999999999}]}",
        b"{\"brokerDatas\":[{\"brokerAddrs\":{\"x\":\"a\"}}]}",
        b"{0:",
        b"\xff\xfe",
    ] {
        assert!(
            matches!(
                TopicRouteData::decode(bad),
                Err(WireError::InvalidJson { .. })
            ),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn cluster_info_topic_list_kv_table_data_version_round_trip() {
    let mut cluster = ClusterInfo::default();
    cluster.broker_addr_table.insert(
        "broker-a".to_owned(),
        golden_route().broker_datas[0].clone(),
    );
    cluster
        .cluster_addr_table
        .insert("DefaultCluster".to_owned(), ["broker-a".to_owned()].into());
    let text = cluster.to_bytes().unwrap();
    assert_eq!(
        std::str::from_utf8(&text).unwrap(),
        concat!(
            r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{"0":"10.0.0.5:10911","1":"10.0.0.6:10911"},"#,
            r#""brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}},"#,
            r#""clusterAddrTable":{"DefaultCluster":["broker-a"]}}"#
        )
    );
    assert_eq!(ClusterInfo::decode(&text).unwrap(), cluster);

    let list = TopicList {
        broker_addr: None,
        topic_list: ["b".to_owned(), "a".to_owned()].into(),
    };
    assert_eq!(&list.to_bytes().unwrap()[..], br#"{"topicList":["a","b"]}"#);
    assert_eq!(TopicList::decode(&list.to_bytes().unwrap()).unwrap(), list);

    let table = KvTable {
        table: [("k".to_owned(), "v".to_owned())].into(),
    };
    assert_eq!(&table.to_bytes().unwrap()[..], br#"{"table":{"k":"v"}}"#);
    assert_eq!(
        KvTable::decode(br#"{"table":null}"#).unwrap(),
        KvTable::default()
    );

    let version = DataVersion {
        counter: 3,
        state_version: 0,
        timestamp: 1_700_000_000_000,
    };
    assert_eq!(
        &version.to_bytes().unwrap()[..],
        br#"{"counter":3,"stateVersion":0,"timestamp":1700000000000}"#
    );
    assert_eq!(
        DataVersion::decode(br#"{"timestamp":"1700000000000","counter":3}"#).unwrap(),
        version
    );
}

fn sample_body(topic_count: usize) -> RegisterBrokerBody {
    let mut body = RegisterBrokerBody::default();
    let wrapper = &mut body.topic_config_serialize_wrapper;
    wrapper.data_version = DataVersion {
        counter: 7,
        state_version: 1,
        timestamp: 1_700_000_000_123,
    };
    for index in 0..topic_count {
        let mut config = TopicConfig::new(format!("topic-{index:06}"), 8, perm::READ | perm::WRITE);
        if index % 2 == 0 {
            config
                .attributes
                .insert("+message.type".to_owned(), "NORMAL".to_owned());
        }
        wrapper
            .topic_config_table
            .insert(config.topic_name.clone(), config);
    }
    body.filter_server_list = vec!["10.0.0.9:1".to_owned()];
    body
}

#[test]
fn topic_config_json_keys_and_text_form() {
    let config = TopicConfig::new("T", 8, 6);
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(
        json,
        concat!(
            r#"{"attributes":{},"order":false,"perm":6,"readQueueNums":8,"#,
            r#""topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":8}"#
        )
    );
    let mut text = String::new();
    config.encode_text(&mut text);
    assert_eq!(text, "T 8 8 6 SINGLE_TAG {}");
    assert_eq!(TopicConfig::decode_text(&text).unwrap(), config);
    // Java writes a trailing space when attributes is null; an attribute map that does
    // not parse is ignored, as in Java.
    assert_eq!(
        TopicConfig::decode_text("T 8 8 6 SINGLE_TAG ").unwrap(),
        config
    );
    assert_eq!(
        TopicConfig::decode_text("T 8 8 6 SINGLE_TAG {bad").unwrap(),
        config
    );
    for bad in [
        "",
        "T 8 8 6",
        "T x 8 6 SINGLE_TAG",
        "T 8 8 6 NO_TAG",
        "T  8 8 6 SINGLE_TAG",
    ] {
        assert!(TopicConfig::decode_text(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn register_body_json_round_trip() {
    let body = sample_body(100);
    let json = body.to_bytes().unwrap();
    assert!(json.starts_with(
        br#"{"filterServerList":["10.0.0.9:1"],"topicConfigSerializeWrapper":{"dataVersion":"#
    ));
    assert_eq!(
        RegisterBrokerBody::decode_body(&json, false, 0).unwrap(),
        body
    );
    // The old wrapper without mapping fields also parses.
    let old = br#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T"}},"dataVersion":{"counter":1}}}"#;
    let parsed = RegisterBrokerBody::decode(old).unwrap();
    let table = &parsed.topic_config_serialize_wrapper.topic_config_table;
    assert_eq!(table["T"].read_queue_nums, 16);
    assert_eq!(table["T"].perm, 6);
}

#[test]
fn register_body_compressed_round_trip_100k_topics() {
    let body = sample_body(100_000);
    let mut compressed = BytesMut::new();
    body.encode_compressed(&mut compressed).unwrap();
    assert!(
        compressed.len() < 4 * 1024 * 1024,
        "{} bytes",
        compressed.len()
    );
    let decoded =
        RegisterBrokerBody::decode_body(&compressed, true, INFLATED_BYTES_MAX_DEFAULT).unwrap();
    assert_eq!(decoded, body);
}

#[test]
fn compressed_body_errors_never_panic() {
    let body = sample_body(50);
    let mut compressed = BytesMut::new();
    body.encode_compressed(&mut compressed).unwrap();
    // Every truncation of a valid stream is an error, not a panic.
    for cut in 0..compressed.len() {
        assert!(RegisterBrokerBody::decode_compressed(&compressed[..cut], 1 << 20).is_err());
    }
    assert!(RegisterBrokerBody::decode_compressed(b"not zlib", 1 << 20).is_err());
    // The inflated-size cap.
    assert!(matches!(
        RegisterBrokerBody::decode_compressed(&compressed, 100),
        Err(WireError::TooLong { .. })
    ));
    // Hand-made streams: negative length, huge count.
    for plain in [
        vec![0xFF, 0xFF, 0xFF, 0xFF],
        [
            &2i32.to_be_bytes()[..],
            b"{}",
            &0x7FFF_FFFFi32.to_be_bytes(),
        ]
        .concat(),
    ] {
        let mut out = Vec::new();
        let mut encoder = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, &plain).unwrap();
        encoder.finish().unwrap();
        assert!(RegisterBrokerBody::decode_compressed(&out, 1 << 20).is_err());
    }
}

#[test]
fn body_crc32_matches_java() {
    // CRC32("123456789") = 0xCBF43926; Java's UtilAll.crc32 masks the sign bit.
    assert_eq!(body_crc32(b"123456789"), 0x4BF4_3926);
    assert_eq!(body_crc32(b""), 0);
}

#[test]
fn perm_letters() {
    assert_eq!(perm::to_letters(6), "RW-");
    assert_eq!(perm::to_letters(7), "RWX");
    assert_eq!(perm::to_letters(4), "R--");
}
