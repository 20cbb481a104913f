//! Live progress lines in the Apache benchmark's format (shared/spec/performance.md §C.1),
//! plus µs percentiles: `Current Time: … | Send TPS: … | Max RT(ms): … | Average RT(ms): … |
//! Send Failed: … | Response Failed: … | p50(us): … | p99(us): … | p99.9(us): … | max(us): …`.
//!
//! Same semantics as `Producer.java`: one cumulative snapshot per second in a ring of the
//! last 10; TPS and average RT over the ring's span; Max RT since the start, never reset;
//! failures cumulative. The percentiles cover the seconds since the previous line.

use std::collections::VecDeque;

/// Snapshots kept (the Java tool's window).
pub const WINDOW_SNAPSHOTS: usize = 10;

/// Cumulative counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Snapshot {
    pub elapsed_ms: u64,
    pub messages_ok: u64,
    pub requests_ok: u64,
    pub send_failed: u64,
    pub response_failed: u64,
    /// Sum of request latencies, µs.
    pub latency_us_sum: u64,
}

/// The ring and the since-start maximum.
#[derive(Debug, Default)]
pub struct SendProgress {
    window: VecDeque<Snapshot>,
    latency_us_max: u64,
}

/// µs percentiles printed after the Java fields.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tail {
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl SendProgress {
    /// Adds the snapshot of this second and the interval's largest latency.
    pub fn push(&mut self, snapshot: Snapshot, interval_latency_us_max: u64) {
        if self.window.len() == WINDOW_SNAPSHOTS {
            self.window.pop_front();
        }
        self.window.push_back(snapshot);
        self.latency_us_max = self.latency_us_max.max(interval_latency_us_max);
    }

    /// Send TPS and average RT (ms) over the window; `None` until two snapshots exist.
    #[must_use]
    pub fn window_rates(&self) -> Option<(u64, f64)> {
        let (first, last) = (self.window.front()?, self.window.back()?);
        if last.elapsed_ms <= first.elapsed_ms {
            return None;
        }
        let messages = last.messages_ok - first.messages_ok;
        let requests = last.requests_ok - first.requests_ok;
        let tps = messages * 1000 / (last.elapsed_ms - first.elapsed_ms);
        let average_rt_ms = if requests == 0 {
            0.0
        } else {
            (last.latency_us_sum - first.latency_us_sum) as f64 / requests as f64 / 1000.0
        };
        Some((tps, average_rt_ms))
    }

    /// The line, or `None` before two snapshots.
    #[must_use]
    pub fn line(&self, wall_clock: &str, tail: Tail) -> Option<String> {
        let (tps, average_rt_ms) = self.window_rates()?;
        let last = self.window.back()?;
        Some(format!(
            "Current Time: {wall_clock} | Send TPS: {tps} | Max RT(ms): {} | Average RT(ms): {average_rt_ms:7.3} | \
             Send Failed: {} | Response Failed: {} | p50(us): {} | p99(us): {} | p99.9(us): {} | max(us): {}",
            self.latency_us_max / 1000,
            last.send_failed,
            last.response_failed,
            tail.p50_us,
            tail.p99_us,
            tail.p999_us,
            tail.max_us,
        ))
    }
}

/// The consumer line (`Consumer.java` format, B2C measured from loadgen's µs send stamp;
/// maxima reset every line as in the Java tool).
#[must_use]
pub fn consume_line(
    wall_clock: &str,
    consume_tps: u64,
    mean_us: f64,
    max_us: u64,
    p99_us: u64,
) -> String {
    format!(
        "Current Time: {wall_clock} | Consume TPS: {consume_tps} | AVG(B2C) RT(ms): {:7.3} | MAX(B2C) RT(ms): {} | p99(us): {p99_us}",
        mean_us / 1000.0,
        max_us / 1000,
    )
}

/// `yyyy-MM-dd HH:mm:ss,SSS` (the Java tool's `timeMillisToHumanString2`) in UTC.
#[must_use]
pub fn wall_clock(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let ms_of_day = unix_ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02},{:03}",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_format_and_window() {
        let mut progress = SendProgress::default();
        assert!(progress.line("t", Tail::default()).is_none());
        for second in 0..=12u64 {
            let snapshot = Snapshot {
                elapsed_ms: second * 1000,
                messages_ok: second * 5000,
                requests_ok: second * 5000,
                send_failed: 1,
                response_failed: 2,
                latency_us_sum: second * 5000 * 1250,
            };
            progress.push(snapshot, if second == 3 { 42_000 } else { 900 });
        }
        let tail = Tail {
            p50_us: 1100,
            p99_us: 2500,
            p999_us: 9000,
            max_us: 12_000,
        };
        let line = progress
            .line("2024-01-02 03:04:05,006", tail)
            .expect("line");
        assert_eq!(
            line,
            "Current Time: 2024-01-02 03:04:05,006 | Send TPS: 5000 | Max RT(ms): 42 | Average RT(ms):   1.250 | \
             Send Failed: 1 | Response Failed: 2 | p50(us): 1100 | p99(us): 2500 | p99.9(us): 9000 | max(us): 12000"
        );
        assert_eq!(progress.window.len(), WINDOW_SNAPSHOTS);
    }

    #[test]
    fn consume_format() {
        assert_eq!(
            consume_line("T", 1234, 2500.0, 7999, 4000),
            "Current Time: T | Consume TPS: 1234 | AVG(B2C) RT(ms):   2.500 | MAX(B2C) RT(ms): 7 | p99(us): 4000"
        );
    }

    #[test]
    fn wall_clock_matches_known_dates() {
        assert_eq!(wall_clock(0), "1970-01-01 00:00:00,000");
        assert_eq!(wall_clock(951_782_400_000), "2000-02-29 00:00:00,000");
        assert_eq!(wall_clock(1_700_000_000_123), "2023-11-14 22:13:20,123");
    }
}
