//! QUERY_MESSAGE (12): lookup by `KEYS` entry or, with `_UNIQUE_KEY_QUERY=true`, by
//! `UNIQ_KEY`. Every shard keeps the index of its own commit log, so the request fans out
//! to all shards (one hop each, in turn: this is a rare debugging request, not a data path),
//! the answers are merged newest first and capped at `maxNum`.
//!
//! Like `QueryMessageProcessor.java`, a unique-key lookup uses `defaultQueryMaxNum` (32)
//! instead of the client's `maxNum`, and an empty result is QUERY_NOT_FOUND.
//!
//! Deviation: `indexLastUpdateTimestamp` is the time of the query (we keep no per-index
//! end timestamp); `indexLastUpdatePhyoffset` is the largest visible commit-log offset over
//! the shards. The Java client only carries both values through to `QueryResult`.

use bytes::Bytes;
use protocol::code::response;
use protocol::header::query::{QueryMessageRequestHeader, QueryMessageResponseHeader};
use protocol::header::CommandHeader;
use protocol::message::record::RecordView;
use protocol::RemotingCommand;

use super::{data_failure, header, reply, success, try_response, RequestContext};
use crate::mesh::{DataOp, DataReply};
use crate::store::now_ms;

/// `defaultQueryMaxNum` of the Java broker: the cap for unique-key lookups.
pub const QUERY_MAX_DEFAULT: u32 = 32;
/// Upper bound on `maxNum` whatever the client asks (bounds the response body).
pub const QUERY_MAX_LIMIT: u32 = 2_048;
const _: () = assert!(QUERY_MAX_DEFAULT <= QUERY_MAX_LIMIT);

/// Code 12.
pub async fn query_message(context: &RequestContext, request: &RemotingCommand) -> RemotingCommand {
    let query: QueryMessageRequestHeader = try_response!(header(request));
    let max_count = if query.is_unique_key_query() {
        QUERY_MAX_DEFAULT
    } else {
        u32::try_from(query.max_count)
            .unwrap_or(0)
            .min(QUERY_MAX_LIMIT)
    };
    if max_count == 0 {
        return reply(
            request,
            response::QUERY_NOT_FOUND,
            "maxNum must be positive",
        );
    }
    let mut found: Vec<(i64, Bytes)> = Vec::new();
    let mut visible_max = 0u64;
    for target in 0..context.shard.shards {
        let op = DataOp::QueryByKey {
            topic: query.topic.clone(),
            key: query.key.clone(),
            max_count,
            begin_ms: query.begin_timestamp_ms,
            end_ms: query.end_timestamp_ms,
        };
        match context.shard.call_data(target, op).await {
            DataReply::Records {
                records,
                visible_offset,
            } => {
                visible_max = visible_max.max(visible_offset);
                for record in records {
                    let stored_ms = RecordView::decode(&record)
                        .map(|(view, _)| view.store_timestamp_ms)
                        .unwrap_or(0);
                    found.push((stored_ms, record));
                }
            }
            other => return data_failure(request, other),
        }
    }
    let merged = merge_newest_first(found, max_count);
    debug_assert!(merged.len() <= max_count as usize);
    if merged.is_empty() {
        return reply(
            request,
            response::QUERY_NOT_FOUND,
            format!(
                "can not find message, maybe time range not correct, topic {} key {}",
                query.topic, query.key
            ),
        );
    }
    let mut body = Vec::with_capacity(merged.iter().map(Bytes::len).sum());
    for record in &merged {
        body.extend_from_slice(record);
    }
    let mut answer = success(request).with_body(body);
    QueryMessageResponseHeader {
        index_last_update_timestamp_ms: now_ms(),
        index_last_update_physical_offset: i64::try_from(visible_max).unwrap_or(i64::MAX),
    }
    .encode(answer.ext_mut());
    answer
}

/// Sorts by store time (newest first, stable) and keeps `max_count`.
fn merge_newest_first(mut found: Vec<(i64, Bytes)>, max_count: u32) -> Vec<Bytes> {
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    found.truncate(max_count as usize);
    found.into_iter().map(|(_, record)| record).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_orders_newest_first_and_caps() {
        let found = vec![
            (1, Bytes::from_static(b"a")),
            (3, Bytes::from_static(b"c")),
            (2, Bytes::from_static(b"b")),
        ];
        let merged = merge_newest_first(found, 2);
        assert_eq!(
            merged,
            vec![Bytes::from_static(b"c"), Bytes::from_static(b"b")]
        );
        let merged = merge_newest_first(vec![(1, Bytes::from_static(b"a"))], 5);
        assert_eq!(merged.len(), 1);
    }
}
