//! Group commit on SQLite's single writer connection: many write transactions share one `COMMIT` (one fsync),
//! and each keeps its own atomicity.
//!
//! The writer connection holds an *outer* transaction (`BEGIN IMMEDIATE`); each [`SqliteTx`] is a savepoint in it.
//! Committing a `SqliteTx` releases its savepoint (its work joins the current *batch*) and then waits until the outer
//! transaction is durably committed. The outer `COMMIT` is run by a committer task, which first lets every task
//! that is ready to run take its turn (those that write join the batch), then queues behind the writers waiting on
//! the writer's (FIFO) lock, so that a batch is everyone who reached the writer before its committer did; or at once,
//! by the releasing transaction, when the batch reaches [`MAX_BATCH`]. A transaction dropped without commit rolls
//! back to its savepoint: only its own work goes. If the outer `COMMIT` fails, every member of the batch gets the
//! error. Nothing is acknowledged before its batch's `COMMIT` returned, so an acknowledged write is durable (with
//! `synchronous=FULL`) and visible to the read pool. Work the members leave undone (the user search index, see
//! [`crate::users::SQLITE_USER_SEARCH_FLUSH`]) is one statement given at open, which the writer runs just before a
//! batch's `COMMIT`, outside every member's savepoint, when it is due: once [`DEFERRED_MEMBERS`] transactions that
//! changed users have committed without it, or [`DEFERRED_AGE`] after the first of them, or when a reader asks for
//! it ([`Writer::run_deferred`]: a search reads the index only once it is current), and at close. Doing it per
//! batch was a third of a one-connection user create (FTS5 wrote and merged a segment per commit).
//!
//! Every statement of the writer runs on the calling thread, on a rusqlite connection: sqlx would run each on its
//! connection's own thread, a hand-off there and back per statement (at 32 concurrent creates, 30 context switches
//! per create and 40% of the server's core). Store code writes them with [`exec_tx!`](crate::exec_tx) and
//! [`fetch_tx!`](crate::fetch_tx), in sqlx's builder syntax, which run them through sqlx on PostgreSQL. Only a
//! `COMMIT` that fsyncs leaves the calling thread, for tokio's blocking pool, holding the writer: the transactions
//! that queue meanwhile form the next batch. A transaction dropped without commit rolls its savepoint back at once
//! (statements run to completion before their caller goes on, so nothing of it can still be running). Whoever takes
//! the lock checks the connection (no savepoint left open; the batch's outer transaction still open if it has
//! members), else reopens it, which rolls back whatever it held and fails the open batch. A write lock another
//! process holds is waited for between attempts, not in SQLite's busy handler (which would sleep on an async
//! worker). Migrations run through sqlx on a connection of their own, while the writer is held and idle.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection as _};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::changes::{Changed, Changes};
use crate::error::StoreError;

/// The most transactions one `COMMIT` covers; past it the releasing transaction commits at once, so that a long
/// queue still gets acknowledgements in bounded time.
pub const MAX_BATCH: usize = 256;

/// How long `begin` waits for the writer before giving up (answered as 503 by core, like an exhausted pool).
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `begin` waits for another process's write lock on the file before failing with `SQLITE_BUSY`. It waits
/// asynchronously, between attempts: SQLite's own busy handler would sleep on the calling thread, an async worker.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause between two attempts at the write lock.
const BUSY_RETRY_MAX: Duration = Duration::from_millis(20);

/// Deferred work is due once this many transactions that changed users have committed without it: FTS5 then writes
/// one segment for them all.
pub const DEFERRED_MEMBERS: usize = 256;

/// Deferred work is due this long after the first transaction left it, at the next commit.
pub const DEFERRED_AGE: Duration = Duration::from_secs(1);

/// The gauge of transactions waiting for the writer connection.
const QUEUE_GAUGE: &str = "tessera_db_write_queue_depth";

/// Prepared statements the writer keeps (the write statements of every resource group).
const STATEMENT_CACHE: usize = 256;

/// What a batch's members learn once its `COMMIT` ran: `Ok`, or the error message of the failed commit.
type Outcome = Option<Result<(), String>>;

