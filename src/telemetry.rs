//! Logging: JSON (or pretty) `tracing` output with secret redaction, and a middleware that
//! gives every request an id (`X-Request-Id`, taken from the client when it is sane) and a
//! span carrying the company, router, user and purchase ids that handlers record.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::{Instrument, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// `RUST_LOG`, or a default that keeps the service at `info` and quiets the SQL and server
/// crates.
pub fn default_filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"))
}

/// A subscriber writing `json` (one object per line, the current span's fields under `span`)
/// or `pretty` logs to `make_writer`, with secret-looking fields redacted (see
/// [`is_secret_field`] and [`Redacting`]). Install it globally with
/// `SubscriberInitExt::try_init`, or per thread with `tracing::subscriber::set_default`.
pub fn subscriber<M>(
    format: &str,
    filter: EnvFilter,
    make_writer: M,
) -> Box<dyn Subscriber + Send + Sync + 'static>
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let writer = Redacting::new(make_writer);
    let registry = tracing_subscriber::registry().with(filter);
    if format == "pretty" {
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .fmt_fields(redacting_fields())
                    .with_writer(writer),
            ),
        )
    } else {
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            ),
        )
    }
}

/// Installs the global subscriber (stdout) once; later calls are no-ops.
pub fn init(format: &str) {
    init_with_writer(format, std::io::stdout);
}

/// Installs the global subscriber with a caller-chosen writer and the `RUST_LOG` filter.
/// Returns false when a global subscriber was already installed.
pub fn init_with_writer<M>(format: &str, make_writer: M) -> bool
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    subscriber(format, default_filter(), make_writer)
        .try_init()
        .is_ok()
}

/// Human-readable logs on stderr, for the tools whose stdout carries data (simulators).
pub fn init_stderr() {
    init_with_writer("pretty", std::io::stderr);
}

// ---------------------------------------------------------------------------------------------
// Redaction: defence in depth. The rule is still "never log a secret"; this masks the values
// of fields whose names look secret, and bearer credentials / JWTs inside any logged string.

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Field names whose values are never written: any name containing one of these
/// (case-insensitive), or exactly `key` / `pin`.
const SECRET_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "privatekey",
    "api_key",
    "apikey",
    "x-api-key",
    "authorization",
    "cookie",
    "credential",
    "master_key",
    "card_number",
    "cvv",
    "cvc",
];

/// True when a field with this name must not be logged in clear.
pub fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "key" || lower == "pin" || SECRET_NAME_PARTS.iter().any(|p| lower.contains(p))
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Masks credentials inside free text: the value after `Bearer `/`Basic `, and JWT-shaped
/// tokens (`eyJ….….…`, which covers session tokens and `jwt_` router API keys).
pub fn scrub_text(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // `Bearer xyz` / `Basic xyz`
        let scheme_len = ["bearer ", "basic "].iter().find_map(|scheme| {
            let end = i + scheme.len();
            (end <= bytes.len()
                && bytes[i..end].eq_ignore_ascii_case(scheme.as_bytes())
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()))
            .then_some(scheme.len())
        });
        if let Some(len) = scheme_len {
            let start = i + len;
            let mut end = start;
            while end < bytes.len() && (is_b64url(bytes[end]) || b".+/=~:".contains(&bytes[end])) {
                end += 1;
            }
            if end > start {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
                continue;
            }
        }
        // eyJ<b64url>.<b64url>.<b64url>
        if bytes[i..].starts_with(b"eyJ") && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let mut end = i;
            let mut dots = 0;
            while end < bytes.len() && (is_b64url(bytes[end]) || bytes[end] == b'.') {
                if bytes[end] == b'.' {
                    dots += 1;
                }
                end += 1;
            }
            if dots >= 2 {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

fn redact_value(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (k, v) in map.iter_mut() {
                if is_secret_field(k) && !v.is_null() && v.as_str() != Some(REDACTED) {
                    *v = Value::String(REDACTED.into());
                    changed = true;
                } else {
                    changed |= redact_value(v);
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, v| redact_value(v) | c),
        Value::String(s) => match scrub_text(s) {
            std::borrow::Cow::Owned(clean) => {
                *s = clean;
                true
            }
            std::borrow::Cow::Borrowed(_) => false,
        },
        _ => false,
    }
}

/// Redacts one log line: a JSON object gets secret-named fields masked at any depth and
/// credentials scrubbed from every string; any other line is scrubbed as text.
pub fn redact_line(line: &str) -> std::borrow::Cow<'_, str> {
    if line.trim_start().starts_with('{') {
        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(line) {
            if !redact_value(&mut value) {
                return std::borrow::Cow::Borrowed(line);
            }
            if let Ok(text) = serde_json::to_string(&value) {
                return std::borrow::Cow::Owned(text);
            }
        }
    }
    scrub_text(line)
}

/// Field formatter for the `pretty` format: secret-named fields print as `[REDACTED]`.
fn redacting_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(
        |writer: &mut tracing_subscriber::fmt::format::Writer<'_>,
         field: &tracing::field::Field,
         value: &dyn std::fmt::Debug| {
            if is_secret_field(field.name()) {
                write!(writer, "{}={}", field.name(), REDACTED)
            } else if field.name() == "message" {
                write!(writer, "{value:?}")
            } else {
                write!(writer, "{}={:?}", field.name(), value)
            }
        },
    )
    .delimited(" ")
}

/// A `MakeWriter` wrapper that passes every log line through [`redact_line`].
#[derive(Debug, Clone)]
pub struct Redacting<M>(M);

