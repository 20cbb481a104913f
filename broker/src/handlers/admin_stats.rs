//! Statistics for `mqadmin` and the dashboard: GET_TOPIC_STATS_INFO (202) and
//! GET_CONSUME_STATS (208). Each owner shard answers for its own queues
//! ([`DataOp::QueueStats`], executed by [`queue_stats`]); the handler groups the queues by
//! owner, makes one hop per owner and builds the `MessageQueue`-keyed body.
//!
//! As in `AdminBrokerProcessor.java`: 202 covers the write queues, with the store time of
//! the newest message (0 for an empty queue); 208 covers the read queues of each topic,
//! `consumerOffset` is 0 when nothing is committed, `lastTimestamp` is the store time of the
//! last consumed message, and without `topic`/`topicList` the topics are those the group has
//! committed offsets for or subscribes to. `consumeTps` is 0 (no per-group counters yet).

use std::collections::{BTreeMap, BTreeSet};

use protocol::body::message_queue::MessageQueue;
use protocol::body::route::JsonBody;
use protocol::body::stats::{ConsumeStats, OffsetWrapper, TopicOffset, TopicStatsTable};
use protocol::code::response;
use protocol::header::admin::{GetConsumeStatsRequestHeader, GetTopicStatsInfoRequestHeader};
use protocol::message::record::RecordView;
use protocol::RemotingCommand;

use super::{data_failure, header, reply, success, try_response, RequestContext};
use crate::mesh::{DataOp, DataReply};
use crate::shard::Shard;
use storage::AcceptAll;

/// One queue's numbers as its owner shard sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStat {
    pub queue_id: u32,
    pub min_offset: u64,
    pub max_offset: u64,
    /// Store time of the message at `max_offset - 1` (0 if the queue is empty).
    pub last_store_ms: i64,
    /// The group's committed offset, when a group was asked for.
    pub committed: Option<u64>,
    /// Store time of the message at `committed - 1` (0 if none).
    pub committed_store_ms: i64,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Store time of the message at `offset` of a queue, 0 if it cannot be read.
async fn store_time_at(shard: &Shard, topic: &str, queue_id: u32, offset: u64) -> i64 {
    match shard
        .store
        .read(topic, queue_id, offset, 1, 64 * 1024, &AcceptAll)
        .await
    {
        Ok(result) => result
            .records
            .first()
            .and_then(|record| RecordView::decode(record).ok())
            .map_or(0, |(view, _)| view.store_timestamp_ms),
        Err(_) => 0,
    }
}

/// Executes [`DataOp::QueueStats`] on the owner shard.
pub async fn queue_stats(
    shard: &Shard,
    topic: &str,
    group: Option<&str>,
    queue_ids: &[u32],
) -> DataReply {
    let mut stats = Vec::with_capacity(queue_ids.len());
    for &queue_id in queue_ids {
        debug_assert_eq!(shard.owner_of(topic, queue_id), shard.index);
        let min_offset = shard.store.min_offset(topic, queue_id);
        let max_offset = shard.store.max_offset(topic, queue_id);
        let last_store_ms = if max_offset > min_offset {
            store_time_at(shard, topic, queue_id, max_offset - 1).await
        } else {
            0
        };
        let committed = group.and_then(|group| shard.committed_offset(topic, group, queue_id));
        let committed_store_ms = match committed {
            Some(offset) if offset > min_offset && offset <= max_offset => {
                store_time_at(shard, topic, queue_id, offset - 1).await
            }
            _ => 0,
        };
        stats.push(QueueStat {
            queue_id,
            min_offset,
            max_offset,
            last_store_ms,
            committed,
            committed_store_ms,
        });
    }
    DataReply::QueueStats(stats)
}

