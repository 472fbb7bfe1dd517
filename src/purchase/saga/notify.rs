//! Telegram notifications of sales and rejections.

use entity::{empresa, purchase};

use crate::crypto::field;
use crate::gateways::telegram::{
    paid_message, rejected_message, HotspotAccess, Notification, PurchaseInfo,
};
use crate::state::AppState;

pub(super) fn purchase_info(
    empresa: &empresa::Model,
    p: &purchase::Model,
    plan: &str,
) -> PurchaseInfo {
    PurchaseInfo {
        empresa: empresa.nombre.clone(),
        plan: plan.to_string(),
        amount: p.amount,
        currency: p.currency.clone(),
        customer: p.customer_name.clone(),
        transaction_id: p.gateway_payment_id.clone().unwrap_or_else(|| p.id.clone()),
        gateway: if p.gateway == crate::purchase::GatewayKind::Conekta {
            "Conekta".into()
        } else {
            "Mercado Pago".into()
        },
    }
}

pub(super) fn send(state: &AppState, empresa: &empresa::Model, text: String) {
    if !empresa.notificaciones_telegram {
        return;
    }
    let (Some(token), Some(chat)) = (
        empresa.telegram_bot_token.as_deref(),
        empresa.telegram_chat_id.as_deref(),
    ) else {
        return;
    };
    let Ok(token) = state.secrets.decrypt(field::TELEGRAM_BOT_TOKEN, token) else {
        tracing::warn!(empresa_id = %empresa.id, "cannot decrypt the Telegram bot token");
        return;
    };
    state.notifier.notify(Notification {
        bot_token: token.to_string(),
        chat_id: chat.to_string(),
        text,
    });
}

pub(super) fn notify_paid(
    state: &AppState,
    empresa: &empresa::Model,
    p: &purchase::Model,
    plan: Option<&str>,
) {
    if !empresa.notificaciones_telegram {
        return;
    }
    let access = if p.user_type == "pin" {
        HotspotAccess::Pin
    } else {
        HotspotAccess::UserPassword {
            username: p.hotspot_username.clone().unwrap_or_default(),
        }
    };
    // The plan name, when the caller does not have it, is looked up only when notifications
    // are on.
    let state_db = state.db.clone();
    let info_base = (empresa.clone(), p.clone(), plan.map(str::to_string));
    let notifier_state = (state.secrets.clone(), state.notifier.clone());
    tokio::spawn(async move {
        let (empresa, p, known_plan) = info_base;
        let plan = match known_plan {
            Some(name) => name,
            None => crate::db::productos::find(&state_db, p.producto_id)
                .await
                .ok()
                .flatten()
                .map(|x| x.nombre_venta)
                .unwrap_or_default(),
        };
        let text = paid_message(&purchase_info(&empresa, &p, &plan), &access);
        let (secrets, notifier) = notifier_state;
        let (Some(token), Some(chat)) = (
            empresa.telegram_bot_token.as_deref(),
            empresa.telegram_chat_id.as_deref(),
        ) else {
            return;
        };
        if let Ok(token) = secrets.decrypt(field::TELEGRAM_BOT_TOKEN, token) {
            notifier.notify(Notification {
                bot_token: token.to_string(),
                chat_id: chat.to_string(),
                text,
            });
        }
    });
}

pub(super) fn notify_rejected(
    state: &AppState,
    empresa: &empresa::Model,
    p: &purchase::Model,
    plan: &str,
    motivo: &str,
) {
    if empresa.notificaciones_telegram {
        send(
            state,
            empresa,
            rejected_message(&purchase_info(empresa, p, plan), motivo),
        );
    }
}
