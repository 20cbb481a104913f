//! Block-device queue settings and the commit-log filesystem (playbooks `io-scheduler.md`,
//! `ext4.md`).

use super::{BrokerKind, CheckOptions, Finding, Status};
use crate::host::{BlockDevice, DeviceKind, HostSnapshot};
use crate::parse::{self, Mount};

const SCHEDULER_SOURCE: &str = "io-scheduler.md#which-scheduler";

pub(super) fn audit_block_devices(
    snapshot: &HostSnapshot,
    options: &CheckOptions,
    findings: &mut Vec<Finding>,
) {
    let store_device = parse::mount_for_path(&snapshot.mounts, &options.store_path)
        .and_then(|mount| snapshot.block_device_for(&mount.device))
        .map(|device| device.name.clone());
    let mut skipped = Vec::new();
    for device in &snapshot.block_devices {
        if device.kind == DeviceKind::Virtual || device.scheduler.is_none() {
            skipped.push(device.name.clone());
            continue;
        }
        let is_store = store_device.as_deref() == Some(device.name.as_str());
        let scope = if is_store {
            format!("{} (commit-log disk)", device.name)
        } else {
            device.name.clone()
        };
        findings.push(scheduler_finding(device, &scope));
        findings.push(nr_requests_finding(device, &scope));
        findings.push(read_ahead_finding(device, &scope, options.broker));
        findings.push(write_cache_finding(device, &scope));
    }
    if !skipped.is_empty() {
        findings.push(
            Finding::new("block.virtual_devices", None, SCHEDULER_SOURCE)
                .current(skipped.join(" "))
                .recommended("not audited")
                .status(Status::Info)
                .why("loop/ram/zram/dm devices pass I/O to another device; tune that one"),
        );
    }
}

fn scheduler_finding(device: &BlockDevice, scope: &str) -> Finding {
    let path = format!("/sys/block/{}/queue/scheduler", device.name);
    let choice = device.scheduler.as_ref();
    let active = choice.and_then(|c| c.active.clone());
    let deadline_available = choice.is_some_and(|c| c.available.iter().any(|s| s == "mq-deadline"));
    let is_nvme = device.kind == DeviceKind::Nvme;
    let status = match active.as_deref() {
        None => Status::Unknown,
        Some("mq-deadline" | "deadline") => Status::Ok,
        Some("none") if is_nvme => Status::Ok,
        Some(_) => Status::Differs,
    };
    let (recommended, why) = if is_nvme {
        (
            "none or mq-deadline",
            "NVMe: `none` is the kernel/RHEL default; the device reorders in its own deep \
             queues and has no seek cost, so deadline's sorting buys little and costs a lock \
             per request. Use mq-deadline if reads starve behind commit-log writes (measure).",
        )
    } else {
        (
            "mq-deadline",
            "seed ch.7 and RocketMQ docs: deadline bounds the wait of every request \
             (reads 500 ms, writes 5 s) while still merging sequential commit-log writes",
        )
    };
    let command = if deadline_available {
        format!("echo mq-deadline > {path}")
    } else {
        format!("modprobe mq-deadline && echo mq-deadline > {path}")
    };
    let finding = Finding::new("block.scheduler", Some(scope), SCHEDULER_SOURCE)
        .current(active.unwrap_or_else(|| "unknown".to_owned()))
        .recommended(recommended)
        .status(status)
        .command(command)
        .persist(format!(
            "udev rule: ACTION==\"add|change\", KERNEL==\"{}\", ATTR{{queue/scheduler}}=\"mq-deadline\"",
            device.name
        ))
        .why(why);
    if deadline_available {
        finding.apply_when_differs(&path, "mq-deadline")
    } else {
        finding
    }
}

