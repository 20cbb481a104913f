//! Subscription groups and clients for `mqadmin` and the dashboard:
//! UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201),
//! DELETE_SUBSCRIPTIONGROUP (207), GET_CONSUMER_CONNECTION_LIST (203),
//! GET_PRODUCER_CONNECTION_LIST (204) and QUERY_TOPIC_CONSUME_BY_WHO (300).
//!
//! Group configs and the client registries live on shard 0 (`control::admin_ops`);
//! committed offsets live on the queue owners, so 207 (with `cleanOffset`) and 300 also
//! make one hop to each shard.
//!
//! A delete always removes `%RETRY%group` and `%DLQ%group` (clean delete, as the issue
//! asks; the Java 5.3.3 broker keeps them), and the group's offsets when `cleanOffset=true`
//! (`mqadmin deleteSubGroup -r`), as Java.

use std::collections::BTreeSet;

use protocol::body::consumer::GroupList;
use protocol::body::fastjson::decode_lenient;
use protocol::body::subscription::SubscriptionGroupConfig;
use protocol::code::response;
use protocol::header::admin::{
    DeleteSubscriptionGroupRequestHeader, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, QueryTopicConsumeByWhoRequestHeader,
};
use protocol::header::topic as topic_names;
use protocol::RemotingCommand;
use serde::Serialize;

use super::{control_failure, data_failure, header, reply, success, try_response, RequestContext};
use crate::control::admin_ops::{AdminOp, AdminReply};
use crate::mesh::{ControlOp, ControlReply, DataOp, DataReply};

fn json_reply(request: &RemotingCommand, body: &impl Serialize) -> RemotingCommand {
    match serde_json::to_vec(body) {
        Ok(bytes) => success(request).with_body(bytes),
        Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
    }
}

async fn admin(context: &RequestContext, op: AdminOp) -> Result<AdminReply, ControlReply> {
    match context.shard.call_control(ControlOp::Admin(op)).await {
        ControlReply::Admin(answer) => Ok(answer),
        other => Err(other),
    }
}

/// Code 200: body = `SubscriptionGroupConfig`.
pub async fn update_group(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let config: SubscriptionGroupConfig =
        match decode_lenient(&request.body, "SubscriptionGroupConfig") {
            Ok(config) => config,
            Err(error) => return reply(request, response::SYSTEM_ERROR, error.to_string()),
        };
    if let Err(error) = topic_names::validate_group(&config.group_name) {
        return reply(request, response::SYSTEM_ERROR, error.to_string());
    }
    match admin(context, AdminOp::PutGroup(Box::new(config))).await {
        Ok(_) => success(request),
        Err(other) => control_failure(request, other),
    }
}

/// Code 201: body = `SubscriptionGroupWrapper`.
pub async fn all_groups(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    match admin(context, AdminOp::AllGroups).await {
        Ok(AdminReply::Groups(wrapper)) => json_reply(request, &wrapper),
        Ok(other) => reply(request, response::SYSTEM_ERROR, format!("{other:?}")),
        Err(other) => control_failure(request, other),
    }
}

/// Code 207.
pub async fn delete_group(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let delete: DeleteSubscriptionGroupRequestHeader = try_response!(header(request));
    if let Err(other) = admin(context, AdminOp::DeleteGroup(delete.group_name.clone())).await {
        return control_failure(request, other);
    }
    if delete.clean_offset {
        for target in 0..context.shard.shards {
            let op = DataOp::RemoveGroupOffsets {
                group: delete.group_name.clone(),
            };
            match context.shard.call_data(target, op).await {
                DataReply::Done => {}
                other => return data_failure(request, other),
            }
        }
    }
    success(request)
}

/// Code 203: body = `ConsumerConnection`; CONSUMER_NOT_ONLINE without live consumers.
pub async fn consumer_connections(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: GetConsumerConnectionListRequestHeader = try_response!(header(request));
    match admin(
        context,
        AdminOp::ConsumerConnection(query.consumer_group.clone()),
    )
    .await
    {
        Ok(AdminReply::ConsumerConnection(Some(connection))) => json_reply(request, &connection),
        Ok(AdminReply::ConsumerConnection(None)) => reply(
            request,
            response::CONSUMER_NOT_ONLINE,
            format!("the consumer group[{}] not online", query.consumer_group),
        ),
        Ok(other) => reply(request, response::SYSTEM_ERROR, format!("{other:?}")),
        Err(other) => control_failure(request, other),
    }
}

/// Code 204: body = `ProducerConnection`; SYSTEM_ERROR when the group has no producer.
pub async fn producer_connections(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: GetProducerConnectionListRequestHeader = try_response!(header(request));
    match admin(
        context,
        AdminOp::ProducerConnection(query.producer_group.clone()),
    )
    .await
    {
        Ok(AdminReply::ProducerConnection(connection)) if !connection.connection_set.is_empty() => {
            json_reply(request, &connection)
        }
        Ok(AdminReply::ProducerConnection(_)) => reply(
            request,
            response::SYSTEM_ERROR,
            format!("the producer group[{}] not exist", query.producer_group),
        ),
        Ok(other) => reply(request, response::SYSTEM_ERROR, format!("{other:?}")),
        Err(other) => control_failure(request, other),
    }
}

/// Code 300: body = `GroupList` (groups subscribing the topic or holding its offsets).
pub async fn consumed_by_whom(
    context: &RequestContext,
    request: &RemotingCommand,
) -> RemotingCommand {
    let query: QueryTopicConsumeByWhoRequestHeader = try_response!(header(request));
    let mut groups: BTreeSet<String> =
        match admin(context, AdminOp::SubscribedBy(query.topic.clone())).await {
            Ok(AdminReply::GroupNames(names)) => names.into_iter().collect(),
            Ok(other) => return reply(request, response::SYSTEM_ERROR, format!("{other:?}")),
            Err(other) => return control_failure(request, other),
        };
    for target in 0..context.shard.shards {
        let op = DataOp::TopicGroups {
            topic: query.topic.clone(),
        };
        match context.shard.call_data(target, op).await {
            DataReply::Topics(found) => groups.extend(found),
            other => return data_failure(request, other),
        }
    }
    json_reply(
        request,
        &GroupList {
            group_list: groups.into_iter().collect(),
        },
    )
}
