//! Message ids.
//!
//! **Offset message id** (broker-made, `MessageDecoder.createMessageId`), uppercase hex:
//!
//! ```text
//! IPv4 (16 bytes -> 32 chars)            IPv6 (28 bytes -> 56 chars)
//! +--------+----------+--------------+   +---------+----------+--------------+
//! | ip (4) | port i32 | offset i64   |   | ip (16) | port i32 | offset i64   |
//! +--------+----------+--------------+   +---------+----------+--------------+
//! ```
//!
//! **Unique id** (client-made, the `UNIQ_KEY` property, `MessageClientIDSetter`):
//!
//! ```text
//! +----------------+----------+-----------------------+--------------------------+-------------+
//! | ip (4 or 16)   | pid i16  | class-loader hash i32 | ms since month start i32 | counter i16 |
//! +----------------+----------+-----------------------+--------------------------+-------------+
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::WireError;

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Characters of an IPv4 offset id or unique id.
pub const ID_V4_CHARS: usize = 32;
/// Characters of an IPv6 offset id or unique id.
pub const ID_V6_CHARS: usize = 56;

fn push_hex(dst: &mut String, bytes: &[u8]) {
    for byte in bytes {
        dst.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        dst.push(char::from(HEX_DIGITS[usize::from(byte & 0xF)]));
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], WireError> {
    let digits = text.as_bytes();
    if digits.len() != N * 2 {
        return Err(WireError::Malformed {
            what,
            reason: "wrong length",
        });
    }
    let mut out = [0u8; N];
    for (index, pair) in digits.chunks_exact(2).enumerate() {
        let (Some(high), Some(low)) = (hex_value(pair[0]), hex_value(pair[1])) else {
            return Err(WireError::Malformed {
                what,
                reason: "not a hex digit",
            });
        };
        out[index] = (high << 4) | low;
    }
    Ok(out)
}

fn push_ip(dst: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => dst.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => dst.extend_from_slice(&v6.octets()),
    }
}

/// A decoded offset message id: the store host and the commit-log offset of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetMessageId {
    /// The broker's store host (ip + port).
    pub store_host: SocketAddr,
    /// The record's commit-log (physical) offset.
    pub commit_log_offset: i64,
}

impl OffsetMessageId {
    /// The 32 (IPv4) or 56 (IPv6) uppercase hex characters.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(28);
        push_ip(&mut bytes, self.store_host.ip());
        bytes.extend_from_slice(&i32::from(self.store_host.port()).to_be_bytes());
        bytes.extend_from_slice(&self.commit_log_offset.to_be_bytes());
        let mut out = String::with_capacity(bytes.len() * 2);
        push_hex(&mut out, &bytes);
        out
    }

    /// Parses an offset id (32 chars = IPv4, 56 chars = IPv6; hex of either case).
    ///
    /// # Errors
    /// [`WireError::Malformed`] for a wrong length, a non-hex digit or a port out of range.
    pub fn decode(text: &str) -> Result<Self, WireError> {
        const WHAT: &str = "offset message id";
        let (ip, rest): (IpAddr, [u8; 12]) = match text.len() {
            ID_V4_CHARS => {
                let bytes: [u8; 16] = parse_hex(text, WHAT)?;
                let ip = Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
                (IpAddr::V4(ip), split_tail(&bytes[4..]))
            }
            ID_V6_CHARS => {
                let bytes: [u8; 28] = parse_hex(text, WHAT)?;
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&bytes[..16]);
                (IpAddr::V6(Ipv6Addr::from(octets)), split_tail(&bytes[16..]))
            }
            _ => {
                return Err(WireError::Malformed {
                    what: WHAT,
                    reason: "length is neither 32 nor 56",
                })
            }
        };
        let port = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let port = u16::try_from(port).map_err(|_| WireError::Malformed {
            what: WHAT,
            reason: "port out of range",
        })?;
        let mut offset = [0u8; 8];
        offset.copy_from_slice(&rest[4..]);
        Ok(Self {
            store_host: SocketAddr::new(ip, port),
            commit_log_offset: i64::from_be_bytes(offset),
        })
    }
}

