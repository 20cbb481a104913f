//! `tuning check [--json] [--explain] [--apply] [--broker ours|apache] [--store-path P]`.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use tuning::{check_host, BrokerKind, CheckOptions, HostRoot};

#[derive(Parser)]
#[command(
    name = "tuning",
    about = "Audit this host against the broker tuning playbooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print current value, recommended value and the change command per playbook item.
    /// Changes nothing unless --apply is given.
    Check(CheckArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum BrokerArg {
    /// This project's broker (O_DIRECT commit log on glommio/io_uring).
    Ours,
    /// The Apache (Java) broker (mmap + page cache commit log).
    Apache,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also print why, how to persist, and the playbook section for each item.
    #[arg(long)]
    explain: bool,
    /// Make the changes marked safe (runtime sysctl/sysfs writes only), printing each.
    #[arg(long)]
    apply: bool,
    /// Which broker the host is prepared for.
    #[arg(long, value_enum, default_value = "ours")]
    broker: BrokerArg,
    /// A path on the commit-log filesystem (selects the disk and mount to audit).
    #[arg(long, default_value = ".")]
    store_path: String,
    /// Read /proc and /sys under this directory instead of / (fixtures, tests).
    #[arg(long, default_value = "/")]
    root: String,
}

fn main() -> Result<()> {
    let Cli { command } = Cli::parse();
    let Command::Check(args) = command;
    let root = HostRoot::at(&args.root);
    let store_path = if root.is_system() {
        std::fs::canonicalize(&args.store_path)
            .with_context(|| format!("store path {}", args.store_path))?
            .to_string_lossy()
            .into_owned()
    } else {
        args.store_path.clone()
    };
    let options = CheckOptions {
        broker: match args.broker {
            BrokerArg::Ours => BrokerKind::Ours,
            BrokerArg::Apache => BrokerKind::Apache,
        },
        store_path,
    };
    let report = check_host(&root, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", tuning::render::render_text(&report, args.explain));
    }
    if !args.apply {
        return Ok(());
    }
    let applied = tuning::apply::apply(&root, &report.findings);
    if applied.is_empty() {
        eprintln!("--apply: nothing to change");
    }
    let mut failed = 0;
    for result in &applied {
        match &result.error {
            None => eprintln!("applied  {:<28} $ {}", result.item, result.command),
            Some(error) => {
                failed += 1;
                eprintln!(
                    "FAILED   {:<28} $ {}  ({error})",
                    result.item, result.command
                );
            }
        }
    }
    eprintln!("--apply changes are runtime only; see each item's `persist` (--explain)");
    if failed > 0 {
        bail!("{failed} of {} changes failed", applied.len());
    }
    Ok(())
}
