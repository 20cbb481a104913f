//! Group, offset and message commands.

use std::time::Duration;

use client::admin::AdminClient;
use client::consumer::pull::{self, PullArgs, PullStatus};
use client::consumer::{Expression, Subscription};
use client::{ClientConfig, Message, MessageExt, MessageQueue, Producer, ProducerOptions};
use protocol::body::route::MASTER_ID;
use protocol::body::subscription::SubscriptionGroupConfig;
use serde_json::{json, Value};

use crate::cli::Command;
use crate::report::Report;
use crate::{format_time, parse_time, target_addrs, CommandError, CommandResult};

/// Group used by admin reads and sends.
const TOOLS_GROUP: &str = "TOOLS_CONSUMER";
const TOOLS_PRODUCER_GROUP: &str = "TOOLS_PRODUCER";
/// Messages printed by printMsg at most.
const PRINT_MESSAGES_MAX: usize = 10_000;

pub async fn dispatch(
    admin: &AdminClient,
    config: &ClientConfig,
    command: Command,
) -> CommandResult {
    match command {
        Command::UpdateSubGroup {
            target,
            group,
            consume_enable,
            consume_broadcast_enable,
            retry_queue_nums,
            retry_max_times,
            consume_message_orderly,
        } => {
            let mut config = SubscriptionGroupConfig::new(&group);
            if let Some(value) = consume_enable {
                config.consume_enable = value;
            }
            if let Some(value) = consume_broadcast_enable {
                config.consume_broadcast_enable = value;
            }
            if let Some(value) = retry_queue_nums {
                config.retry_queue_nums = value;
            }
            if let Some(value) = retry_max_times {
                config.retry_max_times = value;
            }
            if let Some(value) = consume_message_orderly {
                config.consume_message_orderly = value;
            }
            let addrs = target_addrs(admin, &target).await?;
            for addr in &addrs {
                admin.create_subscription_group(addr, &config).await?;
            }
            Ok(Report::message(
                format!("create subscription group to {} success.", addrs.join(", ")),
                serde_json::to_value(&config).unwrap_or(Value::Null),
            ))
        }
        Command::DeleteSubGroup {
            target,
            group,
            remove_offset,
        } => {
            let addrs = target_addrs(admin, &target).await?;
            for addr in &addrs {
                admin
                    .delete_subscription_group(addr, &group, remove_offset)
                    .await?;
            }
            Ok(Report::message(
                format!(
                    "delete subscription group [{group}] from {} success.",
                    addrs.join(", ")
                ),
                json!({"group": group, "brokers": addrs}),
            ))
        }
        Command::ConsumerProgress { group, topic } => {
            consumer_progress(admin, &group, topic.as_deref()).await
        }
        Command::ConsumerConnection { group } => consumer_connection(admin, &group).await,
        Command::ProducerConnection { group, topic } => {
            producer_connection(admin, &group, &topic).await
        }
        Command::ResetOffsetByTime {
            group,
            topic,
            timestamp,
            force,
        } => reset_offset_by_time(admin, &group, &topic, parse_time(&timestamp)?, force).await,
        Command::PrintMsg {
            topic,
            sub_expression,
            begin,
            end,
            print_body,
        } => {
            let begin = begin.as_deref().map(parse_time).transpose()?;
            let end = end.as_deref().map(parse_time).transpose()?;
            print_messages(admin, &topic, &sub_expression, begin, end, print_body).await
        }
        Command::QueryMsgById { msg_id } => {
            let mut messages = Vec::new();
            for id in msg_id.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                messages.push(admin.view_message(id).await?);
            }
            Ok(describe(&messages))
        }
        Command::QueryMsgByKey {
            topic,
            key,
            begin,
            end,
            max_count,
        } => {
            let begin = begin.as_deref().map(parse_time).transpose()?.unwrap_or(0);
            let end = end
                .as_deref()
                .map(parse_time)
                .transpose()?
                .unwrap_or(i64::MAX);
            let messages = admin
                .query_messages(&topic, &key, max_count, begin, end, false)
                .await?;
            if messages.is_empty() {
                return Err(CommandError::not_found(format!(
                    "no message with key {key} in {topic}"
                )));
            }
            Ok(summary(&messages))
        }
        Command::QueryMsgByUniqueKey { topic, msg_id } => {
            let messages = admin
                .query_messages(&topic, &msg_id, 32, 0, i64::MAX, true)
                .await?;
            if messages.is_empty() {
                return Err(CommandError::not_found(format!(
                    "no message {msg_id} in {topic}"
                )));
            }
            Ok(describe(&messages[..1]))
        }
        Command::QueryMsgByOffset {
            topic,
            broker_name,
            queue_id,
            offset,
        } => {
            let queue = MessageQueue::new(topic, broker_name, queue_id);
            admin.instance().update_route(&queue.topic).await?;
            let messages = pull_from(
                admin,
                &queue,
                offset,
                1,
                &Subscription::new(&queue.topic, Expression::all()),
            )
            .await?
            .0;
            match messages.first() {
                Some(message) if message.queue_offset == offset => Ok(describe(&messages[..1])),
                _ => Err(CommandError::not_found(format!(
                    "no message at {queue} offset {offset}"
                ))),
            }
        }
        Command::SendMessage {
            topic,
            body,
            keys,
            tags,
            broker_name,
            queue_id,
        } => send_message(config, &topic, body, keys, tags, broker_name, queue_id).await,
        Command::ConsumeMessage {
            topic,
            broker_name,
            queue_id,
            offset,
            count,
        } => consume_message(admin, &topic, broker_name, queue_id, offset, count).await,
        other => Err(CommandError::usage(format!(
            "unsupported command {other:?}"
        ))),
    }
}

