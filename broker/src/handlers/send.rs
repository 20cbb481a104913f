//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320).
//!
//! Checks in the Java broker's order (`AbstractSendMessageProcessor#msgCheck`): topic name
//! → SYSTEM_ERROR, refused system topic → NO_PERMISSION, missing topic → auto-create from
//! the template or TOPIC_NOT_EXIST, not writable → NO_PERMISSION, queue id past the
//! queue count → INVALID_PARAMETER, body or properties too large → MESSAGE_ILLEGAL. Sends
//! to `%RETRY%group` past the group's retry limit go to `%DLQ%group`. The broker strips
//! `WAIT`, stamps `CLUSTER`, gives batch entries without `UNIQ_KEY` one, and answers
//! SEND_OK only after the owning shard's store append returned (durable per flush mode).

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use protocol::body::route::{perm, TopicConfig};
use protocol::code::{request, response};
use protocol::header::send::{
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
};
use protocol::header::topic as topic_names;
use protocol::header::CommandHeader;
use protocol::message::properties::{keys, Properties};
use protocol::message::record::PROPERTIES_BYTES_MAX;
use protocol::message::{sys_flag, BatchIter, UniqueIdGenerator};
use protocol::RemotingCommand;

use super::{data_failure, header, reply, try_response, RequestContext};
use crate::mesh::{ControlOp, ControlReply, DataOp, DataReply, TopicCreation};
use crate::store::{now_ms, AppendError, AppendResult, MessageToStore};

/// MQVersion ordinal of V3_4_9: from it on, the header's `maxReconsumeTimes` is honoured.
const VERSION_V3_4_9: i32 = 121;

thread_local! {
    static NEXT_QUEUE: Cell<u32> = const { Cell::new(0) };
    static UNIQUE_IDS: RefCell<Option<UniqueIdGenerator>> = const { RefCell::new(None) };
}

/// Handles codes 10, 310 and 320.
pub async fn handle(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let decoded: Result<SendMessageRequestHeader, RemotingCommand> =
        if request.code == request::SEND_MESSAGE {
            header::<SendMessageRequestHeader>(request)
        } else {
            header::<SendMessageRequestHeaderV2>(request).map(SendMessageRequestHeader::from)
        };
    let mut response = match decoded {
        Ok(send_header) => send(context, request, send_header).await,
        Err(response) => response,
    };
    // The Java client reads MSG_REGION/TRACE_ON from every send response without a null check.
    let config = &context.shard.config();
    let ext = response.ext_mut();
    if ext.get(keys::MSG_REGION).is_none() {
        ext.insert(keys::MSG_REGION, config.region_id.clone());
        ext.insert(keys::TRACE_ON, config.trace_on.to_string());
    }
    response
}

/// The topic config, learned from shard 0 (and created there if allowed) when this shard's
/// copy lacks it.
///
/// # Errors
/// TOPIC_NOT_EXIST or a mesh failure response.
pub async fn resolve_topic(
    context: &RequestContext,
    request: &RemotingCommand,
    topic: &str,
    template: &str,
    creation: TopicCreation,
) -> Result<TopicConfig, RemotingCommand> {
    if let Some(config) = context.shard.topic(topic) {
        return Ok(config);
    }
    let op = ControlOp::EnsureTopic {
        topic: topic.to_owned(),
        template: template.to_owned(),
        creation,
    };
    match context.shard.call_control(op).await {
        ControlReply::Topic(config, revision) => {
            context.shard.learn_topic(config.clone(), revision);
            Ok(config)
        }
        ControlReply::TopicRefused(remark) => {
            Err(reply(request, response::TOPIC_NOT_EXIST, remark))
        }
        other => Err(super::control_failure(request, other)),
    }
}

