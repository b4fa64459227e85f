//! Sign-ups with an invitation's ticket (`strategy=ticket`, [`crate::invitation_tickets`]): the attempt takes the
//! invited e-mail address, verified by the ticket (the invitation was delivered there), and the invitation's public
//! metadata; when it converts, the invitation is accepted in the same transaction — an organization invitation
//! making the new user a member — provided the attempt still has the invited address (a changed address is
//! verified by code and leaves the invitation pending).

use tessera_store::Tx;
use tessera_store::sign_ups::{self as store, SignUpRow, SignUpVerificationRow};

use crate::users::identifiers;
use crate::{Ctx, Result, ids};

/// The strategy of a verification made by a ticket.
pub(super) const STRATEGY: &str = "ticket";

/// Records the attempt's e-mail address as verified by its ticket.
pub(super) async fn verify_email_tx(tx: &mut Tx, row: &SignUpRow, now: i64) -> Result<SignUpVerificationRow> {
    let v = SignUpVerificationRow {
        sign_up_id: row.id.clone(),
        field: identifiers::EMAIL.to_owned(),
        id: ids::new_id("ver"),
        instance_id: row.instance_id.clone(),
        strategy: STRATEGY.to_owned(),
        // No code: the ticket was the proof.
        code_digest: Vec::new(),
        status: "verified".into(),
        attempts: 0,
        expire_at: now,
        created_at: now,
        updated_at: now,
    };
    store::replace_verification(tx, &v).await?;
    Ok(v)
}

/// Accepts the attempt's invitation for the user it became, if the ticket still verifies its address.
pub(super) async fn accept_invitation_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    row: &SignUpRow,
    verifs: &[SignUpVerificationRow],
    user_id: &str,
    now: i64,
) -> Result<()> {
    let Some(invitation_id) = &row.invitation_id else { return Ok(()) };
    let by_ticket = verifs.iter().any(|v| v.field == identifiers::EMAIL && v.strategy == STRATEGY);
    if !by_ticket {
        return Ok(());
    }
    crate::invitation_tickets::accept_tx(ctx, tx, &row.instance_id, invitation_id, user_id, now).await
}
