//! One error vocabulary for the HTTP API.
//!
//! Every handled error is a [`Problem`] of the [`catalogue`]: it leaves as
//! `{"detail": "<Spanish text>"}` with the status the original system used. Validation failures
//! leave as 422 with a Pydantic-style list, as FastAPI did. Internal causes are logged with the
//! request's span and never sent to the client.

pub mod catalogue;

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{json, Value};

pub use catalogue::{BadField, Problem};

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
    /// A problem of the catalogue.
    #[error("{0}")]
    Problem(Problem),
    /// 422 with a list of field errors (Pydantic's generic messages).
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

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError::Problem(p)
    }
}

impl From<crate::routeros::BrokerError> for ApiError {
    fn from(e: crate::routeros::BrokerError) -> Self {
        ApiError::Problem(Problem::Router(e))
    }
}

impl ApiError {
    /// A single 422 field error with one of Pydantic's generic messages.
    pub fn field(field: &str, kind: &str, msg: impl Into<String>, input: Value) -> Self {
        ApiError::Validation(vec![FieldError::body(field, kind, msg, input)])
    }
    /// Wraps an unexpected failure; the cause is logged when the response is built.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }
    /// The status, JSON body and `Retry-After` of the answer; logs a problem's code, and the
    /// cause of an internal error.
    pub fn answer(&self) -> (StatusCode, Value, Option<u64>) {
        match self {
            ApiError::Problem(p) => {
                p.log_answered();
                (p.status(), p.body(), p.retry_after())
            }
            ApiError::Validation(items) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "detail": items }),
                None,
            ),
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                let p = Problem::Internal;
                p.log_answered();
                (p.status(), p.body(), None)
            }
        }
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
            ApiError::Problem(p) => p.status(),
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (status, body, retry_after) = self.answer();
        let mut builder = HttpResponse::build(status);
        if let Some(secs) = retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        builder.json(body)
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
