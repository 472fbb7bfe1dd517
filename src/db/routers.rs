//! `routers`: a company's MikroTik routers (the RouterOS password encrypted), created together
//! with their first API key. Every lookup that has a company takes it, so a router of another
//! company is never found.

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

use entity::empresa;
use entity::router::{self, Column, Entity, Model};

use super::set;
use crate::auth::api_key::IssuedKey;
use crate::crypto::{field, SecretBox};
use crate::ids::{EmpresaId, RouterId};

/// A router row.
pub type Router = Model;

/// A router to create. The password is plaintext here and encrypted before storage.
#[derive(Debug, Clone)]
pub struct NewRouter {
    pub empresa_id: String,
    pub nombre: String,
    pub host: String,
    pub puerto: i32,
    pub usuario: String,
    pub password: String,
    pub ubicacion: Option<String>,
    pub use_tls: bool,
    pub tls_fingerprint: Option<String>,
}

/// Inserts the router and its first API key (call inside a transaction).
pub async fn create_router<C: ConnectionTrait>(
    db: &C,
    secrets: &SecretBox,
    new: NewRouter,
    apikey_secret: &str,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(router::Model, IssuedKey)> {
    let id = crate::wire::new_router_id();
    let key = crate::auth::api_key::issue(&id, &new.empresa_id, apikey_secret, apikey_ttl)?;
    let now = Utc::now();
    let model = router::ActiveModel {
        id: Set(id.clone()),
        empresa_id: Set(new.empresa_id.clone()),
        nombre: Set(new.nombre),
        host: Set(new.host),
        puerto: Set(new.puerto),
        usuario: Set(new.usuario),
        password_encrypted: Set(secrets.encrypt(field::ROUTER_PASSWORD, &new.password)),
        ubicacion: Set(new.ubicacion),
        api_key_hash: Set(key.key_hash.clone()),
        activo: Set(true),
        use_tls: Set(new.use_tls),
        tls_fingerprint: Set(new.tls_fingerprint),
        creado_en: Set(now),
        actualizado_en: Set(now),
    }
    .insert(db)
    .await?;
    super::api_keys::insert(db, EmpresaId(&model.empresa_id), RouterId(&model.id), &key).await?;
    Ok((model, key))
}

/// The company's router, or `None` when missing or owned by another company.
pub async fn find_owned<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(router.as_str().to_string())
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .one(db)
        .await
}

/// The router with its company (for a portal key, which names both).
pub async fn find_with_empresa<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<Option<(Model, Option<empresa::Model>)>, DbErr> {
    Entity::find_by_id(router.as_str().to_string())
        .find_also_related(empresa::Entity)
        .one(db)
        .await
}

/// The router, whichever company owns it.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(router.as_str().to_string())
        .one(db)
        .await
}

/// The company's routers, oldest first.
pub async fn list_for_empresa<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .order_by_asc(Column::CreadoEn)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// How many routers the company has, and how many of them are active.
pub async fn counts_for_empresa<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
) -> Result<(u64, u64), DbErr> {
    let of_empresa = Entity::find().filter(Column::EmpresaId.eq(empresa.as_str()));
    let total = of_empresa.clone().count(db).await?;
    let active = of_empresa.filter(Column::Activo.eq(true)).count(db).await?;
    Ok((total, active))
}

