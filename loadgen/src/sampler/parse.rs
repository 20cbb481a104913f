//! Pure parsers for the /proc files sampled each second, and the counter types they produce.
//! Field meanings: `proc(5)`, Linux `Documentation/admin-guide/iostats.rst` (diskstats),
//! `Documentation/filesystems/proc.rst` (stat, meminfo). Unit-tested on captured samples in
//! `tests/fixtures/`.

use std::collections::BTreeMap;

/// Jiffies of one CPU line of /proc/stat (`cpu` = all CPUs, `cpuN` = one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTicks {
    #[must_use]
    pub fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }

    /// Ticks spent running something (not idle, not waiting for I/O).
    #[must_use]
    pub fn busy(&self) -> u64 {
        self.total() - self.idle - self.iowait
    }

    /// Field-wise difference `self - earlier` (saturating: counters can be reset by hotplug).
    #[must_use]
    pub fn since(&self, earlier: &CpuTicks) -> CpuTicks {
        CpuTicks {
            user: self.user.saturating_sub(earlier.user),
            nice: self.nice.saturating_sub(earlier.nice),
            system: self.system.saturating_sub(earlier.system),
            idle: self.idle.saturating_sub(earlier.idle),
            iowait: self.iowait.saturating_sub(earlier.iowait),
            irq: self.irq.saturating_sub(earlier.irq),
            softirq: self.softirq.saturating_sub(earlier.softirq),
            steal: self.steal.saturating_sub(earlier.steal),
        }
    }
}

/// What /proc/stat gives the sampler.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcStat {
    pub all: CpuTicks,
    /// Index = CPU number as listed (`cpu0`, `cpu1`, ...).
    pub per_cpu: Vec<CpuTicks>,
    pub context_switches: u64,
    pub procs_running: u64,
    pub procs_blocked: u64,
}

/// Parses /proc/stat.
#[must_use]
pub fn parse_proc_stat(text: &str) -> ProcStat {
    let mut stat = ProcStat::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let numbers: Vec<u64> = words.filter_map(|w| w.parse().ok()).collect();
        let first = numbers.first().copied().unwrap_or(0);
        match key {
            "cpu" => stat.all = cpu_ticks(&numbers),
            "ctxt" => stat.context_switches = first,
            "procs_running" => stat.procs_running = first,
            "procs_blocked" => stat.procs_blocked = first,
            _ if key.starts_with("cpu") => stat.per_cpu.push(cpu_ticks(&numbers)),
            _ => {}
        }
    }
    stat
}

fn cpu_ticks(numbers: &[u64]) -> CpuTicks {
    let at = |index: usize| numbers.get(index).copied().unwrap_or(0);
    CpuTicks {
        user: at(0),
        nice: at(1),
        system: at(2),
        idle: at(3),
        iowait: at(4),
        irq: at(5),
        softirq: at(6),
        steal: at(7),
    }
}

/// Counters of one /proc/diskstats line (iostats.rst field numbers in comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskCounters {
    /// 1: reads completed.
    pub reads: u64,
    /// 3: sectors read (512 bytes each, whatever the device's sector size).
    pub sectors_read: u64,
    /// 4: milliseconds spent reading.
    pub read_ms: u64,
    /// 5: writes completed.
    pub writes: u64,
    /// 7: sectors written.
    pub sectors_written: u64,
    /// 8: milliseconds spent writing.
    pub write_ms: u64,
    /// 9: I/Os currently in progress.
    pub in_progress: u64,
    /// 10: milliseconds spent doing I/Os (util = delta / elapsed).
    pub io_ms: u64,
    /// 11: weighted milliseconds doing I/Os (average queue = delta / elapsed).
    pub weighted_io_ms: u64,
    /// 16: flush requests completed (kernel 5.5+; 0 if absent): one per fdatasync/FUA flush.
    pub flushes: u64,
}

/// Parses /proc/diskstats into name → counters.
#[must_use]
pub fn parse_diskstats(text: &str) -> BTreeMap<String, DiskCounters> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let name = (*words.get(2)?).to_owned();
            let field = |number: usize| -> u64 {
                words
                    .get(2 + number)
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0)
            };
            if words.len() < 14 {
                return None;
            }
            Some((
                name,
                DiskCounters {
                    reads: field(1),
                    sectors_read: field(3),
                    read_ms: field(4),
                    writes: field(5),
                    sectors_written: field(7),
                    write_ms: field(8),
                    in_progress: field(9),
                    io_ms: field(10),
                    weighted_io_ms: field(11),
                    flushes: field(16),
                },
            ))
        })
        .collect()
}

/// Counters of one /proc/net/dev interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetCounters {
    pub receive_bytes: u64,
    pub receive_packets: u64,
    pub transmit_bytes: u64,
    pub transmit_packets: u64,
    pub receive_drops: u64,
    pub transmit_drops: u64,
}

/// Parses /proc/net/dev into interface → counters.
#[must_use]
pub fn parse_net_dev(text: &str) -> BTreeMap<String, NetCounters> {
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let numbers: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if numbers.len() < 16 {
                return None;
            }
            Some((
                name.trim().to_owned(),
                NetCounters {
                    receive_bytes: numbers[0],
                    receive_packets: numbers[1],
                    receive_drops: numbers[3],
                    transmit_bytes: numbers[8],
                    transmit_packets: numbers[9],
                    transmit_drops: numbers[11],
                },
            ))
        })
        .collect()
}

/// TCP counters from /proc/net/snmp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpCounters {
    pub out_segments: u64,
    pub retransmitted_segments: u64,
    pub current_established: u64,
}

