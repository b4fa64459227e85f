//! TOTP secrets created through the Frontend API and not yet confirmed (0021): at most one per user.

use crate::db::FromSqliteRow;
use crate::{StoreResult, Tx, exec_tx, fetch_tx};

/// A row of `totp_enrollments`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct TotpEnrollmentRow {
    /// `totp_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The user enrolling.
    pub user_id: String,
    /// The sealed secret.
    pub secret_sealed: Vec<u8>,
    /// Unix ms.
    pub created_at: i64,
}

/// Replaces the user's pending enrollment (if any) by `r`.
pub async fn replace(tx: &mut Tx, r: &TotpEnrollmentRow) -> StoreResult<()> {
    delete(tx, &r.instance_id, &r.user_id).await?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO totp_enrollments (id, instance_id, user_id, secret_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.user_id)
        .bind(&r.secret_sealed)
        .bind(r.created_at)
    )?;
    Ok(())
}

/// The user's pending enrollment, read inside the caller's transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<Option<TotpEnrollmentRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, TotpEnrollmentRow>(
            "SELECT id, instance_id, user_id, secret_sealed, created_at FROM totp_enrollments \
             WHERE instance_id = $1 AND user_id = $2"
        )
        .bind(instance_id)
        .bind(user_id)
    )
}

/// Deletes the user's pending enrollment; returns whether there was one.
pub async fn delete(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(exec_tx!(
        tx,
        sqlx::query("DELETE FROM totp_enrollments WHERE instance_id = $1 AND user_id = $2")
            .bind(instance_id)
            .bind(user_id)
    )? == 1)
}
