//! [`Shard`]: everything one core owns. Lives on its own pinned glommio executor for the
//! broker's lifetime, shared inside that executor as `Rc<Shard>`; never crosses threads.
//!
//! Owns: its [`Store`] (the queues routed to it), the consumer offsets of those queues,
//! the long-poll waiters of those queues, its connections, and read-only copies of the
//! topic table and of the consumer subscriptions (updated by shard 0's broadcasts).
//! Shard 0 additionally owns the control plane ([`crate::control`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use glommio::channels::local_channel::LocalSender;
use protocol::body::route::TopicConfig;
use protocol::RemotingCommand;

use crate::config::BrokerConfig;
use crate::control::ControlShell;
use crate::filter::TagFilter;
use crate::mesh::{
    ControlOp, ControlReply, ControlUpdate, DataOp, DataReply, PullOutcome, PullQuery,
    ShardMessage, ShardStats,
};
use crate::metadata::ConsumerOffsets;
use crate::routing::queue_shard;
use crate::store::{shard_of_physical_offset, ReadStatus, Store};

const LOG: &str = "broker::shard";

mod outbound;

/// What a connection's task accepts besides its ordered replies.
pub enum Outbound {
    /// A frame to write as soon as possible (long-poll replies, pushes).
    Now(RemotingCommand),
    /// Close the connection now (broker shutdown), so clients see the socket close as
    /// when a broker process exits.
    Close,
}

/// The topic table copy: per topic, the revision that last changed it (tombstones keep
/// deletions from being undone by a late, older update).
#[derive(Default)]
struct TopicView {
    topics: HashMap<String, (u64, Option<TopicConfig>)>,
}

impl TopicView {
    fn apply(&mut self, name: &str, revision: u64, topic: Option<TopicConfig>) {
        let newer = self
            .topics
            .get(name)
            .is_none_or(|(known, _)| revision > *known);
        if newer {
            self.topics.insert(name.to_owned(), (revision, topic));
        }
    }
}

/// A queue's arrival generation and the wakers (by waiter id) of pulls parked on it.
type QueueWaiters = (u64, Vec<(u64, Waker)>);

/// Per-queue long-poll waiters of this shard.
#[derive(Default)]
struct LongPoll {
    queues: RefCell<HashMap<(String, u32), QueueWaiters>>,
    next_waiter: Cell<u64>,
    suspended: Cell<u32>,
}

impl LongPoll {
    fn notify(&self, topic: &str, queue_id: u32) {
        let mut queues = self.queues.borrow_mut();
        if let Some((generation, waiters)) = queues.get_mut(&(topic.to_owned(), queue_id)) {
            *generation += 1;
            for (_, waker) in waiters.drain(..) {
                waker.wake();
            }
        }
    }

    fn generation(&self, key: &(String, u32)) -> u64 {
        self.queues
            .borrow()
            .get(key)
            .map_or(0, |(generation, _)| *generation)
    }
}

/// Completes when the queue's generation moves past `seen`.
struct Arrival<'a> {
    long_poll: &'a LongPoll,
    key: (String, u32),
    seen: u64,
    id: u64,
}

impl Future for Arrival<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut queues = self.long_poll.queues.borrow_mut();
        let (generation, waiters) = queues.entry(self.key.clone()).or_default();
        if *generation != self.seen {
            return Poll::Ready(());
        }
        waiters.retain(|(id, _)| *id != self.id);
        waiters.push((self.id, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        let mut queues = self.long_poll.queues.borrow_mut();
        if let Some((_, waiters)) = queues.get_mut(&self.key) {
            waiters.retain(|(id, _)| *id != self.id);
            if waiters.is_empty() {
                queues.remove(&self.key);
            }
        }
    }
}

/// Message counters and their history for TPS.
#[derive(Default)]
struct Counters {
    put: Cell<u64>,
    got: Cell<u64>,
    /// One sample of (put, got) every 10 s, newest last, at most 61.
    samples: RefCell<std::collections::VecDeque<(u64, u64)>>,
}

/// Broker-initiated requests awaiting a client's response, per shard.
pub const CLIENT_CALLS_MAX: usize = 1024;

