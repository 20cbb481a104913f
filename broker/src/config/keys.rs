//! Every `broker.conf` key in one table: how it is parsed into [`BrokerConfig`], how
//! GET_BROKER_CONFIG renders it, and whether UPDATE_BROKER_CONFIG may change it at runtime.
//! Runtime keys are the ones the shards read per request; the rest size or wire up the
//! broker at startup.

use std::path::PathBuf;

use super::values::{boolean, ip, number, socket_addr};
use super::{invalid, parse_delay_levels, parse_namesrv_addrs};
use super::{BrokerConfig, BrokerRole, ConfigError, FlushDiskType};

type Set = fn(&mut BrokerConfig, &str, &str) -> Result<(), ConfigError>;
type Get = fn(&BrokerConfig) -> String;

/// One configuration key.
pub struct Key {
    /// The name in `broker.conf` (Java's field name).
    pub name: &'static str,
    /// May change while running (UPDATE_BROKER_CONFIG).
    pub runtime: bool,
    set: Set,
    get: Get,
}

impl Key {
    /// Parses `value` (trimmed) into `config`.
    ///
    /// # Errors
    /// A value that does not parse, naming the key.
    pub fn set(&self, config: &mut BrokerConfig, value: &str) -> Result<(), ConfigError> {
        (self.set)(config, self.name, value.trim())
    }

