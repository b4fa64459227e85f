//! The end every enterprise SSO sign-in shares, whatever the protocol: once the IdP's answer is verified, the
//! person it names is found by their enterprise account, else linked by an e-mail address the IdP vouches for,
//! else created (just-in-time, unless the connection disables it — for a sign-in through a transfer to a sign-up,
//! [`super::transfer`]); the account is written, attributes synced when asked, the user joins the connection's
//! organization, and the attempt completes with a session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_store::sso::{self as store, EnterpriseAccountRow};

use crate::enterprise_connections::EnterpriseConnection;
use crate::instances::Instance;
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// Who the IdP says signed in, once its answer verified (kept as JSON while it waits for a transfer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// The subject at the IdP (NameID, mapped attribute, or the ID token's `sub`).
    pub subject: String,
    /// The e-mail address (normalized).
    pub email: String,
    /// Whether the IdP vouches for the address (SAML: by asserting it; OIDC: `email_verified`). Only such an
    /// address links to an existing account.
    pub email_verified: bool,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Custom attributes for `public_metadata`.
    pub metadata: Map<String, Value>,
}

/// Whether `email` is in one of the connection's domains (or under one, when it allows subdomains).
pub(crate) fn in_connection_domains(c: &EnterpriseConnection, email: &str) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else { return false };
    let domain = domain.to_ascii_lowercase();
    c.domains.iter().any(|d| domain == *d || (c.row.allow_subdomains && domain.ends_with(&format!(".{d}"))))
}

/// The checks made before the transaction: the address must be in the connection's domains (an IdP speaks only
/// for its company's addresses), and a user this sign-in would create must pass the instance's allow and block
/// lists as any sign-up (read before: SQLite's writer must not wait on a read).
pub(crate) async fn precheck(
    ctx: &Ctx,
    instance: &Instance,
    c: &EnterpriseConnection,
    who: &Identity,
    refused: fn(&str) -> Error,
) -> Result<()> {
    if !in_connection_domains(c, &who.email) {
        return Err(refused("The e-mail address is not in the connection's domains."));
    }
    let key = identifiers::email_key(&who.email);
    if tessera_store::sign_ins::user_by_identification(&ctx.db, &instance.id, identifiers::EMAIL, &key).await?.is_none()
    {
        crate::restriction_lists::enforce(ctx, &instance.id, identifiers::EMAIL, &who.email).await?;
    }
    Ok(())
}

/// Completes the sign-in `sign_in_id` of `client_id` for `who`, inside the caller's transaction. A person without
/// an account is not created here: if the connection provisions just in time, the sign-in becomes transferable
/// ([`super::transfer`]) and clerk-js continues with a sign-up (or, told `transferable: false`, does not).
pub(crate) async fn sign_in_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    (instance, c): (&Instance, &EnterpriseConnection),
    who: Identity,
    (client_id, sign_in_id): (&str, &str),
    refused: fn(&str) -> Error,
) -> Result<()> {
    let now = ctx.now_ms();
    let mut sign_in = tessera_store::sign_ins::lock(tx, &instance.id, client_id, sign_in_id)
        .await?
        .ok_or_else(crate::sign_ins::not_found)?;
    if sign_in.status == crate::sign_ins::status::COMPLETE || sign_in.abandon_at <= now {
        return Err(refused("The sign-in this answer is for is over."));
    }
    if existing_user_tx(tx, instance, c, &who, refused).await?.is_none() {
        if c.row.disable_jit_provisioning {
            return Err(Error::new(ErrorCode::SamlJitProvisioningDisabled));
        }
        super::transfer::record_tx(ctx, tx, (&instance.id, client_id, sign_in_id), c, &who).await?;
        // As Clerk shows it: the identifier step is what remains of this sign-in (clerk-js reads the verification;
        // a `needs_first_factor` sign-in without factors would send it to the first-factor page instead).
        sign_in.status = crate::sign_ins::status::NEEDS_IDENTIFIER.into();
        sign_in.user_id = None;
        sign_in.identifier = sign_in.identifier.or(Some(who.email));
        sign_in.ff_strategy = Some(super::VERIFICATION_STRATEGY.into());
        sign_in.ff_status = Some(super::transfer::TRANSFERABLE.into());
        sign_in.updated_at = now;
        tessera_store::sign_ins::update(tx, &sign_in).await?;
        return Ok(());
    }
    let user_id = account_tx(ctx, tx, (instance, c), &who, None, refused).await?;
    sign_in.user_id = Some(user_id.clone());
    sign_in.identifier = sign_in.identifier.or(Some(who.email));
    sign_in.ff_strategy = Some(super::VERIFICATION_STRATEGY.into());
    sign_in.ff_status = Some("verified".into());
    let mut client = crate::browser_clients::lock(tx, &instance.id, client_id).await?;
    crate::sign_ins::complete_sso_tx(ctx, tx, &mut client, &mut sign_in, now).await?;
    crate::users::emit_user(ctx, tx, &instance.id, &user_id, crate::events::EventType::UserUpdated).await
}