/// Asks every owner shard about `queue_count` queues of `topic`.
async fn collect(
    context: &RequestContext,
    topic: &str,
    group: Option<&str>,
    queue_count: u32,
) -> Result<Vec<QueueStat>, DataReply> {
    let mut by_owner: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
    for queue_id in 0..queue_count {
        by_owner
            .entry(context.shard.owner_of(topic, queue_id))
            .or_default()
            .push(queue_id);
    }
    let mut all = Vec::with_capacity(queue_count as usize);
    for (owner, queue_ids) in by_owner {
        let op = DataOp::QueueStats {
            topic: topic.to_owned(),
            group: group.map(str::to_owned),
            queue_ids,
        };
        match context.shard.call_data(owner, op).await {
            DataReply::QueueStats(stats) => all.extend(stats),
            other => return Err(other),
        }
    }
    all.sort_by_key(|stat| stat.queue_id);
    Ok(all)
}

fn queue_count(nums: i32) -> u32 {
    u32::try_from(nums).unwrap_or(0)
}

fn json_reply(request: &RemotingCommand, body: &impl JsonBody) -> RemotingCommand {
    match body.to_bytes() {
        Ok(bytes) => success(request).with_body(bytes),
        Err(error) => reply(request, response::SYSTEM_ERROR, error.to_string()),
    }
}

/// Code 202.
pub async fn topic_stats(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetTopicStatsInfoRequestHeader = try_response!(header(request));
    let Some(topic) = context.shard.topic(&query.topic) else {
        return reply(
            request,
            response::TOPIC_NOT_EXIST,
            format!("topic[{}] not exist", query.topic),
        );
    };
    let stats = match collect(
        context,
        &query.topic,
        None,
        queue_count(topic.write_queue_nums),
    )
    .await
    {
        Ok(stats) => stats,
        Err(other) => return data_failure(request, other),
    };
    let broker_name = &context.shard.config().broker_name;
    let table = TopicStatsTable {
        offset_table: stats
            .iter()
            .map(|stat| {
                (
                    MessageQueue::new(
                        query.topic.as_str(),
                        broker_name.as_str(),
                        stat.queue_id as i32,
                    ),
                    TopicOffset {
                        last_update_timestamp_ms: stat.last_store_ms,
                        max_offset: to_i64(stat.max_offset),
                        min_offset: to_i64(stat.min_offset),
                    },
                )
            })
            .collect(),
        topic_put_tps: 0.0,
    };
    json_reply(request, &table)
}

/// Code 208.
pub async fn consume_stats(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: GetConsumeStatsRequestHeader = try_response!(header(request));
    let group = query.consumer_group.as_str();
    let topics: BTreeSet<String> =
        if let Some(topic) = query.topic.as_deref().filter(|t| !t.is_empty()) {
            std::iter::once(topic.to_owned()).collect()
        } else if let Some(list) = query.topic_list.as_deref().filter(|t| !t.is_empty()) {
            list.split(';')
                .filter(|topic| !topic.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            let mut topics: BTreeSet<String> =
                context.shard.subscribed_topics(group).into_iter().collect();
            for target in 0..context.shard.shards {
                match context
                    .shard
                    .call_data(
                        target,
                        DataOp::GroupTopics {
                            group: group.to_owned(),
                        },
                    )
                    .await
                {
                    DataReply::Topics(found) => topics.extend(found),
                    other => return data_failure(request, other),
                }
            }
            topics
        };
    let broker_name = &context.shard.config().broker_name;
    let mut stats = ConsumeStats::default();
    for topic in &topics {
        let Some(config) = context.shard.topic(topic) else {
            continue;
        };
        let queues = match collect(
            context,
            topic,
            Some(group),
            queue_count(config.read_queue_nums),
        )
        .await
        {
            Ok(queues) => queues,
            Err(other) => return data_failure(request, other),
        };
        for stat in queues {
            let consumer_offset = stat.committed.map_or(0, to_i64);
            stats.offset_table.insert(
                MessageQueue::new(topic.as_str(), broker_name.as_str(), stat.queue_id as i32),
                OffsetWrapper {
                    broker_offset: to_i64(stat.max_offset),
                    consumer_offset,
                    last_timestamp_ms: stat.committed_store_ms,
                    pull_offset: consumer_offset,
                },
            );
        }
    }
    json_reply(request, &stats)
}
