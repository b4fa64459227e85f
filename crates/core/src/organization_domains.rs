//! Organization domains: create, list (per organization and instance-wide), update, delete, and the manual
//! ownership override. Gated by the instance's organization settings (organizations on; verified domains on for
//! changes; automatic enrollment modes only when enabled). A name belongs to one organization of the instance.
//!
//! Affiliation verification (`affiliation_verification`, alias `verification`) is what `verified` sets: verified
//! by the admin (strategy `admin`), or absent. Ownership verification is set only by `verify_ownership`
//! (strategy `manual_override`); the DNS TXT challenge is a dashboard flow Tessera does not run.

use std::collections::HashMap;

use tessera_store::organization_domains::{self as store, DomainFilter, OrganizationDomainRow};

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::organization_invitations::PublicOrganization;
use crate::{Ctx, Error, ErrorCode, Result};

/// Enrollment modes the API may set (`enterprise_sso` comes from an enterprise connection, not from here).
pub const SETTABLE_MODES: &[&str] = &["manual_invitation", "automatic_invitation", "automatic_suggestion"];
/// Every enrollment mode, for filters.
pub const ALL_MODES: &[&str] = &["manual_invitation", "automatic_invitation", "automatic_suggestion", "enterprise_sso"];
/// Public email providers: a domain anyone can have an address at says nothing about affiliation.
const COMMON_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "mail.com",
    "yandex.com",
    "zoho.com",
];

/// A domain as the API shows it.
#[derive(Debug, Clone, Default)]
pub struct OrganizationDomain {
    /// The row.
    pub row: OrganizationDomainRow,
    /// Its organization.
    pub organization: Option<PublicOrganization>,
    /// Its pending automatic invitations.
    pub pending_invitations: i64,
    /// Its pending suggestions.
    pub pending_suggestions: i64,
}

impl OrganizationDomain {
    /// A domain with its pending counts, read inside the transaction that changed it.
    pub(crate) async fn of_tx(
        ctx: &Ctx,
        tx: &mut tessera_store::Tx,
        row: OrganizationDomainRow,
        org: &tessera_store::organizations::OrganizationRow,
    ) -> Result<Self> {
        let (pending_invitations, pending_suggestions) =
            tessera_store::domain_enrollment::pending_counts_tx(tx, &row.instance_id, &row.id, ctx.now_ms()).await?;
        Ok(Self { row, organization: Some(PublicOrganization::of(org)), pending_invitations, pending_suggestions })
    }

    /// Whether the domain enrolls users: verified, in an automatic mode.
    pub(crate) fn enrolls(&self) -> bool {
        self.row.verification_status.as_deref() == Some("verified")
            && matches!(self.row.enrollment_mode.as_str(), "automatic_invitation" | "automatic_suggestion")
    }
}

/// 404 for a domain.
pub fn not_found() -> Error {
    Error::not_found("organization domain")
}

/// Validates a domain name: lower-cased, at least two labels of letters, digits and inner dashes, not a public
/// email provider.
pub fn validate_name(value: &str) -> Result<String> {
    let name = value.trim().trim_end_matches('.').to_lowercase();
    if name.is_empty() {
        return Err(Error::param_missing("name"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_lowercase()));
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return Err(Error::param_format_invalid("name", "name must be a domain name, e.g. example.com."));
    }
    if COMMON_DOMAINS.contains(&name.as_str()) {
        return Err(Error::param_value_invalid(
            "name",
            format!("{name} is a public email provider and cannot be an organization domain."),
        ));
    }
    Ok(name)
}

/// Organizations on, the organization known (404 comes before any other judgement of the request), and verified
/// domains on.
pub(crate) async fn ensure_domains_enabled(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
) -> Result<crate::settings::types::OrganizationSettings> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let settings = crate::settings::organization_settings(ctx, instance_id).await?;
    if !settings.domains_enabled {
        return Err(Error::new(ErrorCode::OrganizationDomainsNotEnabled));
    }
    Ok(settings)
}

