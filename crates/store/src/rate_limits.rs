//! Request counters of the opt-in rate limits, shared by every node on one PostgreSQL database.

use crate::{Db, StoreResult, exec_write, fetch_write};

/// Counts one request in the window `(instance_id, bucket, window_start)` and returns the window's count after it.
/// The first request of a window also drops the bucket's older windows, and any window of the instance begun over
/// two hours ago (no limit is longer than an hour: such rows are of buckets, e.g. one user's, no longer hit).
pub async fn hit(db: &Db, instance_id: &str, bucket: &str, window_start: i64) -> StoreResult<i64> {
    let hits = fetch_write!(
        db,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO rate_limit_windows (instance_id, bucket, window_start, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (instance_id, bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1 \
             RETURNING hits"
        )
        .bind(instance_id)
        .bind(bucket)
        .bind(window_start)
    )?;
    if hits == 1 {
        exec_write!(
            db,
            sqlx::query(
                "DELETE FROM rate_limit_windows WHERE instance_id = $1 \
                 AND ((bucket = $2 AND window_start < $3) OR window_start < $4)"
            )
            .bind(instance_id)
            .bind(bucket)
            .bind(window_start)
            .bind(window_start - 7_200_000)
        )?;
    }
    Ok(hits)
}
