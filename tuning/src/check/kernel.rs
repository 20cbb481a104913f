//! Kernel settings: vm.*, net.*, io_uring, transparent hugepages (playbook `kernel.md`).

use super::{BrokerKind, CheckOptions, Finding, Status};
use crate::host::{sysctl_path, HostSnapshot};

/// How one sysctl is judged.
struct SysctlRule {
    name: &'static str,
    recommended: String,
    /// Does the current value satisfy the playbook?
    satisfied: fn(u64, BrokerKind) -> bool,
    /// Value `--apply` writes when unsatisfied; `None` = never applied automatically.
    apply_value: Option<String>,
    /// Unsatisfied is only `Info` (the setting does not touch our write path).
    advisory: bool,
    why: String,
    source: &'static str,
}

pub(super) fn audit_sysctls(
    snapshot: &HostSnapshot,
    options: &CheckOptions,
    findings: &mut Vec<Finding>,
) {
    let broker = options.broker;
    for rule in dirty_rules(broker) {
        findings.push(sysctl_finding(snapshot, &rule, broker));
    }
    let swap_total_kib = snapshot.swap_total_kib;
    let mut swappiness = sysctl_finding(snapshot, &swappiness_rule(), broker);
    if swap_total_kib == Some(0) && swappiness.status == Status::Differs {
        swappiness.status = Status::Ok;
        swappiness.apply.clear();
        swappiness.current = format!("{} (no swap configured)", swappiness.current);
        swappiness.why = format!(
            "no swap is configured, so the value has no effect; {}",
            swappiness.why
        );
    }
    findings.push(swappiness);
    for rule in memory_and_network_rules(broker) {
        findings.push(sysctl_finding(snapshot, &rule, broker));
    }
}

fn sysctl_finding(snapshot: &HostSnapshot, rule: &SysctlRule, broker: BrokerKind) -> Finding {
    let finding = Finding::new(rule.name, None, rule.source)
        .recommended(rule.recommended.clone())
        .why(rule.why.clone());
    let Some(value) = snapshot.sysctl_u64(rule.name) else {
        return finding.current(
            snapshot
                .sysctls
                .get(rule.name)
                .cloned()
                .unwrap_or_else(|| "unknown".to_owned()),
        );
    };
    let status = match ((rule.satisfied)(value, broker), rule.advisory) {
        (true, _) => Status::Ok,
        (false, true) => Status::Info,
        (false, false) => Status::Differs,
    };
    let apply_value = rule
        .apply_value
        .clone()
        .unwrap_or_else(|| "<value>".to_owned());
    let mut finding = finding
        .current(value.to_string())
        .status(status)
        .command(format!("sysctl -w {}={apply_value}", rule.name))
        .persist(format!(
            "echo '{} = {apply_value}' >> /etc/sysctl.d/60-broker.conf",
            rule.name
        ));
    if let Some(apply_value) = &rule.apply_value {
        finding = finding.apply_when_differs(&sysctl_path(rule.name), apply_value);
    }
    finding
}

fn dirty_rules(broker: BrokerKind) -> Vec<SysctlRule> {
    let ours = broker == BrokerKind::Ours;
    let ours_why = "our commit log is written with O_DIRECT and is not in the page cache; \
                    these only pace buffered files (consume queues, index, logs). Kernel \
                    default kept; effect to be measured with loadgen";
    let apache_why = "apache/rocketmq distribution/bin/os.sh: let the page cache absorb \
                      commit-log writes and flush in the background, not in the send path";
    let pick = |ours_value: u64, apache_value: u64| if ours { ours_value } else { apache_value };
    let rule = |name, value: u64, satisfied: fn(u64, BrokerKind) -> bool| SysctlRule {
        name,
        recommended: value.to_string(),
        satisfied,
        apply_value: Some(value.to_string()),
        advisory: ours,
        why: if ours { ours_why } else { apache_why }.to_owned(),
        source: "kernel.md#page-cache-writeback-vmdirty_",
    };
    vec![
        rule("vm.dirty_background_ratio", pick(10, 50), |v, b| {
            v == pick_static(b, 10, 50)
        }),
        rule("vm.dirty_ratio", pick(20, 50), |v, b| {
            v == pick_static(b, 20, 50)
        }),
        rule(
            "vm.dirty_writeback_centisecs",
            pick(500, 360_000),
            |v, b| v == pick_static(b, 500, 360_000),
        ),
        SysctlRule {
            name: "vm.dirty_expire_centisecs",
            recommended: "3000 (kernel default)".to_owned(),
            satisfied: |v, _| v == 3000,
            apply_value: None,
            advisory: true,
            why: "age at which dirty pages must be written; os.sh leaves it at the default. \
                  To be measured with loadgen"
                .to_owned(),
            source: "kernel.md#page-cache-writeback-vmdirty_",
        },
        SysctlRule {
            name: "vm.dirty_bytes",
            recommended: "0 (use dirty_ratio)".to_owned(),
            satisfied: |v, _| v == 0,
            apply_value: None,
            advisory: true,
            why: "a non-zero dirty_bytes / dirty_background_bytes overrides the ratio \
                  (vm.rst); the playbook reasons in ratios"
                .to_owned(),
            source: "kernel.md#page-cache-writeback-vmdirty_",
        },
    ]
}

fn pick_static(broker: BrokerKind, ours: u64, apache: u64) -> u64 {
    match broker {
        BrokerKind::Ours => ours,
        BrokerKind::Apache => apache,
    }
}

