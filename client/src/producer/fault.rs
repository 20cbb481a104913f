//! Latency fault avoidance (RocketMQ's `MQFaultStrategy`): after a slow or failed send, a
//! broker is avoided for a while, longer the slower it was.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Latency thresholds (ms) and how long a broker at or above each is avoided (ms).
const LATENCY_MAX_MS: [u64; 7] = [50, 100, 550, 1_000, 2_000, 3_000, 15_000];
const NOT_AVAILABLE_DURATION_MS: [u64; 7] = [0, 0, 30_000, 60_000, 120_000, 180_000, 600_000];
/// Latency charged for a failed send (an isolated broker).
pub const ISOLATION_LATENCY_MS: u64 = 30_000;

const _: () = assert!(LATENCY_MAX_MS.len() == NOT_AVAILABLE_DURATION_MS.len());

/// Per-broker "avoid until" times.
#[derive(Debug, Default)]
pub struct LatencyFaultTolerance {
    items: Mutex<HashMap<String, Instant>>,
}

impl LatencyFaultTolerance {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a broker whose last send took `latency_ms` is avoided.
    #[must_use]
    pub fn avoid_duration(latency_ms: u64) -> Duration {
        let index = LATENCY_MAX_MS
            .iter()
            .rposition(|threshold| latency_ms >= *threshold);
        Duration::from_millis(index.map_or(0, |i| NOT_AVAILABLE_DURATION_MS[i]))
    }

    /// Records a send to `broker_name` that took `latency_ms`; `isolation` = it failed.
    pub fn update(&self, broker_name: &str, latency_ms: u64, isolation: bool) {
        let latency_ms = if isolation {
            ISOLATION_LATENCY_MS
        } else {
            latency_ms
        };
        let until = Instant::now() + Self::avoid_duration(latency_ms);
        if let Ok(mut items) = self.items.lock() {
            items.insert(broker_name.to_owned(), until);
        }
    }

    /// True unless `broker_name` is being avoided.
    #[must_use]
    pub fn is_available(&self, broker_name: &str) -> bool {
        self.items
            .lock()
            .ok()
            .and_then(|items| items.get(broker_name).copied())
            .is_none_or(|until| Instant::now() >= until)
    }

    /// Of `candidates`, the broker whose avoidance ends first (the idea of Java's
    /// `pickOneAtLeast`): when every broker is being avoided, the least bad one is a better
    /// pick than whichever queue the round-robin cursor points at.
    #[must_use]
    pub fn least_avoided<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let items = self.items.lock().ok()?;
        candidates
            .into_iter()
            .min_by_key(|name| items.get(*name).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_table() {
        assert_eq!(LatencyFaultTolerance::avoid_duration(10), Duration::ZERO);
        assert_eq!(LatencyFaultTolerance::avoid_duration(549), Duration::ZERO);
        assert_eq!(
            LatencyFaultTolerance::avoid_duration(550),
            Duration::from_secs(30)
        );
        assert_eq!(
            LatencyFaultTolerance::avoid_duration(30_000),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn failed_broker_is_avoided() {
        let faults = LatencyFaultTolerance::new();
        faults.update("a", 5, false);
        assert!(faults.is_available("a"));
        faults.update("b", 0, true);
        assert!(!faults.is_available("b"));
        assert!(faults.is_available("c"));
    }

    #[test]
    fn least_avoided_prefers_the_shortest_avoidance() {
        let faults = LatencyFaultTolerance::new();
        faults.update("isolated", 0, true);
        faults.update("slow", 600, false);
        assert!(!faults.is_available("isolated") && !faults.is_available("slow"));
        assert_eq!(faults.least_avoided(["isolated", "slow"]), Some("slow"));
        assert_eq!(faults.least_avoided(["isolated", "fresh"]), Some("fresh"));
        assert_eq!(faults.least_avoided([]), None);
    }
}
