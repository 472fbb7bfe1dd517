//! Test harness: the app on a random port over a fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set), plus seeding helpers.

pub mod broker;
pub mod browser;
pub mod dashboard;
pub mod demo;
pub mod original;
pub mod purchase;

use actix_web::web;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::Value;

use entity::{empresa, usuario};
use pagos_hotspot::auth::password::hash_password;
use pagos_hotspot::config::Config;
use pagos_hotspot::db::routers::{create_router, NewRouter};
use pagos_hotspot::db::testing::{fresh_database, TestDb};
use pagos_hotspot::db::{empresas, usuarios};
use pagos_hotspot::startup::Application;
use pagos_hotspot::state::AppState;
use secrecy::ExposeSecret;

pub const ADMIN_PASSWORD: &str = "super-secret-pass";

pub struct TestApp {
    pub address: String,
    pub state: web::Data<AppState>,
    pub db: DatabaseConnection,
    pub http: reqwest::Client,
    pub testdb: TestDb,
    /// The metrics listener (`METRICS_ADDR`), `http://127.0.0.1:<port>`.
    pub metrics_address: Option<String>,
    handles: Vec<actix_web::dev::ServerHandle>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for handle in self.handles.clone() {
            // Stop the servers in the background; the runtime may already be shutting down.
            drop(actix_web::rt::spawn(
                async move { handle.stop(false).await },
            ));
        }
    }
}

/// Spawns the API server and the metrics server; their handles, API first.
pub fn spawn_servers(app: Application) -> Vec<actix_web::dev::ServerHandle> {
    let (api, metrics) = app.into_servers();
    let mut handles = vec![api.handle()];
    actix_web::rt::spawn(api);
    if let Some(metrics) = metrics {
        handles.push(metrics.handle());
        actix_web::rt::spawn(metrics);
    }
    handles
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Config)) -> TestApp {
    let testdb = fresh_database().await;
    let mut config = Config::for_tests(testdb.url.clone());
    customise(&mut config);
    let app = Application::build_with_db(config, testdb.db.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state();
    let handles = spawn_servers(app);
    TestApp {
        address,
        db: testdb.db.clone(),
        state,
        http: reqwest::Client::new(),
        testdb,
        metrics_address,
        handles,
    }
}

/// A seeded company with a router, its API key and a cliente_admin session.
pub struct Tenant {
    pub empresa: empresa::Model,
    pub router: entity::router::Model,
    pub api_key: String,
    pub admin_email: String,
    pub admin_token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn insert_user(
        &self,
        email: &str,
        rol: &str,
        empresa_id: Option<&str>,
    ) -> usuario::Model {
        let new = usuarios::NewUsuario {
            rol: usuarios::Role::parse(rol).expect("a known role"),
            empresa_id: empresa_id.map(str::to_string),
            email: email.into(),
            password_hash: hash_password(ADMIN_PASSWORD).unwrap(),
            nombre: format!("Usuario {email}"),
        };
        usuarios::insert(&self.db, new).await.unwrap()
    }

    /// Logs in and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let res = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login of {email} failed");
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Creates a super_admin and returns its token.
    pub async fn super_admin(&self) -> String {
        let email = format!("root-{}@example.com", uuid::Uuid::new_v4().simple());
        self.insert_user(&email, "super_admin", None).await;
        self.login(&email, ADMIN_PASSWORD).await
    }

    pub async fn insert_empresa(&self, nombre: &str) -> empresa::Model {
        let new = empresas::NewEmpresa {
            contacto_email: Some("contacto@example.com".into()),
            ..empresas::NewEmpresa::named(nombre)
        };
        empresas::insert(&self.db, &self.state.secrets, new)
            .await
            .unwrap()
    }

    /// A company with one router (pointing at `host:port`), an API key and a cliente_admin.
    pub async fn tenant_with_router(&self, nombre: &str, host: &str, port: u16) -> Tenant {
        let empresa = self.insert_empresa(nombre).await;
        let (router, key) = create_router(
            &self.db,
            &self.state.secrets,
            NewRouter {
                empresa_id: empresa.id.clone(),
                nombre: format!("Router {nombre}"),
                host: host.into(),
                puerto: i32::from(port),
                usuario: "api".into(),
                password: "router-pass".into(),
                ubicacion: Some("Lobby".into()),
                use_tls: false,
                tls_fingerprint: None,
            },
            self.state.config.jwt_apikey_secret.expose_secret(),
            self.state.config.apikey_ttl,
        )
        .await
        .unwrap();
        let admin_email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        self.insert_user(&admin_email, "cliente_admin", Some(&empresa.id))
            .await;
        let admin_token = self.login(&admin_email, ADMIN_PASSWORD).await;
        Tenant {
            empresa,
            router,
            api_key: key.api_key,
            admin_email,
            admin_token,
        }
    }

    /// `n` routers of the company, all at `127.0.0.1:port` (one simulator standing in for a
    /// fleet), with the simulators' credentials (`api` / `router-pass`); their ids.
    pub async fn routers_on(&self, empresa_id: &str, port: u16, n: usize) -> Vec<String> {
        let txn = pagos_hotspot::db::begin_write(&self.db).await.unwrap();
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let (r, _) = create_router(
                &txn,
                &self.state.secrets,
                sim_router(empresa_id, &format!("r{i}"), port),
                self.state.config.jwt_apikey_secret.expose_secret(),
                self.state.config.apikey_ttl,
            )
            .await
            .unwrap();
            ids.push(r.id);
        }
        txn.commit().await.unwrap();
        ids
    }

    pub async fn tenant(&self, nombre: &str) -> Tenant {
        self.tenant_with_router(nombre, "127.0.0.1", 8728).await
    }
}

