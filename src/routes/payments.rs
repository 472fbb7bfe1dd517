//! Portal payment endpoints: `pagar-conekta`, `pagar-mercado-pago`
//! and `estado-pago`, authenticated by the router API key. The work is done by
//! [`crate::purchase::saga`].

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::client_ip;
use crate::auth::portal_key::{PortalClaims, PortalKey};
use crate::auth::rate_limit::AttemptKeys;
use crate::db::productos::{self, Producto};
use crate::db::purchases;
use crate::error::{ApiError, ApiResult, BadField, Problem};
use crate::extract::{FieldAliases, JsonBody};
use crate::gateways::{GatewayError, PaymentStatus};
use crate::purchase::credentials::UserType;
use crate::purchase::saga::{self, MpExtra, PurchaseInput};
use crate::purchase::{ip_field, mac_field, sha256_hex, GatewayKind, SagaState};
use crate::routeros::BrokerError;
use crate::state::AppState;
use crate::validate;
use crate::wire::{CONEKTA_PAYMENT_ALIASES, MAX_IDEMPOTENCY_KEY, MP_PAYMENT_ALIASES};

/// Longest card token accepted.
const MAX_TOKEN: usize = 512;

/// The request's `Idempotency-Key` (trimmed; empty counts as absent), checked.
pub fn idempotency_header(req: &actix_web::HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| ApiError::from(Problem::IdempotencyKeyInvalid))?;
            let v = v.trim();
            if v.chars().count() > MAX_IDEMPOTENCY_KEY {
                return Err(Problem::IdempotencyKeyTooLong.into());
            }
            Ok((!v.is_empty()).then(|| v.to_string()))
        }
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(pagar_conekta)
        .service(pagar_mercado_pago)
        .service(estado_pago);
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConektaReq {
    product_id: i32,
    card_token: String,
    customer_name: String,
    customer_email: String,
    #[serde(default)]
    customer_phone: Option<String>,
    #[serde(default)]
    user_type: Option<String>,
    #[serde(default)]
    mac_address: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    auto_connect: Option<bool>,
}

impl FieldAliases for ConektaReq {
    const ALIASES: &'static [(&'static str, &'static str)] = CONEKTA_PAYMENT_ALIASES;
}

#[derive(Debug, Deserialize)]
pub(crate) struct MpReq {
    product_id: i32,
    payment_method_id: String,
    token: String,
    #[serde(default)]
    issuer_id: Option<String>,
    transaction_amount: f64,
    #[serde(default)]
    installments: Option<u32>,
    customer_name: String,
    customer_email: String,
    #[serde(default)]
    customer_phone: Option<String>,
    #[serde(default)]
    user_type: Option<String>,
    #[serde(default)]
    mac_address: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    device_id: Option<String>,
    #[serde(default)]
    auto_connect: Option<bool>,
}

impl FieldAliases for MpReq {
    const ALIASES: &'static [(&'static str, &'static str)] = MP_PAYMENT_ALIASES;
}

/// The validated fields both endpoints share.
struct Common {
    customer_name: String,
    customer_email: String,
    customer_phone: Option<String>,
    user_type: UserType,
    mac: Option<String>,
    ip: Option<std::net::IpAddr>,
    auto_connect: bool,
    idempotency_key: Option<String>,
}

/// The customer and device fields both payment bodies carry.
struct CustomerIn<'a> {
    name: &'a str,
    email: &'a str,
    phone: Option<&'a str>,
    user_type: Option<&'a str>,
    mac: Option<&'a str>,
    ip: Option<&'a str>,
    auto_connect: Option<bool>,
}

macro_rules! customer_in {
    ($b:expr) => {
        CustomerIn {
            name: &$b.customer_name,
            email: &$b.customer_email,
            phone: $b.customer_phone.as_deref(),
            user_type: $b.user_type.as_deref(),
            mac: $b.mac_address.as_deref(),
            ip: $b.ip_address.as_deref(),
            auto_connect: $b.auto_connect,
        }
    };
}

