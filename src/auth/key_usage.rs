//! Usage counters of API keys, batched in memory and flushed with atomic increments instead of
//! a read-modify-write commit on every request.

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use sea_orm::ConnectionTrait;

use crate::db::api_keys;

/// Usage counters of API keys, batched in memory and flushed with atomic increments.
#[derive(Debug, Default)]
pub struct KeyUsage {
    pending: DashMap<String, (i64, DateTime<Utc>)>,
}

impl KeyUsage {
    pub fn record(&self, key_id: &str) {
        let now = Utc::now();
        let mut entry = self.pending.entry(key_id.to_string()).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
    }

    /// Writes the pending counts (`use_count = use_count + n`, `last_used`).
    pub async fn flush<C: ConnectionTrait>(&self, db: &C) -> Result<(), sea_orm::DbErr> {
        let keys: Vec<String> = self.pending.iter().map(|e| e.key().clone()).collect();
        for key_id in keys {
            let Some((_, (count, last))) = self.pending.remove(&key_id) else {
                continue;
            };
            let res = api_keys::add_uses(db, &key_id, count, last).await;
            if let Err(e) = res {
                // Put the count back so it is not lost; the next flush retries.
                let mut entry = self.pending.entry(key_id).or_insert((0, last));
                entry.0 += count;
                return Err(e);
            }
        }
        Ok(())
    }
}
