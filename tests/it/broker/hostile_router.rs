//! A company admin can point its router at any host, so the broker must survive a hostile
//! "router": one that answers a command with an endless reply. The command ends with a clear
//! error once the reply passes `ROUTER_MAX_REPLY_ROWS`/`_BYTES`, the session is dropped (the
//! rest is never read into memory) and the metric counts it — on a strict and on a pipelined
//! session.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use pagos_hotspot::routeros::{ApiCodec, Sentence};
use serde_json::Value;

use crate::helpers::{spawn_app_with, status_json};

const MAX_ROWS: usize = 2_000;
/// What the hostile router would send if nobody stopped reading: 500 MB.
const HOSTILE_ROWS: usize = 500_000;

/// Logs anyone in, then answers every command with `HOSTILE_ROWS` rows of 1 KB (or until the
/// client hangs up). Returns its port and the count of rows it managed to send.
async fn hostile_router() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut f = tokio_util::codec::Framed::new(s, ApiCodec::new());
                while let Some(Ok(Sentence(words))) = f.next().await {
                    let tag = words
                        .iter()
                        .find(|w| w.starts_with(b".tag="))
                        .cloned()
                        .unwrap_or_default();
                    if words.first().is_some_and(|w| &w[..] == b"/login") {
                        let done = Sentence::new().word(&b"!done"[..]).word(tag);
                        if f.send(done).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    let filler = vec![b'x'; 1000];
                    for i in 0..HOSTILE_ROWS {
                        let mut comment = b"=comment=".to_vec();
                        comment.extend_from_slice(&filler);
                        let row = Sentence::new()
                            .word(&b"!re"[..])
                            .word(format!("=name=p{i}").into_bytes())
                            .word(comment)
                            .word(tag.clone());
                        if f.send(row).await.is_err() {
                            return;
                        }
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    let done = Sentence::new().word(&b"!done"[..]).word(tag);
                    let _ = f.send(done).await;
                }
            });
        }
    });
    (port, sent)
}

async fn endless_reply_is_cut(depth: usize) {
    let (port, sent) = hostile_router().await;
    let app = spawn_app_with(move |c| {
        c.router.reply_limits.max_rows = MAX_ROWS;
        c.router.pipeline_depth = depth;
    })
    .await;
    let t = app.tenant_with_router("Hostil", "127.0.0.1", port).await;
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/admin/routers/{}/mikrotik-profiles",
            t.router.id
        )))
        .bearer_auth(&t.admin_token)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(res).await;
    assert!(s >= 500, "{s}: {v}");
    assert!(v["detail"].is_string(), "{v}");
    // The client stopped reading right after the limit: the router could not push the rest.
    let sent = sent.load(Ordering::Relaxed);
    assert!(sent < HOSTILE_ROWS / 10, "the router sent {sent} rows");
    // Counted.
    let text = app
        .http
        .get(app.metrics_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("router_commands_total{") && l.contains(r#"outcome="reply_too_large""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(counted >= 1.0, "no reply_too_large in:\n{text}");
    // The service is fine and answers the next request.
    let res = app.http.get(app.url("/health")).send().await.unwrap();
    let _: Value = res.json().await.unwrap();
}

#[actix_web::test]
async fn an_endless_reply_is_cut_at_the_limit_on_a_strict_session() {
    endless_reply_is_cut(1).await;
}

#[actix_web::test]
async fn an_endless_reply_is_cut_at_the_limit_on_a_pipelined_session() {
    endless_reply_is_cut(4).await;
}
