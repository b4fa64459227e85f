//! Secrets at rest: a keyed lookup digest (HMAC-SHA256) and sealing (AES-256-GCM) under keys derived from one
//! master key.
//!
//! Secrets the server only has to recognise (instance secret keys, opaque tokens) are stored as their digest and
//! found by an indexed lookup, so no secret bytes are ever compared in a loop. Secrets the API must hand back
//! (`GET /api_keys/{id}/secret`, machine secret keys) and private keys are also sealed.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};

use crate::ids::random_bytes;

/// Version byte of sealed blobs, so that the format can change without ambiguity.
const SEAL_VERSION: u8 = 1;

/// The 32-byte master key. `Debug` never prints it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(random_bytes::<32>())
    }

    /// Parses 64 hex characters or standard/url-safe base64 of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| e.to_string())?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| "the master key must be 64 hex characters or base64 of 32 bytes".to_owned())?
        };
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| "the master key must be exactly 32 bytes (64 hex characters)".to_owned())?;
        Ok(Self(key))
    }

    /// The key as 64 hex characters (the key-file format).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// HMAC-SHA256 keyed with one of the derived keys, its pads already hashed: each use clones it.
///
/// RustCrypto's rather than aws-lc's: the lookup digest runs on every request that carries a secret key, and for
/// such short inputs aws-lc's `hmac::sign` took twice as long (about 320 ns against 165), most of it copying and
/// clearing its whole HMAC context. The output is the same standard HMAC-SHA256, so stored digests still match.
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The working keys derived from the master key.
pub struct Secrets {
    lookup: HmacSha256,
    seal: LessSafeKey,
    tickets: HmacSha256,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

impl Secrets {
    /// Derives the lookup and sealing keys (HMAC-SHA256 of fixed labels under the master key).
    pub fn new(master: &MasterKey) -> Self {
        let master = HmacSha256::new_from_slice(&master.0).expect("HMAC takes a key of any length");
        let derive = |label: &[u8]| -> [u8; 32] { mac(&master, label) };
        let (lookup, seal, tickets) = (
            derive(b"tessera/v1/lookup-digest"),
            derive(b"tessera/v1/seal-aes-256-gcm"),
            derive(b"tessera/v1/ticket-hs256"),
        );
        Self {
            lookup: HmacSha256::new_from_slice(&lookup).expect("HMAC takes a key of any length"),
            tickets: HmacSha256::new_from_slice(&tickets).expect("HMAC takes a key of any length"),
            seal: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &seal).expect("32-byte AES key")),
        }
    }

    /// The lookup digest of a secret: what the database indexes instead of the secret.
    pub fn digest(&self, secret: &str) -> Vec<u8> {
        mac(&self.lookup, secret.as_bytes()).to_vec()
    }

    /// The HS256 signature of a ticket JWT's signing input, under a key of its own (no other secret is ever
    /// signed with it, so a ticket cannot be forged from anything else the server stores or hands out).
    pub fn ticket_signature(&self, signing_input: &[u8]) -> Vec<u8> {
        mac(&self.tickets, signing_input).to_vec()
    }

    /// Encrypts `plaintext`; `purpose` is bound as associated data so a blob cannot be replayed elsewhere.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut buf,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts a blob made by [`Secrets::seal`] with the same purpose. Fails on a wrong key or tampering.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (version, rest) = sealed.split_first().ok_or_else(|| anyhow::anyhow!("empty sealed blob"))?;
        anyhow::ensure!(*version == SEAL_VERSION, "unknown sealed blob version {version}");
        anyhow::ensure!(rest.len() >= NONCE_LEN, "sealed blob too short");
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .seal
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("sealed blob does not open: wrong master key or tampered data"))?;
        Ok(plain.to_vec())
    }

    /// Decrypts a sealed UTF-8 secret.
    pub fn open_string(&self, purpose: &str, sealed: &[u8]) -> anyhow::Result<String> {
        Ok(String::from_utf8(self.open(purpose, sealed)?)?)
    }
}

/// HMAC-SHA256 of `data` under a keyed MAC (cloned: the key's state is reused as it is).
fn mac(key: &HmacSha256, data: &[u8]) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// URL-safe base64 of SHA-1(`data`). Not a security function: Clerk's SDKs derive cookie-name suffixes from the
/// publishable key this way, and Tessera must name cookies as they do.
pub fn sha1_base64url(data: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    base64::engine::general_purpose::URL_SAFE.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_purpose() {
        let s = Secrets::new(&MasterKey::generate());
        let blob = s.seal("api_key", b"ak_secret");
        assert_eq!(s.open("api_key", &blob).unwrap(), b"ak_secret");
        assert!(s.open("machine", &blob).is_err());
        assert!(!blob.windows(9).any(|w| w == b"ak_secret"));
        let other = Secrets::new(&MasterKey::generate());
        assert!(other.open("api_key", &blob).is_err());
    }

    #[test]
    fn digest_is_keyed_and_stable() {
        let key = MasterKey::generate();
        let a = Secrets::new(&key);
        assert_eq!(a.digest("sk_test_x"), Secrets::new(&key).digest("sk_test_x"));
        assert_ne!(a.digest("sk_test_x"), Secrets::new(&MasterKey::generate()).digest("sk_test_x"));
        assert_eq!(a.digest("x").len(), 32);
    }

    /// Databases hold digests made with aws-lc's HMAC before this module used RustCrypto's: both are the standard
    /// HMAC-SHA256 (of the secret under HMAC-SHA256(master key, label)), which these known answers pin.
    #[test]
    fn digests_keep_their_known_values() {
        let s = Secrets::new(&MasterKey::parse(&"11".repeat(32)).unwrap());
        assert_eq!(
            hex::encode(s.digest("sk_test_benchbenchbenchbenchbench0000")),
            "2bb8da8d428684db40ee5c10982acfc0e37e5ad7aeec231fc2732f72820e4ba9"
        );
        assert_eq!(
            hex::encode(s.ticket_signature(b"header.payload")),
            "27234f2d91f2be7c19e6fffa7baf839dc15f8748c4bc9a5ea6bbb2a6ef1ebb1f"
        );
    }

    #[test]
    fn master_key_parses_hex_and_base64() {
        let k = MasterKey::generate();
        assert_eq!(MasterKey::parse(&k.to_hex()).unwrap().to_hex(), k.to_hex());
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(MasterKey::parse(&b64).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert_eq!(format!("{k:?}"), "MasterKey([REDACTED])");
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
