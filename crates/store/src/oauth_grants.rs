//! What Tessera's OAuth provider hands out: consents, grants, authorization codes and tokens.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `oauth_grants`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct GrantRow {
    /// `oag_…`.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The application.
    pub oauth_application_id: String,
    /// The person.
    pub user_id: String,
    /// The session the person authorized from.
    pub session_id: Option<String>,
    /// Granted scopes, space-separated.
    pub scopes: String,
    /// RFC 8707 resource (the access token's `aud`).
    pub resource: Option<String>,
    /// Organization the grant is scoped to (`user:org:read`).
    pub org_id: Option<String>,
    /// Revoked (every token of the grant is revoked with it).
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `oauth_codes` (without its digest).
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct CodeRow {
    /// `oac_…`.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The grant it redeems into.
    pub grant_id: String,
    /// The `redirect_uri` of the authorization request.
    pub redirect_uri: String,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// OpenID Connect `nonce`.
    pub nonce: Option<String>,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms of redemption.
    pub used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

/// A row of `oauth_tokens` (without its digest).
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct TokenRow {
    /// `oat_` + 32 hex (access) or `ort_` + 32 hex (refresh).
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The grant.
    pub grant_id: String,
    /// `access` or `refresh`.
    pub kind: String,
    /// Scopes, space-separated.
    pub scopes: String,
    /// Unix ms; `None` never expires.
    pub expiration: Option<i64>,
    /// Unix ms a refresh token was exchanged.
    pub used_at: Option<i64>,
    /// Revoked.
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const GRANT_COLUMNS: &str = "id, instance_id, oauth_application_id, user_id, session_id, scopes, resource, org_id, \
                             revoked, revocation_reason, created_at, updated_at";
const CODE_COLUMNS: &str =
    "id, instance_id, grant_id, redirect_uri, code_challenge, nonce, expire_at, used_at, created_at";
const TOKEN_COLUMNS: &str = "id, instance_id, grant_id, kind, scopes, expiration, used_at, revoked, \
                             revocation_reason, created_at, updated_at";

/// Inserts a grant.
pub async fn insert_grant(tx: &mut Tx, g: &GrantRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_grants (id, instance_id, oauth_application_id, user_id, session_id, scopes, resource, \
             org_id, revoked, revocation_reason, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )
        .bind(&g.id)
        .bind(&g.instance_id)
        .bind(&g.oauth_application_id)
        .bind(&g.user_id)
        .bind(&g.session_id)
        .bind(&g.scopes)
        .bind(&g.resource)
        .bind(&g.org_id)
        .bind(g.revoked)
        .bind(&g.revocation_reason)
        .bind(g.created_at)
        .bind(g.updated_at)
    )?;
    Ok(())
}

/// A grant, read inside a write transaction.
pub async fn grant_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<GrantRow>> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM oauth_grants WHERE instance_id = $1 AND id = $2");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id))
}

/// A grant.
pub async fn grant(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<GrantRow>> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM oauth_grants WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Revokes a grant and every token of it.
pub async fn revoke_grant(tx: &mut Tx, instance_id: &str, id: &str, reason: &str, now: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE oauth_grants SET revoked = TRUE, revocation_reason = $1, updated_at = $2 \
             WHERE instance_id = $3 AND id = $4 AND revoked = FALSE"
        )
        .bind(reason)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE oauth_tokens SET revoked = TRUE, revocation_reason = $1, updated_at = $2 \
             WHERE instance_id = $3 AND grant_id = $4 AND revoked = FALSE"
        )
        .bind(reason)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )?;
    Ok(())
}

/// Revokes every grant of a person for an application (the consent was withdrawn).
pub async fn revoke_grants_of(
    tx: &mut Tx,
    instance_id: &str,
    application_id: &str,
    user_id: &str,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    let ids: Vec<String> = fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM oauth_grants WHERE instance_id = $1 AND oauth_application_id = $2 AND user_id = $3 \
             AND revoked = FALSE"
        )
        .bind(instance_id)
        .bind(application_id)
        .bind(user_id)
    )?;
    for id in ids {
        revoke_grant(tx, instance_id, &id, reason, now).await?;
    }
    Ok(())
}

/// Inserts an authorization code with its digest.
pub async fn insert_code(tx: &mut Tx, c: &CodeRow, code_hash: &[u8]) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_codes (id, instance_id, grant_id, code_hash, redirect_uri, code_challenge, nonce, \
             expire_at, used_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(&c.id)
        .bind(&c.instance_id)
        .bind(&c.grant_id)
        .bind(code_hash)
        .bind(&c.redirect_uri)
        .bind(&c.code_challenge)
        .bind(&c.nonce)
        .bind(c.expire_at)
        .bind(c.used_at)
        .bind(c.created_at)
    )?;
    Ok(())
}

