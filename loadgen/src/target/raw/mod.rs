//! [`RawTarget`]: the [`LoadTarget`] built directly on the `protocol` codec.
//!
//! Discovery: with `--broker`, the topic is created on that broker and its queues are used
//! as given. Otherwise the name server's route for the topic is used; if the topic does not
//! exist, the brokers that serve `TBW102` (auto-create) get `UPDATE_AND_CREATE_TOPIC`. Every
//! address, including those the name server returns, passes the loopback guard.
//!
//! Producer connection `i` goes to broker `i % brokers` and round-robins over that broker's
//! queues; consumers are assigned per broker by [`assign_queues`].

mod consumer;
mod producer;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use protocol::code::{request, response};

pub use consumer::{end_to_end_latencies, end_to_end_us, RawConsumer};
pub use producer::{alphanumeric_body, RawProducer, SendTemplate};

use super::route;
use super::{ConsumerConnection, LoadTarget, ProducerConnection, QueueRef, TargetError};
use crate::config::Workload;
use crate::stats::Recorder;

const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);
/// `TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC`.
const AUTO_CREATE_TOPIC: &str = "TBW102";

/// The raw-protocol target.
#[derive(Debug, Clone)]
pub struct RawTarget {
    workload: Workload,
    queues: Vec<QueueRef>,
    description: String,
}

impl RawTarget {
    /// Finds (or creates) the topic's queues.
    ///
    /// # Errors
    /// Unreachable name server/broker, a refused creation, or no writable queue.
    pub fn discover(workload: &Workload) -> Result<RawTarget, TargetError> {
        let queues = match &workload.broker {
            Some(broker) => {
                create_topic(workload, broker)?;
                queues_on(workload, "", broker)
            }
            None => queues_from_name_server(workload)?,
        };
        if queues.is_empty() {
            return Err(TargetError::Protocol(format!(
                "topic {} has no writable queue",
                workload.topic
            )));
        }
        let mut brokers: Vec<&str> = queues.iter().map(|q| q.broker_address.as_str()).collect();
        brokers.dedup();
        let description = format!(
            "raw protocol: {} | topic {} | {} queues on {}",
            workload
                .broker
                .as_deref()
                .map_or(format!("name server {}", workload.namesrv), |b| format!(
                    "broker {b}"
                )),
            workload.topic,
            queues.len(),
            brokers.join(", ")
        );
        Ok(RawTarget {
            workload: workload.clone(),
            queues,
            description,
        })
    }

    fn brokers(&self) -> Vec<(String, String)> {
        let mut brokers: Vec<(String, String)> = self
            .queues
            .iter()
            .map(|q| (q.broker_name.clone(), q.broker_address.clone()))
            .collect();
        brokers.dedup();
        brokers
    }
}

fn queues_on(workload: &Workload, broker_name: &str, address: &str) -> Vec<QueueRef> {
    (0..u32::try_from(workload.queues).unwrap_or(u32::MAX))
        .map(|queue_id| QueueRef {
            broker_name: broker_name.to_owned(),
            broker_address: address.to_owned(),
            queue_id,
        })
        .collect()
}

fn route_body(workload: &Workload, topic: &str) -> Result<Option<Vec<u8>>, TargetError> {
    let mut last_error = None;
    for address in workload
        .namesrv
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let attempt = (|| {
            let mut stream = wire::connect(address, workload.allow_remote)?;
            let command = wire::request(
                request::GET_ROUTEINFO_BY_TOPIC,
                1,
                &[("topic", topic.to_owned())],
            );
            wire::call(&mut stream, address, &command, CONTROL_TIMEOUT)
        })();
        match attempt {
            Ok(reply) if reply.code == response::SUCCESS => return Ok(Some(reply.body.to_vec())),
            Ok(reply) if reply.code == response::TOPIC_NOT_EXIST => return Ok(None),
            Ok(reply) => {
                last_error = Some(TargetError::Refused {
                    request: "GET_ROUTEINFO_BY_TOPIC",
                    code: reply.code,
                    remark: reply.remark.unwrap_or_default(),
                });
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| TargetError::Protocol("empty name server list".to_owned())))
}

fn queues_from_name_server(workload: &Workload) -> Result<Vec<QueueRef>, TargetError> {
    if let Some(body) = route_body(workload, &workload.topic)? {
        let queues = route::writable_queues(&body)?;
        for queue in &queues {
            route::checked_address(&queue.broker_address, workload.allow_remote)?;
        }
        return Ok(queues);
    }
    let Some(body) = route_body(workload, AUTO_CREATE_TOPIC)? else {
        return Err(TargetError::Protocol(format!(
            "topic {} does not exist and no broker serves {AUTO_CREATE_TOPIC} (auto-create is off): \
             create it (mqadmin updateTopic) or pass --broker",
            workload.topic
        )));
    };
    let mut queues = Vec::new();
    for (name, address) in route::masters(&body)? {
        create_topic(workload, &address).map_err(|error| match error {
            TargetError::Refused { request, code, remark } => TargetError::Refused {
                request,
                code,
                remark: format!("{remark} (the name server has no route for it; choose another --topic or create it)"),
            },
            other => other,
        })?;
        queues.extend(queues_on(workload, &name, &address));
    }
    Ok(queues)
}

