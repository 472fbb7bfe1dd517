//! Fake Conekta API v2: orders, refunds, cancel, capture, webhook keys.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{now, parse_body, LedgerEntry, Shared};
use crate::gateways::{from_minor_units, GatewayKind};

/// Tokens that pay.
pub(crate) const PAID_TOKENS: &[&str] = &[
    "tok_test_visa_4242",
    "tok_test_mastercard_4444",
    "tok_test_mastercard_5100",
    "tok_test_visa_1881",
    "tok_test_amex_0005",
    "tok_test_amex_8431",
];

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::post().to(create_order))
        .route("/orders", web::get().to(list_orders))
        .route("/orders/{id}", web::get().to(get_order))
        .route("/orders/{id}/refunds", web::post().to(refund_order))
        .route("/orders/{id}/cancel", web::post().to(cancel_order))
        .route("/orders/{id}/capture", web::post().to(capture_order))
        .route("/webhook_keys", web::post().to(webhook_keys))
        .route("/webhook_keys", web::get().to(webhook_keys));
}

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn order_id() -> String {
    let mut rng = rand::thread_rng();
    let s: String = (0..17)
        .map(|_| char::from(BASE58[rng.gen_range(0..BASE58.len())]))
        .collect();
    format!("ord_{s}")
}

pub(super) fn hex_id() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

fn error(
    status: u16,
    error_type: &str,
    code: &str,
    message: &str,
    debug: &str,
    param: Option<&str>,
) -> HttpResponse {
    let body = json!({
        "object": "error",
        "type": error_type,
        "log_id": hex_id(),
        "details": [{ "code": code, "message": message, "debug_message": debug, "param": param }],
    });
    respond(status, body)
}

fn respond(status: u16, body: Value) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/vnd.conekta-v2.3.0+json; charset=utf-8")
        .json(body)
}

fn server_error() -> HttpResponse {
    error(
        500,
        "api_error",
        "conekta.errors.api.system.general_failure",
        "Hubo un error al procesar tu solicitud.",
        "Sandbox injected failure.",
        None,
    )
}

fn invalid(param: &str, debug: &str) -> HttpResponse {
    error(
        422,
        "parameter_validation_error",
        &format!("conekta.errors.parameter_validation.{param}"),
        "Los parámetros de la solicitud no son válidos.",
        debug,
        Some(param),
    )
}

fn not_found(id: &str) -> HttpResponse {
    error(
        404,
        "resource_not_found_error",
        "conekta.errors.resource_not_found.entity",
        "El recurso no ha sido encontrado.",
        &format!("The object Order \"{id}\" could not be found."),
        Some("id"),
    )
}

/// Key from `Authorization: Bearer key_…` or `Basic base64(key_…:)`.
fn authenticate(req: &HttpRequest) -> Result<(), HttpResponse> {
    let unauthorized = || {
        error(
            401,
            "authentication_error",
            "conekta.errors.authentication.missing_key",
            "Acceso no autorizado.",
            "Please include your access key in your request.",
            None,
        )
    };
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let key = if let Some(b) = auth.strip_prefix("Bearer ") {
        b.trim().to_owned()
    } else if let Some(b) = auth.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .unwrap_or_default();
        decoded.split(':').next().unwrap_or("").to_owned()
    } else {
        String::new()
    };
    if !key.starts_with("key_") || key.len() < 8 {
        return Err(unauthorized());
    }
    let accept = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("vnd.conekta-v") && !accept.contains("vnd.conekta-v2.") {
        return Err(error(
            409,
            "conflict_error",
            "conekta.errors.conflict.api_version",
            "La versión del API no es válida.",
            "Unsupported API version.",
            None,
        ));
    }
    Ok(())
}

/// Common prologue: fault injection, auth, body parsing and recording.
async fn prologue(shared: &Shared, req: &HttpRequest, bytes: &[u8]) -> Result<Value, HttpResponse> {
    let body = match parse_body(bytes) {
        Ok(b) => b,
        Err(()) => {
            shared.record(
                "conekta",
                req,
                &Value::String(String::from_utf8_lossy(bytes).into_owned()),
            );
            return Err(error(
                400,
                "malformed_request_error",
                "conekta.errors.malformed_request.json",
                "La solicitud no es válida.",
                "Malformed JSON body.",
                None,
            ));
        }
    };
    shared.record("conekta", req, &body);
    if shared.before(GatewayKind::Conekta).await {
        return Err(server_error());
    }
    authenticate(req)?;
    Ok(body)
}

