//! Wire formats the original's clients rely on: naive ISO-8601 timestamps, money as JSON
//! numbers, and the id formats (`EMP_…`, `RTR_…`).

use chrono::{DateTime, Timelike, Utc};
use rand::RngCore;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no offset), dropping the fraction when it is zero,
/// as Python's `datetime.isoformat()` does.
/// Longest `Idempotency-Key` header accepted (the column's length).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

pub fn iso(dt: DateTime<Utc>) -> String {
    let naive = dt.naive_utc();
    if naive.nanosecond() / 1000 == 0 {
        naive.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        naive.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }
}

pub fn iso_opt(dt: Option<DateTime<Utc>>) -> Option<String> {
    dt.map(iso)
}

/// Money as a JSON number (`15.0`), as the original's `float(Decimal)`.
pub fn money(d: Decimal) -> f64 {
    d.round_dp(2).to_f64().unwrap_or(0.0)
}

fn upper_hex(n: usize) -> String {
    let mut b = vec![0u8; n.div_ceil(2)];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let mut s = hex::encode_upper(b);
    s.truncate(n);
    s
}

/// `EMP_` + 10 uppercase hex characters.
pub fn new_empresa_id() -> String {
    format!("EMP_{}", upper_hex(10))
}

/// `RTR_` + 8 uppercase hex characters.
pub fn new_router_id() -> String {
    format!("RTR_{}", upper_hex(8))
}

/// The Spanish field names `pagar-conekta` accepts beside the English ones: `(alias, field)`.
pub const CONEKTA_PAYMENT_ALIASES: &[(&str, &str)] = &[
    ("producto_id", "product_id"),
    ("token_tarjeta", "card_token"),
    ("nombre_cliente", "customer_name"),
    ("email_cliente", "customer_email"),
    ("telefono_cliente", "customer_phone"),
    ("tipo_usuario", "user_type"),
    ("mac_cliente", "mac_address"),
    ("ip_cliente", "ip_address"),
    ("info_dispositivo", "device_info"),
    ("conexion_automatica", "auto_connect"),
];

/// The Spanish field names `pagar-mercado-pago` accepts beside the English ones.
pub const MP_PAYMENT_ALIASES: &[(&str, &str)] = &[
    ("producto_id", "product_id"),
    ("monto", "transaction_amount"),
    ("cuotas", "installments"),
    ("nombre_cliente", "customer_name"),
    ("email_cliente", "customer_email"),
    ("telefono_cliente", "customer_phone"),
    ("tipo_usuario", "user_type"),
    ("mac_cliente", "mac_address"),
    ("ip_cliente", "ip_address"),
    ("info_dispositivo", "device_info"),
    ("conexion_automatica", "auto_connect"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn iso_matches_python() {
        let t = Utc.with_ymd_and_hms(2025, 1, 15, 14, 32, 10).unwrap();
        assert_eq!(iso(t), "2025-01-15T14:32:10");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(iso(t), "2025-01-15T14:32:10.123456");
    }

    #[test]
    fn ids_have_the_original_shape() {
        let e = new_empresa_id();
        assert_eq!(e.len(), 14);
        assert!(e[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        assert_eq!(new_router_id().len(), 12);
    }

    #[test]
    fn money_is_a_float() {
        assert_eq!(money(Decimal::new(1999, 2)), 19.99);
        assert_eq!(money(Decimal::new(15, 0)), 15.0);
    }
}
