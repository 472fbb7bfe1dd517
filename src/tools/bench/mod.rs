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
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;
use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};

use entity::{empresa, producto};

use crate::config::MasterKey;
use crate::crypto::{field, SecretBox};
use crate::db::routers::{create_router, NewRouter};
use crate::error::Problem;
use crate::routeros::BrokerError;
use crate::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
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
    /// The service's `ROUTER_PIPELINE_DEPTH`: commands in flight at once on each router's one
    /// session (1 = strictly one at a time). Broker mode only: an error with
    /// `--connect-per-request` unless 1.
    #[arg(long, default_value_t = 1)]
    pub router_pipeline_depth: usize,
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
}

impl BenchArgs {
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
        if self.max_sessions == 0 {
            bail!("--max-sessions must be at least 1");
        }
        if !(1..=crate::config::MAX_PIPELINE_DEPTH).contains(&self.router_pipeline_depth) {
            bail!(
                "--router-pipeline-depth must be between 1 and {}",
                crate::config::MAX_PIPELINE_DEPTH
            );
        }
        if self.connect_per_request && self.router_pipeline_depth > 1 {
            bail!("--router-pipeline-depth applies to the broker's sessions; it cannot be combined with --connect-per-request");
        }
        if self.mailbox_capacity == Some(0) || self.http_workers == Some(0) {
            bail!("--mailbox-capacity and --http-workers must be at least 1");
        }
        Ok(())
    }
}

/// One seeded router: where its portals post, and what they buy.
struct Target {
    api_key: String,
    product_id: i32,
}

/// What the portals observed.
#[derive(Default)]
struct Observed {
    /// Latency of each successful purchase, in milliseconds.
    ok_ms: Vec<f64>,
    /// Latency of each `RouterBusy` answer, in milliseconds.
    busy_ms: Vec<f64>,
    /// Failed purchases by kind.
    errors: BTreeMap<String, u64>,
    /// The first `detail` seen for each kind.
    error_details: BTreeMap<String, String>,
}

