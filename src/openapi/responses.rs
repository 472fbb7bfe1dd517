//! The error answers operations share. Every one is an `{"detail": …}` body
//! ([`super::ErrorBody`], the `Error` schema).
//!
//! The ones that follow from an operation's shape are added to every operation by `add_shared`:
//! 401 and 403 where it needs credentials, 404 where its path names a resource, 422 where it
//! takes a body or query parameters. The purchases list [`PurchaseErrors`] in their
//! `#[utoipa::path(responses(...))]`.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
        .into()
}

fn set(items: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    items
        .iter()
        .map(|(status, description)| (status.to_string(), error(description)))
        .collect()
}

/// The purchases' answers besides success: gateway refusals, declines, an attempt still in
/// progress, a busy router, and invalid input (or a reused `Idempotency-Key`).
pub struct PurchaseErrors;

impl IntoResponses for PurchaseErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(&[
            (
                "400",
                "Refused by the gateway, or the company lacks its credentials",
            ),
            (
                "402",
                "Payment declined or not approved (nothing is left charged)",
            ),
            (
                "409",
                "The same purchase is still in progress (`Retry-After`), or the card token was \
                 already used by another purchase",
            ),
            (
                "422",
                "Invalid input (`detail` is a list of field errors, or a string), or an \
                 Idempotency-Key reused with another body",
            ),
            (
                "503",
                "The router is busy or unreachable, or the charge is still being confirmed \
                 (`Retry-After`)",
            ),
        ])
    }
}

/// Adds the answers that follow from the operation's shape, unless it documents them itself.
pub(super) fn add_shared(path: &str, op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let mut shared = Vec::new();
    if secured {
        shared.push(("401", "Missing, invalid or expired credentials"));
        shared.push(("403", "Wrong role or no credentials"));
    }
    if path.contains('{') {
        shared.push(("404", "Not found"));
    }
    if op.request_body.is_some() || has_query {
        shared.push((
            "422",
            "Invalid input (`detail` is a list of field errors, or a string)",
        ));
    }
    for (status, description) in shared {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    }
}
