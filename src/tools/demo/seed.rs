//! The demo's seed: company, router, plans and admin, made once and kept up to date.

use std::net::SocketAddr;

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{DemoSecrets, COMPANY_NAME, ROUTER_USER};
use crate::auth::password::{hash_password, verify_password, Verification};
use crate::crypto::SecretBox;
use crate::db::api_keys;
use crate::db::empresas::{self, NewEmpresa};
use crate::db::productos::{self, NewProducto, Producto};
use crate::db::routers::{self, create_router, NewRouter, Router, RouterPatch};
use crate::db::usuarios::{self, NewUsuario, Role};
use crate::ids::{EmpresaId, RouterId};
use crate::sandbox::routeros_sim::default_seed_profiles;

/// What the seed produced (or found).
#[derive(Debug, Clone)]
pub struct Seeded {
    pub empresa_id: String,
    pub router_id: String,
    pub api_key: String,
    pub products: Vec<Producto>,
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
        Some(id) => empresas::find(db, EmpresaId(id)).await?,
        None => None,
    };
    let existing_router = match (&existing, &secrets.router_id) {
        (Some(_), Some(id)) => routers::find(db, RouterId(id)).await?,
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
    let patch = RouterPatch {
        host: Some(router_addr.ip().to_string()),
        puerto: Some(i32::from(router_addr.port())),
        usuario: Some(ROUTER_USER.into()),
        password: Some(secrets.router_password.clone()),
        use_tls: Some(false),
        tls_fingerprint: Some(None),
        ..Default::default()
    };
    let router_row = routers::update(db, secrets_box, router_row, patch).await?;

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
        let router = RouterId(&router_row.id);
        api_keys::insert(&txn, EmpresaId(&empresa_id), router, &key).await?;
        routers::set_api_key_hash(&txn, router, &key.key_hash).await?;
        txn.commit().await?;
        secrets.api_key = Some(key.api_key);
        changed = true;
    }

    ensure_admin(db, secrets, &empresa_id).await?;

    let products =
        productos::list_for_sale(db, EmpresaId(&empresa_id), RouterId(&router_row.id)).await?;
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
    Ok(api_keys::find_active_by_hash(db, &hash).await?.is_some())
}

async fn seed_fresh(
    db: &DatabaseConnection,
    secrets_box: &SecretBox,
    secrets: &DemoSecrets,
    router_addr: SocketAddr,
    apikey_ttl: std::time::Duration,
) -> anyhow::Result<(String, Router, String)> {
    let txn = crate::db::begin_write(db).await?;
    let new = NewEmpresa {
        contacto_email: Some(secrets.admin_email.clone()),
        conekta_private_key: Some(secrets.conekta_private_key.clone()),
        conekta_public_key: Some(secrets.conekta_public_key.clone()),
        mercado_pago_access_token: Some(secrets.mp_access_token.clone()),
        mercado_pago_public_key: Some(secrets.mp_public_key.clone()),
        mercado_pago_webhook_secret: Some(secrets.mp_webhook_secret.clone()),
        ..NewEmpresa::named(COMPANY_NAME)
    };
    let empresa = empresas::insert(&txn, secrets_box, new).await?;
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
        let new = NewProducto {
            empresa_id: empresa.id.clone(),
            router_id: router_row.id.clone(),
            perfil_mikrotik_id: sim_profile_id(profile),
            perfil_mikrotik_nombre: (*profile).into(),
            nombre_venta: (*name).into(),
            descripcion: Some((*desc).into()),
            imagen_url: None,
            precio: Decimal::from(*price),
            moneda: "MXN".into(),
            detalles: json!(details
                .iter()
                .map(|t| json!({ "texto": t }))
                .collect::<Vec<_>>()),
            activo: true,
            orden_visual: orden,
            destacado: *profile == "1d",
            plan: Default::default(),
        };
        productos::insert(&txn, new).await?;
    }
    txn.commit().await?;
    Ok((empresa.id, router_row, key.api_key))
}

/// A demo login: who it is and what it may do.
struct Login<'a> {
    email: &'a str,
    password: &'a str,
    rol: Role,
    empresa_id: Option<&'a str>,
    nombre: &'a str,
}

/// The company admin and the operator exist, are active and have the saved passwords.
async fn ensure_admin(
    db: &DatabaseConnection,
    secrets: &DemoSecrets,
    empresa_id: &str,
) -> anyhow::Result<()> {
    ensure_login(
        db,
        Login {
            email: &secrets.admin_email,
            password: &secrets.admin_password,
            rol: Role::ClienteAdmin,
            empresa_id: Some(empresa_id),
            nombre: "Admin WiFi Demo",
        },
    )
    .await?;
    if let (Some(email), Some(password)) = (&secrets.operator_email, &secrets.operator_password) {
        ensure_login(
            db,
            Login {
                email,
                password,
                rol: Role::SuperAdmin,
                empresa_id: None,
                nombre: "Operador Demo",
            },
        )
        .await?;
    }
    Ok(())
}

async fn ensure_login(db: &DatabaseConnection, login: Login<'_>) -> anyhow::Result<()> {
    let found = usuarios::find_by_email_with_empresa(db, login.email)
        .await?
        .map(|(u, _)| u);
    let password = login.password.to_string();
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
    let empresa = login.empresa_id.map(str::to_string);
    match found {
        Some(user) => {
            if hash.is_some() || !user.activo || user.empresa_id != empresa || user.rol != login.rol
            {
                usuarios::reassign(db, user, login.rol, empresa, hash).await?;
            }
        }
        None => {
            let new = NewUsuario {
                rol: login.rol,
                empresa_id: empresa,
                email: login.email.to_string(),
                password_hash: hash.unwrap_or_default(),
                nombre: login.nombre.into(),
            };
            usuarios::insert(db, new).await?;
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