/// Opens the writer connection: WAL, foreign keys on, and fsync on every `COMMIT` when `durable` (with WAL, a
/// `COMMIT` then returns only after the WAL is fsynced, so an acknowledged write survives power loss), none at all
/// otherwise (the throwaway memory mode).
fn connect(path: &Path, durable: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "OFF" })?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each transaction is a savepoint, so SQLite keeps a sub-journal of every page a transaction changes (to roll
    // back only it). On a file (the default) that journal went through the kernel, once it outgrew 64 KiB of a batch:
    // two thirds of the bytes a batch of creates wrote, and a third of their time. In memory it never leaves the
    // process; it holds the pages one transaction changes until that transaction ends.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // From here on a lock held by another process fails at once: `begin` retries without blocking the thread. Only
    // `BEGIN IMMEDIATE` can meet one (it takes the write lock for the whole batch; a WAL commit's checkpoint is
    // passive and never waits).
    conn.busy_timeout(Duration::ZERO)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Runs one statement of the writer's own (transaction control, the search flush).
fn run(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.raw_execute().map(drop)
}

/// Whether an outer transaction is open.
fn in_transaction(conn: &Connection) -> bool {
    !conn.is_autocommit()
}

/// Whether SQLite answered that another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Rolls the open savepoint back and ends it.
fn rollback_savepoint(conn: &Connection) -> Result<(), rusqlite::Error> {
    run(conn, "ROLLBACK TO tessera_tx")?;
    run(conn, "RELEASE tessera_tx")
}

/// Binds `params` to `stmt` the way sqlx does on SQLite: a parameter named `$N` or `?N` takes `params[N - 1]`, an
/// anonymous `?` the next one in order. Statements are written once with `$n` placeholders for both drivers.
fn bind_numbered(stmt: &mut rusqlite::Statement<'_>, params: &[&(dyn ToSql + Sync)]) -> Result<(), StoreError> {
    let mut next = 0;
    for index in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(index) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| StoreError::Config(format!("unsupported parameter name {name}")))?,
            None => {
                next += 1;
                next
            }
        };
        let value = params
            .get(n.wrapping_sub(1))
            .ok_or_else(|| StoreError::Config(format!("no value bound for parameter {n}")))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// The single SQLite writer connection and its group-commit state.
pub struct Writer {
    state: Arc<Mutex<State>>,
    /// `begin` calls waiting for the lock (the committer task is not counted).
    waiting: AtomicUsize,
    /// The database (its file, for reopening) and the options migrations connect with.
    options: SqliteConnectOptions,
    /// Whether a `COMMIT` fsyncs (a file): it then runs on the blocking pool.
    durable: bool,
    /// A statement that does the work transactions leave undone (the user search index, see
    /// [`crate::users::SQLITE_USER_SEARCH_FLUSH`]), run on the outer transaction just before a `COMMIT` when due.
    deferred: &'static str,
    /// Some transaction may have left deferred work (also assumed at open: another process may have).
    deferred_pending: AtomicBool,
    /// A reader waits for the deferred work ([`Writer::run_deferred`]): the next batch does it.
    deferred_wanted: AtomicBool,
    /// Transactions released into a batch, and batches committed (for [`Writer::stats`]).
    transactions: AtomicU64,
    commits: AtomicU64,
    /// Moved after each `COMMIT` that may have changed what caches keep.
    changes: Arc<Changes>,
}

struct State {
    /// `None` once closed, or after a failed reopen (the next `begin` tries again).
    conn: Option<Connection>,
    closed: bool,
    /// A savepoint is open that no live transaction owns (its rollback failed): the next holder of the lock tries
    /// again, and reopens the connection if that fails too.
    abandoned_savepoint: bool,
    /// The members released into the open outer transaction, waiting for its `COMMIT`.
    batch: Option<Batch>,
    /// A committer task is on its way to the lock.
    committer_scheduled: bool,
    /// What the statements since the outer transaction began may have changed (see [`crate::changes`]).
    changed: Changed,
    /// What has been left to the deferred work since it last ran.
    left: Left,
}

/// Transactions committed since the deferred work last ran that changed users, and when the first of them did.
struct Left {
    members: usize,
    since: Option<std::time::Instant>,
}

struct Batch {
    done: watch::Sender<Outcome>,
    members: usize,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").field("waiting", &self.waiting.load(Ordering::Relaxed)).finish_non_exhaustive()
    }
}

