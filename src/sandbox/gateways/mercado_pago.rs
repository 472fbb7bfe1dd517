//! Fake Mercado Pago Payments v1: card tokens (cardholder-name magic), payments, search, cancel/capture, refunds.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{parse_body, LedgerEntry, Shared};
use crate::gateways::GatewayKind;

#[derive(Debug, Clone)]
pub(crate) struct CardToken {
    name: String,
    first_six: String,
    last_four: String,
    expiration_month: Value,
    expiration_year: Value,
    used: bool,
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/me", web::get().to(users_me))
        .route("/v1/card_tokens", web::post().to(create_card_token))
        .route("/v1/card_tokens/{id}", web::get().to(get_card_token))
        .route("/v1/payments", web::post().to(create_payment))
        .route("/v1/payments/search", web::get().to(search_payments))
        .route("/v1/payments/{id}", web::get().to(get_payment))
        .route("/v1/payments/{id}", web::put().to(update_payment))
        .route("/v1/payments/{id}/refunds", web::post().to(refund_payment));
}

/// Outcome of a payment by cardholder name: (status, status_detail).
pub(crate) fn outcome_for(name: &str, binary_mode: bool) -> (&'static str, &'static str) {
    let (s, d) = match name.trim().to_uppercase().as_str() {
        "APRO" => ("approved", "accredited"),
        "CONT" => ("in_process", "pending_contingency"),
        "OTHE" => ("rejected", "cc_rejected_other_reason"),
        "CALL" => ("rejected", "cc_rejected_call_for_authorize"),
        "FUND" => ("rejected", "cc_rejected_insufficient_amount"),
        "SECU" => ("rejected", "cc_rejected_bad_filled_security_code"),
        "EXPI" => ("rejected", "cc_rejected_bad_filled_date"),
        "FORM" => ("rejected", "cc_rejected_bad_filled_other"),
        "CARD" => ("rejected", "cc_rejected_bad_filled_card_number"),
        "INST" => ("rejected", "cc_rejected_invalid_installments"),
        "DUPL" => ("rejected", "cc_rejected_duplicated_payment"),
        "LOCK" => ("rejected", "cc_rejected_card_disabled"),
        "CTNA" => ("rejected", "cc_rejected_card_type_not_allowed"),
        "ATTE" => ("rejected", "cc_rejected_max_attempts"),
        "BLAC" => ("rejected", "cc_rejected_blacklist"),
        "UNSU" => ("rejected", "cc_rejected_other_reason"),
        "HIGH" => ("rejected", "cc_rejected_high_risk"),
        "PEND" => ("pending", "pending_waiting_payment"),
        _ => ("approved", "accredited"),
    };
    if binary_mode && (s == "in_process" || s == "pending") {
        ("rejected", "cc_rejected_other_reason")
    } else {
        (s, d)
    }
}

fn error(status: u16, error: &str, message: &str, cause: Option<(i64, &str)>) -> HttpResponse {
    let cause = match cause {
        Some((code, d)) => json!([{ "code": code, "description": d, "data": null }]),
        None => json!([]),
    };
    respond(
        status,
        json!({ "message": message, "error": error, "status": status, "cause": cause }),
    )
}

fn respond(status: u16, body: Value) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(body)
}

fn bad_request(code: i64, message: &str) -> HttpResponse {
    error(400, "bad_request", message, Some((code, message)))
}

fn valid_credential(s: &str) -> bool {
    (s.starts_with("TEST-") || s.starts_with("APP_USR-")) && s.len() > 8
}

async fn prologue(
    shared: &Shared,
    req: &HttpRequest,
    bytes: &[u8],
    needs_token: bool,
) -> Result<Value, HttpResponse> {
    let body = match parse_body(bytes) {
        Ok(b) => b,
        Err(()) => {
            shared.record(
                "mercado_pago",
                req,
                &Value::String(String::from_utf8_lossy(bytes).into_owned()),
            );
            return Err(bad_request(1, "Params Error: malformed JSON body"));
        }
    };
    shared.record("mercado_pago", req, &body);
    if shared.before(GatewayKind::MercadoPago).await {
        return Err(respond(
            500,
            json!({ "message": "internal_error", "error": null, "status": 500, "cause": [] }),
        ));
    }
    if needs_token {
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or("");
        if !valid_credential(auth.trim()) {
            return Err(error(
                401,
                "unauthorized",
                "invalid access token",
                Some((5, "Must provide your access_token to proceed")),
            ));
        }
    }
    Ok(body)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
}

