//! Control-plane operations of the admin surface (subscription groups 200/201/207,
//! connections 203/204, QUERY_TOPIC_CONSUME_BY_WHO 300), kept apart from the core
//! operations. They run synchronously on shard 0 like every [`ControlPlane`] operation.

use protocol::body::consumer::{Connection, ConsumerConnection, ProducerConnection};
use protocol::body::subscription::{SubscriptionGroupConfig, SubscriptionGroupWrapper};
use protocol::code::LanguageCode;
use protocol::header::topic as topic_names;

use super::{ClientChannel, ControlPlane, Effects};

/// Admin operations, carried by `ControlOp::Admin`.
#[derive(Debug)]
pub enum AdminOp {
    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP.
    PutGroup(Box<SubscriptionGroupConfig>),
    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG.
    AllGroups,
    /// DELETE_SUBSCRIPTIONGROUP: the group, its `%RETRY%` and `%DLQ%` topics.
    DeleteGroup(String),
    /// GET_CONSUMER_CONNECTION_LIST.
    ConsumerConnection(String),
    /// GET_PRODUCER_CONNECTION_LIST.
    ProducerConnection(String),
    /// Groups whose consumers subscribe a topic (QUERY_TOPIC_CONSUME_BY_WHO).
    SubscribedBy(String),
    /// The live connections of a consumer group (to push RESET_CONSUMER_CLIENT_OFFSET).
    ConsumerChannels(String),
    /// The connection of one consumer of a group (GET_CONSUMER_RUNNING_INFO and
    /// CONSUME_MESSAGE_DIRECTLY are forwarded to it).
    ConsumerChannel { group: String, client_id: String },
}

/// Answers to [`AdminOp`]s.
#[derive(Debug)]
pub enum AdminReply {
    Done,
    Groups(Box<SubscriptionGroupWrapper>),
    /// `None` when the group has no live consumer.
    ConsumerConnection(Option<Box<ConsumerConnection>>),
    ProducerConnection(ProducerConnection),
    GroupNames(Vec<String>),
    Channels(Vec<crate::mesh::ConnectionRef>),
    Channel(Option<crate::mesh::ConnectionRef>),
}

fn connection(channel: &ClientChannel) -> Connection {
    Connection {
        client_addr: channel.client_addr.clone(),
        client_id: channel.client_id.clone(),
        language: LanguageCode::from_name(&channel.language),
        version: channel.version,
    }
}

/// Runs one admin operation to completion.
pub fn run(plane: &mut ControlPlane, op: AdminOp, effects: &mut Effects) -> AdminReply {
    match op {
        AdminOp::PutGroup(config) => {
            assert!(!config.group_name.is_empty());
            plane.groups.put(*config);
            effects.groups_dirty = true;
            AdminReply::Done
        }
        AdminOp::AllGroups => AdminReply::Groups(Box::new(plane.groups.to_wrapper())),
        AdminOp::DeleteGroup(group) => {
            if plane.groups.remove(&group) {
                effects.groups_dirty = true;
            }
            for topic in [
                topic_names::retry_topic(&group),
                topic_names::dlq_topic(&group),
            ] {
                let _ = plane.delete_topic(&topic, effects);
            }
            AdminReply::Done
        }
        AdminOp::ConsumerConnection(group) => {
            let answer = plane
                .consumers
                .get(&group)
                .filter(|group| !group.clients.is_empty());
            AdminReply::ConsumerConnection(answer.map(|group| {
                Box::new(ConsumerConnection {
                    connection_set: group.clients.values().map(connection).collect(),
                    consume_from_where: group.consume_from_where,
                    consume_type: group.consume_type,
                    message_model: group.message_model,
                    subscription_table: group.subscriptions.clone(),
                })
            }))
        }
        AdminOp::ProducerConnection(group) => AdminReply::ProducerConnection(ProducerConnection {
            connection_set: plane
                .producers
                .get(&group)
                .map(|clients| clients.values().map(connection).collect())
                .unwrap_or_default(),
        }),
        AdminOp::ConsumerChannels(group) => AdminReply::Channels(
            plane
                .consumers
                .get(&group)
                .map(|group| group.clients.keys().copied().collect())
                .unwrap_or_default(),
        ),
        AdminOp::ConsumerChannel { group, client_id } => {
            AdminReply::Channel(plane.consumers.get(&group).and_then(|group| {
                group
                    .clients
                    .iter()
                    .find(|(_, channel)| channel.client_id == client_id)
                    .map(|(connection, _)| *connection)
            }))
        }
        AdminOp::SubscribedBy(topic) => AdminReply::GroupNames(
            plane
                .consumers
                .iter()
                .filter(|(_, group)| group.subscriptions.contains_key(&topic))
                .map(|(name, _)| name.clone())
                .collect(),
        ),
    }
}
