//! Naming the bottleneck at the end of a run, with the evidence, as chapter 7 does by
//! reading top / sar / iostat / netstat during the hold. A pure function of a step summary
//! and the run's context; thresholds are constants below.

use serde::{Deserialize, Serialize};

use crate::config::Load;
use crate::report::StepSummary;

/// iostat %util at which a disk counts as saturated.
pub const DISK_UTIL_SATURATED_PCT: f64 = 90.0;
/// A single core this busy is saturated.
pub const CORE_SATURATED_PCT: f64 = 95.0;
/// All CPUs together this busy are saturated.
pub const ALL_CPUS_SATURATED_PCT: f64 = 90.0;
/// Share of a NIC's link speed that counts as saturated.
pub const LINK_SATURATED_SHARE: f64 = 0.8;
/// A process at this many cores (±) on an otherwise idle host looks single-thread bound.
pub const ONE_CORE_BAND: (f64, f64) = (0.9, 1.1);
/// Open loop: achieved below this share of the scheduled rate means the target fell behind.
pub const RATE_SHORTFALL_SHARE: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Disk,
    Network,
    /// Every CPU busy, the broker using most of it.
    Cpu,
    /// Every CPU busy, loadgen itself using as much as the broker.
    Client,
    /// The broker at about one core while other cores idle.
    BrokerThread,
    /// Closed loop: throughput = in-flight / latency; more concurrency would go faster.
    LatencyBound,
    /// Nothing saturated: a serialized path (lock, queue, single writer) is likely.
    Serialized,
}

/// The verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    pub resource: Resource,
    pub summary: String,
    pub evidence: Vec<String>,
}

/// What the step summary does not say.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// NIC → link speed in MB/s (from /sys/class/net/*/speed; loopback has none).
    pub link_mb_per_s: Vec<(String, f64)>,
    /// Messages per request (batch size).
    pub batch_messages: usize,
}

/// Names the likely bottleneck of `step`.
#[must_use]
pub fn name_bottleneck(step: &StepSummary, context: &Context) -> Bottleneck {
    let mut evidence = vec![format!(
        "{:.0} msgs/s ({:.1} MB/s) at {}, p99 {} µs, mean {:.0} µs",
        step.messages_per_s,
        step.mb_per_s,
        step.load.label(),
        step.latency.p99_us,
        step.latency.mean_us
    )];
    let Some(host) = &step.host else {
        return Bottleneck {
            resource: Resource::Serialized,
            summary: "no host samples: cannot name a resource".to_owned(),
            evidence,
        };
    };
    let per_cpu = host
        .per_cpu_busy_pct
        .iter()
        .enumerate()
        .map(|(cpu, busy)| format!("cpu{cpu} {busy:.0}%"))
        .collect::<Vec<_>>()
        .join(", ");
    evidence.push(format!(
        "CPU busy {:.0}% (user {:.0}%, sys {:.0}%, softirq {:.0}%, iowait {:.0}%): {per_cpu}; run queue {:.1}; {:.0} context switches/s",
        host.cpu_busy_pct, host.cpu_user_pct, host.cpu_system_pct, host.cpu_softirq_pct, host.cpu_iowait_pct, host.run_queue, host.context_switches_per_s
    ));
    let broker = host.broker_cpu_cores;
    let loadgen = host.loadgen_cpu_cores;
    evidence.push(format!(
        "broker process {} cores, loadgen {} cores",
        broker.map_or("?".to_owned(), |c| format!("{c:.2}")),
        loadgen.map_or("?".to_owned(), |c| format!("{c:.2}"))
    ));
    for disk in &host.disks {
        evidence.push(format!(
            "disk {}: util {:.0}%, write {:.1} MB/s, {:.0} w/s, await {:.2} ms, queue {:.1}, {:.0} flushes/s",
            disk.device, disk.util_pct, disk.write_mb_per_s, disk.write_iops, disk.await_ms, disk.queue_depth, disk.flushes_per_s
        ));
    }
    for net in &host.networks {
        evidence.push(format!(
            "net {}: rx {:.1} MB/s, tx {:.1} MB/s",
            net.interface, net.receive_mb_per_s, net.transmit_mb_per_s
        ));
    }
    evidence.push(format!(
        "TCP retransmits {:.1}/s",
        host.tcp_retransmits_per_s
    ));
    let (resource, summary) = verdict(step, context);
    Bottleneck {
        resource,
        summary,
        evidence,
    }
}

