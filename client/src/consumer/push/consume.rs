//! Feeding the listener. Concurrent: every batch of `consume_message_batch_max_size`
//! messages becomes a task, at most `consume_thread_max` listener calls at once (each on a
//! blocking thread); failures go back to the broker (CONSUMER_SEND_MSG_BACK) or, if that
//! fails, are consumed again locally after 5 s. Orderly: one task per queue takes batches in
//! offset order while it holds the queue lock.

use std::sync::Arc;
use std::time::Duration;

use protocol::message::properties::keys;

use crate::consumer::process_queue::ProcessQueue;
use crate::consumer::pull;
use crate::consumer::push::PushShared;
use crate::consumer::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, Listener, MessageListenerConcurrently, MessageListenerOrderly,
    MessageModel,
};
use crate::message::{retry_topic, MessageExt, MessageQueue};

/// Wait before consuming again locally when send-back failed.
const CONSUME_LATER_DELAY: Duration = Duration::from_millis(5000);
/// Orderly: wait when the lock is not held.
const ORDERLY_LOCK_WAIT: Duration = Duration::from_millis(100);
/// Delay level used when a message timed out in the listener.
const EXPIRED_DELAY_LEVEL: i32 = 3;
/// Expired messages handled per queue per cleanup pass.
const EXPIRED_PER_PASS_MAX: usize = 16;

/// Hands freshly pulled messages to the listener.
pub(super) fn submit(
    shared: &Arc<PushShared>,
    mq: &MessageQueue,
    pq: &Arc<ProcessQueue>,
    messages: Vec<MessageExt>,
    orderly_dispatch: bool,
) {
    match &shared.listener {
        Listener::Concurrently(listener) => {
            for chunk in messages.chunks(shared.options.consume_message_batch_max_size) {
                tokio::spawn(consume_concurrently(
                    shared.clone(),
                    listener.clone(),
                    mq.clone(),
                    pq.clone(),
                    chunk.to_vec(),
                ));
            }
        }
        Listener::Orderly(listener) => {
            if orderly_dispatch {
                tokio::spawn(consume_orderly(
                    shared.clone(),
                    listener.clone(),
                    mq.clone(),
                    pq.clone(),
                ));
            }
        }
    }
}

/// Restores the original topic of messages read from the group's retry topic.
fn reset_retry_topic(group: &str, messages: &mut [MessageExt]) {
    let retry = retry_topic(group);
    for message in messages {
        if let Some(original) = message.property(keys::RETRY_TOPIC) {
            if message.topic == retry {
                message.topic = original.to_owned();
            }
        }
    }
}

fn max_reconsume_times(shared: &PushShared, orderly: bool) -> i32 {
    match shared.options.max_reconsume_times {
        -1 if orderly => i32::MAX,
        -1 => 16,
        times => times,
    }
}

async fn consume_concurrently(
    shared: Arc<PushShared>,
    listener: Arc<dyn MessageListenerConcurrently>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    messages: Vec<MessageExt>,
) {
    let Ok(_permit) = shared.consume_permits.clone().acquire_owned().await else {
        return;
    };
    if pq.is_dropped() {
        return;
    }
    let offsets: Vec<i64> = messages.iter().map(|m| m.queue_offset).collect();
    pq.mark_started(&offsets);
    let mut for_listener = messages.clone();
    reset_retry_topic(&shared.options.group, &mut for_listener);
    let context = ConsumeConcurrentlyContext {
        queue: mq.clone(),
        delay_level_when_next_consume: 0,
        ack_index: i32::MAX,
    };
    let call = tokio::task::spawn_blocking(move || {
        let mut context = context;
        let status = listener.consume_message(&for_listener, &mut context);
        (status, context)
    })
    .await;
    let (status, context) = match call {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::warn!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, "listener panicked; retrying the batch");
            let context = ConsumeConcurrentlyContext {
                queue: mq.clone(),
                delay_level_when_next_consume: 0,
                ack_index: -1,
            };
            (ConsumeConcurrentlyStatus::ReconsumeLater, context)
        }
    };
    if pq.is_dropped() {
        return;
    }
    let last = i32::try_from(messages.len()).unwrap_or(i32::MAX) - 1;
    let ack_index = match status {
        ConsumeConcurrentlyStatus::ConsumeSuccess => context.ack_index.min(last),
        ConsumeConcurrentlyStatus::ReconsumeLater => -1,
    };
    let failed: Vec<MessageExt> = messages
        .iter()
        .skip(usize::try_from(ack_index + 1).unwrap_or(0))
        .cloned()
        .collect();
    let mut retry_locally = Vec::new();
    if shared.options.message_model == MessageModel::Clustering {
        let max = max_reconsume_times(&shared, false);
        for message in failed {
            let sent = pull::send_message_back(
                &shared.instance,
                &shared.options.group,
                &message,
                context.delay_level_when_next_consume,
                max,
            )
            .await;
            if let Err(error) = sent {
                tracing::debug!(target: "client::consumer", topic = %mq.topic, offset = message.queue_offset, %error, "send-back failed; consuming again later");
                retry_locally.push(message);
            }
        }
    } else if !failed.is_empty() {
        tracing::warn!(target: "client::consumer", topic = %mq.topic, count = failed.len(), "broadcasting: failed messages are dropped");
    }
    let done: Vec<i64> = messages
        .iter()
        .map(|m| m.queue_offset)
        .filter(|offset| !retry_locally.iter().any(|m| m.queue_offset == *offset))
        .collect();
    if let Some(offset) = pq.remove(&done) {
        if !pq.is_dropped() {
            shared.offsets.update(&mq, offset, true);
        }
    }
    if !retry_locally.is_empty() {
        for message in &mut retry_locally {
            message.reconsume_times += 1;
        }
        let (shared, pq) = (shared.clone(), pq.clone());
        tokio::spawn(async move {
            tokio::time::sleep(CONSUME_LATER_DELAY).await;
            submit(&shared, &mq, &pq, retry_locally, false);
        });
    }
}

