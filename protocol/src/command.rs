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
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

use crate::code::LanguageCode;
use crate::frame::{self, HEADER_BYTES_MAX, HEADER_WORD_BYTES, LENGTH_PREFIX_BYTES};
use crate::WireError;

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

/// The `extFields` map: small, so pairs in arrival order with linear lookups (these beat
/// hashing at ≤ 20 entries). Keys and values live in one string buffer, so decoding a
/// header costs two allocations rather than two per pair. Keys are unique;
/// [`ExtFields::insert`] replaces.
#[derive(Clone, Default)]
pub struct ExtFields {
    /// Every key and value, concatenated. A replaced or removed entry leaves dead bytes,
    /// dropped by [`ExtFields::compact_if_sparse`] once they outweigh the live ones.
    text: String,
    /// One per entry, in arrival order: byte ranges of the key and the value in `text`.
    spans: Vec<Span>,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

impl ExtFields {
    #[must_use]
    pub fn new() -> ExtFields {
        ExtFields::empty()
    }

    /// An empty map usable in `static`s.
    #[must_use]
    pub const fn empty() -> ExtFields {
        ExtFields {
            text: String::new(),
            spans: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_capacity(capacity: usize) -> ExtFields {
        ExtFields::with_capacity_bytes(capacity, capacity.saturating_mul(24))
    }

    fn with_capacity_bytes(entries: usize, text_bytes: usize) -> ExtFields {
        ExtFields {
            text: String::with_capacity(text_bytes),
            spans: Vec::with_capacity(entries),
        }
    }

    fn key_of(&self, span: &Span) -> &str {
        &self.text[span.key_start..span.key_end]
    }

    fn value_of(&self, span: &Span) -> &str {
        &self.text[span.value_start..span.value_end]
    }

    /// Compares bytes, not `str` slices (no char-boundary checks), and rejects on the
    /// length and first byte before calling `memcmp`: keys are short and differ early.
    fn has_key(&self, span: &Span, key: &[u8]) -> bool {
        let text = self.text.as_bytes();
        span.key_end - span.key_start == key.len()
            && key
                .first()
                .is_none_or(|first| text.get(span.key_start) == Some(first))
            && text.get(span.key_start..span.key_end) == Some(key)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.spans
            .iter()
            .position(|span| self.has_key(span, key.as_bytes()))
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.spans
            .iter()
            .find(|span| self.has_key(span, key.as_bytes()))
            .map(|span| self.value_of(span))
    }

    /// Inserts or replaces `key`.
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let (key, value) = (key.as_ref(), value.as_ref());
        let value_start = |text: &mut String| {
            let start = text.len();
            text.push_str(value);
            (start, text.len())
        };
        if let Some(index) = self.position(key) {
            let (start, end) = value_start(&mut self.text);
            self.spans[index].value_start = start;
            self.spans[index].value_end = end;
            self.compact_if_sparse();
        } else {
            let key_start = self.text.len();
            self.text.push_str(key);
            let key_end = self.text.len();
            let (start, end) = value_start(&mut self.text);
            self.spans.push(Span {
                key_start,
                key_end,
                value_start: start,
                value_end: end,
            });
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.position(key)?;
        let span = self.spans.remove(index);
        let value = self.value_of(&span).to_owned();
        self.compact_if_sparse();
        Some(value)
    }

    /// Rewrites `text` without dead bytes once they outweigh the live ones.
    fn compact_if_sparse(&mut self) {
        let live: usize = self
            .spans
            .iter()
            .map(|span| span.key_end - span.key_start + span.value_end - span.value_start)
            .sum();
        if self.text.len() <= live.saturating_mul(2).saturating_add(64) {
            return;
        }
        let old = std::mem::replace(&mut self.text, String::with_capacity(live));
        for span in &mut self.spans {
            let key_start = self.text.len();
            self.text.push_str(&old[span.key_start..span.key_end]);
            let value_start = self.text.len();
            self.text.push_str(&old[span.value_start..span.value_end]);
            *span = Span {
                key_start,
                key_end: value_start,
                value_start,
                value_end: self.text.len(),
            };
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|span| (self.key_of(span), self.value_of(span)))
    }
}

impl PartialEq for ExtFields {
    /// Same pairs in the same order (dead bytes do not count).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, String)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut fields = ExtFields::new();
        for (key, value) in iter {
            fields.insert(key, value);
        }
        fields
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

// ---------------------------------------------------------------------------------------
// Binary header

fn encode_binary_header(command: &RemotingCommand, out: &mut BytesMut) -> Result<(), WireError> {
    let code = i16::try_from(command.code).map_err(|_| WireError::InvalidField {
        field: "code",
        value: command.code.to_string(),
        reason: "does not fit the binary header's i16; use JSON",
    })?;
    // Java writes `(short) version`; a truncating cast keeps that behaviour.
    #[allow(clippy::cast_possible_truncation)]
    let version = command.version as i16;
    out.put_i16(code);
    out.put_u8(command.language.0);
    out.put_i16(version);
    out.put_i32(command.opaque);
    out.put_i32(command.flag);
    let remark = command.remark.as_deref().unwrap_or("");
    out.put_i32(len_i32(remark.len(), "remark")?);
    out.put_slice(remark.as_bytes());
    let ext_bytes = binary_ext_size(command);
    out.put_i32(len_i32(ext_bytes, "extFields")?);
    if let Some(fields) = &command.ext_fields {
        for (key, value) in fields.iter() {
            let key_len = i16::try_from(key.len()).map_err(|_| WireError::TooLong {
                field: "extFields key",
                length_bytes: key.len(),
            })?;
            out.put_i16(key_len);
            out.put_slice(key.as_bytes());
            out.put_i32(len_i32(value.len(), "extFields value")?);
            out.put_slice(value.as_bytes());
        }
    }
    Ok(())
}

fn len_i32(length_bytes: usize, field: &'static str) -> Result<i32, WireError> {
    i32::try_from(length_bytes).map_err(|_| WireError::TooLong {
        field,
        length_bytes,
    })
}

fn binary_ext_size(command: &RemotingCommand) -> usize {
    command.ext_fields.as_ref().map_or(0, |fields| {
        fields
            .iter()
            .map(|(key, value)| 2 + key.len() + 4 + value.len())
            .sum()
    })
}

fn binary_header_size(command: &RemotingCommand) -> usize {
    BINARY_FIXED_BYTES + command.remark.as_ref().map_or(0, String::len) + binary_ext_size(command)
}

struct BinaryReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> BinaryReader<'a> {
    fn take(&mut self, count: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(WireError::Truncated { field })?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, WireError> {
        let b = self.take(2, field)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, WireError> {
        let b = self.take(4, field)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn length(&mut self, length: i64, field: &'static str) -> Result<usize, WireError> {
        usize::try_from(length).map_err(|_| WireError::InvalidField {
            field,
            value: length.to_string(),
            reason: "negative length",
        })
    }

    /// A length-prefixed string borrowed from the header; zero length = `None`.
    fn text(&mut self, length: usize, field: &'static str) -> Result<Option<&'a str>, WireError> {
        if length == 0 {
            return Ok(None);
        }
        let bytes = self.take(length, field)?;
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| WireError::InvalidUtf8 { field })
    }

    /// A length-prefixed string; zero length = `None`.
    fn string(&mut self, length: usize, field: &'static str) -> Result<Option<String>, WireError> {
        if length == 0 {
            return Ok(None);
        }
        let bytes = self.take(length, field)?;
        let text = std::str::from_utf8(bytes).map_err(|_| WireError::InvalidUtf8 { field })?;
        Ok(Some(text.to_owned()))
    }
}

fn decode_binary_header(header: &[u8]) -> Result<RemotingCommand, WireError> {
    let mut reader = BinaryReader {
        bytes: header,
        position: 0,
    };
    let code = i32::from(reader.i16("code")?);
    let language = LanguageCode(reader.take(1, "language")?[0]);
    let version = i32::from(reader.i16("version")?);
    let opaque = reader.i32("opaque")?;
    let flag = reader.i32("flag")?;
    let remark_len = reader.i32("remarkLen")?;
    let remark_len = reader.length(i64::from(remark_len), "remarkLen")?;
    let remark = reader.string(remark_len, "remark")?;
    let ext_len = reader.i32("extFieldsLen")?;
    let ext_len = reader.length(i64::from(ext_len), "extFieldsLen")?;
    let ext_fields = if ext_len == 0 {
        None
    } else {
        let ext_bytes = reader.take(ext_len, "extFields")?;
        Some(decode_binary_ext(ext_bytes)?)
    };
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        serialize_type: SerializeType::RocketMq,
        body: Bytes::new(),
    })
}

fn decode_binary_ext(bytes: &[u8]) -> Result<ExtFields, WireError> {
    let mut reader = BinaryReader { bytes, position: 0 };
    let mut fields = ExtFields::with_capacity_bytes(16, bytes.len());
    while reader.position < bytes.len() {
        let key_len = reader.i16("extFields keyLen")?;
        let key_len = reader.length(i64::from(key_len), "extFields keyLen")?;
        let key = reader.text(key_len, "extFields key")?;
        let value_len = reader.i32("extFields valLen")?;
        let value_len = reader.length(i64::from(value_len), "extFields valLen")?;
        let value = reader.text(value_len, "extFields value")?;
        // Java's map drops null keys' entries on use; a zero-length value means null.
        if let (Some(key), Some(value)) = (key, value) {
            fields.insert(key, value);
        }
    }
    Ok(fields)
}

// ---------------------------------------------------------------------------------------
// JSON header

fn encode_json_header(command: &RemotingCommand, out: &mut BytesMut) {
    out.put_slice(b"{\"code\":");
    put_decimal(out, i64::from(command.code));
    if let Some(fields) = &command.ext_fields {
        out.put_slice(b",\"extFields\":{");
        for (index, (key, value)) in fields.iter().enumerate() {
            if index > 0 {
                out.put_u8(b',');
            }
            put_json_string(out, key);
            out.put_u8(b':');
            put_json_string(out, value);
        }
        out.put_u8(b'}');
    }
    out.put_slice(b",\"flag\":");
    put_decimal(out, i64::from(command.flag));
    out.put_slice(b",\"language\":\"");
    out.put_slice(command.language.name().as_bytes());
    out.put_slice(b"\",\"opaque\":");
    put_decimal(out, i64::from(command.opaque));
    if let Some(remark) = &command.remark {
        out.put_slice(b",\"remark\":");
        put_json_string(out, remark);
    }
    out.put_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    put_decimal(out, i64::from(command.version));
    out.put_u8(b'}');
}

fn json_header_size(command: &RemotingCommand) -> usize {
    let mut size = "{\"code\":".len() + decimal_len(i64::from(command.code));
    if let Some(fields) = &command.ext_fields {
        size += ",\"extFields\":{".len() + 1;
        size += fields.len().saturating_sub(1);
        for (key, value) in fields.iter() {
            size += json_string_len(key) + 1 + json_string_len(value);
        }
    }
    size += ",\"flag\":".len() + decimal_len(i64::from(command.flag));
    size += ",\"language\":\"".len() + command.language.name().len();
    size += "\",\"opaque\":".len() + decimal_len(i64::from(command.opaque));
    if let Some(remark) = &command.remark {
        size += ",\"remark\":".len() + json_string_len(remark);
    }
    size += ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":".len();
    size += decimal_len(i64::from(command.version)) + 1;
    size
}

fn put_decimal(out: &mut BytesMut, value: i64) {
    let mut digits = [0u8; 20];
    let mut position = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        position -= 1;
        digits[position] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if value < 0 {
        out.put_u8(b'-');
    }
    out.put_slice(&digits[position..]);
}

fn decimal_len(value: i64) -> usize {
    let mut length = usize::from(value < 0);
    let mut rest = value.unsigned_abs();
    loop {
        length += 1;
        rest /= 10;
        if rest == 0 {
            return length;
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn escape_of(byte: u8) -> Option<&'static [u8]> {
    match byte {
        b'"' => Some(b"\\\""),
        b'\\' => Some(b"\\\\"),
        b'\n' => Some(b"\\n"),
        b'\r' => Some(b"\\r"),
        b'\t' => Some(b"\\t"),
        _ => None,
    }
}

/// Writes `text` as a JSON string literal.
pub fn put_json_string(out: &mut BytesMut, text: &str) {
    out.put_u8(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        out.put_slice(&bytes[start..index]);
        if let Some(escape) = escape_of(byte) {
            out.put_slice(escape);
        } else {
            out.put_slice(b"\\u00");
            out.put_u8(HEX[usize::from(byte >> 4)]);
            out.put_u8(HEX[usize::from(byte & 0xF)]);
        }
        start = index + 1;
    }
    out.put_slice(&bytes[start..]);
    out.put_u8(b'"');
}

fn json_string_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|byte| {
            if byte >= 0x20 && byte != b'"' && byte != b'\\' {
                1
            } else {
                escape_of(byte).map_or(6, <[u8]>::len)
            }
        })
        .sum::<usize>()
}

#[derive(Deserialize)]
struct JsonHeader {
    #[serde(default, deserialize_with = "lenient_i32")]
    code: i32,
    #[serde(default)]
    language: Option<JsonLanguage>,
    #[serde(default, deserialize_with = "lenient_i32")]
    version: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    opaque: i32,
    #[serde(default, deserialize_with = "lenient_i32")]
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(rename = "extFields", default)]
    ext_fields: Option<JsonExtFields>,
}

/// `language` as a Java enum name or an ordinal.
struct JsonLanguage(LanguageCode);

impl<'de> Deserialize<'de> for JsonLanguage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(deserializer)? {
            Scalar::Text(name) => Ok(JsonLanguage(LanguageCode::from_name(&name))),
            Scalar::Integer(ordinal) => Ok(JsonLanguage(
                u8::try_from(ordinal).map_or(LanguageCode::OTHER, LanguageCode),
            )),
            Scalar::Null | Scalar::Other(_) => Ok(JsonLanguage(LanguageCode::OTHER)),
        }
    }
}

/// A JSON scalar as a lenient peer may send it.
enum Scalar {
    Text(String),
    Integer(i64),
    Other(String),
    Null,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or_else(|_| Scalar::Other(v.to_string()), Scalar::Integer))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

fn lenient_i32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    match Scalar::deserialize(deserializer)? {
        Scalar::Integer(number) => i32::try_from(number).map_err(de::Error::custom),
        Scalar::Text(text) => text.trim().parse().map_err(de::Error::custom),
        Scalar::Null => Ok(0),
        Scalar::Other(text) => Err(de::Error::custom(format!("not an int: {text}"))),
    }
}

