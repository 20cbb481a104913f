//! Broker liveness in the [`RouteTable`]: heartbeats, data-version queries, the expiry
//! scan and connection loss. Removing an instance goes through
//! [`RouteTable::unregister_broker`], like Java's `onChannelDestroy`.

use protocol::body::route::DataVersion;

use super::{BrokerAddress, ConnectionId, ExpiredBroker, RouteTable};

impl RouteTable {
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
}
