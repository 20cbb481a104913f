//! Text rendering of the audit (the JSON form is the serde form of [`Report`]).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::check::{self, BrokerKind, Finding};
use crate::host::HostSnapshot;

/// What `tuning check --json` prints: the inputs, host facts and every finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Bumped when a field changes meaning.
    pub schema_version: u32,
    pub broker: BrokerKind,
    pub store_path: String,
    pub host: HostFacts,
    pub findings: Vec<Finding>,
}

/// The short host description carried by reports (loadgen embeds it too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostFacts {
    pub kernel_release: Option<String>,
    pub cpu_model: Option<String>,
    pub cpus_online: usize,
    pub memory_total_kib: Option<u64>,
    pub swap_total_kib: Option<u64>,
    pub numa_nodes: usize,
}

impl HostFacts {
    #[must_use]
    pub fn from_snapshot(snapshot: &HostSnapshot) -> HostFacts {
        HostFacts {
            kernel_release: snapshot.kernel_release.clone(),
            cpu_model: snapshot.cpu_model.clone(),
            cpus_online: snapshot.cpus_online.len(),
            memory_total_kib: snapshot.memory_total_kib,
            swap_total_kib: snapshot.swap_total_kib,
            numa_nodes: snapshot.numa_nodes.len(),
        }
    }
}

pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Renders findings as text blocks; `explain` adds why, persistence and the playbook source.
#[must_use]
pub fn render_text(report: &Report, explain: bool) -> String {
    let mut out = String::new();
    let host = &report.host;
    let _ = writeln!(
        out,
        "tuning check: broker={:?} store_path={} | kernel {} | {} | {} cpus | {} MiB RAM",
        report.broker,
        report.store_path,
        host.kernel_release.as_deref().unwrap_or("?"),
        host.cpu_model.as_deref().unwrap_or("?"),
        host.cpus_online,
        host.memory_total_kib.unwrap_or(0) / 1024,
    );
    for finding in &report.findings {
        let scope = finding
            .scope
            .as_deref()
            .map(|scope| format!(" [{scope}]"))
            .unwrap_or_default();
        let apply = if finding.apply.is_empty() {
            ""
        } else {
            "  (--apply can set this)"
        };
        let _ = writeln!(
            out,
            "\n{:<8} {}{scope}{apply}",
            finding.status.label(),
            finding.item
        );
        let _ = writeln!(out, "         current:     {}", finding.current);
        let _ = writeln!(out, "         recommended: {}", finding.recommended);
        if !finding.command.is_empty() {
            let _ = writeln!(out, "         change:      {}", finding.command);
        }
        if explain {
            if let Some(persist) = &finding.persist {
                let _ = writeln!(out, "         persist:     {persist}");
            }
            let _ = writeln!(out, "         why:         {}", finding.why);
            let _ = writeln!(out, "         source:      tuning/{}", finding.source);
        }
    }
    out.push('\n');
    out.push_str(&summary_line(&report.findings));
    out.push('\n');
    out
}

/// "27 items: 12 ok, 6 DIFFERS, 8 info, 1 unknown; 4 changes --apply can make".
#[must_use]
pub fn summary_line(findings: &[Finding]) -> String {
    let counts = check::summary(findings)
        .iter()
        .map(|(status, count)| format!("{count} {}", status.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let appliable = findings.iter().filter(|f| !f.apply.is_empty()).count();
    format!(
        "{} items: {counts}; {appliable} of the differences can be set by --apply",
        findings.len()
    )
}
