//! Latency and outcome recording shared by connection threads and the once-a-second
//! collector. Every connection records into one [`Recorder`]; the collector swaps out an
//! [`Interval`] each second. HDR histograms in microseconds (1 µs – 60 s, 3 significant
//! digits).

use std::sync::Mutex;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency recorded; larger values are clamped to it.
pub const LATENCY_US_MAX: u64 = 60_000_000;

/// A new latency histogram.
#[must_use]
pub fn latency_histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts; failure would be a programming error.
    Histogram::new_with_bounds(1, LATENCY_US_MAX, 3).expect("valid histogram bounds")
}

/// Outcomes and latencies over one interval.
#[derive(Debug, Clone)]
pub struct Interval {
    /// Requests answered with success (or a "stored but not durable" code).
    pub requests_ok: u64,
    /// Messages in those requests.
    pub messages_ok: u64,
    /// Of `requests_ok`: FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE.
    pub requests_not_durable: u64,
    /// Write errors, dropped connections, timeouts (the Java tool's "Send Failed").
    pub send_failed: u64,
    /// Error response codes from the broker (the Java tool's "Response Failed").
    pub response_failed: u64,
    /// Sum of request latencies in µs (for the Java tool's Average RT).
    pub latency_us_sum: u64,
    pub latency: Histogram<u64>,
    /// Messages consumed.
    pub consumed: u64,
    /// Send → consume latency in µs, from the timestamp loadgen embeds in each body.
    pub end_to_end: Histogram<u64>,
}

impl Default for Interval {
    fn default() -> Interval {
        Interval {
            requests_ok: 0,
            messages_ok: 0,
            requests_not_durable: 0,
            send_failed: 0,
            response_failed: 0,
            latency_us_sum: 0,
            latency: latency_histogram(),
            consumed: 0,
            end_to_end: latency_histogram(),
        }
    }
}

impl Interval {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Interval) {
        self.requests_ok += other.requests_ok;
        self.messages_ok += other.messages_ok;
        self.requests_not_durable += other.requests_not_durable;
        self.send_failed += other.send_failed;
        self.response_failed += other.response_failed;
        self.latency_us_sum += other.latency_us_sum;
        self.consumed += other.consumed;
        // Both histograms share bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.end_to_end.add(&other.end_to_end);
    }
}

/// Where connection threads record. One short lock per response.
#[derive(Debug, Default)]
pub struct Recorder {
    interval: Mutex<Interval>,
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Stored, but the broker says the flush or replication did not finish in time.
    NotDurable,
    ResponseFailed,
    SendFailed,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Interval> {
        // A panicking connection thread must not stop the run: take the data anyway.
        self.interval
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one request of `messages` messages that took `latency_us`.
    pub fn record_request(&self, outcome: Outcome, messages: u64, latency_us: u64) {
        let mut interval = self.lock();
        match outcome {
            Outcome::Ok | Outcome::NotDurable => {
                interval.requests_ok += 1;
                interval.messages_ok += messages;
                interval.requests_not_durable += u64::from(outcome == Outcome::NotDurable);
                interval.latency_us_sum += latency_us;
                interval
                    .latency
                    .saturating_record(latency_us.clamp(1, LATENCY_US_MAX));
            }
            Outcome::ResponseFailed => interval.response_failed += 1,
            Outcome::SendFailed => interval.send_failed += 1,
        }
    }

    /// Records consumed messages with their end-to-end latencies (µs).
    pub fn record_consumed(&self, end_to_end_us: &[u64]) {
        let mut interval = self.lock();
        interval.consumed += end_to_end_us.len() as u64;
        for latency in end_to_end_us {
            interval
                .end_to_end
                .saturating_record((*latency).clamp(1, LATENCY_US_MAX));
        }
    }

    /// Returns everything recorded since the last call and starts a new interval.
    pub fn take(&self) -> Interval {
        std::mem::take(&mut *self.lock())
    }
}

/// Latency summary in µs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Percentiles {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Percentiles {
    #[must_use]
    pub fn of(histogram: &Histogram<u64>) -> Percentiles {
        if histogram.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: histogram.len(),
            mean_us: histogram.mean(),
            p50_us: histogram.value_at_quantile(0.50),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_takes_and_resets() {
        let recorder = Recorder::default();
        for latency in 1..=100 {
            recorder.record_request(Outcome::Ok, 2, latency * 10);
        }
        recorder.record_request(Outcome::NotDurable, 1, 5000);
        recorder.record_request(Outcome::SendFailed, 1, 0);
        recorder.record_request(Outcome::ResponseFailed, 1, 0);
        recorder.record_consumed(&[100, 200]);
        let interval = recorder.take();
        assert_eq!(interval.requests_ok, 101);
        assert_eq!(interval.messages_ok, 201);
        assert_eq!(interval.requests_not_durable, 1);
        assert_eq!((interval.send_failed, interval.response_failed), (1, 1));
        assert_eq!(interval.consumed, 2);
        let latency = Percentiles::of(&interval.latency);
        assert_eq!(latency.p50_us, 510);
        assert!(
            (5000..=5005).contains(&latency.max_us),
            "{}",
            latency.max_us
        );
        assert_eq!(recorder.take().requests_ok, 0);
        let mut merged = Interval::default();
        merged.merge(&interval);
        merged.merge(&interval);
        assert_eq!(merged.latency.len(), 202);
    }
}
