//! The JSON header (serializeType 0): fastjson's form on encode, lenient on decode (see
//! [`super`]'s docs).

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

use super::{ExtFields, RemotingCommand, SerializeType};
use crate::code::LanguageCode;
use crate::WireError;

pub(super) fn encode_json_header(command: &RemotingCommand, out: &mut BytesMut) {
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

pub(super) fn json_header_size(command: &RemotingCommand) -> usize {
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

pub(super) fn put_decimal(out: &mut BytesMut, value: i64) {
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

pub(super) fn decimal_len(value: i64) -> usize {
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

pub(super) fn escape_of(byte: u8) -> Option<&'static [u8]> {
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

pub(super) fn json_string_len(text: &str) -> usize {
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

pub(super) fn lenient_i32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
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

pub(super) fn decode_json_header(header: &[u8]) -> Result<RemotingCommand, WireError> {
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
