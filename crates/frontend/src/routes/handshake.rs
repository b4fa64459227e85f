//! `GET /v1/client/handshake`: how an app's backend learns the browser's sign-in state on a document request
//! whose cookies are missing or stale. The backend redirects the browser here; the Frontend API identifies the
//! browser's client, computes the app-domain cookies (`__session`, `__client_uat`, and in development
//! `__clerk_db_jwt`; in production the `__refresh_<suffix>` token of server-side refresh) and redirects back to `redirect_url` with them, either signed into a token
//! (`__clerk_handshake`) or kept under a one-time nonce (`__clerk_handshake_nonce`) that the backend exchanges
//! through the Backend API.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::browser_clients::{self, BrowserClient, OrganizationChoice};
use tessera_core::instances::Environment;
use tessera_core::{Error, ErrorCode, keyring, sessions};

use crate::extract::{Fapi, navigating_client};
use crate::respond::cookie_suffix;

/// A year, the lifetime of `__client_uat` and `__clerk_db_jwt`.
const YEAR_S: i64 = 365 * 24 * 3600;

/// The query of a handshake.
#[derive(Debug, Default)]
struct HandshakeQuery {
    redirect_url: Option<String>,
    format: Option<String>,
    organization_id: Option<String>,
}

fn parse_query(query: Option<&str>) -> HandshakeQuery {
    let mut q = HandshakeQuery::default();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "redirect_url" => q.redirect_url = Some(v.into_owned()),
            "format" => q.format = Some(v.into_owned()),
            "organization_id" => q.organization_id = Some(v.into_owned()),
            _ => {}
        }
    }
    q
}

/// `GET /v1/client/handshake` → 307 to `redirect_url` with the handshake payload.
pub async fn handshake_client(State(app): State<AppState>, fapi: Fapi, uri: axum::http::Uri) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let instance = &fapi.instance;
    let q = parse_query(uri.query());
    let redirect_url = q
        .redirect_url
        .as_deref()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::query_param_missing("redirect_url"))?;
    let mut target = tessera_core::origins::check_redirect_url(ctx, instance, redirect_url).await?;
    let nonce_format = match q.format.as_deref() {
        None | Some("" | "token") => false,
        Some("nonce") => true,
        Some(_) => return Err(Error::query_param_invalid("format", "format must be token or nonce.").into()),
    };

    // The browser's client: its dev browser (a new one when it has none or an unknown one), or its cookie.
    let (dev, found) = navigating_client(ctx, &fapi).await?;
    let dev_browser = found.as_ref().filter(|_| dev).map(|(token, _)| token.clone());
    let client = found.map(|(_, c)| c);

    let mut client: Option<BrowserClient> = client;
    if let (Some(c), Some(org)) = (&client, q.organization_id.as_deref())
        && let Some(sid) = active_session_id(c)
    {
        browser_clients::activate_session(
            ctx,
            &instance.id,
            &c.id,
            &sid,
            OrganizationChoice::from_field(Some(org)),
            "organization_id",
        )
        .await
        .map_err(|e| if e.status() == 422 { Error::new(ErrorCode::NotAMemberInOrganization) } else { e })?;
        client = Some(browser_clients::get(ctx, &instance.id, &c.id).await?);
    }

    let secure = target.scheme() == "https";
    let attrs = format!("Path=/; SameSite=Lax{}", if secure { "; Secure" } else { "" });
    let suffix = cookie_suffix(&instance.publishable_key);
    let both = |name: &str, rest: &str| vec![format!("{name}={rest}"), format!("{name}_{suffix}={rest}")];
    let mut directives = Vec::new();
    let signed_in = match client.as_ref().and_then(|c| active_session_id(c).map(|sid| (c, sid))) {
        Some((c, sid)) => {
            let jwt =
                sessions::create_session_token(ctx, instance, &sid, None, target_origin(&target).as_deref()).await?;
            directives.extend(both("__session", &format!("{jwt}; {attrs}")));
            directives
                .extend(both("__client_uat", &format!("{}; {attrs}; Max-Age={YEAR_S}", c.updated_at.div_euclid(1000))));
            if instance.environment == Environment::Production {
                // Production apps refresh an expired session token server-side (`@clerk/backend` sends the
                // HttpOnly `__refresh_<suffix>` cookie to `POST /v1/sessions/{id}/refresh`); each handshake
                // rotates it. It lives as long as the session may.
                let refresh = tessera_core::tickets::issue_refresh_token(ctx, &instance.id, &sid).await?;
                let expire_at = c.sessions.iter().find(|s| s.id == sid).map_or(0, |s| s.expire_at);
                let max_age = (expire_at - ctx.now_ms()).div_euclid(1000).clamp(0, YEAR_S);
                directives.push(format!("__refresh_{suffix}={refresh}; {attrs}; HttpOnly; Max-Age={max_age}"));
            }
            true
        }
        None => false,
    };
    if !signed_in {
        directives.extend(both("__session", &format!("; {attrs}; Max-Age=0")));
        directives.extend(both("__client_uat", &format!("0; {attrs}; Max-Age={YEAR_S}")));
        if instance.environment == Environment::Production {
            directives.push(format!("__refresh_{suffix}=; {attrs}; HttpOnly; Max-Age=0"));
        }
    }
    if let Some(db) = &dev_browser {
        directives.extend(both("__clerk_db_jwt", &format!("{db}; {attrs}; Max-Age={YEAR_S}")));
    }

    let payload = if nonce_format {
        ("__clerk_handshake_nonce", tessera_core::handshake::store_directives(ctx, &instance.id, &directives).await?)
    } else {
        let now_s = ctx.now_ms().div_euclid(1000);
        let claims = json!({ "handshake": directives, "iat": now_s, "exp": now_s + 60, "nbf": now_s - 10 });
        ("__clerk_handshake", keyring::sign_jwt(ctx, &instance.id, &[], &claims).await?)
    };
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair(payload.0, &payload.1);
        if let Some(db) = &dev_browser {
            pairs.append_pair("__clerk_db_jwt", db);
        }
    }
    let location = HeaderValue::from_str(target.as_str()).map_err(Error::internal)?;
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The client's active session, if it is still signed in.
fn active_session_id(client: &BrowserClient) -> Option<String> {
    let last = client.last_active_session_id.as_deref();
    client
        .live_sessions()
        .find(|s| Some(s.id.as_str()) == last)
        .or_else(|| client.live_sessions().next())
        .map(|s| s.id.clone())
}

/// The origin of the page the browser returns to: the token's `azp`.
fn target_origin(url: &url::Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
