//! Process limits (nofile, memlock), CPU governor, IRQ affinity and NUMA (playbook
//! `kernel.md`).

use std::collections::BTreeMap;

use super::{Apply, BrokerKind, CheckOptions, Finding, Status};
use crate::host::HostSnapshot;
use crate::parse::{InterruptLine, LimitValue};

/// os.sh: `ulimit -n 655350`.
const NOFILE_RECOMMENDED: u64 = 655_350;
/// glommio refuses to start its executor below this much lockable memory
/// (shared/spec/performance.md §2.4).
const MEMLOCK_BYTES_MIN: u64 = 512 * 1024;
/// Per shard: glommio registers `io_memory` (10 MiB by default) with each of its 3 rings.
const MEMLOCK_BYTES_PER_SHARD: u64 = 3 * 10 * 1024 * 1024;

pub(super) fn audit_limits(
    snapshot: &HostSnapshot,
    options: &CheckOptions,
    findings: &mut Vec<Finding>,
) {
    findings.push(nofile_finding(snapshot));
    findings.push(memlock_finding(snapshot, options.broker));
}

fn nofile_finding(snapshot: &HostSnapshot) -> Finding {
    let finding = Finding::new(
        "limit.nofile",
        Some("this shell"),
        "kernel.md#file-descriptors",
    )
    .recommended(format!(">= {NOFILE_RECOMMENDED} (os.sh)"))
    .command(format!(
        "ulimit -n {NOFILE_RECOMMENDED}  (in the shell that starts the broker)"
    ))
    .persist(format!(
        "/etc/security/limits.conf: '* hard nofile {NOFILE_RECOMMENDED}' and '* soft nofile \
             {NOFILE_RECOMMENDED}', or LimitNOFILE={NOFILE_RECOMMENDED} in the systemd unit"
    ))
    .why(
        "one descriptor per connection plus one per open segment / consume-queue file; \
             running out refuses clients (EMFILE). The broker inherits this shell's limit.",
    );
    let Some(limit) = snapshot.limit("Max open files") else {
        return finding;
    };
    let ok = limit.soft.at_least(NOFILE_RECOMMENDED);
    finding
        .current(format!("soft {} / hard {}", limit.soft, limit.hard))
        .status(if ok { Status::Ok } else { Status::Differs })
}

fn memlock_finding(snapshot: &HostSnapshot, broker: BrokerKind) -> Finding {
    let shards = snapshot.cpus_online.len().max(1) as u64;
    let wanted = MEMLOCK_BYTES_PER_SHARD * shards;
    let finding = Finding::new(
        "limit.memlock",
        Some("this shell"),
        "kernel.md#io_uring-and-memlock",
    )
    .recommended(format!(
        "unlimited (os.sh), or >= {} MiB ({shards} shards x 30 MiB); >= 512 KiB to start",
        wanted / (1024 * 1024)
    ))
    .command("ulimit -l unlimited  (in the shell that starts the broker)")
    .persist(
        "/etc/security/limits.conf: '* hard memlock unlimited' and '* soft memlock \
             unlimited', or LimitMEMLOCK=infinity in the systemd unit",
    );
    let Some(limit) = snapshot.limit("Max locked memory") else {
        return finding;
    };
    let capability = snapshot.capability_ipc_lock == Some(true);
    let current = format!(
        "soft {} / hard {} bytes{}",
        limit.soft,
        limit.hard,
        if capability {
            " (CAP_IPC_LOCK held)"
        } else {
            ""
        }
    );
    let (status, why) = match broker {
        BrokerKind::Apache => (
            if limit.soft == LimitValue::Unlimited {
                Status::Ok
            } else {
                Status::Info
            },
            "os.sh sets unlimited; the Apache broker can mlock its transient store pool",
        ),
        BrokerKind::Ours if capability || limit.soft.at_least(wanted) => (
            Status::Ok,
            if capability {
                "CAP_IPC_LOCK is held, so io_uring registered buffers are not charged to \
                 RLIMIT_MEMLOCK (the ring arrays are charged to the memory cgroup since 5.12)"
            } else {
                "enough for glommio's registered io_memory on every shard"
            },
        ),
        BrokerKind::Ours if limit.soft.at_least(MEMLOCK_BYTES_MIN) => (
            Status::Differs,
            "glommio starts but silently falls back to unregistered buffers; run as root, \
             raise the limit, or set io_memory(1 MiB) per shard",
        ),
        BrokerKind::Ours => (
            Status::Differs,
            "below 512 KiB the glommio executor does not start at all",
        ),
    };
    finding.current(current).status(status).why(why)
}

pub(super) fn audit_cpu(snapshot: &HostSnapshot, findings: &mut Vec<Finding>) {
    findings.push(governor_finding(snapshot));
    findings.push(irq_finding(snapshot));
    findings.push(numa_finding(snapshot));
}

