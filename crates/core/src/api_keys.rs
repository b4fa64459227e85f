//! API keys: long-lived secrets (`ak_…`) that a user, organization or machine presents to the application's
//! backend, which verifies them through `POST /api_keys/verify`.
//!
//! The secret is stored as its keyed digest (the verify lookup, so verification is one indexed read and no secret
//! is compared in a loop) and sealed (because `GET /api_keys/{id}/secret` returns it again); never in plaintext.
//! Revocation and expiry are read from the row on every verify, so they take effect immediately.
//!
//! Every request error of this tag is a 400: the spec declares no 422 for these operations (their inline error
//! examples are `bad_request`), and unknown, revoked or expired secrets are a 404, which `@clerk/backend` maps to
//! "token invalid".

use serde_json::Value;
use tessera_store::api_keys::{self as store, ApiKeyChanges, ApiKeyRow, ListFilter, StoredApiKey};

use crate::cache::{self, Topic};
use crate::ids::{is_hex_id, is_ksuid_id, new_hex_id, random_base62};
use crate::{Ctx, Error, ErrorCode, Result};

/// Prefix of API-key ids and secrets; the SDKs route tokens to API-key verification by it.
pub const PREFIX: &str = "ak";
/// `type` of keys created without one, and the default filter of lists.
pub const DEFAULT_TYPE: &str = "api_key";
/// Largest page of a list.
pub const MAX_LIMIT: u64 = 100;
/// Associated data of sealed API-key secrets.
const SEAL_PURPOSE: &str = "api_key";
/// Random base62 characters after `ak_` in a secret: 40 × 5.95 ≈ 238 bits.
const SECRET_RANDOM_CHARS: usize = 40;
/// `last_used_at` is rewritten at most this often per key, so that verifying is not a write every time.
const LAST_USED_RESOLUTION_MS: i64 = 1000;
/// Longest description (spec: `maxLength: 255`).
const MAX_DESCRIPTION_CHARS: usize = 255;
/// Latest expiration accepted: JavaScript's largest exact integer, so every SDK reads it unchanged.
const MAX_EXPIRATION_MS: i64 = 9_007_199_254_740_991;

/// An API key as the API shows it (never with its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    /// `ak_` + 32 hex.
    pub id: String,
    /// `type`.
    pub key_type: String,
    /// Owner: `user_…`, `org_…` or `mch_…`.
    pub subject: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Custom claims (a JSON object).
    pub claims: Option<Value>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Revoked.
    pub revoked: bool,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Whether `expiration` has passed (computed when read).
    pub expired: bool,
    /// Unix ms; `None` = never expires.
    pub expiration: Option<i64>,
    /// `user_…` who created it.
    pub created_by: Option<String>,
    /// Unix ms of the last successful verify.
    pub last_used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl ApiKey {
    fn from_row(row: ApiKeyRow, now: i64) -> Result<Self> {
        let claims = row.claims.as_deref().map(serde_json::from_str).transpose().map_err(Error::internal)?;
        let scopes = serde_json::from_str(&row.scopes).map_err(Error::internal)?;
        Ok(Self {
            expired: is_expired(row.expiration, now),
            id: row.id,
            key_type: row.key_type,
            subject: row.subject,
            name: row.name,
            description: row.description,
            claims,
            scopes,
            revoked: row.revoked,
            revocation_reason: row.revocation_reason,
            expiration: row.expiration,
            created_by: row.created_by,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn is_expired(expiration: Option<i64>, now: i64) -> bool {
    expiration.is_some_and(|e| e <= now)
}

/// A new key and its secret.
#[derive(Debug)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// `ak_…`; also retrievable later with [`secret`].
    pub secret: String,
}

/// Input of [`create`] (`null` already folded into `None`).
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    /// `type`; default `api_key`.
    pub key_type: Option<String>,
    /// Name (required).
    pub name: String,
    /// Owner (required).
    pub subject: String,
    /// Description.
    pub description: Option<String>,
    /// Claims; must be a JSON object.
    pub claims: Option<Value>,
    /// Scopes; default none.
    pub scopes: Option<Vec<String>>,
    /// `user_…` who creates it.
    pub created_by: Option<String>,
    /// Lifetime in seconds from now; `None` = never expires.
    pub seconds_until_expiration: Option<f64>,
}

/// Input of [`update`]: `None` = unchanged, `Some(None)` = cleared.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyUpdate {
    /// Claims (a JSON object) or cleared.
    pub claims: Option<Option<Value>>,
    /// Scopes.
    pub scopes: Option<Vec<String>>,
    /// Description or cleared.
    pub description: Option<Option<String>>,
    /// New owner.
    pub subject: Option<String>,
    /// New lifetime counted from now, or cleared (never expires).
    pub seconds_until_expiration: Option<Option<f64>>,
}

/// Input of [`list`].
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Owner (required).
    pub subject: String,
    /// `type`; default `api_key`.
    pub key_type: Option<String>,
    /// Include revoked and expired keys.
    pub include_invalid: bool,
    /// Case-insensitive partial name match, or an exact id.
    pub query: Option<String>,
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: i64,
    /// Keys to skip.
    pub offset: i64,
}

