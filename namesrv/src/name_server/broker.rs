//! Requests brokers send: REGISTER_BROKER (103), UNREGISTER_BROKER (104),
//! BROKER_HEARTBEAT (904), QUERY_DATA_VERSION (322), REGISTER_TOPIC_IN_NAMESRV (217).

use protocol::body::route::{
    body_crc32, DataVersion, JsonBody, RegisterBrokerBody, TopicRouteData,
    NAMESPACE_ORDER_TOPIC_CONFIG,
};
use protocol::code::response as resp;
use protocol::header::namesrv::{
    BrokerHeartbeatRequestHeader, QueryDataVersionRequestHeader, QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, RegisterTopicRequestHeader,
    UnregisterBrokerRequestHeader,
};
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, WireError};

use super::{reject, success, success_with_header, NameServer};
use crate::route_table::{BrokerAddress, BrokerRegistration, ConnectionId, RegistrationOutcome};

impl NameServer {
    pub(super) fn register_broker(
        &mut self,
        request: &RemotingCommand,
        connection: ConnectionId,
        now_ms: u64,
    ) -> Result<RemotingCommand, WireError> {
        let header = RegisterBrokerRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        if header.body_crc32 != 0 && body_crc32(&request.body) != header.body_crc32 {
            tracing::warn!(
                target: "namesrv::request",
                broker = header.broker_addr, connection = connection.0,
                "register broker: crc32 not match"
            );
            return Ok(reject(request, resp::SYSTEM_ERROR, "crc32 not match"));
        }
        let body = if request.body.is_empty() {
            RegisterBrokerBody::default()
        } else {
            match RegisterBrokerBody::decode_body(
                &request.body,
                header.compressed,
                self.config.register_body_inflated_bytes_max,
            ) {
                Ok(body) => body,
                Err(error) => {
                    return Ok(reject(
                        request,
                        resp::SYSTEM_ERROR,
                        format!("Failed to decode RegisterBrokerBody: {error}"),
                    ))
                }
            }
        };
        let topic_count = body.topic_config_serialize_wrapper.topic_config_table.len();
        let topics_max = self.config.topics_per_registration_max;
        if topic_count > topics_max {
            return Ok(reject(
                request,
                resp::INVALID_PARAMETER,
                format!(
                    "register broker {} refused: {topic_count} topics exceed \
                     topicsPerRegistrationMax {topics_max}",
                    header.broker_name
                ),
            ));
        }
        let outcome = self.routes.register_broker(
            BrokerRegistration {
                cluster: header.cluster_name,
                broker_address: header.broker_addr,
                broker_name: header.broker_name,
                broker_id: header.broker_id,
                ha_server_address: header.ha_server_addr,
                zone_name: header.zone_name,
                heartbeat_timeout_ms: header
                    .heartbeat_timeout_millis
                    .map(|timeout| u64::try_from(timeout).unwrap_or(0)),
                enable_acting_master: header.enable_acting_master,
                topic_config: body.topic_config_serialize_wrapper,
                filter_servers: body.filter_server_list,
                connection,
            },
            now_ms,
        );
        let response_header = match outcome {
            RegistrationOutcome::Refused => {
                return Ok(reject(
                    request,
                    resp::SYSTEM_ERROR,
                    "register broker failed",
                ))
            }
            RegistrationOutcome::Conflict => RegisterBrokerResponseHeader::default(),
            RegistrationOutcome::Registered {
                ha_server_address,
                master_address,
            } => RegisterBrokerResponseHeader {
                ha_server_addr: ha_server_address,
                master_addr: master_address,
            },
        };
        let mut response = success_with_header(request, &response_header);
        if self.config.return_order_topic_config_to_broker {
            if let Some(table) = self.kv.namespace(NAMESPACE_ORDER_TOPIC_CONFIG) {
                response.body = table.to_bytes()?;
            }
        }
        Ok(response)
    }

    pub(super) fn unregister_broker(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = UnregisterBrokerRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let address = BrokerAddress {
            cluster: header.cluster_name,
            address: header.broker_addr,
        };
        self.routes.unregister_broker(&address, &header.broker_name);
        Ok(success(request))
    }

    pub(super) fn broker_heartbeat(
        &mut self,
        request: &RemotingCommand,
        now_ms: u64,
    ) -> Result<RemotingCommand, WireError> {
        let header = BrokerHeartbeatRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let address = BrokerAddress {
            cluster: header.cluster_name,
            address: header.broker_addr,
        };
        self.routes.touch_broker(&address, now_ms);
        Ok(success(request))
    }

    pub(super) fn query_data_version(
        &mut self,
        request: &RemotingCommand,
        now_ms: u64,
    ) -> Result<RemotingCommand, WireError> {
        let header = QueryDataVersionRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let version = DataVersion::decode(&request.body)?;
        let address = BrokerAddress {
            cluster: header.cluster_name,
            address: header.broker_addr,
        };
        let (changed, registered) = self.routes.query_data_version(&address, &version, now_ms);
        let mut response =
            success_with_header(request, &QueryDataVersionResponseHeader { changed });
        if let Some(registered) = registered {
            response.body = registered.to_bytes()?;
        }
        Ok(response)
    }

    pub(super) fn register_topic(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = RegisterTopicRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let route = TopicRouteData::decode(&request.body)?;
        self.routes.register_topic(&header.topic, route.queue_datas);
        Ok(success(request))
    }
}
