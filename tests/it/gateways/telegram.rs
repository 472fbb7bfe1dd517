//! The Telegram notifier against the sandbox Bot API.

use std::time::{Duration, Instant};

use pagos_hotspot::gateways::build_http_client;
use pagos_hotspot::gateways::telegram::{
    paid_message, rejected_message, router_down_message, router_up_message, HotspotAccess,
    Notification, PurchaseInfo, TelegramClient, TelegramError, TelegramNotifier,
};
use pagos_hotspot::sandbox::gateways::{
    SandboxConfig, SandboxGateways, SandboxHandle, TelegramMessage,
};

const BOT_A: &str = "111111:AAAAAAAAAAAAAAAAAAAA";
const BOT_B: &str = "222222:BBBBBBBBBBBBBBBBBBBB";

fn client(sb: &SandboxHandle) -> TelegramClient {
    TelegramClient::new(
        &sb.base_url(),
        build_http_client(Duration::from_secs(5)).unwrap(),
    )
}

async fn wait_messages(sb: &SandboxHandle, n: usize, within: Duration) -> Vec<TelegramMessage> {
    let deadline = Instant::now() + within;
    loop {
        let m = sb.telegram_messages();
        if m.len() >= n {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} messages, got {}",
            m.len()
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn purchase() -> PurchaseInfo {
    PurchaseInfo {
        empresa: "Café <Centro> & Hijos".into(),
        plan: "1 hora <promo>".into(),
        amount: "15.00".parse().unwrap(),
        currency: "MXN".into(),
        customer: "Ana </b><script>".into(),
        transaction_id: "ord_2znsF4cv7L8sWnRya".into(),
        gateway: "Conekta".into(),
    }
}

#[actix_web::test]
async fn test_message_reaches_the_company_chat() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb);
    c.send_test_message(BOT_A, "123456789", "Hotspot <Norte>")
        .await
        .unwrap();
    let m = sb.telegram_messages();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].bot_token, BOT_A);
    assert_eq!(m[0].chat_id, "123456789");
    assert_eq!(m[0].parse_mode.as_deref(), Some("HTML"));
    assert!(m[0].text.contains("Prueba de Conexión en Vivo"));
    assert!(m[0].text.contains("Hotspot &lt;Norte&gt;"));
    // Errors come back to the admin route.
    let err = c
        .send_test_message("not-a-token", "1", "E")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TelegramError::Api { code: 401, .. }),
        "{err:?}"
    );
    let err = c
        .send_test_message(BOT_A, "-100404", "E")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TelegramError::Api {
            code: 400,
            description: "Bad Request: chat not found".into()
        }
    );
    assert_eq!(
        c.send_test_message("", "1", "E").await.unwrap_err(),
        TelegramError::NotConfigured
    );
}

#[actix_web::test]
async fn messages_with_hostile_user_text_are_accepted_by_the_html_parser() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let c = client(&sb);
    let p = purchase();
    for text in [
        paid_message(
            &p,
            &HotspotAccess::UserPassword {
                username: "PT-AB3C9".into(),
            },
        ),
        paid_message(&p, &HotspotAccess::Pin),
        rejected_message(&p, "❌ Fondos <insuficientes> & más"),
        router_down_message("Café <Centro>", "Router <1>", "connection refused"),
        router_up_message("Café <Centro>", "Router <1>", Duration::from_secs(90)),
    ] {
        c.send_message(BOT_A, "42", &text).await.unwrap();
    }
    assert_eq!(sb.telegram_messages().len(), 5);
    // Unescaped user text is what the original sent, and Telegram refuses it.
    let raw = format!("<b>Cliente:</b> {}", p.customer);
    let err = c.send_message(BOT_A, "42", &raw).await.unwrap_err();
    assert!(
        matches!(err, TelegramError::Api { code: 400, .. }),
        "{err:?}"
    );
}

#[actix_web::test]
async fn notifier_honours_retry_after_and_never_blocks() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let notifier = TelegramNotifier::spawn(client(&sb));
    sb.telegram_rate_limit_next(1, 1);
    let started = Instant::now();
    assert!(notifier.notify(Notification {
        bot_token: BOT_A.into(),
        chat_id: "1".into(),
        text: "uno".into()
    }));
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "notify must not wait for Telegram"
    );
    let m = wait_messages(&sb, 1, Duration::from_secs(10)).await;
    // The 429 asked for 1 s; the retry came after it.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(m[0].text, "uno");
    // Missing configuration is dropped, not an error.
    assert!(!notifier.notify(Notification {
        bot_token: String::new(),
        chat_id: "1".into(),
        text: "x".into()
    }));
}

#[actix_web::test]
async fn each_company_uses_its_own_bot_and_chat_and_a_slow_chat_does_not_hold_others() {
    let sb = SandboxGateways::start(SandboxConfig::default()).unwrap();
    let notifier = TelegramNotifier::spawn(client(&sb));
    // Company A's first message gets a 429 with a 3 s wait; company B's message must not wait for it.
    sb.telegram_rate_limit_next(1, 3);
    let started = Instant::now();
    notifier.notify(Notification {
        bot_token: BOT_A.into(),
        chat_id: "100".into(),
        text: "empresa A".into(),
    });
    // Wait until A's first attempt has taken the 429, then queue B.
    let deadline = Instant::now() + Duration::from_secs(5);
    while sb.telegram_rate_limits_pending() > 0 {
        assert!(Instant::now() < deadline, "A never reached Telegram");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    notifier.notify(Notification {
        bot_token: BOT_B.into(),
        chat_id: "200".into(),
        text: "empresa B".into(),
    });
    let m = wait_messages(&sb, 1, Duration::from_secs(10)).await;
    assert_eq!(m[0].bot_token, BOT_B);
    assert_eq!(m[0].chat_id, "200");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "B waited for A's retry_after"
    );
    let m = wait_messages(&sb, 2, Duration::from_secs(10)).await;
    assert_eq!(
        (
            m[1].bot_token.as_str(),
            m[1].chat_id.as_str(),
            m[1].text.as_str()
        ),
        (BOT_A, "100", "empresa A")
    );
    assert!(started.elapsed() >= Duration::from_secs(3));
}
