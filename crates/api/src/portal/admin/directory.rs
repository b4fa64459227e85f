//! The admin portal's directory section: where the IT administrator sets up directory sync (SCIM) for the link's
//! organization — sees its directory's SCIM base URL, provider and state, creates it when there is none, rotates
//! its API key (shown once; the replaced key keeps working for the grace period of the Backend API's rotation),
//! turns provisioning on or off and deletes it. Every change is the core operation the Backend API's
//! `/directories` routes call; the scope is the link's (`tessera_core::admin_portal::directories`).

use crate::lazy_route::{get, post};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tessera_core::admin_portal::{self, PortalAccess};
use tessera_core::directories::{self, Directory, DirectoryUpdate};
use tessera_core::enterprise_connections::EnterpriseConnection;

use super::{BASE, ConnectionForm, Session, TITLE, csrf_field, form_session, render_dashboard, session};
use crate::AppState;
use crate::extract::Path;
use crate::objects::directory::{DirectoryObject, View};
use crate::portal::{Empty, esc, internal, lazy, page, see_other, user_message};
use crate::route_table::RouteTable;

/// The identity providers the create form offers (any SCIM client works as `custom`).
const PROVIDERS: &[(&str, &str)] =
    &[("okta", "Okta"), ("microsoft", "Microsoft Entra ID"), ("onelogin", "OneLogin"), ("custom", "Other (SCIM 2.0)")];

/// The section's routes.
pub(super) fn routes(table: RouteTable<AppState>, state: &AppState) -> RouteTable<AppState> {
    table
        .route(&format!("{BASE}/directories"), lazy(|| post(create_directory), state))
        .route(&format!("{BASE}/directories/{{id}}"), lazy(|| get(directory_page).post(update_directory), state))
        .route(&format!("{BASE}/directories/{{id}}/rotate"), lazy(|| post(rotate_api_key), state))
        .route(&format!("{BASE}/directories/{{id}}/delete"), lazy(|| post(delete_directory), state))
}

fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, TITLE, "<p class=\"err\">No such directory.</p>")
}

/// The session's directory `id` (404 outside the link's scope, or when the link does not open this section).
async fn directory(app: &AppState, s: &Session, id: &str) -> Result<Directory, Response> {
    if !s.access.directory_sync() {
        return Err(not_found());
    }
    admin_portal::directory(&app.ctx, &s.access, id).await.map_err(|e| failed(&e))
}

/// The page for a failed directory operation: 404 when the directory is gone (deleted meanwhile), else 500.
fn failed(e: &tessera_core::Error) -> Response {
    if e.status() == 404 { not_found() } else { internal(TITLE, e) }
}

/// A form post about the session's directory `id`: the session, the form and the directory.
async fn directory_form<T: serde::de::DeserializeOwned>(
    app: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &Bytes,
) -> Result<(Session, T, Directory), Response> {
    let (s, form) = form_session::<T>(app, headers, body, PortalAccess::directory_sync).await?;
    let current = directory(app, &s, id).await?;
    Ok((s, form, current))
}

/// The dashboard's directory section: the scope's directories, or the form that creates one.
pub(super) async fn section(
    app: &AppState,
    s: &Session,
    connections: &[EnterpriseConnection],
    body: &mut String,
) -> tessera_core::Result<()> {
    let listed = admin_portal::directories(&app.ctx, &s.access).await?;
    body.push_str("<h2>Directory sync (SCIM)</h2>");
    if !listed.is_empty() {
        body.push_str("<table id=\"directories\"><tr><th>Name</th><th>Provider</th><th>State</th></tr>");
        for d in &listed {
            body.push_str(&format!(
                "<tr><td><a href=\"{BASE}/directories/{id}\">{name}</a></td><td>{provider}</td><td>{state}</td></tr>",
                id = esc(&d.row.id),
                name = esc(&d.row.name),
                provider = esc(&d.row.provider),
                state = state(d),
            ));
        }
        body.push_str("</table>");
        return Ok(());
    }
    body.push_str("<p id=\"no-directory\">No directory is set up.</p>");
    if s.access.read_only() {
        return Ok(());
    }
    if connections.is_empty() {
        body.push_str("<p>Add a connection first: the directory provisions the people who sign in through it.</p>");
        return Ok(());
    }
    let mut form = format!("<form method=\"post\" action=\"{BASE}/directories\">{}", csrf_field(app, s));
    form.push_str("<p><label>Connection <select name=\"enterprise_connection_id\">");
    for c in connections {
        form.push_str(&format!("<option value=\"{}\">{}</option>", esc(&c.row.id), esc(&c.row.name)));
    }
    form.push_str("</select></label></p><p><label>Identity provider <select name=\"provider\">");
    for (value, label) in PROVIDERS {
        form.push_str(&format!("<option value=\"{value}\">{label}</option>"));
    }
    form.push_str("</select></label></p><p><button type=\"submit\">Set up directory sync</button></p></form>");
    body.push_str(&form);
    Ok(())
}

fn state(d: &Directory) -> &'static str {
    if d.row.enabled { "enabled" } else { "off" }
}