/// The service under test, a child process.
struct Service {
    child: tokio::process::Child,
    pid: u32,
    base: String,
    log_path: std::path::PathBuf,
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
        sims.push(RouterSim::start(cfg).context(
            "starting a router simulator (raise the open-files limit, e.g. `ulimit -n 8192`)",
        )?);
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

/// One company with Mercado Pago credentials, one router per simulator, one plan per router.
async fn seed(
    database_url: &str,
    master_key: &[u8; 32],
    apikey_secret: &str,
    sims: &[RouterSim],
) -> anyhow::Result<Vec<Target>> {
    let db = crate::db::connect(database_url)
        .await
        .context("connecting to the benchmark database")?;
    crate::db::migrate(&db).await?;
    let secrets = SecretBox::new(&MasterKey::from_bytes(*master_key));
    let txn = crate::db::begin_write(&db).await?;
    let empresa = empresa::ActiveModel {
        id: Set(crate::wire::new_empresa_id()),
        nombre: Set("Bench".into()),
        contacto_email: Set(None),
        contacto_telefono: Set(None),
        logo_url: Set(None),
        conekta_private_key: Set(None),
        conekta_public_key: Set(None),
        conekta_mode: Set("test".into()),
        mercado_pago_access_token: Set(Some(
            secrets.encrypt(field::MP_ACCESS_TOKEN, MP_ACCESS_TOKEN),
        )),
        mercado_pago_public_key: Set(Some(MP_PUBLIC_KEY.into())),
        mercado_pago_mode: Set("test".into()),
        mercado_pago_webhook_secret: Set(None),
        conekta_webhook_key: Set(None),
        telegram_bot_token: Set(None),
        telegram_chat_id: Set(None),
        notificaciones_telegram: Set(false),
        activa: Set(true),
        creada_en: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    let price: Decimal = PRICE.parse()?;
    let mut targets = Vec::with_capacity(sims.len());
    for (i, sim) in sims.iter().enumerate() {
        let (router, key) = create_router(
            &txn,
            &secrets,
            NewRouter {
                empresa_id: empresa.id.clone(),
                nombre: format!("Bench router {i}"),
                host: "127.0.0.1".into(),
                puerto: i32::from(sim.addr().port()),
                usuario: ROUTER_USER.into(),
                password: ROUTER_PASSWORD.into(),
                ubicacion: None,
                use_tls: false,
                tls_fingerprint: None,
            },
            apikey_secret,
            Duration::from_secs(86_400),
        )
        .await?;
        let product = producto::ActiveModel {
            empresa_id: Set(empresa.id.clone()),
            router_id: Set(router.id.clone()),
            perfil_mikrotik_id: Set("*2".into()),
            perfil_mikrotik_nombre: Set("1h".into()),
            nombre_venta: Set("1 Hora".into()),
            descripcion: Set(None),
            imagen_url: Set(None),
            precio: Set(price),
            moneda: Set("MXN".into()),
            detalles: Set(json!([])),
            activo: Set(true),
            orden_visual: Set(0),
            destacado: Set(false),
            creado_en: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        targets.push(Target {
            api_key: key.api_key,
            product_id: product.id,
        });
    }
    txn.commit().await?;
    db.close().await?;
    Ok(targets)
}

/// Starts `pagos-hotspot serve` (this same binary) against the simulators and the sandbox, and
/// waits until it answers `/health`.
async fn start_service(
    args: &BenchArgs,
    dir: &Path,
    database_url: &str,
    master_key: &[u8; 32],
    apikey_secret: &str,
    session_secret: &str,
    sb: &SandboxHandle,
) -> anyhow::Result<Service> {
    let port = {
        let l = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        l.local_addr()?.port()
    };
    let log_path = dir.join("service.log");
    let log = std::fs::File::create(&log_path)?;
    let exe = std::env::current_exe().context("locating the pagos-hotspot binary")?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode(master_key),
        )
        .env("JWT_APIKEY_SECRET", apikey_secret)
        .env("JWT_SESSION_SECRET", session_secret)
        .env("CONEKTA_API_BASE", sb.base_url())
        .env("MERCADOPAGO_API_BASE", sb.base_url())
        .env("TELEGRAM_API_BASE", sb.base_url())
        .env("RATE_LIMITS", "off")
        // Several services may run at once (the bench's smoke tests): no fixed metrics port.
        .env("METRICS_ADDR", "off")
        .env("BACKGROUND_JOBS", "false")
        .env("RUST_LOG", "warn")
        .env(
            "ROUTER_BROKER_MODE",
            if args.connect_per_request {
                "per-request"
            } else {
                "persistent"
            },
        )
        .env(
            "ROUTER_PIPELINE_DEPTH",
            args.router_pipeline_depth.to_string(),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    if let Some(n) = args.mailbox_capacity {
        cmd.env("ROUTER_MAILBOX_CAPACITY", n.to_string());
    }
    if let Some(n) = args.http_workers {
        cmd.env("HTTP_WORKERS", n.to_string());
    }
    let mut child = cmd.spawn().context("starting the service")?;
    let pid = child.id().context("the service exited at once")?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "the service exited ({status}) before it was ready:\n{}",
                log_tail(&log_path)
            );
        }
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!(
                "the service did not answer /health within 60 s:\n{}",
                log_tail(&log_path)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Service {
        child,
        pid,
        base,
        log_path,
    })
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Counters of all simulators at one instant.
#[derive(Debug, Clone, Copy, Default)]
struct SimTotals {
    connections: usize,
    rejected: usize,
    logins: usize,
    commands: usize,
    busy: Duration,
    /// The most commands in flight at once on one connection (never reset: over the process).
    max_in_flight: usize,
}

fn sim_totals(sims: &[RouterSim]) -> SimTotals {
    sims.iter().fold(SimTotals::default(), |t, s| SimTotals {
        connections: t.connections + s.connections_opened(),
        rejected: t.rejected + s.connections_rejected(),
        logins: t.logins + s.logins_ok(),
        commands: t.commands + s.commands_total(),
        busy: t.busy + s.busy_time(),
        max_in_flight: t.max_in_flight.max(s.max_in_flight_per_connection()),
    })
}

/// The measured figures.
struct Report {
    elapsed: Duration,
    purchases: usize,
    observed: Observed,
    sims: SimTotals,
    peak_sessions_open: usize,
    service_cpu_s: f64,
    service_peak_rss_mb: f64,
    bench_cpu_s: f64,
    routers: usize,
}

async fn drive(
    args: &BenchArgs,
    service: &Service,
    sb: &SandboxHandle,
    sims: &[RouterSim],
    targets: Vec<Target>,
) -> anyhow::Result<Report> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency + 16)
        .timeout(Duration::from_secs(120))
        .build()?;
    let targets = Arc::new(targets);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let before = sim_totals(sims);
    let cpu_before = proc_cpu_seconds(&format!("/proc/{}/stat", service.pid))?;
    let bench_cpu_before = proc_cpu_seconds("/proc/self/stat")?;

