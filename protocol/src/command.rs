//! [`RemotingCommand`]: one decoded frame, with both header encodings.
//!
//! JSON header (serializeType 0): fastjson's `RemotingCommand`, keys in alphabetical order,
//! nulls omitted: `code`, `extFields`, `flag`, `language` (enum name), `opaque`, `remark`,
//! `serializeTypeCurrentRPC`, `version`. Decoding is lenient: any key order, unknown keys
//! ignored, `serializeTypeCurrentRPC` optional, `extFields` values may be strings, numbers
//! or booleans, `remark`/`extFields` may be null, `language` a name or an ordinal.
//!
//! ROCKETMQ binary header (serializeType 1), big-endian:
//!
//! ```text
//! code i16 | language u8 | version i16 | opaque i32 | flag i32 |
//! remarkLen i32 | remark | extLen i32 | { keyLen i16 | key | valLen i32 | val }*
//! ```
//!
//! A zero-length string decodes as null, so an empty ext value is absent.

use bytes::{BufMut, Bytes, BytesMut};

use crate::code::LanguageCode;
use crate::frame::{self, HEADER_BYTES_MAX, HEADER_WORD_BYTES, LENGTH_PREFIX_BYTES};
use crate::WireError;

mod binary;
mod ext_fields;
mod json;

use binary::*;
pub use ext_fields::ExtFields;
pub use json::put_json_string;
use json::*;

/// Bit 0 of `flag`: 1 = response.
pub const FLAG_RESPONSE: i32 = 1;
/// Bit 1 of `flag`: 1 = oneway (no response is written).
pub const FLAG_ONEWAY: i32 = 2;

/// The version this codebase announces (`MQVersion` ordinal of 5.3.3); ≥ V4_9_4 (401)
/// so name servers answer standard JSON.
pub const VERSION_CURRENT: i32 = 479;

const BINARY_FIXED_BYTES: usize = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/// The header encoding of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerializeType {
    #[default]
    Json,
    RocketMq,
}

impl SerializeType {
    /// Decodes the serialize-type byte.
    ///
    /// # Errors
    /// [`WireError::UnknownSerializeType`] for anything but 0 or 1.
    pub fn from_byte(byte: u8) -> Result<SerializeType, WireError> {
        match byte {
            0 => Ok(SerializeType::Json),
            1 => Ok(SerializeType::RocketMq),
            other => Err(WireError::UnknownSerializeType(other)),
        }
    }

    #[must_use]
    pub fn as_byte(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }
}

/// One request or response as it travels on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingCommand {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    /// `None` = the `extFields` key was absent or null; the Java client needs `Some` on
    /// send responses.
    pub ext_fields: Option<ExtFields>,
    pub serialize_type: SerializeType,
    pub body: Bytes,
}

impl RemotingCommand {
    /// A new request with the given code, opaque and header encoding.
    #[must_use]
    pub fn request(code: i32, opaque: i32, serialize_type: SerializeType) -> RemotingCommand {
        RemotingCommand {
            code,
            language: LanguageCode::RUST,
            version: VERSION_CURRENT,
            opaque,
            flag: 0,
            remark: None,
            ext_fields: Some(ExtFields::new()),
            serialize_type,
            body: Bytes::new(),
        }
    }

    /// A response to `request`: same opaque and header encoding, response flag set.
    #[must_use]
    pub fn response_to(request: &RemotingCommand, code: i32) -> RemotingCommand {
        RemotingCommand {
            code,
            language: LanguageCode::RUST,
            version: VERSION_CURRENT,
            opaque: request.opaque,
            flag: FLAG_RESPONSE,
            remark: None,
            ext_fields: None,
            serialize_type: request.serialize_type,
            body: Bytes::new(),
        }
    }

    #[must_use]
    pub fn with_remark(mut self, remark: impl Into<String>) -> RemotingCommand {
        self.remark = Some(remark.into());
        self
    }

    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> RemotingCommand {
        self.body = body.into();
        self
    }

