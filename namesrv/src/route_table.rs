//! [`RouteTable`]: the name server's whole routing state, as synchronous transitions.
//!
//! Tables (RocketMQ's `RouteInfoManager`):
//!
//! - topic → broker name → [`QueueData`] (`topicQueueTable`)
//! - broker name → [`BrokerData`]: cluster and addresses by broker id, 0 = master
//!   (`brokerAddrTable`)
//! - cluster → broker names (`clusterAddrTable`)
//! - (cluster, broker address) → [`BrokerLive`]: last update, expiry, data version, the
//!   connection it registered on (`brokerLiveTable`)
//! - (cluster, broker address) → filter servers (`filterServerTable`)
//! - topic → broker name → static-topic mapping, kept opaque (`topicQueueMappingInfoTable`)
//!
//! Lives on the name server's single executor (one thread); the network shell calls these
//! methods between awaits. Time is an explicit `now_ms` (milliseconds of a monotonic clock)
//! so expiry is deterministic under test. The route pieces are stored in their wire form
//! ([`QueueData`], [`BrokerData`]) because serving them is this table's whole purpose.

use std::collections::{BTreeMap, BTreeSet, HashMap};

#[cfg(test)]
mod tests;

use protocol::body::route::{
    perm, topic_sys_flag, BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfig,
    TopicConfigAndMappingSerializeWrapper, TopicList, TopicRouteData, MASTER_ID,
};

/// Identifies one client connection of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// A broker instance: its cluster and `ip:port` (Java `BrokerAddrInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerAddress {
    pub cluster: String,
    pub address: String,
}

/// Liveness of one registered broker instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerLive {
    pub last_update_ms: u64,
    pub heartbeat_timeout_ms: u64,
    pub data_version: DataVersion,
    pub connection: ConnectionId,
    pub ha_server_address: String,
}

/// One REGISTER_BROKER, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerRegistration {
    pub cluster: String,
    pub broker_address: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub ha_server_address: String,
    pub zone_name: Option<String>,
    /// `None` = use [`RouteTableOptions::broker_expiry_ms_default`].
    pub heartbeat_timeout_ms: Option<u64>,
    /// `None` = a pre-5.0 broker.
    pub enable_acting_master: Option<bool>,
    pub topic_config: TopicConfigAndMappingSerializeWrapper,
    pub filter_servers: Vec<String>,
    pub connection: ConnectionId,
}

/// The answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// Registered; a slave learns its master's address and HA address.
    Registered {
        ha_server_address: Option<String>,
        master_address: Option<String>,
    },
    /// Another instance with the same broker id and a newer state version holds the slot;
    /// Java answers SUCCESS with an empty header.
    Conflict,
    /// A single-topic registration before the broker's first full registration
    /// (Java: "register broker failed").
    Refused,
}

/// Route-table behaviour switches (the runtime part of the name server's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTableOptions {
    /// Expiry of a registration that names no `heartbeatTimeoutMillis`.
    pub broker_expiry_ms_default: u64,
    pub delete_topic_with_broker_registration: bool,
    pub support_acting_master: bool,
}

/// A broker dropped by the liveness scan and the connection it registered on (to close).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredBroker {
    pub address: BrokerAddress,
    pub connection: ConnectionId,
}

/// The routing state. See the module docs.
#[derive(Debug)]
pub struct RouteTable {
    options: RouteTableOptions,
    topic_queues: HashMap<String, BTreeMap<String, QueueData>>,
    brokers: BTreeMap<String, BrokerData>,
    clusters: BTreeMap<String, BTreeSet<String>>,
    live_brokers: HashMap<BrokerAddress, BrokerLive>,
    filter_servers: HashMap<BrokerAddress, Vec<String>>,
    topic_queue_mappings: HashMap<String, BTreeMap<String, serde_json::Value>>,
}

impl RouteTable {
    #[must_use]
    pub fn new(options: RouteTableOptions) -> RouteTable {
        RouteTable {
            options,
            topic_queues: HashMap::new(),
            brokers: BTreeMap::new(),
            clusters: BTreeMap::new(),
            live_brokers: HashMap::new(),
            filter_servers: HashMap::new(),
            topic_queue_mappings: HashMap::new(),
        }
    }