struct ValidOrder {
    currency: String,
    amount: i64,
    token: String,
}

fn validate_order(b: &Value) -> Result<ValidOrder, HttpResponse> {
    if !b.is_object() {
        return Err(invalid("order", "The order must be an object."));
    }
    let currency = b["currency"].as_str().unwrap_or("");
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(invalid("currency", "currency must be a 3-letter code."));
    }
    let ci = &b["customer_info"];
    if ci.get("customer_id").and_then(Value::as_str).is_none() {
        for f in ["name", "email", "phone"] {
            if ci[f].as_str().is_none_or(|s| s.trim().is_empty()) {
                return Err(invalid(
                    &format!("customer_info.{f}"),
                    &format!("customer_info.{f} is required."),
                ));
            }
        }
        if !ci["email"].as_str().unwrap_or("").contains('@') {
            return Err(invalid(
                "customer_info.email",
                "customer_info.email is invalid.",
            ));
        }
    }
    let items = b["line_items"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("line_items", "line_items is required."))?;
    let mut amount: i64 = 0;
    for it in items {
        let name_len = it["name"].as_str().map_or(0, |s| s.chars().count());
        if !(3..=249).contains(&name_len) {
            return Err(invalid(
                "line_items.name",
                "line_items.name must be 3 to 249 characters.",
            ));
        }
        let price = it["unit_price"].as_i64().filter(|p| *p >= 0);
        let qty = it["quantity"].as_i64().filter(|q| *q >= 1);
        match (price, qty) {
            (Some(p), Some(q)) => amount = amount.saturating_add(p.saturating_mul(q)),
            _ => {
                return Err(invalid(
                    "line_items.unit_price",
                    "unit_price must be an integer >= 0 (cents) and quantity an integer >= 1.",
                ))
            }
        }
    }
    if amount <= 0 {
        return Err(invalid(
            "amount",
            "The order amount must be greater than zero.",
        ));
    }
    if let Some(m) = b.get("metadata") {
        let ok = m.as_object().is_some_and(|m| {
            m.len() <= 100
                && m.values().all(|v| match v {
                    Value::String(s) => s.chars().count() <= 249,
                    Value::Number(_) | Value::Bool(_) | Value::Null => true,
                    _ => false,
                })
        });
        if !ok {
            return Err(invalid(
                "metadata",
                "metadata: at most 100 keys with scalar values.",
            ));
        }
    }
    let charge = b["charges"]
        .as_array()
        .and_then(|c| c.first())
        .ok_or_else(|| invalid("charges", "charges is required."))?;
    if let Some(a) = charge.get("amount").filter(|a| !a.is_null()) {
        if a.as_i64() != Some(amount) {
            return Err(invalid(
                "charges.amount",
                "charge amount must equal the order total.",
            ));
        }
    }
    let pm = &charge["payment_method"];
    if pm["type"].as_str() != Some("card") {
        return Err(invalid(
            "payment_method.type",
            "Only card payments are simulated.",
        ));
    }
    let token = pm["token_id"].as_str().unwrap_or("").to_owned();
    if token.is_empty() {
        return Err(invalid("payment_method.token_id", "token_id is required."));
    }
    Ok(ValidOrder {
        currency: currency.to_uppercase(),
        amount,
        token,
    })
}

fn card_details(token: &str) -> (&'static str, &'static str, &'static str) {
    match token {
        "tok_test_mastercard_4444" => ("5555", "mastercard", "credit"),
        "tok_test_mastercard_5100" => ("5100", "mastercard", "credit"),
        "tok_test_visa_1881" => ("1881", "visa", "credit"),
        "tok_test_amex_0005" => ("0005", "american_express", "credit"),
        "tok_test_amex_8431" => ("8431", "american_express", "credit"),
        "tok_test_card_declined" => ("0002", "visa", "credit"),
        "tok_test_insufficient_funds" => ("0127", "visa", "credit"),
        _ => ("4242", "visa", "credit"),
    }
}

