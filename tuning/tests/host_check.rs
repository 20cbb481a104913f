//! `tuning check` on captured and hand-written host trees (tests/fixtures/).

use std::path::PathBuf;

use tuning::check::Status;
use tuning::{check_host, BrokerKind, CheckOptions, Finding, HostRoot, HostSnapshot, Report};

fn fixture(name: &str) -> HostRoot {
    HostRoot::at(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
}

fn find<'a>(report: &'a Report, item: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|finding| finding.item == item)
        .unwrap_or_else(|| panic!("no finding {item}"))
}

fn options(broker: BrokerKind, store_path: &str) -> CheckOptions {
    CheckOptions {
        broker,
        store_path: store_path.to_owned(),
    }
}

#[test]
fn kvm_virtio_snapshot_reads_every_source() {
    let snapshot = HostSnapshot::collect(&fixture("kvm-virtio"));
    assert_eq!(snapshot.kernel_release.as_deref(), Some("6.18.44-fc-v595"));
    assert_eq!(snapshot.cpus_online, [0, 1]);
    assert_eq!(snapshot.swap_total_kib, Some(0));
    let vda = snapshot.block_device_for("/dev/vda").expect("vda");
    assert_eq!(
        vda.scheduler.as_ref().and_then(|s| s.active.as_deref()),
        Some("mq-deadline")
    );
    assert_eq!(vda.write_cache.as_deref(), Some("write back"));
    assert_eq!(snapshot.ext4_volumes.len(), 1);
    assert!(!snapshot.ext4_volumes[0].has_journal);
    assert_eq!(snapshot.sysctl_u64("vm.swappiness"), Some(60));
    assert_eq!(snapshot.capability_ipc_lock, Some(true));
    assert!(snapshot.cpu_governors.is_empty());
    assert_eq!(snapshot.numa_nodes, [0]);
    assert!(snapshot.interrupts.len() > 10);
}

#[test]
fn kvm_virtio_audit_matches_the_known_host() {
    let report = check_host(
        &fixture("kvm-virtio"),
        &options(BrokerKind::Ours, "/work/main"),
    );
    let scheduler = find(&report, "block.scheduler");
    assert_eq!(scheduler.status, Status::Ok);
    assert_eq!(scheduler.scope.as_deref(), Some("vda (commit-log disk)"));
    assert_eq!(find(&report, "ext4.journal").status, Status::Differs);
    assert_eq!(find(&report, "ext4.atime").current, "relatime");
    assert_eq!(find(&report, "ext4.data_mode").current, "n/a (no journal)");
    // No swap: swappiness 60 is harmless and not applied.
    let swappiness = find(&report, "vm.swappiness");
    assert_eq!(swappiness.status, Status::Ok);
    assert!(swappiness.apply.is_empty());
    // Root with CAP_IPC_LOCK: the 8 MiB memlock limit does not bind io_uring buffers.
    assert_eq!(find(&report, "limit.memlock").status, Status::Ok);
    assert_eq!(find(&report, "limit.nofile").status, Status::Differs);
    assert_eq!(find(&report, "cpu.governor").status, Status::Info);
    assert!(find(&report, "irq.affinity")
        .current
        .contains("disk: 1 irqs, cpu1 100%"));
    // Every finding names its playbook section and has a recommendation.
    for finding in &report.findings {
        assert!(
            !finding.source.is_empty() && !finding.recommended.is_empty(),
            "{finding:?}"
        );
    }
}

#[test]
fn apache_profile_wants_the_os_sh_values() {
    let report = check_host(&fixture("kvm-virtio"), &options(BrokerKind::Apache, "/"));
    let dirty = find(&report, "vm.dirty_background_ratio");
    assert_eq!(dirty.status, Status::Differs);
    assert_eq!(dirty.recommended, "50");
    assert_eq!(dirty.apply[0].path, "/proc/sys/vm/dirty_background_ratio");
    assert_eq!(find(&report, "vm.max_map_count").status, Status::Differs);
    assert_eq!(
        find(&report, "vm.overcommit_memory").status,
        Status::Differs
    );
    assert_eq!(find(&report, "kernel.io_uring_disabled").status, Status::Ok);
}

