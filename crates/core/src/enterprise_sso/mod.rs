//! Enterprise SSO sign-in (clerk-js's `enterprise_sso` strategy, and the older `saml` for SAML connections). This
//! module is the SAML side; [`oidc`] is the OIDC side, and `finish` the end both share. Through a SAML connection:
//!
//! 1. The sign-in is created (or prepared) with the strategy and the user's e-mail address: its domain (or a parent
//!    domain, when the connection allows subdomains) finds the instance's active SAML connection. Tessera records an
//!    `AuthnRequest` ([`tessera_store::sso::SamlRequestRow`]: id, sign-in, client, return URLs) and the sign-in's
//!    first-factor verification (`verification_saml`, `unverified`) carries the IdP URL to send the browser to
//!    (HTTP-Redirect binding) as `external_verification_redirect_url`.
//! 2. The IdP posts its `Response` to the ACS ([`acs`]): [`crate::saml::verify_response`] checks the signature with
//!    the connection's certificate and the assertion's issuer, audience, recipient and time; then, in one
//!    transaction, the request it answers (`InResponseTo`) is taken (unknown, expired or already answered: refused),
//!    the assertion id is recorded (seen before: a replay, refused), the user is found by their enterprise account,
//!    else linked by a verified e-mail address (a person without an account makes the sign-in `transferable`, and
//!    clerk-js continues with a sign-up that creates them just in time, unless the connection disables it:
//!    [`transfer`]), the enterprise account is written, the user joins the connection's organization, and the
//!    sign-in completes with a session on the client that started it — only when the arriving browser holds that
//!    client ([`binding`]:
//!    production browsers show their `__client` cookie, through a same-site re-post when the IdP's cross-site POST
//!    came without it; development browsers, whose client nothing carries through the IdP, are let through). The
//!    browser goes back to clerk-js's `sso-callback` URL.
//!
//! The e-mail address an IdP asserts must be in one of its connection's domains: an IdP speaks only for its
//! company's addresses, never for another one's users. Unsolicited (IdP-initiated) responses are refused unless the
//! connection allows them ([`idp_initiated`]). Allowed, no sign-in waits for them: the response is verified as any
//! other (signature, audience, recipient, time, one-time assertion id), the user found or provisioned the same way,
//! and the arriving browser is sent to the Frontend API's ticket link with a one-time sign-in token, which signs it
//! in on its own client (its `__client` cookie, or its dev browser) and leads on to the application. Such a flow
//! cannot tell whose browser brings the response (the reason Clerk advises SP-initiated sign-in), so it stays off
//! unless a connection turns it on.

pub mod binding;
mod finish;
pub mod oidc;
pub mod test_runs;
pub mod transfer;

use serde_json::{Map, Value};
use tessera_store::sso::{self as store, SamlRequestRow};

use self::binding::Arrival;
use self::finish::Identity;

use crate::enterprise_connections::{self as connections, By, EnterpriseConnection};
use crate::instances::Instance;
use crate::saml::{self, Expectations, VerifiedAssertion};
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// How long the IdP has to answer a request.
pub const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;
/// The strategies that start an enterprise SSO sign-in.
pub const STRATEGIES: &[&str] = &["enterprise_sso", "saml"];
/// The verification strategy shown for a SAML connection (the FAPI's `verification_saml` knows only `saml`).
pub const VERIFICATION_STRATEGY: &str = "saml";

/// Tessera's entity id for a SAML connection (the audience its assertions must name): the SP metadata URL on the
/// instance's frontend host, as the Backend API shows it (`sp_entity_id`).
pub fn sp_entity_id(instance: &Instance, saml_id: &str) -> String {
    format!("https://{}/v1/saml/metadata/{saml_id}.xml", instance.frontend_host())
}

/// The ACS URL the Backend API shows for a SAML connection (`acs_url`).
pub fn acs_url(instance: &Instance, saml_id: &str) -> String {
    format!("https://{}/v1/saml/acs/{saml_id}", instance.frontend_host())
}

