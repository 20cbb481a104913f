//! Client-wide settings shared by producers and consumers ([`ClientConfig`]) and the name
//! server address lookup.
//!
//! Name server address priority (highest first), as RocketMQ's client: the address set in
//! the options; the `rocketmq.namesrv.addr` property (the JVM `-D` system property; here a
//! process-wide property set with [`set_system_property`]); the `NAMESRV_ADDR` environment
//! variable. (RocketMQ's fourth source, an HTTP address server, is not supported.)
//! Addresses are separated by `;` (also `,`).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use protocol::SerializeType;

use crate::error::{ClientError, Result};

/// The property holding the name server list.
pub const NAMESRV_ADDR_PROPERTY: &str = "rocketmq.namesrv.addr";
/// The environment variable holding the name server list.
pub const NAMESRV_ADDR_ENV: &str = "NAMESRV_ADDR";

fn properties() -> &'static RwLock<HashMap<String, String>> {
    static PROPERTIES: OnceLock<RwLock<HashMap<String, String>>> = OnceLock::new();
    PROPERTIES.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Sets a process-wide client property (the counterpart of Java's `System.setProperty`).
pub fn set_system_property(key: &str, value: &str) {
    if let Ok(mut map) = properties().write() {
        map.insert(key.to_owned(), value.to_owned());
    }
}

/// Removes a process-wide client property.
pub fn clear_system_property(key: &str) {
    if let Ok(mut map) = properties().write() {
        map.remove(key);
    }
}

/// Reads a process-wide client property.
#[must_use]
pub fn system_property(key: &str) -> Option<String> {
    properties().read().ok()?.get(key).cloned()
}

/// Splits an address list on `;` and `,`, dropping blanks.
#[must_use]
pub fn split_addrs(list: &str) -> Vec<String> {
    list.split([';', ','])
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Resolves the name server list: `explicit`, then the property, then the environment.
///
/// # Errors
/// [`ClientError::NoNameServer`] when no source has an address.
pub fn resolve_namesrv_addrs(explicit: Option<&str>) -> Result<Vec<String>> {
    let candidates = [
        explicit.map(str::to_owned),
        system_property(NAMESRV_ADDR_PROPERTY),
        std::env::var(NAMESRV_ADDR_ENV).ok(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|list| split_addrs(&list))
        .find(|addrs| !addrs.is_empty())
        .ok_or(ClientError::NoNameServer)
}

/// Settings of one client instance (RocketMQ's `ClientConfig`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name server list (`host:port;host:port`). Default: none (see the module docs).
    pub namesrv_addr: Option<String>,
    /// Instance name; the client id is `ip@instance_name`. Default: `pid#nanos`, so two
    /// clients in one process never share an id.
    pub instance_name: Option<String>,
    /// The IP put in the client id and message ids. Default: the first non-loopback address
    /// found, else 127.0.0.1.
    pub client_ip: Option<String>,
    /// Timeout of ordinary requests. Default: 3 000 ms.
    pub request_timeout: Duration,
    /// Connect timeout. Default: 3 000 ms.
    pub connect_timeout: Duration,
    /// Route refresh interval (`pollNameServerInterval`). Default: 30 s. Minimum: 1 s.
    pub poll_namesrv_interval: Duration,
    /// Heartbeat interval (`heartbeatBrokerInterval`). Default: 30 s. Minimum: 1 s.
    pub heartbeat_interval: Duration,
    /// Header encoding of requests. Default: JSON (what the Java client sends).
    pub serialize_type: SerializeType,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            namesrv_addr: None,
            instance_name: None,
            client_ip: None,
            request_timeout: Duration::from_millis(3000),
            connect_timeout: Duration::from_millis(3000),
            poll_namesrv_interval: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(30),
            serialize_type: SerializeType::Json,
        }
    }
}

impl ClientConfig {
    /// A config for the given name server list.
    #[must_use]
    pub fn with_namesrv(addr: impl Into<String>) -> ClientConfig {
        ClientConfig {
            namesrv_addr: Some(addr.into()),
            ..ClientConfig::default()
        }
    }

    /// Clamps intervals to their minimums; returns what changed, for logging.
    pub fn sanitize(&mut self) -> Vec<String> {
        let mut changes = Vec::new();
        let minimum = Duration::from_secs(1);
        for (name, value) in [
            ("poll_namesrv_interval", &mut self.poll_namesrv_interval),
            ("heartbeat_interval", &mut self.heartbeat_interval),
        ] {
            if *value < minimum {
                changes.push(format!("{name} raised from {value:?} to {minimum:?}"));
                *value = minimum;
            }
        }
        changes
    }

    pub(crate) fn resolved_instance_name(&self) -> String {
        self.instance_name.clone().unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            format!("{}#{}", std::process::id(), nanos)
        })
    }

    pub(crate) fn resolved_ip(&self) -> String {
        self.client_ip.clone().unwrap_or_else(local_ip)
    }
}

/// The first non-loopback local address (via a connected UDP socket; no packet is sent),
/// else 127.0.0.1.
#[must_use]
pub fn local_ip() -> String {
    let probe = || -> Option<String> {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
        socket.connect("10.255.255.255:1").ok()?;
        let ip = socket.local_addr().ok()?.ip();
        (!ip.is_unspecified() && !ip.is_loopback()).then(|| ip.to_string())
    };
    probe().unwrap_or_else(|| "127.0.0.1".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namesrv_priority_option_then_property_then_env() {
        // Only this test touches these process-wide sources.
        std::env::set_var(NAMESRV_ADDR_ENV, "env:1");
        clear_system_property(NAMESRV_ADDR_PROPERTY);
        assert_eq!(resolve_namesrv_addrs(None).unwrap(), ["env:1"]);
        set_system_property(NAMESRV_ADDR_PROPERTY, "prop:1;prop:2");
        assert_eq!(resolve_namesrv_addrs(None).unwrap(), ["prop:1", "prop:2"]);
        assert_eq!(
            resolve_namesrv_addrs(Some("opt:1, opt:2")).unwrap(),
            ["opt:1", "opt:2"]
        );
        assert_eq!(
            resolve_namesrv_addrs(Some(" ")).unwrap(),
            ["prop:1", "prop:2"]
        );
        clear_system_property(NAMESRV_ADDR_PROPERTY);
        std::env::remove_var(NAMESRV_ADDR_ENV);
        assert!(matches!(
            resolve_namesrv_addrs(None),
            Err(ClientError::NoNameServer)
        ));
    }

    #[test]
    fn sanitize_clamps() {
        let mut config = ClientConfig {
            heartbeat_interval: Duration::from_millis(10),
            ..ClientConfig::default()
        };
        assert_eq!(config.sanitize().len(), 1);
        assert_eq!(config.heartbeat_interval, Duration::from_secs(1));
    }
}