fn verdict(step: &StepSummary, context: &Context) -> (Resource, String) {
    let Some(host) = &step.host else {
        return (Resource::Serialized, String::new());
    };
    if let Some(disk) = host
        .disks
        .iter()
        .find(|d| d.util_pct >= DISK_UTIL_SATURATED_PCT)
    {
        return (
            Resource::Disk,
            format!(
                "disk {} is saturated (util {:.0}%, {:.1} MB/s written)",
                disk.device, disk.util_pct, disk.write_mb_per_s
            ),
        );
    }
    for (interface, link) in &context.link_mb_per_s {
        let Some(net) = host.networks.iter().find(|n| &n.interface == interface) else {
            continue;
        };
        let used = net.receive_mb_per_s.max(net.transmit_mb_per_s);
        if *link > 0.0 && used >= link * LINK_SATURATED_SHARE {
            return (
                Resource::Network,
                format!("network {interface} near its link speed ({used:.0} of {link:.0} MB/s)"),
            );
        }
    }
    let saturated_core = host
        .per_cpu_busy_pct
        .iter()
        .any(|busy| *busy >= CORE_SATURATED_PCT);
    if host.cpu_busy_pct >= ALL_CPUS_SATURATED_PCT {
        let broker = host.broker_cpu_cores.unwrap_or(0.0);
        let loadgen = host.loadgen_cpu_cores.unwrap_or(0.0);
        if loadgen >= broker && loadgen > 0.0 {
            return (
                Resource::Client,
                format!(
                    "client-bound: all CPUs busy and loadgen uses {loadgen:.2} cores vs the broker's {broker:.2}; \
                     run loadgen elsewhere or make requests cheaper (batch)"
                ),
            );
        }
        return (
            Resource::Cpu,
            format!(
                "CPU-bound: all CPUs {:.0}% busy, broker {broker:.2} cores",
                host.cpu_busy_pct
            ),
        );
    }
    if let Some(cores) = host.broker_cpu_cores {
        if (ONE_CORE_BAND.0..=ONE_CORE_BAND.1).contains(&cores) && saturated_core {
            return (
                Resource::BrokerThread,
                format!(
                    "one core saturated while the host is {:.0}% busy and the broker uses {cores:.2} cores: \
                     a single broker thread is the limit (check top -H)",
                    host.cpu_busy_pct
                ),
            );
        }
    }
    let requests_per_s = step.requests_ok as f64 / step.measured_s.max(1e-3);
    match step.load {
        Load::Rate { requests_per_s: scheduled } if requests_per_s < scheduled * RATE_SHORTFALL_SHARE => (
            Resource::Serialized,
            format!(
                "the target fell behind the schedule ({requests_per_s:.0} of {scheduled:.0} req/s) with no resource \
                 saturated: a serialized path in the broker or the client"
            ),
        ),
        Load::Concurrency { requests } => {
            let littles_law = requests_per_s * step.latency.mean_us / 1e6;
            if littles_law >= requests as f64 * 0.8 && !saturated_core {
                (
                    Resource::LatencyBound,
                    format!(
                        "latency-bound: {requests} requests in flight / {:.0} µs mean latency ≈ {requests_per_s:.0} req/s \
                         with CPU {:.0}% busy; raise concurrency (or batch {}) to go faster",
                        step.latency.mean_us, host.cpu_busy_pct, context.batch_messages
                    ),
                )
            } else {
                serialized(host.cpu_busy_pct)
            }
        }
        Load::Rate { .. } => (
            Resource::Serialized,
            format!("the scheduled rate was met with CPU {:.0}% busy: raise the rate to find the limit", host.cpu_busy_pct),
        ),
    }
}

