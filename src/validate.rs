//! Input checks shared by the handlers. Each failure is a 422 whose item names the field,
//! as Pydantic did, so the database never sees a value it would reject.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::error::{ApiError, BadField, Problem};

/// Currencies a product may be priced in (the original's list).
pub const CURRENCIES: [&str; 3] = ["MXN", "USD", "EUR"];

/// For partial updates: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
/// Use with `#[serde(default, deserialize_with = "crate::validate::double_option")]`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// At most `max` characters.
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::field(
            field,
            "string_too_long",
            format!("String should have at most {max} characters"),
            json!(value),
        ));
    }
    Ok(())
}

/// Not blank, and at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::field(
            field,
            "string_too_short",
            "String should have at least 1 character",
            json!(value),
        ));
    }
    max_len(field, value, max)
}

/// A syntactically valid e-mail address of at most 100 characters.
pub fn email(field: &str, value: &str) -> Result<(), ApiError> {
    max_len(field, value, 100)?;
    if !email_address::EmailAddress::is_valid(value.trim()) {
        return Err(ApiError::field(
            field,
            "value_error",
            "value is not a valid email address",
            json!(value),
        ));
    }
    Ok(())
}

/// A router address: an IPv4/IPv6 literal or a DNS hostname — no scheme, path, port or
/// spaces, at most 255 characters — that the broker may connect to: not loopback (unless
/// `allow_loopback`, `ROUTER_ALLOW_LOOPBACK`), link-local, unspecified or multicast, and not
/// `localhost`. Names are checked again, resolved, every time the broker connects.
pub fn router_host(field: &str, value: &str, allow_loopback: bool) -> Result<(), ApiError> {
    let bad = || ApiError::from(Problem::InvalidHost(BadField::new(field, json!(value))));
    let v = value.trim();
    if v.is_empty() || v.len() > 255 || v != value {
        return Err(bad());
    }
    let policy = crate::routeros::AddressPolicy { allow_loopback };
    if let Ok(ip) = v.parse::<std::net::IpAddr>() {
        return if policy.permits(ip) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    let lower = v.trim_end_matches('.').to_ascii_lowercase();
    if !allow_loopback && (lower == "localhost" || lower.ends_with(".localhost")) {
        return Err(bad());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let name = v.strip_suffix('.').unwrap_or(v);
    // All-numeric dotted names that are not valid IPs (e.g. 999.1.1.1) are refused.
    let numeric = name.chars().all(|c| c.is_ascii_digit() || c == '.');
    if numeric || !name.split('.').all(label_ok) {
        return Err(bad());
    }
    Ok(())
}

/// A TCP port, 1–65535.
pub fn port(field: &str, value: i64) -> Result<i32, ApiError> {
    if !(1..=65535).contains(&value) {
        return Err(Problem::InvalidPort(BadField::new(field, json!(value))).into());
    }
    Ok(value as i32)
}

/// A price: positive, at most two decimals, below 100,000,000 (numeric(10,2)).
pub fn price(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    let max = Decimal::new(9_999_999_999, 2);
    if value <= Decimal::ZERO || value > max || value.round_dp(2) != value {
        return Err(Problem::InvalidPrice(BadField::new(field, json!(value.to_string()))).into());
    }
    Ok(value)
}

/// A SHA-256 certificate pin (`tls_fingerprint`): 64 hex digits, optionally colon-separated;
/// returned lower-case without colons.
pub fn tls_fingerprint(value: &str) -> Result<String, ApiError> {
    let hex: String = value.trim().chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(
            Problem::InvalidTlsFingerprint(BadField::new("tls_fingerprint", json!(value))).into(),
        );
    }
    Ok(hex.to_ascii_lowercase())
}

/// One of [`CURRENCIES`], with the original's string `detail` on failure.
pub fn currency(value: &str) -> Result<String, ApiError> {
    let upper = value.trim().to_ascii_uppercase();
    if CURRENCIES.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(ApiError::from(Problem::InvalidCurrency))
    }
}

/// An IANA time zone name (`America/Mexico_City`), as the tz database spells it.
pub fn zona_horaria(field: &str, value: &str) -> Result<chrono_tz::Tz, ApiError> {
    value.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        ApiError::field(
            field,
            "value_error",
            "Zona horaria desconocida: use un nombre IANA como America/Mexico_City",
            json!(value),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in [
            "192.168.88.1",
            "10.0.0.1",
            "172.16.5.4",
            "100.64.0.1",
            "fd00::1",
            "router.example.com",
            "r1",
            "a-b.c.",
        ] {
            assert!(router_host("host", ok, false).is_ok(), "{ok}");
        }
        // Addresses nobody's router has, or that reach this machine or its cloud's metadata.
        for refused in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "::ffff:127.0.0.1",
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "0.1.2.3",
            "::",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "localhost",
            "LOCALHOST.",
            "db.localhost",
        ] {
            assert!(router_host("host", refused, false).is_err(), "{refused}");
        }
        // Loopback only when allowed (simulators); the rest never.
        for ok in ["127.0.0.1", "::1", "localhost"] {
            assert!(router_host("host", ok, true).is_ok(), "{ok}");
        }
        for refused in ["169.254.169.254", "0.0.0.0", "224.0.0.1"] {
            assert!(router_host("host", refused, true).is_err(), "{refused}");
        }
        for bad in [
            "",
            " 1.2.3.4",
            "http://x",
            "x/y",
            "a b",
            "999.1.1.1",
            "-a.com",
            "x:8728",
            "a..b",
        ] {
            assert!(router_host("host", bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_prices_currencies() {
        assert!(port("puerto", 0).is_err());
        assert!(port("puerto", 65536).is_err());
        assert_eq!(port("puerto", 8729).unwrap(), 8729);
        assert!(price("precio", Decimal::new(-1, 0)).is_err());
        assert!(price("precio", Decimal::new(1999, 3)).is_err());
        assert!(price("precio", Decimal::new(1999, 2)).is_ok());
        assert_eq!(currency("usd").unwrap(), "USD");
        assert!(currency("BTC").is_err());
    }
}
