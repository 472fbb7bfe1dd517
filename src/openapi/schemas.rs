//! Doc-only schema types: the request bodies as the wire accepts them, for the handlers that
//! parse their bodies by hand (`web::Payload`, or `JsonBody` with Spanish aliases; their parsing
//! code stays as it is). Referenced by the handlers' `#[utoipa::path(request_body(...))]`, and
//! inlined there; never constructed.
//!
//! A field that the original accepted under a Spanish alias is listed under both names, each
//! description naming the other: both are accepted and the alias wins when both are sent. The
//! aliases are the ones the handler's parser applies ([`FieldAliases::ALIASES`]).

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::wire::{CONEKTA_PAYMENT_ALIASES, MP_PAYMENT_ALIASES};

/// The body of `POST /api/v1/auth/login`.
#[derive(ToSchema)]
pub struct Login {
    /// Account e-mail.
    #[schema(format = Email)]
    pub email: String,
    /// Password.
    pub password: String,
}

/// The body of `POST /api/v1/auth/change-password`.
#[derive(ToSchema)]
pub struct ChangePassword {
    /// Current password.
    pub current_password: String,
    /// New password.
    pub new_password: String,
}

/// The body of `POST /admin/empresas`.
#[derive(ToSchema)]
pub struct NewEmpresa {
    /// Company name.
    pub nombre: String,
    /// Contact e-mail.
    pub contacto_email: String,
    /// Contact phone.
    pub contacto_telefono: Option<String>,
    /// Private key (`key_…`), stored encrypted; empty or absent leaves it unchanged.
    pub conekta_private_key: Option<String>,
    /// Public key for Conekta.js.
    pub conekta_public_key: Option<String>,
    /// `test` or `live`; absent leaves it unchanged.
    #[schema(inline)]
    pub conekta_mode: Option<GatewayMode>,
}

/// The body of `PUT /admin/empresas/{empresa_id}`.
#[derive(ToSchema)]
pub struct EmpresaUpdate {
    /// Company name.
    pub nombre: Option<String>,
    /// Contact e-mail.
    pub contacto_email: Option<String>,
    /// Contact phone (`null` clears it).
    pub contacto_telefono: Option<String>,
    /// Active.
    pub activa: Option<bool>,
}

/// The body of `POST /admin/empresas/{empresa_id}/routers`.
#[derive(ToSchema)]
pub struct NewRouter {
    /// Ignored: the path wins.
    pub empresa_id: Option<String>,
    /// Router name.
    pub nombre: String,
    /// RouterOS API host.
    pub host: String,
    /// RouterOS API port (default 8728).
    pub puerto: Option<i64>,
    /// RouterOS API user.
    pub usuario: String,
    /// RouterOS API password (stored encrypted).
    pub password: String,
    /// Location.
    pub ubicacion: Option<String>,
    /// Use API-SSL.
    pub use_tls: Option<bool>,
    /// SHA-256 fingerprint of the router's certificate (pinning).
    pub tls_fingerprint: Option<String>,
}

/// The body of `POST /admin/usuarios`.
#[derive(ToSchema)]
pub struct NewUsuario {
    /// E-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Name.
    pub nombre: String,
    /// Role.
    #[schema(inline)]
    pub rol: Role,
    /// Company (required for cliente_admin).
    pub empresa_id: Option<String>,
}

/// The body of `POST /api/v1/admin/test-telegram`.
#[derive(ToSchema)]
pub struct TestTelegram {
    /// Bot token (default: the stored one).
    pub token: Option<String>,
    /// Chat id (default: the stored one).
    pub chat_id: Option<String>,
}

/// The body of `PUT /api/v1/admin/mi-empresa`.
#[derive(ToSchema)]
pub struct MiEmpresaUpdate {
    /// Company name.
    pub nombre: Option<String>,
    /// Contact e-mail.
    pub contacto_email: Option<String>,
    /// Contact phone.
    pub contacto_telefono: Option<String>,
    /// Telegram bot token (stored encrypted).
    pub telegram_bot_token: Option<String>,
    /// Telegram chat id.
    pub telegram_chat_id: Option<String>,
    /// Send sale notifications.
    pub notificaciones_telegram: Option<bool>,
    /// What the service does with a hotspot user whose plan expired: `eliminar` (remove it,
    /// the default) or `deshabilitar` (disable it).
    #[schema(inline)]
    pub al_expirar: Option<OnExpiry>,
    /// IANA time zone the dashboard counts days in (default `America/Mexico_City`).
    pub zona_horaria: Option<String>,
}

