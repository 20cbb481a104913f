//! GET_BROKER_CONFIG (26): the running configuration as Java `.properties` text, keys as in
//! `broker.conf` (the same keys [`crate::config::BrokerConfig::apply_properties`] reads),
//! with `version` = a `DataVersion` JSON in the header. UPDATE_BROKER_CONFIG (25): the body
//! is `.properties` text; shard 0 checks every pair (only [`crate::config::RUNTIME_KEYS`],
//! valid values) and broadcasts the new configuration, which each shard swaps in whole.
//! Updates live until restart; broker.conf stays the source of truth.

use std::fmt::Write as _;

use protocol::body::route::{DataVersion, JsonBody};
use protocol::code::response;
use protocol::header::admin::GetBrokerConfigResponseHeader;
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{control_failure, reply, success, RequestContext};
use crate::config::{parse_properties, BrokerConfig, BrokerRole, FlushDiskType};
use crate::mesh::{ControlOp, ControlReply};

/// The configuration as `key=value` lines, sorted by key.
#[must_use]
pub fn config_properties(config: &BrokerConfig) -> String {
    let delay_levels = config
        .message_delay_levels_ms
        .iter()
        .map(|ms| {
            if ms % 3_600_000 == 0 {
                format!("{}h", ms / 3_600_000)
            } else if ms % 60_000 == 0 {
                format!("{}m", ms / 60_000)
            } else if ms % 1_000 == 0 {
                format!("{}s", ms / 1_000)
            } else {
                format!("{ms}ms")
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let namesrv = config
        .namesrv_addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";");
    let mut entries: Vec<(&str, String)> = vec![
        ("brokerClusterName", config.broker_cluster_name.clone()),
        ("brokerName", config.broker_name.clone()),
        ("brokerId", config.broker_id.to_string()),
        ("namesrvAddr", namesrv),
        ("listenPort", config.listen_port.to_string()),
        ("brokerIP1", config.broker_ip1.to_string()),
        (
            "storePathRootDir",
            config.store_path_root_dir.display().to_string(),
        ),
        (
            "flushDiskType",
            match config.flush_disk_type {
                FlushDiskType::AsyncFlush => "ASYNC_FLUSH",
                FlushDiskType::SyncFlush => "SYNC_FLUSH",
            }
            .to_owned(),
        ),
        (
            "brokerRole",
            match config.broker_role {
                BrokerRole::AsyncMaster => "ASYNC_MASTER",
                BrokerRole::SyncMaster => "SYNC_MASTER",
                BrokerRole::Slave => "SLAVE",
            }
            .to_owned(),
        ),
        (
            "flushIntervalCommitLog",
            config.flush_interval_commit_log_ms.to_string(),
        ),
        (
            "flushCommitLogLeastPages",
            config.flush_commit_log_least_pages.to_string(),
        ),
        ("syncFlushTimeout", config.sync_flush_timeout_ms.to_string()),
        (
            "mappedFileSizeCommitLog",
            config.segment_size_bytes.to_string(),
        ),
        (
            "fileReservedTime",
            config.file_reserved_time_hours.to_string(),
        ),
        ("deleteWhen", format!("{:02}", config.delete_when_hour)),
        (
            "diskMaxUsedSpaceRatio",
            config.disk_max_used_space_ratio.to_string(),
        ),
        (
            "autoCreateTopicEnable",
            config.auto_create_topic_enable.to_string(),
        ),
        (
            "autoCreateSubscriptionGroup",
            config.auto_create_subscription_group.to_string(),
        ),
        (
            "defaultTopicQueueNums",
            config.default_topic_queue_nums.to_string(),
        ),
        ("maxMessageSize", config.max_message_size_bytes.to_string()),
        ("messageDelayLevel", delay_levels),
        (
            "registerNameServerPeriod",
            config.register_name_server_period_ms.to_string(),
        ),
        ("shards", config.shards.to_string()),
        (
            "maxTransferCountOnMessageInMemory",
            config.pull_messages_max.to_string(),
        ),
        (
            "maxTransferBytesOnMessageInMemory",
            config.pull_bytes_max.to_string(),
        ),
        (
            "flushConsumerOffsetInterval",
            config.flush_consumer_offset_interval_ms.to_string(),
        ),
        (
            "channelExpiredTimeout",
            config.channel_expired_timeout_ms.to_string(),
        ),
        ("regionId", config.region_id.clone()),
        ("traceOn", config.trace_on.to_string()),
        ("traceTopicEnable", config.trace_topic_enable.to_string()),
        ("msgTraceTopicName", config.msg_trace_topic_name.clone()),
        (
            "enablePropertyFilter",
            config.enable_property_filter.to_string(),
        ),
    ];
    entries.sort_by_key(|(key, _)| *key);
    let mut text = String::new();
    for (key, value) in entries {
        let _ = writeln!(text, "{key}={value}");
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
