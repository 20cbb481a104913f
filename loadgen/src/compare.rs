//! `loadgen compare a.json b.json [...]`: a side-by-side table of reports, with the ratio
//! of each later report to the first for the headline numbers, then throughput and p99 per
//! ramp level.

use crate::report::{Report, StepSummary};

fn ratio(first: f64, value: f64) -> String {
    if first > 0.0 {
        format!(" ({:.2}x)", value / first)
    } else {
        String::new()
    }
}

fn host_field(step: &StepSummary, pick: impl Fn(&crate::report::HostSummary) -> String) -> String {
    step.host.as_ref().map_or("-".to_owned(), pick)
}

/// Rows of (label, value per report).
fn headline_rows(reports: &[(String, Report)]) -> Vec<(String, Vec<String>)> {
    type Cell = Box<dyn Fn(&Report, Option<&Report>) -> String>;
    let first = reports.first().map(|(_, report)| report);
    let rows: Vec<(&str, Cell)> = vec![
        ("target", Box::new(|r, _| r.target.description.clone())),
        (
            "git",
            Box::new(|r, _| {
                let sha = r
                    .git
                    .sha
                    .as_deref()
                    .map_or("?", |s| &s[..s.len().min(10)])
                    .to_owned();
                if r.git.dirty == Some(true) {
                    format!("{sha} (dirty)")
                } else {
                    sha
                }
            }),
        ),
        (
            "mode",
            Box::new(|r, _| format!("{:?}", r.mode).to_lowercase()),
        ),
        (
            "flush / role",
            Box::new(|r, _| {
                format!(
                    "{} / {}",
                    r.target.flush_disk_type.as_deref().unwrap_or("?"),
                    r.target.broker_role.as_deref().unwrap_or("?")
                )
            }),
        ),
        (
            "message bytes x batch",
            Box::new(|r, _| {
                format!(
                    "{} x {}",
                    r.workload.message_bytes, r.workload.batch_messages
                )
            }),
        ),
        (
            "send mode",
            Box::new(|r, _| format!("{:?}", r.workload.send_mode).to_lowercase()),
        ),
        (
            "headline step",
            Box::new(|r, _| {
                let step = r.headline();
                format!("{:?} {}", step.phase, step.load.label()).to_lowercase()
            }),
        ),
        (
            "msgs/s",
            Box::new(|r, f| {
                let value = r.headline().messages_per_s;
                format!(
                    "{value:.0}{}",
                    f.filter(|f| !std::ptr::eq(*f, r))
                        .map_or(String::new(), |f| ratio(f.headline().messages_per_s, value))
                )
            }),
        ),
        (
            "MB/s",
            Box::new(|r, _| format!("{:.1}", r.headline().mb_per_s)),
        ),
        (
            "latency p50/p99/p99.9/max µs",
            Box::new(|r, _| {
                let l = r.headline().latency;
                format!("{}/{}/{}/{}", l.p50_us, l.p99_us, l.p999_us, l.max_us)
            }),
        ),
        (
            "p99 vs first",
            Box::new(|r, f| {
                f.filter(|f| !std::ptr::eq(*f, r))
                    .map_or("-".to_owned(), |f| {
                        ratio(
                            f.headline().latency.p99_us as f64,
                            r.headline().latency.p99_us as f64,
                        )
                        .trim()
                        .to_owned()
                    })
            }),
        ),
        (
            "errors (send/response)",
            Box::new(|r, _| {
                format!(
                    "{}/{}",
                    r.headline().send_failed,
                    r.headline().response_failed
                )
            }),
        ),
        (
            "consumed msgs/s, e2e p99 µs",
            Box::new(|r, _| {
                format!(
                    "{:.0}, {}",
                    r.headline().consumed_per_s,
                    r.headline().end_to_end.p99_us
                )
            }),
        ),
        (
            "CPU busy %",
            Box::new(|r, _| host_field(r.headline(), |h| format!("{:.0}", h.cpu_busy_pct))),
        ),
        (
            "broker / loadgen cores",
            Box::new(|r, _| {
                host_field(r.headline(), |h| {
                    format!(
                        "{} / {}",
                        h.broker_cpu_cores
                            .map_or("?".to_owned(), |c| format!("{c:.2}")),
                        h.loadgen_cpu_cores
                            .map_or("?".to_owned(), |c| format!("{c:.2}"))
                    )
                })
            }),
        ),
        (
            "disk util %, write MB/s",
            Box::new(|r, _| {
                host_field(r.headline(), |h| {
                    h.disks
                        .iter()
                        .map(|d| {
                            format!("{} {:.0}%, {:.1}", d.device, d.util_pct, d.write_mb_per_s)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            }),
        ),
        (
            "bottleneck",
            Box::new(|r, _| {
                r.bottleneck.as_ref().map_or("-".to_owned(), |b| {
                    format!("{:?}", b.resource).to_lowercase()
                })
            }),
        ),
        (
            "peak",
            Box::new(|r, _| {
                r.peak.as_ref().map_or("-".to_owned(), |p| {
                    format!("{} ({})", p.load.label(), p.reason)
                })
            }),
        ),
    ];
    rows.into_iter()
        .map(|(label, cell)| {
            (
                label.to_owned(),
                reports
                    .iter()
                    .map(|(_, report)| cell(report, first))
                    .collect(),
            )
        })
        .collect()
}

/// Throughput and p99 per ramp level, levels in first-seen order across reports.
fn level_rows(reports: &[(String, Report)]) -> Vec<(String, Vec<String>)> {
    // (is a rate, level, label): concurrency levels first, each kind in ascending order.
    let mut levels: Vec<(bool, f64, String)> = Vec::new();
    for (_, report) in reports {
        for step in &report.steps {
            let label = step.load.label();
            if !levels.iter().any(|(_, _, known)| *known == label) {
                let is_rate = matches!(step.load, crate::config::Load::Rate { .. });
                levels.push((is_rate, step.load.level(), label));
            }
        }
    }
    levels.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    levels
        .into_iter()
        .map(|(_, _, label)| {
            let cells = reports
                .iter()
                .map(|(_, report)| {
                    report
                        .steps
                        .iter()
                        .find(|step| step.load.label() == label)
                        .map_or("-".to_owned(), |step| {
                            format!(
                                "{:.0} msgs/s, p99 {} µs",
                                step.messages_per_s, step.latency.p99_us
                            )
                        })
                })
                .collect();
            (label, cells)
        })
        .collect()
}

/// Wider cells are cut with an ellipsis so columns stay side by side.
const CELL_CHARS_MAX: usize = 60;

fn truncate(cell: &str, width: usize) -> String {
    if cell.chars().count() <= width {
        return cell.to_owned();
    }
    let mut cut: String = cell.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn table(header: &[String], rows: &[(String, Vec<String>)]) -> String {
    let columns = header.len();
    let mut widths = vec![0; columns];
    for (label, cells) in rows {
        widths[0] = widths[0].max(label.chars().count());
        for (index, cell) in cells.iter().enumerate() {
            widths[index + 1] = widths[index + 1]
                .max(cell.chars().count())
                .min(CELL_CHARS_MAX);
        }
    }
    for (index, name) in header.iter().enumerate() {
        widths[index] = widths[index].max(name.chars().count()).min(CELL_CHARS_MAX);
    }
    let render_row = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{:<width$}", truncate(cell, *width)))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_owned()
    };
    let mut out = render_row(header.iter().map(String::as_str).collect());
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for (label, cells) in rows {
        let mut row = vec![label.as_str()];
        row.extend(cells.iter().map(String::as_str));
        out.push_str(&render_row(row));
        out.push('\n');
    }
    out
}

/// The comparison text for named reports.
#[must_use]
pub fn render_comparison(reports: &[(String, Report)]) -> String {
    let mut header = vec![String::new()];
    header.extend(reports.iter().map(|(name, _)| name.clone()));
    let mut out = table(&header, &headline_rows(reports));
    let levels = level_rows(reports);
    if !levels.is_empty() {
        out.push('\n');
        let mut level_header = vec!["ramp level".to_owned()];
        level_header.extend(reports.iter().map(|(name, _)| name.clone()));
        out.push_str(&table(&level_header, &levels));
    }
    out
}
