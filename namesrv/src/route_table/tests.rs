use super::*;
use protocol::body::route::{
    topic_sys_flag, ClusterInfo, TopicConfig, TopicList, AUTO_CREATE_TOPIC_KEY_TOPIC,
};

const EXPIRY_MS: u64 = 120_000;

fn options() -> RouteTableOptions {
    RouteTableOptions {
        broker_expiry_ms_default: EXPIRY_MS,
        delete_topic_with_broker_registration: false,
        support_acting_master: false,
    }
}

fn topics(names: &[&str], version: i64) -> TopicConfigAndMappingSerializeWrapper {
    let mut wrapper = TopicConfigAndMappingSerializeWrapper::default();
    wrapper.data_version.counter = version;
    for name in names {
        let config = TopicConfig::new(*name, 8, perm::READ | perm::WRITE);
        wrapper
            .topic_config_table
            .insert((*name).to_owned(), config);
    }
    wrapper
}

fn registration(
    cluster: &str,
    name: &str,
    id: i64,
    address: &str,
    topic_names: &[&str],
    connection: u64,
) -> BrokerRegistration {
    BrokerRegistration {
        cluster: cluster.to_owned(),
        broker_address: address.to_owned(),
        broker_name: name.to_owned(),
        broker_id: id,
        ha_server_address: format!("{address}-ha"),
        zone_name: None,
        heartbeat_timeout_ms: None,
        enable_acting_master: None,
        topic_config: topics(topic_names, 1),
        filter_servers: Vec::new(),
        connection: ConnectionId(connection),
    }
}

fn address(cluster: &str, address: &str) -> BrokerAddress {
    BrokerAddress {
        cluster: cluster.to_owned(),
        address: address.to_owned(),
    }
}

/// Master a0 and slave a1 of broker-a in cluster c1; master b0 of broker-b in c2.
fn populated() -> RouteTable {
    let mut table = RouteTable::new(options());
    let a_topics = ["T1", "T2", AUTO_CREATE_TOPIC_KEY_TOPIC];
    table.register_broker(registration("c1", "broker-a", 0, "a0", &a_topics, 1), 0);
    table.register_broker(registration("c1", "broker-a", 1, "a1", &a_topics, 2), 0);
    table.register_broker(registration("c2", "broker-b", 0, "b0", &["T2", "T3"], 3), 0);
    table.assert_invariants();
    table
}

#[test]
fn routes_list_slaves_under_the_master_name() {
    let table = populated();
    let route = table.topic_route("T1").unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    let broker = &route.broker_datas[0];
    assert_eq!(broker.broker_name, "broker-a");
    assert_eq!(broker.cluster, "c1");
    assert_eq!(
        broker.broker_addrs,
        [(0, "a0".to_owned()), (1, "a1".to_owned())].into()
    );
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(route.queue_datas[0].write_queue_nums, 8);

    let shared = table.topic_route("T2").unwrap();
    let names: Vec<_> = shared
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(names, ["broker-a", "broker-b"]);
    assert!(table.topic_route("nope").is_none());
    assert!(table.topic_route(AUTO_CREATE_TOPIC_KEY_TOPIC).is_some());
}

#[test]
fn slave_learns_master_and_ha_address() {
    let mut table = populated();
    let outcome = table.register_broker(registration("c1", "broker-a", 1, "a1", &["T1"], 2), 5);
    assert_eq!(
        outcome,
        RegistrationOutcome::Registered {
            ha_server_address: Some("a0-ha".to_owned()),
            master_address: Some("a0".to_owned()),
        }
    );
}

#[test]
fn single_topic_registration_before_first_is_refused_without_side_effects() {
    let mut table = RouteTable::new(options());
    let outcome = table.register_broker(registration("c", "b", 0, "x", &["only"], 1), 0);
    assert_eq!(outcome, RegistrationOutcome::Refused);
    assert_eq!(table.cluster_info(), ClusterInfo::default());
}

#[test]
fn slave_topics_do_not_override_master_queues() {
    let mut table = populated();
    let mut slave = registration("c1", "broker-a", 1, "a1", &["T1", "SLAVE_ONLY"], 2);
    slave.topic_config.data_version.counter = 9;
    table.register_broker(slave, 1);
    assert!(table.topic_route("SLAVE_ONLY").is_none());
}

