//! Memory footprint of router actors, for the README figure and the benchmark.

use futures_util::future::join_all;

use crate::messages::BrokerError;
use crate::registry::RouterRegistry;

/// Resident set size of this process in bytes (Linux `/proc/self/status`), if available.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The resident memory of a set of connected, idle actors.
#[derive(Debug, Clone, Copy)]
pub struct Footprint {
    pub actors: usize,
    pub rss_before: u64,
    pub rss_after: u64,
}

impl Footprint {
    /// RSS growth divided by the number of actors.
    pub fn per_actor_bytes(&self) -> u64 {
        let n = u64::try_from(self.actors.max(1)).unwrap_or(u64::MAX);
        self.rss_after.saturating_sub(self.rss_before) / n
    }
}

/// Starts the actors of `router_ids` (each opens and logs in its session, `chunk` at a time) and
/// measures how much the process's resident memory grew. Warm the registry up on a few other
/// routers first so one-time costs (the broker thread, pools) are not counted.
pub async fn measure_idle_actors(
    registry: &RouterRegistry,
    router_ids: &[String],
    chunk: usize,
) -> Result<Footprint, BrokerError> {
    let rss_before = rss_bytes().unwrap_or(0);
    for ids in router_ids.chunks(chunk.max(1)) {
        for r in join_all(ids.iter().map(|id| registry.identity(id))).await {
            r?;
        }
    }
    let rss_after = rss_bytes().unwrap_or(0);
    Ok(Footprint {
        actors: router_ids.len(),
        rss_before,
        rss_after,
    })
}