    #[must_use]
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    #[must_use]
    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    /// The ext value for `key`, if present.
    #[must_use]
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.as_ref().and_then(|fields| fields.get(key))
    }

    /// The ext map, created if absent.
    pub fn ext_mut(&mut self) -> &mut ExtFields {
        self.ext_fields.get_or_insert_with(ExtFields::new)
    }

    /// Decodes one complete frame starting at `buffer[0]`; returns the command and the number
    /// of bytes consumed. Call [`frame::check`] first when reading from a stream.
    ///
    /// # Errors
    /// Any [`WireError`] for a malformed frame or header; never panics.
    pub fn decode(
        buffer: &[u8],
        frame_bytes_max: usize,
    ) -> Result<(RemotingCommand, usize), WireError> {
        let parts = frame::split(buffer, frame_bytes_max)?;
        let consumed =
            LENGTH_PREFIX_BYTES + HEADER_WORD_BYTES + parts.header.len() + parts.body.len();
        let command = Self::decode_parts(
            SerializeType::from_byte(parts.serialize_type)?,
            parts.header,
            Bytes::copy_from_slice(parts.body),
        )?;
        Ok((command, consumed))
    }

    /// Decodes one complete frame held in `frame` without copying the body.
    ///
    /// # Errors
    /// As [`RemotingCommand::decode`].
    pub fn decode_bytes(
        frame: &Bytes,
        frame_bytes_max: usize,
    ) -> Result<(RemotingCommand, usize), WireError> {
        let parts = frame::split(frame, frame_bytes_max)?;
        let body_start = LENGTH_PREFIX_BYTES + HEADER_WORD_BYTES + parts.header.len();
        let consumed = body_start + parts.body.len();
        let command = Self::decode_parts(
            SerializeType::from_byte(parts.serialize_type)?,
            parts.header,
            frame.slice(body_start..consumed),
        )?;
        Ok((command, consumed))
    }

    /// Decodes a header in the given encoding and attaches `body`.
    ///
    /// # Errors
    /// Any header decoding error.
    pub fn decode_parts(
        serialize_type: SerializeType,
        header: &[u8],
        body: Bytes,
    ) -> Result<RemotingCommand, WireError> {
        let mut command = match serialize_type {
            SerializeType::Json => decode_json_header(header)?,
            SerializeType::RocketMq => decode_binary_header(header)?,
        };
        command.body = body;
        Ok(command)
    }

    /// Bytes of the encoded header in this command's encoding.
    #[must_use]
    pub fn header_encoded_size(&self) -> usize {
        match self.serialize_type {
            SerializeType::Json => json_header_size(self),
            SerializeType::RocketMq => binary_header_size(self),
        }
    }

    /// Bytes of the whole encoded frame, length prefix included.
    #[must_use]
    pub fn encoded_size(&self) -> usize {
        LENGTH_PREFIX_BYTES + HEADER_WORD_BYTES + self.header_encoded_size() + self.body.len()
    }

    /// Appends the whole frame to `out`.
    ///
    /// # Errors
    /// [`WireError::TooLong`] if the header or a field exceeds its length prefix.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), WireError> {
        let header_bytes = self.header_encoded_size();
        if header_bytes > HEADER_BYTES_MAX {
            return Err(WireError::TooLong {
                field: "header",
                length_bytes: header_bytes,
            });
        }
        let length_bytes = HEADER_WORD_BYTES + header_bytes + self.body.len();
        let length = i32::try_from(length_bytes).map_err(|_| WireError::TooLong {
            field: "frame",
            length_bytes,
        })?;
        out.reserve(LENGTH_PREFIX_BYTES + length_bytes);
        out.put_i32(length);
        out.put_u32(frame::header_word(
            self.serialize_type.as_byte(),
            header_bytes,
        ));
        let header_start = out.len();
        match self.serialize_type {
            SerializeType::Json => encode_json_header(self, out),
            SerializeType::RocketMq => encode_binary_header(self, out)?,
        }
        debug_assert_eq!(out.len() - header_start, header_bytes);
        out.put_slice(&self.body);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
