//! Reading the host: a [`HostRoot`] (the real `/` or a fixture tree) and the
//! [`HostSnapshot`] the audit works on.
//!
//! Everything is read once into a plain, serializable snapshot; the audit in
//! [`crate::check`] is then a pure function of it. A missing or unreadable file becomes
//! `None` (reported "unknown"), never an error: containers and VMs hide parts of /sys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::parse::{self, Choice, InterruptLine, Limit, Mount};

/// The sysctls the playbook has an opinion on, as `(dotted name, /proc/sys path)`.
pub const SYSCTLS: &[&str] = &[
    "vm.dirty_background_ratio",
    "vm.dirty_background_bytes",
    "vm.dirty_ratio",
    "vm.dirty_bytes",
    "vm.dirty_writeback_centisecs",
    "vm.dirty_expire_centisecs",
    "vm.swappiness",
    "vm.max_map_count",
    "vm.overcommit_memory",
    "vm.zone_reclaim_mode",
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "kernel.io_uring_disabled",
];

/// `CAP_IPC_LOCK` (linux/capability.h): lets a process lock memory past RLIMIT_MEMLOCK.
pub const CAPABILITY_IPC_LOCK_BIT: u32 = 14;

/// Where /proc and /sys are read from. `HostRoot::system()` is the running host; tests
/// point it at `tests/fixtures/<host>/`, and `--apply` writes under the same root.
#[derive(Debug, Clone)]
pub struct HostRoot {
    root: PathBuf,
}

impl HostRoot {
    #[must_use]
    pub fn system() -> HostRoot {
        HostRoot {
            root: PathBuf::from("/"),
        }
    }

    #[must_use]
    pub fn at(root: impl Into<PathBuf>) -> HostRoot {
        HostRoot { root: root.into() }
    }

    /// The real path of an absolute host path such as `/proc/mounts`.
    #[must_use]
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    #[must_use]
    pub fn is_system(&self) -> bool {
        self.root == Path::new("/")
    }

    /// The file's text, or `None` if it is absent or unreadable.
    #[must_use]
    pub fn read(&self, host_path: &str) -> Option<String> {
        std::fs::read_to_string(self.path(host_path)).ok()
    }

    /// The names in a directory, sorted; empty if absent.
    #[must_use]
    pub fn list(&self, host_path: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(host_path))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Writes `value` to a host path (used only by `--apply`).
    ///
    /// # Errors
    /// The I/O error of the write.
    pub fn write(&self, host_path: &str, value: &str) -> std::io::Result<()> {
        std::fs::write(self.path(host_path), value)
    }
}

/// What kind of block device a /sys/block entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// NVMe namespace (`nvme*`): deep hardware queues, no seek cost.
    Nvme,
    /// Any other real disk (virtio, SCSI/SATA, ...).
    Disk,
    /// loop, ram, zram, dm-, md devices: no scheduler decisions of their own.
    Virtual,
}

/// Classifies a /sys/block name.
#[must_use]
pub fn device_kind(name: &str) -> DeviceKind {
    const VIRTUAL_PREFIXES: &[&str] = &["loop", "ram", "zram", "dm-", "md", "nbd", "sr"];
    if name.starts_with("nvme") {
        DeviceKind::Nvme
    } else if VIRTUAL_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
    {
        DeviceKind::Virtual
    } else {
        DeviceKind::Disk
    }
}

/// The queue settings of one /sys/block device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDevice {
    pub name: String,
    pub kind: DeviceKind,
    pub scheduler: Option<Choice>,
    pub nr_requests: Option<u64>,
    pub read_ahead_kb: Option<u64>,
    /// "write back" or "write through".
    pub write_cache: Option<String>,
    pub rotational: Option<bool>,
    /// Partition names found as sub-directories (`vda1`, `nvme0n1p1`).
    pub partitions: Vec<String>,
}

