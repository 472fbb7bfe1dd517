//! Label values: closed enums and the functions that map values to bounded labels.

use crate::gateways::{GatewayError, GatewayKind};

/// Outcome of one RouterOS command (label `outcome` of the router command metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterOutcome {
    /// `!done` without a trap.
    Ok,
    /// The router answered `!trap` (the session is kept).
    Trap,
    /// The command missed its deadline.
    Timeout,
    /// `!fatal`, end of stream, protocol error or no session: the command did not complete.
    ConnectionLost,
    /// Refused at once because the router's queue was full (`RouterBusy`).
    Busy,
    /// The reply passed the limits (`ROUTER_MAX_REPLY_ROWS`/`_BYTES`); the session was dropped.
    ReplyTooLarge,
    /// Anything else (bad credentials, internal error).
    Error,
}

impl RouterOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterOutcome::Ok => "ok",
            RouterOutcome::Trap => "trap",
            RouterOutcome::Timeout => "timeout",
            RouterOutcome::ConnectionLost => "connection_lost",
            RouterOutcome::Busy => "busy",
            RouterOutcome::ReplyTooLarge => "reply_too_large",
            RouterOutcome::Error => "error",
        }
    }
}

/// What the gateway answered to a charge (label `outcome` of `payments_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Money captured and confirmed.
    Paid,
    /// Funds held (pre-authorisation).
    Authorized,
    /// Not final yet (left to webhooks / the reconciler).
    Pending,
    /// Declined by the gateway or the bank.
    Declined,
    /// Refused before charging (invalid request, credentials, rate limit).
    Rejected,
    /// Timeout / 5xx / transport failure: the outcome is unknown, to be reconciled.
    Unknown,
    /// Refunded later (webhook or compensation).
    Refunded,
    /// Charged back by the card holder.
    ChargedBack,
}

impl PaymentOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        PaymentOutcome::Paid,
        PaymentOutcome::Authorized,
        PaymentOutcome::Pending,
        PaymentOutcome::Declined,
        PaymentOutcome::Rejected,
        PaymentOutcome::Unknown,
        PaymentOutcome::Refunded,
        PaymentOutcome::ChargedBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentOutcome::Paid => "paid",
            PaymentOutcome::Authorized => "authorized",
            PaymentOutcome::Pending => "pending",
            PaymentOutcome::Declined => "declined",
            PaymentOutcome::Rejected => "rejected",
            PaymentOutcome::Unknown => "unknown",
            PaymentOutcome::Refunded => "refunded",
            PaymentOutcome::ChargedBack => "charged_back",
        }
    }

    /// The outcome of a charge call as the gateway clients return it.
    pub fn of_charge(result: &Result<crate::gateways::ChargeOutcome, GatewayError>) -> Self {
        use crate::gateways::ChargeOutcome;
        match result {
            Ok(ChargeOutcome::Paid { .. }) => PaymentOutcome::Paid,
            Ok(ChargeOutcome::Authorized { .. }) => PaymentOutcome::Authorized,
            Ok(ChargeOutcome::Pending { .. }) => PaymentOutcome::Pending,
            Ok(ChargeOutcome::Declined { .. }) => PaymentOutcome::Declined,
            Err(e) if e.outcome_unknown() => PaymentOutcome::Unknown,
            Err(_) => PaymentOutcome::Rejected,
        }
    }
}

/// How a purchase ended, from the portal's point of view (label `outcome` of
/// `purchase_duration_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseOutcome {
    /// Paid and the user enabled: credentials returned.
    Completed,
    /// Declined by the gateway; nothing charged, user removed.
    Declined,
    /// Left in an intermediate state for webhooks or the reconciler.
    Pending,
    /// Failed (router or gateway error), compensated.
    Failed,
}

impl PurchaseOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        PurchaseOutcome::Completed,
        PurchaseOutcome::Declined,
        PurchaseOutcome::Pending,
        PurchaseOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseOutcome::Completed => "completed",
            PurchaseOutcome::Declined => "declined",
            PurchaseOutcome::Pending => "pending",
            PurchaseOutcome::Failed => "failed",
        }
    }
}

/// A compensating step of the purchase saga or the reconciler (label `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompensationKind {
    /// Removed a hotspot user created for a purchase that was not paid.
    RemoveUser,
    /// Revoked a hotspot user's access (refund or chargeback after access was granted): user
    /// disabled, active sessions and MAC cookies removed, confirmed on the router.
    DisableUser,
    /// Refunded a captured charge.
    Refund,
    /// Cancelled an authorised or pending charge.
    CancelCharge,
}

