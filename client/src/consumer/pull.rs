//! PULL_MESSAGE and the requests around it (consumer ids, queue locks, offsets by time,
//! send-back), shared by the push and lite pull consumers.

use std::time::Duration;

use protocol::body::consumer::ConsumerListBody;
use protocol::body::lock::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use protocol::body::route::perm;
use protocol::code::{request, response};
use protocol::message::properties::keys;

use crate::consumer::subscription::Subscription;
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::message::{MessageExt, MessageQueue};
use crate::wire::{self, ext, ext_number, some};

/// Pull sysFlag bits (`PullSysFlag`).
pub mod sys_flag {
    pub const COMMIT_OFFSET: i32 = 0x1;
    pub const SUSPEND: i32 = 0x2;
    pub const SUBSCRIPTION: i32 = 0x4;
    pub const CLASS_FILTER: i32 = 0x8;
    pub const LITE_PULL: i32 = 0x10;
}

/// How long the broker may hold a pull (`BROKER_SUSPEND_MAX_TIME_MILLIS`).
pub const BROKER_SUSPEND_MAX_MS: i64 = 15_000;
/// Socket timeout of a suspended pull (`CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND`).
pub const PULL_TIMEOUT_WHEN_SUSPEND: Duration = Duration::from_millis(30_000);

/// What a pull found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Found,
    NoNewMessage,
    NoMatchedMessage,
    OffsetIllegal,
}

/// The outcome of one pull.
#[derive(Debug, Clone)]
pub struct PullResult {
    pub status: PullStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Messages after the client-side tag re-check.
    pub messages: Vec<MessageExt>,
}

/// One pull request.
#[derive(Debug, Clone)]
pub struct PullArgs<'a> {
    pub group: &'a str,
    pub queue: &'a MessageQueue,
    pub offset: i64,
    pub max_count: i32,
    pub sys_flag: i32,
    pub commit_offset: i64,
    pub suspend_ms: i64,
    pub subscription: &'a Subscription,
    pub timeout: Duration,
}

/// Sends PULL_MESSAGE to the queue's master and decodes the answer.
///
/// # Errors
/// Transport errors and unexpected response codes.
pub async fn pull(instance: &ClientInstance, args: &PullArgs<'_>) -> Result<PullResult> {
    let queue = args.queue;
    let addr = instance
        .master_addr_or_refresh(&queue.broker_name, &queue.topic)
        .await?;
    let with_subscription = args.sys_flag & sys_flag::SUBSCRIPTION != 0;
    let mut request = instance.new_request(request::PULL_MESSAGE);
    // TODO(protocol): use protocol::header::pull::PullMessageRequestHeader once exported.
    *request.ext_mut() = ext(&[
        ("consumerGroup", some(args.group)),
        ("topic", some(&queue.topic)),
        ("queueId", some(queue.queue_id)),
        ("queueOffset", some(args.offset)),
        ("maxMsgNums", some(args.max_count)),
        ("sysFlag", some(args.sys_flag)),
        ("commitOffset", some(args.commit_offset)),
        ("suspendTimeoutMillis", some(args.suspend_ms)),
        (
            "subscription",
            with_subscription.then(|| args.subscription.sub_string().to_owned()),
        ),
        ("subVersion", some(args.subscription.version)),
        ("expressionType", some(args.subscription.expression_type())),
    ]);
    let response = instance
        .remoting()
        .invoke(&addr, request, args.timeout)
        .await?;
    let status = match response.code {
        response::SUCCESS => PullStatus::Found,
        response::PULL_NOT_FOUND => PullStatus::NoNewMessage,
        response::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMessage,
        response::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        code => {
            return Err(ClientError::Response {
                addr,
                code,
                remark: response.remark.unwrap_or_default(),
            })
        }
    };
    let min_offset: i64 = ext_number(&response, "minOffset")?;
    let max_offset: i64 = ext_number(&response, "maxOffset")?;
    let mut messages = Vec::new();
    if status == PullStatus::Found {
        messages = MessageExt::decode_all(&response.body, &queue.broker_name)?;
        messages.retain(|message| args.subscription.matches(message));
        for message in &mut messages {
            message
                .properties
                .insert(keys::MIN_OFFSET, &min_offset.to_string());
            message
                .properties
                .insert(keys::MAX_OFFSET, &max_offset.to_string());
        }
    }
    Ok(PullResult {
        status,
        next_begin_offset: ext_number(&response, "nextBeginOffset")?,
        min_offset,
        max_offset,
        messages,
    })
}

/// The readable queues of `topic` from its route, sorted.
///
/// # Errors
/// Route errors.
pub async fn readable_queues(instance: &ClientInstance, topic: &str) -> Result<Vec<MessageQueue>> {
    let route = instance.route(topic).await?;
    let mut queues: Vec<MessageQueue> = route
        .queue_datas
        .iter()
        .filter(|data| perm::is_readable(data.perm))
        .flat_map(|data| {
            (0..data.read_queue_nums)
                .map(move |id| MessageQueue::new(topic, data.broker_name.clone(), id))
        })
        .collect();
    queues.sort();
    Ok(queues)
}

