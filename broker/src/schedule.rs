//! Delay levels (4.x `ScheduleMessageService`): a message with `DELAY = n` is stored in
//! `SCHEDULE_TOPIC_XXXX` queue `n - 1` with `REAL_TOPIC` / `REAL_QID`; the store writes its
//! deliver time (`storeTimestamp + messageDelayLevel[n - 1]`) into the consume-queue tags
//! slot. One delivery task per level runs on the shard that owns that level's queue
//! ([`crate::routing::queue_shard`]), reads the queue in order, sleeps on a glommio timer
//! until the head entry is due and re-puts it to the real topic/queue (one mesh hop if that
//! queue lives elsewhere), `DELAY` removed, keys/tags/`UNIQ_KEY` kept.
//!
//! # Timing
//!
//! An empty level is re-polled every [`IDLE_POLL`] (100 ms, Java's re-poll); a known head
//! entry is waited for exactly, so under no load delivery is within a few ms of due time
//! and at worst `IDLE_POLL` late for a message that arrived at an idle level.
//!
//! # Progress and restart
//!
//! The next queue offset per level is kept in memory and written to
//! `<store>/config/delayOffset.json` (Java format `{"offsetTable":{"1":n,...}}`, keys are
//! levels) every [`PERSIST_PERIOD`] when changed and at shutdown. Progress is recorded after
//! the re-put returned, so a crash re-delivers at most the entries delivered since the last
//! write (duplicates, never loss).
//!
//! Each shard writes only the levels it owns into the one shared file, under a process-wide
//! lock (read, merge, write atomically). That lock is on the persistence path (at most once
//! per second per shard, in the blocking pool), never on the data path; it is the price of
//! keeping the Java file layout with levels spread over shards.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::FutureExt;
use protocol::header::topic as topic_names;
use protocol::message::properties::{keys, Properties};
use protocol::message::record::RecordView;

use crate::mesh::{DataOp, DataReply};
use crate::shard::Shard;
use crate::store::{now_ms, MessageToStore};

const LOG: &str = "broker::schedule";

/// Re-poll period of an empty level.
pub const IDLE_POLL: Duration = Duration::from_millis(100);
/// How often changed progress is written.
pub const PERSIST_PERIOD: Duration = Duration::from_secs(1);
/// Back-off after a failed read or re-put.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// Entries read per poll.
const READ_COUNT_MAX: u32 = 32;
const READ_BYTES_MAX: u32 = 4 << 20;
/// Next queue offset per delay level, shared by a shard's level tasks, its persister and
/// GET_ALL_DELAY_OFFSET.
pub type DelayProgress = Rc<RefCell<BTreeMap<u32, u64>>>;

/// The progress file under `<store>/config`.
pub const DELAY_OFFSET_FILE: &str = "delayOffset.json";

/// Serializes read-merge-write of `delayOffset.json` between shards (see module docs).
static PROGRESS_FILE_LOCK: Mutex<()> = Mutex::new(());

/// Rewrites a message for a delay level: `Some((SCHEDULE_TOPIC_XXXX, level - 1))` when the
/// properties carry `DELAY > 0` (clamped to the configured level count, written back
/// clamped), with `REAL_TOPIC` / `REAL_QID` set. System topics are never delayed.
pub fn transform_delay(
    properties: &mut Properties,
    topic: &str,
    queue_id: u32,
    level_count: usize,
) -> Option<(String, u32)> {
    if level_count == 0 || topic_names::is_send_refused(topic) {
        return None;
    }
    let level = properties
        .get(keys::DELAY)
        .and_then(|value| value.trim().parse::<i64>().ok())
        .filter(|level| *level > 0)?;
    let level = usize::try_from(level)
        .unwrap_or(usize::MAX)
        .min(level_count);
    properties.insert(keys::DELAY, &level.to_string());
    properties.insert(keys::REAL_TOPIC, topic);
    properties.insert(keys::REAL_QID, &queue_id.to_string());
    let queue = u32::try_from(level - 1).expect("level count fits u32");
    Some((topic_names::SCHEDULE_TOPIC.to_owned(), queue))
}

/// The delay tasks of one shard and their progress (levels this shard owns only).
pub struct Schedule {
    progress: Rc<RefCell<BTreeMap<u32, u64>>>,
    dirty: Rc<Cell<bool>>,
    path: PathBuf,
    tasks: Vec<glommio::Task<()>>,
}

