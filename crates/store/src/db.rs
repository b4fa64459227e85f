//! The database handle: SQLite (one writer, a read pool) or PostgreSQL, behind one small enum.
//!
//! Store functions never branch on the backend themselves: they write their SQL once (with `$n` placeholders,
//! which both drivers accept) and run it through [`on_read!`](crate::on_read), which expands the same sqlx code once
//! per driver, and, in a write transaction, [`exec_tx!`](crate::exec_tx) / [`fetch_tx!`](crate::fetch_tx), which
//! take the statement in sqlx's builder syntax and run it through sqlx on PostgreSQL and through rusqlite, on the
//! calling thread, on SQLite's writer (see [`crate::group_commit`]).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, Transaction};

use crate::changes::{Changed, Changes, Outgoing};
use crate::direct_reads::DirectReads;
use crate::error::StoreError;
use crate::group_commit::{SqliteTx, Writer};
use crate::read_pool::ReadPool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file, created if missing.
    SqliteFile(PathBuf),
    /// A throwaway SQLite database, discarded when the handle is dropped.
    SqliteMemory,
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DbTarget {
    /// Parses `sqlite::memory:`, `sqlite://path`, `sqlite:path`, a bare path, or `postgres://…`/`postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if url == "sqlite::memory:" || url == ":memory:" {
            return Ok(Self::SqliteMemory);
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::Config(format!("unsupported database URL scheme in {url:?}")));
        }
        Ok(Self::SqliteFile(PathBuf::from(path)))
    }
}

/// SQLite connections: every write goes through the single writer connection, in an outer `BEGIN IMMEDIATE`
/// transaction shared by a batch of write transactions (group commit, see [`crate::group_commit`]), so that a
/// transaction never fails with `SQLITE_BUSY_SNAPSHOT` and concurrent writes share one fsync; reads use their own
/// pool and never block the writer (WAL).
#[derive(Debug, Clone)]
pub struct SqlitePools {
    /// The one writer connection.
    pub writer: Arc<Writer>,
    /// The read pool.
    pub read: Arc<ReadPool<Sqlite>>,
    /// Read connections for the hot reads, which run on the calling thread (see [`crate::direct_reads`]).
    pub direct: Arc<DirectReads>,
    /// What committed writes may have changed (the writer moves it).
    pub changes: Arc<Changes>,
    // Keeps a throwaway database's directory alive as long as any clone of the pools lives.
    _tempdir: Option<std::sync::Arc<tempfile::TempDir>>,
}

/// A database handle. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite, the embedded default.
    Sqlite(SqlitePools),
    /// PostgreSQL, for many stateless nodes.
    Postgres(PgPools),
}

/// PostgreSQL connections: sqlx's pool for write transactions, and a [`ReadPool`] for reads.
#[derive(Debug, Clone)]
pub struct PgPools {
    /// Write transactions and single-statement writes.
    pub pool: PgPool,
    /// Reads.
    pub read: Arc<ReadPool<Postgres>>,
    /// What this node's committed writes may have changed ([`PgTx::commit`] moves it).
    pub changes: Arc<Changes>,
    /// The changes still to tell the other nodes of (sent by a task of the pool's).
    outgoing: Arc<Outgoing>,
}

/// An open write transaction. Commit it explicitly; dropping it rolls back.
pub enum Tx {
    /// A SQLite transaction: a savepoint in the writer's outer `BEGIN IMMEDIATE` transaction.
    Sqlite(SqliteTx),
    /// A PostgreSQL transaction (READ COMMITTED; invariants use row locks).
    Postgres(PgTx),
}

/// A PostgreSQL write transaction, noting whether its statements may change what caches keep (see
/// [`crate::changes`]).
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    changes: Arc<Changes>,
    changed: Changed,
}

impl PgTx {
    /// The connection to run `sql` on, noting what `sql` may change. Every statement of the transaction goes through
    /// here (the macros below, and the few statements written for PostgreSQL alone).
    pub fn run(&mut self, sql: &str) -> &mut sqlx::PgConnection {
        self.changed |= Changed::by(sql);
        &mut self.tx
    }