/// The code of the instance with this digest, read inside the transaction that redeems it.
pub async fn code_by_hash_tx(tx: &mut Tx, instance_id: &str, code_hash: &[u8]) -> StoreResult<Option<CodeRow>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE instance_id = $1 AND code_hash = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, CodeRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(code_hash)
    )
}

/// Marks a code redeemed; 0 when it already was (a concurrent redemption won).
pub async fn use_code(tx: &mut Tx, instance_id: &str, id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE instance_id = $2 AND id = $3 AND used_at IS NULL")
            .bind(now)
            .bind(instance_id)
            .bind(id)
    )
}

/// Inserts a token with its digest.
pub async fn insert_token(tx: &mut Tx, t: &TokenRow, token_hash: &[u8]) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_tokens (id, instance_id, grant_id, kind, token_hash, scopes, expiration, used_at, \
             revoked, revocation_reason, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )
        .bind(&t.id)
        .bind(&t.instance_id)
        .bind(&t.grant_id)
        .bind(&t.kind)
        .bind(token_hash)
        .bind(&t.scopes)
        .bind(t.expiration)
        .bind(t.used_at)
        .bind(t.revoked)
        .bind(&t.revocation_reason)
        .bind(t.created_at)
        .bind(t.updated_at)
    )?;
    Ok(())
}

/// The token of the instance with this digest.
pub async fn token_by_hash(db: &Db, instance_id: &str, token_hash: &[u8]) -> StoreResult<Option<TokenRow>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM oauth_tokens WHERE instance_id = $1 AND token_hash = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(token_hash)
        .fetch_optional(c)
        .await)?)
}

/// The token of the instance with this digest, read inside a write transaction.
pub async fn token_by_hash_tx(tx: &mut Tx, instance_id: &str, token_hash: &[u8]) -> StoreResult<Option<TokenRow>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM oauth_tokens WHERE instance_id = $1 AND token_hash = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, TokenRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(token_hash)
    )
}

/// Marks a refresh token exchanged; 0 when it already was.
pub async fn use_token(tx: &mut Tx, instance_id: &str, id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE oauth_tokens SET used_at = $1, updated_at = $1 WHERE instance_id = $2 AND id = $3 \
             AND used_at IS NULL"
        )
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// A person's remembered consent to an application: its scopes (space-separated).
pub async fn consent(db: &Db, instance_id: &str, user_id: &str, application_id: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT scopes FROM oauth_consents WHERE instance_id = $1 AND user_id = $2 AND oauth_application_id = $3"
    )
    .bind(instance_id)
    .bind(user_id)
    .bind(application_id)
    .fetch_optional(c)
    .await)?)
}

/// Records (or widens) a consent.
pub async fn upsert_consent(
    tx: &mut Tx,
    id: &str,
    instance_id: &str,
    user_id: &str,
    application_id: &str,
    scopes: &str,
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_consents (id, instance_id, user_id, oauth_application_id, scopes, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (instance_id, user_id, oauth_application_id) \
             DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at"
        )
        .bind(id)
        .bind(instance_id)
        .bind(user_id)
        .bind(application_id)
        .bind(scopes)
        .bind(now)
    )?;
    Ok(())
}

/// Forgets a consent; the number of rows removed.
pub async fn delete_consent(tx: &mut Tx, instance_id: &str, user_id: &str, application_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM oauth_consents WHERE instance_id = $1 AND user_id = $2 AND oauth_application_id = $3")
            .bind(instance_id)
            .bind(user_id)
            .bind(application_id)
    )
}

/// A token with what its grant says about it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct TokenWithGrant {
    /// The token.
    #[sqlx(flatten)]
    pub token: TokenRow,
    /// The application's `client_id`.
    pub client_id: String,
    /// The application.
    pub oauth_application_id: String,
    /// The person.
    pub user_id: String,
    /// The session the person authorized from.
    pub session_id: Option<String>,
    /// RFC 8707 resource.
    pub resource: Option<String>,
    /// Organization.
    pub org_id: Option<String>,
}

/// The token of the instance with this digest, with its grant's subject and client.
pub async fn token_with_grant(db: &Db, instance_id: &str, token_hash: &[u8]) -> StoreResult<Option<TokenWithGrant>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, TokenWithGrant>(
        "SELECT t.id, t.instance_id, t.grant_id, t.kind, t.scopes, t.expiration, t.used_at, t.revoked, \
         t.revocation_reason, t.created_at, t.updated_at, a.client_id, g.oauth_application_id, g.user_id, \
         g.session_id, g.resource, g.org_id \
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
         JOIN oauth_applications a ON a.id = g.oauth_application_id \
         WHERE t.instance_id = $1 AND t.token_hash = $2"
    )
    .bind(instance_id)
    .bind(token_hash)
    .fetch_optional(c)
    .await)?)
}
