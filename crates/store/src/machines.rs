//! Machines, their secret keys and their scopes (which other machines each one may call).

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `machines` (without the search column).
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct MachineRow {
    /// `mch_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// Default lifetime of the machine's M2M tokens, in seconds.
    pub default_token_ttl: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A scoped machine together with the machine that may call it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ScopedMachineRow {
    /// The machine holding the scope.
    pub from_machine_id: String,
    /// The machine it may call.
    #[sqlx(flatten)]
    pub machine: MachineRow,
}

/// A row of `machine_scopes`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct MachineScopeRow {
    /// The machine that may call.
    pub from_machine_id: String,
    /// The machine it may call.
    pub to_machine_id: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A new row of `machine_secret_keys`.
#[derive(Debug, Clone)]
pub struct NewSecretKey<'a> {
    /// Key id.
    pub id: &'a str,
    /// Owning instance.
    pub instance_id: &'a str,
    /// Owning machine.
    pub machine_id: &'a str,
    /// Lookup digest of the secret.
    pub secret_hash: &'a [u8],
    /// The secret, sealed (the API hands it back).
    pub secret_sealed: &'a [u8],
    /// Unix ms.
    pub created_at: i64,
}

/// What a valid machine secret key resolves to: the machine and its instance.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct MachineKeyOwnerRow {
    /// The machine.
    pub machine_id: String,
    /// The instance.
    #[sqlx(flatten)]
    pub instance: crate::instances::InstanceRow,
}

/// Sort orders of the machine list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineOrder {
    /// By name (case-insensitive), then creation.
    Name,
    /// By creation time.
    CreatedAt,
}

const MACHINE_COLUMNS: &str = "m.id, m.instance_id, m.name, m.default_token_ttl, m.created_at, m.updated_at";

/// Inserts a machine; `name_search` is the lower-cased name.
pub async fn insert(tx: &mut Tx, row: &MachineRow, name_search: &str) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO machines (id, instance_id, name, name_search, default_token_ttl, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.name)
        .bind(name_search)
        .bind(row.default_token_ttl)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes a machine's mutable fields.
pub async fn update(tx: &mut Tx, row: &MachineRow, name_search: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE machines SET name = $1, name_search = $2, default_token_ttl = $3, updated_at = $4 \
             WHERE instance_id = $5 AND id = $6"
        )
        .bind(&row.name)
        .bind(name_search)
        .bind(row.default_token_ttl)
        .bind(row.updated_at)
        .bind(&row.instance_id)
        .bind(&row.id)
    )
}

/// Deletes a machine (its keys, scopes in both directions and tokens go with it). Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM machines WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// One machine of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<MachineRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, MachineRow>(
        "SELECT m.id, m.instance_id, m.name, m.default_token_ttl, m.created_at, m.updated_at \
         FROM machines m WHERE m.instance_id = $1 AND m.id = $2"
    )
    .bind(instance_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// One machine of the instance, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<MachineRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, MachineRow>(
            "SELECT m.id, m.instance_id, m.name, m.default_token_ttl, m.created_at, m.updated_at \
             FROM machines m WHERE m.instance_id = $1 AND m.id = $2"
        )
        .bind(instance_id)
        .bind(id)
    )
}

/// Reads a machine and locks its row until the transaction ends, so that decisions about it (token reuse, the
/// scope limit) are serialized. SQLite needs no row lock: `BEGIN IMMEDIATE` already serializes every writer.
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<MachineRow>> {
    let lock = if tx.is_postgres() { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT m.id, m.instance_id, m.name, m.default_token_ttl, m.created_at, m.updated_at \
         FROM machines m WHERE m.instance_id = $1 AND m.id = $2{lock}"
    );
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, MachineRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id))
}

/// The machines of the instance among `ids`, read inside a write transaction.
pub async fn existing_ids_tx(tx: &mut Tx, instance_id: &str, ids: &[String]) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id FROM machines WHERE instance_id = $1 AND id IN ({})", placeholders(2, ids.len()));
    fetch_tx!(tx, fetch_all, sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind_all(ids))
}

/// `$start, $start+1, …` for `n` binds. Only numbers are generated, never caller data.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The `WHERE` clause of the machine list: `$1` instance, `$2` exact id, `$3` LIKE pattern on the lower-cased name.
fn list_filter(has_query: bool) -> &'static str {
    if has_query {
        "m.instance_id = $1 AND (m.id = $2 OR m.name_search LIKE $3 ESCAPE '\\')"
    } else {
        "m.instance_id = $1"
    }
}

/// A LIKE pattern matching `query` anywhere in a lower-cased name, with `%`, `_` and `\` taken literally.
fn like_pattern(query: &str) -> String {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for ch in query.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A page of the instance's machines, filtered by `query` (exact id or part of the name, case-insensitive).
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    order: MachineOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<MachineRow>> {
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        MachineOrder::Name => format!("m.name_search {dir}, m.name {dir}, m.created_at {dir}, m.id {dir}"),
        MachineOrder::CreatedAt => format!("m.created_at {dir}, m.id {dir}"),
    };
    let (limit_at, offset_at) = if query.is_some() { (4, 5) } else { (2, 3) };
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM machines m WHERE {} ORDER BY {order_sql} LIMIT ${limit_at} OFFSET ${offset_at}",
        list_filter(query.is_some())
    );
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, MachineRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?)
}

