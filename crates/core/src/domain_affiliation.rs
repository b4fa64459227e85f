//! Affiliation verification of an organization domain by e-mail code: a member who manages the organization's
//! domains names an address at the domain (`prepare_affiliation_verification`), a six-digit code goes there, and
//! the right code (`attempt_affiliation_verification`) verifies the domain (strategy `email_code`).
//!
//! Codes work as the other one-time codes do ([`crate::users::verification`]): ten minutes, at most
//! [`MAX_ATTEMPTS`] attempts, only a keyed digest stored, compared in constant time; a wrong code is
//! `form_code_incorrect`, the attempt that uses up the last try and any later one `verification_failed`, an expired
//! code `verification_expired` — each after the attempt has been recorded. In test mode `+clerk_test` addresses take
//! `424242` and get no message. Every change emits `organizationDomain.updated`.

use serde_json::json;
use tessera_store::organization_domains as store;

use crate::crypto::constant_time_eq;
use crate::events::{self, EventType};
use crate::instances::Instance;
use crate::organization_domains::{OrganizationDomain, ensure_domains_enabled, not_found, organization_domain_data};
use crate::sender::{self, Channel, TemplatedMessage};
use crate::users::identifiers;
use crate::users::verification::{self, CODE_TTL_MS, MAX_ATTEMPTS, TEST_CODE, code_digest, new_code};
use crate::{Ctx, Error, ErrorCode, Result};

/// The strategy of an affiliation verified by code.
const STRATEGY: &str = "email_code";

/// `POST …/domains/{id}/prepare_affiliation_verification`: sends a code to `email`, which must be an address at the
/// domain. A domain already verified is refused (422 on the address).
pub async fn prepare(
    ctx: &Ctx,
    instance: &Instance,
    organization_id: &str,
    id: &str,
    email: Option<&str>,
) -> Result<OrganizationDomain> {
    ensure_domains_enabled(ctx, &instance.id, organization_id).await?;
    let param = "affiliation_email_address";
    let email = email.map(str::trim).filter(|e| !e.is_empty()).ok_or_else(|| Error::param_missing(param))?;
    let email = identifiers::email(param, email)?;
    let current = store::get(&ctx.db, &instance.id, organization_id, id).await?.ok_or_else(not_found)?;
    if email.rsplit_once('@').map(|(_, d)| d) != Some(current.name.as_str()) {
        return Err(Error::param_value_invalid(param, format!("The address must be at {}.", current.name)));
    }
    if current.verification_status.as_deref() == Some("verified") {
        return Err(Error::param_value_invalid(param, "The domain's affiliation is already verified."));
    }
    let now = ctx.now_ms();
    let test = verification::test_code_applies(ctx, &instance.id, &email).await?;
    let code = if test { TEST_CODE.to_owned() } else { new_code() };
    let msg = TemplatedMessage {
        channel: Channel::Email,
        slug: "verification_code",
        to: email.clone(),
        user_id: None,
        identification_id: None,
        data: json!({ "otp_code": code, "requested_at": sender::format_time(now) }),
    };
    // Rendering and any SMTP exchange happen before the transaction (they must not hold the writer).
    let prepared = if test { None } else { Some(sender::prepare(ctx, instance, msg).await?) };
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, &instance.id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock(&mut tx, &instance.id, &org.id, id).await?.ok_or_else(not_found)?;
    row.verification_status = Some("unverified".into());
    row.verification_strategy = Some(STRATEGY.into());
    row.affiliation_email_address = Some(email);
    row.verification_attempts = Some(0);
    row.verification_expire_at = Some(now + CODE_TTL_MS);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    // The code is bound to the domain and this verification's start, so an old code never verifies a new one.
    store::set_affiliation_code(&mut tx, &instance.id, &row.id, &code_digest(ctx, &binding(&row.id, now), &code))
        .await?;
    if let Some(prepared) = &prepared {
        sender::record(ctx, &mut tx, instance, prepared).await?;
    }
    let d = OrganizationDomain::of_tx(ctx, &mut tx, row, &org).await?;
    events::emit(ctx, &mut tx, &instance.id, EventType::OrganizationDomainUpdated, &organization_domain_data(&d))
        .await?;
    tx.commit().await?;
    Ok(d)
}

/// What a code digest binds: the domain and the moment its verification was prepared.
fn binding(id: &str, prepared_at: i64) -> String {
    format!("{id}:{prepared_at}")
}

/// `POST …/domains/{id}/attempt_affiliation_verification`: checks the code; the right one verifies the domain.
pub async fn attempt(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
    code: Option<&str>,
) -> Result<OrganizationDomain> {
    ensure_domains_enabled(ctx, instance_id, organization_id).await?;
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock(&mut tx, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    let digest = store::affiliation_code(&mut tx, instance_id, &row.id).await?;
    let (Some(digest), Some(expire_at), Some(STRATEGY)) =
        (digest, row.verification_expire_at, row.verification_strategy.as_deref())
    else {
        return Err(match row.verification_status.as_deref() {
            Some("verified") => Error::new(ErrorCode::VerificationAlreadyVerified),
            _ => Error::new(ErrorCode::VerificationMissing),
        });
    };
    match row.verification_status.as_deref() {
        Some("verified") => return Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        Some("failed") => return Err(Error::new(ErrorCode::VerificationFailed)),
        Some("expired") => return Err(Error::new(ErrorCode::VerificationExpired)),
        _ => {}
    }
    let attempts = row.verification_attempts.unwrap_or(0);
    let prepared_at = expire_at - CODE_TTL_MS;
    let status = if now >= expire_at {
        "expired"
    } else if constant_time_eq(&code_digest(ctx, &binding(&row.id, prepared_at), code), &digest) {
        row.verification_attempts = Some(attempts + 1);
        "verified"
    } else {
        row.verification_attempts = Some(attempts + 1);
        if attempts + 1 >= MAX_ATTEMPTS { "failed" } else { "unverified" }
    };
    row.verification_status = Some(status.into());
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    if status == "verified" && matches!(row.enrollment_mode.as_str(), "automatic_invitation" | "automatic_suggestion") {
        crate::domain_enrollment::enroll_domain_tx(ctx, &mut tx, instance_id, &row.id).await?;
    }
    let d = OrganizationDomain::of_tx(ctx, &mut tx, row, &org).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDomainUpdated, &organization_domain_data(&d))
        .await?;
    // The attempt counts even when it fails.
    tx.commit().await?;
    match status {
        "verified" => Ok(d),
        "expired" => Err(Error::new(ErrorCode::VerificationExpired)),
        "failed" => Err(Error::new(ErrorCode::VerificationFailed)),
        _ => Err(Error::with(ErrorCode::FormCodeIncorrect, "is incorrect", "Incorrect code", Some("code"))),
    }
}