/// The currency of a Mercado Pago site: an account charges only in its site's currency.
fn site_currency(site_id: &str) -> &'static str {
    crate::gateways::mercado_pago::site_currency(site_id).unwrap_or("")
}

/// `GET /users/me`: the account behind the access token, with its site.
async fn users_me(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"", true).await {
        return r;
    }
    let site_id = shared.config().mp_site_id;
    let country = match site_id.as_str() {
        "MLA" => "AR",
        "MLB" => "BR",
        "MLC" => "CL",
        "MCO" => "CO",
        "MPE" => "PE",
        "MLU" => "UY",
        _ => "MX",
    };
    respond(
        200,
        json!({ "id": 123456789, "nickname": "TESTSANDBOX", "site_id": site_id,
                "country_id": country, "email": "test_user_123456789@testuser.com" }),
    )
}

async fn create_card_token(
    shared: web::Data<Shared>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let query: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let public_key = query
        .iter()
        .find(|(k, _)| k == "public_key")
        .map(|(_, v)| v.clone());
    let has_bearer = header(&req, "authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .is_some_and(|t| valid_credential(t.trim()));
    let b = match prologue(&shared, &req, &bytes, false).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !public_key.as_deref().is_some_and(valid_credential) && !has_bearer {
        return error(401, "unauthorized", "invalid public_key", None);
    }
    let number: String = b["card_number"]
        .as_str()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if !(13..=19).contains(&number.len()) {
        return bad_request(3003, "invalid card_number");
    }
    let name = b["cardholder"]["name"]
        .as_str()
        .unwrap_or("")
        .trim()
        .to_owned();
    if name.is_empty() {
        return bad_request(221, "cardholder.name is required");
    }
    let id = hex::encode(rand::random::<[u8; 16]>());
    let tok = CardToken {
        name: name.clone(),
        first_six: number[..6].to_owned(),
        last_four: number[number.len() - 4..].to_owned(),
        expiration_month: b["expiration_month"].clone(),
        expiration_year: b["expiration_year"].clone(),
        used: false,
    };
    let now = chrono::Utc::now().to_rfc3339();
    let body = json!({
        "id": id, "public_key": public_key, "first_six_digits": tok.first_six, "last_four_digits": tok.last_four,
        "expiration_month": b["expiration_month"], "expiration_year": b["expiration_year"],
        "cardholder": { "name": name, "identification": b["cardholder"]["identification"] },
        "status": "active", "date_created": now, "date_last_updated": now, "date_due": now,
        "luhn_validation": true, "live_mode": false, "require_esc": false,
        "card_number_length": number.len(), "security_code_length": 3,
    });
    shared.lock().mp_card_tokens.insert(id, tok);
    respond(201, body)
}

/// `GET /v1/card_tokens/{id}`: what the token says of its card (reading does not use it up).
async fn get_card_token(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"", true).await {
        return r;
    }
    let id = path.into_inner();
    let Some(tok) = shared.lock().mp_card_tokens.get(&id).cloned() else {
        return error(
            404,
            "not_found",
            "card_token not found",
            Some((2006, "Card Token not found")),
        );
    };
    respond(
        200,
        json!({
            "id": id, "first_six_digits": tok.first_six, "last_four_digits": tok.last_four,
            "expiration_month": tok.expiration_month, "expiration_year": tok.expiration_year,
            "cardholder": { "name": tok.name }, "status": if tok.used { "used" } else { "active" },
            "live_mode": false,
        }),
    )
}

/// Amount with at most two decimals, > 0.
fn valid_amount(v: &Value) -> Option<Decimal> {
    let Value::Number(n) = v else { return None };
    let d: Decimal = n.to_string().parse().ok()?;
    (d > Decimal::ZERO && d.scale() <= 2 && d <= Decimal::from(1_000_000)).then_some(d)
}

