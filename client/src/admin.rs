//! [`AdminClient`]: the admin requests `mqadmin` needs (RocketMQ's `DefaultMQAdminExt`).
//! Name-server requests go to every configured name server where Java does so (KV config,
//! topic deletion, write permission); broker requests go to the address given.

use std::collections::BTreeMap;
use std::time::Duration;

use protocol::body::consumer::{ConsumerConnection, GroupList, ProducerConnection};
use protocol::body::route::{ClusterInfo, JsonBody, KvTable, TopicList, TopicRouteData};
use protocol::body::stats::{ConsumeStats, ResetOffsetBody, TopicStatsTable};
use protocol::body::subscription::SubscriptionGroupConfig;
use protocol::code::{request, response};
use protocol::message::OffsetMessageId;
use protocol::RemotingCommand;

use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::message::{MessageExt, AUTO_CREATE_TOPIC_KEY};
use crate::remoting::expect_code;
use crate::wire::{ext, ext_number, some};

/// What UPDATE_AND_CREATE_TOPIC sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    pub topic: String,
    /// Default: 8.
    pub read_queue_nums: i32,
    /// Default: 8.
    pub write_queue_nums: i32,
    /// Default: 6 (read + write).
    pub perm: i32,
    pub order: bool,
}

impl TopicConfig {
    #[must_use]
    pub fn new(topic: impl Into<String>) -> TopicConfig {
        TopicConfig {
            topic: topic.into(),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            order: false,
        }
    }
}

/// Admin operations over one client instance.
pub struct AdminClient {
    instance: ClientInstance,
}

impl AdminClient {
    /// Connects lazily to the name servers in `config`.
    ///
    /// # Errors
    /// [`ClientError::NoNameServer`].
    pub fn start(config: ClientConfig) -> Result<AdminClient> {
        Ok(AdminClient {
            instance: ClientInstance::start(config)?,
        })
    }

    #[must_use]
    pub fn instance(&self) -> &ClientInstance {
        &self.instance
    }

    fn timeout(&self) -> Duration {
        self.instance.config().request_timeout
    }

    async fn broker_ok(&self, addr: &str, request: RemotingCommand) -> Result<RemotingCommand> {
        self.instance
            .remoting()
            .invoke_ok(addr, request, self.timeout())
            .await
    }

    /// Sends `request` to every name server; fails if any refuses.
    async fn all_namesrv_ok(&self, request: RemotingCommand) -> Result<Vec<RemotingCommand>> {
        let mut responses = Vec::new();
        for addr in self.instance.namesrv_addrs() {
            let response = self
                .instance
                .remoting()
                .invoke(addr, request.clone(), self.timeout())
                .await
                .map_err(|error| match error {
                    error if error.is_transport() => ClientError::NameServerUnreachable {
                        tried: addr.clone(),
                        last_error: error.to_string(),
                    },
                    other => other,
                })?;
            responses.push(expect_code(addr, response, &[response::SUCCESS])?);
        }
        Ok(responses)
    }

