//! One source row into one row of this service's schema: NULL booleans become what the
//! original's code made of them, secrets are encrypted under the `MASTER_KEY`, states and modes
//! are normalised. An `Err` is the reason the row is skipped.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{QueryResult, TryGetable};
use serde_json::{json, Value};

use entity::{api_key, empresa, producto, router, transaccion, usuario};

use super::report::{ImportReport, Reenter};
use super::secrets::{Opened, Unsealer};
use crate::crypto::{field, SecretBox};
use crate::db::usuarios::Role;

/// A row's conversion: the new row, or why it is skipped.
pub type Converted<T> = Result<T, String>;

/// What every conversion needs.
pub struct Convert<'a> {
    pub secrets: &'a SecretBox,
    pub unsealer: &'a Unsealer,
    /// Stands in for a missing creation time of a company, router, product or admin.
    pub now: DateTime<Utc>,
}

fn get<T: TryGetable>(row: &QueryResult, col: &str) -> Converted<Option<T>> {
    row.try_get::<Option<T>>("", col)
        .map_err(|e| format!("column {col} unreadable: {e}"))
}

fn text(row: &QueryResult, col: &str) -> Converted<Option<String>> {
    get::<String>(row, col)
}

fn required(row: &QueryResult, col: &str) -> Converted<String> {
    text(row, col)?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{col} is empty"))
}

fn ts(row: &QueryResult, col: &str) -> Converted<Option<DateTime<Utc>>> {
    Ok(get::<NaiveDateTime>(row, col)?.map(|n| n.and_utc()))
}

/// A nullable boolean as the original's code acted on it: `if not x` treats NULL as false, a
/// filter `x = false` (the key's `revoked`) does not match NULL either.
fn flag(row: &QueryResult, col: &str, when_null: bool) -> Converted<bool> {
    Ok(get::<bool>(row, col)?.unwrap_or(when_null))
}

/// `test` | `live` from the original's free-text mode.
fn mode(raw: Option<String>, what: &str, id: &str, report: &mut ImportReport) -> String {
    let norm = raw.as_deref().map(|m| m.trim().to_ascii_lowercase());
    match norm.as_deref() {
        None | Some("" | "test" | "sandbox") => "test".into(),
        Some("live" | "production" | "prod" | "produccion" | "producción") => {
            if norm.as_deref() != Some("live") {
                let raw = raw.as_deref().unwrap_or_default();
                report
                    .notes
                    .push(format!("empresa {id}: {what} {raw:?} imported as \"live\""));
            }
            "live".into()
        }
        Some(_) => {
            let raw = raw.as_deref().unwrap_or_default();
            report.notes.push(format!(
                "empresa {id}: unknown {what} {raw:?} imported as \"test\""
            ));
            "test".into()
        }
    }
}

