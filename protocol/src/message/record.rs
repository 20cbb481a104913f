//! The stored-message record: the commit-log format, which is also the pull and query body
//! (a pull is a plain copy of stored bytes). Big-endian throughout.
//!
//! ```text
//! off  field                        type
//! ---  ---------------------------  ------------------------------------------------
//!   0  TOTALSIZE                    i32   whole record, this field included
//!   4  MAGICCODE                    i32   0xDAA320A7 v1 (topic len i8) | 0xDAA320AB v2 (i16)
//!   8  BODYCRC                      i32   crc32(stored body) & 0x7FFF_FFFF
//!  12  QUEUEID                      i32
//!  16  FLAG                         i32   user flag
//!  20  QUEUEOFFSET                  i64   consume-queue offset          (patched in place)
//!  28  PHYSICALOFFSET               i64   commit-log offset of record   (patched in place)
//!  36  SYSFLAG                      i32   see `sys_flag`
//!  40  BORNTIMESTAMP                i64   ms
//!  48  BORNHOST                     4+4   ip + i32 port; 16+4 if SYSFLAG & 0x10
//!  56  STORETIMESTAMP               i64   ms (offset +12 with an IPv6 born host)
//!  64  STOREHOST                    4+4   16+4 if SYSFLAG & 0x20
//!  72  RECONSUMETIMES               i32
//!  76  PREPARED TRANSACTION OFFSET  i64
//!  84  BODY                         i32 len + bytes
//!   .  TOPIC                        i8 len (v1) | i16 len (v2) + bytes
//!   .  PROPERTIES                   i16 len + bytes (<= 32767)
//! ```
//! (offsets after 48 assume IPv4 hosts). Length = 91 + body + topic + properties for v1/IPv4.
//!
//! End of a commit-log segment (a record never spans segments):
//!
//! ```text
//! +------------------------+----------------------+
//! | i32 remaining bytes    | i32 0xCBD43194       |   BLANK marker, the rest is padding
//! +------------------------+----------------------+
//! ```

use std::borrow::Cow;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{BufMut, BytesMut};

use super::sys_flag;
use crate::WireError;

/// Magic of a v1 record (topic length is one byte).
#[allow(clippy::cast_possible_wrap)]
pub const MAGIC_V1: i32 = 0xDAA3_20A7_u32 as i32;
/// Magic of a v2 record (topic length is two bytes).
#[allow(clippy::cast_possible_wrap)]
pub const MAGIC_V2: i32 = 0xDAA3_20AB_u32 as i32;
/// Magic of the end-of-segment blank marker.
#[allow(clippy::cast_possible_wrap)]
pub const BLANK_MAGIC: i32 = 0xCBD4_3194_u32 as i32;

/// Position of TOTALSIZE.
pub const TOTAL_SIZE_POSITION: usize = 0;
/// Position of MAGICCODE.
pub const MAGIC_POSITION: usize = 4;
/// Position of BODYCRC.
pub const BODY_CRC_POSITION: usize = 8;
/// Position of QUEUEID.
pub const QUEUE_ID_POSITION: usize = 12;
/// Position of FLAG.
pub const FLAG_POSITION: usize = 16;
/// Position of QUEUEOFFSET (`QUEUE_OFFSET_POSITION`).
pub const QUEUE_OFFSET_POSITION: usize = 20;
/// Position of PHYSICALOFFSET (`PHY_POS_POSITION`).
pub const PHYSICAL_OFFSET_POSITION: usize = 28;
/// Position of SYSFLAG (`SYSFLAG_POSITION`).
pub const SYS_FLAG_POSITION: usize = 36;
/// Position of BORNTIMESTAMP.
pub const BORN_TIMESTAMP_POSITION: usize = 40;
/// Position of BORNHOST.
pub const BORN_HOST_POSITION: usize = 48;
/// Position of STORETIMESTAMP with an IPv4 born host (`MESSAGE_STORE_TIMESTAMP_POSITION`).
pub const STORE_TIMESTAMP_POSITION: usize = 56;
/// Bytes of the blank marker, the least a segment must keep free (`END_FILE_MIN_BLANK_LENGTH`).
pub const BLANK_MARKER_BYTES: usize = 8;
/// Largest properties string (i16 length prefix).
pub const PROPERTIES_BYTES_MAX: usize = 32_767;
/// Largest topic (i16 length prefix of v2).
pub const TOPIC_BYTES_MAX: usize = 32_767;
/// Longest topic stored as v1 (i8 length prefix).
pub const TOPIC_V1_BYTES_MAX: usize = 127;
/// Smallest possible record (v1, IPv4, empty body/topic/properties).
pub const RECORD_BYTES_MIN: usize = 91;
/// Cap on a decompressed body, so a zlib bomb cannot exhaust memory.
pub const DECOMPRESSED_BODY_BYTES_MAX: usize = 64 * 1024 * 1024;

