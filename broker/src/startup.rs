//! Startup and shutdown wiring: one pinned glommio executor per shard, the mesh created
//! before any of them starts, shard 0's control plane and background loops.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::FutureExt;
use glommio::channels::local_channel;
use glommio::net::TcpListener;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use protocol::body::route::JsonBody;
use protocol::body::route::TopicConfig;

use crate::config::{BrokerConfig, FlushDiskType};
use crate::control::{gather_offsets, ControlPlane, ControlShell};
use crate::mesh::ShardMessage;
use crate::metadata::{self, ConsumerOffsets, SubscriptionGroups, TopicTable};
use crate::routing::queue_shard;
use crate::shard::{Shard, ShardParts};
use crate::store::{FlushMode, Store, StoreConfig};
use crate::{persist, registration};

const LOG: &str = "broker::startup";

/// Period of the persister's check for changed topics and groups.
const PERSIST_TICK: Duration = Duration::from_millis(500);
/// Period of client-expiry housekeeping (Java `ClientHousekeepingService`: 10 s).
const HOUSEKEEPING_PERIOD: Duration = Duration::from_secs(10);
/// Period of the TPS samples.
const SAMPLE_PERIOD: Duration = Duration::from_secs(10);
/// How long shutdown waits for client connections to close.
const CONNECTIONS_CLOSE_WAIT: Duration = Duration::from_secs(1);

/// What one shard's executor needs; `Send`, built on the starting thread.
pub struct ShardSeed {
    pub index: u16,
    pub config: BrokerConfig,
    pub port: u16,
    pub inboxes: Vec<flume::Sender<ShardMessage>>,
    pub inbox: flume::Receiver<ShardMessage>,
    pub topics: Vec<TopicConfig>,
    pub topics_revision: u64,
    /// Shard 0 only: the control plane's tables and the name servers.
    pub control: Option<(TopicTable, SubscriptionGroups)>,
    pub namesrv_addrs: Vec<SocketAddr>,
    pub ready: flume::Sender<Result<SocketAddr, String>>,
}

/// Starts shard `seed.index` on its own executor thread.
///
/// # Errors
/// The executor could not be created.
pub fn spawn_shard(seed: ShardSeed) -> Result<ExecutorJoinHandle<()>, String> {
    let config = &seed.config;
    let placement = if config.pin_shards {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Placement::Fixed(usize::from(seed.index) % cpus)
    } else {
        Placement::Unbound
    };
    let mut builder = LocalExecutorBuilder::new(placement)
        .name(&format!("shard-{}", seed.index))
        .io_memory(config.io_memory_bytes);
    if config.shard_spin_before_park_us > 0 {
        builder = builder.spin_before_park(Duration::from_micros(config.shard_spin_before_park_us));
    }
    builder
        .spawn(move || shard_main(seed))
        .map_err(|error| error.to_string())
}

fn store_config(config: &BrokerConfig, index: u16, broker_addr: SocketAddr) -> StoreConfig {
    StoreConfig {
        root_dir: config.shard_dir(index),
        shard_index: index,
        segment_size_bytes: config.segment_size_bytes,
        flush: match config.flush_disk_type {
            FlushDiskType::SyncFlush => FlushMode::Sync,
            FlushDiskType::AsyncFlush => FlushMode::Async {
                interval_ms: config.flush_interval_commit_log_ms,
                least_pages: config.flush_commit_log_least_pages,
            },
        },
        sync_flush_timeout_ms: config.sync_flush_timeout_ms,
        file_reserved_time_hours: config.file_reserved_time_hours,
        delete_when_hour: config.delete_when_hour,
        disk_max_used_space_ratio: config.disk_max_used_space_ratio,
        delay_levels_ms: config.message_delay_levels_ms.clone(),
        store_host: broker_addr,
        // The body limit is checked before the append; leave room for topic and properties.
        message_bytes_max: config.max_message_size_bytes as usize + 64 * 1024,
        record_crc_enable: config.enabled_append_prop_crc,
        ..StoreConfig::default()
    }
}

