//! The login and `curl` commands the demo prints.

use std::net::SocketAddr;

use super::{DemoSecrets, Seeded, DEMO_DEVICES, MP_TEST_CARD};

/// `s` as one query-string value.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `curl` commands and login the demo prints.
pub fn banner(
    base: &str,
    secrets: &DemoSecrets,
    seeded: &Seeded,
    sandbox_base: &str,
    router_addr: SocketAddr,
) -> String {
    let key = &seeded.api_key;
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("pagos-hotspot demo");
    line(&format!("listening on {base}"));
    line(&format!(
        "company admin: {} / {}",
        secrets.admin_email, secrets.admin_password
    ));
    if let (Some(email), Some(pw)) = (&secrets.operator_email, &secrets.operator_password) {
        line(&format!("operator (super_admin): {email} / {pw}"));
    }
    line(&format!("operator console: {base}/consola/"));
    line(&format!("router API key: {key}"));
    line(&format!(
        "captive portal: {base}/portal/?mac=AA:BB:CC:DD:EE:02&ip=10.5.50.12"
    ));
    line(&format!(
        "captive portal with the router's login page: {base}/portal/?mac=AA:BB:CC:DD:EE:03&ip=10.5.50.13&link-login-only={}",
        percent_encode(&format!("{base}/hotspot/login?ip=10.5.50.13"))
    ));
    line(&format!("API docs: {base}/docs"));
    line(&format!(
        "in this process: sandbox gateways at {sandbox_base}, simulated RouterOS API at {router_addr}"
    ));
    line("");
    line("# 1. Log in as the company admin");
    line(&format!(
        "curl -sS --fail-with-body -X POST '{base}/api/v1/auth/login' \\"
    ));
    line("  -H 'Content-Type: application/json' \\");
    line(&format!(
        "  -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'",
        secrets.admin_email, secrets.admin_password
    ));
    line("");
    let plan = |i: usize| seeded.products.get(i).or_else(|| seeded.products.first());
    if let Some(p) = plan(0) {
        line(&format!(
            "# 2. Buy \"{}\" with Conekta (sandbox card tok_test_visa_4242; each test token pays once per run,",
            p.nombre_venta
        ));
        line("#    others: tok_test_mastercard_4444, tok_test_mastercard_5100, tok_test_visa_1881, tok_test_amex_0005)");
        line(&format!(
            "curl -sS --fail-with-body -X POST '{base}/api/v1/payments/pagar-conekta' \\"
        ));
        line(&format!("  -H 'X-API-Key: {key}' \\"));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"producto_id\":{},\"token_tarjeta\":\"tok_test_visa_4242\",\"nombre_cliente\":\"Ana Demo\",\"email_cliente\":\"ana@example.com\",\"tipo_usuario\":\"usuario_contrasena\",\"mac_cliente\":\"{}\",\"ip_cliente\":\"{}\",\"conexion_automatica\":true}}'",
            p.id, DEMO_DEVICES[0].0, DEMO_DEVICES[0].1
        ));
        line("");
    }
    if let Some(p) = plan(1) {
        line(&format!(
            "# 3. Buy \"{}\" with Mercado Pago: make a card token (cardholder APRO = approved), then pay",
            p.nombre_venta
        ));
        line(&format!(
            "MP_TOKEN=$(curl -sS --fail-with-body -X POST '{sandbox_base}/v1/card_tokens?public_key={}' \\",
            secrets.mp_public_key
        ));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"card_number\":\"{MP_TEST_CARD}\",\"security_code\":\"123\",\"expiration_month\":11,\"expiration_year\":2030,\"cardholder\":{{\"name\":\"APRO\",\"identification\":{{\"type\":\"RFC\",\"number\":\"XAXX010101000\"}}}}}}' \\"
        ));
        line("  | grep -o '\"id\":\"[0-9a-f]*\"' | cut -d'\"' -f4)");
        line(&format!(
            "curl -sS --fail-with-body -X POST '{base}/api/v1/payments/pagar-mercado-pago' \\"
        ));
        line(&format!("  -H 'X-API-Key: {key}' \\"));
        line("  -H 'Content-Type: application/json' \\");
        line(&format!(
            "  -d '{{\"producto_id\":{},\"token\":\"'\"$MP_TOKEN\"'\",\"payment_method_id\":\"master\",\"monto\":{:.2},\"cuotas\":1,\"nombre_cliente\":\"Luis Demo\",\"email_cliente\":\"luis@example.com\",\"tipo_usuario\":\"pin\",\"mac_cliente\":\"{}\",\"ip_cliente\":\"{}\",\"conexion_automatica\":true}}'",
            p.id,
            p.precio,
            DEMO_DEVICES[2].0,
            DEMO_DEVICES[2].1
        ));
        line("");
    }
    if seeded.products.is_empty() {
        line("(no active plans on the demo router: activate one to get purchase commands)");
        line("");
    }
    line("Ctrl-C stops the demo; the next run reuses its data.");
    out
}
