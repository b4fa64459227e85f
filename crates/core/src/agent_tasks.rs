//! Agent tasks: a single-use ticket that signs a user in on the Frontend API host on behalf of an agent, then
//! redirects. `POST /agents/tasks` creates one (the ticket is shown once, inside `url`, and stored as a keyed
//! digest); `POST /agents/tasks/{id}/revoke` revokes a pending one; [`redeem`] is what the Frontend API calls
//! when the URL is visited. A task is `pending`, then `accepted` or `revoked`, or expired once `expire_at` passes.
//!
//! Every agent name gets one `agt_…` id per instance (the `agents` table), so an agent's tasks can be told apart
//! from its other tasks in audit logs.

use tessera_store::Tx;
use tessera_store::agent_tasks::{self as store, AgentTaskRow};
use tessera_store::domains::DomainRow;

use crate::instances::{Environment, Instance};
use crate::settings::validate;
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result, ids, sessions};

/// Default lifetime of the session an agent task creates (Clerk: 30 minutes).
pub const DEFAULT_SESSION_S: i64 = 1800;
/// How long the ticket of a task can be redeemed. Clerk does not document it; an agent visits the URL at once
/// (Playwright's `page.goto(url)`), so an hour, as for actor tokens.
pub const TICKET_LIFETIME_S: i64 = 3600;
/// The only permission set Clerk accepts.
pub const ALL_PERMISSIONS: &str = "*";
/// Length of the random part of a ticket.
const TICKET_LEN: usize = 48;
/// Longest agent name accepted.
const MAX_AGENT_NAME: usize = 256;
/// Longest task description accepted.
const MAX_DESCRIPTION: usize = 4096;
/// Longest redirect URL accepted.
const MAX_URL: usize = 2048;

/// Task statuses (expiry is derived from `expire_at`).
pub mod status {
    /// Not redeemed yet.
    pub const PENDING: &str = "pending";
    /// Redeemed into a session.
    pub const ACCEPTED: &str = "accepted";
    /// Revoked before use.
    pub const REVOKED: &str = "revoked";
}

/// An agent task as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentTask {
    /// `agt_…`, stable per agent name within the instance.
    pub agent_id: String,
    /// `agttsk_…`
    pub agent_task_id: String,
    /// The URL that redeems the ticket; only in the creation answer.
    pub url: Option<String>,
}

/// Who the agent acts for: exactly one of the two.
#[derive(Debug, Default, Clone)]
pub struct OnBehalfOf {
    /// A user id.
    pub user_id: Option<String>,
    /// An email address, phone number or web3 wallet the user has verified, or the user's username.
    pub identifier: Option<String>,
}

/// Body of `POST /agents/tasks`.
#[derive(Debug, Default, Clone)]
pub struct NewAgentTask {
    /// The user.
    pub on_behalf_of: Option<OnBehalfOf>,
    /// Must be `*`.
    pub permissions: Option<String>,
    /// The agent's name (its id is derived from it).
    pub agent_name: Option<String>,
    /// What the agent does, for audit.
    pub task_description: Option<String>,
    /// Where the browser goes after the ticket is redeemed.
    pub redirect_url: Option<String>,
    /// Lifetime of the created session (default 1800).
    pub session_max_duration_in_seconds: Option<i64>,
}

/// What redeeming an agent task's ticket yields: the Frontend API creates the session from it and redirects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemedAgentTask {
    /// The user to sign in.
    pub user_id: String,
    /// Where to send the browser (checked against the instance's rules again at redemption).
    pub redirect_url: String,
    /// The session's lifetime.
    pub session_max_duration_ms: i64,
    /// The agent.
    pub agent_id: String,
    /// The task.
    pub agent_task_id: String,
}

/// The URL that redeems `ticket` on the instance's Frontend API host.
pub fn ticket_url(instance: &Instance, ticket: &str) -> String {
    format!("https://{}{}?ticket={ticket}", instance.frontend_host(), crate::tickets::ACCEPT_PATH)
}