impl Convert<'_> {
    /// Encrypts a secret column, or lists it to be re-entered.
    fn secret(
        &self,
        stored: Option<String>,
        label: &'static str,
        empresa_id: &str,
        report: &mut ImportReport,
    ) -> Option<String> {
        match self.unsealer.open(stored.as_deref()) {
            Opened::Empty => None,
            Opened::Plain(p) => Some(self.secrets.encrypt(label, &p)),
            Opened::Lost(reason) => {
                report.reenter.push(Reenter {
                    empresa_id: empresa_id.to_string(),
                    field: label,
                    reason,
                });
                None
            }
        }
    }

    pub fn empresa(
        &self,
        row: &QueryResult,
        report: &mut ImportReport,
    ) -> Converted<empresa::Model> {
        let id = required(row, "id")?;
        let activa = get::<bool>(row, "activa")?;
        if activa.is_none() {
            report.notes.push(format!(
                "empresa {id}: activa was NULL (the original refused its keys): imported inactive"
            ));
        }
        Ok(empresa::Model {
            nombre: required(row, "nombre")?,
            contacto_email: text(row, "contacto_email")?,
            contacto_telefono: text(row, "contacto_telefono")?,
            logo_url: text(row, "logo_url")?.filter(|u| !u.trim().is_empty()),
            conekta_private_key: self.secret(
                text(row, "conekta_private_key")?,
                field::CONEKTA_PRIVATE_KEY,
                &id,
                report,
            ),
            conekta_public_key: text(row, "conekta_public_key")?.filter(|k| !k.trim().is_empty()),
            conekta_mode: mode(text(row, "conekta_mode")?, "conekta_mode", &id, report),
            mercado_pago_access_token: self.secret(
                text(row, "mercado_pago_access_token")?,
                field::MP_ACCESS_TOKEN,
                &id,
                report,
            ),
            mercado_pago_public_key: text(row, "mercado_pago_public_key")?
                .filter(|k| !k.trim().is_empty()),
            mercado_pago_mode: mode(
                text(row, "mercado_pago_mode")?,
                "mercado_pago_mode",
                &id,
                report,
            ),
            mercado_pago_webhook_secret: self.secret(
                text(row, "mercado_pago_webhook_secret")?,
                field::MP_WEBHOOK_SECRET,
                &id,
                report,
            ),
            conekta_webhook_key: None,
            telegram_bot_token: self.secret(
                text(row, "telegram_bot_token")?,
                field::TELEGRAM_BOT_TOKEN,
                &id,
                report,
            ),
            telegram_chat_id: text(row, "telegram_chat_id")?,
            notificaciones_telegram: flag(row, "notificaciones_telegram", false)?,
            activa: activa.unwrap_or(false),
            creada_en: ts(row, "creada_en")?.unwrap_or(self.now),
            // The original had no such setting: expired users are removed, the default.
            al_expirar: crate::db::empresas::AL_EXPIRAR_ELIMINAR.into(),
            // The original had no time zone setting: its market's zone (editable afterwards).
            zona_horaria: crate::db::empresas::DEFAULT_ZONA_HORARIA.into(),
            id,
        })
    }

    pub fn usuario(&self, row: &QueryResult) -> Converted<usuario::Model> {
        let rol_text = required(row, "rol")?;
        let rol =
            Role::parse(rol_text.trim()).ok_or_else(|| format!("unknown rol {rol_text:?}"))?;
        let empresa_id = text(row, "empresa_id")?;
        match (rol, &empresa_id) {
            (Role::ClienteAdmin, None) => return Err("cliente_admin without empresa".into()),
            (Role::SuperAdmin, Some(_)) => return Err("super_admin tied to an empresa".into()),
            _ => {}
        }
        Ok(usuario::Model {
            id: get::<i32>(row, "id")?.ok_or("id is NULL")?,
            rol,
            empresa_id,
            email: required(row, "email")?,
            password_hash: required(row, "password_hash")?,
            nombre: text(row, "nombre")?.unwrap_or_default(),
            activo: flag(row, "activo", false)?,
            ultimo_login: ts(row, "ultimo_login")?,
            creado_en: ts(row, "creado_en")?.unwrap_or(self.now),
            password_changed_at: None,
        })
    }

    pub fn router(&self, row: &QueryResult) -> Converted<router::Model> {
        let password = text(row, "password_encrypted")?.unwrap_or_default();
        let creado_en = ts(row, "creado_en")?.unwrap_or(self.now);
        Ok(router::Model {
            id: required(row, "id")?,
            empresa_id: required(row, "empresa_id")?,
            nombre: text(row, "nombre")?.unwrap_or_default(),
            host: required(row, "host")?,
            puerto: get::<i32>(row, "puerto")?.unwrap_or(8728),
            usuario: required(row, "usuario")?,
            password_encrypted: self.secrets.encrypt(field::ROUTER_PASSWORD, &password),
            ubicacion: text(row, "ubicacion")?,
            api_key_hash: required(row, "api_key_hash")?,
            activo: flag(row, "activo", false)?,
            use_tls: false,
            tls_fingerprint: None,
            creado_en,
            actualizado_en: creado_en,
        })
    }

    pub fn api_key(&self, row: &QueryResult) -> Converted<api_key::Model> {
        let issued_at = ts(row, "issued_at")?.ok_or("issued_at is NULL")?;
        Ok(api_key::Model {
            key_id: required(row, "key_id")?,
            empresa_id: required(row, "empresa_id")?,
            router_id: required(row, "router_id")?,
            key_hash: required(row, "key_hash")?,
            issued_at,
            expires_at: ts(row, "expires_at")?.ok_or("expires_at is NULL")?,
            // The original looked keys up with `revoked = false`: NULL never matched.
            revoked: flag(row, "revoked", true)?,
            revoked_at: None,
            last_used: ts(row, "last_used")?,
            use_count: i64::from(get::<i32>(row, "use_count")?.unwrap_or(0)),
        })
    }

    pub fn producto(&self, row: &QueryResult) -> Converted<producto::Model> {
        Ok(producto::Model {
            id: get::<i32>(row, "id")?.ok_or("id is NULL")?,
            empresa_id: required(row, "empresa_id")?,
            router_id: required(row, "router_id")?,
            perfil_mikrotik_id: text(row, "perfil_mikrotik_id")?.unwrap_or_default(),
            perfil_mikrotik_nombre: required(row, "perfil_mikrotik_nombre")?,
            nombre_venta: required(row, "nombre_venta")?,
            descripcion: text(row, "descripcion")?,
            imagen_url: text(row, "imagen_url")?,
            precio: get::<Decimal>(row, "precio")?.ok_or("precio is NULL")?,
            moneda: text(row, "moneda")?.unwrap_or_else(|| "MXN".into()),
            detalles: get::<Value>(row, "detalles")?.unwrap_or_else(|| json!([])),
            activo: flag(row, "activo", false)?,
            orden_visual: get::<i32>(row, "orden_visual")?.unwrap_or(0),
            destacado: flag(row, "destacado", false)?,
            creado_en: ts(row, "creado_en")?.unwrap_or(self.now),
            // The original's plans were only a profile: no validity or budget.
            minutos_uso: None,
            vigencia_minutos: None,
            vigencia_desde: None,
            limite_mb: None,
        })
    }

    pub fn transaccion(&self, row: &QueryResult) -> Converted<transaccion::Model> {
        let transaccion_id = text(row, "transaccion_id")?;
        let external_reference = text(row, "external_reference")?;
        let pagada_en = ts(row, "pagada_en")?;
        let usuario_creado_en = ts(row, "usuario_creado_en")?;
        // creada_en is nullable there: fall back on the payment's other instants.
        let creada_en = ts(row, "creada_en")?
            .or(pagada_en)
            .or(usuario_creado_en)
            .ok_or("no creation time (creada_en, pagada_en and usuario_creado_en are NULL)")?;
        Ok(transaccion::Model {
            id: get::<i32>(row, "id")?.ok_or("id is NULL")?,
            gateway: gateway(transaccion_id.as_deref(), external_reference.as_deref()),
            transaccion_id,
            external_reference,
            empresa_id: required(row, "empresa_id")?,
            router_id: required(row, "router_id")?,
            producto_id: get::<i32>(row, "producto_id")?,
            purchase_id: None,
            monto: get::<Decimal>(row, "monto")?.ok_or("monto is NULL")?,
            monto_reembolsado: None,
            moneda: text(row, "moneda")?.unwrap_or_else(|| "MXN".into()),
            cliente_nombre: text(row, "cliente_nombre")?,
            cliente_email: text(row, "cliente_email")?,
            cliente_telefono: text(row, "cliente_telefono")?,
            usuario_hotspot: text(row, "usuario_hotspot")?,
            password_hotspot: text(row, "password_hotspot")?
                .map(|p| self.secrets.encrypt(field::HOTSPOT_PASSWORD, &p)),
            expiracion_hotspot: ts(row, "expiracion_hotspot")?,
            estado_pago: estado_pago(text(row, "estado_pago")?),
            estado_hotspot: estado_hotspot(text(row, "estado_hotspot")?),
            notification_id: text(row, "notification_id")?,
            webhook_processed: flag(row, "webhook_processed", false)?,
            metadata_json: get::<Value>(row, "metadata_json")?.unwrap_or_else(|| json!({})),
            api_key_usada: text(row, "api_key_usada")?,
            creada_en,
            pagada_en,
            usuario_creado_en,
            webhook_received_at: ts(row, "webhook_received_at")?,
        })
    }
}