    /// Commits, then records what the transaction may have changed — also when the `COMMIT` failed: a connection
    /// lost during it leaves the outcome unknown.
    async fn commit(self) -> Result<(), StoreError> {
        let committed = self.tx.commit().await;
        self.changes.committed(self.changed);
        Ok(committed?)
    }
}

impl Db {
    /// Opens the database and applies the embedded migrations of its dialect.
    pub async fn connect(target: &DbTarget) -> Result<Self, StoreError> {
        let db = match target {
            DbTarget::SqliteFile(path) => Self::open_sqlite(path, SqliteSynchronous::Full, None).await?,
            DbTarget::SqliteMemory => {
                // A private temporary file rather than SQLite's `:memory:`: a memory database is per connection,
                // and the writer and the read pool must see the same data. No fsync at all: the file is deleted
                // with the handle, so there is nothing a power loss could take that would not be discarded anyway
                // (a process crash loses nothing either way: the OS keeps written pages without fsync).
                let dir = tempfile::tempdir().map_err(|e| StoreError::Config(e.to_string()))?;
                let path = dir.path().join("tessera.db");
                Self::open_sqlite(&path, SqliteSynchronous::Off, Some(Arc::new(dir))).await?
            }
            DbTarget::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?;
                Self::open_postgres(plain_on_loopback(options, url)).await?
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Opens PostgreSQL with explicit options (tests use this to pick a schema per test).
    pub async fn open_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        // No ping before a transaction's connection is handed out (a round trip per transaction, on the same
        // server): a connection the server dropped fails its next statement instead, and sqlx then discards it.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        // Reads take their own connections, without the round trip sqlx's pool spends on each as it comes back.
        let read = Arc::new(ReadPool::connect(options, 8, Duration::from_secs(5)).await?);
        let outgoing = Arc::new(Outgoing::default());
        // Lives as long as the pool (or the runtime): it ends once the pool is closed.
        tokio::spawn(crate::notify::send_changes(pool.clone(), outgoing.clone()));
        let changes = Arc::new(Changes::notifying(outgoing.clone()));
        Ok(Self::Postgres(PgPools { pool, read, changes, outgoing }))
    }

    async fn open_sqlite(
        path: &Path,
        synchronous: SqliteSynchronous,
        tempdir: Option<Arc<tempfile::TempDir>>,
    ) -> Result<Self, StoreError> {
        // FULL on a file: with WAL, a COMMIT returns only after the WAL is fsynced, so an acknowledged write
        // survives power loss (NORMAL would defer the fsync to the next checkpoint).
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let durable = !matches!(synchronous, SqliteSynchronous::Off);
        let changes = Arc::new(Changes::default());
        let writer = Writer::open(options.clone(), durable, crate::users::SQLITE_USER_SEARCH_FLUSH, changes.clone())?;
        // Not sqlx's pool: it pings a connection before handing it out (by default) and as it comes back, each a
        // round trip to the connection's worker thread, which roughly doubled the cost of a point read.
        let read = Arc::new(ReadPool::connect(options.read_only(true), 8, Duration::from_secs(5)).await?);
        let direct = DirectReads::open(path.to_owned())?;
        Ok(Self::Sqlite(SqlitePools { writer, read, direct, changes, _tempdir: tempdir }))
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.migrations_current().await {
            return Ok(());
        }
        match self {
            Self::Sqlite(p) => p.writer.migrate(&SQLITE_MIGRATIONS).await?,
            Self::Postgres(p) => POSTGRES_MIGRATIONS.run(&p.pool).await?,
        }
        Ok(())
    }

    /// Whether every embedded migration has already run, successfully and with the same checksum, and no other:
    /// one query, so that a start on an existing database skips the migrator's lock, table creation and listing
    /// (half a dozen round trips on PostgreSQL). Any doubt (no table yet, a failed, missing or unknown migration,
    /// another checksum) leaves the decision to the migrator, which applies or refuses as before.
    async fn migrations_current(&self) -> bool {
        let migrator = match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let sql = format!("SELECT version, checksum, success FROM {} ORDER BY version", migrator.table_name);
        let applied: Result<Vec<(i64, Vec<u8>, bool)>, sqlx::Error> =
            crate::on_read!(self, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await);
        let Ok(applied) = applied else { return false };
        let embedded: Vec<_> = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
        applied.len() == embedded.len()
            && applied.iter().zip(embedded).all(|((version, checksum, success), m)| {
                *success && *version == m.version && checksum.as_slice() == &*m.checksum
            })
    }

    /// Starts a write transaction (on SQLite a savepoint in the writer's outer `BEGIN IMMEDIATE` transaction).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Self::Sqlite(p) => Tx::Sqlite(p.writer.begin().await?),
            Self::Postgres(p) => Tx::Postgres(PgTx {
                tx: p.pool.begin().await?,
                changes: p.changes.clone(),
                changed: Changed::default(),
            }),
        })
    }

    /// Whether this is PostgreSQL (for the rare statement that differs by dialect).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// What this node's committed writes may have changed, for caches (see [`crate::changes`]).
    pub fn changes(&self) -> &Changes {
        match self {
            Self::Sqlite(p) => &p.changes,
            Self::Postgres(p) => &p.changes,
        }
    }

    /// Closes all connections (SQLite checkpoints its WAL on close).
    pub async fn close(&self) {
        match self {
            Self::Sqlite(p) => {
                p.read.close().await;
                p.direct.close();
                p.writer.close().await;
            }
            Self::Postgres(p) => {
                p.read.close().await;
                if let Err(e) = crate::notify::flush(&p.pool, &p.outgoing).await {
                    tracing::warn!(error = %e, "cache invalidation: the last changes could not be told to the other nodes");
                }
                p.pool.close().await;
                // Wakes the sending task, which sees the pool closed and ends.
                p.outgoing.wake();
            }
        }
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::on_read!(self, |c| sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(c).await)?;
        Ok(())
    }
}