fn enrollment_mode(value: &str, enabled: &[String]) -> Result<String> {
    let mode = value.trim();
    if mode.is_empty() {
        return Err(Error::param_missing("enrollment_mode"));
    }
    if !SETTABLE_MODES.contains(&mode) {
        return Err(Error::param_value_invalid(
            "enrollment_mode",
            format!("enrollment_mode must be one of {}.", SETTABLE_MODES.join(", ")),
        ));
    }
    if mode != "manual_invitation" && !enabled.iter().any(|m| m == mode) {
        return Err(Error::param_value_invalid(
            "enrollment_mode",
            format!("The {mode} enrollment mode is not enabled for this instance."),
        ));
    }
    Ok(mode.to_owned())
}

fn set_verified(row: &mut OrganizationDomainRow, verified: bool) {
    if verified {
        row.verification_status = Some("verified".into());
        row.verification_strategy = Some("admin".into());
    } else {
        row.verification_status = None;
        row.verification_strategy = None;
        row.affiliation_email_address = None;
    }
    row.verification_attempts = None;
    row.verification_expire_at = None;
}

/// The `organizationDomain.*` event data of a domain.
pub(crate) fn organization_domain_data(d: &OrganizationDomain) -> serde_json::Value {
    crate::objects::organization_domain::organization_domain(d, "")
}

/// Creates a domain (verified unless `verified` is `Some(false)`).
pub async fn create(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    name: &str,
    mode: &str,
    verified: Option<bool>,
) -> Result<OrganizationDomain> {
    let settings = ensure_domains_enabled(ctx, instance_id, organization_id).await?;
    let name = validate_name(name)?;
    let mode = enrollment_mode(mode, &settings.domains_enrollment_modes)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    // The organization row lock serializes domain additions, so the quota holds.
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    if store::count_tx(&mut tx, instance_id, &org.id).await? >= settings.max_allowed_domains {
        return Err(Error::new(ErrorCode::OrganizationDomainQuotaExceeded));
    }
    let mut row = OrganizationDomainRow {
        id: new_id("orgdmn"),
        instance_id: instance_id.to_owned(),
        organization_id: org.id.clone(),
        name,
        enrollment_mode: mode,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    set_verified(&mut row, verified.unwrap_or(true));
    store::insert(&mut tx, &row).await.map_err(|e| {
        if e.is_unique_violation() {
            Error::with(
                ErrorCode::OrganizationDomainAlreadyExists,
                ErrorCode::OrganizationDomainAlreadyExists.message(),
                "This domain already belongs to an organization of this instance.",
                Some("name"),
            )
        } else {
            e.into()
        }
    })?;
    let d = OrganizationDomain { row, organization: Some(PublicOrganization::of(&org)), ..Default::default() };
    if d.enrolls() {
        crate::domain_enrollment::enroll_domain_tx(ctx, &mut tx, instance_id, &d.row.id).await?;
    }
    let d = OrganizationDomain::of_tx(ctx, &mut tx, d.row, &org).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDomainCreated, &organization_domain_data(&d))
        .await?;
    tx.commit().await?;
    Ok(d)
}

/// A change of [`update`]; absent fields do not change.
#[derive(Debug, Default)]
pub struct DomainUpdate {
    /// New enrollment mode.
    pub enrollment_mode: Option<String>,
    /// Verified by the admin, or not.
    pub verified: Option<bool>,
    /// Drop the domain's pending automatic invitations and suggestions.
    pub delete_pending: bool,
}

/// Updates a domain's enrollment mode or affiliation verification.
pub async fn update(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
    u: DomainUpdate,
) -> Result<OrganizationDomain> {
    let settings = ensure_domains_enabled(ctx, instance_id, organization_id).await?;
    let mode =
        u.enrollment_mode.as_deref().map(|m| enrollment_mode(m, &settings.domains_enrollment_modes)).transpose()?;
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock(&mut tx, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    if let Some(m) = mode {
        row.enrollment_mode = m;
    }
    if let Some(v) = u.verified {
        let already = row.verification_status.as_deref() == Some("verified");
        if v != already {
            set_verified(&mut row, v);
        }
    }
    row.updated_at = ctx.now_ms();
    store::update(&mut tx, &row).await?;
    if u.delete_pending {
        crate::domain_enrollment::drop_pending_tx(ctx, &mut tx, instance_id, &org, &row.id).await?;
    }
    let d = OrganizationDomain { row, organization: None, ..Default::default() };
    if d.enrolls() {
        crate::domain_enrollment::enroll_domain_tx(ctx, &mut tx, instance_id, &d.row.id).await?;
    }
    let d = OrganizationDomain::of_tx(ctx, &mut tx, d.row, &org).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDomainUpdated, &organization_domain_data(&d))
        .await?;
    tx.commit().await?;
    Ok(d)
}