/// 400 `bad_request` about one body parameter.
fn invalid(param: &str, why: impl Into<String>) -> Error {
    Error::with(ErrorCode::BadRequest, ErrorCode::BadRequest.message(), why, Some(param))
}

/// Returns the two parsed values, or every validation error of the request at once (Clerk reports all the problems
/// of a request together).
fn gather<A, B>(a: Result<A>, b: Result<B>, checks: Vec<Result<()>>) -> Result<(A, B)> {
    let mut errors: Vec<Error> = checks.into_iter().filter_map(Result::err).collect();
    match (a, b) {
        (Ok(a), Ok(b)) if errors.is_empty() => return Ok((a, b)),
        (a, b) => errors.extend(a.err().into_iter().chain(b.err())),
    }
    Err(errors
        .into_iter()
        .reduce(Error::and)
        .unwrap_or_else(|| Error::internal(anyhow::anyhow!("validation failed without an error"))))
}

/// The kind of owner a subject id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// `user_…`
    User,
    /// `org_…`
    Organization,
    /// `mch_…`
    Machine,
}

/// Checks the format of a key's owner. The request pattern also allows `scim_…`, but the response schema of every
/// API-key operation only allows `user_`, `org_` and `mch_`, so such a key could never be shown: refused.
pub fn parse_subject(subject: &str) -> Result<SubjectKind> {
    for (prefix, kind) in
        [("user", SubjectKind::User), ("org", SubjectKind::Organization), ("mch", SubjectKind::Machine)]
    {
        if is_ksuid_id(subject, prefix) {
            return Ok(kind);
        }
    }
    Err(invalid(
        "subject",
        "subject must be the id of a user (user_…), an organization (org_…) or a machine (mch_…): a prefix and 27 \
         letters, digits or underscores.",
    ))
}

/// Checks that the owner of a key exists in the instance.
///
/// Checked prefixes: `mch_` (machines). `user_` and `org_` are only format-checked (by [`parse_subject`]) until the
/// users and organizations tables exist; then look them up here too, always filtered on `instance_id`, and answer
/// `invalid("subject", …)`: create and update declare only 400 (and 409) for request errors.
pub async fn ensure_subject_exists(ctx: &Ctx, instance_id: &str, subject: &str, kind: SubjectKind) -> Result<()> {
    match kind {
        SubjectKind::Machine => {
            if tessera_store::machines::get(&ctx.db, instance_id, subject).await?.is_none() {
                return Err(invalid("subject", format!("No machine with id {subject} exists in this instance.")));
            }
            Ok(())
        }
        SubjectKind::User => {
            if !tessera_store::users::exists(&ctx.db, instance_id, subject).await? {
                return Err(invalid("subject", format!("No user with id {subject} exists in this instance.")));
            }
            Ok(())
        }
        SubjectKind::Organization => Ok(()),
    }
}

fn validate_name(name: &str) -> Result<()> {
    // Spec: minLength 3 and `^(\S(.*\S)?)?$` — no surrounding whitespace, and no line break (`.` excludes them).
    let is_space = |c: char| c.is_whitespace() || c == '\u{feff}';
    if name.chars().count() < 3 {
        return Err(invalid("name", "name must be at least 3 characters long."));
    }
    if name.starts_with(is_space) || name.ends_with(is_space) || name.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return Err(invalid("name", "name must not start or end with whitespace, nor contain line breaks."));
    }
    Ok(())
}

