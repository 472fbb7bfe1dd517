//! `import-original`: a realistic installation of the original system (built in a fresh
//! PostgreSQL database from `tests/fixtures/original/`) moves into this service's database
//! (SQLite, or PostgreSQL with `TEST_DATABASE_URL`). Its router keys, minted with the original's
//! algorithm, buy plans on the imported router; its admins log in with their passwords; the
//! money per company and month is the source's; runs are idempotent and a run killed halfway
//! through a company resumes into a consistent database.

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, PrimaryKeyTrait,
    Statement,
};
use secrecy::ExposeSecret;
use serde_json::Value;

use entity::{api_key, empresa, producto, router, transaccion, usuario};
use pagos_hotspot::config::Config;
use pagos_hotspot::crypto::{field, SecretBox};
use pagos_hotspot::db::testing::{fresh_database, TestDb};
use pagos_hotspot::db::usuarios;
use pagos_hotspot::sandbox::gateways::{SandboxConfig, SandboxGateways, SandboxHandle};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use pagos_hotspot::tools::import::{import, ImportOptions, ImportReport};

use crate::helpers::original::{self, *};
use crate::helpers::purchase::{
    base_config, conekta_body, pay_at, spawn_app_with_db, ExtraApp, CONEKTA_KEY,
};
use crate::helpers::status_json;

const MEXICO: &str = "America/Mexico_City";

/// The target database, its configuration and the fakes the imported router and company use.
struct Stage {
    target: TestDb,
    config: Config,
    sb: SandboxHandle,
    sim: RouterSim,
}

async fn stage() -> Stage {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    let target = fresh_database().await;
    let mut config = Config::for_tests(target.url.clone());
    base_config(&mut config, &sb);
    Stage {
        target,
        config,
        sb,
        sim,
    }
}

impl Stage {
    async fn source(&self, schema: Schema) -> Original {
        original::build(&Fill {
            schema,
            router_port: self.sim.addr().port(),
            apikey_secret: self.config.jwt_apikey_secret.expose_secret(),
            conekta_private_key: CONEKTA_KEY,
            mp_webhook_secret: &self.sb.mp_webhook_secret(),
        })
        .await
    }

    fn secrets(&self) -> SecretBox {
        SecretBox::new(&self.config.master_key)
    }

    fn master_key_b64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.config.master_key.expose())
    }

    async fn app(&self) -> ExtraApp {
        let sb_url = self.sb.base_url();
        spawn_app_with_db(
            &self.target.url,
            self.target.db.clone(),
            &self.config,
            |c| {
                c.conekta_api_base = sb_url.clone();
                c.mercadopago_api_base = sb_url.clone();
                c.telegram_api_base = sb_url;
                c.rate_limits = false;
            },
        )
        .await
    }
}

/// The row with this id (it must exist).
async fn row<E: EntityTrait>(
    db: &DatabaseConnection,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
) -> E::Model {
    E::find_by_id(id).one(db).await.unwrap().unwrap()
}

fn options(tz: &str, fernet: Option<String>) -> ImportOptions {
    ImportOptions {
        source_tz: tz.into(),
        fernet_key: fernet,
        static_dir: None,
        target_static_dir: std::env::temp_dir(),
        dry_run: false,
        crash_after_companies: None,
        // Several pages per company.
        history_page: 500,
    }
}

fn assert_counts(report: &ImportReport, imported: bool) {
    let expected = [
        ("empresas", 2),
        ("usuarios", 3),
        ("routers", 3),
        ("api_keys_tracking", 5),
        ("productos", 10),
        ("transacciones", TRANSACTIONS as u64),
    ];
    for (table, n) in expected {
        let c = report.counts.get(table).copied().unwrap_or_default();
        assert_eq!(c.read, n, "{table} read\n{report}");
        assert_eq!(c.skipped, 0, "{table} skipped\n{report}");
        let (new, old) = if imported { (n, 0) } else { (0, n) };
        assert_eq!((c.imported, c.present), (new, old), "{table}\n{report}");
    }
    assert!(report.failed.is_empty(), "{report}");
}