/// The SP metadata document of a SAML connection (`GET /v1/saml/metadata/{id}.xml`), 404 for an unknown one.
pub async fn sp_metadata(ctx: &Ctx, instance: &Instance, saml_id: &str) -> Result<String> {
    let c = connections::get(ctx, &instance.id, By::SamlId, saml_id).await?;
    let id = c.row.saml_connection_id.as_deref().ok_or_else(connections::not_found)?;
    Ok(saml::sp_metadata(&sp_entity_id(instance, id), &acs_url(instance, id)))
}

/// The active connection (SAML or OIDC) that signs in an e-mail address, if any.
pub async fn connection_for_email(ctx: &Ctx, instance_id: &str, email: &str) -> Result<Option<EnterpriseConnection>> {
    let Some((_, domain)) = email.trim().rsplit_once('@') else { return Ok(None) };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    for skip in 0..labels.len().saturating_sub(1) {
        let candidate = labels[skip..].join(".");
        let Some(id) = store::connection_for_domain(&ctx.db, instance_id, &candidate).await? else { continue };
        let c = connections::get(ctx, instance_id, By::Id, &id).await?;
        if skip > 0 && !c.row.allow_subdomains {
            continue;
        }
        if c.row.active && c.row.authenticatable {
            return Ok(Some(c));
        }
        return Ok(None);
    }
    Ok(None)
}

/// What starting an SSO verification needs from the browser's request.
#[derive(Debug, Clone)]
pub struct Start {
    /// clerk-js's `redirect_url` (its `sso-callback` page), checked against the instance's allowed origins.
    pub redirect_url: Option<String>,
    /// clerk-js's `action_complete_redirect_url`.
    pub action_complete_redirect_url: Option<String>,
    /// The Frontend API base URL the browser uses (the ACS URL put into the request is under it).
    pub base_url: String,
}

/// What a request to the IdP continues once its answer is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt<'a> {
    /// The sign-in `id` on the browser's client `client_id`.
    SignIn {
        /// `sia_…`
        id: &'a str,
        /// The client it lives on.
        client_id: &'a str,
    },
    /// The sign-up `id` on the browser's client `client_id` (`sign_ups::sso`).
    SignUp {
        /// `sua_…`
        id: &'a str,
        /// The client it lives on.
        client_id: &'a str,
    },
    /// A connection test run (`test_runs`): no client, nothing signed in.
    TestRun(&'a str),
}

impl<'a> Attempt<'a> {
    /// The sign-in it continues.
    fn sign_in_id(self) -> Option<&'a str> {
        if let Self::SignIn { id, .. } = self { Some(id) } else { None }
    }

    /// The sign-up it continues.
    fn sign_up_id(self) -> Option<&'a str> {
        if let Self::SignUp { id, .. } = self { Some(id) } else { None }
    }

    /// The test run it records.
    fn test_run_id(self) -> Option<&'a str> {
        if let Self::TestRun(id) = self { Some(id) } else { None }
    }

    /// The browser's client of a sign-in or sign-up.
    fn client_id(self) -> Option<&'a str> {
        match self {
            Self::SignIn { client_id, .. } | Self::SignUp { client_id, .. } => Some(client_id),
            Self::TestRun(_) => None,
        }
    }
}

/// How a connection's verification starts: SAML needs nothing from the IdP; OIDC needs its endpoints, fetched
/// before the attempt's transaction.
pub(crate) enum Plan {
    /// An `AuthnRequest` (HTTP-Redirect binding).
    Saml,
    /// An authorization request to this provider.
    Oidc(crate::oidc::Provider),
}

/// What starting a verification through `c` needs (for OIDC, reads the IdP's discovery document).
pub(crate) async fn plan(instance: &Instance, c: &EnterpriseConnection) -> Result<Plan> {
    Ok(if c.is_saml() { Plan::Saml } else { Plan::Oidc(oidc::provider(instance, c).await?) })
}

/// A verification ready to start: everything read before the attempt's transaction — the connection, what its
/// protocol needs, and clerk-js's checked return URL.
pub(crate) struct Ready {
    connection: EnterpriseConnection,
    plan: Plan,
    /// Where the browser returns (empty for a test run, whose result page is Tessera's).
    redirect_url: String,
    start: Start,
}

