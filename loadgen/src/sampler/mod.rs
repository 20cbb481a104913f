//! The host sampler: what chapter 7 watches with top, sar, iostat and netstat, read from /proc
//! once a second and turned into rates.
//!
//! [`Counters`] is one raw reading; [`HostSecond::between`] is the pure function from two
//! readings to rates, tested on captured pairs; [`HostSampler`] does the reading.

pub mod parse;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use parse::{CpuTicks, DiskCounters, Memory, NetCounters, ProcStat, TcpCounters};

/// Clock ticks per second of /proc/<pid>/stat times (`USER_HZ`, 100 on every Linux ABI we
/// run on; reading it needs `sysconf`, which needs `unsafe` or libc).
pub const USER_HZ: f64 = 100.0;

const SECTOR_BYTES: f64 = 512.0;
const MEBIBYTE: f64 = 1024.0 * 1024.0;

/// One raw reading of the host.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub stat: ProcStat,
    pub disks: BTreeMap<String, DiskCounters>,
    pub networks: BTreeMap<String, NetCounters>,
    pub tcp: TcpCounters,
    pub memory: Memory,
    pub broker_cpu_ticks: Option<u64>,
    pub loadgen_cpu_ticks: Option<u64>,
}

/// Per-device rates over one interval (iostat -x columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskSecond {
    pub device: String,
    pub read_mb_per_s: f64,
    pub write_mb_per_s: f64,
    pub read_iops: f64,
    pub write_iops: f64,
    /// Mean time per completed I/O, queueing included (iostat `await`).
    pub await_ms: f64,
    /// Share of wall time with at least one I/O in flight (iostat `%util`).
    pub util_pct: f64,
    /// Mean number of I/Os in flight (iostat `aqu-sz`).
    pub queue_depth: f64,
    /// Cache-flush requests per second: about one per fdatasync reaching the device.
    pub flushes_per_s: f64,
}

/// Per-interface rates (sar -n DEV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetSecond {
    pub interface: String,
    pub receive_mb_per_s: f64,
    pub transmit_mb_per_s: f64,
    pub receive_packets_per_s: f64,
    pub transmit_packets_per_s: f64,
}

/// One second of host activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HostSecond {
    /// Shares of all CPUs' time, 0–100.
    pub cpu_user_pct: f64,
    pub cpu_system_pct: f64,
    pub cpu_iowait_pct: f64,
    pub cpu_irq_pct: f64,
    pub cpu_softirq_pct: f64,
    pub cpu_steal_pct: f64,
    pub cpu_idle_pct: f64,
    /// Per CPU: share of time not idle and not in iowait.
    pub per_cpu_busy_pct: Vec<f64>,
    pub per_cpu_softirq_pct: Vec<f64>,
    /// Runnable tasks at the moment of reading (/proc/stat `procs_running`).
    pub run_queue: u64,
    pub blocked_tasks: u64,
    pub context_switches_per_s: f64,
    pub disks: Vec<DiskSecond>,
    pub networks: Vec<NetSecond>,
    pub tcp_retransmits_per_s: f64,
    pub tcp_out_segments_per_s: f64,
    pub memory_used_mib: f64,
    pub page_cache_mib: f64,
    pub dirty_mib: f64,
    pub writeback_mib: f64,
    /// CPU of the broker process in cores (1.0 = one core busy), if its pid is known.
    pub broker_cpu_cores: Option<f64>,
    pub loadgen_cpu_cores: Option<f64>,
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