fn validate_type(key_type: &str) -> Result<()> {
    if (3..=25).contains(&key_type.chars().count()) {
        Ok(())
    } else {
        Err(invalid("type", "type must be between 3 and 25 characters long."))
    }
}

fn validate_description(description: Option<&str>) -> Result<()> {
    match description {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => {
            Err(invalid("description", format!("description must be at most {MAX_DESCRIPTION_CHARS} characters long.")))
        }
        _ => Ok(()),
    }
}

fn validate_claims(claims: Option<&Value>) -> Result<()> {
    match claims {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(invalid("claims", "claims must be a JSON object.")),
    }
}

fn validate_created_by(created_by: Option<&str>) -> Result<()> {
    match created_by {
        Some(id) if !is_ksuid_id(id, "user") => Err(invalid(
            "created_by",
            "created_by must be a user id: user_ followed by 27 letters, digits or underscores.",
        )),
        _ => Ok(()),
    }
}

/// The expiration (Unix ms) of a key that lives `seconds` from `now`.
fn expiration_after(now: i64, seconds: f64) -> Result<i64> {
    const PARAM: &str = "seconds_until_expiration";
    // JSON has no NaN, but `is_finite` keeps the comparison total.
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(invalid(PARAM, "seconds_until_expiration must be greater than 0."));
    }
    // Rounded up so that any positive lifetime gives at least one millisecond.
    let millis = (seconds * 1000.0).ceil();
    if millis > (MAX_EXPIRATION_MS - now) as f64 {
        return Err(invalid(PARAM, "seconds_until_expiration is too large."));
    }
    Ok(now + millis as i64)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

/// The canonical id for a path parameter: `ak_` or the spec's alias `api_key_`, then 32 hex digits (any case).
/// Anything else cannot name a key, so it is 404 like an unknown id.
pub fn parse_id(raw: &str) -> Result<String> {
    let hex = raw.strip_prefix("ak_").or_else(|| raw.strip_prefix("api_key_")).unwrap_or_default();
    let id = format!("{PREFIX}_{}", hex.to_ascii_lowercase());
    if is_hex_id(&id, PREFIX) { Ok(id) } else { Err(not_found()) }
}

fn not_found() -> Error {
    Error::not_found("API key")
}

/// Creates a key for a user, organization or machine; the response is the only one that carries the secret
/// besides [`secret`].
pub async fn create(ctx: &Ctx, instance_id: &str, input: NewApiKey) -> Result<CreatedApiKey> {
    let now = ctx.now_ms();
    let key_type = input.key_type.unwrap_or_else(|| DEFAULT_TYPE.to_owned());
    let (subject_kind, expiration) = gather(
        parse_subject(&input.subject),
        input.seconds_until_expiration.map(|s| expiration_after(now, s)).transpose(),
        vec![
            validate_name(&input.name),
            validate_type(&key_type),
            validate_description(input.description.as_deref()),
            validate_claims(input.claims.as_ref()),
            validate_created_by(input.created_by.as_deref()),
        ],
    )?;
    ensure_subject_exists(ctx, instance_id, &input.subject, subject_kind).await?;

    let secret = format!("{PREFIX}_{}", random_base62(SECRET_RANDOM_CHARS));
    let row = ApiKeyRow {
        id: new_hex_id(PREFIX),
        instance_id: instance_id.to_owned(),
        key_type,
        subject: input.subject,
        name: input.name,
        description: input.description,
        claims: input.claims.as_ref().map(to_json).transpose()?,
        scopes: to_json(&input.scopes.unwrap_or_default())?,
        revoked: false,
        revocation_reason: None,
        expiration,
        created_by: input.created_by,
        last_used_at: None,
        created_at: now,
        updated_at: now,
    };
    let stored = StoredApiKey {
        key: row,
        secret_hash: ctx.secrets.digest(&secret),
        secret_sealed: ctx.secrets.seal(SEAL_PURPOSE, secret.as_bytes()),
    };
    let mut tx = ctx.db.begin().await?;
    store::insert(&mut tx, &stored).await?;
    tx.commit().await?;
    Ok(CreatedApiKey { key: ApiKey::from_row(stored.key, now)?, secret })
}