fn split_tail(tail: &[u8]) -> [u8; 12] {
    let mut out = [0u8; 12];
    out.copy_from_slice(tail);
    out
}

/// A decoded unique id (`UNIQ_KEY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueId {
    /// The client's ip.
    pub ip: IpAddr,
    /// The client's process id (truncated to 16 bits).
    pub pid: i16,
    /// The client's class-loader hash (any per-process random value for non-Java clients).
    pub class_loader_hash: i32,
    /// Milliseconds since the start of the month the generator started in.
    pub time_since_month_start_ms: i32,
    /// Per-process counter.
    pub counter: i16,
}

impl UniqueId {
    /// The 32 / 56 uppercase hex characters.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(28);
        push_ip(&mut bytes, self.ip);
        bytes.extend_from_slice(&self.pid.to_be_bytes());
        bytes.extend_from_slice(&self.class_loader_hash.to_be_bytes());
        bytes.extend_from_slice(&self.time_since_month_start_ms.to_be_bytes());
        bytes.extend_from_slice(&self.counter.to_be_bytes());
        let mut out = String::with_capacity(bytes.len() * 2);
        push_hex(&mut out, &bytes);
        out
    }

    /// Parses a unique id.
    ///
    /// # Errors
    /// [`WireError::Malformed`] for a wrong length or a non-hex digit.
    pub fn decode(text: &str) -> Result<Self, WireError> {
        const WHAT: &str = "unique message id";
        let (ip, tail) = match text.len() {
            ID_V4_CHARS => {
                let bytes: [u8; 16] = parse_hex(text, WHAT)?;
                let ip = IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]));
                (ip, split_tail(&bytes[4..]))
            }
            ID_V6_CHARS => {
                let bytes: [u8; 28] = parse_hex(text, WHAT)?;
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&bytes[..16]);
                (IpAddr::V6(Ipv6Addr::from(octets)), split_tail(&bytes[16..]))
            }
            _ => {
                return Err(WireError::Malformed {
                    what: WHAT,
                    reason: "length is neither 32 nor 56",
                })
            }
        };
        Ok(Self {
            ip,
            pid: i16::from_be_bytes([tail[0], tail[1]]),
            class_loader_hash: i32::from_be_bytes([tail[2], tail[3], tail[4], tail[5]]),
            time_since_month_start_ms: i32::from_be_bytes([tail[6], tail[7], tail[8], tail[9]]),
            counter: i16::from_be_bytes([tail[10], tail[11]]),
        })
    }
}

/// Milliseconds of the first instant (UTC) of the month containing `now_ms`.
#[must_use]
pub fn month_start_ms(now_ms: i64) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    let days = now_ms.div_euclid(DAY_MS);
    let (year, month, _) = civil_from_days(days);
    days_from_civil(year, month, 1) * DAY_MS
}

/// The first instant (UTC) of the month after the one containing `now_ms`.
fn next_month_start_ms(now_ms: i64) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    let (year, month, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(year, month, 1) * DAY_MS
}

// Howard Hinnant's civil-calendar algorithms (public domain).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // day in 1..=31 and month in 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Makes unique ids like `MessageClientIDSetter`; the caller passes the clock.
#[derive(Debug, Clone)]
pub struct UniqueIdGenerator {
    ip: IpAddr,
    pid: i16,
    class_loader_hash: i32,
    month_start_ms: i64,
    next_month_start_ms: i64,
    counter: i16,
}

