//! The SSO round trip is bound to the browser that started it. Without the binding, an attacker could start a
//! sign-in in their own browser, send the victim the IdP link, and, once the victim authenticated, find the victim's
//! session on their own client (login CSRF / session fixation). So the SAML ACS and the OIDC callback complete a
//! sign-in only on the client the request recorded, and only for a browser that shows it:
//!
//! - A `__client` cookie (the Frontend API host's first-party cookie, `SameSite=Lax`) must reach that very client;
//!   another client's, or an unknown one, is refused — and nothing is spent: the request still waits for its own
//!   browser.
//! - Without the cookie, a production instance refuses. SAML's ACS is a cross-site POST from the IdP's page, which
//!   does not carry a `Lax` cookie: its first arrival without one is answered with a page that posts the same
//!   response again from the frontend host (a same-site POST, which does), see [`super::AcsOutcome::Repost`]; a
//!   re-post still without the cookie is refused. OIDC's callback is a top-level GET, which carries it directly.
//! - A development instance's browser keeps its client in the app's storage and in URLs (the dev browser), and
//!   nothing of it survives the IdP round trip; there, a browser without the cookie may finish the sign-in, as on
//!   Clerk's own development instances. Development instances are not for real users.

use crate::instances::{Environment, Instance};
use crate::{Ctx, Error, Result};

/// What the browser arriving at the ACS or the OIDC callback shows of its client.
#[derive(Debug, Clone, Copy, Default)]
pub struct Arrival<'a> {
    /// The token of its `__client` cookie, if it sent one.
    pub client_token: Option<&'a str>,
    /// Whether this is the re-post of a SAML response by Tessera's own page (after which a missing cookie is final).
    pub reposted: bool,
}

/// The client an arriving browser holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arriving {
    /// Its cookie reaches this client (`client_…`).
    Client(String),
    /// Its cookie reaches no client of the instance.
    Unknown,
    /// It sent no cookie.
    Absent,
}

/// Reads which client the arriving browser holds (before any transaction: SQLite's writer must not wait on a read).
pub(crate) async fn arriving(ctx: &Ctx, instance_id: &str, arrival: Arrival<'_>) -> Result<Arriving> {
    let Some(token) = arrival.client_token.filter(|t| !t.is_empty()) else { return Ok(Arriving::Absent) };
    Ok(match crate::browser_clients::by_token(ctx, instance_id, token).await? {
        Some(c) => Arriving::Client(c.id),
        None => Arriving::Unknown,
    })
}

/// Whether an answer without the cookie is to be bounced through the re-post page (SAML, production, first POST).
pub(crate) fn needs_repost(instance: &Instance, arrival: Arrival<'_>) -> bool {
    instance.environment != Environment::Development
        && arrival.client_token.is_none_or(str::is_empty)
        && !arrival.reposted
}

/// Refuses unless the arriving browser may complete the sign-in of `client_id` (see the module doc).
pub(crate) fn check(
    instance: &Instance,
    arriving: &Arriving,
    client_id: &str,
    refused: fn(&str) -> Error,
) -> Result<()> {
    match arriving {
        Arriving::Client(id) if id == client_id => Ok(()),
        Arriving::Client(_) | Arriving::Unknown => Err(refused(
            "This browser is not the one that started the sign-in (its __client cookie names another client). \
             Start the sign-in again from the application in this browser.",
        )),
        Arriving::Absent if instance.environment == Environment::Development => Ok(()),
        Arriving::Absent => Err(refused(
            "The browser arrived without its client (the __client cookie): a production instance completes an SSO \
             sign-in only in the browser that started it. Start the sign-in again from the application in this \
             browser, with cookies allowed for the Frontend API host.",
        )),
    }
}
