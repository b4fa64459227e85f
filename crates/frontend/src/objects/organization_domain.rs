//! `organization_domain`: a verified domain of an organization, as the Frontend API shows it.

use serde::Serialize;
use tessera_core::organization_domains::OrganizationDomain;

use super::organization::PublicOrganizationDataObject;

/// `Client.OrganizationDomainVerification` (affiliation).
#[derive(Debug, Clone, Serialize)]
pub struct VerificationObject<'a> {
    status: &'a str,
    strategy: &'a str,
    attempts: Option<i64>,
    expire_at: Option<i64>,
    verified_at: Option<i64>,
}

/// `Client.OrganizationDomainOwnershipVerification`. The DNS TXT challenge is not run by Tessera, so the
/// challenge fields are absent.
#[derive(Debug, Serialize)]
pub struct OwnershipVerificationObject<'a> {
    status: &'a str,
    strategy: &'a str,
    attempts: Option<i64>,
    expire_at: Option<i64>,
    verified_at: Option<i64>,
}

/// `Client.OrganizationDomain`, with the counts of its pending automatic invitations and suggestions.
#[derive(Debug, Serialize)]
pub struct OrganizationDomainObject<'a> {
    object: &'static str,
    id: &'a str,
    organization_id: &'a str,
    name: &'a str,
    enrollment_mode: &'a str,
    affiliation_email_address: Option<&'a str>,
    affiliation_verification: Option<VerificationObject<'a>>,
    ownership_verification: Option<OwnershipVerificationObject<'a>>,
    /// The deprecated alias of `affiliation_verification`.
    verification: Option<VerificationObject<'a>>,
    total_pending_invitations: i64,
    total_pending_suggestions: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_organization_data: Option<PublicOrganizationDataObject<'a>>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> OrganizationDomainObject<'a> {
    /// The object of `d`; image URLs are absolute under `base`.
    pub fn new(d: &'a OrganizationDomain, base: &str) -> Self {
        let r = &d.row;
        let affiliation = r.verification_status.as_deref().map(|status| VerificationObject {
            status,
            strategy: r.verification_strategy.as_deref().unwrap_or_default(),
            attempts: r.verification_attempts,
            expire_at: r.verification_expire_at,
            verified_at: None,
        });
        let ownership = r.ownership_status.as_deref().map(|status| OwnershipVerificationObject {
            status,
            strategy: r.ownership_strategy.as_deref().unwrap_or_default(),
            attempts: None,
            expire_at: None,
            verified_at: r.ownership_verified_at,
        });
        Self {
            object: "organization_domain",
            id: &r.id,
            organization_id: &r.organization_id,
            name: &r.name,
            enrollment_mode: &r.enrollment_mode,
            affiliation_email_address: r.affiliation_email_address.as_deref(),
            verification: affiliation.clone(),
            affiliation_verification: affiliation,
            ownership_verification: ownership,
            total_pending_invitations: d.pending_invitations,
            total_pending_suggestions: d.pending_suggestions,
            public_organization_data: d.organization.as_ref().map(|o| PublicOrganizationDataObject::new(o, base)),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
