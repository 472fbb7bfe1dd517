//! The OpenAPI 3.1 document served at `/openapi.json` (and rendered by `/docs`).
//!
//! The operations come from the code: every handler carries `#[utoipa::path(...)]` above its
//! actix route macro (path and method are read from that macro, path parameters from the
//! handler's `web::Path`), and utoipa-actix-web collects them from the services
//! [`crate::routes::configure`] registers with `service(...)`, the same call the server makes.
//! `tests/it/api/openapi.rs` checks the document against the routes the running app really
//! serves.
//!
//! This module adds the top level (info, security schemes, tags, the `Error` schema) and what
//! every operation gets from its shape: an operation id, who may call it (from its security
//! requirement), and the shared error answers ([`responses`]). [`schemas`] holds the doc-only
//! request body types.
//!
//! Request fields that the original accepted under a Spanish alias are listed twice, each name
//! describing the other: both are accepted and the alias wins when both are sent.

pub mod responses;
pub mod schemas;

use std::sync::OnceLock;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::AppExt;

/// Who may call an operation, from its security requirement: `session` with a role
/// (`["super_admin"]`) or none, or the router API key (`apiKey`, `apiKeyBearer`).
fn access(op: &Operation) -> &'static str {
    let requirements = serde_json::to_value(&op.security).unwrap_or_default();
    let session = &requirements[0]["session"];
    if requirements[0].get("apiKey").is_some() {
        "Router API key: `X-API-Key: jwt_…` or `Authorization: Bearer jwt_…`."
    } else if session[0] == "super_admin" {
        "super_admin session: `Authorization: Bearer <session token>`."
    } else if session[0] == "cliente_admin" {
        "cliente_admin session: `Authorization: Bearer <session token>`."
    } else if session.is_array() {
        "Any admin session: `Authorization: Bearer <session token>`."
    } else {
        "Public."
    }
}

/// The assets `/docs/{file}` serves.
pub const DOC_ASSETS: &[&str] = &[
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "swagger-initializer.js",
    "LICENSE",
    "NOTICE",
];

/// Every error answer, `{"detail": …}` (the `Error` schema).
#[derive(ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A Spanish message (string), or for validation errors a list of `{type, loc, msg, input}`
    /// objects.
    pub detail: serde_json::Value,
}

/// The tags, in the order `/docs` shows them.
const TAGS: [(&str, &str); 7] = [
    ("portal", "Captive portal (router API key)"),
    ("pagos", "Purchases (router API key)"),
    ("auth", "Admin sessions"),
    ("cliente_admin", "A company's own administration"),
    ("super_admin", "Operator administration"),
    ("webhooks", "Payment notifications and their configuration"),
    ("sistema", "Status, metrics and documentation"),
];

/// Info, security schemes, tags and the `Error` schema: everything but the operations.
fn top_level() -> OpenApi {
    let components = ComponentsBuilder::new()
        .schema("Error", ErrorBody::schema())
        .security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The router API key, `jwt_…` (treat it as public: it is embedded in the portal).",
            ))),
        )
        .security_scheme(
            "apiKeyBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The router API key as `Authorization: Bearer jwt_…`."))
                    .build(),
            ),
        )
        .security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Admin session token from `POST /api/v1/auth/login`. An operation's \
                         requirement names the role it needs (`super_admin`, `cliente_admin`), \
                         or none when any admin may call it.",
                    ))
                    .build(),
            ),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("pagos-hotspot")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Sell WiFi access on MikroTik hotspots: card payments through Conekta and \
                     Mercado Pago. Request fields accept the original's Spanish aliases \
                     (e.g. `producto_id` for `product_id`); when both are sent the alias wins. \
                     Errors are `{\"detail\": …}`.",
                ))
                .build(),
        )
        .components(Some(components))
        .tags(Some(TAGS.iter().map(|(name, desc)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*desc))
                .build()
        })))
        .build()
}

/// The operations of every route [`crate::routes::configure`] registers, in registration order.
fn operations() -> OpenApi {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .configure(crate::routes::configure)
        .split_for_parts();
    doc
}

/// The operations of one path item, with their lower-case methods.
fn operations_of(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// What every operation gets from its method, path and shape: an operation id from method and
/// path (`post_api_v1_auth_login`: unique, unlike handler names), a description saying who may
/// call it, and the shared error answers.
fn finish_operations(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        for (method, op) in operations_of(item) {
            op.operation_id = Some(format!("{method}{}", slug.trim_end_matches('_')));
            op.description = Some(access(op).to_string());
            responses::add_shared(path, op);
        }
    }
}

fn build() -> OpenApi {
    let mut doc = top_level();
    doc.merge(operations());
    finish_operations(&mut doc);
    doc
}

/// The document (built once).
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(build)
}

/// The document as JSON text (built once).
pub fn json() -> Result<&'static str, serde_json::Error> {
    static JSON: OnceLock<String> = OnceLock::new();
    if let Some(s) = JSON.get() {
        return Ok(s.as_str());
    }
    let text = serde_json::to_string(document())?;
    Ok(JSON.get_or_init(|| text).as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    use super::*;

    #[test]
    fn every_operation_is_unique_and_well_formed() {
        let doc: Value = serde_json::from_str(json().unwrap()).unwrap();
        let tags: HashSet<&str> = TAGS.iter().map(|(name, _)| *name).collect();
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        let mut ids = HashSet::new();
        let mut count = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            assert!(path.starts_with('/'), "{path}");
            assert!(!path.contains(':'), "a route regex left in {path}");
            for (method, op) in item.as_object().unwrap() {
                count += 1;
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "duplicate id {id}");
                assert!(!op["summary"].as_str().unwrap_or("").is_empty(), "{path}");
                let tag = op["tags"][0].as_str().unwrap();
                assert!(tags.contains(tag), "{method} {path}: tag {tag}");
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.keys().any(|s| s.starts_with('2')), "{path}");
                // Every `{name}` segment is a declared path parameter.
                let declared: HashSet<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for seg in path.split('/') {
                    if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        assert!(declared.contains(name), "{method} {path}: {name}");
                    }
                }
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                assert_eq!(secured, responses.contains_key("401"), "{method} {path}");
                assert_eq!(secured, op["description"] != "Public.", "{method} {path}");
                for requirement in op["security"].as_array().into_iter().flatten() {
                    for name in requirement.as_object().unwrap().keys() {
                        assert!(schemes.contains_key(name), "{path}: {name}");
                    }
                }
            }
        }
        assert!(count > 60, "only {count} operations");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(schemas.contains_key(name), "dangling {r}");
        }
    }

    fn collect_refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn aliases_are_documented_both_ways() {
        let doc: Value = serde_json::from_str(json().unwrap()).unwrap();
        let props = &doc["paths"]["/api/v1/payments/pagar-conekta"]["post"]["requestBody"]
            ["content"]["application/json"]["schema"]["properties"];
        assert!(props["product_id"]["description"]
            .as_str()
            .unwrap()
            .contains("`producto_id`"));
        assert!(props["producto_id"]["description"]
            .as_str()
            .unwrap()
            .starts_with("Alias of `product_id`; the alias wins"));
        assert!(props["token_tarjeta"].is_object());
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
