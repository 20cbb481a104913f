//! The chapter-7 workflow end to end: launch (optional), discover the target, start the
//! driver, then either one step (`run`) or ramp → peak → hold (`tune`), sampling the host
//! every second, printing progress, and finally naming the bottleneck and writing the JSON
//! report and the SVG plot.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};

use crate::bottleneck::{self, name_bottleneck};
use crate::config::{Load, Via, Workload};
use crate::driver::Driver;
use crate::launch::{LaunchedBroker, DEFAULT_BROKER_COMMAND};
use crate::peak::{detect_peak, PeakDecision, PeakRule, StepPoint};
use crate::progress::{self, SendProgress, Snapshot, Tail};
use crate::report::{
    self, HostCheckItem, HostSummary, Mode, PeakInfo, Phase, RampSettings, Report, Second,
    StepSpan, StepSummary, TargetInfo,
};
use crate::sampler::{self, HostSampler, HostSecond};
use crate::stats::{Interval, Percentiles};
use crate::target::client::ClientTarget;
use crate::target::raw::{wire::now_unix_ms, RawTarget};
use crate::target::{route, LoadTarget};

/// The ramp of `tune`.
#[derive(Debug, Clone)]
pub struct RampPlan {
    pub levels: Vec<Load>,
    pub step_s: u64,
    pub hold_s: u64,
    pub rule: PeakRule,
}

/// Everything `run`/`tune` need.
pub struct Settings {
    pub workload: Workload,
    /// `None` = a plain run of `workload.load` for `workload.duration_s` (or `count`).
    pub ramp: Option<RampPlan>,
    pub out_dir: PathBuf,
    pub launch: Option<PathBuf>,
    pub broker_command: String,
    pub broker_pid: Option<u32>,
    pub command_line: Vec<String>,
    /// No live progress lines (tests).
    pub quiet: bool,
    /// Use this target instead of discovering one (tests, other target kinds).
    pub target: Option<Arc<dyn LoadTarget>>,
}

impl Settings {
    #[must_use]
    pub fn new(workload: Workload) -> Settings {
        Settings {
            workload,
            ramp: None,
            out_dir: std::env::temp_dir().join("loadgen"),
            launch: None,
            broker_command: DEFAULT_BROKER_COMMAND.to_owned(),
            broker_pid: None,
            command_line: std::env::args().collect(),
            quiet: false,
            target: None,
        }
    }
}

/// What a finished run produced.
pub struct Finished {
    pub report: Report,
    pub json_path: PathBuf,
    pub svg_path: PathBuf,
}