    /// Applies new options (UPDATE_NAMESRV_CONFIG).
    pub fn reconfigure(&mut self, options: RouteTableOptions) {
        self.options = options;
    }

    /// Number of topics with at least one queue.
    #[must_use]
    pub fn topic_count(&self) -> usize {
        self.topic_queues.len()
    }

    /// The liveness record of one broker instance.
    #[must_use]
    pub fn live_broker(&self, address: &BrokerAddress) -> Option<&BrokerLive> {
        self.live_brokers.get(address)
    }

    /// REGISTER_BROKER (`RouteInfoManager.registerBroker`).
    pub fn register_broker(
        &mut self,
        registration: BrokerRegistration,
        now_ms: u64,
    ) -> RegistrationOutcome {
        let BrokerRegistration {
            cluster,
            broker_address,
            broker_name,
            broker_id,
            ha_server_address,
            zone_name,
            heartbeat_timeout_ms,
            enable_acting_master,
            topic_config,
            filter_servers,
            connection,
        } = registration;
        // Checked before any change (Java checks it after creating the broker entry and
        // leaves an address-less broker behind).
        let known_id = self
            .brokers
            .get(&broker_name)
            .is_some_and(|data| data.broker_addrs.contains_key(&broker_id));
        if !known_id && topic_config.topic_config_table.len() == 1 {
            return RegistrationOutcome::Refused;
        }
        self.clusters
            .entry(cluster.clone())
            .or_default()
            .insert(broker_name.clone());
        let mut register_first = false;
        let broker_data = self.brokers.entry(broker_name.clone()).or_insert_with(|| {
            register_first = true;
            BrokerData {
                cluster: cluster.clone(),
                broker_name: broker_name.clone(),
                ..BrokerData::default()
            }
        });
        broker_data.enable_acting_master = enable_acting_master.unwrap_or(false);
        broker_data.zone_name = zone_name;
        // Switching slave → master: one address holds one broker id.
        broker_data
            .broker_addrs
            .retain(|id, address| *address != broker_address || *id == broker_id);
        if let Some(old_address) = broker_data.broker_addrs.get(&broker_id) {
            if *old_address != broker_address {
                let old = BrokerAddress {
                    cluster: cluster.clone(),
                    address: old_address.clone(),
                };
                if let Some(old_live) = self.live_brokers.get(&old) {
                    if old_live.data_version.state_version > topic_config.data_version.state_version
                    {
                        tracing::warn!(
                            target: "namesrv::route",
                            cluster, broker_name, broker_id, old = old.address,
                            new = broker_address,
                            "registration conflicts with a newer broker, ignored"
                        );
                        self.live_brokers.remove(&BrokerAddress {
                            cluster,
                            address: broker_address,
                        });
                        return RegistrationOutcome::Conflict;
                    }
                }
            }
        }
        let previous = broker_data
            .broker_addrs
            .insert(broker_id, broker_address.clone());
        register_first |= previous.is_none_or(|address| address.is_empty());
        let is_master = broker_id == MASTER_ID;
        let is_prime_slave = enable_acting_master.is_some()
            && !is_master
            && broker_data.broker_addrs.keys().next() == Some(&broker_id);
        let acting_master = broker_data.enable_acting_master;

        let address = BrokerAddress {
            cluster,
            address: broker_address,
        };
        if is_master || is_prime_slave {
            self.update_topics(
                &address,
                &broker_name,
                &topic_config,
                register_first,
                is_prime_slave && acting_master,
            );
        }
        let heartbeat_timeout_ms =
            heartbeat_timeout_ms.unwrap_or(self.options.broker_expiry_ms_default);
        let previous_live = self.live_brokers.insert(
            address.clone(),
            BrokerLive {
                last_update_ms: now_ms,
                heartbeat_timeout_ms,
                data_version: topic_config.data_version,
                connection,
                ha_server_address,
            },
        );
        if previous_live.is_none() {
            tracing::info!(
                target: "namesrv::route",
                cluster = address.cluster, broker = address.address, broker_name,
                "new broker registered"
            );
        }
        if filter_servers.is_empty() {
            self.filter_servers.remove(&address);
        } else {
            self.filter_servers.insert(address.clone(), filter_servers);
        }
        self.master_of(&address.cluster, &broker_name, broker_id)
    }

