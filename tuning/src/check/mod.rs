//! The audit: [`audit`] turns a [`HostSnapshot`] into one [`Finding`] per playbook item.
//!
//! Pure: no file is read or written here. Each finding carries the current value, the
//! recommended value, the command that would change it, why, and where the claim comes from
//! (a playbook section that cites kernel docs / RocketMQ docs / the seed notes, or says
//! "to be measured with loadgen"). Only findings with an [`Apply`] action may be changed by
//! `tuning check --apply`; those are runtime-only, reversible writes under /proc/sys or /sys.

mod disk;
mod kernel;
mod process;

use serde::{Deserialize, Serialize};

use crate::host::HostSnapshot;

/// Which broker the host is being prepared for. The Apache broker writes its commit log
/// through mmap and the page cache; ours writes it with O_DIRECT through io_uring, so the
/// page-cache and mmap settings matter less to us and memlock matters more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BrokerKind {
    #[default]
    Ours,
    Apache,
}

/// Inputs of the audit besides the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    pub broker: BrokerKind,
    /// A path on the commit-log filesystem; picks the disk whose scheduler matters most.
    pub store_path: String,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            broker: BrokerKind::Ours,
            store_path: "/".to_owned(),
        }
    }
}

/// How the current value compares with the playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Matches the recommendation.
    Ok,
    /// Differs from the recommendation.
    Differs,
    /// Reported for context; the playbook has no single right value (or it is to be
    /// measured with loadgen).
    Info,
    /// Could not be read on this host.
    Unknown,
}

impl Status {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Differs => "DIFFERS",
            Status::Info => "info",
            Status::Unknown => "unknown",
        }
    }
}

/// A runtime write `--apply` may perform: `value` into the host file `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apply {
    pub path: String,
    pub value: String,
}

/// One audited item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable item name: `vm.swappiness`, `block.scheduler`, `ext4.journal`, ...
    pub item: String,
    /// What the item applies to (a device, a mount point), if not the whole host.
    pub scope: Option<String>,
    pub current: String,
    pub recommended: String,
    pub status: Status,
    /// The shell command that changes it now (empty if there is none).
    pub command: String,
    /// How to make the change survive a reboot, if different from `command`.
    pub persist: Option<String>,
    pub why: String,
    /// Playbook section with its citations, e.g. `kernel.md#vmswappiness`.
    pub source: String,
    /// The writes `--apply` may make safely; empty = never applied automatically.
    pub apply: Vec<Apply>,
}

impl Finding {
    fn new(item: &str, scope: Option<&str>, source: &str) -> Finding {
        Finding {
            item: item.to_owned(),
            scope: scope.map(str::to_owned),
            current: "unknown".to_owned(),
            recommended: String::new(),
            status: Status::Unknown,
            command: String::new(),
            persist: None,
            why: String::new(),
            source: source.to_owned(),
            apply: Vec::new(),
        }
    }

    fn current(mut self, current: impl Into<String>) -> Finding {
        self.current = current.into();
        self
    }

    fn recommended(mut self, recommended: impl Into<String>) -> Finding {
        self.recommended = recommended.into();
        self
    }

    fn status(mut self, status: Status) -> Finding {
        self.status = status;
        self
    }

    fn command(mut self, command: impl Into<String>) -> Finding {
        self.command = command.into();
        self
    }

    fn persist(mut self, persist: impl Into<String>) -> Finding {
        self.persist = Some(persist.into());
        self
    }

    fn why(mut self, why: impl Into<String>) -> Finding {
        self.why = why.into();
        self
    }

    /// Marks the finding as appliable, but only when it differs (nothing to do otherwise).
    fn apply_when_differs(mut self, path: &str, value: &str) -> Finding {
        if self.status == Status::Differs {
            self.apply.push(Apply {
                path: path.to_owned(),
                value: value.to_owned(),
            });
        }
        self
    }
}

/// Audits the snapshot; the order of findings is stable (disk, filesystem, kernel, process,
/// CPU/IRQ/NUMA) so two runs diff cleanly.
#[must_use]
pub fn audit(snapshot: &HostSnapshot, options: &CheckOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    disk::audit_block_devices(snapshot, options, &mut findings);
    disk::audit_filesystem(snapshot, options, &mut findings);
    kernel::audit_sysctls(snapshot, options, &mut findings);
    kernel::audit_transparent_hugepages(snapshot, &mut findings);
    process::audit_limits(snapshot, options, &mut findings);
    process::audit_cpu(snapshot, &mut findings);
    findings
}

/// Counts per status, for the summary line.
#[must_use]
pub fn summary(findings: &[Finding]) -> [(Status, usize); 4] {
    let count = |status| findings.iter().filter(|f| f.status == status).count();
    [
        (Status::Ok, count(Status::Ok)),
        (Status::Differs, count(Status::Differs)),
        (Status::Info, count(Status::Info)),
        (Status::Unknown, count(Status::Unknown)),
    ]
}
