//! [`LitePullConsumer`] (RocketMQ's `DefaultLitePullConsumer`): the application calls
//! [`LitePullConsumer::poll`]. Queues come from [`LitePullConsumer::subscribe`] (rebalanced
//! within the group like a push consumer) or [`LitePullConsumer::assign`] (fixed).
//! A pull task per queue fills a shared bounded buffer; [`LitePullConsumer::seek`] bumps the
//! queue's generation so buffered and in-flight messages from before the seek are dropped.
//! Offsets advance when `poll` returns messages and are committed every
//! `auto_commit_interval` (or by [`LitePullConsumer::commit`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use protocol::body::heartbeat::{ConsumeType, ConsumerData};
use tokio::sync::mpsc;

use crate::config::ClientConfig;
use crate::consumer::allocate::{AllocateAveragely, AllocateStrategy};
use crate::consumer::offset_store::{default_local_dir, OffsetStore};
use crate::consumer::pull::{self, PullArgs, PullStatus};
use crate::consumer::subscription::{Expression, Subscription};
use crate::consumer::{ConsumeFromWhere, MessageModel};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerRegistration};
use crate::message::{MessageExt, MessageQueue};

/// Lite pull consumer settings.
#[derive(Clone)]
pub struct LitePullOptions {
    pub group: String,
    pub client: ClientConfig,
    /// Default: clustering.
    pub message_model: MessageModel,
    /// Default: last offset.
    pub consume_from_where: ConsumeFromWhere,
    /// Default: [`AllocateAveragely`].
    pub allocate_strategy: Arc<dyn AllocateStrategy>,
    /// Messages per pull. Default: 10.
    pub pull_batch_size: i32,
    /// Messages `poll` returns at most. Default: 10.
    pub poll_batch_size: usize,
    /// Buffered pulls (of up to `pull_batch_size` each) across all queues. Default: 256.
    pub buffered_pulls_max: usize,
    /// Default: true.
    pub auto_commit: bool,
    /// Default: 5 s.
    pub auto_commit_interval: Duration,
    /// How long the broker may hold a pull. Default: 20 000 ms.
    pub broker_suspend_ms: i64,
    /// Subscribe-mode rebalance interval. Default: 20 s.
    pub rebalance_interval: Duration,
    /// Broadcasting offset directory. Default: `~/.rocketmq_offsets`.
    pub local_offset_dir: Option<std::path::PathBuf>,
}

impl LitePullOptions {
    #[must_use]
    pub fn new(group: impl Into<String>, namesrv_addr: Option<&str>) -> LitePullOptions {
        LitePullOptions {
            group: group.into(),
            client: ClientConfig {
                namesrv_addr: namesrv_addr.map(str::to_owned),
                ..ClientConfig::default()
            },
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::LastOffset,
            allocate_strategy: Arc::new(AllocateAveragely),
            pull_batch_size: 10,
            poll_batch_size: 10,
            buffered_pulls_max: 256,
            auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            broker_suspend_ms: 20_000,
            rebalance_interval: Duration::from_secs(20),
            local_offset_dir: None,
        }
    }
}

#[derive(Debug)]
struct QueueState {
    /// Next offset to pull.
    pull_offset: AtomicI64,
    /// Next offset the application has not seen yet (what commit stores).
    consumed_offset: AtomicI64,
    generation: AtomicU64,
    stopped: std::sync::atomic::AtomicBool,
    /// Wakes the pull task out of a long poll after a seek or stop.
    interrupt: tokio::sync::Notify,
}

struct Batch {
    queue: MessageQueue,
    generation: u64,
    messages: Vec<MessageExt>,
}

struct LiteShared {
    options: LitePullOptions,
    instance: ClientInstance,
    subscriptions: RwLock<BTreeMap<String, Subscription>>,
    queues: Mutex<HashMap<MessageQueue, Arc<QueueState>>>,
    offsets: OffsetStore,
    buffer_tx: mpsc::Sender<Batch>,
    subscribe_mode: bool,
    /// One rebalance (or assign) at a time: two concurrent ones would both start a pull
    /// task for the same new queue and deliver its messages twice.
    rebalance_lock: tokio::sync::Mutex<()>,
}

