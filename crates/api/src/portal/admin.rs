//! The admin portal: the pages an admin portal link token (`POST /v1/admin_portal_link_tokens`) opens, where an
//! organization's IT administrator sets up its single sign-on — adds a SAML or OIDC enterprise connection for its
//! domain, copies the service-provider values into its identity provider, gives the IdP metadata (URL or XML) or the
//! OIDC client, and turns the connection on or off — and sets up directory sync (SCIM, [`directory`]) — without
//! access to the app's secret key.
//!
//! The link is `{Tessera}/admin-portal/open/{token}` (the app builds it from the token it was given). A link scoped
//! to an organization manages that organization's connections (and links the ones it creates to it) and their
//! directories; a link without one manages the connections linked to no organization and theirs. Scopes: see
//! `tessera_core::admin_portal::scope`.

use crate::lazy_route::{get, post};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tessera_core::admin_portal::{self, PortalAccess};
use tessera_core::enterprise_connections::{
    self as connections, By, Changes, ConnectionFilter, EnterpriseConnection, OidcChanges,
};
use tessera_core::instances::{self, Instance};

use super::{Empty, checked_form, cookie, esc, internal, lazy, open_session, page, see_other, user_message};
use crate::AppState;
use crate::extract::Path;
use crate::objects::enterprise_connection::EnterpriseConnectionObject;
use crate::route_table::RouteTable;
use crate::routes::enterprise_connections::fetch_metadata;

mod directory;

/// Where the portal lives.
pub const BASE: &str = "/admin-portal";
const COOKIE: &str = "tessera_admin_portal";
const TITLE: &str = "Single sign-on";
/// The most connections one page lists.
const MAX_CONNECTIONS: i64 = 100;

/// The portal's routes.
pub fn routes(table: RouteTable<AppState>, state: &AppState) -> RouteTable<AppState> {
    let table = table
        .route(&format!("{BASE}/open/{{token}}"), lazy(|| get(open), state))
        .route(BASE, lazy(|| get(dashboard), state))
        .route(&format!("{BASE}/connections"), lazy(|| post(create_connection), state))
        .route(&format!("{BASE}/connections/{{id}}"), lazy(|| get(connection_page).post(update_connection), state))
        .route(&format!("{BASE}/connections/{{id}}/delete"), lazy(|| post(delete_connection), state));
    directory::routes(table, state)
}

fn denied() -> Response {
    page(
        StatusCode::FORBIDDEN,
        TITLE,
        "<p class=\"err\">This admin portal link has expired, was already used or was revoked, or your session \
         ended. Ask the app for a new link.</p>",
    )
}

fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, TITLE, "<p class=\"err\">No such connection.</p>")
}

/// An authenticated portal request.
struct Session {
    access: PortalAccess,
    instance: Instance,
    token: String,
}

async fn session(app: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let token = cookie(headers, COOKIE).ok_or_else(denied)?;
    let access = match admin_portal::session(&app.ctx, &token).await {
        Ok(Some(a)) => a,
        Ok(None) => return Err(denied()),
        Err(e) => return Err(internal(TITLE, &e)),
    };
    match instances::get(&app.ctx, access.instance_id()).await {
        Ok(Some(instance)) => Ok(Session { access, instance, token }),
        Ok(None) => Err(denied()),
        Err(e) => Err(internal(TITLE, &e)),
    }
}

/// A form post: authenticated, allowed to change things, and carrying the session's CSRF token.
async fn form_session<T: serde::de::DeserializeOwned>(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    section: fn(&PortalAccess) -> bool,
) -> Result<(Session, T), Response> {
    let s = session(app, headers).await?;
    if s.access.read_only() || !section(&s.access) {
        return Err(page(StatusCode::FORBIDDEN, TITLE, "<p class=\"err\">This link only shows the settings.</p>"));
    }
    let form = checked_form(TITLE, body, |c| admin_portal::csrf_valid(&app.ctx, &s.token, c))?;
    Ok((s, form))
}

fn csrf_field(app: &AppState, s: &Session) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&admin_portal::csrf_token(&app.ctx, &s.token)))
}

/// The session's connection `id`: of its instance, and linked to the link's organization (or to none).
async fn connection(app: &AppState, s: &Session, id: &str) -> Result<EnterpriseConnection, Response> {
    match connections::get(&app.ctx, s.access.instance_id(), By::Id, id).await {
        Ok(c) if c.row.organization_id.as_deref() == s.access.organization_id() => Ok(c),
        Ok(_) => Err(not_found()),
        Err(e) if e.code().status() == 404 => Err(not_found()),
        Err(e) => Err(internal(TITLE, &e)),
    }
}

