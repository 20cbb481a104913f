//! [`PushConsumer`]: rebalance assigns queues; each assigned queue has a pull task that
//! long-polls the broker (suspend 15 s) into its [`ProcessQueue`] under flow control, and
//! the listener is fed from there ([`consume`]).
//!
//! Tasks (all stop at shutdown): rebalance every `rebalance_interval` and on
//! NOTIFY_CONSUMER_IDS_CHANGED; offset persistence every `persist_offset_interval`;
//! orderly clustering: lock renewal every `lock_interval`; concurrent: expired-message
//! cleanup every `consume_timeout`; one pull task per assigned queue.

mod consume;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use protocol::body::heartbeat::{ConsumeType, ConsumerData};
use tokio::sync::{mpsc, Semaphore};

use crate::consumer::offset_store::{default_local_dir, OffsetStore};
use crate::consumer::process_queue::ProcessQueue;
use crate::consumer::pull::{self, PullArgs, PullStatus};
use crate::consumer::subscription::{Expression, Subscription};
use crate::consumer::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeFromWhere, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, Listener, MessageModel, PushConsumerOptions,
};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerEvent, ConsumerRegistration};
use crate::message::{retry_topic, MessageExt, MessageQueue, RETRY_GROUP_TOPIC_PREFIX};

/// Wait after a failed pull (`pullTimeDelayMillsWhenException`).
const PULL_DELAY_ON_ERROR: Duration = Duration::from_millis(3000);
/// Wait when flow control pauses a queue.
const PULL_DELAY_FLOW_CONTROL: Duration = Duration::from_millis(50);
/// How long shutdown waits for running listener calls.
const SHUTDOWN_CONSUME_WAIT: Duration = Duration::from_secs(3);
/// Orderly: wait for the lock before pulling an unlocked queue.
const PULL_DELAY_NOT_LOCKED: Duration = Duration::from_millis(3000);

pub(crate) struct PushShared {
    pub(crate) options: PushConsumerOptions,
    pub(crate) instance: ClientInstance,
    pub(crate) subscriptions: RwLock<BTreeMap<String, Subscription>>,
    pub(crate) listener: Listener,
    pub(crate) queues: Mutex<HashMap<MessageQueue, Arc<ProcessQueue>>>,
    pub(crate) offsets: OffsetStore,
    pub(crate) consume_permits: Arc<Semaphore>,
    rebalance_lock: tokio::sync::Mutex<()>,
}

/// One assigned queue as [`PushConsumer::process_queue_stats`] sees it (a subset of
/// Java's `ProcessQueueInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessQueueStats {
    pub queue: MessageQueue,
    /// Pulled and not yet consumed (orderly: including the batch in the listener).
    pub cached_message_count: usize,
    /// Body bytes of those messages.
    pub cached_message_bytes: usize,
    /// Highest minus lowest cached offset (orderly: not counting the batch in the listener).
    pub cached_offset_span: i64,
    /// Orderly clustering: the broker lock is held and younger than the client-side limit.
    pub locked: bool,
}

/// A push consumer. [`PushConsumer::start`] it after subscribing; [`PushConsumer::shutdown`]
/// persists offsets and leaves the group.
pub struct PushConsumer {
    options: PushConsumerOptions,
    subscriptions: BTreeMap<String, Subscription>,
    listener: Option<Listener>,
    shared: Option<Arc<PushShared>>,
}

impl PushConsumer {
    /// A consumer that is not started yet.
    #[must_use]
    pub fn new(options: PushConsumerOptions) -> PushConsumer {
        PushConsumer {
            options,
            subscriptions: BTreeMap::new(),
            listener: None,
            shared: None,
        }
    }

    /// Subscribes to `topic` (before start).
    ///
    /// # Errors
    /// [`ClientError::State`] after start, or an invalid topic.
    pub fn subscribe(&mut self, topic: &str, expression: Expression) -> Result<()> {
        if self.shared.is_some() {
            return Err(ClientError::State("already started"));
        }
        crate::producer::validate_topic(topic)?;
        self.subscriptions
            .insert(topic.to_owned(), Subscription::new(topic, expression));
        Ok(())
    }

