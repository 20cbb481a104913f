//! Peak detection for the ramp: a pure function of the step summaries so far.
//!
//! Chapter 7: "gradually increase the request volume while watching TPS; at the TPS peak,
//! hold". The peak is the best step that stayed within the limits, declared when
//! - a step crossed a limit (p99 or error ratio): the best earlier step is the peak; or
//! - throughput stopped rising: `patience` consecutive steps each gained less than
//!   `gain_pct_min` over the best so far; or
//! - the ramp ran out of steps.

use serde::{Deserialize, Serialize};

/// One ramp step as the detector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepPoint {
    /// Concurrency or rate of the step.
    pub level: f64,
    /// Messages per second.
    pub throughput: f64,
    pub latency_us_p99: u64,
    /// (send failed + response failed) / requests attempted.
    pub error_ratio: f64,
}

/// When to stop ramping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeakRule {
    /// A step must beat the best throughput so far by this much to count as rising.
    /// Default: 5 %.
    pub gain_pct_min: f64,
    /// Consecutive non-rising steps before the peak is declared. Default: 1.
    pub patience: usize,
    /// A step whose p99 exceeds this is past the peak. Default: none.
    pub latency_us_p99_max: Option<u64>,
    /// A step whose error ratio exceeds this is past the peak. Default: 0.001.
    pub error_ratio_max: f64,
}

impl Default for PeakRule {
    fn default() -> PeakRule {
        PeakRule {
            gain_pct_min: 5.0,
            patience: 1,
            latency_us_p99_max: None,
            error_ratio_max: 0.001,
        }
    }
}

/// What to do after the latest step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum PeakDecision {
    /// Keep ramping.
    Continue,
    /// Hold at step `step` (an index into the steps given).
    Peak { step: usize, reason: String },
    /// Even the first step crossed a limit: there is no acceptable load level.
    NoneAcceptable { reason: String },
}

fn limit_crossed(point: &StepPoint, rule: &PeakRule) -> Option<String> {
    if point.error_ratio > rule.error_ratio_max {
        return Some(format!(
            "error ratio {:.4} > {:.4} at level {}",
            point.error_ratio, rule.error_ratio_max, point.level
        ));
    }
    match rule.latency_us_p99_max {
        Some(max) if point.latency_us_p99 > max => Some(format!(
            "p99 {} µs > {max} µs at level {}",
            point.latency_us_p99, point.level
        )),
        _ => None,
    }
}

/// Index of the highest-throughput step among the first `count` (ties: the lower level).
fn best(steps: &[StepPoint], count: usize) -> Option<usize> {
    steps[..count]
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| a.throughput.total_cmp(&b.throughput).then(ib.cmp(ia)))
        .map(|(index, _)| index)
}

/// Decides after the last of `steps`; `ramp_exhausted` = there is no next level.
#[must_use]
pub fn detect_peak(steps: &[StepPoint], rule: &PeakRule, ramp_exhausted: bool) -> PeakDecision {
    let Some(last) = steps.last() else {
        return PeakDecision::Continue;
    };
    if let Some(reason) = limit_crossed(last, rule) {
        return match best(steps, steps.len() - 1) {
            Some(step) => PeakDecision::Peak { step, reason },
            None => PeakDecision::NoneAcceptable { reason },
        };
    }
    // Count trailing steps that failed to beat the best throughput before them by the gain.
    let mut stalled = 0;
    for index in (1..steps.len()).rev() {
        let Some(before) = best(steps, index) else {
            break;
        };
        let required = steps[before].throughput * (1.0 + rule.gain_pct_min / 100.0);
        if steps[index].throughput >= required {
            break;
        }
        stalled += 1;
    }
    let best_index = best(steps, steps.len()).unwrap_or(0);
    if stalled >= rule.patience.max(1) {
        let reason = format!(
            "throughput rose less than {}% for {stalled} step(s) after level {}",
            rule.gain_pct_min, steps[best_index].level
        );
        return PeakDecision::Peak {
            step: best_index,
            reason,
        };
    }
    if ramp_exhausted {
        return PeakDecision::Peak {
            step: best_index,
            reason: "ramp ended while throughput was still rising (raise the ramp maximum)"
                .to_owned(),
        };
    }
    PeakDecision::Continue
}

