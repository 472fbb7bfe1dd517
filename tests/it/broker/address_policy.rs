//! Router hosts are tenant input: they must not turn the service into a probe of its own
//! machine or its cloud's metadata service. Loopback (unless `ROUTER_ALLOW_LOOPBACK`),
//! link-local, unspecified and multicast hosts are refused when saved and again when the broker
//! connects (names are resolved and checked); connection errors are opaque classes, never the
//! operating system's text.

use serde_json::{json, Value};

use crate::helpers::{call, spawn_app_with, status_json, TestApp};
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};

async fn test_connection(app: &TestApp, token: &str, router_id: &str) -> Value {
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/admin/routers/{router_id}/test-connection"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[actix_web::test]
async fn hosts_that_reach_this_machine_or_link_local_are_refused_when_saved() {
    let app = spawn_app_with(|c| c.router.allow_loopback = false).await;
    let root = app.super_admin().await;
    let t = app.tenant("Alfa").await;
    let create = |host: &'static str| {
        let path = format!("/admin/empresas/{}/routers", t.empresa.id);
        let root = root.clone();
        let app = &app;
        async move {
            call(
                app,
                "POST",
                &path,
                Some(&root),
                Some(json!({"nombre": format!("r {host}"), "host": host, "usuario": "api", "password": "Router-Pa55-word"})),
            )
            .await
        }
    };
    for host in [
        "127.0.0.1",
        "::1",
        "169.254.169.254",
        "fe80::1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "localhost",
    ] {
        let (s, v) = create(host).await;
        assert_eq!(s, 422, "{host}: {v}");
        assert_eq!(
            v["detail"][0]["loc"],
            json!(["body", "host"]),
            "{host}: {v}"
        );
    }
    // Private ranges are where routers live (LANs, VPNs).
    for host in ["192.168.88.1", "10.8.0.2", "fd00::2"] {
        let (s, v) = create(host).await;
        assert_eq!(s, 200, "{host}: {v}");
    }
    // A company admin cannot move its router there either.
    let (s, v) = call(
        &app,
        "PUT",
        &format!("/api/v1/admin/mi-empresa/routers/{}", t.router.id),
        Some(&t.admin_token),
        Some(json!({"host": "169.254.169.254"})),
    )
    .await;
    assert_eq!(s, 422, "{v}");
}

#[actix_web::test]
async fn a_stored_loopback_host_or_a_name_resolving_to_it_is_refused_when_connecting() {
    let sim = RouterSim::start(SimConfig::new("api", "router-pass")).unwrap();
    let app = spawn_app_with(|c| c.router.allow_loopback = false).await;
    // Rows written before this check existed (or by hand) point at this machine.
    for host in ["127.0.0.1", "localhost"] {
        let t = app
            .tenant_with_router(&format!("Hotel {host}"), host, sim.addr().port())
            .await;
        let v = test_connection(&app, &t.admin_token, &t.router.id).await;
        assert_eq!(v["success"], false, "{host}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains("address not allowed"), "{host}: {error}");
    }
    assert_eq!(
        sim.connections_opened(),
        0,
        "no connection reached the simulator"
    );
}

#[actix_web::test]
async fn connection_errors_are_opaque_classes_not_the_os_text() {
    let app = spawn_app_with(|c| c.router.allow_loopback = true).await;
    // A port bound but not listening: connections are refused, and no other test can take it
    // while `held` lives.
    let held = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    held.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = held.local_addr().unwrap().as_socket().unwrap().port();
    let t = app.tenant_with_router("Cerrado", "127.0.0.1", port).await;
    let v = test_connection(&app, &t.admin_token, &t.router.id).await;
    assert_eq!(v["success"], false, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("connection refused"), "{error}");
    assert!(!error.contains("os error"), "{error}");
    assert!(!error.to_lowercase().contains("refused (os"), "{error}");
}