/// The active connection that signs `email` in (SAML only for the legacy `saml` strategy; else
/// `enterprise_sso_connection_not_found` on `param`), clerk-js's checked return URLs, and what the connection's
/// protocol needs: what a sign-in or sign-up through enterprise SSO reads before its transaction.
pub(crate) async fn ready(
    ctx: &Ctx,
    instance: &Instance,
    (email, strategy, param): (&str, &str, &str),
    start: Start,
) -> Result<Ready> {
    let found = connection_for_email(ctx, &instance.id, email).await?;
    let connection = found.filter(|c| strategy != "saml" || c.is_saml()).ok_or_else(|| {
        Error::with(
            ErrorCode::EnterpriseConnectionNotFound,
            ErrorCode::EnterpriseConnectionNotFound.message(),
            ErrorCode::EnterpriseConnectionNotFound.long_message(),
            Some(param),
        )
    })?;
    let redirect_url = checked_redirect(ctx, instance, &start).await?;
    let plan = plan(instance, &connection).await?;
    Ok(Ready { connection, plan, redirect_url, start })
}

impl Ready {
    /// Records the request for `attempt` through the connection, inside the caller's transaction, and returns the
    /// IdP URL to send the browser to. `login_hint` is the address the person gave.
    pub(crate) async fn start_tx(
        &self,
        ctx: &Ctx,
        tx: &mut tessera_store::Tx,
        instance: &Instance,
        attempt: Attempt<'_>,
        login_hint: Option<&str>,
    ) -> Result<String> {
        let c = &self.connection;
        match &self.plan {
            Plan::Saml => saml_start_tx(ctx, tx, instance, c, attempt, self).await,
            Plan::Oidc(p) => oidc::start_tx(ctx, tx, (c, p), attempt, self, login_hint).await,
        }
    }
}

/// Records an `AuthnRequest` for `attempt` through `c`, inside the caller's transaction, and returns the IdP URL to
/// send the browser to.
async fn saml_start_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance: &Instance,
    c: &EnterpriseConnection,
    attempt: Attempt<'_>,
    ready: &Ready,
) -> Result<String> {
    let saml_id = c.row.saml_connection_id.as_deref().ok_or_else(connections::not_found)?;
    let sso_url = c.row.idp_sso_url.as_deref().filter(|u| !u.is_empty()).ok_or_else(|| {
        Error::with(
            ErrorCode::SamlResponseInvalid,
            "enterprise connection not configured",
            "The enterprise connection has no IdP single sign-on URL.",
            None,
        )
    })?;
    let now = ctx.now_ms();
    let request_id = format!("_{}", hex::encode(ids::random_bytes::<20>()));
    let start = &ready.start;
    let acs = format!("{}/v1/saml/acs/{saml_id}", start.base_url.trim_end_matches('/'));
    let encoded =
        saml::authn_request(&request_id, now, &sp_entity_id(instance, saml_id), &acs, sso_url, c.row.force_authn);
    let mut url = url::Url::parse(sso_url).map_err(|_| Error::param_value_invalid("idp_sso_url", "invalid URL"))?;
    // The attempt the request continues (a test run's names none).
    let relay = attempt.sign_up_id().or(attempt.sign_in_id()).unwrap_or_default();
    url.query_pairs_mut().append_pair("SAMLRequest", &encoded).append_pair("RelayState", relay);
    let row = SamlRequestRow {
        id: request_id,
        instance_id: instance.id.clone(),
        connection_id: c.row.id.clone(),
        // The table's columns predate sign-ups and test runs: those leave the sign-in (and a test run the client)
        // empty.
        sign_in_id: attempt.sign_in_id().unwrap_or_default().to_owned(),
        client_id: attempt.client_id().unwrap_or_default().to_owned(),
        acs_url: acs,
        external_url: url.to_string(),
        redirect_url: ready.redirect_url.clone(),
        action_complete_redirect_url: start.action_complete_redirect_url.clone(),
        test_run_id: attempt.test_run_id().map(str::to_owned),
        sign_up_id: attempt.sign_up_id().map(str::to_owned),
        used_at: None,
        expires_at: now + REQUEST_TTL_MS,
        created_at: now,
    };
    store::insert_request(tx, &row).await?;
    Ok(row.external_url)
}

