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
//! * The sample captive portal (`portal/`) at `/portal/`, with this demo's API address and key
//!   filled in. Only the demo serves it.
//! * Prints the admin login, the API key and `curl` commands that buy a plan with each gateway.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use anyhow::Context as _;
use base64::Engine as _;
use chrono::Utc;
use rand::Rng as _;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use entity::{api_key, empresa, producto, router, usuario};

use crate::auth::password::{hash_password, verify_password, Verification};
use crate::config::{Config, MasterKey, RouterSettings};
use crate::crypto::{field, SecretBox};
use crate::db::routers::{create_router, insert_key, NewRouter};
use crate::sandbox::gateways::{SandboxConfig, SandboxGateways};
use crate::sandbox::routeros_sim::{default_seed_profiles, RouterSim, SimConfig};
use crate::startup::{Application, ExtraRoutes};
use crate::state::AppState;

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
pub const COMPANY_NAME: &str = "WiFi Demo";
/// Devices the simulated hotspot knows (MAC, IP), so auto-connect has someone to log in.
pub const DEMO_DEVICES: [(&str, &str); 3] = [
    ("AA:BB:CC:DD:EE:01", "10.5.50.11"),
    ("AA:BB:CC:DD:EE:02", "10.5.50.12"),
    ("AA:BB:CC:DD:EE:03", "10.5.50.13"),
];
/// A Mercado Pago test card (Mastercard) for card tokens.
pub const MP_TEST_CARD: &str = "5031755734530604";

const INDEX_HTML: &str = include_str!("../../../portal/index.html");
const PORTAL_JS: &str = include_str!("../../../portal/portal.js");
const PORTAL_CSS: &str = include_str!("../../../portal/portal.css");

/// Everything the demo keeps between runs (0600 JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoSecrets {
    pub master_key: String,
    pub jwt_session_secret: String,
    pub jwt_apikey_secret: String,
    pub admin_email: String,
    pub admin_password: String,
    pub router_password: String,
    pub conekta_private_key: String,
    pub conekta_public_key: String,
    pub mp_access_token: String,
    pub mp_public_key: String,
    pub mp_webhook_secret: String,
    #[serde(default)]
    pub empresa_id: Option<String>,
    #[serde(default)]
    pub router_id: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
}

fn random_alnum(n: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

impl DemoSecrets {
    fn generate() -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            master_key: base64::engine::general_purpose::STANDARD.encode(key),
            jwt_session_secret: random_alnum(48),
            jwt_apikey_secret: random_alnum(48),
            admin_email: ADMIN_EMAIL.into(),
            admin_password: random_alnum(16),
            router_password: random_alnum(20),
            conekta_private_key: format!("key_demo{}", random_alnum(20)),
            conekta_public_key: format!("key_demopub{}", random_alnum(16)),
            mp_access_token: format!("TEST-{}", random_alnum(32)),
            mp_public_key: format!("TEST-{}", random_alnum(24)),
            mp_webhook_secret: random_alnum(32),
            empresa_id: None,
            router_id: None,
            api_key: None,
        }
    }
}

/// Writes `value` to `path` atomically with mode 0600.
fn write_private(path: &Path, value: &DemoSecrets) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(serde_json::to_string_pretty(value)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Loads the secrets, or makes them on the first run. A database without its secrets file
/// cannot be read (its secrets are encrypted under the lost master key): that is an error.
fn load_or_create_secrets(dir: &Path) -> anyhow::Result<(DemoSecrets, bool)> {
    let path = dir.join("demo-secrets.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let secrets: DemoSecrets = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a demo secrets file", path.display()))?;
        MasterKey::from_base64(&secrets.master_key)
            .map_err(|e| anyhow::anyhow!("{}: master_key {e}", path.display()))?;
        return Ok((secrets, false));
    }
    let db = dir.join("demo.db");
    if db.exists() {
        anyhow::bail!(
            "{} exists but {} is missing: delete {} to start the demo afresh",
            db.display(),
            path.display(),
            db.display()
        );
    }
    let secrets = DemoSecrets::generate();
    write_private(&path, &secrets)?;
    Ok((secrets, true))
}

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
    config.static_dir = args.data_dir.join("static");
    config.log_format = "pretty".into();
    config.background_jobs = true;
    config.http_workers = Some(2);
    config.router = RouterSettings::default();
    Ok(config)
}

/// What the seed produced (or found).
#[derive(Debug, Clone)]
pub struct Seeded {
    pub empresa_id: String,
    pub router_id: String,
    pub api_key: String,
    pub products: Vec<producto::Model>,
}

