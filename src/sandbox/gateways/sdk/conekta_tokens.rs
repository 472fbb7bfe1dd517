//! Conekta `POST /tokens`, as Conekta.js calls it from the browser: the public key as HTTP Basic
//! user, `{"card": {number, name, exp_month, exp_year, cvc}}`. The number picks the outcome of
//! the order later paid with the token:
//!
//! | number | behaves as |
//! |---|---|
//! | 4242 4242 4242 4242 (and any other valid number) | `tok_test_visa_4242`: paid |
//! | 5555 5555 5555 4444 | `tok_test_mastercard_4444`: paid |
//! | 3782 822463 10005 | `tok_test_amex_0005`: paid |
//! | 4000 0000 0000 0002 | `tok_test_card_declined` |
//! | 4000 0000 0000 0127 | `tok_test_insufficient_funds` |
//!
//! Each call makes a new single-use `tok_…`.

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use serde_json::{json, Value};

use super::super::{conekta, parse_body, Shared};
use super::{card_digits, expiry_ok, luhn_ok};

/// A token made from a typed card: which magic token it stands for.
#[derive(Debug, Clone)]
pub(crate) struct ConektaCardToken {
    pub magic: &'static str,
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tokens", web::post().to(create_token));
}

/// The magic token whose outcome a typed card number has.
fn magic_for(digits: &str) -> &'static str {
    match digits {
        "4000000000000002" => "tok_test_card_declined",
        "4000000000000127" => "tok_test_insufficient_funds",
        "5555555555554444" => "tok_test_mastercard_4444",
        "5105105105105100" => "tok_test_mastercard_5100",
        "4012888888881881" => "tok_test_visa_1881",
        "378282246310005" => "tok_test_amex_0005",
        _ => "tok_test_visa_4242",
    }
}

/// Conekta.js's error object: `object, type, message, message_to_purchaser, param, code`.
fn card_error(param: &str, message: &str, to_purchaser: &str) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({
        "object": "error",
        "type": "parameter_validation_error",
        "message": message,
        "message_to_purchaser": to_purchaser,
        "param": param,
        "code": format!("conekta.errors.parameter_validation.{}", param.replace(['[', ']'], ".").trim_end_matches('.')),
    }))
}

/// The public key from `Authorization: Basic base64(key_…:)` (or Bearer).
fn public_key(req: &HttpRequest) -> Option<String> {
    let auth = req.headers().get("authorization")?.to_str().ok()?;
    let key = if let Some(b) = auth.strip_prefix("Basic ") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()?;
        String::from_utf8(raw).ok()?.split(':').next()?.to_owned()
    } else {
        auth.strip_prefix("Bearer ")?.trim().to_owned()
    };
    (key.starts_with("key_") && key.len() >= 8).then_some(key)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Checks the card as Conekta does before making a token.
fn checked_card(card: &Value) -> Result<(String, ConektaCardToken), HttpResponse> {
    let Some(digits) = card_digits(&text(&card["number"])).filter(|d| luhn_ok(d)) else {
        return Err(card_error(
            "card[number]",
            "The card number is invalid.",
            "El número de la tarjeta es inválido.",
        ));
    };
    if text(&card["name"]).is_empty() {
        return Err(card_error(
            "card[name]",
            "The cardholder name is required.",
            "El nombre del tarjetahabiente es requerido.",
        ));
    }
    if !expiry_ok(&text(&card["exp_month"]), &text(&card["exp_year"])) {
        return Err(card_error(
            "card[exp_year]",
            "The card has expired or the expiry date is invalid.",
            "La fecha de expiración de la tarjeta es inválida.",
        ));
    }
    let cvc = text(&card["cvc"]);
    if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
        return Err(card_error(
            "card[cvc]",
            "The CVC is invalid.",
            "El código de seguridad (CVC) es inválido.",
        ));
    }
    let tok = ConektaCardToken {
        magic: magic_for(&digits),
    };
    Ok((digits, tok))
}

async fn create_token(
    shared: web::Data<Shared>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    // The card is never recorded: only that a token was asked for.
    shared.record("conekta", &req, &json!({"card": "[redacted]"}));
    if public_key(&req).is_none() {
        return HttpResponse::Unauthorized().json(json!({
            "object": "error", "type": "authentication_error",
            "message": "Please include your public key in your request.",
            "message_to_purchaser": "Acceso no autorizado.", "param": null,
            "code": "conekta.errors.authentication.missing_key",
        }));
    }
    let Ok(body) = parse_body(&bytes) else {
        return card_error("card", "Malformed JSON body.", "La solicitud no es válida.");
    };
    let (_, tok) = match checked_card(&body["card"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = format!("tok_{}", conekta::hex_id());
    shared.lock().conekta_card_tokens.insert(id.clone(), tok);
    HttpResponse::Ok()
        .json(json!({ "id": id, "livemode": false, "used": false, "object": "token" }))
}
