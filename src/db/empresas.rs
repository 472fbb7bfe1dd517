//! `empresas`: companies, their gateway and Telegram settings.
//!
//! Secrets arrive here as plaintext in [`NewEmpresa`] and are encrypted before storage; an
//! [`EmpresaPatch`] carries ciphertext already (the handler encrypts what it validated).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use entity::empresa::{self, ActiveModel, Column, Entity, Model};

/// A company row.
pub type Empresa = Model;

use super::set;
use crate::crypto::{field, SecretBox};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::EmpresaId;

/// A company to create. Gateway secrets are plaintext here.
#[derive(Debug, Clone)]
pub struct NewEmpresa {
    pub nombre: String,
    pub contacto_email: Option<String>,
    pub contacto_telefono: Option<String>,
    pub conekta_private_key: Option<String>,
    pub conekta_public_key: Option<String>,
    pub conekta_mode: String,
    pub mercado_pago_access_token: Option<String>,
    pub mercado_pago_public_key: Option<String>,
    pub mercado_pago_webhook_secret: Option<String>,
}

impl NewEmpresa {
    /// An active company with no gateway configured, in test mode.
    pub fn named(nombre: impl Into<String>) -> Self {
        Self {
            nombre: nombre.into(),
            contacto_email: None,
            contacto_telefono: None,
            conekta_private_key: None,
            conekta_public_key: None,
            conekta_mode: "test".into(),
            mercado_pago_access_token: None,
            mercado_pago_public_key: None,
            mercado_pago_webhook_secret: None,
        }
    }
}

/// `al_expirar`: remove the expired hotspot user (the default).
pub const AL_EXPIRAR_ELIMINAR: &str = "eliminar";
/// `al_expirar`: disable the expired hotspot user (kept on the router, for the record).
pub const AL_EXPIRAR_DESHABILITAR: &str = "deshabilitar";
/// The time zone a new company's days are counted in.
pub const DEFAULT_ZONA_HORARIA: &str = "America/Mexico_City";

/// Inserts a company with a new `EMP_…` id (active, Telegram off).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    secrets: &SecretBox,
    new: NewEmpresa,
) -> Result<Model, DbErr> {
    let seal = |name: &str, v: Option<String>| v.map(|v| secrets.encrypt(name, &v));
    let id = crate::wire::new_empresa_id();
    let row = ActiveModel {
        id: Set(id.clone()),
        nombre: Set(new.nombre),
        contacto_email: Set(new.contacto_email),
        contacto_telefono: Set(new.contacto_telefono),
        logo_url: Set(None),
        conekta_private_key: Set(seal(field::CONEKTA_PRIVATE_KEY, new.conekta_private_key)),
        conekta_public_key: Set(new.conekta_public_key),
        conekta_mode: Set(new.conekta_mode),
        mercado_pago_access_token: Set(seal(field::MP_ACCESS_TOKEN, new.mercado_pago_access_token)),
        mercado_pago_public_key: Set(new.mercado_pago_public_key),
        mercado_pago_mode: Set("test".into()),
        mercado_pago_webhook_secret: Set(seal(
            field::MP_WEBHOOK_SECRET,
            new.mercado_pago_webhook_secret,
        )),
        conekta_webhook_key: Set(None),
        telegram_bot_token: Set(None),
        telegram_chat_id: Set(None),
        notificaciones_telegram: Set(false),
        activa: Set(true),
        al_expirar: Set(AL_EXPIRAR_ELIMINAR.into()),
        creada_en: Set(Utc::now()),
        zona_horaria: Set(DEFAULT_ZONA_HORARIA.into()),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    read_back(db, id).await
}

/// The row just written, read with a plain SELECT. Writes here do not use `RETURNING`: on
/// SQLite, a pooled connection that was open while a migration added a column to this table
/// (`zona_horaria`) gets rows from `INSERT/UPDATE … RETURNING` without that column
/// (sqlx: `ColumnNotFound`), while a SELECT sees it.
async fn read_back<C: ConnectionTrait>(db: &C, id: String) -> Result<Model, DbErr> {
    Entity::find_by_id(id.clone())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("empresa {id}")))
}

/// The company, if it exists.
pub async fn find<C: ConnectionTrait>(db: &C, id: EmpresaId<'_>) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.as_str().to_string()).one(db).await
}

/// The company, or 404 `"Empresa no encontrada"` (active or not).
pub async fn get<C: ConnectionTrait>(db: &C, id: EmpresaId<'_>) -> ApiResult<Model> {
    find(db, id)
        .await?
        .ok_or_else(|| ApiError::from(Problem::EmpresaNotFound))
}

/// Every company, oldest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .order_by_asc(Column::CreadaEn)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// How many companies exist, and how many of them are active.
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<(u64, u64), DbErr> {
    let total = Entity::find().count(db).await?;
    let active = Entity::find()
        .filter(Column::Activa.eq(true))
        .count(db)
        .await?;
    Ok((total, active))
}

