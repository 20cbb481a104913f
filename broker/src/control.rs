//! The control plane, owned by shard 0: topics, subscription groups, the producer and
//! consumer registries and the queue locks.
//!
//! [`ControlPlane`] is the synchronous core: each operation runs to completion and returns
//! its reply plus [`Effects`] (updates to broadcast, consumers to notify, whether to
//! persist or re-register). [`ControlShell`] is the async shell on shard 0 that applies
//! the effects: it broadcasts updates over the mesh, pushes NOTIFY_CONSUMER_IDS_CHANGED,
//! wakes the name-server registration and marks files for the persister.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};

use protocol::body::heartbeat::{ConsumerData, HeartbeatData, SubscriptionData};
use protocol::body::message_queue::MessageQueue;
use protocol::body::route::{perm, TopicConfig, TopicConfigAndMappingSerializeWrapper};
use protocol::code::request;
use protocol::command::FLAG_ONEWAY;
use protocol::header::client::NotifyConsumerIdsChangedRequestHeader;
use protocol::header::topic as topic_names;
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, SerializeType};

use crate::config::BrokerConfig;
use crate::filter::TagFilter;
use crate::mesh::{
    ConnectionRef, ControlOp, ControlReply, ControlUpdate, DataOp, DataReply, TopicCreation,
};
use crate::metadata::{SubscriptionGroups, TopicTable};
use crate::shard::Shard;
use crate::store::now_ms;

const LOG: &str = "broker::control";

pub mod admin_ops;

/// A client connection as the registries know it.
#[derive(Debug, Clone)]
pub struct ClientChannel {
    pub client_id: String,
    pub client_addr: String,
    pub language: String,
    pub version: i32,
    pub last_heartbeat_ms: i64,
}

/// A consumer group's members and subscriptions.
#[derive(Debug, Default)]
pub struct ConsumerGroup {
    pub clients: BTreeMap<ConnectionRef, ClientChannel>,
    /// Topic → (subscription string, expression type, sub version).
    pub subscriptions: BTreeMap<String, SubscriptionData>,
    /// As the last heartbeat said (for GET_CONSUMER_CONNECTION_LIST).
    pub consume_type: Option<protocol::body::heartbeat::ConsumeType>,
    pub message_model: Option<protocol::body::heartbeat::MessageModel>,
    pub consume_from_where: Option<protocol::body::heartbeat::ConsumeFromWhere>,
}

/// What the shell must do after a core operation.
#[derive(Debug, Default)]
pub struct Effects {
    pub updates: Vec<ControlUpdate>,
    /// Groups whose members must be told to rebalance, with the connections to tell.
    pub notify: Vec<(String, Vec<ConnectionRef>)>,
    pub register: bool,
    pub topics_dirty: bool,
    pub groups_dirty: bool,
}

struct QueueLock {
    client_id: String,
    last_update_ms: i64,
}

/// The synchronous control-plane state (see the module docs).
pub struct ControlPlane {
    config: Rc<BrokerConfig>,
    /// `maxMessageSize` at startup: the store sized its buffers for it.
    message_size_ceiling: u32,
    topics: TopicTable,
    groups: SubscriptionGroups,
    consumers: BTreeMap<String, ConsumerGroup>,
    producers: BTreeMap<String, BTreeMap<ConnectionRef, ClientChannel>>,
    locks: HashMap<(String, String, i32), QueueLock>,
}

/// The revision of the topic table: its data-version counter.
fn revision_of(table: &TopicTable) -> u64 {
    u64::try_from(table.data_version().counter).unwrap_or(0)
}

impl ControlPlane {
    #[must_use]
    pub fn new(config: Rc<BrokerConfig>, topics: TopicTable, groups: SubscriptionGroups) -> Self {
        ControlPlane {
            message_size_ceiling: config.max_message_size_bytes,
            config,
            topics,
            groups,
            consumers: BTreeMap::new(),
            producers: BTreeMap::new(),
            locks: HashMap::new(),
        }
    }

    #[must_use]
    pub fn topics(&self) -> &TopicTable {
        &self.topics
    }

    #[must_use]
    pub fn groups(&self) -> &SubscriptionGroups {
        &self.groups
    }

    fn put_topic(&mut self, topic: TopicConfig, effects: &mut Effects) -> (TopicConfig, u64) {
        self.topics.put(topic.clone());
        let revision = revision_of(&self.topics);
        effects.updates.push(ControlUpdate::TopicPut {
            topic: topic.clone(),
            revision,
        });
        effects.register = true;
        effects.topics_dirty = true;
        (topic, revision)
    }