impl Schedule {
    /// Loads progress and starts one task per owned level plus the persister.
    ///
    /// # Errors
    /// An unreadable or malformed `delayOffset.json`.
    pub fn start(shard: &Rc<Shard>) -> Result<Schedule, String> {
        let path = shard.config().config_dir().join(DELAY_OFFSET_FILE);
        let stored = load(&path)?;
        let levels = shard.config().message_delay_levels_ms.len();
        let mut progress = BTreeMap::new();
        for level in 1..=u32::try_from(levels).unwrap_or(0) {
            if shard.owner_of(topic_names::SCHEDULE_TOPIC, level - 1) == shard.index {
                progress.insert(level, stored.get(&level).copied().unwrap_or(0));
            }
        }
        let owned: Vec<u32> = progress.keys().copied().collect();
        let progress = Rc::new(RefCell::new(progress));
        shard.install_delay_progress(progress.clone());
        let dirty = Rc::new(Cell::new(false));
        let mut tasks = Vec::new();
        for level in owned {
            let (shard, progress, dirty) = (shard.clone(), progress.clone(), dirty.clone());
            tasks.push(glommio::spawn_local(async move {
                deliver_level(&shard, level, &progress, &dirty).await;
            }));
        }
        let (persist_progress, persist_dirty, persist_path) =
            (progress.clone(), dirty.clone(), path.clone());
        tasks.push(glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(PERSIST_PERIOD).await;
                if persist_dirty.replace(false) {
                    let snapshot = persist_progress.borrow().clone();
                    if let Err(error) = save(persist_path.clone(), snapshot).await {
                        persist_dirty.set(true);
                        tracing::error!(target: LOG, %error, "cannot persist delay progress");
                    }
                }
            }
        }));
        Ok(Schedule {
            progress,
            dirty,
            path,
            tasks,
        })
    }

    /// Stops the tasks and writes the progress.
    pub async fn stop(mut self) {
        self.tasks.clear();
        if self.progress.borrow().is_empty() {
            return;
        }
        self.dirty.set(false);
        let snapshot = self.progress.borrow().clone();
        if let Err(error) = save(self.path.clone(), snapshot).await {
            tracing::error!(target: LOG, %error, "cannot persist delay progress");
        }
    }
}

fn load(path: &Path) -> Result<BTreeMap<u32, u64>, String> {
    let Some(bytes) = crate::persist::read_optional(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?
    else {
        return Ok(BTreeMap::new());
    };
    parse(&bytes).map_err(|error| format!("bad {}: {error}", path.display()))
}

fn parse(bytes: &[u8]) -> Result<BTreeMap<u32, u64>, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut table = BTreeMap::new();
    if let Some(entries) = value.get("offsetTable").and_then(|t| t.as_object()) {
        for (level, offset) in entries {
            let level = level.parse::<u32>().map_err(|e| e.to_string())?;
            let offset = offset.as_u64().ok_or("offset is not a u64")?;
            table.insert(level, offset);
        }
    }
    Ok(table)
}

/// The `delayOffset.json` text (also the GET_ALL_DELAY_OFFSET body).
#[must_use]
pub fn render(table: &BTreeMap<u32, u64>) -> Vec<u8> {
    let entries: serde_json::Map<String, serde_json::Value> = table
        .iter()
        .map(|(level, offset)| (level.to_string(), serde_json::Value::from(*offset)))
        .collect();
    let mut root = serde_json::Map::new();
    root.insert("offsetTable".to_owned(), serde_json::Value::Object(entries));
    serde_json::to_vec_pretty(&serde_json::Value::Object(root)).unwrap_or_default()
}

/// Merges this shard's levels into the shared file (blocking pool, process-wide lock).
async fn save(path: PathBuf, mine: BTreeMap<u32, u64>) -> Result<(), String> {
    glommio::executor()
        .spawn_blocking(move || {
            let _guard = PROGRESS_FILE_LOCK
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut table = load(&path).unwrap_or_default();
            table.extend(mine);
            crate::persist::write_atomically(&path, &render(&table)).map_err(|e| e.to_string())
        })
        .await
}

