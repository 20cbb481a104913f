//! [`NamesrvConfig`]: every setting of the name server, with its default and bounds.
//!
//! The file format is Java properties (`key=value`, `#`/`!` comments), like RocketMQ's
//! `namesrv.properties`, with RocketMQ's key names where a setting exists there. Keys that
//! only tune the Java implementation (thread pools, Netty buffers) are accepted and ignored
//! with a warning; any other unknown key is an error. UPDATE_NAMESRV_CONFIG (318) changes
//! the runtime keys ([`NamesrvConfig::is_runtime_key`]) of a running server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use thiserror::Error;

/// A rejected configuration value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("unknown configuration key `{0}`")]
    UnknownKey(String),
    #[error("configuration key `{key}` has an invalid value {value:?}: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: &'static str,
    },
    #[error("configuration key `{key}` = {value} is outside [{minimum}, {maximum}]")]
    OutOfRange {
        key: &'static str,
        value: u64,
        minimum: u64,
        maximum: u64,
    },
    #[error("line {line} of the properties text has no `=`: {text:?}")]
    MalformedLine { line: usize, text: String },
}

/// What [`NamesrvConfig::set`] did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Applied,
    /// A Java-only tuning key: accepted for compatibility, has no effect here.
    Ignored,
}

/// The name server's settings. Each is validated once by [`NamesrvConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesrvConfig {
    /// `bindAddress`: address to listen on. Default: 127.0.0.1.
    pub bind: IpAddr,
    /// `listenPort`: TCP port; 0 picks a free port. Default: 9876.
    pub listen_port: u16,
    /// `frameBytesMax`: the largest accepted frame (after the length prefix); a larger
    /// frame closes the connection, as Java's `com.rocketmq.remoting.frameMaxLength` does.
    /// Default: 16 MiB. Minimum: 64 KiB. Maximum: 1 GiB.
    pub frame_bytes_max: usize,
    /// `connectionsMax`: connections served at once; more are closed right after accept.
    /// Default: 4096. Minimum: 1. Maximum: 1 000 000.
    pub connections_max: usize,
    /// `connectionIdleTimeoutMs`: a connection silent this long is closed (Java's
    /// `serverChannelMaxIdleTimeSeconds` = 120 s). 0 = never. Default: 120 000.
    /// Maximum: 86 400 000.
    pub connection_idle_timeout_ms: u64,
    /// `scanNotActiveBrokerIntervalMs` (Java `scanNotActiveBrokerInterval`): period of the
    /// broker liveness scan. Default: 5 000. Minimum: 10. Maximum: 600 000.
    pub scan_not_active_broker_interval_ms: u64,
    /// `brokerChannelExpiredTimeMs`: a broker not heard from for this long is removed,
    /// unless its registration carried `heartbeatTimeoutMillis` (Java's
    /// `DEFAULT_BROKER_CHANNEL_EXPIRED_TIME`). Default: 120 000. Minimum: 10.
    /// Maximum: 86 400 000.
    pub broker_channel_expired_time_ms: u64,
    /// `topicsPerRegistrationMax`: a REGISTER_BROKER with more topics is refused with
    /// INVALID_PARAMETER. Default: 1 000 000. Minimum: 1. Maximum: 10 000 000.
    pub topics_per_registration_max: usize,
    /// `registerBodyInflatedBytesMax`: cap on the inflated size of a compressed register
    /// body. Default: 64 MiB. Minimum: 64 KiB. Maximum: 1 GiB.
    pub register_body_inflated_bytes_max: usize,
    /// `orderMessageEnable`: put the ORDER_TOPIC_CONFIG KV value of a topic into its route
    /// as `orderTopicConf`. Default: true (Java: false; the value only exists when an admin
    /// set one, so serving it costs nothing otherwise).
    pub order_message_enable: bool,
    /// `returnOrderTopicConfigToBroker`: answer REGISTER_BROKER with the ORDER_TOPIC_CONFIG
    /// KV table. Default: true.
    pub return_order_topic_config_to_broker: bool,
    /// `enableAllTopicList`: serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206). Default: true.
    pub enable_all_topic_list: bool,
    /// `enableTopicList`: serve GET_TOPICS_BY_CLUSTER and the unit topic lists.
    /// Default: true.
    pub enable_topic_list: bool,
    /// `deleteTopicWithBrokerRegistration`: a registration removes the broker's topics
    /// that its topic table no longer lists. Default: false.
    pub delete_topic_with_broker_registration: bool,
    /// `supportActingMaster`: when a broker group has no master, serve its lowest slave
    /// as master for read-only queues (slave-acting-master). Default: false.
    pub support_acting_master: bool,
    /// `kvConfigPath`: file the KV config persists to (`{"configTable":{…}}`, as Java's
    /// `kvConfig.json`). Default: none (KV config lives in memory only).
    pub kv_config_path: Option<PathBuf>,
}