/// One core's share of the broker. See the module docs.
pub struct Shard {
    pub index: u16,
    pub shards: u16,
    /// The running configuration; replaced as a whole by UPDATE_BROKER_CONFIG (25).
    config: RefCell<Rc<BrokerConfig>>,
    pub store: Rc<Store>,
    /// The address announced to clients and name servers (brokerIP1:port).
    pub broker_addr: SocketAddr,
    inboxes: Vec<flume::Sender<ShardMessage>>,
    topics: RefCell<TopicView>,
    subscriptions: RefCell<HashMap<String, HashMap<String, TagFilter>>>,
    offsets: RefCell<ConsumerOffsets>,
    long_poll: LongPoll,
    connections: RefCell<HashMap<u64, Rc<LocalSender<Outbound>>>>,
    next_connection_id: Cell<u64>,
    /// Broker-initiated requests awaiting the client's response, by (connection, opaque).
    client_calls: RefCell<HashMap<(u64, i32), flume::Sender<RemotingCommand>>>,
    next_call_opaque: Cell<i32>,
    counters: Counters,
    /// Only on shard 0.
    control: RefCell<Option<Rc<ControlShell>>>,
    /// Next queue offset per delay level this shard delivers (shared with the schedule).
    delay_progress: RefCell<Option<crate::schedule::DelayProgress>>,
    pub boot_timestamp_ms: i64,
}

/// What [`Shard::new`] needs.
pub struct ShardParts {
    pub index: u16,
    pub config: Rc<BrokerConfig>,
    pub store: Rc<Store>,
    pub broker_addr: SocketAddr,
    pub inboxes: Vec<flume::Sender<ShardMessage>>,
    pub topics: Vec<TopicConfig>,
    pub topics_revision: u64,
    pub offsets: ConsumerOffsets,
}

impl Shard {
    #[must_use]
    pub fn new(parts: ShardParts) -> Rc<Shard> {
        let shards = parts.config.shards;
        assert_eq!(parts.inboxes.len(), usize::from(shards));
        assert!(parts.index < shards);
        let mut view = TopicView::default();
        for topic in parts.topics {
            let name = topic.topic_name.clone();
            view.apply(&name, parts.topics_revision, Some(topic));
        }
        Rc::new(Shard {
            index: parts.index,
            shards,
            config: RefCell::new(parts.config),
            store: parts.store,
            broker_addr: parts.broker_addr,
            inboxes: parts.inboxes,
            topics: RefCell::new(view),
            subscriptions: RefCell::new(HashMap::new()),
            offsets: RefCell::new(parts.offsets),
            long_poll: LongPoll::default(),
            connections: RefCell::new(HashMap::new()),
            next_connection_id: Cell::new(1),
            client_calls: RefCell::new(HashMap::new()),
            next_call_opaque: Cell::new(1),
            counters: Counters::default(),
            control: RefCell::new(None),
            delay_progress: RefCell::new(None),
            boot_timestamp_ms: crate::store::now_ms(),
        })
    }

    /// The running configuration (a snapshot: a runtime update replaces it, never mutates it).
    #[must_use]
    pub fn config(&self) -> Rc<BrokerConfig> {
        self.config.borrow().clone()
    }

    /// Called by the delay-level schedule at start.
    pub fn install_delay_progress(&self, progress: crate::schedule::DelayProgress) {
        *self.delay_progress.borrow_mut() = Some(progress);
    }

    pub fn install_control(&self, control: Rc<ControlShell>) {
        assert_eq!(self.index, 0, "the control plane lives on shard 0");
        *self.control.borrow_mut() = Some(control);
    }

    fn control(&self) -> Option<Rc<ControlShell>> {
        self.control.borrow().clone()
    }

    /// The owner shard of a queue.
    #[must_use]
    pub fn owner_of(&self, topic: &str, queue_id: u32) -> u16 {
        queue_shard(topic, queue_id, self.shards)
    }

    /// The owner shard of a physical offset (None if no such shard).
    #[must_use]
    pub fn owner_of_physical(&self, physical_offset: u64) -> Option<u16> {
        let shard = shard_of_physical_offset(physical_offset);
        (shard < self.shards).then_some(shard)
    }