/// Masters that hold a group's data: from the route of `%RETRY%group`, else all masters.
async fn group_brokers(admin: &AdminClient, group: &str) -> Result<Vec<String>, CommandError> {
    let retry = client::message::retry_topic(group);
    match admin.topic_route(&retry).await {
        Ok(route) => Ok(route
            .broker_datas
            .iter()
            .filter_map(|b| b.broker_addrs.get(&MASTER_ID).cloned())
            .collect()),
        Err(_) => Ok(admin.master_addrs(None).await?),
    }
}

async fn consumer_progress(admin: &AdminClient, group: &str, topic: Option<&str>) -> CommandResult {
    let mut rows = Vec::new();
    let mut diff_total = 0i64;
    let mut tps = 0.0f64;
    for addr in group_brokers(admin, group).await? {
        let stats = admin.consume_stats(&addr, group, topic).await?;
        tps += stats.consume_tps;
        diff_total += stats.total_diff();
        for (queue, offsets) in &stats.offset_table {
            rows.push(vec![
                queue.topic.clone(),
                queue.broker_name.clone(),
                queue.queue_id.to_string(),
                offsets.broker_offset.to_string(),
                offsets.consumer_offset.to_string(),
                (offsets.broker_offset - offsets.consumer_offset).to_string(),
                format_time(offsets.last_timestamp_ms),
            ]);
        }
    }
    let mut report = Report::table(
        &[
            "Topic",
            "Broker Name",
            "QID",
            "Broker Offset",
            "Consumer Offset",
            "Diff",
            "LastTime",
        ],
        rows,
    );
    report.text.push_str(&format!(
        "\nConsume TPS: {tps:.2}\nConsume Diff Total: {diff_total}\n"
    ));
    let table = report.json.clone();
    Ok(report.with_json(
        json!({"group": group, "consumeTps": tps, "diffTotal": diff_total, "queues": table}),
    ))
}

async fn consumer_connection(admin: &AdminClient, group: &str) -> CommandResult {
    let mut rows = Vec::new();
    let mut detail = Value::Null;
    for addr in group_brokers(admin, group).await? {
        let Ok(connection) = admin.consumer_connection(&addr, group).await else {
            continue;
        };
        for (index, client) in connection.connection_set.iter().enumerate() {
            rows.push(vec![
                (index + 1).to_string(),
                client.client_id.clone(),
                client.client_addr.clone(),
                client.language.name().to_owned(),
                client.version.to_string(),
            ]);
        }
        detail = serde_json::to_value(&connection).unwrap_or(Value::Null);
        break;
    }
    if rows.is_empty() {
        return Err(CommandError::not_found(format!(
            "the consumer group [{group}] is not online"
        )));
    }
    let report = Report::table(
        &["ID", "ClientId", "ClientAddr", "Language", "Version"],
        rows,
    );
    Ok(report.with_json(detail))
}

async fn producer_connection(admin: &AdminClient, group: &str, topic: &str) -> CommandResult {
    let route = admin.topic_route(topic).await?;
    let mut rows = Vec::new();
    for broker in &route.broker_datas {
        let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
            continue;
        };
        let Ok(connection) = admin.producer_connection(addr, group, topic).await else {
            continue;
        };
        for client in connection.connection_set {
            rows.push(vec![
                client.client_id,
                client.client_addr,
                client.language.name().to_owned(),
                client.version.to_string(),
            ]);
        }
    }
    if rows.is_empty() {
        return Err(CommandError::not_found(format!(
            "the producer group [{group}] is not online"
        )));
    }
    rows.sort();
    rows.dedup();
    Ok(Report::table(
        &["ClientId", "ClientAddr", "Language", "Version"],
        rows,
    ))
}

