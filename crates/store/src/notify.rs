//! The carrier of cache invalidations between nodes: PostgreSQL `LISTEN`/`NOTIFY` on one channel.
//!
//! A revocation (API keys, M2M tokens) sends its notification inside its own transaction ([`send`]), which PostgreSQL
//! delivers to every listening session when — and only if — the transaction commits. Changes to the tables caches
//! follow are told after their commit instead, by [`send_changes`] (see [`crate::changes::Outgoing`] for why).
//! Each node keeps one listening connection
//! (sqlx's `PgListener`, which reconnects by itself); notifications sent while it was disconnected are lost, so
//! the listener reports every (re)connection and the caller flushes what it caches.
//!
//! SQLite is one server process per database file: there is no other node to tell, so sending is a no-op and
//! there is nothing to listen to.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::changes::Outgoing;
use crate::{Db, StoreResult, Tx};

/// The channel every node listens on.
pub const CHANNEL: &str = "tessera_cache";

/// Queues `payload` for every listening node, delivered when `tx` commits (PostgreSQL; nothing on SQLite).
pub async fn send(tx: &mut Tx, payload: &str) -> StoreResult<()> {
    if let Tx::Postgres(t) = tx {
        const SQL: &str = "SELECT pg_notify($1, $2)";
        sqlx::query(SQL).bind(CHANNEL).bind(payload).execute(t.run(SQL)).await?;
    }
    Ok(())
}

/// What a listener reports.
#[derive(Debug)]
pub enum Event<'a> {
    /// Listening (again): notifications sent before this may have been missed.
    Connected,
    /// A notification's payload.
    Message(&'a str),
}

/// Listens until the process ends, calling `on` for every (re)connection and notification. Returns at once on
/// SQLite. Connection failures are retried every second (and logged); they never end the loop.
pub async fn listen(db: &Db, mut on: impl FnMut(Event<'_>)) {
    let Db::Postgres(pools) = db else { return };
    let pool = &pools.pool;
    loop {
        let mut listener = match connect(pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cache invalidation listener: cannot listen; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        on(Event::Connected);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => on(Event::Message(n.payload())),
                // The connection was lost; `try_recv` reconnects on the next call, and missed notifications are
                // gone: report the reconnection once the channel is listened to again.
                Ok(None) => {
                    tracing::warn!("cache invalidation listener: connection lost; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cache invalidation listener failed; reconnecting in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

async fn connect(pool: &sqlx::PgPool) -> StoreResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The least time between two notifications of committed changes: under a steady stream of writes, one `NOTIFY`
/// covers what [`NOTIFY_GAP`] gathers instead of one per commit (each takes PostgreSQL's notification lock and a
/// round trip), and adds at most this to the other nodes' delay.
const NOTIFY_GAP: Duration = Duration::from_millis(5);

/// Tells the other nodes of this node's committed changes ([`Outgoing`]) until the pool closes: one `NOTIFY` per
/// wake-up, covering every group changed since the last. A failed send is retried after a pause; meanwhile the other
/// nodes' caches expire by themselves.
pub(crate) async fn send_changes(pool: sqlx::PgPool, outgoing: std::sync::Arc<Outgoing>) {
    while !pool.is_closed() {
        outgoing.queued().await;
        match flush(&pool, &outgoing).await {
            Ok(()) => tokio::time::sleep(NOTIFY_GAP).await,
            Err(_) if pool.is_closed() => break,
            Err(e) => {
                tracing::warn!(error = %e, "cache invalidation: cannot notify the other nodes; retrying in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Sends what is queued now (also on closing, so that the last changes are told before the pool goes).
pub(crate) async fn flush(pool: &sqlx::PgPool, outgoing: &Outgoing) -> StoreResult<()> {
    let payloads = outgoing.take();
    if payloads.is_empty() {
        return Ok(());
    }
    let sent = sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
        .bind(CHANNEL)
        .bind(&payloads)
        .execute(pool)
        .await;
    if sent.is_err() {
        outgoing.requeue(&payloads);
    }
    Ok(sent.map(|_| ())?)
}
