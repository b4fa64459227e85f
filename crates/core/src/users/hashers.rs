//! Verifiers for the password digests Clerk imports (`password_hasher`), each in the form Clerk documents.
//!
//! Digests are parsed when a user is created (a malformed one is refused with 422), and verified on
//! `verify_password`; after a successful verification the password is rehashed with argon2id. Everything here is
//! CPU-bound and blocking: callers run it in `spawn_blocking` (see [`super::passwords`]).

use std::num::NonZeroU32;

use argon2::password_hash::PasswordVerifier as _;
use aws_lc_rs::{digest, pbkdf2};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use md5::Digest as _;

use crate::crypto::constant_time_eq;

/// Most PBKDF2 iterations accepted in an imported digest (a bound on the work one verification can cost).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Largest scrypt cost (log2 N) accepted.
const MAX_SCRYPT_LOG_N: u8 = 20;

/// The hashers of Clerk's `PasswordHasher` (2025-11-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hasher {
    /// `$2a$…`/`$2b$…`/`$2y$…`
    Bcrypt,
    /// `bcrypt_sha256$<bcrypt of hex(sha256(password))>` (Django).
    BcryptSha256Django,
    /// 32 hex digits.
    Md5,
    /// `pbkdf2_sha1$<iterations>$<salt>$<hex hash>[$<key length>]`
    Pbkdf2Sha1,
    /// `pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash>`
    Pbkdf2Sha256,
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (Django).
    Pbkdf2Sha256Django,
    /// `pbkdf2_sha512$<iterations>$<salt>$<hex hash>`
    Pbkdf2Sha512,
    /// `pbkdf2_sha512_hex$<iterations>$<hex salt>$<hex hash>`
    Pbkdf2Sha512Hex,
    /// `$P$`/`$H$` portable hashes (WordPress, phpBB).
    Phpass,
    /// The same portable MD5 hashes under Clerk's other name.
    Md5Phpass,
    /// `<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>` (base64 parts).
    ScryptFirebase,
    /// `scrypt:<N>:<r>:<p>$<salt>$<hex hash>` (Werkzeug).
    ScryptWerkzeug,
    /// 64 hex digits.
    Sha256,
    /// `{SSHA}<base64 of sha1(password + salt) + salt>`
    LdapSsha,
    /// `$argon2i$v=19$m=…,t=…,p=…$<salt>$<hash>`
    Argon2i,
    /// `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`
    Argon2id,
    /// `sha512_symfony$<iterations>$<salt>$<base64 hash>` (Symfony's legacy message-digest encoder).
    Sha512Symfony,
}

const ALL: &[(Hasher, &str)] = &[
    (Hasher::Bcrypt, "bcrypt"),
    (Hasher::BcryptSha256Django, "bcrypt_sha256_django"),
    (Hasher::Md5, "md5"),
    (Hasher::Pbkdf2Sha1, "pbkdf2_sha1"),
    (Hasher::Pbkdf2Sha256, "pbkdf2_sha256"),
    (Hasher::Pbkdf2Sha256Django, "pbkdf2_sha256_django"),
    (Hasher::Pbkdf2Sha512, "pbkdf2_sha512"),
    (Hasher::Pbkdf2Sha512Hex, "pbkdf2_sha512_hex"),
    (Hasher::Phpass, "phpass"),
    (Hasher::Md5Phpass, "md5_phpass"),
    (Hasher::ScryptFirebase, "scrypt_firebase"),
    (Hasher::ScryptWerkzeug, "scrypt_werkzeug"),
    (Hasher::Sha256, "sha256"),
    (Hasher::LdapSsha, "ldap_ssha"),
    (Hasher::Argon2i, "argon2i"),
    (Hasher::Argon2id, "argon2id"),
    (Hasher::Sha512Symfony, "sha512_symfony"),
];

impl Hasher {
    /// The hasher named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        ALL.iter().find(|(_, n)| *n == name).map(|(h, _)| *h)
    }

    /// Clerk's name.
    pub fn as_str(self) -> &'static str {
        ALL.iter().find(|(h, _)| *h == self).map_or("", |(_, n)| n)
    }

    /// Every hasher name, for error messages.
    pub fn names() -> Vec<&'static str> {
        ALL.iter().map(|(_, n)| *n).collect()
    }
}

