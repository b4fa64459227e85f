//! Instance invitations: create (one or a bulk of up to 10, all or nothing), list, revoke, erase. The invitation e-mail
//! goes through [`crate::sender`]. Status is `revoked`, `accepted`, `expired` (by the clock) or `pending`.

use serde_json::{Map, Value};
use tessera_store::invitations::{self as store, InvitationRow};

use crate::ids::new_id;
use crate::instances::Instance;
use crate::sender::{self, Channel, Prepared, TemplatedMessage};
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result};
use tessera_store::Tx;

/// Default lifetime (Clerk: 30 days).
pub const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// An invitation as the API shows it.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The row.
    pub row: InvitationRow,
    /// Status at the time of reading.
    pub status: &'static str,
    /// Public metadata.
    pub public_metadata: Value,
    /// The invitation's link with its ticket ([`crate::invitation_tickets`]); known where it is created.
    pub url: Option<String>,
}

impl Invitation {
    /// The invitation of a row, with its status at `now`.
    pub fn of(row: InvitationRow, now: i64) -> Self {
        let status = if row.revoked {
            "revoked"
        } else if row.accepted_at.is_some() {
            "accepted"
        } else if row.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "pending"
        };
        let public_metadata = crate::users::metadata(&row.public_metadata);
        Self { row, status, public_metadata, url: None }
    }
}

/// One invitation to create.
#[derive(Debug, Default)]
pub struct NewInvitation {
    /// The invitee.
    pub email_address: String,
    /// 1–365; default 30.
    pub expires_in_days: Option<i64>,
    /// Create even if a pending invitation exists or a user holds the address.
    pub ignore_existing: bool,
    /// Send the invitation e-mail (default true).
    pub notify: bool,
    /// Metadata for the future user.
    pub public_metadata: Option<Map<String, Value>>,
    /// Where the link leads.
    pub redirect_url: Option<String>,
    /// `invitation` (default) or `waitlist_invitation`.
    pub template_slug: Option<String>,
}

/// The invitation e-mail, from the `invitation` or `waitlist_invitation` template; its link is the invitation's
/// ticket URL, which leads on to the redirect URL (else the hosted sign-up page) with the ticket.
fn message(row: &InvitationRow, action_url: String) -> TemplatedMessage {
    TemplatedMessage {
        channel: Channel::Email,
        slug: if row.template_slug == "waitlist_invitation" { "waitlist_invitation" } else { "invitation" },
        to: row.email_address.clone(),
        user_id: None,
        identification_id: None,
        data: serde_json::json!({
            "action_url": action_url,
            "invitation": { "public_metadata": crate::users::metadata(&row.public_metadata) },
        }),
    }
}

/// Creates invitations, all in one transaction; `params` prefixes parameter names (`[0].email_address` in bulk).
pub async fn create(ctx: &Ctx, instance: &Instance, inputs: Vec<NewInvitation>, bulk: bool) -> Result<Vec<Invitation>> {
    let rows = prepare(ctx, instance, &inputs, bulk).await?;
    let prepared = send(ctx, instance, &rows, &inputs).await?;
    let mut tx = ctx.db.begin().await?;
    let created = insert(ctx, &mut tx, instance, rows, &inputs, &prepared, bulk).await?;
    tx.commit().await?;
    Ok(created)
}

