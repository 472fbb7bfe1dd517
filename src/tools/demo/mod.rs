//! `pagos-hotspot demo`: the whole service in one process, with nothing else installed.
//!
//! * Data: an SQLite file `<data-dir>/demo.db` and `<data-dir>/demo-secrets.json` (mode 0600)
//!   holding the master key, the JWT secrets, the demo passwords and the router API key, made
//!   once; a second run reuses both, so keys and logins keep working.
//! * In the same process: the RouterOS simulator and the sandbox payment gateways, each on a
//!   free 127.0.0.1 port (the router row is pointed at the simulator on every start).
//! * Seed (first run): company "WiFi Demo" with Conekta and Mercado Pago sandbox credentials
//!   (encrypted like the admin API stores them), a router, three plans matching the simulator's
//!   profiles, and a cliente_admin.
//! * The captive portal (`portal/`) at `/portal/`, with this demo's API address and key filled
//!   in, loading the sandbox's stand-ins for Conekta.js and Mercado Pago's SDK; and
//!   `/hotspot/login`, a stand-in for the simulated router's own login page
//!   (`$(link-login-only)`). Only the demo serves them.
//! * A month of finished purchases (completed, declined, refunded) on first run, so the
//!   console's dashboard has curves (`history.rs`).
//! * The operator console at `/consola/` (served by `serve` too).
//! * Prints the console URL, the logins of the company admin and the operator (super_admin),
//!   the API key and `curl` commands that buy a plan with each gateway.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::SecretString;

use crate::config::{Config, MasterKey, RouterSettings};
use crate::crypto::SecretBox;
use crate::db::empresas::{self, EmpresaPatch};
use crate::ids::EmpresaId;
use crate::sandbox::gateways::{SandboxConfig, SandboxGateways};
use crate::sandbox::routeros_sim::{RouterSim, SimConfig};
use crate::startup::Application;

/// CLI arguments of `pagos-hotspot demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Address of the API (`127.0.0.1:0` picks a free port; the URL is printed).
    #[arg(long, default_value = crate::config::DEFAULT_BIND_ADDR)]
    pub bind: SocketAddr,
    /// Folder for `demo.db` and `demo-secrets.json`.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
}

/// The RouterOS API user of the simulated router.
pub const ROUTER_USER: &str = "api";
pub const ADMIN_EMAIL: &str = "admin@wifi-demo.example.com";
pub const OPERATOR_EMAIL: &str = "operador@wifi-demo.example.com";
pub const COMPANY_NAME: &str = "WiFi Demo";
/// Devices the simulated hotspot knows (MAC, IP), so auto-connect has someone to log in.
pub const DEMO_DEVICES: [(&str, &str); 3] = [
    ("AA:BB:CC:DD:EE:01", "10.5.50.11"),
    ("AA:BB:CC:DD:EE:02", "10.5.50.12"),
    ("AA:BB:CC:DD:EE:03", "10.5.50.13"),
];
/// A Mercado Pago test card (Mastercard) for card tokens.
pub const MP_TEST_CARD: &str = "5031755734530604";

mod banner;
mod history;
mod portal;
mod secrets;
mod seed;

pub use banner::banner;
use portal::{portal_routes, PortalSite};
use secrets::load_or_create_secrets;
use secrets::write_private;
pub use secrets::DemoSecrets;
pub use seed::{seed, Seeded};

/// The demo's configuration: the sandbox gateways, the demo's secrets and database.
fn demo_config(
    args: &DemoArgs,
    secrets: &DemoSecrets,
    sandbox_base: &str,
) -> anyhow::Result<Config> {
    let db_path = args.data_dir.join("demo.db");
    let mut config = Config::for_tests(format!("sqlite://{}?mode=rwc", db_path.display()));
    config.bind_addr = args.bind;
    config.jwt_session_secret = SecretString::from(secrets.jwt_session_secret.clone());
    config.jwt_apikey_secret = SecretString::from(secrets.jwt_apikey_secret.clone());
    config.master_key =
        MasterKey::from_base64(&secrets.master_key).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.conekta_api_base = sandbox_base.to_string();
    config.mercadopago_api_base = sandbox_base.to_string();
    config.telegram_api_base = sandbox_base.to_string();
    // The portal loads the sandbox's stand-ins for Conekta.js and Mercado Pago's SDK.
    config.portal.conekta_js_url = format!("{sandbox_base}/sdk/conekta.js");
    config.portal.mercadopago_js_url = format!("{sandbox_base}/sdk/mercadopago/v2.js");
    // A portal folder unpacked anywhere (portal.zip) calls this API from its own origin.
    config.cors_origins = vec!["*".into()];
    config.static_dir = args.data_dir.join("static");
    config.log_format = "pretty".into();
    config.background_jobs = true;
    config.http_workers = Some(2);
    // `MP_BINARY_MODE=false` lets Mercado Pago payments stay pending (cardholder CONT), as
    // for the service.
    if let Ok(v) = std::env::var("MP_BINARY_MODE") {
        config.purchase.mp_binary_mode = !matches!(v.trim(), "false" | "0" | "no" | "off");
    }
    config.router = RouterSettings {
        // The simulated router listens on 127.0.0.1.
        allow_loopback: true,
        ..RouterSettings::default()
    };
    Ok(config)
}