/// `conekta` for a Conekta order id, `mercado_pago` for an MP payment (numeric id or an
/// external reference, which only MP rows have), unknown otherwise.
fn gateway(transaccion_id: Option<&str>, external_reference: Option<&str>) -> Option<String> {
    match transaccion_id {
        Some(t) if t.starts_with("ord_") => Some("conekta".into()),
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            Some("mercado_pago".into())
        }
        _ if external_reference.is_some() => Some("mercado_pago".into()),
        _ => None,
    }
}

/// The gateway's status as this service stores it (the same vocabulary): lower case, NULL →
/// `pending` (the original's default).
pub fn estado_pago(raw: Option<String>) -> String {
    let s = raw
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "pending".into());
    s.chars().take(20).collect()
}

/// The access state: `active` (also the older docs' `created`), `failed`, `pending` for NULL.
pub fn estado_hotspot(raw: Option<String>) -> String {
    let s = raw
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "pending".into());
    match s.as_str() {
        "created" => "active".into(),
        _ => s.chars().take(20).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_gateways() {
        assert_eq!(estado_pago(None), "pending");
        assert_eq!(estado_pago(Some(" Approved ".into())), "approved");
        assert_eq!(estado_pago(Some("in_process".into())), "in_process");
        assert_eq!(estado_hotspot(Some("created".into())), "active");
        assert_eq!(estado_hotspot(None), "pending");
        assert_eq!(
            gateway(Some("ord_2yNp8B"), None).as_deref(),
            Some("conekta")
        );
        assert_eq!(
            gateway(Some("1325897"), None).as_deref(),
            Some("mercado_pago")
        );
        assert_eq!(
            gateway(None, Some("HS123")).as_deref(),
            Some("mercado_pago")
        );
        assert_eq!(gateway(None, None), None);
    }

    #[test]
    fn modes() {
        let mut r = ImportReport::default();
        assert_eq!(mode(Some("production".into()), "m", "E", &mut r), "live");
        assert_eq!(mode(None, "m", "E", &mut r), "test");
        assert_eq!(mode(Some("weird".into()), "m", "E", &mut r), "test");
        assert_eq!(r.notes.len(), 2);
    }
}