/// GET_CONSUMER_LIST_BY_GROUP from a broker of `topic`, sorted.
///
/// # Errors
/// Route, transport or broker errors.
pub async fn consumer_ids(
    instance: &ClientInstance,
    group: &str,
    topic: &str,
) -> Result<Vec<String>> {
    let route = instance.route(topic).await?;
    let broker_name = route
        .broker_datas
        .first()
        .map(|broker| broker.broker_name.clone())
        .ok_or_else(|| ClientError::NoQueue {
            topic: topic.to_owned(),
            what: "broker with a",
        })?;
    let addr = instance
        .any_broker_addr(&broker_name)
        .ok_or(ClientError::BrokerNotFound { broker_name })?;
    let mut request = instance.new_request(request::GET_CONSUMER_LIST_BY_GROUP);
    *request.ext_mut() = ext(&[("consumerGroup", some(group))]);
    let response = instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await?;
    let mut ids = wire::decode_json::<ConsumerListBody>(&response.body)?.consumer_id_list;
    ids.sort();
    Ok(ids)
}

/// LOCK_BATCH_MQ for `queues` (all on `broker_name`); returns the queues now locked.
///
/// # Errors
/// Transport or broker errors.
pub async fn lock_batch(
    instance: &ClientInstance,
    group: &str,
    broker_name: &str,
    queues: &[MessageQueue],
) -> Result<Vec<MessageQueue>> {
    let Some(first) = queues.first() else {
        return Ok(Vec::new());
    };
    let addr = instance
        .master_addr_or_refresh(broker_name, &first.topic)
        .await?;
    let body = LockBatchRequestBody {
        client_id: instance.client_id().to_owned(),
        consumer_group: group.to_owned(),
        mq_set: queues.iter().map(Into::into).collect(),
        only_this_broker: false,
    };
    let request = instance
        .new_request(request::LOCK_BATCH_MQ)
        .with_body(wire::encode_json(&body)?);
    let response = instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await?;
    let locked = wire::decode_json::<LockBatchResponseBody>(&response.body)?.lock_ok_mq_set;
    Ok(locked.into_iter().map(Into::into).collect())
}

/// UNLOCK_BATCH_MQ for `queues` (all on `broker_name`).
///
/// # Errors
/// Transport or broker errors.
pub async fn unlock_batch(
    instance: &ClientInstance,
    group: &str,
    broker_name: &str,
    queues: &[MessageQueue],
) -> Result<()> {
    let Some(first) = queues.first() else {
        return Ok(());
    };
    let addr = instance
        .master_addr_or_refresh(broker_name, &first.topic)
        .await?;
    let body = UnlockBatchRequestBody {
        client_id: instance.client_id().to_owned(),
        consumer_group: group.to_owned(),
        mq_set: queues.iter().map(Into::into).collect(),
        only_this_broker: false,
    };
    let request = instance
        .new_request(request::UNLOCK_BATCH_MQ)
        .with_body(wire::encode_json(&body)?);
    instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await
        .map(|_| ())
}

/// GET_MAX_OFFSET / GET_MIN_OFFSET of a queue.
///
/// # Errors
/// Transport or broker errors.
pub async fn queue_offset(
    instance: &ClientInstance,
    queue: &MessageQueue,
    max: bool,
) -> Result<i64> {
    let addr = instance
        .master_addr_or_refresh(&queue.broker_name, &queue.topic)
        .await?;
    let code = if max {
        request::GET_MAX_OFFSET
    } else {
        request::GET_MIN_OFFSET
    };
    let mut request = instance.new_request(code);
    *request.ext_mut() = ext(&[
        ("topic", some(&queue.topic)),
        ("queueId", some(queue.queue_id)),
    ]);
    let response = instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await?;
    ext_number(&response, "offset")
}

/// SEARCH_OFFSET_BY_TIMESTAMP.
///
/// # Errors
/// Transport or broker errors.
pub async fn search_offset(
    instance: &ClientInstance,
    queue: &MessageQueue,
    timestamp_ms: i64,
) -> Result<i64> {
    let addr = instance
        .master_addr_or_refresh(&queue.broker_name, &queue.topic)
        .await?;
    let mut request = instance.new_request(request::SEARCH_OFFSET_BY_TIMESTAMP);
    *request.ext_mut() = ext(&[
        ("topic", some(&queue.topic)),
        ("queueId", some(queue.queue_id)),
        ("timestamp", some(timestamp_ms)),
    ]);
    let response = instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await?;
    ext_number(&response, "offset")
}

/// CONSUMER_SEND_MSG_BACK: hands a failed message to the broker's retry path.
///
/// # Errors
/// Transport or broker errors.
pub async fn send_message_back(
    instance: &ClientInstance,
    group: &str,
    message: &MessageExt,
    delay_level: i32,
    max_reconsume_times: i32,
) -> Result<()> {
    let addr = match instance.master_addr(&message.broker_name) {
        Some(addr) => addr,
        None => message.store_host.to_string(),
    };
    let mut request = instance.new_request(request::CONSUMER_SEND_MSG_BACK);
    *request.ext_mut() = ext(&[
        ("offset", some(message.commit_log_offset)),
        ("group", some(group)),
        ("delayLevel", some(delay_level)),
        ("originMsgId", some(message.msg_id())),
        ("originTopic", some(&message.topic)),
        ("unitMode", some(false)),
        ("maxReconsumeTimes", some(max_reconsume_times)),
    ]);
    instance
        .remoting()
        .invoke_ok(&addr, request, instance.config().request_timeout)
        .await
        .map(|_| ())
}
