//! `/admin/usuarios`: admin accounts.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{begin_write, json_body};
use crate::auth::password::hash_password;
use crate::auth::password::MIN_PASSWORD_LEN;
use crate::auth::session::SuperAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::empresas;
use crate::db::usuarios::{self, NewUsuario, Role, Usuario};
use crate::error::{is_unique_violation, ApiError, ApiResult, Problem};
use crate::extract::FieldAliases;
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::validate;
use crate::wire::{iso, iso_opt};

const MAX_PASSWORD_LEN: usize = 256;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(toggle_activo);
}

/// `UserResponse`: the login's user object plus `ultimo_login` and `creado_en`.
pub fn usuario_json(u: &Usuario) -> Value {
    let mut v = crate::routes::auth::user_json(u);
    v["ultimo_login"] = json!(iso_opt(u.ultimo_login));
    v["creado_en"] = json!(iso(u.creado_en));
    v
}

#[derive(Debug, Deserialize)]
pub struct CreateUsuario {
    pub email: String,
    pub password: String,
    pub nombre: String,
    pub rol: String,
    #[serde(default)]
    pub empresa_id: Option<String>,
}
impl FieldAliases for CreateUsuario {}

#[utoipa::path(
    tag = "super_admin",
    summary = "Create an admin user",
    request_body(content = inline(crate::openapi::schemas::NewUsuario), content_type = "application/json"),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[post("/admin/usuarios")]
async fn create(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let b: CreateUsuario = json_body(&req, payload).await?;
    // Schema-level checks first (FastAPI validated the body before the handler ran).
    let email = b.email.trim().to_string();
    validate::email("email", &email)?;
    let nombre = b.nombre.trim().to_string();
    validate::required_text("nombre", &nombre, 100)?;
    let empresa_id = b
        .empresa_id
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());

    // The original's checks, in its order.
    let Some(rol) = Role::parse(&b.rol) else {
        return Err(ApiError::from(Problem::InvalidRole));
    };
    if rol == Role::ClienteAdmin && empresa_id.is_none() {
        return Err(ApiError::from(Problem::ClienteAdminNeedsEmpresa));
    }
    if let Some(id) = &empresa_id {
        empresas::get(&state.db, EmpresaId(id)).await?;
    }
    if rol == Role::SuperAdmin && empresa_id.is_some() {
        return Err(ApiError::from(Problem::SuperAdminWithEmpresa));
    }
    if email_taken(&state.db, &email).await? {
        return Err(ApiError::from(Problem::EmailTaken));
    }
    let len = b.password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(Problem::PasswordLength {
            max: MAX_PASSWORD_LEN,
        }
        .into());
    }
    // Hash outside the transaction: on SQLite it holds the write lock.
    let password = b.password;
    let hash = web::block(move || hash_password(&password))
        .await?
        .map_err(ApiError::internal)?;
    let txn = begin_write(&state.db).await?;
    // Checked again under the write lock (the unique index is case-sensitive).
    if email_taken(&txn, &email).await? {
        return Err(ApiError::from(Problem::EmailTaken));
    }
    let new = NewUsuario {
        rol,
        empresa_id: empresa_id.clone(),
        email,
        password_hash: hash,
        nombre,
    };
    let inserted = usuarios::insert(&txn, new).await;
    let user = match inserted {
        Ok(u) => u,
        Err(e) if is_unique_violation(&e) => return Err(ApiError::from(Problem::EmailTaken)),
        Err(e) => return Err(e.into()),
    };
    let target = user.id.to_string();
    audit::record(
        &txn,
        &admin.0,
        empresa_id.as_deref(),
        AuditAction::UsuarioCreate,
        Some(&target),
        json!({ "email": user.email, "rol": user.rol }),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(usuario_id = user.id, "admin user created");
    Ok(HttpResponse::Ok().json(json!({
        "message": "Usuario creado exitosamente",
        "usuario": crate::routes::auth::user_json(&user),
    })))
}

/// Whether an account already uses `email`, compared case-insensitively.
async fn email_taken<C: ConnectionTrait>(db: &C, email: &str) -> ApiResult<bool> {
    Ok(usuarios::find_by_email_ci(db, email).await?.is_some())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub rol: Option<String>,
    #[serde(default)]
    pub empresa_id: Option<String>,
}

#[utoipa::path(
    tag = "super_admin",
    summary = "List admin users",
    params(
        ("rol" = Option<String>, Query, description = "Filter by role."),
        ("empresa_id" = Option<String>, Query, description = "Filter by company."),
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/usuarios")]
async fn list(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let rol = q.rol.as_deref().filter(|r| !r.is_empty());
    let empresa_id = q.empresa_id.as_deref().filter(|e| !e.is_empty());
    let rows = usuarios::list(&state.db, rol, empresa_id).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(usuario_json).collect::<Vec<_>>()))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Get an admin user",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/usuarios/{usuario_id}")]
async fn get_one(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    path: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let u = usuarios::get(&state.db, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(usuario_json(&u)))
}

#[utoipa::path(
    tag = "super_admin",
    summary = "Enable or disable an admin user",
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[put("/admin/usuarios/{usuario_id}/toggle-activo")]
async fn toggle_activo(
    state: web::Data<AppState>,
    admin: SuperAdmin,
    path: web::Path<i32>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    if id == admin.0.user.id {
        // The caller exists (its session was just checked): the original's 400.
        return Err(ApiError::from(Problem::CannotDeactivateSelf));
    }
    let txn = begin_write(&state.db).await?;
    // Flip in one statement, so concurrent toggles each take effect in turn.
    let u = usuarios::toggle_activo(&txn, id).await?;
    let activo = u.activo;
    let target = id.to_string();
    audit::record(
        &txn,
        &admin.0,
        u.empresa_id.as_deref(),
        if activo {
            AuditAction::UsuarioActivate
        } else {
            AuditAction::UsuarioDeactivate
        },
        Some(&target),
        json!({ "activo": activo }),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": if activo { "Usuario activado" } else { "Usuario desactivado" },
        "usuario_id": id,
        "activo": activo,
    })))
}
