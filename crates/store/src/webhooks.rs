//! Webhooks: the event outbox, the webhook application and endpoints of an instance, deliveries (one per event
//! and subscribed endpoint) with their attempts, and the portal's tokens and sessions.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, exec_write, fetch_tx, fetch_write, on_read};

/// A new outbox event.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// `msg_…`
    pub id: &'a str,
    /// Owning instance.
    pub instance_id: &'a str,
    /// `user.created`…
    pub event_type: &'a str,
    /// The object the event is about.
    pub resource_id: &'a str,
    /// The event JSON.
    pub payload: &'a str,
    /// Unix ms.
    pub created_at: i64,
}

/// A row of `webhook_endpoints`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct EndpointRow {
    /// `ep_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Target URL.
    pub url: String,
    /// Free text.
    pub description: String,
    /// Space-separated event types (empty: all).
    pub event_types: String,
    /// The sealed `whsec_…` secret.
    pub secret_sealed: Vec<u8>,
    /// Paused.
    pub disabled: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A delivery claimed for sending, with what is needed to send it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ClaimedDelivery {
    /// Delivery id.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// `msg_…`
    pub event_id: String,
    /// The event JSON.
    pub payload: String,
    /// Target URL.
    pub url: String,
    /// Sealed secret.
    pub secret_sealed: Vec<u8>,
    /// The instance's environment (`development` instances may deliver to private targets).
    pub environment_type: String,
}

/// A delivery as the portal lists it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct DeliveryRow {
    /// Delivery id.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// Endpoint URL.
    pub url: String,
    /// `msg_…`
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// `pending`, `succeeded`, `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next try, Unix ms.
    pub next_attempt_at: i64,
    /// Unix ms.
    pub last_attempt_at: Option<i64>,
    /// HTTP status of the last try.
    pub last_status_code: Option<i64>,
    /// Start of the last response body.
    pub last_response: Option<String>,
    /// Transport error of the last try.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// An outbox event as stored.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct EventRow {
    /// Order of emission.
    pub seq: i64,
    /// `msg_…`
    pub id: String,
    /// Event type.
    pub event_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Event JSON.
    pub payload: String,
    /// Unix ms.
    pub created_at: i64,
}

/// The outcome of one try, to record.
#[derive(Debug, Clone)]
pub struct AttemptOutcome<'a> {
    /// Attempt id.
    pub attempt_id: &'a str,
    /// HTTP status, if a response arrived.
    pub status_code: Option<i64>,
    /// Start of the response body.
    pub response: Option<&'a str>,
    /// Transport error.
    pub error: Option<&'a str>,
    /// `succeeded`, `failed` or `pending` (retry at `next_attempt_at`).
    pub status: &'a str,
    /// Next try, Unix ms (for `pending`).
    pub next_attempt_at: i64,
    /// Unix ms.
    pub now: i64,
}

/// PostgreSQL: the CTE `delivery` that gives an event one pending delivery per enabled endpoint of the instance
/// whose types (space-separated, none meaning all) include the event's, after a CTE `event` that inserted it
/// `RETURNING seq`; `$1`–`$6` are the event's id, instance, type, resource, payload and time. A literal, so that
/// [`insert_event`] and the statement that creates a user at once (`users::insert_created_at_once`) share it.
macro_rules! pg_event_deliveries {
    () => {
        "delivery AS (INSERT INTO webhook_deliveries (id, instance_id, event_seq, endpoint_id, resource_id, status, \
         attempts, next_attempt_at, created_at, updated_at) \
         SELECT $1 || '_' || w.id, $2, event.seq, w.id, $4, 'pending', 0, $6, $6, $6 \
         FROM event CROSS JOIN webhook_endpoints w \
         WHERE w.instance_id = $2 AND w.disabled = FALSE \
         AND (btrim(w.event_types) = '' OR $3 = ANY(regexp_split_to_array(btrim(w.event_types), '\\s+'))) \
         RETURNING 1)"
    };
}
pub(crate) use pg_event_deliveries;

