//! [`BrokerConfig`]: the one typed configuration of the broker binary.
//!
//! Sources, later ones winning: built-in defaults, a RocketMQ `broker.conf` properties file
//! (`-c`, Java key names), command-line flags. [`BrokerConfig::validate`] runs once at
//! startup and refuses bad values with a message naming the key; unknown keys in the file
//! are warned about and ignored. Each shard receives its own clone, so reading the config
//! never crosses cores.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;

pub mod keys;
mod values;

use values::range;
pub use values::{parse_delay_levels, parse_namesrv_addrs, parse_properties};

/// `flushDiskType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDiskType {
    /// Acknowledge once the write has left the process; fdatasync on an interval.
    AsyncFlush,
    /// Acknowledge only after the covering fdatasync.
    SyncFlush,
}

/// `brokerRole`. Replication is not implemented yet: every role serves as a master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    AsyncMaster,
    SyncMaster,
    Slave,
}

/// The broker's configuration. Every field lists its `broker.conf` key, default and range.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerConfig {
    /// `brokerClusterName`. Default: `DefaultCluster`. Non-empty.
    pub broker_cluster_name: String,
    /// `brokerName`. Default: `broker-a`. `name` or `room@name` (the machine-room form),
    /// each part non-empty and of `[%|a-zA-Z0-9_-]`.
    pub broker_name: String,
    /// `brokerId`: 0 = master, ≥ 1 = slave. Default: 0. Minimum: 0.
    pub broker_id: i64,
    /// `namesrvAddr` (`-n` overrides): `;`-separated `host:port` list. Default: empty, which
    /// starts an embedded name server on [`Self::embedded_namesrv_addr`].
    pub namesrv_addrs: Vec<SocketAddr>,
    /// Where the embedded name server listens when `namesrvAddr` is empty (not a Java key:
    /// `embeddedNamesrvAddr`). Default: `127.0.0.1:9876`; port 0 = any (tests).
    pub embedded_namesrv_addr: SocketAddr,
    /// `listenPort` (`--listen-port`). Default: 10911. Range: 0..=65535 (0 = any, tests).
    pub listen_port: u16,
    /// Address the listener binds (`listenIp`, not a Java key). Default: `0.0.0.0`.
    pub listen_ip: IpAddr,
    /// `brokerIP1`: the address announced to name servers and written into message ids.
    /// Default: 127.0.0.1 (set it for a multi-host deployment).
    pub broker_ip1: IpAddr,
    /// `storePathRootDir` (`--store`). Default: `./store`.
    pub store_path_root_dir: PathBuf,
    /// `flushDiskType`: `ASYNC_FLUSH` or `SYNC_FLUSH`. Default: `ASYNC_FLUSH`.
    pub flush_disk_type: FlushDiskType,
    /// `brokerRole`: `ASYNC_MASTER`, `SYNC_MASTER` or `SLAVE`. Default: `ASYNC_MASTER`.
    pub broker_role: BrokerRole,
    /// `flushIntervalCommitLog` (ms, ASYNC_FLUSH). Default: 500. Range: 1..=60 000.
    pub flush_interval_commit_log_ms: u64,
    /// `flushCommitLogLeastPages` (ASYNC_FLUSH). Default: 4. Range: 0..=1 000 000.
    pub flush_commit_log_least_pages: u32,
    /// `syncFlushTimeout` (ms, SYNC_FLUSH). Default: 5 000. Range: 1..=600 000.
    pub sync_flush_timeout_ms: u64,
    /// `mappedFileSizeCommitLog`: commit-log segment size per shard. Default: 1 GiB.
    /// Range: 1 MiB..=16 GiB; must exceed `maxMessageSize`.
    pub segment_size_bytes: u64,
    /// `fileReservedTime` (hours). Default: 72. Range: 1..=87 600.
    pub file_reserved_time_hours: u32,
    /// `deleteWhen`: hour of day for retention deletion (`"04"`; Java allows `"04;16"`,
    /// the first hour is used). Default: 4. Range: 0..=23.
    pub delete_when_hour: u8,
    /// `diskMaxUsedSpaceRatio` (%). Default: 75. Range: 10..=95.
    pub disk_max_used_space_ratio: u8,
    /// `autoCreateTopicEnable`. Default: true.
    pub auto_create_topic_enable: bool,
    /// `autoCreateSubscriptionGroup`. Default: true.
    pub auto_create_subscription_group: bool,
    /// `defaultTopicQueueNums`: queues of `TBW102`, hence the most an auto-created topic
    /// gets. Default: 8. Range: 1..=1 024.
    pub default_topic_queue_nums: u32,
    /// `maxMessageSize` (bytes of body). Default: 4 MiB. Range: 1 KiB..=`frameBytesMax`.
    pub max_message_size_bytes: u32,
    /// `messageDelayLevel`, parsed to milliseconds. Default:
    /// `1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h`. 1..=64 levels.
    pub message_delay_levels_ms: Vec<u64>,
    /// `registerNameServerPeriod` (ms). Default: 30 000. Clamped to 10 000..=60 000 as Java.
    pub register_name_server_period_ms: u64,
    /// `--shards`: one pinned glommio executor per shard. Default: number of CPUs.
    /// Range: 1..=256. Fixed for a store: a store written with N shards opens only with N.
    pub shards: u16,
    /// Pin shard *i* to CPU *i mod CPUs* (`pinShards`). Default: true.
    pub pin_shards: bool,
    /// glommio registered I/O memory per shard (`ioMemoryBytes`). Default: 1 MiB (fits the
    /// 8 MiB RLIMIT_MEMLOCK for several shards). Range: 512 KiB..=64 MiB.
    pub io_memory_bytes: usize,
    /// Spin this long (µs) before a shard's executor parks in the kernel when it has no work
    /// (`shardSpinBeforeParkUs`): trades CPU for the wake-up latency of cross-shard hops and
    /// new requests. Default: 0 (park at once). Range: 0..=10 000.
    pub shard_spin_before_park_us: u64,
    /// Largest frame accepted (`frameBytesMax`). Default: 16 MiB. Range: 64 KiB..=256 MiB.
    pub frame_bytes_max: usize,
    /// Connections accepted over all shards (`connectionsMax`). Default: 10 000.
    /// Range: 1..=1 000 000. Each shard accepts at most ⌈max / shards⌉.
    pub connections_max: u32,
    /// Requests being processed per connection (`inFlightPerConnectionMax`); past it the
    /// broker answers SYSTEM_BUSY. Default: 1 024. Range: 1..=65 536.
    pub in_flight_per_connection_max: u32,
    /// Depth of each shard's inbox (`shardInboxDepthMax`); full → SYSTEM_BUSY. Default:
    /// 4 096. Range: 16..=1 048 576.
    pub shard_inbox_depth_max: u32,
    /// Suspended (long-polling) pulls per shard (`pullSuspendedMax`); past it → SYSTEM_BUSY.
    /// Default: 65 536. Range: 1..=1 048 576.
    pub pull_suspended_max: u32,
    /// Messages per pull (`maxTransferCountOnMessageInMemory`). Default: 32. Range: 1..=1 024.
    pub pull_messages_max: u32,
    /// Bytes per pull (`maxTransferBytesOnMessageInMemory`). Default: 256 KiB.
    /// Range: 1 KiB..=`frameBytesMax` / 2.
    pub pull_bytes_max: u32,
    /// Longest long-poll suspension honoured (`longPollingSuspendMaxMs`). Default: 30 000.
    /// Range: 0..=300 000.
    pub long_polling_suspend_max_ms: u64,
    /// `flushConsumerOffsetInterval` (ms). Default: 5 000. Range: 100..=600 000.
    pub flush_consumer_offset_interval_ms: u64,
    /// `channelExpiredTimeout` (ms) without heartbeat before a client is dropped.
    /// Default: 120 000. Range: 10 000..=3 600 000.
    pub channel_expired_timeout_ms: u64,
    /// `rocketmq.broker.rebalance.lockMaxLiveTime` (ms): queue lock lease. Default: 60 000.
    /// Range: 1 000..=3 600 000.
    pub lock_lease_ms: u64,
    /// `regionId`, returned as `MSG_REGION`. Default: `DefaultRegion`.
    pub region_id: String,
    /// `traceOn`, returned as `TRACE_ON`. Default: true.
    pub trace_on: bool,
    /// `traceTopicEnable`: create the message-trace topic at startup (1 queue) for clients
    /// with message trace on. Default: false (as Java).
    pub trace_topic_enable: bool,
    /// `msgTraceTopicName`. Default: `RMQ_SYS_TRACE_TOPIC`.
    pub msg_trace_topic_name: String,
    /// `enablePropertyFilter`: allow SQL92 subscriptions. Default: false (as Java).
    pub enable_property_filter: bool,
    /// `enabledAppendPropCRC`: end every stored record with a `__CRC32#` property, a CRC of
    /// the whole record, so recovery also rejects a record torn or damaged outside its body
    /// (header, topic, properties). Costs 20 bytes per record, visible to consumers as a
    /// property. Default: false (as Java).
    pub enabled_append_prop_crc: bool,
    /// `timerMaxDelaySec`: the furthest a timer message (`TIMER_DELIVER_MS` /
    /// `TIMER_DELAY_MS` / `TIMER_DELAY_SEC`) may be scheduled. Default: 259 200 (3 days).
    /// Range: 1..=31 536 000 (one year).
    pub timer_max_delay_sec: u64,
    /// `transactionTimeOut` (ms): a half message younger than this is not checked back.
    /// Default: 6 000. Range: 1..=86 400 000.
    pub transaction_timeout_ms: u64,
    /// `transactionCheckInterval` (ms) between check-back scans. Default: 30 000.
    /// Range: 10..=86 400 000.
    pub transaction_check_interval_ms: u64,
    /// `transactionCheckMax`: check-backs before a half message goes to
    /// `TRANS_CHECK_MAX_TIME_TOPIC`. Default: 15. Range: 1..=1 000.
    pub transaction_check_max: u32,
}

