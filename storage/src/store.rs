//! [`Store`]: one shard's durable state and its API. Lives on one glommio executor (`!Send`),
//! shared as `Rc<Store>`; every method takes `&self` and no `RefCell` borrow is held across an
//! `.await`.
//!
//! Tasks spawned at open (all stop at [`Store::shutdown`]):
//! - the flusher (writer stage) and the syncer (fdatasync stage), on the executor's default
//!   queue because they are on the ack path; under SYNC_FLUSH the next group's write overlaps
//!   the previous group's fdatasync;
//! - segment preparation (`prewrite.rs`), checkpoint and retention (a low-share background
//!   task queue, so they never stall appends).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use glommio::{Latency, Shares, TaskQueueHandle};

use crate::checkpoint::{Checkpoint, CheckpointFile};
use crate::commit_log::{self, AppendContext, Blocked, Group, LogState, LOCAL_OFFSET_MASK};
use crate::consume_queue::{ConsumeQueue, CqUnit};
use crate::index::Index;
use crate::io::{align_up, dma::DmaFileSystem, FileSystem, StorageFile};
use crate::notify::{Broadcast, OffsetWaiters, Signal};
use crate::retention::{DiskUsageProbe, StatvfsProbe};
use crate::{
    AppendError, AppendResult, FlushMode, MessageToStore, StorageError, StoreConfig, StoreStats,
};

/// Chunk size for pre-writing segments and scanning.
pub(crate) const IO_CHUNK_BYTES: usize = 1 << 20;
/// Group buffers in flight (one filling, the rest queued or being written).
const GROUP_BUFFERS_MAX: usize = 4;

pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Consume queues of the shard, keyed by (topic, queue id).
pub(crate) type QueueTable = BTreeMap<(String, u32), ConsumeQueue>;

/// One shard's store.
pub struct Store {
    pub(crate) config: StoreConfig,
    pub(crate) fs: Rc<dyn FileSystem>,
    pub(crate) probe: Rc<dyn DiskUsageProbe>,
    pub(crate) log: RefCell<LogState>,
    pub(crate) queues: RefCell<QueueTable>,
    pub(crate) index: RefCell<Index>,
    pub(crate) checkpoint: RefCell<Option<CheckpointFile>>,
    pub(crate) stats: RefCell<StoreStats>,
    pub(crate) flusher_wake: Signal,
    pub(crate) syncer_wake: Signal,
    pub(crate) space_freed: Broadcast,
    pub(crate) segment_wanted: Signal,
    pub(crate) segment_ready: Broadcast,
    pub(crate) background_wake: Signal,
    pub(crate) visible_waiters: OffsetWaiters,
    pub(crate) stopping: Cell<bool>,
    pub(crate) tasks_running: Cell<usize>,
    pub(crate) tasks_done: Broadcast,
    pub(crate) maintenance_busy: Cell<bool>,
    pub(crate) background_queue: Cell<Option<TaskQueueHandle>>,
    /// Where the whole-record CRC became required (kept in every checkpoint).
    pub(crate) record_crc_from_local: u64,
}

impl Store {
    /// Opens the shard's store on real files (glommio `DmaFile`) and runs recovery.
    ///
    /// # Errors
    /// Invalid config, I/O errors, corruption that recovery cannot repair.
    pub async fn open(config: StoreConfig) -> Result<Rc<Store>, StorageError> {
        Self::open_with(
            config,
            Rc::new(DmaFileSystem::default()),
            Rc::new(StatvfsProbe),
        )
        .await
    }