fn swappiness_rule() -> SysctlRule {
    SysctlRule {
        name: "vm.swappiness",
        recommended: "<= 10 (os.sh sets 1)".to_owned(),
        satisfied: |v, _| v <= 10,
        apply_value: Some("1".to_owned()),
        advisory: false,
        why: "swapping a broker's buffers turns a send into a disk read; os.sh sets 1 and the \
              RocketMQ system-config doc recommends 10"
            .to_owned(),
        source: "kernel.md#vmswappiness",
    }
}

fn memory_and_network_rules(broker: BrokerKind) -> Vec<SysctlRule> {
    let (map_count_text, map_count_why) = match broker {
        BrokerKind::Ours => (
            ">= 65530 (kernel default)",
            "our broker does not mmap segments; the default is enough",
        ),
        BrokerKind::Apache => (
            ">= 655360",
            "the Apache broker mmaps every commit-log and consume-queue file (os.sh, \
             RocketMQ system-config doc)",
        ),
    };
    vec![
        SysctlRule {
            name: "vm.max_map_count",
            recommended: map_count_text.to_owned(),
            satisfied: |v, b| v >= pick_static(b, 65_530, 655_360),
            apply_value: Some(pick_static(broker, 65_530, 655_360).to_string()),
            advisory: false,
            why: map_count_why.to_owned(),
            source: "kernel.md#vmmax_map_count",
        },
        SysctlRule {
            name: "vm.overcommit_memory",
            recommended: match broker {
                BrokerKind::Ours => "0 or 1",
                BrokerKind::Apache => "1 (os.sh)",
            }
            .to_owned(),
            satisfied: |v, b| match b {
                BrokerKind::Ours => v <= 1,
                BrokerKind::Apache => v == 1,
            },
            apply_value: Some("1".to_owned()),
            advisory: false,
            why: "2 (strict) can refuse the large up-front buffer and mmap reservations a \
                  broker makes at start; os.sh sets 1"
                .to_owned(),
            source: "kernel.md#vmovercommit_memory",
        },
        SysctlRule {
            name: "vm.zone_reclaim_mode",
            recommended: "0".to_owned(),
            satisfied: |v, _| v == 0,
            apply_value: Some("0".to_owned()),
            advisory: false,
            why: "on NUMA hosts non-zero reclaims local page cache instead of using remote \
                  memory, stalling allocations (vm.rst); os.sh sets 0"
                .to_owned(),
            source: "kernel.md#numa",
        },
        backlog_rule("net.core.somaxconn"),
        backlog_rule("net.ipv4.tcp_max_syn_backlog"),
        SysctlRule {
            name: "kernel.io_uring_disabled",
            recommended: "0 (io_uring enabled)".to_owned(),
            satisfied: |v, b| b == BrokerKind::Apache || v == 0,
            apply_value: None,
            advisory: false,
            why: "our broker's storage runs on glommio, which needs io_uring; 1 or 2 stops it \
                  from starting (not applied automatically: it is a security setting)"
                .to_owned(),
            source: "kernel.md#io_uring-and-memlock",
        },
    ]
}

fn backlog_rule(name: &'static str) -> SysctlRule {
    SysctlRule {
        name,
        recommended: ">= 1024".to_owned(),
        satisfied: |v, _| v >= 1024,
        apply_value: Some("1024".to_owned()),
        advisory: false,
        why: "listen(2) silently caps the accept backlog at somaxconn; RocketMQ's remoting \
              server asks for 1024 (serverSocketBacklog), so a smaller value drops connection \
              bursts when many clients reconnect"
            .to_owned(),
        source: "kernel.md#listen-backlog",
    }
}

pub(super) fn audit_transparent_hugepages(snapshot: &HostSnapshot, findings: &mut Vec<Finding>) {
    const ENABLED: &str = "/sys/kernel/mm/transparent_hugepage/enabled";
    const DEFRAG: &str = "/sys/kernel/mm/transparent_hugepage/defrag";
    let enabled = snapshot
        .transparent_hugepage_enabled
        .as_ref()
        .and_then(|c| c.active.clone());
    let status = match enabled.as_deref() {
        None => Status::Unknown,
        Some("always") => Status::Differs,
        Some(_) => Status::Ok,
    };
    findings.push(
        Finding::new("thp.enabled", None, "kernel.md#transparent-hugepages")
            .current(enabled.unwrap_or_else(|| "unknown".to_owned()))
            .recommended("madvise or never")
            .status(status)
            .command(format!("echo madvise > {ENABLED}"))
            .persist("kernel command line: transparent_hugepage=madvise")
            .why(
                "with `always` every large anonymous mapping may be collapsed by khugepaged \
                 and faults may compact memory (transhuge.rst): latency spikes a broker \
                 does not need; madvise keeps huge pages for code that asks",
            )
            .apply_when_differs(ENABLED, "madvise"),
    );
    let defrag = snapshot
        .transparent_hugepage_defrag
        .as_ref()
        .and_then(|c| c.active.clone());
    let status = match defrag.as_deref() {
        None => Status::Unknown,
        Some("always") => Status::Differs,
        Some(_) => Status::Ok,
    };
    findings.push(
        Finding::new("thp.defrag", None, "kernel.md#transparent-hugepages")
            .current(defrag.unwrap_or_else(|| "unknown".to_owned()))
            .recommended("madvise, defer+madvise, defer or never")
            .status(status)
            .command(format!("echo madvise > {DEFRAG}"))
            .why(
                "`always` makes a faulting thread stall in direct reclaim and compaction \
                 when no huge page is free (transhuge.rst)",
            )
            .apply_when_differs(DEFRAG, "madvise"),
    );
}
