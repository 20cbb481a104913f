//! [`ClientTarget`]: the [`LoadTarget`] built on our `client` crate, so a run measures what a
//! Rust application sees: route lookup, queue selection, retries, compression, the client's
//! connection pipelining, and a lite pull consumer.
//!
//! Discovery (topic creation, the loopback guard, the queue list the driver assigns to
//! consumers, `GET_BROKER_CONFIG`) is shared with [`RawTarget`]; only sending and consuming go
//! through the client. The client needs a name server, so `--broker` alone is refused.
//!
//! Producer connection `i` is its own `Producer` with instance name `loadgen-<pid>-p<i>`, so
//! it has its own TCP connection per broker (the raw target's one connection per producer).
//! Sends are spawned on one tokio runtime owned by the target; the driver's window is kept
//! with a counter of outstanding sends.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use client::consumer::lite::{LitePullConsumer, LitePullOptions};
use client::{ClientConfig, ClientError, Message, MessageQueue, Producer, ProducerOptions};
use client::{SendResult, SendStatus};

use super::raw::{alphanumeric_body, end_to_end_us, wire::now_unix_us, RawTarget};
use super::{ConsumerConnection, LoadTarget, ProducerConnection, QueueRef, TargetError};
use crate::config::{SendMode, Workload};
use crate::stats::{Outcome, Recorder};

/// Worker threads of the client runtime: the client's I/O and completions. A send hops
/// between tasks (sender, connection writer, reader); more workers overlap those hops. On the
/// project's 2-vCPU VM (broker on the same host, 64 senders) 2 and 4 workers measured alike
/// (~50 k msgs/s) once the client batched its writes; 1 was slower.
const RUNTIME_WORKERS: usize = 4;
/// How long one `poll` of a consumer waits before checking the stop flag.
const POLL_WAIT: Duration = Duration::from_millis(100);

/// Consumers opened so far in this process (their instance names must differ).
static CONSUMERS: AtomicUsize = AtomicUsize::new(0);

/// The client-crate target.
pub struct ClientTarget {
    raw: RawTarget,
    workload: Workload,
    runtime: Arc<tokio::runtime::Runtime>,
    description: String,
}

impl std::fmt::Debug for ClientTarget {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientTarget")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

fn client_error(request: &'static str, error: &ClientError) -> TargetError {
    match error {
        ClientError::Response { code, remark, .. } => TargetError::Refused {
            request,
            code: *code,
            remark: remark.clone(),
        },
        other => TargetError::Protocol(format!("{request}: {other}")),
    }
}

impl ClientTarget {
    /// Finds (or creates) the topic's queues as [`RawTarget::discover`] does and starts the
    /// client runtime.
    ///
    /// # Errors
    /// As [`RawTarget::discover`]; `--broker` without a name server; a runtime that does not
    /// start.
    pub fn discover(workload: &Workload) -> Result<ClientTarget, TargetError> {
        if let Some(broker) = &workload.broker {
            return Err(TargetError::Protocol(format!(
                "the client target routes through the name server; --broker {broker} needs \
                 --via raw"
            )));
        }
        let raw = RawTarget::discover(workload)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_WORKERS)
            .thread_name("loadgen-client")
            .enable_all()
            .build()
            .map_err(|source| TargetError::Io {
                address: "tokio runtime".to_owned(),
                source,
            })?;
        let description = raw.describe().replacen("raw protocol", "client crate", 1);
        Ok(ClientTarget {
            raw,
            workload: workload.clone(),
            runtime: Arc::new(runtime),
            description,
        })
    }

    fn client_config(&self, role: &str, index: usize) -> ClientConfig {
        ClientConfig {
            instance_name: Some(format!("loadgen-{}-{role}{index}", std::process::id())),
            // The raw path's header encoding, so the two paths differ only in the client.
            serialize_type: super::raw::wire::SERIALIZE,
            ..ClientConfig::with_namesrv(self.workload.namesrv.clone())
        }
    }
}