fn required_text(param: &str, value: Option<String>, max: usize) -> Result<String> {
    let value =
        value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or_else(|| Error::param_missing(param))?;
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(Error::param_value_invalid(
            param,
            format!("{param} must be at most {max} characters, without control characters."),
        ));
    }
    Ok(value)
}

/// The instance's rules for where a redirect may go, read inside a transaction.
struct RedirectRules {
    environment: Environment,
    domains: Vec<DomainRow>,
    redirect_urls: Vec<String>,
    allowed_origins: Vec<String>,
}

impl RedirectRules {
    async fn load(tx: &mut Tx, instance: &Instance) -> Result<Self> {
        let config = crate::settings::instance_config_tx(tx, &instance.id, instance.environment).await?;
        Ok(Self {
            environment: instance.environment,
            domains: tessera_store::domains::list_tx(tx, &instance.id).await?,
            redirect_urls: tessera_store::redirect_urls::urls_tx(tx, &instance.id).await?,
            allowed_origins: config.allowed_origins.unwrap_or_default(),
        })
    }

    /// Checks a redirect URL: absolute, `https` (or `http` in development), no credentials; and its host is one of
    /// the instance's domains or below one, or its origin is an allowed origin, or it starts with one of the
    /// instance's redirect URLs, or (development only) it is local (`localhost`, loopback), where apps under
    /// development run.
    fn check(&self, raw: &str) -> Result<String> {
        const PARAM: &str = "redirect_url";
        let dev = self.environment == Environment::Development;
        let invalid = || {
            Error::param_format_invalid(
                PARAM,
                if dev {
                    "redirect_url must be an absolute http or https URL."
                } else {
                    "redirect_url must be an absolute https URL."
                },
            )
        };
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_URL || raw.chars().any(char::is_control) {
            return Err(invalid());
        }
        let url = url::Url::parse(raw).map_err(|_| invalid())?;
        let scheme_ok = url.scheme() == "https" || (dev && url.scheme() == "http");
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(invalid)?.to_ascii_lowercase();
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return Err(invalid());
        }
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let under = |domain: &str| {
            let domain = domain.rsplit_once(':').map_or(domain, |(h, _)| h).to_ascii_lowercase();
            host == domain || host.ends_with(&format!(".{domain}"))
        };
        let origin = url.origin().ascii_serialization();
        let allowed = self.domains.iter().any(|d| under(&d.name))
            || self.allowed_origins.iter().any(|o| o.eq_ignore_ascii_case(&origin))
            || self.redirect_urls.iter().any(|r| {
                url.as_str() == r
                    || r.as_str() == raw
                    || (raw.starts_with(r.as_str())
                        && (r.ends_with('/') || matches!(raw.as_bytes().get(r.len()), Some(b'/' | b'?' | b'#'))))
            })
            || (dev && (validate::is_local_host(&host) || host == "::1"));
        if !allowed {
            return Err(Error::param_value_invalid(
                PARAM,
                "redirect_url must point to one of the instance's domains, allowed origins or redirect URLs.",
            ));
        }
        Ok(url.to_string())
    }
}

/// Finds the user an agent acts for, inside the transaction: 404 if there is none.
async fn resolve_user(tx: &mut Tx, instance_id: &str, who: OnBehalfOf) -> Result<String> {
    let user_id = who.user_id.filter(|u| !u.is_empty());
    let identifier = who.identifier.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
    match (user_id, identifier) {
        (Some(_), Some(_)) => Err(Error::param_value_invalid(
            "on_behalf_of",
            "on_behalf_of must have exactly one of user_id and identifier.",
        )),
        (None, None) => Err(Error::param_missing("on_behalf_of.user_id")),
        (Some(user_id), None) => {
            tessera_store::users::lock(tx, instance_id, &user_id).await?.ok_or_else(crate::users::not_found)?;
            Ok(user_id)
        }
        (None, Some(identifier)) => {
            let found = if identifier.contains('@') {
                let key = identifiers::email_key(&identifier);
                store::user_by_verified_identifier(tx, instance_id, identifiers::EMAIL, &key).await?
            } else if identifier.starts_with('+') {
                let key = identifiers::phone_key(&identifier);
                store::user_by_verified_identifier(tx, instance_id, identifiers::PHONE, &key).await?
            } else if identifier.starts_with("0x") {
                let key = identifiers::web3_key(&identifier);
                store::user_by_verified_identifier(tx, instance_id, identifiers::WEB3, &key).await?
            } else {
                None
            };
            let found = match found {
                Some(u) => Some(u),
                None => store::user_by_username(tx, instance_id, &identifiers::username_key(&identifier)).await?,
            };
            let user_id = found.ok_or_else(crate::users::not_found)?;
            tessera_store::users::lock(tx, instance_id, &user_id).await?.ok_or_else(crate::users::not_found)?;
            Ok(user_id)
        }
    }
}

