//! Invitation tickets: the `__clerk_ticket` of instance and organization invitations.
//!
//! As Clerk's, a ticket is a JWT naming its invitation (`{iid, sid, st, exp}`: instance, invitation id, source
//! type `invitation` or `organization_invitation`, expiry), so apps that decode it find the invitation id where
//! Clerk puts it. It is signed HS256 under a key of its own ([`crate::crypto::Secrets::ticket_signature`]), never
//! by the instance's session-token key, so no SDK can take it for a session token. Nothing about it is stored: the
//! invitation's own status makes it single-use (accepted, revoked and expired invitations refuse it).
//!
//! The invitation's `url` is `https://{frontend host}/v1/tickets/accept?ticket=…`; opening it sends the browser to
//! the invitation's `redirect_url` (or the hosted sign-up / sign-in page) with `__clerk_ticket` and
//! `__clerk_status` (`sign_up`, or `sign_in` when a user holds the address), where clerk-js redeems it with the
//! `ticket` strategy of `POST /v1/client/sign_ups` or `POST /v1/client/sign_ins`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tessera_store::Tx;

use crate::instances::Instance;
use crate::{Ctx, Error, ErrorCode, Result};

/// `st` of an instance invitation's ticket.
pub const INVITATION: &str = "invitation";
/// `st` of an organization invitation's ticket.
pub const ORGANIZATION_INVITATION: &str = "organization_invitation";
/// The JOSE header of every ticket.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The kind of invitation a ticket names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An instance invitation (`inv_…`).
    Invitation,
    /// An organization invitation (`orginv_…`).
    OrganizationInvitation,
}

impl Kind {
    /// The kind of an invitation id.
    pub fn of_id(id: &str) -> Self {
        if id.starts_with("orginv_") { Self::OrganizationInvitation } else { Self::Invitation }
    }

    fn source_type(self) -> &'static str {
        match self {
            Self::Invitation => INVITATION,
            Self::OrganizationInvitation => ORGANIZATION_INVITATION,
        }
    }
}

/// 400 `ticket_invalid_code`.
pub fn invalid() -> Error {
    Error::with(
        ErrorCode::TicketInvalid,
        ErrorCode::TicketInvalid.message(),
        ErrorCode::TicketInvalid.long_message(),
        Some("ticket"),
    )
}

/// 400 `ticket_expired_code`.
pub fn expired() -> Error {
    Error::with(
        ErrorCode::TicketExpired,
        ErrorCode::TicketExpired.message(),
        ErrorCode::TicketExpired.long_message(),
        Some("ticket"),
    )
}

/// The ticket of an invitation (deterministic: the same invitation always has the same ticket).
pub fn issue(ctx: &Ctx, instance_id: &str, id: &str, expires_at_ms: Option<i64>) -> String {
    let mut claims = json!({ "iid": instance_id, "sid": id, "st": Kind::of_id(id).source_type() });
    if let Some(e) = expires_at_ms {
        claims["exp"] = json!(e.div_euclid(1000));
    }
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = URL_SAFE_NO_PAD.encode(ctx.secrets.ticket_signature(input.as_bytes()));
    format!("{input}.{signature}")
}

/// The invitation's link: the Frontend API's ticket URL on the instance's frontend host.
pub fn url(ctx: &Ctx, instance: &Instance, id: &str, expires_at_ms: Option<i64>) -> String {
    crate::agent_tasks::ticket_url(instance, &issue(ctx, &instance.id, id, expires_at_ms))
}

