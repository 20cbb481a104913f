//! Choosing the queue of a send from a key ([`MessageQueueSelector`]): RocketMQ's
//! `SelectMessageQueueByHash`, `…ByRandom` and `…ByMachineRoom`.

use std::collections::BTreeSet;

use protocol::message::java_string_hash;

use crate::message::{Message, MessageQueue};

/// Picks one of `queues` for `message` given the caller's `key` (an order id, a user id ...).
pub trait MessageQueueSelector: Send + Sync {
    /// Index into `queues`; `queues` is never empty.
    fn select(&self, queues: &[MessageQueue], message: &Message, key: &str) -> usize;
}

/// `abs(key.hashCode()) % n` with Java's `String.hashCode`, so Java and Rust producers
/// using string keys pick the same queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectByHash;

impl MessageQueueSelector for SelectByHash {
    fn select(&self, queues: &[MessageQueue], _message: &Message, key: &str) -> usize {
        debug_assert!(!queues.is_empty());
        let hash = java_string_hash(key).unsigned_abs() as usize;
        hash % queues.len()
    }
}

/// A random queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectByRandom;

impl MessageQueueSelector for SelectByRandom {
    fn select(&self, queues: &[MessageQueue], _message: &Message, _key: &str) -> usize {
        debug_assert!(!queues.is_empty());
        random_index(queues.len())
    }
}

/// Prefers queues of brokers in the given machine rooms (broker names whose
/// `@`-separated prefix names a room, as `room1@broker-a`); falls back to all queues.
#[derive(Debug, Clone, Default)]
pub struct SelectByMachineRoom {
    pub consumer_ridcs: BTreeSet<String>,
}

impl MessageQueueSelector for SelectByMachineRoom {
    fn select(&self, queues: &[MessageQueue], message: &Message, key: &str) -> usize {
        let in_room: Vec<usize> = queues
            .iter()
            .enumerate()
            .filter(|(_, mq)| {
                mq.broker_name
                    .split_once('@')
                    .is_some_and(|(room, _)| self.consumer_ridcs.contains(room))
            })
            .map(|(index, _)| index)
            .collect();
        if in_room.is_empty() {
            return SelectByHash.select(queues, message, key);
        }
        let hash = java_string_hash(key).unsigned_abs() as usize;
        in_room[hash % in_room.len()]
    }
}

/// A pseudo-random index below `bound` (xorshift on a per-thread seed; not cryptographic).
#[must_use]
pub fn random_index(bound: usize) -> usize {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    fn seed() -> u64 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |elapsed| elapsed.as_nanos() as u64);
        (nanos ^ u64::from(std::process::id())) | 1
    }
    debug_assert!(bound > 0);
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x % bound as u64) as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|i| MessageQueue::new("T", if i < 2 { "r1@a" } else { "r2@b" }, i))
            .collect()
    }

    #[test]
    fn hash_is_stable_and_in_range() {
        let qs = queues(4);
        let message = Message::new("T", "x");
        let first = SelectByHash.select(&qs, &message, "order-17");
        assert_eq!(first, SelectByHash.select(&qs, &message, "order-17"));
        // Java: Math.abs("order-17".hashCode()) % 4
        assert_eq!(
            first,
            (java_string_hash("order-17").unsigned_abs() % 4) as usize
        );
        for _ in 0..100 {
            assert!(SelectByRandom.select(&qs, &message, "") < 4);
        }
    }

    #[test]
    fn machine_room_prefers_its_room() {
        let qs = queues(4);
        let selector = SelectByMachineRoom {
            consumer_ridcs: ["r2".to_owned()].into_iter().collect(),
        };
        for key in ["a", "b", "c", "d", "e"] {
            let index = selector.select(&qs, &Message::new("T", "x"), key);
            assert!(index >= 2, "{key} -> {index}");
        }
    }
}
