use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: see README → Benchmarks ("what each change bought").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    // A missing .env is fine; a malformed one is reported by the settings that need it.
    let _ = dotenvy::dotenv();
    pagos_hotspot::cli::run(pagos_hotspot::cli::Cli::parse()).await
}
