//! Identifiers and random secrets.
//!
//! Resource ids are a prefix plus a 27-character base62 KSUID (`user_2xhFj…`), as Clerk's; machine-auth ids and
//! tokens are a prefix plus 32 hex characters (`ak_…`, `mt_…`, `oat_…`), because the SDKs route tokens by prefix.

use svix_ksuid::{Ksuid, KsuidLike};

/// A new KSUID-style id: `prefix_` + 27 base62 characters.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", Ksuid::new(None::<std::time::SystemTime>, None))
}

/// A new hex id: `prefix_` + 32 hex characters (128 random bits).
pub fn new_hex_id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(random_bytes::<16>()))
}

/// Random bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The system RNG failing is not recoverable; aws-lc aborts in that case anyway.
    aws_lc_rs::rand::fill(&mut buf).expect("system random number generator failed");
    buf
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A random base62 string of `len` characters (≈5.95 bits each), without modulo bias.
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// Whether `s` is `prefix_` followed by 27 word characters (the spec's `^prefix_\w{27}$`).
pub fn is_ksuid_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 27 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// Whether `s` is `prefix_` followed by 32 hex characters.
pub fn is_hex_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_clerk_shapes() {
        let id = new_id("user");
        assert!(is_ksuid_id(&id, "user"), "{id}");
        let hex = new_hex_id("ak");
        assert!(is_hex_id(&hex, "ak"), "{hex}");
        assert!(!is_hex_id("ak_xyz", "ak"));
        assert!(!is_ksuid_id("org_short", "org"));
        assert_ne!(new_id("user"), new_id("user"));
    }

    #[test]
    fn base62_has_requested_length_and_alphabet() {
        let s = random_base62(48);
        assert_eq!(s.len(), 48);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