/// A consumer the application polls.
pub struct LitePullConsumer {
    shared: Arc<LiteShared>,
    buffer_rx: tokio::sync::Mutex<mpsc::Receiver<Batch>>,
    /// Messages of the last batch not yet returned by `poll`.
    pending: Mutex<Vec<MessageExt>>,
    last_commit: Mutex<tokio::time::Instant>,
}

impl LitePullConsumer {
    /// Starts a consumer in subscribe mode (rebalanced within the group).
    ///
    /// # Errors
    /// No name server, invalid topic.
    pub async fn subscribe(
        options: LitePullOptions,
        subscriptions: &[(&str, Expression)],
    ) -> Result<LitePullConsumer> {
        let consumer = Self::create(options, true)?;
        {
            let mut subs = consumer
                .shared
                .subscriptions
                .write()
                .map_err(|_| ClientError::State("poisoned"))?;
            for (topic, expression) in subscriptions {
                crate::producer::validate_topic(topic)?;
                subs.insert(
                    (*topic).to_owned(),
                    Subscription::new(topic, expression.clone()),
                );
            }
        }
        for (topic, _) in subscriptions {
            let _ = consumer.shared.instance.update_route(topic).await;
        }
        consumer.shared.instance.send_heartbeat_all().await;
        consumer.shared.rebalance().await;
        spawn_rebalance(&consumer.shared);
        Ok(consumer)
    }

    /// Starts a consumer in assign mode; call [`LitePullConsumer::assign`].
    ///
    /// # Errors
    /// No name server.
    pub fn start_assigned(options: LitePullOptions) -> Result<LitePullConsumer> {
        Self::create(options, false)
    }