/// The directory's page; `api_key` is the key just issued (shown this once).
fn render(app: &AppState, s: &Session, d: &Directory, api_key: Option<&str>) -> Response {
    let object = DirectoryObject::new(d, View::Directory, &s.instance.frontend_host());
    let endpoint = serde_json::to_value(&object)
        .ok()
        .and_then(|v| v.get("endpoint_url").and_then(|u| u.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let mut body = format!(
        "<p><a href=\"{BASE}\">Back</a></p><h2 id=\"name\">{name}</h2>\
         <p>Provider: <code id=\"provider\">{provider}</code>. State: <strong id=\"state\">{state}</strong>.</p>\
         <h3>Enter these in your identity provider</h3><table id=\"scim\">\
         <tr><th>SCIM base URL</th><td><code id=\"endpoint_url\">{endpoint}</code></td></tr>\
         <tr><th>Authentication</th><td>HTTP header <code>Authorization: Bearer</code> with the API key</td></tr></table>",
        name = esc(&d.row.name),
        provider = esc(&d.row.provider),
        state = state(d),
        endpoint = esc(&endpoint),
    );
    if let Some(key) = api_key {
        body.push_str(&format!(
            "<p><strong>API key</strong> (copy it now: it is shown only this once): <code id=\"api_key\">{}</code></p>",
            esc(key)
        ));
    }
    if !s.access.read_only() {
        let csrf = csrf_field(app, s);
        let id = esc(&d.row.id);
        let checked = if d.row.enabled { " checked" } else { "" };
        let grace_minutes = directories::ROTATION_GRACE_MS / 60_000;
        body.push_str(&format!(
            "<h3>Settings</h3><form method=\"post\" action=\"{BASE}/directories/{id}\">{csrf}\
             <p><label><input type=\"checkbox\" name=\"enabled\" value=\"true\"{checked}> Enabled: the identity \
             provider creates, updates and deactivates people</label></p><p><button type=\"submit\">Save</button></p>\
             </form>\
             <form method=\"post\" action=\"{BASE}/directories/{id}/rotate\">{csrf}<p><button type=\"submit\">\
             Generate a new API key</button> <small>(the current key keeps working for {grace_minutes} minutes)\
             </small></p></form>\
             <form method=\"post\" action=\"{BASE}/directories/{id}/delete\">{csrf}<p><button type=\"submit\">\
             Delete this directory</button> <small>(provisioning stops at once)</small></p></form>"
        ));
    }
    page(StatusCode::OK, TITLE, &body)
}

/// `GET /admin-portal/directories/{id}`
async fn directory_page(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match directory(&app, &s, &id).await {
        Ok(d) => render(&app, &s, &d, None),
        Err(r) => r,
    }
}

/// The fields of the create form.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    enterprise_connection_id: String,
    #[serde(default)]
    provider: String,
}

/// `POST /admin-portal/directories`: the scope's directory, with its API key shown once (the answer is the
/// directory's page itself, not a redirect: nothing keeps the key to show it later).
async fn create_directory(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (s, form) = match form_session::<CreateForm>(&app, &headers, &body, PortalAccess::directory_sync).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match admin_portal::create_directory(&app.ctx, &s.access, &form.enterprise_connection_id, &form.provider).await {
        Ok(d) => render(&app, &s, &d, d.api_key.as_deref()),
        Err(e) => match user_message(&e) {
            Some(m) => render_dashboard(&app, &s, Some(&m), &ConnectionForm::default()).await,
            None => internal(TITLE, &e),
        },
    }
}

/// The fields of the settings form (an unchecked box is absent).
#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    enabled: Option<String>,
}

/// `POST /admin-portal/directories/{id}`: turns provisioning on or off.
async fn update_directory(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, form, current) = match directory_form::<SettingsForm>(&app, &headers, &id, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let change = DirectoryUpdate { enabled: Some(form.enabled.is_some()), ..Default::default() };
    match directories::update(&app.ctx, s.access.instance_id(), &current.row.id, change).await {
        Ok(d) => see_other(&format!("{BASE}/directories/{}", d.row.id)),
        Err(e) => failed(&e),
    }
}

/// `POST /admin-portal/directories/{id}/rotate`: a new API key, shown once; the old one keeps working for the
/// rotation's grace period, so the IdP can be switched over without a gap.
async fn rotate_api_key(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, _, current) = match directory_form::<Empty>(&app, &headers, &id, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match directories::rotate_api_key(&app.ctx, s.access.instance_id(), &current.row.id).await {
        Ok(d) => render(&app, &s, &d, d.api_key.as_deref()),
        Err(e) => failed(&e),
    }
}

/// `POST /admin-portal/directories/{id}/delete`: provisioning stops, its API key stops working at once.
async fn delete_directory(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, _, current) = match directory_form::<Empty>(&app, &headers, &id, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match directories::delete(&app.ctx, s.access.instance_id(), &current.row.id).await {
        Ok(_) => see_other(BASE),
        Err(e) => failed(&e),
    }
}
