//! Telegram Bot API notifier.
//!
//! [`TelegramNotifier`] runs in the background: [`TelegramNotifier::notify`] never blocks and never fails the caller
//! (a full queue drops the message with a warning). Each company has its own bot token and chat id, carried by every
//! [`Notification`]. A `429` answer is honoured by waiting `retry_after` before retrying that chat. Messages use
//! `parse_mode: HTML` and every user-supplied value is HTML-escaped; hotspot passwords and PINs are never sent.

use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::trim_base;

/// Longest `retry_after` we are willing to wait for one message.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
const MAX_ATTEMPTS: u32 = 4;
const QUEUE_CAPACITY: usize = 1024;
const PER_CHAT_CAPACITY: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    #[error("bot token or chat id not configured")]
    NotConfigured,
    #[error("telegram answered {code}: {description}")]
    Api { code: u16, description: String },
    #[error("telegram rate limit; retry after {0:?}")]
    RetryAfter(Duration),
    #[error("telegram request timed out")]
    Timeout,
    #[error("telegram unreachable: {0}")]
    Transport(String),
}

/// A Telegram Bot API client (one shared `reqwest::Client`).
#[derive(Clone)]
pub struct TelegramClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl TelegramClient {
    pub fn new(base_url: &str, http: reqwest::Client) -> Self {
        TelegramClient {
            base: trim_base(base_url),
            http,
            timeout: Duration::from_secs(10),
        }
    }
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// One `sendMessage` call (HTML parse mode, link previews off). No retry.
    pub async fn send_message(
        &self,
        bot_token: &str,
        chat_id: &str,
        text: &str,
    ) -> Result<(), TelegramError> {
        let (token, chat) = (bot_token.trim(), chat_id.trim());
        if token.is_empty() || chat.is_empty() || token.contains('/') || token.contains('?') {
            return Err(TelegramError::NotConfigured);
        }
        let chat_value = chat
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(chat));
        let body = json!({
            "chat_id": chat_value,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": { "is_disabled": true },
        });
        let resp = self
            .http
            .post(format!("{}/bot{}/sendMessage", self.base, token))
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    TelegramError::Timeout
                } else {
                    // Strip the URL: it contains the bot token.
                    TelegramError::Transport(e.without_url().to_string())
                }
            })?;
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if status == 200 && v.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        if status == 429 {
            let secs = v
                .get("parameters")
                .and_then(|p| p.get("retry_after"))
                .and_then(Value::as_u64)
                .unwrap_or(1);
            return Err(TelegramError::RetryAfter(Duration::from_secs(secs)));
        }
        Err(TelegramError::Api {
            code: status,
            description: v
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        })
    }

    /// Send with retries that honour `429 retry_after` (bounded by [`MAX_RETRY_AFTER`]).
    pub async fn send_with_retry(
        &self,
        bot_token: &str,
        chat_id: &str,
        text: &str,
    ) -> Result<(), TelegramError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_message(bot_token, chat_id, text).await {
                Err(TelegramError::RetryAfter(d))
                    if attempt < MAX_ATTEMPTS && d <= MAX_RETRY_AFTER =>
                {
                    tokio::time::sleep(d).await;
                }
                Err(TelegramError::Timeout | TelegramError::Transport(_)) if attempt < 2 => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                other => return other,
            }
        }
    }

    /// The admin "test Telegram" message (backs `POST /api/v1/admin/test-telegram`).
    pub async fn send_test_message(
        &self,
        bot_token: &str,
        chat_id: &str,
        empresa_nombre: &str,
    ) -> Result<(), TelegramError> {
        self.send_with_retry(bot_token, chat_id, &test_message(empresa_nombre))
            .await
    }
}

/// Escape text for Telegram's HTML parse mode.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// How the customer logs in. Only a username is ever shown; passwords and PINs never leave the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotspotAccess {
    UserPassword { username: String },
    Pin,
}

/// The facts of a purchase a message shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseInfo {
    pub empresa: String,
    pub plan: String,
    pub amount: Decimal,
    pub currency: String,
    pub customer: String,
    pub transaction_id: String,
    /// "Conekta" / "Mercado Pago".
    pub gateway: String,
}

fn purchase_lines(p: &PurchaseInfo) -> String {
    format!(
        "🏢 <b>Empresa:</b> {}\n📦 <b>Plan:</b> {}\n💰 <b>Monto:</b> ${} {}\n👤 <b>Cliente:</b> {}\n💳 <b>Pasarela:</b> {}",
        html_escape(&p.empresa),
        html_escape(&p.plan),
        p.amount.round_dp(2),
        html_escape(&p.currency),
        html_escape(&p.customer),
        html_escape(&p.gateway),
    )
}

pub fn test_message(empresa_nombre: &str) -> String {
    format!(
        "⚡ <b>Prueba de Conexión en Vivo</b>\n🏢 Empresa: {}\n✅ ¡Tus credenciales son correctas!",
        html_escape(empresa_nombre)
    )
}

pub fn paid_message(p: &PurchaseInfo, access: &HotspotAccess) -> String {
    let access_line = match access {
        HotspotAccess::UserPassword { username } => {
            format!("🔑 <b>Usuario:</b> <code>{}</code>", html_escape(username))
        }
        HotspotAccess::Pin => "🔑 <b>Acceso:</b> PIN (entregado al cliente)".to_owned(),
    };
    format!(
        "✅ <b>¡Pago Aprobado!</b>\n{}\n🧾 <b>Transacción:</b> <code>{}</code>\n{}\n<i>Acceso WiFi entregado correctamente.</i>",
        purchase_lines(p),
        html_escape(&p.transaction_id),
        access_line
    )
}

