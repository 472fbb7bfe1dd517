//! Purchase saga under faults: the router down before or after the charge, the gateway timing out
//! after charging, a process restart in the middle of the saga, and forged or replayed webhooks.
//! Every scenario ends with the invariant check on the simulator's and the sandbox's own state.

use std::time::Duration;

use serde_json::json;

use crate::helpers::purchase::*;

#[actix_web::test]
async fn router_down_before_the_user_is_created_means_no_charge() {
    let w = world().await;
    w.sim.reboot_with_downtime(Duration::from_secs(60));
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 503, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("router"), "{v}");
    assert!(w.sb.ledger().is_empty(), "no charge without a hotspot user");
    assert!(!w.sb.requests("conekta").iter().any(|r| r.path == "/orders"));
    assert!(w.sim.users().is_empty());
    let ps = w.purchases().await;
    assert_eq!(ps[0].state, "failed");
    // Nothing moved: the same request may be retried later; once the router is back (and the
    // broker reconnected), it succeeds.
    w.sim.reboot_with_downtime(Duration::ZERO);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (s, v) = w
            .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
            .await;
        if s == 200 {
            break;
        }
        assert_eq!(s, 503, "{v}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "router never usable again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

/// Starts a purchase whose charge is slow, and takes the router down as soon as its user exists.
async fn cut_router_after_user_created(w: &World, down: Duration) -> (u16, serde_json::Value) {
    w.sb.set_latency(Duration::from_millis(400));
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let req = w.pay("/api/v1/payments/pagar-conekta", &body, Some("cut-1"));
    let sim = w.sim.control();
    let cut = async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while sim.users().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "user never created");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.reboot_with_downtime(down);
    };
    let (res, ()) = futures_util::future::join(req, cut).await;
    w.sb.set_latency(Duration::ZERO);
    res
}