    fn update_topics(
        &mut self,
        address: &BrokerAddress,
        broker_name: &str,
        topic_config: &TopicConfigAndMappingSerializeWrapper,
        register_first: bool,
        wipe_write: bool,
    ) {
        let table = &topic_config.topic_config_table;
        let mappings = &topic_config.topic_queue_mapping_info_map;
        if self.options.delete_topic_with_broker_registration && mappings.is_empty() {
            let stale: Vec<String> = self
                .topic_queues
                .iter()
                .filter(|(topic, queues)| {
                    queues.contains_key(broker_name) && !table.contains_key(*topic)
                })
                .map(|(topic, _)| topic.clone())
                .collect();
            for topic in stale {
                self.remove_broker_from_topic(&topic, broker_name);
            }
        }
        let version_changed = self.is_data_version_changed(address, &topic_config.data_version);
        for config in table.values() {
            let changed = register_first
                || version_changed
                || !self
                    .topic_queues
                    .get(&config.topic_name)
                    .is_some_and(|queues| queues.contains_key(broker_name));
            if changed {
                self.upsert_queue_data(broker_name, config, wipe_write);
            }
        }
        if version_changed || register_first {
            for (topic, info) in mappings {
                let broker = info
                    .get("bname")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(broker_name)
                    .to_owned();
                self.topic_queue_mappings
                    .entry(topic.clone())
                    .or_default()
                    .insert(broker, info.clone());
            }
        }
    }

    fn upsert_queue_data(&mut self, broker_name: &str, config: &TopicConfig, wipe_write: bool) {
        let mut perm = config.perm;
        if wipe_write {
            perm &= !perm::WRITE;
        }
        let queue_data = QueueData {
            broker_name: broker_name.to_owned(),
            perm,
            read_queue_nums: config.read_queue_nums,
            topic_sys_flag: config.topic_sys_flag,
            write_queue_nums: config.write_queue_nums,
        };
        let queues = self
            .topic_queues
            .entry(config.topic_name.clone())
            .or_default();
        match queues.get_mut(broker_name) {
            Some(existing) => {
                if *existing != queue_data {
                    *existing = queue_data;
                }
            }
            None => {
                queues.insert(broker_name.to_owned(), queue_data);
            }
        }
    }

    fn is_data_version_changed(&self, address: &BrokerAddress, version: &DataVersion) -> bool {
        self.live_brokers
            .get(address)
            .is_none_or(|live| live.data_version != *version)
    }

    /// A slave's master and the master's HA address, when the master is alive.
    fn master_of(&self, cluster: &str, broker_name: &str, broker_id: i64) -> RegistrationOutcome {
        let mut outcome = RegistrationOutcome::Registered {
            ha_server_address: None,
            master_address: None,
        };
        if broker_id == MASTER_ID {
            return outcome;
        }
        let Some(master) = self
            .brokers
            .get(broker_name)
            .and_then(|data| data.broker_addrs.get(&MASTER_ID))
        else {
            return outcome;
        };
        let master_key = BrokerAddress {
            cluster: cluster.to_owned(),
            address: master.clone(),
        };
        if let Some(live) = self.live_brokers.get(&master_key) {
            outcome = RegistrationOutcome::Registered {
                ha_server_address: Some(live.ha_server_address.clone()),
                master_address: Some(master.clone()),
            };
        }
        outcome
    }