/// The default port (`NamesrvStartup`).
pub const LISTEN_PORT_DEFAULT: u16 = 9876;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
const DAY_MS: u64 = 86_400_000;

impl Default for NamesrvConfig {
    fn default() -> Self {
        NamesrvConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            listen_port: LISTEN_PORT_DEFAULT,
            frame_bytes_max: protocol::frame::FRAME_BYTES_MAX_DEFAULT,
            connections_max: 4096,
            connection_idle_timeout_ms: 120_000,
            scan_not_active_broker_interval_ms: 5_000,
            broker_channel_expired_time_ms: 120_000,
            topics_per_registration_max: 1_000_000,
            register_body_inflated_bytes_max: protocol::body::route::INFLATED_BYTES_MAX_DEFAULT,
            order_message_enable: true,
            return_order_topic_config_to_broker: true,
            enable_all_topic_list: true,
            enable_topic_list: true,
            delete_topic_with_broker_registration: false,
            support_acting_master: false,
            kv_config_path: None,
        }
    }
}

/// Java-only keys accepted and ignored (they tune Java thread pools, Netty and features
/// this server does not have).
const IGNORED_KEYS: &[&str] = &[
    "rocketmqHome",
    "configStorePath",
    "configBlackList",
    "productEnvName",
    "clusterTest",
    "clientRequestThreadPoolNums",
    "defaultThreadPoolNums",
    "clientRequestThreadPoolQueueCapacity",
    "defaultThreadPoolQueueCapacity",
    "unRegisterBrokerQueueCapacity",
    "notifyMinBrokerIdChanged",
    "enableControllerInNamesrv",
    "needWaitForService",
    "waitSecondsForService",
    "serverWorkerThreads",
    "serverCallbackExecutorThreads",
    "serverSelectorThreads",
    "serverOnewaySemaphoreValue",
    "serverAsyncSemaphoreValue",
    "serverSocketSndBufSize",
    "serverSocketRcvBufSize",
    "serverSocketBacklog",
    "serverPooledByteBufAllocatorEnable",
    "useEpollNativeSelector",
    "writeBufferHighWaterMark",
    "writeBufferLowWaterMark",
];

/// Keys UPDATE_NAMESRV_CONFIG may not change (Java's `configBlackList` default plus
/// `rocketmqHome`).
pub const UPDATE_BLACK_LIST: &[&str] = &[
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "rocketmqHome",
];

/// Keys that take effect on a running server.
const RUNTIME_KEYS: &[&str] = &[
    "brokerChannelExpiredTimeMs",
    "topicsPerRegistrationMax",
    "registerBodyInflatedBytesMax",
    "orderMessageEnable",
    "returnOrderTopicConfigToBroker",
    "enableAllTopicList",
    "enableTopicList",
    "deleteTopicWithBrokerRegistration",
    "supportActingMaster",
];

