//! The catalogue of the service's problems: every handled error answer, in one place.
//!
//! Each [`Problem`] has its HTTP status, its exact Spanish `detail` (byte for byte the original
//! system's: clients match on these texts) and a stable snake_case code, logged when the problem
//! is answered. Field problems (a Spanish message about one body field) answer with the
//! Pydantic-style 422 list instead of a string `detail`.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::auth::password::MIN_PASSWORD_LEN;
use crate::gateways::GatewayError;
use crate::routeros::{BrokerError, RouterError};
use crate::wire::MAX_IDEMPOTENCY_KEY;

use super::FieldError;

/// The field and the input a field problem is about (`loc = ["body", field]`).
#[derive(Debug, Clone, PartialEq)]
pub struct BadField {
    pub field: String,
    pub input: Value,
}

impl BadField {
    pub fn new(field: &str, input: Value) -> Self {
        Self {
            field: field.to_string(),
            input,
        }
    }
}

/// Every problem the service answers with.
#[derive(Debug, Clone)]
pub enum Problem {
    // ---- generic
    /// An unexpected failure (the cause is logged, never sent).
    Internal,
    /// A hidden or unknown route.
    NotFound,
    /// A rate limit was hit.
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// The request body could not be read.
    InvalidBody,
    /// The JSON body is over the size limit.
    BodyTooLarge,

    // ---- authentication and roles
    /// No `Authorization: Bearer` credential.
    NotAuthenticated,
    /// An `Authorization` header that is not a bearer credential.
    InvalidAuthScheme,
    /// `/metrics` without its token.
    MetricsNotAuthenticated,
    ApiKeyMalformed,
    ApiKeyExpired,
    ApiKeyInvalid,
    /// The API key's company is switched off.
    ApiKeyEmpresaInactive,
    SessionExpired,
    SessionInvalid,
    SessionRevoked,
    SessionUserInactive,
    /// A company admin's session or login while an operator has deactivated the company.
    SessionEmpresaInactive,
    SuperAdminRequired,
    ClienteAdminRequired,
    UserWithoutEmpresa,
    /// Wrong e-mail or password at login.
    LoginFailed,
    WrongCurrentPassword,
    NewPasswordLength,

    // ---- users (super admin)
    UserNotFound,
    EmailTaken,
    InvalidRole,
    ClienteAdminNeedsEmpresa,
    SuperAdminWithEmpresa,
    PasswordLength {
        max: usize,
    },
    CannotDeactivateSelf,

    // ---- companies
    EmpresaNotFound,
    EmpresaInactive,
    TelegramCredentialsMissing,
    TelegramFailed,
    /// The Telegram test message could not reach Telegram (timeout, network, Telegram's 5xx).
    TelegramUnreachable,
    WebhookSecretRequired,
    TransactionNotFound,
    LogoFormatNotAllowed,
    LogoTooLarge,
    MultipartInvalid,
    LogoSaveFailed,

    // ---- routers and API keys
    /// A router id unknown to the broker or the product filter.
    RouterNotFound,
    /// A router that is not the session's company's (cliente_admin routes).
    RouterNotOwned,
    /// A router that is not the given company's (super_admin routes).
    RouterNotInEmpresa,
    /// A router that is not the company's (product routes).
    RouterNotOursForProducts,
    RouterInactive,
    RouterCredentialsMissing,
    RouterHasProducts {
        count: u64,
    },
    RegenerateInactiveRouter,
    ApiKeyNotFound,
    ApiKeyAlreadyRevoked,
    /// `portal.zip` with a key that is not a live key of that router.
    PortalKeyNotOfRouter,
    /// `setup.rsc` / `setup-check` with a `source` that is not an IPv4 address or CIDR block.
    SetupSourceInvalid,
    /// A broker refusal or failure.
    Router(BrokerError),
    /// A failed profile listing (the original's prefixed texts).
    RouterProfiles(BrokerError),
    /// A live hotspot session (`/ip/hotspot/active` `.id`) the router does not have.
    SessionNotFound,
    /// An admin refund of a transaction that is not paid (or already fully refunded).
    RefundNotAllowed,
    /// An admin refund larger than what is left to refund.
    RefundTooLarge {
        left: String,
    },
    /// Another refund or the purchase's saga holds the transaction right now.
    RefundInProgress,