const _: () = assert!(STORE_TIMESTAMP_POSITION == BORN_HOST_POSITION + 8);
const _: () = assert!(RECORD_BYTES_MIN == 84 + 4 + 1 + 2);

/// `crc32(data) & 0x7FFF_FFFF`, the body CRC RocketMQ stores (`UtilAll.crc32`).
#[must_use]
pub fn body_crc(data: &[u8]) -> i32 {
    let crc = crc32fast::hash(data) & 0x7FFF_FFFF;
    i32::try_from(crc).unwrap_or(0)
}

/// Position of STORETIMESTAMP given the record's sysFlag.
#[must_use]
pub fn store_timestamp_position(sys_flag: i32) -> usize {
    BORN_HOST_POSITION + host_bytes(sys_flag & sys_flag::BORNHOST_V6 != 0)
}

fn host_bytes(v6: bool) -> usize {
    if v6 {
        20
    } else {
        8
    }
}

fn put_host(dst: &mut BytesMut, host: SocketAddr) {
    match host.ip() {
        IpAddr::V4(ip) => dst.put_slice(&ip.octets()),
        IpAddr::V6(ip) => dst.put_slice(&ip.octets()),
    }
    dst.put_i32(i32::from(host.port()));
}

/// What a record holds, borrowed, ready to encode. The storage engine fills in the assigned
/// fields (queue offset, physical offset, store timestamp, store host).
#[derive(Debug, Clone, Copy)]
pub struct RecordFields<'a> {
    /// Queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Consume-queue offset.
    pub queue_offset: i64,
    /// Commit-log offset of the record.
    pub physical_offset: i64,
    /// sysFlag; the two host bits are derived from the address families on encode.
    pub sys_flag: i32,
    /// Born timestamp (ms).
    pub born_timestamp_ms: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// Store timestamp (ms).
    pub store_timestamp_ms: i64,
    /// Broker address.
    pub store_host: SocketAddr,
    /// Reconsume times.
    pub reconsume_times: i32,
    /// Prepared transaction offset.
    pub prepared_transaction_offset: i64,
    /// Body as stored (already compressed if sysFlag says so).
    pub body: &'a [u8],
    /// Topic.
    pub topic: &'a str,
    /// Serialized properties.
    pub properties: &'a str,
}

