//! What the gateways' browser SDKs need, so a captive portal runs against the sandbox with the
//! same code as against the real gateways (only the script's origin changes):
//!
//! * stand-ins for the gateways' scripts, with the same JavaScript API:
//!   `GET /sdk/conekta.js` (Conekta.js: `Conekta.setPublicKey`, `Conekta.Token.create`,
//!   `Conekta.card.*`) and `GET /sdk/mercadopago/v2.js` (Mercado Pago SDK v2:
//!   `new MercadoPago(publicKey)`, `getPaymentMethods`, `getIssuers`, `getInstallments`,
//!   `getIdentificationTypes`, `createCardToken`). Each calls the sandbox it was loaded from;
//! * the endpoints those scripts call: Conekta `POST /tokens` ([`conekta_tokens`]) and Mercado
//!   Pago `GET /v1/payment_methods/search`, `/card_issuers`, `/installments`,
//!   `/v1/identification_types` ([`mp_methods`]; card tokens are `POST /v1/card_tokens`).
//!
//! The documented test card numbers map to the outcomes in `docs/sandbox-gateways.md`.

use actix_web::{web, HttpResponse};

pub(super) mod conekta_tokens;
pub(super) mod mp_methods;

const CONEKTA_JS: &str = include_str!("conekta.js");
const MERCADOPAGO_JS: &str = include_str!("mercadopago.js");

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sdk/conekta.js", web::get().to(conekta_js))
        .route("/sdk/mercadopago/v2.js", web::get().to(mercadopago_js));
    conekta_tokens::routes(cfg);
    mp_methods::routes(cfg);
}

fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

async fn conekta_js() -> HttpResponse {
    script(CONEKTA_JS)
}

async fn mercadopago_js() -> HttpResponse {
    script(MERCADOPAGO_JS)
}

/// The digits of a card number as typed (spaces and dashes dropped); `None` with anything else.
pub(super) fn card_digits(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.chars().all(|c| c.is_ascii_digit()) && (13..=19).contains(&digits.len()))
        .then_some(digits)
}

/// The Luhn check every card number passes.
pub(super) fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The card network from the number's first digits.
pub(super) fn brand(digits: &str) -> &'static str {
    let two: u32 = digits.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let four: u32 = digits.get(..4).and_then(|s| s.parse().ok()).unwrap_or(0);
    match (two, four) {
        (34 | 37, _) => "amex",
        (51..=55, _) | (_, 2221..=2720) => "mastercard",
        _ if digits.starts_with('4') => "visa",
        _ => "unknown",
    }
}

/// Month 1–12 and a year (2 or 4 digits) not in the past.
pub(super) fn expiry_ok(month: &str, year: &str) -> bool {
    let (Ok(m), Ok(y)) = (month.trim().parse::<u32>(), year.trim().parse::<i32>()) else {
        return false;
    };
    let y = if y < 100 { 2000 + y } else { y };
    let now = chrono::Utc::now().date_naive();
    use chrono::Datelike as _;
    (1..=12).contains(&m) && (y, m) >= (now.year(), now.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_pass_luhn_and_have_brands() {
        for (n, b) in [
            ("4242424242424242", "visa"),
            ("4000000000000002", "visa"),
            ("4000000000000127", "visa"),
            ("5474925432670366", "mastercard"),
            ("4075595716483764", "visa"),
            ("378282246310005", "amex"),
        ] {
            assert!(luhn_ok(n), "{n}");
            assert_eq!(brand(n), b);
        }
        assert!(!luhn_ok("4242424242424241"));
        assert_eq!(
            card_digits("4242 4242-4242 4242").as_deref(),
            Some("4242424242424242")
        );
        assert_eq!(card_digits("4242x"), None);
        assert!(expiry_ok("12", "2099"));
        assert!(!expiry_ok("13", "2099"));
        assert!(!expiry_ok("01", "20"));
    }
}
