//! Public portal configuration (`/api/v1/config/public`), authenticated by the router API key.

use actix_web::{get, HttpResponse};
use serde_json::json;

use crate::auth::portal_key::PortalKey;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(config_public);
}

/// The public keys the portal needs to tokenise cards, and the router's name.
#[utoipa::path(
    tag = "portal",
    summary = "Public keys and names for the portal",
    responses((status = 200, description = "OK", body = Object, example = json!({"empresa": {"id": "EMP_6692D1F6DA", "nombre": "WiFi Demo", "conekta_public_key": "key_…", "mercadopago_public_key": "TEST-…", "conekta_mode": "test"}, "router": {"id": "RTR_2E0A7278", "nombre": "Router Demo", "ubicacion": null}}))),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/config/public")]
async fn config_public(key: PortalKey) -> HttpResponse {
    let PortalKey {
        empresa, router, ..
    } = key;
    HttpResponse::Ok().json(json!({
        "empresa": {
            "id": empresa.id,
            "nombre": empresa.nombre,
            "conekta_public_key": empresa.conekta_public_key,
            "mercadopago_public_key": empresa.mercado_pago_public_key,
            "conekta_mode": empresa.conekta_mode,
        },
        "router": {
            "id": router.id,
            "nombre": router.nombre,
            "ubicacion": router.ubicacion,
        },
    }))
}