/// A server on this host (a loopback address or a Unix socket) is spoken to without TLS unless the URL (or
/// `PGSSLMODE`) names an `sslmode`: the bytes never leave the host, so TLS protects nothing there, while the
/// default (`prefer`) would handshake every new connection and encrypt every round trip on both ends — on the same
/// cores as the database. Any other host keeps the default.
pub fn plain_on_loopback(options: PgConnectOptions, url: &str) -> PgConnectOptions {
    let names_sslmode = url.to_ascii_lowercase().contains("sslmode=") || std::env::var_os("PGSSLMODE").is_some();
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    if local && !names_sslmode { options.ssl_mode(sqlx::postgres::PgSslMode::Disable) } else { options }
}

impl SqlitePools {
    /// The database file.
    pub fn path(&self) -> &Path {
        self.writer.options().get_filename()
    }
}

impl Tx {
    /// Whether this is a PostgreSQL transaction (for the rare statement that differs by dialect, such as a row lock).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Commits the transaction; on SQLite, returns once the batch it joined is durably committed.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(t) => t.commit().await,
            Self::Postgres(t) => t.commit().await,
        }
    }
}

/// `(version, description)` of each embedded migration.
pub type MigrationList = Vec<(i64, String)>;

/// The versions of the embedded migrations of each dialect (SQLite, PostgreSQL), for the test that keeps them in step.
pub fn migration_versions() -> (MigrationList, MigrationList) {
    let list = |m: &sqlx::migrate::Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect();
    (list(&SQLITE_MIGRATIONS), list(&POSTGRES_MIGRATIONS))
}

/// Runs `$body` against the read side: `$conn` is bound to the SQLite read pool or the PostgreSQL pool.
#[macro_export]
macro_rules! on_read {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(pools) => {
                let $conn = &*pools.read;
                $body
            }
            $crate::Db::Postgres(pools) => {
                let $conn = &*pools.read;
                $body
            }
        }
    };
}