    fn create(options: LitePullOptions, subscribe_mode: bool) -> Result<LitePullConsumer> {
        if options.group.trim().is_empty() {
            return Err(ClientError::InvalidArgument(
                "consumer group is empty".into(),
            ));
        }
        let instance = ClientInstance::start(options.client.clone())?;
        let offsets = match options.message_model {
            MessageModel::Clustering => OffsetStore::remote(&options.group),
            MessageModel::Broadcasting => OffsetStore::local(
                options
                    .local_offset_dir
                    .clone()
                    .unwrap_or_else(default_local_dir),
                instance.client_id(),
                &options.group,
            ),
        };
        let (buffer_tx, buffer_rx) = mpsc::channel(options.buffered_pulls_max.max(1));
        let shared = Arc::new(LiteShared {
            options,
            instance: instance.clone(),
            subscriptions: RwLock::new(BTreeMap::new()),
            queues: Mutex::new(HashMap::new()),
            offsets,
            buffer_tx,
            subscribe_mode,
            rebalance_lock: tokio::sync::Mutex::new(()),
        });
        let weak = Arc::downgrade(&shared);
        let (events, mut events_rx) = mpsc::unbounded_channel();
        instance.register_consumer(
            &shared.options.group,
            ConsumerRegistration {
                data: Arc::new(move || {
                    weak.upgrade()
                        .map(|s| s.consumer_data())
                        .unwrap_or_else(|| ConsumerData {
                            consume_type: Some(ConsumeType::ConsumeActively),
                            message_model: Some(MessageModel::Clustering.to_wire()),
                            consume_from_where: Some(ConsumeFromWhere::LastOffset.to_wire()),
                            ..ConsumerData::default()
                        })
                }),
                events,
                consume_directly: None,
            },
        );
        let weak = Arc::downgrade(&shared);
        tokio::spawn(async move {
            while events_rx.recv().await.is_some() {
                let Some(shared) = weak.upgrade() else { return };
                if shared.subscribe_mode {
                    shared.rebalance().await;
                }
            }
        });
        Ok(LitePullConsumer {
            shared,
            buffer_rx: tokio::sync::Mutex::new(buffer_rx),
            pending: Mutex::new(Vec::new()),
            last_commit: Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Pulls from exactly these queues (assign mode).
    ///
    /// # Errors
    /// [`ClientError::State`] in subscribe mode.
    pub async fn assign(&self, queues: Vec<MessageQueue>) -> Result<()> {
        if self.shared.subscribe_mode {
            return Err(ClientError::State("in subscribe mode"));
        }
        if let Ok(mut subs) = self.shared.subscriptions.write() {
            for mq in &queues {
                subs.entry(mq.topic.clone())
                    .or_insert_with(|| Subscription::new(&mq.topic, Expression::all()));
            }
        }
        for topic in queues
            .iter()
            .map(|mq| mq.topic.clone())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let _ = self.shared.instance.update_route(&topic).await;
        }
        self.shared.set_queues(&queues).await;
        Ok(())
    }

    /// The readable queues of `topic`.
    ///
    /// # Errors
    /// Route errors.
    pub async fn fetch_message_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        pull::readable_queues(&self.shared.instance, topic).await
    }

    /// Queues currently pulled.
    #[must_use]
    pub fn assignment(&self) -> Vec<MessageQueue> {
        let mut queues: Vec<MessageQueue> = self
            .shared
            .queues
            .lock()
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default();
        queues.sort();
        queues
    }

    /// Up to `poll_batch_size` messages, waiting at most `timeout` for the first.
    pub async fn poll(&self, timeout: Duration) -> Vec<MessageExt> {
        let limit = self.shared.options.poll_batch_size.max(1);
        let mut out = self.take_pending(limit);
        if out.is_empty() {
            let deadline = tokio::time::Instant::now() + timeout;
            let mut receiver = self.buffer_rx.lock().await;
            while out.is_empty() {
                let batch = match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(batch)) => batch,
                    _ => break,
                };
                if !self.shared.is_current(&batch) {
                    continue;
                }
                let mut messages = batch.messages;
                if messages.len() > limit {
                    let rest = messages.split_off(limit);
                    if let Ok(mut pending) = self.pending.lock() {
                        pending.extend(rest);
                    }
                }
                out = messages;
            }
        }
        for message in &out {
            self.shared
                .consumed(&message.queue(), message.queue_offset + 1);
        }
        self.maybe_auto_commit().await;
        out
    }

    fn take_pending(&self, limit: usize) -> Vec<MessageExt> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let mut taken: Vec<MessageExt> = Vec::new();
        while taken.len() < limit && !pending.is_empty() {
            let message = pending.remove(0);
            let current = self
                .shared
                .queue_state(&message.queue())
                .is_some_and(|state| {
                    state.consumed_offset.load(Ordering::Acquire) <= message.queue_offset
                });
            if current {
                taken.push(message);
            }
        }
        taken
    }

    async fn maybe_auto_commit(&self) {
        if !self.shared.options.auto_commit {
            return;
        }
        let due = self
            .last_commit
            .lock()
            .map(|mut last| {
                let due = last.elapsed() >= self.shared.options.auto_commit_interval;
                if due {
                    *last = tokio::time::Instant::now();
                }
                due
            })
            .unwrap_or(false);
        if due {
            self.commit().await;
        }
    }

    /// Next `poll` returns messages of `queue` from `offset`.
    ///
    /// # Errors
    /// [`ClientError::InvalidArgument`] if the queue is not assigned.
    pub fn seek(&self, queue: &MessageQueue, offset: i64) -> Result<()> {
        let state = self
            .shared
            .queue_state(queue)
            .ok_or_else(|| ClientError::InvalidArgument(format!("{queue} is not assigned")))?;
        state.generation.fetch_add(1, Ordering::AcqRel);
        state.pull_offset.store(offset, Ordering::Release);
        state.consumed_offset.store(offset, Ordering::Release);
        state.interrupt.notify_one();
        if let Ok(mut pending) = self.pending.lock() {
            pending.retain(|message| message.queue() != *queue);
        }
        self.shared.offsets.update(queue, offset, false);
        Ok(())
    }

    /// Seeks to the queue's first (`true`) or last offset.
    ///
    /// # Errors
    /// Broker errors or an unassigned queue.
    pub async fn seek_to(&self, queue: &MessageQueue, begin: bool) -> Result<()> {
        let offset = if begin {
            pull::queue_offset(&self.shared.instance, queue, false).await?
        } else {
            pull::queue_offset(&self.shared.instance, queue, true).await?
        };
        self.seek(queue, offset)
    }

    /// Stores the consumed offsets of every assigned queue now.
    pub async fn commit(&self) {
        let shared = &self.shared;
        let states: Vec<(MessageQueue, i64)> = shared
            .queues
            .lock()
            .map(|table| {
                table
                    .iter()
                    .map(|(mq, state)| (mq.clone(), state.consumed_offset.load(Ordering::Acquire)))
                    .collect()
            })
            .unwrap_or_default();
        for (mq, offset) in &states {
            shared.offsets.update(mq, *offset, false);
        }
        shared.offsets.persist(&shared.instance, None).await;
    }

    /// The committed offset of `queue` (from the broker in clustering mode).
    ///
    /// # Errors
    /// Broker errors.
    pub async fn committed(&self, queue: &MessageQueue) -> Result<Option<i64>> {
        self.shared
            .offsets
            .read_store(&self.shared.instance, queue)
            .await
    }

    /// Commits (if auto-commit), stops the pull tasks and leaves the group.
    pub async fn shutdown(&self) {
        if self.shared.options.auto_commit {
            self.commit().await;
        }
        if let Ok(mut table) = self.shared.queues.lock() {
            for state in table.values() {
                state.stopped.store(true, Ordering::Release);
                state.interrupt.notify_one();
            }
            table.clear();
        }
        self.shared.instance.shutdown().await;
    }
}