/// Completes the sign-up attempt `sign_up_id` of `client_id` for `who` (`sign_ups::sso`), inside the caller's
/// transaction. A person who already has an account is not signed up twice: the attempt becomes transferable
/// ([`super::transfer`]) and clerk-js continues with a sign-in.
pub(crate) async fn sign_up_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    (instance, c): (&Instance, &EnterpriseConnection),
    who: Identity,
    (client_id, sign_up_id): (&str, &str),
    refused: fn(&str) -> Error,
) -> Result<()> {
    let row = crate::sign_ups::sso::lock_open_tx(ctx, tx, (&instance.id, client_id, sign_up_id), refused).await?;
    if let Some(existing) = existing_user_tx(tx, instance, c, &who, refused).await? {
        if let Some(user) = crate::users::get_user_tx(ctx, tx, &instance.id, &existing).await? {
            crate::sign_ins::gate(&user)?;
        }
        super::transfer::record_tx(ctx, tx, (&instance.id, client_id, sign_up_id), c, &who).await?;
        return crate::sign_ups::sso::transferable_tx(ctx, tx, &row).await;
    }
    let user_id = account_tx(ctx, tx, (instance, c), &who, None, refused).await?;
    if let Some(user) = crate::users::get_user_tx(ctx, tx, &instance.id, &user_id).await? {
        crate::sign_ins::gate(&user)?;
    }
    crate::sign_ups::sso::complete_tx(ctx, tx, row, &user_id).await?;
    crate::users::emit_user(ctx, tx, &instance.id, &user_id, crate::events::EventType::UserUpdated).await
}

/// The user `who` is, with their enterprise account at `c` written (found, linked or created just in time; a user
/// it creates gets `unsafe_metadata`, a transferred sign-up's), attributes synced when the connection asks, and
/// membership of its organization; inside the caller's transaction. Returns the user's id.
pub(crate) async fn account_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    (instance, c): (&Instance, &EnterpriseConnection),
    who: &Identity,
    unsafe_metadata: Option<Map<String, Value>>,
    refused: fn(&str) -> Error,
) -> Result<String> {
    let now = ctx.now_ms();
    let account = store::account_by_subject_tx(tx, &instance.id, &c.row.id, &who.subject).await?;
    let user_id = match &account {
        Some(a) => a.user_id.clone(),
        None => new_account_user_tx(ctx, tx, (instance, c), who, unsafe_metadata, refused).await?,
    };
    let mut row = account.unwrap_or_else(|| EnterpriseAccountRow {
        id: ids::new_id("eac"),
        instance_id: instance.id.clone(),
        user_id: user_id.clone(),
        connection_id: c.row.id.clone(),
        provider_user_id: who.subject.clone(),
        created_at: now,
        ..Default::default()
    });
    row.email_address = who.email.clone();
    row.first_name = who.first_name.clone();
    row.last_name = who.last_name.clone();
    row.public_metadata = Value::Object(who.metadata.clone()).to_string();
    row.last_authenticated_at = Some(now);
    row.updated_at = now;
    store::upsert_account(tx, &row).await?;
    if c.row.sync_user_attributes {
        sync_attributes_tx(tx, instance, &user_id, who, now).await?;
    }
    if let Some(org_id) = c.row.organization_id.as_deref() {
        join_organization_tx(ctx, tx, instance, org_id, &user_id).await?;
    }
    Ok(user_id)
}

