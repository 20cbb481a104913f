//! Offset administration: INVOKE_BROKER_TO_RESET_OFFSET (222, `mqadmin resetOffsetByTime`)
//! and GET_ALL_CONSUMER_OFFSET (43).
//!
//! 222 follows `Broker2Client.resetOffset`: per write queue, the target is the first offset
//! stored at or after `timestamp` (`-1` = the max offset); unless `isForce`, a queue only
//! moves backwards. Without a live consumer the answer is CONSUMER_NOT_ONLINE (mqadmin then
//! falls back to committing offsets itself). Otherwise the broker commits the offsets, pushes
//! RESET_CONSUMER_CLIENT_OFFSET (220) to every consumer connection and answers
//! `ResetOffsetBody`. Deviation: a queue without a committed offset counts as offset 0
//! (Java answers SYSTEM_ERROR "consumer group not exist").

use protocol::body::message_queue::MessageQueue;
use protocol::body::route::JsonBody;
use protocol::body::stats::ResetOffsetBody;
use protocol::code::response;
use protocol::command::FLAG_ONEWAY;
use protocol::header::admin::ResetOffsetRequestHeader;
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, SerializeType};

use super::{control_failure, data_failure, header, reply, success, try_response, RequestContext};
use crate::control::admin_ops::{AdminOp, AdminReply};
use crate::mesh::{ControlOp, ControlReply, DataOp, DataReply};
use crate::store::Boundary;

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Code 222.
pub async fn reset_offset(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let reset: ResetOffsetRequestHeader = try_response!(header(request));
    let Some(topic) = context.shard.topic(&reset.topic) else {
        return reply(
            request,
            response::TOPIC_NOT_EXIST,
            format!(
                "[reset-offset] reset offset failed, no topic in this broker. topic={}",
                reset.topic
            ),
        );
    };
    let channels = match context
        .shard
        .call_control(ControlOp::Admin(AdminOp::ConsumerChannels(
            reset.group.clone(),
        )))
        .await
    {
        ControlReply::Admin(AdminReply::Channels(channels)) => channels,
        other => return control_failure(request, other),
    };
    if channels.is_empty() {
        return reply(
            request,
            response::CONSUMER_NOT_ONLINE,
            format!(
                "Consumer not online, so can not reset offset, Group: {} Topic: {} Timestamp: {}",
                reset.group, reset.topic, reset.timestamp_ms
            ),
        );
    }
    let queue_count = u32::try_from(topic.write_queue_nums).unwrap_or(0);
    let mut body = ResetOffsetBody::default();
    let mut moves = Vec::new();
    for queue_id in 0..queue_count {
        if reset.queue_id >= 0 && i64::from(queue_id) != i64::from(reset.queue_id) {
            continue;
        }
        let owner = context.shard.owner_of(&reset.topic, queue_id);
        let (committed, max_offset) = match context
            .shard
            .call_data(
                owner,
                DataOp::QueryOffset {
                    topic: reset.topic.clone(),
                    group: reset.group.clone(),
                    queue_id,
                },
            )
            .await
        {
            DataReply::ConsumerOffset {
                committed,
                max_offset,
                ..
            } => (committed.unwrap_or(0), max_offset),
            other => return data_failure(request, other),
        };
        let target = if let Some(offset) = reset.offset.filter(|offset| *offset >= 0) {
            u64::try_from(offset).unwrap_or(0).min(max_offset)
        } else if reset.timestamp_ms == -1 {
            max_offset
        } else {
            let op = DataOp::SearchOffset {
                topic: reset.topic.clone(),
                queue_id,
                timestamp_ms: reset.timestamp_ms,
                boundary: Boundary::Lower,
            };
            match context.shard.call_data(owner, op).await {
                DataReply::Offset(offset) => offset,
                other => return data_failure(request, other),
            }
        };
        let chosen = if reset.force || target < committed {
            target
        } else {
            committed
        };
        moves.push((owner, queue_id, chosen));
        body.offset_table.insert(
            MessageQueue::new(
                reset.topic.as_str(),
                context.shard.config().broker_name.as_str(),
                i32::try_from(queue_id).unwrap_or(i32::MAX),
            ),
            to_i64(chosen),
        );
    }
    for (owner, queue_id, offset) in moves {
        let op = DataOp::CommitOffset {
            topic: reset.topic.clone(),
            group: reset.group.clone(),
            queue_id,
            offset,
        };
        match context.shard.call_data(owner, op).await {
            DataReply::Done => {}
            other => return data_failure(request, other),
        }
    }
    let bytes = match body.to_bytes() {
        Ok(bytes) => bytes,
        Err(error) => return reply(request, response::SYSTEM_ERROR, error.to_string()),
    };
    for channel in channels {
        let mut push = RemotingCommand::request(
            protocol::code::request::RESET_CONSUMER_CLIENT_OFFSET,
            0,
            SerializeType::Json,
        )
        .with_body(bytes.clone());
        push.flag |= FLAG_ONEWAY;
        ResetOffsetRequestHeader {
            group: reset.group.clone(),
            topic: reset.topic.clone(),
            queue_id: -1,
            offset: None,
            timestamp_ms: reset.timestamp_ms,
            force: reset.force,
        }
        .encode(push.ext_mut());
        context.shard.push(channel, push);
    }
    success(request).with_body(bytes)
}

/// Code 43: body = `consumerOffset.json` layout, merged over the shards.
pub async fn all_consumer_offsets(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let mut entries = Vec::new();
    for target in 0..context.shard.shards {
        match context.shard.call_data(target, DataOp::OffsetsPeek).await {
            DataReply::Offsets { entries: found, .. } => entries.extend(found),
            other => return data_failure(request, other),
        }
    }
    match crate::metadata::consumer_offsets_json(&entries) {
        Ok(bytes) => success(request).with_body(bytes),
        Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
    }
}

/// Code 45: `delayOffset.json` (level → next offset of `SCHEDULE_TOPIC_XXXX` queue
/// level - 1), merged over the shards that deliver the levels.
pub async fn all_delay_offsets(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let mut table = std::collections::BTreeMap::new();
    for target in 0..context.shard.shards {
        match context.shard.call_data(target, DataOp::DelayProgress).await {
            DataReply::DelayProgress(levels) => table.extend(levels),
            other => return data_failure(request, other),
        }
    }
    success(request).with_body(crate::schedule::render(&table))
}