/// The default `messageDelayLevel`.
pub const MESSAGE_DELAY_LEVEL_DEFAULT: &str =
    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// Shards are numbered in the top 16 bits of a physical offset, and 256 is plenty.
pub const SHARDS_MAX: u16 = 256;

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            broker_cluster_name: "DefaultCluster".to_owned(),
            broker_name: "broker-a".to_owned(),
            broker_id: 0,
            namesrv_addrs: Vec::new(),
            embedded_namesrv_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 9876)),
            listen_port: 10911,
            listen_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            broker_ip1: IpAddr::V4(Ipv4Addr::LOCALHOST),
            store_path_root_dir: PathBuf::from("./store"),
            flush_disk_type: FlushDiskType::AsyncFlush,
            broker_role: BrokerRole::AsyncMaster,
            flush_interval_commit_log_ms: 500,
            flush_commit_log_least_pages: 4,
            sync_flush_timeout_ms: 5_000,
            segment_size_bytes: 1 << 30,
            file_reserved_time_hours: 72,
            delete_when_hour: 4,
            disk_max_used_space_ratio: 75,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            max_message_size_bytes: 4 * 1024 * 1024,
            message_delay_levels_ms: parse_delay_levels(MESSAGE_DELAY_LEVEL_DEFAULT)
                .unwrap_or_default(),
            register_name_server_period_ms: 30_000,
            shards: default_shards(),
            pin_shards: true,
            io_memory_bytes: 1 << 20,
            shard_spin_before_park_us: 0,
            frame_bytes_max: protocol::frame::FRAME_BYTES_MAX_DEFAULT,
            connections_max: 10_000,
            in_flight_per_connection_max: 1_024,
            shard_inbox_depth_max: 4_096,
            pull_suspended_max: 65_536,
            pull_messages_max: 32,
            pull_bytes_max: 256 * 1024,
            long_polling_suspend_max_ms: 30_000,
            flush_consumer_offset_interval_ms: 5_000,
            channel_expired_timeout_ms: 120_000,
            lock_lease_ms: 60_000,
            region_id: "DefaultRegion".to_owned(),
            trace_on: true,
            trace_topic_enable: false,
            msg_trace_topic_name: protocol::header::topic::TRACE_TOPIC.to_owned(),
            enable_property_filter: false,
            enabled_append_prop_crc: false,
            timer_max_delay_sec: 3 * 86_400,
            transaction_timeout_ms: 6_000,
            transaction_check_interval_ms: 30_000,
            transaction_check_max: 15,
        }
    }
}