/// Counts a `begin` waiting for the writer while it lives (also when the waiting future is dropped).
struct QueueSlot<'a>(&'a AtomicUsize);

impl<'a> QueueSlot<'a> {
    fn new(waiting: &'a AtomicUsize) -> Self {
        let n = waiting.fetch_add(1, Ordering::AcqRel) + 1;
        metrics::gauge!(QUEUE_GAUGE).set(n as f64);
        Self(waiting)
    }
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        let n = self.0.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!(QUEUE_GAUGE).set(n as f64);
    }
}

impl Writer {
    /// Opens the writer connection to `options`' file; `durable`: every `COMMIT` fsyncs; `deferred` runs in a
    /// batch's outer transaction just before its `COMMIT` when due (see the module's header; a failure fails the
    /// batch like a failed `COMMIT`). `changes` is moved after every `COMMIT` that may have changed what caches keep.
    pub fn open(
        options: SqliteConnectOptions,
        durable: bool,
        deferred: &'static str,
        changes: Arc<Changes>,
    ) -> Result<Arc<Self>, StoreError> {
        let conn = connect(options.get_filename(), durable)?;
        let state = State {
            conn: Some(conn),
            closed: false,
            abandoned_savepoint: false,
            batch: None,
            committer_scheduled: false,
            changed: Changed::default(),
            left: Left { members: 0, since: Some(std::time::Instant::now()) },
        };
        Ok(Arc::new(Self {
            state: Arc::new(Mutex::new(state)),
            waiting: AtomicUsize::new(0),
            options,
            durable,
            deferred,
            deferred_pending: AtomicBool::new(true),
            deferred_wanted: AtomicBool::new(false),
            transactions: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            changes,
        }))
    }

    /// The connection options (the database file's path, for tests and tools).
    pub fn options(&self) -> &SqliteConnectOptions {
        &self.options
    }

    /// Whether no transaction holds the connection right now.
    pub fn is_idle(&self) -> bool {
        self.state.try_lock().is_ok()
    }

    /// Transactions waiting for the connection right now.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// `(transactions, commits)` so far: transactions released into a batch, and the `COMMIT`s that ended batches
    /// (successful or not). Their ratio is the mean batch size.
    pub fn stats(&self) -> (u64, u64) {
        (self.transactions.load(Ordering::Relaxed), self.commits.load(Ordering::Relaxed))
    }

