//! Admin portal link tokens: single-use, URL-borne tokens for an organization's IT contact, issued for the
//! instance's origin-level admin portal link (`apl_…`). The token is shown once, at creation, and stored as a keyed
//! digest only. Machine-auth dialect: `aplt_` + 32 hex ids, 400 `bad_request` for request errors.

use tessera_store::admin_portal::{self as store, AdminPortalLinkTokenRow};

use crate::directories::{self, Directory, NewDirectory};
use crate::enterprise_connections::{self, By};
use crate::ids::{is_hex_id, is_ksuid_id, new_hex_id, new_id, random_base62};
use crate::{Ctx, Error, ErrorCode, Result};

/// Prefix of token ids and tokens.
pub const PREFIX: &str = "aplt";
/// Default lifetime.
pub const DEFAULT_SECONDS: i64 = 3600;
/// Longest lifetime.
pub const MAX_SECONDS: i64 = 86_400;
/// Random base62 characters of a token: 43 × 5.95 ≈ 256 bits.
const TOKEN_CHARS: usize = 43;

/// A token as the API shows it.
#[derive(Debug, Clone)]
pub struct AdminPortalLinkToken {
    /// The row.
    pub row: AdminPortalLinkTokenRow,
    /// Scopes, when given.
    pub scopes: Option<Vec<String>>,
    /// Whether `expiration` has passed.
    pub expired: bool,
    /// The token itself, only right after creation.
    pub token: Option<String>,
}

impl AdminPortalLinkToken {
    fn from_row(row: AdminPortalLinkTokenRow, now: i64, token: Option<String>) -> Result<Self> {
        let scopes = row.scopes.as_deref().map(serde_json::from_str).transpose().map_err(Error::internal)?;
        Ok(Self { expired: row.expiration <= now, scopes, row, token })
    }
}

/// Input of [`create`].
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    /// `org_…` the link is scoped to.
    pub organization_id: Option<String>,
    /// Opaque IT-contact reference.
    pub it_contact_id: Option<String>,
    /// Caller scopes.
    pub scopes: Option<Vec<String>>,
    /// Lifetime, 1..=86400 s (default 3600).
    pub seconds_until_expiration: Option<i64>,
}

fn bad(param: &str, why: impl Into<String>) -> Error {
    Error::with(ErrorCode::BadRequest, ErrorCode::BadRequest.message(), why, Some(param))
}

/// 404 for a token.
pub fn not_found() -> Error {
    Error::not_found("admin portal link token")
}

/// Normalizes a path id; anything that cannot be a token id is 404 like an unknown one.
pub fn parse_id(raw: &str) -> Result<String> {
    if is_hex_id(raw, PREFIX) { Ok(raw.to_ascii_lowercase()) } else { Err(not_found()) }
}

/// Issues a token.
pub async fn create(ctx: &Ctx, instance_id: &str, input: NewToken) -> Result<AdminPortalLinkToken> {
    let seconds = input.seconds_until_expiration.unwrap_or(DEFAULT_SECONDS);
    if !(1..=MAX_SECONDS).contains(&seconds) {
        return Err(bad("seconds_until_expiration", "seconds_until_expiration must be between 1 and 86400."));
    }
    if input.it_contact_id.as_deref().is_some_and(str::is_empty) {
        return Err(bad("it_contact_id", "it_contact_id must not be empty."));
    }
    if input.scopes.as_ref().is_some_and(|s| s.iter().any(String::is_empty)) {
        return Err(bad("scopes", "scopes must not contain empty strings."));
    }
    if let Some(org) = &input.organization_id
        && !is_ksuid_id(org, "org")
    {
        return Err(bad("organization_id", "organization_id must be an organization id (org_…)."));
    }
    let token = format!("{PREFIX}_{}", random_base62(TOKEN_CHARS));
    let hash = ctx.secrets.digest(&token);
    let scopes = input.scopes.as_ref().map(serde_json::to_string).transpose().map_err(Error::internal)?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if let Some(org) = &input.organization_id
        && tessera_store::organizations::lock(&mut tx, instance_id, org).await?.is_none()
    {
        return Err(bad("organization_id", format!("No organization was found with id {org}.")));
    }
    let link = store::link_id_for(&mut tx, instance_id, &new_id("apl"), now).await?;
    let row = AdminPortalLinkTokenRow {
        id: new_hex_id(PREFIX),
        instance_id: instance_id.to_owned(),
        admin_portal_link_id: link,
        organization_id: input.organization_id,
        it_contact_id: input.it_contact_id,
        scopes,
        token_hash: hash,
        revoked: false,
        revocation_reason: None,
        expiration: now + seconds * 1000,
        used_at: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    AdminPortalLinkToken::from_row(row, now, Some(token))
}

/// Revokes a token. Revoking a revoked token changes nothing (its first reason stays).
pub async fn revoke(ctx: &Ctx, instance_id: &str, id: &str, reason: Option<String>) -> Result<AdminPortalLinkToken> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if !row.revoked {
        store::revoke(&mut tx, instance_id, id, reason.as_deref(), now).await?;
        row.revoked = true;
        row.revocation_reason = reason;
        row.updated_at = now;
    }
    tx.commit().await?;
    AdminPortalLinkToken::from_row(row, now, None)
}

/// How long an admin portal session lasts after the link is opened.
pub const SESSION_TTL_MS: i64 = 60 * 60 * 1000;