/// Checks clerk-js's return URL (required: the browser must come back somewhere).
pub(crate) async fn checked_redirect(ctx: &Ctx, instance: &Instance, start: &Start) -> Result<String> {
    let url =
        start.redirect_url.as_deref().filter(|u| !u.is_empty()).ok_or_else(|| Error::param_missing("redirect_url"))?;
    crate::origins::check_redirect_url(ctx, instance, url).await?;
    if let Some(u) = start.action_complete_redirect_url.as_deref().filter(|u| !u.is_empty()) {
        crate::origins::check_redirect_url(ctx, instance, u).await.map_err(|_| {
            Error::with(
                ErrorCode::RedirectUrlNotAllowed,
                ErrorCode::RedirectUrlNotAllowed.message(),
                ErrorCode::RedirectUrlNotAllowed.long_message(),
                Some("action_complete_redirect_url"),
            )
        })?;
    }
    Ok(url.to_owned())
}

/// The IdP URL of a sign-in's pending request (while it can still be answered).
pub async fn pending_redirect(ctx: &Ctx, instance_id: &str, sign_in_id: &str) -> Result<Option<String>> {
    let row = store::latest_request(&ctx.db, instance_id, sign_in_id).await?;
    Ok(row.filter(|r| r.used_at.is_none() && r.expires_at > ctx.now_ms()).map(|r| r.external_url))
}

/// A refused response: 400 `saml_response_invalid` with the reason.
/// A connection signs people in only while it is active and has what its protocol needs (SAML ACS and OIDC
/// callback alike).
pub(crate) fn ensure_usable(c: &EnterpriseConnection) -> Result<()> {
    if c.row.active && c.row.authenticatable {
        return Ok(());
    }
    Err(Error::with(
        ErrorCode::AuthorizationInvalid,
        "enterprise connection inactive",
        "This enterprise connection is not active.",
        None,
    ))
}

fn refused(why: &str) -> Error {
    Error::with(ErrorCode::SamlResponseInvalid, ErrorCode::SamlResponseInvalid.message(), why, None)
}

/// Verifies a response to `c` (signature with the connection's certificate, issuer, audience, recipient, time)
/// and reads the person it names; an unsolicited response only where the connection allows IdP-initiated sign-in.
fn verified(
    instance: &Instance,
    c: &EnterpriseConnection,
    saml_response: &str,
    acs_seen: &str,
    now: i64,
) -> Result<(VerifiedAssertion, Identity)> {
    let saml_id = c.row.saml_connection_id.clone().ok_or_else(connections::not_found)?;
    let pem = c.row.idp_certificate.as_deref().ok_or_else(|| refused("The connection has no IdP certificate."))?;
    let cert = connections::idp::certificate_der(pem).ok_or_else(|| refused("The IdP certificate is unreadable."))?;
    let sp = sp_entity_id(instance, &saml_id);
    let canonical_acs = acs_url(instance, &saml_id);
    let mut last = refused("The SAML response was refused.");
    // The response names the ACS URL of the request (the browser's base URL) or the one the Backend API shows.
    let mut verified: Option<VerifiedAssertion> = None;
    for acs in [acs_seen, canonical_acs.as_str()] {
        let e = Expectations {
            sp_entity_id: &sp,
            acs_url: acs,
            idp_entity_id: c.row.idp_entity_id.as_deref(),
            certificate_der: &cert,
            now_ms: now,
        };
        match saml::verify_response(saml_response, &e) {
            Ok(a) => {
                verified = Some(a);
                break;
            }
            Err(r) => {
                tracing::info!(connection = %c.row.id, reason = r.0, "SAML response refused");
                last = refused(&format!("The SAML response was refused: {}.", r.0));
                // Only a destination/recipient mismatch is worth trying the other URL for.
                if !r.0.contains("destination") && !r.0.contains("recipient") {
                    break;
                }
            }
        }
    }
    let a = verified.ok_or(last)?;
    if a.in_response_to.is_none() && !c.row.allow_idp_initiated {
        return Err(refused("This connection does not allow IdP-initiated sign-in."));
    }
    let email = assertion_email(c, &a).ok_or_else(|| refused("The assertion carries no e-mail address."))?;
    let who = Identity {
        subject: mapped(&a, &c.attribute_mapping.user_id, &[]).unwrap_or(&a.name_id).to_owned(),
        email,
        email_verified: true,
        first_name: mapped(&a, &c.attribute_mapping.first_name, FIRST_NAMES).map(str::to_owned),
        last_name: mapped(&a, &c.attribute_mapping.last_name, LAST_NAMES).map(str::to_owned),
        metadata: custom_attributes(c, &a),
    };
    Ok((a, who))
}

