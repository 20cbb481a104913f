//! The JSON report: parameters, git SHA, host facts and host check, the per-second series,
//! per-step summaries, the peak, the hold and the named bottleneck. `schema_version` is
//! bumped whenever a field changes meaning; `loadgen compare` refuses other versions.

use serde::{Deserialize, Serialize};

use crate::bottleneck::Bottleneck;
use crate::config::{Load, Workload};
use crate::peak::PeakRule;
use crate::sampler::HostSecond;
use crate::stats::{Interval, Percentiles};

pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Which workflow produced the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Run,
    Tune,
}

/// What a second or step belonged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Run,
    Ramp,
    Hold,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GitInfo {
    pub sha: Option<String>,
    pub dirty: Option<bool>,
}

/// A condensed `tuning check` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostCheckItem {
    pub item: String,
    pub scope: Option<String>,
    pub current: String,
    pub status: tuning::Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TargetInfo {
    pub description: String,
    /// `broker.conf` started with `--launch`, if any.
    pub launched_config: Option<String>,
    /// `flushDiskType` / `brokerRole` read from that config.
    pub flush_disk_type: Option<String>,
    pub broker_role: Option<String>,
    pub broker_pid: Option<u32>,
}

/// Ramp settings of a `tune` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampSettings {
    pub levels: Vec<Load>,
    pub step_s: u64,
    pub hold_s: u64,
    pub rule: PeakRule,
}

/// One second of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    pub elapsed_s: f64,
    pub step: usize,
    pub phase: Phase,
    pub load: Load,
    pub messages_per_s: f64,
    pub requests_ok: u64,
    pub requests_not_durable: u64,
    pub send_failed: u64,
    pub response_failed: u64,
    pub latency: Percentiles,
    pub consumed_per_s: f64,
    pub end_to_end: Percentiles,
    pub host: Option<HostSecond>,
}

