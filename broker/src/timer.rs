//! Timer messages (5.x, RIP-43 properties, our own store design).
//!
//! A message with `TIMER_DELIVER_MS` (absolute) or `TIMER_DELAY_MS` / `TIMER_DELAY_SEC`
//! (relative) due in the future is stored in `rmq_sys_wheel_timer` queue 0 with
//! `TIMER_OUT_MS` (the deliver time, **not** rounded: we keep ms), `REAL_TOPIC`,
//! `REAL_QID`. A `DELAY` level wins over timer properties (they are then removed), as in
//! Java. Past `timerMaxDelaySec` → MESSAGE_ILLEGAL.
//!
//! # The wheel
//!
//! One task on the shard owning `(rmq_sys_wheel_timer, 0)` keeps a binary heap of
//! `(deliver ms, queue offset, commit-log offset)` for every pending entry: it scans the
//! queue tail, delivers every due entry (reads the record back with `read_at`, re-puts it to
//! the real queue, one mesh hop if needed) and sleeps until the earlier of the next due time
//! and [`SCAN_PERIOD`]. Memory per pending message: the heap entry (24 B) plus its slot in
//! the pending set (8 B + B-tree overhead), about 50 B; the record itself stays in the
//! commit log. Precision: the glommio timer, a few ms under no load; a new entry is seen
//! within [`SCAN_PERIOD`] (100 ms), so an already-due or very short timer is late by at most
//! that.
//!
//! # Independence from retention
//!
//! An entry waiting longer than [`ROLL_WINDOW_MS`] (1 day, below the 72 h default
//! `fileReservedTime`) is *rolled*: re-appended to the timer queue as a fresh record and the
//! old one marked delivered, so its bytes never age out of the commit log.
//!
//! # Progress and restart
//!
//! `<store>/config/timerProgress.json` (our format, JSON):
//! `{"scanStart": n, "delivered": [offsets ≥ n]}` where `scanStart` is the lowest queue
//! offset not yet delivered or rolled. A restart rescans from `scanStart`, skipping
//! `delivered`, and rebuilds the heap. It is written every [`PERSIST_PERIOD`] when changed
//! and at shutdown; a crash may re-deliver entries delivered since the last write
//! (duplicates, never loss). The `delivered` list is capped at [`DELIVERED_TRACKED_MAX`];
//! past it the oldest are forgotten, which only risks duplicates after a crash.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use protocol::header::topic as topic_names;
use protocol::message::properties::{keys, Properties};
use protocol::message::record::RecordView;

use crate::shard::Shard;
use crate::store::{now_ms, MessageToStore};

const LOG: &str = "broker::timer";

/// The timer topic (queue 0).
pub const TIMER_TOPIC: &str = "rmq_sys_wheel_timer";
/// Tail scan period.
pub const SCAN_PERIOD: Duration = Duration::from_millis(100);
/// Entries older than this (store time) are rolled to a fresh record.
pub const ROLL_WINDOW_MS: i64 = 86_400_000;
/// How often changed progress is written.
pub const PERSIST_PERIOD: Duration = Duration::from_secs(1);
/// Delivered offsets above `scanStart` remembered across restarts.
pub const DELIVERED_TRACKED_MAX: usize = 100_000;
const READ_COUNT_MAX: u32 = 64;
const READ_BYTES_MAX: u32 = 4 << 20;
/// The progress file under `<store>/config`.
pub const TIMER_PROGRESS_FILE: &str = "timerProgress.json";

const TIMER_INPUT_KEYS: [&str; 3] = [
    keys::TIMER_DELIVER_MS,
    keys::TIMER_DELAY_MS,
    keys::TIMER_DELAY_SEC,
];

/// Removes the timer request properties (a `DELAY` level won).
pub fn clear_timer_properties(properties: &mut Properties) {
    for key in TIMER_INPUT_KEYS {
        properties.remove(key);
    }
}