impl RecordFields<'_> {
    /// sysFlag with the host bits set from the address families.
    #[must_use]
    pub fn effective_sys_flag(&self) -> i32 {
        let mut flag = self.sys_flag & !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
        if self.born_host.is_ipv6() {
            flag |= sys_flag::BORNHOST_V6;
        }
        if self.store_host.is_ipv6() {
            flag |= sys_flag::STOREHOST_V6;
        }
        flag
    }

    /// True if the topic needs the v2 format (i16 topic length).
    #[must_use]
    pub fn is_v2(&self) -> bool {
        self.topic.len() > TOPIC_V1_BYTES_MAX
    }

    /// Bytes [`Self::encode`] writes.
    #[must_use]
    pub fn encoded_size(&self) -> usize {
        84 + host_bytes(self.born_host.is_ipv6()) + host_bytes(self.store_host.is_ipv6()) - 16
            + 4
            + self.body.len()
            + if self.is_v2() { 2 } else { 1 }
            + self.topic.len()
            + 2
            + self.properties.len()
    }

    /// Checks the limits [`Self::encode`] relies on.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for a topic, properties or record past its length prefix.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.topic.len() > TOPIC_BYTES_MAX {
            return Err(WireError::TooLong {
                field: "topic",
                length_bytes: self.topic.len(),
            });
        }
        if self.properties.len() > PROPERTIES_BYTES_MAX {
            return Err(WireError::TooLong {
                field: "properties",
                length_bytes: self.properties.len(),
            });
        }
        if i32::try_from(self.encoded_size()).is_err() {
            return Err(WireError::TooLong {
                field: "record",
                length_bytes: self.encoded_size(),
            });
        }
        Ok(())
    }

    /// Appends the record to `dst`; returns the bytes written (= [`Self::encoded_size`]).
    ///
    /// # Errors
    /// As [`Self::validate`]; nothing is written then.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<usize, WireError> {
        self.validate()?;
        let size = self.encoded_size();
        let start = dst.len();
        dst.reserve(size);
        let v2 = self.is_v2();
        // validate() bounded every length below.
        let as_i32 = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        dst.put_i32(as_i32(size));
        dst.put_i32(if v2 { MAGIC_V2 } else { MAGIC_V1 });
        dst.put_i32(body_crc(self.body));
        dst.put_i32(self.queue_id);
        dst.put_i32(self.flag);
        dst.put_i64(self.queue_offset);
        dst.put_i64(self.physical_offset);
        dst.put_i32(self.effective_sys_flag());
        dst.put_i64(self.born_timestamp_ms);
        put_host(dst, self.born_host);
        dst.put_i64(self.store_timestamp_ms);
        put_host(dst, self.store_host);
        dst.put_i32(self.reconsume_times);
        dst.put_i64(self.prepared_transaction_offset);
        dst.put_i32(as_i32(self.body.len()));
        dst.put_slice(self.body);
        if v2 {
            dst.put_i16(i16::try_from(self.topic.len()).unwrap_or(i16::MAX));
        } else {
            dst.put_i8(i8::try_from(self.topic.len()).unwrap_or(i8::MAX));
        }
        dst.put_slice(self.topic.as_bytes());
        dst.put_i16(i16::try_from(self.properties.len()).unwrap_or(i16::MAX));
        dst.put_slice(self.properties.as_bytes());
        debug_assert_eq!(dst.len() - start, size);
        Ok(size)
    }
}

/// Writes the end-of-segment blank marker for `remaining_bytes` of padding into `dst`.
///
/// # Panics
/// If `dst` is shorter than [`BLANK_MARKER_BYTES`] or `remaining_bytes` < that.
pub fn encode_blank_marker(dst: &mut [u8], remaining_bytes: u32) {
    assert!(dst.len() >= BLANK_MARKER_BYTES);
    assert!(remaining_bytes as usize >= BLANK_MARKER_BYTES);
    dst[..4].copy_from_slice(&remaining_bytes.to_be_bytes());
    dst[4..8].copy_from_slice(&BLANK_MAGIC.to_be_bytes());
}

/// A decoded record, borrowing the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// TOTALSIZE.
    pub total_size: u32,
    /// MAGICCODE (v1 or v2).
    pub magic: i32,
    /// BODYCRC as stored.
    pub body_crc: i32,
    /// QUEUEID.
    pub queue_id: i32,
    /// FLAG.
    pub flag: i32,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// PHYSICALOFFSET.
    pub physical_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// BORNTIMESTAMP.
    pub born_timestamp_ms: i64,
    /// BORNHOST.
    pub born_host: SocketAddr,
    /// STORETIMESTAMP.
    pub store_timestamp_ms: i64,
    /// STOREHOST.
    pub store_host: SocketAddr,
    /// RECONSUMETIMES.
    pub reconsume_times: i32,
    /// PREPARED TRANSACTION OFFSET.
    pub prepared_transaction_offset: i64,
    /// Body as stored (possibly compressed).
    pub body: &'a [u8],
    /// Topic.
    pub topic: &'a str,
    /// Serialized properties.
    pub properties: &'a str,
}