    /// Opens with an explicit I/O seam and disk-usage probe (tests, simulation).
    ///
    /// # Errors
    /// As [`Store::open`].
    pub async fn open_with(
        config: StoreConfig,
        fs: Rc<dyn FileSystem>,
        probe: Rc<dyn DiskUsageProbe>,
    ) -> Result<Rc<Store>, StorageError> {
        config.validate()?;
        let recovered = crate::recovery::recover(&config, fs.as_ref()).await?;
        let group_bytes_max =
            config.message_bytes_max + commit_log::BATCH_OVERHEAD_BYTES_MAX + 2 * 4096;
        let mut log = LogState {
            shard_index: config.shard_index,
            segment_size_bytes: config.segment_size_bytes,
            segments: recovered.segments,
            next_segment: None,
            preparing: false,
            write_local: recovered.end_local,
            current: None,
            sealed: VecDeque::new(),
            free_buffers: Vec::new(),
            buffers_total: 1,
            buffers_max: GROUP_BUFFERS_MAX,
            group_bytes_max,
            written_local: recovered.end_local,
            durable_local: recovered.end_local,
            visible_local: recovered.end_local,
            failed: None,
            pending_dispatch: VecDeque::new(),
            min_local: recovered.min_local,
            next_queue_offset: HashMap::new(),
            last_store_timestamp_ms: recovered.last_store_timestamp_ms,
            disk_full: None,
            opened_at_local: recovered.end_local,
        };
        for (key, queue) in &recovered.queues {
            log.next_queue_offset
                .insert(key.clone(), queue.max_offset());
        }
        let mut buf = bytes::BytesMut::with_capacity(group_bytes_max + 4096);
        buf.extend_from_slice(&recovered.tail_page);
        log.set_current(Group {
            segment: recovered.tail_segment,
            file_pos: recovered.tail_file_pos,
            buf,
        });
        let stats = StoreStats {
            recovered_from_crash: recovered.crashed,
            recovered_records: recovered.records_dispatched,
            ..StoreStats::default()
        };
        let store = Rc::new(Store {
            config,
            fs,
            probe,
            log: RefCell::new(log),
            queues: RefCell::new(recovered.queues),
            index: RefCell::new(recovered.index),
            checkpoint: RefCell::new(Some(recovered.checkpoint)),
            stats: RefCell::new(stats),
            flusher_wake: Signal::default(),
            syncer_wake: Signal::default(),
            space_freed: Broadcast::default(),
            segment_wanted: Signal::default(),
            segment_ready: Broadcast::default(),
            background_wake: Signal::default(),
            visible_waiters: OffsetWaiters::default(),
            stopping: Cell::new(false),
            tasks_running: Cell::new(0),
            tasks_done: Broadcast::default(),
            maintenance_busy: Cell::new(false),
            background_queue: Cell::new(None),
            record_crc_from_local: recovered.record_crc_from_local,
        });
        store.refresh_stats();
        store.start_tasks();
        Ok(store)
    }

    fn start_tasks(self: &Rc<Self>) {
        let background = glommio::executor().create_task_queue(
            Shares::Static(100),
            Latency::NotImportant,
            "storage-background",
        );
        self.background_queue.set(Some(background));
        self.spawn(Rc::clone(self).run_flusher(), None);
        self.spawn(Rc::clone(self).run_syncer(), None);
        self.spawn(Rc::clone(self).run_segment_preparer(), Some(background));
        self.spawn(Rc::clone(self).run_maintenance(), Some(background));
        self.segment_wanted.notify();
    }

    fn spawn(
        self: &Rc<Self>,
        task: impl std::future::Future<Output = ()> + 'static,
        queue: Option<TaskQueueHandle>,
    ) {
        self.tasks_running.set(self.tasks_running.get() + 1);
        let store = Rc::clone(self);
        let wrapped = async move {
            task.await;
            store.tasks_running.set(store.tasks_running.get() - 1);
            store.tasks_done.notify();
        };
        match queue {
            Some(queue) => match glommio::spawn_local_into(wrapped, queue) {
                Ok(task) => {
                    task.detach();
                }
                Err(error) => {
                    tracing::error!(target: "storage", %error, "cannot spawn a storage task");
                    self.tasks_running.set(self.tasks_running.get() - 1);
                }
            },
            None => {
                glommio::spawn_local(wrapped).detach();
            }
        }
    }

    /// Appends one message; returns once it is durable per the flush mode (SYNC_FLUSH: covered
    /// by an fdatasync; ASYNC_FLUSH: its direct write completed).
    ///
    /// # Errors
    /// [`AppendError`]; after `Io` the log refuses writes until reopened.
    pub async fn append(&self, message: MessageToStore) -> Result<AppendResult, AppendError> {
        let mut results = self.append_batch(vec![message]).await?;
        results.pop().ok_or(AppendError::ShutDown)
    }

