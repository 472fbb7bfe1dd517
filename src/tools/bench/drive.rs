//! The load: captive portals buying in a loop, and the simulators' counters.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::report::{proc_cpu_seconds, proc_vm_hwm_mb, Report};
use super::threads::ThreadSnapshot;
use super::{BenchArgs, Observed, Service, SimTotals, Target, MP_PUBLIC_KEY};
use crate::error::Problem;
use crate::routeros::BrokerError;
use crate::sandbox::gateways::SandboxHandle;
use crate::sandbox::routeros_sim::RouterSim;

pub(super) fn sim_totals(sims: &[RouterSim]) -> SimTotals {
    sims.iter().fold(SimTotals::default(), |t, s| SimTotals {
        connections: t.connections + s.connections_opened(),
        rejected: t.rejected + s.connections_rejected(),
        logins: t.logins + s.logins_ok(),
        commands: t.commands + s.commands_total(),
        busy: t.busy + s.busy_time(),
        max_in_flight: t.max_in_flight.max(s.max_in_flight_per_connection()),
    })
}

pub(super) async fn drive(
    args: &BenchArgs,
    service: &Service,
    sb: &SandboxHandle,
    sims: &[RouterSim],
    targets: Vec<Target>,
) -> anyhow::Result<Report> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency + 16)
        .timeout(Duration::from_secs(120))
        .build()?;
    let targets = Arc::new(targets);
    let observed = Arc::new(Mutex::new(Observed::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let before = sim_totals(sims);
    let cpu_before = proc_cpu_seconds(&format!("/proc/{}/stat", service.pid))?;
    let bench_cpu_before = proc_cpu_seconds("/proc/self/stat")?;
    let threads_before = ThreadSnapshot::read(service.pid);

    // The most sessions open at once on one router, sampled every 10 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let controls: Vec<_> = sims.iter().map(|s| s.control()).collect();
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(Ordering::Relaxed) {
                for c in &controls {
                    peak = peak.max(c.sessions_open());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        })
    };

    let started = Instant::now();
    let end = started + Duration::from_secs_f64(args.duration);
    let mut tasks = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let portal = Portal {
            http: http.clone(),
            service: service.base.clone(),
            sandbox: sb.base_url(),
            targets: targets.clone(),
            next: next.clone(),
            observed: observed.clone(),
            retry_pause: Duration::from_millis(args.retry_pause_ms),
        };
        tasks.push(tokio::spawn(portal.run(end)));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let peak_sessions_open = sampler.await?;
    let after = sim_totals(sims);
    let cpu_after = proc_cpu_seconds(&format!("/proc/{}/stat", service.pid))?;
    let bench_cpu_after = proc_cpu_seconds("/proc/self/stat")?;
    let service_threads = threads_before.delta(&ThreadSnapshot::read(service.pid));
    let service_peak_rss_mb = proc_vm_hwm_mb(&format!("/proc/{}/status", service.pid))?;
    let observed = std::mem::take(&mut *observed.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Report {
        elapsed,
        purchases: observed.ok_ms.len(),
        observed,
        sims: SimTotals {
            connections: after.connections - before.connections,
            rejected: after.rejected - before.rejected,
            logins: after.logins - before.logins,
            commands: after.commands - before.commands,
            busy: after.busy.saturating_sub(before.busy),
            max_in_flight: after.max_in_flight,
        },
        peak_sessions_open,
        service_cpu_s: cpu_after - cpu_before,
        service_peak_rss_mb,
        bench_cpu_s: bench_cpu_after - bench_cpu_before,
        service_threads,
        routers: sims.len(),
    })
}

/// One captive portal.
pub(super) struct Portal {
    pub(super) http: reqwest::Client,
    pub(super) service: String,
    pub(super) sandbox: String,
    pub(super) targets: Arc<Vec<Target>>,
    pub(super) next: Arc<AtomicUsize>,
    pub(super) observed: Arc<Mutex<Observed>>,
    pub(super) retry_pause: Duration,
}

/// What one purchase attempt ended with.
pub(super) enum Outcome {
    Ok,
    Busy,
    /// Kind and the answer's `detail`.
    Failed(String, String),
}

