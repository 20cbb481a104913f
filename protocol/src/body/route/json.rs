//! JSON helpers shared by the route bodies: the [`JsonBody`] codec trait, fastjson's
//! unquoted numeric map keys, and lenient field deserializers (numbers as strings, `null`
//! for defaults) — the forms Java, Go and C++ peers send.

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

use crate::WireError;

/// A JSON body, written fastjson-style (keys in alphabetical order, nulls omitted, no
/// whitespace, map keys quoted) and read leniently.
pub trait JsonBody: Serialize + DeserializeOwned {
    /// Names the body in errors.
    const WHAT: &'static str;

    /// Appends the JSON text to `out`.
    ///
    /// # Errors
    /// [`WireError::Malformed`] if serde refuses the value (not expected for these plain
    /// data types: every map key is a string or an integer).
    fn encode(&self, out: &mut BytesMut) -> Result<(), WireError> {
        serde_json::to_writer(out.writer(), self).map_err(|_| WireError::Malformed {
            what: Self::WHAT,
            reason: "not serializable as JSON",
        })
    }

    /// The JSON text as a new buffer.
    ///
    /// # Errors
    /// As [`JsonBody::encode`].
    fn to_bytes(&self) -> Result<Bytes, WireError> {
        let mut out = BytesMut::new();
        self.encode(&mut out)?;
        Ok(out.freeze())
    }

    /// Parses the body; accepts fastjson's unquoted numeric keys (`{0:"a"}`), unknown
    /// keys, `null` for absent values, numbers as strings and trailing whitespace.
    ///
    /// # Errors
    /// [`WireError::InvalidJson`] naming the body.
    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        decode_json(bytes, Self::WHAT)
    }
}

/// Parses `bytes` as `T`, retrying once with fastjson's unquoted numeric keys quoted.
///
/// # Errors
/// [`WireError::InvalidJson`] with `what` and the parser's reason.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, WireError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(first_error) => match quote_numeric_keys(bytes) {
            Cow::Owned(quoted) => {
                serde_json::from_slice(&quoted).map_err(|error| invalid(what, &error))
            }
            Cow::Borrowed(_) => Err(invalid(what, &first_error)),
        },
    }
}

fn invalid(what: &'static str, error: &serde_json::Error) -> WireError {
    WireError::InvalidJson {
        what,
        reason: error.to_string(),
    }
}

/// Rewrites object keys that are bare numbers (`{0:"a",-1:"b"}`) into strings
/// (`{"0":"a","-1":"b"}`). Text inside strings is left alone. Returns the input unchanged
/// (borrowed) when it has no such key.
#[must_use]
pub fn quote_numeric_keys(input: &[u8]) -> Cow<'_, [u8]> {
    let mut output: Option<Vec<u8>> = None;
    let mut copied_to = 0;
    let mut index = 0;
    let mut in_string = false;
    while index < input.len() {
        let byte = input[index];
        if in_string {
            match byte {
                b'\\' => index += 1,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b',' => {
                let start = skip_whitespace(input, index + 1);
                let end = numeric_token_end(input, start);
                if end > start && input.get(skip_whitespace(input, end)) == Some(&b':') {
                    let out = output.get_or_insert_with(|| Vec::with_capacity(input.len() + 16));
                    out.extend_from_slice(&input[copied_to..start]);
                    out.push(b'"');
                    out.extend_from_slice(&input[start..end]);
                    out.push(b'"');
                    copied_to = end;
                    index = end;
                    continue;
                }
            }
            _ => {}
        }
        index += 1;
    }
    match output {
        Some(mut out) => {
            out.extend_from_slice(&input[copied_to..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(input),
    }
}

fn skip_whitespace(input: &[u8], mut index: usize) -> usize {
    while input.get(index).is_some_and(u8::is_ascii_whitespace) {
        index += 1;
    }
    index
}

fn numeric_token_end(input: &[u8], start: usize) -> usize {
    let mut end = start;
    if input.get(end) == Some(&b'-') {
        end += 1;
    }
    let digits_start = end;
    while input.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if end == digits_start {
        start
    } else {
        end
    }
}

/// A JSON scalar read leniently: numbers may arrive as strings, booleans as `"true"`,
/// `"1"` or `1`; `null` means "use the default".
enum Lenient {
    Integer(i64),
    Bool(bool),
    Text(String),
    Null,
    Float,
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LenientVisitor;
        impl Visitor<'_> for LenientVisitor {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, boolean, string or null")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                i64::try_from(v)
                    .map(Lenient::Integer)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient, E> {
                Ok(Lenient::Float)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Lenient, E> {
                Ok(Lenient::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient::Text(v.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Null)
            }
        }
        deserializer.deserialize_any(LenientVisitor)
    }
}

fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Lenient::deserialize(deserializer)? {
        Lenient::Integer(value) => Ok(value),
        Lenient::Null => Ok(0),
        Lenient::Text(text) => text.trim().parse().map_err(de::Error::custom),
        Lenient::Bool(_) | Lenient::Float => Err(de::Error::custom("expected an integer")),
    }
}

/// An `int` field: a number or a numeric string; `null` = 0.
pub fn lenient_i32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    i32::try_from(integer(deserializer)?).map_err(|_| de::Error::custom("integer out of int range"))
}

/// A `long` field: a number or a numeric string; `null` = 0.
pub fn lenient_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    integer(deserializer)
}

/// A `boolean` field: `true/false`, `"true"/"false"`, `1/0`, `"1"/"0"`; `null` = false.
pub fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Lenient::deserialize(deserializer)? {
        Lenient::Bool(value) => Ok(value),
        Lenient::Null | Lenient::Integer(0) => Ok(false),
        Lenient::Integer(1) => Ok(true),
        Lenient::Text(text) => crate::header::fields::parse_bool("boolean", &text)
            .map_err(|_| de::Error::custom(format!("not a boolean: {text:?}"))),
        Lenient::Integer(_) | Lenient::Float => Err(de::Error::custom("expected a boolean")),
    }
}

/// Any defaultable field where `null` means the default (empty list/map/string).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