/// Idempotency: the same key answers the same payment (409 with another body).
fn replay(shared: &Shared, key: &str, b: &Value) -> Option<HttpResponse> {
    let g = shared.lock();
    let (prev_body, id) = g.mp_idempotency.get(key)?;
    if prev_body != b {
        return Some(error(
            409,
            "conflict",
            "X-Idempotency-Key already used with a different request",
            Some((
                2001,
                "Already posted the same request with a different payload",
            )),
        ));
    }
    let p = g.mp_payments.get(id).cloned().unwrap_or(Value::Null);
    Some(respond(201, p))
}

/// The payment body's checks, as Mercado Pago answers them: amount, token, method and
/// installments; the payer's e-mail; the currency (the account charges in its site's currency
/// only, a `currency_id` naming another is refused).
fn checked_payment<'a>(
    b: &'a Value,
    currency: &str,
) -> Result<(Decimal, &'a str, &'a str, i64), HttpResponse> {
    let Some(amount) = valid_amount(&b["transaction_amount"]) else {
        return Err(bad_request(2072, "Invalid value for transaction_amount"));
    };
    let Some(token) = b["token"].as_str().filter(|t| !t.is_empty()) else {
        return Err(bad_request(2006, "Card Token not found"));
    };
    let Some(pm) = b["payment_method_id"].as_str().filter(|t| !t.is_empty()) else {
        return Err(bad_request(2131, "Cannot infer Payment Method"));
    };
    let installments = b["installments"].as_i64().unwrap_or(1);
    if installments < 1 {
        return Err(bad_request(
            109,
            "Invalid number of shares (installments) for this payment_method_id",
        ));
    }
    if !b["payer"]["email"]
        .as_str()
        .is_some_and(|e| e.contains('@'))
    {
        return Err(bad_request(4050, "payer.email must be a valid email"));
    }
    if let Some(asked) = b.get("currency_id").and_then(Value::as_str) {
        if asked != currency {
            return Err(bad_request(
                1,
                "Params Error: currency_id must be the currency of the collector's site",
            ));
        }
    }
    Ok((amount, token, pm, installments))
}

