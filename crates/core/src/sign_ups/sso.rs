//! Sign-ups through an enterprise connection (clerk-js's `<SignUp/>` with `strategy=enterprise_sso` or `saml`):
//! the e-mail address's domain finds the connection, as for a sign-in; the attempt records the address and an
//! unverified external-account verification (`verification_saml`, with the IdP URL the browser is sent to); the
//! request to the IdP continues the attempt instead of a sign-in. When the IdP's answer is verified at the ACS or
//! the OIDC callback (in the browser that started it, [`crate::enterprise_sso::binding`]), the user is provisioned
//! as in any enterprise SSO sign-in and the attempt completes with a session on its client, its address verified
//! by the IdP.

use tessera_store::Tx;
use tessera_store::sign_ups::{self as store, SignUpRow, SignUpVerificationRow};

use super::{ABANDON_AFTER_MS, SignUp, enforce_restrictions, status};
use crate::enterprise_sso::{self, Attempt, Start};
use crate::instances::Instance;
use crate::users::identifiers;
use crate::{Ctx, Error, Result, browser_clients, ids};

/// The verification field of the external account.
pub(super) const EXTERNAL_ACCOUNT: &str = "external_account";

fn verification(row: &SignUpRow, field: &str, status: &str, now: i64) -> SignUpVerificationRow {
    SignUpVerificationRow {
        sign_up_id: row.id.clone(),
        field: field.to_owned(),
        id: ids::new_id("ver"),
        instance_id: row.instance_id.clone(),
        strategy: enterprise_sso::VERIFICATION_STRATEGY.to_owned(),
        // No code: the identity provider is the proof.
        code_digest: Vec::new(),
        status: status.to_owned(),
        attempts: 0,
        expire_at: now + enterprise_sso::REQUEST_TTL_MS,
        created_at: now,
        updated_at: now,
    }
}

/// `POST /v1/client/sign_ups` with `strategy=enterprise_sso|saml` and `email_address`: a new attempt on the client
/// whose external-account verification names the IdP URL to send the browser to. A new address must pass the
/// allow and block lists; an address that has an account goes to the IdP too, whose answer then transfers the
/// attempt to a sign-in ([`crate::enterprise_sso::transfer`]), as with Clerk.
pub async fn create(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    (email, strategy): (Option<String>, &str),
    start: Start,
) -> Result<SignUp> {
    let raw = email.filter(|e| !e.trim().is_empty()).ok_or_else(|| Error::param_missing("email_address"))?;
    let email = identifiers::email("email_address", raw.trim())?;
    let sso = enterprise_sso::ready(ctx, instance, (&email, strategy, "email_address"), start).await?;
    let now = ctx.now_ms();
    let row = SignUpRow {
        id: ids::new_id("sua"),
        instance_id: instance.id.clone(),
        status: status::MISSING_REQUIREMENTS.into(),
        email_address: Some(email.clone()),
        unsafe_metadata: crate::users::create::metadata_text(None),
        public_metadata: crate::users::create::metadata_text(None),
        client_id: Some(client_id.to_owned()),
        abandon_at: now + ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
        ..SignUpRow::default()
    };
    if !identifiers::claimed(ctx, &instance.id, identifiers::EMAIL, &email).await? {
        enforce_restrictions(ctx, &instance.id, &row).await?;
    }
    let mut tx = ctx.db.begin().await?;
    let mut client = browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    store::insert(&mut tx, &row).await?;
    store::replace_verification(&mut tx, &verification(&row, EXTERNAL_ACCOUNT, "unverified", now)).await?;
    let attempt = Attempt::SignUp { id: &row.id, client_id };
    let url = sso.start_tx(ctx, &mut tx, instance, attempt, Some(&email)).await?;
    client.sign_up_id = Some(row.id.clone());
    browser_clients::save(&mut tx, &mut client, now).await?;
    tx.commit().await?;
    let mut s = super::get_sign_up(ctx, &instance.id, &row.id).await?;
    if let Some(v) = s.external_verification.as_mut() {
        v.redirect_url = Some(url);
    }
    Ok(s)
}

/// The attempt `id` of `client_id`, locked, while it can still complete; `refused` otherwise.
pub(crate) async fn lock_open_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    (instance_id, client_id, id): (&str, &str, &str),
    refused: fn(&str) -> Error,
) -> Result<SignUpRow> {
    let row = store::lock(tx, instance_id, id).await?.filter(|r| r.client_id.as_deref() == Some(client_id));
    let row = row.ok_or_else(super::not_found)?;
    if super::effective_status(&row, ctx.now_ms()) != status::MISSING_REQUIREMENTS {
        return Err(refused("The sign-up this answer is for is over."));
    }
    Ok(row)
}

/// Completes the attempt for `user_id`, whom the IdP's verified answer named: the external account and the address
/// are verified, a session opens on the attempt's client, and the client no longer has a sign-up in progress.
pub(crate) async fn complete_tx(ctx: &Ctx, tx: &mut Tx, mut row: SignUpRow, user_id: &str) -> Result<()> {
    let now = ctx.now_ms();
    store::replace_verification(tx, &verification(&row, EXTERNAL_ACCOUNT, "verified", now)).await?;
    store::replace_verification(tx, &verification(&row, identifiers::EMAIL, "verified", now)).await?;
    let client_id = row.client_id.clone().ok_or_else(super::not_found)?;
    let mut client = browser_clients::lock(tx, &row.instance_id, &client_id).await?;
    if client.sign_up_id.as_deref() == Some(row.id.as_str()) {
        client.sign_up_id = None;
    }
    let strategy = enterprise_sso::VERIFICATION_STRATEGY;
    let session = browser_clients::open_session_tx(ctx, tx, &mut client, user_id, strategy, None, now).await?;
    row.status = status::COMPLETE.into();
    row.created_user_id = Some(user_id.to_owned());
    row.created_session_id = Some(session.id);
    row.updated_at = now;
    store::update(tx, &row).await?;
    Ok(())
}

/// The IdP's answer names a person who already has an account: the external-account verification becomes
/// `transferable` (the attempt stays open, for clerk-js to continue with a sign-in).
pub(crate) async fn transferable_tx(ctx: &Ctx, tx: &mut Tx, row: &SignUpRow) -> Result<()> {
    let transferable = crate::enterprise_sso::transfer::TRANSFERABLE;
    store::replace_verification(tx, &verification(row, EXTERNAL_ACCOUNT, transferable, ctx.now_ms())).await?;
    Ok(())
}