/// `extFields` with string, number or boolean values; null values are dropped.
struct JsonExtFields(ExtFields);

/// A JSON object key, borrowed from the header when it has no escapes.
struct JsonKey<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for JsonKey<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = JsonKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// An ext value as its text (numbers and booleans as Java's `toString` writes them),
/// borrowed when possible; `None` for null.
struct JsonValueText<'de>(Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for JsonValueText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = JsonValueText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(JsonValueText(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                let text = if v { "true" } else { "false" };
                Ok(JsonValueText(Some(Cow::Borrowed(text))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonValueText(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonValueText(None))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for JsonExtFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = JsonExtFields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of scalar values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonExtFields, A::Error> {
                let entries = map.size_hint().unwrap_or(16);
                let text_bytes = entries.saturating_mul(32);
                let mut fields = ExtFields::with_capacity_bytes(entries, text_bytes);
                while let Some(key) = map.next_key::<JsonKey<'de>>()? {
                    if let JsonValueText(Some(value)) = map.next_value::<JsonValueText<'de>>()? {
                        fields.insert(&*key.0, &*value);
                    }
                }
                Ok(JsonExtFields(fields))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

fn decode_json_header(header: &[u8]) -> Result<RemotingCommand, WireError> {
    let parsed: JsonHeader =
        serde_json::from_slice(header).map_err(|error| WireError::InvalidJson {
            what: "header",
            reason: error.to_string(),
        })?;
    Ok(RemotingCommand {
        code: parsed.code,
        language: parsed.language.map_or(LanguageCode::OTHER, |l| l.0),
        version: parsed.version,
        opaque: parsed.opaque,
        flag: parsed.flag,
        remark: parsed.remark,
        ext_fields: parsed.ext_fields.map(|fields| fields.0),
        serialize_type: SerializeType::Json,
        body: Bytes::new(),
    })
}

#[cfg(test)]
mod tests;
