//! The cliente_admin company settings API: `/api/v1/admin/mi-empresa…`, the gateway and
//! Telegram credentials, the logo, the company's routers, and the Mercado Pago webhook
//! configuration routes of `/api/v1/webhook` (which, unlike the original, require a session of
//! the company they name).
//!
//! Every handler takes the [`ClienteAdmin`](crate::auth::session::ClienteAdmin) extractor and
//! works on the session's company only. Every change is written in one transaction together
//! with its audit entry. Secrets are encrypted before storage and never returned in clear.

mod credentials;
mod empresa;
mod logo;
mod routers;
mod webhook_config;

use serde_json::json;

use crate::error::{ApiError, ApiResult};

pub use empresa::send_test;
pub use logo::{sniff_image, ImageKind, MAX_LOGO_BYTES};

/// Registers the routes of this module, and the `/static` file service.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    empresa::configure(cfg);
    credentials::configure(cfg);
    logo::configure(cfg);
    routers::configure(cfg);
    webhook_config::configure(cfg);
}

/// A nullable-in-the-body field whose column is NOT NULL: `null` is a 422, absent is `None`.
pub(crate) fn non_null<T>(
    field: &str,
    value: Option<Option<T>>,
    expected: &str,
) -> ApiResult<Option<T>> {
    match value {
        None => Ok(None),
        Some(Some(v)) => Ok(Some(v)),
        Some(None) => Err(ApiError::field(
            field,
            &format!("{expected}_type"),
            format!("Input should be a valid {expected}"),
            serde_json::Value::Null,
        )),
    }
}

/// Trims an optional text; an empty result becomes `None`.
pub(crate) fn blank_to_none(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A gateway mode: `test` or `live` (422 otherwise).
pub(crate) fn gateway_mode(field: &str, value: &str) -> ApiResult<String> {
    let v = value.trim().to_ascii_lowercase();
    if v == "test" || v == "live" {
        Ok(v)
    } else {
        Err(ApiError::field(
            field,
            "literal_error",
            "Input should be 'test' or 'live'",
            json!(value),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_nulls() {
        assert_eq!(gateway_mode("mode", "LIVE").unwrap(), "live");
        assert!(gateway_mode("mode", "production").is_err());
        assert!(non_null::<String>("nombre", Some(None), "string").is_err());
        assert_eq!(non_null::<String>("nombre", None, "string").unwrap(), None);
        assert_eq!(blank_to_none(Some("  ".into())), None);
    }
}
