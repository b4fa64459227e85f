//! Clients and the sessions of users on them.

use std::sync::LazyLock;

use crate::db::FromSqliteRow;
use crate::direct_reads::sqlite_placeholders;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `clients`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ClientRow {
    /// `client_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The session last made active on this client.
    pub last_active_session_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `sessions`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SessionRow {
    /// `sess_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The client the session lives on.
    pub client_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// Stored status (`expired`/`abandoned` are derived from the timestamps by core).
    pub status: String,
    /// Impersonator payload (JSON object text).
    pub actor: Option<String>,
    /// Active organization.
    pub last_active_organization_id: Option<String>,
    /// Unix ms.
    pub last_active_at: i64,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub abandon_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// When the user last verified a first factor on this session, Unix ms (`None`: at its creation).
    pub first_factor_verified_at: Option<i64>,
    /// When the user last verified a second factor on this session, Unix ms (`None`: never).
    pub second_factor_verified_at: Option<i64>,
}

impl SessionRow {
    /// A row of [`SESSION_COLUMNS`], by position (direct SQLite reads).
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            instance_id: r.get(1)?,
            client_id: r.get(2)?,
            user_id: r.get(3)?,
            status: r.get(4)?,
            actor: r.get(5)?,
            last_active_organization_id: r.get(6)?,
            last_active_at: r.get(7)?,
            expire_at: r.get(8)?,
            abandon_at: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
            first_factor_verified_at: r.get(12)?,
            second_factor_verified_at: r.get(13)?,
        })
    }
}

/// The status filter of the session list, resolved against the time of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusFilter {
    /// Stored `active` and neither expired nor abandoned at `now`.
    Active,
    /// Stored `active`, past `expire_at` but not `abandon_at`.
    Expired,
    /// Stored `active`, past `abandon_at`.
    Abandoned,
    /// A stored terminal status (`revoked`, `ended`, `removed`, `replaced`).
    Stored(String),
}

/// Filters of the session list.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only this client's sessions.
    pub client_id: Option<String>,
    /// Only this user's sessions.
    pub user_id: Option<String>,
    /// Only sessions in this status.
    pub status: Option<StatusFilter>,
}

const SESSION_COLUMNS: &str = "s.id, s.instance_id, s.client_id, s.user_id, s.status, s.actor, \
    s.last_active_organization_id, s.last_active_at, s.expire_at, s.abandon_at, s.created_at, s.updated_at, \
    s.first_factor_verified_at, s.second_factor_verified_at";

/// Inserts a client.
pub async fn insert_client(tx: &mut Tx, c: &ClientRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO clients (id, instance_id, last_active_session_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&c.id)
        .bind(&c.instance_id)
        .bind(&c.last_active_session_id)
        .bind(c.created_at)
        .bind(c.updated_at)
    )?;
    Ok(())
}

/// Inserts a session.
pub async fn insert_session(tx: &mut Tx, s: &SessionRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sessions (id, instance_id, client_id, user_id, status, actor, last_active_organization_id, \
             last_active_at, expire_at, abandon_at, created_at, updated_at, first_factor_verified_at, \
             second_factor_verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )
        .bind(&s.id)
        .bind(&s.instance_id)
        .bind(&s.client_id)
        .bind(&s.user_id)
        .bind(&s.status)
        .bind(&s.actor)
        .bind(&s.last_active_organization_id)
        .bind(s.last_active_at)
        .bind(s.expire_at)
        .bind(s.abandon_at)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.first_factor_verified_at)
        .bind(s.second_factor_verified_at)
    )?;
    Ok(())
}

/// Records a factor verification on a session (a reverification): the first and/or second factor verified at
/// the given time (`None` leaves that one as it was).
pub async fn record_factor_verification(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    first: Option<i64>,
    second: Option<i64>,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sessions SET first_factor_verified_at = COALESCE($1, first_factor_verified_at), \
             second_factor_verified_at = COALESCE($2, second_factor_verified_at) WHERE instance_id = $3 AND id = $4"
        )
        .bind(first)
        .bind(second)
        .bind(instance_id)
        .bind(id)
    )?;
    Ok(())
}

/// One session of the instance by id (`$1` instance, `$2` id).
static SESSION_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.instance_id = $1 AND s.id = $2"));

/// One session of the instance.
pub async fn get_session(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<SessionRow>> {
    // Every session token minted reads its session: on SQLite without the hop to a connection thread.
    if let Db::Sqlite(pools) = db {
        static SQLITE: LazyLock<String> = LazyLock::new(|| sqlite_placeholders(&SESSION_BY_ID));
        return pools.direct.optional(&SQLITE, [instance_id.to_owned(), id.to_owned()], SessionRow::from_sqlite).await;
    }
    Ok(on_read!(db, |c| sqlx::query_as::<_, SessionRow>(SESSION_BY_ID.as_str())
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One session of the instance, read inside a write transaction.
pub async fn get_session_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<SessionRow>> {
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, SessionRow>(SESSION_BY_ID.as_str()).bind(instance_id).bind(id))
}

/// Builds the WHERE clause of the list; binds are `$1` = instance, `$2` = now, then the filters in order.
fn list_where(f: &SessionFilter) -> (String, Vec<String>) {
    let mut sql = String::from("s.instance_id = $1");
    let mut binds = Vec::new();
    let mut next = 3;
    for (column, value) in [("s.client_id", &f.client_id), ("s.user_id", &f.user_id)] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {column} = ${next}"));
            binds.push(v.clone());
            next += 1;
        }
    }
    match &f.status {
        None => {}
        Some(StatusFilter::Active) => {
            sql.push_str(" AND s.status = 'active' AND s.expire_at > $2 AND s.abandon_at > $2")
        }
        Some(StatusFilter::Expired) => {
            sql.push_str(" AND s.status = 'active' AND s.expire_at <= $2 AND s.abandon_at > $2")
        }
        Some(StatusFilter::Abandoned) => sql.push_str(" AND s.status = 'active' AND s.abandon_at <= $2"),
        Some(StatusFilter::Stored(status)) => {
            sql.push_str(&format!(" AND s.status = ${next}"));
            binds.push(status.clone());
        }
    }
    (sql, binds)
}

/// A page of sessions, newest first, and the total matching the filters.
pub async fn list_sessions(
    db: &Db,
    instance_id: &str,
    filter: &SessionFilter,
    now: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<SessionRow>, i64)> {
    let (cond, binds) = list_where(filter);
    let n = binds.len() + 3;
    let page_sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE {cond} ORDER BY s.created_at DESC, s.id DESC \
         LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count_sql = format!("SELECT COUNT(*) FROM sessions s WHERE {cond}");
    let rows = on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(page_sql.clone())).bind(instance_id).bind(now);
        for b in &binds {
            q = q.bind(b);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?;
    let total = on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.clone())).bind(instance_id).bind(now);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_one(c).await
    })?;
    Ok((rows, total))
}