async fn open_shard(seed: &mut ShardSeed) -> Result<(Rc<Shard>, TcpListener), String> {
    let config = &seed.config;
    let listener =
        TcpListener::bind(SocketAddr::new(config.listen_ip, seed.port)).map_err(|error| {
            format!(
                "cannot listen on {}:{}: {error}",
                config.listen_ip, seed.port
            )
        })?;
    let local = listener.local_addr().map_err(|error| error.to_string())?;
    let broker_addr = config.broker_addr(local.port());
    let store = Store::open(store_config(config, seed.index, broker_addr))
        .await
        .map_err(|error| format!("cannot open the store: {error}"))?;
    let (index, shards) = (seed.index, config.shards);
    let offsets = ConsumerOffsets::load(config, |topic, queue_id| {
        queue_shard(topic, queue_id, shards) == index
    })
    .map_err(|error| error.to_string())?;
    let shard = Shard::new(ShardParts {
        index,
        config: Rc::new(config.clone()),
        store,
        broker_addr,
        inboxes: seed.inboxes.clone(),
        topics: std::mem::take(&mut seed.topics),
        topics_revision: seed.topics_revision,
        offsets,
    });
    Ok((shard, listener))
}

async fn shard_main(mut seed: ShardSeed) {
    let (shard, listener) = match open_shard(&mut seed).await {
        Ok(opened) => opened,
        Err(reason) => {
            let _ = seed.ready.send(Err(reason));
            return;
        }
    };
    let local = listener.local_addr().ok();
    let control = seed
        .control
        .take()
        .map(|(topics, groups)| start_control(&shard, topics, groups, seed.namesrv_addrs.clone()));
    let accept = glommio::spawn_local(crate::connection::accept_loop(shard.clone(), listener));
    let sampler_shard = shard.clone();
    let sampler = glommio::spawn_local(async move {
        loop {
            glommio::timer::sleep(SAMPLE_PERIOD).await;
            sampler_shard.sample_counters();
        }
    });
    let schedule = match crate::schedule::Schedule::start(&shard) {
        Ok(schedule) => schedule,
        Err(reason) => {
            let _ = seed.ready.send(Err(reason));
            return;
        }
    };
    let timer = match crate::timer::TimerService::start(&shard) {
        Ok(timer) => timer,
        Err(reason) => {
            let _ = seed.ready.send(Err(reason));
            return;
        }
    };
    let transactions = crate::transaction::TransactionService::start(&shard);
    if let Some(local) = local {
        let _ = seed.ready.send(Ok(local));
    }
    tracing::info!(target: LOG, shard = shard.index, addr = ?local, "shard serving");
    shard.clone().serve_inbox(seed.inbox).await;
    drop(accept);
    drop(sampler);
    close_connections(&shard).await;
    schedule.stop().await;
    if let Some(timer) = timer {
        timer.stop().await;
    }
    if let Some(transactions) = transactions {
        transactions.stop();
    }
    if let Some((control, background)) = control {
        drop(background);
        stop_control(&shard, &control, &seed.namesrv_addrs).await;
    }
    if let Err(error) = shard.store.shutdown().await {
        tracing::error!(target: LOG, shard = shard.index, %error, "store shutdown failed");
    }
    tracing::info!(target: LOG, shard = shard.index, "shard stopped");
}

/// Closes the shard's client connections and waits (at most [`CONNECTIONS_CLOSE_WAIT`])
/// for their tasks to end. Detached tasks still pending when the executor stops are never
/// dropped, so without this an in-process broker would keep its sockets open after
/// shutdown and clients would wait for replies instead of seeing the connection close.
async fn close_connections(shard: &Shard) {
    shard.close_connections();
    let deadline = std::time::Instant::now() + CONNECTIONS_CLOSE_WAIT;
    while shard.connection_count() > 0 && std::time::Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}

