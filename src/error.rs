//! One error vocabulary for the HTTP API.
//!
//! Every handled error leaves as `{"detail": "<Spanish text>"}` with the status the original
//! system used; validation failures leave as 422 with a Pydantic-style list, as FastAPI did.
//! Internal causes are logged with the request's span and never sent to the client.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{json, Value};

/// Generic text for unexpected failures (the original's own wording).
pub const INTERNAL_DETAIL: &str = "Error interno del servidor.";

/// One item of a 422 validation error, shaped like Pydantic v2's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldError {
    #[serde(rename = "type")]
    pub kind: String,
    pub loc: Vec<Value>,
    pub msg: String,
    pub input: Value,
}

impl FieldError {
    pub fn new(kind: &str, loc: Vec<Value>, msg: impl Into<String>, input: Value) -> Self {
        Self {
            kind: kind.to_string(),
            loc,
            msg: msg.into(),
            input,
        }
    }

    /// An error on a body field: `loc = ["body", field]`.
    pub fn body(field: &str, kind: &str, msg: impl Into<String>, input: Value) -> Self {
        Self::new(kind, vec![json!("body"), json!(field)], msg, input)
    }
}

#[derive(thiserror::Error)]
pub enum ApiError {
    /// A handled error with its status and Spanish `detail`.
    #[error("{status}: {detail}")]
    Detail {
        status: StatusCode,
        detail: String,
        retry_after: Option<u64>,
    },
    /// 422 with a list of field errors.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Anything unexpected: logged, answered with a generic 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(e) => write!(f, "Internal({e:#})"),
            other => write!(f, "{other}"),
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError::Detail {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    pub fn payment_required(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYMENT_REQUIRED, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }
    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        ApiError::Detail {
            status: StatusCode::TOO_MANY_REQUESTS,
            detail: "Demasiadas solicitudes. Intente más tarde.".into(),
            retry_after: Some(retry_after_secs.max(1)),
        }
    }
    /// 503 with `Retry-After`.
    pub fn unavailable(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError::Detail {
            status: StatusCode::SERVICE_UNAVAILABLE,
            detail: detail.into(),
            retry_after: Some(retry_after_secs.max(1)),
        }
    }
    /// A single 422 field error.
    pub fn field(field: &str, kind: &str, msg: impl Into<String>, input: Value) -> Self {
        ApiError::Validation(vec![FieldError::body(field, kind, msg, input)])
    }
    /// Wraps an unexpected failure; the cause is logged when the response is built.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(e: sea_orm::TransactionError<ApiError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Detail { status, .. } => *status,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            ApiError::Detail {
                detail,
                retry_after,
                ..
            } => {
                if let Some(secs) = retry_after {
                    builder.insert_header((header::RETRY_AFTER, secs.to_string()));
                }
                builder.json(json!({ "detail": detail }))
            }
            ApiError::Validation(items) => builder.json(json!({ "detail": items })),
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                builder.json(json!({ "detail": INTERNAL_DETAIL }))
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Maps a unique-constraint violation to a chosen error; other errors stay internal.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