/// How many machines [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, query: Option<&str>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM machines m WHERE {}", list_filter(query.is_some()));
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.fetch_one(c).await
    })?)
}

/// The machines each of `from_ids` may call, oldest scope first.
pub async fn scoped_machines(db: &Db, instance_id: &str, from_ids: &[String]) -> StoreResult<Vec<ScopedMachineRow>> {
    if from_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT s.from_machine_id, {MACHINE_COLUMNS} FROM machine_scopes s JOIN machines m ON m.id = s.to_machine_id \
         WHERE s.instance_id = $1 AND s.from_machine_id IN ({}) ORDER BY s.created_at, m.id",
        placeholders(2, from_ids.len())
    );
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, ScopedMachineRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        for id in from_ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?)
}

/// The ids of the machines `from_id` may call, sorted, read inside a write transaction.
pub async fn scoped_ids_tx(tx: &mut Tx, instance_id: &str, from_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT to_machine_id FROM machine_scopes WHERE instance_id = $1 AND from_machine_id = $2 \
             ORDER BY to_machine_id"
        )
        .bind(instance_id)
        .bind(from_id)
    )
}

/// Inserts a scope.
pub async fn insert_scope(tx: &mut Tx, instance_id: &str, row: &MachineScopeRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO machine_scopes (instance_id, from_machine_id, to_machine_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(instance_id)
        .bind(&row.from_machine_id)
        .bind(&row.to_machine_id)
        .bind(row.created_at)
    )?;
    Ok(())
}

/// Number of scopes a machine holds, read inside a write transaction.
pub async fn count_scopes_tx(tx: &mut Tx, instance_id: &str, from_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM machine_scopes WHERE instance_id = $1 AND from_machine_id = $2"
        )
        .bind(instance_id)
        .bind(from_id)
    )
}

/// Deletes a scope; returns the rows deleted.
pub async fn delete_scope(tx: &mut Tx, instance_id: &str, from_id: &str, to_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM machine_scopes WHERE instance_id = $1 AND from_machine_id = $2 AND to_machine_id = $3"
        )
        .bind(instance_id)
        .bind(from_id)
        .bind(to_id)
    )
}

/// Inserts a machine's new current secret key.
pub async fn insert_secret_key(tx: &mut Tx, key: &NewSecretKey<'_>) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO machine_secret_keys (id, instance_id, machine_id, secret_hash, secret_sealed, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)"
        )
        .bind(key.id)
        .bind(key.instance_id)
        .bind(key.machine_id)
        .bind(key.secret_hash)
        .bind(key.secret_sealed)
        .bind(key.created_at)
    )?;
    Ok(())
}

/// The sealed current secret key of a machine.
pub async fn current_secret_sealed(db: &Db, instance_id: &str, machine_id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "SELECT secret_sealed FROM machine_secret_keys \
         WHERE instance_id = $1 AND machine_id = $2 AND expires_at IS NULL"
    )
    .bind(instance_id)
    .bind(machine_id)
    .fetch_optional(c)
    .await)?
    .flatten())
}

/// Retires the current key of a machine: it stays valid until `expires_at` (its sealed copy is dropped, since
/// only the current key is ever handed back), or is deleted outright when `expires_at <= now`. Keys whose grace
/// period is over are deleted too.
pub async fn retire_current_key(
    tx: &mut Tx,
    instance_id: &str,
    machine_id: &str,
    expires_at: i64,
    now: i64,
) -> StoreResult<()> {
    if expires_at <= now {
        exec_tx!(
            tx,
            sqlx::query(
                "DELETE FROM machine_secret_keys WHERE instance_id = $1 AND machine_id = $2 AND expires_at IS NULL"
            )
            .bind(instance_id)
            .bind(machine_id)
        )?;
    } else {
        exec_tx!(
            tx,
            sqlx::query(
                "UPDATE machine_secret_keys SET expires_at = $1, secret_sealed = NULL \
                 WHERE instance_id = $2 AND machine_id = $3 AND expires_at IS NULL"
            )
            .bind(expires_at)
            .bind(instance_id)
            .bind(machine_id)
        )?;
    }
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM machine_secret_keys \
             WHERE instance_id = $1 AND machine_id = $2 AND expires_at IS NOT NULL AND expires_at <= $3"
        )
        .bind(instance_id)
        .bind(machine_id)
        .bind(now)
    )?;
    Ok(())
}

/// The machine (and its instance) owning the secret key with this digest, if the key is current or still in its
/// grace period at `now`.
pub async fn find_by_secret_hash(db: &Db, secret_hash: &[u8], now: i64) -> StoreResult<Option<MachineKeyOwnerRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, MachineKeyOwnerRow>(
        "SELECT k.machine_id, i.id, i.environment_type, i.publishable_key, i.created_at, i.updated_at \
         FROM machine_secret_keys k JOIN instances i ON i.id = k.instance_id \
         WHERE k.secret_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > $2)"
    )
    .bind(secret_hash)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("Ab%_\\"), "%ab\\%\\_\\\\%");
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
