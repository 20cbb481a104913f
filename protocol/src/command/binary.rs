//! The ROCKETMQ binary header (serializeType 1); the layout is in [`super`]'s docs.

use bytes::{BufMut, Bytes, BytesMut};

use super::{ExtFields, RemotingCommand, SerializeType, BINARY_FIXED_BYTES};
use crate::code::LanguageCode;
use crate::WireError;

pub(super) fn encode_binary_header(
    command: &RemotingCommand,
    out: &mut BytesMut,
) -> Result<(), WireError> {
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

pub(super) fn len_i32(length_bytes: usize, field: &'static str) -> Result<i32, WireError> {
    i32::try_from(length_bytes).map_err(|_| WireError::TooLong {
        field,
        length_bytes,
    })
}

pub(super) fn binary_ext_size(command: &RemotingCommand) -> usize {
    command.ext_fields.as_ref().map_or(0, |fields| {
        fields
            .iter()
            .map(|(key, value)| 2 + key.len() + 4 + value.len())
            .sum()
    })
}

pub(super) fn binary_header_size(command: &RemotingCommand) -> usize {
    BINARY_FIXED_BYTES + command.remark.as_ref().map_or(0, String::len) + binary_ext_size(command)
}

pub(super) struct BinaryReader<'a> {
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

pub(super) fn decode_binary_header(header: &[u8]) -> Result<RemotingCommand, WireError> {
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

pub(super) fn decode_binary_ext(bytes: &[u8]) -> Result<ExtFields, WireError> {
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
