//! The load driver: one thread per producer connection (pacing and windows), one per
//! consumer connection, a shared [`Recorder`], and a load level the workflow changes
//! between steps without reconnecting.
//!
//! Closed loop: the total concurrency is split over the producer connections and each keeps
//! its share outstanding. Open loop: each connection has `rate / producers` and sends every
//! request whose scheduled time has passed (latency counts from the schedule); its window
//! `in_flight_per_connection` only bounds memory.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::{Load, Workload};
use crate::stats::{Interval, Recorder};
use crate::target::raw::assign_queues;
use crate::target::{LoadTarget, ProducerConnection};

/// How long a broken connection waits before reconnecting (the Java tool sleeps 3 s after
/// an exception; 1 s keeps short steps informative).
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
/// Producers wait at most this long for every consumer to have its pulls in flight.
const CONSUMERS_READY_WAIT: Duration = Duration::from_secs(10);
const CAPACITY_WAIT: Duration = Duration::from_millis(20);
/// A sleeping open-loop sender wakes at most this late.
const PACING_SLEEP_MAX: Duration = Duration::from_millis(5);

#[derive(Debug)]
struct Control {
    stop: AtomicBool,
    load: Mutex<Load>,
    generation: AtomicU64,
    /// Messages still allowed (count limit); `i64::MAX` = unlimited.
    remaining_requests: AtomicI64,
    producers: usize,
    in_flight_per_connection: usize,
}

impl Control {
    fn load(&self) -> (Load, u64) {
        let load = *self.load.lock().unwrap_or_else(PoisonError::into_inner);
        (load, self.generation.load(Ordering::Acquire))
    }

    /// Takes up to `wanted` requests from the count budget.
    fn take(&self, wanted: usize) -> usize {
        let wanted_i64 = i64::try_from(wanted).unwrap_or(i64::MAX);
        let before = self
            .remaining_requests
            .fetch_sub(wanted_i64, Ordering::AcqRel);
        if before >= wanted_i64 {
            return wanted;
        }
        self.remaining_requests
            .fetch_add(wanted_i64 - before.max(0), Ordering::AcqRel);
        usize::try_from(before.max(0)).unwrap_or(0)
    }
}

/// Concurrency share of producer `index` out of `producers`.
#[must_use]
pub fn window_share(total: usize, producers: usize, index: usize) -> usize {
    total / producers + usize::from(index < total % producers)
}

/// Running producers and consumers.
pub struct Driver {
    control: Arc<Control>,
    recorder: Arc<Recorder>,
    producers: Vec<JoinHandle<()>>,
    consumers: Vec<JoinHandle<()>>,
    consumer_stop: Arc<AtomicBool>,
    finished_producers: Arc<AtomicU64>,
}

impl Driver {
    /// Starts consumers first (so they begin at the queues' current end), then producers.
    #[must_use]
    pub fn start(target: &Arc<dyn LoadTarget>, workload: &Workload) -> Driver {
        let recorder = Arc::new(Recorder::default());
        let remaining = if workload.count == 0 {
            i64::MAX
        } else {
            let requests = workload.count.div_ceil(workload.batch_messages as u64);
            i64::try_from(requests).unwrap_or(i64::MAX)
        };
        let control = Arc::new(Control {
            stop: AtomicBool::new(false),
            load: Mutex::new(workload.load),
            generation: AtomicU64::new(0),
            remaining_requests: AtomicI64::new(remaining),
            producers: workload.producers,
            in_flight_per_connection: workload.in_flight_per_connection,
        });
        let consumer_stop = Arc::new(AtomicBool::new(false));
        let consumers_ready = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<JoinHandle<()>> = assign_queues(target.queues(), workload.consumers)
            .into_iter()
            .filter(|queues| !queues.is_empty())
            .map(|queues| {
                let (target, recorder) = (Arc::clone(target), Arc::clone(&recorder));
                let (stop, ready) = (Arc::clone(&consumer_stop), Arc::clone(&consumers_ready));
                std::thread::spawn(move || {
                    consume(target.as_ref(), queues, &recorder, &stop, &ready)
                })
            })
            .collect();
        let ready_deadline = Instant::now() + CONSUMERS_READY_WAIT;
        while consumers_ready.load(Ordering::Acquire) < consumers.len()
            && Instant::now() < ready_deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let finished_producers = Arc::new(AtomicU64::new(0));
        let send_timeout = Duration::from_millis(workload.send_timeout_ms);
        let producers = (0..workload.producers)
            .map(|index| {
                let (target, recorder, control) = (
                    Arc::clone(target),
                    Arc::clone(&recorder),
                    Arc::clone(&control),
                );
                let finished = Arc::clone(&finished_producers);
                std::thread::spawn(move || {
                    produce(target.as_ref(), index, &recorder, &control, send_timeout);
                    finished.fetch_add(1, Ordering::AcqRel);
                })
            })
            .collect();
        Driver {
            control,
            recorder,
            producers,
            consumers,
            consumer_stop,
            finished_producers,
        }
    }

