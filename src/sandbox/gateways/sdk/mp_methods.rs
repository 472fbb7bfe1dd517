//! Mercado Pago's card-data endpoints the JS SDK v2 calls with the public key:
//! `GET /v1/payment_methods/search?public_key=&bins=` (payment method and issuer from the BIN),
//! `GET /v1/payment_methods/card_issuers?public_key=&payment_method_id=&bin=`,
//! `GET /v1/payment_methods/installments?public_key=&bin=&amount=` and
//! `GET /v1/identification_types?public_key=`.
//!
//! BINs of Mercado Pago's Mexican test cards (5474 9254 3267 0366 Mastercard, 4075 5957 1648
//! 3764 Visa, 5579 0534 6148 2647 Mastercard debit, 4189 1412 2126 7633 Visa debit) are known;
//! other numbers get the method of their network (visa, master, amex) as credit cards.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::super::Shared;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/payment_methods/search", web::get().to(search))
        .route("/v1/payment_methods/card_issuers", web::get().to(issuers))
        .route(
            "/v1/payment_methods/installments",
            web::get().to(installments),
        )
        .route(
            "/v1/identification_types",
            web::get().to(identification_types),
        );
}

/// (payment method id, payment type, issuer id, issuer name) for a BIN.
fn method_for(bin: &str) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    let known = [
        ("547492", ("master", "credit_card", "158", "Mastercard")),
        ("407559", ("visa", "credit_card", "310", "Visa")),
        ("557905", ("debmaster", "debit_card", "158", "Mastercard")),
        ("418914", ("debvisa", "debit_card", "310", "Visa")),
        ("503175", ("master", "credit_card", "158", "Mastercard")),
    ];
    if let Some((_, m)) = known.iter().find(|(p, _)| bin.starts_with(p)) {
        return Some(*m);
    }
    match super::brand(bin) {
        "visa" => Some(("visa", "credit_card", "310", "Visa")),
        "mastercard" => Some(("master", "credit_card", "158", "Mastercard")),
        "amex" => Some(("amex", "credit_card", "1100", "American Express")),
        _ => None,
    }
}

fn query(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> &'a str {
    q.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The public key check every one of these calls makes; `Err` is the 401.
fn authorised(shared: &Shared, req: &HttpRequest) -> Result<Vec<(String, String)>, HttpResponse> {
    let q = query(req);
    shared.record("mercado_pago", req, &Value::Null);
    let pk = param(&q, "public_key");
    if (pk.starts_with("TEST-") || pk.starts_with("APP_USR-")) && pk.len() > 8 {
        Ok(q)
    } else {
        Err(HttpResponse::Unauthorized().json(json!({
            "message": "invalid public_key", "error": "unauthorized", "status": 401, "cause": []
        })))
    }
}

fn bin_of(q: &[(String, String)], name: &str) -> String {
    param(q, name)
        .chars()
        .filter(char::is_ascii_digit)
        .take(8)
        .collect()
}

fn method_json(m: (&str, &str, &str, &str)) -> Value {
    let (id, kind, issuer_id, issuer_name) = m;
    json!({
        "id": id, "name": issuer_name, "payment_type_id": kind, "status": "active",
        "thumbnail": "", "secure_thumbnail": "", "deferred_capture": "supported",
        "additional_info_needed": ["cardholder_name", "cardholder_identification_number"],
        "issuer": { "id": issuer_id.parse::<i64>().unwrap_or(0), "name": issuer_name, "default": true },
        "settings": [{
            "card_number": { "length": if id == "amex" { 15 } else { 16 }, "validation": "standard" },
            "security_code": { "length": if id == "amex" { 4 } else { 3 }, "card_location": "back", "mode": "mandatory" },
        }],
        "min_allowed_amount": 5, "max_allowed_amount": 300_000, "processing_modes": ["aggregator"],
    })
}

async fn search(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let q = match authorised(&shared, &req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let bin = bin_of(&q, "bins");
    let results: Vec<Value> = if bin.len() >= 6 {
        method_for(&bin).map(method_json).into_iter().collect()
    } else {
        Vec::new()
    };
    HttpResponse::Ok().json(json!({
        "paging": { "total": results.len(), "limit": 30, "offset": 0 },
        "results": results,
    }))
}

async fn issuers(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let q = match authorised(&shared, &req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let bin = bin_of(&q, "bin");
    let method = param(&q, "payment_method_id");
    let list: Vec<Value> = method_for(&bin)
        .filter(|m| m.0 == method)
        .map(|(_, _, id, name)| json!({ "id": id, "name": name, "secure_thumbnail": "", "thumbnail": "", "processing_mode": "aggregator" }))
        .into_iter()
        .collect();
    HttpResponse::Ok().json(list)
}

async fn installments(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let q = match authorised(&shared, &req) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let Some((id, kind, issuer_id, issuer_name)) = method_for(&bin_of(&q, "bin")) else {
        return HttpResponse::Ok().json(json!([]));
    };
    let amount: f64 = param(&q, "amount").parse().unwrap_or(0.0);
    HttpResponse::Ok().json(json!([{
        "payment_method_id": id, "payment_type_id": kind,
        "issuer": { "id": issuer_id, "name": issuer_name },
        "processing_mode": "aggregator",
        "payer_costs": [{
            "installments": 1, "installment_rate": 0, "total_amount": amount,
            "installment_amount": amount,
            "recommended_message": format!("1 pago de $ {amount:.2} ($ {amount:.2})"),
        }],
    }]))
}

async fn identification_types(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    if let Err(r) = authorised(&shared, &req) {
        return r;
    }
    // Mexico (MLM) asks for no identification document.
    HttpResponse::Ok().json(json!([]))
}
