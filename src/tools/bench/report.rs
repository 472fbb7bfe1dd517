//! The measured figures: process CPU and memory, quantiles, the table and the JSON line.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

use super::threads::{parse_stat_times, ThreadCounters};
use super::{BenchArgs, Observed, SimTotals};

/// The measured figures.
pub(super) struct Report {
    pub(super) elapsed: Duration,
    pub(super) purchases: usize,
    pub(super) observed: Observed,
    pub(super) sims: SimTotals,
    pub(super) peak_sessions_open: usize,
    pub(super) service_cpu_s: f64,
    pub(super) service_peak_rss_mb: f64,
    pub(super) bench_cpu_s: f64,
    /// The service's CPU and context switches per thread group over the run.
    pub(super) service_threads: BTreeMap<String, ThreadCounters>,
    pub(super) routers: usize,
}

/// User + system CPU seconds of a process, from `/proc/<pid>/stat`.
pub(super) fn proc_cpu_seconds(path: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let (user, system) = parse_stat_times(&text).context("malformed /proc stat")?;
    Ok(user + system)
}

/// Peak resident set size (`VmHWM`) of a process, in MiB.
pub(super) fn proc_vm_hwm_mb(path: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmHWM in /proc status")?;
    Ok(kb as f64 / 1024.0)
}

/// The `q` quantile (0..=1) of sorted samples, nearest-rank.
pub(super) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

pub(super) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The per-group figures divided by the purchases: `{group: {user_ms, system_ms, switches}}`
/// per purchase, plus the totals under `"all"`.
pub(super) fn per_purchase_json(
    groups: &BTreeMap<String, ThreadCounters>,
    purchases: usize,
) -> Value {
    let n = purchases.max(1) as f64;
    let mut total = ThreadCounters::default();
    let mut map = serde_json::Map::new();
    let entry = |c: &ThreadCounters| {
        json!({
            "user_ms": round(c.user_s * 1000.0 / n, 3),
            "system_ms": round(c.system_s * 1000.0 / n, 3),
            "context_switches": round((c.voluntary_switches + c.involuntary_switches) as f64 / n, 1),
        })
    };
    for (name, c) in groups {
        total.user_s += c.user_s;
        total.system_s += c.system_s;
        total.voluntary_switches += c.voluntary_switches;
        total.involuntary_switches += c.involuntary_switches;
        if c.user_s + c.system_s > 0.0 || c.voluntary_switches > 0 {
            map.insert(name.clone(), entry(c));
        }
    }
    map.insert("all".to_string(), entry(&total));
    Value::Object(map)
}

pub(super) fn report_json(args: &BenchArgs, r: &Report) -> Value {
    let mut ok = r.observed.ok_ms.clone();
    ok.sort_by(f64::total_cmp);
    let mut busy = r.observed.busy_ms.clone();
    busy.sort_by(f64::total_cmp);
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let pct = |v: &[f64], q| quantile(v, q).map(|x| round(x, 2));
    let errors: serde_json::Map<String, Value> = r
        .observed
        .errors
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "mode": if args.connect_per_request { "connect-per-request" } else { "broker" },
        "routers": r.routers,
        "concurrency": args.concurrency,
        "router_latency_ms": args.router_latency_ms,
        "router_pipeline_depth": args.pipeline_depth(),
        "gateway_latency_ms": args.gateway_latency_ms,
        "duration_s": round(secs, 3),
        "purchases": r.purchases,
        "purchases_per_s": round(r.purchases as f64 / secs, 2),
        "p50_ms": pct(&ok, 0.50),
        "p95_ms": pct(&ok, 0.95),
        "p99_ms": pct(&ok, 0.99),
        "max_ms": ok.last().map(|x| round(*x, 2)),
        "router_commands_per_s": round(r.sims.commands as f64 / secs, 2),
        "router_sessions_opened": r.sims.connections - r.sims.rejected,
        "router_logins": r.sims.logins,
        "router_connections_rejected_max_sessions": r.sims.rejected,
        "router_peak_sessions_open": r.peak_sessions_open,
        "router_max_in_flight_per_session": r.sims.max_in_flight,
        "router_busy_fraction": round(r.sims.busy.as_secs_f64() / (secs * r.routers as f64), 4),
        "router_service_ms": args.router_service_ms,
        // The share of the routers' own time spent on commands (with --router-service-ms).
        "router_cpu_busy_fraction": (args.router_service_ms > 0.0).then(|| round(
            r.sims.commands as f64 * args.router_service_ms / 1000.0 / (secs * r.routers as f64),
            4,
        )),
        "errors": errors,
        "error_details": r.observed.error_details,
        "busy_reply_p50_ms": pct(&busy, 0.50),
        "busy_reply_p99_ms": pct(&busy, 0.99),
        "cpu_s_per_purchase": (r.purchases > 0).then(|| round(r.service_cpu_s / r.purchases as f64, 6)),
        "service_cpu_s": round(r.service_cpu_s, 2),
        "service_cpu_cores": round(r.service_cpu_s / secs, 3),
        "bench_process_cpu_cores": round(r.bench_cpu_s / secs, 3),
        "peak_rss_mb": round(r.service_peak_rss_mb, 1),
        "service_threads_per_purchase": per_purchase_json(&r.service_threads, r.purchases),
    })
}