    /// Sets the listener (before start).
    pub fn register_listener(&mut self, listener: Listener) {
        self.listener = Some(listener);
    }

    /// The client id, once started.
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        self.shared
            .as_ref()
            .map(|shared| shared.instance.client_id())
    }

    /// Queues currently assigned to this consumer.
    #[must_use]
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        let Some(shared) = &self.shared else {
            return Vec::new();
        };
        let mut queues: Vec<MessageQueue> = shared
            .queues
            .lock()
            .map(|table| table.keys().cloned().collect())
            .unwrap_or_default();
        queues.sort();
        queues
    }

    /// A snapshot of every assigned queue's process queue, sorted by queue: what is cached
    /// between the pull and the listener (the flow-control inputs) and the lock state.
    #[must_use]
    pub fn process_queue_stats(&self) -> Vec<ProcessQueueStats> {
        let Some(shared) = &self.shared else {
            return Vec::new();
        };
        let mut stats: Vec<ProcessQueueStats> = shared
            .queues
            .lock()
            .map(|table| {
                table
                    .iter()
                    .map(|(queue, pq)| ProcessQueueStats {
                        queue: queue.clone(),
                        cached_message_count: pq.message_count(),
                        cached_message_bytes: pq.message_bytes(),
                        cached_offset_span: pq.offset_span(),
                        locked: pq.holds_lock(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        stats.sort_by(|a, b| a.queue.cmp(&b.queue));
        stats
    }

    /// Starts heartbeats, rebalancing, pulling and consuming.
    ///
    /// # Errors
    /// Invalid options, no listener, no subscription, no name server.
    pub async fn start(&mut self) -> Result<()> {
        if self.shared.is_some() {
            return Err(ClientError::State("already started"));
        }
        self.options.validate()?;
        let listener = self
            .listener
            .clone()
            .ok_or_else(|| ClientError::InvalidArgument("no listener registered".into()))?;
        if self.subscriptions.is_empty() {
            return Err(ClientError::InvalidArgument("no subscription".into()));
        }
        let mut subscriptions = self.subscriptions.clone();
        if self.options.message_model == MessageModel::Clustering {
            let retry = retry_topic(&self.options.group);
            subscriptions.insert(retry.clone(), Subscription::new(&retry, Expression::all()));
        }
        let instance = ClientInstance::start(self.options.client.clone())?;
        let offsets = match self.options.message_model {
            MessageModel::Clustering => OffsetStore::remote(&self.options.group),
            MessageModel::Broadcasting => OffsetStore::local(
                self.options
                    .local_offset_dir
                    .clone()
                    .unwrap_or_else(default_local_dir),
                instance.client_id(),
                &self.options.group,
            ),
        };
        let shared = Arc::new(PushShared {
            consume_permits: Arc::new(Semaphore::new(self.options.consume_thread_max)),
            options: self.options.clone(),
            instance: instance.clone(),
            subscriptions: RwLock::new(subscriptions),
            listener,
            queues: Mutex::new(HashMap::new()),
            offsets,
            rebalance_lock: tokio::sync::Mutex::new(()),
        });
        let (events, events_rx) = mpsc::unbounded_channel();
        let data_source = Arc::downgrade(&shared);
        instance.register_consumer(
            &self.options.group,
            ConsumerRegistration {
                data: Arc::new(move || {
                    data_source
                        .upgrade()
                        .map(|shared| shared.consumer_data())
                        .unwrap_or_else(empty_consumer_data)
                }),
                events,
                consume_directly: Some(consume_directly(&shared.listener)),
            },
        );
        let topics: Vec<String> = shared.subscription_topics();
        let mut missing = Vec::new();
        for topic in &topics {
            if instance.update_route(topic).await.is_err() {
                instance.watch_topic(topic);
                missing.push(topic.clone());
            }
        }
        instance.send_heartbeat_all().await;
        // The first heartbeat makes the broker create and register `%RETRY%group`: look
        // again so retries are consumed from the start, not after the next route poll.
        for topic in &missing {
            if let Err(error) = instance.update_route(topic).await {
                tracing::warn!(target: "client::consumer", topic = %topic, %error, "no route yet");
            }
        }
        shared.rebalance().await;
        spawn_tasks(&shared, events_rx);
        self.shared = Some(shared);
        Ok(())
    }

    /// Persists offsets, unlocks queues, leaves the group and closes connections.
    pub async fn shutdown(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // Let running listener calls finish and commit (bounded wait); holding every permit
        // also keeps new calls from starting. What they miss is redelivered later.
        let permits = u32::try_from(shared.options.consume_thread_max).unwrap_or(u32::MAX);
        let _quiesced = tokio::time::timeout(
            SHUTDOWN_CONSUME_WAIT,
            shared.consume_permits.clone().acquire_many_owned(permits),
        )
        .await;
        let queues: Vec<(MessageQueue, Arc<ProcessQueue>)> = shared
            .queues
            .lock()
            .map(|mut table| table.drain().collect())
            .unwrap_or_default();
        for (_, pq) in &queues {
            pq.set_dropped();
        }
        shared.offsets.persist(&shared.instance, None).await;
        if shared.is_orderly_clustering() {
            let owned: Vec<MessageQueue> = queues.into_iter().map(|(mq, _)| mq).collect();
            for (broker, mqs) in by_broker(&owned) {
                let _ = pull::unlock_batch(&shared.instance, &shared.options.group, &broker, &mqs)
                    .await;
            }
        }
        shared.instance.shutdown().await;
    }
}

fn empty_consumer_data() -> ConsumerData {
    ConsumerData {
        consume_type: Some(ConsumeType::ConsumePassively),
        message_model: Some(MessageModel::Clustering.to_wire()),
        consume_from_where: Some(ConsumeFromWhere::LastOffset.to_wire()),
        ..ConsumerData::default()
    }
}

pub(crate) fn by_broker(queues: &[MessageQueue]) -> BTreeMap<String, Vec<MessageQueue>> {
    let mut grouped: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
    for mq in queues {
        grouped
            .entry(mq.broker_name.clone())
            .or_default()
            .push(mq.clone());
    }
    grouped
}

fn spawn_tasks(shared: &Arc<PushShared>, mut events: mpsc::UnboundedReceiver<ConsumerEvent>) {
    let instance = shared.instance.clone();
    let weak = Arc::downgrade(shared);
    let mut stop = instance.shutdown_signal();
    let rebalance_interval = shared.options.rebalance_interval;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(
            tokio::time::Instant::now() + rebalance_interval,
            rebalance_interval,
        );
        loop {
            let event = tokio::select! {
                _ = ticker.tick() => None,
                event = events.recv() => match event { Some(event) => Some(event), None => return },
                _ = stop.changed() => return,
            };
            let Some(shared) = weak.upgrade() else { return };
            if let Some(ConsumerEvent::ResetOffset(offsets)) = event {
                shared.reset_offsets(offsets).await;
            }
            shared.rebalance().await;
        }
    });
    let periodic = |period: Duration, work: fn(Arc<PushShared>) -> futures_task::Task| {
        let weak = Arc::downgrade(shared);
        instance.spawn_periodic(period, instance.downgrade(), move |_| {
            let shared = weak.upgrade();
            async move {
                if let Some(shared) = shared {
                    work(shared).await;
                }
            }
        });
    };
    periodic(shared.options.persist_offset_interval, |shared| {
        Box::pin(async move { shared.offsets.persist(&shared.instance, None).await })
    });
    if shared.is_orderly_clustering() {
        periodic(shared.options.lock_interval, |shared| {
            Box::pin(async move { shared.lock_all().await })
        });
    }
    if matches!(shared.listener, Listener::Concurrently(_)) {
        periodic(shared.options.consume_timeout, |shared| {
            Box::pin(async move { shared.clean_expired().await })
        });
    }
}

/// Boxed futures for the periodic task table above.
mod futures_task {
    pub type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

impl PushShared {
    pub(crate) fn is_orderly_clustering(&self) -> bool {
        matches!(self.listener, Listener::Orderly(_))
            && self.options.message_model == MessageModel::Clustering
    }

    fn subscription_topics(&self) -> Vec<String> {
        self.subscriptions
            .read()
            .map(|subs| subs.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn subscription(&self, topic: &str) -> Option<Subscription> {
        self.subscriptions.read().ok()?.get(topic).cloned()
    }

    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.options.group.clone(),
            consume_type: Some(ConsumeType::ConsumePassively),
            message_model: Some(self.options.message_model.to_wire()),
            consume_from_where: Some(self.options.consume_from_where.to_wire()),
            subscription_data_set: self
                .subscriptions
                .read()
                .map(|subs| subs.values().map(Subscription::to_wire).collect())
                .unwrap_or_default(),
            unit_mode: false,
        }
    }

    /// Recomputes this client's queues for every subscribed topic.
    pub(crate) async fn rebalance(self: &Arc<Self>) {
        let _guard = self.rebalance_lock.lock().await;
        if self.instance.is_shut_down() {
            return;
        }
        let mut changed = false;
        for topic in self.subscription_topics() {
            match self.allocate(&topic).await {
                Ok(allocated) => changed |= self.update_queues(&topic, &allocated).await,
                Err(error) => {
                    tracing::debug!(target: "client::consumer", topic = %topic, %error, "rebalance skipped");
                }
            }
        }
        if changed {
            self.instance.send_heartbeat_all().await;
        }
    }

    async fn allocate(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let all = pull::readable_queues(&self.instance, topic).await?;
        if self.options.message_model == MessageModel::Broadcasting {
            return Ok(all);
        }
        let clients = pull::consumer_ids(&self.instance, &self.options.group, topic).await?;
        let mut allocated =
            self.options
                .allocate_strategy
                .allocate(self.instance.client_id(), &all, &clients);
        // A strategy that ignores its input (AllocateByConfig) answers the same list for
        // every topic, the retry topic included; keep only this topic's queues.
        allocated.retain(|mq| mq.topic == topic);
        allocated.sort();
        Ok(allocated)
    }

    /// Drops queues no longer assigned and starts the new ones; true if anything changed.
    async fn update_queues(self: &Arc<Self>, topic: &str, allocated: &[MessageQueue]) -> bool {
        let removed: Vec<(MessageQueue, Arc<ProcessQueue>)> = match self.queues.lock() {
            Ok(mut table) => {
                let gone: Vec<MessageQueue> = table
                    .keys()
                    .filter(|mq| mq.topic == topic && !allocated.contains(mq))
                    .cloned()
                    .collect();
                gone.into_iter()
                    .filter_map(|mq| table.remove(&mq).map(|pq| (mq, pq)))
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        let mut changed = !removed.is_empty();
        for (mq, pq) in &removed {
            pq.set_dropped();
            self.offsets
                .persist(&self.instance, Some(std::slice::from_ref(mq)))
                .await;
            self.offsets.remove(mq);
            if self.is_orderly_clustering() {
                let _ = pull::unlock_batch(
                    &self.instance,
                    &self.options.group,
                    &mq.broker_name,
                    std::slice::from_ref(mq),
                )
                .await;
            }
        }
        for mq in allocated {
            let known = self
                .queues
                .lock()
                .map(|table| table.contains_key(mq))
                .unwrap_or(true);
            if known {
                continue;
            }
            let pq = Arc::new(ProcessQueue::new());
            if self.is_orderly_clustering() {
                let locked = pull::lock_batch(
                    &self.instance,
                    &self.options.group,
                    &mq.broker_name,
                    std::slice::from_ref(mq),
                )
                .await;
                if !matches!(&locked, Ok(locked) if locked.contains(mq)) {
                    tracing::debug!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, ?locked, "queue not locked; retrying at next rebalance");
                    continue;
                }
                pq.set_locked(true);
            }
            let offset = match self.compute_pull_from_where(mq).await {
                Ok(offset) => offset,
                Err(error) => {
                    tracing::debug!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, %error, "no start offset yet");
                    continue;
                }
            };
            if let Ok(mut table) = self.queues.lock() {
                table.insert(mq.clone(), pq.clone());
            }
            changed = true;
            tokio::spawn(pull_loop(self.clone(), mq.clone(), pq, offset));
        }
        changed
    }

    /// The first offset to pull (RebalancePushImpl#computePullFromWhere).
    async fn compute_pull_from_where(&self, mq: &MessageQueue) -> Result<i64> {
        if let Some(offset) = self.offsets.read_store(&self.instance, mq).await? {
            if offset >= 0 {
                return Ok(offset);
            }
        }
        let is_retry = mq.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX);
        let offset = match self.options.consume_from_where {
            ConsumeFromWhere::LastOffset if is_retry => 0,
            ConsumeFromWhere::LastOffset => pull::queue_offset(&self.instance, mq, true).await?,
            ConsumeFromWhere::FirstOffset => 0,
            ConsumeFromWhere::Timestamp(_) if is_retry => {
                pull::queue_offset(&self.instance, mq, true).await?
            }
            ConsumeFromWhere::Timestamp(at) => pull::search_offset(&self.instance, mq, at).await?,
        };
        self.offsets.update(mq, offset, false);
        Ok(offset)
    }

    async fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) {
        for (mq, offset) in offsets {
            let dropped = self
                .queues
                .lock()
                .ok()
                .and_then(|mut table| table.remove(&mq));
            if let Some(pq) = dropped {
                pq.set_dropped();
            }
            self.offsets.update(&mq, offset, false);
            self.offsets
                .persist(&self.instance, Some(std::slice::from_ref(&mq)))
                .await;
        }
    }

    async fn lock_all(&self) {
        let owned: Vec<(MessageQueue, Arc<ProcessQueue>)> = self
            .queues
            .lock()
            .map(|table| {
                table
                    .iter()
                    .map(|(mq, pq)| (mq.clone(), pq.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let queues: Vec<MessageQueue> = owned.iter().map(|(mq, _)| mq.clone()).collect();
        for (broker, mqs) in by_broker(&queues) {
            let locked = pull::lock_batch(&self.instance, &self.options.group, &broker, &mqs)
                .await
                .unwrap_or_default();
            for (mq, pq) in owned.iter().filter(|(mq, _)| mq.broker_name == broker) {
                pq.set_locked(locked.contains(mq));
            }
        }
    }

    fn process_queue_full(&self, pq: &ProcessQueue) -> bool {
        let options = &self.options;
        pq.message_count() > options.pull_threshold_for_queue
            || pq.message_bytes() > options.pull_threshold_size_for_queue_mib * 1024 * 1024
            || (matches!(self.listener, Listener::Concurrently(_))
                && pq.offset_span() > options.consume_concurrently_max_span)
    }
}

async fn pull_loop(
    shared: Arc<PushShared>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    mut offset: i64,
) {
    let mut stop = shared.instance.shutdown_signal();
    let Some(subscription) = shared.subscription(&mq.topic) else {
        return;
    };
    let clustering = shared.options.message_model == MessageModel::Clustering;
    loop {
        if pq.is_dropped() || shared.instance.is_shut_down() {
            return;
        }
        let delay = if shared.process_queue_full(&pq) {
            Some(PULL_DELAY_FLOW_CONTROL)
        } else if shared.is_orderly_clustering() && !pq.holds_lock() {
            Some(PULL_DELAY_NOT_LOCKED)
        } else {
            None
        };
        if let Some(delay) = delay {
            tokio::select! { () = tokio::time::sleep(delay) => continue, _ = stop.changed() => return }
        }
        let commit_offset = if clustering {
            shared.offsets.read_memory(&mq).unwrap_or(0)
        } else {
            0
        };
        let mut sys_flag = pull::sys_flag::SUSPEND;
        if commit_offset > 0 {
            sys_flag |= pull::sys_flag::COMMIT_OFFSET;
        }
        if shared.options.post_subscription_when_pull {
            sys_flag |= pull::sys_flag::SUBSCRIPTION;
        }
        let args = PullArgs {
            group: &shared.options.group,
            queue: &mq,
            offset,
            max_count: shared.options.pull_batch_size,
            sys_flag,
            commit_offset,
            suspend_ms: pull::BROKER_SUSPEND_MAX_MS,
            subscription: &subscription,
            timeout: pull::PULL_TIMEOUT_WHEN_SUSPEND,
        };
        let outcome = tokio::select! {
            outcome = pull::pull(&shared.instance, &args) => outcome,
            _ = stop.changed() => return,
        };
        match outcome {
            Ok(result) => {
                if pq.is_dropped() {
                    return;
                }
                offset = result.next_begin_offset;
                match result.status {
                    PullStatus::Found if !result.messages.is_empty() => {
                        let dispatch = pq.put(&result.messages);
                        consume::submit(&shared, &mq, &pq, result.messages, dispatch);
                    }
                    PullStatus::OffsetIllegal => {
                        shared.offsets.update(&mq, offset, false);
                        shared
                            .offsets
                            .persist(&shared.instance, Some(std::slice::from_ref(&mq)))
                            .await;
                    }
                    _ => {
                        if pq.message_count() == 0 {
                            shared.offsets.update(&mq, offset, true);
                        }
                    }
                }
                if !shared.options.pull_interval.is_zero() {
                    tokio::time::sleep(shared.options.pull_interval).await;
                }
            }
            Err(error) => {
                tracing::debug!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, offset, %error, "pull failed");
                tokio::select! { () = tokio::time::sleep(PULL_DELAY_ON_ERROR) => {}, _ = stop.changed() => return }
            }
        }
    }
}

/// CONSUME_MESSAGE_DIRECTLY: the listener on one message, answered as Java's
/// `ConsumeMessageDirectlyResult` (`CR_SUCCESS`, `CR_LATER`, `CR_THROW_EXCEPTION` on a panic).
fn consume_directly(listener: &Listener) -> crate::instance::ConsumeDirectly {
    let listener = listener.clone();
    Arc::new(move |message: MessageExt| {
        let started = std::time::Instant::now();
        let queue = message.queue();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &listener {
            Listener::Concurrently(listener) => {
                let mut context = ConsumeConcurrentlyContext {
                    queue,
                    delay_level_when_next_consume: 0,
                    ack_index: 0,
                };
                match listener.consume_message(std::slice::from_ref(&message), &mut context) {
                    ConsumeConcurrentlyStatus::ConsumeSuccess => "CR_SUCCESS",
                    ConsumeConcurrentlyStatus::ReconsumeLater => "CR_LATER",
                }
            }
            Listener::Orderly(listener) => {
                let mut context = ConsumeOrderlyContext {
                    queue,
                    suspend_current_queue_time_ms: -1,
                };
                match listener.consume_message(std::slice::from_ref(&message), &mut context) {
                    ConsumeOrderlyStatus::Success => "CR_SUCCESS",
                    ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => "CR_LATER",
                }
            }
        }));
        let (result, remark) = match run {
            Ok(result) => (result, String::new()),
            Err(_) => ("CR_THROW_EXCEPTION", "the listener panicked".to_owned()),
        };
        serde_json::json!({
            "order": matches!(listener, Listener::Orderly(_)),
            "autoCommit": true,
            "consumeResult": result,
            "remark": remark,
            "spentTimeMills": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    })
}
