//! Topic, cluster, broker and name-server commands.

use std::collections::BTreeMap;

use client::admin::{AdminClient, TopicConfig};
use protocol::body::route::{perm, MASTER_ID};
use serde_json::{json, Value};

use crate::cli::Target;
use crate::report::Report;
use crate::{format_time, target_addrs, CommandError, CommandResult};

fn is_system_topic(topic: &str) -> bool {
    topic.starts_with('%')
        || topic.starts_with("rmq_sys")
        || topic.starts_with("RMQ_SYS")
        || matches!(
            topic,
            "TBW102"
                | "SCHEDULE_TOPIC_XXXX"
                | "SELF_TEST_TOPIC"
                | "OFFSET_MOVED_EVENT"
                | "TRANS_CHECK_MAX_TIME_TOPIC"
        )
        || topic.ends_with("_REPLY_TOPIC")
}

pub async fn update_topic(
    admin: &AdminClient,
    target: &Target,
    topic: &str,
    read_queue_nums: i32,
    write_queue_nums: i32,
    perm: i32,
    order: bool,
) -> CommandResult {
    if !(1..=1024).contains(&read_queue_nums) || !(1..=1024).contains(&write_queue_nums) {
        return Err(CommandError::usage("queue numbers must be in 1..=1024"));
    }
    let config = TopicConfig {
        read_queue_nums,
        write_queue_nums,
        perm,
        order,
        ..TopicConfig::new(topic)
    };
    let addrs = target_addrs(admin, target).await?;
    for addr in &addrs {
        admin.create_topic(addr, &config).await?;
    }
    Ok(Report::message(
        format!("create topic to {} success.\nTopicConfig [topicName={topic}, readQueueNums={read_queue_nums}, writeQueueNums={write_queue_nums}, perm={}, order={order}]", addrs.join(", "), perm::to_letters(perm)),
        json!({"topic": topic, "brokers": addrs, "readQueueNums": read_queue_nums, "writeQueueNums": write_queue_nums, "perm": perm, "order": order}),
    ))
}

pub async fn delete_topic(admin: &AdminClient, topic: &str, cluster: &str) -> CommandResult {
    let addrs = admin
        .master_addrs(Some(cluster))
        .await
        .map_err(|error| match error {
            client::ClientError::InvalidArgument(message) => CommandError::not_found(message),
            other => other.into(),
        })?;
    admin.delete_topic(&addrs, topic, Some(cluster)).await?;
    Ok(Report::message(
        format!("delete topic [{topic}] from cluster [{cluster}] success."),
        json!({"topic": topic, "cluster": cluster, "brokers": addrs}),
    ))
}

pub async fn update_topic_perm(
    admin: &AdminClient,
    target: &Target,
    topic: &str,
    new_perm: i32,
) -> CommandResult {
    if ![2, 4, 6].contains(&new_perm) {
        return Err(CommandError::usage("perm must be 2 (W), 4 (R) or 6 (RW)"));
    }
    let route = admin.topic_route(topic).await?;
    let wanted = if target.broker_addr.is_some() || target.cluster.is_some() {
        Some(target_addrs(admin, target).await?)
    } else {
        None
    };
    let mut updated = Vec::new();
    for queue_data in &route.queue_datas {
        let Some(broker) = route
            .broker_datas
            .iter()
            .find(|b| b.broker_name == queue_data.broker_name)
        else {
            continue;
        };
        let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
            continue;
        };
        if wanted.as_ref().is_some_and(|wanted| !wanted.contains(addr)) {
            continue;
        }
        let config = TopicConfig {
            read_queue_nums: queue_data.read_queue_nums,
            write_queue_nums: queue_data.write_queue_nums,
            perm: new_perm,
            order: false,
            ..TopicConfig::new(topic)
        };
        admin.create_topic(addr, &config).await?;
        updated.push(json!({"broker": addr, "oldPerm": queue_data.perm, "perm": new_perm}));
    }
    if updated.is_empty() {
        return Err(CommandError::not_found(format!(
            "topic {topic} is not on the given brokers"
        )));
    }
    Ok(Report::message(
        format!(
            "update topic [{topic}] perm to {} on {} broker(s) success.",
            perm::to_letters(new_perm),
            updated.len()
        ),
        Value::Array(updated),
    ))
}

