//! The read side's connection pool: idle connections in a list, handed out and put back without a round trip.
//!
//! sqlx's `Pool` pings every connection as it comes back (its guard's drop spawns a task that does it): one more
//! hand-off to the connection's worker thread per SQLite read, one more network round trip per PostgreSQL read, on
//! the same cores as the queries themselves. A read-only connection needs none of it: it holds no transaction a
//! cancelled query could leave open (sqlx resets a statement whose rows were not all read), and one that failed at
//! the connection level (I/O, protocol, a crashed worker) is dropped instead of put back.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt as _, TryStreamExt as _};
use sqlx::{ConnectOptions, Connection, Database, Either, Error, Executor};
use sqlx_core::describe::Describe;
use sqlx_core::executor::Execute;
use sqlx_core::sql_str::SqlStr;
use tokio::sync::{Semaphore, SemaphorePermit};

/// A pool of read connections (see the module documentation). Opens connections on demand, up to its size.
pub struct ReadPool<DB: Database> {
    options: <DB::Connection as Connection>::Options,
    idle: Mutex<Vec<DB::Connection>>,
    permits: Semaphore,
    open: AtomicUsize,
    closed: AtomicBool,
    acquire_timeout: Duration,
}

impl<DB: Database> fmt::Debug for ReadPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadPool").field("size", &self.size()).field("idle", &self.num_idle()).finish()
    }
}

impl<DB: Database> ReadPool<DB> {
    /// A pool of at most `max` connections opened with `options`; opens one now, so that a database that cannot be
    /// read fails here rather than at the first request.
    pub async fn connect(
        options: <DB::Connection as Connection>::Options,
        max: usize,
        acquire_timeout: Duration,
    ) -> Result<Self, Error> {
        let first = options.connect().await?;
        Ok(Self {
            options,
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(max),
            open: AtomicUsize::new(1),
            closed: AtomicBool::new(false),
            acquire_timeout,
        })
    }

    /// Connections open (idle or in use).
    pub fn size(&self) -> u32 {
        u32::try_from(self.open.load(Ordering::Relaxed)).unwrap_or(u32::MAX)
    }

    /// Idle connections.
    pub fn num_idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// A connection for one query; waits for one (at most the acquire timeout, then `PoolTimedOut`) when all are in
    /// use.
    pub async fn acquire(&self) -> Result<ReadConnection<'_, DB>, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::PoolClosed);
        }
        let permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
                .await
                .map_err(|_| Error::PoolTimedOut)?
                .map_err(|_| Error::PoolClosed)?,
        };
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = self.options.connect().await?;
                self.open.fetch_add(1, Ordering::Relaxed);
                conn
            }
        };
        Ok(ReadConnection { pool: self, conn: Some(conn), broken: false, _permit: permit })
    }

    /// Closes the idle connections; connections in use are closed as they come back.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for conn in idle {
            self.open.fetch_sub(1, Ordering::Relaxed);
            conn.close().await.ok();
        }
    }
}

/// A connection taken from a [`ReadPool`]; goes back to it when dropped, unless it failed at the connection level.
pub struct ReadConnection<'p, DB: Database> {
    pool: &'p ReadPool<DB>,
    conn: Option<DB::Connection>,
    broken: bool,
    _permit: SemaphorePermit<'p>,
}

impl<DB: Database> ReadConnection<'_, DB> {
    fn conn(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("a pooled connection is present until dropped")
    }

    /// Notes the outcome of a query: an error of the connection (not of the statement) retires it.
    fn check<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &result {
            self.broken |= !matches!(
                e,
                Error::Database(_)
                    | Error::RowNotFound
                    | Error::ColumnDecode { .. }
                    | Error::ColumnNotFound(_)
                    | Error::ColumnIndexOutOfBounds { .. }
                    | Error::TypeNotFound { .. }
                    | Error::Decode(_)
                    | Error::Encode(_)
            );
        }
        result
    }
}

impl<DB: Database> Drop for ReadConnection<'_, DB> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.broken || self.pool.closed.load(Ordering::Acquire) {
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
            drop(conn);
        } else {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
    }
}

impl<'p, DB: Database> Executor<'p> for &'p ReadPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        Box::pin(sqlx_core::try_stream! {
            let mut conn = self.acquire().await?;
            let mut rows = conn.conn().fetch_many(query);
            loop {
                match rows.try_next().await {
                    Ok(Some(v)) => r#yield!(v),
                    Ok(None) => break,
                    Err(e) => {
                        drop(rows);
                        return conn.check(Err(e));
                    }
                }
            }
            Ok(())
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        async move {
            let mut conn = self.acquire().await?;
            let result = conn.conn().fetch_optional(query).await;
            conn.check(result)
        }
        .boxed()
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<DB::Row>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        async move {
            let mut conn = self.acquire().await?;
            let result = conn.conn().fetch_all(query).await;
            conn.check(result)
        }
        .boxed()
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<DB::QueryResult, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        async move {
            let mut conn = self.acquire().await?;
            let result = conn.conn().execute(query).await;
            conn.check(result)
        }
        .boxed()
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, Error>>
    where
        'p: 'e,
    {
        async move {
            let mut conn = self.acquire().await?;
            let result = conn.conn().prepare_with(sql, parameters).await;
            conn.check(result)
        }
        .boxed()
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<DB>, Error>>
    where
        'p: 'e,
    {
        async move {
            let mut conn = self.acquire().await?;
            let result = conn.conn().describe(sql).await;
            conn.check(result)
        }
        .boxed()
    }
}
