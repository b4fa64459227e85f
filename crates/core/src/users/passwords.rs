//! Password policy, hashing and verification.
//!
//! New passwords are hashed with argon2id (m = 19 MiB, t = 2, p = 1, OWASP's minimum) into a PHC string; imported
//! digests keep their hasher until the first successful verification rehashes them. Hashing and verifying are
//! CPU-bound: they run in `spawn_blocking` behind a semaphore of one permit per core, and always before a write
//! transaction is opened, so the SQLite writer is never held across a hash.

use std::sync::OnceLock;

use argon2::password_hash::PasswordHasher as _;
use tokio::sync::Semaphore;

use super::hashers::{self, Hasher};
use crate::{Error, ErrorCode, Result};

/// Shortest password the policy accepts, in characters.
pub const MIN_LENGTH: usize = 8;
/// Longest password the policy accepts, in bytes (Clerk's limit, which comes from bcrypt).
pub const MAX_POLICY_BYTES: usize = 72;
/// Longest password accepted at all, in bytes, even with `skip_password_checks`: argon2id does not truncate, and
/// this bounds the work an attacker can ask for.
pub const MAX_BYTES: usize = 256;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Runs CPU-bound password work off the async workers, at most one job per core at a time.
async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = permits().acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(job).await.map_err(Error::internal)
}

/// Checks `password` against the policy. `hibp` enables the bundled list of breached/common passwords;
/// `skip_checks` (Clerk's `skip_password_checks`) skips everything but the absolute size limit.
pub fn check_policy(param: &str, password: &str, hibp: bool, skip_checks: bool) -> Result<()> {
    if password.len() > MAX_BYTES || (!skip_checks && password.len() > MAX_POLICY_BYTES) {
        let max = if skip_checks { MAX_BYTES } else { MAX_POLICY_BYTES };
        let msg = format!("Passwords can't be more than {max} bytes. Please use a shorter password.");
        return Err(Error::with(ErrorCode::FormPasswordSizeInBytesExceeded, msg.clone(), msg, Some(param)));
    }
    if skip_checks {
        return Ok(());
    }
    if password.chars().count() < MIN_LENGTH {
        let msg = format!("Passwords must be {MIN_LENGTH} characters or more.");
        return Err(Error::with(ErrorCode::FormPasswordLengthTooShort, msg.clone(), msg, Some(param)));
    }
    if hibp && is_common(password) {
        return Err(Error::with(
            ErrorCode::FormPasswordPwned,
            "Password has been found in an online data breach. For account safety, please use a different password.",
            "Password has been found in an online data breach. For account safety, please use a different password.",
            Some(param),
        ));
    }
    Ok(())
}

/// Whether `password` is on the bundled list of breached/common passwords (compared case-insensitively).
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|l| l.eq_ignore_ascii_case(&lower))
}

fn argon2id() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19_456, 2, 1, None).expect("static argon2 parameters");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes a password with argon2id into a PHC string.
pub async fn hash(password: String) -> Result<String> {
    blocking(move || {
        let salt = crate::ids::random_bytes::<16>();
        argon2id().hash_password_with_salt(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(|e| Error::internal(anyhow::anyhow!("argon2id hashing failed: {e}")))
}

/// Whether `password` matches a stored digest of `hasher`.
pub async fn verify(hasher: Hasher, digest: String, password: String) -> Result<bool> {
    blocking(move || hashers::verify(hasher, &digest, password.as_bytes())).await
}

/// Whether a bcrypt digest (an imported backup code) matches.
pub async fn verify_bcrypt_any(digests: Vec<String>, code: String) -> Result<Option<usize>> {
    blocking(move || digests.iter().position(|d| hashers::verify(Hasher::Bcrypt, d, code.as_bytes()))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("password", "correct horse battery", true, false).is_ok());
        assert_eq!(
            check_policy("password", "short", true, false).unwrap_err().code(),
            ErrorCode::FormPasswordLengthTooShort
        );
        assert_eq!(
            check_policy("password", "Password123", true, false).unwrap_err().code(),
            ErrorCode::FormPasswordPwned
        );
        assert!(check_policy("password", "Password123", false, false).is_ok());
        assert!(check_policy("password", "short", true, true).is_ok());
        let long = "x".repeat(73);
        assert_eq!(
            check_policy("password", &long, true, false).unwrap_err().code(),
            ErrorCode::FormPasswordSizeInBytesExceeded
        );
        assert!(check_policy("password", &long, true, true).is_ok());
        assert!(check_policy("password", &"x".repeat(257), true, true).is_err());
    }

    #[tokio::test]
    async fn argon2id_round_trip() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Hasher::Argon2id, h.clone(), "correct horse".into()).await.unwrap());
        assert!(!verify(Hasher::Argon2id, h, "wrong horse".into()).await.unwrap());
    }
}
