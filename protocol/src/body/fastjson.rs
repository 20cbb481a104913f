//! fastjson's non-standard JSON, read and written.
//!
//! A Java peer serializes a `Map` whose keys are not strings by writing the key as JSON
//! itself: an `Integer` key is a bare number (`{0:"a"}`) and a `MessageQueue` key is an
//! object (`ConsumeStats`, `TopicStatsTable`, `ResetOffsetBody`):
//!
//! ```text
//! {"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"maxOffset":5,...}}}
//! ```
//!
//! fastjson reads that form back (and refuses a *string* key for an object-typed map key),
//! so bodies with `MessageQueue` keys are written this way for `mqadmin` and the dashboard.
//! Reading goes through [`quote_keys`], which rewrites every non-string key into a JSON
//! string holding the key's JSON text; a key deserializer then parses that text again.

use bytes::{BufMut, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::borrow::Cow;

use crate::WireError;

/// Containers nested deeper than this make [`quote_keys`] give up (serde_json refuses them
/// too: its recursion limit is the same).
pub const NESTING_DEPTH_MAX: usize = 128;

struct Frame {
    is_object: bool,
    expecting_key: bool,
    /// Output offset where this container starts, if it sits where a key belongs.
    key_start: Option<usize>,
}

/// Rewrites every object key that is not a JSON string into one: bare tokens
/// (`{0:"a"}` → `{"0":"a"}`) and object or array keys (`{{"q":1}:2}` → `{"{\"q\":1}":2}`).
/// Text inside strings is untouched. Returns the input (borrowed) when nothing changed or
/// the input is too broken or too deep to rewrite; the JSON parser reports those.
/// Linear in the input, never panics.
#[must_use]
pub fn quote_keys(input: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(input.len() + 16);
    let mut stack: Vec<Frame> = Vec::new();
    let mut changed = false;
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        let at_key = stack
            .last()
            .is_some_and(|top| top.is_object && top.expecting_key);
        match byte {
            b'"' => {
                let end = string_end(input, index);
                out.extend_from_slice(&input[index..end]);
                index = end;
                if at_key {
                    set_expecting_key(&mut stack, false);
                }
                continue;
            }
            b'{' | b'[' => {
                if stack.len() >= NESTING_DEPTH_MAX {
                    return Cow::Borrowed(input);
                }
                if at_key {
                    set_expecting_key(&mut stack, false);
                }
                stack.push(Frame {
                    is_object: byte == b'{',
                    expecting_key: byte == b'{',
                    key_start: at_key.then_some(out.len()),
                });
                out.push(byte);
            }
            b'}' | b']' => {
                out.push(byte);
                let Some(frame) = stack.pop() else {
                    return Cow::Borrowed(input);
                };
                if let Some(start) = frame.key_start {
                    if input.get(skip_whitespace(input, index + 1)) == Some(&b':') {
                        let raw = out.split_off(start);
                        push_json_string(&mut out, &raw);
                        changed = true;
                    }
                }
            }
            b',' => {
                out.push(byte);
                if stack.last().is_some_and(|top| top.is_object) {
                    set_expecting_key(&mut stack, true);
                }
            }
            _ if byte.is_ascii_whitespace() || byte == b':' => out.push(byte),
            _ => {
                let end = bare_token_end(input, index);
                if at_key && input.get(skip_whitespace(input, end)) == Some(&b':') {
                    push_json_string(&mut out, &input[index..end]);
                    set_expecting_key(&mut stack, false);
                    changed = true;
                } else {
                    out.extend_from_slice(&input[index..end]);
                }
                index = end;
                continue;
            }
        }
        index += 1;
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(input)
    }
}

fn set_expecting_key(stack: &mut [Frame], expecting_key: bool) {
    if let Some(top) = stack.last_mut() {
        top.expecting_key = expecting_key;
    }
}

