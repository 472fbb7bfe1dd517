//! The live router endpoints (profiles, test-connection, status, fleet, validar-empresa-router)
//! over real HTTP, against the in-process RouterOS simulator.

use std::time::Duration;

use crate::helpers::{spawn_app_with, status_json, Tenant, TestApp};
use pagos_hotspot::config::{BrokerMode, Config, RouterSettings};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde_json::Value;

fn fast() -> RouterSettings {
    RouterSettings {
        mailbox_capacity: 64,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(1500),
        idle_timeout: Duration::from_secs(60),
        probe_interval: Duration::from_secs(5),
        reconnect_initial: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        auth_backoff_initial: Duration::from_secs(5),
        auth_backoff_max: Duration::from_secs(10),
        cancel_grace: Duration::from_millis(200),
        queue_timeout: Duration::from_secs(5),
        revalidate_after: Duration::from_secs(5),
        connect_concurrency: 8,
        mode: BrokerMode::Persistent,
        pipeline_depth: 1,
        // The simulator listens on 127.0.0.1.
        allow_loopback: true,
        reply_limits: Default::default(),
    }
}

async fn setup_with(settings: RouterSettings) -> (TestApp, RouterSim, Tenant) {
    let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    let app = spawn_app_with(move |c: &mut Config| c.router = settings).await;
    let t = app
        .tenant_with_router("Live", "127.0.0.1", sim.addr().port())
        .await;
    (app, sim, t)
}

async fn setup() -> (TestApp, RouterSim, Tenant) {
    setup_with(fast()).await
}

/// A loopback port with nothing listening.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn set_activo(app: &TestApp, r: &entity::router::Model, activo: bool) {
    let mut m = r.clone().into_active_model();
    m.activo = Set(activo);
    m.update(&app.db).await.unwrap();
    app.state.routers.router_changed(&r.id).await;
}

#[actix_web::test]
async fn profiles_have_every_field() {
    let (app, _sim, t) = setup().await;
    let res = get(
        &app,
        &format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id),
        &t.admin_token,
    )
    .await;
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200, "{body}");
    let list = body.as_array().unwrap();
    let one_hour = list.iter().find(|p| p["name"] == "1h").unwrap();
    for k in [
        "id",
        "name",
        "session_timeout",
        "keepalive_timeout",
        "status_autorefresh",
        "shared_users",
        "rate_limit",
        "mac_cookie_timeout",
        "idle_timeout",
    ] {
        assert!(one_hour[k].is_string(), "{k} is not filled in: {one_hour}");
    }
    assert!(one_hour.as_object().unwrap().contains_key("address_list"));
    assert_eq!(one_hour["session_timeout"], "1h");
    assert_eq!(one_hour["keepalive_timeout"], "2m");
    assert_eq!(one_hour["status_autorefresh"], "1m");
    assert_eq!(one_hour["mac_cookie_timeout"], "3d");
    assert!(list.iter().any(|p| p["name"] == "default"));
}

#[actix_web::test]
async fn profiles_errors_keep_the_original_strings() {
    let (app, _sim, t) = setup().await;
    // Another company's router.
    let other = app.tenant("Otra").await;
    let (status, body) = status_json(
        get(
            &app,
            &format!(
                "/api/v1/admin/routers/{}/mikrotik-profiles",
                other.router.id
            ),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["detail"],
        "Router no encontrado o no pertenece a tu empresa"
    );
    // Inactive.
    set_activo(&app, &t.router, false).await;
    let (status, body) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "El router está inactivo. Actívalo primero desde el panel."
    );
    // Unreachable router: 503 with the original's prefix and a Retry-After.
    let down = app
        .tenant_with_router("Caido", "127.0.0.1", dead_port())
        .await;
    let res = get(
        &app,
        &format!("/api/v1/admin/routers/{}/mikrotik-profiles", down.router.id),
        &down.admin_token,
    )
    .await;
    assert!(res.headers().get("retry-after").is_some());
    let (status, body) = status_json(res).await;
    assert_eq!(status, 503);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Error al obtener perfiles: Error obteniendo perfiles: "),
        "{body}"
    );
}

