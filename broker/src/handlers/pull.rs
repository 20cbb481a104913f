//! PULL_MESSAGE (11) with long polling.
//!
//! The entry shard checks the topic and resolves the subscription (the header's when the
//! SUBSCRIPTION sysFlag bit is set and it is non-empty, else the one the group's heartbeat
//! registered), then sends one [`PullQuery`] to the queue's owner. The owner commits the
//! piggy-backed offset, reads, and if nothing is there and SUSPEND is set, parks the pull
//! until a message arrives on that queue or the suspension ends. Store status → code as
//! in `PullMessageProcessor` (compat spec §B.4 "Pull semantics").

use bytes::BytesMut;
use protocol::body::route::perm;
use protocol::code::response;
use protocol::header::pull::{PullMessageRequestHeader, PullMessageResponseHeader, PullSysFlag};
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{data_failure, header, reply, try_response, RequestContext};
use crate::filter::{FilterError, TagFilter};
use crate::mesh::{DataOp, DataReply, PullOutcome, PullQuery};
use crate::store::ReadStatus;

/// Handles code 11.
pub async fn handle(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let pull: PullMessageRequestHeader = try_response!(header(request));
    let query = try_response!(resolve(context, request, &pull));
    let owner = context.shard.owner_of(&query.topic, query.queue_id);
    let queue_offset = query.queue_offset;
    match context.shard.call_data(owner, DataOp::Pull(query)).await {
        DataReply::Pulled(outcome) => respond(request, queue_offset, outcome),
        other => data_failure(request, other),
    }
}

/// True if a request is a pull that may be suspended (its reply may come after later ones).
#[must_use]
pub fn may_suspend(request: &RemotingCommand) -> bool {
    request
        .ext("sysFlag")
        .and_then(|flag| flag.trim().parse::<i32>().ok())
        .is_some_and(|flag| PullSysFlag(flag).has_suspend())
}

fn resolve(
    context: &RequestContext,
    request: &RemotingCommand,
    pull: &PullMessageRequestHeader,
) -> Result<PullQuery, RemotingCommand> {
    let shard = &context.shard;
    let Some(topic) = shard.topic(&pull.topic) else {
        let remark = format!("topic[{}] not exist, apply first please!", pull.topic);
        return Err(reply(request, response::TOPIC_NOT_EXIST, remark));
    };
    if topic.perm & perm::READ == 0 {
        let remark = format!("the topic[{}] pulling message is forbidden", pull.topic);
        return Err(reply(request, response::NO_PERMISSION, remark));
    }
    let queue_id = match u32::try_from(pull.queue_id) {
        Ok(queue_id) if pull.queue_id < topic.read_queue_nums => queue_id,
        _ => {
            let remark = format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                pull.queue_id, pull.topic, topic.read_queue_nums, context.peer
            );
            return Err(reply(request, response::SYSTEM_ERROR, remark));
        }
    };
    let flags = pull.pull_sys_flag();
    let filter = subscription(context, request, pull, flags)?;
    if filter.sql.is_some() && !shard.config().enable_property_filter {
        return Err(reply(request, response::SYSTEM_ERROR, SQL92_DISABLED));
    }
    let config = &shard.config();
    let max_count = u32::try_from(pull.max_message_count.max(1))
        .unwrap_or(1)
        .min(config.pull_messages_max);
    let max_bytes = pull
        .max_message_bytes
        .and_then(|bytes| u32::try_from(bytes).ok())
        .filter(|bytes| *bytes > 0)
        .map_or(config.pull_bytes_max, |bytes| {
            bytes.min(config.pull_bytes_max)
        });
    let suspend_ms = if flags.has_suspend() {
        u64::try_from(pull.suspend_timeout_ms)
            .unwrap_or(0)
            .min(config.long_polling_suspend_max_ms)
    } else {
        0
    };
    let commit_offset = if flags.has_commit_offset() {
        u64::try_from(pull.commit_offset).ok()
    } else {
        None
    };
    Ok(PullQuery {
        topic: pull.topic.clone(),
        queue_id,
        group: pull.consumer_group.clone(),
        queue_offset: u64::try_from(pull.queue_offset).unwrap_or(0),
        max_count,
        max_bytes,
        filter,
        suspend_ms,
        commit_offset,
    })
}

/// Java's answer to a SQL92 subscription while `enablePropertyFilter=false`.
const SQL92_DISABLED: &str = "The broker does not support consumer to filter message by SQL92";

fn subscription(
    context: &RequestContext,
    request: &RemotingCommand,
    pull: &PullMessageRequestHeader,
    flags: PullSysFlag,
) -> Result<TagFilter, RemotingCommand> {
    let expression = pull.subscription.as_deref().unwrap_or("");
    let registered = context
        .shard
        .subscription(&pull.consumer_group, &pull.topic);
    if flags.has_subscription() && (!expression.trim().is_empty() || registered.is_none()) {
        // Java builds `*` from an absent expression.
        return TagFilter::parse(expression, pull.expression_type.as_deref()).map_err(|error| {
            let code = match error {
                FilterError::Sql(_) if !context.shard.config().enable_property_filter => {
                    return reply(request, response::SYSTEM_ERROR, SQL92_DISABLED);
                }
                FilterError::UnsupportedExpressionType(_) => response::SYSTEM_ERROR,
                FilterError::NoTag(_) | FilterError::Sql(_) => response::SUBSCRIPTION_PARSE_FAILED,
            };
            reply(request, code, error.to_string())
        });
    }
    if let Some(filter) = registered {
        return Ok(filter);
    }
    let remark = if context.shard.group_known(&pull.consumer_group) {
        "the consumer's subscription not exist"
    } else {
        "the consumer's group info not exist"
    };
    Err(reply(request, response::SUBSCRIPTION_NOT_EXIST, remark))
}

fn respond(request: &RemotingCommand, queue_offset: u64, outcome: PullOutcome) -> RemotingCommand {
    let code = match outcome.status {
        ReadStatus::Found => response::SUCCESS,
        ReadStatus::NoMatchedMessage => response::PULL_RETRY_IMMEDIATELY,
        ReadStatus::NoMessageInQueue if queue_offset != 0 => response::PULL_OFFSET_MOVED,
        ReadStatus::NoMessageInQueue
        | ReadStatus::OffsetFoundNull
        | ReadStatus::OffsetOverflowOne => response::PULL_NOT_FOUND,
        ReadStatus::OffsetOverflowBadly | ReadStatus::OffsetTooSmall => response::PULL_OFFSET_MOVED,
    };
    let mut response = RemotingCommand::response_to(request, code);
    if code != response::SUCCESS {
        response.remark = Some(format!("{:?}", outcome.status));
    }
    let to_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    PullMessageResponseHeader {
        suggest_which_broker_id: 0,
        next_begin_offset: to_i64(outcome.next_begin_offset),
        min_offset: to_i64(outcome.min_offset),
        max_offset: to_i64(outcome.max_offset),
        offset_delta: None,
        topic_sys_flag: None,
        group_sys_flag: None,
        forbidden_type: None,
    }
    .encode(response.ext_mut());
    if !outcome.records.is_empty() {
        let total = outcome.records.iter().map(bytes::Bytes::len).sum();
        let mut body = BytesMut::with_capacity(total);
        for record in &outcome.records {
            body.extend_from_slice(record);
        }
        response.body = body.freeze();
    }
    response
}