async fn reset_offset_by_time(
    admin: &AdminClient,
    group: &str,
    topic: &str,
    timestamp: i64,
    force: bool,
) -> CommandResult {
    let route = admin.topic_route(topic).await?;
    let mut rows = Vec::new();
    for broker in &route.broker_datas {
        let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
            continue;
        };
        let body = admin
            .reset_offset_by_time(addr, topic, group, timestamp, force)
            .await?;
        for (queue, offset) in &body.offset_table {
            rows.push(vec![
                queue.broker_name.clone(),
                queue.queue_id.to_string(),
                offset.to_string(),
            ]);
        }
    }
    Ok(Report::table(&["brokerName", "queueId", "offset"], rows))
}

/// Pulls up to `count` messages of `queue` from `offset` (no long polling).
async fn pull_from(
    admin: &AdminClient,
    queue: &MessageQueue,
    offset: i64,
    count: i32,
    subscription: &Subscription,
) -> Result<(Vec<MessageExt>, i64, PullStatus), CommandError> {
    let args = PullArgs {
        group: TOOLS_GROUP,
        queue,
        offset,
        max_count: count,
        sys_flag: pull::sys_flag::SUBSCRIPTION,
        commit_offset: 0,
        suspend_ms: 0,
        subscription,
        timeout: Duration::from_secs(10),
    };
    let result = pull::pull(admin.instance(), &args).await?;
    Ok((result.messages, result.next_begin_offset, result.status))
}

async fn read_queue(
    admin: &AdminClient,
    queue: &MessageQueue,
    start: i64,
    end: i64,
    limit: usize,
    subscription: &Subscription,
    out: &mut Vec<MessageExt>,
) -> Result<(), CommandError> {
    let mut offset = start;
    while offset < end && out.len() < limit {
        let (messages, next, status) = pull_from(admin, queue, offset, 32, subscription).await?;
        out.extend(messages.into_iter().take(limit - out.len()));
        if next <= offset || matches!(status, PullStatus::NoNewMessage | PullStatus::OffsetIllegal)
        {
            break;
        }
        offset = next;
    }
    Ok(())
}

async fn print_messages(
    admin: &AdminClient,
    topic: &str,
    expression: &str,
    begin: Option<i64>,
    end: Option<i64>,
    print_body: bool,
) -> CommandResult {
    let instance = admin.instance();
    let queues = pull::readable_queues(instance, topic).await?;
    let subscription = Subscription::new(topic, Expression::Tag(expression.to_owned()));
    let mut messages = Vec::new();
    for queue in &queues {
        let start = match begin {
            Some(at) => pull::search_offset(instance, queue, at).await?,
            None => pull::queue_offset(instance, queue, false).await?,
        };
        let stop = match end {
            Some(at) => pull::search_offset(instance, queue, at).await?,
            None => pull::queue_offset(instance, queue, true).await?,
        };
        read_queue(
            admin,
            queue,
            start,
            stop,
            PRINT_MESSAGES_MAX,
            &subscription,
            &mut messages,
        )
        .await?;
    }
    let mut text = String::new();
    for message in &messages {
        text.push_str(&format!(
            "MSGID: {} QUEUE: {} OFFSET: {} TAGS: {} KEYS: {} BODY: {}\n",
            message.msg_id(),
            message.queue_id,
            message.queue_offset,
            message.tags().unwrap_or(""),
            message.keys().join(" "),
            if print_body {
                String::from_utf8_lossy(&message.body).into_owned()
            } else {
                "-".into()
            }
        ));
    }
    Ok(Report {
        text,
        json: Value::Array(messages.iter().map(message_json).collect()),
    })
}

async fn consume_message(
    admin: &AdminClient,
    topic: &str,
    broker_name: Option<String>,
    queue_id: Option<i32>,
    offset: Option<i64>,
    count: usize,
) -> CommandResult {
    let instance = admin.instance();
    let mut queues = pull::readable_queues(instance, topic).await?;
    if let Some(broker) = &broker_name {
        queues.retain(|q| &q.broker_name == broker);
    }
    if let Some(id) = queue_id {
        queues.retain(|q| q.queue_id == id);
    }
    if queues.is_empty() {
        return Err(CommandError::not_found(format!("no such queue of {topic}")));
    }
    let subscription = Subscription::new(topic, Expression::all());
    let mut messages = Vec::new();
    for queue in &queues {
        let start = match offset {
            Some(offset) => offset,
            None => pull::queue_offset(instance, queue, false).await?,
        };
        let stop = pull::queue_offset(instance, queue, true).await?;
        read_queue(
            admin,
            queue,
            start,
            stop,
            count,
            &subscription,
            &mut messages,
        )
        .await?;
    }
    Ok(summary(&messages))
}

