//! Sign-up attempts (0016; on the browser's client since 0019) and the one-time-code verifications of their email address and phone number, plus
//! the lookups that tell whether an identifier an attempt wants is already a user's.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `sign_ups`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct SignUpRow {
    /// `sua_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `missing_requirements` or `complete`.
    pub status: String,
    /// Normalized email address.
    pub email_address: Option<String>,
    /// E.164 phone number.
    pub phone_number: Option<String>,
    /// Username as given.
    pub username: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// argon2id PHC string.
    pub password_digest: Option<String>,
    /// JSON object.
    pub unsafe_metadata: String,
    /// JSON object.
    pub public_metadata: String,
    /// Copied to the user.
    pub external_id: Option<String>,
    /// Whether the app's custom action has run.
    pub custom_action: bool,
    /// Unix ms.
    pub legal_accepted_at: Option<i64>,
    /// BCP-47 tag.
    pub locale: Option<String>,
    /// The user it became.
    pub created_user_id: Option<String>,
    /// The session it became.
    pub created_session_id: Option<String>,
    /// The browser's client it was created on (Frontend API); none for attempts made before 0019.
    pub client_id: Option<String>,
    /// The invitation whose ticket made the attempt (0023): accepted when the attempt converts.
    pub invitation_id: Option<String>,
    /// Unix ms after which an incomplete attempt is abandoned.
    pub abandon_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `sign_up_verifications`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SignUpVerificationRow {
    /// The attempt.
    pub sign_up_id: String,
    /// `email_address` or `phone_number`.
    pub field: String,
    /// `ver_…` (binds the code digest).
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `email_code` or `phone_code`.
    pub strategy: String,
    /// Keyed digest of the code.
    pub code_digest: Vec<u8>,
    /// `unverified`, `verified`, `failed` or `expired`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, status, email_address, phone_number, username, first_name, last_name, \
    password_digest, unsafe_metadata, public_metadata, external_id, custom_action, legal_accepted_at, locale, \
    created_user_id, created_session_id, client_id, invitation_id, abandon_at, created_at, updated_at";
const VERIFICATION_COLUMNS: &str =
    "sign_up_id, field, id, instance_id, strategy, code_digest, status, attempts, expire_at, created_at, updated_at";

/// Inserts an attempt.
pub async fn insert(tx: &mut Tx, r: &SignUpRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sign_ups (id, instance_id, status, email_address, phone_number, username, first_name, \
             last_name, password_digest, unsafe_metadata, public_metadata, external_id, custom_action, \
             legal_accepted_at, locale, created_user_id, created_session_id, client_id, abandon_at, created_at, \
             updated_at, invitation_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
             $22)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.status)
        .bind(&r.email_address)
        .bind(&r.phone_number)
        .bind(&r.username)
        .bind(&r.first_name)
        .bind(&r.last_name)
        .bind(&r.password_digest)
        .bind(&r.unsafe_metadata)
        .bind(&r.public_metadata)
        .bind(&r.external_id)
        .bind(r.custom_action)
        .bind(r.legal_accepted_at)
        .bind(&r.locale)
        .bind(&r.created_user_id)
        .bind(&r.created_session_id)
        .bind(&r.client_id)
        .bind(r.abandon_at)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(&r.invitation_id)
    )?;
    Ok(())
}

/// Writes every field an attempt can change after creation (the values the browser fills in, the Backend API's
/// external id and custom action, the status and what it became).
pub async fn update(tx: &mut Tx, r: &SignUpRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sign_ups SET status = $1, email_address = $2, phone_number = $3, username = $4, \
             first_name = $5, last_name = $6, password_digest = $7, unsafe_metadata = $8, external_id = $9, \
             custom_action = $10, legal_accepted_at = $11, locale = $12, created_user_id = $13, \
             created_session_id = $14, updated_at = $15 WHERE instance_id = $16 AND id = $17"
        )
        .bind(&r.status)
        .bind(&r.email_address)
        .bind(&r.phone_number)
        .bind(&r.username)
        .bind(&r.first_name)
        .bind(&r.last_name)
        .bind(&r.password_digest)
        .bind(&r.unsafe_metadata)
        .bind(&r.external_id)
        .bind(r.custom_action)
        .bind(r.legal_accepted_at)
        .bind(&r.locale)
        .bind(&r.created_user_id)
        .bind(&r.created_session_id)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.id)
    )
}

/// Forgets the verification of one field (its value changed: the new value needs a new code).
pub async fn delete_verification(tx: &mut Tx, instance_id: &str, sign_up_id: &str, field: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM sign_up_verifications WHERE instance_id = $1 AND sign_up_id = $2 AND field = $3")
            .bind(instance_id)
            .bind(sign_up_id)
            .bind(field)
    )
}

/// One attempt of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<SignUpRow>> {
    let sql = format!("SELECT {COLUMNS} FROM sign_ups WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, SignUpRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One attempt, read inside a write transaction (locked on PostgreSQL, so that two changes of one attempt
/// serialize and it converts at most once).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<SignUpRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM sign_ups WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, SignUpRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id))
}

/// The verifications of an attempt.
pub async fn verifications(db: &Db, instance_id: &str, sign_up_id: &str) -> StoreResult<Vec<SignUpVerificationRow>> {
    let sql = format!(
        "SELECT {VERIFICATION_COLUMNS} FROM sign_up_verifications WHERE instance_id = $1 AND sign_up_id = $2 \
         ORDER BY field"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, SignUpVerificationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(sign_up_id)
        .fetch_all(c)
        .await)?)
}

