//! The `pagos-hotspot` binary: a thin CLI over the library.

use std::io::Write as _;

use clap::{Parser, Subcommand};
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxGatewaysArgs};

#[derive(Parser)]
#[command(name = "pagos-hotspot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fake Conekta, Mercado Pago and Telegram APIs on one port (prints the base URL on stdout).
    SandboxGateways(SandboxGatewaysArgs),
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    init_tracing();
    let cli = Cli::parse();
    match cli.command {
        Command::SandboxGateways(args) => {
            let handle = SandboxGateways::start(SandboxConfig::from(&args))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", handle.base_url())?;
            out.flush()?;
            drop(out);
            tokio::signal::ctrl_c().await?;
            handle.stop().await;
        }
    }
    Ok(())
}