/// Prints on stdout and flushes (tests read it).
fn print_flush(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Runs the demo until Ctrl-C / SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let (mut secrets, created) = load_or_create_secrets(&args.data_dir)?;
    let operator_added = secrets.fill_operator();
    if created {
        tracing::info!(dir = %args.data_dir.display(), "new demo data folder");
    }

    let sandbox = SandboxGateways::start(SandboxConfig {
        mp_webhook_secret: secrets.mp_webhook_secret.clone(),
        ..SandboxConfig::default()
    })
    .context("cannot start the sandbox gateways")?;
    let sim = RouterSim::start(SimConfig::new(ROUTER_USER, &secrets.router_password))
        .context("cannot start the RouterOS simulator")?;
    for (mac, ip) in DEMO_DEVICES {
        sim.add_host(mac, ip);
    }

    let config = demo_config(&args, &secrets, &sandbox.base_url())?;
    let db = crate::db::connect(&config.database_url).await?;
    crate::db::migrate(&db).await?;
    let secrets_box = SecretBox::new(&config.master_key);
    let (seeded, changed) = seed(
        &db,
        &secrets_box,
        &mut secrets,
        sim.addr(),
        config.apikey_ttl,
    )
    .await
    .context("seeding the demo data failed")?;
    let seeded_history =
        history::seed_history(&db, &seeded.empresa_id, &seeded.router_id, &seeded.products)
            .await
            .context("seeding the demo's purchase history failed")?;
    if seeded_history > 0 {
        tracing::info!(
            purchases = seeded_history,
            "seeded a month of finished purchases"
        );
    }
    if changed || operator_added {
        write_private(&args.data_dir.join("demo-secrets.json"), &secrets)?;
    }

    // The sandbox makes a new Conekta webhook signing key on every run.
    let sb = sandbox.clone();
    if let Some(pem) =
        tokio::task::spawn_blocking(move || sb.conekta_webhook_public_key_pem()).await?
    {
        if let Some(e) = empresas::find(&db, EmpresaId(&seeded.empresa_id)).await? {
            let patch = EmpresaPatch {
                conekta_webhook_key: Some(Some(pem)),
                ..Default::default()
            };
            empresas::update(&db, e, patch).await?;
        }
    }

    let site = PortalSite {
        api_key: seeded.api_key.clone(),
        sim: sim.control(),
    };
    let app = Application::build_with_routes(config, db, Some(portal_routes(site))).await?;
    let host = match args.bind.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let base = match host {
        IpAddr::V6(v6) => format!("http://[{v6}]:{}", app.port()),
        IpAddr::V4(v4) => format!("http://{v4}:{}", app.port()),
    };
    // Signed notifications from the sandbox come back to this API, as from the real gateways.
    sandbox.set_mp_webhook_url(Some(format!(
        "{base}/api/v1/webhook/mercado-pago?empresa_id={}",
        seeded.empresa_id
    )));
    sandbox.set_conekta_webhook_url(Some(format!(
        "{base}/api/v1/webhook/conekta?empresa_id={}",
        seeded.empresa_id
    )));
    print_flush(&banner(
        &base,
        &secrets,
        &seeded,
        &sandbox.base_url(),
        sim.addr(),
    ))?;

    let result = app.run_until_stopped().await;
    sandbox.stop().await;
    drop(sim);
    print_flush("demo stopped\n")?;
    result
}
