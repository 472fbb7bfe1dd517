//! Fake Telegram Bot API: `sendMessage` and `getMe`, with HTML entity checking and 429 injection.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{now, Shared, TelegramMessage};

/// Chat id that answers `400 Bad Request: chat not found`.
pub(crate) const CHAT_NOT_FOUND: &str = "-100404";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/bot{token}/sendMessage", web::post().to(send_message))
        .route("/bot{token}/getMe", web::get().to(get_me))
        .route("/bot{token}/getMe", web::post().to(get_me));
}

fn fail(code: u16, description: &str, retry_after: Option<u64>) -> HttpResponse {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(r) = retry_after {
        body["parameters"] = json!({ "retry_after": r });
    }
    let status = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(body)
}

/// `<digits>:<at least 10 of [A-Za-z0-9_-]>`.
fn valid_token(t: &str) -> bool {
    match t.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && secret.len() >= 10
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

async fn get_me(path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    if !valid_token(&token) {
        return fail(401, "Unauthorized", None);
    }
    let id: i64 = token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    HttpResponse::Ok().json(json!({ "ok": true, "result": { "id": id, "is_bot": true,
        "first_name": "Sandbox Bot", "username": "sandbox_bot" } }))
}

async fn send_message(
    shared: web::Data<Shared>,
    req: HttpRequest,
    path: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    let token = path.into_inner();
    let body: Value = if req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&bytes);
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => return fail(400, "Bad Request: invalid JSON", None),
        }
    };
    {
        let mut g = shared.lock();
        if g.faults.telegram_429_next > 0 {
            g.faults.telegram_429_next -= 1;
            let r = g.faults.telegram_retry_after;
            drop(g);
            return fail(429, &format!("Too Many Requests: retry after {r}"), Some(r));
        }
    }
    if !valid_token(&token) {
        return fail(401, "Unauthorized", None);
    }
    let chat_id = match &body["chat_id"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) if !s.is_empty() => s.clone(),
        _ => return fail(400, "Bad Request: chat_id is empty", None),
    };
    if chat_id == CHAT_NOT_FOUND {
        return fail(400, "Bad Request: chat not found", None);
    }
    let text = body["text"].as_str().unwrap_or("").to_owned();
    if text.trim().is_empty() {
        return fail(400, "Bad Request: message text is empty", None);
    }
    let parse_mode = body["parse_mode"].as_str().map(str::to_owned);
    let plain = if parse_mode
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("html"))
    {
        match check_html(&text) {
            Ok(p) => p,
            Err(e) => {
                return fail(
                    400,
                    &format!("Bad Request: can't parse entities: {e}"),
                    None,
                )
            }
        }
    } else {
        text.clone()
    };
    if plain.chars().count() > 4096 {
        return fail(400, "Bad Request: message is too long", None);
    }
    let message_id = {
        let mut g = shared.lock();
        g.telegram.push(TelegramMessage {
            bot_token: token.clone(),
            chat_id: chat_id.clone(),
            text: text.clone(),
            parse_mode,
        });
        g.telegram.len()
    };
    HttpResponse::Ok().json(json!({ "ok": true, "result": {
        "message_id": message_id,
        "from": { "id": token.split(':').next().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0), "is_bot": true,
                  "first_name": "Sandbox Bot", "username": "sandbox_bot" },
        "chat": { "id": body["chat_id"], "type": "private" },
        "date": now(),
        "text": plain,
    }}))
}

fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(bytes))
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
];

/// Check Telegram HTML: only supported tags, properly nested; only the named entities Telegram supports.
/// Returns the text without markup.
pub(crate) fn check_html(text: &str) -> Result<String, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest
                    .find('>')
                    .ok_or_else(|| "unclosed start tag".to_owned())?;
                let inner = &rest[1..end];
                let (closing, inner) = match inner.strip_prefix('/') {
                    Some(i) => (true, i),
                    None => (false, inner),
                };
                let name = inner.split_whitespace().next().unwrap_or("").to_lowercase();
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!("unsupported start tag \"{name}\""));
                }
                if closing {
                    if stack.pop().as_deref() != Some(name.as_str()) {
                        return Err(format!("unmatched end tag \"{name}\""));
                    }
                } else {
                    stack.push(name);
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let semi = rest.find(';').filter(|i| *i <= 10);
                let entity = semi.map(|i| &rest[..=i]);
                let decoded = match entity {
                    Some("&amp;") => '&',
                    Some("&lt;") => '<',
                    Some("&gt;") => '>',
                    Some("&quot;") => '"',
                    Some(e) if e.starts_with("&#") => e[2..e.len() - 1]
                        .parse::<u32>()
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("unsupported entity {e}"))?,
                    Some(e) if e[1..e.len() - 1].chars().all(|c| c.is_ascii_alphanumeric()) => {
                        return Err(format!("unsupported entity {e}"))
                    }
                    _ => {
                        out.push('&');
                        rest = &rest[1..];
                        continue;
                    }
                };
                out.push(decoded);
                rest = &rest[entity.map_or(1, str::len)..];
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!(
            "can't find end tag corresponding to start tag \"{open}\""
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_checker() {
        assert_eq!(
            check_html("<b>a</b> &lt;x&gt; &amp; y").unwrap(),
            "a <x> & y"
        );
        assert!(check_html("<b>a").is_err());
        assert!(check_html("<script>x</script>").is_err());
        assert!(check_html("<b><i>x</b></i>").is_err());
        assert!(check_html("a &foo; b").is_err());
        assert_eq!(check_html("a & b").unwrap(), "a & b");
        assert!(valid_token("123456:ABCdef_ghij-kl"));
        assert!(!valid_token("nope"));
    }
}