fn validate_common(req: &HttpRequest, customer: CustomerIn<'_>) -> ApiResult<Common> {
    let CustomerIn {
        name,
        email,
        phone,
        user_type,
        mac,
        ip,
        auto_connect,
    } = customer;
    validate::required_text("nombre_cliente", name, 100)?;
    validate::email("email_cliente", email)?;
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = phone {
        validate::max_len("telefono_cliente", p, 20)?;
    }
    let user_type = UserType::parse(user_type).ok_or_else(|| {
        ApiError::field(
            "tipo_usuario",
            "literal_error",
            "Input should be 'usuario_contrasena' or 'pin'",
            json!(user_type),
        )
    })?;
    // Validated strictly; kept as sent (the response echoes it).
    let mac = mac_field("mac_cliente", mac)?.and(mac.map(|m| m.trim().to_string()));
    let ip = ip_field("ip_cliente", ip)?;
    let idempotency_key = idempotency_header(req)?;
    Ok(Common {
        customer_name: name.trim().to_string(),
        customer_email: email.trim().to_string(),
        customer_phone: phone.map(str::to_string),
        user_type,
        mac,
        ip,
        auto_connect: auto_connect.unwrap_or(false),
        idempotency_key,
    })
}

/// The keys a payment attempt is counted under.
fn attempt_keys(
    state: &AppState,
    req: &HttpRequest,
    claims: &PortalClaims,
    email: &str,
) -> AttemptKeys {
    AttemptKeys {
        address: client_ip(req, state.config.trust_forwarded_for),
        api_key: claims.claims.jti.clone(),
        email: email.trim().to_lowercase(),
    }
}

/// The purchase's idempotency key as sent (the header, else the card token's hash), before the
/// header is validated.
fn sent_idempotency_key(req: &HttpRequest, card_token: &str) -> String {
    let header = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    saga::idempotency_key(header, &sha256_hex(card_token.trim().as_bytes()))
}

/// The rate limits, first of all (no database read unless one refuses): the address's budget of
/// invalid requests, the decline budgets of the address, the key and the e-mail, and the
/// generous per-address and per-key limits of every attempt. A refusal stands unless the request
/// retries a purchase already registered under its idempotency key (see [`unless_retry`]).
async fn check_limits(
    state: &AppState,
    req: &HttpRequest,
    claims: &PortalClaims,
    email: &str,
    card_token: &str,
) -> ApiResult<AttemptKeys> {
    let attempt = attempt_keys(state, req, claims, email);
    let verdict = state.limits.admit_payment(&attempt);
    let idem = sent_idempotency_key(req, card_token);
    unless_retry(state, claims.empresa_id(), &idem, verdict).await?;
    Ok(attempt)
}

/// A retry of a known idempotency key only replays (or waits for) the first answer: no rate limit
/// refuses it. One read, only when a limit refused.
async fn unless_retry(
    state: &AppState,
    empresa_id: &str,
    idem: &str,
    verdict: ApiResult<()>,
) -> ApiResult<()> {
    let Err(refused) = verdict else {
        return Ok(());
    };
    if purchases::is_registered(&state.db, &purchases::scope(empresa_id), idem).await? {
        Ok(())
    } else {
        Err(refused)
    }
}

