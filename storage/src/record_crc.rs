//! Whole-record CRC, as RocketMQ 5's `enabledAppendPropCRC` / `forceVerifyPropCRC`.
//!
//! BODYCRC covers only the body: a record whose header, topic or properties were torn (a lost
//! sector reads as the zeros the segment was pre-written with) or damaged still passes it. With
//! [`crate::StoreConfig::record_crc_enable`] every record ends with one more property, 20 bytes:
//!
//! ```text
//! ... PROPERTIES: <the message's properties> [0x02 if they did not end with it]
//!                 "__CRC32#" 0x01 d0 d1 ... d9 0x02
//! d0..d9: crc32(record[0 .. TOTALSIZE - 20]) & 0x7FFF_FFFF in decimal, least significant
//!         digit first (RocketMQ's `MessageDecoder.createCrc32`)
//! ```
//!
//! The CRC covers every byte before the reserved tail, including QUEUEOFFSET, PHYSICALOFFSET
//! and STORETIMESTAMP, so it is filled in after those are assigned. Recovery requires it on
//! records at or past the checkpoint's `record_crc_from_local` (see [`crate::checkpoint`]) and
//! ignores it below, where records may predate the setting.

use std::borrow::Cow;

use protocol::message::properties::keys;

/// Bytes the CRC property takes at the end of a record.
pub const RESERVED_BYTES: usize = 20;
const NAME_VALUE_SEPARATOR: u8 = 1;
const PROPERTY_SEPARATOR: u8 = 2;
const DIGITS: usize = 10;
const _: () = assert!(keys::CRC32.len() + 1 + DIGITS + 1 == RESERVED_BYTES);

/// The result of [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The record does not end with a CRC property.
    Missing,
    /// It does, and the CRC matches.
    Valid,
    /// It does, and the CRC does not match.
    Mismatch,
}

/// `properties` without any `__CRC32#` pair (a re-stored record carries its old one), ending
/// with the placeholder pair that [`seal`] fills in.
#[must_use]
pub fn with_placeholder(properties: &str) -> String {
    let kept = strip(properties);
    let mut out = String::with_capacity(kept.len() + 1 + RESERVED_BYTES);
    out.push_str(&kept);
    if !out.is_empty() && !out.ends_with(char::from(PROPERTY_SEPARATOR)) {
        out.push(char::from(PROPERTY_SEPARATOR));
    }
    out.push_str(keys::CRC32);
    out.push(char::from(NAME_VALUE_SEPARATOR));
    out.push_str("0000000000");
    out.push(char::from(PROPERTY_SEPARATOR));
    out
}

fn strip(properties: &str) -> Cow<'_, str> {
    if !properties.contains(keys::CRC32) {
        return Cow::Borrowed(properties);
    }
    let separator = char::from(PROPERTY_SEPARATOR);
    let pairs = properties
        .split_terminator(separator)
        .filter(|pair| pair.split(char::from(NAME_VALUE_SEPARATOR)).next() != Some(keys::CRC32));
    let mut out = String::with_capacity(properties.len());
    for pair in pairs {
        out.push_str(pair);
        out.push(separator);
    }
    Cow::Owned(out)
}

fn crc_of(covered: &[u8]) -> u32 {
    crc32fast::hash(covered) & 0x7FFF_FFFF
}

/// Fills in the digits of an encoded record whose properties came from [`with_placeholder`].
pub fn seal(record: &mut [u8]) {
    debug_assert!(record.len() > RESERVED_BYTES);
    let digits_at = record.len() - 1 - DIGITS;
    let mut crc = crc_of(&record[..record.len() - RESERVED_BYTES]);
    for digit in &mut record[digits_at..digits_at + DIGITS] {
        *digit = b'0' + u8::try_from(crc % 10).unwrap_or(0);
        crc /= 10;
    }
    debug_assert_eq!(check(record), Check::Valid);
}

/// Whether `record` (one whole record) ends with a CRC property, and whether it matches.
#[must_use]
pub fn check(record: &[u8]) -> Check {
    let Some(tail_at) = record.len().checked_sub(RESERVED_BYTES) else {
        return Check::Missing;
    };
    let tail = &record[tail_at..];
    let name_len = keys::CRC32.len();
    let digits = &tail[name_len + 1..name_len + 1 + DIGITS];
    let well_formed = &tail[..name_len] == keys::CRC32.as_bytes()
        && tail[name_len] == NAME_VALUE_SEPARATOR
        && tail[RESERVED_BYTES - 1] == PROPERTY_SEPARATOR
        && digits.iter().all(u8::is_ascii_digit);
    if !well_formed {
        return Check::Missing;
    }
    let stored = digits
        .iter()
        .rev()
        .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
    if stored == u64::from(crc_of(&record[..tail_at])) {
        Check::Valid
    } else {
        Check::Mismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_strips_an_old_crc_and_keeps_the_rest() {
        assert_eq!(with_placeholder(""), "__CRC32#\u{1}0000000000\u{2}");
        assert_eq!(
            with_placeholder("A\u{1}1"),
            "A\u{1}1\u{2}__CRC32#\u{1}0000000000\u{2}"
        );
        let restored = "A\u{1}1\u{2}__CRC32#\u{1}1234567890\u{2}B\u{1}2\u{2}";
        assert_eq!(
            with_placeholder(restored),
            "A\u{1}1\u{2}B\u{1}2\u{2}__CRC32#\u{1}0000000000\u{2}"
        );
    }

    #[test]
    fn seal_then_check_detects_any_flipped_byte() {
        let mut record = b"header-topic-properties:".to_vec();
        record.extend_from_slice(with_placeholder("K\u{1}v").as_bytes());
        seal(&mut record);
        assert_eq!(check(&record), Check::Valid);
        // RocketMQ's digit order: least significant first.
        let crc = crc_of(&record[..record.len() - RESERVED_BYTES]);
        let digits = &record[record.len() - 11..record.len() - 1];
        let reversed: String = digits.iter().rev().map(|d| char::from(*d)).collect();
        assert_eq!(reversed.parse::<u32>().unwrap(), crc);
        for at in 0..record.len() {
            let mut damaged = record.clone();
            damaged[at] ^= 0x5A;
            assert_ne!(check(&damaged), Check::Valid, "flip at {at}");
        }
        assert_eq!(check(b"short"), Check::Missing);
        let zeroed_tail = [&record[..record.len() - 8], &[0u8; 8]].concat();
        assert_eq!(check(&zeroed_tail), Check::Missing);
    }
}