/// Index just past the string starting at `start` (a `"`), or the input's end.
fn string_end(input: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < input.len() {
        match input[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    input.len()
}

/// Index just past a bare token (number, literal, identifier); at least one byte.
fn bare_token_end(input: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while input.get(end).is_some_and(|byte| {
        !byte.is_ascii_whitespace()
            && !matches!(byte, b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"')
    }) {
        end += 1;
    }
    end
}

fn skip_whitespace(input: &[u8], mut index: usize) -> usize {
    while input.get(index).is_some_and(u8::is_ascii_whitespace) {
        index += 1;
    }
    index
}

fn push_json_string(out: &mut Vec<u8>, raw: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in raw {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1F => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xF)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// Parses `bytes` as `T`; when standard JSON fails, retries once with fastjson's non-string
/// keys quoted by [`quote_keys`]. Unknown keys, any key order and trailing whitespace
/// (C++ bodies end with `\n`) are accepted by the types' serde derives.
///
/// # Errors
/// [`WireError::InvalidJson`] naming `what`.
pub fn decode_lenient<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, WireError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(first_error) => match quote_keys(bytes) {
            Cow::Owned(quoted) => {
                serde_json::from_slice(&quoted).map_err(|error| invalid_json(what, &error))
            }
            Cow::Borrowed(_) => Err(invalid_json(what, &first_error)),
        },
    }
}

/// A [`WireError::InvalidJson`] for body `what`.
#[must_use]
pub fn invalid_json(what: &'static str, error: &serde_json::Error) -> WireError {
    WireError::InvalidJson {
        what,
        reason: error.to_string(),
    }
}

/// Appends `value` as compact JSON.
///
/// # Errors
/// [`WireError::Malformed`] if `value` cannot be serialized (a map with non-string keys).
pub fn write_json<T: Serialize + ?Sized>(out: &mut BytesMut, value: &T) -> Result<(), WireError> {
    serde_json::to_writer(out.writer(), value).map_err(|_| WireError::Malformed {
        what: "JSON body",
        reason: "value cannot be serialized as JSON",
    })
}

/// Appends a map the way fastjson writes non-string keys: `{K:V,...}` with each key written
/// as JSON (an object for `MessageQueue`).
///
/// # Errors
/// As [`write_json`].
pub fn write_object_key_map<'a, K, V, I>(out: &mut BytesMut, entries: I) -> Result<(), WireError>
where
    K: Serialize + 'a,
    V: Serialize + 'a,
    I: IntoIterator<Item = (&'a K, &'a V)>,
{
    out.put_u8(b'{');
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.put_u8(b',');
        }
        write_json(out, key)?;
        out.put_u8(b':');
        write_json(out, value)?;
    }
    out.put_u8(b'}');
    Ok(())
}

/// Implements `body::route::JsonBody` for serde types, decoding with [`decode_lenient`]
/// (fastjson keys accepted) and naming the type in errors.
macro_rules! lenient_json_body {
    ($($name:ident),+ $(,)?) => {
        $(
            impl $crate::body::route::JsonBody for $name {
                const WHAT: &'static str = stringify!($name);

                fn decode(bytes: &[u8]) -> Result<Self, $crate::WireError> {
                    $crate::body::fastjson::decode_lenient(bytes, Self::WHAT)
                }
            }
        )+
    };
}

pub(crate) use lenient_json_body;

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> String {
        String::from_utf8(quote_keys(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn object_and_bare_keys_become_strings() {
        assert_eq!(
            quoted(
                r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5}}}"#
            ),
            r#"{"offsetTable":{"{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"T\"}":{"maxOffset":5}}}"#
        );
        assert_eq!(
            quoted(r#"{"brokerAddrs":{0:"a:1", -1 : "b"},"x":[1,{"y":2}]}"#),
            r#"{"brokerAddrs":{"0":"a:1", "-1" : "b"},"x":[1,{"y":2}]}"#
        );
        assert_eq!(quoted(r#"{[1,2]:3}"#), r#"{"[1,2]":3}"#);
    }

    #[test]
    fn standard_json_is_borrowed_unchanged() {
        for text in [
            r#"{"a":[1,2,{"b":"c:{d}"}],"e":true,"f":null}"#,
            r#"[{"a":1},{"b":2}]"#,
            "",
            "{",
            "}}}",
            r#""unterminated"#,
            r#"{"a":"\"}{:"}"#,
        ] {
            assert!(
                matches!(quote_keys(text.as_bytes()), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn too_deep_input_is_left_to_the_parser() {
        let deep = format!("{}{}", "{".repeat(200), "}".repeat(200));
        assert!(matches!(quote_keys(deep.as_bytes()), Cow::Borrowed(_)));
        let deep_keys = format!("{}1{}", "{{".repeat(100), ":1}".repeat(100));
        assert!(matches!(quote_keys(deep_keys.as_bytes()), Cow::Borrowed(_)));
    }

    #[test]
    fn decode_lenient_retries_with_quoted_keys() {
        let map: std::collections::BTreeMap<i32, String> =
            decode_lenient(br#"{0:"a",1:"b"}"#, "test").unwrap();
        assert_eq!(map[&1], "b");
        let error = decode_lenient::<std::collections::BTreeMap<i32, String>>(b"{0:", "test");
        assert!(matches!(
            error,
            Err(WireError::InvalidJson { what: "test", .. })
        ));
    }

    #[test]
    fn object_key_maps_are_written_like_fastjson() {
        let mut out = BytesMut::new();
        let entries = [(vec![1], 2), (vec![3], 4)];
        write_object_key_map(&mut out, entries.iter().map(|(k, v)| (k, v))).unwrap();
        assert_eq!(&out[..], b"{[1]:2,[3]:4}");
    }
}
