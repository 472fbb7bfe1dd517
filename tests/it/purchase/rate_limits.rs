//! Payment rate limits with the default settings: a venue's customers share its NAT address and a
//! central portal server serves many routers from one address, so successful traffic is limited
//! generously; declined cards are limited tightly per address, API key, e-mail and card; invalid
//! requests per address; IPv6 per /64; a retry of a known idempotency key never.

use serde_json::{json, Value};

use crate::helpers::purchase::*;
use crate::helpers::status_json;

const MP: &str = "/api/v1/payments/pagar-mercado-pago";
const CONEKTA: &str = "/api/v1/payments/pagar-conekta";

/// The answer to one payment request: status, `Retry-After`, body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

/// A payment request with the given API key, `X-Forwarded-For` and `Idempotency-Key`.
async fn send(
    w: &World,
    key: &str,
    path: &str,
    body: &Value,
    from: Option<&str>,
    idem: Option<&str>,
) -> Answer {
    let mut rb = w
        .app
        .http
        .post(w.app.url(path))
        .header("X-API-Key", key)
        .json(body);
    if let Some(ip) = from {
        rb = rb.header("X-Forwarded-For", ip);
    }
    if let Some(k) = idem {
        rb = rb.header("Idempotency-Key", k);
    }
    let res = rb.send().await.unwrap();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = status_json(res).await;
    Answer {
        status,
        retry_after,
        body,
    }
}

/// A card token for card number `4075595716{n:06}` held by `holder` (APRO approves, OTHE is
/// declined).
async fn card(w: &World, holder: &str, n: u32) -> String {
    mp_card_token_for(w, holder, &format!("4075595716{n:06}")).await
}

fn mp_as(w: &World, token: &str, email: &str) -> Value {
    let mut body = mp_body(w.product.id, token, 15.0);
    body["email_cliente"] = json!(email);
    body
}

fn assert_limited(a: &Answer) {
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(
        a.body["detail"],
        "Demasiadas solicitudes. Intente más tarde."
    );
    assert!(a.retry_after.is_some_and(|s| s >= 1), "Retry-After");
}

/// How many charges Mercado Pago was asked for.
fn mp_charges(w: &World) -> usize {
    w.sb.requests("mercado_pago")
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payments")
        .count()
}

#[actix_web::test]
async fn sixty_customers_of_one_venue_within_a_minute_are_all_sold() {
    let w = world_with(|c| c.rate_limits = true).await;
    let key = w.tenant.api_key.clone();
    // 60 customers behind the venue's one address (every request comes from 127.0.0.1), ten at
    // a time.
    for batch in 0..6 {
        let mut bodies = vec![];
        for i in 0..10 {
            let n = batch * 10 + i;
            let token = card(&w, "APRO", n).await;
            bodies.push(mp_as(&w, &token, &format!("cliente{n}@example.com")));
        }
        let answers = futures_util::future::join_all(
            bodies.iter().map(|b| send(&w, &key, MP, b, None, None)),
        )
        .await;
        for a in answers {
            assert_eq!(a.status, 200, "{}", a.body);
        }
    }
    assert_eq!(w.sb.ledger().len(), 60);
    assert_eq!(w.sim.users().len(), 60);
    check_invariants(&w).await;
}