    /// Starts a write transaction: a savepoint in the outer transaction, opened first if none is.
    pub async fn begin(self: &Arc<Self>) -> Result<SqliteTx, StoreError> {
        let mut guard = self.acquire().await?;
        if !in_transaction(guard.conn.as_ref().ok_or_else(closed)?) {
            // IMMEDIATE takes the write lock now, so that no statement of the batch meets SQLITE_BUSY later.
            let deadline = tokio::time::Instant::now() + BUSY_TIMEOUT;
            let mut pause = Duration::from_millis(1);
            loop {
                let attempt = run(guard.conn.as_ref().ok_or_else(closed)?, "BEGIN IMMEDIATE");
                match attempt {
                    Ok(()) => break,
                    Err(e) if is_busy(&e) && tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(BUSY_RETRY_MAX);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let state = &mut *guard;
        let conn = state.conn.as_ref().ok_or_else(closed)?;
        if let Err(e) = run(conn, "SAVEPOINT tessera_tx") {
            if state.batch.is_none() {
                let _ = run(conn, "ROLLBACK");
            }
            return Err(e.into());
        }
        Ok(SqliteTx { writer: self.clone(), guard: Some(guard) })
    }

    /// Does the deferred work now, returning once it is committed: for a reader that needs it done (a search of the
    /// user index, which first checks that some is pending). The next batch does it; this joins one with an empty
    /// transaction.
    pub async fn run_deferred(self: &Arc<Self>) -> Result<(), StoreError> {
        self.deferred_wanted.store(true, Ordering::Release);
        self.begin().await?.commit().await
    }

    /// Applies `migrator`'s pending migrations through a sqlx connection of their own, with no transaction open on
    /// the writer (a pending batch is committed first) and the writer held meanwhile.
    pub async fn migrate(self: &Arc<Self>, migrator: &sqlx::migrate::Migrator) -> Result<(), StoreError> {
        let guard = self.acquire().await?;
        let _guard = self.end_outer(guard).await;
        // A small page cache: the migrations' pages need not stay in memory, and the default 2 MB that a first
        // start's migrations fill was a tenth of an idle server's resident memory (freed with the connection but
        // kept by the allocator).
        let mut conn = self.options.clone().pragma("cache_size", "-256").connect().await?;
        let result = migrator.run(&mut conn).await;
        let _ = conn.close().await;
        Ok(result?)
    }

    /// Commits what is pending and closes the connection (SQLite checkpoints its WAL when the last one closes).
    pub async fn close(self: &Arc<Self>) {
        let mut guard = self.state.clone().lock_owned().await;
        if self.settle(&mut guard).is_ok() {
            guard = self.end_outer(guard).await;
            if self.deferred_pending.load(Ordering::Acquire)
                && let Some(conn) = guard.conn.as_ref()
            {
                // Left done in the file, not to whoever opens it next.
                let done = run(conn, "BEGIN IMMEDIATE")
                    .and_then(|()| run(conn, self.deferred))
                    .and_then(|()| run(conn, "COMMIT"));
                if let Err(e) = done {
                    tracing::warn!(error = %e, "could not finish deferred work at close");
                    let _ = run(conn, "ROLLBACK");
                }
            }
        }
        guard.closed = true;
        guard.conn = None;
    }

    /// Waits for the lock (counted in the queue gauge), then brings the connection to a known state.
    async fn acquire(&self) -> Result<OwnedMutexGuard<State>, StoreError> {
        let slot = QueueSlot::new(&self.waiting);
        let mut guard = tokio::time::timeout(LOCK_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolTimedOut))?;
        drop(slot);
        self.settle(&mut guard)?;
        Ok(guard)
    }

    /// Makes the connection's state what the lock's holder expects (no savepoint open; an outer transaction open
    /// if a batch has members), reopening the connection if it cannot.
    fn settle(&self, state: &mut State) -> Result<(), StoreError> {
        if state.closed {
            return Err(closed());
        }
        let Some(conn) = state.conn.as_ref() else { return self.reopen(state, "the writer connection was lost") };
        if state.abandoned_savepoint {
            if rollback_savepoint(conn).is_err() {
                return self.reopen(state, "a transaction could not be rolled back");
            }
            state.abandoned_savepoint = false;
        }
        if state.batch.is_some() && !in_transaction(conn) {
            return self.reopen(state, "the batch's transaction was rolled back");
        }
        Ok(())
    }

    /// Drops the connection (SQLite rolls back whatever it held), fails the open batch and connects again.
    fn reopen(&self, state: &mut State, why: &str) -> Result<(), StoreError> {
        tracing::error!(why, "reopening the SQLite writer connection");
        state.conn = None;
        state.abandoned_savepoint = false;
        if let Some(batch) = state.batch.take() {
            batch.done.send_replace(Some(Err(why.to_owned())));
        }
        state.conn = Some(connect(self.options.get_filename(), self.durable)?);
        Ok(())
    }

    /// Ends the outer transaction if one is open (see [`Writer::end_outer_here`]); on the blocking pool when the
    /// `COMMIT` fsyncs, holding the lock meanwhile. Cancelling the caller does not interrupt it.
    async fn end_outer(self: &Arc<Self>, mut guard: OwnedMutexGuard<State>) -> OwnedMutexGuard<State> {
        if !self.durable || guard.batch.is_none() {
            self.end_outer_here(&mut guard);
            return guard;
        }
        let writer = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            writer.end_outer_here(&mut guard);
            guard
        });
        match task.await {
            Ok(guard) => guard,
            Err(e) => {
                // The task panicked: its guard was dropped as it unwound, and the batch's members learnt that
                // their batch was abandoned. The connection is in an unknown state: the next holder reopens it.
                tracing::error!(error = %e, "the batch's commit task failed");
                let mut guard = self.state.clone().lock_owned().await;
                guard.conn = None;
                guard
            }
        }
    }

