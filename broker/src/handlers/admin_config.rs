//! GET_BROKER_CONFIG (26): the running configuration as Java `.properties` text, keys as in
//! `broker.conf` (the same keys [`crate::config::BrokerConfig::apply_properties`] reads),
//! with `version` = a `DataVersion` JSON in the header. UPDATE_BROKER_CONFIG (25): the body
//! is `.properties` text; shard 0 checks every pair (only keys marked runtime in
//! [`crate::config::keys::KEYS`], valid values) and broadcasts the new configuration, which each shard swaps in whole.
//! Updates live until restart; broker.conf stays the source of truth.

use std::fmt::Write as _;

use protocol::body::route::{DataVersion, JsonBody};
use protocol::code::response;
use protocol::header::admin::GetBrokerConfigResponseHeader;
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{control_failure, reply, success, RequestContext};
use crate::config::{keys, parse_properties, BrokerConfig};
use crate::mesh::{ControlOp, ControlReply};

/// The configuration as `key=value` lines, one per key of [`keys::KEYS`], sorted by key.
#[must_use]
pub fn config_properties(config: &BrokerConfig) -> String {
    let mut text = String::new();
    for key in keys::KEYS {
        let _ = writeln!(text, "{}={}", key.name, key.get(config));
    }
    text
}

/// Code 25.
pub async fn update_config(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let Ok(text) = std::str::from_utf8(&request.body) else {
        return reply(request, response::SYSTEM_ERROR, "config body is not UTF-8");
    };
    let updates = parse_properties(text);
    if updates.is_empty() {
        return reply(request, response::SYSTEM_ERROR, "no key=value in the body");
    }
    match context
        .shard
        .call_control(ControlOp::UpdateConfig(updates))
        .await
    {
        ControlReply::Done => success(request),
        other => control_failure(request, other),
    }
}

/// Code 26.
pub async fn get_config(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let version = DataVersion {
        counter: 0,
        state_version: 0,
        timestamp: context.shard.boot_timestamp_ms,
    };
    let version = match version.to_bytes() {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => return reply(request, response::SYSTEM_ERROR, error.to_string()),
    };
    let mut answer =
        success(request).with_body(config_properties(&context.shard.config()).into_bytes());
    GetBrokerConfigResponseHeader { version }.encode(answer.ext_mut());
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip_through_the_config_parser() {
        let config = BrokerConfig {
            max_message_size_bytes: 4_194_305,
            ..BrokerConfig::default()
        };
        let text = config_properties(&config);
        assert!(text.contains("maxMessageSize=4194305\n"));
        assert!(text.contains("brokerName=broker-a\n"));
        let mut again = BrokerConfig::default();
        let warnings = again.apply_properties(&text).expect("applies");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(again.max_message_size_bytes, 4_194_305);
        assert_eq!(
            again.message_delay_levels_ms,
            config.message_delay_levels_ms
        );
        assert_eq!(parse_properties(&text).len(), text.lines().count());
    }
}