/// Writes an event to the outbox and one pending delivery per enabled endpoint of the instance subscribed to its
/// type (all in the caller's transaction). Returns the number of deliveries created.
pub async fn insert_event(tx: &mut Tx, e: &NewEvent<'_>) -> StoreResult<u64> {
    if let Tx::Postgres(t) = tx {
        // One round trip instead of two and one per endpoint (a round trip is most of a statement's cost on
        // PostgreSQL; on SQLite each statement below is a call on the calling thread). The same rules: enabled
        // endpoints of the instance whose types (space-separated, none meaning all) include the event's.
        const SQL: &str = concat!(
            "WITH event AS (INSERT INTO webhook_events (id, instance_id, event_type, resource_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq), ",
            pg_event_deliveries!(),
            " SELECT count(*) FROM delivery"
        );
        let deliveries: i64 = sqlx::query_scalar(SQL)
            .bind(e.id)
            .bind(e.instance_id)
            .bind(e.event_type)
            .bind(e.resource_id)
            .bind(e.payload)
            .bind(e.created_at)
            .fetch_one(t.run(SQL))
            .await?;
        return Ok(u64::try_from(deliveries).unwrap_or(0));
    }
    let seq = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO webhook_events (id, instance_id, event_type, resource_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq"
        )
        .bind(e.id)
        .bind(e.instance_id)
        .bind(e.event_type)
        .bind(e.resource_id)
        .bind(e.payload)
        .bind(e.created_at)
    )?;
    let endpoints = fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, event_types FROM webhook_endpoints WHERE instance_id = $1 AND disabled = FALSE ORDER BY id"
        )
        .bind(e.instance_id)
    )?;
    let mut n = 0;
    for (endpoint_id, types) in endpoints {
        if !types.trim().is_empty() && !types.split_whitespace().any(|t| t == e.event_type) {
            continue;
        }
        let id = format!("{}_{}", e.id, endpoint_id);
        n += exec_tx!(
            tx,
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, instance_id, event_seq, endpoint_id, resource_id, status, \
                 attempts, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)"
            )
            .bind(&id)
            .bind(e.instance_id)
            .bind(seq)
            .bind(&endpoint_id)
            .bind(e.resource_id)
            .bind(e.created_at)
        )?;
    }
    Ok(n)
}

/// Deletes the events of one type about one resource, with their deliveries (pending ones included): the erasure
/// of a message's `email.created` copy. Returns how many events there were.
pub async fn delete_events_about(
    tx: &mut Tx,
    instance_id: &str,
    event_type: &str,
    resource_id: &str,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM webhook_deliveries WHERE event_seq IN (SELECT seq FROM webhook_events \
             WHERE instance_id = $1 AND event_type = $2 AND resource_id = $3)"
        )
        .bind(instance_id)
        .bind(event_type)
        .bind(resource_id)
    )?;
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM webhook_events WHERE instance_id = $1 AND event_type = $2 AND resource_id = $3")
            .bind(instance_id)
            .bind(event_type)
            .bind(resource_id)
    )
}

/// The latest events of an instance, newest first.
pub async fn recent_events(db: &Db, instance_id: &str, limit: i64) -> StoreResult<Vec<EventRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, EventRow>(
        "SELECT seq, id, event_type, resource_id, payload, created_at FROM webhook_events WHERE instance_id = $1 \
         ORDER BY seq DESC LIMIT $2"
    )
    .bind(instance_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// The webhook application id of an instance, if it has one.
pub async fn app(db: &Db, instance_id: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar("SELECT id FROM webhook_apps WHERE instance_id = $1")
        .bind(instance_id)
        .fetch_optional(c)
        .await)?)
}

/// Creates the instance's webhook application unless it exists; returns whether it was created.
pub async fn create_app(tx: &mut Tx, instance_id: &str, id: &str, now: i64) -> StoreResult<bool> {
    Ok(exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO webhook_apps (instance_id, id, created_at) VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO NOTHING"
        )
        .bind(instance_id)
        .bind(id)
        .bind(now)
    )? > 0)
}