/// Columns to set on a company; `None` leaves a column as it is. For a nullable column the
/// inner `Option` is the new value (`Some(None)` clears it). Secrets are ciphertext.
#[derive(Debug, Clone, Default)]
pub struct EmpresaPatch {
    pub nombre: Option<String>,
    pub contacto_email: Option<Option<String>>,
    pub contacto_telefono: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
    pub conekta_private_key: Option<Option<String>>,
    pub conekta_public_key: Option<Option<String>>,
    pub conekta_mode: Option<String>,
    pub conekta_webhook_key: Option<Option<String>>,
    pub mercado_pago_access_token: Option<Option<String>>,
    pub mercado_pago_public_key: Option<Option<String>>,
    pub mercado_pago_mode: Option<String>,
    pub mercado_pago_webhook_secret: Option<Option<String>>,
    pub telegram_bot_token: Option<Option<String>>,
    pub telegram_chat_id: Option<Option<String>>,
    pub notificaciones_telegram: Option<bool>,
    pub activa: Option<bool>,
    pub al_expirar: Option<String>,
    pub zona_horaria: Option<String>,
}

/// Writes the patch's columns to `current`'s row and returns the row as stored.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: Model,
    patch: EmpresaPatch,
) -> Result<Model, DbErr> {
    let id = current.id.clone();
    let mut m: empresa::ActiveModel = current.into_active_model();
    set(&mut m.nombre, patch.nombre);
    set(&mut m.contacto_email, patch.contacto_email);
    set(&mut m.contacto_telefono, patch.contacto_telefono);
    set(&mut m.logo_url, patch.logo_url);
    set(&mut m.conekta_private_key, patch.conekta_private_key);
    set(&mut m.conekta_public_key, patch.conekta_public_key);
    set(&mut m.conekta_mode, patch.conekta_mode);
    set(&mut m.conekta_webhook_key, patch.conekta_webhook_key);
    set(
        &mut m.mercado_pago_access_token,
        patch.mercado_pago_access_token,
    );
    set(
        &mut m.mercado_pago_public_key,
        patch.mercado_pago_public_key,
    );
    set(&mut m.mercado_pago_mode, patch.mercado_pago_mode);
    set(&mut m.al_expirar, patch.al_expirar);
    set(
        &mut m.mercado_pago_webhook_secret,
        patch.mercado_pago_webhook_secret,
    );
    set(&mut m.telegram_bot_token, patch.telegram_bot_token);
    set(&mut m.telegram_chat_id, patch.telegram_chat_id);
    set(
        &mut m.notificaciones_telegram,
        patch.notificaciones_telegram,
    );
    set(&mut m.activa, patch.activa);
    set(&mut m.zona_horaria, patch.zona_horaria);
    if !m.is_changed() {
        return read_back(db, id).await;
    }
    Entity::update_many()
        .set(m)
        .filter(Column::Id.eq(id.clone()))
        .exec(db)
        .await?;
    read_back(db, id).await
}

/// Every company id (the importer's "already there" check).
pub async fn ids<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    super::column_tuples::<_, Entity, _>(db, [Column::Id]).await
}

/// Inserts companies exactly as given (ids kept; secrets must be ciphertext already).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(db, rows.into_iter().map(ActiveModel::from).collect()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MasterKey;

    #[tokio::test]
    async fn insert_get_patch_and_count() {
        let t = crate::db::testing::fresh_database().await;
        let secrets = SecretBox::new(&MasterKey::from_bytes([7; 32]));
        let mut new = NewEmpresa::named("Café Centro");
        new.conekta_private_key = Some("key_private".into());
        let e = insert(&t.db, &secrets, new).await.unwrap();
        assert!(e.id.starts_with("EMP_"));
        let sealed = e.conekta_private_key.clone().unwrap();
        assert_ne!(sealed, "key_private", "stored encrypted");
        assert_eq!(
            secrets
                .decrypt(field::CONEKTA_PRIVATE_KEY, &sealed)
                .unwrap()
                .as_str(),
            "key_private"
        );

        let patch = EmpresaPatch {
            activa: Some(false),
            contacto_telefono: Some(Some("5512345678".into())),
            ..Default::default()
        };
        let updated = update(&t.db, e.clone(), patch).await.unwrap();
        assert!(!updated.activa);
        assert_eq!(updated.nombre, "Café Centro", "untouched column kept");
        assert_eq!(counts(&t.db).await.unwrap(), (1, 0));
        assert_eq!(get(&t.db, EmpresaId(&e.id)).await.unwrap(), updated);
        let missing = get(&t.db, EmpresaId("EMP_0000000000")).await.unwrap_err();
        assert_eq!(
            missing.to_string(),
            ApiError::from(Problem::EmpresaNotFound).to_string()
        );
        assert_eq!(list(&t.db).await.unwrap().len(), 1);
    }
}