/// Host means over a step (what chapter 7 reads off top/sar/iostat during the hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HostSummary {
    pub seconds: usize,
    pub cpu_busy_pct: f64,
    pub cpu_user_pct: f64,
    pub cpu_system_pct: f64,
    pub cpu_iowait_pct: f64,
    pub cpu_softirq_pct: f64,
    pub per_cpu_busy_pct: Vec<f64>,
    pub run_queue: f64,
    pub context_switches_per_s: f64,
    pub disks: Vec<DiskSummary>,
    pub networks: Vec<NetSummary>,
    pub tcp_retransmits_per_s: f64,
    pub tcp_out_segments_per_s: f64,
    pub dirty_mib_max: f64,
    pub broker_cpu_cores: Option<f64>,
    pub loadgen_cpu_cores: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DiskSummary {
    pub device: String,
    pub util_pct: f64,
    pub write_mb_per_s: f64,
    pub write_iops: f64,
    pub read_mb_per_s: f64,
    pub await_ms: f64,
    pub queue_depth: f64,
    pub flushes_per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NetSummary {
    pub interface: String,
    pub receive_mb_per_s: f64,
    pub transmit_mb_per_s: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

impl HostSummary {
    /// Means over the given seconds; `None` if none carried host data.
    #[must_use]
    pub fn of(seconds: &[&HostSecond]) -> Option<HostSummary> {
        if seconds.is_empty() {
            return None;
        }
        let cpus = seconds
            .iter()
            .map(|s| s.per_cpu_busy_pct.len())
            .max()
            .unwrap_or(0);
        let optional_mean = |pick: fn(&HostSecond) -> Option<f64>| {
            let values: Vec<f64> = seconds.iter().filter_map(|s| pick(s)).collect();
            (!values.is_empty()).then(|| mean(values.into_iter()))
        };
        let mut disk_names: Vec<&str> = seconds
            .iter()
            .flat_map(|s| s.disks.iter().map(|d| d.device.as_str()))
            .collect();
        disk_names.sort_unstable();
        disk_names.dedup();
        let mut net_names: Vec<&str> = seconds
            .iter()
            .flat_map(|s| s.networks.iter().map(|n| n.interface.as_str()))
            .collect();
        net_names.sort_unstable();
        net_names.dedup();
        Some(HostSummary {
            seconds: seconds.len(),
            cpu_busy_pct: mean(
                seconds
                    .iter()
                    .map(|s| 100.0 - s.cpu_idle_pct - s.cpu_iowait_pct),
            ),
            cpu_user_pct: mean(seconds.iter().map(|s| s.cpu_user_pct)),
            cpu_system_pct: mean(seconds.iter().map(|s| s.cpu_system_pct)),
            cpu_iowait_pct: mean(seconds.iter().map(|s| s.cpu_iowait_pct)),
            cpu_softirq_pct: mean(seconds.iter().map(|s| s.cpu_softirq_pct)),
            per_cpu_busy_pct: (0..cpus)
                .map(|cpu| {
                    mean(
                        seconds
                            .iter()
                            .filter_map(|s| s.per_cpu_busy_pct.get(cpu).copied()),
                    )
                })
                .collect(),
            run_queue: mean(seconds.iter().map(|s| s.run_queue as f64)),
            context_switches_per_s: mean(seconds.iter().map(|s| s.context_switches_per_s)),
            disks: disk_names
                .into_iter()
                .map(|name| {
                    let of_disk: Vec<_> = seconds
                        .iter()
                        .filter_map(|s| s.disks.iter().find(|d| d.device == name))
                        .collect();
                    DiskSummary {
                        device: name.to_owned(),
                        util_pct: mean(of_disk.iter().map(|d| d.util_pct)),
                        write_mb_per_s: mean(of_disk.iter().map(|d| d.write_mb_per_s)),
                        write_iops: mean(of_disk.iter().map(|d| d.write_iops)),
                        read_mb_per_s: mean(of_disk.iter().map(|d| d.read_mb_per_s)),
                        await_ms: mean(of_disk.iter().map(|d| d.await_ms)),
                        queue_depth: mean(of_disk.iter().map(|d| d.queue_depth)),
                        flushes_per_s: mean(of_disk.iter().map(|d| d.flushes_per_s)),
                    }
                })
                .collect(),
            networks: net_names
                .into_iter()
                .map(|name| {
                    let of_net: Vec<_> = seconds
                        .iter()
                        .filter_map(|s| s.networks.iter().find(|n| n.interface == name))
                        .collect();
                    NetSummary {
                        interface: name.to_owned(),
                        receive_mb_per_s: mean(of_net.iter().map(|n| n.receive_mb_per_s)),
                        transmit_mb_per_s: mean(of_net.iter().map(|n| n.transmit_mb_per_s)),
                    }
                })
                .collect(),
            tcp_retransmits_per_s: mean(seconds.iter().map(|s| s.tcp_retransmits_per_s)),
            tcp_out_segments_per_s: mean(seconds.iter().map(|s| s.tcp_out_segments_per_s)),
            dirty_mib_max: seconds.iter().map(|s| s.dirty_mib).fold(0.0, f64::max),
            broker_cpu_cores: optional_mean(|s| s.broker_cpu_cores),
            loadgen_cpu_cores: optional_mean(|s| s.loadgen_cpu_cores),
        })
    }
}

/// One step (a ramp level, the hold, or the whole of a plain run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSummary {
    pub index: usize,
    pub phase: Phase,
    pub load: Load,
    pub start_s: f64,
    /// Seconds summarized (the first second of a step is warm-up and left out when the
    /// step is at least 3 s long).
    pub measured_s: f64,
    pub messages_per_s: f64,
    pub mb_per_s: f64,
    /// Messages acknowledged (a batch request counts its messages).
    #[serde(default)]
    pub messages_ok: u64,
    pub requests_ok: u64,
    pub requests_not_durable: u64,
    pub send_failed: u64,
    pub response_failed: u64,
    pub error_ratio: f64,
    pub latency: Percentiles,
    pub consumed_per_s: f64,
    /// Messages consumed.
    #[serde(default)]
    pub consumed: u64,
    pub end_to_end: Percentiles,
    pub host: Option<HostSummary>,
}

/// Where a step sits in the run (a struct, so `start_s` and `measured_s` cannot be swapped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSpan {
    pub index: usize,
    pub phase: Phase,
    pub load: Load,
    pub start_s: f64,
    pub measured_s: f64,
}