fn nr_requests_finding(device: &BlockDevice, scope: &str) -> Finding {
    let path = format!("/sys/block/{}/queue/nr_requests", device.name);
    let current = device
        .nr_requests
        .map_or("unknown".to_owned(), |v| v.to_string());
    Finding::new(
        "block.nr_requests",
        Some(scope),
        "io-scheduler.md#nr_requests",
    )
    .current(current)
    .recommended("driver default; raise only if loadgen shows the queue full")
    .status(if device.nr_requests.is_some() {
        Status::Info
    } else {
        Status::Unknown
    })
    .command(format!("echo <requests> > {path}"))
    .why(
        "requests the block layer may queue per hardware queue (kernel queue-sysfs.rst); \
             the scheduler can only sort/merge what is queued. To be measured with loadgen: \
             raise if iostat aqu-sz sits at nr_requests during the hold.",
    )
}

fn read_ahead_finding(device: &BlockDevice, scope: &str, broker: BrokerKind) -> Finding {
    let path = format!("/sys/block/{}/queue/read_ahead_kb", device.name);
    let current = device
        .read_ahead_kb
        .map_or("unknown".to_owned(), |v| format!("{v} KiB"));
    let why = match broker {
        BrokerKind::Ours => {
            "our commit log and reads use O_DIRECT, which bypasses readahead; it only affects \
             buffered files (consume queues, index) and other tenants"
        }
        BrokerKind::Apache => {
            "the Apache broker reads cold commit-log data through mmap/page cache, where \
             readahead decides the read size; to be measured with loadgen (catch-up consumer)"
        }
    };
    Finding::new(
        "block.read_ahead_kb",
        Some(scope),
        "io-scheduler.md#read_ahead_kb",
    )
    .current(current)
    .recommended("128 KiB (kernel default) unless measured otherwise")
    .status(if device.read_ahead_kb.is_some() {
        Status::Info
    } else {
        Status::Unknown
    })
    .command(format!("echo <kib> > {path}"))
    .why(why)
}

fn write_cache_finding(device: &BlockDevice, scope: &str) -> Finding {
    let current = device
        .write_cache
        .clone()
        .unwrap_or_else(|| "unknown".to_owned());
    let status = if device.write_cache.is_some() {
        Status::Info
    } else {
        Status::Unknown
    };
    Finding::new(
        "block.write_cache",
        Some(scope),
        "io-scheduler.md#write-cache",
    )
    .current(current)
    .recommended("report only: leave as the device reports it")
    .status(status)
    .command("none (never flip this in sysfs)")
    .why(
        "\"write back\" means the device has a volatile cache and the kernel sends cache \
             flushes on fdatasync; writing \"write through\" here only changes the kernel's \
             view and drops those flushes (queue-sysfs.rst) - acked data could be lost on \
             power failure unless the device has power-loss protection",
    )
}

pub(super) fn audit_filesystem(
    snapshot: &HostSnapshot,
    options: &CheckOptions,
    findings: &mut Vec<Finding>,
) {
    let Some(mount) = parse::mount_for_path(&snapshot.mounts, &options.store_path) else {
        findings.push(
            Finding::new("fs.store_mount", Some(&options.store_path), "ext4.md")
                .recommended("an ext4 filesystem")
                .why("no mount found for the store path in /proc/mounts"),
        );
        return;
    };
    let scope = format!("{} on {}", mount.device, mount.mount_point);
    if mount.filesystem != "ext4" {
        findings.push(
            Finding::new("fs.type", Some(&scope), "ext4.md#scope")
                .current(mount.filesystem.clone())
                .recommended("ext4")
                .status(Status::Info)
                .why("the playbook covers ext4 (seed ch.7); other filesystems are not audited"),
        );
        return;
    }
    let device_name = mount.device.rsplit('/').next().unwrap_or("");
    let volume = snapshot
        .ext4_volumes
        .iter()
        .find(|volume| volume.device_name == device_name);
    let kernel_options: Vec<String> = volume.map(|v| v.options.clone()).unwrap_or_default();
    let option = |name: &str| {
        kernel_options
            .iter()
            .chain(mount.options.iter())
            .find_map(|o| match o.split_once('=') {
                Some((key, value)) if key == name => Some(value.to_owned()),
                None if o == name => Some(String::new()),
                _ => None,
            })
    };
    findings.push(atime_finding(mount, &scope));
    let has_journal = volume.map(|v| v.has_journal);
    findings.push(journal_finding(has_journal, &mount.device, &scope));
    findings.push(data_mode_finding(has_journal, option("data"), &scope));
    findings.push(barrier_finding(option("nobarrier").is_some(), &scope));
    findings.push(discard_finding(option("discard").is_some(), &scope));
}

