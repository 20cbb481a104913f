//! loadgen: the chapter-7 tuning workflow against any RocketMQ-protocol broker.
//!
//! Chapter 7 of the seed notes tunes by hand: build the environment, ramp the request rate
//! while watching TPS, hold at the TPS peak, and watch top / sar / iostat / netstat to find
//! the bottleneck. `loadgen tune` does exactly that and writes down what it saw.
//!
//! # Layout
//!
//! - [`cli`]: the command line (run / tune / compare / sample); `main.rs` only calls it.
//! - [`config`]: [`config::Workload`], every knob with its default and limit.
//! - [`target`]: the [`target::LoadTarget`] trait and [`target::raw`], its implementation on
//!   the `protocol` codec (pipelined producers, long-polling pull consumers).
//! - [`driver`]: producer/consumer threads, closed-loop windows and open-loop pacing.
//! - [`stats`]: the shared [`stats::Recorder`] and HDR percentiles (µs).
//! - [`sampler`]: /proc readings each second (CPU, run queue, context switches, disks,
//!   network, TCP retransmits, memory, broker and loadgen CPU) and their parsers.
//! - [`peak`]: peak detection, a pure function of the step summaries.
//! - [`bottleneck`]: names the bottleneck from a step summary, with evidence.
//! - [`progress`]: live lines in the Apache benchmark's format, plus µs percentiles.
//! - [`report`]: the JSON report; [`svg`]: the plot; [`compare`]: side-by-side tables.
//! - [`launch`]: `--launch broker.conf`.
//! - [`workflow`]: run and tune end to end.

pub mod bottleneck;
pub mod cli;
pub mod compare;
pub mod config;
pub mod driver;
pub mod launch;
pub mod peak;
pub mod progress;
pub mod report;
pub mod sampler;
pub mod stats;
pub mod svg;
pub mod target;
pub mod workflow;