/// `UPDATE_AND_CREATE_TOPIC` with the workload's queue count (idempotent on the broker).
fn create_topic(workload: &Workload, address: &str) -> Result<(), TargetError> {
    let queues = workload.queues.to_string();
    let fields = [
        ("topic", workload.topic.clone()),
        ("defaultTopic", AUTO_CREATE_TOPIC.to_owned()),
        ("readQueueNums", queues.clone()),
        ("writeQueueNums", queues),
        ("perm", "6".to_owned()),
        ("topicFilterType", "SINGLE_TAG".to_owned()),
        ("topicSysFlag", "0".to_owned()),
        ("order", "false".to_owned()),
    ];
    let mut stream = wire::connect(address, workload.allow_remote)?;
    let command = wire::request(request::UPDATE_AND_CREATE_TOPIC, 1, &fields);
    let reply = wire::call(&mut stream, address, &command, CONTROL_TIMEOUT)?;
    if reply.code != response::SUCCESS {
        return Err(TargetError::Refused {
            request: "UPDATE_AND_CREATE_TOPIC",
            code: reply.code,
            remark: reply.remark.unwrap_or_default(),
        });
    }
    Ok(())
}

/// Splits queues over `consumers` so that each consumer reads from one broker: consumers go
/// round-robin over brokers, and a broker's queues round-robin over its consumers. Consumers
/// beyond the number of queues get nothing (as in RocketMQ's averaging rebalance).
#[must_use]
pub fn assign_queues(queues: &[QueueRef], consumers: usize) -> Vec<Vec<QueueRef>> {
    let mut brokers: Vec<&str> = queues.iter().map(|q| q.broker_address.as_str()).collect();
    brokers.sort_unstable();
    brokers.dedup();
    let mut assignment = vec![Vec::new(); consumers];
    if brokers.is_empty() {
        return assignment;
    }
    for (broker_index, broker) in brokers.iter().enumerate() {
        let owners: Vec<usize> = (0..consumers)
            .filter(|c| c % brokers.len() == broker_index)
            .collect();
        if owners.is_empty() {
            continue;
        }
        let on_broker = queues.iter().filter(|q| q.broker_address == *broker);
        for (index, queue) in on_broker.enumerate() {
            assignment[owners[index % owners.len()]].push(queue.clone());
        }
    }
    assignment
}

impl LoadTarget for RawTarget {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn queues(&self) -> &[QueueRef] {
        &self.queues
    }

    fn broker_config(&self) -> Option<String> {
        let address = &self.queues.first()?.broker_address;
        let mut stream = wire::connect(address, self.workload.allow_remote).ok()?;
        let command = wire::request(request::GET_BROKER_CONFIG, 1, &[]);
        let reply = wire::call(&mut stream, address, &command, CONTROL_TIMEOUT).ok()?;
        (reply.code == response::SUCCESS).then(|| String::from_utf8_lossy(&reply.body).into_owned())
    }

    fn open_producer(
        &self,
        index: usize,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ProducerConnection>, TargetError> {
        let brokers = self.brokers();
        let (name, address) = &brokers[index % brokers.len()];
        let queue_ids: Vec<u32> = self
            .queues
            .iter()
            .filter(|q| &q.broker_address == address)
            .map(|q| q.queue_id)
            .collect();
        let broker_name = (!name.is_empty()).then(|| name.clone());
        let template = SendTemplate::new(&self.workload, broker_name, 0x5eed_0000 + index as u64);
        let producer = RawProducer::connect(
            address,
            self.workload.allow_remote,
            template,
            queue_ids,
            recorder,
        )?;
        Ok(Box::new(producer))
    }

    fn open_consumer(
        &self,
        queues: Vec<QueueRef>,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ConsumerConnection>, TargetError> {
        let Some(first) = queues.first() else {
            return Err(TargetError::Protocol(
                "a consumer needs at least one queue".to_owned(),
            ));
        };
        assert!(
            queues
                .iter()
                .all(|q| q.broker_address == first.broker_address),
            "assign_queues gives each consumer one broker"
        );
        let consumer = RawConsumer::connect(
            &first.broker_address,
            self.workload.allow_remote,
            &self.workload.topic,
            &self.workload.consumer_group,
            queues.iter().map(|q| q.queue_id).collect(),
            recorder,
        )?;
        Ok(Box::new(consumer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(broker: &str, queue_id: u32) -> QueueRef {
        QueueRef {
            broker_name: broker.to_owned(),
            broker_address: broker.to_owned(),
            queue_id,
        }
    }

    #[test]
    fn assignment_keeps_each_consumer_on_one_broker() {
        let queues: Vec<QueueRef> = (0..4)
            .map(|q| queue("a", q))
            .chain((0..2).map(|q| queue("b", q)))
            .collect();
        let three = assign_queues(&queues, 3);
        assert_eq!(
            three[0].iter().map(|q| q.queue_id).collect::<Vec<_>>(),
            [0, 2]
        );
        assert_eq!(
            three[2].iter().map(|q| q.queue_id).collect::<Vec<_>>(),
            [1, 3]
        );
        assert!(three[1].iter().all(|q| q.broker_address == "b"));
        assert_eq!(three.iter().map(Vec::len).sum::<usize>(), 6);
        let many = assign_queues(&queues[..2], 4);
        assert_eq!(many.iter().filter(|c| c.is_empty()).count(), 2);
        assert!(assign_queues(&[], 2).iter().all(Vec::is_empty));
    }
}