/// Executes one statement inside a write transaction and returns the number of rows affected, as
/// `Result<u64, StoreError>`. Written as sqlx's builder, `sqlx::query(sql)` then its `.bind(value)`s, optionally
/// ending in `.bind_all(values)` for a list bound one by one (the macro takes exactly that shape): PostgreSQL runs
/// it through sqlx, SQLite on the calling thread through the writer's rusqlite connection
/// ([`SqliteTx::execute`](crate::group_commit::SqliteTx::execute)), with the same `$n` placeholders and values.
#[macro_export]
macro_rules! exec_tx {
    ($tx:expr, sqlx::query($sql:expr) $(.bind($arg:expr))* $(.bind_all($rest:expr))? $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                t.execute($crate::db::SqlText::sql_text(&$sql), $crate::sqlite_params!([$($arg),*] $($rest)?))
            }
            $crate::Tx::Postgres(t) => {
                let sql = $sql;
                let conn = t.run($crate::db::SqlText::sql_text(&sql));
                $crate::pg_query!(sqlx::query(sql) $(.bind($arg))* $(.bind_all($rest))?)
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err($crate::StoreError::from)
            }
        }
    };
}

/// Runs one query inside a write transaction, as `Result<T, StoreError>` where `T` is what sqlx's `fetch_one`,
/// `fetch_optional` or `fetch_all` returns: `fetch_tx!(tx, fetch_one, sqlx::query_scalar::<_, T>(sql).bind(…)…)`, or
/// `sqlx::query_as` (`T` a [`FromSqliteRow`] on SQLite), binds as for [`exec_tx!`]. PostgreSQL runs it through sqlx,
/// SQLite on the calling thread ([`SqliteTx::fetch`](crate::group_commit::SqliteTx::fetch)).
#[macro_export]
macro_rules! fetch_tx {
    (@sqlite $t:ident, fetch_one, $sql:expr, $params:expr, $row:expr) => {
        $t.fetch($crate::db::SqlText::sql_text(&$sql), $params, 1, $row)
            .and_then(|rows| rows.into_iter().next().ok_or($crate::StoreError::Sqlx(sqlx::Error::RowNotFound)))
    };
    (@sqlite $t:ident, fetch_optional, $sql:expr, $params:expr, $row:expr) => {
        $t.fetch($crate::db::SqlText::sql_text(&$sql), $params, 1, $row).map(|rows| rows.into_iter().next())
    };
    (@sqlite $t:ident, fetch_all, $sql:expr, $params:expr, $row:expr) => {
        $t.fetch($crate::db::SqlText::sql_text(&$sql), $params, usize::MAX, $row)
    };
    ($tx:expr, $fetch:ident,
     sqlx::query_scalar $(::<_, $ty:ty>)? ($sql:expr) $(.bind($arg:expr))* $(.bind_all($rest:expr))? $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::fetch_tx!(@sqlite t, $fetch, $sql,
                $crate::sqlite_params!([$($arg),*] $($rest)?), |r| r.get $(::<_, $ty>)? (0)),
            $crate::Tx::Postgres(t) => {
                let sql = $sql;
                let conn = t.run($crate::db::SqlText::sql_text(&sql));
                $crate::pg_query!(sqlx::query_scalar $(::<_, $ty>)? (sql) $(.bind($arg))* $(.bind_all($rest))?)
                    .$fetch(conn)
                    .await
                    .map_err($crate::StoreError::from)
            }
        }
    };
    ($tx:expr, $fetch:ident,
     sqlx::query_as $(::<_, $ty:ty>)? ($sql:expr) $(.bind($arg:expr))* $(.bind_all($rest:expr))? $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::fetch_tx!(@sqlite t, $fetch, $sql,
                $crate::sqlite_params!([$($arg),*] $($rest)?), $crate::db::FromSqliteRow::from_sqlite_row),
            $crate::Tx::Postgres(t) => {
                let sql = $sql;
                let conn = t.run($crate::db::SqlText::sql_text(&sql));
                $crate::pg_query!(sqlx::query_as $(::<_, $ty>)? (sql) $(.bind($arg))* $(.bind_all($rest))?)
                    .$fetch(conn)
                    .await
                    .map_err($crate::StoreError::from)
            }
        }
    };
}