    /// This shard's copy of a topic's config.
    #[must_use]
    pub fn topic(&self, name: &str) -> Option<TopicConfig> {
        self.topics
            .borrow()
            .topics
            .get(name)
            .and_then(|(_, topic)| topic.clone())
    }

    /// Installs a topic learned from a control reply (newer revisions only).
    pub fn learn_topic(&self, topic: TopicConfig, revision: u64) {
        let name = topic.topic_name.clone();
        self.topics.borrow_mut().apply(&name, revision, Some(topic));
    }

    /// The subscription a group's heartbeats registered for a topic.
    #[must_use]
    pub fn subscription(&self, group: &str, topic: &str) -> Option<TagFilter> {
        self.subscriptions
            .borrow()
            .get(group)
            .and_then(|topics| topics.get(topic))
            .cloned()
    }

    /// A group's committed offset of a queue this shard owns.
    #[must_use]
    pub fn committed_offset(&self, topic: &str, group: &str, queue_id: u32) -> Option<u64> {
        self.offsets.borrow().get(topic, group, queue_id)
    }

    /// Topics a group's heartbeats subscribed (as far as this shard's copy knows).
    #[must_use]
    pub fn subscribed_topics(&self, group: &str) -> Vec<String> {
        self.subscriptions
            .borrow()
            .get(group)
            .map(|topics| topics.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether a group has any consumer registered (as far as this shard's copy knows).
    #[must_use]
    pub fn group_known(&self, group: &str) -> bool {
        self.subscriptions.borrow().contains_key(group)
    }

    // -------------------------------------------------------------------------------
    // Calls across the mesh

    /// Runs a data-plane op on `target` (locally if it is this shard).
    pub async fn call_data(self: &Rc<Self>, target: u16, op: DataOp) -> DataReply {
        if target == self.index {
            return self.execute_data(op).await;
        }
        let (reply, answer) = flume::bounded(1);
        if let Err(reason) = self.post(target, ShardMessage::Data { op, reply }) {
            return DataReply::Busy(reason);
        }
        answer
            .recv_async()
            .await
            .unwrap_or_else(|_| DataReply::Failed(format!("shard {target} stopped")))
    }

    /// Runs a control-plane op on shard 0.
    pub async fn call_control(self: &Rc<Self>, op: ControlOp) -> ControlReply {
        if let Some(control) = self.control() {
            return control.execute(op).await;
        }
        let (reply, answer) = flume::bounded(1);
        if let Err(reason) = self.post(0, ShardMessage::Control { op, reply }) {
            return ControlReply::Busy(reason);
        }
        answer
            .recv_async()
            .await
            .unwrap_or_else(|_| ControlReply::Failed("shard 0 stopped".to_owned()))
    }

    /// Non-blocking post to a shard's inbox; `Err(remark)` when it is full.
    fn post(&self, target: u16, message: ShardMessage) -> Result<(), String> {
        match self.inboxes[usize::from(target)].try_send(message) {
            Ok(()) => Ok(()),
            Err(flume::TrySendError::Full(_)) => Err(format!(
                "[REJECTREQUEST]system busy, shard {target} inbox is full ({} requests queued)",
                self.config().shard_inbox_depth_max
            )),
            Err(flume::TrySendError::Disconnected(_)) => {
                Err(format!("[REJECTREQUEST]shard {target} is stopping"))
            }
        }
    }

    /// Delivers an update to every other shard and waits until each has applied it (waits
    /// for room: updates are never dropped).
    pub async fn broadcast(&self, update: &ControlUpdate) {
        let (applied, acknowledgements) = flume::bounded(self.inboxes.len());
        let mut expected = 0usize;
        for (target, inbox) in self.inboxes.iter().enumerate() {
            if target != usize::from(self.index) {
                let message = ShardMessage::Update {
                    update: update.clone(),
                    applied: applied.clone(),
                };
                if inbox.send_async(message).await.is_ok() {
                    expected += 1;
                }
            }
        }
        drop(applied);
        self.apply_update(update.clone());
        for _ in 0..expected {
            // A shard that stopped drops its sender; the loop then ends early.
            if acknowledgements.recv_async().await.is_err() {
                break;
            }
        }
    }

    // -------------------------------------------------------------------------------
    // Inbox

    /// Serves the inbox until [`ShardMessage::Shutdown`] or every sender is gone.
    pub async fn serve_inbox(self: Rc<Self>, inbox: flume::Receiver<ShardMessage>) {
        while let Ok(message) = inbox.recv_async().await {
            match message {
                ShardMessage::Data { op, reply } => {
                    let shard = self.clone();
                    glommio::spawn_local(async move {
                        let _ = reply.send(shard.execute_data(op).await);
                    })
                    .detach();
                }
                ShardMessage::Control { op, reply } => {
                    let Some(control) = self.control() else {
                        let _ = reply.send(ControlReply::Failed("not shard 0".to_owned()));
                        continue;
                    };
                    glommio::spawn_local(async move {
                        let _ = reply.send(control.execute(op).await);
                    })
                    .detach();
                }
                ShardMessage::Update { update, applied } => {
                    self.apply_update(update);
                    let _ = applied.send(());
                }
                ShardMessage::Push {
                    connection_id,
                    command,
                } => self.push_local(connection_id, command),
                ShardMessage::Call {
                    connection_id,
                    command,
                    reply,
                } => self.call_local(connection_id, command, reply),
                ShardMessage::Shutdown => break,
            }
        }
    }

    /// Posts [`ShardMessage::Shutdown`] to every other shard's inbox.
    pub async fn stop_other_inboxes(&self) {
        for (target, inbox) in self.inboxes.iter().enumerate() {
            if target != usize::from(self.index) {
                let _ = inbox.send_async(ShardMessage::Shutdown).await;
            }
        }
    }

    fn apply_update(&self, update: ControlUpdate) {
        match update {
            ControlUpdate::TopicPut { topic, revision } => self.learn_topic(topic, revision),
            ControlUpdate::TopicDeleted { topic, revision } => {
                self.topics.borrow_mut().apply(&topic, revision, None);
                self.store.delete_topic(&topic);
                self.offsets.borrow_mut().remove_topic(&topic);
            }
            ControlUpdate::Config(config) => {
                *self.config.borrow_mut() = Rc::new((*config).clone());
            }
            ControlUpdate::Subscriptions { group, topics } => {
                let mut subscriptions = self.subscriptions.borrow_mut();
                if topics.is_empty() {
                    subscriptions.remove(&group);
                } else {
                    subscriptions.insert(group, topics.into_iter().collect());
                }
            }
        }
    }

    // -------------------------------------------------------------------------------
    // Connections

    /// Registers a connection's writer; `None` when this shard is at its connection limit.
    pub fn add_connection(&self, sender: Rc<LocalSender<Outbound>>) -> Option<u64> {
        let mut connections = self.connections.borrow_mut();
        if connections.len() >= self.config().connections_per_shard_max() as usize {
            return None;
        }
        let id = self.next_connection_id.get();
        self.next_connection_id.set(id + 1);
        connections.insert(id, sender);
        Some(id)
    }

    /// Asks every connection of this shard to close (shutdown).
    pub fn close_connections(&self) {
        for sender in self.connections.borrow().values() {
            let _ = sender.try_send(Outbound::Close);
        }
    }

    #[must_use]
    pub fn connection_count(&self) -> usize {
        self.connections.borrow().len()
    }

    pub fn remove_connection(&self, id: u64) {
        self.connections.borrow_mut().remove(&id);
        // Dropping the senders tells waiting callers the client is gone.
        self.client_calls
            .borrow_mut()
            .retain(|(connection_id, _), _| *connection_id != id);
    }

    // -------------------------------------------------------------------------------
    // Data plane

    /// Executes an operation on a queue this shard owns.
    pub async fn execute_data(self: &Rc<Self>, op: DataOp) -> DataReply {
        match op {
            DataOp::Append { messages } => self.append(messages).await,
            DataOp::Pull(query) => self.pull(query).await,
            DataOp::QueryOffset {
                topic,
                group,
                queue_id,
            } => {
                let committed = self.offsets.borrow().get(&topic, &group, queue_id);
                DataReply::ConsumerOffset {
                    committed,
                    min_offset: self.store.min_offset(&topic, queue_id),
                    max_offset: self.store.max_offset(&topic, queue_id),
                }
            }
            DataOp::CommitOffset {
                topic,
                group,
                queue_id,
                offset,
            } => {
                self.offsets
                    .borrow_mut()
                    .commit(&topic, &group, queue_id, offset);
                DataReply::Done
            }
            DataOp::MaxOffset { topic, queue_id } => {
                DataReply::Offset(self.store.max_offset(&topic, queue_id))
            }
            DataOp::MinOffset { topic, queue_id } => {
                DataReply::Offset(self.store.min_offset(&topic, queue_id))
            }
            DataOp::SearchOffset {
                topic,
                queue_id,
                timestamp_ms,
                boundary,
            } => match self
                .store
                .offset_by_time(&topic, queue_id, timestamp_ms, boundary)
                .await
            {
                Ok(offset) => DataReply::Offset(offset),
                Err(error) => DataReply::Failed(error.to_string()),
            },
            DataOp::EarliestStoreTime { topic, queue_id } => {
                match self.store.earliest_store_time(&topic, queue_id).await {
                    Ok(time) => DataReply::Timestamp(time),
                    Err(error) => DataReply::Failed(error.to_string()),
                }
            }
            DataOp::ReadAt { physical_offset } => match self.store.read_at(physical_offset).await {
                Ok(record) => DataReply::Record(record),
                Err(error) => DataReply::Failed(error.to_string()),
            },
            DataOp::QueryByKey {
                topic,
                key,
                max_count,
                begin_ms,
                end_ms,
            } => match self
                .store
                .query_by_key(&topic, &key, max_count, begin_ms, end_ms)
                .await
            {
                Ok(records) => DataReply::Records {
                    records,
                    visible_offset: self.store.stats().visible_offset,
                },
                Err(error) => DataReply::Failed(error.to_string()),
            },
            DataOp::QueueStats {
                topic,
                group,
                queue_ids,
            } => {
                crate::handlers::admin_stats::queue_stats(
                    self,
                    &topic,
                    group.as_deref(),
                    &queue_ids,
                )
                .await
            }
            DataOp::GroupTopics { group } => {
                DataReply::Topics(self.offsets.borrow().topics_of_group(&group))
            }
            DataOp::TopicGroups { topic } => {
                DataReply::Topics(self.offsets.borrow().groups_of_topic(&topic))
            }
            DataOp::OffsetsPeek => DataReply::Offsets {
                dirty: false,
                entries: self.offsets.borrow().entries(),
            },
            DataOp::RemoveGroupOffsets { group } => {
                self.offsets.borrow_mut().remove_group(&group);
                DataReply::Done
            }
            DataOp::OffsetsSnapshot => {
                let (dirty, entries) = self.offsets.borrow_mut().snapshot();
                DataReply::Offsets { dirty, entries }
            }
            DataOp::Stats => DataReply::Stats(self.stats()),
            DataOp::DelayProgress => DataReply::DelayProgress(
                self.delay_progress
                    .borrow()
                    .as_ref()
                    .map(|progress| progress.borrow().iter().map(|(l, o)| (*l, *o)).collect())
                    .unwrap_or_default(),
            ),
        }
    }

    async fn append(&self, messages: Vec<crate::store::MessageToStore>) -> DataReply {
        debug_assert!(messages
            .iter()
            .all(|message| self.owner_of(&message.topic, message.queue_id) == self.index));
        let count = messages.len() as u64;
        let queue = messages
            .first()
            .map(|message| (message.topic.clone(), message.queue_id));
        let result = if messages.len() == 1 {
            let message = messages.into_iter().next().expect("one message");
            self.store.append(message).await.map(|result| vec![result])
        } else {
            self.store.append_batch(messages).await
        };
        if result.is_ok() {
            self.counters.put.set(self.counters.put.get() + count);
            if let Some((topic, queue_id)) = queue {
                self.long_poll.notify(&topic, queue_id);
            }
        }
        DataReply::Appended(result)
    }

    async fn pull(&self, query: PullQuery) -> DataReply {
        debug_assert_eq!(self.owner_of(&query.topic, query.queue_id), self.index);
        if let Some(offset) = query.commit_offset {
            self.offsets
                .borrow_mut()
                .commit(&query.topic, &query.group, query.queue_id, offset);
        }
        let outcome = match self.read(&query).await {
            Ok(outcome) => outcome,
            Err(reply) => return reply,
        };
        let waiting = matches!(
            outcome.status,
            ReadStatus::OffsetFoundNull | ReadStatus::OffsetOverflowOne
        ) || (outcome.status == ReadStatus::NoMessageInQueue
            && query.queue_offset == 0);
        if !waiting || query.suspend_ms == 0 {
            return DataReply::Pulled(outcome);
        }
        if self.long_poll.suspended.get() >= self.config().pull_suspended_max {
            return DataReply::Busy(format!(
                "[PULL_SUSPEND_FULL]system busy, {} pulls already suspended on shard {}",
                self.long_poll.suspended.get(),
                self.index
            ));
        }
        self.long_poll
            .suspended
            .set(self.long_poll.suspended.get() + 1);
        let arrived = self.wait_for_arrival(&query).await;
        self.long_poll
            .suspended
            .set(self.long_poll.suspended.get() - 1);
        if !arrived {
            return DataReply::Pulled(outcome);
        }
        match self.read(&query).await {
            Ok(outcome) => DataReply::Pulled(outcome),
            Err(reply) => reply,
        }
    }

    async fn read(&self, query: &PullQuery) -> Result<PullOutcome, DataReply> {
        let result = self
            .store
            .read(
                &query.topic,
                query.queue_id,
                query.queue_offset,
                query.max_count,
                query.max_bytes,
                &query.filter,
            )
            .await
            .map_err(|error| DataReply::Failed(error.to_string()))?;
        self.counters
            .got
            .set(self.counters.got.get() + result.records.len() as u64);
        Ok(PullOutcome {
            status: result.status,
            records: result.records,
            next_begin_offset: result.next_begin_offset,
            min_offset: result.min_offset,
            max_offset: result.max_offset,
        })
    }

    /// Waits until the queue holds a message past the pulled offset, or the suspension ends.
    async fn wait_for_arrival(&self, query: &PullQuery) -> bool {
        let deadline = Instant::now() + Duration::from_millis(query.suspend_ms);
        let key = (query.topic.clone(), query.queue_id);
        loop {
            if self.store.max_offset(&query.topic, query.queue_id) > query.queue_offset {
                return true;
            }
            let Some(remaining) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            let id = self.long_poll.next_waiter.get();
            self.long_poll.next_waiter.set(id + 1);
            let arrival = Arrival {
                long_poll: &self.long_poll,
                seen: self.long_poll.generation(&key),
                key: key.clone(),
                id,
            };
            let woke = async {
                arrival.await;
                true
            }
            .or(async {
                glommio::timer::sleep(remaining).await;
                false
            })
            .await;
            if !woke {
                return self.store.max_offset(&query.topic, query.queue_id) > query.queue_offset;
            }
        }
    }

    /// Takes a 10 s sample of the counters (called by a timer).
    pub fn sample_counters(&self) {
        let mut samples = self.counters.samples.borrow_mut();
        samples.push_back((self.counters.put.get(), self.counters.got.get()));
        while samples.len() > 61 {
            samples.pop_front();
        }
    }

    fn stats(&self) -> ShardStats {
        let samples = self.counters.samples.borrow();
        let back = |steps: usize| -> (u64, u64) {
            samples
                .len()
                .checked_sub(steps)
                .and_then(|index| samples.get(index))
                .copied()
                .or_else(|| samples.front().copied())
                .unwrap_or((0, 0))
        };
        let (p1, g1) = back(1);
        let (p6, g6) = back(6);
        let (p60, g60) = back(60);
        let store = self.store.stats();
        ShardStats {
            messages_put: self.counters.put.get(),
            messages_got: self.counters.got.get(),
            put_history: [p1, p6, p60],
            got_history: [g1, g6, g60],
            commit_log_min_offset: store.min_offset,
            commit_log_max_offset: store.write_offset,
            suspended_pulls: self.long_poll.suspended.get(),
            connections: u32::try_from(self.connections.borrow().len()).unwrap_or(u32::MAX),
        }
    }
}