/// Rewrites a timer message: `Ok(Some((rmq_sys_wheel_timer, 0)))` when it is due in the
/// future, `Ok(None)` when it carries no timer property or is already due.
///
/// # Errors
/// A remark for MESSAGE_ILLEGAL: unparsable value, or past the horizon.
pub fn transform_timer(
    properties: &mut Properties,
    topic: &str,
    queue_id: u32,
    now_ms: i64,
    max_delay_sec: u64,
) -> Result<Option<(String, u32)>, String> {
    let number = |key: &str| -> Result<Option<i64>, String> {
        properties
            .get(key)
            .map(|value| {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("timer message illegal: {key}={value}"))
            })
            .transpose()
    };
    let deliver_ms = if let Some(at) = number(keys::TIMER_DELIVER_MS)? {
        at
    } else if let Some(delay) = number(keys::TIMER_DELAY_MS)? {
        now_ms.saturating_add(delay)
    } else if let Some(delay) = number(keys::TIMER_DELAY_SEC)? {
        now_ms.saturating_add(delay.saturating_mul(1_000))
    } else {
        return Ok(None);
    };
    if deliver_ms <= now_ms || topic_names::is_send_refused(topic) {
        return Ok(None);
    }
    let horizon_ms = i64::try_from(max_delay_sec.saturating_mul(1_000)).unwrap_or(i64::MAX);
    if deliver_ms - now_ms > horizon_ms {
        return Err(format!(
            "timer message illegal: delay {} ms exceeds timerMaxDelaySec {max_delay_sec}",
            deliver_ms - now_ms
        ));
    }
    properties.insert(keys::TIMER_OUT_MS, &deliver_ms.to_string());
    properties.insert(keys::REAL_TOPIC, topic);
    properties.insert(keys::REAL_QID, &queue_id.to_string());
    Ok(Some((TIMER_TOPIC.to_owned(), 0)))
}

/// What the wheel knows; lives on the owning shard only.
#[derive(Default)]
struct Wheel {
    /// `(action ms, queue offset, commit-log offset)`, earliest first.
    heap: BinaryHeap<Reverse<(i64, u64, u64)>>,
    /// Scanned, not yet delivered or rolled.
    pending: BTreeSet<u64>,
    /// Delivered or rolled, at or above `scan_start()`.
    delivered: BTreeSet<u64>,
    /// Next queue offset to scan.
    scanned: u64,
    dirty: bool,
}

impl Wheel {
    fn scan_start(&self) -> u64 {
        self.pending.first().copied().unwrap_or(self.scanned)
    }

    fn settle(&mut self, queue_offset: u64) {
        self.pending.remove(&queue_offset);
        self.delivered.insert(queue_offset);
        let start = self.scan_start();
        while self.delivered.first().is_some_and(|first| *first < start) {
            self.delivered.pop_first();
        }
        while self.delivered.len() > DELIVERED_TRACKED_MAX {
            self.delivered.pop_first();
        }
        self.dirty = true;
    }

    fn to_json(&self) -> Vec<u8> {
        let value = serde_json::json!({
            "scanStart": self.scan_start(),
            "delivered": self.delivered.iter().collect::<Vec<_>>(),
        });
        serde_json::to_vec(&value).unwrap_or_default()
    }

    fn from_json(bytes: &[u8]) -> Result<Wheel, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
        let scanned = value["scanStart"].as_u64().ok_or("scanStart missing")?;
        let delivered = value["delivered"]
            .as_array()
            .map(|list| list.iter().filter_map(serde_json::Value::as_u64).collect())
            .unwrap_or_default();
        Ok(Wheel {
            scanned,
            delivered,
            ..Wheel::default()
        })
    }
}

/// The timer task of the owning shard (nothing on other shards).
pub struct TimerService {
    wheel: Rc<RefCell<Wheel>>,
    path: PathBuf,
    tasks: Vec<glommio::Task<()>>,
}