#[test]
fn expiry_by_time_uses_default_or_header_timeout() {
    let mut table = populated();
    let mut short = registration("c2", "broker-b", 1, "b1", &["T2", "T3"], 4);
    short.heartbeat_timeout_ms = Some(1_000);
    table.register_broker(short, 0);
    assert!(table.expire_brokers(1_000).is_empty());
    let expired = table.expire_brokers(1_001);
    assert_eq!(
        expired,
        vec![ExpiredBroker {
            address: address("c2", "b1"),
            connection: ConnectionId(4),
        }]
    );
    table.touch_broker(&address("c1", "a0"), 60_000);
    let expired = table.expire_brokers(EXPIRY_MS + 1);
    let gone: Vec<_> = expired.iter().map(|e| e.address.address.as_str()).collect();
    assert_eq!(gone, ["a1", "b0"]);
    table.assert_invariants();
    // broker-b is gone with its queues; T3 only lived there.
    assert!(table.topic_route("T3").is_none());
    let t2 = table.topic_route("T2").unwrap();
    assert_eq!(t2.broker_datas.len(), 1);
    assert_eq!(
        t2.broker_datas[0].broker_addrs,
        [(0, "a0".to_owned())].into()
    );
    assert!(!table.cluster_info().cluster_addr_table.contains_key("c2"));
}

#[test]
fn closing_a_connection_removes_its_brokers() {
    let mut table = populated();
    let gone = table.connection_closed(ConnectionId(1));
    assert_eq!(gone, vec![address("c1", "a0")]);
    table.assert_invariants();
    // The slave keeps the broker name (and its queues) alive.
    let route = table.topic_route("T1").unwrap();
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        [(1, "a1".to_owned())].into()
    );
    table.connection_closed(ConnectionId(2));
    assert!(table.topic_route("T1").is_none());
    assert!(table.connection_closed(ConnectionId(2)).is_empty());
    table.assert_invariants();
}

#[test]
fn reconnect_keeps_the_broker_when_the_old_connection_closes() {
    let mut table = populated();
    table.register_broker(
        registration("c2", "broker-b", 0, "b0", &["T2", "T3"], 30),
        10,
    );
    assert!(table.connection_closed(ConnectionId(3)).is_empty());
    assert!(table.topic_route("T3").is_some());
}

#[test]
fn unregister_drops_instance_then_name() {
    let mut table = populated();
    table.unregister_broker(&address("c2", "b0"), "broker-b");
    table.assert_invariants();
    assert!(table.topic_route("T3").is_none());
    assert_eq!(table.topics_of_cluster("c2"), TopicList::default());
    assert!(table.live_broker(&address("c2", "b0")).is_none());
}

#[test]
fn data_version_query_and_change_detection() {
    let mut table = populated();
    let registered = topics(&[], 1).data_version;
    let (changed, current) = table.query_data_version(&address("c1", "a0"), &registered, 50);
    assert!(!changed);
    assert_eq!(current, Some(registered));
    assert_eq!(
        table
            .live_broker(&address("c1", "a0"))
            .unwrap()
            .last_update_ms,
        50
    );
    let newer = DataVersion {
        counter: 2,
        ..registered
    };
    assert!(table.query_data_version(&address("c1", "a0"), &newer, 60).0);
    let (changed, current) = table.query_data_version(&address("c9", "zz"), &newer, 60);
    assert!(changed);
    assert_eq!(current, None);
}

#[test]
fn unchanged_version_keeps_queue_edits_until_version_changes() {
    let mut table = populated();
    assert_eq!(table.wipe_write_perm("broker-a"), 3);
    // Same data version: the re-registration leaves the wiped permission alone (Java).
    table.register_broker(
        registration("c1", "broker-a", 0, "a0", &["T1", "T2"], 1),
        10,
    );
    assert_eq!(
        table.topic_route("T1").unwrap().queue_datas[0].perm,
        perm::READ
    );
    let mut newer = registration("c1", "broker-a", 0, "a0", &["T1", "T2"], 1);
    newer.topic_config.data_version.counter = 2;
    table.register_broker(newer, 20);
    assert_eq!(
        table.topic_route("T1").unwrap().queue_datas[0].perm,
        perm::READ | perm::WRITE
    );
    assert_eq!(table.add_write_perm("broker-a"), 3);
    assert_eq!(table.add_write_perm("nobody"), 0);
}

#[test]
fn delete_topic_everywhere_or_per_cluster() {
    let mut table = populated();
    table.delete_topic("T2", Some("c2"));
    let route = table.topic_route("T2").unwrap();
    assert_eq!(route.queue_datas.len(), 1);
    table.delete_topic("T2", Some("unknown"));
    assert!(table.topic_route("T2").is_some());
    table.delete_topic("T2", None);
    assert!(table.topic_route("T2").is_none());
    table.assert_invariants();
}