/// Validates the inputs into rows (no writes); see [`create`].
pub async fn prepare(
    ctx: &Ctx,
    instance: &Instance,
    inputs: &[NewInvitation],
    bulk: bool,
) -> Result<Vec<InvitationRow>> {
    let now = ctx.now_ms();
    let param = |i: usize, p: &str| if bulk { format!("[{i}].{p}") } else { p.to_owned() };
    let mut rows = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let email = identifiers::email(&param(i, "email_address"), &input.email_address)?;
        crate::restriction_lists::enforce(ctx, &instance.id, identifiers::EMAIL, &email).await?;
        let days = input.expires_in_days.unwrap_or(DEFAULT_DAYS);
        if !(1..=365).contains(&days) {
            return Err(Error::param_value_invalid(
                &param(i, "expires_in_days"),
                "expires_in_days must be between 1 and 365.",
            ));
        }
        let template = input.template_slug.clone().unwrap_or_else(|| "invitation".into());
        if !matches!(template.as_str(), "invitation" | "waitlist_invitation") {
            return Err(Error::param_value_invalid(
                &param(i, "template_slug"),
                "template_slug must be `invitation` or `waitlist_invitation`.",
            ));
        }
        if let Some(url) = input.redirect_url.as_deref().filter(|u| !u.is_empty())
            && url::Url::parse(url).is_err()
        {
            return Err(Error::param_format_invalid(
                &param(i, "redirect_url"),
                "redirect_url must be an absolute URL.",
            ));
        }
        rows.push(InvitationRow {
            id: new_id("inv"),
            instance_id: instance.id.clone(),
            email_address: email,
            public_metadata: Value::Object(input.public_metadata.clone().unwrap_or_default()).to_string(),
            redirect_url: input.redirect_url.clone().filter(|u| !u.is_empty()),
            template_slug: template,
            revoked: false,
            accepted_at: None,
            expires_at: Some(now + days * DAY_MS),
            created_at: now,
            updated_at: now,
            email_id: None,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (row, input)) in rows.iter().zip(inputs).enumerate() {
        if !input.ignore_existing && !seen.insert(row.email_address.clone()) {
            return Err(duplicate(&param(i, "email_address"), &row.email_address));
        }
    }
    Ok(rows)
}

/// Renders and sends the invitation e-mails of prepared rows (`None` where `notify` is off); [`insert`] records
/// them. Deliveries come before the transaction (an SMTP exchange must not hold the writer); a production instance
/// without SMTP fails here.
pub async fn send(
    ctx: &Ctx,
    instance: &Instance,
    rows: &[InvitationRow],
    inputs: &[NewInvitation],
) -> Result<Vec<Option<Prepared>>> {
    let mut prepared = Vec::with_capacity(rows.len());
    for (row, input) in rows.iter().zip(inputs) {
        let url = crate::invitation_tickets::url(ctx, instance, &row.id, row.expires_at);
        let sent = if input.notify { Some(sender::prepare(ctx, instance, message(row, url)).await?) } else { None };
        prepared.push(sent);
    }
    Ok(prepared)
}

/// Checks and inserts prepared rows in the caller's transaction (which it does not commit).
pub async fn insert(
    ctx: &Ctx,
    tx: &mut Tx,
    instance: &Instance,
    mut rows: Vec<InvitationRow>,
    inputs: &[NewInvitation],
    prepared: &[Option<Prepared>],
    bulk: bool,
) -> Result<Vec<Invitation>> {
    let now = ctx.now_ms();
    let param = |i: usize, p: &str| if bulk { format!("[{i}].{p}") } else { p.to_owned() };
    for (i, ((row, input), prepared)) in rows.iter_mut().zip(inputs).zip(prepared).enumerate() {
        row.email_id = prepared.as_ref().map(|p| p.id.clone());
        if !input.ignore_existing {
            if crate::users::identifiers::email_claimed_tx(tx, &instance.id, &row.email_address).await? {
                return Err(Error::identifier_exists(&param(i, "email_address")));
            }
            if store::pending_exists(tx, &instance.id, &row.email_address, now).await? {
                return Err(duplicate(&param(i, "email_address"), &row.email_address));
            }
        }
        store::insert(tx, &*row).await?;
        if let Some(p) = prepared {
            sender::record(ctx, tx, instance, p).await?;
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let url = crate::invitation_tickets::url(ctx, instance, &r.id, r.expires_at);
            Invitation { url: Some(url), ..Invitation::of(r, now) }
        })
        .collect())
}

fn duplicate(param: &str, email: &str) -> Error {
    Error::with(
        ErrorCode::DuplicateRecord,
        "duplicate invitation",
        format!("There are already pending invitations for the following email addresses: {email}"),
        Some(param),
    )
}

/// A page of invitations.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    status: Option<&str>,
    query: Option<&str>,
    order: (&str, bool),
    limit: i64,
    offset: i64,
) -> Result<(Vec<Invitation>, i64)> {
    let now = ctx.now_ms();
    let dir = if order.1 { "DESC" } else { "ASC" };
    let column = match order.0 {
        "email_address" => "email_address",
        "expires_at" => "expires_at",
        _ => "created_at",
    };
    let order_sql = format!("{column} {dir}, id {dir}");
    let (rows, total) = store::list(&ctx.db, instance_id, status, query, &order_sql, limit, offset, now).await?;
    Ok((rows.into_iter().map(|r| Invitation::of(r, now)).collect(), total))
}

/// Revokes a pending invitation.
pub async fn revoke(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Invitation> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(|| Error::not_found("invitation"))?;
    let current = Invitation::of(row, now);
    if current.status != "pending" {
        return Err(Error::with(
            ErrorCode::BadRequest,
            "invitation not pending",
            format!("Only pending invitations can be revoked; this one is {}.", current.status),
            None,
        ));
    }
    store::revoke(&mut tx, instance_id, id, now).await?;
    tx.commit().await?;
    let mut row = current.row;
    row.revoked = true;
    row.updated_at = now;
    Ok(Invitation::of(row, now))
}

/// Erases an invitation of any status, with the stored copies of its e-mail (the development outbox's and the
/// `email.created` event's): `invitations.deleteInvitation`, for data erasure requests. Returns the id.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<String> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(|| Error::not_found("invitation"))?;
    if let Some(email_id) = &row.email_id {
        sender::erase_copies(&mut tx, instance_id, email_id).await?;
    }
    store::delete(&mut tx, instance_id, id).await?;
    tx.commit().await?;
    Ok(row.id)
}
