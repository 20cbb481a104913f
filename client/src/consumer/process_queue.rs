//! [`ProcessQueue`]: the pulled-but-not-yet-committed messages of one queue, by offset.
//! It drives flow control (count, bytes, offset span) and yields the offset that is safe to
//! commit: the lowest offset still being consumed, or one past the highest pulled.
//!
//! Lifecycle: created by rebalance when the queue is assigned; `dropped` when it is taken
//! away (pull and consume tasks then stop without committing).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;

use crate::message::{now_ms, MessageExt};

/// How long an orderly consumer trusts its broker lock (`rocketmq.client.rebalance.lockMaxLiveTime`).
pub const LOCK_MAX_LIVE_MS: i64 = 30_000;

#[derive(Debug, Default)]
struct State {
    messages: BTreeMap<i64, MessageExt>,
    /// Orderly: taken for consumption, not yet committed.
    consuming: BTreeMap<i64, MessageExt>,
    /// Concurrent: when consumption of an offset started (ms).
    started_ms: BTreeMap<i64, i64>,
    bytes: usize,
    queue_offset_max: i64,
    /// Orderly: a consume task is running for this queue.
    orderly_running: bool,
}

/// One queue's in-flight messages.
#[derive(Debug, Default)]
pub struct ProcessQueue {
    state: Mutex<State>,
    dropped: AtomicBool,
    locked: AtomicBool,
    last_lock_ms: AtomicI64,
}

