//! The OAuth 2.1 / OpenID Connect provider on the frontend host, driven as a relying party would: authorization
//! code with PKCE through sign-in and the consent screen, the token endpoint's grants, userinfo, introspection,
//! revocation, discovery and dynamic registration, and the Backend API's view of the tokens (verify,
//! revoke_token). `errors.rs` is the negative corpus.

mod cors;
mod errors;
mod flow;

use base64::Engine as _;
use serde_json::{Value, json};
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

/// Where the relying party receives codes.
pub const REDIRECT: &str = "https://rp.test/callback";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// S256 of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// A valid state.
pub const STATE: &str = "state-1234567";
/// A start time for apps on a manual clock.
pub const T0: i64 = 1_750_000_000_000;

/// A registered client.
pub struct Client {
    /// Backend API id.
    pub id: String,
    /// OAuth client_id.
    pub client_id: String,
    /// Secret (`""` for public clients).
    pub secret: String,
}

/// A user with a verified email address and password.
pub async fn user(app: &TestApp, email: &str) -> String {
    let r = app
        .post(
            "/v1/users",
            json!({ "email_address": [email], "password": "correct horse battery staple",
                                  "first_name": "Ada", "last_name": "Lovelace", "public_metadata": { "tier": 2 } }),
        )
        .send()
        .await
        .assert_status(200);
    r.json["id"].as_str().unwrap().to_owned()
}

/// Registers a client through the Backend API.
pub async fn client(app: &TestApp, body: Value) -> Client {
    let mut body = body;
    body["redirect_uris"] = json!([REDIRECT]);
    if body.get("name").is_none() {
        body["name"] = json!("Relying party");
    }
    let r = app.post("/v1/oauth_applications", body).send().await.assert_status(200).json;
    Client {
        id: r["id"].as_str().unwrap().to_owned(),
        client_id: r["client_id"].as_str().unwrap().to_owned(),
        secret: r["client_secret"].as_str().unwrap().to_owned(),
    }
}

/// `/oauth/authorize?…` for a client with PKCE, state and nonce, plus `extra` (which override).
pub fn authorize_path(client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut fields: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", STATE),
        ("nonce", "nonce-42"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        fields.retain(|(f, _)| f != k);
        if !v.is_empty() {
            fields.push((k, v));
        }
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        q.append_pair(k, v);
    }
    format!("/oauth/authorize?{}", q.finish())
}

/// The `Location` of a redirect.
pub fn location(r: &TestResponse) -> url::Url {
    let l = r.headers.get("location").unwrap_or_else(|| panic!("no Location; status {}: {}", r.status, body(r)));
    url::Url::parse(l.to_str().unwrap()).unwrap()
}

/// A query parameter of a URL.
pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The body as text.
pub fn body(r: &TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn unescape(s: &str) -> String {
    s.replace("&#x3D;", "=").replace("&#x27;", "'").replace("&quot;", "\"").replace("&#x60;", "`").replace("&amp;", "&")
}

/// The value of the first `attr="…"` after `marker` in a page.
fn attr_after(page: &str, marker: &str, attr: &str) -> String {
    let from = page.find(marker).unwrap_or_else(|| panic!("{marker} not in page:\n{page}"));
    let rest = &page[from..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    unescape(&rest[start..start + rest[start..].find('"').unwrap()])
}

/// The consent form of a consent page: the path it posts to (relative to the frontend host) and its token.
pub fn consent_form(b: &TestBrowser<'_>, page: &TestResponse) -> (String, String) {
    assert_eq!(page.status, 200, "{}", body(page));
    let html = body(page);
    assert!(html.contains("tessera-oauth-consent"), "not the consent screen:\n{html}");
    let action = attr_after(&html, "<form", "action");
    let csrf = attr_after(&html, "csrf_token", "value");
    let base = format!("https://{}", b.host);
    (action.strip_prefix(&base).unwrap_or_else(|| panic!("{action} not under {base}")).to_owned(), csrf)
}

/// Runs authorize (and consent when shown, allowing) and returns the code.
pub async fn code(b: &TestBrowser<'_>, c: &Client, scope: &str, extra: &[(&str, &str)]) -> String {
    let r = b.get(&authorize_path(&c.client_id, scope, extra)).send().await;
    let r = if r.status == 200 {
        let (action, csrf) = consent_form(b, &r);
        b.post(&action, &[("consented", "true"), ("csrf_token", &csrf)]).send().await.assert_status(303)
    } else {
        r.assert_status(302)
    };
    let to = location(&r);
    assert_eq!(format!("{}://{}{}", to.scheme(), to.host_str().unwrap(), to.path()), REDIRECT, "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some(STATE));
    param(&to, "code").unwrap_or_else(|| panic!("no code in {to}"))
}

/// `Authorization: Basic` for a client.
pub fn basic(c: &Client) -> String {
    let raw = format!("{}:{}", c.client_id, c.secret);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// `POST /oauth/token` with Basic client authentication.
pub async fn token(b: &TestBrowser<'_>, c: &Client, form: &[(&str, &str)]) -> TestResponse {
    b.post("/oauth/token", form).header("authorization", &basic(c)).send().await
}

/// Exchanges a code (with the PKCE verifier) for tokens.
pub async fn exchange(b: &TestBrowser<'_>, c: &Client, code: &str) -> Value {
    let form =
        [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    token(b, c, &form).await.assert_status(200).json
}

/// The Backend API's verify of an access token.
pub async fn verify(app: &TestApp, access_token: &str) -> TestResponse {
    app.post("/oauth_applications/access_tokens/verify", json!({ "access_token": access_token })).send().await
}

/// An RFC 6749 error answer.
#[track_caller]
pub fn assert_oauth_error(r: &TestResponse, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", body(r));
    assert_eq!(r.json["error"], error, "{}", body(r));
    assert!(r.json["error_description"].is_string());
}
