//! The super_admin API under `/admin/…` (no `/api/v1` prefix), wire-compatible with the
//! original's `app.api.admin.{empresas,routers,usuarios}`. Every route requires the
//! [`SuperAdmin`](crate::auth::session::SuperAdmin) extractor; every change is written together
//! with its audit entry in one transaction.

pub mod empresas;
pub mod routers;
pub mod usuarios;

use actix_web::{web, FromRequest, HttpRequest};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::de::DeserializeOwned;

use crate::error::ApiResult;
use crate::extract::{FieldAliases, JsonBody};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    empresas::configure(cfg);
    routers::configure(cfg);
    usuarios::configure(cfg);
}

/// Reads the JSON body only after the handler's other extractors (the session) succeeded, so
/// an unauthorised caller always gets the 403 and never a 422 about its body, as in FastAPI.
pub(crate) async fn json_body<T: DeserializeOwned + FieldAliases + 'static>(
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<T> {
    let mut payload = payload.into_inner();
    Ok(JsonBody::<T>::from_request(req, &mut payload)
        .await?
        .into_inner())
}

/// See [`crate::db::begin_write`].
pub(crate) async fn begin_write(db: &DatabaseConnection) -> ApiResult<DatabaseTransaction> {
    Ok(crate::db::begin_write(db).await?)
}