fn serialized(cpu_busy_pct: f64) -> (Resource, String) {
    (
        Resource::Serialized,
        format!(
            "no resource saturated (CPU {cpu_busy_pct:.0}% busy, no disk at {DISK_UTIL_SATURATED_PCT:.0}% util): \
             a serialized path (a lock, a single queue or writer) in the broker or the client"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DiskSummary, HostSummary, Phase};
    use crate::stats::Percentiles;

    fn step(load: Load, requests_ok: u64, mean_us: f64, host: HostSummary) -> StepSummary {
        StepSummary {
            index: 0,
            phase: Phase::Hold,
            load,
            start_s: 0.0,
            measured_s: 10.0,
            messages_per_s: requests_ok as f64 / 10.0,
            mb_per_s: 1.0,
            messages_ok: requests_ok,
            requests_ok,
            requests_not_durable: 0,
            send_failed: 0,
            response_failed: 0,
            error_ratio: 0.0,
            latency: Percentiles {
                count: requests_ok,
                mean_us,
                p50_us: 1,
                p99_us: 2,
                p999_us: 3,
                max_us: 4,
            },
            consumed_per_s: 0.0,
            consumed: 0,
            end_to_end: Percentiles::default(),
            host: Some(host),
        }
    }

    fn host(busy: f64, per_cpu: &[f64], broker: f64, loadgen: f64, util: f64) -> HostSummary {
        HostSummary {
            seconds: 10,
            cpu_busy_pct: busy,
            per_cpu_busy_pct: per_cpu.to_vec(),
            broker_cpu_cores: Some(broker),
            loadgen_cpu_cores: Some(loadgen),
            disks: vec![DiskSummary {
                device: "vda".to_owned(),
                util_pct: util,
                write_mb_per_s: 700.0,
                ..DiskSummary::default()
            }],
            ..HostSummary::default()
        }
    }

    fn name(step: &StepSummary) -> Resource {
        name_bottleneck(
            step,
            &Context {
                link_mb_per_s: Vec::new(),
                batch_messages: 1,
            },
        )
        .resource
    }

    #[test]
    fn disk_wins_when_saturated() {
        let hold = step(
            Load::Concurrency { requests: 256 },
            1_000_000,
            2000.0,
            host(60.0, &[60.0, 60.0], 1.0, 0.2, 98.0),
        );
        let verdict = name_bottleneck(&hold, &Context::default());
        assert_eq!(verdict.resource, Resource::Disk);
        assert!(verdict.summary.contains("vda"));
        assert!(verdict
            .evidence
            .iter()
            .any(|e| e.starts_with("disk vda: util 98%")));
    }

    #[test]
    fn cpu_versus_client() {
        let broker_heavy = step(
            Load::Concurrency { requests: 256 },
            1_000_000,
            2000.0,
            host(97.0, &[97.0, 97.0], 1.4, 0.5, 10.0),
        );
        assert_eq!(name(&broker_heavy), Resource::Cpu);
        let client_heavy = step(
            Load::Concurrency { requests: 256 },
            1_000_000,
            2000.0,
            host(97.0, &[97.0, 97.0], 0.8, 1.1, 10.0),
        );
        assert_eq!(name(&client_heavy), Resource::Client);
    }

    #[test]
    fn one_saturated_broker_thread() {
        let hold = step(
            Load::Concurrency { requests: 256 },
            100_000,
            20_000.0,
            host(55.0, &[99.0, 11.0], 1.0, 0.1, 5.0),
        );
        assert_eq!(name(&hold), Resource::BrokerThread);
    }

    #[test]
    fn latency_bound_versus_serialized() {
        // 4 in flight, 10,000 req/s x 400 µs = 4: the loop itself is the limit.
        let small = step(
            Load::Concurrency { requests: 4 },
            100_000,
            400.0,
            host(30.0, &[30.0, 30.0], 0.3, 0.2, 5.0),
        );
        assert_eq!(name(&small), Resource::LatencyBound);
        // 64 in flight but only 1,500 req/s x 2,900 µs ≈ 4.4: requests wait somewhere unseen.
        let stuck = step(
            Load::Concurrency { requests: 64 },
            15_000,
            2900.0,
            host(30.0, &[30.0, 30.0], 0.3, 0.1, 5.0),
        );
        assert_eq!(name(&stuck), Resource::Serialized);
        let behind = step(
            Load::Rate {
                requests_per_s: 50_000.0,
            },
            300_000,
            900.0,
            host(40.0, &[40.0, 40.0], 0.5, 0.3, 5.0),
        );
        assert_eq!(name(&behind), Resource::Serialized);
    }

    #[test]
    fn network_link() {
        let mut summary = host(40.0, &[40.0, 40.0], 0.5, 0.3, 5.0);
        summary.networks.push(crate::report::NetSummary {
            interface: "eth0".to_owned(),
            receive_mb_per_s: 110.0,
            transmit_mb_per_s: 2.0,
        });
        let hold = step(Load::Concurrency { requests: 64 }, 100_000, 400.0, summary);
        let context = Context {
            link_mb_per_s: vec![("eth0".to_owned(), 125.0)],
            batch_messages: 1,
        };
        assert_eq!(name_bottleneck(&hold, &context).resource, Resource::Network);
    }
}
