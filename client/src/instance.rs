//! [`ClientInstance`]: what producers and consumers share — connections, the name server
//! list, the route cache, heartbeats and the handlers for broker-initiated requests.
//!
//! Lifecycle: [`ClientInstance::start`] spawns two tokio tasks (route refresh every
//! `poll_namesrv_interval`, heartbeat every `heartbeat_interval`); [`ClientInstance::shutdown`]
//! sends UNREGISTER_CLIENT to every broker, stops the tasks and closes the connections.
//! Each producer or consumer owns one instance (its client id is unique by default).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use protocol::body::heartbeat::{ConsumerData, HeartbeatData, ProducerData};
use protocol::body::route::{JsonBody, TopicRouteData, MASTER_ID};
use protocol::body::stats::ResetOffsetBody;
use protocol::code::{request, response};
use protocol::message::UniqueIdGenerator;
use protocol::RemotingCommand;
use tokio::sync::{mpsc, watch};

use crate::config::{resolve_namesrv_addrs, ClientConfig};
use crate::error::{ClientError, Result};
use crate::message::{now_ms, MessageExt, MessageQueue};
use crate::remoting::{expect_code, InboundHandler, InboundRequest, Remoting};
use crate::wire::{self, ext, some};

/// Something a consumer must react to, pushed by the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerEvent {
    /// NOTIFY_CONSUMER_IDS_CHANGED: rebalance now.
    IdsChanged,
    /// RESET_CONSUMER_CLIENT_OFFSET: continue these queues from these offsets.
    ResetOffset(Vec<(MessageQueue, i64)>),
}

/// A consumer group as the instance sees it.
#[derive(Clone)]
pub struct ConsumerRegistration {
    /// Builds the group's heartbeat entry (subscriptions may change).
    pub data: Arc<dyn Fn() -> ConsumerData + Send + Sync>,
    pub events: mpsc::UnboundedSender<ConsumerEvent>,
    /// CONSUME_MESSAGE_DIRECTLY: runs the group's listener on one message (blocking; called
    /// on a blocking thread) and returns the `ConsumeMessageDirectlyResult` JSON. `None` for
    /// consumers without a listener (lite pull).
    pub consume_directly: Option<ConsumeDirectly>,
}

/// See [`ConsumerRegistration::consume_directly`].
pub type ConsumeDirectly = Arc<dyn Fn(MessageExt) -> serde_json::Value + Send + Sync>;

/// CHECK_TRANSACTION_STATE from a broker: the half message and where to answer.
#[derive(Debug, Clone)]
pub struct TransactionCheck {
    pub broker_addr: String,
    pub message: MessageExt,
    pub transaction_state_table_offset: i64,
    pub commit_log_offset: i64,
    pub msg_id: Option<String>,
    pub transaction_id: Option<String>,
    pub offset_msg_id: Option<String>,
}

/// Handles a transaction check; must not block (spawn).
pub type TransactionCheckHandler = Arc<dyn Fn(TransactionCheck) + Send + Sync>;

/// A shared client instance; cheap to clone.
#[derive(Clone)]
pub struct ClientInstance {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: ClientConfig,
    client_id: String,
    client_ip: String,
    namesrv_addrs: Vec<String>,
    namesrv_index: AtomicUsize,
    remoting: Remoting,
    routes: RwLock<HashMap<String, Arc<TopicRouteData>>>,
    brokers: RwLock<HashMap<String, BTreeMap<i64, String>>>,
    topics: RwLock<BTreeSet<String>>,
    producer_groups: RwLock<BTreeSet<String>>,
    consumers: RwLock<HashMap<String, ConsumerRegistration>>,
    transaction_checkers: RwLock<HashMap<String, TransactionCheckHandler>>,
    unique_ids: Mutex<UniqueIdGenerator>,
    shutdown: watch::Sender<bool>,
    started_ms: i64,
}

