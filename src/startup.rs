//! Building and running the HTTP application.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use utoipa_actix_web::AppExt;

use crate::auth::password::hash_password;
use crate::config::Config;
use crate::db::usuarios::{self, NewUsuario, Role, Usuario};
use crate::state::AppState;

/// Extra routes mounted beside the service's own (the demo's portal page), undocumented.
pub type ExtraRoutes = std::sync::Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// A bound, not yet running, application: the API listener and, when `METRICS_ADDR` is not
/// `off`, the metrics listener.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects to the database, applies migrations, bootstraps the operator account when
    /// configured, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = crate::db::connect(&config.database_url).await?;
        crate::db::migrate(&db).await?;
        Self::build_with_db(config, db).await
    }

    /// As [`Application::build`], on an already migrated connection.
    pub async fn build_with_db(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        Self::build_with_routes(config, db, None).await
    }

    /// As [`Application::build_with_db`], serving `extra` routes too.
    pub async fn build_with_routes(
        config: Config,
        db: DatabaseConnection,
        extra: Option<ExtraRoutes>,
    ) -> anyhow::Result<Self> {
        if let (Some(email), Some(password)) = (
            config.super_admin_initial_email.clone(),
            config.super_admin_initial_password.as_ref(),
        ) {
            ensure_super_admin(&db, &email, password.expose_secret()).await?;
        }
        let listener = TcpListener::bind(config.bind_addr)?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(TcpListener::bind(addr).map_err(|e| {
                anyhow::anyhow!("cannot listen on METRICS_ADDR {addr} ({e}); set another or `off`")
            })?),
            None => None,
        };
        let state = web::Data::new(AppState::new(db, config)?);
        let server = run(listener, state.clone(), extra)?;
        let metrics = match metrics_listener {
            Some(l) => Some((l.local_addr()?.port(), run_metrics(l, state.clone())?)),
            None => None,
        };
        Ok(Self {
            port,
            server,
            metrics,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Runs until the server stops (Ctrl-C / SIGTERM), then flushes pending counters.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let state = self.state.clone();
        let jobs = spawn_background_jobs(state.clone());
        let reconciler = state.config.background_jobs.then(|| {
            [
                crate::purchase::reconciler::spawn(state.clone()),
                crate::purchase::refund_check::spawn(state.clone()),
                crate::purchase::expiry::spawn(state.clone()),
                crate::purchase::drift::spawn(state.clone()),
            ]
        });
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, actix_web::rt::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            if let Ok(Err(e)) = task.await {
                tracing::warn!(error = %e, "the metrics listener stopped with an error");
            }
        }
        jobs.abort();
        for job in reconciler.into_iter().flatten() {
            job.abort();
        }
        state.routers.stop_all();
        if let Err(e) = state.key_usage.flush(&state.db).await {
            tracing::warn!(error = %e, "could not flush API key usage at shutdown");
        }
        result.map_err(Into::into)
    }

    /// The API server and the metrics server, for tests that spawn them.
    pub fn into_servers(self) -> (Server, Option<Server>) {
        (self.server, self.metrics.map(|(_, server)| server))
    }
}

fn run(
    listener: TcpListener,
    state: web::Data<AppState>,
    extra: Option<ExtraRoutes>,
) -> std::io::Result<Server> {
    let workers = state.config.http_workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::from(state.metrics.clone()))
            .configure(crate::extract::configure_extractors)
            .wrap(from_fn(crate::nul_guard::reject_nul))
            .wrap(from_fn(crate::metrics::record_http))
            .wrap(from_fn(crate::telemetry::request_span))
            .wrap(cors(&state.config.cors_origins))
            // Registers and documents the service's routes (`crate::openapi` builds
            // `/openapi.json` from the same call); the document collected here is dropped.
            .into_utoipa_app()
            .configure(crate::routes::configure)
            .into_app()
            .configure(|cfg| {
                if let Some(extra) = &extra {
                    extra(cfg);
                }
            })
    })
    .workers(workers)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The metrics listener: `GET /metrics` (token required when `METRICS_TOKEN` is set) and
/// `GET /health`, nothing else; one worker, its scrapes counted like any request.
fn run_metrics(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::Data::from(state.metrics.clone()))
            .wrap(from_fn(crate::metrics::record_http))
            .configure(crate::routes::metrics::configure_listener)
            .configure(crate::routes::health::configure_probe)
    })
    .workers(1)
    .shutdown_timeout(2)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Cross-origin access for the configured origins (captive portal pages are served by the
/// routers, so they call the API from another origin). Credentials travel in headers, never
/// in cookies, so no `Access-Control-Allow-Credentials`.
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["x-request-id", "retry-after"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

/// Periodic housekeeping: flush API-key usage counters, prune rate-limit state.
fn spawn_background_jobs(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !state.config.background_jobs {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = state.key_usage.flush(&state.db).await {
                tracing::warn!(error = %e, "API key usage flush failed");
            }
            state.limits.retain_recent();
        }
    })
}

/// Creates the operator account if no super_admin exists yet. Never logs the password.
pub async fn ensure_super_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> anyhow::Result<bool> {
    if usuarios::any_with_role(db, Role::SuperAdmin).await? {
        return Ok(false);
    }
    create_super_admin(db, email, password).await?;
    tracing::info!(email, "created the initial super_admin account");
    Ok(true)
}

/// Inserts a super_admin account (argon2id hash).
pub async fn create_super_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> anyhow::Result<Usuario> {
    let email = email.trim().to_string();
    if !email_address::EmailAddress::is_valid(&email) {
        anyhow::bail!("invalid e-mail address");
    }
    if password.chars().count() < 8 {
        anyhow::bail!("the password must have at least 8 characters");
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let new = NewUsuario {
        rol: Role::SuperAdmin,
        empresa_id: None,
        email,
        password_hash: hash,
        nombre: "Super Admin".into(),
    };
    Ok(usuarios::insert(db, new).await?)
}