#[actix_web::test]
async fn profiles_need_complete_credentials() {
    let (app, _sim, t) = setup().await;
    let mut m = t.router.clone().into_active_model();
    m.usuario = Set(" ".into());
    m.update(&app.db).await.unwrap();
    app.state.routers.router_changed(&t.router.id).await;
    let (status, body) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "El router no tiene credenciales configuradas completas (host, usuario, contraseña)"
    );
}

#[actix_web::test]
async fn a_full_queue_is_503_with_retry_after() {
    let mut settings = fast();
    settings.mailbox_capacity = 1;
    let (app, sim, t) = setup_with(settings).await;
    // Warm the session, then slow the router down.
    app.state.routers.identity(&t.router.id).await.unwrap();
    sim.set_latency(Duration::from_millis(300));
    let path = format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id);
    let reqs = (0..4).map(|_| get(&app, &path, &t.admin_token));
    let responses = futures_util::future::join_all(reqs).await;
    let mut busy = 0;
    let mut ok = 0;
    for res in responses {
        let retry = res.headers().get("retry-after").cloned();
        let (status, body) = status_json(res).await;
        match status {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert!(retry.is_some());
                assert_eq!(
                    body["detail"],
                    "El router está ocupado. Intente de nuevo en unos segundos."
                );
            }
            other => panic!("{other} {body}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "ok {ok} busy {busy}");
}

#[actix_web::test]
async fn test_connection_shapes() {
    let (app, _sim, t) = setup().await;
    let path = format!("/api/v1/admin/routers/{}/test-connection", t.router.id);
    let (status, body) = status_json(get(&app, &path, &t.admin_token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Conexión exitosa");
    assert_eq!(body["router_name"], "MikroTik");
    assert_eq!(body["perfiles_encontrados"], 4);
    assert_eq!(body["router"]["id"], t.router.id.as_str());
    assert_eq!(body["router"]["activo"], true);
    assert!(body["error"].is_null());
    assert!(body["timestamp"].is_string());

    // Like the original, an inactive router can still be tested (on a one-off session).
    set_activo(&app, &t.router, false).await;
    let (_, body) = status_json(get(&app, &path, &t.admin_token).await).await;
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["router"]["activo"], false);

    // Not the caller's router.
    let other = app.tenant("Otra").await;
    let (status, body) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/test-connection", other.router.id),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"success": false, "message": "Router no encontrado",
            "error": "Router no encontrado o no pertenece a tu empresa"})
    );

    // Unreachable: the error shape leaves out the counts.
    let down = app
        .tenant_with_router("Caido", "127.0.0.1", dead_port())
        .await;
    let (status, body) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/test-connection", down.router.id),
            &down.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], false);
    assert_eq!(body["message"], "Error de conexión");
    assert!(body["error"].is_string());
    let o = body.as_object().unwrap();
    assert!(!o.contains_key("perfiles_encontrados") && !o.contains_key("router_name"));
}

