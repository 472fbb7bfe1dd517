//! The demo's seed: company, router, plans and admin, made once and kept up to date.

use std::net::SocketAddr;

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use entity::{api_key, empresa, producto, router, usuario};

use super::{DemoSecrets, COMPANY_NAME, ROUTER_USER};
use crate::auth::password::{hash_password, verify_password, Verification};
use crate::crypto::{field, SecretBox};
use crate::db::routers::{create_router, insert_key, NewRouter};
use crate::sandbox::routeros_sim::default_seed_profiles;

/// What the seed produced (or found).
#[derive(Debug, Clone)]
pub struct Seeded {
    pub empresa_id: String,
    pub router_id: String,
    pub api_key: String,
    pub products: Vec<producto::Model>,
}

/// The three plans: (sale name, simulator profile, price, description, details).
const PLANS: [(&str, &str, i64, &str, [&str; 2]); 3] = [
    (
        "1 hora",
        "1h",
        15,
        "Una hora de Internet",
        ["Velocidad de bajada 5 Mbps", "Un dispositivo"],
    ),
    (
        "1 día",
        "1d",
        50,
        "24 horas de Internet",
        ["Velocidad de bajada 10 Mbps", "Un dispositivo"],
    ),
    (
        "1 semana",
        "1w",
        200,
        "7 días de Internet",
        ["Velocidad de bajada 15 Mbps", "Un dispositivo"],
    ),
];

/// RouterOS `.id` of a seeded simulator profile: `default` is `*1`, then the seeds in order.
fn sim_profile_id(name: &str) -> String {
    let idx = default_seed_profiles()
        .iter()
        .position(|p| p.name == name)
        .map_or(0, |i| i + 2);
    format!("*{idx:X}")
}