impl<M> Redacting<M> {
    pub fn new(make_writer: M) -> Self {
        Self(make_writer)
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter::new(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter::new(self.0.make_writer_for(meta))
    }
}

/// Buffers up to each newline, then writes the redacted line.
pub struct RedactingWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, line: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(line);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let clean = redact_line(body);
        let mut out = Vec::with_capacity(clean.len() + 1);
        out.extend_from_slice(clean.as_bytes());
        out.extend_from_slice(newline.as_bytes());
        self.inner.write_all(&out)
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            self.emit(&line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// An in-memory log sink (for tests and the demo): every writer appends to one shared buffer.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Bytes written so far (a mark for [`LogBuffer::since`]).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything written.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// What was written after `mark` (a value of [`LogBuffer::len`]).
    pub fn since(&self, mark: usize) -> String {
        let buf = self.lock();
        String::from_utf8_lossy(buf.get(mark..).unwrap_or_default()).into_owned()
    }
}

/// A writer of a [`LogBuffer`].
pub struct LogBufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogBufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBufferWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogBufferWriter(self.0.clone())
    }
}

fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then(|| s.to_string())
}

/// Per-request span, request id and one completion log line.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        empresa_id = tracing::field::Empty,
        router_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
        purchase_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16();
    span.record("route", route.as_str());
    span.record("status", status);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(elapsed_ms, "request failed");
        } else {
            tracing::info!(elapsed_ms, "request completed");
        }
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn secret_field_names() {
        for name in [
            "password",
            "router_password",
            "card_token",
            "access_token",
            "private_key",
            "conekta_private_key",
            "webhook_secret",
            "Authorization",
            "x-api-key",
            "api_key",
            "bot_token",
            "key",
        ] {
            assert!(is_secret_field(name), "{name}");
        }
        for name in [
            "user_id",
            "router_id",
            "key_id",
            "email",
            "message",
            "amount",
        ] {
            assert!(!is_secret_field(name), "{name}");
        }
    }

    #[test]
    fn scrubs_bearer_credentials_and_jwts_from_text() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let t = format!("header Authorization: Bearer {jwt} sent; key jwt_{jwt} too");
        let clean = scrub_text(&t);
        assert!(!clean.contains("eyJ"), "{clean}");
        assert!(!clean.contains("c2lnbmF0dXJl"), "{clean}");
        assert_eq!(
            clean,
            "header Authorization: Bearer [REDACTED] sent; key jwt_[REDACTED] too"
        );
        assert_eq!(
            scrub_text("Basic dXNlcjpwYXNz"),
            "Basic [REDACTED]".to_string()
        );
        // Ordinary text is untouched (and not copied).
        let plain = "router RTR_0001 answered in 3 ms; eyJ without dots";
        assert!(matches!(scrub_text(plain), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn redacts_json_fields_at_any_depth() {
        let line = r#"{"fields":{"message":"x","password":"hunter2","n":1},"span":{"request_id":"r1","access_token":"APP_USR-1"},"list":[{"card_token":"tok_x"}],"nothing":null}"#;
        let out = redact_line(line);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["fields"]["password"], REDACTED);
        assert_eq!(v["fields"]["n"], 1);
        assert_eq!(v["span"]["access_token"], REDACTED);
        assert_eq!(v["span"]["request_id"], "r1");
        assert_eq!(v["list"][0]["card_token"], REDACTED);
        assert!(v["nothing"].is_null());
        // Unchanged lines are passed through byte for byte.
        let clean = r#"{"b":1,"a":"x"}"#;
        assert_eq!(redact_line(clean), clean);
    }

    fn emit_secrets() {
        let span = tracing::info_span!(
            "request",
            request_id = "req-1",
            access_token = "APP_USR-span-secret"
        );
        let _g = span.enter();
        tracing::info!(
            password = "hunter2-password",
            card_token = %"tok_test_visa_4242",
            user_id = 7,
            "login for Bearer abcdefghijklmnop"
        );
    }

    #[test]
    fn json_subscriber_redacts_event_and_span_fields() {
        let buf = LogBuffer::new();
        let sub = subscriber("json", EnvFilter::new("trace"), buf.clone());
        tracing::subscriber::with_default(sub, emit_secrets);
        let out = buf.contents();
        for secret in [
            "hunter2-password",
            "tok_test_visa_4242",
            "APP_USR-span-secret",
            "abcdefghijklmnop",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["fields"]["password"], REDACTED);
        assert_eq!(line["fields"]["card_token"], REDACTED);
        assert_eq!(line["fields"]["user_id"], 7);
        assert_eq!(line["fields"]["message"], "login for Bearer [REDACTED]");
        assert_eq!(line["span"]["request_id"], "req-1");
        assert_eq!(line["span"]["access_token"], REDACTED);
    }

    #[test]
    fn pretty_subscriber_redacts_fields() {
        let buf = LogBuffer::new();
        let sub = subscriber("pretty", EnvFilter::new("trace"), buf.clone());
        tracing::subscriber::with_default(sub, emit_secrets);
        let out = buf.contents();
        for secret in [
            "hunter2-password",
            "tok_test_visa_4242",
            "APP_USR-span-secret",
            "abcdefghijklmnop",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("password=[REDACTED]"), "{out}");
        assert!(out.contains("user_id=7"), "{out}");
        assert!(out.contains("req-1"), "{out}");
    }

    #[test]
    fn redacting_writer_handles_split_and_unterminated_writes() {
        let buf = LogBuffer::new();
        let make = Redacting::new(buf.clone());
        {
            let mut w = make.make_writer();
            w.write_all(br#"{"password":"#).unwrap();
            w.write_all(b"\"p1\"}\n{\"token\":\"t2\"}").unwrap();
        }
        assert_eq!(
            buf.contents(),
            "{\"password\":\"[REDACTED]\"}\n{\"token\":\"[REDACTED]\"}"
        );
    }
}
