//! `usuarios`: admin accounts, and `revoked_sessions`: logged-out session tokens.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use entity::empresa;
use entity::revoked_session;
use entity::usuario::{ActiveModel, Column, Entity, Model};

pub use entity::usuario::Role;

use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::EmpresaId;

/// An admin account row.
pub type Usuario = Model;

/// An account to create (active). The password is hashed already.
#[derive(Debug, Clone)]
pub struct NewUsuario {
    pub rol: Role,
    pub empresa_id: Option<String>,
    pub email: String,
    pub password_hash: String,
    pub nombre: String,
}

/// Inserts an active account.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewUsuario) -> Result<Model, DbErr> {
    ActiveModel {
        rol: Set(new.rol),
        empresa_id: Set(new.empresa_id),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        nombre: Set(new.nombre),
        activo: Set(true),
        creado_en: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The account, or 404 `"Usuario no encontrado"`.
pub async fn get<C: ConnectionTrait>(db: &C, id: i32) -> ApiResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::from(Problem::UserNotFound))
}

/// The account with exactly this e-mail, with its company.
pub async fn find_by_email_with_empresa<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<(Model, Option<empresa::Model>)>, DbErr> {
    Entity::find()
        .filter(Column::Email.eq(email))
        .find_also_related(empresa::Entity)
        .one(db)
        .await
}

/// The account with this id, with its company.
pub async fn find_with_empresa<C: ConnectionTrait>(
    db: &C,
    id: i32,
) -> Result<Option<(Model, Option<empresa::Model>)>, DbErr> {
    Entity::find_by_id(id)
        .find_also_related(empresa::Entity)
        .one(db)
        .await
}

/// The account with this e-mail, compared case-insensitively.
pub async fn find_by_email_ci<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(Column::Email))).eq(email.to_lowercase()))
        .one(db)
        .await
}

/// Whether any account has this role.
pub async fn any_with_role<C: ConnectionTrait>(db: &C, rol: Role) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::Rol.eq(rol))
        .one(db)
        .await?
        .is_some())
}

/// Accounts, filtered by role text and company when given, in id order.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    rol: Option<&str>,
    empresa_id: Option<&str>,
) -> Result<Vec<Model>, DbErr> {
    let mut find = Entity::find();
    if let Some(rol) = rol {
        // The role column holds text; an unknown role matches nothing.
        find = find.filter(Expr::col(Column::Rol).eq(rol));
    }
    if let Some(e) = empresa_id {
        find = find.filter(Column::EmpresaId.eq(e));
    }
    find.order_by_asc(Column::Id).all(db).await
}

/// How many accounts exist (of one company, when given).
pub async fn count<C: ConnectionTrait>(
    db: &C,
    empresa: Option<EmpresaId<'_>>,
) -> Result<u64, DbErr> {
    let mut find = Entity::find();
    if let Some(e) = empresa {
        find = find.filter(Column::EmpresaId.eq(e.as_str()));
    }
    find.count(db).await
}

/// Flips `activo` in one statement (concurrent toggles each take effect in turn) and returns
/// the account as stored; 404 when it does not exist.
pub async fn toggle_activo<C: ConnectionTrait>(db: &C, id: i32) -> ApiResult<Model> {
    let res = Entity::update_many()
        .col_expr(Column::Activo, Expr::col(Column::Activo).not())
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(ApiError::from(Problem::UserNotFound));
    }
    get(db, id).await
}

/// Records a login: the time, and the new hash when the stored one was rehashed.
pub async fn record_login<C: ConnectionTrait>(
    db: &C,
    user: Model,
    rehashed: Option<String>,
) -> Result<Model, DbErr> {
    let mut m = user.into_active_model();
    if let Some(h) = rehashed {
        m.password_hash = Set(h);
    }
    m.ultimo_login = Set(Some(Utc::now()));
    m.update(db).await
}

/// Stores a new password hash; sessions issued before now stop working.
pub async fn set_password<C: ConnectionTrait>(
    db: &C,
    user: Model,
    password_hash: String,
) -> Result<Model, DbErr> {
    let mut m = user.into_active_model();
    m.password_hash = Set(password_hash);
    m.password_changed_at = Set(Some(Utc::now()));
    m.update(db).await
}

/// Makes the account an active admin of `empresa_id` with the given hash (when `Some`).
pub async fn reassign<C: ConnectionTrait>(
    db: &C,
    user: Model,
    rol: Role,
    empresa_id: Option<String>,
    password_hash: Option<String>,
) -> Result<Model, DbErr> {
    let mut m = user.into_active_model();
    if let Some(h) = password_hash {
        m.password_hash = Set(h);
        m.password_changed_at = Set(Some(Utc::now()));
    }
    m.activo = Set(true);
    m.rol = Set(rol);
    m.empresa_id = Set(empresa_id);
    m.update(db).await
}

/// Revokes a session token by its `jti`. Idempotent: concurrent calls all succeed.
pub async fn revoke_session<C: ConnectionTrait>(
    db: &C,
    jti: &str,
    usuario_id: i32,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    revoked_session::Entity::insert(revoked_session::ActiveModel {
        jti: Set(jti.to_string()),
        usuario_id: Set(usuario_id),
        revoked_at: Set(Utc::now()),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(revoked_session::Column::Jti)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether the session token `jti` was revoked.
pub async fn session_revoked<C: ConnectionTrait>(db: &C, jti: &str) -> Result<bool, DbErr> {
    Ok(revoked_session::Entity::find_by_id(jti.to_string())
        .one(db)
        .await?
        .is_some())
}

/// `(id, email)` of every admin (the importer's "already there" check).
pub async fn index<C: ConnectionTrait>(db: &C) -> Result<Vec<(i32, String)>, DbErr> {
    super::column_tuples::<_, Entity, _>(db, [Column::Id, Column::Email]).await
}

/// Inserts admins exactly as given (ids and password hashes kept).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(db, rows.into_iter().map(ActiveModel::from).collect()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accounts_roles_toggles_and_revocations() {
        let t = crate::db::testing::fresh_database().await;
        let new = |email: &str| NewUsuario {
            rol: Role::SuperAdmin,
            empresa_id: None,
            email: email.into(),
            password_hash: "x".into(),
            nombre: "Ana".into(),
        };
        assert!(!any_with_role(&t.db, Role::SuperAdmin).await.unwrap());
        let u = insert(&t.db, new("Ana@Example.com")).await.unwrap();
        assert_eq!(u.rol, Role::SuperAdmin);
        assert!(any_with_role(&t.db, Role::SuperAdmin).await.unwrap());
        assert!(!any_with_role(&t.db, Role::ClienteAdmin).await.unwrap());
        let found = find_by_email_ci(&t.db, "ana@example.COM").await.unwrap();
        assert_eq!(found.map(|f| f.id), Some(u.id));
        assert_eq!(
            list(&t.db, Some("super_admin"), None).await.unwrap().len(),
            1
        );
        assert!(list(&t.db, Some("nobody"), None).await.unwrap().is_empty());
        assert!(!toggle_activo(&t.db, u.id).await.unwrap().activo);
        assert!(toggle_activo(&t.db, u.id).await.unwrap().activo);
        assert!(toggle_activo(&t.db, u.id + 1).await.is_err());
        assert_eq!(count(&t.db, None).await.unwrap(), 1);

        let exp = Utc::now();
        assert!(!session_revoked(&t.db, "j1").await.unwrap());
        revoke_session(&t.db, "j1", u.id, exp).await.unwrap();
        revoke_session(&t.db, "j1", u.id, exp).await.unwrap();
        assert!(session_revoked(&t.db, "j1").await.unwrap());
    }
}
