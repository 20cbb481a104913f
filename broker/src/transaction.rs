//! Transactional messages: half messages, op records, check-back.
//!
//! # Storage
//!
//! A half message (sysFlag PREPARED) is stored in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 with
//! `REAL_TOPIC` / `REAL_QID` / `PGROUP` and its sysFlag transaction bits reset (so it has a
//! consume-queue entry there, and none in the real topic: it is invisible). END_TRANSACTION
//! commit re-puts it to the real queue with sysFlag COMMIT (`TRAN_MSG`, `REAL_*` removed,
//! `preparedTransactionOffset` = the half's commit-log offset); commit and rollback both
//! append an op record to `RMQ_SYS_TRANS_OP_HALF_TOPIC` (tag `d`, body = the half's queue
//! offset). The op records are the durable "settled" set.
//!
//! Deviation from Java (internal only): the op record goes to the op queue that lives on the
//! same shard as the half queue ([`op_queue_id`]) instead of queue 0, so the check service
//! reads both locally.
//!
//! # Check-back
//!
//! [`TransactionService`] runs on the shard owning the half queue. Every [`SCAN_PERIOD`] it
//! reads new half and op entries (a half is pending until an op names it); every
//! `transactionCheckInterval` each pending half older than `transactionTimeOut` is checked:
//! CHECK_TRANSACTION_STATE (39, oneway, body = the stored half record re-encoded with its real
//! topic and queue id, as Java sends it) to one live producer connection of its `PGROUP`,
//! counted whether or not a producer is connected; after `transactionCheckMax` checks it is
//! copied to `TRANS_CHECK_MAX_TIME_TOPIC` and settled with an op record.
//!
//! # Restart
//!
//! The service rescans both queues from their minimum offsets, so it knows exactly what is
//! settled; cost is proportional to the retained transaction history. Check counts are kept
//! in memory only: after a restart a half gets up to `transactionCheckMax` more checks.
//! A duplicate END_TRANSACTION commit (e.g. two producers answering one check) re-puts the
//! message twice; Java has the same window.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use protocol::code::request;
use protocol::command::FLAG_ONEWAY;
use protocol::header::topic as topic_names;
use protocol::header::transaction::CheckTransactionStateRequestHeader;
use protocol::header::CommandHeader;
use protocol::message::properties::{find, keys, Properties};
use protocol::message::record::RecordView;
use protocol::message::{sys_flag, OffsetMessageId};
use protocol::{RemotingCommand, SerializeType};

use crate::mesh::{ControlOp, ControlReply};
use crate::routing::queue_shard;
use crate::shard::Shard;
use crate::store::{now_ms, MessageToStore};

const LOG: &str = "broker::transaction";

/// Half and op queue scan period.
pub const SCAN_PERIOD: Duration = Duration::from_millis(100);
/// The half queue.
pub const HALF_QUEUE_ID: u32 = 0;
/// Tag of op records (Java `TransactionalMessageUtil.REMOVE_TAG`).
pub const OP_TAG: &str = "d";
const READ_COUNT_MAX: u32 = 64;
const READ_BYTES_MAX: u32 = 4 << 20;

/// The op queue on the half queue's shard (see module docs).
#[must_use]
pub fn op_queue_id(shards: u16) -> u32 {
    let owner = queue_shard(topic_names::TRANS_HALF_TOPIC, HALF_QUEUE_ID, shards);
    (0..u32::from(shards))
        .find(|queue| queue_shard(topic_names::TRANS_OP_HALF_TOPIC, *queue, shards) == owner)
        .expect("queues 0..shards cover every shard")
}

/// Rewrites a PREPARED message into a half message; returns `(half topic, queue)`.
pub fn to_half(
    properties: &mut Properties,
    topic: &str,
    queue_id: u32,
    producer_group: &str,
) -> (String, u32) {
    properties.insert(keys::REAL_TOPIC, topic);
    properties.insert(keys::REAL_QID, &queue_id.to_string());
    if properties.get(keys::PGROUP).is_none() {
        properties.insert(keys::PGROUP, producer_group);
    }
    if properties.get(keys::TRAN_MSG).is_none() {
        properties.insert(keys::TRAN_MSG, "true");
    }
    (topic_names::TRANS_HALF_TOPIC.to_owned(), HALF_QUEUE_ID)
}

