//! A RocketMQ-compatible broker: thread-per-core shards over the storage engine.
//!
//! # Layout
//!
//! - [`config`]: [`BrokerConfig`] from `broker.conf` and flags, documented and validated.
//! - [`startup`]: one pinned glommio executor per shard; the mesh created before them.
//! - [`shard`]: [`shard::Shard`], everything one core owns; the data plane.
//! - [`mesh`]: the messages between shards ([`mesh::DataOp`], [`mesh::ControlOp`],
//!   [`mesh::ControlUpdate`]).
//! - [`routing`]: queue → shard, a fixed function.
//! - [`control`]: the control plane on shard 0 (topics, groups, client registries, locks).
//! - [`connection`]: one task per client connection; reply ordering; limits.
//! - [`handlers`]: one module per request family; wire ↔ domain at this edge.
//! - [`registration`]: REGISTER_BROKER / UNREGISTER_BROKER to the name servers.
//! - [`metadata`], [`persist`]: `config/topics.json`, `subscriptionGroup.json`,
//!   `consumerOffset.json` in the Java formats.
//! - [`store`]: the storage seam (the `storage::Store` contract).
//!
//! # Shards, routing and the control plane
//!
//! Shard *i* runs on its own executor (pinned to CPU *i*), owns a store under
//! `<store>/shard-<i>` and the queues `(topic, queueId)` with
//! `(java_hash(topic) + queueId) mod shards == i`. Every shard listens on the same port
//! (glommio binds with `SO_REUSEPORT`, so the kernel spreads connections). A request for a
//! queue owned by another shard makes exactly one hop over that shard's bounded inbox
//! (flume, created at startup) and the reply comes back on a one-shot channel; a full inbox
//! answers SYSTEM_BUSY. Consumer offsets and long-poll waiters live with their queue.
//!
//! The control plane (topic table, subscription groups, producer/consumer registries, queue
//! locks) lives on shard 0; control requests (heartbeat, locks, topic admin, ...) are
//! routed there. Every shard keeps a read-only copy of the topic table and of the consumer
//! subscriptions, tagged with revisions and updated by shard 0's broadcasts, so the send and
//! pull hot paths never leave the entry shard except for the owner hop. A topic missing from
//! the entry shard's copy costs one extra hop to shard 0 (which may auto-create it).
//!
//! # Not yet implemented
//!
//! QUERY_MESSAGE, SQL92 filters, HA. Delay levels ([`schedule`]), timer messages
//! ([`timer`]) and transactions ([`transaction`]) run as tasks on the shard owning their
//! system queue.

pub mod config;
pub mod connection;
pub mod control;
pub mod error;
pub mod filter;
pub mod handlers;
pub mod instance_lock;
pub mod mesh;
pub mod metadata;
pub mod persist;
pub mod registration;
pub mod routing;
pub mod schedule;
pub mod shard;
pub mod sql92;
pub mod startup;
pub mod store;
pub mod timer;
pub mod transaction;

use std::net::SocketAddr;

use glommio::ExecutorJoinHandle;

pub use config::BrokerConfig;
pub use error::Error;

use crate::mesh::ShardMessage;
use crate::metadata::{SubscriptionGroups, TopicTable};
use crate::startup::{spawn_shard, ShardSeed};

const LOG: &str = "broker";

/// A running broker. Dropping it shuts the broker down.
pub struct BrokerHandle {
    local_addr: SocketAddr,
    broker_addr: SocketAddr,
    namesrv_addrs: Vec<SocketAddr>,
    embedded_namesrv: Option<namesrv::NamesrvHandle>,
    shard0_inbox: flume::Sender<ShardMessage>,
    executors: Vec<ExecutorJoinHandle<()>>,
    /// Store and listen-port locks, released when the handle is dropped.
    _locks: instance_lock::InstanceLocks,
}

impl BrokerHandle {
    /// The address the listeners are bound to.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address announced to name servers (`brokerIP1:port`).
    #[must_use]
    pub fn broker_addr(&self) -> SocketAddr {
        self.broker_addr
    }

    /// The name servers this broker registers with (the embedded one if started).
    #[must_use]
    pub fn namesrv_addrs(&self) -> &[SocketAddr] {
        &self.namesrv_addrs
    }