/// Shard 0: installs the control plane and starts registration, persistence and
/// housekeeping. Returns the shell and the background tasks (cancelled by dropping).
fn start_control(
    shard: &Rc<Shard>,
    topics: TopicTable,
    groups: SubscriptionGroups,
    namesrv_addrs: Vec<SocketAddr>,
) -> (Rc<ControlShell>, Vec<glommio::Task<()>>) {
    let (register, trigger) = local_channel::new_bounded(1);
    let plane = ControlPlane::new(shard.config(), topics, groups);
    let control = ControlShell::new(plane, shard, register);
    shard.install_control(control.clone());
    let mut tasks = vec![glommio::spawn_local(registration::run(
        shard.clone(),
        control.clone(),
        namesrv_addrs,
        trigger,
    ))];
    let (persist_shard, persist_control) = (shard.clone(), control.clone());
    tasks.push(glommio::spawn_local(async move {
        let interval =
            Duration::from_millis(persist_shard.config().flush_consumer_offset_interval_ms);
        let mut since_offsets = Duration::ZERO;
        loop {
            glommio::timer::sleep(PERSIST_TICK).await;
            since_offsets += PERSIST_TICK;
            let offsets_due = since_offsets >= interval;
            if offsets_due {
                since_offsets = Duration::ZERO;
            }
            persist(&persist_shard, &persist_control, offsets_due, false).await;
        }
    }));
    let housekeeping_control = control.clone();
    tasks.push(glommio::spawn_local(async move {
        loop {
            glommio::timer::sleep(HOUSEKEEPING_PERIOD).await;
            housekeeping_control.housekeeping().await;
        }
    }));
    (control, tasks)
}

/// Writes changed topics and groups, and (when due) the consumer offsets.
async fn persist(shard: &Rc<Shard>, control: &ControlShell, offsets_due: bool, force: bool) {
    let dir = shard.config().config_dir();
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
    if control.topics_dirty.replace(false) || force {
        match control.plane.borrow().topics().to_wrapper().to_bytes() {
            Ok(bytes) => files.push((dir.join(metadata::TOPICS_FILE), bytes.to_vec())),
            Err(error) => tracing::error!(target: LOG, %error, "cannot serialize topics"),
        }
    }
    if control.groups_dirty.replace(false) || force {
        match control.plane.borrow().groups().to_json() {
            Ok(bytes) => files.push((dir.join(metadata::SUBSCRIPTION_GROUPS_FILE), bytes)),
            Err(error) => {
                tracing::error!(target: LOG, %error, "cannot serialize subscription groups")
            }
        }
    }
    if offsets_due || force {
        let (dirty, entries) = gather_offsets(shard).await;
        if dirty || force {
            match metadata::consumer_offsets_json(&entries) {
                Ok(bytes) => files.push((dir.join(metadata::CONSUMER_OFFSETS_FILE), bytes)),
                Err(error) => {
                    tracing::error!(target: LOG, %error, "cannot serialize consumer offsets")
                }
            }
        }
    }
    for (path, bytes) in files {
        let shown = path.display().to_string();
        let written = glommio::executor()
            .spawn_blocking(move || persist::write_atomically(&path, &bytes))
            .or(async {
                glommio::timer::sleep(Duration::from_secs(30)).await;
                Err(std::io::Error::other("timed out"))
            })
            .await;
        if let Err(error) = written {
            tracing::error!(target: LOG, path = %shown, %error, "cannot persist");
        }
    }
}

/// Shard 0's part of shutdown: unregister, persist everything, then stop the other shards.
async fn stop_control(shard: &Rc<Shard>, control: &ControlShell, namesrv_addrs: &[SocketAddr]) {
    registration::unregister_all(shard, namesrv_addrs).await;
    persist(shard, control, true, true).await;
    shard.stop_other_inboxes().await;
}