    /// Changes the load level (takes effect within a few milliseconds).
    pub fn set_load(&self, load: Load) {
        *self
            .control
            .load
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = load;
        self.control.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Everything recorded since the previous call.
    #[must_use]
    pub fn take_interval(&self) -> Interval {
        self.recorder.take()
    }

    /// True once every producer has stopped (the message count is reached).
    #[must_use]
    pub fn producers_finished(&self) -> bool {
        self.finished_producers.load(Ordering::Acquire) == self.producers.len() as u64
    }

    /// Stops producers (waiting up to the send timeout for outstanding responses), then
    /// consumers after `drain` so they can catch up.
    pub fn stop(self, drain: Duration) -> Interval {
        self.control.stop.store(true, Ordering::Release);
        for producer in self.producers {
            let _ = producer.join();
        }
        std::thread::sleep(drain);
        self.consumer_stop.store(true, Ordering::Release);
        for consumer in self.consumers {
            let _ = consumer.join();
        }
        self.recorder.take()
    }
}

fn consume(
    target: &dyn LoadTarget,
    queues: Vec<crate::target::QueueRef>,
    recorder: &Arc<Recorder>,
    stop: &Arc<AtomicBool>,
    ready: &Arc<AtomicUsize>,
) {
    let mut reported = false;
    while !stop.load(Ordering::Acquire) {
        let result = target
            .open_consumer(queues.clone(), Arc::clone(recorder))
            .and_then(|consumer| consumer.run(Arc::clone(stop), Arc::clone(ready)));
        if let Err(error) = result {
            if !reported {
                eprintln!("loadgen: consumer: {error} (retrying every {RECONNECT_PAUSE:?})");
                reported = true;
            }
            std::thread::sleep(RECONNECT_PAUSE);
        }
    }
}

/// Per-connection pacing state of the open loop.
struct Schedule {
    generation: u64,
    started: Instant,
    sent: u64,
}

fn produce(
    target: &dyn LoadTarget,
    index: usize,
    recorder: &Arc<Recorder>,
    control: &Control,
    send_timeout: Duration,
) {
    let mut connection: Option<Box<dyn ProducerConnection>> = None;
    let mut schedule = Schedule {
        generation: u64::MAX,
        started: Instant::now(),
        sent: 0,
    };
    let mut reported = false;
    let mut intended = Vec::new();
    while !control.stop.load(Ordering::Acquire) {
        let Some(producer) = connection.as_mut() else {
            match target.open_producer(index, Arc::clone(recorder)) {
                Ok(opened) => connection = Some(opened),
                Err(error) => {
                    if !reported {
                        eprintln!("loadgen: producer {index}: {error} (retrying every {RECONNECT_PAUSE:?})");
                        reported = true;
                    }
                    std::thread::sleep(RECONNECT_PAUSE);
                }
            }
            continue;
        };
        let (load, generation) = control.load();
        if generation != schedule.generation {
            schedule = Schedule {
                generation,
                started: Instant::now(),
                sent: 0,
            };
        }
        intended.clear();
        let ready = match load {
            Load::Concurrency { requests } => {
                let window = window_share(requests, control.producers, index)
                    .min(control.in_flight_per_connection);
                if window == 0 {
                    std::thread::sleep(PACING_SLEEP_MAX);
                    continue;
                }
                let count = control.take(producer.capacity(window, CAPACITY_WAIT));
                intended.resize(count, Instant::now());
                count
            }
            Load::Rate { requests_per_s } => open_loop_batch(
                producer.as_mut(),
                &mut schedule,
                requests_per_s / control.producers as f64,
                control,
                &mut intended,
            ),
        };
        if ready == 0 {
            if control.remaining_requests.load(Ordering::Acquire) <= 0 {
                break;
            }
            continue;
        }
        if producer.send(&intended).is_err() {
            if let Some(broken) = connection.take() {
                broken.close(Duration::ZERO);
            }
            std::thread::sleep(RECONNECT_PAUSE);
        }
    }
    if let Some(producer) = connection {
        producer.close(send_timeout);
    }
}

/// Fills `intended` with the scheduled times that are due now (bounded by the window and
/// the count budget); sleeps until the next one when none is due.
fn open_loop_batch(
    producer: &mut dyn ProducerConnection,
    schedule: &mut Schedule,
    rate: f64,
    control: &Control,
    intended: &mut Vec<Instant>,
) -> usize {
    let interval_s = 1.0 / rate.max(1e-9);
    let elapsed_s = schedule.started.elapsed().as_secs_f64();
    let due_total = (elapsed_s / interval_s).floor() as u64;
    if due_total <= schedule.sent {
        let next_s = (schedule.sent + 1) as f64 * interval_s;
        let wait = Duration::from_secs_f64((next_s - elapsed_s).max(0.0)).min(PACING_SLEEP_MAX);
        std::thread::sleep(wait);
        return 0;
    }
    let due = usize::try_from(due_total - schedule.sent).unwrap_or(usize::MAX);
    let capacity = producer.capacity(control.in_flight_per_connection, CAPACITY_WAIT);
    let count = control.take(due.min(capacity));
    for k in 0..count {
        let at_s = (schedule.sent + 1 + k as u64) as f64 * interval_s;
        intended.push(schedule.started + Duration::from_secs_f64(at_s));
    }
    schedule.sent += count as u64;
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        for total in [1, 3, 4, 64, 65, 1000] {
            for producers in [1, 3, 4, 7] {
                let sum: usize = (0..producers)
                    .map(|i| window_share(total, producers, i))
                    .sum();
                assert_eq!(sum, total, "{total} over {producers}");
            }
        }
        assert_eq!(window_share(1, 4, 0), 1);
        assert_eq!(window_share(1, 4, 3), 0);
    }

    #[test]
    fn count_budget() {
        let control = Control {
            stop: AtomicBool::new(false),
            load: Mutex::new(Load::Concurrency { requests: 1 }),
            generation: AtomicU64::new(0),
            remaining_requests: AtomicI64::new(10),
            producers: 1,
            in_flight_per_connection: 1,
        };
        assert_eq!(control.take(4), 4);
        assert_eq!(control.take(8), 6);
        assert_eq!(control.take(1), 0);
        assert_eq!(control.remaining_requests.load(Ordering::Acquire), 0);
    }
}
