//! Broker metadata that persists under `<store>/config`, in the Java broker's file formats:
//! topics (`topics.json`), subscription groups (`subscriptionGroup.json`) and consumer
//! offsets (`consumerOffset.json`). Plain synchronous data structures; the shards own them
//! (see the crate docs for which shard owns what).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use protocol::body::route::{
    perm, DataVersion, JsonBody, TopicConfig, TopicConfigSerializeWrapper,
};
use protocol::body::subscription::{SubscriptionGroupConfig, SubscriptionGroupWrapper};
use protocol::header::topic as topic_names;
use serde::{Deserialize, Serialize};

use crate::config::BrokerConfig;
use crate::persist;
use crate::store::now_ms;

/// File names under `<store>/config`.
pub const TOPICS_FILE: &str = "topics.json";
pub const SUBSCRIPTION_GROUPS_FILE: &str = "subscriptionGroup.json";
pub const CONSUMER_OFFSETS_FILE: &str = "consumerOffset.json";
pub const LAYOUT_FILE: &str = "brokerLayout.json";

/// A metadata file that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error(
        "the store at {path} was written with {stored} shards; start with --shards {stored} \
         (queue ownership depends on the shard count)"
    )]
    ShardCountMismatch { path: String, stored: u16 },
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    decode: impl Fn(&[u8]) -> Result<T, String>,
) -> Result<Option<T>, MetadataError> {
    let bytes = persist::read_optional(path).map_err(|source| MetadataError::Io {
        path: path.display().to_string(),
        source,
    })?;
    bytes
        .map(|bytes| {
            decode(&bytes).map_err(|reason| MetadataError::Parse {
                path: path.display().to_string(),
                reason,
            })
        })
        .transpose()
}

/// Queues of `BenchmarkTest` (the Java broker's number).
pub const BENCHMARK_TOPIC_QUEUES: i32 = 1024;

/// The topic table: every topic this broker serves. Owned by shard 0; every shard holds a
/// read-only copy updated through the mesh, each entry tagged with the revision that made it.
#[derive(Debug, Clone, Default)]
pub struct TopicTable {
    topics: BTreeMap<String, TopicConfig>,
    data_version: DataVersion,
}

impl TopicTable {
    /// The topics the Java broker creates at startup (`TopicConfigManager`).
    #[must_use]
    pub fn with_system_topics(config: &BrokerConfig) -> TopicTable {
        let mut table = TopicTable::default();
        let read_write = perm::READ | perm::WRITE;
        let queues = i32::try_from(config.default_topic_queue_nums).unwrap_or(8);
        table.put(TopicConfig::new(
            topic_names::SELF_TEST_TOPIC,
            1,
            read_write,
        ));
        if config.auto_create_topic_enable {
            table.put(TopicConfig::new(
                topic_names::AUTO_CREATE_TOPIC_KEY,
                queues,
                read_write | perm::INHERIT,
            ));
        }
        table.put(TopicConfig::new(
            config.broker_cluster_name.clone(),
            16,
            read_write | perm::INHERIT,
        ));
        table.put(TopicConfig::new(
            config.broker_name.clone(),
            1,
            read_write | perm::INHERIT,
        ));
        table.put(TopicConfig::new(
            topic_names::OFFSET_MOVED_EVENT,
            1,
            read_write,
        ));
        // The benchmark tools' topic, as the Java broker makes it: 1024 queues, so the
        // stock `Producer`/`Consumer` and loadgen's default run need no admin step.
        table.put(TopicConfig::new(
            topic_names::BENCHMARK_TOPIC,
            BENCHMARK_TOPIC_QUEUES,
            read_write,
        ));
        if config.trace_topic_enable {
            table.put(TopicConfig::new(
                config.msg_trace_topic_name.clone(),
                1,
                read_write,
            ));
        }
        let levels = i32::try_from(config.message_delay_levels_ms.len()).unwrap_or(18);
        table.put(TopicConfig::new(
            topic_names::SCHEDULE_TOPIC,
            levels,
            read_write,
        ));
        table.put(TopicConfig::new(
            format!("{}_REPLY_TOPIC", config.broker_cluster_name),
            1,
            read_write,
        ));
        table
    }