/// Scopes the portal understands. `sso` and `directory_sync` name the sections a link opens (a link naming neither
/// opens both); `admin_portal:read` without `admin_portal:write` makes the pages read-only. Other scopes are kept
/// on the token and ignored.
pub mod scope {
    /// The enterprise-connection section.
    pub const SSO: &str = "sso";
    /// The directory section.
    pub const DIRECTORY_SYNC: &str = "directory_sync";
    /// Read-only pages.
    pub const READ: &str = "admin_portal:read";
    /// Pages that change things (overrides `admin_portal:read`).
    pub const WRITE: &str = "admin_portal:write";
}

/// What an admin portal session may see and do: the token that opened it.
#[derive(Debug, Clone)]
pub struct PortalAccess {
    /// The token that opened the session.
    pub token: AdminPortalLinkTokenRow,
    scopes: Vec<String>,
}

impl PortalAccess {
    fn new(token: AdminPortalLinkTokenRow) -> Result<Self> {
        let scopes = token.scopes.as_deref().map(serde_json::from_str).transpose().map_err(Error::internal)?;
        Ok(Self { token, scopes: scopes.unwrap_or_default() })
    }

    fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The instance.
    pub fn instance_id(&self) -> &str {
        &self.token.instance_id
    }

    /// The organization the link is scoped to; `None`: connections and directories linked to no organization.
    pub fn organization_id(&self) -> Option<&str> {
        self.token.organization_id.as_deref()
    }

    /// Whether the pages only show.
    pub fn read_only(&self) -> bool {
        self.has(scope::READ) && !self.has(scope::WRITE)
    }

    fn sections_named(&self) -> bool {
        self.has(scope::SSO) || self.has(scope::DIRECTORY_SYNC)
    }

    /// Whether the enterprise-connection section is open.
    pub fn sso(&self) -> bool {
        !self.sections_named() || self.has(scope::SSO)
    }

    /// Whether the directory section is open.
    pub fn directory_sync(&self) -> bool {
        !self.sections_named() || self.has(scope::DIRECTORY_SYNC)
    }
}

/// Spends a link token (once: unused, unrevoked, unexpired) and opens a session. Returns the session token, or
/// `None` for a token that does not open the portal.
pub async fn open(ctx: &Ctx, token: &str) -> Result<Option<(PortalAccess, String)>> {
    if !token.starts_with("aplt_") {
        return Ok(None);
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let Some(row) = store::redeem(&mut tx, &ctx.secrets.digest(token), now).await? else { return Ok(None) };
    let session = format!("apls_{}", random_base62(TOKEN_CHARS));
    store::insert_session(&mut tx, &ctx.secrets.digest(&session), &row.instance_id, &row.id, now + SESSION_TTL_MS)
        .await?;
    tx.commit().await?;
    Ok(Some((PortalAccess::new(row)?, session)))
}

/// The access of a live session (not expired; its token not revoked since).
pub async fn session(ctx: &Ctx, session: &str) -> Result<Option<PortalAccess>> {
    match store::session_token(&ctx.db, &ctx.secrets.digest(session), ctx.now_ms()).await? {
        Some(row) => Ok(Some(PortalAccess::new(row)?)),
        None => Ok(None),
    }
}

/// The CSRF token of a session (derived from it, so nothing more is stored).
pub fn csrf_token(ctx: &Ctx, session: &str) -> String {
    hex::encode(ctx.secrets.digest(&format!("admin-portal-csrf:{session}")))
}

/// Whether `given` is the session's CSRF token (constant time).
pub fn csrf_valid(ctx: &Ctx, session: &str, given: &str) -> bool {
    crate::crypto::constant_time_eq(csrf_token(ctx, session).as_bytes(), given.as_bytes())
}

/// The directories an admin portal session manages: those of the connections linked to its link's organization
/// (or, for a link without one, to no organization) — the same scope as its connections.
pub async fn directories(ctx: &Ctx, access: &PortalAccess) -> Result<Vec<Directory>> {
    directories::of_organization(ctx, access.instance_id(), access.organization_id()).await
}

/// One of the session's directories; another scope's (or an unknown one) is 404.
pub async fn directory(ctx: &Ctx, access: &PortalAccess, id: &str) -> Result<Directory> {
    let d = directories::get(ctx, access.instance_id(), id).await?;
    match directories::connection(ctx, &d).await? {
        Some(c) if c.row.organization_id.as_deref() == access.organization_id() => Ok(d),
        _ => Err(directories::not_found()),
    }
}

/// Creates the session's directory, for one of its connections, while it has none: an IT administrator sets up
/// one provisioning endpoint for their organization (more are the app's to make, through the Backend API). The
/// answer carries the API key, shown this once.
pub async fn create_directory(
    ctx: &Ctx,
    access: &PortalAccess,
    connection_id: &str,
    provider: &str,
) -> Result<Directory> {
    let c = match enterprise_connections::get(ctx, access.instance_id(), By::Id, connection_id).await {
        Ok(c) if c.row.organization_id.as_deref() == access.organization_id() => c,
        Ok(_) => return Err(no_such_connection(connection_id)),
        Err(e) if e.status() == 404 => return Err(no_such_connection(connection_id)),
        Err(e) => return Err(e),
    };
    if !directories(ctx, access).await?.is_empty() {
        return Err(Error::param_value_invalid(
            "enterprise_connection_id",
            "A directory is already set up here; rotate its API key or delete it instead.",
        ));
    }
    let input = NewDirectory {
        enterprise_connection_id: Some(c.row.id),
        provider: Some(provider.to_owned()),
        ..Default::default()
    };
    directories::create(ctx, access.instance_id(), input).await
}

fn no_such_connection(id: &str) -> Error {
    Error::param_value_invalid("enterprise_connection_id", format!("No enterprise connection was found with id {id}."))
}
