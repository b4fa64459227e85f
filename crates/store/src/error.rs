//! Errors of the persistence layer.

/// A database failure. Core maps the ones it expects (unique violations) and treats the rest as internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad configuration (URL, paths).
    #[error("database configuration: {0}")]
    Config(String),
    /// A driver error.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// An error of a statement run through rusqlite: a direct read (see [`crate::direct_reads`]) or the writer's
    /// statements (see [`crate::group_commit`]).
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A direct read on tokio's blocking pool did not finish (its task panicked, or the pool is closed).
    #[error("a read on the blocking pool failed: {0}")]
    BlockingRead(String),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The `COMMIT` shared by a batch of SQLite write transactions failed (group commit): every member gets it.
    #[error("database commit failed: {0}")]
    Commit(String),
}

impl StoreError {
    /// Whether this is a unique-constraint violation (SQLite or PostgreSQL).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite(e) => matches!(
                e.sqlite_error().map(|e| e.extended_code),
                Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
            ),
            Self::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether the database was busy: SQLite's `SQLITE_BUSY` / `SQLITE_LOCKED` (with their extended codes), which
    /// it answers once another connection or process has held the write lock longer than the busy timeout. The
    /// statement had no effect and can be retried.
    pub fn is_busy(&self) -> bool {
        if let Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) = self {
            return matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked);
        }
        let Self::Sqlx(sqlx::Error::Database(e)) = self else { return false };
        if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
            return false;
        }
        // The extended result code; its low byte is the primary code (5 BUSY, 6 LOCKED).
        e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6))
    }

    /// Whether this is a foreign-key violation.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            Self::Sqlite(e) => {
                e.sqlite_error().map(|e| e.extended_code) == Some(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
            }
            Self::Sqlx(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            _ => false,
        }
    }
}