    /// Finds a topic or creates it the way the Java send path does.
    pub fn ensure_topic(
        &mut self,
        name: &str,
        template: &str,
        creation: TopicCreation,
        effects: &mut Effects,
    ) -> ControlReply {
        if let Some(topic) = self.topics.get(name) {
            return ControlReply::Topic(topic.clone(), revision_of(&self.topics));
        }
        let created = match creation {
            TopicCreation::RetryOrDeadLetter => TopicConfig::new(name, 1, perm::READ | perm::WRITE),
            TopicCreation::FromTemplate { client_queue_nums } => {
                let refused = |why: String| {
                    ControlReply::TopicRefused(format!(
                        "topic[{name}] not exist, apply first please! ({why})"
                    ))
                };
                let Some(template_config) = self.topics.get(template) else {
                    return refused(format!("the default topic[{template}] does not exist"));
                };
                let inherits = template_config.perm & perm::INHERIT != 0;
                if !inherits
                    || (template == topic_names::AUTO_CREATE_TOPIC_KEY
                        && !self.config.auto_create_topic_enable)
                {
                    return refused(format!("the default topic[{template}] has no inherit perm"));
                }
                let queues = client_queue_nums
                    .min(template_config.write_queue_nums)
                    .max(1);
                TopicConfig {
                    perm: template_config.perm & !perm::INHERIT,
                    topic_filter_type: template_config.topic_filter_type,
                    ..TopicConfig::new(name, queues, 0)
                }
            }
        };
        tracing::info!(target: LOG, topic = name, queues = created.write_queue_nums, "topic created");
        let (topic, revision) = self.put_topic(created, effects);
        ControlReply::Topic(topic, revision)
    }

    /// UPDATE_AND_CREATE_TOPIC.
    pub fn put_admin_topic(&mut self, topic: TopicConfig, effects: &mut Effects) -> ControlReply {
        let (topic, revision) = self.put_topic(topic, effects);
        ControlReply::Topic(topic, revision)
    }

    /// DELETE_TOPIC_IN_BROKER.
    pub fn delete_topic(&mut self, name: &str, effects: &mut Effects) -> ControlReply {
        if self.topics.remove(name).is_some() {
            effects.updates.push(ControlUpdate::TopicDeleted {
                topic: name.to_owned(),
                revision: revision_of(&self.topics),
            });
            effects.register = true;
            effects.topics_dirty = true;
        }
        ControlReply::Done
    }

    /// GET_ALL_TOPIC_CONFIG.
    #[must_use]
    pub fn all_topics(&self) -> TopicConfigAndMappingSerializeWrapper {
        let wrapper = self.topics.to_wrapper();
        TopicConfigAndMappingSerializeWrapper {
            data_version: wrapper.data_version,
            topic_config_table: wrapper.topic_config_table,
            ..TopicConfigAndMappingSerializeWrapper::default()
        }
    }

    /// The subscription group, auto-created when allowed.
    pub fn ensure_group(&mut self, group: &str, effects: &mut Effects) -> ControlReply {
        if !self.config.auto_create_subscription_group && self.groups.get(group).is_none() {
            return ControlReply::GroupMissing;
        }
        let (config, created) = self.groups.ensure(group);
        let reply = ControlReply::Group {
            retry_max_times: config.retry_max_times,
            consume_enable: config.consume_enable,
        };
        effects.groups_dirty |= created;
        reply
    }

    /// HEART_BEAT: registers producers and consumers, creates `%RETRY%group`.
    pub fn heartbeat(
        &mut self,
        connection: ConnectionRef,
        channel: &ClientChannel,
        data: HeartbeatData,
        effects: &mut Effects,
    ) -> ControlReply {
        for producer in &data.producer_data_set {
            if producer.group_name.is_empty() {
                continue;
            }
            self.producers
                .entry(producer.group_name.clone())
                .or_default()
                .insert(connection, channel.clone());
        }
        let mut subscription_changed = false;
        for consumer in data.consumer_data_set {
            if consumer.group_name.is_empty() {
                continue;
            }
            let group = consumer.group_name.clone();
            let _ = self.ensure_group(&group, effects);
            let retry = topic_names::retry_topic(&group);
            let _ = self.ensure_topic(&retry, &retry, TopicCreation::RetryOrDeadLetter, effects);
            subscription_changed |=
                self.register_consumer(connection, channel, consumer, data.without_sub, effects);
        }
        ControlReply::Heartbeat {
            subscription_changed,
        }
    }