/// Reads a response as (status, JSON body); a non-JSON body becomes `Value::Null`.
/// One JSON request: `method` GET, PUT or POST, an optional bearer token and JSON body; the
/// status and the JSON answer.
/// A router at `127.0.0.1:port` with the simulators' credentials (`api` / `router-pass`).
fn sim_router(empresa_id: &str, nombre: &str, port: u16) -> NewRouter {
    NewRouter {
        empresa_id: empresa_id.into(),
        nombre: nombre.into(),
        host: "127.0.0.1".into(),
        puerto: i32::from(port),
        usuario: "api".into(),
        password: "router-pass".into(),
        ubicacion: None,
        use_tls: false,
        tls_fingerprint: None,
    }
}

pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = match method {
        "GET" => app.http.get(app.url(path)),
        "PUT" => app.http.put(app.url(path)),
        "POST" => app.http.post(app.url(path)),
        "DELETE" => app.http.delete(app.url(path)),
        other => panic!("method {other}"),
    };
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    status_json(rb.send().await.unwrap()).await
}

pub async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

// ---- helpers added by the catalog/reports work (h-catalog) ----

impl TestApp {
    /// Another router (with its API key) for an existing company: `(router, api_key)`.
    pub async fn add_router(
        &self,
        empresa_id: &str,
        nombre: &str,
    ) -> (entity::router::Model, String) {
        let (router, key) = create_router(
            &self.db,
            &self.state.secrets,
            sim_router(empresa_id, nombre, 8728),
            self.state.config.jwt_apikey_secret.expose_secret(),
            self.state.config.apikey_ttl,
        )
        .await
        .unwrap();
        (router, key.api_key)
    }

    /// A `transacciones` row written directly (for reporting tests).
    pub async fn insert_transaccion(
        &self,
        empresa_id: &str,
        router_id: &str,
        monto: rust_decimal::Decimal,
        estado_pago: &str,
        gateway: Option<&str>,
        creada_en: chrono::DateTime<Utc>,
    ) -> entity::transaccion::Model {
        entity::transaccion::ActiveModel {
            transaccion_id: Set(Some(format!("ord_{}", uuid::Uuid::new_v4().simple()))),
            empresa_id: Set(empresa_id.into()),
            router_id: Set(router_id.into()),
            gateway: Set(gateway.map(str::to_string)),
            monto: Set(monto),
            moneda: Set("MXN".into()),
            cliente_nombre: Set(Some("Cliente".into())),
            estado_pago: Set(estado_pago.into()),
            estado_hotspot: Set("active".into()),
            webhook_processed: Set(false),
            metadata_json: Set(serde_json::json!({})),
            creada_en: Set(creada_en),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .unwrap()
    }
}

// ---- log capture (observability) -------------------------------------------------------------

/// The in-memory log sink of this test process: a global JSON subscriber at `debug` for every
/// crate, with the service's redaction, installed on first use. Global (not per thread)
/// because the app's HTTP workers run on their own threads.
pub fn log_capture() -> &'static pagos_hotspot::telemetry::LogBuffer {
    static CAPTURE: std::sync::OnceLock<pagos_hotspot::telemetry::LogBuffer> =
        std::sync::OnceLock::new();
    CAPTURE.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt;
        let buffer = pagos_hotspot::telemetry::LogBuffer::new();
        pagos_hotspot::telemetry::subscriber(
            "json",
            tracing_subscriber::EnvFilter::new("debug"),
            buffer.clone(),
        )
        .try_init()
        .expect("no other global subscriber in this test process");
        buffer
    })
}

/// Runs `fut` and returns its output with every log line written meanwhile (by any thread of
/// this process; nextest runs one test per process, so no other test's lines are mixed in).
pub async fn capture_logs<F: std::future::Future>(fut: F) -> (F::Output, String) {
    let buffer = log_capture();
    let mark = buffer.len();
    let out = fut.await;
    (out, buffer.since(mark))
}

// ---- crash and restart helpers (purchase suites) ----

impl TestApp {
    /// Stops the HTTP servers at once (in-flight requests are dropped), as a crash would; the
    /// database stays (see `testdb`).
    pub async fn stop_server(&self) {
        for handle in &self.handles {
            handle.stop(false).await;
        }
    }

    /// A URL on the metrics listener.
    pub fn metrics_url(&self, path: &str) -> String {
        let base = self.metrics_address.as_deref().expect("a metrics listener");
        format!("{base}{path}")
    }
}