/// The user `who` already is: by their enterprise account at this connection, else by a linked address
/// ([`linked_user_tx`]); `None` for a person without an account.
async fn existing_user_tx(
    tx: &mut tessera_store::Tx,
    instance: &Instance,
    c: &EnterpriseConnection,
    who: &Identity,
    refused: fn(&str) -> Error,
) -> Result<Option<String>> {
    if let Some(a) = store::account_by_subject_tx(tx, &instance.id, &c.row.id, &who.subject).await? {
        return Ok(Some(a.user_id));
    }
    linked_user_tx(tx, instance, who, refused).await
}

/// The holder of `who`'s address, when the IdP vouches for it (the account is linked to them).
async fn linked_user_tx(
    tx: &mut tessera_store::Tx,
    instance: &Instance,
    who: &Identity,
    refused: fn(&str) -> Error,
) -> Result<Option<String>> {
    let key = identifiers::email_key(&who.email);
    if let Some(uid) =
        tessera_store::sign_ins::user_by_identification_tx(tx, &instance.id, identifiers::EMAIL, &key).await?
    {
        if !who.email_verified {
            return Err(refused(
                "The identity provider did not verify the e-mail address, so it is not linked to the existing \
                 account that has it.",
            ));
        }
        return Ok(Some(uid));
    }
    Ok(None)
}

/// The user of an enterprise account not yet known at this connection: the holder of the address
/// ([`linked_user_tx`]), else a new user (unless just-in-time provisioning is disabled).
async fn new_account_user_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    (instance, c): (&Instance, &EnterpriseConnection),
    who: &Identity,
    unsafe_metadata: Option<Map<String, Value>>,
    refused: fn(&str) -> Error,
) -> Result<String> {
    if let Some(uid) = linked_user_tx(tx, instance, who, refused).await? {
        return Ok(uid);
    }
    if c.row.disable_jit_provisioning {
        return Err(Error::new(ErrorCode::SamlJitProvisioningDisabled));
    }
    let input = crate::users::create::NewUser {
        email_address: vec![who.email.clone()],
        first_name: who.first_name.clone(),
        last_name: who.last_name.clone(),
        unsafe_metadata,
        skip_password_checks: true,
        ..Default::default()
    };
    let mut prepared = crate::users::create::prepare(ctx, &instance.id, input).await?;
    for i in &mut prepared.idents {
        // The Backend API's e-mail verifications know `saml` for an enterprise IdP's (its pattern for
        // `from_oauth_…` admits no connection provider), as its enterprise accounts' verifications do.
        i.verification_strategy = Some(super::VERIFICATION_STRATEGY.into());
    }
    let user = crate::users::create::insert_tx(ctx, tx, &instance.id, &prepared).await?;
    user.map(|u| u.id).ok_or_else(crate::users::not_found)
}

/// With `sync_user_attributes`: the user's names and custom attributes follow the IdP on each sign-in.
async fn sync_attributes_tx(
    tx: &mut tessera_store::Tx,
    instance: &Instance,
    user_id: &str,
    who: &Identity,
    now: i64,
) -> Result<()> {
    let Some(mut row) = tessera_store::users::lock(tx, &instance.id, user_id).await? else { return Ok(()) };
    if who.first_name.is_some() {
        row.first_name.clone_from(&who.first_name);
    }
    if who.last_name.is_some() {
        row.last_name.clone_from(&who.last_name);
    }
    if !who.metadata.is_empty() {
        let mut public = crate::users::metadata(&row.public_metadata);
        if let Some(obj) = public.as_object_mut() {
            for (k, v) in &who.metadata {
                obj.insert(k.clone(), v.clone());
            }
        }
        row.public_metadata = public.to_string();
    }
    row.updated_at = now;
    tessera_store::users::update_profile(tx, &row).await?;
    Ok(())
}

/// Makes the user a member of the connection's organization (with the instance's default role for domain
/// members), unless they are one already.
async fn join_organization_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance: &Instance,
    organization_id: &str,
    user_id: &str,
) -> Result<()> {
    let Some(org) = tessera_store::organizations::lock(tx, &instance.id, organization_id).await? else {
        return Ok(());
    };
    let role = crate::settings::organization_settings_tx(tx, &instance.id).await?.domains_default_role;
    match crate::organizations::memberships::add_member_tx(
        ctx,
        tx,
        &instance.id,
        &org,
        user_id,
        &role,
        ("{}".into(), "{}".into()),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == ErrorCode::AlreadyAMemberInOrganization => Ok(()),
        Err(e) => Err(e),
    }
}
