//! Queue → shard: a fixed function, so every shard computes the owner of any queue
//! without asking anyone. `(java_hash(topic) + queue_id) mod shards`: the queues of one
//! topic spread round-robin over the shards, starting at a topic-dependent shard.

use protocol::message::java_string_hash;

/// The shard that owns queue `queue_id` of `topic`.
#[must_use]
pub fn queue_shard(topic: &str, queue_id: u32, shards: u16) -> u16 {
    assert!(shards > 0, "at least one shard");
    // The hash's bits as unsigned so the sum never goes negative.
    #[allow(clippy::cast_sign_loss)]
    let hash = u64::from(java_string_hash(topic) as u32);
    let shard = (hash + u64::from(queue_id)) % u64::from(shards);
    u16::try_from(shard).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_of_a_topic_spread_round_robin() {
        let first = queue_shard("TopicTest", 0, 4);
        for queue_id in 0..16 {
            let shard = queue_shard("TopicTest", queue_id, 4);
            assert!(shard < 4);
            assert_eq!(u32::from(shard), (u32::from(first) + queue_id) % 4);
        }
        assert_eq!(queue_shard("anything", 7, 1), 0);
    }

    #[test]
    fn negative_java_hash_routes_in_range() {
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert!(java_string_hash("polygenelubricants") < 0);
        assert!(queue_shard("polygenelubricants", 3, 3) < 3);
    }
}