impl CompensationKind {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        CompensationKind::RemoveUser,
        CompensationKind::DisableUser,
        CompensationKind::Refund,
        CompensationKind::CancelCharge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompensationKind::RemoveUser => "remove_user",
            CompensationKind::DisableUser => "disable_user",
            CompensationKind::Refund => "refund",
            CompensationKind::CancelCharge => "cancel_charge",
        }
    }
}

/// What the reconciler did to one stuck purchase (label `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcilerAction {
    /// Payment confirmed at the gateway: user enabled, purchase completed.
    Completed,
    /// Money had moved but access could not be granted: refunded.
    Refunded,
    /// Authorised/pending charge cancelled.
    Cancelled,
    /// No money moved: purchase marked failed (user removed).
    MarkedFailed,
    /// Still undecided (gateway or router unreachable): retried later.
    Retried,
    /// The reconciler itself failed on this purchase.
    Error,
}

impl ReconcilerAction {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        ReconcilerAction::Completed,
        ReconcilerAction::Refunded,
        ReconcilerAction::Cancelled,
        ReconcilerAction::MarkedFailed,
        ReconcilerAction::Retried,
        ReconcilerAction::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReconcilerAction::Completed => "completed",
            ReconcilerAction::Refunded => "refunded",
            ReconcilerAction::Cancelled => "cancelled",
            ReconcilerAction::MarkedFailed => "marked_failed",
            ReconcilerAction::Retried => "retried",
            ReconcilerAction::Error => "error",
        }
    }
}

/// What happened to an incoming gateway webhook (label `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Verified and applied.
    Processed,
    /// Already seen (same event id).
    Duplicate,
    /// Verified but irrelevant (unknown payment, uninteresting event type).
    Ignored,
    /// Signature missing or wrong.
    InvalidSignature,
    /// Unparseable body or missing fields.
    Malformed,
    /// Verified but processing failed.
    Error,
}

impl WebhookOutcome {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        WebhookOutcome::Processed,
        WebhookOutcome::Duplicate,
        WebhookOutcome::Ignored,
        WebhookOutcome::InvalidSignature,
        WebhookOutcome::Malformed,
        WebhookOutcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Processed => "processed",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::InvalidSignature => "invalid_signature",
            WebhookOutcome::Malformed => "malformed",
            WebhookOutcome::Error => "error",
        }
    }
}

/// An outbound payment-gateway call (label `operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayOperation {
    /// Conekta `POST /orders`, Mercado Pago `POST /v1/payments`.
    Charge,
    /// Read one charge by gateway id.
    Get,
    /// Look a charge up by our reference.
    FindByReference,
    Refund,
    Cancel,
}

impl GatewayOperation {
    /// Every value (the series initialised at zero).
    pub const ALL: &[Self] = &[
        GatewayOperation::Charge,
        GatewayOperation::Get,
        GatewayOperation::FindByReference,
        GatewayOperation::Refund,
        GatewayOperation::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GatewayOperation::Charge => "charge",
            GatewayOperation::Get => "get",
            GatewayOperation::FindByReference => "find_by_reference",
            GatewayOperation::Refund => "refund",
            GatewayOperation::Cancel => "cancel",
        }
    }
}

/// Label value of a gateway.
pub fn gateway_label(gateway: GatewayKind) -> &'static str {
    match gateway {
        GatewayKind::Conekta => "conekta",
        GatewayKind::MercadoPago => "mercado_pago",
    }
}

/// Every value [`gateway_call_outcome`] returns (the series initialised at zero).
pub const GATEWAY_CALL_OUTCOMES: &[&str] = &[
    "ok",
    "rejected",
    "auth_error",
    "not_found",
    "rate_limited",
    "timeout",
    "unavailable",
];

/// Label `outcome` of `gateway_request_duration_seconds` for a call's result: `ok` when the
/// gateway answered (a declined charge is `ok` here: the call worked), else the error class.
pub fn gateway_call_outcome<T>(result: &Result<T, GatewayError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(GatewayError::InvalidRequest { .. }) => "rejected",
        Err(GatewayError::Authentication { .. }) => "auth_error",
        Err(GatewayError::NotFound { .. }) => "not_found",
        Err(GatewayError::RateLimited { .. }) => "rate_limited",
        Err(GatewayError::Timeout { .. }) => "timeout",
        // Not reached at all: counted with the other unavailable calls (labels stay stable).
        Err(GatewayError::Unavailable { .. } | GatewayError::NotSent { .. }) => "unavailable",
    }
}

/// Currency label, restricted to the accepted currencies.
/// Label `currency` of `payment_amount_total`: one of the currencies a product may have
/// ([`crate::validate::CURRENCIES`]), else `other`.
pub(super) fn currency_label(currency: &str) -> &'static str {
    let upper = currency.trim().to_ascii_uppercase();
    crate::validate::CURRENCIES
        .into_iter()
        .find(|c| *c == upper)
        .unwrap_or("other")
}

pub(super) fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