fn atime_finding(mount: &Mount, scope: &str) -> Finding {
    let current = ["noatime", "relatime", "strictatime"]
        .into_iter()
        .find(|name| mount.option(name).is_some())
        .unwrap_or("atime (default)");
    Finding::new("ext4.atime", Some(scope), "ext4.md#noatime")
        .current(current)
        .recommended("noatime")
        .status(if current == "noatime" {
            Status::Ok
        } else {
            Status::Differs
        })
        .command(format!("mount -o remount,noatime {}", mount.mount_point))
        .persist(format!(
            "add noatime to the options of {} in /etc/fstab",
            mount.mount_point
        ))
        .why(
            "reads then never dirty inodes; relatime still writes an atime update once a \
             day per file and whenever atime < mtime (mount(8)), i.e. on every read of a \
             segment written since its last read",
        )
}

fn journal_finding(has_journal: Option<bool>, device: &str, scope: &str) -> Finding {
    let (current, status) = match has_journal {
        Some(true) => ("has_journal", Status::Ok),
        Some(false) => ("no journal", Status::Differs),
        None => ("unknown", Status::Unknown),
    };
    Finding::new("ext4.journal", Some(scope), "ext4.md#journal")
        .current(current)
        .recommended("has_journal (mkfs.ext4 default) for production stores")
        .status(status)
        .command(format!(
            "umount first, then: tune2fs -O has_journal {device}"
        ))
        .why(
            "without a journal, metadata (sizes, allocation) after a power loss is repaired \
             only by a full e2fsck; the broker preallocates segments so few appends change \
             metadata. Acceptable on a scratch benchmark host (as this project's VM is).",
        )
}

fn data_mode_finding(has_journal: Option<bool>, data: Option<String>, scope: &str) -> Finding {
    let current = match (has_journal, data) {
        (Some(false), _) => "n/a (no journal)".to_owned(),
        (_, Some(mode)) => format!("data={mode}"),
        (_, None) => "data=ordered (default)".to_owned(),
    };
    let status = if current.contains("ordered") || current.starts_with("n/a") {
        Status::Ok
    } else {
        Status::Differs
    };
    Finding::new("ext4.data_mode", Some(scope), "ext4.md#data-mode")
        .current(current)
        .recommended("data=ordered")
        .status(status)
        .command("set data=ordered in /etc/fstab, then remount (cannot change on a live remount)")
        .why(
            "ordered: file data reaches disk before the metadata that exposes it (ext4 docs); \
             journal writes every data block twice; writeback may expose stale blocks in \
             recovered files after a crash",
        )
}

fn barrier_finding(nobarrier: bool, scope: &str) -> Finding {
    Finding::new("ext4.barrier", Some(scope), "ext4.md#barrier")
        .current(if nobarrier {
            "nobarrier"
        } else {
            "barrier (default)"
        })
        .recommended("barrier")
        .status(if nobarrier {
            Status::Differs
        } else {
            Status::Ok
        })
        .command("remove nobarrier from /etc/fstab and remount")
        .why(
            "nobarrier stops ext4 from sending cache flushes; with a volatile write cache an \
             fdatasync-acknowledged message can be lost on power failure (ext4 docs)",
        )
}

fn discard_finding(discard: bool, scope: &str) -> Finding {
    Finding::new("ext4.discard", Some(scope), "ext4.md#discard")
        .current(if discard { "discard" } else { "nodiscard" })
        .recommended("nodiscard + periodic fstrim, unless measured otherwise")
        .status(Status::Info)
        .command("fstrim -v <mount point> (or systemctl enable --now fstrim.timer)")
        .why(
            "online discard issues TRIM as retention deletes segments; on some devices this \
             stalls writes. To be measured with loadgen during retention deletion.",
        )
}