/// A page of an owner's keys, newest first, and how many match in all.
pub async fn list(ctx: &Ctx, instance_id: &str, query: &ListQuery) -> Result<(Vec<ApiKey>, i64)> {
    // The query pattern of `subject` also allows `scim_`: such a list is valid and simply empty.
    let subject_ok = parse_subject(&query.subject).is_ok() || is_ksuid_id(&query.subject, "scim");
    if !subject_ok {
        return Err(Error::query_param_invalid(
            "subject",
            "subject must be a user, organization, machine or SCIM directory id (user_…, org_…, mch_…, scim_…).",
        ));
    }
    let key_type = query.key_type.as_deref().unwrap_or(DEFAULT_TYPE);
    if key_type.chars().count() < 3 {
        return Err(Error::query_param_invalid("type", "type must be at least 3 characters long."));
    }
    let now = ctx.now_ms();
    let filter = ListFilter {
        subject: &query.subject,
        key_type,
        include_invalid: query.include_invalid,
        now,
        query: query.query.as_deref().filter(|q| !q.is_empty()),
    };
    let rows = store::list(&ctx.db, instance_id, &filter, query.limit, query.offset).await?;
    let total = store::count(&ctx.db, instance_id, &filter).await?;
    let keys = rows.into_iter().map(|r| ApiKey::from_row(r, now)).collect::<Result<_>>()?;
    Ok((keys, total))
}

/// One key.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<ApiKey> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    ApiKey::from_row(row, ctx.now_ms())
}

/// Changes claims, scopes, description, owner or lifetime. A new lifetime counts from now, so it can also
/// extend an expired key; a revoked key stays revoked.
pub async fn update(ctx: &Ctx, instance_id: &str, id: &str, input: ApiKeyUpdate) -> Result<ApiKey> {
    let now = ctx.now_ms();
    let expiration = match input.seconds_until_expiration {
        Some(Some(seconds)) => expiration_after(now, seconds).map(|e| Some(Some(e))),
        Some(None) => Ok(Some(None)),
        None => Ok(None),
    };
    let (subject_kind, expiration) = gather(
        input.subject.as_deref().map(parse_subject).transpose(),
        expiration,
        vec![
            validate_claims(input.claims.as_ref().and_then(Option::as_ref)),
            validate_description(input.description.as_ref().and_then(Option::as_deref)),
        ],
    )?;
    if let (Some(subject), Some(kind)) = (&input.subject, subject_kind) {
        ensure_subject_exists(ctx, instance_id, subject, kind).await?;
    }
    let changes = ApiKeyChanges {
        claims: input.claims.map(|c| c.as_ref().map(to_json).transpose()).transpose()?,
        scopes: input.scopes.as_ref().map(to_json).transpose()?,
        description: input.description,
        subject: input.subject,
        expiration,
    };
    let mut tx = ctx.db.begin().await?;
    let row = store::update(&mut tx, instance_id, id, &changes, now).await?.ok_or_else(not_found)?;
    cache::changed(&mut tx, Topic::ApiKeys, instance_id).await?;
    tx.commit().await?;
    ctx.caches.invalidate(Topic::ApiKeys, instance_id);
    ApiKey::from_row(row, now)
}

/// Deletes a key; its secret stops verifying at once.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    let existed = store::delete(&mut tx, instance_id, id).await?;
    cache::changed(&mut tx, Topic::ApiKeys, instance_id).await?;
    tx.commit().await?;
    ctx.caches.invalidate(Topic::ApiKeys, instance_id);
    if existed { Ok(()) } else { Err(not_found()) }
}

/// The secret of a key, unsealed.
pub async fn secret(ctx: &Ctx, instance_id: &str, id: &str) -> Result<String> {
    let sealed = store::sealed_secret(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    ctx.secrets.open_string(SEAL_PURPOSE, &sealed).map_err(Error::internal)
}

/// Revokes a key for good. Revoking it again changes nothing (the first reason stays).
pub async fn revoke(ctx: &Ctx, instance_id: &str, id: &str, reason: Option<String>) -> Result<ApiKey> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::revoke(&mut tx, instance_id, id, reason.as_deref(), now).await?.ok_or_else(not_found)?;
    cache::changed(&mut tx, Topic::ApiKeys, instance_id).await?;
    tx.commit().await?;
    ctx.caches.invalidate(Topic::ApiKeys, instance_id);
    ApiKey::from_row(row, now)
}

