//! Text → value parsing for [`super::BrokerConfig`]: single values with the key named in
//! errors, and the list and file formats (`namesrvAddr`, `messageDelayLevel`, Java
//! `.properties`).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use super::{invalid, ConfigError};

pub(super) fn range<T: PartialOrd + std::fmt::Display + Copy>(
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(key, value, format!("must be in {min}..={max}")));
    }
    Ok(())
}

pub(super) fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "not a number of the expected range"))
}

pub(super) fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "expected true or false")),
    }
}

pub(super) fn ip(key: &str, value: &str) -> Result<IpAddr, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(key, value, "not an IP address"))
}

pub(super) fn socket_addr(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .trim()
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| invalid(key, value, "not a host:port address"))
}

/// Parses a `;`-separated name-server list (empty entries skipped).
///
/// # Errors
/// An entry that is not `host:port`.
pub fn parse_namesrv_addrs(list: &str) -> Result<Vec<SocketAddr>, ConfigError> {
    list.split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| socket_addr("namesrvAddr", entry))
        .collect()
}

/// Parses `messageDelayLevel` (`1s 5m 2h 1d`) to milliseconds.
///
/// # Errors
/// A level without a known unit (s, m, h, d) or number.
pub fn parse_delay_levels(text: &str) -> Result<Vec<u64>, String> {
    text.split_whitespace()
        .map(|level| {
            let (digits, unit) = level.split_at(level.len().saturating_sub(1));
            let unit_ms = match unit {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(format!("level `{level}` has no unit s, m, h or d")),
            };
            let count: u64 = digits
                .parse()
                .map_err(|_| format!("level `{level}` is not a number"))?;
            Ok(count * unit_ms)
        })
        .collect()
}

/// Parses Java `.properties` text: `key=value`, `key: value` or `key value`; `#` and `!`
/// comment lines; surrounding whitespace trimmed; trailing `\` continues a line.
#[must_use]
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            logical.push_str(stripped);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let entry = entry.trim();
        let split = entry
            .find(['=', ':'])
            .or_else(|| entry.find(char::is_whitespace));
        let (key, value) = match split {
            Some(at) => (&entry[..at], &entry[at + 1..]),
            None => (entry, ""),
        };
        pairs.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    pairs
}