    /// Loads `topics.json` over the system topics.
    ///
    /// # Errors
    /// An unreadable or unparsable file.
    pub fn load(config: &BrokerConfig) -> Result<TopicTable, MetadataError> {
        let mut table = TopicTable::with_system_topics(config);
        let path = config.config_dir().join(TOPICS_FILE);
        if let Some(stored) = read_json(&path, |bytes| {
            TopicConfigSerializeWrapper::decode(bytes).map_err(|error| error.to_string())
        })? {
            table.data_version = stored.data_version;
            for (_, topic) in stored.topic_config_table {
                table.topics.insert(topic.topic_name.clone(), topic);
            }
        }
        Ok(table)
    }

    /// Inserts or replaces a topic; bumps the data version.
    pub fn put(&mut self, topic: TopicConfig) {
        assert!(!topic.topic_name.is_empty(), "topic name must not be empty");
        self.topics.insert(topic.topic_name.clone(), topic);
        self.bump();
    }

    /// Removes a topic; bumps the data version if it existed.
    pub fn remove(&mut self, name: &str) -> Option<TopicConfig> {
        let removed = self.topics.remove(name);
        if removed.is_some() {
            self.bump();
        }
        removed
    }

    fn bump(&mut self) {
        self.data_version.counter += 1;
        self.data_version.timestamp = now_ms();
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&TopicConfig> {
        self.topics.get(name)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    #[must_use]
    pub fn data_version(&self) -> DataVersion {
        self.data_version
    }

    pub fn iter(&self) -> impl Iterator<Item = &TopicConfig> {
        self.topics.values()
    }

    /// The `topics.json` form (also the topic part of a broker registration).
    #[must_use]
    pub fn to_wrapper(&self) -> TopicConfigSerializeWrapper {
        TopicConfigSerializeWrapper {
            data_version: self.data_version,
            topic_config_table: self.topics.clone(),
        }
    }
}

/// Subscription groups (`SubscriptionGroupConfig`), auto-created on first use when
/// `autoCreateSubscriptionGroup`. Owned by shard 0.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionGroups {
    groups: BTreeMap<String, SubscriptionGroupConfig>,
    data_version: DataVersion,
}

impl SubscriptionGroups {
    /// Loads `subscriptionGroup.json`.
    ///
    /// # Errors
    /// An unreadable or unparsable file.
    pub fn load(config: &BrokerConfig) -> Result<SubscriptionGroups, MetadataError> {
        let path = config.config_dir().join(SUBSCRIPTION_GROUPS_FILE);
        let mut groups = SubscriptionGroups::default();
        if let Some(stored) = read_json(&path, |bytes| {
            SubscriptionGroupWrapper::decode(bytes).map_err(|error| error.to_string())
        })? {
            groups.data_version = stored.data_version;
            groups.groups = stored.subscription_group_table;
        }
        Ok(groups)
    }

    #[must_use]
    pub fn get(&self, group: &str) -> Option<&SubscriptionGroupConfig> {
        self.groups.get(group)
    }

    /// The group, created with defaults if absent; `true` if it was created.
    pub fn ensure(&mut self, group: &str) -> (&SubscriptionGroupConfig, bool) {
        let mut created = false;
        if !self.groups.contains_key(group) {
            self.groups
                .insert(group.to_owned(), SubscriptionGroupConfig::new(group));
            self.data_version.counter += 1;
            self.data_version.timestamp = now_ms();
            created = true;
        }
        (&self.groups[group], created)
    }

    /// Creates or replaces a group (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).
    pub fn put(&mut self, config: SubscriptionGroupConfig) {
        self.groups.insert(config.group_name.clone(), config);
        self.data_version.counter += 1;
        self.data_version.timestamp = now_ms();
    }

    /// Removes a group; `true` if it existed.
    pub fn remove(&mut self, group: &str) -> bool {
        let removed = self.groups.remove(group).is_some();
        if removed {
            self.data_version.counter += 1;
            self.data_version.timestamp = now_ms();
        }
        removed
    }