/// The body of `POST /api/v1/admin/mi-empresa/transacciones/{id}/reembolso` (optional).
#[derive(ToSchema)]
pub struct RefundRequest {
    /// Amount to refund (> 0, two decimals, at most what is left); absent: everything left,
    /// which revokes the access. Also accepted as `amount`.
    pub monto: Option<f64>,
    /// Why (audited). Also accepted as `reason`.
    pub motivo: Option<String>,
}

/// `al_expirar`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OnExpiry {
    Eliminar,
    Deshabilitar,
}

/// The body of `POST /api/v1/admin/routers/{router_id}/portal.zip`.
#[derive(ToSchema)]
pub struct PortalZipBody {
    /// A live API key of that router (`jwt_…`), as it was shown when made.
    pub api_key: String,
}

/// The body of `PUT /api/v1/admin/mi-empresa/conekta-config` and `POST /api/v1/admin/mi-empresa/configurar-conekta`.
#[derive(ToSchema)]
pub struct ConektaKeys {
    /// Private key (`key_…`), stored encrypted; empty or absent leaves it unchanged.
    pub conekta_private_key: Option<String>,
    /// Public key for Conekta.js.
    pub conekta_public_key: Option<String>,
    /// `test` or `live`; absent leaves it unchanged.
    #[schema(inline)]
    pub conekta_mode: Option<GatewayMode>,
}

/// The body of `PUT /api/v1/admin/mi-empresa/conekta-webhook-key`.
#[derive(ToSchema)]
pub struct ConektaWebhookKey {
    /// PEM public key; `null` or `""` clears it.
    pub public_key_pem: String,
}

/// The body of `POST /api/v1/admin/mi-empresa/configurar-credenciales` and `POST /api/v1/payments/configurar-credenciales`.
#[derive(ToSchema)]
pub struct MercadoPagoCredentials {
    /// Access token, stored encrypted; `""` deletes it.
    pub access_token: Option<String>,
    /// Webhook signing secret, stored encrypted; `""` deletes it.
    pub webhook_secret: Option<String>,
    /// Public key for the card form.
    pub public_key: Option<String>,
    /// `test` or `live`.
    #[schema(inline)]
    pub mode: Option<GatewayMode>,
    /// Telegram bot token, stored encrypted.
    pub telegram_bot_token: Option<String>,
    /// Telegram chat id.
    pub telegram_chat_id: Option<String>,
    /// Send sale notifications to Telegram.
    pub notificaciones_telegram: Option<bool>,
}

/// The `multipart/form-data` body of `POST /api/v1/admin/mi-empresa/logo`.
#[derive(ToSchema)]
pub struct LogoUpload {
    /// The image file (jpg, png or webp).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The body of `PUT /api/v1/admin/mi-empresa/routers/{router_id}`.
#[derive(ToSchema)]
pub struct RouterUpdate {
    /// Router name.
    pub nombre: Option<String>,
    /// RouterOS API host.
    pub host: Option<String>,
    /// RouterOS API port.
    pub puerto: Option<i64>,
    /// RouterOS API user.
    pub usuario: Option<String>,
    /// The RouterOS password in plaintext (the original's field name); stored encrypted.
    pub password_encrypted: Option<String>,
    /// Location.
    pub ubicacion: Option<String>,
    /// Use API-SSL.
    pub use_tls: Option<bool>,
    /// SHA-256 certificate fingerprint.
    pub tls_fingerprint: Option<String>,
}

/// The fields of a product that `POST` and `PUT /api/v1/admin/products…` share.
#[derive(ToSchema)]
pub struct ProductFields {
    /// Name shown to buyers.
    pub nombre_venta: String,
    /// Description.
    pub descripcion: Option<String>,
    /// Image URL.
    pub imagen_url: Option<String>,
    /// Price (> 0, two decimals).
    pub precio: f64,
    /// Currency (default MXN).
    #[schema(inline)]
    pub moneda: Option<Currency>,
    /// Bullet points, each an object such as `{"texto": "…"}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub detalles: Option<Vec<serde_json::Value>>,
    /// Offered in the catalogue (default true).
    pub activo: Option<bool>,
    /// Sort key (ascending).
    pub orden_visual: Option<i64>,
    /// Highlighted.
    pub destacado: Option<bool>,
    /// Total logged-in minutes the plan gives (the hotspot user's `limit-uptime`); `null`: no
    /// budget. Also accepted as `usage_minutes` (the Spanish name wins when both are sent).
    pub minutos_uso: Option<i64>,
    /// Wall-clock validity in minutes; `null`: none. Also accepted as `validity_minutes`.
    pub vigencia_minutos: Option<i64>,
    /// When the validity starts: `compra` (default) or `primer_login`; `purchase` and
    /// `first_login` are accepted too. Also accepted as `validity_from`.
    #[schema(inline)]
    pub vigencia_desde: Option<ValidityFrom>,
    /// Data budget in megabytes of 10^6 bytes (the user's `limit-bytes-total`); `null`: none.
    /// Also accepted as `data_limit_mb`.
    pub limite_mb: Option<i64>,
}

/// When a plan's validity starts.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ValidityFrom {
    Compra,
    PrimerLogin,
    Purchase,
    FirstLogin,
}