impl LoadTarget for ClientTarget {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn queues(&self) -> &[QueueRef] {
        self.raw.queues()
    }

    fn broker_config(&self) -> Option<String> {
        self.raw.broker_config()
    }

    fn open_producer(
        &self,
        index: usize,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ProducerConnection>, TargetError> {
        let mut options = ProducerOptions::new(self.workload.producer_group.clone(), None);
        options.client = self.client_config("p", index);
        options.send_timeout = Duration::from_millis(self.workload.send_timeout_ms);
        let producer = self
            .runtime
            .block_on(Producer::start(options))
            .map_err(|e| client_error("producer start", &e))?;
        Ok(Box::new(ClientProducer {
            producer: Arc::new(producer),
            runtime: Arc::clone(&self.runtime),
            window: Arc::new(Window::default()),
            recorder,
            topic: self.workload.topic.clone(),
            body: alphanumeric_body(self.workload.message_bytes, 0x5eed_0000 + index as u64),
            batch_messages: self.workload.batch_messages,
            tag_count: self.workload.tag_count,
            keys: self.workload.keys,
            mode: self.workload.send_mode,
            sequence: 0,
            index,
        }))
    }

    fn open_consumer(
        &self,
        queues: Vec<QueueRef>,
        recorder: Arc<Recorder>,
    ) -> Result<Box<dyn ConsumerConnection>, TargetError> {
        if queues.is_empty() {
            return Err(TargetError::Protocol(
                "a consumer needs at least one queue".to_owned(),
            ));
        }
        let mut options = LitePullOptions::new(self.workload.consumer_group.clone(), None);
        options.client = self.client_config("c", CONSUMERS.fetch_add(1, Ordering::Relaxed));
        // The raw consumer's pull size and hold time, so the two targets compare.
        options.pull_batch_size = 32;
        options.poll_batch_size = 256;
        options.broker_suspend_ms = 1000;
        options.auto_commit = false;
        let consumer = {
            let _entered = self.runtime.enter();
            LitePullConsumer::start_assigned(options)
                .map_err(|e| client_error("consumer start", &e))?
        };
        let queues = queues
            .iter()
            .map(|q| MessageQueue::new(&self.workload.topic, &q.broker_name, q.queue_id as i32))
            .collect();
        Ok(Box::new(ClientConsumer {
            consumer,
            queues,
            runtime: Arc::clone(&self.runtime),
            recorder,
        }))
    }
}

/// Outstanding sends of one producer connection.
#[derive(Debug, Default)]
struct Window {
    outstanding: Mutex<usize>,
    changed: Condvar,
    /// Threads in [`Window::wait_below`]: a completion wakes only when someone waits (a
    /// notify per completion costs a futex call and a context switch).
    waiting: AtomicUsize,
}

impl Window {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.outstanding
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, count: usize) {
        *self.lock() += count;
    }

    fn done(&self) {
        let mut outstanding = self.lock();
        *outstanding = outstanding.saturating_sub(1);
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.changed.notify_all();
        }
    }

    /// Waits up to `wait` for the outstanding count to drop below `limit`; returns it.
    fn wait_below(&self, limit: usize, wait: Duration) -> usize {
        let deadline = Instant::now() + wait;
        let mut outstanding = self.lock();
        while *outstanding >= limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // Registered under the lock, which `done` also holds when it reads the count.
            self.waiting.fetch_add(1, Ordering::Relaxed);
            outstanding = self
                .changed
                .wait_timeout(outstanding, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        *outstanding
    }
}

/// One producer connection on the client crate.
struct ClientProducer {
    producer: Arc<Producer>,
    runtime: Arc<tokio::runtime::Runtime>,
    window: Arc<Window>,
    recorder: Arc<Recorder>,
    topic: String,
    body: Vec<u8>,
    batch_messages: usize,
    tag_count: usize,
    keys: bool,
    mode: SendMode,
    sequence: u64,
    index: usize,
}