impl ProcessQueue {
    #[must_use]
    pub fn new() -> ProcessQueue {
        ProcessQueue::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Adds pulled messages; returns true if an orderly consume task should be started.
    pub fn put(&self, messages: &[MessageExt]) -> bool {
        let mut state = self.state();
        for message in messages {
            if state
                .messages
                .insert(message.queue_offset, message.clone())
                .is_none()
            {
                state.bytes += message.body.len();
            }
            state.queue_offset_max = state.queue_offset_max.max(message.queue_offset);
        }
        let dispatch = !state.messages.is_empty() && !state.orderly_running;
        if dispatch {
            state.orderly_running = true;
        }
        dispatch
    }

    /// Removes consumed messages; returns the offset safe to commit, if any.
    pub fn remove(&self, offsets: &[i64]) -> Option<i64> {
        let mut state = self.state();
        if offsets.is_empty() && state.messages.is_empty() {
            return None;
        }
        for offset in offsets {
            state.started_ms.remove(offset);
            if let Some(message) = state.messages.remove(offset) {
                state.bytes = state.bytes.saturating_sub(message.body.len());
            }
        }
        Some(match state.messages.keys().next() {
            Some(first) => *first,
            None => state.queue_offset_max + 1,
        })
    }

    /// Notes that consumption of these offsets started now (for the timeout cleanup).
    pub fn mark_started(&self, offsets: &[i64]) {
        let now = now_ms();
        let mut state = self.state();
        for offset in offsets {
            state.started_ms.insert(*offset, now);
        }
    }

    /// Messages whose consumption started more than `timeout_ms` ago (at most `limit`).
    #[must_use]
    pub fn expired(&self, timeout_ms: i64, limit: usize) -> Vec<MessageExt> {
        let now = now_ms();
        let state = self.state();
        state
            .started_ms
            .iter()
            .filter(|(_, started)| now - **started > timeout_ms)
            .filter_map(|(offset, _)| state.messages.get(offset).cloned())
            .take(limit)
            .collect()
    }

    /// Messages held: pulled and not yet consumed, including (orderly) the batch being
    /// consumed, as Java's `msgCount` (flow control, and no offset commit while non-zero).
    #[must_use]
    pub fn message_count(&self) -> usize {
        let state = self.state();
        state.messages.len() + state.consuming.len()
    }

    #[must_use]
    pub fn message_bytes(&self) -> usize {
        self.state().bytes
    }

    /// Highest minus lowest offset held.
    #[must_use]
    pub fn offset_span(&self) -> i64 {
        let state = self.state();
        match (
            state.messages.keys().next(),
            state.messages.keys().next_back(),
        ) {
            (Some(first), Some(last)) => last - first,
            _ => 0,
        }
    }

    /// Orderly: takes up to `count` messages in offset order. When none are left the
    /// running flag is cleared in the same critical section, so a later `put` restarts.
    pub fn take(&self, count: usize) -> Vec<MessageExt> {
        let mut state = self.state();
        let mut taken = Vec::with_capacity(count);
        while taken.len() < count {
            let Some((offset, message)) = state.messages.pop_first() else {
                break;
            };
            state.consuming.insert(offset, message.clone());
            taken.push(message);
        }
        if taken.is_empty() {
            state.orderly_running = false;
        }
        taken
    }

    /// Orderly: the taken messages are consumed; returns the offset to commit.
    pub fn commit(&self) -> Option<i64> {
        let mut state = self.state();
        let last = state.consuming.keys().next_back().copied();
        let consumed: usize = state.consuming.values().map(|m| m.body.len()).sum();
        state.bytes = state.bytes.saturating_sub(consumed);
        state.consuming.clear();
        last.map(|offset| offset + 1)
    }

    /// Orderly: puts the taken messages back to be consumed again.
    pub fn make_available_again(&self, messages: &[MessageExt]) {
        let mut state = self.state();
        for message in messages {
            state.consuming.remove(&message.queue_offset);
            state.messages.insert(message.queue_offset, message.clone());
        }
    }

    /// Orderly: clears the running flag (after an abort).
    pub fn stop_running(&self) {
        self.state().orderly_running = false;
    }

    pub fn set_dropped(&self) {
        self.dropped.store(true, Ordering::Release);
    }

    #[must_use]
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Records the broker lock result.
    pub fn set_locked(&self, locked: bool) {
        self.locked.store(locked, Ordering::Release);
        if locked {
            self.last_lock_ms.store(now_ms(), Ordering::Release);
        }
    }

    /// True if locked and the lock is younger than [`LOCK_MAX_LIVE_MS`].
    #[must_use]
    pub fn holds_lock(&self) -> bool {
        self.locked.load(Ordering::Acquire)
            && now_ms() - self.last_lock_ms.load(Ordering::Acquire) <= LOCK_MAX_LIVE_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use protocol::message::Properties;

    pub(crate) fn message(offset: i64, bytes: usize) -> MessageExt {
        MessageExt {
            topic: "T".into(),
            body: Bytes::from(vec![0u8; bytes]),
            flag: 0,
            properties: Properties::new(),
            queue_id: 0,
            queue_offset: offset,
            commit_log_offset: offset * 100,
            sys_flag: 0,
            born_timestamp_ms: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp_ms: 0,
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            broker_name: "b".into(),
        }
    }

    #[test]
    fn commit_offset_is_lowest_in_flight() {
        let pq = ProcessQueue::new();
        pq.put(&[message(10, 5), message(11, 5), message(12, 5)]);
        assert_eq!(pq.message_count(), 3);
        assert_eq!(pq.message_bytes(), 15);
        assert_eq!(pq.offset_span(), 2);
        assert_eq!(pq.remove(&[11]), Some(10));
        assert_eq!(pq.remove(&[10]), Some(12));
        assert_eq!(pq.remove(&[12]), Some(13));
        assert_eq!(pq.message_bytes(), 0);
    }

    #[test]
    fn orderly_take_commit_and_rollback() {
        let pq = ProcessQueue::new();
        assert!(pq.put(&[message(0, 1), message(1, 1), message(2, 1)]));
        assert!(!pq.put(&[message(3, 1)]), "already running");
        let taken = pq.take(2);
        assert_eq!(
            taken.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
            [0, 1]
        );
        pq.make_available_again(&taken);
        let taken = pq.take(2);
        assert_eq!(taken[0].queue_offset, 0);
        assert_eq!(pq.commit(), Some(2));
        assert_eq!(pq.take(10).len(), 2);
        assert_eq!(pq.commit(), Some(4));
        assert!(pq.take(1).is_empty());
        assert!(pq.put(&[message(4, 1)]), "restarts after draining");
    }

    #[test]
    fn orderly_batch_being_consumed_still_counts() {
        let pq = ProcessQueue::new();
        pq.put(&[message(0, 3), message(1, 3)]);
        let taken = pq.take(1);
        assert_eq!(taken.len(), 1);
        assert_eq!(pq.message_count(), 2, "taken, not yet committed");
        assert_eq!(pq.message_bytes(), 6);
        assert_eq!(pq.commit(), Some(1));
        assert_eq!(pq.message_count(), 1);
        assert_eq!(pq.message_bytes(), 3);
    }

    #[test]
    fn lock_expiry() {
        let pq = ProcessQueue::new();
        assert!(!pq.holds_lock());
        pq.set_locked(true);
        assert!(pq.holds_lock());
        pq.last_lock_ms
            .store(now_ms() - LOCK_MAX_LIVE_MS - 1, Ordering::Release);
        assert!(!pq.holds_lock());
    }
}
