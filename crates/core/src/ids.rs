//! Identifiers and random secrets.
//!
//! Resource ids are a prefix plus a 27-character base62 KSUID (`user_2xhFj…`), as Clerk's; machine-auth ids and
//! tokens are a prefix plus 32 hex characters (`ak_…`, `mt_…`, `oat_…`), because the SDKs route tokens by prefix.

use std::sync::Mutex;

use svix_ksuid::{KSUID_EPOCH, Ksuid};

/// A new KSUID-style id: `prefix_` + 27 base62 characters. The ids one process makes sort in the order it made
/// them: lists order by `(created_at, id)`, and two resources created in the same millisecond (a fast client, a
/// frozen test clock) came back in random order when the id was all random after its one-second timestamp.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", next_ksuid())
}

/// The timestamp (seconds since the KSUID epoch) and payload of the last KSUID this process made.
static LAST_KSUID: Mutex<(u32, u128)> = Mutex::new((0, 0));

/// A KSUID above every one this process made before: in a new second a random payload; within the same second
/// (or when the clock went back) the last payload plus a random step of up to 2⁶⁴, so that the next id still cannot
/// be guessed from the last.
fn next_ksuid() -> Ksuid {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().saturating_sub(KSUID_EPOCH.unsigned_abs()));
    let now = u32::try_from(now).unwrap_or(u32::MAX);
    let random = u128::from_be_bytes(random_bytes::<16>());
    let mut last = LAST_KSUID.lock().unwrap_or_else(|p| p.into_inner());
    let (seconds, payload) = if now > last.0 {
        (now, random)
    } else {
        match last.1.checked_add(1 + (random >> 64)) {
            Some(payload) => (last.0, payload),
            None => (last.0.saturating_add(1), random),
        }
    };
    *last = (seconds, payload);
    Ksuid::new_raw(seconds, Some(&payload.to_be_bytes()))
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
    fn ids_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..2_000).map(|_| new_id("x")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids out of order");
        assert!(ids.iter().all(|id| id.len() == "x_".len() + 27));
    }

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
