//! OAuth applications (the clients of Tessera's OAuth 2.1 / OpenID Connect provider) and their logos.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `oauth_applications` (without the secret's digest).
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct OAuthApplicationRow {
    /// `oa_…`.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// The OAuth `client_id` (random, unique across instances).
    pub client_id: String,
    /// The client's home page.
    pub client_uri: Option<String>,
    /// The uploaded logo's image id.
    pub image_id: Option<String>,
    /// Registered through RFC 7591 dynamic client registration.
    pub dynamically_registered: bool,
    /// Ask the person for consent.
    pub consent_screen_enabled: bool,
    /// PKCE required even for a confidential client.
    pub pkce_required: bool,
    /// A public client (no secret; PKCE S256 required).
    pub public: bool,
    /// Allowed scopes, space-separated.
    pub scopes: String,
    /// Registered redirect URIs, a JSON array.
    pub redirect_uris: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, name, client_id, client_uri, image_id, dynamically_registered, \
                       consent_screen_enabled, pkce_required, public, scopes, redirect_uris, created_at, updated_at";

/// Inserts an application with the digest of its secret (`None` for public clients).
pub async fn insert(tx: &mut Tx, row: &OAuthApplicationRow, secret_hash: Option<&[u8]>) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_applications (id, instance_id, name, client_id, client_secret_hash, client_uri, \
             image_id, dynamically_registered, consent_screen_enabled, pkce_required, public, scopes, \
             redirect_uris, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.name)
        .bind(&row.client_id)
        .bind(secret_hash)
        .bind(&row.client_uri)
        .bind(&row.image_id)
        .bind(row.dynamically_registered)
        .bind(row.consent_screen_enabled)
        .bind(row.pkce_required)
        .bind(row.public)
        .bind(&row.scopes)
        .bind(&row.redirect_uris)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// Writes every mutable field of an application.
pub async fn update(tx: &mut Tx, row: &OAuthApplicationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE oauth_applications SET name = $1, client_uri = $2, image_id = $3, consent_screen_enabled = $4, \
             pkce_required = $5, public = $6, scopes = $7, redirect_uris = $8, updated_at = $9 \
             WHERE instance_id = $10 AND id = $11"
        )
        .bind(&row.name)
        .bind(&row.client_uri)
        .bind(&row.image_id)
        .bind(row.consent_screen_enabled)
        .bind(row.pkce_required)
        .bind(row.public)
        .bind(&row.scopes)
        .bind(&row.redirect_uris)
        .bind(row.updated_at)
        .bind(&row.instance_id)
        .bind(&row.id)
    )
}

/// Replaces the secret's digest (`None`: a public client has none).
pub async fn set_secret(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    secret_hash: Option<&[u8]>,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE oauth_applications SET client_secret_hash = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4"
        )
        .bind(secret_hash)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// One application of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<OAuthApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM oauth_applications WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, OAuthApplicationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One application of the instance, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<OAuthApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM oauth_applications WHERE instance_id = $1 AND id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OAuthApplicationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// The application of the instance with this `client_id`, with its secret's digest.
pub async fn by_client_id(
    db: &Db,
    instance_id: &str,
    client_id: &str,
) -> StoreResult<Option<(OAuthApplicationRow, Option<Vec<u8>>)>> {
    #[derive(sqlx::FromRow, FromSqliteRow)]
    struct WithSecret {
        #[sqlx(flatten)]
        row: OAuthApplicationRow,
        client_secret_hash: Option<Vec<u8>>,
    }
    let sql = format!(
        "SELECT {COLUMNS}, client_secret_hash FROM oauth_applications WHERE instance_id = $1 AND client_id = $2"
    );
    let found = on_read!(db, |c| sqlx::query_as::<_, WithSecret>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(client_id)
        .fetch_optional(c)
        .await)?;
    Ok(found.map(|w| (w.row, w.client_secret_hash)))
}

/// Deletes an application (its grants, codes, tokens, consents and logo go with it).
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM oauth_applications WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// The list's filter: `$1` instance, `$2` the query as a LIKE pattern (or NULL), `$3` the exact query.
const FILTER: &str = "instance_id = $1 AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' OR client_id = $3)";

/// A page of the instance's applications. `order` is a column this module names, never caller text.
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    order: ListOrder,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<OAuthApplicationRow>> {
    let order_sql = match order {
        ListOrder::CreatedAtAsc => "created_at ASC, id ASC",
        ListOrder::CreatedAtDesc => "created_at DESC, id DESC",
        ListOrder::NameAsc => "LOWER(name) ASC, created_at ASC, id ASC",
        ListOrder::NameDesc => "LOWER(name) DESC, created_at DESC, id DESC",
    };
    let sql =
        format!("SELECT {COLUMNS} FROM oauth_applications WHERE {FILTER} ORDER BY {order_sql} LIMIT $4 OFFSET $5");
    let pattern = query.map(crate::organizations::like_pattern);
    Ok(on_read!(db, |c| sqlx::query_as::<_, OAuthApplicationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(&pattern)
        .bind(query)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?)
}

/// How many applications [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, query: Option<&str>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM oauth_applications WHERE {FILTER}");
    let pattern = query.map(crate::organizations::like_pattern);
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(&pattern)
        .bind(query)
        .fetch_one(c)
        .await)?)
}

/// The orders of [`list`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Oldest first.
    CreatedAtAsc,
    /// Newest first.
    CreatedAtDesc,
    /// By name, A→Z.
    NameAsc,
    /// By name, Z→A.
    NameDesc,
}

/// Replaces an application's logo.
pub async fn set_image(
    tx: &mut Tx,
    instance_id: &str,
    application_id: &str,
    image: (&str, &str, &[u8]),
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM oauth_application_images WHERE instance_id = $1 AND oauth_application_id = $2")
            .bind(instance_id)
            .bind(application_id)
    )?;
    let (id, content_type, data) = image;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oauth_application_images (id, instance_id, oauth_application_id, content_type, data, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(id)
        .bind(instance_id)
        .bind(application_id)
        .bind(content_type)
        .bind(data)
        .bind(now)
    )?;
    Ok(())
}

/// A logo by image id: `(content_type, bytes)`.
pub async fn image(db: &Db, id: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT content_type, data FROM oauth_application_images WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}