    /// UNREGISTER_BROKER (`RouteInfoManager.unRegisterBroker`): drops the instance, its
    /// broker name when no address is left, and that name's queues.
    pub fn unregister_broker(&mut self, address: &BrokerAddress, broker_name: &str) {
        if self.live_brokers.remove(address).is_some() {
            tracing::info!(
                target: "namesrv::route",
                cluster = address.cluster, broker = address.address, broker_name,
                "broker unregistered"
            );
        }
        self.filter_servers.remove(address);
        let mut broker_name_removed = false;
        if let Some(data) = self.brokers.get_mut(broker_name) {
            data.broker_addrs.retain(|_, addr| *addr != address.address);
            if data.broker_addrs.is_empty() {
                self.brokers.remove(broker_name);
                broker_name_removed = true;
            }
        }
        if broker_name_removed {
            if let Some(names) = self.clusters.get_mut(&address.cluster) {
                names.remove(broker_name);
                if names.is_empty() {
                    self.clusters.remove(&address.cluster);
                }
            }
            self.topic_queues.retain(|_, queues| {
                queues.remove(broker_name);
                !queues.is_empty()
            });
        } else if self.brokers.get(broker_name).is_some_and(|data| {
            data.enable_acting_master && data.broker_addrs.keys().next() != Some(&MASTER_ID)
        }) {
            // The master left a slave-acting-master group: its queues become read-only.
            for queues in self.topic_queues.values_mut() {
                if let Some(queue) = queues.get_mut(broker_name) {
                    queue.perm &= !perm::WRITE;
                }
            }
        }
    }

    /// The broker name and id registered for `address` (Java `setupUnRegisterRequest`).
    fn broker_name_of(&self, address: &BrokerAddress) -> Option<String> {
        self.brokers
            .values()
            .filter(|data| data.cluster == address.cluster)
            .find(|data| data.broker_addrs.values().any(|a| *a == address.address))
            .map(|data| data.broker_name.clone())
    }

    /// Drops one instance as if it had unregistered (channel destroyed, or expired).
    fn drop_instance(&mut self, address: &BrokerAddress) {
        match self.broker_name_of(address) {
            Some(broker_name) => self.unregister_broker(address, &broker_name),
            None => {
                self.live_brokers.remove(address);
                self.filter_servers.remove(address);
            }
        }
    }

    /// A connection closed: every broker that registered over it is removed.
    pub fn connection_closed(&mut self, connection: ConnectionId) -> Vec<BrokerAddress> {
        let mut gone: Vec<BrokerAddress> = self
            .live_brokers
            .iter()
            .filter(|(_, live)| live.connection == connection)
            .map(|(address, _)| address.clone())
            .collect();
        gone.sort();
        for address in &gone {
            tracing::info!(
                target: "namesrv::route",
                cluster = address.cluster, broker = address.address,
                "broker connection closed, unregistering"
            );
            self.drop_instance(address);
        }
        gone
    }

    /// The liveness scan: removes every broker whose last update is older than its
    /// timeout; returns them with their connections (which the caller closes).
    pub fn expire_brokers(&mut self, now_ms: u64) -> Vec<ExpiredBroker> {
        let mut expired: Vec<ExpiredBroker> = self
            .live_brokers
            .iter()
            .filter(|(_, live)| {
                live.last_update_ms
                    .saturating_add(live.heartbeat_timeout_ms)
                    < now_ms
            })
            .map(|(address, live)| ExpiredBroker {
                address: address.clone(),
                connection: live.connection,
            })
            .collect();
        expired.sort_by(|a, b| a.address.cmp(&b.address));
        for broker in &expired {
            let timeout_ms = self.live_brokers[&broker.address].heartbeat_timeout_ms;
            tracing::warn!(
                target: "namesrv::route",
                cluster = broker.address.cluster, broker = broker.address.address, timeout_ms,
                "broker expired"
            );
            self.drop_instance(&broker.address);
        }
        expired
    }

    /// BROKER_HEARTBEAT and QUERY_DATA_VERSION keep a registration alive.
    pub fn touch_broker(&mut self, address: &BrokerAddress, now_ms: u64) {
        if let Some(live) = self.live_brokers.get_mut(address) {
            live.last_update_ms = now_ms;
        }
    }

    /// QUERY_DATA_VERSION: whether `version` differs from the registered one, and the
    /// registered one. Refreshes the registration.
    pub fn query_data_version(
        &mut self,
        address: &BrokerAddress,
        version: &DataVersion,
        now_ms: u64,
    ) -> (bool, Option<DataVersion>) {
        let changed = self.is_data_version_changed(address, version);
        self.touch_broker(address, now_ms);
        (
            changed,
            self.live_brokers.get(address).map(|live| live.data_version),
        )
    }

