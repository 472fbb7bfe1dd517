//! The original service's Spanish user messages for gateway answers,
//! in one place. The original matched codes by substring in both directions, so an empty or short code matched the
//! wrong entry; here a table key must be contained in a non-empty code.

/// Conekta request timed out (original: HTTP 504).
pub const CONEKTA_TIMEOUT: &str = "Tiempo de espera agotado. Intente nuevamente.";
/// Conekta call failed with a non-HTTP error (original: HTTP 500).
pub const CONEKTA_INTERNAL: &str = "Error interno al procesar el pago.";
/// Default Conekta error message.
pub const CONEKTA_DEFAULT_ERROR: &str = "Error al procesar el pago. Intente nuevamente.";
/// Mercado Pago SDK exception (original: HTTP 500).
pub const MP_INTERNAL: &str = "Error interno al procesar el pago";
/// Default Mercado Pago rejection message.
pub const MP_DEFAULT_REJECTION: &str = "❌ Error al procesar el pago. Intente nuevamente.";
/// Warning the original attached to a pending Mercado Pago payment (`advertencia`).
pub const MP_PENDING_WARNING: &str = "Pago pendiente de confirmación";

/// `detail` for a Conekta order whose `payment_status` is not `paid` (original: HTTP 402).
pub fn conekta_status_message(payment_status: &str) -> &'static str {
    match payment_status {
        "pending" => "El pago está pendiente de confirmación.",
        "declined" => "El pago fue declinado. Contacte a su banco.",
        "expired" => "El pago expiró. Realice una nueva transacción.",
        "canceled" => "El pago fue cancelado.",
        "refunded" => "El pago fue reembolsado.",
        "chargeback" => "Disputa activa en el pago.",
        "pre_authorized" => "Pago pre-autorizado pendiente de captura.",
        "partially_paid" => "El pago está parcialmente completado.",
        "pending_payment" => "Pendiente de procesamiento de pago.",
        "failed" => "El pago falló. Intente nuevamente.",
        "voided" => "El pago fue anulado.",
        _ => "El pago no fue aprobado.",
    }
}

/// Conekta error code → user message, in the original's table order.
const CONEKTA_ERROR_TABLE: &[(&str, &str)] = &[
    (
        "processing_error",
        "Error al procesar el pago. Intente nuevamente.",
    ),
    (
        "conekta.errors.processing.tokenization.used",
        "El token de tarjeta ya fue utilizado. Genere un nuevo token.",
    ),
    (
        "tokenization.invalid",
        "Token de tarjeta inválido. Genere un nuevo token.",
    ),
    (
        "tokenization.expired",
        "Token de tarjeta expirado. Genere un nuevo token.",
    ),
    ("card_declined", "Tarjeta declinada. Contacte a su banco."),
    ("insufficient_funds", "Fondos insuficientes en la tarjeta."),
    ("expired_card", "Tarjeta expirada. Use otra tarjeta."),
    ("invalid_card", "Tarjeta inválida. Verifique los datos."),
    ("stolen_card", "Tarjeta reportada como robada."),
    ("suspected_fraud", "Actividad sospechosa detectada."),
    ("card_not_supported", "Tarjeta no soportada."),
    ("card_number_incorrect", "Número de tarjeta incorrecto."),
    ("cvv_incorrect", "Código de seguridad (CVV) incorrecto."),
    (
        "parameter_validation_error",
        "Datos inválidos en la solicitud.",
    ),
    ("invalid_parameter", "Parámetro inválido."),
    ("missing_parameter", "Falta parámetro requerido."),
    ("invalid_amount", "Monto inválido."),
    ("invalid_currency", "Moneda inválida."),
    ("invalid_email", "Correo electrónico inválido."),
    ("invalid_phone", "Número de teléfono inválido."),
    (
        "authentication_error",
        "Error de autenticación. Contacte al administrador.",
    ),
    ("invalid_api_key", "Clave API inválida."),
    ("unauthorized_request", "No autorizado."),
    ("resource_not_found", "Recurso no encontrado."),
    ("order_not_found", "Orden no encontrada."),
    ("customer_not_found", "Cliente no encontrado."),
    ("gateway_error", "Error en el procesador de pagos."),
    ("bank_connection_error", "Error de conexión con el banco."),
    ("server_error", "Error interno del servidor."),
    (
        "rate_limit_exceeded",
        "Límite de solicitudes excedido. Espere un momento.",
    ),
    ("quota_exceeded", "Cuota excedida. Contacte a Conekta."),
];

fn lookup_conekta_code(code: &str) -> Option<&'static str> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    CONEKTA_ERROR_TABLE
        .iter()
        .find(|(k, _)| *k == code)
        .or_else(|| CONEKTA_ERROR_TABLE.iter().find(|(k, _)| code.contains(k)))
        .map(|(_, m)| *m)
}