    /// Stops the broker: unregisters, persists offsets and metadata, closes the stores.
    ///
    /// # Errors
    /// A shard thread panicked, or the embedded name server failed to stop.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), Error> {
        if self.executors.is_empty() {
            return Ok(());
        }
        let _ = self.shard0_inbox.send(ShardMessage::Shutdown);
        let mut result = Ok(());
        for executor in self.executors.drain(..) {
            if let Err(error) = executor.join() {
                result = Err(Error::Executor(error.to_string()));
            }
        }
        if let Some(namesrv) = self.embedded_namesrv.take() {
            namesrv
                .shutdown()
                .map_err(|error| Error::Namesrv(error.to_string()))?;
        }
        tracing::info!(target: LOG, "broker stopped");
        result
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn start_embedded_namesrv(config: &BrokerConfig) -> Result<namesrv::NamesrvHandle, Error> {
    let namesrv_config = namesrv::NamesrvConfig {
        bind: config.embedded_namesrv_addr.ip(),
        listen_port: config.embedded_namesrv_addr.port(),
        ..namesrv::NamesrvConfig::default()
    };
    namesrv::spawn(namesrv_config).map_err(|error| Error::Namesrv(error.to_string()))
}

/// Starts the broker (and, without `namesrvAddr`, an embedded name server) and returns once
/// every shard is serving.
///
/// # Errors
/// Invalid configuration, unreadable metadata, a store that cannot open, a port in use.
pub fn spawn(mut config: BrokerConfig) -> Result<BrokerHandle, Error> {
    config.validate()?;
    let root = &config.store_path_root_dir;
    std::fs::create_dir_all(root).map_err(|source| Error::StoreDirectory {
        path: root.display().to_string(),
        source,
    })?;
    let locks = instance_lock::acquire(root, config.listen_port)?;
    metadata::check_layout(&config)?;
    let topics = TopicTable::load(&config)?;
    let groups = SubscriptionGroups::load(&config)?;
    let embedded_namesrv = if config.namesrv_addrs.is_empty() {
        let handle = start_embedded_namesrv(&config)?;
        tracing::info!(target: LOG, addr = %handle.local_addr(), "embedded name server started");
        config.namesrv_addrs = vec![handle.local_addr()];
        Some(handle)
    } else {
        None
    };
    let namesrv_addrs = config.namesrv_addrs.clone();
    let depth = config.shard_inbox_depth_max as usize;
    let (inboxes, receivers): (Vec<_>, Vec<_>) =
        (0..config.shards).map(|_| flume::bounded(depth)).unzip();
    let mut handle = BrokerHandle {
        local_addr: SocketAddr::new(config.listen_ip, config.listen_port),
        broker_addr: config.broker_addr(config.listen_port),
        namesrv_addrs: namesrv_addrs.clone(),
        embedded_namesrv,
        shard0_inbox: inboxes[0].clone(),
        executors: Vec::new(),
        _locks: locks,
    };
    let topics_list: Vec<_> = topics.iter().cloned().collect();
    let revision = u64::try_from(topics.data_version().counter).unwrap_or(0);
    let mut control = Some((topics, groups));
    let mut port = config.listen_port;
    for (index, inbox) in (0..config.shards).zip(receivers) {
        let (ready, started) = flume::bounded(1);
        let seed = ShardSeed {
            index,
            config: config.clone(),
            port,
            inboxes: inboxes.clone(),
            inbox,
            topics: topics_list.clone(),
            topics_revision: revision,
            control: control.take(),
            namesrv_addrs: namesrv_addrs.clone(),
            ready,
        };
        let executor = spawn_shard(seed).map_err(|reason| Error::ShardStart {
            shard: index,
            reason,
        })?;
        handle.executors.push(executor);
        let local = started
            .recv()
            .map_err(|_| Error::ShardStart {
                shard: index,
                reason: "exited during startup".to_owned(),
            })?
            .map_err(|reason| Error::ShardStart {
                shard: index,
                reason,
            })?;
        if index == 0 {
            port = local.port();
            handle.local_addr = local;
            handle.broker_addr = config.broker_addr(port);
        }
    }
    tracing::info!(target: LOG, addr = %handle.local_addr, shards = config.shards, "broker started");
    Ok(handle)
}

/// Runs the broker until `shutdown` receives a message (or its sender is dropped).
///
/// # Errors
/// As [`spawn`] and [`BrokerHandle::shutdown`].
pub fn run(config: BrokerConfig, shutdown: &flume::Receiver<()>) -> Result<(), Error> {
    let handle = spawn(config)?;
    let _ = shutdown.recv();
    handle.shutdown()
}