/// `GET /admin-portal/open/{token}`: spends the one-time token and opens a session.
async fn open(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    match admin_portal::open(&app.ctx, &token).await {
        Ok(Some((_, session))) => open_session(BASE, COOKIE, BASE, &session, admin_portal::SESSION_TTL_MS),
        Ok(None) => denied(),
        Err(e) => internal(TITLE, &e),
    }
}

/// The fields of the add and edit forms.
#[derive(Debug, Default, Deserialize)]
struct ConnectionForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    idp_metadata_url: String,
    #[serde(default)]
    idp_metadata: String,
    #[serde(default)]
    discovery_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    active: Option<String>,
}

/// A non-empty, trimmed field.
fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl ConnectionForm {
    /// The change this form asks for; the IdP metadata given by URL is fetched here, as the Backend API does.
    async fn changes(&self, instance: &Instance, creating: bool) -> tessera_core::Result<Changes> {
        let saml = if connections::is_saml(&self.provider) || (!creating && self.provider.is_empty()) {
            let idp_metadata = given(&self.idp_metadata);
            let url = given(&self.idp_metadata_url);
            let fetched_metadata =
                if idp_metadata.is_some() { None } else { fetch_metadata(instance, url.as_deref()).await? };
            Some(connections::SamlChanges {
                idp_metadata_url: url,
                fetched_metadata,
                idp_metadata,
                ..Default::default()
            })
        } else {
            None
        };
        let oidc = OidcChanges {
            discovery_url: given(&self.discovery_url),
            client_id: given(&self.client_id),
            client_secret: given(&self.client_secret),
            ..Default::default()
        };
        Ok(Changes {
            name: given(&self.name),
            domains: given(&self.domain).map(|d| vec![d]),
            // A new connection starts off; it is turned on once the IdP side is set up.
            active: if creating { None } else { Some(self.active.is_some()) },
            saml,
            oidc: Some(oidc),
            ..Default::default()
        })
    }
}

fn connection_form(action: &str, csrf: &str, f: &ConnectionForm, saml: bool, creating: bool) -> String {
    let mut out = format!("<form method=\"post\" action=\"{}\">{csrf}", esc(action));
    if creating {
        out.push_str(&format!("<input type=\"hidden\" name=\"provider\" value=\"{}\">", esc(&f.provider)));
        out.push_str(&format!(
            "<p><label>Name <input name=\"name\" size=\"40\" required value=\"{}\"></label></p>\
             <p><label>E-mail domain <input name=\"domain\" size=\"40\" required placeholder=\"example.com\" \
             value=\"{}\"></label></p>",
            esc(&f.name),
            esc(&f.domain)
        ));
    }
    if saml {
        out.push_str(&format!(
            "<p><label>IdP metadata URL <input name=\"idp_metadata_url\" type=\"url\" size=\"60\" value=\"{}\">\
             </label></p><p><label>or the IdP metadata XML<br><textarea name=\"idp_metadata\" rows=\"6\" \
             cols=\"80\">{}</textarea></label></p>",
            esc(&f.idp_metadata_url),
            esc(&f.idp_metadata)
        ));
    } else {
        out.push_str(&format!(
            "<p><label>Discovery URL <input name=\"discovery_url\" type=\"url\" size=\"60\" value=\"{}\"></label></p>\
             <p><label>Client id <input name=\"client_id\" size=\"40\" value=\"{}\"></label></p>\
             <p><label>Client secret <input name=\"client_secret\" type=\"password\" size=\"40\" \
             autocomplete=\"off\"></label>{}</p>",
            esc(&f.discovery_url),
            esc(&f.client_id),
            if creating { "" } else { " <small>(leave empty to keep the current one)</small>" }
        ));
    }
    if !creating {
        let checked = if f.active.is_some() { " checked" } else { "" };
        out.push_str(&format!(
            "<p><label><input type=\"checkbox\" name=\"active\" value=\"true\"{checked}> Enabled: people of this \
             domain sign in through the identity provider</label></p>"
        ));
    }
    out.push_str(&format!(
        "<p><button type=\"submit\">{}</button></p></form>",
        if creating { "Add connection" } else { "Save" }
    ));
    out
}