impl UniqueIdGenerator {
    /// A generator for this process. `pid` is truncated to 16 bits as in Java.
    #[must_use]
    pub fn new(ip: IpAddr, pid: u32, class_loader_hash: i32, now_ms: i64) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let pid = pid as i16; // Java: (short) UtilAll.getPid()
        Self {
            ip,
            pid,
            class_loader_hash,
            month_start_ms: month_start_ms(now_ms),
            next_month_start_ms: next_month_start_ms(now_ms),
            counter: 0,
        }
    }

    /// The next id.
    pub fn next_id(&mut self, now_ms: i64) -> String {
        if now_ms >= self.next_month_start_ms {
            self.month_start_ms = month_start_ms(now_ms);
            self.next_month_start_ms = next_month_start_ms(now_ms);
        }
        let since = now_ms.saturating_sub(self.month_start_ms);
        #[allow(clippy::cast_possible_truncation)]
        let since = since as i32; // Java: (int) (now - startTime), wraps late in a month
        self.counter = self.counter.wrapping_add(1);
        UniqueId {
            ip: self.ip,
            pid: self.pid,
            class_loader_hash: self.class_loader_hash,
            time_since_month_start_ms: since,
            counter: self.counter,
        }
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn offset_id_golden() {
        let id = OffsetMessageId {
            store_host: "10.0.0.5:10911".parse().unwrap(),
            commit_log_offset: 0x1234,
        };
        let text = id.encode();
        assert_eq!(text, "0A00000500002A9F0000000000001234");
        assert_eq!(OffsetMessageId::decode(&text).unwrap(), id);
        assert_eq!(OffsetMessageId::decode(&text.to_lowercase()).unwrap(), id);
    }

    #[test]
    fn offset_id_v6() {
        let id = OffsetMessageId {
            store_host: "[::1]:10911".parse().unwrap(),
            commit_log_offset: i64::MAX,
        };
        let text = id.encode();
        assert_eq!(text.len(), ID_V6_CHARS);
        assert_eq!(OffsetMessageId::decode(&text).unwrap(), id);
    }

    #[test]
    fn offset_id_invalid() {
        assert!(OffsetMessageId::decode("").is_err());
        assert!(OffsetMessageId::decode("0A00000500002A9F000000000000123G").is_err());
        // Port does not fit u16.
        assert!(OffsetMessageId::decode("0A000005FFFFFFFF0000000000001234").is_err());
        assert!(OffsetMessageId::decode("é".repeat(16).as_str()).is_err());
    }

    #[test]
    fn month_start() {
        // 2024-02-29T12:00:00Z -> 2024-02-01T00:00:00Z
        assert_eq!(month_start_ms(1_709_208_000_000), 1_706_745_600_000);
        assert_eq!(next_month_start_ms(1_709_208_000_000), 1_709_251_200_000);
        // 2023-12-31T23:59:59.999Z -> next = 2024-01-01
        assert_eq!(next_month_start_ms(1_704_067_199_999), 1_704_067_200_000);
    }

    #[test]
    fn unique_id_generator() {
        let now = 1_709_208_000_000;
        let mut generator =
            UniqueIdGenerator::new("192.168.1.2".parse().unwrap(), 0x1_2345, 77, now);
        let first = generator.next_id(now);
        let second = generator.next_id(now + 5);
        assert_ne!(first, second);
        let decoded = UniqueId::decode(&second).unwrap();
        assert_eq!(decoded.pid, 0x2345);
        assert_eq!(decoded.class_loader_hash, 77);
        assert_eq!(decoded.counter, 2);
        // Java casts to int: past ~24.8 days into the month the field wraps.
        #[allow(clippy::cast_possible_truncation)]
        let expected = (now + 5 - 1_706_745_600_000) as i32;
        assert_eq!(decoded.time_since_month_start_ms, expected);
        assert_eq!(decoded.encode(), second);
    }

    proptest! {
        #[test]
        fn offset_id_round_trip(a in any::<[u8; 4]>(), port in any::<u16>(), offset in any::<i64>()) {
            let id = OffsetMessageId { store_host: SocketAddr::new(IpAddr::from(a), port), commit_log_offset: offset };
            prop_assert_eq!(OffsetMessageId::decode(&id.encode()).unwrap(), id);
        }

        #[test]
        fn id_decode_never_panics(s in "\\PC{0,60}") {
            let _ = OffsetMessageId::decode(&s);
            let _ = UniqueId::decode(&s);
        }
    }
}
