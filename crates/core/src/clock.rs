//! Time, injectable so that tests can move it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The source of "now" for every expiry decision. Tests use [`Clock::manual`] and advance it.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that only moves when told (Unix ms).
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock starting at `start_ms`.
    pub fn manual(start_ms: i64) -> Self {
        Self::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Self::System => {
                let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
            }
            Self::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Now, in Unix seconds (for JWT claims).
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance_ms(&self, by: i64) {
        if let Self::Manual(t) = self {
            t.fetch_add(by, Ordering::SeqCst);
        }
    }
}
