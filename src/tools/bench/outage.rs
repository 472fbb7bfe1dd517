//! `--outage-secs N`: recovery instead of throughput. Two scenarios against every simulated router:
//!
//! 1. *Restart while idle*: one purchase, the routers restart (no downtime) while nothing runs,
//!    then 10 purchases one after the other — how many were refused.
//! 2. *Outage while buying*: the portals keep buying; after 2 s the routers go down for N
//!    seconds (connections accepted and closed at once, as a booting router's) and come back; the
//!    portals buy on for 5 s more. Per router: when the first purchase succeeded after it
//!    accepted connections again, and how many were refused after that one (the slowest router,
//!    and the sums).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::drive::{Outcome, Portal};
use super::{BenchArgs, Observed, Service, Target};
use crate::sandbox::gateways::SandboxHandle;
use crate::sandbox::routeros_sim::RouterSim;

/// Purchases made one after the other after the restart while idle.
const AFTER_RESTART: usize = 10;
/// Buying before the outage, and after the routers are back.
const BEFORE: Duration = Duration::from_secs(2);
const AFTER: Duration = Duration::from_secs(5);

/// What the two scenarios measured.
pub(super) struct OutageReport {
    pub(super) restart_refused: usize,
    pub(super) down: Duration,
    /// From the routers accepting connections again to the first purchase that succeeded on
    /// each, for the slowest router (`None` if one never had one).
    pub(super) first_ok_after_up: Option<Duration>,
    pub(super) refused_after_first_ok: usize,
    pub(super) refused_during: usize,
    pub(super) ok_total: usize,
}

impl OutageReport {
    pub(super) fn json(&self) -> Value {
        json!({
            "restart_idle_purchases": AFTER_RESTART,
            "restart_idle_refused": self.restart_refused,
            "outage_s": self.down.as_secs_f64(),
            "first_ok_after_up_ms": self.first_ok_after_up.map(|d| d.as_secs_f64() * 1000.0),
            "refused_after_first_ok": self.refused_after_first_ok,
            "refused_before_first_ok": self.refused_during,
            "purchases_ok": self.ok_total,
        })
    }
}

fn portal(service: &Service, sb: &SandboxHandle, targets: &Arc<Vec<Target>>) -> Portal {
    Portal {
        http: reqwest::Client::new(),
        service: service.base.clone(),
        sandbox: sb.base_url(),
        targets: targets.clone(),
        next: Arc::new(AtomicUsize::new(0)),
        observed: Arc::new(Mutex::new(Observed::default())),
        retry_pause: Duration::from_millis(100),
    }
}

/// One purchase with a fresh card token on the next router: which router, and whether it
/// succeeded.
async fn buy(p: &Portal) -> (usize, bool) {
    let i = p.next.fetch_add(1, Ordering::Relaxed) % p.targets.len().max(1);
    let Ok(token) = p.card_token().await else {
        return (i, false);
    };
    let Some(target) = p.targets.get(i) else {
        return (i, false);
    };
    (i, matches!(p.purchase(target, &token).await, Outcome::Ok))
}

/// Per router: from `up_at` to its first successful purchase, and how many of its purchases
/// were refused after that one and between `down_at` and it. The report takes the worst router
/// and the sums.
fn per_router(
    results: &[(usize, Instant, bool)],
    routers: usize,
    down_at: Instant,
    up_at: Instant,
) -> (Option<Duration>, usize, usize) {
    let mut worst: Option<Duration> = Some(Duration::ZERO);
    let (mut after, mut during) = (0, 0);
    for r in 0..routers {
        let mine = || results.iter().filter(move |(i, _, _)| *i == r);
        let first = mine()
            .filter(|(_, t, ok)| *ok && *t >= up_at)
            .map(|(_, t, _)| *t)
            .min();
        worst = match (worst, first) {
            (Some(w), Some(f)) => Some(w.max(f - up_at)),
            _ => None,
        };
        after += first.map_or(0, |f| mine().filter(|(_, t, ok)| !ok && *t > f).count());
        during += mine()
            .filter(|(_, t, ok)| !ok && *t >= down_at && first.is_none_or(|f| *t <= f))
            .count();
    }
    (worst, after, during)
}

pub(super) async fn outage(
    args: &BenchArgs,
    service: &Service,
    sb: &SandboxHandle,
    sims: &[RouterSim],
    targets: Vec<Target>,
) -> anyhow::Result<OutageReport> {
    let targets = Arc::new(targets);
    let down = Duration::from_secs(args.outage_secs);

    // 1. Restart while idle.
    let p = portal(service, sb, &targets);
    for _ in 0..targets.len() {
        if !buy(&p).await.1 {
            anyhow::bail!("a purchase failed before any restart");
        }
    }
    for s in sims {
        s.reboot();
    }
    let mut restart_refused = 0;
    for _ in 0..AFTER_RESTART {
        if !buy(&p).await.1 {
            restart_refused += 1;
        }
    }

    // 2. Outage while buying.
    let results: Arc<Mutex<Vec<(usize, Instant, bool)>>> = Arc::default();
    let started = Instant::now();
    let end = started + BEFORE + down + AFTER;
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let p = portal(service, sb, &targets);
        let results = results.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let (i, ok) = buy(&p).await;
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, Instant::now(), ok));
                if !ok {
                    tokio::time::sleep(p.retry_pause).await;
                }
            }
        }));
    }
    tokio::time::sleep(BEFORE).await;
    let down_at = Instant::now();
    for s in sims {
        s.reboot_with_downtime(down);
    }
    let up_at = down_at + down;
    for t in tasks {
        t.await?;
    }
    let results = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    let (first_ok_after_up, refused_after_first_ok, refused_during) =
        per_router(&results, targets.len(), down_at, up_at);
    Ok(OutageReport {
        restart_refused,
        down,
        first_ok_after_up,
        refused_after_first_ok,
        refused_during,
        ok_total: results.iter().filter(|(_, _, ok)| *ok).count(),
    })
}

/// Prints the outage report (and its JSON with `--json`).
pub(super) fn print_outage(args: &BenchArgs, r: &OutageReport) {
    let fmt_ms = |d: Option<Duration>| {
        d.map_or_else(
            || "-".to_string(),
            |d| format!("{:.0}", d.as_secs_f64() * 1000.0),
        )
    };
    println!(
        "pagos-hotspot bench --outage-secs {}: {} router(s) at {} ms, pipeline depth {}, {} portals",
        args.outage_secs,
        args.routers,
        args.router_latency_ms,
        args.pipeline_depth(),
        args.concurrency
    );
    println!(
        "restart while idle: {} of {AFTER_RESTART} purchases refused",
        r.restart_refused
    );
    println!(
        "outage of {} s while buying: first purchase ok {} ms after the routers were up; {} refused after it ({} refused from the outage to it; {} ok in all)",
        r.down.as_secs(),
        fmt_ms(r.first_ok_after_up),
        r.refused_after_first_ok,
        r.refused_during,
        r.ok_total
    );
    if args.json {
        println!("{}", r.json());
    }
}
