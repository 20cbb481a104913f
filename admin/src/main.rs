//! `mqadmin`: parses the command line, runs one command, prints a table (or `--json`) and
//! exits with the command's exit code (see `mqadmin --help`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = admin::cli::Cli::parse();
    let json = cli.json;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(admin::run(cli)) {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&report.json)?);
            } else {
                print!("{}", report.text);
            }
            Ok(())
        }
        Err(error) => {
            eprintln!("mqadmin: {error}");
            std::process::exit(error.exit_code);
        }
    }
}
