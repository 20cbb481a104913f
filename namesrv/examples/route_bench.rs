//! Route-query throughput and latency of the name server.
//!
//! ```text
//! cargo run --release -p namesrv --example route_bench [-- --connections 16 --topics 100 \
//!     --brokers 10 --duration-secs 10 [--binary] [--address 127.0.0.1:9876]]
//! ```
//!
//! Starts a name server in-process on port 0 (its own executor thread) unless `--address`
//! names one, registers `--brokers` masters that each carry all `--topics` topics, then
//! runs `--connections` closed-loop clients on one glommio executor, each asking
//! GET_ROUTEINFO_BY_TOPIC for the topics in turn (JSON headers, like the Java client;
//! `--binary` for ROCKETMQ headers). Prints QPS and latency percentiles, then one JSON line.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use clap::Parser;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;
use protocol::body::route::{body_crc32, JsonBody, RegisterBrokerBody, TopicConfig};
use protocol::code::{request as req, response as resp};
use protocol::frame::{self, FrameCheck};
use protocol::{RemotingCommand, SerializeType};

#[derive(Debug, Parser)]
struct Args {
    /// Concurrent client connections (one request in flight each).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Topics queried in turn.
    #[arg(long, default_value_t = 100)]
    topics: usize,
    /// Brokers registered; every topic has queues on every broker.
    #[arg(long, default_value_t = 10)]
    brokers: usize,
    /// Measured time.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured time before it.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Use ROCKETMQ binary headers instead of JSON.
    #[arg(long)]
    binary: bool,
    /// An already running name server (default: start one in-process).
    #[arg(long)]
    address: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (server, address) = match args.address {
        Some(address) => (None, address),
        None => {
            let config = namesrv::NamesrvConfig {
                listen_port: 0,
                ..namesrv::NamesrvConfig::default()
            };
            let handle = namesrv::spawn(config)?;
            let address = handle.local_addr();
            (Some(handle), address)
        }
    };
    let serialize_type = if args.binary {
        SerializeType::RocketMq
    } else {
        SerializeType::Json
    };
    let client = LocalExecutorBuilder::new(Placement::Unbound)
        .name("route-bench")
        .io_memory(namesrv::EXECUTOR_IO_MEMORY_BYTES)
        .spawn(move || async move { bench(&args, address, serialize_type).await })
        .map_err(|error| anyhow!("client executor: {error}"))?;
    let report = client
        .join()
        .map_err(|error| anyhow!("client executor: {error}"))??;
    println!("{report}");
    if let Some(server) = server {
        server.shutdown()?;
    }
    Ok(())
}

fn topic_name(index: usize) -> String {
    format!("BenchTopic-{index:04}")
}

async fn bench(
    args: &Args,
    address: SocketAddr,
    serialize_type: SerializeType,
) -> anyhow::Result<String> {
    // Registrations stay alive while their connections are open.
    let mut registrations = Vec::new();
    for broker in 0..args.brokers {
        registrations.push(register_broker(address, broker, args.topics).await?);
    }
    let route_bytes = route_size(address, serialize_type).await?;

    let histogram = Rc::new(RefCell::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup_secs);
    let stop_at = measure_from + Duration::from_secs(args.duration_secs);
    let mut tasks = Vec::new();
    for connection in 0..args.connections {
        let histogram = histogram.clone();
        let topics = args.topics;
        tasks.push(glommio::spawn_local(async move {
            query_loop(
                address,
                connection,
                topics,
                serialize_type,
                measure_from,
                stop_at,
                &histogram,
            )
            .await
        }));
    }
    for task in tasks {
        task.await?;
    }
    drop(registrations);
    let histogram = histogram.borrow();
    let requests = histogram.len();
    #[allow(clippy::cast_precision_loss)]
    let qps = requests as f64 / args.duration_secs as f64;
    let percentile = |q: f64| histogram.value_at_quantile(q);
    println!(
        "route_bench: connections={} topics={} brokers={} header={:?} route_bytes={route_bytes} \
         duration={}s requests={requests}",
        args.connections, args.topics, args.brokers, serialize_type, args.duration_secs
    );
    println!(
        "route_bench: qps={qps:.0} p50={}us p90={}us p99={}us p999={}us max={}us",
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        percentile(0.999),
        histogram.max()
    );
    Ok(format!(
        concat!(
            r#"{{"bench":"route_bench","connections":{},"topics":{},"brokers":{},"#,
            r#""header":"{:?}","route_bytes":{},"duration_secs":{},"requests":{},"qps":{:.0},"#,
            r#""latency_us_p50":{},"latency_us_p90":{},"latency_us_p99":{},"#,
            r#""latency_us_p999":{},"latency_us_max":{}}}"#
        ),
        args.connections,
        args.topics,
        args.brokers,
        serialize_type,
        route_bytes,
        args.duration_secs,
        requests,
        qps,
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        percentile(0.999),
        histogram.max()
    ))
}

