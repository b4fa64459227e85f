//! Each instance's RSA signing keyring: key generation, the public JWKS, and RS256 signing and verification of
//! JWTs.
//!
//! Several keys may exist per instance; exactly one is active, the others still verify until retired. Minting,
//! verification and the JWKS are hot paths, so each node keeps an instance's keyset in memory for
//! [`KEYSET_TTL_MS`] instead of reading it per request. A rotation made elsewhere (another node, the CLI) is
//! therefore published by every node within that time, and so a new key only starts signing once it has been in
//! the database for [`ACTIVATION_DELAY_MS`]: until then the previous key keeps signing. That way no node ever
//! signs with a key some other node's JWKS does not show yet. Parsed private keys are cached by `kid`; a key never
//! changes under its `kid`.

use crate::cache::FastMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::{Ctx, Error, Result};

/// Purpose label for sealed signing keys.
const SIGNING_KEY_PURPOSE: &str = "signing_key";

/// A freshly generated RSA-2048 key, ready to be stored.
pub struct GeneratedKey {
    /// PKCS#8 DER of the private key (to be sealed before storage).
    pub pkcs8: Vec<u8>,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding (`AQAB`).
    pub e: String,
}

/// Generates an RSA-2048 key with e = 65537 (the SDKs' PEM handling assumes exactly this shape).
pub fn generate_rsa_2048() -> Result<GeneratedKey> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| Error::internal(anyhow::anyhow!("RSA keygen: {e}")))?;
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .map_err(|e| Error::internal(anyhow::anyhow!("PKCS#8 export: {e}")))?
        .as_ref()
        .to_vec();
    let public = pair.public_key();
    Ok(GeneratedKey {
        pkcs8,
        n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    })
}

/// Seals a private key for storage.
pub fn seal_private_key(ctx: &Ctx, pkcs8: &[u8]) -> Vec<u8> {
    ctx.secrets.seal(SIGNING_KEY_PURPOSE, pkcs8)
}

/// One public key as published in the JWKS.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Jwk {
    /// Key id.
    pub kid: String,
    /// Always `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Always `RSA`.
    pub kty: String,
    /// Modulus.
    pub n: String,
    /// Exponent.
    pub e: String,
}

/// How long a node serves an instance's keyset from memory before reading it again.
pub const KEYSET_TTL_MS: i64 = 5_000;
/// How long a new key waits before it signs: twice the keyset TTL, so every node's cached JWKS shows it by then
/// even with some clock skew between nodes.
pub const ACTIVATION_DELAY_MS: i64 = 2 * KEYSET_TTL_MS;

/// An instance's unretired keys as read at `fetched_at` (active first, then newest first).
struct Keyset {
    fetched_at: i64,
    rows: Vec<tessera_store::instances::SigningKeyRow>,
    /// The JWKS document of `rows`, serialized at the first request that needs it.
    document: std::sync::OnceLock<Arc<[u8]>>,
}

/// Parsed private keys by `kid`, and keysets by instance.
#[derive(Default)]
pub struct Keyring {
    signers: RwLock<FastMap<String, Arc<KeyPair>>>,
    keysets: RwLock<FastMap<String, Arc<Keyset>>>,
}

/// The instance's keyset: from memory while younger than [`KEYSET_TTL_MS`] (unless `fresh`), else from the
/// database. An empty keyset is never cached (an instance gets its first key as it is created).
async fn keyset(ctx: &Ctx, instance_id: &str, fresh: bool) -> Result<Arc<Keyset>> {
    let now = ctx.now_ms();
    if !fresh {
        let cached = ctx.keyring.keysets.read().unwrap_or_else(|p| p.into_inner()).get(instance_id).cloned();
        if let Some(set) = cached.filter(|s| (0..KEYSET_TTL_MS).contains(&(now - s.fetched_at))) {
            return Ok(set);
        }
    }
    let rows = tessera_store::instances::signing_keys(&ctx.db, instance_id).await?;
    let set = Arc::new(Keyset { fetched_at: now, rows, document: std::sync::OnceLock::new() });
    if !set.rows.is_empty() {
        ctx.keyring.keysets.write().unwrap_or_else(|p| p.into_inner()).insert(instance_id.to_owned(), set.clone());
    }
    Ok(set)
}

/// Forgets the cached keyset of an instance (after a change made by this node).
fn forget_keyset(ctx: &Ctx, instance_id: &str) {
    ctx.keyring.keysets.write().unwrap_or_else(|p| p.into_inner()).remove(instance_id);
}

impl Keyset {
    /// The key that signs now: the active key once it has waited [`ACTIVATION_DELAY_MS`], until then the newest
    /// previous key (if there is none, the active key signs at once: no token can exist that it must agree with).
    fn signer(&self, now: i64) -> Option<&tessera_store::instances::SigningKeyRow> {
        let active = self.rows.iter().find(|r| r.active)?;
        if now - active.created_at >= ACTIVATION_DELAY_MS {
            return Some(active);
        }
        Some(self.rows.iter().filter(|r| !r.active).max_by_key(|r| r.created_at).unwrap_or(active))
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring")
    }
}

