//! `session_reverification` (`Client.SessionReverification`) as the Frontend API shows it.

use serde::Serialize;
use serde_json::Value;
use tessera_core::session_reverification::Reverification;

use super::sign_in::{FactorObject, VerificationObject};

/// `Client.SessionReverification`.
#[derive(Debug, Serialize)]
pub struct SessionReverificationObject<'a> {
    object: &'static str,
    level: &'static str,
    status: &'static str,
    supported_first_factors: Vec<FactorObject<'a>>,
    supported_second_factors: Option<Vec<FactorObject<'a>>>,
    first_factor_verification: Option<VerificationObject<'a>>,
    second_factor_verification: Option<VerificationObject<'a>>,
    session: Value,
}

impl<'a> SessionReverificationObject<'a> {
    /// The object of `r` with its session's object (`Client.Session`, with a fresh token carrying the new `fva`).
    pub fn new(r: &'a Reverification, session: Value) -> Self {
        Self {
            object: "session_reverification",
            level: r.level,
            status: r.status,
            supported_first_factors: r.supported_first_factors.iter().map(FactorObject::new).collect(),
            supported_second_factors: r
                .supported_second_factors
                .as_ref()
                .map(|f| f.iter().map(FactorObject::new).collect()),
            first_factor_verification: r.first_factor_verification.as_ref().map(VerificationObject::new),
            second_factor_verification: r.second_factor_verification.as_ref().map(VerificationObject::new),
            session,
        }
    }
}