/// The values of [`exec_tx!`] and [`fetch_tx!`] for rusqlite: `&[&(dyn ToSql + Sync)]` (`Sync`: a future holding
/// them stays `Send`).
#[doc(hidden)]
#[macro_export]
macro_rules! sqlite_params {
    ([$($arg:expr),*]) => {
        &[$(&$arg as &(dyn $crate::rusqlite::ToSql + Sync)),*]
    };
    ([$($arg:expr),*] $rest:expr) => {
        &{
            let mut params: Vec<&(dyn $crate::rusqlite::ToSql + Sync)> =
                vec![$(&$arg as &(dyn $crate::rusqlite::ToSql + Sync)),*];
            for value in $rest {
                params.push(value);
            }
            params
        }[..]
    };
}

/// The query of [`exec_tx!`] and [`fetch_tx!`] for sqlx, its values bound.
#[doc(hidden)]
#[macro_export]
macro_rules! pg_query {
    (sqlx::$query:ident $(::<_, $ty:ty>)? ($sql:expr) $(.bind($arg:expr))* .bind_all($rest:expr)) => {{
        let mut query = sqlx::$query $(::<_, $ty>)? ($sql) $(.bind($arg))*;
        for value in $rest {
            query = query.bind(value);
        }
        query
    }};
    (sqlx::$query:ident $(::<_, $ty:ty>)? ($sql:expr) $(.bind($arg:expr))*) => {
        sqlx::$query $(::<_, $ty>)? ($sql) $(.bind($arg))*
    };
}

/// The text of a statement as the macros above receive it: a literal, a `String`, or sqlx's `AssertSqlSafe` of
/// either.
pub trait SqlText {
    /// The SQL.
    fn sql_text(&self) -> &str;
}

impl SqlText for str {
    fn sql_text(&self) -> &str {
        self
    }
}

impl SqlText for String {
    fn sql_text(&self) -> &str {
        self
    }
}

impl<T: SqlText + ?Sized> SqlText for &T {
    fn sql_text(&self) -> &str {
        (**self).sql_text()
    }
}

impl<T: SqlText> SqlText for sqlx::AssertSqlSafe<T> {
    fn sql_text(&self) -> &str {
        self.0.sql_text()
    }
}

pub use tessera_store_derive::FromSqliteRow;

/// A row read on SQLite's calling thread ([`fetch_tx!`](crate::fetch_tx)), decoded as sqlx's `FromRow` decodes it
/// for PostgreSQL: tuples by position, row structs by column name.
pub trait FromSqliteRow: Sized {
    /// Decodes one row.
    fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! tuple_from_sqlite_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: rusqlite::types::FromSql),+> FromSqliteRow for ($($t,)+) {
            fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}