#[test]
fn register_topic_needs_known_brokers() {
    let mut table = populated();
    let queue = QueueData {
        broker_name: "broker-b".to_owned(),
        perm: 6,
        read_queue_nums: 4,
        topic_sys_flag: 0,
        write_queue_nums: 4,
    };
    assert!(table.register_topic("NEW", vec![queue.clone()]));
    assert_eq!(
        table.topic_route("NEW").unwrap().queue_datas,
        vec![queue.clone()]
    );
    let unknown = QueueData {
        broker_name: "ghost".to_owned(),
        ..queue
    };
    assert!(!table.register_topic("GHOST", vec![unknown]));
    assert!(!table.register_topic("EMPTY", Vec::new()));
    assert!(table.topic_route("GHOST").is_none());
}

#[test]
fn topic_lists() {
    let mut table = populated();
    let mut unit = registration("c2", "broker-b", 0, "b0", &["U"], 3);
    unit.topic_config = topics(&["U", "T3"], 5);
    unit.topic_config
        .topic_config_table
        .get_mut("U")
        .unwrap()
        .topic_sys_flag = topic_sys_flag::UNIT_SUB;
    table.register_broker(unit, 1);
    let all = table.all_topics().topic_list;
    assert!(all.contains("T1") && all.contains("U") && all.contains("TBW102"));
    let c2: Vec<_> = table
        .topics_of_cluster("c2")
        .topic_list
        .into_iter()
        .collect();
    assert_eq!(c2, ["T2", "T3", "U"]);
    assert!(table.topics_of_cluster("none").topic_list.is_empty());
    let system = table.system_topics();
    assert!(system.topic_list.contains("c1") && system.topic_list.contains("broker-b"));
    assert_eq!(system.broker_addr.as_deref(), Some("a0"));
    let has_unit_sub = table.topics_with_sys_flag(RouteTable::is_unit_sub);
    assert_eq!(has_unit_sub.topic_list.len(), 1);
    assert!(table
        .topics_with_sys_flag(RouteTable::is_unit)
        .topic_list
        .is_empty());
}

#[test]
fn slave_becoming_master_replaces_its_old_id() {
    let mut table = populated();
    table.unregister_broker(&address("c1", "a0"), "broker-a");
    table.register_broker(registration("c1", "broker-a", 0, "a1", &["T1", "T2"], 2), 1);
    let route = table.topic_route("T1").unwrap();
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        [(0, "a1".to_owned())].into()
    );
    table.assert_invariants();
}

#[test]
fn newer_state_version_wins_a_broker_id_conflict() {
    let mut table = populated();
    let mut newer = registration("c2", "broker-b", 0, "b0", &["T2", "T3"], 3);
    newer.topic_config.data_version.state_version = 5;
    table.register_broker(newer, 1);
    let stale = registration("c2", "broker-b", 0, "b9", &["T2", "T3"], 9);
    assert_eq!(
        table.register_broker(stale, 2),
        RegistrationOutcome::Conflict
    );
    assert!(table.live_broker(&address("c2", "b9")).is_none());
}

#[test]
fn delete_topics_missing_from_a_registration_when_enabled() {
    let mut table = populated();
    table.reconfigure(RouteTableOptions {
        delete_topic_with_broker_registration: true,
        ..options()
    });
    let mut fewer = registration("c2", "broker-b", 0, "b0", &["T2", "T4"], 3);
    fewer.topic_config.data_version.counter = 2;
    table.register_broker(fewer, 1);
    assert!(table.topic_route("T3").is_none());
    assert!(table.topic_route("T4").is_some());
}

#[test]
fn acting_master_serves_lowest_slave_for_read_only_queues() {
    let mut table = populated();
    table.reconfigure(RouteTableOptions {
        support_acting_master: true,
        ..options()
    });
    let mut slave = registration("c1", "broker-a", 1, "a1", &["T1", "T2"], 2);
    slave.enable_acting_master = Some(true);
    table.register_broker(slave, 1);
    table.unregister_broker(&address("c1", "a0"), "broker-a");
    let route = table.topic_route("T1").unwrap();
    assert_eq!(route.queue_datas[0].perm, perm::READ);
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        [(0, "a1".to_owned())].into()
    );
}

#[test]
fn filter_servers_are_served_per_address() {
    let mut table = populated();
    let mut with_filters = registration("c2", "broker-b", 0, "b0", &["T2", "T3"], 3);
    with_filters.filter_servers = vec!["f1".to_owned()];
    table.register_broker(with_filters, 1);
    let route = table.topic_route("T3").unwrap();
    assert_eq!(
        route.filter_server_table,
        [("b0".to_owned(), vec!["f1".to_owned()])].into()
    );
    assert!(table
        .topic_route("T1")
        .unwrap()
        .filter_server_table
        .is_empty());
}