/// Sum and count per company and calendar month as the original's operator saw them: in the
/// source, the naive local `creada_en`; here, the UTC instant shown at the zone's offset
/// (Mexico City has kept UTC−6 all year since 2022).
async fn month_totals(
    src: &DatabaseConnection,
    target: &DatabaseConnection,
    offset_hours: i32,
) -> (
    BTreeMap<(String, String), (Decimal, i64)>,
    BTreeMap<(String, String), (Decimal, i64)>,
) {
    let rows = src
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            "SELECT empresa_id, to_char(creada_en, 'YYYY-MM') AS m, SUM(monto)::text AS total, \
             COUNT(*) AS n FROM transacciones GROUP BY 1, 2",
        ))
        .await
        .unwrap();
    let mut source = BTreeMap::new();
    for r in rows {
        let total: String = r.try_get("", "total").unwrap();
        source.insert(
            (
                r.try_get("", "empresa_id").unwrap(),
                r.try_get("", "m").unwrap(),
            ),
            (
                total.parse::<Decimal>().unwrap(),
                r.try_get::<i64>("", "n").unwrap(),
            ),
        );
    }
    let zone = FixedOffset::east_opt(offset_hours * 3600).unwrap();
    let mut here: BTreeMap<(String, String), (Decimal, i64)> = BTreeMap::new();
    for t in transaccion::Entity::find().all(target).await.unwrap() {
        let month = t.creada_en.with_timezone(&zone).format("%Y-%m").to_string();
        let e = here.entry((t.empresa_id, month)).or_default();
        e.0 += t.monto.round_dp(2);
        e.1 += 1;
    }
    (source, here)
}

async fn check_history(stage: &Stage, src: &Original, offset_hours: i32) {
    let db = &stage.target.db;
    let (source, here) = month_totals(src.db(), db, offset_hours).await;
    assert!(source.len() > 20, "several months per company: {source:?}");
    assert_eq!(here, source, "totals per company and month");
    let first = row::<transaccion::Entity>(db, 1).await;
    let local_2330 = Utc.with_ymd_and_hms(2025, 3, 31, 23, 30, 0).unwrap()
        - chrono::Duration::hours(i64::from(offset_hours));
    assert_eq!(
        first.creada_en, local_2330,
        "creada_en was database-local time"
    );
    let paid: DateTime<Utc> = Utc.with_ymd_and_hms(2025, 4, 1, 5, 35, 0).unwrap();
    assert_eq!(first.pagada_en, Some(paid), "pagada_en was utcnow()");
    assert_eq!(first.gateway.as_deref(), Some("conekta"));
    let pass = stage
        .secrets()
        .decrypt(
            field::HOTSPOT_PASSWORD,
            first.password_hotspot.as_deref().unwrap(),
        )
        .unwrap();
    assert_eq!(pass.as_str(), "0001", "hotspot password encrypted at rest");
    let null_state = row::<transaccion::Entity>(db, 5).await;
    assert_eq!(
        null_state.estado_pago, "pending",
        "NULL estado_pago is the original's default"
    );
    let mp = row::<transaccion::Entity>(db, 2).await;
    assert_eq!(mp.gateway.as_deref(), Some("mercado_pago"));
    assert_eq!(mp.transaccion_id.as_deref(), Some("20000000002"));
}

