use std::process::ExitCode;

use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    // A missing .env is fine; a malformed one is reported by the settings that need it.
    let _ = dotenvy::dotenv();
    pagos_hotspot::cli::run(pagos_hotspot::cli::Cli::parse()).await
}