/// The instance's JWKS document, `{"keys": […]}` (the Backend API's `/v1/jwks`, the frontend host's
/// `/.well-known/jwks.json`): serialized once per keyset the cache holds, since keys change only by rotation, which
/// replaces the keyset. Serializing the RSA moduli anew was a sixth of a JWKS request's instructions.
pub async fn jwks_document(ctx: &Ctx, instance_id: &str) -> Result<Arc<[u8]>> {
    #[derive(serde::Serialize)]
    struct Jwks<'a> {
        keys: &'a [Jwk],
    }
    let set = keyset(ctx, instance_id, false).await?;
    if let Some(document) = set.document.get() {
        return Ok(document.clone());
    }
    let keys: Vec<Jwk> = set
        .rows
        .iter()
        .map(|r| Jwk {
            kid: r.id.clone(),
            alg: r.algorithm.clone(),
            use_: "sig".into(),
            kty: "RSA".into(),
            n: r.public_n.clone(),
            e: r.public_e.clone(),
        })
        .collect();
    let document: Arc<[u8]> = serde_json::to_vec(&Jwks { keys: &keys }).map_err(Error::internal)?.into();
    Ok(set.document.get_or_init(|| document).clone())
}

/// Signs a JWT with the instance's active key. `extra_header` adds header fields (e.g. `cat`).
pub async fn sign_jwt(ctx: &Ctx, instance_id: &str, extra_header: &[(&str, &str)], claims: &Value) -> Result<String> {
    let set = keyset(ctx, instance_id, false).await?;
    let row = set
        .signer(ctx.now_ms())
        .ok_or_else(|| Error::internal(anyhow::anyhow!("instance {instance_id} has no active signing key")))?;
    let cached = ctx.keyring.signers.read().unwrap_or_else(|p| p.into_inner()).get(&row.id).cloned();
    let pair = match cached {
        Some(pair) => pair,
        None => {
            let der = ctx.secrets.open(SIGNING_KEY_PURPOSE, &row.private_key_sealed).map_err(Error::internal)?;
            let pair =
                Arc::new(KeyPair::from_pkcs8(&der).map_err(|e| Error::internal(anyhow::anyhow!("signing key: {e}")))?);
            ctx.keyring.signers.write().unwrap_or_else(|p| p.into_inner()).insert(row.id.clone(), pair.clone());
            pair
        }
    };
    let mut header = Map::new();
    header.insert("alg".into(), "RS256".into());
    header.insert("kid".into(), row.id.clone().into());
    header.insert("typ".into(), "JWT".into());
    for (k, v) in extra_header {
        header.insert((*k).into(), (*v).into());
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(Error::internal)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(Error::internal)?)
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig)
        .map_err(|e| Error::internal(anyhow::anyhow!("RS256 sign: {e}")))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// A JWT whose RS256 signature verified against one of the instance's keys. Claims are not checked here.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The decoded header.
    pub header: Map<String, Value>,
    /// The decoded claims.
    pub claims: Map<String, Value>,
}

/// Verifies a compact JWS against the instance's keyring. Only RS256 with a known `kid` is accepted; headers
/// that point elsewhere for keys (`jku`, `x5u`, `jwk`) are rejected.
pub async fn verify_jwt(ctx: &Ctx, instance_id: &str, token: &str) -> Option<VerifiedJwt> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "RS256" || ["jku", "x5u", "jwk"].iter().any(|k| header.contains_key(*k)) {
        return None;
    }
    let kid = header.get("kid")?.as_str()?;
    let mut set = keyset(ctx, instance_id, false).await.ok()?;
    if !set.rows.iter().any(|r| r.id == kid) {
        // A key this node has not seen yet (or one retired since): ask the database before refusing.
        set = keyset(ctx, instance_id, true).await.ok()?;
    }
    let key = set.rows.iter().find(|r| r.id == kid)?;
    let n = URL_SAFE_NO_PAD.decode(&key.public_n).ok()?;
    let e = URL_SAFE_NO_PAD.decode(&key.public_e).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    PublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &sig)
        .ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    Some(VerifiedJwt { header, claims })
}

/// Rotates the instance's keyring: a new RSA-2048 key becomes the active (signing) key and the previous ones stay
/// published in the JWKS, verify-only, so tokens signed before keep verifying until they expire. Returns the new
/// key's `kid`. 404 for an unknown instance.
pub async fn rotate(ctx: &Ctx, instance_id: &str) -> Result<String> {
    if tessera_store::instances::get(&ctx.db, instance_id).await?.is_none() {
        return Err(Error::not_found("instance"));
    }
    // Key generation happens before the transaction opens, so the writer is held only briefly.
    let key = tokio::task::spawn_blocking(generate_rsa_2048).await.map_err(Error::internal)??;
    let row = tessera_store::instances::SigningKeyRow {
        id: crate::ids::new_id("key"),
        instance_id: instance_id.to_owned(),
        algorithm: "RS256".into(),
        private_key_sealed: seal_private_key(ctx, &key.pkcs8),
        public_n: key.n,
        public_e: key.e,
        active: true,
        created_at: ctx.now_ms(),
        retired_at: None,
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::instances::deactivate_signing_keys(&mut tx, instance_id).await?;
    tessera_store::instances::insert_signing_key(&mut tx, &row).await?;
    tx.commit().await?;
    forget_keyset(ctx, instance_id);
    Ok(row.id)
}
