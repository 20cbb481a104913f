//! CONSUMER_SEND_MSG_BACK (36): a consumer gives a message back after failing to consume it.
//!
//! The broker reads the original record by its commit-log offset (on the shard the offset
//! names), then stores a copy in `%RETRY%group` with `reconsumeTimes + 1`, `RETRY_TOPIC` (the
//! original topic, set once) and `ORIGIN_MESSAGE_ID`; past the group's `retryMaxTimes` (or
//! with a negative delay level) the copy goes to `%DLQ%group` instead.
//!
//! The retry copy waits on delay level `3 + reconsumeTimes` (or the header's positive
//! `delayLevel`) in `SCHEDULE_TOPIC_XXXX` ([`crate::schedule`]), as in the Java broker.

use bytes::Bytes;
use protocol::code::response;
use protocol::header::client::ConsumerSendMsgBackRequestHeader;
use protocol::header::topic as topic_names;
use protocol::message::properties::{keys, Properties};
use protocol::message::record::RecordView;
use protocol::message::OffsetMessageId;
use protocol::RemotingCommand;

use super::send::resolve_topic;
use super::{data_failure, header, reply, success, try_response, RequestContext};
use crate::mesh::{ControlOp, ControlReply, DataOp, DataReply, TopicCreation};
use crate::store::MessageToStore;

/// MQVersion ordinal of V3_4_9.
const VERSION_V3_4_9: i32 = 121;

/// A group's `retryMaxTimes` and `consumeEnable` (auto-created when allowed).
///
/// # Errors
/// SUBSCRIPTION_GROUP_NOT_EXIST or a mesh failure response.
pub async fn group_limits(
    context: &RequestContext,
    request: &RemotingCommand,
    group: &str,
) -> Result<(i32, bool), RemotingCommand> {
    match context
        .shard
        .call_control(ControlOp::EnsureGroup(group.to_owned()))
        .await
    {
        ControlReply::Group {
            retry_max_times,
            consume_enable,
        } => Ok((retry_max_times, consume_enable)),
        ControlReply::GroupMissing => Err(reply(
            request,
            response::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {group}"),
        )),
        other => Err(super::control_failure(request, other)),
    }
}

/// Handles code 36.
pub async fn send_back(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let back: ConsumerSendMsgBackRequestHeader = try_response!(header(request));
    let (retry_max_times, _) = try_response!(group_limits(context, request, &back.group).await);
    let Some(physical_offset) = u64::try_from(back.offset).ok() else {
        return reply(
            request,
            response::SYSTEM_ERROR,
            format!("look message by offset failed, {}", back.offset),
        );
    };
    let Some(owner) = context.shard.owner_of_physical(physical_offset) else {
        return reply(
            request,
            response::SYSTEM_ERROR,
            format!("look message by offset failed, {}", back.offset),
        );
    };
    let record = match context
        .shard
        .call_data(owner, DataOp::ReadAt { physical_offset })
        .await
    {
        DataReply::Record(Some(record)) => record,
        DataReply::Record(None) => {
            return reply(
                request,
                response::SYSTEM_ERROR,
                format!("look message by offset failed, {}", back.offset),
            )
        }
        other => return data_failure(request, other),
    };
    let Ok((original, _)) = RecordView::decode(&record) else {
        return reply(
            request,
            response::SYSTEM_ERROR,
            format!("the record at offset {} is corrupt", back.offset),
        );
    };
    let max_reconsume_times = match back.max_reconsume_times {
        Some(max) if request.version >= VERSION_V3_4_9 => max,
        _ => retry_max_times,
    };
    let to_dead_letter = original.reconsume_times >= max_reconsume_times || back.delay_level < 0;
    let (topic, creation_name) = if to_dead_letter {
        let name = topic_names::dlq_topic(&back.group);
        (name.clone(), name)
    } else {
        let name = topic_names::retry_topic(&back.group);
        (name.clone(), name)
    };
    try_response!(
        resolve_topic(
            context,
            request,
            &topic,
            &creation_name,
            TopicCreation::RetryOrDeadLetter
        )
        .await
    );
    let mut properties = Properties::parse(original.properties);
    if properties.get(keys::RETRY_TOPIC).is_none() {
        properties.insert(keys::RETRY_TOPIC, original.topic);
    }
    if properties.get(keys::ORIGIN_MESSAGE_ID).is_none() {
        let origin = back
            .origin_message_id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| {
                OffsetMessageId {
                    store_host: original.store_host,
                    commit_log_offset: original.physical_offset,
                }
                .encode()
            });
        properties.insert(keys::ORIGIN_MESSAGE_ID, &origin);
    }
    let mut destination = (topic.clone(), 0);
    if !to_dead_letter {
        let level = if back.delay_level > 0 {
            back.delay_level
        } else {
            3 + original.reconsume_times
        };
        properties.insert(keys::DELAY, &level.to_string());
        let levels = context.shard.config().message_delay_levels_ms.len();
        if let Some(scheduled) =
            crate::schedule::transform_delay(&mut properties, &topic, 0, levels)
        {
            destination = scheduled;
        }
    }
    let message = MessageToStore {
        topic: destination.0.clone(),
        queue_id: destination.1,
        flag: original.flag,
        sys_flag: original.sys_flag,
        born_timestamp_ms: original.born_timestamp_ms,
        born_host: original.born_host,
        reconsume_times: original.reconsume_times + 1,
        prepared_transaction_offset: 0,
        body: Bytes::copy_from_slice(original.body),
        properties: properties.to_wire_string(),
    };
    let owner = context.shard.owner_of(&destination.0, destination.1);
    match context
        .shard
        .call_data(
            owner,
            DataOp::Append {
                messages: vec![message],
            },
        )
        .await
    {
        DataReply::Appended(Ok(_)) => success(request),
        DataReply::Appended(Err(error)) => {
            reply(request, response::SYSTEM_ERROR, error.to_string())
        }
        other => data_failure(request, other),
    }
}