fn build_order(
    b: &Value,
    v: &ValidOrder,
    kind: &str,
    id: &str,
    payment_status: &str,
    failure: Option<(&str, &str)>,
) -> Value {
    let t = now();
    let (last4, brand, kind) = card_details(kind);
    let charge_status = payment_status;
    let line_items: Vec<Value> = b["line_items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut it| {
            it["id"] = json!(format!("line_item_{}", &hex_id()[..17]));
            it["object"] = json!("line_item");
            it["parent_id"] = json!(id);
            if it.get("metadata").is_none() {
                it["metadata"] = json!({});
            }
            it
        })
        .collect();
    let mut customer_info = b["customer_info"].clone();
    customer_info["object"] = json!("customer_info");
    let auth_code = if payment_status == "paid" {
        json!("582483")
    } else {
        Value::Null
    };
    let payment_method = json!({
        "object": "card_payment", "type": kind, "name": b["customer_info"]["name"], "last4": last4,
        "brand": brand, "exp_month": "12", "exp_year": "30", "auth_code": auth_code,
        "issuer": "BANAMEX", "account_type": "Credit", "country": "MX", "token_id": v.token, "fraud_indicators": []
    });
    let charge = json!({
        "id": hex_id(),
        "object": "charge",
        "livemode": false,
        "created_at": t,
        "currency": v.currency,
        "amount": v.amount,
        "status": charge_status,
        "paid_at": if payment_status == "paid" { json!(t) } else { Value::Null },
        "order_id": id,
        "description": "Payment from order",
        "failure_code": failure.map(|f| f.0),
        "failure_message": failure.map(|f| f.1),
        "is_refundable": payment_status == "paid",
        "refunds": Value::Null,
        "payment_method": payment_method,
    });
    json!({
        "id": id,
        "object": "order",
        "livemode": false,
        "amount": v.amount,
        "amount_refunded": 0,
        "currency": v.currency,
        "payment_status": payment_status,
        "is_refundable": payment_status == "paid",
        "created_at": t,
        "updated_at": t,
        "metadata": b.get("metadata").cloned().unwrap_or(json!({})),
        "customer_info": customer_info,
        "line_items": { "object": "list", "has_more": false, "total": line_items.len(), "data": line_items },
        "charges": { "object": "list", "has_more": false, "total": 1, "data": [charge] },
    })
}

fn ledger_entry(order: &Value, status: &str) -> LedgerEntry {
    LedgerEntry {
        gateway: GatewayKind::Conekta,
        id: order["id"].as_str().unwrap_or("").to_owned(),
        reference: order["metadata"]["purchase_id"].as_str().map(str::to_owned),
        metadata: order["metadata"].clone(),
        amount: from_minor_units(order["amount"].as_i64().unwrap_or(0)),
        currency: order["currency"].as_str().unwrap_or("").to_owned(),
        status: status.to_owned(),
        refunded: Decimal::ZERO,
        idempotency_key: None,
    }
}

