//! Client management: HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP
//! (38), LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42). All are control-plane operations run on
//! shard 0.

use protocol::body::consumer::ConsumerListBody;
use protocol::body::heartbeat::HeartbeatData;
use protocol::body::lock::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use protocol::body::route::JsonBody;
use protocol::code::response;
use protocol::header::client::{
    GetConsumerListByGroupRequestHeader, HeartbeatResponseHeader, UnregisterClientRequestHeader,
};
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{control_failure, header, reply, success, try_response, RequestContext};
use crate::mesh::{ControlOp, ControlReply};

fn body<T: JsonBody>(request: &RemotingCommand) -> Result<T, RemotingCommand> {
    T::decode(&request.body)
        .map_err(|error| reply(request, response::SYSTEM_ERROR, error.to_string()))
}

fn with_body(request: &RemotingCommand, value: &impl JsonBody) -> RemotingCommand {
    match value.to_bytes() {
        Ok(bytes) => success(request).with_body(bytes),
        Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
    }
}

/// Code 34.
pub async fn heartbeat(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let data: HeartbeatData = try_response!(body(request));
    let op = ControlOp::Heartbeat {
        connection: context.connection,
        client_addr: context.peer.to_string(),
        language: request.language.name().to_owned(),
        version: request.version,
        data,
    };
    match context.shard.call_control(op).await {
        ControlReply::Heartbeat {
            subscription_changed,
        } => {
            let mut response = success(request);
            HeartbeatResponseHeader {
                supports_heartbeat_v2: Some(true),
                subscription_changed: Some(subscription_changed),
            }
            .encode(response.ext_mut());
            response
        }
        other => control_failure(request, other),
    }
}

/// Code 35.
pub async fn unregister(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let unregister: UnregisterClientRequestHeader = try_response!(header(request));
    let op = ControlOp::UnregisterClient {
        connection: context.connection,
        client_id: unregister.client_id,
        producer_group: unregister.producer_group,
        consumer_group: unregister.consumer_group,
    };
    match context.shard.call_control(op).await {
        ControlReply::Done => success(request),
        other => control_failure(request, other),
    }
}

/// Code 38.
pub async fn consumer_list(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetConsumerListByGroupRequestHeader = try_response!(header(request));
    match context
        .shard
        .call_control(ControlOp::ConsumerIds(query.consumer_group.clone()))
        .await
    {
        ControlReply::ConsumerIds(ids) if ids.is_empty() => reply(
            request,
            response::SYSTEM_ERROR,
            format!("no consumer for this group, {}", query.consumer_group),
        ),
        ControlReply::ConsumerIds(ids) => with_body(
            request,
            &ConsumerListBody {
                consumer_id_list: ids,
            },
        ),
        other => control_failure(request, other),
    }
}

/// Code 41: the queues granted (lease `lockMaxLiveTime`, renewed by each lock).
pub async fn lock(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let lock: LockBatchRequestBody = try_response!(body(request));
    let op = ControlOp::Lock {
        group: lock.consumer_group,
        client_id: lock.client_id,
        queues: lock.mq_set,
    };
    match context.shard.call_control(op).await {
        ControlReply::Locked(queues) => with_body(
            request,
            &LockBatchResponseBody {
                lock_ok_mq_set: queues,
            },
        ),
        other => control_failure(request, other),
    }
}

/// Code 42.
pub async fn unlock(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let unlock: UnlockBatchRequestBody = try_response!(body(request));
    let op = ControlOp::Unlock {
        group: unlock.consumer_group,
        client_id: unlock.client_id,
        queues: unlock.mq_set,
    };
    match context.shard.call_control(op).await {
        ControlReply::Done => success(request),
        other => control_failure(request, other),
    }
}