/// `POST /agents/tasks`: a pending task with a new ticket. An unknown user (by id or identifier) is a 404.
pub async fn create(ctx: &Ctx, instance: &Instance, input: NewAgentTask) -> Result<AgentTask> {
    let who = input.on_behalf_of.ok_or_else(|| Error::param_missing("on_behalf_of"))?;
    match input.permissions.as_deref() {
        None => return Err(Error::param_missing("permissions")),
        Some(ALL_PERMISSIONS) => {}
        Some(_) => return Err(Error::param_value_invalid("permissions", "permissions must be \"*\".")),
    }
    let agent_name = required_text("agent_name", input.agent_name, MAX_AGENT_NAME)?;
    let task_description = required_text("task_description", input.task_description, MAX_DESCRIPTION)?;
    let redirect_url =
        input.redirect_url.filter(|u| !u.trim().is_empty()).ok_or_else(|| Error::param_missing("redirect_url"))?;
    let max_session_s = sessions::SESSION_LIFETIME_MS / 1000;
    let session_s = match input.session_max_duration_in_seconds {
        None => DEFAULT_SESSION_S,
        Some(s) if (1..=max_session_s).contains(&s) => s,
        Some(_) => {
            return Err(Error::param_value_invalid(
                "session_max_duration_in_seconds",
                format!("session_max_duration_in_seconds must be between 1 and {max_session_s}."),
            ));
        }
    };
    let ticket = ids::random_base62(TICKET_LEN);
    let ticket_hash = ctx.secrets.digest(&ticket);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let redirect_url = RedirectRules::load(&mut tx, instance).await?.check(&redirect_url)?;
    let user_id = resolve_user(&mut tx, &instance.id, who).await?;
    let agent_id = store::agent_id_for(&mut tx, &instance.id, &agent_name, &ids::new_id("agt"), now).await?;
    let row = AgentTaskRow {
        id: ids::new_id("agttsk"),
        instance_id: instance.id.clone(),
        agent_id,
        user_id,
        permissions: ALL_PERMISSIONS.into(),
        task_description,
        redirect_url,
        session_max_duration_seconds: session_s,
        status: status::PENDING.into(),
        ticket_hash,
        expire_at: now + TICKET_LIFETIME_S * 1000,
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(AgentTask { agent_id: row.agent_id, agent_task_id: row.id, url: Some(ticket_url(instance, &ticket)) })
}

/// `POST /agents/tasks/{id}/revoke`: revokes a pending task; an accepted, revoked or expired one is a 400
/// `agent_task_cannot_be_revoked`.
pub async fn revoke(ctx: &Ctx, instance_id: &str, id: &str) -> Result<AgentTask> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(|| Error::not_found("agent_task"))?;
    if now >= row.expire_at
        || store::set_status(&mut tx, instance_id, id, status::PENDING, status::REVOKED, now).await? == 0
    {
        return Err(Error::new(ErrorCode::AgentTaskCannotBeRevoked));
    }
    tx.commit().await?;
    Ok(AgentTask { agent_id: row.agent_id, agent_task_id: row.id, url: None })
}