#[actix_web::test]
async fn router_cut_after_the_charge_is_finished_by_the_reconciler() {
    let w = world().await;
    let (s, v) = cut_router_after_user_created(&w, Duration::from_millis(1500)).await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(w.sb.ledger().len(), 1, "charged once");
    assert!(
        w.sim.users()[0].disabled,
        "no access before the router confirms it"
    );
    // The portal retries with the same key while it is unfinished: no second charge.
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    // The router comes back; the reconciler enables the user and saves the response.
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "completed")
        .await;
    let (s, v2) = w
        .pay("/api/v1/payments/pagar-conekta", &body, Some("cut-1"))
        .await;
    assert_eq!(s, 200, "{v2}");
    let users = w.sim.users();
    assert_eq!(v2["usuario_hotspot"]["usuario"], users[0].name);
    assert_eq!(v2["usuario_hotspot"]["contrasena"], users[0].password);
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn router_down_past_the_deadline_gets_the_charge_refunded() {
    let w = world_with(|c| {
        c.purchase.enable_deadline = Duration::ZERO;
        c.purchase.retry_delay = Duration::ZERO;
    })
    .await;
    let (s, _) = cut_router_after_user_created(&w, Duration::from_secs(3600)).await;
    assert_eq!(s, 503);
    let state = w.app.state.clone();
    // The router stays down: the money goes back even though the user cannot be removed yet.
    w.reconcile_until(&state, |_| w.sb.net_captured().is_zero())
        .await;
    let ledger = w.sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].status, "refunded");
    assert!(w.sim.users().iter().all(|u| u.disabled));
    // The router is back: the leftover user is removed.
    w.sim.reboot_with_downtime(Duration::ZERO);
    w.reconcile_until(&state, |ps| ps[0].state == "refunded")
        .await;
    assert!(w.sim.users().is_empty());
    let (s, v) = w
        .pay(
            "/api/v1/payments/pagar-conekta",
            &conekta_body(w.product.id, "tok_test_visa_4242"),
            Some("cut-1"),
        )
        .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (
            402,
            Some("No se pudo activar el acceso a internet; el pago fue reembolsado.")
        )
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn conekta_timeout_after_charging_is_resolved_by_reference_without_a_second_charge() {
    let w = world_with(|c| c.purchase.gateway_timeout = Duration::from_millis(700)).await;
    w.sb.set_hang_for(Duration::from_secs(3));
    w.sb.charge_then_timeout_next();
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    let orders: Vec<_> =
        w.sb.requests("conekta")
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/orders")
            .collect();
    assert_eq!(orders.len(), 1, "POST /orders is never retried");
    assert_eq!(w.sb.ledger().len(), 1);
    assert_eq!(w.purchases().await[0].state, "completed");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn mercado_pago_timeout_after_charging_completes_once() {
    let w = world_with(|c| c.purchase.gateway_timeout = Duration::from_millis(700)).await;
    w.sb.set_hang_for(Duration::from_secs(3));
    let token = mp_card_token(&w, "APRO").await;
    w.sb.charge_then_timeout_next();
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn gateway_down_during_the_charge_is_reconciled() {
    let w = world_with(|c| {
        c.purchase.unknown_charge_deadline = Duration::ZERO;
        c.purchase.retry_delay = Duration::ZERO;
    })
    .await;
    // The create answers 500 (nothing charged) and so does the lookup by reference.
    w.sb.fail_next(5);
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["detail"], CHARGE_BEING_CONFIRMED);
    assert!(w.sb.ledger().is_empty());
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "failed")
        .await;
    assert!(w.sim.users().is_empty());
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_restart_in_the_middle_of_the_saga_is_finished_by_the_reconciler() {
    let mut w = world_with(|c| {
        c.purchase.saga_lease = Duration::from_millis(500);
        c.purchase.gateway_timeout = Duration::from_secs(20);
    })
    .await;
    // The charge is made at once, but its answer never arrives before the crash.
    w.sb.set_hang_for(Duration::from_secs(20));
    w.sb.charge_then_timeout_next();
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let path = "/api/v1/payments/pagar-conekta";
    let http = reqwest::Client::new();
    let (addr, key) = (w.app.address.clone(), w.tenant.api_key.clone());
    let inflight = actix_web::rt::spawn({
        let body = body.clone();
        async move {
            let res = http
                .post(format!("{addr}{path}"))
                .header("X-API-Key", key)
                .header("Idempotency-Key", "crash-1")
                .json(&body)
                .send()
                .await;
            res.map(|r| r.status().as_u16()).ok()
        }
    });
    eventually("the charge", || w.sb.ledger().len() == 1).await;
    assert_eq!(w.purchases().await[0].state, "charging");
    // Crash.
    w.app.stop_server().await;
    let status = inflight.await.unwrap();
    assert_ne!(
        status,
        Some(200),
        "the crashed process never answered with credentials"
    );
    // The crashed process's pool may hold connections opened on its (now stopped) HTTP worker
    // runtimes; read through a fresh pool, as a new process would.
    w.app.db = pagos_hotspot::db::connect(&w.app.testdb.url).await.unwrap();
    let p = &w.purchases().await[0];
    assert_eq!(p.state, "charging");
    assert!(w.sim.users()[0].disabled);
    // A new process on the same database finishes it.
    let url = w.app.testdb.url.clone();
    let sb_url = w.sb.base_url();
    let app2 = spawn_app_on(&url, &w.app.state.config, |c| {
        c.conekta_api_base = sb_url.clone();
        c.mercadopago_api_base = sb_url.clone();
        c.telegram_api_base = sb_url;
        c.rate_limits = false;
    })
    .await;
    w.reconcile_until(&app2.state, |ps| ps[0].state == "completed")
        .await;
    let (s, v) = pay_at(
        &reqwest::Client::new(),
        &app2.address,
        &w.tenant.api_key,
        path,
        &body,
        Some("crash-1"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["usuario_hotspot"]["usuario"], w.sim.users()[0].name);
    assert_eq!(
        v["usuario_hotspot"]["contrasena"],
        w.sim.users()[0].password
    );
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn forged_stale_and_replayed_webhooks_change_nothing() {
    let w = world_with(|c| c.purchase.mp_binary_mode = false).await;
    let url = w.app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        w.tenant.empresa.id
    ));
    // A pending payment: credentials with a warning, the user stays disabled.
    let token = mp_card_token(&w, "PEND").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["estado_pago"], "pending");
    assert_eq!(v["advertencia"], "Pago pendiente de confirmación");
    assert!(w.sim.users()[0].disabled);
    let pid = v["mercado_pago"]["payment_id"].as_i64().unwrap();
    // Forged: bad signature, no signature, stale timestamp, unknown company.
    let secret = w.sb.mp_webhook_secret();
    let now = chrono::Utc::now().timestamp();
    let id = pid.to_string();
    let sig_ok = pagos_hotspot::gateways::webhook::sign_mercado_pago(
        secret.as_bytes(),
        Some(&id),
        Some("req-1"),
        now,
    );
    let sig_bad = pagos_hotspot::gateways::webhook::sign_mercado_pago(
        b"wrong-secret",
        Some(&id),
        Some("req-1"),
        now,
    );
    let sig_stale = pagos_hotspot::gateways::webhook::sign_mercado_pago(
        secret.as_bytes(),
        Some(&id),
        Some("req-1"),
        now - 3600,
    );
    let body = json!({"type":"payment","action":"payment.updated","data":{"id": id}}).to_string();
    let send = |sig: Option<String>, url: String| {
        let http = w.app.http.clone();
        let body = body.clone();
        let id = id.clone();
        async move {
            let mut rb = http
                .post(format!("{url}&data.id={id}&type=payment"))
                .header("x-request-id", "req-1")
                .body(body);
            if let Some(s) = sig {
                rb = rb.header("x-signature", s);
            }
            rb.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(send(Some(sig_bad), url.clone()).await, 401);
    assert_eq!(send(None, url.clone()).await, 401);
    assert_eq!(send(Some(sig_stale), url.clone()).await, 401);
    let foreign = w
        .app
        .url("/api/v1/webhook/mercado-pago?empresa_id=EMP_0000000000");
    assert_eq!(send(Some(sig_ok.clone()), foreign).await, 401);
    assert_eq!(w.purchases().await[0].state, "pending");
    // Cancel the payment at the gateway, then deliver a valid notification: the purchase is
    // declined and its user removed.
    let res = w
        .app
        .http
        .put(format!("{}/v1/payments/{pid}", w.sb.base_url()))
        .bearer_auth(MP_TOKEN)
        .json(&json!({"status": "cancelled"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(send(Some(sig_ok.clone()), url.clone()).await, 200);
    assert_eq!(w.purchases().await[0].state, "declined");
    assert!(w.sim.users().is_empty());
    // Replayed: accepted as a duplicate, nothing more happens.
    assert_eq!(send(Some(sig_ok), url).await, 200);
    assert_eq!(w.purchases().await[0].state, "declined");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_webhook_revokes_access() {
    let w = world().await;
    w.sb.set_mp_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        w.tenant.empresa.id
    ))));
    let token = mp_card_token(&w, "APRO").await;
    let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
    assert_eq!(s, 200, "{v}");
    let pid = v["mercado_pago"]["payment_id"].as_i64().unwrap();
    let res = w
        .app
        .http
        .post(format!("{}/v1/payments/{pid}/refunds", w.sb.base_url()))
        .bearer_auth(MP_TOKEN)
        .header("X-Idempotency-Key", "admin-refund-1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    // The sandbox notifies us; the purchase is revoked and the user disabled.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while w.purchases().await[0].state != "revoked" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not revoked: {:?}",
            w.sb.webhooks_sent()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(w.sim.users()[0].disabled);
    check_invariants(&w).await;

    // Conekta: a refund event, signed with the company's registered key.
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    let order = v["id_transaccion"].as_str().unwrap().to_string();
    conekta_refund_at_sandbox(&w, &order, 1500).await;
    assert_eq!(
        conekta_notice(&w, &order, "order.refunded").await,
        Some(200)
    );
    let ps = w.purchases().await;
    assert!(
        ps.iter().all(|p| p.state == "revoked"),
        "{:?}",
        ps.iter().map(|p| &p.state).collect::<Vec<_>>()
    );
    assert!(w.sim.users().iter().all(|u| u.disabled));
    check_invariants(&w).await;
}

#[actix_web::test]
async fn the_reconciler_lease_is_exclusive_across_replicas() {
    use pagos_hotspot::db::purchases;
    let w = world().await;
    let (s, _) = cut_router_after_user_created(&w, Duration::from_millis(1500)).await;
    assert_eq!(s, 503);
    let p = w.purchases().await.remove(0);
    let now = chrono::Utc::now();
    let lease = Duration::from_secs(60);
    // Two replicas race for the same purchase: one wins.
    let (a, b) = futures_util::future::join(
        purchases::claim(&w.app.db, &p.id, now, lease),
        purchases::claim(&w.app.db, &p.id, now, lease),
    )
    .await;
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim succeeds");
    // While leased, a reconciler pass leaves it alone.
    let report = pagos_hotspot::purchase::reconciler::reconcile_once(&w.app.state).await;
    assert_eq!(report.examined, 0);
    // Once the lease has expired, it is claimable again.
    let later = now + chrono::Duration::seconds(61);
    assert!(purchases::claim(&w.app.db, &p.id, later, lease)
        .await
        .unwrap());
    purchases::unlock(&w.app.db, &p.id).await.unwrap();
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "completed")
        .await;
    check_invariants(&w).await;
}

#[actix_web::test]
async fn router_steps_with_an_unknown_outcome_are_checked_before_compensating() {
    let w = world_with(|c| c.router.command_timeout = Duration::from_millis(400)).await;
    // The add and the enable run on the router, but their replies come too late.
    w.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(900));
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 200, "{v}");
    w.sim.clear_latency_overrides();
    w.sim
        .set_latency_for("/ip/hotspot/user/enable", Duration::from_millis(900));
    let (s, v2) = w
        .conekta(&conekta_body(w.product.id, "tok_test_mastercard_4444"))
        .await;
    assert_eq!(s, 200, "{v2}");
    w.sim.clear_latency_overrides();
    let users = w.sim.users();
    assert_eq!(users.len(), 2, "no duplicate or orphan user: {users:?}");
    assert!(users.iter().all(|u| !u.disabled));
    assert_eq!(w.sb.ledger().len(), 2);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_busy_router_answers_503_with_retry_after_and_charges_nothing() {
    let w = world_with(|c| c.router.mailbox_capacity = 1).await;
    w.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(1000));
    let tokens = [
        "tok_test_visa_4242",
        "tok_test_mastercard_4444",
        "tok_test_mastercard_5100",
        "tok_test_visa_1881",
        "tok_test_amex_0005",
    ];
    let calls = tokens.iter().map(|t| {
        let http = w.app.http.clone();
        let url = w.app.url("/api/v1/payments/pagar-conekta");
        let key = w.tenant.api_key.clone();
        let body = conekta_body(w.product.id, t);
        async move {
            let res = http
                .post(url)
                .header("X-API-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let retry = res.headers().get("retry-after").cloned();
            (res.status().as_u16(), retry)
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let busy: Vec<_> = results.iter().filter(|(s, _)| *s == 503).collect();
    assert!(ok >= 1, "{results:?}");
    assert!(!busy.is_empty(), "{results:?}");
    assert!(
        busy.iter().all(|(_, r)| r.is_some()),
        "503 carries Retry-After"
    );
    assert_eq!(ok + busy.len(), tokens.len(), "{results:?}");
    assert_eq!(
        w.sb.ledger().len(),
        ok,
        "only the purchases that got a user were charged"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_full_router_queue_is_answered_at_once_and_writes_nothing_but_retries_still_replay() {
    let w = world_with(|c| c.router.mailbox_capacity = 1).await;
    w.sim
        .set_latency_for("/ip/hotspot/user/add", Duration::from_millis(600));
    let first_body = conekta_body(w.product.id, "tok_test_visa_4242");
    let first = w.pay(
        "/api/v1/payments/pagar-conekta",
        &first_body,
        Some("first-1"),
    );
    let others = async {
        // Once the first purchase's user creation occupies the router's only queue place…
        eventually("the first purchase at the router", || {
            w.sim.in_flight() == 1
        })
        .await;
        let started = std::time::Instant::now();
        let busy = w
            .pay(
                "/api/v1/payments/pagar-conekta",
                &conekta_body(w.product.id, "tok_test_mastercard_4444"),
                Some("second-1"),
            )
            .await;
        let took = started.elapsed();
        // …and a retry of the first purchase, which must wait for its answer, not get Busy.
        let retry = w
            .pay(
                "/api/v1/payments/pagar-conekta",
                &first_body,
                Some("first-1"),
            )
            .await;
        (busy, took, retry)
    };
    let ((s1, v1), ((s2, v2), took, (s3, v3))) = tokio::join!(first, others);
    assert_eq!(s1, 200, "{v1}");
    assert_eq!(s2, 503, "{v2}");
    assert!(took < Duration::from_millis(400), "Busy took {took:?}");
    assert_eq!(s3, 200, "the retry replays the first answer: {v3}");
    assert_eq!(v3["usuario_hotspot"], v1["usuario_hotspot"]);
    // Nothing of the refused purchase was written or charged.
    assert_eq!(w.purchases().await.len(), 1);
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_signed_conekta_event_finishes_a_charge_whose_answer_was_lost() {
    let w = world_with(|c| c.purchase.gateway_timeout = Duration::from_millis(800)).await;
    w.sb.set_hang_for(Duration::from_secs(5));
    w.sb.charge_then_timeout_next();
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let req = w.pay("/api/v1/payments/pagar-conekta", &body, Some("lost-1"));
    let sb = &w.sb;
    // Once the charge exists, the lookup by reference fails once (the gateway is struggling).
    let fail_lookups = async {
        eventually("the charge", || sb.ledger().len() == 1).await;
        sb.fail_next(1);
    };
    let ((s, v), ()) = futures_util::future::join(req, fail_lookups).await;
    // The charge's outcome is unknown: "being confirmed" (503), never an error that would make
    // the portal ask for another card.
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["detail"], CHARGE_BEING_CONFIRMED);
    assert_eq!(w.purchases().await[0].state, "charging");
    assert!(w.sim.users()[0].disabled);
    // Conekta's signed `order.paid` event arrives: the purchase completes.
    w.sb.set_conekta_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/conekta?empresa_id={}",
        w.tenant.empresa.id
    ))));
    let order = w.sb.ledger()[0].id.clone();
    let status =
        w.sb.send_conekta_webhook(&order, "order.paid")
            .await
            .unwrap();
    assert_eq!(status, Some(200));
    assert_eq!(w.purchases().await[0].state, "completed");
    assert!(!w.sim.users()[0].disabled);
    let (s, v) = w
        .pay("/api/v1/payments/pagar-conekta", &body, Some("lost-1"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["usuario_hotspot"]["usuario"], w.sim.users()[0].name);
    assert_eq!(w.sb.ledger().len(), 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_pending_payment_is_enabled_when_the_approval_arrives_by_webhook_or_by_polling() {
    let w = world_with(|c| c.purchase.mp_binary_mode = false).await;
    // Two pending purchases; the user stays disabled until the money is confirmed.
    let mut ids = vec![];
    for _ in 0..2 {
        let token = mp_card_token(&w, "PEND").await;
        let (s, v) = w.mp(&mp_body(w.product.id, &token, 15.0)).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["estado_pago"], "pending");
        assert_eq!(v["advertencia"], "Pago pendiente de confirmación");
        ids.push(v["mercado_pago"]["payment_id"].as_i64().unwrap());
    }
    assert!(w.sim.users().iter().all(|u| u.disabled));
    check_invariants(&w).await;

    // 1. By webhook: the bank approves the first one and the sandbox notifies us.
    w.sb.set_mp_webhook_url(Some(w.app.url(&format!(
        "/api/v1/webhook/mercado-pago?empresa_id={}",
        w.tenant.empresa.id
    ))));
    assert!(w.sb.approve_pending_mp(ids[0]));
    let first = ids[0].to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let done = w.purchases().await.iter().any(|p| {
            p.gateway_payment_id.as_deref() == Some(first.as_str()) && p.state == "completed"
        });
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the approval webhook did not complete the purchase: {:?}",
            w.sb.webhooks_sent()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(w.sim.users().iter().filter(|u| !u.disabled).count(), 1);
    check_invariants(&w).await;

    // 2. By polling: no webhook this time; the reconciler asks the gateway.
    w.sb.set_mp_webhook_url(None);
    assert!(w.sb.approve_pending_mp(ids[1]));
    pagos_hotspot::purchase::reconciler::reconcile_once(&w.app.state).await;
    assert!(w.purchases().await.iter().all(|p| p.state == "completed"));
    assert!(w.sim.users().iter().all(|u| !u.disabled));
    let txs = <entity::transaccion::Entity as sea_orm::EntityTrait>::find()
        .all(&w.app.db)
        .await
        .unwrap();
    assert_eq!(txs.len(), 2);
    assert!(txs.iter().all(|t| t.estado_pago == "approved"));
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_notice_for_a_purchase_held_by_another_worker_waits_for_it_then_revokes() {
    let w = world_with(|c| c.purchase.webhook_lease_wait = Duration::from_secs(5)).await;
    let (purchase, pid) = mp_purchase_with_webhooks(&w).await;
    // Another worker (a reconciler pass, another notification) holds the purchase briefly.
    let db = &w.app.db;
    assert!(store_claim(db, &purchase, Duration::from_millis(400)).await);
    assert_eq!(refund_and_await_notice(&w, pid).await, Some(200));
    assert_eq!(w.purchases().await[0].state, "revoked");
    assert!(w.sim.users()[0].disabled);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_notice_for_a_purchase_held_too_long_is_refused_and_its_redelivery_revokes() {
    let w = world_with(|c| c.purchase.webhook_lease_wait = Duration::from_millis(300)).await;
    let (purchase, pid) = mp_purchase_with_webhooks(&w).await;
    let db = &w.app.db;
    assert!(store_claim(db, &purchase, Duration::from_secs(60)).await);
    // Not applied, and not acknowledged: the gateway will deliver it again.
    assert_eq!(refund_and_await_notice(&w, pid).await, Some(503));
    assert_eq!(w.purchases().await[0].state, "completed");
    // The worker lets go; the gateway's next delivery of the same notice is processed.
    pagos_hotspot::db::purchases::unlock(db, &purchase)
        .await
        .unwrap();
    let status = w.sb.send_mp_webhook(pid, "payment.updated").await.unwrap();
    assert_eq!(status, Some(200));
    assert_eq!(w.purchases().await[0].state, "revoked");
    assert!(w.sim.users()[0].disabled);
    check_invariants(&w).await;
}

async fn store_claim(db: &sea_orm::DatabaseConnection, id: &str, lease: Duration) -> bool {
    pagos_hotspot::db::purchases::claim(db, id, chrono::Utc::now(), lease)
        .await
        .unwrap()
}

/// The answer to a charge whose outcome the gateway did not give.
const CHARGE_BEING_CONFIRMED: &str = "Estamos confirmando el pago con el banco. Intente de nuevo en unos segundos con la misma solicitud; no se hará un segundo cargo.";

#[actix_web::test]
async fn an_unknown_charge_outcome_is_answered_503_with_retry_after_and_the_retry_gets_the_final_answer(
) {
    let w = world_with(|c| c.purchase.gateway_timeout = Duration::from_millis(600)).await;
    // The charge is made, its answer and the lookup by reference never arrive in time.
    w.sb.set_hang_for(Duration::from_secs(3));
    w.sb.charge_then_timeout_next();
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let send = || {
        w.app
            .http
            .post(w.app.url("/api/v1/payments/pagar-conekta"))
            .header("x-api-key", &w.tenant.api_key)
            .header("idempotency-key", "unknown-1")
            .json(&body)
            .send()
    };
    // Once the charge exists, the lookup by reference fails: the outcome stays unknown.
    let sb = &w.sb;
    let fail_lookups = async {
        eventually("the charge", || sb.ledger().len() == 1).await;
        sb.fail_next(1);
    };
    let (res, ()) = futures_util::future::join(send(), fail_lookups).await;
    let res = res.unwrap();
    assert_eq!(res.status(), 503);
    let retry_after = res.headers().get("retry-after").cloned();
    assert_eq!(
        retry_after.as_ref().and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["detail"], CHARGE_BEING_CONFIRMED);
    assert_eq!(w.purchases().await[0].state, "charging");
    // The reconciler finds the charge; the retry with the same key gets the purchase.
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "completed")
        .await;
    let res = send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["usuario_hotspot"]["usuario"], w.sim.users()[0].name);
    assert_eq!(w.sb.ledger().len(), 1, "one charge only");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_gateway_that_cannot_be_reached_is_a_definite_failure_that_frees_the_key() {
    // A port nobody listens on: the request is never sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let w = world_with(|c| c.conekta_api_base = base.clone()).await;
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let (s, v) = w
        .pay("/api/v1/payments/pagar-conekta", &body, Some("never-sent"))
        .await;
    assert_eq!(s, 500, "{v}");
    assert_eq!(v["detail"], "Error interno al procesar el pago.");
    // Undone at once: no router user, the purchase failed (not left for the reconciler), and
    // the key is free, so the same request is tried again rather than held.
    let ps = w.purchases().await;
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].state, "failed");
    assert!(w.sim.users().is_empty());
    let (s, _) = w
        .pay("/api/v1/payments/pagar-conekta", &body, Some("never-sent"))
        .await;
    assert_eq!(s, 500);
    assert_eq!(
        w.purchases().await.len(),
        2,
        "a new attempt, not a held key"
    );
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_notice_whose_processing_died_is_applied_when_redelivered() {
    use sea_orm::{ActiveModelTrait, Set};
    let w = world_with(|c| c.purchase.saga_lease = Duration::from_secs(30)).await;
    let (_purchase, pid) = mp_purchase_with_webhooks(&w).await;
    // The refund notice finds the service down: captured, to be delivered again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap();
    drop(closed);
    let query = format!("empresa_id={}", w.tenant.empresa.id);
    w.sb.set_mp_webhook_url(Some(format!(
        "http://{down}/api/v1/webhook/mercado-pago?{query}"
    )));
    refund_at_sandbox(&w, pid).await;
    eventually("the refund notice sent", || {
        w.sb.webhooks_sent()
            .iter()
            .any(|h| h.url.contains(&down.to_string()))
    })
    .await;
    let notice =
        w.sb.webhooks_sent()
            .into_iter()
            .rev()
            .find(|h| h.url.contains(&down.to_string()))
            .unwrap();
    // The service that died had recorded it (long ago) and never applied it.
    let request_id = notice.headers["x-request-id"].clone();
    entity::webhook_event::ActiveModel {
        provider: Set("mercado_pago".into()),
        event_id: Set(format!("{pid}:{request_id}")),
        empresa_id: Set(Some(w.tenant.empresa.id.clone())),
        received_at: Set(chrono::Utc::now() - chrono::Duration::minutes(10)),
        payload_sha256: Set(pagos_hotspot::purchase::sha256_hex(notice.body.as_bytes())),
        outcome: Set("received".into()),
        ..Default::default()
    }
    .insert(&w.app.db)
    .await
    .unwrap();
    assert_eq!(w.purchases().await[0].state, "completed");
    // The gateway delivers the same notice again: applied, not dropped as a duplicate.
    let redeliver = || {
        let url = notice
            .url
            .replace(&format!("http://{down}"), &w.app.address);
        let mut rb = w.app.http.post(url).body(notice.body.clone());
        for (k, v) in &notice.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb.header("content-type", "application/json").send()
    };
    let res = redeliver().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert!(v.get("duplicate").is_none(), "{v}");
    assert_eq!(w.purchases().await[0].state, "revoked");
    assert!(w.sim.users()[0].disabled);
    // Once applied, a further delivery is a duplicate.
    let v: serde_json::Value = redeliver().await.unwrap().json().await.unwrap();
    assert_eq!(v["duplicate"], true, "{v}");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_router_that_lost_its_users_never_has_another_customers_user_touched() {
    let w = world_with(|c| {
        c.purchase.unknown_charge_deadline = Duration::ZERO;
        c.purchase.retry_delay = Duration::ZERO;
    })
    .await;
    // A's charge: the gateway fails the create and the lookup, A stays `charging` with its
    // (disabled) user, `.id` *1.
    w.sb.fail_next(2);
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_visa_4242"))
        .await;
    assert_eq!(s, 503, "{v}");
    let a = w.purchases().await[0].clone();
    assert_eq!(a.state, "charging");
    assert_eq!(a.router_user_id.as_deref(), Some("*1"));
    // The router is reset: its users are gone and `.id`s start again.
    w.sim.forget_users();
    // B buys: its user gets the `.id` A stored.
    let (s, v) = w
        .conekta(&conekta_body(w.product.id, "tok_test_mastercard_4444"))
        .await;
    assert_eq!(s, 200, "{v}");
    let b_user = w.sim.users()[0].clone();
    assert_eq!(b_user.id, "*1");
    // The reconciler undoes A (nothing was charged): B's user must stay as it is.
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| {
        ps.iter().any(|p| p.id == a.id && p.state == "failed")
    })
    .await;
    let users = w.sim.users();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0].name, b_user.name);
    assert!(!users[0].disabled);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_saga_longer_than_its_lease_keeps_it_and_the_reconciler_stays_out() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let w = world_with(|c| {
        c.purchase.saga_lease = Duration::from_millis(600);
        c.purchase.gateway_timeout = Duration::from_secs(10);
    })
    .await;
    // Every gateway answer takes longer than the lease: the saga runs for several leases.
    w.sb.set_latency(Duration::from_millis(1500));
    let done = AtomicBool::new(false);
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let buy = async {
        let r = w.conekta(&body).await;
        done.store(true, Ordering::SeqCst);
        r
    };
    // Meanwhile the reconciler runs its passes: it must never take the purchase over.
    let state = w.app.state.clone();
    let reconcile = async {
        let mut passes = 0;
        while !done.load(Ordering::SeqCst) {
            let report = pagos_hotspot::purchase::reconciler::reconcile_once(&state).await;
            assert_eq!(
                report.examined, 0,
                "the reconciler took over a running saga"
            );
            passes += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        passes
    };
    let ((s, v), passes) = futures_util::future::join(buy, reconcile).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        passes > 10,
        "the saga outlived its lease several times ({passes} passes)"
    );
    assert_eq!(w.sb.ledger().len(), 1);
    assert_eq!(w.purchases().await[0].state, "completed");
    check_invariants(&w).await;
}
