//! Configuration from the environment (and a `.env` file, read by `main`).
//!
//! Every setting has one place here. A missing or malformed required setting is a
//! [`ConfigError`] naming the variable, which `serve` prints on one line before exiting
//! with status 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// Default SQLite database, created on first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/pagos-hotspot.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8000";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";
pub const DEFAULT_CONEKTA_API_BASE: &str = "https://api.conekta.io";
pub const DEFAULT_MERCADOPAGO_API_BASE: &str = "https://api.mercadopago.com";
pub const DEFAULT_TELEGRAM_API_BASE: &str = "https://api.telegram.org";
/// Conekta.js, as Conekta's integrations load it (see docs/portal.md for the source).
pub const DEFAULT_CONEKTA_JS_URL: &str = "https://cdn.conekta.io/js/latest/conekta.js";
/// Mercado Pago's JS SDK v2.
pub const DEFAULT_MERCADOPAGO_JS_URL: &str = "https://sdk.mercadopago.com/js/v2";

/// What the captive portal and the router setup script need beyond the API itself.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Where the portal loads Conekta.js from (`CONEKTA_JS_URL`; the sandbox's stand-in in the
    /// demo).
    pub conekta_js_url: String,
    /// Where the portal loads Mercado Pago's JS SDK v2 from (`MERCADOPAGO_JS_URL`).
    pub mercadopago_js_url: String,
    /// The addresses routers see this service connect from (`ROUTER_SOURCE_ADDRESSES`, a comma
    /// list of IPv4 addresses or CIDR blocks): the setup script limits the API service and
    /// user to them. Behind NAT the service cannot find them out itself.
    pub router_source_addresses: Vec<String>,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            conekta_js_url: DEFAULT_CONEKTA_JS_URL.into(),
            mercadopago_js_url: DEFAULT_MERCADOPAGO_JS_URL.into(),
            router_source_addresses: Vec::new(),
        }
    }
}

/// An IPv4 address or CIDR block (`203.0.113.7`, `203.0.113.0/24`), normalised; `None` if not.
pub fn ipv4_cidr(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (ip, prefix) = match raw.split_once('/') {
        Some((ip, p)) => (ip, p.parse::<u8>().ok().filter(|p| *p <= 32)?),
        None => (raw, 32),
    };
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    Some(format!("{ip}/{prefix}"))
}