fn verify_failed(why: &str) -> Error {
    Error::with(ErrorCode::ResourceNotFound, "not found", why, None)
}

/// Verifies a secret presented to the application: the key if it belongs to this instance and is neither revoked
/// nor expired, else 404. Records the use in `last_used_at` (at most about once a second per key; the answer
/// always reports this use). The key's row is cached by digest (`cache`: a revocation, change or deletion shows
/// everywhere within `cache::TTL_MS`); unknown secrets are not cached.
pub async fn verify(ctx: &Ctx, instance_id: &str, secret: &str) -> Result<ApiKey> {
    if !secret.starts_with("ak_") {
        return Err(verify_failed("API key not found"));
    }
    let digest = ctx.secrets.digest(secret);
    let now = ctx.now_ms();
    let cached = ctx.caches.api_keys.get(&digest, now).filter(|r| r.instance_id == instance_id);
    let mut row = match cached {
        Some(row) => row,
        None => {
            let epoch = ctx.caches.api_keys.epoch();
            let row = store::find_by_secret_hash(&ctx.db, instance_id, &digest)
                .await?
                .ok_or_else(|| verify_failed("API key not found"))?;
            ctx.caches.api_keys.insert(digest.clone(), instance_id, row.clone(), now, epoch);
            row
        }
    };
    if row.revoked {
        return Err(verify_failed("API key has been revoked"));
    }
    if is_expired(row.expiration, now) {
        return Err(verify_failed("API key has expired"));
    }
    let stale_before = now - LAST_USED_RESOLUTION_MS + 1;
    let stale = |last_used_at: Option<i64>| last_used_at.is_none_or(|t| t < stale_before);
    if stale(row.last_used_at) && ctx.caches.api_keys.claim_use(&digest, now, |r| &mut r.last_used_at, stale) {
        // Bookkeeping: a failed write must not turn a valid key into an error.
        if let Err(e) = store::touch_last_used(&ctx.db, instance_id, &row.id, now, stale_before).await {
            tracing::warn!(api_key_id = %row.id, error = %e, "could not record API key use");
        }
    }
    row.last_used_at = Some(now);
    ApiKey::from_row(row, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_pattern() {
        assert!(validate_name("my key").is_ok());
        assert!(validate_name("abc").is_ok());
        assert!(validate_name("ab").is_err());
        assert!(validate_name(" abc").is_err());
        assert!(validate_name("abc\t").is_err());
        assert!(validate_name("a\nbc").is_err());
    }

    #[test]
    fn subjects_are_users_orgs_or_machines() {
        assert_eq!(parse_subject("user_2xhFjEI5X2qWRvtV13BzSj8H6Dk").unwrap(), SubjectKind::User);
        assert_eq!(parse_subject("org_2xhFjEI5X2qWRvtV13BzSj8H6Dk").unwrap(), SubjectKind::Organization);
        assert_eq!(parse_subject("mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk").unwrap(), SubjectKind::Machine);
        assert!(parse_subject("scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk").is_err());
        assert!(parse_subject("user_short").is_err());
    }

    #[test]
    fn ids_accept_the_alias_and_any_case() {
        let hex = "3BEECC9C60ADB5F9B850E91A8EE1E992";
        assert_eq!(parse_id(&format!("ak_{hex}")).unwrap(), format!("ak_{}", hex.to_ascii_lowercase()));
        assert_eq!(parse_id(&format!("api_key_{hex}")).unwrap(), format!("ak_{}", hex.to_ascii_lowercase()));
        assert!(parse_id("ak_xyz").is_err());
        assert!(parse_id("mt_3beecc9c60adb5f9b850e91a8ee1e992").is_err());
    }

    #[test]
    fn expiration_is_counted_in_milliseconds_and_bounded() {
        assert_eq!(expiration_after(1_000, 1.0).unwrap(), 2_000);
        assert_eq!(expiration_after(1_000, 0.0001).unwrap(), 1_001);
        assert!(expiration_after(1_000, 0.0).is_err());
        assert!(expiration_after(1_000, -5.0).is_err());
        assert!(expiration_after(1_000, 1e300).is_err());
    }
}
