//! No NUL character reaches the database.
//!
//! PostgreSQL refuses U+0000 in `text` (SQLite stores it), so a NUL byte anywhere in a request
//! used to surface as a 500 from the first query that used it — including on unauthenticated
//! URLs such as the webhooks' `?empresa_id=%00`. This middleware refuses it before any handler
//! runs, the same way on every database:
//!
//! * in the path or the query string (percent-decoded): **404** `{"detail": "Not Found"}`, as for
//!   any id or route that does not exist;
//! * in a JSON body (a `\u0000` escape in any string or key; a raw NUL byte is invalid JSON and
//!   is left to the extractors' own 422): **422** with one Pydantic-like item whose `loc` is the
//!   path of the offending value, e.g. `["body", "nombre"]`.
//!
//! Multipart bodies (the logo upload) are not read here: the upload keeps only the image bytes.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::ResponseError;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::error::{ApiError, FieldError, Problem};
use crate::extract::MAX_JSON_BODY;

/// The middleware (`App::wrap(from_fn(reject_nul))`).
pub async fn reject_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if has_nul_percent_decoded(req.uri().path())
        || req.uri().query().is_some_and(has_nul_percent_decoded)
    {
        let res = ApiError::from(Problem::NotFound).error_response();
        return Ok(req.into_response(res).map_into_right_body());
    }
    if reads_body(&req) {
        let (read, rest) = read_prefix(req.parts_mut().1.take(), MAX_JSON_BODY).await;
        if rest.is_none() {
            if let Some(error) = nul_in_json(&read) {
                let res = ApiError::Validation(vec![error]).error_response();
                return Ok(req.into_response(res).map_into_right_body());
            }
        }
        req.set_payload(replay(read, rest));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// True when the bytes, percent-decoded, hold a NUL.
fn has_nul_percent_decoded(s: &str) -> bool {
    let b = s.as_bytes();
    b.contains(&0)
        || b.windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Bodies worth a look: anything but multipart (JSON is accepted with any or no content type).
fn reads_body(req: &ServiceRequest) -> bool {
    let multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    !multipart
}

/// Reads the body up to `cap` bytes: the bytes read, and what was not read — `None` when the
/// whole body was read, else the rest of the stream (or the read error, replayed for the
/// handler's extractor, which reports it where it would have).
async fn read_prefix(mut payload: Payload, cap: usize) -> (Bytes, Option<Payload>) {
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > cap {
                    return (buf.freeze(), Some(payload));
                }
            }
            Err(e) => {
                let error = futures_util::stream::once(async move { Err(e) });
                return (buf.freeze(), Some(Payload::from(boxed(error))));
            }
        }
    }
    (buf.freeze(), None)
}

/// The body again, for the handler: the bytes read, then whatever was not.
fn replay(bytes: Bytes, rest: Option<Payload>) -> Payload {
    let head = futures_util::stream::once(async move { Ok(bytes) });
    Payload::from(match rest {
        Some(rest) => boxed(head.chain(rest)),
        None => boxed(head),
    })
}

/// A body stream as `Payload` holds one.
type BodyStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>>;

fn boxed(s: impl futures_util::Stream<Item = Result<Bytes, PayloadError>> + 'static) -> BodyStream {
    Box::pin(s)
}

/// The 422 item for the first string or key of a JSON body that holds U+0000, if any. A body
/// that is not JSON is left to the extractors.
fn nul_in_json(body: &[u8]) -> Option<FieldError> {
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut loc = vec![json!("body")];
    let input = find_nul(&value, &mut loc)?;
    Some(FieldError::new(
        "value_error",
        loc,
        "Value error, NUL characters are not allowed",
        input,
    ))
}

/// Depth-first search for a string or key holding U+0000; `loc` ends at it.
fn find_nul(value: &Value, loc: &mut Vec<Value>) -> Option<Value> {
    match value {
        Value::String(s) if s.contains('\0') => Some(value.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            loc.push(json!(i));
            let found = find_nul(v, loc);
            if found.is_none() {
                loc.pop();
            }
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            loc.push(json!(k));
            if k.contains('\0') {
                return Some(json!(k));
            }
            let found = find_nul(v, loc);
            if found.is_none() {
                loc.pop();
            }
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_and_raw_nul_are_found_in_paths_and_queries() {
        assert!(has_nul_percent_decoded("empresa_id=%00"));
        assert!(has_nul_percent_decoded("/api/v1/admin/empresas/EMP%00X"));
        assert!(!has_nul_percent_decoded("empresa_id=EMP_1%2000"));
        assert!(!has_nul_percent_decoded("/api/v1/admin/empresas/EMP_100"));
    }

    #[test]
    fn the_first_nul_in_a_json_body_is_located() {
        let e = nul_in_json(br#"{"a": 1, "b": {"c": ["x", "y\u0000z"]}}"#).unwrap();
        assert_eq!(e.loc, vec![json!("body"), json!("b"), json!("c"), json!(1)]);
        assert_eq!(e.input, json!("y\u{0}z"));
        let e = nul_in_json(br#"{"k\u0000": 1}"#).unwrap();
        assert_eq!(e.loc, vec![json!("body"), json!("k\u{0}")]);
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul_and_invalid_json_is_left_alone() {
        assert!(nul_in_json(br#"{"a": "\\u0000"}"#).is_none());
        assert!(nul_in_json(br#"{"a": "\u0000"#).is_none());
        assert!(nul_in_json(br#"{"a": "plain"}"#).is_none());
    }
}