/// Runs the workflow.
///
/// # Errors
/// Invalid settings, an unreachable target, or unwritable output.
pub fn execute(mut settings: Settings) -> Result<Finished> {
    if let Some(first) = settings.ramp.as_ref().and_then(|plan| plan.levels.first()) {
        settings.workload.load = *first;
        settings.workload.duration_s = settings.ramp.as_ref().map_or(1, |plan| plan.step_s);
    }
    settings
        .workload
        .validate()
        .map_err(|e| anyhow!("invalid workload: {e}"))?;
    std::fs::create_dir_all(&settings.out_dir)
        .with_context(|| format!("{}", settings.out_dir.display()))?;
    let started_unix_ms = now_unix_ms();
    let stem = format!(
        "{}-{started_unix_ms}",
        if settings.ramp.is_some() {
            "tune"
        } else {
            "run"
        }
    );
    let mut launched = match &settings.launch {
        Some(conf) => {
            let log = settings.out_dir.join(format!("{stem}-broker.log"));
            let mut broker = LaunchedBroker::start(&settings.broker_command, conf, &log)
                .map_err(|e| anyhow!(e))?;
            broker
                .wait_listening(Duration::from_secs(60))
                .map_err(|e| anyhow!(e))?;
            Some(broker)
        }
        None => None,
    };
    let target = match &settings.target {
        Some(target) => Arc::clone(target),
        None => discover(&settings.workload, if launched.is_some() { 30 } else { 3 })?,
    };
    let broker_pid = settings
        .broker_pid
        .or(launched.as_ref().map(LaunchedBroker::pid))
        .or_else(|| local_broker_port(target.as_ref()).and_then(sampler::find_listening_pid));
    let launched_conf = launched.as_ref().map(|broker| broker.conf.clone());
    let reported_conf = target
        .broker_config()
        .map(|text| crate::launch::parse_broker_conf(&text));
    let conf = launched_conf.or(reported_conf);
    let target_info = TargetInfo {
        description: target.describe(),
        launched_config: settings.launch.as_ref().map(|p| p.display().to_string()),
        flush_disk_type: conf.as_ref().and_then(|c| c.flush_disk_type.clone()),
        broker_role: conf.as_ref().and_then(|c| c.broker_role.clone()),
        broker_pid,
    };
    let workload = &settings.workload;
    if !settings.quiet {
        println!(
            "loadgen {}: {} | {} B x {} per request, {:?}, {} producers, {} consumers{}",
            if settings.ramp.is_some() {
                "tune"
            } else {
                "run"
            },
            target_info.description,
            workload.message_bytes,
            workload.batch_messages,
            workload.send_mode,
            workload.producers,
            workload.consumers,
            broker_pid.map_or(String::new(), |pid| format!(", broker pid {pid}"))
        );
    }
    let driver = Driver::start(&target, workload);
    let mut session = Session::new(&driver, broker_pid, workload, settings.quiet);
    let (steps, peak, hold) = match &settings.ramp {
        None => {
            let duration_s = if workload.duration_s == 0 {
                u64::MAX
            } else {
                workload.duration_s
            };
            (
                vec![session.run_step(0, Phase::Run, workload.load, duration_s)],
                None,
                None,
            )
        }
        Some(plan) => tune(&mut session, plan, settings.quiet),
    };
    let Session {
        seconds,
        total: mut total_interval,
        started,
        ..
    } = session;
    total_interval.merge(&driver.stop(Duration::from_secs(1)));
    drop(launched.take());
    let total_s = started.elapsed().as_secs_f64();
    let all_hosts: Vec<&HostSecond> = seconds.iter().filter_map(|s| s.host.as_ref()).collect();
    let span = StepSpan {
        index: 0,
        phase: Phase::Run,
        load: workload.load,
        start_s: 0.0,
        measured_s: total_s,
    };
    let total = StepSummary::new(
        span,
        &total_interval,
        workload.message_bytes,
        HostSummary::of(&all_hosts),
    );
    let mut report = Report {
        schema_version: report::REPORT_SCHEMA_VERSION,
        tool: format!("loadgen {}", env!("CARGO_PKG_VERSION")),
        mode: if settings.ramp.is_some() {
            Mode::Tune
        } else {
            Mode::Run
        },
        command_line: settings.command_line.clone(),
        started_unix_ms,
        git: report::git_info(),
        host: tuning::HostFacts::default(),
        host_check: Vec::new(),
        target: target_info,
        workload: workload.clone(),
        ramp: settings.ramp.as_ref().map(|plan| RampSettings {
            levels: plan.levels.clone(),
            step_s: plan.step_s,
            hold_s: plan.hold_s,
            rule: plan.rule,
        }),
        seconds,
        steps,
        peak,
        hold,
        bottleneck: None,
        total,
    };
    let host_report = tuning::check_host(
        &tuning::HostRoot::system(),
        &tuning::CheckOptions::default(),
    );
    report.host = host_report.host;
    report.host_check = host_report
        .findings
        .into_iter()
        .map(|f| HostCheckItem {
            item: f.item,
            scope: f.scope,
            current: f.current,
            status: f.status,
        })
        .collect();
    let context = bottleneck::Context {
        link_mb_per_s: link_speeds(),
        batch_messages: workload.batch_messages,
    };
    report.bottleneck = Some(name_bottleneck(report.headline(), &context));
    let json_path = settings.out_dir.join(format!("{stem}.json"));
    let svg_path = settings.out_dir.join(format!("{stem}.svg"));
    report
        .write(&json_path)
        .with_context(|| format!("{}", json_path.display()))?;
    std::fs::write(&svg_path, crate::svg::render(&report))
        .with_context(|| format!("{}", svg_path.display()))?;
    Ok(Finished {
        report,
        json_path,
        svg_path,
    })
}

