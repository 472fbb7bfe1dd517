//! Router and API-key persistence shared by the admin endpoints, the demo and the tests.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use entity::{api_key, router};

use crate::auth::api_key::IssuedKey;
use crate::crypto::{field, SecretBox};

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
    insert_key(db, &model, &key).await?;
    Ok((model, key))
}

/// Stores the tracking row of an issued key.
pub async fn insert_key<C: ConnectionTrait>(
    db: &C,
    router: &router::Model,
    key: &IssuedKey,
) -> Result<api_key::Model, sea_orm::DbErr> {
    api_key::ActiveModel {
        key_id: Set(key.key_id.clone()),
        empresa_id: Set(router.empresa_id.clone()),
        router_id: Set(router.id.clone()),
        key_hash: Set(key.key_hash.clone()),
        issued_at: Set(key.issued_at),
        expires_at: Set(key.expires_at),
        revoked: Set(false),
        revoked_at: Set(None),
        last_used: Set(None),
        use_count: Set(0),
    }
    .insert(db)
    .await
}