async fn check_rows(stage: &Stage) {
    let db = &stage.target.db;
    let s = stage.secrets();
    let sol = row::<empresa::Entity>(db, EMP_SOL).await;
    let open =
        |label, v: &Option<String>| s.decrypt(label, v.as_deref().unwrap()).unwrap().to_string();
    assert_eq!(
        open(field::CONEKTA_PRIVATE_KEY, &sol.conekta_private_key),
        CONEKTA_KEY
    );
    assert_eq!(
        open(field::MP_ACCESS_TOKEN, &sol.mercado_pago_access_token),
        MP_TOKEN_SOL
    );
    let luna = row::<empresa::Entity>(db, EMP_LUNA).await;
    assert_eq!(
        open(field::MP_ACCESS_TOKEN, &luna.mercado_pago_access_token),
        MP_TOKEN_LUNA
    );
    let r = row::<router::Entity>(db, RTR_SOL_1).await;
    assert_eq!(
        s.decrypt(field::ROUTER_PASSWORD, &r.password_encrypted)
            .unwrap()
            .as_str(),
        "router-pass"
    );
    let keys = api_key::Entity::find().all(db).await.unwrap();
    assert_eq!(
        keys.iter().filter(|k| k.revoked).count(),
        2,
        "revoked and NULL-revoked"
    );
    assert!(keys
        .iter()
        .all(|k| k.use_count == 42 && k.last_used.is_some()));
    let p = row::<producto::Entity>(db, PRODUCT_1H).await;
    assert_eq!(
        (
            p.perfil_mikrotik_nombre.as_str(),
            p.perfil_mikrotik_id.as_str()
        ),
        ("1h", "*1")
    );
    assert!(p.destacado && p.activo);
    assert_eq!(
        p.detalles,
        serde_json::json!(["Velocidad 10 Mbps", "1 dispositivo"])
    );
    let hidden = row::<producto::Entity>(db, 7).await;
    assert!(
        !hidden.activo,
        "NULL activo: the original's catalogue did not show it"
    );
    let admins = usuario::Entity::find().all(db).await.unwrap();
    assert!(admins
        .iter()
        .all(|u| u.password_hash.starts_with("$2b$12$")));
}

async fn check_models_extras(stage: &Stage, report: &ImportReport, logo_dir: &std::path::Path) {
    let db = &stage.target.db;
    let s = stage.secrets();
    let sol = row::<empresa::Entity>(db, EMP_SOL).await;
    let secret = s
        .decrypt(
            field::MP_WEBHOOK_SECRET,
            sol.mercado_pago_webhook_secret.as_deref().unwrap(),
        )
        .unwrap();
    assert_eq!(
        secret.as_str(),
        stage.sb.mp_webhook_secret(),
        "Fernet webhook secret decrypted"
    );
    let bot = s
        .decrypt(
            field::TELEGRAM_BOT_TOKEN,
            sol.telegram_bot_token.as_deref().unwrap(),
        )
        .unwrap();
    assert_eq!(bot.as_str(), BOT_TOKEN);
    assert_eq!(
        sol.mercado_pago_mode, "live",
        "the original's free-text 'production'"
    );
    assert_eq!(sol.logo_url.as_deref(), Some(LOGO_URL));
    let copied = std::fs::read(logo_dir.join("logos/logo_EMP_50A1B2C3D4_a1b2c3.png")).unwrap();
    assert_eq!(copied, b"\x89PNG fake logo");
    assert!(report.reenter.is_empty(), "{report}");
    assert!(report.missing_columns.is_empty(), "{report}");
}

/// The original's keys on the imported router: catalogue, public config and router probe as
/// Bearer and as `X-API-Key`; revoked, NULL-revoked and expired keys refused.
/// How a portal presents its key.
#[derive(Clone, Copy)]
enum Header {
    Bearer,
    XApiKey,
}

/// One portal request with `key`: its status and JSON answer.
async fn portal(app: &ExtraApp, post: bool, path: &str, key: &str, how: Header) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", app.address);
    let rb = if post { http.post(url) } else { http.get(url) };
    let rb = match how {
        Header::Bearer => rb.bearer_auth(key),
        Header::XApiKey => rb.header("X-API-Key", key),
    };
    status_json(rb.send().await.unwrap()).await
}

async fn check_keys(app: &ExtraApp, src: &Original) {
    let key = &src.key_valid;
    let (s, v) = portal(
        app,
        false,
        "/api/v1/catalogo_perfiles_venta",
        key,
        Header::Bearer,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&i64::from(PRODUCT_1H)) && !ids.contains(&7),
        "{v}"
    );
    let (s, v) = portal(app, false, "/api/v1/config/public", key, Header::XApiKey).await;
    assert_eq!(
        (s, v["empresa"]["id"].as_str()),
        (200, Some(EMP_SOL)),
        "{v}"
    );
    let probe = "/api/v1/routers/validar-empresa-router";
    let (s, v) = portal(app, true, probe, key, Header::Bearer).await;
    assert_eq!((s, v["conexion_ok"].as_bool()), (200, Some(true)), "{v}");
    let (s, v) = portal(
        app,
        false,
        "/api/v1/config/public",
        &src.key_luna,
        Header::Bearer,
    )
    .await;
    assert_eq!(
        (s, v["empresa"]["id"].as_str()),
        (200, Some(EMP_LUNA)),
        "{v}"
    );
    for (key, detail) in [
        (&src.key_revoked, "API Key no válida o revocada"),
        (&src.key_null_revoked, "API Key no válida o revocada"),
        (&src.key_expired, "API Key expirada"),
    ] {
        let (s, v) = portal(app, false, "/api/v1/config/public", key, Header::XApiKey).await;
        assert_eq!((s, v["detail"].as_str()), (401, Some(detail)), "{v}");
    }
}

