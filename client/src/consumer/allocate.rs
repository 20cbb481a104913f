//! Queue allocation strategies (RocketMQ's `AllocateMessageQueueStrategy`): pure functions
//! from (this client, all clients, all queues) to this client's queues. Every client of a
//! group computes the same answer from the same sorted inputs, so no coordination is needed.
//! The algorithms match the Java ones, so mixed Java/Rust groups agree.

use std::collections::{BTreeMap, BTreeSet};

use crate::message::MessageQueue;

/// An allocation strategy.
pub trait AllocateStrategy: Send + Sync {
    /// The strategy's name (as Java's `getName()`).
    fn name(&self) -> &'static str;
    /// The queues of `current_client` given sorted `all_queues` and sorted `all_clients`.
    fn allocate(
        &self,
        current_client: &str,
        all_queues: &[MessageQueue],
        all_clients: &[String],
    ) -> Vec<MessageQueue>;
}

fn client_index(current_client: &str, all_clients: &[String]) -> Option<usize> {
    all_clients
        .iter()
        .position(|client| client == current_client)
}

/// Contiguous ranges, the first `queues % clients` clients get one more (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocateAveragely;

impl AllocateStrategy for AllocateAveragely {
    fn name(&self) -> &'static str {
        "AVG"
    }

    fn allocate(
        &self,
        current: &str,
        queues: &[MessageQueue],
        clients: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = client_index(current, clients) else {
            return Vec::new();
        };
        if queues.is_empty() {
            return Vec::new();
        }
        let (queue_count, client_count) = (queues.len(), clients.len());
        let remainder = queue_count % client_count;
        let average = if queue_count <= client_count {
            1
        } else if remainder > 0 && index < remainder {
            queue_count / client_count + 1
        } else {
            queue_count / client_count
        };
        let start = if remainder > 0 && index < remainder {
            index * average
        } else {
            index * average + remainder
        };
        let range = average.min(queue_count.saturating_sub(start));
        (0..range)
            .map(|offset| queues[(start + offset) % queue_count].clone())
            .collect()
    }
}

/// Round-robin: queue `i` goes to client `i % clients`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocateAveragelyByCircle;

impl AllocateStrategy for AllocateAveragelyByCircle {
    fn name(&self) -> &'static str {
        "AVG_BY_CIRCLE"
    }

    fn allocate(
        &self,
        current: &str,
        queues: &[MessageQueue],
        clients: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = client_index(current, clients) else {
            return Vec::new();
        };
        queues
            .iter()
            .enumerate()
            .filter(|(i, _)| i % clients.len() == index)
            .map(|(_, mq)| mq.clone())
            .collect()
    }
}

/// A fixed list, whatever the group looks like.
#[derive(Debug, Clone, Default)]
pub struct AllocateByConfig {
    pub queues: Vec<MessageQueue>,
}

impl AllocateStrategy for AllocateByConfig {
    fn name(&self) -> &'static str {
        "CONFIG"
    }

    fn allocate(
        &self,
        _current: &str,
        _queues: &[MessageQueue],
        _clients: &[String],
    ) -> Vec<MessageQueue> {
        self.queues.clone()
    }
}

/// Only queues of brokers in the given machine rooms (`room@broker` names), spread evenly.
#[derive(Debug, Clone, Default)]
pub struct AllocateByMachineRoom {
    pub consumer_idcs: BTreeSet<String>,
}

impl AllocateStrategy for AllocateByMachineRoom {
    fn name(&self) -> &'static str {
        "MACHINE_ROOM"
    }

    fn allocate(
        &self,
        current: &str,
        queues: &[MessageQueue],
        clients: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = client_index(current, clients) else {
            return Vec::new();
        };
        let in_rooms: Vec<&MessageQueue> = queues
            .iter()
            .filter(|mq| {
                mq.broker_name
                    .split('@')
                    .next()
                    .is_some_and(|room| self.consumer_idcs.contains(room))
            })
            .collect();
        let per_client = in_rooms.len() / clients.len();
        let remainder = in_rooms.len() % clients.len();
        let start = per_client * index;
        let mut result: Vec<MessageQueue> = in_rooms[start..start + per_client]
            .iter()
            .map(|mq| (*mq).clone())
            .collect();
        if remainder > index {
            result.push(in_rooms[index + per_client * clients.len()].clone());
        }
        result
    }
}

/// Consistent hashing with virtual nodes (MD5 ring, as Java's `ConsistentHashRouter`).
#[derive(Debug, Clone, Copy)]
pub struct AllocateConsistentHash {
    pub virtual_node_count: usize,
}

impl Default for AllocateConsistentHash {
    fn default() -> Self {
        AllocateConsistentHash {
            virtual_node_count: 10,
        }
    }
}