/// One entry of a commit-log segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEntry<'a> {
    /// A message record.
    Message(RecordView<'a>),
    /// The end-of-segment marker; the rest of the segment is padding.
    Blank {
        /// Bytes from the marker to the end of the segment.
        remaining_bytes: u32,
    },
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.buf.len())
            .ok_or(WireError::Truncated { field })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }
    fn i8(&mut self, field: &'static str) -> Result<i8, WireError> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }
    fn i16(&mut self, field: &'static str) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }
    fn i32(&mut self, field: &'static str) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }
    fn i64(&mut self, field: &'static str) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }
    fn host(&mut self, v6: bool, field: &'static str) -> Result<SocketAddr, WireError> {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::from(self.array::<16>(field)?))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.array::<4>(field)?))
        };
        let port = self.i32(field)?;
        let port = u16::try_from(port).map_err(|_| WireError::InvalidField {
            field,
            value: port.to_string(),
            reason: "port out of range",
        })?;
        Ok(SocketAddr::new(ip, port))
    }
}

fn malformed(reason: &'static str) -> WireError {
    WireError::Malformed {
        what: "stored message record",
        reason,
    }
}

fn length(value: i32, field: &'static str) -> Result<usize, WireError> {
    usize::try_from(value).map_err(|_| WireError::InvalidField {
        field,
        value: value.to_string(),
        reason: "negative length",
    })
}

/// Decodes one commit-log entry (record or blank marker) at the start of `buf`; returns it and
/// the bytes it spans. For a blank marker the consumed bytes are the 8 marker bytes.
///
/// # Errors
/// [`WireError::Truncated`] if `buf` ends inside the entry, [`WireError::Malformed`] /
/// [`WireError::InvalidField`] / [`WireError::InvalidUtf8`] for bad input.
pub fn decode_log_entry(buf: &[u8]) -> Result<(LogEntry<'_>, usize), WireError> {
    let mut cursor = Cursor { buf, pos: 0 };
    let total_size = cursor.i32("TOTALSIZE")?;
    let magic = cursor.i32("MAGICCODE")?;
    if magic == BLANK_MAGIC {
        let remaining = u32::try_from(total_size).map_err(|_| malformed("negative blank size"))?;
        if (remaining as usize) < BLANK_MARKER_BYTES {
            return Err(malformed("blank marker shorter than itself"));
        }
        return Ok((
            LogEntry::Blank {
                remaining_bytes: remaining,
            },
            BLANK_MARKER_BYTES,
        ));
    }
    let (view, consumed) = RecordView::decode(buf)?;
    Ok((LogEntry::Message(view), consumed))
}

impl<'a> RecordView<'a> {
    /// Decodes one record at the start of `buf`; returns it and its TOTALSIZE.
    ///
    /// The fields must fill TOTALSIZE exactly. The body CRC is not checked here (see
    /// [`Self::body_crc_matches`]).
    ///
    /// # Errors
    /// As [`decode_log_entry`]; a blank marker is [`WireError::Malformed`] here.
    pub fn decode(buf: &'a [u8]) -> Result<(Self, usize), WireError> {
        let mut cursor = Cursor { buf, pos: 0 };
        let total_size = cursor.i32("TOTALSIZE")?;
        let total = length(total_size, "TOTALSIZE")?;
        if total < RECORD_BYTES_MIN {
            return Err(malformed("TOTALSIZE smaller than the smallest record"));
        }
        if total > buf.len() {
            return Err(WireError::Truncated { field: "record" });
        }
        // Parse only inside the record so a field cannot run into the next one.
        let mut cursor = Cursor {
            buf: &buf[..total],
            pos: 4,
        };
        let magic = cursor.i32("MAGICCODE")?;
        let v2 = match magic {
            MAGIC_V1 => false,
            MAGIC_V2 => true,
            BLANK_MAGIC => return Err(malformed("blank marker, not a message")),
            _ => return Err(malformed("unknown magic code")),
        };
        let body_crc = cursor.i32("BODYCRC")?;
        let queue_id = cursor.i32("QUEUEID")?;
        let flag = cursor.i32("FLAG")?;
        let queue_offset = cursor.i64("QUEUEOFFSET")?;
        let physical_offset = cursor.i64("PHYSICALOFFSET")?;
        let sys_flag = cursor.i32("SYSFLAG")?;
        let born_timestamp_ms = cursor.i64("BORNTIMESTAMP")?;
        let born_host = cursor.host(sys_flag & sys_flag::BORNHOST_V6 != 0, "BORNHOST")?;
        let store_timestamp_ms = cursor.i64("STORETIMESTAMP")?;
        let store_host = cursor.host(sys_flag & sys_flag::STOREHOST_V6 != 0, "STOREHOST")?;
        let reconsume_times = cursor.i32("RECONSUMETIMES")?;
        let prepared_transaction_offset = cursor.i64("PREPAREDTRANSACTIONOFFSET")?;
        let body_len = length(cursor.i32("BODYLENGTH")?, "BODYLENGTH")?;
        let body = cursor.take(body_len, "BODY")?;
        let topic_len = if v2 {
            length(i32::from(cursor.i16("TOPICLENGTH")?), "TOPICLENGTH")?
        } else {
            length(i32::from(cursor.i8("TOPICLENGTH")?), "TOPICLENGTH")?
        };
        let topic = std::str::from_utf8(cursor.take(topic_len, "TOPIC")?)
            .map_err(|_| WireError::InvalidUtf8 { field: "TOPIC" })?;
        let properties_len = length(
            i32::from(cursor.i16("PROPERTIESLENGTH")?),
            "PROPERTIESLENGTH",
        )?;
        let properties =
            std::str::from_utf8(cursor.take(properties_len, "PROPERTIES")?).map_err(|_| {
                WireError::InvalidUtf8 {
                    field: "PROPERTIES",
                }
            })?;
        if cursor.pos != total {
            return Err(malformed("fields do not fill TOTALSIZE"));
        }
        let view = RecordView {
            total_size: u32::try_from(total).unwrap_or(u32::MAX),
            magic,
            body_crc,
            queue_id,
            flag,
            queue_offset,
            physical_offset,
            sys_flag,
            born_timestamp_ms,
            born_host,
            store_timestamp_ms,
            store_host,
            reconsume_times,
            prepared_transaction_offset,
            body,
            topic,
            properties,
        };
        Ok((view, total))
    }

    /// True if BODYCRC matches the stored body.
    #[must_use]
    pub fn body_crc_matches(&self) -> bool {
        body_crc(self.body) == self.body_crc
    }

    /// The fields, for re-encoding (for example with a new topic or queue offset).
    #[must_use]
    pub fn fields(&self) -> RecordFields<'a> {
        RecordFields {
            queue_id: self.queue_id,
            flag: self.flag,
            queue_offset: self.queue_offset,
            physical_offset: self.physical_offset,
            sys_flag: self.sys_flag,
            born_timestamp_ms: self.born_timestamp_ms,
            born_host: self.born_host,
            store_timestamp_ms: self.store_timestamp_ms,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: self.body,
            topic: self.topic,
            properties: self.properties,
        }
    }

    /// The body as the application sees it: zlib-inflated when sysFlag has COMPRESSED (type
    /// 0 = 4.x zlib, or ZLIB), else borrowed.
    ///
    /// # Errors
    /// [`WireError::Malformed`] for LZ4/ZSTD (unsupported), a corrupt zlib stream or one
    /// inflating past [`DECOMPRESSED_BODY_BYTES_MAX`].
    pub fn uncompressed_body(&self) -> Result<Cow<'a, [u8]>, WireError> {
        if self.sys_flag & sys_flag::COMPRESSED == 0 {
            return Ok(Cow::Borrowed(self.body));
        }
        match self.sys_flag & sys_flag::COMPRESSION_TYPE_MASK {
            0 | sys_flag::COMPRESSION_ZLIB => inflate(self.body).map(Cow::Owned),
            _ => Err(WireError::Malformed {
                what: "compressed body",
                reason: "only zlib compression is supported",
            }),
        }
    }
}