/// An ext4 volume as the kernel sees it (/proc/fs/ext4/<dev>/options, /proc/fs/jbd2/).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ext4Volume {
    /// The name under /proc/fs/ext4 (`vda`, `nvme0n1p1`).
    pub device_name: String,
    /// Every effective option, defaults included, one per line in the kernel's file.
    pub options: Vec<String>,
    /// A jbd2 journal is attached (a `/proc/fs/jbd2/<dev>-8` directory exists).
    pub has_journal: bool,
}

/// Everything the audit needs, read once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostSnapshot {
    pub kernel_release: Option<String>,
    pub cpu_model: Option<String>,
    pub cpus_online: Vec<u32>,
    pub memory_total_kib: Option<u64>,
    pub swap_total_kib: Option<u64>,
    pub block_devices: Vec<BlockDevice>,
    pub mounts: Vec<Mount>,
    pub ext4_volumes: Vec<Ext4Volume>,
    /// Dotted sysctl name → value as read (trimmed).
    pub sysctls: BTreeMap<String, String>,
    pub transparent_hugepage_enabled: Option<Choice>,
    pub transparent_hugepage_defrag: Option<Choice>,
    /// This process's limits (the broker inherits the shell's limits when launched from it).
    pub limits: Vec<Limit>,
    /// This process holds CAP_IPC_LOCK (root usually does).
    pub capability_ipc_lock: Option<bool>,
    /// CPU number → scaling governor; empty when cpufreq is not exposed (most VMs).
    pub cpu_governors: BTreeMap<u32, String>,
    pub interrupts: Vec<InterruptLine>,
    /// IRQ number → its `smp_affinity_list`.
    pub irq_affinity: BTreeMap<u32, String>,
    pub numa_nodes: Vec<u32>,
}

