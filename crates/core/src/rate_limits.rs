//! Counting for the opt-in rate limits (`--rate-limits clerk`): fixed windows per instance and bucket. On
//! PostgreSQL the count lives in the database, so every node serving it counts the same requests; SQLite has one
//! serving process, which counts in memory (a database write per request would cost a commit).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{Ctx, Result};

/// A limit: at most `max` requests per `window_ms`, counted under `bucket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is counted (`all`, `create_user`…); each bucket has its own count.
    pub bucket: &'static str,
    /// Requests allowed per window.
    pub max: u32,
    /// Window length, ms.
    pub window_ms: i64,
}

/// `(instance id, bucket)` → `(window start, requests counted in it)`.
type Windows = HashMap<(String, String), (i64, i64)>;

/// The in-memory counts (SQLite) by instance and bucket: the current window's start and its count.
#[derive(Debug, Default)]
pub struct Counter {
    local: Mutex<Windows>,
}

impl Counter {
    /// Counts one request of `instance_id` against `limit`, for one `subject` of the instance when the limit is
    /// per resource (Clerk limits updates per user). `Ok(None)`: allowed. `Ok(Some(ms))`: over the limit; the
    /// window ends in `ms` (the request is still counted, as Clerk counts refused requests).
    pub async fn hit(&self, ctx: &Ctx, instance_id: &str, limit: Limit, subject: Option<&str>) -> Result<Option<i64>> {
        let now = ctx.now_ms();
        let window = limit.window_ms.max(1);
        let start = now - now.rem_euclid(window);
        let bucket = match subject {
            Some(s) => format!("{}:{s}", limit.bucket),
            None => limit.bucket.to_owned(),
        };
        let hits = if ctx.db.is_postgres() {
            tessera_store::rate_limits::hit(&ctx.db, instance_id, &bucket, start).await?
        } else {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            if local.len() > 100_000 {
                local.retain(|_, (s, _)| *s == start);
            }
            let entry = local.entry((instance_id.to_owned(), bucket)).or_insert((start, 0));
            if entry.0 != start {
                *entry = (start, 0);
            }
            entry.1 += 1;
            entry.1
        };
        Ok((hits > i64::from(limit.max)).then(|| start + window - now))
    }
}