/// The sessions of one client, newest first.
pub async fn sessions_of_client(db: &Db, instance_id: &str, client_id: &str) -> StoreResult<Vec<SessionRow>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.instance_id = $1 AND s.client_id = $2 \
         ORDER BY s.created_at DESC, s.id DESC"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(client_id)
        .fetch_all(c)
        .await)?)
}

/// One client of the instance.
pub async fn get_client(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<ClientRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, ClientRow>(
        "SELECT id, instance_id, last_active_session_id, created_at, updated_at FROM clients \
         WHERE instance_id = $1 AND id = $2"
    )
    .bind(instance_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// Moves a session from `from` (a stored status) to `to`. Returns the rows changed.
pub async fn set_status(tx: &mut Tx, instance_id: &str, id: &str, from: &str, to: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sessions SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4 AND status = $5"
        )
        .bind(to)
        .bind(now)
        .bind(instance_id)
        .bind(id)
        .bind(from)
    )
}

/// Ends every live (stored `active`, not yet expired) session of the given users with status `to`. Returns the
/// rows changed.
/// The live (active, unexpired) sessions of a user, read in the caller's transaction.
pub async fn live_user_sessions_tx(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<Vec<SessionRow>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.instance_id = $1 AND s.user_id = $2 AND s.status = 'active' \
         AND s.expire_at > $3 AND s.abandon_at > $3 ORDER BY s.created_at, s.id"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(user_id).bind(now)
    )
}

/// The live (active, unexpired, not abandoned) sessions on a client, read inside a transaction.
pub async fn live_client_sessions_tx(
    tx: &mut Tx,
    instance_id: &str,
    client_id: &str,
    now: i64,
) -> StoreResult<Vec<SessionRow>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.instance_id = $1 AND s.client_id = $2 AND s.status = 'active' \
         AND s.expire_at > $3 AND s.abandon_at > $3 ORDER BY s.created_at, s.id"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(client_id).bind(now)
    )
}

/// Ends the live sessions of users (the same sessions [`live_user_sessions_tx`] reads).
pub async fn end_user_sessions(
    tx: &mut Tx,
    instance_id: &str,
    user_ids: &[String],
    to: &str,
    now: i64,
) -> StoreResult<u64> {
    let mut total = 0;
    for user_id in user_ids {
        total += exec_tx!(
            tx,
            sqlx::query(
                "UPDATE sessions SET status = $1, updated_at = $2 \
                 WHERE instance_id = $3 AND user_id = $4 AND status = 'active' AND expire_at > $2 AND abandon_at > $2"
            )
            .bind(to)
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
        )?;
    }
    Ok(total)
}

/// Records activity on a session and its user (at most once per `min_interval_ms`, so that minting tokens in a
/// tight loop does not turn every mint into a write), moving its `abandon_at` (the inactivity deadline). Returns
/// whether anything was written.
pub async fn touch(
    tx: &mut Tx,
    instance_id: &str,
    session_id: &str,
    user_id: &str,
    now: i64,
    min_interval_ms: i64,
    abandon_at: i64,
) -> StoreResult<bool> {
    let changed = exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sessions SET last_active_at = $1, updated_at = $1, abandon_at = $5 \
             WHERE instance_id = $2 AND id = $3 AND last_active_at <= $4"
        )
        .bind(now)
        .bind(instance_id)
        .bind(session_id)
        .bind(now - min_interval_ms)
        .bind(abandon_at)
    )?;
    if changed == 0 {
        return Ok(false);
    }
    touch_user(tx, instance_id, user_id, now).await?;
    Ok(true)
}

/// Sets a session's active organization (`None`: the personal account).
pub async fn set_active_organization(
    tx: &mut Tx,
    instance_id: &str,
    session_id: &str,
    organization_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sessions SET last_active_organization_id = $1, last_active_at = $2, updated_at = $2 \
             WHERE instance_id = $3 AND id = $4"
        )
        .bind(organization_id)
        .bind(now)
        .bind(instance_id)
        .bind(session_id)
    )?;
    Ok(())
}

/// Moves a user's `last_active_at` forward to `now`.
pub async fn touch_user(tx: &mut Tx, instance_id: &str, user_id: &str, now: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET last_active_at = $1 WHERE instance_id = $2 AND id = $3 \
             AND (last_active_at IS NULL OR last_active_at < $1)"
        )
        .bind(now)
        .bind(instance_id)
        .bind(user_id)
    )?;
    Ok(())
}
