//! `loadgen`: see `loadgen --help` and the crate docs.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    loadgen::cli::run(loadgen::cli::Cli::parse())
}