impl ClientProducer {
    fn message(&mut self) -> Message {
        let mut body = self.body.clone();
        body[..8].copy_from_slice(&now_unix_us().to_be_bytes());
        let mut message = Message::new(self.topic.clone(), Bytes::from(body));
        if self.tag_count > 0 {
            message = message.with_tags(&format!("tag{}", self.sequence % self.tag_count as u64));
        }
        if self.keys {
            message = message.with_keys(&[format!(
                "loadgen-{}-{}-{}",
                std::process::id(),
                self.index,
                self.sequence
            )]);
        }
        self.sequence += 1;
        message
    }
}

fn outcome_of(result: &Result<Option<SendResult>, ClientError>) -> Outcome {
    match result {
        Ok(None) => Outcome::Ok,
        Ok(Some(sent)) if sent.status == SendStatus::SendOk => Outcome::Ok,
        Ok(Some(_)) => Outcome::NotDurable,
        Err(error) if error.response_code().is_some() => Outcome::ResponseFailed,
        Err(_) => Outcome::SendFailed,
    }
}

impl ProducerConnection for ClientProducer {
    fn capacity(&mut self, window: usize, wait: Duration) -> usize {
        window.saturating_sub(self.window.wait_below(window, wait))
    }

    fn send(&mut self, intended: &[Instant]) -> Result<(), TargetError> {
        self.window.add(intended.len());
        for &start in intended {
            let messages: Vec<Message> = (0..self.batch_messages).map(|_| self.message()).collect();
            let count = messages.len() as u64;
            let producer = Arc::clone(&self.producer);
            let window = Arc::clone(&self.window);
            let recorder = Arc::clone(&self.recorder);
            let mode = self.mode;
            self.runtime.spawn(async move {
                let result = match mode {
                    // `Workload::validate` allows oneway only with batch 1 on this path.
                    SendMode::Oneway => match messages.into_iter().next() {
                        Some(message) => producer.send_oneway(message).await.map(|()| None),
                        None => Ok(None),
                    },
                    _ if count > 1 => producer.send_batch(messages).await.map(Some),
                    _ => match messages.into_iter().next() {
                        Some(message) => producer.send(message).await.map(Some),
                        None => Ok(None),
                    },
                };
                let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                recorder.record_request(outcome_of(&result), count, latency_us);
                window.done();
            });
        }
        Ok(())
    }

    fn close(self: Box<Self>, wait: Duration) {
        self.window.wait_below(1, wait);
        self.runtime.block_on(self.producer.shutdown());
    }
}

/// One consumer on the client crate: a lite pull consumer assigned the driver's queues.
struct ClientConsumer {
    consumer: LitePullConsumer,
    queues: Vec<MessageQueue>,
    runtime: Arc<tokio::runtime::Runtime>,
    recorder: Arc<Recorder>,
}

impl ConsumerConnection for ClientConsumer {
    fn run(
        self: Box<Self>,
        stop: Arc<AtomicBool>,
        ready: Arc<AtomicUsize>,
    ) -> Result<(), TargetError> {
        let ClientConsumer {
            consumer,
            queues,
            runtime,
            recorder,
        } = *self;
        runtime.block_on(async move {
            consumer
                .assign(queues.clone())
                .await
                .map_err(|e| client_error("assign", &e))?;
            for queue in &queues {
                consumer
                    .seek_to(queue, false)
                    .await
                    .map_err(|e| client_error("GET_MAX_OFFSET", &e))?;
            }
            ready.fetch_add(1, Ordering::SeqCst);
            while !stop.load(Ordering::Relaxed) {
                let messages = consumer.poll(POLL_WAIT).await;
                if messages.is_empty() {
                    continue;
                }
                let now_us = now_unix_us();
                let latencies: Vec<u64> = messages
                    .iter()
                    .map(|m| end_to_end_us(&m.body, m.born_timestamp_ms, now_us))
                    .collect();
                recorder.record_consumed(&latencies);
            }
            consumer.shutdown().await;
            Ok(())
        })
    }
}