/// Counts a payment request answered 4xx before any charge — malformed, invalid, unauthenticated,
/// an unknown product… — against its address's budget of invalid requests. Not counted: a
/// declined card (402, its own budgets), a refusal by a limit (429) and a purchase in progress or
/// a reused token (409).
async fn count_invalid(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let address = state
        .as_ref()
        .map(|s| client_ip(req.request(), s.config.trust_forwarded_for));
    let res = next.call(req).await;
    let status = match &res {
        Ok(r) => r.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if status.is_client_error() && !matches!(status.as_u16(), 402 | 409 | 429) {
        if let (Some(state), Some(address)) = (state, address) {
            state.limits.invalid_ip.spend(&address);
        }
    }
    res
}

/// The database half of admission, after the body is validated: a busy router is answered first
/// (one read at most — see [`saga::refuse_if_busy`]) so that a flood on a full router costs no
/// authentication reads; then the key is checked against the database and its router must be
/// active. `Ok(Err(reply))` is the busy answer.
async fn admit(
    state: &AppState,
    claims: PortalClaims,
    idempotency_header: Option<&str>,
    card_token: &str,
) -> ApiResult<Result<PortalKey, HttpResponse>> {
    let idem = saga::idempotency_key(idempotency_header, &sha256_hex(card_token.as_bytes()));
    if let Some(busy) =
        saga::refuse_if_busy(state, claims.router_id(), claims.empresa_id(), &idem).await
    {
        return Ok(Err(busy.into_http()));
    }
    let key = claims.authenticate().await?;
    if !key.router.activo {
        return Err(BrokerError::Disabled.into());
    }
    Ok(Ok(key))
}

/// Mercado Pago describes the card behind a token: once some card has spent its decline budget,
/// each attempt's card is looked up before the charge, and a card without budget is refused.
/// When the lookup fails the attempt goes on (the other budgets still hold).
async fn check_card(
    state: &AppState,
    key: &PortalKey,
    credential: &str,
    idempotency_header: Option<&str>,
    card_token: &str,
) -> ApiResult<()> {
    if !state.limits.declined_card.any_spent() {
        return Ok(());
    }
    let card = state
        .gateways
        .mercado_pago
        .card_token_fingerprint(credential, card_token)
        .await;
    let Ok(Some(card)) = card else {
        return Ok(());
    };
    let idem = saga::idempotency_key(idempotency_header, &sha256_hex(card_token.as_bytes()));
    let verdict = state.limits.declined_card.check(&card);
    unless_retry(state, &key.empresa.id, &idem, verdict).await
}

/// The product must exist, be active, and belong to this company AND this key's router.
async fn load_product(state: &AppState, key: &PortalKey, id: i32) -> ApiResult<Producto> {
    productos::find_for_sale(&state.db, key.empresa_id(), key.router_id(), id)
        .await?
        .ok_or_else(|| ApiError::from(Problem::ProductNotFound))
}

/// Mercado Pago charges an account only in its site's currency: a product in another currency is
/// refused before anything is written or charged (the charge would be made in the account's
/// currency, whatever the product says).
async fn account_charges_currency(
    state: &AppState,
    credential: &str,
    producto: &Producto,
) -> ApiResult<()> {
    let account = state
        .gateways
        .mercado_pago
        .account_currency(credential)
        .await
        .map_err(Problem::Gateway)?;
    match account {
        Some(c) if c.eq_ignore_ascii_case(&producto.moneda) => Ok(()),
        other => Err(Problem::CurrencyNotChargeable {
            currency: producto.moneda.clone(),
            account: other.unwrap_or_default().to_string(),
        }
        .into()),
    }
}

fn request_hash(parts: &Value) -> String {
    sha256_hex(parts.to_string().as_bytes())
}

fn token_field(field: &str, token: &str) -> ApiResult<()> {
    validate::max_len(field, token, MAX_TOKEN)
}

/// The Mercado Pago body's own fields; the number of installments.
fn mp_fields(b: &MpReq) -> ApiResult<u32> {
    token_field("token", &b.token)?;
    validate::required_text("payment_method_id", &b.payment_method_id, 50)?;
    if let Some(i) = &b.issuer_id {
        validate::max_len("issuer_id", i, 50)?;
    }
    if let Some(d) = &b.device_id {
        validate::max_len("device_id", d, 255)?;
    }
    let installments = b.installments.unwrap_or(1);
    if !(1..=48).contains(&installments) {
        return Err(
            Problem::InvalidInstallments(BadField::new("cuotas", json!(installments))).into(),
        );
    }
    Ok(installments)
}

/// The amount the portal sent must be the product's price (to the cent).
fn amount_matches(sent: f64, producto: &Producto) -> ApiResult<Decimal> {
    let monto = Decimal::from_f64(sent)
        .filter(|_| sent.is_finite())
        .ok_or_else(|| Problem::InvalidAmount(BadField::new("monto", json!(sent))))?;
    if (monto - producto.precio).abs() > Decimal::new(1, 2) {
        return Err(Problem::AmountMismatch {
            sent,
            expected: producto.precio.round_dp(2),
        }
        .into());
    }
    Ok(monto)
}

#[utoipa::path(
    tag = "pagos",
    summary = "Buy a plan with a Conekta card token; answers the hotspot credentials",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "One key per purchase attempt: a retry with the same key and body gets the first answer and is never charged twice."),
    ),
    request_body(content = inline(crate::openapi::schemas::PagarConekta), content_type = "application/json", example = json!({"producto_id": 1, "token_tarjeta": "tok_test_visa_4242", "nombre_cliente": "Ana López", "email_cliente": "ana@example.com", "telefono_cliente": "5512345678", "tipo_usuario": "usuario_contrasena", "mac_cliente": "AA:BB:CC:DD:EE:01", "ip_cliente": "10.5.50.10", "conexion_automatica": true})),
    responses(
        (status = 200, description = "OK", body = Object, example = json!({"success": true, "id_transaccion": "ord_2yNp8Bv1s7hjK3Lq", "estado_pago": "paid", "tipo_usuario": "usuario_contrasena", "usuario_hotspot": {"usuario": "PT-AB3C9", "contrasena": "0482"}, "producto": {"nombre": "1 hora", "precio": 15.0, "moneda": "MXN", "perfil_mikrotik": "1h"}, "cliente": {"nombre": "Ana López", "email": "ana@example.com"}, "timestamp": "2026-01-01T10:00:00.123456", "auto_conexion": {"estado": "conectado", "mac": "AA:BB:CC:DD:EE:01", "ip": "10.5.50.10", "mensaje": "¡Conexión establecida con éxito! Disfrute de Internet sin límites", "verificado": true, "session_id": null}})),
        crate::openapi::responses::PurchaseErrors,
    ),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[post(
    "/api/v1/payments/pagar-conekta",
    wrap = "actix_web::middleware::from_fn(count_invalid)"
)]
async fn pagar_conekta(
    req: HttpRequest,
    claims: PortalClaims,
    state: web::Data<AppState>,
    body: JsonBody<ConektaReq>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let attempt = check_limits(&state, &req, &claims, &b.customer_email, &b.card_token).await?;
    token_field("token_tarjeta", &b.card_token)?;
    let c = validate_common(&req, customer_in!(b))?;
    let token = b.card_token.trim().to_string();
    if token.is_empty() {
        return Err(ApiError::from(Problem::CardTokenInvalid));
    }
    let key = match admit(&state, claims, c.idempotency_key.as_deref(), &token).await? {
        Ok(key) => key,
        Err(busy) => return Ok(busy),
    };
    let credential = saga::gateway_credential(&state, &key.empresa, GatewayKind::Conekta)
        .ok_or_else(|| ApiError::from(Problem::ConektaNotConfigured))?;
    let producto = load_product(&state, &key, b.product_id).await?;
    let hash = request_hash(&json!([
        GatewayKind::Conekta,
        b.product_id,
        sha256_hex(token.as_bytes()),
        c.customer_name,
        c.customer_email,
        c.customer_phone,
        c.user_type.as_str(),
        c.mac,
        c.ip.map(|i| i.to_string()),
        c.auto_connect,
    ]));
    let input = PurchaseInput {
        gateway: GatewayKind::Conekta,
        producto,
        card_token: token,
        credential,
        customer_name: c.customer_name,
        customer_email: c.customer_email,
        customer_phone: c.customer_phone,
        user_type: c.user_type,
        mac: c.mac,
        ip: c.ip,
        auto_connect: c.auto_connect,
        mp: None,
        idempotency_key: c.idempotency_key,
        request_hash: hash,
        attempt: Some(attempt),
    };
    Ok(saga::run(&state, &key, input).await.into_http())
}

