//! Administration: UPDATE_AND_CREATE_TOPIC (17), GET_ALL_TOPIC_CONFIG (21),
//! GET_BROKER_RUNTIME_INFO (28), VIEW_MESSAGE_BY_ID (33), DELETE_TOPIC_IN_BROKER (215),
//! GET_TOPIC_CONFIG (351).

use std::collections::BTreeMap;
use std::rc::Rc;

use protocol::body::route::{JsonBody, KvTable, TopicConfig};
use protocol::code::response;
use protocol::command::VERSION_CURRENT;
use protocol::header::admin::GetAllTopicConfigResponseHeader;
use protocol::header::query::ViewMessageByIdRequestHeader;
use protocol::header::topic::{
    self as topic_names, CreateTopicRequestHeader, DeleteTopicRequestHeader,
    GetTopicConfigRequestHeader,
};
use protocol::header::CommandHeader;
use protocol::RemotingCommand;

use super::{control_failure, header, record_at, reply, success, try_response, RequestContext};
use crate::control::ControlShell;
use crate::mesh::{ControlOp, ControlReply, DataOp, DataReply, ShardStats};
use crate::shard::Shard;
use crate::store::now_ms;

/// The version string mqadmin shows.
pub const BROKER_VERSION_DESC: &str = "V5_3_3";

/// Code 17.
pub async fn create_topic(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let create: CreateTopicRequestHeader = try_response!(header(request));
    if let Err(invalid) = topic_names::validate_topic(&create.topic) {
        return reply(request, response::SYSTEM_ERROR, invalid.to_string());
    }
    if topic_names::is_system_topic(&create.topic) {
        let remark = format!("The topic[{}] is conflict with system topic.", create.topic);
        return reply(request, response::SYSTEM_ERROR, remark);
    }
    let queues_max = 1024;
    for (key, count) in [
        ("readQueueNums", create.read_queue_count),
        ("writeQueueNums", create.write_queue_count),
    ] {
        if !(0..=queues_max).contains(&count) {
            return reply(
                request,
                response::INVALID_PARAMETER,
                format!("{key} {count} is not in 0..={queues_max}"),
            );
        }
    }
    if !topic_names::is_valid_perm(create.perm) {
        return reply(
            request,
            response::INVALID_PARAMETER,
            format!("perm {} is not valid", create.perm),
        );
    }
    let topic = TopicConfig {
        topic_name: create.topic,
        read_queue_nums: create.read_queue_count,
        write_queue_nums: create.write_queue_count,
        perm: create.perm,
        topic_filter_type: create.topic_filter_type,
        topic_sys_flag: create.topic_sys_flag.unwrap_or(0),
        order: create.order,
        ..TopicConfig::default()
    };
    match context.shard.call_control(ControlOp::PutTopic(topic)).await {
        ControlReply::Topic(topic, revision) => {
            context.shard.learn_topic(topic, revision);
            success(request)
        }
        other => control_failure(request, other),
    }
}

/// Code 215.
pub async fn delete_topic(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let delete: DeleteTopicRequestHeader = try_response!(header(request));
    if topic_names::is_system_topic(&delete.topic) {
        let remark = format!("The topic[{}] is conflict with system topic.", delete.topic);
        return reply(request, response::SYSTEM_ERROR, remark);
    }
    match context
        .shard
        .call_control(ControlOp::DeleteTopic(delete.topic))
        .await
    {
        ControlReply::Done => success(request),
        other => control_failure(request, other),
    }
}

/// Code 21.
pub async fn all_topics(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    match context.shard.call_control(ControlOp::AllTopics).await {
        ControlReply::Topics(wrapper) => match wrapper.to_bytes() {
            Ok(body) => {
                let mut response = success(request).with_body(body);
                GetAllTopicConfigResponseHeader {
                    total_topic_count: i32::try_from(wrapper.topic_config_table.len())
                        .unwrap_or(i32::MAX),
                }
                .encode(response.ext_mut());
                response
            }
            Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
        },
        other => control_failure(request, other),
    }
}

/// Code 351: one topic's config, from this shard's copy of the topic table.
pub fn topic_config(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetTopicConfigRequestHeader = try_response!(header(request));
    let Some(topic) = context.shard.topic(&query.topic) else {
        return reply(
            request,
            response::TOPIC_NOT_EXIST,
            format!("No topic in this broker. topic: {}", query.topic),
        );
    };
    match topic.to_bytes() {
        Ok(body) => success(request).with_body(body),
        Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
    }
}

