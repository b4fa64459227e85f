//! The waitlist: entries by e-mail address (one per address; adding one again returns the existing entry),
//! listed, deleted while pending, invited (an instance invitation with the `waitlist_invitation` template, made by
//! [`crate::invitations`] in the same transaction) or rejected.
//!
//! Status transitions: `pending` → `invited` | `rejected`; `rejected` → `invited`; `invited` → `rejected` (its
//! pending invitation is revoked). `completed` (the invitee signed up, through the Frontend API) is final.

use std::collections::{HashMap, HashSet};

use tessera_store::waitlist_entries::{self as store, WaitlistEntryRow, WaitlistOrder};

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::instances::Instance;
use crate::invitations::{self, Invitation, NewInvitation};
use crate::sender::{self, Channel, Message};
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result};

/// Most entries of one bulk request.
pub const MAX_BULK: usize = 50;

/// A waitlist entry as the API shows it.
#[derive(Debug, Clone)]
pub struct WaitlistEntry {
    /// The row.
    pub row: WaitlistEntryRow,
    /// The invitation sent to it, if any.
    pub invitation: Option<Invitation>,
}

/// 404 for an entry.
pub fn not_found() -> Error {
    Error::not_found("waitlist entry")
}

fn conflict(why: String) -> Error {
    Error::with(ErrorCode::Conflict, ErrorCode::Conflict.message(), why, None)
}

fn joined(email: &str) -> Message {
    Message {
        channel: Channel::Email,
        to: email.to_owned(),
        subject: "You have joined the waitlist".into(),
        body: "You have joined the waitlist. We will let you know when you can sign up.\n".into(),
    }
}

fn data(e: &WaitlistEntry) -> serde_json::Value {
    crate::objects::waitlist_entry::waitlist_entry(e)
}

/// One address to add, and whether to send the confirmation e-mail.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The address.
    pub email_address: String,
    /// Send the confirmation e-mail (default true).
    pub notify: bool,
}

/// Adds addresses to the waitlist in one transaction; addresses already on it return their existing entry.
pub async fn create(ctx: &Ctx, instance: &Instance, inputs: Vec<NewEntry>, bulk: bool) -> Result<Vec<WaitlistEntry>> {
    let param = |i: usize| if bulk { format!("[{i}].email_address") } else { "email_address".to_owned() };
    let mut emails = Vec::new();
    let mut seen = HashSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let email = identifiers::email(&param(i), &input.email_address)?;
        crate::restriction_lists::enforce(ctx, &instance.id, identifiers::EMAIL, &email).await?;
        if !seen.insert(email.clone()) {
            return Err(Error::param_value_invalid(
                &param(i),
                format!("{email} appears more than once in the request."),
            ));
        }
        emails.push(email);
    }
    // Confirmations go out before the transaction (SMTP must not hold the writer), only to new addresses.
    let existing: HashSet<String> =
        store::by_emails(&ctx.db, &instance.id, &emails).await?.into_iter().map(|e| e.email_address).collect();
    for (email, input) in emails.iter().zip(&inputs) {
        if input.notify && !existing.contains(email) {
            sender::send_external(ctx, instance, &joined(email)).await?;
        }
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut rows = Vec::new();
    for (email, input) in emails.iter().zip(&inputs) {
        if let Some(row) = store::by_email_tx(&mut tx, &instance.id, email).await? {
            rows.push((row, false));
            continue;
        }
        let row = WaitlistEntryRow {
            id: new_id("wle"),
            instance_id: instance.id.clone(),
            email_address: email.clone(),
            status: "pending".into(),
            invitation_id: None,
            invited_at: None,
            created_at: now,
            updated_at: now,
        };
        store::insert(&mut tx, &row).await?;
        if input.notify && !existing.contains(email) {
            sender::capture(ctx, &mut tx, instance, &joined(email)).await?;
        }
        let entry = WaitlistEntry { row: row.clone(), invitation: None };
        events::emit(ctx, &mut tx, &instance.id, EventType::WaitlistEntryCreated, &data(&entry)).await?;
        rows.push((row, true));
    }
    tx.commit().await?;
    hydrate(ctx, &instance.id, rows.into_iter().map(|(r, _)| r).collect()).await
}