    // ---- products
    ProductNotFound,
    ProductNotOwned,
    ProductNotAvailable,
    ProductDuplicate {
        perfil: String,
        router_id: String,
    },
    /// The router answered and has no hotspot profile of that name.
    ProductProfileNotOnRouter {
        perfil: String,
    },

    // ---- payments and purchases
    ConektaNotConfigured,
    MercadoPagoNotConfigured,
    CardTokenInvalid,
    IdempotencyKeyInvalid,
    IdempotencyKeyTooLong,
    IdempotencyKeyMismatch,
    CardTokenReused,
    AmountMismatch {
        sent: f64,
        expected: rust_decimal::Decimal,
    },
    /// The product's currency is not one the company's gateway account can charge (`account`:
    /// the account's currency, empty when unknown).
    CurrencyNotChargeable {
        currency: String,
        account: String,
    },
    PaymentNotFound,
    PaymentLookupFailed(GatewayError),
    /// The gateway refused or failed a charge: its status and Spanish message.
    Gateway(GatewayError),
    /// A payment could not be read again for a notification.
    GatewayUpdateUnavailable(GatewayError),
    /// A declined, expired or otherwise unpaid payment, with the gateway status's message.
    PaymentNotApproved {
        message: String,
    },
    PurchaseInProgress,
    PaymentConfirming,
    /// The gateway did not say whether it charged (timeout, 5xx): the saga finds out later.
    ChargeOutcomeUnknown,
    AccessActivating,
    RefundedNoAccess,
    HotspotUserExists,
    /// The product's hotspot profile is not on its router (the portal learns nothing of the
    /// router's profiles).
    HotspotProfileMissing,
    /// The router refused the new user (its reason is logged, never sent to the portal).
    HotspotUserCreateFailed,
    WebhookSignatureInvalid,
    WebhookBodyInvalid,
    WebhookBusy,

    // ---- field problems (422 lists)
    InvalidCurrency,
    InvalidHost(BadField),
    InvalidPort(BadField),
    InvalidPrice(BadField),
    InvalidMac(BadField),
    InvalidIp(BadField),
    InvalidInstallments(BadField),
    InvalidAmount(BadField),
    InvalidTlsFingerprint(BadField),
    InvalidConektaMode(BadField),
    InvalidTelegramToken(BadField),
    InvalidPublicKey(BadField),
    NullField(BadField),
}

use Problem as P;

/// A problem's status, code and detail.
type Spec = (StatusCode, &'static str, Cow<'static, str>);

