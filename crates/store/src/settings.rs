//! Per-instance settings: one JSON document per settings group (`instance_settings`), plus the few instance-row
//! writes that settings changes need (row lock, publishable key).

use std::sync::LazyLock;

use crate::direct_reads::sqlite_placeholders;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// Reads one settings group's JSON document.
pub async fn get(db: &Db, instance_id: &str, grp: &str) -> StoreResult<Option<String>> {
    // Read by most requests of the Frontend API and by every session token minted: on SQLite without the hop to a
    // connection thread.
    const SQL: &str = "SELECT value FROM instance_settings WHERE instance_id = $1 AND grp = $2";
    if let Db::Sqlite(pools) = db {
        static SQLITE: LazyLock<String> = LazyLock::new(|| sqlite_placeholders(SQL));
        return pools.direct.optional(&SQLITE, [instance_id.to_owned(), grp.to_owned()], |r| r.get(0)).await;
    }
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(SQL).bind(instance_id).bind(grp).fetch_optional(c).await)?)
}

/// Reads one settings group's JSON document inside a write transaction (read-modify-write).
pub async fn get_tx(tx: &mut Tx, instance_id: &str, grp: &str) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar::<_, String>("SELECT value FROM instance_settings WHERE instance_id = $1 AND grp = $2")
            .bind(instance_id)
            .bind(grp)
    )
}

/// Writes one settings group's JSON document (insert or replace).
pub async fn put(tx: &mut Tx, instance_id: &str, grp: &str, value: &str, now: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO instance_settings (instance_id, grp, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance_id, grp) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        .bind(instance_id)
        .bind(grp)
        .bind(value)
        .bind(now)
    )?;
    Ok(())
}

/// Bumps the instance's `updated_at`. Called first in every settings transaction: on PostgreSQL the row lock it
/// takes serializes concurrent read-modify-write of the instance's settings (SQLite already has one writer).
/// Returns whether the instance exists.
pub async fn lock_instance(tx: &mut Tx, instance_id: &str, now: i64) -> StoreResult<bool> {
    let n =
        exec_tx!(tx, sqlx::query("UPDATE instances SET updated_at = $2 WHERE id = $1").bind(instance_id).bind(now))?;
    Ok(n == 1)
}

/// The instance's environment (`development` / `production`), read inside a transaction.
pub async fn environment_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar::<_, String>("SELECT environment_type FROM instances WHERE id = $1").bind(instance_id)
    )
}

/// Replaces the instance's publishable key (it encodes the Frontend API host, which follows the primary domain).
pub async fn set_publishable_key(tx: &mut Tx, instance_id: &str, publishable_key: &str, now: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE instances SET publishable_key = $2, updated_at = $3 WHERE id = $1")
            .bind(instance_id)
            .bind(publishable_key)
            .bind(now)
    )?;
    Ok(())
}