/// The original's user message for a Conekta error body: `details[0].code`, else the error `type`, else keywords in
/// the code and messages, else the default.
pub fn conekta_error_message(code: &str, error_type: &str, messages: &[&str]) -> &'static str {
    let key = if code.trim().is_empty() {
        error_type
    } else {
        code
    };
    if let Some(m) = lookup_conekta_code(key) {
        return m;
    }
    let text = std::iter::once(code)
        .chain(messages.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let has = |w: &str| text.contains(w);
    if has("token") {
        if has("used") || has("utilizado") {
            return "El token de tarjeta ya fue utilizado. Genere un nuevo token.";
        }
        if has("expired") || has("expirado") {
            return "Token de tarjeta expirado. Genere un nuevo token.";
        }
        return "Token de tarjeta inválido. Genere un nuevo token.";
    }
    if has("insufficient") || has("funds") || has("fondos") {
        return "Fondos insuficientes en la tarjeta.";
    }
    if has("stolen") || has("robada") {
        return "Tarjeta reportada como robada.";
    }
    if has("fraud") || has("suspicious") {
        return "Actividad sospechosa detectada.";
    }
    if has("declined") || has("declinada") {
        return "Tarjeta declinada. Contacte a su banco.";
    }
    if has("expired") || has("expiration") {
        return "Tarjeta expirada. Use otra tarjeta.";
    }
    if has("card") || has("tarjeta") {
        return "Tarjeta inválida. Verifique los datos.";
    }
    if has("auth") {
        return "Error de autenticación. Contacte al administrador.";
    }
    if has("parameter") || has("validation") {
        return "Datos inválidos en la solicitud.";
    }
    CONEKTA_DEFAULT_ERROR
}

/// The HTTP status the original answered for a Conekta HTTP error status.
pub fn conekta_http_status(gateway_status: u16) -> u16 {
    match gateway_status {
        400 | 401 | 402 | 404 | 422 | 429 => gateway_status,
        _ => 500,
    }
}

const MP_STATUS_DETAIL_TABLE: &[(&str, &str)] = &[
    (
        "cc_rejected_insufficient_amount",
        "❌ Fondos insuficientes en la tarjeta.",
    ),
    (
        "cc_rejected_bad_filled_card_number",
        "❌ Número de tarjeta incorrecto. Verifique los datos.",
    ),
    (
        "cc_rejected_bad_filled_date",
        "❌ Fecha de vencimiento incorrecta.",
    ),
    (
        "cc_rejected_bad_filled_security_code",
        "❌ Código de seguridad (CVV) incorrecto.",
    ),
    (
        "cc_rejected_high_risk",
        "⚠️ Pago rechazado por políticas de seguridad.",
    ),
    (
        "cc_rejected_card_disabled",
        "❌ Tarjeta deshabilitada. Contacte a su banco.",
    ),
    (
        "cc_rejected_blacklist",
        "❌ No se puede procesar el pago con esta tarjeta.",
    ),
    (
        "cc_rejected_card_error",
        "❌ Error al procesar la tarjeta. Intente nuevamente.",
    ),
    (
        "cc_rejected_duplicated_payment",
        "⚠️ Este pago ya fue procesado anteriormente.",
    ),
    (
        "cc_rejected_call_for_authorize",
        "⚠️ El pago requiere autorización del banco.",
    ),
    (
        "cc_rejected_max_attempts",
        "⏰ Máximo de intentos excedido. Espere e intente más tarde.",
    ),
    (
        "cc_rejected_other_reason",
        "❌ Tarjeta rechazada. Contacte a su banco.",
    ),
    ("invalid_payment_method", "❌ Método de pago inválido."),
    ("invalid_token", "❌ Token de pago inválido o expirado."),
    ("invalid_user", "❌ Información del pagador inválida."),
    (
        "invalid_installments",
        "❌ Número de cuotas no válido para esta tarjeta.",
    ),
    (
        "pending_contingency",
        "⏳ El pago está pendiente de confirmación.",
    ),
    (
        "pending_review_manual",
        "⏳ El pago está siendo revisado manualmente.",
    ),
    (
        "pending_waiting_payment",
        "⏳ Esperando confirmación del pago.",
    ),
    (
        "authentication_error",
        "🔐 Error de autenticación con Mercado Pago.",
    ),
    (
        "invalid_access_token",
        "🔐 Credenciales de Mercado Pago inválidas.",
    ),
];

