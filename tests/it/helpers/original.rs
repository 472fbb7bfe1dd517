//! A realistic installation of the original system in a fresh PostgreSQL database, built from
//! the schema fixtures in `tests/fixtures/original/` (an older install as its dump has it, or
//! one altered by hand to the models' columns): 2 companies, 3 routers, 5 API keys (valid, revoked, expired, NULL
//! `revoked`), 10 products, 3 bcrypt admins, Fernet and plaintext Mercado Pago tokens and 2,000
//! transactions with naive timestamps (creation times in the database's local time).

use base64::Engine;
use hmac::{Hmac, Mac};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value as DbValue};
use sha2::{Digest, Sha256};

use pagos_hotspot::db::testing::{fresh_postgres, TestDb};
use pagos_hotspot::tools::import::secrets::fernet_encrypt;

/// The schema variant of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Every column of the models at HEAD.
    Models,
    /// The older dump: no ★ columns.
    Dump,
}

pub const EMP_SOL: &str = "EMP_50A1B2C3D4";
pub const EMP_LUNA: &str = "EMP_1A2B3C4D5E";
pub const RTR_SOL_1: &str = "RTR_5011A0B1";
pub const RTR_SOL_2: &str = "RTR_5012C3D4";
pub const RTR_LUNA: &str = "RTR_1A7E0001";
pub const ADMIN_SOL: &str = "admin@hotelsol.mx";
pub const ADMIN_SOL_PASSWORD: &str = "SolHotel2025!";
pub const ROOT: &str = "root@wispremote.mx";
pub const ROOT_PASSWORD: &str = "RootOriginal#1";
/// The product sold in the purchase test (its id is kept: portals hard-code it).
pub const PRODUCT_1H: i32 = 3;
pub const TRANSACTIONS: i64 = 2000;
/// 32 bytes, the original's `ENCRYPTION_KEY_MERCADO_PAGO` in the fixtures.
const FERNET_RAW: &[u8; 32] = b"import-test-fernet-key-32-bytes!";
pub const MP_TOKEN_SOL: &str = "TEST-hotel-sol-access-token";
pub const MP_TOKEN_LUNA: &str = "APP_USR-cafe-luna-plaintext-token";
pub const BOT_TOKEN: &str = "987654321:ORIGINALbotTOKENxyz";
pub const LOGO_URL: &str = "/static/logos/logo_EMP_50A1B2C3D4_a1b2c3.png";

/// The original's Fernet key (urlsafe base64 of 32 bytes).
pub fn fernet_key() -> String {
    base64::engine::general_purpose::URL_SAFE.encode(FERNET_RAW)
}

/// What the fixture installation points at.
pub struct Fill<'a> {
    pub schema: Schema,
    /// The router the purchase test uses (the simulator).
    pub router_port: u16,
    pub apikey_secret: &'a str,
    pub conekta_private_key: &'a str,
    pub mp_webhook_secret: &'a str,
}

/// The built source and the plaintext API keys minted for it.
pub struct Original {
    pub testdb: TestDb,
    /// Valid key of `RTR_SOL_1` (the router's current key).
    pub key_valid: String,
    pub key_revoked: String,
    pub key_expired: String,
    pub key_null_revoked: String,
    pub key_luna: String,
}

impl Original {
    pub fn url(&self) -> &str {
        &self.testdb.url
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.testdb.db
    }
}

