//! The command line: one binary, `pagos-hotspot`, with a subcommand per job.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "pagos-hotspot",
    version,
    about = "Sell WiFi access on MikroTik hotspots"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies pending migrations first).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Create an operator (super_admin) account.
    CreateSuperAdmin {
        #[arg(long)]
        email: String,
        /// The password; prefer the environment variable so it stays out of shell history.
        #[arg(long, env = "SUPER_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Fake Conekta, Mercado Pago and Telegram APIs on one port (prints the base URL on stdout).
    SandboxGateways(crate::sandbox::gateways::SandboxGatewaysArgs),
    /// The RouterOS API simulator (prints `listening on ADDR` on stdout).
    RouterosSim(crate::sandbox::routeros_sim::SimArgs),
    /// Everything in one process on an SQLite file (simulated router, sandbox gateways, seed
    /// data, captive portal at /portal/); prints the admin login, the API key and `curl` commands.
    Demo(crate::tools::demo::DemoArgs),
    /// Load benchmark: purchases over HTTP against simulated routers and sandbox gateways.
    Bench(crate::tools::bench::BenchArgs),
    /// Import an installation of the original system from its PostgreSQL database (needs
    /// `MASTER_KEY`; writes to `DATABASE_URL`); prints a report. See docs/import.md.
    ImportOriginal(crate::tools::import::ImportArgs),
}

/// Runs the parsed command; the exit status follows `sysexits`-like conventions
/// (2 for configuration errors).
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve => serve().await,
        Command::RouterosSim(args) => {
            crate::telemetry::init_stderr();
            report(
                crate::sandbox::routeros_sim::run(args)
                    .await
                    .map_err(Into::into),
            )
        }
        Command::Demo(args) => {
            crate::telemetry::init_stderr();
            report(crate::tools::demo::run(args).await)
        }
        Command::Bench(args) => {
            crate::telemetry::init_stderr();
            report(crate::tools::bench::run(args).await)
        }
        Command::ImportOriginal(args) => {
            crate::telemetry::init_stderr();
            report(crate::tools::import::run(args).await)
        }
        Command::SandboxGateways(args) => {
            crate::telemetry::init_stderr();
            report(sandbox_gateways(args).await)
        }
        Command::Migrate => {
            crate::telemetry::init("pretty");
            let url = database_url();
            match async {
                let db = crate::db::connect(&url).await?;
                crate::db::migrate(&db).await
            }
            .await
            {
                Ok(()) => {
                    println!("migrations applied");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("migrate failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::CreateSuperAdmin { email, password } => {
            crate::telemetry::init("pretty");
            let url = database_url();
            let result = async {
                let db = crate::db::connect(&url).await?;
                crate::db::migrate(&db).await?;
                crate::startup::create_super_admin(&db, &email, &password).await
            }
            .await;
            match result {
                Ok(user) => {
                    println!("super_admin {} created (id {})", user.email, user.id);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("create-super-admin failed: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| crate::config::DEFAULT_DATABASE_URL.to_string())
}

async fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&config.log_format);
    let bind = config.bind_addr;
    let app = match crate::startup::Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "start-up failed");
            eprintln!("start-up failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, port = app.port(), "listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}

/// Prints a tool's failure on stderr and maps it to an exit status.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line on stdout at once (tests read the bound address from it).
fn announce(line: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

async fn sandbox_gateways(
    args: crate::sandbox::gateways::SandboxGatewaysArgs,
) -> anyhow::Result<()> {
    use crate::sandbox::gateways::{SandboxConfig, SandboxGateways};
    let handle = SandboxGateways::start(SandboxConfig::from(&args))?;
    announce(&handle.base_url())?;
    tokio::signal::ctrl_c().await?;
    handle.stop().await;
    Ok(())
}