/// The ramp levels: `start`, `start × factor`, ... up to `max` inclusive (integers for
/// concurrency are rounded and deduplicated by the caller).
#[must_use]
pub fn geometric_levels(start: f64, factor: f64, max: f64) -> Vec<f64> {
    assert!(
        start > 0.0 && factor > 1.0 && max >= start,
        "ramp {start} x{factor} to {max}"
    );
    let mut levels = Vec::new();
    let mut level = start;
    while level <= max * (1.0 + 1e-9) {
        levels.push(level);
        level *= factor;
    }
    if levels.last().is_some_and(|last| *last < max) {
        levels.push(max);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(throughputs: &[f64]) -> Vec<StepPoint> {
        throughputs
            .iter()
            .enumerate()
            .map(|(index, throughput)| StepPoint {
                level: f64::from(1u32 << index),
                throughput: *throughput,
                latency_us_p99: 1000 * (index as u64 + 1),
                error_ratio: 0.0,
            })
            .collect()
    }

    /// Feeds the steps one by one, as the ramp does, and returns the first decision that
    /// is not Continue with the number of steps it took.
    fn run(points: &[StepPoint], rule: &PeakRule) -> (PeakDecision, usize) {
        for count in 1..=points.len() {
            let decision = detect_peak(&points[..count], rule, count == points.len());
            if decision != PeakDecision::Continue {
                return (decision, count);
            }
        }
        (PeakDecision::Continue, points.len())
    }

    fn peak_step(decision: &PeakDecision) -> Option<usize> {
        match decision {
            PeakDecision::Peak { step, .. } => Some(*step),
            _ => None,
        }
    }

    #[test]
    fn rising_then_plateau_stops_at_the_first_flat_step() {
        let points = series(&[10_000.0, 19_000.0, 35_000.0, 36_000.0, 36_500.0, 30_000.0]);
        let (decision, steps_used) = run(&points, &PeakRule::default());
        assert_eq!(
            peak_step(&decision),
            Some(3),
            "36k is the best once 36k does not beat 35k by 5%"
        );
        assert_eq!(steps_used, 4);
    }

    #[test]
    fn rising_then_falling_picks_the_top() {
        let points = series(&[10_000.0, 20_000.0, 40_000.0, 25_000.0]);
        let (decision, steps_used) = run(&points, &PeakRule::default());
        assert_eq!(peak_step(&decision), Some(2));
        assert_eq!(steps_used, 4);
    }

    #[test]
    fn patience_rides_out_one_noisy_step() {
        let points = series(&[10_000.0, 20_000.0, 19_000.0, 40_000.0, 41_000.0, 40_500.0]);
        let rule = PeakRule {
            patience: 2,
            ..PeakRule::default()
        };
        let (decision, steps_used) = run(&points, &rule);
        assert_eq!(peak_step(&decision), Some(4));
        assert_eq!(steps_used, 6);
        let (impatient, _) = run(&points, &PeakRule::default());
        assert_eq!(
            peak_step(&impatient),
            Some(1),
            "patience 1 stops at the dip"
        );
    }

    #[test]
    fn p99_limit_marks_the_previous_best_step() {
        let points = series(&[10_000.0, 20_000.0, 40_000.0, 80_000.0]);
        let rule = PeakRule {
            latency_us_p99_max: Some(2500),
            ..PeakRule::default()
        };
        let (decision, steps_used) = run(&points, &rule);
        assert_eq!(peak_step(&decision), Some(1));
        assert_eq!(steps_used, 3);
        match decision {
            PeakDecision::Peak { reason, .. } => assert!(reason.contains("p99 3000"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_cross_the_limit() {
        let mut points = series(&[10_000.0, 20_000.0, 30_000.0]);
        points[2].error_ratio = 0.01;
        let (decision, _) = run(&points, &PeakRule::default());
        assert_eq!(peak_step(&decision), Some(1));
        points[0].error_ratio = 0.5;
        let first = detect_peak(&points[..1], &PeakRule::default(), false);
        assert!(matches!(first, PeakDecision::NoneAcceptable { .. }));
    }

    #[test]
    fn still_rising_at_the_end_of_the_ramp() {
        let points = series(&[10_000.0, 20_000.0, 40_000.0]);
        let (decision, steps_used) = run(&points, &PeakRule::default());
        assert_eq!(peak_step(&decision), Some(2));
        assert_eq!(steps_used, 3);
        match decision {
            PeakDecision::Peak { reason, .. } => assert!(reason.contains("still rising")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            detect_peak(&[], &PeakRule::default(), true),
            PeakDecision::Continue
        );
    }

    #[test]
    fn levels() {
        assert_eq!(geometric_levels(1.0, 2.0, 8.0), [1.0, 2.0, 4.0, 8.0]);
        assert_eq!(geometric_levels(1.0, 2.0, 10.0), [1.0, 2.0, 4.0, 8.0, 10.0]);
        assert_eq!(geometric_levels(5000.0, 1.5, 5000.0), [5000.0]);
    }
}
