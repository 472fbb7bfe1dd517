//! Gateway dispatch: every call timed in `gateway_request_duration_seconds`.

use rust_decimal::Decimal;

use crate::gateways::{GatewayError, GatewayKind, PaymentGateway, PaymentSnapshot};
use crate::metrics::{CompensationKind, GatewayOperation, PaymentOutcome};
use crate::state::AppState;

pub(crate) async fn gw_get(
    state: &AppState,
    gateway: GatewayKind,
    cred: &str,
    id: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GatewayKind::Conekta {
            state.gateways.conekta.get(cred, id).await
        } else {
            state.gateways.mercado_pago.get(cred, id).await
        }
    };
    state
        .metrics
        .time_gateway(gateway, GatewayOperation::Get, call)
        .await
}

pub(crate) async fn gw_find(
    state: &AppState,
    gateway: GatewayKind,
    cred: &str,
    reference: &str,
) -> Result<Option<PaymentSnapshot>, GatewayError> {
    let call = async {
        if gateway == GatewayKind::Conekta {
            state
                .gateways
                .conekta
                .find_by_reference(cred, reference)
                .await
        } else {
            state
                .gateways
                .mercado_pago
                .find_by_reference(cred, reference)
                .await
        }
    };
    state
        .metrics
        .time_gateway(gateway, GatewayOperation::FindByReference, call)
        .await
}

pub(crate) async fn gw_refund(
    state: &AppState,
    gateway: GatewayKind,
    cred: &str,
    id: &str,
    amount: Decimal,
    idem: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GatewayKind::Conekta {
            PaymentGateway::refund(&state.gateways.conekta, cred, id, amount, idem).await
        } else {
            PaymentGateway::refund(&state.gateways.mercado_pago, cred, id, amount, idem).await
        }
    };
    let r = state
        .metrics
        .time_gateway(gateway, GatewayOperation::Refund, call)
        .await;
    state
        .metrics
        .record_compensation(CompensationKind::Refund, r.is_ok());
    if r.is_ok() {
        state
            .metrics
            .record_payment(gateway, PaymentOutcome::Refunded);
    }
    r
}

pub(super) async fn gw_cancel(
    state: &AppState,
    gateway: GatewayKind,
    cred: &str,
    id: &str,
) -> Result<PaymentSnapshot, GatewayError> {
    let call = async {
        if gateway == GatewayKind::Conekta {
            PaymentGateway::cancel(&state.gateways.conekta, cred, id).await
        } else {
            PaymentGateway::cancel(&state.gateways.mercado_pago, cred, id).await
        }
    };
    let r = state
        .metrics
        .time_gateway(gateway, GatewayOperation::Cancel, call)
        .await;
    state
        .metrics
        .record_compensation(CompensationKind::CancelCharge, r.is_ok());
    r
}
