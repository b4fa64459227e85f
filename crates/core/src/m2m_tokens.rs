//! M2M tokens: minted by a machine (authenticated with its secret key) for calling the machines it is scoped to.
//!
//! * **Opaque** tokens (`mt_…`) are stored as a lookup digest and sealed (so that an identical live token can be
//!   handed out again, `min_remaining_ttl_seconds`). Verification, revocation and expiry are read from the
//!   database on every request, so they take effect at once on every node.
//! * **JWT** tokens are RS256-signed by the instance keyring with header `cat: cl_B7d4PD333AAA`; they are stateless
//!   (never stored, listed or revoked), as Clerk's. Claims: `iss`, `sub` (machine id), `jti` (token id), `iat`,
//!   `nbf`, `exp`, `scopes` (the scoped machine ids, space-separated, as `@clerk/backend` reads them) and the custom
//!   claims at top level.
//!
//! A token's `scopes` are the minting machine's scopes at mint time; later scope changes do not alter existing
//! tokens (Clerk documents the same).

use aws_lc_rs::digest::{SHA256, digest};
use serde_json::{Map, Value, json};
use tessera_store::m2m_tokens::M2mTokenRow;

use crate::cache::Topic;
use crate::ids::{is_hex_id, new_hex_id, random_base62};
use crate::instances::Instance;
use crate::machines::Caller;
use crate::{Ctx, Error, ErrorCode, Result};

/// Minimum interval between two writes of a token's `last_used_at`.
const LAST_USED_RESOLUTION_MS: i64 = 1000;
/// The JOSE header `cat` of M2M JWTs (the SDKs tell them from session tokens by it).
pub const JWT_CATEGORY: &str = "cl_B7d4PD333AAA";
/// Longest token lifetime accepted, in seconds (ten years, as the machines' `default_token_ttl`).
pub const MAX_LIFETIME_SECS: f64 = crate::machines::MAX_TOKEN_TTL as f64;
/// Claims the server sets in an M2M JWT; custom claims may not use these names.
const RESERVED_JWT_CLAIMS: &[&str] = &["iss", "sub", "jti", "iat", "nbf", "exp", "scopes"];
/// Seal purpose of opaque tokens.
const TOKEN_PURPOSE: &str = "m2m_token";

/// The two token formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenFormat {
    /// `mt_…`, stored.
    #[default]
    Opaque,
    /// A signed JWT, stateless.
    Jwt,
}

/// Input of [`create_token`].
#[derive(Debug, Default)]
pub struct NewM2mToken {
    /// Format.
    pub format: TokenFormat,
    /// Lifetime in seconds (> 0); `None` = the machine's `default_token_ttl`.
    pub seconds_until_expiration: Option<f64>,
    /// Custom claims (`None` = none).
    pub claims: Option<Value>,
    /// Reuse a live identical opaque token that still has at least this many seconds to live.
    pub min_remaining_ttl_seconds: Option<i64>,
}

/// An M2M token as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct M2mToken {
    /// `mt_` + 32 hex.
    pub id: String,
    /// The minting machine.
    pub subject: String,
    /// Custom claims (`Null` when none).
    pub claims: Value,
    /// Machine ids the token may call.
    pub scopes: Vec<String>,
    /// Revoked.
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Past its expiration.
    pub expired: bool,
    /// Unix ms.
    pub expiration: i64,
    /// Unix ms of the last verification.
    pub last_used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A minted (or reused) token with its secret.
#[derive(Debug)]
pub struct CreatedM2mToken {
    /// The token object.
    pub token: M2mToken,
    /// `mt_…` or the JWT.
    pub secret: String,
}

/// Input of [`list_tokens`].
#[derive(Debug)]
pub struct TokenListQuery {
    /// The machine whose tokens to list.
    pub subject: String,
    /// Include revoked tokens.
    pub include_revoked: bool,
    /// Include expired tokens.
    pub include_expired: bool,
    /// Page size.
    pub limit: i64,
    /// Items skipped.
    pub offset: i64,
}

/// 400 `bad_request`, the error the M2M endpoints declare for invalid input.
pub fn bad_request(param: Option<&str>, why: impl Into<String>) -> Error {
    Error::with(ErrorCode::BadRequest, "Bad Request", why, param)
}

fn token_not_found(why: &str) -> Error {
    Error::with(ErrorCode::ResourceNotFound, "not found", why, None)
}

