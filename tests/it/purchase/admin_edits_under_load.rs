//! Company-admin edits while purchases run: every edit and every purchase succeeds. On SQLite the
//! edits used to read inside a deferred transaction and then write, and failed with 500
//! "database is locked" whenever a purchase committed in between (51 of 120 edits in an outside
//! test). Every writing transaction now takes the write lock at once (`db::begin_write`).

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::purchase::{check_invariants, mp_body, mp_card_token, world, World};
use crate::helpers::status_json;

const PURCHASES: usize = 40;
const EDITS: usize = 80;

async fn edit(w: &World, i: usize) -> (u16, Value, String) {
    let t = &w.tenant;
    let (path, body) = match i % 4 {
        0 => (
            "/api/v1/admin/mi-empresa".to_string(),
            json!({"nombre": format!("Hotel Sol {i}")}),
        ),
        1 => (
            format!("/api/v1/admin/mi-empresa/routers/{}", t.router.id),
            json!({"nombre": format!("Router {i}"), "ubicacion": format!("Piso {i}")}),
        ),
        2 => (
            format!("/api/v1/admin/products/{}", w.product.id),
            json!({"descripcion": format!("Una hora ({i})")}),
        ),
        _ => (
            "/api/v1/admin/mi-empresa/conekta-config".to_string(),
            json!({"conekta_public_key": format!("key_pub_{i}")}),
        ),
    };
    let res = w
        .app
        .http
        .put(w.app.url(&path))
        .bearer_auth(&t.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    (s, v, path)
}

#[actix_web::test]
async fn admin_edits_and_purchases_at_once_all_succeed() {
    let w = world().await;
    let tokens = join_all((0..PURCHASES).map(|_| mp_card_token(&w, "APRO"))).await;
    let bodies: Vec<Value> = tokens
        .iter()
        .map(|token| mp_body(w.product.id, token, 15.0))
        .collect();
    let purchases = join_all(bodies.iter().map(|body| w.mp(body)));
    let edits = join_all((0..EDITS).map(|i| edit(&w, i)));
    let (purchases, edits) = futures_util::future::join(purchases, edits).await;
    let failed_edits: Vec<_> = edits
        .iter()
        .filter(|(s, _, _)| *s != 200)
        .map(|(s, v, p)| format!("{s} {p}: {v}"))
        .collect();
    assert!(failed_edits.is_empty(), "{failed_edits:#?}");
    let failed_purchases: Vec<_> = purchases
        .iter()
        .filter(|(s, _)| *s != 200)
        .map(|(s, v)| format!("{s}: {v}"))
        .collect();
    assert!(failed_purchases.is_empty(), "{failed_purchases:#?}");
    assert_eq!(w.sb.ledger().len(), PURCHASES);
    check_invariants(&w).await;
}