    /// GET_ROUTEINFO_BY_TOPIC (`pickupTopicRouteData`): `None` when the topic has no queue
    /// on a known broker. `orderTopicConf` is left to the caller.
    #[must_use]
    pub fn topic_route(&self, topic: &str) -> Option<TopicRouteData> {
        let queues = self.topic_queues.get(topic)?;
        let mut route = TopicRouteData {
            queue_datas: queues.values().cloned().collect(),
            ..TopicRouteData::default()
        };
        for broker_name in queues.keys() {
            let Some(data) = self.brokers.get(broker_name) else {
                continue;
            };
            if !self.filter_servers.is_empty() {
                for address in data.broker_addrs.values() {
                    let key = BrokerAddress {
                        cluster: data.cluster.clone(),
                        address: address.clone(),
                    };
                    if let Some(servers) = self.filter_servers.get(&key) {
                        route
                            .filter_server_table
                            .insert(address.clone(), servers.clone());
                    }
                }
            }
            route.broker_datas.push(data.clone());
        }
        if route.broker_datas.is_empty() || route.queue_datas.is_empty() {
            return None;
        }
        route.topic_queue_mapping_by_broker = self.topic_queue_mappings.get(topic).cloned();
        if self.options.support_acting_master {
            substitute_acting_masters(&mut route);
        }
        Some(route)
    }

