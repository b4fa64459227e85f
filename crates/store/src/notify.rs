//! The carrier of cache invalidations between nodes: PostgreSQL `LISTEN`/`NOTIFY` on one channel.
//!
//! A change sends its notification inside its own transaction (`pg_notify`), which PostgreSQL delivers to every
//! listening session when — and only if — the transaction commits. Each node keeps one listening connection
//! (sqlx's `PgListener`, which reconnects by itself); notifications sent while it was disconnected are lost, so
//! the listener reports every (re)connection and the caller flushes what it caches.
//!
//! SQLite is one server process per database file: there is no other node to tell, so sending is a no-op and
//! there is nothing to listen to.

use std::time::Duration;

use sqlx::postgres::PgListener;

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
