//! Agents and agent tasks (0020). Only the digest of a task's ticket is stored.

use crate::db::FromSqliteRow;
use crate::{StoreResult, Tx, exec_tx, fetch_tx};

/// A row of `agent_tasks`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct AgentTaskRow {
    /// `agttsk_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `agt_…`, stable per agent name.
    pub agent_id: String,
    /// The user the agent acts for.
    pub user_id: String,
    /// Granted permissions (`*`).
    pub permissions: String,
    /// What the agent does, for audit.
    pub task_description: String,
    /// Where the browser goes once the ticket is redeemed.
    pub redirect_url: String,
    /// Lifetime of the session the ticket creates.
    pub session_max_duration_seconds: i64,
    /// `pending`, `accepted`, `revoked`.
    pub status: String,
    /// Digest of the ticket.
    pub ticket_hash: Vec<u8>,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, agent_id, user_id, permissions, task_description, redirect_url, \
    session_max_duration_seconds, status, ticket_hash, expire_at, created_at, updated_at";

/// The id of the instance's agent called `name`, created with `new_id` if there is none. Concurrent first uses
/// of a name agree: the insert does nothing on a conflict and the id is read back.
pub async fn agent_id_for(tx: &mut Tx, instance_id: &str, name: &str, new_id: &str, now: i64) -> StoreResult<String> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO agents (id, instance_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance_id, name) DO NOTHING"
        )
        .bind(new_id)
        .bind(instance_id)
        .bind(name)
        .bind(now)
    )?;
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, String>("SELECT id FROM agents WHERE instance_id = $1 AND name = $2")
            .bind(instance_id)
            .bind(name)
    )
}

/// Inserts an agent task.
pub async fn insert(tx: &mut Tx, r: &AgentTaskRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO agent_tasks (id, instance_id, agent_id, user_id, permissions, task_description, \
             redirect_url, session_max_duration_seconds, status, ticket_hash, expire_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.agent_id)
        .bind(&r.user_id)
        .bind(&r.permissions)
        .bind(&r.task_description)
        .bind(&r.redirect_url)
        .bind(r.session_max_duration_seconds)
        .bind(&r.status)
        .bind(&r.ticket_hash)
        .bind(r.expire_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// An agent task of the instance, read inside a write transaction (locked on PostgreSQL).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<AgentTaskRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM agent_tasks WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, AgentTaskRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// The instance's agent task whose ticket has this digest, read inside a write transaction (locked on
/// PostgreSQL).
pub async fn lock_by_ticket(tx: &mut Tx, instance_id: &str, hash: &[u8]) -> StoreResult<Option<AgentTaskRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM agent_tasks WHERE instance_id = $1 AND ticket_hash = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, AgentTaskRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(hash)
    )
}

/// Moves an agent task from `from` to `to`; the number of rows changed (0 when it was not in `from`).
pub async fn set_status(tx: &mut Tx, instance_id: &str, id: &str, from: &str, to: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE agent_tasks SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4 AND status = $5"
        )
        .bind(to)
        .bind(now)
        .bind(instance_id)
        .bind(id)
        .bind(from)
    )
}

/// The user holding a verified identification of `kind` with this normalized value.
pub async fn user_by_verified_identifier(
    tx: &mut Tx,
    instance_id: &str,
    kind: &str,
    value_normalized: &str,
) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar::<_, String>(
            "SELECT user_id FROM identifications WHERE instance_id = $1 AND kind = $2 AND value_normalized = $3 \
             AND verification_status = 'verified' ORDER BY created_at LIMIT 1"
        )
        .bind(instance_id)
        .bind(kind)
        .bind(value_normalized)
    )
}

/// The user with this (normalized) username.
pub async fn user_by_username(
    tx: &mut Tx,
    instance_id: &str,
    username_normalized: &str,
) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar::<_, String>("SELECT id FROM users WHERE instance_id = $1 AND username_normalized = $2")
            .bind(instance_id)
            .bind(username_normalized)
    )
}