    // The most sessions open at once on one router, sampled every 10 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let controls: Vec<_> = sims.iter().map(|s| s.control()).collect();
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                for c in &controls {
                    peak = peak.max(c.sessions_open());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };

    let started = Instant::now();
    let end = started + Duration::from_secs_f64(args.duration);
    let mut tasks = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let portal = Portal {
            http: http.clone(),
            service: service.base.clone(),
            sandbox: sb.base_url(),
            targets: targets.clone(),
            next: next.clone(),
            observed: observed.clone(),
            retry_pause: Duration::from_millis(args.retry_pause_ms),
        };
        tasks.push(tokio::spawn(portal.run(end)));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak_sessions_open = sampler.await?;
    let after = sim_totals(sims);
    let cpu_after = proc_cpu_seconds(&format!("/proc/{}/stat", service.pid))?;
    let bench_cpu_after = proc_cpu_seconds("/proc/self/stat")?;
    let service_peak_rss_mb = proc_vm_hwm_mb(&format!("/proc/{}/status", service.pid))?;
    let observed = std::mem::take(&mut *observed.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Report {
        elapsed,
        purchases: observed.ok_ms.len(),
        observed,
        sims: SimTotals {
            connections: after.connections - before.connections,
            rejected: after.rejected - before.rejected,
            logins: after.logins - before.logins,
            commands: after.commands - before.commands,
            busy: after.busy.saturating_sub(before.busy),
            max_in_flight: after.max_in_flight,
        },
        peak_sessions_open,
        service_cpu_s: cpu_after - cpu_before,
        service_peak_rss_mb,
        bench_cpu_s: bench_cpu_after - bench_cpu_before,
        routers: sims.len(),
    })
}

/// One captive portal.
struct Portal {
    http: reqwest::Client,
    service: String,
    sandbox: String,
    targets: Arc<Vec<Target>>,
    next: Arc<AtomicUsize>,
    observed: Arc<Mutex<Observed>>,
    retry_pause: Duration,
}

/// What one purchase attempt ended with.
enum Outcome {
    Ok,
    Busy,
    /// Kind and the answer's `detail`.
    Failed(String, String),
}

impl Portal {
    async fn run(self, end: Instant) {
        let mut token = self.card_token().await;
        while Instant::now() < end {
            let tok = match token {
                Ok(t) => t,
                Err(kind) => {
                    self.record(Outcome::Failed(kind, String::new()), Duration::ZERO);
                    tokio::time::sleep(self.retry_pause.max(Duration::from_millis(10))).await;
                    token = self.card_token().await;
                    continue;
                }
            };
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.targets.len();
            let Some(target) = self.targets.get(i) else {
                return;
            };
            // The next card token is made while this purchase runs (a browser makes it before
            // posting); a token is used once, whatever the outcome.
            let timed = async {
                let t0 = Instant::now();
                let outcome = self.purchase(target, &tok).await;
                (outcome, t0.elapsed())
            };
            let ((outcome, took), next_token) = tokio::join!(timed, self.card_token());
            let failed = !matches!(outcome, Outcome::Ok);
            self.record(outcome, took);
            token = next_token;
            if failed && !self.retry_pause.is_zero() {
                tokio::time::sleep(self.retry_pause).await;
            }
        }
    }

    fn record(&self, outcome: Outcome, took: Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        let mut o = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Outcome::Ok => o.ok_ms.push(ms),
            Outcome::Busy => {
                o.busy_ms.push(ms);
                *o.errors.entry("router_busy_503".into()).or_default() += 1;
            }
            Outcome::Failed(kind, detail) => {
                *o.errors.entry(kind.clone()).or_default() += 1;
                o.error_details.entry(kind).or_insert(detail);
            }
        }
    }

    async fn card_token(&self) -> Result<String, String> {
        let res = self
            .http
            .post(format!(
                "{}/v1/card_tokens?public_key={MP_PUBLIC_KEY}",
                self.sandbox
            ))
            .json(&json!({
                "card_number": "4075595716483764",
                "security_code": "123",
                "expiration_month": 11,
                "expiration_year": 2030,
                "cardholder": { "name": "APRO", "identification": { "type": "RFC", "number": "XAXX010101000" } },
            }))
            .send()
            .await
            .map_err(|e| transport_kind("card_token", &e))?;
        if !res.status().is_success() {
            return Err(format!("card_token_http_{}", res.status().as_u16()));
        }
        let v: Value = res
            .json()
            .await
            .map_err(|e| transport_kind("card_token", &e))?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "card_token_malformed".to_string())
    }

    async fn purchase(&self, target: &Target, token: &str) -> Outcome {
        let body = json!({
            "producto_id": target.product_id,
            "token": token,
            "payment_method_id": "visa",
            "monto": 15.0,
            "cuotas": 1,
            "nombre_cliente": "Bench Portal",
            "email_cliente": "bench@example.com",
        });
        let res = match self
            .http
            .post(format!(
                "{}/api/v1/payments/pagar-mercado-pago",
                self.service
            ))
            .header("X-API-Key", &target.api_key)
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(transport_kind("purchase", &e), e.to_string()),
        };
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if status == 200 && v["success"] == true {
            return Outcome::Ok;
        }
        let detail = v["detail"].as_str().unwrap_or("");
        if status == 503
            && detail
                == Problem::Router(BrokerError::Busy {
                    retry_after_secs: 1,
                })
                .detail()
        {
            return Outcome::Busy;
        }
        let detail_text = match &v["detail"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Outcome::Failed(error_kind(status, detail), detail_text)
    }
}

