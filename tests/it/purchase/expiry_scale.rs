//! The expiry job at scale: many expiries across many routers end without a reconnect storm
//! (about one session per router) and without two commands on one user at once, checked on the
//! simulators' own counters. Size: `EXPIRY_SCALE_PURCHASES` / `EXPIRY_SCALE_ROUTERS` /
//! `EXPIRY_SCALE_SIMS` (default 600 across 60 routers on one simulator; the figure,
//! 10,000 across 1,000, is run the same way with 10 simulators — a simulator scans its tables
//! per command, so one holding 10,000 users would measure itself). Prints the time (run with
//! `--nocapture` to see it).

use std::time::{Duration, Instant};

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::EntityTrait;

use entity::purchase::{self, GatewayKind, SagaState};
use pagos_hotspot::purchase::expiry::expire_once;
use pagos_hotspot::sandbox::routeros_sim::{RouterSim, SimConfig};

use crate::helpers::spawn_app_with;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn expired_purchase(id: &str, empresa_id: &str, router_id: &str, name: &str) -> purchase::Model {
    let now = Utc::now();
    purchase::Model {
        id: id.into(),
        empresa_id: empresa_id.into(),
        router_id: router_id.into(),
        producto_id: 1,
        gateway: GatewayKind::Conekta,
        state: SagaState::Completed,
        amount: Decimal::new(1500, 2),
        currency: "MXN".into(),
        user_type: "usuario_contrasena".into(),
        hotspot_username: Some(name.into()),
        hotspot_password: None,
        router_user_id: None,
        customer_name: "Scale".into(),
        customer_email: "scale@example.com".into(),
        customer_phone: None,
        mac_address: None,
        ip_address: None,
        auto_connect: false,
        idempotency_key: None,
        card_token_hash: None,
        gateway_reference: None,
        gateway_payment_id: None,
        gateway_status: Some("paid".into()),
        response_status: None,
        response_body: None,
        last_error: None,
        attempts: 0,
        next_attempt_at: None,
        locked_until: None,
        created_at: now,
        updated_at: now,
        usage_minutes: None,
        validity_minutes: Some(60),
        validity_from: Some("compra".into()),
        data_limit_mb: None,
        expires_at: Some(now - chrono::Duration::minutes(1)),
        ended_at: None,
        uptime_used_secs: None,
        bytes_used: None,
    }
}

#[actix_web::test]
async fn many_expiries_across_many_routers_without_a_reconnect_storm() {
    let purchases_n = size("EXPIRY_SCALE_PURCHASES", 600);
    let routers_n = size("EXPIRY_SCALE_ROUTERS", 60).max(1);
    let sims_n = size("EXPIRY_SCALE_SIMS", 1).clamp(1, routers_n);
    let sims: Vec<RouterSim> = (0..sims_n)
        .map(|_| {
            let mut cfg = SimConfig::new("api", "router-pass");
            cfg.max_sessions = routers_n + 50;
            RouterSim::start(cfg).unwrap()
        })
        .collect();
    let app = spawn_app_with(|c| {
        c.router.connect_concurrency = 16;
    })
    .await;
    let empresa = app.insert_empresa("Scale").await;
    let mut routers = Vec::with_capacity(routers_n);
    for (k, sim) in sims.iter().enumerate() {
        let n = routers_n / sims_n + usize::from(k < routers_n % sims_n);
        for id in app.routers_on(&empresa.id, sim.addr().port(), n).await {
            routers.push((id, k));
        }
    }
    let mut rows = Vec::with_capacity(purchases_n);
    for i in 0..purchases_n {
        let id = uuid::Uuid::new_v4().to_string();
        let name = format!("PT-S{i:05}");
        let (router_id, k) = &routers[i % routers_n];
        let comment = format!("purchase:{id}");
        sims[*k].seed_user_with_comment(&name, "1234", "default", Some(&comment));
        rows.push(expired_purchase(&id, &empresa.id, router_id, &name));
    }
    for chunk in rows.chunks(500) {
        let models = chunk
            .iter()
            .cloned()
            .map(sea_orm::IntoActiveModel::into_active_model);
        purchase::Entity::insert_many(models)
            .exec(&app.db)
            .await
            .unwrap();
    }
    let users = |sims: &[RouterSim]| sims.iter().map(|s| s.users().len()).sum::<usize>();
    let connections =
        |sims: &[RouterSim]| sims.iter().map(|s| s.connections_opened()).sum::<usize>();
    assert_eq!(users(&sims), purchases_n);

    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    let mut expired = 0;
    let mut passes = 0;
    while expired < purchases_n {
        assert!(
            Instant::now() < deadline,
            "only {expired} of {purchases_n} expired"
        );
        let r = expire_once(&app.state, Utc::now()).await;
        expired += r.expired;
        passes += 1;
    }
    let took = started.elapsed();
    println!(
        "expiry scale: {purchases_n} expiries across {routers_n} routers ({sims_n} simulators) in {:.1} s ({passes} passes), {} router connections opened",
        took.as_secs_f64(),
        connections(&sims)
    );
    assert_eq!(users(&sims), 0, "users left on the routers");
    // No reconnect storm: about one session per router (a few more if one was replaced).
    let opened = connections(&sims);
    assert!(
        opened <= routers_n + routers_n / 10 + 2,
        "{opened} connections for {routers_n} routers"
    );
    assert!(sims.iter().all(|s| s.max_in_flight_per_user() <= 1));
    let left = purchase::Entity::find().all(&app.db).await.unwrap();
    assert!(left.iter().all(|p| p.state == SagaState::Expired));
}