tuple_from_sqlite_row!(A 0);
tuple_from_sqlite_row!(A 0, B 1);
tuple_from_sqlite_row!(A 0, B 1, C 2);
tuple_from_sqlite_row!(A 0, B 1, C 2, D 3);
tuple_from_sqlite_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_sqlite_row!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Executes a single statement as its own write transaction (for write-behind bookkeeping) and returns the number
/// of rows affected, as `Result<u64, StoreError>`; the statement is written as for [`exec_tx!`]. On SQLite it joins
/// the writer's group commit like any `Tx`.
#[macro_export]
macro_rules! exec_write {
    ($db:expr, sqlx::query($sql:expr) $(.bind($arg:expr))* $(.bind_all($rest:expr))? $(,)?) => {
        match $db {
            $crate::Db::Sqlite(pools) => match pools.writer.begin().await {
                Ok(mut t) => match t.execute(
                    $crate::db::SqlText::sql_text(&$sql),
                    $crate::sqlite_params!([$($arg),*] $($rest)?),
                ) {
                    Ok(n) => t.commit().await.map(|()| n),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            },
            $crate::Db::Postgres(pools) => {
                let sql = $sql;
                let changed = $crate::changes::Changed::by($crate::db::SqlText::sql_text(&sql));
                let done = $crate::pg_query!(sqlx::query(sql) $(.bind($arg))* $(.bind_all($rest))?)
                    .execute(&pools.pool)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err($crate::StoreError::from);
                pools.changes.committed(changed);
                done
            }
        }
    };
}

/// Runs a single query as its own write transaction (for write-behind bookkeeping), written as for
/// [`fetch_tx!`]: `fetch_write!(db, fetch_one, sqlx::query_scalar::<_, T>(sql).bind(…)…)`. On SQLite it joins the
/// writer's group commit like any `Tx`; on PostgreSQL it runs on the pool, in autocommit, where nothing notes what
/// it changes: never for the tables caches follow (`crate::changes`).
#[macro_export]
macro_rules! fetch_write {
    ($db:expr, $fetch:ident, $($query:tt)+) => {
        match $db {
            $crate::Db::Sqlite(pools) => match pools.writer.begin().await {
                Ok(t) => {
                    let mut tx = $crate::Tx::Sqlite(t);
                    match $crate::fetch_tx!(&mut tx, $fetch, $($query)+) {
                        Ok(value) => tx.commit().await.map(|()| value),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
            $crate::Db::Postgres(pools) => {
                $crate::pg_query!($($query)+).$fetch(&pools.pool).await.map_err($crate::StoreError::from)
            }
        }
    };
}

/// One page of rows and the total they are a page of, for lists whose filter binds only text: `select` ends in
/// `LIMIT $n+1 OFFSET $n+2` (`n` = `binds.len()`), `count` is `SELECT COUNT(*)` over the same condition.
pub async fn read_page<R>(
    db: &Db,
    select: &str,
    count: &str,
    binds: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<R>, i64), StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let rows = on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(select.to_owned()));
        for b in binds {
            q = q.bind(b.as_str());
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?;
    let total = on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.to_owned()));
        for b in binds {
            q = q.bind(b.as_str());
        }
        q.fetch_one(c).await
    })?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(DbTarget::parse("sqlite::memory:").unwrap(), DbTarget::SqliteMemory);
        assert_eq!(DbTarget::parse("tessera.db").unwrap(), DbTarget::SqliteFile("tessera.db".into()));
        assert_eq!(DbTarget::parse("sqlite://data/t.db?mode=rwc").unwrap(), DbTarget::SqliteFile("data/t.db".into()));
        assert!(matches!(DbTarget::parse("postgres://u@h/db").unwrap(), DbTarget::Postgres(_)));
        assert!(DbTarget::parse("mysql://x").is_err());
    }

    #[test]
    fn loopback_postgres_goes_without_tls_unless_asked() {
        use sqlx::postgres::PgSslMode;
        let mode = |url: &str| plain_on_loopback(PgConnectOptions::from_str(url).unwrap(), url).get_ssl_mode();
        if std::env::var_os("PGSSLMODE").is_none() {
            assert!(matches!(mode("postgres://u@127.0.0.1:5432/db"), PgSslMode::Disable));
            assert!(matches!(mode("postgres://u@localhost/db"), PgSslMode::Disable));
            assert!(matches!(mode("postgres://u@[::1]/db"), PgSslMode::Disable));
            assert!(matches!(mode("postgres://u@db.example.com/db"), PgSslMode::Prefer));
        }
        assert!(matches!(mode("postgres://u@127.0.0.1/db?sslmode=require"), PgSslMode::Require));
    }

    #[test]
    fn migrations_stay_in_step() {
        let (sqlite, postgres) = migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must have the same versions and names");
    }
}
