//! The event outbox: every change Clerk reports by webhook writes its event here, in the same transaction as the
//! change, so an event exists if and only if its change committed. The delivery worker fans nothing out itself:
//! [`emit`] also queues one delivery per subscribed endpoint, inside the same transaction.
//!
//! Emitting from a mutation is one line, after the change and before `tx.commit()`:
//!
//! ```ignore
//! events::emit(ctx, &mut tx, instance_id, EventType::RoleCreated, &objects::organization::role(&role)).await?;
//! ```

use base64::Engine as _;
use serde_json::Value;
use tessera_store::Tx;
use tessera_store::webhooks::{self as store, NewEvent};

use crate::{Ctx, Error, Result};

/// The event types of Clerk's webhooks (the `type` of an event), as the webhook spec lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `email.created`
    EmailCreated,
    /// `organization.created`
    OrganizationCreated,
    /// `organization.updated`
    OrganizationUpdated,
    /// `organization.deleted`
    OrganizationDeleted,
    /// `organizationDomain.created`
    OrganizationDomainCreated,
    /// `organizationDomain.updated`
    OrganizationDomainUpdated,
    /// `organizationDomain.deleted`
    OrganizationDomainDeleted,
    /// `organizationInvitation.created`
    OrganizationInvitationCreated,
    /// `organizationInvitation.accepted`
    OrganizationInvitationAccepted,
    /// `organizationInvitation.revoked`
    OrganizationInvitationRevoked,
    /// `organizationMembership.created`
    OrganizationMembershipCreated,
    /// `organizationMembership.updated`
    OrganizationMembershipUpdated,
    /// `organizationMembership.deleted`
    OrganizationMembershipDeleted,
    /// `paymentAttempt.created`
    PaymentAttemptCreated,
    /// `paymentAttempt.updated`
    PaymentAttemptUpdated,
    /// `permission.created`
    PermissionCreated,
    /// `permission.updated`
    PermissionUpdated,
    /// `permission.deleted`
    PermissionDeleted,
    /// `role.created`
    RoleCreated,
    /// `role.updated`
    RoleUpdated,
    /// `role.deleted`
    RoleDeleted,
    /// `session.created`
    SessionCreated,
    /// `session.pending`
    SessionPending,
    /// `session.ended`
    SessionEnded,
    /// `session.removed`
    SessionRemoved,
    /// `session.revoked`
    SessionRevoked,
    /// `sms.created`
    SmsCreated,
    /// `subscription.created`
    SubscriptionCreated,
    /// `subscription.updated`
    SubscriptionUpdated,
    /// `subscription.active`
    SubscriptionActive,
    /// `subscription.pastDue`
    SubscriptionPastDue,
    /// `subscriptionItem.abandoned`
    SubscriptionItemAbandoned,
    /// `subscriptionItem.active`
    SubscriptionItemActive,
    /// `subscriptionItem.canceled`
    SubscriptionItemCanceled,
    /// `subscriptionItem.ended`
    SubscriptionItemEnded,
    /// `subscriptionItem.freeTrialEnding`
    SubscriptionItemFreeTrialEnding,
    /// `subscriptionItem.incomplete`
    SubscriptionItemIncomplete,
    /// `subscriptionItem.pastDue`
    SubscriptionItemPastDue,
    /// `subscriptionItem.upcoming`
    SubscriptionItemUpcoming,
    /// `subscriptionItem.updated`
    SubscriptionItemUpdated,
    /// `user.created`
    UserCreated,
    /// `user.updated`
    UserUpdated,
    /// `user.deleted`
    UserDeleted,
    /// `waitlistEntry.created`
    WaitlistEntryCreated,
    /// `waitlistEntry.updated`
    WaitlistEntryUpdated,
}

