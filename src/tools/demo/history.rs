//! A month of finished purchases for the demo, so the console's dashboard draws real curves on
//! the first run: every day of the last 30 (in the company's time zone, the current day up to
//! now) gets a few purchases through both gateways, most completed, some declined, a few
//! refunded. Completed and refunded ones have their `transacciones` row, as the saga leaves
//! them; declined ones have none (the saga records no payment for them).
//!
//! Made once, when the company has no transaction yet; deterministic (a fixed seed), so two
//! fresh demos show the same history.

use chrono::{DateTime, Duration, Utc};
use entity::purchase::{GatewayKind, SagaState};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::db::productos::Producto;
use crate::db::{purchases, transacciones};
use crate::ids::EmpresaId;

/// Days of history.
pub const HISTORY_DAYS: i64 = 30;

const NAMES: [&str; 8] = [
    "Ana López",
    "Luis Pérez",
    "María García",
    "José Hernández",
    "Carmen Ruiz",
    "Jorge Díaz",
    "Sofía Torres",
    "Diego Ramírez",
];

/// How a seeded purchase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Completed,
    Declined,
    Refunded,
}

fn ending(rng: &mut StdRng) -> Ending {
    match rng.gen_range(0..100) {
        0..=79 => Ending::Completed,
        80..=93 => Ending::Declined,
        _ => Ending::Refunded,
    }
}

/// What a seeded purchase buys: product id, price, currency.
#[derive(Debug, Clone)]
struct Plan {
    id: i32,
    precio: Decimal,
    moneda: String,
}

/// The seeded purchases and their `transacciones` rows.
fn build(
    empresa_id: &str,
    router_id: &str,
    plans: &[Plan],
    now: DateTime<Utc>,
) -> (
    Vec<entity::purchase::Model>,
    Vec<transacciones::Transaccion>,
) {
    let mut rng = StdRng::seed_from_u64(17);
    let mut bought = vec![];
    let mut paid = vec![];
    for days_ago in (0..HISTORY_DAYS).rev() {
        // Weekends sell more; a slow upward trend over the month.
        let day = now - Duration::days(days_ago);
        let base = 3 + (HISTORY_DAYS - days_ago) / 6;
        let n = base + rng.gen_range(0..4);
        for i in 0..n {
            let secs = rng.gen_range(0..86_400);
            let at = (day - Duration::seconds(secs)).min(now - Duration::minutes(i + 1));
            let plan = &plans[rng.gen_range(0..plans.len())];
            let gateway = if rng.gen_bool(0.55) {
                GatewayKind::Conekta
            } else {
                GatewayKind::MercadoPago
            };
            let end = ending(&mut rng);
            let name = NAMES[rng.gen_range(0..NAMES.len())];
            let p = purchase(empresa_id, router_id, plan, gateway, end, name, at);
            if end != Ending::Declined {
                paid.push(transaction(&p, end));
            }
            bought.push(p);
        }
    }
    (bought, paid)
}

fn purchase(
    empresa_id: &str,
    router_id: &str,
    plan: &Plan,
    gateway: GatewayKind,
    end: Ending,
    name: &str,
    at: DateTime<Utc>,
) -> entity::purchase::Model {
    let id = uuid::Uuid::new_v4().to_string();
    let (state, status) = match (end, gateway) {
        (Ending::Completed, GatewayKind::Conekta) => (SagaState::Completed, "paid"),
        (Ending::Completed, _) => (SagaState::Completed, "approved"),
        (Ending::Declined, GatewayKind::Conekta) => (SagaState::Declined, "declined"),
        (Ending::Declined, _) => (SagaState::Declined, "rejected"),
        (Ending::Refunded, _) => (SagaState::Refunded, "refunded"),
    };
    let email = format!(
        "{}@example.com",
        name.split(' ')
            .next()
            .unwrap_or("cliente")
            .to_lowercase()
            .replace(['á', 'é', 'í', 'ó', 'ú'], "")
    );
    entity::purchase::Model {
        empresa_id: empresa_id.into(),
        router_id: router_id.into(),
        producto_id: plan.id,
        gateway,
        state,
        amount: plan.precio,
        currency: plan.moneda.clone(),
        user_type: "usuario_contrasena".into(),
        hotspot_username: (end != Ending::Declined).then(|| format!("demo{}", &id[..6])),
        hotspot_password: None,
        router_user_id: None,
        customer_name: name.into(),
        customer_email: email,
        customer_phone: None,
        mac_address: None,
        ip_address: None,
        auto_connect: false,
        idempotency_key: None,
        card_token_hash: None,
        gateway_reference: None,
        gateway_payment_id: Some(match gateway {
            GatewayKind::Conekta => format!("ord_demo{}", &id[..8]),
            _ => format!(
                "{}",
                90_000_000 + u32::from_str_radix(&id[..6], 16).unwrap_or(0)
            ),
        }),
        gateway_status: Some(status.into()),
        response_status: Some(if end == Ending::Declined { 402 } else { 200 }),
        response_body: None,
        last_error: None,
        attempts: 1,
        next_attempt_at: None,
        locked_until: None,
        created_at: at,
        updated_at: at + Duration::seconds(3),
        // Plans without validity or budget: nothing for the expiry job to do.
        usage_minutes: None,
        validity_minutes: None,
        validity_from: None,
        data_limit_mb: None,
        expires_at: None,
        ended_at: None,
        uptime_used_secs: None,
        bytes_used: None,
        id,
    }
}

