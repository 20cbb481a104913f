//! The plot: throughput (top) and p99 latency (bottom) per second, ramp steps marked with
//! dashed lines and their load labels, the hold shaded, the peak step outlined. Plain SVG
//! written by hand; no dependency.

use std::fmt::Write as _;

use crate::report::{Phase, Report};

const WIDTH: f64 = 1000.0;
const PANEL_HEIGHT: f64 = 220.0;
const MARGIN_LEFT: f64 = 80.0;
const MARGIN_RIGHT: f64 = 20.0;
const MARGIN_TOP: f64 = 40.0;
const PANEL_GAP: f64 = 50.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round axis maximum ≥ `value` (1, 2, 5 × 10^n).
#[must_use]
pub fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

struct Panel {
    top: f64,
    max: f64,
    duration_s: f64,
}

impl Panel {
    fn x(&self, t: f64) -> f64 {
        MARGIN_LEFT + t / self.duration_s * (WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
    }

    fn y(&self, value: f64) -> f64 {
        self.top + PANEL_HEIGHT - (value / self.max).min(1.0) * PANEL_HEIGHT
    }

    fn frame(&self, out: &mut String, title: &str, unit: &str) {
        let _ = writeln!(
            out,
            r##"<rect x="{MARGIN_LEFT}" y="{}" width="{}" height="{PANEL_HEIGHT}" fill="none" stroke="#999"/>"##,
            self.top,
            WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        );
        let _ = writeln!(
            out,
            r#"<text x="{MARGIN_LEFT}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
            self.top - 6.0,
            escape(title)
        );
        for fraction in [0.0, 0.5, 1.0] {
            let value = self.max * fraction;
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" font-size="11" text-anchor="end">{} {unit}</text>"#,
                MARGIN_LEFT - 6.0,
                self.y(value) + 4.0,
                format_value(value)
            );
        }
    }

    fn line(&self, out: &mut String, points: &[(f64, f64)], color: &str) {
        let coordinates = points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", self.x(*t), self.y(*v)))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{coordinates}"/>"#
        );
    }
}

fn format_value(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.0}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Renders the report's per-second series.
#[must_use]
pub fn render(report: &Report) -> String {
    let duration_s = report.seconds.last().map_or(1.0, |s| s.elapsed_s).max(1.0);
    let throughput: Vec<(f64, f64)> = report
        .seconds
        .iter()
        .map(|s| (s.elapsed_s, s.messages_per_s))
        .collect();
    let p99: Vec<(f64, f64)> = report
        .seconds
        .iter()
        .map(|s| (s.elapsed_s, s.latency.p99_us as f64))
        .collect();
    let top = Panel {
        top: MARGIN_TOP,
        max: nice_ceiling(throughput.iter().map(|p| p.1).fold(0.0, f64::max)),
        duration_s,
    };
    let bottom = Panel {
        top: MARGIN_TOP + PANEL_HEIGHT + PANEL_GAP,
        max: nice_ceiling(p99.iter().map(|p| p.1).fold(0.0, f64::max)),
        duration_s,
    };
    let height = bottom.top + PANEL_HEIGHT + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!("loadgen {:?}: {}", report.mode, report.target.description);
    let _ = writeln!(
        out,
        r#"<text x="{MARGIN_LEFT}" y="18" font-size="13">{}</text>"#,
        escape(&title)
    );
    mark_steps(&mut out, report, &top, &bottom);
    top.frame(&mut out, "Send throughput (msgs/s)", "");
    bottom.frame(&mut out, "Send latency p99 (µs)", "µs");
    top.line(&mut out, &throughput, "#1f77b4");
    bottom.line(&mut out, &p99, "#d62728");
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">seconds (0 – {duration_s:.0})</text>"#,
        (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2.0,
        bottom.top + PANEL_HEIGHT + 28.0
    );
    out.push_str("</svg>\n");
    out
}

fn mark_steps(out: &mut String, report: &Report, top: &Panel, bottom: &Panel) {
    let span = bottom.top + PANEL_HEIGHT - top.top;
    let peak_step = report.peak.as_ref().map(|peak| peak.step);
    for step in report.steps.iter().chain(report.hold.iter()) {
        let x = top.x(step.start_s);
        let end = top.x(step.start_s + step.measured_s + 1.0);
        if step.phase == Phase::Hold {
            let _ = writeln!(
                out,
                r##"<rect x="{x:.1}" y="{}" width="{:.1}" height="{span}" fill="#2ca02c" fill-opacity="0.12"/>"##,
                top.top,
                (end - x).max(1.0)
            );
        } else if Some(step.index) == peak_step {
            let _ = writeln!(
                out,
                r##"<rect x="{x:.1}" y="{}" width="{:.1}" height="{span}" fill="none" stroke="#ff7f0e" stroke-width="2"/>"##,
                top.top,
                (end - x).max(1.0)
            );
        }
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#777" stroke-dasharray="4,3"/>"##,
            top.top,
            top.top + span
        );
        let label = match step.phase {
            Phase::Hold => format!("hold {}", step.load.label()),
            _ => step.load.label(),
        };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{}" font-size="10">{}</text>"#,
            x + 3.0,
            top.top + 12.0,
            escape(&label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120_000.0), 200_000.0);
        assert_eq!(nice_ceiling(2000.0), 2000.0);
        assert_eq!(format_value(123_456.0), "123k");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
