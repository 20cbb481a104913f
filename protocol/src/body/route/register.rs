//! `RegisterBrokerBody`, the REGISTER_BROKER (103) body, in both forms, and `bodyCrc32`.
//!
//! JSON form (`compressed=false`, what the Java broker sends):
//! `{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":…,
//! "mappingDataVersion":…,"topicConfigTable":{…},"topicQueueMappingDetailMap":{},
//! "topicQueueMappingInfoMap":{}}}`.
//!
//! Compressed form (`compressed=true`, `RegisterBrokerBody.encode(true)`): one zlib stream
//! (best compression) of, big-endian:
//!
//! ```text
//! i32 len | DataVersion JSON
//! i32 topicCount | { i32 len | TopicConfig text "name readQ writeQ perm filterType attrs" }*
//! i32 len | filterServerList JSON
//! i32 mappingCount | { i32 len | TopicQueueMappingInfo JSON }*      (brokers ≥ 5.0)
//! ```
//!
//! The text form drops `topicSysFlag` and `order`. A 100 k-topic table is about 4 MB
//! inflated and a few hundred KB compressed, far below the 16 MiB frame limit that the JSON
//! form hits near 100 k topics.

use bytes::{BufMut, BytesMut};
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};

use super::json::{decode_json, null_as_default, JsonBody};
use super::topic_config::{TopicConfig, TopicConfigAndMappingSerializeWrapper};
use super::DataVersion;
use crate::WireError;

/// Default cap on the inflated size of a compressed register body (zip-bomb guard).
pub const INFLATED_BYTES_MAX_DEFAULT: usize = 64 * 1024 * 1024;

const WHAT_COMPRESSED: &str = "compressed register body";

/// `UtilAll.crc32(body)`: CRC32 (IEEE) masked to 31 bits, as the broker puts it in the
/// header's `bodyCrc32`.
#[must_use]
pub fn body_crc32(body: &[u8]) -> i32 {
    // The mask clears the sign bit, so the cast cannot wrap.
    #[allow(clippy::cast_possible_wrap)]
    let crc = (crc32fast::hash(body) & 0x7FFF_FFFF) as i32;
    debug_assert!(crc >= 0);
    crc
}

/// `RegisterBrokerBody`: the broker's topic table and filter servers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBrokerBody {
    #[serde(default, deserialize_with = "null_as_default")]
    pub filter_server_list: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub topic_config_serialize_wrapper: TopicConfigAndMappingSerializeWrapper,
}

impl JsonBody for RegisterBrokerBody {
    const WHAT: &'static str = "RegisterBrokerBody";
}

impl RegisterBrokerBody {
    /// Decodes either form, as the header's `compressed` flag says.
    ///
    /// # Errors
    /// Invalid JSON, a corrupt or truncated zlib stream, or an inflated size above
    /// `inflated_bytes_max`.
    pub fn decode_body(
        bytes: &[u8],
        compressed: bool,
        inflated_bytes_max: usize,
    ) -> Result<RegisterBrokerBody, WireError> {
        if compressed {
            Self::decode_compressed(bytes, inflated_bytes_max)
        } else {
            <Self as JsonBody>::decode(bytes)
        }
    }

    /// Appends the zlib-compressed binary form to `out`.
    ///
    /// # Errors
    /// [`WireError::TooLong`] if a section exceeds an `i32` length.
    pub fn encode_compressed(&self, out: &mut BytesMut) -> Result<(), WireError> {
        let wrapper = &self.topic_config_serialize_wrapper;
        let mut plain = Vec::with_capacity(64 + wrapper.topic_config_table.len() * 48);
        put_chunk(
            &mut plain,
            &json_bytes(&wrapper.data_version)?,
            "dataVersion",
        )?;
        put_length(&mut plain, wrapper.topic_config_table.len(), "topicCount")?;
        let mut text = String::with_capacity(128);
        for config in wrapper.topic_config_table.values() {
            text.clear();
            config.encode_text(&mut text);
            put_chunk(&mut plain, text.as_bytes(), "topic config")?;
        }
        put_chunk(
            &mut plain,
            &json_bytes(&self.filter_server_list)?,
            "filterServerList",
        )?;
        let mappings = &wrapper.topic_queue_mapping_info_map;
        put_length(&mut plain, mappings.len(), "mappingCount")?;
        for info in mappings.values() {
            put_chunk(&mut plain, &json_bytes(info)?, "topic queue mapping")?;
        }
        let mut encoder = ZlibEncoder::new(out.writer(), Compression::best());
        encoder
            .write_all(&plain)
            .and_then(|()| encoder.finish().map(drop))
            .map_err(|_| WireError::Malformed {
                what: WHAT_COMPRESSED,
                reason: "zlib compression failed",
            })
    }

