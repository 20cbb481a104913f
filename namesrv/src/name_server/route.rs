//! Requests clients and tools read routes with: GET_ROUTEINFO_BY_TOPIC (105),
//! GET_BROKER_CLUSTER_INFO (106), GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
//! GET_TOPICS_BY_CLUSTER (224), GET_SYSTEM_TOPIC_LIST_FROM_NS (304) and the unit topic
//! lists (311, 312, 313).

use protocol::body::route::NAMESPACE_ORDER_TOPIC_CONFIG;
use protocol::code::response as resp;
use protocol::header::namesrv::{GetRouteInfoRequestHeader, GetTopicsByClusterRequestHeader};
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, WireError};

use super::{reject, success_with_json, NameServer};

/// `FAQUrl.suggestTodo(FAQUrl.APPLY_TOPIC_URL)`, appended to TOPIC_NOT_EXIST remarks.
pub const APPLY_TOPIC_SUGGESTION: &str =
    "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.";

/// The remark Java's name server gives for an unknown topic.
#[must_use]
pub fn topic_not_exist_remark(topic: &str) -> String {
    format!("No topic route info in name server for the topic: {topic}{APPLY_TOPIC_SUGGESTION}")
}

impl NameServer {
    /// The route is always written as standard JSON (quoted broker-id keys), which Java
    /// does for clients ≥ 4.9.4 or with `acceptStandardJsonOnly`; older readers accept it.
    pub(super) fn route_of_topic(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = GetRouteInfoRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let Some(mut route) = self.routes.topic_route(&header.topic) else {
            return Ok(reject(
                request,
                resp::TOPIC_NOT_EXIST,
                topic_not_exist_remark(&header.topic),
            ));
        };
        if self.config.order_message_enable {
            route.order_topic_conf = self
                .kv
                .get(NAMESPACE_ORDER_TOPIC_CONFIG, &header.topic)
                .map(str::to_owned);
        }
        success_with_json(request, &route)
    }

    pub(super) fn cluster_info(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        success_with_json(request, &self.routes.cluster_info())
    }

    pub(super) fn all_topics(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        if !self.config.enable_all_topic_list {
            return Ok(reject(request, resp::SYSTEM_ERROR, "disable"));
        }
        success_with_json(request, &self.routes.all_topics())
    }

    pub(super) fn topics_of_cluster(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        if !self.config.enable_topic_list {
            return Ok(reject(request, resp::SYSTEM_ERROR, "disable"));
        }
        let header = GetTopicsByClusterRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        success_with_json(request, &self.routes.topics_of_cluster(&header.cluster))
    }

    pub(super) fn system_topics(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        success_with_json(request, &self.routes.system_topics())
    }

    pub(super) fn unit_topics(
        &mut self,
        request: &RemotingCommand,
        matches: fn(i32) -> bool,
    ) -> Result<RemotingCommand, WireError> {
        if !self.config.enable_topic_list {
            return Ok(reject(request, resp::SYSTEM_ERROR, "disable"));
        }
        success_with_json(request, &self.routes.topics_with_sys_flag(matches))
    }
}