fn portal_settings() -> Result<PortalSettings, ConfigError> {
    const NAME: &str = "ROUTER_SOURCE_ADDRESSES";
    let mut sources = Vec::new();
    for part in var(NAME).unwrap_or_default().split(',') {
        if part.trim().is_empty() {
            continue;
        }
        sources.push(ipv4_cidr(part).ok_or_else(|| {
            ConfigError::new(
                NAME,
                "must be a comma list of IPv4 addresses or CIDR blocks",
            )
        })?);
    }
    Ok(PortalSettings {
        conekta_js_url: base_url("CONEKTA_JS_URL", DEFAULT_CONEKTA_JS_URL)?,
        mercadopago_js_url: base_url("MERCADOPAGO_JS_URL", DEFAULT_MERCADOPAGO_JS_URL)?,
        router_source_addresses: sources,
    })
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// The 32-byte AES-256-GCM master key.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// Parses standard base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| "must be base64 of 32 bytes".to_string())?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|v: Vec<u8>| format!("must be 32 bytes once decoded, got {}", v.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// The broker's tuning and mode are the `routeros` crate's types; [`Config::from_env`] fills
/// them from `ROUTER_*` variables.
pub use routeros::{BrokerMode, RouterSettings};

pub use crate::auth::rate_limit::RateLimitSettings;

/// The largest accepted `ROUTER_PIPELINE_DEPTH` (the default is
/// [`routeros::settings::DEFAULT_PIPELINE_DEPTH`], 16: pipelined with an adaptive window).
pub const MAX_PIPELINE_DEPTH: usize = 32;

/// Tuning of the purchase saga, its reconciler and the payment webhooks.
#[derive(Debug, Clone)]
pub struct PurchaseSettings {
    /// Per-request timeout of gateway calls (`GATEWAY_TIMEOUT_MS`).
    pub gateway_timeout: Duration,
    /// How long a running saga holds its purchase row before the reconciler may take it over
    /// (`SAGA_LEASE_SECS`); renewed every third of it while the saga runs.
    pub saga_lease: Duration,
    /// How long the reconciler holds a purchase it works on.
    pub reconcile_lease: Duration,
    /// Reconciler period (`RECONCILE_INTERVAL_SECS`).
    pub reconcile_interval: Duration,
    /// Money moved but the user could not be enabled for this long: refund instead
    /// (`ENABLE_DEADLINE_SECS`).
    pub enable_deadline: Duration,
    /// A charge whose outcome stays unknown (nothing found by our reference) for this long is
    /// considered never made (`UNKNOWN_CHARGE_DEADLINE_SECS`).
    pub unknown_charge_deadline: Duration,
    /// A pending Mercado Pago payment not approved after this long is cancelled
    /// (`PENDING_DEADLINE_SECS`).
    pub pending_deadline: Duration,
    /// How long a duplicate request waits for the first one's response.
    pub idempotency_wait: Duration,
    /// Accepted clock skew of signed webhooks.
    pub webhook_tolerance: Duration,
    /// How long a gateway notification waits for a purchase another worker holds before it is
    /// answered 503 (the gateway delivers it again later).
    pub webhook_lease_wait: Duration,
    /// Mercado Pago `binary_mode` (approved or rejected only, as the original sent;
    /// `MP_BINARY_MODE`).
    pub mp_binary_mode: bool,
    /// How often completed purchases are checked at the gateway for a refund or chargeback
    /// whose notice never came (`REFUND_CHECK_INTERVAL_SECS`).
    pub refund_check_interval: Duration,
    /// How far back that check looks (`REFUND_CHECK_WINDOW_DAYS`).
    pub refund_check_window: Duration,
    /// Gateway reads per check pass at most (`REFUND_CHECK_MAX_READS`).
    pub refund_check_max_reads: u64,
    /// Delay before the reconciler retries a purchase whose last attempt failed.
    pub retry_delay: Duration,
    /// How often the expiry job ends the access of plans whose validity or budget is over
    /// (`EXPIRY_INTERVAL_SECS`).
    pub expiry_interval: Duration,
    /// How often every router's `purchase:` users are compared with our purchases and the
    /// drift repaired (`SYNC_INTERVAL_SECS`).
    pub sync_interval: Duration,
}

impl Default for PurchaseSettings {
    fn default() -> Self {
        Self {
            gateway_timeout: Duration::from_secs(30),
            saga_lease: Duration::from_secs(10),
            reconcile_lease: Duration::from_secs(60),
            reconcile_interval: Duration::from_secs(15),
            enable_deadline: Duration::from_secs(15 * 60),
            unknown_charge_deadline: Duration::from_secs(10 * 60),
            pending_deadline: Duration::from_secs(48 * 3600),
            idempotency_wait: Duration::from_secs(10),
            webhook_tolerance: Duration::from_secs(300),
            webhook_lease_wait: Duration::from_secs(5),
            mp_binary_mode: true,
            refund_check_interval: Duration::from_secs(600),
            refund_check_window: Duration::from_secs(7 * 86_400),
            refund_check_max_reads: 200,
            retry_delay: Duration::from_secs(10),
            expiry_interval: Duration::from_secs(30),
            sync_interval: Duration::from_secs(600),
        }
    }
}

/// Everything the service reads from its environment.
#[derive(Debug)]
pub struct Config {
    pub database_url: String,
    pub bind_addr: SocketAddr,
    pub jwt_session_secret: SecretString,
    pub jwt_apikey_secret: SecretString,
    pub master_key: MasterKey,
    pub conekta_api_base: String,
    pub mercadopago_api_base: String,
    pub telegram_api_base: String,
    /// Public base URL of this service, used for gateway notification URLs.
    pub public_base_url: Option<String>,
    pub super_admin_initial_email: Option<String>,
    pub super_admin_initial_password: Option<SecretString>,
    pub session_ttl: Duration,
    pub apikey_ttl: Duration,
    /// Folder for uploaded logos (served under `/static`).
    pub static_dir: PathBuf,
    /// `json` (default) or `pretty`.
    pub log_format: String,
    /// Background jobs (reconciler, usage-counter flush); tests may turn them off.
    pub background_jobs: bool,
    /// HTTP worker threads (default: one per core).
    pub http_workers: Option<usize>,
    /// Trust the first `X-Forwarded-For` hop as the client address (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Origins allowed to call the API from a browser (`BACKEND_CORS_ORIGINS`, the original's
    /// setting: a JSON array or a comma-separated list; `*` allows any origin). Captive portal
    /// pages served by the routers call the API cross-origin.
    pub cors_origins: Vec<String>,
    pub router: RouterSettings,
    /// `RATE_LIMITS=off` turns every rate limit off (benchmarks).
    pub rate_limits: bool,
    /// Each limit (`RATE_LIMIT_…`).
    pub limits: RateLimitSettings,
    pub purchase: PurchaseSettings,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>` (`METRICS_TOKEN`), and
    /// the API listener serves it too (without a token only the metrics listener does).
    pub metrics_token: Option<SecretString>,
    /// The metrics listener (`METRICS_ADDR`, default `127.0.0.1:9464`; `off` for none): it serves
    /// only `GET /metrics` and `GET /health`, so the exposition (router ids, revenue) stays off the
    /// public API listener.
    pub metrics_addr: Option<SocketAddr>,
    pub portal: PortalSettings,
}

/// Reads a variable; empty counts as absent.
fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or_else(|| ConfigError::new(name, "is required but not set"))
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e| ConfigError::new(name, format!("cannot parse {v:?}: {e}"))),
    }
}

fn secret(name: &'static str) -> Result<SecretString, ConfigError> {
    let value = required(name)?;
    if value.len() < 16 {
        return Err(ConfigError::new(name, "must be at least 16 characters"));
    }
    Ok(SecretString::from(value))
}

fn base_url(name: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = var(name).unwrap_or_else(|| default.to_string());
    let trimmed = value.trim().trim_end_matches('/').to_string();
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        return Err(ConfigError::new(
            name,
            "must start with http:// or https://",
        ));
    }
    Ok(trimmed)
}

impl Config {
    /// Reads the configuration that `serve` needs. Call `dotenvy::dotenv()` first to honour `.env`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let jwt_session_secret = secret("JWT_SESSION_SECRET")?;
        let jwt_apikey_secret = secret("JWT_APIKEY_SECRET")?;
        let master_key = MasterKey::from_base64(&required("MASTER_KEY")?)
            .map_err(|reason| ConfigError::new("MASTER_KEY", reason))?;
        let bind_addr = parsed::<SocketAddr>(
            "BIND_ADDR",
            DEFAULT_BIND_ADDR
                .parse()
                .map_err(|_| ConfigError::new("BIND_ADDR", "bad default"))?,
        )?;
        let (email, password) = initial_super_admin()?;
        let log_format = var("LOG_FORMAT").unwrap_or_else(|| "json".into());
        if log_format != "json" && log_format != "pretty" {
            return Err(ConfigError::new("LOG_FORMAT", "must be json or pretty"));
        }
        let router = router_settings()?;
        Ok(Self {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            bind_addr,
            jwt_session_secret,
            jwt_apikey_secret,
            master_key,
            conekta_api_base: base_url("CONEKTA_API_BASE", DEFAULT_CONEKTA_API_BASE)?,
            mercadopago_api_base: base_url("MERCADOPAGO_API_BASE", DEFAULT_MERCADOPAGO_API_BASE)?,
            telegram_api_base: base_url("TELEGRAM_API_BASE", DEFAULT_TELEGRAM_API_BASE)?,
            public_base_url: match var("PUBLIC_BASE_URL") {
                Some(_) => Some(base_url("PUBLIC_BASE_URL", "")?),
                None => None,
            },
            super_admin_initial_email: email,
            super_admin_initial_password: password,
            session_ttl: Duration::from_secs(3600 * parsed("JWT_SESSION_EXPIRE_HOURS", 24u64)?),
            apikey_ttl: Duration::from_secs(86_400 * parsed("JWT_APIKEY_EXPIRE_DAYS", 365u64)?),
            static_dir: PathBuf::from(var("STATIC_DIR").unwrap_or_else(|| "./static".into())),
            log_format,
            background_jobs: parsed("BACKGROUND_JOBS", true)?,
            http_workers: match var("HTTP_WORKERS") {
                Some(_) => Some(parsed("HTTP_WORKERS", 1usize)?),
                None => None,
            },
            trust_forwarded_for: parsed("TRUST_FORWARDED_FOR", false)?,
            cors_origins: cors_origins()?,
            router,
            rate_limits: !matches!(
                var("RATE_LIMITS")
                    .map(|v| v.trim().to_ascii_lowercase())
                    .as_deref(),
                Some("off" | "false" | "0" | "no")
            ),
            limits: RateLimitSettings::from_lookup(var)
                .map_err(|(name, reason)| ConfigError::new(name, reason))?,
            purchase: purchase_settings()?,
            metrics_token: match var("METRICS_TOKEN") {
                Some(_) => Some(secret("METRICS_TOKEN")?),
                None => None,
            },
            portal: portal_settings()?,
            metrics_addr: match var("METRICS_ADDR") {
                Some(v) if v.trim().eq_ignore_ascii_case("off") => None,
                _ => Some(parsed::<SocketAddr>(
                    "METRICS_ADDR",
                    DEFAULT_METRICS_ADDR
                        .parse()
                        .map_err(|_| ConfigError::new("METRICS_ADDR", "bad default"))?,
                )?),
            },
        })
    }

    /// A complete configuration for tests and the demo: random secrets, the given database.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        use rand::RngCore;
        let mut rng = rand::rngs::OsRng;
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let random = |rng: &mut rand::rngs::OsRng| {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b);
            SecretString::from(hex::encode(b))
        };
        Self {
            database_url: database_url.into(),
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_session_secret: random(&mut rng),
            jwt_apikey_secret: random(&mut rng),
            master_key: MasterKey::from_bytes(key),
            conekta_api_base: DEFAULT_CONEKTA_API_BASE.into(),
            mercadopago_api_base: DEFAULT_MERCADOPAGO_API_BASE.into(),
            telegram_api_base: DEFAULT_TELEGRAM_API_BASE.into(),
            public_base_url: None,
            super_admin_initial_email: None,
            super_admin_initial_password: None,
            session_ttl: Duration::from_secs(24 * 3600),
            apikey_ttl: Duration::from_secs(365 * 86_400),
            static_dir: std::env::temp_dir().join(format!(
                "pagos-hotspot-static-{}",
                uuid::Uuid::new_v4().simple()
            )),
            log_format: "json".into(),
            background_jobs: false,
            http_workers: Some(1),
            trust_forwarded_for: false,
            cors_origins: Vec::new(),
            router: RouterSettings {
                command_timeout: Duration::from_secs(3),
                connect_timeout: Duration::from_secs(2),
                // Tests and the demo run their router simulators on 127.0.0.1.
                allow_loopback: true,
                ..RouterSettings::default()
            },
            rate_limits: true,
            limits: RateLimitSettings::default(),
            purchase: PurchaseSettings::default(),
            metrics_token: None,
            metrics_addr: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            portal: PortalSettings::default(),
        }
    }
}

/// The router broker's settings (`ROUTER_…`).
fn router_settings() -> Result<RouterSettings, ConfigError> {
    let mut router = RouterSettings::default();
    router.mailbox_capacity = parsed("ROUTER_MAILBOX_CAPACITY", router.mailbox_capacity)?;
    router.command_timeout = Duration::from_millis(parsed(
        "ROUTER_COMMAND_TIMEOUT_MS",
        millis(router.command_timeout),
    )?);
    router.idle_timeout =
        Duration::from_secs(parsed("ROUTER_IDLE_SECS", router.idle_timeout.as_secs())?);
    router.probe_interval =
        Duration::from_secs(parsed("ROUTER_PROBE_SECS", router.probe_interval.as_secs())?.max(1));
    router.connect_concurrency =
        parsed("ROUTER_CONNECT_CONCURRENCY", router.connect_concurrency)?.max(1);
    router.allow_loopback = parsed("ROUTER_ALLOW_LOOPBACK", router.allow_loopback)?;
    router.reply_limits.max_rows =
        parsed("ROUTER_MAX_REPLY_ROWS", router.reply_limits.max_rows)?.max(1);
    router.reply_limits.max_bytes =
        parsed("ROUTER_MAX_REPLY_BYTES", router.reply_limits.max_bytes)?.max(1024);
    router.pipeline_depth = parsed("ROUTER_PIPELINE_DEPTH", router.pipeline_depth)?;
    if !(1..=MAX_PIPELINE_DEPTH).contains(&router.pipeline_depth) {
        return Err(ConfigError::new(
            "ROUTER_PIPELINE_DEPTH",
            format!("must be between 1 and {MAX_PIPELINE_DEPTH}"),
        ));
    }
    router.mode = match var("ROUTER_BROKER_MODE").as_deref() {
        None | Some("persistent") => BrokerMode::Persistent,
        Some("per-request") => BrokerMode::ConnectPerRequest,
        Some(_) => {
            return Err(ConfigError::new(
                "ROUTER_BROKER_MODE",
                "must be persistent or per-request",
            ))
        }
    };
    Ok(router)
}

/// The purchase saga's timings (`GATEWAY_TIMEOUT_MS`, `RECONCILE_INTERVAL_SECS`,
/// `SAGA_LEASE_SECS`, `ENABLE_DEADLINE_SECS`, `UNKNOWN_CHARGE_DEADLINE_SECS`,
/// `PENDING_DEADLINE_SECS`) and `MP_BINARY_MODE`.
fn purchase_settings() -> Result<PurchaseSettings, ConfigError> {
    let mut p = PurchaseSettings::default();
    let secs = |name: &'static str, d: Duration| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(parsed(name, d.as_secs())?))
    };
    p.gateway_timeout =
        Duration::from_millis(parsed("GATEWAY_TIMEOUT_MS", millis(p.gateway_timeout))?);
    p.reconcile_interval = secs("RECONCILE_INTERVAL_SECS", p.reconcile_interval)?;
    p.saga_lease = secs("SAGA_LEASE_SECS", p.saga_lease)?.max(Duration::from_secs(3));
    p.enable_deadline = secs("ENABLE_DEADLINE_SECS", p.enable_deadline)?;
    p.unknown_charge_deadline = secs("UNKNOWN_CHARGE_DEADLINE_SECS", p.unknown_charge_deadline)?;
    p.pending_deadline = secs("PENDING_DEADLINE_SECS", p.pending_deadline)?;
    p.mp_binary_mode = parsed("MP_BINARY_MODE", p.mp_binary_mode)?;
    p.refund_check_interval =
        secs("REFUND_CHECK_INTERVAL_SECS", p.refund_check_interval)?.max(Duration::from_secs(1));
    p.refund_check_window = Duration::from_secs(
        86_400
            * parsed(
                "REFUND_CHECK_WINDOW_DAYS",
                p.refund_check_window.as_secs() / 86_400,
            )?,
    );
    p.refund_check_max_reads = parsed("REFUND_CHECK_MAX_READS", p.refund_check_max_reads)?;
    p.expiry_interval =
        secs("EXPIRY_INTERVAL_SECS", p.expiry_interval)?.max(Duration::from_secs(1));
    p.sync_interval = secs("SYNC_INTERVAL_SECS", p.sync_interval)?.max(Duration::from_secs(1));
    Ok(p)
}

/// `SUPER_ADMIN_INITIAL_EMAIL` and `SUPER_ADMIN_INITIAL_PASSWORD` (both or neither).
fn initial_super_admin() -> Result<(Option<String>, Option<SecretString>), ConfigError> {
    let email = var("SUPER_ADMIN_INITIAL_EMAIL");
    let password = var("SUPER_ADMIN_INITIAL_PASSWORD").map(SecretString::from);
    if email.is_some() != password.is_some() {
        let name = if email.is_some() {
            "SUPER_ADMIN_INITIAL_PASSWORD"
        } else {
            "SUPER_ADMIN_INITIAL_EMAIL"
        };
        return Err(ConfigError::new(
            name,
            "SUPER_ADMIN_INITIAL_EMAIL and SUPER_ADMIN_INITIAL_PASSWORD go together",
        ));
    }
    Ok((email, password))
}

/// `BACKEND_CORS_ORIGINS`: a JSON array (as the original required in practice) or a
/// comma-separated list. Each entry is `*` or a `scheme://host[:port]` origin.
fn cors_origins() -> Result<Vec<String>, ConfigError> {
    const NAME: &str = "BACKEND_CORS_ORIGINS";
    let Some(raw) = var(NAME) else {
        return Ok(Vec::new());
    };
    let raw = raw.trim();
    let list: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str(raw)
            .map_err(|e| ConfigError::new(NAME, format!("not a JSON array of strings: {e}")))?
    } else {
        raw.split(',').map(|s| s.trim().to_string()).collect()
    };
    let list: Vec<String> = list
        .into_iter()
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect();
    for origin in &list {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = origin == "*" || host.is_some_and(|h| !h.is_empty() && !h.contains('/'));
        if !valid {
            return Err(ConfigError::new(
                NAME,
                format!("{origin:?} is not an origin (scheme://host[:port]) or *"),
            ));
        }
    }
    Ok(list)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
