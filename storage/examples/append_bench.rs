//! Append throughput and latency of one shard's store, against the raw disk.
//!
//! ```text
//! cargo run --release -p storage --example append_bench -- \
//!     --flush sync|async --writers 64 --size 1024 --seconds 10
//! ```
//!
//! Prints one JSON line: `msgs_per_s`, `mb_per_s` (message bodies, 10^6 bytes), latency
//! percentiles of `append` in µs, `bytes_per_fsync`, and, measured in the same run, the raw
//! sequential `O_DIRECT` write rate of the same disk (`disk_mb_per_s`) and
//! `ratio = mb_per_s / disk_mb_per_s`.
//!
//! Segment rolls: `rolls` counts the segments the run moved into; `roll_p999_us` /
//! `roll_max_us` cover appends that started within [`ROLL_WINDOW_US`] of a roll (the first
//! append seen in a new segment), `other_p999_us` / `other_max_us` the rest, and
//! `max_us_by_second` the worst append started in each second of the run (a pre-write of the
//! next segment shows up there even when it does not coincide with a roll); `segment_waits`
//! counts appends that found the next segment not prepared yet.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use glommio::io::OpenOptions;
use hdrhistogram::Histogram;
use storage::{FlushMode, MessageToStore, Store, StoreConfig};

/// Appends starting this close (before or after) to a roll count as "at a roll".
const ROLL_WINDOW_US: u64 = 50_000;

/// One append: start (µs since the run started), latency (µs), local segment number.
type Sample = (u64, u64, u64);

#[derive(Parser, Debug)]
struct Args {
    /// sync or async.
    #[arg(long, default_value = "sync")]
    flush: String,
    /// Concurrent appenders (closed loop, one append in flight each).
    #[arg(long, default_value_t = 64)]
    writers: u32,
    /// Body size in bytes.
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Store directory (must be on a file system with O_DIRECT; not tmpfs). Removed after.
    #[arg(long, default_value = "append-bench-store")]
    dir: PathBuf,
    /// Segment size in MiB.
    #[arg(long, default_value_t = 1024)]
    segment_mib: u64,
    /// Queues the writers spread over.
    #[arg(long, default_value_t = 8)]
    queues: u32,
    /// Seconds of the raw O_DIRECT measurement.
    #[arg(long, default_value_t = 5)]
    raw_seconds: u64,
}

fn main() -> anyhow_free::Result {
    let args = Args::parse();
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| e.to_string())?;
    glommio::LocalExecutorBuilder::new(glommio::Placement::Fixed(0))
        .name("append-bench")
        .make()
        .map_err(|e| e.to_string())?
        .run(bench(args))
}

mod anyhow_free {
    pub type Result = std::result::Result<(), String>;
}

