//! `pagos-hotspot bench`: a load benchmark of the purchase path over real HTTP.
//!
//! One process plays the outside world: `--routers` RouterOS simulators (one listener each, with
//! `--router-latency-ms` per reply and the `api` service's max-sessions enforced), the sandbox
//! gateways (`--gateway-latency-ms` per answer) and `--concurrency` captive portals. The service
//! itself runs as a child process (`pagos-hotspot serve`, the same binary) so that its CPU time
//! and peak RSS are measured on their own, apart from the load generator and the simulators.
//!
//! Each portal loops for `--duration` seconds: it makes a fresh Mercado Pago card token (APRO,
//! so every purchase is an independent, approved payment; the token is fetched while the
//! previous purchase runs, as a browser does before posting) and posts
//! `/api/v1/payments/pagar-mercado-pago` with the API key of the next router (round-robin).
//! Only the purchase request is timed.
//!
//! The report is a human table and, with `--json`, one JSON object on the last stdout line.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::sandbox::gateways::{SandboxConfig, SandboxGateways};
use crate::sandbox::routeros_sim::{RouterSim, SimConfig};

const ROUTER_USER: &str = "api";
const ROUTER_PASSWORD: &str = "bench-router-pass";
const MP_ACCESS_TOKEN: &str = "TEST-bench-access-token";
const MP_PUBLIC_KEY: &str = "TEST-bench-public-key";
const PRICE: &str = "15.00";
/// `/proc/<pid>/stat` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const USER_HZ: f64 = 100.0;

/// `pagos-hotspot bench` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Simulated routers (one listener each; purchases are spread round-robin).
    #[arg(long, default_value_t = 1)]
    pub routers: usize,
    /// Concurrent captive portals.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Latency of every router reply (the API round trip), in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub router_latency_ms: u64,
    /// The routers' own time per command, in milliseconds: each router works on one command
    /// at a time for this long (its CPU), before the reply's latency. 0: commands only wait
    /// out the latency, as many at once as are sent.
    #[arg(long, default_value_t = 0.0)]
    pub router_service_ms: f64,
    /// Latency of every gateway answer, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub gateway_latency_ms: u64,
    /// How long the portals keep buying, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Print one JSON object with the results on the last line.
    #[arg(long)]
    pub json: bool,
    /// Baseline: a new RouterOS session and login for every command, as the original did.
    #[arg(long)]
    pub connect_per_request: bool,
    /// The service's `ROUTER_PIPELINE_DEPTH`: the most commands in flight at once on each
    /// router's one session, with an adaptive window below it (1 = strictly one at a time).
    /// Default: the service's default in broker mode, 1 with `--connect-per-request` (where
    /// anything else is an error).
    #[arg(long)]
    pub router_pipeline_depth: Option<usize>,
    /// The simulated routers' `api` max-sessions.
    #[arg(long, default_value_t = 20)]
    pub max_sessions: usize,
    /// The service's `ROUTER_MAILBOX_CAPACITY` (default: the service's own default).
    #[arg(long)]
    pub mailbox_capacity: Option<usize>,
    /// The service's `HTTP_WORKERS` (default: one per core).
    #[arg(long)]
    pub http_workers: Option<usize>,
    /// A portal whose purchase failed waits this long before it tries again, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub retry_pause_ms: u64,
    /// Database for the service (default: a fresh SQLite file in a temporary folder). The
    /// benchmark adds a company, its routers and plans to it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Recovery instead of throughput: a restart while idle, then an outage of this many seconds
    /// while the portals keep buying (see `outage.rs`). 0: the throughput run.
    #[arg(long, default_value_t = 0)]
    pub outage_secs: u64,
}