async fn consume_orderly(
    shared: Arc<PushShared>,
    listener: Arc<dyn MessageListenerOrderly>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
) {
    let batch = shared.options.consume_message_batch_max_size;
    let suspend_ms =
        i64::try_from(shared.options.suspend_current_queue_time.as_millis()).unwrap_or(1000);
    loop {
        if pq.is_dropped() || shared.instance.is_shut_down() {
            pq.stop_running();
            return;
        }
        if shared.is_orderly_clustering() && !pq.holds_lock() {
            tokio::time::sleep(ORDERLY_LOCK_WAIT).await;
            continue;
        }
        let Ok(permit) = shared.consume_permits.clone().acquire_owned().await else {
            pq.stop_running();
            return;
        };
        let messages = pq.take(batch);
        if messages.is_empty() {
            return;
        }
        let mut for_listener = messages.clone();
        reset_retry_topic(&shared.options.group, &mut for_listener);
        let listener_call = listener.clone();
        let queue = mq.clone();
        let call = tokio::task::spawn_blocking(move || {
            let mut context = ConsumeOrderlyContext {
                queue,
                suspend_current_queue_time_ms: suspend_ms,
            };
            let status = listener_call.consume_message(&for_listener, &mut context);
            (status, context.suspend_current_queue_time_ms)
        })
        .await;
        drop(permit);
        let (status, suspend) =
            call.unwrap_or((ConsumeOrderlyStatus::SuspendCurrentQueueAMoment, suspend_ms));
        if pq.is_dropped() {
            pq.stop_running();
            return;
        }
        match status {
            ConsumeOrderlyStatus::Success => {
                if let Some(offset) = pq.commit() {
                    shared.offsets.update(&mq, offset, false);
                }
            }
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => {
                if give_up(&shared, &messages).await {
                    if let Some(offset) = pq.commit() {
                        shared.offsets.update(&mq, offset, false);
                    }
                    continue;
                }
                let mut again = messages;
                for message in &mut again {
                    message.reconsume_times += 1;
                }
                pq.make_available_again(&again);
                let wait =
                    Duration::from_millis(u64::try_from(suspend.clamp(10, 30_000)).unwrap_or(1000));
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Orderly: past the retry limit, hand the messages to the broker's DLQ path; true if all
/// were accepted.
async fn give_up(shared: &PushShared, messages: &[MessageExt]) -> bool {
    let max = max_reconsume_times(shared, true);
    if messages.iter().all(|m| m.reconsume_times < max) {
        return false;
    }
    for message in messages {
        let sent =
            pull::send_message_back(&shared.instance, &shared.options.group, message, -1, max)
                .await;
        if sent.is_err() {
            return false;
        }
    }
    true
}

impl PushShared {
    /// Sends back messages stuck in the listener longer than `consume_timeout`.
    pub(super) async fn clean_expired(&self) {
        if self.options.message_model != MessageModel::Clustering {
            return;
        }
        let timeout_ms =
            i64::try_from(self.options.consume_timeout.as_millis()).unwrap_or(i64::MAX);
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
        for (mq, pq) in owned {
            for message in pq.expired(timeout_ms, EXPIRED_PER_PASS_MAX) {
                let max = max_reconsume_times(self, false);
                let sent = pull::send_message_back(
                    &self.instance,
                    &self.options.group,
                    &message,
                    EXPIRED_DELAY_LEVEL,
                    max,
                )
                .await;
                if sent.is_ok() {
                    if let Some(offset) = pq.remove(&[message.queue_offset]) {
                        self.offsets.update(&mq, offset, true);
                    }
                }
            }
        }
    }
}