async fn create_payment(
    shared: web::Data<Shared>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let b = match prologue(&shared, &req, &bytes, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(key) = header(&req, "x-idempotency-key").map(str::to_owned) else {
        return bad_request(1, "Header X-Idempotency-Key can't be null");
    };
    if let Some(replayed) = replay(&shared, &key, &b) {
        return replayed;
    }
    let currency = site_currency(&shared.config().mp_site_id);
    let (amount, token, pm, installments) = match checked_payment(&b, currency) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let binary_mode = b["binary_mode"].as_bool().unwrap_or(false);
    let capture = b["capture"].as_bool().unwrap_or(true);
    let device = header(&req, "x-meli-session-id")
        .or_else(|| header(&req, "x-mercado-pago-device-id"))
        .map(str::to_owned);
    let payment = {
        let mut g = shared.lock();
        let tok = match g.mp_card_tokens.get_mut(token) {
            None => {
                drop(g);
                return bad_request(2006, "Card Token not found");
            }
            Some(t) if t.used => {
                drop(g);
                return bad_request(3003, "Invalid card_token_id");
            }
            Some(t) => {
                t.used = true;
                t.clone()
            }
        };
        let (mut status, mut detail) = outcome_for(&tok.name, binary_mode);
        if status == "approved" && !capture {
            (status, detail) = ("authorized", "pending_capture");
        }
        let id = g.mp_next_id;
        g.mp_next_id += 1;
        let now = chrono::Utc::now().to_rfc3339();
        let mut payer = b["payer"].clone();
        payer["id"] = json!("1234567890");
        let payment = json!({
            "id": id, "status": status, "status_detail": detail,
            "date_created": now, "date_approved": if status == "approved" { json!(now) } else { Value::Null },
            "date_last_updated": now, "money_release_date": Value::Null,
            "operation_type": "regular_payment", "payment_method_id": pm, "payment_type_id": "credit_card",
            "issuer_id": b.get("issuer_id").cloned().unwrap_or(json!("24")), "currency_id": currency,
            "description": b["description"], "external_reference": b["external_reference"],
            "transaction_amount": b["transaction_amount"], "transaction_amount_refunded": 0,
            "captured": status == "approved", "binary_mode": binary_mode, "installments": installments,
            "live_mode": false, "collector_id": 123456789, "metadata": b.get("metadata").cloned().unwrap_or(json!({})),
            "authorization_code": if status == "approved" { json!("1234567") } else { Value::Null },
            "statement_descriptor": b["statement_descriptor"], "notification_url": b["notification_url"],
            "device_id": device,
            "payer": payer,
            "card": { "first_six_digits": tok.first_six, "last_four_digits": tok.last_four,
                      "expiration_month": tok.expiration_month, "expiration_year": tok.expiration_year,
                      "cardholder": { "name": tok.name, "identification": {} } },
            "transaction_details": { "net_received_amount": b["transaction_amount"], "total_paid_amount": b["transaction_amount"],
                      "installment_amount": b["transaction_amount"], "overpaid_amount": 0 },
            "fee_details": [], "refunds": [],
        });
        g.mp_payments.insert(id, payment.clone());
        g.mp_idempotency.insert(key.clone(), (b.clone(), id));
        g.ledger.push(LedgerEntry {
            gateway: GatewayKind::MercadoPago,
            id: id.to_string(),
            reference: b["external_reference"].as_str().map(str::to_owned),
            metadata: b.get("metadata").cloned().unwrap_or(json!({})),
            amount,
            currency: currency.into(),
            status: status.to_owned(),
            refunded: Decimal::ZERO,
            idempotency_key: Some(key),
        });
        payment
    };
    let shared_arc: Arc<Shared> = shared.clone().into_inner();
    if let Some(id) = payment["id"].as_i64() {
        shared_arc.spawn_mp_webhook(id, "payment.created");
    }
    shared.maybe_hang().await;
    respond(201, payment)
}

fn payment_not_found() -> HttpResponse {
    error(
        404,
        "not_found",
        "Payment not found",
        Some((2000, "Payment not found")),
    )
}

async fn get_payment(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"", true).await {
        return r;
    }
    let found = path
        .into_inner()
        .parse::<i64>()
        .ok()
        .and_then(|id| shared.lock().mp_payments.get(&id).cloned());
    match found {
        Some(p) => respond(200, p),
        None => payment_not_found(),
    }
}

async fn search_payments(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    if let Err(r) = prologue(&shared, &req, b"", true).await {
        return r;
    }
    let q: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    let ext = get("external_reference");
    let limit = get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 1000);
    let offset = get("offset")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    let asc = get("criteria").as_deref() == Some("asc");
    let g = shared.lock();
    let mut all: Vec<Value> = g
        .mp_payments
        .values()
        .filter(|p| ext.as_deref().is_none_or(|e| p["external_reference"] == e))
        .cloned()
        .collect();
    if !asc {
        all.reverse();
    }
    let total = all.len();
    let results: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    respond(
        200,
        json!({ "paging": { "total": total, "limit": limit, "offset": offset }, "results": results }),
    )
}

fn update_ledger(g: &mut super::Inner, id: i64, p: &Value) {
    if let Some(e) = g
        .ledger
        .iter_mut()
        .find(|e| e.gateway == GatewayKind::MercadoPago && e.id == id.to_string())
    {
        e.status = p["status"].as_str().unwrap_or("").to_owned();
        if p["status_detail"] == "partially_refunded" {
            e.status = "partially_refunded".into();
        }
        e.refunded = valid_amount(&p["transaction_amount_refunded"]).unwrap_or(Decimal::ZERO);
    }
}

