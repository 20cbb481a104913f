//! Offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP
//! (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32). Each is
//! answered by the queue's owner shard.

use protocol::code::response;
use protocol::header::offset::{
    BoundaryType, GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader,
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{data_failure, header, queue_id, reply, success, try_response, RequestContext};
use crate::mesh::{DataOp, DataReply};
use crate::store::Boundary;

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn with_header(request: &RemotingCommand, header: &impl CommandHeader) -> RemotingCommand {
    let mut response = success(request);
    header.encode(response.ext_mut());
    response
}

/// Code 14. Not committed: offset 0 if allowed and the queue still starts at 0 with
/// messages in it (a new group reads from the start), else QUERY_NOT_FOUND.
pub async fn query_consumer_offset(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: QueryConsumerOffsetRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, query.queue_id));
    let owner = context.shard.owner_of(&query.topic, queue);
    let op = DataOp::QueryOffset {
        topic: query.topic.clone(),
        group: query.consumer_group.clone(),
        queue_id: queue,
    };
    match context.shard.call_data(owner, op).await {
        DataReply::ConsumerOffset {
            committed: Some(offset),
            ..
        } => with_header(
            request,
            &QueryConsumerOffsetResponseHeader {
                offset: to_i64(offset),
            },
        ),
        DataReply::ConsumerOffset {
            committed: None,
            min_offset,
            max_offset,
        } => {
            if query.set_zero_if_not_found.unwrap_or(true) && min_offset == 0 && max_offset > 0 {
                with_header(request, &QueryConsumerOffsetResponseHeader { offset: 0 })
            } else {
                reply(
                    request,
                    response::QUERY_NOT_FOUND,
                    "Not found, maybe this group consumer boot first",
                )
            }
        }
        other => data_failure(request, other),
    }
}

/// Code 15 (answered only when two-way: the dispatcher drops oneway responses).
pub async fn update_consumer_offset(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let update: UpdateConsumerOffsetRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, update.queue_id));
    let Ok(offset) = u64::try_from(update.commit_offset) else {
        return reply(
            request,
            response::INVALID_PARAMETER,
            format!("commitOffset {} is negative", update.commit_offset),
        );
    };
    let owner = context.shard.owner_of(&update.topic, queue);
    let op = DataOp::CommitOffset {
        topic: update.topic,
        group: update.consumer_group,
        queue_id: queue,
        offset,
    };
    match context.shard.call_data(owner, op).await {
        DataReply::Done => success(request),
        other => data_failure(request, other),
    }
}

/// Code 29.
pub async fn search_by_timestamp(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let search: SearchOffsetRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, search.queue_id));
    let boundary = match search.boundary_type.unwrap_or_default() {
        BoundaryType::Lower => Boundary::Lower,
        BoundaryType::Upper => Boundary::Upper,
    };
    let owner = context.shard.owner_of(&search.topic, queue);
    let op = DataOp::SearchOffset {
        topic: search.topic,
        queue_id: queue,
        timestamp_ms: search.timestamp_ms,
        boundary,
    };
    match context.shard.call_data(owner, op).await {
        DataReply::Offset(offset) => with_header(
            request,
            &SearchOffsetResponseHeader {
                offset: to_i64(offset),
            },
        ),
        other => data_failure(request, other),
    }
}

/// Code 30.
pub async fn max_offset(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetMaxOffsetRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, query.queue_id));
    let owner = context.shard.owner_of(&query.topic, queue);
    match context
        .shard
        .call_data(
            owner,
            DataOp::MaxOffset {
                topic: query.topic,
                queue_id: queue,
            },
        )
        .await
    {
        DataReply::Offset(offset) => with_header(
            request,
            &GetMaxOffsetResponseHeader {
                offset: to_i64(offset),
            },
        ),
        other => data_failure(request, other),
    }
}

/// Code 31.
pub async fn min_offset(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetMinOffsetRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, query.queue_id));
    let owner = context.shard.owner_of(&query.topic, queue);
    match context
        .shard
        .call_data(
            owner,
            DataOp::MinOffset {
                topic: query.topic,
                queue_id: queue,
            },
        )
        .await
    {
        DataReply::Offset(offset) => with_header(
            request,
            &GetMinOffsetResponseHeader {
                offset: to_i64(offset),
            },
        ),
        other => data_failure(request, other),
    }
}

/// Code 32: -1 for an empty queue.
pub async fn earliest_store_time(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: GetEarliestMsgStoretimeRequestHeader = try_response!(header(request));
    let queue = try_response!(queue_id(request, query.queue_id));
    let owner = context.shard.owner_of(&query.topic, queue);
    let op = DataOp::EarliestStoreTime {
        topic: query.topic,
        queue_id: queue,
    };
    match context.shard.call_data(owner, op).await {
        DataReply::Timestamp(time) => with_header(
            request,
            &GetEarliestMsgStoretimeResponseHeader {
                timestamp_ms: time.unwrap_or(-1),
            },
        ),
        other => data_failure(request, other),
    }
}