fn spawn_rebalance(shared: &Arc<LiteShared>) {
    let weak = Arc::downgrade(shared);
    let instance = shared.instance.clone();
    instance.spawn_periodic(
        shared.options.rebalance_interval,
        instance.downgrade(),
        move |_| {
            let shared = weak.upgrade();
            async move {
                if let Some(shared) = shared {
                    shared.rebalance().await;
                }
            }
        },
    );
}

impl LiteShared {
    fn consumer_data(&self) -> ConsumerData {
        let subscription_data_set = if self.subscribe_mode {
            self.subscriptions
                .read()
                .map(|subs| subs.values().map(Subscription::to_wire).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        ConsumerData {
            group_name: self.options.group.clone(),
            consume_type: Some(ConsumeType::ConsumeActively),
            message_model: Some(self.options.message_model.to_wire()),
            consume_from_where: Some(self.options.consume_from_where.to_wire()),
            subscription_data_set,
            unit_mode: false,
        }
    }

    fn queue_state(&self, queue: &MessageQueue) -> Option<Arc<QueueState>> {
        self.queues.lock().ok()?.get(queue).cloned()
    }

    fn is_current(&self, batch: &Batch) -> bool {
        self.queue_state(&batch.queue)
            .is_some_and(|state| state.generation.load(Ordering::Acquire) == batch.generation)
    }

    fn consumed(&self, queue: &MessageQueue, next: i64) {
        if let Some(state) = self.queue_state(queue) {
            state.consumed_offset.fetch_max(next, Ordering::AcqRel);
        }
    }

    async fn rebalance(self: &Arc<Self>) {
        let topics: Vec<String> = self
            .subscriptions
            .read()
            .map(|subs| subs.keys().cloned().collect())
            .unwrap_or_default();
        let mut wanted = Vec::new();
        for topic in topics {
            let Ok(all) = pull::readable_queues(&self.instance, &topic).await else {
                continue;
            };
            if self.options.message_model == MessageModel::Broadcasting {
                wanted.extend(all);
                continue;
            }
            let Ok(clients) = pull::consumer_ids(&self.instance, &self.options.group, &topic).await
            else {
                continue;
            };
            wanted.extend(self.options.allocate_strategy.allocate(
                self.instance.client_id(),
                &all,
                &clients,
            ));
        }
        self.set_queues(&wanted).await;
    }

    async fn set_queues(self: &Arc<Self>, wanted: &[MessageQueue]) {
        let _guard = self.rebalance_lock.lock().await;
        let removed: Vec<MessageQueue> = self
            .queues
            .lock()
            .map(|mut table| {
                let gone: Vec<MessageQueue> = table
                    .keys()
                    .filter(|mq| !wanted.contains(mq))
                    .cloned()
                    .collect();
                for mq in &gone {
                    if let Some(state) = table.remove(mq) {
                        state.stopped.store(true, Ordering::Release);
                        state.interrupt.notify_one();
                        self.offsets.update(
                            mq,
                            state.consumed_offset.load(Ordering::Acquire),
                            false,
                        );
                    }
                }
                gone
            })
            .unwrap_or_default();
        if !removed.is_empty() {
            self.offsets.persist(&self.instance, Some(&removed)).await;
            for mq in &removed {
                self.offsets.remove(mq);
            }
        }
        for mq in wanted {
            if self.queue_state(mq).is_some() {
                continue;
            }
            let Ok(offset) = self.start_offset(mq).await else {
                continue;
            };
            let state = Arc::new(QueueState {
                pull_offset: AtomicI64::new(offset),
                consumed_offset: AtomicI64::new(offset),
                generation: AtomicU64::new(0),
                stopped: std::sync::atomic::AtomicBool::new(false),
                interrupt: tokio::sync::Notify::new(),
            });
            if let Ok(mut table) = self.queues.lock() {
                table.insert(mq.clone(), state.clone());
            }
            tokio::spawn(pull_loop(self.clone(), mq.clone(), state));
        }
    }

    async fn start_offset(&self, mq: &MessageQueue) -> Result<i64> {
        if let Some(offset) = self.offsets.read_store(&self.instance, mq).await? {
            if offset >= 0 {
                return Ok(offset);
            }
        }
        match self.options.consume_from_where {
            ConsumeFromWhere::LastOffset => pull::queue_offset(&self.instance, mq, true).await,
            ConsumeFromWhere::FirstOffset => pull::queue_offset(&self.instance, mq, false).await,
            ConsumeFromWhere::Timestamp(at) => pull::search_offset(&self.instance, mq, at).await,
        }
    }
}

async fn pull_loop(shared: Arc<LiteShared>, mq: MessageQueue, state: Arc<QueueState>) {
    let mut stop = shared.instance.shutdown_signal();
    let subscription = shared
        .subscriptions
        .read()
        .ok()
        .and_then(|subs| subs.get(&mq.topic).cloned())
        .unwrap_or_else(|| Subscription::new(&mq.topic, Expression::all()));
    loop {
        if state.stopped.load(Ordering::Acquire) || shared.instance.is_shut_down() {
            return;
        }
        let generation = state.generation.load(Ordering::Acquire);
        let offset = state.pull_offset.load(Ordering::Acquire);
        let args = PullArgs {
            group: &shared.options.group,
            queue: &mq,
            offset,
            max_count: shared.options.pull_batch_size,
            sys_flag: pull::sys_flag::SUSPEND
                | pull::sys_flag::SUBSCRIPTION
                | pull::sys_flag::LITE_PULL,
            commit_offset: 0,
            suspend_ms: shared.options.broker_suspend_ms,
            subscription: &subscription,
            timeout: Duration::from_millis(
                u64::try_from(shared.options.broker_suspend_ms).unwrap_or(20_000) + 10_000,
            ),
        };
        let outcome = tokio::select! {
            outcome = pull::pull(&shared.instance, &args) => outcome,
            () = state.interrupt.notified() => continue,
            _ = stop.changed() => return,
        };
        if state.generation.load(Ordering::Acquire) != generation {
            continue;
        }
        match outcome {
            Ok(result) => {
                let _ = state.pull_offset.compare_exchange(
                    offset,
                    result.next_begin_offset,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
                if result.status == PullStatus::Found && !result.messages.is_empty() {
                    let batch = Batch {
                        queue: mq.clone(),
                        generation,
                        messages: result.messages,
                    };
                    tokio::select! {
                        sent = shared.buffer_tx.send(batch) => if sent.is_err() { return },
                        _ = stop.changed() => return,
                    }
                }
            }
            Err(error) => {
                tracing::debug!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, %error, "lite pull failed");
                tokio::select! { () = tokio::time::sleep(Duration::from_secs(1)) => {}, _ = stop.changed() => return }
            }
        }
    }
}
