//! `--apply`: performs the safe, runtime-only writes the audit marked, printing each one as
//! the shell command it is equivalent to. Nothing else is ever written.

use crate::check::Finding;
use crate::host::HostRoot;

/// The outcome of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub item: String,
    /// `echo <value> > <path>` as it would be typed.
    pub command: String,
    /// `None` on success, the error text otherwise.
    pub error: Option<String>,
}

/// Applies every [`crate::check::Apply`] of `findings` under `root`, in order, and returns
/// what happened; a failed write does not stop the others.
pub fn apply(root: &HostRoot, findings: &[Finding]) -> Vec<Applied> {
    findings
        .iter()
        .flat_map(|finding| finding.apply.iter().map(move |write| (finding, write)))
        .map(|(finding, write)| {
            assert!(
                write.path.starts_with("/proc/sys/") || write.path.starts_with("/sys/"),
                "apply only writes runtime knobs under /proc/sys and /sys: {}",
                write.path
            );
            let error = root
                .write(&write.path, &format!("{}\n", write.value))
                .err()
                .map(|error| error.to_string());
            Applied {
                item: finding.item.clone(),
                command: format!("echo {} > {}", write.value, write.path),
                error,
            }
        })
        .collect()
}
