//! The handshake's nonce format: the cookie directives a handshake computed wait, sealed, for the app's backend
//! to fetch them once through `GET /v1/clients/handshake_payload?nonce=…` (the Backend API). The nonce travels in
//! the redirect; only its digest is stored, and it expires after [`NONCE_LIFETIME_MS`].

use crate::{Ctx, Error, ErrorCode, Result, ids};

/// How long a handshake nonce can be redeemed.
pub const NONCE_LIFETIME_MS: i64 = 60_000;
const PURPOSE: &str = "handshake-directives";

/// Stores the directives under a new nonce and returns the nonce.
pub async fn store_directives(ctx: &Ctx, instance_id: &str, directives: &[String]) -> Result<String> {
    let nonce = format!("hsn_{}", ids::random_base62(40));
    let plain = serde_json::to_vec(directives).map_err(Error::internal)?;
    let sealed = ctx.secrets.seal(PURPOSE, &plain);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    tessera_store::browser_clients::insert_handshake_nonce(
        &mut tx,
        instance_id,
        &ctx.secrets.digest(&nonce),
        &sealed,
        now + NONCE_LIFETIME_MS,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(nonce)
}

/// The directives stored under `nonce`, once: a second fetch, an expired nonce or another instance's nonce is a
/// 404.
pub async fn take_directives(ctx: &Ctx, instance_id: &str, nonce: &str) -> Result<Vec<String>> {
    let not_found =
        || Error::with(ErrorCode::ResourceNotFound, "not found", "No handshake has this nonce.", Some("nonce"));
    if nonce.is_empty() || nonce.len() > 100 {
        return Err(not_found());
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let sealed =
        tessera_store::browser_clients::take_handshake_nonce(&mut tx, instance_id, &ctx.secrets.digest(nonce), now)
            .await?;
    tx.commit().await?;
    let sealed = sealed.ok_or_else(not_found)?;
    let plain = ctx.secrets.open(PURPOSE, &sealed).map_err(Error::internal)?;
    serde_json::from_slice(&plain).map_err(Error::internal)
}

/// The suffix clerk-js and `@clerk/backend` give cookie names (`__session_<suffix>`, `__refresh_<suffix>`…): the
/// first 8 characters of the URL-safe base64 of SHA-1(publishable key).
pub fn cookie_suffix(publishable_key: &str) -> String {
    crate::crypto::sha1_base64url(publishable_key.as_bytes()).chars().take(8).collect()
}