/// Code 28.
pub async fn runtime(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    match context.shard.call_control(ControlOp::RuntimeInfo).await {
        ControlReply::RuntimeInfo(table) => match (KvTable { table }).to_bytes() {
            Ok(body) => success(request).with_body(body),
            Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
        },
        other => control_failure(request, other),
    }
}

/// Code 33: the stored record at the offset the client decoded from the offset msgId.
pub async fn view_message(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let view: ViewMessageByIdRequestHeader = try_response!(header(request));
    let not_found = || {
        reply(
            request,
            response::SYSTEM_ERROR,
            format!("can not find message by the offset, {}", view.offset),
        )
    };
    match try_response!(record_at(context, request, view.offset).await) {
        Some(record) => success(request).with_body(record),
        None => not_found(),
    }
}

fn tps(now: u64, then: u64, seconds: u64) -> String {
    format!("{:.2}", now.saturating_sub(then) as f64 / seconds as f64)
}

/// Builds the GET_BROKER_RUNTIME_INFO table on shard 0 from every shard's counters.
pub async fn runtime_info(shard: &Rc<Shard>, control: &ControlShell) -> ControlReply {
    let mut total = ShardStats::default();
    let mut commit_log_max = 0u64;
    for target in 0..shard.shards {
        match shard.call_data(target, DataOp::Stats).await {
            DataReply::Stats(stats) => {
                total.messages_put += stats.messages_put;
                total.messages_got += stats.messages_got;
                for index in 0..3 {
                    total.put_history[index] += stats.put_history[index];
                    total.got_history[index] += stats.got_history[index];
                }
                total.suspended_pulls += stats.suspended_pulls;
                total.connections += stats.connections;
                commit_log_max = commit_log_max.max(stats.commit_log_max_offset);
            }
            DataReply::Busy(remark) => return ControlReply::Busy(remark),
            other => return ControlReply::Failed(format!("shard {target}: {other:?}")),
        }
    }
    let (producer_groups, consumer_groups) = control.plane.borrow().registry_counts();
    let topics = control.plane.borrow().topics().len();
    let uptime_s = u64::try_from((now_ms() - shard.boot_timestamp_ms).max(0)).unwrap_or(0) / 1000;
    let put =
        |index: usize, seconds: u64| tps(total.messages_put, total.put_history[index], seconds);
    let got =
        |index: usize, seconds: u64| tps(total.messages_got, total.got_history[index], seconds);
    let mut table = BTreeMap::new();
    let mut put_entry = |key: &str, value: String| {
        table.insert(key.to_owned(), value);
    };
    put_entry("brokerVersionDesc", BROKER_VERSION_DESC.to_owned());
    put_entry("brokerVersion", VERSION_CURRENT.to_string());
    put_entry("bootTimestamp", shard.boot_timestamp_ms.to_string());
    put_entry(
        "runtime",
        format!(
            "[ {} days, {} hours, {} minutes, {} seconds ]",
            uptime_s / 86_400,
            uptime_s / 3_600 % 24,
            uptime_s / 60 % 60,
            uptime_s % 60
        ),
    );
    put_entry(
        "putTps",
        format!("{} {} {}", put(0, 10), put(1, 60), put(2, 600)),
    );
    put_entry(
        "getTransferredTps",
        format!("{} {} {}", got(0, 10), got(1, 60), got(2, 600)),
    );
    put_entry(
        "getTransferedTps",
        format!("{} {} {}", got(0, 10), got(1, 60), got(2, 600)),
    );
    put_entry("msgPutTotalTodayNow", total.messages_put.to_string());
    put_entry("msgGetTotalTodayNow", total.messages_got.to_string());
    put_entry("msgPutTotalYesterdayMorning", "0".to_owned());
    put_entry("msgPutTotalTodayMorning", "0".to_owned());
    put_entry("msgGetTotalYesterdayMorning", "0".to_owned());
    put_entry("msgGetTotalTodayMorning", "0".to_owned());
    put_entry("commitLogMaxOffset", commit_log_max.to_string());
    put_entry("shards", shard.shards.to_string());
    put_entry("pullSuspended", total.suspended_pulls.to_string());
    put_entry("connections", total.connections.to_string());
    put_entry("topicCount", topics.to_string());
    put_entry("producerGroupCount", producer_groups.to_string());
    put_entry("consumerGroupCount", consumer_groups.to_string());
    put_entry("brokerName", shard.config().broker_name.clone());
    put_entry("brokerAddr", shard.broker_addr.to_string());
    ControlReply::RuntimeInfo(table)
}
