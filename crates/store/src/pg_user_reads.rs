//! PostgreSQL reads of whole users (a user with its identifications, backup-code count and enterprise accounts): one
//! statement joining the users to their identifications, a row per identification, decoded by position.
//!
//! The same statement can aggregate the identifications as JSON instead ([`users::user_with_identifications_columns`],
//! still used inside write transactions, where one statement means one round trip held under the transaction's
//! locks), but building JSON was most of PostgreSQL's work for a read: `pgbench` on a two-core machine did 11,200
//! such statements/s against 17,200/s for the join, and 19,100/s for the bare user row. Enterprise accounts, rare,
//! are read by a second statement only for the users that have any.

use std::sync::OnceLock;

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::StoreResult;
use crate::db::PgPools;
use crate::dialect::Dialect;
use crate::error::StoreError;
use crate::users::{
    self, COUNTED_COLUMNS, IdentificationRow, USER_COLUMN_COUNT, USER_COLUMNS, UserWithIdentifications,
};

/// A joined read of the users, aliased `u`, matching `filter` and ordered by `user_order` — which must end with the
/// user id, so that each user's rows are adjacent (none: a single user) — then oldest identification first.
pub(crate) fn statement(filter: &str, user_order: Option<&str>) -> String {
    let order = user_order.map(|o| format!("{o}, ")).unwrap_or_default();
    format!(
        "SELECT {} FROM users u LEFT JOIN identifications i ON i.user_id = u.id WHERE {filter} \
         ORDER BY {order}i.created_at, i.id",
        joined_columns()
    )
}

/// The columns of a joined read, for users aliased `u` joined to their identifications aliased `i`: every user
/// column (decoded by name: the identification's are aliased `i_…` so that no name repeats), the backup-code
/// count and whether the user has enterprise accounts ([`COUNTED_COLUMNS`], as SQLite's reads count them), then
/// the identification's columns (NULL for a user without any), decoded by position.
fn joined_columns() -> &'static str {
    static COLUMNS: OnceLock<String> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        let identification = users::IDENTIFICATION_FIELDS.iter().map(|f| format!("i.{f} AS i_{f}")).collect::<Vec<_>>();
        format!("{USER_COLUMNS}, {COUNTED_COLUMNS}, {}", identification.join(", "))
    })
}

/// Runs a joined read (`query` is a [`statement`] with its binds) and assembles the users in the statement's order.
pub(crate) async fn fetch(
    pools: &PgPools,
    instance_id: &str,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> StoreResult<Vec<UserWithIdentifications>> {
    let rows = query.fetch_all(&*pools.read).await?;
    let mut out: Vec<UserWithIdentifications> = Vec::new();
    let mut with_accounts: Vec<String> = Vec::new();
    for row in &rows {
        let id: &str = row.try_get(0)?;
        if out.last().is_none_or(|u| u.user.id != id) {
            if row.try_get::<bool, _>(USER_COLUMN_COUNT + 1)? {
                with_accounts.push(id.to_owned());
            }
            out.push(UserWithIdentifications {
                user: sqlx::FromRow::from_row(row)?,
                identifications: Vec::new(),
                backup_code_count: row.try_get(USER_COLUMN_COUNT)?,
                enterprise_accounts: Vec::new(),
            });
        }
        if let Some(identification) = identification(row)?
            && let Some(user) = out.last_mut()
        {
            user.identifications.push(identification);
        }
    }
    if !with_accounts.is_empty() {
        attach_enterprise_accounts(pools, instance_id, &with_accounts, &mut out).await?;
    }
    Ok(out)
}

/// The identification of a joined row, if the user has one.
fn identification(row: &PgRow) -> Result<Option<IdentificationRow>, sqlx::Error> {
    let at = USER_COLUMN_COUNT + 2;
    let Some(id) = row.try_get::<Option<String>, _>(at)? else { return Ok(None) };
    Ok(Some(IdentificationRow {
        id,
        instance_id: row.try_get(at + 1)?,
        user_id: row.try_get(at + 2)?,
        kind: row.try_get(at + 3)?,
        value: row.try_get(at + 4)?,
        value_normalized: row.try_get(at + 5)?,
        reserved: row.try_get(at + 6)?,
        verification_status: row.try_get(at + 7)?,
        verification_strategy: row.try_get(at + 8)?,
        verification_attempts: row.try_get(at + 9)?,
        verification_expire_at: row.try_get(at + 10)?,
        reserved_for_second_factor: row.try_get(at + 11)?,
        default_second_factor: row.try_get(at + 12)?,
        created_at: row.try_get(at + 13)?,
        updated_at: row.try_get(at + 14)?,
    }))
}

/// Reads the enterprise accounts of `user_ids` (users that have some) into `users`.
async fn attach_enterprise_accounts(
    pools: &PgPools,
    instance_id: &str,
    user_ids: &[String],
    users: &mut [UserWithIdentifications],
) -> StoreResult<()> {
    static SQL: OnceLock<String> = OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let accounts = crate::sso::user_accounts_json(Dialect::Postgres);
        format!("SELECT u.id, {accounts} FROM users u WHERE u.instance_id = $1 AND u.id = ANY($2)")
    });
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(instance_id)
        .bind(user_ids)
        .fetch_all(&*pools.read)
        .await?;
    for (user_id, json) in rows {
        let accounts = serde_json::from_str(&json).map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(Box::new(e))))?;
        if let Some(user) = users.iter_mut().find(|u| u.user.id == user_id) {
            user.enterprise_accounts = accounts;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counts_follow_every_user_column() {
        assert_eq!(USER_COLUMNS.split(',').count(), USER_COLUMN_COUNT);
        let columns = joined_columns();
        assert_eq!(columns.split(", ").nth(USER_COLUMN_COUNT + 2), Some("i.id AS i_id"), "{columns}");
        let sql = statement("u.id = $1", Some("u.id"));
        assert!(sql.ends_with(" WHERE u.id = $1 ORDER BY u.id, i.created_at, i.id"), "{sql}");
        assert_eq!(users::IDENTIFICATION_FIELDS.len(), 15);
    }
}
