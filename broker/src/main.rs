//! The `broker` binary: flags and `broker.conf` → [`broker::BrokerConfig`] → [`broker::run`]
//! until SIGINT or SIGTERM.

use anyhow::Context;
use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let flags = broker::config::Flags::parse();
    let config = broker::BrokerConfig::from_flags(&flags).context("invalid configuration")?;
    let mut signals = Signals::new([SIGINT, SIGTERM]).context("cannot install signal handlers")?;
    let (stop, stopped) = flume::bounded(1);
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = stop.send(());
        }
    });
    broker::run(config, &stopped).context("broker failed")
}
