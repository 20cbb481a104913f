//! Request handlers: decode the wire header/body into domain values at this edge, route to
//! the owning shard (or shard 0 for control), and map the outcome to one RocketMQ response
//! code in one place per handler.
//!
//! | code | handler |
//! |---|---|
//! | 10, 310, 320 | [`send`] |
//! | 11 | [`pull`] |
//! | 12 | [`query`] |
//! | 14, 15, 29, 30, 31, 32 | [`offset`] |
//! | 34, 35, 38, 41, 42 | [`client`] |
//! | 36 | [`retry`] |
//! | 37 | [`transaction`] |
//! | 17, 21, 28, 33, 215, 351 | [`admin`] |
//! | 202, 208 | [`admin_stats`] |
//! | 25, 26 | [`admin_config`] |
//! | 307, 309 | [`admin_client`] |
//! | 43, 45, 212, 222 | [`admin_offset`] |
//! | 200, 201, 203, 204, 207, 300 | [`admin_group`] |
//!
//! Handlers return `Result<T, RemotingCommand>` where the error is the rejection response
//! itself: it is built once, on the rare rejected path, and goes straight to the socket, so
//! boxing it would only add an allocation (hence `result_large_err` is allowed here).
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod admin_client;
pub mod admin_config;
pub mod admin_group;
pub mod admin_offset;
pub mod admin_stats;
pub mod client;
pub mod offset;
pub mod pull;
pub mod query;
pub mod retry;
pub mod send;
pub mod transaction;

use std::net::SocketAddr;
use std::rc::Rc;

use protocol::code::{request, response};
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use crate::mesh::{ConnectionRef, ControlReply, DataOp, DataReply};
use crate::shard::Shard;

/// Where a request came from.
#[derive(Clone)]
pub struct RequestContext {
    pub shard: Rc<Shard>,
    pub connection: ConnectionRef,
    pub peer: SocketAddr,
}

/// Handles one request; `None` when no response is written (oneway requests).
pub async fn dispatch(
    context: &RequestContext,
    command: RemotingCommand,
) -> Option<RemotingCommand> {
    let oneway = command.is_oneway();
    let response = match command.code {
        request::SEND_MESSAGE | request::SEND_MESSAGE_V2 | request::SEND_BATCH_MESSAGE => {
            send::handle(context, &command).await
        }
        request::PULL_MESSAGE | request::LITE_PULL_MESSAGE => pull::handle(context, &command).await,
        request::QUERY_CONSUMER_OFFSET => offset::query_consumer_offset(context, &command).await,
        request::UPDATE_CONSUMER_OFFSET => offset::update_consumer_offset(context, &command).await,
        request::SEARCH_OFFSET_BY_TIMESTAMP => offset::search_by_timestamp(context, &command).await,
        request::GET_MAX_OFFSET => offset::max_offset(context, &command).await,
        request::GET_MIN_OFFSET => offset::min_offset(context, &command).await,
        request::GET_EARLIEST_MSG_STORETIME => offset::earliest_store_time(context, &command).await,
        request::HEART_BEAT => client::heartbeat(context, &command).await,
        request::UNREGISTER_CLIENT => client::unregister(context, &command).await,
        request::GET_CONSUMER_LIST_BY_GROUP => client::consumer_list(context, &command).await,
        request::LOCK_BATCH_MQ => client::lock(context, &command).await,
        request::UNLOCK_BATCH_MQ => client::unlock(context, &command).await,
        request::CONSUMER_SEND_MSG_BACK => retry::send_back(context, &command).await,
        request::END_TRANSACTION => transaction::end(context, &command).await,
        request::UPDATE_AND_CREATE_TOPIC => admin::create_topic(context, &command).await,
        request::DELETE_TOPIC_IN_BROKER => admin::delete_topic(context, &command).await,
        request::GET_ALL_TOPIC_CONFIG => admin::all_topics(context, &command).await,
        request::GET_TOPIC_CONFIG => admin::topic_config(context, &command),
        request::GET_BROKER_RUNTIME_INFO => admin::runtime(context, &command).await,
        request::VIEW_MESSAGE_BY_ID => admin::view_message(context, &command).await,
        request::QUERY_MESSAGE => query::query_message(context, &command).await,
        request::GET_TOPIC_STATS_INFO => admin_stats::topic_stats(context, &command).await,
        request::GET_CONSUME_STATS => admin_stats::consume_stats(context, &command).await,
        request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => {
            admin_group::update_group(context, &command).await
        }
        request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => {
            admin_group::all_groups(context, &command).await
        }
        request::DELETE_SUBSCRIPTIONGROUP => admin_group::delete_group(context, &command).await,
        request::GET_CONSUMER_CONNECTION_LIST => {
            admin_group::consumer_connections(context, &command).await
        }
        request::GET_PRODUCER_CONNECTION_LIST => {
            admin_group::producer_connections(context, &command).await
        }
        request::GET_BROKER_CONFIG => admin_config::get_config(context, &command).await,
        request::UPDATE_BROKER_CONFIG => admin_config::update_config(context, &command).await,
        request::INVOKE_BROKER_TO_RESET_OFFSET | request::RESET_CONSUMER_OFFSET_IN_BROKER => {
            admin_offset::reset_offset(context, &command).await
        }
        request::GET_ALL_DELAY_OFFSET => admin_offset::all_delay_offsets(context, &command).await,
        request::GET_ALL_CONSUMER_OFFSET => {
            admin_offset::all_consumer_offsets(context, &command).await
        }
        request::GET_CONSUMER_RUNNING_INFO => {
            admin_client::consumer_running_info(context, &command).await
        }
        request::CONSUME_MESSAGE_DIRECTLY => {
            admin_client::consume_message_directly(context, &command).await
        }
        request::QUERY_TOPIC_CONSUME_BY_WHO => {
            admin_group::consumed_by_whom(context, &command).await
        }
        code => reply(
            &command,
            response::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {code} not supported"),
        ),
    };
    (!oneway).then_some(response)
}

