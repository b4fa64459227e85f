//! Ticket links: a browser that opens a sign-in token's, actor token's or agent task's URL
//! (`{frontend}/v1/tickets/accept?ticket=…`) is signed in on its own client, in one transaction with the ticket's
//! redemption, and sent on. The ticket is single-use; a refused ticket writes nothing.

use tessera_store::Tx;

use crate::browser_clients::{self, BrowserClient};
use crate::instances::Instance;
use crate::sessions::{Session, SessionOptions};
use crate::{Ctx, ErrorCode, Result};

/// What a redeemed ticket link did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The session opened on the browser's client.
    pub session: Session,
    /// Where the ticket says to go (an agent task's checked `redirect_url`).
    pub redirect_url: Option<String>,
}

/// Redeems `ticket` (a sign-in token, an actor token or an agent task) into a session on `client`.
pub async fn accept(ctx: &Ctx, instance: &Instance, client: &BrowserClient, ticket: &str) -> Result<Accepted> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = browser_clients::lock(&mut tx, &instance.id, &client.id).await?;
    let (user_id, opts, redirect_url) = match redeem_any(ctx, &mut tx, instance, ticket, now).await? {
        Redeemed::Token(r) => (
            r.user_id,
            SessionOptions {
                active_organization_id: r.organization_id,
                actor: r.actor,
                lifetime_ms: r.session_ms,
                second_factor_verified: false,
            },
            None,
        ),
        Redeemed::AgentTask(t) => (
            t.user_id,
            SessionOptions { lifetime_ms: Some(t.session_max_duration_ms), ..SessionOptions::default() },
            Some(t.redirect_url),
        ),
    };
    let session = browser_clients::open_session_with_tx(ctx, &mut tx, &mut row, &user_id, "ticket", opts, now).await?;
    tx.commit().await?;
    Ok(Accepted { session, redirect_url })
}

enum Redeemed {
    Token(crate::tickets::Redeemed),
    AgentTask(crate::agent_tasks::RedeemedAgentTask),
}

/// Sign-in and actor tokens first; a ticket they do not know (nothing written) may be an agent task's.
async fn redeem_any(ctx: &Ctx, tx: &mut Tx, instance: &Instance, ticket: &str, now: i64) -> Result<Redeemed> {
    match crate::tickets::redeem_tx(ctx, tx, Some(&instance.id), ticket, now).await {
        Ok(r) => Ok(Redeemed::Token(r)),
        Err(e) if e.code() == ErrorCode::TokenInvalid => {
            crate::agent_tasks::redeem_tx(ctx, tx, instance, ticket).await.map(Redeemed::AgentTask)
        }
        Err(e) => Err(e),
    }
}