/// One connection with a one-frame reader.
struct Connection {
    stream: TcpStream,
    input: Vec<u8>,
    filled: usize,
    output: BytesMut,
}

impl Connection {
    async fn open(address: SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|error| anyhow!("connect {address}: {error}"))?;
        stream
            .set_nodelay(true)
            .map_err(|error| anyhow!("nodelay: {error}"))?;
        Ok(Connection {
            stream,
            input: vec![0; 64 * 1024],
            filled: 0,
            output: BytesMut::with_capacity(4096),
        })
    }

    async fn call(&mut self, request: &RemotingCommand) -> anyhow::Result<RemotingCommand> {
        self.output.clear();
        request.encode(&mut self.output)?;
        self.stream.write_all(&self.output).await?;
        loop {
            match frame::check(&self.input[..self.filled], usize::MAX >> 1)? {
                FrameCheck::Complete { frame_bytes } => {
                    let (response, _) =
                        RemotingCommand::decode(&self.input[..frame_bytes], usize::MAX >> 1)?;
                    self.input.copy_within(frame_bytes..self.filled, 0);
                    self.filled -= frame_bytes;
                    return Ok(response);
                }
                FrameCheck::Incomplete { frame_bytes } => {
                    let needed = frame_bytes.unwrap_or(0).max(self.filled + 1);
                    if self.input.len() < needed {
                        self.input.resize(needed, 0);
                    }
                }
            }
            let read = self.stream.read(&mut self.input[self.filled..]).await?;
            if read == 0 {
                bail!("the name server closed the connection");
            }
            self.filled += read;
        }
    }
}

async fn register_broker(
    address: SocketAddr,
    broker: usize,
    topics: usize,
) -> anyhow::Result<Connection> {
    let mut body = RegisterBrokerBody::default();
    let wrapper = &mut body.topic_config_serialize_wrapper;
    wrapper.data_version.counter = 1;
    for index in 0..topics {
        let config = TopicConfig::new(topic_name(index), 8, 6);
        wrapper
            .topic_config_table
            .insert(config.topic_name.clone(), config);
    }
    let bytes = body.to_bytes()?;
    let mut request = RemotingCommand::request(req::REGISTER_BROKER, 1, SerializeType::Json);
    let broker_address = format!("127.0.0.1:{}", 20_000 + broker);
    let fields = request.ext_mut();
    fields.insert("brokerName", format!("broker-{broker}"));
    fields.insert("brokerAddr", broker_address.clone());
    fields.insert("clusterName", "BenchCluster");
    fields.insert("haServerAddr", broker_address);
    fields.insert("brokerId", "0");
    fields.insert("bodyCrc32", body_crc32(&bytes).to_string());
    let request = request.with_body(bytes);
    let mut connection = Connection::open(address).await?;
    let response = connection.call(&request).await?;
    if response.code != resp::SUCCESS {
        bail!(
            "register broker-{broker}: {} {:?}",
            response.code,
            response.remark
        );
    }
    Ok(connection)
}

fn route_request(topic: &str, opaque: i32, serialize_type: SerializeType) -> RemotingCommand {
    let mut request = RemotingCommand::request(req::GET_ROUTEINFO_BY_TOPIC, opaque, serialize_type);
    request.ext_mut().insert("topic", topic);
    request
}

async fn route_size(address: SocketAddr, serialize_type: SerializeType) -> anyhow::Result<usize> {
    let mut connection = Connection::open(address).await?;
    let response = connection
        .call(&route_request(&topic_name(0), 1, serialize_type))
        .await?;
    if response.code != resp::SUCCESS {
        bail!("route query: {} {:?}", response.code, response.remark);
    }
    Ok(response.body.len())
}

async fn query_loop(
    address: SocketAddr,
    connection_index: usize,
    topics: usize,
    serialize_type: SerializeType,
    measure_from: Instant,
    stop_at: Instant,
    histogram: &RefCell<Histogram<u64>>,
) -> anyhow::Result<()> {
    let mut connection = Connection::open(address).await?;
    let requests: Vec<RemotingCommand> = (0..topics)
        .map(|index| route_request(&topic_name(index), 0, serialize_type))
        .collect();
    let mut next = connection_index % topics.max(1);
    let mut opaque = 0i32;
    loop {
        let sent_at = Instant::now();
        if sent_at >= stop_at {
            return Ok(());
        }
        let mut request = requests[next].clone();
        opaque = opaque.wrapping_add(1);
        request.opaque = opaque;
        let response = connection.call(&request).await.context("route query")?;
        if response.code != resp::SUCCESS || response.opaque != opaque {
            bail!(
                "route query answered {} {:?}",
                response.code,
                response.remark
            );
        }
        if sent_at >= measure_from {
            let micros = u64::try_from(sent_at.elapsed().as_micros()).unwrap_or(u64::MAX);
            histogram.borrow_mut().saturating_record(micros.max(1));
        }
        next = (next + 1) % topics;
    }
}