async fn bench(args: Args) -> anyhow_free::Result {
    let flush = match args.flush.as_str() {
        "sync" => FlushMode::Sync,
        "async" => FlushMode::async_default(),
        other => return Err(format!("--flush must be sync or async, not {other}")),
    };
    let config = StoreConfig {
        root_dir: args.dir.join("store"),
        segment_size_bytes: args.segment_mib << 20,
        flush,
        index_enable: false,
        clean_interval_ms: 3_600_000,
        ..StoreConfig::default()
    };
    let store = Store::open(config).await.map_err(|e| e.to_string())?;
    let body = Bytes::from(vec![b'x'; args.size]);
    let born: SocketAddr = "127.0.0.1:40000".parse().map_err(|_| "addr")?;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let segment_size = args.segment_mib << 20;
    let mut tasks = Vec::new();
    for writer in 0..args.writers {
        let store = Rc::clone(&store);
        let body = body.clone();
        let queue_id = writer % args.queues.max(1);
        tasks.push(glommio::spawn_local(async move {
            let mut samples: Vec<Sample> = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let message = MessageToStore {
                    topic: "BenchmarkTest".to_owned(),
                    queue_id,
                    flag: 0,
                    sys_flag: 0,
                    born_timestamp_ms: 0,
                    born_host: born,
                    reconsume_times: 0,
                    prepared_transaction_offset: 0,
                    body: body.clone(),
                    properties: String::new(),
                };
                let at = Instant::now();
                match store.append(message).await {
                    Ok(result) => {
                        let micros = u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX);
                        let start_us =
                            u64::try_from((at - started).as_micros()).unwrap_or(u64::MAX);
                        let local = result.physical_offset & ((1 << 48) - 1);
                        samples.push((start_us, micros.max(1), local / segment_size));
                    }
                    Err(_) => errors += 1,
                }
            }
            (samples, errors)
        }));
    }
    let mut samples: Vec<Sample> = Vec::new();
    let mut errors = 0u64;
    for task in tasks {
        let (s, e) = task.await;
        samples.extend(s);
        errors += e;
    }
    let count = samples.len() as u64;
    let latency = split_by_roll(&mut samples, args.seconds)?;
    let elapsed = started.elapsed().as_secs_f64();
    let stats = store.stats();
    store.shutdown().await.map_err(|e| e.to_string())?;
    drop(store);
    let _ = std::fs::remove_dir_all(args.dir.join("store"));
    let disk_mb_per_s = raw_direct_write(&args.dir, args.raw_seconds).await?;
    let _ = std::fs::remove_dir_all(&args.dir);
    let msgs_per_s = count as f64 / elapsed;
    let mb_per_s = msgs_per_s * args.size as f64 / 1e6;
    let bytes_per_fsync = stats.bytes_per_fsync;
    let histogram = &latency.all;
    println!(
        "{}",
        serde_json::json!({
            "flush": args.flush,
            "writers": args.writers,
            "size": args.size,
            "seconds": args.seconds,
            "msgs": count,
            "errors": errors,
            "msgs_per_s": msgs_per_s.round(),
            "mb_per_s": (mb_per_s * 10.0).round() / 10.0,
            "p50_us": histogram.value_at_quantile(0.5),
            "p99_us": histogram.value_at_quantile(0.99),
            "p999_us": histogram.value_at_quantile(0.999),
            "max_us": histogram.max(),
            "rolls": latency.rolls,
            "roll_p999_us": latency.roll.value_at_quantile(0.999),
            "roll_max_us": latency.roll.max(),
            "other_p999_us": latency.other.value_at_quantile(0.999),
            "other_max_us": latency.other.max(),
            "max_us_by_second": latency.max_us_by_second,
            "segment_waits": stats.segment_waits,
            "fsyncs": stats.fsyncs,
            "writes": stats.writes,
            "bytes_per_fsync": bytes_per_fsync,
            "bytes_per_write": stats.bytes_written / stats.writes.max(1),
            "disk_mb_per_s": (disk_mb_per_s * 10.0).round() / 10.0,
            "ratio": ((mb_per_s / disk_mb_per_s) * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}

/// Latency of the run, all appends and split by nearness to a segment roll.
struct Latency {
    all: Histogram<u64>,
    roll: Histogram<u64>,
    other: Histogram<u64>,
    rolls: usize,
    max_us_by_second: Vec<u64>,
}

fn split_by_roll(samples: &mut [Sample], seconds: u64) -> Result<Latency, String> {
    let histogram =
        || Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string());
    let mut latency = Latency {
        all: histogram()?,
        roll: histogram()?,
        other: histogram()?,
        rolls: 0,
        max_us_by_second: vec![0; usize::try_from(seconds).unwrap_or(0) + 1],
    };
    samples.sort_unstable();
    // A roll happens when the first append into a new segment starts.
    let mut roll_times = Vec::new();
    let mut highest = samples.first().map_or(0, |s| s.2);
    for &(start_us, _, segment) in samples.iter() {
        if segment > highest {
            highest = segment;
            roll_times.push(start_us);
        }
    }
    latency.rolls = roll_times.len();
    for &(start_us, micros, _) in samples.iter() {
        latency.all.record(micros).map_err(|e| e.to_string())?;
        let near = roll_times
            .iter()
            .any(|roll| start_us + ROLL_WINDOW_US >= *roll && start_us <= roll + ROLL_WINDOW_US);
        let target = if near {
            &mut latency.roll
        } else {
            &mut latency.other
        };
        target.record(micros).map_err(|e| e.to_string())?;
        let second = usize::try_from(start_us / 1_000_000).unwrap_or(usize::MAX);
        if let Some(max) = latency.max_us_by_second.get_mut(second) {
            *max = (*max).max(micros);
        }
    }
    Ok(latency)
}

/// Sequential 1 MiB `O_DIRECT` writes (4 in flight) into a preallocated file for `seconds`,
/// then one fdatasync; returns 10^6 bytes per second.
async fn raw_direct_write(dir: &std::path::Path, seconds: u64) -> Result<f64, String> {
    const CHUNK: usize = 1 << 20;
    const IN_FLIGHT: u64 = 4;
    let path = dir.join("raw-direct-write");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .dma_open(&path)
        .await
        .map_err(|e| e.to_string())?;
    let file = Rc::new(file);
    let size = 8u64 << 30;
    file.pre_allocate(size, false)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for lane in 0..IN_FLIGHT {
        let file = Rc::clone(&file);
        tasks.push(glommio::spawn_local(async move {
            let mut written = 0u64;
            let mut pos = lane * CHUNK as u64;
            while Instant::now() < deadline && pos + CHUNK as u64 <= size {
                let mut buffer = file.alloc_dma_buffer(CHUNK);
                buffer.as_bytes_mut().fill(b'r');
                if file.write_at(buffer, pos).await.is_err() {
                    break;
                }
                written += CHUNK as u64;
                pos += IN_FLIGHT * CHUNK as u64;
            }
            written
        }));
    }
    let mut written = 0u64;
    for task in tasks {
        written += task.await;
    }
    file.fdatasync().await.map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(written as f64 / elapsed / 1e6)
}