/// What the ACS answers the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsOutcome {
    /// Send the browser here (clerk-js's `sso-callback`, or a test run's result page).
    Redirect(String),
    /// The IdP's cross-site POST came without the `__client` cookie to a production instance: post the same response
    /// again from a page of the frontend host (a same-site POST carries the cookie), marked as the re-post. Nothing
    /// was spent.
    Repost,
}

/// `POST /v1/saml/acs/{saml_connection_id}`: verifies the response and completes the sign-in it answers in the
/// arriving browser's client ([`binding`]), or, unsolicited where allowed, hands the browser a ticket
/// ([`idp_initiated`]). `base_url` is the Frontend API base URL as the browser sees it (the response names the ACS
/// under it).
pub async fn acs(
    ctx: &Ctx,
    instance: &Instance,
    saml_id: &str,
    saml_response: &str,
    base_url: &str,
    arrival: Arrival<'_>,
) -> Result<AcsOutcome> {
    let base_url = base_url.trim_end_matches('/');
    let acs_seen = &format!("{base_url}/v1/saml/acs/{saml_id}");
    let c = connections::get(ctx, &instance.id, By::SamlId, saml_id).await?;
    ensure_usable(&c)?;
    let now = ctx.now_ms();
    // A response to a test run's request is recorded, not signed in. Its `InResponseTo` is read before anything
    // is verified only to find which run it claims to answer: a response that does not verify fails that run.
    let test_run = match saml::in_response_to_unverified(saml_response) {
        Some(id) => tessera_store::test_runs::of_saml_request(&ctx.db, &instance.id, &c.row.id, &id).await?,
        None => None,
    };
    let outcome = verified(instance, &c, saml_response, acs_seen, now);
    if let Some(run_id) = test_run {
        let mut artifacts = Map::new();
        artifacts.insert("saml".into(), serde_json::json!({ "saml_response": saml_response }));
        let who = outcome.map(|(_, who)| who);
        return test_runs::record(ctx, instance, &c, &run_id, who, artifacts).await.map(AcsOutcome::Redirect);
    }
    let (a, who) = outcome?;
    if a.in_response_to.is_none() {
        return idp_initiated(ctx, instance, &c, &a, who, base_url).await.map(AcsOutcome::Redirect);
    }
    if binding::needs_repost(instance, arrival) {
        return Ok(AcsOutcome::Repost);
    }
    let request_id = a.in_response_to.clone().unwrap_or_default();
    finish::precheck(ctx, instance, &c, &who, refused).await?;
    let arriving = binding::arriving(ctx, &instance.id, arrival).await?;

    let mut tx = ctx.db.begin().await?;
    let request = store::take_request(&mut tx, &instance.id, &c.row.id, &request_id, now)
        .await?
        .filter(|r| r.expires_at > now)
        .ok_or_else(|| refused("The response answers no pending request of this connection (InResponseTo)."))?;
    // Refused here, the transaction is dropped: the request is not spent and still waits for its own browser.
    binding::check(instance, &arriving, &request.client_id, refused)?;
    store::consume_assertion(&mut tx, &instance.id, &c.row.id, &a.id, a.valid_until_ms, now).await.map_err(|e| {
        if e.is_unique_violation() { refused("This assertion was used before (replay).") } else { e.into() }
    })?;
    match request.sign_up_id.as_deref() {
        Some(sign_up_id) => {
            finish::sign_up_tx(ctx, &mut tx, (instance, &c), who, (&request.client_id, sign_up_id), refused).await?;
        }
        None => {
            let ids = (request.client_id.as_str(), request.sign_in_id.as_str());
            finish::sign_in_tx(ctx, &mut tx, (instance, &c), who, ids, refused).await?;
        }
    }
    tx.commit().await?;
    Ok(AcsOutcome::Redirect(request.redirect_url))
}

