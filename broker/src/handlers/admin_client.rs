//! Requests the broker forwards to one consumer and answers with the consumer's own response:
//! GET_CONSUMER_RUNNING_INFO (307, mqadmin `consumerStatus`, `consumerProgress -s`) and
//! CONSUME_MESSAGE_DIRECTLY (309, mqadmin `consumeMessage`; the broker attaches the stored
//! record named by the offset msgId). The consumer is found by group and client id on shard 0;
//! the request travels to the shard that owns its connection, and the response comes back on
//! a channel the waiting handler holds (10 s, as the Java broker waits).

use std::time::Duration;

use protocol::code::{request as codes, response};
use protocol::header::client::{
    ConsumeMessageDirectlyRequestHeader, GetConsumerRunningInfoRequestHeader,
};
use protocol::message::OffsetMessageId;
use protocol::{RemotingCommand, SerializeType};

use super::{control_failure, header, record_at, reply, try_response, RequestContext};
use crate::control::admin_ops::{AdminOp, AdminReply};
use crate::mesh::{ControlOp, ControlReply};

/// How long the broker waits for the consumer's answer.
pub const CLIENT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Code 307.
pub async fn consumer_running_info(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: GetConsumerRunningInfoRequestHeader = try_response!(header(request));
    forward(
        context,
        request,
        codes::GET_CONSUMER_RUNNING_INFO,
        &query.consumer_group,
        &query.client_id,
        request.body.clone(),
    )
    .await
}

/// Code 309.
pub async fn consume_message_directly(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: ConsumeMessageDirectlyRequestHeader = try_response!(header(request));
    let client_id = query.client_id.clone().unwrap_or_default();
    let msg_id = query.msg_id.clone().unwrap_or_default();
    let not_found = || {
        reply(
            request,
            response::SYSTEM_ERROR,
            format!("can not find message by msgId {msg_id}"),
        )
    };
    let Ok(id) = OffsetMessageId::decode(&msg_id) else {
        return not_found();
    };
    let Some(record) = try_response!(record_at(context, request, id.commit_log_offset).await)
    else {
        return not_found();
    };
    forward(
        context,
        request,
        codes::CONSUME_MESSAGE_DIRECTLY,
        &query.consumer_group,
        &client_id,
        record,
    )
    .await
}

async fn forward(
    context: &RequestContext,
    request: &RemotingCommand,
    code: i32,
    group: &str,
    client_id: &str,
    body: bytes::Bytes,
) -> RemotingCommand {
    let op = ControlOp::Admin(AdminOp::ConsumerChannel {
        group: group.to_owned(),
        client_id: client_id.to_owned(),
    });
    let channel = match context.shard.call_control(op).await {
        ControlReply::Admin(AdminReply::Channel(channel)) => channel,
        other => return control_failure(request, other),
    };
    let Some(channel) = channel else {
        return reply(
            request,
            response::SYSTEM_ERROR,
            format!("The Consumer <{group}> <{client_id}> not online"),
        );
    };
    let mut call = RemotingCommand::request(code, 0, SerializeType::Json).with_body(body);
    if let Some(fields) = request.ext_fields.as_ref() {
        for (key, value) in fields.iter() {
            call.ext_mut().insert(key, value);
        }
    }
    call.ext_mut()
        .insert("brokerName", context.shard.config().broker_name.as_str());
    let answer = match context.shard.call_client(channel, call) {
        Ok(answer) => answer,
        Err(remark) => return reply(request, response::SYSTEM_BUSY, remark),
    };
    let waited = glommio::timer::timeout(CLIENT_CALL_TIMEOUT, async {
        Ok(answer.recv_async().await.ok())
    })
    .await;
    match waited {
        Ok(Some(mut response)) => {
            response.opaque = request.opaque;
            response
        }
        Ok(None) => reply(
            request,
            response::SYSTEM_ERROR,
            format!("The Consumer <{group}> <{client_id}> went away before answering"),
        ),
        Err(_) => reply(
            request,
            response::CONSUME_MSG_TIMEOUT,
            format!(
                "consumer <{group}> <{client_id}> Timeout: no answer in {} ms",
                CLIENT_CALL_TIMEOUT.as_millis()
            ),
        ),
    }
}
