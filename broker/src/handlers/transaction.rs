//! END_TRANSACTION (37): a producer commits, rolls back or does not know its half message.
//!
//! The half is read back by its commit-log offset and checked (it is in the half topic at
//! `tranStateTableOffset`, and its `PGROUP` is the caller's group). Commit re-puts it to the
//! real queue with sysFlag COMMIT; commit and rollback then append an op record so the check
//! service (and a restart) know it is settled. Unknown (0) changes nothing: the broker will
//! check back. See [`crate::transaction`].

use protocol::code::response;
use protocol::header::topic as topic_names;
use protocol::header::transaction::{EndTransactionRequestHeader, TransactionResolution};
use protocol::message::properties::{find, keys};
use protocol::message::record::RecordView;
use protocol::RemotingCommand;

use super::{header, record_at, reply, success, try_response, RequestContext};
use crate::transaction::{committed_message, op_message};

/// Handles code 37.
pub async fn end(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let end: EndTransactionRequestHeader = try_response!(header(request));
    let Some(resolution) = end.resolution() else {
        return reply(
            request,
            response::SYSTEM_ERROR,
            format!(
                "commitOrRollback {} is not 0, 8 or 12",
                end.commit_or_rollback
            ),
        );
    };
    if resolution == TransactionResolution::Unknown {
        return success(request);
    }
    let not_found = || {
        reply(
            request,
            response::SYSTEM_ERROR,
            "Find prepared transaction message failed",
        )
    };
    let Some(record) = try_response!(record_at(context, request, end.commit_log_offset).await)
    else {
        return not_found();
    };
    let Ok((view, _)) = RecordView::decode(&record) else {
        return not_found();
    };
    if view.topic != topic_names::TRANS_HALF_TOPIC
        || view.queue_offset != end.transaction_state_table_offset
    {
        return not_found();
    }
    if find(view.properties, keys::PGROUP) != Some(end.producer_group.as_str()) {
        return reply(request, response::SYSTEM_ERROR, "The producer group wrong");
    }
    if resolution == TransactionResolution::Commit {
        let Some(message) = committed_message(&view) else {
            return not_found();
        };
        if let Err(remark) = crate::schedule::put(&context.shard, message).await {
            return reply(request, response::SYSTEM_ERROR, remark);
        }
    }
    let half_offset = u64::try_from(view.queue_offset).unwrap_or(0);
    let op = op_message(context.shard.shards, half_offset, context.shard.broker_addr);
    match crate::schedule::put(&context.shard, op).await {
        Ok(()) => success(request),
        Err(remark) => reply(request, response::SYSTEM_ERROR, remark),
    }
}
