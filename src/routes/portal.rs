//! Public portal configuration (`/api/v1/config/public`), authenticated by the router API key.

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::auth::api_key::PortalKey;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(config_public);
}

/// The public keys the portal needs to tokenise cards, and the router's name.
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