/// How long the browser has to follow the ticket link of an IdP-initiated sign-in (it does so at once).
pub const IDP_INITIATED_TICKET_S: i64 = 5 * 60;

/// An unsolicited response, verified, to a connection that allows IdP-initiated sign-in: the assertion id is spent
/// (a replay is refused), the user found or provisioned with their enterprise account as in any SSO sign-in, and a
/// one-time sign-in token made; returns the Frontend API's ticket link for it, which signs the arriving browser in
/// on its own client and leads on to the application (when Tessera knows its URL; else the hosted profile page).
async fn idp_initiated(
    ctx: &Ctx,
    instance: &Instance,
    c: &EnterpriseConnection,
    a: &VerifiedAssertion,
    who: Identity,
    base_url: &str,
) -> Result<String> {
    finish::precheck(ctx, instance, c, &who, refused).await?;
    let primary = crate::domains::primary_domain(ctx, instance).await?;
    let application = crate::domains::application_url(instance, &primary);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    store::consume_assertion(&mut tx, &instance.id, &c.row.id, &a.id, a.valid_until_ms, now).await.map_err(|e| {
        if e.is_unique_violation() { refused("This assertion was used before (replay).") } else { e.into() }
    })?;
    let user_id = finish::account_tx(ctx, &mut tx, (instance, c), &who, None, refused).await?;
    crate::users::emit_user(ctx, &mut tx, &instance.id, &user_id, crate::events::EventType::UserUpdated).await?;
    let org = c.row.organization_id.as_deref();
    let ticket =
        crate::tickets::issue_sign_in_token_tx(ctx, &mut tx, &instance.id, (&user_id, org), IDP_INITIATED_TICKET_S)
            .await?;
    tx.commit().await?;
    let mut url = url::Url::parse(&format!("{base_url}{}", crate::tickets::ACCEPT_PATH)).map_err(Error::internal)?;
    url.query_pairs_mut().append_pair("ticket", &ticket);
    if let Some(app) = application {
        url.query_pairs_mut().append_pair("redirect_url", &app);
    }
    Ok(url.to_string())
}

const EMAILS: &[&str] = &[
    "email",
    "emailaddress",
    "email_address",
    "mail",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
];
const FIRST_NAMES: &[&str] = &[
    "firstName",
    "first_name",
    "givenName",
    "given_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "urn:oid:2.5.4.42",
];
const LAST_NAMES: &[&str] = &[
    "lastName",
    "last_name",
    "surname",
    "sn",
    "family_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "urn:oid:2.5.4.4",
];

/// The value of the mapped attribute, or (no mapping) of the first of the usual names.
fn mapped<'a>(a: &'a VerifiedAssertion, mapping: &str, usual: &[&str]) -> Option<&'a str> {
    if mapping.is_empty() { a.attribute(usual) } else { a.attribute(&[mapping]) }
}

/// The asserted e-mail address: the mapped or usual attribute, else a `NameID` that is one.
fn assertion_email(c: &EnterpriseConnection, a: &VerifiedAssertion) -> Option<String> {
    let raw = mapped(a, &c.attribute_mapping.email_address, EMAILS)
        .or_else(|| a.name_id.contains('@').then_some(a.name_id.as_str()))?;
    identifiers::email("email_address", raw).ok()
}

/// The connection's custom attributes read from the assertion (its `sso_path` names the attribute).
fn custom_attributes(c: &EnterpriseConnection, a: &VerifiedAssertion) -> Map<String, Value> {
    let mut out = Map::new();
    for ca in &c.custom_attributes {
        let Some(path) = ca.sso_path.as_deref().filter(|p| !p.is_empty()) else { continue };
        let Some((_, values)) = a.attributes.iter().find(|(n, _)| n == path) else { continue };
        let v = if ca.multi_valued {
            Value::Array(values.iter().cloned().map(Value::String).collect())
        } else {
            match values.first() {
                Some(s) => Value::String(s.clone()),
                None => continue,
            }
        };
        out.insert(ca.key.clone(), v);
    }
    out
}
