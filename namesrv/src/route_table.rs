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
//!
//! Files: this one (types, registration, unregistration, topic edits), `liveness.rs`
//! (heartbeats, expiry, connection loss), `queries.rs` (routes, cluster info, topic lists).

use std::collections::{BTreeMap, BTreeSet, HashMap};

mod liveness;
mod queries;
#[cfg(test)]
mod tests;

use protocol::body::route::{
    perm, BrokerData, DataVersion, QueueData, TopicConfig, TopicConfigAndMappingSerializeWrapper,
    MASTER_ID,
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

/// What claiming a broker id decided for the rest of a registration.
struct BrokerIdClaim {
    /// First registration of this broker name or id: every topic is (re)written.
    register_first: bool,
    /// A master, or the lowest slave of a slave-acting-master group, supplies the queues.
    serves_topics: bool,
    /// A prime slave acting for a missing master registers its queues read-only.
    wipe_write: bool,
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
        // Checked before any change (Java checks it after creating the broker entry and
        // leaves an address-less broker behind).
        let known_id = self
            .brokers
            .get(&registration.broker_name)
            .is_some_and(|data| data.broker_addrs.contains_key(&registration.broker_id));
        if !known_id && registration.topic_config.topic_config_table.len() == 1 {
            return RegistrationOutcome::Refused;
        }
        let Some(claim) = self.claim_broker_id(&registration) else {
            return RegistrationOutcome::Conflict;
        };
        let address = BrokerAddress {
            cluster: registration.cluster,
            address: registration.broker_address,
        };
        if claim.serves_topics {
            self.update_topics(
                &address,
                &registration.broker_name,
                &registration.topic_config,
                claim.register_first,
                claim.wipe_write,
            );
        }
        let heartbeat_timeout_ms = registration
            .heartbeat_timeout_ms
            .unwrap_or(self.options.broker_expiry_ms_default);
        let live = BrokerLive {
            last_update_ms: now_ms,
            heartbeat_timeout_ms,
            data_version: registration.topic_config.data_version,
            connection: registration.connection,
            ha_server_address: registration.ha_server_address,
        };
        if self.live_brokers.insert(address.clone(), live).is_none() {
            tracing::info!(
                target: "namesrv::route",
                cluster = address.cluster, broker = address.address,
                broker_name = registration.broker_name, "new broker registered"
            );
        }
        if registration.filter_servers.is_empty() {
            self.filter_servers.remove(&address);
        } else {
            self.filter_servers
                .insert(address.clone(), registration.filter_servers);
        }
        self.master_of(
            &address.cluster,
            &registration.broker_name,
            registration.broker_id,
        )
    }

    /// Puts the instance into the cluster and broker tables under its broker id. `None`
    /// when another address holds that id with a newer state version (the registering
    /// instance's liveness entry is then dropped, as Java does).
    fn claim_broker_id(&mut self, registration: &BrokerRegistration) -> Option<BrokerIdClaim> {
        let BrokerRegistration {
            cluster,
            broker_address,
            broker_name,
            broker_id,
            ..
        } = registration;
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
        broker_data.enable_acting_master = registration.enable_acting_master.unwrap_or(false);
        broker_data.zone_name.clone_from(&registration.zone_name);
        // Switching slave → master: one address holds one broker id.
        broker_data
            .broker_addrs
            .retain(|id, address| address != broker_address || id == broker_id);
        if let Some(old_address) = broker_data.broker_addrs.get(broker_id) {
            let old = BrokerAddress {
                cluster: cluster.clone(),
                address: old_address.clone(),
            };
            let new_state_version = registration.topic_config.data_version.state_version;
            if old.address != *broker_address
                && self
                    .live_brokers
                    .get(&old)
                    .is_some_and(|live| live.data_version.state_version > new_state_version)
            {
                tracing::warn!(
                    target: "namesrv::route",
                    cluster, broker_name, broker_id, old = old.address, new = broker_address,
                    "registration conflicts with a newer broker, ignored"
                );
                self.live_brokers.remove(&BrokerAddress {
                    cluster: cluster.clone(),
                    address: broker_address.clone(),
                });
                return None;
            }
        }
        let previous = broker_data
            .broker_addrs
            .insert(*broker_id, broker_address.clone());
        register_first |= previous.is_none_or(|address| address.is_empty());
        let is_master = *broker_id == MASTER_ID;
        let is_prime_slave = registration.enable_acting_master.is_some()
            && !is_master
            && broker_data.broker_addrs.keys().next() == Some(broker_id);
        Some(BrokerIdClaim {
            register_first,
            serves_topics: is_master || is_prime_slave,
            wipe_write: is_prime_slave && broker_data.enable_acting_master,
        })
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
