//! Consumer offsets: [`OffsetStore::Remote`] keeps them on the broker (clustering;
//! UPDATE_CONSUMER_OFFSET oneway every 5 s and `commitOffset` in pulls),
//! [`OffsetStore::LocalFile`] in `{dir}/{clientId}/{group}/offsets.json` (broadcasting).
//!
//! The local file uses Java's `OffsetSerializeWrapper` text
//! (`{"offsetTable":{{"brokerName":..,"queueId":..,"topic":..}:offset}}`), so a Java
//! consumer can read it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use protocol::code::{request, response};

use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::message::MessageQueue;
use crate::wire::{self, ext, ext_number, some};

/// The in-memory offsets both kinds share.
#[derive(Debug, Default)]
pub struct OffsetTable {
    offsets: Mutex<HashMap<MessageQueue, i64>>,
}

impl OffsetTable {
    fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        if let Ok(mut offsets) = self.offsets.lock() {
            let slot = offsets.entry(mq.clone()).or_insert(offset);
            if !increase_only || offset > *slot {
                *slot = offset;
            }
        }
    }

    fn get(&self, mq: &MessageQueue) -> Option<i64> {
        self.offsets.lock().ok()?.get(mq).copied()
    }

    fn remove(&self, mq: &MessageQueue) {
        if let Ok(mut offsets) = self.offsets.lock() {
            offsets.remove(mq);
        }
    }

    fn snapshot(&self) -> Vec<(MessageQueue, i64)> {
        self.offsets
            .lock()
            .map(|offsets| offsets.iter().map(|(mq, o)| (mq.clone(), *o)).collect())
            .unwrap_or_default()
    }
}

/// Where a group's offsets live.
#[derive(Debug)]
pub enum OffsetStore {
    Remote { group: String, table: OffsetTable },
    LocalFile { path: PathBuf, table: OffsetTable },
}

/// `~/.rocketmq_offsets` (or the `rocketmq.client.localOffsetStoreDir` property).
#[must_use]
pub fn default_local_dir() -> PathBuf {
    if let Some(dir) = crate::config::system_property("rocketmq.client.localOffsetStoreDir") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".to_owned());
    PathBuf::from(home).join(".rocketmq_offsets")
}

impl OffsetStore {
    #[must_use]
    pub fn remote(group: &str) -> OffsetStore {
        OffsetStore::Remote {
            group: group.to_owned(),
            table: OffsetTable::default(),
        }
    }

    /// A local store under `dir/{client_id}/{group}/offsets.json`, loaded if present.
    #[must_use]
    pub fn local(dir: PathBuf, client_id: &str, group: &str) -> OffsetStore {
        let path = dir.join(client_id).join(group).join("offsets.json");
        let table = OffsetTable::default();
        if let Ok(text) = std::fs::read(&path) {
            if let Ok(wrapper) = wire::decode_body::<LocalWrapper>(&text, "offsets.json") {
                for (mq, offset) in wire::queue_keyed(wrapper.offset_table) {
                    table.update(&mq, offset, false);
                }
            }
        }
        OffsetStore::LocalFile { path, table }
    }

    fn table(&self) -> &OffsetTable {
        match self {
            OffsetStore::Remote { table, .. } | OffsetStore::LocalFile { table, .. } => table,
        }
    }