#[utoipa::path(
    tag = "pagos",
    summary = "Buy a plan with a Mercado Pago card token; answers the hotspot credentials",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "One key per purchase attempt: a retry with the same key and body gets the first answer and is never charged twice."),
    ),
    request_body(content = inline(crate::openapi::schemas::PagarMercadoPago), content_type = "application/json", example = json!({"producto_id": 1, "token": "<card token>", "payment_method_id": "master", "monto": 15.0, "cuotas": 1, "nombre_cliente": "Ana López", "email_cliente": "ana@example.com", "tipo_usuario": "pin", "mac_cliente": "AA:BB:CC:DD:EE:01", "ip_cliente": "10.5.50.10", "conexion_automatica": true})),
    responses(
        (status = 200, description = "OK", body = Object, example = json!({"success": true, "id_transaccion": "20000000001", "estado_pago": "approved", "tipo_usuario": "pin", "usuario_hotspot": {"usuario": "PT-16481953", "contrasena": ""}, "producto": {"nombre": "1 hora", "precio": 15.0, "moneda": "MXN", "perfil_mikrotik": "1h"}, "cliente": {"nombre": "Ana López", "email": "ana@example.com"}, "timestamp": "2026-01-01T10:00:00.123456", "mercado_pago": {"payment_id": 20000000001_i64, "status": "approved", "status_detail": "accredited", "installments": 1, "payment_method": {"id": "master", "type": "credit_card", "issuer": "24", "last_four_digits": "0604", "installments": 1}, "raw_response": {}}, "auto_conexion": {"estado": "conectado", "mac": "AA:BB:CC:DD:EE:01", "ip": "10.5.50.10", "mensaje": "¡Conexión establecida con éxito! Disfrute de Internet sin límites", "verificado": true, "session_id": null}})),
        crate::openapi::responses::PurchaseErrors,
    ),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[post(
    "/api/v1/payments/pagar-mercado-pago",
    wrap = "actix_web::middleware::from_fn(count_invalid)"
)]
async fn pagar_mercado_pago(
    req: HttpRequest,
    claims: PortalClaims,
    state: web::Data<AppState>,
    body: JsonBody<MpReq>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let attempt = check_limits(&state, &req, &claims, &b.customer_email, &b.token).await?;
    let installments = mp_fields(&b)?;
    let c = validate_common(&req, customer_in!(b))?;
    let key = match admit(&state, claims, c.idempotency_key.as_deref(), b.token.trim()).await? {
        Ok(key) => key,
        Err(busy) => return Ok(busy),
    };
    let credential = saga::gateway_credential(&state, &key.empresa, GatewayKind::MercadoPago)
        .ok_or_else(|| ApiError::from(Problem::MercadoPagoNotConfigured))?;
    let producto = load_product(&state, &key, b.product_id).await?;
    let monto = amount_matches(b.transaction_amount, &producto)?;
    account_charges_currency(&state, &credential, &producto).await?;
    let token = b.token.trim().to_string();
    if token.is_empty() {
        return Err(ApiError::field(
            "token",
            "string_too_short",
            "String should have at least 1 character",
            json!(b.token),
        ));
    }
    check_card(
        &state,
        &key,
        &credential,
        c.idempotency_key.as_deref(),
        &token,
    )
    .await?;
    // `issuer_id` goes to Mercado Pago only in live mode (as the original).
    let issuer_id = b
        .issuer_id
        .filter(|i| !i.trim().is_empty() && key.empresa.mercado_pago_mode != "test");
    let hash = request_hash(&json!([
        GatewayKind::MercadoPago,
        b.product_id,
        sha256_hex(token.as_bytes()),
        b.payment_method_id,
        issuer_id,
        installments,
        c.customer_name,
        c.customer_email,
        c.customer_phone,
        c.user_type.as_str(),
        c.mac,
        c.ip.map(|i| i.to_string()),
        c.auto_connect,
        monto.round_dp(2).to_string(),
    ]));
    let input = PurchaseInput {
        gateway: GatewayKind::MercadoPago,
        producto,
        card_token: token,
        credential,
        customer_name: c.customer_name,
        customer_email: c.customer_email,
        customer_phone: c.customer_phone,
        user_type: c.user_type,
        mac: c.mac,
        ip: c.ip,
        auto_connect: c.auto_connect,
        mp: Some(MpExtra {
            payment_method_id: b.payment_method_id,
            issuer_id,
            installments,
            device_id: b.device_id.filter(|d| !d.trim().is_empty()),
        }),
        idempotency_key: c.idempotency_key,
        request_hash: hash,
        attempt: Some(attempt),
    };
    Ok(saga::run(&state, &key, input).await.into_http())
}