async fn send(
    context: &RequestContext,
    request: &RemotingCommand,
    mut send_header: SendMessageRequestHeader,
) -> RemotingCommand {
    let config = &context.shard.config();
    if let Err(invalid) = topic_names::validate_topic(&send_header.topic) {
        return reply(request, response::SYSTEM_ERROR, invalid.to_string());
    }
    if topic_names::is_send_refused(&send_header.topic) {
        let remark = format!(
            "Sending message to topic[{}] is forbidden.",
            send_header.topic
        );
        return reply(request, response::NO_PERMISSION, remark);
    }
    let creation = if send_header
        .topic
        .starts_with(topic_names::RETRY_GROUP_TOPIC_PREFIX)
    {
        TopicCreation::RetryOrDeadLetter
    } else {
        TopicCreation::FromTemplate {
            client_queue_nums: send_header.default_topic_queue_nums,
        }
    };
    let topic = try_response!(
        resolve_topic(
            context,
            request,
            &send_header.topic,
            &send_header.default_topic,
            creation
        )
        .await
    );
    if topic.perm & perm::WRITE == 0 {
        let remark = format!(
            "the topic[{}] sending message is forbidden",
            topic.topic_name
        );
        return reply(request, response::NO_PERMISSION, remark);
    }
    let queue_count = topic.write_queue_nums.max(topic.read_queue_nums);
    if send_header.queue_id >= queue_count {
        let remark = format!(
            "request queueId[{}] is illegal, topic {} has {} queues, producer: {}",
            send_header.queue_id, topic.topic_name, queue_count, context.peer
        );
        return reply(request, response::INVALID_PARAMETER, remark);
    }
    if request.body.len() > config.max_message_size_bytes as usize {
        let remark = format!(
            "the message body size {} bytes exceeds the maximum {} bytes",
            request.body.len(),
            config.max_message_size_bytes
        );
        return reply(request, response::MESSAGE_ILLEGAL, remark);
    }
    let mut queue_id = if send_header.queue_id < 0 {
        next_queue(topic.write_queue_nums)
    } else {
        u32::try_from(send_header.queue_id).unwrap_or(0)
    };
    if topic
        .topic_name
        .starts_with(topic_names::RETRY_GROUP_TOPIC_PREFIX)
    {
        match to_dead_letter_if_exhausted(context, request, &send_header).await {
            Ok(Some(dead_letter)) => {
                send_header.topic = dead_letter;
                queue_id = 0;
            }
            Ok(None) => {}
            Err(response) => return response,
        }
    }
    let batch = request.code == request::SEND_BATCH_MESSAGE || send_header.batch == Some(true);
    let prepared =
        sys_flag::transaction_type(send_header.sys_flag) == sys_flag::TRANSACTION_PREPARED;
    if prepared && batch {
        return reply(
            request,
            response::MESSAGE_ILLEGAL,
            "batch message does not support transaction",
        );
    }
    let messages = if batch {
        if send_header
            .topic
            .starts_with(topic_names::RETRY_GROUP_TOPIC_PREFIX)
        {
            return reply(
                request,
                response::MESSAGE_ILLEGAL,
                "batch request does not support retry group",
            );
        }
        try_response!(batch_messages(context, request, &send_header, queue_id))
    } else {
        vec![try_response!(single_message(
            context,
            request,
            &send_header,
            queue_id
        ))]
    };
    // A delayed message goes to its level's queue, not the real one.
    let owner = context
        .shard
        .owner_of(&messages[0].topic, messages[0].queue_id);
    match context
        .shard
        .call_data(owner, DataOp::Append { messages })
        .await
    {
        DataReply::Appended(Ok(results)) => send_ok(request, queue_id, &results, &send_header),
        DataReply::Appended(Err(error)) => append_error(request, &error),
        other => data_failure(request, other),
    }
}

/// Java `handleRetryAndDLQ`: a send to `%RETRY%group` past the group's limit goes to the DLQ.
async fn to_dead_letter_if_exhausted(
    context: &RequestContext,
    request: &RemotingCommand,
    send_header: &SendMessageRequestHeader,
) -> Result<Option<String>, RemotingCommand> {
    let group = &send_header.topic[topic_names::RETRY_GROUP_TOPIC_PREFIX.len()..];
    let (retry_max_times, _) = super::retry::group_limits(context, request, group).await?;
    let max = match send_header.max_reconsume_times {
        Some(max) if request.version >= VERSION_V3_4_9 => max,
        _ => retry_max_times,
    };
    if send_header.reconsume_times.unwrap_or(0) <= max {
        return Ok(None);
    }
    let dead_letter = topic_names::dlq_topic(group);
    resolve_topic(
        context,
        request,
        &dead_letter,
        &dead_letter,
        TopicCreation::RetryOrDeadLetter,
    )
    .await?;
    Ok(Some(dead_letter))
}

fn next_queue(write_queue_nums: i32) -> u32 {
    let count = u32::try_from(write_queue_nums.max(1)).unwrap_or(1);
    NEXT_QUEUE.with(|next| {
        let value = next.get();
        next.set(value.wrapping_add(1));
        value % count
    })
}

fn unique_id(context: &RequestContext) -> String {
    UNIQUE_IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        let generator = ids.get_or_insert_with(|| {
            UniqueIdGenerator::new(
                context.shard.config().broker_ip1,
                std::process::id(),
                i32::from(context.shard.index),
                now_ms(),
            )
        });
        generator.next_id(now_ms())
    })
}

/// The stored properties: `WAIT` stripped, `CLUSTER` stamped.
fn stored_properties(context: &RequestContext, raw: &str, add_unique_id: bool) -> Properties {
    let mut properties = Properties::parse(raw);
    properties.remove(keys::WAIT);
    properties.insert(keys::CLUSTER, &context.shard.config().broker_cluster_name);
    if add_unique_id && properties.get(keys::UNIQ_KEY).is_none() {
        properties.insert(keys::UNIQ_KEY, &unique_id(context));
    }
    properties
}

fn check_properties(request: &RemotingCommand, properties: &str) -> Result<(), RemotingCommand> {
    if properties.len() > PROPERTIES_BYTES_MAX {
        let remark = format!(
            "the message properties size {} bytes exceeds the maximum {PROPERTIES_BYTES_MAX} bytes",
            properties.len()
        );
        return Err(reply(request, response::MESSAGE_ILLEGAL, remark));
    }
    Ok(())
}