    /// Sets the offset in memory (`increase_only`: never move backwards).
    pub fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        self.table().update(mq, offset, increase_only);
    }

    #[must_use]
    pub fn read_memory(&self, mq: &MessageQueue) -> Option<i64> {
        self.table().get(mq)
    }

    pub fn remove(&self, mq: &MessageQueue) {
        self.table().remove(mq);
    }

    /// Reads the stored offset (the broker for remote); `None` = never committed.
    ///
    /// # Errors
    /// Transport or broker errors (remote).
    pub async fn read_store(
        &self,
        instance: &ClientInstance,
        mq: &MessageQueue,
    ) -> Result<Option<i64>> {
        match self {
            OffsetStore::LocalFile { table, .. } => Ok(table.get(mq)),
            OffsetStore::Remote { group, table } => {
                let offset = query_consumer_offset(instance, group, mq).await?;
                if let Some(offset) = offset {
                    table.update(mq, offset, false);
                }
                Ok(offset)
            }
        }
    }

    /// Persists the offsets of `queues` (all known queues when `None`).
    pub async fn persist(&self, instance: &ClientInstance, queues: Option<&[MessageQueue]>) {
        let entries: Vec<(MessageQueue, i64)> = self
            .table()
            .snapshot()
            .into_iter()
            .filter(|(mq, _)| queues.is_none_or(|wanted| wanted.contains(mq)))
            .collect();
        match self {
            OffsetStore::Remote { group, .. } => {
                for (mq, offset) in entries {
                    if let Err(error) =
                        update_consumer_offset(instance, group, &mq, offset, true).await
                    {
                        tracing::debug!(target: "client::consumer", topic = %mq.topic, queue_id = mq.queue_id, %error, "offset persist failed");
                    }
                }
            }
            OffsetStore::LocalFile { path, table } => {
                if let Err(error) = write_local(path, &table.snapshot()) {
                    tracing::warn!(target: "client::consumer", path = %path.display(), %error, "offset file write failed");
                }
            }
        }
    }
}

#[derive(Debug, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LocalWrapper {
    #[serde(default)]
    offset_table: std::collections::BTreeMap<String, i64>,
}

fn write_local(path: &std::path::Path, entries: &[(MessageQueue, i64)]) -> std::io::Result<()> {
    let mut text = String::from("{\"offsetTable\":{");
    for (index, (mq, offset)) in entries.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        let key = serde_json::to_string(mq).unwrap_or_default();
        text.push_str(&key);
        text.push(':');
        text.push_str(&offset.to_string());
    }
    text.push_str("}}");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

/// QUERY_CONSUMER_OFFSET; `None` when the broker has none (QUERY_NOT_FOUND).
///
/// # Errors
/// Transport errors or other codes.
pub async fn query_consumer_offset(
    instance: &ClientInstance,
    group: &str,
    mq: &MessageQueue,
) -> Result<Option<i64>> {
    let addr = instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    let mut request = instance.new_request(request::QUERY_CONSUMER_OFFSET);
    *request.ext_mut() = ext(&[
        ("consumerGroup", some(group)),
        ("topic", some(&mq.topic)),
        ("queueId", some(mq.queue_id)),
    ]);
    let response = instance
        .remoting()
        .invoke(&addr, request, instance.config().request_timeout)
        .await?;
    match response.code {
        response::SUCCESS => Ok(Some(ext_number(&response, "offset")?)),
        response::QUERY_NOT_FOUND => Ok(None),
        code => Err(ClientError::Response {
            addr,
            code,
            remark: response.remark.unwrap_or_default(),
        }),
    }
}

/// UPDATE_CONSUMER_OFFSET, oneway (as the Java client) or two-way.
///
/// # Errors
/// Transport errors; broker errors when two-way.
pub async fn update_consumer_offset(
    instance: &ClientInstance,
    group: &str,
    mq: &MessageQueue,
    offset: i64,
    oneway: bool,
) -> Result<()> {
    let addr = instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    let mut request = instance.new_request(request::UPDATE_CONSUMER_OFFSET);
    *request.ext_mut() = ext(&[
        ("consumerGroup", some(group)),
        ("topic", some(&mq.topic)),
        ("queueId", some(mq.queue_id)),
        ("commitOffset", some(offset)),
    ]);
    if oneway {
        instance.remoting().oneway(&addr, request).await
    } else {
        instance
            .remoting()
            .invoke_ok(&addr, request, instance.config().request_timeout)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_file_round_trip_in_java_format() {
        let dir = tempfile::tempdir().unwrap();
        let store = OffsetStore::local(dir.path().to_path_buf(), "1.2.3.4@x", "g");
        let mq = MessageQueue::new("T", "b", 2);
        store.update(&mq, 5, false);
        store.update(&mq, 3, true);
        assert_eq!(store.read_memory(&mq), Some(5));
        let OffsetStore::LocalFile { path, table } = &store else {
            unreachable!()
        };
        write_local(path, &table.snapshot()).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            text,
            r#"{"offsetTable":{{"topic":"T","brokerName":"b","queueId":2}:5}}"#
        );
        let again = OffsetStore::local(dir.path().to_path_buf(), "1.2.3.4@x", "g");
        assert_eq!(again.read_memory(&mq), Some(5));
    }
}
