//! The broker's messages ([`Op`], [`BrokerError`], [`RouterStatus`], …) are the `routeros`
//! crate's (`routeros::messages`, re-exported here); this module maps a broker error to HTTP.

pub use routeros::messages::*;

use crate::error::ApiError;

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> Self {
        let detail = e.detail();
        match e {
            BrokerError::Busy { retry_after_secs } => {
                ApiError::unavailable(detail, retry_after_secs)
            }
            BrokerError::Disabled => ApiError::bad_request(detail),
            BrokerError::UnknownRouter => ApiError::not_found(detail),
            BrokerError::Unavailable { .. } | BrokerError::OutcomeUnknown => {
                ApiError::unavailable(detail, 5)
            }
            BrokerError::AuthFailed => ApiError::unavailable(detail, 60),
            BrokerError::Router(_) => {
                ApiError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use routeros::RouterError;

    #[test]
    fn http_mapping() {
        use actix_web::ResponseError;
        let e: ApiError = BrokerError::Busy {
            retry_after_secs: 3,
        }
        .into();
        let res = e.error_response();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get("retry-after").unwrap(), "3");
        let e: ApiError = BrokerError::Disabled.into();
        assert_eq!(e.status_code(), 400);
        assert_eq!(e.to_string(), format!("400 Bad Request: {ROUTER_INACTIVO}"));
        let e: ApiError = BrokerError::Router(RouterError::Trap {
            category: None,
            message: "secret internals".into(),
        })
        .into();
        assert_eq!(e.status_code(), 500);
        assert!(!e.to_string().contains("internals"));
    }
}