/// Attaches the invitations of invited entries.
async fn hydrate(ctx: &Ctx, instance_id: &str, rows: Vec<WaitlistEntryRow>) -> Result<Vec<WaitlistEntry>> {
    let ids: Vec<String> = rows.iter().filter_map(|r| r.invitation_id.clone()).collect();
    let now = ctx.now_ms();
    let invitations: HashMap<String, Invitation> = store::invitations(&ctx.db, instance_id, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), Invitation::of(r, now)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let invitation = row.invitation_id.as_ref().and_then(|id| invitations.get(id).cloned());
            WaitlistEntry { row, invitation }
        })
        .collect())
}

/// A page of entries, and the total.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    query: Option<&str>,
    status: Option<&str>,
    order: WaitlistOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WaitlistEntry>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, query, status, order, descending, limit, offset).await?;
    Ok((hydrate(ctx, instance_id, rows).await?, total))
}

/// Deletes a pending entry (409 for any other status).
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if row.status != "pending" {
        return Err(conflict(format!("Only pending waitlist entries can be deleted; this one is {}.", row.status)));
    }
    store::delete(&mut tx, instance_id, id).await?;
    tx.commit().await?;
    Ok(())
}

fn ensure_invitable(row: &WaitlistEntryRow) -> Result<()> {
    if matches!(row.status.as_str(), "pending" | "rejected") {
        Ok(())
    } else {
        Err(conflict(format!("Only pending or rejected waitlist entries can be invited; this one is {}.", row.status)))
    }
}

/// Invites an entry: an instance invitation (`waitlist_invitation` template, e-mailed), in the same transaction.
pub async fn invite(ctx: &Ctx, instance: &Instance, id: &str, ignore_existing: bool) -> Result<WaitlistEntry> {
    let current = store::get(&ctx.db, &instance.id, id).await?.ok_or_else(not_found)?;
    ensure_invitable(&current)?;
    let inputs = vec![NewInvitation {
        email_address: current.email_address.clone(),
        ignore_existing,
        notify: true,
        template_slug: Some("waitlist_invitation".into()),
        ..Default::default()
    }];
    let rows = invitations::prepare(ctx, instance, &inputs, false).await?;
    let prepared = invitations::send(ctx, instance, &rows, &inputs).await?;
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, id).await?.ok_or_else(not_found)?;
    ensure_invitable(&row)?;
    let invitation = invitations::insert(ctx, &mut tx, instance, rows, &inputs, &prepared, false)
        .await?
        .pop()
        .ok_or_else(|| Error::new(ErrorCode::InternalClerkError))?;
    let now = ctx.now_ms();
    row.status = "invited".into();
    row.invitation_id = Some(invitation.row.id.clone());
    row.invited_at = Some(now);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let entry = WaitlistEntry { row, invitation: Some(invitation) };
    events::emit(ctx, &mut tx, &instance.id, EventType::WaitlistEntryUpdated, &data(&entry)).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Rejects a pending or invited entry; an invited entry's pending invitation is revoked.
pub async fn reject(ctx: &Ctx, instance_id: &str, id: &str) -> Result<WaitlistEntry> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if !matches!(row.status.as_str(), "pending" | "invited") {
        return Err(conflict(format!(
            "Only pending or invited waitlist entries can be rejected; this one is {}.",
            row.status
        )));
    }
    let mut invitation = None;
    if let Some(inv_id) = &row.invitation_id
        && let Some(inv) = tessera_store::invitations::lock(&mut tx, instance_id, inv_id).await?
    {
        let mut inv = Invitation::of(inv, now);
        if inv.status == "pending" {
            tessera_store::invitations::revoke(&mut tx, instance_id, inv_id, now).await?;
            inv.row.revoked = true;
            inv.row.updated_at = now;
            inv = Invitation::of(inv.row, now);
        }
        invitation = Some(inv);
    }
    row.status = "rejected".into();
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    let entry = WaitlistEntry { row, invitation };
    events::emit(ctx, &mut tx, instance_id, EventType::WaitlistEntryUpdated, &data(&entry)).await?;
    tx.commit().await?;
    Ok(entry)
}