/// `sys_flag` with its transaction bits set to `transaction_type`.
#[must_use]
pub fn with_transaction_type(flag: i32, transaction_type: i32) -> i32 {
    (flag & !sys_flag::TRANSACTION_TYPE_MASK) | transaction_type
}

/// The op record settling the half at `half_queue_offset`.
#[must_use]
pub fn op_message(
    shards: u16,
    half_queue_offset: u64,
    host: std::net::SocketAddr,
) -> MessageToStore {
    let mut properties = Properties::new();
    properties.insert(keys::TAGS, OP_TAG);
    MessageToStore {
        topic: topic_names::TRANS_OP_HALF_TOPIC.to_owned(),
        queue_id: op_queue_id(shards),
        flag: 0,
        sys_flag: 0,
        born_timestamp_ms: now_ms(),
        born_host: host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: Bytes::from(half_queue_offset.to_string()),
        properties: properties.to_wire_string(),
    }
}

/// The committed message: real topic and queue, sysFlag COMMIT.
#[must_use]
pub fn committed_message(view: &RecordView<'_>) -> Option<MessageToStore> {
    let mut message = crate::schedule::real_message(view)?;
    let mut properties = Properties::parse(&message.properties);
    properties.remove(keys::TRAN_MSG);
    properties.remove(keys::REAL_TOPIC);
    properties.remove(keys::REAL_QID);
    message.properties = properties.to_wire_string();
    message.sys_flag = with_transaction_type(view.sys_flag, sys_flag::TRANSACTION_COMMIT);
    message.prepared_transaction_offset = view.physical_offset;
    Some(message)
}

struct Half {
    physical_offset: u64,
    store_timestamp_ms: i64,
    checks: u32,
}

#[derive(Default)]
struct Book {
    /// Pending halves by queue offset.
    halves: BTreeMap<u64, Half>,
    /// Settled offsets whose half has not been scanned yet.
    settled_early: BTreeSet<u64>,
    half_scanned: Option<u64>,
    op_scanned: Option<u64>,
}

/// The check service of the half queue's shard.
pub struct TransactionService {
    tasks: Vec<glommio::Task<()>>,
}

impl TransactionService {
    /// Starts the service if this shard owns the half queue.
    #[must_use]
    pub fn start(shard: &Rc<Shard>) -> Option<TransactionService> {
        if shard.owner_of(topic_names::TRANS_HALF_TOPIC, HALF_QUEUE_ID) != shard.index {
            return None;
        }
        let run_shard = shard.clone();
        let task = glommio::spawn_local(async move {
            run(&run_shard, &RefCell::new(Book::default())).await;
        });
        Some(TransactionService { tasks: vec![task] })
    }

    /// Stops the service (its state is rebuilt from the queues at start).
    pub fn stop(mut self) {
        self.tasks.clear();
    }
}

async fn run(shard: &Rc<Shard>, book: &RefCell<Book>) {
    let interval = Duration::from_millis(shard.config().transaction_check_interval_ms);
    let mut since_check = Duration::ZERO;
    loop {
        scan_halves(shard, book).await;
        scan_ops(shard, book).await;
        if since_check >= interval {
            since_check = Duration::ZERO;
            check(shard, book).await;
        }
        glommio::timer::sleep(SCAN_PERIOD).await;
        since_check += SCAN_PERIOD;
    }
}

/// Reads from `*scanned` (the queue's min offset at first) and advances it.
async fn read_queue(
    shard: &Shard,
    topic: &str,
    queue_id: u32,
    scanned: &mut Option<u64>,
) -> Vec<Bytes> {
    let from = scanned.unwrap_or_else(|| shard.store.min_offset(topic, queue_id));
    match shard
        .store
        .read(
            topic,
            queue_id,
            from,
            READ_COUNT_MAX,
            READ_BYTES_MAX,
            &storage::AcceptAll,
        )
        .await
    {
        Ok(result) => {
            *scanned = Some(result.next_begin_offset.max(from));
            result.records
        }
        Err(error) => {
            tracing::warn!(target: LOG, shard = shard.index, topic, %error, "scan failed");
            *scanned = Some(from);
            Vec::new()
        }
    }
}