/// The invitation an invitation ticket of this instance names. `Ok(None)` when the ticket is not shaped like one
/// (the caller tries the other kinds of tickets); a forged, altered or foreign one is `ticket_invalid_code`.
pub fn parse(ctx: &Ctx, instance_id: &str, ticket: &str) -> Result<Option<String>> {
    let mut parts = ticket.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let header: Option<Map<String, Value>> =
        URL_SAFE_NO_PAD.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok());
    if header.as_ref().and_then(|m| m.get("alg")).and_then(Value::as_str) != Some("HS256") {
        return Ok(None);
    }
    let expected = ctx.secrets.ticket_signature(&ticket.as_bytes()[..h.len() + 1 + p.len()]);
    let given = URL_SAFE_NO_PAD.decode(s).map_err(|_| invalid())?;
    if !crate::crypto::constant_time_eq(&expected, &given) {
        return Err(invalid());
    }
    let claims: Map<String, Value> =
        URL_SAFE_NO_PAD.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(invalid)?;
    let id = claims.get("sid").and_then(Value::as_str).ok_or_else(invalid)?;
    if claims.get("iid").and_then(Value::as_str) != Some(instance_id)
        || claims.get("st").and_then(Value::as_str) != Some(Kind::of_id(id).source_type())
    {
        return Err(invalid());
    }
    Ok(Some(id.to_owned()))
}

/// A pending invitation, as a ticket redeems it.
#[derive(Debug, Clone)]
pub struct Invited {
    /// `inv_…` or `orginv_…`.
    pub id: String,
    /// The invited address (lower-cased).
    pub email_address: String,
    /// Instance invitations: the future user's public metadata (JSON object text).
    pub public_metadata: String,
    /// Where the invitation's link leads.
    pub redirect_url: Option<String>,
}

/// `ticket_invalid_code` unless pending; `ticket_expired_code` past its expiry.
fn check(status: &str) -> Result<()> {
    match status {
        "pending" => Ok(()),
        "expired" => Err(expired()),
        _ => Err(invalid()),
    }
}

/// The invitation `id` names, pending or not (for the ticket link, which leads on whatever its state).
pub async fn find(ctx: &Ctx, instance_id: &str, id: &str) -> Result<(Invited, &'static str)> {
    let now = ctx.now_ms();
    match Kind::of_id(id) {
        Kind::Invitation => {
            let row = tessera_store::invitations::get(&ctx.db, instance_id, id).await?.ok_or_else(invalid)?;
            let status = crate::invitations::Invitation::of(row.clone(), now).status;
            let invited = Invited {
                id: row.id,
                email_address: row.email_address,
                public_metadata: row.public_metadata,
                redirect_url: row.redirect_url,
            };
            Ok((invited, status))
        }
        Kind::OrganizationInvitation => {
            let row = tessera_store::organization_invitations::get_by_id(&ctx.db, instance_id, id)
                .await?
                .ok_or_else(invalid)?;
            let status = crate::organization_invitations::status_at(&row, now);
            let invited = Invited {
                id: row.id,
                email_address: row.email_address,
                public_metadata: "{}".into(),
                redirect_url: row.redirect_url,
            };
            Ok((invited, status))
        }
    }
}

/// The pending invitation a ticket leads to (read without a lock; [`accept_tx`] checks again).
pub async fn pending(ctx: &Ctx, instance_id: &str, ticket: &str) -> Result<Invited> {
    let id = parse(ctx, instance_id, ticket)?.ok_or_else(invalid)?;
    let (invited, status) = find(ctx, instance_id, &id).await?;
    check(status)?;
    Ok(invited)
}

/// Accepts a pending invitation for `user_id` inside the caller's transaction: an instance invitation is marked
/// accepted; an organization invitation too, and the user becomes a member with its role and metadata
/// (`organizationMembership.created`, `organizationInvitation.accepted`). An invitation no longer pending fails
/// the whole change (`ticket_invalid_code` / `ticket_expired_code`).
pub async fn accept_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, id: &str, user_id: &str, now: i64) -> Result<()> {
    match Kind::of_id(id) {
        Kind::Invitation => {
            let row = tessera_store::invitations::lock(tx, instance_id, id).await?.ok_or_else(invalid)?;
            check(crate::invitations::Invitation::of(row, now).status)?;
            tessera_store::invitations::accept(tx, instance_id, id, now).await?;
            Ok(())
        }
        Kind::OrganizationInvitation => {
            let row =
                tessera_store::organization_invitations::lock_by_id(tx, instance_id, id).await?.ok_or_else(invalid)?;
            check(crate::organization_invitations::status_at(&row, now))?;
            crate::organization_invitations::accept_tx(ctx, tx, instance_id, row, user_id, now).await
        }
    }
}