impl StepSummary {
    /// Summarizes `interval`, merged over the span's `measured_s` seconds.
    #[must_use]
    pub fn new(
        span: StepSpan,
        interval: &Interval,
        message_bytes: usize,
        host: Option<HostSummary>,
    ) -> StepSummary {
        let StepSpan {
            index,
            phase,
            load,
            start_s,
            measured_s,
        } = span;
        let seconds = measured_s.max(1e-3);
        let attempted = interval.requests_ok + interval.send_failed + interval.response_failed;
        StepSummary {
            index,
            phase,
            load,
            start_s,
            measured_s,
            messages_per_s: interval.messages_ok as f64 / seconds,
            mb_per_s: (interval.messages_ok as f64 * message_bytes as f64)
                / (1024.0 * 1024.0)
                / seconds,
            messages_ok: interval.messages_ok,
            requests_ok: interval.requests_ok,
            requests_not_durable: interval.requests_not_durable,
            send_failed: interval.send_failed,
            response_failed: interval.response_failed,
            error_ratio: if attempted == 0 {
                0.0
            } else {
                (interval.send_failed + interval.response_failed) as f64 / attempted as f64
            },
            latency: Percentiles::of(&interval.latency),
            consumed_per_s: interval.consumed as f64 / seconds,
            consumed: interval.consumed,
            end_to_end: Percentiles::of(&interval.end_to_end),
            host,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakInfo {
    /// Index into `steps`.
    pub step: usize,
    pub load: Load,
    pub messages_per_s: f64,
    pub reason: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    pub mode: Mode,
    pub command_line: Vec<String>,
    pub started_unix_ms: i64,
    pub git: GitInfo,
    pub host: tuning::HostFacts,
    pub host_check: Vec<HostCheckItem>,
    pub target: TargetInfo,
    pub workload: Workload,
    pub ramp: Option<RampSettings>,
    pub seconds: Vec<Second>,
    pub steps: Vec<StepSummary>,
    pub peak: Option<PeakInfo>,
    pub hold: Option<StepSummary>,
    pub bottleneck: Option<Bottleneck>,
    /// The whole run in one summary.
    pub total: StepSummary,
}

impl Report {
    /// The step that stands for the run: the hold, else the peak step, else (a plain run)
    /// its one step without the warm-up second, else the total.
    #[must_use]
    pub fn headline(&self) -> &StepSummary {
        self.hold
            .as_ref()
            .or_else(|| {
                self.peak
                    .as_ref()
                    .and_then(|peak| self.steps.get(peak.step))
            })
            .or_else(|| self.steps.first().filter(|_| self.mode == Mode::Run))
            .unwrap_or(&self.total)
    }

    /// Reads a report written by [`Report::write`].
    ///
    /// # Errors
    /// Unreadable file, invalid JSON, or another schema version.
    pub fn read(path: &std::path::Path) -> Result<Report, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let version = value["schema_version"].as_u64();
        if version != Some(u64::from(REPORT_SCHEMA_VERSION)) {
            return Err(format!(
                "{}: schema_version {version:?}, this loadgen reads {REPORT_SCHEMA_VERSION}",
                path.display()
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes pretty JSON.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, path: &std::path::Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }
}

/// The git commit of the working directory (`LOADGEN_GIT_SHA` overrides), and whether the
/// tree has uncommitted changes.
#[must_use]
pub fn git_info() -> GitInfo {
    if let Ok(sha) = std::env::var("LOADGEN_GIT_SHA") {
        return GitInfo {
            sha: Some(sha),
            dirty: None,
        };
    }
    // The working directory's repository, else the source tree loadgen was built from.
    let in_work_tree = std::process::Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .output()
        .is_ok_and(|output| output.status.success());
    let directory = if in_work_tree {
        "."
    } else {
        env!("CARGO_MANIFEST_DIR")
    };
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(directory)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    GitInfo {
        sha: run(&["rev-parse", "HEAD"]),
        dirty: run(&["status", "--porcelain", "--untracked-files=no"])
            .map(|status| !status.is_empty()),
    }
}