impl EventType {
    /// Every event type, in the spec's order.
    pub const ALL: &[EventType] = &[
        Self::EmailCreated,
        Self::OrganizationCreated,
        Self::OrganizationUpdated,
        Self::OrganizationDeleted,
        Self::OrganizationDomainCreated,
        Self::OrganizationDomainUpdated,
        Self::OrganizationDomainDeleted,
        Self::OrganizationInvitationCreated,
        Self::OrganizationInvitationAccepted,
        Self::OrganizationInvitationRevoked,
        Self::OrganizationMembershipCreated,
        Self::OrganizationMembershipUpdated,
        Self::OrganizationMembershipDeleted,
        Self::PaymentAttemptCreated,
        Self::PaymentAttemptUpdated,
        Self::PermissionCreated,
        Self::PermissionUpdated,
        Self::PermissionDeleted,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::SessionCreated,
        Self::SessionPending,
        Self::SessionEnded,
        Self::SessionRemoved,
        Self::SessionRevoked,
        Self::SmsCreated,
        Self::SubscriptionCreated,
        Self::SubscriptionUpdated,
        Self::SubscriptionActive,
        Self::SubscriptionPastDue,
        Self::SubscriptionItemAbandoned,
        Self::SubscriptionItemActive,
        Self::SubscriptionItemCanceled,
        Self::SubscriptionItemEnded,
        Self::SubscriptionItemFreeTrialEnding,
        Self::SubscriptionItemIncomplete,
        Self::SubscriptionItemPastDue,
        Self::SubscriptionItemUpcoming,
        Self::SubscriptionItemUpdated,
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeleted,
        Self::WaitlistEntryCreated,
        Self::WaitlistEntryUpdated,
    ];

    /// The wire name (`user.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailCreated => "email.created",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
            Self::OrganizationDeleted => "organization.deleted",
            Self::OrganizationDomainCreated => "organizationDomain.created",
            Self::OrganizationDomainUpdated => "organizationDomain.updated",
            Self::OrganizationDomainDeleted => "organizationDomain.deleted",
            Self::OrganizationInvitationCreated => "organizationInvitation.created",
            Self::OrganizationInvitationAccepted => "organizationInvitation.accepted",
            Self::OrganizationInvitationRevoked => "organizationInvitation.revoked",
            Self::OrganizationMembershipCreated => "organizationMembership.created",
            Self::OrganizationMembershipUpdated => "organizationMembership.updated",
            Self::OrganizationMembershipDeleted => "organizationMembership.deleted",
            Self::PaymentAttemptCreated => "paymentAttempt.created",
            Self::PaymentAttemptUpdated => "paymentAttempt.updated",
            Self::PermissionCreated => "permission.created",
            Self::PermissionUpdated => "permission.updated",
            Self::PermissionDeleted => "permission.deleted",
            Self::RoleCreated => "role.created",
            Self::RoleUpdated => "role.updated",
            Self::RoleDeleted => "role.deleted",
            Self::SessionCreated => "session.created",
            Self::SessionPending => "session.pending",
            Self::SessionEnded => "session.ended",
            Self::SessionRemoved => "session.removed",
            Self::SessionRevoked => "session.revoked",
            Self::SmsCreated => "sms.created",
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionUpdated => "subscription.updated",
            Self::SubscriptionActive => "subscription.active",
            Self::SubscriptionPastDue => "subscription.pastDue",
            Self::SubscriptionItemAbandoned => "subscriptionItem.abandoned",
            Self::SubscriptionItemActive => "subscriptionItem.active",
            Self::SubscriptionItemCanceled => "subscriptionItem.canceled",
            Self::SubscriptionItemEnded => "subscriptionItem.ended",
            Self::SubscriptionItemFreeTrialEnding => "subscriptionItem.freeTrialEnding",
            Self::SubscriptionItemIncomplete => "subscriptionItem.incomplete",
            Self::SubscriptionItemPastDue => "subscriptionItem.pastDue",
            Self::SubscriptionItemUpcoming => "subscriptionItem.upcoming",
            Self::SubscriptionItemUpdated => "subscriptionItem.updated",
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeleted => "user.deleted",
            Self::WaitlistEntryCreated => "waitlistEntry.created",
            Self::WaitlistEntryUpdated => "waitlistEntry.updated",
        }
    }

    /// The event type of a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

/// The sealing purpose of stored event payloads.
const PAYLOAD_PURPOSE: &str = "webhook-event-payload";

/// An event payload as stored: sealed (AES-256-GCM under the master key) and base64-encoded. Payloads carry what
/// the webhook spec puts in them, which includes one-time codes (`email.created`, `sms.created`) and personal data;
/// the outbox keeps them until delivery and after, so they are never in the database in plaintext.
fn seal_payload(ctx: &Ctx, payload: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(ctx.secrets.seal(PAYLOAD_PURPOSE, payload.as_bytes()))
}