/// The original's message for a Mercado Pago `status_detail`: exact match, then a table key contained in the detail,
/// else the default.
pub fn mp_status_detail_message(status_detail: &str) -> &'static str {
    let d = status_detail.trim();
    if d.is_empty() {
        return MP_DEFAULT_REJECTION;
    }
    MP_STATUS_DETAIL_TABLE
        .iter()
        .find(|(k, _)| *k == d)
        .or_else(|| MP_STATUS_DETAIL_TABLE.iter().find(|(k, _)| d.contains(k)))
        .map(|(_, m)| *m)
        .unwrap_or(MP_DEFAULT_REJECTION)
}

/// Original's `detail` for a Mercado Pago HTTP-400 body (HTTP 400).
pub fn mp_validation_error(message: &str) -> String {
    format!("Error de validación: {message}")
}

/// Original's `detail` for any other Mercado Pago status or error status (HTTP 500).
pub fn mp_unhandled_status(status: &str) -> String {
    format!("Estado de pago no manejado: {status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conekta_status_table() {
        assert_eq!(
            conekta_status_message("declined"),
            "El pago fue declinado. Contacte a su banco."
        );
        assert_eq!(
            conekta_status_message("pending_payment"),
            "Pendiente de procesamiento de pago."
        );
        assert_eq!(conekta_status_message("voided"), "El pago fue anulado.");
        assert_eq!(
            conekta_status_message("pre_authorized"),
            "Pago pre-autorizado pendiente de captura."
        );
        assert_eq!(
            conekta_status_message("whatever"),
            "El pago no fue aprobado."
        );
    }

    #[test]
    fn conekta_error_codes() {
        assert_eq!(
            conekta_error_message(
                "conekta.errors.processing.tokenization.used",
                "processing_error",
                &[]
            ),
            "El token de tarjeta ya fue utilizado. Genere un nuevo token."
        );
        assert_eq!(
            conekta_error_message(
                "conekta.errors.processing.bank.insufficient_funds",
                "processing_error",
                &[]
            ),
            "Fondos insuficientes en la tarjeta."
        );
        assert_eq!(
            conekta_error_message("card_declined", "processing_error", &[]),
            "Tarjeta declinada. Contacte a su banco."
        );
        // Code not in the table: keywords of the code decide.
        assert_eq!(
            conekta_error_message(
                "conekta.errors.processing.bank.declined",
                "processing_error",
                &[]
            ),
            "Tarjeta declinada. Contacte a su banco."
        );
        // No code: the type is looked up.
        assert_eq!(
            conekta_error_message("", "processing_error", &[]),
            "Error al procesar el pago. Intente nuevamente."
        );
        assert_eq!(
            conekta_error_message("", "authentication_error", &[]),
            "Error de autenticación. Contacte al administrador."
        );
        assert_eq!(
            conekta_error_message("", "parameter_validation_error", &[]),
            "Datos inválidos en la solicitud."
        );
    }

    #[test]
    fn conekta_keyword_fallback_and_empty_code_bug_fixed() {
        // The original matched an empty code against the first entry; here it falls through to keywords.
        assert_eq!(
            conekta_error_message("", "", &["The card was declined"]),
            "Tarjeta declinada. Contacte a su banco."
        );
        assert_eq!(
            conekta_error_message(
                "conekta.errors.parameter_validation.payment_method.token_id.nonexistent_token",
                "",
                &[]
            ),
            "Token de tarjeta inválido. Genere un nuevo token."
        );
        assert_eq!(conekta_error_message("", "", &[]), CONEKTA_DEFAULT_ERROR);
    }

    #[test]
    fn conekta_status_mapping() {
        for s in [400, 401, 402, 404, 422, 429] {
            assert_eq!(conekta_http_status(s), s);
        }
        assert_eq!(conekta_http_status(409), 500);
        assert_eq!(conekta_http_status(503), 500);
    }

    #[test]
    fn mp_table() {
        assert_eq!(
            mp_status_detail_message("cc_rejected_insufficient_amount"),
            "❌ Fondos insuficientes en la tarjeta."
        );
        assert_eq!(
            mp_status_detail_message("cc_rejected_bad_filled_security_code"),
            "❌ Código de seguridad (CVV) incorrecto."
        );
        assert_eq!(
            mp_status_detail_message("cc_rejected_other_reason"),
            "❌ Tarjeta rechazada. Contacte a su banco."
        );
        assert_eq!(
            mp_status_detail_message("pending_contingency"),
            "⏳ El pago está pendiente de confirmación."
        );
        assert_eq!(
            mp_status_detail_message("cc_rejected_3ds_mandatory"),
            MP_DEFAULT_REJECTION
        );
        assert_eq!(mp_status_detail_message(""), MP_DEFAULT_REJECTION);
        assert_eq!(mp_validation_error("bad"), "Error de validación: bad");
        assert_eq!(
            mp_unhandled_status("401"),
            "Estado de pago no manejado: 401"
        );
    }
}