pub fn rejected_message(p: &PurchaseInfo, motivo: &str) -> String {
    format!(
        "❌ <b>Pago Rechazado</b>\n{}\n📝 <b>Motivo:</b> {}",
        purchase_lines(p),
        html_escape(motivo)
    )
}

pub fn router_down_message(empresa: &str, router: &str, detail: &str) -> String {
    format!(
        "🔴 <b>Router sin conexión</b>\n🏢 <b>Empresa:</b> {}\n📡 <b>Router:</b> {}\n📝 {}",
        html_escape(empresa),
        html_escape(router),
        html_escape(detail)
    )
}

pub fn router_up_message(empresa: &str, router: &str, down_for: Duration) -> String {
    let secs = down_for.as_secs();
    format!(
        "🟢 <b>Router en línea de nuevo</b>\n🏢 <b>Empresa:</b> {}\n📡 <b>Router:</b> {}\n⏱️ Sin conexión durante {}m {}s",
        html_escape(empresa),
        html_escape(router),
        secs / 60,
        secs % 60
    )
}

/// One message for one company's chat.
#[derive(Clone, PartialEq, Eq)]
pub struct Notification {
    pub bot_token: String,
    pub chat_id: String,
    pub text: String,
}

impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notification")
            .field("chat_id", &self.chat_id)
            .field("bot_token", &"<redacted>")
            .finish()
    }
}

/// Handle to the background sender. Cheap to clone.
#[derive(Clone)]
pub struct TelegramNotifier {
    tx: mpsc::Sender<Notification>,
}

impl TelegramNotifier {
    /// Start the dispatcher on the current tokio runtime (inside an actix System too).
    pub fn spawn(client: TelegramClient) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(dispatch(client, rx));
        TelegramNotifier { tx }
    }

    /// Queue a message. Never blocks, never fails the caller; returns whether it was queued.
    pub fn notify(&self, n: Notification) -> bool {
        if n.bot_token.trim().is_empty() || n.chat_id.trim().is_empty() {
            return false;
        }
        match self.tx.try_send(n) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "telegram queue full or closed; notification dropped");
                false
            }
        }
    }
}

/// Routes messages to one worker per (bot, chat), so one chat's `retry_after` does not hold up the others.
async fn dispatch(client: TelegramClient, mut rx: mpsc::Receiver<Notification>) {
    let mut chats: HashMap<(String, String), mpsc::Sender<Notification>> = HashMap::new();
    while let Some(n) = rx.recv().await {
        chats.retain(|_, tx| !tx.is_closed());
        let key = (n.bot_token.clone(), n.chat_id.clone());
        let tx = chats.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(PER_CHAT_CAPACITY);
            tokio::spawn(chat_worker(client.clone(), rx));
            tx
        });
        if let Err(e) = tx.try_send(n) {
            tracing::warn!(error = %e, "telegram chat queue full; notification dropped");
        }
    }
}

async fn chat_worker(client: TelegramClient, mut rx: mpsc::Receiver<Notification>) {
    // Exit after a quiet minute; the dispatcher starts a new worker on demand.
    while let Ok(Some(n)) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
        if let Err(e) = client
            .send_with_retry(&n.bot_token, &n.chat_id, &n.text)
            .await
        {
            tracing::warn!(chat_id = %n.chat_id, error = %e, "telegram notification not delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PurchaseInfo {
        PurchaseInfo {
            empresa: "Café <Wifi> & Co".into(),
            plan: "1 hora".into(),
            amount: "15.5".parse().unwrap(),
            currency: "MXN".into(),
            customer: "<script>alert(1)</script>".into(),
            transaction_id: "ord_1".into(),
            gateway: "Conekta".into(),
        }
    }

    #[test]
    fn user_text_is_escaped() {
        let m = paid_message(
            &info(),
            &HotspotAccess::UserPassword {
                username: "PT-AB3C9".into(),
            },
        );
        assert!(m.contains("Café &lt;Wifi&gt; &amp; Co"));
        assert!(m.contains("&lt;script&gt;"));
        assert!(!m.contains("<script>"));
        assert!(m.contains("$15.5 MXN"));
        assert!(m.contains("<code>PT-AB3C9</code>"));
    }

    #[test]
    fn pin_is_never_shown() {
        let m = paid_message(&info(), &HotspotAccess::Pin);
        assert!(m.contains("PIN (entregado al cliente)"));
        let r = rejected_message(&info(), "❌ Fondos <insuficientes>");
        assert!(r.contains("Motivo:</b> ❌ Fondos &lt;insuficientes&gt;"));
    }

    #[test]
    fn test_message_has_three_lines() {
        let m = test_message("Mi <Empresa>");
        assert_eq!(m.lines().count(), 3);
        assert!(m.contains("Prueba de Conexión en Vivo"));
        assert!(m.contains("Empresa: Mi &lt;Empresa&gt;"));
        assert!(m.contains("¡Tus credenciales son correctas!"));
    }

    #[test]
    fn router_messages() {
        assert!(router_down_message("E", "R<1>", "timeout").contains("R&lt;1&gt;"));
        assert!(router_up_message("E", "R", Duration::from_secs(125)).contains("2m 5s"));
    }
}
