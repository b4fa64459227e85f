//! The webhook endpoint portal: pages where a person adds, edits and removes endpoints (URL, event filter, secret
//! shown and rotated), sees recent deliveries and replays one. Opened by the link of `POST /v1/webhooks/svix_url`.

use crate::lazy_route::{get, post};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tessera_core::events::EventType;
use tessera_core::webhooks::{self, EndpointInput};

use super::{Empty, checked_form, cookie, esc, internal, lazy, open_session, page, see_other, user_message};
use crate::AppState;
use crate::extract::Path;
use crate::route_table::RouteTable;

/// Where the portal lives.
pub const BASE: &str = "/webhooks-portal";
const COOKIE: &str = "tessera_webhooks_portal";
const TITLE: &str = "Webhooks";

/// The path of a one-time portal link.
pub fn open_path(token: &str) -> String {
    format!("{BASE}/open/{token}")
}

/// The portal's routes.
pub fn routes(table: RouteTable<AppState>, state: &AppState) -> RouteTable<AppState> {
    table
        .route(&format!("{BASE}/open/{{token}}"), lazy(|| get(open), state))
        .route(BASE, lazy(|| get(dashboard), state))
        .route(&format!("{BASE}/endpoints"), lazy(|| post(create_endpoint), state))
        .route(&format!("{BASE}/endpoints/{{id}}"), lazy(|| get(endpoint_page).post(update_endpoint), state))
        .route(&format!("{BASE}/endpoints/{{id}}/rotate"), lazy(|| post(rotate_secret), state))
        .route(&format!("{BASE}/endpoints/{{id}}/delete"), lazy(|| post(delete_endpoint), state))
        .route(&format!("{BASE}/deliveries/{{id}}/replay"), lazy(|| post(replay), state))
}

fn denied() -> Response {
    page(
        StatusCode::FORBIDDEN,
        TITLE,
        "<p class=\"err\">This portal link has expired or was already used, or your session ended. Ask for a new \
         link (<code>POST /v1/webhooks/svix_url</code>).</p>",
    )
}

/// An authenticated portal request: its instance and session token.
struct Session {
    instance_id: String,
    token: String,
}

async fn session(app: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let token = cookie(headers, COOKIE).ok_or_else(denied)?;
    match webhooks::portal_session(&app.ctx, &token).await {
        Ok(Some(instance_id)) => Ok(Session { instance_id, token }),
        Ok(None) => Err(denied()),
        Err(e) => Err(internal(TITLE, &e)),
    }
}

/// A form post: authenticated, and carrying the session's CSRF token.
async fn form_session<T: serde::de::DeserializeOwned>(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, T), Response> {
    let s = session(app, headers).await?;
    let form = checked_form(TITLE, body, |c| webhooks::csrf_valid(&app.ctx, &s.token, c))?;
    Ok((s, form))
}

/// `GET /webhooks-portal/open/{token}`: spends the one-time token and opens a session.
async fn open(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    match webhooks::open_portal(&app.ctx, &token).await {
        Ok(Some((_, session))) => open_session(BASE, COOKIE, BASE, &session, webhooks::PORTAL_SESSION_TTL_MS),
        Ok(None) => denied(),
        Err(e) => internal(TITLE, &e),
    }
}

fn csrf_field(app: &AppState, s: &Session) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&webhooks::csrf_token(&app.ctx, &s.token)))
}

fn event_checkboxes(selected: &[String]) -> String {
    let mut out = String::from("<fieldset><legend>Events (none checked: all events)</legend>");
    for t in EventType::ALL {
        let name = t.as_str();
        let checked = if selected.iter().any(|s| s == name) { " checked" } else { "" };
        out.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"event_types\" value=\"{n}\"{checked}> {n}</label> ",
            n = esc(name)
        ));
    }
    out.push_str("</fieldset>");
    out
}