/// Creates the demo's company, router, plans and admin (first run), or brings them up to date
/// (router address, API key, admin password) on later runs.
pub async fn seed(
    db: &DatabaseConnection,
    secrets_box: &SecretBox,
    secrets: &mut DemoSecrets,
    router_addr: SocketAddr,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(Seeded, bool)> {
    let existing = match &secrets.empresa_id {
        Some(id) => empresa::Entity::find_by_id(id.clone()).one(db).await?,
        None => None,
    };
    let existing_router = match (&existing, &secrets.router_id) {
        (Some(_), Some(id)) => router::Entity::find_by_id(id.clone()).one(db).await?,
        _ => None,
    };
    let mut changed = false;
    let (empresa_id, router_row) = match (existing, existing_router) {
        (Some(e), Some(r)) => (e.id, r),
        _ => {
            let (e, r, key) = seed_fresh(db, secrets_box, secrets, router_addr, apikey_ttl).await?;
            secrets.empresa_id = Some(e.clone());
            secrets.router_id = Some(r.id.clone());
            secrets.api_key = Some(key);
            changed = true;
            (e, r)
        }
    };

    // The simulator's port changes on every run.
    let mut r = router_row.into_active_model();
    r.host = Set(router_addr.ip().to_string());
    r.puerto = Set(i32::from(router_addr.port()));
    r.usuario = Set(ROUTER_USER.into());
    r.password_encrypted =
        Set(secrets_box.encrypt(field::ROUTER_PASSWORD, &secrets.router_password));
    r.use_tls = Set(false);
    r.tls_fingerprint = Set(None);
    r.actualizado_en = Set(Utc::now());
    let router_row = r.update(db).await?;

    // The API key: reuse the saved one while it is still valid, otherwise issue a new one.
    let valid = match &secrets.api_key {
        Some(k) => key_is_valid(db, secrets, k, &router_row.id).await?,
        None => false,
    };
    if !valid {
        let key = crate::auth::api_key::issue(
            &router_row.id,
            &empresa_id,
            &secrets.jwt_apikey_secret,
            apikey_ttl,
        )?;
        let txn = crate::db::begin_write(db).await?;
        insert_key(&txn, &router_row, &key).await?;
        let mut r = router_row.clone().into_active_model();
        r.api_key_hash = Set(key.key_hash.clone());
        r.update(&txn).await?;
        txn.commit().await?;
        secrets.api_key = Some(key.api_key);
        changed = true;
    }

    ensure_admin(db, secrets, &empresa_id).await?;

    let products = producto::Entity::find()
        .filter(producto::Column::EmpresaId.eq(empresa_id.as_str()))
        .filter(producto::Column::RouterId.eq(router_row.id.as_str()))
        .filter(producto::Column::Activo.eq(true))
        .order_by_asc(producto::Column::OrdenVisual)
        .all(db)
        .await?;
    Ok((
        Seeded {
            empresa_id,
            router_id: router_row.id,
            api_key: secrets.api_key.clone().unwrap_or_default(),
            products,
        },
        changed,
    ))
}

async fn key_is_valid(
    db: &DatabaseConnection,
    secrets: &DemoSecrets,
    key: &str,
    router_id: &str,
) -> anyhow::Result<bool> {
    let Ok((hash, claims)) =
        crate::auth::api_key::decode(key, &secrets.jwt_apikey_secret, Utc::now())
    else {
        return Ok(false);
    };
    if claims.sub != router_id {
        return Ok(false);
    }
    let row = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .filter(api_key::Column::Revoked.eq(false))
        .one(db)
        .await?;
    Ok(row.is_some())
}

async fn seed_fresh(
    db: &DatabaseConnection,
    secrets_box: &SecretBox,
    secrets: &DemoSecrets,
    router_addr: SocketAddr,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(String, router::Model, String)> {
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let empresa = empresa::ActiveModel {
        id: Set(crate::wire::new_empresa_id()),
        nombre: Set(COMPANY_NAME.into()),
        contacto_email: Set(Some(secrets.admin_email.clone())),
        contacto_telefono: Set(None),
        logo_url: Set(None),
        conekta_private_key: Set(Some(
            secrets_box.encrypt(field::CONEKTA_PRIVATE_KEY, &secrets.conekta_private_key),
        )),
        conekta_public_key: Set(Some(secrets.conekta_public_key.clone())),
        conekta_mode: Set("test".into()),
        mercado_pago_access_token: Set(Some(
            secrets_box.encrypt(field::MP_ACCESS_TOKEN, &secrets.mp_access_token),
        )),
        mercado_pago_public_key: Set(Some(secrets.mp_public_key.clone())),
        mercado_pago_mode: Set("test".into()),
        mercado_pago_webhook_secret: Set(Some(
            secrets_box.encrypt(field::MP_WEBHOOK_SECRET, &secrets.mp_webhook_secret),
        )),
        conekta_webhook_key: Set(None),
        telegram_bot_token: Set(None),
        telegram_chat_id: Set(None),
        notificaciones_telegram: Set(false),
        activa: Set(true),
        creada_en: Set(now),
    }
    .insert(&txn)
    .await?;
    let (router_row, key) = create_router(
        &txn,
        secrets_box,
        NewRouter {
            empresa_id: empresa.id.clone(),
            nombre: "Router Demo".into(),
            host: router_addr.ip().to_string(),
            puerto: i32::from(router_addr.port()),
            usuario: ROUTER_USER.into(),
            password: secrets.router_password.clone(),
            ubicacion: Some("Simulador RouterOS (demo)".into()),
            use_tls: false,
            tls_fingerprint: None,
        },
        &secrets.jwt_apikey_secret,
        apikey_ttl,
    )
    .await?;
    for (i, (name, profile, price, desc, details)) in PLANS.iter().enumerate() {
        let orden = i32::try_from(i).unwrap_or(0) + 1;
        producto::ActiveModel {
            empresa_id: Set(empresa.id.clone()),
            router_id: Set(router_row.id.clone()),
            perfil_mikrotik_id: Set(sim_profile_id(profile)),
            perfil_mikrotik_nombre: Set((*profile).into()),
            nombre_venta: Set((*name).into()),
            descripcion: Set(Some((*desc).into())),
            imagen_url: Set(None),
            precio: Set(Decimal::from(*price)),
            moneda: Set("MXN".into()),
            detalles: Set(json!(details
                .iter()
                .map(|t| json!({ "texto": t }))
                .collect::<Vec<_>>())),
            activo: Set(true),
            orden_visual: Set(orden),
            destacado: Set(*profile == "1d"),
            creado_en: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok((empresa.id, router_row, key.api_key))
}

/// The company admin exists, is active and has the saved password.
async fn ensure_admin(
    db: &DatabaseConnection,
    secrets: &DemoSecrets,
    empresa_id: &str,
) -> anyhow::Result<()> {
    let found = usuario::Entity::find()
        .filter(usuario::Column::Email.eq(secrets.admin_email.as_str()))
        .one(db)
        .await?;
    let password = secrets.admin_password.clone();
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let matches = match stored {
        Some(hash) => {
            let pw = password.clone();
            matches!(
                tokio::task::spawn_blocking(move || verify_password(&hash, &pw)).await?,
                Verification::Valid { .. }
            )
        }
        None => false,
    };
    let hash = if matches {
        None
    } else {
        let pw = password.clone();
        Some(tokio::task::spawn_blocking(move || hash_password(&pw)).await??)
    };
    match found {
        Some(user) => {
            if hash.is_some() || !user.activo || user.empresa_id.as_deref() != Some(empresa_id) {
                let mut m = user.into_active_model();
                if let Some(h) = hash {
                    m.password_hash = Set(h);
                    m.password_changed_at = Set(Some(Utc::now()));
                }
                m.activo = Set(true);
                m.rol = Set(crate::auth::session::ROLE_CLIENTE_ADMIN.into());
                m.empresa_id = Set(Some(empresa_id.into()));
                m.update(db).await?;
            }
        }
        None => {
            usuario::ActiveModel {
                rol: Set(crate::auth::session::ROLE_CLIENTE_ADMIN.into()),
                empresa_id: Set(Some(empresa_id.into())),
                email: Set(secrets.admin_email.clone()),
                password_hash: Set(hash.unwrap_or_default()),
                nombre: Set("Admin WiFi Demo".into()),
                activo: Set(true),
                creado_en: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_profile_ids_follow_the_seed_order() {
        assert_eq!(sim_profile_id("1h"), "*2");
        assert_eq!(sim_profile_id("1d"), "*3");
        assert_eq!(sim_profile_id("1w"), "*4");
    }
}