/// The verifications of an attempt, read inside a write transaction.
pub async fn verifications_tx(
    tx: &mut Tx,
    instance_id: &str,
    sign_up_id: &str,
) -> StoreResult<Vec<SignUpVerificationRow>> {
    let sql = format!(
        "SELECT {VERIFICATION_COLUMNS} FROM sign_up_verifications WHERE instance_id = $1 AND sign_up_id = $2 \
         ORDER BY field"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, SignUpVerificationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(sign_up_id)
    )
}

/// Replaces the verification of one field of an attempt (a new code supersedes the previous one).
pub async fn replace_verification(tx: &mut Tx, v: &SignUpVerificationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM sign_up_verifications WHERE sign_up_id = $1 AND field = $2")
            .bind(&v.sign_up_id)
            .bind(&v.field)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sign_up_verifications (sign_up_id, field, id, instance_id, strategy, code_digest, status, \
             attempts, expire_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(&v.sign_up_id)
        .bind(&v.field)
        .bind(&v.id)
        .bind(&v.instance_id)
        .bind(&v.strategy)
        .bind(&v.code_digest)
        .bind(&v.status)
        .bind(v.attempts)
        .bind(v.expire_at)
        .bind(v.created_at)
        .bind(v.updated_at)
    )?;
    Ok(())
}

/// Writes the status and attempts of a verification.
pub async fn update_verification(tx: &mut Tx, v: &SignUpVerificationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sign_up_verifications SET status = $1, attempts = $2, updated_at = $3 \
             WHERE instance_id = $4 AND sign_up_id = $5 AND field = $6"
        )
        .bind(&v.status)
        .bind(v.attempts)
        .bind(v.updated_at)
        .bind(&v.instance_id)
        .bind(&v.sign_up_id)
        .bind(&v.field)
    )
}

/// Whether a user of the instance holds this identifier for good (verified or reserved), the identifications a
/// new user could not take (`kind`: `email_address` / `phone_number`; `value`: normalized).
pub async fn identifier_claimed(db: &Db, instance_id: &str, kind: &str, value: &str) -> StoreResult<bool> {
    let n: i64 = on_read!(db, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM identifications WHERE instance_id = $1 AND kind = $2 AND value_normalized = $3 \
         AND (reserved OR verification_status = 'verified')"
    )
    .bind(instance_id)
    .bind(kind)
    .bind(value)
    .fetch_one(c)
    .await)?;
    Ok(n > 0)
}

/// Whether a user of the instance has this username (normalized) or this external id.
pub async fn user_column_taken(db: &Db, instance_id: &str, column: UserColumn, value: &str) -> StoreResult<bool> {
    let sql = match column {
        UserColumn::Username => "SELECT COUNT(*) FROM users WHERE instance_id = $1 AND username_normalized = $2",
        UserColumn::ExternalId => "SELECT COUNT(*) FROM users WHERE instance_id = $1 AND external_id = $2",
    };
    let n: i64 = on_read!(db, |c| sqlx::query_scalar(sql).bind(instance_id).bind(value).fetch_one(c).await)?;
    Ok(n > 0)
}

/// The unique user columns an attempt's values are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserColumn {
    /// `users.username_normalized`
    Username,
    /// `users.external_id`
    ExternalId,
}

/// A row of `sso_transfers` (0046): the identity an IdP verified for an enterprise SSO attempt of the wrong kind (a
/// sign-up of a person who has an account, a sign-in of one who has none), waiting for the attempt that continues it.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct TransferRow {
    /// Owning instance.
    pub instance_id: String,
    /// The sign-in or sign-up attempt the IdP answered.
    pub attempt_id: String,
    /// The browser's client of that attempt.
    pub client_id: String,
    /// The connection (`ec_…`) whose IdP answered.
    pub connection_id: String,
    /// JSON: the verified identity.
    pub identity: String,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// Records (or replaces) the transfer of an attempt.
pub async fn put_transfer(tx: &mut Tx, r: &TransferRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM sso_transfers WHERE instance_id = $1 AND attempt_id = $2")
            .bind(&r.instance_id)
            .bind(&r.attempt_id)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sso_transfers (instance_id, attempt_id, client_id, connection_id, identity, expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&r.instance_id)
        .bind(&r.attempt_id)
        .bind(&r.client_id)
        .bind(&r.connection_id)
        .bind(&r.identity)
        .bind(r.expires_at)
        .bind(r.created_at)
    )?;
    Ok(())
}

/// The transfer of an attempt, if any (read before the transaction that takes it).
pub async fn transfer(db: &Db, instance_id: &str, attempt_id: &str) -> StoreResult<Option<TransferRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, TransferRow>(
        "SELECT instance_id, attempt_id, client_id, connection_id, identity, expires_at, created_at \
         FROM sso_transfers WHERE instance_id = $1 AND attempt_id = $2"
    )
    .bind(instance_id)
    .bind(attempt_id)
    .fetch_optional(c)
    .await)?)
}

/// Takes the transfer of an attempt of `client_id`, inside the caller's transaction: `false` when there is none
/// (another request took it first).
pub async fn take_transfer(tx: &mut Tx, instance_id: &str, client_id: &str, attempt_id: &str) -> StoreResult<bool> {
    let n = exec_tx!(
        tx,
        sqlx::query("DELETE FROM sso_transfers WHERE instance_id = $1 AND client_id = $2 AND attempt_id = $3")
            .bind(instance_id)
            .bind(client_id)
            .bind(attempt_id)
    )?;
    Ok(n > 0)
}
