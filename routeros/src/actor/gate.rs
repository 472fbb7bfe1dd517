//! The fleet-wide connection gate.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::client::{ConnectOptions, RouterClient};
use crate::commands::SystemResource;
use crate::error::RouterError;

/// Bounds connection attempts (TCP + login) in flight across every router, and counts them.
#[derive(Debug)]
pub struct ConnectGate {
    sem: Semaphore,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    attempts: AtomicU64,
}

impl ConnectGate {
    pub fn new(concurrency: usize) -> Self {
        Self {
            sem: Semaphore::new(concurrency.max(1)),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            attempts: AtomicU64::new(0),
        }
    }

    /// The most attempts that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::Acquire)
    }

    /// Connection attempts so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Acquire)
    }

    pub(super) async fn connect(
        &self,
        opts: &ConnectOptions,
    ) -> Result<(RouterClient, SystemResource), RouterError> {
        let _permit = self
            .sem
            .acquire()
            .await
            .map_err(|_| RouterError::Io("connection gate closed".into()))?;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        let n = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.max_in_flight.fetch_max(n, Ordering::AcqRel);
        let r = async {
            let mut c = RouterClient::connect(opts).await?;
            let res = c.system_resource().await?;
            Ok((c, res))
        }
        .await;
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        r
    }
}
