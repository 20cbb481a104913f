//! Topic route bodies (`GET_ROUTEINFO_BY_TOPIC`) and the loopback guard. Pure functions.

use std::net::{SocketAddr, ToSocketAddrs};

use serde_json::Value;

use super::{QueueRef, TargetError};

/// `PermName.PERM_WRITE`.
const PERM_WRITE: u64 = 1 << 1;
/// `MixAll.MASTER_ID`.
const MASTER_ID: &str = "0";

/// fastjson writes maps with integer keys unquoted (`{0:"127.0.0.1:10911"}`); standard JSON
/// needs `{"0":...}`. Quotes every bare integer key outside strings.
#[must_use]
pub fn quote_integer_keys(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut expect_key = false;
    // true = inside an object (after ',' comes a key), false = inside an array.
    let mut containers: Vec<bool> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            in_string = byte != b'"' || escaped;
            escaped = byte == b'\\' && !escaped;
        } else if expect_key && (byte.is_ascii_digit() || byte == b'-') {
            let end = bytes[index..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'-'))
                .map_or(bytes.len(), |offset| index + offset);
            out.push('"');
            out.push_str(&text[index..end]);
            out.push('"');
            index = end;
            expect_key = false;
            continue;
        } else if byte == b'"' {
            in_string = true;
        }
        if !in_string && !byte.is_ascii_whitespace() {
            match byte {
                b'{' => containers.push(true),
                b'[' => containers.push(false),
                b'}' | b']' => {
                    containers.pop();
                }
                _ => {}
            }
            let in_object = containers.last() == Some(&true);
            expect_key = byte == b'{' || (byte == b',' && in_object);
        }
        out.push(char::from(byte));
        index += 1;
    }
    out
}

/// The writable queues of a route body, masters only, in (broker name, queue id) order.
///
/// # Errors
/// [`TargetError::Protocol`] if the body is not a route.
pub fn writable_queues(body: &[u8]) -> Result<Vec<QueueRef>, TargetError> {
    let text = String::from_utf8_lossy(body);
    let route: Value = serde_json::from_str(&quote_integer_keys(&text))
        .map_err(|error| TargetError::Protocol(format!("route body: {error}")))?;
    let brokers = route["brokerDatas"]
        .as_array()
        .ok_or_else(|| TargetError::Protocol("route body without brokerDatas".to_owned()))?;
    let mut queues = Vec::new();
    for queue_data in route["queueDatas"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
    {
        let broker_name = queue_data["brokerName"].as_str().unwrap_or_default();
        let writable = queue_data["perm"].as_u64().unwrap_or(0) & PERM_WRITE != 0;
        let count = queue_data["writeQueueNums"].as_u64().unwrap_or(0);
        let master = brokers
            .iter()
            .find(|broker| broker["brokerName"].as_str() == Some(broker_name))
            .and_then(|broker| broker["brokerAddrs"][MASTER_ID].as_str());
        let (true, Some(address)) = (writable, master) else {
            continue;
        };
        for queue_id in 0..u32::try_from(count).unwrap_or(0) {
            queues.push(QueueRef {
                broker_name: broker_name.to_owned(),
                broker_address: address.to_owned(),
                queue_id,
            });
        }
    }
    queues.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
    Ok(queues)
}

/// The master brokers (name, address) of a route body.
///
/// # Errors
/// [`TargetError::Protocol`] if the body is not a route.
pub fn masters(body: &[u8]) -> Result<Vec<(String, String)>, TargetError> {
    let text = String::from_utf8_lossy(body);
    let route: Value = serde_json::from_str(&quote_integer_keys(&text))
        .map_err(|error| TargetError::Protocol(format!("route body: {error}")))?;
    Ok(route["brokerDatas"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|broker| {
            Some((
                broker["brokerName"].as_str()?.to_owned(),
                broker["brokerAddrs"][MASTER_ID].as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// Resolves `address` and refuses anything outside loopback unless `allow_remote`.
///
/// # Errors
/// Unresolvable, or [`TargetError::RemoteAddress`].
pub fn checked_address(address: &str, allow_remote: bool) -> Result<SocketAddr, TargetError> {
    let resolved: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|source| TargetError::Io {
            address: address.to_owned(),
            source,
        })?
        .collect();
    let first = resolved.first().copied().ok_or_else(|| TargetError::Io {
        address: address.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })?;
    if !allow_remote && !resolved.iter().all(|socket| socket.ip().is_loopback()) {
        return Err(TargetError::RemoteAddress(address.to_owned()));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str = r#"{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911","1":"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"},{"brokerAddrs":{"0":"127.0.0.1:10931"},"brokerName":"broker-b","cluster":"DefaultCluster"}],"queueDatas":[{"brokerName":"broker-b","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2},{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;

    #[test]
    fn queues_from_a_standard_route() {
        let queues = writable_queues(ROUTE.as_bytes()).expect("route");
        assert_eq!(queues.len(), 6);
        assert_eq!(queues[0].broker_name, "broker-a");
        assert_eq!(queues[0].broker_address, "127.0.0.1:10911");
        assert_eq!(queues[5].broker_address, "127.0.0.1:10931");
        assert_eq!(queues[5].queue_id, 1);
        let masters = masters(ROUTE.as_bytes()).expect("masters");
        assert_eq!(
            masters,
            [
                ("broker-a".to_owned(), "127.0.0.1:10911".to_owned()),
                ("broker-b".to_owned(), "127.0.0.1:10931".to_owned()),
            ]
        );
    }

    #[test]
    fn fastjson_integer_keys_and_read_only_queues() {
        let fastjson = r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911", 1 :"x"},"brokerName":"a"}],"queueDatas":[{"brokerName":"a","perm":4,"writeQueueNums":4}],"note":"{0:keep}"}"#;
        let quoted = quote_integer_keys(fastjson);
        assert!(
            quoted.contains(r#"{"0":"127.0.0.1:10911", "1" :"x"}"#),
            "{quoted}"
        );
        assert!(
            quoted.contains(r#""{0:keep}""#),
            "strings untouched: {quoted}"
        );
        assert!(
            writable_queues(fastjson.as_bytes())
                .expect("parses")
                .is_empty(),
            "perm 4 = read only"
        );
        assert!(writable_queues(b"not json").is_err());
        assert_eq!(quote_integer_keys(r#"[1,2,{"a":-1}]"#), r#"[1,2,{"a":-1}]"#);
    }

    #[test]
    fn loopback_guard() {
        assert!(checked_address("127.0.0.1:9876", false).is_ok());
        assert!(checked_address("127.0.0.5:9876", false).is_ok());
        assert!(checked_address("[::1]:9876", false).is_ok());
        assert!(matches!(
            checked_address("10.1.2.3:9876", false),
            Err(TargetError::RemoteAddress(_))
        ));
        assert!(checked_address("10.1.2.3:9876", true).is_ok());
        assert!(checked_address("no-port", false).is_err());
    }
}
