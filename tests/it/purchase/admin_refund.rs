//! Refunds from the admin API (`POST /api/v1/admin/mi-empresa/transacciones/{id}/reembolso`):
//! through the gateway's refund API, idempotent, audited; a full refund revokes the access at
//! once (checked on the simulator) and only once (checked on the sandbox's ledger); a partial
//! one keeps it; a refund interrupted after it was asked for is finished by the reconciler.

use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{json, Value};

use entity::{audit_log, purchase};

use crate::helpers::purchase::*;
use crate::helpers::status_json;

const PHONE: (&str, &str) = ("AA:BB:CC:DD:EE:41", "10.5.50.41");

/// A paid Conekta purchase with the phone online: the transaction's integer id and the user.
async fn paid_and_online(w: &World) -> (i64, String) {
    let body = conekta_body(w.product.id, "tok_test_visa_4242");
    let (_, user, pass) = paid_conekta(w, &body).await;
    w.sim.add_host(PHONE.0, PHONE.1);
    let r = w.log_in_device(&user, &pass, PHONE.0, PHONE.1).await;
    assert_eq!(r["success"], true, "{r}");
    let id = w.transactions().await["transacciones"][0]["id"]
        .as_i64()
        .unwrap();
    (id, user)
}

async fn refund(
    w: &World,
    token: &str,
    id: i64,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let path = format!("/api/v1/admin/mi-empresa/transacciones/{id}/reembolso");
    let mut rb = w.app.http.post(w.app.url(&path)).bearer_auth(token);
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    status_json(rb.send().await.unwrap()).await
}

fn refunded_at_gateway(w: &World) -> Decimal {
    w.sb.ledger().iter().map(|l| l.refunded).sum()
}

fn access_left(w: &World, user: &str) -> (usize, usize, bool) {
    let sessions = w.sim.active().iter().filter(|a| a.user == user).count();
    let cookies = w.sim.cookies().iter().filter(|c| c.user == user).count();
    let enabled = w.sim.users().iter().any(|u| u.name == user && !u.disabled);
    (sessions, cookies, enabled)
}

async fn refund_audits(w: &World) -> usize {
    audit_log::Entity::find()
        .filter(audit_log::Column::EmpresaId.eq(w.tenant.empresa.id.clone()))
        .filter(audit_log::Column::Action.eq(audit_log::AuditAction::TransaccionReembolsar))
        .all(&w.app.db)
        .await
        .unwrap()
        .len()
}

#[actix_web::test]
async fn a_full_refund_revokes_at_once_and_only_once() {
    let w = world().await;
    let (id, user) = paid_and_online(&w).await;
    let token = w.tenant.admin_token.clone();
    let body = json!({"motivo": "cliente insatisfecho"});
    let (s, first) = refund(&w, &token, id, Some(body.clone()), Some("refund-1")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["acceso_revocado"], true, "{first}");
    assert_eq!(first["monto_reembolsado"], 15.0);
    // At once: no session, no cookie, the user disabled; the purchase revoked.
    assert_eq!(access_left(&w, &user), (0, 0, false));
    assert_eq!(w.purchases().await[0].state, "revoked");
    let t = &w.transactions().await["transacciones"][0];
    assert_eq!(
        (t["monto_reembolsado"].clone(), t["estado_hotspot"].clone()),
        (json!(15.0), json!("revoked")),
        "{t}"
    );
    assert_eq!(refunded_at_gateway(&w), Decimal::new(15, 0));
    // Only once: the same key replays the answer; without one, there is nothing left.
    let (s, again) = refund(&w, &token, id, Some(body.clone()), Some("refund-1")).await;
    assert_eq!((s, &again), (200, &first));
    let (s, v) = refund(
        &w,
        &token,
        id,
        Some(json!({"motivo": "otra"})),
        Some("refund-1"),
    )
    .await;
    assert_eq!(s, 422, "a key reused with another body: {v}");
    let (s, v) = refund(&w, &token, id, None, None).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(refunded_at_gateway(&w), Decimal::new(15, 0));
    assert_eq!(refund_audits(&w).await, 1);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_partial_refund_keeps_the_access_and_the_rest_revokes_it() {
    let w = world().await;
    let (id, user) = paid_and_online(&w).await;
    let token = w.tenant.admin_token.clone();
    // `amount` is accepted; with both names the Spanish one wins.
    let (s, v) = refund(&w, &token, id, Some(json!({"monto": 5, "amount": 9})), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["acceso_revocado"], false);
    assert_eq!(v["monto_reembolsado"], 5.0);
    assert_eq!(access_left(&w, &user), (1, 1, true));
    assert_eq!(w.purchases().await[0].state, "completed");
    // More than is left: refused, nothing moves.
    let (s, v) = refund(&w, &token, id, Some(json!({"amount": 10.01})), None).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(refunded_at_gateway(&w), Decimal::new(5, 0));
    // Bad amounts: 422.
    for bad in [
        json!({"monto": 0}),
        json!({"monto": "x"}),
        json!({"monto": 1.234}),
    ] {
        let (s, v) = refund(&w, &token, id, Some(bad.clone()), None).await;
        assert_eq!(s, 422, "{bad}: {v}");
    }
    // The rest: the access goes.
    let (s, v) = refund(&w, &token, id, Some(json!({"monto": 10})), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["acceso_revocado"], true, "{v}");
    assert_eq!(access_left(&w, &user), (0, 0, false));
    assert_eq!(refunded_at_gateway(&w), Decimal::new(15, 0));
    // Another company's admin cannot see or refund it.
    let other = w.app.tenant("Otra").await;
    let (s, _) = refund(&w, &other.admin_token, id, None, None).await;
    assert_eq!(s, 404);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn a_refund_interrupted_after_it_was_asked_for_is_finished_by_the_reconciler() {
    let w = world().await;
    let (_, user) = paid_and_online(&w).await;
    // The process died right after writing that a full refund was asked for, before the
    // gateway was called.
    let p = w.purchases().await.remove(0);
    let mut am = p.into_active_model();
    am.state = Set(entity::purchase::SagaState::Revoking);
    am.gateway_status = Set(Some("refund_requested".into()));
    let _: purchase::Model = am.update(&w.app.db).await.unwrap();
    let state = w.app.state.clone();
    w.reconcile_until(&state, |ps| ps[0].state == "revoked")
        .await;
    assert_eq!(refunded_at_gateway(&w), Decimal::new(15, 0));
    assert_eq!(access_left(&w, &user), (0, 0, false));
    let t = &w.transactions().await["transacciones"][0];
    assert_eq!(t["monto_reembolsado"], 15.0, "{t}");
    // Run again: nothing more is refunded.
    pagos_hotspot::purchase::reconciler::reconcile_once(&state).await;
    assert_eq!(refunded_at_gateway(&w), Decimal::new(15, 0));
    check_invariants(&w).await;
}
