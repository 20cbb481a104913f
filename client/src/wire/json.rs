//! Reading fastjson's non-standard maps: object keys that are JSON objects
//! (`{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`, as in `TopicStatsTable`,
//! `ConsumeStats`, `ResetOffsetBody`) or bare numbers (`{0:"addr"}`).
//!
//! TODO(protocol): move into `protocol::body` next to `quote_numeric_keys`.

/// Rewrites object keys that are objects or bare numbers into JSON strings, so the text
/// parses as standard JSON. An object key becomes the string of its JSON text, which
/// [`serde_json::from_str`] can parse again.
#[must_use]
pub fn quote_complex_keys(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len() + 16);
    // Per open container: true = object.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if expect_key && !byte.is_ascii_whitespace() && byte != b'"' && byte != b'}' {
            let end = if byte == b'{' || byte == b'[' {
                matching_close(bytes, index)
            } else {
                key_token_end(bytes, index)
            };
            let key = &input[index..end];
            out.push_str(&serde_json::Value::String(key.to_owned()).to_string());
            index = end;
            expect_key = false;
            continue;
        }
        match byte {
            b'"' => {
                let end = string_end(bytes, index);
                out.push_str(&input[index..end]);
                index = end;
                expect_key = false;
                continue;
            }
            b'{' => {
                stack.push(true);
                expect_key = true;
            }
            b'[' => stack.push(false),
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last() == Some(&true),
            b':' => expect_key = false,
            _ => {}
        }
        out.push(char::from(byte));
        index += 1;
        if byte >= 0x80 {
            // Copy the rest of a multi-byte character unchanged.
            out.pop();
            let start = index - 1;
            let mut end = index;
            while end < bytes.len() && !input.is_char_boundary(end) {
                end += 1;
            }
            out.push_str(&input[start..end]);
            index = end;
        }
    }
    out
}

fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

fn matching_close(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut index = start;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                index = string_end(bytes, index);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    bytes.len()
}

fn key_token_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start;
    while index < bytes.len() && !matches!(bytes[index], b':' | b',' | b'}') {
        index += 1;
    }
    while index > start && bytes[index - 1].is_ascii_whitespace() {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_and_numeric_keys_become_strings() {
        let text = r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5},{"brokerName":"b","queueId":1,"topic":"T"}:{"maxOffset":7}},"n":{0:"a", 1 :"b"},"s":"{x}:é"}"#;
        let fixed = quote_complex_keys(text);
        let value: serde_json::Value = serde_json::from_str(&fixed).unwrap();
        let table = value["offsetTable"].as_object().unwrap();
        assert_eq!(table.len(), 2);
        let (key, entry) = table.iter().next().unwrap();
        let key: serde_json::Value = serde_json::from_str(key).unwrap();
        assert_eq!(key["brokerName"], "b");
        assert_eq!(entry["maxOffset"], 5);
        assert_eq!(value["n"]["1"], "b");
        assert_eq!(value["s"], "{x}:é");
    }

    #[test]
    fn standard_json_is_unchanged() {
        let text = r#"{"a":[1,{"b":"c"}],"d":{}}"#;
        assert_eq!(quote_complex_keys(text), text);
    }
}