/// A response with a code and remark.
#[must_use]
pub fn reply(request: &RemotingCommand, code: i32, remark: impl Into<String>) -> RemotingCommand {
    RemotingCommand::response_to(request, code).with_remark(remark)
}

/// A SUCCESS response without remark.
#[must_use]
pub fn success(request: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(request, response::SUCCESS)
}

/// Decodes a typed header; a missing or bad field becomes a SYSTEM_ERROR response naming it
/// (the Java broker answers `RemotingCommandException` the same way).
///
/// # Errors
/// The error response.
pub fn header<H: CommandHeader>(request: &RemotingCommand) -> Result<H, RemotingCommand> {
    H::decode_optional(request.ext_fields.as_ref())
        .map_err(|error| reply(request, response::SYSTEM_ERROR, error.to_string()))
}

/// Maps mesh failures to responses (busy → SYSTEM_BUSY, failed → SYSTEM_ERROR).
#[must_use]
pub fn data_failure(request: &RemotingCommand, answer: DataReply) -> RemotingCommand {
    match answer {
        DataReply::Busy(remark) => reply(request, response::SYSTEM_BUSY, remark),
        DataReply::Failed(remark) => reply(request, response::SYSTEM_ERROR, remark),
        other => reply(
            request,
            response::SYSTEM_ERROR,
            format!("unexpected shard answer {other:?}"),
        ),
    }
}

/// Maps control-plane failures to responses.
#[must_use]
pub fn control_failure(request: &RemotingCommand, answer: ControlReply) -> RemotingCommand {
    match answer {
        ControlReply::Busy(remark) => reply(request, response::SYSTEM_BUSY, remark),
        ControlReply::Failed(remark) => reply(request, response::SYSTEM_ERROR, remark),
        other => reply(
            request,
            response::SYSTEM_ERROR,
            format!("unexpected control answer {other:?}"),
        ),
    }
}

/// The stored record at commit-log offset `offset`, read on the shard that owns it;
/// `Ok(None)` when the offset is negative, beyond every shard or no record starts there.
///
/// # Errors
/// The failure response when the owning shard cannot answer.
pub async fn record_at(
    context: &RequestContext,
    request: &RemotingCommand,
    offset: i64,
) -> Result<Option<bytes::Bytes>, RemotingCommand> {
    let Some((owner, physical_offset)) = u64::try_from(offset).ok().and_then(|physical| {
        context
            .shard
            .owner_of_physical(physical)
            .map(|owner| (owner, physical))
    }) else {
        return Ok(None);
    };
    match context
        .shard
        .call_data(owner, DataOp::ReadAt { physical_offset })
        .await
    {
        DataReply::Record(record) => Ok(record),
        other => Err(data_failure(request, other)),
    }
}

/// A queue id from the wire (`i32`) as the domain's `u32`.
///
/// # Errors
/// An INVALID_PARAMETER response for a negative id.
pub fn queue_id(request: &RemotingCommand, queue_id: i32) -> Result<u32, RemotingCommand> {
    u32::try_from(queue_id).map_err(|_| {
        reply(
            request,
            response::INVALID_PARAMETER,
            format!("queueId[{queue_id}] is illegal"),
        )
    })
}

/// Unwraps `Result<T, RemotingCommand>` inside a handler returning `RemotingCommand`.
macro_rules! try_response {
    ($expression:expr) => {
        match $expression {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}
pub(crate) use try_response;
