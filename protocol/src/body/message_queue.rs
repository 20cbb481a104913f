//! `MessageQueue` (`common/message/MessageQueue.java`): one queue of a topic on one broker,
//! as it appears in lock bodies and (as an object map key) in the stats bodies.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

use super::lenient;

/// `{"brokerName":..,"queueId":..,"topic":..}`. Ordered like Java's `compareTo`: topic,
/// then broker name, then queue id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MessageQueue {
    #[serde(
        rename = "brokerName",
        default,
        deserialize_with = "lenient::null_as_default"
    )]
    pub broker_name: String,
    #[serde(rename = "queueId", default, deserialize_with = "lenient::int")]
    pub queue_id: i32,
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub topic: String,
}

impl MessageQueue {
    #[must_use]
    pub fn new(topic: impl Into<String>, broker_name: impl Into<String>, queue_id: i32) -> Self {
        MessageQueue {
            broker_name: broker_name.into(),
            queue_id,
            topic: topic.into(),
        }
    }
}

impl Ord for MessageQueue {
    fn cmp(&self, other: &Self) -> Ordering {
        self.topic
            .cmp(&other.topic)
            .then_with(|| self.broker_name.cmp(&other.broker_name))
            .then_with(|| self.queue_id.cmp(&other.queue_id))
    }
}

impl PartialOrd for MessageQueue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_and_order() {
        let queue = MessageQueue::new("T", "broker-a", 3);
        assert_eq!(
            serde_json::to_string(&queue).unwrap(),
            r#"{"brokerName":"broker-a","queueId":3,"topic":"T"}"#
        );
        let parsed: MessageQueue =
            serde_json::from_str(r#"{"topic":"T","queueId":"3","brokerName":"broker-a","x":1}"#)
                .unwrap();
        assert_eq!(parsed, queue);
        assert!(MessageQueue::new("A", "z", 9) < MessageQueue::new("B", "a", 0));
        assert!(MessageQueue::new("A", "a", 9) < MessageQueue::new("A", "b", 0));
        assert!(MessageQueue::new("A", "a", 1) < MessageQueue::new("A", "a", 2));
    }
}