/// Redeems an agent task's ticket for the instance (the Frontend API resolves the instance from its host):
/// checks it and marks the task `accepted`, in one transaction. Unknown, used and revoked tickets are 400
/// `token_invalid`, expired ones 400 `token_expired`; a banned user 400 `user_banned`, a locked one 403
/// `user_locked` (the task then stays pending); a redirect URL the instance no longer allows 422 on
/// `redirect_url`. The ticket is looked up by its keyed digest, never compared in the clear.
pub async fn redeem(ctx: &Ctx, instance_id: &str, ticket: &str) -> Result<RedeemedAgentTask> {
    let instance: Instance = tessera_store::instances::get(&ctx.db, instance_id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?
        .into();
    let mut tx = ctx.db.begin().await?;
    let redeemed = redeem_tx(ctx, &mut tx, &instance, ticket).await?;
    tx.commit().await?;
    Ok(redeemed)
}

/// [`redeem`] inside the caller's transaction, so that the session the Frontend API creates commits together
/// with the acceptance (nothing is written when it fails; the caller then drops the transaction).
pub async fn redeem_tx(ctx: &Ctx, tx: &mut Tx, instance: &Instance, ticket: &str) -> Result<RedeemedAgentTask> {
    let invalid = || Error::new(ErrorCode::TokenInvalid);
    if ticket.is_empty() || ticket.len() > 256 {
        return Err(invalid());
    }
    let now = ctx.now_ms();
    let row = store::lock_by_ticket(tx, &instance.id, &ctx.secrets.digest(ticket)).await?.ok_or_else(invalid)?;
    if row.status != status::PENDING {
        return Err(invalid());
    }
    if now >= row.expire_at {
        return Err(Error::new(ErrorCode::TokenExpired));
    }
    let user = tessera_store::users::lock(tx, &instance.id, &row.user_id).await?.ok_or_else(invalid)?;
    if user.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    if user.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
    }
    let lock = crate::users::lockout::LockState::of(&user, now);
    if lock.locked {
        return Err(lock.error());
    }
    // The instance's domains and redirect URLs may have changed since the task was created.
    let redirect_url = RedirectRules::load(tx, instance).await?.check(&row.redirect_url)?;
    if store::set_status(tx, &instance.id, &row.id, status::PENDING, status::ACCEPTED, now).await? == 0 {
        return Err(invalid());
    }
    Ok(RedeemedAgentTask {
        user_id: row.user_id,
        redirect_url,
        session_max_duration_ms: row.session_max_duration_seconds * 1000,
        agent_id: row.agent_id,
        agent_task_id: row.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str) -> DomainRow {
        DomainRow {
            id: "dmn_1".into(),
            instance_id: "ins_1".into(),
            name: name.into(),
            is_satellite: false,
            is_primary: true,
            is_secondary: false,
            frontend_api_url: format!("https://clerk.{name}"),
            accounts_portal_url: None,
            proxy_url: None,
            development_origin: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn rules(environment: Environment) -> RedirectRules {
        RedirectRules {
            environment,
            domains: vec![domain("example.com"), domain("localhost:3001")],
            redirect_urls: vec!["https://partner.io/cb".into(), "my-app://done".into()],
            allowed_origins: vec!["https://allowed.dev:8443".into()],
        }
    }

    #[test]
    fn production_redirects_stay_on_the_instances_domains_over_https() {
        let r = rules(Environment::Production);
        for ok in [
            "https://example.com/dashboard",
            "https://app.example.com/x?y=1",
            "https://partner.io/cb",
            "https://partner.io/cb/more?x=1",
            "https://allowed.dev:8443/anything",
        ] {
            assert!(r.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/dashboard",
            "https://evil.com/",
            "https://example.com.evil.com/",
            "https://badexample.com/",
            "https://partner.io/cbx",
            "https://allowed.dev/",
            "http://localhost:3000/",
            "https://user:pw@example.com/",
            "javascript:alert(1)",
            "/relative",
            "",
        ] {
            assert!(r.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn development_also_allows_http_and_local_hosts() {
        let r = rules(Environment::Development);
        for ok in ["http://localhost:3000/dashboard", "http://127.0.0.1/", "http://example.com/", "http://[::1]:8080/"]
        {
            assert!(r.check(ok).is_ok(), "{ok}");
        }
        for bad in ["http://evil.com/", "ftp://localhost/", "data:text/html,x"] {
            assert!(r.check(bad).is_err(), "{bad}");
        }
    }
}