#[actix_web::test]
async fn declines_are_limited_per_card_and_per_email_before_any_charge() {
    let w = world_with(|c| c.rate_limits = true).await;
    let key = w.tenant.api_key.clone();
    // One card declined three times (three customers' e-mails): its budget is spent.
    for i in 0..3 {
        let t = card(&w, "OTHE", 1).await;
        let a = send(
            &w,
            &key,
            MP,
            &mp_as(&w, &t, &format!("c{i}@example.com")),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, 402, "{}", a.body);
    }
    let charges = mp_charges(&w);
    // The same card again, with a token that would be approved: refused before the charge.
    let t = card(&w, "APRO", 1).await;
    let a = send(&w, &key, MP, &mp_as(&w, &t, "c9@example.com"), None, None).await;
    assert_limited(&a);
    assert_eq!(mp_charges(&w), charges, "nothing was charged");
    // Another card from the same address is sold.
    let t = card(&w, "APRO", 2).await;
    let a = send(&w, &key, MP, &mp_as(&w, &t, "c9@example.com"), None, None).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // One e-mail declined five times, each time with another card: its budget is spent.
    for n in 10..15 {
        let t = card(&w, "OTHE", n).await;
        let a = send(
            &w,
            &key,
            MP,
            &mp_as(&w, &t, "tester@example.com"),
            None,
            None,
        )
        .await;
        assert_eq!(a.status, 402, "{}", a.body);
    }
    let charges = mp_charges(&w);
    let t = card(&w, "APRO", 20).await;
    let a = send(
        &w,
        &key,
        MP,
        &mp_as(&w, &t, " Tester@Example.com "),
        None,
        None,
    )
    .await;
    assert_limited(&a);
    // Conekta too: the e-mail's budget is the same whatever the gateway.
    let mut body = conekta_body(w.product.id, "tok_test_visa_4242");
    body["email_cliente"] = json!("tester@example.com");
    assert_limited(&send(&w, &key, CONEKTA, &body, None, None).await);
    assert_eq!(mp_charges(&w), charges, "nothing was charged");
    assert!(
        !w.sb.requests("conekta").iter().any(|r| r.path == "/orders"),
        "nothing was charged"
    );
    check_invariants(&w).await;
}

/// A purchase by `c{n}@example.com` with card `n`, declined by the bank.
async fn declined(w: &World, key: &str, product: i32, n: u32, from: Option<&str>) -> Answer {
    let t = card(w, "OTHE", n).await;
    let mut body = mp_as(w, &t, &format!("c{n}@example.com"));
    body["producto_id"] = json!(product);
    send(w, key, MP, &body, from, None).await
}