/// The fields only `POST /api/v1/admin/products` takes: where the product is sold.
#[derive(ToSchema)]
pub struct ProductTarget {
    /// One of the company's routers.
    pub router_id: String,
    /// RouterOS `.id` of the hotspot user profile, e.g. `*2`.
    pub perfil_mikrotik_id: String,
    /// Name of the hotspot user profile, e.g. `1h`.
    pub perfil_mikrotik_nombre: String,
}

/// The body of `POST /api/v1/admin/products`: [`ProductTarget`] and [`ProductFields`].
pub struct NewProduct;

impl PartialSchema for NewProduct {
    fn schema() -> RefOr<Schema> {
        joined([ProductTarget::schema(), ProductFields::schema()], &[])
    }
}

impl ToSchema for NewProduct {}

/// The body of `PUT /api/v1/admin/products/{producto_id}`: [`ProductFields`], every key optional
/// (`null` clears `descripcion` and `imagen_url`).
pub struct ProductUpdate;

impl PartialSchema for ProductUpdate {
    fn schema() -> RefOr<Schema> {
        let mut schema = ProductFields::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required.clear();
        }
        schema
    }
}

impl ToSchema for ProductUpdate {}

/// The body of `POST /api/v1/hotspot/auto-reconnect`.
#[derive(ToSchema)]
pub struct AutoReconnect {
    /// Hotspot user name.
    pub username: String,
    /// Ignored by the original.
    pub password: Option<String>,
    /// Ignored.
    pub stored_mac: Option<String>,
    /// The device's current MAC.
    pub current_mac: String,
    /// The device's current IP.
    pub current_ip: Option<String>,
    /// Ignored.
    pub current_ssid: Option<String>,
}

/// The body of `POST /api/v1/hotspot/user/profile-info`.
#[derive(ToSchema)]
pub struct ProfileInfo {
    /// Hotspot user name.
    pub username: String,
    /// Password (absent or null for a PIN).
    pub password: Option<String>,
}

/// The body of `POST /api/v1/webhook/empresa/{empresa_id}/configurar-webhook`.
#[derive(ToSchema)]
pub struct WebhookSecret {
    /// The secret (stored encrypted).
    pub webhook_secret: String,
}

/// The fields both purchases share (under their English names; see [`joined`]).
#[derive(ToSchema)]
pub struct PurchaseFields {
    /// Buyer's name (at most 100 characters).
    pub customer_name: String,
    /// Buyer's e-mail.
    #[schema(format = Email)]
    pub customer_email: String,
    /// Buyer's phone (at most 20 characters).
    pub customer_phone: Option<String>,
    /// Kind of hotspot credentials: `usuario_contrasena` (default) or `pin`.
    #[schema(inline)]
    pub user_type: Option<UserType>,
    /// The device's MAC (MikroTik `$(mac)`), for auto-connect.
    pub mac_address: Option<String>,
    /// The device's IP (MikroTik `$(ip)`), for auto-connect.
    pub ip_address: Option<String>,
    /// Free text about the device (accepted, unused).
    pub device_info: Option<String>,
    /// Log the device in by MAC after the purchase (default false).
    pub auto_connect: Option<bool>,
}

/// The fields only `POST /api/v1/payments/pagar-conekta` takes.
#[derive(ToSchema)]
pub struct ConektaFields {
    /// Product to buy (from the catalogue).
    pub product_id: i64,
    /// Conekta.js card token (`tok_…`).
    pub card_token: String,
}

