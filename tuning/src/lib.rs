//! Host tuning for the broker: the playbooks (Markdown next to this crate) and `tuning
//! check`, which audits the running host against them.
//!
//! # Layout
//!
//! - [`parse`]: pure parsers for /proc and /sys text (unit-tested on captured samples).
//! - [`host`]: [`host::HostRoot`] (the real `/` or a fixture tree) and
//!   [`host::HostSnapshot`], everything the audit needs, read once.
//! - [`check`]: [`check::audit`], a pure function from snapshot to [`check::Finding`]s, one
//!   per playbook item, each with current value, recommended value, change command, reason
//!   and the playbook section that cites its source.
//! - [`apply`]: `--apply`, the only code that writes, and only the runtime knobs the audit
//!   marked safe (sysctls under /proc/sys, block-queue scheduler, THP, cpufreq governor).
//! - [`render`]: the text form and the JSON [`render::Report`].
//!
//! Playbooks: `README.md` (index), `io-scheduler.md`, `ext4.md`, `kernel.md`, `presets.md`.

pub mod apply;
pub mod check;
pub mod host;
pub mod parse;
pub mod render;

pub use check::{audit, BrokerKind, CheckOptions, Finding, Status};
pub use host::{HostRoot, HostSnapshot};
pub use render::{HostFacts, Report};

/// Reads `root` and audits it: the whole of `tuning check` without printing.
#[must_use]
pub fn check_host(root: &HostRoot, options: &CheckOptions) -> Report {
    let snapshot = HostSnapshot::collect(root);
    Report {
        schema_version: render::REPORT_SCHEMA_VERSION,
        broker: options.broker,
        store_path: options.store_path.clone(),
        host: HostFacts::from_snapshot(&snapshot),
        findings: audit(&snapshot, options),
    }
}
