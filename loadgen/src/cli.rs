//! Command line: `loadgen` (the canonical run), `loadgen run`, `loadgen tune`,
//! `loadgen compare`, `loadgen sample`. Short flags follow the Java benchmark tool where they
//! exist (`-n -t -w -s -k -l -q -y`).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Load, SendMode, Via, Workload};
use crate::peak::{geometric_levels, PeakRule};
use crate::report::Report;
use crate::workflow::{self, RampPlan, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "Load any RocketMQ-protocol broker: ramp, find the peak, hold, sample the host, name the bottleneck",
    long_about = "With no subcommand: the canonical produce+consume run against 127.0.0.1:9876 \
                  (1 KiB messages, 64 synchronous senders over 4 connections, 1 consumer, 20 s), \
                  printing throughput and p99.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: LoadArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// One run at a fixed load level (the default command).
    Run(LoadArgs),
    /// The chapter-7 workflow: ramp the load step by step, detect the peak, hold it, name the
    /// bottleneck.
    Tune(TuneArgs),
    /// Side-by-side table of two or more JSON reports.
    Compare(CompareArgs),
    /// Print the host sampler's per-second readings (sar/iostat-like) without load.
    Sample(SampleArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    Sync,
    Async,
    Oneway,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ViaArg {
    Client,
    Raw,
}

#[derive(Args, Debug, Clone, Default)]
pub struct WorkloadArgs {
    /// Name server list host:port;host:port [default: 127.0.0.1:9876]
    #[arg(short = 'n', long)]
    pub namesrv: Option<String>,
    /// Send straight to this broker host:port (no name server; implies --via raw).
    #[arg(long)]
    pub broker: Option<String>,
    /// Send and consume through our client crate or loadgen's raw protocol codec
    /// [default: client; raw with --broker]
    #[arg(long, value_enum)]
    pub via: Option<ViaArg>,
    /// Topic [default: BenchmarkTest]
    #[arg(short = 't', long)]
    pub topic: Option<String>,
    /// Queues when loadgen creates the topic [default: 8]
    #[arg(long)]
    pub queues: Option<usize>,
    /// Message body bytes [default: 1024]
    #[arg(short = 's', long = "size")]
    pub message_bytes: Option<usize>,
    /// Messages per request (>1 = batch send) [default: 1]
    #[arg(long = "batch")]
    pub batch_messages: Option<usize>,
    /// Producer connections [default: 4]
    #[arg(long)]
    pub producers: Option<usize>,
    /// Consumer connections, 0 = produce only [default: 1]
    #[arg(long)]
    pub consumers: Option<usize>,
    /// Tag count: tags cycle over tag0..tagN-1 [default: 0 = none]
    #[arg(short = 'l', long = "tags")]
    pub tag_count: Option<usize>,
    /// Set a KEYS property on every message.
    #[arg(short = 'k', long)]
    pub keys: bool,
    /// sync | async | oneway [default: sync]
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Shorthand for --mode async (the Java tool's -y).
    #[arg(short = 'y', long = "async")]
    pub async_mode: bool,
    /// Closed loop: requests outstanding in total (the Java tool's -w threads) [default: 64]
    #[arg(short = 'w', long, conflicts_with = "rate")]
    pub concurrency: Option<usize>,
    /// Open loop: requests per second on a fixed schedule.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Cap on outstanding requests per connection [default: 1024]
    #[arg(long)]
    pub in_flight: Option<usize>,
    /// Seconds to run (per step in tune) [default: 20]
    #[arg(short = 'd', long = "duration")]
    pub duration_s: Option<u64>,
    /// Stop after this many messages (the Java tool's -q) [default: 0 = no limit]
    #[arg(short = 'q', long)]
    pub count: Option<u64>,
    /// A request outstanding this long is a send failure [default: 3000]
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Progress line interval [default: 1000]
    #[arg(long)]
    pub report_interval_ms: Option<u64>,
    /// Allow targets outside 127.0.0.0/8 and ::1.
    #[arg(long)]
    pub allow_remote: bool,
}

impl WorkloadArgs {
    /// The workload: defaults overridden by the flags given.
    #[must_use]
    pub fn workload(&self) -> Workload {
        let defaults = Workload::default();
        let send_mode = match (self.async_mode, self.mode) {
            (true, _) | (_, Some(ModeArg::Async)) => SendMode::Async,
            (_, Some(ModeArg::Oneway)) => SendMode::Oneway,
            _ => SendMode::Sync,
        };
        let in_flight = self.in_flight.unwrap_or(defaults.in_flight_per_connection);
        let producers = self.producers.unwrap_or(defaults.producers);
        let load = match (self.rate, self.concurrency) {
            (Some(requests_per_s), _) => Load::Rate { requests_per_s },
            (None, Some(requests)) => Load::Concurrency { requests },
            // Async without a concurrency: every connection keeps its window full.
            (None, None) if send_mode == SendMode::Async => Load::Concurrency {
                requests: producers * in_flight,
            },
            (None, None) => defaults.load,
        };
        Workload {
            namesrv: self.namesrv.clone().unwrap_or(defaults.namesrv),
            broker: self.broker.clone(),
            via: match (self.via, &self.broker) {
                (Some(ViaArg::Raw), _) | (None, Some(_)) => Via::Raw,
                (Some(ViaArg::Client), _) | (None, None) => Via::Client,
            },
            topic: self.topic.clone().unwrap_or(defaults.topic),
            queues: self.queues.unwrap_or(defaults.queues),
            message_bytes: self.message_bytes.unwrap_or(defaults.message_bytes),
            batch_messages: self.batch_messages.unwrap_or(defaults.batch_messages),
            producers,
            consumers: self.consumers.unwrap_or(defaults.consumers),
            tag_count: self.tag_count.unwrap_or(defaults.tag_count),
            keys: self.keys,
            send_mode,
            load,
            in_flight_per_connection: in_flight,
            duration_s: self.duration_s.unwrap_or(if self.count.is_some() {
                0
            } else {
                defaults.duration_s
            }),
            count: self.count.unwrap_or(defaults.count),
            send_timeout_ms: self.timeout_ms.unwrap_or(defaults.send_timeout_ms),
            producer_group: defaults.producer_group,
            consumer_group: defaults.consumer_group,
            report_interval_ms: self
                .report_interval_ms
                .unwrap_or(defaults.report_interval_ms),
            allow_remote: self.allow_remote,
        }
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Directory for the JSON report, the SVG plot and launched broker logs
    /// [default: $TMPDIR/loadgen]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Start a broker with this broker.conf before the run and stop it after.
    #[arg(long)]
    pub launch: Option<PathBuf>,
    /// Command template for --launch; {conf} = the config path, {bin_dir} = loadgen's
    /// directory [default: "{bin_dir}/broker -c {conf}"]
    #[arg(long)]
    pub broker_cmd: Option<String>,
    /// Sample this process as the broker (default: the launched broker, or whoever listens
    /// on the broker's port).
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// No live progress lines.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LoadArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RampArg {
    /// Ramp closed-loop concurrency.
    Concurrency,
    /// Ramp the open-loop rate.
    Rate,
}

#[derive(Args, Debug, Clone)]
pub struct TuneArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// What the ramp changes.
    #[arg(long, value_enum, default_value = "concurrency")]
    pub ramp: RampArg,
    /// First level (concurrency or requests/s) [default: 1 or 1000]
    #[arg(long)]
    pub start: Option<f64>,
    /// Each level = previous x factor.
    #[arg(long, default_value_t = 2.0)]
    pub factor: f64,
    /// Last level [default: 1024 or 1000000]
    #[arg(long)]
    pub max: Option<f64>,
    /// Seconds per ramp step.
    #[arg(long, default_value_t = 10)]
    pub step_secs: u64,
    /// Seconds to hold at the peak.
    #[arg(long, default_value_t = 30)]
    pub hold_secs: u64,
    /// A step must raise throughput by this percentage to count as rising.
    #[arg(long, default_value_t = 5.0)]
    pub gain_pct: f64,
    /// Non-rising steps tolerated before declaring the peak.
    #[arg(long, default_value_t = 1)]
    pub patience: usize,
    /// A step with p99 above this (µs) is past the peak.
    #[arg(long)]
    pub p99_max_us: Option<u64>,
    /// A step with more errors than this ratio is past the peak.
    #[arg(long, default_value_t = 0.001)]
    pub error_ratio_max: f64,
}

impl TuneArgs {
    /// The ramp levels and detection rule.
    ///
    /// # Errors
    /// Inconsistent start/factor/max.
    pub fn plan(&self) -> Result<RampPlan> {
        let (start, max) = match self.ramp {
            RampArg::Concurrency => (self.start.unwrap_or(1.0), self.max.unwrap_or(1024.0)),
            RampArg::Rate => (
                self.start.unwrap_or(1000.0),
                self.max.unwrap_or(1_000_000.0),
            ),
        };
        if !(start > 0.0 && self.factor > 1.0 && max >= start) {
            bail!(
                "ramp needs start > 0, factor > 1, max >= start (got {start}, {}, {max})",
                self.factor
            );
        }
        let mut levels: Vec<Load> = Vec::new();
        for level in geometric_levels(start, self.factor, max) {
            let load = match self.ramp {
                RampArg::Concurrency => Load::Concurrency {
                    requests: level.round().max(1.0) as usize,
                },
                RampArg::Rate => Load::Rate {
                    requests_per_s: level.round(),
                },
            };
            if levels.last() != Some(&load) {
                levels.push(load);
            }
        }
        Ok(RampPlan {
            levels,
            step_s: self.step_secs.max(1),
            hold_s: self.hold_secs,
            rule: PeakRule {
                gain_pct_min: self.gain_pct,
                patience: self.patience.max(1),
                latency_us_p99_max: self.p99_max_us,
                error_ratio_max: self.error_ratio_max,
            },
        })
    }
}

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// Reports written by run or tune.
    #[arg(required = true, num_args = 2..)]
    pub reports: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct SampleArgs {
    /// Seconds to sample.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Also report this process's CPU.
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// Find the broker as the process listening on this TCP port.
    #[arg(long)]
    pub port: Option<u16>,
}

fn settings(args: &LoadArgs, workload: Workload) -> Settings {
    let mut settings = Settings::new(workload);
    if let Some(out) = &args.output.out {
        settings.out_dir.clone_from(out);
    }
    settings.launch.clone_from(&args.output.launch);
    if let Some(command) = &args.output.broker_cmd {
        settings.broker_command.clone_from(command);
    }
    settings.broker_pid = args.output.broker_pid;
    settings.quiet = args.output.quiet;
    settings
}

fn finish(finished: &workflow::Finished) {
    for line in workflow::summary_lines(&finished.report) {
        println!("{line}");
    }
    println!("report: {}", finished.json_path.display());
    println!("plot:   {}", finished.svg_path.display());
}

/// Runs the parsed command line.
///
/// # Errors
/// Anything that stops the command; printed by `main`.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => finish(&workflow::execute(settings(
            &cli.run,
            cli.run.workload.workload(),
        ))?),
        Some(Command::Run(args)) => finish(&workflow::execute(settings(
            &args,
            args.workload.workload(),
        ))?),
        Some(Command::Tune(args)) => {
            let mut settings = settings(&args.load, args.load.workload.workload());
            settings.ramp = Some(args.plan()?);
            finish(&workflow::execute(settings)?);
        }
        Some(Command::Compare(args)) => {
            let mut reports = Vec::new();
            for path in &args.reports {
                let name = path.file_stem().map_or_else(
                    || path.display().to_string(),
                    |s| s.to_string_lossy().into_owned(),
                );
                reports.push((name, Report::read(path).map_err(anyhow::Error::msg)?));
            }
            print!("{}", crate::compare::render_comparison(&reports));
        }
        Some(Command::Sample(args)) => sample(&args),
    }
    Ok(())
}

fn sample(args: &SampleArgs) {
    let pid = args
        .broker_pid
        .or_else(|| args.port.and_then(crate::sampler::find_listening_pid));
    let mut sampler = crate::sampler::HostSampler::new(pid);
    let _baseline = sampler.sample();
    for _ in 0..args.seconds {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if let Some(second) = sampler.sample() {
            println!("{}", crate::sampler::describe(&second));
        }
    }
}