fn default_shards() -> u16 {
    std::thread::available_parallelism()
        .map(|count| u16::try_from(count.get()).unwrap_or(SHARDS_MAX))
        .unwrap_or(1)
        .clamp(1, SHARDS_MAX)
}

/// A configuration value that cannot be used; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration `{key}` = {value:?}: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub reason: String,
}

fn invalid(key: &str, value: impl ToString, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Command-line flags of the `broker` binary.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "broker", version, about = "RocketMQ-compatible broker")]
pub struct Flags {
    /// RocketMQ `broker.conf` properties file.
    #[arg(short = 'c', long = "config-file")]
    pub config_file: Option<PathBuf>,
    /// Name server list `host:port;host:port` (overrides `namesrvAddr`).
    #[arg(short = 'n', long = "namesrv-addr")]
    pub namesrv_addr: Option<String>,
    /// Listen port (overrides `listenPort`).
    #[arg(long = "listen-port")]
    pub listen_port: Option<u16>,
    /// Store root directory (overrides `storePathRootDir`).
    #[arg(long = "store")]
    pub store: Option<PathBuf>,
    /// Number of shards (one pinned executor each; default: number of CPUs).
    #[arg(long = "shards")]
    pub shards: Option<u16>,
}

impl BrokerConfig {
    /// Defaults, then the file named by `-c`, then the flags; validated.
    ///
    /// # Errors
    /// An unreadable file or an invalid value.
    pub fn from_flags(flags: &Flags) -> Result<BrokerConfig, ConfigError> {
        let mut config = BrokerConfig::default();
        if let Some(path) = &flags.config_file {
            let text = std::fs::read_to_string(path)
                .map_err(|error| invalid("-c", path.display(), error.to_string()))?;
            for warning in config.apply_properties(&text)? {
                tracing::warn!(target: "broker::config", file = %path.display(), "{warning}");
            }
        }
        if let Some(list) = &flags.namesrv_addr {
            config.namesrv_addrs = parse_namesrv_addrs(list)?;
        }
        if let Some(port) = flags.listen_port {
            config.listen_port = port;
        }
        if let Some(store) = &flags.store {
            config.store_path_root_dir.clone_from(store);
        }
        if let Some(shards) = flags.shards {
            config.shards = shards;
        }
        config.validate()?;
        Ok(config)
    }

