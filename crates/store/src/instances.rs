//! Instances, their secret keys and their signing keyring.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, on_read};

/// A row of `instances`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct InstanceRow {
    /// `ins_…`
    pub id: String,
    /// `development` or `production`.
    pub environment_type: String,
    /// `pk_test_…` / `pk_live_…` (public, stored as is).
    pub publishable_key: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `signing_keys`: one RSA key of an instance's keyring.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SigningKeyRow {
    /// The key id (`kid`).
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `RS256`.
    pub algorithm: String,
    /// PKCS#8 private key, sealed with the master key.
    pub private_key_sealed: Vec<u8>,
    /// Public modulus, base64url.
    pub public_n: String,
    /// Public exponent, base64url.
    pub public_e: String,
    /// The key that signs new tokens; others only verify.
    pub active: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; retired keys are no longer published.
    pub retired_at: Option<i64>,
}

/// Inserts an instance.
pub async fn insert(tx: &mut Tx, row: &InstanceRow) -> StoreResult<()> {
    exec_tx!(tx, sqlx::query(
        "INSERT INTO instances (id, environment_type, publishable_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&row.id)
    .bind(&row.environment_type)
    .bind(&row.publishable_key)
    .bind(row.created_at)
    .bind(row.updated_at))?;
    Ok(())
}

/// Inserts the HMAC digest of an instance secret key.
pub async fn insert_secret_key(
    tx: &mut Tx,
    id: &str,
    instance_id: &str,
    secret_hash: &[u8],
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO instance_secret_keys (id, instance_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(id)
        .bind(instance_id)
        .bind(secret_hash)
        .bind(now)
    )?;
    Ok(())
}

/// Inserts a signing key.
pub async fn insert_signing_key(tx: &mut Tx, row: &SigningKeyRow) -> StoreResult<()> {
    exec_tx!(tx, sqlx::query(
        "INSERT INTO signing_keys (id, instance_id, algorithm, private_key_sealed, public_n, public_e, active, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&row.id)
    .bind(&row.instance_id)
    .bind(&row.algorithm)
    .bind(&row.private_key_sealed)
    .bind(&row.public_n)
    .bind(&row.public_e)
    .bind(row.active)
    .bind(row.created_at)
    .bind(row.retired_at))?;
    Ok(())
}

/// The instance whose secret key has this digest.
pub async fn find_by_secret_hash(db: &Db, secret_hash: &[u8]) -> StoreResult<Option<InstanceRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, InstanceRow>(
        "SELECT i.id, i.environment_type, i.publishable_key, i.created_at, i.updated_at \
         FROM instance_secret_keys k JOIN instances i ON i.id = k.instance_id WHERE k.secret_hash = $1"
    )
    .bind(secret_hash)
    .fetch_optional(c)
    .await)?)
}

/// One instance by id.
pub async fn get(db: &Db, id: &str) -> StoreResult<Option<InstanceRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, InstanceRow>(
        "SELECT id, environment_type, publishable_key, created_at, updated_at FROM instances WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// All instances, oldest first.
pub async fn list(db: &Db) -> StoreResult<Vec<InstanceRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, InstanceRow>(
        "SELECT id, environment_type, publishable_key, created_at, updated_at FROM instances ORDER BY created_at, id"
    )
    .fetch_all(c)
    .await)?)
}

/// Number of instances (first start creates one when this is zero).
pub async fn count(db: &Db) -> StoreResult<i64> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM instances").fetch_one(c).await)?)
}

/// The instance's signing keys that are not retired, active first.
pub async fn signing_keys(db: &Db, instance_id: &str) -> StoreResult<Vec<SigningKeyRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, SigningKeyRow>(
        "SELECT id, instance_id, algorithm, private_key_sealed, public_n, public_e, active, created_at, retired_at \
         FROM signing_keys WHERE instance_id = $1 AND retired_at IS NULL ORDER BY active DESC, created_at DESC"
    )
    .bind(instance_id)
    .fetch_all(c)
    .await)?)
}

/// Makes every key of the instance's keyring verify-only (before a new active key is inserted in the same
/// transaction). Returns the rows changed.
pub async fn deactivate_signing_keys(tx: &mut Tx, instance_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE signing_keys SET active = FALSE WHERE instance_id = $1 AND active").bind(instance_id)
    )
}