impl HostSnapshot {
    /// Reads the snapshot from `root`.
    #[must_use]
    pub fn collect(root: &HostRoot) -> HostSnapshot {
        let meminfo = root.read("/proc/meminfo").unwrap_or_default();
        let interrupts = root
            .read("/proc/interrupts")
            .map(|text| parse::parse_interrupts(&text))
            .unwrap_or_default();
        let irq_affinity = interrupts
            .iter()
            .filter_map(|line| {
                let path = format!("/proc/irq/{}/smp_affinity_list", line.irq);
                Some((line.irq, root.read(&path)?.trim().to_owned()))
            })
            .collect();
        HostSnapshot {
            kernel_release: root
                .read("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_owned()),
            cpu_model: root.read("/proc/cpuinfo").and_then(|text| cpu_model(&text)),
            cpus_online: root
                .read("/sys/devices/system/cpu/online")
                .map(|text| parse::parse_cpu_list(&text))
                .unwrap_or_default(),
            memory_total_kib: parse::meminfo_kib(&meminfo, "MemTotal"),
            swap_total_kib: parse::meminfo_kib(&meminfo, "SwapTotal"),
            block_devices: collect_block_devices(root),
            mounts: root
                .read("/proc/mounts")
                .map(|text| parse::parse_mounts(&text))
                .unwrap_or_default(),
            ext4_volumes: collect_ext4_volumes(root),
            sysctls: collect_sysctls(root),
            transparent_hugepage_enabled: root
                .read("/sys/kernel/mm/transparent_hugepage/enabled")
                .map(|text| parse::parse_choice(&text)),
            transparent_hugepage_defrag: root
                .read("/sys/kernel/mm/transparent_hugepage/defrag")
                .map(|text| parse::parse_choice(&text)),
            limits: root
                .read("/proc/self/limits")
                .map(|text| parse::parse_limits(&text))
                .unwrap_or_default(),
            capability_ipc_lock: root.read("/proc/self/status").and_then(|text| {
                parse::status_capability(&text, "CapEff", CAPABILITY_IPC_LOCK_BIT)
            }),
            cpu_governors: collect_governors(root),
            interrupts,
            irq_affinity,
            numa_nodes: root
                .read("/sys/devices/system/node/online")
                .map(|text| parse::parse_cpu_list(&text))
                .unwrap_or_default(),
        }
    }

    /// The value of a sysctl this snapshot read, parsed as a number.
    #[must_use]
    pub fn sysctl_u64(&self, name: &str) -> Option<u64> {
        self.sysctls
            .get(name)
            .and_then(|value| parse::parse_u64(value))
    }

    /// The limit row with this name ("Max open files").
    #[must_use]
    pub fn limit(&self, name: &str) -> Option<&Limit> {
        self.limits.iter().find(|limit| limit.name == name)
    }

    /// The block device that holds `device_path` (`/dev/vda`, `/dev/nvme0n1p2`): the device
    /// itself or the device one of whose partitions it is.
    #[must_use]
    pub fn block_device_for(&self, device_path: &str) -> Option<&BlockDevice> {
        let name = device_path.rsplit('/').next()?;
        self.block_devices
            .iter()
            .find(|device| device.name == name || device.partitions.iter().any(|part| part == name))
    }
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

fn collect_block_devices(root: &HostRoot) -> Vec<BlockDevice> {
    root.list("/sys/block")
        .into_iter()
        .map(|name| {
            let queue = |file: &str| root.read(&format!("/sys/block/{name}/queue/{file}"));
            let partitions = root
                .list(&format!("/sys/block/{name}"))
                .into_iter()
                .filter(|entry| entry.starts_with(name.as_str()) && entry != &name)
                .collect();
            BlockDevice {
                kind: device_kind(&name),
                scheduler: queue("scheduler").map(|text| parse::parse_choice(&text)),
                nr_requests: queue("nr_requests").and_then(|text| parse::parse_u64(&text)),
                read_ahead_kb: queue("read_ahead_kb").and_then(|text| parse::parse_u64(&text)),
                write_cache: queue("write_cache").map(|text| text.trim().to_owned()),
                rotational: queue("rotational").map(|text| text.trim() == "1"),
                partitions,
                name,
            }
        })
        .collect()
}

fn collect_ext4_volumes(root: &HostRoot) -> Vec<Ext4Volume> {
    let journals = root.list("/proc/fs/jbd2");
    root.list("/proc/fs/ext4")
        .into_iter()
        .map(|device_name| {
            let options = root
                .read(&format!("/proc/fs/ext4/{device_name}/options"))
                .map(|text| text.lines().map(|line| line.trim().to_owned()).collect())
                .unwrap_or_default();
            // jbd2 names its directory "<dev>-<journal inode>", normally "<dev>-8".
            let prefix = format!("{device_name}-");
            let has_journal = journals.iter().any(|entry| entry.starts_with(&prefix));
            Ext4Volume {
                device_name,
                options,
                has_journal,
            }
        })
        .collect()
}

fn collect_sysctls(root: &HostRoot) -> BTreeMap<String, String> {
    SYSCTLS
        .iter()
        .filter_map(|name| {
            let value = root.read(&sysctl_path(name))?;
            Some(((*name).to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// `/proc/sys/...` path of a dotted sysctl name.
#[must_use]
pub fn sysctl_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

fn collect_governors(root: &HostRoot) -> BTreeMap<u32, String> {
    root.list("/sys/devices/system/cpu")
        .into_iter()
        .filter_map(|entry| {
            let cpu: u32 = entry.strip_prefix("cpu")?.parse().ok()?;
            let path = format!("/sys/devices/system/cpu/{entry}/cpufreq/scaling_governor");
            Some((cpu, root.read(&path)?.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_kinds() {
        assert_eq!(device_kind("nvme0n1"), DeviceKind::Nvme);
        assert_eq!(device_kind("vda"), DeviceKind::Disk);
        assert_eq!(device_kind("sdb"), DeviceKind::Disk);
        assert_eq!(device_kind("loop3"), DeviceKind::Virtual);
        assert_eq!(device_kind("zram0"), DeviceKind::Virtual);
        assert_eq!(device_kind("dm-0"), DeviceKind::Virtual);
    }

    #[test]
    fn sysctl_paths() {
        assert_eq!(sysctl_path("vm.swappiness"), "/proc/sys/vm/swappiness");
        assert_eq!(
            sysctl_path("net.ipv4.tcp_max_syn_backlog"),
            "/proc/sys/net/ipv4/tcp_max_syn_backlog"
        );
    }
}