fn single_message(
    context: &RequestContext,
    request: &RemotingCommand,
    send_header: &SendMessageRequestHeader,
    queue_id: u32,
) -> Result<MessageToStore, RemotingCommand> {
    let raw = send_header.properties.as_deref().unwrap_or("");
    let mut properties = stored_properties(context, raw, false);
    let mut destination = (send_header.topic.clone(), queue_id);
    let mut stored_sys_flag = send_header.sys_flag;
    if sys_flag::transaction_type(send_header.sys_flag) == sys_flag::TRANSACTION_PREPARED {
        // A half message: invisible in the half topic until END_TRANSACTION.
        destination = crate::transaction::to_half(
            &mut properties,
            &send_header.topic,
            queue_id,
            &send_header.producer_group,
        );
        stored_sys_flag = crate::transaction::with_transaction_type(
            send_header.sys_flag,
            sys_flag::TRANSACTION_NOT_TYPE,
        );
    } else if !send_header
        .topic
        .starts_with(topic_names::DLQ_GROUP_TOPIC_PREFIX)
    {
        let config = &context.shard.config();
        let levels = config.message_delay_levels_ms.len();
        if let Some(scheduled) =
            crate::schedule::transform_delay(&mut properties, &send_header.topic, queue_id, levels)
        {
            // A delay level wins over timer properties (Java `transformTimerMessage`).
            crate::timer::clear_timer_properties(&mut properties);
            destination = scheduled;
        } else {
            match crate::timer::transform_timer(
                &mut properties,
                &send_header.topic,
                queue_id,
                now_ms(),
                config.timer_max_delay_sec,
            ) {
                Ok(Some(timed)) => destination = timed,
                Ok(None) => {}
                Err(remark) => return Err(reply(request, response::MESSAGE_ILLEGAL, remark)),
            }
        }
    }
    let properties = properties.to_wire_string();
    check_properties(request, &properties)?;
    Ok(MessageToStore {
        topic: destination.0,
        queue_id: destination.1,
        flag: send_header.flag,
        sys_flag: stored_sys_flag,
        born_timestamp_ms: send_header.born_timestamp_ms,
        born_host: context.peer,
        reconsume_times: send_header.reconsume_times.unwrap_or(0),
        prepared_transaction_offset: 0,
        body: request.body.clone(),
        properties,
    })
}

fn batch_messages(
    context: &RequestContext,
    request: &RemotingCommand,
    send_header: &SendMessageRequestHeader,
    queue_id: u32,
) -> Result<Vec<MessageToStore>, RemotingCommand> {
    let mut messages = Vec::new();
    for entry in BatchIter::new(&request.body) {
        let entry = entry.map_err(|error| {
            reply(
                request,
                response::MESSAGE_ILLEGAL,
                format!("bad batch body: {error}"),
            )
        })?;
        let properties = stored_properties(context, entry.properties, true).to_wire_string();
        check_properties(request, &properties)?;
        messages.push(MessageToStore {
            topic: send_header.topic.clone(),
            queue_id,
            flag: entry.flag,
            sys_flag: send_header.sys_flag,
            born_timestamp_ms: send_header.born_timestamp_ms,
            born_host: context.peer,
            reconsume_times: send_header.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
            body: Bytes::copy_from_slice(entry.body),
            properties,
        });
    }
    if messages.is_empty() {
        return Err(reply(
            request,
            response::MESSAGE_ILLEGAL,
            "the batch holds no message",
        ));
    }
    Ok(messages)
}

fn send_ok(
    request: &RemotingCommand,
    queue_id: u32,
    results: &[AppendResult],
    send_header: &SendMessageRequestHeader,
) -> RemotingCommand {
    let first = results
        .first()
        .expect("an append returns one result per message");
    let msg_id = results
        .iter()
        .map(|result| result.message_id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let transaction_id = send_header
        .properties
        .as_deref()
        .and_then(|raw| protocol::message::properties::find(raw, keys::UNIQ_KEY))
        .map(str::to_owned);
    let mut response = super::success(request);
    SendMessageResponseHeader {
        msg_id,
        queue_id: i32::try_from(queue_id).unwrap_or(i32::MAX),
        queue_offset: i64::try_from(first.queue_offset).unwrap_or(i64::MAX),
        transaction_id,
        batch_unique_id: None,
        recall_handle: None,
        message_region: None,
        trace_on: None,
    }
    .encode(response.ext_mut());
    response
}

/// One function maps every store rejection to its RocketMQ code.
fn append_error(request: &RemotingCommand, error: &AppendError) -> RemotingCommand {
    let code = match error {
        AppendError::MessageIllegal(_) | AppendError::MessageTooLarge { .. } => {
            response::MESSAGE_ILLEGAL
        }
        AppendError::FlushDiskTimeout { .. } => response::FLUSH_DISK_TIMEOUT,
        AppendError::DiskFull(_) | AppendError::ShutDown => response::SERVICE_NOT_AVAILABLE,
        AppendError::Io(_) => response::SYSTEM_ERROR,
    };
    reply(request, code, error.to_string())
}