impl ClientInstance {
    /// Creates the instance and starts its route-refresh and heartbeat tasks.
    ///
    /// # Errors
    /// [`ClientError::NoNameServer`] when no name server address is configured.
    pub fn start(mut config: ClientConfig) -> Result<ClientInstance> {
        for change in config.sanitize() {
            tracing::info!(target: "client::instance", "config: {change}");
        }
        let namesrv_addrs = resolve_namesrv_addrs(config.namesrv_addr.as_deref())?;
        let client_ip = config.resolved_ip();
        let client_id = format!("{client_ip}@{}", config.resolved_instance_name());
        let (shutdown, _) = watch::channel(false);
        let ip = client_ip
            .parse()
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let start_index = usize::try_from(now_ms().unsigned_abs() % 7919).unwrap_or(0);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let handler: InboundHandler = {
                let weak = weak.clone();
                Arc::new(move |request: InboundRequest| {
                    if let Some(inner) = weak.upgrade() {
                        handle_inbound(&inner, request);
                    }
                })
            };
            Inner {
                remoting: Remoting::new(
                    config.connect_timeout,
                    config.serialize_type,
                    Some(handler),
                ),
                unique_ids: Mutex::new(UniqueIdGenerator::new(
                    ip,
                    std::process::id(),
                    class_loader_hash(),
                    now_ms(),
                )),
                config,
                client_id,
                client_ip,
                namesrv_addrs,
                namesrv_index: AtomicUsize::new(start_index),
                routes: RwLock::new(HashMap::new()),
                brokers: RwLock::new(HashMap::new()),
                topics: RwLock::new(BTreeSet::new()),
                producer_groups: RwLock::new(BTreeSet::new()),
                consumers: RwLock::new(HashMap::new()),
                transaction_checkers: RwLock::new(HashMap::new()),
                shutdown,
                started_ms: now_ms(),
            }
        });
        let instance = ClientInstance { inner };
        instance.spawn_timers();
        Ok(instance)
    }

    fn spawn_timers(&self) {
        let route_period = self.inner.config.poll_namesrv_interval;
        let heartbeat_period = self.inner.config.heartbeat_interval;
        let weak = Arc::downgrade(&self.inner);
        self.spawn_periodic(route_period, weak.clone(), |instance| async move {
            instance.refresh_all_routes().await;
        });
        self.spawn_periodic(heartbeat_period, weak, |instance| async move {
            instance.send_heartbeat_all().await;
        });
    }

    /// Runs `work` every `period` until shutdown or until the instance is dropped.
    pub(crate) fn spawn_periodic<F, Fut>(
        &self,
        period: std::time::Duration,
        weak: Weak<Inner>,
        work: F,
    ) where
        F: Fn(ClientInstance) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let mut stop = self.inner.shutdown.subscribe();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stop.changed() => return,
                }
                let Some(inner) = weak.upgrade() else { return };
                work(ClientInstance { inner }).await;
            }
        });
    }

    /// A receiver that changes to `true` at shutdown.
    #[must_use]
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    #[must_use]
    pub fn is_shut_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    pub(crate) fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn upgrade(weak: &Weak<Inner>) -> Option<ClientInstance> {
        weak.upgrade().map(|inner| ClientInstance { inner })
    }

    /// `ip@instanceName`.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    #[must_use]
    pub fn client_ip(&self) -> &str {
        &self.inner.client_ip
    }

    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    #[must_use]
    pub fn remoting(&self) -> &Remoting {
        &self.inner.remoting
    }

    #[must_use]
    pub fn namesrv_addrs(&self) -> &[String] {
        &self.inner.namesrv_addrs
    }

    /// A new `UNIQ_KEY` message id.
    #[must_use]
    pub fn next_unique_id(&self) -> String {
        match self.inner.unique_ids.lock() {
            Ok(mut generator) => generator.next_id(now_ms()),
            Err(poisoned) => poisoned.into_inner().next_id(now_ms()),
        }
    }

    /// A new request in this client's header encoding.
    #[must_use]
    pub fn new_request(&self, code: i32) -> RemotingCommand {
        self.inner.remoting.new_request(code)
    }

    /// Sends `request` to a name server, trying the others on transport failure.
    ///
    /// # Errors
    /// [`ClientError::NameServerUnreachable`] if none answers.
    pub async fn invoke_namesrv(&self, request: RemotingCommand) -> Result<RemotingCommand> {
        let addrs = &self.inner.namesrv_addrs;
        let start = self.inner.namesrv_index.load(Ordering::Relaxed);
        let mut last_error = String::new();
        for attempt in 0..addrs.len() {
            let index = (start + attempt) % addrs.len();
            let addr = &addrs[index];
            match self
                .inner
                .remoting
                .invoke(addr, request.clone(), self.inner.config.request_timeout)
                .await
            {
                Ok(response) => {
                    self.inner.namesrv_index.store(index, Ordering::Relaxed);
                    return Ok(response);
                }
                Err(error) if error.is_transport() => last_error = error.to_string(),
                Err(error) => return Err(error),
            }
        }
        Err(ClientError::NameServerUnreachable {
            tried: addrs.join(";"),
            last_error,
        })
    }

    /// Like [`ClientInstance::invoke_namesrv`] but requires SUCCESS.
    ///
    /// # Errors
    /// As `invoke_namesrv`, or [`ClientError::Response`].
    pub async fn invoke_namesrv_ok(&self, request: RemotingCommand) -> Result<RemotingCommand> {
        let response = self.invoke_namesrv(request).await?;
        let addr = self.inner.namesrv_addrs.join(";");
        expect_code(&addr, response, &[response::SUCCESS])
    }

    /// Asks the name server for `topic`'s route (no cache).
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`], transport or decode errors.
    pub async fn fetch_route(&self, topic: &str) -> Result<TopicRouteData> {
        let mut request = self.new_request(request::GET_ROUTEINFO_BY_TOPIC);
        *request.ext_mut() = ext(&[
            ("topic", some(topic)),
            ("acceptStandardJsonOnly", some("true")),
        ]);
        let response = self.invoke_namesrv(request).await?;
        match response.code {
            response::SUCCESS => TopicRouteData::decode(&response.body)
                .map_err(|error| ClientError::decode("TopicRouteData", error)),
            response::TOPIC_NOT_EXIST => Err(ClientError::TopicNotExist {
                topic: topic.to_owned(),
            }),
            code => Err(ClientError::Response {
                addr: self.inner.namesrv_addrs.join(";"),
                code,
                remark: response.remark.unwrap_or_default(),
            }),
        }
    }

    /// Fetches `topic`'s route and caches it with its broker addresses; the topic is then
    /// refreshed every `poll_namesrv_interval`.
    ///
    /// # Errors
    /// As [`ClientInstance::fetch_route`].
    pub async fn update_route(&self, topic: &str) -> Result<Arc<TopicRouteData>> {
        let route = Arc::new(self.fetch_route(topic).await?);
        if self.store_route(topic, route.clone()) {
            // Brokers learn about us before our first request to them (as the Java client).
            self.send_heartbeat_all().await;
        }
        Ok(route)
    }

    /// Caches `route`; true if it named a broker address not known before.
    pub(crate) fn store_route(&self, topic: &str, route: Arc<TopicRouteData>) -> bool {
        let mut new_broker = false;
        if let Ok(mut brokers) = self.inner.brokers.write() {
            for broker in &route.broker_datas {
                let previous =
                    brokers.insert(broker.broker_name.clone(), broker.broker_addrs.clone());
                new_broker |= previous.is_none_or(|addrs| addrs != broker.broker_addrs);
            }
        }
        if let Ok(mut routes) = self.inner.routes.write() {
            routes.insert(topic.to_owned(), route);
        }
        self.watch_topic(topic);
        new_broker
    }

    /// Keeps `topic`'s route refreshed.
    pub fn watch_topic(&self, topic: &str) {
        if let Ok(mut topics) = self.inner.topics.write() {
            topics.insert(topic.to_owned());
        }
    }

    /// The cached route of `topic`, if any.
    #[must_use]
    pub fn cached_route(&self, topic: &str) -> Option<Arc<TopicRouteData>> {
        self.inner.routes.read().ok()?.get(topic).cloned()
    }

    /// The cached route, fetched on a miss.
    ///
    /// # Errors
    /// As [`ClientInstance::fetch_route`].
    pub async fn route(&self, topic: &str) -> Result<Arc<TopicRouteData>> {
        match self.cached_route(topic) {
            Some(route) => Ok(route),
            None => self.update_route(topic).await,
        }
    }

    async fn refresh_all_routes(&self) {
        let topics: Vec<String> = self
            .inner
            .topics
            .read()
            .map(|topics| topics.iter().cloned().collect())
            .unwrap_or_default();
        for topic in topics {
            if let Err(error) = self.update_route(&topic).await {
                tracing::debug!(target: "client::instance", topic = %topic, %error, "route refresh failed");
            }
        }
    }

    /// The master address of `broker_name` from the cached routes.
    #[must_use]
    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        self.inner
            .brokers
            .read()
            .ok()?
            .get(broker_name)?
            .get(&MASTER_ID)
            .cloned()
    }

    /// The master if known, else any address of `broker_name`.
    #[must_use]
    pub fn any_broker_addr(&self, broker_name: &str) -> Option<String> {
        let brokers = self.inner.brokers.read().ok()?;
        let addrs = brokers.get(broker_name)?;
        addrs
            .get(&MASTER_ID)
            .or_else(|| addrs.values().next())
            .cloned()
    }

    /// The master of `broker_name`, refreshing `topic`'s route once on a miss.
    ///
    /// # Errors
    /// [`ClientError::BrokerNotFound`].
    pub async fn master_addr_or_refresh(&self, broker_name: &str, topic: &str) -> Result<String> {
        if let Some(addr) = self.master_addr(broker_name) {
            return Ok(addr);
        }
        let _ = self.update_route(topic).await;
        self.master_addr(broker_name)
            .ok_or_else(|| ClientError::BrokerNotFound {
                broker_name: broker_name.to_owned(),
            })
    }

    /// Every known broker address; masters only unless `include_slaves`.
    #[must_use]
    pub fn broker_addrs(&self, include_slaves: bool) -> Vec<String> {
        let Ok(brokers) = self.inner.brokers.read() else {
            return Vec::new();
        };
        let mut addrs: Vec<String> = brokers
            .values()
            .flat_map(|ids| ids.iter())
            .filter(|(id, _)| include_slaves || **id == MASTER_ID)
            .map(|(_, addr)| addr.clone())
            .collect();
        addrs.sort();
        addrs.dedup();
        addrs
    }

    /// Registers a producer group for heartbeats.
    pub fn register_producer(&self, group: &str) {
        if let Ok(mut groups) = self.inner.producer_groups.write() {
            groups.insert(group.to_owned());
        }
    }

    /// Registers the transaction-check handler of a producer group.
    pub fn register_transaction_checker(&self, group: &str, handler: TransactionCheckHandler) {
        if let Ok(mut checkers) = self.inner.transaction_checkers.write() {
            checkers.insert(group.to_owned(), handler);
        }
    }

    /// Registers a consumer group for heartbeats and broker events.
    pub fn register_consumer(&self, group: &str, registration: ConsumerRegistration) {
        if let Ok(mut consumers) = self.inner.consumers.write() {
            consumers.insert(group.to_owned(), registration);
        }
    }

    fn heartbeat_data(&self) -> HeartbeatData {
        let producer_data_set = self
            .inner
            .producer_groups
            .read()
            .map(|groups| {
                groups
                    .iter()
                    .map(|group| ProducerData {
                        group_name: group.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let consumer_data_set = self
            .inner
            .consumers
            .read()
            .map(|consumers| consumers.values().map(|c| (c.data)()).collect())
            .unwrap_or_default();
        HeartbeatData {
            client_id: self.inner.client_id.clone(),
            producer_data_set,
            consumer_data_set,
            heartbeat_fingerprint: 0,
            without_sub: false,
        }
    }

    /// Sends HEART_BEAT to every known broker (masters only when no consumer is registered).
    pub async fn send_heartbeat_all(&self) {
        let data = self.heartbeat_data();
        let include_slaves = !data.consumer_data_set.is_empty();
        let body = match wire::encode_json(&data) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(target: "client::instance", %error, "cannot encode the heartbeat");
                return;
            }
        };
        for addr in self.broker_addrs(include_slaves) {
            let request = self
                .new_request(request::HEART_BEAT)
                .with_body(body.clone());
            let result = self
                .inner
                .remoting
                .invoke_ok(&addr, request, self.inner.config.request_timeout)
                .await;
            if let Err(error) = result {
                tracing::debug!(target: "client::instance", conn = %addr, %error, "heartbeat failed");
            }
        }
    }

    /// Unregisters from every broker, stops the timers and closes all connections.
    pub async fn shutdown(&self) {
        if self.inner.shutdown.send_replace(true) {
            return;
        }
        let producers: Vec<String> = self
            .inner
            .producer_groups
            .read()
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default();
        let consumers: Vec<String> = self
            .inner
            .consumers
            .read()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        for addr in self.broker_addrs(true) {
            for (key, group) in producers
                .iter()
                .map(|g| ("producerGroup", g))
                .chain(consumers.iter().map(|g| ("consumerGroup", g)))
            {
                let mut request = self.new_request(request::UNREGISTER_CLIENT);
                *request.ext_mut() = ext(&[
                    ("clientID", some(&self.inner.client_id)),
                    (key, some(group)),
                ]);
                let _ = self
                    .inner
                    .remoting
                    .invoke(&addr, request, self.inner.config.request_timeout)
                    .await;
            }
        }
        self.inner.remoting.close_all();
    }
}

/// A stand-in for Java's class-loader hash in message ids: random per process.
fn class_loader_hash() -> i32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    i32::from_ne_bytes((nanos ^ std::process::id().rotate_left(16)).to_ne_bytes())
}

fn handle_inbound(inner: &Arc<Inner>, inbound: InboundRequest) {
    let code = inbound.command.code;
    match code {
        request::NOTIFY_CONSUMER_IDS_CHANGED => {
            if let Some(group) = inbound.command.ext("consumerGroup") {
                send_consumer_event(inner, group, ConsumerEvent::IdsChanged);
            }
        }
        request::CHECK_TRANSACTION_STATE => handle_transaction_check(inner, &inbound),
        request::GET_CONSUMER_RUNNING_INFO => {
            let response = running_info(inner, &inbound.command);
            tokio::spawn(async move { inbound.respond(response).await });
        }
        request::CONSUME_MESSAGE_DIRECTLY => {
            let handler = inbound
                .command
                .ext("consumerGroup")
                .and_then(|group| registration(inner, group))
                .and_then(|registration| registration.consume_directly);
            tokio::spawn(async move {
                let response = consume_directly(&inbound.command, handler).await;
                inbound.respond(response).await;
            });
        }
        request::RESET_CONSUMER_CLIENT_OFFSET => {
            let group = inbound.command.ext("group").unwrap_or_default().to_owned();
            let queues = wire::decode_json::<ResetOffsetBody>(&inbound.command.body)
                .map(|body| {
                    body.offset_table
                        .into_iter()
                        .map(|(queue, offset)| (queue.into(), offset))
                        .collect()
                })
                .unwrap_or_default();
            send_consumer_event(inner, &group, ConsumerEvent::ResetOffset(queues));
            tokio::spawn(async move {
                let response = RemotingCommand::response_to(&inbound.command, response::SUCCESS);
                inbound.respond(response).await;
            });
        }
        _ => {
            tokio::spawn(async move {
                let response = RemotingCommand::response_to(
                    &inbound.command,
                    response::REQUEST_CODE_NOT_SUPPORTED,
                )
                .with_remark(format!(" request type {code} not supported"));
                inbound.respond(response).await;
            });
        }
    }
}

/// CONSUME_MESSAGE_DIRECTLY (mqadmin `consumeMessage`): the stored record in the body goes to
/// the group's listener once, outside the normal flow (no offset, no retry).
async fn consume_directly(
    command: &RemotingCommand,
    handler: Option<ConsumeDirectly>,
) -> RemotingCommand {
    let Some(handler) = handler else {
        return RemotingCommand::response_to(command, response::SYSTEM_ERROR)
            .with_remark("no listener of this consumer group in this client");
    };
    let message = match MessageExt::decode_all(&command.body, "") {
        Ok(mut messages) if !messages.is_empty() => messages.swap_remove(0),
        _ => {
            return RemotingCommand::response_to(command, response::SYSTEM_ERROR)
                .with_remark("the body holds no message");
        }
    };
    match tokio::task::spawn_blocking(move || handler(message)).await {
        Ok(result) => match serde_json::to_vec(&result) {
            Ok(body) => RemotingCommand::response_to(command, response::SUCCESS).with_body(body),
            Err(error) => RemotingCommand::response_to(command, response::SYSTEM_ERROR)
                .with_remark(error.to_string()),
        },
        Err(error) => RemotingCommand::response_to(command, response::SYSTEM_ERROR)
            .with_remark(format!("listener failed: {error}")),
    }
}

/// GET_CONSUMER_RUNNING_INFO (mqadmin `consumerStatus`): the group's settings and
/// subscriptions as `ConsumerRunningInfo` JSON (no per-queue table or thread dump).
fn running_info(inner: &Inner, command: &RemotingCommand) -> RemotingCommand {
    let group = command.ext("consumerGroup").unwrap_or_default();
    let data = registration(inner, group).map(|registration| (registration.data)());
    let Some(data) = data else {
        return RemotingCommand::response_to(command, response::SYSTEM_ERROR).with_remark(format!(
            "The Consumer Group <{group}> not exist in this consumer"
        ));
    };
    let info = serde_json::json!({
        "properties": {
            "PROP_NAMESRV_ADDR": inner.namesrv_addrs.join(";"),
            "PROP_CONSUME_TYPE": data.consume_type.map(|value| value.as_str()),
            "PROP_CONSUMER_START_TIMESTAMP": inner.started_ms.to_string(),
            "PROP_CLIENT_VERSION": "V5_3_3",
            "messageModel": data.message_model.map(|value| value.as_str()),
            "consumeFromWhere": data.consume_from_where.map(|value| value.as_str()),
        },
        "subscriptionSet": data.subscription_data_set,
        "mqTable": {},
        "statusTable": {},
        "jstack": "",
    });
    match serde_json::to_vec(&info) {
        Ok(body) => RemotingCommand::response_to(command, response::SUCCESS).with_body(body),
        Err(error) => RemotingCommand::response_to(command, response::SYSTEM_ERROR)
            .with_remark(error.to_string()),
    }
}

/// The registration of consumer group `group` in this client, if any.
fn registration(inner: &Inner, group: &str) -> Option<ConsumerRegistration> {
    inner
        .consumers
        .read()
        .ok()
        .and_then(|consumers| consumers.get(group).cloned())
}

fn send_consumer_event(inner: &Inner, group: &str, event: ConsumerEvent) {
    if let Some(registration) = registration(inner, group) {
        let _ = registration.events.send(event);
    }
}

fn handle_transaction_check(inner: &Inner, inbound: &InboundRequest) {
    let command = &inbound.command;
    let message = match MessageExt::decode_all(&command.body, "") {
        Ok(mut messages) if !messages.is_empty() => messages.swap_remove(0),
        _ => {
            tracing::warn!(target: "client::instance", conn = %inbound.addr, "undecodable transaction check");
            return;
        }
    };
    let Some(group) = message.property(protocol::message::properties::keys::PGROUP) else {
        return;
    };
    let handler = inner
        .transaction_checkers
        .read()
        .ok()
        .and_then(|checkers| checkers.get(group).cloned());
    let number = |key: &str| {
        command
            .ext(key)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)
    };
    if let Some(handler) = handler {
        handler(TransactionCheck {
            broker_addr: inbound.addr.clone(),
            transaction_state_table_offset: number("tranStateTableOffset"),
            commit_log_offset: number("commitLogOffset"),
            msg_id: command.ext("msgId").map(str::to_owned),
            transaction_id: command.ext("transactionId").map(str::to_owned),
            offset_msg_id: command.ext("offsetMsgId").map(str::to_owned),
            message,
        });
    }
}