async fn create_order(
    shared: web::Data<Shared>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let b = match prologue(&shared, &req, &bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let v = match validate_order(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // A token made by `POST /tokens` from a typed card behaves as the magic token it stands for.
    let kind: String = shared
        .lock()
        .conekta_card_tokens
        .get(&v.token)
        .map_or_else(|| v.token.clone(), |t| t.magic.to_owned());
    let declined: Option<(&str, &str, &str)> = match kind.as_str() {
        "tok_test_card_declined" => Some((
            "conekta.errors.processing.bank.declined",
            "card_declined",
            "La tarjeta ingresada ha sido declinada. Por favor intenta con otro método de pago.",
        )),
        "tok_test_insufficient_funds" => Some((
            "conekta.errors.processing.bank.insufficient_funds",
            "insufficient_funds",
            "La tarjeta no tiene fondos suficientes.",
        )),
        _ => None,
    };
    let pre_authorize = b["pre_authorize"].as_bool().unwrap_or(false);
    let shared_arc: Arc<Shared> = shared.clone().into_inner();
    let order = {
        let mut g = shared.lock();
        if g.conekta_used_tokens.contains(&v.token) {
            drop(g);
            return error(
                402,
                "processing_error",
                "conekta.errors.processing.tokenization.used",
                "La tarjeta no pudo ser procesada.",
                "The token has already been used.",
                Some("payment_method.token_id"),
            );
        }
        if !PAID_TOKENS.contains(&kind.as_str()) && declined.is_none() {
            drop(g);
            return error(
                422,
                "parameter_validation_error",
                "conekta.errors.parameter_validation.payment_method.token_id.nonexistent_token",
                "El token no existe.",
                &format!(
                    "The token {} does not exist.",
                    v.token.chars().take(40).collect::<String>()
                ),
                Some("payment_method.token_id"),
            );
        }
        g.conekta_used_tokens.insert(v.token.clone());
        let id = order_id();
        let (status, failure) = match declined {
            Some((_, code, msg)) => ("declined", Some((code, msg))),
            None if pre_authorize => ("pre_authorized", None),
            None => ("paid", None),
        };
        let order = build_order(&b, &v, &kind, &id, status, failure);
        g.ledger.push(ledger_entry(&order, status));
        g.conekta_orders.push(order.clone());
        order
    };
    let id = order["id"].as_str().unwrap_or("").to_owned();
    if let Some((code, _, msg)) = declined {
        shared_arc.spawn_conekta_webhook(id, "order.declined".into());
        shared.maybe_hang().await;
        return respond(
            402,
            json!({
                "object": "error", "type": "processing_error", "log_id": hex_id(),
                "details": [{ "code": code, "message": msg, "debug_message": "The card was declined.", "param": null }],
                "data": order,
            }),
        );
    }
    let event = if pre_authorize {
        "order.pre_authorized"
    } else {
        "order.paid"
    };
    shared_arc.spawn_conekta_webhook(id, event.into());
    shared.maybe_hang().await;
    respond(200, order)
}

async fn list_orders(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"").await {
        return r;
    }
    let q: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    let limit = get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20);
    if !(1..=250).contains(&limit) {
        return invalid("limit", "limit must be between 1 and 250.");
    }
    let search = get("search").unwrap_or_default();
    let status = get("payment_status");
    let next = get("next");
    let g = shared.lock();
    let with_metadata = !g.faults.conekta_search_ignores_metadata;
    let mut matching: Vec<&Value> = g
        .conekta_orders
        .iter()
        .rev()
        .filter(|o| search.is_empty() || order_matches(o, &search, with_metadata))
        .filter(|o| status.as_deref().is_none_or(|s| o["payment_status"] == s))
        .collect();
    if let Some(n) = next {
        match matching.iter().position(|o| o["id"] == n.as_str()) {
            Some(p) => matching.drain(..=p).for_each(drop),
            None => matching.clear(),
        }
    }
    let has_more = matching.len() > limit;
    let data: Vec<Value> = matching.into_iter().take(limit).cloned().collect();
    respond(
        200,
        json!({ "object": "list", "has_more": has_more, "data": data }),
    )
}

fn order_matches(o: &Value, search: &str, with_metadata: bool) -> bool {
    let s = search.to_lowercase();
    let hit = |v: &Value| match v {
        Value::String(x) => x.to_lowercase().contains(&s),
        Value::Number(n) => n.to_string() == s,
        _ => false,
    };
    hit(&o["id"])
        || hit(&o["customer_info"]["email"])
        || hit(&o["customer_info"]["name"])
        || (with_metadata
            && o["metadata"]
                .as_object()
                .is_some_and(|m| m.values().any(hit)))
}

async fn get_order(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"").await {
        return r;
    }
    let id = path.into_inner();
    let found = shared
        .lock()
        .conekta_orders
        .iter()
        .find(|o| o["id"] == id.as_str())
        .cloned();
    match found {
        Some(o) => respond(200, o),
        None => not_found(&id),
    }
}

fn precondition(debug: &str) -> HttpResponse {
    error(
        428,
        "precondition_required_error",
        "conekta.errors.precondition_required.combo.order.cannot_be_updated_because_has_charge",
        "La orden no puede ser actualizada.",
        debug,
        None,
    )
}

/// Apply `f` to the order; keep the ledger in step.
fn update_order(
    shared: &Shared,
    id: &str,
    f: impl FnOnce(&mut Value) -> Result<(), HttpResponse>,
) -> Result<Value, HttpResponse> {
    let mut g = shared.lock();
    let order = g
        .conekta_orders
        .iter_mut()
        .find(|o| o["id"] == id)
        .ok_or_else(|| not_found(id))?;
    f(order)?;
    order["updated_at"] = json!(now());
    let order = order.clone();
    if let Some(e) = g
        .ledger
        .iter_mut()
        .find(|e| e.gateway == GatewayKind::Conekta && e.id == id)
    {
        e.status = order["payment_status"].as_str().unwrap_or("").to_owned();
        e.refunded = from_minor_units(order["amount_refunded"].as_i64().unwrap_or(0));
    }
    Ok(order)
}