async fn send_message(
    config: &ClientConfig,
    topic: &str,
    body: String,
    keys: Option<String>,
    tags: Option<String>,
    broker_name: Option<String>,
    queue_id: Option<i32>,
) -> CommandResult {
    let mut options = ProducerOptions::new(TOOLS_PRODUCER_GROUP, config.namesrv_addr.as_deref());
    options.client = config.clone();
    let producer = Producer::start(options).await?;
    let mut message = Message::new(topic, body);
    if let Some(keys) = &keys {
        message = message.with_keys(&keys.split_whitespace().collect::<Vec<_>>());
    }
    if let Some(tags) = &tags {
        message = message.with_tags(tags);
    }
    let sent = match (broker_name, queue_id) {
        (Some(broker), Some(id)) => {
            producer
                .send_to_queue(message, &MessageQueue::new(topic, broker, id))
                .await
        }
        (None, None) => producer.send(message).await,
        _ => Err(client::ClientError::InvalidArgument(
            "give both -b and -i, or neither".into(),
        )),
    };
    producer.shutdown().await;
    let sent = sent?;
    let row = vec![
        sent.queue.broker_name.clone(),
        sent.queue.queue_id.to_string(),
        format!("{:?}", sent.status),
        sent.msg_id.clone(),
        sent.offset_msg_id.clone(),
    ];
    Ok(Report::table(
        &["Broker Name", "QID", "Send Result", "MsgId", "OffsetMsgId"],
        vec![row],
    ))
}

fn message_json(message: &MessageExt) -> Value {
    json!({
        "topic": message.topic,
        "msgId": message.msg_id(),
        "offsetMsgId": message.offset_msg_id(),
        "brokerName": message.broker_name,
        "queueId": message.queue_id,
        "queueOffset": message.queue_offset,
        "commitLogOffset": message.commit_log_offset,
        "tags": message.tags(),
        "keys": message.keys(),
        "bornTimestamp": message.born_timestamp_ms,
        "storeTimestamp": message.store_timestamp_ms,
        "bornHost": message.born_host.to_string(),
        "storeHost": message.store_host.to_string(),
        "reconsumeTimes": message.reconsume_times,
        "sysFlag": message.sys_flag,
        "properties": message.properties.iter().collect::<std::collections::BTreeMap<_, _>>(),
        "body": String::from_utf8_lossy(&message.body),
    })
}

fn summary(messages: &[MessageExt]) -> Report {
    let rows = messages
        .iter()
        .map(|m| {
            vec![
                m.msg_id(),
                m.queue_id.to_string(),
                m.queue_offset.to_string(),
                m.tags().unwrap_or("").to_owned(),
                String::from_utf8_lossy(&m.body).chars().take(64).collect(),
            ]
        })
        .collect();
    Report::table(&["Message ID", "QID", "Offset", "Tags", "Body"], rows)
        .with_json(Value::Array(messages.iter().map(message_json).collect()))
}

fn describe(messages: &[MessageExt]) -> Report {
    let mut text = String::new();
    for message in messages {
        let fields = [
            ("OffsetID", message.offset_msg_id()),
            ("Topic", message.topic.clone()),
            ("Tags", format!("[{}]", message.tags().unwrap_or(""))),
            ("Keys", format!("[{}]", message.keys().join(" "))),
            ("Queue ID", message.queue_id.to_string()),
            ("Queue Offset", message.queue_offset.to_string()),
            ("CommitLog Offset", message.commit_log_offset.to_string()),
            ("Reconsume Times", message.reconsume_times.to_string()),
            ("Born Timestamp", format_time(message.born_timestamp_ms)),
            ("Store Timestamp", format_time(message.store_timestamp_ms)),
            ("Born Host", message.born_host.to_string()),
            ("Store Host", message.store_host.to_string()),
            ("System Flag", message.sys_flag.to_string()),
            (
                "Properties",
                message
                    .properties
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Message Body",
                String::from_utf8_lossy(&message.body).into_owned(),
            ),
        ];
        for (name, value) in fields {
            text.push_str(&format!("{name:<20}: {value}\n"));
        }
        text.push('\n');
    }
    Report {
        text,
        json: Value::Array(messages.iter().map(message_json).collect()),
    }
}
