//! The wire shapes of the payment responses (the original system's keys and status codes).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::Utc;
use serde_json::{json, Map, Value};

use entity::{producto, purchase};

use crate::error::{ApiError, Problem};
use crate::gateways::messages::MP_PENDING_WARNING;
use crate::gateways::PaymentSnapshot;
use crate::wire;

use super::GatewayKind;

/// A status and JSON body (success, or a problem of the [`crate::error::catalogue`]),
/// optionally with `Retry-After`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: 200,
            body,
            retry_after: None,
        }
    }
    pub fn into_http(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut b = HttpResponse::build(status);
        if let Some(s) = self.retry_after {
            b.insert_header(("Retry-After", s.to_string()));
        }
        b.json(self.body)
    }
}

/// An error answer (its problem's code is logged here).
impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        let (status, body, retry_after) = e.answer();
        Reply {
            status: status.as_u16(),
            body,
            retry_after,
        }
    }
}

impl From<Problem> for Reply {
    fn from(p: Problem) -> Self {
        ApiError::Problem(p).into()
    }
}

pub const MSG_NOT_REQUESTED: &str = "Favor de ingresar sus credenciales para conectar a Internet";
pub const MSG_NOT_CONNECTED: &str =
    "No se pudo conectar automáticamente. Use las credenciales para conectar a Internet";
pub const MSG_SLOW: &str =
    "El servicio está tardando en responder. Use las credenciales para conectarse a internet";
pub const MSG_CONNECTED: &str = "¡Conexión establecida con éxito! Disfrute de Internet sin límites";

/// `auto_conexion` when auto-connect was not requested.
pub fn auto_not_requested() -> Value {
    json!({"estado":"no_conectado","mac":"","ip":"","mensaje":MSG_NOT_REQUESTED,"verificado":false})
}

/// `auto_conexion` when it was requested without a MAC.
pub fn auto_no_mac() -> Value {
    json!({"estado":"no_conectado","mac":"","ip":"","mensaje":MSG_NOT_CONNECTED,"verificado":false})
}

/// `auto_conexion` after a failed attempt (`slow`: the router timed out).
pub fn auto_failed(mac: &str, ip: &str, slow: bool) -> Value {
    json!({
        "estado": "no_conectado",
        "mac": mac,
        "ip": ip,
        "mensaje": if slow { MSG_SLOW } else { MSG_NOT_CONNECTED },
        "verificado": false,
    })
}

/// `auto_conexion` after a successful login.
pub fn auto_connected(mac: &str, ip: &str) -> Value {
    json!({
        "estado": "conectado",
        "mac": mac,
        "ip": ip,
        "mensaje": MSG_CONNECTED,
        "verificado": true,
        "session_id": Value::Null,
    })
}

/// The 200 body of a paid (or, for Mercado Pago, pending) purchase.
pub fn success_body(
    p: &purchase::Model,
    producto: Option<&producto::Model>,
    password: &str,
    payment: Option<&PaymentSnapshot>,
    auto_conexion: Value,
) -> Value {
    let is_mp = p.gateway == GatewayKind::MercadoPago;
    let estado_pago = match payment {
        Some(s) if is_mp => s.raw_status.clone(),
        _ if is_mp => "approved".to_string(),
        _ => "paid".to_string(),
    };
    let producto_json = json!({
        "nombre": producto.map(|x| x.nombre_venta.clone()).unwrap_or_default(),
        "precio": wire::money(p.amount),
        "moneda": p.currency,
        "perfil_mikrotik": producto.map(|x| x.perfil_mikrotik_nombre.clone()).unwrap_or_default(),
        // The plan as sold (copied to the purchase).
        "minutos_uso": p.usage_minutes,
        "vigencia_minutos": p.validity_minutes,
        "vigencia_desde": p.validity_from,
        "limite_mb": p.data_limit_mb,
    });
    let mut body = json!({
        "success": true,
        "id_transaccion": p.gateway_payment_id.clone().unwrap_or_default(),
        "estado_pago": estado_pago,
        "tipo_usuario": p.user_type,
        "usuario_hotspot": {
            "usuario": p.hotspot_username.clone().unwrap_or_default(),
            "contrasena": password,
        },
        "producto": producto_json,
        "cliente": { "nombre": p.customer_name, "email": p.customer_email },
        "timestamp": wire::iso(Utc::now()),
        "auto_conexion": auto_conexion,
        // When the access ends: set at purchase for a validity from the purchase; `null` until
        // the first login for one from the first login, and for plans without a validity.
        "expiracion_hotspot": p.expires_at.map(wire::iso),
    });
    if is_mp {
        body["mercado_pago"] = mp_object(p, payment);
        if estado_pago == "pending" || estado_pago == "in_process" {
            body["advertencia"] = json!(MP_PENDING_WARNING);
        }
    }
    body
}

/// Keys of the Mercado Pago payment copied into `raw_response` (no payer, card or token data).
const RAW_WHITELIST: &[&str] = &[
    "id",
    "status",
    "status_detail",
    "transaction_amount",
    "currency_id",
    "date_created",
    "date_approved",
    "date_last_updated",
    "payment_method_id",
    "payment_type_id",
    "installments",
    "external_reference",
    "description",
    "binary_mode",
];

fn mp_object(p: &purchase::Model, payment: Option<&PaymentSnapshot>) -> Value {
    let raw = payment.map(|s| &s.raw).cloned().unwrap_or(Value::Null);
    let id = p
        .gateway_payment_id
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .map(Value::from)
        .unwrap_or(Value::Null);
    let status = payment
        .map(|s| s.raw_status.clone())
        .unwrap_or_else(|| "approved".into());
    let pending = status == "pending" || status == "in_process";
    let installments = raw.get("installments").cloned().unwrap_or(json!(1));
    let pm_id = raw.get("payment_method_id").cloned().unwrap_or(Value::Null);
    let pm_type = raw.get("payment_type_id").cloned().unwrap_or(Value::Null);
    let payment_method = if pending {
        json!({ "id": pm_id, "type": pm_type })
    } else {
        json!({
            "id": pm_id,
            "type": pm_type,
            "issuer": raw.get("issuer_id").cloned().unwrap_or(Value::Null),
            "last_four_digits": raw.get("card").and_then(|c| c.get("last_four_digits")).cloned().unwrap_or(Value::Null),
            "installments": installments,
        })
    };
    let raw_response = if pending {
        json!({})
    } else {
        let mut m = Map::new();
        for k in RAW_WHITELIST {
            if let Some(v) = raw.get(*k) {
                m.insert((*k).to_string(), v.clone());
            }
        }
        Value::Object(m)
    };
    json!({
        "payment_id": id,
        "status": status,
        "status_detail": payment.and_then(|s| s.status_detail.clone()).unwrap_or_default(),
        "installments": installments,
        "payment_method": payment_method,
        "raw_response": raw_response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_conexion_shapes() {
        let v = auto_not_requested();
        assert_eq!(v["mensaje"], MSG_NOT_REQUESTED);
        assert!(v.get("session_id").is_none());
        let c = auto_connected("AA:BB:CC:DD:EE:FF", "10.0.0.2");
        assert_eq!(c["estado"], "conectado");
        assert!(c["session_id"].is_null());
        assert!(c.as_object().unwrap().contains_key("session_id"));
        let f = auto_failed("AA:BB:CC:DD:EE:FF", "", true);
        assert_eq!(f["mensaje"], MSG_SLOW);
        assert!(f.get("session_id").is_none());
    }
}