/// The JSON text of a stored payload (see [`seal_payload`]).
pub fn open_payload(ctx: &Ctx, stored: &str) -> Result<String> {
    // Events written before payloads were sealed are plain JSON (base64 never starts with `{`).
    if stored.starts_with('{') {
        return Ok(stored.to_owned());
    }
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|e| Error::internal(anyhow::anyhow!("stored event payload: {e}")))?;
    ctx.secrets.open_string(PAYLOAD_PURPOSE, &sealed).map_err(Error::internal)
}

/// Writes an event (`object: "event"`, `type`, `timestamp` in Unix ms, `instance_id`, `data`) to the outbox in the
/// caller's transaction, with a pending delivery for each endpoint subscribed to its type. `data` is the Clerk
/// object the webhook spec gives for the type (its `id` orders deliveries per resource).
pub async fn emit(ctx: &Ctx, tx: &mut Tx, instance_id: &str, event_type: EventType, data: &Value) -> Result<()> {
    let resource_id = data.get("id").and_then(Value::as_str).unwrap_or("");
    emit_object(ctx, tx, instance_id, event_type, resource_id, data).await
}

/// The event envelope, in the key order of Clerk's events.
#[derive(serde::Serialize)]
struct Envelope<'a, T: ?Sized> {
    data: &'a T,
    instance_id: &'a str,
    object: &'static str,
    timestamp: i64,
    #[serde(rename = "type")]
    event_type: &'static str,
}

/// [`emit`] for a typed object whose `id` is `resource_id`: serialized straight into the payload, without
/// building a `serde_json::Value` of it first (a tenth of a user create's instructions went to that detour).
pub async fn emit_object<T: serde::Serialize + ?Sized>(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    event_type: EventType,
    resource_id: &str,
    data: &T,
) -> Result<()> {
    let event = SealedEvent::new(ctx, instance_id, event_type, data)?;
    store::insert_event(tx, &event.row(instance_id, resource_id)).await?;
    Ok(())
}

/// An event serialized and sealed, to be written by [`emit_object`] inside a transaction or by a statement that
/// writes it together with the rows it reports (`users::create`'s one-statement create on PostgreSQL).
pub(crate) struct SealedEvent {
    id: String,
    event_type: EventType,
    payload: String,
    created_at: i64,
}

impl SealedEvent {
    /// The event of `event_type` about `data`, emitted now.
    pub(crate) fn new<T: serde::Serialize + ?Sized>(
        ctx: &Ctx,
        instance_id: &str,
        event_type: EventType,
        data: &T,
    ) -> Result<Self> {
        let now = ctx.now_ms();
        let envelope = Envelope { data, instance_id, object: "event", timestamp: now, event_type: event_type.as_str() };
        let payload = serde_json::to_string(&envelope).map_err(Error::internal)?;
        Ok(Self { id: crate::ids::new_id("msg"), event_type, payload: seal_payload(ctx, &payload), created_at: now })
    }

    /// Its outbox row; `resource_id` is the `id` of its data (it orders deliveries per resource).
    pub(crate) fn row<'a>(&'a self, instance_id: &'a str, resource_id: &'a str) -> NewEvent<'a> {
        NewEvent {
            id: &self.id,
            instance_id,
            event_type: self.event_type.as_str(),
            resource_id,
            payload: &self.payload,
            created_at: self.created_at,
        }
    }
}

/// An event as stored in the outbox.
#[derive(Debug, Clone)]
pub struct Event {
    /// `msg_…` (the `svix-id` of its deliveries).
    pub id: String,
    /// Type.
    pub event_type: String,
    /// The event JSON.
    pub payload: Value,
}

/// The latest `limit` events of an instance, oldest first.
pub async fn recent(ctx: &Ctx, instance_id: &str, limit: i64) -> Result<Vec<Event>> {
    let mut rows = store::recent_events(&ctx.db, instance_id, limit).await?;
    rows.reverse();
    rows.into_iter()
        .map(|r| {
            Ok(Event {
                payload: serde_json::from_str(&open_payload(ctx, &r.payload)?).unwrap_or(Value::Null),
                id: r.id,
                event_type: r.event_type,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(EventType::ALL.len(), 45);
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::UserCreated.as_str(), "user.created");
        assert_eq!(EventType::parse("user.nope"), None);
    }
}