impl Problem {
    /// Status, code and detail, as one table.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per problem: a table whose exhaustive match the compiler checks"
    )]
    fn spec(&self) -> Spec {
        use StatusCode as S;
        fn s(status: StatusCode, code: &'static str, text: &'static str) -> Spec {
            (status, code, Cow::Borrowed(text))
        }
        fn f(status: StatusCode, code: &'static str, text: String) -> Spec {
            (status, code, Cow::Owned(text))
        }
        match self {
            P::Internal => s(S::INTERNAL_SERVER_ERROR, "internal", "Error interno del servidor."),
            P::NotFound => s(S::NOT_FOUND, "not_found", "Not Found"),
            P::TooManyRequests { .. } => s(
                S::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Demasiadas solicitudes. Intente más tarde.",
            ),
            P::InvalidBody => s(S::BAD_REQUEST, "invalid_body", "Cuerpo de la solicitud inválido"),
            P::BodyTooLarge => s(
                S::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "El cuerpo de la solicitud es demasiado grande",
            ),

            P::NotAuthenticated => s(S::FORBIDDEN, "not_authenticated", "Not authenticated"),
            P::InvalidAuthScheme => s(
                S::FORBIDDEN,
                "invalid_auth_scheme",
                "Invalid authentication credentials",
            ),
            P::MetricsNotAuthenticated => {
                s(S::UNAUTHORIZED, "metrics_not_authenticated", "Not authenticated")
            }
            P::ApiKeyMalformed => s(S::UNAUTHORIZED, "api_key_malformed", "Formato de API Key inválido"),
            P::ApiKeyExpired => s(S::UNAUTHORIZED, "api_key_expired", "API Key expirada"),
            P::ApiKeyInvalid => s(S::UNAUTHORIZED, "api_key_invalid", "API Key no válida o revocada"),
            P::ApiKeyEmpresaInactive => s(S::UNAUTHORIZED, "api_key_empresa_inactive", "Empresa no activa"),
            P::SessionExpired => s(S::UNAUTHORIZED, "session_expired", "Token expirado"),
            P::SessionInvalid => s(S::UNAUTHORIZED, "session_invalid", "Token inválido"),
            P::SessionRevoked => s(S::UNAUTHORIZED, "session_revoked", "Token revocado"),
            P::SessionUserInactive => s(S::UNAUTHORIZED, "session_user_inactive", "Usuario no activo"),
            P::SessionEmpresaInactive => s(S::UNAUTHORIZED, "session_empresa_inactive", "Empresa no activa"),
            P::SuperAdminRequired => s(S::FORBIDDEN, "super_admin_required", "Se requiere rol SUPER_ADMIN"),
            P::ClienteAdminRequired => {
                s(S::FORBIDDEN, "cliente_admin_required", "Se requiere rol CLIENTE_ADMIN")
            }
            P::UserWithoutEmpresa => s(S::BAD_REQUEST, "user_without_empresa", "Usuario sin empresa asociada"),
            P::LoginFailed => s(S::UNAUTHORIZED, "login_failed", "Credenciales incorrectas"),
            P::WrongCurrentPassword => {
                s(S::BAD_REQUEST, "wrong_current_password", "Contraseña actual incorrecta")
            }
            P::NewPasswordLength => f(
                S::BAD_REQUEST,
                "new_password_length",
                format!("La nueva contraseña debe tener entre {MIN_PASSWORD_LEN} y 256 caracteres"),
            ),

            P::UserNotFound => s(S::NOT_FOUND, "user_not_found", "Usuario no encontrado"),
            P::EmailTaken => s(S::BAD_REQUEST, "email_taken", "El email ya está registrado"),
            P::InvalidRole => s(
                S::BAD_REQUEST,
                "invalid_role",
                "Rol inválido. Debe ser 'super_admin' o 'cliente_admin'",
            ),
            P::ClienteAdminNeedsEmpresa => s(
                S::BAD_REQUEST,
                "cliente_admin_needs_empresa",
                "cliente_admin requiere empresa_id",
            ),
            P::SuperAdminWithEmpresa => s(
                S::BAD_REQUEST,
                "super_admin_with_empresa",
                "super_admin no debe tener empresa_id",
            ),
            P::PasswordLength { max } => f(
                S::BAD_REQUEST,
                "password_length",
                format!("La contraseña debe tener entre {MIN_PASSWORD_LEN} y {max} caracteres"),
            ),
            P::CannotDeactivateSelf => s(
                S::BAD_REQUEST,
                "cannot_deactivate_self",
                "No puedes desactivar tu propio usuario",
            ),

            P::EmpresaNotFound => s(S::NOT_FOUND, "empresa_not_found", "Empresa no encontrada"),
            P::EmpresaInactive => s(S::BAD_REQUEST, "empresa_inactive", "Empresa inactiva"),
            P::TelegramCredentialsMissing => s(
                S::BAD_REQUEST,
                "telegram_credentials_missing",
                "Faltan credenciales (Token o Chat ID)",
            ),
            P::TelegramFailed => s(
                S::BAD_REQUEST,
                "telegram_failed",
                "Error de Telegram. Verifica que el Token sea válido y que hayas iniciado chat con el bot.",
            ),
            P::TelegramUnreachable => s(
                S::BAD_GATEWAY,
                "telegram_unreachable",
                "Error de Telegram. Verifica que el Token sea válido y que hayas iniciado chat con el bot.",
            ),
            P::WebhookSecretRequired => {
                s(S::BAD_REQUEST, "webhook_secret_required", "webhook_secret es requerido")
            }
            P::TransactionNotFound => s(S::NOT_FOUND, "transaction_not_found", "Transaction not found"),
            P::LogoFormatNotAllowed => {
                s(S::BAD_REQUEST, "logo_format_not_allowed", "Formato de imagen no permitido")
            }
            P::LogoTooLarge => s(
                S::PAYLOAD_TOO_LARGE,
                "logo_too_large",
                "El archivo es demasiado grande. Tamaño máximo permitido: 2 MB",
            ),
            P::MultipartInvalid => s(S::BAD_REQUEST, "multipart_invalid", "Cuerpo multipart inválido"),
            P::LogoSaveFailed => {
                s(S::INTERNAL_SERVER_ERROR, "logo_save_failed", "Error al guardar el archivo")
            }

            P::RouterNotFound => s(S::NOT_FOUND, "router_not_found", "Router no encontrado"),
            P::RouterNotOwned => s(
                S::NOT_FOUND,
                "router_not_owned",
                "Router no encontrado o no pertenece a tu empresa",
            ),
            P::RouterNotInEmpresa => s(
                S::NOT_FOUND,
                "router_not_in_empresa",
                "Router no encontrado o no pertenece a la empresa",
            ),
            P::RouterNotOursForProducts => s(
                S::NOT_FOUND,
                "router_not_ours_for_products",
                "Router no encontrado o no pertenece a esta empresa",
            ),
            P::RouterInactive => s(
                S::BAD_REQUEST,
                "router_inactive",
                "El router está inactivo. Actívalo primero desde el panel.",
            ),
            P::RouterCredentialsMissing => s(
                S::BAD_REQUEST,
                "router_credentials_missing",
                "El router no tiene credenciales configuradas completas (host, usuario, contraseña)",
            ),
            P::RouterHasProducts { count } => f(
                S::BAD_REQUEST,
                "router_has_products",
                format!("No se puede eliminar el router porque tiene {count} producto(s) asociado(s)"),
            ),
            P::RegenerateInactiveRouter => s(
                S::BAD_REQUEST,
                "regenerate_inactive_router",
                "No se puede regenerar API key de un router inactivo",
            ),
            P::ApiKeyNotFound => s(S::NOT_FOUND, "api_key_not_found", "API Key no encontrada"),
            P::RefundNotAllowed => s(
                S::CONFLICT,
                "refund_not_allowed",
                "Esta transacción no se puede reembolsar: no está pagada o ya se reembolsó por completo.",
            ),
            P::RefundTooLarge { left } => f(
                S::BAD_REQUEST,
                "refund_too_large",
                format!("El monto excede lo que queda por reembolsar ({left})."),
            ),
            P::RefundInProgress => s(
                S::CONFLICT,
                "refund_in_progress",
                "La transacción se está procesando. Intente de nuevo en unos segundos.",
            ),
            P::SessionNotFound => s(
                S::NOT_FOUND,
                "session_not_found",
                "Sesión no encontrada en el router",
            ),
            P::ApiKeyAlreadyRevoked => {
                s(S::BAD_REQUEST, "api_key_already_revoked", "La API Key ya está revocada")
            }
            P::PortalKeyNotOfRouter => s(
                S::UNPROCESSABLE_ENTITY,
                "portal_key_not_of_router",
                "La API key no es una key vigente de este router",
            ),
            P::SetupSourceInvalid => s(
                S::UNPROCESSABLE_ENTITY,
                "setup_source_invalid",
                "Dirección de origen inválida: use direcciones IPv4 o bloques CIDR separados por comas",
            ),
            P::Router(e) => (broker_status(e), broker_code(e), Cow::Borrowed(broker_detail(e))),
            P::RouterProfiles(e) => match e {
                BrokerError::Busy { .. } | BrokerError::Disabled | BrokerError::UnknownRouter => {
                    (broker_status(e), broker_code(e), Cow::Borrowed(broker_detail(e)))
                }
                BrokerError::Router(_) => f(
                    S::INTERNAL_SERVER_ERROR,
                    "router_profiles_failed",
                    format!("{PROFILES_PREFIX}{}", broker_detail(e)),
                ),
                other => f(
                    S::SERVICE_UNAVAILABLE,
                    "router_profiles_unavailable",
                    format!("{PROFILES_PREFIX}{}", broker_detail(other)),
                ),
            },

            P::ProductNotFound => s(S::NOT_FOUND, "product_not_found", "Producto no encontrado"),
            P::ProductNotOwned => s(
                S::NOT_FOUND,
                "product_not_owned",
                "Producto no encontrado o no pertenece a esta empresa",
            ),
            P::ProductNotAvailable => s(
                S::NOT_FOUND,
                "product_not_available",
                "Producto no encontrado o no disponible",
            ),
            P::ProductDuplicate { perfil, router_id } => f(
                S::CONFLICT,
                "product_duplicate",
                format!(
                    "Ya existe un producto con el perfil '{perfil}' para este router ({router_id})"
                ),
            ),

            P::ProductProfileNotOnRouter { perfil } => f(
                S::BAD_REQUEST,
                "product_profile_not_on_router",
                format!(
                    "El perfil '{perfil}' no existe en el router. Créelo en el router o elija un perfil existente."
                ),
            ),

            P::ConektaNotConfigured => s(
                S::BAD_REQUEST,
                "conekta_not_configured",
                "La empresa no tiene configurado Conekta",
            ),
            P::MercadoPagoNotConfigured => s(
                S::BAD_REQUEST,
                "mercado_pago_not_configured",
                "La empresa no tiene configurado Mercado Pago",
            ),
            P::CardTokenInvalid => s(
                S::BAD_REQUEST,
                "card_token_invalid",
                "Token de tarjeta inválido o ya utilizado.",
            ),
            P::IdempotencyKeyInvalid => {
                s(S::UNPROCESSABLE_ENTITY, "idempotency_key_invalid", "Idempotency-Key inválida")
            }
            P::IdempotencyKeyTooLong => f(
                S::UNPROCESSABLE_ENTITY,
                "idempotency_key_too_long",
                format!("Idempotency-Key demasiado larga (máximo {MAX_IDEMPOTENCY_KEY} caracteres)"),
            ),
            P::IdempotencyKeyMismatch => s(
                S::UNPROCESSABLE_ENTITY,
                "idempotency_key_mismatch",
                "La clave Idempotency-Key ya se usó con una solicitud diferente.",
            ),
            P::CardTokenReused => s(
                S::CONFLICT,
                "card_token_reused",
                "Este token de tarjeta ya se usó en otra compra.",
            ),
            P::AmountMismatch { sent, expected } => f(
                S::BAD_REQUEST,
                "amount_mismatch",
                format!("El monto (${sent:.2}) no coincide con el producto (${expected:.2})"),
            ),
            P::CurrencyNotChargeable { currency, account } if account.is_empty() => f(
                S::BAD_REQUEST,
                "currency_not_chargeable",
                format!("La cuenta de pago de la empresa no puede cobrar en {currency}"),
            ),
            P::CurrencyNotChargeable { currency, account } => f(
                S::BAD_REQUEST,
                "currency_not_chargeable",
                format!(
                    "La cuenta de pago de la empresa cobra en {account} y no puede cobrar este producto en {currency}"
                ),
            ),
            P::PaymentNotFound => s(S::NOT_FOUND, "payment_not_found", "Pago no encontrado"),
            P::PaymentLookupFailed(e) => f(
                gateway_status(e),
                "payment_lookup_failed",
                format!("Error al consultar estado del pago: {}", e.message_es()),
            ),
            P::Gateway(e) => (gateway_status(e), gateway_code(e), Cow::Owned(e.message_es().to_string())),
            P::GatewayUpdateUnavailable(e) => f(
                S::SERVICE_UNAVAILABLE,
                "gateway_update_unavailable",
                e.message_es().to_string(),
            ),
            P::PaymentNotApproved { message } => {
                f(S::PAYMENT_REQUIRED, "payment_not_approved", message.clone())
            }
            P::PurchaseInProgress => s(
                S::CONFLICT,
                "purchase_in_progress",
                "La compra está en proceso. Intente de nuevo en unos segundos.",
            ),
            P::PaymentConfirming => s(
                S::SERVICE_UNAVAILABLE,
                "payment_confirming",
                "El pago fue recibido y se está confirmando. Intente de nuevo en unos segundos con la misma solicitud.",
            ),
            P::ChargeOutcomeUnknown => s(
                S::SERVICE_UNAVAILABLE,
                "charge_outcome_unknown",
                "Estamos confirmando el pago con el banco. Intente de nuevo en unos segundos con la misma solicitud; no se hará un segundo cargo.",
            ),
            P::AccessActivating => s(
                S::SERVICE_UNAVAILABLE,
                "access_activating",
                "El pago fue recibido; el acceso a internet se activará en breve. Intente de nuevo en unos segundos con la misma solicitud.",
            ),
            P::RefundedNoAccess => s(
                S::PAYMENT_REQUIRED,
                "refunded_no_access",
                "No se pudo activar el acceso a internet; el pago fue reembolsado.",
            ),
            P::HotspotUserExists => s(
                S::INTERNAL_SERVER_ERROR,
                "hotspot_user_exists",
                "No se pudo crear el usuario: El usuario ya existe en el sistema",
            ),
            P::HotspotProfileMissing => s(
                S::CONFLICT,
                "hotspot_profile_missing",
                "No se pudo crear el usuario: este plan no está disponible en este momento. Elija otro plan o avise al establecimiento.",
            ),
            P::HotspotUserCreateFailed => s(
                S::INTERNAL_SERVER_ERROR,
                "hotspot_user_create_failed",
                "No se pudo crear el usuario: Error en MikroTik",
            ),
            P::WebhookSignatureInvalid => {
                s(S::UNAUTHORIZED, "webhook_signature_invalid", "Firma del webhook inválida")
            }
            P::WebhookBodyInvalid => s(S::BAD_REQUEST, "webhook_body_invalid", "Cuerpo del webhook inválido"),
            P::WebhookBusy => s(
                S::SERVICE_UNAVAILABLE,
                "webhook_busy",
                "El pago se está procesando; reintente más tarde.",
            ),

            P::InvalidCurrency => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_currency",
                "Moneda no válida. Valores permitidos: MXN, USD, EUR",
            ),
            P::InvalidHost(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_host",
                "Host inválido: use una dirección IP o un nombre de host",
            ),
            P::InvalidPort(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_port",
                "Puerto inválido: debe estar entre 1 y 65535",
            ),
            P::InvalidPrice(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_price",
                "El precio debe ser mayor que 0, con a lo más dos decimales",
            ),
            P::InvalidMac(_) => s(S::UNPROCESSABLE_ENTITY, "invalid_mac", "Dirección MAC inválida"),
            P::InvalidIp(_) => s(S::UNPROCESSABLE_ENTITY, "invalid_ip", "Dirección IP inválida"),
            P::InvalidInstallments(_) => {
                s(S::UNPROCESSABLE_ENTITY, "invalid_installments", "Número de cuotas inválido")
            }
            P::InvalidAmount(_) => s(S::UNPROCESSABLE_ENTITY, "invalid_amount", "Monto inválido"),
            P::InvalidTlsFingerprint(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_tls_fingerprint",
                "Huella TLS inválida: SHA-256 en hexadecimal (64 dígitos)",
            ),
            P::InvalidConektaMode(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_conekta_mode",
                "conekta_mode debe ser 'test' o 'live'",
            ),
            P::InvalidTelegramToken(_) => {
                s(S::UNPROCESSABLE_ENTITY, "invalid_telegram_token", "Token de Telegram inválido")
            }
            P::InvalidPublicKey(_) => s(
                S::UNPROCESSABLE_ENTITY,
                "invalid_public_key",
                "La clave pública debe ser una clave RSA en formato PEM",
            ),
            P::NullField(_) => s(S::UNPROCESSABLE_ENTITY, "null_field", "El campo no puede ser nulo"),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.spec().0
    }

    /// The stable snake_case code (logs).
    pub fn code(&self) -> &'static str {
        self.spec().1
    }

    /// The exact Spanish text (the `detail`, or the `msg` of a field problem).
    pub fn detail(&self) -> Cow<'static, str> {
        self.spec().2
    }

    /// Seconds for `Retry-After`, for the problems that send it.
    pub fn retry_after(&self) -> Option<u64> {
        let secs = match self {
            P::TooManyRequests { retry_after_secs } => *retry_after_secs,
            P::Router(e) | P::RouterProfiles(e) => match e {
                BrokerError::Busy { retry_after_secs } => *retry_after_secs,
                BrokerError::Unavailable { .. } | BrokerError::OutcomeUnknown => 5,
                BrokerError::AuthFailed => {
                    if matches!(self, P::RouterProfiles(_)) {
                        5
                    } else {
                        60
                    }
                }
                BrokerError::Disabled | BrokerError::UnknownRouter | BrokerError::Router(_) => {
                    return None
                }
            },
            P::PurchaseInProgress => 2,
            P::PaymentConfirming | P::AccessActivating | P::ChargeOutcomeUnknown => 5,
            P::GatewayUpdateUnavailable(_) | P::WebhookBusy => 30,
            _ => return None,
        };
        Some(secs.max(1))
    }

    /// The field and input of a field problem.
    pub fn field(&self) -> Option<&BadField> {
        match self {
            P::InvalidHost(b)
            | P::InvalidPort(b)
            | P::InvalidPrice(b)
            | P::InvalidMac(b)
            | P::InvalidIp(b)
            | P::InvalidInstallments(b)
            | P::InvalidAmount(b)
            | P::InvalidTlsFingerprint(b)
            | P::InvalidConektaMode(b)
            | P::InvalidTelegramToken(b)
            | P::InvalidPublicKey(b)
            | P::NullField(b) => Some(b),
            _ => None,
        }
    }

    /// The JSON body: `{"detail": "<text>"}`, or a one-item 422 list for a field problem.
    pub fn body(&self) -> Value {
        match self.field() {
            Some(b) => json!({ "detail": [FieldError::body(
                &b.field,
                "value_error",
                self.detail(),
                b.input.clone(),
            )] }),
            None => json!({ "detail": self.detail() }),
        }
    }

    /// Logs the problem's code and status as it is answered (never the cause of a 500).
    pub fn log_answered(&self) {
        let status = self.status().as_u16();
        if status >= 500 {
            tracing::warn!(code = self.code(), status, "answered with an error");
        } else {
            tracing::info!(code = self.code(), status, "answered with an error");
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status(), self.detail())
    }
}