/// Delivers level `level`'s queue in order, forever (cancelled by dropping the task).
async fn deliver_level(
    shard: &Rc<Shard>,
    level: u32,
    progress: &RefCell<BTreeMap<u32, u64>>,
    dirty: &Cell<bool>,
) {
    let queue_id = level - 1;
    let delay_ms = shard.config().message_delay_levels_ms[queue_id as usize];
    let mut offset = progress.borrow().get(&level).copied().unwrap_or(0);
    loop {
        let read = shard
            .store
            .read(
                topic_names::SCHEDULE_TOPIC,
                queue_id,
                offset,
                READ_COUNT_MAX,
                READ_BYTES_MAX,
                &storage::AcceptAll,
            )
            .await;
        let result = match read {
            Ok(result) => result,
            Err(error) => {
                tracing::warn!(target: LOG, shard = shard.index, level, %error, "read failed");
                glommio::timer::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        if result.records.is_empty() {
            if result.next_begin_offset > offset {
                // Entries deleted by retention (or filtered): skip past them.
                offset = result.next_begin_offset;
                record_progress(progress, dirty, level, offset);
                continue;
            }
            glommio::timer::sleep(IDLE_POLL).await;
            continue;
        }
        for record in result.records {
            let Ok((view, _)) = RecordView::decode(&record) else {
                tracing::error!(target: LOG, level, offset, "corrupt schedule record skipped");
                offset += 1;
                record_progress(progress, dirty, level, offset);
                continue;
            };
            let due_ms = view.store_timestamp_ms + i64::try_from(delay_ms).unwrap_or(i64::MAX);
            let wait_ms = due_ms - now_ms();
            if wait_ms > 0 {
                glommio::timer::sleep(Duration::from_millis(wait_ms.unsigned_abs())).await;
            }
            let next = u64::try_from(view.queue_offset).unwrap_or(offset) + 1;
            if let Some(message) = real_message(&view) {
                deliver(shard, message).await;
            } else {
                tracing::warn!(target: LOG, level, offset, "schedule entry without REAL_TOPIC");
            }
            offset = next.max(offset + 1);
            record_progress(progress, dirty, level, offset);
        }
    }
}

fn record_progress(
    progress: &RefCell<BTreeMap<u32, u64>>,
    dirty: &Cell<bool>,
    level: u32,
    offset: u64,
) {
    progress.borrow_mut().insert(level, offset);
    dirty.set(true);
}

/// The message to re-put: real topic and queue, `DELAY` removed, everything else kept.
pub fn real_message(view: &RecordView<'_>) -> Option<MessageToStore> {
    let mut properties = Properties::parse(view.properties);
    let topic = properties.get(keys::REAL_TOPIC)?.to_owned();
    let queue_id = properties.get(keys::REAL_QID)?.parse::<u32>().ok()?;
    properties.remove(keys::DELAY);
    Some(MessageToStore {
        topic,
        queue_id,
        flag: view.flag,
        sys_flag: view.sys_flag,
        born_timestamp_ms: view.born_timestamp_ms,
        born_host: view.born_host,
        reconsume_times: view.reconsume_times,
        prepared_transaction_offset: 0,
        body: Bytes::copy_from_slice(view.body),
        properties: properties.to_wire_string(),
    })
}

/// Appends on the owner of the real queue, retrying until it succeeds (ordering per level
/// depends on not skipping an entry).
async fn deliver(shard: &Rc<Shard>, message: MessageToStore) {
    loop {
        match put(shard, message.clone()).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(target: LOG, shard = shard.index, topic = %message.topic, %error, "re-put failed, retrying");
                glommio::timer::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

/// One append on the owner of `message`'s queue (a mesh hop if it is elsewhere).
///
/// # Errors
/// The store's or the mesh's refusal, as a remark.
pub async fn put(shard: &Rc<Shard>, message: MessageToStore) -> Result<(), String> {
    let owner = shard.owner_of(&message.topic, message.queue_id);
    let messages = vec![message];
    match shard
        .call_data(owner, DataOp::Append { messages })
        .or(async {
            glommio::timer::sleep(Duration::from_secs(10)).await;
            DataReply::Failed("re-put timed out".to_owned())
        })
        .await
    {
        DataReply::Appended(Ok(_)) => Ok(()),
        DataReply::Appended(Err(error)) => Err(error.to_string()),
        other => Err(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_clamped_and_real_destination_kept() {
        let mut properties = Properties::parse("DELAY\u{1}40\u{2}KEYS\u{1}k\u{2}");
        let (topic, queue) = transform_delay(&mut properties, "T", 3, 18).expect("delayed");
        assert_eq!(topic, "SCHEDULE_TOPIC_XXXX");
        assert_eq!(queue, 17);
        assert_eq!(properties.get(keys::DELAY), Some("18"));
        assert_eq!(properties.get(keys::REAL_TOPIC), Some("T"));
        assert_eq!(properties.get(keys::REAL_QID), Some("3"));
        let mut plain = Properties::parse("DELAY\u{1}0\u{2}");
        assert!(transform_delay(&mut plain, "T", 0, 18).is_none());
        let mut bad = Properties::parse("DELAY\u{1}x\u{2}");
        assert!(transform_delay(&mut bad, "T", 0, 18).is_none());
    }

    #[test]
    fn progress_file_round_trips_in_java_format() {
        let table: BTreeMap<u32, u64> = [(1, 5), (3, 0)].into_iter().collect();
        let bytes = render(&table);
        assert_eq!(parse(&bytes).expect("parses"), table);
        let java = br#"{"offsetTable":{"1":7,"18":2}}"#;
        let parsed = parse(java).expect("parses");
        assert_eq!(parsed.get(&1), Some(&7));
        assert_eq!(parsed.get(&18), Some(&2));
    }
}