impl TimerService {
    /// Loads progress and starts the wheel if this shard owns the timer queue.
    ///
    /// # Errors
    /// An unreadable or malformed progress file.
    pub fn start(shard: &Rc<Shard>) -> Result<Option<TimerService>, String> {
        if shard.owner_of(TIMER_TOPIC, 0) != shard.index {
            return Ok(None);
        }
        let path = shard.config().config_dir().join(TIMER_PROGRESS_FILE);
        let wheel = match crate::persist::read_optional(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?
        {
            Some(bytes) => Wheel::from_json(&bytes)
                .map_err(|error| format!("bad {}: {error}", path.display()))?,
            None => Wheel::default(),
        };
        let wheel = Rc::new(RefCell::new(wheel));
        let run_shard = shard.clone();
        let run_wheel = wheel.clone();
        let run_path = path.clone();
        let task = glommio::spawn_local(async move {
            run(&run_shard, &run_wheel, run_path).await;
        });
        Ok(Some(TimerService {
            wheel,
            path,
            tasks: vec![task],
        }))
    }

    /// Stops the task and writes the progress.
    pub async fn stop(mut self) {
        self.tasks.clear();
        let bytes = self.wheel.borrow().to_json();
        if let Err(error) = save(self.path.clone(), bytes).await {
            tracing::error!(target: LOG, %error, "cannot persist timer progress");
        }
    }
}

async fn save(path: PathBuf, bytes: Vec<u8>) -> Result<(), String> {
    glommio::executor()
        .spawn_blocking(move || {
            crate::persist::write_atomically(&path, &bytes).map_err(|error| error.to_string())
        })
        .await
}

async fn run(shard: &Rc<Shard>, wheel: &RefCell<Wheel>, path: PathBuf) {
    let mut last_persist = Instant::now();
    loop {
        scan(shard, wheel).await;
        fire_due(shard, wheel).await;
        if last_persist.elapsed() >= PERSIST_PERIOD && wheel.borrow().dirty {
            let bytes = {
                let mut wheel = wheel.borrow_mut();
                wheel.dirty = false;
                wheel.to_json()
            };
            if let Err(error) = save(path.clone(), bytes).await {
                wheel.borrow_mut().dirty = true;
                tracing::error!(target: LOG, %error, "cannot persist timer progress");
            }
            last_persist = Instant::now();
        }
        let next = wheel.borrow().heap.peek().map(|Reverse((at, _, _))| *at);
        let pause = next.map_or(SCAN_PERIOD, |at| {
            let wait = u64::try_from(at - now_ms()).unwrap_or(0);
            SCAN_PERIOD.min(Duration::from_millis(wait))
        });
        if !pause.is_zero() {
            glommio::timer::sleep(pause).await;
        }
    }
}

/// Reads new entries of the timer queue into the heap.
async fn scan(shard: &Rc<Shard>, wheel: &RefCell<Wheel>) {
    loop {
        let from = wheel.borrow().scanned;
        let result = match shard
            .store
            .read(
                TIMER_TOPIC,
                0,
                from,
                READ_COUNT_MAX,
                READ_BYTES_MAX,
                &storage::AcceptAll,
            )
            .await
        {
            Ok(result) => result,
            Err(error) => {
                tracing::warn!(target: LOG, shard = shard.index, %error, "timer scan failed");
                return;
            }
        };
        if result.records.is_empty() {
            if result.next_begin_offset > from {
                wheel.borrow_mut().scanned = result.next_begin_offset;
                continue;
            }
            return;
        }
        let mut wheel = wheel.borrow_mut();
        for record in &result.records {
            let Ok((view, _)) = RecordView::decode(record) else {
                tracing::error!(target: LOG, offset = from, "corrupt timer record skipped");
                continue;
            };
            let queue_offset = u64::try_from(view.queue_offset).unwrap_or(0);
            wheel.scanned = wheel.scanned.max(queue_offset + 1);
            if wheel.delivered.contains(&queue_offset) {
                continue;
            }
            let due_ms = protocol::message::properties::find(view.properties, keys::TIMER_OUT_MS)
                .and_then(|value| value.parse::<i64>().ok())
                .unwrap_or(0);
            let action_ms = due_ms.min(view.store_timestamp_ms.saturating_add(ROLL_WINDOW_MS));
            let physical = u64::try_from(view.physical_offset).unwrap_or(0);
            wheel
                .heap
                .push(Reverse((action_ms, queue_offset, physical)));
            wheel.pending.insert(queue_offset);
        }
        if result.next_begin_offset > wheel.scanned {
            wheel.scanned = result.next_begin_offset;
        }
    }
}

/// Delivers (or rolls) every entry whose action time has come.
async fn fire_due(shard: &Rc<Shard>, wheel: &RefCell<Wheel>) {
    loop {
        let entry = {
            let mut wheel = wheel.borrow_mut();
            match wheel.heap.peek() {
                Some(Reverse((at, _, _))) if *at <= now_ms() => wheel.heap.pop(),
                _ => None,
            }
        };
        let Some(Reverse((_, queue_offset, physical))) = entry else {
            return;
        };
        match fire(shard, physical).await {
            Ok(()) => wheel.borrow_mut().settle(queue_offset),
            Err(error) => {
                tracing::warn!(target: LOG, shard = shard.index, queue_offset, %error, "timer delivery failed, retrying");
                let retry_at = now_ms() + 500;
                wheel
                    .borrow_mut()
                    .heap
                    .push(Reverse((retry_at, queue_offset, physical)));
                return;
            }
        }
    }
}

async fn fire(shard: &Rc<Shard>, physical: u64) -> Result<(), String> {
    let record = shard
        .store
        .read_at(physical)
        .await
        .map_err(|error| error.to_string())?;
    let Some(record) = record else {
        // Gone (retention): nothing to deliver; counted as settled.
        tracing::error!(target: LOG, physical, "timer record no longer in the commit log");
        return Ok(());
    };
    let (view, _) = RecordView::decode(&record).map_err(|error| error.to_string())?;
    let due_ms = protocol::message::properties::find(view.properties, keys::TIMER_OUT_MS)
        .and_then(|value| value.parse::<i64>().ok())
        .unwrap_or(0);
    let message = if due_ms > now_ms() {
        // Roll: a fresh copy in the timer queue keeps the bytes inside retention.
        let mut message = crate::schedule::real_message(&view).ok_or("no REAL_TOPIC")?;
        message.topic = TIMER_TOPIC.to_owned();
        message.queue_id = 0;
        message
    } else {
        let mut message: MessageToStore =
            crate::schedule::real_message(&view).ok_or("no REAL_TOPIC")?;
        let mut properties = Properties::parse(&message.properties);
        clear_timer_properties(&mut properties);
        message.properties = properties.to_wire_string();
        message
    };
    crate::schedule::put(shard, message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_properties_pick_the_first_present_and_respect_the_horizon() {
        let now = 1_000_000;
        let mut at = Properties::parse("TIMER_DELIVER_MS\u{1}1000500\u{2}");
        let (topic, queue) = transform_timer(&mut at, "T", 2, now, 10)
            .expect("legal")
            .expect("a timer");
        assert_eq!((topic.as_str(), queue), (TIMER_TOPIC, 0));
        assert_eq!(at.get(keys::TIMER_OUT_MS), Some("1000500"));
        assert_eq!(at.get(keys::REAL_QID), Some("2"));
        let mut relative = Properties::parse("TIMER_DELAY_SEC\u{1}3\u{2}");
        transform_timer(&mut relative, "T", 0, now, 10).expect("legal");
        assert_eq!(relative.get(keys::TIMER_OUT_MS), Some("1003000"));
        let mut too_far = Properties::parse("TIMER_DELAY_MS\u{1}11000\u{2}");
        assert!(transform_timer(&mut too_far, "T", 0, now, 10).is_err());
        let mut bad = Properties::parse("TIMER_DELAY_MS\u{1}soon\u{2}");
        assert!(transform_timer(&mut bad, "T", 0, now, 10).is_err());
        let mut past = Properties::parse("TIMER_DELIVER_MS\u{1}5\u{2}");
        assert_eq!(transform_timer(&mut past, "T", 0, now, 10), Ok(None));
    }

    #[test]
    fn wheel_progress_tracks_the_lowest_pending_offset() {
        let mut wheel = Wheel {
            scanned: 4,
            pending: [0, 1, 2, 3].into_iter().collect(),
            ..Wheel::default()
        };
        wheel.settle(1);
        wheel.settle(3);
        assert_eq!(wheel.scan_start(), 0);
        wheel.settle(0);
        assert_eq!(wheel.scan_start(), 2);
        let restored = Wheel::from_json(&wheel.to_json()).expect("parses");
        assert_eq!(restored.scanned, 2);
        assert_eq!(restored.delivered, [3].into_iter().collect());
    }
}
