//! `organization_domain` objects (also the data of `organizationDomain.*` events).

use serde_json::{Value, json};

use crate::organization_domains::OrganizationDomain;

/// `OrganizationDomainVerification`, or `null` when never attempted.
fn verification(
    status: Option<&str>,
    strategy: Option<&str>,
    attempts: Option<i64>,
    expire_at: Option<i64>,
    verified_at: Option<i64>,
) -> Value {
    match status {
        None => Value::Null,
        Some(status) => json!({
            "status": status,
            "strategy": strategy.unwrap_or_default(),
            "attempts": attempts,
            "expire_at": expire_at,
            "verified_at": verified_at,
        }),
    }
}

/// `OrganizationDomain`, with the counts of its pending automatic invitations and suggestions.
pub fn organization_domain(d: &OrganizationDomain, base: &str) -> Value {
    let r = &d.row;
    let affiliation = verification(
        r.verification_status.as_deref(),
        r.verification_strategy.as_deref(),
        r.verification_attempts,
        r.verification_expire_at,
        None,
    );
    json!({
        "object": "organization_domain",
        "id": r.id,
        "organization_id": r.organization_id,
        "name": r.name,
        "enrollment_mode": r.enrollment_mode,
        "affiliation_email_address": r.affiliation_email_address,
        "affiliation_verification": affiliation,
        "ownership_verification": verification(
            r.ownership_status.as_deref(),
            r.ownership_strategy.as_deref(),
            None,
            None,
            r.ownership_verified_at,
        ),
        "verification": affiliation,
        "total_pending_invitations": d.pending_invitations,
        "total_pending_suggestions": d.pending_suggestions,
        "public_organization_data": d.organization.as_ref()
            .map(|o| crate::objects::organization_invitation::public_organization(o, base)),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}