    /// Ends the outer transaction if one is open, on this thread: `COMMIT` for a batch (members learn the outcome),
    /// `ROLLBACK` if nothing was released into it (only rolled-back savepoints).
    fn end_outer_here(&self, state: &mut State) {
        let Some(conn) = state.conn.as_ref() else { return };
        if !in_transaction(conn) {
            return;
        }
        let batch = state.batch.take();
        let deferred =
            batch.as_ref().is_some_and(|b| self.deferred_due(&mut state.left, state.changed.users, b.members));
        let outcome = match &batch {
            Some(_) => (if deferred { run(conn, self.deferred) } else { Ok(()) })
                .and_then(|()| run(conn, "COMMIT"))
                .map_err(|e| e.to_string()),
            None => run(conn, "ROLLBACK").map_err(|e| e.to_string()),
        };
        if outcome.is_err() && in_transaction(conn) {
            // A failed COMMIT leaves the transaction open: roll it back so that the next batch starts clean.
            let _ = run(conn, "ROLLBACK");
        }
        if deferred && outcome.is_ok() {
            state.left = Left { members: 0, since: None };
            self.deferred_pending.store(false, Ordering::Release);
        }
        // Before any member learns of its commit: a read after the acknowledgement finds no cache entry older.
        self.changes.committed(std::mem::take(&mut state.changed));
        if let Some(batch) = batch {
            self.commits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("tessera_db_write_commits_total").increment(1);
            metrics::histogram!("tessera_db_write_batch_size").record(batch.members as f64);
            batch.done.send_replace(Some(outcome));
        }
    }

    /// Counts a batch of `members` transactions towards the deferred work (if it changed users) and tells whether
    /// the work is due with its `COMMIT`.
    fn deferred_due(&self, left: &mut Left, changed_users: bool, members: usize) -> bool {
        if changed_users {
            left.members += members;
            left.since.get_or_insert_with(std::time::Instant::now);
            self.deferred_pending.store(true, Ordering::Release);
        }
        let wanted = self.deferred_wanted.swap(false, Ordering::AcqRel);
        let due = left.since.is_some_and(|since| left.members >= DEFERRED_MEMBERS || since.elapsed() >= DEFERRED_AGE);
        wanted || due
    }

    /// Commits whatever batch is open when its turn at the lock comes. Also ends an outer transaction left open by
    /// a dropped transaction.
    async fn run_committer(self: Arc<Self>) {
        // Every task ready to run goes first: requests already read and parsed write their transactions now and
        // join this batch, instead of each committing alone.
        tokio::task::yield_now().await;
        let mut guard = self.state.clone().lock_owned().await;
        guard.committer_scheduled = false;
        if self.settle(&mut guard).is_ok() {
            drop(self.end_outer(guard).await);
        }
    }

    fn schedule_committer(self: &Arc<Self>, state: &mut State) {
        if state.committer_scheduled {
            return;
        }
        // Without a runtime (a Tx dropped at shutdown), the next holder of the lock finds the outer transaction.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            state.committer_scheduled = true;
            rt.spawn(self.clone().run_committer());
        }
    }

    /// Releases the savepoint into the batch and waits for the batch's `COMMIT`.
    async fn commit(self: &Arc<Self>, mut guard: OwnedMutexGuard<State>) -> Result<(), StoreError> {
        let state = &mut *guard;
        let conn = state.conn.as_ref().ok_or_else(closed)?;
        if let Err(e) = run(conn, "RELEASE tessera_tx") {
            // The savepoint is still open: roll it back, like a dropped transaction.
            state.abandoned_savepoint = rollback_savepoint(conn).is_err();
            self.schedule_committer(state);
            return Err(e.into());
        }
        self.transactions.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tessera_db_write_transactions_total").increment(1);
        let batch = state.batch.get_or_insert_with(|| Batch { done: watch::channel(None).0, members: 0 });
        batch.members += 1;
        let mut done = batch.done.subscribe();
        if batch.members >= MAX_BATCH {
            drop(self.end_outer(guard).await);
        } else {
            self.schedule_committer(state);
            drop(guard);
        }
        match done.wait_for(Option::is_some).await.as_deref() {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(why))) => Err(StoreError::Commit(why.clone())),
            Ok(None) | Err(_) => Err(StoreError::Commit("the batch was abandoned before its commit".to_owned())),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Config("the database is closed".to_owned())
}

/// A write transaction on SQLite: a savepoint on the writer connection, which it holds until commit or drop. Its
/// statements run on the calling thread ([`SqliteTx::execute`], [`SqliteTx::fetch`]).
pub struct SqliteTx {
    writer: Arc<Writer>,
    // Always `Some` until `commit` takes it.
    guard: Option<OwnedMutexGuard<State>>,
}

