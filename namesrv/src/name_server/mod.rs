//! [`NameServer`]: the synchronous core. It turns one decoded request into its response,
//! exactly as RocketMQ's `DefaultRequestProcessor` / `ClientRequestProcessor` answer,
//! over a [`RouteTable`] and a [`KvConfig`]. No I/O (except the optional KV file), no
//! async: the network shell in [`crate::server`] decodes frames, calls
//! [`NameServer::handle`] and writes what it returns.
//!
//! One function per request code, each mapping its domain rejections to response codes;
//! a header or body that does not decode becomes SYSTEM_ERROR with the decoder's message
//! (Java answers a `RemotingCommandException` the same way).
//!
//! Handlers by file: [`broker`] (what brokers send: 103, 104, 904, 322, 217), [`route`]
//! (what clients and tools read: 105, 106, topic lists), [`admin`] (KV config, write
//! permissions, topic deletion, name-server config).

mod admin;
mod broker;
mod route;

#[cfg(test)]
mod tests;

use bytes::BytesMut;
use protocol::body::route::JsonBody;
use protocol::code::{request as req, response as resp};
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, WireError};

use crate::config::NamesrvConfig;
use crate::kv_config::KvConfig;
use crate::route_table::{ConnectionId, ExpiredBroker, RouteTable, RouteTableOptions};

/// The name server's state and request handling. Lives on one executor; see the module
/// docs.
#[derive(Debug)]
pub struct NameServer {
    config: NamesrvConfig,
    routes: RouteTable,
    kv: KvConfig,
}

impl NameServer {
    /// A name server with empty routes. `config` should be validated.
    #[must_use]
    pub fn new(config: NamesrvConfig, kv: KvConfig) -> NameServer {
        NameServer {
            routes: RouteTable::new(route_options(&config)),
            config,
            kv,
        }
    }

    #[must_use]
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    #[must_use]
    pub fn config(&self) -> &NamesrvConfig {
        &self.config
    }

    /// Handles one request from `connection` at `now_ms` (monotonic milliseconds). Returns
    /// the response to write, or `None` for a oneway request (and for a stray response).
    pub fn handle(
        &mut self,
        request: &RemotingCommand,
        connection: ConnectionId,
        now_ms: u64,
    ) -> Option<RemotingCommand> {
        if request.is_response() {
            tracing::debug!(
                target: "namesrv::request",
                code = request.code, opaque = request.opaque,
                "dropping a response nobody asked for"
            );
            return None;
        }
        let response = self
            .dispatch(request, connection, now_ms)
            .unwrap_or_else(|error| reject(request, resp::SYSTEM_ERROR, error.to_string()));
        (!request.is_oneway()).then_some(response)
    }

    fn dispatch(
        &mut self,
        request: &RemotingCommand,
        connection: ConnectionId,
        now_ms: u64,
    ) -> Result<RemotingCommand, WireError> {
        match request.code {
            req::REGISTER_BROKER => self.register_broker(request, connection, now_ms),
            req::UNREGISTER_BROKER => self.unregister_broker(request),
            req::BROKER_HEARTBEAT => self.broker_heartbeat(request, now_ms),
            req::QUERY_DATA_VERSION => self.query_data_version(request, now_ms),
            req::REGISTER_TOPIC_IN_NAMESRV => self.register_topic(request),
            req::GET_ROUTEINFO_BY_TOPIC => self.route_of_topic(request),
            req::GET_BROKER_CLUSTER_INFO => self.cluster_info(request),
            req::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => self.all_topics(request),
            req::GET_TOPICS_BY_CLUSTER => self.topics_of_cluster(request),
            req::GET_SYSTEM_TOPIC_LIST_FROM_NS => self.system_topics(request),
            req::GET_UNIT_TOPIC_LIST => self.unit_topics(request, RouteTable::is_unit),
            req::GET_HAS_UNIT_SUB_TOPIC_LIST => self.unit_topics(request, RouteTable::is_unit_sub),
            req::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => {
                self.unit_topics(request, RouteTable::is_unit_sub_not_unit)
            }
            req::PUT_KV_CONFIG => self.put_kv_config(request),
            req::GET_KV_CONFIG => self.get_kv_config(request),
            req::DELETE_KV_CONFIG => self.delete_kv_config(request),
            req::GET_KVLIST_BY_NAMESPACE => self.kv_list_by_namespace(request),
            req::WIPE_WRITE_PERM_OF_BROKER => self.wipe_write_perm(request),
            req::ADD_WRITE_PERM_OF_BROKER => self.add_write_perm(request),
            req::DELETE_TOPIC_IN_NAMESRV => self.delete_topic(request),
            req::UPDATE_NAMESRV_CONFIG => self.update_config(request),
            req::GET_NAMESRV_CONFIG => Ok(self.namesrv_config(request)),
            code => Ok(reject(
                request,
                resp::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {code} not supported"),
            )),
        }
    }

    /// A connection closed: brokers registered over it are removed at once.
    pub fn connection_closed(&mut self, connection: ConnectionId) {
        self.routes.connection_closed(connection);
    }

    /// The liveness scan; returns the expired brokers (their connections should be closed).
    pub fn expire_brokers(&mut self, now_ms: u64) -> Vec<ExpiredBroker> {
        self.routes.expire_brokers(now_ms)
    }
}

fn route_options(config: &NamesrvConfig) -> RouteTableOptions {
    RouteTableOptions {
        broker_expiry_ms_default: config.broker_channel_expired_time_ms,
        delete_topic_with_broker_registration: config.delete_topic_with_broker_registration,
        support_acting_master: config.support_acting_master,
    }
}

/// SUCCESS with no header and no body.
fn success(request: &RemotingCommand) -> RemotingCommand {
    RemotingCommand::response_to(request, resp::SUCCESS)
}

/// SUCCESS carrying a typed response header.
fn success_with_header<H: CommandHeader>(request: &RemotingCommand, header: &H) -> RemotingCommand {
    let mut response = success(request);
    header.encode(response.ext_mut());
    response
}

/// SUCCESS carrying a JSON body.
fn success_with_json<B: JsonBody>(
    request: &RemotingCommand,
    body: &B,
) -> Result<RemotingCommand, WireError> {
    let mut bytes = BytesMut::new();
    body.encode(&mut bytes)?;
    Ok(success(request).with_body(bytes.freeze()))
}

/// A failure code with its remark.
fn reject(request: &RemotingCommand, code: i32, remark: impl Into<String>) -> RemotingCommand {
    RemotingCommand::response_to(request, code).with_remark(remark)
}