fn endpoint_form(action: &str, csrf: &str, input: &EndpointInput, submit: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">{csrf}\
         <p><label>URL <input name=\"url\" type=\"url\" size=\"60\" required value=\"{url}\"></label></p>\
         <p><label>Description <input name=\"description\" size=\"60\" value=\"{desc}\"></label></p>\
         <p><label><input type=\"checkbox\" name=\"disabled\" value=\"true\"{disabled}> Paused</label></p>\
         {events}<p><button type=\"submit\">{submit}</button></p></form>",
        action = esc(action),
        url = esc(&input.url),
        desc = esc(&input.description),
        disabled = if input.disabled { " checked" } else { "" },
        events = event_checkboxes(&input.event_types),
    )
}

async fn render_dashboard(app: &AppState, s: &Session, error: Option<&str>, draft: &EndpointInput) -> Response {
    let ctx = &app.ctx;
    let (endpoints, deliveries) = match (
        webhooks::list_endpoints(ctx, &s.instance_id).await,
        webhooks::recent_deliveries(ctx, &s.instance_id, 50).await,
    ) {
        (Ok(e), Ok(d)) => (e, d),
        (Err(e), _) | (_, Err(e)) => return internal(TITLE, &e),
    };
    let csrf = csrf_field(app, s);
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    body.push_str(
        "<h2>Endpoints</h2><table id=\"endpoints\"><tr><th>URL</th><th>Events</th><th>State</th><th></th></tr>",
    );
    for e in &endpoints {
        let events = if e.event_types.is_empty() { "all".to_owned() } else { e.event_types.join(", ") };
        body.push_str(&format!(
            "<tr><td><a href=\"{BASE}/endpoints/{id}\">{url}</a><br><small>{desc}</small></td><td>{events}</td>\
             <td>{state}</td><td><form class=\"inline\" method=\"post\" action=\"{BASE}/endpoints/{id}/delete\">{csrf}\
             <button type=\"submit\">Delete</button></form></td></tr>",
            id = esc(&e.id),
            url = esc(&e.url),
            desc = esc(&e.description),
            events = esc(&events),
            state = if e.disabled { "paused" } else { "active" },
        ));
    }
    body.push_str("</table><h2>Add an endpoint</h2>");
    body.push_str(&endpoint_form(&format!("{BASE}/endpoints"), &csrf, draft, "Add endpoint"));
    body.push_str(
        "<h2>Recent deliveries</h2><table id=\"deliveries\"><tr><th>Event</th><th>Endpoint</th><th>Status</th>\
         <th>Attempts</th><th>Last response</th><th></th></tr>",
    );
    for d in &deliveries {
        let response = match (d.last_status_code, &d.last_error) {
            (Some(code), _) => format!("HTTP {code}: {}", d.last_response.as_deref().unwrap_or("")),
            (None, Some(err)) => err.clone(),
            (None, None) => String::new(),
        };
        let replay = if d.status == "pending" {
            String::new()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"{BASE}/deliveries/{id}/replay\">{csrf}\
                 <button type=\"submit\">Replay</button></form>",
                id = esc(&d.id)
            )
        };
        body.push_str(&format!(
            "<tr class=\"delivery\" data-status=\"{status}\"><td>{ty}<br><small><code>{msg}</code></small></td>\
             <td>{url}</td><td>{status}</td><td>{attempts}</td><td><code>{response}</code></td><td>{replay}</td></tr>",
            status = esc(&d.status),
            ty = esc(&d.event_type),
            msg = esc(&d.event_id),
            url = esc(&d.url),
            attempts = d.attempts,
            response = esc(&response.chars().take(300).collect::<String>()),
        ));
    }
    body.push_str("</table>");
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, TITLE, &body)
}

