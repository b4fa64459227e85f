//! Account lockout: after too many failed password or code verifications a user is locked for a while.
//!
//! The instance lockout settings are Clerk's defaults (the API has no field to change them): 10 attempts, then
//! one hour. Counters live in the user row and change only through single atomic statements
//! ([`tessera_store::user_mfa::record_failed_attempt`]), so concurrent failures on several nodes count exactly.

use tessera_store::users::UserRow;

use crate::{Error, ErrorCode};

/// Failed verifications allowed before the user is locked.
pub const MAX_ATTEMPTS: i64 = 10;
/// How long a lock lasts, in seconds (also for locks set through the API).
pub const LOCKOUT_SECONDS: i64 = 3600;

/// The lock state of a user at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Currently locked.
    pub locked: bool,
    /// Seconds until the lock ends (`None` when not locked, or locked forever).
    pub expires_in_seconds: Option<i64>,
    /// Failed verifications left before a lock.
    pub attempts_remaining: i64,
}

impl LockState {
    /// The state of `row` at `now` (Unix ms).
    pub fn of(row: &UserRow, now: i64) -> Self {
        let locked = row.locked_at.is_some() && row.lockout_expires_at.is_none_or(|e| e > now);
        let expired = row.locked_at.is_some() && !locked;
        let expires_in_seconds =
            if locked { row.lockout_expires_at.map(|e| (e - now + 999).div_euclid(1000)) } else { None };
        let failed = if expired { 0 } else { row.failed_verification_attempts };
        Self { locked, expires_in_seconds, attempts_remaining: (MAX_ATTEMPTS - failed).max(0) }
    }

    /// The `user_locked` error Clerk answers a sign-in attempt of a locked user with, saying when it can retry.
    pub fn error(self) -> Error {
        let long = match self.expires_in_seconds {
            Some(s) => format!("Your account is locked. You will be able to try again in {s} seconds."),
            None => "Your account is locked.".to_owned(),
        };
        Error::with(ErrorCode::UserLocked, ErrorCode::UserLocked.message(), long, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_expires() {
        let mut row = UserRow { failed_verification_attempts: 3, ..Default::default() };
        assert_eq!(
            LockState::of(&row, 0),
            LockState { locked: false, expires_in_seconds: None, attempts_remaining: 7 }
        );
        row.locked_at = Some(1000);
        row.lockout_expires_at = Some(1000 + 3_600_000);
        assert_eq!(LockState::of(&row, 1500).expires_in_seconds, Some(3600));
        assert!(LockState::of(&row, 1500).locked);
        let after = LockState::of(&row, 1000 + 3_600_000);
        assert!(!after.locked && after.attempts_remaining == MAX_ATTEMPTS);
        row.lockout_expires_at = None;
        assert_eq!(LockState::of(&row, i64::MAX).expires_in_seconds, None);
    }
}
