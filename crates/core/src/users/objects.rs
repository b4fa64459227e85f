//! The Clerk JSON objects of users: `user`, `email_address`, `phone_number`, `web3_wallet` and the verification
//! they embed — typed, borrowing from the domain [`User`] and [`Identification`], serialized straight into a
//! response body or an event (design 14). They live beside their domain types and depend only on them, so that
//! the user operations (which emit `user.*` events) need no serializer module that imports them back.
//!
//! The Frontend API's user (`Client.User`) is its own type in `tessera_frontend::objects::user`; it embeds the
//! identification objects of this module, whose schemas are the same on both faces.

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Identification, User, Verification};
use tessera_store::sso::UserEnterpriseAccount as EnterpriseAccount;

/// Path under which profile images are served (outside the spec): `{base}/v1/user_images/{image_id}`.
pub const IMAGE_PATH: &str = "/v1/user_images";

/// The URL of a user's image, absolute when the request's origin is known (`base`, e.g. `http://host:port`).
/// A user without an image has an empty `image_url`: there is no default avatar service.
pub fn image_url(base: &str, image_id: Option<&str>) -> String {
    image_id.map(|id| format!("{base}{IMAGE_PATH}/{id}")).unwrap_or_default()
}

/// An array that is always empty (passkeys, external accounts… that Tessera's users never have): `[]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyArray;

impl Serialize for EmptyArray {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        s.serialize_seq(Some(0))?.end()
    }
}

/// The `object` of a verification, from its strategy (the SDKs pick the verification's type from it).
pub fn verification_object(strategy: &str) -> &'static str {
    match strategy {
        "admin" => "verification_admin",
        "email_code" | "phone_code" | "reset_password_email_code" => "verification_otp",
        "email_link" => "verification_email_link",
        "ticket" => "verification_ticket",
        "saml" => "verification_saml",
        "scim" => "verification_scim",
        s if s.starts_with("web3_") => "verification_web3",
        _ => "verification_from_oauth",
    }
}

/// The verification of an identification (`verification_otp`, `verification_admin`…).
#[derive(Debug, Clone, Serialize)]
pub struct VerificationObject<'a> {
    object: &'static str,
    status: &'a str,
    strategy: &'a str,
    attempts: Option<i64>,
    expire_at: Option<i64>,
}

impl<'a> VerificationObject<'a> {
    /// The object of `v`, or `None` (serialized as `null`).
    pub fn of(v: Option<&'a Verification>) -> Option<Self> {
        v.map(|v| Self {
            object: verification_object(&v.strategy),
            status: &v.status,
            strategy: &v.strategy,
            attempts: v.attempts,
            expire_at: v.expire_at,
        })
    }
}

