//! `/__sandbox/…`: the sandbox's faults and ledger over HTTP, so that kill and fault tests can
//! drive a sandbox running as a process of its own (`pagos-hotspot sandbox-gateways`). Sandbox
//! only: the real gateways have no such routes.
//!
//! | route | body | effect |
//! |---|---|---|
//! | `POST /__sandbox/fail-next` | `{"n": 2, "gateway": "conekta"}` (gateway optional) | the next `n` requests answer 500, doing nothing |
//! | `POST /__sandbox/charge-then-timeout` | `{"n": 1}` | the next `n` charges are made, then their answers hang for `hang-for` |
//! | `POST /__sandbox/hang-for` | `{"ms": 30000}` | how long such an answer hangs |
//! | `POST /__sandbox/latency` | `{"ms": 100}` | delay of every Conekta and Mercado Pago answer |
//! | `POST /__sandbox/approve-pending/{payment_id}` | — | the payer's bank approves a pending Mercado Pago payment (404 if none) |
//! | `GET /__sandbox/ledger` | — | every charge made, with its status and refunded amount |

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{mercado_pago, Shared};
use crate::gateways::GatewayKind;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/__sandbox")
            .route("/fail-next", web::post().to(fail_next))
            .route("/charge-then-timeout", web::post().to(charge_then_timeout))
            .route("/hang-for", web::post().to(hang_for))
            .route("/latency", web::post().to(latency))
            .route(
                "/approve-pending/{payment_id}",
                web::post().to(approve_pending),
            )
            .route("/ledger", web::get().to(ledger)),
    );
}

#[derive(Deserialize)]
struct Count {
    n: u32,
    #[serde(default)]
    gateway: Option<GatewayKind>,
}

#[derive(Deserialize)]
struct Millis {
    ms: u64,
}

fn done() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn fail_next(shared: web::Data<Shared>, body: web::Json<Count>) -> HttpResponse {
    let mut g = shared.lock();
    g.faults.fail_next = body.n;
    g.faults.fail_only = body.gateway;
    done()
}

async fn charge_then_timeout(shared: web::Data<Shared>, body: web::Json<Count>) -> HttpResponse {
    shared.lock().faults.hang_next += body.n;
    done()
}

async fn hang_for(shared: web::Data<Shared>, body: web::Json<Millis>) -> HttpResponse {
    shared
        .config
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .hang_for = Duration::from_millis(body.ms);
    done()
}

async fn latency(shared: web::Data<Shared>, body: web::Json<Millis>) -> HttpResponse {
    shared.lock().faults.latency = Duration::from_millis(body.ms);
    done()
}

async fn approve_pending(shared: web::Data<Shared>, path: web::Path<i64>) -> HttpResponse {
    if mercado_pago::approve_pending(&shared, path.into_inner()) {
        done()
    } else {
        HttpResponse::NotFound().json(json!({"message": "no pending payment with that id"}))
    }
}

async fn ledger(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.lock().ledger.clone())
}