fn transaction(p: &entity::purchase::Model, end: Ending) -> transacciones::Transaccion {
    let status = p.gateway_status.clone().unwrap_or_default();
    transacciones::Transaccion {
        id: 0,
        transaccion_id: p.gateway_payment_id.clone(),
        external_reference: (p.gateway == GatewayKind::MercadoPago).then(|| p.id.clone()),
        empresa_id: p.empresa_id.clone(),
        router_id: p.router_id.clone(),
        producto_id: Some(p.producto_id),
        purchase_id: Some(p.id.clone()),
        gateway: Some(p.gateway.as_str().into()),
        monto: p.amount,
        monto_reembolsado: (end == Ending::Refunded).then_some(p.amount),
        moneda: p.currency.clone(),
        cliente_nombre: Some(p.customer_name.clone()),
        cliente_email: Some(p.customer_email.clone()),
        cliente_telefono: None,
        usuario_hotspot: p.hotspot_username.clone(),
        password_hotspot: None,
        expiracion_hotspot: None,
        estado_pago: status,
        estado_hotspot: if end == Ending::Refunded {
            "revoked".into()
        } else {
            "active".into()
        },
        notification_id: None,
        webhook_processed: false,
        metadata_json: json!({"gateway": p.gateway, "purchase_id": p.id, "demo": true}),
        api_key_usada: None,
        creada_en: p.created_at,
        pagada_en: Some(p.created_at + Duration::seconds(2)),
        usuario_creado_en: Some(p.created_at),
        webhook_received_at: None,
    }
}

/// Seeds the history once: returns how many purchases were added (0 when the company already
/// has transactions, or no plan to sell).
pub async fn seed_history(
    db: &DatabaseConnection,
    empresa_id: &str,
    router_id: &str,
    plans: &[Producto],
) -> anyhow::Result<usize> {
    if plans.is_empty() || transacciones::count(db, EmpresaId(empresa_id)).await? > 0 {
        return Ok(0);
    }
    let plans: Vec<Plan> = plans
        .iter()
        .map(|p| Plan {
            id: p.id,
            precio: p.precio,
            moneda: p.moneda.clone(),
        })
        .collect();
    let (bought, paid) = build(empresa_id, router_id, &plans, Utc::now());
    let txn = crate::db::begin_write(db).await?;
    purchases::insert_history(&txn, bought.clone()).await?;
    transacciones::insert_history(&txn, paid).await?;
    txn.commit().await?;
    Ok(bought.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: i32, precio: i64) -> Plan {
        Plan {
            id,
            precio: Decimal::from(precio),
            moneda: "MXN".into(),
        }
    }

    #[test]
    fn a_month_of_finished_purchases_in_every_ending() {
        let now = Utc::now();
        let (bought, paid) = build("E", "R", &[plan(1, 15), plan(2, 50)], now);
        let first = now - Duration::days(HISTORY_DAYS);
        assert!(bought
            .iter()
            .all(|p| p.created_at > first && p.created_at < now));
        assert!(bought.iter().all(|p| p.state.is_terminal()));
        for s in [
            SagaState::Completed,
            SagaState::Declined,
            SagaState::Refunded,
        ] {
            assert!(bought.iter().any(|p| p.state == s), "{s:?}");
        }
        let declined = bought
            .iter()
            .filter(|p| p.state == SagaState::Declined)
            .count();
        assert_eq!(paid.len(), bought.len() - declined);
        assert!(paid.iter().any(|t| t.gateway.as_deref() == Some("conekta")));
        assert!(paid
            .iter()
            .any(|t| t.gateway.as_deref() == Some("mercado_pago")));
        assert!(paid.iter().all(|t| t.monto > Decimal::ZERO));
    }
}