/// Deletes the instance's webhook application with its endpoints and their deliveries; returns rows deleted.
pub async fn delete_app(tx: &mut Tx, instance_id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM webhook_deliveries WHERE instance_id = $1").bind(instance_id))?;
    exec_tx!(tx, sqlx::query("DELETE FROM webhook_endpoints WHERE instance_id = $1").bind(instance_id))?;
    exec_tx!(tx, sqlx::query("DELETE FROM webhook_apps WHERE instance_id = $1").bind(instance_id))
}

const ENDPOINT_COLUMNS: &str =
    "id, instance_id, url, description, event_types, secret_sealed, disabled, created_at, updated_at";

/// Inserts an endpoint.
pub async fn insert_endpoint(tx: &mut Tx, e: &EndpointRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, instance_id, url, description, event_types, secret_sealed, disabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&e.id)
        .bind(&e.instance_id)
        .bind(&e.url)
        .bind(&e.description)
        .bind(&e.event_types)
        .bind(&e.secret_sealed)
        .bind(e.disabled)
        .bind(e.created_at)
        .bind(e.updated_at)
    )?;
    Ok(())
}

/// Updates an endpoint's URL, description, filter, secret and state; returns rows updated.
pub async fn update_endpoint(tx: &mut Tx, e: &EndpointRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, secret_sealed = $6, \
             disabled = $7, updated_at = $8 WHERE instance_id = $1 AND id = $2"
        )
        .bind(&e.instance_id)
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.description)
        .bind(&e.event_types)
        .bind(&e.secret_sealed)
        .bind(e.disabled)
        .bind(e.updated_at)
    )
}

/// Deletes an endpoint (its deliveries go with it); returns rows deleted.
pub async fn delete_endpoint(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM webhook_deliveries WHERE instance_id = $1 AND endpoint_id = $2")
            .bind(instance_id)
            .bind(id)
    )?;
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM webhook_endpoints WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// The endpoints of an instance, oldest first.
pub async fn endpoints(db: &Db, instance_id: &str) -> StoreResult<Vec<EndpointRow>> {
    let sql =
        format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE instance_id = $1 ORDER BY created_at, id");
    Ok(on_read!(db, |c| sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .fetch_all(c)
        .await)?)
}

/// One endpoint of an instance.
pub async fn endpoint(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<EndpointRow>> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, EndpointRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Claims up to `limit` due deliveries for `owner` until `lease_until`. A delivery is due when it is pending, its
/// time has come, it is not leased by a live owner, and no earlier delivery of the same resource to the same
/// endpoint is still pending (so one resource's events reach an endpoint in order). PostgreSQL skips rows other
/// nodes are claiming (`FOR UPDATE SKIP LOCKED`); SQLite's single writer serializes the claim.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let lock = if db.is_postgres() { " FOR UPDATE OF d SKIP LOCKED" } else { "" };
    let pick = format!(
        "SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
         AND (d.lease_until IS NULL OR d.lease_until < $1) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
           AND p.resource_id = d.resource_id AND p.event_seq < d.event_seq AND p.status = 'pending') \
         ORDER BY d.event_seq LIMIT $2{lock}"
    );
    let mut tx = db.begin().await?;
    let ids: Vec<String> =
        fetch_tx!(&mut tx, fetch_all, sqlx::query_scalar(sqlx::AssertSqlSafe(pick)).bind(now).bind(limit))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        exec_tx!(
            &mut tx,
            sqlx::query("UPDATE webhook_deliveries SET lease_owner = $2, lease_until = $3 WHERE id = $1")
                .bind(&id)
                .bind(owner)
                .bind(lease_until)
        )?;
        let row: Option<ClaimedDelivery> = fetch_tx!(
            &mut tx,
            fetch_optional,
            sqlx::query_as(
                "SELECT d.id, d.instance_id, d.attempts, e.id AS event_id, e.payload, p.url, p.secret_sealed, \
                 i.environment_type FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq \
                 JOIN webhook_endpoints p ON p.id = d.endpoint_id JOIN instances i ON i.id = d.instance_id \
                 WHERE d.id = $1"
            )
            .bind(&id)
        )?;
        out.extend(row);
    }
    tx.commit().await?;
    Ok(out)
}

