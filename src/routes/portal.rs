//! Public portal configuration (`/api/v1/config/public`), authenticated by the router API key.

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::auth::portal_key::PortalKey;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(config_public);
}

/// The public keys the portal needs to tokenise cards, where it loads the gateways' scripts
/// from (`sdk`: `CONEKTA_JS_URL`, `MERCADOPAGO_JS_URL`), and the router's name.
#[utoipa::path(
    tag = "portal",
    summary = "Public keys and names for the portal",
    responses((status = 200, description = "OK", body = Object, example = json!({"empresa": {"id": "EMP_6692D1F6DA", "nombre": "WiFi Demo", "conekta_public_key": "key_…", "mercadopago_public_key": "TEST-…", "conekta_mode": "test"}, "router": {"id": "RTR_2E0A7278", "nombre": "Router Demo", "ubicacion": null}, "sdk": {"conekta_js": "https://cdn.conekta.io/js/latest/conekta.js", "mercadopago_js": "https://sdk.mercadopago.com/js/v2"}}))),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/config/public")]
async fn config_public(key: PortalKey, state: web::Data<AppState>) -> HttpResponse {
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
        "sdk": {
            "conekta_js": state.config.portal.conekta_js_url,
            "mercadopago_js": state.config.portal.mercadopago_js_url,
        },
    }))
}