/// Inflates a zlib stream, bounded by [`DECOMPRESSED_BODY_BYTES_MAX`].
///
/// # Errors
/// [`WireError::Malformed`] for a corrupt stream or one that is too large.
pub fn inflate(compressed: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(1 << 20));
    let limit = u64::try_from(DECOMPRESSED_BODY_BYTES_MAX).unwrap_or(u64::MAX) + 1;
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| WireError::Malformed {
            what: "compressed body",
            reason: "corrupt zlib stream",
        })?;
    if out.len() > DECOMPRESSED_BODY_BYTES_MAX {
        return Err(WireError::Malformed {
            what: "compressed body",
            reason: "inflates past the maximum body size",
        });
    }
    Ok(out)
}

/// Iterates over the records of a pull/query body (concatenated records), like Java's
/// `MessageDecoder.decodes`. Stops with an error item at the first malformed record.
pub fn decode_records(buf: &[u8]) -> impl Iterator<Item = Result<RecordView<'_>, WireError>> {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= buf.len() {
            return None;
        }
        match RecordView::decode(&buf[pos..]) {
            Ok((view, consumed)) => {
                pos += consumed;
                Some(Ok(view))
            }
            Err(error) => {
                failed = true;
                Some(Err(error))
            }
        }
    })
}

#[cfg(test)]
mod tests;