/// A digest taken apart.
enum Parsed {
    Bcrypt { digest: String, sha256_first: bool },
    Md5(Vec<u8>),
    Sha256(Vec<u8>),
    Pbkdf2 { algorithm: pbkdf2::Algorithm, iterations: NonZeroU32, salt: Vec<u8>, hash: Vec<u8> },
    Phpass { count: u32, salt: Vec<u8>, hash: String },
    ScryptFirebase { hash: Vec<u8>, salt: Vec<u8>, signer: Vec<u8>, rounds: u32, mem_cost: u8 },
    ScryptWerkzeug { log_n: u8, r: u32, p: u32, salt: Vec<u8>, hash: Vec<u8> },
    LdapSsha { hash: Vec<u8>, salt: Vec<u8> },
    Argon2(String),
    Symfony { iterations: u32, salt: String, hash: Vec<u8> },
}

fn b64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok().filter(|v| !v.is_empty())
}

fn hexd(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok().filter(|v| !v.is_empty())
}

fn iterations(s: &str) -> Option<NonZeroU32> {
    s.parse::<u32>().ok().filter(|n| *n <= MAX_PBKDF2_ITERATIONS).and_then(NonZeroU32::new)
}

fn is_bcrypt(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 60
        && matches!(&d[..4], "$2a$" | "$2b$" | "$2y$" | "$2x$")
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
}