    /// Applies a `broker.conf` text; returns one warning per unknown key.
    ///
    /// # Errors
    /// A known key with a value that does not parse.
    pub fn apply_properties(&mut self, text: &str) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        for (key, value) in parse_properties(text) {
            if !self.apply(&key, &value)? {
                warnings.push(format!("unknown configuration key `{key}` ignored"));
            }
        }
        Ok(warnings)
    }

    /// Applies one key; `Ok(false)` for an unknown key.
    fn apply(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match keys::find(key) {
            Some(known) => known.set(self, value).map(|()| true),
            None => Ok(false),
        }
    }

    /// This configuration with runtime `updates` applied (UPDATE_BROKER_CONFIG). The store
    /// sized its buffers for the startup `maxMessageSize`, so `message_size_ceiling` caps it.
    ///
    /// # Errors
    /// A key that is not runtime ([`keys::Key::runtime`]) or an invalid value, naming the key.
    pub fn updated(
        &self,
        updates: &[(String, String)],
        message_size_ceiling: u32,
    ) -> Result<BrokerConfig, ConfigError> {
        let mut next = self.clone();
        for (key, value) in updates {
            if !keys::find(key).is_some_and(|known| known.runtime) {
                return Err(invalid(
                    key,
                    value,
                    "applies at startup only: set it in broker.conf and restart",
                ));
            }
            next.apply(key, value)?;
        }
        next.validate()?;
        if next.max_message_size_bytes > message_size_ceiling {
            return Err(invalid(
                "maxMessageSize",
                next.max_message_size_bytes,
                format!("above the startup value {message_size_ceiling}: raise it in broker.conf and restart"),
            ));
        }
        Ok(next)
    }

    /// Checks every range and relationship; clamps `registerNameServerPeriod` as Java does.
    ///
    /// # Errors
    /// The first invalid value, naming its key.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if self.broker_cluster_name.trim().is_empty() {
            return Err(invalid("brokerClusterName", "", "must not be empty"));
        }
        // `@` joins a machine room and a name (`room@broker`), the form the clients'
        // AllocateMessageQueueByMachineRoom reads; Java does not restrict broker names.
        if !self
            .broker_name
            .split('@')
            .all(protocol::header::topic::is_legal_name)
        {
            return Err(invalid(
                "brokerName",
                &self.broker_name,
                "must be `name` or `room@name`, each non-empty and of [%|a-zA-Z0-9_-]",
            ));
        }
        range("brokerId", self.broker_id, 0, i64::MAX)?;
        range(
            "flushIntervalCommitLog",
            self.flush_interval_commit_log_ms,
            1,
            60_000,
        )?;
        range(
            "flushCommitLogLeastPages",
            self.flush_commit_log_least_pages,
            0,
            1_000_000,
        )?;
        range("syncFlushTimeout", self.sync_flush_timeout_ms, 1, 600_000)?;
        range(
            "mappedFileSizeCommitLog",
            self.segment_size_bytes,
            1 << 20,
            16 << 30,
        )?;
        range("fileReservedTime", self.file_reserved_time_hours, 1, 87_600)?;
        range("deleteWhen", self.delete_when_hour, 0, 23)?;
        range(
            "diskMaxUsedSpaceRatio",
            self.disk_max_used_space_ratio,
            10,
            95,
        )?;
        range(
            "defaultTopicQueueNums",
            self.default_topic_queue_nums,
            1,
            1_024,
        )?;
        range("frameBytesMax", self.frame_bytes_max, 64 * 1024, 256 << 20)?;
        let frame_max = u32::try_from(self.frame_bytes_max).unwrap_or(u32::MAX);
        range(
            "maxMessageSize",
            self.max_message_size_bytes,
            1024,
            frame_max,
        )?;
        if u64::from(self.max_message_size_bytes) * 2 > self.segment_size_bytes {
            return Err(invalid(
                "mappedFileSizeCommitLog",
                self.segment_size_bytes,
                "must be at least twice maxMessageSize",
            ));
        }
        range(
            "messageDelayLevel",
            self.message_delay_levels_ms.len(),
            1,
            64,
        )?;
        range("shards", self.shards, 1, SHARDS_MAX)?;
        range("timerMaxDelaySec", self.timer_max_delay_sec, 1, 31_536_000)?;
        range(
            "transactionTimeOut",
            self.transaction_timeout_ms,
            1,
            86_400_000,
        )?;
        range(
            "transactionCheckInterval",
            self.transaction_check_interval_ms,
            10,
            86_400_000,
        )?;
        range("transactionCheckMax", self.transaction_check_max, 1, 1_000)?;
        range("ioMemoryBytes", self.io_memory_bytes, 512 * 1024, 64 << 20)?;
        range(
            "shardSpinBeforeParkUs",
            self.shard_spin_before_park_us,
            0,
            10_000,
        )?;
        range("connectionsMax", self.connections_max, 1, 1_000_000)?;
        range(
            "inFlightPerConnectionMax",
            self.in_flight_per_connection_max,
            1,
            65_536,
        )?;
        range(
            "shardInboxDepthMax",
            self.shard_inbox_depth_max,
            16,
            1 << 20,
        )?;
        range("pullSuspendedMax", self.pull_suspended_max, 1, 1 << 20)?;
        range(
            "maxTransferCountOnMessageInMemory",
            self.pull_messages_max,
            1,
            1_024,
        )?;
        range(
            "maxTransferBytesOnMessageInMemory",
            self.pull_bytes_max,
            1024,
            frame_max / 2,
        )?;
        range(
            "longPollingSuspendMaxMs",
            self.long_polling_suspend_max_ms,
            0,
            300_000,
        )?;
        range(
            "flushConsumerOffsetInterval",
            self.flush_consumer_offset_interval_ms,
            100,
            600_000,
        )?;
        range(
            "channelExpiredTimeout",
            self.channel_expired_timeout_ms,
            10_000,
            3_600_000,
        )?;
        range("lockMaxLiveTime", self.lock_lease_ms, 1_000, 3_600_000)?;
        let clamped = self.register_name_server_period_ms.clamp(10_000, 60_000);
        if clamped != self.register_name_server_period_ms {
            tracing::warn!(
                target: "broker::config",
                from = self.register_name_server_period_ms,
                to = clamped,
                "registerNameServerPeriod clamped to 10000..=60000 ms"
            );
            self.register_name_server_period_ms = clamped;
        }
        Ok(())
    }

    /// `brokerIP1:listenPort`, the address name servers hand to clients.
    #[must_use]
    pub fn broker_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.broker_ip1, port)
    }

    /// Connections one shard accepts.
    #[must_use]
    pub fn connections_per_shard_max(&self) -> u32 {
        self.connections_max.div_ceil(u32::from(self.shards))
    }

    /// Directory of shard `index`'s store.
    #[must_use]
    pub fn shard_dir(&self, index: u16) -> PathBuf {
        self.store_path_root_dir.join(format!("shard-{index}"))
    }

    /// `<store>/config`, where topics, groups and offsets are persisted.
    #[must_use]
    pub fn config_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("config")
    }

    /// The register period as a duration.
    #[must_use]
    pub fn register_period(&self) -> Duration {
        Duration::from_millis(self.register_name_server_period_ms)
    }

    /// A configuration for in-process tests: ports 0, loopback, 2 unpinned shards, small
    /// segments and limits, store under `dir`.
    #[must_use]
    pub fn for_tests(dir: &Path) -> BrokerConfig {
        BrokerConfig {
            embedded_namesrv_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            listen_port: 0,
            listen_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            store_path_root_dir: dir.to_path_buf(),
            segment_size_bytes: 1 << 20,
            max_message_size_bytes: 256 * 1024,
            shards: 2,
            pin_shards: false,
            ..BrokerConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let mut config = BrokerConfig::default();
        config.validate().expect("defaults valid");
        assert_eq!(config.listen_port, 10911);
        assert_eq!(config.default_topic_queue_nums, 8);
        assert_eq!(config.message_delay_levels_ms.len(), 18);
        assert_eq!(config.message_delay_levels_ms[4], 60_000);
        assert_eq!(config.file_reserved_time_hours, 72);
        assert_eq!(config.delete_when_hour, 4);
        assert!(config.shards >= 1);
    }

    #[test]
    fn broker_conf_keys_apply_and_unknown_keys_warn() {
        let text = "# comment\n brokerClusterName = C1\nbrokerName=broker-b\nbrokerId=1\n\
                    namesrvAddr=127.0.0.1:9876;127.0.0.1:9877\nlistenPort: 10922\n\
                    storePathRootDir=/tmp/x\nflushDiskType=SYNC_FLUSH\nbrokerRole=SLAVE\n\
                    fileReservedTime=48\ndeleteWhen=03;15\nautoCreateTopicEnable=false\n\
                    defaultTopicQueueNums=4\nbrokerIP1=10.1.2.3\nmaxMessageSize=65536\n\
                    messageDelayLevel=1s 2m 1h 1d\nbrokerPermission=6\n";
        let mut config = BrokerConfig::default();
        let warnings = config.apply_properties(text).expect("applies");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("brokerPermission"));
        config.validate().expect("valid");
        assert_eq!(config.broker_cluster_name, "C1");
        assert_eq!(config.broker_name, "broker-b");
        assert_eq!(config.broker_id, 1);
        assert_eq!(config.namesrv_addrs.len(), 2);
        assert_eq!(config.listen_port, 10922);
        assert_eq!(config.store_path_root_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.flush_disk_type, FlushDiskType::SyncFlush);
        assert_eq!(config.broker_role, BrokerRole::Slave);
        assert_eq!(config.file_reserved_time_hours, 48);
        assert_eq!(config.delete_when_hour, 3);
        assert!(!config.auto_create_topic_enable);
        assert_eq!(config.default_topic_queue_nums, 4);
        assert_eq!(config.broker_ip1, "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(config.max_message_size_bytes, 65_536);
        assert_eq!(
            config.message_delay_levels_ms,
            vec![1_000, 120_000, 3_600_000, 86_400_000]
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        let mut config = BrokerConfig::default();
        let error = config
            .apply_properties("flushDiskType=SOMETIMES")
            .expect_err("refused");
        assert_eq!(error.key, "flushDiskType");
        let error = config
            .apply_properties("listenPort=70000")
            .expect_err("refused");
        assert_eq!(error.key, "listenPort");
        let error = config
            .apply_properties("messageDelayLevel=1x")
            .expect_err("refused");
        assert_eq!(error.key, "messageDelayLevel");

        let mut config = BrokerConfig {
            default_topic_queue_nums: 0,
            ..BrokerConfig::default()
        };
        assert_eq!(
            config.validate().expect_err("refused").key,
            "defaultTopicQueueNums"
        );
        let mut config = BrokerConfig {
            shards: 0,
            ..BrokerConfig::default()
        };
        assert_eq!(config.validate().expect_err("refused").key, "shards");
        let mut config = BrokerConfig {
            broker_name: "bad name".to_owned(),
            ..BrokerConfig::default()
        };
        assert_eq!(config.validate().expect_err("refused").key, "brokerName");
        let mut config = BrokerConfig {
            broker_name: "room1@".to_owned(),
            ..BrokerConfig::default()
        };
        assert_eq!(config.validate().expect_err("refused").key, "brokerName");
        let mut config = BrokerConfig {
            broker_name: "room1@broker-a".to_owned(),
            ..BrokerConfig::default()
        };
        config.validate().expect("a machine-room prefix is allowed");
    }

    #[test]
    fn register_period_is_clamped() {
        let mut config = BrokerConfig {
            register_name_server_period_ms: 1_000,
            ..BrokerConfig::default()
        };
        config.validate().expect("valid");
        assert_eq!(config.register_name_server_period_ms, 10_000);
    }

    #[test]
    fn flags_override_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("broker.conf");
        std::fs::write(&path, "listenPort=1234\nnamesrvAddr=127.0.0.1:1\n").expect("write");
        let flags = Flags {
            config_file: Some(path),
            namesrv_addr: Some("127.0.0.1:2".to_owned()),
            listen_port: None,
            store: Some(PathBuf::from("/tmp/s")),
            shards: Some(3),
        };
        let config = BrokerConfig::from_flags(&flags).expect("valid");
        assert_eq!(config.listen_port, 1234);
        assert_eq!(config.namesrv_addrs, vec!["127.0.0.1:2".parse().unwrap()]);
        assert_eq!(config.store_path_root_dir, PathBuf::from("/tmp/s"));
        assert_eq!(config.shards, 3);
    }
}