fn token_from_row(row: M2mTokenRow, now: i64) -> M2mToken {
    M2mToken {
        expired: row.expiration <= now,
        id: row.id,
        subject: row.machine_id,
        claims: serde_json::from_str(&row.claims).unwrap_or(Value::Null),
        scopes: serde_json::from_str(&row.scopes).unwrap_or_default(),
        revoked: row.revoked,
        revocation_reason: row.revocation_reason,
        expiration: row.expiration,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// `value` with every object's keys sorted, so that equal claims serialize equally.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// What makes two tokens of one machine interchangeable for reuse: their claims and scopes.
fn reuse_key(claims: &Value, scopes: &[String]) -> Vec<u8> {
    let material = json!([canonical(claims), scopes]).to_string();
    digest(&SHA256, material.as_bytes()).as_ref().to_vec()
}

/// The token lifetime in ms: `seconds_until_expiration` or the machine's default.
fn lifetime_ms(seconds: Option<f64>, default_ttl: i64) -> Result<i64> {
    let Some(secs) = seconds else { return Ok(default_ttl * 1000) };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(bad_request(Some("seconds_until_expiration"), "seconds_until_expiration must be greater than 0."));
    }
    if secs > MAX_LIFETIME_SECS {
        return Err(bad_request(
            Some("seconds_until_expiration"),
            format!("seconds_until_expiration must be at most {MAX_LIFETIME_SECS} seconds."),
        ));
    }
    // At least 1 ms, so that a tiny positive lifetime never yields a token that is born expired.
    Ok(((secs * 1000.0).ceil() as i64).max(1))
}

/// Mints an M2M token for the calling machine. Only a machine secret key may mint (401 otherwise).
pub async fn create_token(ctx: &Ctx, caller: &Caller, mut input: NewM2mToken) -> Result<CreatedM2mToken> {
    let Some(machine_id) = caller.machine_id.as_deref() else {
        return Err(Error::with(
            ErrorCode::MachineSecretKeyInvalid,
            "Machine Secret Key required",
            "M2M tokens must be created with a Machine Secret Key; an instance Secret Key cannot create them.",
            None,
        ));
    };
    let claims = input.claims.take().unwrap_or(Value::Null);
    if input.format == TokenFormat::Jwt {
        match &claims {
            Value::Null => {}
            Value::Object(map) => {
                if let Some(name) = RESERVED_JWT_CLAIMS.iter().find(|c| map.contains_key(**c)) {
                    return Err(bad_request(
                        Some("claims"),
                        format!("The claim {name} is set by the server and cannot be a custom claim."),
                    ));
                }
            }
            _ => return Err(bad_request(Some("claims"), "claims of a JWT-format token must be a JSON object.")),
        }
    }
    if input.min_remaining_ttl_seconds.is_some_and(|m| m < 0) {
        return Err(bad_request(Some("min_remaining_ttl_seconds"), "min_remaining_ttl_seconds must be at least 0."));
    }
    match input.format {
        TokenFormat::Opaque => create_opaque(ctx, caller, machine_id, claims, &input).await,
        TokenFormat::Jwt => create_jwt(ctx, &caller.instance, machine_id, claims, &input).await,
    }
}

/// 400 unless `min_remaining_ttl_seconds` is strictly less than the lifetime.
fn check_min_remaining(min_remaining: Option<i64>, lifetime_ms: i64) -> Result<()> {
    match min_remaining {
        Some(m) if m.saturating_mul(1000) >= lifetime_ms => Err(bad_request(
            Some("min_remaining_ttl_seconds"),
            "min_remaining_ttl_seconds must be less than the token lifetime (seconds_until_expiration, or the \
             machine's default_token_ttl).",
        )),
        _ => Ok(()),
    }
}

fn machine_key_gone() -> Error {
    Error::new(ErrorCode::MachineSecretKeyInvalid)
}

async fn create_opaque(
    ctx: &Ctx,
    caller: &Caller,
    machine_id: &str,
    claims: Value,
    input: &NewM2mToken,
) -> Result<CreatedM2mToken> {
    let instance_id = caller.instance.id.as_str();
    let secret = format!("mt_{}", random_base62(48));
    let token_hash = ctx.secrets.digest(&secret);
    let token_sealed = ctx.secrets.seal(TOKEN_PURPOSE, secret.as_bytes());
    let mut tx = ctx.db.begin().await?;
    // The machine row stays locked until commit, so two concurrent reuse requests cannot both mint.
    let machine =
        tessera_store::machines::lock(&mut tx, instance_id, machine_id).await?.ok_or_else(machine_key_gone)?;
    let lifetime = lifetime_ms(input.seconds_until_expiration, machine.default_token_ttl)?;
    check_min_remaining(input.min_remaining_ttl_seconds, lifetime)?;
    let scopes = tessera_store::machines::scoped_ids_tx(&mut tx, instance_id, machine_id).await?;
    let key = reuse_key(&claims, &scopes);
    let now = ctx.now_ms();
    if let Some(min_remaining) = input.min_remaining_ttl_seconds {
        let found = tessera_store::m2m_tokens::find_reusable(
            &mut tx,
            instance_id,
            machine_id,
            &key,
            now.saturating_add(min_remaining.saturating_mul(1000)),
        )
        .await?;
        if let Some(row) = found {
            tx.commit().await?;
            let secret = ctx.secrets.open_string(TOKEN_PURPOSE, &row.token_sealed).map_err(Error::internal)?;
            return Ok(CreatedM2mToken { token: token_from_row(row, now), secret });
        }
    }
    let row = M2mTokenRow {
        id: new_hex_id("mt"),
        instance_id: instance_id.to_owned(),
        machine_id: machine_id.to_owned(),
        token_sealed,
        claims: claims.to_string(),
        scopes: Value::from(scopes).to_string(),
        revoked: false,
        revocation_reason: None,
        expiration: now.saturating_add(lifetime),
        last_used_at: None,
        created_at: now,
        updated_at: now,
    };
    tessera_store::m2m_tokens::insert(&mut tx, &row, &token_hash, &key).await?;
    tx.commit().await?;
    Ok(CreatedM2mToken { token: token_from_row(row, now), secret })
}

async fn create_jwt(
    ctx: &Ctx,
    instance: &Instance,
    machine_id: &str,
    claims: Value,
    input: &NewM2mToken,
) -> Result<CreatedM2mToken> {
    let machine =
        tessera_store::machines::get(&ctx.db, &instance.id, machine_id).await?.ok_or_else(machine_key_gone)?;
    let lifetime = lifetime_ms(input.seconds_until_expiration, machine.default_token_ttl)?;
    check_min_remaining(input.min_remaining_ttl_seconds, lifetime)?;
    let scopes: Vec<String> = {
        let mut ids: Vec<String> =
            tessera_store::machines::scoped_machines(&ctx.db, &instance.id, &[machine_id.to_owned()])
                .await?
                .into_iter()
                .map(|s| s.machine.id)
                .collect();
        ids.sort();
        ids
    };
    let now = ctx.now_ms();
    let iat = now.div_euclid(1000);
    // JWT times are whole seconds: round the lifetime up so the token never expires before it was asked to.
    let exp = iat + (lifetime + 999) / 1000;
    let id = new_hex_id("mt");
    let mut payload = Map::new();
    payload.insert("iss".into(), format!("https://{}", instance.frontend_host()).into());
    payload.insert("sub".into(), machine_id.into());
    payload.insert("jti".into(), id.clone().into());
    payload.insert("iat".into(), iat.into());
    payload.insert("nbf".into(), iat.into());
    payload.insert("exp".into(), exp.into());
    // `@clerk/backend` splits `scopes` on spaces; an empty string would read as one empty scope, so omit it.
    if !scopes.is_empty() {
        payload.insert("scopes".into(), scopes.join(" ").into());
    }
    if let Value::Object(custom) = &claims {
        payload.extend(custom.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let jwt = crate::keyring::sign_jwt(ctx, &instance.id, &[("cat", JWT_CATEGORY)], &Value::Object(payload)).await?;
    let token = M2mToken {
        id,
        subject: machine_id.to_owned(),
        claims,
        scopes,
        revoked: false,
        revocation_reason: None,
        expired: false,
        expiration: exp * 1000,
        last_used_at: None,
        // As verification reports it (from `iat`), so that both answers agree.
        created_at: iat * 1000,
        updated_at: iat * 1000,
    };
    Ok(CreatedM2mToken { token, secret: jwt })
}

/// A page of a machine's opaque tokens. A machine key may only list its own tokens (403 otherwise).
pub async fn list_tokens(ctx: &Ctx, caller: &Caller, q: &TokenListQuery) -> Result<(Vec<M2mToken>, i64)> {
    if !crate::ids::is_ksuid_id(&q.subject, "mch") {
        return Err(Error::query_param_invalid("subject", "subject must be a machine id (mch_…)."));
    }
    let instance_id = caller.instance.id.as_str();
    match caller.machine_id.as_deref() {
        Some(own) if own != q.subject => {
            return Err(Error::with(
                ErrorCode::AuthorizationInvalid,
                "Unauthorized request",
                "A Machine Secret Key can only list the M2M tokens of its own machine.",
                Some("subject"),
            ));
        }
        Some(_) => {}
        None => {
            tessera_store::machines::get(&ctx.db, instance_id, &q.subject)
                .await?
                .ok_or_else(|| Error::not_found("machine"))?;
        }
    }
    let now = ctx.now_ms();
    let (revoked, expired) = (q.include_revoked, q.include_expired);
    let rows =
        tessera_store::m2m_tokens::list(&ctx.db, instance_id, &q.subject, revoked, expired, now, q.limit, q.offset)
            .await?;
    let total = tessera_store::m2m_tokens::count(&ctx.db, instance_id, &q.subject, revoked, expired, now).await?;
    Ok((rows.into_iter().map(|r| token_from_row(r, now)).collect(), total))
}

/// Revokes an opaque token. A machine key may only revoke its own machine's tokens (404 otherwise). Revoking a
/// revoked token changes nothing and answers it as it is.
pub async fn revoke_token(ctx: &Ctx, caller: &Caller, id: &str, reason: Option<String>) -> Result<M2mToken> {
    if !is_hex_id(id, "mt") {
        return Err(bad_request(Some("m2m_token_id"), "m2m_token_id must be mt_ followed by 32 hexadecimal digits."));
    }
    let instance_id = caller.instance.id.as_str();
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::m2m_tokens::get_tx(&mut tx, instance_id, id)
        .await?
        .filter(|r| caller.machine_id.as_deref().is_none_or(|m| m == r.machine_id))
        .ok_or_else(|| Error::not_found("m2m token"))?;
    let now = ctx.now_ms();
    let row = if row.revoked {
        row
    } else {
        tessera_store::m2m_tokens::revoke(&mut tx, instance_id, id, reason.as_deref(), now).await?;
        crate::cache::changed(&mut tx, Topic::M2mTokens, instance_id).await?;
        tessera_store::m2m_tokens::get_tx(&mut tx, instance_id, id)
            .await?
            .ok_or_else(|| Error::not_found("m2m token"))?
    };
    tx.commit().await?;
    ctx.caches.invalidate(Topic::M2mTokens, instance_id);
    Ok(token_from_row(row, now))
}

/// Verifies a token (opaque or JWT). Unknown, expired or revoked tokens, and — with a machine key — tokens not
/// scoped to that machine, answer 404.
pub async fn verify_token(ctx: &Ctx, caller: &Caller, token: &str) -> Result<M2mToken> {
    if token.starts_with("mt_") {
        verify_opaque(ctx, caller, token).await
    } else if token.split('.').count() == 3 {
        verify_jwt(ctx, caller, token).await
    } else {
        Err(token_not_found("The M2M token is not valid."))
    }
}

fn check_scope(caller: &Caller, scopes: &[String]) -> Result<()> {
    match caller.machine_id.as_deref() {
        Some(m) if !scopes.iter().any(|s| s == m) => {
            Err(token_not_found("The M2M token is not scoped to the machine of this Machine Secret Key."))
        }
        _ => Ok(()),
    }
}

async fn verify_opaque(ctx: &Ctx, caller: &Caller, token: &str) -> Result<M2mToken> {
    let instance_id = caller.instance.id.as_str();
    let digest = ctx.secrets.digest(token);
    let now = ctx.now_ms();
    // The token's row is cached by digest (`cache`: a revocation, or its machine's deletion, shows everywhere
    // within `cache::TTL_MS`); unknown tokens are not cached.
    let row = match ctx.caches.m2m_tokens.get(&digest, now) {
        Some(row) => Some(row),
        None => {
            let epoch = ctx.caches.m2m_tokens.epoch();
            let row = tessera_store::m2m_tokens::find_by_hash(&ctx.db, &digest).await?;
            if let Some(r) = &row {
                ctx.caches.m2m_tokens.insert(digest.clone(), &r.instance_id, r.clone(), now, epoch);
            }
            row
        }
    };
    let row =
        row.filter(|r| r.instance_id == instance_id).ok_or_else(|| token_not_found("The M2M token is not valid."))?;
    if row.revoked {
        return Err(token_not_found("The M2M token has been revoked."));
    }
    if row.expiration <= now {
        return Err(token_not_found("The M2M token has expired."));
    }
    let last_used_at = row.last_used_at;
    let mut token = token_from_row(row, now);
    check_scope(caller, &token.scopes)?;
    // `last_used_at` is bookkeeping, not an audit trail: rewriting it at most once a second per token keeps a busy
    // token's verifications off the single SQLite writer. The answer still reports this use.
    let stale = |last_used_at: Option<i64>| last_used_at.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS);
    if stale(last_used_at) && ctx.caches.m2m_tokens.claim_use(&digest, now, |r| &mut r.last_used_at, stale) {
        tessera_store::m2m_tokens::touch(&ctx.db, instance_id, &token.id, now).await?;
    }
    token.last_used_at = Some(now);
    token.updated_at = now;
    Ok(token)
}

async fn verify_jwt(ctx: &Ctx, caller: &Caller, token: &str) -> Result<M2mToken> {
    let invalid = || token_not_found("The M2M token is not valid.");
    let instance_id = caller.instance.id.as_str();
    let jwt = crate::keyring::verify_jwt(ctx, instance_id, token).await.ok_or_else(invalid)?;
    if jwt.header.get("cat").is_some_and(|c| c != JWT_CATEGORY) {
        return Err(invalid());
    }
    let claims = jwt.claims;
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let int_claim = |name: &str| claims.get(name).and_then(Value::as_i64);
    let subject = str_claim("sub").filter(|s| crate::ids::is_ksuid_id(s, "mch")).ok_or_else(invalid)?;
    let id = str_claim("jti").filter(|s| is_hex_id(s, "mt")).ok_or_else(invalid)?;
    let (iat, exp) = (int_claim("iat").ok_or_else(invalid)?, int_claim("exp").ok_or_else(invalid)?);
    let now_secs = ctx.clock.now_secs();
    if exp <= now_secs {
        return Err(token_not_found("The M2M token has expired."));
    }
    if int_claim("nbf").is_some_and(|nbf| nbf > now_secs) {
        return Err(token_not_found("The M2M token is not valid yet."));
    }
    // A JWT outlives nothing: once its machine is deleted it no longer verifies here.
    tessera_store::machines::get(&ctx.db, instance_id, subject).await?.ok_or_else(invalid)?;
    let scopes: Vec<String> = str_claim("scopes")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    check_scope(caller, &scopes)?;
    let custom: Map<String, Value> = claims
        .iter()
        .filter(|(k, _)| !RESERVED_JWT_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(M2mToken {
        id: id.to_owned(),
        subject: subject.to_owned(),
        claims: if custom.is_empty() { Value::Null } else { Value::Object(custom) },
        scopes,
        revoked: false,
        revocation_reason: None,
        expired: false,
        expiration: exp * 1000,
        last_used_at: None,
        created_at: iat * 1000,
        updated_at: iat * 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_key_ignores_key_order_but_not_values() {
        let a = json!({"b": 1, "a": {"y": 2, "x": 3}});
        let b = json!({"a": {"x": 3, "y": 2}, "b": 1});
        let scopes = vec!["mch_1".to_owned()];
        assert_eq!(reuse_key(&a, &scopes), reuse_key(&b, &scopes));
        assert_ne!(reuse_key(&a, &scopes), reuse_key(&json!({"b": 2}), &scopes));
        assert_ne!(reuse_key(&a, &scopes), reuse_key(&a, &[]));
        assert_ne!(reuse_key(&Value::Null, &[]), reuse_key(&json!({}), &[]));
    }

    #[test]
    fn lifetimes() {
        assert_eq!(lifetime_ms(None, 3600).unwrap(), 3_600_000);
        assert_eq!(lifetime_ms(Some(1.5), 3600).unwrap(), 1500);
        assert_eq!(lifetime_ms(Some(0.0000001), 3600).unwrap(), 1);
        assert!(lifetime_ms(Some(0.0), 3600).is_err());
        assert!(lifetime_ms(Some(-1.0), 3600).is_err());
        assert!(lifetime_ms(Some(MAX_LIFETIME_SECS + 1.0), 3600).is_err());
        assert!(check_min_remaining(Some(10), 10_000).is_err());
        assert!(check_min_remaining(Some(9), 10_000).is_ok());
    }
}