    /// Decodes the zlib-compressed binary form. The mapping section is read when present
    /// (5.x brokers write it, 4.x brokers do not).
    ///
    /// # Errors
    /// A corrupt or truncated stream, a negative or oversized length, invalid JSON or
    /// topic text, or more than `inflated_bytes_max` inflated bytes.
    pub fn decode_compressed(
        bytes: &[u8],
        inflated_bytes_max: usize,
    ) -> Result<RegisterBrokerBody, WireError> {
        let plain = inflate(bytes, inflated_bytes_max)?;
        let mut reader = ChunkReader {
            bytes: &plain,
            position: 0,
        };
        let data_version: DataVersion = decode_json(reader.chunk("dataVersion")?, "DataVersion")?;
        let topic_count = reader.count("topicCount")?;
        let mut topic_config_table = BTreeMap::new();
        for _ in 0..topic_count {
            let text = std::str::from_utf8(reader.chunk("topic config")?).map_err(|_| {
                WireError::InvalidUtf8 {
                    field: "topic config",
                }
            })?;
            let config = TopicConfig::decode_text(text)?;
            topic_config_table.insert(config.topic_name.clone(), config);
        }
        let filter_server_list: Option<Vec<String>> =
            decode_json(reader.chunk("filterServerList")?, "filterServerList")?;
        let mut topic_queue_mapping_info_map = BTreeMap::new();
        if reader.remaining() > 0 {
            let mapping_count = reader.count("mappingCount")?;
            for _ in 0..mapping_count {
                let info: serde_json::Value = decode_json(
                    reader.chunk("topic queue mapping")?,
                    "TopicQueueMappingInfo",
                )?;
                let topic = info
                    .get("topic")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                topic_queue_mapping_info_map.insert(topic, info);
            }
        }
        Ok(RegisterBrokerBody {
            filter_server_list: filter_server_list.unwrap_or_default(),
            topic_config_serialize_wrapper: TopicConfigAndMappingSerializeWrapper {
                data_version,
                topic_config_table,
                topic_queue_mapping_info_map,
                ..TopicConfigAndMappingSerializeWrapper::default()
            },
        })
    }
}

fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    serde_json::to_vec(value).map_err(|_| WireError::Malformed {
        what: WHAT_COMPRESSED,
        reason: "section not serializable as JSON",
    })
}

fn put_length(out: &mut Vec<u8>, length: usize, field: &'static str) -> Result<(), WireError> {
    let length = i32::try_from(length).map_err(|_| WireError::TooLong {
        field,
        length_bytes: length,
    })?;
    out.put_i32(length);
    Ok(())
}

fn put_chunk(out: &mut Vec<u8>, chunk: &[u8], field: &'static str) -> Result<(), WireError> {
    put_length(out, chunk.len(), field)?;
    out.put_slice(chunk);
    Ok(())
}

fn inflate(bytes: &[u8], inflated_bytes_max: usize) -> Result<Vec<u8>, WireError> {
    let mut plain = Vec::with_capacity(bytes.len().saturating_mul(4).min(inflated_bytes_max));
    let limit = u64::try_from(inflated_bytes_max)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    ZlibDecoder::new(bytes)
        .take(limit)
        .read_to_end(&mut plain)
        .map_err(|_| WireError::Malformed {
            what: WHAT_COMPRESSED,
            reason: "corrupt zlib stream",
        })?;
    if plain.len() > inflated_bytes_max {
        return Err(WireError::TooLong {
            field: "inflated register body",
            length_bytes: plain.len(),
        });
    }
    Ok(plain)
}

struct ChunkReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> ChunkReader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn take(&mut self, count: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if count > self.remaining() {
            return Err(WireError::Truncated { field });
        }
        let slice = &self.bytes[self.position..self.position + count];
        self.position += count;
        Ok(slice)
    }

    fn length(&mut self, field: &'static str) -> Result<usize, WireError> {
        let b = self.take(4, field)?;
        let length = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        usize::try_from(length).map_err(|_| WireError::InvalidField {
            field,
            value: length.to_string(),
            reason: "negative length",
        })
    }

    /// A count of length-prefixed entries; each needs at least 4 bytes, so a count larger
    /// than the rest of the input is refused before anything is allocated.
    fn count(&mut self, field: &'static str) -> Result<usize, WireError> {
        let count = self.length(field)?;
        if count > self.remaining() / 4 {
            return Err(WireError::Malformed {
                what: WHAT_COMPRESSED,
                reason: "entry count exceeds the remaining bytes",
            });
        }
        Ok(count)
    }

    fn chunk(&mut self, field: &'static str) -> Result<&'a [u8], WireError> {
        let length = self.length(field)?;
        self.take(length, field)
    }
}
