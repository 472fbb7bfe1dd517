//! The benchmark's world: the seeded company and routers, and the service as a child process.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine;
use rust_decimal::Decimal;
use serde_json::json;

use super::{
    BenchArgs, Service, Target, MP_ACCESS_TOKEN, MP_PUBLIC_KEY, PRICE, ROUTER_PASSWORD, ROUTER_USER,
};
use crate::config::MasterKey;
use crate::crypto::SecretBox;
use crate::db::empresas::{self, NewEmpresa};
use crate::db::productos::{self, NewProducto};
use crate::db::routers::{create_router, NewRouter};
use crate::sandbox::gateways::SandboxHandle;
use crate::sandbox::routeros_sim::RouterSim;

/// One company with Mercado Pago credentials, one router per simulator, one plan per router.
pub(super) async fn seed(
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
    let new = NewEmpresa {
        mercado_pago_access_token: Some(MP_ACCESS_TOKEN.into()),
        mercado_pago_public_key: Some(MP_PUBLIC_KEY.into()),
        ..NewEmpresa::named("Bench")
    };
    let empresa = empresas::insert(&txn, &secrets, new).await?;
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
        let new = NewProducto {
            empresa_id: empresa.id.clone(),
            router_id: router.id.clone(),
            perfil_mikrotik_id: "*2".into(),
            perfil_mikrotik_nombre: "1h".into(),
            nombre_venta: "1 Hora".into(),
            descripcion: None,
            imagen_url: None,
            precio: price,
            moneda: "MXN".into(),
            detalles: json!([]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
        };
        let product = productos::insert(&txn, new).await?;
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
pub(super) async fn start_service(
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
        // The simulated routers listen on 127.0.0.1.
        .env("ROUTER_ALLOW_LOOPBACK", "true")
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
        .env("ROUTER_PIPELINE_DEPTH", args.pipeline_depth().to_string())
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

pub(super) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