impl NamesrvConfig {
    /// Defaults overridden by `text` (properties format), then validated.
    ///
    /// # Errors
    /// A malformed line, an unknown key, an unparsable or out-of-range value.
    pub fn from_properties(text: &str) -> Result<NamesrvConfig, ConfigError> {
        let mut config = NamesrvConfig::default();
        for (key, value) in parse_properties(text)? {
            if config.set(&key, &value)? == Setting::Ignored {
                tracing::warn!(target: "namesrv::config", key, "ignoring a Java-only setting");
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// The address to bind.
    #[must_use]
    pub fn listen_address(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.listen_port)
    }

    /// Whether `key` takes effect on a running server.
    #[must_use]
    pub fn is_runtime_key(key: &str) -> bool {
        RUNTIME_KEYS.contains(&key)
    }

    /// Sets one key from its text value (not validated; call [`NamesrvConfig::validate`]).
    ///
    /// # Errors
    /// An unknown key or an unparsable value.
    pub fn set(&mut self, key: &str, value: &str) -> Result<Setting, ConfigError> {
        let value = value.trim();
        match key {
            "bindAddress" => self.bind = parse(key, value)?,
            "listenPort" => self.listen_port = parse(key, value)?,
            "frameBytesMax" => self.frame_bytes_max = parse(key, value)?,
            "connectionsMax" => self.connections_max = parse(key, value)?,
            "connectionIdleTimeoutMs" => self.connection_idle_timeout_ms = parse(key, value)?,
            "serverChannelMaxIdleTimeSeconds" => {
                let seconds: u64 = parse(key, value)?;
                self.connection_idle_timeout_ms = seconds.saturating_mul(1000);
            }
            "scanNotActiveBrokerIntervalMs" | "scanNotActiveBrokerInterval" => {
                self.scan_not_active_broker_interval_ms = parse(key, value)?;
            }
            "brokerChannelExpiredTimeMs" => {
                self.broker_channel_expired_time_ms = parse(key, value)?;
            }
            "topicsPerRegistrationMax" => self.topics_per_registration_max = parse(key, value)?,
            "registerBodyInflatedBytesMax" => {
                self.register_body_inflated_bytes_max = parse(key, value)?;
            }
            "orderMessageEnable" => self.order_message_enable = parse_bool(key, value)?,
            "returnOrderTopicConfigToBroker" => {
                self.return_order_topic_config_to_broker = parse_bool(key, value)?;
            }
            "enableAllTopicList" => self.enable_all_topic_list = parse_bool(key, value)?,
            "enableTopicList" => self.enable_topic_list = parse_bool(key, value)?,
            "deleteTopicWithBrokerRegistration" => {
                self.delete_topic_with_broker_registration = parse_bool(key, value)?;
            }
            "supportActingMaster" => self.support_acting_master = parse_bool(key, value)?,
            "kvConfigPath" => {
                self.kv_config_path = (!value.is_empty()).then(|| PathBuf::from(value));
            }
            other if IGNORED_KEYS.contains(&other) => return Ok(Setting::Ignored),
            other => return Err(ConfigError::UnknownKey(other.to_owned())),
        }
        Ok(Setting::Applied)
    }

    /// Checks every bound.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the first value outside its bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check("frameBytesMax", to_u64(self.frame_bytes_max), 64 * KIB, GIB)?;
        check("connectionsMax", to_u64(self.connections_max), 1, 1_000_000)?;
        check(
            "connectionIdleTimeoutMs",
            self.connection_idle_timeout_ms,
            0,
            DAY_MS,
        )?;
        check(
            "scanNotActiveBrokerIntervalMs",
            self.scan_not_active_broker_interval_ms,
            10,
            600_000,
        )?;
        check(
            "brokerChannelExpiredTimeMs",
            self.broker_channel_expired_time_ms,
            10,
            DAY_MS,
        )?;
        check(
            "topicsPerRegistrationMax",
            to_u64(self.topics_per_registration_max),
            1,
            10_000_000,
        )?;
        check(
            "registerBodyInflatedBytesMax",
            to_u64(self.register_body_inflated_bytes_max),
            64 * KIB,
            GIB,
        )?;
        Ok(())
    }

    /// All settings as `key=value` lines, sorted by key (GET_NAMESRV_CONFIG's body).
    #[must_use]
    pub fn to_properties(&self) -> String {
        let mut pairs = [
            ("bindAddress", self.bind.to_string()),
            ("listenPort", self.listen_port.to_string()),
            ("frameBytesMax", self.frame_bytes_max.to_string()),
            ("connectionsMax", self.connections_max.to_string()),
            (
                "connectionIdleTimeoutMs",
                self.connection_idle_timeout_ms.to_string(),
            ),
            (
                "scanNotActiveBrokerIntervalMs",
                self.scan_not_active_broker_interval_ms.to_string(),
            ),
            (
                "brokerChannelExpiredTimeMs",
                self.broker_channel_expired_time_ms.to_string(),
            ),
            (
                "topicsPerRegistrationMax",
                self.topics_per_registration_max.to_string(),
            ),
            (
                "registerBodyInflatedBytesMax",
                self.register_body_inflated_bytes_max.to_string(),
            ),
            ("orderMessageEnable", self.order_message_enable.to_string()),
            (
                "returnOrderTopicConfigToBroker",
                self.return_order_topic_config_to_broker.to_string(),
            ),
            ("enableAllTopicList", self.enable_all_topic_list.to_string()),
            ("enableTopicList", self.enable_topic_list.to_string()),
            (
                "deleteTopicWithBrokerRegistration",
                self.delete_topic_with_broker_registration.to_string(),
            ),
            (
                "supportActingMaster",
                self.support_acting_master.to_string(),
            ),
            (
                "kvConfigPath",
                self.kv_config_path
                    .as_ref()
                    .map(|path| path.display().to_string())
                    .unwrap_or_default(),
            ),
        ];
        pairs.sort_by_key(|(key, _)| *key);
        let mut text = String::new();
        for (key, value) in pairs {
            text.push_str(key);
            text.push('=');
            text.push_str(&value);
            text.push('\n');
        }
        text
    }
}

/// Parses Java-properties text: `key=value` or `key:value` per line, `#`/`!` comments,
/// blank lines skipped, key and value trimmed. Escapes and line continuations are not
/// supported (RocketMQ's own files do not use them).
///
/// # Errors
/// [`ConfigError::MalformedLine`] for a non-comment line without a separator.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            return Err(ConfigError::MalformedLine {
                line: index + 1,
                text: line.to_owned(),
            });
        };
        pairs.push((
            line[..split].trim().to_owned(),
            line[split + 1..].trim().to_owned(),
        ));
    }
    Ok(pairs)
}

fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::InvalidValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: "not a value of the expected type",
    })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "true" | "TRUE" | "True" => Ok(true),
        "false" | "FALSE" | "False" => Ok(false),
        _ => Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: "not true or false",
        }),
    }
}

fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

fn check(key: &'static str, value: u64, minimum: u64, maximum: u64) -> Result<(), ConfigError> {
    if (minimum..=maximum).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value,
            minimum,
            maximum,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = NamesrvConfig::default();
        config.validate().unwrap();
        assert_eq!(config.listen_address().to_string(), "127.0.0.1:9876");
        assert_eq!(config.frame_bytes_max, 16 * 1024 * 1024);
        assert_eq!(config.scan_not_active_broker_interval_ms, 5_000);
        assert_eq!(config.broker_channel_expired_time_ms, 120_000);
    }

    #[test]
    fn properties_file_round_trip() {
        let text = "# comment\n\nlistenPort = 9877\nscanNotActiveBrokerInterval=1000\n\
                    rocketmqHome=/opt/rocketmq\norderMessageEnable=false\nbindAddress:0.0.0.0\n";
        let config = NamesrvConfig::from_properties(text).unwrap();
        assert_eq!(config.listen_port, 9877);
        assert_eq!(config.scan_not_active_broker_interval_ms, 1000);
        assert!(!config.order_message_enable);
        assert_eq!(config.bind.to_string(), "0.0.0.0");
        let again = NamesrvConfig::from_properties(&config.to_properties()).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn bad_properties_are_errors() {
        assert!(matches!(
            NamesrvConfig::from_properties("nope=1"),
            Err(ConfigError::UnknownKey(_))
        ));
        assert!(matches!(
            NamesrvConfig::from_properties("listenPort=99999"),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            NamesrvConfig::from_properties("connectionsMax=0"),
            Err(ConfigError::OutOfRange { .. })
        ));
        assert!(matches!(
            NamesrvConfig::from_properties("just a line"),
            Err(ConfigError::MalformedLine { line: 1, .. })
        ));
        assert!(matches!(
            NamesrvConfig::from_properties("enableTopicList=yes"),
            Err(ConfigError::InvalidValue { .. })
        ));
    }
}
