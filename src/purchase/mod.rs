//! The purchase saga: a portal payment as a persisted state machine, compensated on failure and
//! finished by the reconciler after a crash, a timeout or a router outage.
//!
//! Order (each state is written to `purchases` BEFORE its step): validate product → create the
//! hotspot user DISABLED (`creating_user` → `user_created`) → charge (`charging` → `charged`, or
//! `pending` for a Mercado Pago payment awaiting approval) → confirm with an independent gateway
//! read (`confirmed`) → enable the user → record the transaction (`completed`) → optional
//! auto-login → respond. Failures end in `declined`, `failed`, `refunded` (money returned) or
//! `revoked` (refund/chargeback after completion); `compensating` and `revoking` are the
//! undo-in-progress states the reconciler finishes.
//!
//! Entry points: [`saga::run`] (portal routes), [`reconciler::reconcile_once`] (background job and
//! tests), [`saga::on_gateway_update`] (webhooks).

pub mod credentials;
pub mod drift;
pub mod expiry;
pub mod lifecycle;
pub mod reconciler;
pub mod refund;
pub mod refund_check;
pub mod response;
pub mod saga;

use std::net::IpAddr;

use serde_json::json;

use crate::error::{ApiError, BadField, Problem};

/// Saga states (the `purchases.state` column) and gateways.
pub use entity::purchase::{GatewayKind, SagaState};

/// The `comment` of a hotspot user created by a purchase.
pub fn user_comment(purchase_id: &str) -> String {
    format!("purchase:{purchase_id}")
}

/// The purchase id a hotspot user's comment names (`purchase:<id>`), if it is one of ours.
pub fn purchase_id_of_comment(comment: &str) -> Option<&str> {
    comment
        .strip_prefix("purchase:")
        .filter(|id| !id.is_empty())
}

/// Strict MAC address: six hex pairs separated by `:` or `-` (one separator kind). Returns the
/// canonical upper-case, colon-separated form.
pub fn parse_mac(v: &str) -> Option<String> {
    let sep = if v.contains(':') { ':' } else { '-' };
    let parts: Vec<&str> = v.split(sep).collect();
    if v.len() != 17 || parts.len() != 6 {
        return None;
    }
    if !parts
        .iter()
        .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_uppercase())
}

/// A strictly parsed MAC (422 naming the field otherwise).
pub fn mac_field(field: &str, v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(m) => parse_mac(m)
            .map(Some)
            .ok_or_else(|| Problem::InvalidMac(BadField::new(field, json!(m))).into()),
    }
}

/// A strictly parsed IP address (422 naming the field otherwise).
pub fn ip_field(field: &str, v: Option<&str>) -> Result<Option<IpAddr>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<IpAddr>()
            .map(Some)
            .map_err(|_| Problem::InvalidIp(BadField::new(field, json!(s))).into()),
    }
}

/// SHA-256 hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_parsed_strictly() {
        assert_eq!(
            parse_mac("aa:bb:cc:dd:ee:ff").as_deref(),
            Some("AA:BB:CC:DD:EE:FF")
        );
        assert_eq!(
            parse_mac("AA-BB-CC-DD-EE-0F").as_deref(),
            Some("AA:BB:CC:DD:EE:0F")
        );
        for bad in [
            "",
            "AA:BB:CC:DD:EE",
            "AA:BB:CC:DD:EE:FF:00",
            "AA:BB-CC:DD:EE:FF",
            "GG:BB:CC:DD:EE:FF",
            "[/user add]",
            "AABBCCDDEEFF",
            "AA:BB:CC:DD:EE:F",
            "AA:BB:CC:DD:EE:FFF",
            " AA:BB:CC:DD:EE:FF",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ips_are_parsed_strictly() {
        assert!(ip_field("ip", Some("192.168.88.10")).unwrap().is_some());
        assert!(ip_field("ip", Some("::1")).unwrap().is_some());
        assert!(ip_field("ip", None).unwrap().is_none());
        assert!(ip_field("ip", Some("999.1.1.1")).is_err());
        assert!(ip_field("ip", Some("1.2.3.4; /system reboot")).is_err());
    }

    #[test]
    fn states_partition() {
        for s in SagaState::INTERMEDIATE {
            assert!(!s.is_terminal());
        }
        assert!(SagaState::Completed.is_terminal());
        assert!(SagaState::Revoked.is_terminal());
        assert_eq!(SagaState::CreatingUser, "creating_user");
    }
}