/// The status of one of this router's Mercado Pago payments. Polling it also completes a pending
/// purchase once the payment is approved.
#[utoipa::path(
    tag = "pagos",
    summary = "State of a Mercado Pago payment",
    responses((status = 200, description = "OK")),
    security(("apiKey" = []), ("apiKeyBearer" = [])),
)]
#[get("/api/v1/payments/estado-pago/{payment_id}")]
async fn estado_pago(
    key: PortalKey,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let payment_id = path.into_inner();
    let credential = saga::gateway_credential(&state, &key.empresa, GatewayKind::MercadoPago)
        .ok_or_else(|| ApiError::from(Problem::MercadoPagoNotConfigured))?;
    let not_found = || ApiError::from(Problem::PaymentNotFound);
    let id = payment_id.to_string();
    let purchase =
        purchases::by_gateway_payment(&state.db, &key.empresa.id, GatewayKind::MercadoPago, &id)
            .await?
            .filter(|p| p.router_id == key.router.id)
            .ok_or_else(not_found)?;
    let snap = match saga::gw_get(&state, GatewayKind::MercadoPago, &credential, &id).await {
        Ok(s) => s,
        Err(GatewayError::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(Problem::PaymentLookupFailed(e).into()),
    };
    if purchase.state == SagaState::Pending && snap.status == PaymentStatus::Paid {
        if let Err(e) =
            saga::on_gateway_update(&state, &key.empresa, GatewayKind::MercadoPago, &id).await
        {
            tracing::warn!(error = ?e, "estado-pago: could not complete the pending purchase");
        }
    }
    let raw = &snap.raw;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "payment_id": payment_id,
        "status": snap.raw_status,
        "status_detail": snap.status_detail,
        "amount": raw.get("transaction_amount").cloned().unwrap_or(json!(crate::wire::money(snap.amount))),
        "currency_id": snap.currency,
        "date_approved": raw.get("date_approved").cloned().unwrap_or(Value::Null),
        "date_last_updated": raw.get("date_last_updated").cloned().unwrap_or(Value::Null),
    })))
}