/// `GET /webhooks-portal`: endpoints, the add form, recent deliveries.
async fn dashboard(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match session(&app, &headers).await {
        Ok(s) => render_dashboard(&app, &s, None, &EndpointInput::default()).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct EndpointForm {
    url: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    disabled: Option<String>,
}

impl From<EndpointForm> for EndpointInput {
    fn from(f: EndpointForm) -> Self {
        Self { url: f.url, description: f.description, event_types: f.event_types, disabled: f.disabled.is_some() }
    }
}

/// `POST /webhooks-portal/endpoints`
async fn create_endpoint(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (s, form) = match form_session::<EndpointForm>(&app, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let input: EndpointInput = form.into();
    match webhooks::create_endpoint(&app.ctx, &s.instance_id, &input).await {
        Ok(e) => see_other(&format!("{BASE}/endpoints/{}", e.id)),
        Err(e) => match user_message(&e) {
            Some(m) => render_dashboard(&app, &s, Some(&m), &input).await,
            None => internal(TITLE, &e),
        },
    }
}

async fn render_endpoint(app: &AppState, s: &Session, id: &str, error: Option<&str>) -> Response {
    let ctx = &app.ctx;
    let (endpoint, secret) = match (
        webhooks::get_endpoint(ctx, &s.instance_id, id).await,
        webhooks::endpoint_secret(ctx, &s.instance_id, id).await,
    ) {
        (Ok(e), Ok(secret)) => (e, secret),
        (Err(e), _) | (_, Err(e)) if e.code().status() == 404 => {
            return page(StatusCode::NOT_FOUND, TITLE, "<p class=\"err\">No such endpoint.</p>");
        }
        (Err(e), _) | (_, Err(e)) => return internal(TITLE, &e),
    };
    let csrf = csrf_field(app, s);
    let input = EndpointInput {
        url: endpoint.url.clone(),
        description: endpoint.description.clone(),
        event_types: endpoint.event_types.clone(),
        disabled: endpoint.disabled,
    };
    let mut body = format!("<p><a href=\"{BASE}\">← All endpoints</a></p>");
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    body.push_str(&format!(
        "<h2>Signing secret</h2><p><code id=\"secret\">{secret}</code></p>\
         <form method=\"post\" action=\"{BASE}/endpoints/{id}/rotate\">{csrf}<button type=\"submit\">Rotate secret</button></form>\
         <h2>Edit</h2>",
        secret = esc(&secret),
        id = esc(&endpoint.id),
    ));
    body.push_str(&endpoint_form(&format!("{BASE}/endpoints/{}", endpoint.id), &csrf, &input, "Save"));
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(status, &format!("Endpoint {}", endpoint.url), &body)
}

/// `GET /webhooks-portal/endpoints/{id}`: the secret and the edit form.
async fn endpoint_page(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match session(&app, &headers).await {
        Ok(s) => render_endpoint(&app, &s, &id, None).await,
        Err(r) => r,
    }
}

/// `POST /webhooks-portal/endpoints/{id}`
async fn update_endpoint(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (s, form) = match form_session::<EndpointForm>(&app, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match webhooks::update_endpoint(&app.ctx, &s.instance_id, &id, &form.into()).await {
        Ok(_) => see_other(&format!("{BASE}/endpoints/{id}")),
        Err(e) => match user_message(&e) {
            Some(m) => render_endpoint(&app, &s, &id, Some(&m)).await,
            None => internal(TITLE, &e),
        },
    }
}

async fn action(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    then: &str,
    f: impl AsyncFnOnce(&Session) -> tessera_core::Result<()>,
) -> Response {
    let (s, _) = match form_session::<Empty>(app, headers, body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match f(&s).await {
        Ok(()) => see_other(then),
        Err(e) => match user_message(&e) {
            Some(m) => render_dashboard(app, &s, Some(&m), &EndpointInput::default()).await,
            None => internal(TITLE, &e),
        },
    }
}

/// `POST /webhooks-portal/endpoints/{id}/rotate`
async fn rotate_secret(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let then = format!("{BASE}/endpoints/{id}");
    action(&app, &headers, &body, &then, async |s| webhooks::rotate_secret(&app.ctx, &s.instance_id, &id).await).await
}

/// `POST /webhooks-portal/endpoints/{id}/delete`
async fn delete_endpoint(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    action(&app, &headers, &body, BASE, async |s| webhooks::delete_endpoint(&app.ctx, &s.instance_id, &id).await).await
}

/// `POST /webhooks-portal/deliveries/{id}/replay`
async fn replay(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    action(&app, &headers, &body, BASE, async |s| webhooks::replay(&app.ctx, &s.instance_id, &id).await).await
}
