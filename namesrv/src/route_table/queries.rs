//! Read-only views of the [`RouteTable`]: routes, cluster info, topic lists.

use protocol::body::route::{
    perm, topic_sys_flag, ClusterInfo, TopicList, TopicRouteData, MASTER_ID,
};

use super::{BrokerAddress, RouteTable};

impl RouteTable {
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