pub(super) fn print_report(args: &BenchArgs, r: &Report) -> anyhow::Result<()> {
    use std::io::Write as _;
    let v = report_json(args, r);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "pagos-hotspot bench: {} mode, {} router(s) at {} ms, pipeline depth {}, gateway {} ms, {} portals, {:.1} s",
        v["mode"].as_str().unwrap_or(""),
        args.routers,
        args.router_latency_ms,
        args.pipeline_depth(),
        args.gateway_latency_ms,
        args.concurrency,
        r.elapsed.as_secs_f64()
    )?;
    let rows: &[(&str, &str)] = &[
        ("purchases", "purchases"),
        ("purchases/s", "purchases_per_s"),
        ("p50 ms", "p50_ms"),
        ("p95 ms", "p95_ms"),
        ("p99 ms", "p99_ms"),
        ("max ms", "max_ms"),
        ("router commands/s", "router_commands_per_s"),
        ("router sessions opened", "router_sessions_opened"),
        ("router logins", "router_logins"),
        (
            "connections refused (max-sessions)",
            "router_connections_rejected_max_sessions",
        ),
        (
            "peak sessions open on a router",
            "router_peak_sessions_open",
        ),
        (
            "max commands in flight on a session",
            "router_max_in_flight_per_session",
        ),
        ("router busy fraction", "router_busy_fraction"),
        ("router CPU busy fraction", "router_cpu_busy_fraction"),
        ("RouterBusy reply p50 ms", "busy_reply_p50_ms"),
        ("RouterBusy reply p99 ms", "busy_reply_p99_ms"),
        ("service CPU s / purchase", "cpu_s_per_purchase"),
        ("service CPU (cores)", "service_cpu_cores"),
        ("load generator CPU (cores)", "bench_process_cpu_cores"),
        ("service peak RSS MiB", "peak_rss_mb"),
    ];
    writeln!(out, "{:<38} {:>14}", "metric", "value")?;
    writeln!(out, "{:-<38} {:->14}", "", "")?;
    for (label, key) in rows {
        let cell = match &v[*key] {
            Value::Null => "-".to_string(),
            other => other.to_string(),
        };
        writeln!(out, "{label:<38} {cell:>14}")?;
    }
    if let Some(groups) = v["service_threads_per_purchase"].as_object() {
        writeln!(
            out,
            "service CPU per purchase, by thread: user ms / kernel ms / context switches"
        )?;
        for (name, g) in groups {
            writeln!(
                out,
                "    {name:<34} {} / {} / {}",
                g["user_ms"], g["system_ms"], g["context_switches"]
            )?;
        }
    }
    let errors = v["errors"].as_object().cloned().unwrap_or_default();
    if errors.is_empty() {
        writeln!(out, "{:<38} {:>14}", "errors", 0)?;
    } else {
        for (k, n) in errors {
            writeln!(out, "{:<38} {:>14}", format!("error: {k}"), n.to_string())?;
            if let Some(d) = v["error_details"][&k].as_str().filter(|d| !d.is_empty()) {
                writeln!(out, "    e.g. {d}")?;
            }
        }
    }
    if args.json {
        writeln!(out, "{v}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_groups_are_given_per_purchase_with_their_total() {
        let c = |u: f64, s: f64, v: u64| ThreadCounters {
            user_s: u,
            system_s: s,
            voluntary_switches: v,
            involuntary_switches: 1,
        };
        let groups = BTreeMap::from([
            ("w".to_string(), c(1.5, 0.5, 10)),
            ("x".to_string(), c(0.5, 0.0, 0)),
        ]);
        let j = per_purchase_json(&groups, 10);
        assert_eq!(j["w"]["user_ms"], 150.0);
        assert_eq!(j["w"]["context_switches"], 1.1);
        assert_eq!(j["all"]["system_ms"], 50.0);
        assert_eq!(j["all"]["context_switches"], 1.2);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.50), Some(50.0));
        assert_eq!(quantile(&v, 0.95), Some(95.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[7.0], 0.5), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn proc_stat_is_parsed_after_the_command_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stat");
        // A command name with a space and a parenthesis; utime 250, stime 50 ticks.
        std::fs::write(
            &p,
            "42 (we) ird) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 1 1",
        )
        .unwrap();
        let s = proc_cpu_seconds(p.to_str().unwrap()).unwrap();
        assert!((s - 3.0).abs() < 1e-9, "{s}");
        std::fs::write(&p, "VmPeak:\t 100 kB\nVmHWM:\t   2048 kB\n").unwrap();
        assert_eq!(proc_vm_hwm_mb(p.to_str().unwrap()).unwrap(), 2.0);
    }
}