    /// Appends messages as one contiguous run with consecutive queue offsets, acknowledged
    /// together.
    ///
    /// # Errors
    /// As [`Store::append`].
    pub async fn append_batch(
        &self,
        messages: Vec<MessageToStore>,
    ) -> Result<Vec<AppendResult>, AppendError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let (results, end_local) = loop {
            if self.stopping.get() {
                return Err(AppendError::ShutDown);
            }
            let attempt = {
                let context = AppendContext {
                    store_host: self.config.store_host,
                    delay_levels_ms: &self.config.delay_levels_ms,
                    message_bytes_max: self.config.message_bytes_max,
                    now_ms: now_ms(),
                    index_enable: self.config.index_enable,
                    record_crc: self.config.record_crc_enable,
                };
                self.log.borrow_mut().append(&messages, &context)
            };
            match attempt {
                Ok(done) => break done,
                Err(Blocked::Failed(error)) => return Err(error),
                Err(Blocked::NeedSegment) => {
                    self.stats.borrow_mut().segment_waits += 1;
                    let ready = self.segment_ready.wait();
                    self.segment_wanted.notify();
                    self.flusher_wake.notify();
                    ready.await;
                }
                Err(Blocked::NeedBuffer) => {
                    let freed = self.space_freed.wait();
                    self.flusher_wake.notify();
                    freed.await;
                }
            }
        };
        {
            let log = self.log.borrow();
            if log.next_segment.is_none() && !log.preparing {
                self.segment_wanted.notify();
            }
        }
        self.stats.borrow_mut().messages_appended += results.len() as u64;
        self.flusher_wake.notify();
        self.wait_visible(end_local).await?;
        Ok(results)
    }

    async fn wait_visible(&self, end_local: u64) -> Result<(), AppendError> {
        let wait = std::future::poll_fn(|cx| {
            let log = self.log.borrow();
            if log.visible_local >= end_local {
                return std::task::Poll::Ready(Ok(()));
            }
            if let Some(reason) = &log.failed {
                return std::task::Poll::Ready(Err(AppendError::Io(reason.clone())));
            }
            if self.stopping.get() && self.tasks_running.get() == 0 {
                return std::task::Poll::Ready(Err(AppendError::ShutDown));
            }
            self.visible_waiters.register(end_local, cx.waker());
            std::task::Poll::Pending
        });
        let timeout_ms = self.config.sync_flush_timeout_ms;
        let deadline = async move {
            glommio::timer::sleep(Duration::from_millis(timeout_ms)).await;
            Err(AppendError::FlushDiskTimeout { timeout_ms })
        };
        futures_lite::future::or(wait, deadline).await
    }

    /// Marks the log failed: every waiting and future append fails until reopened.
    pub(crate) fn fail(&self, reason: String) {
        tracing::error!(target: "storage", shard = self.config.shard_index, %reason, "commit log failed; refusing writes");
        {
            let mut log = self.log.borrow_mut();
            if log.failed.is_none() {
                log.failed = Some(reason);
            }
            log.sealed.clear();
        }
        self.visible_waiters.wake_all();
        self.space_freed.notify();
        self.segment_ready.notify();
    }

    /// The writer stage: takes the accumulated groups and writes them with one aligned direct
    /// write each, one batch at a time (consecutive groups share a page, so writes never
    /// overlap). Under ASYNC_FLUSH a completed write publishes; under SYNC_FLUSH the syncer
    /// does, so the next write overlaps the previous fdatasync (a two-stage pipeline).
    async fn run_flusher(self: Rc<Self>) {
        let sync_mode = self.config.flush == FlushMode::Sync;
        loop {
            if self.log.borrow().failed.is_some() {
                break;
            }
            let taken = self.log.borrow_mut().take_unwritten();
            let Some(mut groups) = taken else {
                if self.stopping.get() {
                    break;
                }
                self.flusher_wake.wait().await;
                continue;
            };
            if self.write_groups(&mut groups).await.is_err() {
                break;
            }
            self.log.borrow_mut().recycle(groups);
            self.space_freed.notify();
            if sync_mode {
                self.syncer_wake.notify();
            } else {
                let written = self.log.borrow().written_local;
                self.publish(written);
                self.syncer_wake.notify();
            }
        }
        // Drain: anything still waiting learns about the failure or shutdown.
        self.syncer_wake.notify();
        self.visible_waiters.wake_all();
    }

    /// The sync stage. SYNC_FLUSH: fdatasync whenever written bytes are not durable, then
    /// publish them. ASYNC_FLUSH: fdatasync every `interval_ms` when at least `least_pages`
    /// are dirty, and at least every `flush_thorough_interval_ms`.
    async fn run_syncer(self: Rc<Self>) {
        let (async_interval, least_bytes) = match self.config.flush {
            FlushMode::Sync => (None, 0),
            FlushMode::Async {
                interval_ms,
                least_pages,
            } => (
                Some(Duration::from_millis(interval_ms)),
                u64::from(least_pages) * crate::io::ALIGNMENT_BYTES,
            ),
        };
        let thorough = Duration::from_millis(self.config.flush_thorough_interval_ms);
        let mut last_sync = Instant::now();
        loop {
            if self.log.borrow().failed.is_some() {
                break;
            }
            let dirty = {
                let log = self.log.borrow();
                log.written_local - log.durable_local
            };
            let sync_now = match async_interval {
                None => dirty > 0,
                Some(interval) => {
                    let elapsed = last_sync.elapsed();
                    (dirty >= least_bytes.max(1) && elapsed >= interval)
                        || (dirty > 0 && elapsed >= thorough)
                }
            };
            if sync_now {
                if self.sync_written().await.is_err() {
                    break;
                }
                last_sync = Instant::now();
                if async_interval.is_none() {
                    let durable = self.log.borrow().durable_local;
                    self.publish(durable);
                }
                continue;
            }
            if self.stopping.get() {
                break;
            }
            match async_interval {
                Some(interval) => {
                    let sleep = glommio::timer::sleep(interval);
                    futures_lite::future::or(self.syncer_wake.wait(), sleep).await;
                }
                None => self.syncer_wake.wait().await,
            }
        }
        self.visible_waiters.wake_all();
    }

    async fn write_groups(&self, groups: &mut [Group]) -> Result<(), ()> {
        for group in groups.iter_mut() {
            let end = group.end_local();
            if !group.buf.is_empty() {
                let len = group.buf.len();
                let padded = usize::try_from(align_up(len as u64)).unwrap_or(len);
                group.buf.resize(padded, 0);
                let result = group
                    .segment
                    .file
                    .write_at(group.file_pos, &group.buf[..])
                    .await;
                group.buf.truncate(len);
                if let Err(error) = result {
                    self.fail(format!(
                        "direct write of segment {} at {} failed: {error}",
                        group.segment.base, group.file_pos
                    ));
                    return Err(());
                }
                let mut stats = self.stats.borrow_mut();
                stats.bytes_written += padded as u64;
                stats.writes += 1;
            }
            let mut log = self.log.borrow_mut();
            log.written_local = log.written_local.max(end);
        }
        Ok(())
    }

    /// fdatasync every segment holding written-but-not-durable bytes.
    async fn sync_written(&self) -> Result<(), ()> {
        let (files, target) = {
            let log = self.log.borrow();
            let (from, to) = (log.durable_local, log.written_local);
            let files: Vec<Rc<dyn StorageFile>> = log
                .segments
                .range(..to)
                .filter(|(base, _)| **base + log.segment_size_bytes > from)
                .map(|(_, segment)| segment.file.clone())
                .collect();
            (files, to)
        };
        for file in files {
            if let Err(error) = file.sync().await {
                self.fail(format!("fdatasync failed: {error}"));
                return Err(());
            }
            self.stats.borrow_mut().fsyncs += 1;
        }
        let mut log = self.log.borrow_mut();
        log.durable_local = log.durable_local.max(target);
        Ok(())
    }

    /// Makes records up to `visible` readable: consume queues, index, waiters.
    fn publish(&self, visible: u64) {
        let entries: Vec<_> = {
            let mut log = self.log.borrow_mut();
            if visible <= log.visible_local {
                return;
            }
            log.visible_local = visible;
            let mut entries = Vec::new();
            while log
                .pending_dispatch
                .front()
                .is_some_and(|entry| entry.end_local <= visible)
            {
                if let Some(entry) = log.pending_dispatch.pop_front() {
                    entries.push(entry);
                }
            }
            if let Some(last) = entries.last() {
                log.last_store_timestamp_ms = last.store_timestamp_ms;
            }
            entries
        };
        {
            let mut queues = self.queues.borrow_mut();
            let mut index = self.index.borrow_mut();
            for entry in &entries {
                dispatch_entry(&mut queues, &mut index, &self.config, entry);
            }
        }
        self.refresh_stats();
        self.visible_waiters.advance(visible);
    }

    pub(crate) fn refresh_stats(&self) {
        let log = self.log.borrow();
        let shard = self.config.shard_index;
        let mut stats = self.stats.borrow_mut();
        stats.durable_offset = commit_log::physical_offset(shard, log.durable_local);
        stats.visible_offset = commit_log::physical_offset(shard, log.visible_local);
        stats.write_offset = commit_log::physical_offset(shard, log.write_local);
        stats.min_offset = commit_log::physical_offset(shard, log.min_local);
        if let Some(per_fsync) = log
            .durable_local
            .saturating_sub(log.opened_at_local)
            .checked_div(stats.fsyncs)
        {
            stats.bytes_per_fsync = per_fsync;
        }
    }

    /// Checkpoint (consume queues, index, checkpoint file) and retention, in the background.
    async fn run_maintenance(self: Rc<Self>) {
        let checkpoint_every = Duration::from_millis(self.config.checkpoint_interval_ms.max(1));
        let clean_every = Duration::from_millis(self.config.clean_interval_ms.max(1));
        let mut last_clean: Option<Instant> = None;
        loop {
            let sleep = glommio::timer::sleep(checkpoint_every);
            futures_lite::future::or(self.background_wake.wait(), sleep).await;
            if self.stopping.get() || self.log.borrow().failed.is_some() {
                break;
            }
            if let Err(error) = self.checkpoint_now().await {
                tracing::warn!(target: "storage", %error, "checkpoint failed");
            }
            if last_clean.is_none_or(|at| at.elapsed() >= clean_every) {
                last_clean = Some(Instant::now());
                if let Err(error) = self.run_retention_once(now_ms()).await {
                    tracing::warn!(target: "storage", %error, "retention failed");
                }
            }
        }
    }

    /// Persists consume queues and index, then the checkpoint.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn checkpoint_now(&self) -> Result<(), StorageError> {
        if self.maintenance_busy.replace(true) {
            return Ok(());
        }
        let result = self.checkpoint_inner().await;
        self.maintenance_busy.set(false);
        result
    }

    async fn checkpoint_inner(&self) -> Result<(), StorageError> {
        let (dispatched, durable, min_local, last_ts) = {
            let log = self.log.borrow();
            (
                log.visible_local.min(log.durable_local),
                log.durable_local,
                log.min_local,
                log.last_store_timestamp_ms,
            )
        };
        crate::recovery::flush_queues(self.fs.as_ref(), &self.queues).await?;
        // A disabled index is not fed: its files keep the coverage they had, so enabling it
        // again rebuilds the gap at the next open.
        if self.config.index_enable {
            crate::index::flush_index(self.fs.as_ref(), &self.index, dispatched).await?;
        }
        let mut checkpoint = self.checkpoint.borrow_mut().take();
        let result = match checkpoint.as_mut() {
            Some(file) => {
                file.write(Checkpoint {
                    sequence: 0,
                    log_end_local: durable,
                    dispatched_local: dispatched,
                    min_local,
                    last_store_timestamp_ms: last_ts,
                    record_crc_from_local: self.record_crc_from_local,
                })
                .await
            }
            None => Ok(()),
        };
        *self.checkpoint.borrow_mut() = checkpoint;
        result
    }

    /// Flushes everything, writes the checkpoint, removes the abort marker, stops the tasks.
    ///
    /// # Errors
    /// I/O errors; a failed log reports [`StorageError::Failed`].
    pub async fn shutdown(&self) -> Result<(), StorageError> {
        // Let queued appends finish: the flusher writes everything the log holds.
        loop {
            let (done, failed) = {
                let log = self.log.borrow();
                (log.visible_local >= log.write_local, log.failed.clone())
            };
            if let Some(reason) = failed {
                self.stop_tasks().await;
                return Err(StorageError::Failed(reason));
            }
            if done {
                break;
            }
            self.flusher_wake.notify();
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        if self.sync_written().await.is_err() {
            self.stop_tasks().await;
            let reason = self.log.borrow().failed.clone().unwrap_or_default();
            return Err(StorageError::Failed(reason));
        }
        self.stop_tasks().await;
        while self.maintenance_busy.get() {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
        self.checkpoint_now().await?;
        let abort = self.config.root_dir.join(crate::recovery::ABORT_FILE);
        if self.fs.exists(&abort) {
            self.fs
                .remove(&abort)
                .await
                .map_err(|e| StorageError::io(&abort, e))?;
        }
        Ok(())
    }

    async fn stop_tasks(&self) {
        self.stopping.set(true);
        loop {
            self.flusher_wake.notify();
            self.syncer_wake.notify();
            self.segment_wanted.notify();
            self.background_wake.notify();
            if self.tasks_running.get() == 0 {
                break;
            }
            let sleep = glommio::timer::sleep(Duration::from_millis(5));
            futures_lite::future::or(self.tasks_done.wait(), sleep).await;
        }
        self.visible_waiters.wake_all();
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> StoreStats {
        self.refresh_stats();
        self.stats.borrow().clone()
    }

    /// The configuration in use.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The local offset of a physical offset, if it belongs to this shard.
    pub(crate) fn local_of(&self, physical: u64) -> Option<u64> {
        (commit_log::shard_of(physical) == self.config.shard_index)
            .then_some(physical & LOCAL_OFFSET_MASK)
    }

    /// Reads `len` bytes of commit log at `local` (must be visible and inside one segment).
    pub(crate) async fn read_log(
        &self,
        local: u64,
        len: usize,
    ) -> Result<Option<Bytes>, StorageError> {
        let segment = {
            let log = self.log.borrow();
            if local < log.min_local || local + len as u64 > log.visible_local {
                return Ok(None);
            }
            log.segment_for(local)
        };
        let Some(segment) = segment else {
            return Ok(None);
        };
        let bytes = segment
            .file
            .read_at(local - segment.base, len)
            .await
            .map_err(|e| StorageError::io(segment.file.path(), e))?;
        Ok((bytes.len() == len).then_some(bytes))
    }

    /// Directory of a consume queue.
    pub(crate) fn queue_dir(root: &Path, topic: &str, queue_id: u32) -> PathBuf {
        root.join(crate::recovery::CONSUME_QUEUE_DIR)
            .join(topic)
            .join(queue_id.to_string())
    }
}

/// Applies one appended or recovered record to the consume queues and the index.
pub(crate) fn dispatch_entry(
    queues: &mut QueueTable,
    index: &mut Index,
    config: &StoreConfig,
    entry: &commit_log::DispatchEntry,
) {
    if entry.to_queue {
        let key = (entry.topic.clone(), entry.queue_id);
        let queue = queues.entry(key).or_insert_with(|| {
            ConsumeQueue::new(
                Store::queue_dir(&config.root_dir, &entry.topic, entry.queue_id),
                config.consume_queue_units_per_file,
            )
        });
        let unit = CqUnit {
            physical_offset: entry.physical_offset,
            size: entry.size,
            tags_code: entry.tags_code,
        };
        if !queue.put(entry.queue_offset, unit) {
            tracing::warn!(target: "storage", topic = %entry.topic, queue_id = entry.queue_id,
                offset = entry.queue_offset, max = queue.max_offset(), "consume queue gap; unit dropped");
        }
    }
    if config.index_enable && !entry.index_keys.is_empty() {
        index.add(entry);
    }
}