#[actix_web::test]
async fn declines_are_limited_per_api_key_and_per_address() {
    let w = world_with(|c| {
        c.rate_limits = true;
        c.trust_forwarded_for = true;
    })
    .await;
    // A second router of another company, reached through the same central portal server.
    let t2 = w
        .app
        .tenant_with_router("Hotel Luna", "127.0.0.1", w.sim.addr().port())
        .await;
    configure_gateways(&w.app, &t2, &w.sb).await;
    let p2 = insert_product(&w.app, &t2, "1 Hora", "1h", "15.00", true).await;
    let server = Some("203.0.113.7");
    // 20 declines on the first router's key: its budget is spent.
    for n in 0..20 {
        let a = declined(&w, &w.tenant.api_key, w.product.id, n, server).await;
        assert_eq!(a.status, 402, "{}", a.body);
    }
    assert_limited(&declined(&w, &w.tenant.api_key, w.product.id, 99, server).await);
    // 10 more on the second key, from the same address: 30 from the address, its budget spent.
    for n in 20..30 {
        let a = declined(&w, &t2.api_key, p2.id, n, server).await;
        assert_eq!(a.status, 402, "{}", a.body);
    }
    let a = declined(&w, &t2.api_key, p2.id, 98, server).await;
    assert_limited(&a);
    // The second key still has budget: from another address it is served.
    let t = card(&w, "APRO", 97).await;
    let mut body = mp_as(&w, &t, "otra@example.com");
    body["producto_id"] = json!(p2.id);
    let a = send(&w, &t2.api_key, MP, &body, Some("198.51.100.1"), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // (Two companies' charges: the invariant check reads one company.) One sale, nothing else
    // captured, one user left on the router both routers share.
    assert_eq!(w.sb.net_captured(), "15".parse().unwrap());
    assert_eq!(w.sim.users().len(), 1);
}

#[actix_web::test]
async fn a_retry_of_a_known_idempotency_key_is_never_rate_limited() {
    let w = world_with(|c| c.rate_limits = true).await;
    let key = w.tenant.api_key.clone();
    let sold = mp_as(&w, &card(&w, "APRO", 1).await, "ana@example.com");
    let first = send(&w, &key, MP, &sold, None, Some("sold-1")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let refused = mp_as(&w, &card(&w, "OTHE", 2).await, "luis@example.com");
    let declined = send(&w, &key, MP, &refused, None, Some("declined-1")).await;
    assert_eq!(declined.status, 402, "{}", declined.body);
    // The address sends 30 invalid requests: its budget is spent, new purchases are refused.
    for _ in 0..30 {
        let mut bad = conekta_body(w.product.id, "tok_test_visa_4242");
        bad["mac_cliente"] = json!("bad");
        assert_eq!(send(&w, &key, CONEKTA, &bad, None, None).await.status, 422);
    }
    let new = mp_as(&w, &card(&w, "APRO", 3).await, "eva@example.com");
    assert_limited(&send(&w, &key, MP, &new, None, Some("new-1")).await);
    // Retries of the known keys replay their first answers, as often as they come.
    for _ in 0..3 {
        let again = send(&w, &key, MP, &sold, None, Some("sold-1")).await;
        assert_eq!((again.status, &again.body), (200, &first.body));
        let again = send(&w, &key, MP, &refused, None, Some("declined-1")).await;
        assert_eq!((again.status, &again.body), (402, &declined.body));
    }
    assert_eq!(mp_charges(&w), 2, "no retry was charged");
    check_invariants(&w).await;
}

#[actix_web::test]
async fn invalid_requests_are_limited_per_address_and_ipv6_per_64() {
    let w = world_with(|c| {
        c.rate_limits = true;
        c.trust_forwarded_for = true;
    })
    .await;
    let key = w.tenant.api_key.clone();
    let mut bad = conekta_body(w.product.id, "tok_test_visa_4242");
    bad["mac_cliente"] = json!("bad");
    // 30 invalid requests from 30 addresses of one IPv6 /64: one budget.
    for i in 1..=30 {
        let from = format!("2001:db8:7:1::{i:x}");
        let a = send(&w, &key, CONEKTA, &bad, Some(&from), None).await;
        assert_eq!(a.status, 422, "{}", a.body);
    }
    let a = send(&w, &key, CONEKTA, &bad, Some("2001:db8:7:1:ffff::1"), None).await;
    assert_limited(&a);
    // A valid purchase from that /64 is refused too, before anything happens.
    let t = card(&w, "APRO", 1).await;
    let a = send(
        &w,
        &key,
        MP,
        &mp_as(&w, &t, "a@example.com"),
        Some("2001:db8:7:1::99"),
        None,
    )
    .await;
    assert_limited(&a);
    assert!(w.sb.ledger().is_empty());
    // The next /64 and an IPv4 client have their own budgets.
    let a = send(
        &w,
        &key,
        MP,
        &mp_as(&w, &t, "a@example.com"),
        Some("2001:db8:7:2::1"),
        None,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = send(&w, &key, CONEKTA, &bad, Some("192.0.2.10"), None).await;
    assert_eq!(a.status, 422, "{}", a.body);
    // Malformed JSON and a bad API key count as invalid too.
    for i in 0..30 {
        let res = w
            .app
            .http
            .post(w.app.url(CONEKTA))
            .header(
                "X-API-Key",
                if i % 2 == 0 { key.as_str() } else { "jwt_nope" },
            )
            .header("X-Forwarded-For", "192.0.2.20")
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error() && res.status() != 429,
            "{}",
            res.status()
        );
    }
    let a = send(&w, &key, CONEKTA, &bad, Some("192.0.2.20"), None).await;
    assert_limited(&a);
    check_invariants(&w).await;
}
