//! `sign_up_attempt` as the Frontend API shows it (`Client.SignUp`), with its verifications shaped as the spec's
//! `Client.SignUp.Verifications`: one-time-code verifications (`Stubs.Verification.OTP`) plus what to do next.

use serde::Serialize;
use serde_json::Value;
use tessera_core::enterprise_sso::transfer::TRANSFERABLE;
use tessera_core::sign_ups::{ExternalVerification, FieldVerification, SignUp};

use super::sign_in::VerificationErrorObject;

/// An email address's or phone number's verification: by code (`Stubs.Verification.OTP`), for an invited address
/// by the invitation's ticket (`Stubs.Verification.Ticket`), or by an enterprise IdP (`Stubs.Verification.SAML`),
/// with `Stubs.SignUpVerification.AdditionalFields`.
#[derive(Debug, Clone, Serialize)]
pub struct SignUpVerificationObject {
    object: &'static str,
    status: String,
    strategy: &'static str,
    attempts: Option<i64>,
    /// For codes the spec requires an integer even before a code was sent: then the attempt's own `abandon_at` (no
    /// code can be asked for later). A ticket's has none.
    expire_at: Option<i64>,
    next_action: &'static str,
    supported_strategies: [&'static str; 1],
}

impl SignUpVerificationObject {
    fn new(v: &FieldVerification, abandon_at: i64) -> Self {
        let object = match v.strategy {
            "ticket" => "verification_ticket",
            "saml" => "verification_saml",
            _ => "verification_otp",
        };
        let code = object == "verification_otp";
        Self {
            object,
            status: v.status.clone(),
            strategy: v.strategy,
            attempts: v.attempts,
            expire_at: if code { Some(v.expire_at.unwrap_or(abandon_at)) } else { v.expire_at },
            next_action: v.next_action,
            supported_strategies: [v.strategy],
        }
    }
}

/// The external account's verification of an enterprise SSO sign-up (`Stubs.Verification.SAML`).
#[derive(Debug, Clone, Serialize)]
pub struct ExternalAccountVerificationObject {
    object: &'static str,
    status: String,
    strategy: &'static str,
    external_verification_redirect_url: Option<String>,
    expire_at: Option<i64>,
    attempts: Option<i64>,
    /// Why it is `transferable` (`external_account_exists`: sign in instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<VerificationErrorObject>,
}

impl ExternalAccountVerificationObject {
    fn new(v: &ExternalVerification) -> Self {
        Self {
            object: "verification_saml",
            status: v.status.clone(),
            strategy: v.strategy,
            external_verification_redirect_url: v.redirect_url.clone(),
            expire_at: Some(v.expire_at),
            attempts: None,
            error: (v.status == TRANSFERABLE).then(|| VerificationErrorObject::transferable(true)),
        }
    }
}

/// `Client.SignUp.Verifications`. Web3 wallets are not part of Tessera's sign-ups; the external account is an
/// enterprise SSO sign-up's.
#[derive(Debug, Clone, Serialize)]
pub struct SignUpVerificationsObject {
    email_address: Option<SignUpVerificationObject>,
    phone_number: Option<SignUpVerificationObject>,
    web3_wallet: Option<Value>,
    external_account: Option<ExternalAccountVerificationObject>,
}

/// `Client.SignUp`.
#[derive(Debug, Clone, Serialize)]
pub struct SignUpObject {
    object: &'static str,
    id: String,
    status: &'static str,
    required_fields: Vec<String>,
    optional_fields: Vec<String>,
    missing_fields: Vec<String>,
    unverified_fields: Vec<String>,
    verifications: SignUpVerificationsObject,
    username: Option<String>,
    email_address: Option<String>,
    phone_number: Option<String>,
    web3_wallet: Option<String>,
    password_enabled: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    unsafe_metadata: Value,
    public_metadata: Value,
    custom_action: bool,
    external_id: Option<String>,
    created_session_id: Option<String>,
    created_user_id: Option<String>,
    abandon_at: i64,
    legal_accepted_at: Option<i64>,
    locale: Option<String>,
}

impl SignUpObject {
    /// The object of `s`.
    pub fn new(s: &SignUp) -> Self {
        let verification =
            |v: &Option<FieldVerification>| v.as_ref().map(|v| SignUpVerificationObject::new(v, s.abandon_at));
        Self {
            object: "sign_up_attempt",
            id: s.id.clone(),
            status: s.status,
            required_fields: s.required_fields.clone(),
            optional_fields: s.optional_fields.clone(),
            missing_fields: s.missing_fields.clone(),
            unverified_fields: s.unverified_fields.clone(),
            verifications: SignUpVerificationsObject {
                email_address: verification(&s.email_verification),
                phone_number: verification(&s.phone_verification),
                web3_wallet: None,
                external_account: s.external_verification.as_ref().map(ExternalAccountVerificationObject::new),
            },
            username: s.username.clone(),
            email_address: s.email_address.clone(),
            phone_number: s.phone_number.clone(),
            web3_wallet: None,
            password_enabled: s.password_enabled,
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            unsafe_metadata: s.unsafe_metadata.clone(),
            public_metadata: s.public_metadata.clone(),
            custom_action: s.custom_action,
            external_id: s.external_id.clone(),
            created_session_id: s.created_session_id.clone(),
            created_user_id: s.created_user_id.clone(),
            abandon_at: s.abandon_at,
            legal_accepted_at: s.legal_accepted_at,
            locale: s.locale.clone(),
        }
    }
}