async fn render_dashboard(app: &AppState, s: &Session, error: Option<&str>, draft: &ConnectionForm) -> Response {
    let ctx = &app.ctx;
    let filter = ConnectionFilter {
        organization_ids: s.access.organization_id().map(|o| vec![o.to_owned()]).unwrap_or_default(),
        ..Default::default()
    };
    let listed = match connections::list(ctx, s.access.instance_id(), &filter, MAX_CONNECTIONS, 0).await {
        // Without an organization, the filter lists every connection: keep those linked to none.
        Ok((list, _)) => list
            .into_iter()
            .filter(|c| c.row.organization_id.as_deref() == s.access.organization_id())
            .collect::<Vec<_>>(),
        Err(e) => return internal(TITLE, &e),
    };
    let mut body = String::new();
    if let Some(org) = s.access.organization_id() {
        let name = match tessera_core::organizations::get_organization(ctx, s.access.instance_id(), org).await {
            Ok(o) => o.name,
            Err(e) => return internal(TITLE, &e),
        };
        body.push_str(&format!("<p>Organization: <strong id=\"organization\">{}</strong></p>", esc(&name)));
    }
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    if s.access.sso() {
        connections_section(app, s, &listed, draft, &mut body);
    }
    if s.access.directory_sync()
        && let Err(e) = directory::section(app, s, &listed, &mut body).await
    {
        return internal(TITLE, &e);
    }
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, TITLE, &body)
}

/// The dashboard's connections and the forms that add one.
fn connections_section(
    app: &AppState,
    s: &Session,
    listed: &[EnterpriseConnection],
    draft: &ConnectionForm,
    body: &mut String,
) {
    body.push_str("<h2>Connections</h2><table id=\"connections\"><tr><th>Name</th><th>Type</th><th>Domains</th><th>State</th></tr>");
    for c in listed {
        body.push_str(&format!(
            "<tr><td><a href=\"{BASE}/connections/{id}\">{name}</a></td><td>{kind}</td><td>{domains}</td>\
             <td>{state}</td></tr>",
            id = esc(&c.row.id),
            name = esc(&c.row.name),
            kind = if c.is_saml() { "SAML" } else { "OIDC" },
            domains = esc(&c.domains.join(", ")),
            state = if c.row.active { "enabled" } else { "off" },
        ));
    }
    body.push_str("</table>");
    if !s.access.read_only() {
        let csrf = csrf_field(app, s);
        let action = format!("{BASE}/connections");
        let saml_draft = if draft.provider == "saml_custom" { draft } else { &ConnectionForm::default() };
        let oidc_draft = if draft.provider == "oidc_custom" { draft } else { &ConnectionForm::default() };
        body.push_str("<h2>Add a SAML connection</h2>");
        let saml = ConnectionForm { provider: "saml_custom".into(), ..clone_form(saml_draft) };
        body.push_str(&connection_form(&action, &csrf, &saml, true, true));
        body.push_str("<h2>Add an OIDC connection</h2>");
        let oidc = ConnectionForm { provider: "oidc_custom".into(), ..clone_form(oidc_draft) };
        body.push_str(&connection_form(&action, &csrf, &oidc, false, true));
    }
}

/// A copy of the form's fields (never its client secret: a page does not echo a secret back).
fn clone_form(f: &ConnectionForm) -> ConnectionForm {
    ConnectionForm {
        provider: f.provider.clone(),
        name: f.name.clone(),
        domain: f.domain.clone(),
        idp_metadata_url: f.idp_metadata_url.clone(),
        idp_metadata: f.idp_metadata.clone(),
        discovery_url: f.discovery_url.clone(),
        client_id: f.client_id.clone(),
        client_secret: String::new(),
        active: f.active.clone(),
    }
}

/// `GET /admin-portal`: the connections and the forms that add one.
async fn dashboard(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match session(&app, &headers).await {
        Ok(s) => render_dashboard(&app, &s, None, &ConnectionForm::default()).await,
        Err(r) => r,
    }
}

/// `POST /admin-portal/connections`: adds a connection (linked to the link's organization).
async fn create_connection(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (s, form) = match form_session::<ConnectionForm>(&app, &headers, &body, PortalAccess::sso).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if form.provider != "saml_custom" && form.provider != "oidc_custom" {
        return super::bad_form(TITLE);
    }
    let created = async {
        let mut changes = form.changes(&s.instance, true).await?;
        changes.organization_id = s.access.organization_id().map(str::to_owned);
        connections::create(&app.ctx, s.access.instance_id(), &form.provider, changes).await
    }
    .await;
    match created {
        Ok(c) => see_other(&format!("{BASE}/connections/{}", c.row.id)),
        Err(e) => match user_message(&e) {
            Some(m) => render_dashboard(&app, &s, Some(&m), &form).await,
            None => internal(TITLE, &e),
        },
    }
}

