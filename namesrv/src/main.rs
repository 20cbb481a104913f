//! `namesrv`: a thin binary over [`namesrv::run`].
//!
//! ```text
//! namesrv [-c namesrv.properties] [--bind 127.0.0.1] [--listen-port 9876]
//! ```
//!
//! Settings come from the defaults, then the properties file, then the flags. Logs go to
//! stderr; `RUST_LOG` filters them (default `info`).

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use glommio::{LocalExecutorBuilder, Placement};
use namesrv::NamesrvConfig;

#[derive(Debug, Parser)]
#[command(name = "namesrv", about = "RocketMQ-compatible name server")]
struct Args {
    /// Properties file (`key=value` lines, like RocketMQ's namesrv.properties).
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Port to listen on [default: 9876].
    #[arg(long = "listen-port")]
    listen_port: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            NamesrvConfig::from_properties(&text)
                .with_context(|| format!("loading {}", path.display()))?
        }
        None => NamesrvConfig::default(),
    };
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(port) = args.listen_port {
        config.listen_port = port;
    }
    config.validate()?;
    let address = config.listen_address();
    let executor = LocalExecutorBuilder::new(Placement::Unbound)
        .name("namesrv")
        .io_memory(namesrv::EXECUTOR_IO_MEMORY_BYTES)
        .spawn(move || async move {
            let listener = glommio::net::TcpListener::bind(address)
                .map_err(|error| anyhow::anyhow!("binding {address}: {error}"))?;
            // The process stops on SIGINT/SIGTERM; there is nothing to flush (the KV file
            // is written on every change).
            namesrv::run(config, listener, futures_lite::future::pending())
                .await
                .map_err(anyhow::Error::from)
        })
        .map_err(|error| anyhow::anyhow!("starting the executor: {error}"))?;
    executor
        .join()
        .map_err(|error| anyhow::anyhow!("executor: {error}"))?
}
