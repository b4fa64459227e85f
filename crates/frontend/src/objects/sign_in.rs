//! `sign_in_attempt` (`Client.SignIn`) as the Frontend API shows it.

use serde::Serialize;
use tessera_core::enterprise_sso::transfer;
use tessera_core::sign_ins::{Factor, FactorVerification, SignIn, UserData};

/// `Stubs.SignInFactor`.
#[derive(Debug, Serialize)]
pub struct FactorObject<'a> {
    strategy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    safe_identifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<bool>,
}

impl<'a> FactorObject<'a> {
    /// The object of a factor.
    pub fn new(f: &'a Factor) -> Self {
        Self {
            strategy: f.strategy,
            safe_identifier: f.safe_identifier.as_deref(),
            email_address_id: f.email_address_id.as_deref(),
            phone_number_id: f.phone_number_id.as_deref(),
            primary: f.primary,
            default: f.default,
        }
    }
}

/// `Stubs.Verification.*` of a factor (the `object` names the kind of verification).
#[derive(Debug, Serialize)]
pub struct VerificationObject<'a> {
    object: &'static str,
    status: &'a str,
    strategy: &'a str,
    attempts: Option<i64>,
    expire_at: Option<i64>,
    /// Only in `verification_saml` (other verification schemas do not have it).
    #[serde(skip_serializing_if = "Option::is_none")]
    external_verification_redirect_url: Option<Option<&'a str>>,
    /// Why an enterprise SSO verification is `transferable` (`external_account_not_found`: sign up instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<VerificationErrorObject>,
}

/// The `error` of a verification (`ClerkError`), which clerk-js reads to continue a `transferable` one.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationErrorObject {
    code: &'static str,
    message: &'static str,
    long_message: &'static str,
}

impl VerificationErrorObject {
    /// The error of a transferable enterprise SSO verification of a sign-up (`true`) or a sign-in.
    pub fn transferable(sign_up: bool) -> Self {
        let code = transfer::transferable_error(sign_up);
        Self { code: code.as_str(), message: code.message(), long_message: code.long_message() }
    }
}

impl<'a> VerificationObject<'a> {
    /// The object of a verification.
    pub fn new(v: &'a FactorVerification) -> Self {
        let object = match v.strategy.as_str() {
            "password" => "verification_password",
            "ticket" => "verification_ticket",
            "totp" => "verification_totp",
            "backup_code" => "verification_backup_code",
            "saml" => "verification_saml",
            _ => "verification_otp",
        };
        Self {
            object,
            status: &v.status,
            strategy: &v.strategy,
            attempts: v.attempts,
            expire_at: v.expire_at,
            external_verification_redirect_url: (v.strategy == "saml")
                .then_some(v.external_verification_redirect_url.as_deref()),
            error: (v.strategy == "saml" && v.status == transfer::TRANSFERABLE)
                .then(|| VerificationErrorObject::transferable(false)),
        }
    }
}

/// `user_data` of a sign-in: the user's name and image.
#[derive(Debug, Serialize)]
pub struct SignInUserData<'a> {
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    image_url: String,
    has_image: bool,
}

impl<'a> SignInUserData<'a> {
    fn new(u: &'a UserData, base: &str) -> Self {
        Self {
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            image_url: tessera_core::users::objects::image_url(base, u.image_id.as_deref()),
            has_image: u.image_id.is_some(),
        }
    }
}

/// `Client.SignIn`.
#[derive(Debug, Serialize)]
pub struct SignInObject<'a> {
    object: &'static str,
    id: &'a str,
    status: &'static str,
    supported_identifiers: [&'static str; 3],
    supported_first_factors: Option<Vec<FactorObject<'a>>>,
    supported_second_factors: Option<Vec<FactorObject<'a>>>,
    first_factor_verification: Option<VerificationObject<'a>>,
    second_factor_verification: Option<VerificationObject<'a>>,
    identifier: Option<&'a str>,
    user_data: Option<SignInUserData<'a>>,
    created_session_id: Option<&'a str>,
    abandon_at: i64,
}

impl<'a> SignInObject<'a> {
    /// The object of `s`; image URLs are absolute under `base`.
    pub fn new(s: &'a SignIn, base: &str) -> Self {
        let factors = |f: &'a Option<Vec<Factor>>| f.as_ref().map(|f| f.iter().map(FactorObject::new).collect());
        Self {
            object: "sign_in_attempt",
            id: &s.id,
            status: s.status,
            supported_identifiers: ["email_address", "phone_number", "username"],
            supported_first_factors: factors(&s.supported_first_factors),
            supported_second_factors: factors(&s.supported_second_factors),
            first_factor_verification: s.first_factor_verification.as_ref().map(VerificationObject::new),
            second_factor_verification: s.second_factor_verification.as_ref().map(VerificationObject::new),
            identifier: s.identifier.as_deref(),
            user_data: s.user_data.as_ref().map(|u| SignInUserData::new(u, base)),
            created_session_id: s.created_session_id.as_deref(),
            abandon_at: s.abandon_at,
        }
    }
}