fn governor_finding(snapshot: &HostSnapshot) -> Finding {
    let finding = Finding::new("cpu.governor", None, "kernel.md#cpu-frequency-governor")
        .recommended("performance")
        .command(
            "for g in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo \
             performance > $g; done",
        )
        .why(
            "the performance governor keeps the highest frequency (cpufreq.rst): no ramp-up \
             delay on a burst of sends after an idle period",
        );
    if snapshot.cpu_governors.is_empty() {
        return finding
            .current("not exposed (no cpufreq driver; a VM's host controls frequency)")
            .status(Status::Info);
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for governor in snapshot.cpu_governors.values() {
        *counts.entry(governor.as_str()).or_default() += 1;
    }
    let current = counts
        .iter()
        .map(|(governor, count)| format!("{governor} x{count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let differing: Vec<Apply> = snapshot
        .cpu_governors
        .iter()
        .filter(|(_, governor)| governor.as_str() != "performance")
        .map(|(cpu, _)| Apply {
            path: format!("/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor"),
            value: "performance".to_owned(),
        })
        .collect();
    let status = if differing.is_empty() {
        Status::Ok
    } else {
        Status::Differs
    };
    let mut finding = finding.current(current).status(status);
    finding.apply = differing;
    finding
}

/// Which subsystem an interrupt action name belongs to.
fn irq_class(action: &str) -> Option<&'static str> {
    let network_markers = [
        "-input.", "-output.", "eth", "TxRx", "-rx", "-tx", "mlx", "ens", "enp",
    ];
    if action.starts_with("nvme") || action.contains("-req") || action.starts_with("ahci") {
        Some("disk")
    } else if network_markers.iter().any(|marker| action.contains(marker)) {
        Some("network")
    } else {
        None
    }
}

/// One line per class: "disk: 1 irq, cpu1 100%" (share of that class's interrupts per CPU).
#[must_use]
pub fn summarize_interrupts(lines: &[InterruptLine]) -> Vec<String> {
    let mut by_class: BTreeMap<&str, (usize, Vec<u64>)> = BTreeMap::new();
    for line in lines {
        let Some(class) = irq_class(line.action()) else {
            continue;
        };
        let entry = by_class
            .entry(class)
            .or_insert_with(|| (0, vec![0; line.per_cpu.len()]));
        entry.0 += 1;
        for (total, count) in entry.1.iter_mut().zip(&line.per_cpu) {
            *total += count;
        }
    }
    by_class
        .into_iter()
        .map(|(class, (irqs, per_cpu))| {
            let sum: u64 = per_cpu.iter().sum::<u64>().max(1);
            let shares = per_cpu
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(cpu, count)| format!("cpu{cpu} {}%", count * 100 / sum))
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "{class}: {irqs} irqs, {}",
                if shares.is_empty() {
                    "none yet".to_owned()
                } else {
                    shares
                }
            )
        })
        .collect()
}

fn irq_finding(snapshot: &HostSnapshot) -> Finding {
    let finding = Finding::new("irq.affinity", None, "kernel.md#irq-affinity")
        .recommended("disk and NIC queue IRQs spread over the broker's cores (to be measured)")
        .command("echo <cpu list> > /proc/irq/<n>/smp_affinity_list  (or run irqbalance)")
        .why(
            "a shard that shares its core with a busy NIC or disk IRQ loses time to softirq; \
             spread queues (irq-affinity.rst), then confirm with loadgen's per-core softirq",
        );
    if snapshot.interrupts.is_empty() {
        return finding;
    }
    let summary = summarize_interrupts(&snapshot.interrupts);
    let current = if summary.is_empty() {
        "no disk or network IRQs recognised".to_owned()
    } else {
        summary.join("; ")
    };
    finding.current(current).status(Status::Info)
}

fn numa_finding(snapshot: &HostSnapshot) -> Finding {
    let nodes = snapshot.numa_nodes.len();
    let finding = Finding::new("numa.nodes", None, "kernel.md#numa")
        .recommended("1 node, or bind the broker to one node")
        .command("numactl --cpunodebind=<n> --membind=<n> <broker command>")
        .why(
            "remote memory costs latency; RocketMQ ships mqbroker.numanode0..3 scripts that \
             start one broker per node under numactl",
        );
    match nodes {
        0 => finding,
        1 => finding.current("1 node").status(Status::Ok),
        _ => finding
            .current(format!("{nodes} nodes"))
            .status(Status::Info),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_classes() {
        assert_eq!(irq_class("virtio1-req.0"), Some("disk"));
        assert_eq!(irq_class("nvme0q3"), Some("disk"));
        assert_eq!(irq_class("virtio2-input.0"), Some("network"));
        assert_eq!(irq_class("eth0-TxRx-1"), Some("network"));
        assert_eq!(irq_class("ttyS0"), None);
        assert_eq!(irq_class("ACPI:Ged"), None);
    }
}