const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn parse(hasher: Hasher, d: &str) -> Option<Parsed> {
    let parts: Vec<&str> = d.split('$').collect();
    let pbkdf2 = |algorithm, iter: &str, salt: Option<Vec<u8>>, hash: Option<Vec<u8>>| {
        Some(Parsed::Pbkdf2 { algorithm, iterations: iterations(iter)?, salt: salt?, hash: hash? })
    };
    match hasher {
        Hasher::Bcrypt => is_bcrypt(d).then(|| Parsed::Bcrypt { digest: d.to_owned(), sha256_first: false }),
        Hasher::BcryptSha256Django => {
            let rest = d.strip_prefix("bcrypt_sha256$")?;
            is_bcrypt(rest).then(|| Parsed::Bcrypt { digest: rest.to_owned(), sha256_first: true })
        }
        Hasher::Md5 => (d.len() == 32).then(|| hexd(d)).flatten().map(Parsed::Md5),
        Hasher::Sha256 => (d.len() == 64).then(|| hexd(d)).flatten().map(Parsed::Sha256),
        Hasher::Pbkdf2Sha1 => match parts.as_slice() {
            ["pbkdf2_sha1", i, salt, hash] | ["pbkdf2_sha1", i, salt, hash, _] if !salt.is_empty() => {
                pbkdf2(pbkdf2::PBKDF2_HMAC_SHA1, i, Some(salt.as_bytes().to_vec()), hexd(hash))
            }
            _ => None,
        },
        Hasher::Pbkdf2Sha256 => match parts.as_slice() {
            ["pbkdf2_sha256", i, salt, hash] => pbkdf2(pbkdf2::PBKDF2_HMAC_SHA256, i, b64(salt), b64(hash)),
            _ => None,
        },
        Hasher::Pbkdf2Sha256Django => match parts.as_slice() {
            ["pbkdf2_sha256", i, salt, hash] if !salt.is_empty() => {
                pbkdf2(pbkdf2::PBKDF2_HMAC_SHA256, i, Some(salt.as_bytes().to_vec()), b64(hash))
            }
            _ => None,
        },
        Hasher::Pbkdf2Sha512 => match parts.as_slice() {
            ["pbkdf2_sha512", i, salt, hash] if !salt.is_empty() => {
                pbkdf2(pbkdf2::PBKDF2_HMAC_SHA512, i, Some(salt.as_bytes().to_vec()), hexd(hash))
            }
            _ => None,
        },
        Hasher::Pbkdf2Sha512Hex => match parts.as_slice() {
            ["pbkdf2_sha512_hex", i, salt, hash] => pbkdf2(pbkdf2::PBKDF2_HMAC_SHA512, i, hexd(salt), hexd(hash)),
            _ => None,
        },
        Hasher::Phpass | Hasher::Md5Phpass => {
            let b = d.as_bytes();
            if b.len() != 34
                || !(d.starts_with("$P$") || d.starts_with("$H$"))
                || !b[3..].iter().all(|c| ITOA64.contains(c))
            {
                return None;
            }
            let log = ITOA64.iter().position(|c| *c == b[3])?;
            (7..=30).contains(&log).then(|| Parsed::Phpass {
                count: 1 << log,
                salt: b[4..12].to_vec(),
                hash: d[12..].to_owned(),
            })
        }
        Hasher::ScryptFirebase => match parts.as_slice() {
            [hash, salt, signer, sep, rounds, mem] => {
                let mut salt = b64(salt)?;
                salt.extend(STANDARD.decode(sep).ok()?);
                let mem_cost = mem.parse::<u8>().ok().filter(|m| (1..=MAX_SCRYPT_LOG_N).contains(m))?;
                let rounds = rounds.parse::<u32>().ok().filter(|r| (1..=64).contains(r))?;
                Some(Parsed::ScryptFirebase { hash: b64(hash)?, salt, signer: b64(signer)?, rounds, mem_cost })
            }
            _ => None,
        },
        Hasher::ScryptWerkzeug => {
            let d = d.strip_prefix('$').unwrap_or(d);
            let [method, salt, hash] = d.split('$').collect::<Vec<_>>()[..] else { return None };
            let [name, n, r, p] = method.split(':').collect::<Vec<_>>()[..] else { return None };
            let n = n.parse::<u64>().ok().filter(|n| n.is_power_of_two() && *n > 1)?;
            let log_n = u8::try_from(n.trailing_zeros()).ok().filter(|l| *l <= MAX_SCRYPT_LOG_N)?;
            let r = r.parse::<u32>().ok().filter(|r| (1..=64).contains(r))?;
            let p = p.parse::<u32>().ok().filter(|p| (1..=16).contains(p))?;
            (name == "scrypt" && !salt.is_empty()).then_some(())?;
            Some(Parsed::ScryptWerkzeug { log_n, r, p, salt: salt.as_bytes().to_vec(), hash: hexd(hash)? })
        }
        Hasher::LdapSsha => {
            let raw = b64(d.strip_prefix("{SSHA}")?)?;
            (raw.len() > 20).then(|| Parsed::LdapSsha { hash: raw[..20].to_vec(), salt: raw[20..].to_vec() })
        }
        Hasher::Argon2i | Hasher::Argon2id => {
            let want = if hasher == Hasher::Argon2i { "argon2i" } else { "argon2id" };
            let parsed = argon2::PasswordHash::new(d).ok()?;
            let params = argon2::Params::try_from(&parsed).ok()?;
            // A bound on what one verification may cost: 256 MiB and 64 passes.
            (parsed.algorithm.as_str() == want
                && parsed.salt.is_some()
                && parsed.hash.is_some()
                && params.m_cost() <= 262_144
                && params.t_cost() <= 64)
                .then(|| Parsed::Argon2(d.to_owned()))
        }
        Hasher::Sha512Symfony => match parts.as_slice() {
            ["sha512_symfony", i, salt, hash] => Some(Parsed::Symfony {
                iterations: iterations(i)?.get().min(1_000_000),
                salt: (*salt).to_owned(),
                hash: b64(hash)?,
            }),
            _ => None,
        },
    }
}

/// Whether `digest` has the form `hasher` expects.
pub fn is_valid_digest(hasher: Hasher, digest: &str) -> bool {
    parse(hasher, digest).is_some()
}