async fn check_purchase_and_login(stage: &Stage, app: &ExtraApp, src: &Original) {
    let http = reqwest::Client::new();
    let (s, v) = pay_at(
        &http,
        &app.address,
        &src.key_valid,
        "/api/v1/payments/pagar-conekta",
        &conekta_body(PRODUCT_1H, "tok_test_visa_4242"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["estado_pago"], "paid");
    let user = v["usuario_hotspot"]["usuario"].as_str().unwrap();
    let on_router = stage.sim.users();
    assert!(
        on_router
            .iter()
            .any(|u| u.name == user && u.profile == "1h" && !u.disabled),
        "{on_router:?}"
    );
    let new_rows = transaccion::Entity::find()
        .all(&stage.target.db)
        .await
        .unwrap();
    let bought = new_rows.iter().find(|t| t.purchase_id.is_some()).unwrap();
    assert!(
        bought.id > TRANSACTIONS as i32,
        "new ids come after the imported ones: {}",
        bought.id
    );
    assert_eq!(new_rows.len() as i64, TRANSACTIONS + 1);
    let res = http
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&serde_json::json!({"email": ADMIN_SOL, "password": ADMIN_SOL_PASSWORD}))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!(
        (s, v["user"]["empresa_id"].as_str()),
        (200, Some(EMP_SOL)),
        "{v}"
    );
    let res = http
        .post(format!("{}/api/v1/auth/login", app.address))
        .json(&serde_json::json!({"email": ROOT, "password": ROOT_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let admin = row::<usuario::Entity>(&stage.target.db, 2).await;
    assert!(
        admin.password_hash.starts_with("$argon2"),
        "bcrypt re-hashed on login"
    );
}

#[actix_web::test]
async fn an_installation_moves_over_and_its_keys_keep_selling() {
    let stage = stage().await;
    let src = stage.source(Schema::Models).await;
    let original_static = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(original_static.path().join("logos")).unwrap();
    std::fs::write(
        original_static
            .path()
            .join("logos/logo_EMP_50A1B2C3D4_a1b2c3.png"),
        b"\x89PNG fake logo",
    )
    .unwrap();
    let logo_dir = tempfile::tempdir().unwrap();
    let opts = ImportOptions {
        static_dir: Some(original_static.path().to_path_buf()),
        target_static_dir: logo_dir.path().to_path_buf(),
        ..options(MEXICO, Some(fernet_key()))
    };
    let report = import(src.url(), &stage.target.db, &stage.secrets(), &opts)
        .await
        .unwrap();
    assert_counts(&report, true);
    check_history(&stage, &src, -6).await;
    check_rows(&stage).await;
    check_models_extras(&stage, &report, logo_dir.path()).await;

    let again = import(src.url(), &stage.target.db, &stage.secrets(), &opts)
        .await
        .unwrap();
    assert_eq!(again.imported(), 0, "{again}");
    assert_counts(&again, false);

    let app = stage.app().await;
    check_keys(&app, &src).await;
    check_purchase_and_login(&stage, &app, &src).await;
}

async fn count_rows(db: &DatabaseConnection) -> [u64; 6] {
    [
        empresa::Entity::find().count(db).await.unwrap(),
        usuario::Entity::find().count(db).await.unwrap(),
        router::Entity::find().count(db).await.unwrap(),
        api_key::Entity::find().count(db).await.unwrap(),
        producto::Entity::find().count(db).await.unwrap(),
        transaccion::Entity::find().count(db).await.unwrap(),
    ]
}

fn run_binary(stage: &Stage, src: &Original, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"))
        .args(["import-original", "--from", src.url()])
        .args(extra)
        .env("DATABASE_URL", &stage.target.url)
        .env("MASTER_KEY", stage.master_key_b64())
        .env_remove("ENCRYPTION_KEY_MERCADO_PAGO")
        .output()
        .unwrap()
}

/// Runs the binary to success; its report.
fn run_ok(stage: &Stage, src: &Original, extra: &[&str]) -> String {
    let out = run_binary(stage, src, extra);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The report's count line of `table`: read, imported, already present, skipped.
fn counts_of(report: &str, table: &str) -> Vec<String> {
    let line = report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("no {table} line in\n{report}"));
    line.split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[actix_web::test]
async fn an_older_install_dry_runs_then_survives_a_kill_halfway() {
    let stage = stage().await;
    let src = stage.source(Schema::Dump).await;
    // An account made here before the import holds id 1: the original's admin 1 is skipped.
    let mine = usuarios::NewUsuario {
        rol: usuarios::Role::SuperAdmin,
        empresa_id: None,
        email: "ops@nuevo.mx".into(),
        password_hash: "$argon2id$placeholder".into(),
        nombre: "Ops".into(),
    };
    assert_eq!(
        usuarios::insert(&stage.target.db, mine).await.unwrap().id,
        1
    );

    let out = run_ok(&stage, &src, &["--dry-run"]);
    assert!(out.contains("DRY RUN"), "{out}");
    assert_eq!(counts_of(&out, "transacciones"), ["2000", "2000", "0", "0"]);
    assert_eq!(
        count_rows(&stage.target.db).await,
        [0, 1, 0, 0, 0, 0],
        "a dry run writes nothing"
    );

    // Killed with the second company's transaction open (companies go in id order: Luna, then
    // Sol): the first is whole, nothing of the second is there.
    let killed = run_binary(&stage, &src, &["--crash-after-companies", "1"]);
    let stderr = String::from_utf8_lossy(&killed.stderr);
    assert_eq!(killed.status.code(), Some(86), "{stderr}");
    let first = transaccion::Entity::find()
        .all(&stage.target.db)
        .await
        .unwrap();
    assert_eq!(first.len(), 666, "every transaction of the first company");
    assert!(first.iter().all(|t| t.empresa_id == EMP_LUNA));
    let sol = empresa::Entity::find_by_id(EMP_SOL)
        .one(&stage.target.db)
        .await
        .unwrap();
    assert!(sol.is_none());
    assert_eq!(count_rows(&stage.target.db).await, [1, 2, 1, 2, 3, 666]);

    let out = run_ok(&stage, &src, &[]);
    let full = [2, 3, 3, 5, 10, TRANSACTIONS as u64];
    assert_eq!(count_rows(&stage.target.db).await, full);
    assert!(
        out.contains("usuarios 1: its id is taken in the target by another admin"),
        "{out}"
    );
    check_history(&stage, &src, 0).await;
    check_rows_without_fernet_key(&stage, &out).await;

    let out = run_ok(&stage, &src, &[]);
    assert_eq!(
        counts_of(&out, "transacciones"),
        ["2000", "0", "2000", "0"],
        "a second run imports nothing"
    );
    assert_eq!(count_rows(&stage.target.db).await, full);
    later_runs_pick_up_what_the_original_did_since(&stage, &src).await;
}

/// The original kept selling after the import: a new payment comes over, a key revoked there
/// is revoked here; nothing else changes.
async fn later_runs_pick_up_what_the_original_did_since(stage: &Stage, src: &Original) {
    src.db()
        .execute_unprepared(
            "UPDATE api_keys_tracking SET revoked = true WHERE key_id = 'key_0a1b2c3d4e5f6071'; \
             INSERT INTO transacciones (id, transaccion_id, empresa_id, router_id, producto_id, monto, \
             estado_pago, creada_en) VALUES (2001, 'ord_after_import', 'EMP_1A2B3C4D5E', \
             'RTR_1A7E0001', 20, 25.00, 'paid', '2026-01-15 10:00:00')",
        )
        .await
        .unwrap();
    let out = run_ok(stage, src, &[]);
    assert_eq!(counts_of(&out, "transacciones"), ["2001", "1", "2000", "0"]);
    let key = row::<api_key::Entity>(&stage.target.db, "key_0a1b2c3d4e5f6071").await;
    assert!(key.revoked && key.revoked_at.is_some());
    let tx = row::<transaccion::Entity>(&stage.target.db, 2001).await;
    assert_eq!(
        (tx.monto, tx.estado_pago.as_str()),
        (Decimal::new(2500, 2), "paid")
    );
}

/// Without `--fernet-key` the Fernet-encrypted token is listed to re-enter; the plaintext one
/// and every plaintext secret come over. The report names the missing ★ columns.
async fn check_rows_without_fernet_key(stage: &Stage, out: &str) {
    let db = &stage.target.db;
    let sol = row::<empresa::Entity>(db, EMP_SOL).await;
    assert!(sol.mercado_pago_access_token.is_none());
    assert!(sol.telegram_bot_token.is_none() && sol.logo_url.is_none());
    assert!(out.contains("Secrets to re-enter"), "{out}");
    assert!(out.contains(&format!("{EMP_SOL} empresas.mercado_pago_access_token: Fernet-encrypted and no --fernet-key given")), "{out}");
    assert!(out.contains("transacciones.external_reference"), "{out}");
    assert!(
        out.contains("JWT_APIKEY_SECRET") && out.contains("conekta-webhook-key"),
        "{out}"
    );
    let luna = row::<empresa::Entity>(db, EMP_LUNA).await;
    let token = stage
        .secrets()
        .decrypt(
            field::MP_ACCESS_TOKEN,
            luna.mercado_pago_access_token.as_deref().unwrap(),
        )
        .unwrap();
    assert_eq!(token.as_str(), MP_TOKEN_LUNA);
}

/// Runs the binary expecting a refusal; its stderr.
fn refused(stage: &Stage, from: &str, extra: &[&str], master_key: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagos-hotspot"));
    cmd.args(["import-original", "--from", from])
        .args(extra)
        .env("DATABASE_URL", &stage.target.url)
        .env_remove("ENCRYPTION_KEY_MERCADO_PAGO")
        .env_remove("MASTER_KEY");
    if master_key {
        cmd.env("MASTER_KEY", stage.master_key_b64());
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[actix_web::test]
async fn wrong_arguments_and_a_foreign_target_are_refused_before_anything_is_written() {
    let stage = stage().await;
    let src = stage.source(Schema::Dump).await;
    // The same server as the source (an empty `TEST_DATABASE_URL`, as in CI's SQLite pass,
    // means the local one).
    let empty = pagos_hotspot::db::testing::fresh_postgres(&original::admin_url()).await;
    let cases: [(&str, &[&str], bool, &str); 5] = [
        (src.url(), &[], false, "MASTER_KEY is required"),
        (
            "sqlite://./original.db",
            &[],
            true,
            "--from must be a PostgreSQL URL",
        ),
        (
            src.url(),
            &["--source-tz", "Mars/Olympus"],
            true,
            "not a time zone",
        ),
        (
            src.url(),
            &["--fernet-key", "not-a-key"],
            true,
            "--fernet-key is not a Fernet key",
        ),
        (&empty.url, &[], true, "the source has no table empresas"),
    ];
    for (from, extra, master_key, reason) in cases {
        let stderr = refused(&stage, from, extra, master_key);
        assert!(stderr.contains(reason), "{reason}: {stderr}");
    }
    // A company that is not the source's: another installation's data, ids would collide.
    let new = pagos_hotspot::db::empresas::NewEmpresa::named("Otra");
    let mine = pagos_hotspot::db::empresas::insert(&stage.target.db, &stage.secrets(), new)
        .await
        .unwrap();
    let stderr = refused(&stage, src.url(), &[], true);
    assert!(
        stderr.contains("holds companies that are not in the source"),
        "{stderr}"
    );
    assert!(stderr.contains(&mine.id), "{stderr}");
    assert_eq!(count_rows(&stage.target.db).await, [1, 0, 0, 0, 0, 0]);
}
