//! [`KvConfig`]: namespaced key/value settings (PUT/GET/DELETE_KV_CONFIG,
//! GET_KVLIST_BY_NAMESPACE). The ORDER_TOPIC_CONFIG namespace feeds routes' `orderTopicConf`.
//!
//! Optionally persisted to one JSON file, `{"configTable":{namespace:{key:value}}}` (Java's
//! `kvConfig.json`), rewritten whole (temporary file + rename) after every change. Changes
//! are rare admin operations, so the blocking write on the executor is acceptable.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use protocol::body::route::KvTable;

use crate::error::NamesrvError;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KvConfigFile {
    #[serde(default)]
    config_table: BTreeMap<String, BTreeMap<String, String>>,
}

/// The KV store. See the module docs.
#[derive(Debug, Default)]
pub struct KvConfig {
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    path: Option<PathBuf>,
}

impl KvConfig {
    /// An empty, in-memory store.
    #[must_use]
    pub fn in_memory() -> KvConfig {
        KvConfig::default()
    }

    /// Loads `path` if it exists (a missing file is an empty store) and persists there.
    ///
    /// # Errors
    /// [`NamesrvError::KvConfig`] if the file cannot be read or parsed.
    pub fn open(path: &Path) -> Result<KvConfig, NamesrvError> {
        let namespaces = match std::fs::read(path) {
            Ok(bytes) => {
                let file: KvConfigFile =
                    serde_json::from_slice(&bytes).map_err(|error| NamesrvError::KvConfig {
                        path: path.to_owned(),
                        reason: error.to_string(),
                    })?;
                file.config_table
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => {
                return Err(NamesrvError::KvConfig {
                    path: path.to_owned(),
                    reason: error.to_string(),
                })
            }
        };
        Ok(KvConfig {
            namespaces,
            path: Some(path.to_owned()),
        })
    }

    pub fn put(&mut self, namespace: &str, key: &str, value: &str) {
        self.namespaces
            .entry(namespace.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
        self.persist();
    }

    #[must_use]
    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.namespaces
            .get(namespace)
            .and_then(|table| table.get(key))
            .map(String::as_str)
    }

    /// Removes a key; an emptied namespace stays (as in Java) and lists as `{}`.
    pub fn delete(&mut self, namespace: &str, key: &str) {
        if let Some(table) = self.namespaces.get_mut(namespace) {
            if table.remove(key).is_some() {
                self.persist();
            }
        }
    }

    /// The namespace as a `KVTable`, or `None` if it was never created.
    #[must_use]
    pub fn namespace(&self, namespace: &str) -> Option<KvTable> {
        self.namespaces.get(namespace).map(|table| KvTable {
            table: table.clone(),
        })
    }

    fn persist(&self) {
        let Some(path) = &self.path else {
            return;
        };
        if let Err(error) = self.write_file(path) {
            tracing::error!(
                target: "namesrv::kv",
                path = %path.display(), %error,
                "persisting the KV config failed"
            );
        }
    }

    fn write_file(&self, path: &Path) -> std::io::Result<()> {
        let file = KvConfigFile {
            config_table: self.namespaces.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        let temporary = path.with_extension("tmp");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete_namespace() {
        let mut kv = KvConfig::in_memory();
        assert_eq!(kv.namespace("ns"), None);
        kv.put("ns", "a", "1");
        kv.put("ns", "a", "2");
        assert_eq!(kv.get("ns", "a"), Some("2"));
        kv.delete("ns", "a");
        assert_eq!(kv.get("ns", "a"), None);
        assert_eq!(kv.namespace("ns"), Some(KvTable::default()));
    }

    #[test]
    fn persists_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("namesrv").join("kvConfig.json");
        let mut kv = KvConfig::open(&path).unwrap();
        kv.put("ORDER_TOPIC_CONFIG", "T", "broker-a:4");
        let reloaded = KvConfig::open(&path).unwrap();
        assert_eq!(reloaded.get("ORDER_TOPIC_CONFIG", "T"), Some("broker-a:4"));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(KvConfig::open(&path).is_err());
    }
}