impl Portal {
    async fn run(self, end: Instant) {
        let mut token = self.card_token().await;
        while Instant::now() < end {
            let tok = match token {
                Ok(t) => t,
                Err(kind) => {
                    self.record(Outcome::Failed(kind, String::new()), Duration::ZERO);
                    tokio::time::sleep(self.retry_pause.max(Duration::from_millis(10))).await;
                    token = self.card_token().await;
                    continue;
                }
            };
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.targets.len();
            let Some(target) = self.targets.get(i) else {
                return;
            };
            // The next card token is made while this purchase runs (a browser makes it before
            // posting); a token is used once, whatever the outcome.
            let timed = async {
                let t0 = Instant::now();
                let outcome = self.purchase(target, &tok).await;
                (outcome, t0.elapsed())
            };
            let ((outcome, took), next_token) = tokio::join!(timed, self.card_token());
            let failed = !matches!(outcome, Outcome::Ok);
            self.record(outcome, took);
            token = next_token;
            if failed && !self.retry_pause.is_zero() {
                tokio::time::sleep(self.retry_pause).await;
            }
        }
    }

    fn record(&self, outcome: Outcome, took: Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        let mut o = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Outcome::Ok => o.ok_ms.push(ms),
            Outcome::Busy => {
                o.busy_ms.push(ms);
                *o.errors.entry("router_busy_503".into()).or_default() += 1;
            }
            Outcome::Failed(kind, detail) => {
                *o.errors.entry(kind.clone()).or_default() += 1;
                o.error_details.entry(kind).or_insert(detail);
            }
        }
    }

    pub(super) async fn card_token(&self) -> Result<String, String> {
        let res = self
            .http
            .post(format!(
                "{}/v1/card_tokens?public_key={MP_PUBLIC_KEY}",
                self.sandbox
            ))
            .json(&json!({
                "card_number": "4075595716483764",
                "security_code": "123",
                "expiration_month": 11,
                "expiration_year": 2030,
                "cardholder": { "name": "APRO", "identification": { "type": "RFC", "number": "XAXX010101000" } },
            }))
            .send()
            .await
            .map_err(|e| transport_kind("card_token", &e))?;
        if !res.status().is_success() {
            return Err(format!("card_token_http_{}", res.status().as_u16()));
        }
        let v: Value = res
            .json()
            .await
            .map_err(|e| transport_kind("card_token", &e))?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "card_token_malformed".to_string())
    }

    pub(super) async fn purchase(&self, target: &Target, token: &str) -> Outcome {
        let body = json!({
            "producto_id": target.product_id,
            "token": token,
            "payment_method_id": "visa",
            "monto": 15.0,
            "cuotas": 1,
            "nombre_cliente": "Bench Portal",
            "email_cliente": "bench@example.com",
        });
        let res = match self
            .http
            .post(format!(
                "{}/api/v1/payments/pagar-mercado-pago",
                self.service
            ))
            .header("X-API-Key", &target.api_key)
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(transport_kind("purchase", &e), e.to_string()),
        };
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if status == 200 && v["success"] == true {
            return Outcome::Ok;
        }
        let detail = v["detail"].as_str().unwrap_or("");
        if status == 503
            && detail
                == Problem::Router(BrokerError::Busy {
                    retry_after_secs: 1,
                })
                .detail()
        {
            return Outcome::Busy;
        }
        let detail_text = match &v["detail"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Outcome::Failed(error_kind(status, detail), detail_text)
    }
}

/// A failed purchase's kind: the broker's refusals by name, anything else by HTTP status.
pub(super) fn error_kind(status: u16, detail: &str) -> String {
    let named = [
        (
            Problem::Router(BrokerError::Unavailable {
                reason: String::new(),
            }),
            "router_unavailable",
        ),
        (
            Problem::Router(BrokerError::OutcomeUnknown),
            "router_outcome_unknown",
        ),
        (
            Problem::Router(BrokerError::AuthFailed),
            "router_auth_failed",
        ),
        // Money moved but the user is not enabled yet (left to the reconciler).
        (Problem::AccessActivating, "paid_access_pending"),
        (Problem::PaymentConfirming, "paid_confirming"),
    ];
    for (p, name) in named {
        if detail == p.detail() {
            return format!("{name}_{status}");
        }
    }
    format!("http_{status}")
}

pub(super) fn transport_kind(what: &str, e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("{what}_timeout")
    } else if e.is_connect() {
        format!("{what}_connect")
    } else {
        format!("{what}_transport")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_refusals_are_named() {
        let busy = Problem::Router(BrokerError::Busy {
            retry_after_secs: 3,
        })
        .detail();
        assert_eq!(
            busy,
            Problem::Router(BrokerError::Busy {
                retry_after_secs: 1
            })
            .detail()
        );
        let down = Problem::Router(BrokerError::Unavailable { reason: "x".into() }).detail();
        assert_eq!(error_kind(503, &down), "router_unavailable_503");
        assert_eq!(error_kind(500, "boom"), "http_500");
        assert_eq!(
            error_kind(503, &Problem::AccessActivating.detail()),
            "paid_access_pending_503"
        );
    }
}