/// The original's prefix of a failed profile listing.
const PROFILES_PREFIX: &str = "Error al obtener perfiles: Error obteniendo perfiles: ";

fn broker_status(e: &BrokerError) -> StatusCode {
    match e {
        BrokerError::Busy { .. }
        | BrokerError::Unavailable { .. }
        | BrokerError::OutcomeUnknown
        | BrokerError::AuthFailed => StatusCode::SERVICE_UNAVAILABLE,
        BrokerError::Disabled => StatusCode::BAD_REQUEST,
        BrokerError::UnknownRouter => StatusCode::NOT_FOUND,
        BrokerError::Router(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn broker_code(e: &BrokerError) -> &'static str {
    match e {
        BrokerError::Busy { .. } => "router_busy",
        BrokerError::Disabled => "router_inactive",
        BrokerError::UnknownRouter => "router_not_found",
        BrokerError::Unavailable { .. } => "router_unavailable",
        BrokerError::AuthFailed => "router_auth_failed",
        BrokerError::Router(_) => "router_trap",
        BrokerError::OutcomeUnknown => "router_outcome_unknown",
    }
}

/// The Spanish text of a broker error.
fn broker_detail(e: &BrokerError) -> &'static str {
    match e {
        BrokerError::Busy { .. } => "El router está ocupado. Intente de nuevo en unos segundos.",
        BrokerError::Disabled => "El router está inactivo. Actívalo primero desde el panel.",
        BrokerError::UnknownRouter => "Router no encontrado",
        BrokerError::Unavailable { .. } => {
            "No hay conexión con el router en este momento. Intente de nuevo más tarde."
        }
        BrokerError::AuthFailed => {
            "El router rechazó el usuario o la contraseña configurados. Revise las credenciales del router."
        }
        BrokerError::OutcomeUnknown => {
            "El router no respondió a tiempo; no se sabe si la operación se aplicó."
        }
        BrokerError::Router(e) => match e {
            RouterError::NotFound(_) => "El elemento no existe en el router.",
            RouterError::AlreadyExists(_) => "El elemento ya existe en el router.",
            RouterError::InvalidValue(_) => "El router rechazó un valor de la solicitud.",
            RouterError::Permission(_) => "El usuario del router no tiene permisos suficientes.",
            _ => "El router rechazó la operación.",
        },
    }
}

fn gateway_status(e: &GatewayError) -> StatusCode {
    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn gateway_code(e: &GatewayError) -> &'static str {
    match e {
        GatewayError::InvalidRequest { .. } => "gateway_invalid_request",
        GatewayError::Authentication { .. } => "gateway_authentication",
        GatewayError::NotFound { .. } => "gateway_not_found",
        GatewayError::RateLimited { .. } => "gateway_rate_limited",
        GatewayError::Timeout { .. } => "gateway_timeout",
        GatewayError::Unavailable { .. } => "gateway_unavailable",
        GatewayError::NotSent { .. } => "gateway_not_sent",
    }
}

#[cfg(test)]
#[path = "catalogue_tests.rs"]
mod tests;
