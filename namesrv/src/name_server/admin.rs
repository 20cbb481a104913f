//! Admin requests: KV config (100, 101, 102, 219), write permissions (205, 327), topic
//! deletion (216) and the name server's own config (318, 319).

use protocol::code::response as resp;
use protocol::header::namesrv::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    DeleteKvConfigRequestHeader, DeleteTopicFromNamesrvRequestHeader, GetKvConfigRequestHeader,
    GetKvConfigResponseHeader, GetKvListByNamespaceRequestHeader, PutKvConfigRequestHeader,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use protocol::header::CommandHeader;
use protocol::{RemotingCommand, WireError};

use super::{reject, route_options, success, success_with_header, success_with_json, NameServer};
use crate::config::{parse_properties, NamesrvConfig, UPDATE_BLACK_LIST};

impl NameServer {
    pub(super) fn put_kv_config(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = PutKvConfigRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        self.kv.put(&header.namespace, &header.key, &header.value);
        Ok(success(request))
    }

    pub(super) fn get_kv_config(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = GetKvConfigRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        match self.kv.get(&header.namespace, &header.key) {
            Some(value) => Ok(success_with_header(
                request,
                &GetKvConfigResponseHeader {
                    value: Some(value.to_owned()),
                },
            )),
            None => Ok(reject(
                request,
                resp::QUERY_NOT_FOUND,
                format!(
                    "No config item, Namespace: {} Key: {}",
                    header.namespace, header.key
                ),
            )),
        }
    }

    pub(super) fn delete_kv_config(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header = DeleteKvConfigRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        self.kv.delete(&header.namespace, &header.key);
        Ok(success(request))
    }

    pub(super) fn kv_list_by_namespace(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header =
            GetKvListByNamespaceRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        match self.kv.namespace(&header.namespace) {
            Some(table) => success_with_json(request, &table),
            None => Ok(reject(
                request,
                resp::QUERY_NOT_FOUND,
                format!("No config item, Namespace: {}", header.namespace),
            )),
        }
    }

    pub(super) fn wipe_write_perm(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header =
            WipeWritePermOfBrokerRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let count = self.routes.wipe_write_perm(&header.broker_name);
        tracing::info!(
            target: "namesrv::request",
            broker_name = header.broker_name, count, "wipe write perm of broker"
        );
        Ok(success_with_header(
            request,
            &WipeWritePermOfBrokerResponseHeader {
                wipe_topic_count: i32::try_from(count).unwrap_or(i32::MAX),
            },
        ))
    }

    pub(super) fn add_write_perm(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header =
            AddWritePermOfBrokerRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        let count = self.routes.add_write_perm(&header.broker_name);
        tracing::info!(
            target: "namesrv::request",
            broker_name = header.broker_name, count, "add write perm of broker"
        );
        Ok(success_with_header(
            request,
            &AddWritePermOfBrokerResponseHeader {
                add_topic_count: i32::try_from(count).unwrap_or(i32::MAX),
            },
        ))
    }

    pub(super) fn delete_topic(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        let header =
            DeleteTopicFromNamesrvRequestHeader::decode_optional(request.ext_fields.as_ref())?;
        self.routes
            .delete_topic(&header.topic, header.cluster_name.as_deref());
        Ok(success(request))
    }

    /// UPDATE_NAMESRV_CONFIG: the body is properties text. Runtime keys take effect at once;
    /// startup-only, Java-only and unknown keys are ignored (Java ignores unknown keys);
    /// black-listed keys are refused with NO_PERMISSION.
    pub(super) fn update_config(
        &mut self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, WireError> {
        if request.body.is_empty() {
            return Ok(success(request));
        }
        let text = std::str::from_utf8(&request.body)
            .map_err(|_| WireError::InvalidUtf8 { field: "body" })?;
        let Ok(pairs) = parse_properties(text) else {
            return Ok(reject(
                request,
                resp::SYSTEM_ERROR,
                "string2Properties error",
            ));
        };
        if pairs
            .iter()
            .any(|(key, _)| UPDATE_BLACK_LIST.contains(&key.as_str()))
        {
            return Ok(reject(
                request,
                resp::NO_PERMISSION,
                "Can not update config in black list.",
            ));
        }
        let mut updated = self.config.clone();
        for (key, value) in &pairs {
            if !NamesrvConfig::is_runtime_key(key) {
                tracing::warn!(
                    target: "namesrv::config",
                    key, "update config: not a runtime setting, ignored"
                );
                continue;
            }
            if let Err(error) = updated.set(key, value) {
                return Ok(reject(request, resp::INVALID_PARAMETER, error.to_string()));
            }
        }
        if let Err(error) = updated.validate() {
            return Ok(reject(request, resp::INVALID_PARAMETER, error.to_string()));
        }
        tracing::info!(target: "namesrv::config", keys = pairs.len(), "config updated");
        self.routes.reconfigure(route_options(&updated));
        self.config = updated;
        Ok(success(request))
    }

    /// GET_NAMESRV_CONFIG: all settings as properties text.
    pub(super) fn namesrv_config(&mut self, request: &RemotingCommand) -> RemotingCommand {
        success(request).with_body(self.config.to_properties().into_bytes())
    }
}