fn phpass_encode(input: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < input.len() {
        let mut value = u32::from(input[i]);
        i += 1;
        out.push(ITOA64[(value & 0x3f) as usize] as char);
        if i < input.len() {
            value |= u32::from(input[i]) << 8;
        }
        out.push(ITOA64[((value >> 6) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        if i < input.len() {
            value |= u32::from(input[i]) << 16;
        }
        out.push(ITOA64[((value >> 12) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        out.push(ITOA64[((value >> 18) & 0x3f) as usize] as char);
    }
    out
}

fn md5(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = md5::Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn sha(algorithm: &'static digest::Algorithm, parts: &[&[u8]]) -> Vec<u8> {
    let mut c = digest::Context::new(algorithm);
    for p in parts {
        c.update(p);
    }
    c.finish().as_ref().to_vec()
}

/// Whether `password` matches `digest` under `hasher`. A malformed digest never matches. Blocking.
pub fn verify(hasher: Hasher, digest: &str, password: &[u8]) -> bool {
    let Some(parsed) = parse(hasher, digest) else { return false };
    match parsed {
        Parsed::Bcrypt { digest, sha256_first } => {
            if sha256_first {
                let pre = hex::encode(sha(&digest::SHA256, &[password]));
                bcrypt::non_truncating_verify(pre, &digest).unwrap_or(false)
            } else {
                bcrypt::non_truncating_verify(password, &digest).unwrap_or(false)
            }
        }
        Parsed::Md5(expected) => constant_time_eq(&md5(&[password]), &expected),
        Parsed::Sha256(expected) => constant_time_eq(&sha(&digest::SHA256, &[password]), &expected),
        Parsed::Pbkdf2 { algorithm, iterations, salt, hash } => {
            pbkdf2::verify(algorithm, iterations, &salt, password, &hash).is_ok()
        }
        Parsed::Phpass { count, salt, hash } => {
            let mut h = md5(&[&salt, password]);
            for _ in 0..count {
                h = md5(&[&h, password]);
            }
            constant_time_eq(phpass_encode(&h).as_bytes(), hash.as_bytes())
        }
        Parsed::ScryptFirebase { hash, salt, signer, rounds, mem_cost } => {
            let Ok(params) = scrypt::Params::new(mem_cost, rounds, 1) else { return false };
            let mut key = [0u8; 32];
            if scrypt::scrypt(password, &salt, &params, &mut key).is_err() {
                return false;
            }
            firebase_encrypt(&key, signer).is_some_and(|enc| constant_time_eq(&enc, &hash))
        }
        Parsed::ScryptWerkzeug { log_n, r, p, salt, hash } => {
            let Ok(params) = scrypt::Params::new(log_n, r, p) else { return false };
            let mut out = vec![0u8; hash.len()];
            scrypt::scrypt(password, &salt, &params, &mut out).is_ok() && constant_time_eq(&out, &hash)
        }
        Parsed::LdapSsha { hash, salt } => {
            constant_time_eq(&sha(&digest::SHA1_FOR_LEGACY_USE_ONLY, &[password, &salt]), &hash)
        }
        Parsed::Argon2(d) => argon2::Argon2::default().verify_password(password, d.as_str()).is_ok(),
        Parsed::Symfony { iterations, salt, hash } => {
            let mut salted = password.to_vec();
            if !salt.is_empty() {
                salted.extend_from_slice(format!("{{{salt}}}").as_bytes());
            }
            let mut d = sha(&digest::SHA512, &[&salted]);
            for _ in 1..iterations {
                d = sha(&digest::SHA512, &[&d, &salted]);
            }
            constant_time_eq(&d, &hash)
        }
    }
}

/// AES-256-CTR with a zero IV over the signer key, as Firebase's scrypt variant does.
fn firebase_encrypt(key: &[u8; 32], mut signer: Vec<u8>) -> Option<Vec<u8>> {
    use aws_lc_rs::cipher::{AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
    use aws_lc_rs::iv::FixedLength;
    let key = EncryptingKey::ctr(UnboundCipherKey::new(&AES_256, key).ok()?).ok()?;
    key.less_safe_encrypt(&mut signer, EncryptionContext::Iv128(FixedLength::from([0u8; 16]))).ok()?;
    Some(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in Hasher::names() {
            assert_eq!(Hasher::parse(name).unwrap().as_str(), name);
        }
        assert!(Hasher::parse("argon2").is_none());
    }

    #[test]
    fn malformed_digests_are_refused() {
        assert!(!is_valid_digest(Hasher::Bcrypt, "$2a$10$short"));
        assert!(!is_valid_digest(Hasher::Md5, "xyz"));
        assert!(!is_valid_digest(Hasher::Pbkdf2Sha256, "pbkdf2_sha256$0$c2FsdA==$aGFzaA=="));
        assert!(!is_valid_digest(Hasher::ScryptWerkzeug, "scrypt:1000:8:1$salt$abcd"));
        assert!(!is_valid_digest(Hasher::Argon2i, "$argon2id$v=19$m=16,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g"));
        assert!(!is_valid_digest(Hasher::LdapSsha, "{SSHA}abc"));
    }
}