    fn register_consumer(
        &mut self,
        connection: ConnectionRef,
        channel: &ClientChannel,
        consumer: ConsumerData,
        without_sub: bool,
        effects: &mut Effects,
    ) -> bool {
        let group_name = consumer.group_name;
        let group = self.consumers.entry(group_name.clone()).or_default();
        group.consume_type = consumer.consume_type;
        group.message_model = consumer.message_model;
        group.consume_from_where = consumer.consume_from_where;
        let joined = group
            .clients
            .insert(connection, channel.clone())
            .is_none_or(|previous| previous.client_id != channel.client_id);
        let mut changed = false;
        if !without_sub {
            let incoming: BTreeMap<String, SubscriptionData> = consumer
                .subscription_data_set
                .into_iter()
                .map(|subscription| (subscription.topic.clone(), subscription))
                .collect();
            changed = incoming.len() != group.subscriptions.len()
                || incoming.iter().any(|(topic, subscription)| {
                    group.subscriptions.get(topic).is_none_or(|known| {
                        known.sub_string != subscription.sub_string
                            || known.expression_type != subscription.expression_type
                    })
                });
            if changed {
                group.subscriptions = incoming;
                effects
                    .updates
                    .push(subscriptions_update(&group_name, group));
            }
        }
        if joined || changed {
            tracing::info!(target: LOG, group = %group_name, client = %channel.client_id, joined, changed, "consumer group changed");
            effects
                .notify
                .push((group_name, group.clients.keys().copied().collect()));
        }
        changed
    }

    /// UNREGISTER_CLIENT.
    pub fn unregister(
        &mut self,
        connection: ConnectionRef,
        client_id: &str,
        producer_group: Option<&str>,
        consumer_group: Option<&str>,
        effects: &mut Effects,
    ) {
        if let Some(group) = producer_group.and_then(|name| self.producers.get_mut(name)) {
            group.retain(|key, channel| !(*key == connection || channel.client_id == client_id));
        }
        if let Some(name) = consumer_group {
            self.remove_consumers(
                name,
                |key, channel| *key == connection || channel.client_id == client_id,
                effects,
            );
        }
    }

    fn remove_consumers(
        &mut self,
        name: &str,
        remove: impl Fn(&ConnectionRef, &ClientChannel) -> bool,
        effects: &mut Effects,
    ) {
        let Some(group) = self.consumers.get_mut(name) else {
            return;
        };
        let before = group.clients.len();
        group.clients.retain(|key, channel| !remove(key, channel));
        if group.clients.len() == before {
            return;
        }
        if group.clients.is_empty() {
            self.consumers.remove(name);
            effects.updates.push(ControlUpdate::Subscriptions {
                group: name.to_owned(),
                topics: Vec::new(),
            });
        } else {
            effects
                .notify
                .push((name.to_owned(), group.clients.keys().copied().collect()));
        }
    }

