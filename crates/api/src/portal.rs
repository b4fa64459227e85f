//! The webhook endpoint portal: small server-rendered HTML pages where a person adds, edits and removes endpoints
//! (URL, event filter, secret shown and rotated), sees recent deliveries and replays one.
//!
//! Security: a portal link carries a one-time token (stored as a digest, single use, short-lived) that opens a
//! session cookie (`HttpOnly`, `SameSite=Lax`, digest stored, scoped to the link's instance); every form carries
//! the session's CSRF token; pages are `no-store`, unframeable, send no referrer and allow no script.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::events::EventType;
use tessera_core::webhooks::{self, EndpointInput};

use crate::AppState;

/// Where the portal lives.
pub const BASE: &str = "/webhooks-portal";
const COOKIE: &str = "tessera_webhooks_portal";

/// The path of a one-time portal link.
pub fn open_path(token: &str) -> String {
    format!("{BASE}/open/{token}")
}

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/open/{{token}}"), get(open))
        .route(BASE, get(dashboard))
        .route(&format!("{BASE}/endpoints"), post(create_endpoint))
        .route(&format!("{BASE}/endpoints/{{id}}"), get(endpoint_page).post(update_endpoint))
        .route(&format!("{BASE}/endpoints/{{id}}/rotate"), post(rotate_secret))
        .route(&format!("{BASE}/endpoints/{{id}}/delete"), post(delete_endpoint))
        .route(&format!("{BASE}/deliveries/{{id}}/replay"), post(replay))
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;\
         vertical-align:top}}code{{word-break:break-all}}.err{{color:#b00}}form.inline{{display:inline}}\
         fieldset{{margin:.5rem 0}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    secure_headers((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

fn denied() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Webhooks",
        "<p class=\"err\">This portal link has expired or was already used, or your session ended. Ask for a new \
         link (<code>POST /v1/webhooks/svix_url</code>).</p>",
    )
}

fn see_other(to: &str) -> Response {
    secure_headers((StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response())
}

fn internal(e: &tessera_core::Error) -> Response {
    tracing::error!(error = %e, source = ?e.source_error(), "webhook portal failed");
    page(StatusCode::INTERNAL_SERVER_ERROR, "Webhooks", "<p class=\"err\">Something went wrong. Try again.</p>")
}

/// The session token of the request's portal cookie.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// An authenticated portal request: its instance and session token.
struct Session {
    instance_id: String,
    token: String,
}

async fn session(app: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    let token = session_cookie(headers).ok_or_else(denied)?;
    match webhooks::portal_session(&app.ctx, &token).await {
        Ok(Some(instance_id)) => Ok(Session { instance_id, token }),
        Ok(None) => Err(denied()),
        Err(e) => Err(internal(&e)),
    }
}

/// A form post: authenticated, and carrying the session's CSRF token.
async fn form_session<T: serde::de::DeserializeOwned>(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, T), Response> {
    let s = session(app, headers).await?;
    #[derive(Deserialize)]
    struct Csrf {
        csrf: Option<String>,
    }
    let csrf: Csrf = serde_html_form::from_bytes(body).map_err(|_| bad_form())?;
    if !csrf.csrf.is_some_and(|c| webhooks::csrf_valid(&app.ctx, &s.token, &c)) {
        return Err(page(StatusCode::FORBIDDEN, "Webhooks", "<p class=\"err\">The form expired. Reload the page.</p>"));
    }
    let form = serde_html_form::from_bytes(body).map_err(|_| bad_form())?;
    Ok((s, form))
}

fn bad_form() -> Response {
    page(StatusCode::BAD_REQUEST, "Webhooks", "<p class=\"err\">The form could not be read.</p>")
}

/// `GET /webhooks-portal/open/{token}`: spends the one-time token and opens a session.
async fn open(State(app): State<AppState>, Path(token): Path<String>) -> Response {
    match webhooks::open_portal(&app.ctx, &token).await {
        Ok(Some((_, session))) => {
            let mut r = see_other(BASE);
            let cookie = format!(
                "{COOKIE}={session}; Path={BASE}; HttpOnly; SameSite=Lax; Max-Age={}",
                webhooks::PORTAL_SESSION_TTL_MS / 1000
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(None) => denied(),
        Err(e) => internal(&e),
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
        (Err(e), _) | (_, Err(e)) => return internal(&e),
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
    page(status, "Webhooks", &body)
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

/// The message of a validation error, for the page.
fn user_message(e: &tessera_core::Error) -> Option<String> {
    (e.code().status() < 500).then(|| e.items().first().map(|i| i.long_message.clone()).unwrap_or_default())
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
            None => internal(&e),
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
            return page(StatusCode::NOT_FOUND, "Webhooks", "<p class=\"err\">No such endpoint.</p>");
        }
        (Err(e), _) | (_, Err(e)) => return internal(&e),
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
            None => internal(&e),
        },
    }
}

#[derive(Deserialize)]
struct Empty {}

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
            None => internal(&e),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn reads_the_portal_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; tessera_webhooks_portal=wps_x; c=d"));
        assert_eq!(session_cookie(&h).as_deref(), Some("wps_x"));
        h.insert(header::COOKIE, HeaderValue::from_static("tessera_webhooks_portal="));
        assert_eq!(session_cookie(&h), None);
    }
}