    /// GET_BROKER_CLUSTER_INFO.
    ///
    /// # Errors
    /// Name server or decode errors.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let request = self.instance.new_request(request::GET_BROKER_CLUSTER_INFO);
        let response = self.instance.invoke_namesrv_ok(request).await?;
        ClusterInfo::decode(&response.body).map_err(|e| ClientError::decode("ClusterInfo", e))
    }

    /// Master addresses of `cluster` (all clusters when `None`), sorted.
    ///
    /// # Errors
    /// As [`AdminClient::cluster_info`]; unknown cluster → [`ClientError::InvalidArgument`].
    pub async fn master_addrs(&self, cluster: Option<&str>) -> Result<Vec<String>> {
        let info = self.cluster_info().await?;
        let names: Vec<String> = match cluster {
            Some(cluster) => info
                .cluster_addr_table
                .get(cluster)
                .ok_or_else(|| {
                    ClientError::InvalidArgument(format!("cluster {cluster} not found"))
                })?
                .iter()
                .cloned()
                .collect(),
            None => info.broker_addr_table.keys().cloned().collect(),
        };
        let mut addrs: Vec<String> = names
            .iter()
            .filter_map(|name| info.broker_addr_table.get(name))
            .filter_map(|broker| broker.broker_addrs.get(&0).cloned())
            .collect();
        addrs.sort();
        Ok(addrs)
    }

    /// GET_ROUTEINFO_BY_TOPIC.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`] and name server errors.
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteData> {
        self.instance.fetch_route(topic).await
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn topic_list(&self) -> Result<TopicList> {
        let request = self
            .instance
            .new_request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
        let response = self.instance.invoke_namesrv_ok(request).await?;
        TopicList::decode(&response.body).map_err(|e| ClientError::decode("TopicList", e))
    }

    /// GET_TOPICS_BY_CLUSTER.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn topics_by_cluster(&self, cluster: &str) -> Result<TopicList> {
        let mut request = self.instance.new_request(request::GET_TOPICS_BY_CLUSTER);
        *request.ext_mut() = ext(&[("cluster", some(cluster))]);
        let response = self.instance.invoke_namesrv_ok(request).await?;
        TopicList::decode(&response.body).map_err(|e| ClientError::decode("TopicList", e))
    }

    /// UPDATE_AND_CREATE_TOPIC on one broker.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn create_topic(&self, broker_addr: &str, config: &TopicConfig) -> Result<()> {
        crate::producer::validate_topic(&config.topic)?;
        let mut request = self.instance.new_request(request::UPDATE_AND_CREATE_TOPIC);
        *request.ext_mut() = ext(&[
            ("topic", some(&config.topic)),
            ("defaultTopic", some(AUTO_CREATE_TOPIC_KEY)),
            ("readQueueNums", some(config.read_queue_nums)),
            ("writeQueueNums", some(config.write_queue_nums)),
            ("perm", some(config.perm)),
            ("topicFilterType", some("SINGLE_TAG")),
            ("topicSysFlag", some(0)),
            ("order", some(config.order)),
        ]);
        self.broker_ok(broker_addr, request).await.map(|_| ())
    }

    /// DELETE_TOPIC_IN_BROKER on each broker, then DELETE_TOPIC_IN_NAMESRV everywhere.
    ///
    /// # Errors
    /// Broker or name server errors.
    pub async fn delete_topic(
        &self,
        broker_addrs: &[String],
        topic: &str,
        cluster: Option<&str>,
    ) -> Result<()> {
        for addr in broker_addrs {
            let mut request = self.instance.new_request(request::DELETE_TOPIC_IN_BROKER);
            *request.ext_mut() = ext(&[("topic", some(topic))]);
            self.broker_ok(addr, request).await?;
        }
        let mut request = self.instance.new_request(request::DELETE_TOPIC_IN_NAMESRV);
        *request.ext_mut() = ext(&[
            ("topic", some(topic)),
            ("clusterName", cluster.map(str::to_owned)),
        ]);
        self.all_namesrv_ok(request).await.map(|_| ())
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn create_subscription_group(
        &self,
        broker_addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let body = serde_json::to_vec(config)
            .map_err(|e| ClientError::decode("SubscriptionGroupConfig", e))?;
        let request = self
            .instance
            .new_request(request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
            .with_body(body);
        self.broker_ok(broker_addr, request).await.map(|_| ())
    }

    /// DELETE_SUBSCRIPTIONGROUP.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn delete_subscription_group(
        &self,
        broker_addr: &str,
        group: &str,
        clean_offset: bool,
    ) -> Result<()> {
        let mut request = self.instance.new_request(request::DELETE_SUBSCRIPTIONGROUP);
        *request.ext_mut() = ext(&[
            ("groupName", some(group)),
            ("cleanOffset", some(clean_offset)),
        ]);
        self.broker_ok(broker_addr, request).await.map(|_| ())
    }

    /// UPDATE_BROKER_CONFIG with `key=value` lines.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn update_broker_config(
        &self,
        broker_addr: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<()> {
        let body: String = properties
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        let request = self
            .instance
            .new_request(request::UPDATE_BROKER_CONFIG)
            .with_body(body.into_bytes());
        self.broker_ok(broker_addr, request).await.map(|_| ())
    }

    /// GET_BROKER_CONFIG, parsed from its `key=value` lines.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn broker_config(&self, broker_addr: &str) -> Result<BTreeMap<String, String>> {
        let request = self.instance.new_request(request::GET_BROKER_CONFIG);
        let response = self.broker_ok(broker_addr, request).await?;
        Ok(parse_properties(&String::from_utf8_lossy(&response.body)))
    }

    /// GET_BROKER_RUNTIME_INFO.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn broker_runtime_info(&self, broker_addr: &str) -> Result<KvTable> {
        let request = self.instance.new_request(request::GET_BROKER_RUNTIME_INFO);
        let response = self.broker_ok(broker_addr, request).await?;
        KvTable::decode(&response.body).map_err(|e| ClientError::decode("KVTable", e))
    }

    /// GET_TOPIC_STATS_INFO on one broker.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn topic_stats(&self, broker_addr: &str, topic: &str) -> Result<TopicStatsTable> {
        let mut request = self.instance.new_request(request::GET_TOPIC_STATS_INFO);
        *request.ext_mut() = ext(&[("topic", some(topic))]);
        let response = self.broker_ok(broker_addr, request).await?;
        TopicStatsTable::decode(&response.body)
            .map_err(|e| ClientError::decode("TopicStatsTable", e))
    }

    /// GET_CONSUME_STATS on one broker (all topics of the group when `topic` is `None`).
    ///
    /// # Errors
    /// Broker errors.
    pub async fn consume_stats(
        &self,
        broker_addr: &str,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let mut request = self.instance.new_request(request::GET_CONSUME_STATS);
        *request.ext_mut() = ext(&[
            ("consumerGroup", some(group)),
            ("topic", topic.map(str::to_owned)),
        ]);
        let response = self.broker_ok(broker_addr, request).await?;
        ConsumeStats::decode(&response.body).map_err(|e| ClientError::decode("ConsumeStats", e))
    }

    /// GET_CONSUMER_CONNECTION_LIST.
    ///
    /// # Errors
    /// Broker errors (CONSUMER_NOT_ONLINE when nobody is connected).
    pub async fn consumer_connection(
        &self,
        broker_addr: &str,
        group: &str,
    ) -> Result<ConsumerConnection> {
        let mut request = self
            .instance
            .new_request(request::GET_CONSUMER_CONNECTION_LIST);
        *request.ext_mut() = ext(&[("consumerGroup", some(group))]);
        let response = self.broker_ok(broker_addr, request).await?;
        ConsumerConnection::decode(&response.body)
            .map_err(|e| ClientError::decode("ConsumerConnection", e))
    }

    /// GET_CONSUMER_RUNNING_INFO: the broker forwards it to the consumer `client_id` of
    /// `group` and returns its `ConsumerRunningInfo` JSON.
    ///
    /// # Errors
    /// Broker errors (the consumer not online, or not answering in time).
    pub async fn consumer_running_info(
        &self,
        broker_addr: &str,
        group: &str,
        client_id: &str,
    ) -> Result<serde_json::Value> {
        let mut request = self
            .instance
            .new_request(request::GET_CONSUMER_RUNNING_INFO);
        *request.ext_mut() = ext(&[
            ("consumerGroup", some(group)),
            ("clientId", some(client_id)),
            ("jstackEnable", some("false")),
        ]);
        let response = self.broker_ok(broker_addr, request).await?;
        protocol::body::fastjson::decode_lenient(&response.body, "ConsumerRunningInfo")
            .map_err(|e| ClientError::decode("ConsumerRunningInfo", e))
    }

    /// CONSUME_MESSAGE_DIRECTLY: the broker hands the message `offset_msg_id` to the consumer
    /// `client_id` of `group`, whose listener consumes it once; returns its
    /// `ConsumeMessageDirectlyResult` JSON.
    ///
    /// # Errors
    /// Broker errors (message or consumer not found, no answer in time).
    pub async fn consume_message_directly(
        &self,
        broker_addr: &str,
        group: &str,
        client_id: &str,
        offset_msg_id: &str,
    ) -> Result<serde_json::Value> {
        let mut request = self.instance.new_request(request::CONSUME_MESSAGE_DIRECTLY);
        *request.ext_mut() = ext(&[
            ("consumerGroup", some(group)),
            ("clientId", some(client_id)),
            ("msgId", some(offset_msg_id)),
        ]);
        let response = self.broker_ok(broker_addr, request).await?;
        protocol::body::fastjson::decode_lenient(&response.body, "ConsumeMessageDirectlyResult")
            .map_err(|e| ClientError::decode("ConsumeMessageDirectlyResult", e))
    }

    /// GET_PRODUCER_CONNECTION_LIST.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn producer_connection(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
    ) -> Result<ProducerConnection> {
        let mut request = self
            .instance
            .new_request(request::GET_PRODUCER_CONNECTION_LIST);
        *request.ext_mut() = ext(&[("producerGroup", some(group)), ("topic", some(topic))]);
        let response = self.broker_ok(broker_addr, request).await?;
        ProducerConnection::decode(&response.body)
            .map_err(|e| ClientError::decode("ProducerConnection", e))
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn topic_consumers(&self, broker_addr: &str, topic: &str) -> Result<GroupList> {
        let mut request = self
            .instance
            .new_request(request::QUERY_TOPIC_CONSUME_BY_WHO);
        *request.ext_mut() = ext(&[("topic", some(topic))]);
        let response = self.broker_ok(broker_addr, request).await?;
        GroupList::decode(&response.body).map_err(|e| ClientError::decode("GroupList", e))
    }

    /// QUERY_MESSAGE by key (or by unique key) on every broker of `topic`.
    ///
    /// # Errors
    /// Route errors; brokers answering QUERY_NOT_FOUND contribute nothing.
    pub async fn query_messages(
        &self,
        topic: &str,
        key: &str,
        max_count: i32,
        begin_ms: i64,
        end_ms: i64,
        unique_key: bool,
    ) -> Result<Vec<MessageExt>> {
        let route = self.topic_route(topic).await?;
        let mut found = Vec::new();
        for broker in &route.broker_datas {
            let Some(addr) = broker
                .broker_addrs
                .get(&0)
                .or_else(|| broker.broker_addrs.values().next())
            else {
                continue;
            };
            let mut request = self.instance.new_request(request::QUERY_MESSAGE);
            *request.ext_mut() = ext(&[
                ("topic", some(topic)),
                ("key", some(key)),
                ("maxNum", some(max_count)),
                ("beginTimestamp", some(begin_ms)),
                ("endTimestamp", some(end_ms)),
                ("_UNIQUE_KEY_QUERY", unique_key.then(|| "true".to_owned())),
            ]);
            let response = self
                .instance
                .remoting()
                .invoke(addr, request, self.timeout().max(Duration::from_secs(15)))
                .await?;
            match response.code {
                response::SUCCESS => {
                    found.extend(MessageExt::decode_all(&response.body, &broker.broker_name)?)
                }
                response::QUERY_NOT_FOUND => {}
                code => {
                    return Err(ClientError::Response {
                        addr: addr.clone(),
                        code,
                        remark: response.remark.unwrap_or_default(),
                    })
                }
            }
        }
        found.retain(|message| {
            if unique_key {
                message.msg_id() == key
            } else {
                message.keys().contains(&key)
            }
        });
        Ok(found)
    }

    /// VIEW_MESSAGE_BY_ID with an offset message id.
    ///
    /// # Errors
    /// A malformed id, or the broker's answer.
    pub async fn view_message(&self, offset_msg_id: &str) -> Result<MessageExt> {
        let id = OffsetMessageId::decode(offset_msg_id).map_err(|e| {
            ClientError::InvalidArgument(format!(
                "{offset_msg_id} is not an offset message id: {e}"
            ))
        })?;
        let addr = id.store_host.to_string();
        let mut request = self.instance.new_request(request::VIEW_MESSAGE_BY_ID);
        *request.ext_mut() = ext(&[("offset", some(id.commit_log_offset))]);
        let response = self.broker_ok(&addr, request).await?;
        MessageExt::decode_all(&response.body, "")?
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::decode("VIEW_MESSAGE_BY_ID body", "empty"))
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET: the broker resets the group's offsets of `topic` to
    /// the first message at or after `timestamp_ms` and tells online consumers.
    ///
    /// # Errors
    /// Broker errors.
    pub async fn reset_offset_by_time(
        &self,
        broker_addr: &str,
        topic: &str,
        group: &str,
        timestamp_ms: i64,
        force: bool,
    ) -> Result<ResetOffsetBody> {
        let mut request = self
            .instance
            .new_request(request::INVOKE_BROKER_TO_RESET_OFFSET);
        *request.ext_mut() = ext(&[
            ("topic", some(topic)),
            ("group", some(group)),
            ("timestamp", some(timestamp_ms)),
            ("isForce", some(force)),
        ]);
        let response = self.broker_ok(broker_addr, request).await?;
        if response.body.is_empty() {
            return Ok(ResetOffsetBody::default());
        }
        ResetOffsetBody::decode(&response.body)
            .map_err(|e| ClientError::decode("ResetOffsetBody", e))
    }

    /// PUT_KV_CONFIG on every name server.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn put_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        let mut request = self.instance.new_request(request::PUT_KV_CONFIG);
        *request.ext_mut() = ext(&[
            ("namespace", some(namespace)),
            ("key", some(key)),
            ("value", some(value)),
        ]);
        self.all_namesrv_ok(request).await.map(|_| ())
    }

    /// DELETE_KV_CONFIG on every name server.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn delete_kv_config(&self, namespace: &str, key: &str) -> Result<()> {
        let mut request = self.instance.new_request(request::DELETE_KV_CONFIG);
        *request.ext_mut() = ext(&[("namespace", some(namespace)), ("key", some(key))]);
        self.all_namesrv_ok(request).await.map(|_| ())
    }

    /// GET_KV_CONFIG from a name server; `None` when absent.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn kv_config(&self, namespace: &str, key: &str) -> Result<Option<String>> {
        let mut request = self.instance.new_request(request::GET_KV_CONFIG);
        *request.ext_mut() = ext(&[("namespace", some(namespace)), ("key", some(key))]);
        let response = self.instance.invoke_namesrv(request).await?;
        match response.code {
            response::SUCCESS => Ok(response.ext("value").map(str::to_owned)),
            response::QUERY_NOT_FOUND => Ok(None),
            code => Err(ClientError::Response {
                addr: self.instance.namesrv_addrs().join(";"),
                code,
                remark: response.remark.unwrap_or_default(),
            }),
        }
    }

    /// WIPE_WRITE_PERM_OF_BROKER (`wipe = true`) or ADD_WRITE_PERM_OF_BROKER on every name
    /// server; returns the affected topic count per name server.
    ///
    /// # Errors
    /// Name server errors.
    pub async fn set_write_perm(
        &self,
        broker_name: &str,
        wipe: bool,
    ) -> Result<Vec<(String, i32)>> {
        let (code, key) = if wipe {
            (request::WIPE_WRITE_PERM_OF_BROKER, "wipeTopicCount")
        } else {
            (request::ADD_WRITE_PERM_OF_BROKER, "addTopicCount")
        };
        let mut request = self.instance.new_request(code);
        *request.ext_mut() = ext(&[("brokerName", some(broker_name))]);
        let responses = self.all_namesrv_ok(request).await?;
        self.instance
            .namesrv_addrs()
            .iter()
            .zip(responses)
            .map(|(addr, response)| Ok((addr.clone(), ext_number(&response, key)?)))
            .collect()
    }

    /// Closes connections.
    pub async fn shutdown(&self) {
        self.instance.shutdown().await;
    }
}

/// Parses Java `Properties` text (`key=value` lines, `#` comments).
#[must_use]
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| {
            let split = line.find(['=', ':'])?;
            Some((
                line[..split].trim().to_owned(),
                line[split + 1..].trim().to_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_text() {
        let map = parse_properties("#c\nbrokerName=broker-a\n listenPort = 10911\nempty=\n");
        assert_eq!(map.get("brokerName").map(String::as_str), Some("broker-a"));
        assert_eq!(map.get("listenPort").map(String::as_str), Some("10911"));
        assert_eq!(map.get("empty").map(String::as_str), Some(""));
    }
}