fn discover(workload: &Workload, attempts_s: u64) -> Result<Arc<dyn LoadTarget>> {
    let deadline = Instant::now() + Duration::from_secs(attempts_s);
    loop {
        let found: Result<Arc<dyn LoadTarget>, _> = match workload.via {
            Via::Client => ClientTarget::discover(workload).map(|t| Arc::new(t) as _),
            Via::Raw => RawTarget::discover(workload).map(|t| Arc::new(t) as _),
        };
        match found {
            Ok(target) => return Ok(target),
            Err(error @ crate::target::TargetError::RemoteAddress(_)) => {
                return Err(anyhow!(error))
            }
            Err(error) if Instant::now() >= deadline => {
                return Err(anyhow!("finding topic {}: {error}", workload.topic))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// The port of the first broker if it is on this host (for finding its pid).
fn local_broker_port(target: &dyn LoadTarget) -> Option<u16> {
    let address = &target.queues().first()?.broker_address;
    let socket = route::checked_address(address, false).ok()?;
    Some(socket.port())
}

fn link_speeds() -> Vec<(String, f64)> {
    let Ok(entries) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let speed: f64 = std::fs::read_to_string(entry.path().join("speed"))
                .ok()?
                .trim()
                .parse()
                .ok()?;
            (speed > 0.0).then(|| {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    speed / 8.0,
                )
            })
        })
        .collect()
}

/// The ramp: a step per level until the peak, then the hold.
fn tune(
    session: &mut Session<'_>,
    plan: &RampPlan,
    quiet: bool,
) -> (Vec<StepSummary>, Option<PeakInfo>, Option<StepSummary>) {
    let mut steps = Vec::new();
    let mut points = Vec::new();
    for (index, load) in plan.levels.iter().enumerate() {
        let step = session.run_step(index, Phase::Ramp, *load, plan.step_s);
        points.push(StepPoint {
            level: load.level(),
            throughput: step.messages_per_s,
            latency_us_p99: step.latency.p99_us,
            error_ratio: step.error_ratio,
        });
        let decision = detect_peak(
            &points,
            &plan.rule,
            index + 1 == plan.levels.len() || session.producers_finished(),
        );
        if !quiet {
            println!(
                "step {index} {}: {:.0} msgs/s, p99 {} µs, errors {:.4} -> {}",
                load.label(),
                step.messages_per_s,
                step.latency.p99_us,
                step.error_ratio,
                match &decision {
                    PeakDecision::Continue => "continue".to_owned(),
                    PeakDecision::Peak { step, reason } => format!("peak at step {step}: {reason}"),
                    PeakDecision::NoneAcceptable { reason } =>
                        format!("no acceptable level: {reason}"),
                }
            );
        }
        steps.push(step);
        match decision {
            PeakDecision::Continue => {}
            PeakDecision::NoneAcceptable { .. } => return (steps, None, None),
            PeakDecision::Peak { step, reason } => {
                let peak_load = steps[step].load;
                let peak = PeakInfo {
                    step,
                    load: peak_load,
                    messages_per_s: steps[step].messages_per_s,
                    reason,
                };
                let hold = (plan.hold_s > 0)
                    .then(|| session.run_step(steps.len(), Phase::Hold, peak_load, plan.hold_s));
                return (steps, Some(peak), hold);
            }
        }
    }
    (steps, None, None)
}

/// Per-second bookkeeping shared by every step.
struct Session<'a> {
    driver: &'a Driver,
    sampler: HostSampler,
    progress: SendProgress,
    seconds: Vec<Second>,
    started: Instant,
    next_tick: Instant,
    cumulative: Snapshot,
    total: Interval,
    since_line: Interval,
    since_line_s: u64,
    latency_us_max: u64,
    report_every_s: u64,
    consumers: bool,
    quiet: bool,
    message_bytes: usize,
}