/// Flips `activo` in one statement (concurrent toggles each take effect in turn); whether the
/// company's router was found.
pub async fn toggle_activo<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::Activo, Expr::col(Column::Activo).not())
        .col_expr(Column::ActualizadoEn, Expr::value(Utc::now()))
        .filter(Column::Id.eq(router.as_str()))
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Writes the active router's row first in a transaction (so that concurrent key
/// regenerations are serialised); whether the company's active router was found.
pub async fn lock_active<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::ActualizadoEn, Expr::value(now))
        .filter(Column::Id.eq(router.as_str()))
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .filter(Column::Activo.eq(true))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Points the router at its current key.
pub async fn set_api_key_hash<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
    key_hash: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::ApiKeyHash, Expr::value(key_hash))
        .filter(Column::Id.eq(router.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the router row; `false` when products still reference it (the foreign key refused).
pub async fn delete<C: ConnectionTrait>(db: &C, router: RouterId<'_>) -> Result<bool, DbErr> {
    match Entity::delete_by_id(router.as_str().to_string())
        .exec(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Columns to set on a router; `None` leaves a column as it is. The password is plaintext and
/// encrypted here.
#[derive(Debug, Clone, Default)]
pub struct RouterPatch {
    pub nombre: Option<String>,
    pub host: Option<String>,
    pub puerto: Option<i32>,
    pub usuario: Option<String>,
    pub password: Option<String>,
    pub ubicacion: Option<Option<String>>,
    pub use_tls: Option<bool>,
    pub tls_fingerprint: Option<Option<String>>,
}

impl RouterPatch {
    /// Whether the patch touches how the service connects to the router.
    pub fn changes_connection(&self) -> bool {
        self.host.is_some()
            || self.puerto.is_some()
            || self.usuario.is_some()
            || self.password.is_some()
            || self.use_tls.is_some()
            || self.tls_fingerprint.is_some()
    }
}

/// Writes the patch to `current`'s row (and `actualizado_en`) and returns the row as stored.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    secrets: &SecretBox,
    current: Model,
    patch: RouterPatch,
) -> Result<Model, DbErr> {
    let mut m = current.into_active_model();
    set(&mut m.nombre, patch.nombre);
    set(&mut m.host, patch.host);
    set(&mut m.puerto, patch.puerto);
    set(&mut m.usuario, patch.usuario);
    set(
        &mut m.password_encrypted,
        patch
            .password
            .map(|p| secrets.encrypt(field::ROUTER_PASSWORD, &p)),
    );
    set(&mut m.ubicacion, patch.ubicacion);
    set(&mut m.use_tls, patch.use_tls);
    set(&mut m.tls_fingerprint, patch.tls_fingerprint);
    m.actualizado_en = Set(Utc::now());
    m.update(db).await
}

/// What the router broker needs of a row.
pub fn record(r: &Model) -> routeros::RouterRecord {
    routeros::RouterRecord {
        id: r.id.clone(),
        empresa_id: r.empresa_id.clone(),
        nombre: r.nombre.clone(),
        host: r.host.clone(),
        puerto: r.puerto,
        usuario: r.usuario.clone(),
        password_encrypted: r.password_encrypted.clone(),
        activo: r.activo,
        use_tls: r.use_tls,
        tls_fingerprint: r.tls_fingerprint.clone(),
    }
}

/// The broker's view of the `routers` table; reveals passwords with the master key.
pub struct BrokerSource {
    db: sea_orm::DatabaseConnection,
    secrets: std::sync::Arc<SecretBox>,
}

impl BrokerSource {
    pub fn new(db: sea_orm::DatabaseConnection, secrets: std::sync::Arc<SecretBox>) -> Self {
        Self { db, secrets }
    }
}

impl routeros::RouterSource for BrokerSource {
    fn load<'a>(
        &'a self,
        router_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<routeros::RouterRecord>, routeros::SourceError>> {
        Box::pin(async move {
            Ok(find(&self.db, RouterId(router_id))
                .await?
                .as_ref()
                .map(record))
        })
    }

    fn all(&self) -> BoxFuture<'_, Result<Vec<routeros::RouterRecord>, routeros::SourceError>> {
        Box::pin(async move {
            let rows = Entity::find()
                .order_by_asc(Column::EmpresaId)
                .order_by_asc(Column::Id)
                .all(&self.db)
                .await?;
            Ok(rows.iter().map(record).collect())
        })
    }

    fn reveal(&self, stored: &str) -> Option<zeroize::Zeroizing<String>> {
        self.secrets.decrypt(field::ROUTER_PASSWORD, stored).ok()
    }
}

/// `(id, empresa_id)` of every router (the importer's "already there" check).
pub async fn owners<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String)>, DbErr> {
    super::column_tuples::<_, Entity, _>(db, [Column::Id, Column::EmpresaId]).await
}

/// Inserts routers exactly as given (ids kept; the password must be ciphertext already).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(
        db,
        rows.into_iter().map(router::ActiveModel::from).collect(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MasterKey;
    use crate::db::{empresas, productos};

    #[tokio::test]
    async fn a_router_is_found_only_through_its_company() {
        let t = crate::db::testing::fresh_database().await;
        let secrets = SecretBox::new(&MasterKey::from_bytes([3; 32]));
        let a = empresas::insert(&t.db, &secrets, empresas::NewEmpresa::named("A"))
            .await
            .unwrap();
        let b = empresas::insert(&t.db, &secrets, empresas::NewEmpresa::named("B"))
            .await
            .unwrap();
        let new = NewRouter {
            empresa_id: a.id.clone(),
            nombre: "R".into(),
            host: "10.0.0.1".into(),
            puerto: 8728,
            usuario: "api".into(),
            password: "router-secret".into(),
            ubicacion: None,
            use_tls: false,
            tls_fingerprint: None,
        };
        let (r, key) = create_router(
            &t.db,
            &secrets,
            new,
            "k",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
        assert_eq!(r.api_key_hash, key.key_hash);
        assert_ne!(r.password_encrypted, "router-secret");
        let (a_id, b_id, r_id) = (EmpresaId(&a.id), EmpresaId(&b.id), RouterId(&r.id));
        assert_eq!(
            find_owned(&t.db, a_id, r_id).await.unwrap(),
            Some(r.clone())
        );
        assert_eq!(find_owned(&t.db, b_id, r_id).await.unwrap(), None);
        assert_eq!(counts_for_empresa(&t.db, a_id).await.unwrap(), (1, 1));
        assert!(toggle_activo(&t.db, a_id, r_id).await.unwrap());
        assert!(
            !toggle_activo(&t.db, b_id, r_id).await.unwrap(),
            "not B's router"
        );
        assert_eq!(counts_for_empresa(&t.db, a_id).await.unwrap(), (1, 0));

        let patch = RouterPatch {
            host: Some("10.0.0.2".into()),
            ..Default::default()
        };
        assert!(patch.changes_connection());
        let current = find(&t.db, r_id).await.unwrap().unwrap();
        let updated = update(&t.db, &secrets, current, patch).await.unwrap();
        assert_eq!(updated.host, "10.0.0.2");
        assert_eq!(
            updated.password_encrypted, r.password_encrypted,
            "untouched"
        );

        // A product holds the router: the delete is refused, not an error.
        let product = productos::NewProducto {
            empresa_id: a.id.clone(),
            router_id: r.id.clone(),
            perfil_mikrotik_id: "*2".into(),
            perfil_mikrotik_nombre: "1h".into(),
            nombre_venta: "1 hora".into(),
            descripcion: None,
            imagen_url: None,
            precio: rust_decimal::Decimal::new(1500, 2),
            moneda: "MXN".into(),
            detalles: serde_json::json!([]),
            activo: true,
            orden_visual: 0,
            destacado: false,
            plan: Default::default(),
        };
        productos::insert(&t.db, product).await.unwrap();
        crate::db::api_keys::delete_for_router(&t.db, r_id)
            .await
            .unwrap();
        assert!(!delete(&t.db, r_id).await.unwrap());
        assert_eq!(productos::count_for_router(&t.db, r_id).await.unwrap(), 1);
    }
}