/// `EmailAddress` (the Frontend API's `Client.EmailAddress` is the same). `linked_to` is always an array
/// (`@clerk/backend` maps over it).
#[derive(Debug, Clone, Serialize)]
pub struct EmailAddressObject<'a> {
    id: &'a str,
    object: &'static str,
    email_address: &'a str,
    reserved: bool,
    verification: Option<VerificationObject<'a>>,
    linked_to: EmptyArray,
    matches_sso_connection: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> EmailAddressObject<'a> {
    /// The object of an email identification.
    pub fn new(e: &'a Identification) -> Self {
        Self {
            id: &e.id,
            object: "email_address",
            email_address: &e.value,
            reserved: e.reserved,
            verification: VerificationObject::of(e.verification.as_ref()),
            linked_to: EmptyArray,
            matches_sso_connection: false,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// `PhoneNumber` (and `Client.PhoneNumber`).
#[derive(Debug, Clone, Serialize)]
pub struct PhoneNumberObject<'a> {
    id: &'a str,
    object: &'static str,
    phone_number: &'a str,
    reserved_for_second_factor: bool,
    default_second_factor: bool,
    reserved: bool,
    verification: Option<VerificationObject<'a>>,
    linked_to: EmptyArray,
    backup_codes: Option<EmptyArray>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PhoneNumberObject<'a> {
    /// The object of a phone identification.
    pub fn new(p: &'a Identification) -> Self {
        Self {
            id: &p.id,
            object: "phone_number",
            phone_number: &p.value,
            reserved_for_second_factor: p.reserved_for_second_factor,
            default_second_factor: p.default_second_factor,
            reserved: p.reserved,
            verification: VerificationObject::of(p.verification.as_ref()),
            linked_to: EmptyArray,
            backup_codes: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// `Web3Wallet` (and `Client.Web3Wallet`).
#[derive(Debug, Clone, Serialize)]
pub struct Web3WalletObject<'a> {
    id: &'a str,
    object: &'static str,
    web3_wallet: &'a str,
    verification: Option<VerificationObject<'a>>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> Web3WalletObject<'a> {
    /// The object of a web3 identification.
    pub fn new(w: &'a Identification) -> Self {
        Self {
            id: &w.id,
            object: "web3_wallet",
            web3_wallet: &w.value,
            verification: VerificationObject::of(w.verification.as_ref()),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// The identifications of a user as the three arrays of the user objects (Backend and Frontend API).
#[derive(Debug, Clone)]
pub struct IdentificationObjects<'a> {
    /// `email_addresses`.
    pub email_addresses: Vec<EmailAddressObject<'a>>,
    /// `phone_numbers`.
    pub phone_numbers: Vec<PhoneNumberObject<'a>>,
    /// `web3_wallets`.
    pub web3_wallets: Vec<Web3WalletObject<'a>>,
}

impl<'a> IdentificationObjects<'a> {
    /// The identification objects of `u`.
    pub fn of(u: &'a User) -> Self {
        Self {
            email_addresses: u.email_addresses.iter().map(EmailAddressObject::new).collect(),
            phone_numbers: u.phone_numbers.iter().map(PhoneNumberObject::new).collect(),
            web3_wallets: u.web3_wallets.iter().map(Web3WalletObject::new).collect(),
        }
    }
}

/// `User`: every required field present (nullable ones as `null`). Also the data of `user.created` /
/// `user.updated` events (the webhook spec's `User`), with `base` empty.
#[derive(Debug, Clone, Serialize)]
pub struct UserObject<'a> {
    id: &'a str,
    object: &'static str,
    external_id: Option<&'a str>,
    primary_email_address_id: Option<&'a str>,
    primary_phone_number_id: Option<&'a str>,
    primary_web3_wallet_id: Option<&'a str>,
    username: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    locale: Option<&'a str>,
    profile_image_url: String,
    image_url: String,
    has_image: bool,
    public_metadata: &'a Value,
    private_metadata: &'a Value,
    unsafe_metadata: &'a Value,
    email_addresses: Vec<EmailAddressObject<'a>>,
    phone_numbers: Vec<PhoneNumberObject<'a>>,
    web3_wallets: Vec<Web3WalletObject<'a>>,
    passkeys: EmptyArray,
    password_enabled: bool,
    two_factor_enabled: bool,
    totp_enabled: bool,
    backup_code_enabled: bool,
    mfa_enabled_at: Option<i64>,
    mfa_disabled_at: Option<i64>,
    password_last_updated_at: Option<i64>,
    external_accounts: EmptyArray,
    saml_accounts: Vec<SamlAccountObject<'a>>,
    enterprise_accounts: Vec<EnterpriseAccountObject<'a>>,
    last_sign_in_at: Option<i64>,
    banned: bool,
    locked: bool,
    deprovisioned: bool,
    lockout_expires_in_seconds: Option<i64>,
    verification_attempts_remaining: i64,
    updated_at: i64,
    created_at: i64,
    delete_self_enabled: bool,
    create_organization_enabled: bool,
    create_organizations_limit: Option<i64>,
    last_active_at: Option<i64>,
    legal_accepted_at: Option<i64>,
    bypass_client_trust: bool,
}

impl<'a> UserObject<'a> {
    /// The object of `u`; image URLs are absolute under `base` (root-relative when it is empty).
    pub fn new(u: &'a User, base: &str) -> Self {
        let image = image_url(base, u.image_id.as_deref());
        let IdentificationObjects { email_addresses, phone_numbers, web3_wallets } = IdentificationObjects::of(u);
        Self {
            id: &u.id,
            object: "user",
            external_id: u.external_id.as_deref(),
            primary_email_address_id: u.primary_email_address_id.as_deref(),
            primary_phone_number_id: u.primary_phone_number_id.as_deref(),
            primary_web3_wallet_id: u.primary_web3_wallet_id.as_deref(),
            username: u.username.as_deref(),
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            locale: u.locale.as_deref(),
            profile_image_url: image.clone(),
            image_url: image,
            has_image: u.image_id.is_some(),
            public_metadata: &u.public_metadata,
            private_metadata: &u.private_metadata,
            unsafe_metadata: &u.unsafe_metadata,
            email_addresses,
            phone_numbers,
            web3_wallets,
            passkeys: EmptyArray,
            password_enabled: u.password_enabled,
            two_factor_enabled: u.two_factor_enabled,
            totp_enabled: u.totp_enabled,
            backup_code_enabled: u.backup_code_enabled,
            mfa_enabled_at: u.mfa_enabled_at,
            mfa_disabled_at: u.mfa_disabled_at,
            password_last_updated_at: u.password_last_updated_at,
            external_accounts: EmptyArray,
            saml_accounts: u
                .enterprise_accounts
                .iter()
                .filter(|a| a.connection_saml_id.is_some())
                .map(SamlAccountObject::new)
                .collect(),
            enterprise_accounts: u.enterprise_accounts.iter().map(EnterpriseAccountObject::new).collect(),
            last_sign_in_at: u.last_sign_in_at,
            banned: u.banned,
            locked: u.lock.locked,
            deprovisioned: u.deprovisioned,
            lockout_expires_in_seconds: u.lock.expires_in_seconds,
            verification_attempts_remaining: u.lock.attempts_remaining,
            updated_at: u.updated_at,
            created_at: u.created_at,
            delete_self_enabled: u.delete_self_enabled,
            create_organization_enabled: u.create_organization_enabled,
            create_organizations_limit: u.create_organizations_limit,
            last_active_at: u.last_active_at,
            legal_accepted_at: u.legal_accepted_at,
            bypass_client_trust: u.bypass_client_trust,
        }
    }
}

/// `verification_saml` of an enterprise account: the IdP's assertion verified it.
#[derive(Debug, Clone, Serialize)]
pub struct SamlVerificationObject {
    object: &'static str,
    status: &'static str,
    strategy: &'static str,
    external_verification_redirect_url: Option<&'static str>,
    /// `null` for the Backend API; absent for the Frontend API, whose schema admits only an error object.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Option<()>>,
    expire_at: Option<i64>,
    attempts: Option<i64>,
}

impl SamlVerificationObject {
    const VERIFIED: Self = Self {
        object: "verification_saml",
        status: "verified",
        strategy: "saml",
        external_verification_redirect_url: None,
        error: Some(None),
        expire_at: None,
        attempts: None,
    };
    const VERIFIED_FRONTEND: Self = Self { error: None, ..Self::VERIFIED };
}

/// The connection of an enterprise account (`EnterpriseAccountConnection`; `SAMLAccountConnection` is the same
/// without `protocol` and `logo_public_url`).
#[derive(Debug, Clone, Serialize)]
pub struct AccountConnectionObject<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'static str>,
    provider: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_public_url: Option<Option<&'a str>>,
    domain: String,
    domains: Vec<String>,
    active: bool,
    sync_user_attributes: bool,
    allow_subdomains: bool,
    allow_idp_initiated: bool,
    disable_additional_identifications: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> AccountConnectionObject<'a> {
    fn new(a: &'a EnterpriseAccount, id: &'a str, enterprise: bool) -> Self {
        let domains = a.domains();
        Self {
            id,
            protocol: enterprise.then(|| if a.connection_saml_id.is_some() { "saml" } else { "oauth" }),
            provider: &a.connection_provider,
            name: &a.connection_name,
            logo_public_url: enterprise.then_some(None),
            domain: domains.first().cloned().unwrap_or_default(),
            domains,
            active: a.connection_active,
            sync_user_attributes: a.connection_sync_user_attributes,
            allow_subdomains: a.connection_allow_subdomains,
            allow_idp_initiated: a.connection_allow_idp_initiated,
            disable_additional_identifications: a.connection_disable_additional_identifications,
            created_at: a.connection_created_at,
            updated_at: a.connection_updated_at,
        }
    }
}

/// `EnterpriseAccount`.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseAccountObject<'a> {
    id: &'a str,
    object: &'static str,
    protocol: &'static str,
    provider: &'a str,
    active: bool,
    email_address: &'a str,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    provider_user_id: Option<&'a str>,
    enterprise_connection_id: Option<&'a str>,
    public_metadata: Value,
    verification: Option<SamlVerificationObject>,
    enterprise_connection: Option<AccountConnectionObject<'a>>,
    last_authenticated_at: Option<i64>,
}

impl<'a> EnterpriseAccountObject<'a> {
    /// The object of an account.
    pub fn new(a: &'a EnterpriseAccount) -> Self {
        Self::with(a, SamlVerificationObject::VERIFIED)
    }

    /// The object of an account as the Frontend API shows it.
    pub fn frontend(a: &'a EnterpriseAccount) -> Self {
        Self::with(a, SamlVerificationObject::VERIFIED_FRONTEND)
    }

    fn with(a: &'a EnterpriseAccount, verification: SamlVerificationObject) -> Self {
        Self {
            id: &a.id,
            object: "enterprise_account",
            protocol: if a.connection_saml_id.is_some() { "saml" } else { "oauth" },
            provider: &a.connection_provider,
            active: a.connection_active,
            email_address: &a.email_address,
            first_name: a.first_name.as_deref(),
            last_name: a.last_name.as_deref(),
            provider_user_id: Some(&a.provider_user_id),
            enterprise_connection_id: Some(&a.connection_id),
            public_metadata: super::metadata(&a.public_metadata),
            verification: Some(verification),
            enterprise_connection: Some(AccountConnectionObject::new(a, &a.connection_id, true)),
            last_authenticated_at: a.last_authenticated_at,
        }
    }
}

/// `SAMLAccount`: the deprecated view of an enterprise account at a SAML connection (its connection under the
/// `samlc_…` id).
#[derive(Debug, Clone, Serialize)]
pub struct SamlAccountObject<'a> {
    id: &'a str,
    object: &'static str,
    provider: &'a str,
    active: bool,
    email_address: &'a str,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    provider_user_id: Option<&'a str>,
    last_authenticated_at: Option<i64>,
    public_metadata: Value,
    verification: Option<SamlVerificationObject>,
    saml_connection: Option<AccountConnectionObject<'a>>,
}

impl<'a> SamlAccountObject<'a> {
    /// The object of an account at a SAML connection.
    pub fn new(a: &'a EnterpriseAccount) -> Self {
        Self::with(a, SamlVerificationObject::VERIFIED)
    }

    /// The object of an account at a SAML connection as the Frontend API shows it (`Client.SAMLAccount`).
    pub fn frontend(a: &'a EnterpriseAccount) -> Self {
        Self::with(a, SamlVerificationObject::VERIFIED_FRONTEND)
    }

    fn with(a: &'a EnterpriseAccount, verification: SamlVerificationObject) -> Self {
        Self {
            id: &a.id,
            object: "saml_account",
            provider: &a.connection_provider,
            active: a.connection_active,
            email_address: &a.email_address,
            first_name: a.first_name.as_deref(),
            last_name: a.last_name.as_deref(),
            provider_user_id: Some(&a.provider_user_id),
            last_authenticated_at: a.last_authenticated_at,
            public_metadata: super::metadata(&a.public_metadata),
            verification: Some(verification),
            saml_connection: a.connection_saml_id.as_deref().map(|id| AccountConnectionObject::new(a, id, false)),
        }
    }
}

/// `DeletedObject` for a user (also the data of `user.deleted`, which adds the external id when there is one).
#[derive(Debug, Clone, Serialize)]
pub struct DeletedUserObject<'a> {
    object: &'static str,
    id: &'a str,
    deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
}

impl<'a> DeletedUserObject<'a> {
    /// The answer of `DELETE /users/{id}`.
    pub fn new(id: &'a str) -> Self {
        Self { object: "user", id, deleted: true, external_id: None }
    }

    /// The data of a `user.deleted` event.
    pub fn event(id: &'a str, external_id: Option<&'a str>) -> Self {
        Self { object: "user", id, deleted: true, external_id }
    }
}

/// `TotalCount`.
#[derive(Debug, Clone, Serialize)]
pub struct TotalCountObject {
    object: &'static str,
    total_count: i64,
}

impl TotalCountObject {
    /// A count.
    pub fn new(total_count: i64) -> Self {
        Self { object: "total_count", total_count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_arrays_and_nulls_serialize_as_clerk_writes_them() {
        let id = Identification {
            id: "idn_1".into(),
            user_id: "user_1".into(),
            kind: super::super::identifiers::PHONE.into(),
            value: "+15555550100".into(),
            reserved: false,
            verification: None,
            reserved_for_second_factor: false,
            default_second_factor: false,
            created_at: 1,
            updated_at: 2,
        };
        let v = serde_json::to_value(PhoneNumberObject::new(&id)).unwrap();
        assert_eq!(v["linked_to"], serde_json::json!([]));
        assert!(v["backup_codes"].is_null() && v["verification"].is_null());
        assert_eq!(serde_json::to_string(&DeletedUserObject::new("user_1")).unwrap(), {
            r#"{"object":"user","id":"user_1","deleted":true}"#
        });
    }
}
