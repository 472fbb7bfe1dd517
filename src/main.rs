//! pagos-hotspot command line.

use clap::{Parser, Subcommand};
use pagos_hotspot::sandbox::routeros_sim::{self, SimArgs};

#[derive(Debug, Parser)]
#[command(name = "pagos-hotspot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the RouterOS API simulator (prints `listening on ADDR` on stdout).
    RouterosSim(SimArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::RouterosSim(args) => routeros_sim::run(args).await?,
    }
    Ok(())
}