/// The fields only `POST /api/v1/payments/pagar-mercado-pago` takes.
#[derive(ToSchema)]
pub struct MercadoPagoFields {
    /// Product to buy (from the catalogue).
    pub product_id: i64,
    /// Mercado Pago card token (from `POST /v1/card_tokens`).
    pub token: String,
    /// Card brand, e.g. `visa`, `master`.
    pub payment_method_id: String,
    /// Card issuer id (a JSON string).
    pub issuer_id: Option<String>,
    /// Amount; must equal the product's price within 0.01.
    pub transaction_amount: f64,
    /// Installments (default 1).
    pub installments: Option<i64>,
    /// Mercado Pago device fingerprint.
    pub device_id: Option<String>,
    /// Accepted and ignored: the payer is built from name, e-mail and phone.
    #[schema(value_type = Option<Object>)]
    pub payer: Option<serde_json::Value>,
}

/// The body of `POST /api/v1/payments/pagar-conekta`: [`ConektaFields`] and [`PurchaseFields`].
pub struct PagarConekta;

impl PartialSchema for PagarConekta {
    fn schema() -> RefOr<Schema> {
        joined(
            [ConektaFields::schema(), PurchaseFields::schema()],
            CONEKTA_PAYMENT_ALIASES,
        )
    }
}

impl ToSchema for PagarConekta {}

/// The body of `POST /api/v1/payments/pagar-mercado-pago`: [`MercadoPagoFields`] and
/// [`PurchaseFields`].
pub struct PagarMercadoPago;

impl PartialSchema for PagarMercadoPago {
    fn schema() -> RefOr<Schema> {
        joined(
            [MercadoPagoFields::schema(), PurchaseFields::schema()],
            MP_PAYMENT_ALIASES,
        )
    }
}

impl ToSchema for PagarMercadoPago {}

/// One object with the properties of `parts`, each field that has an alias (`(alias,
/// canonical)`) listed under both names. A required aliased field is required under either
/// name, so neither is listed as required; its descriptions say so.
fn joined(parts: [RefOr<Schema>; 2], aliases: &[(&str, &str)]) -> RefOr<Schema> {
    let mut body = ObjectBuilder::new().schema_type(Type::Object);
    for part in parts {
        let RefOr::T(Schema::Object(part)) = part else {
            continue;
        };
        for (name, mut property) in part.properties {
            let required = part.required.contains(&name);
            let Some((alias, _)) = aliases.iter().find(|(_, canonical)| *canonical == name) else {
                body = body.property(&name, property);
                if required {
                    body = body.required(&name);
                }
                continue;
            };
            let desc = description(&mut property)
                .and_then(Option::take)
                .unwrap_or_default();
            let req = if required {
                format!(" Required, as `{name}` or `{alias}`.")
            } else {
                String::new()
            };
            let mut alias_property = property.clone();
            if let Some(d) = description(&mut property) {
                *d = Some(format!(
                    "{desc}{req} Spanish alias: `{alias}` (the alias wins when both are sent)."
                ));
            }
            if let Some(d) = description(&mut alias_property) {
                *d = Some(format!(
                    "Alias of `{name}`; the alias wins when both are sent. {desc}{req}"
                ));
            }
            body = body
                .property(&name, property)
                .property(*alias, alias_property);
        }
    }
    body.into()
}

/// A property schema's description, for the kinds of schema that have one.
fn description(schema: &mut RefOr<Schema>) -> Option<&mut Option<String>> {
    match schema {
        RefOr::T(Schema::Array(s)) => Some(&mut s.description),
        RefOr::T(Schema::OneOf(s)) => Some(&mut s.description),
        RefOr::T(Schema::AllOf(s)) => Some(&mut s.description),
        RefOr::T(Schema::AnyOf(s)) => Some(&mut s.description),
        RefOr::T(Schema::Object(s)) => Some(&mut s.description),
        _ => None,
    }
}

/// Kind of hotspot credentials.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum UserType {
    usuario_contrasena,
    pin,
}

/// A gateway account's mode.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum GatewayMode {
    test,
    live,
}

/// A price's currency.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum Currency {
    MXN,
    USD,
    EUR,
}

/// An admin account's role.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum Role {
    super_admin,
    cliente_admin,
}

/// A report's output format.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum ReportFormat {
    json,
    csv,
}

/// The paging of a list (query parameters).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size (bounded).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// The query of a gateway's notification.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// The company the notification is for (part of the webhook URL configured at the gateway).
    pub empresa_id: String,
}

/// A file `/docs/{file}` serves (one of [`crate::openapi::DOC_ASSETS`]).
pub struct DocAsset;

impl PartialSchema for DocAsset {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(crate::openapi::DOC_ASSETS.iter().copied()))
            .into()
    }
}

impl ToSchema for DocAsset {}
