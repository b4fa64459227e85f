//! `user` as the Frontend API shows it to the signed-in browser (`Client.User`): the user without private metadata,
//! with the user's organization memberships (clerk-js derives `clerk.organization` from them). Its identification
//! objects are the Backend API's (`Client.EmailAddress` & co. have the same schemas).

use serde::Serialize;
use serde_json::Value;
use tessera_core::organizations::memberships::Membership;
use tessera_core::users::User;
use tessera_core::users::objects::{
    EmailAddressObject, EmptyArray, EnterpriseAccountObject, IdentificationObjects, PhoneNumberObject,
    SamlAccountObject, Web3WalletObject, image_url,
};

use super::organization::MembershipObject;

/// `Client.User`.
#[derive(Debug, Serialize)]
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
    profile_image_url: String,
    image_url: String,
    has_image: bool,
    public_metadata: &'a Value,
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
    organization_memberships: Vec<MembershipObject<'a>>,
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
    /// 0 means unlimited here, where the Backend API says `null`.
    create_organizations_limit: i64,
    last_active_at: Option<i64>,
    legal_accepted_at: Option<i64>,
}

impl<'a> UserObject<'a> {
    /// The object of `u` with its memberships; URLs are absolute under `base`.
    pub fn new(u: &'a User, memberships: &'a [Membership], base: &str) -> Self {
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
            profile_image_url: image.clone(),
            image_url: image,
            has_image: u.image_id.is_some(),
            public_metadata: &u.public_metadata,
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
            // The Backend API's objects (`Client.SAMLAccount` has the same fields but no `null` error;
            // `enterprise_accounts` is required without a schema).
            saml_accounts: u
                .enterprise_accounts
                .iter()
                .filter(|a| a.connection_saml_id.is_some())
                .map(SamlAccountObject::frontend)
                .collect(),
            enterprise_accounts: u.enterprise_accounts.iter().map(EnterpriseAccountObject::frontend).collect(),
            organization_memberships: memberships.iter().map(|m| MembershipObject::new(m, base)).collect(),
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
            create_organizations_limit: u.create_organizations_limit.unwrap_or(0),
            last_active_at: u.last_active_at,
            legal_accepted_at: u.legal_accepted_at,
        }
    }
}
