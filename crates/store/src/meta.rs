//! Server-wide key/value facts.

use crate::{Db, StoreResult, exec_write, on_read};

/// Reads a value.
pub async fn get(db: &Db, key: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>("SELECT value FROM server_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(c)
        .await)?)
}

/// Sets a value if it is not set yet; returns whether it was inserted.
pub async fn insert_if_absent(db: &Db, key: &str, value: &str) -> StoreResult<bool> {
    let n = exec_write!(
        db,
        sqlx::query("INSERT INTO server_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
    )?;
    Ok(n == 1)
}