#[actix_web::test]
async fn router_status_and_fleet_view() {
    let (app, sim, t) = setup().await;
    let path = format!("/api/v1/admin/routers/{}/status", t.router.id);
    let (status, body) = status_json(get(&app, &path, &t.admin_token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["state"], "idle");
    app.state
        .routers
        .find_user(&t.router.id, "x")
        .await
        .unwrap();
    let (_, body) = status_json(get(&app, &path, &t.admin_token).await).await;
    assert_eq!(body["state"], "connected");
    assert!(body["router_version"]
        .as_str()
        .unwrap()
        .starts_with(sim.version()));
    assert!(body["router_uptime"].is_string());
    assert!(body["avg_command_ms"].is_number());
    assert_eq!(body["queue_depth"], 0);
    assert_eq!(body["queue_capacity"], 64);
    assert!(body.as_object().unwrap().contains_key("last_error"));
    assert_eq!(body["nombre"], t.router.nombre.as_str());

    let other = app.tenant("Otra").await;
    set_activo(&app, &other.router, false).await;
    let (status, _) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/status", other.router.id),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    // The fleet view is for super_admin only.
    let (status, _) = status_json(get(&app, "/admin/routers/status", &t.admin_token).await).await;
    assert_eq!(status, 403);
    let root = app.super_admin().await;
    let (status, body) = status_json(get(&app, "/admin/routers/status", &root).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 2);
    let routers = body["routers"].as_array().unwrap();
    let find = |id: &str| -> &Value { routers.iter().find(|r| r["router_id"] == id).unwrap() };
    assert_eq!(find(&t.router.id)["state"], "connected");
    assert_eq!(find(&other.router.id)["state"], "disabled");
    assert_eq!(body["por_estado"]["connected"], 1);
    assert_eq!(body["por_estado"]["disabled"], 1);
}

#[actix_web::test]
async fn validar_empresa_router() {
    let (app, _sim, t) = setup().await;
    let res = app
        .http
        .post(app.url("/api/v1/routers/validar-empresa-router"))
        .header("X-API-Key", &t.api_key)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["estado"], "activo");
    assert_eq!(body["mensaje"], "Router en línea y responde correctamente");
    assert_eq!(body["conexion_ok"], true);
    assert!(body["error_detalle"].is_null());
    assert!(body["timestamp"].is_string());

    let down = app
        .tenant_with_router("Caido", "127.0.0.1", dead_port())
        .await;
    let res = app
        .http
        .post(app.url("/api/v1/routers/validar-empresa-router"))
        .bearer_auth(&down.api_key)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], false);
    assert_eq!(body["estado"], "router_inactivo");
    assert_eq!(
        body["mensaje"],
        "El router no está en línea (conexión fallida)"
    );
    assert_eq!(body["error_detalle"], "router_inactivo");
    assert_eq!(body["conexion_ok"], false);

    let res = app
        .http
        .post(app.url("/api/v1/routers/validar-empresa-router"))
        .send()
        .await
        .unwrap();
    // Without a key (as FastAPI's APIKeyHeader answered).
    assert_eq!(res.status(), 403);
}

#[actix_web::test]
async fn broker_metrics_reach_prometheus() {
    let (app, _sim, t) = setup().await;
    let res = get(
        &app,
        &format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id),
        &t.admin_token,
    )
    .await;
    assert_eq!(res.status(), 200);
    let text = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!("router_up{{router_id=\"{}\"}} 1", t.router.id)),
        "{text}"
    );
    assert!(
        text.contains(r#"router_commands_total{command="list_profiles",outcome="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains(&format!(
        "router_queue_depth{{router_id=\"{}\"}} 0",
        t.router.id
    )));
}

#[actix_web::test]
async fn a_router_disabled_by_the_super_admin_is_refused_at_once() {
    let (app, sim, t) = setup().await;
    let reg = &app.state.routers;
    reg.find_user(&t.router.id, "x").await.unwrap();
    let root = app.super_admin().await;
    let res = app
        .http
        .put(app.url(&format!(
            "/admin/empresas/{}/routers/{}/toggle-activo",
            t.empresa.id, t.router.id
        )))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        reg.find_user(&t.router.id, "x").await,
        Err(pagos_hotspot::routeros::BrokerError::Disabled)
    );
    let ctl = sim.control();
    let start = std::time::Instant::now();
    while ctl.sessions_open() != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "session kept open"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body) = status_json(
        get(
            &app,
            &format!("/api/v1/admin/routers/{}/mikrotik-profiles", t.router.id),
            &t.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["detail"],
        "El router está inactivo. Actívalo primero desde el panel."
    );
}