    /// The GET_ALL_SUBSCRIPTIONGROUP_CONFIG body.
    #[must_use]
    pub fn to_wrapper(&self) -> SubscriptionGroupWrapper {
        SubscriptionGroupWrapper {
            data_version: self.data_version,
            subscription_group_table: self.groups.clone(),
            ..SubscriptionGroupWrapper::default()
        }
    }

    /// The `subscriptionGroup.json` text.
    ///
    /// # Errors
    /// Serialization failure (not expected).
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let wrapper = SubscriptionGroupWrapper {
            data_version: self.data_version,
            subscription_group_table: self.groups.clone(),
            ..SubscriptionGroupWrapper::default()
        };
        serde_json::to_vec_pretty(&wrapper)
    }
}

/// `"topic@group"`, the key of the offset table.
#[must_use]
pub fn offset_key(topic: &str, group: &str) -> String {
    format!("{topic}@{group}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffsetFile {
    #[serde(default)]
    offset_table: BTreeMap<String, BTreeMap<u32, u64>>,
}

/// Committed consumer offsets of the queues one shard owns.
#[derive(Debug, Default)]
pub struct ConsumerOffsets {
    /// `"topic@group"` → queue id → next offset to consume.
    table: HashMap<String, BTreeMap<u32, u64>>,
    dirty: bool,
}

impl ConsumerOffsets {
    /// Loads the entries of `consumerOffset.json` that `keep(topic, queue_id)` selects.
    ///
    /// # Errors
    /// An unreadable or unparsable file.
    pub fn load(
        config: &BrokerConfig,
        keep: impl Fn(&str, u32) -> bool,
    ) -> Result<ConsumerOffsets, MetadataError> {
        let path = config.config_dir().join(CONSUMER_OFFSETS_FILE);
        let mut offsets = ConsumerOffsets::default();
        let stored = read_json(&path, |bytes| {
            protocol::body::fastjson::decode_lenient::<OffsetFile>(bytes, "consumerOffset.json")
                .map_err(|error| error.to_string())
        })?;
        for (key, queues) in stored.map(|file| file.offset_table).unwrap_or_default() {
            let Some((topic, _group)) = key.split_once('@') else {
                continue;
            };
            let kept: BTreeMap<u32, u64> = queues
                .into_iter()
                .filter(|(queue_id, _)| keep(topic, *queue_id))
                .collect();
            if !kept.is_empty() {
                offsets.table.insert(key, kept);
            }
        }
        Ok(offsets)
    }

    #[must_use]
    pub fn get(&self, topic: &str, group: &str, queue_id: u32) -> Option<u64> {
        self.table
            .get(&offset_key(topic, group))
            .and_then(|queues| queues.get(&queue_id))
            .copied()
    }

    pub fn commit(&mut self, topic: &str, group: &str, queue_id: u32, offset: u64) {
        let queues = self.table.entry(offset_key(topic, group)).or_default();
        if queues.insert(queue_id, offset) != Some(offset) {
            self.dirty = true;
        }
    }

    /// Every entry, without touching the dirty flag (GET_ALL_CONSUMER_OFFSET).
    #[must_use]
    pub fn entries(&self) -> Vec<(String, u32, u64)> {
        self.table
            .iter()
            .flat_map(|(key, queues)| {
                queues
                    .iter()
                    .map(move |(queue_id, offset)| (key.clone(), *queue_id, *offset))
            })
            .collect()
    }

    /// Topics `group` has committed offsets for.
    #[must_use]
    pub fn topics_of_group(&self, group: &str) -> Vec<String> {
        self.table
            .keys()
            .filter_map(|key| key.split_once('@'))
            .filter(|(_, owner)| *owner == group)
            .map(|(topic, _)| topic.to_owned())
            .collect()
    }

    /// Groups with committed offsets of `topic`.
    #[must_use]
    pub fn groups_of_topic(&self, topic: &str) -> Vec<String> {
        self.table
            .keys()
            .filter_map(|key| key.split_once('@'))
            .filter(|(owner, _)| *owner == topic)
            .map(|(_, group)| group.to_owned())
            .collect()
    }

    /// Drops every offset of `group`.
    pub fn remove_group(&mut self, group: &str) {
        let before = self.table.len();
        self.table
            .retain(|key, _| key.split_once('@').is_none_or(|(_, owner)| owner != group));
        self.dirty |= self.table.len() != before;
    }

    pub fn remove_topic(&mut self, topic: &str) {
        let prefix = format!("{topic}@");
        let before = self.table.len();
        self.table.retain(|key, _| !key.starts_with(&prefix));
        self.dirty |= self.table.len() != before;
    }

    /// Every entry, and whether anything changed since the last snapshot.
    pub fn snapshot(&mut self) -> (bool, Vec<(String, u32, u64)>) {
        let dirty = std::mem::take(&mut self.dirty);
        let entries = self
            .table
            .iter()
            .flat_map(|(key, queues)| {
                queues
                    .iter()
                    .map(move |(queue_id, offset)| (key.clone(), *queue_id, *offset))
            })
            .collect();
        (dirty, entries)
    }
}

/// The `consumerOffset.json` text of merged shard snapshots.
///
/// # Errors
/// Serialization failure (not expected).
pub fn consumer_offsets_json(entries: &[(String, u32, u64)]) -> Result<Vec<u8>, serde_json::Error> {
    let mut file = OffsetFile::default();
    for (key, queue_id, offset) in entries {
        file.offset_table
            .entry(key.clone())
            .or_default()
            .insert(*queue_id, *offset);
    }
    serde_json::to_vec_pretty(&file)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layout {
    shards: u16,
}

/// Refuses a store written with another shard count; records the count on first start.
///
/// # Errors
/// [`MetadataError::ShardCountMismatch`] or an I/O error.
pub fn check_layout(config: &BrokerConfig) -> Result<(), MetadataError> {
    let path = config.config_dir().join(LAYOUT_FILE);
    let stored = read_json(&path, |bytes| {
        serde_json::from_slice::<Layout>(bytes).map_err(|error| error.to_string())
    })?;
    match stored {
        Some(layout) if layout.shards != config.shards => Err(MetadataError::ShardCountMismatch {
            path: config.store_path_root_dir.display().to_string(),
            stored: layout.shards,
        }),
        Some(_) => Ok(()),
        None => {
            let text = serde_json::to_vec(&Layout {
                shards: config.shards,
            })
            .map_err(|error| MetadataError::Parse {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?;
            persist::write_atomically(&path, &text).map_err(|source| MetadataError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_through_the_java_file_format() {
        let mut offsets = ConsumerOffsets::default();
        offsets.commit("T", "G", 0, 5);
        offsets.commit("T", "G", 3, 9);
        let (dirty, entries) = offsets.snapshot();
        assert!(dirty);
        let json = consumer_offsets_json(&entries).expect("json");
        let text = String::from_utf8(json.clone()).expect("utf8");
        assert!(text.contains("\"T@G\""), "{text}");
        let parsed: OffsetFile =
            protocol::body::fastjson::decode_lenient(&json, "offsets").expect("parses");
        assert_eq!(parsed.offset_table["T@G"][&3], 9);
        // The Java broker writes unquoted numeric keys.
        let java = br#"{"offsetTable":{"T@G":{0:7,1:8}}}"#;
        let parsed: OffsetFile =
            protocol::body::fastjson::decode_lenient(java, "offsets").expect("parses");
        assert_eq!(parsed.offset_table["T@G"][&1], 8);
    }

    #[test]
    fn system_topics_include_the_auto_create_template() {
        let table = TopicTable::with_system_topics(&BrokerConfig::default());
        let template = table.get("TBW102").expect("TBW102");
        let benchmark = table.get("BenchmarkTest").expect("BenchmarkTest");
        assert_eq!(benchmark.write_queue_nums, 1024);
        assert!(table.get("RMQ_SYS_TRACE_TOPIC").is_none(), "off by default");
        let traced = BrokerConfig {
            trace_topic_enable: true,
            ..BrokerConfig::default()
        };
        let table_traced = TopicTable::with_system_topics(&traced);
        let trace = table_traced
            .get("RMQ_SYS_TRACE_TOPIC")
            .expect("trace topic");
        assert_eq!(trace.write_queue_nums, 1);
        assert_eq!(template.perm, 7);
        assert_eq!(template.write_queue_nums, 8);
        assert!(table.get("DefaultCluster_REPLY_TOPIC").is_some());
    }
}