pub async fn topic_route(admin: &AdminClient, topic: &str) -> CommandResult {
    let route = admin.topic_route(topic).await?;
    let json: Value = serde_json::to_value(&route).unwrap_or(Value::Null);
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    Ok(Report::message(text, json))
}

pub async fn topic_list(admin: &AdminClient, cluster: Option<&str>) -> CommandResult {
    let list = match cluster {
        Some(cluster) => admin.topics_by_cluster(cluster).await?,
        None => admin.topic_list().await?,
    };
    let topics: Vec<String> = list.topic_list.into_iter().collect();
    let mut text = topics.join("\n");
    text.push('\n');
    Ok(Report {
        text,
        json: json!(topics),
    })
}

pub async fn topic_status(admin: &AdminClient, topic: &str) -> CommandResult {
    let route = admin.topic_route(topic).await?;
    let mut rows = Vec::new();
    for broker in &route.broker_datas {
        let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
            continue;
        };
        let stats = admin.topic_stats(addr, topic).await?;
        for (queue, offsets) in &stats.offset_table {
            rows.push(vec![
                queue.broker_name.clone(),
                queue.queue_id.to_string(),
                offsets.min_offset.to_string(),
                offsets.max_offset.to_string(),
                format_time(offsets.last_update_timestamp_ms),
            ]);
        }
    }
    rows.sort_by(|a, b| {
        (&a[0], a[1].parse::<i32>().unwrap_or(0)).cmp(&(&b[0], b[1].parse::<i32>().unwrap_or(0)))
    });
    Ok(Report::table(
        &[
            "Broker Name",
            "QID",
            "Min Offset",
            "Max Offset",
            "Last Updated",
        ],
        rows,
    ))
}

pub async fn topic_cluster_list(admin: &AdminClient, topic: &str) -> CommandResult {
    let route = admin.topic_route(topic).await?;
    let mut clusters: Vec<String> = route
        .broker_datas
        .iter()
        .map(|b| b.cluster.clone())
        .collect();
    clusters.sort();
    clusters.dedup();
    Ok(Report {
        text: clusters.iter().map(|c| format!("{c}\n")).collect(),
        json: json!(clusters),
    })
}

pub async fn update_broker_config(
    admin: &AdminClient,
    target: &Target,
    key: &str,
    value: &str,
) -> CommandResult {
    let addrs = target_addrs(admin, target).await?;
    let properties: BTreeMap<String, String> =
        [(key.to_owned(), value.to_owned())].into_iter().collect();
    for addr in &addrs {
        admin.update_broker_config(addr, &properties).await?;
    }
    Ok(Report::message(
        format!(
            "update broker config success, {key}={value} on {}",
            addrs.join(", ")
        ),
        json!({"key": key, "value": value, "brokers": addrs}),
    ))
}

pub async fn get_broker_config(admin: &AdminClient, target: &Target) -> CommandResult {
    let addrs = target_addrs(admin, target).await?;
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    for addr in &addrs {
        let config = admin.broker_config(addr).await?;
        text.push_str(&format!("============{addr}============\n"));
        for (key, value) in &config {
            text.push_str(&format!("{key:<50}=  {value}\n"));
        }
        json.insert(addr.clone(), json!(config));
    }
    Ok(Report {
        text,
        json: Value::Object(json),
    })
}

pub async fn cluster_list(admin: &AdminClient, only: Option<&str>) -> CommandResult {
    let info = admin.cluster_info().await?;
    let mut rows = Vec::new();
    for (cluster, broker_names) in &info.cluster_addr_table {
        if only.is_some_and(|only| only != cluster) {
            continue;
        }
        for broker_name in broker_names {
            let Some(broker) = info.broker_addr_table.get(broker_name) else {
                continue;
            };
            for (id, addr) in &broker.broker_addrs {
                let runtime = admin
                    .broker_runtime_info(addr)
                    .await
                    .map(|kv| kv.table)
                    .unwrap_or_default();
                let get = |key: &str| runtime.get(key).cloned().unwrap_or_else(|| "-".to_owned());
                rows.push(vec![
                    cluster.clone(),
                    broker_name.clone(),
                    id.to_string(),
                    addr.clone(),
                    get("brokerVersionDesc"),
                    first_number(&get("putTps")),
                    first_number(&get("getTransferedTps")),
                ]);
            }
        }
    }
    if rows.is_empty() && only.is_some() {
        return Err(CommandError::not_found(format!(
            "cluster {} not found",
            only.unwrap_or_default()
        )));
    }
    Ok(Report::table(
        &[
            "Cluster Name",
            "Broker Name",
            "BID",
            "Addr",
            "Version",
            "InTPS",
            "OutTPS",
        ],
        rows,
    ))
}