impl HostSecond {
    /// Rates between two readings `elapsed_s` apart. `disks` limits the devices reported
    /// (whole disks); an empty list reports every device that saw I/O.
    #[must_use]
    pub fn between(
        before: &Counters,
        after: &Counters,
        elapsed_s: f64,
        disks: &[String],
    ) -> HostSecond {
        let elapsed_s = elapsed_s.max(1e-3);
        let cpu = after.stat.all.since(&before.stat.all);
        let total = cpu.total();
        let per_cpu: Vec<CpuTicks> = after
            .stat
            .per_cpu
            .iter()
            .zip(&before.stat.per_cpu)
            .map(|(a, b)| a.since(b))
            .collect();
        let process_cores = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.saturating_sub(b) as f64 / USER_HZ / elapsed_s),
            _ => None,
        };
        let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / elapsed_s;
        HostSecond {
            cpu_user_pct: share(cpu.user + cpu.nice, total),
            cpu_system_pct: share(cpu.system, total),
            cpu_iowait_pct: share(cpu.iowait, total),
            cpu_irq_pct: share(cpu.irq, total),
            cpu_softirq_pct: share(cpu.softirq, total),
            cpu_steal_pct: share(cpu.steal, total),
            cpu_idle_pct: share(cpu.idle, total),
            per_cpu_busy_pct: per_cpu.iter().map(|t| share(t.busy(), t.total())).collect(),
            per_cpu_softirq_pct: per_cpu
                .iter()
                .map(|t| share(t.softirq, t.total()))
                .collect(),
            run_queue: after.stat.procs_running,
            blocked_tasks: after.stat.procs_blocked,
            context_switches_per_s: rate(after.stat.context_switches, before.stat.context_switches),
            disks: disk_rates(before, after, elapsed_s, disks),
            networks: network_rates(before, after, elapsed_s),
            tcp_retransmits_per_s: rate(
                after.tcp.retransmitted_segments,
                before.tcp.retransmitted_segments,
            ),
            tcp_out_segments_per_s: rate(after.tcp.out_segments, before.tcp.out_segments),
            memory_used_mib: after
                .memory
                .total_kib
                .saturating_sub(after.memory.available_kib) as f64
                / 1024.0,
            page_cache_mib: after.memory.cached_kib as f64 / 1024.0,
            dirty_mib: after.memory.dirty_kib as f64 / 1024.0,
            writeback_mib: after.memory.writeback_kib as f64 / 1024.0,
            broker_cpu_cores: process_cores(after.broker_cpu_ticks, before.broker_cpu_ticks),
            loadgen_cpu_cores: process_cores(after.loadgen_cpu_ticks, before.loadgen_cpu_ticks),
        }
    }
}

fn disk_rates(
    before: &Counters,
    after: &Counters,
    elapsed_s: f64,
    disks: &[String],
) -> Vec<DiskSecond> {
    after
        .disks
        .iter()
        .filter(|(name, _)| disks.is_empty() || disks.contains(name))
        .filter_map(|(name, a)| {
            let b = before.disks.get(name)?;
            let reads = a.reads.saturating_sub(b.reads) as f64;
            let writes = a.writes.saturating_sub(b.writes) as f64;
            if disks.is_empty() && reads + writes == 0.0 {
                return None;
            }
            let io_ms = (a.read_ms + a.write_ms).saturating_sub(b.read_ms + b.write_ms) as f64;
            let elapsed_ms = elapsed_s * 1000.0;
            Some(DiskSecond {
                device: name.clone(),
                read_mb_per_s: a.sectors_read.saturating_sub(b.sectors_read) as f64 * SECTOR_BYTES
                    / MEBIBYTE
                    / elapsed_s,
                write_mb_per_s: a.sectors_written.saturating_sub(b.sectors_written) as f64
                    * SECTOR_BYTES
                    / MEBIBYTE
                    / elapsed_s,
                read_iops: reads / elapsed_s,
                write_iops: writes / elapsed_s,
                await_ms: if reads + writes > 0.0 {
                    io_ms / (reads + writes)
                } else {
                    0.0
                },
                util_pct: (a.io_ms.saturating_sub(b.io_ms) as f64 * 100.0 / elapsed_ms).min(100.0),
                queue_depth: a.weighted_io_ms.saturating_sub(b.weighted_io_ms) as f64 / elapsed_ms,
                flushes_per_s: a.flushes.saturating_sub(b.flushes) as f64 / elapsed_s,
            })
        })
        .collect()
}