    /// GET_BROKER_CLUSTER_INFO.
    #[must_use]
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.brokers.clone(),
            cluster_addr_table: self.clusters.clone(),
        }
    }

    /// REGISTER_TOPIC_IN_NAMESRV: every queue's broker must be known, else nothing changes.
    pub fn register_topic(&mut self, topic: &str, queue_datas: Vec<QueueData>) -> bool {
        if queue_datas.is_empty() {
            return false;
        }
        if let Some(unknown) = queue_datas
            .iter()
            .find(|queue| !self.brokers.contains_key(&queue.broker_name))
        {
            tracing::warn!(
                target: "namesrv::route",
                topic, broker_name = unknown.broker_name,
                "register topic names an unknown broker, ignored"
            );
            return false;
        }
        let queues = self.topic_queues.entry(topic.to_owned()).or_default();
        for queue in queue_datas {
            queues.insert(queue.broker_name.clone(), queue);
        }
        true
    }

    /// DELETE_TOPIC_IN_NAMESRV: everywhere, or only on one cluster's brokers.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) {
        match cluster.filter(|name| !name.is_empty()) {
            None => {
                self.topic_queues.remove(topic);
            }
            Some(cluster) => {
                let Some(names) = self.clusters.get(cluster).cloned() else {
                    return;
                };
                for broker_name in &names {
                    self.remove_broker_from_topic(topic, broker_name);
                }
            }
        }
    }

    fn remove_broker_from_topic(&mut self, topic: &str, broker_name: &str) {
        if let Some(queues) = self.topic_queues.get_mut(topic) {
            queues.remove(broker_name);
            if queues.is_empty() {
                self.topic_queues.remove(topic);
            }
        }
    }

    /// WIPE_WRITE_PERM_OF_BROKER: clears the write bit of the broker's queues; returns
    /// how many topics it touched.
    pub fn wipe_write_perm(&mut self, broker_name: &str) -> usize {
        self.update_perm(broker_name, |perm| perm & !perm::WRITE)
    }

    /// ADD_WRITE_PERM_OF_BROKER: sets the broker's queues to read + write.
    pub fn add_write_perm(&mut self, broker_name: &str) -> usize {
        self.update_perm(broker_name, |_| perm::READ | perm::WRITE)
    }

    fn update_perm(&mut self, broker_name: &str, change: impl Fn(i32) -> i32) -> usize {
        let mut count = 0;
        for queues in self.topic_queues.values_mut() {
            if let Some(queue) = queues.get_mut(broker_name) {
                queue.perm = change(queue.perm);
                count += 1;
            }
        }
        count
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
    #[must_use]
    pub fn all_topics(&self) -> TopicList {
        TopicList {
            broker_addr: None,
            topic_list: self.topic_queues.keys().cloned().collect(),
        }
    }

    /// GET_TOPICS_BY_CLUSTER: topics with a queue on a broker of `cluster`.
    #[must_use]
    pub fn topics_of_cluster(&self, cluster: &str) -> TopicList {
        let mut list = TopicList::default();
        if let Some(names) = self.clusters.get(cluster) {
            for (topic, queues) in &self.topic_queues {
                if names.iter().any(|name| queues.contains_key(name)) {
                    list.topic_list.insert(topic.clone());
                }
            }
        }
        list
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster names and broker names (each is a system
    /// topic), plus one broker address to ask.
    #[must_use]
    pub fn system_topics(&self) -> TopicList {
        let mut list = TopicList::default();
        for (cluster, names) in &self.clusters {
            list.topic_list.insert(cluster.clone());
            list.topic_list.extend(names.iter().cloned());
        }
        list.broker_addr = self
            .brokers
            .values()
            .find_map(|data| data.broker_addrs.values().next().cloned());
        list
    }

    /// GET_UNIT_TOPIC_LIST / GET_HAS_UNIT_SUB_TOPIC_LIST /
    /// GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: topics whose (first) queue's sys flag matches.
    #[must_use]
    pub fn topics_with_sys_flag(&self, matches: impl Fn(i32) -> bool) -> TopicList {
        let mut list = TopicList::default();
        for (topic, queues) in &self.topic_queues {
            if queues
                .values()
                .next()
                .is_some_and(|queue| matches(queue.topic_sys_flag))
            {
                list.topic_list.insert(topic.clone());
            }
        }
        list
    }

    /// Unit-topic predicates for [`RouteTable::topics_with_sys_flag`].
    #[must_use]
    pub fn is_unit(flag: i32) -> bool {
        topic_sys_flag::has_unit(flag)
    }

    /// See [`RouteTable::is_unit`].
    #[must_use]
    pub fn is_unit_sub(flag: i32) -> bool {
        topic_sys_flag::has_unit_sub(flag)
    }

    /// See [`RouteTable::is_unit`].
    #[must_use]
    pub fn is_unit_sub_not_unit(flag: i32) -> bool {
        !topic_sys_flag::has_unit(flag) && topic_sys_flag::has_unit_sub(flag)
    }

    /// Checks the cross-table invariants; for tests and debug builds.
    ///
    /// # Panics
    /// If a broker name is listed in a cluster but unknown, a broker has no address, or a
    /// topic has no queue.
    pub fn assert_invariants(&self) {
        for names in self.clusters.values() {
            assert!(!names.is_empty(), "empty cluster kept");
        }
        for (name, data) in &self.brokers {
            assert_eq!(*name, data.broker_name);
            assert!(
                !data.broker_addrs.is_empty(),
                "broker {name} has no address"
            );
            assert!(
                self.clusters
                    .get(&data.cluster)
                    .is_some_and(|names| names.contains(name)),
                "broker {name} missing from its cluster"
            );
        }
        for (topic, queues) in &self.topic_queues {
            assert!(!queues.is_empty(), "topic {topic} has no queue");
        }
    }
}

/// Slave-acting-master (`pickupTopicRouteData`): in a group without a master whose queues
/// are not writeable, the lowest slave is served under id 0.
fn substitute_acting_masters(route: &mut TopicRouteData) {
    let needs_acting_master = route
        .broker_datas
        .iter()
        .any(|data| !data.broker_addrs.is_empty() && !data.broker_addrs.contains_key(&MASTER_ID));
    if !needs_acting_master {
        return;
    }
    for data in &mut route.broker_datas {
        if data.broker_addrs.is_empty()
            || data.broker_addrs.contains_key(&MASTER_ID)
            || !data.enable_acting_master
        {
            continue;
        }
        let read_only = route
            .queue_datas
            .iter()
            .find(|queue| queue.broker_name == data.broker_name)
            .is_some_and(|queue| !perm::is_writeable(queue.perm));
        if read_only {
            if let Some((_, address)) = data.broker_addrs.pop_first() {
                data.broker_addrs.insert(MASTER_ID, address);
            }
        }
    }
}