async fn update_payment(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let b = match prologue(&shared, &req, &bytes, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(id) = path.into_inner().parse::<i64>() else {
        return payment_not_found();
    };
    let mut g = shared.lock();
    let Some(p) = g.mp_payments.get_mut(&id) else {
        return payment_not_found();
    };
    let status = p["status"].as_str().unwrap_or("").to_owned();
    let state_error = || {
        bad_request(
            3005,
            "Not valid action, the resource is in a state that does not allow this operation",
        )
    };
    if b["status"] == "cancelled" {
        if !matches!(status.as_str(), "pending" | "in_process" | "authorized") {
            return state_error();
        }
        p["status"] = json!("cancelled");
        p["status_detail"] = json!("by_collector");
    } else if b["capture"] == true {
        if status != "authorized" {
            return state_error();
        }
        p["status"] = json!("approved");
        p["status_detail"] = json!("accredited");
        p["captured"] = json!(true);
        p["date_approved"] = json!(chrono::Utc::now().to_rfc3339());
    } else {
        return bad_request(
            1,
            "Params Error: only status=cancelled or capture=true are simulated",
        );
    }
    p["date_last_updated"] = json!(chrono::Utc::now().to_rfc3339());
    let p = p.clone();
    update_ledger(&mut g, id, &p);
    drop(g);
    shared
        .clone()
        .into_inner()
        .spawn_mp_webhook(id, "payment.updated");
    respond(200, p)
}

/// The payer's bank approves a pending payment (the real sandbox does this on its own after a
/// while). Notifies the configured webhook URL like any update. False when there is no such
/// pending payment.
pub(crate) fn approve_pending(shared: &std::sync::Arc<Shared>, id: i64) -> bool {
    let mut g = shared.lock();
    let Some(p) = g.mp_payments.get_mut(&id) else {
        return false;
    };
    if !matches!(p["status"].as_str(), Some("pending" | "in_process")) {
        return false;
    }
    p["status"] = json!("approved");
    p["status_detail"] = json!("accredited");
    p["date_approved"] = json!(chrono::Utc::now().to_rfc3339());
    p["date_last_updated"] = json!(chrono::Utc::now().to_rfc3339());
    let p = p.clone();
    update_ledger(&mut g, id, &p);
    drop(g);
    shared.spawn_mp_webhook(id, "payment.updated");
    true
}

async fn refund_payment(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let b = match prologue(&shared, &req, &bytes, true).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(id) = path.into_inner().parse::<i64>() else {
        return payment_not_found();
    };
    let key = header(&req, "x-idempotency-key").map(str::to_owned);
    let mut g = shared.lock();
    if let Some(prev) = key.as_ref().and_then(|k| g.mp_refund_idempotency.get(k)) {
        return respond(201, prev.clone());
    }
    let refund_id = g.mp_next_refund_id;
    let Some(p) = g.mp_payments.get_mut(&id) else {
        return payment_not_found();
    };
    if p["status"] != "approved" {
        return bad_request(
            3005,
            "Not valid action, the resource is in a state that does not allow this operation",
        );
    }
    let total = valid_amount(&p["transaction_amount"]).unwrap_or(Decimal::ZERO);
    let refunded = valid_amount(&p["transaction_amount_refunded"]).unwrap_or(Decimal::ZERO);
    let amount = match b.get("amount").filter(|a| !a.is_null()) {
        None => total - refunded,
        Some(a) => match valid_amount(a) {
            Some(a) => a,
            None => return bad_request(2072, "Invalid refund amount"),
        },
    };
    if amount <= Decimal::ZERO || amount > total - refunded {
        return bad_request(2072, "Invalid refund amount");
    }
    let refunded = refunded + amount;
    let num = |d: Decimal| {
        serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap_or(Value::Null)
    };
    let refund = json!({
        "id": refund_id, "payment_id": id, "amount": num(amount), "status": "approved", "refund_mode": "standard",
        "date_created": chrono::Utc::now().to_rfc3339(), "source": { "id": "123456789", "name": "Sandbox", "type": "collector" },
        "unique_sequence_number": null, "adjustment_amount": 0, "reason": null, "metadata": {},
    });
    p["transaction_amount_refunded"] = num(refunded);
    if refunded == total {
        p["status"] = json!("refunded");
        p["status_detail"] = json!("refunded");
    } else {
        p["status_detail"] = json!("partially_refunded");
    }
    if let Some(list) = p["refunds"].as_array_mut() {
        list.push(refund.clone());
    }
    let p = p.clone();
    g.mp_next_refund_id += 1;
    if let Some(k) = key {
        g.mp_refund_idempotency.insert(k, refund.clone());
    }
    update_ledger(&mut g, id, &p);
    drop(g);
    shared
        .clone()
        .into_inner()
        .spawn_mp_webhook(id, "payment.updated");
    respond(201, refund)
}