/// Records one try of a delivery still leased by `owner`: the attempt, and the delivery's new state. Returns
/// false when the lease was lost (another node took the delivery over), in which case nothing is written.
pub async fn record_attempt(db: &Db, delivery_id: &str, owner: &str, o: &AttemptOutcome<'_>) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let updated = exec_tx!(
        &mut tx,
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, \
             lease_owner = NULL, lease_until = NULL, last_attempt_at = $5, last_status_code = $6, last_response = $7, \
             last_error = $8, updated_at = $5 WHERE id = $1 AND lease_owner = $2"
        )
        .bind(delivery_id)
        .bind(owner)
        .bind(o.status)
        .bind(o.next_attempt_at)
        .bind(o.now)
        .bind(o.status_code)
        .bind(o.response)
        .bind(o.error)
    )?;
    if updated == 0 {
        return Ok(false);
    }
    exec_tx!(
        &mut tx,
        sqlx::query(
            "INSERT INTO webhook_attempts (id, instance_id, delivery_id, status_code, response, error, attempted_at) \
             SELECT $1, instance_id, id, $3, $4, $5, $6 FROM webhook_deliveries WHERE id = $2"
        )
        .bind(o.attempt_id)
        .bind(delivery_id)
        .bind(o.status_code)
        .bind(o.response)
        .bind(o.error)
        .bind(o.now)
    )?;
    tx.commit().await?;
    Ok(true)
}

/// Deliveries of every instance waiting to be sent (pending, due or not): the depth of the webhook outbox.
pub async fn pending_count(db: &Db) -> StoreResult<i64> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'"
    )
    .fetch_one(c)
    .await)?)
}

/// Puts a delivery of the instance back in the queue for an immediate try (replay); returns rows updated.
pub async fn replay(tx: &mut Tx, instance_id: &str, delivery_id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, lease_owner = NULL, \
             lease_until = NULL, updated_at = $3 WHERE instance_id = $1 AND id = $2 AND status <> 'pending'"
        )
        .bind(instance_id)
        .bind(delivery_id)
        .bind(now)
    )
}

/// The latest deliveries of an instance, newest first.
pub async fn recent_deliveries(db: &Db, instance_id: &str, limit: i64) -> StoreResult<Vec<DeliveryRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, DeliveryRow>(
        "SELECT d.id, d.endpoint_id, p.url, e.id AS event_id, e.event_type, d.status, d.attempts, d.next_attempt_at, \
         d.last_attempt_at, d.last_status_code, d.last_response, d.last_error, d.created_at \
         FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq \
         JOIN webhook_endpoints p ON p.id = d.endpoint_id WHERE d.instance_id = $1 \
         ORDER BY d.event_seq DESC, d.id LIMIT $2"
    )
    .bind(instance_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Stores a one-time portal token digest.
pub async fn insert_portal_token(tx: &mut Tx, digest: &[u8], instance_id: &str, expires_at: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("INSERT INTO webhook_portal_tokens (digest, instance_id, expires_at) VALUES ($1, $2, $3)")
            .bind(digest)
            .bind(instance_id)
            .bind(expires_at)
    )?;
    Ok(())
}

/// Marks an unused, unexpired portal token used and returns its instance (a token works once).
pub async fn use_portal_token(db: &Db, digest: &[u8], now: i64) -> StoreResult<Option<String>> {
    fetch_write!(
        db,
        fetch_optional,
        sqlx::query_scalar::<_, String>(
            "UPDATE webhook_portal_tokens SET used_at = $2 WHERE digest = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING instance_id"
        )
        .bind(digest)
        .bind(now)
    )
}

/// Stores a portal session digest.
pub async fn insert_portal_session(db: &Db, digest: &[u8], instance_id: &str, expires_at: i64) -> StoreResult<()> {
    exec_write!(
        db,
        sqlx::query("INSERT INTO webhook_portal_sessions (digest, instance_id, expires_at) VALUES ($1, $2, $3)")
            .bind(digest)
            .bind(instance_id)
            .bind(expires_at)
    )?;
    Ok(())
}

/// The instance of a live portal session.
pub async fn portal_session(db: &Db, digest: &[u8], now: i64) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar(
        "SELECT instance_id FROM webhook_portal_sessions WHERE digest = $1 AND expires_at > $2"
    )
    .bind(digest)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}