    /// A connection closed (or its heartbeats expired): drop it from every registry.
    pub fn connection_closed(&mut self, connection: ConnectionRef, effects: &mut Effects) {
        for group in self.producers.values_mut() {
            group.remove(&connection);
        }
        self.producers.retain(|_, group| !group.is_empty());
        let names: Vec<String> = self
            .consumers
            .iter()
            .filter(|(_, group)| group.clients.contains_key(&connection))
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            self.remove_consumers(&name, |key, _| *key == connection, effects);
        }
    }

    /// Drops clients without a heartbeat for `channelExpiredTimeout`.
    pub fn expire_clients(&mut self, now_ms: i64, effects: &mut Effects) {
        let deadline =
            now_ms - i64::try_from(self.config.channel_expired_timeout_ms).unwrap_or(i64::MAX);
        let mut expired: Vec<ConnectionRef> = Vec::new();
        for group in self.consumers.values() {
            expired.extend(
                group
                    .clients
                    .iter()
                    .filter(|(_, c)| c.last_heartbeat_ms < deadline)
                    .map(|(k, _)| *k),
            );
        }
        for group in self.producers.values() {
            expired.extend(
                group
                    .iter()
                    .filter(|(_, c)| c.last_heartbeat_ms < deadline)
                    .map(|(k, _)| *k),
            );
        }
        expired.sort();
        expired.dedup();
        for connection in expired {
            tracing::info!(target: LOG, ?connection, "client expired without heartbeat");
            self.connection_closed(connection, effects);
        }
    }

    /// GET_CONSUMER_LIST_BY_GROUP.
    #[must_use]
    pub fn consumer_ids(&self, group: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .consumers
            .get(group)
            .map(|group| {
                group
                    .clients
                    .values()
                    .map(|c| c.client_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        ids
    }

    /// LOCK_BATCH_MQ: grants each queue that is free, expired or already this client's.
    pub fn lock(
        &mut self,
        group: &str,
        client_id: &str,
        queues: Vec<MessageQueue>,
        now_ms: i64,
    ) -> Vec<MessageQueue> {
        let lease = i64::try_from(self.config.lock_lease_ms).unwrap_or(i64::MAX);
        let mut granted = Vec::new();
        for queue in queues {
            let key = (group.to_owned(), queue.topic.clone(), queue.queue_id);
            let free = self.locks.get(&key).is_none_or(|lock| {
                lock.client_id == client_id || now_ms - lock.last_update_ms > lease
            });
            if free {
                self.locks.insert(
                    key,
                    QueueLock {
                        client_id: client_id.to_owned(),
                        last_update_ms: now_ms,
                    },
                );
                granted.push(queue);
            }
        }
        granted
    }

    /// UNLOCK_BATCH_MQ: releases the queues this client holds.
    pub fn unlock(&mut self, group: &str, client_id: &str, queues: &[MessageQueue]) {
        for queue in queues {
            let key = (group.to_owned(), queue.topic.clone(), queue.queue_id);
            if self
                .locks
                .get(&key)
                .is_some_and(|lock| lock.client_id == client_id)
            {
                self.locks.remove(&key);
            }
        }
    }

    /// The most recently heartbeating producer connection of a group.
    #[must_use]
    pub fn producer_connection(&self, group: &str) -> Option<ConnectionRef> {
        self.producers.get(group).and_then(|connections| {
            connections
                .iter()
                .max_by_key(|(_, channel)| channel.last_heartbeat_ms)
                .map(|(connection, _)| *connection)
        })
    }

    /// Counts for GET_BROKER_RUNTIME_INFO.
    #[must_use]
    pub fn registry_counts(&self) -> (usize, usize) {
        (self.producers.len(), self.consumers.len())
    }
}

fn subscriptions_update(group_name: &str, group: &ConsumerGroup) -> ControlUpdate {
    let topics = group
        .subscriptions
        .values()
        .filter_map(|subscription| {
            TagFilter::parse(
                &subscription.sub_string,
                Some(&subscription.expression_type),
            )
            .ok()
            .map(|filter| (subscription.topic.clone(), filter))
        })
        .collect();
    ControlUpdate::Subscriptions {
        group: group_name.to_owned(),
        topics,
    }
}

/// The async shell around [`ControlPlane`] on shard 0.
pub struct ControlShell {
    pub plane: RefCell<ControlPlane>,
    shard: Weak<Shard>,
    register: glommio::channels::local_channel::LocalSender<()>,
    pub topics_dirty: Cell<bool>,
    pub groups_dirty: Cell<bool>,
}

impl ControlShell {
    #[must_use]
    pub fn new(
        plane: ControlPlane,
        shard: &Rc<Shard>,
        register: glommio::channels::local_channel::LocalSender<()>,
    ) -> Rc<ControlShell> {
        Rc::new(ControlShell {
            plane: RefCell::new(plane),
            shard: Rc::downgrade(shard),
            register,
            topics_dirty: Cell::new(false),
            groups_dirty: Cell::new(false),
        })
    }

    /// Executes one operation: the synchronous core, then its effects.
    pub async fn execute(&self, op: ControlOp) -> ControlReply {
        let Some(shard) = self.shard.upgrade() else {
            return ControlReply::Failed("broker stopping".to_owned());
        };
        if let ControlOp::RuntimeInfo = op {
            return crate::handlers::admin::runtime_info(&shard, self).await;
        }
        let mut effects = Effects::default();
        let reply = self.run_core(op, &mut effects);
        self.apply(&shard, effects).await;
        reply
    }

    fn run_core(&self, op: ControlOp, effects: &mut Effects) -> ControlReply {
        let mut plane = self.plane.borrow_mut();
        match op {
            ControlOp::EnsureTopic {
                topic,
                template,
                creation,
            } => plane.ensure_topic(&topic, &template, creation, effects),
            ControlOp::PutTopic(topic) => plane.put_admin_topic(topic, effects),
            ControlOp::DeleteTopic(topic) => plane.delete_topic(&topic, effects),
            ControlOp::AllTopics => ControlReply::Topics(plane.all_topics()),
            ControlOp::EnsureGroup(group) => plane.ensure_group(&group, effects),
            ControlOp::Heartbeat {
                connection,
                client_addr,
                language,
                version,
                data,
            } => {
                let channel = ClientChannel {
                    client_id: data.client_id.clone(),
                    client_addr,
                    language,
                    version,
                    last_heartbeat_ms: now_ms(),
                };
                plane.heartbeat(connection, &channel, data, effects)
            }
            ControlOp::UnregisterClient {
                connection,
                client_id,
                producer_group,
                consumer_group,
            } => {
                plane.unregister(
                    connection,
                    &client_id,
                    producer_group.as_deref(),
                    consumer_group.as_deref(),
                    effects,
                );
                ControlReply::Done
            }
            ControlOp::ConnectionClosed(connection) => {
                plane.connection_closed(connection, effects);
                ControlReply::Done
            }
            ControlOp::ConsumerIds(group) => ControlReply::ConsumerIds(plane.consumer_ids(&group)),
            ControlOp::Lock {
                group,
                client_id,
                queues,
            } => ControlReply::Locked(plane.lock(&group, &client_id, queues, now_ms())),
            ControlOp::Unlock {
                group,
                client_id,
                queues,
            } => {
                plane.unlock(&group, &client_id, &queues);
                ControlReply::Done
            }
            ControlOp::RuntimeInfo => ControlReply::Failed("handled by the shell".to_owned()),
            ControlOp::ProducerConnection(group) => {
                ControlReply::Connection(plane.producer_connection(&group))
            }
            ControlOp::Admin(op) => ControlReply::Admin(admin_ops::run(&mut plane, op, effects)),
            ControlOp::UpdateConfig(updates) => {
                match plane.config.updated(&updates, plane.message_size_ceiling) {
                    Ok(next) => {
                        tracing::info!(target: "broker::control", ?updates, "broker config updated");
                        plane.config = Rc::new(next.clone());
                        effects
                            .updates
                            .push(ControlUpdate::Config(std::sync::Arc::new(next)));
                        ControlReply::Done
                    }
                    Err(error) => ControlReply::Failed(error.to_string()),
                }
            }
        }
    }

    /// Applies effects: broadcast, notify, persist marks, registration wake-up.
    pub async fn apply(&self, shard: &Rc<Shard>, effects: Effects) {
        for update in &effects.updates {
            shard.broadcast(update).await;
        }
        for (group, connections) in effects.notify {
            for connection in connections {
                shard.push(connection, notify_consumer_ids_changed(&group));
            }
        }
        if effects.topics_dirty {
            self.topics_dirty.set(true);
        }
        if effects.groups_dirty {
            self.groups_dirty.set(true);
        }
        if effects.register {
            let _ = self.register.try_send(());
        }
    }

    /// Periodic housekeeping: client expiry.
    pub async fn housekeeping(&self) {
        let Some(shard) = self.shard.upgrade() else {
            return;
        };
        let mut effects = Effects::default();
        self.plane
            .borrow_mut()
            .expire_clients(now_ms(), &mut effects);
        self.apply(&shard, effects).await;
    }
}

/// The oneway NOTIFY_CONSUMER_IDS_CHANGED request.
#[must_use]
pub fn notify_consumer_ids_changed(group: &str) -> RemotingCommand {
    let mut command =
        RemotingCommand::request(request::NOTIFY_CONSUMER_IDS_CHANGED, 0, SerializeType::Json);
    command.flag |= FLAG_ONEWAY;
    NotifyConsumerIdsChangedRequestHeader {
        consumer_group: group.to_owned(),
    }
    .encode(command.ext_mut());
    command
}

/// Gathers every shard's consumer offsets (for `consumerOffset.json`).
pub async fn gather_offsets(shard: &Rc<Shard>) -> (bool, Vec<(String, u32, u64)>) {
    let mut dirty = false;
    let mut entries = Vec::new();
    for target in 0..shard.shards {
        if let DataReply::Offsets {
            dirty: shard_dirty,
            entries: shard_entries,
        } = shard.call_data(target, DataOp::OffsetsSnapshot).await
        {
            dirty |= shard_dirty;
            entries.extend(shard_entries);
        }
    }
    (dirty, entries)
}