impl AllocateStrategy for AllocateConsistentHash {
    fn name(&self) -> &'static str {
        "CONSISTENT_HASH"
    }

    fn allocate(
        &self,
        current: &str,
        queues: &[MessageQueue],
        clients: &[String],
    ) -> Vec<MessageQueue> {
        if client_index(current, clients).is_none() {
            return Vec::new();
        }
        let mut ring: BTreeMap<u64, &str> = BTreeMap::new();
        for client in clients {
            for replica in 0..self.virtual_node_count {
                ring.insert(md5_hash(&format!("{client}-{replica}")), client);
            }
        }
        queues
            .iter()
            .filter(|mq| {
                let key = format!(
                    "MessageQueue [topic={}, brokerName={}, queueId={}]",
                    mq.topic, mq.broker_name, mq.queue_id
                );
                let hash = md5_hash(&key);
                let owner = ring
                    .range(hash..)
                    .next()
                    .or_else(|| ring.iter().next())
                    .map(|(_, client)| *client);
                owner == Some(current)
            })
            .cloned()
            .collect()
    }
}

/// The first four MD5 bytes as a big-endian number (Java's `MD5Hash.hash`).
fn md5_hash(key: &str) -> u64 {
    let digest = md5(key.as_bytes());
    u64::from(u32::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]))
}

/// MD5 (RFC 1321), for ring positions only.
fn md5(input: &[u8]) -> [u8; 16] {
    const SHIFTS: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let constants: Vec<u32> = (0..64u32)
        .map(|i| {
            let value = (f64::from(i + 1).sin().abs() * 4_294_967_296.0).floor();
            // In [0, 2^32): the cast is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let value = value as u32;
            value
        })
        .collect();
    let mut message = input.to_vec();
    let bit_length = (input.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_length.to_le_bytes());
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for chunk in message.chunks_exact(64) {
        let words: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(constants[i])
                .wrapping_add(words[g])
                .rotate_left(SHIFTS[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    let mut digest = [0u8; 16];
    for (index, word) in state.iter().enumerate() {
        digest[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues(n: i32) -> Vec<MessageQueue> {
        (0..n).map(|i| MessageQueue::new("T", "b", i)).collect()
    }

    fn clients(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    fn ids(allocated: &[MessageQueue]) -> Vec<i32> {
        allocated.iter().map(|mq| mq.queue_id).collect()
    }

    #[test]
    fn md5_known_vectors() {
        let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn averagely_matches_java() {
        let (qs, cs) = (queues(8), clients(3));
        assert_eq!(ids(&AllocateAveragely.allocate("c0", &qs, &cs)), [0, 1, 2]);
        assert_eq!(ids(&AllocateAveragely.allocate("c1", &qs, &cs)), [3, 4, 5]);
        assert_eq!(ids(&AllocateAveragely.allocate("c2", &qs, &cs)), [6, 7]);
        let cs = clients(5);
        assert_eq!(
            ids(&AllocateAveragely.allocate("c4", &queues(2), &cs)),
            Vec::<i32>::new()
        );
        assert_eq!(ids(&AllocateAveragely.allocate("c1", &queues(2), &cs)), [1]);
        assert!(AllocateAveragely.allocate("zz", &qs, &cs).is_empty());
    }

    #[test]
    fn by_circle_matches_java() {
        let (qs, cs) = (queues(8), clients(3));
        assert_eq!(
            ids(&AllocateAveragelyByCircle.allocate("c0", &qs, &cs)),
            [0, 3, 6]
        );
        assert_eq!(
            ids(&AllocateAveragelyByCircle.allocate("c2", &qs, &cs)),
            [2, 5]
        );
    }

    #[test]
    fn machine_room_and_config() {
        let qs: Vec<MessageQueue> = (0..6)
            .map(|i| MessageQueue::new("T", if i < 3 { "r1@a" } else { "r2@b" }, i))
            .collect();
        let strategy = AllocateByMachineRoom {
            consumer_idcs: ["r2".to_owned()].into_iter().collect(),
        };
        let cs = clients(2);
        assert_eq!(ids(&strategy.allocate("c0", &qs, &cs)), [3, 5]);
        assert_eq!(ids(&strategy.allocate("c1", &qs, &cs)), [4]);
        let config = AllocateByConfig { queues: queues(2) };
        assert_eq!(ids(&config.allocate("any", &qs, &cs)), [0, 1]);
    }

    #[test]
    fn strategies_cover_every_queue_once() {
        let strategies: Vec<Box<dyn AllocateStrategy>> = vec![
            Box::new(AllocateAveragely),
            Box::new(AllocateAveragelyByCircle),
            Box::new(AllocateConsistentHash::default()),
        ];
        for strategy in &strategies {
            for (queue_count, client_count) in [(8, 3), (3, 8), (16, 4), (1, 1)] {
                let (qs, cs) = (queues(queue_count), clients(client_count));
                let mut all: Vec<i32> = cs
                    .iter()
                    .flat_map(|c| ids(&strategy.allocate(c, &qs, &cs)))
                    .collect();
                all.sort_unstable();
                assert_eq!(
                    all,
                    (0..queue_count).collect::<Vec<_>>(),
                    "{}",
                    strategy.name()
                );
            }
        }
    }
}