async fn scan_halves(shard: &Rc<Shard>, book: &RefCell<Book>) {
    loop {
        let mut scanned = book.borrow().half_scanned;
        let records = read_queue(
            shard,
            topic_names::TRANS_HALF_TOPIC,
            HALF_QUEUE_ID,
            &mut scanned,
        )
        .await;
        let mut book = book.borrow_mut();
        book.half_scanned = scanned;
        if records.is_empty() {
            return;
        }
        for record in &records {
            let Ok((view, _)) = RecordView::decode(record) else {
                continue;
            };
            let offset = u64::try_from(view.queue_offset).unwrap_or(0);
            if book.settled_early.remove(&offset) {
                continue;
            }
            book.halves.insert(
                offset,
                Half {
                    physical_offset: u64::try_from(view.physical_offset).unwrap_or(0),
                    store_timestamp_ms: view.store_timestamp_ms,
                    checks: 0,
                },
            );
        }
    }
}

async fn scan_ops(shard: &Rc<Shard>, book: &RefCell<Book>) {
    let op_queue = op_queue_id(shard.shards);
    loop {
        let mut scanned = book.borrow().op_scanned;
        let records = read_queue(
            shard,
            topic_names::TRANS_OP_HALF_TOPIC,
            op_queue,
            &mut scanned,
        )
        .await;
        let mut book = book.borrow_mut();
        book.op_scanned = scanned;
        if records.is_empty() {
            return;
        }
        for record in &records {
            let Ok((view, _)) = RecordView::decode(record) else {
                continue;
            };
            let body = String::from_utf8_lossy(view.body);
            for offset in body
                .split(',')
                .filter_map(|part| part.trim().parse::<u64>().ok())
            {
                if book.halves.remove(&offset).is_none() {
                    let scanned = book.half_scanned.unwrap_or(0);
                    if offset >= scanned {
                        book.settled_early.insert(offset);
                    }
                }
            }
        }
    }
}

/// One check round over the pending halves.
async fn check(shard: &Rc<Shard>, book: &RefCell<Book>) {
    let config = &shard.config();
    let timeout_ms = i64::try_from(config.transaction_timeout_ms).unwrap_or(i64::MAX);
    let now = now_ms();
    let due: Vec<(u64, u64, u32)> = book
        .borrow()
        .halves
        .iter()
        .filter(|(_, half)| half.store_timestamp_ms.saturating_add(timeout_ms) <= now)
        .map(|(offset, half)| (*offset, half.physical_offset, half.checks))
        .collect();
    for (queue_offset, physical_offset, checks) in due {
        let record = match shard.store.read_at(physical_offset).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                book.borrow_mut().halves.remove(&queue_offset);
                continue;
            }
            Err(error) => {
                tracing::warn!(target: LOG, queue_offset, %error, "cannot read half message");
                continue;
            }
        };
        let Ok((view, _)) = RecordView::decode(&record) else {
            book.borrow_mut().halves.remove(&queue_offset);
            continue;
        };
        if checks >= config.transaction_check_max {
            if give_up(shard, &view, queue_offset).await {
                book.borrow_mut().halves.remove(&queue_offset);
            }
            continue;
        }
        if let Some(half) = book.borrow_mut().halves.get_mut(&queue_offset) {
            half.checks += 1;
        }
        let group = find(view.properties, keys::PGROUP).unwrap_or("").to_owned();
        let connection = match shard
            .call_control(ControlOp::ProducerConnection(group.clone()))
            .await
        {
            ControlReply::Connection(connection) => connection,
            _ => None,
        };
        let Some(connection) = connection else {
            tracing::debug!(target: LOG, %group, queue_offset, "no producer to check back");
            continue;
        };
        shard.push(
            connection,
            check_request(&view, queue_offset, record.clone()),
        );
    }
}

