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
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether this is a unique-constraint violation (SQLite or PostgreSQL).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether this is a foreign-key violation.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Self::Sqlx(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}