/// A failed purchase's kind: the broker's refusals by name, anything else by HTTP status.
fn error_kind(status: u16, detail: &str) -> String {
    let named = [
        (
            Problem::Router(BrokerError::Unavailable {
                reason: String::new(),
            }),
            "router_unavailable",
        ),
        (
            Problem::Router(BrokerError::OutcomeUnknown),
            "router_outcome_unknown",
        ),
        (
            Problem::Router(BrokerError::AuthFailed),
            "router_auth_failed",
        ),
        // Money moved but the user is not enabled yet (left to the reconciler).
        (Problem::AccessActivating, "paid_access_pending"),
        (Problem::PaymentConfirming, "paid_confirming"),
    ];
    for (p, name) in named {
        if detail == p.detail() {
            return format!("{name}_{status}");
        }
    }
    format!("http_{status}")
}

fn transport_kind(what: &str, e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("{what}_timeout")
    } else if e.is_connect() {
        format!("{what}_connect")
    } else {
        format!("{what}_transport")
    }
}

/// User + system CPU seconds of a process, from `/proc/<pid>/stat`.
fn proc_cpu_seconds(path: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of stat(5); `rest` starts at field 3.
    let tick = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc stat")?
            .parse::<u64>()
            .context("malformed /proc stat")? as f64)
    };
    Ok((tick(11)? + tick(12)?) / USER_HZ)
}

/// Peak resident set size (`VmHWM`) of a process, in MiB.
fn proc_vm_hwm_mb(path: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmHWM in /proc status")?;
    Ok(kb as f64 / 1024.0)
}

/// The `q` quantile (0..=1) of sorted samples, nearest-rank.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn report_json(args: &BenchArgs, r: &Report) -> Value {
    let mut ok = r.observed.ok_ms.clone();
    ok.sort_by(f64::total_cmp);
    let mut busy = r.observed.busy_ms.clone();
    busy.sort_by(f64::total_cmp);
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let pct = |v: &[f64], q| quantile(v, q).map(|x| round(x, 2));
    let errors: serde_json::Map<String, Value> = r
        .observed
        .errors
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "mode": if args.connect_per_request { "connect-per-request" } else { "broker" },
        "routers": r.routers,
        "concurrency": args.concurrency,
        "router_latency_ms": args.router_latency_ms,
        "router_pipeline_depth": args.router_pipeline_depth,
        "gateway_latency_ms": args.gateway_latency_ms,
        "duration_s": round(secs, 3),
        "purchases": r.purchases,
        "purchases_per_s": round(r.purchases as f64 / secs, 2),
        "p50_ms": pct(&ok, 0.50),
        "p95_ms": pct(&ok, 0.95),
        "p99_ms": pct(&ok, 0.99),
        "max_ms": ok.last().map(|x| round(*x, 2)),
        "router_commands_per_s": round(r.sims.commands as f64 / secs, 2),
        "router_sessions_opened": r.sims.connections - r.sims.rejected,
        "router_logins": r.sims.logins,
        "router_connections_rejected_max_sessions": r.sims.rejected,
        "router_peak_sessions_open": r.peak_sessions_open,
        "router_max_in_flight_per_session": r.sims.max_in_flight,
        "router_busy_fraction": round(r.sims.busy.as_secs_f64() / (secs * r.routers as f64), 4),
        "errors": errors,
        "error_details": r.observed.error_details,
        "busy_reply_p50_ms": pct(&busy, 0.50),
        "busy_reply_p99_ms": pct(&busy, 0.99),
        "cpu_s_per_purchase": (r.purchases > 0).then(|| round(r.service_cpu_s / r.purchases as f64, 6)),
        "service_cpu_s": round(r.service_cpu_s, 2),
        "service_cpu_cores": round(r.service_cpu_s / secs, 3),
        "bench_process_cpu_cores": round(r.bench_cpu_s / secs, 3),
        "peak_rss_mb": round(r.service_peak_rss_mb, 1),
    })
}