async fn render_connection(app: &AppState, s: &Session, c: &EnterpriseConnection, error: Option<&str>) -> Response {
    let mut body = format!("<p><a href=\"{BASE}\">All connections</a></p><h2 id=\"name\">{}</h2>", esc(&c.row.name));
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    body.push_str(&format!(
        "<p>Domains: <code>{}</code>. State: <strong id=\"state\">{}</strong>.</p>",
        esc(&c.domains.join(", ")),
        if c.row.active { "enabled" } else { "off" }
    ));
    // What the identity provider needs, exactly as the Backend API reports it.
    let object =
        serde_json::to_value(EnterpriseConnectionObject::new(c, &s.instance.frontend_host())).unwrap_or_default();
    if let Some(saml) = object.get("saml_connection").filter(|v| v.is_object()) {
        body.push_str("<h3>Service provider (enter these in your identity provider)</h3><table id=\"sp\">");
        for (label, key) in
            [("ACS URL", "acs_url"), ("SP entity ID", "sp_entity_id"), ("SP metadata URL", "sp_metadata_url")]
        {
            let value = saml.get(key).and_then(|v| v.as_str()).unwrap_or_default();
            body.push_str(&format!("<tr><th>{label}</th><td><code data-key=\"{key}\">{}</code></td></tr>", esc(value)));
        }
        body.push_str("</table>");
        let idp = |key: &str| saml.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        body.push_str(&format!(
            "<h3>Identity provider</h3><p>Entity ID: <code id=\"idp_entity_id\">{}</code><br>SSO URL: \
             <code id=\"idp_sso_url\">{}</code></p>",
            esc(&idp("idp_entity_id")),
            esc(&idp("idp_sso_url"))
        ));
    }
    if !s.access.read_only() {
        let csrf = csrf_field(app, s);
        let current = ConnectionForm {
            idp_metadata_url: c.row.idp_metadata_url.clone().unwrap_or_default(),
            discovery_url: object
                .pointer("/oauth_config/discovery_url")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            client_id: object
                .pointer("/oauth_config/client_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            active: c.row.active.then(|| "true".to_owned()),
            ..Default::default()
        };
        let action = format!("{BASE}/connections/{}", c.row.id);
        body.push_str("<h3>Settings</h3>");
        body.push_str(&connection_form(&action, &csrf, &current, c.is_saml(), false));
        body.push_str(&format!(
            "<form method=\"post\" action=\"{BASE}/connections/{id}/delete\">{csrf}\
             <button type=\"submit\">Delete this connection</button></form>",
            id = esc(&c.row.id)
        ));
    }
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, TITLE, &body)
}

/// `GET /admin-portal/connections/{id}`: the values to copy, and the settings.
async fn connection_page(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !s.access.sso() {
        return not_found();
    }
    match connection(&app, &s, &id).await {
        Ok(c) => render_connection(&app, &s, &c, None).await,
        Err(r) => r,
    }
}

/// `POST /admin-portal/connections/{id}`: changes the IdP settings and turns the connection on or off.
async fn update_connection(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, form) = match form_session::<ConnectionForm>(&app, &headers, &body, PortalAccess::sso).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let current = match connection(&app, &s, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form =
        ConnectionForm { provider: current.row.provider.clone(), name: String::new(), domain: String::new(), ..form };
    let updated = async {
        let changes = form.changes(&s.instance, false).await?;
        connections::update(&app.ctx, s.access.instance_id(), By::Id, &current.row.id, changes).await
    }
    .await;
    match updated {
        Ok(c) => see_other(&format!("{BASE}/connections/{}", c.row.id)),
        Err(e) => match user_message(&e) {
            Some(m) => render_connection(&app, &s, &current, Some(&m)).await,
            None => internal(TITLE, &e),
        },
    }
}

/// `POST /admin-portal/connections/{id}/delete`
async fn delete_connection(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, _) = match form_session::<Empty>(&app, &headers, &body, PortalAccess::sso).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let current = match connection(&app, &s, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match connections::delete(&app.ctx, s.access.instance_id(), By::Id, &current.row.id).await {
        Ok(_) => see_other(BASE),
        Err(e) => internal(TITLE, &e),
    }
}