async fn refund_order(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let b = match prologue(&shared, &req, &bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let id = path.into_inner();
    let Some(amount) = b["amount"].as_i64().filter(|a| *a > 0) else {
        return invalid(
            "amount",
            "amount is required and must be a positive integer (cents).",
        );
    };
    if b["reason"].as_str().is_none_or(str::is_empty) {
        return invalid("reason", "reason is required.");
    }
    let result = update_order(&shared, &id, |o| {
        let status = o["payment_status"].as_str().unwrap_or("");
        if status != "paid" && status != "partially_refunded" {
            return Err(error(
                422,
                "parameter_validation_error",
                "conekta.errors.parameter_validation.order.refund.not_refundable",
                "La orden no puede ser reembolsada.",
                "Only paid orders can be refunded.",
                None,
            ));
        }
        let total = o["amount"].as_i64().unwrap_or(0);
        let refunded = o["amount_refunded"].as_i64().unwrap_or(0);
        if amount > total - refunded {
            return Err(invalid(
                "amount",
                "The refund amount exceeds the refundable amount.",
            ));
        }
        let refunded = refunded + amount;
        o["amount_refunded"] = json!(refunded);
        o["payment_status"] = json!(if refunded == total {
            "refunded"
        } else {
            "partially_refunded"
        });
        o["is_refundable"] = json!(refunded < total);
        let refund = json!({ "id": format!("ref_{}", &hex_id()[..17]), "object": "refund", "amount": -amount,
            "created_at": now(), "status": "refunded", "reason": b["reason"] });
        let new_status = o["payment_status"].clone();
        if let Some(ch) = o["charges"]["data"].get_mut(0) {
            let mut list = ch["refunds"]["data"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            list.push(refund);
            ch["refunds"] =
                json!({ "object": "list", "has_more": false, "total": list.len(), "data": list });
            ch["status"] = new_status;
        }
        Ok(())
    });
    match result {
        Ok(o) => {
            let event = if o["payment_status"] == "refunded" {
                "order.refunded"
            } else {
                "order.partially_refunded"
            };
            shared
                .clone()
                .into_inner()
                .spawn_conekta_webhook(id, event.into());
            respond(200, o)
        }
        Err(r) => r,
    }
}

async fn cancel_order(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, &bytes).await {
        return r;
    }
    let id = path.into_inner();
    let result = update_order(&shared, &id, |o| {
        let new = match o["payment_status"].as_str().unwrap_or("") {
            "pre_authorized" => "voided",
            "pending_payment" => "canceled",
            _ => {
                return Err(precondition(
                    "Only unpaid or pre-authorized orders can be canceled.",
                ))
            }
        };
        o["payment_status"] = json!(new);
        if let Some(ch) = o["charges"]["data"].get_mut(0) {
            ch["status"] = json!(new);
        }
        Ok(())
    });
    match result {
        Ok(o) => {
            let event = if o["payment_status"] == "voided" {
                "order.voided"
            } else {
                "order.canceled"
            };
            shared
                .clone()
                .into_inner()
                .spawn_conekta_webhook(id, event.into());
            respond(200, o)
        }
        Err(r) => r,
    }
}

async fn capture_order(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, &bytes).await {
        return r;
    }
    let id = path.into_inner();
    let result = update_order(&shared, &id, |o| {
        if o["payment_status"] != "pre_authorized" {
            return Err(precondition("Only pre-authorized orders can be captured."));
        }
        o["payment_status"] = json!("paid");
        o["is_refundable"] = json!(true);
        if let Some(ch) = o["charges"]["data"].get_mut(0) {
            ch["status"] = json!("paid");
            ch["paid_at"] = json!(now());
        }
        Ok(())
    });
    match result {
        Ok(o) => {
            shared
                .clone()
                .into_inner()
                .spawn_conekta_webhook(id, "order.paid".into());
            respond(200, o)
        }
        Err(r) => r,
    }
}

async fn webhook_keys(
    shared: web::Data<Shared>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, &bytes).await {
        return r;
    }
    let Some(pem) = shared.public_key_pem() else {
        return server_error();
    };
    let id = {
        let mut g = shared.lock();
        g.conekta_webhook_key_id.get_or_insert_with(hex_id).clone()
    };
    let key = json!({ "id": id, "object": "webhook_key", "active": true, "livemode": false,
        "created_at": now(), "public_key": pem });
    if req.method() == actix_web::http::Method::GET {
        respond(
            200,
            json!({ "object": "list", "has_more": false, "data": [key] }),
        )
    } else {
        respond(200, key)
    }
}