fn print_report(args: &BenchArgs, r: &Report) -> anyhow::Result<()> {
    use std::io::Write as _;
    let v = report_json(args, r);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "pagos-hotspot bench: {} mode, {} router(s) at {} ms, pipeline depth {}, gateway {} ms, {} portals, {:.1} s",
        v["mode"].as_str().unwrap_or(""),
        args.routers,
        args.router_latency_ms,
        args.router_pipeline_depth,
        args.gateway_latency_ms,
        args.concurrency,
        r.elapsed.as_secs_f64()
    )?;
    let rows: &[(&str, &str)] = &[
        ("purchases", "purchases"),
        ("purchases/s", "purchases_per_s"),
        ("p50 ms", "p50_ms"),
        ("p95 ms", "p95_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
        ("router commands/s", "router_commands_per_s"),
        ("router sessions opened", "router_sessions_opened"),
        ("router logins", "router_logins"),
        (
            "connections refused (max-sessions)",
            "router_connections_rejected_max_sessions",
        ),
        (
            "peak sessions open on a router",
            "router_peak_sessions_open",
        ),
        (
            "max commands in flight on a session",
            "router_max_in_flight_per_session",
        ),
        ("router busy fraction", "router_busy_fraction"),
        ("RouterBusy reply p50 ms", "busy_reply_p50_ms"),
        ("RouterBusy reply p99 ms", "busy_reply_p99_ms"),
        ("service CPU s / purchase", "cpu_s_per_purchase"),
        ("service CPU (cores)", "service_cpu_cores"),
        ("load generator CPU (cores)", "bench_process_cpu_cores"),
        ("service peak RSS MiB", "peak_rss_mb"),
    ];
    writeln!(out, "{:<38} {:>14}", "metric", "value")?;
    writeln!(out, "{:-<38} {:->14}", "", "")?;
    for (label, key) in rows {
        let cell = match &v[*key] {
            Value::Null => "-".to_string(),
            other => other.to_string(),
        };
        writeln!(out, "{label:<38} {cell:>14}")?;
    }
    let errors = v["errors"].as_object().cloned().unwrap_or_default();
    if errors.is_empty() {
        writeln!(out, "{:<38} {:>14}", "errors", 0)?;
    } else {
        for (k, n) in errors {
            writeln!(out, "{:<38} {:>14}", format!("error: {k}"), n.to_string())?;
            if let Some(d) = v["error_details"][&k].as_str().filter(|d| !d.is_empty()) {
                writeln!(out, "    e.g. {d}")?;
            }
        }
    }
    if args.json {
        writeln!(out, "{v}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.50), Some(50.0));
        assert_eq!(quantile(&v, 0.95), Some(95.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[7.0], 0.5), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn proc_stat_is_parsed_after_the_command_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stat");
        // A command name with a space and a parenthesis; utime 250, stime 50 ticks.
        std::fs::write(
            &p,
            "42 (we) ird) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 1 1",
        )
        .unwrap();
        let s = proc_cpu_seconds(p.to_str().unwrap()).unwrap();
        assert!((s - 3.0).abs() < 1e-9, "{s}");
        std::fs::write(&p, "VmPeak:\t 100 kB\nVmHWM:\t   2048 kB\n").unwrap();
        assert_eq!(proc_vm_hwm_mb(p.to_str().unwrap()).unwrap(), 2.0);
    }

    #[test]
    fn broker_refusals_are_named() {
        let busy = Problem::Router(BrokerError::Busy {
            retry_after_secs: 3,
        })
        .detail();
        assert_eq!(
            busy,
            Problem::Router(BrokerError::Busy {
                retry_after_secs: 1
            })
            .detail()
        );
        let down = Problem::Router(BrokerError::Unavailable { reason: "x".into() }).detail();
        assert_eq!(error_kind(503, &down), "router_unavailable_503");
        assert_eq!(error_kind(500, "boom"), "http_500");
        assert_eq!(
            error_kind(503, &Problem::AccessActivating.detail()),
            "paid_access_pending_503"
        );
    }
}
