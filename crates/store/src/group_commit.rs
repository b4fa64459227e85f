//! Group commit on SQLite's single writer connection: many write transactions share one `COMMIT` (one fsync),
//! and each keeps its own atomicity.
//!
//! The writer connection holds an *outer* transaction (`BEGIN IMMEDIATE`); each [`SqliteTx`] is a savepoint in it.
//! Committing a `SqliteTx` releases its savepoint (its work joins the current *batch*) and then waits until the outer
//! transaction is durably committed. The outer `COMMIT` happens when the releasing transaction sees nobody waiting
//! for the writer, when the batch reaches [`MAX_BATCH`], or — if writers are queued — by a committer task queued
//! behind them on the writer's (FIFO) lock, so that a batch is everyone who was waiting when its first member
//! finished. A transaction dropped without commit rolls back to its savepoint: only its own work goes. If the outer
//! `COMMIT` fails, every member of the batch gets the error. Nothing is acknowledged before its batch's `COMMIT`
//! returned, so an acknowledged write is durable (with `synchronous=FULL`) and visible to the read pool. Just before
//! each `COMMIT` the writer runs one statement given at open, outside every member's savepoint: work the members
//! leave to their batch (the user search index).
//!
//! Savepoints are driven through sqlx's own transaction manager, which keeps the connection consistent when a
//! future is dropped mid-statement (an unacknowledged `BEGIN` is rolled back by its worker; a dropped transaction
//! queues its rollback in order). Whoever takes the lock after such an interruption first waits for the worker to
//! drain (a ping), then trusts sqlx's transaction depth: 0 = idle, 1 = outer open, more = inconsistent (the
//! connection is then reopened, which rolls back whatever it held, and the open batch fails).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteTransactionManager};
use sqlx::{ConnectOptions, Connection, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::error::StoreError;

/// The most transactions one `COMMIT` covers; past it the releasing transaction commits at once, so that a long
/// queue still gets acknowledgements in bounded time.
pub const MAX_BATCH: usize = 256;

/// How long `begin` waits for the writer before giving up (answered as 503 by core, like an exhausted pool).
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The gauge of transactions waiting for the writer connection.
const QUEUE_GAUGE: &str = "tessera_db_write_queue_depth";

/// What a batch's members learn once its `COMMIT` ran: `Ok`, or the error message of the failed commit.
type Outcome = Option<Result<(), String>>;

/// The single SQLite writer connection and its group-commit state.
pub struct Writer {
    state: Arc<Mutex<State>>,
    /// `begin` calls waiting for the lock (the committer task is not counted).
    waiting: AtomicUsize,
    /// To reopen the connection after an inconsistency.
    options: SqliteConnectOptions,
    /// A statement run on the outer transaction just before each batch's `COMMIT`: work the batch's transactions
    /// leave to their commit (the user search index, see [`crate::users::SQLITE_USER_SEARCH_FLUSH`]).
    before_commit: &'static str,
    /// Transactions released into a batch, and batches committed (for [`Writer::stats`]).
    transactions: AtomicU64,
    commits: AtomicU64,
}

struct State {
    /// `None` once closed, or after a failed reopen (the next `begin` tries again).
    conn: Option<SqliteConnection>,
    closed: bool,
    /// A future was dropped (or a transaction abandoned) while it had commands queued on the connection: the next
    /// holder must let the worker drain before it reads the transaction depth.
    unsettled: bool,
    /// The members released into the open outer transaction, waiting for its `COMMIT`.
    batch: Option<Batch>,
    /// A committer task is queued on the lock.
    committer_scheduled: bool,
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

fn depth(conn: &SqliteConnection) -> usize {
    SqliteTransactionManager::get_transaction_depth(conn)
}

impl Writer {
    /// Opens the writer connection; `before_commit` runs in each batch's outer transaction just before its
    /// `COMMIT` (a failure fails the batch like a failed `COMMIT`).
    pub async fn open(options: SqliteConnectOptions, before_commit: &'static str) -> Result<Arc<Self>, StoreError> {
        let conn = options.connect().await?;
        let state =
            State { conn: Some(conn), closed: false, unsettled: false, batch: None, committer_scheduled: false };
        Ok(Arc::new(Self {
            state: Arc::new(Mutex::new(state)),
            waiting: AtomicUsize::new(0),
            options,
            before_commit,
            transactions: AtomicU64::new(0),
            commits: AtomicU64::new(0),
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
        let state = &mut *guard;
        let conn = state.conn.as_mut().ok_or_else(closed)?;
        let opened_outer = depth(conn) == 0;
        state.unsettled = true;
        if opened_outer {
            // IMMEDIATE takes the write lock now, so that no statement of the batch meets SQLITE_BUSY later.
            SqliteTransactionManager::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        }
        let savepoint = SqliteTransactionManager::begin(conn, None).await;
        state.unsettled = false;
        if let Err(e) = savepoint {
            if opened_outer && state.batch.is_none() {
                self.end_outer(state).await;
            }
            return Err(e.into());
        }
        Ok(SqliteTx { writer: self.clone(), guard: Some(guard) })
    }

    /// Applies `migrator`'s pending migrations on the writer, with no transaction open (a pending batch is
    /// committed first).
    pub async fn migrate(&self, migrator: &sqlx::migrate::Migrator) -> Result<(), StoreError> {
        let mut guard = self.acquire().await?;
        self.end_outer(&mut guard).await;
        migrator.run(guard.conn.as_mut().ok_or_else(closed)?).await?;
        Ok(())
    }

    /// Commits what is pending and closes the connection (SQLite checkpoints its WAL when the last one closes).
    pub async fn close(&self) {
        let mut guard = self.state.clone().lock_owned().await;
        if self.settle(&mut guard).await.is_ok() {
            self.end_outer(&mut guard).await;
        }
        guard.closed = true;
        if let Some(conn) = guard.conn.take() {
            let _ = conn.close().await;
        }
    }

    /// Waits for the lock (counted in the queue gauge), then brings the connection to a known state.
    async fn acquire(&self) -> Result<OwnedMutexGuard<State>, StoreError> {
        let slot = QueueSlot::new(&self.waiting);
        let mut guard = tokio::time::timeout(LOCK_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Sqlx(sqlx::Error::PoolTimedOut))?;
        drop(slot);
        self.settle(&mut guard).await?;
        Ok(guard)
    }

    /// Makes the transaction depth trustworthy (0 or 1), reopening the connection if it is not.
    async fn settle(&self, state: &mut State) -> Result<(), StoreError> {
        if state.closed {
            return Err(closed());
        }
        let Some(conn) = state.conn.as_mut() else { return self.reopen(state, "the writer connection was lost").await };
        if state.unsettled {
            // Commands are processed in order: once the ping answers, every queued rollback has run.
            if conn.ping().await.is_err() {
                return self.reopen(state, "the writer connection failed").await;
            }
            state.unsettled = false;
        }
        match depth(conn) {
            0 if state.batch.is_some() => self.reopen(state, "the batch's transaction was rolled back").await,
            0 | 1 => Ok(()),
            _ => self.reopen(state, "a transaction could not be rolled back").await,
        }
    }

    /// Drops the connection (SQLite rolls back whatever it held), fails the open batch and connects again.
    async fn reopen(&self, state: &mut State, why: &str) -> Result<(), StoreError> {
        tracing::error!(why, "reopening the SQLite writer connection");
        state.conn = None;
        state.unsettled = false;
        if let Some(batch) = state.batch.take() {
            batch.done.send_replace(Some(Err(why.to_owned())));
        }
        state.conn = Some(self.options.connect().await?);
        Ok(())
    }

    /// Ends the outer transaction if one is open: `COMMIT` for a batch (members learn the outcome), `ROLLBACK` if
    /// nothing was released into it (only rolled-back savepoints).
    async fn end_outer(&self, state: &mut State) {
        let Some(conn) = state.conn.as_mut() else { return };
        if depth(conn) == 0 {
            return;
        }
        let batch = state.batch.take();
        state.unsettled = true;
        let outcome = match &batch {
            // A prepared statement of the connection's cache (not `raw_sql`, which parses its text every time).
            Some(_) => match sqlx::query(self.before_commit).execute(&mut *conn).await {
                Ok(_) => SqliteTransactionManager::commit(conn).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            None => SqliteTransactionManager::rollback(conn).await.map_err(|e| e.to_string()),
        };
        state.unsettled = false;
        if outcome.is_err() && depth(conn) != 0 {
            // A failed COMMIT leaves the transaction open: roll it back so that the next batch starts clean.
            state.unsettled = true;
            if SqliteTransactionManager::rollback(conn).await.is_ok() {
                state.unsettled = false;
            }
        }
        if let Some(batch) = batch {
            self.commits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("tessera_db_write_commits_total").increment(1);
            metrics::histogram!("tessera_db_write_batch_size").record(batch.members as f64);
            batch.done.send_replace(Some(outcome));
        }
    }

    /// A committer queued behind the waiting writers: commits whatever batch is open when its turn comes. Also
    /// ends an outer transaction left open by a dropped transaction.
    async fn run_committer(self: Arc<Self>) {
        let mut guard = self.state.clone().lock_owned().await;
        guard.committer_scheduled = false;
        if self.settle(&mut guard).await.is_ok() {
            self.end_outer(&mut guard).await;
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
    async fn commit(self: Arc<Self>, mut guard: OwnedMutexGuard<State>) -> Result<(), StoreError> {
        let state = &mut *guard;
        let conn = state.conn.as_mut().ok_or_else(closed)?;
        state.unsettled = true;
        if let Err(e) = SqliteTransactionManager::commit(conn).await {
            // The savepoint is still open: roll it back, like a dropped transaction.
            SqliteTransactionManager::start_rollback(conn);
            self.schedule_committer(state);
            return Err(e.into());
        }
        state.unsettled = false;
        self.transactions.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("tessera_db_write_transactions_total").increment(1);
        let batch = state.batch.get_or_insert_with(|| Batch { done: watch::channel(None).0, members: 0 });
        batch.members += 1;
        let mut done = batch.done.subscribe();
        if self.waiting.load(Ordering::Acquire) == 0 || batch.members >= MAX_BATCH {
            self.end_outer(state).await;
        } else {
            self.schedule_committer(state);
        }
        drop(guard);
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

/// A write transaction on SQLite: a savepoint on the writer connection, which it holds until commit or drop.
/// Dereferences to the connection, so that store code runs its statements on `&mut **tx`.
pub struct SqliteTx {
    writer: Arc<Writer>,
    // Always `Some` until `commit` takes it.
    guard: Option<OwnedMutexGuard<State>>,
}

impl SqliteTx {
    /// Releases the savepoint and returns once the batch it joined is durably committed.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let guard = self.guard.take().ok_or_else(closed)?;
        // A task of its own, so that a caller dropped mid-commit (a cancelled request) cannot leave the batch
        // without its COMMIT or the connection mid-statement.
        match tokio::spawn(self.writer.clone().commit(guard)).await {
            Ok(result) => result,
            Err(e) => Err(StoreError::Commit(format!("the commit task failed: {e}"))),
        }
    }
}

impl Deref for SqliteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.guard.as_ref().and_then(|g| g.conn.as_ref()).expect("a live SqliteTx holds the open writer connection")
    }
}

impl DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.guard.as_mut().and_then(|g| g.conn.as_mut()).expect("a live SqliteTx holds the open writer connection")
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else { return };
        if let Some(conn) = guard.conn.as_mut() {
            // Queued on the connection behind any statement still running; the next holder waits for it.
            SqliteTransactionManager::start_rollback(conn);
        }
        guard.unsettled = true;
        // The outer transaction may now hold nothing but this rollback, or a batch nobody else will commit.
        self.writer.schedule_committer(&mut guard);
    }
}