impl<'a> Session<'a> {
    fn new(
        driver: &'a Driver,
        broker_pid: Option<u32>,
        workload: &Workload,
        quiet: bool,
    ) -> Session<'a> {
        let mut sampler = HostSampler::new(broker_pid);
        let _baseline = sampler.sample();
        let now = Instant::now();
        Session {
            driver,
            sampler,
            progress: SendProgress::default(),
            seconds: Vec::new(),
            started: now,
            next_tick: now,
            cumulative: Snapshot::default(),
            total: Interval::default(),
            since_line: Interval::default(),
            since_line_s: 0,
            latency_us_max: 0,
            report_every_s: (workload.report_interval_ms / 1000).max(1),
            consumers: workload.consumers > 0,
            quiet,
            message_bytes: workload.message_bytes,
        }
    }

    fn producers_finished(&self) -> bool {
        self.driver.producers_finished()
    }

    /// Runs one step of `duration_s` seconds (the first second is warm-up when ≥ 3 s).
    fn run_step(&mut self, index: usize, phase: Phase, load: Load, duration_s: u64) -> StepSummary {
        self.driver.set_load(load);
        let start_s = self.started.elapsed().as_secs_f64();
        let mut step_interval = Interval::default();
        let mut step_hosts: Vec<HostSecond> = Vec::new();
        let mut measured_s = 0.0;
        let mut second = 0;
        while second < duration_s {
            self.next_tick += Duration::from_secs(1);
            if let Some(wait) = self.next_tick.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let interval = self.driver.take_interval();
            let host = self.sampler.sample();
            self.record_second(index, phase, load, &interval, host.clone());
            if second > 0 || duration_s < 3 {
                step_interval.merge(&interval);
                step_hosts.extend(host);
                measured_s += 1.0;
            }
            second += 1;
            if self.producers_finished() {
                break;
            }
        }
        let host_refs: Vec<&HostSecond> = step_hosts.iter().collect();
        StepSummary::new(
            StepSpan {
                index,
                phase,
                load,
                start_s,
                measured_s,
            },
            &step_interval,
            self.message_bytes,
            HostSummary::of(&host_refs),
        )
    }

    fn record_second(
        &mut self,
        step: usize,
        phase: Phase,
        load: Load,
        interval: &Interval,
        host: Option<HostSecond>,
    ) {
        let elapsed_s = self.started.elapsed().as_secs_f64();
        self.cumulative = Snapshot {
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            messages_ok: self.cumulative.messages_ok + interval.messages_ok,
            requests_ok: self.cumulative.requests_ok + interval.requests_ok,
            send_failed: self.cumulative.send_failed + interval.send_failed,
            response_failed: self.cumulative.response_failed + interval.response_failed,
            latency_us_sum: self.cumulative.latency_us_sum + interval.latency_us_sum,
        };
        let interval_max = if interval.latency.is_empty() {
            0
        } else {
            interval.latency.max()
        };
        self.latency_us_max = self.latency_us_max.max(interval_max);
        self.progress.push(self.cumulative, interval_max);
        self.total.merge(interval);
        self.since_line.merge(interval);
        self.since_line_s += 1;
        self.seconds.push(Second {
            elapsed_s,
            step,
            phase,
            load,
            messages_per_s: interval.messages_ok as f64,
            requests_ok: interval.requests_ok,
            requests_not_durable: interval.requests_not_durable,
            send_failed: interval.send_failed,
            response_failed: interval.response_failed,
            latency: Percentiles::of(&interval.latency),
            consumed_per_s: interval.consumed as f64,
            end_to_end: Percentiles::of(&interval.end_to_end),
            host,
        });
        if self.since_line_s >= self.report_every_s {
            self.print_lines();
        }
    }

    fn print_lines(&mut self) {
        let since = std::mem::take(&mut self.since_line);
        let seconds = std::mem::take(&mut self.since_line_s).max(1);
        if self.quiet {
            return;
        }
        let clock = progress::wall_clock(now_unix_ms());
        let latency = Percentiles::of(&since.latency);
        let tail = Tail {
            p50_us: latency.p50_us,
            p99_us: latency.p99_us,
            p999_us: latency.p999_us,
            max_us: latency.max_us,
        };
        if let Some(line) = self.progress.line(&clock, tail) {
            println!("{line}");
        }
        if self.consumers {
            let end_to_end = Percentiles::of(&since.end_to_end);
            println!(
                "{}",
                progress::consume_line(
                    &clock,
                    since.consumed / seconds,
                    end_to_end.mean_us,
                    end_to_end.max_us,
                    end_to_end.p99_us
                )
            );
        }
    }
}

/// The final lines: the Java tool's `[Complete]` line, then the two numbers.
#[must_use]
pub fn summary_lines(report: &Report) -> Vec<String> {
    let total = &report.total;
    let headline = report.headline();
    let mut lines = vec![format!(
        "[Complete] Send Total: {} | Send TPS: {:.0} | Max RT(ms): {} | Average RT(ms): {:7.3} | Send Failed: {} | Response Failed: {}",
        total.requests_ok * report.workload.batch_messages as u64 + total.send_failed + total.response_failed,
        total.messages_per_s,
        total.latency.max_us / 1000,
        total.latency.mean_us / 1000.0,
        total.send_failed,
        total.response_failed
    )];
    if let Some(peak) = &report.peak {
        lines.push(format!("peak: {} ({})", peak.load.label(), peak.reason));
    }
    lines.push(format!(
        "throughput: {:.0} msgs/s ({:.1} MB/s) | p99: {} µs   [{} {}]",
        headline.messages_per_s,
        headline.mb_per_s,
        headline.latency.p99_us,
        format!("{:?}", headline.phase).to_lowercase(),
        headline.load.label()
    ));
    if report.workload.consumers > 0 {
        lines.push(format!(
            "consumed: {:.0} msgs/s | send->consume p99: {} µs",
            headline.consumed_per_s, headline.end_to_end.p99_us
        ));
    }
    if let Some(bottleneck) = &report.bottleneck {
        lines.push(format!(
            "bottleneck ({}): {}",
            format!("{:?}", bottleneck.resource).to_lowercase(),
            bottleneck.summary
        ));
        lines.extend(bottleneck.evidence.iter().map(|e| format!("  - {e}")));
    }
    lines
}