#[test]
fn bare_metal_fixture_covers_the_other_branches() {
    let report = check_host(
        &fixture("nvme-numa-baremetal"),
        &options(BrokerKind::Ours, "/data/store"),
    );
    let schedulers: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.item == "block.scheduler")
        .collect();
    assert_eq!(schedulers.len(), 2);
    let nvme = schedulers
        .iter()
        .find(|f| f.scope.as_deref() == Some("nvme0n1 (commit-log disk)"));
    assert_eq!(
        nvme.map(|f| f.status),
        Some(Status::Ok),
        "none is fine on NVMe"
    );
    let sda = schedulers
        .iter()
        .find(|f| f.scope.as_deref() == Some("sda"))
        .expect("sda");
    assert_eq!(sda.status, Status::Differs);
    assert_eq!(sda.apply[0].value, "mq-deadline");
    assert_eq!(find(&report, "ext4.atime").status, Status::Ok);
    assert_eq!(find(&report, "ext4.journal").status, Status::Ok);
    assert_eq!(find(&report, "ext4.data_mode").current, "data=writeback");
    assert_eq!(find(&report, "ext4.data_mode").status, Status::Differs);
    assert_eq!(find(&report, "ext4.barrier").status, Status::Differs);
    assert_eq!(find(&report, "vm.swappiness").status, Status::Differs);
    assert_eq!(
        find(&report, "vm.overcommit_memory").status,
        Status::Differs
    );
    assert_eq!(find(&report, "net.core.somaxconn").status, Status::Differs);
    assert_eq!(
        find(&report, "kernel.io_uring_disabled").status,
        Status::Differs
    );
    assert!(find(&report, "kernel.io_uring_disabled").apply.is_empty());
    assert_eq!(find(&report, "thp.enabled").status, Status::Differs);
    assert_eq!(find(&report, "limit.memlock").status, Status::Differs);
    let governor = find(&report, "cpu.governor");
    assert_eq!(governor.status, Status::Differs);
    assert_eq!(governor.apply.len(), 3, "cpu0 is already on performance");
    assert_eq!(find(&report, "numa.nodes").current, "2 nodes");
    assert!(find(&report, "irq.affinity")
        .current
        .contains("network: 2 irqs, cpu0 100%"));
}

#[test]
fn apply_writes_only_marked_runtime_knobs() {
    let directory = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture("nvme-numa-baremetal").path("/"), directory.path());
    let root = HostRoot::at(directory.path());
    let report = check_host(&root, &options(BrokerKind::Ours, "/data"));
    let applied = tuning::apply::apply(&root, &report.findings);
    assert!(applied.iter().all(|a| a.error.is_none()), "{applied:?}");
    assert!(applied
        .iter()
        .any(|a| a.command == "echo 1 > /proc/sys/vm/swappiness"));
    let after = check_host(&root, &options(BrokerKind::Ours, "/data"));
    assert!(
        after.findings.iter().all(|f| f.apply.is_empty()),
        "all applied"
    );
    assert_eq!(find(&after, "vm.swappiness").status, Status::Ok);
    assert_eq!(find(&after, "thp.enabled").current, "madvise");
    // Never touched: limits, mounts, io_uring, the write cache.
    assert_eq!(find(&after, "limit.nofile").status, Status::Differs);
    assert_eq!(find(&after, "ext4.barrier").status, Status::Differs);
    assert_eq!(
        find(&after, "kernel.io_uring_disabled").status,
        Status::Differs
    );
}

#[test]
fn report_json_round_trips() {
    let report = check_host(&fixture("kvm-virtio"), &CheckOptions::default());
    let json = serde_json::to_string(&report).expect("serialize");
    let back: Report = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, report);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
