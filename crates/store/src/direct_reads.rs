//! SQLite reads on the calling thread, for the hot reads (a user, a page of users).
//!
//! sqlx runs every SQLite statement on the connection's own worker thread: a request's read is a hand-off there
//! and back (two context switches on a busy core), and sqlx copies every value of every row (`sqlite3_value_dup`)
//! before decoding it by column name. These connections, opened with rusqlite on the same database file (read-only;
//! WAL lets them read beside the writer), run the statement where the request is and decode columns in place by
//! position — a user read spends less than half the instructions it did through sqlx.
//!
//! A statement whose cost is bounded (a lookup by key, a short page in index order) runs inline on the async
//! worker: it takes microseconds. Anything that could scan (filters and orders no index serves) runs on tokio's
//! blocking pool instead ([`Cost::Unbounded`]), so that one slow list cannot stall the requests that share the
//! worker.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;

/// Idle connections kept; more are opened while all are in use and closed when they come back. Inline reads use
/// at most one per async worker (they hold it across no `.await`).
const MAX_IDLE: usize = 8;
/// Reads that may scan, running at once on the blocking pool (as many as sqlx's SQLite read pool had connections):
/// more would only share the same cores and each hold a connection.
const MAX_SCANS: usize = 8;
/// Prepared statements kept per connection (a user list's text varies with its filters).
const STATEMENT_CACHE: usize = 64;

/// What a read may cost, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Index lookups of a few rows: inline, on the calling thread.
    Bounded,
    /// Possibly a scan: on tokio's blocking pool.
    Unbounded,
}

/// Read-only rusqlite connections to one SQLite database file.
#[derive(Debug)]
pub struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    scans: tokio::sync::Semaphore,
}

impl DirectReads {
    /// Opens one connection now, so that a file that cannot be read fails at start-up.
    pub fn open(path: PathBuf) -> Result<Arc<Self>, StoreError> {
        let first = connect(&path)?;
        Ok(Arc::new(Self { path, idle: Mutex::new(vec![first]), scans: tokio::sync::Semaphore::new(MAX_SCANS) }))
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => connect(&self.path),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Runs `read` on a connection: inline when its cost is bounded, else on the blocking pool. A read runs in its
    /// own implicit transaction per statement; `read` must not write.
    pub async fn run<T, F>(self: &Arc<Self>, cost: Cost, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        match cost {
            Cost::Bounded => {
                let conn = self.take()?;
                let out = read(&conn);
                self.give_back(conn);
                Ok(out?)
            }
            Cost::Unbounded => {
                let _permit = self.scans.acquire().await.map_err(|_| StoreError::BlockingRead("closed".into()))?;
                let conn = self.take()?;
                let this = Arc::clone(self);
                tokio::task::spawn_blocking(move || {
                    let out = read(&conn);
                    this.give_back(conn);
                    out
                })
                .await
                .map_err(|e| StoreError::BlockingRead(e.to_string()))?
                .map_err(StoreError::from)
            }
        }
    }

    /// At most one row of a lookup by key, decoded by position. `sql` has `?1`, `?2`… placeholders: the statement's
    /// sqlx text through [`sqlite_placeholders`], once (a `LazyLock`), so that both paths read one text.
    pub async fn optional<T, const N: usize>(
        self: &Arc<Self>,
        sql: &'static str,
        params: [String; N],
        decode: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
    {
        use rusqlite::OptionalExtension;
        self.run(Cost::Bounded, move |c| {
            c.prepare_cached(sql)?.query_row(rusqlite::params_from_iter(params.iter()), decode).optional()
        })
        .await
    }

    /// Closes the idle connections and refuses further scans.
    pub fn close(&self) {
        self.scans.close();
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

fn connect(path: &PathBuf) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    // Only while a checkpoint restarts the WAL can a reader be told to wait.
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// SQL written once with `$n` placeholders (as sqlx takes it) in SQLite's `?n`, which bind by number (rusqlite binds
/// `$n` by name, numbered in the order the names first appear, and some statements name them out of order).
pub fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut pieces = sql.split('$');
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        out.push(if piece.starts_with(|c: char| c.is_ascii_digit()) { '?' } else { '$' });
        out.push_str(piece);
    }
    out
}

/// `?2, ?3, …` for `n` values bound after `first - 1` others.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// The counts whose statement texts [`PerCount`] keeps (a page holds at most 500 users).
const CACHED_COUNTS: usize = 501;

/// Statement texts that differ only by how many values an `IN (…)` list takes, each built once: formatting one
/// anew for every read (only to find its prepared statement in the cache) cost a tenth of a page's instructions.
pub struct PerCount {
    build: fn(usize) -> String,
    texts: [OnceLock<String>; CACHED_COUNTS],
}

impl PerCount {
    /// Texts built by `build(count)`.
    pub const fn new(build: fn(usize) -> String) -> Self {
        Self { build, texts: [const { OnceLock::new() }; CACHED_COUNTS] }
    }

    /// The text for `count` values.
    pub fn get(&self, count: usize) -> Cow<'_, str> {
        match self.texts.get(count) {
            Some(text) => Cow::Borrowed(text.get_or_init(|| (self.build)(count))),
            None => Cow::Owned((self.build)(count)),
        }
    }
}
