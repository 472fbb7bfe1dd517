//! Request extraction with the original's wire behaviour.
//!
//! * [`JsonBody`] reads a JSON body with a size cap, accepts a missing or wrong
//!   `Content-Type` (portals do send `text/plain`), applies Spanish/English field aliases
//!   (the alias wins when both are sent) and turns every failure into a 422 whose items look
//!   like Pydantic's (`type`, `loc`, `msg`, `input`), with `loc` naming the alias.
//! * [`configure_extractors`] makes actix's own `Json`, `Query` and `Path` failures answer the
//!   same way instead of with plain text.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::error::{ApiError, FieldError, Problem};

/// Largest JSON body accepted (bytes).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Field aliases of a request type: `(alias, canonical)`. The alias wins when both are sent.
pub trait FieldAliases {
    const ALIASES: &'static [(&'static str, &'static str)] = &[];
}

/// A JSON body parsed with aliases and Pydantic-like 422 errors.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + FieldAliases + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(_req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::from(Problem::InvalidBody))?;
                if body.len() + chunk.len() > MAX_JSON_BODY {
                    return Err(ApiError::from(Problem::BodyTooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            parse_body::<T>(&body).map(JsonBody)
        })
    }
}

/// Parses `bytes` as `T` with aliases; the error is a 422 list.
pub fn parse_body<T: DeserializeOwned + FieldAliases>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::Validation(vec![FieldError::new(
            "json_invalid",
            vec![json!("body"), json!(e.column())],
            "JSON decode error",
            json!({}),
        )])
    })?;
    let Value::Object(map) = value else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "model_attributes_type",
            vec![json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
            value,
        )]));
    };
    let map = apply_aliases(map, T::ALIASES);
    let original = map.clone();
    serde_path_to_error::deserialize::<_, T>(Value::Object(map))
        .map_err(|e| ApiError::Validation(vec![field_error(&e, &original, T::ALIASES)]))
}

/// Renames aliases to their canonical names; when both are present the alias wins.
fn apply_aliases(mut map: Map<String, Value>, aliases: &[(&str, &str)]) -> Map<String, Value> {
    for (alias, canonical) in aliases {
        if let Some(v) = map.remove(*alias) {
            map.insert((*canonical).to_string(), v);
        }
    }
    map
}

fn display_name<'a>(canonical: &'a str, aliases: &'a [(&'a str, &'a str)]) -> &'a str {
    aliases
        .iter()
        .find(|(_, c)| *c == canonical)
        .map(|(a, _)| *a)
        .unwrap_or(canonical)
}

fn field_error(
    err: &serde_path_to_error::Error<serde_json::Error>,
    body: &Map<String, Value>,
    aliases: &[(&str, &str)],
) -> FieldError {
    let inner = err.inner().to_string();
    // serde reports a missing field at the parent path with "missing field `x`".
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return FieldError::body(
            display_name(field, aliases),
            "missing",
            "Field required",
            Value::Object(body.clone()),
        );
    }
    let segments: Vec<String> = err
        .path()
        .iter()
        .map(|s| s.to_string())
        .filter(|s| s != "?")
        .collect();
    let mut loc = vec![json!("body")];
    let mut input = Value::Object(body.clone());
    for (i, seg) in segments.iter().enumerate() {
        let name = if i == 0 {
            display_name(seg, aliases).to_string()
        } else {
            seg.clone()
        };
        input = match &input {
            Value::Object(m) => m.get(seg.as_str()).cloned().unwrap_or(Value::Null),
            Value::Array(a) => seg
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i).cloned())
                .unwrap_or(Value::Null),
            _ => Value::Null,
        };
        match seg
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<u64>()
        {
            Ok(n) if seg.starts_with('[') => loc.push(json!(n)),
            _ => loc.push(json!(name)),
        }
    }
    let kind = if inner.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    };
    let msg = inner
        .split(" at line ")
        .next()
        .unwrap_or(inner.as_str())
        .to_string();
    FieldError::new(kind, loc, msg, input)
}

/// Makes actix's built-in extractors answer with `{"detail": [...]}` 422s.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_JSON_BODY)
            .content_type_required(false)
            .error_handler(|err, _req| {
                ApiError::Validation(vec![FieldError::new(
                    "json_invalid",
                    vec![json!("body")],
                    err.to_string(),
                    json!({}),
                )])
                .into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::Validation(vec![FieldError::new(
            "value_error",
            vec![json!("query")],
            err.to_string(),
            Value::Null,
        )])
        .into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _req| {
        ApiError::Validation(vec![FieldError::new(
            "value_error",
            vec![json!("path")],
            err.to_string(),
            Value::Null,
        )])
        .into()
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Req {
        product_id: i32,
        #[serde(default)]
        customer_name: Option<String>,
    }
    impl FieldAliases for Req {
        const ALIASES: &'static [(&'static str, &'static str)] = &[
            ("producto_id", "product_id"),
            ("nombre_cliente", "customer_name"),
        ];
    }

    fn items(e: ApiError) -> Vec<FieldError> {
        match e {
            ApiError::Validation(v) => v,
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn alias_wins_over_canonical() {
        let r: Req = parse_body(br#"{"product_id": 1, "producto_id": 2}"#).unwrap();
        assert_eq!(r.product_id, 2);
        let r: Req = parse_body(br#"{"product_id": 7, "customer_name": "a"}"#).unwrap();
        assert_eq!(r.product_id, 7);
        assert_eq!(r.customer_name.as_deref(), Some("a"));
    }

    #[test]
    fn missing_field_names_the_alias() {
        let e = items(parse_body::<Req>(br#"{"nombre_cliente": "x"}"#).unwrap_err());
        assert_eq!(e[0].kind, "missing");
        assert_eq!(e[0].loc, vec![json!("body"), json!("producto_id")]);
    }

    #[test]
    fn wrong_type_points_at_the_field() {
        let e = items(parse_body::<Req>(br#"{"producto_id": "abc"}"#).unwrap_err());
        assert_eq!(e[0].kind, "type_error");
        assert_eq!(e[0].loc, vec![json!("body"), json!("producto_id")]);
        assert_eq!(e[0].input, json!("abc"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_422() {
        let e = items(parse_body::<Req>(b"{not json").unwrap_err());
        assert_eq!(e[0].kind, "json_invalid");
        let e = items(parse_body::<Req>(b"[1,2]").unwrap_err());
        assert_eq!(e[0].kind, "model_attributes_type");
    }
}