/// Java's runtime TPS values are "a b c" (10 s, 1 min, 10 min); show the first.
fn first_number(value: &str) -> String {
    value.split_whitespace().next().unwrap_or("-").to_owned()
}

pub async fn broker_status(admin: &AdminClient, target: &Target) -> CommandResult {
    let addrs = target_addrs(admin, target).await?;
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    for addr in &addrs {
        let table = admin.broker_runtime_info(addr).await?.table;
        if addrs.len() > 1 {
            text.push_str(&format!("============{addr}============\n"));
        }
        for (key, value) in &table {
            text.push_str(&format!("{key:<32}: {value}\n"));
        }
        json.insert(addr.clone(), json!(table));
    }
    Ok(Report {
        text,
        json: Value::Object(json),
    })
}

pub async fn update_kv_config(
    admin: &AdminClient,
    namespace: &str,
    key: &str,
    value: &str,
) -> CommandResult {
    admin.put_kv_config(namespace, key, value).await?;
    Ok(Report::message(
        "update kv config in namespace success.",
        json!({"namespace": namespace, "key": key, "value": value}),
    ))
}

pub async fn delete_kv_config(admin: &AdminClient, namespace: &str, key: &str) -> CommandResult {
    admin.delete_kv_config(namespace, key).await?;
    Ok(Report::message(
        "delete kv config from namespace success.",
        json!({"namespace": namespace, "key": key}),
    ))
}

pub async fn write_perm(admin: &AdminClient, broker_name: &str, wipe: bool) -> CommandResult {
    let counts = admin.set_write_perm(broker_name, wipe).await?;
    let verb = if wipe {
        "wipe write perm of broker"
    } else {
        "add write perm of broker"
    };
    let text: String = counts
        .iter()
        .map(|(addr, count)| format!("{verb}[{broker_name}] in name server[{addr}] OK, {count}\n"))
        .collect();
    Ok(Report {
        text,
        json: Value::Array(
            counts
                .iter()
                .map(|(addr, count)| json!({"namesrv": addr, "topicCount": count}))
                .collect(),
        ),
    })
}

pub async fn stats_all(
    admin: &AdminClient,
    only: Option<&str>,
    active_only: bool,
) -> CommandResult {
    let topics: Vec<String> = match only {
        Some(topic) => vec![topic.to_owned()],
        None => admin
            .topic_list()
            .await?
            .topic_list
            .into_iter()
            .filter(|t| !is_system_topic(t))
            .collect(),
    };
    let mut rows = Vec::new();
    for topic in topics {
        let Ok(route) = admin.topic_route(&topic).await else {
            continue;
        };
        let mut stored = 0i64;
        let mut groups: BTreeMap<String, i64> = BTreeMap::new();
        for broker in &route.broker_datas {
            let Some(addr) = broker.broker_addrs.get(&MASTER_ID) else {
                continue;
            };
            if let Ok(stats) = admin.topic_stats(addr, &topic).await {
                stored += stats
                    .offset_table
                    .values()
                    .map(|o| o.max_offset - o.min_offset)
                    .sum::<i64>();
            }
            if let Ok(list) = admin.topic_consumers(addr, &topic).await {
                for group in list.group_list {
                    let lag = admin
                        .consume_stats(addr, &group, Some(&topic))
                        .await
                        .map(|s| s.total_diff())
                        .unwrap_or(0);
                    *groups.entry(group).or_insert(0) += lag;
                }
            }
        }
        if active_only && stored == 0 {
            continue;
        }
        if groups.is_empty() {
            rows.push(vec![
                topic.clone(),
                String::new(),
                "0".into(),
                stored.to_string(),
            ]);
        }
        for (group, lag) in groups {
            rows.push(vec![
                topic.clone(),
                group,
                lag.to_string(),
                stored.to_string(),
            ]);
        }
    }
    Ok(Report::table(
        &["Topic", "Consumer Group", "Accumulation", "Messages"],
        rows,
    ))
}