fn network_rates(before: &Counters, after: &Counters, elapsed_s: f64) -> Vec<NetSecond> {
    after
        .networks
        .iter()
        .filter_map(|(name, a)| {
            let b = before.networks.get(name)?;
            let bytes = (a.receive_bytes + a.transmit_bytes)
                .saturating_sub(b.receive_bytes + b.transmit_bytes);
            if bytes == 0 && name != "lo" {
                return None;
            }
            Some(NetSecond {
                interface: name.clone(),
                receive_mb_per_s: a.receive_bytes.saturating_sub(b.receive_bytes) as f64
                    / MEBIBYTE
                    / elapsed_s,
                transmit_mb_per_s: a.transmit_bytes.saturating_sub(b.transmit_bytes) as f64
                    / MEBIBYTE
                    / elapsed_s,
                receive_packets_per_s: a.receive_packets.saturating_sub(b.receive_packets) as f64
                    / elapsed_s,
                transmit_packets_per_s: a.transmit_packets.saturating_sub(b.transmit_packets)
                    as f64
                    / elapsed_s,
            })
        })
        .collect()
}

/// Reads [`Counters`] from /proc (or a fixture root) and keeps the previous reading.
#[derive(Debug)]
pub struct HostSampler {
    proc_root: PathBuf,
    broker_pid: Option<u32>,
    whole_disks: Vec<String>,
    previous: Option<(Instant, Counters)>,
}

impl HostSampler {
    /// Samples the running host. `broker_pid` adds the broker's CPU; the disks reported are
    /// the whole, non-virtual block devices.
    #[must_use]
    pub fn new(broker_pid: Option<u32>) -> HostSampler {
        let root = tuning::HostRoot::system();
        let whole_disks = tuning::HostSnapshot::collect(&root)
            .block_devices
            .into_iter()
            .filter(|device| device.kind != tuning::host::DeviceKind::Virtual)
            .map(|device| device.name)
            .collect();
        HostSampler {
            proc_root: PathBuf::from("/proc"),
            broker_pid,
            whole_disks,
            previous: None,
        }
    }

    pub fn set_broker_pid(&mut self, broker_pid: Option<u32>) {
        self.broker_pid = broker_pid;
    }

    #[must_use]
    pub fn broker_pid(&self) -> Option<u32> {
        self.broker_pid
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.proc_root.join(name)).unwrap_or_default()
    }

    /// Takes a reading now.
    #[must_use]
    pub fn read_counters(&self) -> Counters {
        Counters {
            stat: parse::parse_proc_stat(&self.read("stat")),
            disks: parse::parse_diskstats(&self.read("diskstats")),
            networks: parse::parse_net_dev(&self.read("net/dev")),
            tcp: parse::parse_snmp_tcp(&self.read("net/snmp")),
            memory: parse::parse_meminfo(&self.read("meminfo")),
            broker_cpu_ticks: self
                .broker_pid
                .and_then(|pid| parse::parse_pid_cpu_ticks(&self.read(&format!("{pid}/stat")))),
            loadgen_cpu_ticks: parse::parse_pid_cpu_ticks(&self.read("self/stat")),
        }
    }

    /// Reads the host and returns the rates since the previous call (`None` the first time).
    pub fn sample(&mut self) -> Option<HostSecond> {
        let now = Instant::now();
        let counters = self.read_counters();
        let second = self.previous.as_ref().map(|(then, before)| {
            HostSecond::between(
                before,
                &counters,
                now.duration_since(*then).as_secs_f64(),
                &self.whole_disks,
            )
        });
        self.previous = Some((now, counters));
        second
    }
}