/// The three plans: (sale name, simulator profile, price, description, details).
const PLANS: [(&str, &str, i64, &str, [&str; 2]); 3] = [
    (
        "1 hora",
        "1h",
        15,
        "Una hora de Internet",
        ["Velocidad de bajada 5 Mbps", "Un dispositivo"],
    ),
    (
        "1 día",
        "1d",
        50,
        "24 horas de Internet",
        ["Velocidad de bajada 10 Mbps", "Un dispositivo"],
    ),
    (
        "1 semana",
        "1w",
        200,
        "7 días de Internet",
        ["Velocidad de bajada 15 Mbps", "Un dispositivo"],
    ),
];

/// RouterOS `.id` of a seeded simulator profile: `default` is `*1`, then the seeds in order.
fn sim_profile_id(name: &str) -> String {
    let idx = default_seed_profiles()
        .iter()
        .position(|p| p.name == name)
        .map_or(0, |i| i + 2);
    format!("*{idx:X}")
}

/// Creates the demo's company, router, plans and admin (first run), or brings them up to date
/// (router address, API key, admin password) on later runs.
pub async fn seed(
    db: &DatabaseConnection,
    secrets_box: &SecretBox,
    secrets: &mut DemoSecrets,
    router_addr: SocketAddr,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(Seeded, bool)> {
    let existing = match &secrets.empresa_id {
        Some(id) => empresa::Entity::find_by_id(id.clone()).one(db).await?,
        None => None,
    };
    let existing_router = match (&existing, &secrets.router_id) {
        (Some(_), Some(id)) => router::Entity::find_by_id(id.clone()).one(db).await?,
        _ => None,
    };
    let mut changed = false;
    let (empresa_id, router_row) = match (existing, existing_router) {
        (Some(e), Some(r)) => (e.id, r),
        _ => {
            let (e, r, key) = seed_fresh(db, secrets_box, secrets, router_addr, apikey_ttl).await?;
            secrets.empresa_id = Some(e.clone());
            secrets.router_id = Some(r.id.clone());
            secrets.api_key = Some(key);
            changed = true;
            (e, r)
        }
    };

    // The simulator's port changes on every run.
    let mut r = router_row.into_active_model();
    r.host = Set(router_addr.ip().to_string());
    r.puerto = Set(i32::from(router_addr.port()));
    r.usuario = Set(ROUTER_USER.into());
    r.password_encrypted =
        Set(secrets_box.encrypt(field::ROUTER_PASSWORD, &secrets.router_password));
    r.use_tls = Set(false);
    r.tls_fingerprint = Set(None);
    r.actualizado_en = Set(Utc::now());
    let router_row = r.update(db).await?;

    // The API key: reuse the saved one while it is still valid, otherwise issue a new one.
    let valid = match &secrets.api_key {
        Some(k) => key_is_valid(db, secrets, k, &router_row.id).await?,
        None => false,
    };
    if !valid {
        let key = crate::auth::api_key::issue(
            &router_row.id,
            &empresa_id,
            &secrets.jwt_apikey_secret,
            apikey_ttl,
        )?;
        let txn = crate::db::begin_write(db).await?;
        insert_key(&txn, &router_row, &key).await?;
        let mut r = router_row.clone().into_active_model();
        r.api_key_hash = Set(key.key_hash.clone());
        r.update(&txn).await?;
        txn.commit().await?;
        secrets.api_key = Some(key.api_key);
        changed = true;
    }

    ensure_admin(db, secrets, &empresa_id).await?;

    let products = producto::Entity::find()
        .filter(producto::Column::EmpresaId.eq(empresa_id.as_str()))
        .filter(producto::Column::RouterId.eq(router_row.id.as_str()))
        .filter(producto::Column::Activo.eq(true))
        .order_by_asc(producto::Column::OrdenVisual)
        .all(db)
        .await?;
    Ok((
        Seeded {
            empresa_id,
            router_id: router_row.id,
            api_key: secrets.api_key.clone().unwrap_or_default(),
            products,
        },
        changed,
    ))
}

async fn key_is_valid(
    db: &DatabaseConnection,
    secrets: &DemoSecrets,
    key: &str,
    router_id: &str,
) -> anyhow::Result<bool> {
    let Ok((hash, claims)) =
        crate::auth::api_key::decode(key, &secrets.jwt_apikey_secret, Utc::now())
    else {
        return Ok(false);
    };
    if claims.sub != router_id {
        return Ok(false);
    }
    let row = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .filter(api_key::Column::Revoked.eq(false))
        .one(db)
        .await?;
    Ok(row.is_some())
}

async fn seed_fresh(
    db: &DatabaseConnection,
    secrets_box: &SecretBox,
    secrets: &DemoSecrets,
    router_addr: SocketAddr,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(String, router::Model, String)> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let empresa = empresa::ActiveModel {
        id: Set(crate::wire::new_empresa_id()),
        nombre: Set(COMPANY_NAME.into()),
        contacto_email: Set(Some(secrets.admin_email.clone())),
        contacto_telefono: Set(None),
        logo_url: Set(None),
        conekta_private_key: Set(Some(
            secrets_box.encrypt(field::CONEKTA_PRIVATE_KEY, &secrets.conekta_private_key),
        )),
        conekta_public_key: Set(Some(secrets.conekta_public_key.clone())),
        conekta_mode: Set("test".into()),
        mercado_pago_access_token: Set(Some(
            secrets_box.encrypt(field::MP_ACCESS_TOKEN, &secrets.mp_access_token),
        )),
        mercado_pago_public_key: Set(Some(secrets.mp_public_key.clone())),
        mercado_pago_mode: Set("test".into()),
        mercado_pago_webhook_secret: Set(Some(
            secrets_box.encrypt(field::MP_WEBHOOK_SECRET, &secrets.mp_webhook_secret),
        )),
        conekta_webhook_key: Set(None),
        telegram_bot_token: Set(None),
        telegram_chat_id: Set(None),
        notificaciones_telegram: Set(false),
        activa: Set(true),
        creada_en: Set(now),
    }
    .insert(&txn)
    .await?;
    let (router_row, key) = create_router(
        &txn,
        secrets_box,
        NewRouter {
            empresa_id: empresa.id.clone(),
            nombre: "Router Demo".into(),
            host: router_addr.ip().to_string(),
            puerto: i32::from(router_addr.port()),
            usuario: ROUTER_USER.into(),
            password: secrets.router_password.clone(),
            ubicacion: Some("Simulador RouterOS (demo)".into()),
            use_tls: false,
            tls_fingerprint: None,
        },
        &secrets.jwt_apikey_secret,
        apikey_ttl,
    )
    .await?;
    for (i, (name, profile, price, desc, details)) in PLANS.iter().enumerate() {
        let orden = i32::try_from(i).unwrap_or(0) + 1;
        producto::ActiveModel {
            empresa_id: Set(empresa.id.clone()),
            router_id: Set(router_row.id.clone()),
            perfil_mikrotik_id: Set(sim_profile_id(profile)),
            perfil_mikrotik_nombre: Set((*profile).into()),
            nombre_venta: Set((*name).into()),
            descripcion: Set(Some((*desc).into())),
            imagen_url: Set(None),
            precio: Set(Decimal::from(*price)),
            moneda: Set("MXN".into()),
            detalles: Set(json!(details
                .iter()
                .map(|t| json!({ "texto": t }))
                .collect::<Vec<_>>())),
            activo: Set(true),
            orden_visual: Set(orden),
            destacado: Set(*profile == "1d"),
            creado_en: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok((empresa.id, router_row, key.api_key))
}

/// The company admin exists, is active and has the saved password.
async fn ensure_admin(
    db: &DatabaseConnection,
    secrets: &DemoSecrets,
    empresa_id: &str,
) -> anyhow::Result<()> {
    let found = usuario::Entity::find()
        .filter(usuario::Column::Email.eq(secrets.admin_email.as_str()))
        .one(db)
        .await?;
    let password = secrets.admin_password.clone();
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let matches = match stored {
        Some(hash) => {
            let pw = password.clone();
            matches!(
                tokio::task::spawn_blocking(move || verify_password(&hash, &pw)).await?,
                Verification::Valid { .. }
            )
        }
        None => false,
    };
    let hash = if matches {
        None
    } else {
        let pw = password.clone();
        Some(tokio::task::spawn_blocking(move || hash_password(&pw)).await??)
    };
    match found {
        Some(user) => {
            if hash.is_some() || !user.activo || user.empresa_id.as_deref() != Some(empresa_id) {
                let mut m = user.into_active_model();
                if let Some(h) = hash {
                    m.password_hash = Set(h);
                    m.password_changed_at = Set(Some(Utc::now()));
                }
                m.activo = Set(true);
                m.rol = Set(crate::auth::session::ROLE_CLIENTE_ADMIN.into());
                m.empresa_id = Set(Some(empresa_id.into()));
                m.update(db).await?;
            }
        }
        None => {
            usuario::ActiveModel {
                rol: Set(crate::auth::session::ROLE_CLIENTE_ADMIN.into()),
                empresa_id: Set(Some(empresa_id.into())),
                email: Set(secrets.admin_email.clone()),
                password_hash: Set(hash.unwrap_or_default()),
                nombre: Set("Admin WiFi Demo".into()),
                activo: Set(true),
                creado_en: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- the portal page

/// What the demo's portal routes need.
#[derive(Clone)]
struct PortalSite {
    api_key: String,
    sandbox_base: String,
}

/// A JSON string literal that is also safe inside an HTML `<script>`.
fn js_string(value: &str) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `portal/index.html` with this demo's API address, key and card-token endpoint.
fn portal_index(api_base: &str, api_key: &str) -> String {
    INDEX_HTML
        .replacen("\"__API_BASE__\"", &js_string(api_base), 1)
        .replacen("\"__API_KEY__\"", &js_string(api_key), 1)
        .replacen(
            "\"__MP_API_BASE__\"",
            &js_string(&format!("{api_base}/portal/mp")),
            1,
        )
}

fn request_origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn portal_redirect(req: HttpRequest) -> HttpResponse {
    let q = req.query_string();
    let location = if q.is_empty() {
        "/portal/".to_string()
    } else {
        format!("/portal/?{q}")
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn portal_page(req: HttpRequest, site: web::Data<PortalSite>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(portal_index(&request_origin(&req), &site.api_key))
}

async fn portal_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(PORTAL_JS)
}

async fn portal_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(PORTAL_CSS)
}

/// Mercado Pago card tokens, forwarded to the sandbox (which has no CORS and whose port
/// changes on every run), as the MP JS SDK would call `api.mercadopago.com` from the page.
async fn card_tokens(
    req: HttpRequest,
    body: web::Bytes,
    site: web::Data<PortalSite>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let mut url = format!("{}/v1/card_tokens", site.sandbox_base);
    if !req.query_string().is_empty() {
        url.push('?');
        url.push_str(req.query_string());
    }
    let answer = state
        .http
        .post(url)
        .header(header::CONTENT_TYPE.as_str(), "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(res) => {
            let status = actix_web::http::StatusCode::from_u16(res.status().as_u16())
                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
            match res.bytes().await {
                Ok(bytes) => HttpResponse::build(status)
                    .content_type("application/json")
                    .body(bytes.to_vec()),
                Err(_) => HttpResponse::BadGateway().json(json!({"detail": "sandbox"})),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "sandbox card token request failed");
            HttpResponse::BadGateway().json(json!({"detail": "sandbox no disponible"}))
        }
    }
}

fn portal_routes(site: PortalSite) -> ExtraRoutes {
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(site.clone()))
            .route("/portal", web::get().to(portal_redirect))
            .route("/portal/", web::get().to(portal_page))
            .route("/portal/index.html", web::get().to(portal_page))
            .route("/portal/portal.js", web::get().to(portal_js))
            .route("/portal/portal.css", web::get().to(portal_css))
            .route("/portal/mp/v1/card_tokens", web::post().to(card_tokens));
    })
}

// ---------------------------------------------------------------- the banner

/// The `curl` commands and login the demo prints.
pub fn banner(
    base: &str,
    secrets: &DemoSecrets,
    seeded: &Seeded,
    sandbox_base: &str,
    router_addr: SocketAddr,
) -> String {
    let key = &seeded.api_key;
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("pagos-hotspot demo");
    line(&format!("listening on {base}"));
    line(&format!(
        "company admin: {} / {}",
        secrets.admin_email, secrets.admin_password
    ));
    line(&format!("router API key: {key}"));
    line(&format!(
        "captive portal: {base}/portal/?mac=AA:BB:CC:DD:EE:02&ip=10.5.50.12"
    ));
    line(&format!("API docs: {base}/docs"));
    line(&format!(
        "in this process: sandbox gateways at {sandbox_base}, simulated RouterOS API at {router_addr}"
    ));
    line("");
    line("# 1. Log in as the company admin");
    line(&format!(
        "curl -sS --fail-with-body -X POST '{base}/api/v1/auth/login' \\"
    ));
    line("  -H 'Content-Type: application/json' \\");
    line(&format!(
        "  -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
        secrets.admin_email, secrets.admin_password
    ));
    line("");
    let plan = |i: usize| seeded.products.get(i).or_else(|| seeded.products.first());
    if let Some(p) = plan(0) {
        line(&format!(
            "# 2. Buy \"{}\" with Conekta (sandbox card tok_test_visa_4242; each test token pays once per run,",
            p.nombre_venta
        ));
        line("#    others: tok_test_mastercard_4444, tok_test_mastercard_5100, tok_test_visa_1881, tok_test_amex_0005)");
        line(&format!(
            "curl -sS --fail-with-body -X POST '{base}/api/v1/payments/pagar-conekta' \\"
        ));
        line(&format!("  -H 'X-API-Key: {key}' \\"));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"producto_id\":{},\"token_tarjeta\":\"tok_test_visa_4242\",\"nombre_cliente\":\"Ana Demo\",\"email_cliente\":\"ana@example.com\",\"tipo_usuario\":\"usuario_contrasena\",\"mac_cliente\":\"{}\",\"ip_cliente\":\"{}\",\"conexion_automatica\":true}}'",
            p.id, DEMO_DEVICES[0].0, DEMO_DEVICES[0].1
        ));
        line("");
    }
    if let Some(p) = plan(1) {
        line(&format!(
            "# 3. Buy \"{}\" with Mercado Pago: make a card token (cardholder APRO = approved), then pay",
            p.nombre_venta
        ));
        line(&format!(
            "MP_TOKEN=$(curl -sS --fail-with-body -X POST '{base}/portal/mp/v1/card_tokens?public_key={}' \\",
            secrets.mp_public_key
        ));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"card_number\":\"{MP_TEST_CARD}\",\"security_code\":\"123\",\"expiration_month\":11,\"expiration_year\":2030,\"cardholder\":{{\"name\":\"APRO\",\"identification\":{{\"type\":\"RFC\",\"number\":\"XAXX010101000\"}}}}}}' \\"
        ));
        line("  | grep -o '\"id\":\"[0-9a-f]*\"' | cut -d'\"' -f4)");
        line(&format!(
            "curl -sS --fail-with-body -X POST '{base}/api/v1/payments/pagar-mercado-pago' \\"
        ));
        line(&format!("  -H 'X-API-Key: {key}' \\"));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"producto_id\":{},\"token\":\"'\"$MP_TOKEN\"'\",\"payment_method_id\":\"master\",\"monto\":{:.2},\"cuotas\":1,\"nombre_cliente\":\"Luis Demo\",\"email_cliente\":\"luis@example.com\",\"tipo_usuario\":\"pin\",\"mac_cliente\":\"{}\",\"ip_cliente\":\"{}\",\"conexion_automatica\":true}}'",
            p.id,
            p.precio,
            DEMO_DEVICES[2].0,
            DEMO_DEVICES[2].1
        ));
        line("");
    }
    if seeded.products.is_empty() {
        line("(no active plans on the demo router: activate one to get purchase commands)");
        line("");
    }
    line("Ctrl-C stops the demo; the next run reuses its data.");
    out
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
    if changed {
        write_private(&args.data_dir.join("demo-secrets.json"), &secrets)?;
    }

    // The sandbox makes a new Conekta webhook signing key on every run.
    let sb = sandbox.clone();
    if let Some(pem) =
        tokio::task::spawn_blocking(move || sb.conekta_webhook_public_key_pem()).await?
    {
        if let Some(e) = empresa::Entity::find_by_id(seeded.empresa_id.clone())
            .one(&db)
            .await?
        {
            let mut e = e.into_active_model();
            e.conekta_webhook_key = Set(Some(pem));
            e.update(&db).await?;
        }
    }

    let site = PortalSite {
        api_key: seeded.api_key.clone(),
        sandbox_base: sandbox.base_url(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_are_script_safe() {
        let html = portal_index("http://h:1", "jwt_</script><b>&");
        assert!(html.contains("\"http://h:1\""));
        assert!(html.contains("\"http://h:1/portal/mp\""));
        assert!(!html.contains("jwt_</script>"));
        assert!(html.contains("jwt_\\u003c/script\\u003e\\u003cb\\u003e\\u0026"));
        assert!(!html.contains("__API_KEY__"));
    }

    #[test]
    fn simulator_profile_ids_follow_the_seed_order() {
        assert_eq!(sim_profile_id("1h"), "*2");
        assert_eq!(sim_profile_id("1d"), "*3");
        assert_eq!(sim_profile_id("1w"), "*4");
    }

    #[test]
    fn secrets_are_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_secrets(dir.path()).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("demo-secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = load_or_create_secrets(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(first.master_key, again.master_key);
        assert_eq!(first.admin_password, again.admin_password);
        // A database whose secrets are gone is refused, not silently re-keyed.
        std::fs::remove_file(dir.path().join("demo-secrets.json")).unwrap();
        std::fs::write(dir.path().join("demo.db"), b"").unwrap();
        let err = load_or_create_secrets(dir.path()).unwrap_err().to_string();
        assert!(err.contains("demo-secrets.json is missing"), "{err}");
    }
}