impl BenchArgs {
    /// The `ROUTER_PIPELINE_DEPTH` the service runs with.
    pub fn pipeline_depth(&self) -> usize {
        match self.router_pipeline_depth {
            Some(d) => d,
            None if self.connect_per_request => 1,
            None => crate::routeros::settings::DEFAULT_PIPELINE_DEPTH,
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.routers == 0 || self.routers > 10_000 {
            bail!("--routers must be between 1 and 10000");
        }
        if self.concurrency == 0 || self.concurrency > 10_000 {
            bail!("--concurrency must be between 1 and 10000");
        }
        if !(self.duration.is_finite() && self.duration > 0.0 && self.duration <= 86_400.0) {
            bail!("--duration must be a positive number of seconds (at most 86400)");
        }
        if !(self.router_service_ms.is_finite()
            && (0.0..=10_000.0).contains(&self.router_service_ms))
        {
            bail!("--router-service-ms must be between 0 and 10000");
        }
        if self.max_sessions == 0 {
            bail!("--max-sessions must be at least 1");
        }
        if !(1..=crate::config::MAX_PIPELINE_DEPTH).contains(&self.pipeline_depth()) {
            bail!(
                "--router-pipeline-depth must be between 1 and {}",
                crate::config::MAX_PIPELINE_DEPTH
            );
        }
        if self.connect_per_request && self.pipeline_depth() > 1 {
            bail!("--router-pipeline-depth applies to the broker's sessions; it cannot be combined with --connect-per-request");
        }
        if self.mailbox_capacity == Some(0) || self.http_workers == Some(0) {
            bail!("--mailbox-capacity and --http-workers must be at least 1");
        }
        Ok(())
    }
}

mod drive;
mod outage;
mod report;
mod threads;
mod world;

use drive::drive;
use report::print_report;
use world::{log_tail, seed, start_service};

/// One seeded router: where its portals post, and what they buy.
pub(super) struct Target {
    pub(super) api_key: String,
    pub(super) product_id: i32,
}

/// What the portals observed.
#[derive(Default)]
pub(super) struct Observed {
    /// Latency of each successful purchase, in milliseconds.
    pub(super) ok_ms: Vec<f64>,
    /// Latency of each `RouterBusy` answer, in milliseconds.
    pub(super) busy_ms: Vec<f64>,
    /// Failed purchases by kind.
    pub(super) errors: BTreeMap<String, u64>,
    /// The first `detail` seen for each kind.
    pub(super) error_details: BTreeMap<String, String>,
}

/// The service under test, a child process.
pub(super) struct Service {
    pub(super) child: tokio::process::Child,
    pub(super) pid: u32,
    pub(super) base: String,
    pub(super) log_path: std::path::PathBuf,
}

/// Runs the benchmark and prints its report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    args.validate()?;
    let tmp = tempfile::Builder::new()
        .prefix("pagos-hotspot-bench-")
        .tempdir()?;
    let database_url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            tmp.path().join("bench.db").display()
        ),
    };

    // The outside world.
    let sb = SandboxGateways::start(SandboxConfig::default())?;
    sb.set_latency(Duration::from_millis(args.gateway_latency_ms));
    let mut sims = Vec::with_capacity(args.routers);
    for _ in 0..args.routers {
        let mut cfg = SimConfig::new(ROUTER_USER, ROUTER_PASSWORD);
        cfg.latency = Duration::from_millis(args.router_latency_ms);
        // A new TCP connection costs a round trip too (what `--connect-per-request` pays).
        cfg.connect_latency = cfg.latency;
        cfg.max_sessions = args.max_sessions;
        let sim = RouterSim::start(cfg).context(
            "starting a router simulator (raise the open-files limit, e.g. `ulimit -n 8192`)",
        )?;
        sim.set_service_time(Duration::from_secs_f64(args.router_service_ms / 1000.0));
        sims.push(sim);
    }

    // The service's secrets, shared with the seeding below.
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let apikey_secret = hex::encode(rand::random::<[u8; 32]>());
    let session_secret = hex::encode(rand::random::<[u8; 32]>());
    let targets = seed(&database_url, &key, &apikey_secret, &sims).await?;

    let mut service = start_service(
        &args,
        tmp.path(),
        &database_url,
        &key,
        &apikey_secret,
        &session_secret,
        &sb,
    )
    .await?;
    if args.outage_secs > 0 {
        let result = outage::outage(&args, &service, &sb, &sims, targets).await;
        let _ = service.child.start_kill();
        let _ = service.child.wait().await;
        drop(sims);
        sb.stop().await;
        let r = result.map_err(|e| {
            let tail = log_tail(&service.log_path);
            e.context(format!("service log tail:\n{tail}"))
        })?;
        outage::print_outage(&args, &r);
        return Ok(());
    }
    let result = drive(&args, &service, &sb, &sims, targets).await;
    let _ = service.child.start_kill();
    let _ = service.child.wait().await;
    drop(sims);
    sb.stop().await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let tail = log_tail(&service.log_path);
            return Err(e.context(format!("service log tail:\n{tail}")));
        }
    };
    print_report(&args, &report)?;
    Ok(())
}

/// Counters of all simulators at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SimTotals {
    pub(super) connections: usize,
    pub(super) rejected: usize,
    pub(super) logins: usize,
    pub(super) commands: usize,
    pub(super) busy: Duration,
    /// The most commands in flight at once on one connection (never reset: over the process).
    pub(super) max_in_flight: usize,
}