/// One compact line (what `top`, `iostat -x`, `sar -n DEV` would show for the second).
#[must_use]
pub fn describe(second: &HostSecond) -> String {
    let mut line = format!(
        "cpu {:.0}% (us {:.0} sy {:.0} si {:.0} wa {:.0}) per-cpu [{}] rq {} cs {:.0}/s",
        100.0 - second.cpu_idle_pct - second.cpu_iowait_pct,
        second.cpu_user_pct,
        second.cpu_system_pct,
        second.cpu_softirq_pct,
        second.cpu_iowait_pct,
        second
            .per_cpu_busy_pct
            .iter()
            .map(|b| format!("{b:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
        second.run_queue,
        second.context_switches_per_s
    );
    for disk in &second.disks {
        line.push_str(&format!(
            " | {} util {:.0}% w {:.1} MB/s {:.0} w/s await {:.2} ms fl {:.0}/s",
            disk.device,
            disk.util_pct,
            disk.write_mb_per_s,
            disk.write_iops,
            disk.await_ms,
            disk.flushes_per_s
        ));
    }
    for net in &second.networks {
        line.push_str(&format!(
            " | {} rx {:.1} tx {:.1} MB/s",
            net.interface, net.receive_mb_per_s, net.transmit_mb_per_s
        ));
    }
    line.push_str(&format!(
        " | retrans {:.0}/s | dirty {:.0} MiB",
        second.tcp_retransmits_per_s, second.dirty_mib
    ));
    if let Some(cores) = second.broker_cpu_cores {
        line.push_str(&format!(" | broker {cores:.2} cores"));
    }
    line
}

/// The pid of the process listening on TCP `port` (looked up through /proc/net/tcp{,6} and
/// every process's fd links), for sampling a broker that loadgen did not launch.
#[must_use]
pub fn find_listening_pid(port: u16) -> Option<u32> {
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| parse::listening_socket_inodes(&text, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes
        .iter()
        .map(|inode| format!("socket:[{inode}]"))
        .collect();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            let found = fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|link| wanted.iter().any(|w| link.as_os_str() == w.as_str()))
            });
            found.then_some(pid)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(suffix: &str) -> Counters {
        let read = |name: &str| {
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/{name}.{suffix}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("fixture")
        };
        Counters {
            stat: parse::parse_proc_stat(&read("proc_stat")),
            disks: parse::parse_diskstats(&read("proc_diskstats")),
            networks: parse::parse_net_dev(&read("proc_net_dev")),
            tcp: parse::parse_snmp_tcp(&read("proc_net_snmp")),
            memory: parse::parse_meminfo(&read("proc_meminfo")),
            broker_cpu_ticks: Some(if suffix == "0" { 1000 } else { 1150 }),
            loadgen_cpu_ticks: None,
        }
    }

    #[test]
    fn rates_from_a_captured_pair() {
        let second = HostSecond::between(&counters("0"), &counters("1"), 1.0, &["vda".to_owned()]);
        let cpu_sum = second.cpu_user_pct
            + second.cpu_system_pct
            + second.cpu_iowait_pct
            + second.cpu_irq_pct
            + second.cpu_softirq_pct
            + second.cpu_steal_pct
            + second.cpu_idle_pct;
        assert!((cpu_sum - 100.0).abs() < 0.01, "{cpu_sum}");
        assert_eq!(second.per_cpu_busy_pct.len(), 2);
        let vda = &second.disks[0];
        assert_eq!(vda.device, "vda");
        assert!((vda.util_pct - 72.8).abs() < 0.01, "{}", vda.util_pct);
        // 852,472 sectors written in the captured second (a 128 MiB O_DIRECT dd + others).
        assert!((vda.write_mb_per_s - 852_472.0 * 512.0 / MEBIBYTE).abs() < 0.01);
        assert!((vda.flushes_per_s - 11.0).abs() < 0.01);
        assert_eq!(second.broker_cpu_cores, Some(1.5));
        assert_eq!(second.loadgen_cpu_cores, None);
        assert!(second.networks.iter().any(|n| n.interface == "lo"));
        assert!(second.memory_used_mib > 0.0);
    }

    #[test]
    fn idle_disks_are_dropped_when_no_list_is_given() {
        let before = counters("0");
        let second = HostSecond::between(&before, &before, 1.0, &[]);
        assert!(second.disks.is_empty());
        assert_eq!(second.context_switches_per_s, 0.0);
    }
}