/// The PostgreSQL server for the source: `TEST_DATABASE_URL` when set, else the local one.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Mints a key the way the original did: HS256 over float `iat`/`exp` (python-jose), `jwt_` +
/// the compact form; its SHA-256 is what the original stored.
pub fn mint(
    secret: &str,
    key_id: &str,
    router: &str,
    empresa: &str,
    iat: f64,
    exp: f64,
) -> (String, String) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = format!(
        r#"{{"jti":"{key_id}","iss":"mikrotik-payment-api","sub":"{router}","empresa":"{empresa}","iat":{iat},"exp":{exp},"type":"router_api_key"}}"#
    );
    let input = format!(
        "{}.{}",
        b64.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let jwt = format!("{input}.{}", b64.encode(mac.finalize().into_bytes()));
    let hash = hex::encode(Sha256::digest(jwt.as_bytes()));
    (format!("jwt_{jwt}"), hash)
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) {
    db.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

pub async fn build(fill: &Fill<'_>) -> Original {
    let testdb = fresh_postgres(&admin_url()).await;
    let dump = include_str!("../../fixtures/original/schema_dump.sql");
    testdb.db.execute_unprepared(dump).await.unwrap();
    if fill.schema == Schema::Models {
        let additions = include_str!("../../fixtures/original/models_additions.sql");
        testdb.db.execute_unprepared(additions).await.unwrap();
    }
    insert_empresas(&testdb.db, fill).await;
    let keys = insert_routers_and_keys(&testdb.db, fill).await;
    insert_admins(&testdb.db).await;
    insert_products(&testdb.db).await;
    insert_transactions(&testdb.db, fill.schema).await;
    Original {
        testdb,
        key_valid: keys[0].clone(),
        key_revoked: keys[1].clone(),
        key_expired: keys[2].clone(),
        key_null_revoked: keys[3].clone(),
        key_luna: keys[4].clone(),
    }
}

async fn insert_empresas(db: &DatabaseConnection, fill: &Fill<'_>) {
    let key = fernet_key();
    let sol_token = fernet_encrypt(&key, MP_TOKEN_SOL).unwrap();
    match fill.schema {
        Schema::Models => {
            let sol_secret = fernet_encrypt(&key, fill.mp_webhook_secret).unwrap();
            exec(db, "INSERT INTO empresas (id, nombre, contacto_email, contacto_telefono, logo_url, conekta_private_key, conekta_public_key, conekta_mode, mercado_pago_access_token, mercado_pago_public_key, mercado_pago_mode, mercado_pago_webhook_secret, telegram_bot_token, telegram_chat_id, notificaciones_telegram, activa, creada_en) VALUES ($1, 'Hotel Sol', 'contacto@hotelsol.mx', '5512345678', $2, $3, 'key_pub_sol', 'test', $4, 'TEST-pub-sol', 'production', $5, $6, '-100777', true, true, '2024-12-20 09:15:00')",
                vec![EMP_SOL.into(), LOGO_URL.into(), fill.conekta_private_key.into(), sol_token.into(), sol_secret.into(), BOT_TOKEN.into()]).await;
            exec(db, "INSERT INTO empresas (id, nombre, conekta_private_key, conekta_public_key, mercado_pago_access_token, mercado_pago_mode, notificaciones_telegram, activa, creada_en) VALUES ($1, 'Café Luna', 'key_priv_luna', 'key_pub_luna', $2, NULL, NULL, true, '2025-02-01 18:00:00')",
                vec![EMP_LUNA.into(), MP_TOKEN_LUNA.into()]).await;
        }
        Schema::Dump => {
            exec(db, "INSERT INTO empresas (id, nombre, contacto_email, conekta_private_key, conekta_public_key, conekta_mode, mercado_pago_access_token, mercado_pago_public_key, mercado_pago_mode, activa, creada_en) VALUES ($1, 'Hotel Sol', 'contacto@hotelsol.mx', $2, 'key_pub_sol', 'test', $3, 'TEST-pub-sol', 'test', true, '2024-12-20 09:15:00')",
                vec![EMP_SOL.into(), fill.conekta_private_key.into(), sol_token.into()]).await;
            exec(db, "INSERT INTO empresas (id, nombre, conekta_private_key, conekta_public_key, mercado_pago_access_token, activa) VALUES ($1, 'Café Luna', 'key_priv_luna', 'key_pub_luna', $2, true)",
                vec![EMP_LUNA.into(), MP_TOKEN_LUNA.into()]).await;
        }
    }
}

/// Inserts the routers and 5 keys; the keys' plaintext in the order of [`Original`]'s fields.
async fn insert_routers_and_keys(db: &DatabaseConnection, fill: &Fill<'_>) -> Vec<String> {
    let now = chrono::Utc::now().timestamp() as f64 + 0.318_274;
    let year = 365.0 * 86400.0;
    let s = fill.apikey_secret;
    let specs: [(&str, &str, &str, f64, Option<bool>); 5] = [
        (
            "key_0a1b2c3d4e5f6071",
            RTR_SOL_1,
            EMP_SOL,
            now - 30.0 * 86400.0,
            Some(false),
        ),
        (
            "key_1f2e3d4c5b6a7980",
            RTR_SOL_1,
            EMP_SOL,
            now - 300.0 * 86400.0,
            Some(true),
        ),
        (
            "key_2a2b2c2d2e2f2021",
            RTR_SOL_2,
            EMP_SOL,
            now - 400.0 * 86400.0,
            Some(false),
        ),
        (
            "key_3c3d3e3f30313233",
            RTR_LUNA,
            EMP_LUNA,
            now - 200.0 * 86400.0,
            None,
        ),
        (
            "key_4d4e4f4041424344",
            RTR_LUNA,
            EMP_LUNA,
            now - 10.0 * 86400.0,
            Some(false),
        ),
    ];
    let minted: Vec<(String, String)> = specs
        .iter()
        .map(|(id, r, e, iat, _)| mint(s, id, r, e, *iat, iat + year))
        .collect();
    let routers = [
        (
            RTR_SOL_1,
            EMP_SOL,
            "Lobby",
            "127.0.0.1",
            i32::from(fill.router_port),
            &minted[0].1,
        ),
        (
            RTR_SOL_2,
            EMP_SOL,
            "Alberca",
            "10.20.0.2",
            8728,
            &minted[2].1,
        ),
        (
            RTR_LUNA,
            EMP_LUNA,
            "Terraza",
            "10.30.0.1",
            8728,
            &minted[4].1,
        ),
    ];
    for (id, empresa, nombre, host, port, hash) in routers {
        exec(db, "INSERT INTO routers (id, empresa_id, nombre, host, puerto, usuario, password_encrypted, ubicacion, api_key_hash, activo, creado_en) VALUES ($1, $2, $3, $4, $5, 'api', 'router-pass', 'Planta baja', $6, true, '2025-01-02 10:00:00')",
            vec![id.into(), empresa.into(), format!("Router {nombre}").into(), host.into(), port.into(), hash.to_string().into()]).await;
    }
    for ((id, router, empresa, iat, revoked), (_, hash)) in specs.iter().zip(&minted) {
        exec(db, "INSERT INTO api_keys_tracking (key_id, empresa_id, router_id, key_hash, issued_at, expires_at, revoked, last_used, use_count) VALUES ($1, $2, $3, $4, to_timestamp($5) AT TIME ZONE 'UTC', to_timestamp($6) AT TIME ZONE 'UTC', $7, to_timestamp($5 + 3600) AT TIME ZONE 'UTC', 42)",
            vec![(*id).into(), (*empresa).into(), (*router).into(), hash.clone().into(), (*iat).into(), (iat + year).into(), (*revoked).into()]).await;
    }
    minted.into_iter().map(|(key, _)| key).collect()
}

async fn insert_admins(db: &DatabaseConnection) {
    let users = [
        (1, "super_admin", None, ROOT, ROOT_PASSWORD, Some(true)),
        (
            2,
            "cliente_admin",
            Some(EMP_SOL),
            ADMIN_SOL,
            ADMIN_SOL_PASSWORD,
            Some(true),
        ),
        (
            3,
            "cliente_admin",
            Some(EMP_LUNA),
            "admin@cafeluna.mx",
            "LunaCafe2025!",
            None,
        ),
    ];
    for (id, rol, empresa, email, password, activo) in users {
        // The original hashed with bcrypt.gensalt(): `$2b$`, cost 12.
        let hash = bcrypt::hash(password, 12).unwrap();
        exec(db, "INSERT INTO usuarios (id, rol, empresa_id, email, password_hash, nombre, activo, ultimo_login, creado_en) VALUES ($1, $2, $3, $4, $5, $6, $7, '2025-06-01 12:00:00', '2025-01-01 08:00:00')",
            vec![id.into(), rol.into(), empresa.into(), email.into(), hash.into(), format!("Admin {email}").into(), activo.into()]).await;
    }
    exec(db, "SELECT setval('usuarios_id_seq', 3)", vec![]).await;
}

async fn insert_products(db: &DatabaseConnection) {
    // id, empresa, router, profile, name, price, activo, destacado, detalles (both shapes).
    let rows = [
        format!("({PRODUCT_1H}, '{EMP_SOL}', '{RTR_SOL_1}', '*1', '1h', '1 Hora de Internet', 15.00, true, true, '[\"Velocidad 10 Mbps\", \"1 dispositivo\"]')"),
        format!("(5, '{EMP_SOL}', '{RTR_SOL_1}', '*2', '1d', '1 Día', 50.00, true, false, '[{{\"texto\": \"24 horas\"}}]')"),
        format!("(7, '{EMP_SOL}', '{RTR_SOL_1}', '*3', '1w', '1 Semana', 199.99, NULL, NULL, '[]')"),
        format!("(8, '{EMP_SOL}', '{RTR_SOL_1}', '*4', '30m', '30 Minutos', 9.50, false, false, '[]')"),
        format!("(11, '{EMP_SOL}', '{RTR_SOL_2}', '*1', '1h', '1 Hora Alberca', 20.00, true, false, '[]')"),
        format!("(12, '{EMP_SOL}', '{RTR_SOL_2}', '*2', '1d', '1 Día Alberca', 60.00, true, true, '[]')"),
        format!("(13, '{EMP_SOL}', '{RTR_SOL_2}', '*3', '1m', '1 Mes Alberca', 650.00, true, false, '[]')"),
        format!("(20, '{EMP_LUNA}', '{RTR_LUNA}', '*1', '2h', '2 Horas', 25.00, true, false, '[\"Café incluido\"]')"),
        format!("(21, '{EMP_LUNA}', '{RTR_LUNA}', '*2', '1d', '1 Día', 45.50, true, true, '[]')"),
        format!("(22, '{EMP_LUNA}', '{RTR_LUNA}', '*3', '1w', '1 Semana', 180.00, true, false, '[]')"),
    ];
    let sql = format!(
        "INSERT INTO productos (id, empresa_id, router_id, perfil_mikrotik_id, perfil_mikrotik_nombre, \
         nombre_venta, precio, activo, destacado, detalles) VALUES {}",
        rows.join(", ")
    );
    exec(db, &sql, vec![]).await;
    exec(db, "UPDATE productos SET descripcion = 'Acceso WiFi', orden_visual = id, creado_en = '2025-01-03 11:00:00'", vec![]).await;
    exec(db, "SELECT setval('productos_id_seq', 22)", vec![]).await;
}

/// 2,000 payments over ~14 months in both companies, both gateways, every state the original
/// wrote (and NULL); transaction 1 at 23:30 local time on the last day of March 2025.
async fn insert_transactions(db: &DatabaseConnection, schema: Schema) {
    let (extra_cols, extra_vals) = match schema {
        Schema::Models => (
            ", external_reference, notification_id, webhook_processed, metadata_json, webhook_received_at",
            ", CASE WHEN i % 2 = 0 THEN 'HS' || lpad(i::text, 8, '0') END, \
             CASE WHEN i % 2 = 0 THEN 'n' || i END, \
             CASE WHEN i % 5 = 0 THEN NULL ELSE (i % 2 = 0) END, \
             jsonb_build_object('device_id', 'dev' || i), \
             CASE WHEN i % 2 = 0 THEN ts + interval '6 hours 1 minute' END",
        ),
        Schema::Dump => ("", ""),
    };
    let sql = format!(
        "INSERT INTO transacciones (id, transaccion_id, empresa_id, router_id, producto_id, monto, moneda, \
         cliente_nombre, cliente_email, cliente_telefono, usuario_hotspot, password_hotspot, estado_pago, \
         estado_hotspot, api_key_usada, creada_en, pagada_en, usuario_creado_en{extra_cols}) \
         SELECT i, CASE WHEN i % 2 = 0 THEN (20000000000 + i)::text ELSE 'ord_' || substr(md5(i::text), 1, 16) END, \
         CASE WHEN i % 3 = 0 THEN '{EMP_LUNA}' ELSE '{EMP_SOL}' END, \
         CASE WHEN i % 3 = 0 THEN '{RTR_LUNA}' WHEN i % 3 = 1 THEN '{RTR_SOL_1}' ELSE '{RTR_SOL_2}' END, \
         CASE WHEN i % 3 = 0 THEN 20 WHEN i % 3 = 1 THEN {PRODUCT_1H} ELSE 12 END, \
         ((i % 17) * 7.25 + 9.99)::numeric(10, 2), CASE WHEN i % 11 = 0 THEN NULL ELSE 'MXN' END, \
         'Cliente ' || i, 'cliente' || i || '@example.com', '55' || lpad(i::text, 8, '0'), \
         'PT-' || upper(substr(md5('u' || i), 1, 5)), lpad((i % 10000)::text, 4, '0'), \
         (ARRAY['paid', 'approved', 'pending', 'in_process', 'rejected', NULL])[1 + i % 6], \
         CASE WHEN i % 13 = 0 THEN NULL ELSE 'active' END, \
         CASE WHEN i % 3 = 0 THEN 'key_4d4e4f4041424344' ELSE 'key_0a1b2c3d4e5f6071' END, \
         ts, ts + interval '6 hours', ts + interval '6 hours'{extra_vals} \
         FROM (SELECT i, timestamp '2025-01-01 00:00:00' + i * interval '5 hours 17 minutes' AS ts \
               FROM generate_series(1, {TRANSACTIONS}) AS i) AS g"
    );
    exec(db, &sql, vec![]).await;
    exec(db, "UPDATE transacciones SET creada_en = '2025-03-31 23:30:00', pagada_en = '2025-04-01 05:35:00' WHERE id = 1", vec![]).await;
    exec(db, "SELECT setval('transacciones_id_seq', 2000)", vec![]).await;
}