    /// The value as `broker.conf` text (parsing it back gives the same value).
    #[must_use]
    pub fn get(&self, config: &BrokerConfig) -> String {
        (self.get)(config)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Key")
            .field("name", &self.name)
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

/// A key whose value parses with `$parse` ([`number`], [`boolean`] or [`ip`]: `(key, value)`
/// to a result) into a field and renders with `to_string`; `text` keys take the value as is.
macro_rules! key {
    (text $name:literal => $field:ident, $runtime:expr) => {
        Key {
            name: $name,
            runtime: $runtime,
            set: |config, _, value| {
                config.$field = value.to_owned();
                Ok(())
            },
            get: |config| config.$field.clone(),
        }
    };
    ($parse:ident $name:literal => $field:ident, $runtime:expr) => {
        Key {
            name: $name,
            runtime: $runtime,
            set: |config, key, value| {
                config.$field = $parse(key, value)?;
                Ok(())
            },
            get: |config| config.$field.to_string(),
        }
    };
}

const RUNTIME: bool = true;
const STARTUP: bool = false;

/// Every key, sorted by name.
pub static KEYS: &[Key] = &[
    key!(boolean "autoCreateSubscriptionGroup" => auto_create_subscription_group, RUNTIME),
    key!(boolean "autoCreateTopicEnable" => auto_create_topic_enable, RUNTIME),
    key!(text "brokerClusterName" => broker_cluster_name, STARTUP),
    key!(ip "brokerIP1" => broker_ip1, STARTUP),
    key!(number "brokerId" => broker_id, STARTUP),
    key!(text "brokerName" => broker_name, STARTUP),
    Key {
        name: "brokerRole",
        runtime: STARTUP,
        set: |config, key, value| {
            config.broker_role = match value {
                "ASYNC_MASTER" => BrokerRole::AsyncMaster,
                "SYNC_MASTER" => BrokerRole::SyncMaster,
                "SLAVE" => BrokerRole::Slave,
                _ => {
                    return Err(invalid(
                        key,
                        value,
                        "expected ASYNC_MASTER, SYNC_MASTER or SLAVE",
                    ))
                }
            };
            Ok(())
        },
        get: |config| {
            match config.broker_role {
                BrokerRole::AsyncMaster => "ASYNC_MASTER",
                BrokerRole::SyncMaster => "SYNC_MASTER",
                BrokerRole::Slave => "SLAVE",
            }
            .to_owned()
        },
    },
    key!(number "channelExpiredTimeout" => channel_expired_timeout_ms, RUNTIME),
    key!(number "connectionsMax" => connections_max, STARTUP),
    key!(number "defaultTopicQueueNums" => default_topic_queue_nums, STARTUP),
    Key {
        name: "deleteWhen",
        runtime: STARTUP,
        // Java accepts `04;16`; the first hour is used.
        set: |config, key, value| {
            config.delete_when_hour = number(key, value.split(';').next().unwrap_or(""))?;
            Ok(())
        },
        get: |config| format!("{:02}", config.delete_when_hour),
    },
    key!(number "diskMaxUsedSpaceRatio" => disk_max_used_space_ratio, STARTUP),
    Key {
        name: "embeddedNamesrvAddr",
        runtime: STARTUP,
        set: |config, key, value| {
            config.embedded_namesrv_addr = socket_addr(key, value)?;
            Ok(())
        },
        get: |config| config.embedded_namesrv_addr.to_string(),
    },
    key!(boolean "enablePropertyFilter" => enable_property_filter, RUNTIME),
    key!(boolean "enabledAppendPropCRC" => enabled_append_prop_crc, STARTUP),
    key!(number "fileReservedTime" => file_reserved_time_hours, STARTUP),
    key!(number "flushCommitLogLeastPages" => flush_commit_log_least_pages, STARTUP),
    key!(number "flushConsumerOffsetInterval" => flush_consumer_offset_interval_ms, STARTUP),
    Key {
        name: "flushDiskType",
        runtime: STARTUP,
        set: |config, key, value| {
            config.flush_disk_type = match value {
                "ASYNC_FLUSH" => FlushDiskType::AsyncFlush,
                "SYNC_FLUSH" => FlushDiskType::SyncFlush,
                _ => return Err(invalid(key, value, "expected ASYNC_FLUSH or SYNC_FLUSH")),
            };
            Ok(())
        },
        get: |config| {
            match config.flush_disk_type {
                FlushDiskType::AsyncFlush => "ASYNC_FLUSH",
                FlushDiskType::SyncFlush => "SYNC_FLUSH",
            }
            .to_owned()
        },
    },
    key!(number "flushIntervalCommitLog" => flush_interval_commit_log_ms, STARTUP),
    key!(number "frameBytesMax" => frame_bytes_max, STARTUP),
    key!(number "inFlightPerConnectionMax" => in_flight_per_connection_max, STARTUP),
    key!(number "ioMemoryBytes" => io_memory_bytes, STARTUP),
    key!(ip "listenIp" => listen_ip, STARTUP),
    key!(number "listenPort" => listen_port, STARTUP),
    key!(number "lockMaxLiveTime" => lock_lease_ms, RUNTIME),
    key!(number "longPollingSuspendMaxMs" => long_polling_suspend_max_ms, RUNTIME),
    key!(number "mappedFileSizeCommitLog" => segment_size_bytes, STARTUP),
    key!(number "maxMessageSize" => max_message_size_bytes, RUNTIME),
    key!(number "maxTransferBytesOnMessageInMemory" => pull_bytes_max, RUNTIME),
    key!(number "maxTransferCountOnMessageInMemory" => pull_messages_max, RUNTIME),
    Key {
        name: "messageDelayLevel",
        runtime: STARTUP,
        set: |config, key, value| {
            config.message_delay_levels_ms =
                parse_delay_levels(value).map_err(|reason| invalid(key, value, reason))?;
            Ok(())
        },
        get: |config| {
            config
                .message_delay_levels_ms
                .iter()
                .map(|&ms| render_duration_ms(ms))
                .collect::<Vec<_>>()
                .join(" ")
        },
    },
    Key {
        name: "msgTraceTopicName",
        runtime: STARTUP,
        set: |config, key, value| {
            protocol::header::topic::validate_topic(value)
                .map_err(|reason| invalid(key, value, reason.to_string()))?;
            config.msg_trace_topic_name = value.to_owned();
            Ok(())
        },
        get: |config| config.msg_trace_topic_name.clone(),
    },
    Key {
        name: "namesrvAddr",
        runtime: STARTUP,
        set: |config, _, value| {
            config.namesrv_addrs = parse_namesrv_addrs(value)?;
            Ok(())
        },
        get: |config| {
            config
                .namesrv_addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(";")
        },
    },
    key!(boolean "pinShards" => pin_shards, STARTUP),
    key!(number "pullSuspendedMax" => pull_suspended_max, STARTUP),
    key!(text "regionId" => region_id, RUNTIME),
    key!(number "registerNameServerPeriod" => register_name_server_period_ms, STARTUP),
    key!(number "shardInboxDepthMax" => shard_inbox_depth_max, STARTUP),
    key!(number "shardSpinBeforeParkUs" => shard_spin_before_park_us, STARTUP),
    key!(number "shards" => shards, STARTUP),
    Key {
        name: "storePathRootDir",
        runtime: STARTUP,
        set: |config, _, value| {
            config.store_path_root_dir = PathBuf::from(value);
            Ok(())
        },
        get: |config| config.store_path_root_dir.display().to_string(),
    },
    key!(number "syncFlushTimeout" => sync_flush_timeout_ms, STARTUP),
    key!(number "timerMaxDelaySec" => timer_max_delay_sec, RUNTIME),
    key!(boolean "traceOn" => trace_on, RUNTIME),
    key!(boolean "traceTopicEnable" => trace_topic_enable, STARTUP),
    key!(number "transactionCheckInterval" => transaction_check_interval_ms, STARTUP),
    key!(number "transactionCheckMax" => transaction_check_max, RUNTIME),
    key!(number "transactionTimeOut" => transaction_timeout_ms, RUNTIME),
];

/// The key named `name`.
#[must_use]
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// A delay level as `messageDelayLevel` writes it: `2h`, `10m`, `30s` or `500ms`.
fn render_duration_ms(ms: u64) -> String {
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_unique() {
        assert!(KEYS.windows(2).all(|pair| pair[0].name < pair[1].name));
    }

    #[test]
    fn every_key_renders_what_it_parses() {
        let config = BrokerConfig {
            namesrv_addrs: parse_namesrv_addrs("127.0.0.1:9876;127.0.0.1:9877").expect("addrs"),
            ..BrokerConfig::default()
        };
        for key in KEYS {
            let text = key.get(&config);
            let mut again = BrokerConfig::default();
            key.set(&mut again, &text)
                .unwrap_or_else(|error| panic!("{}={text}: {error}", key.name));
            assert_eq!(key.get(&again), text, "{}", key.name);
        }
    }
}