impl SqliteTx {
    /// Releases the savepoint and returns once the batch it joined is durably committed.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let guard = self.guard.take().ok_or_else(closed)?;
        self.writer.commit(guard).await
    }

    fn conn(&self) -> Result<&Connection, StoreError> {
        self.guard.as_ref().and_then(|g| g.conn.as_ref()).ok_or_else(closed)
    }

    /// Notes what `sql` may change, for the batch's commit to tell caches.
    fn note(&mut self, sql: &str) {
        if let Some(state) = self.guard.as_mut() {
            state.changed |= Changed::by(sql);
        }
    }

    /// Runs one statement (`$n` placeholders, bound from `params`); the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.note(sql);
        let mut stmt = self.conn()?.prepare_cached(sql)?;
        bind_numbered(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    /// Runs one query (`$n` placeholders, bound from `params`), mapping each row it returns with `row`; reads at
    /// most `limit` rows.
    pub fn fetch<T>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        limit: usize,
        mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        self.note(sql);
        let mut stmt = self.conn()?.prepare_cached(sql)?;
        bind_numbered(&mut stmt, params)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(r) = rows.next()? else { break };
            out.push(row(r)?);
        }
        Ok(out)
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else { return };
        let state = &mut *guard;
        if let Some(conn) = state.conn.as_ref() {
            state.abandoned_savepoint = rollback_savepoint(conn).is_err();
        }
        // The outer transaction may now hold nothing but this rollback, or a batch nobody else will commit.
        self.writer.schedule_committer(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<String>, StoreError> {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        let mut stmt = conn.prepare(sql).expect("the statement");
        bind_numbered(&mut stmt, params)?;
        let mut rows = stmt.raw_query();
        let row = rows.next()?.expect("one row");
        Ok((0..row.as_ref().column_count()).map(|i| row.get::<_, String>(i).expect("text")).collect())
    }

    #[test]
    fn numbered_placeholders_take_the_value_of_their_number_wherever_they_appear() {
        let (a, b, c) = ("a".to_owned(), "b".to_owned(), "c".to_owned());
        // Out of order, repeated, and a gap the statement never names.
        assert_eq!(bound("SELECT $2, $1, $2, $3", &[&a, &b, &c]).unwrap(), ["b", "a", "b", "c"]);
        assert_eq!(bound("SELECT $3, $1", &[&a, &b, &c]).unwrap(), ["c", "a"]);
        assert_eq!(bound("SELECT ?2, ?1", &[&a, &b]).unwrap(), ["b", "a"]);
        assert_eq!(bound("SELECT ?, ?", &[&a, &b]).unwrap(), ["a", "b"]);
        // A number past the values given is an error, not a NULL.
        assert!(matches!(bound("SELECT $1, $3", &[&a, &b]), Err(StoreError::Config(_))));
        assert!(matches!(bound("SELECT :name", &[&a]), Err(StoreError::Config(_))));
    }

    #[derive(Debug, PartialEq, crate::db::FromSqliteRow)]
    struct Inner {
        kind: String,
    }

    #[derive(Debug, PartialEq, crate::db::FromSqliteRow)]
    struct Outer {
        id: i64,
        #[sqlx(rename = "type")]
        type_name: Option<String>,
        #[sqlx(flatten)]
        inner: Inner,
        #[sqlx(default)]
        missing: Option<i64>,
        flag: bool,
    }

    #[test]
    fn row_structs_decode_by_column_name_as_sqlx_does() {
        use crate::db::FromSqliteRow as _;
        let conn = Connection::open_in_memory().expect("an in-memory database");
        let decoded = conn
            .query_row("SELECT 'x' AS kind, TRUE AS flag, NULL AS type, 7 AS id", [], Outer::from_sqlite_row)
            .expect("a row");
        assert_eq!(
            decoded,
            Outer { id: 7, type_name: None, inner: Inner { kind: "x".into() }, missing: None, flag: true }
        );
        // Without `default`, a missing column is an error.
        let missing = conn.query_row("SELECT 7 AS id", [], Outer::from_sqlite_row);
        assert!(matches!(missing, Err(rusqlite::Error::InvalidColumnName(_))), "{missing:?}");
    }
}