/// The check-back body: the stored half record with the real topic and queue id in place of
/// the half topic and queue 0, as Java's `sendCheckMessage` sends it. Clients decode the body
/// into the message handed to `checkLocalTransaction`, so the application sees the topic it
/// sent to. `None` if the half lacks `REAL_TOPIC` / `REAL_QID` or the record cannot be encoded.
fn check_body(view: &RecordView<'_>) -> Option<Vec<u8>> {
    let mut fields = view.fields();
    fields.topic = find(view.properties, keys::REAL_TOPIC)?;
    fields.queue_id = find(view.properties, keys::REAL_QID)?.parse().ok()?;
    let mut body = BytesMut::with_capacity(fields.encoded_size());
    fields.encode(&mut body).ok()?;
    Some(body.to_vec())
}

/// CHECK_TRANSACTION_STATE for one half message.
fn check_request(view: &RecordView<'_>, queue_offset: u64, record: Bytes) -> RemotingCommand {
    let mut command =
        RemotingCommand::request(request::CHECK_TRANSACTION_STATE, 0, SerializeType::Json);
    command.flag |= FLAG_ONEWAY;
    let unique = find(view.properties, keys::UNIQ_KEY).map(str::to_owned);
    let offset_msg_id = OffsetMessageId {
        store_host: view.store_host,
        commit_log_offset: view.physical_offset,
    }
    .encode();
    CheckTransactionStateRequestHeader {
        topic: find(view.properties, keys::REAL_TOPIC).map(str::to_owned),
        transaction_state_table_offset: i64::try_from(queue_offset).unwrap_or(0),
        commit_log_offset: view.physical_offset,
        msg_id: unique.clone(),
        transaction_id: find(view.properties, keys::TRANSACTION_ID)
            .map(str::to_owned)
            .or(unique),
        offset_msg_id: Some(offset_msg_id),
    }
    .encode(command.ext_mut());
    command.with_body(check_body(view).unwrap_or_else(|| record.to_vec()))
}

/// Copies the half to `TRANS_CHECK_MAX_TIME_TOPIC` and settles it; false to retry later.
async fn give_up(shard: &Rc<Shard>, view: &RecordView<'_>, queue_offset: u64) -> bool {
    let Some(mut message) = crate::schedule::real_message(view) else {
        return true;
    };
    message.topic = topic_names::TRANS_CHECK_MAX_TIME_TOPIC.to_owned();
    message.queue_id = 0;
    // Java creates the topic on demand (one queue) so admins can read it.
    let ensure = ControlOp::EnsureTopic {
        topic: message.topic.clone(),
        template: message.topic.clone(),
        creation: crate::mesh::TopicCreation::RetryOrDeadLetter,
    };
    if let ControlReply::Topic(topic, revision) = shard.call_control(ensure).await {
        shard.learn_topic(topic, revision);
    }
    let settled = async {
        crate::schedule::put(shard, message).await?;
        crate::schedule::put(
            shard,
            op_message(shard.shards, queue_offset, shard.broker_addr),
        )
        .await
    };
    match settled.await {
        Ok(()) => {
            tracing::info!(target: LOG, queue_offset, "half message checked too often, moved to TRANS_CHECK_MAX_TIME_TOPIC");
            true
        }
        Err(error) => {
            tracing::warn!(target: LOG, queue_offset, %error, "cannot move half message");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_queue_lives_with_the_half_queue() {
        for shards in 1..=8 {
            let queue = op_queue_id(shards);
            assert!(queue < u32::from(shards));
            assert_eq!(
                queue_shard(topic_names::TRANS_OP_HALF_TOPIC, queue, shards),
                queue_shard(topic_names::TRANS_HALF_TOPIC, HALF_QUEUE_ID, shards)
            );
        }
    }

    #[test]
    fn transaction_bits_are_replaced() {
        let flag = sys_flag::COMPRESSED | sys_flag::TRANSACTION_PREPARED;
        assert_eq!(
            with_transaction_type(flag, sys_flag::TRANSACTION_COMMIT),
            sys_flag::COMPRESSED | sys_flag::TRANSACTION_COMMIT
        );
        assert_eq!(
            with_transaction_type(flag, sys_flag::TRANSACTION_NOT_TYPE),
            sys_flag::COMPRESSED
        );
    }
}
