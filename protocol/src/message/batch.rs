//! The batch send body (`SEND_BATCH_MESSAGE`, `MessageDecoder.encodeMessage` per message,
//! concatenated). The broker re-encodes each entry into a full stored record.
//!
//! ```text
//! +-------------+-----------------+---------------+----------+--------------------+-------------------------+
//! | TOTALSIZE   | MAGICCODE i32   | BODYCRC i32   | FLAG i32 | BODY               | PROPERTIES              |
//! | i32         | (0 from clients)| (0)           |          | i32 len + bytes    | i16 len + bytes         |
//! +-------------+-----------------+---------------+----------+--------------------+-------------------------+
//! TOTALSIZE = 20 + body + 2 + properties
//! ```

use bytes::{BufMut, BytesMut};

use crate::WireError;

/// Bytes of an entry without body and properties.
pub const BATCH_ENTRY_OVERHEAD_BYTES: usize = 22;

/// One message of a batch body, borrowing the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry<'a> {
    /// MAGICCODE as sent (clients send 0).
    pub magic: i32,
    /// BODYCRC as sent (clients send 0).
    pub body_crc: i32,
    /// User flag.
    pub flag: i32,
    /// Body.
    pub body: &'a [u8],
    /// Serialized properties.
    pub properties: &'a str,
}

impl<'a> BatchEntry<'a> {
    /// Bytes [`Self::encode`] writes.
    #[must_use]
    pub fn encoded_size(&self) -> usize {
        BATCH_ENTRY_OVERHEAD_BYTES + self.body.len() + self.properties.len()
    }

    /// Appends the entry to `dst`.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for properties past 32 767 bytes or an entry past `i32::MAX`.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<usize, WireError> {
        let size = self.encoded_size();
        let properties_len =
            i16::try_from(self.properties.len()).map_err(|_| WireError::TooLong {
                field: "properties",
                length_bytes: self.properties.len(),
            })?;
        let size_i32 = i32::try_from(size).map_err(|_| WireError::TooLong {
            field: "batch entry",
            length_bytes: size,
        })?;
        dst.reserve(size);
        dst.put_i32(size_i32);
        dst.put_i32(self.magic);
        dst.put_i32(self.body_crc);
        dst.put_i32(self.flag);
        dst.put_i32(i32::try_from(self.body.len()).unwrap_or(i32::MAX));
        dst.put_slice(self.body);
        dst.put_i16(properties_len);
        dst.put_slice(self.properties.as_bytes());
        Ok(size)
    }

    /// Decodes one entry at the start of `buf`; returns it and its TOTALSIZE.
    ///
    /// # Errors
    /// [`WireError::Truncated`], [`WireError::Malformed`] or [`WireError::InvalidUtf8`].
    pub fn decode(buf: &'a [u8]) -> Result<(Self, usize), WireError> {
        let read_i32 = |at: usize, field: &'static str| -> Result<i32, WireError> {
            buf.get(at..at + 4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(WireError::Truncated { field })
        };
        let malformed = |reason| WireError::Malformed {
            what: "batch entry",
            reason,
        };
        let total = usize::try_from(read_i32(0, "TOTALSIZE")?)
            .map_err(|_| malformed("negative TOTALSIZE"))?;
        if total < BATCH_ENTRY_OVERHEAD_BYTES {
            return Err(malformed("TOTALSIZE smaller than an empty entry"));
        }
        if total > buf.len() {
            return Err(WireError::Truncated {
                field: "batch entry",
            });
        }
        let buf = &buf[..total];
        let magic = read_i32(4, "MAGICCODE")?;
        let body_crc = read_i32(8, "BODYCRC")?;
        let flag = read_i32(12, "FLAG")?;
        let body_len = usize::try_from(read_i32(16, "BODYLENGTH")?)
            .map_err(|_| malformed("negative body length"))?;
        let body_end = 20usize
            .checked_add(body_len)
            .filter(|end| end + 2 <= total)
            .ok_or(WireError::Truncated { field: "BODY" })?;
        let body = &buf[20..body_end];
        let properties_len = i16::from_be_bytes([buf[body_end], buf[body_end + 1]]);
        let properties_len =
            usize::try_from(properties_len).map_err(|_| malformed("negative properties length"))?;
        if body_end + 2 + properties_len != total {
            return Err(malformed("fields do not fill TOTALSIZE"));
        }
        let properties =
            std::str::from_utf8(&buf[body_end + 2..total]).map_err(|_| WireError::InvalidUtf8 {
                field: "PROPERTIES",
            })?;
        Ok((
            Self {
                magic,
                body_crc,
                flag,
                body,
                properties,
            },
            total,
        ))
    }
}

/// Iterates over the entries of a batch body; yields an error item and stops at the first
/// malformed entry.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> BatchIter<'a> {
    /// Iterates over `body`.
    #[must_use]
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            buf: body,
            pos: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchEntry<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        match BatchEntry::decode(&self.buf[self.pos..]) {
            Ok((entry, consumed)) => {
                self.pos += consumed;
                Some(Ok(entry))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

/// Decodes a whole batch body.
///
/// # Errors
/// The first entry's error.
pub fn decode_batch(body: &[u8]) -> Result<Vec<BatchEntry<'_>>, WireError> {
    BatchIter::new(body).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_bytes() {
        let entry = BatchEntry {
            magic: 0,
            body_crc: 0,
            flag: 1,
            body: b"ab",
            properties: "K\u{1}V\u{2}",
        };
        let mut buf = BytesMut::new();
        assert_eq!(entry.encode(&mut buf).unwrap(), 28);
        let expected: Vec<u8> = [
            &28i32.to_be_bytes()[..],
            &0i32.to_be_bytes(),
            &0i32.to_be_bytes(),
            &1i32.to_be_bytes(),
            &2i32.to_be_bytes(),
            b"ab",
            &4i16.to_be_bytes(),
            b"K\x01V\x02",
        ]
        .concat();
        assert_eq!(&buf[..], &expected[..]);
        assert_eq!(BatchEntry::decode(&buf).unwrap(), (entry, 28));
    }

    #[test]
    fn truncated_entries_are_errors() {
        let entry = BatchEntry {
            magic: 0,
            body_crc: 0,
            flag: 0,
            body: b"body",
            properties: "",
        };
        let mut buf = BytesMut::new();
        entry.encode(&mut buf).unwrap();
        for cut in 1..buf.len() {
            assert!(decode_batch(&buf[..cut]).is_err());
        }
        assert_eq!(decode_batch(&[]).unwrap(), vec![]);
    }

    proptest! {
        #[test]
        fn round_trip(items in proptest::collection::vec((any::<i32>(), proptest::collection::vec(any::<u8>(), 0..64), "[ -~]{0,20}"), 0..6)) {
            let mut buf = BytesMut::new();
            let entries: Vec<BatchEntry<'_>> = items.iter().map(|(flag, body, props)| BatchEntry { magic: 0, body_crc: 0, flag: *flag, body, properties: props }).collect();
            for entry in &entries {
                entry.encode(&mut buf).unwrap();
            }
            prop_assert_eq!(decode_batch(&buf).unwrap(), entries);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_batch(&bytes);
        }
    }
}