/// Parses the `Tcp:` header/value line pair of /proc/net/snmp.
#[must_use]
pub fn parse_snmp_tcp(text: &str) -> TcpCounters {
    let mut tcp_lines = text.lines().filter(|line| line.starts_with("Tcp:"));
    let (Some(header), Some(values)) = (tcp_lines.next(), tcp_lines.next()) else {
        return TcpCounters::default();
    };
    let table: BTreeMap<&str, u64> = header
        .split_whitespace()
        .zip(values.split_whitespace())
        .skip(1)
        .filter_map(|(key, value)| Some((key, value.parse().ok()?)))
        .collect();
    let get = |key: &str| table.get(key).copied().unwrap_or(0);
    TcpCounters {
        out_segments: get("OutSegs"),
        retransmitted_segments: get("RetransSegs"),
        current_established: get("CurrEstab"),
    }
}

/// The /proc/meminfo values the report carries, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    pub total_kib: u64,
    pub available_kib: u64,
    pub cached_kib: u64,
    pub dirty_kib: u64,
    pub writeback_kib: u64,
}

#[must_use]
pub fn parse_meminfo(text: &str) -> Memory {
    let get = |key: &str| tuning::parse::meminfo_kib(text, key).unwrap_or(0);
    Memory {
        total_kib: get("MemTotal"),
        available_kib: get("MemAvailable"),
        cached_kib: get("Cached"),
        dirty_kib: get("Dirty"),
        writeback_kib: get("Writeback"),
    }
}

/// utime + stime of /proc/<pid>/stat, in clock ticks. The command name (field 2) is in
/// parentheses and may contain spaces, so fields are counted after the last `)`.
#[must_use]
pub fn parse_pid_cpu_ticks(text: &str) -> Option<u64> {
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Inodes of listening TCP sockets on `port` in /proc/net/tcp or /proc/net/tcp6.
#[must_use]
pub fn listening_socket_inodes(text: &str, port: u16) -> Vec<u64> {
    const TCP_LISTEN: &str = "0A";
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let local_port = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            let listening = *fields.get(3)? == TCP_LISTEN;
            (listening && local_port == port).then(|| fields.get(9)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn proc_stat_captured() {
        let stat = parse_proc_stat(&fixture("proc_stat.0"));
        assert_eq!(stat.per_cpu.len(), 2);
        assert_eq!(stat.all.user, 145_784);
        assert_eq!(stat.per_cpu[0].system, 16_805);
        assert!(stat.context_switches > 0);
        assert!(stat.procs_running >= 1);
        let later = parse_proc_stat(&fixture("proc_stat.1"));
        let delta = later.all.since(&stat.all);
        assert!(
            delta.total() > 0 && delta.total() < 1000,
            "about 1 s of 2 CPUs at 250 Hz"
        );
    }

    #[test]
    fn diskstats_captured() {
        let before = parse_diskstats(&fixture("proc_diskstats.0"));
        let after = parse_diskstats(&fixture("proc_diskstats.1"));
        let vda = before["vda"];
        assert_eq!(vda.reads, 103_660);
        assert_eq!(vda.sectors_written, 11_363_928);
        assert_eq!(vda.io_ms, 42_064);
        assert_eq!(vda.flushes, 7144);
        assert_eq!(after["vda"].io_ms - vda.io_ms, 728);
        assert_eq!(after["vda"].in_progress, 5);
    }

    #[test]
    fn diskstats_old_kernel_without_flush_fields() {
        let line = "   8       0 sda 100 0 800 50 200 0 1600 70 0 90 120\n";
        let disks = parse_diskstats(line);
        assert_eq!(disks["sda"].writes, 200);
        assert_eq!(disks["sda"].flushes, 0);
        assert!(parse_diskstats("   8 0 sda 1 2\n").is_empty());
    }

    #[test]
    fn net_dev_and_snmp_captured() {
        let interfaces = parse_net_dev(&fixture("proc_net_dev.0"));
        assert!(interfaces.contains_key("lo"));
        assert!(interfaces["lo"].receive_bytes > 0);
        assert_eq!(
            interfaces["lo"].receive_bytes,
            interfaces["lo"].transmit_bytes
        );
        let tcp = parse_snmp_tcp(&fixture("proc_net_snmp.0"));
        assert!(tcp.out_segments > 0);
        assert_eq!(parse_snmp_tcp("Ip: 1\nIp: 2\n"), TcpCounters::default());
        let synthetic = "Tcp: RtoAlgorithm OutSegs RetransSegs CurrEstab\nTcp: 1 500 7 3\n";
        let tcp = parse_snmp_tcp(synthetic);
        assert_eq!(
            (
                tcp.out_segments,
                tcp.retransmitted_segments,
                tcp.current_established
            ),
            (500, 7, 3)
        );
    }

    #[test]
    fn meminfo_and_pid_stat_captured() {
        let memory = parse_meminfo(&fixture("proc_meminfo.0"));
        assert_eq!(memory.total_kib, 24_684_096);
        assert!(memory.available_kib > 0 && memory.available_kib <= memory.total_kib);
        assert!(parse_pid_cpu_ticks(&fixture("proc_pid_stat")).is_some());
        let odd_name =
            "42 (my (odd) broker) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_pid_cpu_ticks(odd_name), Some(300));
        assert_eq!(parse_pid_cpu_ticks("garbage"), None);
    }

    #[test]
    fn listening_inodes() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:2694 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0 100 0 0 10 0\n\
           1: 0100007F:2A9F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23456 1 0 100 0 0 10 0\n\
           2: 0100007F:2694 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 34567 1 0 100 0 0 10 0\n";
        assert_eq!(listening_socket_inodes(text, 9876), [12_345]);
        assert_eq!(listening_socket_inodes(text, 10911), [23_456]);
        assert!(listening_socket_inodes(text, 1).is_empty());
    }
}