/// Deletes a domain.
pub async fn delete(ctx: &Ctx, instance_id: &str, organization_id: &str, id: &str) -> Result<String> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let row = store::lock(&mut tx, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    store::delete(&mut tx, instance_id, &row.id).await?;
    let deleted = serde_json::json!({ "object": "organization_domain", "id": row.id, "deleted": true });
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDomainDeleted, &deleted).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// Marks ownership verified by the manual override. Idempotent: an already verified domain is returned as it is,
/// with no event.
pub async fn verify_ownership(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> Result<OrganizationDomain> {
    ensure_domains_enabled(ctx, instance_id, organization_id).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock(&mut tx, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    if row.ownership_status.as_deref() == Some("verified") {
        return OrganizationDomain::of_tx(ctx, &mut tx, row, &org).await;
    }
    row.ownership_status = Some("verified".into());
    row.ownership_strategy = Some("manual_override".into());
    row.ownership_verified_at = Some(now);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let d = OrganizationDomain::of_tx(ctx, &mut tx, row, &org).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDomainUpdated, &organization_domain_data(&d))
        .await?;
    tx.commit().await?;
    Ok(d)
}

/// One domain of an organization (404 for an unknown organization or domain).
pub async fn get(ctx: &Ctx, instance_id: &str, organization_id: &str, id: &str) -> Result<OrganizationDomain> {
    let org = tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let row = store::get(&ctx.db, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    let (pending_invitations, pending_suggestions) =
        tessera_store::domain_enrollment::pending_counts(&ctx.db, instance_id, &row.id, ctx.now_ms()).await?;
    Ok(OrganizationDomain {
        row,
        organization: Some(PublicOrganization::of(&org)),
        pending_invitations,
        pending_suggestions,
    })
}

/// A page of domains matching `filter`, and the total.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    filter: &DomainFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrganizationDomain>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, filter, limit, offset).await?;
    let mut orgs: HashMap<String, Option<PublicOrganization>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if !orgs.contains_key(&row.organization_id) {
            let o = tessera_store::organizations::get(&ctx.db, instance_id, &row.organization_id).await?;
            orgs.insert(row.organization_id.clone(), o.as_ref().map(PublicOrganization::of));
        }
        let organization = orgs.get(&row.organization_id).cloned().flatten();
        let (pending_invitations, pending_suggestions) =
            tessera_store::domain_enrollment::pending_counts(&ctx.db, instance_id, &row.id, ctx.now_ms()).await?;
        out.push(OrganizationDomain { row, organization, pending_invitations, pending_suggestions });
    }
    Ok((out, total))
}

/// A page of one organization's domains (404 for an unknown organization).
pub async fn list_for_organization(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    mut filter: DomainFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrganizationDomain>, i64)> {
    let org = tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    filter.organization_id = Some(org.id);
    list(ctx, instance_id, &filter, limit, offset).await
}

/// Splits enrollment-mode filter values into included and excluded (`-mode`) modes; unknown modes fail.
pub fn mode_filter(values: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let (neg, mode) = match v.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, v),
        };
        if !ALL_MODES.contains(&mode) {
            return Err(Error::query_param_invalid(
                "enrollment_mode",
                format!("enrollment_mode must be one of {} (optionally prefixed with -).", ALL_MODES.join(", ")),
            ));
        }
        if neg { exclude.push(mode.to_owned()) } else { include.push(mode.to_owned()) }
    }
    Ok((include, exclude))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        assert_eq!(validate_name(" Example.COM ").unwrap(), "example.com");
        assert_eq!(validate_name("a-b.example.co").unwrap(), "a-b.example.co");
        assert!(validate_name("localhost").is_err());
        assert!(validate_name("-a.com").is_err());
        assert!(validate_name("a..com").is_err());
        assert!(validate_name("exa mple.com").is_err());
        assert!(validate_name("example.c0m").is_err());
        assert!(validate_name("gmail.com").is_err());
        assert!(mode_filter(&["-enterprise_sso".into(), "manual_invitation".into()]).is_ok());
        assert!(mode_filter(&["nope".into()]).is_err());
    }
}
